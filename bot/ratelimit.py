"""One rate limiter for every request the bot makes to Telegram.

python-telegram-bot's `BaseRateLimiter` hook, backed by the slot arithmetic in
`scheduler.slots.SlotGrid`. A 429 is honoured: the whole limiter waits out
`retry_after`, the answer is counted, and the request is retried up to `max_retries`
times (the dispatcher passes 0 and reschedules the delivery itself).
"""

from __future__ import annotations

import asyncio
import collections
import logging
import math
import time
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import RetryAfter, TelegramError
from telegram.ext import BaseRateLimiter

from bot.aiohttp_request import BEFORE_WRITE
from scheduler.metrics import Metrics
from scheduler.slots import SAFETY_MARGIN, SlotGrid
from scheduler.workers import SHARED_MARGIN, SharedBudget

log = logging.getLogger(__name__)

# Endpoints that do not send anything to a chat and are not rate limited by Telegram.
_FREE = frozenset(
    {
        "getUpdates",
        "getMe",
        "answerCallbackQuery",
        "setMyCommands",
        "deleteWebhook",
        "getWebhookInfo",
        "close",
        "logOut",
        "getMyCommands",
    }
)


# How many global slots ahead a bulk send may reserve: a reply arriving now is at most
# this many slots (about 70 ms at 30/s) from its own.
BULK_HORIZON = 2


class SendCancelled(TelegramError):
    """The sender's `on_leaving` hook declined at the last moment: nothing was sent.

    A `TelegramError`, so that python-telegram-bot's request layer passes it on as it is
    when it is raised inside the request (see `at_wire` in `process_request`)."""

    def __init__(self) -> None:
        super().__init__("cancelled before sending")


class TelegramRateLimiter(BaseRateLimiter[dict[str, Any]]):
    """python-telegram-bot's rate limiter hook, backed by `scheduler.slots.SlotGrid`."""

    def __init__(
        self,
        per_second: float,
        per_chat_per_second: float,
        *,
        max_retries: int = 1,
        clock: Callable[[], float] = time.monotonic,
        shared: SharedBudget | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.enabled = per_second > 0 or per_chat_per_second > 0
        # With other processes, the global rate is a budget in the database that they all
        # take slots from (`scheduler.workers.SharedBudget`); this grid then keeps only the
        # per-chat spacing of this process's own sends.
        self.shared = shared
        self.limits = (
            SlotGrid(0, per_chat_per_second, margin=SHARED_MARGIN)
            if shared
            else SlotGrid(per_second, per_chat_per_second)
        )
        self.max_retries = max_retries
        self.retry_after_count = 0
        self._clock = clock
        self._lock = asyncio.Lock()
        # What actually left, for the guard below.
        self._capacity = max(1, math.floor(per_second * SAFETY_MARGIN)) if per_second > 0 else 0
        self._sent: collections.deque[float] = collections.deque(maxlen=self._capacity or 1)
        self._chat_sent: dict[int | str, float] = {}
        self.metrics = metrics

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""

    async def _wait_for_slot(
        self, chat_id: int | str | None, *, bulk: bool = False, guard: bool = True
    ) -> None:
        if bulk:
            await self._bulk_turn()
        async with self._lock:
            now = self._clock()
            slot = self.limits.reserve(chat_id, now, now=now)
        delay = slot - self._clock()
        if delay > 0:
            await asyncio.sleep(delay)
        # A planned slot can be missed: when the event loop stalls (a database thread holding
        # the GIL), sends whose slots passed would leave together. Check what actually left
        # in the last second, and wait again if another send now would break a limit.
        if guard:
            await self._leave_when_allowed(chat_id)

    async def _leave_when_allowed(self, chat_id: int | str | None) -> None:
        """Wait until a send now breaks no limit, and record it as sent now."""
        while (wait := self._guard(chat_id, self._clock())) > 0:  # noqa: ASYNC110 - a timed wait
            await asyncio.sleep(wait)

    async def _bulk_turn(self) -> None:
        """Bulk sends reserve at most `BULK_HORIZON` slots ahead, so a reply that comes
        now finds a free slot within a few hundredths of a second (replies never wait)."""
        horizon = BULK_HORIZON * self.limits.global_interval
        while horizon:
            ahead = self.limits.last_reserved - self._clock()
            if ahead <= horizon:
                return
            await asyncio.sleep(ahead - horizon)

    def _guard(self, chat_id: int | str | None, now: float) -> float:
        """Seconds to wait before this send; 0 records it as sent now."""
        wait = 0.0
        if self._capacity and len(self._sent) >= self._capacity:
            wait = max(wait, 1.0 - (now - self._sent[0]))
        interval = self.limits.chat_interval
        if chat_id is not None and interval and chat_id in self._chat_sent:
            wait = max(wait, interval - (now - self._chat_sent[chat_id]))
        if wait > 0:
            return wait
        if self._capacity:
            self._sent.append(now)
        if chat_id is not None and interval:
            if len(self._chat_sent) > 10_000:
                self._chat_sent = {c: t for c, t in self._chat_sent.items() if now - t < interval}
            self._chat_sent[chat_id] = now
        return 0.0

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: dict[str, Any] | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        retries = (rate_limit_args or {}).get("max_retries", self.max_retries)
        on_leaving = (rate_limit_args or {}).get("on_leaving")
        bulk = bool((rate_limit_args or {}).get("bulk"))
        limited = self.enabled and endpoint not in _FREE
        chat_id = data.get("chat_id") if limited else None
        # The request class runs `leave` itself once its connection is in hand, just
        # before writing (`bot.aiohttp_request.BEFORE_WRITE`): the sender says so. With
        # other processes the shared budget's waits stay out here (they can be long).
        at_wire = bool((rate_limit_args or {}).get("at_wire")) and self.shared is None
        attempt = 0
        while True:
            started = self._clock()
            if limited:
                await self._wait_for_slot(chat_id, bulk=bulk, guard=False)

            async def leave(started: float = started) -> None:
                """The last moment: mark the delivery leaving, then check the rate."""
                if limited and self.shared is not None:
                    # Other processes share the global rate: the slot comes from the
                    # database, taken just before the request leaves (see
                    # `SharedBudget.leaving`); this chat's last send is checked and
                    # recorded after that wait, not before it.
                    async with self.shared.leaving(bulk=bulk):
                        if on_leaving is not None and not await on_leaving():
                            raise SendCancelled
                    await self._leave_when_allowed(chat_id)
                else:
                    # The slot is ours: mark the delivery as leaving now, not while it
                    # waited.
                    if on_leaving is not None and not await on_leaving():
                        raise SendCancelled
                    if limited:
                        # Checked and recorded after the mark, not before it: marks are
                        # written in groups, so a slow commit releases several sends at
                        # once, and only a check at the moment they really leave keeps
                        # them a slot apart.
                        await self._leave_when_allowed(chat_id)
                if limited and self.metrics is not None:
                    self.metrics.limiter_waited(self._clock() - started, bulk=bulk)

            before_write = BEFORE_WRITE.set(leave) if at_wire else None
            if before_write is None:
                await leave()
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                self.retry_after_count += 1
                seconds = (
                    exc.retry_after.total_seconds()
                    if hasattr(exc.retry_after, "total_seconds")
                    else float(exc.retry_after)
                )
                self.limits.back_off(seconds, self._clock())
                if self.shared is not None:
                    await self.shared.back_off(seconds)
                log.warning("Telegram asked to slow down for %.0f s (429)", seconds)
                if attempt >= retries:
                    raise
                attempt += 1
            finally:
                if before_write is not None:
                    BEFORE_WRITE.reset(before_write)
