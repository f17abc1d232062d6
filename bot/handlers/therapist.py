"""Therapists in the bot: registering, client links each partner agrees to, and /clients.

A therapist reaches a couple only through a link both partners chose; what they see is
names, zones, schedules and counts. Every change is confirmed to the therapist with the
next fire times, and the partners are told what was set (they keep the last word).
"""

from __future__ import annotations

import html
import logging
from typing import Any

from markupsafe import Markup
from telegram import Bot, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError

from bot import prompt_sandbox
from bot.callbacks import (
    ChangeCouple,
    CouplePreset,
    OpenCouple,
    TherapistLinkAnswer,
    WithdrawClientLink,
    WordingFor,
    YesNo,
)
from bot.context import BotContext, Services
from bot.handlers import account
from bot.handlers.common import (
    acknowledged,
    answer_stale,
    for_people,
    label,
    load_person,
    locale_of,
    open_link,
    pressed,
    reply,
    tell,
    token_of,
)
from bot.handlers.onboarding import ask_consent
from bot.handlers.therapist_couples import (
    active_therapist,
    couple_name,
    match_couple,
    named_buttons,
)
from bot.handlers.therapist_couples import code_command as code_command
from bot.handlers.therapist_couples import endlink_command as endlink_command
from bot.handlers.therapist_couples import on_code_button as on_code_button
from bot.handlers.therapist_couples import pressed_couple as _pressed_couple
from bot.keyboards import buttons
from bot.menus import set_therapist_menu
from bot.render import Renderer
from bot.wording import SandboxChecks
from dashboard import login_url
from scheduler import therapist_flows, therapy, wording
from scheduler.wording import ToneNote, WordingRefused
from storage import notices, therapists
from storage.models import (
    ENDED_BY_THERAPIST,
    LINK_ENDED,
    NIGHTLY_APPRECIATION,
    PHASE_STARTED,
    TIMING_TIP,
    WEEKLY_CHECKIN,
    Person,
    Therapist,
)

log = logging.getLogger(__name__)

PLANS: dict[str, list[dict[str, Any]]] = {
    "n": [],
    "a": [{"kind": NIGHTLY_APPRECIATION, "from_week": 1}],
    "g": [
        {"kind": NIGHTLY_APPRECIATION, "from_week": 1},
        {"kind": WEEKLY_CHECKIN, "from_week": 3},
        {"kind": TIMING_TIP, "from_week": 5},
    ],
}


# The variables a therapist's wording may use, as /wording's help lists them.
WORDING_VARIABLES = ", ".join(prompt_sandbox.VARIABLES)


async def _therapist(update: Update, context: BotContext) -> Therapist | None:
    return await active_therapist(update, context)


async def therapist_command(update: Update, context: BotContext) -> None:
    """/therapist CODE: register with the one-time code the operator printed."""
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        return
    if not context.args or len(context.args) != 1 or len(context.args[0]) > 64:
        await reply(update, context, "therapist/code_problem", problem="usage")
        return
    services = context.services
    try:
        therapist = await services.db.run(
            therapists.register, context.args[0], user.id, chat.id, services.clock()
        )
    except therapists.TherapistError as exc:
        await reply(update, context, "therapist/code_problem", problem=exc.reason)
        return
    log.info("therapist registered")
    await reply(update, context, "therapist/registered", name=therapist.name)
    # Their own `/` menu, in this chat only: partners' menus stay as they are.
    menu = await services.db.run(therapists.menu_chat, user.id)
    if menu is not None:
        await set_therapist_menu(context.bot, services.renderer, menu)


async def sync_menus(bot: Bot, services: Services) -> None:
    """At start-up: every therapist's chat gets its menu (a release may add commands),
    and a revoked therapist's goes."""
    for chat in await services.db.run(therapists.menu_chats):
        await set_therapist_menu(bot, services.renderer, chat)


async def help_command(update: Update, context: BotContext) -> None:
    """/help: a therapist's commands for a therapist, else what partners can do."""
    user = update.effective_user
    services = context.services
    found = await services.db.run(therapists.active, user.id) if user is not None else None
    if found is None:
        await account.help_command(update, context)
        return
    person = await load_person(update, context)
    await reply(update, context, "therapist/help", person, partner=person is not None)


async def client_link_command(update: Update, context: BotContext) -> None:
    """/clientlink: a link for one couple."""
    therapist = await _therapist(update, context)
    if therapist is None:
        return
    services = context.services
    raw = await services.db.run(therapists.client_link, therapist.id, services.clock())
    link = f"https://t.me/{services.bot_username}?start={therapists.LINK_PREFIX}_{raw}"
    await reply(update, context, "therapist/client_link", link=link)


async def clients_command(update: Update, context: BotContext) -> None:
    """/clients: linked couples, each a button; then the links no couple has used yet,
    each with a button to withdraw it."""
    therapist = await _therapist(update, context)
    if therapist is None:
        return
    services = context.services
    found = await services.db.run(therapist_flows.clients, therapist.id, services.clock())
    cards, waiting = found.couples, found.waiting
    # Each couple is known by one name everywhere: here, on its button, in /wording,
    # /endlink and any notice about it: the therapist's code, else "Couple N".
    markup = _couples_markup(update, context, cards)
    await reply(update, context, "therapist/clients", markup=markup, couples=cards)
    if waiting:
        rows = [
            [(label(context, update, "withdraw_link", number=i), WithdrawClientLink(o.token_id))]
            for i, o in enumerate(waiting, 1)
        ]
        await reply(update, context, "therapist/open_links", markup=buttons(*rows), links=waiting)


def _couples_markup(
    update: Update, context: BotContext, cards: list[therapy.CoupleCard]
) -> InlineKeyboardMarkup | None:
    """One button per couple, labelled as `therapist/couple_button` says (None: no couples)."""
    if not cards:
        return None
    renderer, locale = context.services.renderer, locale_of(update, context)
    return buttons(
        *[
            [(_plain(renderer.render("therapist/couple_button", locale, card=c)), _ref(c))]
            for c in cards
        ]
    )


def _plain(rendered: str) -> str:
    """A rendered template as button text (buttons show no HTML)."""
    return html.unescape(rendered)


def _ref(card: therapy.CoupleCard) -> OpenCouple:
    return OpenCouple(card.couple_id)


# What each /clients button changes: (configure changes, plan key).
PRESETS: dict[CouplePreset, tuple[dict[str, Any], str | None]] = {
    CouplePreset.NIGHTLY_2000: ({"nightly_time": "20:00"}, None),
    CouplePreset.NIGHTLY_2100: ({"nightly_time": "21:00"}, None),
    CouplePreset.NIGHTLY_2200: ({"nightly_time": "22:00"}, None),
    CouplePreset.CHECKIN_SUN_1900: ({"checkin_day": 6, "checkin_time": "19:00"}, None),
    CouplePreset.CHECKIN_WED_2000: ({"checkin_day": 2, "checkin_time": "20:00"}, None),
    CouplePreset.TIPS_OFF: ({"tips_per_week": 0}, None),
    CouplePreset.TIPS_1: ({"tips_per_week": 1}, None),
    CouplePreset.TIPS_2: ({"tips_per_week": 2}, None),
    CouplePreset.PLAN_NONE: ({}, "n"),
    CouplePreset.PLAN_APPRECIATION: ({}, "a"),
    CouplePreset.PLAN_GRADUAL: ({}, "g"),
    CouplePreset.RESUME: ({"paused": False}, None),
    CouplePreset.PAUSE: ({"paused": True}, None),
}


# The /clients keyboard, row by row; each label is `couple_<preset>` in labels.j2.
PRESET_ROWS = (
    (CouplePreset.NIGHTLY_2000, CouplePreset.NIGHTLY_2100, CouplePreset.NIGHTLY_2200),
    (CouplePreset.CHECKIN_SUN_1900, CouplePreset.CHECKIN_WED_2000),
    (CouplePreset.TIPS_OFF, CouplePreset.TIPS_1, CouplePreset.TIPS_2),
    (CouplePreset.PLAN_NONE, CouplePreset.PLAN_APPRECIATION, CouplePreset.PLAN_GRADUAL),
)


def _couple_markup(update: Update, context: BotContext, couple_id: int, paused: bool) -> Any:
    locale = locale_of(update, context)
    label = context.services.renderer.label
    pause = CouplePreset.RESUME if paused else CouplePreset.PAUSE
    return buttons(
        *[
            [
                (label(f"couple_{p.name.lower()}", locale), ChangeCouple(couple_id, p))
                for p in presets
            ]
            for presets in (*PRESET_ROWS, (pause,))
        ]
    )


async def on_couple_button(update: Update, context: BotContext, button: OpenCouple) -> None:
    """Open a couple: its schedule, plan and the buttons that change them."""
    card = await _pressed_couple(update, context, button.couple_id)
    if card is None:
        return
    await reply(
        update,
        context,
        "therapist/couple",
        card=card,
        markup=_couple_markup(update, context, card.couple_id, bool(card.config.get("paused"))),
    )


async def on_setting_button(update: Update, context: BotContext, button: ChangeCouple) -> None:
    """Apply one change, confirm it with the next times, and tell the partners."""
    query, services = pressed(update), context.services
    renderer = services.renderer
    therapist = await services.db.run(therapists.active, query.from_user.id)
    now = services.clock()
    couple_id = button.couple_id
    try:
        if therapist is None:
            raise therapists.TherapistError("not_linked")
        changes, plan = PRESETS[button.preset]
        if plan is not None:
            card = await services.db.run(
                therapy.set_plan, therapist.id, couple_id, PLANS[plan], now.date(), now
            )
        else:
            card = await services.db.run(therapy.configure, therapist.id, couple_id, changes, now)
    except (therapists.TherapistError, ValueError):
        await answer_stale(query, context)
        return
    await query.answer()
    preview = renderer.render("therapist/preview", locale_of(update, context), card=card)
    await reply(update, context, "therapist/changed", preview=preview, card=card)
    await send_notices(context.bot, services)


async def send_notices(bot: Bot, services: Services) -> int:
    """Send what is owed (`storage.notices`): one message per person; returns how many.

    A partner hears, in their language and zone, each practice their therapist started,
    changed or stopped for them, with its next time; a therapist hears which couple's
    link ended, by their code for it (or its number). Taken before sending, so each
    goes at most once.
    """
    owed = await services.db.run(notices.take_owed, services.clock())
    for item in owed:
        text = _notice_text(services.renderer, item)
        try:
            await bot.send_message(item.chat_id, text, parse_mode=ParseMode.HTML)
        except TelegramError as exc:
            log.warning("a notice could not be sent (%s)", type(exc).__name__)
    return len(owed)


def _notice_text(renderer: Renderer, item: notices.Owed) -> str:
    """One owed notice in its reader's language."""
    if item.topic == LINK_ENDED:
        names = [couple_name(renderer, item.language, c, item.codes.get(c)) for c in item.couples]
        return renderer.render("therapist/couple_ended", item.language, couples=names)
    if item.topic == ENDED_BY_THERAPIST:
        # Ended on the dashboard: the same words /endlink sends.
        return renderer.render(
            "therapist/ended_by_therapist", item.language, therapist=item.therapist_name
        )
    # A plan's new phase has its own words; a therapist's edit says what changed.
    template = (
        "therapist/phase_started" if item.topic == PHASE_STARTED else "therapist/schedule_changed"
    )
    return renderer.render(
        template,
        item.language,
        therapist=item.therapist_name,
        changes=item.changes,
        zone=item.zone,
    )


async def notices_job(context: BotContext) -> None:
    """The job queue's callback: send what is owed about changes made elsewhere
    (the dashboard, plan steps, a revoked account, an unpairing or an erasure)."""
    await send_notices(context.bot, context.services)


async def dashboard_command(update: Update, context: BotContext) -> None:
    """/dashboard: a one-time login link to the web dashboard, valid for minutes."""
    therapist = await _therapist(update, context)
    if therapist is None:
        return
    services = context.services
    settings = services.settings
    if not settings.dashboard_enabled:
        await reply(update, context, "therapist/dashboard_off")
        return
    user = update.effective_user
    language = user.language_code if user is not None else None
    await services.db.run(therapists.note_telegram_language, therapist.id, language)
    raw = await services.db.run(therapists.login_link, therapist.id, services.clock())
    link = login_url(settings.dashboard_public_url, raw)
    await reply(update, context, "therapist/dashboard_link", link=link)


# --- the partner's side --------------------------------------------------------------------


async def open_client_link(
    update: Update, context: BotContext, person: Person | None, payload: str
) -> bool:
    """Deep link `t_<token>`: show exactly what the therapist could do, then let them choose."""
    if person is None:
        await ask_consent(update, context, payload)
        return True
    offer = await open_link(
        update, context, person, payload, therapist_flows.look_at_link, "therapist/link_problem"
    )
    if offer is None:
        return True
    raw = token_of(payload)
    markup = buttons(
        [(label(context, update, "therapist_agree", person), TherapistLinkAnswer(YesNo.YES, raw))],
        [(label(context, update, "therapist_decline", person), TherapistLinkAnswer(YesNo.NO, raw))],
    )
    await reply(
        update, context, "therapist/offer", person, markup=markup, therapist=offer.therapist_name
    )
    return True


async def on_link_button(update: Update, context: BotContext, button: TherapistLinkAnswer) -> None:
    """A partner agrees to (or declines) their therapist's link."""
    person = await acknowledged(update, context)
    if person is None:
        return
    if button.answer != YesNo.YES:
        await reply(update, context, "therapist/declined", person)
        return
    services = context.services
    try:
        agreement = await services.db.run(
            therapist_flows.agree, button.token, person.id, services.clock()
        )
    except therapists.TherapistError as exc:
        await reply(update, context, "therapist/link_problem", person, problem=exc.reason)
        return
    await reply(update, context, "therapist/agreed", person, therapist=agreement.therapist_name)
    await _tell_therapist_agreed(context, agreement.agreed)
    log.info("therapist link agreed")
    await send_notices(context.bot, services)


async def _tell_therapist_agreed(context: BotContext, agreed: therapists.Agreed) -> None:
    """The therapist hears which partner of which couple agreed, and whether both have."""
    language = agreed.therapist_language
    await tell(
        context,
        agreed.therapist_chat_id,
        language,
        "therapist/partner_agreed",
        partner=agreed.partner_name,
        both=agreed.both,
        couple=couple_name(
            context.services.renderer, language, agreed.couple_id, agreed.client_code
        ),
    )


@for_people(allow_stopped=True)
async def therapist_off_command(update: Update, context: BotContext, person: Person) -> None:
    """/therapist_off: end the link for oneself; the therapist learns only that it ended."""
    services = context.services
    withdrawn = await services.db.run(therapists.withdraw, person.id, services.clock())
    await reply(update, context, "therapist/off", person, ended=bool(withdrawn.therapist_chat_ids))
    # The therapist learns which of their couples, by their own name for it; not which
    # partner, and nothing else.
    for ended in withdrawn.links:
        name = couple_name(services.renderer, None, ended.couple_id, ended.client_code)
        await tell(
            context,
            ended.therapist_chat_id,
            None,
            "therapist/link_ended",
            couple=name,
            whole=ended.link_ended,
        )


async def wording_command(update: Update, context: BotContext) -> None:
    """/wording COUPLE TEXT: the therapist's own nightly prompt, checked and previewed first.

    COUPLE is the couple's code (or "Couple N" until it has one); `/wording COUPLE off`
    goes back to the library's wording. Without a couple it names, the couples are
    offered as buttons; a bare number is never taken for a couple.
    """
    therapist = await _therapist(update, context)
    if therapist is None:
        return
    services = context.services
    message = update.effective_message
    parts = (message.text if message and message.text else "").split(maxsplit=1)
    given = parts[1] if len(parts) > 1 else ""
    cards = await services.db.run(therapy.couples_of, therapist.id, services.clock())
    found = match_couple(given, cards, services.renderer) if given.strip() else None
    if found is None or not found[1]:
        unknown = found is None and bool(given.strip())
        await _wording_usage(update, context, cards, unknown=unknown)
        return
    await _save_wording(update, context, therapist.id, *found)


async def _wording_usage(
    update: Update, context: BotContext, cards: list[therapy.CoupleCard], *, unknown: bool
) -> None:
    """How /wording is used, with a button per couple."""
    renderer = context.services.renderer
    markup = named_buttons(
        renderer, locale_of(update, context), cards, lambda c: WordingFor(c.couple_id)
    )
    await reply(
        update,
        context,
        "therapist/wording_usage",
        markup=markup,
        variables=WORDING_VARIABLES,
        unknown=unknown,
        any=bool(cards),
    )


async def _save_wording(
    update: Update, context: BotContext, therapist_id: int, card: therapy.CoupleCard, source: str
) -> None:
    """Check the wording (or `off`), save it, and show a sample of what partners will read."""
    off = source.strip().lower() == "off"
    checked = ("", ()) if off else await _checked_wording(update, context, source)
    if checked is None:
        return
    saved = await _store_wording(update, context, therapist_id, card, None if off else source)
    if saved is None:
        return
    sample, notes = checked
    # The sandbox's output is already escaped, validated Telegram HTML.
    sample_html = Markup(sample)  # noqa: S704 - sandbox output, escaped and validated
    await reply(
        update,
        context,
        "therapist/wording_saved",
        off=off,
        sample=sample_html,
        card=saved,
        notes=notes,
    )
    await send_notices(context.bot, context.services)


async def _checked_wording(
    update: Update, context: BotContext, source: str
) -> tuple[str, tuple[ToneNote, ...]] | None:
    """The sample and tone notes of a therapist's wording; None once why it was refused
    is told."""
    try:
        return _sample(context.services.renderer, source, locale_of(update, context))
    except (prompt_sandbox.PromptTemplateError, WordingRefused) as exc:
        await reply(update, context, "therapist/wording_refused", code=exc.code, params=exc.params)
        return None


async def _store_wording(
    update: Update,
    context: BotContext,
    therapist_id: int,
    card: therapy.CoupleCard,
    text: str | None,
) -> therapy.CoupleCard | None:
    """Save the wording (None: the library's); None once "not your couple" is told."""
    services = context.services
    try:
        return await services.db.run(
            wording.save, therapist_id, card.couple_id, NIGHTLY_APPRECIATION, text, services.clock()
        )
    except therapists.TherapistError:
        locale = locale_of(update, context)
        name = couple_name(services.renderer, locale, card.couple_id, card.client_code)
        await reply(update, context, "therapist/not_your_couple", couple=name)
        return None


def _sample(renderer: Renderer, source: str, locale: str) -> tuple[str, tuple[ToneNote, ...]]:
    """The wording as a partner would read it, and the tone check's notes; raises
    `PromptTemplateError` or `WordingRefused` when it cannot be used."""
    notes = SandboxChecks(renderer).check(source, [locale]).tone
    sample = prompt_sandbox.render(
        source, first_name="Sam", partner_first_name="Alex", weekday="Tuesday"
    )
    return sample, notes


async def on_wording_button(update: Update, context: BotContext, button: WordingFor) -> None:
    """A couple chosen for /wording: show the exact command for it, with its name."""
    card = await _pressed_couple(update, context, button.couple_id)
    if card is None:
        return
    name = couple_name(
        context.services.renderer, locale_of(update, context), card.couple_id, card.client_code
    )
    await reply(
        update,
        context,
        "therapist/wording_how",
        couple=name,
        variables=WORDING_VARIABLES,
    )
