"""Many processes on one database: what each takes is its own, the dead are settled once,
one process polls, an update is handled once, and the send budget is shared.

These run on SQLite and PostgreSQL (the `db` fixture); the concurrency tests take real
threads against PostgreSQL, where several processes are supported.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, update
from telegram.error import NetworkError

from bot.send_errors import PollingRequest
from scheduler import claims
from scheduler.rules import EVERY_DAY
from scheduler.schedules import set_schedule, set_timezone
from scheduler.workers import WorkerLife
from storage import outcomes, people, workers
from storage.db import Database, OnlyOneProcess
from storage.deliveries import AMBIGUOUS, CLAIMED, QUEUED, SENDING
from storage.models import Delivery, Worker
from tests.conftest import _emptied

NOW = dt.datetime(2026, 12, 2, 21, 0, tzinfo=dt.UTC)


def _deliveries(db: Database, count: int) -> list[int]:
    """`count` claimed deliveries, due now, one person each."""
    ids = []
    for i in range(count):
        person, _ = db.call(people.give_consent, 7000 + i, 7000 + i, f"W{i}", "en", NOW)
        db.call(set_timezone, person.id, "UTC", NOW)
        db.call(set_schedule, person.id, "nightly_appreciation", dt.time(21, 0), EVERY_DAY, NOW)
        with db.session() as session:
            delivery = Delivery(
                schedule_id=None,
                person_id=person.id,
                kind="nightly_appreciation",
                due_at=NOW,
                send_after=NOW,
                deadline=NOW + dt.timedelta(hours=1),
                status=CLAIMED,
                attempts=0,
                claimed_at=NOW,
            )
            session.add(delivery)
            session.flush()
            ids.append(delivery.id)
    return ids


def _status(db: Database, delivery_id: int) -> tuple[str, int | None]:
    with db.session() as session:
        row = session.get(Delivery, delivery_id)
        assert row is not None
        return row.status, row.worker_id


def test_what_a_worker_takes_is_its_own(db: Database) -> None:
    [first] = _deliveries(db, 1)
    a = db.call(workers.register, "host:1", "all", NOW)
    b = db.call(workers.register, "host:2", "all", NOW)
    taken = db.call(claims.take_ready, NOW, limit=10, worker_id=a)
    assert [r.delivery_id for r in taken.ready] == [first]
    assert _status(db, first) == (QUEUED, a)
    # Nobody else takes it again, and nobody else may send it.
    assert db.call(claims.take_ready, NOW, limit=10, worker_id=b).ready == []
    assert db.call(outcomes.mark_leaving, [first], NOW, None, b) == set()
    assert db.call(outcomes.mark_leaving, [first], NOW, None, a) == {first}
    assert _status(db, first) == (SENDING, a)


def test_a_living_worker_is_left_alone_and_a_dead_one_is_settled(db: Database) -> None:
    queued, sending = _deliveries(db, 2)
    a = db.call(workers.register, "host:1", "all", NOW)
    db.call(claims.take_ready, NOW, limit=10, worker_id=a)
    db.call(outcomes.mark_leaving, [sending], NOW, None, a)
    # Within its lease, another process's recovery leaves its rows alone.
    later = NOW + workers.LEASE - dt.timedelta(seconds=1)
    assert db.call(workers.recover_dead, later) == workers.Recovered(0, 0)
    assert _status(db, queued) == (QUEUED, a)
    # Its heartbeat stopped: past the lease, queued goes back, sending is ambiguous.
    dead = NOW + workers.LEASE + dt.timedelta(seconds=1)
    assert db.call(workers.recover_dead, dead) == workers.Recovered(1, 1)
    assert _status(db, queued) == (CLAIMED, None)
    assert _status(db, sending) == (AMBIGUOUS, None)
    # A late heartbeat cannot bring it back to life; it learns it must stop taking work.
    assert db.call(workers.heartbeat, a, dead) is True  # not stopped: renewed ...
    db.call(workers.stop, a, dead)
    assert db.call(workers.heartbeat, a, dead) is False  # ... but a stopped one never is


def test_a_clean_stop_is_settled_at_once(db: Database) -> None:
    [row] = _deliveries(db, 1)
    a = db.call(workers.register, "host:1", "all", NOW)
    db.call(claims.take_ready, NOW, limit=10, worker_id=a)
    db.call(workers.stop, a, NOW)
    assert db.call(workers.recover_dead, NOW) == workers.Recovered(1, 0)
    assert _status(db, row) == (CLAIMED, None)


def test_alone_every_other_worker_is_dead(db: Database) -> None:
    [row] = _deliveries(db, 1)
    old = db.call(workers.register, "host:1", "all", NOW)
    db.call(claims.take_ready, NOW, limit=10, worker_id=old)
    db.call(outcomes.mark_leaving, [row], NOW, None, old)
    me = db.call(workers.register, "host:2", "all", NOW)
    # SQLite: one process at a time, so the previous one is dead, heartbeat or not.
    assert db.call(workers.recover_dead, NOW, alone=me) == workers.Recovered(0, 1)
    assert _status(db, row) == (AMBIGUOUS, None)


def test_one_worker_holds_the_polling_lease_until_it_dies(db: Database) -> None:
    a = db.call(workers.register, "host:1", "all", NOW)
    b = db.call(workers.register, "host:2", "all", NOW)
    assert db.call(workers.hold_lease, workers.POLLING, a, NOW)
    assert not db.call(workers.hold_lease, workers.POLLING, b, NOW)
    soon = NOW + workers.HEARTBEAT
    db.call(workers.heartbeat, a, soon)
    assert db.call(workers.hold_lease, workers.POLLING, a, soon)  # renewed
    assert not db.call(workers.hold_lease, workers.POLLING, b, soon)
    assert db.call(workers.lease_holder, workers.POLLING, soon) == a
    # a stops renewing; its lease runs out and b takes over; a cannot take it back.
    later = soon + workers.LEASE + dt.timedelta(seconds=1)
    db.call(workers.heartbeat, b, later)
    assert db.call(workers.hold_lease, workers.POLLING, b, later)
    assert not db.call(workers.hold_lease, workers.POLLING, a, later)
    # A clean stop hands it over at once.
    db.call(workers.stop, b, later)
    db.call(workers.heartbeat, a, later)
    assert db.call(workers.hold_lease, workers.POLLING, a, later)


def test_a_dead_workers_lease_is_taken_before_it_expires(db: Database) -> None:
    a = db.call(workers.register, "host:1", "all", NOW)
    b = db.call(workers.register, "host:2", "all", NOW)
    assert db.call(workers.hold_lease, workers.POLLING, a, NOW)
    with db.session() as session:  # a was declared dead (stopped) by an operator
        session.execute(update(Worker).where(Worker.id == a).values(stopped_at=NOW))
    assert db.call(workers.hold_lease, workers.POLLING, b, NOW)


def test_an_update_is_handled_once(db: Database) -> None:
    assert not db.call(workers.handled, 123)
    db.call(workers.finish_update, 123, NOW)
    assert db.call(workers.handled, 123)
    db.call(workers.finish_update, 123, NOW)  # a second copy finishing changes nothing
    assert not db.call(workers.handled, 124)
    # Forgotten only long after Telegram could have sent it again.
    db.call(workers.forget_old, NOW + workers.FORGET_AFTER + dt.timedelta(seconds=1))
    assert not db.call(workers.handled, 123)


def test_an_update_a_dead_poller_took_is_finished_by_the_next(db: Database) -> None:
    a = db.call(workers.register, "host:1", "all", NOW)
    b = db.call(workers.register, "host:2", "all", NOW)
    db.call(workers.keep_update, 12, a, '{"update_id": 12}', NOW)
    db.call(workers.keep_update, 11, a, '{"update_id": 11}', NOW)
    db.call(workers.keep_update, 13, a, '{"update_id": 13}', NOW)
    db.call(workers.finish_update, 13, NOW)  # handled before the crash: not kept
    # While a lives, b takes none of them.
    assert db.call(workers.orphaned_updates, b, NOW, alone=False) == []
    dead = NOW + workers.LEASE + dt.timedelta(seconds=1)
    assert db.call(workers.orphaned_updates, b, dead, alone=False) == [
        '{"update_id": 11}',
        '{"update_id": 12}',
    ]
    # Now b's: nobody else takes them again while b lives.
    c = db.call(workers.register, "host:3", "all", dead)
    db.call(workers.heartbeat, b, dead)
    assert db.call(workers.orphaned_updates, c, dead, alone=False) == []
    # On SQLite, one process: the previous incarnation's are ours at start-up.
    assert db.call(workers.orphaned_updates, c, dead, alone=True) == [
        '{"update_id": 11}',
        '{"update_id": 12}',
    ]
    # Old ones go after two days (they hold what someone wrote).
    db.call(workers.forget_old, dead + workers.FORGET_AFTER + dt.timedelta(seconds=1))
    assert db.call(workers.orphaned_updates, c, dead, alone=True) == []


def test_send_slots_are_one_budget(db: Database) -> None:
    interval = 0.05
    starts = [db.call(workers.take_send_slots, 1000.0, interval) for _ in range(5)]
    assert starts == pytest.approx([1000.0, 1000.05, 1000.1, 1000.15, 1000.2])
    # Bulk waits while the cursor is more than the horizon ahead; a reply never does.
    assert db.call(workers.take_send_slots, 1000.0, interval, horizon=0.1) is None
    assert db.call(workers.take_send_slots, 1000.0, interval) == pytest.approx(1000.25)
    assert db.call(workers.take_send_slots, 1000.2, interval, horizon=0.1) == pytest.approx(1000.3)
    # A 429 pushes everyone back.
    db.call(workers.push_send_slots, 1005.0)
    assert db.call(workers.take_send_slots, 1001.0, interval) == pytest.approx(1005.0)
    # Time moved on: slots start from now, not from the past.
    assert db.call(workers.take_send_slots, 2000.0, interval) == pytest.approx(2000.0)


@pytest.fixture
def pg(postgres_server: str | None) -> Iterator[Database]:
    """PostgreSQL only: concurrent processes are a PostgreSQL deployment (SQLite serves one)."""
    if postgres_server is None:
        pytest.skip("PostgreSQL unavailable (NUDGEBOT_ALLOW_NO_POSTGRES=1)")
    database = Database(_emptied(postgres_server))
    yield database
    database.close()


@pytest.mark.slow
def test_concurrent_takers_never_share_a_delivery(pg: Database) -> None:
    db = pg
    ids = _deliveries(db, 240)
    ready: list[tuple[int, int]] = []
    lock = threading.Lock()
    start = threading.Barrier(6)

    def taker(worker: int) -> None:
        start.wait()
        while True:
            taken = db.call(claims.take_ready, NOW, limit=7, worker_id=worker)
            if not taken.ready:
                return
            with lock:
                ready.extend((r.delivery_id, worker) for r in taken.ready)

    names = [db.call(workers.register, f"host:{i}", "all", NOW) for i in range(6)]
    threads = [threading.Thread(target=taker, args=(w,)) for w in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    taken_ids = Counter(delivery_id for delivery_id, _ in ready)
    assert sorted(taken_ids) == sorted(ids)
    assert max(taken_ids.values()) == 1
    with db.session() as session:
        owners = dict(session.execute(select(Delivery.id, Delivery.worker_id)).all())
    assert all(owners[d] == w for d, w in ready)


@pytest.mark.slow
def test_concurrent_budget_takers_get_distinct_slots(pg: Database) -> None:
    db = pg
    starts: list[float] = []
    lock = threading.Lock()
    gate = threading.Barrier(4)

    def take() -> None:
        gate.wait()
        for _ in range(25):
            start = db.call(workers.take_send_slots, 500.0, 0.01)
            assert start is not None
            with lock:
                starts.append(start)

    threads = [threading.Thread(target=take) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(round(s, 6) for s in starts) == [round(500.0 + i * 0.01, 6) for i in range(100)]


def test_a_second_process_on_one_sqlite_file_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'one.db'}"
    first = Database(url)
    first.lock_single_process()
    second = Database(url)
    with pytest.raises(OnlyOneProcess):
        second.lock_single_process()
    second.close()
    first.close()  # the lock ends with it
    third = Database(url)
    third.lock_single_process()
    third.close()


async def test_a_process_polls_only_while_its_lease_is_fresh(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A poller resumed after a stall longer than its lease must renew before it polls
    again (found by an adversarial run: one stale getUpdates cut the new poller off)."""
    now = [1000.0]
    monkeypatch.setattr("scheduler.workers.time.monotonic", lambda: now[0])
    life = WorkerLife(db, lambda: NOW, shared=True)
    other = WorkerLife(db, lambda: NOW, shared=True)
    await life.start()
    await other.start()
    assert life.holds(workers.POLLING)  # no lease logic has run: nothing to refuse
    assert await life.hold(workers.POLLING)
    assert not await other.hold(workers.POLLING)
    assert life.holds(workers.POLLING) and not other.holds(workers.POLLING)
    now[0] += (workers.LEASE - workers.HEARTBEAT).total_seconds() + 0.1  # a stall
    assert not life.holds(workers.POLLING)

    request = PollingRequest(may_poll=lambda: life.holds(workers.POLLING))
    with pytest.raises(NetworkError, match="polling lease"):
        await request.do_request("http://127.0.0.1:9/bot123/getUpdates", "POST")
    # Other calls are not its business (they fail here only for want of a server).
    with pytest.raises(NetworkError) as other_call:
        await request.do_request("http://127.0.0.1:9/bot123/getMe", "POST")
    assert "polling lease" not in str(other_call.value)
    await request.shutdown()
