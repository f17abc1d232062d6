"""Start-up survives what Telegram and the database throw at it, or says what to do.

- `setMyCommands` answering 500 or 429 delays start-up a little; it never stops it.
- Updates without a sender (channel posts, messages without `from`) are ignored quietly.
- A database file that is not SQLite, or is locked, is one line and a non-zero exit.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from telegram import BotCommand
from telegram.error import InvalidToken

from bot import classifier
from bot.startup import Patience, patiently
from fakes.telegram_api import FakeTelegram
from storage.db import Database
from tests.conftest import TOKEN, make_settings
from tests.support.bot import BotHarness, FakeClock
from tests.support.process import run_cli

MENU = [BotCommand("help", "What I can do")]


@pytest.fixture
async def quiet_bot(
    sqlite_url: str, fake: FakeTelegram, clock: FakeClock
) -> AsyncIterator[BotHarness]:
    """The real Application without the dashboard, so post_init can run in the test."""
    database = Database(sqlite_url)
    settings = make_settings(sqlite_url, fake, dashboard_enabled=False)
    async with BotHarness(settings, database, fake, clock) as harness:
        yield harness
    database.close()


class RecordedWaits:
    """Stands in for asyncio.sleep: remembers each wait instead of waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def menu_call(bot: BotHarness) -> Any:
    return lambda: bot.app.bot.set_my_commands(MENU, rate_limit_args={"max_retries": 0})


# -- setMyCommands at start-up ---------------------------------------------------------


async def test_one_500_from_set_my_commands_only_delays_start_up(quiet_bot: BotHarness) -> None:
    quiet_bot.fake.fail_next("setMyCommands", error_code=500)
    started = time.monotonic()

    await quiet_bot.app.post_init(quiet_bot.app)  # type: ignore[misc]

    assert "start" in {c["command"] for c in quiet_bot.fake.commands_for()}
    # The default menu once more after the 500, then one menu per language.
    languages = len(quiet_bot.renderer.locales())
    assert len(quiet_bot.fake.calls_to("setMyCommands")) == 2 + languages
    assert time.monotonic() - started < 10


async def test_the_tone_and_safety_models_are_loaded_before_anyone_writes(
    quiet_bot: BotHarness,
) -> None:
    classifier.load.cache_clear()

    await quiet_bot.app.post_init(quiet_bot.app)  # type: ignore[misc]

    assert classifier.load.cache_info().currsize == 2  # tone and safety


async def test_two_429s_from_set_my_commands_are_waited_out(quiet_bot: BotHarness) -> None:
    quiet_bot.fake.fail_next("setMyCommands", error_code=429, retry_after=1, times=2)

    await quiet_bot.app.post_init(quiet_bot.app)  # type: ignore[misc]

    assert "start" in {c["command"] for c in quiet_bot.fake.commands_for()}
    languages = len(quiet_bot.renderer.locales())
    assert len(quiet_bot.fake.calls_to("setMyCommands")) == 3 + languages


async def test_the_command_menu_is_registered_in_each_language(quiet_bot: BotHarness) -> None:
    await quiet_bot.app.post_init(quiet_bot.app)  # type: ignore[misc]

    german = {
        c["command"]: c["description"] for c in quiet_bot.fake.commands_for(language_code="de")
    }
    english = {
        c["command"]: c["description"] for c in quiet_bot.fake.commands_for(language_code="en")
    }
    assert german["language"] == quiet_bot.renderer.label("cmd_language", "de")
    assert german["language"] != english["language"]
    assert set(german) == set(english) == {c["command"] for c in quiet_bot.fake.commands_for()}


async def test_waits_double_up_to_a_cap_and_honour_retry_after(quiet_bot: BotHarness) -> None:
    quiet_bot.fake.fail_next("setMyCommands", error_code=500, times=5)
    quiet_bot.fake.fail_next("setMyCommands", error_code=429, retry_after=7)
    waits = RecordedWaits()

    done = await patiently("menu", menu_call(quiet_bot), patience=Patience(1, 10, 60), sleep=waits)

    assert done is True
    assert waits.waits == [1, 2, 4, 8, 10, 7]


async def test_start_up_goes_on_without_the_menu_when_telegram_keeps_failing(
    quiet_bot: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    quiet_bot.fake.fail_next("setMyCommands", error_code=500, times=1000)
    waits = RecordedWaits()

    with caplog.at_level(logging.WARNING, logger="bot.startup"):
        done = await patiently("registering the command menu", menu_call(quiet_bot), sleep=waits)

    assert done is None
    assert sum(waits.waits) <= Patience().total_wait
    assert max(waits.waits) == Patience().longest_wait
    assert any("starting without it" in r.getMessage() for r in caplog.records)


async def test_a_retry_after_longer_than_the_budget_is_not_waited(
    quiet_bot: BotHarness,
) -> None:
    quiet_bot.fake.fail_next("setMyCommands", error_code=429, retry_after=3600)
    waits = RecordedWaits()

    done = await patiently("menu", menu_call(quiet_bot), sleep=waits)

    assert done is None
    assert waits.waits == []


async def test_a_refused_token_still_stops_start_up(quiet_bot: BotHarness) -> None:
    quiet_bot.fake.fail_next("setMyCommands", error_code=401)

    with pytest.raises(InvalidToken):
        await patiently("menu", menu_call(quiet_bot), sleep=RecordedWaits())


# -- updates without a sender ----------------------------------------------------------


def without_sender(text: str, chat: dict[str, Any]) -> dict[str, Any]:
    message: dict[str, Any] = {
        "message_id": 1,
        "chat": chat,
        "date": int(time.time()),
        "text": text,
    }
    if text.startswith("/"):
        command = text.split(" ", 1)[0]
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
    return message


@pytest.mark.parametrize(
    "text",
    ["/start i_" + "A" * 32, "/start p_" + "A" * 32, "/start", "/help", "hello"],
    ids=["invitation-link", "pairing-link", "start", "command", "text"],
)
async def test_a_message_without_a_sender_is_ignored_quietly(
    sqlite_bot: BotHarness, caplog: pytest.LogCaptureFixture, text: str
) -> None:
    ana = sqlite_bot.user(1001, "Ana")  # the chat exists; the message has no `from`
    sqlite_bot.fake.inject_update({"message": without_sender(text, ana.chat_dict())})

    with caplog.at_level(logging.WARNING):
        assert await sqlite_bot.process() == 1

    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert sqlite_bot.fake.calls_to("sendMessage") == []


async def test_a_channel_post_is_ignored_quietly(
    sqlite_bot: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    channel = {"id": -1001234, "type": "channel", "title": "News"}
    sqlite_bot.fake.inject_update({"channel_post": without_sender("/start i_x", channel)})

    with caplog.at_level(logging.WARNING):
        assert await sqlite_bot.process() == 1

    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert sqlite_bot.fake.calls_to("sendMessage") == []


# -- a database that cannot be opened --------------------------------------------------


@pytest.fixture
def garbage_file(tmp_path: Path) -> Path:
    path = tmp_path / "nudgebot.db"
    path.write_bytes(b"these are not the bytes of a SQLite database\n" * 200)
    return path


@pytest.fixture
def locked_file(tmp_path: Path) -> Iterator[Path]:
    """A SQLite file another connection holds in an exclusive transaction."""
    path = tmp_path / "nudgebot.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE other_program (x)")
    holder.execute("BEGIN EXCLUSIVE")
    yield path
    holder.execute("ROLLBACK")
    holder.close()


CLI_ENV = {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": "http://127.0.0.1:9/bot"}


@pytest.mark.parametrize("command", [("run",), ("db", "upgrade")], ids=["run", "db-upgrade"])
def test_a_file_that_is_not_a_database_is_one_line_that_says_what_to_do(
    garbage_file: Path, command: tuple[str, ...]
) -> None:
    result = run_cli(*command, cwd=garbage_file.parent, **CLI_ENV)

    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "nudgebot: the database file nudgebot.db is not a valid SQLite database (or is "
        "encrypted); restore it from a backup or move it aside"
    ]
    assert garbage_file.read_bytes().startswith(b"these are not")  # left as it was


@pytest.mark.parametrize("command", [("run",), ("db", "upgrade")], ids=["run", "db-upgrade"])
def test_a_locked_database_file_is_one_line_that_says_what_to_do(
    locked_file: Path, command: tuple[str, ...]
) -> None:
    result = run_cli(*command, cwd=locked_file.parent, **CLI_ENV)

    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("nudgebot: the database file nudgebot.db is locked by another process")
    assert "stop the other nudgebot process" in line


def test_an_unreachable_postgresql_is_one_line(tmp_path: Path) -> None:
    url = "postgresql+psycopg://nudge:s3cret-pw@127.0.0.1:9/nudgebot"
    result = run_cli("db", "upgrade", cwd=tmp_path, DATABASE_URL=url)

    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert "could not connect to the database at" in line and "127.0.0.1:9" in line
    assert "s3cret-pw" not in result.stderr
