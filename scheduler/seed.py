"""The time arithmetic of `nudgebot seed`: a nightly rule per zone that fires at one instant.

Seeded people's nightly prompts are all due at the same UTC instant, `minutes` from now
rounded up to the whole minute; each zone gets the local wall-clock time of that instant
as its rule, and the rule (`scheduler.rules`) places the next fire time, so the dispatcher
carries on from there exactly as for anyone else.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from scheduler.rules import EVERY_DAY, Rule, load_zone, next_fire_at
from storage.seed import ZoneSlot

# Two halves of Europe and America, a half-hour zone and the far east (with and without DST).
DEFAULT_ZONES = (
    "Europe/Berlin",
    "America/New_York",
    "Asia/Kolkata",
    "Australia/Sydney",
    "UTC",
)
MAX_MINUTES = 7 * 24 * 60


def due_at(now: dt.datetime, minutes: int) -> dt.datetime:
    """`now` plus `minutes`, rounded up to the whole minute, in UTC."""
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    if not 0 <= minutes <= MAX_MINUTES:
        raise ValueError(f"minutes must be between 0 and {MAX_MINUTES}")
    instant = now.astimezone(dt.UTC) + dt.timedelta(minutes=minutes)
    whole = instant.replace(second=0, microsecond=0)
    return whole if whole == instant else whole + dt.timedelta(minutes=1)


def parse_zones(text: str) -> tuple[str, ...]:
    """Comma-separated IANA zones, in order, without repeats; `ValueError` names a bad one."""
    zones = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    if not zones:
        raise ValueError("at least one time zone is needed, e.g. Europe/Berlin")
    for zone in zones:
        load_zone(zone)
    return zones


def nightly_slots(due: dt.datetime, zones: Sequence[str]) -> list[ZoneSlot]:
    """For each zone, the nightly rule whose next occurrence is `due`.

    The local time is `due`'s wall-clock reading in the zone, and the next fire time is
    what the rule says from just before `due`: `due` itself, except for a wall-clock
    time that a fall-back night repeats, where the rule (first occurrence) decides.
    """
    slots = []
    for zone in zones:
        local = due.astimezone(load_zone(zone)).time().replace(tzinfo=None, fold=0)
        rule = Rule(local_time=local, weekdays=EVERY_DAY, zone=zone)
        slots.append(ZoneSlot(zone, local, next_fire_at(rule, due - dt.timedelta(seconds=1))))
    return slots
