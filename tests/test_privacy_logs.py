"""What people write never reaches the logs, even when a library or the database fails.

Each test injects a real fault, captures everything the bot's own logging setup
(`bot.logs.configure`) writes, tracebacks included, and looks for a marker text.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from telegram.error import TelegramError

from bot import logs
from fakes.telegram_api import FakeTelegram
from storage.db import Database
from storage.models import Appreciation
from tests.conftest import DEFAULT_NOW, TOKEN, make_settings
from tests.support.bot import BotHarness, FakeClock

MARKER = "Quillmarker"


class GarblingTelegram(FakeTelegram):
    """The fake Bot API, able to cut its next answer of one kind mid-JSON.

    A proxy that truncates a body, or an outage page wrapped around one, looks like this
    to the bot: invalid JSON that still holds what people wrote.
    """

    garble_next: str | None = None  # "updates" or "error"

    def _should_garble(self, payload: dict[str, Any]) -> bool:
        result = payload.get("result")
        if self.garble_next == "updates":
            return isinstance(result, list) and bool(result)
        return self.garble_next == "error" and payload.get("ok") is False

    async def _respond(self, send: Any, status: int, payload: dict[str, Any]) -> None:  # type: ignore[override]
        if not self._should_garble(payload):
            await FakeTelegram._respond(send, status, payload)
            return
        self.garble_next = None
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")[:-3]
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode("ascii")),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    """Everything the bot's real logging setup writes, at DEBUG."""
    stream = io.StringIO()
    handler = logs.configure(logging.DEBUG, secrets=(TOKEN,), stream=stream)
    yield stream
    logging.getLogger().removeHandler(handler)


@pytest.fixture
async def garbling_bot(sqlite_url: str) -> AsyncIterator[BotHarness]:
    with GarblingTelegram(token=TOKEN) as fake:
        database = Database(sqlite_url)
        clock = FakeClock(DEFAULT_NOW)
        async with BotHarness(make_settings(sqlite_url, fake), database, fake, clock) as harness:
            yield harness
        database.close()


async def test_a_garbled_bot_api_answer_keeps_the_message_text_out_of_the_logs(
    garbling_bot: BotHarness, log_output: io.StringIO
) -> None:
    fake = garbling_bot.fake
    assert isinstance(fake, GarblingTelegram)
    ana = garbling_bot.user(1001)
    ana.send(f"I felt alone tonight, {MARKER}")
    fake.garble_next = "updates"

    with pytest.raises(TelegramError) as raised:
        await garbling_bot.process()

    # Our request classes parse without logging the body (bot.send_errors); the filter
    # would hold back PTB's own record if a default request class ever logged it.
    assert MARKER not in str(raised.value)
    assert MARKER not in log_output.getvalue()


async def test_an_unreadable_error_answer_keeps_its_body_out_of_the_logs(
    garbling_bot: BotHarness, log_output: io.StringIO
) -> None:
    fake = garbling_bot.fake
    assert isinstance(fake, GarblingTelegram)
    ana = garbling_bot.user(1001)
    # An error page that quotes the request back, cut short: PTB puts it in the exception.
    fake.fail_next(
        "sendMessage", error_code=500, description=f"could not deliver: {MARKER} (request quoted)"
    )
    fake.garble_next = "error"

    await garbling_bot.say(ana, "/help")

    written = log_output.getvalue()
    assert "handler failed" in written and "NetworkError" in written
    assert "withheld" in written
    assert MARKER not in written


async def test_a_failed_save_keeps_the_new_name_out_of_the_logs_and_tracebacks(
    sqlite_bot: BotHarness, log_output: io.StringIO
) -> None:
    ana = sqlite_bot.user(1001)
    await sqlite_bot.onboard(ana)
    with sqlite_bot.db.engine.begin() as conn:
        conn.execute(
            text(
                "CREATE TRIGGER refuse_names BEFORE UPDATE OF display_name ON people "
                "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
            )
        )

    replies = await sqlite_bot.say(ana, f"/name {MARKER}")

    assert replies  # the person was told something went wrong
    written = log_output.getvalue()
    assert "handler failed" in written and "Traceback" in written
    assert "refused by the test" in written  # the fault itself stays diagnosable
    assert MARKER not in written


def test_a_database_error_on_either_backend_logs_no_value_of_the_row(
    db: Database, log_output: io.StringIO
) -> None:
    log = logging.getLogger("nudgebot.test")
    broken = Appreciation(
        person_id=1,
        text=f"You listened to me today, {MARKER}",
        written_at=None,  # NOT NULL: PostgreSQL quotes the whole failing row
        local_date=dt.date(2026, 11, 23),
    )
    with pytest.raises(DBAPIError) as caught, db.session() as session:
        session.add(broken)
    assert MARKER in str(caught.value.orig) or db.is_sqlite  # PostgreSQL would leak it

    log.error("saving failed", exc_info=caught.value)
    log.warning("saving failed: %s", caught.value)
    log.warning("driver said: %s", caught.value.orig)

    written = log_output.getvalue()
    assert written.count("saving failed") == 2
    assert "appreciations" in written  # the table is named, so the fault is findable
    assert MARKER not in written


def test_token_redaction_still_holds_next_to_the_payload_filter(log_output: io.StringIO) -> None:
    logging.getLogger("nudgebot.test").warning("calling https://x/bot%s/getMe", TOKEN)
    written = log_output.getvalue()
    assert TOKEN not in written and "<token>" in written


@pytest.mark.parametrize(
    ("message", "args"),
    [
        pytest.param("Can not load invalid JSON data: %r", (f'{{"text": "{MARKER}"',), id="json"),
        pytest.param(
            "Error while parsing updates! Received data was %r", ([MARKER],), id="updates"
        ),
    ],
)
def test_python_telegram_bots_own_records_of_a_body_are_withheld(
    log_output: io.StringIO, message: str, args: tuple[object, ...]
) -> None:
    # What PTB's default request class and updater log; our request classes never do.
    logging.getLogger("telegram.request.BaseRequest").error(message, *args)
    written = log_output.getvalue()
    assert message.split(" ", 3)[0] in written  # the fault is still reported...
    assert MARKER not in written  # ...without the body
