"""Dashboard sessions, kept server-side so that they survive restarts and any process can
serve any request: only a hash of the session id is stored, next to its CSRF token and
its end. A login link starts an 8-hour session; "keep me signed in" makes it 30 days;
revoking the therapist's account ends every session.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from storage.models import DashboardSession, Therapist
from storage.tokens import token_hash

SESSION_TTL = dt.timedelta(hours=8)
REMEMBERED_TTL = dt.timedelta(days=30)
SESSION_BYTES = 32


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A live dashboard session: whose it is, its CSRF token, and when it ends."""

    therapist_id: int
    csrf_token: str
    expires_at: dt.datetime
    remembered: bool
    # The therapist's dashboard language, when they chose one (or Telegram told us).
    language: str | None = None


def start_session(session: Session, therapist_id: int, now: dt.datetime) -> tuple[str, SignedIn]:
    """A new session for a therapist; returns the id for the cookie (never stored) and it."""
    drop_expired_sessions(session, now)
    raw = secrets.token_urlsafe(SESSION_BYTES)
    row = DashboardSession(
        id_hash=token_hash(raw),
        therapist_id=therapist_id,
        csrf_token=secrets.token_urlsafe(SESSION_BYTES),
        remembered=False,
        created_at=now,
        expires_at=now + SESSION_TTL,
    )
    session.add(row)
    session.flush()
    therapist = session.get_one(Therapist, therapist_id)
    return raw, SignedIn(therapist_id, row.csrf_token, row.expires_at, False, therapist.language)


def _signed_in(session: Session, row: DashboardSession) -> SignedIn:
    language = session.get_one(Therapist, row.therapist_id).language
    return SignedIn(row.therapist_id, row.csrf_token, row.expires_at, row.remembered, language)


def _live_session(session: Session, raw: str | None, now: dt.datetime) -> DashboardSession | None:
    if not raw:
        return None
    row = session.scalar(
        select(DashboardSession).where(DashboardSession.id_hash == token_hash(raw))
    )
    if row is None:
        return None
    if row.expires_at <= now:
        session.delete(row)
        return None
    therapist = session.get(Therapist, row.therapist_id)
    if therapist is None or therapist.revoked_at is not None:
        end_sessions(session, row.therapist_id)  # the account was revoked
        return None
    return row


def find_session(session: Session, raw: str | None, now: dt.datetime) -> SignedIn | None:
    """The live session behind a cookie value, if there is one (and its account stands)."""
    row = _live_session(session, raw, now)
    if row is None:
        return None
    return _signed_in(session, row)


def remember_session(session: Session, raw: str | None, now: dt.datetime) -> SignedIn | None:
    """Keep this session for 30 days from now ("remember this device")."""
    row = _live_session(session, raw, now)
    if row is None:
        return None
    row.remembered, row.expires_at = True, now + REMEMBERED_TTL
    return _signed_in(session, row)


def end_session(session: Session, raw: str | None) -> None:
    """Sign out: this session ends."""
    if raw:
        session.execute(delete(DashboardSession).where(DashboardSession.id_hash == token_hash(raw)))


def end_sessions(session: Session, therapist_id: int) -> int:
    """Sign out everywhere: every session of this therapist ends; returns how many."""
    result = session.execute(
        delete(DashboardSession).where(DashboardSession.therapist_id == therapist_id)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def drop_expired_sessions(session: Session, now: dt.datetime) -> int:
    """Forget sessions past their end; returns how many."""
    result = session.execute(delete(DashboardSession).where(DashboardSession.expires_at <= now))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def count_sessions(session: Session, therapist_id: int | None = None) -> int:
    """How many sessions are stored (of one therapist, or all)."""
    query = select(func.count()).select_from(DashboardSession)
    if therapist_id is not None:
        query = query.where(DashboardSession.therapist_id == therapist_id)
    return int(session.scalar(query) or 0)
