"""An in-process bot for tests: the real Application and handlers, the fake Bot API,
and a clock the test drives.

Updates are fetched from the fake over HTTP (`getUpdates`) and handed to
`Application.process_update`, so every handler runs through python-telegram-bot's real
dispatch, and when `say`/`press` return, everything the bot did in answer has happened.
"""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path
from types import TracebackType
from typing import Any

from telegram import Update

from bot.app import build_application
from bot.context import Services
from bot.render import Renderer
from bot.settings import Settings
from fakes.telegram_api import FakeTelegram, FakeUser, SentMessage
from scheduler.dispatcher import Dispatcher
from storage.db import Database


class FakeClock:
    """A clock that only moves when the test says so."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> dt.datetime:
        self.now += dt.timedelta(**delta)
        return self.now

    def set(self, now: dt.datetime) -> dt.datetime:
        self.now = now
        return now


# The harness's own getUpdates to the fake on 127.0.0.1: python-telegram-bot's 5 s connect
# timeout is meant for Telegram, and a busy machine running the suite on several workers
# can hold this process off the CPU that long. Nothing here is about the bot's timeouts.
PATIENT_TIMEOUTS: dict[str, float] = {
    "connect_timeout": 60.0,
    "read_timeout": 60.0,
    "write_timeout": 60.0,
    "pool_timeout": 60.0,
}


@functools.cache
def shared_renderer(templates_dir: Path) -> Renderer:
    """One renderer per templates folder for the whole run: each harness used to compile
    the same Jinja templates again (about 0.4 s of CPU per test). Jinja still reloads a
    template whose file changed, and the renderer keeps nothing else between renders.
    """
    return Renderer(templates_dir)


class BotHarness:
    """Drive the real Application against the fake, one update at a time."""

    def __init__(
        self, settings: Settings, db: Database, fake: FakeTelegram, clock: FakeClock
    ) -> None:
        self.settings = settings
        self.db = db
        self.fake = fake
        self.clock = clock
        self.renderer = shared_renderer(settings.templates_dir)
        self.services = Services(settings=settings, db=db, renderer=self.renderer, clock=clock)
        self.app = build_application(self.services)
        self._offset = 0

    async def __aenter__(self) -> BotHarness:
        await self.app.initialize()
        self.services.bot_username = self.app.bot.username
        await self.dispatcher.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.app.shutdown()

    @property
    def dispatcher(self) -> Dispatcher:
        dispatcher = self.app.bot_data["dispatcher"]
        assert isinstance(dispatcher, Dispatcher)
        return dispatcher

    def user(self, user_id: int, first_name: str = "Ana", **kwargs: Any) -> FakeUser:
        return self.fake.user(user_id, first_name=first_name, **kwargs)

    async def process(self) -> int:
        """Fetch every pending update from the fake and dispatch it; returns how many."""
        handled = 0
        while True:
            updates = await self.app.bot.get_updates(
                offset=self._offset, timeout=0, **PATIENT_TIMEOUTS
            )
            if not updates:
                return handled
            for update in updates:
                self._offset = update.update_id + 1
                await self.app.process_update(update)
                handled += 1

    async def say(self, user: FakeUser, text: str) -> list[SentMessage]:
        """The user sends `text`; returns the bot's new messages to them."""
        before = len(user.messages())
        user.send(text)
        await self.process()
        return user.messages()[before:]

    async def press(
        self, user: FakeUser, label: str, *, from_user: FakeUser | None = None
    ) -> list[SentMessage]:
        """The user taps the newest button with this label; returns new messages."""
        before = len(user.messages())
        user.press_button(label, from_user=from_user)
        await self.process()
        return user.messages()[before:]

    async def share_location(self, user: FakeUser, lat: float, lon: float) -> list[SentMessage]:
        before = len(user.messages())
        user.share_location(lat, lon)
        await self.process()
        return user.messages()[before:]

    async def onboard(
        self, user: FakeUser, zone: str = "Europe/Berlin", name: str | None = None
    ) -> None:
        """Walk a person through consent, name and zone."""
        await self.say(user, "/start")
        await self.press(user, "Yes, I agree")
        if name is None:
            await self.press(user, user.first_name)
        else:
            await self.say(user, name)
        await self.say(user, zone)

    async def run_dispatcher(self) -> None:
        """Claim and send everything due at the clock's current time."""
        await self.dispatcher.drain()

    async def feed(self, update: Update) -> None:
        await self.app.process_update(update)
