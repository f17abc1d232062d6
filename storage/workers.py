"""Many processes on one database: leases, recovery of the dead, one shared send budget.

Every `nudgebot run` process registers a `Worker` row and renews its heartbeat. What a
process takes (a delivery queued or sending) carries its `worker_id`; another process
settles those rows only once that worker is known dead: stopped cleanly, or its
heartbeat older than the lease. A job only one process may do at a time (polling
Telegram for updates) is a `Lease` row, taken with a conditional write and renewed.
A polled update is kept in `update_inbox` from the moment it is fetched until it has been
handled (then recorded in `seen_updates`), so a process taking over polling finishes what
a dead one had taken, and never handles one twice. The bot's global send rate is one
`SendBudget` row: each send takes the next free slot with one atomic UPDATE, so the
limit holds for all processes together.

Every statement is conditional (or `FOR UPDATE SKIP LOCKED`), and its row count checked,
so any number of processes can call these at once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ColumnElement, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from storage.deliveries import AMBIGUOUS, CLAIMED, QUEUED, SENDING
from storage.models import Delivery, InboxUpdate, Lease, SeenUpdate, SendBudget, Worker

# A worker whose heartbeat is older than this is dead: its rows may be settled and its
# leases taken. Heartbeats come every `HEARTBEAT`.
LEASE = dt.timedelta(seconds=20)
HEARTBEAT = dt.timedelta(seconds=5)
# Forget stopped workers (and old seen updates) after this long.
FORGET_AFTER = dt.timedelta(days=2)
POLLING = "polling"
TELEGRAM_BUDGET = "telegram"


def register(session: Session, name: str, roles: str, now: dt.datetime) -> int:
    """A new worker row for this process; returns its id."""
    worker = Worker(name=name[:128], roles=roles[:64], started_at=now, heartbeat_at=now)
    session.add(worker)
    session.flush()
    return worker.id


def heartbeat(session: Session, worker_id: int, now: dt.datetime) -> bool:
    """Renew this worker's lease; False if it was declared dead (it must stop taking work)."""
    result = session.execute(
        update(Worker)
        .where(Worker.id == worker_id, Worker.stopped_at.is_(None))
        .values(heartbeat_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def stop(session: Session, worker_id: int, now: dt.datetime) -> None:
    """A clean stop: release its leases and mark it dead at once."""
    session.execute(delete(Lease).where(Lease.worker_id == worker_id))
    session.execute(
        update(Worker)
        .where(Worker.id == worker_id)
        .values(stopped_at=now)
        .execution_options(synchronize_session=False)
    )


def _dead(now: dt.datetime) -> ColumnElement[bool]:
    return or_(Worker.stopped_at.is_not(None), Worker.heartbeat_at < now - LEASE)


@dataclass(frozen=True, slots=True)
class Recovered:
    requeued: int = 0  # taken but never left: sent again
    ambiguous: int = 0  # in flight when their worker died: never sent again


def recover_dead(session: Session, now: dt.datetime, *, alone: int | None = None) -> Recovered:
    """Settle what dead workers left: `queued` is claimed again, `sending` is ambiguous.

    Rows with no worker (left by a version before workers existed) count as dead.
    `alone`: the caller's worker id when it is the only process there can be (SQLite):
    every other worker is dead, whatever its heartbeat says.
    """
    if alone is not None:
        dead = select(Worker.id).where(Worker.id != alone)
    else:
        dead = select(Worker.id).where(_dead(now))
    owner = or_(Delivery.worker_id.is_(None), Delivery.worker_id.in_(dead))
    return _settle(session, owner, "crash_in_flight")


def recover_own(session: Session, worker_id: int) -> Recovered:
    """This worker's own leftovers, when it knows none of its sends is in flight (between
    drains): rows it took whose send or record failed (the database went away mid-drain)
    are settled as if it had died: `queued` is claimed again, `sending` is ambiguous."""
    return _settle(session, Delivery.worker_id == worker_id, "record_failed")


def _settle(session: Session, owner: ColumnElement[bool], error: str) -> Recovered:
    connection = session.connection()
    requeued = connection.execute(
        update(Delivery)
        .where(Delivery.status == QUEUED, owner)
        .values(status=CLAIMED, worker_id=None)
    ).rowcount
    ambiguous = connection.execute(
        update(Delivery)
        .where(Delivery.status == SENDING, owner)
        .values(status=AMBIGUOUS, error=error, worker_id=None)
    ).rowcount
    return Recovered(max(requeued, 0), max(ambiguous, 0))


def forget_old(session: Session, now: dt.datetime) -> None:
    """Drop long-stopped workers that own nothing, and seen updates nobody can resend."""
    owning = select(Delivery.worker_id).where(
        Delivery.worker_id.is_not(None), Delivery.status.in_((QUEUED, SENDING))
    )
    session.execute(
        delete(Worker).where(Worker.heartbeat_at < now - FORGET_AFTER, Worker.id.not_in(owning))
    )
    # Telegram keeps an unconfirmed update for 24 hours.
    session.execute(delete(SeenUpdate).where(SeenUpdate.seen_at < now - FORGET_AFTER))
    # An update nobody could handle in two days is not kept any longer (it holds text).
    session.execute(delete(InboxUpdate).where(InboxUpdate.received_at < now - FORGET_AFTER))


def living(session: Session, now: dt.datetime) -> int:
    """How many workers hold a live lease (for sharing the reply budget)."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(Worker)
            .where(Worker.stopped_at.is_(None), Worker.heartbeat_at >= now - LEASE)
        )
        or 0
    )


def hold_lease(session: Session, name: str, worker_id: int, now: dt.datetime) -> bool:
    """Take or renew the lease `name` for this worker; True while it is ours.

    Taken only when free, expired, or held by a worker known dead.
    """
    expires = now + LEASE
    renewed = session.execute(
        update(Lease)
        .where(
            Lease.name == name,
            or_(
                Lease.worker_id == worker_id,
                Lease.expires_at < now,
                Lease.worker_id.in_(select(Worker.id).where(_dead(now))),
            ),
        )
        .values(worker_id=worker_id, expires_at=expires)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if renewed:
        return True
    dialect = session.get_bind().dialect.name
    maker = pg_insert if dialect == "postgresql" else sqlite_insert
    created = session.execute(
        maker(Lease)
        .values(name=name, worker_id=worker_id, expires_at=expires)
        .on_conflict_do_nothing(index_elements=["name"])
        .returning(Lease.name)
    ).first()
    return created is not None


def release_lease(session: Session, name: str, worker_id: int) -> None:
    session.execute(delete(Lease).where(Lease.name == name, Lease.worker_id == worker_id))


def lease_holder(session: Session, name: str, now: dt.datetime) -> int | None:
    """The worker holding `name` now, if any."""
    return session.scalar(
        select(Lease.worker_id).where(Lease.name == name, Lease.expires_at >= now)
    )


def keep_update(
    session: Session, update_id: int, worker_id: int, payload: str, now: dt.datetime
) -> None:
    """Keep a polled update (this worker's) until it has been handled."""
    dialect = session.get_bind().dialect.name
    maker = pg_insert if dialect == "postgresql" else sqlite_insert
    insert = maker(InboxUpdate).values(
        update_id=update_id, worker_id=worker_id, payload=payload, received_at=now
    )
    session.execute(
        insert.on_conflict_do_update(index_elements=["update_id"], set_={"worker_id": worker_id})
    )


def finish_update(session: Session, update_id: int, now: dt.datetime) -> None:
    """The update has been handled: never again, by any process."""
    dialect = session.get_bind().dialect.name
    maker = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(
        maker(SeenUpdate)
        .values(update_id=update_id, seen_at=now)
        .on_conflict_do_nothing(index_elements=["update_id"])
    )
    session.execute(delete(InboxUpdate).where(InboxUpdate.update_id == update_id))


def handled(session: Session, update_id: int) -> bool:
    """Whether some process has handled this update already."""
    return session.get(SeenUpdate, update_id) is not None


def orphaned_updates(
    session: Session, worker_id: int, now: dt.datetime, *, alone: bool
) -> list[str]:
    """Updates a dead worker took but never handled, oldest first, now this worker's.

    `alone`: every other worker is dead (one process on SQLite)."""
    others = select(Worker.id).where(Worker.id != worker_id)
    dead = others if alone else others.where(_dead(now))
    query = (
        select(InboxUpdate)
        .where(
            or_(InboxUpdate.worker_id.in_(dead), InboxUpdate.worker_id.not_in(select(Worker.id)))
        )
        .order_by(InboxUpdate.update_id)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = list(session.scalars(query))
    for row in rows:
        row.worker_id = worker_id
    return [row.payload for row in rows]


def take_send_slots(
    session: Session,
    now: float,
    interval: float,
    count: int = 1,
    *,
    horizon: float | None = None,
) -> float | None:
    """Take `count` consecutive global send slots; returns when the first one is (Unix s).

    One atomic UPDATE moves the shared cursor, so every process together keeps the rate.
    With `horizon` (bulk sends), nothing is taken while the cursor is more than `horizon`
    seconds ahead of `now` (returns None: ask again later), so a reply, which takes its
    slot unconditionally, never waits behind more than `horizon` of bulk.
    """
    condition = [SendBudget.name == TELEGRAM_BUDGET]
    if horizon is not None:
        condition.append(SendBudget.next_free <= now + horizon)
    dialect = session.get_bind().dialect.name
    pick = func.greatest if dialect == "postgresql" else func.max
    take = (
        update(SendBudget)
        .where(*condition)
        .values(next_free=pick(SendBudget.next_free, now) + interval * count)
        .returning(SendBudget.next_free)
        .execution_options(synchronize_session=False)
    )
    for _ in range(5):
        row = session.execute(take).first()
        if row is not None:
            return float(row[0]) - interval * count
        exists = session.scalar(select(SendBudget.name).where(SendBudget.name == TELEGRAM_BUDGET))
        if exists is not None:
            if horizon is not None:
                return None  # bulk, and the cursor is too far ahead: ask again later
            continue  # created by another process a moment ago: take from it
        # The first send ever: create the cursor. Should another process create it at the
        # same moment, its row is visible once that insert is done: take from it instead.
        maker = pg_insert if dialect == "postgresql" else sqlite_insert
        created = session.execute(
            maker(SendBudget)
            .values(name=TELEGRAM_BUDGET, next_free=now + interval * count)
            .on_conflict_do_nothing(index_elements=["name"])
            .returning(SendBudget.name)
        ).first()
        if created is not None:
            return now
    return None


def send_cursor(session: Session) -> float | None:
    """The next free global send slot (Unix s), if anything was ever sent."""
    return session.scalar(select(SendBudget.next_free).where(SendBudget.name == TELEGRAM_BUDGET))


def push_send_slots(session: Session, until: float) -> None:
    """Telegram said to wait (429): no process takes a slot before `until` (Unix s)."""
    session.execute(
        update(SendBudget)
        .where(SendBudget.name == TELEGRAM_BUDGET, SendBudget.next_free < until)
        .values(next_free=until)
        .execution_options(synchronize_session=False)
    )


__all__ = [
    "HEARTBEAT",
    "LEASE",
    "POLLING",
    "Recovered",
    "finish_update",
    "forget_old",
    "handled",
    "heartbeat",
    "hold_lease",
    "keep_update",
    "lease_holder",
    "living",
    "orphaned_updates",
    "push_send_slots",
    "recover_dead",
    "recover_own",
    "register",
    "release_lease",
    "send_cursor",
    "stop",
    "take_send_slots",
]
