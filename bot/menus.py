"""The `/` command menus: everyone's, and a therapist's own in their chat.

Telegram shows a chat the most specific list it has (chat scope before the default), so
a therapist's chat gets its own list in every language we speak: their commands first,
then the partners' commands if they also use the bot as a partner. Revoking an account
removes that list, and the chat falls back to everyone's menu.
"""

from __future__ import annotations

import logging

from telegram import Bot, BotCommand, BotCommandScopeChat
from telegram.error import TelegramError

from bot.render import Renderer
from storage.therapists import MenuChat

log = logging.getLogger(__name__)

# The `/` menu, in order. Descriptions come from labels.j2 (`cmd_<name>`).
MENU = (
    "help", "settings", "pair", "invite", "alone", "nightly", "checkin", "tips", "timing",
    "journal", "quiet", "timezone", "name", "language", "sharing", "reveal", "unpair", "pause",
    "resume", "therapist_off", "stop", "mydata", "delete", "start",
)  # fmt: skip

# A therapist's own commands, first in their chat's menu.
THERAPIST_MENU = ("help", "clients", "clientlink", "code", "endlink", "wording", "dashboard")


def commands(renderer: Renderer, names: tuple[str, ...], locale: str) -> list[BotCommand]:
    """Menu entries with their descriptions in this language."""
    return [BotCommand(name, renderer.label(f"cmd_{name}", locale)) for name in names]


def therapist_commands(partner: bool) -> tuple[str, ...]:
    """What a therapist's menu holds: their commands, then a partner's if they are one."""
    if not partner:
        return THERAPIST_MENU
    return (*THERAPIST_MENU, *(name for name in MENU if name not in THERAPIST_MENU))


async def set_therapist_menu(bot: Bot, renderer: Renderer, chat: MenuChat) -> bool:
    """Give a therapist's chat its own menu in every language, or remove it once revoked.

    Returns False if Telegram refused any of it (logged; the commands work typed anyway).
    """
    scope = BotCommandScopeChat(chat.chat_id)
    names = therapist_commands(chat.partner)
    try:
        for code in [None, *renderer.locales()]:
            if chat.therapist:
                menu = commands(renderer, names, code or renderer.default_locale)
                await bot.set_my_commands(menu, scope=scope, language_code=code)
            else:
                await bot.delete_my_commands(scope=scope, language_code=code)
    except TelegramError as exc:
        log.warning("a therapist's menu could not be set (%s)", type(exc).__name__)
        return False
    return True
