"""Tables, percentiles, the machine's load: how every scenario prints what it measured.

The house rule for figures: peers side by side in one run, repeated, min and median,
the load average beside each, ratios rather than absolute numbers (the machine is
shared). Everything here is standard library.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import importlib.metadata
import math
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def load() -> str:
    """The 1/5/15-minute load averages, as printed beside each figure."""
    return "/".join(f"{value:.1f}" for value in os.getloadavg())


def timed(run: Callable[[], object], repeats: int) -> list[float]:
    """Seconds each of `repeats` runs of `run` took, the garbage collector off while timing."""
    took = []
    for _ in range(repeats):
        gc.collect()
        gc.disable()
        try:
            started = time.perf_counter()
            run()
            took.append(time.perf_counter() - started)
        finally:
            gc.enable()
    return took


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100), linearly interpolated; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else math.nan


def number(value: float | int | None, digits: int | None = None) -> str:
    """A figure for a table cell: thousands separated, precision by magnitude."""
    if value is None:
        return "-"
    if isinstance(value, float) and math.isnan(value):
        return "n/a"
    if isinstance(value, int):
        return f"{value:,}"
    if digits is None:
        size = abs(value)
        digits = 0 if size >= 100 else 1 if size >= 10 else 2 if size >= 0.1 else 3
    return f"{value:,.{digits}f}"


def ratio(value: float, reference: float) -> str:
    """`value / reference` as "0.61x"; n/a when either is missing."""
    if not reference or math.isnan(reference) or math.isnan(value):
        return "n/a"
    return f"{value / reference:.2f}x"


@dataclass
class Table:
    """A plain-text table: a title, columns, rows and notes below it."""

    title: str
    columns: Sequence[str]
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, *cells: object) -> None:
        if len(cells) != len(self.columns):
            raise ValueError(f"{len(cells)} cells for {len(self.columns)} columns")
        self.rows.append([str(cell) for cell in cells])

    def render(self) -> str:
        widths = [
            max(len(column), *(len(row[i]) for row in self.rows)) if self.rows else len(column)
            for i, column in enumerate(self.columns)
        ]
        lines = [f"== {self.title}", ""]
        lines.append(" | ".join(c.ljust(w) for c, w in zip(self.columns, widths, strict=True)))
        lines.append("-|-".join("-" * w for w in widths))
        for row in self.rows:
            cells = [
                cell.rjust(width) if index else cell.ljust(width)
                for index, (cell, width) in enumerate(zip(row, widths, strict=True))
            ]
            lines.append(" | ".join(cells).rstrip())
        if self.notes:
            lines.append("")
            lines.extend(f"  {note}" for note in self.notes)
        return "\n".join(lines)


def machine() -> str:
    """Who measured what on which machine, for the header of a run."""
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    versions = []
    for name in ("python-telegram-bot", "aiohttp", "httpx", "SQLAlchemy", "APScheduler"):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            versions.append(f"{name} {importlib.metadata.version(name)}")
    return "\n".join(
        [
            f"date {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; {os.cpu_count()} CPUs ({cpu}); "
            f"Linux {platform.release()}",
            f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}; "
            + ", ".join(versions),
            f"code: {code_state()}",
            f"load average (1/5/15 min) at start: {load()}",
        ]
    )


def code_state() -> str:
    """The commit, and whether the tree had uncommitted changes (read-only git)."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607 - read-only git query
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],  # noqa: S607
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"commit {head}" + (", with uncommitted changes" if dirty else ", clean")


def progress(message: str) -> None:
    """A line on stderr while a scenario runs (the tables go to stdout)."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)
