"""A real ExtBot on AiohttpRequest against the fake Bot API."""

from __future__ import annotations

import asyncio
import logging
import socket
import traceback
from collections.abc import Iterator

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.ext import ExtBot

from bot.aiohttp_request import BEFORE_WRITE, AiohttpRequest
from bot.send_errors import classify
from fakes.telegram_api import FakeTelegram, FakeUser
from scheduler.transport import SendStatus

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawQ"
CHAT = 1001


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram(token=TOKEN) as server:
        yield server


@pytest.fixture
def ana(fake: FakeTelegram) -> FakeUser:
    return fake.user(CHAT, first_name="Ana")


def ext_bot(base_url: str, **options: float) -> ExtBot[None]:
    return ExtBot(TOKEN, base_url=base_url, request=AiohttpRequest(**options))  # type: ignore[arg-type]


async def test_it_sends_a_message_with_buttons(fake: FakeTelegram, ana: FakeUser) -> None:
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Done", callback_data="d")]])
    async with ext_bot(fake.base_url) as bot:
        message = await bot.send_message(
            CHAT, "<b>Tonight</b> &amp; now", "HTML", reply_markup=markup
        )

    received = ana.last_message()
    assert message.message_id == received.message_id
    assert received.text == "Tonight & now"
    assert received.button_texts == ["Done"]


async def test_it_uploads_a_file_as_multipart(fake: FakeTelegram, ana: FakeUser) -> None:
    async with ext_bot(fake.base_url) as bot:
        await bot.send_document(CHAT, b"plan,week\n1,2\n", filename="plan.csv", caption="Plan")

    document = ana.last_message().document
    assert document is not None
    assert document.content == b"plan,week\n1,2\n"
    assert document.file_name == "plan.csv"


async def test_many_sends_share_a_few_pooled_connections(fake: FakeTelegram, ana: FakeUser) -> None:
    request = AiohttpRequest(connection_pool_size=4)
    bot = ExtBot(TOKEN, base_url=fake.base_url, request=request)  # type: ignore[var-annotated]
    async with bot:
        session = request._session
        await asyncio.gather(*(bot.send_message(CHAT, f"n{i}") for i in range(40)))
        connector = session.connector if session is not None else None
        assert request._session is session  # one session for the bot's whole life
        assert connector is not None
        assert connector.limit == 4

    assert len(ana.messages()) == 40


async def test_it_can_be_initialized_again_after_shutdown(
    fake: FakeTelegram, ana: FakeUser
) -> None:
    bot = ext_bot(fake.base_url)
    async with bot:
        await bot.send_message(CHAT, "one")
    async with bot:
        await bot.send_message(CHAT, "two")

    assert [m.text for m in ana.messages()] == ["one", "two"]


async def test_a_429_raises_retry_after_with_its_seconds(fake: FakeTelegram, ana: FakeUser) -> None:
    fake.fail_next("sendMessage", error_code=429, retry_after=3)
    async with ext_bot(fake.base_url) as bot:
        with pytest.raises(RetryAfter) as info:
            await bot.send_message(CHAT, "Hello")

    assert classify(info.value).retry_after == 3.0


async def test_a_403_raises_forbidden(fake: FakeTelegram, ana: FakeUser) -> None:
    fake.fail_next("sendMessage", error_code=403)
    async with ext_bot(fake.base_url) as bot:
        with pytest.raises(Forbidden) as info:
            await bot.send_message(CHAT, "Hello")

    assert classify(info.value).status is SendStatus.BLOCKED


async def test_a_400_raises_bad_request(fake: FakeTelegram, ana: FakeUser) -> None:
    async with ext_bot(fake.base_url) as bot:
        with pytest.raises(BadRequest) as info:
            await bot.send_message(CHAT, "")

    assert "empty" in info.value.message.lower()
    assert classify(info.value).status is SendStatus.REFUSED


async def test_a_read_timeout_raises_timed_out_and_is_ambiguous(
    fake: FakeTelegram, ana: FakeUser
) -> None:
    # The default also covers getMe on entering: 1 s, so a busy machine does not time it out.
    async with ext_bot(fake.base_url, read_timeout=1.0) as bot:
        fake.delay_next("sendMessage", 3.0)
        with pytest.raises(TimedOut) as info:
            await bot.send_message(CHAT, "Hello")

    assert classify(info.value).status is SendStatus.AMBIGUOUS
    await ana.await_message("Hello", timeout=15)  # and it did arrive


async def test_a_per_call_read_timeout_overrides_the_default(
    fake: FakeTelegram, ana: FakeUser
) -> None:
    # The default also covers getMe on entering: 1 s, so a busy machine does not time it out.
    async with ext_bot(fake.base_url, read_timeout=1.0) as bot:
        fake.delay_next("sendMessage", 2.0)
        await bot.send_message(CHAT, "Hello", read_timeout=30)

    assert ana.last_message().text == "Hello"


async def test_a_refused_connection_raises_network_error_and_was_not_sent() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    request = AiohttpRequest()
    bot = ExtBot(TOKEN, base_url=f"http://127.0.0.1:{port}/bot", request=request)  # type: ignore[var-annotated]
    async with request:
        with pytest.raises(NetworkError) as info:
            await bot.send_message(CHAT, "Hello")

    assert not isinstance(info.value, TimedOut)
    assert classify(info.value).status is SendStatus.NOT_SENT


async def test_the_token_is_in_no_log_line_nor_exception_text(
    fake: FakeTelegram, ana: FakeUser, caplog: pytest.LogCaptureFixture
) -> None:
    # aiohttp names the whole URL in a pool or connect timeout: the case to redact.
    caplog.set_level(logging.DEBUG)
    fake.delay_next("sendMessage", 1.0)
    options = {"connection_pool_size": 1, "pool_timeout": 0.1, "connect_timeout": 0.1}
    async with ext_bot(fake.base_url, **options) as bot:
        first = asyncio.create_task(bot.send_message(CHAT, "first"))
        # Once "first" has reached the fake (which holds it a second), it holds the only connection.
        await fake.await_request("sendMessage")
        with pytest.raises(TimedOut) as info:
            await bot.send_message(CHAT, "second")
        await first

    secret = TOKEN.split(":", 1)[1]
    text = "".join(traceback.format_exception(info.value))
    assert "Connection timeout to host" in text
    assert secret not in text
    # python-telegram-bot's own DEBUG lines name the URL; bot.logs holds that logger back.
    ours = [r for r in caplog.records if r.name.startswith(("aiohttp", "bot"))]
    assert all(secret not in record.getMessage() for record in ours)


def test_it_refuses_an_empty_pool() -> None:
    with pytest.raises(ValueError, match="connection_pool_size"):
        AiohttpRequest(connection_pool_size=0)


async def test_it_refuses_to_send_before_initialize(fake: FakeTelegram) -> None:
    bot = ExtBot(TOKEN, base_url=fake.base_url, request=AiohttpRequest())  # type: ignore[var-annotated]
    with pytest.raises(NetworkError) as info:
        await bot.send_message(CHAT, "Hello")

    assert isinstance(info.value.__cause__, RuntimeError)
    assert fake.calls_to("sendMessage") == []


async def test_the_before_write_hook_runs_once_per_request_on_new_and_reused_connections(
    fake: FakeTelegram, ana: FakeUser
) -> None:
    calls: list[int] = []
    request = AiohttpRequest(connection_pool_size=1)
    async with ExtBot(TOKEN, base_url=fake.base_url, request=request) as bot:  # type: ignore[var-annotated]
        for i in range(3):  # the first opens the one connection, the others reuse it

            async def hook(i: int = i) -> None:
                calls.append(i)
                assert len(ana.messages()) == i  # this request has not reached Telegram

            token = BEFORE_WRITE.set(hook)
            try:
                await bot.send_message(CHAT, f"n{i}")
            finally:
                BEFORE_WRITE.reset(token)
        await bot.send_message(CHAT, "no hook set")

    assert calls == [0, 1, 2]
    assert len(ana.messages()) == 4


async def test_a_before_write_hook_that_raises_sends_nothing_and_frees_the_connection(
    fake: FakeTelegram, ana: FakeUser
) -> None:
    class Declined(TelegramError):
        pass

    async def decline() -> None:
        raise Declined("no")

    request = AiohttpRequest(connection_pool_size=1, pool_timeout=0.5)
    async with ExtBot(TOKEN, base_url=fake.base_url, request=request) as bot:  # type: ignore[var-annotated]
        await bot.send_message(CHAT, "first")  # the pool's one connection exists
        token = BEFORE_WRITE.set(decline)
        try:
            for _ in range(3):
                with pytest.raises(Declined):
                    await bot.send_message(CHAT, "never")
        finally:
            BEFORE_WRITE.reset(token)
        await bot.send_message(CHAT, "after")  # the connection went back to the pool

    assert [m.text for m in ana.messages()] == ["first", "after"]


async def test_no_connection_to_be_had_means_the_hook_never_runs() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    calls: list[str] = []

    async def hook() -> None:
        calls.append("marked")

    request = AiohttpRequest()
    bot = ExtBot(TOKEN, base_url=f"http://127.0.0.1:{port}/bot", request=request)  # type: ignore[var-annotated]
    async with request:
        token = BEFORE_WRITE.set(hook)
        try:
            with pytest.raises(NetworkError):
                await bot.send_message(CHAT, "Hello")
        finally:
            BEFORE_WRITE.reset(token)

    assert calls == []
