"""Telling an initiator, once and kindly, that their invitation could not be delivered.

The dispatcher marks an invitation "undelivered" when its partner has stopped or blocked
the bot (`storage.invitations.not_delivered`). A job takes those the initiator has not been
told about (`take_undelivered`, marked before sending, so each is told at most once) and
sends `invite/undelivered`: no blame of the partner, and other ways to share it.
"""

from __future__ import annotations

import logging

from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import TelegramError

from bot.context import BotContext, Services
from storage import invitations

log = logging.getLogger(__name__)


async def tell_undelivered(bot: Bot, services: Services) -> int:
    """Tell each initiator whose invitation could not be delivered; returns how many."""
    owed = await services.db.run(invitations.take_undelivered, services.clock())
    for item in owed:
        text = services.renderer.render("invite/undelivered", item.language, partner=item.partner)
        try:
            await bot.send_message(item.chat_id, text, parse_mode=ParseMode.HTML)
        except TelegramError as exc:
            log.warning("an undelivered-invitation note could not be sent (%s)", type(exc).__name__)
    return len(owed)


async def undelivered_job(context: BotContext) -> None:
    """The job queue's callback for `tell_undelivered`."""
    await tell_undelivered(context.bot, context.services)
