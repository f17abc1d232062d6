"""The therapist dashboard as a Starlette app: sign in with a one-time link, see linked
couples, and set their schedule and practice plan.

Every page is rendered on the server and works without JavaScript. The parts, each in its
own module: `security` (headers, origins, cookies, limits), `forms` (reading what was
typed), `loaders` (what a page reads and changes, on the database threads), `render` (the
templates), `base` (what every page shares), and `routes` (the pages, one module per area).
Sessions live in the database (only a hash of the id), so they survive a restart; see
`dashboard.sessions`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.body_limit import RequestBodyLimitMiddleware

from dashboard.base import Dashboard
from dashboard.render import Templates
from dashboard.routes import all_routes
from dashboard.routes.errors import ErrorPages
from dashboard.security import COOKIE_NAME, MAX_BODY_BYTES, SecurityHeaders, security_headers
from dashboard.sessions import SessionStore, SignedOut
from scheduler.wording import WordingChecks
from storage.db import Database

__all__ = ["COOKIE_NAME", "create_app", "login_url"]


def login_url(public_url: str, raw_token: str) -> str:
    """The address the bot sends on /dashboard for a token from `therapists.login_link`."""
    return f"{public_url.rstrip('/')}/login/{raw_token}"


def _middleware(style_hash: str, script_hash: str) -> list[Middleware]:
    return [
        Middleware(SecurityHeaders, headers=security_headers(style_hash, script_hash)),
        # Inside the headers middleware, so a 413 carries them too.
        Middleware(RequestBodyLimitMiddleware, max_body_size=MAX_BODY_BYTES),
    ]


def create_app(
    db: Database,
    *,
    clock: Callable[[], dt.datetime],
    public_url: str,
    secure_cookies: bool | None = None,
    wording: WordingChecks | None = None,
) -> Starlette:
    """Build the dashboard app.

    Args:
        db: the bot's database; every query runs on its thread pool.
        clock: returns the current aware UTC time (tests pass a clock they drive).
        public_url: where therapists reach the dashboard, e.g. `https://care.example.org`;
            a POST whose `Origin` is not this URL's origin is refused.
        secure_cookies: mark the session cookie Secure; by default, when `public_url`
            is https.
        wording: the checks and preview of a therapist's own wording (the bot's
            `bot.wording.SandboxChecks`, handed over by the composition root); without
            them the couple page has no wording forms.

    Returns:
        The Starlette app; its sessions are in `app.state.sessions`.
    """
    if secure_cookies is None:
        secure_cookies = public_url.strip().lower().startswith("https://")
    templates = Templates()
    sessions = SessionStore(db)
    dashboard = Dashboard(db, clock, public_url, secure_cookies, sessions, templates, wording)
    errors = ErrorPages(dashboard)
    app = Starlette(
        routes=all_routes(dashboard),
        middleware=_middleware(templates.style_hash, templates.script_hash),
        exception_handlers={
            SignedOut: errors.not_signed_in,
            HTTPException: errors.http_error,
            Exception: errors.server_error,
        },
    )
    app.state.sessions = sessions
    app.state.dashboard = dashboard
    return app
