"""Signed-in therapists, kept in the database (`storage.dashboard_sessions`), so a restart or a
second process signs no one out.

The cookie holds a random session id; the database holds only its hash, the therapist, the
session's CSRF token and when it ends (8 hours, or 30 days once the therapist chooses
"remember this device"). Signing out ends one session; "sign out everywhere" ends all of a
therapist's; a revoked account's sessions end the next time one is used.
"""

from __future__ import annotations

import datetime as dt
import hmac
from dataclasses import dataclass

from storage import dashboard_sessions
from storage.db import Database

SESSION_TTL = dashboard_sessions.SESSION_TTL
REMEMBERED_TTL = dashboard_sessions.REMEMBERED_TTL


class SignedOut(Exception):
    """No live session (or its therapist's account was revoked): ask them to sign in."""

    def __init__(self, therapist_id: int | None = None) -> None:
        super().__init__("not signed in")
        self.therapist_id = therapist_id


@dataclass(frozen=True, slots=True)
class DashboardSession:
    """One signed-in browser: whose it is, its CSRF token, and when it ends."""

    therapist_id: int
    csrf_token: str
    expires_at: dt.datetime
    remembered: bool = False
    # The therapist's chosen dashboard language, if any; `Dashboard.session` puts the
    # page's language here (the choice, else the browser's).
    language: str | None = None

    def csrf_matches(self, submitted: str | None) -> bool:
        """Compare a submitted form token with this session's, in constant time."""
        if not submitted:
            return False
        return hmac.compare_digest(submitted.encode(), self.csrf_token.encode())


def _session(found: dashboard_sessions.SignedIn | None) -> DashboardSession | None:
    if found is None:
        return None
    return DashboardSession(
        found.therapist_id, found.csrf_token, found.expires_at, found.remembered, found.language
    )


class SessionStore:
    """Sessions in the database, reached on its thread pool."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(self, therapist_id: int, now: dt.datetime) -> str:
        """Start a session for this therapist; returns the new session id (the cookie)."""
        raw, _ = await self.db.run(dashboard_sessions.start_session, therapist_id, now)
        return raw

    async def get(self, session_id: str | None, now: dt.datetime) -> DashboardSession | None:
        """The live session for this cookie value, if there is one."""
        if not session_id:
            return None
        return _session(await self.db.run(dashboard_sessions.find_session, session_id, now))

    async def remember(self, session_id: str | None, now: dt.datetime) -> DashboardSession | None:
        """Keep this session for 30 days from now."""
        return _session(await self.db.run(dashboard_sessions.remember_session, session_id, now))

    async def end(self, session_id: str | None) -> None:
        """Sign out: forget this session."""
        if session_id:
            await self.db.run(dashboard_sessions.end_session, session_id)

    async def end_therapist(self, therapist_id: int) -> int:
        """Forget every session of a therapist (sign out everywhere, or a revoked account)."""
        ended: int = await self.db.run(dashboard_sessions.end_sessions, therapist_id)
        return ended

    async def count(self, therapist_id: int | None = None) -> int:
        """How many sessions are stored."""
        counted: int = await self.db.run(dashboard_sessions.count_sessions, therapist_id)
        return counted
