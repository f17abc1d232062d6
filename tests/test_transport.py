"""The Telegram transport: paid broadcasts for bulk sends only, when the operator opts in;
the last-moment mark of a scheduled send, made once its connection is in hand."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator

import pytest
from telegram.ext import ExtBot

from bot.aiohttp_request import AiohttpRequest
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


def bot_on_aiohttp(base_url: str, limiter: TelegramRateLimiter) -> ExtBot[None]:
    return ExtBot(TOKEN, base_url=base_url, request=AiohttpRequest(), rate_limiter=limiter)  # type: ignore[arg-type]


async def test_a_scheduled_send_that_cannot_get_a_connection_is_never_marked_leaving() -> None:
    """The mark is made once a connection is in hand: a send that never left is not
    left `sending` (ambiguous after a crash), it is simply tried again."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    marks: list[str] = []

    async def mark() -> bool:
        marks.append("sending")
        return True

    bot = bot_on_aiohttp(f"http://127.0.0.1:{port}/bot", TelegramRateLimiter(30, 1))
    async with bot.request:  # no getMe: nothing answers there
        result = await TelegramTransport(bot).send(1001, "Hello", on_leaving=mark)

    assert result.status is SendStatus.NOT_SENT
    assert marks == []


async def test_sends_marked_just_before_writing_after_a_slow_commit_keep_telegrams_limit() -> None:
    """A group commit that takes a second releases a dozen marked sends at once; the
    limiter's last check runs after the mark, at the wire, so Telegram sees no burst.
    (The limiter runs at 6/s against the fake's 10: the fake, in this process, stamps the
    first requests on new connections some 15 ms late when a dozen come at once.)"""
    with FakeTelegram(
        token=TOKEN, enforce_rate_limits=True, global_per_second=10, per_chat_per_second=1
    ) as fake:
        users = [fake.user(2000 + i) for i in range(12)]
        committed = asyncio.Event()
        marked: list[int] = []

        async def slow_mark(chat: int) -> bool:
            await committed.wait()
            marked.append(chat)
            return True

        async with bot_on_aiohttp(fake.base_url, TelegramRateLimiter(6, 1)) as bot:
            transport = TelegramTransport(bot)
            sends = [
                asyncio.create_task(
                    transport.send(u.chat_id, "Hello", on_leaving=lambda c=u.chat_id: slow_mark(c))
                )
                for u in users
            ]
            await asyncio.sleep(1.0)  # every slot of the first second has come and gone
            committed.set()
            results = await asyncio.gather(*sends)

        assert [r.status for r in results] == [SendStatus.SENT] * 12
        assert sorted(marked) == [u.chat_id for u in users]
        assert fake.too_many_requests == 0
        assert all(len(u.messages()) == 1 for u in users)


async def test_a_last_moment_no_at_the_wire_sends_nothing_and_says_cancelled(
    fake: FakeTelegram,
) -> None:
    ana = fake.user(1001, first_name="Ana")

    async def erased_meanwhile() -> bool:
        return False

    async with bot_on_aiohttp(fake.base_url, TelegramRateLimiter(30, 1)) as bot:
        transport = TelegramTransport(bot)
        declined = await transport.send(ana.chat_id, "Hello", on_leaving=erased_meanwhile)
        sent = await transport.send(ana.chat_id, "Later")  # the connection is still usable

    assert declined.status is SendStatus.CANCELLED
    assert sent.status is SendStatus.SENT
    assert [m.text for m in ana.messages()] == ["Later"]
