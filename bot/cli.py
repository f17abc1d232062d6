"""The `nudgebot` command line."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from typing import Any, NoReturn

import click
from jinja2 import TemplateError, TemplateNotFound
from telegram import Bot, WebhookInfo
from telegram.error import InvalidToken, NetworkError

from bot import logs
from bot.app import build_application, stop_receiving
from bot.capacity_cli import capacity_command
from bot.checks_cli import check_group
from bot.context import ROLES, Services, utc_now
from bot.i18n import i18n
from bot.render import Renderer
from bot.runner import Polling, Webhook, serve
from bot.samples import sample_context
from bot.seed_cli import seed_command
from bot.settings import REFERENCE_LANGUAGE, Settings, SettingsError, load_settings
from scheduler.workers import WorkerLife
from storage import therapists
from storage.db import (
    Database,
    DatabaseUnusable,
    OnlyOneProcess,
    Unusable,
    describe_url,
    upgrade,
)
from storage.secret import SecretKeyError
from storage.stats import collect

log = logging.getLogger("nudgebot")

EXIT_CONFIG = 2
# What the operator's own commands are told, by the domain's reason code (English: the
# operator's console is not a person's chat).
OPERATOR_REASONS = {"name": "A name of 1 to 100 characters is needed."}
EXIT_DATABASE = 1


def _fail(message: str, code: int = EXIT_CONFIG) -> NoReturn:
    click.echo(f"nudgebot: {message}", err=True)
    sys.exit(code)


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        _fail(str(exc))


def _upgrade(url: str) -> None:
    """Migrate the database, or stop with one line that says what to do."""
    try:
        upgrade(url)
    except DatabaseUnusable as exc:
        advice = {
            Unusable.NOT_A_DATABASE: (
                f"the database file {exc.where} is not a valid SQLite database (or is "
                "encrypted); restore it from a backup or move it aside"
            ),
            Unusable.LOCKED: (
                f"the database file {exc.where} is locked by another process; stop the "
                "other nudgebot process (or whatever holds it) and try again"
            ),
            Unusable.UNREACHABLE: (
                f"could not connect to the database at {exc.where}; check DATABASE_URL "
                "and that the server is running"
            ),
        }
        _fail(advice[exc.reason], code=EXIT_DATABASE)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """A Telegram bot that helps couples practise between therapy sessions."""


@main.command()
@click.option(
    "--role",
    "roles",
    type=click.Choice(ROLES),
    multiple=True,
    help="Do only this part of the work (repeatable): answer updates, send nudges, or "
    "serve the dashboard. Default: all of it.",
)
def run(roles: tuple[str, ...]) -> None:
    """Start the bot (long polling), upgrading the database first.

    Stops cleanly on Ctrl-C (SIGINT) or SIGTERM. Reads its configuration from the
    environment and from a .env file in the working directory. With PostgreSQL it may be
    started many times: one process polls Telegram at a time, all of them send.
    """

    settings = _settings()
    try:
        token = settings.token
    except SettingsError as exc:
        _fail(str(exc))
    logs.configure(settings.log_level_number, secrets=(token,))
    _upgrade(settings.database_url)
    log.info(
        "nudgebot starting: database %s, Telegram API %s",
        describe_url(settings.database_url),
        settings.telegram_api_base_url,
    )
    try:
        database = Database(settings.database_url)
        database.lock_single_process()
    except SecretKeyError as exc:
        _fail(str(exc))
    except OnlyOneProcess as exc:
        _fail(
            f"another nudgebot process is using the SQLite database {exc}; SQLite serves "
            "one process. Stop the other one, or use PostgreSQL (DATABASE_URL="
            "postgresql://...) to run more than one.",
            code=EXIT_DATABASE,
        )
    services = Services(
        settings=settings,
        db=database,
        renderer=Renderer(settings.templates_dir, settings.default_language),
        roles=frozenset(roles or ROLES),
    )
    app = build_application(services)
    life: WorkerLife = app.bot_data["worker"]
    receiving: Polling | Webhook | None = None
    if "updates" in services.roles:
        receiving = Polling(settings.poll_timeout_seconds)
        if settings.telegram_webhook_url and settings.telegram_webhook_secret:
            receiving = Webhook(
                settings.telegram_webhook_url, settings.telegram_webhook_secret.get_secret_value()
            )
    try:
        asyncio.run(serve(app, life, receiving, before_stop=lambda: stop_receiving(app)))
    except InvalidToken:
        _fail("Telegram refused TELEGRAM_BOT_TOKEN. Check it with @BotFather (/token).")
    except OSError as exc:
        _fail(_listen_failure(settings, services.roles, exc), code=1)
    except NetworkError as exc:
        _fail(
            f"could not reach Telegram at {settings.telegram_api_base_url}: {type(exc).__name__}",
            code=1,
        )


def _listen_failure(settings: Settings, roles: frozenset[str], exc: OSError) -> str:
    """One line naming every port this process tried to listen on, and its setting."""
    ports = []
    if settings.dashboard_enabled and "dashboard" in roles:
        ports.append(
            f"the dashboard's {settings.dashboard_host}:{settings.dashboard_port} "
            "(DASHBOARD_PORT, or DASHBOARD_ENABLED=false)"
        )
    if settings.telegram_webhook_url and "updates" in roles:
        ports.append(
            f"the webhook's {settings.webhook_host}:{settings.webhook_port} (WEBHOOK_PORT)"
        )
    if settings.ops_port is not None:
        ports.append(f"the ops endpoint's {settings.ops_host}:{settings.ops_port} (OPS_PORT)")
    where = "; or ".join(ports) or "a port"
    return f"could not listen ({exc.strerror or exc}) on {where}: set another port"


@main.group()
def webhook() -> None:
    """Telegram's webhook for this bot (webhook mode, TELEGRAM_WEBHOOK_URL)."""


def _bot(settings: Settings) -> Bot:
    try:
        token = settings.token
    except SettingsError as exc:
        _fail(str(exc))
    return Bot(token, base_url=settings.telegram_api_base_url)


@webhook.command("info")
def webhook_info() -> None:
    """Show where Telegram sends updates now, and how many wait."""

    async def ask() -> WebhookInfo:
        async with _bot(_settings()) as bot:
            return await bot.get_webhook_info()

    info = asyncio.run(ask())
    where = info.url or "(none: the bot polls)"
    click.echo(f"webhook: {where}; updates waiting: {info.pending_update_count}")


@webhook.command("delete")
def webhook_delete() -> None:
    """Remove the webhook. Stop every `nudgebot run` first, or unset TELEGRAM_WEBHOOK_URL:
    a process started without it polls (and removes the webhook itself)."""

    async def remove() -> None:
        async with _bot(_settings()) as bot:
            await bot.delete_webhook()

    asyncio.run(remove())
    click.echo("webhook removed; updates wait at Telegram until a process polls")


@main.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply every database migration (safe to run again)."""
    settings = _settings()
    _upgrade(settings.database_url)
    click.echo(f"database is up to date: {describe_url(settings.database_url)}")


@main.group()
def therapist() -> None:
    """Therapist accounts: only the operator creates them."""


def _therapist_db() -> Any:
    settings = _settings()
    upgrade(settings.database_url)
    return Database(settings.database_url)


@therapist.command("add")
@click.argument("name")
def therapist_add(name: str) -> None:
    """Create an account for NAME and print its one-time registration code."""
    db = _therapist_db()
    try:
        account, code = db.call(therapists.add, name, utc_now())
    except therapists.TherapistError as exc:
        _fail(OPERATOR_REASONS.get(exc.reason, exc.reason))
    finally:
        db.close()
    days = therapists.REGISTRATION_TTL.days
    click.echo(f"Therapist #{account.id} created: {account.name}")
    click.echo(f"Registration code (one use, valid {days} days): {code}")
    click.echo(f"They send this to the bot in Telegram:  /therapist {code}")


@therapist.command("list")
def therapist_list() -> None:
    """List therapist accounts (no client names)."""
    db = _therapist_db()
    try:
        rows = db.call(therapists.list_all)
    finally:
        db.close()
    if not rows:
        click.echo("No therapist accounts yet. `nudgebot therapist add NAME` creates one.")
    for row in rows:
        state = "revoked" if row.revoked else "registered" if row.registered else "code not used"
        click.echo(f"#{row.id:<4} {row.name:<40} {state:<14} {row.couples} linked couple(s)")


@therapist.command("revoke")
@click.argument("therapist_id", type=int)
def therapist_revoke(therapist_id: int) -> None:
    """Revoke an account: its links end and its schedules stop applying."""
    db = _therapist_db()
    try:
        done = db.call(therapists.revoke, therapist_id, utc_now())
    finally:
        db.close()
    if not done:
        _fail(f"no active therapist #{therapist_id}", code=1)
    click.echo(f"Therapist #{therapist_id} revoked.")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def stats(as_json: bool) -> None:
    """Print aggregate counts for the operator: no names, no words anyone wrote."""

    settings = _settings()
    upgrade(settings.database_url)
    db = Database(settings.database_url)
    try:
        figures = db.call(collect)
    finally:
        db.close()
    if as_json:
        click.echo(json.dumps(figures, indent=2, sort_keys=True))
        return
    for section, counts in figures.items():
        click.echo(section.replace("_", " "))
        for key, value in sorted(counts.items()):
            click.echo(f"  {key:<24} {value:>8}")


@main.command()
@click.argument("template")
@click.option(
    "--var",
    "variables",
    multiple=True,
    metavar="KEY=VALUE",
    help="Set a template variable (repeatable); overrides the sample data.",
)
@click.option(
    "--locale", default=REFERENCE_LANGUAGE, show_default=True, help="Language of the template."
)
def preview(template: str, variables: tuple[str, ...], locale: str) -> None:
    """Print a message TEMPLATE rendered with sample data.

    TEMPLATE is a name such as onboarding/welcome; run with `list` to see them all.
    """

    settings = _settings()
    renderer = Renderer(settings.templates_dir, settings.default_language)
    if template == "list":
        click.echo("\n".join(renderer.names(locale)))
        return
    values = sample_context(template)
    for item in variables:
        key, sep, value = item.partition("=")
        if not sep or not key.isidentifier():
            _fail(f"--var takes KEY=VALUE, got {item!r}")
        values[key] = value
    try:
        click.echo(renderer.render(template, locale, **values))
    except TemplateNotFound:
        _fail(f"no template named {template!r}; `nudgebot preview list` shows them")
    except TemplateError as exc:
        _fail(f"{template} needs more data: {exc}")


main.add_command(i18n)
main.add_command(check_group)
main.add_command(seed_command)
main.add_command(capacity_command)


if __name__ == "__main__":
    main()
