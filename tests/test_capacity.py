"""Capacity planning: the busiest minutes ahead, as pure arithmetic."""

from __future__ import annotations

import datetime as dt

from click.testing import CliRunner

from bot.cli import main
from scheduler.capacity import Due, busiest, occurrences
from scheduler.rules import EVERY_DAY, Rule

NINE = dt.datetime(2026, 12, 2, 21, 0, tzinfo=dt.UTC)


def crowd(count: int, grace: float = 0.0, minute: dt.datetime = NINE) -> list[Due]:
    latest = minute + dt.timedelta(seconds=60 + grace)
    return [Due(minute, latest) for _ in range(count)]


def test_a_minute_within_the_limit_is_not_busy() -> None:
    assert busiest(crowd(1000), per_second=30) == []


def test_a_crowded_minute_reports_lateness_misses_and_the_window_that_fixes_it() -> None:
    [busy] = busiest(crowd(3000), per_second=30)
    assert (busy.due, busy.limit) == (3000, 1745)  # 30/s with the 3% margin, per minute
    assert busy.misses == 3000 - 1746  # the first 1746 leave by the minute's end (inclusive)
    assert busy.window_needed == 2
    assert 40 < busy.late_seconds < 45  # 3000 at 29.1/s end ~43 s after the minute


def test_grace_turns_lateness_into_no_misses() -> None:
    [busy] = busiest(crowd(3000, grace=3600), per_second=30)
    assert busy.misses == 0


def test_a_backlog_carries_into_the_next_minute() -> None:
    following = NINE + dt.timedelta(minutes=1)
    busy = busiest(crowd(3000) + crowd(1000, minute=following), per_second=30)
    assert {b.minute for b in busy} == {NINE, following}  # 1000 alone would fit


def test_occurrences_follow_each_rule_through_the_hours_asked() -> None:
    rule = Rule(local_time=dt.time(22, 0), weekdays=EVERY_DAY, zone="Europe/Berlin")
    found = occurrences([(rule, NINE, 0.0)], NINE, hours=48)
    assert [d.at for d in found] == [NINE, NINE + dt.timedelta(days=1)]


def test_the_capacity_command_prints_the_busy_minutes(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/c.db")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawQ")
    runner = CliRunner()
    seeded = runner.invoke(
        main, ["seed", "--people", "2000", "--first-chat-id", "100000", "--nightly-in", "30"]
    )
    assert seeded.exit_code == 0, seeded.output
    result = runner.invoke(main, ["capacity", "--json"])
    assert result.exit_code == 0, result.output
    assert '"due": 2000' in result.output
    assert '"window_needed_minutes": 2' in result.output
