"""Tests for scheduler.rules: occurrences, the daylight-saving contract, quiet hours, parsers.

Every `now` is fixed; nothing reads the wall clock. Expected instants are written
out in UTC next to their local reading so a failure says what a person would see.

2026 transitions relied on (tzdata, checked with zoneinfo):
  Europe/Berlin        2026-03-29 02:00 CET  -> 03:00 CEST  (01:00 UTC)
                       2026-10-25 03:00 CEST -> 02:00 CET   (01:00 UTC)
  America/New_York     2026-03-08 02:00 EST  -> 03:00 EDT   (07:00 UTC)
                       2026-11-01 02:00 EDT  -> 01:00 EST   (06:00 UTC)
  Australia/Lord_Howe  2026-04-05 02:00 +11  -> 01:30 +10:30 (2026-04-04 15:00 UTC)
                       2026-10-04 02:00 +10:30 -> 02:30 +11 (2026-10-03 15:30 UTC)
  Pacific/Chatham      2026-04-05 03:45 +13:45 -> 02:45 +12:45 (2026-04-04 14:00 UTC)
                       2026-09-27 02:45 +12:45 -> 03:45 +13:45 (2026-09-26 14:00 UTC)
  America/Sao_Paulo    none (DST abolished in 2019; -03 all year)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduler.rules import (
    EVERY_DAY,
    MAX_UPCOMING,
    InputError,
    QuietHours,
    Rule,
    next_fire_at,
    occurrence_window,
    parse_hhmm,
    parse_time_range,
    parse_weekday,
    quiet_until,
    upcoming,
)

MON, TUE, WED, THU, FRI, SAT, SUN = range(7)


def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0, us: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, us, tzinfo=UTC)


def loc(zone: str, y: int, mo: int, d: int, h: int, mi: int = 0, *, fold: int = 0) -> datetime:
    """A local wall-clock reading (fold=1 selects the second pass of a repeated time)."""
    return datetime(y, mo, d, h, mi, tzinfo=ZoneInfo(zone), fold=fold)


def daily(zone: str, hh: int, mm: int = 0, *, window: int = 0) -> Rule:
    return Rule(time(hh, mm), EVERY_DAY, zone, window)


def assert_utc(value: datetime) -> None:
    assert value.tzinfo is UTC, value


# =========================================================================== next_fire_at


@pytest.mark.parametrize(
    ("rule", "now", "expected"),
    [
        pytest.param(
            daily("Europe/Berlin", 21),
            utc(2026, 6, 1, 12),
            utc(2026, 6, 1, 19),
            id="berlin-daily-2100-later-today",
        ),
        pytest.param(
            daily("Europe/Berlin", 21),
            utc(2026, 6, 1, 20),
            utc(2026, 6, 2, 19),
            id="berlin-daily-2100-already-passed",
        ),
        pytest.param(
            daily("Europe/Berlin", 21),
            utc(2026, 1, 15, 12),
            utc(2026, 1, 15, 20),
            id="berlin-daily-2100-winter",
        ),
        pytest.param(
            daily("America/New_York", 8),
            utc(2026, 1, 15, 0),
            utc(2026, 1, 15, 13),
            id="new-york-0800-winter-now-is-previous-local-evening",
        ),
        pytest.param(
            daily("America/New_York", 8),
            utc(2026, 7, 15, 0),
            utc(2026, 7, 15, 12),
            id="new-york-0800-summer",
        ),
        # Sao Paulo used to spring forward at 00:00 on the first Sunday of November.
        pytest.param(
            daily("America/Sao_Paulo", 0, 30),
            utc(2026, 10, 31, 12),
            utc(2026, 11, 1, 3, 30),
            id="sao-paulo-0030-on-former-dst-day-exists",
        ),
        pytest.param(
            daily("America/Sao_Paulo", 21),
            utc(2026, 1, 10, 12),
            utc(2026, 1, 11, 0),
            id="sao-paulo-2100-southern-summer-still-minus-3",
        ),
        pytest.param(
            daily("Asia/Kolkata", 9),
            utc(2026, 6, 1, 0),
            utc(2026, 6, 1, 3, 30),
            id="kolkata-0900-plus-0530",
        ),
        pytest.param(
            daily("Asia/Kathmandu", 9),
            utc(2026, 6, 1, 0),
            utc(2026, 6, 1, 3, 15),
            id="kathmandu-0900-plus-0545",
        ),
        pytest.param(
            daily("Asia/Kathmandu", 5),
            utc(2026, 6, 1, 0),
            utc(2026, 6, 1, 23, 15),
            id="kathmandu-0500-is-previous-utc-day",
        ),
        pytest.param(
            daily("Australia/Lord_Howe", 9),
            utc(2026, 6, 10, 0),
            utc(2026, 6, 10, 22, 30),
            id="lord-howe-0900-standard-plus-1030",
        ),
        pytest.param(
            daily("Australia/Lord_Howe", 9),
            utc(2026, 12, 10, 0),
            utc(2026, 12, 10, 22),
            id="lord-howe-0900-summer-plus-11",
        ),
        pytest.param(
            daily("Pacific/Chatham", 9),
            utc(2026, 6, 10, 0),
            utc(2026, 6, 10, 20, 15),
            id="chatham-0900-standard-plus-1245",
        ),
        pytest.param(
            daily("Pacific/Chatham", 9),
            utc(2026, 12, 10, 0),
            utc(2026, 12, 10, 19, 15),
            id="chatham-0900-summer-plus-1345",
        ),
        pytest.param(
            daily("UTC", 21),
            utc(2026, 3, 29, 0),
            utc(2026, 3, 29, 21),
            id="utc-2100",
        ),
        pytest.param(
            daily("Europe/Berlin", 0, 0),
            utc(2026, 6, 1, 12),
            utc(2026, 6, 1, 22),
            id="berlin-midnight",
        ),
        pytest.param(
            daily("Europe/Berlin", 23, 59),
            utc(2026, 6, 1, 22),
            utc(2026, 6, 2, 21, 59),
            id="berlin-2359-after-local-midnight",
        ),
        pytest.param(
            daily("Europe/Berlin", 23, 59),
            utc(2026, 6, 1, 21, 58),
            utc(2026, 6, 1, 21, 59),
            id="berlin-2359-one-minute-before",
        ),
        pytest.param(
            daily("Europe/Berlin", 0, 0),
            utc(2026, 12, 31, 22, 30),
            utc(2026, 12, 31, 23),
            id="berlin-midnight-crossing-year-end",
        ),
        pytest.param(
            Rule(time(9), frozenset({MON}), "Europe/Berlin"),
            utc(2026, 12, 31, 12),  # Thursday
            utc(2027, 1, 4, 8),  # Monday
            id="berlin-weekly-monday-crossing-year-end",
        ),
        pytest.param(
            Rule(time(21), frozenset({WED}), "Europe/Berlin"),
            utc(2026, 6, 4, 12),  # Thursday
            utc(2026, 6, 10, 19),  # next Wednesday
            id="berlin-weekly-wednesday-from-thursday",
        ),
        pytest.param(
            Rule(time(21), frozenset({MON, WED, FRI}), "Europe/Berlin"),
            utc(2026, 6, 5, 20),  # Friday 22:00 local, after today's fire
            utc(2026, 6, 8, 19),  # Monday
            id="berlin-weekday-set-friday-late-to-monday",
        ),
        pytest.param(
            Rule(time(21), frozenset({SAT, SUN}), "Europe/Berlin"),
            utc(2026, 6, 3, 12),  # Wednesday
            utc(2026, 6, 6, 19),  # Saturday
            id="berlin-weekend-set-from-wednesday",
        ),
        # The weekday is the *local* weekday: 00:30 Monday in Kathmandu is Sunday in UTC.
        pytest.param(
            Rule(time(0, 30), frozenset({MON}), "Asia/Kathmandu"),
            utc(2026, 6, 3, 0),  # Wednesday
            utc(2026, 6, 7, 18, 45),  # Sunday 18:45 UTC == Monday 00:30 local
            id="kathmandu-weekday-is-local-weekday",
        ),
        pytest.param(
            Rule(time(20), frozenset({SUN}), "America/New_York"),
            utc(2026, 6, 8, 1),  # Monday 01:00 UTC == Sunday 21:00 local
            utc(2026, 6, 15, 0),  # next Sunday 20:00 EDT
            id="new-york-weekday-is-local-weekday",
        ),
    ],
)
def test_next_fire_at_is_the_next_local_occurrence_in_utc(
    rule: Rule, now: datetime, expected: datetime
) -> None:
    result = next_fire_at(rule, now)
    assert result == expected
    assert_utc(result)


@pytest.mark.parametrize(
    ("rule", "occurrence", "expected_next"),
    [
        pytest.param(
            daily("Europe/Berlin", 21),
            utc(2026, 6, 1, 19),
            utc(2026, 6, 2, 19),
            id="daily-now-exactly-at-occurrence",
        ),
        pytest.param(
            Rule(time(21), frozenset({WED}), "Europe/Berlin"),
            utc(2026, 6, 10, 19),
            utc(2026, 6, 17, 19),
            id="weekly-now-exactly-at-occurrence",
        ),
        pytest.param(
            daily("Europe/Berlin", 2, 30),
            utc(2026, 3, 29, 1),
            utc(2026, 3, 30, 0, 30),
            id="berlin-now-exactly-at-gap-end-occurrence",
        ),
        pytest.param(
            daily("Asia/Kathmandu", 0, 0),
            utc(2026, 6, 1, 18, 15),
            utc(2026, 6, 2, 18, 15),
            id="kathmandu-now-exactly-at-midnight-occurrence",
        ),
    ],
)
def test_now_exactly_at_occurrence_returns_the_next_one(
    rule: Rule, occurrence: datetime, expected_next: datetime
) -> None:
    assert next_fire_at(rule, occurrence) == expected_next
    assert next_fire_at(rule, occurrence - timedelta(microseconds=1)) == occurrence


def test_now_in_any_zone_gives_the_same_instant() -> None:
    rule = daily("Europe/Berlin", 21)
    now = utc(2026, 6, 1, 12)
    for zone in ("Asia/Tokyo", "America/Los_Angeles", "Pacific/Chatham"):
        assert next_fire_at(rule, now.astimezone(ZoneInfo(zone))) == utc(2026, 6, 1, 19)


@pytest.mark.parametrize(
    ("rule", "now"),
    [
        pytest.param(daily("Europe/Berlin", 2, 30), utc(2026, 3, 28, 12), id="berlin-gap"),
        pytest.param(daily("Antarctica/Troll", 2, 0), utc(2026, 3, 28, 12), id="troll-2h-gap"),
        pytest.param(
            Rule(time(21), frozenset({WED}), "Pacific/Chatham"), utc(2026, 6, 4), id="weekly"
        ),
    ],
)
def test_next_fire_at_does_a_bounded_amount_of_work(
    rule: Rule, now: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At most ten calendar days are looked at, and a gap is bisected, not walked."""
    import scheduler.rules as rules

    calls = {"days": 0, "wall": 0}
    real_occurrence_on, real_wall = rules._occurrence_on, rules._wall

    def counting_occurrence_on(r: Rule, day: date, tz: ZoneInfo) -> datetime:
        calls["days"] += 1
        return real_occurrence_on(r, day, tz)

    def counting_wall(instant: datetime, tz: ZoneInfo) -> datetime:
        calls["wall"] += 1
        return real_wall(instant, tz)

    monkeypatch.setattr(rules, "_occurrence_on", counting_occurrence_on)
    monkeypatch.setattr(rules, "_wall", counting_wall)
    next_fire_at(rule, now)
    assert calls["days"] <= 10
    assert calls["wall"] <= 40  # a minute-by-minute walk over a 1-2 h gap needs 60-120


# =========================================================================== daylight saving


@pytest.mark.parametrize(
    ("rule", "now", "expected", "expected_local"),
    [
        pytest.param(
            daily("Europe/Berlin", 2, 30),
            utc(2026, 3, 28, 12),
            utc(2026, 3, 29, 1),
            "2026-03-29T03:00:00+02:00",
            id="berlin-spring-forward-0230",
        ),
        pytest.param(
            daily("Europe/Berlin", 2, 0),
            utc(2026, 3, 28, 12),
            utc(2026, 3, 29, 1),
            "2026-03-29T03:00:00+02:00",
            id="berlin-spring-forward-0200-gap-start",
        ),
        pytest.param(
            daily("Europe/Berlin", 2, 59),
            utc(2026, 3, 28, 12),
            utc(2026, 3, 29, 1),
            "2026-03-29T03:00:00+02:00",
            id="berlin-spring-forward-0259-gap-last-minute",
        ),
        pytest.param(
            daily("Europe/Berlin", 1, 59),
            utc(2026, 3, 28, 12),
            utc(2026, 3, 29, 0, 59),
            "2026-03-29T01:59:00+01:00",
            id="berlin-spring-forward-0159-exists",
        ),
        pytest.param(
            daily("Europe/Berlin", 3, 0),
            utc(2026, 3, 28, 12),
            utc(2026, 3, 29, 1),
            "2026-03-29T03:00:00+02:00",
            id="berlin-spring-forward-0300-exists",
        ),
        pytest.param(
            daily("America/New_York", 2, 30),
            utc(2026, 3, 7, 12),
            utc(2026, 3, 8, 7),
            "2026-03-08T03:00:00-04:00",
            id="new-york-spring-forward-0230",
        ),
        pytest.param(
            daily("Australia/Lord_Howe", 2, 15),
            utc(2026, 10, 3, 0),
            utc(2026, 10, 3, 15, 30),
            "2026-10-04T02:30:00+11:00",
            id="lord-howe-spring-forward-0215-half-hour-gap",
        ),
        pytest.param(
            daily("Australia/Lord_Howe", 2, 0),
            utc(2026, 10, 3, 0),
            utc(2026, 10, 3, 15, 30),
            "2026-10-04T02:30:00+11:00",
            id="lord-howe-spring-forward-0200-gap-start",
        ),
        pytest.param(
            daily("Australia/Lord_Howe", 2, 30),
            utc(2026, 10, 3, 0),
            utc(2026, 10, 3, 15, 30),
            "2026-10-04T02:30:00+11:00",
            id="lord-howe-spring-forward-0230-exists",
        ),
        pytest.param(
            daily("Pacific/Chatham", 3, 0),
            utc(2026, 9, 26, 0),
            utc(2026, 9, 26, 14),
            "2026-09-27T03:45:00+13:45",
            id="chatham-spring-forward-0300",
        ),
        pytest.param(
            daily("Pacific/Chatham", 2, 45),
            utc(2026, 9, 26, 0),
            utc(2026, 9, 26, 14),
            "2026-09-27T03:45:00+13:45",
            id="chatham-spring-forward-0245-gap-start",
        ),
        pytest.param(
            daily("Pacific/Chatham", 3, 44),
            utc(2026, 9, 26, 0),
            utc(2026, 9, 26, 14),
            "2026-09-27T03:45:00+13:45",
            id="chatham-spring-forward-0344-gap-last-minute",
        ),
        pytest.param(
            daily("Antarctica/Troll", 2, 0),
            utc(2026, 3, 28, 12),
            utc(2026, 3, 29, 1),
            "2026-03-29T03:00:00+02:00",
            id="troll-spring-forward-two-hour-gap",
        ),
    ],
)
def test_spring_forward_fires_at_gap_end(
    rule: Rule, now: datetime, expected: datetime, expected_local: str
) -> None:
    result = next_fire_at(rule, now)
    assert result == expected
    assert_utc(result)
    assert result.astimezone(ZoneInfo(rule.zone)).isoformat() == expected_local
    # The day after, the wall-clock time exists again and is used as-is.
    following = next_fire_at(rule, result).astimezone(ZoneInfo(rule.zone))
    assert following.date() == result.astimezone(ZoneInfo(rule.zone)).date() + timedelta(days=1)
    assert following.time() == rule.local_time


@pytest.mark.parametrize(
    ("rule", "now", "first", "following", "gap"),
    [
        pytest.param(
            daily("Europe/Berlin", 2, 30),
            utc(2026, 10, 24, 12),
            utc(2026, 10, 25, 0, 30),  # 02:30 CEST, the first of two 02:30s
            utc(2026, 10, 26, 1, 30),  # 02:30 CET
            timedelta(hours=25),
            id="berlin-fall-back-0230",
        ),
        pytest.param(
            daily("Europe/Berlin", 2, 0),
            utc(2026, 10, 24, 12),
            utc(2026, 10, 25, 0, 0),
            utc(2026, 10, 26, 1, 0),
            timedelta(hours=25),
            id="berlin-fall-back-0200",
        ),
        pytest.param(
            daily("America/New_York", 1, 30),
            utc(2026, 10, 31, 12),
            utc(2026, 11, 1, 5, 30),  # 01:30 EDT
            utc(2026, 11, 2, 6, 30),  # 01:30 EST
            timedelta(hours=25),
            id="new-york-fall-back-0130",
        ),
        pytest.param(
            daily("Australia/Lord_Howe", 1, 45),
            utc(2026, 4, 4, 0),
            utc(2026, 4, 4, 14, 45),  # 01:45 +11
            utc(2026, 4, 5, 15, 15),  # 01:45 +10:30
            timedelta(hours=24, minutes=30),
            id="lord-howe-fall-back-0145-repeated-half-hour",
        ),
        pytest.param(
            daily("Pacific/Chatham", 3, 0),
            utc(2026, 4, 4, 0),
            utc(2026, 4, 4, 13, 15),  # 03:00 +13:45
            utc(2026, 4, 5, 14, 15),  # 03:00 +12:45
            timedelta(hours=25),
            id="chatham-fall-back-0300",
        ),
    ],
)
def test_fall_back_fires_once_at_first_occurrence(
    rule: Rule, now: datetime, first: datetime, following: datetime, gap: timedelta
) -> None:
    assert next_fire_at(rule, now) == first
    assert next_fire_at(rule, first) == following
    assert following - first == gap
    # Standing inside the repeated hour, after the first reading: no second fire today.
    second_reading = first + (gap - timedelta(hours=24))
    assert next_fire_at(rule, second_reading - timedelta(minutes=1)) == following
    assert next_fire_at(rule, first + timedelta(microseconds=1)) == following


@pytest.mark.parametrize(
    ("rule", "start"),
    [
        pytest.param(daily("Europe/Berlin", 2, 30), utc(2026, 3, 26), id="berlin-spring"),
        pytest.param(daily("Europe/Berlin", 2, 30), utc(2026, 10, 22), id="berlin-fall"),
        pytest.param(daily("America/New_York", 1, 30), utc(2026, 3, 5), id="new-york-spring"),
        pytest.param(daily("America/New_York", 1, 30), utc(2026, 10, 29), id="new-york-fall"),
        pytest.param(daily("America/New_York", 2, 30), utc(2026, 3, 5), id="new-york-spring-gap"),
        pytest.param(daily("Australia/Lord_Howe", 1, 45), utc(2026, 4, 2), id="lord-howe-fall"),
        pytest.param(daily("Australia/Lord_Howe", 2, 15), utc(2026, 10, 1), id="lord-howe-spring"),
        pytest.param(daily("Pacific/Chatham", 3, 0), utc(2026, 4, 2), id="chatham-fall"),
        pytest.param(daily("Pacific/Chatham", 3, 0), utc(2026, 9, 24), id="chatham-spring"),
        pytest.param(daily("Europe/Berlin", 0, 0), utc(2026, 10, 22), id="berlin-fall-midnight"),
    ],
)
def test_upcoming_across_dst_change_has_no_duplicates_and_no_missing_day(
    rule: Rule, start: datetime
) -> None:
    tz = ZoneInfo(rule.zone)
    fires = upcoming(rule, start, 8)
    assert len(fires) == 8
    assert all(timedelta(hours=22) <= b - a <= timedelta(hours=26) for a, b in pairwise(fires))
    dates = [f.astimezone(tz).date() for f in fires]
    assert dates == [dates[0] + timedelta(days=i) for i in range(8)]
    for fire in fires:
        assert_utc(fire)
        local = fire.astimezone(tz)
        assert local.fold == 0
        if local.time() != rule.local_time:  # only allowed on the spring-forward day
            assert (fire - timedelta(seconds=1)).astimezone(tz).utcoffset() != local.utcoffset()


@pytest.mark.parametrize(
    ("now", "berlin_fire", "new_york_fire"),
    [
        pytest.param(
            utc(2026, 6, 10, 18),  # 20:00 Berlin, before tonight's Berlin fire
            utc(2026, 6, 10, 19),
            utc(2026, 6, 11, 1),  # 21:00 EDT on 2026-06-10
            id="travel-before-tonights-fire",
        ),
        pytest.param(
            utc(2026, 6, 10, 19, 30),  # just after the Berlin fire, landing in New York
            utc(2026, 6, 11, 19),
            utc(2026, 6, 11, 1),
            id="travel-after-tonights-fire",
        ),
        pytest.param(
            utc(2026, 1, 10, 12),
            utc(2026, 1, 10, 20),
            utc(2026, 1, 11, 2),  # 21:00 EST
            id="travel-in-winter",
        ),
    ],
)
def test_moving_from_berlin_to_new_york_fires_at_the_same_local_time_there(
    now: datetime, berlin_fire: datetime, new_york_fire: datetime
) -> None:
    rule = daily("Europe/Berlin", 21)
    assert next_fire_at(rule, now) == berlin_fire
    moved = dataclasses.replace(rule, zone="America/New_York")
    fire = next_fire_at(moved, now)
    assert fire == new_york_fire
    local = fire.astimezone(ZoneInfo("America/New_York"))
    assert local.time() == time(21, 0)


def test_moving_back_from_new_york_fires_at_the_same_local_time_in_berlin() -> None:
    rule = daily("America/New_York", 21)
    now = utc(2026, 6, 10, 23)  # 19:00 New York, 01:00 next day in Berlin
    moved = dataclasses.replace(rule, zone="Europe/Berlin")
    assert next_fire_at(moved, now) == utc(2026, 6, 11, 19)


# =========================================================================== occurrence_window


@pytest.mark.parametrize(
    ("rule", "due_at", "expected_end"),
    [
        pytest.param(
            daily("Europe/Berlin", 21, window=30),
            utc(2026, 6, 1, 19),
            utc(2026, 6, 1, 19, 30),
            id="berlin-plain-30",
        ),
        pytest.param(
            daily("Europe/Berlin", 23, 45, window=30),
            utc(2026, 6, 1, 21, 45),
            utc(2026, 6, 1, 22, 15),
            id="berlin-crossing-midnight-30",
        ),
        pytest.param(
            daily("Europe/Berlin", 21, window=0),
            utc(2026, 6, 1, 19),
            utc(2026, 6, 1, 19),
            id="zero-window-is-exact",
        ),
        pytest.param(
            daily("Asia/Kathmandu", 21, window=180),
            utc(2026, 6, 1, 15, 15),
            utc(2026, 6, 1, 18, 15),
            id="kathmandu-max-window",
        ),
        # 01:45 CET + 30 wall minutes = 02:15, which does not exist -> 03:00 CEST.
        pytest.param(
            daily("Europe/Berlin", 1, 45, window=30),
            utc(2026, 3, 29, 0, 45),
            utc(2026, 3, 29, 1),
            id="berlin-window-straddles-spring-forward",
        ),
        # Start resolved to the gap end (03:00 CEST); the window runs 30 minutes from there.
        pytest.param(
            daily("Europe/Berlin", 2, 30, window=30),
            utc(2026, 3, 29, 1),
            utc(2026, 3, 29, 1, 30),
            id="berlin-window-starting-at-gap-end",
        ),
        # 02:45 CEST + 30 wall minutes = 03:15, which after fall-back is 03:15 CET.
        pytest.param(
            daily("Europe/Berlin", 2, 45, window=30),
            utc(2026, 10, 25, 0, 45),
            utc(2026, 10, 25, 2, 15),
            id="berlin-window-straddles-fall-back",
        ),
        pytest.param(
            daily("America/New_York", 1, 45, window=30),
            utc(2026, 11, 1, 5, 45),
            utc(2026, 11, 1, 7, 15),
            id="new-york-window-straddles-fall-back",
        ),
        pytest.param(
            daily("Australia/Lord_Howe", 1, 45, window=30),
            utc(2026, 10, 3, 15, 15),
            utc(2026, 10, 3, 15, 30),
            id="lord-howe-window-straddles-spring-forward",
        ),
        # A due time on the second pass of the repeated hour: the end is the second 02:40.
        pytest.param(
            daily("Europe/Berlin", 2, 10, window=30),
            utc(2026, 10, 25, 1, 10),
            utc(2026, 10, 25, 1, 40),
            id="berlin-window-from-second-pass-of-repeated-hour",
        ),
    ],
)
def test_an_occurrence_window_runs_from_the_due_time_to_its_local_end(
    rule: Rule, due_at: datetime, expected_end: datetime
) -> None:
    start, end = occurrence_window(rule, due_at)
    assert start == due_at
    assert end == expected_end
    assert_utc(start)
    assert_utc(end)
    assert start <= end


def test_a_window_due_at_a_gap_end_ends_window_minutes_of_local_time_later() -> None:
    rule = daily("Pacific/Chatham", 3, 0, window=30)
    due = next_fire_at(rule, utc(2026, 9, 26, 0))
    # Due at the gap end 03:45 +13:45; the window ends at 04:15 local.
    assert occurrence_window(rule, due) == (utc(2026, 9, 26, 14), utc(2026, 9, 26, 14, 30))


# =========================================================================== quiet_until

NIGHT = QuietHours(time(22, 30), time(7, 0))
AFTERNOON = QuietHours(time(13, 0), time(15, 0))
LATE = QuietHours(time(23, 0), time(2, 30))


@pytest.mark.parametrize(
    ("quiet", "zone", "instant", "expected"),
    [
        pytest.param(
            NIGHT,
            "Europe/Berlin",
            loc("Europe/Berlin", 2026, 6, 10, 23),
            utc(2026, 6, 11, 5),
            id="inside-evening-wraps-to-next-morning",
        ),
        pytest.param(
            NIGHT,
            "Europe/Berlin",
            loc("Europe/Berlin", 2026, 6, 11, 3),
            utc(2026, 6, 11, 5),
            id="inside-after-midnight",
        ),
        pytest.param(
            NIGHT,
            "Europe/Berlin",
            loc("Europe/Berlin", 2026, 6, 10, 12),
            None,
            id="outside-midday",
        ),
        pytest.param(
            NIGHT,
            "Europe/Berlin",
            loc("Europe/Berlin", 2026, 6, 10, 22, 29),
            None,
            id="outside-one-minute-before-start",
        ),
        pytest.param(
            NIGHT,
            "Europe/Berlin",
            loc("Europe/Berlin", 2026, 6, 10, 22, 30),
            utc(2026, 6, 11, 5),
            id="start-is-inclusive",
        ),
        pytest.param(
            NIGHT,
            "Europe/Berlin",
            loc("Europe/Berlin", 2026, 6, 11, 7),
            None,
            id="end-is-exclusive",
        ),
        pytest.param(
            NIGHT,
            "Europe/Berlin",
            utc(2026, 6, 11, 4, 59, 59, 999_999),
            utc(2026, 6, 11, 5),
            id="last-microsecond-before-end",
        ),
        pytest.param(
            AFTERNOON,
            "Europe/Berlin",
            loc("Europe/Berlin", 2026, 6, 10, 14),
            utc(2026, 6, 10, 13),
            id="non-wrapping-inside",
        ),
        pytest.param(
            AFTERNOON,
            "Europe/Berlin",
            loc("Europe/Berlin", 2026, 6, 10, 15),
            None,
            id="non-wrapping-at-end",
        ),
        pytest.param(
            AFTERNOON,
            "Europe/Berlin",
            loc("Europe/Berlin", 2026, 6, 10, 12, 59),
            None,
            id="non-wrapping-before-start",
        ),
        pytest.param(
            NIGHT,
            "Asia/Kathmandu",
            utc(2026, 6, 10, 20),
            utc(2026, 6, 11, 1, 15),
            id="kathmandu-instant-given-in-utc",
        ),
        pytest.param(
            NIGHT,
            "Europe/Berlin",
            utc(2026, 3, 28, 22),
            utc(2026, 3, 29, 5),
            id="spring-forward-night-ends-at-0700-cest",
        ),
        pytest.param(
            NIGHT,
            "Europe/Berlin",
            utc(2026, 10, 24, 21),
            utc(2026, 10, 25, 6),
            id="fall-back-night-ends-at-0700-cet",
        ),
        pytest.param(
            NIGHT,
            "Europe/Berlin",
            utc(2026, 10, 25, 1, 30),
            utc(2026, 10, 25, 6),
            id="fall-back-night-inside-repeated-hour",
        ),
        pytest.param(
            LATE,
            "Europe/Berlin",
            utc(2026, 3, 28, 22, 30),
            utc(2026, 3, 29, 1),
            id="end-0230-in-spring-gap-ends-at-gap-end",
        ),
        pytest.param(
            LATE,
            "Europe/Berlin",
            utc(2026, 3, 29, 1),
            None,
            id="at-spring-gap-end-is-outside",
        ),
        pytest.param(
            LATE,
            "Europe/Berlin",
            utc(2026, 10, 25, 0, 10),
            utc(2026, 10, 25, 0, 30),
            id="fall-back-first-pass-ends-at-first-0230",
        ),
        pytest.param(
            LATE,
            "Europe/Berlin",
            utc(2026, 10, 25, 0, 40),
            None,
            id="fall-back-between-passes-is-outside",
        ),
        pytest.param(
            LATE,
            "Europe/Berlin",
            utc(2026, 10, 25, 1, 10),
            utc(2026, 10, 25, 1, 30),
            id="fall-back-second-pass-ends-at-second-0230",
        ),
        pytest.param(
            QuietHours(time(2, 0), time(2, 30)),
            "Australia/Lord_Howe",
            utc(2026, 10, 3, 15, 20),  # 01:50 +10:30, the gap 02:00-02:30 follows
            None,
            id="lord-howe-quiet-hours-entirely-in-gap-never-apply",
        ),
    ],
)
def test_quiet_until_is_the_end_of_the_quiet_hours_an_instant_falls_in(
    quiet: QuietHours, zone: str, instant: datetime, expected: datetime | None
) -> None:
    result = quiet_until(quiet, zone, instant)
    assert result == expected
    if result is not None:
        assert_utc(result)
        assert result > instant
        assert quiet_until(quiet, zone, result) is None


# =========================================================================== validation


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param({"zone": "Mars/Olympus"}, "Unknown time zone", id="unknown-zone"),
        pytest.param({"zone": ""}, "Unknown time zone", id="empty-zone"),
        pytest.param({"zone": "America"}, "Unknown time zone", id="zone-is-a-directory"),
        pytest.param({"zone": "../etc/passwd"}, "Unknown time zone", id="zone-path-traversal"),
        pytest.param({"zone": "/etc/localtime"}, "Unknown time zone", id="zone-absolute-path"),
        pytest.param({"zone": "localtime"}, "Unknown time zone", id="zone-machine-localtime"),
        pytest.param({"zone": "x" * 10_000}, "Unknown time zone", id="zone-huge"),
        pytest.param({"zone": "Europe/Berlin\x00"}, "Unknown time zone", id="zone-nul"),
        pytest.param({"weekdays": frozenset()}, "at least one day", id="weekdays-empty"),
        pytest.param({"weekdays": frozenset({7})}, "0=Monday", id="weekday-7"),
        pytest.param({"weekdays": frozenset({-1})}, "0=Monday", id="weekday-negative"),
        pytest.param({"window_minutes": 181}, "between 0 and 180", id="window-too-long"),
        pytest.param({"window_minutes": -1}, "between 0 and 180", id="window-negative"),
        pytest.param({"local_time": time(21, 0, 30)}, "whole minute", id="time-with-seconds"),
        pytest.param({"local_time": time(21, 0, 0, 1)}, "whole minute", id="time-with-micros"),
        pytest.param({"local_time": time(21, tzinfo=UTC)}, "without tzinfo", id="time-with-tz"),
    ],
)
def test_rule_rejects_invalid_fields(kwargs: dict[str, object], message: str) -> None:
    fields: dict[str, object] = {
        "local_time": time(21),
        "weekdays": EVERY_DAY,
        "zone": "Europe/Berlin",
        "window_minutes": 0,
    }
    fields.update(kwargs)
    with pytest.raises(ValueError, match=message):
        Rule(**fields)  # type: ignore[arg-type]


def test_rule_accepts_edges_and_coerces_weekdays() -> None:
    rule = Rule(time(0, 0), {0, 6}, "UTC", 180)  # type: ignore[arg-type]
    assert rule.weekdays == frozenset({0, 6})
    assert isinstance(rule.weekdays, frozenset)
    assert hash(rule) == hash(Rule(time(0, 0), frozenset({6, 0}), "UTC", 180))


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda: next_fire_at(daily("UTC", 9), datetime(2026, 1, 1)), id="next"),
        pytest.param(lambda: upcoming(daily("UTC", 9), datetime(2026, 1, 1), 3), id="upcoming"),
        pytest.param(
            lambda: occurrence_window(daily("UTC", 9), datetime(2026, 1, 1, 9)), id="window"
        ),
        pytest.param(lambda: quiet_until(NIGHT, "UTC", datetime(2026, 1, 1, 23)), id="quiet"),
        pytest.param(lambda: quiet_until(NIGHT, "Nope/Nowhere", utc(2026, 1, 1)), id="quiet-zone"),
        pytest.param(lambda: upcoming(daily("UTC", 9), utc(2026, 1, 1), -1), id="count-negative"),
        pytest.param(
            lambda: upcoming(daily("UTC", 9), utc(2026, 1, 1), MAX_UPCOMING + 1), id="count-huge"
        ),
        pytest.param(lambda: QuietHours(time(22), time(22)), id="quiet-start-equals-end"),
        pytest.param(lambda: QuietHours(time(22, 0, 1), time(7)), id="quiet-with-seconds"),
    ],
)
def test_invalid_arguments_raise_value_error(call: Callable[[], object]) -> None:
    with pytest.raises(ValueError):
        call()


def test_upcoming_zero_is_empty() -> None:
    assert upcoming(daily("UTC", 9), utc(2026, 1, 1), 0) == []


# =========================================================================== parsers


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("21:00", time(21, 0), id="hh-mm"),
        pytest.param("9:05", time(9, 5), id="h-mm"),
        pytest.param("09:05", time(9, 5), id="zero-padded"),
        pytest.param("21.00", time(21, 0), id="dot-separator"),
        pytest.param(" 07:30 ", time(7, 30), id="surrounding-spaces"),
        pytest.param("\t07:30\n", time(7, 30), id="surrounding-whitespace"),
        pytest.param("0:00", time(0, 0), id="midnight"),
        pytest.param("23:59", time(23, 59), id="last-minute"),
        pytest.param("２１:００", time(21, 0), id="fullwidth-digits-normalised"),
        pytest.param("21：00", time(21, 0), id="fullwidth-colon-normalised"),
        pytest.param("\u200f21:00", time(21, 0), id="rtl-mark-ignored"),
        pytest.param("\u00a021:00\u00a0", time(21, 0), id="no-break-spaces"),
        pytest.param("9pm", time(21, 0), id="12-hour-9pm"),
        pytest.param("9 PM", time(21, 0), id="12-hour-spaced-upper"),
        pytest.param("9:30 pm", time(21, 30), id="12-hour-with-minutes"),
        pytest.param("9.30pm", time(21, 30), id="12-hour-dot"),
        pytest.param("7:30 a.m.", time(7, 30), id="12-hour-am-dotted"),
        pytest.param("12am", time(0, 0), id="12am-is-midnight"),
        pytest.param("12pm", time(12, 0), id="12pm-is-noon"),
    ],
)
def test_parse_hhmm_accepts_the_ways_people_write_a_time(text: str, expected: time) -> None:
    assert parse_hhmm(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("", "time_empty", id="empty"),
        pytest.param("   ", "time_empty", id="blank"),
        pytest.param("25:00", "time_hour_range", id="hour-25"),
        pytest.param("24:00", "time_midnight_24", id="hour-24"),
        pytest.param("123:00", "time_hour_range", id="hour-three-digits"),
        pytest.param("21:60", "time_minute_range", id="minute-60"),
        pytest.param("9:5", "time_minutes_two_digits", id="one-digit-minutes"),
        pytest.param("abc", "time_format", id="letters"),
        pytest.param("2100", "time_format", id="no-separator"),
        pytest.param("21", "time_format", id="hour-only"),
        pytest.param("21:00:00", "time_format", id="with-seconds"),
        pytest.param("-1:00", "time_format", id="negative"),
        pytest.param("+9:00", "time_format", id="plus-sign"),
        pytest.param("13pm", "time_twelve_hour_range", id="12-hour-13pm"),
        pytest.param("0am", "time_twelve_hour_range", id="12-hour-0am"),
        pytest.param("9:75pm", "time_minute_range", id="12-hour-minute-75"),
        pytest.param("1" * 10_000, "time_too_long", id="ten-thousand-digits"),
        pytest.param("x" * 10_000, "time_too_long", id="ten-thousand-letters"),
        pytest.param("שעה תשע", "time_format", id="right-to-left-text"),
        pytest.param("\u202e00:12", "invisible_characters", id="rtl-override-spoof"),
        pytest.param("٢١:٠٠", "time_digits", id="arabic-indic-digits"),
        pytest.param("⏰", "time_format", id="emoji"),
        pytest.param("2\u200d1:00", "invisible_characters", id="zero-width-joiner"),
        pytest.param("21:00\x00", "time_format", id="nul-byte"),
    ],
)
def test_parse_hhmm_rejects_with_a_code_the_templates_explain(text: str, message: str) -> None:
    with pytest.raises(InputError) as excinfo:
        parse_hhmm(text)
    assert excinfo.value.code == message
    assert excinfo.value.values == {}  # never echoes the input back


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("22:30-07:00", (time(22, 30), time(7, 0)), id="hyphen"),
        pytest.param("22:30 - 07:00", (time(22, 30), time(7, 0)), id="hyphen-spaces"),
        pytest.param("22:30–07:00", (time(22, 30), time(7, 0)), id="en-dash"),
        pytest.param(" 22:30 – 07:00 ", (time(22, 30), time(7, 0)), id="en-dash-spaces"),
        pytest.param("22:30—07:00", (time(22, 30), time(7, 0)), id="em-dash"),
        pytest.param("13:00-15:00", (time(13, 0), time(15, 0)), id="not-wrapping"),
        pytest.param("9.00-17.30", (time(9, 0), time(17, 30)), id="dots"),
    ],
)
def test_parse_time_range_accepts_any_dash_between_two_times(
    text: str, expected: tuple[time, time]
) -> None:
    assert parse_time_range(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("", "range_empty", id="empty"),
        pytest.param("22:30", "range_format", id="no-dash"),
        pytest.param("22:30 to 07:00", "range_format", id="word-separator"),
        pytest.param("22:30-", "range_end_missing", id="no-end"),
        pytest.param("-07:00", "range_end_missing", id="no-start"),
        pytest.param("22:30-07:00-08:00", "range_format", id="three-parts"),
        pytest.param("25:00-07:00", "range_end_invalid", id="bad-start"),
        pytest.param("22:30-07:61", "range_end_invalid", id="bad-end"),
        pytest.param("22:00-22:00", "range_same", id="start-equals-end"),
        pytest.param("1" * 10_000, "range_too_long", id="huge"),
        pytest.param("🌙-☀️", "range_end_invalid", id="emoji"),
    ],
)
def test_parse_time_range_rejects_with_a_code(text: str, message: str) -> None:
    with pytest.raises(InputError) as excinfo:
        parse_time_range(text)
    assert excinfo.value.code == message


def test_a_bad_end_of_a_range_says_which_end_and_why() -> None:
    with pytest.raises(InputError) as excinfo:
        parse_time_range("22:30-07:61")
    assert excinfo.value.values == {"end": "end", "reason": "time_minute_range"}


def test_a_range_may_use_the_twelve_hour_clock() -> None:
    assert parse_time_range("10pm-7am") == (time(22, 0), time(7, 0))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("mon", MON, id="mon"),
        pytest.param("Monday", MON, id="Monday"),
        pytest.param("MONDAY", MON, id="MONDAY"),
        pytest.param("tue", TUE, id="tue"),
        pytest.param("Tues", TUE, id="Tues"),
        pytest.param("wed", WED, id="wed"),
        pytest.param("Weds", WED, id="Weds"),
        pytest.param("thu", THU, id="thu"),
        pytest.param("Thurs", THU, id="Thurs"),
        pytest.param("fri", FRI, id="fri"),
        pytest.param("Saturday", SAT, id="Saturday"),
        pytest.param(" sun. ", SUN, id="sun-dot-spaces"),
        pytest.param("Su", SUN, id="two-letters"),
    ],
)
def test_parse_weekday_accepts_names_and_abbreviations(text: str, expected: int) -> None:
    assert parse_weekday(text) == expected


GERMAN = {
    "montag": MON, "dienstag": TUE, "mittwoch": WED, "donnerstag": THU,
    "freitag": FRI, "samstag": SAT, "sonntag": SUN,
}  # fmt: skip


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("Sonntag", SUN, id="Sonntag"),
        pytest.param("so", SUN, id="so"),
        pytest.param("Di.", TUE, id="Di-dot"),
        pytest.param("mi", WED, id="mi"),
        pytest.param("DO", THU, id="DO"),
        pytest.param("sun", SUN, id="english-still-works"),
    ],
)
def test_a_languages_own_day_names_are_understood(text: str, expected: int) -> None:
    assert parse_weekday(text, GERMAN) == expected


def test_a_day_name_of_another_language_is_not_understood_without_it() -> None:
    with pytest.raises(InputError):
        parse_weekday("Sonntag")


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param("s", id="ambiguous-s"),
        pytest.param("t", id="ambiguous-t"),
        pytest.param("mondays", id="plural"),
        pytest.param("funday", id="unknown"),
        pytest.param("1", id="number"),
        pytest.param("x" * 10_000, id="huge"),
        pytest.param("יום שני", id="right-to-left-text"),
        pytest.param("📅", id="emoji"),
    ],
)
def test_parse_weekday_rejects_with_a_code(text: str) -> None:
    with pytest.raises(InputError) as excinfo:
        parse_weekday(text)
    assert excinfo.value.code in ("day_empty", "day_unknown", "day_too_long")


# =========================================================================== properties

PROPERTY_ZONES = [
    "Europe/Berlin",
    "America/New_York",
    "America/Sao_Paulo",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "UTC",
    "Antarctica/Troll",  # two-hour jumps
    "America/Santiago",  # midnight transitions
    "Africa/Cairo",  # midnight spring-forward on a Friday
]
RANGE_START = utc(2020, 1, 1)
RANGE_END = utc(2035, 12, 31)


def _transitions(zone: str) -> list[datetime]:
    """UTC instants in [2020, 2036) where the zone's offset changes (daily scan + bisection)."""
    tz = ZoneInfo(zone)
    found: list[datetime] = []
    t = RANGE_START
    prev = t.astimezone(tz).utcoffset()
    while t < RANGE_END + timedelta(days=7):
        nxt = t + timedelta(days=1)
        offset = nxt.astimezone(tz).utcoffset()
        if offset != prev:
            lo, hi = int(t.timestamp()), int(nxt.timestamp())
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if datetime.fromtimestamp(mid, UTC).astimezone(tz).utcoffset() == prev:
                    lo = mid
                else:
                    hi = mid
            found.append(datetime.fromtimestamp(hi, UTC))
            prev = offset
        t = nxt
    return found


TRANSITIONS = {zone: _transitions(zone) for zone in PROPERTY_ZONES}


def _wall(instant: datetime, tz: ZoneInfo) -> datetime:
    return instant.astimezone(tz).replace(tzinfo=None, fold=0)


def _exists(day: date, t: time, tz: ZoneInfo) -> bool:
    naive = datetime.combine(day, t)
    return _wall(naive.replace(tzinfo=tz).astimezone(UTC), tz) == naive


def _oracle_occurrence(day: date, t: time, tz: ZoneInfo) -> datetime:
    """Independent, slow model of the contract: first reading, or walk minutes to the gap end."""
    naive = datetime.combine(day, t)
    if _exists(day, t, tz):
        return naive.replace(tzinfo=tz, fold=0).astimezone(UTC)
    probe = naive.replace(tzinfo=tz, fold=1).astimezone(UTC)  # an instant before the jump
    while _wall(probe, tz) < naive:
        probe += timedelta(minutes=1)
    return probe


def _oracle_next(rule: Rule, now: datetime) -> datetime:
    tz = ZoneInfo(rule.zone)
    today = now.astimezone(tz).date()
    candidates = [
        _oracle_occurrence(today + timedelta(days=i), rule.local_time, tz)
        for i in range(-2, 10)
        if (today + timedelta(days=i)).weekday() in rule.weekdays
    ]
    return min(c for c in candidates if c > now)


TRICKY_TIMES = [time(h, m) for h in (0, 1, 2, 3, 23) for m in (0, 15, 30, 45, 59)]
local_times = st.one_of(
    st.sampled_from(TRICKY_TIMES),
    st.builds(time, st.integers(0, 23), st.integers(0, 59)),
)
weekday_sets = st.one_of(st.just(EVERY_DAY), st.frozensets(st.integers(0, 6), min_size=1))
uniform_nows = st.datetimes(
    min_value=RANGE_START.replace(tzinfo=None),
    max_value=RANGE_END.replace(tzinfo=None),
    timezones=st.just(UTC),
)


@st.composite
def rules_and_nows(draw: st.DrawFn) -> tuple[Rule, datetime]:
    zone = draw(st.sampled_from(PROPERTY_ZONES))
    rule = Rule(draw(local_times), draw(weekday_sets), zone)
    transitions = TRANSITIONS[zone]
    near_transition = draw(st.booleans())
    if transitions and near_transition:
        # Half the examples start within a few days of one of the zone's transitions.
        anchor = draw(st.sampled_from(transitions))
        seconds = draw(st.integers(-4 * 86_400, 4 * 86_400))
        now = anchor + timedelta(seconds=seconds)
    else:
        now = draw(uniform_nows)
    return rule, now


PROPERTY_SETTINGS = settings(
    max_examples=400,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def test_transition_scan_found_the_2026_dates_the_examples_rely_on() -> None:
    berlin_2026 = [t for t in TRANSITIONS["Europe/Berlin"] if t.year == 2026]
    assert berlin_2026 == [utc(2026, 3, 29, 1), utc(2026, 10, 25, 1)]
    lord_howe_2026 = [t for t in TRANSITIONS["Australia/Lord_Howe"] if t.year == 2026]
    assert lord_howe_2026 == [utc(2026, 4, 4, 15), utc(2026, 10, 3, 15, 30)]
    chatham_2026 = [t for t in TRANSITIONS["Pacific/Chatham"] if t.year == 2026]
    assert chatham_2026 == [utc(2026, 4, 4, 14), utc(2026, 9, 26, 14)]
    assert TRANSITIONS["America/Sao_Paulo"] == []
    assert TRANSITIONS["Asia/Kathmandu"] == []


@pytest.mark.slow  # 400 examples: 2 to 5 s
@PROPERTY_SETTINGS
@given(rules_and_nows())
def test_next_fire_at_is_always_a_local_occurrence_within_eight_days(
    case: tuple[Rule, datetime],
) -> None:
    rule, now = case
    tz = ZoneInfo(rule.zone)
    fire = next_fire_at(rule, now)

    assert_utc(fire)
    assert now < fire <= now + timedelta(days=8)
    assert fire == _oracle_next(rule, now)

    local = fire.astimezone(tz)
    assert local.weekday() in rule.weekdays
    assert local.fold == 0  # never the second reading of a repeated time
    if local.time() != rule.local_time:
        # Only when the wall-clock time does not exist that day, and then at the gap end.
        assert not _exists(local.date(), rule.local_time, tz)
        just_before = fire - timedelta(seconds=1)
        assert just_before.astimezone(tz).utcoffset() != local.utcoffset()
        wanted = datetime.combine(local.date(), rule.local_time)
        assert _wall(just_before, tz) < wanted < _wall(fire, tz)


@pytest.mark.slow  # 400 examples: 2 to 5 s
@PROPERTY_SETTINGS
@given(rules_and_nows(), st.integers(1, 10))
def test_upcoming_always_lists_each_matching_day_once_in_order(
    case: tuple[Rule, datetime], count: int
) -> None:
    rule, now = case
    tz = ZoneInfo(rule.zone)
    fires = upcoming(rule, now, count)

    assert len(fires) == count
    assert fires[0] == next_fire_at(rule, now)
    assert all(a < b for a, b in pairwise(fires))
    dates = [f.astimezone(tz).date() for f in fires]
    assert len(set(dates)) == len(dates)
    # No missing day: exactly the consecutive rule days starting at the first one.
    expected_dates: list[date] = []
    day = dates[0]
    while len(expected_dates) < count:
        if day.weekday() in rule.weekdays:
            expected_dates.append(day)
        day += timedelta(days=1)
    assert dates == expected_dates


@pytest.mark.slow  # 400 examples: 2 to 5 s
@PROPERTY_SETTINGS
@given(
    rules_and_nows(),
    st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45])),
    st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45])),
)
def test_quiet_until_answers_exactly_inside_the_quiet_hours(
    case: tuple[Rule, datetime], start: time, end: time
) -> None:
    rule, instant = case
    if start == end:
        return
    quiet = QuietHours(start, end)
    tz = ZoneInfo(rule.zone)
    wall = _wall(instant, tz).time()
    inside = (start <= wall < end) if start < end else (wall >= start or wall < end)
    result = quiet_until(quiet, rule.zone, instant)
    assert (result is not None) == inside
    if result is not None:
        assert_utc(result)
        assert instant < result <= instant + timedelta(hours=27)
        result_wall = _wall(result, tz).time()
        if result_wall != end:  # the end fell into a gap: result is the jump
            before = result - timedelta(seconds=1)
            assert before.astimezone(tz).utcoffset() != result.astimezone(tz).utcoffset()


@pytest.mark.slow  # 400 examples: 2 to 5 s
@PROPERTY_SETTINGS
@given(rules_and_nows(), st.integers(0, 180))
def test_an_occurrence_window_is_never_longer_than_its_minutes_and_a_dst_jump(
    case: tuple[Rule, datetime], window: int
) -> None:
    rule, now = case
    rule = dataclasses.replace(rule, window_minutes=window)
    due = next_fire_at(rule, now)
    start, end = occurrence_window(rule, due)
    assert start == due
    assert start <= end <= start + timedelta(minutes=window, hours=2)
    if window == 0:
        assert end == start
    else:
        assert end > start
