"""A plan's phases as pure rules: how often a practice runs, for whom, in which weeks, and
when a phase notice may reach a partner (`scheduler.phases`)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from scheduler import phases
from scheduler.rules import EVERY_DAY, QuietHours
from storage.models import NIGHTLY_APPRECIATION, TIMING_TIP, WEEKLY_CHECKIN

NIGHT = QuietHours(dt.time(21, 30), dt.time(8, 0))


def test_a_phase_keeps_its_frequency_and_partner_in_the_rule_forms() -> None:
    clean = phases.clean_phases(
        [
            {
                "kind": NIGHTLY_APPRECIATION,
                "from_week": "1",
                "to_week": 2,
                "partner": "b",
                "days": ["4", 0, 2, 2],
            },
            {"kind": NIGHTLY_APPRECIATION, "from_week": 3, "to_week": 8},
            {"kind": WEEKLY_CHECKIN, "from_week": 3, "every_weeks": 2},
            {"kind": TIMING_TIP, "from_week": 5, "per_week": 3, "partner": None},
        ]
    )

    assert clean == [
        {
            "kind": NIGHTLY_APPRECIATION,
            "from_week": 1,
            "to_week": 2,
            "partner": "b",
            "days": [0, 2, 4],
        },
        {"kind": NIGHTLY_APPRECIATION, "from_week": 3, "to_week": 8},
        {"kind": WEEKLY_CHECKIN, "from_week": 3, "every_weeks": 2},
        {"kind": TIMING_TIP, "from_week": 5, "per_week": 3},
    ]
    assert phases.frequency(clean[0]) == phases.Frequency(days=frozenset({0, 2, 4}))
    assert phases.frequency(clean[1]).days == EVERY_DAY
    assert phases.frequency(clean[3]).per_week == 3


def test_a_weekly_check_in_is_stored_without_a_frequency() -> None:
    step = phases.clean_phase({"kind": WEEKLY_CHECKIN, "from_week": 1, "every_weeks": 1})
    assert step == {"kind": WEEKLY_CHECKIN, "from_week": 1}


@pytest.mark.parametrize(
    ("step", "code"),
    [
        ({"kind": "journal", "from_week": 1}, "step"),
        ({"kind": NIGHTLY_APPRECIATION, "from_week": 0}, "step"),
        ({"kind": NIGHTLY_APPRECIATION, "from_week": "soon"}, "step"),
        ({"kind": NIGHTLY_APPRECIATION, "from_week": 3, "to_week": 2}, "step_end"),
        ({"kind": NIGHTLY_APPRECIATION, "from_week": 1, "days": []}, "step_days"),
        ({"kind": NIGHTLY_APPRECIATION, "from_week": 1, "days": [7]}, "step_days"),
        ({"kind": NIGHTLY_APPRECIATION, "from_week": 1, "days": "0,2"}, "step_days"),
        ({"kind": WEEKLY_CHECKIN, "from_week": 1, "every_weeks": 3}, "step_every"),
        ({"kind": TIMING_TIP, "from_week": 1, "per_week": 5}, "step_per_week"),
        ({"kind": TIMING_TIP, "from_week": 1, "per_week": True}, "step_per_week"),
        ({"kind": WEEKLY_CHECKIN, "from_week": 1, "days": [0]}, "step_frequency"),
        ({"kind": NIGHTLY_APPRECIATION, "from_week": 1, "partner": "c"}, "step_partner"),
        ({"kind": WEEKLY_CHECKIN, "from_week": 1, "partner": "a"}, "step_partner_checkin"),
    ],
    ids=[
        "unknown-practice",
        "week-0",
        "week-not-a-number",
        "ends-before-it-starts",
        "no-nightly-days",
        "day-8",
        "days-as-text",
        "check-in-every-third-week",
        "five-tips",
        "tips-true",
        "days-for-the-check-in",
        "a-third-partner",
        "check-in-for-one",
    ],
)
def test_a_phase_that_cannot_be_used_says_why_with_a_code(step: dict[str, Any], code: str) -> None:
    with pytest.raises(phases.PhaseError) as refused:
        phases.clean_phases([step])
    assert refused.value.reason == code


def test_two_phases_of_a_practice_for_the_same_partner_may_not_share_a_week() -> None:
    jonas_first = {"kind": NIGHTLY_APPRECIATION, "from_week": 1, "to_week": 2, "partner": "b"}
    maya_first = {"kind": NIGHTLY_APPRECIATION, "from_week": 1, "to_week": 4, "partner": "a"}
    both_later = {"kind": NIGHTLY_APPRECIATION, "from_week": 3}
    assert len(phases.clean_phases([jonas_first, maya_first])) == 2
    assert len(phases.clean_phases([jonas_first, both_later])) == 2
    with pytest.raises(phases.PhaseError) as refused:
        phases.clean_phases([jonas_first, maya_first, both_later])
    assert refused.value.reason == "step_overlap"


def test_a_phase_for_one_partner_reaches_only_them() -> None:
    plan = [{"kind": NIGHTLY_APPRECIATION, "from_week": 1, "to_week": 2, "partner": "b"}]
    assert phases.phase_now(plan, NIGHTLY_APPRECIATION, 1, "b") is plan[0]
    assert phases.phase_now(plan, NIGHTLY_APPRECIATION, 1, "a") is None
    assert phases.phase_now(plan, NIGHTLY_APPRECIATION, 1, None) is None
    assert phases.phase_now(plan, NIGHTLY_APPRECIATION, 3, "b") is None


def test_a_check_in_every_other_week_has_its_turn_from_its_first_week_and_ends_after_its_last() -> (
    None
):
    step = {"kind": WEEKLY_CHECKIN, "from_week": 3, "to_week": 8, "every_weeks": 2}
    assert [w for w in range(1, 11) if phases.has_turn(step, w)] == [3, 5, 7]
    assert [w for w in range(1, 11) if phases.runs(step, w)] == [3, 4, 5, 6, 7]
    weekly = {"kind": WEEKLY_CHECKIN, "from_week": 3}
    assert [w for w in range(1, 7) if phases.has_turn(weekly, w)] == [3, 4, 5, 6]


def _local(zone: str, *args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=ZoneInfo(zone)).astimezone(dt.UTC)


@pytest.mark.parametrize(
    ("zone", "now", "quiet", "expected"),
    [
        ("Europe/Berlin", (2026, 11, 30, 15, 0), None, (2026, 11, 30, 15, 0)),
        ("Europe/Berlin", (2026, 11, 30, 2, 0), None, (2026, 11, 30, 8, 0)),
        ("Europe/Berlin", (2026, 11, 29, 23, 0), None, (2026, 11, 30, 8, 0)),
        ("Asia/Singapore", (2026, 11, 30, 7, 59), None, (2026, 11, 30, 8, 0)),
        ("America/New_York", (2026, 11, 30, 8, 30), (8, 0, 10, 0), (2026, 11, 30, 10, 0)),
        ("UTC", (2026, 11, 30, 6, 0), (20, 0, 9, 30), (2026, 11, 30, 9, 30)),
        ("Australia/Lord_Howe", (2026, 11, 30, 21, 45), (12, 0, 13, 0), (2026, 12, 1, 8, 0)),
        ("Europe/Berlin", (2026, 3, 29, 1, 0), (7, 30, 8, 30), (2026, 3, 29, 8, 30)),
    ],
    ids=[
        "afternoon-goes-now",
        "night-waits-for-morning",
        "late-evening-waits-for-morning",
        "a-minute-before-morning",
        "own-quiet-hours-in-the-morning",
        "quiet-hours-longer-than-the-night",
        "lord-howe-half-hour-dst",
        "spring-forward-night-then-quiet-morning",
    ],
)
def test_a_phase_notice_waits_for_a_sensible_hour_in_the_partners_zone(
    zone: str,
    now: tuple[int, ...],
    quiet: tuple[int, int, int, int] | None,
    expected: tuple[int, ...],
) -> None:
    hours = None
    if quiet is not None:
        hours = QuietHours(dt.time(quiet[0], quiet[1]), dt.time(quiet[2], quiet[3]))

    at = phases.sensible_hour(_local(zone, *now), zone, quiet=hours, night=NIGHT)

    assert at == _local(zone, *expected)


def test_a_phase_notice_waits_for_the_end_of_a_pause_and_then_for_the_morning() -> None:
    now = _local("Europe/Berlin", 2026, 11, 30, 12, 0)
    until = _local("Europe/Berlin", 2026, 12, 3, 23, 0)

    at = phases.sensible_hour(now, "Europe/Berlin", quiet=None, night=NIGHT, paused_until=until)

    assert at == _local("Europe/Berlin", 2026, 12, 4, 8, 0)


def test_a_phase_keeps_its_own_wording_and_refuses_one_that_is_not_text() -> None:
    step = phases.clean_phase(
        {"kind": TIMING_TIP, "from_week": 1, "wording": "Hi {{ first_name }}"}
    )
    assert step["wording"] == "Hi {{ first_name }}"
    assert phases.wording(step, "Couple's") == "Hi {{ first_name }}"
    assert phases.wording({"kind": TIMING_TIP, "from_week": 1}, "Couple's") == "Couple's"
    assert phases.wording(None, None) is None
    assert "wording" not in phases.clean_phase({"kind": TIMING_TIP, "from_week": 1, "wording": " "})
    for bad in (["Hi"], "x" * (phases.MAX_WORDING + 1)):
        with pytest.raises(phases.PhaseError) as refused:
            phases.clean_phase({"kind": TIMING_TIP, "from_week": 1, "wording": bad})
        assert refused.value.reason == "step_wording"
