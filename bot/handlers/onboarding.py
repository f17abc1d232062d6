"""Consent first: /start, the consent buttons, the chosen name and the time zone."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from telegram import KeyboardButton, Update

from bot import timezones
from bot.callbacks import Consent, KeepName, UseZone, YesNo, fits
from bot.context import BotContext
from bot.handlers.common import (
    REMOVE_KEYBOARD,
    answer_stale,
    close_buttons,
    for_people,
    label,
    load_person,
    locale_of,
    pressed,
    reply,
    reply_keyboard,
)
from bot.keyboards import buttons
from bot.render import format_local
from scheduler import schedules
from storage import people
from storage.models import Person

# Telegram's rule for /start parameters: 1-64 characters of A-Z a-z 0-9 _ -.
_PAYLOAD = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

DeepLinkFlow = Callable[[Update, BotContext, Person | None, str], Awaitable[bool]]


def deep_link_flows(context: BotContext) -> dict[str, DeepLinkFlow]:
    """Flows a /start payload can name, by prefix (`p_...` pairs, `i_...` invites)."""
    flows = context.bot_data.setdefault("deep_link_flows", {})
    assert isinstance(flows, dict)
    return flows


async def start(update: Update, context: BotContext) -> None:
    """Welcome a newcomer and ask for consent; welcome back someone who stopped."""
    payload = context.args[0] if context.args else None
    if payload is not None and not _PAYLOAD.fullmatch(payload):
        await reply(update, context, "deeplink/unknown")
        return
    person = await load_person(update, context)
    if person is None:
        await _start_newcomer(update, context, payload)
        return
    services = context.services
    known, was_off = await services.db.run(people.restart, person.id)
    if payload is not None:
        await route_payload(update, context, known, payload)
    elif was_off:
        paused = people.is_paused(known, services.clock())
        name = known.display_name
        await reply(update, context, "onboarding/welcome_back", known, name=name, paused=paused)
    elif known.awaiting in ("name", "timezone"):
        await continue_onboarding(update, context, known)
    else:
        await reply(update, context, "onboarding/already_here", known, name=known.display_name)


async def _start_newcomer(update: Update, context: BotContext, payload: str | None) -> None:
    """Some links (an invitation) show their content before any sign-up; otherwise the
    consent question, carrying the link so that nothing is stored before consent."""
    if payload is not None:
        flow = deep_link_flows(context).get(payload.split("_", 1)[0])
        if flow is not None and await flow(update, context, None, payload):
            return
    await ask_consent(update, context, payload)


async def ask_consent(update: Update, context: BotContext, payload: str | None = None) -> None:
    """What the bot does and keeps, and the consent buttons (carrying a deep link, if any)."""
    user = update.effective_user
    carried = payload or ""
    if not fits(Consent(YesNo.YES, carried)):
        # Longer than any link of ours: it could only ever be "unknown".
        await reply(update, context, "deeplink/unknown")
        carried = ""
    markup = buttons(
        [(label(context, update, "consent_yes"), Consent(YesNo.YES, carried))],
        [(label(context, update, "consent_no"), Consent(YesNo.NO))],
    )
    await reply(
        update,
        context,
        "onboarding/welcome",
        markup=markup,
        first_name=user.first_name if user else "",
    )


async def route_payload(update: Update, context: BotContext, person: Person, payload: str) -> None:
    """Send a deep link to the flow its prefix names, or explain kindly that it is unknown."""
    flow = deep_link_flows(context).get(payload.split("_", 1)[0])
    if flow is None or not await flow(update, context, person, payload):
        await reply(update, context, "deeplink/unknown", person)


async def on_consent(update: Update, context: BotContext, button: Consent) -> None:
    """The consent buttons: create the record on yes, keep nothing on no."""
    query = pressed(update)
    await close_buttons(query)
    services = context.services
    if await load_person(update, context) is not None:
        # A second tap, or an old copy of the question: consent was given already.
        locale = locale_of(update, context)
        await query.answer(services.renderer.render("errors/button_done", locale))
        return
    await query.answer()
    if button.answer != YesNo.YES:
        await reply(update, context, "onboarding/declined")
        return
    user = query.from_user
    person, _ = await services.db.run(
        people.give_consent,
        user.id,
        user.id,
        user.first_name or "",
        services.renderer.language_for(user.language_code),
        services.clock(),
        button.payload or None,
    )
    await continue_onboarding(update, context, person)


async def continue_onboarding(update: Update, context: BotContext, person: Person) -> None:
    """Ask the next open onboarding question, or finish with a pending deep link."""
    if person.awaiting == "name":
        markup = buttons([(person.display_name, KeepName())])
        await reply(
            update,
            context,
            "onboarding/ask_name",
            person,
            markup=markup,
            suggested=person.display_name,
        )
    elif person.timezone is None:
        await ask_timezone(update, context, person, greet=True)
    else:
        services = context.services
        payload = await services.db.run(people.take_pending_start, person.id, services.clock())
        if payload is not None:
            await route_payload(update, context, person, payload)


async def on_keep_name(update: Update, context: BotContext, _button: KeepName) -> None:
    """The button that keeps the suggested name."""
    query = pressed(update)
    person = await load_person(update, context)
    if person is None or person.awaiting != "name":
        locale = locale_of(update, context)
        await query.answer(context.services.renderer.render("errors/button_done", locale))
        await close_buttons(query)
        return
    await query.answer()
    await close_buttons(query)
    person = await context.services.db.run(people.set_name, person.id, person.display_name)
    await continue_onboarding(update, context, person)


async def on_name_text(update: Update, context: BotContext, person: Person, text: str) -> None:
    """A typed name, during onboarding or after /name."""
    try:
        person = await context.services.db.run(people.set_name, person.id, text)
    except people.InputError as exc:
        await reply(
            update, context, "errors/input", person, code=exc.code, max_name=people.MAX_NAME_LENGTH
        )
        return
    if person.timezone is None:
        await continue_onboarding(update, context, person)
    else:
        await reply(update, context, "account/name_set", person, name=person.display_name)


@for_people()
async def name_command(update: Update, context: BotContext, person: Person) -> None:
    """/name NEW: change the name the bot uses."""
    if not context.args:
        await context.services.db.run(people.set_awaiting, person.id, "name")
        await reply(update, context, "account/name_usage", person)
        return
    await on_name_text(update, context, person, " ".join(context.args))


async def ask_timezone(
    update: Update, context: BotContext, person: Person, *, greet: bool = False
) -> None:
    await context.services.db.run(people.set_awaiting, person.id, "timezone")
    zones = list(timezones.COMMON_ZONES)
    rows: list[list[KeyboardButton | str]] = [
        [KeyboardButton(label(context, update, "share_location", person), request_location=True)]
    ]
    rows += [list[KeyboardButton | str](zones[i : i + 2]) for i in range(0, len(zones), 2)]
    await reply(
        update,
        context,
        "onboarding/ask_timezone",
        person,
        markup=reply_keyboard(rows),
        name=person.display_name if greet else "",
    )


@for_people()
async def timezone_command(update: Update, context: BotContext, person: Person) -> None:
    """/timezone Area/City: set the zone; without an argument, ask for it."""
    if not context.args:
        await ask_timezone(update, context, person)
        return
    await on_zone_text(update, context, person, " ".join(context.args))


async def on_zone_text(update: Update, context: BotContext, person: Person, text: str) -> None:
    """A typed zone or city: set it, or suggest near misses as buttons."""
    answer = timezones.resolve_zone(text)
    if answer.zone is not None:
        await set_zone(update, context, person, answer.zone)
        return
    markup = None
    if answer.suggestions:
        markup = buttons(
            *[
                [(label(context, update, "use_zone", person, zone=z), UseZone(z))]
                for z in answer.suggestions
                if fits(UseZone(z))
            ]
        )
    await context.services.db.run(people.set_awaiting, person.id, "timezone")
    await reply(
        update,
        context,
        "onboarding/timezone_unknown",
        person,
        markup=markup,
        suggestions=answer.suggestions,
    )


async def on_zone_button(update: Update, context: BotContext, button: UseZone) -> None:
    """A suggested-zone button."""
    query, zone = pressed(update), button.zone
    person = await load_person(update, context)
    if person is None or timezones.resolve_zone(zone).zone != zone:
        await answer_stale(query, context)
        return
    await query.answer()
    await close_buttons(query)
    await set_zone(update, context, person, zone)


@for_people()
async def on_location(update: Update, context: BotContext, person: Person) -> None:
    """A shared location: map it to a zone offline, and keep nothing else of it."""
    location = update.effective_message.location if update.effective_message else None
    zone = timezones.zone_for_location(location.latitude, location.longitude) if location else None
    if zone is None:
        await reply(update, context, "onboarding/location_unknown", person, markup=REMOVE_KEYBOARD)
        return
    await set_zone(update, context, person, zone)


async def set_zone(update: Update, context: BotContext, person: Person, zone: str) -> None:
    services = context.services
    first_time = person.timezone is None
    now = services.clock()
    person = await services.db.run(schedules.set_timezone, person.id, zone, now)
    await reply(
        update,
        context,
        "onboarding/timezone_set",
        person,
        markup=REMOVE_KEYBOARD,
        zone=zone,
        local_now=format_local(now, zone, person.language, "time"),
        first_time=first_time,
        name=person.display_name,
    )
    if first_time:
        await continue_onboarding(update, context, person)
