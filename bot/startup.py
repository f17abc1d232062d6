"""Start-up calls to Telegram that must not stop the bot from starting.

Registering the `/` menu is a courtesy: commands work without it. A 500 or a 429 from
`setMyCommands` is retried with capped exponential backoff, waiting what a 429 asks,
for a bounded total time; after that the bot starts anyway and logs a warning.
Only a refused token ends start-up (python-telegram-bot's `InvalidToken`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from telegram.error import BadRequest, InvalidToken, RetryAfter, TelegramError

log = logging.getLogger(__name__)

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Patience:
    """How long a start-up call is retried: doubling waits, capped, within a budget."""

    first_wait: float = 1.0
    longest_wait: float = 15.0
    total_wait: float = 60.0


async def patiently(
    what: str,
    call: Callable[[], Awaitable[T]],
    *,
    patience: Patience = Patience(),
    sleep: Sleep = asyncio.sleep,
) -> T | None:
    """Run `call` until it succeeds; None (after a warning) if it never does in time.

    Args:
        what: Names the call in the log, e.g. "registering the command menu".
        call: The request; a fresh attempt each time it is called.
        patience: The backoff and the budget for all waits together.
        sleep: Waits between attempts (tests pass one that records instead).
    """
    waited, backoff, attempts = 0.0, patience.first_wait, 0
    while True:
        attempts += 1
        try:
            return await call()
        except InvalidToken:
            raise
        except RetryAfter as exc:
            wait, reason = _seconds(exc.retry_after), "429"
        except BadRequest as exc:  # asking again will not make it valid
            log.warning("%s failed (%s); starting without it", what, type(exc).__name__)
            return None
        except TelegramError as exc:  # 5xx, timeouts, a garbled answer
            wait, reason = backoff, type(exc).__name__
            backoff = min(backoff * 2, patience.longest_wait)
        if waited + wait > patience.total_wait:
            log.warning(
                "%s failed %d times (last: %s); starting without it",
                what,
                attempts,
                reason,
            )
            return None
        log.info("%s failed (%s); trying again in %.0f s", what, reason, wait)
        await sleep(wait)
        waited += wait


def _seconds(retry_after: int | dt.timedelta) -> float:
    if isinstance(retry_after, dt.timedelta):
        return retry_after.total_seconds()
    return float(retry_after)
