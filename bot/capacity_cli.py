"""`nudgebot capacity`: the busiest minutes of the next hours, and what would fix them.

Operator output, not a message to a person: it holds no user-facing wording.
"""

from __future__ import annotations

import json
import sys

import click

from bot.context import utc_now
from bot.settings import SettingsError, load_settings
from scheduler.capacity import BusyMinute, plan
from scheduler.schedules import rule_of
from storage import schedules as store
from storage.db import Database, upgrade

PAID_BROADCAST_RATE = 1000.0


@click.command("capacity")
@click.option("--hours", type=click.IntRange(1, 168), default=24, show_default=True)
@click.option("--most", type=click.IntRange(1, 1000), default=10, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per busy minute.")
def capacity_command(hours: int, most: int, as_json: bool) -> None:
    """Print the busiest minutes ahead: due, the limit, expected lateness and misses."""
    try:
        settings = load_settings()
    except SettingsError as exc:
        click.echo(f"nudgebot: {exc}", err=True)
        sys.exit(2)
    upgrade(settings.database_url)
    database = Database(settings.database_url)
    try:
        with database.session() as session:
            rules = [
                (rule_of(s), s.next_fire_at, settings.grace_seconds(s.kind))
                for s in store.active(session)
                if s.next_fire_at is not None
            ]
    finally:
        database.close()
    busy = plan(rules, utc_now(), settings.rate_limit_per_second, hours=hours, most=most)
    if as_json:
        for b in busy:
            click.echo(json.dumps(_as_dict(b)))
        return
    rate = settings.rate_limit_per_second
    click.echo(f"{len(rules)} schedules on; limit {rate:g} messages/s; next {hours} h (UTC)")
    if not busy:
        click.echo("No minute is due more than the limit can send: nobody waits.")
        return
    click.echo(f"{'minute':<17} {'due':>8} {'limit':>6} {'late':>9} {'misses':>7}  fix")
    for b in busy:
        fix = f"windows of {b.window_needed} min"
        if rate < PAID_BROADCAST_RATE:
            fix += f", or paid broadcasts (up to {PAID_BROADCAST_RATE:g}/s)"
        click.echo(
            f"{b.minute:%Y-%m-%d %H:%M} {b.due:>8} {b.limit:>6} "
            f"{max(0.0, b.late_seconds):>8.0f}s {b.misses:>7}  {fix}"
        )


def _as_dict(b: BusyMinute) -> dict[str, object]:
    return {
        "minute": b.minute.isoformat(),
        "due": b.due,
        "limit": b.limit,
        "late_seconds": round(max(0.0, b.late_seconds), 1),
        "misses": b.misses,
        "window_needed_minutes": b.window_needed,
    }
