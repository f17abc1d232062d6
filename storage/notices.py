"""Notices owed to people about changes they did not make (SQL only).

A partner is owed one whenever what they receive changes because of their therapist; a
therapist is owed one when a link with one of their couples ends. Each is recorded in the
same transaction as the change itself, and taken (marked sent) before it goes, so it is
sent at most once and never lost with a crash between the change and the message.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from storage.models import (
    ENDED_BY_THERAPIST,
    LINK_ENDED,
    PHASE_STARTED,
    SCHEDULE_CHANGED,
    Notice,
    Person,
    Therapist,
)


class Change(StrEnum):
    """What happened to a practice a partner receives."""

    STARTED = "started"
    CHANGED = "changed"
    STOPPED = "stopped"


def schedule_changed(
    session: Session,
    person_id: int,
    kind: str,
    change: Change,
    next_at: dt.datetime | None,
    therapist_id: int | None,
    now: dt.datetime,
) -> None:
    """Owe a partner a word about one practice their therapist changed for them."""
    session.add(
        _practice_notice(SCHEDULE_CHANGED, person_id, kind, change, next_at, therapist_id, now)
    )


def phase_started(
    session: Session,
    person_id: int,
    kind: str,
    change: Change,
    next_at: dt.datetime | None,
    therapist_id: int | None,
    now: dt.datetime,
    *,
    send_after: dt.datetime,
    detail: dict[str, Any],
) -> None:
    """Owe a partner a word that a plan's new phase changed one practice for them.

    Held until `send_after` (the caller picks a sensible hour in the partner's zone);
    `detail` says what the practice becomes (weekdays, time, how often), never any text.
    """
    notice = _practice_notice(PHASE_STARTED, person_id, kind, change, next_at, therapist_id, now)
    notice.send_after, notice.detail = send_after, detail
    session.add(notice)


def _practice_notice(
    topic: str,
    person_id: int,
    kind: str,
    change: Change,
    next_at: dt.datetime | None,
    therapist_id: int | None,
    now: dt.datetime,
) -> Notice:
    return Notice(
        person_id=person_id,
        topic=topic,
        kind=kind,
        change=str(change),
        next_at=next_at,
        by_therapist_id=therapist_id,
        created_at=now,
    )


def link_ended(
    session: Session,
    therapist_id: int,
    couple_id: int,
    now: dt.datetime,
    code: str | None = None,
) -> None:
    """Owe a therapist a word that a couple's link ended: its number and their own code
    for it, nothing else."""
    session.add(
        Notice(
            therapist_id=therapist_id,
            topic=LINK_ENDED,
            couple_ref=couple_id,
            couple_code=code,
            created_at=now,
        )
    )


def ended_by_therapist(
    session: Session, person_id: int, therapist_id: int, now: dt.datetime
) -> None:
    """Owe a partner the word /endlink gives: their therapist ended the link (from the
    dashboard, which cannot write to Telegram itself)."""
    session.add(
        Notice(
            person_id=person_id,
            topic=ENDED_BY_THERAPIST,
            by_therapist_id=therapist_id,
            created_at=now,
        )
    )


@dataclass(frozen=True, slots=True)
class PracticeChange:
    kind: str
    change: str
    next_at: dt.datetime | None
    # For a phase notice: "days" (weekdays in the partner's zone, 0 = Monday), "time"
    # ("21:00" there), "every_weeks" (1 or 2).
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Owed:
    """One message to send: to a partner (their changes) or a therapist (ended couples)."""

    chat_id: int
    language: str | None
    zone: str
    topic: str
    therapist_name: str = ""
    changes: tuple[PracticeChange, ...] = field(default=())
    couples: tuple[int, ...] = field(default=())
    # The therapist's code for each of `couples` that had one when its link ended.
    codes: dict[int, str] = field(default_factory=dict)


def take_owed(session: Session, now: dt.datetime, limit: int = 500) -> list[Owed]:
    """Take the unsent notices (marking them sent) and group them, one message each.

    Notices to someone who stopped all messages, blocked the bot, or to a revoked
    therapist are taken without a message: they would be stale by the time one could go;
    so are phase notices to someone who paused (their pause wins). A notice held until
    `send_after` is not taken before then. Each topic is its own message.
    """
    rows = list(
        session.scalars(
            select(Notice)
            .where(
                Notice.sent_at.is_(None),
                or_(Notice.send_after.is_(None), Notice.send_after <= now),
            )
            .order_by(Notice.id)
            .limit(limit)
        )
    )
    if not rows:
        return []
    # A conditional update: a second process taking the same rows gets none of them.
    taken = {
        row.id
        for row in rows
        if session.execute(
            update(Notice)
            .where(Notice.id == row.id, Notice.sent_at.is_(None))
            .values(sent_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
        == 1
    }
    partners: dict[tuple[int, int | None, str], list[Notice]] = {}
    therapists: dict[int, list[Notice]] = {}
    for row in rows:
        if row.id not in taken:
            continue
        if row.person_id is not None:
            partners.setdefault((row.person_id, row.by_therapist_id, row.topic), []).append(row)
        elif row.therapist_id is not None:
            therapists.setdefault(row.therapist_id, []).append(row)
    owed: list[Owed] = []
    for (person_id, by_id, topic), notices in partners.items():
        person = session.get(Person, person_id)
        if person is None or person.stopped_at is not None or person.blocked_at is not None:
            continue
        if topic == PHASE_STARTED and _paused(person, now):
            continue
        by = session.get(Therapist, by_id) if by_id is not None else None
        if any(n.topic == ENDED_BY_THERAPIST for n in notices):
            # The link ended: that is the whole message (its schedules stopped with it).
            owed.append(
                Owed(
                    person.chat_id,
                    person.language,
                    person.timezone or "UTC",
                    ENDED_BY_THERAPIST,
                    therapist_name=by.name if by is not None else "",
                )
            )
            continue
        latest: dict[str, PracticeChange] = {}
        for notice in notices:  # oldest first: the last word about a practice stands
            assert notice.kind is not None and notice.change is not None
            latest[notice.kind] = PracticeChange(
                notice.kind, notice.change, notice.next_at, dict(notice.detail or {})
            )
        owed.append(
            Owed(
                person.chat_id,
                person.language,
                person.timezone or "UTC",
                topic,
                therapist_name=by.name if by is not None else "",
                changes=tuple(latest[kind] for kind in sorted(latest)),
            )
        )
    for therapist_id, notices in therapists.items():
        therapist = session.get(Therapist, therapist_id)
        if therapist is None or therapist.chat_id is None or therapist.revoked_at is not None:
            continue
        couples = tuple(sorted({n.couple_ref for n in notices if n.couple_ref is not None}))
        codes = {n.couple_ref: n.couple_code for n in notices if n.couple_ref and n.couple_code}
        owed.append(Owed(therapist.chat_id, None, "UTC", LINK_ENDED, couples=couples, codes=codes))
    return owed


def _paused(person: Person, now: dt.datetime) -> bool:
    return person.paused_at is not None and (
        person.paused_until is None or person.paused_until > now
    )
