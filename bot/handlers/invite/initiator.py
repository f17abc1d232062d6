"""The initiator's flow: /invite, then each button or typed answer is one move of the
state machine in `scheduler.invite_flow` (its table says what happens in which state);
here a button becomes an `Event`, and the state reached shows its question."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from telegram import Update

from bot import callbacks as cb
from bot.context import BotContext
from bot.handlers.common import close_buttons, for_people, pressed, pressed_by_person, reply
from bot.handlers.couple import open_held_question
from bot.handlers.invite import questions as q
from bot.handlers.invite.common import CALM_TIPS, Show, cooldown, flagged_in, row
from bot.handlers.invite.path import start_path
from bot.handlers.invite.preview import as_written, confirmed, preview
from bot.handlers.invite.sending import sent, typed_time
from bot.keyboards import buttons
from bot.render import format_local
from scheduler.invite_flow import Event, Fired, Move, State, fire
from storage import invitations
from storage.models import Invitation, Person

E = Event


@for_people()
async def invite_command(update: Update, context: BotContext, person: Person) -> None:
    """/invite: show an open invitation's state, explain a pause, or start gently."""
    if context.args and context.args[0].lower() == "cancel":
        await _move(update, context, person, E.CANCEL)
        return
    services = context.services
    gate = await services.db.run(invitations.gate, person.id, services.clock(), cooldown(context))
    if gate.result == "open" and gate.invitation is not None:
        await _status(update, context, person, gate.invitation)
        return
    path = buttons(row(context, update, person, ("path_start", cb.StartPath())))
    if gate.result == "cooldown" and gate.possible_from is not None:
        when = format_local(gate.possible_from, person.timezone or "UTC", person.language, "day")
        await reply(update, context, "invite/cooldown", person, markup=path, possible_from=when)
    elif gate.result == "opted_out":
        await reply(update, context, "invite/opted_out", person, markup=path)
    else:
        await _calm_question(update, context, person)


async def _calm_question(update: Update, context: BotContext, person: Person) -> None:
    """The first question, after the state of an invitation that could not be delivered."""
    latest = await context.services.db.run(invitations.status_of, person.id)
    if latest is not None and latest.status == "undelivered":
        await _status(update, context, person, latest)
    markup = buttons(
        row(context, update, person, ("invite_calm_yes", cb.InviteCalm(cb.YesNo.YES))),
        row(context, update, person, ("invite_calm_no", cb.InviteCalm(cb.YesNo.NO))),
    )
    await reply(update, context, "invite/calm_question", person, markup=markup)


async def _status(
    update: Update, context: BotContext, person: Person, invitation: Invitation
) -> None:
    """Where the open invitation is, with a cancel button while it can still be held back."""
    markup = None
    if invitation.status in ("scheduled", "link"):
        markup = buttons(row(context, update, person, ("invite_cancel", cb.InviteCancel())))
    when = ""
    if invitation.send_at:
        zone = person.timezone or "UTC"
        when = format_local(invitation.send_at, zone, person.language, "day_time")
    partner = invitation.choices.get("partner") or ""
    values = {"invitation": invitation, "partner": partner, "when": when}
    await reply(update, context, "invite/status", person, markup=markup, **values)


# --- what the bot says after a move -------------------------------------------------------------


async def _not_calm(update: Update, context: BotContext, person: Person, _f: Fired) -> None:
    renderer = context.services.renderer
    tips = [renderer.render(name, person.language, name=person.display_name) for name in CALM_TIPS]
    markup = buttons(
        row(context, update, person, ("invite_prepare", cb.InvitePrepare(cb.YesNo.YES))),
        row(context, update, person, ("invite_not_today", cb.InvitePrepare(cb.YesNo.NO))),
    )
    await reply(update, context, "invite/not_calm", person, tips=tips, markup=markup)


async def _not_today(update: Update, context: BotContext, person: Person, _f: Fired) -> None:
    await reply(update, context, "invite/not_today", person)


async def _path(update: Update, context: BotContext, person: Person, _f: Fired) -> None:
    await start_path(update, context, person)


async def _cancelled(update: Update, context: BotContext, person: Person, fired: Fired) -> None:
    await reply(update, context, "invite/cancelled", person, cancelled=fired.outcome.cancelled)


# Events that answer for themselves; every other move shows the question of its new state.
SAYS: dict[Event, Show] = {
    E.CALM_NO: _not_calm,
    E.PREPARE_NO: _not_today,
    E.START_PATH: _path,
    E.AS_WRITTEN: as_written,
    E.CONFIRM_WORDS: confirmed,
}
ASKS: dict[State, Show] = {
    State.NAME: q.ask_name,
    State.EDIT_NAME: q.ask_name,
    State.HOPE: q.ask_hope,
    State.EDIT_HOPE: q.ask_hope,
    State.OWN_HOPE: q.ask_own_hope,
    State.EDIT_OWN_HOPE: q.ask_own_hope,
    State.FRAMING: q.ask_framing,
    State.OFFER: q.ask_offer,
    State.THERAPIST: q.ask_therapist,
    State.EDIT_THERAPIST: q.ask_therapist,
    State.THERAPIST_NAME: q.ask_therapist_name,
    State.EDIT_THERAPIST_NAME: q.ask_therapist_name,
    State.LINE: q.ask_line,
    State.LINE_TEXT: q.ask_line_text,
    State.EDIT_LINE: q.ask_line_text,
    State.PREVIEW: preview,
    State.EDIT_MENU: q.edit_menu,
    State.TIME: q.ask_time,
    State.SENT: sent,
    State.CANCELLED: _cancelled,
}
REFUSALS = {
    "stale": "errors/button_stale",
    "empty": "invite/empty_answer",
    "too_long": "invite/too_long",
    "bad_time": "invite/bad_time",
}


async def show(update: Update, context: BotContext, person: Person, fired: Fired) -> None:
    """Say what a move did: its refusal, its own answer, or the next question."""
    outcome, state = fired.outcome, fired.state
    if outcome.refused is not None or state is None:
        refusal = outcome.refused or "stale"
        values: dict[str, Any] = {"step": outcome.key, "limit": outcome.limit, "error": None}
        await reply(update, context, REFUSALS[refusal], person, **values)
        return
    assert fired.transition is not None
    say = SAYS.get(fired.transition.event) or ASKS[state]
    await say(update, context, person, fired)


# --- from a button or a typed answer to an event ------------------------------------------------

_EDITS = {
    cb.EditPart.MENU: E.EDIT_MENU,
    cb.EditPart.BACK: E.EDIT_BACK,
    cb.EditPart.NAME: E.EDIT_NAME,
    cb.EditPart.HOPE: E.EDIT_HOPE,
    cb.EditPart.LINE: E.EDIT_LINE,
    cb.EditPart.THERAPIST: E.EDIT_THERAPIST,
}


def _yes_no(yes: Event, no: Event) -> Callable[[Any], tuple[Event, str]]:
    return lambda b: (yes if b.answer == cb.YesNo.YES else no, "")


EVENTS: dict[type[cb.Button], Callable[[Any], tuple[Event, str]]] = {
    cb.StartPath: lambda _b: (E.START_PATH, ""),
    cb.InviteCalm: _yes_no(E.CALM_YES, E.CALM_NO),
    cb.InvitePrepare: _yes_no(E.PREPARE_YES, E.PREPARE_NO),
    cb.InviteCancel: lambda _b: (E.CANCEL, ""),
    cb.InviteEdit: lambda b: (_EDITS[b.part], ""),
    cb.InviteAsWritten: lambda _b: (E.AS_WRITTEN, ""),
    cb.InviteConfirmWords: lambda b: (E.CONFIRM_WORDS, b.words),
    cb.InviteKeepPartnerName: lambda _b: (E.KEEP_NAME, ""),
    cb.InviteHope: lambda b: (
        (E.HOPE_OWN_WORDS, "") if b.hope == cb.Hope.OWN else (E.HOPE_PICKED, str(b.hope))
    ),
    cb.InviteFraming: lambda b: (E.FRAMING_PICKED, str(b.framing)),
    cb.InviteOffer: lambda b: (E.OFFER_PICKED, str(b.offer)),
    cb.InviteTherapist: lambda b: (
        E.THERAPIST_NAMED if b.choice == cb.TherapistChoice.NAMED else E.THERAPIST_TOGETHER,
        "",
    ),
    cb.InviteLine: _yes_no(E.LINE_YES, E.LINE_NO),
    cb.InviteOtherWording: lambda _b: (E.OTHER_WORDING, ""),
    cb.InviteSend: lambda b: (E.SEND_NOW if b.when == cb.SendWhen.NOW else E.SEND_LATER, ""),
    cb.InviteSendAt: lambda _b: (E.AT, ""),
}
FLOW_BUTTONS = tuple(EVENTS)
# Moves after which a prompt that arrived during the flow asks its own question.
ENDS = frozenset({E.CANCEL, E.SEND_NOW, E.SEND_LATER, E.AT})


async def _move(
    update: Update,
    context: BotContext,
    person: Person,
    event: Event,
    text: str = "",
    at: dt.datetime | None = None,
) -> None:
    """One move in the flow, then what it says."""
    services = context.services
    flagged = flagged_in(person.language)
    move = Move(person.id, event, services.clock(), text=text, at=at, flagged=flagged)
    fired = await services.db.run(fire, move)
    await show(update, context, person, fired)


async def on_flow_button(update: Update, context: BotContext, button: cb.Button) -> None:
    """Every button of the initiator's flow: the event it stands for, one move."""
    person = await pressed_by_person(update, context)
    if person is None:
        return
    query = pressed(update)
    await query.answer()
    await close_buttons(query)
    event, text = EVENTS[type(button)](button)
    at = (
        dt.datetime.fromtimestamp(button.at, dt.UTC)
        if isinstance(button, cb.InviteSendAt)
        else None
    )
    await _move(update, context, person, event, text, at)
    if event in ENDS:
        await open_held_question(update, context, person)


async def on_flow_text(update: Update, context: BotContext, person: Person, text: str) -> None:
    """Typed answers in the flow: a time to send at, or a name, hope or line."""
    if person.awaiting != "invite_time":
        await _move(update, context, person, E.TEXT, text)
    elif (at := await typed_time(update, context, person, text)) is not None:
        await _move(update, context, person, E.AT, at=at)
