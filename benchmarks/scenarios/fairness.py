"""Scenario 3, two nights of overload: does it miss the same people twice?

N people are due at the same instant on two nights running, each with a one-minute
delivery window and no grace after it, and N is twice what the limit can send inside
the window (demand at 200% of capacity, so about half must miss each night). A person
misses a night when the send slot given to their nudge is past their window.

ours         the real claim path: `Dispatcher.claim()` in batches of the production
             size (`Dispatcher.claim_batch`: two send chunks, 120 at 30/s), on SQLite,
             with the clock fixed at each night's instant; the slot of
             each delivery is read back from the database (`send_after` against its
             `deadline`). Nothing is sent: the slots are what the rate limiter would grant
             (the same grid), and a delivery taken after its deadline is recorded missed.
ours, one    the same with the dispatcher's batch size raised to N, so the whole instant
claim batch  is claimed (and ordered) in one batch: the fair order's own promise.
claim order  the old sorted-list slots (`benchmarks.old_limits.Limits`, the arithmetic
             used until 2026-12) given the same people in schedule-id order, each night.

By chance alone, with M1 and M2 missed of N, about M1 x M2 / N people would miss both
nights; a fixed order makes it min(M1, M2). The target: nobody misses both nights. Ours
meets it by counting each schedule's misses in its claim key (`scheduler.slots.queue_turn`):
whoever missed on night 1 is claimed, and given a slot, first on night 2.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text
from telegram.ext import ExtBot

from benchmarks.fake import TOKEN
from benchmarks.harness import FixedClock
from benchmarks.old_limits import Limits
from benchmarks.report import Table, progress
from benchmarks.seed import FIRST_CHAT_ID, fresh_database, seed_due
from bot.composer import Composer
from bot.render import Renderer
from bot.settings import DEFAULT_TEMPLATES_DIR, Settings
from bot.transport import TelegramTransport
from scheduler.dispatcher import Dispatcher
from scheduler.slots import SAFETY_MARGIN
from storage.db import Database, make_engine

WINDOW_MINUTES = 1


@dataclass
class Nights:
    peer: str
    people: int
    missed: tuple[set[int], set[int]]
    claimed: tuple[int, int]


def capacity(rate: float) -> int:
    """Nudges the limit can place inside one window from its first instant."""
    return int(rate * SAFETY_MARGIN * 60 * WINDOW_MINUTES) + 1


def _missed(url: str, due: dt.datetime) -> tuple[set[int], int]:
    """Chats whose delivery due at `due` has a slot past its deadline; and how many rows."""
    stamp = due.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT p.chat_id, d.send_after > d.deadline FROM deliveries d "
                    "JOIN people p ON p.id = d.person_id WHERE d.due_at = :due"
                ),
                {"due": stamp},
            ).all()
    finally:
        engine.dispose()
    return {int(chat) for chat, late in rows if late}, len(rows)


async def _claim_night(url: str, night: dt.datetime, rate: float, batch: int | None) -> None:
    settings = Settings.model_construct()
    db = Database(url)
    clock = FixedClock(night)
    dispatcher = Dispatcher(
        db,
        Composer(Renderer(DEFAULT_TEMPLATES_DIR, settings.default_language), clock),
        TelegramTransport(ExtBot(TOKEN)),  # never used: nothing is sent here
        grace=lambda _kind: 0.0,
        clock=clock,
        batch_size=batch or settings.dispatch_batch_size,
        rate_per_second=rate,
        per_chat_per_second=1.0,
    )
    if batch:
        dispatcher.claim_batch = batch  # the whole instant in one claim, whatever the limiter
    try:
        while await dispatcher.claim():
            pass
    finally:
        db.close()


def ours(workdir: Path, people: int, rate: float, batch: int | None = None) -> Nights:
    url = fresh_database(workdir, f"fairness-{batch or 'default'}.db")
    night1 = (dt.datetime.now(dt.UTC) + dt.timedelta(days=2)).replace(second=0, microsecond=0)
    seed_due(url, people, FIRST_CHAT_ID, night1, window_minutes=WINDOW_MINUTES)
    missed: list[set[int]] = []
    claimed: list[int] = []
    for night in (night1, night1 + dt.timedelta(days=1)):
        asyncio.run(_claim_night(url, night, rate, batch))
        chats, rows = _missed(url, night)
        missed.append(chats)
        claimed.append(rows)
    peer = f"ours, one claim batch of {batch:,}" if batch else "ours (claim path)"
    return Nights(peer, people, (missed[0], missed[1]), (claimed[0], claimed[1]))


def claim_order(people: int, rate: float) -> Nights:
    due = 1_800_000_000.0
    missed: list[set[int]] = []
    for night in range(2):
        start = due + night * 86_400
        limits = Limits(rate, 1.0)
        late = set()
        for chat in range(FIRST_CHAT_ID, FIRST_CHAT_ID + people):
            if limits.reserve(chat, start) > start + 60 * WINDOW_MINUTES:
                late.add(chat)
        missed.append(late)
    return Nights("claim order (old Limits)", people, (missed[0], missed[1]), (people, people))


def run(workdir: Path, rate: float) -> list[Nights]:
    people = 2 * capacity(rate)
    progress(f"fairness: {people:,} people due at once, two nights, {rate:g}/s")
    return [
        ours(workdir, people, rate),
        ours(workdir, people, rate, people),
        claim_order(people, rate),
    ]


def table(results: list[Nights], rate: float) -> Table:
    people = results[0].people
    out = Table(
        f"3. Two nights at 200% of capacity: {people:,} due at once, {WINDOW_MINUTES}-minute "
        f"windows, {rate:g}/s (capacity {capacity(rate):,} a window)",
        (
            "peer",
            "claimed n1/n2",
            "missed night 1",
            "missed night 2",
            "missed both nights",
            "both, by chance",
            "both / by chance",
        ),
    )
    for nights in results:
        first, second = nights.missed
        both = len(first & second)
        chance = len(first) * len(second) / nights.people if nights.people else 0.0
        out.add(
            nights.peer,
            f"{nights.claimed[0]:,}/{nights.claimed[1]:,}",
            f"{len(first):,}",
            f"{len(second):,}",
            f"{both:,}",
            f"{chance:,.0f}",
            f"{both / chance:.2f}" if chance else "n/a",
        )
    ours_both = len(results[0].missed[0] & results[0].missed[1])
    out.notes.append(
        f"target: nobody misses both nights: missed both nights {ours_both:,} "
        f"({'met' if ours_both == 0 else 'NOT met'}); 1.00 = chance, a fixed order is the "
        "maximum (all of the smaller night's missed)"
    )
    return out
