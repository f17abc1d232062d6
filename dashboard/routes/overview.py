"""The practice overview: every couple, what needs attention, this week's counts."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from dashboard import loaders, views
from dashboard.base import Dashboard


def routes(dash: Dashboard) -> list[Route]:
    """The overview, the dashboard's home page."""
    return [Route("/", Overview(dash).home, methods=["GET"])]


class Overview:
    """The home page."""

    def __init__(self, dash: Dashboard) -> None:
        self.dash = dash

    async def home(self, request: Request) -> Response:
        """Every couple, sorted and filtered as the query asks."""
        session = await self.dash.session(request)
        now = self.dash.clock()
        home = await self.dash.db.run(loaders.load_home, session.therapist_id, now)
        params = request.query_params
        sort = views.parse_sort(params.get("sort"))
        attention_only = params.get("attention") == "1"
        query = params.get("q", "")[: views.MAX_QUERY_CHARS]
        lang = self.dash.language_of(session)
        words = self.dash.templates.words[lang]
        lines = [views.overview_line(row, now.date(), words) for row in home.rows]
        return self.dash.templates.render(
            "home.html",
            lang=lang,
            therapist_name=home.therapist_name,
            csrf=session.csrf_token,
            lines=views.arrange(lines, sort, attention_only, query),
            total=len(lines),
            needing=sum(1 for line in lines if line.attention),
            sort=sort.value,
            sorts=views.sort_labels(words),
            attention_only=attention_only,
            query=query,
            remembered=session.remembered,
            until=session.expires_at,
        )
