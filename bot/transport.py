"""The scheduler's way to reach people, on python-telegram-bot.

`TelegramTransport` implements `scheduler.transport.Transport`: it sends one composed
message and classifies what came back, so the dispatcher never sees a Telegram type.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import httpx
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import ExtBot

from scheduler.transport import SendResult, SendStatus

log = logging.getLogger(__name__)

# Errors raised before the request left this machine: safe to send again.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def classify(exc: BaseException) -> SendResult:
    """What a failed send means for the delivery (see docs/delivery-errors.md)."""
    name = type(exc).__name__[:64]
    if isinstance(exc, RetryAfter):
        retry = exc.retry_after
        seconds = retry.total_seconds() if isinstance(retry, dt.timedelta) else float(retry)
        return SendResult(SendStatus.RATE_LIMITED, retry_after=seconds, error=name)
    if isinstance(exc, Forbidden):
        return SendResult(SendStatus.BLOCKED, error=name)
    if isinstance(exc, ChatMigrated):
        return SendResult(SendStatus.MIGRATED, new_chat_id=exc.new_chat_id, error=name)
    if isinstance(exc, NetworkError) and not isinstance(exc, BadRequest):
        if isinstance(exc.__cause__, _NOT_SENT):
            return SendResult(SendStatus.NOT_SENT, error=name)
        # The request may have reached Telegram: never send it a second time.
        return SendResult(SendStatus.AMBIGUOUS, error=name)
    return SendResult(SendStatus.REFUSED, error=name)


class TelegramTransport:
    """Sends scheduled messages through the bot's own `ExtBot` (and its rate limiter)."""

    def __init__(self, bot: ExtBot[Any]) -> None:
        self.bot = bot

    async def send(
        self,
        chat_id: int,
        text: str,
        *,
        markup: object | None = None,
        silent: bool = False,
        bulk: bool = True,
    ) -> SendResult:
        """Send one message; every Telegram or network failure comes back classified."""
        try:
            message = await self.bot.send_message(
                chat_id,
                text,
                parse_mode=ParseMode.HTML,
                reply_markup=markup,  # type: ignore[arg-type]
                disable_notification=silent,
                # The dispatcher reschedules a 429 itself.
                rate_limit_args={"max_retries": 0},
            )
        except Exception as exc:
            if not isinstance(exc, TelegramError):
                log.error("sending a message failed", exc_info=exc)
            return classify(exc)
        return SendResult(SendStatus.SENT, message_id=message.message_id)
