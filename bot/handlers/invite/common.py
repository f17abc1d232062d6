"""What the invitation flow's parts share: its vocabulary and the tone check on own words."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable

from telegram import Update

from bot.callbacks import Button
from bot.context import BotContext
from bot.handlers.common import label
from bot.tone import ToneFlag, check_tone
from scheduler.invite_flow import Fired, own_words, unchecked
from storage.models import Invitation, Person

CALM_TIPS = (
    "nudges/timing_tip/mid_fight",
    "nudges/timing_tip/rested",
    "nudges/timing_tip/enough_time",
)
# What the bot shows after a move in the flow (`scheduler.invite_flow.fire`).
Show = Callable[[Update, BotContext, Person, Fired], Awaitable[None]]


def cooldown(context: BotContext) -> dt.timedelta:
    return dt.timedelta(days=context.services.settings.invite_cooldown_days)


def row(
    context: BotContext, update: Update, person: Person, *pairs: tuple[str, Button]
) -> list[tuple[str, Button]]:
    """One keyboard row: (label key, button) pairs, labelled in the person's language."""
    return [(label(context, update, key, person), button) for key, button in pairs]


def flagged_in(language: str) -> Callable[[str], bool]:
    """The tone check the flow's guards use: does it flag these words in this language?"""
    return lambda words: bool(check_tone(words, language))


def unseen_flags(draft: Invitation, language: str) -> list[ToneFlag]:
    """Flags on the initiator's own words that they have not confirmed after reading why."""
    if not unchecked(draft, flagged_in(language)):
        return []
    return check_tone(own_words(draft.choices, draft.personal_line), language)
