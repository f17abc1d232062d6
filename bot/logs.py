"""Logging that never holds message text, SQL parameters or the bot token.

Our own code logs ids, counts and outcomes only. Libraries would leak in three ways:

* httpx logs every request URL (which contains the token) at INFO, and
  python-telegram-bot logs request parameters and updates (which contain message text)
  at DEBUG: those loggers are held higher whatever LOG_LEVEL says.
* python-telegram-bot logs a Bot API answer it cannot parse in full at ERROR ("Can not
  load invalid JSON data"), and updates it cannot read at CRITICAL: that body is a
  person's message. `PayloadFilter` rewrites those records to say only how much was
  withheld.
* When an error answer is not valid JSON either, python-telegram-bot puts the raw body
  into the exception's message ("Parsing the server response b'...' failed"); that part
  is cut from tracebacks and arguments.
* A database error carries the row: SQLAlchemy prints the statement's parameters unless
  the engine hides them (`storage.db.make_engine` does), and PostgreSQL adds
  "DETAIL: Failing row contains (...)" or the offending value to its own message.
  `PayloadFilter` renders such tracebacks with each database error reduced to what
  identifies the fault (the error class, SQLSTATE, constraint, table and column names,
  the statement without values).

The formatter also masks anything shaped like a token in every finished line,
tracebacks included, as a last line of defence.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterator
from typing import IO, Any

from telegram.error import TelegramError

from storage.errors import describe_database_error, is_database_error

_TOKEN_SHAPE = re.compile(r"\d{5,20}:[A-Za-z0-9_-]{30,64}")
_HANDLER_NAME = "nudgebot"
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# python-telegram-bot's records that quote a Bot API body or updates verbatim.
_PTB_INVALID_JSON = "Can not load invalid JSON data"
_PTB_BAD_UPDATES = "Error while parsing updates!"
# ...and the phrase after which its exception messages quote a body.
_PTB_QUOTED_BODY = ". Parsing the server response "


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


class PayloadFilter(logging.Filter):
    """Withhold message bodies and database rows that libraries put in log records.

    Records are rewritten, not dropped: the operator still learns that something failed.
    """

    _plain = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("telegram") and isinstance(record.msg, str):
            if record.msg.startswith(_PTB_INVALID_JSON):
                withheld = len(str(record.args[0])) if isinstance(record.args, tuple) else 0
                record.msg = _PTB_INVALID_JSON + " (%d characters withheld)"
                record.args = (withheld,)
            elif record.msg.startswith(_PTB_BAD_UPDATES):
                record.msg = _PTB_BAD_UPDATES + " (received data withheld)"
                record.args = ()
        if isinstance(record.args, tuple):
            record.args = tuple(_safe_arg(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: _safe_arg(value) for key, value in record.args.items()}
        if record.exc_info and record.exc_info[1] is not None:
            risky = [e for e in _chain(record.exc_info[1]) if _carries_payload(e)]
            if risky:
                # Set even if another handler already rendered it: ours must be the safe one.
                record.exc_text = _scrubbed(self._plain.formatException(record.exc_info), risky)
        return True


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception and every cause and context behind it, each once."""
    seen: set[int] = set()
    pending: list[BaseException] = [exc]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        pending.extend(e for e in (current.__cause__, current.__context__) if e is not None)


def _quotes_a_body(exc: BaseException) -> bool:
    return isinstance(exc, TelegramError) and _PTB_QUOTED_BODY in str(exc)


def _carries_payload(exc: BaseException) -> bool:
    return is_database_error(exc) or _quotes_a_body(exc)


def _safe_arg(arg: Any) -> Any:
    if isinstance(arg, BaseException) and _carries_payload(arg):
        return _describe(arg)
    return arg


def _describe(exc: BaseException) -> str:
    if _quotes_a_body(exc):
        return str(exc).split(_PTB_QUOTED_BODY, 1)[0] + " (the server's answer withheld)"
    return describe_database_error(exc)


def _scrubbed(text: str, errors: list[BaseException]) -> str:
    # Longest first: a StatementError's text contains its driver error's text.
    originals = sorted(((str(e), _describe(e)) for e in errors), key=lambda p: -len(p[0]))
    for original, safe in originals:
        if original.strip():
            text = text.replace(original, safe)
    return text


def configure(
    level: int, *, secrets: tuple[str, ...] = (), stream: IO[str] | None = None
) -> logging.Handler:
    """Send logs to stderr (or `stream`) at `level`, with the libraries that leak held back."""
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(RedactingFormatter(FORMAT, secrets))
    handler.addFilter(PayloadFilter())
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
    return handler
