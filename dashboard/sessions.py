"""Signed-in therapists, held in memory: a restart signs everyone out, which is fine.

The store lives on the app (`app.state.sessions`), never at module level. Only the event
loop touches it, so it needs no lock.
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from dataclasses import dataclass

SESSION_TTL = dt.timedelta(hours=8)
# A login needs a fresh one-time link from the bot, so this is a backstop, not a quota.
MAX_SESSIONS = 10_000


@dataclass(frozen=True, slots=True)
class DashboardSession:
    """One signed-in browser: whose it is, its CSRF token, and when it ends."""

    therapist_id: int
    csrf_token: str
    expires_at: dt.datetime

    def csrf_matches(self, submitted: str | None) -> bool:
        """Compare a submitted form token with this session's, in constant time."""
        if not submitted:
            return False
        return hmac.compare_digest(submitted.encode(), self.csrf_token.encode())


class SessionStore:
    """Session id -> (therapist id, CSRF token, expiry); bounded, expired ones dropped."""

    def __init__(self, ttl: dt.timedelta = SESSION_TTL, limit: int = MAX_SESSIONS) -> None:
        self.ttl = ttl
        self.limit = limit
        self._sessions: dict[str, DashboardSession] = {}

    def __len__(self) -> int:
        return len(self._sessions)

    def create(self, therapist_id: int, now: dt.datetime) -> str:
        """Start a session for this therapist; returns the new session id (the cookie)."""
        self.drop_expired(now)
        while len(self._sessions) >= self.limit:
            # Dicts keep insertion order: the first one is the oldest.
            del self._sessions[next(iter(self._sessions))]
        session_id = secrets.token_urlsafe(32)
        self._sessions[session_id] = DashboardSession(
            therapist_id, secrets.token_urlsafe(32), now + self.ttl
        )
        return session_id

    def get(self, session_id: str | None, now: dt.datetime) -> DashboardSession | None:
        """The live session for this cookie value, if there is one."""
        if not session_id:
            return None
        found = self._sessions.get(session_id)
        if found is None:
            return None
        if found.expires_at <= now:
            del self._sessions[session_id]
            return None
        return found

    def end(self, session_id: str | None) -> None:
        """Sign out: forget this session."""
        if session_id:
            self._sessions.pop(session_id, None)

    def end_therapist(self, therapist_id: int) -> None:
        """Forget every session of a therapist (their account was revoked)."""
        for key in [k for k, v in self._sessions.items() if v.therapist_id == therapist_id]:
            del self._sessions[key]

    def drop_expired(self, now: dt.datetime) -> int:
        """Forget sessions past their end; returns how many were dropped."""
        expired = [k for k, v in self._sessions.items() if v.expires_at <= now]
        for key in expired:
            del self._sessions[key]
        return len(expired)
