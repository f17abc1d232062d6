"""A crowded instant is claimed in a different order every night."""

from __future__ import annotations

import datetime as dt
import itertools

from scheduler import claims, schedules
from scheduler.claims import Slotter
from scheduler.rules import EVERY_DAY
from scheduler.slots import SAFETY_MARGIN, behind_of
from storage import people
from storage.db import Database
from storage.models import NIGHTLY_APPRECIATION, Delivery, Schedule

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


RATE = 2.0  # per second: a one-minute window holds `CAPACITY` nudges
CAPACITY = int(RATE * SAFETY_MARGIN * 60) + 1
SMALL_BATCH = 50  # the crowd is claimed in many batches, as in production


def _one_minute_windows(db: Database, count: int) -> None:
    with db.session() as session:
        for uid in range(1, count + 1):
            person, _ = people.give_consent(session, uid, uid, f"P{uid}", "en", FIRST)
            schedules.set_timezone(session, person.id, "UTC", FIRST - dt.timedelta(days=1))
            schedules.set_schedule(
                session,
                person.id,
                NIGHTLY_APPRECIATION,
                dt.time(21, 0),
                EVERY_DAY,
                FIRST - dt.timedelta(days=1),
                window_minutes=1,
            )


def _missed_on(db: Database, night: dt.datetime, slotter: Slotter) -> set[int]:
    """Claim the crowd due at `night` in small batches; who got a slot past their window."""
    with db.session() as session:
        while claims.claim_due(
            session, night, limit=SMALL_BATCH, grace=lambda _: 0.0, slotter=slotter
        ).schedules:
            pass
    with db.session() as session:
        return {
            d.person_id
            for d in session.query(Delivery).filter(Delivery.due_at == night)
            if d.send_after > d.deadline
        }


def test_at_half_capacity_nobody_misses_two_nights_in_a_row_across_claim_batches(
    db: Database,
) -> None:
    _one_minute_windows(db, 2 * CAPACITY)
    first = _missed_on(db, FIRST, Slotter(RATE, 1.0))
    second = _missed_on(db, FIRST + dt.timedelta(days=1), Slotter(RATE, 1.0))
    assert len(first) >= CAPACITY - 1 and len(second) >= CAPACITY - 1  # really overloaded
    assert first & second == set()


def test_a_nudge_that_missed_when_taken_puts_its_schedule_first_next_night(db: Database) -> None:
    _one_minute_windows(db, 3)
    slotter = Slotter(RATE, 1.0)
    with db.session() as session:
        claims.claim_due(session, FIRST, limit=10, grace=lambda _: 0.0, slotter=slotter)
    with db.session() as session:
        # Everyone was given a slot in time, but the machine only got to them too late.
        assert all(s.turn >= 0 for s in session.query(Schedule))
        late = FIRST + dt.timedelta(minutes=5)
        assert claims.take_ready(session, late, limit=10).missed == 3
    with db.session() as session:
        assert all(behind_of(s.turn) == 1 for s in session.query(Schedule))
