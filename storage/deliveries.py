"""Deliveries in the database: claim, take, record, snooze and answer (SQL only).

Every function is synchronous, takes a `Session`, and is meant to run in its own short
transaction (`Database.run`). The decisions (when a schedule fires, whether quiet hours
hold a nudge back, which slot it gets) are made in `scheduler.claims`, which calls these.
The life of a delivery:

    claimed --(taken)--> queued --(its request leaves)--> sending --> sent | failed |
       |                   |                                           blocked | ambiguous
       |                   \\--(crash before it left)--> claimed again
       |                                 sending --(429, not sent)--> claimed again
       \\--> missed (its grace ran out) | skipped (paused, stopped, quiet hours)

A schedule is claimed by moving its `next_fire_at` forward with a conditional UPDATE
(`WHERE next_fire_at = <the due value we read>`), in the same transaction that inserts its
deliveries under the unique key (schedule, person, due time). Two workers can never claim
the same occurrence, and a crash before commit leaves nothing behind. A delivery is taken
(`queued`) by one process, which it names (`worker_id`; rows are locked with SKIP LOCKED
on PostgreSQL), and becomes `sending` only in the moment its own request leaves (after
any rate-limit wait), and only by that process. When a process dies, `storage.workers`
settles its rows once its lease has run out: one still `sending` may or may not have
reached the person, so it is recorded as `ambiguous` and never sent again, while one
still `queued` never left and is sent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import Table, bindparam, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from storage import appreciations, invitations
from storage.appreciations import RelayText, relay_contexts
from storage.models import (
    INVITATION,
    INVITATION_REMINDER,
    NIGHTLY_APPRECIATION,
    PATH_FOR_ONE,
    TIMING_TIP,
    CoupleMember,
    Delivery,
    Person,
    Schedule,
)
from storage.people import partner_of
from storage.therapists import consenting_members


class DeliveryStatus(StrEnum):
    """Where a delivery is in its life (see the module docstring)."""

    CLAIMED = "claimed"
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    BLOCKED = "blocked"
    AMBIGUOUS = "ambiguous"
    MISSED = "missed"
    SKIPPED = "skipped"


CLAIMED, SENDING, SENT = DeliveryStatus.CLAIMED, DeliveryStatus.SENDING, DeliveryStatus.SENT
QUEUED = DeliveryStatus.QUEUED
FAILED, BLOCKED = DeliveryStatus.FAILED, DeliveryStatus.BLOCKED
AMBIGUOUS, MISSED, SKIPPED = DeliveryStatus.AMBIGUOUS, DeliveryStatus.MISSED, DeliveryStatus.SKIPPED
FINAL = (SENT, FAILED, BLOCKED, AMBIGUOUS, MISSED, SKIPPED)
PATH_DONE = "done"


class ClaimConflict(RuntimeError):
    """Another worker claimed some of the same schedules first; nothing was written."""


def _insert(session: Session) -> Callable[..., object]:
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def due_schedules(session: Session, now: dt.datetime, limit: int) -> list[Schedule]:
    """Up to `limit` schedules due at `now`, oldest first (locked on PostgreSQL)."""
    query = (
        select(Schedule)
        .where(Schedule.next_fire_at <= now)
        .order_by(Schedule.next_fire_at, Schedule.turn)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return list(session.scalars(query))


def record_claims(
    session: Session, advances: Sequence[dict[str, Any]], rows: Sequence[dict[str, Any]]
) -> None:
    """Advance the claimed schedules and insert their deliveries, or raise ClaimConflict.

    `advances` holds `b_id`, `b_due` (the `next_fire_at` that was read), `b_next` and
    `b_turn` (the schedule's place among those due with it next time).
    """
    table = cast(Table, Schedule.__table__)
    # Core, not ORM: an executemany whose summed rowcount tells whether every claim held.
    result = session.connection().execute(
        update(table)
        .where(table.c.id == bindparam("b_id"), table.c.next_fire_at == bindparam("b_due"))
        .values(next_fire_at=bindparam("b_next"), turn=bindparam("b_turn")),
        advances,
    )
    if result.rowcount != len(advances):
        # Another worker moved some of these first: roll back ours; the next tick retries.
        raise ClaimConflict(len(advances) - max(result.rowcount, 0))
    if rows:
        insert = _insert(session)
        session.execute(
            insert(Delivery).on_conflict_do_nothing(  # type: ignore[attr-defined]
                index_elements=["schedule_id", "person_id", "due_at"]
            ),
            rows,
        )


def fall_behind(session: Session, schedule_ids: Sequence[int], most: int) -> None:
    """Count one more miss on each schedule (its `turn` key drops by one, to `-most`)."""
    session.execute(
        update(Schedule)
        .where(Schedule.id.in_(set(schedule_ids)), Schedule.turn >= 1 - most)
        .values(turn=Schedule.turn - 1)
        .execution_options(synchronize_session=False)
    )


def claimed_rows(session: Session, now: dt.datetime, limit: int) -> list[tuple[Delivery, Person]]:
    """Claimed deliveries whose send time has come, with their person (read afresh).

    On PostgreSQL the rows are locked, skipping those another process is taking, so two
    processes never take the same delivery (its status then moves on in this transaction).
    """
    query = (
        select(Delivery, Person)
        .join(Person, Person.id == Delivery.person_id)
        .where(Delivery.status == CLAIMED, Delivery.send_after <= now)
        .order_by(Delivery.send_after)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(of=Delivery, skip_locked=True)
    rows = session.execute(query).all()
    return [(delivery, person) for delivery, person in rows]


def mark_sending(
    session: Session,
    sending: list[Delivery],
    people: dict[int, Person],
    now: dt.datetime,
    variant_memory: dt.timedelta,
    worker_id: int | None = None,
) -> TakeReport:
    """Mark deliveries `queued` (owned by `worker_id`) and gather what sending each needs.

    Relays whose couple ended (or whose sharing was paused) and invitations cancelled
    since they were scheduled are skipped instead.
    """
    report = TakeReport()
    relays = relay_contexts(session, sending)
    shown = {}
    for delivery in sending:
        if delivery.kind in (INVITATION, INVITATION_REMINDER) and delivery.ref_id is not None:
            reminder = delivery.kind == INVITATION_REMINDER
            invitation = invitations.for_delivery(session, delivery.ref_id, reminder=reminder)
            if invitation.problem is not None:
                relays.stale.append(delivery.id)  # cancelled since it was scheduled
            else:
                shown[delivery.id] = invitation
    if relays.stale:
        # The couple ended, or sharing was paused, after this relay was queued: the
        # writer, told "on its way", learns it was not passed on.
        report.skipped += len(relays.stale)
        for delivery in sending:
            if delivery.id in relays.stale:
                delivery.status = SKIPPED
                appreciations.on_relay_unsent(session, delivery, now)
        sending = [d for d in sending if d.id not in relays.stale]
    if sending:
        # One Core statement for the chunk (the ORM would write it row by row); the loaded
        # objects are not changed, so the unit of work writes nothing more for them.
        table = cast(Table, Delivery.__table__)
        session.execute(
            update(table)
            .where(table.c.id.in_([d.id for d in sending]))
            .values(status=QUEUED, worker_id=worker_id)
        )
    recent = _recent_variants(session, sending, now - variant_memory)
    snoozable = _snoozable(session, sending)
    ask_care = _ask_about_fewer(session, sending, now)
    custom = _custom_wording(session, sending)
    for delivery in sending:
        person = people[delivery.person_id]
        # The question a prompt asks is opened by `scheduler.claims.open_questions`.
        report.ready.append(
            Ready(
                delivery_id=delivery.id,
                person_id=person.id,
                schedule_id=delivery.schedule_id,
                chat_id=person.chat_id,
                kind=delivery.kind,
                due_at=delivery.due_at,
                deadline=delivery.deadline,
                display_name=person.display_name,
                language=person.language,
                zone=person.timezone or "UTC",
                silent=delivery.silent,
                attempts=delivery.attempts,
                recent_variants=tuple(recent.get((person.id, delivery.kind), ())),
                relay=relays.by_delivery.get(delivery.id),
                ref_id=delivery.ref_id,
                ask_care=delivery.id in ask_care,
                invitation=shown.get(delivery.id),
                custom_template=custom.get(delivery.id, (None, ""))[0],
                partner_name=custom.get(delivery.id, (None, ""))[1],
                couple_id=snoozable.get(delivery.id),
            )
        )
    return report


def owners(session: Session, schedules: Sequence[Schedule]) -> dict[int, list[Person]]:
    """The people each schedule reaches: its person, or both members of its couple."""
    owners: dict[int, list[Person]] = {}
    # A person may have several schedules due in one batch (nightly and a tip at 21:00).
    by_person: dict[int, list[int]] = {}
    by_couple: dict[int, list[int]] = {}
    for s in schedules:
        if s.person_id is not None:
            by_person.setdefault(s.person_id, []).append(s.id)
        if s.couple_id is not None:
            by_couple.setdefault(s.couple_id, []).append(s.id)
    if by_person:
        for person in session.scalars(select(Person).where(Person.id.in_(by_person))):
            for schedule_id in by_person[person.id]:
                owners.setdefault(schedule_id, []).append(person)
    if by_couple:
        members = session.execute(
            select(CoupleMember.couple_id, Person)
            .join(Person, Person.id == CoupleMember.person_id)
            .where(CoupleMember.couple_id.in_(by_couple))
        )
        therapist_set = {
            s.id: s.therapist_id
            for s in schedules
            if s.couple_id is not None and s.set_by == "therapist"
        }
        for couple_id, person in members:
            for schedule_id in by_couple[couple_id]:
                therapist_id = therapist_set.get(schedule_id)
                # A therapist's schedule applies to a partner only while their consent stands.
                if therapist_id is not None and person.id not in consenting_members(
                    session, couple_id, therapist_id
                ):
                    continue
                owners.setdefault(schedule_id, []).append(person)
    return owners


@dataclass(frozen=True, slots=True)
class Ready:
    """A delivery taken for sending, with what rendering and sending need."""

    delivery_id: int
    person_id: int
    schedule_id: int | None
    chat_id: int
    kind: str
    due_at: dt.datetime
    deadline: dt.datetime
    display_name: str
    language: str
    zone: str
    silent: bool
    attempts: int
    recent_variants: tuple[str, ...] = field(default=())
    # For relays: whose words, and the words (ref_id: the appreciation).
    relay: RelayText | None = None
    ref_id: int | None = None
    # For a couple's shared schedule: the couple (its buttons act for both).
    couple_id: int | None = None
    # Send the once-only "would fewer suit you?" question instead of this prompt.
    ask_care: bool = False
    # For an invitation to a paired partner: what it says.
    invitation: invitations.Shown | None = None
    # A therapist's own wording for this prompt (rendered in the sandbox), and the names
    # it may use.
    custom_template: str | None = None
    partner_name: str = ""


@dataclass
class TakeReport:
    ready: list[Ready] = field(default_factory=list)
    missed: int = 0
    skipped: int = 0
    deferred: int = 0


IGNORED_IN_A_ROW = 3

CARE_LOOKBACK = dt.timedelta(days=21)

CARE_KINDS = (NIGHTLY_APPRECIATION,)


def _ask_about_fewer(
    session: Session, deliveries: Iterable[Delivery], now: dt.datetime
) -> set[int]:
    """Deliveries whose person ignored the last few prompts of that kind, never asked yet.

    The question is asked once per schedule (`care_asked_at`); nobody is nagged.
    """
    asking: set[int] = set()
    candidates = [d for d in deliveries if d.kind in CARE_KINDS and d.schedule_id is not None]
    if not candidates:
        return asking
    # Two queries for the whole chunk: the schedules not asked yet, and recent responses.
    schedules = {
        s.id: s
        for s in session.scalars(
            select(Schedule).where(
                Schedule.id.in_({d.schedule_id for d in candidates}),
                Schedule.care_asked_at.is_(None),
            )
        )
    }
    candidates = [d for d in candidates if d.schedule_id in schedules]
    if not candidates:
        return asking
    recent: dict[tuple[int, str], list[str | None]] = {}
    for person_id, kind, response in session.execute(
        select(Delivery.person_id, Delivery.kind, Delivery.response)
        .where(
            Delivery.person_id.in_({d.person_id for d in candidates}),
            Delivery.kind.in_(CARE_KINDS),
            Delivery.status == SENT,
            Delivery.due_at >= now - CARE_LOOKBACK,
        )
        .order_by(Delivery.due_at.desc())
    ):
        recent.setdefault((person_id, kind), []).append(response)
    for delivery in candidates:
        last = recent.get((delivery.person_id, delivery.kind), [])[:IGNORED_IN_A_ROW]
        schedule = schedules[delivery.schedule_id]  # type: ignore[index]
        if (
            len(last) == IGNORED_IN_A_ROW
            and all(r is None for r in last)
            and (schedule.care_asked_at is None)
        ):
            schedule.care_asked_at = now
            asking.add(delivery.id)
    return asking


def set_every_other_day(session: Session, person_id: int, schedule_id: int) -> Schedule | None:
    """Lower a person's nightly prompt to every other day (Mon, Wed, Fri, Sun)."""
    schedule = session.get(Schedule, schedule_id)
    if schedule is None or schedule.person_id != person_id:
        return None
    schedule.weekdays = 0b1010101
    return schedule


def _custom_wording(session: Session, deliveries: Iterable[Delivery]) -> dict[int, tuple[str, str]]:
    """Deliveries whose schedule carries a therapist's wording: (template, partner name)."""
    ids = {d.schedule_id for d in deliveries if d.schedule_id is not None}
    if not ids:
        return {}
    templates = dict(
        session.execute(
            select(Schedule.id, Schedule.custom_template).where(
                Schedule.id.in_(ids), Schedule.custom_template.is_not(None)
            )
        ).all()
    )
    found: dict[int, tuple[str, str]] = {}
    for delivery in deliveries:
        source = templates.get(delivery.schedule_id) if delivery.schedule_id else None
        if source:
            partner = partner_of(session, delivery.person_id)
            found[delivery.id] = (source, partner.display_name if partner else "")
    return found


def _snoozable(session: Session, deliveries: Iterable[Delivery]) -> dict[int, int]:
    """For deliveries of a couple's shared schedule: delivery id -> couple id."""
    schedule_ids = {d.schedule_id for d in deliveries if d.schedule_id is not None}
    if not schedule_ids:
        return {}
    couples = dict(
        session.execute(
            select(Schedule.id, Schedule.couple_id).where(
                Schedule.id.in_(schedule_ids), Schedule.couple_id.is_not(None)
            )
        ).all()
    )
    found: dict[int, int] = {}
    for delivery in deliveries:
        couple_id = couples.get(delivery.schedule_id) if delivery.schedule_id else None
        if couple_id is not None:
            found[delivery.id] = couple_id
    return found


def _recent_variants(
    session: Session, deliveries: Iterable[Delivery], since: dt.datetime
) -> dict[tuple[int, str], list[str]]:
    """Variants each person saw lately, newest first, so wording does not repeat."""
    person_ids = {d.person_id for d in deliveries}
    if not person_ids:
        return {}
    found: dict[tuple[int, str], list[str]] = {}
    for person_id, kind, variant in session.execute(
        select(Delivery.person_id, Delivery.kind, Delivery.variant)
        .where(
            Delivery.person_id.in_(person_ids),
            # Tips never repeat until the whole library has been seen; a series runs in order.
            or_(Delivery.due_at >= since, Delivery.kind.in_((TIMING_TIP, PATH_FOR_ONE))),
            Delivery.variant.is_not(None),
            Delivery.status == SENT,
        )
        .order_by(Delivery.due_at.desc())
    ):
        if variant is not None:
            found.setdefault((person_id, kind), []).append(variant)
    return found
