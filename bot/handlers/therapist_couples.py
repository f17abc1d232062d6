"""How a therapist names and chooses a couple in the bot, and how they end a link.

A couple is named by the code its therapist gave it on the dashboard, or "Couple 7" (its
number, in the reader's language) until they do; partners' names are added only where
both partners agreed to the link. Commands take that name ("/wording MJ-04 ...") or offer
the couples as buttons; a bare number is never taken for a couple.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence

from telegram import InlineKeyboardMarkup, Update
from telegram.error import TelegramError

from bot.callbacks import Button, CodeFor, EndLink, EndLinkStep, WithdrawClientLink
from bot.context import BotContext
from bot.handlers.common import answer_stale, close_buttons, locale_of, pressed, reply, tell
from bot.keyboards import buttons
from bot.menus import set_therapist_menu
from bot.render import Renderer
from scheduler import therapist_flows, therapy
from storage import practice, therapists
from storage.models import Therapist

log = logging.getLogger(__name__)

# Far more than a code may hold (24): enough for the check to say why it is too long.
MAX_CODE_TYPED = 100


def couple_name(renderer: Renderer, locale: str | None, couple_id: int, code: str | None) -> str:
    """The couple as the therapist knows it: their code, else "Couple N" (plain text)."""
    return code or renderer.label("couple_default", locale, number=couple_id)


def match_couple(
    text: str, cards: Sequence[therapy.CoupleCard], renderer: Renderer
) -> tuple[therapy.CoupleCard, str] | None:
    """The couple `text` starts with (by code, or "Couple N" in any language we speak),
    and the rest of the text; None if it names none of these couples.

    Codes may hold spaces, so the longest name that matches wins; a code the therapist
    set wins over a default name that reads the same.
    """
    folded = text.strip().casefold()
    names: list[tuple[int, int, str, therapy.CoupleCard]] = []
    for card in cards:
        if card.client_code:
            names.append((len(card.client_code), 1, card.client_code.casefold(), card))
        for locale in renderer.locales():
            default = couple_name(renderer, locale, card.couple_id, None).casefold()
            names.append((len(default), 0, default, card))
    for _, _, name, card in sorted(names, key=lambda n: (n[0], n[1]), reverse=True):
        if folded == name or (folded.startswith(name) and folded[len(name)].isspace()):
            return card, text.strip()[len(name) :].strip()
    return None


def named_buttons(
    renderer: Renderer,
    locale: str,
    cards: Sequence[therapy.CoupleCard],
    make: Callable[[therapy.CoupleCard], Button],
) -> InlineKeyboardMarkup | None:
    """One button per couple, labelled with its name (None when there are none)."""
    if not cards:
        return None
    return buttons(
        *[[(couple_name(renderer, locale, c.couple_id, c.client_code), make(c))] for c in cards]
    )


async def active_therapist(update: Update, context: BotContext) -> Therapist | None:
    """The therapist behind this update; else say it is for therapists, and take a
    revoked therapist's own menu away."""
    user = update.effective_user
    if user is None:
        return None
    services = context.services
    found = await services.db.run(therapists.active, user.id)
    if found is None:
        await reply(update, context, "therapist/not_therapist")
        chat = await services.db.run(therapists.menu_chat, user.id)
        if chat is not None and not chat.therapist:
            await set_therapist_menu(context.bot, services.renderer, chat)
    return found


async def pressed_couple(
    update: Update, context: BotContext, couple_id: int
) -> therapy.CoupleCard | None:
    """The presser's own couple behind a button (answered), or None (answered as stale)."""
    chosen = await pressed_choice(update, context, couple_id)
    return None if chosen is None else chosen.card


async def pressed_choice(
    update: Update, context: BotContext, couple_id: int
) -> therapist_flows.Chosen | None:
    """`pressed_couple`, with the therapist who pressed."""
    query, services = pressed(update), context.services
    chosen = await services.db.run(
        therapist_flows.chosen_couple, query.from_user.id, couple_id, services.clock()
    )
    if chosen is None:
        await answer_stale(query, context)
        return None
    await query.answer()
    return chosen


# --- /code ---------------------------------------------------------------------------------


async def code_command(update: Update, context: BotContext) -> None:
    """/code COUPLE NEW: a couple gets the therapist's own code (`off` clears it); without
    a couple it names, the couples are offered as buttons (never taken by a bare number)."""
    therapist = await active_therapist(update, context)
    if therapist is None:
        return
    services = context.services
    renderer, locale = services.renderer, locale_of(update, context)
    cards = await services.db.run(therapy.couples_of, therapist.id, services.clock())
    given = " ".join(context.args or [])
    found = match_couple(given, cards, renderer) if given else None
    if found is None:
        markup = named_buttons(renderer, locale, cards, lambda c: CodeFor(c.couple_id))
        await reply(
            update,
            context,
            "therapist/code_usage",
            markup=markup,
            unknown=bool(given),
            any=bool(cards),
        )
        return
    await _set_code(update, context, therapist.id, *found)


async def _set_code(
    update: Update, context: BotContext, therapist_id: int, card: therapy.CoupleCard, wanted: str
) -> None:
    """Checked as the dashboard's code form checks it (`storage.practice.set_client_code`)."""
    renderer, locale = context.services.renderer, locale_of(update, context)
    old = couple_name(renderer, locale, card.couple_id, card.client_code)
    default = couple_name(renderer, locale, card.couple_id, None)
    if not wanted:
        await reply(update, context, "therapist/code_how", couple=old, default=default)
        return
    new = "" if wanted.casefold() == "off" else wanted
    try:
        code = await context.services.db.run(
            practice.set_client_code, therapist_id, card.couple_id, new[:MAX_CODE_TYPED]
        )
    except therapists.TherapistError as exc:
        known = exc.reason in ("code_format", "code_taken")
        template = "therapist/code_refused" if known else "therapist/not_your_couple"
        await reply(update, context, template, reason=exc.reason, code=new, couple=old)
        return
    log.info("a therapist set a client code")
    await reply(update, context, "therapist/code_saved", old=old, code=code or "", default=default)


async def on_code_button(update: Update, context: BotContext, button: CodeFor) -> None:
    """A couple chosen for /code: show the exact command for it, with its name."""
    card = await pressed_couple(update, context, button.couple_id)
    if card is None:
        return
    renderer, locale = context.services.renderer, locale_of(update, context)
    await reply(
        update,
        context,
        "therapist/code_how",
        couple=couple_name(renderer, locale, card.couple_id, card.client_code),
        default=couple_name(renderer, locale, card.couple_id, None),
    )


# --- /endlink ------------------------------------------------------------------------------


async def endlink_command(update: Update, context: BotContext) -> None:
    """/endlink [COUPLE]: choose a couple (buttons, or its code), then confirm."""
    therapist = await active_therapist(update, context)
    if therapist is None:
        return
    services = context.services
    cards = await services.db.run(therapy.couples_of, therapist.id, services.clock())
    renderer, locale = services.renderer, locale_of(update, context)
    given = " ".join(context.args or [])
    if given:
        found = match_couple(given, cards, renderer)
        if found is not None:
            await _ask_to_confirm(update, context, found[0])
            return
    markup = named_buttons(
        renderer, locale, cards, lambda c: EndLink(c.couple_id, EndLinkStep.CHOSEN)
    )
    await reply(
        update,
        context,
        "therapist/endlink_choose",
        markup=markup,
        unknown=bool(given),
        any=bool(cards),
    )


async def _ask_to_confirm(update: Update, context: BotContext, card: therapy.CoupleCard) -> None:
    locale = locale_of(update, context)
    label = context.services.renderer.label
    markup = buttons(
        [
            (label("endlink_yes", locale), EndLink(card.couple_id, EndLinkStep.END)),
            (label("endlink_no", locale), EndLink(card.couple_id, EndLinkStep.KEEP)),
        ]
    )
    await reply(update, context, "therapist/endlink_confirm", markup=markup, card=card)


async def on_endlink_button(update: Update, context: BotContext, button: EndLink) -> None:
    """A couple chosen, or the end confirmed or called off; only for this therapist's couples."""
    chosen = await pressed_choice(update, context, button.couple_id)
    if chosen is not None:
        await ENDLINK_STEPS[button.step](update, context, chosen)


async def _chosen_to_end(
    update: Update, context: BotContext, chosen: therapist_flows.Chosen
) -> None:
    await _ask_to_confirm(update, context, chosen.card)


async def _kept(update: Update, context: BotContext, chosen: therapist_flows.Chosen) -> None:
    await close_buttons(pressed(update))
    await reply(update, context, "therapist/endlink_kept", couple=_name(update, context, chosen))


async def _end(update: Update, context: BotContext, chosen: therapist_flows.Chosen) -> None:
    """End the link, tell both partners (as far as they can be reached), then the therapist."""
    await close_buttons(pressed(update))
    services, name = context.services, _name(update, context, chosen)
    try:
        ended = await services.db.run(
            therapists.discharge, chosen.therapist_id, chosen.card.couple_id, services.clock()
        )
    except therapists.TherapistError:
        await reply(update, context, "therapist/not_your_couple", couple=name)
        return
    log.info("a therapist ended a link")
    told = await _tell_partners_ended(context, ended)
    missed = len(ended.partners) - told
    await reply(update, context, "therapist/endlink_done", couple=name, told=told, missed=missed)


async def _tell_partners_ended(context: BotContext, ended: therapists.Discharged) -> int:
    """Tell each partner their therapist ended the link; returns how many were told."""
    told = 0
    for partner in ended.partners:
        try:
            await tell(
                context,
                partner.chat_id,
                partner.language,
                "therapist/ended_by_therapist",
                therapist=ended.therapist_name,
            )
            told += 1
        except TelegramError as exc:
            # The link has ended either way; a partner who cannot be reached (blocked
            # the bot) must not stop the other from being told.
            log.warning("a partner could not be told a link ended (%s)", type(exc).__name__)
    return told


def _name(update: Update, context: BotContext, chosen: therapist_flows.Chosen) -> str:
    card = chosen.card
    return couple_name(
        context.services.renderer, locale_of(update, context), card.couple_id, card.client_code
    )


# /endlink's buttons: each step and what it does (the couple is checked first, above).
ENDLINK_STEPS: dict[
    EndLinkStep, Callable[[Update, BotContext, therapist_flows.Chosen], Awaitable[None]]
] = {
    EndLinkStep.CHOSEN: _chosen_to_end,
    EndLinkStep.KEEP: _kept,
    EndLinkStep.END: _end,
}


# --- client links not used yet -------------------------------------------------------------


async def on_withdraw_link_button(
    update: Update, context: BotContext, button: WithdrawClientLink
) -> None:
    """Make one of the therapist's unused client links stop working."""
    query, services = pressed(update), context.services
    therapist = await services.db.run(therapists.active, query.from_user.id)
    try:
        if therapist is None:
            raise therapists.TherapistError("not_found")
        await services.db.run(
            therapists.withdraw_client_link, therapist.id, button.token_id, services.clock()
        )
    except therapists.TherapistError:
        await answer_stale(query, context)
        return
    await query.answer()
    await reply(update, context, "therapist/link_withdrawn")
