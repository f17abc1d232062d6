"""The partner's side: the invitation opened by link, and its answer buttons.

Three answers, equally easy: yes, tell me more (the worries people often have, each a
button), not now (honoured with a pause; "don't ask me again" holds for good).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from telegram import InlineKeyboardMarkup, Update

from bot import callbacks as cb
from bot.context import BotContext
from bot.handlers.common import (
    close_buttons,
    load_person,
    locale_of,
    open_link,
    pressed,
    reply,
    send_to_chat,
    tell,
)
from bot.invitation_text import answer_buttons, render_invitation
from bot.keyboards import buttons
from bot.render import format_local
from storage import invitations
from storage.models import Person

log = logging.getLogger(__name__)


async def open_invitation_link(
    update: Update, context: BotContext, person: Person | None, payload: str
) -> bool:
    """Deep link `i_<token>`: show the invitation to whoever opens it first, no sign-up."""
    shown = await open_link(
        update, context, person, payload, invitations.open_link, "invite/link_problem"
    )
    if shown is None:
        return True
    lang = locale_of(update, context, person)
    renderer = context.services.renderer
    text = render_invitation(renderer, lang, shown)
    await send_to_chat(update, context, text, answer_buttons(renderer, lang, shown.invitation_id))
    partner = shown.choices.get("partner") or ""
    await tell(
        context,
        shown.initiator_chat_id,
        shown.initiator_language,
        "invite/partner_opened",
        partner=partner,
    )
    return True


def _fears_markup(context: BotContext, lang: str, invitation_id: int) -> InlineKeyboardMarkup:
    label = context.services.renderer.label
    rows: list[list[tuple[str, cb.Button]]] = [
        [(label(f"fear_{f}", lang), cb.ReadFear(invitation_id, f))] for f in cb.Fear
    ]
    for key, answer in (
        ("invite_remind", cb.InvitationAnswer.REMIND),
        ("invite_yes", cb.InvitationAnswer.YES),
        ("invite_not_now", cb.InvitationAnswer.NOT_NOW),
    ):
        rows.append([(label(key, lang), cb.AnswerInvitation(invitation_id, answer))])
    return buttons(*rows)


async def _theirs(update: Update, context: BotContext) -> tuple[Person | None, str] | None:
    """(person, language) if the press came from the chat the invitation was shown in."""
    query = pressed(update)
    person = await load_person(update, context)
    lang = locale_of(update, context, person)
    message = query.message
    if message is None or message.chat.id != query.from_user.id:
        text = context.services.renderer.render("invite/answer_ack", lang, result="not_yours")
        await query.answer(text)
        return None
    return person, lang


async def on_fear_button(update: Update, context: BotContext, button: cb.ReadFear) -> None:
    """One worry, answered plainly, with the answers still at hand."""
    theirs = await _theirs(update, context)
    if theirs is None:
        return
    person, lang = theirs
    await pressed(update).answer()
    markup = _fears_markup(context, lang, button.invitation_id)
    await reply(update, context, f"invite/fear_{button.fear}", person, markup=markup)


async def on_answer_button(
    update: Update, context: BotContext, button: cb.AnswerInvitation
) -> None:
    """The partner's answer: recorded once (`invitations.answer`), then said back kindly."""
    theirs = await _theirs(update, context)
    if theirs is None:
        return
    person, lang = theirs
    query, services = pressed(update), context.services
    user = query.from_user
    answered = await services.db.run(
        invitations.answer, button.invitation_id, user.id, user.id, button.answer, services.clock()
    )
    if answered.result in ("already", "not_yours", "gone") or answered.shown is None:
        text = services.renderer.render("invite/answer_ack", lang, result=answered.result)
        await query.answer(text)
        return
    await query.answer()
    if answered.result != "more":
        await close_buttons(query)
    said = Said(person, lang, button.invitation_id, answered, answered.shown)
    await ANSWERED[answered.result](update, context, said)


@dataclass(frozen=True)
class Said:
    """A partner's answer as recorded, with what saying it back needs."""

    person: Person | None
    lang: str
    invitation_id: int
    answered: invitations.Answered
    shown: invitations.Shown


def _values(shown: invitations.Shown) -> dict[str, Any]:
    return {
        "initiator": shown.initiator_name,
        "partner": shown.choices.get("partner") or "",
        "offer": shown.choices.get("offer"),
        "therapist": shown.choices.get("therapist"),
    }


async def _more(update: Update, context: BotContext, said: Said) -> None:
    markup = _fears_markup(context, said.lang, said.invitation_id)
    values = _values(said.shown)
    await reply(update, context, "invite/more", said.person, markup=markup, **values)


async def _remind(update: Update, context: BotContext, said: Said) -> None:
    remind_on, person = said.answered.remind_on, said.person
    if remind_on is None:
        return
    zone = (person.timezone if person else None) or "UTC"
    when = format_local(remind_on, zone, said.lang, "day")
    await reply(update, context, "invite/reminder_set", person, when=when)


async def _yes(update: Update, context: BotContext, said: Said) -> None:
    shown = said.shown
    await reply(update, context, "invite/yes_partner", said.person, **_values(shown))
    chat, lang = shown.initiator_chat_id, shown.initiator_language
    await tell(context, chat, lang, "invite/yes_initiator", **_values(shown))
    log.info("invitation answered: yes")


async def _not_now(update: Update, context: BotContext, said: Said) -> None:
    label = context.services.renderer.label("invite_never", said.lang)
    never = cb.AnswerInvitation(said.invitation_id, cb.InvitationAnswer.NEVER)
    markup = buttons([(label, never)])
    values = _values(said.shown)
    await reply(update, context, "invite/not_now_partner", said.person, markup=markup, **values)
    await _tell_initiator_not_now(context, said.shown)


async def _never(update: Update, context: BotContext, said: Said) -> None:
    await reply(update, context, "invite/never_partner", said.person)
    if said.answered.tell_initiator:
        await _tell_initiator_not_now(context, said.shown)


ANSWERED: dict[str, Callable[[Update, BotContext, Said], Awaitable[None]]] = {
    "more": _more,
    "remind": _remind,
    "yes": _yes,
    "not_now": _not_now,
    "never": _never,
}


async def _tell_initiator_not_now(context: BotContext, shown: invitations.Shown) -> None:
    """The initiator hears "not now" with the day a new invitation is possible, and the path."""
    if shown.initiator_chat_id is None:
        return
    services = context.services
    possible = services.clock() + dt.timedelta(days=services.settings.invite_cooldown_days)
    lang = shown.initiator_language
    markup = buttons([(services.renderer.label("path_start", lang), cb.StartPath())])
    await tell(
        context,
        shown.initiator_chat_id,
        lang,
        "invite/not_now_initiator",
        markup=markup,
        partner=shown.choices.get("partner") or "",
        possible_from=format_local(possible, shown.initiator_zone or "UTC", lang, "day"),
    )
    log.info("invitation answered: not now")
