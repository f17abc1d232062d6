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
the same occurrence, and a crash before commit leaves nothing behind. A delivery becomes
`sending` only in the moment its own request leaves (after any rate-limit wait); one found
still `sending` after a crash may or may not have reached the person, so it is recorded
as `ambiguous` and never sent again, while one still `queued` never left and is sent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal, cast

from sqlalchemy import Table, bindparam, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from storage import appreciations, invitations
from storage.appreciations import RelayText, on_relay_sent, relay_contexts
from storage.models import (
    INVITATION,
    INVITATION_REMINDER,
    NIGHTLY_APPRECIATION,
    PATH_FOR_ONE,
    TIMING_TIP,
    Couple,
    CoupleMember,
    Delivery,
    Person,
    Schedule,
)
from storage.people import partner_of
from storage.therapists import consenting_members

SnoozeResult = Literal["ok", "already", "not_yours", "gone"]
CheckinResult = Literal["done", "skipped", "already", "not_yours", "gone"]


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


def claimed_rows(session: Session, now: dt.datetime, limit: int) -> list[tuple[Delivery, Person]]:
    """Claimed deliveries whose send time has come, with their person (read afresh)."""
    rows = session.execute(
        select(Delivery, Person)
        .join(Person, Person.id == Delivery.person_id)
        .where(Delivery.status == CLAIMED, Delivery.send_after <= now)
        .order_by(Delivery.send_after)
        .limit(limit)
    ).all()
    return [(delivery, person) for delivery, person in rows]


def mark_sending(
    session: Session,
    sending: list[Delivery],
    people: dict[int, Person],
    now: dt.datetime,
    variant_memory: dt.timedelta,
) -> TakeReport:
    """Mark deliveries `queued` and gather what composing and sending each needs.

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
        # The couple ended, or sharing was paused, after this relay was queued.
        report.skipped += len(relays.stale)
        for delivery in sending:
            if delivery.id in relays.stale:
                delivery.status = SKIPPED
        sending = [d for d in sending if d.id not in relays.stale]
    for delivery in sending:
        delivery.status = QUEUED
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
        elif outcome.status in (FAILED, BLOCKED) and delivery.kind == INVITATION:
            if delivery.ref_id is not None:
                invitations.not_delivered(session, delivery.ref_id)
        elif outcome.status == CLAIMED and outcome.retry_at is not None:
            if outcome.retry_at > delivery.deadline:
                delivery.status = FAILED
            else:
                delivery.send_after = outcome.retry_at
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


def mark_leaving(session: Session, delivery_ids: Sequence[int]) -> set[int]:
    """Queued deliveries whose requests leave now become `sending`; returns those that did.

    One that is no longer queued (erased with its person, or taken by someone else) is
    not returned, and must not be sent.
    """
    if not delivery_ids:
        return set()
    rows = session.execute(
        update(Delivery)
        .where(Delivery.id.in_(delivery_ids), Delivery.status == QUEUED)
        .values(status=SENDING, attempts=Delivery.attempts + 1)
        .returning(Delivery.id)
    )
    return {int(row[0]) for row in rows}


def recover_in_flight(session: Session) -> int:
    """At start-up: `sending` is ambiguous (never resend); `queued` never left: resend.

    Returns how many were ambiguous.
    """
    connection = session.connection()
    connection.execute(update(Delivery).where(Delivery.status == QUEUED).values(status=CLAIMED))
    result = connection.execute(
        update(Delivery)
        .where(Delivery.status == SENDING)
        .values(status=AMBIGUOUS, error="crash_in_flight")
    )
    return max(result.rowcount, 0)


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


@dataclass(frozen=True, slots=True)
class Told:
    """Someone else who must hear about a change to a shared nudge."""

    chat_id: int
    language: str
    zone: str


@dataclass(frozen=True, slots=True)
class Snoozed:
    """What a snooze press did: `ok`, `already` (pressed before), `not_yours` or `gone`."""

    result: SnoozeResult
    until: dt.datetime | None = None
    zone: str = "UTC"
    by_name: str = ""
    others: tuple[Told, ...] = ()


SNOOZED, REPLIED, DONE, SKIPPED_WEEK = "snoozed", "replied", "done", "skipped"
# The typed answer each prompt asks for, as the person's `awaiting` value.
PROMPT_QUESTIONS = {NIGHTLY_APPRECIATION: "appreciation", PATH_FOR_ONE: "path_note"}
# How long a held prompt's question may still be opened once the other one is answered.
HELD_FOR = dt.timedelta(hours=12)
# What a pending snoozed copy becomes when its question was answered meanwhile.
ANSWERED_BEFORE = "answered_before"


def _snooze_chain(session: Session, delivery: Delivery) -> set[dt.datetime]:
    """The due instants of one nudge and of every snoozed copy of it, back and forth.

    A snooze records `snoozed_until` on the nudge and adds a copy due then, for the same
    schedule and person; following those links both ways finds the whole occurrence.
    """
    due_ats = {delivery.due_at}
    if delivery.schedule_id is None:
        return due_ats
    same = (Delivery.schedule_id == delivery.schedule_id, Delivery.person_id == delivery.person_id)
    earlier = delivery
    while True:
        before = session.scalar(
            select(Delivery).where(
                *same, Delivery.response == SNOOZED, Delivery.snoozed_until == earlier.due_at
            )
        )
        if before is None or before.due_at in due_ats:
            break
        due_ats.add(before.due_at)
        earlier = before
    later: Delivery | None = delivery
    while later is not None and later.response == SNOOZED and later.snoozed_until is not None:
        if later.snoozed_until in due_ats:
            break
        due_ats.add(later.snoozed_until)
        later = session.scalar(
            select(Delivery).where(*same, Delivery.due_at == later.snoozed_until)
        )
    return due_ats


def _occurrence(session: Session, delivery: Delivery) -> list[Delivery]:
    """This delivery with its snoozed copies, and its partner's when the schedule is a couple's."""
    if delivery.schedule_id is None:
        return [delivery]
    due_ats = _snooze_chain(session, delivery)
    schedule = session.get(Schedule, delivery.schedule_id)
    query = select(Delivery).where(
        Delivery.schedule_id == delivery.schedule_id, Delivery.due_at.in_(due_ats)
    )
    if schedule is None or schedule.couple_id is None:
        query = query.where(Delivery.person_id == delivery.person_id)
    return list(session.scalars(query.order_by(Delivery.due_at, Delivery.id)))


def _cancel_pending(session: Session, copies: Iterable[Delivery]) -> int:
    """Snoozed copies not sent yet will not come back: their question was answered.

    A copy due at or after the schedule's next regular time is that occurrence too (a
    nightly prompt snoozed to "tomorrow"), so it stays.
    """
    cancelled = 0
    for copy in copies:
        if copy.status != CLAIMED:
            continue
        schedule = session.get(Schedule, copy.schedule_id) if copy.schedule_id else None
        regular = schedule.next_fire_at if schedule is not None else None
        if regular is not None and copy.due_at >= regular:
            continue
        copy.status, copy.error = SKIPPED, ANSWERED_BEFORE
        cancelled += 1
    return cancelled


def settle_prompt(
    session: Session, person_id: int, delivery_id: int | None, now: dt.datetime
) -> int:
    """A prompt was answered: mark it replied, and call back its snoozed copies.

    Returns how many pending copies will no longer come.
    """
    if delivery_id is None:
        return 0
    delivery = session.get(Delivery, delivery_id)
    if delivery is None or delivery.person_id != person_id:
        return 0
    copies = _occurrence(session, delivery)
    for copy in copies:
        if copy.response is None and copy.status in (SENDING, SENT, AMBIGUOUS):
            copy.response, copy.responded_at = REPLIED, now
    return _cancel_pending(session, copies)


def _others(session: Session, copies: list[Delivery], person_id: int) -> tuple[Told, ...]:
    told = []
    for copy in copies:
        if copy.person_id != person_id:
            other = session.get_one(Person, copy.person_id)
            if other.stopped_at is None and other.blocked_at is None:
                told.append(Told(other.chat_id, other.language, other.timezone or "UTC"))
    return tuple(told)


def snooze(
    session: Session,
    person_id: int,
    delivery_id: int,
    now: dt.datetime,
    *,
    target_for: Callable[[dt.datetime, str], dt.datetime | None],
    grace: Callable[[str], float],
) -> Snoozed:
    """Move one delivered nudge to `target_for(due_at, zone)`, as a one-off.

    The recurrence is untouched; None from `target_for` means the option no longer applies.

    A couple's shared nudge (the weekly check-in) moves for both partners.
    """
    delivery = session.get(Delivery, delivery_id)
    if delivery is None:
        return Snoozed("gone")
    if delivery.person_id != person_id:
        return Snoozed("not_yours")
    person = session.get_one(Person, person_id)
    zone = person.timezone or "UTC"
    if delivery.response is not None:
        return Snoozed("already", delivery.snoozed_until, zone)
    copies = _occurrence(session, delivery)
    if any(c.response in (DONE, SKIPPED_WEEK, REPLIED) for c in copies):
        # Already done (perhaps by the partner): nothing is left to come back.
        return Snoozed("gone")
    target = target_for(delivery.due_at, zone)
    if target is None:
        return Snoozed("gone")
    moving = [c for c in copies if c.due_at == delivery.due_at]
    for copy in moving:
        if copy.response is not None and copy is not delivery:
            continue
        copy.response, copy.responded_at, copy.snoozed_until = SNOOZED, now, target
        session.add(
            Delivery(
                schedule_id=copy.schedule_id,
                person_id=copy.person_id,
                kind=copy.kind,
                due_at=target,
                send_after=target,
                deadline=target + dt.timedelta(seconds=grace(copy.kind)),
                status=CLAIMED,
                attempts=0,
                claimed_at=now,
                silent=False,
            )
        )
    return Snoozed("ok", target, zone, person.display_name, _others(session, moving, person_id))


def ask_typed(session: Session, person_id: int, question: str | None) -> None:
    """Open (or with None, close) a question the person answers by typing.

    An open prompt question it replaces is held, not lost: it opens again once this one
    is answered (`reopen_held`).
    """
    person = session.get_one(Person, person_id)
    if question is None and person.awaiting in PROMPT_QUESTIONS.values():
        return  # closing a flow's question never closes a prompt's
    if (
        question is not None
        and person.awaiting in PROMPT_QUESTIONS.values()
        and person.awaiting_ref is not None
    ):
        person.held_ref = person.awaiting_ref
    person.awaiting, person.awaiting_ref = question, None


def reopen_held(session: Session, person_id: int, now: dt.datetime) -> str | None:
    """Once no question is open, open the one a held prompt asked; returns its kind.

    A prompt is held when it arrived while the person was answering something else
    (`scheduler.claims.open_questions`). Only a prompt that went out, is unanswered and
    is not older than `HELD_FOR` is opened; either way it is held no longer.
    """
    person = session.get_one(Person, person_id)
    if person.awaiting is not None or person.held_ref is None:
        return None
    held = session.get(Delivery, person.held_ref)
    person.held_ref = None
    if (
        held is None
        or held.person_id != person_id
        or held.kind not in PROMPT_QUESTIONS
        or held.status not in (SENDING, SENT, AMBIGUOUS)
        or held.response is not None
        or held.variant == PATH_DONE
        or held.due_at + HELD_FOR < now
    ):
        return None
    person.awaiting, person.awaiting_ref = PROMPT_QUESTIONS[held.kind], held.id
    return held.kind


def answer_path_prompt(session: Session, person_id: int, text: str, now: dt.datetime) -> str:
    """Keep the answer to a path-for-one prompt as the person's private note.

    Returns `kept`, `too_long` (the question stays open) or `no_question` (the prompt
    asked nothing, or never reached them).
    """
    person = session.get_one(Person, person_id)
    prompt = session.get(Delivery, person.awaiting_ref) if person.awaiting_ref else None
    if person.awaiting != PROMPT_QUESTIONS[PATH_FOR_ONE]:
        return "no_question"
    if len(text.strip()) > appreciations.MAX_LENGTH:
        return "too_long"
    person.awaiting, person.awaiting_ref = None, None
    if (
        prompt is None
        or prompt.person_id != person_id
        or prompt.variant == PATH_DONE
        or prompt.status not in (SENDING, SENT, AMBIGUOUS)
    ):
        return "no_question"
    appreciations.write_note(session, person_id, text, now)
    settle_prompt(session, person_id, prompt.id, now)
    return "kept"


@dataclass(frozen=True, slots=True)
class Answered:
    """What a check-in button did: `done`, `skipped`, `already`, `not_yours` or `gone`."""

    result: CheckinResult
    by_name: str = ""
    others: tuple[Told, ...] = ()
    counted: bool = False


def answer_checkin(
    session: Session, person_id: int, delivery_id: int, action: str, now: dt.datetime
) -> Answered:
    """Done, or not this week. Done counts once per occurrence for the couple.

    An occurrence is the reminder with every snoozed copy of it, for both partners: a
    press on any of them answers it, and copies not sent yet no longer come.
    """
    delivery = session.get(Delivery, delivery_id)
    if delivery is None or action not in ("done", "skip"):
        return Answered("gone")
    if delivery.person_id != person_id:
        return Answered("not_yours")
    if delivery.response in (DONE, SKIPPED_WEEK):
        return Answered("already")
    person = session.get_one(Person, person_id)
    copies = _occurrence(session, delivery)
    mine = [c for c in copies if c.person_id == person_id]
    if any(c.response in (DONE, SKIPPED_WEEK) for c in mine):
        return Answered("already")
    _cancel_pending(session, copies)
    if action == "skip":
        for copy in copies:
            if copy.response is None:
                copy.response, copy.responded_at = SKIPPED_WEEK, now
        return Answered("skipped", person.display_name, _others(session, copies, person_id))
    first = not any(c.response == DONE for c in copies)
    delivery.response, delivery.responded_at = DONE, now
    schedule = session.get(Schedule, delivery.schedule_id) if delivery.schedule_id else None
    counted = False
    if first and schedule is not None and schedule.couple_id is not None:
        couple = session.get(Couple, schedule.couple_id)
        if couple is not None:
            couple.checkins_completed += 1
            counted = True
    return Answered("done", person.display_name, (), counted)
