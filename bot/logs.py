"""Logging that never holds message text or the bot token.

Our own code logs ids, counts and outcomes only. Two libraries would leak at lower levels,
so they are held higher whatever LOG_LEVEL says: httpx logs every request URL (which
contains the token) at INFO, and python-telegram-bot logs request parameters and updates
(which contain message text) at DEBUG. The formatter also masks anything shaped like a
token in every finished line, tracebacks included, as a last line of defence.
"""

from __future__ import annotations

import logging
import re
import sys

_TOKEN_SHAPE = re.compile(r"\d{5,20}:[A-Za-z0-9_-]{30,64}")
_HANDLER_NAME = "nudgebot"
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class RedactingFormatter(logging.Formatter):
    """Mask bot tokens in the finished line, tracebacks and exception text included."""

    def __init__(self, fmt: str, secrets: tuple[str, ...] = ()) -> None:
        super().__init__(fmt)
        self._secrets = tuple(s for s in secrets if s)

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record), self._secrets)


def redact(text: str, secrets: tuple[str, ...] = ()) -> str:
    """Replace the given secrets and anything shaped like a bot token with <token>."""
    for secret in secrets:
        text = text.replace(secret, "<token>")
    return _TOKEN_SHAPE.sub("<token>", text)


def configure(level: int, *, secrets: tuple[str, ...] = ()) -> None:
    """Send logs to stderr at `level`, with the libraries that leak held back."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingFormatter(FORMAT, secrets))
    handler.set_name(_HANDLER_NAME)
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(max(level, logging.WARNING))
    for name in ("telegram", "apscheduler"):
        logging.getLogger(name).setLevel(max(level, logging.INFO))
    logging.getLogger("alembic").setLevel(max(level, logging.WARNING))
    # The job queue logs every run of the dispatcher tick at INFO: noise, not news.
    logging.getLogger("apscheduler.executors.default").setLevel(max(level, logging.WARNING))
