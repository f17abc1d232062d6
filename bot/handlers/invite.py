"""/invite: a gentle "just one session" invitation, and the path for one.

The initiator is guided: timing first, a few choices, a preview exactly as the partner
will see it, a tone check on their own words, then delivery at a calm time (paired) or
a private link (not paired). The partner's three answers are equally easy; "not now"
is honoured with a pause of `INVITE_COOLDOWN_DAYS` and "don't ask me again" for good.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html as html_lib
import logging
import re
from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.constants import ParseMode

from bot.context import BotContext
from bot.handlers.common import (
    answer_stale,
    checked_query,
    close_buttons,
    for_people,
    label,
    load_person,
    locale_of,
    reply,
    tell,
    weekday,
    why,
)
from bot.handlers.couple import open_held_question
from bot.handlers.onboarding import ask_timezone
from bot.invitation_text import answer_buttons, render_invitation
from bot.keyboards import buttons, data
from bot.render import format_local
from bot.tone import ToneFlag, check_tone
from scheduler.rules import EVERY_DAY, InputError, Rule, next_fire_at, parse_hhmm
from scheduler.schedules import NeedsTimezone, set_schedule, turn_off, view
from storage import answers, appreciations, invitations, people
from storage.models import PATH_FOR_ONE, Invitation, Person

log = logging.getLogger(__name__)

FLOW = "invf"
HOPE_KEYS = ("closer", "listen", "understand", "calm", "own")
FEARS = ("sides", "blame", "private", "doomed", "cost", "talk")
CALM_TIPS = (
    "nudges/timing_tip/mid_fight",
    "nudges/timing_tip/rested",
    "nudges/timing_tip/enough_time",
)
PATH_TIME = dt.time(19, 0)
PATH_DAYS = frozenset({1, 4})  # Tuesday and Friday
MAX_AHEAD = dt.timedelta(days=14)
# Buttons after which the flow asks nothing more by typing.
FLOW_ENDS = frozenset({"cancel", "send", "at"})
# In the draft's choices: the own words the initiator chose to send as written, after
# reading why the tone check flagged them; and whether a part is being edited from the
# preview (then its answer returns to the preview instead of the next step).
CONFIRMED = "confirmed_as_written"
EDITING = "editing"
EDITABLE = ("name", "hope", "line", "ther")


def _cooldown(context: BotContext) -> dt.timedelta:
    return dt.timedelta(days=context.services.settings.invite_cooldown_days)


def _row(
    context: BotContext, update: Update, person: Person, *pairs: tuple[str, str]
) -> list[tuple[str, str]]:
    return [(label(context, update, key, person), data(FLOW, value)) for key, value in pairs]


def _own_words(choices: dict[str, Any], personal_line: str | None) -> str:
    """What the tone check reads: the initiator's own hope and own line (not names)."""
    hope = choices.get("own_hope") if choices.get("hope") == "own" else None
    return "\n\n".join(filter(None, [hope, personal_line]))


def _unseen_flags(draft: Invitation, language: str | None) -> list[ToneFlag]:
    """Flags on the initiator's own words that they have not confirmed after reading why.

    A confirmation holds for exactly the words confirmed: any edit is checked afresh.
    """
    words = _own_words(draft.choices, draft.personal_line)
    if not words:
        return []
    flags = check_tone(words, language or "en")
    if flags and draft.choices.get(CONFIRMED) == words:
        return []
    return flags


# --- the initiator's flow ------------------------------------------------------------------


@for_people()
async def invite_command(update: Update, context: BotContext, person: Person) -> None:
    """/invite: show an open invitation's state, explain a pause, or start gently."""
    services = context.services
    now = services.clock()
    if context.args and context.args[0].lower() == "cancel":
        cancelled = await services.db.run(invitations.cancel, person.id)
        await reply(update, context, "invite/cancelled", person, cancelled=cancelled)
        return
    gate = await services.db.run(invitations.gate, person.id, now, _cooldown(context))
    zone = person.timezone or "UTC"
    if gate.result == "open" and gate.invitation is not None:
        invitation = gate.invitation
        markup = None
        if invitation.status in ("scheduled", "link"):
            markup = buttons(_row(context, update, person, ("invite_cancel", "cancel.x")))
        when = (
            format_local(invitation.send_at, zone, person.language, "day_time")
            if invitation.send_at
            else ""
        )
        await reply(
            update,
            context,
            "invite/status",
            person,
            markup=markup,
            invitation=invitation,
            partner=invitation.choices.get("partner") or "",
            when=when,
        )
        return
    path = buttons(_row(context, update, person, ("path_start", "path.y")))
    if gate.result == "cooldown" and gate.possible_from is not None:
        await reply(
            update,
            context,
            "invite/cooldown",
            person,
            markup=path,
            possible_from=format_local(gate.possible_from, zone, person.language, "day"),
        )
        return
    if gate.result == "opted_out":
        await reply(update, context, "invite/opted_out", person, markup=path)
        return
    await reply(
        update,
        context,
        "invite/calm_question",
        person,
        markup=buttons(
            _row(context, update, person, ("invite_calm_yes", "calm.y")),
            _row(context, update, person, ("invite_calm_no", "calm.n")),
        ),
    )


async def on_flow_button(update: Update, context: BotContext) -> None:
    """Every button of the initiator's flow: `invf:<step>.<value>`."""
    checked = await checked_query(update, context)
    if checked is None:
        return
    query, _, argument = checked
    step, _, value = argument.partition(".")
    person = await load_person(update, context)
    if person is None:
        await answer_stale(query, context)
        return
    await query.answer()
    await close_buttons(query)
    await _step(update, context, person, step, value)
    if step in FLOW_ENDS:
        # A prompt that arrived during the flow asks its own question now.
        await open_held_question(update, context, person)


async def _step(update: Update, context: BotContext, person: Person, step: str, value: str) -> None:
    services = context.services
    db = services.db
    now = services.clock()
    if step == "path":
        await start_path(update, context, person)
        return
    if step == "calm":
        if value == "n":
            renderer = services.renderer
            tips = [
                renderer.render(name, person.language, name=person.display_name)
                for name in CALM_TIPS
            ]
            await reply(
                update,
                context,
                "invite/not_calm",
                person,
                tips=tips,
                markup=buttons(
                    _row(context, update, person, ("invite_prepare", "prep.y")),
                    _row(context, update, person, ("invite_not_today", "prep.n")),
                ),
            )
            return
        await _begin(update, context, person, calm=True)
        return
    if step == "prep":
        if value == "y":
            await _begin(update, context, person, calm=False)
        else:
            await reply(update, context, "invite/not_today", person)
        return
    if step == "cancel":
        cancelled = await db.run(invitations.cancel, person.id)
        await db.run(answers.ask_typed, person.id, None)
        await reply(update, context, "invite/cancelled", person, cancelled=cancelled)
        return
    draft = await db.run(invitations.draft_of, person.id)
    if draft is None:
        await reply(update, context, "errors/button_stale", person)
        return
    editing = bool(draft.choices.get(EDITING))
    if step == "edit":
        await _edit(update, context, person, draft, value)
    elif step == "asis":
        await _as_written(update, context, person, draft, value)
    elif step == "name":
        if editing:
            await preview(update, context, person)
        else:
            await _ask_hope(update, context, person)
    elif step == "hope" and value in HOPE_KEYS:
        if value == "own":
            await db.run(answers.ask_typed, person.id, "invite_hope")
            await reply(update, context, "invite/ask_own_hope", person)
            return
        await db.run(invitations.choose, person.id, hope=value, own_hope=None)
        if editing:
            await preview(update, context, person)
        else:
            await _ask_framing(update, context, person)
    elif step == "frame" and value in invitations.FRAMINGS:
        await db.run(invitations.choose, person.id, framing=value)
        await reply(
            update,
            context,
            "invite/ask_offer",
            person,
            markup=buttons(
                *[
                    _row(context, update, person, (f"offer_{o}", f"offer.{o}"))
                    for o in invitations.OFFERS
                ]
            ),
        )
    elif step == "offer" and value in invitations.OFFERS:
        await db.run(invitations.choose, person.id, offer=value)
        await reply(
            update,
            context,
            "invite/ask_therapist",
            person,
            markup=buttons(
                _row(context, update, person, ("therapist_together", "ther.t")),
                _row(context, update, person, ("therapist_named", "ther.n")),
            ),
        )
    elif step == "ther":
        if value == "n":
            await db.run(answers.ask_typed, person.id, "invite_therapist")
            await reply(update, context, "invite/ask_therapist_name", person)
            return
        await db.run(invitations.choose, person.id, therapist=None)
        if editing:
            await preview(update, context, person)
        else:
            await _ask_line(update, context, person)
    elif step == "line":
        if value == "y":
            await db.run(answers.ask_typed, person.id, "invite_line")
            await reply(update, context, "invite/ask_line_text", person)
            return
        await db.run(invitations.choose, person.id, line=None)
        await preview(update, context, person)
    elif step == "var":
        await db.run(invitations.next_variant, person.id)
        await preview(update, context, person)
    elif step in ("send", "at") and _unseen_flags(draft, person.language):
        # A send button from before an edit: the new words are shown and checked first.
        await preview(update, context, person)
    elif step == "send":
        if value == "now" and draft.choices.get("calm"):
            await _send(update, context, person, now)
        else:
            await _ask_time(update, context, person)
    elif step == "at" and value.isdigit():
        await _send(update, context, person, dt.datetime.fromtimestamp(int(value), dt.UTC))
    else:
        await reply(update, context, "errors/button_stale", person)


async def _begin(update: Update, context: BotContext, person: Person, *, calm: bool) -> None:
    services = context.services
    draft = await services.db.run(invitations.start_draft, person.id, calm, services.clock())
    partner = draft.choices.get("partner")
    markup = None
    if partner:
        markup = buttons([(partner, data(FLOW, "name.p"))])
    await services.db.run(answers.ask_typed, person.id, "invite_name")
    await reply(update, context, "invite/ask_name", person, markup=markup, partner=partner)


async def _ask_hope(update: Update, context: BotContext, person: Person) -> None:
    await context.services.db.run(answers.ask_typed, person.id, None)
    await reply(
        update,
        context,
        "invite/ask_hope",
        person,
        markup=buttons(
            *[_row(context, update, person, (f"hope_{h}", f"hope.{h}")) for h in HOPE_KEYS]
        ),
    )


async def _ask_framing(update: Update, context: BotContext, person: Person) -> None:
    await reply(
        update,
        context,
        "invite/ask_framing",
        person,
        markup=buttons(
            *[
                _row(context, update, person, (f"framing_{f}", f"frame.{f}"))
                for f in invitations.FRAMINGS
            ]
        ),
    )


async def _ask_line(update: Update, context: BotContext, person: Person) -> None:
    await reply(
        update,
        context,
        "invite/ask_line",
        person,
        markup=buttons(
            _row(context, update, person, ("line_add", "line.y"), ("line_skip", "line.n"))
        ),
    )


async def on_flow_text(update: Update, context: BotContext, person: Person, text: str) -> None:
    """Typed answers in the flow: the partner's name, own hope, therapist, own line, time."""
    db = context.services.db
    step = person.awaiting
    if step == "invite_time":
        await _typed_time(update, context, person, text)
        return
    key = {
        "invite_name": "partner",
        "invite_hope": "own_hope",
        "invite_therapist": "therapist",
        "invite_line": "line",
    }.get(step or "")
    if key is None:
        await reply(update, context, "errors/no_question_open", person)
        return
    if not invitations.clean_text(key, text).strip():
        # Only spaces or invisible characters: ask again, the question stays open.
        await reply(update, context, "invite/empty_answer", person, step=key)
        return
    limit = invitations.MAX_TEXT[key]
    if len(" ".join(invitations.clean_text(key, text).split())) > limit:
        # Asked to shorten rather than cut: nothing they wrote is silently lost.
        await reply(update, context, "invite/too_long", person, limit=limit)
        return
    extra = {"hope": "own"} if key == "own_hope" else {}
    draft = await db.run(invitations.choose, person.id, **{key: text}, **extra)
    await db.run(answers.ask_typed, person.id, None)
    if draft is None:
        await reply(update, context, "errors/button_stale", person)
        return
    if draft.choices.get(EDITING):
        await preview(update, context, person)
    elif key == "partner":
        await _ask_hope(update, context, person)
    elif key == "own_hope":
        await _ask_framing(update, context, person)
    elif key == "therapist":
        await _ask_line(update, context, person)
    else:
        await preview(update, context, person)


async def preview(update: Update, context: BotContext, person: Person) -> None:
    """The invitation exactly as the partner will see it, then the initiator's controls.

    Flagged own words that the initiator has not confirmed replace the send buttons with
    "Edit my words" and "Send my words as they are": nothing flagged goes out unseen.
    """
    services = context.services
    draft = await services.db.run(invitations.draft_of, person.id)
    if draft is None or not invitations.ready(draft.choices):
        await reply(update, context, "errors/button_stale", person)
        return
    if draft.choices.get(EDITING):
        draft = await services.db.run(invitations.choose, person.id, **{EDITING: None}) or draft
    shown = invitations.Shown(
        None, draft.id, person.display_name, dict(draft.choices), draft.personal_line
    )
    partner = draft.choices.get("partner") or ""
    await reply(update, context, "invite/preview_intro", person, partner=partner)
    chat = update.effective_chat
    assert chat is not None
    await context.bot.send_message(
        chat.id,
        render_invitation(services.renderer, person.language, shown),
        parse_mode=ParseMode.HTML,
        reply_markup=answer_buttons(services.renderer, person.language, draft.id, preview=True),
    )
    flags = _unseen_flags(draft, person.language)
    if flags:
        await reply(
            update,
            context,
            "invite/tone",
            person,
            flags=flags,
            markup=buttons(
                _row(context, update, person, ("invite_edit_words", "edit.menu")),
                _row(context, update, person, ("invite_send_as_written", "asis.x")),
                _row(context, update, person, ("invite_cancel", "cancel.x")),
            ),
        )
        return
    await _controls(update, context, person, draft)


async def _controls(update: Update, context: BotContext, person: Person, draft: Invitation) -> None:
    """How and when to send, another wording, editing any part, or cancelling."""
    services = context.services
    paired = await services.db.run(people.partner_of, person.id) is not None
    calm = bool(draft.choices.get("calm"))
    words = _own_words(draft.choices, draft.personal_line)
    confirmed = bool(words) and draft.choices.get(CONFIRMED) == words
    send_row = [("invite_send_now", "send.now")] if calm and paired else []
    send_row.append(
        ("invite_send_later", "send.later") if paired else ("invite_get_link", "send.now")
    )
    markup = buttons(
        _row(context, update, person, *send_row),
        _row(
            context,
            update,
            person,
            ("invite_other_wording", "var.x"),
            ("invite_edit_words", "edit.menu"),
        ),
        _row(context, update, person, ("invite_cancel", "cancel.x")),
    )
    await reply(
        update,
        context,
        "invite/preview_controls",
        person,
        markup=markup,
        calm=calm,
        paired=paired,
        partner=draft.choices.get("partner") or "",
        confirmed=confirmed,
    )


def _words_key(words: str) -> str:
    """A short fingerprint of the words a confirmation button was shown for."""
    return hashlib.sha256(words.encode()).hexdigest()[:12]


async def _as_written(
    update: Update, context: BotContext, person: Person, draft: Invitation, value: str
) -> None:
    """ "Send my words as they are": ask once more, then record it for exactly these words."""
    db = context.services.db
    words = _own_words(draft.choices, draft.personal_line)
    flags = check_tone(words, person.language or "en") if words else []
    if not flags:
        await preview(update, context, person)
        return
    if value == "x":
        await reply(
            update,
            context,
            "invite/tone_confirm",
            person,
            flags=flags,
            partner=draft.choices.get("partner") or "",
            markup=buttons(
                _row(
                    context,
                    update,
                    person,
                    ("invite_confirm_as_written", f"asis.y{_words_key(words)}"),
                ),
                _row(context, update, person, ("invite_edit_words", "edit.menu")),
            ),
        )
        return
    if value != f"y{_words_key(words)}":
        # Confirmed for words that have changed since: show the new ones and their check.
        await preview(update, context, person)
        return
    confirmed = await db.run(invitations.choose, person.id, **{CONFIRMED: words})
    if confirmed is None:
        await reply(update, context, "errors/button_stale", person)
        return
    await _controls(update, context, person, confirmed)


async def _edit(
    update: Update, context: BotContext, person: Person, draft: Invitation, part: str
) -> None:
    """Edit one part the initiator wrote, keeping every other choice; then the preview."""
    db = context.services.db
    if part == "back":
        await preview(update, context, person)
        return
    if part not in EDITABLE:
        await db.run(answers.ask_typed, person.id, None)
        rows = [
            _row(context, update, person, ("invite_edit_name", "edit.name")),
            _row(context, update, person, ("invite_edit_hope", "edit.hope")),
            _row(context, update, person, ("invite_edit_own_line", "edit.line")),
            _row(context, update, person, ("invite_edit_therapist", "edit.ther")),
            _row(context, update, person, ("invite_back_to_preview", "edit.back")),
        ]
        await reply(update, context, "invite/edit_menu", person, markup=buttons(*rows))
        return
    await db.run(invitations.choose, person.id, **{EDITING: True})
    if part == "name":
        partner = draft.choices.get("partner")
        await db.run(answers.ask_typed, person.id, "invite_name")
        markup = buttons([(partner, data(FLOW, "name.p"))]) if partner else None
        await reply(update, context, "invite/ask_name", person, markup=markup, partner=partner)
    elif part == "hope":
        await _ask_hope(update, context, person)
    elif part == "line":
        await db.run(answers.ask_typed, person.id, "invite_line")
        markup = None
        if draft.personal_line:
            markup = buttons(_row(context, update, person, ("invite_remove_line", "line.n")))
        await reply(update, context, "invite/ask_line_text", person, markup=markup)
    else:
        await db.run(answers.ask_typed, person.id, None)
        await reply(
            update,
            context,
            "invite/ask_therapist",
            person,
            markup=buttons(
                _row(context, update, person, ("therapist_together", "ther.t")),
                _row(context, update, person, ("therapist_named", "ther.n")),
            ),
        )


async def on_preview_button(update: Update, context: BotContext) -> None:
    """The answer buttons on a preview only explain that nothing was sent."""
    if update.callback_query is not None:
        person = await load_person(update, context)
        await update.callback_query.answer(
            context.services.renderer.render(
                "invite/preview_button", locale_of(update, context, person)
            )
        )


def _evening_choices(now: dt.datetime, zone: str) -> list[dt.datetime]:
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


async def _ask_time(update: Update, context: BotContext, person: Person) -> None:
    services = context.services
    zone = person.timezone or "UTC"
    await services.db.run(answers.ask_typed, person.id, "invite_time")
    choices = _evening_choices(services.clock(), zone)
    markup = buttons(
        *[
            [
                (
                    format_local(c, zone, person.language, "weekday_time"),
                    data(FLOW, f"at.{int(c.timestamp())}"),
                )
            ]
            for c in choices
        ]
    )
    await reply(update, context, "invite/ask_time", person, markup=markup, zone=zone)


async def _typed_time(update: Update, context: BotContext, person: Person, text: str) -> None:
    now = context.services.clock()
    zone = person.timezone or "UTC"
    first, _, rest = text.strip().partition(" ")
    try:
        try:  # "sat 10:00", "Sa. 9 pm": a day, then a time
            days, at = frozenset({weekday(first, update, context, person)}), parse_hhmm(rest)
        except InputError:  # or only a time, for the next time it comes round
            days, at = EVERY_DAY, parse_hhmm(text)
    except InputError as exc:
        await reply(
            update, context, "invite/bad_time", person, error=why(update, context, exc, person)
        )
        return
    when = next_fire_at(Rule(local_time=at, weekdays=days, zone=zone), now)
    await _send(update, context, person, when)


async def _send(update: Update, context: BotContext, person: Person, when: dt.datetime) -> None:
    services = context.services
    now = services.clock()
    if when < now - dt.timedelta(minutes=1) or when > now + MAX_AHEAD:
        await reply(update, context, "invite/bad_time", person, error=None)
        return
    await services.db.run(answers.ask_typed, person.id, None)
    draft = await services.db.run(invitations.draft_of, person.id)
    if draft is not None and _unseen_flags(draft, person.language):
        await preview(update, context, person)
        return
    result = await services.db.run(invitations.send, person.id, max(when, now), now)
    partner = draft.choices.get("partner") if draft is not None else ""
    if result.result == "link" and result.token and draft is not None:
        link = (
            f"https://t.me/{services.bot_username}?start={invitations.INVITE_PREFIX}_{result.token}"
        )
        shown = invitations.Shown(
            None, draft.id, person.display_name, dict(draft.choices), draft.personal_line
        )
        text = render_invitation(services.renderer, person.language, shown)
        await reply(update, context, "invite/forward", person, partner=partner)
        await reply(update, context, "invite/forward_text", person, text=_plain(text), link=link)
        log.info("invitation link created")
        return
    if result.result != "scheduled" or result.send_at is None:
        await reply(update, context, "errors/button_stale", person)
        return
    zone = person.timezone or "UTC"
    await reply(
        update,
        context,
        "invite/scheduled",
        person,
        partner=partner,
        now=result.send_at <= now,
        when=format_local(result.send_at, zone, person.language, "day_time"),
    )
    log.info("invitation scheduled")


def _plain(html: str) -> str:
    """The invitation as plain text, for the initiator to paste anywhere."""
    return html_lib.unescape(re.sub(r"<[^>]+>", "", html))


# --- the partner's side ----------------------------------------------------------------------


async def open_invitation_link(
    update: Update, context: BotContext, person: Person | None, payload: str
) -> bool:
    """Deep link `i_<token>`: show the invitation to whoever opens it first, no sign-up."""
    raw = payload.split("_", 1)[1] if "_" in payload else ""
    services = context.services
    user = update.effective_user
    assert user is not None
    shown = await services.db.run(invitations.open_link, raw, user.id, services.clock())
    if shown.problem is not None:
        await reply(update, context, "invite/link_problem", person, problem=shown.problem)
        return True
    lang = person.language if person else context.services.renderer.language_for(user.language_code)
    await _show(update, context, shown, lang)
    await tell(
        context,
        shown.initiator_chat_id,
        shown.initiator_language,
        "invite/partner_opened",
        partner=shown.choices.get("partner") or "",
    )
    return True


async def _show(update: Update, context: BotContext, shown: invitations.Shown, lang: str) -> None:
    chat = update.effective_chat
    assert chat is not None
    renderer = context.services.renderer
    await context.bot.send_message(
        chat.id,
        render_invitation(renderer, lang, shown),
        parse_mode=ParseMode.HTML,
        reply_markup=answer_buttons(renderer, lang, shown.invitation_id),
    )


def _fears_markup(context: BotContext, lang: str, invitation_id: int) -> InlineKeyboardMarkup:
    label_of = context.services.renderer.label
    rows = [[(label_of(f"fear_{f}", lang), data("inv", f"{invitation_id}.f{f}"))] for f in FEARS]
    rows.append([(label_of("invite_remind", lang), data("inv", f"{invitation_id}.remind"))])
    for key, choice in (("invite_yes", "yes"), ("invite_not_now", "not_now")):
        rows.append([(label_of(key, lang), data("inv", f"{invitation_id}.{choice}"))])
    return buttons(*rows)


async def on_answer_button(update: Update, context: BotContext) -> None:
    """The partner's buttons: `inv:<id>.<yes|more|not_now|never|remind|f<fear>>`."""
    query = update.callback_query
    if query is None or query.message is None or not query.message.is_accessible:
        return
    services = context.services
    renderer = services.renderer
    argument = (query.data or "").partition(":")[2]
    ref, _, choice = argument.partition(".")
    user = query.from_user
    person = await load_person(update, context)
    lang = person.language if person else context.services.renderer.language_for(user.language_code)
    if not ref.isdigit() or query.message.chat.id != user.id:
        await query.answer(renderer.render("invite/answer_ack", lang, result="not_yours"))
        return
    invitation_id = int(ref)
    if choice.startswith("f") and choice[1:] in FEARS:
        await query.answer()
        chat_id = query.message.chat.id
        await context.bot.send_message(
            chat_id,
            renderer.render(f"invite/fear_{choice[1:]}", lang),
            parse_mode=ParseMode.HTML,
            reply_markup=_fears_markup(context, lang, invitation_id),
        )
        return
    answered = await services.db.run(
        invitations.answer, invitation_id, user.id, query.message.chat.id, choice, services.clock()
    )
    if answered.result in ("already", "not_yours", "gone") or answered.shown is None:
        await query.answer(renderer.render("invite/answer_ack", lang, result=answered.result))
        return
    await query.answer()
    shown = answered.shown
    chat_id = query.message.chat.id
    partner = shown.choices.get("partner") or ""
    values = {
        "initiator": shown.initiator_name,
        "partner": partner,
        "offer": shown.choices.get("offer"),
        "therapist": shown.choices.get("therapist"),
    }
    if answered.result == "more":
        await context.bot.send_message(
            chat_id,
            renderer.render("invite/more", lang, **values),
            parse_mode=ParseMode.HTML,
            reply_markup=_fears_markup(context, lang, invitation_id),
        )
        return
    await close_buttons(query)
    if answered.result == "remind" and answered.remind_on is not None:
        zone = (person.timezone if person else None) or "UTC"
        when = format_local(answered.remind_on, zone, lang, "day")
        await context.bot.send_message(
            chat_id,
            renderer.render("invite/reminder_set", lang, when=when),
            parse_mode=ParseMode.HTML,
        )
        return
    if answered.result == "yes":
        await context.bot.send_message(
            chat_id,
            renderer.render("invite/yes_partner", lang, **values),
            parse_mode=ParseMode.HTML,
        )
        await tell(
            context,
            shown.initiator_chat_id,
            shown.initiator_language,
            "invite/yes_initiator",
            **values,
        )
        log.info("invitation answered: yes")
        return
    if answered.result == "not_now":
        await context.bot.send_message(
            chat_id,
            renderer.render("invite/not_now_partner", lang, **values),
            parse_mode=ParseMode.HTML,
            reply_markup=buttons(
                [(renderer.label("invite_never", lang), data("inv", f"{invitation_id}.never"))]
            ),
        )
    else:
        await context.bot.send_message(
            chat_id, renderer.render("invite/never_partner", lang), parse_mode=ParseMode.HTML
        )
        if not answered.tell_initiator:
            return
    await _tell_initiator_not_now(context, shown, partner)
    log.info("invitation answered: not now")


async def _tell_initiator_not_now(
    context: BotContext, shown: invitations.Shown, partner: str
) -> None:
    if shown.initiator_chat_id is None:
        return
    services = context.services
    possible = services.clock() + dt.timedelta(days=services.settings.invite_cooldown_days)
    renderer = services.renderer
    lang = shown.initiator_language
    text = renderer.render(
        "invite/not_now_initiator",
        lang,
        partner=partner,
        possible_from=format_local(possible, shown.initiator_zone or "UTC", lang, "day"),
    )
    await context.bot.send_message(
        shown.initiator_chat_id,
        text,
        parse_mode=ParseMode.HTML,
        reply_markup=buttons([(renderer.label("path_start", lang), data(FLOW, "path.y"))]),
    )


# --- the path for one --------------------------------------------------------------------------


async def start_path(update: Update, context: BotContext, person: Person) -> None:
    services = context.services
    try:
        schedule = await services.db.run(
            set_schedule, person.id, PATH_FOR_ONE, PATH_TIME, PATH_DAYS, services.clock()
        )
    except NeedsTimezone:
        await ask_timezone(update, context, person)
        return
    await reply(
        update, context, "invite/path_intro", person, name=person.display_name, v=view(schedule)
    )


@for_people()
async def alone_command(update: Update, context: BotContext, person: Person) -> None:
    """/alone or /alone off: the path for one."""
    services = context.services
    if context.args and context.args[0].lower() in ("off", "stop"):
        was_on = await services.db.run(turn_off, person.id, PATH_FOR_ONE, services.clock())
        await reply(update, context, "invite/path_stopped", person, was_on=was_on)
        return
    await start_path(update, context, person)


async def on_path_note_text(update: Update, context: BotContext, person: Person, text: str) -> None:
    """The answer to a path-for-one prompt: kept as the person's own private note."""
    services = context.services
    kept = await services.db.run(answers.answer_path_prompt, person.id, text, services.clock())
    if kept == "too_long":
        await reply(update, context, "appreciation/too_long", person, max=appreciations.MAX_LENGTH)
    elif kept == "kept":
        await reply(update, context, "appreciation/note_kept", person)
    else:
        await reply(update, context, "errors/no_question_open", person)
