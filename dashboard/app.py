"""The therapist dashboard as a Starlette app: sign in with a one-time link, see linked
couples, and set their schedule and practice plan.

Every page is rendered on the server and works without JavaScript. The app reaches the
database only through `storage.therapists`, which never reads what partners wrote, so a
page can hold names, zones, schedules and counts and nothing else.

Security, briefly: every response says `Cache-Control: no-store`. The login token is in
the URL, so the login responses say `Referrer-Policy: no-referrer`; every other page says
`same-origin`, which also sends no referrer to any other site, because under `no-referrer`
browsers send `Origin: null` with a page's own form posts and the origin check below could
not tell them from a forged one. The session cookie is HttpOnly and SameSite=Strict (Secure
behind https); every POST carries the session's CSRF token and, when the browser sends an
`Origin`, it must be the dashboard's own. Sessions live in the database (only a hash of
the id), so they survive a restart; see `dashboard.sessions`.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup
from starlette.applications import Starlette
from starlette.datastructures import FormData, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.body_limit import RequestBodyLimitMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dashboard import views
from dashboard.sessions import REMEMBERED_TTL, SESSION_TTL, DashboardSession, SessionStore
from scheduler import therapy
from scheduler.therapy import CoupleCard
from storage import Session, practice, therapists
from storage.db import Database
from storage.models import Therapist
from storage.therapists import TherapistError, WeekCounts

log = logging.getLogger(__name__)

COOKIE_NAME = "nudgebot_session"
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
# Our forms are a few hundred bytes; anything far bigger is not one of them.
MAX_BODY_BYTES = 16 * 1024
MAX_FORM_FIELDS = 40
MAX_FIELD_BYTES = 1024
MAX_TOKEN_CHARS = 128
MAX_ID = 2**31 - 1
_NUMBER = re.compile(r"[0-9]{1,4}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

# (heading, lines) of the short pages: warm, plain, and saying what to do next.
MESSAGES: Mapping[str, tuple[str, tuple[str, ...]]] = {
    "link_invalid": (
        "This login link is no longer valid",
        (
            "A login link works once, for 10 minutes. This one has been used, has "
            "expired, or was replaced.",
            "Send /dashboard to the bot in Telegram for a new one.",
        ),
    ),
    "sign_in": (
        "Please sign in",
        (
            "Send /dashboard to the bot in Telegram: it replies with a one-time link that "
            "signs you in here.",
        ),
    ),
    "signed_out": (
        "You are signed out",
        ("To come back, send /dashboard to the bot in Telegram for a new link.",),
    ),
    "signed_out_everywhere": (
        "You are signed out everywhere",
        (
            "Every browser that was signed in to your dashboard is signed out now.",
            "To come back, send /dashboard to the bot in Telegram for a new link.",
        ),
    ),
    "forbidden": (
        "That did not go through",
        (
            "The form was out of date or did not come from this dashboard, so nothing was changed.",
            "Go back, reload the page and try again.",
        ),
    ),
    "not_found": (
        "Not found",
        (
            "There is nothing here linked to you. The couple may have ended the link, or "
            "the address may be wrong.",
        ),
    ),
    "bad_request": ("That could not be read", ("Nothing was changed. Please try again.",)),
    "too_large": ("That was too much", ("Nothing was changed. Please try again.",)),
    "not_allowed": ("Not here", ("This address does not take that kind of request.",)),
    "server_error": (
        "Something went wrong on our side",
        ("Nothing you did caused it. Please try again in a minute.",),
    ),
}
_STATUS_MESSAGES: Mapping[int, str] = {
    400: "bad_request",
    403: "forbidden",
    404: "not_found",
    405: "not_allowed",
    413: "too_large",
}
_SAVED = {"schedule": "Schedule saved.", "plan": "Plan saved.", "code": "Client code saved."}
TEMPLATE_REASONS: Mapping[str, str] = {
    "template_name": "Give the template a name of 1 to 60 characters.",
    "template_taken": "You have a template with this name. Choose a different one.",
}
# What a refused client code needs, next to its field.
CODE_REASONS: Mapping[str, str] = {
    "code_format": "Use 1 to 24 letters, digits, spaces, dots, dashes or underscores, "
    "starting with a letter or digit.",
    "code_taken": "Another of your couples has this code. Choose a different one.",
}


def login_url(public_url: str, raw_token: str) -> str:
    """The address the bot sends on /dashboard for a token from `therapists.login_link`."""
    return f"{public_url.rstrip('/')}/login/{raw_token}"


def _origin(url: str) -> str | None:
    """`scheme://host[:port]` as a browser's `Origin` header spells it, or None."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    default = {"http": 80, "https": 443}[parts.scheme]
    return f"{parts.scheme}://{host}" + (f":{port}" if port not in (None, default) else "")


class _SignedOut(Exception):
    """No live session (or its therapist's account was revoked): ask them to sign in."""

    def __init__(self, therapist_id: int | None = None) -> None:
        super().__init__("not signed in")
        self.therapist_id = therapist_id


class _Invalid(Exception):
    """A form value that cannot be used; `reason` is shown to the therapist next to `field`."""

    def __init__(self, reason: str, field: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field


HHMM_REASON = "Please use HH:MM, for example 21:00."
# The domain's reasons, and the schedule field each is about.
_REASON_FIELDS: Mapping[str, str] = {
    "The delivery window must be 0 to 180 minutes.": "nightly_window",
    "Choose a weekday.": "checkin_day",
    "Tips can be 0, 1, 2, 3 or 7 times a week.": "tips_per_week",
}
_HHMM = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")


# --- reading the database (each runs in one transaction on the database thread pool) ------


@dataclass(frozen=True, slots=True)
class _Home:
    therapist_name: str
    rows: list[practice.PracticeRow]


@dataclass(frozen=True, slots=True)
class _CoupleView:
    therapist_name: str
    card: CoupleCard
    weeks: list[WeekCounts]
    client_code: str | None


def _therapist_name(session: Session, therapist_id: int) -> str:
    therapist = session.get(Therapist, therapist_id)
    if therapist is None or therapist.revoked_at is not None:
        raise _SignedOut(therapist_id)
    return therapist.name


def _load_home(session: Session, therapist_id: int, now: dt.datetime) -> _Home:
    name = _therapist_name(session, therapist_id)
    return _Home(name, practice.overview(session, therapist_id, now))


def _linked_card(
    session: Session, therapist_id: int, couple_id: int, now: dt.datetime
) -> CoupleCard:
    card = therapy.couple_for(session, therapist_id, couple_id, now)
    if card is None:
        raise HTTPException(404)
    return card


def _load_couple(
    session: Session, therapist_id: int, couple_id: int, now: dt.datetime
) -> _CoupleView:
    name = _therapist_name(session, therapist_id)
    card = _linked_card(session, therapist_id, couple_id, now)
    weeks = therapists.adherence(session, therapist_id, couple_id, now)
    link = therapists.link_of(session, therapist_id, couple_id)
    return _CoupleView(name, card, weeks, link.client_code if link is not None else None)


def _set_code(session: Session, therapist_id: int, couple_id: int, code: str) -> str | None:
    _therapist_name(session, therapist_id)
    return practice.set_client_code(session, therapist_id, couple_id, code)


def _configure(
    session: Session,
    therapist_id: int,
    couple_id: int,
    changes: dict[str, Any],
    overrides: dict[int, str],
    now: dt.datetime,
) -> CoupleCard:
    _therapist_name(session, therapist_id)
    card = _linked_card(session, therapist_id, couple_id, now)
    partners = {p.person_id for p in card.partners}
    override = {pid: value for pid, value in overrides.items() if pid in partners}
    return therapy.configure(
        session, therapist_id, couple_id, {**changes, "override": override}, now
    )


def _set_plan(
    session: Session,
    therapist_id: int,
    couple_id: int,
    plan: list[dict[str, Any]],
    starts_on: dt.date | None,
    now: dt.datetime,
) -> CoupleCard:
    _therapist_name(session, therapist_id)
    _linked_card(session, therapist_id, couple_id, now)
    return therapy.set_plan(session, therapist_id, couple_id, plan, starts_on or now.date(), now)


@dataclass(frozen=True, slots=True)
class _Plans:
    therapist_name: str
    templates: list[tuple[int, str, list[dict[str, Any]]]]
    couples: list[practice.PracticeRow]


def _load_plans(session: Session, therapist_id: int, now: dt.datetime) -> _Plans:
    name = _therapist_name(session, therapist_id)
    templates = [
        (t.id, t.name, list(t.steps)) for t in practice.plan_templates(session, therapist_id)
    ]
    rows = [r for r in practice.overview(session, therapist_id, now) if r.ended_at is None]
    return _Plans(name, templates, rows)


def _save_template(
    session: Session, therapist_id: int, name: str, steps: list[dict[str, Any]], now: dt.datetime
) -> int:
    _therapist_name(session, therapist_id)
    clean = therapy.clean_plan(steps)
    if not clean:
        raise _Invalid("Choose at least one practice and its first week.", "nightly_appreciation")
    return practice.save_plan_template(session, therapist_id, name, clean, now).id


def _apply_template(
    session: Session,
    therapist_id: int,
    template_id: int,
    couple_ids: list[int],
    starts_on: dt.date,
    now: dt.datetime,
) -> int:
    _therapist_name(session, therapist_id)
    return len(
        therapy.apply_template(session, therapist_id, template_id, couple_ids, starts_on, now)
    )


@dataclass(frozen=True, slots=True)
class _Export:
    therapist_name: str
    rows: list[practice.ExportRow]


def _load_export(session: Session, therapist_id: int, first: dt.date, last: dt.date) -> _Export:
    name = _therapist_name(session, therapist_id)
    return _Export(name, practice.engagement(session, therapist_id, first, last))


# --- reading forms --------------------------------------------------------------------------


def _text(form: FormData, key: str) -> str:
    value = form.get(key)
    return value.strip() if isinstance(value, str) else ""


def _number(form: FormData, key: str, reason: str) -> int:
    value = _text(form, key)
    if not _NUMBER.fullmatch(value):
        raise _Invalid(reason, key)
    return int(value)


def _time(form: FormData, key: str, *, optional: bool = False) -> str:
    """A 24-hour HH:MM time (the form's text input says so), or `_Invalid` for its field."""
    value = _text(form, key)
    if optional and not value:
        return value
    if not _HHMM.fullmatch(value):
        raise _Invalid(HHMM_REASON, key)
    return value


def schedule_changes(form: FormData) -> tuple[dict[str, Any], dict[int, str]]:
    """The schedule form as `therapy.configure` changes, plus per-partner overrides.

    Raises `_Invalid` for numbers that are not numbers; times and ranges are checked by
    the domain, which words its own reasons.
    """
    changes: dict[str, Any] = {
        "nightly_time": _time(form, "nightly_time"),
        "nightly_window": _number(
            form, "nightly_window", "The delivery window must be 0 to 180 minutes."
        ),
        "checkin_day": _number(form, "checkin_day", "Choose a weekday."),
        "checkin_time": _time(form, "checkin_time"),
        "tips_per_week": _number(
            form, "tips_per_week", "Tips can be 0, 1, 2, 3 or 7 times a week."
        ),
        "tips_time": _time(form, "tips_time"),
        "paused": _text(form, "paused") != "",
    }
    overrides: dict[int, str] = {}
    for key in form:
        person = key.removeprefix("override_")
        if person != key and _NUMBER.fullmatch(person):
            overrides[int(person)] = _time(form, key, optional=True)
    return changes, overrides


def plan_steps(
    form: FormData, *, need_start: bool = True
) -> tuple[list[dict[str, Any]], dt.date | None]:
    """The plan form as `therapy.set_plan` steps and a start date (if `need_start`)."""
    steps: list[dict[str, Any]] = []
    for kind in therapists.PLAN_KINDS:
        if _text(form, kind):
            reason = "Each practice needs a week from 1 to 52, or nothing."
            week = _number(form, kind, reason)
            if not 1 <= week <= 52:
                raise _Invalid(reason, kind)
            step: dict[str, Any] = {"kind": kind, "from_week": week}
            if _text(form, f"{kind}_to"):
                last_reason = "A last week must be from the first week to 52, or nothing."
                end = _number(form, f"{kind}_to", last_reason)
                if not week <= end <= 52:
                    raise _Invalid(last_reason, f"{kind}_to")
                step["to_week"] = end
            steps.append(step)
        elif _text(form, f"{kind}_to"):
            raise _Invalid("A last week needs a first week too.", kind)
    raw = _text(form, "starts_on")
    if not need_start:
        return steps, None
    if not raw:
        if steps:
            raise _Invalid("Choose the date week 1 starts on.", "starts_on")
        return steps, None
    try:
        if not _DATE.fullmatch(raw):
            raise ValueError(raw)
        return steps, dt.date.fromisoformat(raw)
    except ValueError:
        raise _Invalid(
            "Choose the date week 1 starts on (a date such as 2026-11-30).", "starts_on"
        ) from None


EXPORT_RANGE_ERROR = (
    "Choose a first and a last day (such as 2026-11-02), the last not before the first, "
    "at most a year apart."
)


def _date(raw: str) -> dt.date:
    """A YYYY-MM-DD date, or ValueError."""
    if not _DATE.fullmatch(raw):
        raise ValueError(raw)
    return dt.date.fromisoformat(raw)


def _form_values(form: FormData) -> dict[str, str]:
    """What the therapist typed, to show it again beside a validation message."""
    return {key: _text(form, key) for key in form}


# --- rendering ------------------------------------------------------------------------------


class _Templates:
    """The Jinja environment (autoescaped) and the one inline stylesheet, with its hash."""

    def __init__(self, directory: Path) -> None:
        self.env = Environment(
            loader=FileSystemLoader(directory),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters["kind_label"] = views.kind_label
        self.env.filters["partner_label"] = views.partner_label
        self.env.filters["control_schedule"] = views.control_schedule
        self.env.filters["control_owner"] = views.control_owner
        css = (directory / "style.css").read_text(encoding="utf-8").strip()
        if "<" in css:
            raise ValueError("the stylesheet must not contain '<'")
        # Our own file, inlined verbatim so its hash in the CSP matches.
        self.stylesheet = Markup(css)  # noqa: S704
        self.style_hash = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()

    def render(self, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        context.setdefault("therapist_name", None)
        context.setdefault("csrf", "")
        context.setdefault("refresh", False)
        body = self.env.get_template(template).render(stylesheet=self.stylesheet, **context)
        return HTMLResponse(body, status_code=status)

    def message(self, key: str, status: int, **context: Any) -> HTMLResponse:
        heading, lines = MESSAGES[key]
        context.setdefault("back", False)
        return self.render("message.html", status, heading=heading, lines=lines, **context)


class _SecurityHeaders:
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


def security_headers(style_hash: str) -> dict[str, str]:
    """Headers for every response: never cached, never leak the URL, nothing external."""
    policy = "; ".join(
        (
            "default-src 'none'",
            f"style-src 'sha256-{style_hash}'",
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


# --- the app --------------------------------------------------------------------------------


class Dashboard:
    """The request handlers, with what they share: database, clock, sessions, templates."""

    def __init__(
        self,
        db: Database,
        clock: Callable[[], dt.datetime],
        public_url: str,
        secure_cookies: bool,
        sessions: SessionStore,
        templates: _Templates,
    ) -> None:
        origin = _origin(public_url)
        if origin is None:
            raise ValueError(f"public_url must be an http(s) URL, not {public_url!r}")
        self.db = db
        self.clock = clock
        self.public_url = public_url
        self.origin = origin
        self.secure_cookies = secure_cookies
        self.sessions = sessions
        self.templates = templates

    def routes(self) -> list[Route]:
        """Every page and form target of the dashboard."""
        return [
            Route("/", self.home, methods=["GET"]),
            Route("/login/{token}", self.login, methods=["GET"]),
            Route("/signed-out", self.signed_out, methods=["GET"]),
            Route("/couples/{couple_id:int}", self.couple, methods=["GET"]),
            Route("/couples/{couple_id:int}/schedule", self.schedule, methods=["POST"]),
            Route("/couples/{couple_id:int}/plan", self.plan, methods=["POST"]),
            Route("/couples/{couple_id:int}/code", self.client_code, methods=["POST"]),
            Route("/plans", self.plans_page, methods=["GET"]),
            Route("/plans", self.new_template, methods=["POST"]),
            Route("/plans/{template_id:int}/apply", self.apply_template, methods=["POST"]),
            Route("/export", self.export_page, methods=["GET"]),
            Route("/export.csv", self.export_csv, methods=["GET"]),
            Route("/logout", self.logout, methods=["POST"]),
            Route("/logout-everywhere", self.logout_everywhere, methods=["POST"]),
            Route("/remember", self.remember, methods=["POST"]),
        ]

    # sessions and checks

    async def _session(self, request: Request) -> DashboardSession:
        found = await self.sessions.get(request.cookies.get(COOKIE_NAME), self.clock())
        if found is None:
            raise _SignedOut()
        return found

    def _set_cookie(self, response: Response, value: str, max_age: int) -> None:
        response.set_cookie(
            COOKIE_NAME,
            value,
            max_age=max_age,
            path="/",
            secure=self.secure_cookies,
            httponly=True,
            samesite="strict",
        )

    async def _checked_form(self, request: Request) -> tuple[DashboardSession, FormData]:
        """A POST's session and form, once its origin and CSRF token check out."""
        origin = request.headers.get("origin")
        if origin is not None and _origin(origin) != self.origin:
            log.info("dashboard POST refused: foreign origin")
            raise HTTPException(403)
        session = await self._session(request)
        form = await request.form(
            max_files=0, max_fields=MAX_FORM_FIELDS, max_part_size=MAX_FIELD_BYTES
        )
        submitted = form.get("csrf")
        if not isinstance(submitted, str) or not session.csrf_matches(submitted):
            log.info("dashboard POST refused: missing or wrong CSRF token")
            raise HTTPException(403)
        return session, form

    @staticmethod
    def _couple_id(request: Request) -> int:
        couple_id = int(request.path_params["couple_id"])
        if not 0 < couple_id <= MAX_ID:
            raise HTTPException(404)
        return couple_id

    # pages

    async def login(self, request: Request) -> Response:
        """Exchange a one-time login link for a session cookie."""
        if request.method == "HEAD":  # a link checker must not use the link up
            return Response(status_code=200, headers={"Referrer-Policy": "no-referrer"})
        token = str(request.path_params["token"])
        now = self.clock()
        therapist = None
        if 0 < len(token) <= MAX_TOKEN_CHARS:
            therapist = await self.db.run(therapists.use_login, token, now)
        response: Response
        if therapist is None:
            log.info("dashboard login refused")
            response = self.templates.message("link_invalid", 403)
        else:
            await self.sessions.end(request.cookies.get(COOKIE_NAME))
            session_id = await self.sessions.create(therapist.id, now)
            log.info("dashboard login: therapist %s", therapist.id)
            response = RedirectResponse("/", status_code=303)
            self._set_cookie(response, session_id, int(SESSION_TTL.total_seconds()))
        response.headers["Referrer-Policy"] = "no-referrer"  # this URL holds the token
        return response

    async def home(self, request: Request) -> Response:
        """The practice overview: every couple, what needs attention, this week's counts."""
        session = await self._session(request)
        now = self.clock()
        home = await self.db.run(_load_home, session.therapist_id, now)
        params = request.query_params
        sort = views.parse_sort(params.get("sort"))
        attention_only = params.get("attention") == "1"
        query = params.get("q", "")[: views.MAX_QUERY_CHARS]
        lines = [views.overview_line(row, now.date()) for row in home.rows]
        shown = views.arrange(lines, sort, attention_only, query)
        return self.templates.render(
            "home.html",
            therapist_name=home.therapist_name,
            csrf=session.csrf_token,
            lines=shown,
            total=len(lines),
            needing=sum(1 for line in lines if line.attention),
            sort=sort.value,
            sorts=[(key.value, label) for key, label in views.SORT_LABELS.items()],
            attention_only=attention_only,
            query=query,
            remembered=session.remembered,
            until=f"{session.expires_at:%d %b %Y}",
        )

    async def couple(self, request: Request) -> Response:
        """One couple: next times, adherence, and the forms to change them."""
        session = await self._session(request)
        couple_id = self._couple_id(request)
        view = await self.db.run(_load_couple, session.therapist_id, couple_id, self.clock())
        saved = _SAVED.get(request.query_params.get("saved", ""))
        return self._couple_page(view, session, saved=saved)

    def _couple_page(
        self,
        view: _CoupleView,
        session: DashboardSession,
        *,
        status: int = 200,
        saved: str | None = None,
        schedule_error: str | None = None,
        plan_error: str | None = None,
        code_error: str | None = None,
        error_field: str = "",
        submitted: Mapping[str, str] | None = None,
    ) -> HTMLResponse:
        card = view.card
        client_code = view.client_code or ""
        if submitted is not None and code_error is not None:
            client_code = submitted.get("client_code", "")
        schedule = views.schedule_values(card)
        plan = views.plan_values(card)
        if submitted is not None and schedule_error is not None:
            schedule = {key: submitted.get(key, "") for key in schedule}
        if submitted is not None and plan_error is not None:
            plan = {key: submitted.get(key, "") for key in plan}
        return self.templates.render(
            "couple.html",
            status,
            therapist_name=view.therapist_name,
            csrf=session.csrf_token,
            couple_id=card.couple_id,
            name=views.couple_name(card),
            partners=card.partners,
            checkins_completed=card.checkins_completed,
            saved=saved,
            previews=views.previews(card),
            schedule_error=schedule_error,
            plan_error=plan_error,
            code_error=code_error,
            errors={error_field: schedule_error or plan_error or code_error} if error_field else {},
            client_code=client_code,
            weeks=view.weeks,
            chart=views.adherence_chart(view.weeks),
            series=views.SERIES,
            schedule=schedule,
            plan=plan,
            plan_lines=views.plan_summary(card, self.clock().date()),
            own_choices=views.own_choices(card),
            plan_kinds=therapists.PLAN_KINDS,
            weekdays=views.WEEKDAYS,
            tip_choices=views.TIP_CHOICES,
        )

    async def _refused(
        self,
        session: DashboardSession,
        couple_id: int,
        form: FormData,
        *,
        schedule_error: str | None = None,
        plan_error: str | None = None,
        code_error: str | None = None,
        error_field: str = "",
    ) -> HTMLResponse:
        """The couple page again, with what was typed and why nothing changed (400)."""
        view = await self.db.run(_load_couple, session.therapist_id, couple_id, self.clock())
        return self._couple_page(
            view,
            session,
            status=400,
            schedule_error=schedule_error,
            plan_error=plan_error,
            code_error=code_error,
            error_field=error_field,
            submitted=_form_values(form),
        )

    async def schedule(self, request: Request) -> Response:
        """Change the couple's times, frequency, per-partner evenings or pause."""
        session, form = await self._checked_form(request)
        couple_id = self._couple_id(request)
        try:
            changes, overrides = schedule_changes(form)
            await self.db.run(
                _configure,
                session.therapist_id,
                couple_id,
                changes,
                overrides,
                self.clock(),
            )
        except (_Invalid, TherapistError) as exc:
            if exc.reason == "not_linked":
                raise HTTPException(404) from None
            field = exc.field if isinstance(exc, _Invalid) else _REASON_FIELDS.get(exc.reason, "")
            return await self._refused(
                session, couple_id, form, schedule_error=exc.reason, error_field=field
            )
        log.info(
            "dashboard: therapist %s changed couple %s's schedule", session.therapist_id, couple_id
        )
        return RedirectResponse(f"/couples/{couple_id}?saved=schedule", status_code=303)

    async def plan(self, request: Request) -> Response:
        """Set which practices start in which week, from a start date."""
        session, form = await self._checked_form(request)
        couple_id = self._couple_id(request)
        try:
            steps, starts_on = plan_steps(form)
            await self.db.run(
                _set_plan, session.therapist_id, couple_id, steps, starts_on, self.clock()
            )
        except (_Invalid, TherapistError) as exc:
            if exc.reason == "not_linked":
                raise HTTPException(404) from None
            field = exc.field if isinstance(exc, _Invalid) else ""
            return await self._refused(
                session, couple_id, form, plan_error=exc.reason, error_field=field
            )
        log.info("dashboard: therapist %s set couple %s's plan", session.therapist_id, couple_id)
        return RedirectResponse(f"/couples/{couple_id}?saved=plan", status_code=303)

    async def client_code(self, request: Request) -> Response:
        """Give the couple the therapist's own code (shown on the overview instead of names)."""
        session, form = await self._checked_form(request)
        couple_id = self._couple_id(request)
        try:
            await self.db.run(
                _set_code, session.therapist_id, couple_id, _text(form, "client_code")[:100]
            )
        except TherapistError as exc:
            if exc.reason not in CODE_REASONS:
                raise HTTPException(404) from None
            return await self._refused(
                session,
                couple_id,
                form,
                code_error=CODE_REASONS[exc.reason],
                error_field="client_code",
            )
        log.info("dashboard: therapist %s set couple %s's code", session.therapist_id, couple_id)
        return RedirectResponse(f"/couples/{couple_id}?saved=code", status_code=303)

    async def plans_page(self, request: Request) -> Response:
        """Named plans: make one, and give one to several couples at once."""
        session = await self._session(request)
        applied = request.query_params.get("applied", "")
        saved = "Template saved." if request.query_params.get("saved") == "1" else None
        if _NUMBER.fullmatch(applied):
            count = int(applied)
            saved = f"Plan applied to {count} {'couple' if count == 1 else 'couples'}."
        return await self._plans(session, saved=saved)

    async def _plans(
        self,
        session: DashboardSession,
        *,
        status: int = 200,
        saved: str | None = None,
        errors: Mapping[str, str] | None = None,
        error_template: int = 0,
        submitted: Mapping[str, str] | None = None,
    ) -> HTMLResponse:
        now = self.clock()
        plans = await self.db.run(_load_plans, session.therapist_id, now)
        today = now.date()
        return self.templates.render(
            "plans.html",
            status,
            therapist_name=plans.therapist_name,
            csrf=session.csrf_token,
            saved=saved,
            errors=dict(errors or {}),
            error_template=error_template,
            submitted=dict(submitted or {}),
            templates=[
                (tid, name, [views.step_text(step) for step in views.sorted_steps(steps)])
                for tid, name, steps in plans.templates
            ],
            couples=[views.overview_line(row, today) for row in plans.couples],
            plan_kinds=therapists.PLAN_KINDS,
            next_monday=(practice.monday_of(today) + dt.timedelta(weeks=1)).isoformat(),
        )

    async def new_template(self, request: Request) -> Response:
        """Save a named plan."""
        session, form = await self._checked_form(request)
        try:
            steps, _ = plan_steps(form, need_start=False)
            await self.db.run(
                _save_template,
                session.therapist_id,
                _text(form, "name")[:200],
                steps,
                self.clock(),
            )
        except _Invalid as exc:
            return await self._plans(
                session, status=400, errors={exc.field: exc.reason}, submitted=_form_values(form)
            )
        except TherapistError as exc:
            field = "name" if exc.reason in TEMPLATE_REASONS else "nightly_appreciation"
            reason = TEMPLATE_REASONS.get(exc.reason, exc.reason)
            return await self._plans(
                session, status=400, errors={field: reason}, submitted=_form_values(form)
            )
        log.info("dashboard: therapist %s saved a plan template", session.therapist_id)
        return RedirectResponse("/plans?saved=1", status_code=303)

    async def apply_template(self, request: Request) -> Response:
        """Give a named plan to the chosen couples, from one start date."""
        session, form = await self._checked_form(request)
        template_id = int(request.path_params["template_id"])
        if not 0 < template_id <= MAX_ID:
            raise HTTPException(404)
        chosen = [v for v in form.getlist("couple") if isinstance(v, str) and _NUMBER.fullmatch(v)]
        try:
            if not chosen:
                raise _Invalid("Choose at least one couple.", f"couples-{template_id}")
            raw = _text(form, "starts_on")
            try:
                starts_on = _date(raw)
            except ValueError:
                raise _Invalid(
                    "Choose the date week 1 starts on (a date such as 2026-11-30).",
                    f"starts_on-{template_id}",
                ) from None
            applied = await self.db.run(
                _apply_template,
                session.therapist_id,
                template_id,
                [int(c) for c in chosen],
                starts_on,
                self.clock(),
            )
        except _Invalid as exc:
            return await self._plans(
                session,
                status=400,
                errors={exc.field: exc.reason},
                error_template=template_id,
                submitted=_form_values(form),
            )
        except TherapistError:
            raise HTTPException(404) from None
        log.info(
            "dashboard: therapist %s applied a template to %s couples",
            session.therapist_id,
            applied,
        )
        return RedirectResponse(f"/plans?applied={applied}", status_code=303)

    def _export_range(self, request: Request) -> tuple[dt.date, dt.date, str | None]:
        """The export's first and last day from the query, the last 8 weeks by default."""
        today = self.clock().date()
        default_first = practice.monday_of(today) - dt.timedelta(weeks=7)
        raw_first = request.query_params.get("from", "").strip()
        raw_last = request.query_params.get("to", "").strip()
        try:
            first = _date(raw_first) if raw_first else default_first
            last = _date(raw_last) if raw_last else today
            practice.export_weeks(first, last)
        except (ValueError, TherapistError):
            return default_first, today, EXPORT_RANGE_ERROR
        return first, last, None

    async def export_page(self, request: Request) -> Response:
        """Weekly counts per couple and practice for a date range, to read or print."""
        session = await self._session(request)
        first, last, error = self._export_range(request)
        export = await self.db.run(_load_export, session.therapist_id, first, last)
        return self.templates.render(
            "export.html",
            400 if error else 200,
            therapist_name=export.therapist_name,
            csrf=session.csrf_token,
            first=first.isoformat(),
            last=last.isoformat(),
            first_text=f"{first:%d %b %Y}",
            last_text=f"{last:%d %b %Y}",
            error=error,
            rows=views.export_lines(export.rows),
        )

    async def export_csv(self, request: Request) -> Response:
        """The same counts as CSV: one line per couple, week and practice."""
        session = await self._session(request)
        first, last, error = self._export_range(request)
        if error:
            raise HTTPException(400)
        export = await self.db.run(_load_export, session.therapist_id, first, last)
        name = f"nudgebot-counts-{first.isoformat()}-to-{last.isoformat()}.csv"
        return Response(
            views.export_csv(export.rows),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    async def logout(self, request: Request) -> Response:
        """Sign out: forget the session and the cookie."""
        await self._checked_form(request)
        await self.sessions.end(request.cookies.get(COOKIE_NAME))
        response = RedirectResponse("/signed-out", status_code=303)
        self._set_cookie(response, "", 0)
        return response

    async def logout_everywhere(self, request: Request) -> Response:
        """Sign out on every device: all of this therapist's sessions end."""
        session, _ = await self._checked_form(request)
        ended = await self.sessions.end_therapist(session.therapist_id)
        log.info("dashboard: therapist %s ended %s sessions", session.therapist_id, ended)
        response = RedirectResponse("/signed-out?everywhere=1", status_code=303)
        self._set_cookie(response, "", 0)
        return response

    async def remember(self, request: Request) -> Response:
        """Keep this browser signed in for 30 days."""
        await self._checked_form(request)
        cookie = request.cookies.get(COOKIE_NAME)
        if await self.sessions.remember(cookie, self.clock()) is None:
            raise _SignedOut()
        response = RedirectResponse("/?remembered=1", status_code=303)
        self._set_cookie(response, cookie or "", int(REMEMBERED_TTL.total_seconds()))
        return response

    async def signed_out(self, request: Request) -> Response:
        """Where signing out lands."""
        everywhere = request.query_params.get("everywhere") == "1"
        return self.templates.message("signed_out_everywhere" if everywhere else "signed_out", 200)

    # errors

    async def not_signed_in(self, request: Request, exc: Exception) -> Response:
        """401 with the way to sign in; never any data."""
        if isinstance(exc, _SignedOut) and exc.therapist_id is not None:
            await self.sessions.end_therapist(exc.therapist_id)  # the account was revoked
        # A SameSite=Strict cookie is withheld from a navigation that started on another
        # site (a link in Telegram's web app), even after our own redirect. One reload from
        # this page is same-site, so the cookie comes along; plain HTML, no script.
        refresh = (
            request.method == "GET"
            and request.headers.get("sec-fetch-site") == "cross-site"
            and COOKIE_NAME not in request.cookies
        )
        response = self.templates.message("sign_in", 401, refresh=refresh)
        if COOKIE_NAME in request.cookies:
            self._set_cookie(response, "", 0)
        return response

    async def http_error(self, request: Request, exc: Exception) -> Response:
        """Our own calm page for 400, 403, 404, 405 and 413."""
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        key = _STATUS_MESSAGES.get(status, "bad_request" if status < 500 else "server_error")
        signed_in = await self._signed_in_header(request)
        response = self.templates.message(key, status, back=status in (403, 404), **signed_in)
        if isinstance(exc, HTTPException) and exc.headers:
            response.headers.update(exc.headers)
        return response

    async def _signed_in_header(self, request: Request) -> dict[str, str]:
        """The header's name and sign-out form for an error page, when signed in.

        An error page must not fail itself: any trouble here leaves the header plain.
        """
        try:
            session = await self.sessions.get(request.cookies.get(COOKIE_NAME), self.clock())
            if session is None:
                return {}
            name = await self.db.run(_therapist_name, session.therapist_id)
        except Exception:  # a plain header is better than a second error
            log.warning("dashboard error page: header without the therapist", exc_info=True)
            return {}
        return {"therapist_name": name, "csrf": session.csrf_token}

    async def server_error(self, request: Request, exc: Exception) -> Response:
        """500, outside the header middleware, so it sets the headers itself."""
        response: Response
        try:
            response = self.templates.message("server_error", 500)
        except Exception:  # the page itself failed: say it plainly
            log.exception("dashboard error page failed")
            response = PlainTextResponse("Something went wrong. Please try again.", 500)
        response.headers.update(security_headers(self.templates.style_hash))
        return response


def create_app(
    db: Database,
    *,
    clock: Callable[[], dt.datetime],
    public_url: str,
    secure_cookies: bool | None = None,
) -> Starlette:
    """Build the dashboard app.

    Args:
        db: the bot's database; every query runs on its thread pool.
        clock: returns the current aware UTC time (tests pass a clock they drive).
        public_url: where therapists reach the dashboard, e.g. `https://care.example.org`;
            a POST whose `Origin` is not this URL's origin is refused.
        secure_cookies: mark the session cookie Secure; by default, when `public_url`
            is https.

    Returns:
        The Starlette app; its sessions are in `app.state.sessions`.
    """
    if secure_cookies is None:
        secure_cookies = public_url.strip().lower().startswith("https://")
    templates = _Templates(TEMPLATES_DIR)
    sessions = SessionStore(db)
    dashboard = Dashboard(db, clock, public_url, secure_cookies, sessions, templates)
    app = Starlette(
        routes=dashboard.routes(),
        middleware=[
            Middleware(_SecurityHeaders, headers=security_headers(templates.style_hash)),
            # Inside the headers middleware, so a 413 carries them too.
            Middleware(RequestBodyLimitMiddleware, max_body_size=MAX_BODY_BYTES),
        ],
        exception_handlers={
            _SignedOut: dashboard.not_signed_in,
            HTTPException: dashboard.http_error,
            Exception: dashboard.server_error,
        },
    )
    app.state.sessions = sessions
    app.state.dashboard = dashboard
    return app
