"""The initiator's flow: /invite, then one small step per button kind (the table `STEPS`),
and the typed answers (partner's name, own hope, therapist, own line, a time)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update

from bot import callbacks as cb
from bot.context import BotContext
from bot.handlers.common import close_buttons, for_people, pressed, pressed_by_person, reply
from bot.handlers.couple import open_held_question
from bot.handlers.invite import questions
from bot.handlers.invite.common import CALM_TIPS, EDITING, cooldown, row, unseen_flags
from bot.handlers.invite.path import start_path
from bot.handlers.invite.preview import as_written, edit, preview
from bot.handlers.invite.sending import send, typed_time
from bot.keyboards import buttons
from bot.render import format_local
from storage import answers, invitations
from storage.models import Invitation, Person


@for_people()
async def invite_command(update: Update, context: BotContext, person: Person) -> None:
    """/invite: show an open invitation's state, explain a pause, or start gently."""
    services = context.services
    if context.args and context.args[0].lower() == "cancel":
        cancelled = await services.db.run(invitations.cancel, person.id)
        await reply(update, context, "invite/cancelled", person, cancelled=cancelled)
        return
    gate = await services.db.run(invitations.gate, person.id, services.clock(), cooldown(context))
    if gate.result == "open" and gate.invitation is not None:
        await _status(update, context, person, gate.invitation)
        return
    path = buttons(row(context, update, person, ("path_start", cb.StartPath())))
    zone = person.timezone or "UTC"
    if gate.result == "cooldown" and gate.possible_from is not None:
        possible_from = format_local(gate.possible_from, zone, person.language, "day")
        await reply(
            update, context, "invite/cooldown", person, markup=path, possible_from=possible_from
        )
    elif gate.result == "opted_out":
        await reply(update, context, "invite/opted_out", person, markup=path)
    else:
        latest = await services.db.run(invitations.status_of, person.id)
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
    zone = person.timezone or "UTC"
    when = (
        format_local(invitation.send_at, zone, person.language, "day_time")
        if invitation.send_at
        else ""
    )
    partner = invitation.choices.get("partner") or ""
    await reply(
        update,
        context,
        "invite/status",
        person,
        markup=markup,
        invitation=invitation,
        partner=partner,
        when=when,
    )


# --- the steps: one small function per button kind --------------------------------------------


async def _path(update: Update, context: BotContext, person: Person, _b: cb.StartPath) -> None:
    await start_path(update, context, person)


async def _calm(update: Update, context: BotContext, person: Person, b: cb.InviteCalm) -> None:
    if b.answer == cb.YesNo.YES:
        await questions.begin(update, context, person, calm=True)
        return
    renderer = context.services.renderer
    tips = [renderer.render(name, person.language, name=person.display_name) for name in CALM_TIPS]
    markup = buttons(
        row(context, update, person, ("invite_prepare", cb.InvitePrepare(cb.YesNo.YES))),
        row(context, update, person, ("invite_not_today", cb.InvitePrepare(cb.YesNo.NO))),
    )
    await reply(update, context, "invite/not_calm", person, tips=tips, markup=markup)


async def _prepare(
    update: Update, context: BotContext, person: Person, b: cb.InvitePrepare
) -> None:
    if b.answer == cb.YesNo.YES:
        await questions.begin(update, context, person, calm=False)
    else:
        await reply(update, context, "invite/not_today", person)


async def _cancel(update: Update, context: BotContext, person: Person, _b: cb.InviteCancel) -> None:
    db = context.services.db
    cancelled = await db.run(invitations.cancel, person.id)
    await db.run(answers.ask_typed, person.id, None)
    await reply(update, context, "invite/cancelled", person, cancelled=cancelled)


# Steps on a draft: they get it loaded (a press after it is gone says "expired").


async def _edit(update: Update, context: BotContext, p: Person, d: Invitation, b: Any) -> None:
    await edit(update, context, p, d, b.part)


async def _as_written(
    update: Update, context: BotContext, p: Person, d: Invitation, b: Any
) -> None:
    key = b.words if isinstance(b, cb.InviteConfirmWords) else None
    await as_written(update, context, p, d, key)


async def _partner_name(
    update: Update, context: BotContext, p: Person, d: Invitation, _b: Any
) -> None:
    await _next(update, context, p, d, questions.ask_hope)


async def _hope(update: Update, context: BotContext, p: Person, d: Invitation, b: Any) -> None:
    db = context.services.db
    if b.hope == cb.Hope.OWN:
        await db.run(answers.ask_typed, p.id, "invite_hope")
        await reply(update, context, "invite/ask_own_hope", p)
        return
    await db.run(invitations.choose, p.id, hope=str(b.hope), own_hope=None)
    await _next(update, context, p, d, questions.ask_framing)


async def _framing(update: Update, context: BotContext, p: Person, d: Invitation, b: Any) -> None:
    await context.services.db.run(invitations.choose, p.id, framing=str(b.framing))
    await questions.ask_offer(update, context, p)


async def _offer(update: Update, context: BotContext, p: Person, d: Invitation, b: Any) -> None:
    await context.services.db.run(invitations.choose, p.id, offer=str(b.offer))
    await questions.ask_therapist(update, context, p)


async def _therapist(update: Update, context: BotContext, p: Person, d: Invitation, b: Any) -> None:
    db = context.services.db
    if b.choice == cb.TherapistChoice.NAMED:
        await db.run(answers.ask_typed, p.id, "invite_therapist")
        await reply(update, context, "invite/ask_therapist_name", p)
        return
    await db.run(invitations.choose, p.id, therapist=None)
    await _next(update, context, p, d, questions.ask_line)


async def _line(update: Update, context: BotContext, p: Person, d: Invitation, b: Any) -> None:
    db = context.services.db
    if b.answer == cb.YesNo.YES:
        await db.run(answers.ask_typed, p.id, "invite_line")
        await reply(update, context, "invite/ask_line_text", p)
        return
    await db.run(invitations.choose, p.id, line=None)
    await preview(update, context, p)


async def _other_wording(
    update: Update, context: BotContext, p: Person, d: Invitation, _b: Any
) -> None:
    await context.services.db.run(invitations.next_variant, p.id)
    await preview(update, context, p)


async def _send(update: Update, context: BotContext, p: Person, d: Invitation, b: Any) -> None:
    if unseen_flags(d, p.language):
        # A send button from before an edit: the new words are shown and checked first.
        await preview(update, context, p)
    elif isinstance(b, cb.InviteSendAt):
        await send(update, context, p, dt.datetime.fromtimestamp(b.at, dt.UTC))
    elif b.when == cb.SendWhen.NOW and d.choices.get("calm"):
        await send(update, context, p, context.services.clock())
    else:
        await questions.ask_time(update, context, p)


async def _next(
    update: Update,
    context: BotContext,
    person: Person,
    draft: Invitation,
    question: Callable[[Update, BotContext, Person], Awaitable[None]],
) -> None:
    """The next question, or back to the preview when a part was being edited."""
    if draft.choices.get(EDITING):
        await preview(update, context, person)
    else:
        await question(update, context, person)


Step = Callable[[Update, BotContext, Person, Any], Awaitable[None]]
DraftStep = Callable[[Update, BotContext, Person, Invitation, Any], Awaitable[None]]

STEPS: dict[type[cb.Button], Step] = {
    cb.StartPath: _path,
    cb.InviteCalm: _calm,
    cb.InvitePrepare: _prepare,
    cb.InviteCancel: _cancel,
}
DRAFT_STEPS: dict[type[cb.Button], DraftStep] = {
    cb.InviteEdit: _edit,
    cb.InviteAsWritten: _as_written,
    cb.InviteConfirmWords: _as_written,
    cb.InviteKeepPartnerName: _partner_name,
    cb.InviteHope: _hope,
    cb.InviteFraming: _framing,
    cb.InviteOffer: _offer,
    cb.InviteTherapist: _therapist,
    cb.InviteLine: _line,
    cb.InviteOtherWording: _other_wording,
    cb.InviteSend: _send,
    cb.InviteSendAt: _send,
}
FLOW_BUTTONS = (*STEPS, *DRAFT_STEPS)
# Buttons after which the flow asks nothing more by typing.
FLOW_ENDS = (cb.InviteCancel, cb.InviteSend, cb.InviteSendAt)


async def on_flow_button(update: Update, context: BotContext, button: cb.Button) -> None:
    """Every button of the initiator's flow: the step its kind names."""
    person = await pressed_by_person(update, context)
    if person is None:
        return
    query = pressed(update)
    await query.answer()
    await close_buttons(query)
    await _step(update, context, person, button)
    if isinstance(button, FLOW_ENDS):
        # A prompt that arrived during the flow asks its own question now.
        await open_held_question(update, context, person)


async def _step(update: Update, context: BotContext, person: Person, button: cb.Button) -> None:
    step = STEPS.get(type(button))
    if step is not None:
        await step(update, context, person, button)
        return
    draft = await context.services.db.run(invitations.draft_of, person.id)
    if draft is None:
        await reply(update, context, "errors/button_stale", person)
        return
    await DRAFT_STEPS[type(button)](update, context, person, draft, button)


# --- typed answers ------------------------------------------------------------------------------

TYPED = {
    "invite_name": "partner",
    "invite_hope": "own_hope",
    "invite_therapist": "therapist",
    "invite_line": "line",
}
AFTER_TYPED: dict[str, Callable[[Update, BotContext, Person], Awaitable[None]]] = {
    "partner": questions.ask_hope,
    "own_hope": questions.ask_framing,
    "therapist": questions.ask_line,
    "line": preview,
}


async def on_flow_text(update: Update, context: BotContext, person: Person, text: str) -> None:
    """Typed answers in the flow: the partner's name, own hope, therapist, own line, time."""
    if person.awaiting == "invite_time":
        await typed_time(update, context, person, text)
        return
    key = TYPED.get(person.awaiting or "")
    if key is None:
        await reply(update, context, "errors/no_question_open", person)
        return
    cleaned = invitations.clean_text(key, text)
    if not cleaned.strip():
        # Only spaces or invisible characters: ask again, the question stays open.
        await reply(update, context, "invite/empty_answer", person, step=key)
        return
    limit = invitations.MAX_TEXT[key]
    if len(" ".join(cleaned.split())) > limit:
        # Asked to shorten rather than cut: nothing they wrote is silently lost.
        await reply(update, context, "invite/too_long", person, limit=limit)
        return
    db = context.services.db
    extra = {"hope": "own"} if key == "own_hope" else {}
    draft = await db.run(invitations.choose, person.id, **{key: text}, **extra)
    await db.run(answers.ask_typed, person.id, None)
    if draft is None:
        await reply(update, context, "errors/button_stale", person)
        return
    await _next(update, context, person, draft, AFTER_TYPED[key])
