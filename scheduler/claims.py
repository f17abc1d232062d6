"""Claim, then take: the decisions of the dispatcher, over `storage.deliveries`.

Which schedules fire, which people they reach, whether quiet hours, a pause or a missed
deadline hold a nudge back, and which send slot a crowded minute gives it, are decided
here from the pure rules in `scheduler.rules`; every statement that reads or writes the
database is in `storage.deliveries`. Each function runs in one short transaction
(`Database.run`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast
from zoneinfo import ZoneInfo

from scheduler.rules import QuietHours, next_fire_at, occurrence_window, quiet_until
from scheduler.schedules import rule_of
from scheduler.slots import MAX_BEHIND, SlotGrid, Want, behind_of, night_turn, queue_turn
from storage import Session, appreciations, invitations
from storage import deliveries as store
from storage.answers import PROMPT_QUESTIONS
from storage.appreciations import RELAY_KINDS
from storage.deliveries import CLAIMED, MISSED, SKIPPED, DeliveryStatus, TakeReport
from storage.models import INVITATION, INVITATION_REMINDER, Delivery, Person
from storage.people import HELD_DEADLINE

# Quiet hours silence everything; in the hour either side of them nudges still arrive,
# but without a notification sound.
SOFT_HOURS = dt.timedelta(hours=1)


@dataclass
class Slotter:
    """Spreads a crowded minute over the delivery windows, as the rate limiter will send it.

    A claim batch gets its slots in one call (`scheduler.slots.SlotGrid.assign`): each
    delivery the first slot at or after its due time that both limits allow (the same
    grid the rate limiter uses, so claim-time slots match what it grants, and one chat's
    nudges are a second apart), in a fair order that rotates every night, so that when
    demand exceeds capacity it is not the same people who wait. O(1) amortised per nudge.
    A slot past the end of its window (a zero-minute window: past its minute) is unmet.
    """

    per_second: float
    per_chat_per_second: float = 0.0
    unmet_windows: int = 0
    grid: SlotGrid = field(init=False)

    def __post_init__(self) -> None:
        self.grid = SlotGrid(self.per_second, self.per_chat_per_second)

    def place(self, wants: list[Want], now: dt.datetime) -> list[tuple[dt.datetime, bool]]:
        """The send instant of each want (in order), and whether it is past its window;
        counts the unmet windows."""
        if not self.per_second:
            instant = now.timestamp()
            return [(dt.datetime.fromtimestamp(max(w.due, instant), dt.UTC), False) for w in wants]
        placed = self.grid.assign(wants, now.timestamp())
        unmet = 0
        slots = []
        for p in placed:
            unmet += p.unmet
            slots.append((dt.datetime.fromtimestamp(p.slot, dt.UTC), p.unmet))
        self.unmet_windows += unmet
        return slots


@dataclass
class ClaimReport:
    schedules: int = 0
    claimed: int = 0
    missed: int = 0
    skipped: int = 0


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


# What someone shared with this person, or asked to reach them (a partner's appreciation
# and its thanks, an invitation): held through a pause and delivered after it, never
# dropped. The bot's own nudges are simply skipped while someone is paused.
HELD_KINDS = frozenset((*RELAY_KINDS, INVITATION, INVITATION_REMINDER))
HOLD_RECHECK = dt.timedelta(hours=1)


def placement(
    person: Person,
    due: dt.datetime,
    deadline: dt.datetime,
    now: dt.datetime,
    kind: str | None = None,
) -> tuple[DeliveryStatus, dt.datetime, bool]:
    """Where a delivery goes for this person: (status, send_after, silent).

    Stopped or blocked people are skipped. Paused people are skipped too, except for what
    someone shared with them (`HELD_KINDS`): that waits for the pause to end (`/resume`
    moves it forward at once). Quiet hours move the delivery to their end, or skip it if
    that is past its deadline; soft hours make it silent.
    """
    if person.stopped_at is not None or person.blocked_at is not None:
        return SKIPPED, due, False
    if kind in HELD_KINDS and person.paused_at is not None:
        until = person.paused_until
        if until is None or until > now:
            recheck = now + HOLD_RECHECK
            return CLAIMED, min(until, recheck) if until else recheck, False
        # The pause ended by itself (no /resume to refresh deadlines): what waited through
        # it gets its time after the pause, never counted as missed during it.
        deadline = max(deadline, until + HELD_DEADLINE)
    elif person.paused_at is not None and (
        person.paused_until is None or person.paused_until > due
    ):
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


def last_look(
    person: Person, delivery: Delivery, now: dt.datetime
) -> tuple[DeliveryStatus, dt.datetime]:
    """Just before a queued delivery leaves: may it still go (CLAIMED at or before now)?"""
    status, send_after, _ = placement(
        person, delivery.due_at, delivery.deadline, now, delivery.kind
    )
    return status, send_after


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
    schedules = store.due_schedules(session, now, limit)
    if not schedules:
        return report
    report.schedules = len(schedules)
    owners = store.owners(session, schedules)
    advances: list[dict[str, Any]] = []
    rows: list[dict[str, object]] = []
    wants: list[Want] = []
    # Per schedule: whether its nudge tonight misses or comes late (None: nobody to reach).
    late: list[bool | None] = []
    for index, schedule in enumerate(schedules):
        due = schedule.next_fire_at
        assert due is not None
        rule = rule_of(schedule)
        _, window_end = occurrence_window(rule, due)
        deadline = window_end + dt.timedelta(seconds=grace(schedule.kind))
        # From `now`, not from `due`: after downtime the rule resumes, with no stale burst.
        following = next_fire_at(rule, max(now, due))
        rotation = night_turn(schedule.id, following.astimezone(ZoneInfo(rule.zone)).date())
        advances.append(
            {"b_id": schedule.id, "b_due": due, "b_next": following, "b_turn": rotation}
        )
        behind = behind_of(schedule.turn)
        late.append(None)
        for person in owners.get(schedule.id, []):
            status, send_after, silent = placement(person, due, deadline, now)
            if status == CLAIMED:
                night = due.astimezone(ZoneInfo(person.timezone or "UTC")).date()
                wants.append(
                    Want(
                        key=(len(rows), index),
                        chat_id=person.chat_id,
                        due=send_after.timestamp(),
                        window_end=window_end.timestamp(),
                        who=person.id,
                        night=night,
                        behind=behind,
                    )
                )
                report.claimed += 1
                late[index] = bool(late[index])
            elif status == MISSED:
                report.missed += 1
                late[index] = True
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
    for want, (slot, unmet) in zip(wants, slotter.place(wants, now), strict=True):
        row, index = cast(tuple[int, int], want.key)
        rows[row]["send_after"] = slot
        late[index] = late[index] or unmet or slot > cast(dt.datetime, rows[row]["deadline"])
    for schedule, advance, missed in zip(schedules, advances, late, strict=True):
        # Who missed (or will be late past their window) tonight goes first next time; a
        # nudge placed inside its window clears the count; nobody reached keeps it.
        behind = behind_of(schedule.turn)
        if missed is not None:
            behind = behind + 1 if missed else 0
        advance["b_turn"] = queue_turn(advance["b_turn"], behind)
    store.record_claims(session, advances, rows)
    return report


def take_ready(
    session: Session,
    now: dt.datetime,
    *,
    limit: int,
    variant_memory: dt.timedelta = dt.timedelta(days=14),
    worker_id: int | None = None,
) -> TakeReport:
    """Mark up to `limit` claimed deliveries whose time has come as `sending`.

    The person's state is read again here, so /pause and /stop hold from the very next
    tick even for deliveries claimed earlier.
    """
    rows = store.claimed_rows(session, now, limit)
    if not rows:
        return TakeReport()
    sending: list[Delivery] = []
    missed = skipped = deferred = 0
    fell_behind: list[int] = []
    for delivery, person in rows:
        status, send_after, silent = placement(
            person, delivery.due_at, delivery.deadline, now, delivery.kind
        )
        if status != CLAIMED:
            delivery.status = status
            missed += status == MISSED
            if (
                status == MISSED
                and delivery.schedule_id is not None
                and delivery.send_after <= delivery.deadline
            ):
                # Its claim gave it a slot in time (so did not count it behind), but it
                # missed all the same (a slow machine, an outage): first next time.
                fell_behind.append(delivery.schedule_id)
            skipped += status == SKIPPED
            if delivery.kind == INVITATION and delivery.ref_id is not None:
                invitations.not_delivered(session, delivery.ref_id)
            appreciations.on_relay_unsent(session, delivery, now)
        elif send_after > now:
            # Quiet hours began since it was claimed: wait for them to end.
            delivery.send_after = send_after
            deferred += 1
        else:
            delivery.silent = delivery.silent or silent
            sending.append(delivery)
    if fell_behind:
        store.fall_behind(session, fell_behind, MAX_BEHIND)
    people = {p.id: p for _, p in rows}
    report = store.mark_sending(session, sending, people, now, variant_memory, worker_id)
    open_questions(report, people)
    report.missed += missed
    report.skipped += skipped
    report.deferred += deferred
    return report


def open_questions(report: TakeReport, people: dict[int, Person]) -> None:
    """Open the question each prompt asks, before it goes out.

    Opened before sending, because a reply can arrive before this chunk's outcomes are
    written (a send that fails closes it again). A question the person is answering (a
    name, a line of their invitation) is never taken over: the prompt is held instead,
    and its question opens when that one is answered.
    """
    for ready in report.ready:
        question = PROMPT_QUESTIONS.get(ready.kind)
        if question is None or ready.ask_care:
            continue
        person = people[ready.person_id]
        if person.awaiting is None or person.awaiting in PROMPT_QUESTIONS.values():
            person.awaiting, person.awaiting_ref = question, ready.delivery_id
        else:
            person.held_ref = ready.delivery_id
