"""Engagement counts per couple, week and practice: a page to read or print, and CSV."""

from __future__ import annotations

import datetime as dt

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from dashboard import forms, loaders, views
from dashboard.base import Dashboard
from dashboard.codes import Reason
from storage import practice
from storage.therapists import TherapistError

DEFAULT_WEEKS = 8


def routes(dash: Dashboard) -> list[Route]:
    """The export page and its CSV."""
    pages = ExportPages(dash)
    return [
        Route("/export", pages.export_page, methods=["GET"]),
        Route("/export.csv", pages.export_csv, methods=["GET"]),
    ]


class ExportPages:
    """The counts as a page and as a file."""

    def __init__(self, dash: Dashboard) -> None:
        self.dash = dash

    def _range(self, request: Request) -> tuple[dt.date, dt.date, Reason | None]:
        """The first and last day from the query (the last 8 weeks by default), and an
        error code when the query's range cannot be used."""
        today = self.dash.clock().date()
        default_first = practice.monday_of(today) - dt.timedelta(weeks=DEFAULT_WEEKS - 1)
        raw_first = request.query_params.get("from", "").strip()
        raw_last = request.query_params.get("to", "").strip()
        try:
            first = forms.date(raw_first) if raw_first else default_first
            last = forms.date(raw_last) if raw_last else today
            practice.export_weeks(first, last)
        except (ValueError, TherapistError):
            return default_first, today, "export_range"
        return first, last, None

    async def export_page(self, request: Request) -> Response:
        """Weekly counts per couple and practice for a date range, to read or print."""
        session = await self.dash.session(request)
        first, last, error = self._range(request)
        export = await self.dash.db.run(loaders.load_export, session.therapist_id, first, last)
        lang = self.dash.language_of(session)
        return self.dash.templates.render(
            "export.html",
            400 if error else 200,
            lang=lang,
            therapist_name=export.therapist_name,
            csrf=session.csrf_token,
            first=first.isoformat(),
            last=last.isoformat(),
            first_day=first,
            last_day=last,
            error=error,
            rows=views.export_lines(export.rows, self.dash.templates.words[lang]),
        )

    async def export_csv(self, request: Request) -> Response:
        """The same counts as CSV: one line per couple, week and practice."""
        session = await self.dash.session(request)
        first, last, error = self._range(request)
        if error:
            raise HTTPException(400)
        export = await self.dash.db.run(loaders.load_export, session.therapist_id, first, last)
        name = f"nudgebot-counts-{first.isoformat()}-to-{last.isoformat()}.csv"
        return Response(
            views.export_csv(export.rows),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
