"""Whether a schedule's next nudge falls inside its person's quiet hours, and what then."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from scheduler.rules import QuietHours, Rule, next_fire_at, quiet_until
from scheduler.schedules import couple_checkin
from storage import Session
from storage.models import Person, Schedule
from storage.schedules import schedules_of


@dataclass(frozen=True)
class Clash:
    """A nudge due inside quiet hours: when it is due, and when it would still arrive
    (the quiet hours' end), or None when they end after its grace and it is skipped."""

    kind: str
    due: dt.datetime
    arrives: dt.datetime | None


def quiet_clash(person: Person, schedule: Schedule | None, grace_seconds: float) -> Clash | None:
    """The clash of this schedule's next nudge with the person's quiet hours, if any."""
    if schedule is None or schedule.next_fire_at is None or not person.timezone:
        return None
    if person.quiet_start is None or person.quiet_end is None:
        return None
    due = schedule.next_fire_at
    end = quiet_until(QuietHours(person.quiet_start, person.quiet_end), person.timezone, due)
    if end is None:
        return None
    late = dt.timedelta(minutes=schedule.window_minutes, seconds=grace_seconds)
    return Clash(schedule.kind, due, end if end <= due + late else None)


def schedules_heard_by(session: Session, person_id: int) -> list[Schedule]:
    """Every schedule whose nudges reach this person: their own and the couple's check-in."""
    schedules = schedules_of(session, person_id)
    shared = couple_checkin(session, person_id)
    if shared is not None and all(s.id != shared.id for s in schedules):
        schedules.append(shared)
    return schedules


def falls_in_quiet_hours(
    person: Person, day: int, at: dt.time, zone: str, now: dt.datetime
) -> bool:
    """Whether the next `day at` in `zone` falls inside this person's quiet hours."""
    if person.quiet_start is None or person.quiet_end is None:
        return False
    if person.quiet_start == person.quiet_end:
        return False
    instant = next_fire_at(Rule(local_time=at, weekdays=frozenset({day}), zone=zone), now)
    quiet = QuietHours(person.quiet_start, person.quiet_end)
    return quiet_until(quiet, person.timezone or "UTC", instant) is not None
