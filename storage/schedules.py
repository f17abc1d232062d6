"""Schedule rows: finding, creating and listing them (SQL only).

The one place that finds or creates a schedule. Placing its next fire time is the
scheduler's job (`scheduler.schedules`), from the pure rules.
"""

from __future__ import annotations

from datetime import datetime, time

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from storage.couples import couple_of, members
from storage.models import WEEKLY_CHECKIN, Delivery, Person, Schedule

# The rule kept on an "off" recorded for a practice that was never set: never placed, it
# only holds the partner's choice (and /settings shows it as off).
_NEVER_SET_TIME = time(21, 0)


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


def skip_pending(session: Session, schedule_ids: list[int]) -> None:
    """Nudges of these schedules not sent yet (claimed, or snoozed to later) never go."""
    if schedule_ids:
        session.execute(
            update(Delivery)
            .where(Delivery.schedule_id.in_(schedule_ids), Delivery.status == "claimed")
            .values(status="skipped", error="turned_off")
        )


def _own_off(session: Session, schedule: Schedule, by_person_id: int, now: datetime) -> bool:
    """Record "off" as this partner's choice; returns whether it was on.

    What was already claimed or snoozed to later is dropped too: off means off.
    """
    if schedule.id is not None:
        skip_pending(session, [schedule.id])
    was_on = schedule.next_fire_at is not None
    schedule.next_fire_at = None
    # Theirs now: no therapist change or plan step turns it back on (scheduler.therapy).
    schedule.set_by, schedule.therapist_id, schedule.custom_template = "person", None, None
    schedule.turned_off_by_id = by_person_id
    schedule.updated_at = now
    return was_on


def _find_or_record(
    session: Session,
    kind: str,
    zone: str,
    now: datetime,
    *,
    person_id: int | None = None,
    couple_id: int | None = None,
) -> Schedule:
    schedule = find_or_create(session, kind=kind, now=now, person_id=person_id, couple_id=couple_id)
    if schedule.zone is None:  # new: an "off" recorded before any time was ever set
        schedule.local_time, schedule.weekdays, schedule.window_minutes = _NEVER_SET_TIME, 127, 0
        schedule.zone = zone
    return schedule


def turn_off_own(session: Session, person_id: int, kind: str, now: datetime) -> bool:
    """A partner's own `/nightly off`, `/tips off`...: it holds whoever set it; was it on?

    The choice is kept even for a practice that was never on, so a therapist who links
    later does not switch on what this partner said no to.
    """
    person = session.get_one(Person, person_id)
    schedule = _find_or_record(session, kind, person.timezone or "UTC", now, person_id=person_id)
    return _own_off(session, schedule, person_id, now)


def turn_off_shared_checkin(
    session: Session, person_id: int, now: datetime
) -> tuple[bool, Person | None]:
    """A partner's `/checkin off` for the couple's check-in: (was it on, the partner to tell).

    Recorded as this partner's choice, like `turn_off_own`; a personal check-in left from
    before the pairing stops too.
    """
    person = session.get_one(Person, person_id)
    couple = couple_of(session, person_id)
    if couple is None:
        return turn_off_own(session, person_id, WEEKLY_CHECKIN, now), None
    zone = person.timezone or "UTC"
    shared = _find_or_record(session, WEEKLY_CHECKIN, zone, now, couple_id=couple.id)
    was_on = _own_off(session, shared, person_id, now)
    personal = find_schedule(session, kind=WEEKLY_CHECKIN, person_id=person_id)
    if personal is not None:
        was_on = _own_off(session, personal, person_id, now) or was_on
    partner = next((p for p in members(session, couple.id) if p.id != person_id), None)
    return was_on, partner if was_on else None


def active(session: Session) -> list[Schedule]:
    """Every schedule that is on (has a next fire time), for capacity planning."""
    return list(session.scalars(select(Schedule).where(Schedule.next_fire_at.is_not(None))))
