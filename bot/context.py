"""What every handler can reach: the services, through a typed context."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from telegram.ext import CallbackContext, ExtBot

from bot.render import Renderer
from bot.settings import Settings
from scheduler.metrics import Metrics
from storage.db import Database

# What a `nudgebot run` process does (`--role`); by default, all of it.
ROLES = ("updates", "dispatch", "dashboard")


def utc_now() -> dt.datetime:
    """The current instant, aware, in UTC."""
    return dt.datetime.now(dt.UTC)


@dataclass
class Services:
    """Shared things, built once in the composition root and kept in `bot_data`."""

    settings: Settings
    db: Database
    renderer: Renderer
    clock: Callable[[], dt.datetime] = field(default=utc_now)
    roles: frozenset[str] = field(default=frozenset(ROLES))
    # Filled in post_init: the bot's username, for deep links.
    bot_username: str = ""
    # This process's Prometheus metrics (served by bot/ops.py).
    metrics: Metrics = field(default_factory=Metrics)


class BotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[str, Any]]):
    """A CallbackContext that knows where the services are."""

    @property
    def services(self) -> Services:
        services = self.bot_data["services"]
        assert isinstance(services, Services)
        return services
