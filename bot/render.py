"""The one renderer: every word the bot sends comes from `templates/messages/`.

Layout: `templates/messages/<locale>/<purpose>/<name>.j2` for messages (Telegram HTML),
and `templates/messages/<locale>/labels.j2` for button labels and command descriptions
(plain text, one `{% set name = "..." %}` each). A missing locale falls back to `en`.

Templates are autoescaped for HTML, so names and anything people write are escaped;
undefined variables raise instead of rendering as blanks.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateNotFound

FALLBACK_LOCALE = "en"
_BLANK_LINES = re.compile(r"\n{3,}")
_LOCALE = re.compile(r"^[a-z]{2,3}$")


def local_time(value: dt.datetime, zone: str, fmt: str = "%a %H:%M") -> str:
    """Format an aware instant in a person's zone, e.g. 'Tue 21:00'."""
    return value.astimezone(ZoneInfo(zone)).strftime(fmt)


class Renderer:
    """Renders message templates and looks up button labels, per locale."""

    def __init__(self, templates_dir: Path, default_locale: str = FALLBACK_LOCALE) -> None:
        if not templates_dir.is_dir():
            raise FileNotFoundError(f"templates directory not found: {templates_dir}")
        self.templates_dir = templates_dir
        self.default_locale = default_locale
        self.env = Environment(
            loader=FileSystemLoader(str(templates_dir)),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
        )
        self.env.filters["local_time"] = local_time
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
