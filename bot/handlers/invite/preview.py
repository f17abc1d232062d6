"""The preview: the invitation exactly as the partner will see it, the tone check on the
initiator's own words, and the controls to send, reword, edit or cancel."""

from __future__ import annotations

import hashlib

from telegram import Update

from bot import callbacks as cb
from bot.context import BotContext
from bot.handlers.common import load_person, locale_of, pressed, reply, send_to_chat
from bot.handlers.invite import questions
from bot.handlers.invite.common import CONFIRMED, EDITING, own_words, row, unseen_flags
from bot.invitation_text import answer_buttons, render_invitation
from bot.keyboards import buttons
from bot.tone import ToneFlag, check_tone
from storage import answers, invitations, people
from storage.models import Invitation, Person


async def preview(update: Update, context: BotContext, person: Person) -> None:
    """The invitation exactly as the partner will see it, then the initiator's controls.

    Flagged own words that the initiator has not confirmed replace the send buttons with
    "Edit my words" and "Send my words as they are": nothing flagged goes out unseen.
    """
    services = context.services
    draft = await services.db.run(invitations.draft_of, person.id)
    if draft is None or not invitations.ready(draft.choices):
        await reply(update, context, "errors/button_stale", person)
        return
    if draft.choices.get(EDITING):
        draft = await services.db.run(invitations.choose, person.id, **{EDITING: None}) or draft
    shown = invitations.Shown(
        None, draft.id, person.display_name, dict(draft.choices), draft.personal_line
    )
    partner = draft.choices.get("partner") or ""
    await reply(update, context, "invite/preview_intro", person, partner=partner)
    await send_to_chat(
        update,
        context,
        render_invitation(services.renderer, person.language, shown),
        answer_buttons(services.renderer, person.language, draft.id, preview=True),
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
    services = context.services
    paired = await services.db.run(people.partner_of, person.id) is not None
    calm = bool(draft.choices.get("calm"))
    words = own_words(draft.choices, draft.personal_line)
    confirmed = bool(words) and draft.choices.get(CONFIRMED) == words
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
    await reply(
        update,
        context,
        "invite/preview_controls",
        person,
        markup=markup,
        calm=calm,
        paired=paired,
        partner=draft.choices.get("partner") or "",
        confirmed=confirmed,
    )


def words_key(words: str) -> str:
    """A short fingerprint of the words a confirmation button was shown for."""
    return hashlib.sha256(words.encode()).hexdigest()[:12]


async def as_written(
    update: Update, context: BotContext, person: Person, draft: Invitation, key: str | None
) -> None:
    """ "Send my words as they are": ask once more (key None), then record the confirmation
    for exactly the words it was shown for."""
    words = own_words(draft.choices, draft.personal_line)
    flags = check_tone(words, person.language or "en") if words else []
    if not flags or (key is not None and key != words_key(words)):
        # Nothing flagged, or confirmed for words changed since: show the new ones.
        await preview(update, context, person)
    elif key is None:
        await _ask_to_confirm(update, context, person, draft, words, flags)
    else:
        db = context.services.db
        confirmed = await db.run(invitations.choose, person.id, **{CONFIRMED: words})
        if confirmed is None:
            await reply(update, context, "errors/button_stale", person)
        else:
            await controls(update, context, person, confirmed)


async def _ask_to_confirm(
    update: Update,
    context: BotContext,
    person: Person,
    draft: Invitation,
    words: str,
    flags: list[ToneFlag],
) -> None:
    confirm = cb.InviteConfirmWords(words_key(words))
    markup = buttons(
        row(context, update, person, ("invite_confirm_as_written", confirm)),
        row(context, update, person, ("invite_edit_words", cb.InviteEdit(cb.EditPart.MENU))),
    )
    partner = draft.choices.get("partner") or ""
    await reply(
        update, context, "invite/tone_confirm", person, flags=flags, partner=partner, markup=markup
    )


async def edit_menu(update: Update, context: BotContext, person: Person) -> None:
    """Which part to edit; every other choice is kept."""
    await context.services.db.run(answers.ask_typed, person.id, None)
    parts = (
        ("invite_edit_name", cb.EditPart.NAME),
        ("invite_edit_hope", cb.EditPart.HOPE),
        ("invite_edit_own_line", cb.EditPart.LINE),
        ("invite_edit_therapist", cb.EditPart.THERAPIST),
        ("invite_back_to_preview", cb.EditPart.BACK),
    )
    rows = [row(context, update, person, (key, cb.InviteEdit(part))) for key, part in parts]
    await reply(update, context, "invite/edit_menu", person, markup=buttons(*rows))


async def edit(
    update: Update, context: BotContext, person: Person, draft: Invitation, part: cb.EditPart
) -> None:
    """Edit one part the initiator wrote, keeping every other choice; then the preview."""
    db = context.services.db
    if part == cb.EditPart.BACK:
        await preview(update, context, person)
        return
    if part == cb.EditPart.MENU:
        await edit_menu(update, context, person)
        return
    await db.run(invitations.choose, person.id, **{EDITING: True})
    if part == cb.EditPart.NAME:
        await questions.ask_name(update, context, person, draft.choices.get("partner"))
    elif part == cb.EditPart.HOPE:
        await questions.ask_hope(update, context, person)
    elif part == cb.EditPart.LINE:
        await db.run(answers.ask_typed, person.id, "invite_line")
        markup = None
        if draft.personal_line:
            remove = cb.InviteLine(cb.YesNo.NO)
            markup = buttons(row(context, update, person, ("invite_remove_line", remove)))
        await reply(update, context, "invite/ask_line_text", person, markup=markup)
    else:
        await db.run(answers.ask_typed, person.id, None)
        await questions.ask_therapist(update, context, person)


async def on_preview_button(update: Update, context: BotContext, _button: cb.PreviewAnswer) -> None:
    """The answer buttons on a preview only explain that nothing was sent."""
    person = await load_person(update, context)
    text = context.services.renderer.render(
        "invite/preview_button", locale_of(update, context, person)
    )
    await pressed(update).answer(text)
