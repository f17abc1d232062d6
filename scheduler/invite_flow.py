"""The initiator's invitation flow as a state machine: one table, the state in the draft.

Every step of /invite is a row of `TABLE`: in this state, on this event (and when this
guard holds), take this step and go to that state. An event no row of the current state
names is refused as stale ("That button has expired. Nothing changed."), so an old
button can never skip a question or get round the tone check.

The state lives in the database, in the draft's choices under `STEP` (no draft: `IDLE`),
so a restart or a second process continues where the person was. Steps are small
functions over a `Session`: they record what the event carries, or refuse it (then the
state stays). The bot turns a button or a typed answer into an `Event` and shows the
question of the state reached; this module knows nothing of Telegram.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from scheduler.rules import EVERY_DAY, Rule, next_fire_at
from storage import Session, answers, invitations
from storage.models import Invitation, Person

STEP = "step"  # the draft's choices key that holds its State
# In the draft's choices: the own words the initiator chose to send as written, after
# reading why the tone check flagged them.
CONFIRMED = "confirmed_as_written"
MAX_AHEAD = dt.timedelta(days=14)


class State(StrEnum):
    """Where the initiator is. `IDLE` is "no draft"; `SENT` and `CANCELLED` are final."""

    IDLE = "idle"
    NAME = "name"
    HOPE = "hope"
    OWN_HOPE = "own_hope"
    FRAMING = "framing"
    OFFER = "offer"
    THERAPIST = "therapist"
    THERAPIST_NAME = "therapist_name"
    LINE = "line"
    LINE_TEXT = "line_text"
    PREVIEW = "preview"
    EDIT_MENU = "edit_menu"
    EDIT_NAME = "edit_name"
    EDIT_HOPE = "edit_hope"
    EDIT_OWN_HOPE = "edit_own_hope"
    EDIT_THERAPIST = "edit_therapist"
    EDIT_THERAPIST_NAME = "edit_therapist_name"
    EDIT_LINE = "edit_line"
    TIME = "time"
    SENT = "sent"
    CANCELLED = "cancelled"


FINAL = frozenset({State.SENT, State.CANCELLED})


class Event(StrEnum):
    """What the initiator did: a button, a typed text (`TEXT`) or a chosen moment (`AT`)."""

    CALM_YES = "calm_yes"
    CALM_NO = "calm_no"
    PREPARE_YES = "prepare_yes"
    PREPARE_NO = "prepare_no"
    START_PATH = "start_path"
    CANCEL = "cancel"
    TEXT = "text"
    KEEP_NAME = "keep_name"
    HOPE_PICKED = "hope_picked"
    HOPE_OWN_WORDS = "hope_own_words"
    FRAMING_PICKED = "framing_picked"
    OFFER_PICKED = "offer_picked"
    THERAPIST_TOGETHER = "therapist_together"
    THERAPIST_NAMED = "therapist_named"
    LINE_YES = "line_yes"
    LINE_NO = "line_no"
    OTHER_WORDING = "other_wording"
    EDIT_MENU = "edit_menu"
    EDIT_NAME = "edit_name"
    EDIT_HOPE = "edit_hope"
    EDIT_LINE = "edit_line"
    EDIT_THERAPIST = "edit_therapist"
    EDIT_BACK = "edit_back"
    AS_WRITTEN = "as_written"
    CONFIRM_WORDS = "confirm_words"
    SEND_NOW = "send_now"
    SEND_LATER = "send_later"
    AT = "at"


class Guard(StrEnum):
    """A fact about the draft that picks between rows of the same state and event."""

    UNCHECKED_WORDS = "unchecked_words"  # own words flagged by the tone check, not confirmed
    CALM = "calm"  # the initiator said it is calm between them now


# The typed question each state keeps open (the person's `awaiting`); others close it.
ASKS: dict[State, str] = {
    State.NAME: "invite_name",
    State.EDIT_NAME: "invite_name",
    State.OWN_HOPE: "invite_hope",
    State.EDIT_OWN_HOPE: "invite_hope",
    State.THERAPIST_NAME: "invite_therapist",
    State.EDIT_THERAPIST_NAME: "invite_therapist",
    State.LINE_TEXT: "invite_line",
    State.EDIT_LINE: "invite_line",
    State.TIME: "invite_time",
}

Refusal = Literal["stale", "empty", "too_long", "bad_time"]


@dataclass(frozen=True)
class Move:
    """One event in one person's flow, with what it carries and the tone check to use."""

    person_id: int
    event: Event
    now: dt.datetime
    text: str = ""  # TEXT: the typed answer; CONFIRM_WORDS: the words' key; a picked value
    at: dt.datetime | None = None  # AT: the moment to send
    flagged: Callable[[str], bool] = field(default=lambda _words: False)


@dataclass(frozen=True)
class Outcome:
    """What a step did: refused (the state stays), or what the bot needs to say next."""

    refused: Refusal | None = None
    key: str = ""  # the typed part refused ("partner", "own_hope", ...)
    limit: int = 0
    cancelled: bool = False
    confirmed: bool = False
    sent: invitations.Scheduled | None = None


StepFn = Callable[[Session, Move, Invitation | None], Outcome]


@dataclass(frozen=True)
class Transition:
    """A row: in `source`, on `event` (and when `guard` holds), `step`, then `target`."""

    source: State
    event: Event
    target: State
    step: StepFn
    guard: Guard | None = None


@dataclass(frozen=True)
class Fired:
    """What happened to a move: its row (None: stale in this state) and the step's outcome."""

    transition: Transition | None
    outcome: Outcome
    draft: Invitation | None = None

    @property
    def state(self) -> State | None:
        return self.transition.target if self.transition and not self.outcome.refused else None


# --- the steps: small, one thing each -----------------------------------------------------------


def nothing(_s: Session, _m: Move, _d: Invitation | None) -> Outcome:
    """Ask the next question; nothing to record."""
    return Outcome()


def begin(session: Session, move: Move, _d: Invitation | None) -> Outcome:
    """A fresh draft (an older unfinished one is dropped)."""
    invitations.start_draft(session, move.person_id, move.event == Event.CALM_YES, move.now)
    return Outcome()


def cancel(session: Session, move: Move, _d: Invitation | None) -> Outcome:
    """Cancel the draft, or an invitation not yet delivered."""
    return Outcome(cancelled=invitations.cancel(session, move.person_id))


def _record_text(key: str, **extra: Any) -> StepFn:
    def record(session: Session, move: Move, _d: Invitation | None) -> Outcome:
        cleaned = invitations.clean_text(key, move.text)
        if not cleaned.strip():
            return Outcome(refused="empty", key=key)  # only spaces or invisible characters
        limit = invitations.MAX_TEXT[key]
        if len(" ".join(cleaned.split())) > limit:
            return Outcome(refused="too_long", key=key, limit=limit)  # never silently cut
        invitations.choose(session, move.person_id, **{key: move.text}, **extra)
        return Outcome()

    record.__doc__ = f"Record the typed {key}, or refuse it empty or too long."
    return record


record_partner = _record_text("partner")
record_own_hope = _record_text("own_hope", hope="own")
record_therapist = _record_text("therapist")
record_line = _record_text("line")


def record_hope(session: Session, move: Move, _d: Invitation | None) -> Outcome:
    """Record one of the listed hopes (an own hope written before is dropped)."""
    invitations.choose(session, move.person_id, hope=move.text, own_hope=None)
    return Outcome()


def record_framing(session: Session, move: Move, _d: Invitation | None) -> Outcome:
    invitations.choose(session, move.person_id, framing=move.text)
    return Outcome()


def record_offer(session: Session, move: Move, _d: Invitation | None) -> Outcome:
    invitations.choose(session, move.person_id, offer=move.text)
    return Outcome()


def clear_therapist(session: Session, move: Move, _d: Invitation | None) -> Outcome:
    """No therapist named: "we choose together"."""
    invitations.choose(session, move.person_id, therapist=None)
    return Outcome()


def clear_line(session: Session, move: Move, _d: Invitation | None) -> Outcome:
    """No own line (or the one written before removed)."""
    invitations.choose(session, move.person_id, line=None)
    return Outcome()


def other_wording(session: Session, move: Move, _d: Invitation | None) -> Outcome:
    """The next wording of the same framing."""
    invitations.next_variant(session, move.person_id)
    return Outcome()


def confirm_words(session: Session, move: Move, draft: Invitation | None) -> Outcome:
    """Confirm flagged words as written, for exactly the words the button was shown for."""
    assert draft is not None
    words = own_words(draft.choices, draft.personal_line)
    if not words or not move.flagged(words) or move.text != words_key(words):
        return Outcome()  # nothing flagged, or words changed since: the preview shows them
    invitations.choose(session, move.person_id, **{CONFIRMED: words})
    return Outcome(confirmed=True)


def send_now(session: Session, move: Move, _d: Invitation | None) -> Outcome:
    """Send at once (paired), or make the link (not paired)."""
    return _send(session, move, move.now)


def send_at(session: Session, move: Move, _d: Invitation | None) -> Outcome:
    """Send at the chosen moment, if it is not past and at most two weeks ahead."""
    assert move.at is not None
    if move.at < move.now - dt.timedelta(minutes=1) or move.at > move.now + MAX_AHEAD:
        return Outcome(refused="bad_time")
    return _send(session, move, max(move.at, move.now))


def _send(session: Session, move: Move, when: dt.datetime) -> Outcome:
    sent = invitations.send(session, move.person_id, when, move.now)
    if sent.result not in ("link", "scheduled"):
        return Outcome(refused="stale")
    return Outcome(sent=sent)


# --- the table ---------------------------------------------------------------------------------

S, E, T = State, Event, Transition
# Buttons that mean the same in every state: start afresh, hear the tips, decide not
# today, start the path for one, or cancel.
_ANYWHERE: tuple[tuple[Event, State | None, StepFn], ...] = (
    (E.CALM_YES, S.NAME, begin),
    (E.PREPARE_YES, S.NAME, begin),
    (E.CALM_NO, None, nothing),  # None: stay where you are
    (E.PREPARE_NO, None, nothing),
    (E.START_PATH, None, nothing),
    (E.CANCEL, S.CANCELLED, cancel),
)
_FLOW: tuple[Transition, ...] = (
    T(S.NAME, E.KEEP_NAME, S.HOPE, nothing),
    T(S.NAME, E.TEXT, S.HOPE, record_partner),
    T(S.HOPE, E.HOPE_PICKED, S.FRAMING, record_hope),
    T(S.HOPE, E.HOPE_OWN_WORDS, S.OWN_HOPE, nothing),
    T(S.OWN_HOPE, E.TEXT, S.FRAMING, record_own_hope),
    T(S.FRAMING, E.FRAMING_PICKED, S.OFFER, record_framing),
    T(S.OFFER, E.OFFER_PICKED, S.THERAPIST, record_offer),
    T(S.THERAPIST, E.THERAPIST_TOGETHER, S.LINE, clear_therapist),
    T(S.THERAPIST, E.THERAPIST_NAMED, S.THERAPIST_NAME, nothing),
    T(S.THERAPIST_NAME, E.TEXT, S.LINE, record_therapist),
    T(S.LINE, E.LINE_YES, S.LINE_TEXT, nothing),
    T(S.LINE, E.LINE_NO, S.PREVIEW, clear_line),
    T(S.LINE_TEXT, E.TEXT, S.PREVIEW, record_line),
    # The preview: the tone check first, then how and when to send.
    T(S.PREVIEW, E.OTHER_WORDING, S.PREVIEW, other_wording),
    T(S.PREVIEW, E.AS_WRITTEN, S.PREVIEW, nothing),
    T(S.PREVIEW, E.CONFIRM_WORDS, S.PREVIEW, confirm_words),
    T(S.PREVIEW, E.SEND_NOW, S.PREVIEW, nothing, Guard.UNCHECKED_WORDS),
    T(S.PREVIEW, E.SEND_NOW, S.SENT, send_now, Guard.CALM),
    T(S.PREVIEW, E.SEND_NOW, S.TIME, nothing),
    T(S.PREVIEW, E.SEND_LATER, S.PREVIEW, nothing, Guard.UNCHECKED_WORDS),
    T(S.PREVIEW, E.SEND_LATER, S.TIME, nothing),
    T(S.TIME, E.AT, S.PREVIEW, nothing, Guard.UNCHECKED_WORDS),
    T(S.TIME, E.AT, S.SENT, send_at),
    # Editing one part from the preview keeps every other choice, then shows it again.
    T(S.PREVIEW, E.EDIT_MENU, S.EDIT_MENU, nothing),
    T(S.EDIT_MENU, E.EDIT_BACK, S.PREVIEW, nothing),
    T(S.EDIT_MENU, E.EDIT_NAME, S.EDIT_NAME, nothing),
    T(S.EDIT_MENU, E.EDIT_HOPE, S.EDIT_HOPE, nothing),
    T(S.EDIT_MENU, E.EDIT_LINE, S.EDIT_LINE, nothing),
    T(S.EDIT_MENU, E.EDIT_THERAPIST, S.EDIT_THERAPIST, nothing),
    T(S.EDIT_NAME, E.KEEP_NAME, S.PREVIEW, nothing),
    T(S.EDIT_NAME, E.TEXT, S.PREVIEW, record_partner),
    T(S.EDIT_HOPE, E.HOPE_PICKED, S.PREVIEW, record_hope),
    T(S.EDIT_HOPE, E.HOPE_OWN_WORDS, S.EDIT_OWN_HOPE, nothing),
    T(S.EDIT_OWN_HOPE, E.TEXT, S.PREVIEW, record_own_hope),
    T(S.EDIT_THERAPIST, E.THERAPIST_TOGETHER, S.PREVIEW, clear_therapist),
    T(S.EDIT_THERAPIST, E.THERAPIST_NAMED, S.EDIT_THERAPIST_NAME, nothing),
    T(S.EDIT_THERAPIST_NAME, E.TEXT, S.PREVIEW, record_therapist),
    T(S.EDIT_LINE, E.TEXT, S.PREVIEW, record_line),
    T(S.EDIT_LINE, E.LINE_NO, S.PREVIEW, clear_line),
)
TABLE: tuple[Transition, ...] = (
    *(
        T(source, event, target or source, step)
        for source in State
        if source not in FINAL
        for event, target, step in _ANYWHERE
    ),
    *_FLOW,
)


def advance(state: State, event: Event, holds: Iterable[Guard] = ()) -> Transition | None:
    """The row for this event in this state: the first whose guard holds, or None."""
    facts = frozenset(holds)
    return next(
        (
            row
            for row in TABLE
            if row.source == state
            and row.event == event
            and (row.guard is None or row.guard in facts)
        ),
        None,
    )


# --- the state in the database -----------------------------------------------------------------

_LEGACY_ASKS = {
    "invite_name": State.NAME,
    "invite_hope": State.OWN_HOPE,
    "invite_therapist": State.THERAPIST_NAME,
    "invite_line": State.LINE_TEXT,
    "invite_time": State.TIME,
}
_EDITING = {
    State.NAME: State.EDIT_NAME,
    State.OWN_HOPE: State.EDIT_OWN_HOPE,
    State.THERAPIST_NAME: State.EDIT_THERAPIST_NAME,
    State.LINE_TEXT: State.EDIT_LINE,
}


def state_of(draft: Invitation | None, awaiting: str | None = None) -> State:
    """The state a draft is in (no draft: IDLE).

    A draft made before the state was stored is placed by its open question and choices.
    """
    if draft is None:
        return State.IDLE
    stored = str(draft.choices.get(STEP))
    if stored in State._value2member_map_:
        return State(stored)
    asked = _LEGACY_ASKS.get(awaiting or "")
    if asked is not None:
        return _EDITING.get(asked, asked) if draft.choices.get("editing") else asked
    if invitations.ready(draft.choices):
        return State.PREVIEW
    missing = next(k for k in ("partner", "hope", "framing", "offer") if not draft.choices.get(k))
    return {"partner": State.NAME, "hope": State.HOPE, "framing": State.FRAMING}.get(
        missing, State.OFFER
    )


def own_words(choices: dict[str, Any], personal_line: str | None) -> str:
    """What the tone check reads: the initiator's own hope and own line (not names)."""
    hope = choices.get("own_hope") if choices.get("hope") == "own" else None
    return "\n\n".join(filter(None, [hope, personal_line]))


def calm_moments(now: dt.datetime, zone: str) -> list[dt.datetime]:
    """Three calm-sounding moments to send at: this evening (if still ahead), tomorrow
    evening, Saturday morning."""
    moments = []
    for at, days in ((dt.time(19, 0), EVERY_DAY), (dt.time(10, 0), frozenset({5}))):
        rule = Rule(local_time=at, weekdays=days, zone=zone)
        first = next_fire_at(rule, now + dt.timedelta(minutes=30))
        moments.append(first)
        if days == EVERY_DAY:
            moments.append(next_fire_at(rule, first))
    return sorted(set(moments))[:3]


def words_key(words: str) -> str:
    """A short fingerprint of the words a confirmation button was shown for."""
    return hashlib.sha256(words.encode()).hexdigest()[:12]


def unchecked(draft: Invitation, flagged: Callable[[str], bool]) -> bool:
    """Own words the tone check flags and the initiator has not confirmed as written.

    A confirmation holds for exactly the words confirmed: any edit is checked afresh.
    """
    words = own_words(draft.choices, draft.personal_line)
    return bool(words) and draft.choices.get(CONFIRMED) != words and flagged(words)


def _holds(draft: Invitation | None, move: Move, state: State) -> set[Guard]:
    """The guards that hold, checked only where a row of this state and event has one
    (the tone check is not free)."""
    needed = {row.guard for row in TABLE if (row.source, row.event) == (state, move.event)}
    facts = set()
    if draft is not None and Guard.CALM in needed and draft.choices.get("calm"):
        facts.add(Guard.CALM)
    if draft is not None and Guard.UNCHECKED_WORDS in needed and unchecked(draft, move.flagged):
        facts.add(Guard.UNCHECKED_WORDS)
    return facts


def fire(session: Session, move: Move) -> Fired:
    """Take one move in the person's flow: find its row, run its step, store the new state."""
    person = session.get_one(Person, move.person_id)
    draft = invitations.draft_of(session, move.person_id)
    source = state_of(draft, person.awaiting)
    row = advance(source, move.event, _holds(draft, move, source))
    if row is None:
        return Fired(None, Outcome(refused="stale"), draft)
    outcome = row.step(session, move, draft)
    if outcome.refused is not None:
        return Fired(row, outcome, draft)
    draft = invitations.draft_of(session, move.person_id)
    if draft is not None:
        invitations.choose(session, move.person_id, **{STEP: row.target.value})
    if row.target != source:
        answers.ask_typed(session, move.person_id, ASKS.get(row.target))
    return Fired(row, outcome, draft or invitations.status_of(session, move.person_id))


def state_now(session: Session, person_id: int) -> State:
    """Where this person is in the flow now."""
    person = session.get_one(Person, person_id)
    return state_of(invitations.draft_of(session, person_id), person.awaiting)
