"""Person hashes are keyed with the server's secret, and opt-outs survive the upgrade.

A plain SHA-256 of a Telegram id is undone by hashing every id; the stored hashes are an
HMAC under a key only the server holds. Rows written before the key existed still count.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from storage import invitations, secret
from storage.db import Database
from storage.models import Invitation, InviteOptOut
from tests.support.bot import BotHarness
from tests.test_couple import paired
from tests.test_invite import walk_to_preview

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)


def plain_sha256(telegram_user_id: int) -> str:
    """What was stored before the server had a secret."""
    return hashlib.sha256(f"nudgebot-invitee:{telegram_user_id}".encode()).hexdigest()


def hash_with(db: Database, telegram_user_id: int) -> str:
    with db.session() as session:
        return invitations.person_hash(session, telegram_user_id)


async def test_dont_ask_me_again_is_stored_as_a_keyed_hash_not_a_plain_sha256(
    bot: BotHarness,
) -> None:
    ana, ben = await paired(bot)
    await walk_to_preview(bot, ana)
    await bot.press(ana, "Send it now")
    await bot.run_dispatcher()
    await bot.press(ben, "Not now")
    await bot.press(ben, "Please don't ask me through this bot again")

    with bot.db.session() as session:
        [stored] = session.scalars(select(InviteOptOut.user_hash)).all()
        assert stored != plain_sha256(ben.user_id)
        assert stored == invitations.person_hash(session, ben.user_id)
        assert len(stored) == 64


async def test_an_opt_out_from_before_the_upgrade_still_holds_and_is_rekeyed(
    bot: BotHarness,
) -> None:
    ana, ben = await paired(bot)
    with bot.db.session() as session:
        session.add(InviteOptOut(user_hash=plain_sha256(ben.user_id), created_at=NOW))

    [answer] = await bot.say(ana, "/invite")

    assert "asked not to receive invitations" in answer.text
    with bot.db.session() as session:
        [stored] = session.scalars(select(InviteOptOut.user_hash)).all()
        assert stored == invitations.person_hash(session, ben.user_id)
    [again] = await bot.say(ana, "/invite")  # and it keeps holding once rekeyed
    assert "asked not to receive invitations" in again.text


async def test_a_link_opened_before_the_upgrade_still_answers_only_to_its_opener(
    bot: BotHarness,
) -> None:
    ana = bot.user(1001, "Ana")
    await bot.onboard(ana)
    await walk_to_preview(bot, ana, line=None)
    replies = await bot.press(ana, "Give me the text and link")
    payload = re.search(r"start=(i_[A-Za-z0-9_-]+)", replies[-1].text).group(1)  # type: ignore[union-attr]
    kim, lou = bot.user(3003, "Kim"), bot.user(3004, "Lou")
    await bot.say(kim, f"/start {payload}")
    with bot.db.session() as session:  # as an older version stored it
        session.scalars(select(Invitation)).one().opened_by_hash = plain_sha256(kim.user_id)

    [refused] = await bot.say(lou, f"/start {payload}")
    [reopened] = await bot.say(kim, f"/start {payload}")
    await bot.press(kim, "I'd try one session")

    assert "already been opened by someone" in refused.text
    assert "I'd try one session" in reopened.button_texts
    with bot.db.session() as session:
        invitation = session.scalars(select(Invitation)).one()
        assert invitation.answer == "yes"
        assert invitation.opened_by_hash == invitations.person_hash(session, kim.user_id)


def test_different_secrets_give_different_hashes(sqlite_url: str, tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    shutil.copy(sqlite_url.removeprefix("sqlite:///"), other)
    one, two = Database(sqlite_url), Database(f"sqlite:///{other}")
    given_a = Database(sqlite_url, secret_key=b"a" * 32)
    given_b = Database(sqlite_url, secret_key=b"b" * 32)
    try:
        hashes = {hash_with(db, 1002) for db in (one, two, given_a, given_b)}
    finally:
        for db in (one, two, given_a, given_b):
            db.close()
    assert len(hashes) == 4
    assert plain_sha256(1002) not in hashes


def test_the_generated_secret_is_kept_so_hashes_match_after_a_restart(database_url: str) -> None:
    first = Database(database_url)
    before = hash_with(first, 1002)
    first.close()
    restarted = Database(database_url)
    try:
        assert hash_with(restarted, 1002) == before
        with restarted.session() as session:
            assert len(session.scalars(select(secret.ServerSecret)).all()) == 1
    finally:
        restarted.close()


def test_the_secret_comes_from_the_environment_when_set(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = "k" * 40
    monkeypatch.setenv(secret.ENV_VAR, key)
    db = Database(sqlite_url)
    try:
        assert hash_with(db, 1002) == secret.keyed_hash(key.encode(), "nudgebot-invitee:1002")
        with db.session() as session:  # nothing stored when the operator keeps the key
            assert session.scalars(select(secret.ServerSecret)).all() == []
    finally:
        db.close()


def test_a_short_secret_in_the_environment_is_refused_by_name(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(secret.ENV_VAR, "short")
    with pytest.raises(secret.SecretKeyError, match=secret.ENV_VAR):
        Database(sqlite_url)
