"""Running the Application among other processes: one polls, every one sends.

python-telegram-bot's `run_polling` polls from the moment it starts. With several
`nudgebot run` processes on one PostgreSQL database only one may poll (Telegram answers
a second concurrent `getUpdates` with 409 Conflict), so this runner starts the
Application without its updater, and polls only while this process holds the polling
lease (`storage.workers`). The lease is renewed with the heartbeat; when its holder dies,
another process takes it over within `LEASE + HEARTBEAT` (25 s). Each polled update is
kept in the database until handled (`bot.updates.InboxQueue`); the process taking over
first handles what the dead one had taken (Telegram has forgotten those), and an update
recorded as handled is never handled again (`dedupe_update` in `bot.app`).

The start and stop order is PTB's own (`Application.run_polling`): initialize, post_init,
start ... stop, post_stop, shutdown, post_shutdown. SIGINT and SIGTERM stop it cleanly:
polling stops first, the sends in flight finish and are recorded, and the leases are
released, so a rolling restart repeats and loses nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import itertools
import json
import logging
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from telegram import Update
from telegram.error import InvalidToken, NetworkError
from telegram.ext import Application

from bot.context import BotContext
from scheduler.workers import WorkerLife
from storage.workers import HEARTBEAT, POLLING

log = logging.getLogger(__name__)

BOOTSTRAP_BACKOFF = (1.0, 2.0, 5.0, 10.0, 30.0)


ALLOWED_UPDATES = ("message", "callback_query")


@dataclass(frozen=True)
class Polling:
    """How to poll, when this process polls."""

    timeout: int


@dataclass(frozen=True)
class Webhook:
    """Webhook mode: every process receives updates (`bot.webhook`); the lease holder
    registers the webhook with Telegram."""

    url: str
    secret: str


async def _initialize(
    app: Application[Any, BotContext, Any, Any, Any, Any], stopping: asyncio.Event
) -> bool:
    """`Application.initialize` (it calls getMe), retried while Telegram is unreachable;
    False if asked to stop before it succeeded."""
    for attempt in itertools.count():
        try:
            await app.initialize()
            return True
        except InvalidToken:
            raise
        except NetworkError as exc:
            delay = BOOTSTRAP_BACKOFF[min(attempt, len(BOOTSTRAP_BACKOFF) - 1)]
            log.warning(
                "Telegram unreachable (%s); trying again in %.0f s", type(exc).__name__, delay
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), delay)
            if stopping.is_set():
                return False
    return False  # not reached: count() never ends


async def _lead(
    app: Application[Any, BotContext, Any, Any, Any, Any],
    life: WorkerLife,
    receiving: Polling | Webhook | None,
) -> None:
    """Every heartbeat: renew this process's lease, and poll while holding `POLLING`
    (with webhooks: the first holder registers the webhook)."""
    interval = HEARTBEAT.total_seconds()
    updater = app.updater
    registered = False
    while True:
        try:
            alive = await life.beat()
            leading = alive and receiving is not None and await life.hold(POLLING)
            app.bot_data["services"].metrics.set_polling_leader(leading)
            if isinstance(receiving, Webhook):
                if leading and not registered:
                    await app.bot.set_webhook(
                        receiving.url,
                        secret_token=receiving.secret,
                        allowed_updates=list(ALLOWED_UPDATES),
                    )
                    registered = True
                    log.info("webhook registered with Telegram")
            elif updater is not None and isinstance(receiving, Polling):
                if leading and not updater.running:
                    await _finish_orphans(app, life)
                    log.info("polling for updates (this process holds the polling lease)")
                    await updater.start_polling(
                        timeout=receiving.timeout,
                        allowed_updates=list(ALLOWED_UPDATES),
                        bootstrap_retries=-1,
                    )
                elif not leading and updater.running:
                    log.warning("this process lost the polling lease; another one polls now")
                    await updater.stop()
        except Exception:
            # The database or Telegram may be briefly unreachable: try again next beat.
            log.exception("heartbeat failed; trying again")
        await asyncio.sleep(interval)


async def _finish_orphans(
    app: Application[Any, BotContext, Any, Any, Any, Any], life: WorkerLife
) -> None:
    """Before polling: the updates a dead poller had taken but not handled (Telegram has
    forgotten them) are handled here, in their order."""
    payloads = await life.orphaned_updates()
    for payload in payloads:
        update = Update.de_json(json.loads(payload), app.bot)
        await app.update_queue.put(update)
    if payloads:
        log.warning("finishing %d updates a stopped process had taken", len(payloads))


async def serve(
    app: Application[Any, BotContext, Any, Any, Any, Any],
    life: WorkerLife,
    receiving: Polling | Webhook | None,
    *,
    before_stop: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Run until SIGINT or SIGTERM; poll for updates only while holding the lease.

    `before_stop` runs first on the way out (it stops the webhook endpoint, so that no
    update starts after the Application stopped)."""
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping.set)
    if not await _initialize(app, stopping):
        log.info("stopped before Telegram could be reached")
        if app.post_shutdown is not None:
            await app.post_shutdown(app)  # closes the database
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        return
    leader: asyncio.Task[None] | None = None
    try:
        if app.post_init is not None:
            await app.post_init(app)
        freeze_startup_heap()
        await app.start()
        leader = asyncio.create_task(_lead(app, life, receiving), name="lease-keeper")
        await stopping.wait()
        log.info("stopping")
    finally:
        if leader is not None:
            leader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await leader
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if before_stop is not None:
            await before_stop()
        if app.running:
            await app.stop()
            if app.post_stop is not None:
                await app.post_stop(app)
        with contextlib.suppress(Exception):
            await life.stop()
        await app.shutdown()
        if app.post_shutdown is not None:
            await app.post_shutdown(app)
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


def freeze_startup_heap() -> None:
    """Leave what start-up built (libraries, templates, the checks' models, the ORM's
    mappings) out of every later garbage collection.

    A full collection walks every tracked object: with start-up's ~170,000 it paused the
    event loop for 100-140 ms, mid-burst, a few times a minute (`python -m benchmarks
    --scenario burst`: loop stalls of 130-240 ms, each one a few sends late together and
    every reply waiting). Frozen, the full collections walk only what was made since
    (~13,000 objects) and the longest stall fell to 25 ms. What start-up built lives,
    nearly all of it, as long as the process; a frozen object that later becomes cyclic
    garbage is never freed, a small and bounded cost. Called by `serve` once start-up is
    done (not by tests, which build many applications in one process).
    """
    gc.collect()
    gc.freeze()
