"""The path for one: nine prompts over a few weeks, and the private notes they ask for."""

from __future__ import annotations

import datetime as dt

from telegram import Update

from bot.context import BotContext
from bot.handlers.common import for_people, reply
from bot.handlers.onboarding import ask_timezone
from scheduler.schedules import NeedsTimezone, set_schedule, turn_off, view
from storage import answers, appreciations
from storage.models import PATH_FOR_ONE, Person

PATH_TIME = dt.time(19, 0)
PATH_DAYS = frozenset({1, 4})  # Tuesday and Friday


async def start_path(update: Update, context: BotContext, person: Person) -> None:
    """Start the path (after a time zone, if there is none yet)."""
    services = context.services
    try:
        schedule = await services.db.run(
            set_schedule, person.id, PATH_FOR_ONE, PATH_TIME, PATH_DAYS, services.clock()
        )
    except NeedsTimezone:
        await ask_timezone(update, context, person)
        return
    await reply(
        update, context, "invite/path_intro", person, name=person.display_name, v=view(schedule)
    )


@for_people()
async def alone_command(update: Update, context: BotContext, person: Person) -> None:
    """/alone or /alone off: the path for one."""
    services = context.services
    if context.args and context.args[0].lower() in ("off", "stop"):
        was_on = await services.db.run(turn_off, person.id, PATH_FOR_ONE, services.clock())
        await reply(update, context, "invite/path_stopped", person, was_on=was_on)
        return
    await start_path(update, context, person)


async def on_path_note_text(update: Update, context: BotContext, person: Person, text: str) -> None:
    """The answer to a path-for-one prompt: kept as the person's own private note."""
    services = context.services
    kept = await services.db.run(answers.answer_path_prompt, person.id, text, services.clock())
    if kept == "too_long":
        await reply(update, context, "appreciation/too_long", person, max=appreciations.MAX_LENGTH)
    elif kept == "kept":
        await reply(update, context, "appreciation/note_kept", person)
    else:
        await reply(update, context, "errors/no_question_open", person)
