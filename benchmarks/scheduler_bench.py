"""Benchmark of nudgebot's scheduler: scale, idle cost, claim cost, throughput, rate limits.

Run from the repository root::

    .venv/bin/python -m benchmarks.scheduler_bench                 # full: 1,000,000 people
    .venv/bin/python -m benchmarks.scheduler_bench --people 100000 # medium
    .venv/bin/python -m benchmarks.scheduler_bench --quick         # smoke run, < 1 minute
    .venv/bin/python -m benchmarks.scheduler_bench --json out.json # also write the figures

Everything runs on 127.0.0.1, in a temporary directory that is removed at the end, and
every loop and wait is bounded. The measurements, in the order they run:

Seeding
    A SQLite database is created with the project's own migrations
    (`storage.db.upgrade`), then N people are inserted, each with one
    `nightly_appreciation` schedule, by `executemany` of raw SQL in batches of 50,000
    rows, one transaction per batch. Evening local times (19:00-23:55) in 24 zones put
    their `next_fire_at` values all over the UTC day, starting about a day after now, so
    nothing is due in real time while the benchmark runs. Three groups of people, drawn
    at random from all ids, get `next_fire_at` set to a known instant instead: the
    *claim* group (10,000), the *throughput* group (10,000) and the *limit* group
    (1,800 nudges; one person in ten also has a `weekly_checkin` and a `timing_tip`
    due at the same instant, with adjacent schedule ids, so their chat gets three
    nudges in a row and the per-chat limit matters). A quarter of the people outside
    the throughput and limit groups have quiet hours 23:00-07:00.

Real bot process (start-up, memory, stop)
    `nudgebot run` is started as a subprocess against the seeded database and an
    in-process `FakeTelegram`. Start-up time = from just before the process is spawned
    until the fake records the first `getUpdates` call. Memory = `VmRSS` (and the peak,
    `VmHWM`) from `/proc/<pid>/status` after a few seconds of idle running. Then SIGTERM;
    exit time = from the signal until the process has exited.

Idle tick
    In this process: a `Dispatcher` on the seeded file (real `Database`, `Renderer` on
    templates/messages, `ExtBot` with the project's `TelegramRateLimiter`) with a clock
    fixed one hour before anything is due; `await claim()` + `await send_ready()` is
    timed over many iterations (median and p99, ms). The target is judged on both.

Claim 10,000 due
    Same, with the clock fixed at the instant the claim group is due; `claim()` is
    called until it returns 0. Total ms, and µs per claimed nudge. (Production batch
    size and rate; the claimed deliveries are then closed as `skipped`, outside the
    timing, so they do not leak into the next phase.)

Full-path throughput
    Claim, render, record, send, with the limiter off (rate 0, as `bot/app.py` builds
    it: `TelegramRateLimiter(0, 0)`), against a `FakeTelegram` running in a separate
    process (multiprocessing, spawn), so the fake does not share this process's GIL;
    the fake creates the users itself from id ranges sent on start. The dispatcher is
    driven like the bot's job queue does: a drain, and if work is left (a retry
    waiting), another drain at the next 1 s tick. The clock is real time shifted so
    that the run starts at the group's due instant. Nudges per second = nudges /
    (end of the last drain - start). The fake's count of successful sendMessage calls
    and the database's count of `sent` deliveries are both checked against the number
    due. CPU time of this process and of the fake are reported, to show which side
    was busy.

At the limit
    The production limits: the dispatcher's slotter at 30/s, the `TelegramRateLimiter`
    at 30/s overall and 1/s per chat, and the fake enforcing the same limits (its own
    sliding one-second windows; it answers 429 above them). Driven by 1 s ticks as
    above. Reported: achieved rate (successful sendMessage calls at the fake, from the
    first to the last) as a share of 30/s; 429 answers the fake served; the windows the
    dispatcher reported as unmeetable (its log warning, summed); lateness. Lateness is
    `sent_at` (recorded by the dispatcher when Telegram answered) minus the send slot
    the dispatcher assigned when it claimed the delivery (captured by a benchmark-only
    SQLite trigger, because a 429 moves `send_after` later); it is reported for the
    nudges whose slot was inside their delivery window (the target: p99 < 2 s), and,
    for reference, `sent_at - due_at` for all sent nudges. Windows are 0, 5, 10, 15
    or 30 minutes; a 0-minute window is met only by the first nudge of the instant.
    Also reported: how many deliveries the claim created for the nudges due, which
    limit each 429 hit (from the arrival times the fake recorded), and the event-loop
    lag in this process (a 5 ms sleep sampled throughout): a stall longer than the
    limiter's safety margin (3%, ~31 ms) makes later sends bunch up against earlier ones.

Same mix through the limiter in `send_ready` chunks
    The limit group's chats, in claim order (one person's nudges adjacent), sent through
    an `ExtBot` with the project's limiter in chunks of the dispatcher's chunk size,
    each chunk gathered and awaited like `Dispatcher.send_ready` does, against the
    enforcing fake, for at most 60 s. No database: this isolates what per-chat limits
    do to chunked sending, i.e. the rate the limit phase gets once every due schedule
    yields its delivery.

The common alternative: one JobQueue job per person
    In a fresh subprocess (so the memory figure is clean): a python-telegram-bot
    `Application`'s `JobQueue` (APScheduler) is started and one `run_daily` job per
    person is registered. Reported: time to register, RSS added (after/before, both
    after `gc.collect()`), and the time `get_jobs_by_name` takes to find one person's
    job (median of 5). Such jobs live only in memory: nothing survives a restart.

Option `--profile DIR` writes cProfile data for the claim and throughput phases (the
event-loop thread and the database thread separately) and prints the top functions;
`--batch-size` overrides the dispatcher's batch size. The header prints the machine,
the versions, the load average and the git commit with any uncommitted files, so each
figure can be tied to the code it measured. Exit code 0 unless the script fails (or,
with `--strict`, a target is missed).
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import cProfile
import datetime as dt
import gc
import importlib.metadata
import io
import json
import logging
import math
import multiprocessing
import multiprocessing.connection
import os
import platform
import pstats
import random
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar, cast
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from bot import logs
from bot.composer import Composer
from bot.ratelimit import TelegramRateLimiter
from bot.render import Renderer
from bot.settings import DEFAULT_TEMPLATES_DIR, REPO_ROOT, Settings
from bot.transport import TelegramTransport
from scheduler.dispatcher import Dispatcher
from scheduler.rules import Rule, next_fire_at, occurrence_window
from scheduler.schedules import rule_of
from storage import deliveries as store
from storage.db import Database, make_engine, upgrade
from storage.models import (
    NIGHTLY_APPRECIATION,
    TIMING_TIP,
    WEEKLY_CHECKIN,
    Delivery,
    Schedule,
)

P = ParamSpec("P")
T = TypeVar("T")

# A well-formed (fake) bot token: the settings validator checks its shape.
TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawQ"  # noqa: S105 - not a secret
# Telegram user id (= private chat id) of person `id` is CHAT_BASE + id.
CHAT_BASE = 1_000_000_000
SEED_BATCH = 50_000
ZONES = (
    "Europe/Berlin",
    "Europe/London",
    "Europe/Moscow",
    "Atlantic/Azores",
    "Africa/Lagos",
    "Africa/Nairobi",
    "Asia/Dubai",
    "Asia/Tehran",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Asia/Singapore",
    "Asia/Shanghai",
    "Asia/Tokyo",
    "Australia/Adelaide",
    "Australia/Sydney",
    "Pacific/Auckland",
    "Pacific/Honolulu",
    "America/Los_Angeles",
    "America/Denver",
    "America/Chicago",
    "America/Mexico_City",
    "America/New_York",
    "America/Bogota",
    "America/Sao_Paulo",
)
EVENING_TIMES = tuple(dt.time(19 + m // 60, m % 60) for m in range(0, 300, 5))
WINDOW_CYCLE = (0, 5, 10, 15, 30)
EXTRA_KINDS = (WEEKLY_CHECKIN, TIMING_TIP)
FINAL_OR_PENDING = ("claimed", "sending")

# Targets from the issue.
TARGET_PEOPLE = 1_000_000
TARGET_RSS_MB = 150.0
TARGET_STARTUP_S = 3.0
TARGET_IDLE_TICK_MS = 5.0
TARGET_THROUGHPUT = 500.0
TARGET_RATE_SHARE = 0.95
TARGET_LATENESS_P99_S = 2.0
ISSUE_JOBQUEUE_REFERENCE = (
    "issue, for 100,000 people: 114,000 jobs took 39 s to register, "
    "added about 500 MB, found one person's job in 230 ms"
)


# ---------------------------------------------------------------------------- plan


@dataclass(frozen=True)
class Plan:
    """The sizes of one run."""

    mode: str
    people: int
    claim_due: int
    throughput_due: int
    limit_nudges: int
    jobqueue_people: int
    idle_iterations: int
    bot_idle_seconds: float
    tick_seconds: float

    @property
    def limit_people(self) -> int:
        """People in the limit group: five in six nudges are one per person."""
        return max(1, self.limit_nudges * 5 // 6)


def make_plan(args: argparse.Namespace) -> Plan:
    """Sizes for `--quick` or full mode, scaled down to fit `--people` if needed."""
    quick = bool(args.quick)
    people = args.people if args.people is not None else (20_000 if quick else TARGET_PEOPLE)
    if people < 100:
        raise SystemExit("--people must be at least 100")
    fit = people // 5  # each measured group uses at most a fifth of the people
    claim = min(args.claim_due or (2_000 if quick else 10_000), fit)
    throughput = min(args.throughput_due or (1_000 if quick else 10_000), fit)
    limit = min(args.limit_nudges or (150 if quick else 1_800), fit)
    settings = Settings.model_construct()  # the declared defaults, not the environment
    return Plan(
        mode="quick" if quick else "full",
        people=people,
        claim_due=claim,
        throughput_due=throughput,
        limit_nudges=limit,
        jobqueue_people=args.jobqueue_people or (5_000 if quick else 100_000),
        idle_iterations=50 if quick else 200,
        bot_idle_seconds=3.0,
        tick_seconds=float(settings.dispatch_interval_seconds),
    )


@dataclass(frozen=True)
class Instants:
    """The clock instants the phases use (all whole minutes, UTC)."""

    idle: dt.datetime
    claim: dt.datetime
    throughput: dt.datetime
    limit: dt.datetime
    spread_base: dt.datetime

    @staticmethod
    def around(now: dt.datetime) -> Instants:
        """About a day after `now`, so the real bot (real clock) finds nothing due."""
        base = (now + dt.timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
        hour = dt.timedelta(hours=1)
        return Instants(
            idle=base - hour,
            claim=base,
            throughput=base + 2 * hour,
            limit=base + 4 * hour,
            spread_base=base + 6 * hour,
        )


@dataclass(frozen=True)
class Layout:
    """Which person ids belong to which measured group (drawn at random, seed 42)."""

    claim: tuple[int, ...]
    throughput: tuple[int, ...]
    limit: tuple[int, ...]
    extra_kinds: dict[int, tuple[str, ...]]  # limit-group person -> extra kinds due

    @staticmethod
    def build(plan: Plan) -> Layout:
        rng = random.Random(42)  # noqa: S311 - test data, not security
        wanted = plan.claim_due + plan.throughput_due + plan.limit_people
        ids = rng.sample(range(1, plan.people + 1), wanted)
        claim = tuple(sorted(ids[: plan.claim_due]))
        throughput = tuple(sorted(ids[plan.claim_due : plan.claim_due + plan.throughput_due]))
        limit = tuple(sorted(ids[plan.claim_due + plan.throughput_due :]))
        extras_left = plan.limit_nudges - len(limit)
        extra: dict[int, tuple[str, ...]] = {}
        for index, person_id in enumerate(limit):
            if extras_left <= 0:
                break
            if index % 10 == 0:
                take = min(len(EXTRA_KINDS), extras_left)
                extra[person_id] = EXTRA_KINDS[:take]
                extras_left -= take
        return Layout(claim, throughput, limit, extra)


# ---------------------------------------------------------------------------- report


@dataclass
class Figure:
    """One line of the results table."""

    key: str
    label: str
    value: float | int | str | None
    unit: str = ""
    target: str = ""
    met: bool | None = None
    note: str = ""


@dataclass
class Report:
    """Everything measured in one run, for the table and the JSON file."""

    meta: dict[str, Any] = field(default_factory=dict)
    figures: list[Figure] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def add(self, figure: Figure) -> None:
        self.figures.append(figure)

    def to_json(self) -> dict[str, Any]:
        return {
            "meta": self.meta,
            "figures": [asdict(f) for f in self.figures],
            "details": self.details,
            "notes": self.notes,
        }


class LogTally(logging.Handler):
    """Counts log records by logger and message, and sums the unmet-window warnings."""

    def __init__(self, echo: bool) -> None:
        super().__init__(logging.DEBUG)
        self.echo = echo
        self.counts: Counter[tuple[str, str, str]] = Counter()
        self.unmet_windows = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.counts[(record.levelname, record.name, str(record.msg))] += 1
        if record.name == "scheduler.dispatcher" and "delivery window" in str(record.msg):
            args = record.args if isinstance(record.args, tuple) else ()
            if args and isinstance(args[0], int):
                self.unmet_windows += args[0]
        if self.echo:
            print(f"[log] {record.levelname} {record.name}: {record.getMessage()}", file=sys.stderr)

    def summary(self) -> list[str]:
        return [
            f"{count:>7} x {level} {name}: {message}"
            for (level, name, message), count in self.counts.most_common(12)
        ]


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) with linear interpolation; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def proc_status_kb(pid: int, name: str) -> int:
    """A `kB` field (VmRSS, VmHWM) of /proc/<pid>/status."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{name}:"):
            return int(line.split()[1])
    raise KeyError(name)


def proc_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process, from /proc/<pid>/stat."""
    raw = Path(f"/proc/{pid}/stat").read_text()
    fields = raw[raw.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def sqlite_text(value: dt.datetime) -> str:
    """How `UTCDateTime` stores an instant in SQLite (naive UTC, microseconds)."""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def from_sqlite(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC)


# ---------------------------------------------------------------------------- seeding

PEOPLE_SQL = (
    "INSERT INTO people (id, telegram_user_id, chat_id, display_name, timezone, language, "
    "consented_at, created_at, quiet_start, quiet_end) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
SCHEDULE_SQL = (
    "INSERT INTO schedules (person_id, kind, local_time, weekdays, window_minutes, zone, "
    "next_fire_at, set_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def _time_text(value: dt.time) -> str:
    return value.strftime("%H:%M:%S.%f")


def seed(url: str, plan: Plan, layout: Layout, instants: Instants) -> dict[str, Any]:
    """Create the schema and bulk-insert the people and schedules; returns timings."""
    started = time.perf_counter()
    upgrade(url)
    migrated = time.perf_counter() - started
    # next_fire_at of each (zone, local time) pair, computed once by the project's rules.
    fire_at = {
        (zone, local): sqlite_text(
            next_fire_at(
                Rule(local_time=local, weekdays=frozenset(range(7)), zone=zone),
                instants.spread_base,
            )
        )
        for zone in ZONES
        for local in EVENING_TIMES
    }
    group_of: dict[int, dt.datetime] = {}
    for person_id in layout.claim:
        group_of[person_id] = instants.claim
    for person_id in layout.throughput:
        group_of[person_id] = instants.throughput
    for person_id in layout.limit:
        group_of[person_id] = instants.limit
    stamp = sqlite_text(instants.spread_base - dt.timedelta(days=30))
    quiet = (_time_text(dt.time(23, 0)), _time_text(dt.time(7, 0)))
    engine = make_engine(url)
    people_rows = schedule_rows = 0
    inserted = time.perf_counter()
    try:
        for first in range(1, plan.people + 1, SEED_BATCH):
            people: list[tuple[Any, ...]] = []
            schedules: list[tuple[Any, ...]] = []
            for person_id in range(first, min(first + SEED_BATCH, plan.people + 1)):
                zone = ZONES[person_id % len(ZONES)]
                local = EVENING_TIMES[(person_id // len(ZONES)) % len(EVENING_TIMES)]
                due = group_of.get(person_id)
                measured_send = due is not None and due != instants.claim
                has_quiet = not measured_send and person_id % 4 == 0
                name = f"Ana & Bo {person_id}" if person_id % 7 == 0 else f"Person {person_id}"
                people.append(
                    (
                        person_id,
                        CHAT_BASE + person_id,
                        CHAT_BASE + person_id,
                        name,
                        zone,
                        "de" if person_id % 10 == 3 else "en",
                        stamp,
                        stamp,
                        quiet[0] if has_quiet else None,
                        quiet[1] if has_quiet else None,
                    )
                )
                if due is None:
                    kinds: tuple[str, ...] = (NIGHTLY_APPRECIATION,)
                    next_text, window = fire_at[(zone, local)], 0
                else:
                    # A rule consistent with the forced instant: its wall time in the zone.
                    local = due.astimezone(ZoneInfo(zone)).time().replace(second=0)
                    next_text = sqlite_text(due)
                    extra = layout.extra_kinds.get(person_id, ())
                    kinds = (NIGHTLY_APPRECIATION, *extra)
                    window = 0
                for number, kind in enumerate(kinds):
                    if due == instants.limit:
                        window = WINDOW_CYCLE[(person_id + number) % len(WINDOW_CYCLE)]
                    schedules.append(
                        (
                            person_id,
                            kind,
                            _time_text(local),
                            127,
                            window,
                            zone,
                            next_text,
                            "person",
                            stamp,
                            stamp,
                        )
                    )
            with engine.begin() as connection:
                connection.exec_driver_sql(PEOPLE_SQL, people)
                connection.exec_driver_sql(SCHEDULE_SQL, schedules)
            people_rows += len(people)
            schedule_rows += len(schedules)
        insert_seconds = time.perf_counter() - inserted
        with engine.connect() as connection:
            busiest = connection.exec_driver_sql(
                "SELECT substr(next_fire_at, 1, 16) AS minute, count(*) FROM schedules "
                "WHERE next_fire_at >= ? GROUP BY minute ORDER BY 2 DESC LIMIT 1",
                (sqlite_text(instants.spread_base),),
            ).one()
            span = connection.exec_driver_sql(
                "SELECT min(next_fire_at), max(next_fire_at) FROM schedules "
                "WHERE next_fire_at >= ?",
                (sqlite_text(instants.spread_base),),
            ).one()
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        engine.dispose()
    database = url.removeprefix("sqlite:///")
    return {
        "people": people_rows,
        "schedules": schedule_rows,
        "migrate_seconds": migrated,
        "insert_seconds": insert_seconds,
        "total_seconds": time.perf_counter() - started,
        "rows_per_second": (people_rows + schedule_rows) / insert_seconds,
        "db_mb": Path(database).stat().st_size / 1e6,
        "busiest_minute": {"minute": busiest[0], "nudges": busiest[1]},
        "spread": {"first": span[0], "last": span[1]},
    }


# ---------------------------------------------------------------------------- fake in a child


@dataclass(frozen=True)
class FakeSpec:
    """What the fake Bot API child process should serve."""

    token: str
    enforce_rate_limits: bool
    global_per_second: int
    per_chat_per_second: int
    chat_ids: tuple[int, ...]


def _fake_child(conn: multiprocessing.connection.Connection, spec: FakeSpec) -> None:
    """Child process: run a FakeTelegram and answer `stats`/`stop` over the pipe."""
    from fakes.telegram_api import FakeTelegram

    fake = FakeTelegram(
        token=spec.token,
        enforce_rate_limits=spec.enforce_rate_limits,
        global_per_second=spec.global_per_second,
        per_chat_per_second=spec.per_chat_per_second,
    )
    try:
        fake.start()
        for chat_id in spec.chat_ids:
            fake.user(chat_id)
        conn.send({"port": fake.port, "pid": os.getpid()})
        deadline = time.monotonic() + 3600  # never outlive a forgotten parent by long
        parent = os.getppid()
        while time.monotonic() < deadline and os.getppid() == parent:
            if not conn.poll(1.0):
                continue
            command = conn.recv()
            if command == "stats":
                conn.send(_fake_stats(fake))
            elif command == "stop":
                break
    except (EOFError, BrokenPipeError):
        pass
    finally:
        fake.stop()
        with contextlib.suppress(OSError):
            conn.send({"stopped": True})
        conn.close()


def _fake_stats(fake: Any) -> dict[str, Any]:
    """Summary of the sendMessage calls the fake received (runs in the child)."""
    sends = []
    for call in fake.calls_to("sendMessage"):
        delivery_id = None
        with contextlib.suppress(LookupError, TypeError, ValueError, AttributeError):
            data = call.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
            delivery_id = int(str(data).split(":", 1)[1].split(".", 1)[0])
        sends.append((call.time, call.status, call.params.get("chat_id"), delivery_id))
    cpu = os.times()
    return {
        "sends": sends,
        "too_many_requests": fake.too_many_requests,
        "errors_served": fake.errors_served,
        "cpu_seconds": cpu.user + cpu.system,
    }


class FakeProcess:
    """A FakeTelegram in a spawned process; `stats()` fetches its records."""

    def __init__(self, spec: FakeSpec) -> None:
        self.spec = spec
        context = multiprocessing.get_context("spawn")
        self._conn, child_conn = context.Pipe()
        self._process = context.Process(
            target=_fake_child, args=(child_conn, spec), name="fake-telegram", daemon=True
        )
        self.port = 0
        self.pid = 0

    def __enter__(self) -> FakeProcess:
        self._process.start()
        if not self._conn.poll(60):
            self._process.kill()
            raise RuntimeError("the fake Bot API process did not start within 60 s")
        hello = self._conn.recv()
        self.port, self.pid = int(hello["port"]), int(hello["pid"])
        return self

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    def stats(self) -> dict[str, Any]:
        self._conn.send("stats")
        if not self._conn.poll(120):
            raise RuntimeError("the fake Bot API process did not answer within 120 s")
        answer: dict[str, Any] = self._conn.recv()
        return answer

    def cpu_seconds(self) -> float:
        return proc_cpu_seconds(self.pid)

    def __exit__(self, *_exc: object) -> None:
        with contextlib.suppress(OSError, EOFError):
            self._conn.send("stop")
            self._conn.poll(10)
        self._process.join(10)
        if self._process.is_alive():
            self._process.kill()
            self._process.join(5)
        self._conn.close()


# ---------------------------------------------------------------------------- real bot process


def measure_bot_process(url: str, workdir: Path, idle_seconds: float) -> dict[str, Any]:
    """Start `nudgebot run`, time its start-up, read its memory, SIGTERM it."""
    from fakes.telegram_api import FakeTelegram

    executable = Path(sys.executable).parent / "nudgebot"
    log_path = workdir / "nudgebot-run.log"
    result: dict[str, Any] = {"log": str(log_path)}
    with FakeTelegram(token=TOKEN) as fake, log_path.open("wb") as log:
        env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": fake.base_url,
            "DATABASE_URL": url,
            "POLL_TIMEOUT_SECONDS": "1",
            "LOG_LEVEL": "INFO",
        }
        spawned = time.time()
        process = subprocess.Popen(  # noqa: S603 - our own entry point, fixed arguments
            [str(executable), "run"], env=env, cwd=workdir, stdout=log, stderr=log
        )
        try:
            first_poll = None
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and process.poll() is None:
                calls = fake.calls_to("getUpdates")
                if calls:
                    first_poll = calls[0].time
                    break
                time.sleep(0.01)
            if first_poll is None:
                raise RuntimeError(
                    f"nudgebot did not poll within 60 s (exit code {process.poll()}); "
                    f"log: {log_path.read_text()[-2000:]}"
                )
            result["startup_seconds"] = first_poll - spawned
            time.sleep(idle_seconds)
            result["rss_mb"] = proc_status_kb(process.pid, "VmRSS") / 1024
            result["peak_rss_mb"] = proc_status_kb(process.pid, "VmHWM") / 1024
            result["cpu_seconds"] = proc_cpu_seconds(process.pid)
            result["calls_seen"] = dict(Counter(c.method for c in fake.calls))
            signalled = time.monotonic()
            process.send_signal(signal.SIGTERM)
            result["exit_code"] = process.wait(timeout=30)
            result["exit_seconds"] = time.monotonic() - signalled
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(10)
    return result


# ---------------------------------------------------------------------------- in-process harness


@dataclass(frozen=True)
class FixedClock:
    """A clock that always says the same instant."""

    instant: dt.datetime

    def __call__(self) -> dt.datetime:
        return self.instant


@dataclass(frozen=True)
class ShiftedClock:
    """Real time, shifted so that `wall0` (a `time.time()` value) reads as `anchor`."""

    anchor: dt.datetime
    wall0: float

    def __call__(self) -> dt.datetime:
        return self.at(time.time())

    def at(self, wall: float) -> dt.datetime:
        return self.anchor + dt.timedelta(seconds=wall - self.wall0)


class MeteredDatabase(Database):
    """A `Database` that adds up the time spent in each function run on its thread."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.seconds: dict[str, float] = {}
        self.calls: Counter[str] = Counter()

    def call(
        self, fn: Callable[Concatenate[Session, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        begun = time.perf_counter()
        try:
            return super().call(fn, *args, **kwargs)
        finally:
            name = getattr(fn, "__name__", repr(fn))
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - begun
            self.calls[name] += 1

    def breakdown(self) -> dict[str, dict[str, float]]:
        return {
            name: {"seconds": seconds, "calls": self.calls[name]}
            for name, seconds in sorted(self.seconds.items(), key=lambda kv: -kv[1])
        }


class ProfilingDatabase(MeteredDatabase):
    """A `MeteredDatabase` that also profiles the work done on its (single) thread."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.profile = cProfile.Profile()

    def call(
        self, fn: Callable[Concatenate[Session, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        self.profile.enable()
        try:
            return super().call(fn, *args, **kwargs)
        finally:
            self.profile.disable()


@dataclass
class Harness:
    """A dispatcher wired like `bot/app.py` wires it, against a given Bot API URL."""

    db: MeteredDatabase
    dispatcher: Dispatcher
    limiter: TelegramRateLimiter
    bot: Any


@contextlib.asynccontextmanager
async def harness(
    url: str,
    base_url: str,
    clock: Callable[[], dt.datetime],
    *,
    rate: float,
    per_chat: float,
    profile: bool = False,
    batch_size: int | None = None,
) -> AsyncIterator[Harness]:
    """Build Database, Renderer, ExtBot (with the project's limiter) and Dispatcher."""
    from telegram import LinkPreviewOptions
    from telegram.constants import ParseMode
    from telegram.ext import Defaults, ExtBot

    settings = Settings.model_construct()
    db = ProfilingDatabase(url) if profile else MeteredDatabase(url)
    limiter = TelegramRateLimiter(rate, per_chat)
    bot: ExtBot[Any] = ExtBot(
        TOKEN,
        base_url=base_url,
        rate_limiter=limiter,
        defaults=Defaults(
            parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)
        ),
    )
    dispatcher = Dispatcher(
        db,
        Composer(Renderer(DEFAULT_TEMPLATES_DIR, "en"), clock),
        TelegramTransport(bot),
        grace=settings.grace_seconds,
        clock=clock,
        batch_size=batch_size or settings.dispatch_batch_size,
        rate_per_second=rate,
        per_chat_per_second=per_chat,
    )
    await bot.initialize()
    try:
        await dispatcher.start()
        yield Harness(db, dispatcher, limiter, bot)
    finally:
        await dispatcher.stop()
        await bot.shutdown()
        db.close()


def pending_for(session: Session, due: dt.datetime) -> int:
    """Schedules still due at `due`, plus its deliveries not yet final."""
    schedules = session.scalar(
        select(func.count()).select_from(Schedule).where(Schedule.next_fire_at == due)
    )
    deliveries = session.scalar(
        select(func.count())
        .select_from(Delivery)
        .where(Delivery.status.in_(FINAL_OR_PENDING), Delivery.due_at == due)
    )
    return int(schedules or 0) + int(deliveries or 0)


def statuses_for(session: Session, due: dt.datetime) -> dict[str, int]:
    rows = session.execute(
        select(Delivery.status, func.count())
        .where(Delivery.due_at == due)
        .group_by(Delivery.status)
    ).all()
    return {str(status): int(count) for status, count in rows}


def close_out(session: Session, due: dt.datetime) -> int:
    """Benchmark housekeeping: deliveries of `due` still open become `skipped`."""
    result = session.execute(
        text(
            "UPDATE deliveries SET status = 'skipped', error = 'benchmark_closeout' "
            "WHERE due_at = :due AND status IN ('claimed', 'sending')"
        ),
        {"due": sqlite_text(due)},
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def run_ticks(
    h: Harness, due: dt.datetime, interval: float, limit_seconds: float
) -> tuple[float, int]:
    """Drive the dispatcher like the job queue: a drain per tick until nothing is left.

    Returns (seconds from start to the end of the last drain, ticks used). A drain
    that finds nothing ready returns early; the next one starts at the next tick.
    """
    started = time.perf_counter()
    ticks = 0
    while True:
        ticks += 1
        await h.dispatcher.drain()
        finished = time.perf_counter() - started
        if await h.db.run(pending_for, due) == 0:
            return finished, ticks
        if finished > limit_seconds:
            raise TimeoutError(f"work still pending after {limit_seconds:.0f} s")
        next_tick = ticks * interval
        await asyncio.sleep(max(0.0, next_tick - (time.perf_counter() - started)))


# ---------------------------------------------------------------------------- phases


async def measure_idle(url: str, base_url: str, at: dt.datetime, iterations: int) -> dict[str, Any]:
    """Time claim() + send_ready() when nothing is due."""
    async with harness(url, base_url, FixedClock(at), rate=30.0, per_chat=1.0) as h:
        for _ in range(5):  # warm up connections and statement caches
            await h.dispatcher.claim()
            await h.dispatcher.send_ready()
        samples = []
        for _ in range(iterations):
            begun = time.perf_counter()
            claimed = await h.dispatcher.claim()
            sent = await h.dispatcher.send_ready()
            samples.append((time.perf_counter() - begun) * 1000)
            if claimed or sent:
                raise RuntimeError("the idle instant has due work; the seeding is wrong")
    return {
        "iterations": iterations,
        "median_ms": statistics.median(samples),
        "p99_ms": percentile(samples, 99),
        "max_ms": max(samples),
    }


async def measure_claim(
    url: str,
    base_url: str,
    at: dt.datetime,
    expected: int,
    profile_dir: Path | None,
    batch_size: int | None,
) -> dict[str, Any]:
    """Time claiming every schedule due at `at`, batch after batch."""
    settings = Settings.model_construct()
    async with harness(
        url,
        base_url,
        FixedClock(at),
        rate=float(settings.rate_limit_per_second),
        per_chat=float(settings.rate_limit_per_chat_per_second),
        profile=profile_dir is not None,
        batch_size=batch_size,
    ) as h:
        loop_profile = cProfile.Profile() if profile_dir else None
        batches: list[float] = []
        claimed = 0
        if loop_profile:
            loop_profile.enable()
        begun = time.perf_counter()
        while True:
            batch_begun = time.perf_counter()
            count = await h.dispatcher.claim()
            if not count:
                break
            batches.append((time.perf_counter() - batch_begun) * 1000)
            claimed += count
            if claimed > expected * 2:
                raise RuntimeError("claimed more than twice what was due")
        total = time.perf_counter() - begun
        if loop_profile:
            loop_profile.disable()
        stats = h.dispatcher.stats
        result = {
            "schedules": claimed,
            "deliveries_claimed": stats.claimed,
            "skipped_quiet_hours": stats.skipped,
            "missed": stats.missed,
            "total_ms": total * 1000,
            "per_nudge_us": total / max(claimed, 1) * 1e6,
            "batches": len(batches),
            "batch_size": h.dispatcher.batch_size,
            "batch_median_ms": statistics.median(batches) if batches else math.nan,
            "db_thread": h.db.breakdown(),
        }
        if profile_dir is not None and loop_profile is not None:
            assert isinstance(h.db, ProfilingDatabase)
            result["profile"] = dump_profiles(
                profile_dir, "claim", {"loop": loop_profile, "db": h.db.profile}
            )
        result["closed_out"] = await h.db.run(close_out, at)
    if claimed != expected:
        raise RuntimeError(f"expected {expected} due schedules, claimed {claimed}")
    return result


async def measure_throughput(
    url: str,
    fake: FakeProcess,
    due: dt.datetime,
    expected: int,
    interval: float,
    profile_dir: Path | None,
    batch_size: int | None,
) -> dict[str, Any]:
    """Full path with the limiter off, against the fake in its own process."""
    clock = ShiftedClock(due, time.time())
    async with harness(
        url,
        fake.base_url,
        clock,
        rate=0.0,
        per_chat=0.0,
        profile=profile_dir is not None,
        batch_size=batch_size,
    ) as h:
        loop_profile = cProfile.Profile() if profile_dir else None
        fake_cpu0, own_cpu0 = fake.cpu_seconds(), time.process_time()
        if loop_profile:
            loop_profile.enable()
        seconds, ticks = await run_ticks(h, due, interval, limit_seconds=max(120.0, expected / 20))
        if loop_profile:
            loop_profile.disable()
        fake_cpu, own_cpu = fake.cpu_seconds() - fake_cpu0, time.process_time() - own_cpu0
        statuses = await h.db.run(statuses_for, due)
        stats = h.dispatcher.stats
        result: dict[str, Any] = {
            "due": expected,
            "seconds": seconds,
            "ticks": ticks,
            "per_second": expected / seconds,
            "statuses": statuses,
            "retried": stats.retried,
            "failed": stats.failed,
            "ambiguous": stats.ambiguous,
            "bot_cpu_seconds": own_cpu,
            "fake_cpu_seconds": fake_cpu,
            "batch_size": h.dispatcher.batch_size,
            "in_flight": h.dispatcher.chunk,
            "db_thread": h.db.breakdown(),
            "render_us": render_cost(h.dispatcher),
        }
        if profile_dir is not None and loop_profile is not None:
            assert isinstance(h.db, ProfilingDatabase)
            result["profile"] = dump_profiles(
                profile_dir, "throughput", {"loop": loop_profile, "db": h.db.profile}
            )
    fake_stats = fake.stats()
    ok = sum(1 for s in fake_stats["sends"] if s[1] == 200)
    result["fake_send_ok"] = ok
    result["fake_send_calls"] = len(fake_stats["sends"])
    result["fake_errors_served"] = fake_stats["errors_served"]
    result["confirmed"] = ok == expected and statuses.get("sent", 0) == expected
    return result


def render_cost(dispatcher: Dispatcher) -> dict[str, float]:
    """Per-call cost of `Renderer.names` (called per nudge) and of one whole render."""
    composer = cast(Composer, dispatcher.composer)
    renderer = composer.renderer
    repeat = 200
    begun = time.perf_counter()
    for _ in range(repeat):
        renderer.names("en")
    names_us = (time.perf_counter() - begun) / repeat * 1e6
    render_us = math.nan
    with contextlib.suppress(Exception):  # the Ready shape may change under us
        ready = store.Ready(
            delivery_id=1,
            person_id=7,
            schedule_id=1,
            chat_id=CHAT_BASE + 7,
            kind=NIGHTLY_APPRECIATION,
            due_at=dt.datetime.now(dt.UTC),
            deadline=dt.datetime.now(dt.UTC),
            display_name="Ana & Bo",
            language="en",
            zone="Europe/Berlin",
            silent=False,
            attempts=1,
        )
        begun = time.perf_counter()
        for _ in range(repeat):
            composer.compose(ready)
        render_us = (time.perf_counter() - begun) / repeat * 1e6
    return {"names_us": names_us, "render_us": render_us}


SLOT_TRIGGER = (
    "CREATE TABLE IF NOT EXISTS bench_slots (delivery_id INTEGER PRIMARY KEY, send_after TEXT)",
    "CREATE TRIGGER IF NOT EXISTS bench_slots_capture AFTER INSERT ON deliveries BEGIN "
    "INSERT OR REPLACE INTO bench_slots VALUES (NEW.id, NEW.send_after); END",
)


@dataclass
class LoopLag:
    """Samples how late the event loop wakes a 5 ms sleep: stalls delay sends."""

    samples: list[float] = field(default_factory=list)
    period: float = 0.005

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            begun = time.perf_counter()
            await asyncio.sleep(self.period)
            self.samples.append((time.perf_counter() - begun - self.period) * 1000)

    def summary(self) -> dict[str, float]:
        return {
            "p50_ms": percentile(self.samples, 50),
            "p99_ms": percentile(self.samples, 99),
            "max_ms": max(self.samples) if self.samples else math.nan,
            "over_30ms": sum(1 for v in self.samples if v > 30),
        }


def classify_429(
    sends: Sequence[tuple[float, int | None, Any, int | None]], per_second: int, per_chat: int
) -> dict[str, Any]:
    """Which limit each 429 hit, from the arrival times the fake recorded."""
    ok = sorted((t, chat) for t, status, chat, _ in sends if status == 200)
    ok_times = [t for t, _ in ok]
    by_chat: dict[Any, list[float]] = {}
    for t, chat in ok:
        by_chat.setdefault(chat, []).append(t)
    first = ok_times[0] if ok_times else 0.0
    kinds: Counter[str] = Counter()
    offsets = []
    for t, status, chat, _ in sends:
        if status != 429:
            continue
        in_second = bisect.bisect_left(ok_times, t) - bisect.bisect_right(ok_times, t - 1.0)
        chat_times = by_chat.get(chat, [])
        chat_in_second = bisect.bisect_left(chat_times, t) - bisect.bisect_right(
            chat_times, t - 1.0
        )
        if chat_in_second >= per_chat:
            kinds["per_chat"] += 1
        elif in_second >= per_second:
            kinds["global"] += 1
        else:
            kinds["other"] += 1
        offsets.append(round(t - first, 3))
    return {"kinds": dict(kinds), "at_seconds": offsets}


def _lateness_rows(session: Session, due: dt.datetime) -> list[tuple[Any, ...]]:
    """(delivery, schedule, original slot text) for every delivery of `due`."""
    slots: dict[int, str] = {
        int(delivery_id): str(send_after)
        for delivery_id, send_after in session.execute(
            text("SELECT delivery_id, send_after FROM bench_slots")
        )
    }
    rows = session.execute(
        select(Delivery, Schedule)
        .join(Schedule, Schedule.id == Delivery.schedule_id)
        .where(Delivery.due_at == due)
    ).all()
    return [(d, s, slots.get(d.id)) for d, s in rows]


async def measure_limit(
    url: str,
    fake: FakeProcess,
    due: dt.datetime,
    expected: int,
    interval: float,
    tally: LogTally,
) -> dict[str, Any]:
    """Production limits on both sides; rate, 429s, unmeetable windows, lateness."""
    settings = Settings.model_construct()
    rate = float(settings.rate_limit_per_second)
    per_chat = float(settings.rate_limit_per_chat_per_second)
    engine = make_engine(url)
    with engine.begin() as connection:
        for statement in SLOT_TRIGGER:
            connection.exec_driver_sql(statement)
    engine.dispose()
    unmet_before = tally.unmet_windows
    clock = ShiftedClock(due, time.time())
    try:
        async with harness(url, fake.base_url, clock, rate=rate, per_chat=per_chat) as h:
            ideal = expected / rate
            lag, stop = LoopLag(), asyncio.Event()
            monitor = asyncio.create_task(lag.run(stop))
            try:
                seconds, ticks = await run_ticks(
                    h, due, interval, limit_seconds=max(60.0, ideal * 10)
                )
            finally:
                stop.set()
                await monitor
            rows = await h.db.run(_lateness_rows, due)
            statuses = await h.db.run(statuses_for, due)
            stats = h.dispatcher.stats
            limiter_429 = h.limiter.retry_after_count
    finally:
        engine = make_engine(url)
        with engine.begin() as connection:
            connection.exec_driver_sql("DROP TRIGGER IF EXISTS bench_slots_capture")
        engine.dispose()
    fake_stats = fake.stats()
    ok_times = sorted(s[0] for s in fake_stats["sends"] if s[1] == 200)
    span = ok_times[-1] - ok_times[0] if len(ok_times) > 1 else math.nan
    achieved = (len(ok_times) - 1) / span if span and span > 0 else math.nan
    meetable: list[float] = []
    unmeetable: list[float] = []
    versus_due: list[float] = []
    unmet_slots = 0
    for delivery, schedule, slot_text in rows:
        if slot_text is None:
            continue
        slot = from_sqlite(slot_text)
        _, window_end = occurrence_window(rule_of(schedule), delivery.due_at)
        inside = slot <= window_end
        unmet_slots += not inside
        if delivery.status != "sent" or delivery.sent_at is None:
            continue
        late = (delivery.sent_at - slot).total_seconds()
        (meetable if inside else unmeetable).append(late)
        versus_due.append((delivery.sent_at - delivery.due_at).total_seconds())
    return {
        "due": expected,
        "people": len({d.person_id for d, _, _ in rows}),
        "seconds": seconds,
        "ideal_seconds": ideal,
        "ticks": ticks,
        "statuses": statuses,
        "fake_send_ok": len(ok_times),
        "fake_send_calls": len(fake_stats["sends"]),
        "achieved_per_second": achieved,
        "share_of_limit": achieved / rate,
        "end_to_end_per_second": len(ok_times) / seconds,
        "fake_429": fake_stats["too_many_requests"],
        "fake_429_by_limit": classify_429(fake_stats["sends"], 30, 1),
        "loop_lag": lag.summary(),
        "limiter_saw_429": limiter_429,
        "dispatcher_rate_limited": stats.rate_limited,
        "unmet_windows_reported": tally.unmet_windows - unmet_before,
        "unmet_windows_from_slots": unmet_slots,
        "lateness_meetable_s": _spread(meetable),
        "lateness_unmeetable_vs_slot_s": _spread(unmeetable),
        "lateness_vs_due_s": _spread(versus_due),
        "dispatcher_lateness_s": _spread(list(stats.lateness)),
    }


async def measure_limiter_alone(
    fake: FakeProcess, chats: Sequence[int], chunk: int, cap_seconds: float
) -> dict[str, Any]:
    """The project's limiter on its own, fed the limit group's chats in claim order.

    Each person's nudges are adjacent, as the dispatcher takes them from the claim
    order, and are sent in chunks of the dispatcher's chunk size, gathered like
    `Dispatcher.send_ready` does, with `max_retries=0`. Stops after `cap_seconds`.
    """
    from telegram.ext import ExtBot

    settings = Settings.model_construct()
    rate = float(settings.rate_limit_per_second)
    limiter = TelegramRateLimiter(rate, float(settings.rate_limit_per_chat_per_second))
    bot: ExtBot[Any] = ExtBot(TOKEN, base_url=fake.base_url, rate_limiter=limiter)
    await bot.initialize()

    async def send(chat_id: int) -> None:
        await bot.send_message(chat_id, "Hello", rate_limit_args={"max_retries": 0})

    begun = time.perf_counter()
    capped = False
    try:
        async with asyncio.timeout(cap_seconds):
            for first in range(0, len(chats), chunk):
                part = chats[first : first + chunk]
                await asyncio.gather(*(send(c) for c in part), return_exceptions=True)
    except TimeoutError:
        capped = True
    elapsed = time.perf_counter() - begun
    await bot.shutdown()
    fake_stats = fake.stats()
    ok = sum(1 for s in fake_stats["sends"] if s[1] == 200)
    return {
        "nudges": len(chats),
        "chats": len(set(chats)),
        "chunk": chunk,
        "seconds": elapsed,
        "capped": capped,
        "sent": ok,
        "per_second": ok / elapsed,
        "share_of_limit": ok / elapsed / rate,
        "fake_429": fake_stats["too_many_requests"],
    }


def _spread(values: Sequence[float]) -> dict[str, float]:
    return {
        "count": len(values),
        "p50": percentile(values, 50),
        "p99": percentile(values, 99),
        "max": max(values) if values else math.nan,
    }


def dump_profiles(directory: Path, name: str, profiles: dict[str, cProfile.Profile]) -> list[str]:
    """Write .prof files and print the top functions of each to stderr."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for part, profile in profiles.items():
        path = directory / f"{name}-{part}.prof"
        profile.dump_stats(path)
        written.append(str(path))
        buffer = io.StringIO()
        stats = pstats.Stats(profile, stream=buffer).strip_dirs()
        stats.sort_stats("cumulative").print_stats(25)
        stats.sort_stats("tottime").print_stats(15)
        print(f"\n===== profile {name} / {part} ({path}) =====", file=sys.stderr)
        print(buffer.getvalue(), file=sys.stderr)
    return written


# ---------------------------------------------------------------------------- job queue


async def _noop_job(_context: Any) -> None:
    """The callback every benchmark job would run."""


async def _jobqueue_main(people: int) -> dict[str, Any]:
    from telegram.ext import Application

    app = Application.builder().token(TOKEN).build()
    job_queue = app.job_queue
    if job_queue is None:
        raise RuntimeError("python-telegram-bot was installed without the job-queue extra")
    await job_queue.start()
    zones = [ZoneInfo(z) for z in ZONES]
    gc.collect()
    before_kb = proc_status_kb(os.getpid(), "VmRSS")
    begun = time.perf_counter()
    for person_id in range(1, people + 1):
        zone = zones[person_id % len(zones)]
        local = EVENING_TIMES[(person_id // len(zones)) % len(EVENING_TIMES)]
        job_queue.run_daily(
            _noop_job,
            time=local.replace(tzinfo=zone),
            name=f"nudge:{person_id}",
            chat_id=CHAT_BASE + person_id,
            user_id=CHAT_BASE + person_id,
            data={"kind": NIGHTLY_APPRECIATION},
        )
    register = time.perf_counter() - begun
    await asyncio.sleep(0)
    gc.collect()
    after_kb = proc_status_kb(os.getpid(), "VmRSS")
    finds = []
    target = f"nudge:{people // 2}"
    found = 0
    for _ in range(5):
        begun = time.perf_counter()
        found = len(job_queue.get_jobs_by_name(target))
        finds.append(time.perf_counter() - begun)
    jobs = len(job_queue.scheduler.get_jobs())
    await job_queue.stop(wait=False)
    return {
        "people": people,
        "jobs": jobs,
        "register_seconds": register,
        "rss_before_mb": before_kb / 1024,
        "rss_after_mb": after_kb / 1024,
        "added_mb": (after_kb - before_kb) / 1024,
        "find_ms": statistics.median(finds) * 1000,
        "found": found,
    }


def measure_jobqueue(people: int) -> dict[str, Any]:
    """Run the JobQueue comparison in a fresh interpreter; returns its JSON answer."""
    completed = subprocess.run(  # noqa: S603 - this very module, fixed arguments
        [sys.executable, "-m", "benchmarks.scheduler_bench", "--jobqueue-child", str(people)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"job queue child failed: {completed.stderr[-2000:]}")
    answer: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return answer


# ---------------------------------------------------------------------------- machine


def machine_info() -> dict[str, Any]:
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory_gb = math.nan
    with contextlib.suppress(OSError, KeyError, ValueError):
        memory_gb = proc_meminfo_kb("MemTotal") / 1024 / 1024
    packages = {}
    for name in (
        "python-telegram-bot",
        "SQLAlchemy",
        "APScheduler",
        "httpx",
        "alembic",
        "Jinja2",
        "pydantic-settings",
        "uvicorn",
        "starlette",
    ):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            packages[name] = importlib.metadata.version(name)
    return {
        "load_average": [round(v, 2) for v in os.getloadavg()],
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory_gb": round(memory_gb, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "packages": packages,
    }


def code_state() -> dict[str, Any]:
    """The commit and the files changed since it (read-only git), to date the figures."""
    state: dict[str, Any] = {"commit": "unknown", "changed": []}
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607 - read-only git query
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
        state["commit"] = head.stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],  # noqa: S607 - read-only
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
        state["changed"] = [line[3:] for line in status.stdout.splitlines() if line.strip()]
    return state


def proc_meminfo_kb(name: str) -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith(f"{name}:"):
            return int(line.split()[1])
    raise KeyError(name)


# ---------------------------------------------------------------------------- output


def _fmt(value: float | int | str | None, unit: str) -> str:
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    if isinstance(value, float) and math.isnan(value):
        return "n/a"
    if isinstance(value, int):
        return f"{value:,}{(' ' + unit) if unit else ''}"
    magnitude = abs(value)
    digits = 0 if magnitude >= 1000 else 1 if magnitude >= 100 else 2 if magnitude >= 1 else 3
    return f"{value:,.{digits}f}{(' ' + unit) if unit else ''}"


def render_table(report: Report) -> str:
    meta = report.meta
    machine = meta["machine"]
    lines = [
        f"nudgebot scheduler benchmark - {machine['date']}",
        f"mode {meta['plan']['mode']}, {meta['plan']['people']:,} people; "
        f"command: {meta['command']}",
        f"machine: {machine['nproc']} CPUs ({machine['cpu']}), {machine['memory_gb']} GB RAM, "
        f"Linux {machine['kernel']}; load average at start {machine['load_average']}, "
        f"at end {meta.get('load_average_end', '?')}",
        f"Python {machine['python']}, SQLite {machine['sqlite']}; "
        + ", ".join(f"{k} {v}" for k, v in machine["packages"].items()),
        f"code: commit {meta['code']['commit']}"
        + (
            f", uncommitted changes in {', '.join(meta['code']['changed'])}"
            if meta["code"]["changed"]
            else ", clean"
        ),
        "",
    ]
    headers = ("Figure", "Value", "Target", "Met")
    rows = [
        (
            f.label,
            _fmt(f.value, f.unit),
            f.target or "-",
            "-" if f.met is None else ("yes" if f.met else "NO"),
        )
        for f in report.figures
    ]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    widths[0] = min(widths[0], 60)
    lines.append("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
    lines.append("  ".join("-" * w for w in widths))
    for row, figure in zip(rows, report.figures, strict=True):
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        if figure.note:
            lines.append(f"    {figure.note}")
    if report.notes:
        lines.append("")
        lines.extend(f"* {note}" for note in report.notes)
    return "\n".join(lines)


# ---------------------------------------------------------------------------- main


def run_all(args: argparse.Namespace, report: Report, tally: LogTally) -> None:
    """Every phase, in order, on one seeded database in a temporary directory."""
    plan = make_plan(args)
    report.meta["plan"] = asdict(plan)
    profile_dir: Path | None = Path(args.profile).resolve() if args.profile else None
    instants = Instants.around(dt.datetime.now(dt.UTC))
    layout = Layout.build(plan)
    report.meta["instants"] = {k: v.isoformat() for k, v in asdict(instants).items()}
    with tempfile.TemporaryDirectory(prefix="nudgebot-bench-") as tmp:
        workdir = Path(tmp)
        url = f"sqlite:///{workdir / 'bench.db'}"
        phase("seeding")
        report_seed(report, seed(url, plan, layout, instants))
        phase("real bot process")
        report_bot(report, plan, measure_bot_process(url, workdir, plan.bot_idle_seconds))

        from fakes.telegram_api import FakeTelegram

        with FakeTelegram(token=TOKEN) as quiet_fake:
            phase("idle tick")
            idle = measure_idle(url, quiet_fake.base_url, instants.idle, plan.idle_iterations)
            report_idle(report, asyncio.run(idle))
            phase("claim")
            claim = measure_claim(
                url,
                quiet_fake.base_url,
                instants.claim,
                plan.claim_due,
                profile_dir,
                args.batch_size,
            )
            report_claim(report, asyncio.run(claim))

        phase("full-path throughput")
        spec = FakeSpec(TOKEN, False, 30, 1, tuple(CHAT_BASE + p for p in layout.throughput))
        with FakeProcess(spec) as fake:
            throughput = measure_throughput(
                url,
                fake,
                instants.throughput,
                plan.throughput_due,
                plan.tick_seconds,
                profile_dir,
                args.batch_size,
            )
            report_throughput(report, asyncio.run(throughput))

        phase("at the limit")
        spec = FakeSpec(TOKEN, True, 30, 1, tuple(CHAT_BASE + p for p in layout.limit))
        with FakeProcess(spec) as fake:
            limit = measure_limit(
                url, fake, instants.limit, plan.limit_nudges, plan.tick_seconds, tally
            )
            report_limit(report, asyncio.run(limit))

    phase("same mix through the limiter in send_ready chunks")
    settings = Settings.model_construct()
    rate = float(settings.rate_limit_per_second)
    chunk = max(10, min(settings.dispatch_batch_size, math.ceil(rate * 2)))  # as Dispatcher
    chats = [
        CHAT_BASE + person_id
        for person_id in layout.limit
        for _ in range(1 + len(layout.extra_kinds.get(person_id, ())))
    ]
    spec = FakeSpec(TOKEN, True, 30, 1, tuple(sorted(set(chats))))
    with FakeProcess(spec) as fake:
        alone = measure_limiter_alone(fake, chats, chunk, min(60.0, 1.5 * len(chats) / rate))
        report_limiter_alone(report, asyncio.run(alone))

    phase("job queue alternative")
    report_jobqueue(report, measure_jobqueue(plan.jobqueue_people))
    report.notes.append(
        "Fake Bot API: in-process FakeTelegram for the real bot, idle and claim phases "
        "(no sends); a separate process (multiprocessing spawn, users created in the "
        "child from the chat ids) for the throughput and limit phases."
    )


def report_seed(report: Report, seeded: dict[str, Any]) -> None:
    report.details["seed"] = seeded
    report.add(
        Figure(
            "seed_seconds",
            f"Seed {seeded['people']:,} people + {seeded['schedules']:,} schedules",
            seeded["insert_seconds"],
            "s",
            note=f"{seeded['rows_per_second']:,.0f} rows/s in batches of {SEED_BATCH:,}; "
            f"migrations {seeded['migrate_seconds']:.2f} s; file {seeded['db_mb']:.0f} MB; "
            f"busiest minute of the spread: {seeded['busiest_minute']['nudges']:,} nudges",
        )
    )


def report_bot(report: Report, plan: Plan, bot: dict[str, Any]) -> None:
    report.details["bot_process"] = bot
    scaled = plan.people < TARGET_PEOPLE
    scale = f"scaled run: the target is for {TARGET_PEOPLE:,} people; " if scaled else ""
    report.add(
        Figure(
            "bot_startup_s",
            "`nudgebot run` start-up (spawn -> first getUpdates)",
            bot["startup_seconds"],
            "s",
            f"< {TARGET_STARTUP_S:g} s",
            bot["startup_seconds"] < TARGET_STARTUP_S,
            note=f"{scale}Bot API calls seen: {bot['calls_seen']}",
        )
    )
    report.add(
        Figure(
            "bot_rss_mb",
            f"`nudgebot run` RSS after {plan.bot_idle_seconds:g} s idle",
            bot["rss_mb"],
            "MB",
            f"< {TARGET_RSS_MB:g} MB",
            bot["rss_mb"] < TARGET_RSS_MB,
            note=f"{scale}peak (VmHWM) {bot['peak_rss_mb']:.1f} MB; CPU {bot['cpu_seconds']:.2f} s",
        )
    )
    report.add(
        Figure(
            "bot_exit_s",
            "`nudgebot run` exit after SIGTERM",
            bot["exit_seconds"],
            "s",
            note=f"exit code {bot['exit_code']}",
        )
    )


def report_idle(report: Report, idle: dict[str, Any]) -> None:
    report.details["idle_tick"] = idle
    for key, name in (("median_ms", "median"), ("p99_ms", "p99")):
        report.add(
            Figure(
                f"idle_tick_{key}",
                f"Idle tick, claim()+send_ready(), {name} of {idle['iterations']}",
                idle[key],
                "ms",
                f"< {TARGET_IDLE_TICK_MS:g} ms",
                idle[key] < TARGET_IDLE_TICK_MS,
            )
        )


def report_claim(report: Report, claim: dict[str, Any]) -> None:
    report.details["claim"] = claim
    report.add(
        Figure(
            "claim_total_ms",
            f"Claim {claim['schedules']:,} due (loop claim() until 0)",
            claim["total_ms"],
            "ms",
            note=f"{claim['batches']} batches of {claim['batch_size']}, median "
            f"{claim['batch_median_ms']:.0f} ms; {claim['deliveries_claimed']:,} claimed, "
            f"{claim['skipped_quiet_hours']:,} skipped (quiet hours)",
        )
    )
    report.add(
        Figure("claim_per_nudge_us", "Claim cost per due nudge", claim["per_nudge_us"], "µs")
    )


def report_throughput(report: Report, result: dict[str, Any]) -> None:
    report.details["throughput"] = result
    report.add(
        Figure(
            "throughput_per_s",
            f"Full path, {result['due']:,} nudges, limiter off (claim+render+send+record)",
            result["per_second"],
            "nudges/s",
            f">= {TARGET_THROUGHPUT:g}/s",
            result["per_second"] >= TARGET_THROUGHPUT,
            note=f"{result['seconds']:.2f} s in {result['ticks']} drain(s), batch "
            f"{result['batch_size']}, {result['in_flight']} sends in flight; retried "
            f"{result['retried']}, failed {result['failed']}; CPU: bot "
            f"{result['bot_cpu_seconds']:.1f} s, fake {result['fake_cpu_seconds']:.1f} s; "
            "database thread: " + describe_breakdown(result["db_thread"], result["due"]),
        )
    )
    report.add(
        Figure(
            "throughput_confirmed",
            "  fake got that many sendMessage; DB has that many sent",
            f"{result['fake_send_ok']:,} / {result['statuses'].get('sent', 0):,}",
            target=f"{result['due']:,} / {result['due']:,}",
            met=bool(result["confirmed"]),
        )
    )
    render = result["render_us"]
    report.add(
        Figure(
            "render_us",
            "  render one nudge (Dispatcher.render)",
            render["render_us"],
            "µs",
            note="of which Renderer.names() (a glob of templates/, per nudge) "
            f"{render['names_us']:.0f} µs",
        )
    )


def report_limit(report: Report, limit: dict[str, Any]) -> None:
    report.details["limit"] = limit
    delivered = sum(limit["statuses"].values())
    report.add(
        Figure(
            "limit_share",
            f"At the limit: {limit['due']:,} nudges to {limit['people']:,} chats, rate / 30/s",
            limit["share_of_limit"] * 100,
            "%",
            f">= {TARGET_RATE_SHARE * 100:g}%",
            limit["share_of_limit"] >= TARGET_RATE_SHARE,
            note=f"{limit['achieved_per_second']:.1f}/s at the fake (first to last send); "
            f"all done in {limit['seconds']:.1f} s (ideal {limit['ideal_seconds']:.1f} s); "
            f"statuses {limit['statuses']}",
        )
    )
    report.add(
        Figure(
            "limit_delivered",
            "  deliveries created for the nudges due",
            delivered,
            "",
            f"{limit['due']:,}",
            delivered == limit["due"],
            note="every due schedule advanced; a shortfall means nudges were dropped at claim",
        )
    )
    lag = limit["loop_lag"]
    report.add(
        Figure(
            "limit_429",
            "  429 answers served by the fake",
            limit["fake_429"],
            "",
            "0",
            limit["fake_429"] == 0,
            note=f"by limit: {limit['fake_429_by_limit']['kinds'] or 'none'}; event-loop lag "
            f"in the bot: p99 {lag['p99_ms']:.1f} ms, max {lag['max_ms']:.0f} ms, "
            f"{lag['over_30ms']} stalls > 30 ms (the limiter's 3% margin is ~31 ms)",
        )
    )
    meet = limit["lateness_meetable_s"]
    report.add(
        Figure(
            "limit_lateness_p99_s",
            f"  lateness, sent_at - assigned slot, {meet['count']:,} meetable windows: p99",
            meet["p99"],
            "s",
            f"< {TARGET_LATENESS_P99_S:g} s",
            (not math.isnan(meet["p99"])) and meet["p99"] < TARGET_LATENESS_P99_S,
            note=f"p50 {meet['p50']:.2f} s, max {meet['max']:.2f} s",
        )
    )
    due = limit["lateness_vs_due_s"]
    report.add(
        Figure(
            "limit_lateness_due_p99_s",
            "  lateness, sent_at - due_at, all sent: p99",
            due["p99"],
            "s",
            note=f"p50 {due['p50']:.2f} s, max {due['max']:.2f} s",
        )
    )
    report.add(
        Figure(
            "limit_unmet_windows",
            "  windows the dispatcher reported unmeetable",
            limit["unmet_windows_reported"],
            "",
            note=f"{limit['unmet_windows_from_slots']:,} slots past their window end by our "
            "own count (0-minute windows: every slot after the due instant counts)",
        )
    )


def report_limiter_alone(report: Report, alone: dict[str, Any]) -> None:
    report.details["limiter_alone"] = alone
    capped = " (stopped at the time cap)" if alone["capped"] else ""
    report.add(
        Figure(
            "limiter_alone_share",
            f"Same mix via limiter in send_ready chunks, no DB ({alone['nudges']:,} nudges)",
            alone["share_of_limit"] * 100,
            "%",
            f">= {TARGET_RATE_SHARE * 100:g}%",
            alone["share_of_limit"] >= TARGET_RATE_SHARE,
            note=f"{alone['sent']:,} sent in {alone['seconds']:.1f} s{capped}, chunks of "
            f"{alone['chunk']} gathered like Dispatcher.send_ready, {alone['fake_429']} x 429; "
            "a chat's nudges adjacent, as the slotter orders them: the rate the limit phase "
            "gets once every due schedule yields its delivery",
        )
    )


def report_jobqueue(report: Report, jobs: dict[str, Any]) -> None:
    report.details["jobqueue"] = jobs
    report.add(
        Figure(
            "jobqueue_register_s",
            f"JobQueue: register {jobs['jobs']:,} run_daily jobs ({jobs['people']:,} people)",
            jobs["register_seconds"],
            "s",
        )
    )
    report.add(
        Figure(
            "jobqueue_added_mb",
            "  memory the jobs add (RSS after - before)",
            jobs["added_mb"],
            "MB",
            note=f"{jobs['rss_before_mb']:.0f} MB -> {jobs['rss_after_mb']:.0f} MB",
        )
    )
    report.add(
        Figure(
            "jobqueue_find_ms",
            "  get_jobs_by_name() for one person",
            jobs["find_ms"],
            "ms",
            note=f"{ISSUE_JOBQUEUE_REFERENCE}. Jobs live in memory only: a restart loses "
            "them all, while the dispatcher keeps everything in the database.",
        )
    )


def describe_breakdown(breakdown: dict[str, dict[str, float]], nudges: int) -> str:
    return ", ".join(
        f"{name} {entry['seconds']:.2f} s ({entry['seconds'] / max(nudges, 1) * 1e6:.0f} µs/nudge)"
        for name, entry in breakdown.items()
        if name not in ("pending_for",)
    )


def phase(name: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {name} ...", file=sys.stderr, flush=True)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.scheduler_bench",
        description="Benchmark nudgebot's scheduler (see the module docstring).",
    )
    parser.add_argument("--people", type=int, help="people to seed (default 1,000,000)")
    parser.add_argument("--quick", action="store_true", help="small smoke run (< 1 minute)")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON here")
    parser.add_argument("--claim-due", type=int, help="schedules due in the claim phase")
    parser.add_argument("--throughput-due", type=int, help="nudges in the throughput phase")
    parser.add_argument("--limit-nudges", type=int, help="nudges in the at-the-limit phase")
    parser.add_argument("--jobqueue-people", type=int, help="people in the JobQueue comparison")
    parser.add_argument("--profile", metavar="DIR", help="cProfile claim and throughput phases")
    parser.add_argument(
        "--batch-size", type=int, help="dispatcher batch size (default: the project's default)"
    )
    parser.add_argument("--verbose", action="store_true", help="echo log records to stderr")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--jobqueue-child", type=int, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.jobqueue_child is not None:
        print(json.dumps(asyncio.run(_jobqueue_main(args.jobqueue_child))))
        return 0
    # The logger levels `nudgebot run` uses at LOG_LEVEL=INFO (httpx held at WARNING, ...),
    # with the records counted instead of printed.
    logs.configure(logging.INFO)
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    tally = LogTally(echo=bool(args.verbose))
    root.addHandler(tally)
    report = Report()
    report.meta["machine"] = machine_info()
    report.meta["code"] = code_state()
    report.meta["command"] = " ".join(
        [Path(sys.executable).name, "-m", "benchmarks.scheduler_bench", *sys.argv[1:]]
    )
    begun = time.monotonic()
    try:
        run_all(args, report, tally)
    finally:
        root.removeHandler(tally)
        report.meta["wall_seconds"] = time.monotonic() - begun
        report.meta["load_average_end"] = [round(v, 2) for v in os.getloadavg()]
        report.details["log_summary"] = tally.summary()
        if args.json:
            Path(args.json).write_text(json.dumps(report.to_json(), indent=2, default=str))
    print(render_table(report))
    print("\nlog records during the run (top):\n" + "\n".join(tally.summary()))
    print(f"\ntotal wall time {report.meta['wall_seconds']:.0f} s")
    missed = [f.key for f in report.figures if f.met is False]
    return 1 if (args.strict and missed) else 0


if __name__ == "__main__":
    sys.exit(main())
