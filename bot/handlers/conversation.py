"""Free text, unknown commands and everything else nobody asked for.

Free text is read only when a question is open (the person's `awaiting` field), and goes
to the flow that asked it. Otherwise it is neither stored nor logged.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from telegram import Message, Update

from bot.callbacks import CarryOn, PauseEverything
from bot.context import BotContext
from bot.handlers import couple, invite, onboarding
from bot.handlers.common import (
    acknowledged,
    label,
    load_person,
    locale_of,
    pressed,
    reply,
    reply_quoting,
)
from bot.keyboards import buttons
from bot.safety import LANGUAGES as SAFETY_LANGUAGES
from bot.safety import DangerCheck, check_danger, resources_for
from storage import answers, people, secret
from storage.models import Person

TextFlow = Callable[[Update, BotContext, Person, str], Awaitable[None]]


def text_flows(context: BotContext) -> dict[str, TextFlow]:
    """Flows waiting for a typed answer, by the person's `awaiting` value."""
    flows = context.bot_data.setdefault("text_flows", {})
    assert isinstance(flows, dict)
    return flows


def _danger(text: str, language: str) -> DangerCheck:
    """Checked in the person's language first (phrases and classifier), then with the
    phrase lists of every other language: people write in more than one language, and a
    missed danger costs far more. The classifier is one model for both languages; only its
    bar differs, so asking it again "in German" would only hold English text to the lower
    of two bars and add false alarms, not knowledge."""
    found = check_danger(text, language)
    if found.category is not None:
        return found
    for other in SAFETY_LANGUAGES:
        if other != language and (by_phrase := check_danger(text, other, trained=False)):
            return by_phrase
    return found


async def _care(
    update: Update,
    context: BotContext,
    person: Person | None,
    carry_on: CarryOn | None = None,
    quote: int | None = None,
) -> None:
    """Never stored, never relayed: a caring note, where to get help, and a pause; with
    `carry_on`, quoting the answer (message `quote`) and offering to use it after all."""
    markup = None
    if person is not None:
        pause = (label(context, update, "pause_all", person), PauseEverything())
        use = carry_on and (label(context, update, "carry_on", person), carry_on)
        markup = buttons([pause], [use]) if use else buttons([pause])
    resources = resources_for(person.timezone if person is not None else None)
    await reply_quoting(
        update,
        context,
        quote if carry_on is not None else None,
        "safety/care",
        person,
        markup=markup,
        resources=resources,
        carry_on=carry_on is not None,
    )


async def _carry_on(
    context: BotContext, person: Person | None, found: DangerCheck, text: str
) -> CarryOn | None:
    """The "Use what I wrote" button, when only the classifier flagged an answer to an
    open question: it misreads more often than a phrase does, and an appreciation or an
    invitation line someone took care over should not be lost to a misreading. The bot
    keeps no copy: the note quotes the answer, and the button reads it back from Telegram;
    its seal binds that text to this person and this question. A phrase flag offers no
    way past the note."""
    if found.category is not None or person is None or person.stopped_at is not None:
        return None
    question = await context.services.db.run(answers.open_question, person.id)
    if question is None or question[0] not in text_flows(context):
        return None
    flow, ref = question
    seal = await context.services.db.run(secret.answer_seal, person.id, flow, ref, text)
    return CarryOn(flow, ref, seal)


async def on_text(update: Update, context: BotContext) -> None:
    """Route typed text to the open question, or say kindly that none is open."""
    message = update.effective_message
    if message is None or message.text is None:
        return
    person = await load_person(update, context)
    await _take(update, context, person, message.text, message.message_id)


async def _take(
    update: Update, context: BotContext, person: Person | None, text: str, message_id: int
) -> None:
    """Typed text (message `message_id`): the safety check first, then the open question."""
    if found := _danger(text, locale_of(update, context, person)):
        carry_on = await _carry_on(context, person, found, text)
        await _care(update, context, person, carry_on, message_id)
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
    await flow(update, context, person, text)
    # A prompt that arrived while this question was open asks its own question now.
    await couple.open_held_question(update, context, person)


def _quoted_answer(update: Update) -> tuple[int, str] | None:
    """The message id and text of the presser's own message that the pressed note quotes,
    as Telegram shows it now (None once deleted, or when the note is too old to be shown;
    edited, the new text)."""
    query = pressed(update)
    note = query.message if isinstance(query.message, Message) else None
    quoted = note.reply_to_message if note is not None else None
    if quoted is None or quoted.from_user is None or quoted.from_user.id != query.from_user.id:
        return None
    return (quoted.message_id, quoted.text) if quoted.text is not None else None


async def _still_open(context: BotContext, person: Person | None, button: CarryOn) -> bool:
    """Whether the question the button's answer was for is still the person's open one."""
    if person is None or person.stopped_at is not None or button.flow not in text_flows(context):
        return False
    question = await context.services.db.run(answers.open_question, person.id)
    return question == (button.flow, button.ref)


async def on_carry_on(update: Update, context: BotContext, button: CarryOn) -> None:
    """ "Use what I wrote" under the safety note: the quoted answer goes to its question,
    only while that very question is open (never to another). Edited since, the answer
    is read again as if just sent: checked, then used or met with the note again."""
    person = await acknowledged(update, context)
    quoted = _quoted_answer(update)
    if person is None or not await _still_open(context, person, button):
        await reply(update, context, "safety/carry_on_gone", person, reason="closed")
    elif quoted is None:
        await reply(update, context, "safety/carry_on_gone", person, reason="deleted")
    elif (
        await context.services.db.run(
            secret.answer_seal, person.id, button.flow, button.ref, quoted[1]
        )
        == button.seal
    ):
        await text_flows(context)[button.flow](update, context, person, quoted[1])
        await couple.open_held_question(update, context, person)
    else:
        await _take(update, context, person, quoted[1], quoted[0])


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
