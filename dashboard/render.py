"""The dashboard's pages from Jinja templates: autoescaped, strict, with one inline stylesheet.

Python hands the templates codes (a page's key, a reason, what was saved); the words are in
`templates/_strings.html` and the pages themselves.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup
from starlette.responses import HTMLResponse

from dashboard import views
from dashboard.codes import Page

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"


def _environment(directory: Path) -> Environment:
    env = Environment(
        loader=FileSystemLoader(directory),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["kind_label"] = views.kind_label
    env.filters["partner_label"] = views.partner_label
    env.filters["control_schedule"] = views.control_schedule
    env.filters["control_owner"] = views.control_owner
    return env


class Templates:
    """The Jinja environment and the one inline stylesheet, with its hash for the CSP."""

    def __init__(self, directory: Path = TEMPLATES_DIR) -> None:
        self.env = _environment(directory)
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

    def render(self, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        """A page; the header's name and sign-out form only when `therapist_name` is given."""
        context.setdefault("therapist_name", None)
        context.setdefault("csrf", "")
        context.setdefault("refresh", False)
        body = self.env.get_template(template).render(
            stylesheet=self.stylesheet, wording_script=self.wording_script, **context
        )
        return HTMLResponse(body, status_code=status)

    def message(self, key: Page, status: int, **context: Any) -> HTMLResponse:
        """One of the short pages: a heading, a few lines, what to do next."""
        context.setdefault("back", False)
        return self.render("message.html", status, key=key, **context)
