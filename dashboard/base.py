"""What every page of the dashboard shares: the database, the clock, the sessions, the
templates, and the checks a request passes before it may read or change anything."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Callable

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from dashboard import security
from dashboard.render import Templates
from dashboard.security import COOKIE_NAME, MAX_FIELD_BYTES, MAX_FORM_FIELDS, MAX_ID
from dashboard.sessions import DashboardSession, SessionStore, SignedOut
from scheduler.wording import WordingChecks
from storage.db import Database

log = logging.getLogger(__name__)


class Dashboard:
    """The dashboard's shared parts, handed to each area's pages."""

    def __init__(
        self,
        db: Database,
        clock: Callable[[], dt.datetime],
        public_url: str,
        secure_cookies: bool,
        sessions: SessionStore,
        templates: Templates,
        wording: WordingChecks | None = None,
    ) -> None:
        origin = security.origin(public_url)
        if origin is None:
            raise ValueError(f"public_url must be an http(s) URL, not {public_url!r}")
        self.db = db
        self.clock = clock
        self.public_url = public_url
        self.origin = origin
        self.secure_cookies = secure_cookies
        self.sessions = sessions
        self.templates = templates
        # The bot's checks and preview for a therapist's own wording (None: no wording forms).
        self.wording = wording

    def language(self, request: Request, chosen: str | None = None) -> str:
        """The page's language: the therapist's own choice, else the browser's, else English."""
        return self.templates.language(chosen, request.headers.get("accept-language"))

    def language_of(self, session: DashboardSession) -> str:
        """The language of a signed-in page (`session` as `session()` returned it)."""
        return self.templates.language(session.language, None)

    async def session(self, request: Request) -> DashboardSession:
        """The request's live session (its `language` the page's), or `SignedOut`."""
        found = await self.sessions.get(request.cookies.get(COOKIE_NAME), self.clock())
        if found is None:
            raise SignedOut()
        return dataclasses.replace(found, language=self.language(request, found.language))

    def set_cookie(self, response: Response, value: str, max_age: int) -> None:
        """Set (or, with max_age 0, clear) the session cookie."""
        security.set_cookie(response, value, max_age, secure=self.secure_cookies)

    async def checked_form(self, request: Request) -> tuple[DashboardSession, FormData]:
        """A POST's session and form, once its origin and CSRF token check out."""
        origin = request.headers.get("origin")
        if origin is not None and security.origin(origin) != self.origin:
            log.info("dashboard POST refused: foreign origin")
            raise HTTPException(403)
        session = await self.session(request)
        form = await request.form(
            max_files=0, max_fields=MAX_FORM_FIELDS, max_part_size=MAX_FIELD_BYTES
        )
        submitted = form.get("csrf")
        if not isinstance(submitted, str) or not session.csrf_matches(submitted):
            log.info("dashboard POST refused: missing or wrong CSRF token")
            raise HTTPException(403)
        return session, form


def path_id(request: Request, name: str) -> int:
    """A positive id from the path (`couple_id`, `template_id`); 404 when out of range."""
    value = int(request.path_params[name])
    if not 0 < value <= MAX_ID:
        raise HTTPException(404)
    return value
