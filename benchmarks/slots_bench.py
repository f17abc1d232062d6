"""Claim-time slot cost per nudge: the old `Limits` next to `scheduler.slots`.

Run from the repository root::

    .venv/bin/python -m benchmarks.slots_bench                      # 1k, 10k, 100k, 1M
    .venv/bin/python -m benchmarks.slots_bench --sizes 1000 10000   # a quick look
    .venv/bin/python -m benchmarks.slots_bench --phases old reserve # leave out a column

N nudges are due at one instant, each to its own chat (30/s overall, 1/s per chat, the
production limits). Three columns, each the time per nudge in microseconds, min and
median of the repeats:

old       `benchmarks.old_limits.Limits.reserve(chat, T)` for every nudge. It is quadratic
          (it walks its sorted list of reserved instants), so it runs only up to
          `--old-max` nudges (default 10,000: about 4 s a repeat on an idle core).
reserve   `SlotGrid.reserve(chat, T, now=T)` for every nudge: the same work, on the grid.
assign    `SlotGrid.assign(wants, T)`: the claim-time API, with the fair order (a sort)
          and deadlines, all N in one call; building the `Want` objects is not timed.
          Its cost per nudge grows with N: the fair order visits the wants in a
          shuffled order, so past the CPU caches every access is a miss.
batches   The same wants through `assign` in claim batches of 500 (the dispatcher's
          default `batch_size`) on one grid, as `claim_due` would call it.

Each repeat starts from a fresh structure; the garbage collector is off while timing.
Progress (each repeat as it ends) goes to stderr, the table to stdout.
Standard library only, besides the two modules measured. `os.getloadavg()` is printed
before and after: this machine is shared, so read the figures relative to each other.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable

from benchmarks.old_limits import Limits
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
    per_nudge = []
    for _ in range(repeats):
        gc.collect()
        gc.disable()
        try:
            started = time.perf_counter()
            run()
            per_nudge.append((time.perf_counter() - started) / n * 1e6)
        finally:
            gc.enable()
        print(f"  {n:,}: {per_nudge[-1]:.2f} µs per nudge", file=sys.stderr, flush=True)
    return min(per_nudge), statistics.median(per_nudge)


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000, 1_000_000])
    parser.add_argument("--old-max", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--phases", nargs="+", choices=PHASES, default=list(PHASES))
    args = parser.parse_args(argv)

    print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cpus")
    print(f"load average before: {_load()}")
    print(f"{args.repeats} repeats; microseconds per nudge, min / median\n")
    header = ["due at once", *args.phases]
    print(" | ".join(f"{h:>17}" for h in header))
    print(" | ".join(["-" * 17] * len(header)))
    builders = {"old": _old, "reserve": _reserve, "assign": _assign, "batches": _batches}
    for n in args.sizes:
        cells = [f"{n:>17,}"]
        for phase in args.phases:
            if phase == "old" and n > args.old_max:
                cells.append(f"{'(quadratic)':>17}")
                continue
            low, mid = _measure(builders[phase](n), n, args.repeats)
            cells.append(f"{low:>8.2f} / {mid:>6.2f}")
        print(" | ".join(cells), flush=True)
    print(f"\nload average after: {_load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
