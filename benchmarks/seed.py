"""Databases full of people due at one instant, made the way `nudgebot seed` makes them.

`seed_due` calls what the `nudgebot seed` command calls (`scheduler.seed.nightly_slots`
and `storage.seed.seed_people`), but with the due instant given rather than rounded up
up to a whole minute from now, so a burst can start at once (`this_minute()`, up to a
minute in the past, is inside the grace period and due immediately).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import text

from scheduler.seed import DEFAULT_ZONES, nightly_slots
from storage.db import Database, make_engine, upgrade
from storage.seed import SEED_USER_ID_BASE, seed_people

# Nudges go to chat ids from here up; people who ask for /help sit below it.
FIRST_CHAT_ID = 1_000_000
HELP_CHAT_ID = 900_000


def this_minute() -> dt.datetime:
    """The current whole minute (schedules fire on whole minutes): due now, at most 60 s ago."""
    return dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)


def fresh_database(workdir: Path, name: str = "bench.db") -> str:
    """A new SQLite database with every migration applied; returns its URL."""
    url = f"sqlite:///{workdir / name}"
    upgrade(url)
    return url


def seed_due(
    url: str,
    count: int,
    first_chat_id: int,
    due: dt.datetime,
    *,
    zones: tuple[str, ...] = DEFAULT_ZONES,
    window_minutes: int = 0,
) -> None:
    """`count` consenting people, chats `first_chat_id`.., each nightly prompt due at `due`."""
    db = Database(url)
    try:
        db.call(
            seed_people, count, first_chat_id, nightly_slots(due, zones), dt.datetime.now(dt.UTC)
        )
    finally:
        db.close()
    if window_minutes:
        set_windows(url, first_chat_id, count, window_minutes)


def set_windows(url: str, first_chat_id: int, count: int, minutes: int) -> None:
    """Give these people's schedules a delivery window of `minutes` (the seed gives 0)."""
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "UPDATE schedules SET window_minutes = :minutes WHERE person_id IN "
                    "(SELECT id FROM people WHERE chat_id BETWEEN :first AND :last)"
                ),
                {"minutes": minutes, "first": first_chat_id, "last": first_chat_id + count - 1},
            )
    finally:
        engine.dispose()


def help_user_id(chat_id: int) -> int:
    """The Telegram user id of the seeded person with this chat id (see `storage.seed`)."""
    return SEED_USER_ID_BASE + chat_id


def statuses(url: str, first_chat_id: int, count: int) -> dict[str, int]:
    """Delivery statuses of these people, counted."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT d.status, count(*) FROM deliveries d JOIN people p "
                    "ON p.id = d.person_id WHERE p.chat_id BETWEEN :first AND :last "
                    "GROUP BY d.status"
                ),
                {"first": first_chat_id, "last": first_chat_id + count - 1},
            ).all()
    finally:
        engine.dispose()
    return {str(status): int(n) for status, n in rows}


def delivery_rows(url: str, first_chat_id: int, count: int) -> list[tuple[int, str]]:
    """(chat id, status) of every delivery of these people."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT p.chat_id, d.status FROM deliveries d JOIN people p "
                    "ON p.id = d.person_id WHERE p.chat_id BETWEEN :first AND :last"
                ),
                {"first": first_chat_id, "last": first_chat_id + count - 1},
            ).all()
    finally:
        engine.dispose()
    return [(int(chat), str(status)) for chat, status in rows]


def open_work(url: str, now: dt.datetime) -> int:
    """Schedules due at `now` plus deliveries not yet final: 0 when a burst is done."""
    engine = make_engine(url)
    stamp = now.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    try:
        with engine.connect() as connection:
            due = connection.execute(
                text("SELECT count(*) FROM schedules WHERE next_fire_at <= :now"), {"now": stamp}
            ).scalar_one()
            pending = connection.execute(
                text(
                    "SELECT count(*) FROM deliveries "
                    "WHERE status IN ('claimed', 'queued', 'sending')"
                )
            ).scalar_one()
    finally:
        engine.dispose()
    return int(due) + int(pending)
