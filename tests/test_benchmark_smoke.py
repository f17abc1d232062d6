"""The scheduler benchmark still runs: a quick smoke run, not a timed test.

The figures are for people (docs/benchmarks.md); this only checks that the script
works end to end and reports every figure, so it cannot rot unnoticed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

REPO = Path(__file__).resolve().parent.parent


def test_the_benchmark_runs_and_reports_every_figure(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.scheduler_bench", "--quick", "--json", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    for figure in ("start-up", "RSS", "Idle tick", "Full path", "At the limit", "JobQueue"):
        assert figure in result.stdout
    report = json.loads(out.read_text())
    assert report["figures"], "no figures in the JSON report"
