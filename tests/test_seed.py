"""`nudgebot seed`: synthetic people for load tests (bot/seed_cli.py, scheduler/seed.py,
storage/seed.py), on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest
import time_machine
from click.testing import CliRunner, Result
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.cli import main
from scheduler.claims import Slotter, claim_due
from scheduler.rules import next_fire_at
from scheduler.schedules import rule_of
from scheduler.seed import due_at, nightly_slots
from storage import people
from storage.db import Database
from storage.models import NIGHTLY_APPRECIATION, Person, Schedule
from storage.seed import SEED_USER_ID_BASE, is_seeded, real_people, seeded_people

# Monday 23 November 2026, 12:00:20 UTC: 20 seconds past the minute, so rounding shows.
NOW = dt.datetime(2026, 11, 23, 12, 0, 20, tzinfo=dt.UTC)
DUE = dt.datetime(2026, 11, 23, 12, 31, tzinfo=dt.UTC)
# Whole hours, a half-hour zone (+05:30) and one whose daylight saving moves half an hour.
ZONES = ("Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe")
LOCAL = {
    "Europe/Berlin": dt.time(13, 31),
    "America/New_York": dt.time(7, 31),
    "Asia/Kolkata": dt.time(18, 1),
    "Australia/Lord_Howe": dt.time(23, 31),
}


def _seed(db: Database, *args: str) -> Result:
    with time_machine.travel(NOW, tick=False):
        return CliRunner().invoke(main, ["seed", *args], env={"DATABASE_URL": db.url})


def _seeded(session: Session) -> list[tuple[Person, Schedule]]:
    rows = session.execute(
        select(Person, Schedule)
        .join(Schedule, Schedule.person_id == Person.id)
        .where(Person.telegram_user_id >= SEED_USER_ID_BASE)
        .order_by(Person.chat_id)
    ).all()
    return [(person, schedule) for person, schedule in rows]


def test_seeded_people_are_due_minutes_from_now_in_each_of_their_zones(db: Database) -> None:
    result = _seed(
        db, "--people", "10", "--first-chat-id", "700000", "--nightly-in", "30",
        "--zones", ",".join(ZONES), "--json",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    rows = db.call(_seeded)
    assert [person.chat_id for person, _ in rows] == list(range(700000, 700010))
    for number, (person, schedule) in enumerate(rows):
        zone = ZONES[number % len(ZONES)]
        assert person.display_name == f"Seed {number + 1}"
        assert (person.timezone, schedule.zone) == (zone, zone)
        assert person.consented_at == NOW
        assert is_seeded(person.telegram_user_id)
        assert schedule.kind == NIGHTLY_APPRECIATION
        assert schedule.next_fire_at == DUE
        assert schedule.local_time == LOCAL[zone]
        assert DUE.astimezone(ZoneInfo(zone)).time() == LOCAL[zone]
        # The rule itself agrees, so the dispatcher carries on from the same instant.
        assert next_fire_at(rule_of(schedule), NOW) == DUE
        assert schedule.weekdays == 127 and schedule.window_minutes == 0


def test_the_dispatcher_claims_every_seeded_nudge_at_that_minute_and_not_before(
    db: Database,
) -> None:
    _seed(
        db, "--people", "8", "--first-chat-id", "3000", "--nightly-in", "30",
        "--zones", ",".join(ZONES),
    )  # fmt: skip

    def claim(session: Session, now: dt.datetime) -> int:
        report = claim_due(session, now, limit=100, grace=lambda _: 3600.0, slotter=Slotter(0))
        return report.claimed

    assert db.call(claim, DUE - dt.timedelta(seconds=1)) == 0
    assert db.call(claim, DUE) == 8
    next_times = {s.next_fire_at for _, s in db.call(_seeded)}
    assert next_times == {DUE + dt.timedelta(days=1)}


def test_the_json_report_says_who_was_made_and_when_they_are_due(db: Database) -> None:
    result = _seed(
        db, "--people", "7", "--first-chat-id", "5000", "--nightly-in", "30",
        "--zones", "Asia/Kolkata, UTC", "--json",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    seconds = report.pop("seconds")
    assert isinstance(seconds, float) and seconds >= 0
    assert report == {
        "people": 7,
        "first_chat_id": 5000,
        "last_chat_id": 5006,
        "due_at": "2026-11-23T12:31:00Z",
        "zones": ["Asia/Kolkata", "UTC"],
    }
    assert len(result.output.strip().splitlines()) == 1


def test_without_json_it_prints_one_line_for_the_operator(db: Database) -> None:
    result = _seed(db, "--people", "3", "--first-chat-id", "42", "--nightly-in", "0")

    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert "3 people" in lines[0] and "42..44" in lines[0]
    assert "2026-11-23T12:01:00Z" in lines[0]
    assert db.call(seeded_people) == 3


def test_it_refuses_a_database_that_holds_real_people(db: Database) -> None:
    db.call(people.give_consent, 123456789, 123456789, "Maya", "en", NOW)

    result = _seed(db, "--people", "5", "--first-chat-id", "900", "--nightly-in", "5")

    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "nudgebot: the database holds 1 real person; seed an empty (or seed-only) database, "
        "or pass --force"
    ]
    assert db.call(seeded_people) == 0


def test_with_force_it_seeds_beside_real_people_and_leaves_them_alone(db: Database) -> None:
    maya, _ = db.call(people.give_consent, 123456789, 123456789, "Maya", "en", NOW)

    result = _seed(db, "--people", "5", "--first-chat-id", "900", "--nightly-in", "5", "--force")

    assert result.exit_code == 0, result.output
    assert (db.call(real_people), db.call(seeded_people)) == (1, 5)
    still = db.call(people.find, 123456789)
    assert still is not None and (still.id, still.display_name) == (maya.id, "Maya")


def test_even_with_force_it_never_takes_a_real_persons_chat_id(db: Database) -> None:
    db.call(people.give_consent, 902, 902, "Maya", "en", NOW)

    result = _seed(db, "--people", "5", "--first-chat-id", "900", "--nightly-in", "5", "--force")

    assert result.exit_code == 1
    assert "1 person already has a chat id in 900..904" in result.output
    assert db.call(seeded_people) == 0


def test_a_seed_only_database_takes_another_seed_but_never_the_same_chat_ids(
    db: Database,
) -> None:
    first = _seed(db, "--people", "5", "--first-chat-id", "100", "--nightly-in", "5")
    second = _seed(db, "--people", "5", "--first-chat-id", "105", "--nightly-in", "5")
    overlapping = _seed(db, "--people", "5", "--first-chat-id", "103", "--nightly-in", "5")

    assert (first.exit_code, second.exit_code) == (0, 0)
    assert overlapping.exit_code == 1
    assert overlapping.output.strip() == (
        "nudgebot: 5 people already have a chat id in 103..107; choose another --first-chat-id"
    )
    assert [p.chat_id for p, _ in db.call(_seeded)] == list(range(100, 110))


def test_an_unknown_zone_stops_it_with_one_line(db: Database) -> None:
    result = _seed(
        db, "--people", "5", "--first-chat-id", "1", "--nightly-in", "5",
        "--zones", "Europe/Berlin,Mars/Olympus",
    )  # fmt: skip

    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1
    assert "Mars/Olympus" in result.output
    assert db.call(seeded_people) == 0


@pytest.mark.parametrize(
    ("now", "minutes", "due"),
    [
        (dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC), 0, dt.datetime(2026, 11, 23, 12, 0)),
        (dt.datetime(2026, 11, 23, 12, 0, 0, 1, dt.UTC), 5, dt.datetime(2026, 11, 23, 12, 6)),
        (dt.datetime(2026, 11, 23, 23, 59, 59, tzinfo=dt.UTC), 1, dt.datetime(2026, 11, 24, 0, 1)),
    ],
    ids=["on-the-minute", "a-microsecond-past", "over-midnight"],
)
def test_the_due_time_is_rounded_up_to_the_whole_minute(
    now: dt.datetime, minutes: int, due: dt.datetime
) -> None:
    assert due_at(now, minutes) == due.replace(tzinfo=dt.UTC)


def test_a_due_time_on_a_spring_forward_day_is_still_met_in_every_zone() -> None:
    # 01:30 UTC on 29 March 2026: Berlin has just jumped to 03:30 CEST.
    due = dt.datetime(2026, 3, 29, 1, 30, tzinfo=dt.UTC)
    zones = ("Europe/Berlin", "Asia/Kolkata", "Australia/Lord_Howe", "America/St_Johns")

    slots = nightly_slots(due, zones)

    assert [slot.next_fire_at for slot in slots] == [due] * len(zones)
    assert [slot.local_time for slot in slots] == [
        dt.time(3, 30),
        dt.time(7, 0),
        dt.time(12, 30),
        dt.time(23, 0),
    ]
