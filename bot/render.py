"""The one renderer: every word the bot sends comes from `templates/messages/`.

Layout: `templates/messages/<locale>/<purpose>/<name>.j2` for messages (Telegram HTML),
and `templates/messages/<locale>/labels.j2` for button labels and command descriptions
(plain text, one `{% set name = "..." %}` each). A missing locale falls back to `en`.

Names in `{% import %}`, `{% from %}` and `{% include %}` are relative to the importing
template's locale: `{% from "practice/_schedule.j2" import line %}` in `de/...` loads
`de/practice/_schedule.j2`, so a locale never borrows another's wording by accident.

Dates and times come from Babel (CLDR) in the locale being rendered: the filters
`local_time` ("Tue 21:00"), `local_date` ("Tue 3 Dec") and `local` (any `DateKind`) take
an aware datetime and an IANA zone; `format_local` does the same for Python callers.

Templates are autoescaped for HTML, so names and anything people write are escaped;
undefined variables raise instead of rendering as blanks.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_datetime, format_skeleton, get_day_names
from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateNotFound, pass_context
from jinja2.runtime import Context

from bot.settings import CLDR_REGIONS, REFERENCE_LANGUAGE

FALLBACK_LOCALE = REFERENCE_LANGUAGE
_BLANK_LINES = re.compile(r"\n{3,}")
_LOCALE = re.compile(r"^[a-z]{2,3}$")

DateKind = Literal["time", "weekday", "weekday_time", "day", "day_time", "date"]
"""What `format_local` writes, shown as en / de:

- `time`: "21:00" / "21:00"
- `weekday`: "Tuesday" / "Dienstag"
- `weekday_time`: "Tue 21:00" / "Di. 21:00"
- `day`: "Tue 3 Dec" / "Di., 3. Dez."
- `day_time`: "Tue 3 Dec 21:00" / "Di., 3. Dez. 21:00"
- `date`: "3 Dec 2026" / "3. Dez. 2026"
"""

# CLDR skeletons: Babel picks each locale's own order and punctuation; "H" keeps 24-hour
# times everywhere.
_SKELETONS: dict[str, str] = {
    "time": "Hm",
    "day": "MMMEd",
    "date": "yMMMd",
}
# Where a skeleton's punctuation gets in the way: CLDR's German "Di., 21:00" reads as two
# items in a comma-separated list of next times, so the weekday and time go side by side.
_PATTERNS: dict[str, str] = {
    "weekday": "EEEE",
    "weekday_time": "EEE HH:mm",
}
# The CLDR region whose conventions a bare language code is written in (bot.settings):
# CLDR's plain English is US English (month first); the bot writes day first.
_CLDR_REGION = CLDR_REGIONS


def _cldr_locale(locale: str | None) -> Locale:
    code = locale if locale and _LOCALE.match(locale) else FALLBACK_LOCALE
    try:
        return Locale.parse(_CLDR_REGION.get(code, code))
    except (UnknownLocaleError, ValueError):
        return Locale.parse(_CLDR_REGION[FALLBACK_LOCALE])


def language_name(code: str) -> str:
    """A language's name in that language: "English", "Deutsch"."""
    name = _cldr_locale(code).get_language_name(code) or code
    return name[:1].upper() + name[1:]


def weekday_name(index: int, locale: str | None) -> str:
    """The full name of a weekday (0 = Monday) in a language: "Sunday", "Sonntag"."""
    return str(get_day_names("wide", locale=_cldr_locale(locale))[index])


def weekday_names(locale: str | None) -> dict[str, int]:
    """A language's weekday names, full and abbreviated, for the day parser (0 = Monday)."""
    cldr = _cldr_locale(locale)
    names: dict[str, int] = {}
    for width in ("wide", "abbreviated"):
        for index, name in get_day_names(width, locale=cldr).items():
            names.setdefault(name.casefold().removesuffix("."), int(index))
    return names


def format_local(
    value: dt.datetime, zone: str, locale: str | None, kind: DateKind = "weekday_time"
) -> str:
    """Write an aware instant as a person reads it: in their zone and their language.

    Args:
        value: an aware datetime (UTC or any zone).
        zone: the person's IANA zone, e.g. "Europe/Berlin".
        locale: the person's language code, e.g. "de"; unknown ones fall back to English.
        kind: which parts to show (see `DateKind`).
    """
    if value.tzinfo is None:
        raise ValueError("format_local needs an aware datetime")
    cldr = _cldr_locale(locale)
    there = value.astimezone(ZoneInfo(zone))
    if kind in _PATTERNS:
        return str(format_datetime(there, _PATTERNS[kind], locale=cldr))
    if kind == "day_time":
        day = format_skeleton(_SKELETONS["day"], there, locale=cldr)
        return f"{day} {format_skeleton(_SKELETONS['time'], there, locale=cldr)}"
    return str(format_skeleton(_SKELETONS[kind], there, locale=cldr))


def _template_locale(context: Context) -> str | None:
    """The locale a template belongs to: the first part of its name ("de/...")."""
    name = context.name or ""
    head = name.split("/", 1)[0]
    return head if "/" in name and _LOCALE.match(head) else None


@pass_context
def _local_filter(
    context: Context, value: dt.datetime, zone: str, kind: DateKind = "weekday_time"
) -> str:
    return format_local(value, zone, _template_locale(context), kind)


@pass_context
def _local_date_filter(context: Context, value: dt.datetime, zone: str) -> str:
    return format_local(value, zone, _template_locale(context), "day")


class _LocaleEnvironment(Environment):
    """A Jinja environment whose imports stay inside the importing template's locale."""

    def join_path(self, template: str, parent: str) -> str:
        head, sep, _ = parent.partition("/")
        if sep and _LOCALE.match(head):
            return f"{head}/{template}"
        return template


class Renderer:
    """Renders message templates and looks up button labels, per locale."""

    def __init__(self, templates_dir: Path, default_locale: str = FALLBACK_LOCALE) -> None:
        if not templates_dir.is_dir():
            raise FileNotFoundError(f"templates directory not found: {templates_dir}")
        self.templates_dir = templates_dir
        self.default_locale = default_locale
        self.env = _LocaleEnvironment(
            loader=FileSystemLoader(str(templates_dir)),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
        )
        self.env.filters["local"] = _local_filter
        self.env.filters["local_time"] = _local_filter
        self.env.filters["local_date"] = _local_date_filter
        self._labels: dict[str, Mapping[str, Any]] = {}
        self._names: dict[str, tuple[str, ...]] = {}

    def _candidates(self, name: str, locale: str | None) -> list[str]:
        locales = []
        for candidate in (locale, self.default_locale, FALLBACK_LOCALE):
            if candidate and _LOCALE.match(candidate) and candidate not in locales:
                locales.append(candidate)
        return [f"{loc}/{name}.j2" for loc in locales]

    def render(self, name: str, locale: str | None = None, /, **context: Any) -> str:
        """Render `templates/messages/<locale>/<name>.j2` to Telegram HTML."""
        template = self.env.select_template(self._candidates(name, locale))
        text = template.render(**context).strip()
        return _BLANK_LINES.sub("\n\n", text)

    def label(self, key: str, locale: str | None = None, /, **values: Any) -> str:
        """A button label or other plain-text string from `labels.j2`."""
        for loc in self._candidates("labels", locale):
            module = self._labels.get(loc)
            if module is None:
                try:
                    template = self.env.get_template(loc)
                except TemplateNotFound:
                    continue
                module = self._labels.setdefault(loc, template.module.__dict__)
            if key in module:
                text = str(module[key])
                return text.format(**values) if values else text
        raise KeyError(f"no label {key!r}")

    def locales(self) -> list[str]:
        """Every locale that has a directory of templates, sorted."""
        return sorted(
            path.name
            for path in self.templates_dir.iterdir()
            if path.is_dir() and _LOCALE.match(path.name)
        )

    def language_for(self, code: str | None) -> str:
        """The language we speak that is closest to Telegram's `language_code` ("de-AT")."""
        base = (code or "").split("-")[0].lower()
        return base if base in self.locales() else self.default_locale

    def names(self, locale: str = FALLBACK_LOCALE) -> list[str]:
        """Every message template of a locale, as names `render` accepts (not partials).

        Read once per locale: the dispatcher asks for every nudge it renders.
        """
        names = self._names.get(locale)
        if names is None:
            root = self.templates_dir / locale
            names = self._names.setdefault(
                locale,
                tuple(
                    sorted(
                        str(path.relative_to(root).with_suffix("")).replace("\\", "/")
                        for path in root.rglob("*.j2")
                        if path.name != "labels.j2" and not path.name.startswith("_")
                    )
                ),
            )
        return list(names)
