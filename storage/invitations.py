"""The "just one session" invitation: a draft, its delivery, the answer, and the limits.

Limits that protect the reluctant partner, enforced here rather than in handlers: one
open invitation at a time; after "not now", none for `cooldown` (30 days by default);
"please don't ask me again" holds for good, even after /delete (kept as a keyed hash of
the Telegram id, nothing else; see `storage.secret`); at most one follow-up, and only
the one the partner asked for. A pause still running when the initiator erases their
data is kept the same way (a keyed hash and the day it ends) and erased when it ends,
so that /delete then /start does not reset it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from storage import people
from storage.couples import couple_of, members
from storage.models import (
    INVITATION,
    INVITATION_REMINDER,
    Delivery,
    Invitation,
    InviteCooldown,
    InviteOptOut,
    OneTimeToken,
    Person,
)
from storage.secret import keyed_hash, server_key
from storage.tokens import issue, token_hash

INVITE = "invite"
INVITE_PREFIX = "i"
LINK_TTL = dt.timedelta(days=14)
REMIND_AFTER = dt.timedelta(days=7)
OPEN = ("draft", "scheduled", "link", "sent", "seen")
FRAMINGS = ("better_partner", "same_team", "coaching", "growing")
HOPES = ("closer", "listen", "understand", "calm", "own")
OFFERS = ("one_session", "consultation", "workshop", "book")
VARIANTS_PER_FRAMING = 3
MAX_TEXT = {"partner": 40, "own_hope": 200, "therapist": 80, "line": 300}


GateResult = Literal["ok", "open", "cooldown", "opted_out"]
SendResultKind = Literal["scheduled", "link", "not_ready", "gone"]
AnswerResult = Literal["yes", "more", "not_now", "never", "remind", "already", "not_yours", "gone"]


def person_hash(session: Session, telegram_user_id: int) -> str:
    """The keyed hash that stands for a person in opt-outs and opened links."""
    return keyed_hash(server_key(session), f"nudgebot-invitee:{telegram_user_id}")


def legacy_person_hash(telegram_user_id: int) -> str:
    """The unkeyed hash stored before 0002: still honoured, rewritten when it matches."""
    return hashlib.sha256(f"nudgebot-invitee:{telegram_user_id}".encode()).hexdigest()


def opted_out(session: Session, telegram_user_id: int) -> bool:
    current = person_hash(session, telegram_user_id)
    legacy = legacy_person_hash(telegram_user_id)
    rows = session.scalars(
        select(InviteOptOut).where(InviteOptOut.user_hash.in_((current, legacy)))
    ).all()
    stale = [row for row in rows if row.user_hash == legacy]
    if stale and len(rows) == len(stale):
        stale.pop().user_hash = current
    for row in stale:
        session.delete(row)
    return bool(rows)


def _opened_by(session: Session, invitation: Invitation, telegram_user_id: int) -> bool:
    """Did this person open the invitation's link? (A legacy hash is upgraded.)"""
    if invitation.opened_by_hash is None:
        return False
    current = person_hash(session, telegram_user_id)
    if invitation.opened_by_hash == legacy_person_hash(telegram_user_id):
        invitation.opened_by_hash = current
    return invitation.opened_by_hash == current


@dataclass(frozen=True, slots=True)
class Gate:
    """Whether a new invitation may start: ok, open, cooldown or opted_out."""

    result: GateResult
    possible_from: dt.datetime | None = None
    invitation: Invitation | None = None


def gate(session: Session, person_id: int, now: dt.datetime, cooldown: dt.timedelta) -> Gate:
    """May this person start an invitation now?"""
    open_one = session.scalar(
        select(Invitation)
        .where(Invitation.initiator_id == person_id, Invitation.status.in_(OPEN[1:]))
        .order_by(Invitation.created_at.desc())
        .limit(1)
    )
    if open_one is not None:
        return Gate("open", invitation=open_one)
    partner = _partner(session, person_id)
    if partner is not None and opted_out(session, partner.telegram_user_id):
        return Gate("opted_out")
    until = cooldown_until(session, person_id, now, cooldown)
    if until is not None:
        return Gate("cooldown", possible_from=until)
    return Gate("ok")


def cooldown_until(
    session: Session, person_id: int, now: dt.datetime, cooldown: dt.timedelta
) -> dt.datetime | None:
    """When this initiator's pause after "not now" ends, if one is running.

    It counts from their own answered invitations, and from a pause kept through an
    earlier /delete (which is erased here once it has ended).
    """
    last_no = session.scalar(
        select(func.max(Invitation.answered_at)).where(
            Invitation.initiator_id == person_id, Invitation.answer.in_(("not_now", "never"))
        )
    )
    ends = [last_no + cooldown] if last_no is not None else []
    person = session.get(Person, person_id)
    if person is not None:
        kept = session.scalar(
            select(InviteCooldown).where(
                InviteCooldown.user_hash == person_hash(session, person.telegram_user_id)
            )
        )
        if kept is not None and kept.until <= now:
            session.delete(kept)
        elif kept is not None:
            ends.append(kept.until)
    until = max(ends, default=None)
    return until if until is not None and until > now else None


def erase_keeping_cooldown(
    session: Session, person_id: int, now: dt.datetime, cooldown: dt.timedelta
) -> people.Erased:
    """/delete: erase every row about the person, keeping only a running invitation pause.

    What is kept is a keyed hash of the Telegram id and the day the pause ends, nothing
    else; it is honoured on their next /invite and erased when the pause ends.
    """
    person = session.get(Person, person_id)
    until = cooldown_until(session, person_id, now, cooldown)
    if person is not None and until is not None:
        user_hash = person_hash(session, person.telegram_user_id)
        kept = session.scalar(select(InviteCooldown).where(InviteCooldown.user_hash == user_hash))
        if kept is None:
            session.add(InviteCooldown(user_hash=user_hash, until=until))
        else:
            kept.until = until
    return people.erase(session, person_id, now)


def forget_ended_cooldowns(session: Session, now: dt.datetime) -> int:
    """Erase the kept pauses that have ended; returns how many."""
    result = session.execute(delete(InviteCooldown).where(InviteCooldown.until <= now))
    return max(int(getattr(result, "rowcount", 0) or 0), 0)


def _partner(session: Session, person_id: int) -> Person | None:
    couple = couple_of(session, person_id)
    if couple is None:
        return None
    return next((p for p in members(session, couple.id) if p.id != person_id), None)


def start_draft(session: Session, person_id: int, calm: bool, now: dt.datetime) -> Invitation:
    """A fresh draft (an older unfinished one is dropped)."""
    session.execute(
        delete(Invitation).where(Invitation.initiator_id == person_id, Invitation.status == "draft")
    )
    partner = _partner(session, person_id)
    draft = Invitation(
        initiator_id=person_id,
        status="draft",
        created_at=now,
        choices={
            "calm": calm,
            "partner": partner.display_name if partner else None,
            "hope": None,
            "own_hope": None,
            "framing": None,
            "offer": None,
            "therapist": None,
            "variant": 1,
        },
    )
    session.add(draft)
    session.flush()
    return draft


def draft_of(session: Session, person_id: int) -> Invitation | None:
    return session.scalar(
        select(Invitation).where(Invitation.initiator_id == person_id, Invitation.status == "draft")
    )


# Characters that can disguise what a text says to its reader: bidi embeddings, overrides
# and isolates, and invisible spaces. (Zero-width joiners stay: emoji and some scripts
# need them.)
DISGUISING = frozenset("\u200b\u2060\ufeff\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def clean_text(key: str, value: str) -> str:
    """What the partner will read of a typed choice: no disguising or control characters.

    The partner's name loses every control and format character, as display names do.
    """
    value = unicodedata.normalize("NFC", value)
    if key == "partner":
        return "".join(ch for ch in value if unicodedata.category(ch)[0] != "C")
    return "".join(
        ch
        for ch in value
        if ch not in DISGUISING and (ch == "\n" or unicodedata.category(ch) != "Cc")
    )


def choose(session: Session, person_id: int, /, **choices: Any) -> Invitation | None:
    """Record choices on the person's draft (texts are cleaned and trimmed to their limits)."""
    draft = draft_of(session, person_id)
    if draft is None:
        return None
    updated = dict(draft.choices)
    for key, value in choices.items():
        if isinstance(value, str) and key in MAX_TEXT:
            value = clean_text(key, value)
        if key == "line":
            draft.personal_line = value.strip()[: MAX_TEXT["line"]] if value else None
            continue
        if isinstance(value, str) and key in MAX_TEXT:
            value = " ".join(value.split())[: MAX_TEXT[key]] or None
        updated[key] = value
    draft.choices = updated  # a new dict, so the JSON column is seen as changed
    return draft


def next_variant(session: Session, person_id: int) -> Invitation | None:
    draft = draft_of(session, person_id)
    if draft is None:
        return None
    variant = int(draft.choices.get("variant", 1)) % VARIANTS_PER_FRAMING + 1
    return choose(session, person_id, variant=variant)


def cancel(session: Session, person_id: int) -> bool:
    """Cancel a draft or a not-yet-delivered invitation."""
    invitation = session.scalar(
        select(Invitation).where(
            Invitation.initiator_id == person_id,
            Invitation.status.in_(("draft", "scheduled", "link")),
        )
    )
    if invitation is None:
        return False
    invitation.status = "cancelled"
    session.execute(
        delete(Delivery).where(
            Delivery.kind == INVITATION,
            Delivery.ref_id == invitation.id,
            Delivery.status == "claimed",
        )
    )
    session.execute(
        delete(OneTimeToken).where(
            OneTimeToken.purpose == INVITE, OneTimeToken.ref_id == invitation.id
        )
    )
    return True


@dataclass(frozen=True, slots=True)
class Scheduled:
    result: SendResultKind
    send_at: dt.datetime | None = None
    token: str | None = None


def ready(choices: dict[str, Any]) -> bool:
    return all(choices.get(k) for k in ("partner", "hope", "framing", "offer"))


def send(session: Session, person_id: int, send_at: dt.datetime, now: dt.datetime) -> Scheduled:
    """Deliver to a paired partner at `send_at`, or make a link for an unpaired one."""
    draft = draft_of(session, person_id)
    if draft is None:
        return Scheduled("gone")
    if not ready(draft.choices):
        return Scheduled("not_ready")
    partner = _partner(session, person_id)
    if partner is None:
        raw = issue(session, INVITE, now, LINK_TTL, person_id=person_id, ref_id=draft.id)
        draft.status, draft.sent_at = "link", now
        return Scheduled("link", token=raw)
    draft.status, draft.recipient_id, draft.send_at = "scheduled", partner.id, send_at
    session.add(
        Delivery(
            schedule_id=None,
            person_id=partner.id,
            kind=INVITATION,
            due_at=send_at,
            send_after=send_at,
            deadline=send_at + dt.timedelta(days=2),
            status="claimed",
            attempts=0,
            claimed_at=now,
            silent=False,
            ref_id=draft.id,
        )
    )
    return Scheduled("scheduled", send_at=send_at)


@dataclass(frozen=True, slots=True)
class Shown:
    """An invitation as its reader sees it; `problem` when it cannot be shown."""

    problem: str | None
    invitation_id: int = 0
    initiator_name: str = ""
    choices: dict[str, Any] = field(default_factory=dict)
    personal_line: str | None = None
    initiator_chat_id: int | None = None
    initiator_language: str | None = None
    initiator_zone: str | None = None


def _shown(session: Session, invitation: Invitation) -> Shown:
    initiator = session.get_one(Person, invitation.initiator_id)
    return Shown(
        None,
        invitation.id,
        initiator.display_name,
        dict(invitation.choices),
        invitation.personal_line,
        initiator.chat_id,
        initiator.language,
        initiator.timezone,
    )


def open_link(session: Session, raw: str, opener_telegram_id: int, now: dt.datetime) -> Shown:
    """The partner opened the link: show it to them, and only ever to them."""
    token = session.scalar(
        select(OneTimeToken).where(
            OneTimeToken.token_hash == token_hash(raw), OneTimeToken.purpose == INVITE
        )
    )
    if token is None or token.ref_id is None:
        return Shown("unknown")
    invitation = session.get(Invitation, token.ref_id)
    if invitation is None or invitation.status == "cancelled":
        return Shown("unknown")
    if token.used_at is not None:
        # The same person may open it again; nobody else ever sees it.
        if not _opened_by(session, invitation, opener_telegram_id):
            return Shown("used")
        return _shown(session, invitation)
    if token.expires_at <= now:
        return Shown("expired")
    if token.person_id is not None:
        initiator = session.get(Person, token.person_id)
        if initiator is not None and initiator.telegram_user_id == opener_telegram_id:
            return Shown("self")
    if opted_out(session, opener_telegram_id):
        return Shown("opted_out")
    token.used_at = now
    opener = person_hash(session, opener_telegram_id)
    invitation.opened_by_hash, invitation.seen_at, invitation.status = opener, now, "seen"
    return _shown(session, invitation)


def for_delivery(session: Session, invitation_id: int, *, reminder: bool = False) -> Shown:
    """What the dispatcher needs to render an invitation (or its reminder) to a partner.

    A reminder is "gone" once the partner has answered: it is never sent after an answer.
    """
    invitation = session.get(Invitation, invitation_id)
    if invitation is None or invitation.status not in ("scheduled", "sent", "seen"):
        return Shown("gone")
    if reminder and invitation.answer is not None:
        return Shown("gone")
    return _shown(session, invitation)


def not_delivered(session: Session, invitation_id: int) -> None:
    """Its delivery ended unsent (the partner stopped or blocked the bot): it no longer
    counts as the open invitation, so the initiator can make a new one later."""
    invitation = session.get(Invitation, invitation_id)
    if invitation is not None and invitation.status == "scheduled":
        invitation.status = "undelivered"


@dataclass(frozen=True, slots=True)
class Undelivered:
    """An initiator to tell, once, that their invitation could not reach their partner."""

    chat_id: int
    language: str | None
    partner: str


def take_undelivered(session: Session, now: dt.datetime, limit: int = 100) -> list[Undelivered]:
    """Invitations that ended undelivered and whose initiator has not been told: marked
    told (a conditional update, so a second process gets none of them) and returned.

    An initiator who stopped or blocked the bot is marked told without a message.
    """
    rows = list(
        session.scalars(
            select(Invitation)
            .where(Invitation.status == "undelivered", Invitation.initiator_told_at.is_(None))
            .order_by(Invitation.id)
            .limit(limit)
        )
    )
    owed: list[Undelivered] = []
    for invitation in rows:
        taken = session.execute(
            update(Invitation)
            .where(Invitation.id == invitation.id, Invitation.initiator_told_at.is_(None))
            .values(initiator_told_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
        if taken != 1:
            continue
        initiator = session.get(Person, invitation.initiator_id)
        if initiator is None or initiator.stopped_at is not None:
            continue
        if initiator.blocked_at is not None:
            continue
        partner = str(invitation.choices.get("partner") or "")
        owed.append(Undelivered(initiator.chat_id, initiator.language, partner))
    return owed


def delivered(session: Session, invitation_id: int, now: dt.datetime) -> None:
    invitation = session.get(Invitation, invitation_id)
    if invitation is not None and invitation.status == "scheduled":
        invitation.status, invitation.sent_at = "sent", now


@dataclass(frozen=True, slots=True)
class Answered:
    """What the partner's answer did, and whom to tell."""

    result: AnswerResult
    shown: Shown | None = None
    remind_on: dt.datetime | None = None
    tell_initiator: bool = True


def _may_answer(session: Session, invitation: Invitation, telegram_user_id: int) -> bool:
    if _opened_by(session, invitation, telegram_user_id):
        return True
    if invitation.recipient_id is None:
        return False
    recipient = session.get(Person, invitation.recipient_id)
    return recipient is not None and recipient.telegram_user_id == telegram_user_id


def answer(
    session: Session,
    invitation_id: int,
    telegram_user_id: int,
    chat_id: int,
    choice: str,
    now: dt.datetime,
) -> Answered:
    """The partner's answer: yes, more, not_now, never (for good), or remind (once)."""
    invitation = session.get(Invitation, invitation_id)
    if invitation is None or invitation.status == "cancelled":
        return Answered("gone")
    if not _may_answer(session, invitation, telegram_user_id):
        return Answered("not_yours")
    shown = _shown(session, invitation)
    if invitation.seen_at is None:
        invitation.seen_at = now
    if choice == "more":
        if invitation.answer is None:
            invitation.status = "seen"
        return Answered("more", shown)
    if choice == "remind":
        if invitation.reminder_at is not None or invitation.answer is not None:
            return Answered("already", shown)
        invitation.reminder_at = now + REMIND_AFTER
        if invitation.recipient_id is None:
            invitation.recipient_chat_id = chat_id  # their explicit request; nothing else kept
        return Answered("remind", shown, invitation.reminder_at)
    if choice == "never":
        if not opted_out(session, telegram_user_id):
            user_hash = person_hash(session, telegram_user_id)
            session.add(InviteOptOut(user_hash=user_hash, created_at=now))
        if invitation.answer == "never":
            return Answered("already", shown)
        # After "not now" the initiator was told already; only a first answer tells them.
        first = invitation.answer is None
        invitation.answer, invitation.status = "never", "answered"
        invitation.answered_at = invitation.answered_at or now
        invitation.reminder_at = None
        return Answered("never", shown, tell_initiator=first)
    if invitation.answer is not None:
        return Answered("already", shown)
    if choice == "yes":
        final: AnswerResult = "yes"
    elif choice == "not_now":
        final = "not_now"
    else:
        return Answered("gone")
    invitation.answer, invitation.answered_at, invitation.status = final, now, "answered"
    invitation.reminder_at = None
    return Answered(final, shown)


@dataclass(frozen=True, slots=True)
class Reminder:
    invitation_id: int
    chat_id: int
    shown: Shown
    language: str | None


REMINDER_RETRY = dt.timedelta(minutes=10)
REMINDER_DEADLINE = dt.timedelta(days=2)


def take_due_reminders(session: Session, now: dt.datetime, limit: int = 50) -> list[Reminder]:
    """Reminders the partner asked for, now due.

    A partner with an account gets theirs as an ordinary delivery (kind
    `invitation_reminder`): the dispatcher sends it like any nudge, so a pause holds it,
    /stop and a block drop it, quiet hours delay it and the rate limit paces it. Someone
    who only opened a link has no account: theirs is returned to be sent directly, marked
    done first (a crash mid-send never sends it twice); `reminder_again` reopens it when
    the Bot API said it was not sent.

    Each call also erases the kept invitation pauses that have ended (every tick runs
    it, so none outlives its end by more than a tick).
    """
    forget_ended_cooldowns(session, now)
    query = (
        select(Invitation)
        .where(
            Invitation.reminder_at <= now,
            Invitation.reminded_at.is_(None),
            Invitation.answer.is_(None),
        )
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        # Another process taking reminders at the same moment skips these rows.
        query = query.with_for_update(of=Invitation, skip_locked=True)
    due = session.scalars(query).all()
    found = []
    for invitation in due:
        recipient = (
            session.get(Person, invitation.recipient_id)
            if invitation.recipient_id is not None
            else None
        )
        if recipient is not None:
            invitation.reminded_at = now  # handed to the dispatcher, exactly once
            session.add(
                Delivery(
                    schedule_id=None,
                    person_id=recipient.id,
                    kind=INVITATION_REMINDER,
                    due_at=now,
                    send_after=now,
                    deadline=now + REMINDER_DEADLINE,
                    status="claimed",
                    attempts=0,
                    claimed_at=now,
                    silent=False,
                    ref_id=invitation.id,
                )
            )
        elif invitation.recipient_chat_id is not None:
            # Marked done before it goes (at most once, as a send the Bot API cannot
            # deduplicate must be); `reminder_again` reopens it when it surely did not go.
            invitation.reminded_at = now
            shown = _shown(session, invitation)
            found.append(Reminder(invitation.id, invitation.recipient_chat_id, shown, None))
        else:
            invitation.reminded_at = now  # nobody to remind any more
    return found


def reminder_done(session: Session, invitation_id: int, now: dt.datetime) -> None:
    """A directly sent reminder went out (or will never go): forget the chat id."""
    invitation = session.get(Invitation, invitation_id)
    if invitation is not None:
        invitation.reminded_at = invitation.reminded_at or now
        invitation.recipient_chat_id = None


def reminder_again(session: Session, invitation_id: int, at: dt.datetime) -> None:
    """A directly sent reminder certainly did not go (the Bot API said so): retry at `at`."""
    invitation = session.get(Invitation, invitation_id)
    if invitation is not None and invitation.answer is None:
        invitation.reminded_at, invitation.reminder_at = None, at


def status_of(session: Session, person_id: int) -> Invitation | None:
    """The initiator's latest invitation, for /invite to show its state."""
    return session.scalar(
        select(Invitation)
        .where(Invitation.initiator_id == person_id, Invitation.status != "draft")
        .order_by(Invitation.created_at.desc())
        .limit(1)
    )


def stats(session: Session) -> dict[str, dict[str, int]]:
    """Aggregate counts for the operator: no names, no words."""
    by_status = dict(
        session.execute(select(Invitation.status, func.count()).group_by(Invitation.status)).all()
    )
    by_answer = dict(
        session.execute(
            select(Invitation.answer, func.count())
            .where(Invitation.answer.is_not(None))
            .group_by(Invitation.answer)
        ).all()
    )
    opt_outs = session.scalar(select(func.count()).select_from(InviteOptOut)) or 0
    return {
        "invitations_by_status": {str(k): int(v) for k, v in by_status.items()},
        "answers": {str(k): int(v) for k, v in by_answer.items()},
        "opted_out_for_good": {"people": int(opt_outs)},
    }
