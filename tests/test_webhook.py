"""Webhook mode: the endpoint checks the secret, refuses what is not an update, handles
each update once, and answers only once it is handled."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from bot.settings import SettingsError, load_settings
from bot.webhook import MAX_BODY, SECRET_HEADER, WebhookReceiver
from storage import workers
from storage.db import Database
from tests.support.bot import BotHarness

SECRET = "s3cret-for-the-webhook-tests_0123456789"
PATH = "/tg/hook"


def _client(bot: BotHarness) -> tuple[WebhookReceiver, httpx.AsyncClient]:
    async def done(update_id: int) -> None:
        await bot.db.run(workers.finish_update, update_id, bot.clock())

    receiver = WebhookReceiver(bot.app, bot.db, secret=SECRET, path=PATH, concurrency=8, done=done)
    transport = httpx.ASGITransport(app=receiver.starlette())
    return receiver, httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1")


async def test_an_update_is_handled_once_and_answered_after(bot: BotHarness) -> None:
    ana = bot.user(501)
    ana.send("/help")
    [update] = bot.fake.take_updates()
    receiver, client = _client(bot)
    async with client:
        first = await client.post(PATH, json=update, headers={SECRET_HEADER: SECRET})
        # Handled before the answer: the reply is already at "Telegram".
        assert first.status_code == 200
        assert len(ana.messages()) == 1
        # Telegram sends it again (it never saw our answer): handled once all the same.
        again = await client.post(PATH, json=update, headers={SECRET_HEADER: SECRET})
        assert again.status_code == 200
    assert len(ana.messages()) == 1
    assert receiver.handled == 2


@pytest.mark.parametrize("secret", [None, "", "wrong", SECRET + "x", SECRET[:-1]])
async def test_a_request_without_the_secret_is_refused(bot: BotHarness, secret: str | None) -> None:
    ana = bot.user(502)
    ana.send("/help")
    [update] = bot.fake.take_updates()
    receiver, client = _client(bot)
    headers = {} if secret is None else {SECRET_HEADER: secret}
    async with client:
        answer = await client.post(PATH, json=update, headers=headers)
    assert answer.status_code == 403
    assert ana.messages() == []
    assert receiver.refused == 1


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"", 400),
        (b"not json", 400),
        (b"[1, 2, 3]", 400),
        (b'"an update"', 400),
        (b"\xff\xfe", 400),
        (b'{"update_id": "7"}', 400),
        (b'{"update_id": 7, "message": 7}', 400),
        (b'{"update_id": 7, "message": {"text": "no chat, no date"}}', 400),
        (b"{" + b" " * (MAX_BODY + 1) + b"}", 413),
    ],
)
async def test_what_is_not_an_update_is_refused(bot: BotHarness, body: bytes, status: int) -> None:
    _, client = _client(bot)
    async with client:
        answer = await client.post(PATH, content=body, headers={SECRET_HEADER: SECRET})
    assert answer.status_code == status
    assert bot.fake.calls_to("sendMessage") == []


async def test_only_the_webhook_path_takes_updates(bot: BotHarness) -> None:
    _, client = _client(bot)
    async with client:
        assert (await client.post("/", json={}, headers={SECRET_HEADER: SECRET})).status_code == 404
        assert (await client.get(PATH)).status_code == 405


async def test_a_stopping_process_sends_telegram_elsewhere(bot: BotHarness) -> None:
    ana = bot.user(503)
    ana.send("/help")
    [update] = bot.fake.take_updates()
    receiver, client = _client(bot)
    receiver.stopping = True
    async with client:
        answer = await client.post(PATH, json=update, headers={SECRET_HEADER: SECRET})
    assert answer.status_code == 503
    assert ana.messages() == []  # not handled: Telegram delivers it again


async def test_a_chat_takes_its_turn_across_processes(db: Database) -> None:
    """Two holders of one chat's turn: the second starts after the first is done, on
    PostgreSQL through an advisory lock (on SQLite, one process, it is the in-process lock)."""
    order: list[str] = []
    other = Database(db.url)  # another process's connection
    entered = asyncio.Event()

    async def first() -> None:
        async with db.turn(42):
            order.append("first in")
            entered.set()
            await asyncio.sleep(0.3)
            order.append("first out")

    async def second() -> None:
        await entered.wait()
        async with other.turn(42):
            order.append("second in")

    async def unrelated() -> None:
        await entered.wait()
        async with other.turn(43):
            order.append("other chat")

    try:
        await asyncio.gather(first(), second(), unrelated())
    finally:
        other.close()
    if db.shared:
        assert order == ["first in", "other chat", "first out", "second in"]
    else:
        assert order.index("first in") == 0


def test_webhook_settings_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_WEBHOOK_URL", "http://bot.example.org/hook")
    with pytest.raises(SettingsError, match="TELEGRAM_WEBHOOK_URL must be an https:// URL"):
        load_settings()
    monkeypatch.setenv("TELEGRAM_WEBHOOK_URL", "https://bot.example.org/tg/hook")
    with pytest.raises(SettingsError, match="TELEGRAM_WEBHOOK_SECRET must be set"):
        load_settings()
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", "short")
    with pytest.raises(SettingsError, match="16 to 256") as refused:
        load_settings()
    assert "short" not in str(refused.value)
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", "has spaces in it, not allowed!")
    with pytest.raises(SettingsError, match="16 to 256"):
        load_settings()
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", SECRET)
    settings = load_settings()
    assert settings.webhook_path == "/tg/hook"
    assert SECRET not in repr(settings)
