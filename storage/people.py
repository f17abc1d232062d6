"""What a person can do to their own record: consent, name, zone, pause, stop, export, erase.

Each function takes an open `Session` (one transaction, see `storage.db.Database.run`) and
an explicit `now`, so tests never depend on the wall clock.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from storage.appreciations import RELAY_KINDS
from storage.couples import end_therapist_links
from storage.models import (
    INVITATION,
    Appreciation,
    Couple,
    CoupleMember,
    Delivery,
    Invitation,
    OneTimeToken,
    Person,
    Schedule,
    TherapistConsent,
)

MAX_NAME_LENGTH = 32
MAX_PAUSE_DAYS = 365
# How long a deep link opened before onboarding finished waits for it.
PENDING_START_TTL = dt.timedelta(hours=24)
MAX_PENDING_START = 64  # Telegram's limit for a /start payload


class InputError(ValueError):
    """Input a person can correct; `code` picks the message that explains how."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def clean_name(raw: str) -> str:
    """Normalise a chosen display name, or raise InputError('name_empty'|'name_long')."""
    text = unicodedata.normalize("NFC", raw)
    # Drop control and format characters (including bidi overrides) that could disguise text.
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")
    text = " ".join(text.split())
    if not text:
        raise InputError("name_empty")
    if len(text) > MAX_NAME_LENGTH:
        raise InputError("name_long")
    return text


def find(session: Session, telegram_user_id: int) -> Person | None:
    """The person with this Telegram user id, if they consented."""
    return session.scalar(select(Person).where(Person.telegram_user_id == telegram_user_id))


def by_ids(session: Session, ids: list[int]) -> list[Person]:
    """The people with these ids (missing ones are left out)."""
    return list(session.scalars(select(Person).where(Person.id.in_(ids))))


def give_consent(
    session: Session,
    telegram_user_id: int,
    chat_id: int,
    suggested_name: str,
    language: str,
    now: dt.datetime,
    pending_start: str | None = None,
) -> tuple[Person, bool]:
    """Create the person's record on consent; returns (person, created).

    `pending_start` is a deep link opened before consent: kept until onboarding ends.
    """
    existing = find(session, telegram_user_id)
    if existing is not None:
        return existing, False
    try:
        name = clean_name(suggested_name)
    except InputError:
        name = "friend"
    person = Person(
        telegram_user_id=telegram_user_id,
        chat_id=chat_id,
        display_name=name[:MAX_NAME_LENGTH],
        language=language,
        consented_at=now,
        created_at=now,
        awaiting="name",
    )
    if pending_start:
        _keep_pending(person, pending_start, now)
    session.add(person)
    session.flush()
    return person, True


def _keep_pending(person: Person, payload: str, now: dt.datetime) -> None:
    if len(payload) > MAX_PENDING_START:
        raise ValueError("a /start payload is at most 64 characters")
    person.pending_start = payload
    person.pending_start_expires_at = now + PENDING_START_TTL


def set_pending_start(session: Session, person_id: int, payload: str, now: dt.datetime) -> None:
    """Keep a deep link to route when onboarding ends (for `PENDING_START_TTL`)."""
    _keep_pending(session.get_one(Person, person_id), payload, now)


def take_pending_start(session: Session, person_id: int, now: dt.datetime) -> str | None:
    """The deep link waiting for onboarding to end, if it has not expired; cleared either way."""
    person = session.get_one(Person, person_id)
    payload, until = person.pending_start, person.pending_start_expires_at
    person.pending_start = person.pending_start_expires_at = None
    return payload if payload is not None and until is not None and now < until else None


def set_name(session: Session, person_id: int, raw: str) -> Person:
    """Set the display name; raises InputError if it is empty or too long."""
    person = session.get_one(Person, person_id)
    person.display_name = clean_name(raw)
    if person.awaiting == "name":
        person.awaiting = None if person.timezone else "timezone"
    return person


def set_language(session: Session, person_id: int, language: str) -> Person:
    """Write to the person in `language` from now on (the caller checks it is spoken)."""
    person = session.get_one(Person, person_id)
    person.language = language
    return person


def set_awaiting(
    session: Session, person_id: int, what: str | None, ref: int | None = None
) -> None:
    """Remember which free-text answer the bot is waiting for."""
    person = session.get_one(Person, person_id)
    person.awaiting = what
    person.awaiting_ref = ref


def set_zone(session: Session, person_id: int, zone: str) -> Person:
    """Record the person's zone (`scheduler.schedules.set_timezone` moves their schedules)."""
    person = session.get_one(Person, person_id)
    person.timezone = zone
    if person.awaiting == "timezone":
        person.awaiting = None
    return person


def pause(session: Session, person_id: int, days: int | None, now: dt.datetime) -> Person:
    """Pause all nudges, for `days` days or until /resume."""
    if days is not None and not 1 <= days <= MAX_PAUSE_DAYS:
        raise InputError("pause_days")
    person = session.get_one(Person, person_id)
    person.paused_at = now
    person.paused_until = now + dt.timedelta(days=days) if days is not None else None
    return person


HELD_DEADLINE = dt.timedelta(hours=36)


def resume(session: Session, person_id: int, now: dt.datetime | None = None) -> tuple[Person, bool]:
    """Lift a pause; returns (person, was_paused).

    What waited through the pause (deliveries still claimed, see
    `scheduler.claims.HELD_KINDS`) goes out now, with a fresh deadline.
    """
    person = session.get_one(Person, person_id)
    was_paused = person.paused_at is not None
    person.paused_at = None
    person.paused_until = None
    if was_paused and now is not None:
        for delivery in session.scalars(
            select(Delivery).where(
                Delivery.person_id == person_id,
                Delivery.status == "claimed",
                Delivery.schedule_id.is_(None),  # shared or asked for, never the bot's own
            )
        ):
            delivery.send_after = now
            delivery.deadline = max(delivery.deadline, now + HELD_DEADLINE)
    return person, was_paused


def stop(session: Session, person_id: int, now: dt.datetime) -> Person:
    """No messages of any kind until /start."""
    person = session.get_one(Person, person_id)
    person.stopped_at = now
    person.awaiting = None
    return person


def restart(session: Session, person_id: int) -> tuple[Person, bool]:
    """/start again: undo /stop and a block; returns (person, was_stopped_or_blocked)."""
    person = session.get_one(Person, person_id)
    was_off = person.stopped_at is not None or person.blocked_at is not None
    person.stopped_at = None
    person.blocked_at = None
    return person, was_off


def is_paused(person: Person, now: dt.datetime) -> bool:
    """Whether nudges are held for this person right now."""
    if person.paused_at is None:
        return False
    return person.paused_until is None or person.paused_until > now


def partner_of(session: Session, person_id: int) -> Person | None:
    """The other member of this person's couple, if they are paired."""
    member = session.scalar(select(CoupleMember).where(CoupleMember.person_id == person_id))
    if member is None:
        return None
    return session.scalar(
        select(Person)
        .join(CoupleMember, CoupleMember.person_id == Person.id)
        .where(CoupleMember.couple_id == member.couple_id, Person.id != person_id)
    )


@dataclass(frozen=True, slots=True)
class Summary:
    """What /settings shows: everything held on a person, counted or in plain words."""

    person: Person
    schedules: list[Schedule]
    partner_name: str | None
    appreciations: int
    deliveries: int
    invitations: int
    therapist_links: int


def summary(session: Session, person_id: int) -> Summary:
    person = session.get_one(Person, person_id)
    partner = partner_of(session, person_id)
    return Summary(
        person=person,
        schedules=list(
            session.scalars(
                select(Schedule)
                .where(
                    (Schedule.person_id == person_id)
                    | Schedule.couple_id.in_(
                        select(CoupleMember.couple_id).where(CoupleMember.person_id == person_id)
                    )
                )
                .order_by(Schedule.kind)
            )
        ),
        partner_name=partner.display_name if partner else None,
        appreciations=_count(session, Appreciation, Appreciation.person_id == person_id),
        deliveries=_count(session, Delivery, Delivery.person_id == person_id),
        invitations=_count(session, Invitation, Invitation.initiator_id == person_id),
        therapist_links=_count(
            session,
            TherapistConsent,
            TherapistConsent.person_id == person_id,
            TherapistConsent.withdrawn_at.is_(None),
        ),
    )


def _count(session: Session, model: type[Any], *where: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def _iso(value: dt.datetime | dt.date | dt.time | None) -> str | None:
    return value.isoformat() if value is not None else None


def export(session: Session, person_id: int) -> dict[str, Any]:
    """Everything stored about this person, as plain JSON-ready data (/mydata)."""
    person = session.get_one(Person, person_id)
    partner = partner_of(session, person_id)
    member = session.scalar(select(CoupleMember).where(CoupleMember.person_id == person_id))
    return {
        "person": {
            "telegram_user_id": person.telegram_user_id,
            "display_name": person.display_name,
            "timezone": person.timezone,
            "language": person.language,
            "consented_at": _iso(person.consented_at),
            "paused_at": _iso(person.paused_at),
            "paused_until": _iso(person.paused_until),
            "stopped_at": _iso(person.stopped_at),
            "blocked_at": _iso(person.blocked_at),
            "pending_deep_link": person.pending_start,
            "pending_deep_link_expires_at": _iso(person.pending_start_expires_at),
            "quiet_hours": (
                [_iso(person.quiet_start), _iso(person.quiet_end)]
                if person.quiet_start is not None
                else None
            ),
        },
        "couple": (
            {
                "joined_at": _iso(member.joined_at),
                "partner_display_name": partner.display_name if partner else None,
                "sharing_paused_at": _iso(member.relay_paused_at),
            }
            if member is not None
            else None
        ),
        "schedules": [
            {
                "kind": s.kind,
                "local_time": _iso(s.local_time),
                "weekdays": [d for d in range(7) if s.weekdays >> d & 1],
                "window_minutes": s.window_minutes,
                "zone": s.zone,
                "next_fire_at": _iso(s.next_fire_at),
                "set_by": s.set_by,
            }
            for s in session.scalars(select(Schedule).where(Schedule.person_id == person_id))
        ],
        "deliveries": [
            {
                "kind": d.kind,
                "due_at": _iso(d.due_at),
                "sent_at": _iso(d.sent_at),
                "status": d.status,
            }
            for d in session.scalars(
                select(Delivery).where(Delivery.person_id == person_id).order_by(Delivery.due_at)
            )
        ],
        "appreciations": [
            {
                "text": a.text,
                "written_at": _iso(a.written_at),
                "shared_at": _iso(a.shared_at),
                "delivered_at": _iso(a.delivered_at),
                "thanked_at": _iso(a.thanked_at),
            }
            for a in session.scalars(
                select(Appreciation)
                .where(Appreciation.person_id == person_id)
                .order_by(Appreciation.written_at)
            )
        ],
        "invitations": [
            {
                "status": i.status,
                "choices": i.choices,
                "personal_line": i.personal_line,
                "created_at": _iso(i.created_at),
                "sent_at": _iso(i.sent_at),
                "answer": i.answer,
            }
            for i in session.scalars(select(Invitation).where(Invitation.initiator_id == person_id))
        ],
        "therapist_consents": [
            {"agreed_at": _iso(c.agreed_at), "withdrawn_at": _iso(c.withdrawn_at)}
            for c in session.scalars(
                select(TherapistConsent).where(TherapistConsent.person_id == person_id)
            )
        ],
    }


@dataclass(frozen=True, slots=True)
class Erased:
    """Who must hear, neutrally, that a pairing ended because its other member left."""

    partner_chat_id: int | None
    partner_language: str | None
    therapist_chat_ids: tuple[int, ...]
    # The couple that ended, by the number its therapists know it by in /clients.
    couple_id: int | None = None


def erase(session: Session, person_id: int, now: dt.datetime | None = None) -> Erased:
    """Erase every row about this person; end their couple and therapist links.

    What the partner keeps holds nothing of theirs: an invitation the person received
    loses their answer and when they saw, answered or asked to be reminded of it, and
    deliveries that carried their words or their invitation no longer point at them.
    Each linked therapist is owed a notice naming the couple by its number, nothing else.
    """
    person = session.get(Person, person_id)
    if person is None:
        return Erased(None, None, ())
    now = now or dt.datetime.now(dt.UTC)
    partner = partner_of(session, person_id)
    member = session.scalar(select(CoupleMember).where(CoupleMember.person_id == person_id))
    therapist_chats: tuple[int, ...] = ()
    couple_id = None
    if member is not None:
        couple_id = member.couple_id
        therapist_chats = end_therapist_links(session, couple_id, now)
        # A couple of one is no couple: remove it with everything shared that hangs off it.
        session.execute(delete(Couple).where(Couple.id == couple_id))
    written = select(Appreciation.id).where(Appreciation.person_id == person_id)
    invited = select(Invitation.id).where(Invitation.initiator_id == person_id)
    session.execute(
        update(Delivery)
        .where(
            (Delivery.kind.in_(RELAY_KINDS) & Delivery.ref_id.in_(written))
            | ((Delivery.kind == INVITATION) & Delivery.ref_id.in_(invited))
        )
        .values(ref_id=None)
        .execution_options(synchronize_session=False)
    )
    # An invitation this person received stays the initiator's; what they did with it goes.
    for invitation in session.scalars(
        select(Invitation).where(Invitation.recipient_id == person_id)
    ).all():
        invitation.recipient_id = None
        invitation.answer = invitation.answered_at = invitation.seen_at = None
        invitation.reminder_at = invitation.reminded_at = None
        invitation.opened_by_hash = None
        invitation.recipient_chat_id = None
        if invitation.status in ("seen", "answered"):
            invitation.status = "sent"
    session.execute(delete(Appreciation).where(Appreciation.person_id == person_id))
    session.execute(delete(Invitation).where(Invitation.initiator_id == person_id))
    session.execute(delete(OneTimeToken).where(OneTimeToken.person_id == person_id))
    session.execute(delete(Delivery).where(Delivery.person_id == person_id))
    session.execute(delete(Schedule).where(Schedule.person_id == person_id))
    session.execute(delete(TherapistConsent).where(TherapistConsent.person_id == person_id))
    session.execute(delete(Person).where(Person.id == person_id))
    return Erased(
        partner_chat_id=partner.chat_id if partner else None,
        partner_language=partner.language if partner else None,
        therapist_chat_ids=therapist_chats,
        couple_id=couple_id,
    )
