"""The initiator's questions, one function each: name, hope, framing, offer, therapist,
own line, and a calm time to send."""

from __future__ import annotations

import datetime as dt

from telegram import Update

from bot import callbacks as cb
from bot.context import BotContext
from bot.handlers.common import reply
from bot.handlers.invite.common import row
from bot.keyboards import buttons
from bot.render import format_local
from scheduler.rules import EVERY_DAY, Rule, next_fire_at
from storage import answers, invitations
from storage.models import Person


async def ask_name(
    update: Update, context: BotContext, person: Person, partner: str | None
) -> None:
    """The partner's name, with the one we know as a button."""
    await context.services.db.run(answers.ask_typed, person.id, "invite_name")
    markup = buttons([(partner, cb.InviteKeepPartnerName())]) if partner else None
    await reply(update, context, "invite/ask_name", person, markup=markup, partner=partner)


async def begin(update: Update, context: BotContext, person: Person, *, calm: bool) -> None:
    """A new draft, then its first question."""
    services = context.services
    draft = await services.db.run(invitations.start_draft, person.id, calm, services.clock())
    await ask_name(update, context, person, draft.choices.get("partner"))


async def ask_hope(update: Update, context: BotContext, person: Person) -> None:
    await context.services.db.run(answers.ask_typed, person.id, None)
    rows = [row(context, update, person, (f"hope_{h}", cb.InviteHope(h))) for h in cb.Hope]
    await reply(update, context, "invite/ask_hope", person, markup=buttons(*rows))


async def ask_framing(update: Update, context: BotContext, person: Person) -> None:
    rows = [row(context, update, person, (f"framing_{f}", cb.InviteFraming(f))) for f in cb.Framing]
    await reply(update, context, "invite/ask_framing", person, markup=buttons(*rows))


async def ask_offer(update: Update, context: BotContext, person: Person) -> None:
    rows = [row(context, update, person, (f"offer_{o}", cb.InviteOffer(o))) for o in cb.Offer]
    await reply(update, context, "invite/ask_offer", person, markup=buttons(*rows))


async def ask_therapist(update: Update, context: BotContext, person: Person) -> None:
    markup = buttons(
        row(
            context,
            update,
            person,
            ("therapist_together", cb.InviteTherapist(cb.TherapistChoice.TOGETHER)),
        ),
        row(
            context,
            update,
            person,
            ("therapist_named", cb.InviteTherapist(cb.TherapistChoice.NAMED)),
        ),
    )
    await reply(update, context, "invite/ask_therapist", person, markup=markup)


async def ask_line(update: Update, context: BotContext, person: Person) -> None:
    markup = buttons(
        row(
            context,
            update,
            person,
            ("line_add", cb.InviteLine(cb.YesNo.YES)),
            ("line_skip", cb.InviteLine(cb.YesNo.NO)),
        )
    )
    await reply(update, context, "invite/ask_line", person, markup=markup)


def evening_choices(now: dt.datetime, zone: str) -> list[dt.datetime]:
    """Three calm-sounding moments: this evening (if still ahead), tomorrow evening, Saturday."""
    out = []
    for at, days in ((dt.time(19, 0), EVERY_DAY), (dt.time(10, 0), frozenset({5}))):
        first = next_fire_at(
            Rule(local_time=at, weekdays=days, zone=zone), now + dt.timedelta(minutes=30)
        )
        out.append(first)
        if days == EVERY_DAY:
            out.append(next_fire_at(Rule(local_time=at, weekdays=days, zone=zone), first))
    return sorted(set(out))[:3]


async def ask_time(update: Update, context: BotContext, person: Person) -> None:
    services = context.services
    zone = person.timezone or "UTC"
    await services.db.run(answers.ask_typed, person.id, "invite_time")
    rows = [
        [
            (
                format_local(c, zone, person.language, "weekday_time"),
                cb.InviteSendAt(int(c.timestamp())),
            )
        ]
        for c in evening_choices(services.clock(), zone)
    ]
    await reply(update, context, "invite/ask_time", person, markup=buttons(*rows), zone=zone)
