"""The server's secret: the key that makes stored person hashes useless without it.

Telegram ids are small integers, so a plain hash of one is undone by hashing every id
in seconds. The "don't ask me again" list and the record of who opened an invitation
link therefore hold a keyed HMAC-SHA256 instead. The key is 32 random bytes generated
the first time one is needed and kept in the database, so it travels with every backup;
an operator who keeps secrets elsewhere sets NUDGEBOT_SECRET_KEY and nothing is stored.
Lose or change the key and the stored hashes stop matching: those opt-outs are lost.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Mapping

from sqlalchemy import String, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage.models import Base, Invitation, Person

ENV_VAR = "NUDGEBOT_SECRET_KEY"
MIN_KEY_CHARS = 32
KEY_BYTES = 32
PERSON_HASH = "person_hash"
# Where Database puts an operator-given key, and where a session keeps the stored one.
GIVEN_KEY = "nudgebot.secret_key"
_STORED_KEY = "nudgebot.stored_secret_key"


class SecretKeyError(ValueError):
    """NUDGEBOT_SECRET_KEY is set but too short to be a key; the message names it."""


class ServerSecret(Base):
    """A random key generated on first use, by name; the value is hex."""

    __tablename__ = "server_secrets"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[dt.datetime]


def key_from_environment(environ: Mapping[str, str]) -> bytes | None:
    """The operator's key from NUDGEBOT_SECRET_KEY, or None when it is not set."""
    value = environ.get(ENV_VAR, "").strip()
    if not value:
        return None
    if len(value) < MIN_KEY_CHARS:
        raise SecretKeyError(
            f"{ENV_VAR} must be at least {MIN_KEY_CHARS} characters "
            '(python3 -c "import secrets; print(secrets.token_hex(32))" makes one)'
        )
    return value.encode("utf-8")


def server_key(session: Session) -> bytes:
    """The key for person hashes: the operator's, or the stored one (made on first use)."""
    given = session.info.get(GIVEN_KEY)
    if isinstance(given, bytes):
        return given
    stored = session.info.get(_STORED_KEY)
    if isinstance(stored, bytes):
        return stored
    value = session.scalar(select(ServerSecret.value).where(ServerSecret.name == PERSON_HASH))
    if value is None:
        value = _create(session)
    key = bytes.fromhex(value)
    session.info[_STORED_KEY] = key
    return key


def _create(session: Session) -> str:
    """Store a fresh key unless another process just did; return whichever won."""
    row = {
        "name": PERSON_HASH,
        "value": secrets.token_bytes(KEY_BYTES).hex(),
        "created_at": dt.datetime.now(dt.UTC),
    }
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(insert(ServerSecret).values(row).on_conflict_do_nothing())
    value = session.scalar(select(ServerSecret.value).where(ServerSecret.name == PERSON_HASH))
    assert value is not None
    return value


def keyed_hash(key: bytes, message: str) -> str:
    """HMAC-SHA256 of `message` under `key`, as 64 hex characters."""
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).hexdigest()


def answer_seal(session: Session, person_id: int, question: str, ref: int, text: str) -> str:
    """12 hex characters that bind a typed answer to the person and the open question it
    answered, under the server key: the safety note's "Use what I wrote" button carries
    it, so a forged button cannot move an answer elsewhere and an edited answer is seen
    as changed. Not stored anywhere. The person's creation time is in it too (and an
    invitation draft's): SQLite may give an erased row's id to the next one."""
    created = session.scalar(select(Person.created_at).where(Person.id == person_id))
    # An invitation's question is its draft (`ref`), whose id SQLite may also reuse.
    opened = (
        session.scalar(select(Invitation.created_at).where(Invitation.id == ref))
        if question.startswith("invite_")
        else None
    )
    parts = ("carry-on", str(person_id), str(created), question, str(ref), str(opened), text)
    return keyed_hash(server_key(session), "\x00".join(parts))[:12]
