"""The Telegram transport: paid broadcasts for bulk sends only, when the operator opts in."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from telegram.ext import ExtBot

from bot.ratelimit import TelegramRateLimiter
from bot.transport import TelegramTransport
from fakes.telegram_api import FakeTelegram
from scheduler.transport import SendStatus

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawQ"


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram(token=TOKEN) as server:
        yield server


@pytest.mark.parametrize(
    ("paid", "bulk", "flag"),
    [
        pytest.param(True, True, True, id="opted-in-bulk-is-paid"),
        pytest.param(True, False, None, id="opted-in-reply-is-free"),
        pytest.param(False, True, None, id="not-opted-in"),
    ],
)
async def test_paid_broadcast_is_asked_for_only_on_bulk_sends_when_enabled(
    fake: FakeTelegram, paid: bool, bulk: bool, flag: bool | None
) -> None:
    ana = fake.user(1001, first_name="Ana")
    limiter = TelegramRateLimiter(0, 0)
    async with ExtBot(TOKEN, base_url=fake.base_url, rate_limiter=limiter) as bot:  # type: ignore[var-annotated]
        transport = TelegramTransport(bot, paid_broadcast=paid)
        result = await transport.send(ana.chat_id, "Hello", bulk=bulk)
    assert result.status is SendStatus.SENT
    [call] = fake.calls_to("sendMessage")
    assert call.params.get("allow_paid_broadcast") == flag


async def test_a_declined_last_moment_check_sends_nothing(fake: FakeTelegram) -> None:
    ana = fake.user(1001, first_name="Ana")
    limiter = TelegramRateLimiter(30, 1)

    async def erased_meanwhile() -> bool:
        return False

    async with ExtBot(TOKEN, base_url=fake.base_url, rate_limiter=limiter) as bot:  # type: ignore[var-annotated]
        result = await TelegramTransport(bot).send(
            ana.chat_id, "Hello", on_leaving=erased_meanwhile
        )
    assert result.status is SendStatus.CANCELLED
    assert fake.calls_to("sendMessage") == []
