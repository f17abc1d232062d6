"""Synthetic people for load tests (`nudgebot seed`): fast bulk inserts, easy to find again.

A seeded person is marked by their Telegram user id: `SEED_USER_ID_BASE + chat_id`.
Telegram user ids have at most 52 significant bits, so no real person ever has one at or
above 2**62; everything below it is a real person. Seeded people consented (their
`consented_at` is the moment of seeding), have a name ("Seed 1", ...), a zone, and one
nightly appreciation schedule; nothing else.

People go in with Core `INSERT`s, a few thousand rows a round, never as ORM objects one by
one; their schedules follow with one `INSERT ... SELECT` a zone. 100,000 people take
seconds, not minutes (docs/benchmarks.md).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Table, func, insert, literal, select
from sqlalchemy.orm import Session

from storage.models import NIGHTLY_APPRECIATION, Base, Person

SEED_USER_ID_BASE = 2**62
# Telegram's user ids (and so private chat ids) fit in 52 bits.
MAX_CHAT_ID = 2**52 - 1
SEED_NAME = "Seed {number}"
DEFAULT_BATCH = 5000
EVERY_DAY_MASK = 127


class SeedError(Exception):
    """The seed cannot go ahead; the message says why in one line."""


class RealPeopleFound(SeedError):
    """The database holds real people and the caller did not force the seed."""

    def __init__(self, count: int) -> None:
        super().__init__(
            f"the database holds {count} real {'person' if count == 1 else 'people'}; "
            "seed an empty (or seed-only) database, or pass --force"
        )
        self.count = count


class ChatIdsTaken(SeedError):
    """Someone already has one of the chat ids asked for."""

    def __init__(self, count: int, first: int, last: int) -> None:
        super().__init__(
            f"{count} {'person already has' if count == 1 else 'people already have'} "
            f"a chat id in {first}..{last}; "
            "choose another --first-chat-id"
        )
        self.count = count


@dataclass(frozen=True, slots=True)
class ZoneSlot:
    """One zone's nightly schedule: its local time and the UTC instant it next fires."""

    zone: str
    local_time: dt.time
    next_fire_at: dt.datetime


def is_seeded(telegram_user_id: int) -> bool:
    """Whether a person with this Telegram user id was made by the seed."""
    return telegram_user_id >= SEED_USER_ID_BASE


def real_people(session: Session) -> int:
    """How many people were not made by the seed."""
    query = select(func.count(Person.id)).where(Person.telegram_user_id < SEED_USER_ID_BASE)
    return int(session.scalar(query) or 0)


def seeded_people(session: Session) -> int:
    """How many people the seed made."""
    query = select(func.count(Person.id)).where(Person.telegram_user_id >= SEED_USER_ID_BASE)
    return int(session.scalar(query) or 0)


def seed_people(
    session: Session,
    count: int,
    first_chat_id: int,
    slots: Sequence[ZoneSlot],
    now: dt.datetime,
    *,
    force: bool = False,
    batch: int = DEFAULT_BATCH,
) -> int:
    """Insert `count` consenting people with chat ids from `first_chat_id`; return how many.

    Person i (from 0) gets `slots[i % len(slots)]`: its zone and nightly schedule. Refuses
    (`RealPeopleFound`) a database with real people unless `force`, and always refuses
    chat ids someone already has (`ChatIdsTaken`). Everything happens in the caller's one
    transaction, so a refused or failed seed leaves nothing behind.
    """
    last_chat_id = first_chat_id + count - 1
    if count < 1 or batch < 1:
        raise ValueError("count and batch must be at least 1")
    if not slots:
        raise ValueError("at least one zone is needed")
    if first_chat_id < 1 or last_chat_id > MAX_CHAT_ID:
        raise ValueError(f"chat ids must lie in 1..{MAX_CHAT_ID}")
    if not force and (found := real_people(session)):
        raise RealPeopleFound(found)
    taken = session.scalar(
        select(func.count(Person.id)).where(
            (Person.chat_id.between(first_chat_id, last_chat_id))
            | Person.telegram_user_id.between(
                SEED_USER_ID_BASE + first_chat_id, SEED_USER_ID_BASE + last_chat_id
            )
        )
    )
    if taken:
        raise ChatIdsTaken(int(taken), first_chat_id, last_chat_id)
    people: Table = Base.metadata.tables["people"]
    schedules: Table = Base.metadata.tables["schedules"]
    connection = session.connection()
    for start in range(0, count, batch):
        connection.execute(
            insert(people),
            [
                {
                    "telegram_user_id": SEED_USER_ID_BASE + first_chat_id + i,
                    "chat_id": first_chat_id + i,
                    "display_name": SEED_NAME.format(number=i + 1),
                    "timezone": slots[i % len(slots)].zone,
                    "language": "en",
                    "consented_at": now,
                    "created_at": now,
                }
                for i in range(start, min(start + batch, count))
            ],
        )
    # The schedules straight from the new rows, one statement a zone: no row passes
    # through Python twice.
    seeded = people.c.telegram_user_id.between(
        SEED_USER_ID_BASE + first_chat_id, SEED_USER_ID_BASE + last_chat_id
    )
    columns = [
        "person_id",
        "kind",
        "local_time",
        "weekdays",
        "window_minutes",
        "zone",
        "next_fire_at",
        "set_by",
        "created_at",
        "updated_at",
    ]
    for slot in slots:
        rows = select(
            people.c.id,
            literal(NIGHTLY_APPRECIATION, schedules.c.kind.type),
            literal(slot.local_time, schedules.c.local_time.type),
            literal(EVERY_DAY_MASK, schedules.c.weekdays.type),
            literal(0, schedules.c.window_minutes.type),
            people.c.timezone,
            literal(slot.next_fire_at, schedules.c.next_fire_at.type),
            literal("person", schedules.c.set_by.type),
            literal(now, schedules.c.created_at.type),
            literal(now, schedules.c.updated_at.type),
        ).where(seeded, people.c.timezone == slot.zone)
        connection.execute(insert(schedules).from_select(columns, rows))
    return count
