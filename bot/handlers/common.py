"""Small helpers every handler uses: who is this, and say something from a template."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Coroutine
from functools import wraps
from typing import Any, Protocol, TypeAlias, TypeVar

from markupsafe import Markup as SafeText
from telegram import (
    CallbackQuery,
    InlineKeyboardMarkup,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    ReplyParameters,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest

from bot.context import BotContext
from bot.render import weekday_names
from scheduler.rules import InputError, parse_weekday
from storage import Session, people
from storage.models import Person

log = logging.getLogger(__name__)

Markup: TypeAlias = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove
Handler: TypeAlias = Callable[[Update, BotContext], Coroutine[Any, Any, None]]
PersonHandler: TypeAlias = Callable[[Update, BotContext, Person], Coroutine[Any, Any, None]]


def locale_of(update: Update, context: BotContext, person: Person | None = None) -> str:
    """The language to answer in: the person's, else the closest to Telegram's hint."""
    if person is not None:
        return person.language
    user = update.effective_user
    return context.services.renderer.language_for(user.language_code if user else None)


async def reply(
    update: Update,
    context: BotContext,
    template: str,
    person: Person | None = None,
    *,
    markup: Markup | None = None,
    **values: Any,
) -> Message | None:
    """Send a rendered template to the chat this update came from."""
    return await reply_quoting(update, context, None, template, person, markup=markup, **values)


async def reply_quoting(
    update: Update,
    context: BotContext,
    quote: int | None,
    template: str,
    person: Person | None = None,
    *,
    markup: Markup | None = None,
    **values: Any,
) -> Message | None:
    """`reply`, as a Telegram reply quoting message `quote` of the chat (sent plainly if
    that message is gone, or when `quote` is None)."""
    chat = update.effective_chat
    if chat is None:
        return None
    text = context.services.renderer.render(template, locale_of(update, context, person), **values)
    replying = (
        ReplyParameters(quote, allow_sending_without_reply=True) if quote is not None else None
    )
    return await context.bot.send_message(
        chat.id, text, parse_mode=ParseMode.HTML, reply_markup=markup, reply_parameters=replying
    )


async def send_to_chat(
    update: Update, context: BotContext, text: str, markup: Markup | None = None
) -> Message | None:
    """Send text rendered already (an invitation as the partner sees it) to this chat."""
    chat = update.effective_chat
    if chat is None:
        return None
    return await context.bot.send_message(
        chat.id, text, parse_mode=ParseMode.HTML, reply_markup=markup
    )


async def tell(
    context: BotContext,
    chat_id: int | None,
    language: str | None,
    template: str,
    *,
    markup: Markup | None = None,
    **values: Any,
) -> None:
    """Send a short note to someone other than the person acting (partner, inviter)."""
    if chat_id is None:
        return
    text = context.services.renderer.render(template, language, **values)
    await context.bot.send_message(chat_id, text, parse_mode=ParseMode.HTML, reply_markup=markup)


def why(
    update: Update, context: BotContext, exc: InputError, person: Person | None = None
) -> SafeText:
    """Why some input could not be read, in the person's words, to embed in a template."""
    values = {"end": None, "reason": None, **exc.values}
    text = context.services.renderer.render(
        "errors/reason", locale_of(update, context, person), code=exc.code, **values
    )
    return SafeText(text)  # noqa: S704 - our own template's output, already escaped


def weekday(text: str, update: Update, context: BotContext, person: Person | None = None) -> int:
    """A day name typed in English or in the person's language (0 = Monday)."""
    return parse_weekday(text, weekday_names(locale_of(update, context, person)))


def label(
    context: BotContext, update: Update, key: str, person: Person | None = None, **values: Any
) -> str:
    """A button label in the person's language."""
    return context.services.renderer.label(key, locale_of(update, context, person), **values)


async def load_person(update: Update, context: BotContext) -> Person | None:
    """The person behind this update, if they consented."""
    user = update.effective_user
    if user is None:
        return None
    return await context.services.db.run(people.find, user.id)


def for_people(*, allow_stopped: bool = False) -> Callable[[PersonHandler], Handler]:
    """Run the handler only for people who consented; others are asked to /start.

    A stopped person gets a short reminder instead, unless the command is one they may
    still use (settings, data export, erasure, help).
    """

    def decorate(handler: PersonHandler) -> Handler:
        @wraps(handler)
        async def wrapper(update: Update, context: BotContext) -> None:
            person = await load_person(update, context)
            if person is None:
                await reply(update, context, "onboarding/need_start")
                return
            if person.stopped_at is not None and not allow_stopped:
                await reply(update, context, "account/stopped_reminder", person)
                return
            await handler(update, context, person)

        return wrapper

    return decorate


def pressed(update: Update) -> CallbackQuery:
    """The button press behind this update (the router in `buttons.py` checked it)."""
    query = update.callback_query
    assert query is not None
    return query


async def answer_stale(query: CallbackQuery, context: BotContext) -> None:
    """Answer a button that no longer means anything: nothing changes."""
    locale = context.services.renderer.language_for(query.from_user.language_code)
    await query.answer(context.services.renderer.render("errors/button_stale", locale))


async def pressed_by_person(update: Update, context: BotContext) -> Person | None:
    """The consenting person who pressed this button; anyone else gets "expired"."""
    person = await load_person(update, context)
    if person is None:
        await answer_stale(pressed(update), context)
    return person


async def acknowledged(update: Update, context: BotContext) -> Person | None:
    """A button press from a consenting person, answered and with its buttons removed.

    For questions that are answered once (yes/no): a second press finds no buttons, and a
    press from someone without a record changes nothing.
    """
    query = pressed(update)
    await query.answer()
    await close_buttons(query)
    return await load_person(update, context)


async def close_buttons(query: CallbackQuery) -> None:
    """Remove the buttons from a message whose question has been answered."""
    try:
        await query.edit_message_reply_markup(reply_markup=None)
    except BadRequest as exc:
        # Already removed (a second press), or the message is too old to edit.
        log.debug("could not remove buttons: %s", type(exc).__name__)


def reply_keyboard(rows: list[list[Any]]) -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(rows, resize_keyboard=True, one_time_keyboard=True)


REMOVE_KEYBOARD = ReplyKeyboardRemove()


class LinkLook(Protocol):
    """What a deep link's token leads to; `problem` names why it cannot be used."""

    @property
    def problem(self) -> str | None: ...


L = TypeVar("L", bound=LinkLook)


def token_of(payload: str) -> str:
    """The token after a deep link's prefix (`p_<token>`); empty when there is none."""
    return payload.split("_", 1)[1] if "_" in payload else ""


async def open_link(
    update: Update,
    context: BotContext,
    person: Person | None,
    payload: str,
    look: Callable[[Session, str, int, dt.datetime], L],
    problem_template: str,
) -> L | None:
    """Look up a deep link's token for whoever opened it; None once its problem is told."""
    user = update.effective_user
    assert user is not None
    services = context.services
    found = await services.db.run(look, token_of(payload), user.id, services.clock())
    if found.problem is not None:
        await reply(update, context, problem_template, person, problem=found.problem)
        return None
    return found


async def answer_press(
    update: Update, context: BotContext, template: str, person: Person | None = None, **values: Any
) -> None:
    """Answer the pressed button with a short rendered note, shown over the chat."""
    language = locale_of(update, context, person)
    await pressed(update).answer(context.services.renderer.render(template, language, **values))
