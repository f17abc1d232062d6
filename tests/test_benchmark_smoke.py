"""The benchmarks still run: `python -m benchmarks --quick`, end to end, not a timed test.

The figures are for people (benchmarks/README.md). This checks what could break without
anyone noticing: every scenario prints its table with every column and every peer, the
crash scenario finds no duplicate and loses nothing, and nothing is asserted about speed.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

# The module's one benchmark run may take up to its own 600 s limit on a busy machine.
pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(660)]

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def output(tmp_path_factory: pytest.TempPathFactory) -> str:
    work = tmp_path_factory.mktemp("bench")
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--keep", str(work)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


def section(output: str, title: str) -> str:
    """The text of one table, from its `== title` line to the next table."""
    start = output.index(f"== {title}")
    following = output.find("\n== ", start + 1)
    return output[start : following if following != -1 else len(output)]


def row(table: str, label: str) -> list[str]:
    """The cells of the row that starts with `label`."""
    for line in table.splitlines():
        cells = [cell.strip() for cell in line.split("|")]
        if cells[0] == label:
            return cells
    raise AssertionError(f"no row {label!r} in:\n{table}")


def test_the_header_names_the_machine_and_its_load(output: str) -> None:
    assert "load average (1/5/15 min) at start: " in output
    assert re.search(r"load average at the end: [\d.]+/[\d.]+/[\d.]+", output)
    assert "python-telegram-bot" in output


def test_throughput_puts_every_peer_side_by_side_against_raw_aiohttp(output: str) -> None:
    table = section(output, "1. Throughput")
    header = row(table, "peer")
    assert header == [
        "peer",
        "msgs/s min",
        "msgs/s median",
        "x raw aiohttp",
        "sent/asked",
        "dropped/failed",
        "fake CPU",
        "load 1-min",
    ]
    for peer in ("full path", "PTB, aiohttp request", "bare PTB loop", "raw aiohttp"):
        cells = row(table, peer)
        assert cells[4] == "600/600", cells  # 300 messages x 2 repeats, all accepted
        assert re.fullmatch(r"\d+\.\d\dx", cells[3]), cells
    assert row(table, "raw aiohttp")[3] == "1.00x"
    jobs = row(table, "JobQueue per person")
    sent, asked = (int(n.replace(",", "")) for n in jobs[4].split("/"))
    dropped, failed = (int(n.replace(",", "")) for n in jobs[5].split(" ")[0].split("/"))
    assert asked == 600 and sent + dropped + failed <= asked
    assert "target: full path >= 1.0x the bare PTB loop" in table


def test_the_burst_answers_every_help_and_reports_its_minutes(output: str) -> None:
    table = section(output, "2. Burst at the limit")
    asked, answered = row(table, "/help asked / answered")[1].split(" / ")
    assert int(asked) > 0 and answered == asked
    assert re.fullmatch(
        r"[\d.,]+ / [\d.,]+ / [\d.,]+", row(table, "/help reply latency p50 / p99 / max (ms)")[1]
    )
    assert re.fullmatch(r"[\d.,]+ / [\d.,]+", row(table, "event-loop stall max / p99 (ms)")[1])
    assert row(table, "deliveries by status")[1] == "sent 300"
    assert row(table, "429 answers from the fake (to /help replies)")[1]
    minutes = section(output, "2b. Send rate per minute")
    assert row(minutes, "minute") == [
        "minute",
        "nudges",
        "/help replies",
        "nudges/s",
        "all/s",
        "all, share of 30/s",
    ]
    assert row(minutes, "1 (partial)")[1] == "300"


def test_fairness_counts_who_missed_both_nights_for_each_peer(output: str) -> None:
    table = section(output, "3. Two nights at 200% of capacity")
    assert "both / by chance" in row(table, "peer")
    for peer in ("ours (claim path)", "ours, one claim batch of 584", "claim order (old Limits)"):
        cells = row(table, peer)
        assert cells[1] == "584/584", cells
    fixed = row(table, "claim order (old Limits)")
    assert fixed[2] == fixed[3] == fixed[4], "a fixed order misses the same people twice"


def test_crashes_never_duplicate_or_lose_a_nudge(output: str) -> None:
    table = section(output, "4. Crash")
    assert "SIGKILL of `nudgebot run` 3 times" in table
    assert row(table, "duplicates (a person got two)")[1:] == ["0", "0", "yes"]
    assert row(table, "lost (nothing arrived, not ambiguous)")[1:] == ["0", "0", "yes"]
    assert row(table, "deliveries by status")[3] == "yes"  # every person has one delivery
    per_kill = section(output, "4b. Per kill")
    assert row(per_kill, "requests in flight at the kill")
    assert row(per_kill, "of which never crossed the wire")


def test_slots_are_timed_for_every_size_and_column(output: str) -> None:
    table = section(output, "5. Claim-time slots")
    assert row(table, "due at once")[1:5] == ["old", "reserve", "assign", "batches"]
    for size in ("1,000", "5,000"):
        cells = row(table, size)
        assert all(re.fullmatch(r"[\d.]+ / [\d.]+", c) for c in cells[1:5]), cells


def test_claim_cost_is_timed_for_every_size(output: str) -> None:
    table = section(output, "6. Claim cost")
    assert row(table, "due at once")[1:4] == ["claimed", "total s", "µs per nudge"]
    for size in ("500", "2,000"):
        assert row(table, size)[1] == size  # every due schedule was claimed
    assert "target: flat within 2x" in table


def test_the_checks_are_timed_beside_vader_for_every_message(output: str) -> None:
    table = section(output, "7. Tone and safety checks")
    assert row(table, "message")[2:6] == ["vader", "patterns", "classifier", "both checks"]
    timed = r"[\d.]+ / [\d.]+"
    for label in ("one line, en", "letter, en", "4,096 characters, en"):
        cells = row(table, label)
        assert all(re.fullmatch(timed, c) for c in cells[2:6]), cells
    assert row(table, "letter, de")[2] == "n/a"  # VADER reads English only
    assert row(table, "200 KB paste, en")[2] == "(quadratic)"
    assert re.fullmatch(timed, row(table, "200 KB paste, en")[5])
    assert re.fullmatch(timed, row(table, "load both models (s)")[5])
