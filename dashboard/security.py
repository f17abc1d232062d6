"""What keeps the dashboard's pages to themselves: headers, origins, cookies and size limits.

Every response says `Cache-Control: no-store`. The login token is in the URL, so the login
responses say `Referrer-Policy: no-referrer`; every other page says `same-origin`, which also
sends no referrer to any other site, because under `no-referrer` browsers send
`Origin: null` with a page's own form posts and the origin check could not tell them from a
forged one. The session cookie is HttpOnly and SameSite=Strict (Secure behind https); every
POST carries the session's CSRF token and, when the browser sends an `Origin`, it must be
the dashboard's own.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

COOKIE_NAME = "nudgebot_session"
# The biggest form is a plan editor: three phases per practice, each with its days and
# an optional wording of up to 1,000 characters (62 fields with every box ticked, up to
# ~10-40 KiB url-encoded); anything far bigger is not one of our forms.
MAX_BODY_BYTES = 64 * 1024
MAX_FORM_FIELDS = 120
MAX_FIELD_BYTES = 1024
MAX_TOKEN_CHARS = 128
MAX_ID = 2**31 - 1
_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin(url: str) -> str | None:
    """`scheme://host[:port]` as a browser's `Origin` header spells it, or None."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    shown = port not in (None, _DEFAULT_PORTS[parts.scheme])
    return f"{parts.scheme}://{host}" + (f":{port}" if shown else "")


def set_cookie(response: Response, value: str, max_age: int, *, secure: bool) -> None:
    """Set (or, with max_age 0, clear) the session cookie: HttpOnly, SameSite=Strict."""
    response.set_cookie(
        COOKIE_NAME,
        value,
        max_age=max_age,
        path="/",
        secure=secure,
        httponly=True,
        samesite="strict",
    )


def security_headers(style_hash: str, script_hash: str = "") -> dict[str, str]:
    """Headers for every response: never cached, never leak the URL, nothing external.

    The one script (`script_hash`, the live wording preview) may ask our own origin only.
    """
    scripts = (f"script-src 'sha256-{script_hash}'", "connect-src 'self'") if script_hash else ()
    policy = "; ".join(
        (
            "default-src 'none'",
            f"style-src 'sha256-{style_hash}'",
            *scripts,
            "img-src 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
        )
    )
    return {
        "Cache-Control": "no-store",
        # Nothing to other sites; our own origin in our own form posts (see the docstring).
        "Referrer-Policy": "same-origin",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Content-Security-Policy": policy,
    }


class SecurityHeaders:
    """Pure ASGI middleware: the same protective headers on every response."""

    def __init__(self, app: ASGIApp, headers: Mapping[str, str]) -> None:
        self.app = app
        self.headers = dict(headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for key, value in self.headers.items():
                    if key not in headers:  # a handler may be stricter (the login page)
                        headers[key] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)
