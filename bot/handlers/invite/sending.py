"""Sending the invitation: at a calm time to a paired partner, or as a private link."""

from __future__ import annotations

import datetime as dt
import html as html_lib
import logging
import re

from telegram import Update

from bot.context import BotContext
from bot.handlers.common import reply, weekday, why
from bot.handlers.invite.common import MAX_AHEAD, unseen_flags
from bot.handlers.invite.preview import preview
from bot.invitation_text import render_invitation
from bot.render import format_local
from scheduler.rules import EVERY_DAY, InputError, Rule, next_fire_at, parse_hhmm
from storage import answers, invitations
from storage.models import Invitation, Person

log = logging.getLogger(__name__)


async def typed_time(update: Update, context: BotContext, person: Person, text: str) -> None:
    """A typed time to send at: "sat 10:00", "Sa. 9 pm", or only a time."""
    now = context.services.clock()
    zone = person.timezone or "UTC"
    first, _, rest = text.strip().partition(" ")
    try:
        try:  # a day, then a time
            days, at = frozenset({weekday(first, update, context, person)}), parse_hhmm(rest)
        except InputError:  # or only a time, for the next time it comes round
            days, at = EVERY_DAY, parse_hhmm(text)
    except InputError as exc:
        await reply(
            update, context, "invite/bad_time", person, error=why(update, context, exc, person)
        )
        return
    await send(
        update, context, person, next_fire_at(Rule(local_time=at, weekdays=days, zone=zone), now)
    )


async def send(update: Update, context: BotContext, person: Person, when: dt.datetime) -> None:
    """Schedule the draft for `when` (paired), or give the text and a link (not paired)."""
    services = context.services
    now = services.clock()
    if when < now - dt.timedelta(minutes=1) or when > now + MAX_AHEAD:
        await reply(update, context, "invite/bad_time", person, error=None)
        return
    await services.db.run(answers.ask_typed, person.id, None)
    draft = await services.db.run(invitations.draft_of, person.id)
    if draft is None or unseen_flags(draft, person.language):
        await preview(update, context, person)  # gone ("expired"), or words to check first
        return
    result = await services.db.run(invitations.send, person.id, max(when, now), now)
    if result.result == "link" and result.token:
        await _link(update, context, person, draft, result.token)
    elif result.result == "scheduled" and result.send_at is not None:
        await _scheduled(update, context, person, draft, result.send_at)
    else:
        await reply(update, context, "errors/button_stale", person)


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
