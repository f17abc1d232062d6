"""What each send did, written back: the outcome of a request, and recovery after a crash.

See `storage.deliveries` for the life of a delivery. `mark_leaving` makes a queued
delivery `sending` as its own request leaves; `record_outcomes` writes what happened;
`storage.workers.recover_dead` settles what a dead process left.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.orm import Session

from storage import appreciations, invitations
from storage.appreciations import RELAY, on_relay_sent
from storage.deliveries import (
    BLOCKED,
    CLAIMED,
    FAILED,
    MISSED,
    PATH_DONE,
    QUEUED,
    SENDING,
    SENT,
    SKIPPED,
    DeliveryStatus,
)
from storage.models import (
    INVITATION,
    PATH_FOR_ONE,
    Delivery,
    Person,
    Schedule,
)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one send."""

    delivery_id: int
    status: DeliveryStatus  # final, or CLAIMED: try again at retry_at
    sent_at: dt.datetime | None = None
    message_id: int | None = None
    variant: str | None = None
    error: str | None = None
    retry_at: dt.datetime | None = None
    new_chat_id: int | None = None
    # The delivery's kind, when the sender knows it: a plain nudge sent needs nothing
    # written but its own row (see `record_outcomes`).
    kind: str | None = None


# Kinds whose sending is followed up elsewhere (a relay marked delivered, an invitation, the
# end of the path for one): recorded through the ORM, with their follow-ups.
_FOLLOWED_UP = frozenset((RELAY, INVITATION, PATH_FOR_ONE))
_TABLE = cast(Table, Delivery.__table__)
# Core, not ORM: one executemany for every plain nudge sent in a flush, with nothing read.
_RECORD_SENT = (
    update(_TABLE)
    .where(_TABLE.c.id == bindparam("b_id"))
    .values(
        status=SENT,
        error=bindparam("b_error"),
        sent_at=bindparam("b_sent_at"),
        telegram_message_id=bindparam("b_message_id"),
        variant=bindparam("b_variant"),
    )
)


def _plain_sent(outcome: Outcome) -> bool:
    return (
        outcome.status == SENT
        and outcome.kind is not None
        and outcome.kind not in _FOLLOWED_UP
        and outcome.new_chat_id is None
    )


def record_outcomes(session: Session, outcomes: Sequence[Outcome], now: dt.datetime) -> None:
    """Write back what each send did; a block pauses that person until /start."""
    plain = [o for o in outcomes if _plain_sent(o)]
    if plain:
        # An id erased with its person while its request was in flight matches no row.
        session.connection().execute(
            _RECORD_SENT,
            [
                {
                    "b_id": o.delivery_id,
                    "b_error": o.error,
                    "b_sent_at": o.sent_at,
                    "b_message_id": o.message_id,
                    "b_variant": o.variant,
                }
                for o in plain
            ],
        )
        if len(plain) == len(outcomes):
            return
        outcomes = [o for o in outcomes if not _plain_sent(o)]
    # Two queries for the rest, then the unit of work writes the changes in batches.
    rows = {
        d.id: d
        for d in session.scalars(
            select(Delivery).where(Delivery.id.in_([o.delivery_id for o in outcomes]))
        )
    }
    people = {
        p.id: p
        for p in session.scalars(
            select(Person).where(Person.id.in_({d.person_id for d in rows.values()}))
        )
    }
    if not rows:
        return
    for outcome in outcomes:
        delivery = rows.get(outcome.delivery_id)
        if delivery is None:
            continue  # erased with its person while its request was in flight
        delivery.status = outcome.status
        delivery.error = outcome.error
        if outcome.status == SENT:
            delivery.sent_at = outcome.sent_at
            delivery.telegram_message_id = outcome.message_id
            delivery.variant = outcome.variant
            on_relay_sent(session, delivery, now)
            if delivery.kind == INVITATION and delivery.ref_id is not None:
                invitations.delivered(session, delivery.ref_id, now)
            if (
                delivery.kind == PATH_FOR_ONE
                and outcome.variant == PATH_DONE
                and (delivery.schedule_id is not None)
            ):
                # The path for one is complete: its schedule stops by itself.
                schedule = session.get(Schedule, delivery.schedule_id)
                if schedule is not None:
                    schedule.next_fire_at = None
        elif outcome.status == CLAIMED and outcome.retry_at is not None:
            if outcome.retry_at > delivery.deadline:
                delivery.status = FAILED  # no time left to try again: not sent
            else:
                delivery.send_after = outcome.retry_at
        if delivery.status in (FAILED, BLOCKED):
            if delivery.kind == INVITATION and delivery.ref_id is not None:
                invitations.not_delivered(session, delivery.ref_id)
            appreciations.on_relay_unsent(session, delivery, now)
        person = people[delivery.person_id]
        if (
            outcome.status != SENT
            and person.awaiting_ref == delivery.id
            and (person.awaiting == "appreciation")
        ):
            person.awaiting, person.awaiting_ref = None, None
        if outcome.status == BLOCKED and person.blocked_at is None:
            person.blocked_at = now
        if outcome.new_chat_id is not None:
            person.chat_id = outcome.new_chat_id


# The scheduler's last look at a delivery about to leave (`scheduler.claims.last_look`):
# its status now (CLAIMED: go, or wait until the returned time), given the person.
LastLook = Callable[[Person, Delivery, dt.datetime], tuple[DeliveryStatus, dt.datetime]]


# Built once, and read as plain rows rather than ORM objects: mark_leaving runs for every
# few sends, and building a statement or loading objects costs more than the query itself.
# The columns are those `last_look` reads (see `_LookedAt`).
_LOOK_COLUMNS = (
    Delivery.id,
    Delivery.kind,
    Delivery.due_at,
    Delivery.deadline,
    Person.stopped_at,
    Person.blocked_at,
    Person.paused_at,
    Person.paused_until,
    Person.quiet_start,
    Person.quiet_end,
    Person.timezone,
)
_LEAVING_ANY = (
    select(*_LOOK_COLUMNS)
    .join(Person, Person.id == Delivery.person_id)
    .where(Delivery.id.in_(bindparam("ids", expanding=True)), Delivery.status == QUEUED)
)
_LEAVING_OWN = _LEAVING_ANY.where(Delivery.worker_id == bindparam("worker_id"))
# On PostgreSQL the rows are locked: [worker_id given][locked].
_LEAVING = (
    (_LEAVING_ANY, _LEAVING_ANY.with_for_update(of=_TABLE)),
    (_LEAVING_OWN, _LEAVING_OWN.with_for_update(of=_TABLE)),
)
_LEAVE = (
    update(_TABLE)
    .where(_TABLE.c.id.in_(bindparam("ids", expanding=True)))
    .values(status=SENDING, attempts=_TABLE.c.attempts + 1)
)


def mark_leaving(
    session: Session,
    delivery_ids: Sequence[int],
    now: dt.datetime | None = None,
    last_look: LastLook | None = None,
    worker_id: int | None = None,
) -> set[int]:
    """Queued deliveries whose requests leave now become `sending`; returns those that did.

    One that is no longer queued (erased with its person, or settled by another process
    that found this one's lease expired), or that `worker_id` no longer owns, is not
    returned, and must not be sent. With `last_look`, the person is read again first:
    someone who paused, stopped or blocked the bot while the message waited for its
    rate-limit slot (a long 429) is not sent it; it is held, skipped or missed instead.
    """
    if not delivery_ids:
        return set()
    locked = session.get_bind().dialect.name == "postgresql"
    statement = _LEAVING[worker_id is not None][locked]
    params = {"ids": list(delivery_ids), "worker_id": worker_id}
    leaving: list[int] = []
    for row in session.connection().execute(statement, params):
        if last_look is not None and now is not None:
            # The row carries every attribute of the person and the delivery it reads.
            status, send_after = last_look(cast(Person, row), cast(Delivery, row), now)
            if status != CLAIMED or send_after > now:
                _held_back(session, row.id, status, send_after, now)
                continue
        leaving.append(row.id)
    if leaving:
        # One Core statement for all that leave (the ORM would write them row by row).
        session.connection().execute(_LEAVE, {"ids": leaving})
    return set(leaving)


def _held_back(
    session: Session,
    delivery_id: int,
    status: DeliveryStatus,
    send_after: dt.datetime,
    now: dt.datetime,
) -> None:
    """A queued delivery that may not leave after all: held, skipped or missed instead."""
    delivery = session.get_one(Delivery, delivery_id)
    delivery.status, delivery.send_after = status, send_after
    if status in (SKIPPED, MISSED):
        if delivery.kind == INVITATION and delivery.ref_id is not None:
            invitations.not_delivered(session, delivery.ref_id)
        appreciations.on_relay_unsent(session, delivery, now)


def counts_by_status(session: Session) -> dict[str, int]:
    """How many deliveries are in each state (for the benchmark and operators)."""
    return dict(session.execute(select(Delivery.status, func.count()).group_by(Delivery.status)))


def due_backlog(session: Session, now: dt.datetime) -> int:
    """How many schedules or deliveries are waiting at `now` (for tests and benchmarks)."""
    schedules = (
        session.scalar(
            select(func.count()).select_from(Schedule).where(Schedule.next_fire_at <= now)
        )
        or 0
    )
    deliveries = (
        session.scalar(
            select(func.count())
            .select_from(Delivery)
            .where(Delivery.status == CLAIMED, Delivery.send_after <= now)
        )
        or 0
    )
    return int(schedules) + int(deliveries)
