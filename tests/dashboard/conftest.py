"""A small practice to look at: a therapist with one couple in two zones, who have been
practising for a few weeks, and another therapist with a couple of their own.

Everything is made with the domain functions a real run uses (consent, zones, pairing,
the therapist's codes and links, each partner agreeing), plus delivery rows for the
adherence counts and things the partners wrote, which the dashboard must never show.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.applications import Starlette

from bot.render import Renderer
from bot.wording import SandboxChecks
from dashboard import create_app
from scheduler import schedules, therapy
from storage import appreciations, couples, invitations, people, therapists
from storage import practice as practice_store
from storage.db import Database
from storage.models import (
    NIGHTLY_APPRECIATION,
    TIMING_TIP,
    WEEKLY_CHECKIN,
    Couple,
    Delivery,
    Schedule,
)
from tests.support.bot import FakeClock

PUBLIC_URL = "https://care.example.org"
TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates" / "messages"
APPRECIATION = "I loved how you held my hand at the bakery queue; I felt safe and seen."
PRIVATE_APPRECIATION = "Thank you for fixing the bike before my early shift, quietly."
INVITATION_LINE = "I miss laughing with you and I would like us to learn together."
OWN_HOPE = "that we argue less about the washing up"
SECRETS = (APPRECIATION, PRIVATE_APPRECIATION, INVITATION_LINE, OWN_HOPE)


@dataclass(frozen=True, slots=True)
class Practice:
    therapist_id: int
    couple_id: int
    maya_id: int
    jonas_id: int
    other_therapist_id: int
    other_couple_id: int


def _person(session: Session, uid: int, name: str, zone: str, now: dt.datetime) -> int:
    person, _ = people.give_consent(session, uid, uid, name, "en", now)
    people.set_name(session, person.id, name)
    schedules.set_timezone(session, person.id, zone, now)
    return person.id


def _pair(session: Session, first: int, second: int, now: dt.datetime) -> int:
    raw = couples.create_pairing_link(session, first, now, dt.timedelta(days=7))
    assert couples.accept_link(session, raw, second, now).problem is None
    couple = couples.couple_of(session, first)
    assert couple is not None
    return couple.id


def _therapist(session: Session, name: str, uid: int, now: dt.datetime) -> int:
    therapist, code = therapists.add(session, name, now)
    therapists.register(session, code, uid, uid, now)
    return therapist.id


def _link(session: Session, therapist_id: int, partners: list[int], now: dt.datetime) -> None:
    raw = therapists.client_link(session, therapist_id, now)
    for person_id in partners:
        therapy.agree(session, raw, person_id, now)


def _history(session: Session, maya: int, jonas: int, couple_id: int, now: dt.datetime) -> None:
    """Four weeks of nudges: most arrived, a few snoozed, three check-ins done."""
    monday = now.date() - dt.timedelta(days=now.date().weekday())
    week_plan = [(4, 1, 0), (6, 2, 1), (9, 1, 1), (11, 3, 1)]  # sent, snoozed, check-ins
    for weeks_ago, (sent, snoozed, checkins) in zip(range(4, 0, -1), week_plan, strict=True):
        start = dt.datetime.combine(monday - dt.timedelta(weeks=weeks_ago), dt.time(19), dt.UTC)
        for i in range(sent):
            due = start + dt.timedelta(days=i % 7, minutes=i)
            response = "snoozed" if i < snoozed else "replied"
            kind = NIGHTLY_APPRECIATION if i % 5 else TIMING_TIP
            _delivery(session, maya if i % 2 else jonas, kind, due, "sent", response)
        for i in range(checkins):
            due = start + dt.timedelta(days=6, hours=i)
            for person in (maya, jonas):
                _delivery(session, person, WEEKLY_CHECKIN, due, "sent", "done")
    session.get_one(Couple, couple_id).checkins_completed = 3


def _delivery(
    session: Session, person: int, kind: str, due: dt.datetime, status: str, response: str
) -> None:
    session.add(
        Delivery(
            schedule_id=None,
            person_id=person,
            kind=kind,
            due_at=due,
            send_after=due,
            deadline=due + dt.timedelta(hours=1),
            status=status,
            attempts=1,
            claimed_at=due,
            sent_at=due,
            response=response,
            responded_at=due + dt.timedelta(minutes=5),
        )
    )


def _what_they_wrote(session: Session, maya: int, jonas: int, now: dt.datetime) -> None:
    shared = appreciations.write(session, maya, APPRECIATION, now)
    appreciations.share(session, maya, shared.appreciation.id, now)
    appreciations.write(session, jonas, PRIVATE_APPRECIATION, now)
    invitations.start_draft(session, jonas, True, now)
    invitations.choose(
        session,
        jonas,
        hope="own",
        own_hope=OWN_HOPE,
        framing="growing",
        offer="one_session",
        line=INVITATION_LINE,
    )
    assert invitations.send(session, jonas, now + dt.timedelta(hours=6), now).result == "scheduled"


def seed_practice(session: Session, now: dt.datetime) -> Practice:
    """The practice described in this module's docstring."""
    maya = _person(session, 1001, "Maya", "Europe/Berlin", now)
    jonas = _person(session, 1002, "Jonas", "America/New_York", now)
    couple_id = _pair(session, maya, jonas, now)
    therapist_id = _therapist(session, "Dr Ana Ruiz", 5001, now)
    _link(session, therapist_id, [maya, jonas], now)
    _history(session, maya, jonas, couple_id, now)
    _what_they_wrote(session, maya, jonas, now)

    kim = _person(session, 1003, "Kim", "Asia/Singapore", now)
    lee = _person(session, 1004, "Lee", "UTC", now)
    other_couple = _pair(session, kim, lee, now)
    other_therapist = _therapist(session, "Dr Other", 5002, now)
    _link(session, other_therapist, [kim, lee], now)
    return Practice(therapist_id, couple_id, maya, jonas, other_therapist, other_couple)


def schedule_rows(session: Session) -> list[tuple[object, ...]]:
    """Every schedule row, comparable before and after a request."""
    rows = session.scalars(select(Schedule).order_by(Schedule.id))
    return [
        (
            s.id,
            s.person_id,
            s.couple_id,
            s.kind,
            s.local_time,
            s.weekdays,
            s.window_minutes,
            s.zone,
            s.next_fire_at,
            s.set_by,
        )
        for s in rows
    ]


def wording_checks() -> SandboxChecks:
    """The bot's checks and preview of a therapist's wording, as `bot.app` hands them over."""
    return SandboxChecks(Renderer(TEMPLATES_DIR))


CSRF_RE = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    """The CSRF token in a page's forms."""
    found = CSRF_RE.search(html)
    assert found is not None, "no CSRF field on the page"
    return found.group(1)


@pytest.fixture
def practice(db: Database, clock: FakeClock) -> Practice:
    return db.call(seed_practice, clock())


@pytest.fixture
def app(db: Database, clock: FakeClock) -> Starlette:
    return create_app(db, clock=clock, public_url=PUBLIC_URL, wording=wording_checks())


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as http:
        yield http


async def sign_in(
    http: httpx.AsyncClient, db: Database, therapist_id: int, clock: FakeClock
) -> str:
    """Sign in through a fresh one-time link; returns the session's CSRF token."""
    raw = db.call(therapists.login_link, therapist_id, clock())
    response = await http.get(f"/login/{raw}")
    assert response.status_code == 303, response.text
    home = await http.get("/")
    assert home.status_code == 200
    return csrf_of(home.text)


@dataclass(frozen=True, slots=True)
class Crowd:
    """More couples of the same therapist, each in a state the overview must show."""

    pending: int  # one partner agreed, the other not yet
    paused: int  # both agreed; the first partner paused the bot
    ended: int  # both withdrew: the link ended
    starting: int  # a plan whose week-3 step starts this week
    quiet: list[int]  # all well: nothing needs attention


def seed_crowd(
    session: Session, therapist_id: int, now: dt.datetime, total: int = 20, first_uid: int = 2000
) -> Crowd:
    """`total` more couples for one therapist: four that need attention, the rest quiet.

    Client codes are set for the quiet ones ("Q-01", ...), so the others show "Couple N".
    """
    ids: list[int] = []
    for index in range(total):
        uid = first_uid + 2 * index
        first = _person(session, uid, f"Ada{index}", "Europe/Berlin", now)
        second = _person(session, uid + 1, f"Bo{index}", "Asia/Singapore", now)
        couple_id = _pair(session, first, second, now)
        _link(session, therapist_id, [first] if index == 0 else [first, second], now)
        if index == 1:
            people.pause(session, first, None, now)
        elif index == 2:
            therapists.withdraw(session, first, now)
            therapists.withdraw(session, second, now)
        elif index == 3:
            therapy.set_plan(
                session,
                therapist_id,
                couple_id,
                [
                    {"kind": NIGHTLY_APPRECIATION, "from_week": 1},
                    {"kind": WEEKLY_CHECKIN, "from_week": 3},
                ],
                now.date() - dt.timedelta(weeks=2),
                now,
            )
        elif index >= 4:
            practice_store.set_client_code(session, therapist_id, couple_id, f"Q-{index:02d}")
            monday = now.date() - dt.timedelta(days=now.date().weekday())
            due = dt.datetime.combine(monday, dt.time(8), dt.UTC)
            _delivery(session, first, NIGHTLY_APPRECIATION, due, "sent", "replied")
        ids.append(couple_id)
    return Crowd(ids[0], ids[1], ids[2], ids[3], ids[4:])
