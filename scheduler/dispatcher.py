"""The dispatcher: on each tick, claim what is due, then render, send and record it.

APScheduler (through python-telegram-bot's job queue) is only the clock: one repeating
job calls `Dispatcher.tick`, which starts a drain of the work that is due if none is
running. All state lives in the database (see `scheduler.deliveries`), so nothing is held
per person in memory and a restart loses nothing.
"""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import logging
import math
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from telegram import InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import ExtBot

from bot import prompt_sandbox
from bot.invitation_text import answer_buttons, render_invitation
from bot.keyboards import buttons, data
from bot.render import Renderer
from scheduler import deliveries as store
from scheduler.deliveries import Outcome, Ready, Slotter
from storage import invitations, therapists
from storage.appreciations import RELAY
from storage.db import Database
from storage.models import PATH_FOR_ONE, WEEKLY_CHECKIN

log = logging.getLogger(__name__)

# Errors raised before the request left this machine: safe to send again.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
MAX_BACKOFF_SECONDS = 300.0
PATH_DONE = "done"
MAX_IN_FLIGHT = 32
PLAN_CHECK = dt.timedelta(hours=1)
SNOOZE_BUTTONS = (
    ("snooze_hour", store.SNOOZE_HOUR),
    ("snooze_tonight", store.SNOOZE_TONIGHT),
    ("snooze_tomorrow", store.SNOOZE_TOMORROW),
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


def nudge_variants(renderer: Renderer, kind: str, locale: str) -> list[str]:
    """The wordings available for a kind of nudge, by short name ("quality", "moment")."""
    for loc in (locale, "en"):
        names = [n for n in renderer.names(loc) if n.startswith(f"nudges/{kind}/")]
        if names:
            return [n.rsplit("/", 1)[-1] for n in names]
    return []


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
        renderer: Renderer,
        bot: ExtBot[Any],
        *,
        grace: Callable[[str], float],
        clock: Callable[[], dt.datetime],
        batch_size: int = 500,
        rate_per_second: float = 30.0,
        per_chat_per_second: float = 0.0,
    ) -> None:
        self.db = db
        self.renderer = renderer
        self.bot = bot
        self.grace = grace
        self.clock = clock
        self.batch_size = batch_size
        # With a limiter, take about two seconds of sends at a time: a crash can then leave
        # at most that many deliveries ambiguous.
        self.chunk = (
            max(10, min(batch_size, math.ceil(rate_per_second * 2)))
            if (rate_per_second > 0)
            else batch_size
        )
        self.slotter = Slotter(rate_per_second, per_chat_per_second)
        self.stats = DispatchStats()
        self._drain: asyncio.Task[None] | None = None
        self._in_flight = asyncio.Semaphore(MAX_IN_FLIGHT)
        self._plans_checked: dt.datetime | None = None
        self._stopping = False

    async def start(self) -> None:
        """Recover from a crash: whatever was in flight is ambiguous and is not resent."""
        count = await self.db.run(store.recover_in_flight)
        self.stats.recovered_ambiguous += count
        if count:
            log.warning("%d deliveries were in flight at the last stop; not resending them", count)

    async def tick(self, _context: Any = None) -> None:
        """The job queue's callback: start draining due work unless a drain is running."""
        self.stats.ticks += 1
        if self._stopping or (self._drain is not None and not self._drain.done()):
            return
        self._drain = asyncio.create_task(self.drain(), name="dispatcher-drain")

    async def stop(self) -> None:
        """Let the chunk in flight finish, then stop."""
        self._stopping = True
        if self._drain is not None:
            await asyncio.gather(self._drain, return_exceptions=True)

    async def drain(self) -> None:
        """Claim and send until nothing more is due right now."""
        try:
            await self.follow_plans()
            while not self._stopping:
                claimed = await self.claim()
                sent = await self.send_ready()
                sent += await self.send_invitation_reminders()
                if not claimed and not sent:
                    return
        except Exception:
            log.exception("dispatcher drain failed; the next tick tries again")

    async def follow_plans(self) -> None:
        """Therapists' practice plans move on by themselves, checked once an hour."""
        now = self.clock()
        if self._plans_checked is not None and now - self._plans_checked < PLAN_CHECK:
            return
        self._plans_checked = now
        await self.db.run(therapists.apply_plans, now)

    async def send_invitation_reminders(self) -> int:
        """The once-only reminders partners asked for; marked sent before they go."""
        due = await self.db.run(invitations.take_due_reminders, self.clock())
        for reminder in due:
            lang = reminder.language
            text = "\n\n".join(
                [
                    self.renderer.render(
                        "invite/reminder", lang, initiator=reminder.shown.initiator_name
                    ),
                    render_invitation(self.renderer, lang, reminder.shown),
                ]
            )
            try:
                await self.bot.send_message(
                    reminder.chat_id,
                    text,
                    parse_mode=ParseMode.HTML,
                    reply_markup=answer_buttons(self.renderer, lang, reminder.invitation_id),
                )
            except TelegramError as exc:
                log.warning("an invitation reminder could not be sent (%s)", type(exc).__name__)
        return len(due)

    async def claim(self) -> int:
        """Claim one batch of due schedules; returns how many schedules were claimed."""
        now = self.clock()
        try:
            report = await self.db.run(
                store.claim_due, now, limit=self.batch_size, grace=self.grace, slotter=self.slotter
            )
        except store.ClaimConflict as exc:
            log.info("another worker claimed %s schedules first", exc.args[0])
            return 0
        self.stats.claimed += report.claimed
        self.stats.missed += report.missed
        self.stats.skipped += report.skipped
        if report.missed:
            log.info(
                "%d nudges were missed past their grace period; not sending them", report.missed
            )
        if self.slotter.unmet_windows:
            log.warning(
                "%d nudges cannot be sent inside their delivery window", self.slotter.unmet_windows
            )
            self.stats.unmet_windows += self.slotter.unmet_windows
            self.slotter.unmet_windows = 0
        return report.schedules

    async def send_ready(self) -> int:
        """Send one chunk of deliveries whose time has come; returns how many were tried."""
        now = self.clock()
        taken = await self.db.run(store.take_ready, now, limit=self.chunk)
        self.stats.missed += taken.missed
        self.stats.skipped += taken.skipped
        if not taken.ready:
            return 0
        outcomes = await asyncio.gather(*(self._send_bounded(ready) for ready in taken.ready))
        await self.db.run(store.record_outcomes, outcomes, self.clock())
        return len(outcomes)

    def render(self, ready: Ready) -> tuple[str, str | None, InlineKeyboardMarkup | None]:
        """The text, wording name and buttons of one nudge or relay."""
        lang = ready.language
        label = self.renderer.label
        if ready.invitation is not None:
            text = render_invitation(self.renderer, lang, ready.invitation)
            return text, None, answer_buttons(self.renderer, lang, ready.invitation.invitation_id)
        if ready.relay is not None:
            text = self.renderer.render(
                f"relay/{ready.kind}",
                lang,
                sender=ready.relay.sender_name,
                text=ready.relay.text,
                partner=ready.relay.partner_name,
            )
            thanks = None
            if ready.kind == RELAY:
                thanks = buttons([(label("thanks", lang), data("appr", f"t{ready.ref_id}"))])
            return text, None, thanks
        if ready.ask_care and ready.schedule_id is not None:
            text = self.renderer.render("practice/fewer", lang, name=ready.display_name)
            ref = ready.schedule_id
            return (
                text,
                None,
                buttons(
                    [
                        (label("fewer_yes", lang), data("fewer", f"{ref}.y")),
                        (label("fewer_no", lang), data("fewer", f"{ref}.n")),
                    ]
                ),
            )
        variants = nudge_variants(self.renderer, ready.kind, lang)
        custom = self._custom_text(ready)
        if custom is not None:
            return custom, "custom", self._nudge_buttons(ready)
        if ready.kind == PATH_FOR_ONE:
            # A series, in order; when it is complete, a closing note ends it.
            unseen = [v for v in variants if v not in ready.recent_variants]
            if not unseen:
                text = self.renderer.render("invite/path_done", lang, name=ready.display_name)
                return text, PATH_DONE, None
            variant = unseen[0]
            text = self.renderer.render(
                f"nudges/{ready.kind}/{variant}", lang, name=ready.display_name, zone=ready.zone
            )
            return text, variant, None
        seed = zlib.crc32(f"{ready.person_id}:{ready.due_at.date()}".encode())
        variant = choose_variant(variants, ready.recent_variants, seed)
        text = self.renderer.render(
            f"nudges/{ready.kind}/{variant}", lang, name=ready.display_name, zone=ready.zone
        )
        return text, variant, self._nudge_buttons(ready)

    def _nudge_buttons(self, ready: Ready) -> InlineKeyboardMarkup:
        """Check-in: done, snooze an hour, not this week. Others: the snoozes that apply."""
        lang, ref, label = ready.language, ready.delivery_id, self.renderer.label
        if ready.kind == WEEKLY_CHECKIN:
            return buttons(
                [(label("checkin_done", lang), data("checkin", f"{ref}.done"))],
                [
                    (label("snooze_hour", lang), data("snooze", f"{ref}.{store.SNOOZE_HOUR}")),
                    (label("checkin_skip", lang), data("checkin", f"{ref}.skip")),
                ],
            )
        now = self.clock()
        return buttons(
            [
                (label(key, lang), data("snooze", f"{ref}.{option}"))
                for key, option in SNOOZE_BUTTONS
                if store.snooze_target(option, ready.due_at, now, ready.zone) is not None
            ]
        )

    def _custom_text(self, ready: Ready) -> str | None:
        """A therapist's own wording, rendered in the sandbox; None falls back to ours."""
        if not ready.custom_template:
            return None
        weekday = ready.due_at.astimezone(ZoneInfo(ready.zone)).strftime("%A")
        try:
            return prompt_sandbox.render(
                ready.custom_template,
                first_name=ready.display_name,
                partner_first_name=ready.partner_name,
                weekday=weekday,
            )
        except prompt_sandbox.PromptTemplateError:
            log.warning("a therapist's wording could not be rendered; using the library's")
            return None

    async def _send_bounded(self, ready: Ready) -> Outcome:
        # httpx's pool rescans its connections on every request event: many requests in
        # flight cost more CPU than they save. The rate limiter paces anything slower.
        async with self._in_flight:
            return await self._send(ready)

    async def _send(self, ready: Ready) -> Outcome:
        try:
            text, variant, markup = self.render(ready)
        except Exception:
            log.exception("could not render a %s nudge", ready.kind)
            self.stats.failed += 1
            return Outcome(ready.delivery_id, store.FAILED, error="render")
        try:
            message = await self.bot.send_message(
                ready.chat_id,
                text,
                parse_mode=ParseMode.HTML,
                reply_markup=markup,
                disable_notification=ready.silent,
                rate_limit_args={"max_retries": 0},
            )
            message_id = message.message_id
        except Exception as exc:
            return self._failure(ready, exc)
        sent_at = self.clock()
        self.stats.sent += 1
        self.stats.lateness.append(max(0.0, (sent_at - ready.due_at).total_seconds()))
        return Outcome(
            ready.delivery_id,
            store.SENT,
            sent_at=sent_at,
            message_id=message_id,
            variant=variant,
        )

    def _failure(self, ready: Ready, exc: Exception) -> Outcome:
        """Map a send error to what happens to the delivery."""
        now = self.clock()
        name = type(exc).__name__
        if isinstance(exc, RetryAfter):
            self.stats.rate_limited += 1
            retry = exc.retry_after
            seconds = retry.total_seconds() if isinstance(retry, dt.timedelta) else float(retry)
            return Outcome(
                ready.delivery_id,
                store.CLAIMED,
                error=name,
                retry_at=now + dt.timedelta(seconds=seconds),
            )
        if isinstance(exc, Forbidden):
            self.stats.blocked += 1
            log.info("a person blocked the bot; their nudges are paused until /start")
            return Outcome(ready.delivery_id, store.BLOCKED, error=name)
        if isinstance(exc, ChatMigrated):
            self.stats.retried += 1
            return Outcome(
                ready.delivery_id,
                store.CLAIMED,
                error=name,
                retry_at=now,
                new_chat_id=exc.new_chat_id,
            )
        if isinstance(exc, NetworkError) and not isinstance(exc, BadRequest):
            if isinstance(exc.__cause__, _NOT_SENT):
                self.stats.retried += 1
                backoff = min(MAX_BACKOFF_SECONDS, 2.0**ready.attempts)
                return Outcome(
                    ready.delivery_id,
                    store.CLAIMED,
                    error=name,
                    retry_at=now + dt.timedelta(seconds=backoff),
                )
            # The request may have reached Telegram: never send it a second time.
            self.stats.ambiguous += 1
            log.warning("a send may or may not have arrived (%s); recorded as ambiguous", name)
            return Outcome(ready.delivery_id, store.AMBIGUOUS, error=name)
        self.stats.failed += 1
        if isinstance(exc, TelegramError):
            log.warning("Telegram refused a nudge (%s); skipping it", name)
        else:
            log.error("sending a nudge failed", exc_info=exc)
        return Outcome(ready.delivery_id, store.FAILED, error=name[:64])
