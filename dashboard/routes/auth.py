"""Signing in with a one-time link, staying signed in, and signing out."""

from __future__ import annotations

import datetime as dt
import logging
from urllib.parse import urlsplit

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from dashboard import security
from dashboard.base import Dashboard
from dashboard.codes import Page
from dashboard.i18n import is_language
from dashboard.security import COOKIE_NAME, MAX_TOKEN_CHARS
from dashboard.sessions import REMEMBERED_TTL, SESSION_TTL, SignedOut
from storage import therapists

log = logging.getLogger(__name__)


def routes(dash: Dashboard) -> list[Route]:
    """The sign-in and sign-out addresses."""
    pages = SignIn(dash)
    return [
        Route("/login/{token}", pages.login, methods=["GET"]),
        Route("/signed-out", pages.signed_out, methods=["GET"]),
        Route("/logout", pages.logout, methods=["POST"]),
        Route("/logout-everywhere", pages.logout_everywhere, methods=["POST"]),
        Route("/remember", pages.remember, methods=["POST"]),
        Route("/language", pages.language, methods=["POST"]),
    ]


class SignIn:
    """The pages that start, keep and end a session."""

    def __init__(self, dash: Dashboard) -> None:
        self.dash = dash

    async def login(self, request: Request) -> Response:
        """Exchange a one-time login link for a session cookie."""
        if request.method == "HEAD":  # a link checker must not use the link up
            return Response(status_code=200, headers={"Referrer-Policy": "no-referrer"})
        token = str(request.path_params["token"])
        now = self.dash.clock()
        therapist = None
        if 0 < len(token) <= MAX_TOKEN_CHARS:
            therapist = await self.dash.db.run(therapists.use_login, token, now)
        response: Response
        if therapist is None:
            log.info("dashboard login refused")
            lang = self.dash.language(request)
            response = self.dash.templates.message("link_invalid", 403, lang=lang)
        else:
            response = await self._start(request, therapist.id, now)
        response.headers["Referrer-Policy"] = "no-referrer"  # this URL holds the token
        return response

    async def _start(self, request: Request, therapist_id: int, now: dt.datetime) -> Response:
        """A new session for this browser (ending the one it had), and on to the overview."""
        await self.dash.sessions.end(request.cookies.get(COOKIE_NAME))
        session_id = await self.dash.sessions.create(therapist_id, now)
        log.info("dashboard login: therapist %s", therapist_id)
        response = RedirectResponse("/", status_code=303)
        self.dash.set_cookie(response, session_id, int(SESSION_TTL.total_seconds()))
        return response

    async def logout(self, request: Request) -> Response:
        """Sign out: forget the session and the cookie."""
        await self.dash.checked_form(request)
        await self.dash.sessions.end(request.cookies.get(COOKIE_NAME))
        response = RedirectResponse("/signed-out", status_code=303)
        self.dash.set_cookie(response, "", 0)
        return response

    async def logout_everywhere(self, request: Request) -> Response:
        """Sign out on every device: all of this therapist's sessions end."""
        session, _ = await self.dash.checked_form(request)
        ended = await self.dash.sessions.end_therapist(session.therapist_id)
        log.info("dashboard: therapist %s ended %s sessions", session.therapist_id, ended)
        response = RedirectResponse("/signed-out?everywhere=1", status_code=303)
        self.dash.set_cookie(response, "", 0)
        return response

    async def remember(self, request: Request) -> Response:
        """Keep this browser signed in for 30 days."""
        await self.dash.checked_form(request)
        cookie = request.cookies.get(COOKIE_NAME)
        if await self.dash.sessions.remember(cookie, self.dash.clock()) is None:
            raise SignedOut()
        response = RedirectResponse("/?remembered=1", status_code=303)
        self.dash.set_cookie(response, cookie or "", int(REMEMBERED_TTL.total_seconds()))
        return response

    async def language(self, request: Request) -> Response:
        """Keep the chosen language for this therapist, on every device; back to the page."""
        session, form = await self.dash.checked_form(request)
        chosen = form.get("language")
        if not isinstance(chosen, str) or not is_language(chosen, self.dash.templates.languages):
            raise HTTPException(400)
        await self.dash.db.run(therapists.set_language, session.therapist_id, chosen)
        log.info("dashboard: therapist %s chose a language", session.therapist_id)
        return RedirectResponse(self._back(request), status_code=303)

    def _back(self, request: Request) -> str:
        """The page the switch was on (our own origin only), else the overview."""
        raw = request.headers.get("referer", "")
        referer = urlsplit(raw)
        if security.origin(raw) != self.dash.origin or not referer.path.startswith("/"):
            return "/"
        return referer.path + (f"?{referer.query}" if referer.query else "")

    async def signed_out(self, request: Request) -> Response:
        """Where signing out lands."""
        everywhere = request.query_params.get("everywhere") == "1"
        key: Page = "signed_out_everywhere" if everywhere else "signed_out"
        return self.dash.templates.message(key, 200, lang=self.dash.language(request))
