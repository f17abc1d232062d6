"""The initiator's questions, one function each: what the bot asks in each state of the
flow (`scheduler.invite_flow.State`)."""

from __future__ import annotations

from telegram import Update

from bot import callbacks as cb
from bot.context import BotContext
from bot.handlers.common import reply
from bot.handlers.invite.common import row
from bot.keyboards import buttons
from bot.render import format_local
from scheduler.invite_flow import Fired, calm_moments
from storage.models import Person


def _partner(fired: Fired) -> str | None:
    return fired.draft.choices.get("partner") if fired.draft is not None else None


async def ask_name(update: Update, context: BotContext, person: Person, fired: Fired) -> None:
    """The partner's name, with the one we know as a button."""
    partner = _partner(fired)
    markup = buttons([(partner, cb.InviteKeepPartnerName())]) if partner else None
    await reply(update, context, "invite/ask_name", person, markup=markup, partner=partner)


async def ask_hope(update: Update, context: BotContext, person: Person, _f: Fired) -> None:
    rows = [row(context, update, person, (f"hope_{h}", cb.InviteHope(h))) for h in cb.Hope]
    await reply(update, context, "invite/ask_hope", person, markup=buttons(*rows))


async def ask_own_hope(update: Update, context: BotContext, person: Person, _f: Fired) -> None:
    await reply(update, context, "invite/ask_own_hope", person)


async def ask_framing(update: Update, context: BotContext, person: Person, _f: Fired) -> None:
    rows = [row(context, update, person, (f"framing_{f}", cb.InviteFraming(f))) for f in cb.Framing]
    await reply(update, context, "invite/ask_framing", person, markup=buttons(*rows))


async def ask_offer(update: Update, context: BotContext, person: Person, _f: Fired) -> None:
    rows = [row(context, update, person, (f"offer_{o}", cb.InviteOffer(o))) for o in cb.Offer]
    await reply(update, context, "invite/ask_offer", person, markup=buttons(*rows))


async def ask_therapist(update: Update, context: BotContext, person: Person, _f: Fired) -> None:
    together = cb.InviteTherapist(cb.TherapistChoice.TOGETHER)
    named = cb.InviteTherapist(cb.TherapistChoice.NAMED)
    markup = buttons(
        row(context, update, person, ("therapist_together", together)),
        row(context, update, person, ("therapist_named", named)),
    )
    await reply(update, context, "invite/ask_therapist", person, markup=markup)


async def ask_therapist_name(
    update: Update, context: BotContext, person: Person, _f: Fired
) -> None:
    await reply(update, context, "invite/ask_therapist_name", person)


async def ask_line(update: Update, context: BotContext, person: Person, _f: Fired) -> None:
    add, skip = cb.InviteLine(cb.YesNo.YES), cb.InviteLine(cb.YesNo.NO)
    markup = buttons(row(context, update, person, ("line_add", add), ("line_skip", skip)))
    await reply(update, context, "invite/ask_line", person, markup=markup)


async def ask_line_text(update: Update, context: BotContext, person: Person, fired: Fired) -> None:
    """The own line, typed; a line written before can be removed with a button."""
    markup = None
    if fired.draft is not None and fired.draft.personal_line:
        remove = cb.InviteLine(cb.YesNo.NO)
        markup = buttons(row(context, update, person, ("invite_remove_line", remove)))
    await reply(update, context, "invite/ask_line_text", person, markup=markup)


async def ask_time(update: Update, context: BotContext, person: Person, _f: Fired) -> None:
    """A few calm moments as buttons, or a day and time typed."""
    zone = person.timezone or "UTC"
    rows = [
        [
            (
                format_local(c, zone, person.language, "weekday_time"),
                cb.InviteSendAt(int(c.timestamp())),
            )
        ]
        for c in calm_moments(context.services.clock(), zone)
    ]
    await reply(update, context, "invite/ask_time", person, markup=buttons(*rows), zone=zone)


async def edit_menu(update: Update, context: BotContext, person: Person, _f: Fired) -> None:
    """Which part to edit; every other choice is kept."""
    parts = (
        ("invite_edit_name", cb.EditPart.NAME),
        ("invite_edit_hope", cb.EditPart.HOPE),
        ("invite_edit_own_line", cb.EditPart.LINE),
        ("invite_edit_therapist", cb.EditPart.THERAPIST),
        ("invite_back_to_preview", cb.EditPart.BACK),
    )
    rows = [row(context, update, person, (key, cb.InviteEdit(part))) for key, part in parts]
    await reply(update, context, "invite/edit_menu", person, markup=buttons(*rows))
