"""Free text, unknown commands and everything else nobody asked for.

Free text is read only when a question is open (the person's `awaiting` field), and goes
to the flow that asked it. Otherwise it is neither stored nor logged.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from telegram import Update

from bot.callbacks import PauseEverything
from bot.context import BotContext
from bot.handlers import couple, invite, onboarding
from bot.handlers.common import acknowledged, label, load_person, locale_of, reply
from bot.keyboards import buttons
from bot.safety import LANGUAGES as SAFETY_LANGUAGES
from bot.safety import check_danger, resources_for, suggests_danger
from storage import people
from storage.models import Person

TextFlow = Callable[[Update, BotContext, Person, str], Awaitable[None]]


def text_flows(context: BotContext) -> dict[str, TextFlow]:
    """Flows waiting for a typed answer, by the person's `awaiting` value."""
    flows = context.bot_data.setdefault("text_flows", {})
    assert isinstance(flows, dict)
    return flows


def _suggests_danger(text: str, language: str) -> bool:
    """Checked in the person's language first (phrases and classifier), then with the
    phrase lists of every other language: people write in more than one language, and a
    missed danger costs far more. The classifier is one model for both languages; only its
    bar differs, so asking it again "in German" would only hold English text to the lower
    of two bars and add false alarms, not knowledge."""
    if suggests_danger(text, language):
        return True
    return any(
        check_danger(text, other, trained=False).flagged
        for other in SAFETY_LANGUAGES
        if other != language
    )


async def _care(update: Update, context: BotContext, person: Person | None) -> None:
    """Never stored, never relayed: a caring note, where to get help, and a pause."""
    markup = None
    if person is not None:
        markup = buttons([(label(context, update, "pause_all", person), PauseEverything())])
    resources = resources_for(person.timezone if person is not None else None)
    await reply(update, context, "safety/care", person, markup=markup, resources=resources)


async def on_text(update: Update, context: BotContext) -> None:
    """Route typed text to the open question, or say kindly that none is open."""
    message = update.effective_message
    if message is None or message.text is None:
        return
    person = await load_person(update, context)
    if _suggests_danger(message.text, locale_of(update, context, person)):
        await _care(update, context, person)
        return
    if person is None:
        await reply(update, context, "onboarding/consent_first")
        return
    if person.stopped_at is not None:
        await reply(update, context, "account/stopped_reminder", person)
        return
    flow = text_flows(context).get(person.awaiting or "")
    if flow is None:
        await reply(update, context, "errors/no_question_open", person)
        return
    await flow(update, context, person, message.text)
    # A prompt that arrived while this question was open asks its own question now.
    await couple.open_held_question(update, context, person)


async def on_pause_everything(
    update: Update, context: BotContext, _button: PauseEverything
) -> None:
    """The button under the safety note: pause every nudge until /resume."""
    person = await acknowledged(update, context)
    if person is None:
        return
    services = context.services
    await services.db.run(people.pause, person.id, None, services.clock())
    await reply(update, context, "account/paused", person, until=None)


async def on_unknown_command(update: Update, context: BotContext) -> None:
    await reply(update, context, "errors/unknown_command", await load_person(update, context))


async def on_other_message(update: Update, context: BotContext) -> None:
    """Stickers, photos, voice notes...: say what the bot can read."""
    await reply(update, context, "errors/not_text", await load_person(update, context))


async def on_group_message(update: Update, context: BotContext) -> None:
    """The bot works in private chats only; answer commands there once, briefly."""
    await reply(update, context, "errors/group_chat")


DEFAULT_TEXT_FLOWS: dict[str, TextFlow] = {
    "name": onboarding.on_name_text,
    "timezone": onboarding.on_zone_text,
    "appreciation": couple.on_appreciation_text,
    "path_note": invite.on_path_note_text,
    "invite_name": invite.on_flow_text,
    "invite_hope": invite.on_flow_text,
    "invite_therapist": invite.on_flow_text,
    "invite_line": invite.on_flow_text,
    "invite_time": invite.on_flow_text,
}
