"""Sending the invitation: at a calm time to a paired partner, or as a private link."""

from __future__ import annotations

import datetime as dt
import html as html_lib
import logging
import re

from telegram import Update

from bot.context import BotContext
from bot.handlers.common import reply, weekday, why
from bot.invitation_text import render_invitation
from bot.render import format_local
from scheduler.invite_flow import Fired
from scheduler.rules import EVERY_DAY, InputError, Rule, next_fire_at, parse_hhmm
from storage import invitations
from storage.models import Invitation, Person

log = logging.getLogger(__name__)


async def typed_time(
    update: Update, context: BotContext, person: Person, text: str
) -> dt.datetime | None:
    """A typed time to send at: "sat 10:00", "Sa. 9 pm", or only a time (None: unreadable,
    and the person was told why)."""
    first, _, rest = text.strip().partition(" ")
    try:
        try:  # a day, then a time
            days, at = frozenset({weekday(first, update, context, person)}), parse_hhmm(rest)
        except InputError:  # or only a time, for the next time it comes round
            days, at = EVERY_DAY, parse_hhmm(text)
    except InputError as exc:
        error = why(update, context, exc, person)
        await reply(update, context, "invite/bad_time", person, error=error)
        return None
    rule = Rule(local_time=at, weekdays=days, zone=person.timezone or "UTC")
    return next_fire_at(rule, context.services.clock())


async def sent(update: Update, context: BotContext, person: Person, fired: Fired) -> None:
    """What the initiator hears once it is on its way: when, or the text and link."""
    result, draft = fired.outcome.sent, fired.draft
    assert result is not None and draft is not None
    if result.token is not None:
        await _link(update, context, person, draft, result.token)
    elif result.send_at is not None:
        await _scheduled(update, context, person, draft, result.send_at)


async def _link(
    update: Update, context: BotContext, person: Person, draft: Invitation, token: str
) -> None:
    """Not paired: the invitation as plain text and a private link, to forward anywhere."""
    services = context.services
    link = f"https://t.me/{services.bot_username}?start={invitations.INVITE_PREFIX}_{token}"
    shown = invitations.Shown(
        None, draft.id, person.display_name, dict(draft.choices), draft.personal_line
    )
    text = plain(render_invitation(services.renderer, person.language, shown))
    partner = draft.choices.get("partner") or ""
    await reply(update, context, "invite/forward", person, partner=partner)
    await reply(update, context, "invite/forward_text", person, text=text, link=link)
    log.info("invitation link created")


async def _scheduled(
    update: Update, context: BotContext, person: Person, draft: Invitation, send_at: dt.datetime
) -> None:
    """Paired: when it goes, in the initiator's own zone."""
    now = context.services.clock()
    when = format_local(send_at, person.timezone or "UTC", person.language, "day_time")
    partner = draft.choices.get("partner") or ""
    await reply(
        update, context, "invite/scheduled", person, partner=partner, now=send_at <= now, when=when
    )
    log.info("invitation scheduled")


def plain(html: str) -> str:
    """The invitation as plain text, for the initiator to paste anywhere."""
    return html_lib.unescape(re.sub(r"<[^>]+>", "", html))
