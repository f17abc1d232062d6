"""Retention, as the dispatcher runs it: delivery rows older than the retention period go.

Every statement is in `storage.retention`; here is only the cut-off and the loop. Each
batch is its own short transaction, so a purge never holds many rows or the SQLite write
lock for long, and the dispatcher's own transactions slip in between batches.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from storage import Session
from storage.retention import DEFAULT_BATCH, purge_deliveries

# One hourly run deletes at most this many batches (a million rows at the default size);
# a larger backlog, e.g. after retention is first turned on, is worked off over the next runs.
DEFAULT_MAX_BATCHES = 1000

# Runs `fn(session, *args)` in its own transaction: `storage.db.Database.call`.
RunInTransaction = Callable[..., int]


def cutoff(now: dt.datetime, retention_days: int) -> dt.datetime:
    """Deliveries due before this instant are old enough to purge."""
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    if retention_days < 1:
        raise ValueError("retention_days must be at least 1")
    return now - dt.timedelta(days=retention_days)


def purge_batch(
    session: Session, now: dt.datetime, retention_days: int, batch: int = DEFAULT_BATCH
) -> int:
    """Purge one batch of old deliveries in the caller's transaction; return how many went."""
    return purge_deliveries(session, cutoff(now, retention_days), batch)


def purge_expired(
    call: RunInTransaction,
    now: dt.datetime,
    retention_days: int,
    *,
    batch: int = DEFAULT_BATCH,
    max_batches: int = DEFAULT_MAX_BATCHES,
) -> int:
    """Purge old deliveries batch by batch, each in its own transaction; return the total.

    `call` is `Database.call`. Stops when a batch finds nothing more to purge (or only rows
    another process holds) or after `max_batches`.
    """
    total = 0
    for _ in range(max_batches):
        deleted = call(purge_batch, now, retention_days, batch)
        if not deleted:
            break
        total += deleted
    return total
