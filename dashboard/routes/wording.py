"""The wording forms on the couple page: preview, save, back to the library's, restore.

Each prompt kind has its own form (`dashboard.wording.SLUGS` in the address). "Preview"
shows the couple page again with what was typed, checked and previewed for each partner;
"Save" saves it when the sandbox accepts it and, if the tone check noticed words that may
land as pressure, once the therapist confirmed them. Nothing refused is lost: the page
comes back with the text as typed and why (400).
"""

from __future__ import annotations

import logging
import re

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from dashboard import forms, wording
from dashboard.base import Dashboard, path_id
from dashboard.routes.couple import CouplePages
from dashboard.security import MAX_ID
from scheduler.wording import WordingChecks

log = logging.getLogger(__name__)

_ID = re.compile(r"[0-9]{1,10}")


def routes(dash: Dashboard) -> list[Route]:
    """The wording forms' targets."""
    pages = WordingPages(dash)
    return [
        Route("/couples/{couple_id:int}/wording/restore", pages.restore, methods=["POST"]),
        Route("/couples/{couple_id:int}/wording/{slug:str}", pages.wording, methods=["POST"]),
        Route(
            "/couples/{couple_id:int}/wording/{slug:str}/preview",
            pages.live_preview,
            methods=["POST"],
        ),
    ]


def _anchor(kind: str) -> str:
    return f"#wording-{wording.SLUGS_BY_KIND[kind]}"


def _typed_text(value: object) -> str:
    """The text as typed (only line endings made plain); the sandbox judges the rest."""
    return value.replace("\r\n", "\n") if isinstance(value, str) else ""


class WordingPages:
    """The wording forms' targets."""

    def __init__(self, dash: Dashboard) -> None:
        self.dash = dash
        self.couple = CouplePages(dash)

    def _checks(self) -> WordingChecks:
        if self.dash.wording is None:
            raise HTTPException(404)
        return self.dash.wording

    async def wording(self, request: Request) -> Response:
        """Preview, save, or go back to the library's wording for one prompt kind."""
        checks = self._checks()
        session, form = await self.dash.checked_form(request)
        couple_id = path_id(request, "couple_id")
        kind = wording.SLUGS.get(request.path_params["slug"])
        if kind is None:
            raise HTTPException(404)
        action = forms.text(form, "action")
        now = self.dash.clock()
        if action == "off":
            await self.dash.db.run(wording.save, session.therapist_id, couple_id, kind, None, now)
            log.info("dashboard: therapist %s reset a wording", session.therapist_id)
            return RedirectResponse(
                f"/couples/{couple_id}?saved=wording_off{_anchor(kind)}", status_code=303
            )
        source = _typed_text(form.get("text"))
        loaded = await self.dash.db.run(wording.load, session.therapist_id, couple_id)
        typed = wording.checked_form(
            checks,
            kind,
            source,
            loaded.partners,
            now,
            confirmed=forms.text(form, "confirm_tone") == "on",
        )
        if action == "save" and not typed.refused and not typed.unconfirmed:
            await self.dash.db.run(wording.save, session.therapist_id, couple_id, kind, source, now)
            log.info("dashboard: therapist %s saved a wording", session.therapist_id)
            return RedirectResponse(
                f"/couples/{couple_id}?saved=wording{_anchor(kind)}", status_code=303
            )
        status = 400 if typed.refused or action == "save" else 200
        return await self.couple.page(session, couple_id, status=status, typed={kind: typed})

    async def restore(self, request: Request) -> Response:
        """Put an older version back in force, once the sandbox still accepts it."""
        checks = self._checks()
        session, form = await self.dash.checked_form(request)
        couple_id = path_id(request, "couple_id")
        raw = forms.text(form, "version")
        if _ID.fullmatch(raw) is None or not 0 < int(raw) <= MAX_ID:
            raise HTTPException(404)
        now = self.dash.clock()
        found = await self.dash.db.run(
            wording.load_version, session.therapist_id, couple_id, int(raw)
        )
        if found.text is not None:
            loaded = await self.dash.db.run(wording.load, session.therapist_id, couple_id)
            typed = wording.checked_form(
                checks, found.kind, found.text, loaded.partners, now, confirmed=True
            )
            if typed.refused:
                return await self.couple.page(
                    session, couple_id, status=400, typed={found.kind: typed}
                )
        kind = await self.dash.db.run(
            wording.restore, session.therapist_id, couple_id, found.id, now
        )
        log.info("dashboard: therapist %s restored a wording", session.therapist_id)
        return RedirectResponse(
            f"/couples/{couple_id}?saved=wording_restored{_anchor(kind)}", status_code=303
        )

    async def live_preview(self, request: Request) -> Response:
        """What "Preview" shows, alone: the live preview's answer as the therapist types."""
        checks = self._checks()
        session, form = await self.dash.checked_form(request)
        couple_id = path_id(request, "couple_id")
        kind = wording.SLUGS.get(request.path_params["slug"])
        if kind is None:
            raise HTTPException(404)
        loaded = await self.dash.db.run(wording.load, session.therapist_id, couple_id)
        typed = wording.checked_form(
            checks,
            kind,
            _typed_text(form.get("text")),
            loaded.partners,
            self.dash.clock(),
            confirmed=False,
        )
        return self.dash.templates.render(
            "_wording_previews.html",
            lang=self.dash.language_of(session),
            form=typed,
            wording_live=True,
        )
