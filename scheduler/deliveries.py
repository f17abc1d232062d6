"""Claim, then send: the database half of the dispatcher.

Every function is synchronous, takes a `Session` and an explicit `now`, and is meant to
run in its own short transaction (`Database.run`). The life of a delivery:

    claimed --(taken for sending)--> sending --> sent | failed | blocked | ambiguous
       |                                 \\--(429, connection refused)--> claimed again
       \\--> missed (its grace ran out) | skipped (paused, stopped, quiet hours)

A schedule is claimed by moving its `next_fire_at` forward with a conditional UPDATE
(`WHERE next_fire_at = <the due value we read>`), in the same transaction that inserts its
deliveries under the unique key (schedule, person, due time). Two workers can never claim
the same occurrence, and a crash before commit leaves nothing behind. A delivery is marked
`sending` before its request goes out; one found still `sending` at start-up may or may
not have reached the person, so it is recorded as `ambiguous` and never sent again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table, bindparam, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from scheduler.ratelimit import Limits
from scheduler.rules import QuietHours, next_fire_at, occurrence_window, quiet_until
from scheduler.schedules import rule_of
from storage import invitations
from storage.appreciations import RelayText, on_relay_sent, relay_contexts
from storage.models import (
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

CLAIMED, SENDING, SENT = "claimed", "sending", "sent"
FAILED, BLOCKED, AMBIGUOUS, MISSED, SKIPPED = "failed", "blocked", "ambiguous", "missed", "skipped"
FINAL = (SENT, FAILED, BLOCKED, AMBIGUOUS, MISSED, SKIPPED)

# Quiet hours silence everything; in the hour either side of them nudges still arrive,
# but without a notification sound.
SOFT_HOURS = dt.timedelta(hours=1)


@dataclass
class Slotter:
    """Spreads a crowded minute over the delivery windows, as the rate limiter will send it.

    Each claimed delivery gets the first slot at or after its due time that both limits
    allow (the same arithmetic as `scheduler.ratelimit.Limits`, so claim-time slots match
    what the limiter grants, and one chat's nudges are a second apart). A slot past the end
    of its window (for a window of zero minutes: past its minute) is counted as unmet.
    """

    per_second: float
    per_chat_per_second: float = 0.0
    unmet_windows: int = 0
    limits: Limits = field(init=False)

    def __post_init__(self) -> None:
        self.limits = Limits(self.per_second, self.per_chat_per_second)

    def slot(
        self,
        due: dt.datetime,
        window_end: dt.datetime,
        now: dt.datetime,
        chat_id: int | None = None,
    ) -> dt.datetime:
        start = max(due, now)
        if not self.per_second:
            return start
        at = self.limits.reserve(chat_id, start.timestamp())
        slot = dt.datetime.fromtimestamp(at, dt.UTC)
        tolerance = dt.timedelta(minutes=1) if window_end <= due else dt.timedelta(0)
        if slot > window_end + tolerance:
            self.unmet_windows += 1
        return slot


@dataclass
class ClaimReport:
    schedules: int = 0
    claimed: int = 0
    missed: int = 0
    skipped: int = 0


class ClaimConflict(RuntimeError):
    """Another worker claimed some of the same schedules first; nothing was written."""


def _quiet(person: Person) -> QuietHours | None:
    if person.quiet_start is None or person.quiet_end is None:
        return None
    return QuietHours(person.quiet_start, person.quiet_end)


def near_quiet_hours(quiet: QuietHours, zone: str, instant: dt.datetime) -> bool:
    """Whether quiet hours touch the hour either side of `instant` (a soft hour)."""
    step = dt.timedelta(minutes=5)
    probes = int(SOFT_HOURS / step)
    return any(
        quiet_until(quiet, zone, instant + i * step) is not None for i in range(-probes, probes + 1)
    )


def placement(
    person: Person, due: dt.datetime, deadline: dt.datetime, now: dt.datetime
) -> tuple[str, dt.datetime, bool]:
    """Where a delivery goes for this person: (status, send_after, silent).

    Paused, stopped or blocked people are skipped; quiet hours move the delivery to their
    end, or skip it if that is past its deadline; soft hours make it silent.
    """
    if person.stopped_at is not None or person.blocked_at is not None:
        return SKIPPED, due, False
    if person.paused_at is not None and (person.paused_until is None or person.paused_until > due):
        return SKIPPED, due, False
    if now > deadline:
        return MISSED, due, False
    send_after = max(due, now)
    quiet = _quiet(person)
    silent = False
    if quiet is not None and person.timezone:
        end = quiet_until(quiet, person.timezone, send_after)
        if end is not None:
            if end > deadline:
                return SKIPPED, due, False
            send_after = end
        silent = near_quiet_hours(quiet, person.timezone, send_after)
    return CLAIMED, send_after, silent


def _insert(session: Session) -> Callable[..., object]:
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def claim_due(
    session: Session,
    now: dt.datetime,
    *,
    limit: int,
    grace: Callable[[str], float],
    slotter: Slotter,
) -> ClaimReport:
    """Claim up to `limit` due schedules, record their deliveries and advance them."""
    report = ClaimReport()
    query = (
        select(Schedule)
        .where(Schedule.next_fire_at <= now)
        .order_by(Schedule.next_fire_at)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    schedules = list(session.scalars(query))
    if not schedules:
        return report
    report.schedules = len(schedules)
    owners = _owners(session, schedules)
    advances = []
    rows = []
    for schedule in schedules:
        due = schedule.next_fire_at
        assert due is not None
        rule = rule_of(schedule)
        _, window_end = occurrence_window(rule, due)
        deadline = window_end + dt.timedelta(seconds=grace(schedule.kind))
        # From `now`, not from `due`: after downtime the rule resumes, with no stale burst.
        advances.append(
            {"b_id": schedule.id, "b_due": due, "b_next": next_fire_at(rule, max(now, due))}
        )
        for person in owners.get(schedule.id, []):
            status, send_after, silent = placement(person, due, deadline, now)
            if status == CLAIMED:
                send_after = slotter.slot(send_after, window_end, now, person.chat_id)
                report.claimed += 1
            elif status == MISSED:
                report.missed += 1
            else:
                report.skipped += 1
            rows.append(
                {
                    "schedule_id": schedule.id,
                    "person_id": person.id,
                    "kind": schedule.kind,
                    "due_at": due,
                    "send_after": send_after,
                    "deadline": deadline,
                    "status": status,
                    "attempts": 0,
                    "claimed_at": now,
                    "silent": silent,
                }
            )
    table = cast(Table, Schedule.__table__)
    # Core, not ORM: an executemany whose summed rowcount tells whether every claim held.
    result = session.connection().execute(
        update(table)
        .where(table.c.id == bindparam("b_id"), table.c.next_fire_at == bindparam("b_due"))
        .values(next_fire_at=bindparam("b_next")),
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
    return report


def _owners(session: Session, schedules: Sequence[Schedule]) -> dict[int, list[Person]]:
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


def take_ready(
    session: Session,
    now: dt.datetime,
    *,
    limit: int,
    variant_memory: dt.timedelta = dt.timedelta(days=14),
) -> TakeReport:
    """Mark up to `limit` claimed deliveries whose time has come as `sending`.

    The person's state is read again here, so /pause and /stop hold from the very next
    tick even for deliveries claimed earlier.
    """
    report = TakeReport()
    rows = session.execute(
        select(Delivery, Person)
        .join(Person, Person.id == Delivery.person_id)
        .where(Delivery.status == CLAIMED, Delivery.send_after <= now)
        .order_by(Delivery.send_after)
        .limit(limit)
    ).all()
    if not rows:
        return report
    sending: list[Delivery] = []
    for delivery, person in rows:
        status, send_after, silent = placement(person, delivery.due_at, delivery.deadline, now)
        if status != CLAIMED:
            delivery.status = status
            report.missed += status == MISSED
            report.skipped += status == SKIPPED
        elif send_after > now:
            # Quiet hours began since it was claimed: wait for them to end.
            delivery.send_after = send_after
            report.deferred += 1
        else:
            delivery.silent = delivery.silent or silent
            sending.append(delivery)
    relays = relay_contexts(session, sending)
    shown = {}
    for delivery in sending:
        if delivery.kind == invitations.INVITATION and delivery.ref_id is not None:
            invitation = invitations.for_delivery(session, delivery.ref_id)
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
        delivery.status = SENDING
        delivery.attempts += 1
    people = {p.id: p for _, p in rows}
    recent = _recent_variants(session, sending, now - variant_memory)
    snoozable = _snoozable(session, sending)
    ask_care = _ask_about_fewer(session, sending, now)
    custom = _custom_wording(session, sending)
    for delivery in sending:
        person = people[delivery.person_id]
        if delivery.kind == NIGHTLY_APPRECIATION and delivery.id not in ask_care:
            # Open the question before the prompt goes: a reply can arrive before this
            # chunk's outcomes are written. A send that fails closes it again.
            person.awaiting, person.awaiting_ref = "appreciation", delivery.id
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


def set_fewer(
    session: Session, person_id: int, schedule_id: int, now: dt.datetime
) -> Schedule | None:
    """Lower a nightly prompt to every other day (Mon, Wed, Fri, Sun)."""
    from scheduler.schedules import rule_of

    schedule = session.get(Schedule, schedule_id)
    if schedule is None or schedule.person_id != person_id:
        return None
    schedule.weekdays = 0b1010101
    schedule.updated_at = now
    if schedule.next_fire_at is not None:
        schedule.next_fire_at = next_fire_at(rule_of(schedule), now)
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
    status: str  # sent, failed, blocked, ambiguous, or claimed (try again at retry_at)
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
    for outcome in outcomes:
        delivery = rows[outcome.delivery_id]
        delivery.status = outcome.status
        delivery.error = outcome.error
        if outcome.status == SENT:
            delivery.sent_at = outcome.sent_at
            delivery.telegram_message_id = outcome.message_id
            delivery.variant = outcome.variant
            on_relay_sent(session, delivery, now)
            if delivery.kind == invitations.INVITATION and delivery.ref_id is not None:
                invitations.delivered(session, delivery.ref_id, now)
            if (
                delivery.kind == PATH_FOR_ONE
                and outcome.variant == "done"
                and (delivery.schedule_id is not None)
            ):
                # The path for one is complete: its schedule stops by itself.
                schedule = session.get(Schedule, delivery.schedule_id)
                if schedule is not None:
                    schedule.next_fire_at = None
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


def recover_in_flight(session: Session) -> int:
    """At start-up: deliveries left `sending` by a crash are ambiguous; never resend them."""
    result = session.connection().execute(
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


SNOOZE_HOUR, SNOOZE_TONIGHT, SNOOZE_TOMORROW = "h", "n", "t"
TONIGHT = dt.time(20, 30)


def snooze_target(
    option: str, due_at: dt.datetime, now: dt.datetime, zone: str
) -> dt.datetime | None:
    """When a snoozed nudge comes back, or None if that option does not apply now.

    An hour: an hour from now. Tonight: 20:30 local today, if that is at least half an
    hour away. Tomorrow: the nudge's own local time on the next day.
    """
    from scheduler.rules import EVERY_DAY, Rule

    if option == SNOOZE_HOUR:
        return (now + dt.timedelta(hours=1)).replace(second=0, microsecond=0)
    if option == SNOOZE_TONIGHT:
        tonight = next_fire_at(Rule(local_time=TONIGHT, weekdays=EVERY_DAY, zone=zone), now)
        local = now.astimezone(ZoneInfo(zone))
        same_day = tonight.astimezone(ZoneInfo(zone)).date() == local.date()
        return tonight if same_day and tonight - now >= dt.timedelta(minutes=30) else None
    if option == SNOOZE_TOMORROW:
        wall = due_at.astimezone(ZoneInfo(zone)).time().replace(second=0, microsecond=0)
        rule = Rule(local_time=wall, weekdays=EVERY_DAY, zone=zone)
        return next_fire_at(rule, now + dt.timedelta(hours=1))
    return None


@dataclass(frozen=True, slots=True)
class Told:
    """Someone else who must hear about a change to a shared nudge."""

    chat_id: int
    language: str
    zone: str


@dataclass(frozen=True, slots=True)
class Snoozed:
    """What a snooze press did: `ok`, `already` (pressed before), `not_yours` or `gone`."""

    result: str
    until: dt.datetime | None = None
    zone: str = "UTC"
    by_name: str = ""
    others: tuple[Told, ...] = ()


def _occurrence(session: Session, delivery: Delivery) -> list[Delivery]:
    """This delivery, plus its partner's copy when the schedule belongs to a couple."""
    if delivery.schedule_id is None:
        return [delivery]
    schedule = session.get(Schedule, delivery.schedule_id)
    if schedule is None or schedule.couple_id is None:
        return [delivery]
    return list(
        session.scalars(
            select(Delivery).where(
                Delivery.schedule_id == delivery.schedule_id, Delivery.due_at == delivery.due_at
            )
        )
    )


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
    option: str,
    now: dt.datetime,
    *,
    grace: Callable[[str], float],
) -> Snoozed:
    """Move one delivered nudge later, as a one-off; the recurrence is untouched.

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
    target = snooze_target(option, delivery.due_at, now, zone)
    if target is None:
        return Snoozed("gone")
    copies = _occurrence(session, delivery)
    for copy in copies:
        if copy.response is not None and copy is not delivery:
            continue
        copy.response, copy.responded_at, copy.snoozed_until = "snoozed", now, target
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
    return Snoozed("ok", target, zone, person.display_name, _others(session, copies, person_id))


@dataclass(frozen=True, slots=True)
class Answered:
    """What a check-in button did: `done`, `skipped`, `already`, `not_yours` or `gone`."""

    result: str
    by_name: str = ""
    others: tuple[Told, ...] = ()
    counted: bool = False


def answer_checkin(
    session: Session, person_id: int, delivery_id: int, action: str, now: dt.datetime
) -> Answered:
    """Done, or not this week. Done counts once per occurrence for the couple."""
    from storage.models import Couple

    delivery = session.get(Delivery, delivery_id)
    if delivery is None or action not in ("done", "skip"):
        return Answered("gone")
    if delivery.person_id != person_id:
        return Answered("not_yours")
    if delivery.response in ("done", "skipped"):
        return Answered("already")
    person = session.get_one(Person, person_id)
    copies = _occurrence(session, delivery)
    if action == "skip":
        for copy in copies:
            if copy.response is None:
                copy.response, copy.responded_at = "skipped", now
        return Answered("skipped", person.display_name, _others(session, copies, person_id))
    first = not any(c.response == "done" for c in copies)
    delivery.response, delivery.responded_at = "done", now
    schedule = session.get(Schedule, delivery.schedule_id) if delivery.schedule_id else None
    counted = False
    if first and schedule is not None and schedule.couple_id is not None:
        couple = session.get(Couple, schedule.couple_id)
        if couple is not None:
            couple.checkins_completed += 1
            counted = True
    return Answered("done", person.display_name, (), counted)
