"""Ending a link from the dashboard, as /endlink does in the bot: ask, then end.

The couple page links to a confirmation page; only its form (a POST with the CSRF token)
ends the link. Each partner whose consent stood is then told in Telegram, kindly and in
their language, with the words /endlink sends (the bot sends them; see `loaders.end_link`).
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from dashboard import loaders, views
from dashboard.base import Dashboard, path_id

log = logging.getLogger(__name__)


def routes(dash: Dashboard) -> list[Route]:
    """The confirmation page, its form's target, and the page after."""
    pages = EndingPages(dash)
    return [
        Route("/couples/{couple_id:int}/end", pages.confirm, methods=["GET"]),
        Route("/couples/{couple_id:int}/end", pages.end, methods=["POST"]),
        Route("/ended", pages.ended, methods=["GET"]),
    ]


class EndingPages:
    """Ending a link: the question, the answer, and what happens next."""

    def __init__(self, dash: Dashboard) -> None:
        self.dash = dash

    async def confirm(self, request: Request) -> Response:
        """Ask before ending: what stops, and that both partners are told."""
        session = await self.dash.session(request)
        couple_id = path_id(request, "couple_id")
        view = await self.dash.db.run(
            loaders.load_couple, session.therapist_id, couple_id, self.dash.clock()
        )
        lang = self.dash.language_of(session)
        return self.dash.templates.render(
            "end_link.html",
            lang=lang,
            therapist_name=view.therapist_name,
            csrf=session.csrf_token,
            couple_id=couple_id,
            name=views.couple_name(view.card, self.dash.templates.words[lang]),
        )

    async def end(self, request: Request) -> Response:
        """End the link (confirmed); the partners are told by the bot."""
        session, _ = await self.dash.checked_form(request)
        couple_id = path_id(request, "couple_id")
        await self.dash.db.run(loaders.end_link, session.therapist_id, couple_id, self.dash.clock())
        log.info("dashboard: therapist %s ended a link", session.therapist_id)
        return RedirectResponse("/ended", status_code=303)

    async def ended(self, request: Request) -> Response:
        """What happens now that the link has ended."""
        session = await self.dash.session(request)
        name = await self.dash.db.run(loaders.therapist_name, session.therapist_id)
        return self.dash.templates.message(
            "link_ended",
            200,
            lang=self.dash.language_of(session),
            therapist_name=name,
            csrf=session.csrf_token,
            back=True,
        )
