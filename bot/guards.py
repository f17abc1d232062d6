"""Updates the bot does not serve, turned away before any handler sees them."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import ApplicationHandlerStop

from bot.context import BotContext

log = logging.getLogger(__name__)


async def ignore_without_sender(update: Update, _context: BotContext) -> None:
    """Drop an update with no sender (a channel post, a message without `from`).

    Every flow acts for a person who consented, so there is no one to answer; handlers
    may rely on `update.effective_user` being set.
    """
    if update.effective_user is None:
        log.debug("update %s ignored: no sender", update.update_id)
        raise ApplicationHandlerStop
