"""Retention: old delivery rows are purged in batches, and the weekly counts a therapist
sees stay exactly what they were (storage/retention.py, scheduler/retention.py).
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from bot.settings import Settings
from scheduler import schedules, therapy
from scheduler.retention import cutoff, purge_batch, purge_expired
from storage import couples, people, practice, therapists
from storage.db import Database
from storage.models import (
    NIGHTLY_APPRECIATION,
    PATH_FOR_ONE,
    TIMING_TIP,
    WEEKLY_CHECKIN,
    Delivery,
    Schedule,
    WeeklyCount,
)
from storage.retention import purge_deliveries, week_of
from tests.conftest import _emptied

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)  # a Monday
# Wednesday 21 October, 15:00: in the middle of a week, so one week is purged in part.
CUT = dt.datetime(2026, 10, 21, 15, 0, tzinfo=dt.UTC)
WEEKS = 12


@dataclass(frozen=True, slots=True)
class Couple:
    therapist_id: int
    couple_id: int
    maya: int
    jonas: int
    checkin_schedule: int


def _person(session: Session, uid: int, name: str, zone: str) -> int:
    person, _ = people.give_consent(session, uid, uid, name, "en", NOW)
    people.set_name(session, person.id, name)
    schedules.set_timezone(session, person.id, zone, NOW)
    return person.id


def _linked_couple(session: Session) -> Couple:
    """Maya and Jonas, paired, both agreeing to Dr Ruiz (who sets a shared check-in)."""
    maya = _person(session, 1001, "Maya", "Europe/Berlin")
    jonas = _person(session, 1002, "Jonas", "America/New_York")
    raw = couples.create_pairing_link(session, maya, NOW, dt.timedelta(days=7))
    assert couples.accept_link(session, raw, jonas, NOW).problem is None
    couple = couples.couple_of(session, maya)
    assert couple is not None
    therapist, code = therapists.add(session, "Dr Ana Ruiz", NOW)
    therapists.register(session, code, 5001, 5001, NOW)
    link = therapists.client_link(session, therapist.id, NOW)
    for person_id in (maya, jonas):
        therapy.agree(session, link, person_id, NOW)
    # Agreeing to the therapist set up the couple's shared check-in.
    checkin = session.scalars(
        select(Schedule).where(Schedule.couple_id == couple.id, Schedule.kind == WEEKLY_CHECKIN)
    ).one()
    return Couple(therapist.id, couple.id, maya, jonas, checkin.id)


def _delivery(
    person: int,
    kind: str,
    due: dt.datetime,
    status: str = "sent",
    response: str | None = None,
    schedule_id: int | None = None,
) -> Delivery:
    return Delivery(
        schedule_id=schedule_id,
        person_id=person,
        kind=kind,
        due_at=due,
        send_after=due,
        deadline=due + dt.timedelta(hours=1),
        status=status,
        attempts=1,
        claimed_at=due,
        sent_at=due if status == "sent" else None,
        response=response,
    )


# Both partners' answers to one check-in occurrence.
CHECKIN_ANSWERS = [
    ("done", "done"),
    ("done", None),
    (None, "done"),
    ("snoozed", None),
    ("skipped", "skipped"),
    (None, None),
]


def _history(session: Session, couple: Couple) -> None:
    """Eleven weeks of nudges of every outcome, inserted in a shuffled order.

    The order scatters the two rows of each check-in occurrence over the table, so small
    batches cut through occurrences.
    """
    rng = random.Random(20261123)
    rows: list[Delivery] = []
    first_day = NOW.date() - dt.timedelta(weeks=11)
    for offset in range((NOW.date() - first_day).days):
        day = first_day + dt.timedelta(days=offset)
        evening = dt.datetime.combine(day, dt.time(19, 30), dt.UTC)
        for person in (couple.maya, couple.jonas):
            status = rng.choice(["sent", "sent", "sent", "failed", "missed", "ambiguous"])
            response = rng.choice([None, None, "snoozed", "replied"])
            rows.append(_delivery(person, NIGHTLY_APPRECIATION, evening, status, response))
            if rng.random() < 0.3:
                rows.append(_delivery(person, TIMING_TIP, evening - dt.timedelta(hours=2)))
            if rng.random() < 0.2:
                rows.append(_delivery(person, PATH_FOR_ONE, evening, "sent", "snoozed"))
        if day.weekday() == 6:
            answers = CHECKIN_ANSWERS[offset // 7 % len(CHECKIN_ANSWERS)]
            for person, response in zip((couple.maya, couple.jonas), answers, strict=True):
                rows.append(
                    _delivery(
                        person,
                        WEEKLY_CHECKIN,
                        evening,
                        "sent",
                        response,
                        schedule_id=couple.checkin_schedule,
                    )
                )
    rng.shuffle(rows)
    session.add_all(rows)
    session.flush()


def _couple_with_history(session: Session) -> Couple:
    made = _linked_couple(session)
    _history(session, made)
    return made


@pytest.fixture
def couple(db: Database) -> Couple:
    return db.call(_couple_with_history)


def _figures(db: Database, couple: Couple) -> list[therapists.WeekCounts]:
    return db.call(therapists.adherence, couple.therapist_id, couple.couple_id, NOW, WEEKS)


def _count(db: Database, *where: object) -> int:
    def count(session: Session) -> int:
        return int(session.scalar(select(func.count(Delivery.id)).where(*where)) or 0)

    return db.call(count)


def _purge_all(db: Database, before: dt.datetime, batch: int) -> list[int]:
    sizes = []
    while deleted := db.call(purge_deliveries, before, batch):
        sizes.append(deleted)
    return sizes


def test_the_therapists_weekly_counts_are_the_same_after_a_purge(
    db: Database, couple: Couple
) -> None:
    before = _figures(db, couple)
    old = _count(db, Delivery.due_at < CUT)

    sizes = _purge_all(db, CUT, batch=7)

    after = _figures(db, couple)
    assert after == before
    assert sum(sizes) == old > 100
    assert _count(db, Delivery.due_at < CUT) == 0
    # The purge did something a therapist could see: those weeks now come from aggregates.
    assert sum(w.delivered for w in before[:6]) > 0
    assert db.call(lambda s: s.scalar(select(func.count(WeeklyCount.id)))) > 0


def _engagement(db: Database, couple: Couple) -> list[practice.ExportRow]:
    first = NOW.date() - dt.timedelta(weeks=WEEKS)
    return db.call(practice.engagement, couple.therapist_id, first, NOW.date())


def test_the_practice_overviews_engagement_counts_are_the_same_after_a_purge(
    db: Database, couple: Couple
) -> None:
    before = _engagement(db, couple)

    _purge_all(db, NOW, batch=13)

    assert _count(db) == 0
    assert _engagement(db, couple) == before
    # Every kind of answer was there to lose: answered, snoozed and no reply.
    assert all(
        sum(getattr(row, name) for row in before) > 0 for name in ("answered", "snoozed", "ignored")
    )


def test_counts_kept_before_engagement_was_kept_show_deliveries_and_snoozes_only(
    db: Database, couple: Couple
) -> None:
    monday = week_of(NOW - dt.timedelta(weeks=3))

    def old_row(session: Session) -> None:
        session.execute(text("DELETE FROM deliveries"))
        session.add(
            WeeklyCount(
                person_id=couple.maya,
                week_start=monday,
                kind=NIGHTLY_APPRECIATION,
                delivered=5,
                snoozed=2,
                checkins_done=0,
                answered=None,
                ignored=None,
            )
        )

    db.call(old_row)
    [row] = [
        r
        for r in _engagement(db, couple)
        if r.week_start == monday and r.kind == NIGHTLY_APPRECIATION
    ]
    assert (row.delivered, row.answered, row.snoozed, row.ignored) == (5, 0, 2, 0)


def test_a_purge_of_everything_keeps_every_weeks_counts(db: Database, couple: Couple) -> None:
    before = _figures(db, couple)

    _purge_all(db, NOW, batch=1000)

    assert _count(db) == 0
    assert _figures(db, couple) == before
    assert sum(w.checkins_done for w in before) >= 4


@pytest.mark.parametrize("schedule_kept", [True, False], ids=["schedule-kept", "schedule-gone"])
def test_a_check_in_done_by_both_still_counts_once_after_a_purge(
    db: Database, couple: Couple, schedule_kept: bool
) -> None:
    sunday = dt.datetime(2026, 11, 29, 19, tzinfo=dt.UTC) - dt.timedelta(weeks=12)
    # A deleted schedule leaves its deliveries with no schedule id (ON DELETE SET NULL).
    schedule_id = couple.checkin_schedule if schedule_kept else None

    def both_done(session: Session) -> None:
        for person in (couple.maya, couple.jonas):
            session.add(_delivery(person, WEEKLY_CHECKIN, sunday, "sent", "done", schedule_id))

    db.call(both_done)
    weeks = 13
    before = db.call(therapists.adherence, couple.therapist_id, couple.couple_id, NOW, weeks)
    assert before[0].week_start == week_of(sunday)
    assert before[0].checkins_done == 1

    _purge_all(db, sunday + dt.timedelta(seconds=1), batch=1)

    after = db.call(therapists.adherence, couple.therapist_id, couple.couple_id, NOW, weeks)
    assert after[0].checkins_done == 1
    assert after == before


def test_deliveries_in_flight_are_never_purged(db: Database, couple: Couple) -> None:
    old = NOW - dt.timedelta(days=200)

    def in_flight(session: Session) -> None:
        session.add(_delivery(couple.maya, NIGHTLY_APPRECIATION, old, "claimed"))
        session.add(_delivery(couple.jonas, NIGHTLY_APPRECIATION, old, "sending"))
        # One partner's copy of this check-in is still going out: the occurrence stays whole.
        session.add(
            _delivery(couple.maya, WEEKLY_CHECKIN, old, "sent", "done", couple.checkin_schedule)
        )
        session.add(
            _delivery(couple.jonas, WEEKLY_CHECKIN, old, "sending", None, couple.checkin_schedule)
        )

    db.call(in_flight)

    _purge_all(db, NOW, batch=3)

    left = db.call(
        lambda s: sorted(
            (r.kind, r.status) for r in s.scalars(select(Delivery).where(Delivery.due_at == old))
        )
    )
    assert left == [
        (NIGHTLY_APPRECIATION, "claimed"),
        (NIGHTLY_APPRECIATION, "sending"),
        (WEEKLY_CHECKIN, "sending"),
        (WEEKLY_CHECKIN, "sent"),
    ]
    assert _count(db) == 4


def test_only_deliveries_due_before_the_cut_off_go(db: Database, couple: Couple) -> None:
    young = _count(db, Delivery.due_at >= CUT)

    _purge_all(db, CUT, batch=50)

    assert _count(db) == young
    assert _count(db, Delivery.due_at >= CUT) == young


def test_it_deletes_at_most_one_batch_per_call(db: Database, couple: Couple) -> None:
    total = _count(db, Delivery.due_at < CUT)

    first = db.call(purge_deliveries, CUT, 10)

    # A check-in occurrence is completed by its partner's row, so a batch may run one over.
    assert 10 <= first <= 11
    assert _count(db, Delivery.due_at < CUT) == total - first


def test_a_person_who_erases_themselves_takes_their_weekly_counts_with_them(
    db: Database, couple: Couple
) -> None:
    _purge_all(db, NOW, batch=1000)

    def counts_of(session: Session, person_id: int) -> int:
        query = select(func.count(WeeklyCount.id)).where(WeeklyCount.person_id == person_id)
        return int(session.scalar(query) or 0)

    assert db.call(counts_of, couple.maya) > 0
    db.call(people.erase, couple.maya)
    assert db.call(counts_of, couple.maya) == 0
    assert db.call(counts_of, couple.jonas) > 0


def test_the_dispatchers_purge_keeps_the_retention_period(db: Database, couple: Couple) -> None:
    kept = _count(db, Delivery.due_at >= NOW - dt.timedelta(days=30))
    gone = _count(db, Delivery.due_at < NOW - dt.timedelta(days=30))
    before = _figures(db, couple)

    total = purge_expired(db.call, NOW, retention_days=30, batch=20)

    assert total == gone
    assert _count(db) == kept
    assert _figures(db, couple) == before


def test_the_dispatchers_purge_stops_after_its_batch_limit(db: Database, couple: Couple) -> None:
    total = purge_expired(db.call, NOW, retention_days=30, batch=5, max_batches=2)

    assert 10 <= total <= 12
    assert db.call(purge_batch, NOW, 30, 5) >= 5


def test_the_cut_off_is_the_retention_period_before_now() -> None:
    assert cutoff(NOW, 90) == dt.datetime(2026, 8, 25, 12, 0, tzinfo=dt.UTC)
    with pytest.raises(ValueError, match="retention_days"):
        cutoff(NOW, 0)
    with pytest.raises(ValueError, match="aware"):
        cutoff(NOW.replace(tzinfo=None), 90)


def test_retention_is_ninety_days_unless_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DELIVERY_RETENTION_DAYS", raising=False)
    assert Settings(_env_file=None).delivery_retention_days == 90  # type: ignore[call-arg]
    monkeypatch.setenv("DELIVERY_RETENTION_DAYS", "30")
    assert Settings(_env_file=None).delivery_retention_days == 30  # type: ignore[call-arg]


# --------------------------------------------------------------------------- #
# Several purgers at once (PostgreSQL: SKIP LOCKED)
# --------------------------------------------------------------------------- #


@pytest.fixture
def postgres_db(postgres_server: str | None) -> Iterator[Database]:
    if postgres_server is None:
        pytest.skip("PostgreSQL unavailable (NUDGEBOT_ALLOW_NO_POSTGRES=1)")
    database = Database(_emptied(postgres_server))
    yield database
    database.close()


def test_two_purgers_at_once_take_different_rows_and_keep_the_counts(
    postgres_db: Database,
) -> None:
    db = postgres_db
    couple = db.call(_couple_with_history)
    before = _figures(db, couple)
    old = _count(db, Delivery.due_at < CUT)

    with db.session() as first:
        taken_first = purge_deliveries(first, CUT, 25)
        # The first transaction still holds its rows: the second skips them rather than
        # waiting (had it waited, it would find them gone and purge far fewer than 25). It
        # may wait for the first only where both add to the same weekly count.
        with ThreadPoolExecutor(max_workers=1) as pool:
            second = pool.submit(db.call, purge_deliveries, CUT, 25)
            time.sleep(0.5)
            first.commit()
            taken_second = second.result(timeout=30)
    rest = sum(_purge_all(db, CUT, batch=25))

    assert taken_first >= 25 and taken_second >= 25
    assert taken_first + taken_second + rest == old
    assert _figures(db, couple) == before


def test_a_second_purger_skips_rows_the_first_holds_instead_of_waiting(
    postgres_db: Database,
) -> None:
    db = postgres_db
    couple = db.call(_linked_couple)
    old = NOW - dt.timedelta(days=200)

    def uncounted(session: Session) -> None:
        # Path-for-one nudges count for no therapist figure: the purgers share no count row.
        for minute in range(60):
            due = old + dt.timedelta(minutes=minute)
            session.add(_delivery(couple.maya, PATH_FOR_ONE, due, "sent", "snoozed"))

    db.call(uncounted)

    with db.session() as first, db.session() as second:
        taken_first = purge_deliveries(first, NOW, 25)
        # Waiting for the first would raise here instead of hanging the test.
        second.execute(text("SET LOCAL lock_timeout = '2s'"))
        taken_second = purge_deliveries(second, NOW, 25)

    assert (taken_first, taken_second) == (25, 25)
    assert _count(db) == 10
