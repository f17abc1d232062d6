"""Wait for a condition the test cannot be told about, with a timeout that says what.

For what the fake Bot API knows (a message, a call), use its own waits instead
(`FakeUser.wait_for_message`/`await_message`, `FakeTelegram.wait_for_call`,
`wait_for_request`, `wait_for_next_poll` and their `await_*` twins): they wake on the
event, and work inside an event loop. This is for the rest: a log line, a database row.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

INTERVAL = 0.05


def wait_until(
    condition: Callable[[], T],
    *,
    timeout: float,
    what: str,
    interval: float = INTERVAL,
    details: Callable[[], str] | None = None,
) -> T:
    """Call `condition` until it returns something truthy, and return that.

    `condition` may raise (an AssertionError, say, when a child process died) to give up
    at once. On timeout, an AssertionError says "timed out after N s waiting for WHAT",
    followed by `details()` when given (a log, the rows seen).
    """
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise AssertionError(_timed_out(timeout, what, details))
        time.sleep(interval)


def _timed_out(timeout: float, what: str, details: Callable[[], str] | None) -> str:
    message = f"timed out after {timeout} s waiting for {what}"
    return f"{message}:\n{details()}" if details is not None else message
