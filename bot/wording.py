"""The checks and preview of a therapist's own wording, for /wording and the dashboard.

One implementation of `scheduler.wording.WordingChecks`: the template sandbox (its length
limit, no links, valid Telegram HTML; `bot.prompt_sandbox`), the tone check's patterns
(`bot.tone`, without its trained classifier), and a preview composed exactly as the
dispatcher composes the prompt (`bot.composer.with_wording`). The composition root hands
it to the dashboard, so the bot and the dashboard refuse and preview the same wording the
same way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from bot import prompt_sandbox
from bot.composer import nudge_variants, with_wording
from bot.render import Renderer, format_local
from bot.tone import LANGUAGES, check_tone
from scheduler.wording import Checked, ToneNote, WordingRefused
from storage.models import TIMING_TIP


@dataclass(frozen=True, slots=True)
class SandboxChecks:
    """`WordingChecks` over the prompt sandbox, the tone check and the message templates."""

    renderer: Renderer

    def check(self, source: str, languages: Sequence[str]) -> Checked:
        """Raise `WordingRefused` unless the sandbox accepts `source`; note its tone."""
        try:
            prompt_sandbox.validate(source)
        except prompt_sandbox.PromptTemplateError as exc:
            raise WordingRefused(exc.code, exc.reason, exc.params) from None
        notes: dict[str, ToneNote] = {}
        for language in dict.fromkeys(languages or ("en",)):
            checked = language if language in LANGUAGES else "en"
            # The hand patterns only: the trained classifier learnt from what partners
            # write to each other (invitations) and has no measured precision on a
            # therapist's prompt; it flagged "This fortnight, Sam: one small thing Alex
            # did?" at 0.90. The patterns still note pressure, blame and ultimatums.
            for flag in check_tone(source, checked, trained=False):
                notes.setdefault(
                    flag.phrase.casefold(),
                    ToneNote(flag.phrase, str(flag.reason), flag.suggestion),
                )
        return Checked(source, tuple(notes.values()))

    def preview(
        self,
        kind: str,
        source: str,
        *,
        first_name: str,
        partner_first_name: str,
        language: str,
        zone: str,
        when: dt.datetime,
    ) -> str:
        """The message one partner would get, as Telegram HTML."""
        try:
            own = prompt_sandbox.render(
                source,
                first_name=first_name,
                partner_first_name=partner_first_name,
                weekday=format_local(when, zone, language, "weekday"),
            )
        except prompt_sandbox.PromptTemplateError as exc:
            raise WordingRefused(exc.code, exc.reason, exc.params) from None
        tip = ""
        if kind == TIMING_TIP:
            # A sample: the tip itself rotates through the library.
            variants = nudge_variants(self.renderer, kind, language)
            tip = self.renderer.render(
                f"nudges/{kind}/{variants[0]}", language, name=first_name, zone=zone
            )
        return with_wording(self.renderer, kind, language, own, tip)
