"""Pure scheduling rules: when does a nudge fire, in the person's own time zone.

Everything here is a pure function of its arguments: there is no clock, no I/O
and no third-party dependency (only the standard library's :mod:`zoneinfo`).
All datetimes passed in must be timezone-aware (a naive datetime raises
``ValueError``); every instant returned is a UTC datetime (``tzinfo=datetime.UTC``).

Daylight-saving contract
------------------------
This is the product's contract; the tests in ``tests/test_rules.py`` pin it down.

1. A wall-clock time that does not exist on a spring-forward day fires at the
   first valid instant after the gap, i.e. the instant the clocks jump to.
   Example: 02:30 in Europe/Berlin on 2026-03-29 (last Sunday of March) fires
   at 03:00 local CEST = 01:00 UTC. (Python's ``fold`` arithmetic would give
   03:30; we deliberately do not use that. The rule is the gap's end.)
2. A wall-clock time that happens twice on a fall-back day fires once, at its
   first occurrence (``fold=0``, i.e. still on summer time). Example: 02:30 in
   Europe/Berlin on 2026-10-25 fires at 02:30 CEST = 00:30 UTC, not again at
   02:30 CET, and the next day's 02:30 CET is 25 hours later.
3. The weekday is the local weekday of the occurrence (the local calendar date
   whose wall-clock time is being scheduled).
4. A person who changes zone simply gets a rule carrying the new zone; the
   next occurrence is then computed in the new zone
   (``next_fire_at(replace(rule, zone="America/New_York"), now)``).

Gap ends are found by bisecting UTC seconds between the two offsets around the
gap, never by assuming a one-hour jump, so 30-minute DST (Australia/Lord_Howe),
odd offsets (Asia/Kathmandu +05:45, Pacific/Chatham +12:45/+13:45) and
multi-hour jumps (Antarctica/Troll +00 -> +02) all resolve to the exact
transition instant. ``next_fire_at`` looks at no more than ten local calendar
dates (the day before ``now``'s local date up to eight days after it).

The same resolution (gap -> gap end, repeated -> first) is used for the end of
an occurrence's delivery window and for the end of quiet hours, with one extra
step: when the first reading of a repeated wall-clock time would not be after
the reference instant (because we are already in the repeated hour's second
pass), the second reading is used, so an "end" is never before its "start".

Parsing
-------
``parse_hhmm`` accepts ``H:MM``/``HH:MM`` with ``:`` or ``.`` as separator and
surrounding whitespace. Input is NFKC-normalised first, so full-width forms
such as ``"２１:００"`` or ``"21：00"`` are *normalised* and accepted. Digits
of other scripts that NFKC does not map to ASCII (for example Arabic-Indic
``"٢١:٠٠"``) are rejected (code ``time_digits``).
Left-to-right/right-to-left marks (U+200E, U+200F, U+061C), which some
clients insert invisibly, are ignored; any other invisible formatting
character (including bidi overrides that could make "00:12" *display* as
"21:00") is rejected. ``24:00`` is rejected (use ``00:00``). 12-hour forms are
accepted: ``9pm``, ``9 pm``, ``9:30 pm``, ``9.30pm``, ``9 p.m.``; ``12am`` is midnight
and ``12pm`` noon. Errors are `InputError` codes; their words are in the templates.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "EVERY_DAY",
    "MAX_UPCOMING",
    "MAX_WINDOW_MINUTES",
    "QuietHours",
    "Rule",
    "load_zone",
    "next_fire_at",
    "occurrence_window",
    "parse_hhmm",
    "parse_time_range",
    "parse_weekday",
    "quiet_until",
    "upcoming",
]

UTC = dt.UTC

EVERY_DAY: frozenset[int] = frozenset(range(7))
"""All seven weekdays (0=Monday .. 6=Sunday)."""

MAX_WINDOW_MINUTES = 180
"""Longest allowed delivery window, in minutes."""

MAX_UPCOMING = 1000
"""Largest ``count`` accepted by :func:`upcoming` (it is meant for previews)."""

# The day before now's local date (a resolved gap can never push an occurrence
# backwards, but a gap swallowing midnight could push it into the next date),
# then up to 8 days ahead: a weekly rule is at most 7 days + a DST shift away.
_DAYS_BEFORE = 1
_DAYS_AFTER = 8

# Zone keys that load but are not real IANA locations: "localtime" is a symlink
# to whatever the machine is set to, "posixrules" is a compiler default.
_REJECTED_ZONE_KEYS = frozenset({"localtime", "posixrules"})


# --------------------------------------------------------------------------- zones


def load_zone(zone: str) -> ZoneInfo:
    """Return the ``ZoneInfo`` for an IANA name, or raise ``ValueError``.

    ``zoneinfo`` signals unknown or malformed keys with a mix of
    ``ZoneInfoNotFoundError`` (a ``KeyError``), ``ValueError`` and ``OSError``
    (``"America"`` is a directory); all become one clear ``ValueError``.
    """
    if not isinstance(zone, str) or not zone or zone in _REJECTED_ZONE_KEYS:
        raise ValueError(f"Unknown time zone {zone!r}. Use an IANA name such as 'Europe/Berlin'.")
    try:
        return ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError, OSError, TypeError) as exc:
        shown = zone if len(zone) <= 64 else zone[:61] + "..."
        raise ValueError(
            f"Unknown time zone {shown!r}. Use an IANA name such as 'Europe/Berlin'."
        ) from exc


def _require_aware(value: dt.datetime, name: str) -> None:
    if not isinstance(value, dt.datetime):
        raise TypeError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value.isoformat()}")


def _check_wall_time(value: dt.time, name: str) -> None:
    if not isinstance(value, dt.time):
        raise TypeError(f"{name} must be a datetime.time, got {type(value).__name__}")
    if value.tzinfo is not None:
        raise ValueError(f"{name} must be a wall-clock time without tzinfo")
    if value.second or value.microsecond:
        raise ValueError(f"{name} must be a whole minute (seconds and microseconds zero)")


def _wall(instant: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    """The naive local wall-clock reading of ``instant`` in ``tz``."""
    return instant.astimezone(tz).replace(tzinfo=None, fold=0)


def _at(day: dt.date, wall: dt.time) -> dt.datetime:
    """A naive wall-clock datetime for ``day`` at ``wall`` (fold ignored)."""
    return dt.datetime.combine(day, wall.replace(fold=0, tzinfo=None))


def _resolve(naive: dt.datetime, tz: ZoneInfo, *, after: dt.datetime | None = None) -> dt.datetime:
    """Map a naive wall-clock reading in ``tz`` to a UTC instant, per the contract.

    * exists once                -> that instant;
    * exists twice (fall-back)   -> the first one, unless ``after`` is given and
                                    the first one is not after it, then the second;
    * does not exist (a gap)     -> the instant the clocks jump to (the gap's end).
    """
    first = naive.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if _wall(first, tz) == naive:
        if after is not None and first <= after:
            second = naive.replace(tzinfo=tz, fold=1).astimezone(UTC)
            if second > first and _wall(second, tz) == naive:
                return second
        return first
    return _gap_end(naive, tz)


def _gap_end(naive: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    """The UTC instant at which the gap containing the non-existent ``naive`` ends.

    For a wall time inside a gap, ``fold=1`` reads it with the offset after the
    transition (an instant before the transition) and ``fold=0`` with the offset
    before it (an instant after the transition). Between those two instants we
    bisect whole UTC seconds for the first one whose wall-clock reading is past
    ``naive``: that is the transition instant, whatever the size of the jump.
    """
    a = naive.replace(tzinfo=tz, fold=1).astimezone(UTC)
    b = naive.replace(tzinfo=tz, fold=0).astimezone(UTC)
    lo_ts = int(min(a, b).timestamp())  # wall reading < naive (before the jump)
    hi_ts = int(max(a, b).timestamp())  # wall reading > naive (after the jump)
    if lo_ts == hi_ts or _wall(dt.datetime.fromtimestamp(hi_ts, UTC), tz) <= naive:
        # Defensive: zoneinfo always brackets a gap; keep the fold=0 reading otherwise.
        return b
    while hi_ts - lo_ts > 1:
        mid = (lo_ts + hi_ts) // 2
        if _wall(dt.datetime.fromtimestamp(mid, UTC), tz) > naive:
            hi_ts = mid
        else:
            lo_ts = mid
    return dt.datetime.fromtimestamp(hi_ts, UTC)


# --------------------------------------------------------------------------- rules


@dataclass(frozen=True, slots=True)
class Rule:
    """When a schedule fires, in local wall-clock time."""

    local_time: dt.time
    """Wall-clock time of the occurrence (start of its delivery window)."""
    weekdays: frozenset[int]
    """0=Monday..6=Sunday; all seven = every day; non-empty."""
    zone: str
    """IANA zone name, e.g. ``"Europe/Berlin"``."""
    window_minutes: int = 0
    """Length of the delivery window after ``local_time`` (0..180); 0 = exact."""

    def __post_init__(self) -> None:
        _check_wall_time(self.local_time, "local_time")
        object.__setattr__(self, "weekdays", _check_weekdays(self.weekdays))
        load_zone(self.zone)
        window = self.window_minutes
        if isinstance(window, bool) or not isinstance(window, int):
            raise TypeError("window_minutes must be an int")
        if not 0 <= window <= MAX_WINDOW_MINUTES:
            raise ValueError(
                f"window_minutes must be between 0 and {MAX_WINDOW_MINUTES}, got {window}"
            )


def _check_weekdays(weekdays: Iterable[int]) -> frozenset[int]:
    if isinstance(weekdays, str | bytes):
        raise TypeError("weekdays must be a set of ints 0..6, not a string")
    days = frozenset(weekdays)
    if not days:
        raise ValueError("weekdays must contain at least one day (0=Monday..6=Sunday)")
    for day in days:
        if isinstance(day, bool) or not isinstance(day, int) or not 0 <= day <= 6:
            raise ValueError(f"weekdays must be ints 0=Monday..6=Sunday, got {day!r}")
    return days


def _occurrence_on(rule: Rule, day: dt.date, tz: ZoneInfo) -> dt.datetime:
    """The UTC instant of the rule's occurrence on local date ``day`` (weekday unchecked)."""
    return _resolve(_at(day, rule.local_time), tz)


def next_fire_at(rule: Rule, now: dt.datetime) -> dt.datetime:
    """The first occurrence strictly after ``now``, as a UTC instant."""
    _require_aware(now, "now")
    tz = load_zone(rule.zone)
    today = _wall(now, tz).date()
    for offset in range(-_DAYS_BEFORE, _DAYS_AFTER + 1):
        day = today + dt.timedelta(days=offset)
        if day.weekday() not in rule.weekdays:
            continue
        candidate = _occurrence_on(rule, day, tz)
        if candidate > now:
            return candidate
    # Unreachable for a valid rule (non-empty weekdays, at most 7 days apart).
    raise RuntimeError(f"no occurrence of {rule!r} within {_DAYS_AFTER} days of {now}")


def upcoming(rule: Rule, now: dt.datetime, count: int) -> list[dt.datetime]:
    """The next ``count`` occurrences strictly after ``now`` (for previews), in UTC."""
    _require_aware(now, "now")
    if isinstance(count, bool) or not isinstance(count, int):
        raise TypeError("count must be an int")
    if not 0 <= count <= MAX_UPCOMING:
        raise ValueError(f"count must be between 0 and {MAX_UPCOMING}, got {count}")
    result: list[dt.datetime] = []
    cursor = now
    for _ in range(count):
        cursor = next_fire_at(rule, cursor)
        result.append(cursor)
    return result


def occurrence_window(rule: Rule, due_at: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The delivery window ``[start, end)`` of the occurrence that fires at ``due_at``.

    ``start`` is ``due_at`` in UTC. ``end`` is computed in wall-clock terms: the
    local reading of ``start`` plus ``window_minutes``, resolved with the DST
    contract (a gap -> the gap's end; a repeated time -> its first reading, or
    the second if the first is not after ``start``). So a 30-minute window from
    01:45 on Berlin's spring-forward night ends at 03:00 CEST (15 real minutes),
    and a 30-minute window from 02:45 CEST on the fall-back night ends at
    03:15 CET (90 real minutes). A zero-minute window gives ``end == start``.

    ``due_at`` is not checked against the rule (a stored due time must stay
    deliverable even if the rule changed since); only its zone and window are used.
    """
    _require_aware(due_at, "due_at")
    start = due_at.astimezone(UTC)
    if rule.window_minutes == 0:
        return start, start
    tz = load_zone(rule.zone)
    end_wall = _wall(start, tz) + dt.timedelta(minutes=rule.window_minutes)
    end = _resolve(end_wall, tz, after=start)
    return start, max(end, start)


# --------------------------------------------------------------------------- quiet hours


@dataclass(frozen=True, slots=True)
class QuietHours:
    """A daily local wall-clock span ``[start, end)`` in which nothing is sent.

    ``end`` may be earlier than ``start`` (the span wraps past midnight, e.g.
    22:30-07:00). ``start == end`` is ambiguous (nothing? all day?) and invalid.
    """

    start: dt.time
    end: dt.time

    def __post_init__(self) -> None:
        _check_wall_time(self.start, "start")
        _check_wall_time(self.end, "end")
        if self.start == self.end:
            raise InputError("range_same")

    @property
    def wraps_midnight(self) -> bool:
        return self.end < self.start


def quiet_until(quiet: QuietHours, zone: str, instant: dt.datetime) -> dt.datetime | None:
    """If ``instant`` is inside the quiet hours in ``zone``, the UTC instant they end.

    Membership is decided on the local wall-clock reading: start inclusive, end
    exclusive. The end is resolved with the DST contract (an end inside a gap ->
    the gap's end; a repeated end -> the first reading still after ``instant``).
    Returns ``None`` when ``instant`` is outside the quiet hours.

    Because membership is by wall clock, on a fall-back night a span ending
    inside the repeated hour (e.g. 23:00-02:30 in Berlin on 2026-10-25) ends at
    the first 02:30 and applies again from 02:00 on the second pass until the
    second 02:30. A span lying entirely inside a spring-forward gap never applies.
    """
    _require_aware(instant, "instant")
    tz = load_zone(zone)
    local = _wall(instant, tz)
    now_t = local.time()
    if quiet.wraps_midnight:
        if now_t >= quiet.start:
            end_day = local.date() + dt.timedelta(days=1)
        elif now_t < quiet.end:
            end_day = local.date()
        else:
            return None
    else:
        if not quiet.start <= now_t < quiet.end:
            return None
        end_day = local.date()
    return _resolve(_at(end_day, quiet.end), tz, after=instant)


# --------------------------------------------------------------------------- parsing


class InputError(ValueError):
    """Something a person typed that cannot be read; `code` names why.

    The words live in the templates (`errors/reason.j2`, per locale); `values` carries
    what they may quote (a limit, which end of a range). `str()` gives the code, for
    logs and tests, never text meant for people.
    """

    def __init__(self, code: str, **values: str | int) -> None:
        super().__init__(code)
        self.code = code
        self.values = values


_MAX_TIME_CHARS = 20
_MAX_RANGE_CHARS = 50
_MAX_WEEKDAY_CHARS = 30

# Invisible direction marks that some clients add; they never reorder digits.
_IGNORED_MARKS = dict.fromkeys(map(ord, "\u200e\u200f\u061c"))
_HHMM_RE = re.compile(r"(?P<h>[0-9]{1,2})[:.](?P<m>[0-9]{2})", re.ASCII)
_DIGITS_RE = re.compile(r"(?P<h>[0-9]+)[:.](?P<m>[0-9]+)", re.ASCII)
# 12-hour times: "9pm", "9 pm", "9:30 pm", "9.30pm", "9 p.m.", "12am".
_TWELVE_RE = re.compile(
    r"(?P<h>[0-9]{1,2})(?:[:.](?P<m>[0-9]{2}))?\s*(?P<half>[ap])\.?\s*m\.?", re.I | re.ASCII
)
_RANGE_DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212"
_RANGE_RE = re.compile(rf"(?P<a>[^{_RANGE_DASHES}]*)[{_RANGE_DASHES}](?P<b>[^{_RANGE_DASHES}]*)")


def _clean(text: str, limit: int, what: str) -> str:
    """NFKC-normalise, drop direction marks, strip; reject over-long/invisible-format input."""
    if not isinstance(text, str):
        raise TypeError(f"expected str, got {type(text).__name__}")
    # Cheap length guard before any normalisation work on hostile input.
    if len(text) > limit * 4:
        raise InputError(f"{what}_too_long")
    cleaned = unicodedata.normalize("NFKC", text).translate(_IGNORED_MARKS).strip()
    if len(cleaned) > limit:
        raise InputError(f"{what}_too_long")
    if any(unicodedata.category(ch) == "Cf" for ch in cleaned):
        raise InputError("invisible_characters")
    return cleaned


def parse_hhmm(text: str) -> dt.time:
    """Parse a time typed by a person: 24-hour ``21:00``/``9:05``/``21.00``, or 12-hour
    ``9pm``, ``9:30 pm``, ``9 p.m.``, ``12am`` (midnight).

    See the module docstring for the exact normalisation. Raises `InputError`.
    """
    cleaned = _clean(text, _MAX_TIME_CHARS, "time")
    if not cleaned:
        raise InputError("time_empty")
    match = _HHMM_RE.fullmatch(cleaned)
    if match is None:
        twelve = _TWELVE_RE.fullmatch(cleaned)
        if twelve is not None:
            return _twelve_hour(int(twelve["h"]), int(twelve["m"] or 0), twelve["half"])
        if any(ch.isdigit() and not ch.isascii() for ch in cleaned):
            raise InputError("time_digits")
        loose = _DIGITS_RE.fullmatch(cleaned)
        if loose is not None and len(loose["m"]) == 1:
            raise InputError("time_minutes_two_digits")
        if loose is not None and len(loose["h"]) <= 4 and len(loose["m"]) <= 4:
            _check_ranges(int(loose["h"]), int(loose["m"]))
        raise InputError("time_format")
    hour, minute = int(match["h"]), int(match["m"])
    _check_ranges(hour, minute)
    return dt.time(hour, minute)


def _twelve_hour(hour: int, minute: int, half: str) -> dt.time:
    if not 1 <= hour <= 12:
        raise InputError("time_twelve_hour_range")
    if minute > 59:
        raise InputError("time_minute_range")
    hour = hour % 12 + (12 if half.casefold() == "p" else 0)
    return dt.time(hour, minute)


def _check_ranges(hour: int, minute: int) -> None:
    if hour == 24 and minute == 0:
        raise InputError("time_midnight_24")
    if hour > 23:
        raise InputError("time_hour_range")
    if minute > 59:
        raise InputError("time_minute_range")


def parse_time_range(text: str) -> tuple[dt.time, dt.time]:
    """Parse ``"22:30-07:00"`` (hyphen, en/em dash or minus sign; spaces allowed).

    Either end may be a 12-hour time ("10pm-7am"). The end may be earlier than the
    start (the range wraps past midnight); a range whose start equals its end is
    rejected. Raises `InputError`; a bad end carries `end` ("start"/"end") and the
    end's own code as `reason`.
    """
    cleaned = _clean(text, _MAX_RANGE_CHARS, "range")
    if not cleaned:
        raise InputError("range_empty")
    match = _RANGE_RE.fullmatch(cleaned)
    if match is None:
        raise InputError("range_format")
    parts: list[dt.time] = []
    for end, raw in (("start", match["a"]), ("end", match["b"])):
        if not raw.strip():
            raise InputError("range_end_missing", end=end)
        try:
            parts.append(parse_hhmm(raw))
        except InputError as exc:
            raise InputError("range_end_invalid", end=end, reason=exc.code) from exc
    start, end_time = parts
    if start == end_time:
        raise InputError("range_same")
    return start, end_time


ENGLISH_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WEEKDAY_ALIASES = {"weds": 2}  # the only common abbreviation that is not a prefix


def parse_weekday(text: str, names: Mapping[str, int] | None = None) -> int:
    """Parse a weekday name: 0=Monday..6=Sunday.

    English always works; `names` adds a language's own (full name -> weekday, e.g.
    from Babel: {"sonntag": 6, ...}). Case-insensitive; accepts a full name or any
    prefix of at least two letters ("mo", "mon", "tues", "so", "son"), plus "weds",
    with an optional trailing full stop ("Mon.", "Do."). A prefix that fits two days
    ("t" would; "di" in German and "di" nowhere else) takes the first in the week.
    Raises `InputError`.
    """
    cleaned = _clean(text, _MAX_WEEKDAY_CHARS, "day")
    word = cleaned.casefold().removesuffix(".")
    if not word:
        raise InputError("day_empty")
    if len(word) >= 2 and word.isalpha():
        if word in _WEEKDAY_ALIASES:
            return _WEEKDAY_ALIASES[word]
        known = [*((n, i) for i, n in enumerate(ENGLISH_WEEKDAYS)), *(names or {}).items()]
        for name, index in known:
            if name.casefold().startswith(word):
                return index
    raise InputError("day_unknown")


def same_moment_in(
    weekday: int, at: dt.time, zone: str, other: str, now: dt.datetime
) -> tuple[int, str]:
    """The weekday and "HH:MM" that the next `weekday at` in `zone` is in `other`."""
    instant = next_fire_at(Rule(local_time=at, weekdays=frozenset({weekday}), zone=zone), now)
    there = instant.astimezone(ZoneInfo(other))
    return there.weekday(), there.time().isoformat(timespec="minutes")
