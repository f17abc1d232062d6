"""Named plans: make one, and give one to several couples at once."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from dashboard import forms, loaders, phases, views
from dashboard.base import Dashboard, path_id
from dashboard.codes import Reason, Saved
from dashboard.forms import Invalid
from dashboard.sessions import DashboardSession
from scheduler.wording import WordingRefused
from storage import practice, therapists
from storage.therapists import TherapistError

log = logging.getLogger(__name__)
MAX_NAME_CHARS = 200
# The languages the tone check reads a template's phase wording in (no couple yet).
TEMPLATE_LANGUAGES = ("en", "de")


def routes(dash: Dashboard) -> list[Route]:
    """The plans page, and its forms to make and to apply a template."""
    pages = PlanPages(dash)
    return [
        Route("/plans", pages.plans_page, methods=["GET"]),
        Route("/plans", pages.new_template, methods=["POST"]),
        Route("/plans/{template_id:int}/apply", pages.apply_template, methods=["POST"]),
    ]


def _template_refusal(exc: TherapistError) -> dict[str, Reason]:
    """A template the domain refused: its reason code, by the field it is about."""
    code = forms.domain_code(exc.reason)
    return {forms.TEMPLATE_FIELDS.get(code, "nightly_appreciation"): code}


class PlanPages:
    """The plan templates page and its forms."""

    def __init__(self, dash: Dashboard) -> None:
        self.dash = dash

    async def plans_page(self, request: Request) -> Response:
        """Named plans: make one, and give one to several couples at once."""
        session = await self.dash.session(request)
        applied = request.query_params.get("applied", "")
        saved: Saved | None = "template" if request.query_params.get("saved") == "1" else None
        if forms.is_number(applied):
            return await self._page(session, saved="applied", applied=int(applied))
        return await self._page(session, saved=saved)

    async def _page(
        self,
        session: DashboardSession,
        *,
        status: int = 200,
        saved: Saved | None = None,
        applied: int = 0,
        errors: Mapping[str, Reason] | None = None,
        error_template: int = 0,
        submitted: Mapping[str, str] | None = None,
        error_detail: str = "",
        error_refused: WordingRefused | None = None,
    ) -> HTMLResponse:
        now = self.dash.clock()
        plans = await self.dash.db.run(loaders.load_plans, session.therapist_id, now)
        today = now.date()
        lang = self.dash.language_of(session)
        w = self.dash.templates.words[lang]
        return self.dash.templates.render(
            "plans.html",
            status,
            lang=lang,
            therapist_name=plans.therapist_name,
            csrf=session.csrf_token,
            saved=saved,
            applied=applied,
            errors=dict(errors or {}),
            error_template=error_template,
            error_detail=error_detail,
            error_refused=error_refused,
            submitted=dict(submitted or {}),
            templates=[
                (tid, name, phases.timeline(steps, None, today))
                for tid, name, steps in plans.templates
            ],
            phase_partners=phases.partner_choices(None),
            phase_slots=phases.SLOTS,
            plan=phases.form_values([]) | dict(submitted or {}),
            couples=[views.overview_line(row, today, w) for row in plans.couples],
            plan_kinds=therapists.PLAN_KINDS,
            next_monday=(practice.monday_of(today) + dt.timedelta(weeks=1)).isoformat(),
        )

    async def new_template(self, request: Request) -> Response:
        """Save a named plan."""
        session, form = await self.dash.checked_form(request)
        try:
            steps, _ = phases.plan_steps(form, need_start=False)
            phases.check_wordings(form, self.dash.wording, TEMPLATE_LANGUAGES)
            name = forms.text(form, "name")[:MAX_NAME_CHARS]
            await self.dash.db.run(
                loaders.save_template, session.therapist_id, name, steps, self.dash.clock()
            )
        except (Invalid, TherapistError) as exc:
            errors = {exc.field: exc.reason} if isinstance(exc, Invalid) else _template_refusal(exc)
            submitted = forms.form_values(form)
            wording = exc if isinstance(exc, phases.WordingInvalid) else None
            return await self._page(
                session,
                status=400,
                errors=errors,
                submitted=submitted,
                error_detail=wording.detail if wording else "",
                error_refused=wording.refused if wording else None,
            )
        log.info("dashboard: therapist %s saved a plan template", session.therapist_id)
        return RedirectResponse("/plans?saved=1", status_code=303)

    async def apply_template(self, request: Request) -> Response:
        """Give a named plan to the chosen couples, from one start date."""
        session, form = await self.dash.checked_form(request)
        template_id = path_id(request, "template_id")
        try:
            couple_ids = forms.chosen_couples(form, template_id)
            starts_on = forms.start_date(form, f"starts_on-{template_id}")
            applied = await self.dash.db.run(
                loaders.apply_template,
                session.therapist_id,
                template_id,
                couple_ids,
                starts_on,
                self.dash.clock(),
            )
        except Invalid as exc:
            return await self._page(
                session,
                status=400,
                errors={exc.field: exc.reason},
                error_template=template_id,
                submitted=forms.form_values(form),
            )
        except TherapistError:
            raise HTTPException(404) from None
        log.info(
            "dashboard: therapist %s applied a template to %s couples",
            session.therapist_id,
            applied,
        )
        return RedirectResponse(f"/plans?applied={applied}", status_code=303)
