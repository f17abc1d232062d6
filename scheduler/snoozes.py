"""Snoozing one nudge: when it comes back (pure), and moving it there."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from enum import StrEnum
from zoneinfo import ZoneInfo

from scheduler.rules import EVERY_DAY, Rule, next_fire_at
from storage import Session, answers
from storage.answers import Snoozed


class SnoozeOption(StrEnum):
    """The snooze buttons, as they travel in callback data."""

    HOUR = "h"
    TONIGHT = "n"
    TOMORROW = "t"


SNOOZE_HOUR, SNOOZE_TONIGHT, SNOOZE_TOMORROW = (
    SnoozeOption.HOUR,
    SnoozeOption.TONIGHT,
    SnoozeOption.TOMORROW,
)
TONIGHT = dt.time(20, 30)


def snooze_target(
    option: str, due_at: dt.datetime, now: dt.datetime, zone: str
) -> dt.datetime | None:
    """When a snoozed nudge comes back, or None if that option does not apply now.

    An hour: an hour from now. Tonight: 20:30 local today, if that is at least half an
    hour away. Tomorrow: the nudge's own local time on the next day.
    """
    if option == SNOOZE_HOUR:
        return (now + dt.timedelta(hours=1)).replace(second=0, microsecond=0)
    if option == SNOOZE_TONIGHT:
        tonight = next_fire_at(Rule(local_time=TONIGHT, weekdays=EVERY_DAY, zone=zone), now)
        local = now.astimezone(ZoneInfo(zone))
        same_day = tonight.astimezone(ZoneInfo(zone)).date() == local.date()
        return tonight if same_day and tonight - now >= dt.timedelta(minutes=30) else None
    if option == SNOOZE_TOMORROW:
        wall = due_at.astimezone(ZoneInfo(zone)).time().replace(second=0, microsecond=0)
        rule = Rule(local_time=wall, weekdays=EVERY_DAY, zone=zone)
        return next_fire_at(rule, now + dt.timedelta(hours=1))
    return None


def snooze(
    session: Session,
    person_id: int,
    delivery_id: int,
    option: str,
    now: dt.datetime,
    *,
    grace: Callable[[str], float],
) -> Snoozed:
    """Move one delivered nudge later, as a one-off; the recurrence is untouched.

    A couple's shared nudge (the weekly check-in) moves for both partners.
    """

    def target_for(due_at: dt.datetime, zone: str) -> dt.datetime | None:
        return snooze_target(option, due_at, now, zone)

    return answers.snooze(session, person_id, delivery_id, now, target_for=target_for, grace=grace)
