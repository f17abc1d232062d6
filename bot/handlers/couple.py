"""What two partners share: pairing, appreciations, the weekly check-in, sharing controls."""

from __future__ import annotations

import datetime as dt
import logging

from telegram import Update

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
from scheduler.rules import (
    InputError,
    QuietHours,
    Rule,
    next_fire_at,
    parse_hhmm,
    quiet_until,
    same_moment_in,
)
from scheduler.schedules import answer_proposal, propose_checkin, view
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
    await reply(
        update,
        context,
        "couple/sharing",
        person,
        paired=partner is not None,
        paused=paused,
        partner=partner.display_name if partner else "",
    )
    if partner is not None:
        await tell(
            context,
            partner.chat_id,
            partner.language,
            "couple/partner_sharing",
            paused=paused,
            partner=person.display_name,
        )


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
        await tell(
            context,
            partner.chat_id,
            partner.language,
            "couple/partner_reveal",
            on=on,
            partner=person.display_name,
        )


# --- appreciations -----------------------------------------------------------------------


async def on_appreciation_text(
    update: Update, context: BotContext, person: Person, text: str
) -> None:
    """The reply to a nightly prompt: keep it, then ask whether to share it."""
    services = context.services
    now = services.clock()
    try:
        written = await services.db.run(appreciations.write, person.id, text, now)
    except appreciations.TooLong:
        await reply(update, context, "appreciation/too_long", person, max=appreciations.MAX_LENGTH)
        return
    # Answered: a snoozed copy of this prompt must not come back to ask again.
    await services.db.run(answers.settle_prompt, person.id, person.awaiting_ref, now)
    markup = None
    partner = written.partner.display_name if written.partner else None
    if partner is not None:
        ref = written.appreciation.id
        markup = buttons(
            [
                (
                    label(context, update, "share", person, partner=partner),
                    AppreciationChoice(AppreciationAction.SHARE, ref),
                ),
                (
                    label(context, update, "keep", person),
                    AppreciationChoice(AppreciationAction.KEEP, ref),
                ),
            ]
        )
    await reply(
        update,
        context,
        "appreciation/saved",
        person,
        markup=markup,
        name=person.display_name,
        partner=partner,
    )


async def on_appreciation_button(
    update: Update, context: BotContext, button: AppreciationChoice
) -> None:
    """Share or keep private; and the partner's thank-you."""
    person = await pressed_by_person(update, context)
    if person is None:
        return
    query, ref, services = pressed(update), button.appreciation_id, context.services
    now = services.clock()
    if button.action == AppreciationAction.THANK:
        thanked = await services.db.run(appreciations.thank, person.id, ref, now)
        await query.answer(
            services.renderer.render("appreciation/thanked", person.language, result=thanked.result)
        )
        if thanked.result != "gone":
            await close_buttons(query)
        return
    await query.answer()
    await close_buttons(query)
    if button.action == AppreciationAction.KEEP:
        if await services.db.run(appreciations.keep_private, person.id, ref):
            await reply(update, context, "appreciation/kept", person)
        return
    shared = await services.db.run(appreciations.share, person.id, ref, now)
    await reply(
        update,
        context,
        "appreciation/shared",
        person,
        result=shared.result,
        partner=shared.partner_name,
    )


@for_people(allow_stopped=True)
async def journal_command(update: Update, context: BotContext, person: Person) -> None:
    """/journal: the person's latest appreciations, theirs alone."""
    entries = await context.services.db.run(appreciations.journal, person.id)
    zone = person.timezone or "UTC"
    await reply(
        update,
        context,
        "appreciation/journal",
        person,
        entries=[
            {
                "date": format_local(e.written_at, zone, person.language, "day"),
                "text": e.text,
                "shared": e.shared_at is not None,
                "note": e.kind == PATH_NOTE,
            }
            for e in entries
        ],
    )


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
    if _in_quiet_hours(partner, day, at, person.timezone, context.services.clock()):
        locale = locale_of(update, context, person)
        quiet = CheckinQuietHours(YesNo.YES, day, at.hour * 60 + at.minute)
        markup = buttons(
            [(label(context, update, "checkin_ask_anyway", person), quiet)],
            [(label(context, update, "checkin_pick_another", person), _other(quiet))],
        )
        await reply(
            update,
            context,
            "checkin/proposal_quiet",
            person,
            markup=markup,
            partner=partner.display_name,
            day=weekday_name(day, locale),
            at=f"{at:%H:%M}",
        )
        return True
    return await _send_proposal(update, context, person, day, at)


def _other(button: CheckinQuietHours) -> CheckinQuietHours:
    return CheckinQuietHours(YesNo.NO, button.day, button.minute)


def _in_quiet_hours(partner: Person, day: int, at: dt.time, zone: str, now: dt.datetime) -> bool:
    """Whether the next `day at` in `zone` falls inside the partner's quiet hours."""
    if partner.quiet_start is None or partner.quiet_end is None:
        return False
    if partner.quiet_start == partner.quiet_end:
        return False
    instant = next_fire_at(Rule(local_time=at, weekdays=frozenset({day}), zone=zone), now)
    quiet = QuietHours(partner.quiet_start, partner.quiet_end)
    return quiet_until(quiet, partner.timezone or "UTC", instant) is not None


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
    await reply(
        update,
        context,
        "checkin/proposed",
        person,
        partner=proposal.partner_name,
        day=weekday_name(day, locale_of(update, context, person)),
        at=f"{at:%H:%M}",
        zone=proposal.zone,
    )
    # The partner sees the time in their own zone.
    now = context.services.clock()
    shown = same_moment_in(day, at, proposal.zone, proposal.partner_zone, now)
    markup = buttons(
        [
            (
                context.services.renderer.label("checkin_yes", proposal.partner_language),
                CheckinProposal(YesNo.YES),
            ),
            (
                context.services.renderer.label("checkin_no", proposal.partner_language),
                CheckinProposal(YesNo.NO),
            ),
        ]
    )
    await tell(
        context,
        proposal.partner_chat_id,
        proposal.partner_language,
        "checkin/proposal",
        markup=markup,
        proposer=person.display_name,
        day=weekday_name(shown[0], proposal.partner_language),
        at=shown[1],
        zone=proposal.partner_zone,
    )
    return True


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
    if result.result == "confirmed" and result.schedule is not None:
        await reply(
            update,
            context,
            "checkin/confirmed",
            person,
            v=view(result.schedule, zone=person.timezone),
        )
        await tell(
            context,
            result.partner_chat_id,
            result.partner_language,
            "checkin/confirmed",
            v=view(result.schedule, zone=result.partner_zone),
        )
    elif result.result == "declined":
        await reply(update, context, "checkin/declined_ack", person)
        await tell(
            context,
            result.partner_chat_id,
            result.partner_language,
            "checkin/declined",
            partner=person.display_name,
        )
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
        await query.answer(
            services.renderer.render(
                "checkin/button_answer", person.language, result=answered.result
            )
        )
        if answered.result == "already":
            await close_buttons(query)
        return
    await query.answer()
    await close_buttons(query)
    if answered.result == "done":
        couple = await services.db.run(couples.couple_of, person.id)
        await reply(
            update,
            context,
            "checkin/done",
            person,
            counted=answered.counted,
            total=couple.checkins_completed if couple else 0,
        )
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
