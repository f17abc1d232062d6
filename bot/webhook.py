"""Webhook mode: Telegram posts each update to an https URL, and any process may take it.

The operator's reverse proxy (docs/deploy.md) terminates TLS and forwards the webhook
path to `WEBHOOK_HOST:WEBHOOK_PORT` of any `nudgebot run` process. Each request is
checked against `TELEGRAM_WEBHOOK_SECRET` (Telegram sends it in the
`X-Telegram-Bot-Api-Secret-Token` header), parsed, and handled before the answer: 200
once handled, so an update whose process died mid-way is sent again by Telegram (and
`dedupe_update` in `bot.app` keeps one that was handled from being handled twice). A
chat's updates are handled one after another, across processes too (`Database.turn`).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from telegram import Update
from telegram.ext import Application

from bot.context import BotContext
from storage.db import Database

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
MAX_BODY = 1 << 20  # an update is a few kilobytes; anything near this is not Telegram


class WebhookReceiver:
    """The webhook endpoint: checks, parses, and hands each update to the Application."""

    def __init__(
        self,
        app: Application[Any, BotContext, Any, Any, Any, Any],
        db: Database,
        *,
        secret: str,
        path: str,
        concurrency: int,
        done: Callable[[int], Awaitable[None]] | None = None,
    ) -> None:
        self.app, self.db = app, db
        # Records the update as handled (`dedupe_update` in `bot.app` skips it after).
        self.done = done
        self._secret = secret.encode()
        self.path = path
        self._slots = asyncio.Semaphore(concurrency)
        # Per chat: a lock and how many updates hold or wait for it.
        self._chats: dict[int, tuple[asyncio.Lock, list[int]]] = {}
        self.stopping = False
        self.handled = 0
        self.refused = 0

    def starlette(self) -> Starlette:
        return Starlette(routes=[Route(self.path, self.receive, methods=["POST"])])

    async def receive(self, request: Request) -> Response:
        if self.stopping:
            return Response(status_code=503)  # Telegram tries again, maybe elsewhere
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self._secret):
            self.refused += 1
            log.warning("a webhook request without the right secret was refused")
            return Response(status_code=403)
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY:
                return Response(status_code=413)
        try:
            data = json.loads(body)
            if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
                raise ValueError("not an update")
            update = Update.de_json(data, self.app.bot)
        except (ValueError, TypeError, KeyError, AttributeError):
            log.warning("a webhook request was not an update; ignored")
            return Response(status_code=400)
        async with self._slots:
            await self._handle(update)
        self.handled += 1
        return Response(status_code=200)

    async def _handle(self, update: Update) -> None:
        chat = update.effective_chat.id if update.effective_chat is not None else None
        if chat is None:
            await self._process(update)
            return
        lock, holders = self._chats.setdefault(chat, (asyncio.Lock(), [0]))
        holders[0] += 1
        try:
            async with lock, self.db.turn(chat):
                await self._process(update)
        finally:
            holders[0] -= 1
            if not holders[0]:
                del self._chats[chat]

    async def _process(self, update: Update) -> None:
        try:
            await self.app.process_update(update)
        finally:
            if self.done is not None:
                await self.done(update.update_id)
