"""A therapist's own wording for a couple's prompts, and its history (SQL only).

The wording in force lives on the link (`TherapistLink.config`, one key per prompt kind,
see `CONFIG_KEYS`), where `scheduler.therapy` copies it onto the schedules it sets; every
save is also kept here as a version (`WordingVersion`), so a therapist sees who saved what
when and can go back to an older one. Only the therapist's own words are stored: nothing
a partner wrote is read or kept here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.couples import members
from storage.models import (
    NIGHTLY_APPRECIATION,
    TIMING_TIP,
    WEEKLY_CHECKIN,
    Therapist,
    WordingVersion,
)
from storage.therapists import DEFAULT_CONFIG, consenting_people, link_of, schedules_for

# The prompts a therapist can word: the nightly prompt, the check-in's opening and the
# introduction to a timing tip.
WORDING_KINDS = (NIGHTLY_APPRECIATION, WEEKLY_CHECKIN, TIMING_TIP)
# Where each kind's wording in force is kept in `TherapistLink.config`.
CONFIG_KEYS: Mapping[str, str] = {
    NIGHTLY_APPRECIATION: "custom_nightly",
    WEEKLY_CHECKIN: "custom_checkin",
    TIMING_TIP: "custom_tip",
}
HISTORY_SHOWN = 20


@dataclass(frozen=True, slots=True)
class Version:
    """One saved wording: who saved it (the therapist's name) and when; `text` None means
    "back to the library's wording"."""

    id: int
    kind: str
    text: str | None
    created_at: dt.datetime
    saved_by: str


@dataclass(frozen=True, slots=True)
class PreviewPartner:
    """One partner as a wording preview needs them.

    Only a partner whose consent to this therapist stands has a name, language and zone
    (`consented`); `partner_name` is the other partner's name only if they agreed too,
    else None. `next_at`: when each kind next reaches them, if it is scheduled.
    """

    consented: bool
    name: str = ""
    language: str = ""
    zone: str = "UTC"
    partner_name: str | None = None
    next_at: dict[str, dt.datetime] = field(default_factory=dict)


def current(session: Session, therapist_id: int, couple_id: int) -> dict[str, str | None]:
    """The wording in force for each kind (None: the library's), for a linked couple."""
    link = link_of(session, therapist_id, couple_id)
    config = {**DEFAULT_CONFIG, **((link.config if link is not None else None) or {})}
    return {kind: config.get(CONFIG_KEYS[kind]) or None for kind in WORDING_KINDS}


def add_version(
    session: Session,
    therapist_id: int,
    couple_id: int,
    kind: str,
    text: str | None,
    now: dt.datetime,
) -> int:
    """Keep one saved wording in the history; returns its id."""
    if kind not in CONFIG_KEYS:
        raise ValueError(f"no wording for {kind!r}")
    row = WordingVersion(
        therapist_id=therapist_id, couple_id=couple_id, kind=kind, text=text, created_at=now
    )
    session.add(row)
    session.flush()
    return row.id


def history(
    session: Session, therapist_id: int, couple_id: int, limit: int = HISTORY_SHOWN
) -> dict[str, list[Version]]:
    """This therapist's saved wordings for the couple, newest first, per kind."""
    name = session.scalar(select(Therapist.name).where(Therapist.id == therapist_id)) or ""
    found: dict[str, list[Version]] = {kind: [] for kind in WORDING_KINDS}
    rows = session.scalars(
        select(WordingVersion)
        .where(
            WordingVersion.therapist_id == therapist_id,
            WordingVersion.couple_id == couple_id,
        )
        .order_by(WordingVersion.id.desc())
    )
    for row in rows:
        versions = found.setdefault(row.kind, [])
        if len(versions) < limit:
            versions.append(Version(row.id, row.kind, row.text, row.created_at, name))
    return found


def version(session: Session, therapist_id: int, couple_id: int, version_id: int) -> Version | None:
    """One of this therapist's versions for this couple (None for anyone else's)."""
    row = session.get(WordingVersion, version_id)
    if row is None or row.therapist_id != therapist_id or row.couple_id != couple_id:
        return None
    name = session.scalar(select(Therapist.name).where(Therapist.id == therapist_id)) or ""
    return Version(row.id, row.kind, row.text, row.created_at, name)


def preview_partners(session: Session, therapist_id: int, couple_id: int) -> list[PreviewPartner]:
    """Each partner of a linked couple as a preview may show them (see `PreviewPartner`)."""
    link = link_of(session, therapist_id, couple_id)
    if link is None:
        return []
    consenting = {p.id for p in consenting_people(session, link)}
    people = members(session, couple_id)
    shown: list[PreviewPartner] = []
    for person in people:
        if person.id not in consenting:
            shown.append(PreviewPartner(consented=False))
            continue
        other = next((p for p in people if p.id != person.id), None)
        next_at = {
            s.kind: s.next_fire_at
            for s in schedules_for(session, person, couple_id)
            if s.kind in CONFIG_KEYS and s.next_fire_at is not None
        }
        shown.append(
            PreviewPartner(
                consented=True,
                name=person.display_name,
                language=person.language,
                zone=person.timezone or "UTC",
                partner_name=other.display_name if other and other.id in consenting else None,
                next_at=next_at,
            )
        )
    return shown
