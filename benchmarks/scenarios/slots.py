"""Scenario 5, claim-time slot cost per nudge: the old `Limits` next to `scheduler.slots`.

N nudges are due at one instant, each to its own chat (30/s overall, 1/s per chat, the
production limits). Columns, each the time per nudge in microseconds, min and median
of the repeats (flat from 1k to 100k is the target, within 2x):

old       `benchmarks.old_limits.Limits.reserve(chat, T)` for every nudge. It is quadratic
          (it walks its sorted list of reserved instants), so it runs only up to
          `old_max` nudges (default 10,000: about 4 s a repeat on an idle core).
reserve   `SlotGrid.reserve(chat, T, now=T)` for every nudge: the same work, on the grid.
assign    `SlotGrid.assign(wants, T)`: the claim-time API, with the fair order (a sort)
          and deadlines, all N in one call; building the `Want` objects is not timed.
batches   The same wants through `assign` in claim batches of 500 (the dispatcher's
          default `batch_size`) on one grid, as `claim_due` would call it.

Each repeat starts from a fresh structure; the garbage collector is off while timing.
Standard library only, besides the two modules measured.
"""

from __future__ import annotations

import datetime as dt
import gc
import statistics
from collections.abc import Callable

from benchmarks.old_limits import Limits
from benchmarks.report import Table, load, progress, timed
from scheduler.slots import SlotGrid, Want

DUE = 1_800_000_000.0
NIGHT = dt.date(2027, 1, 15)
PHASES = ("old", "reserve", "assign", "batches")
BATCH = 500  # the dispatcher's default claim batch


def _old(n: int) -> Callable[[], None]:
    def run() -> None:
        limits = Limits(30, 1)
        for chat in range(n):
            limits.reserve(chat, DUE)

    return run


def _reserve(n: int) -> Callable[[], None]:
    def run() -> None:
        grid = SlotGrid(30, 1)
        for chat in range(n):
            grid.reserve(chat, DUE, now=DUE)

    return run


def _wants(n: int) -> list[Want]:
    gc.disable()  # a million new objects would otherwise trigger full collections
    try:
        return [Want(chat, chat, DUE, DUE + 1800, who=chat, night=NIGHT) for chat in range(n)]
    finally:
        gc.enable()


def _assign(n: int) -> Callable[[], None]:
    wants = _wants(n)

    def run() -> None:
        SlotGrid(30, 1).assign(wants, DUE)

    return run


def _batches(n: int) -> Callable[[], None]:
    wants = _wants(n)

    def run() -> None:
        grid = SlotGrid(30, 1)
        for first in range(0, n, BATCH):
            grid.assign(wants[first : first + BATCH], DUE)

    return run


def _measure(run: Callable[[], None], n: int, repeats: int) -> tuple[float, float]:
    """Min and median microseconds per nudge over `repeats` runs."""
    per_nudge = [seconds / n * 1e6 for seconds in timed(run, repeats)]
    return min(per_nudge), statistics.median(per_nudge)


def run(sizes: list[int], repeats: int, old_max: int = 10_000) -> Table:
    """The table of microseconds per nudge for each size and column."""
    table = Table(
        f"5. Claim-time slots: microseconds per nudge, min / median of {repeats}",
        ("due at once", *PHASES, "load 1-min"),
    )
    builders = {"old": _old, "reserve": _reserve, "assign": _assign, "batches": _batches}
    for n in sizes:
        cells = [f"{n:,}"]
        for phase in PHASES:
            if phase == "old" and n > old_max:
                cells.append("(quadratic)")
                continue
            progress(f"slots: {phase}, {n:,} due")
            low, mid = _measure(builders[phase](n), n, repeats)
            cells.append(f"{low:.2f} / {mid:.2f}")
        cells.append(load().split("/")[0])
        table.add(*cells)
    table.notes.append(
        "target: per-nudge cost flat (within 2x) from 1k to 100k due at once (assign, batches)"
    )
    return table
