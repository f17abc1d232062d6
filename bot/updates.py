"""Updates handled concurrently, but one at a time per chat.

python-telegram-bot handles updates one after another by default, so one person's
burst delays everyone's replies. With this processor (the documented extension point,
`ApplicationBuilder.concurrent_updates`) different chats are handled at the same time,
while each chat's updates still run in the order Telegram sent them: a per-chat lock,
dropped when nobody waits on it.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from scheduler.metrics import Metrics

log = logging.getLogger(__name__)


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Concurrent across chats, in order within a chat."""

    def __init__(
        self,
        max_concurrent_updates: int = 64,
        metrics: Metrics | None = None,
        done: Callable[[Update], Awaitable[None]] | None = None,
    ) -> None:
        super().__init__(max_concurrent_updates)
        self.metrics = metrics
        # Called once an update has been handled, in its chat's turn (see `bot.app`).
        self.done = done
        self._locks: dict[int | str, asyncio.Lock] = {}
        self._waiting: dict[int | str, int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        started = time.monotonic()
        try:
            await self._in_chat_order(update, coroutine)
        finally:
            if self.metrics is not None:
                self.metrics.update_handled(time.monotonic() - started)

    async def _in_chat_order(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = _chat_key(update)
        if key is None:
            await self._handle(update, coroutine)
            return
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._waiting[key] = self._waiting.get(key, 0) + 1
        try:
            async with lock:
                await self._handle(update, coroutine)
        finally:
            self._waiting[key] -= 1
            if not self._waiting[key]:
                del self._waiting[key], self._locks[key]

    async def _handle(self, update: object, coroutine: Awaitable[Any]) -> None:
        try:
            await coroutine
        finally:
            if self.done is not None and isinstance(update, Update):
                try:
                    await self.done(update)
                except Exception as exc:
                    # Handled, but not recorded as such (the database went away): only a
                    # takeover after this process dies could hand it out again.
                    log.warning(
                        "could not record update %s as handled (%s)",
                        update.update_id,
                        type(exc).__name__,
                    )

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""

    @property
    def chats_tracked(self) -> int:
        """Chats with an update running or waiting (for tests: it returns to 0)."""
        return len(self._locks)


def _chat_key(update: object) -> int | str | None:
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return update.effective_chat.id
    if update.effective_user is not None:
        return f"user:{update.effective_user.id}"
    return None


class InboxQueue(asyncio.Queue[object]):
    """The Application's update queue, keeping each polled update until it is handled.

    python-telegram-bot's updater puts what one getUpdates returned into this queue, then
    asks for more with an offset that tells Telegram to forget them: possibly before they
    are handled. `keep` (set once this process is registered) writes each update to the
    database first, so a process that takes over polling after a crash finishes it.
    """

    def __init__(self) -> None:
        super().__init__()
        self.keep: Callable[[int, str], Awaitable[None]] | None = None

    async def put(self, item: object) -> None:
        if self.keep is not None and isinstance(item, Update):
            await self._keep(item)
        await super().put(item)

    async def _keep(self, update: Update) -> None:
        """Keep it, however long the database is away: meanwhile nothing more is polled,
        so Telegram keeps the rest (an exception here would end PTB's polling loop)."""
        assert self.keep is not None
        payload = json.dumps(update.to_dict())
        for attempt in itertools.count():
            try:
                await self.keep(update.update_id, payload)
                return
            except Exception as exc:
                if attempt == 0:
                    log.warning(
                        "could not keep update %s (%s); polling waits for the database",
                        update.update_id,
                        type(exc).__name__,
                    )
                await asyncio.sleep(min(5.0, 0.5 * (attempt + 1)))
