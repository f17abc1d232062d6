"""Secrets for deep links and login links: random, single-purpose, stored only as a hash."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy.orm import Session

from storage.models import OneTimeToken

# 24 random bytes: 32 URL-safe characters, well inside Telegram's 64 for a /start payload.
TOKEN_BYTES = 24


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def issue(
    session: Session,
    purpose: str,
    now: dt.datetime,
    ttl: dt.timedelta,
    *,
    person_id: int | None = None,
    therapist_id: int | None = None,
    ref_id: int | None = None,
) -> str:
    """Store the hash of a fresh token for `purpose`; return the token itself, once."""
    raw = new_token()
    session.add(
        OneTimeToken(
            purpose=purpose,
            token_hash=token_hash(raw),
            person_id=person_id,
            therapist_id=therapist_id,
            ref_id=ref_id,
            created_at=now,
            expires_at=now + ttl,
        )
    )
    return raw
