"""The benchmark's wire relay: it counts a request once its whole body has crossed."""

from __future__ import annotations

import socket

from telegram.ext import ExtBot

from benchmarks.wiretap import WireTap
from bot.aiohttp_request import AiohttpRequest
from fakes.telegram_api import FakeTelegram

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawQ"


async def test_requests_are_noted_as_they_cross_and_relayed_to_the_fake() -> None:
    with FakeTelegram(token=TOKEN) as fake, WireTap(fake.base_url) as wire:
        users = [fake.user(3000 + i) for i in range(3)]
        bot = ExtBot(TOKEN, base_url=wire.base_url, request=AiohttpRequest())  # type: ignore[var-annotated]
        async with bot:
            for user in users:
                await bot.send_message(user.chat_id, "Hello")
        assert wire.chats() == [u.chat_id for u in users]
        assert wire.chats(after=2) == [users[2].chat_id]
        assert all(len(u.messages()) == 1 for u in users)


def test_a_request_cut_off_before_its_body_ends_is_not_noted() -> None:
    with FakeTelegram(token=TOKEN) as fake, WireTap(fake.base_url) as wire:
        fake.user(3100)
        body = b'{"chat_id": 3100, "text": "Hello"}'
        head = (
            f"POST /bot{TOKEN}/sendMessage HTTP/1.1\r\nHost: x\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode()
        with socket.create_connection(("127.0.0.1", wire.port)) as sock:
            sock.sendall(head + body[:10])
        with socket.create_connection(("127.0.0.1", wire.port)) as sock:
            sock.sendall(head + body[:10])
            sock.sendall(body[10:])
            sock.recv(65536)  # the fake's answer: the whole request crossed
        assert wire.chats() == [3100]
