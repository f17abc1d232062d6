"""Scenario 4, crashes: SIGKILL the real `nudgebot run` at random points of a burst.

N seeded people are due at once (limiter off: the burst is as fast as the bot can go,
which puts the most requests in flight). The real console script is started against
the fake Bot API (in this process) and, K times, killed with SIGKILL at a random
instant between 0 and 1 s after its first send of that run, then started again. After
the K-th kill it runs to the end of the burst and stops with SIGTERM.

The bot reaches the fake through a relay (`benchmarks.wiretap`) that notes each request
as its bytes cross: a request is on the wire once the bot has written it, whether or not
the fake has read it yet (the fake, like any server, drops requests still queued in its
socket when a killed client's connection closes). At each kill:

in flight       requests that crossed the wire in this run whose outcome the bot had not
                recorded (their delivery is not `sent`): the sends that were truly
                ambiguous at the kill;
marked sending  deliveries left `sending`: the next start records them `ambiguous` and
                never sends them again;
never reached   of those, the ones whose request never crossed the wire: marked too
                early (the target is that ambiguous deliveries are at most the requests
                in flight).

At the end, per person (one nudge each), from the fake's record of what it accepted:
duplicates (more than one message; must be 0) and lost (no message, yet not recorded
ambiguous; must be 0).
"""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.fake import TOKEN, ok_per_chat
from benchmarks.report import Table, load, number, progress
from benchmarks.seed import (
    FIRST_CHAT_ID,
    delivery_rows,
    fresh_database,
    open_work,
    seed_due,
    this_minute,
)
from benchmarks.wiretap import WireTap
from fakes.telegram_api import FakeTelegram
from scheduler.dispatcher import MAX_IN_FLIGHT

NUDGEBOT = Path(sys.executable).with_name("nudgebot")
KILL_WINDOW = 1.0  # seconds after the run's first send
SETTLE = 0.3  # seconds for the fake to finish reading what reached it


@dataclass
class Kill:
    after_first_send: float
    startup: float
    sent_this_run: int
    in_flight: int
    marked_sending: int
    never_reached: int


@dataclass
class Crashes:
    people: int
    kills: list[Kill] = field(default_factory=list)
    burst_ended_early: bool = False
    duplicates: int = 0
    lost: int = 0
    ambiguous: int = 0
    ambiguous_delivered: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    load_start: str = ""
    load_end: str = ""


def _env(api_url: str, url: str) -> dict[str, str]:
    """Ours minus any bot settings, plus the API (the relay), the database and the
    limiter off."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TELEGRAM_", "DATABASE_", "DISPATCH_", "RATE_LIMIT_", "GRACE_"))
    }
    env.update(
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=api_url,
        DATABASE_URL=url,
        POLL_TIMEOUT_SECONDS="1",
        RATE_LIMIT_PER_SECOND="0",
        RATE_LIMIT_PER_CHAT_PER_SECOND="0",
        DASHBOARD_ENABLED="false",
        LOG_LEVEL="WARNING",
    )
    return env


def _spawn(workdir: Path, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(  # noqa: S603 - our own console script, fixed arguments
            [str(NUDGEBOT), "run"],
            cwd=workdir,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )


def _first_send(fake: FakeTelegram, after: int, process: subprocess.Popen[bytes]) -> float | None:
    """Arrival time of this run's first sendMessage; None if the process ended or stalled."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        log = fake.request_log("sendMessage", after)
        if log:
            return log[0][1]
        time.sleep(0.01)
    return None


def run(workdir: Path, people: int, kills: int, seed: int = 20261202) -> Crashes:
    """Seed `people` due now; kill the bot `kills` times mid-burst; let it finish."""
    rng = random.Random(seed)  # noqa: S311 - when to kill, not security
    url = fresh_database(workdir, "crash.db")
    seed_due(url, people, FIRST_CHAT_ID, this_minute())
    result = Crashes(people, load_start=load())
    log = workdir / "nudgebot-crash.log"
    chats = range(FIRST_CHAT_ID, FIRST_CHAT_ID + people)
    with FakeTelegram(token=TOKEN) as fake, WireTap(fake.base_url) as wire:
        for chat in chats:
            fake.user(chat)
        env = _env(wire.base_url, url)
        for number_ in range(kills):
            after = fake.call_seq
            wired = wire.count
            spawned = time.time()
            process = _spawn(workdir, env, log)
            try:
                first = _first_send(fake, after, process)
                if first is None:
                    result.burst_ended_early = True
                    progress(f"crash: no send in run {number_ + 1}; the burst is over")
                    break
                delay = rng.uniform(0.0, KILL_WINDOW)
                time.sleep(max(0.0, first + delay - time.time()))
                process.send_signal(signal.SIGKILL)
                process.wait(30)
                killed_at = time.time()
            finally:
                if process.poll() is None:
                    process.kill()
                    process.wait(30)
            time.sleep(SETTLE)
            reached = fake.request_log("sendMessage", after)
            status_now = dict(delivery_rows(url, FIRST_CHAT_ID, people))
            crossed = set(wire.chats(wired))
            sending = {chat for chat, status in status_now.items() if status == "sending"}
            ever = set(wire.chats())
            in_flight = {c for c in crossed if status_now.get(c) != "sent"}
            result.kills.append(
                Kill(
                    after_first_send=killed_at - first,
                    startup=first - spawned,
                    sent_this_run=sum(1 for r in reached if r[2] == 200),
                    in_flight=len(in_flight),
                    marked_sending=len(sending),
                    never_reached=len(sending - ever),
                )
            )
            progress(
                f"crash: kill {number_ + 1}/{kills}: {result.kills[-1].sent_this_run} sent, "
                f"{len(in_flight)} in flight, {len(sending)} left sending"
            )
        progress("crash: a last run to the end of the burst")
        process = _spawn(workdir, env, log)
        try:
            deadline = time.monotonic() + 120 + people / 20
            while open_work(url, dt.datetime.now(dt.UTC)) and time.monotonic() < deadline:
                if process.poll() is not None:
                    raise RuntimeError(f"nudgebot exited early; see {log}")
                time.sleep(0.5)
            time.sleep(SETTLE)
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
        delivered = ok_per_chat(fake.request_log("sendMessage", 0))
    rows = delivery_rows(url, FIRST_CHAT_ID, people)
    final: dict[Any, str] = dict(rows)
    result.statuses = {}
    for _, status in rows:
        result.statuses[status] = result.statuses.get(status, 0) + 1
    result.duplicates = sum(n - 1 for n in delivered.values() if n > 1)
    ambiguous = {chat for chat, status in final.items() if status == "ambiguous"}
    result.ambiguous = len(ambiguous)
    result.ambiguous_delivered = len(ambiguous & set(delivered))
    result.lost = sum(1 for chat in chats if chat not in delivered and chat not in ambiguous)
    result.load_end = load()
    return result


def tables(result: Crashes) -> list[Table]:
    kills = result.kills
    summary = Table(
        f"4. Crash: SIGKILL of `nudgebot run` {len(kills)} times during a burst of "
        f"{result.people:,} nudges (limiter off), then a run to the end",
        ("figure", "value", "target", "met"),
    )
    summary.add(
        "duplicates (a person got two)", f"{result.duplicates:,}", "0", _met(not result.duplicates)
    )
    summary.add(
        "lost (nothing arrived, not ambiguous)", f"{result.lost:,}", "0", _met(not result.lost)
    )
    over = sum(1 for k in kills if k.marked_sending > k.in_flight)
    summary.add(
        "kills where ambiguous > requests in flight",
        f"{over} of {len(kills)}",
        "0",
        _met(over == 0),
    )
    # The bound that holds by construction: a delivery's mark is committed before its
    # request is written (the other order could send a nudge the next process sends
    # again), in groups of at most MAX_IN_FLIGHT; a kill between a group's commit and its
    # writes leaves at most that group ambiguous without having left.
    beyond = max((k.marked_sending - k.in_flight for k in kills), default=0)
    summary.add(
        "most ambiguous beyond in flight in one kill (marked, not yet written)",
        f"{max(beyond, 0):,}",
        f"<= {MAX_IN_FLIGHT} (one mark group)",
        _met(beyond <= MAX_IN_FLIGHT),
    )
    in_flight = sum(k.in_flight for k in kills)
    summary.add(
        "ambiguous in the end / of which did arrive",
        f"{result.ambiguous:,} / {result.ambiguous_delivered:,}",
        f"<= {in_flight:,} in flight",
        _met(result.ambiguous <= in_flight),
    )
    summary.add(
        "deliveries by status",
        ", ".join(f"{k} {v:,}" for k, v in sorted(result.statuses.items())),
        f"{result.people:,} in all",
        _met(sum(result.statuses.values()) == result.people),
    )
    if result.burst_ended_early:
        summary.notes.append("the burst ended before every kill was made: seed more people")
    summary.notes.append(f"load average at start {result.load_start}, at end {result.load_end}")
    per_kill = Table(
        "4b. Per kill: min / median / max (total)",
        ("figure", "min", "median", "max", "total"),
    )
    seconds_rows = (
        ("killed after the run's first send (s)", [k.after_first_send for k in kills]),
        ("start-up: spawn to first send (s)", [k.startup for k in kills]),
    )
    for label, values in seconds_rows:
        if values:
            per_kill.add(
                label,
                number(min(values)),
                number(statistics.median(values)),
                number(max(values)),
                "-",
            )
    count_rows = (
        ("sent in the run", [k.sent_this_run for k in kills]),
        ("requests in flight at the kill", [k.in_flight for k in kills]),
        ("left sending (ambiguous)", [k.marked_sending for k in kills]),
        ("  of which never crossed the wire", [k.never_reached for k in kills]),
    )
    for label, counts in count_rows:
        if counts:
            per_kill.add(
                label,
                f"{min(counts):,}",
                number(statistics.median(counts)),
                f"{max(counts):,}",
                f"{sum(counts):,}",
            )
    return [summary, per_kill]


def _met(ok: bool) -> str:
    return "yes" if ok else "NO"
