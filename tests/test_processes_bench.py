"""The many-process benchmark runs end to end at its smallest size (never timed here)."""

from __future__ import annotations

import re

import pytest

from benchmarks import processes


@pytest.mark.slow
def test_the_many_process_benchmark_runs_and_reports_every_column(
    capsys: pytest.CaptureFixture[str],
) -> None:
    processes.main(["--quick"])
    out = capsys.readouterr().out
    assert "load average" in out
    free, limited_part = out.split("Three processes under Telegram's limit")
    rows = re.findall(r"^\s+([123])\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+(\d+)$", free, re.M)
    assert [r[0] for r in rows] == ["1", "2", "3"]
    assert all(int(r[4]) == 150 for r in rows)  # every nudge sent, in every run
    [limited] = re.findall(r"^\s+1\s+([\d.]+)\s+(\d+)\s+(\d+)\s+(\d+)$", limited_part, re.M)
    rate, busiest, too_many, sent = (
        float(limited[0]),
        int(limited[1]),
        int(limited[2]),
        int(limited[3]),
    )
    assert (sent, too_many) == (90, 0)
    assert busiest <= 30  # the shared budget held across three processes
    assert rate <= 30.0
