"""What the invitation flow's parts share: its vocabulary and the tone check on own words."""

from __future__ import annotations

import datetime as dt
from typing import Any

from telegram import Update

from bot.callbacks import Button
from bot.context import BotContext
from bot.handlers.common import label
from bot.tone import ToneFlag, check_tone
from storage.models import Invitation, Person

CALM_TIPS = (
    "nudges/timing_tip/mid_fight",
    "nudges/timing_tip/rested",
    "nudges/timing_tip/enough_time",
)
MAX_AHEAD = dt.timedelta(days=14)
# In the draft's choices: the own words the initiator chose to send as written, after
# reading why the tone check flagged them; and whether a part is being edited from the
# preview (then its answer returns to the preview instead of the next step).
CONFIRMED = "confirmed_as_written"
EDITING = "editing"


def cooldown(context: BotContext) -> dt.timedelta:
    return dt.timedelta(days=context.services.settings.invite_cooldown_days)


def row(
    context: BotContext, update: Update, person: Person, *pairs: tuple[str, Button]
) -> list[tuple[str, Button]]:
    """One keyboard row: (label key, button) pairs, labelled in the person's language."""
    return [(label(context, update, key, person), button) for key, button in pairs]


def own_words(choices: dict[str, Any], personal_line: str | None) -> str:
    """What the tone check reads: the initiator's own hope and own line (not names)."""
    hope = choices.get("own_hope") if choices.get("hope") == "own" else None
    return "\n\n".join(filter(None, [hope, personal_line]))


def unseen_flags(draft: Invitation, language: str | None) -> list[ToneFlag]:
    """Flags on the initiator's own words that they have not confirmed after reading why.

    A confirmation holds for exactly the words confirmed: any edit is checked afresh.
    """
    words = own_words(draft.choices, draft.personal_line)
    if not words:
        return []
    flags = check_tone(words, language or "en")
    if flags and draft.choices.get(CONFIRMED) == words:
        return []
    return flags
