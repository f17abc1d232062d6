"""The composition root: one function builds the whole Application."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import BotCommand, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot import classifier
from bot.aiohttp_request import AiohttpRequest
from bot.composer import Composer
from bot.context import BotContext, Services
from bot.guards import ignore_without_sender
from bot.handlers import (
    account,
    buttons,
    conversation,
    couple,
    invite,
    onboarding,
    practice,
    therapist,
)
from bot.handlers.common import reply
from bot.menus import MENU
from bot.ops import OpsEndpoint, TelegramProbe
from bot.ratelimit import TelegramRateLimiter
from bot.safety import check_danger
from bot.send_errors import PollingRequest
from bot.startup import patiently
from bot.tone import LANGUAGES, check_tone
from bot.transport import TelegramTransport
from bot.updates import InboxQueue, PerChatUpdateProcessor
from bot.webhook import WebhookReceiver
from bot.wording import SandboxChecks
from dashboard import DashboardServer, create_app
from scheduler.dispatcher import Dispatcher
from scheduler.workers import SharedBudget, WorkerLife
from storage import couples, invitations, therapists, workers

log = logging.getLogger(__name__)


def build_application(services: Services) -> Application[Any, BotContext, Any, Any, Any, Any]:
    """Build the bot: handlers, error handler, start-up I/O, and the dispatcher's clock."""
    # Opt in to python-telegram-bot's coming behaviour: RetryAfter.retry_after as timedelta.
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    settings = services.settings
    # With PostgreSQL other processes may share the database: what this one takes is its
    # own (a lease per process), and the send rate is one budget for all of them.
    shared = services.db.shared
    life = WorkerLife(
        services.db,
        services.clock,
        roles=",".join(sorted(services.roles)),
        shared=shared,
        metrics=services.metrics,
    )
    budget = (
        SharedBudget(services.db, settings.rate_limit_per_second)
        if shared and settings.rate_limit_per_second > 0
        else None
    )
    app = (
        Application.builder()
        .token(settings.token)
        .base_url(settings.telegram_api_base_url)
        .context_types(ContextTypes(context=BotContext))
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)
            )
        )
        # Every send (bulk and replies) on aiohttp: measured ~4x PTB's httpx layer
        # (`python -m benchmarks --scenario throughput`). Long polling keeps PTB's httpx
        # request, with a parser that never logs answer bodies.
        .request(AiohttpRequest())
        .get_updates_request(
            PollingRequest(
                read_timeout=settings.poll_timeout_seconds + 10.0,
                may_poll=lambda: life.holds(workers.POLLING),
            )
        )
        .rate_limiter(
            TelegramRateLimiter(
                settings.rate_limit_per_second,
                settings.rate_limit_per_chat_per_second,
                shared=budget,
                metrics=services.metrics,
            )
        )
        # Different chats at once, each chat in order: one person's burst delays only them.
        # Each polled update is kept in the database until handled (a process taking over
        # polling finishes what a dead one took), then recorded as handled.
        .update_queue(InboxQueue())
        .concurrent_updates(
            PerChatUpdateProcessor(
                settings.concurrent_updates,
                metrics=services.metrics,
                done=lambda update: life.finish_update(update.update_id),
            )
        )
        .post_init(_post_init)
        .post_stop(_post_stop)
        .post_shutdown(_post_shutdown)
        .build()
    )
    app.bot_data["services"] = services
    app.bot_data["worker"] = life
    app.bot_data["dispatcher"] = Dispatcher(
        services.db,
        Composer(services.renderer, services.clock),
        TelegramTransport(app.bot, paid_broadcast=settings.paid_broadcast),
        grace=settings.grace_seconds,
        clock=services.clock,
        batch_size=settings.dispatch_batch_size,
        rate_per_second=settings.rate_limit_per_second,
        per_chat_per_second=settings.rate_limit_per_chat_per_second,
        retention_days=settings.delivery_retention_days,
        worker=life,
        metrics=services.metrics,
    )
    app.bot_data["text_flows"] = dict(conversation.DEFAULT_TEXT_FLOWS)
    app.bot_data["deep_link_flows"] = {
        couples.PAIR_PREFIX: couple.open_pairing_link,
        couple.JOIN_PREFIX: couple.join_after_onboarding,
        invitations.INVITE_PREFIX: invite.open_invitation_link,
        therapists.LINK_PREFIX: therapist.open_client_link,
    }
    add_handlers(app)
    return app


def add_handlers(app: Application[Any, BotContext, Any, Any, Any, Any]) -> None:
    private = filters.ChatType.PRIVATE
    app.add_handler(TypeHandler(Update, dedupe_update), group=-3)
    app.add_handler(TypeHandler(Update, ignore_without_sender), group=-2)
    app.add_handler(TypeHandler(Update, _log_update), group=-1)
    commands: dict[str, Any] = {
        "start": onboarding.start,
        "timezone": onboarding.timezone_command,
        "name": onboarding.name_command,
        "help": therapist.help_command,
        "settings": account.settings_command,
        "language": account.language_command,
        "pause": account.pause_command,
        "resume": account.resume_command,
        "stop": account.stop_command,
        "delete": account.delete_command,
        "mydata": account.mydata_command,
        "nightly": practice.nightly_command,
        "checkin": practice.checkin_command,
        "tips": practice.tips_command,
        "quiet": practice.quiet_command,
        "timing": practice.timing_command,
        "pair": couple.pair_command,
        "unpair": couple.unpair_command,
        "journal": couple.journal_command,
        "sharing": couple.sharing_command,
        "reveal": couple.reveal_command,
        "invite": invite.invite_command,
        "alone": invite.alone_command,
        "therapist_off": therapist.therapist_off_command,
    }
    for name, callback in commands.items():
        app.add_handler(CommandHandler(name, callback, filters=private))
    # Therapists are not partners: these work without the partners' consent flow.
    for name, callback in {
        "therapist": therapist.therapist_command,
        "clientlink": therapist.client_link_command,
        "clients": therapist.clients_command,
        "dashboard": therapist.dashboard_command,
        "wording": therapist.wording_command,
        "code": therapist.code_command,
        "endlink": therapist.endlink_command,
    }.items():
        app.add_handler(CommandHandler(name, callback, filters=private))
    # Every button, whatever its kind: decoded and checked in one place (bot/callbacks.py).
    app.add_handler(CallbackQueryHandler(buttons.on_button))
    app.add_handler(MessageHandler(private & filters.LOCATION, onboarding.on_location))
    app.add_handler(MessageHandler(private & filters.COMMAND, conversation.on_unknown_command))
    app.add_handler(MessageHandler(private & filters.TEXT, conversation.on_text))
    app.add_handler(
        MessageHandler(private & ~filters.StatusUpdate.ALL, conversation.on_other_message)
    )
    app.add_handler(
        MessageHandler(filters.ChatType.GROUPS & filters.COMMAND, conversation.on_group_message)
    )
    app.add_error_handler(on_error)


async def dedupe_update(update: Update, context: BotContext) -> None:
    """Handle each update once, across restarts and processes: a process taking over
    polling (or a webhook delivered twice) may be given one that was already handled.
    Updates are recorded as handled when done, in their chat's turn (`bot.updates`,
    `bot.webhook`), so a second copy waits for the first and is then skipped here."""
    services = context.services
    if await services.db.run(workers.handled, update.update_id):
        log.info("update %s was already handled; skipping it", update.update_id)
        raise ApplicationHandlerStop


async def _log_update(update: Update, _context: BotContext) -> None:
    """Log that an update arrived: its id and kind only, never its text or sender."""
    kind = "button" if update.callback_query else "message" if update.message else "other"
    log.debug("update %s: %s", update.update_id, kind)


async def on_error(update: object, context: BotContext) -> None:
    """Log the failure (no message text) and tell the person kindly, if there is one."""
    log.error("handler failed: %s", type(context.error).__name__, exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat is not None:
        try:
            await reply(update, context, "errors/something_went_wrong")
        except Exception:
            log.warning("could not tell the person about the failure", exc_info=True)


async def _register_menus(
    app: Application[Any, BotContext, Any, Any, Any, Any], services: Services
) -> None:
    """The `/` menu in every language we speak (Telegram picks by the user's language),
    and in the default language for everyone else."""
    renderer = services.renderer
    default = services.settings.default_language
    for code in [None, *renderer.locales()]:
        locale = code or default
        menu = [BotCommand(name, renderer.label(f"cmd_{name}", locale)) for name in MENU]
        # Retried here, not also in the rate limiter; the bot starts even if it never works.
        await patiently(f"registering the command menu ({locale})", _menu_call(app, menu, code))


def _menu_call(
    app: Application[Any, BotContext, Any, Any, Any, Any],
    menu: list[BotCommand],
    code: str | None,
) -> Callable[[], Awaitable[bool]]:
    async def call() -> bool:
        done: bool = await app.bot.set_my_commands(
            menu, language_code=code, rate_limit_args={"max_retries": 0}
        )
        return done

    return call


def _warm_checks() -> None:
    """Load the tone and safety checks' phrase tables and models now (about a second), not
    while the first person to write is waiting for an answer."""
    for language in LANGUAGES:
        check_tone("warm up", language)
        check_danger("warm up", language)
    # Loaded by name: a text this short is left to the patterns and would not load them.
    classifier.load("tone")
    classifier.load("safety")


async def _post_init(app: Application[Any, BotContext, Any, Any, Any, Any]) -> None:
    """Start-up I/O: learn our username, register the `/` menu, start this process's
    roles (sending, the dashboard)."""
    services: Services = app.bot_data["services"]
    services.bot_username = app.bot.username or ""
    life: WorkerLife = app.bot_data["worker"]
    await life.start()
    if isinstance(app.update_queue, InboxQueue):
        app.update_queue.keep = life.keep_update
    roles = services.roles
    if "updates" in roles:
        await asyncio.to_thread(_warm_checks)
        await _register_menus(app, services)
        await therapist.sync_menus(app.bot, services)
    dispatcher: Dispatcher = app.bot_data["dispatcher"]
    await dispatcher.start()
    settings = services.settings
    if settings.dashboard_enabled and "dashboard" in roles:
        web = create_app(
            services.db,
            clock=services.clock,
            public_url=settings.dashboard_public_url,
            wording=SandboxChecks(services.renderer),
        )
        server = DashboardServer(web, settings.dashboard_host, settings.dashboard_port)
        await server.start()
        app.bot_data["dashboard"] = server
        log.info("therapist dashboard on %s:%s", settings.dashboard_host, server.port)
    if settings.telegram_webhook_url and "updates" in roles:
        assert settings.telegram_webhook_secret is not None  # required with the URL
        receiver = WebhookReceiver(
            app,
            services.db,
            done=life.finish_update,
            secret=settings.telegram_webhook_secret.get_secret_value(),
            path=settings.webhook_path,
            concurrency=settings.concurrent_updates,
        )
        endpoint = DashboardServer(
            receiver.starlette(), settings.webhook_host, settings.webhook_port, name="webhook"
        )
        await endpoint.start()
        app.bot_data["webhook"] = (receiver, endpoint)
    await start_ops(app)
    if app.job_queue is not None and "dispatch" in roles:
        app.job_queue.run_repeating(
            dispatcher.tick,
            interval=services.settings.dispatch_interval_seconds,
            first=0,
            name="dispatcher",
            # The tick only starts a drain; never skip one for being late.
            job_kwargs={"misfire_grace_time": None, "coalesce": True, "max_instances": 1},
        )
        # What partners are owed about changes their therapist made (scheduler/therapy.py
        # records them in the same transaction as the change).
        app.job_queue.run_repeating(therapist.notices_job, interval=60, first=1, name="notices")
        # Initiators whose invitation could not reach their partner are told, once.
        app.job_queue.run_repeating(
            invite.undelivered_job, interval=60, first=1, name="invite_undelivered"
        )
    log.info("started (%s)", ", ".join(sorted(roles)))


async def stop_receiving(app: Application[Any, BotContext, Any, Any, Any, Any]) -> None:
    """Webhook mode: refuse new updates (Telegram sends them again, maybe to another
    process) and let those being handled finish, before the Application stops."""
    if (webhook := app.bot_data.pop("webhook", None)) is not None:
        receiver, endpoint = webhook
        receiver.stopping = True
        await endpoint.stop()


async def _post_stop(app: Application[Any, BotContext, Any, Any, Any, Any]) -> None:
    dispatcher: Dispatcher = app.bot_data["dispatcher"]
    await dispatcher.stop()
    if (server := app.bot_data.pop("dashboard", None)) is not None:
        await server.stop()
    await stop_ops(app)


async def _post_shutdown(app: Application[Any, BotContext, Any, Any, Any, Any]) -> None:
    services: Services = app.bot_data["services"]
    services.db.close()
    log.info("stopped cleanly")


# The ops endpoint (bot/ops.py): health, readiness and metrics on OPS_HOST:OPS_PORT.


async def start_ops(app: Application[Any, BotContext, Any, Any, Any, Any]) -> None:
    """Serve /healthz, /readyz and /metrics when OPS_PORT is set."""
    services: Services = app.bot_data["services"]
    settings = services.settings
    if settings.ops_port is None:
        return
    probe = TelegramProbe(app.bot.get_me)
    probe.answered()  # initialize() has just called getMe
    endpoint = OpsEndpoint(services.db, services.metrics, probe, clock=services.clock)
    server = DashboardServer(endpoint.app, settings.ops_host, settings.ops_port, name="ops")
    try:
        await server.start()
    except OSError:
        log.error(
            "the ops endpoint could not listen on %s:%s (OPS_PORT)",
            settings.ops_host,
            settings.ops_port,
        )
        raise
    app.bot_data["ops"] = server
    log.info("ops endpoint on %s:%s (/healthz, /readyz, /metrics)", settings.ops_host, server.port)


async def stop_ops(app: Application[Any, BotContext, Any, Any, Any, Any]) -> None:
    """Stop the ops endpoint, if it runs."""
    if (server := app.bot_data.pop("ops", None)) is not None:
        await server.stop()
