"""One couple: who controls what, adherence, and the forms for its schedule, plan and code.

A refused form shows the page again (400) with what was typed and a reason code, which the
templates word.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from dashboard import forms, loaders, phases, views, wording
from dashboard.base import Dashboard, path_id
from dashboard.codes import Reason, Saved
from dashboard.forms import Invalid
from dashboard.loaders import CoupleView
from dashboard.sessions import DashboardSession
from scheduler.wording import WordingRefused
from storage import therapists
from storage.therapists import TherapistError

log = logging.getLogger(__name__)

Form = Literal["schedule", "plan", "code"]
# The `saved` query parameter after each form: its banner's code.
SAVED: Mapping[str, Saved] = {
    "schedule": "schedule",
    "plan": "plan",
    "code": "code",
    "wording": "wording",
    "wording_off": "wording_off",
    "wording_restored": "wording_restored",
}


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a form changed nothing: which form, the reason code, and its field (if one)."""

    form: Form
    reason: Reason
    field: str = ""
    detail: str = ""  # a phase wording's tone notes
    refused: WordingRefused | None = None  # a phase wording the sandbox refused


def routes(dash: Dashboard) -> list[Route]:
    """The couple page and its three forms."""
    pages = CouplePages(dash)
    return [
        Route("/couples/{couple_id:int}", pages.couple, methods=["GET"]),
        Route("/couples/{couple_id:int}/schedule", pages.schedule, methods=["POST"]),
        Route("/couples/{couple_id:int}/plan", pages.plan, methods=["POST"]),
        Route("/couples/{couple_id:int}/code", pages.client_code, methods=["POST"]),
    ]


def _form_values(
    view: CoupleView, refusal: Refusal | None, submitted: Mapping[str, str]
) -> dict[str, Any]:
    """The three forms' values: the couple's own, or what was typed into the refused one."""
    card = view.card
    schedule, plan = views.schedule_values(card), phases.form_values(card.plan)
    plan["starts_on"] = card.plan_starts_on.isoformat() if card.plan_starts_on else ""
    client_code = view.client_code or ""
    form = refusal.form if refusal else None
    if form == "schedule":
        schedule = {key: submitted.get(key, "") for key in schedule}
    elif form == "plan":
        plan = {key: submitted.get(key, "") for key in plan}
    elif form == "code":
        client_code = submitted.get("client_code", "")
    return {"schedule": schedule, "plan": plan, "client_code": client_code}


def _refusal(form: Form, exc: Invalid | TherapistError, fields: Mapping[Reason, str]) -> Refusal:
    """A refused schedule or plan; the domain's `not_linked` is a 404."""
    if isinstance(exc, phases.WordingInvalid):
        return Refusal(form, exc.reason, exc.field, exc.detail, exc.refused)
    if isinstance(exc, Invalid):
        return Refusal(form, exc.reason, exc.field)
    if exc.reason == "not_linked":
        raise HTTPException(404) from None
    code = forms.domain_code(exc.reason)
    return Refusal(form, code, fields.get(code, ""))


class CouplePages:
    """The couple page and the forms that change it."""

    def __init__(self, dash: Dashboard) -> None:
        self.dash = dash

    async def couple(self, request: Request) -> Response:
        """One couple: next times, adherence, and the forms to change them."""
        session = await self.dash.session(request)
        couple_id = path_id(request, "couple_id")
        saved = SAVED.get(request.query_params.get("saved", ""))
        return await self.page(session, couple_id, saved=saved)

    async def page(
        self,
        session: DashboardSession,
        couple_id: int,
        *,
        status: int = 200,
        saved: Saved | None = None,
        refusal: Refusal | None = None,
        submitted: Mapping[str, str] | None = None,
        typed: Mapping[str, wording.KindForm] | None = None,
    ) -> HTMLResponse:
        """The couple page: with a refused form's values, or a wording form as typed."""
        now = self.dash.clock()
        view = await self.dash.db.run(loaders.load_couple, session.therapist_id, couple_id, now)
        wording_forms: list[wording.KindForm] = []
        if self.dash.wording is not None:
            loaded = await self.dash.db.run(wording.load, session.therapist_id, couple_id)
            wording_forms = wording.forms(self.dash.wording, loaded, now, typed)
        return self._page(
            view,
            session,
            status=status,
            saved=saved,
            refusal=refusal,
            submitted=submitted,
            wording_forms=wording_forms,
        )

    def _page(
        self,
        view: CoupleView,
        session: DashboardSession,
        *,
        status: int = 200,
        saved: Saved | None = None,
        refusal: Refusal | None = None,
        submitted: Mapping[str, str] | None = None,
        wording_forms: list[wording.KindForm] | None = None,
    ) -> HTMLResponse:
        card = view.card
        errors = {refusal.field: refusal.reason} if refusal and refusal.field else {}
        lang = self.dash.language_of(session)
        w = self.dash.templates.words[lang]
        return self.dash.templates.render(
            "couple.html",
            status,
            wording_forms=wording_forms or [],
            wording_live=False,
            wording_slugs=wording.SLUGS_BY_KIND,
            lang=lang,
            therapist_name=view.therapist_name,
            csrf=session.csrf_token,
            couple_id=card.couple_id,
            name=views.couple_name(card, w),
            partners=card.partners,
            checkins_completed=card.checkins_completed,
            saved=saved,
            previews=views.previews(card, w),
            error=refusal.reason if refusal else None,
            errors=errors,
            error_detail=refusal.detail if refusal else "",
            error_refused=refusal.refused if refusal else None,
            weeks=view.weeks,
            chart=views.adherence_chart(view.weeks, w),
            series=views.series(w),
            timeline=phases.timeline(
                card.plan,
                card.plan_starts_on,
                self.dash.clock().date(),
                phases.partner_choices(card),
            ),
            phase_partners=phases.partner_choices(card),
            phase_slots=phases.SLOTS,
            own_choices=views.own_choices(card, w),
            plan_kinds=therapists.PLAN_KINDS,
            weekdays=views.weekdays(w),
            tip_choices=views.tip_choices(w),
            **_form_values(view, refusal, submitted or {}),
        )

    async def _refused(
        self, session: DashboardSession, couple_id: int, form: FormData, refusal: Refusal
    ) -> HTMLResponse:
        """The couple page again, with what was typed and why nothing changed (400)."""
        submitted = forms.form_values(form)
        return await self.page(session, couple_id, status=400, refusal=refusal, submitted=submitted)

    async def schedule(self, request: Request) -> Response:
        """Change the couple's times, frequency, per-partner evenings or pause."""
        session, form = await self.dash.checked_form(request)
        couple_id = path_id(request, "couple_id")
        try:
            changes, overrides = forms.schedule_changes(form)
            await self.dash.db.run(
                loaders.configure,
                session.therapist_id,
                couple_id,
                changes,
                overrides,
                self.dash.clock(),
            )
        except (Invalid, TherapistError) as exc:
            refusal = _refusal("schedule", exc, forms.SCHEDULE_FIELDS)
            return await self._refused(session, couple_id, form, refusal)
        log.info(
            "dashboard: therapist %s changed couple %s's schedule", session.therapist_id, couple_id
        )
        return RedirectResponse(f"/couples/{couple_id}?saved=schedule", status_code=303)

    async def plan(self, request: Request) -> Response:
        """Set which practices start in which week, from a start date."""
        session, form = await self.dash.checked_form(request)
        couple_id = path_id(request, "couple_id")
        try:
            steps, starts_on = phases.plan_steps(form)
            loaded = await self.dash.db.run(wording.load, session.therapist_id, couple_id)
            phases.check_wordings(form, self.dash.wording, wording.languages(loaded.partners))
            await self.dash.db.run(
                loaders.set_plan,
                session.therapist_id,
                couple_id,
                steps,
                starts_on,
                self.dash.clock(),
            )
        except (Invalid, TherapistError) as exc:
            refusal = _refusal("plan", exc, {})
            return await self._refused(session, couple_id, form, refusal)
        log.info("dashboard: therapist %s set couple %s's plan", session.therapist_id, couple_id)
        return RedirectResponse(f"/couples/{couple_id}?saved=plan", status_code=303)

    async def client_code(self, request: Request) -> Response:
        """Give the couple the therapist's own code (shown on the overview instead of names)."""
        session, form = await self.dash.checked_form(request)
        couple_id = path_id(request, "couple_id")
        code = forms.text(form, "client_code")[:100]
        try:
            await self.dash.db.run(loaders.set_code, session.therapist_id, couple_id, code)
        except TherapistError as exc:
            if exc.reason not in forms.CODE_REASONS:
                raise HTTPException(404) from None
            refusal = Refusal("code", forms.domain_code(exc.reason), "client_code")
            return await self._refused(session, couple_id, form, refusal)
        log.info("dashboard: therapist %s set couple %s's code", session.therapist_id, couple_id)
        return RedirectResponse(f"/couples/{couple_id}?saved=code", status_code=303)
