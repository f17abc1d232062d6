"""The dashboard's languages: which one a page is in, and dates written in it.

Every word lives in the templates: `templates/_strings.html` is the reference (English),
and each other language has `templates/_strings.<code>.html` with the same keys and
macros (`nudgebot i18n check` compares them). A page's language is the therapist's own
choice (or Telegram's language_code), else the browser's Accept-Language, else English.

Dates and times come from Babel (CLDR) in the page's language, with 24-hour times and
the day before the month in every language, as therapists asked; never `strftime`,
whose names are English whatever the page says.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Literal
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.core import negotiate_locale
from babel.dates import format_skeleton, get_day_names
from jinja2 import Environment, nodes

# The reference language every other is checked against, and the last fallback; its
# CLDR region says whose conventions it is written in (English: day first, 24-hour).
REFERENCE = "en"
CLDR_REGIONS = {"en": "en_GB"}
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
STRINGS = "_strings.html"
_STRINGS_FILE = re.compile(r"^_strings\.([a-z]{2,3})\.html$")
_CODE = re.compile(r"^[a-z]{2,3}$")
_ACCEPT_ITEMS = 12  # enough for any real browser, and a cap on what a header can cost

DateKind = Literal["date", "day_month", "weekday_date", "weekday_day_month", "time"]
"""What `format_date` writes, shown as en / de:

- `date`: "3 Dec 2026" / "3. Dez. 2026"
- `day_month`: "3 Dec" / "3. Dez."
- `weekday_date`: "Thu, 3 Dec 2026" / "Do., 3. Dez. 2026"
- `weekday_day_month`: "Thu 3 Dec" / "Do., 3. Dez."
- `time`: "21:00" / "21:00"
"""
_SKELETONS: dict[str, str] = {
    "date": "yMMMd",
    "day_month": "MMMd",
    "weekday_date": "yMMMEd",
    "weekday_day_month": "MMMEd",
    "time": "Hm",
}


def strings_file(code: str) -> str:
    """The strings template of a language: `_strings.html` for English, else `_strings.de.html`."""
    return STRINGS if code == REFERENCE else f"_strings.{code}.html"


def languages(templates_dir: Path) -> tuple[str, ...]:
    """The languages the dashboard has words for: English first, then the others."""
    others = sorted(
        match.group(1)
        for path in templates_dir.iterdir()
        if (match := _STRINGS_FILE.match(path.name)) and match.group(1) != REFERENCE
    )
    return (REFERENCE, *others)


def _accepted(header: str) -> list[str]:
    """The languages of an Accept-Language header, most wanted first (q=0 left out)."""
    weighted: list[tuple[float, int, str]] = []
    for index, item in enumerate(header.split(",")[:_ACCEPT_ITEMS]):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        name, _, value = params.strip().partition("=")
        if name.strip() == "q":
            try:
                quality = float(value)
            except ValueError:
                quality = 0.0
        if tag and quality > 0:
            weighted.append((-quality, index, tag.strip().lower()))
    return [tag for _, _, tag in sorted(weighted)]


def choose(stored: str | None, accept_language: str | None, available: Sequence[str]) -> str:
    """A page's language: the therapist's stored one, else the browser's, else English."""
    if stored in available:
        return str(stored)
    wanted = _accepted(accept_language or "")
    found = negotiate_locale(wanted, list(available), sep="-") if wanted else None
    return str(found) if found in available else REFERENCE


def is_language(code: str, available: Sequence[str]) -> bool:
    """Whether a submitted language code is one the dashboard speaks."""
    return bool(_CODE.match(code)) and code in available


def cldr(code: str) -> Locale:
    """Babel's locale for a language code (English as written in Britain: day first)."""
    try:
        return Locale.parse(CLDR_REGIONS.get(code, code))
    except (UnknownLocaleError, ValueError):
        return Locale.parse(CLDR_REGIONS[REFERENCE])


def format_date(value: dt.date | dt.datetime, code: str, kind: DateKind = "date") -> str:
    """A date (or an aware datetime, as it is) written in a language."""
    return str(format_skeleton(_SKELETONS[kind], value, locale=cldr(code)))


def format_when(value: dt.datetime, zone: str, code: str) -> str:
    """An aware instant in a person's zone: "Thu 3 Dec 21:00" / "Do., 3. Dez. 21:00"."""
    if value.tzinfo is None:
        raise ValueError("format_when needs an aware datetime")
    there = value.astimezone(ZoneInfo(zone))
    return f"{format_date(there, code, 'weekday_day_month')} {format_date(there, code, 'time')}"


def weekday_names(code: str, width: Literal["wide", "abbreviated"] = "wide") -> tuple[str, ...]:
    """The weekdays, Monday first: ("Monday", ...) / ("Montag", ...)."""
    names = get_day_names(width, locale=cldr(code))
    return tuple(str(names[index]) for index in range(7))


class Words:
    """The short phrases Python puts together (labels, previews, plan lines) in one language.

    They live in each strings template as one constant dict, `{% set words = {...} %}`,
    with `{placeholders}` that `format` fills; read from the template's source, so Python
    holds no words of its own.
    """

    def __init__(self, code: str, phrases: Mapping[str, str]) -> None:
        self.code = code
        self.phrases = MappingProxyType(dict(phrases))

    def __call__(self, key: str, **values: object) -> str:
        """The phrase `key`, its placeholders filled in."""
        return self.phrases[key].format(**values)

    def kind(self, kind: str) -> str:
        """A practice's name: "Nightly appreciation" / "Abendliche Wertschätzung"."""
        return self.phrases.get(f"kind_{kind}", kind.replace("_", " ").capitalize())

    def kind_in_sentence(self, kind: str) -> str:
        """A practice's name in a sentence: "nightly appreciation" / "abendliche Wertschätzung"."""
        return self.phrases.get(f"kind_in_sentence_{kind}", self.kind(kind).lower())

    def date(self, value: dt.date | dt.datetime, kind: DateKind = "date") -> str:
        """A date in this language (see `DateKind`)."""
        return format_date(value, self.code, kind)

    @classmethod
    def load(cls, code: str, templates_dir: Path = TEMPLATES_DIR) -> Words:
        """The phrases of a language, from its strings template."""
        return _load_words(code, templates_dir)


@functools.cache
def _load_words(code: str, templates_dir: Path) -> Words:
    source = (templates_dir / strings_file(code)).read_text(encoding="utf-8")
    for node in Environment(autoescape=True).parse(source).body:
        if (
            isinstance(node, nodes.Assign)
            and isinstance(node.target, nodes.Name)
            and node.target.name == "words"
            and isinstance(node.node, nodes.Dict)
        ):
            phrases = node.node.as_const()
            return Words(code, {str(k): str(v) for k, v in phrases.items()})
    raise LookupError(f"{strings_file(code)} has no `words`")


ENGLISH = Words.load(REFERENCE)


def language_name(code: str) -> str:
    """A language's name in itself: "English", "Deutsch"."""
    name = cldr(code).get_language_name(cldr(code)) or code
    return name[:1].upper() + name[1:]
