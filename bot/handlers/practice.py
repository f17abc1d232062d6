"""What a person controls about their nudges: times, days, tips, quiet hours, snoozes.

Every answer shows the next times the nudge will fire, in the person's own zone.
"""

from __future__ import annotations

import datetime as dt

from markupsafe import Markup as SafeText
from telegram import InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest

from bot.callbacks import Fewer, Snooze, TimingStep, YesNo
from bot.context import BotContext
from bot.handlers.common import (
    answer_press,
    close_buttons,
    for_people,
    pressed,
    pressed_by_person,
    reply,
    tell,
    weekday,
    why,
)
from bot.handlers.couple import propose
from bot.handlers.onboarding import ask_timezone
from bot.keyboards import buttons
from bot.render import format_local
from scheduler import snoozes
from scheduler.quiet_clash import quiet_clash, schedules_heard_by
from scheduler.rules import EVERY_DAY, InputError, parse_hhmm, parse_time_range
from scheduler.schedules import (
    NeedsTimezone,
    set_fewer,
    set_quiet_hours,
    set_schedule,
    view,
)
from storage import people
from storage.answers import Snoozed
from storage.models import NIGHTLY_APPRECIATION, TIMING_TIP, WEEKLY_CHECKIN, Person, Schedule
from storage.schedules import turn_off_own, turn_off_shared_checkin

DEFAULT_TIP_TIME = dt.time(18, 0)
DEFAULT_TIP_WEEKDAY = 2  # Wednesday: mid-week, away from weekend plans


def _is_off(args: list[str]) -> bool:
    return len(args) == 1 and args[0].lower() in {"off", "stop", "no", "none"}


async def _schedule(
    update: Update,
    context: BotContext,
    person: Person,
    kind: str,
    at: dt.time,
    days: frozenset[int],
) -> None:
    services = context.services
    try:
        schedule = await services.db.run(set_schedule, person.id, kind, at, days, services.clock())
    except NeedsTimezone:
        await ask_timezone(update, context, person)
        return
    clash = _quiet_clash(context, person, schedule)
    if clash is not None:
        await _in_quiet_hours(update, context, person, [clash], just_set=True)
        return
    await reply(update, context, "practice/scheduled", person, v=view(schedule, count=3))


def _quiet_clash(
    context: BotContext, person: Person, schedule: Schedule | None
) -> dict[str, str | None] | None:
    """Does this schedule fire inside the person's quiet hours? Then its kind, its local
    time, and `until`: when it would still arrive late, or None when it is skipped."""
    grace = context.services.settings.grace_seconds(schedule.kind) if schedule else 0.0
    clash = quiet_clash(person, schedule, grace)
    if clash is None or person.timezone is None:
        return None
    zone, lang = person.timezone, person.language
    until = format_local(clash.arrives, zone, lang, "time") if clash.arrives else None
    return {"kind": clash.kind, "at": format_local(clash.due, zone, lang, "time"), "until": until}


async def _in_quiet_hours(
    update: Update,
    context: BotContext,
    person: Person,
    clashes: list[dict[str, str | None]],
    *,
    just_set: bool,
) -> None:
    assert person.quiet_start is not None and person.quiet_end is not None
    await reply(
        update,
        context,
        "practice/in_quiet_hours",
        person,
        clashes=clashes,
        just_set=just_set,
        quiet=f"{person.quiet_start:%H:%M}-{person.quiet_end:%H:%M}",
        start=f"{person.quiet_start:%H:%M}",
    )


async def _off(update: Update, context: BotContext, person: Person, kind: str) -> None:
    services = context.services
    # Recorded as this partner's own choice: no therapist change or plan step undoes it.
    was_on = await services.db.run(turn_off_own, person.id, kind, services.clock())
    await reply(update, context, "practice/turned_off", person, kind=kind, was_on=was_on)


async def _usage(
    update: Update, context: BotContext, person: Person, kind: str, error: SafeText | None = None
) -> None:
    await reply(update, context, "practice/usage", person, kind=kind, error=error)


@for_people()
async def nightly_command(update: Update, context: BotContext, person: Person) -> None:
    """/nightly HH:MM or /nightly off: the nightly appreciation prompt."""
    args = context.args or []
    if _is_off(args):
        await _off(update, context, person, NIGHTLY_APPRECIATION)
        return
    if not 1 <= len(args) <= 2:  # "21:00", "9pm" or "9:30 pm"
        await _usage(update, context, person, NIGHTLY_APPRECIATION)
        return
    try:
        at = parse_hhmm(" ".join(args))
    except InputError as exc:
        error = why(update, context, exc, person)
        await _usage(update, context, person, NIGHTLY_APPRECIATION, error)
        return
    await _schedule(update, context, person, NIGHTLY_APPRECIATION, at, EVERY_DAY)


async def _shared_checkin_off(
    update: Update, context: BotContext, person: Person, kind: str
) -> None:
    """Off for both partners; the other is told who turned it off."""
    services = context.services
    was_on, partner = await services.db.run(turn_off_shared_checkin, person.id, services.clock())
    await reply(update, context, "practice/turned_off", person, kind=kind, was_on=was_on)
    if partner is not None:
        by = person.display_name
        await tell(context, partner.chat_id, partner.language, "checkin/turned_off", by=by)


@for_people()
async def checkin_command(update: Update, context: BotContext, person: Person) -> None:
    """/checkin DAY HH:MM or /checkin off: the weekly check-in (agreed by both, if paired)."""
    args = context.args or []
    services = context.services
    paired = await services.db.run(people.partner_of, person.id) is not None
    if _is_off(args):
        await (_shared_checkin_off if paired else _off)(update, context, person, WEEKLY_CHECKIN)
        return
    if not 2 <= len(args) <= 3:
        await _usage(update, context, person, WEEKLY_CHECKIN)
        return
    try:
        day = weekday(args[0], update, context, person)
        at = parse_hhmm(" ".join(args[1:]))
    except InputError as exc:
        await _usage(update, context, person, WEEKLY_CHECKIN, why(update, context, exc, person))
        return
    if paired and await propose(update, context, person, args):
        return
    await _schedule(update, context, person, WEEKLY_CHECKIN, at, frozenset({day}))


@for_people()
async def tips_command(update: Update, context: BotContext, person: Person) -> None:
    """/tips daily|weekly|off [HH:MM]: conversation-timing tips."""
    args = [a.lower() for a in (context.args or [])]
    if _is_off(args):
        await _off(update, context, person, TIMING_TIP)
        return
    if not 1 <= len(args) <= 3 or args[0] not in {"daily", "weekly"}:
        await _usage(update, context, person, TIMING_TIP)
        return
    at = DEFAULT_TIP_TIME
    if len(args) >= 2:
        try:
            at = parse_hhmm(" ".join(args[1:]))
        except InputError as exc:
            await _usage(update, context, person, TIMING_TIP, why(update, context, exc, person))
            return
    days = EVERY_DAY if args[0] == "daily" else frozenset({DEFAULT_TIP_WEEKDAY})
    await _schedule(update, context, person, TIMING_TIP, at, days)


@for_people()
async def quiet_command(update: Update, context: BotContext, person: Person) -> None:
    """/quiet HH:MM-HH:MM or /quiet off: hours when nothing is delivered."""
    args = context.args or []
    services = context.services
    if _is_off(args):
        await services.db.run(set_quiet_hours, person.id, None)
        await reply(update, context, "practice/quiet", person, quiet=None)
        return
    if not args:
        await reply(update, context, "practice/quiet_usage", person, error=None)
        return
    try:
        start, end = parse_time_range(" ".join(args))
        person = await services.db.run(set_quiet_hours, person.id, (start, end))
    except InputError as exc:
        error = why(update, context, exc, person)
        await reply(update, context, "practice/quiet_usage", person, error=error)
        return
    quiet = f"{start:%H:%M}-{end:%H:%M}"
    await reply(update, context, "practice/quiet", person, quiet=quiet, zone=person.timezone)
    schedules = await services.db.run(schedules_heard_by, person.id)
    clashes = [c for s in schedules if (c := _quiet_clash(context, person, s)) is not None]
    if clashes:
        await _in_quiet_hours(update, context, person, clashes, just_set=False)


async def on_snooze(update: Update, context: BotContext, button: Snooze) -> None:
    """Snooze buttons on a delivered nudge: move that one nudge, never the recurrence."""
    person = await pressed_by_person(update, context)
    if person is None:
        return
    query, services = pressed(update), context.services
    grace = services.settings.grace_seconds
    snoozed = await services.db.run(
        snoozes.snooze, person.id, button.delivery_id, button.option, services.clock(), grace=grace
    )
    when = None
    if snoozed.until:
        when = format_local(snoozed.until, snoozed.zone, person.language, "weekday_time")
    if snoozed.result != "ok":
        result = snoozed.result
        await answer_press(
            update, context, "practice/snooze_answer", person, result=result, when=when
        )
        if snoozed.result == "already":
            await close_buttons(query)
        return
    await query.answer()
    await close_buttons(query)
    await reply(update, context, "practice/snoozed", person, when=when)
    await _tell_moved(context, snoozed)


async def _tell_moved(context: BotContext, snoozed: Snoozed) -> None:
    """A shared nudge (the couple's check-in) moved for both: tell the other, without blame."""
    for other in snoozed.others:
        assert snoozed.until is not None
        when = format_local(snoozed.until, other.zone, other.language, "weekday_time")
        await tell(
            context, other.chat_id, other.language, "checkin/moved", by=snoozed.by_name, when=when
        )


TIMING_STEPS = ("rested", "calm", "time", "private")


def _timing_markup(context: BotContext, language: str, answers: str) -> InlineKeyboardMarkup:
    label = context.services.renderer.label
    return buttons(
        [
            (label("timing_yes", language), TimingStep(answers + "y")),
            (label("timing_no", language), TimingStep(answers + "n")),
        ]
    )


@for_people()
async def timing_command(update: Update, context: BotContext, person: Person) -> None:
    """/timing: four quick questions, then whether now is a good moment to talk."""
    await reply(
        update,
        context,
        "timing/question",
        person,
        markup=_timing_markup(context, person.language, ""),
        step=TIMING_STEPS[0],
        number=1,
    )


def _timing_step(
    context: BotContext, language: str, answers: str
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The next question with its buttons, or after the last one the advice."""
    render = context.services.renderer.render
    if len(answers) < len(TIMING_STEPS):
        step, number = TIMING_STEPS[len(answers)], len(answers) + 1
        text = render("timing/question", language, step=step, number=number)
        return text, _timing_markup(context, language, answers)
    said = dict(zip(TIMING_STEPS, (a == "y" for a in answers), strict=True))
    return render("timing/advice", language, answers=said), None


async def on_timing_button(update: Update, context: BotContext, button: TimingStep) -> None:
    """One answer at a time; the question message becomes the next question, then advice."""
    person = await pressed_by_person(update, context)
    if person is None:
        return
    query, answers = pressed(update), button.answers
    await query.answer()
    text, markup = _timing_step(context, person.language, answers)
    try:
        await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)
    except BadRequest:
        # Pressed twice: the message already shows this step.
        return


async def on_fewer_button(update: Update, context: BotContext, button: Fewer) -> None:
    """The once-only question about fewer prompts: lower the frequency, or keep it."""
    person = await pressed_by_person(update, context)
    if person is None:
        return
    query, services = pressed(update), context.services
    await query.answer()
    await close_buttons(query)
    schedule = None
    if button.answer == YesNo.YES:
        schedule = await services.db.run(set_fewer, person.id, button.schedule_id, services.clock())
    await reply(
        update,
        context,
        "practice/fewer_answer",
        person,
        v=view(schedule) if schedule is not None else None,
    )
