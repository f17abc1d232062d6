"""The dashboard's pages and form targets, one module per area; `all_routes` lists them."""

from __future__ import annotations

from starlette.routing import Route

from dashboard.base import Dashboard
from dashboard.routes import auth, couple, ending, export, overview, plans, wording


def all_routes(dash: Dashboard) -> list[Route]:
    """Every page and form target of the dashboard."""
    return [
        *overview.routes(dash),
        *auth.routes(dash),
        *couple.routes(dash),
        *wording.routes(dash),
        *ending.routes(dash),
        *plans.routes(dash),
        *export.routes(dash),
    ]
