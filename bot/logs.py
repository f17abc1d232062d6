"""Logging that never holds message text or the bot token.

Our own code logs ids, counts and outcomes only. Two libraries would leak at lower levels,
so they are held higher whatever LOG_LEVEL says: httpx logs every request URL (which
contains the token) at INFO, and python-telegram-bot logs request parameters and updates
(which contain message text) at DEBUG. A filter also masks anything shaped like a token,
as a last line of defence.
"""

from __future__ import annotations

import logging
import re
import sys

_TOKEN_SHAPE = re.compile(r"\d{5,20}:[A-Za-z0-9_-]{30,64}")
_HANDLER_NAME = "nudgebot"
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class RedactTokens(logging.Filter):
    """Mask bot tokens in a record's final message."""

    def __init__(self, secrets: tuple[str, ...] = ()) -> None:
        super().__init__()
        self._secrets = tuple(s for s in secrets if s)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = _TOKEN_SHAPE.sub("<token>", message)
        for secret in self._secrets:
            masked = masked.replace(secret, "<token>")
        if masked != message:
            record.msg, record.args = masked, None
        return True


def configure(level: int, *, secrets: tuple[str, ...] = ()) -> None:
    """Send logs to stderr at `level`, with the libraries that leak held back."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(RedactTokens(secrets))
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
