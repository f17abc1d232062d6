"""Schedule rows and their rules: the bridge between the table and `scheduler.rules`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.rules import QuietHours, Rule, next_fire_at, upcoming
from storage.models import Person, Schedule

ALL_DAYS = frozenset(range(7))


def weekdays_mask(days: frozenset[int]) -> int:
    """Pack weekdays (0 = Monday) into the bitmask stored in `schedules.weekdays`."""
    return sum(1 << d for d in days)


def weekdays_from_mask(mask: int) -> frozenset[int]:
    return frozenset(d for d in range(7) if mask >> d & 1)


def rule_of(schedule: Schedule) -> Rule:
    """The pure rule a schedule row describes."""
    return Rule(
        local_time=schedule.local_time,
        weekdays=weekdays_from_mask(schedule.weekdays),
        zone=schedule.zone,
        window_minutes=schedule.window_minutes,
    )


def rezone_person(session: Session, person: Person, now: dt.datetime) -> None:
    """After a change of zone, the person's schedules follow it from their next occurrence."""
    if person.timezone is None:
        return
    for schedule in session.scalars(select(Schedule).where(Schedule.person_id == person.id)):
        schedule.zone = person.timezone
        schedule.updated_at = now
        if schedule.next_fire_at is not None:
            schedule.next_fire_at = next_fire_at(rule_of(schedule), now)


@dataclass(frozen=True, slots=True)
class ScheduleView:
    """What a message needs to describe a schedule in the person's own words and zone."""

    kind: str
    local_time: str
    weekdays: tuple[int, ...]
    zone: str
    window_minutes: int
    on: bool
    next_times: tuple[str, ...]
    set_by: str


def view(schedule: Schedule, count: int = 3) -> ScheduleView:
    """Describe a schedule with its next `count` fire times, in its own zone."""
    rule = rule_of(schedule)
    times: tuple[str, ...] = ()
    if schedule.next_fire_at is not None:
        tz = ZoneInfo(schedule.zone)
        first = schedule.next_fire_at
        rest = upcoming(rule, first, count - 1) if count > 1 else []
        times = tuple(t.astimezone(tz).strftime("%a %H:%M") for t in [first, *rest])
    return ScheduleView(
        kind=schedule.kind,
        local_time=schedule.local_time.strftime("%H:%M"),
        weekdays=tuple(sorted(rule.weekdays)),
        zone=schedule.zone,
        window_minutes=schedule.window_minutes,
        on=schedule.next_fire_at is not None,
        next_times=times,
        set_by=schedule.set_by,
    )


class NeedsTimezone(Exception):
    """The person has no time zone yet, so no local time can be placed."""


def set_schedule(
    session: Session,
    person_id: int,
    kind: str,
    local_time: dt.time,
    weekdays: frozenset[int],
    now: dt.datetime,
    *,
    window_minutes: int = 0,
) -> Schedule:
    """Create or change a person's own schedule of this kind, and place its next fire."""
    person = session.get_one(Person, person_id)
    if person.timezone is None:
        raise NeedsTimezone
    schedule = session.scalar(
        select(Schedule).where(Schedule.person_id == person_id, Schedule.kind == kind)
    )
    if schedule is None:
        schedule = Schedule(person_id=person_id, kind=kind, created_at=now)
        session.add(schedule)
    schedule.local_time = local_time
    schedule.weekdays = weekdays_mask(weekdays)
    schedule.window_minutes = window_minutes
    schedule.zone = person.timezone
    schedule.set_by = "person"
    schedule.therapist_id = None
    schedule.updated_at = now
    schedule.next_fire_at = next_fire_at(rule_of(schedule), now)
    session.flush()
    return schedule


def turn_off(session: Session, person_id: int, kind: str, now: dt.datetime) -> bool:
    """Stop a person's schedule of this kind (the row stays, for /settings); was it on?"""
    schedule = session.scalar(
        select(Schedule).where(Schedule.person_id == person_id, Schedule.kind == kind)
    )
    if schedule is None or schedule.next_fire_at is None:
        return False
    schedule.next_fire_at = None
    schedule.updated_at = now
    return True


def set_quiet_hours(
    session: Session, person_id: int, hours: tuple[dt.time, dt.time] | None
) -> Person:
    """Set or clear quiet hours (validated by `scheduler.rules.QuietHours`)."""
    person = session.get_one(Person, person_id)
    if hours is not None:
        QuietHours(*hours)
    person.quiet_start, person.quiet_end = hours if hours is not None else (None, None)
    return person


def schedules_of(session: Session, person_id: int) -> list[Schedule]:
    return list(
        session.scalars(
            select(Schedule).where(Schedule.person_id == person_id).order_by(Schedule.kind)
        )
    )
