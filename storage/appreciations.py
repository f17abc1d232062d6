"""Appreciations: what a person writes after the nightly prompt, and what they share.

An appreciation is private unless its writer shares it. A shared one travels as a relay
delivery through the dispatcher, so it respects the partner's quiet hours, the rate limit,
and "exactly once". With "reveal when both have written", a shared appreciation waits
until the partner has written one of their own in the last day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.couples import couple_of, members, relays_paused
from storage.models import APPRECIATION, PATH_NOTE, Appreciation, Couple, Delivery, Person

MAX_LENGTH = 1500
REVEAL_WINDOW = dt.timedelta(hours=24)
RELAY_DEADLINE = dt.timedelta(hours=36)

# Kinds of relay delivery: messages from one partner to the other, or about them.
RELAY = "appreciation"
RECEIPT = "appreciation_receipt"
THANKS = "appreciation_thanks"
UNSENT = "appreciation_unsent"  # to the writer: it could not be passed on
RELAY_KINDS = (RELAY, RECEIPT, THANKS, UNSENT)


ShareResult = Literal["sent", "waiting", "already", "paused", "not_paired", "gone"]
ThanksResult = Literal["ok", "already", "gone"]


class TooLong(ValueError):
    """An appreciation longer than MAX_LENGTH: the person is asked to shorten it."""


def relay(session: Session, kind: str, to_person_id: int, ref_id: int, now: dt.datetime) -> None:
    """Queue a message to a person through the dispatcher (quiet hours, rate limit, once)."""
    session.add(
        Delivery(
            schedule_id=None,
            person_id=to_person_id,
            kind=kind,
            due_at=now,
            send_after=now,
            deadline=now + RELAY_DEADLINE,
            status="claimed",
            attempts=0,
            claimed_at=now,
            silent=False,
            ref_id=ref_id,
        )
    )


def _partner(session: Session, couple: Couple, person_id: int) -> Person | None:
    return next((p for p in members(session, couple.id) if p.id != person_id), None)


@dataclass
class Written:
    appreciation: Appreciation
    partner: Person | None
    released: int = 0
    reveal_together: bool = False
    paused: bool = False


def write(session: Session, person_id: int, text: str, now: dt.datetime) -> Written:
    """Keep what the person wrote; with reveal-together, release the partner's waiting one."""
    text = text.strip()
    if len(text) > MAX_LENGTH:
        raise TooLong
    person = session.get_one(Person, person_id)
    couple = couple_of(session, person_id)
    zone = ZoneInfo(person.timezone or "UTC")
    appreciation = Appreciation(
        person_id=person_id,
        kind=APPRECIATION,
        couple_id=couple.id if couple else None,
        text=text,
        written_at=now,
        local_date=now.astimezone(zone).date(),
    )
    session.add(appreciation)
    if person.awaiting == "appreciation":
        if person.awaiting_ref is not None:
            prompt = session.get(Delivery, person.awaiting_ref)
            if prompt is not None and prompt.person_id == person_id and prompt.response is None:
                prompt.response, prompt.responded_at = "replied", now
        person.awaiting, person.awaiting_ref = None, None
    session.flush()
    written = Written(appreciation, None)
    if couple is None:
        return written
    written.partner = _partner(session, couple, person_id)
    written.reveal_together = couple.reveal_together
    written.paused = relays_paused(session, couple.id)
    if couple.reveal_together and written.partner is not None and not written.paused:
        written.released = _release_waiting(session, written.partner.id, person_id, now)
    return written


def write_note(session: Session, person_id: int, text: str, now: dt.datetime) -> Appreciation:
    """Keep an answer to a path-for-one prompt: the writer's alone, never shared.

    It belongs to no couple, so nothing that relays or reveals appreciations can reach it.
    """
    text = text.strip()
    if len(text) > MAX_LENGTH:
        raise TooLong
    person = session.get_one(Person, person_id)
    note = Appreciation(
        person_id=person_id,
        kind=PATH_NOTE,
        couple_id=None,
        text=text,
        written_at=now,
        local_date=now.astimezone(ZoneInfo(person.timezone or "UTC")).date(),
    )
    session.add(note)
    session.flush()
    return note


def _release_waiting(session: Session, writer_id: int, reader_id: int, now: dt.datetime) -> int:
    """Relay the writer's shared appreciations that were waiting for the reader to write."""
    waiting = session.scalars(
        select(Appreciation).where(
            Appreciation.person_id == writer_id,
            Appreciation.kind == APPRECIATION,
            Appreciation.shared_at.is_not(None),
            Appreciation.shared_at >= now - REVEAL_WINDOW,
            Appreciation.delivered_at.is_(None),
        )
    ).all()
    released = 0
    for appreciation in waiting:
        already = session.scalar(
            select(Delivery.id).where(Delivery.kind == RELAY, Delivery.ref_id == appreciation.id)
        )
        if already is None:
            relay(session, RELAY, reader_id, appreciation.id, now)
            released += 1
    return released


@dataclass(frozen=True, slots=True)
class Shared:
    result: ShareResult
    partner_name: str = ""


def share(session: Session, person_id: int, appreciation_id: int, now: dt.datetime) -> Shared:
    """Share one's own appreciation with the partner (now, or when they have written)."""
    appreciation = session.get(Appreciation, appreciation_id)
    if (
        appreciation is None
        or appreciation.person_id != person_id
        or appreciation.kind != APPRECIATION
    ):
        return Shared("gone")
    couple = couple_of(session, person_id)
    partner = _partner(session, couple, person_id) if couple else None
    if couple is None or partner is None:
        return Shared("not_paired")
    if appreciation.shared_at is not None:
        return Shared("already", partner.display_name)
    if relays_paused(session, couple.id):
        return Shared("paused", partner.display_name)
    appreciation.shared_at = now
    appreciation.couple_id = couple.id
    if couple.reveal_together:
        partner_wrote = session.scalar(
            select(Appreciation.id)
            .where(
                Appreciation.person_id == partner.id,
                Appreciation.kind == APPRECIATION,
                Appreciation.written_at >= now - REVEAL_WINDOW,
            )
            .limit(1)
        )
        if partner_wrote is None:
            return Shared("waiting", partner.display_name)
    relay(session, RELAY, partner.id, appreciation.id, now)
    return Shared("sent", partner.display_name)


def keep_private(session: Session, person_id: int, appreciation_id: int) -> bool:
    appreciation = session.get(Appreciation, appreciation_id)
    return appreciation is not None and appreciation.person_id == person_id


@dataclass(frozen=True, slots=True)
class Thanked:
    result: ThanksResult


def thank(session: Session, person_id: int, appreciation_id: int, now: dt.datetime) -> Thanked:
    """The partner says thank you for an appreciation relayed to them."""
    relayed = session.scalar(
        select(Delivery.id).where(
            Delivery.kind == RELAY,
            Delivery.ref_id == appreciation_id,
            Delivery.person_id == person_id,
            # Whoever holds the button has the message, even if its outcome is not written yet.
            Delivery.status.in_(("sending", "sent", "ambiguous")),
        )
    )
    appreciation = session.get(Appreciation, appreciation_id)
    if relayed is None or appreciation is None:
        return Thanked("gone")
    if appreciation.thanked_at is not None:
        return Thanked("already")
    appreciation.thanked_at = now
    # The thanks says it arrived; a receipt after it would only repeat that.
    if appreciation.delivered_at is None:
        appreciation.delivered_at = now
    if appreciation.couple_id is not None:
        relay(session, THANKS, appreciation.person_id, appreciation.id, now)
    return Thanked("ok")


def set_reveal_together(session: Session, person_id: int, on: bool) -> Person | None:
    """Choose for the couple whether appreciations wait until both have written."""
    couple = couple_of(session, person_id)
    if couple is None:
        return None
    couple.reveal_together = on
    return _partner(session, couple, person_id)


def journal(session: Session, person_id: int, limit: int = 10) -> list[Appreciation]:
    """The person's own latest appreciations, newest first."""
    return list(
        session.scalars(
            select(Appreciation)
            .where(Appreciation.person_id == person_id)
            .order_by(Appreciation.written_at.desc())
            .limit(limit)
        )
    )


@dataclass(frozen=True, slots=True)
class RelayText:
    """What a relay message needs: whose words, and the words."""

    sender_name: str
    text: str
    partner_name: str = ""


@dataclass
class RelayContexts:
    by_delivery: dict[int, RelayText] = field(default_factory=dict)
    stale: list[int] = field(default_factory=list)


def relay_contexts(session: Session, deliveries: list[Delivery]) -> RelayContexts:
    """Load what relay deliveries carry; a relay whose couple ended or paused is stale."""
    found = RelayContexts()
    for delivery in deliveries:
        if delivery.kind not in RELAY_KINDS or delivery.ref_id is None:
            continue
        appreciation = session.get(Appreciation, delivery.ref_id)
        couple = (
            session.get(Couple, appreciation.couple_id)
            if (appreciation is not None and appreciation.couple_id is not None)
            else None
        )
        if (
            appreciation is None
            or couple is None
            or (delivery.kind == RELAY and relays_paused(session, couple.id))
        ):
            found.stale.append(delivery.id)
            continue
        writer = session.get_one(Person, appreciation.person_id)
        partner = _partner(session, couple, writer.id)
        if partner is None:
            found.stale.append(delivery.id)
            continue
        found.by_delivery[delivery.id] = RelayText(
            sender_name=writer.display_name,
            text=appreciation.text,
            partner_name=partner.display_name,
        )
    return found


def on_relay_unsent(session: Session, delivery: Delivery, now: dt.datetime) -> None:
    """A relay that will never reach the partner (they stopped or blocked the bot, or it
    waited past its deadline): the writer, told "on its way", now learns it was not."""
    if delivery.kind != RELAY or delivery.ref_id is None:
        return
    appreciation = session.get(Appreciation, delivery.ref_id)
    if appreciation is not None and appreciation.delivered_at is None:
        relay(session, UNSENT, appreciation.person_id, appreciation.id, now)


def on_relay_sent(session: Session, delivery: Delivery, now: dt.datetime) -> None:
    """After a relay reached the partner: mark it, and let the writer know."""
    if delivery.kind == RELAY and delivery.ref_id is not None:
        appreciation = session.get(Appreciation, delivery.ref_id)
        if appreciation is not None and appreciation.delivered_at is None:
            appreciation.delivered_at = now
            if appreciation.thanked_at is None:
                relay(session, RECEIPT, appreciation.person_id, appreciation.id, now)
