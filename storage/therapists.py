"""Therapists: accounts the operator creates, links each partner agrees to, and what a
therapist may set and see.

A therapist sees couples only through a `TherapistLink`, and a partner only while that
partner's `TherapistConsent` stands. Nothing here reads appreciations, invitations or any
other text people wrote: what a therapist can reach is names, zones, schedules and counts.
Schedules a therapist sets are ordinary schedule rows marked `set_by="therapist"`; a
partner can still snooze, change, pause or stop them, and withdrawing consent removes them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from storage import notices
from storage.couples import couple_of, members
from storage.models import (
    NIGHTLY_APPRECIATION,
    TIMING_TIP,
    WEEKLY_CHECKIN,
    Delivery,
    OneTimeToken,
    Person,
    Schedule,
    Therapist,
    TherapistConsent,
    TherapistLink,
    WeeklyCount,
)
from storage.tokens import issue, token_hash

REGISTER = "therapist_register"
CLIENT_LINK = "therapist_link"
LOGIN = "dashboard_login"
LINK_PREFIX = "t"
REGISTRATION_TTL = dt.timedelta(days=7)
CLIENT_LINK_TTL = dt.timedelta(days=14)
LOGIN_TTL = dt.timedelta(minutes=10)
PLAN_KINDS = (NIGHTLY_APPRECIATION, WEEKLY_CHECKIN, TIMING_TIP)
DEFAULT_CONFIG: dict[str, Any] = {
    "nightly": {"time": "21:00", "window": 0},
    "checkin": {"day": 6, "time": "19:00"},
    "tips": {"per_week": 1, "time": "18:00"},
    "overrides": {},
    "paused": False,
}


class TherapistError(ValueError):
    """Something a therapist asked for that cannot be done; `reason` is a code saying why
    (the words are in the templates, or in the CLI for the operator's own commands)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --- accounts ------------------------------------------------------------------------------


def add(session: Session, name: str, now: dt.datetime) -> tuple[Therapist, str]:
    """Create an account (operator only); returns it and a one-time registration code."""
    name = " ".join(name.split())
    if not 1 <= len(name) <= 100:
        raise TherapistError("name")
    therapist = Therapist(name=name, created_at=now)
    session.add(therapist)
    session.flush()
    raw = issue(session, REGISTER, now, REGISTRATION_TTL, therapist_id=therapist.id)
    return therapist, raw


@dataclass(frozen=True, slots=True)
class TherapistRow:
    id: int
    name: str
    registered: bool
    revoked: bool
    couples: int


def list_all(session: Session) -> list[TherapistRow]:
    rows = []
    for therapist in session.scalars(select(Therapist).order_by(Therapist.id)):
        couples = (
            session.scalar(
                select(func.count())
                .select_from(TherapistLink)
                .where(TherapistLink.therapist_id == therapist.id, TherapistLink.ended_at.is_(None))
            )
            or 0
        )
        rows.append(
            TherapistRow(
                therapist.id,
                therapist.name,
                therapist.registered_at is not None,
                therapist.revoked_at is not None,
                int(couples),
            )
        )
    return rows


def revoke(session: Session, therapist_id: int, now: dt.datetime) -> bool:
    """End an account: its links end, its schedules stop applying, its codes stop working.

    Each consenting partner is owed a word about every practice that stops for them.
    """
    therapist = session.get(Therapist, therapist_id)
    if therapist is None or therapist.revoked_at is not None:
        return False
    therapist.revoked_at = now
    for link in session.scalars(
        select(TherapistLink).where(
            TherapistLink.therapist_id == therapist_id, TherapistLink.ended_at.is_(None)
        )
    ).all():
        for person in consenting_people(session, link):
            for schedule in schedules_for(session, person, link.couple_id):
                if schedule.therapist_id == therapist_id and schedule.next_fire_at is not None:
                    notices.schedule_changed(
                        session,
                        person.id,
                        schedule.kind,
                        notices.Change.STOPPED,
                        None,
                        therapist_id,
                        now,
                    )
        link.ended_at = now
    session.execute(delete(Schedule).where(Schedule.therapist_id == therapist_id))
    session.execute(
        update(OneTimeToken)
        .where(OneTimeToken.therapist_id == therapist_id, OneTimeToken.used_at.is_(None))
        .values(used_at=now)
    )
    return True


def register(
    session: Session, raw_code: str, telegram_user_id: int, chat_id: int, now: dt.datetime
) -> Therapist:
    """`/therapist CODE`: the only way anyone becomes a therapist here."""
    token = session.scalar(
        select(OneTimeToken).where(
            OneTimeToken.token_hash == token_hash(raw_code.strip()),
            OneTimeToken.purpose == REGISTER,
        )
    )
    if (
        token is None
        or token.therapist_id is None
        or token.used_at is not None
        or (token.expires_at <= now)
    ):
        raise TherapistError("code")
    therapist = session.get_one(Therapist, token.therapist_id)
    if therapist.revoked_at is not None:
        raise TherapistError("code")
    taken = session.scalar(select(Therapist).where(Therapist.telegram_user_id == telegram_user_id))
    if taken is not None and taken.id != therapist.id:
        raise TherapistError("taken")
    token.used_at = now
    therapist.telegram_user_id, therapist.chat_id, therapist.registered_at = (
        telegram_user_id,
        chat_id,
        now,
    )
    return therapist


def active(session: Session, telegram_user_id: int) -> Therapist | None:
    """The registered, not revoked therapist behind this Telegram account."""
    return session.scalar(
        select(Therapist).where(
            Therapist.telegram_user_id == telegram_user_id,
            Therapist.registered_at.is_not(None),
            Therapist.revoked_at.is_(None),
        )
    )


def login_link(session: Session, therapist_id: int, now: dt.datetime) -> str:
    """A one-time dashboard login token, valid for minutes."""
    raw = issue(session, LOGIN, now, LOGIN_TTL, therapist_id=therapist_id)
    return raw


def use_login(session: Session, raw: str, now: dt.datetime) -> Therapist | None:
    """Exchange a login token for the therapist, once, before it expires."""
    token = session.scalar(
        select(OneTimeToken).where(
            OneTimeToken.token_hash == token_hash(raw), OneTimeToken.purpose == LOGIN
        )
    )
    if (
        token is None
        or token.used_at is not None
        or token.expires_at <= now
        or (token.therapist_id is None)
    ):
        return None
    claimed = session.execute(
        update(OneTimeToken)
        .where(OneTimeToken.id == token.id, OneTimeToken.used_at.is_(None))
        .values(used_at=now)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return None
    therapist = session.get(Therapist, token.therapist_id)
    if therapist is None or therapist.revoked_at is not None:
        return None
    return therapist


# --- linking to a couple, with each partner's consent -------------------------------------


def client_link(session: Session, therapist_id: int, now: dt.datetime) -> str:
    """A link for one couple: the first partner to open it binds it to their couple."""
    raw = issue(session, CLIENT_LINK, now, CLIENT_LINK_TTL, therapist_id=therapist_id)
    return raw


@dataclass(frozen=True, slots=True)
class LinkOffer:
    problem: str | None  # unknown, expired, used, not_paired, other_couple, already
    therapist_name: str = ""


def _client_token(session: Session, raw: str) -> OneTimeToken | None:
    return session.scalar(
        select(OneTimeToken).where(
            OneTimeToken.token_hash == token_hash(raw), OneTimeToken.purpose == CLIENT_LINK
        )
    )


def look_at_client_link(
    session: Session, raw: str, person_id: int | None, now: dt.datetime
) -> LinkOffer:
    token = _client_token(session, raw)
    if token is None or token.therapist_id is None:
        return LinkOffer("unknown")
    therapist = session.get_one(Therapist, token.therapist_id)
    if therapist.revoked_at is not None:
        return LinkOffer("unknown")
    if token.used_at is not None:  # the therapist withdrew it (/clients)
        return LinkOffer("withdrawn", therapist.name)
    if token.expires_at <= now:
        return LinkOffer("expired", therapist.name)
    if person_id is None:
        return LinkOffer(None, therapist.name)
    couple = couple_of(session, person_id)
    if couple is None:
        return LinkOffer("not_paired", therapist.name)
    if token.ref_id is not None and token.ref_id != couple.id:
        return LinkOffer("other_couple", therapist.name)
    link = link_of(session, therapist.id, couple.id)
    if link is not None and _consent(session, link.id, person_id) is not None:
        return LinkOffer("already", therapist.name)
    return LinkOffer(None, therapist.name)


def link_for_token(session: Session, raw: str, couple_id: int) -> TherapistLink | None:
    """The active link a client link's therapist has with this couple, if any."""
    token = _client_token(session, raw)
    if token is None or token.therapist_id is None:
        return None
    return link_of(session, token.therapist_id, couple_id)


def link_of(session: Session, therapist_id: int, couple_id: int) -> TherapistLink | None:
    return session.scalar(
        select(TherapistLink).where(
            TherapistLink.therapist_id == therapist_id,
            TherapistLink.couple_id == couple_id,
            TherapistLink.ended_at.is_(None),
        )
    )


def _consent(session: Session, link_id: int, person_id: int) -> TherapistConsent | None:
    return session.scalar(
        select(TherapistConsent).where(
            TherapistConsent.link_id == link_id,
            TherapistConsent.person_id == person_id,
            TherapistConsent.withdrawn_at.is_(None),
        )
    )


@dataclass(frozen=True, slots=True)
class Agreed:
    link_id: int
    therapist_chat_id: int | None
    therapist_language: str | None
    partner_name: str
    both: bool
    # The couple's number, and the therapist's code for it (if set), as /clients shows it.
    couple_id: int = 0
    client_code: str | None = None


def agree(session: Session, raw: str, person_id: int, now: dt.datetime) -> Agreed:
    """A partner agrees to the link; the therapist learns only the couple's first names."""
    offer = look_at_client_link(session, raw, person_id, now)
    if offer.problem is not None:
        raise TherapistError(offer.problem)
    token = _client_token(session, raw)
    assert token is not None and token.therapist_id is not None
    couple = couple_of(session, person_id)
    assert couple is not None
    token.ref_id = couple.id
    link = link_of(session, token.therapist_id, couple.id)
    if link is None:
        link = TherapistLink(
            therapist_id=token.therapist_id,
            couple_id=couple.id,
            created_at=now,
            config=dict(DEFAULT_CONFIG),
        )
        session.add(link)
        session.flush()
    old = session.scalar(
        select(TherapistConsent).where(
            TherapistConsent.link_id == link.id, TherapistConsent.person_id == person_id
        )
    )
    if old is None:
        session.add(TherapistConsent(link_id=link.id, person_id=person_id, agreed_at=now))
    else:
        old.agreed_at, old.withdrawn_at = now, None
    session.flush()
    consenting = consenting_people(session, link)
    therapist = session.get_one(Therapist, token.therapist_id)
    person = session.get_one(Person, person_id)
    return Agreed(
        link.id,
        therapist.chat_id,
        None,  # therapists are written to in the default language
        person.display_name,
        both=len(consenting) == len(members(session, couple.id)),
        couple_id=couple.id,
        client_code=link.client_code,
    )


def consenting_people(session: Session, link: TherapistLink) -> list[Person]:
    return list(
        session.scalars(
            select(Person)
            .join(TherapistConsent, TherapistConsent.person_id == Person.id)
            .where(TherapistConsent.link_id == link.id, TherapistConsent.withdrawn_at.is_(None))
        )
    )


@dataclass(frozen=True, slots=True)
class EndedFor:
    """A link one partner left: the therapist's chat, the couple and the therapist's code
    for it, and whether the link as a whole ended (no partner's consent stands)."""

    therapist_chat_id: int
    couple_id: int
    client_code: str | None
    link_ended: bool


@dataclass(frozen=True, slots=True)
class Withdrawn:
    therapist_chat_ids: tuple[int, ...]
    links: tuple[EndedFor, ...] = ()


def _end_consent(
    session: Session, consent: TherapistConsent, link: TherapistLink, now: dt.datetime
) -> bool:
    """One partner's consent ends: the therapist's schedules stop for them, and what they
    already queued never goes. Ends the link when no consent stands; returns whether it did."""
    consent.withdrawn_at = now
    person_id = consent.person_id
    session.execute(
        update(Delivery)
        .where(
            Delivery.person_id == person_id,
            Delivery.status == "claimed",
            Delivery.schedule_id.in_(
                select(Schedule.id).where(Schedule.therapist_id == link.therapist_id)
            ),
        )
        .values(status="skipped", error="consent_withdrawn")
    )
    session.execute(
        delete(Schedule).where(
            Schedule.person_id == person_id, Schedule.therapist_id == link.therapist_id
        )
    )
    if consenting_people(session, link):
        return False
    link.ended_at = now
    session.execute(
        delete(Schedule).where(
            Schedule.couple_id == link.couple_id, Schedule.therapist_id == link.therapist_id
        )
    )
    return True


def withdraw(session: Session, person_id: int, now: dt.datetime) -> Withdrawn:
    """/therapist_off: end this partner's consent; the therapist's schedules stop for them."""
    chats, ended = [], []
    for consent in session.scalars(
        select(TherapistConsent).where(
            TherapistConsent.person_id == person_id, TherapistConsent.withdrawn_at.is_(None)
        )
    ).all():
        link = session.get_one(TherapistLink, consent.link_id)
        therapist = session.get_one(Therapist, link.therapist_id)
        whole = _end_consent(session, consent, link, now)
        if therapist.chat_id is not None:
            chats.append(therapist.chat_id)
            ended.append(EndedFor(therapist.chat_id, link.couple_id, link.client_code, whole))
    return Withdrawn(tuple(chats), tuple(ended))


@dataclass(frozen=True, slots=True)
class Told:
    """A partner to tell, in their language."""

    chat_id: int
    language: str
    person_id: int = 0


@dataclass(frozen=True, slots=True)
class Discharged:
    """A couple a therapist discharged: its number, the therapist's code, who to tell."""

    couple_id: int
    client_code: str | None
    therapist_name: str
    partners: tuple[Told, ...]


def discharge(session: Session, therapist_id: int, couple_id: int, now: dt.datetime) -> Discharged:
    """/endlink: the therapist ends their link with a couple.

    Every partner's consent ends as with /therapist_off (their schedules stop, nothing
    queued goes), so the link ends. Partners whose consent stood are returned to be told,
    unless they stopped all messages or blocked the bot. Raises `TherapistError
    ("not_linked")` for a couple that is not (or no longer) this therapist's.
    """
    link = link_of(session, therapist_id, couple_id)
    therapist = session.get(Therapist, therapist_id)
    if link is None or therapist is None or therapist.revoked_at is not None:
        raise TherapistError("not_linked")
    people = consenting_people(session, link)
    for consent in session.scalars(
        select(TherapistConsent).where(
            TherapistConsent.link_id == link.id, TherapistConsent.withdrawn_at.is_(None)
        )
    ).all():
        _end_consent(session, consent, link, now)
    link.ended_at = now  # also when nobody's consent stood (a link not yet agreed to)
    session.execute(
        delete(Schedule).where(
            Schedule.couple_id == link.couple_id, Schedule.therapist_id == link.therapist_id
        )
    )
    told = tuple(
        Told(p.chat_id, p.language, p.id)
        for p in people
        if p.stopped_at is None and p.blocked_at is None
    )
    return Discharged(couple_id, link.client_code, therapist.name, told)


# --- client links not used yet ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OpenLink:
    """A client link no couple has opened yet: when it was made and until when it works."""

    token_id: int
    created_at: dt.datetime
    expires_at: dt.datetime


def open_client_links(session: Session, therapist_id: int, now: dt.datetime) -> list[OpenLink]:
    """The therapist's client links that no partner has agreed to yet, and still work."""
    return [
        OpenLink(t.id, t.created_at, t.expires_at)
        for t in session.scalars(
            select(OneTimeToken)
            .where(
                OneTimeToken.therapist_id == therapist_id,
                OneTimeToken.purpose == CLIENT_LINK,
                OneTimeToken.ref_id.is_(None),
                OneTimeToken.used_at.is_(None),
                OneTimeToken.expires_at > now,
            )
            .order_by(OneTimeToken.created_at, OneTimeToken.id)
        )
    ]


def withdraw_client_link(
    session: Session, therapist_id: int, token_id: int, now: dt.datetime
) -> OpenLink:
    """Make one of the therapist's unused client links stop working.

    Raises `TherapistError("not_found")` for anyone else's link, or one already opened,
    withdrawn or expired.
    """
    found = next(
        (o for o in open_client_links(session, therapist_id, now) if o.token_id == token_id), None
    )
    if found is None:
        raise TherapistError("not_found")
    claimed = session.execute(
        update(OneTimeToken)
        .where(OneTimeToken.id == token_id, OneTimeToken.used_at.is_(None))
        .values(used_at=now)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise TherapistError("not_found")
    return found


# --- what a therapist sees: names, zones, schedules, counts -------------------------------


@dataclass(frozen=True, slots=True)
class WeekCounts:
    week_start: dt.date
    delivered: int
    snoozed: int
    checkins_done: int


def adherence(
    session: Session, therapist_id: int, couple_id: int, now: dt.datetime, weeks: int = 8
) -> list[WeekCounts]:
    """Per week: nudges delivered, snoozed, and check-ins marked done. Counts only."""
    link = link_of(session, therapist_id, couple_id)
    if link is None:
        return []
    people = [p.id for p in consenting_people(session, link)]
    today = now.date()
    start = today - dt.timedelta(days=today.weekday()) - dt.timedelta(weeks=weeks - 1)
    counts = {start + dt.timedelta(weeks=i): [0, 0, 0] for i in range(weeks)}
    rows = session.execute(
        select(
            Delivery.due_at, Delivery.kind, Delivery.status, Delivery.response, Delivery.schedule_id
        ).where(
            Delivery.person_id.in_(people),
            Delivery.kind.in_(PLAN_KINDS),
            Delivery.due_at >= dt.datetime.combine(start, dt.time(), dt.UTC),
        )
    ).all()
    done_occurrences = set()
    for due_at, kind, status, response, schedule_id in rows:
        week = due_at.date() - dt.timedelta(days=due_at.date().weekday())
        if week not in counts:
            continue
        if status == "sent":
            counts[week][0] += 1
        if response == "snoozed":
            counts[week][1] += 1
        if kind == WEEKLY_CHECKIN and response == "done":
            key = (schedule_id, due_at)
            if key not in done_occurrences:
                done_occurrences.add(key)
                counts[week][2] += 1
    # What purged deliveries counted (storage.retention) adds to what the remaining rows say.
    kept = session.execute(
        select(
            WeeklyCount.week_start,
            func.sum(WeeklyCount.delivered),
            func.sum(WeeklyCount.snoozed),
            func.sum(WeeklyCount.checkins_done),
        )
        .where(
            WeeklyCount.person_id.in_(people),
            WeeklyCount.kind.in_(PLAN_KINDS),
            WeeklyCount.week_start >= start,
        )
        .group_by(WeeklyCount.week_start)
    ).all()
    for week, delivered, snoozed, done in kept:
        if week in counts:
            counts[week][0] += int(delivered)
            counts[week][1] += int(snoozed)
            counts[week][2] += int(done)
    return [WeekCounts(week, *values) for week, values in sorted(counts.items())]


def schedules_for(session: Session, person: Person, couple_id: int) -> list[Schedule]:
    """A partner's own schedules and the couple's shared ones."""
    return list(
        session.scalars(
            select(Schedule)
            .where((Schedule.person_id == person.id) | (Schedule.couple_id == couple_id))
            .order_by(Schedule.kind)
        )
    )


def links_of(session: Session, therapist_id: int) -> list[TherapistLink]:
    """A therapist's active links, oldest first."""
    return list(
        session.scalars(
            select(TherapistLink)
            .where(TherapistLink.therapist_id == therapist_id, TherapistLink.ended_at.is_(None))
            .order_by(TherapistLink.created_at)
        )
    )


def plan_links(session: Session) -> list[TherapistLink]:
    """Active links that follow a plan."""
    return list(
        session.scalars(
            select(TherapistLink).where(
                TherapistLink.ended_at.is_(None), TherapistLink.plan.is_not(None)
            )
        )
    )


# --- what a therapist sets ----------------------------------------------------------------


def consenting_members(session: Session, couple_id: int, therapist_id: int) -> set[int]:
    """Partners of a couple whose consent to this therapist stands."""
    link = link_of(session, therapist_id, couple_id)
    return {p.id for p in consenting_people(session, link)} if link is not None else set()


def therapist_link_of(session: Session, person_id: int) -> list[str]:
    """Names of the therapists this person has agreed to (for /settings)."""
    return list(
        session.scalars(
            select(Therapist.name)
            .join(TherapistLink, TherapistLink.therapist_id == Therapist.id)
            .join(TherapistConsent, TherapistConsent.link_id == TherapistLink.id)
            .where(
                TherapistConsent.person_id == person_id,
                TherapistConsent.withdrawn_at.is_(None),
                TherapistLink.ended_at.is_(None),
            )
        )
    )


# --- the therapist's `/` menu -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MenuChat:
    """A therapist's chat and what its `/` menu should hold: `therapist` False means the
    account was revoked (its menu goes); `partner` whether they also use the bot as a
    partner (their menu then keeps the partners' commands)."""

    chat_id: int
    therapist: bool
    partner: bool


def menu_chat(session: Session, telegram_user_id: int) -> MenuChat | None:
    """The menu this Telegram account's chat should have, if it is or was a therapist."""
    found = session.scalar(
        select(Therapist)
        .where(Therapist.telegram_user_id == telegram_user_id, Therapist.registered_at.is_not(None))
        .order_by(Therapist.revoked_at.is_not(None), Therapist.id.desc())
    )
    if found is None or found.chat_id is None:
        return None
    partner = session.scalar(
        select(func.count()).select_from(Person).where(Person.telegram_user_id == telegram_user_id)
    )
    return MenuChat(found.chat_id, found.revoked_at is None, bool(partner))


def menu_chats(session: Session) -> list[MenuChat]:
    """Every registered therapist's chat, active or revoked (for start-up)."""
    users = session.scalars(
        select(Therapist.telegram_user_id).where(
            Therapist.registered_at.is_not(None), Therapist.telegram_user_id.is_not(None)
        )
    ).all()
    found = (menu_chat(session, user) for user in sorted({u for u in users if u is not None}))
    return [chat for chat in found if chat is not None]


# --- the dashboard's language ------------------------------------------------------------

MAX_LANGUAGE_CHARS = 8


def set_language(session: Session, therapist_id: int, language: str) -> None:
    """The language the therapist chose on the dashboard; it stays until they change it."""
    therapist = session.get_one(Therapist, therapist_id)
    therapist.language = language[:MAX_LANGUAGE_CHARS]


def note_telegram_language(session: Session, therapist_id: int, language: str | None) -> None:
    """Telegram's language_code, as the dashboard's language until the therapist chooses one."""
    therapist = session.get(Therapist, therapist_id)
    if therapist is not None and therapist.language is None and language:
        therapist.language = language.split("-", 1)[0].lower()[:MAX_LANGUAGE_CHARS]
