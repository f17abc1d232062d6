"""The preview: the invitation exactly as the partner will see it, the tone check on the
initiator's own words, and the controls to send, reword, edit or cancel."""

from __future__ import annotations

from telegram import Update

from bot import callbacks as cb
from bot.context import BotContext
from bot.handlers.common import load_person, locale_of, pressed, reply, send_to_chat
from bot.handlers.invite.common import row, unseen_flags
from bot.invitation_text import answer_buttons, render_invitation
from bot.keyboards import buttons
from bot.tone import ToneFlag
from scheduler.invite_flow import CONFIRMED, Fired, own_words, words_key
from storage import invitations, people
from storage.models import Invitation, Person


async def preview(update: Update, context: BotContext, person: Person, fired: Fired) -> None:
    """The invitation exactly as the partner will see it, then the initiator's controls.

    Flagged own words that the initiator has not confirmed replace the send buttons with
    "Edit my words" and "Send my words as they are": nothing flagged goes out unseen.
    """
    draft, renderer = fired.draft, context.services.renderer
    if draft is None or not invitations.ready(draft.choices):
        await reply(update, context, "errors/button_stale", person)
        return
    shown = invitations.Shown(
        None, draft.id, person.display_name, dict(draft.choices), draft.personal_line
    )
    partner = draft.choices.get("partner") or ""
    await reply(update, context, "invite/preview_intro", person, partner=partner)
    text = render_invitation(renderer, person.language, shown)
    await send_to_chat(
        update, context, text, answer_buttons(renderer, person.language, draft.id, preview=True)
    )
    flags = unseen_flags(draft, person.language)
    if flags:
        await _flagged(update, context, person, flags)
    else:
        await controls(update, context, person, draft)


async def _flagged(
    update: Update, context: BotContext, person: Person, flags: list[ToneFlag]
) -> None:
    """Why the own words may land hard; edit them, or send them as written after a look."""
    markup = buttons(
        row(context, update, person, ("invite_edit_words", cb.InviteEdit(cb.EditPart.MENU))),
        row(context, update, person, ("invite_send_as_written", cb.InviteAsWritten())),
        row(context, update, person, ("invite_cancel", cb.InviteCancel())),
    )
    await reply(update, context, "invite/tone", person, flags=flags, markup=markup)


async def controls(update: Update, context: BotContext, person: Person, draft: Invitation) -> None:
    """How and when to send, another wording, editing any part, or cancelling."""
    paired = await context.services.db.run(people.partner_of, person.id) is not None
    calm = bool(draft.choices.get("calm"))
    words = own_words(draft.choices, draft.personal_line)
    now, later = cb.InviteSend(cb.SendWhen.NOW), cb.InviteSend(cb.SendWhen.LATER)
    send_row = [("invite_send_now", now)] if calm and paired else []
    send_row.append(("invite_send_later", later) if paired else ("invite_get_link", now))
    markup = buttons(
        row(context, update, person, *send_row),
        row(
            context,
            update,
            person,
            ("invite_other_wording", cb.InviteOtherWording()),
            ("invite_edit_words", cb.InviteEdit(cb.EditPart.MENU)),
        ),
        row(context, update, person, ("invite_cancel", cb.InviteCancel())),
    )
    partner = draft.choices.get("partner") or ""
    confirmed = bool(words) and draft.choices.get(CONFIRMED) == words
    values = {"calm": calm, "paired": paired, "partner": partner, "confirmed": confirmed}
    await reply(update, context, "invite/preview_controls", person, markup=markup, **values)


async def as_written(update: Update, context: BotContext, person: Person, fired: Fired) -> None:
    """ "Send my words as they are": ask once more, showing why (nothing flagged: the
    preview)."""
    draft = fired.draft
    flags = unseen_flags(draft, person.language) if draft is not None else []
    if draft is None or not flags:
        await preview(update, context, person, fired)
        return
    words = own_words(draft.choices, draft.personal_line)
    confirm = cb.InviteConfirmWords(words_key(words))
    markup = buttons(
        row(context, update, person, ("invite_confirm_as_written", confirm)),
        row(context, update, person, ("invite_edit_words", cb.InviteEdit(cb.EditPart.MENU))),
    )
    partner = draft.choices.get("partner") or ""
    await reply(
        update, context, "invite/tone_confirm", person, flags=flags, partner=partner, markup=markup
    )


async def confirmed(update: Update, context: BotContext, person: Person, fired: Fired) -> None:
    """After the confirmation: the controls; for words changed since, the new preview."""
    if fired.outcome.confirmed and fired.draft is not None:
        await controls(update, context, person, fired.draft)
    else:
        await preview(update, context, person, fired)


async def on_preview_button(update: Update, context: BotContext, _button: cb.PreviewAnswer) -> None:
    """The answer buttons on a preview only explain that nothing was sent."""
    person = await load_person(update, context)
    text = context.services.renderer.render(
        "invite/preview_button", locale_of(update, context, person)
    )
    await pressed(update).answer(text)
