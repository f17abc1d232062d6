"""How busy the next hours are: nudges due per minute against the send limit.

Pure arithmetic over the schedules' rules (no clock, no database): the operator command
`nudgebot capacity` feeds it every active schedule. A minute is "busy" when more is due
in it than the limit sends in a minute; the queue then carries over into the next
minutes. For each busy stretch it estimates the lateness of the last nudge and how many
would miss (late past their window plus grace), and what would fix it.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from scheduler.rules import Rule, next_fire_at, occurrence_window
from scheduler.slots import SAFETY_MARGIN, ZERO_WINDOW_GRACE

MINUTE = dt.timedelta(minutes=1)
ZERO_WINDOW = dt.timedelta(seconds=ZERO_WINDOW_GRACE)


@dataclass(frozen=True, slots=True)
class Due:
    """One occurrence: when it fires and until when it may still go out."""

    at: dt.datetime
    latest: dt.datetime


@dataclass(frozen=True, slots=True)
class BusyMinute:
    """A minute with more due than the limit sends in a minute."""

    minute: dt.datetime
    due: int
    limit: int
    late_seconds: float
    """How long after this minute ends the queue is still sending what was due in it."""
    misses: int
    """Nudges due in this minute expected to go out after their window and grace."""
    window_needed: int
    """Minutes of delivery window that would let this minute's nudges all go in time."""


def occurrences(
    rules: Iterable[tuple[Rule, dt.datetime, float]], start: dt.datetime, hours: int
) -> list[Due]:
    """Every occurrence in [start, start + hours) of (rule, next fire, grace seconds)."""
    end = start + dt.timedelta(hours=hours)
    found = []
    for rule, first, grace in rules:
        at = first
        while at < end:
            if at >= start:
                _, window_end = occurrence_window(rule, at)
                # A zero-minute window is met anywhere in its minute, as when sending.
                met_until = window_end if window_end > at else at + ZERO_WINDOW
                found.append(Due(at, met_until + dt.timedelta(seconds=grace)))
            at = next_fire_at(rule, at)
    return found


def busiest(due: Iterable[Due], per_second: float, *, most: int = 10) -> list[BusyMinute]:
    """The `most` busiest minutes, busiest first (queue simulated minute by minute)."""
    limit = math.floor(per_second * SAFETY_MARGIN * 60) if per_second > 0 else 0
    if not limit:
        return []
    by_minute: Counter[dt.datetime] = Counter()
    deadlines: dict[dt.datetime, list[dt.datetime]] = {}
    for d in due:
        minute = d.at.replace(second=0, microsecond=0)
        by_minute[minute] += 1
        deadlines.setdefault(minute, []).append(d.latest)
    busy: list[BusyMinute] = []
    carry = 0  # queued from earlier minutes, not yet sent
    previous: dt.datetime | None = None
    rate = limit / 60.0
    for minute in sorted(by_minute):
        if previous is not None:
            idle = int((minute - previous) / MINUTE) - 1
            carry = max(0, carry - idle * limit)
        previous = minute
        count = by_minute[minute]
        queue = carry + count
        if queue > limit:
            misses = 0
            for position, latest in enumerate(sorted(deadlines[minute])):
                sent_at = minute + dt.timedelta(seconds=(carry + position) / rate)
                misses += sent_at > latest
            busy.append(
                BusyMinute(
                    minute=minute,
                    due=count,
                    limit=limit,
                    late_seconds=queue / rate - 60.0,
                    misses=misses,
                    window_needed=math.ceil(queue / limit),
                )
            )
        carry = max(0, queue - limit)
    busy.sort(key=lambda b: (b.misses, b.late_seconds, b.due), reverse=True)
    return busy[:most]


def plan(
    rules: Iterable[tuple[Rule, dt.datetime, float]],
    start: dt.datetime,
    per_second: float,
    *,
    hours: int = 24,
    most: int = 10,
) -> list[BusyMinute]:
    """The busiest minutes of the next `hours` for these schedules at `per_second`."""
    return busiest(occurrences(rules, start, hours), per_second, most=most)
