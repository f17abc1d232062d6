"""What became of one send, told from the exception python-telegram-bot raised.

`classify` maps an exception from a Bot API call onto the scheduler's `SendResult`. The
table, with the evidence for each row, is in `docs/delivery-errors.md`. In short:

* an error answer from the Bot API itself (a JSON body with `ok: false`, 5xx included)
  means nothing was sent: `NOT_SENT` (or the more precise 429/403/400/migration rows);
* an answer that was lost after the request left (read timeout, connection reset, a
  proxy's error page instead of a Bot API body) may hide a delivered message: `AMBIGUOUS`;
* a failure before the request left (connect error or timeout, pool timeout): `NOT_SENT`.

python-telegram-bot keeps enough to tell these apart, but only in the exception chain:
for an error status with a JSON body `BaseRequest._request_wrapper` raises without a
cause; when the body does not parse it raises *from* the parsing error; and its request
backends raise `TimedOut`/`NetworkError` from the HTTP library's own exception. A body
that parses as JSON but is not a Bot API answer (a JSON error page of a proxy) looks
like the Bot API's own to stock PTB; `parse_bot_api_answer`, used as a request class's
`parse_json_payload` (`bot.aiohttp_request` and `BotApiHTTPXRequest` do), turns it into
a parsing error as well, and never logs the body (PTB's default logs it, and a garbled
answer to sendMessage holds the message text).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any, Final

import aiohttp
import httpx
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.request import HTTPXRequest

from scheduler.transport import SendResult, SendStatus

# Raised before any byte of the request left this machine: the Bot API never saw it.
# aiohttp's ConnectionTimeoutError covers both waiting for a pooled connection and
# opening a new one (`ClientTimeout.connect`); ClientConnectorError covers DNS, TCP,
# TLS and proxy CONNECT failures.
NEVER_LEFT: Final[tuple[type[BaseException], ...]] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.ProxyError,
    httpx.UnsupportedProtocol,
    aiohttp.ClientConnectorError,
    aiohttp.ConnectionTimeoutError,
)

ERROR_NAME_LIMIT: Final = 64


class NotBotApiAnswer(TelegramError):
    """The body of an HTTP answer was not an answer of the Bot API."""


def parse_bot_api_answer(payload: bytes) -> dict[str, Any]:
    """Parse a Bot API answer; raise `NotBotApiAnswer` (never logging the body) otherwise.

    A Bot API answer is a JSON object with a boolean `ok` (core.telegram.org/bots/api,
    "Making requests"). Anything else came from something between us and the Bot API.
    """
    try:
        data = json.loads(payload.decode("utf-8", "replace"))
    except ValueError as exc:
        raise NotBotApiAnswer("The answer is not JSON") from exc
    if not isinstance(data, dict) or not isinstance(data.get("ok"), bool):
        raise NotBotApiAnswer("The answer is JSON but not a Bot API answer")
    return data


class BotApiHTTPXRequest(HTTPXRequest):
    """PTB's default request class, parsing answers with `parse_bot_api_answer`."""

    __slots__ = ()

    @staticmethod
    def parse_json_payload(payload: bytes) -> dict[str, Any]:
        """See `parse_bot_api_answer`."""
        return parse_bot_api_answer(payload)


class PollingRequest(BotApiHTTPXRequest):
    """The request class for getUpdates: it polls only while `may_poll()` says this
    process still holds the polling lease. A process resumed after a long stall (SIGSTOP,
    a frozen VM) would otherwise poll once on a lease another process has taken since,
    cutting that process's poll short with 409; refused here, python-telegram-bot retries
    after a pause, by when the lease keeper has renewed or stopped polling."""

    __slots__ = ("may_poll",)

    def __init__(self, *args: Any, may_poll: Callable[[], bool] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.may_poll = may_poll

    async def do_request(
        self, url: str, method: str, *args: Any, **kwargs: Any
    ) -> tuple[int, bytes]:
        if self.may_poll is not None and url.endswith("/getUpdates") and not self.may_poll():
            raise NetworkError("not polling: this process's polling lease is not fresh")
        return await super().do_request(url, method, *args, **kwargs)


def sent(message_id: int) -> SendResult:
    """Telegram accepted the message and gave it this id."""
    return SendResult(SendStatus.SENT, message_id=message_id)


def classify(exc: BaseException) -> SendResult:
    """What became of a send that raised `exc` (see docs/delivery-errors.md)."""
    name = error_name(exc)
    if isinstance(exc, RetryAfter):
        seconds = _seconds(exc.retry_after)
        return SendResult(SendStatus.RATE_LIMITED, retry_after=seconds, error=name)
    if isinstance(exc, ChatMigrated):
        return SendResult(SendStatus.MIGRATED, new_chat_id=int(exc.new_chat_id), error=name)
    if isinstance(exc, Forbidden):
        # Only the Bot API's own 403 speaks about the person; a proxy's 403 page does not.
        status = SendStatus.BLOCKED if answered_by_bot_api(exc) else SendStatus.NOT_SENT
        return SendResult(status, error=name)
    if isinstance(exc, BadRequest | EndPointNotFound):
        # 400 from the Bot API or a 400 page from a proxy in front of it: either way the
        # same request is refused again. An unknown method is a bug, not a retry.
        return SendResult(SendStatus.REFUSED, error=name)
    if isinstance(exc, InvalidToken | Conflict):
        # 401/404 (a revoked token) or 409: an answer, not a delivery. Nothing was sent;
        # the message itself is fine once the operator fixes the bot.
        return SendResult(SendStatus.NOT_SENT, error=name)
    if isinstance(exc, TimedOut):
        status = SendStatus.NOT_SENT if never_left(exc) else SendStatus.AMBIGUOUS
        return SendResult(status, error=name)
    if isinstance(exc, NetworkError):
        if answered_by_bot_api(exc) or never_left(exc):
            return SendResult(SendStatus.NOT_SENT, error=name)
        return SendResult(SendStatus.AMBIGUOUS, error=name)
    # A plain TelegramError here is a 2xx answer whose body did not parse; anything else
    # was raised somewhere we cannot see into. Either may hide a delivered message.
    return SendResult(SendStatus.AMBIGUOUS, error=name)


def answered_by_bot_api(exc: TelegramError) -> bool:
    """Whether PTB raised `exc` for an error status whose body was a Bot API answer.

    `BaseRequest._request_wrapper` raises the status's exception with no cause when the
    body parsed, and from the parsing error when it did not; request backends always
    chain the HTTP library's exception. So "no cause" means "the Bot API's own JSON
    error". (`__context__` is no evidence: it is set whenever the caller happens to be
    inside an `except` block.)
    """
    return exc.__cause__ is None


def never_left(exc: BaseException) -> bool:
    """Whether `exc` was caused by a failure before the request left this machine."""
    return isinstance(exc.__cause__, NEVER_LEFT)


def error_name(exc: BaseException) -> str:
    """A short name for logs and the delivery row: classes only, never message text."""
    name = type(exc).__name__
    cause = exc.__cause__
    if isinstance(cause, TelegramError):
        # PTB's own "Invalid server response" or ours: the body was not the Bot API's.
        name = f"{name}:NotBotApiAnswer"
    elif cause is not None:
        name = f"{name}:{type(cause).__name__}"
    return name[:ERROR_NAME_LIMIT]


def _seconds(retry_after: float | dt.timedelta) -> float:
    if isinstance(retry_after, dt.timedelta):
        return retry_after.total_seconds()
    return float(retry_after)
