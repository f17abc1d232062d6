"""Many processes on one PostgreSQL: throughput of 1, 2 and 3 `nudgebot run` processes
side by side, and the shared rate limit held by three together.

    python -m benchmarks.processes [--people 3000] [--repeats 3] [--quick]

Each run: a fresh database on one throwaway PostgreSQL (127.0.0.1), N people whose nightly
prompt falls due at the same instant, N real `nudgebot run --role dispatch` processes
against the fake Bot API on 127.0.0.1, and the time from the first nudge reaching the fake
to the last. "Limiter off" is the engine's own speed (RATE_LIMIT_PER_SECOND=0, the fake
enforcing nothing); "limiter on" is three processes under Telegram's 30/s, with the fake
enforcing 30/s and 1/s per chat: its rate should stay under 30/s with no 429.

Honest about the machine: the processes, PostgreSQL and the fake share its cores, so more
processes may not mean more throughput here; ratios between rows of one run hold, absolute
numbers do not. The load average is printed with the figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select, update

from fakes.postgres import create_database, throwaway_postgres
from fakes.telegram_api import FakeTelegram
from scheduler.seed import nightly_slots
from storage.db import Database, upgrade
from storage.models import Delivery, Schedule
from storage.seed import seed_people

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawQ"  # noqa: S105 - the fake's token
FIRST_CHAT = 100_000
NUDGEBOT = Path(sys.executable).with_name("nudgebot")


@dataclass
class Run:
    processes: int
    limited: bool
    sent: int
    seconds: float
    too_many: int
    busiest_second: int

    @property
    def rate(self) -> float:
        return self.sent / self.seconds if self.seconds else 0.0


def _seed(server: str, people: int, lead: float) -> str:
    url = create_database(server, f"bench_{uuid.uuid4().hex[:12]}")
    upgrade(url)
    now = dt.datetime.now(dt.UTC)
    minute = (now + dt.timedelta(minutes=2)).replace(second=0, microsecond=0)
    db = Database(url)
    db.call(seed_people, people, FIRST_CHAT, nightly_slots(minute, ("UTC",)), now)
    with db.session() as session:  # all due together, `lead` seconds from now
        session.execute(update(Schedule).values(next_fire_at=now + dt.timedelta(seconds=lead)))
    db.close()
    return url


def _settled(url: str, people: int) -> bool:
    db = Database(url)
    try:
        with db.session() as session:
            done = session.scalar(
                select(func.count())
                .select_from(Delivery)
                .where(Delivery.status.in_(("sent", "failed", "ambiguous", "missed", "skipped")))
            )
    finally:
        db.close()
    return (done or 0) >= people


def _busiest_second(times: list[float]) -> int:
    window: deque[float] = deque()
    busiest = 0
    for t in sorted(times):
        window.append(t)
        while t - window[0] >= 1.0:
            window.popleft()
        busiest = max(busiest, len(window))
    return busiest


def one_run(server: str, processes: int, people: int, *, limited: bool, workdir: Path) -> Run:
    lead = 8.0 + 2.0 * processes  # time for the processes to start before the nudges are due
    url = _seed(server, people, lead)
    with FakeTelegram(token=TOKEN, enforce_rate_limits=limited) as fake:
        for i in range(people):
            fake.user(FIRST_CHAT + i)
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("TELEGRAM_", "DATABASE_", "RATE_LIMIT_", "DISPATCH_"))
        }
        env |= {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": fake.base_url,
            "DATABASE_URL": url,
            "DASHBOARD_ENABLED": "false",
            "LOG_LEVEL": "WARNING",
            "RATE_LIMIT_PER_SECOND": "30" if limited else "0",
            "RATE_LIMIT_PER_CHAT_PER_SECOND": "1" if limited else "0",
        }
        children = []
        for n in range(processes):
            log = (workdir / f"p{processes}-{n}-{time.monotonic_ns()}.log").open("wb")
            children.append(
                subprocess.Popen(  # noqa: S603 - our own console script
                    [str(NUDGEBOT), "run", "--role", "dispatch"],
                    cwd=workdir,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
            log.close()
        try:
            deadline = time.monotonic() + lead + 60 + people / (20 if limited else 50)
            while not _settled(url, people):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{processes} processes did not finish in time")
                if any(c.poll() is not None for c in children):
                    raise RuntimeError("a nudgebot process exited early; see " + str(workdir))
                time.sleep(0.5)
        finally:
            for child in children:
                child.terminate()
            for child in children:
                child.wait(timeout=30)
        sends = [c for c in fake.calls_to("sendMessage") if c.status == 200]
        times = [c.time for c in sends]
        seconds = max(times) - min(times) if len(times) > 1 else 0.0
        return Run(
            processes, limited, len(sends), seconds, fake.too_many_requests, _busiest_second(times)
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=3000)
    parser.add_argument("--limited-people", type=int, default=900)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="tiny sizes, one repeat (smoke test)")
    args = parser.parse_args(argv)
    if args.quick:
        args.people, args.limited_people, args.repeats = 150, 90, 1
    with (
        tempfile.TemporaryDirectory(prefix="nudgebot-bench-") as tmp,
        throwaway_postgres() as server,
    ):
        workdir = Path(tmp)
        runs: dict[int, list[Run]] = {1: [], 2: [], 3: []}
        for _ in range(args.repeats):
            for processes in runs:  # interleaved, so load drifts hit every column alike
                runs[processes].append(
                    one_run(server, processes, args.people, limited=False, workdir=workdir)
                )
        limited = [
            one_run(server, 3, args.limited_people, limited=True, workdir=workdir)
            for _ in range(args.repeats)
        ]
    load = os.getloadavg()
    print(f"\nMany processes on one PostgreSQL: {args.people} nudges due at once, limiter off")
    print(
        f"(machine load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; {os.cpu_count()} cores)"
    )
    print(f"{'processes':>10} {'min /s':>9} {'median /s':>10} {'vs 1':>6} {'sent':>6}")
    base = statistics.median(r.rate for r in runs[1])
    for processes, results in runs.items():
        rates = [r.rate for r in results]
        median = statistics.median(rates)
        print(
            f"{processes:>10} {min(rates):>9.1f} {median:>10.1f} {median / base:>6.2f}"
            f" {min(r.sent for r in results):>6}"
        )
    print("\nThree processes under Telegram's limit (30/s, 1/s per chat, enforced by the fake):")
    print(f"{'run':>4} {'rate /s':>8} {'busiest second':>15} {'429s':>5} {'sent':>6}")
    for i, run in enumerate(limited, 1):
        print(f"{i:>4} {run.rate:>8.1f} {run.busiest_second:>15} {run.too_many:>5} {run.sent:>6}")


if __name__ == "__main__":
    main()
