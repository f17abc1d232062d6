"""What people do with a delivered nudge: snooze it, answer it, mark a check-in done.

SQL only; the scheduler decides when a snoozed nudge comes back (`scheduler.snoozes`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import appreciations
from storage.deliveries import (
    AMBIGUOUS,
    CLAIMED,
    PATH_DONE,
    SENDING,
    SENT,
    SKIPPED,
)
from storage.models import (
    NIGHTLY_APPRECIATION,
    PATH_FOR_ONE,
    Couple,
    Delivery,
    Invitation,
    Person,
    Schedule,
)

SnoozeResult = Literal["ok", "already", "not_yours", "gone"]
CheckinResult = Literal["done", "skipped", "already", "not_yours", "gone"]


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


def open_question(session: Session, person_id: int) -> tuple[str, int] | None:
    """The question this person has open for a typed answer, and which one it is: a
    prompt's is its delivery, an invitation's its draft, any other 0. None when none is
    open. (The safety note's "Use what I wrote" is good for that one question only.)"""
    person = session.get(Person, person_id)
    if person is None or person.awaiting is None:
        return None
    if person.awaiting_ref is not None:
        return person.awaiting, person.awaiting_ref
    if person.awaiting.startswith("invite_"):
        draft = session.scalar(
            select(Invitation.id).where(
                Invitation.initiator_id == person_id, Invitation.status == "draft"
            )
        )
        return person.awaiting, draft or 0
    return person.awaiting, 0


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
