"""Schedule rows: finding, creating and listing them (SQL only).

The one place that finds or creates a schedule. Placing its next fire time is the
scheduler's job (`scheduler.schedules`), from the pure rules.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Schedule


def weekdays_mask(days: frozenset[int]) -> int:
    """Pack weekdays (0 = Monday) into the bitmask stored in `schedules.weekdays`."""
    return sum(1 << d for d in days)


def weekdays_from_mask(mask: int) -> frozenset[int]:
    """Unpack `schedules.weekdays` into weekdays (0 = Monday)."""
    return frozenset(d for d in range(7) if mask >> d & 1)


def find_schedule(
    session: Session, *, kind: str, person_id: int | None = None, couple_id: int | None = None
) -> Schedule | None:
    """A person's own schedule of a kind, or a couple's shared one."""
    if (person_id is None) == (couple_id is None):
        raise ValueError("name exactly one owner: person_id or couple_id")
    owner = (
        Schedule.person_id == person_id
        if person_id is not None
        else (Schedule.couple_id == couple_id)
    )
    return session.scalar(select(Schedule).where(owner, Schedule.kind == kind))


def new_schedule(
    session: Session,
    *,
    kind: str,
    now: datetime,
    person_id: int | None = None,
    couple_id: int | None = None,
) -> Schedule:
    """A new, empty schedule row for one owner (the caller sets its rule)."""
    schedule = Schedule(person_id=person_id, couple_id=couple_id, kind=kind, created_at=now)
    session.add(schedule)
    return schedule


def find_or_create(
    session: Session,
    *,
    kind: str,
    now: datetime,
    person_id: int | None = None,
    couple_id: int | None = None,
) -> Schedule:
    """The owner's schedule of this kind, created if there is none."""
    found = find_schedule(session, kind=kind, person_id=person_id, couple_id=couple_id)
    if found is not None:
        return found
    return new_schedule(session, kind=kind, now=now, person_id=person_id, couple_id=couple_id)


def delete_schedule(session: Session, schedule: Schedule) -> None:
    """Remove a schedule row (its past deliveries stay, for the counts)."""
    session.delete(schedule)


def schedules_of(session: Session, person_id: int) -> list[Schedule]:
    """A person's own schedules, by kind."""
    return list(
        session.scalars(
            select(Schedule).where(Schedule.person_id == person_id).order_by(Schedule.kind)
        )
    )
