"""What each send did, written back: the outcome of a request, and recovery after a crash.

See `storage.deliveries` for the life of a delivery. `mark_leaving` makes a queued
delivery `sending` as its own request leaves; `record_outcomes` writes what happened;
`storage.workers.recover_dead` settles what a dead process left.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage import appreciations, invitations
from storage.appreciations import on_relay_sent
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


def record_outcomes(session: Session, outcomes: Sequence[Outcome], now: dt.datetime) -> None:
    """Write back what each send did; a block pauses that person until /start."""
    # Two queries for the whole chunk, then the unit of work writes the changes in batches.
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
    query = (
        select(Delivery, Person)
        .join(Person, Person.id == Delivery.person_id)
        .where(Delivery.id.in_(delivery_ids), Delivery.status == QUEUED)
    )
    if worker_id is not None:
        query = query.where(Delivery.worker_id == worker_id)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(of=Delivery)
    leaving: set[int] = set()
    for delivery, person in session.execute(query).all():
        if last_look is not None and now is not None:
            status, send_after = last_look(person, delivery, now)
            if status != CLAIMED or send_after > now:
                delivery.status, delivery.send_after = status, send_after
                if status in (SKIPPED, MISSED):
                    if delivery.kind == INVITATION and delivery.ref_id is not None:
                        invitations.not_delivered(session, delivery.ref_id)
                    appreciations.on_relay_unsent(session, delivery, now)
                continue
        delivery.status = SENDING
        delivery.attempts += 1
        leaving.add(delivery.id)
    return leaving


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
