"""What the pages say, as pure functions: previews, plan wording, the chart, sessions."""

from __future__ import annotations

import datetime as dt

import pytest

from dashboard.sessions import DashboardSession
from dashboard.views import (
    adherence_chart,
    couple_name,
    partner_preview,
    plan_summary,
    schedule_values,
)
from scheduler.therapy import CoupleCard, PartnerCard
from storage.therapists import DEFAULT_CONFIG, WeekCounts

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)


def _utc(day: int, hour: int) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, 0, tzinfo=dt.UTC)


def _partner(**overrides: object) -> PartnerCard:
    values: dict[str, object] = {
        "person_id": 7,
        "name": "Maya",
        "zone": "Europe/Berlin",
        "consented": True,
        "paused": False,
        # Mon 23 Nov 21:00 and Tue 24 Nov 21:00, Sun 29 Nov 19:00 in Berlin.
        "next_at": {
            "nightly_appreciation": (_utc(23, 20), _utc(24, 20)),
            "weekly_checkin": (_utc(29, 18),),
        },
    }
    values.update(overrides)
    return PartnerCard(**values)  # type: ignore[arg-type]


def _card(**overrides: object) -> CoupleCard:
    values: dict[str, object] = {
        "couple_id": 1,
        "link_id": 1,
        "partners": (_partner(),),
        "plan": [],
        "plan_starts_on": None,
        "config": dict(DEFAULT_CONFIG),
        "checkins_completed": 0,
    }
    values.update(overrides)
    return CoupleCard(**values)  # type: ignore[arg-type]


def test_the_preview_names_each_kind_with_the_next_two_times_in_the_partners_zone() -> None:
    assert partner_preview(_partner()) == (
        "Maya (Europe/Berlin time): nightly appreciation next on Mon 23 Nov at 21:00, "
        "then Tue 24 Nov at 21:00; weekly check-in next on Sun 29 Nov at 19:00."
    )


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"consented": False}, "A partner who has not agreed (yet): nothing you set reaches"),
        ({"next_at": {}}, "Nothing is scheduled for Maya at the moment."),
        ({"paused": True}, "Maya has paused the bot, so nothing reaches them"),
    ],
    ids=["not-agreed", "nothing", "paused"],
)
def test_the_preview_says_plainly_when_nothing_will_arrive(
    overrides: dict[str, object], expected: str
) -> None:
    assert expected in partner_preview(_partner(**overrides))


def test_the_schedule_form_is_filled_from_the_config_and_overrides() -> None:
    config = {**DEFAULT_CONFIG, "overrides": {"7": "22:15"}, "paused": True}
    values = schedule_values(_card(config=config))
    assert values["nightly_time"] == "21:00"
    assert values["checkin_day"] == "6"
    assert values["override_7"] == "22:15"
    assert values["paused"] == "on"


@pytest.mark.parametrize(
    ("starts_on", "expected"),
    [
        (dt.date(2026, 11, 30), "The plan starts on Mon, 30 Nov 2026."),
        (dt.date(2026, 11, 23), "Started on Mon, 23 Nov 2026; this is week 1."),
        (dt.date(2026, 11, 2), "Started on Mon, 2 Nov 2026; this is week 4."),
    ],
    ids=["starts-next-week", "started-this-week", "started-three-weeks-ago"],
)
def test_the_plan_says_where_the_couple_is_in_it(starts_on: dt.date, expected: str) -> None:
    plan = [
        {"kind": "weekly_checkin", "from_week": 3},
        {"kind": "nightly_appreciation", "from_week": 1},
    ]
    lines = plan_summary(_card(plan=plan, plan_starts_on=starts_on), NOW.date())
    assert lines == [
        "Nightly appreciation from week 1.",
        "Weekly check-in from week 3.",
        expected,
    ]


def test_without_a_plan_every_practice_runs() -> None:
    assert plan_summary(_card(), NOW.date())[0].startswith("No plan: every practice runs")


def test_the_chart_scales_bars_to_the_busiest_week() -> None:
    weeks = [
        WeekCounts(dt.date(2026, 11, 9), 10, 2, 1),
        WeekCounts(dt.date(2026, 11, 16), 5, 0, 0),
    ]
    chart = adherence_chart(weeks, width=200, height=100)

    assert chart.max_value == 10
    assert len(chart.bars) == 6
    tallest = chart.bars[0]
    assert tallest.y == chart.top
    assert tallest.height == chart.baseline - chart.top
    assert chart.bars[3].height == pytest.approx(tallest.height / 2, abs=0.1)
    assert chart.bars[4].height == 0
    assert [label.text for label in chart.labels] == ["9 Nov", "16 Nov"]
    assert all(bar.x >= 0 and bar.x + bar.width <= 200 for bar in chart.bars)
    assert chart.summary == "Over 2 weeks: 15 nudges delivered, 2 snoozed, 1 check-in done."


def test_an_empty_chart_has_no_bars_and_does_not_divide_by_zero() -> None:
    chart = adherence_chart([WeekCounts(dt.date(2026, 11, 16), 1, 0, 0)])
    assert [bar.height for bar in chart.bars][1:] == [0, 0]
    assert chart.summary == "Over 1 week: 1 nudge delivered, 0 snoozed, 0 check-ins done."
    empty = adherence_chart([WeekCounts(dt.date(2026, 11, 16), 0, 0, 0)])
    assert {bar.height for bar in empty.bars} == {0}


@pytest.mark.parametrize(
    "submitted",
    [None, "", "x", "é" * 43, "token "],
    ids=["missing", "empty", "one-character", "43-non-ascii-characters", "a-trailing-space"],
)
def test_a_csrf_token_must_match_exactly(submitted: str | None) -> None:
    session = DashboardSession(1, "token", NOW)
    assert not session.csrf_matches(submitted)
    assert session.csrf_matches("token")


def test_a_partner_who_has_not_agreed_is_shown_without_name_zone_pause_or_times() -> None:
    # Even if a card carried them, no page wording lets them through.
    unagreed = _partner(consented=False, paused=True)
    text = partner_preview(unagreed) + couple_name(_card(partners=(unagreed,)))
    for detail in ("Maya", "Europe/Berlin", "paused", "21:00"):
        assert detail not in text
    assert "override_7" not in schedule_values(_card(partners=(unagreed,)))


def test_a_practice_a_partner_turned_off_says_who_turned_it_off() -> None:
    maya = _partner(next_at={}, turned_off={"nightly_appreciation": "Maya"})
    assert "Nightly appreciation turned off by Maya." in partner_preview(maya)
