"""`python -m benchmarks`: every scenario, one table each, in one run.

    .venv/bin/python -m benchmarks                        # every scenario, default sizes
    .venv/bin/python -m benchmarks --quick                # small sizes (the smoke test)
    .venv/bin/python -m benchmarks --scenario burst --burst 100000   # one at full size

Tables go to stdout, progress to stderr. Everything runs on 127.0.0.1 in a temporary
directory that is removed at the end (`--keep DIR` keeps the databases and logs there).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks.report import Table, load, machine, progress
from benchmarks.scenarios import burst, checks, claim, crash, fairness, slots, throughput
from bot import logs

SCENARIOS = ("throughput", "burst", "fairness", "crash", "slots", "claim", "checks")


@dataclass(frozen=True)
class Sizes:
    throughput: int
    repeats: int
    burst: int
    fairness_rate: float
    crash_people: int
    kills: int
    slot_sizes: tuple[int, ...]
    claim_sizes: tuple[int, ...]


DEFAULT = Sizes(
    1_000, 3, 20_000, 30.0, 10_000, 20, (1_000, 10_000, 100_000), (1_000, 10_000, 100_000)
)
QUICK = Sizes(300, 2, 300, 5.0, 1_500, 3, (1_000, 5_000), (500, 2_000))


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="nudgebot's delivery engine under load: every scenario side by side.",
    )
    parser.add_argument(
        "--scenario",
        action="append",
        choices=SCENARIOS,
        help="run only this scenario (repeatable); default: all, in the order listed",
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, for the smoke test")
    parser.add_argument("--throughput", type=int, help="messages per peer and repeat (1,000)")
    parser.add_argument("--repeats", type=int, help="repeats of the throughput peers (3)")
    parser.add_argument("--burst", type=int, help="nudges due at once in the burst (20,000)")
    parser.add_argument("--fairness-rate", type=float, help="messages/s in scenario 3 (30)")
    parser.add_argument("--crash-people", type=int, help="nudges in the crash burst (10,000)")
    parser.add_argument("--kills", type=int, help="SIGKILLs in the crash scenario (20)")
    parser.add_argument("--slot-sizes", type=int, nargs="+", help="due at once (1k 10k 100k)")
    parser.add_argument("--claim-sizes", type=int, nargs="+", help="due at once (1k 10k 100k)")
    parser.add_argument("--keep", metavar="DIR", help="work in DIR and keep it")
    return parser.parse_args(argv)


def sizes(args: argparse.Namespace) -> Sizes:
    base = QUICK if args.quick else DEFAULT
    return Sizes(
        throughput=args.throughput or base.throughput,
        repeats=args.repeats or base.repeats,
        burst=args.burst or base.burst,
        fairness_rate=args.fairness_rate or base.fairness_rate,
        crash_people=args.crash_people or base.crash_people,
        kills=args.kills if args.kills is not None else base.kills,
        slot_sizes=tuple(args.slot_sizes or base.slot_sizes),
        claim_sizes=tuple(args.claim_sizes or base.claim_sizes),
    )


@contextlib.contextmanager
def workdir(keep: str | None) -> Iterator[Path]:
    if keep:
        path = Path(keep)
        path.mkdir(parents=True, exist_ok=True)
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="nudgebot-bench-") as tmp:
        yield Path(tmp)


def show(tables: Sequence[Table]) -> None:
    for table in tables:
        print(table.render(), end="\n\n", flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    chosen = args.scenario or list(SCENARIOS)
    size = sizes(args)
    # The loggers as `nudgebot run` sets them, at WARNING: progress stays readable.
    logs.configure(logging.WARNING)
    command = " ".join(["python -m benchmarks", *(argv if argv is not None else sys.argv[1:])])
    print(f"nudgebot benchmarks: {command}")
    print(machine(), end="\n\n", flush=True)
    begun = time.monotonic()
    with workdir(args.keep) as work:
        for name in SCENARIOS:
            if name not in chosen:
                continue
            started = time.monotonic()
            if name == "throughput":
                results = throughput.run(work, size.throughput, size.repeats)
                show([throughput.table(results, size.throughput, size.repeats)])
            elif name == "burst":
                show(burst.tables(burst.run(work, size.burst)))
            elif name == "fairness":
                rate = size.fairness_rate
                show([fairness.table(fairness.run(work, rate), rate)])
            elif name == "crash":
                show(crash.tables(crash.run(work, size.crash_people, size.kills)))
            elif name == "slots":
                show([slots.run(list(size.slot_sizes), size.repeats)])
            elif name == "claim":
                show([claim.run(work, list(size.claim_sizes))])
            else:
                show([checks.run(size.repeats)])
            progress(f"{name}: done in {time.monotonic() - started:.0f} s")
    print(f"load average at the end: {load()}; wall time {time.monotonic() - begun:.0f} s")
    return 0
