"""The dispatcher wired in this process exactly as `bot/app.py` wires it for `nudgebot run`.

Database, renderer, composer, an `ExtBot` on the project's aiohttp request class with
its rate limiter, the Telegram transport and the dispatcher; only the clock and the Bot
API address are the benchmark's.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from telegram import LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.ext import Defaults, ExtBot

from benchmarks.fake import TOKEN
from benchmarks.seed import open_work
from bot.aiohttp_request import AiohttpRequest
from bot.composer import Composer
from bot.ratelimit import TelegramRateLimiter
from bot.render import Renderer
from bot.settings import DEFAULT_TEMPLATES_DIR, Settings
from bot.transport import TelegramTransport
from scheduler.dispatcher import Dispatcher
from storage.db import Database


@dataclass(frozen=True)
class ShiftedClock:
    """Real time, shifted so that the moment it was made reads as `anchor`."""

    anchor: dt.datetime
    wall0: float

    @staticmethod
    def starting_at(anchor: dt.datetime) -> ShiftedClock:
        return ShiftedClock(anchor, time.time())

    def __call__(self) -> dt.datetime:
        return self.anchor + dt.timedelta(seconds=time.time() - self.wall0)


@dataclass(frozen=True)
class FixedClock:
    """A clock that always reads the same instant."""

    instant: dt.datetime

    def __call__(self) -> dt.datetime:
        return self.instant


@dataclass
class Wired:
    db: Database
    dispatcher: Dispatcher
    limiter: TelegramRateLimiter
    bot: ExtBot[Any]


@contextlib.asynccontextmanager
async def dispatcher(
    url: str,
    base_url: str,
    clock: Callable[[], dt.datetime],
    *,
    rate: float,
    per_chat: float,
    grace: Callable[[str], float] | None = None,
) -> AsyncIterator[Wired]:
    """A started dispatcher (and its bot) against `base_url`; stopped on exit."""
    settings = Settings.model_construct()  # the declared defaults, not this environment
    db = Database(url)
    limiter = TelegramRateLimiter(rate, per_chat)
    bot: ExtBot[Any] = ExtBot(
        TOKEN,
        base_url=base_url,
        request=AiohttpRequest(),
        rate_limiter=limiter,
        defaults=Defaults(
            parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)
        ),
    )
    wired = Dispatcher(
        db,
        Composer(Renderer(DEFAULT_TEMPLATES_DIR, settings.default_language), clock),
        TelegramTransport(bot),
        grace=grace or settings.grace_seconds,
        clock=clock,
        batch_size=settings.dispatch_batch_size,
        rate_per_second=rate,
        per_chat_per_second=per_chat,
    )
    await bot.initialize()
    try:
        await wired.start()
        yield Wired(db, wired, limiter, bot)
    finally:
        await wired.stop()
        await bot.shutdown()
        db.close()


async def drain_until_done(
    wired: Wired, url: str, interval: float, limit_seconds: float
) -> tuple[float, int]:
    """Drive the dispatcher as the job queue does: a drain per tick until nothing is left.

    Returns (seconds to the end of the last drain, ticks used).
    """
    started = time.perf_counter()
    ticks = 0
    while True:
        ticks += 1
        await wired.dispatcher.drain()
        finished = time.perf_counter() - started
        if open_work(url, wired.dispatcher.clock()) == 0:
            return finished, ticks
        if finished > limit_seconds:
            raise TimeoutError(f"work still open after {limit_seconds:.0f} s")
        await asyncio.sleep(max(0.0, ticks * interval - (time.perf_counter() - started)))
