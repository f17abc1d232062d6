"""Pairing two people, each by their own choice, and what a couple shares.

A pairing link carries a random token; only its SHA-256 is stored, it works once, expires,
and is refused once its sender is paired with someone else. A person is in at most one
couple (a unique constraint on `couple_members.person_id` holds that even under races).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from storage import notices
from storage.models import (
    Couple,
    CoupleMember,
    OneTimeToken,
    Person,
    Schedule,
    Therapist,
    TherapistLink,
)
from storage.tokens import issue, token_hash

PAIR = "pair"
PAIR_PREFIX = "p"


def couple_of(session: Session, person_id: int) -> Couple | None:
    """The person's couple, if they are paired."""
    return session.scalar(
        select(Couple)
        .join(CoupleMember, CoupleMember.couple_id == Couple.id)
        .where(CoupleMember.person_id == person_id)
    )


def members(session: Session, couple_id: int) -> list[Person]:
    return list(
        session.scalars(
            select(Person)
            .join(CoupleMember, CoupleMember.person_id == Person.id)
            .where(CoupleMember.couple_id == couple_id)
            .order_by(CoupleMember.joined_at, Person.id)
        )
    )


def create_pairing_link(
    session: Session, person_id: int, now: dt.datetime, ttl: dt.timedelta
) -> str:
    """A fresh single-use pairing token for this person; earlier unused ones stop working."""
    session.execute(
        update(OneTimeToken)
        .where(
            OneTimeToken.person_id == person_id,
            OneTimeToken.purpose == PAIR,
            OneTimeToken.used_at.is_(None),
        )
        .values(used_at=now)
    )
    return issue(session, PAIR, now, ttl, person_id=person_id)


@dataclass(frozen=True, slots=True)
class PairingOffer:
    """What the person opening a link may see: `problem` is None when it can be accepted."""

    problem: str | None  # unknown, expired, used, self, inviter_paired, you_are_paired
    inviter_name: str = ""
    inviter_chat_id: int | None = None
    inviter_language: str | None = None


def _valid_token(
    session: Session, raw: str, now: dt.datetime
) -> tuple[OneTimeToken | None, str | None]:
    token = session.scalar(
        select(OneTimeToken).where(
            OneTimeToken.token_hash == token_hash(raw), OneTimeToken.purpose == PAIR
        )
    )
    if token is None or token.person_id is None:
        return None, "unknown"
    if token.used_at is not None:
        return None, "used"
    if token.expires_at <= now:
        return None, "expired"
    return token, None


def look_at_link(
    session: Session, raw: str, opener_telegram_id: int, now: dt.datetime
) -> PairingOffer:
    """Check a pairing link for the person who opened it, without using it up."""
    token, problem = _valid_token(session, raw, now)
    if token is None or token.person_id is None:
        return PairingOffer(problem or "unknown")
    inviter = session.get_one(Person, token.person_id)
    offer = dict(
        inviter_name=inviter.display_name,
        inviter_chat_id=inviter.chat_id,
        inviter_language=inviter.language,
    )
    if inviter.telegram_user_id == opener_telegram_id:
        return PairingOffer("self", **offer)  # type: ignore[arg-type]
    if couple_of(session, inviter.id) is not None:
        return PairingOffer("inviter_paired", **offer)  # type: ignore[arg-type]
    opener = session.scalar(select(Person).where(Person.telegram_user_id == opener_telegram_id))
    if opener is not None and couple_of(session, opener.id) is not None:
        return PairingOffer("you_are_paired", **offer)  # type: ignore[arg-type]
    return PairingOffer(None, **offer)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Paired:
    problem: str | None
    partner: Person | None = None


def accept_link(session: Session, raw: str, person_id: int, now: dt.datetime) -> Paired:
    """Join the inviter's couple: uses the link up, in one transaction."""
    person = session.get_one(Person, person_id)
    offer = look_at_link(session, raw, person.telegram_user_id, now)
    if offer.problem is not None:
        return Paired(offer.problem)
    claimed = session.execute(
        update(OneTimeToken)
        .where(OneTimeToken.token_hash == token_hash(raw), OneTimeToken.used_at.is_(None))
        .values(used_at=now)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return Paired("used")
    token = session.scalars(
        select(OneTimeToken).where(OneTimeToken.token_hash == token_hash(raw))
    ).one()
    assert token.person_id is not None
    inviter = session.get_one(Person, token.person_id)
    couple = Couple(created_at=now)
    session.add(couple)
    session.flush()
    # look_at_link checked that neither is paired; under a race the unique constraint on
    # couple_members.person_id fails this whole transaction, and nothing is half-made.
    session.add_all(
        [
            CoupleMember(couple_id=couple.id, person_id=inviter.id, joined_at=token.created_at),
            CoupleMember(couple_id=couple.id, person_id=person.id, joined_at=now),
        ]
    )
    session.flush()
    return Paired(None, inviter)


def decline_link(session: Session, raw: str, now: dt.datetime) -> PairingOffer:
    """The opener chose not to pair: the link is used up and its sender may be told."""
    token, problem = _valid_token(session, raw, now)
    if token is None or token.person_id is None:
        return PairingOffer(problem or "unknown")
    token.used_at = now
    inviter = session.get_one(Person, token.person_id)
    return PairingOffer(None, inviter.display_name, inviter.chat_id, inviter.language)


@dataclass(frozen=True, slots=True)
class Unpaired:
    partner_chat_id: int | None
    partner_language: str | None
    # The therapists whose link with this couple ended: each is owed a notice naming the
    # couple by its number (`storage.notices`), and nothing else.
    therapist_chat_ids: tuple[int, ...] = ()
    couple_id: int | None = None


def end_therapist_links(session: Session, couple_id: int, now: dt.datetime) -> tuple[int, ...]:
    """A couple ends: its therapist links end, and what those therapists set stops.

    Removes every schedule a linked therapist set for either partner (not only the
    couple's shared ones), and owes each therapist a notice naming the couple by its
    number. Returns the therapists' chats.
    """
    chats: list[int] = []
    partner_ids = [p.id for p in members(session, couple_id)]
    links = session.scalars(
        select(TherapistLink).where(
            TherapistLink.couple_id == couple_id, TherapistLink.ended_at.is_(None)
        )
    ).all()
    for link in links:
        link.ended_at = now
        session.execute(
            delete(Schedule).where(
                Schedule.therapist_id == link.therapist_id,
                (Schedule.couple_id == couple_id) | Schedule.person_id.in_(partner_ids),
            )
        )
        notices.link_ended(session, link.therapist_id, couple_id, now, link.client_code)
        therapist = session.get(Therapist, link.therapist_id)
        if therapist is not None and therapist.chat_id is not None:
            chats.append(therapist.chat_id)
    return tuple(chats)


def unpair(session: Session, person_id: int, now: dt.datetime | None = None) -> Unpaired | None:
    """End the pairing for both; shared schedules and therapist links end with it."""
    couple = couple_of(session, person_id)
    if couple is None:
        return None
    now = now or dt.datetime.now(dt.UTC)
    partner = next((p for p in members(session, couple.id) if p.id != person_id), None)
    chats = end_therapist_links(session, couple.id, now)
    session.execute(delete(Schedule).where(Schedule.couple_id == couple.id))
    session.execute(delete(Couple).where(Couple.id == couple.id))
    return Unpaired(
        partner.chat_id if partner else None,
        partner.language if partner else None,
        chats,
        couple.id,
    )


def set_relay_paused(
    session: Session, person_id: int, paused: bool, now: dt.datetime
) -> Person | None:
    """Pause or resume relays to the partner, privately; returns the partner."""
    member = session.scalar(select(CoupleMember).where(CoupleMember.person_id == person_id))
    if member is None:
        return None
    member.relay_paused_at = now if paused else None
    return next((p for p in members(session, member.couple_id) if p.id != person_id), None)


def relays_paused(session: Session, couple_id: int) -> bool:
    """Whether either partner has paused sharing."""
    return (
        session.scalar(
            select(CoupleMember.id)
            .where(CoupleMember.couple_id == couple_id, CoupleMember.relay_paused_at.is_not(None))
            .limit(1)
        )
        is not None
    )
