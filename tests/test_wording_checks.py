"""The checks on a therapist's own wording (bot.wording.SandboxChecks), on their own."""

from __future__ import annotations

from pathlib import Path

from bot import classifier
from bot.render import Renderer
from bot.wording import SandboxChecks

TEMPLATES_DIR = Path(__file__).resolve().parents[1] / "templates" / "messages"

PLAIN_PROMPT = "This fortnight, {{ first_name }}: one small thing {{ partner_first_name }} did?"


def checks() -> SandboxChecks:
    return SandboxChecks(Renderer(TEMPLATES_DIR))


def test_a_plain_prompt_question_needs_no_tone_confirmation() -> None:
    # The partner-trained classifier scores it as pressure; the therapist is not asked
    # to confirm wording that only it would flag.
    assert classifier.score("tone", "This fortnight, Sam: one small thing Alex did?", "en").flagged
    assert checks().check(PLAIN_PROMPT, ["en", "de"]).tone == ()


def test_pressure_in_a_therapists_wording_is_still_noted_by_the_patterns() -> None:
    notes = checks().check("You must answer tonight, it's your last chance.", ["en"]).tone
    assert notes
    assert {n.reason for n in notes} & {"deadline", "demand", "ultimatum"}
