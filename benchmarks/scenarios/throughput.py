"""Scenario 1, throughput with the limiter off: our full path next to the usual ways.

The same N messages, against the same fake Bot API (its own process, no limits), by:

full path            the dispatcher as `nudgebot run` wires it (`benchmarks.harness`): claim
                     N due schedules on SQLite, take, compose, mark leaving, send on the
                     project's aiohttp request class, record; driven tick by tick like the
                     job queue drives it. Each repeat gets N freshly seeded people.
PTB, aiohttp request python-telegram-bot's `ExtBot.send_message` on `bot.aiohttp_request`
                     (the project's request class), no database: the transport alone.
bare PTB loop        `ExtBot.send_message` with PTB's default request class (httpx), its
                     pool sized to the same number in flight.
raw aiohttp          `aiohttp.ClientSession.post` of the same JSON body, the answer parsed
                     with `json.loads` and nothing else: what the fake and loopback allow.
JobQueue per person  a bot built the usual way: `Application.builder()` defaults (httpx,
                     no rate limiter), one `job_queue.run_once` job per person, all at one
                     instant, each job sending its message. APScheduler's defaults apply: a
                     job that starts more than 1 s late is skipped (counted as dropped).
                     A send that raises counts as failed; a run is capped at 60 s.

Every peer keeps at most `MAX_IN_FLIGHT` (the dispatcher's bound, 32) requests open,
except the JobQueue peer, which has no such bound (that is how it is usually built).
The peers run in a different order in each repeat. Rates are messages the fake answered
with 200, divided by the time from the first request (the due instant for the full path
and the job queue) to the last answer.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from apscheduler.events import (  # type: ignore[import-untyped]
    EVENT_JOB_ERROR,
    EVENT_JOB_MISSED,
    JobExecutionEvent,
)
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.ext import Application, CallbackContext, ExtBot
from telegram.request import HTTPXRequest

from benchmarks import harness
from benchmarks.fake import TOKEN, FakeProcess, ok_per_chat, proc_cpu_seconds
from benchmarks.report import Table, load, median, number, progress, ratio
from benchmarks.seed import FIRST_CHAT_ID, fresh_database, seed_due
from bot.aiohttp_request import AiohttpRequest
from scheduler.dispatcher import MAX_IN_FLIGHT

# Roughly a nightly prompt: its length, HTML parse mode and the three snooze buttons.
TEXT = (
    "Good evening, <b>Seed</b>. Tonight: what is one small thing your partner did today "
    "that you appreciated? Reply here; only you see it until you choose to share it."
)
BUTTONS = (("In an hour", "snooze:1.h"), ("Tonight", "snooze:1.t"), ("Tomorrow", "snooze:1.d"))
PEERS = ("full path", "PTB, aiohttp request", "bare PTB loop", "raw aiohttp", "JobQueue per person")
REFERENCE = "raw aiohttp"
JOB_QUEUE_CAP = 60.0  # seconds after the due instant


@dataclass
class Run:
    """One peer's one repeat."""

    seconds: float
    sent: int
    attempted: int
    load1: float
    fake_cpu: float
    dropped: int = 0
    failed: int = 0
    capped: bool = False

    @property
    def rate(self) -> float:
        return self.sent / self.seconds if self.seconds > 0 else float("nan")


@dataclass
class Results:
    runs: dict[str, list[Run]] = field(default_factory=lambda: {p: [] for p in PEERS})
    registered_seconds: list[float] = field(default_factory=list)


def _markup() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(t, callback_data=d) for t, d in BUTTONS]])


async def _bounded(chats: range, send: Callable[[int], Awaitable[Any]]) -> None:
    gate = asyncio.Semaphore(MAX_IN_FLIGHT)

    async def one(chat: int) -> None:
        async with gate:
            await send(chat)

    await asyncio.gather(*(one(chat) for chat in chats), return_exceptions=True)


async def _ptb_loop(fake: FakeProcess, chats: range, request: Any) -> float:
    bot: ExtBot[Any] = ExtBot(TOKEN, base_url=fake.base_url, request=request)
    markup = _markup()

    async def send(chat: int) -> None:
        await bot.send_message(chat, TEXT, parse_mode=ParseMode.HTML, reply_markup=markup)

    async with bot:
        started = time.perf_counter()
        await _bounded(chats, send)
        return time.perf_counter() - started


async def _raw_aiohttp(fake: FakeProcess, chats: range) -> float:
    url = f"{fake.api_url}/sendMessage"
    markup = {"inline_keyboard": [[{"text": t, "callback_data": d} for t, d in BUTTONS]]}
    connector = aiohttp.TCPConnector(limit=MAX_IN_FLIGHT)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def send(chat: int) -> None:
            body = {"chat_id": chat, "text": TEXT, "parse_mode": "HTML", "reply_markup": markup}
            async with session.post(url, json=body) as answer:
                json.loads(await answer.read())

        started = time.perf_counter()
        await _bounded(chats, send)
        return time.perf_counter() - started


@dataclass
class JobRun:
    seconds: float
    dropped: int
    failed: int
    registered: float
    capped: bool


async def _job_queue(fake: FakeProcess, chats: range, cap: float) -> JobRun:
    """Time from the due instant to the last answer, or `cap` if it runs longer."""
    app = Application.builder().token(TOKEN).base_url(fake.base_url).build()
    job_queue = app.job_queue
    if job_queue is None:
        raise RuntimeError("python-telegram-bot was installed without its job-queue extra")
    markup = _markup()
    finished: list[float] = []
    dropped = failed = 0
    done = asyncio.Event()

    def settle() -> None:
        if len(finished) + dropped >= len(chats):
            done.set()

    async def nudge(context: CallbackContext[Any, Any, Any, Any]) -> None:
        nonlocal failed
        assert context.job is not None and context.job.chat_id is not None
        try:
            await context.bot.send_message(
                context.job.chat_id, TEXT, parse_mode=ParseMode.HTML, reply_markup=markup
            )
        except Exception:
            failed += 1
        finally:
            finished.append(time.time())
            settle()

    def on_event(event: JobExecutionEvent) -> None:
        nonlocal dropped
        if event.code == EVENT_JOB_MISSED:
            dropped += 1
        loop.call_soon_threadsafe(settle)

    loop = asyncio.get_running_loop()
    # Far enough ahead that registering and starting are over before the jobs fire.
    due = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=3 + len(chats) / 1000)
    begun = time.perf_counter()
    for chat in chats:
        job_queue.run_once(nudge, when=due, chat_id=chat, name=f"nudge:{chat}")
    capped = False
    async with app:
        await app.start()
        registered = time.perf_counter() - begun
        job_queue.scheduler.add_listener(on_event, EVENT_JOB_MISSED | EVENT_JOB_ERROR)
        try:
            wait = due.timestamp() + cap - time.time()
            await asyncio.wait_for(done.wait(), timeout=max(1.0, wait))
        except TimeoutError:
            capped = True
        finally:
            await app.stop()  # cancels the jobs still running
    last = max(finished) if finished else due.timestamp()
    seconds = cap if capped else last - due.timestamp()
    return JobRun(seconds, dropped, failed, registered, capped)


async def _full_path(fake: FakeProcess, url: str, due: dt.datetime, count: int) -> float:
    clock = harness.ShiftedClock.starting_at(due)
    async with harness.dispatcher(url, fake.base_url, clock, rate=0.0, per_chat=0.0) as wired:
        seconds, _ = await harness.drain_until_done(
            wired, url, interval=1.0, limit_seconds=120 + count / 20
        )
    return seconds


def run(workdir: Path, count: int, repeats: int) -> Results:
    """Every peer `repeats` times, N = `count` messages each, in rotating order."""
    results = Results()
    url = fresh_database(workdir, "throughput.db")
    base = (dt.datetime.now(dt.UTC) + dt.timedelta(days=2)).replace(second=0, microsecond=0)
    for repeat in range(repeats):
        # Each repeat's people fire an hour after the previous repeat's.
        seed_due(url, count, FIRST_CHAT_ID + repeat * count, base + dt.timedelta(hours=repeat))
    with FakeProcess() as fake:
        fake.add_users(FIRST_CHAT_ID, count * repeats)
        for repeat in range(repeats):
            chats = range(FIRST_CHAT_ID + repeat * count, FIRST_CHAT_ID + (repeat + 1) * count)
            order = PEERS[repeat % len(PEERS) :] + PEERS[: repeat % len(PEERS)]
            for peer in order:
                progress(f"throughput: repeat {repeat + 1}/{repeats}, {peer}, {count:,} messages")
                load1 = float(load().split("/")[0])
                after = fake.seq()
                cpu0 = proc_cpu_seconds(fake.pid)
                jobs = None
                if peer == "full path":
                    due = base + dt.timedelta(hours=repeat)
                    seconds = asyncio.run(_full_path(fake, url, due, count))
                elif peer == "PTB, aiohttp request":
                    seconds = asyncio.run(
                        _ptb_loop(fake, chats, AiohttpRequest(connection_pool_size=MAX_IN_FLIGHT))
                    )
                elif peer == "bare PTB loop":
                    request = HTTPXRequest(connection_pool_size=MAX_IN_FLIGHT)
                    seconds = asyncio.run(_ptb_loop(fake, chats, request))
                elif peer == "raw aiohttp":
                    seconds = asyncio.run(_raw_aiohttp(fake, chats))
                else:
                    jobs = asyncio.run(_job_queue(fake, chats, JOB_QUEUE_CAP))
                    seconds = jobs.seconds
                    results.registered_seconds.append(jobs.registered)
                sent = sum(ok_per_chat(fake.sends(after)).values())
                cpu = proc_cpu_seconds(fake.pid) - cpu0
                results.runs[peer].append(
                    Run(
                        seconds,
                        sent,
                        count,
                        load1,
                        cpu / seconds if seconds else 0.0,
                        dropped=jobs.dropped if jobs else 0,
                        failed=jobs.failed if jobs else 0,
                        capped=bool(jobs and jobs.capped),
                    )
                )
    return results


def table(results: Results, count: int, repeats: int) -> Table:
    """Messages a second, min and median, and the ratio to raw aiohttp."""
    out = Table(
        f"1. Throughput, limiter off: {count:,} messages x {repeats} repeats, same fake",
        (
            "peer",
            "msgs/s min",
            "msgs/s median",
            "x raw aiohttp",
            "sent/asked",
            "dropped/failed",
            "fake CPU",
            "load 1-min",
        ),
    )
    reference = median([r.rate for r in results.runs[REFERENCE]])
    for peer in PEERS:
        runs = results.runs[peer]
        rates = [r.rate for r in runs]
        loads = [r.load1 for r in runs]
        out.add(
            peer,
            number(min(rates)),
            number(median(rates)),
            ratio(median(rates), reference),
            f"{sum(r.sent for r in runs):,}/{sum(r.attempted for r in runs):,}",
            f"{sum(r.dropped for r in runs):,}/{sum(r.failed for r in runs):,}"
            + (f" ({sum(r.capped for r in runs)} capped)" if any(r.capped for r in runs) else ""),
            f"{median([r.fake_cpu for r in runs]) * 100:.0f}%",
            f"{min(loads):.1f}-{max(loads):.1f}",
        )
    full = median([r.rate for r in results.runs["full path"]])
    bare = median([r.rate for r in results.runs["bare PTB loop"]])
    out.notes.append(
        f"target: full path >= 1.0x the bare PTB loop in the same run: {ratio(full, bare)} "
        f"({'met' if full >= bare else 'NOT met'}); stretch >= 1,000/s: {number(full)}/s"
    )
    if results.registered_seconds:
        out.notes.append(
            f"JobQueue: registering {count:,} run_once jobs and starting took "
            f"{number(median(results.registered_seconds))} s (median); those jobs live in "
            "memory only. 'dropped': jobs APScheduler skipped as more than 1 s late; "
            "'failed': sends that raised (PTB's default httpx pool times out when many "
            f"requests wait for it); 'capped': stopped {JOB_QUEUE_CAP:.0f} s after the due "
            "instant, the rate is what was sent by then"
        )
    out.notes.append(
        f"at most {MAX_IN_FLIGHT} requests in flight for every peer but the JobQueue one; "
        "fake CPU = the fake's CPU time / the run's wall time (100% = the fake is the limit)"
    )
    return out
