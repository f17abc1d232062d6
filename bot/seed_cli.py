"""`nudgebot seed`: synthetic consenting people whose nightly prompt is due soon.

For load tests of the delivery engine: N people with chat ids K, K+1, ..., spread over
some zones, each with a nightly appreciation prompt due MINUTES from now in their own
zone. Seeded people are found again by their Telegram user id (see `storage.seed`); a
database holding real people is refused unless --force.

Operator output, not a message to a person: it holds no user-facing wording.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from typing import NoReturn

import click

from bot.settings import SettingsError, load_settings
from scheduler.seed import DEFAULT_ZONES, MAX_MINUTES, due_at, nightly_slots, parse_zones
from storage import seed as store
from storage.db import Database, upgrade


def _fail(message: str, code: int = 1) -> NoReturn:
    click.echo(f"nudgebot: {message}", err=True)
    sys.exit(code)


@click.command("seed")
@click.option(
    "--people",
    "count",
    type=click.IntRange(1, 10_000_000),
    required=True,
    help="How many people to create.",
)
@click.option(
    "--first-chat-id",
    type=click.IntRange(1, store.MAX_CHAT_ID),
    required=True,
    help="The first chat id; the others follow it one by one.",
)
@click.option(
    "--nightly-in",
    "minutes",
    type=click.IntRange(0, MAX_MINUTES),
    required=True,
    help="Minutes from now (rounded up to the minute) until everyone's nightly prompt.",
)
@click.option(
    "--zones",
    default=",".join(DEFAULT_ZONES),
    show_default=True,
    help="Comma-separated IANA zones, given to the people in turn.",
)
@click.option("--force", is_flag=True, help="Seed even a database that holds real people.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def seed_command(
    count: int, first_chat_id: int, minutes: int, zones: str, force: bool, as_json: bool
) -> None:
    """Create synthetic people whose nightly prompt is due MINUTES from now."""
    try:
        settings = load_settings()
    except SettingsError as exc:
        _fail(str(exc), code=2)
    try:
        zone_list = parse_zones(zones)
    except ValueError as exc:
        _fail(f"--zones: {exc}", code=2)
    if first_chat_id + count - 1 > store.MAX_CHAT_ID:
        _fail(f"--first-chat-id: chat ids must stay below {store.MAX_CHAT_ID + 1}", code=2)
    upgrade(settings.database_url)
    db = Database(settings.database_url)
    started = time.perf_counter()
    now = dt.datetime.now(dt.UTC)
    due = due_at(now, minutes)
    try:
        created = db.call(
            store.seed_people, count, first_chat_id, nightly_slots(due, zone_list), now, force=force
        )
    except store.SeedError as exc:
        _fail(str(exc))
    finally:
        db.close()
    seconds = time.perf_counter() - started
    last_chat_id = first_chat_id + created - 1
    due_text = due.isoformat().replace("+00:00", "Z")
    if as_json:
        report = {
            "people": created,
            "first_chat_id": first_chat_id,
            "last_chat_id": last_chat_id,
            "due_at": due_text,
            "zones": list(zone_list),
            "seconds": round(seconds, 3),
        }
        click.echo(json.dumps(report))
        return
    click.echo(
        f"Seeded {created} people, chat ids {first_chat_id}..{last_chat_id}, in "
        f"{', '.join(zone_list)}; nightly prompts due at {due_text} ({seconds:.1f} s)."
    )
