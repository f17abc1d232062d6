"""The therapist dashboard: a small server-rendered web app served from the bot's process.

A therapist signs in with a one-time link the bot sends on /dashboard, then sees and sets
what their linked couples practise and when. It shows names, zones, schedules and counts,
never anything partners wrote. `create_app` builds the ASGI app; `DashboardServer` runs it
with uvicorn inside the bot's own event loop.
"""

from dashboard.app import COOKIE_NAME, create_app, login_url
from dashboard.server import DashboardServer

__all__ = ["COOKIE_NAME", "DashboardServer", "create_app", "login_url"]
