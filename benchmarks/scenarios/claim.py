"""Scenario 6, claim cost per nudge: N due at one instant, claimed on SQLite.

For each size, a fresh database with N seeded people due at the same instant; the
dispatcher (production batch size, 30/s and 1/s per chat) claims until nothing is
left, its clock fixed at that instant. Timed: every `Dispatcher.claim()` call (the
queries, the rules, the slots, the inserts), divided by N. Nothing is sent. One run per
size (seeding 100,000 takes longer than claiming them), after an untimed warm-up claim
of 200 others; the per-batch median shows whether later batches cost more.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import statistics
import time
from pathlib import Path

from telegram.ext import ExtBot

from benchmarks.fake import TOKEN
from benchmarks.report import Table, load, number, progress
from benchmarks.seed import FIRST_CHAT_ID, fresh_database, seed_due
from bot.composer import Composer
from bot.render import Renderer
from bot.settings import DEFAULT_TEMPLATES_DIR, Settings
from bot.transport import TelegramTransport
from scheduler.dispatcher import Dispatcher
from storage.db import Database

WARM_UP = 200  # people claimed, untimed, an hour earlier: statement caches, imports


async def _claim_all(url: str, due: dt.datetime) -> tuple[float, list[float], int]:
    """(seconds in claim(), per-batch seconds, schedules claimed at `due`)."""
    settings = Settings.model_construct()
    db = Database(url)
    instant = [due - dt.timedelta(hours=1)]

    def clock() -> dt.datetime:
        return instant[0]

    dispatcher = Dispatcher(
        db,
        Composer(Renderer(DEFAULT_TEMPLATES_DIR, settings.default_language), clock),
        TelegramTransport(ExtBot(TOKEN)),  # never used: nothing is sent here
        grace=settings.grace_seconds,
        clock=clock,
        batch_size=settings.dispatch_batch_size,
        rate_per_second=settings.rate_limit_per_second,
        per_chat_per_second=settings.rate_limit_per_chat_per_second,
    )
    batches: list[float] = []
    claimed = 0
    try:
        while await dispatcher.claim():
            pass
        instant[0] = due
        while True:
            begun = time.perf_counter()
            count = await dispatcher.claim()
            if not count:
                break
            batches.append(time.perf_counter() - begun)
            claimed += count
    finally:
        db.close()
    return sum(batches), batches, claimed


def run(workdir: Path, sizes: list[int]) -> Table:
    table = Table(
        "6. Claim cost: N due at one instant, claimed on SQLite (production batch and limits)",
        ("due at once", "claimed", "total s", "µs per nudge", "batch median ms", "load 1-min"),
    )
    due = (dt.datetime.now(dt.UTC) + dt.timedelta(days=2)).replace(second=0, microsecond=0)
    per_nudge: list[float] = []
    for n in sizes:
        url = fresh_database(workdir, f"claim-{n}.db")
        progress(f"claim: seeding {n:,} due at once")
        seed_due(url, WARM_UP, FIRST_CHAT_ID - WARM_UP, due - dt.timedelta(hours=1))
        seed_due(url, n, FIRST_CHAT_ID, due)
        progress(f"claim: claiming {n:,}")
        seconds, batches, claimed = asyncio.run(_claim_all(url, due))
        per_nudge.append(seconds / max(claimed, 1) * 1e6)
        table.add(
            f"{n:,}",
            f"{claimed:,}",
            number(seconds),
            number(per_nudge[-1]),
            number(statistics.median(batches) * 1000 if batches else float("nan")),
            load().split("/")[0],
        )
    if per_nudge:
        spread = max(per_nudge) / min(per_nudge)
        table.notes.append(
            f"target: flat within 2x from the smallest to the largest size: "
            f"{spread:.2f}x ({'met' if spread <= 2 else 'NOT met'})"
        )
    return table
