"""The dispatcher: on each tick, claim what is due, then render, send and record it.

APScheduler (through python-telegram-bot's job queue) is only the clock: one repeating
job calls `Dispatcher.tick`, which starts a drain of the work that is due if none is
running. All state lives in the database (see `storage.deliveries`), so nothing is held
per person in memory and a restart loses nothing.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import datetime as dt
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from scheduler import claims
from scheduler.claims import Slotter
from scheduler.metrics import Metrics
from scheduler.retention import purge_batch
from scheduler.snoozes import SNOOZE_HOUR, SNOOZE_TOMORROW, SNOOZE_TONIGHT
from scheduler.therapy import apply_plans
from scheduler.transport import Composer, SendResult, SendStatus, Transport
from scheduler.workers import WorkerLife
from storage import deliveries as store
from storage import invitations, outcomes, workers
from storage.db import Database
from storage.deliveries import Ready
from storage.outcomes import Outcome

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 300.0
MAX_IN_FLIGHT = 32
PLAN_CHECK = dt.timedelta(hours=1)
HOUSEKEEPING = "housekeeping"  # the lease one process holds while it does it
DB_RETRY = dt.timedelta(seconds=30)
CLOSE_ATTEMPTS = 5
REPORT_EVERY = dt.timedelta(minutes=1)
PURGE_BATCHES_PER_HOUR = 100  # of storage.retention.DEFAULT_BATCH rows each
CLAIM_CHUNKS = 2  # with a limiter, a claim batch is this many send chunks...
CLAIM_FLOOR = 100  # ...but at least this many schedules
SNOOZE_BUTTONS = (
    ("snooze_hour", SNOOZE_HOUR),
    ("snooze_tonight", SNOOZE_TONIGHT),
    ("snooze_tomorrow", SNOOZE_TOMORROW),
)


@dataclass
class DispatchStats:
    """Counters since start-up, for logs, tests and the benchmark."""

    ticks: int = 0
    claimed: int = 0
    sent: int = 0
    missed: int = 0
    skipped: int = 0
    failed: int = 0
    blocked: int = 0
    ambiguous: int = 0
    retried: int = 0
    rate_limited: int = 0
    recovered_ambiguous: int = 0
    unmet_windows: int = 0
    lateness: collections.deque[float] = field(
        default_factory=lambda: collections.deque(maxlen=100_000)
    )


def choose_variant(variants: Sequence[str], recent: Sequence[str], seed: int) -> str:
    """A wording the person has not seen lately; else the one they saw longest ago.

    `recent` is newest first. Among unseen wordings the choice is spread by `seed` (the
    person's id) so that partners do not get the same text on the same night.
    """
    if not variants:
        raise LookupError("no wording for this nudge")
    unseen = [v for v in variants if v not in recent]
    if unseen:
        return unseen[seed % len(unseen)]
    seen_order = {v: i for i, v in enumerate(recent)}
    return max(variants, key=lambda v: seen_order.get(v, math.inf))


class Dispatcher:
    """Claims due schedules and sends their nudges, exactly once each."""

    def __init__(
        self,
        db: Database,
        composer: Composer,
        transport: Transport,
        *,
        grace: Callable[[str], float],
        clock: Callable[[], dt.datetime],
        batch_size: int = 500,
        rate_per_second: float = 30.0,
        per_chat_per_second: float = 0.0,
        retention_days: int | None = None,
        worker: WorkerLife | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.db = db
        self.metrics = metrics if metrics is not None else Metrics()
        # This process among others (PostgreSQL), or alone: what it takes is its own.
        self.worker = worker or WorkerLife(db, clock, shared=False, metrics=self.metrics)
        self.composer = composer
        self.transport = transport
        self.grace = grace
        self.retention_days = retention_days
        self.clock = clock
        self.batch_size = batch_size
        # With a limiter, take about two seconds of sends at a time: a crash can then leave
        # at most that many deliveries ambiguous.
        self.chunk = (
            max(10, min(batch_size, math.ceil(rate_per_second * 2)))
            if (rate_per_second > 0)
            else batch_size
        )
        # With a limiter, claim a few chunks at a time: a claim holds the database thread
        # (and, in Python, the GIL) for as long as its batch takes, and sends wait on
        # both; at 30/s, 500 rows a claim stalled sends for up to a second on a busy machine.
        self.claim_batch = (
            min(batch_size, max(CLAIM_FLOOR, CLAIM_CHUNKS * self.chunk))
            if rate_per_second > 0
            else batch_size
        )
        self.slotter = Slotter(rate_per_second, per_chat_per_second)
        self.stats = DispatchStats()
        self._drain: asyncio.Task[None] | None = None
        self._in_flight = asyncio.Semaphore(MAX_IN_FLIGHT)
        self._plans_checked: dt.datetime | None = None
        self._reported_at: dt.datetime | None = None
        self._reported = DispatchStats()
        self._stopping = False
        # A drain broke off (the database went away): rows may be left queued or sending
        # in our name; settled before the next drain (`_settle_own_leftovers`).
        self._left_over = False

    async def start(self) -> None:
        """Register this process, and settle what stopped processes left in flight:
        whatever was sending is ambiguous and never resent; whatever was queued is sent."""
        if self.worker.id is None:
            await self.worker.start()
        self.stats.recovered_ambiguous += self.worker.recovered.ambiguous

    async def tick(self, _context: Any = None) -> None:
        """The job queue's callback: start draining due work unless a drain is running."""
        self.stats.ticks += 1
        self._report_minute()
        if self._stopping or (self._drain is not None and not self._drain.done()):
            return
        self._drain = asyncio.create_task(self.drain(), name="dispatcher-drain")

    def _report_minute(self) -> None:
        """Once a minute, at INFO: what went out, what missed, and how late (percentiles)."""
        now = self.clock()
        if self._reported_at is None:
            self._reported_at, self._reported = now, dataclasses.replace(self.stats)
            return
        if now - self._reported_at < REPORT_EVERY:
            return
        last, current = self._reported, self.stats
        sent = current.sent - last.sent
        missed = current.missed - last.missed
        unmet = current.unmet_windows - last.unmet_windows
        if sent or missed or unmet:
            ranks = sorted(list(current.lateness)[-sent:]) if sent else [0.0]
            # One line a minute, whatever the crowd: a warning when someone's nudge was
            # missed or will arrive outside their window (`nudgebot capacity` says why).
            log.log(
                logging.WARNING if missed or unmet else logging.INFO,
                "last minute: %d sent, %d missed, %d unmet windows, %d ambiguous; "
                "lateness p50 %.1f s, p95 %.1f s, p99 %.1f s",
                sent,
                missed,
                unmet,
                current.ambiguous - last.ambiguous,
                _percentile(ranks, 0.50),
                _percentile(ranks, 0.95),
                _percentile(ranks, 0.99),
            )
        self._reported_at, self._reported = now, dataclasses.replace(current)

    async def stop(self) -> None:
        """Let the chunk in flight finish, then stop."""
        self._stopping = True
        if self._drain is not None:
            await asyncio.gather(self._drain, return_exceptions=True)

    async def drain(self) -> None:
        """Claim and send until nothing more is due right now."""
        try:
            await self._settle_own_leftovers()
            await self.housekeeping()
            while not self._stopping:
                # The next claim runs while this chunk is sent: its rows wait in the
                # database for the next round, and the sends do not pause for it.
                claiming = asyncio.create_task(self.claim())
                try:
                    # Reminders first: a partner's becomes a delivery this round sends.
                    sent = await self.send_invitation_reminders()
                    sent += await self.send_ready()
                finally:
                    claimed = await claiming
                if not claimed and not sent:
                    return
        except Exception:
            log.exception("dispatcher drain failed; the next tick tries again")
            self._left_over = True

    async def _settle_own_leftovers(self) -> None:
        """Between drains nothing of ours is in flight: anything still queued or sending in
        our name is left from a drain the database broke off (an outage mid-send). Settle it
        now, or nobody would (other processes see us alive)."""
        if self.worker.id is None or not self._left_over:
            return
        found = await self.db.run_bulk(workers.recover_own, self.worker.id)
        self._left_over = False
        if found.requeued or found.ambiguous:
            log.warning(
                "after a database failure: %d deliveries will be sent, %d are ambiguous",
                found.requeued,
                found.ambiguous,
            )
        self.stats.ambiguous += found.ambiguous

    async def housekeeping(self) -> None:
        """Once an hour: therapists' plans move on, and old delivery rows are purged."""
        now = self.clock()
        if self._plans_checked is not None and now - self._plans_checked < PLAN_CHECK:
            return
        self._plans_checked = now
        # One process at a time: plan steps owe partners a notice, exactly once.
        if not await self.worker.hold(HOUSEKEEPING):
            return
        try:
            await self._housekeeping(now)
        finally:
            await self.worker.release(HOUSEKEEPING)

    async def _housekeeping(self, now: dt.datetime) -> None:
        await self.db.run_bulk(apply_plans, now)
        if self.retention_days:
            purged = 0
            # Small batches, each its own transaction: replies slip in between them.
            for _ in range(PURGE_BATCHES_PER_HOUR):
                deleted = await self.db.run_bulk(purge_batch, now, self.retention_days)
                purged += deleted
                if not deleted:
                    break
            if purged:
                log.info("purged %d delivery rows older than %d days", purged, self.retention_days)

    async def send_invitation_reminders(self) -> int:
        """The once-only reminders partners asked for (see `take_due_reminders`).

        Partners with an account get theirs as deliveries through the normal path; these
        are for people who only opened a link. One not sent is tried again later.
        """
        due = await self.db.run_bulk(invitations.take_due_reminders, self.clock())
        for reminder in due:
            composed = self.composer.compose_reminder(reminder)
            result = await self.transport.send(
                reminder.chat_id, composed.text, markup=composed.markup
            )
            if result.status in (SendStatus.NOT_SENT, SendStatus.RATE_LIMITED):
                log.info("an invitation reminder was not sent (%s); trying later", result.error)
                retry_at = self.clock() + invitations.REMINDER_RETRY
                await self.db.run_bulk(invitations.reminder_again, reminder.invitation_id, retry_at)
                continue
            if result.status is not SendStatus.SENT:
                log.warning("an invitation reminder could not be sent (%s)", result.error)
            await self.db.run_bulk(invitations.reminder_done, reminder.invitation_id, self.clock())
        return len(due)

    async def claim(self) -> int:
        """Claim one batch of due schedules; returns how many schedules were claimed."""
        now = self.clock()
        try:
            report = await self.db.run_bulk(
                claims.claim_due,
                now,
                limit=self.claim_batch,
                grace=self.grace,
                slotter=self.slotter,
            )
        except store.ClaimConflict as exc:
            log.info("another worker claimed %s schedules first", exc.args[0])
            return 0
        self.stats.claimed += report.claimed
        self.stats.missed += report.missed
        self.stats.skipped += report.skipped
        self._count_settled(report.missed, report.skipped)
        if report.missed:
            log.info(
                "%d nudges were missed past their grace period; not sending them", report.missed
            )
        # Counted here, logged once a minute with the rest (`_report_minute`): at 100,000
        # due, a line per claim would be hundreds of lines saying the same thing.
        self.stats.unmet_windows += self.slotter.unmet_windows
        self.slotter.unmet_windows = 0
        return report.schedules

    async def send_ready(self) -> int:
        """Send one chunk of deliveries whose time has come; returns how many were tried.

        Each delivery is `queued` when taken, becomes `sending` in the moment its own
        request leaves (after its rate-limit wait; marks are grouped into one short
        transaction), and has its outcome written soon after it completes, so a crash
        leaves ambiguous only the requests actually in flight.
        """
        if self.worker.id is None:
            await self.start()
        now = self.clock()
        taken = await self.db.run_bulk(
            claims.take_ready, now, limit=self.chunk, worker_id=self.worker.worker_id
        )
        self.stats.missed += taken.missed
        self.stats.skipped += taken.skipped
        self._count_settled(taken.missed, taken.skipped)
        if not taken.ready:
            # Settling skipped or missed rows is progress too: it may have queued a note
            # to someone (a relay that cannot be passed on), which the next round sends.
            return taken.skipped + taken.missed
        leaving = _GroupCommit(self.db, self.clock, self.worker.worker_id)
        recorder = _OutcomeRecorder(self.db, self.clock, self.metrics)
        sends = [
            asyncio.create_task(self._send_and_record(ready, leaving, recorder))
            for ready in taken.ready
        ]
        flusher = asyncio.create_task(recorder.run())
        try:
            # Every send finishes (and is recorded) even if another one raised.
            for failure in await asyncio.gather(*sends, return_exceptions=True):
                if isinstance(failure, BaseException):
                    log.error("a send failed unexpectedly", exc_info=failure)
        finally:
            if not await recorder.close(flusher) or leaving.failed:
                self._left_over = True
        return len(sends)

    async def _send_and_record(
        self, ready: Ready, leaving: _GroupCommit, recorder: _OutcomeRecorder
    ) -> None:
        outcome = await self._send_bounded(ready, leaving)
        if outcome is not None:
            recorder.add(outcome)

    async def _send_bounded(self, ready: Ready, leaving: _GroupCommit) -> Outcome | None:
        # Many requests in flight cost more CPU than they save; the limiter paces the rest.
        async with self._in_flight:
            return await self._send(ready, leaving)

    async def _send(self, ready: Ready, leaving: _GroupCommit) -> Outcome | None:
        try:
            composed = self.composer.compose(ready)
        except Exception:
            log.exception("could not compose a %s nudge", ready.kind)
            self.stats.failed += 1
            return Outcome(ready.delivery_id, store.FAILED, error="render")

        held_back = False

        async def on_leaving() -> bool:
            nonlocal held_back
            if self._stopping:
                # Stopping (SIGTERM): finish what has left, start nothing new.
                held_back = True
                return False
            return await leaving.mark(ready.delivery_id)

        result = await self.transport.send(
            ready.chat_id,
            composed.text,
            markup=composed.markup,
            silent=ready.silent,
            on_leaving=on_leaving,
        )
        if result.status is SendStatus.CANCELLED:
            if held_back:
                # Never left: claimed again, for the next process (or this one's restart).
                return Outcome(
                    ready.delivery_id, store.CLAIMED, error="stopping", retry_at=self.clock()
                )
            if ready.delivery_id in leaving.failed:
                # The database could not mark it leaving, so it never left: try later.
                retry_at = self.clock() + DB_RETRY
                return Outcome(ready.delivery_id, store.CLAIMED, error="db", retry_at=retry_at)
            return None  # erased meanwhile: nothing was sent, nothing to record
        return self._outcome(ready, result, composed.variant)

    def _count_settled(self, missed: int, skipped: int) -> None:
        """Outcomes written by the claim or take itself (not by the recorder)."""
        self.metrics.delivery_recorded(store.MISSED, missed)
        self.metrics.delivery_recorded(store.SKIPPED, skipped)

    def _outcome(self, ready: Ready, result: SendResult, variant: str | None) -> Outcome:
        """What a send's result means for its delivery."""
        now = self.clock()
        status, error = result.status, result.error
        if status is SendStatus.SENT:
            self.stats.sent += 1
            self.stats.lateness.append(max(0.0, (now - ready.due_at).total_seconds()))
            self.metrics.delivery_sent((now - ready.due_at).total_seconds())
            return Outcome(
                ready.delivery_id,
                store.SENT,
                sent_at=now,
                message_id=result.message_id,
                variant=variant,
                kind=ready.kind,
            )
        if status is SendStatus.RATE_LIMITED:
            self.stats.rate_limited += 1
            wait = dt.timedelta(seconds=result.retry_after or 1.0)
            return Outcome(ready.delivery_id, store.CLAIMED, error=error, retry_at=now + wait)
        if status is SendStatus.BLOCKED:
            self.stats.blocked += 1
            log.info("a person blocked the bot; their nudges are paused until /start")
            return Outcome(ready.delivery_id, store.BLOCKED, error=error)
        if status is SendStatus.MIGRATED:
            self.stats.retried += 1
            return Outcome(
                ready.delivery_id,
                store.CLAIMED,
                error=error,
                retry_at=now,
                new_chat_id=result.new_chat_id,
            )
        if status is SendStatus.NOT_SENT:
            self.stats.retried += 1
            backoff = result.retry_after or min(MAX_BACKOFF_SECONDS, 2.0 ** (ready.attempts + 1))
            return Outcome(
                ready.delivery_id,
                store.CLAIMED,
                error=error,
                retry_at=now + dt.timedelta(seconds=backoff),
            )
        if status is SendStatus.AMBIGUOUS:
            # The request may have reached Telegram: never send it a second time.
            self.stats.ambiguous += 1
            log.warning("a send may or may not have arrived (%s); recorded as ambiguous", error)
            return Outcome(ready.delivery_id, store.AMBIGUOUS, error=error)
        self.stats.failed += 1
        log.warning("Telegram refused a nudge (%s); skipping it", error)
        return Outcome(ready.delivery_id, store.FAILED, error=error)


def _percentile(ordered: Sequence[float], share: float) -> float:
    """The value below which `share` of the (sorted, non-empty) values lie."""
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


class _GroupCommit:
    """Marks deliveries `sending` as their requests leave, many per transaction.

    Every caller that arrives while a commit is running joins the next one, so under
    load one short transaction serves many sends, and alone a send waits for just one.
    """

    def __init__(
        self, db: Database, clock: Callable[[], dt.datetime], worker_id: int | None = None
    ) -> None:
        self.db, self.clock, self.worker_id = db, clock, worker_id
        self._waiting: dict[int, asyncio.Future[bool]] = {}
        self._lock = asyncio.Lock()
        self.failed: set[int] = set()

    async def mark(self, delivery_id: int) -> bool:
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting[delivery_id] = future
        async with self._lock:
            if future.done():
                # Marked by the commit that held the lock: leave now. Committing the next
                # batch for the others first would hold this request, marked `sending`,
                # off the wire for another transaction (a crash then made it ambiguous).
                return future.result()
            # Let the sends that are ready in this same turn of the loop join this commit:
            # fewer, larger transactions, at no cost in latency.
            await asyncio.sleep(0)
            if self._waiting:
                batch, self._waiting = self._waiting, {}
                # Shielded: a caller given up on (a connect timeout around the hook that
                # marks) must not leave the rest of its batch waiting for ever.
                await asyncio.shield(self._commit(batch))
        return await future

    async def _commit(self, batch: dict[int, asyncio.Future[bool]]) -> None:
        """Mark `batch` leaving in one transaction and tell each waiter whether it may go."""
        try:
            marked = await self.db.run_bulk(
                outcomes.mark_leaving,
                list(batch),
                self.clock(),
                claims.last_look,
                self.worker_id,
            )
        except Exception:
            # Not sent: recorded as claimed again, with a retry (see `_send`).
            log.exception("could not mark %d deliveries as leaving", len(batch))
            self.failed.update(batch)
            marked = set()
        for key, waiter in batch.items():
            if not waiter.done():
                waiter.set_result(key in marked)


class _OutcomeRecorder:
    """Writes outcomes soon after each send completes, a few at a time: every
    `FLUSH_EVERY`, or as soon as `FLUSH_AT` are waiting. What has been answered but not yet
    written is ambiguous after a crash, so at hundreds a second the count matters too."""

    FLUSH_EVERY = 0.2  # seconds
    FLUSH_AT = 8  # outcomes

    def __init__(
        self, db: Database, clock: Callable[[], dt.datetime], metrics: Metrics | None = None
    ) -> None:
        self.db, self.clock = db, clock
        self.metrics = metrics if metrics is not None else Metrics()
        self._pending: list[Outcome] = []
        self._closing = asyncio.Event()
        self._full = asyncio.Event()

    def add(self, outcome: Outcome) -> None:
        self._pending.append(outcome)
        if len(self._pending) >= self.FLUSH_AT:
            self._full.set()

    async def run(self) -> None:
        while not self._closing.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake(), self.FLUSH_EVERY)
            self._full.clear()
            await self.flush()

    async def _wake(self) -> None:
        """Return when closing, or when enough outcomes wait."""
        closing = asyncio.ensure_future(self._closing.wait())
        full = asyncio.ensure_future(self._full.wait())
        try:
            await asyncio.wait((closing, full), return_when=asyncio.FIRST_COMPLETED)
        finally:
            closing.cancel()
            full.cancel()

    async def flush(self) -> bool:
        """Write what is pending; on a database error keep it for the next try."""
        batch, self._pending = self._pending, []
        if not batch:
            return True
        try:
            await self.db.run_bulk(outcomes.record_outcomes, batch, self.clock())
        except Exception:
            log.exception("could not record %d outcomes; trying again", len(batch))
            self._pending[:0] = batch
            return False
        for outcome in batch:
            # CLAIMED again means "try later": a retry, not an outcome.
            self.metrics.delivery_recorded(
                "retry" if outcome.status == store.CLAIMED else outcome.status
            )
        return True

    async def close(self, runner: asyncio.Task[None]) -> bool:
        """Write what is left; False if it could not (the dispatcher then settles those
        rows itself before its next drain: never sent twice)."""
        self._closing.set()
        await runner
        for attempt in range(CLOSE_ATTEMPTS):
            if await self.flush():
                return True
            await asyncio.sleep(0.5 * (attempt + 1))
        log.error("gave up recording %d outcomes", len(self._pending))
        return False
