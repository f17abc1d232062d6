"""Updates handled concurrently, but one at a time per chat.

python-telegram-bot handles updates one after another by default, so one person's
burst delays everyone's replies. With this processor (the documented extension point,
`ApplicationBuilder.concurrent_updates`) different chats are handled at the same time,
while each chat's updates still run in the order Telegram sent them: a per-chat lock,
dropped when nobody waits on it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from scheduler.metrics import Metrics


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Concurrent across chats, in order within a chat."""

    def __init__(self, max_concurrent_updates: int = 64, metrics: Metrics | None = None) -> None:
        super().__init__(max_concurrent_updates)
        self.metrics = metrics
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
            await coroutine
            return
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._waiting[key] = self._waiting.get(key, 0) + 1
        try:
            async with lock:
                await coroutine
        finally:
            self._waiting[key] -= 1
            if not self._waiting[key]:
                del self._waiting[key], self._locks[key]

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
