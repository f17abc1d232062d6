"""What a due nudge says: text, wording and buttons, composed from the templates.

The dispatcher (in `scheduler/`) decides what is due and when; it asks this composer for
the words and buttons, so that every word stays in `templates/messages/` and the
scheduler never imports Telegram.
"""

from __future__ import annotations

import datetime as dt
import logging
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

from markupsafe import Markup
from telegram import InlineKeyboardMarkup

from bot import prompt_sandbox
from bot.callbacks import (
    AppreciationAction,
    AppreciationChoice,
    CheckinAction,
    CheckinReminder,
    Fewer,
    Snooze,
    YesNo,
)
from bot.invitation_text import answer_buttons, render_invitation
from bot.keyboards import buttons
from bot.render import FALLBACK_LOCALE, Renderer, format_local
from scheduler.dispatcher import SNOOZE_BUTTONS, choose_variant
from scheduler.snoozes import SNOOZE_HOUR, snooze_target
from scheduler.transport import Composed
from storage.appreciations import RELAY
from storage.deliveries import PATH_DONE, Ready
from storage.invitations import Reminder, Shown
from storage.models import INVITATION_REMINDER, PATH_FOR_ONE, TIMING_TIP, WEEKLY_CHECKIN

log = logging.getLogger(__name__)

SNOOZE_MEMORY = 4096  # (option, due time, zone, minute) answers kept


def nudge_variants(renderer: Renderer, kind: str, locale: str) -> list[str]:
    """The wordings available for a kind of nudge, by short name ("quality", "moment")."""
    for loc in (locale, FALLBACK_LOCALE):
        names = [n for n in renderer.names(loc) if n.startswith(f"nudges/{kind}/")]
        if names:
            return [n.rsplit("/", 1)[-1] for n in names]
    return []


def with_wording(
    renderer: Renderer, kind: str, locale: str | None, own: str, library: str = ""
) -> str:
    """A prompt carrying a therapist's own words (sandbox output, valid Telegram HTML).

    The nightly prompt is their words alone; a check-in opens with them and the bot's
    reminder of the structure follows; a timing tip (`library`) is introduced by them.
    """
    # Both parts are already escaped, validated Telegram HTML.
    words = Markup(own)  # noqa: S704 - sandbox output, escaped and validated
    if kind == WEEKLY_CHECKIN:
        return renderer.render("therapist/wording_checkin", locale, opener=words)
    if kind == TIMING_TIP:
        tip = Markup(library)  # noqa: S704 - our own rendered template
        return renderer.render("therapist/wording_tip", locale, intro=words, tip=tip)
    return own


@dataclass
class Composer:
    """Builds each outgoing message from the renderer, the sandbox and the keyboards."""

    renderer: Renderer
    clock: Callable[[], dt.datetime]
    # Per-nudge work done once (the dispatcher composes hundreds a second): the wordings
    # of a kind, and which snooze buttons apply in a given minute.
    _variants: dict[tuple[str, str], list[str]] = field(default_factory=dict, repr=False)
    _snoozes: dict[tuple[str, dt.datetime, str, dt.datetime], bool] = field(
        default_factory=dict, repr=False
    )

    def compose(self, ready: Ready) -> Composed:
        """The text, wording name and buttons of one nudge or relay."""
        lang = ready.language
        label = self.renderer.label
        if ready.invitation is not None:
            if ready.kind == INVITATION_REMINDER:
                return self._reminder(ready.invitation, lang)
            text = render_invitation(self.renderer, lang, ready.invitation)
            markup = answer_buttons(self.renderer, lang, ready.invitation.invitation_id)
            return Composed(text, None, markup)
        if ready.relay is not None:
            text = self.renderer.render(
                f"relay/{ready.kind}",
                lang,
                sender=ready.relay.sender_name,
                text=ready.relay.text,
                partner=ready.relay.partner_name,
            )
            thanks = None
            if ready.kind == RELAY and ready.ref_id is not None:
                thanks_button = AppreciationChoice(AppreciationAction.THANK, ready.ref_id)
                thanks = buttons([(label("thanks", lang), thanks_button)])
            return Composed(text, None, thanks)
        if ready.ask_care and ready.schedule_id is not None:
            ref = ready.schedule_id
            return Composed(
                self.renderer.render("practice/fewer", lang, name=ready.display_name),
                None,
                buttons(
                    [
                        (label("fewer_yes", lang), Fewer(ref, YesNo.YES)),
                        (label("fewer_no", lang), Fewer(ref, YesNo.NO)),
                    ]
                ),
            )
        custom = self._custom_text(ready)
        if custom is None:
            return self._library_nudge(ready)
        if ready.kind == TIMING_TIP:
            # The therapist introduces the tip; the tip itself rotates as ever.
            tip = self._library_nudge(ready)
            text = with_wording(self.renderer, ready.kind, ready.language, custom, tip.text)
            return Composed(text, tip.variant, tip.markup)
        text = with_wording(self.renderer, ready.kind, ready.language, custom)
        return Composed(text, "custom", self._nudge_buttons(ready))

    def compose_reminder(self, reminder: Reminder) -> Composed:
        """The once-only invitation reminder a partner asked for, with the invitation."""
        return self._reminder(reminder.shown, reminder.language)

    def _reminder(self, shown: Shown, lang: str | None) -> Composed:
        reminder = self.renderer.render("invite/reminder", lang, initiator=shown.initiator_name)
        text = "\n\n".join([reminder, render_invitation(self.renderer, lang, shown)])
        return Composed(text, None, answer_buttons(self.renderer, lang, shown.invitation_id))

    def _library_nudge(self, ready: Ready) -> Composed:
        lang = ready.language
        variants = self._variants.get((ready.kind, lang))
        if variants is None:
            variants = nudge_variants(self.renderer, ready.kind, lang)
            self._variants[(ready.kind, lang)] = variants
        if ready.kind == PATH_FOR_ONE:
            # A series, in order; when it is complete, a closing note ends it.
            unseen = [v for v in variants if v not in ready.recent_variants]
            if not unseen:
                text = self.renderer.render("invite/path_done", lang, name=ready.display_name)
                return Composed(text, PATH_DONE, None)
            variant = unseen[0]
            text = self.renderer.render(
                f"nudges/{ready.kind}/{variant}", lang, name=ready.display_name, zone=ready.zone
            )
            return Composed(text, variant, None)
        seed = zlib.crc32(f"{ready.person_id}:{ready.due_at.date()}".encode())
        variant = choose_variant(variants, ready.recent_variants, seed)
        text = self.renderer.render(
            f"nudges/{ready.kind}/{variant}", lang, name=ready.display_name, zone=ready.zone
        )
        return Composed(text, variant, self._nudge_buttons(ready))

    def _nudge_buttons(self, ready: Ready) -> InlineKeyboardMarkup:
        """Check-in: done, snooze an hour, not this week. Others: the snoozes that apply."""
        lang, ref, label = ready.language, ready.delivery_id, self.renderer.label
        if ready.kind == WEEKLY_CHECKIN:
            return buttons(
                [(label("checkin_done", lang), CheckinReminder(ref, CheckinAction.DONE))],
                [
                    (label("snooze_hour", lang), Snooze(ref, SNOOZE_HOUR)),
                    (label("checkin_skip", lang), CheckinReminder(ref, CheckinAction.SKIP)),
                ],
            )
        now = self.clock()
        return buttons(
            [
                (label(key, lang), Snooze(ref, option))
                for key, option in SNOOZE_BUTTONS
                if self._snooze_applies(option, ready.due_at, now, ready.zone)
            ]
        )

    def _snooze_applies(
        self, option: str, due_at: dt.datetime, now: dt.datetime, zone: str
    ) -> bool:
        """Whether a snooze option applies now; worked out once a minute per zone and due time.

        Whether an option applies changes only on a whole minute (20:00, midnight), so if
        it is the same at both ends of this minute it holds for all of it; in the minute
        it changes, it is worked out for `now` itself.
        """
        minute = now.replace(second=0, microsecond=0)
        key = (option, due_at, zone, minute)
        known = self._snoozes.get(key)
        if known is None:
            first = snooze_target(option, due_at, minute, zone) is not None
            end = minute + dt.timedelta(seconds=60) - dt.timedelta(microseconds=1)
            if first != (snooze_target(option, due_at, end, zone) is not None):
                return snooze_target(option, due_at, now, zone) is not None
            if len(self._snoozes) >= SNOOZE_MEMORY:
                self._snoozes.clear()
            known = self._snoozes[key] = first
        return known

    def _custom_text(self, ready: Ready) -> str | None:
        """A therapist's own wording, rendered in the sandbox; None falls back to ours."""
        if not ready.custom_template:
            return None
        weekday = format_local(ready.due_at, ready.zone, ready.language, "weekday")
        try:
            return prompt_sandbox.render(
                ready.custom_template,
                first_name=ready.display_name,
                partner_first_name=ready.partner_name,
                weekday=weekday,
            )
        except prompt_sandbox.PromptTemplateError as exc:
            # The code only: the reason may quote the therapist's words or a name.
            log.warning(
                "a therapist's wording could not be rendered (%s); using the library's", exc.code
            )
            return None
