"""A person's control over their own record: see it, pause, stop, export, erase."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
from typing import Any

from telegram import Update
from telegram.constants import ParseMode

from bot.callbacks import ChooseLanguage, DeleteAccount, YesNo, fits
from bot.context import BotContext
from bot.handlers.common import (
    answer_stale,
    close_buttons,
    for_people,
    label,
    locale_of,
    pressed,
    pressed_by_person,
    reply,
    tell,
)
from bot.keyboards import buttons
from bot.render import format_local, language_name
from scheduler.schedules import view
from storage import invitations, people
from storage.models import Person

log = logging.getLogger(__name__)


@for_people(allow_stopped=True)
async def help_command(update: Update, context: BotContext, person: Person) -> None:
    """/help: what the bot can do."""
    await reply(update, context, "account/help", person, name=person.display_name)


@for_people(allow_stopped=True)
async def settings_command(update: Update, context: BotContext, person: Person) -> None:
    """/settings: everything held about the person, in plain words."""
    services = context.services
    now, lang = services.clock(), person.language
    s = await services.db.run(people.summary, person.id)
    held, zone = s.person, s.person.timezone or "UTC"
    quiet = None
    if held.quiet_start is not None and held.quiet_end is not None:
        quiet = f"{held.quiet_start:%H:%M}-{held.quiet_end:%H:%M}"
    paused = people.is_paused(held, now)
    values: dict[str, Any] = {
        "language": language_name(held.language),
        "local_now": format_local(now, zone, lang, "time"),
        "consented": format_local(held.consented_at, zone, lang, "date"),
        "stopped": held.stopped_at is not None,
        "paused": paused,
        "paused_until": format_local(held.paused_until, zone, lang, "day_time")
        if held.paused_until and paused
        else None,
        "quiet": quiet,
        "schedules": [view(schedule, zone=held.timezone) for schedule in s.schedules],
    }
    await reply(update, context, "account/settings", person, s=s, **values)


@for_people(allow_stopped=True)
async def language_command(update: Update, context: BotContext, person: Person) -> None:
    """/language [code]: the language I write in; buttons for each one I speak."""
    renderer = context.services.renderer
    choice = (context.args or [""])[0].lower()
    if choice in renderer.locales():
        await _set_language(update, context, person, choice)
        return
    markup = buttons(
        *[
            [(language_name(code), ChooseLanguage(code))]
            for code in renderer.locales()
            if fits(ChooseLanguage(code))
        ]
    )
    await reply(update, context, "account/language_choose", person, markup=markup)


async def on_language_button(update: Update, context: BotContext, button: ChooseLanguage) -> None:
    """A language button from /language."""
    person = await pressed_by_person(update, context)
    if person is None:
        return
    query, code = pressed(update), button.code
    if code not in context.services.renderer.locales():
        await answer_stale(query, context)
        return
    await query.answer()
    await _set_language(update, context, person, code)


async def _set_language(update: Update, context: BotContext, person: Person, code: str) -> None:
    person = await context.services.db.run(people.set_language, person.id, code)
    await reply(update, context, "account/language_set", person, language=language_name(code))


@for_people()
async def pause_command(update: Update, context: BotContext, person: Person) -> None:
    """/pause [days]: hold all nudges, for some days or until /resume."""
    services = context.services
    days: int | None = None
    if context.args:
        arg = context.args[0]
        if len(context.args) > 1 or not arg.isascii() or not arg.isdigit():
            await reply(
                update, context, "account/pause_usage", person, max_days=people.MAX_PAUSE_DAYS
            )
            return
        days = int(arg[:6])
    try:
        person = await services.db.run(people.pause, person.id, days, services.clock())
    except people.InputError as exc:
        await reply(
            update, context, "errors/input", person, code=exc.code, max_days=people.MAX_PAUSE_DAYS
        )
        return
    until = None
    if person.paused_until is not None:
        until = format_local(
            person.paused_until, person.timezone or "UTC", person.language, "day_time"
        )
    await reply(update, context, "account/paused", person, until=until)


@for_people()
async def resume_command(update: Update, context: BotContext, person: Person) -> None:
    """/resume: lift a pause."""
    person, was_paused = await context.services.db.run(
        people.resume, person.id, context.services.clock()
    )
    await reply(update, context, "account/resumed", person, was_paused=was_paused)


@for_people(allow_stopped=True)
async def stop_command(update: Update, context: BotContext, person: Person) -> None:
    """/stop: no messages of any kind until /start."""
    services = context.services
    person = await services.db.run(people.stop, person.id, services.clock())
    await reply(update, context, "account/stopped", person)


@for_people(allow_stopped=True)
async def delete_command(update: Update, context: BotContext, person: Person) -> None:
    """/delete: ask for confirmation before erasing everything, saying what stays."""
    services = context.services
    partner = await services.db.run(people.partner_of, person.id)
    pause_ends = await services.db.run(
        invitations.cooldown_until, person.id, services.clock(), _cooldown(context)
    )
    markup = buttons(
        [(label(context, update, "delete_yes", person), DeleteAccount(YesNo.YES))],
        [(label(context, update, "delete_no", person), DeleteAccount(YesNo.NO))],
    )
    await reply(
        update,
        context,
        "account/delete_confirm",
        person,
        markup=markup,
        paired=partner is not None,
        invite_pause_until=(
            format_local(pause_ends, person.timezone or "UTC", person.language, "day")
            if pause_ends is not None
            else None
        ),
    )


def _cooldown(context: BotContext) -> dt.timedelta:
    return dt.timedelta(days=context.services.settings.invite_cooldown_days)


async def on_delete_button(update: Update, context: BotContext, button: DeleteAccount) -> None:
    """Erase on confirmation; tell a partner only, neutrally, that the pairing ended."""
    query = pressed(update)
    services = context.services
    renderer = services.renderer
    await close_buttons(query)
    person = await services.db.run(people.find, query.from_user.id)
    if person is None:
        # Pressed twice, or on an old message after an earlier erasure.
        await query.answer(renderer.render("errors/button_done", locale_of(update, context)))
        return
    await query.answer()
    if button.answer != YesNo.YES:
        await reply(update, context, "account/delete_kept", person)
        return
    # A running "not now" pause outlives the erasure as a keyed hash, until it ends.
    erased = await services.db.run(
        invitations.erase_keeping_cooldown, person.id, services.clock(), _cooldown(context)
    )
    log.info("person erased on request")
    await reply(update, context, "account/deleted", person)
    await tell(context, erased.partner_chat_id, erased.partner_language, "account/partner_left")


@for_people(allow_stopped=True)
async def mydata_command(update: Update, context: BotContext, person: Person) -> None:
    """/mydata: send everything stored about the person as a JSON file."""
    exported = await context.services.db.run(people.export, person.id)
    payload = json.dumps(exported, ensure_ascii=False, indent=2).encode("utf-8")
    caption = context.services.renderer.render("account/mydata", person.language)
    chat = update.effective_chat
    if chat is not None:
        await context.bot.send_document(
            chat.id,
            io.BytesIO(payload),
            filename="nudgebot-my-data.json",
            caption=caption,
            parse_mode=ParseMode.HTML,
        )
