"""Every message template renders, fits Telegram, is valid Telegram HTML, and escapes."""

from __future__ import annotations

import re

import pytest

from bot.render import Renderer
from bot.samples import sample_context
from bot.settings import DEFAULT_TEMPLATES_DIR
from fakes.telegram_api import utf16_len, validate_telegram_html

RENDERER = Renderer(DEFAULT_TEMPLATES_DIR)
NAMES = RENDERER.names("en")
HOSTILE = '<script>alert("x")</script> & </b> {{ 7*7 }}'


def test_there_are_templates() -> None:
    assert len(NAMES) >= 40
    assert "onboarding/welcome" in NAMES


@pytest.mark.parametrize("name", NAMES)
def test_each_template_renders_as_valid_telegram_html(name: str) -> None:
    text = RENDERER.render(name, "en", **sample_context(name))
    plain = validate_telegram_html(text)
    assert plain.strip(), "renders to nothing"
    assert utf16_len(plain) <= 4096
    # Outside <code> examples (which may show template syntax on purpose), nothing unfilled.
    outside_code = re.sub(r"<code>.*?</code>", "", text, flags=re.S)
    assert "{{" not in outside_code and "{%" not in outside_code
    assert "None" not in plain


@pytest.mark.parametrize("name", NAMES)
def test_text_people_write_is_escaped(name: str) -> None:
    values = sample_context(name)
    values.update(name=HOSTILE, first_name=HOSTILE, suggested=HOSTILE)
    text = RENDERER.render(name, "en", **values)
    plain = validate_telegram_html(text)
    assert "<script>" not in text
    assert "49" not in plain  # written text is data, never evaluated as a template


def test_a_missing_locale_falls_back_to_english() -> None:
    assert RENDERER.render("errors/unknown_command", "xx") == RENDERER.render(
        "errors/unknown_command", "en"
    )
    assert RENDERER.label("consent_yes", "de") == "Yes, I agree"


def test_an_unfilled_placeholder_is_an_error_not_a_blank() -> None:
    from jinja2 import UndefinedError

    with pytest.raises(UndefinedError):
        RENDERER.render("onboarding/ask_name", "en")


def test_command_descriptions_fit_telegrams_limits() -> None:
    from bot.app import MENU

    for command in MENU:
        description = RENDERER.label(f"cmd_{command}")
        assert 3 <= len(description) <= 256, command
