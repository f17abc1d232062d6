"""Every reason the template sandbox refuses a therapist's wording with has its words in
every language, in the bot (`therapist/_sandbox.j2`) and on the dashboard (its strings'
`sandbox_*` words), and each refusal is told with what it quotes (the line, the name)."""

from __future__ import annotations

import html
import string
from pathlib import Path
from typing import Any

import pytest

from bot.prompt_sandbox import Construct, PromptTemplateError, Refusal
from bot.render import Renderer
from bot.telegram_html import HtmlProblem
from dashboard import views
from dashboard.render import Templates
from tests.support.refusals import english_pieces, every_refusal

TEMPLATES = Path(__file__).resolve().parents[1] / "templates" / "messages"
RENDERER = Renderer(TEMPLATES)
BOT_LOCALES = RENDERER.locales()
DASHBOARD = Templates()
REFUSALS = every_refusal()
# The params a reader's sentence quotes (the others are codes: construct, problem).
QUOTED = (
    "line",
    "name",
    "allowed",
    "filter",
    "filters",
    "tag",
    "expected",
    "entity",
    "char",
    "limit",
    "name_limit",
    "found",
    "block",
    "attribute",
    "operator",
    "node",
    "link",
    "error",
)


def _id(refusal: PromptTemplateError) -> str:
    detail = refusal.params.get("construct") or refusal.params.get("problem") or ""
    return f"{refusal.code}-{detail}" if detail else str(refusal.code)


def _bot_words(locale: str) -> Any:
    return RENDERER.env.get_template(f"{locale}/therapist/_sandbox.j2").module


def _placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field}


def test_the_bot_and_the_dashboard_speak_the_same_languages() -> None:
    assert sorted(BOT_LOCALES) == sorted(DASHBOARD.languages)


@pytest.mark.parametrize("locale", BOT_LOCALES)
def test_every_refusal_code_construct_and_problem_has_the_bots_words_in_every_language(
    locale: str,
) -> None:
    words = _bot_words(locale)
    assert set(words.reasons) == {*Refusal, "other"}
    assert set(words.constructs) == set(Construct)
    assert set(words.problems) == {*HtmlProblem, "other"}
    assert _placeholders(words.at_line) == {"line", "reason"}


@pytest.mark.parametrize("locale", DASHBOARD.languages)
def test_every_refusal_code_construct_and_problem_has_the_dashboards_words_in_every_language(
    locale: str,
) -> None:
    phrases = DASHBOARD.words[locale].phrases
    wanted = {f"sandbox_{code}" for code in (*Refusal, "other", "at_line")}
    wanted |= {f"sandbox_construct_{construct}" for construct in Construct}
    wanted |= {f"sandbox_problem_{problem}" for problem in (*HtmlProblem, "other")}
    assert wanted == {key for key in phrases if key.startswith("sandbox_")}


@pytest.mark.parametrize("locale", [code for code in BOT_LOCALES if code != "en"])
def test_each_sentence_quotes_the_same_placeholders_as_in_english(locale: str) -> None:
    english, theirs = _bot_words("en"), _bot_words(locale)
    for table in ("reasons", "constructs", "problems"):
        ours, other = getattr(english, table), getattr(theirs, table)
        for key, text in ours.items():
            assert _placeholders(other[key]) == _placeholders(text), (table, key)


@pytest.mark.parametrize("locale", BOT_LOCALES)
@pytest.mark.parametrize("refusal", REFUSALS, ids=_id)
def test_every_refusal_is_told_in_every_language_with_what_it_quotes(
    refusal: PromptTemplateError, locale: str
) -> None:
    told = html.unescape(
        RENDERER.render(
            "therapist/wording_refused", locale, code=refusal.code, params=refusal.params
        )
    )
    shown = views.sandbox_reason(refusal.code, refusal.params, DASHBOARD.words[locale])
    words = _bot_words(locale)
    # The bot and the dashboard say the same thing, and not the fallback for unknown codes.
    assert shown in told
    assert _unbraced(words.reasons["other"]) not in told
    assert _unbraced(words.problems["other"]) not in told
    for key in QUOTED:
        if refusal.params.get(key) not in (None, ""):
            assert str(refusal.params[key]) in shown, key
    if locale != "en":
        english = _bot_words("en")
        texts = [*words.reasons.values(), *words.constructs.values(), *words.problems.values()]
        leftovers = english_pieces(
            [*english.reasons.values(), *english.constructs.values(), *english.problems.values()],
            texts,
        )
        assert [piece for piece in leftovers if piece in told] == []


def _unbraced(text: str) -> str:
    return text.replace("{{", "{").replace("}}", "}")


def test_the_leftover_check_would_catch_an_english_sentence() -> None:
    english = _bot_words("en")
    leftovers = english_pieces(english.reasons.values(), _bot_words("de").reasons.values())
    assert "Unknown variable '" in leftovers
    assert "The template is empty. Write the words partners should get" in leftovers
    told = RENDERER.render(
        "therapist/wording_refused",
        "en",
        code="unknown_variable",
        params={"name": "x", "allowed": "y"},
    )
    assert "Unknown variable '" in html.unescape(told)
