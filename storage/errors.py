"""Database errors, described without any value from a row or a statement.

The log filter in `bot.logs` uses these so that a failing INSERT never puts what a
person wrote into a log line or a traceback.
"""

from __future__ import annotations

import sqlite3

from sqlalchemy.exc import StatementError


def is_database_error(exc: BaseException) -> bool:
    """Whether `exc` comes from SQLAlchemy or a database driver."""
    if isinstance(exc, StatementError | sqlite3.Error):
        return True
    return type(exc).__module__.split(".")[0] in ("psycopg", "psycopg2")


def describe_database_error(exc: BaseException) -> str:
    """What identifies a database fault, without any value from the row or statement."""
    if isinstance(exc, StatementError):
        cause = exc.orig if isinstance(exc.orig, BaseException) else None
        driver = f"({_qualified(cause)}) {describe_database_error(cause)}" if cause else ""
        return f"{driver}\n[SQL: {exc.statement}]".strip()
    if isinstance(exc, sqlite3.Error):
        # SQLite names constraints and columns in its messages, never bound values.
        return str(exc)
    diag = getattr(exc, "diag", None)
    facts = [f"SQLSTATE {getattr(exc, 'sqlstate', None) or getattr(exc, 'pgcode', '?')}"]
    for field in ("schema_name", "table_name", "column_name", "constraint_name"):
        value = getattr(diag, field, None)
        if value:
            facts.append(f"{field.removesuffix('_name')} {value}")
    return "; ".join(facts) + " (details withheld: they may quote the row)"


def _qualified(exc: BaseException) -> str:
    return f"{type(exc).__module__}.{type(exc).__qualname__}"
