"""A crowded instant is claimed in a different order every night."""

from __future__ import annotations

import datetime as dt
import itertools

from scheduler import claims, schedules
from scheduler.claims import Slotter
from scheduler.rules import EVERY_DAY
from storage import people
from storage.db import Database
from storage.models import NIGHTLY_APPRECIATION, Delivery

PEOPLE = 200
BATCH = 100  # half of the crowd per claim batch: the "capacity" of the first batch
FIRST = dt.datetime(2026, 12, 1, 21, 0, tzinfo=dt.UTC)


def _crowd(db: Database) -> None:
    with db.session() as session:
        for uid in range(1, PEOPLE + 1):
            person, _ = people.give_consent(session, uid, uid, f"P{uid}", "en", FIRST)
            schedules.set_timezone(session, person.id, "UTC", FIRST - dt.timedelta(days=1))
            schedules.set_schedule(
                session,
                person.id,
                NIGHTLY_APPRECIATION,
                dt.time(21, 0),
                EVERY_DAY,
                FIRST - dt.timedelta(days=1),
            )


def _first_batch(db: Database, night: dt.datetime) -> set[int]:
    """The people claimed in the first batch at `night`; the rest are claimed after."""
    slotter = Slotter(0)
    with db.session() as session:
        before = {d.id for d in session.query(Delivery)}
        claims.claim_due(session, night, limit=BATCH, grace=lambda _: 3600, slotter=slotter)
        first = {d.person_id for d in session.query(Delivery) if d.id not in before}
        while claims.claim_due(
            session, night, limit=BATCH, grace=lambda _: 3600, slotter=slotter
        ).schedules:
            pass
    return first


def test_the_people_claimed_last_change_from_night_to_night(db: Database) -> None:
    _crowd(db)
    _first_batch(db, FIRST)  # the first night follows creation order; turns start here
    everyone = set(range(1, PEOPLE + 1))
    last = [everyone - _first_batch(db, FIRST + dt.timedelta(days=n)) for n in (1, 2, 3)]
    for tonight, tomorrow in itertools.pairwise(last):
        assert tonight != tomorrow
        # Without a rotation the same 100 would be last every night.
        assert len(tonight & tomorrow) < PEOPLE // 4
