"""This process among others: its lease, the leases it holds, and the shared send budget.

`WorkerLife` registers the process (`storage.workers`), renews its heartbeat, settles
what dead processes left (their queued deliveries are sent again, their in-flight ones
are ambiguous), and takes or renews named leases (polling Telegram). `SharedBudget` hands
out global send slots from the database, so that the per-bot limit holds for every
process together; replies take theirs at once, bulk sends never more than a short
horizon ahead (the same rule as the in-process limiter, `bot.ratelimit.BULK_HORIZON`).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import socket
import time
from collections.abc import AsyncIterator, Callable

from scheduler.metrics import Metrics
from storage import workers
from storage.db import Database

log = logging.getLogger(__name__)

# Share of Telegram's global limit the processes use together. Below the in-process
# margin (`scheduler.slots.SAFETY_MARGIN`): a slot handed out by the database reaches the
# wire after a round trip and another process's event loop, so sends can drift by tens of
# milliseconds; a send later than `LATE_SLOT` past its slot takes a new one.
SHARED_MARGIN = 0.85
LATE_SLOT = 0.05


class WorkerLife:
    """This process's row in `workers`, kept alive by `beat` every `storage.workers.HEARTBEAT`."""

    def __init__(
        self,
        db: Database,
        clock: Callable[[], dt.datetime],
        *,
        roles: str = "all",
        shared: bool,
        metrics: Metrics | None = None,
    ) -> None:
        self.db, self.clock, self.roles = db, clock, roles
        self.metrics = metrics
        # Shared: other processes may be running (PostgreSQL). Otherwise this is the only
        # one there can be (SQLite, locked by `Database.lock_single_process`).
        self.shared = shared
        self.id: int | None = None
        self.alive = False
        self.recovered = workers.Recovered()
        self._held_until: dict[str, float] = {}

    @property
    def worker_id(self) -> int:
        assert self.id is not None, "WorkerLife.start() first"
        return self.id

    async def start(self) -> workers.Recovered:
        """Register, and settle what dead processes left (all others, when alone)."""
        name = f"{socket.gethostname()}:{os.getpid()}"
        self.id = await self.db.run(workers.register, name, self.roles, self.clock())
        self.alive = True
        self.recovered = await self.recover()
        return self.recovered

    async def recover(self) -> workers.Recovered:
        found = await self.db.run_bulk(
            workers.recover_dead, self.clock(), alone=None if self.shared else self.worker_id
        )
        if found.ambiguous:
            log.warning(
                "%d deliveries were in flight when their process stopped; not resending them",
                found.ambiguous,
            )
        if found.requeued:
            log.info("%d deliveries taken by a stopped process will be sent", found.requeued)
        if self.metrics is not None:
            self.metrics.delivery_recorded("ambiguous", found.ambiguous)
        return found

    async def beat(self) -> bool:
        """Renew the heartbeat; settle the dead. False if this process was declared dead."""
        now = self.clock()
        self.alive = await self.db.run(workers.heartbeat, self.worker_id, now)
        if not self.alive:
            log.error("this process's lease expired (a stall longer than %s)", workers.LEASE)
            return False
        if self.shared:
            await self.recover()
        await self.db.run_bulk(workers.forget_old, now)
        return True

    async def hold(self, lease: str) -> bool:
        """Take or renew a named lease; True while this process holds it."""
        held = self.alive and bool(
            await self.db.run(workers.hold_lease, lease, self.worker_id, self.clock())
        )
        # Held for sure until a heartbeat before it could expire (see `holds`).
        fresh = (workers.LEASE - workers.HEARTBEAT).total_seconds()
        self._held_until[lease] = time.monotonic() + fresh if held else 0.0
        return held

    def holds(self, lease: str) -> bool:
        """Whether this process may act on `lease` right now: renewed recently enough
        that no other process can have taken it (a process resumed after a stall longer
        than that must renew first). True when no lease logic runs (tests, one-off use)."""
        until = self._held_until.get(lease)
        return until is None or time.monotonic() < until

    async def release(self, lease: str) -> None:
        await self.db.run(workers.release_lease, lease, self.worker_id)

    async def keep_update(self, update_id: int, payload: str) -> None:
        """A polled update, kept until handled (`storage.workers.keep_update`)."""
        await self.db.run(workers.keep_update, update_id, self.worker_id, payload, self.clock())

    async def finish_update(self, update_id: int) -> None:
        """Handled: recorded once for every process, and no longer kept."""
        await self.db.run(workers.finish_update, update_id, self.clock())

    async def orphaned_updates(self) -> list[str]:
        """What dead processes had polled and not handled, oldest first, now ours."""
        return await self.db.run(
            workers.orphaned_updates, self.worker_id, self.clock(), alone=not self.shared
        )

    async def stop(self) -> None:
        """A clean stop: leases released, and the process dead for the others at once."""
        if self.id is not None:
            await self.db.run(workers.stop, self.id, self.clock())
            self.alive = False


class SharedBudget:
    """Global send slots from the database, for every process together.

    Around the moment a request leaves (`leaving`): a bulk send first waits until the
    shared cursor is at most `horizon` ahead (one bulk send per process waits at a time),
    then the delivery is marked as leaving (the caller's block), then the slot is taken
    and waited for, last, so that nothing slow lies between a slot and its send. A reply
    takes the next slot at once, so it never waits behind more than `horizon` of bulk.
    A slot missed by more than `LATE_SLOT` (a busy event loop) is given up for a new one.
    """

    def __init__(
        self,
        db: Database,
        per_second: float,
        *,
        horizon_slots: int = 2,
        margin: float = SHARED_MARGIN,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self.interval = 1 / (per_second * margin)
        self.horizon = horizon_slots * self.interval
        self.wall = wall
        self._bulk = asyncio.Lock()
        self.waits = 0
        self.late = 0

    @contextlib.asynccontextmanager
    async def leaving(self, *, bulk: bool) -> AsyncIterator[None]:
        """Wait for room (bulk), run the block (mark the delivery leaving), then wait for
        this send's slot. Nothing is taken if the block raises (the send is cancelled)."""
        if not bulk:
            yield
            await self._take_and_wait()
            return
        async with self._bulk:
            await self._room()
            yield
            await self._take_and_wait()

    async def _room(self) -> None:
        while True:
            cursor = await self.db.run_bulk(workers.send_cursor)
            ahead = (cursor or 0.0) - self.wall() - self.horizon
            if ahead <= 0:
                return
            self.waits += 1
            await asyncio.sleep(min(ahead, 1.0))

    async def _take_and_wait(self) -> None:
        for _ in range(3):
            at = await self.take()
            delay = at - self.wall()
            if delay > 0:
                await asyncio.sleep(delay)
            if self.wall() - at <= LATE_SLOT:
                return
            self.late += 1

    async def take(self) -> float:
        """The next global slot (Unix time), taken now."""
        start = await self.db.run(workers.take_send_slots, self.wall(), self.interval)
        return start if start is not None else await self.take()

    async def back_off(self, seconds: float) -> None:
        """Telegram answered 429: every process waits out `retry_after`."""
        await self.db.run(workers.push_send_slots, self.wall() + seconds)
