"""The dashboard's pages from Jinja templates: autoescaped, strict, with one inline stylesheet.

Python hands the templates codes (a page's key, a reason, what was saved) and the page's
language; the words are in the language's strings template (`templates/_strings.html` for
English, `_strings.de.html` for German: see `dashboard.i18n`), which every page reads as
`s`, and the phrases Python puts together come from its `words` (`w`).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context
from jinja2.runtime import Context
from markupsafe import Markup
from starlette.responses import HTMLResponse

from dashboard import i18n, views
from dashboard.codes import Page
from dashboard.i18n import REFERENCE, DateKind, Words
from scheduler.therapy import Control, PartnerCard
from scheduler.wording import WordingRefused

TEMPLATES_DIR = i18n.TEMPLATES_DIR


def _words(context: Context) -> Words:
    words = context.get("w")
    return words if isinstance(words, Words) else i18n.ENGLISH


@pass_context
def _kind_label(context: Context, kind: str) -> str:
    return _words(context).kind(kind)


@pass_context
def _partner_label(context: Context, partner: PartnerCard) -> str:
    return views.partner_label(partner, _words(context))


@pass_context
def _control_schedule(context: Context, control: Control, zone: str) -> str:
    return views.control_schedule(control, zone, _words(context))


@pass_context
def _control_owner(context: Context, control: Control) -> str:
    return views.control_owner(control, _words(context))


@pass_context
def _next_times(context: Context, partner: PartnerCard, kind: str) -> list[str]:
    return views.next_times(partner, kind, _words(context))


@pass_context
def _short_day(context: Context, day: int) -> str:
    return i18n.weekday_names(_words(context).code, "abbreviated")[day]


@pass_context
def _days_text(context: Context, days: Sequence[int]) -> str:
    return views.days_text(days, _words(context))


@pass_context
def _sandbox_reason(context: Context, refused: WordingRefused) -> str:
    return views.sandbox_reason(refused.code, refused.params, _words(context))


@pass_context
def _date(context: Context, value: dt.date, kind: DateKind = "date") -> str:
    return _words(context).date(value, kind)


def _environment(directory: Path) -> Environment:
    env = Environment(
        loader=FileSystemLoader(directory),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["kind_label"] = _kind_label
    env.filters["partner_label"] = _partner_label
    env.filters["control_schedule"] = _control_schedule
    env.filters["control_owner"] = _control_owner
    env.filters["date"] = _date
    env.filters["next_times"] = _next_times
    env.filters["short_day"] = _short_day
    env.filters["days_text"] = _days_text
    env.filters["sandbox_reason"] = _sandbox_reason
    return env


class Templates:
    """The Jinja environment, each language's strings, and the one inline stylesheet with
    its hash for the CSP."""

    def __init__(self, directory: Path = TEMPLATES_DIR) -> None:
        self.env = _environment(directory)
        self.languages = i18n.languages(directory)
        # Each language's name in itself, for the switch: "English", "Deutsch".
        self.language_names = {code: i18n.language_name(code) for code in self.languages}
        self.words = {code: Words.load(code, directory) for code in self.languages}
        # A strings template's macros write in its own language: its `words` as `w`, for the
        # filters (a practice's name, dates and day names from Babel).
        self.strings = {
            code: self.env.get_template(i18n.strings_file(code)).make_module(
                {"lang": code, "w": self.words[code]}
            )
            for code in self.languages
        }
        css = (directory / "style.css").read_text(encoding="utf-8").strip()
        if "<" in css:
            raise ValueError("the stylesheet must not contain '<'")
        # Our own file, inlined verbatim so its hash in the CSP matches.
        self.stylesheet = Markup(css)  # noqa: S704
        self.style_hash = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
        # The couple page's live wording preview (an enhancement; every form works without).
        script = (directory / "wording.js").read_text(encoding="utf-8").strip()
        if "</" in script:
            raise ValueError("the script must not contain '</'")
        self.wording_script = Markup(script)  # noqa: S704 - our own file
        self.script_hash = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()

    def language(self, stored: str | None, accept_language: str | None) -> str:
        """A page's language: the therapist's own, else the browser's, else English."""
        return i18n.choose(stored, accept_language, self.languages)

    def render(
        self, template: str, status: int = 200, *, lang: str = REFERENCE, **context: Any
    ) -> HTMLResponse:
        """A page in `lang`; the header's name, language switch and sign-out form only
        when `therapist_name` is given."""
        context.setdefault("therapist_name", None)
        context.setdefault("csrf", "")
        context.setdefault("refresh", False)
        context.setdefault("here", "/")
        code = lang if lang in self.strings else REFERENCE
        body = self.env.get_template(template).render(
            stylesheet=self.stylesheet,
            wording_script=self.wording_script,
            lang=code,
            s=self.strings[code],
            w=self.words[code],
            language_names=self.language_names,
            **context,
        )
        return HTMLResponse(body, status_code=status)

    def message(
        self, key: Page, status: int, *, lang: str = REFERENCE, **context: Any
    ) -> HTMLResponse:
        """One of the short pages: a heading, a few lines, what to do next."""
        context.setdefault("back", False)
        return self.render("message.html", status, lang=lang, key=key, **context)
