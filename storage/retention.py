"""Retention: old delivery rows go, the weekly counts a therapist sees stay.

`purge_deliveries` deletes one small batch of deliveries due before a cut-off, in the
caller's transaction, and first adds what those rows counted in `storage.therapists.
adherence` and the practice overview (delivered, answered, snoozed, no reply, check-ins
done, per person, week and kind) to `weekly_counts`, so the therapist's figures are the
same after a purge as before it.

Deliveries still in flight (claimed or sending) are never purged. A weekly check-in
reaches both partners as one occurrence (same schedule, same due time) and counts once
when done, so its rows are purged together or not at all: then the occurrence is credited
exactly once, to the partner with the lower id among those who marked it done.

On PostgreSQL the batch is taken with `FOR UPDATE SKIP LOCKED`, so several processes can
purge at once without waiting on each other or on the dispatcher; an occurrence whose
other rows another transaction holds is left for a later batch. SQLite has one writer at
a time and is for one process (README).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Table, and_, delete, or_, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased

from storage.models import (
    NIGHTLY_APPRECIATION,
    TIMING_TIP,
    WEEKLY_CHECKIN,
    Base,
    Delivery,
    WeeklyCount,
)

# What `adherence()` counts (storage.therapists.PLAN_KINDS; repeated here so retention does
# not import the therapist module).
COUNTED_KINDS = (NIGHTLY_APPRECIATION, WEEKLY_CHECKIN, TIMING_TIP)
# Still referenced by a dispatcher: never purged.
IN_FLIGHT = ("claimed", "sending")
DEFAULT_BATCH = 1000

_COLUMNS = (
    Delivery.id,
    Delivery.schedule_id,
    Delivery.person_id,
    Delivery.kind,
    Delivery.due_at,
    Delivery.status,
    Delivery.response,
)
Occurrence = tuple[int | None, dt.datetime]
# Deleted as a Core table: the ORM's bulk-delete bookkeeping is not needed here.
_DELIVERIES: Table = Base.metadata.tables["deliveries"]
# A row of `_COLUMNS` (typed loosely: Row's generic form differs between SQLAlchemy 2.0 and 2.1).
Found = Any


def week_of(due_at: dt.datetime) -> dt.date:
    """The Monday of the (UTC) week `due_at` falls in, as `adherence()` groups them."""
    day = due_at.astimezone(dt.UTC).date()
    return day - dt.timedelta(days=day.weekday())


def purge_deliveries(session: Session, before: dt.datetime, batch: int = DEFAULT_BATCH) -> int:
    """Delete about `batch` finished deliveries due before `before`; return how many.

    What they counted for the therapist is added to `weekly_counts` in the same
    transaction. A check-in row brings its partner's copy of the occurrence along, so a
    batch can be a little larger than `batch`, or smaller when such a copy is held by
    another transaction (that occurrence waits for a later batch). 0 means nothing more
    can be purged now.
    """
    if batch < 1:
        raise ValueError("batch must be at least 1")
    if before.tzinfo is None:
        raise ValueError("before must be an aware datetime")
    locking = session.get_bind().dialect.name == "postgresql"
    query = (
        select(*_COLUMNS)
        .where(
            Delivery.due_at < before,
            Delivery.status.not_in(IN_FLIGHT),
            ~and_(Delivery.kind == WEEKLY_CHECKIN, _sibling_in_flight()),
        )
        .order_by(Delivery.id)
        .limit(batch)
    )
    if locking:
        query = query.with_for_update(skip_locked=True)
    rows: list[Found] = list(session.execute(query).all())
    if not rows:
        return 0
    rows = _whole_occurrences(session, rows, locking)
    if not rows:
        return 0
    ids = [row.id for row in rows]
    deleted: list[Found] = list(
        session.execute(
            delete(_DELIVERIES)
            .where(_DELIVERIES.c.id.in_(ids), _DELIVERIES.c.status.not_in(IN_FLIGHT))
            .returning(*(_DELIVERIES.c[column.key] for column in _COLUMNS))
        ).all()
    )
    _add_counts(session, deleted)
    return len(deleted)


def _sibling_in_flight() -> Any:
    """True for a check-in row whose occurrence still has a row in flight (kept whole)."""
    other = aliased(Delivery)
    return (
        select(other.id)
        .where(
            other.kind == WEEKLY_CHECKIN,
            other.schedule_id.is_not_distinct_from(Delivery.schedule_id),
            other.due_at == Delivery.due_at,
            other.status.in_(IN_FLIGHT),
        )
        .exists()
    )


def _occurrence(row: Found) -> Occurrence:
    return (row.schedule_id, row.due_at)


def _whole_occurrences(session: Session, rows: list[Found], locking: bool) -> list[Found]:
    """The batch, with each check-in occurrence complete, or left out if it cannot be."""
    occurrences = {_occurrence(r) for r in rows if r.kind == WEEKLY_CHECKIN}
    if not occurrences:
        return rows
    taken = {r.id for r in rows}
    scheduled = [(schedule_id, due) for schedule_id, due in occurrences if schedule_id is not None]
    unscheduled = [due for schedule_id, due in occurrences if schedule_id is None]
    match = or_(
        tuple_(Delivery.schedule_id, Delivery.due_at).in_(scheduled),
        and_(Delivery.schedule_id.is_(None), Delivery.due_at.in_(unscheduled)),
    )
    siblings_query = select(*_COLUMNS).where(
        Delivery.kind == WEEKLY_CHECKIN, match, Delivery.id.not_in(taken)
    )
    siblings: list[Found] = list(session.execute(siblings_query).all())
    if not siblings:
        return rows
    held: set[int] = set()
    if locking:
        ids = [s.id for s in siblings]
        lockable = set(
            session.scalars(
                select(Delivery.id).where(Delivery.id.in_(ids)).with_for_update(skip_locked=True)
            )
        )
        held = set(ids) - lockable
    # Siblings share the due time, so they are as old as the rows that brought them in.
    blocked = {_occurrence(s) for s in siblings if s.id in held or s.status in IN_FLIGHT}
    complete = [s for s in siblings if _occurrence(s) not in blocked]
    kept = [r for r in rows if r.kind != WEEKLY_CHECKIN or _occurrence(r) not in blocked]
    return kept + complete


_COUNTS = ("delivered", "snoozed", "checkins_done", "answered", "ignored")


def _add_counts(session: Session, deleted: Iterable[Found]) -> None:
    """Add what the deleted rows counted (in `adherence()` and the practice overview's
    engagement) to `weekly_counts`."""
    totals: dict[tuple[int, dt.date, str], dict[str, int]] = defaultdict(
        lambda: dict.fromkeys(_COUNTS, 0)
    )
    done: dict[Occurrence, list[Found]] = defaultdict(list)
    for row in deleted:
        if row.kind not in COUNTED_KINDS:
            continue
        counts = totals[(row.person_id, week_of(row.due_at), row.kind)]
        if row.status == "sent":
            counts["delivered"] += 1
            if row.response is None:
                counts["ignored"] += 1
            elif row.response != "snoozed":
                counts["answered"] += 1
        if row.response == "snoozed":
            counts["snoozed"] += 1
        if row.kind == WEEKLY_CHECKIN and row.response == "done":
            done[_occurrence(row)].append(row)
    for occurrence_rows in done.values():
        first = min(occurrence_rows, key=lambda r: r.person_id)
        totals[(first.person_id, week_of(first.due_at), first.kind)]["checkins_done"] += 1
    _upsert(
        session,
        [
            {"person_id": person_id, "week_start": week, "kind": kind, **counts}
            for (person_id, week, kind), counts in sorted(totals.items())
            if any(counts.values())
        ],
    )


def _upsert(session: Session, values: Sequence[dict[str, Any]]) -> None:
    """Add the counts to existing rows, or create them.

    Two purgers adding to the same row wait for each other here (and only here); the values
    come sorted by key, so they always lock rows in the same order and cannot deadlock.
    """
    if not values:
        return
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    insert = dialect.insert(WeeklyCount)
    statement = insert.on_conflict_do_update(
        index_elements=["person_id", "week_start", "kind"],
        set_={name: getattr(WeeklyCount, name) + insert.excluded[name] for name in _COUNTS},
    )
    session.execute(statement, list(values))
