"""A small world for the trust tests, built through the domain functions only.

Ana (Berlin) and Ben (New York) are paired; Dr. Lee is a registered therapist.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from scheduler import therapy
from scheduler.schedules import set_timezone
from storage import Session, couples, people, therapists
from storage.db import Database

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)


@dataclass
class World:
    db: Database
    ana: int
    ben: int
    couple: int
    therapist: int
    link_code: str


def person(session: Session, telegram_id: int, name: str, zone: str, now: dt.datetime) -> int:
    found, _ = people.give_consent(session, telegram_id, telegram_id, name, "en", now)
    people.set_name(session, found.id, name)
    set_timezone(session, found.id, zone, now)
    return found.id


def build(db: Database, now: dt.datetime = NOW) -> World:
    def make(session: Session) -> World:
        ana = person(session, 101, "Ana", "Europe/Berlin", now)
        ben = person(session, 102, "Ben", "America/New_York", now)
        raw = couples.create_pairing_link(session, ana, now, dt.timedelta(days=7))
        couples.accept_link(session, raw, ben, now)
        couple = couples.couple_of(session, ana)
        assert couple is not None
        doc, code = therapists.add(session, "Dr. Lee", now)
        therapists.register(session, code, 9001, 9001, now)
        link_code = therapists.client_link(session, doc.id, now)
        return World(db, ana, ben, couple.id, doc.id, link_code)

    return db.call(make)


def agree(world: World, person_id: int, now: dt.datetime = NOW) -> None:
    world.db.call(therapy.agree, world.link_code, person_id, now)


def linked(db: Database, now: dt.datetime = NOW) -> World:
    world = build(db, now)
    agree(world, world.ana, now)
    agree(world, world.ben, now)
    return world
