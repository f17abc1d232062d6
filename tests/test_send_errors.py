"""Each row of docs/delivery-errors.md, produced by a real python-telegram-bot call.

Answers the fake Bot API can give (429, 403, 400, 409, 500/502 JSON, delays, a wrong
token) come from it; what it cannot give (a proxy's HTML page, a migrated chat, a
dropped or reset connection, a garbled 200) comes from a tiny loopback server below.
Every row runs with PTB's stock HTTPXRequest and with our AiohttpRequest, since the
classifier reads the exception chain each of them builds.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import socket
import struct
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass, field

import pytest
from telegram import Bot
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.request import BaseRequest, HTTPXRequest

from bot.aiohttp_request import AiohttpRequest
from bot.send_errors import BotApiHTTPXRequest, classify, sent
from fakes.telegram_api import FakeTelegram, FakeUser
from scheduler.transport import SendStatus

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawQ"
CHAT = 1001

RequestFactory = Callable[..., BaseRequest]
BACKENDS: dict[str, RequestFactory] = {"httpx": HTTPXRequest, "aiohttp": AiohttpRequest}


@pytest.fixture(params=sorted(BACKENDS))
def make_request(request: pytest.FixtureRequest) -> RequestFactory:
    """PTB's default request class, then ours."""
    return BACKENDS[request.param]


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram(token=TOKEN) as server:
        yield server


@pytest.fixture
def ana(fake: FakeTelegram) -> FakeUser:
    return fake.user(CHAT, first_name="Ana")


@asynccontextmanager
async def bot_at(
    base_url: str, make_request: RequestFactory, **timeouts: float
) -> AsyncIterator[Bot]:
    """A Bot whose request layer is open, without getMe (so any answer reaches the send)."""
    request = make_request(**timeouts)
    bot = Bot(TOKEN, base_url=base_url, request=request)
    async with request:
        yield bot


async def failure_of(call: Awaitable[object]) -> TelegramError:
    """The TelegramError `call` raised (the test fails if it returned)."""
    with pytest.raises(TelegramError) as info:
        await call
    return info.value


# -- a loopback server for what the fake Bot API cannot answer --------------------------


@dataclass
class Scripted:
    """How the loopback server treats every request: an answer, a close, or a reset."""

    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    action: str = "answer"  # "answer", "close" (FIN, no answer) or "reset" (RST)
    requests: list[bytes] = field(default_factory=list)


@asynccontextmanager
async def loopback(script: Scripted) -> AsyncIterator[str]:
    """Serve `script` on 127.0.0.1; yields the base_url for python-telegram-bot."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        script.requests.append(head + await reader.readexactly(length))
        if script.action == "reset":
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        elif script.action == "answer":
            writer.write(
                b"HTTP/1.1 %d X\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n%s"
                % (script.status, script.content_type.encode(), len(script.body), script.body)
            )
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"http://127.0.0.1:{port}/bot"


NGINX_502 = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)


def bot_api_error(code: int, description: str, **parameters: int) -> bytes:
    answer: dict[str, object] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        answer["parameters"] = parameters
    return json.dumps(answer).encode()


# -- the Bot API answered ---------------------------------------------------------------


async def test_an_accepted_message_is_sent_with_its_message_id(
    fake: FakeTelegram, ana: FakeUser, make_request: RequestFactory
) -> None:
    async with bot_at(fake.base_url, make_request) as bot:
        message = await bot.send_message(CHAT, "<b>Hello</b>", parse_mode="HTML")

    result = sent(message.message_id)

    assert result.status is SendStatus.SENT
    assert result.message_id == ana.last_message().message_id


async def test_a_429_is_rate_limited_for_the_seconds_telegram_gives(
    fake: FakeTelegram, ana: FakeUser, make_request: RequestFactory
) -> None:
    fake.fail_next("sendMessage", error_code=429, retry_after=7)
    async with bot_at(fake.base_url, make_request) as bot:
        exc = await failure_of(bot.send_message(CHAT, "Hello"))

    assert isinstance(exc, RetryAfter)
    result = classify(exc)
    assert result.status is SendStatus.RATE_LIMITED
    assert result.retry_after == 7.0
    assert ana.messages() == []


def test_a_retry_after_given_as_a_timedelta_is_read_in_seconds() -> None:
    exc = RetryAfter(dt.timedelta(seconds=90))

    assert classify(exc).retry_after == 90.0


async def test_a_person_who_blocked_the_bot_is_blocked(
    fake: FakeTelegram, ana: FakeUser, make_request: RequestFactory
) -> None:
    ana.block(notify=False)
    async with bot_at(fake.base_url, make_request) as bot:
        exc = await failure_of(bot.send_message(CHAT, "Hello"))

    assert isinstance(exc, Forbidden)
    assert classify(exc).status is SendStatus.BLOCKED


async def test_a_message_telegram_cannot_parse_is_refused(
    fake: FakeTelegram, ana: FakeUser, make_request: RequestFactory
) -> None:
    async with bot_at(fake.base_url, make_request) as bot:
        exc = await failure_of(bot.send_message(CHAT, "<b>unclosed", parse_mode="HTML"))

    assert isinstance(exc, BadRequest)
    assert classify(exc).status is SendStatus.REFUSED


async def test_a_chat_that_moved_is_migrated_to_its_new_id(make_request: RequestFactory) -> None:
    script = Scripted(
        status=400,
        body=bot_api_error(
            400,
            "Bad Request: group chat was upgraded to a supergroup chat",
            migrate_to_chat_id=-1001234567890,
        ),
    )
    async with loopback(script) as url, bot_at(url, make_request) as bot:
        exc = await failure_of(bot.send_message(CHAT, "Hello"))

    assert isinstance(exc, ChatMigrated)
    result = classify(exc)
    assert result.status is SendStatus.MIGRATED
    assert result.new_chat_id == -1001234567890


@pytest.mark.parametrize(
    ("code", "description"),
    [(500, "Internal Server Error: restart"), (502, "Bad Gateway"), (503, "Service Unavailable")],
    ids=["500-restart", "502-json", "503-json"],
)
async def test_a_5xx_with_a_bot_api_body_was_not_sent(
    fake: FakeTelegram,
    ana: FakeUser,
    make_request: RequestFactory,
    code: int,
    description: str,
) -> None:
    fake.fail_next("sendMessage", error_code=code, description=description)
    async with bot_at(fake.base_url, make_request) as bot:
        exc = await failure_of(bot.send_message(CHAT, "Hello"))

    assert type(exc) is NetworkError
    assert exc.__cause__ is None
    assert classify(exc).status is SendStatus.NOT_SENT
    assert ana.messages() == []


async def test_a_conflict_answer_was_not_sent(
    fake: FakeTelegram, ana: FakeUser, make_request: RequestFactory
) -> None:
    fake.fail_next("sendMessage", error_code=409)
    async with bot_at(fake.base_url, make_request) as bot:
        exc = await failure_of(bot.send_message(CHAT, "Hello"))

    assert isinstance(exc, Conflict)
    assert classify(exc).status is SendStatus.NOT_SENT


async def test_a_rejected_token_was_not_sent(
    fake: FakeTelegram, ana: FakeUser, make_request: RequestFactory
) -> None:
    request = make_request()
    bot = Bot("987654321:WRONG-token", base_url=fake.base_url, request=request)
    async with request:
        exc = await failure_of(bot.send_message(CHAT, "Hello"))

    assert isinstance(exc, InvalidToken)
    assert classify(exc).status is SendStatus.NOT_SENT
    assert ana.messages() == []


async def test_an_unknown_bot_api_method_is_refused(
    fake: FakeTelegram, make_request: RequestFactory
) -> None:
    bot = Bot(TOKEN, base_url=fake.base_url, request=make_request())
    async with bot:
        exc = await failure_of(bot.do_api_request("sendNothingAtAll"))

    assert isinstance(exc, EndPointNotFound)
    assert classify(exc).status is SendStatus.REFUSED


# -- the answer was lost, or was not the Bot API's --------------------------------------


async def test_a_timeout_after_the_request_left_is_ambiguous_and_the_message_arrived(
    fake: FakeTelegram, ana: FakeUser, make_request: RequestFactory
) -> None:
    fake.delay_next("sendMessage", 1.0)
    async with bot_at(fake.base_url, make_request, read_timeout=0.2) as bot:
        exc = await failure_of(bot.send_message(CHAT, "Hello"))
    await ana.await_message("Hello", timeout=5)

    assert isinstance(exc, TimedOut)
    assert classify(exc).status is SendStatus.AMBIGUOUS


@pytest.mark.parametrize("status", [502, 504])
async def test_a_proxy_error_page_instead_of_a_bot_api_answer_is_ambiguous(
    make_request: RequestFactory, status: int
) -> None:
    script = Scripted(status=status, body=NGINX_502, content_type="text/html")
    async with loopback(script) as url, bot_at(url, make_request) as bot:
        exc = await failure_of(bot.send_message(CHAT, "Hello"))

    assert type(exc) is NetworkError
    assert isinstance(exc.__cause__, TelegramError)
    assert classify(exc).status is SendStatus.AMBIGUOUS
    assert len(script.requests) == 1


async def test_a_proxy_403_page_is_not_taken_for_a_block(make_request: RequestFactory) -> None:
    script = Scripted(status=403, body=b"<html>Forbidden</html>", content_type="text/html")
    async with loopback(script) as url, bot_at(url, make_request) as bot:
        exc = await failure_of(bot.send_message(CHAT, "Hello"))

    assert isinstance(exc, Forbidden)
    assert classify(exc).status is SendStatus.NOT_SENT


@pytest.mark.parametrize("make_strict", [BotApiHTTPXRequest, AiohttpRequest])
async def test_a_json_error_page_that_is_not_a_bot_api_answer_is_ambiguous(
    make_strict: RequestFactory,
) -> None:
    script = Scripted(status=502, body=b'{"message": "upstream unavailable"}')
    async with loopback(script) as url, bot_at(url, make_strict) as bot:
        exc = await failure_of(bot.send_message(CHAT, "Hello"))

    assert classify(exc).status is SendStatus.AMBIGUOUS


async def test_a_garbled_success_answer_is_ambiguous(make_request: RequestFactory) -> None:
    script = Scripted(status=200, body=b'{"ok":true,"result":{"message_id":4')
    async with loopback(script) as url, bot_at(url, make_request) as bot:
        exc = await failure_of(bot.send_message(CHAT, "Hello"))

    assert not isinstance(exc, NetworkError)  # a 2xx: PTB raises its parsing error as is
    assert classify(exc).status is SendStatus.AMBIGUOUS


@pytest.mark.parametrize("action", ["close", "reset"])
async def test_a_connection_dropped_after_the_request_arrived_is_ambiguous(
    make_request: RequestFactory, action: str
) -> None:
    script = Scripted(action=action)
    async with loopback(script) as url, bot_at(url, make_request) as bot:
        exc = await failure_of(bot.send_message(CHAT, "Hello"))

    assert isinstance(exc, NetworkError)
    assert b"sendMessage" in script.requests[0]
    assert classify(exc).status is SendStatus.AMBIGUOUS


def test_an_exception_from_outside_telegram_is_ambiguous() -> None:
    assert classify(KeyError("result")).status is SendStatus.AMBIGUOUS


# -- the request never left -------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_a_refused_connection_was_not_sent(make_request: RequestFactory) -> None:
    url = f"http://127.0.0.1:{_closed_port()}/bot"
    async with bot_at(url, make_request) as bot:
        exc = await failure_of(bot.send_message(CHAT, "Hello"))

    assert isinstance(exc, NetworkError)
    assert not isinstance(exc, TimedOut)
    assert classify(exc).status is SendStatus.NOT_SENT


@contextmanager
def full_backlog() -> Iterator[int]:
    """A port whose accept queue is full: Linux drops further SYNs, so connects hang."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = int(server.getsockname()[1])
    fillers = []
    for _ in range(8):
        filler = socket.socket()
        filler.setblocking(False)
        with suppress(BlockingIOError):
            filler.connect(("127.0.0.1", port))
        fillers.append(filler)
    try:
        yield port
    finally:
        for filler in fillers:
            filler.close()
        server.close()


async def test_a_connect_timeout_was_not_sent(make_request: RequestFactory) -> None:
    with full_backlog() as port:
        url = f"http://127.0.0.1:{port}/bot"
        async with bot_at(url, make_request, connect_timeout=0.2) as bot:
            exc = await failure_of(bot.send_message(CHAT, "Hello"))

    assert isinstance(exc, TimedOut)
    assert classify(exc).status is SendStatus.NOT_SENT


async def test_waiting_too_long_for_a_pooled_connection_was_not_sent(
    fake: FakeTelegram, ana: FakeUser, make_request: RequestFactory
) -> None:
    fake.delay_next("sendMessage", 1.0)
    request = make_request(connection_pool_size=1, pool_timeout=0.1, connect_timeout=0.1)
    bot = Bot(TOKEN, base_url=fake.base_url, request=request)
    async with request:
        slow = asyncio.create_task(bot.send_message(CHAT, "first"))
        # Once "first" has reached the fake (which holds it a second), it holds the pool.
        await fake.await_request("sendMessage")
        exc = await failure_of(bot.send_message(CHAT, "second"))
        await slow

    assert isinstance(exc, TimedOut)
    assert classify(exc).status is SendStatus.NOT_SENT
    assert [m.text for m in ana.messages()] == ["first"]


def test_the_error_name_holds_classes_and_never_text() -> None:
    exc = NetworkError("Forbidden: bot was blocked by the user, text: hello Ana")
    exc.__cause__ = ConnectionResetError("peer said hello Ana")

    assert classify(exc).error == "NetworkError:ConnectionResetError"
