"""The schedule service: a schedule row's rule, setting it, and describing it.

Finding and creating rows is `storage.schedules` (the one place); placing the next fire
time from the rule is here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal
from zoneinfo import ZoneInfo

from scheduler.rules import QuietHours, Rule, next_fire_at, upcoming
from storage import Session
from storage.couples import couple_of, members
from storage.deliveries import set_every_other_day as every_other_day
from storage.models import WEEKLY_CHECKIN, Person, Schedule
from storage.people import set_zone
from storage.schedules import (
    delete_schedule,
    find_or_create,
    find_schedule,
    schedules_of,
    weekdays_from_mask,
    weekdays_mask,
)

ALL_DAYS = frozenset(range(7))
__all__ = ["schedules_of", "weekdays_from_mask", "weekdays_mask"]


ProposalResult = Literal[
    "proposed", "confirmed", "declined", "not_paired", "nothing_to_confirm", "own_proposal"
]


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
    for schedule in schedules_of(session, person.id):
        schedule.zone = person.timezone
        schedule.updated_at = now
        if schedule.next_fire_at is not None:
            schedule.next_fire_at = next_fire_at(rule_of(schedule), now)


def set_timezone(session: Session, person_id: int, zone: str, now: dt.datetime) -> Person:
    """Set the person's zone; their own schedules follow it from the next occurrence."""
    person = set_zone(session, person_id, zone)
    rezone_person(session, person, now)
    return person


@dataclass(frozen=True, slots=True)
class ScheduleView:
    """What a message needs to describe a schedule in the person's own words and zone."""

    kind: str
    local_time: str
    weekdays: tuple[int, ...]
    zone: str
    window_minutes: int
    on: bool
    next_at: tuple[dt.datetime, ...]
    """The next fire instants; templates write them in the reader's language and zone."""
    set_by: str
    shared: bool = False


def view(schedule: Schedule, count: int = 3, zone: str | None = None) -> ScheduleView:
    """Describe a schedule with its next `count` fire times, in `zone` (default: its own).

    A couple's check-in is kept in the proposer's zone; each partner sees it in their own.
    """
    rule = rule_of(schedule)
    shown_zone = zone or schedule.zone
    tz = ZoneInfo(shown_zone)
    times: tuple[dt.datetime, ...] = ()
    local_time = schedule.local_time.isoformat(timespec="minutes")
    weekdays = tuple(sorted(rule.weekdays))
    if schedule.next_fire_at is not None:
        first = schedule.next_fire_at
        rest = upcoming(rule, first, count - 1) if count > 1 else []
        times = (first, *rest)
        if shown_zone != schedule.zone:
            own = first.astimezone(ZoneInfo(schedule.zone))
            shown = first.astimezone(tz)
            shift = (shown.date() - own.date()).days
            local_time = shown.time().isoformat(timespec="minutes")
            weekdays = tuple(sorted((d + shift) % 7 for d in rule.weekdays))
    return ScheduleView(
        kind=schedule.kind,
        local_time=local_time,
        weekdays=weekdays,
        zone=shown_zone,
        window_minutes=schedule.window_minutes,
        on=schedule.next_fire_at is not None,
        next_at=times,
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
    schedule = find_or_create(session, kind=kind, now=now, person_id=person_id)
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
    schedule = find_schedule(session, kind=kind, person_id=person_id)
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


@dataclass(frozen=True, slots=True)
class Proposal:
    """A proposed weekly check-in, as the partner who must confirm it sees it."""

    result: ProposalResult
    partner_chat_id: int | None = None
    partner_language: str | None = None
    partner_zone: str = "UTC"
    by_name: str = ""
    partner_name: str = ""
    weekday: int | None = None
    at: dt.time | None = None
    zone: str = "UTC"
    schedule: Schedule | None = None


def propose_checkin(session: Session, person_id: int, weekday: int, at: dt.time) -> Proposal:
    """One partner proposes the couple's weekly check-in; the other confirms it."""
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
    schedule = find_or_create(session, kind=WEEKLY_CHECKIN, now=now, couple_id=couple.id)
    schedule.local_time, schedule.weekdays = at, weekdays_mask(frozenset({weekday}))
    schedule.window_minutes, schedule.zone, schedule.updated_at = 0, zone, now
    schedule.set_by, schedule.therapist_id = "person", None
    schedule.next_fire_at = next_fire_at(rule_of(schedule), now)
    # The shared check-in replaces any personal one either partner had.
    for member in members(session, couple.id):
        personal = find_schedule(session, kind=WEEKLY_CHECKIN, person_id=member.id)
        if personal is not None:
            delete_schedule(session, personal)
    session.flush()
    return Proposal("confirmed", *told, weekday=weekday, at=at, zone=zone, schedule=schedule)


def couple_checkin(session: Session, person_id: int) -> Schedule | None:
    """The couple's shared weekly check-in, if there is one."""
    couple = couple_of(session, person_id)
    if couple is None:
        return None
    return find_schedule(session, kind=WEEKLY_CHECKIN, couple_id=couple.id)


def turn_off_couple_checkin(session: Session, person_id: int, now: dt.datetime) -> Person | None:
    """Stop the couple's shared check-in; returns the partner, who is told."""
    couple = couple_of(session, person_id)
    schedule = couple_checkin(session, person_id)
    if couple is None or schedule is None or schedule.next_fire_at is None:
        return None
    schedule.next_fire_at, schedule.updated_at = None, now
    return next((p for p in members(session, couple.id) if p.id != person_id), None)


def set_fewer(
    session: Session, person_id: int, schedule_id: int, now: dt.datetime
) -> Schedule | None:
    """Lower a nightly prompt to every other day (Mon, Wed, Fri, Sun)."""
    schedule = every_other_day(session, person_id, schedule_id)
    if schedule is None:
        return None
    schedule.updated_at = now
    if schedule.next_fire_at is not None:
        schedule.next_fire_at = next_fire_at(rule_of(schedule), now)
    return schedule
