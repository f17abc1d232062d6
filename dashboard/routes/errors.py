"""The dashboard's own calm pages for every error: signed out, 4xx, and 500."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from dashboard import loaders
from dashboard.base import Dashboard
from dashboard.codes import Page
from dashboard.security import COOKIE_NAME, security_headers
from dashboard.sessions import SignedOut

log = logging.getLogger(__name__)

_STATUS_PAGES: Mapping[int, Page] = {
    400: "bad_request",
    403: "forbidden",
    404: "not_found",
    405: "not_allowed",
    413: "too_large",
}
# Only when the error page itself cannot be rendered: no template is left to word it.
LAST_RESORT = "Something went wrong. Please try again."


def _sent_from_another_site(request: Request) -> bool:
    """A navigation from another site, without our cookie (SameSite=Strict withheld it)."""
    return (
        request.method == "GET"
        and request.headers.get("sec-fetch-site") == "cross-site"
        and COOKIE_NAME not in request.cookies
    )


class ErrorPages:
    """The exception handlers."""

    def __init__(self, dash: Dashboard) -> None:
        self.dash = dash

    async def not_signed_in(self, request: Request, exc: Exception) -> Response:
        """401 with the way to sign in; never any data."""
        if isinstance(exc, SignedOut) and exc.therapist_id is not None:
            await self.dash.sessions.end_therapist(exc.therapist_id)  # the account was revoked
        # A SameSite=Strict cookie is withheld from a navigation that started on another
        # site (a link in Telegram's web app), even after our own redirect. One reload from
        # this page is same-site, so the cookie comes along; plain HTML, no script.
        refresh = _sent_from_another_site(request)
        lang = self.dash.language(request)
        response = self.dash.templates.message("sign_in", 401, lang=lang, refresh=refresh)
        if COOKIE_NAME in request.cookies:
            self.dash.set_cookie(response, "", 0)
        return response

    async def http_error(self, request: Request, exc: Exception) -> Response:
        """Our own calm page for 400, 403, 404, 405 and 413."""
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        key = _STATUS_PAGES.get(status, "bad_request" if status < 500 else "server_error")
        signed_in = await self._signed_in_header(request)
        templates = self.dash.templates
        response = templates.message(key, status, back=status in (403, 404), **signed_in)
        if isinstance(exc, HTTPException) and exc.headers:
            response.headers.update(exc.headers)
        return response

    async def _signed_in_header(self, request: Request) -> dict[str, str]:
        """The page's language, and the header's name and sign-out form for an error page
        when signed in.

        An error page must not fail itself: any trouble here leaves the header plain.
        """
        dash = self.dash
        plain = {"lang": dash.language(request)}
        try:
            session = await dash.sessions.get(request.cookies.get(COOKIE_NAME), dash.clock())
            if session is None:
                return plain
            name = await dash.db.run(loaders.therapist_name, session.therapist_id)
        except Exception:  # a plain header is better than a second error
            log.warning("dashboard error page: header without the therapist", exc_info=True)
            return plain
        return {
            "therapist_name": name,
            "csrf": session.csrf_token,
            "lang": dash.language(request, session.language),
        }

    async def server_error(self, request: Request, exc: Exception) -> Response:
        """500, outside the header middleware, so it sets the headers itself."""
        response: Response
        try:
            lang = self.dash.language(request)
            response = self.dash.templates.message("server_error", 500, lang=lang)
        except Exception:  # the page itself failed: say it plainly
            log.exception("dashboard error page failed")
            response = PlainTextResponse(LAST_RESORT, 500)
        response.headers.update(security_headers(self.dash.templates.style_hash))
        return response
