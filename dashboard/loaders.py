"""What a page shows, and the changes it makes: each function runs in one transaction on the
database's thread pool (`Database.run`), and first checks that the therapist may still sign in.

Everything here goes through `storage.therapists`, `storage.practice` and `scheduler.therapy`,
which never read what partners wrote, so a page can hold names, zones, schedules and counts
and nothing else.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from starlette.exceptions import HTTPException

from dashboard.forms import Invalid
from dashboard.sessions import SignedOut
from scheduler import therapy
from scheduler.therapy import CoupleCard
from storage import Session, notices, practice, therapists
from storage.models import Therapist
from storage.therapists import WeekCounts


@dataclass(frozen=True, slots=True)
class Home:
    therapist_name: str
    rows: list[practice.PracticeRow]


@dataclass(frozen=True, slots=True)
class CoupleView:
    therapist_name: str
    card: CoupleCard
    weeks: list[WeekCounts]
    client_code: str | None


@dataclass(frozen=True, slots=True)
class Plans:
    therapist_name: str
    templates: list[tuple[int, str, list[dict[str, Any]]]]
    couples: list[practice.PracticeRow]


@dataclass(frozen=True, slots=True)
class Export:
    therapist_name: str
    rows: list[practice.ExportRow]


def therapist_name(session: Session, therapist_id: int) -> str:
    """The therapist's name; `SignedOut` when the account is gone or revoked."""
    therapist = session.get(Therapist, therapist_id)
    if therapist is None or therapist.revoked_at is not None:
        raise SignedOut(therapist_id)
    return therapist.name


def _linked_card(
    session: Session, therapist_id: int, couple_id: int, now: dt.datetime
) -> CoupleCard:
    card = therapy.couple_for(session, therapist_id, couple_id, now)
    if card is None:
        raise HTTPException(404)
    return card


def load_home(session: Session, therapist_id: int, now: dt.datetime) -> Home:
    """The overview: every couple of this therapist."""
    name = therapist_name(session, therapist_id)
    return Home(name, practice.overview(session, therapist_id, now))


def load_couple(
    session: Session, therapist_id: int, couple_id: int, now: dt.datetime
) -> CoupleView:
    """One linked couple, its last weeks' counts and the therapist's code for it."""
    name = therapist_name(session, therapist_id)
    card = _linked_card(session, therapist_id, couple_id, now)
    weeks = therapists.adherence(session, therapist_id, couple_id, now)
    link = therapists.link_of(session, therapist_id, couple_id)
    return CoupleView(name, card, weeks, link.client_code if link is not None else None)


def set_code(session: Session, therapist_id: int, couple_id: int, code: str) -> str | None:
    """Give a couple the therapist's own code."""
    therapist_name(session, therapist_id)
    return practice.set_client_code(session, therapist_id, couple_id, code)


def configure(
    session: Session,
    therapist_id: int,
    couple_id: int,
    changes: dict[str, Any],
    overrides: dict[int, str],
    now: dt.datetime,
) -> CoupleCard:
    """Change a couple's schedule; overrides only for the couple's own partners."""
    therapist_name(session, therapist_id)
    card = _linked_card(session, therapist_id, couple_id, now)
    partners = {p.person_id for p in card.partners}
    override = {pid: value for pid, value in overrides.items() if pid in partners}
    return therapy.configure(
        session, therapist_id, couple_id, {**changes, "override": override}, now
    )


def set_plan(
    session: Session,
    therapist_id: int,
    couple_id: int,
    plan: list[dict[str, Any]],
    starts_on: dt.date | None,
    now: dt.datetime,
) -> CoupleCard:
    """Set a couple's plan, from `starts_on` (today when None)."""
    therapist_name(session, therapist_id)
    _linked_card(session, therapist_id, couple_id, now)
    return therapy.set_plan(session, therapist_id, couple_id, plan, starts_on or now.date(), now)


def load_plans(session: Session, therapist_id: int, now: dt.datetime) -> Plans:
    """The therapist's named plans and the couples still linked."""
    name = therapist_name(session, therapist_id)
    templates = [
        (t.id, t.name, list(t.steps)) for t in practice.plan_templates(session, therapist_id)
    ]
    rows = [r for r in practice.overview(session, therapist_id, now) if r.ended_at is None]
    return Plans(name, templates, rows)


def save_template(
    session: Session, therapist_id: int, name: str, steps: list[dict[str, Any]], now: dt.datetime
) -> int:
    """Save a named plan; `Invalid` when it has no practice."""
    therapist_name(session, therapist_id)
    clean = therapy.clean_plan(steps)
    if not clean:
        raise Invalid("plan_empty", "nightly_appreciation")
    return practice.save_plan_template(session, therapist_id, name, clean, now).id


def apply_template(
    session: Session,
    therapist_id: int,
    template_id: int,
    couple_ids: list[int],
    starts_on: dt.date,
    now: dt.datetime,
) -> int:
    """Give a named plan to several couples; returns how many."""
    therapist_name(session, therapist_id)
    return len(
        therapy.apply_template(session, therapist_id, template_id, couple_ids, starts_on, now)
    )


def end_link(session: Session, therapist_id: int, couple_id: int, now: dt.datetime) -> int:
    """End the link with a couple, as /endlink does; returns how many partners are told.

    Each partner whose consent stood is owed the same kind words /endlink sends, in their
    language; the bot sends them (the dashboard does not write to Telegram). 404 for a
    couple that is not (or no longer) this therapist's.
    """
    therapist_name(session, therapist_id)
    try:
        ended = therapists.discharge(session, therapist_id, couple_id, now)
    except therapists.TherapistError:
        raise HTTPException(404) from None
    for partner in ended.partners:
        notices.ended_by_therapist(session, partner.person_id, therapist_id, now)
    return len(ended.partners)


def load_export(session: Session, therapist_id: int, first: dt.date, last: dt.date) -> Export:
    """Weekly counts per couple and practice, `first` to `last`."""
    name = therapist_name(session, therapist_id)
    return Export(name, practice.engagement(session, therapist_id, first, last))
