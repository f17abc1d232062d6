"""The scheduler's way to reach people, on python-telegram-bot.

`TelegramTransport` implements `scheduler.transport.Transport`: it sends one composed
message and classifies what came back (`bot.send_errors`), so the dispatcher never sees
a Telegram type.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import ExtBot

from bot.aiohttp_request import AiohttpRequest
from bot.ratelimit import SendCancelled, TelegramRateLimiter
from bot.send_errors import classify, sent
from scheduler.transport import OnLeaving, SendResult, SendStatus

log = logging.getLogger(__name__)


class TelegramTransport:
    """Sends scheduled messages through the bot's own `ExtBot` (and its rate limiter)."""

    def __init__(self, bot: ExtBot[Any], *, paid_broadcast: bool = False) -> None:
        self.bot = bot
        # Telegram's paid broadcasts: up to 1,000 messages/s, billed in Stars per message
        # above the free 30/s. Only scheduled (bulk) sends use it; replies never do.
        self.paid_broadcast = paid_broadcast

    async def send(
        self,
        chat_id: int,
        text: str,
        *,
        markup: object | None = None,
        silent: bool = False,
        bulk: bool = True,
        on_leaving: OnLeaving | None = None,
    ) -> SendResult:
        """Send one message; every Telegram or network failure comes back classified."""
        # The dispatcher reschedules a 429 itself; bulk sends yield to replies.
        limit_args: dict[str, object] = {"max_retries": 0, "bulk": bulk}
        if on_leaving is not None:
            if isinstance(self.bot.rate_limiter, TelegramRateLimiter):
                limit_args["on_leaving"] = on_leaving  # after the limiter's wait
                # On our aiohttp request class, at the last moment before the request is
                # written (`bot.aiohttp_request.BEFORE_WRITE`), not before it is built.
                limit_args["at_wire"] = isinstance(self.bot.request, AiohttpRequest)
            elif not await on_leaving():
                return SendResult(SendStatus.CANCELLED, error="cancelled")
        try:
            message = await self.bot.send_message(
                chat_id,
                text,
                parse_mode=ParseMode.HTML,
                reply_markup=markup,  # type: ignore[arg-type]
                disable_notification=silent,
                allow_paid_broadcast=True if (bulk and self.paid_broadcast) else None,
                rate_limit_args=limit_args,
            )
        except SendCancelled:
            return SendResult(SendStatus.CANCELLED, error="cancelled")
        except Exception as exc:
            if not isinstance(exc, TelegramError):
                log.error("sending a message failed", exc_info=exc)
            return classify(exc)
        return sent(message.message_id)
