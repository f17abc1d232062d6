"""Every message template renders, fits Telegram, is valid Telegram HTML, and escapes."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from jinja2 import TemplateNotFound

from bot.render import DateKind, Renderer, format_local
from bot.samples import sample_context
from bot.settings import DEFAULT_TEMPLATES_DIR
from fakes.telegram_api import utf16_len, validate_telegram_html

RENDERER = Renderer(DEFAULT_TEMPLATES_DIR)
NAMES = RENDERER.names("en")
LOCALES = ("en", "de")
EVERY = [pytest.param(locale, name, id=f"{locale}:{name}") for locale in LOCALES for name in NAMES]
HOSTILE = '<script>alert("x")</script> & </b> {{ 7*7 }}'


def test_there_are_templates() -> None:
    assert len(NAMES) >= 40
    assert "onboarding/welcome" in NAMES


def test_every_english_template_has_a_german_one() -> None:
    assert RENDERER.names("de") == NAMES


@pytest.mark.parametrize(("locale", "name"), EVERY)
def test_each_template_renders_as_valid_telegram_html(locale: str, name: str) -> None:
    text = RENDERER.render(name, locale, **sample_context(name, locale))
    plain = validate_telegram_html(text)
    assert plain.strip(), "renders to nothing"
    assert utf16_len(plain) <= 4096
    # Outside <code> examples (which may show template syntax on purpose), nothing unfilled.
    outside_code = re.sub(r"<code>.*?</code>", "", text, flags=re.S)
    assert "{{" not in outside_code and "{%" not in outside_code
    assert "None" not in plain


@pytest.mark.parametrize(("locale", "name"), EVERY)
def test_text_people_write_is_escaped(locale: str, name: str) -> None:
    values = sample_context(name, locale)
    values.update(name=HOSTILE, first_name=HOSTILE, suggested=HOSTILE)
    text = RENDERER.render(name, locale, **values)
    plain = validate_telegram_html(text)
    assert "<script>" not in text
    assert "49" not in plain  # written text is data, never evaluated as a template


def test_a_missing_locale_falls_back_to_english() -> None:
    assert RENDERER.render("errors/unknown_command", "xx") == RENDERER.render(
        "errors/unknown_command", "en"
    )
    assert RENDERER.label("consent_yes", "fr") == "Yes, I agree"


def test_german_is_german_not_a_fallback() -> None:
    assert RENDERER.label("consent_yes", "de") == "Ja, einverstanden"
    assert RENDERER.render("errors/unknown_command", "de") != RENDERER.render(
        "errors/unknown_command", "en"
    )


def test_an_unfilled_placeholder_is_an_error_not_a_blank() -> None:
    from jinja2 import UndefinedError

    with pytest.raises(UndefinedError):
        RENDERER.render("onboarding/ask_name", "en")


@pytest.mark.parametrize("locale", LOCALES)
def test_command_descriptions_fit_telegrams_limits(locale: str) -> None:
    from bot.app import MENU

    for command in MENU:
        description = RENDERER.label(f"cmd_{command}", locale)
        assert 3 <= len(description) <= 256, command


def _tree(root: Path, files: dict[str, str]) -> Renderer:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return Renderer(root)


def test_a_template_imports_the_partial_of_its_own_locale(tmp_path: Path) -> None:
    renderer = _tree(
        tmp_path,
        {
            "en/practice/_p.j2": "{% macro hi() %}hello{% endmacro %}",
            "de/practice/_p.j2": "{% macro hi() %}hallo{% endmacro %}",
            "en/practice/greet.j2": '{% from "practice/_p.j2" import hi %}{{ hi() }}',
            "de/practice/greet.j2": '{% from "practice/_p.j2" import hi %}{{ hi() }}',
        },
    )
    assert renderer.render("practice/greet", "en") == "hello"
    assert renderer.render("practice/greet", "de") == "hallo"


def test_a_locale_without_the_partial_fails_loudly_rather_than_borrowing_english(
    tmp_path: Path,
) -> None:
    renderer = _tree(
        tmp_path,
        {
            "en/practice/_p.j2": "{% macro hi() %}hello{% endmacro %}",
            "de/practice/greet.j2": '{% from "practice/_p.j2" import hi %}{{ hi() }}',
        },
    )
    with pytest.raises(TemplateNotFound, match=r"de/practice/_p\.j2"):
        renderer.render("practice/greet", "de")


def test_the_real_german_settings_use_the_german_schedule_partial() -> None:
    text = RENDERER.render("account/settings", "de", **sample_context("account/settings"))
    assert "Abendliche Wertschätzung" in text
    assert "Nightly appreciation" not in text


INSTANT = dt.datetime(2026, 12, 3, 20, 0, tzinfo=dt.UTC)  # 21:00 in Berlin, 15:00 in New York


@pytest.mark.parametrize(
    ("locale", "kind", "expected"),
    [
        pytest.param("en", "weekday_time", "Thu 21:00", id="en-weekday-time"),
        pytest.param("de", "weekday_time", "Do. 21:00", id="de-weekday-time"),
        pytest.param("en", "day", "Thu 3 Dec", id="en-day-first"),
        pytest.param("de", "day", "Do., 3. Dez.", id="de-day"),
        pytest.param("en", "day_time", "Thu 3 Dec 21:00", id="en-day-time"),
        pytest.param("de", "day_time", "Do., 3. Dez. 21:00", id="de-day-time"),
        pytest.param("en", "weekday", "Thursday", id="en-weekday"),
        pytest.param("de", "weekday", "Donnerstag", id="de-weekday"),
        pytest.param("en", "date", "3 Dec 2026", id="en-date"),
        pytest.param("de", "date", "3. Dez. 2026", id="de-date"),
        pytest.param("de", "time", "21:00", id="de-24-hour"),
        pytest.param("xx", "day", "Thu 3 Dec", id="unknown-locale-is-english"),
    ],
)
def test_format_local_writes_dates_in_the_persons_language(
    locale: str, kind: DateKind, expected: str
) -> None:
    assert format_local(INSTANT, "Europe/Berlin", locale, kind) == expected


def test_format_local_uses_the_persons_zone_not_utc() -> None:
    assert format_local(INSTANT, "America/New_York", "en", "weekday_time") == "Thu 15:00"
    assert format_local(INSTANT, "Asia/Singapore", "de", "weekday_time") == "Fr. 04:00"


def test_format_local_refuses_a_naive_datetime() -> None:
    with pytest.raises(ValueError, match="aware"):
        format_local(INSTANT.replace(tzinfo=None), "UTC", "en", "time")


def test_the_date_filters_follow_the_locale_being_rendered(tmp_path: Path) -> None:
    body = "{{ at|local_time(zone) }} | {{ at|local_date(zone) }} | {{ at|local(zone, 'weekday') }}"
    renderer = _tree(tmp_path, {"en/when.j2": body, "de/when.j2": body})
    values = {"at": INSTANT, "zone": "Europe/Berlin"}
    assert renderer.render("when", "en", **values) == "Thu 21:00 | Thu 3 Dec | Thursday"
    assert renderer.render("when", "de", **values) == "Do. 21:00 | Do., 3. Dez. | Donnerstag"
    # A locale with no templates falls back to English words and English dates alike.
    assert renderer.render("when", "fr", **values) == "Thu 21:00 | Thu 3 Dec | Thursday"
