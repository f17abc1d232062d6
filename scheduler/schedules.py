"""Schedule rows and their rules: the bridge between the table and `scheduler.rules`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.rules import QuietHours, Rule, next_fire_at, upcoming
from storage.models import WEEKLY_CHECKIN, Person, Schedule

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
    shared: bool = False


def view(schedule: Schedule, count: int = 3, zone: str | None = None) -> ScheduleView:
    """Describe a schedule with its next `count` fire times, in `zone` (default: its own).

    A couple's check-in is kept in the proposer's zone; each partner sees it in their own.
    """
    rule = rule_of(schedule)
    shown_zone = zone or schedule.zone
    tz = ZoneInfo(shown_zone)
    times: tuple[str, ...] = ()
    local_time = schedule.local_time.strftime("%H:%M")
    weekdays = tuple(sorted(rule.weekdays))
    if schedule.next_fire_at is not None:
        first = schedule.next_fire_at
        rest = upcoming(rule, first, count - 1) if count > 1 else []
        times = tuple(t.astimezone(tz).strftime("%a %H:%M") for t in [first, *rest])
        if shown_zone != schedule.zone:
            own = first.astimezone(ZoneInfo(schedule.zone))
            shown = first.astimezone(tz)
            shift = (shown.date() - own.date()).days
            local_time = shown.strftime("%H:%M")
            weekdays = tuple(sorted((d + shift) % 7 for d in rule.weekdays))
    return ScheduleView(
        kind=schedule.kind,
        local_time=local_time,
        weekdays=weekdays,
        zone=shown_zone,
        window_minutes=schedule.window_minutes,
        on=schedule.next_fire_at is not None,
        next_times=times,
        set_by=schedule.set_by,
        shared=schedule.couple_id is not None,
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


@dataclass(frozen=True, slots=True)
class Proposal:
    """A proposed weekly check-in, as the partner who must confirm it sees it."""

    result: str  # proposed, confirmed, declined, not_paired, nothing_to_confirm, own_proposal
    partner_chat_id: int | None = None
    partner_language: str = "en"
    partner_zone: str = "UTC"
    by_name: str = ""
    partner_name: str = ""
    weekday: int | None = None
    at: dt.time | None = None
    zone: str = "UTC"
    schedule: Schedule | None = None


def propose_checkin(session: Session, person_id: int, weekday: int, at: dt.time) -> Proposal:
    """One partner proposes the couple's weekly check-in; the other confirms it."""
    from storage.couples import couple_of, members

    person = session.get_one(Person, person_id)
    couple = couple_of(session, person_id)
    if couple is None or person.timezone is None:
        return Proposal("not_paired")
    partner = next((p for p in members(session, couple.id) if p.id != person_id), None)
    if partner is None:
        return Proposal("not_paired")
    couple.proposed_by_id, couple.proposed_weekday = person_id, weekday
    couple.proposed_time, couple.proposed_zone = at, person.timezone
    return Proposal(
        "proposed",
        partner.chat_id,
        partner.language,
        partner.timezone or "UTC",
        person.display_name,
        partner.display_name,
        weekday,
        at,
        person.timezone,
    )


def answer_proposal(session: Session, person_id: int, accept: bool, now: dt.datetime) -> Proposal:
    """The other partner confirms or declines; on yes the shared schedule starts."""
    from storage.couples import couple_of, members

    couple = couple_of(session, person_id)
    if couple is None:
        return Proposal("not_paired")
    if (
        couple.proposed_by_id is None
        or couple.proposed_time is None
        or (couple.proposed_weekday is None or couple.proposed_zone is None)
    ):
        return Proposal("nothing_to_confirm")
    if couple.proposed_by_id == person_id:
        return Proposal("own_proposal")
    proposer = session.get_one(Person, couple.proposed_by_id)
    weekday, at, zone = couple.proposed_weekday, couple.proposed_time, couple.proposed_zone
    couple.proposed_by_id = couple.proposed_weekday = None
    couple.proposed_time = couple.proposed_zone = None
    told = (proposer.chat_id, proposer.language, proposer.timezone or "UTC")
    if not accept:
        return Proposal("declined", *told, weekday=weekday, at=at, zone=zone)
    schedule = session.scalar(
        select(Schedule).where(Schedule.couple_id == couple.id, Schedule.kind == WEEKLY_CHECKIN)
    )
    if schedule is None:
        schedule = Schedule(couple_id=couple.id, kind=WEEKLY_CHECKIN, created_at=now)
        session.add(schedule)
    schedule.local_time, schedule.weekdays = at, weekdays_mask(frozenset({weekday}))
    schedule.window_minutes, schedule.zone, schedule.updated_at = 0, zone, now
    schedule.set_by, schedule.therapist_id = "person", None
    schedule.next_fire_at = next_fire_at(rule_of(schedule), now)
    # The shared check-in replaces any personal one either partner had.
    for member in members(session, couple.id):
        personal = session.scalar(
            select(Schedule).where(Schedule.person_id == member.id, Schedule.kind == WEEKLY_CHECKIN)
        )
        if personal is not None:
            session.delete(personal)
    session.flush()
    return Proposal("confirmed", *told, weekday=weekday, at=at, zone=zone, schedule=schedule)


def couple_checkin(session: Session, person_id: int) -> Schedule | None:
    """The couple's shared weekly check-in, if there is one."""
    from storage.couples import couple_of

    couple = couple_of(session, person_id)
    if couple is None:
        return None
    return session.scalar(
        select(Schedule).where(Schedule.couple_id == couple.id, Schedule.kind == WEEKLY_CHECKIN)
    )


def turn_off_couple_checkin(session: Session, person_id: int, now: dt.datetime) -> Person | None:
    """Stop the couple's shared check-in; returns the partner, who is told."""
    from storage.couples import couple_of, members

    couple = couple_of(session, person_id)
    schedule = couple_checkin(session, person_id)
    if couple is None or schedule is None or schedule.next_fire_at is None:
        return None
    schedule.next_fire_at, schedule.updated_at = None, now
    return next((p for p in members(session, couple.id) if p.id != person_id), None)
