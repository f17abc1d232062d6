"""The ops endpoint: liveness, readiness and Prometheus metrics, on a port of its own.

- `GET /healthz`: 200 whenever the event loop answers (liveness: restart me if not).
- `GET /readyz`: 200 when the database answers, its schema is at the newest migration
  this code ships, and Telegram answered a `getMe` in the last 60 s; else 503. The body
  is a small JSON object naming each check's state, never a secret.
- `GET /metrics`: `scheduler.metrics.Metrics` in the Prometheus text format; the queue
  depth is read from the database for each scrape.

It is served (`OPS_PORT`, off by default) by the dashboard's uvicorn wrapper on
`OPS_HOST`, 127.0.0.1 by default: nothing here is for the public internet. See
docs/deploy.md.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable
from enum import StrEnum

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from scheduler.metrics import Metrics
from storage import ops as store
from storage.db import Database

log = logging.getLogger(__name__)

TELEGRAM_MAX_AGE_SECONDS = 60.0
CHECK_TIMEOUT_SECONDS = 5.0


class Check(StrEnum):
    """What one readiness check found."""

    OK = "ok"
    UNREACHABLE = "unreachable"
    BEHIND = "behind"  # the schema is older than this code (run `nudgebot db upgrade`)
    AHEAD = "ahead"  # the schema is newer than this code (an older process in a rollout)


class TelegramProbe:
    """Whether Telegram answered `getMe` lately: at most one call a minute while it does."""

    def __init__(
        self,
        get_me: Callable[[], Awaitable[object]],
        *,
        max_age: float = TELEGRAM_MAX_AGE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._get_me = get_me
        self._max_age = max_age
        self._clock = clock
        self._answered_at: float | None = None
        self._lock = asyncio.Lock()

    def answered(self) -> None:
        """Record that Telegram just answered (any successful call will do)."""
        self._answered_at = self._clock()

    def _fresh(self) -> bool:
        return self._answered_at is not None and self._clock() - self._answered_at <= self._max_age

    async def check(self) -> Check:
        """OK if Telegram answered within `max_age`; else ask it now (one caller at a time)."""
        if self._fresh():
            return Check.OK
        async with self._lock:
            if self._fresh():
                return Check.OK
            try:
                await asyncio.wait_for(self._get_me(), CHECK_TIMEOUT_SECONDS)
            except Exception as exc:
                log.warning("readiness: Telegram did not answer getMe (%s)", type(exc).__name__)
                return Check.UNREACHABLE
            self.answered()
            return Check.OK


class OpsEndpoint:
    """The Starlette app behind the ops port."""

    def __init__(
        self,
        db: Database,
        metrics: Metrics,
        telegram: TelegramProbe,
        *,
        clock: Callable[[], dt.datetime],
    ) -> None:
        self.db = db
        self.clock = clock
        self.metrics = metrics
        self.telegram = telegram
        self.app = Starlette(
            routes=[
                Route("/healthz", self.healthz, methods=["GET"]),
                Route("/readyz", self.readyz, methods=["GET"]),
                Route("/metrics", self.metrics_page, methods=["GET"]),
            ]
        )

    async def healthz(self, _request: Request) -> Response:
        """The event loop answered: that is all liveness means."""
        return PlainTextResponse("ok\n")

    async def _schema(self) -> tuple[Check, Check]:
        try:
            state = await asyncio.wait_for(self.db.run(store.schema_state), CHECK_TIMEOUT_SECONDS)
        except Exception as exc:
            log.warning("readiness: the database did not answer (%s)", type(exc).__name__)
            return Check.UNREACHABLE, Check.UNREACHABLE
        if state.at_head:
            return Check.OK, Check.OK
        # A revision this code does not know was written by newer code.
        return Check.OK, Check.BEHIND if state.known else Check.AHEAD

    async def readyz(self, _request: Request) -> Response:
        """Ready when the database, its schema and Telegram are all fine."""
        (database, migrations), telegram = await asyncio.gather(
            self._schema(), self.telegram.check()
        )
        checks = {"database": database, "migrations": migrations, "telegram": telegram}
        ready = all(state is Check.OK for state in checks.values())
        return JSONResponse(
            {"ready": ready, **{name: str(state) for name, state in checks.items()}},
            status_code=200 if ready else 503,
        )

    async def metrics_page(self, request: Request) -> Response:
        """The metrics, with the queue depth read now (kept as it was if the read fails)."""
        try:
            depth = await asyncio.wait_for(
                self.db.run_bulk(store.queue_depth, self.clock()), CHECK_TIMEOUT_SECONDS
            )
        except Exception as exc:
            log.warning("metrics: could not read the queue depth (%s)", type(exc).__name__)
        else:
            self.metrics.set_queue_depth(depth.unclaimed, depth.claimed)
        body, content_type = self.metrics.exposition(request.headers.get("accept", ""))
        return Response(body, headers={"Content-Type": content_type})
