"""What two partners share: pairing, appreciations, the weekly check-in, sharing controls."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from telegram import InlineKeyboardMarkup, Update

from bot.callbacks import (
    AppreciationAction,
    AppreciationChoice,
    CheckinProposal,
    CheckinQuietHours,
    CheckinReminder,
    PairAnswer,
    Unpair,
    YesNo,
)
from bot.context import BotContext
from bot.handlers.common import (
    acknowledged,
    answer_press,
    close_buttons,
    for_people,
    label,
    load_person,
    locale_of,
    open_link,
    pressed,
    pressed_by_person,
    reply,
    tell,
    token_of,
    weekday,
)
from bot.handlers.onboarding import ask_consent, continue_onboarding
from bot.keyboards import buttons
from bot.render import format_local, weekday_name
from scheduler.partners import answer_prompt
from scheduler.quiet_clash import falls_in_quiet_hours
from scheduler.rules import (
    InputError,
    parse_hhmm,
    same_moment_in,
)
from scheduler.schedules import Proposal, answer_proposal, propose_checkin, view
from storage import answers, appreciations, couples, people
from storage.models import PATH_NOTE, Person

log = logging.getLogger(__name__)

PAIR_LINK_TTL = dt.timedelta(days=7)
JOIN_PREFIX = "pj"


# --- pairing -----------------------------------------------------------------------------


@for_people()
async def pair_command(update: Update, context: BotContext, person: Person) -> None:
    """/pair: a single-use link for the partner, and a warm text to forward."""
    services = context.services
    partner = await services.db.run(people.partner_of, person.id)
    if partner is not None:
        await reply(update, context, "couple/already_paired", person, partner=partner.display_name)
        return
    raw = await services.db.run(
        couples.create_pairing_link, person.id, services.clock(), PAIR_LINK_TTL
    )
    link = f"https://t.me/{services.bot_username}?start={couples.PAIR_PREFIX}_{raw}"
    await reply(update, context, "couple/link", person, link=link, days=PAIR_LINK_TTL.days)
    await reply(update, context, "couple/forward", person, name=person.display_name, link=link)
    log.info("pairing link created")


async def open_pairing_link(
    update: Update, context: BotContext, person: Person | None, payload: str
) -> bool:
    """Deep link `p_<token>`: show who invites and what pairing means, before anything else."""
    offer = await open_link(
        update, context, person, payload, couples.look_at_link, "couple/link_problem"
    )
    if offer is None:
        return True
    raw = token_of(payload)
    markup = buttons(
        [(label(context, update, "pair_join", person), PairAnswer(YesNo.YES, raw))],
        [(label(context, update, "pair_decline", person), PairAnswer(YesNo.NO, raw))],
    )
    await reply(update, context, "couple/offer", person, markup=markup, inviter=offer.inviter_name)
    return True


async def on_pair_button(update: Update, context: BotContext, button: PairAnswer) -> None:
    """Join or decline from the offer; a newcomer goes through consent and zone first."""
    query, raw, services = pressed(update), button.token, context.services
    await query.answer()
    await close_buttons(query)
    if button.answer == YesNo.NO:
        offer = await services.db.run(couples.decline_link, raw, services.clock())
        await reply(update, context, "couple/declined")
        if offer.problem is None:
            await tell(
                context, offer.inviter_chat_id, offer.inviter_language, "couple/partner_declined"
            )
        return
    person = await load_person(update, context)
    pending = f"{JOIN_PREFIX}_{raw}"
    if person is None:
        await ask_consent(update, context, pending)
        return
    if person.timezone is None:
        await services.db.run(people.set_pending_start, person.id, pending, services.clock())
        await continue_onboarding(update, context, person)
        return
    await join(update, context, person, raw)


async def join_after_onboarding(
    update: Update, context: BotContext, person: Person | None, payload: str
) -> bool:
    """Deep-link flow `pj_<token>`: the join a newcomer chose before onboarding."""
    if person is None:
        return False
    await join(update, context, person, token_of(payload))
    return True


async def join(update: Update, context: BotContext, person: Person, raw: str) -> None:
    services = context.services
    paired = await services.db.run(couples.accept_link, raw, person.id, services.clock())
    if paired.problem is not None or paired.partner is None:
        await reply(update, context, "couple/link_problem", person, problem=paired.problem)
        return
    inviter = paired.partner
    await reply(update, context, "couple/joined", person, partner=inviter.display_name)
    await tell(
        context,
        inviter.chat_id,
        inviter.language,
        "couple/partner_joined",
        partner=person.display_name,
    )
    log.info("couple formed")


@for_people(allow_stopped=True)
async def unpair_command(update: Update, context: BotContext, person: Person) -> None:
    """/unpair: end the pairing for both, after a confirmation."""
    partner = await context.services.db.run(people.partner_of, person.id)
    if partner is None:
        await reply(update, context, "couple/unpaired", person, was_paired=False)
        return
    markup = buttons(
        [(label(context, update, "unpair_yes", person), Unpair(YesNo.YES))],
        [(label(context, update, "unpair_no", person), Unpair(YesNo.NO))],
    )
    await reply(
        update,
        context,
        "couple/unpair_confirm",
        person,
        markup=markup,
        partner=partner.display_name,
    )


async def on_unpair_button(update: Update, context: BotContext, button: Unpair) -> None:
    """End the pairing for both on yes; nothing on no."""
    person = await acknowledged(update, context)
    if person is None or button.answer != YesNo.YES:
        return
    ended = await context.services.db.run(couples.unpair, person.id, context.services.clock())
    await reply(update, context, "couple/unpaired", person, was_paired=ended is not None)
    if ended is not None:
        await tell(context, ended.partner_chat_id, ended.partner_language, "account/partner_left")


@for_people()
async def sharing_command(update: Update, context: BotContext, person: Person) -> None:
    """/sharing pause|resume: hold relays between partners, privately."""
    args = [a.lower() for a in context.args or []]
    if args not in (["pause"], ["resume"]):
        await reply(update, context, "couple/sharing_usage", person)
        return
    paused = args == ["pause"]
    services = context.services
    partner = await services.db.run(couples.set_relay_paused, person.id, paused, services.clock())
    name = partner.display_name if partner else ""
    values: dict[str, Any] = {"paired": partner is not None, "paused": paused, "partner": name}
    await reply(update, context, "couple/sharing", person, **values)
    if partner is not None:
        by: dict[str, Any] = {"paused": paused, "partner": person.display_name}
        await tell(context, partner.chat_id, partner.language, "couple/partner_sharing", **by)


@for_people()
async def reveal_command(update: Update, context: BotContext, person: Person) -> None:
    """/reveal together|anytime: when shared appreciations arrive."""
    args = [a.lower() for a in context.args or []]
    if args not in (["together"], ["anytime"]):
        await reply(update, context, "couple/reveal_usage", person)
        return
    on = args == ["together"]
    partner = await context.services.db.run(appreciations.set_reveal_together, person.id, on)
    await reply(update, context, "couple/reveal", person, paired=partner is not None, on=on)
    if partner is not None:
        by: dict[str, Any] = {"on": on, "partner": person.display_name}
        await tell(context, partner.chat_id, partner.language, "couple/partner_reveal", **by)


# --- appreciations -----------------------------------------------------------------------


async def on_appreciation_text(
    update: Update, context: BotContext, person: Person, text: str
) -> None:
    """The reply to a nightly prompt: keep it, then ask whether to share it."""
    services = context.services
    try:
        written = await services.db.run(
            answer_prompt, person.id, text, person.awaiting_ref, services.clock()
        )
    except appreciations.TooLong:
        await reply(update, context, "appreciation/too_long", person, max=appreciations.MAX_LENGTH)
        return
    partner = written.partner.display_name if written.partner else None
    markup = None
    if partner is not None:
        markup = _share_or_keep(update, context, person, partner, written.appreciation.id)
    values: dict[str, Any] = {"name": person.display_name, "partner": partner}
    await reply(update, context, "appreciation/saved", person, markup=markup, **values)


def _share_or_keep(
    update: Update, context: BotContext, person: Person, partner: str, ref: int
) -> InlineKeyboardMarkup:
    share = AppreciationChoice(AppreciationAction.SHARE, ref)
    keep = AppreciationChoice(AppreciationAction.KEEP, ref)
    return buttons(
        [
            (label(context, update, "share", person, partner=partner), share),
            (label(context, update, "keep", person), keep),
        ]
    )


async def on_appreciation_button(
    update: Update, context: BotContext, button: AppreciationChoice
) -> None:
    """Share or keep private; and the partner's thank-you."""
    person = await pressed_by_person(update, context)
    if person is None:
        return
    query, ref, services = pressed(update), button.appreciation_id, context.services
    if button.action == AppreciationAction.THANK:
        await _thank(update, context, person, ref)
        return
    await query.answer()
    await close_buttons(query)
    if button.action == AppreciationAction.KEEP:
        if await services.db.run(appreciations.keep_private, person.id, ref):
            await reply(update, context, "appreciation/kept", person)
        return
    shared = await services.db.run(appreciations.share, person.id, ref, services.clock())
    values: dict[str, Any] = {"result": shared.result, "partner": shared.partner_name}
    await reply(update, context, "appreciation/shared", person, **values)


async def _thank(update: Update, context: BotContext, person: Person, ref: int) -> None:
    """The partner's thank-you for a shared appreciation."""
    services = context.services
    thanked = await services.db.run(appreciations.thank, person.id, ref, services.clock())
    await answer_press(update, context, "appreciation/thanked", person, result=thanked.result)
    if thanked.result != "gone":
        await close_buttons(pressed(update))


@for_people(allow_stopped=True)
async def journal_command(update: Update, context: BotContext, person: Person) -> None:
    """/journal: the person's latest appreciations, theirs alone."""
    entries = await context.services.db.run(appreciations.journal, person.id)
    zone = person.timezone or "UTC"
    shown = [
        {
            "date": format_local(e.written_at, zone, person.language, "day"),
            "text": e.text,
            "shared": e.shared_at is not None,
            "note": e.kind == PATH_NOTE,
        }
        for e in entries
    ]
    await reply(update, context, "appreciation/journal", person, entries=shown)


# --- the weekly check-in -----------------------------------------------------------------


async def propose(update: Update, context: BotContext, person: Person, args: list[str]) -> bool:
    """/checkin DAY HH:MM from a paired person: ask the partner to confirm.

    A time inside the partner's quiet hours is not sent straight away: the proposer hears
    so first, and chooses to pick another time or to ask anyway.
    """
    try:
        day, at = weekday(args[0], update, context, person), parse_hhmm(" ".join(args[1:]))
    except (InputError, IndexError):
        return False
    partner = await context.services.db.run(people.partner_of, person.id)
    if partner is None or person.timezone is None:
        return False
    if falls_in_quiet_hours(partner, day, at, person.timezone, context.services.clock()):
        await _quiet_for_partner(update, context, person, partner, day, at)
        return True
    return await _send_proposal(update, context, person, day, at)


async def _quiet_for_partner(
    update: Update, context: BotContext, person: Person, partner: Person, day: int, at: dt.time
) -> None:
    """The proposed time is in the partner's quiet hours: ask anyway, or pick another?"""
    anyway = CheckinQuietHours(YesNo.YES, day, at.hour * 60 + at.minute)
    other = CheckinQuietHours(YesNo.NO, day, anyway.minute)
    markup = buttons(
        [(label(context, update, "checkin_ask_anyway", person), anyway)],
        [(label(context, update, "checkin_pick_another", person), other)],
    )
    day_name = weekday_name(day, locale_of(update, context, person))
    values: dict[str, Any] = {"partner": partner.display_name, "day": day_name, "at": f"{at:%H:%M}"}
    await reply(update, context, "checkin/proposal_quiet", person, markup=markup, **values)


async def on_checkin_quiet_button(
    update: Update, context: BotContext, button: CheckinQuietHours
) -> None:
    """After the quiet-hours note: ask the partner anyway, or pick another time."""
    person = await acknowledged(update, context)
    if person is None:
        return
    if button.answer == YesNo.NO:
        await reply(update, context, "checkin/pick_another", person)
        return
    at = dt.time(button.minute // 60, button.minute % 60)
    if not await _send_proposal(update, context, person, button.day, at):
        await reply(update, context, "checkin/no_proposal", person)


async def _send_proposal(
    update: Update, context: BotContext, person: Person, day: int, at: dt.time
) -> bool:
    proposal = await context.services.db.run(propose_checkin, person.id, day, at)
    if proposal.result != "proposed":
        return False
    day_name = weekday_name(day, locale_of(update, context, person))
    values: dict[str, Any] = {"partner": proposal.partner_name, "zone": proposal.zone}
    await reply(
        update, context, "checkin/proposed", person, day=day_name, at=f"{at:%H:%M}", **values
    )
    await _ask_partner(context, person, proposal, day, at)
    return True


async def _ask_partner(
    context: BotContext, person: Person, proposal: Proposal, day: int, at: dt.time
) -> None:
    """The partner is asked to confirm, and sees the time in their own zone."""
    lang, zone = proposal.partner_language, proposal.partner_zone
    shown_day, shown_at = same_moment_in(day, at, proposal.zone, zone, context.services.clock())
    label_in = context.services.renderer.label
    yes, no = CheckinProposal(YesNo.YES), CheckinProposal(YesNo.NO)
    markup = buttons([(label_in("checkin_yes", lang), yes), (label_in("checkin_no", lang), no)])
    values: dict[str, Any] = {
        "proposer": person.display_name,
        "day": weekday_name(shown_day, lang),
        "zone": zone,
    }
    await tell(
        context,
        proposal.partner_chat_id,
        lang,
        "checkin/proposal",
        markup=markup,
        at=shown_at,
        **values,
    )


async def on_checkin_proposal_button(
    update: Update, context: BotContext, button: CheckinProposal
) -> None:
    """The partner confirms or declines a proposed weekly check-in."""
    person = await acknowledged(update, context)
    if person is None:
        return
    services = context.services
    agreed = button.answer == YesNo.YES
    result = await services.db.run(answer_proposal, person.id, agreed, services.clock())
    chat, lang = result.partner_chat_id, result.partner_language
    if result.result == "confirmed" and result.schedule is not None:
        mine = view(result.schedule, zone=person.timezone)
        await reply(update, context, "checkin/confirmed", person, v=mine)
        theirs = view(result.schedule, zone=result.partner_zone)
        await tell(context, chat, lang, "checkin/confirmed", v=theirs)
    elif result.result == "declined":
        await reply(update, context, "checkin/declined_ack", person)
        await tell(context, chat, lang, "checkin/declined", partner=person.display_name)
    else:
        await reply(update, context, "checkin/no_proposal", person)


async def on_checkin_button(update: Update, context: BotContext, button: CheckinReminder) -> None:
    """Buttons on a check-in reminder: we did it, or not this week (snooze is shared)."""
    person = await pressed_by_person(update, context)
    if person is None:
        return
    query, services = pressed(update), context.services
    answered = await services.db.run(
        answers.answer_checkin, person.id, button.delivery_id, button.action, services.clock()
    )
    if answered.result in ("gone", "not_yours", "already"):
        await answer_press(update, context, "checkin/button_answer", person, result=answered.result)
        if answered.result == "already":
            await close_buttons(query)
        return
    await query.answer()
    await close_buttons(query)
    if answered.result == "done":
        couple = await services.db.run(couples.couple_of, person.id)
        total = couple.checkins_completed if couple else 0
        await reply(update, context, "checkin/done", person, counted=answered.counted, total=total)
        return
    await reply(update, context, "checkin/skip_ack", person)
    for other in answered.others:
        await tell(context, other.chat_id, other.language, "checkin/skipped", by=answered.by_name)


async def open_held_question(update: Update, context: BotContext, person: Person) -> None:
    """After a question is answered: open the one a prompt asked meanwhile, and say so."""
    services = context.services
    kind = await services.db.run(answers.reopen_held, person.id, services.clock())
    if kind is not None:
        await reply(update, context, "appreciation/question_open", person, kind=kind)
