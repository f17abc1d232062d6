"""Metrics and the ops endpoint (/healthz, /readyz, /metrics): scheduler/metrics.py, bot/ops.py."""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from bot.app import start_ops, stop_ops
from bot.ops import OpsEndpoint, TelegramProbe
from bot.ratelimit import TelegramRateLimiter
from fakes.telegram_api import FakeTelegram
from scheduler.metrics import Metrics
from storage.db import Database
from tests.conftest import make_settings
from tests.support.bot import BotHarness, FakeClock
from tests.test_dispatcher import DUE, nudges_to, person_with_nightly


def sample(metrics: Metrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


class Answers:
    """A stand-in for `bot.get_me`: counts calls, fails while `down`."""

    def __init__(self) -> None:
        self.calls = 0
        self.down = False

    async def __call__(self) -> object:
        self.calls += 1
        if self.down:
            raise ConnectionError("no route to Telegram")
        return {"id": 1}


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def ops_client(db: Database, probe: TelegramProbe, clock: FakeClock) -> httpx.AsyncClient:
    endpoint = OpsEndpoint(db, Metrics(), probe, clock=clock)
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=endpoint.app), base_url="http://ops.test"
    )


def healthy_probe() -> TelegramProbe:
    probe = TelegramProbe(Answers())
    probe.answered()
    return probe


# Metrics recorded by the bot's own parts.


async def test_a_dispatcher_run_counts_outcomes_and_lateness(bot: BotHarness) -> None:
    ana = await person_with_nightly(bot, 1001)
    ben = await person_with_nightly(bot, 1002)
    ben.block()
    bot.clock.set(DUE + dt.timedelta(seconds=30))
    await bot.run_dispatcher()
    assert len(nudges_to(ana)) == 1
    metrics = bot.services.metrics
    assert bot.dispatcher.metrics is metrics
    assert sample(metrics, "nudgebot_deliveries_total", outcome="sent") == 1
    assert sample(metrics, "nudgebot_deliveries_total", outcome="blocked") == 1
    assert sample(metrics, "nudgebot_deliveries_total", outcome="missed") is None
    assert sample(metrics, "nudgebot_delivery_lateness_seconds_count") == 1
    assert sample(metrics, "nudgebot_delivery_lateness_seconds_sum") == 30
    assert sample(metrics, "nudgebot_delivery_lateness_seconds_bucket", le="10.0") == 0
    assert sample(metrics, "nudgebot_delivery_lateness_seconds_bucket", le="30.0") == 1


async def test_nudges_missed_past_grace_are_counted_as_missed(bot: BotHarness) -> None:
    await person_with_nightly(bot)
    bot.clock.set(DUE + dt.timedelta(hours=36))
    await bot.run_dispatcher()
    metrics = bot.services.metrics
    assert sample(metrics, "nudgebot_deliveries_total", outcome="missed") == 1
    assert sample(metrics, "nudgebot_deliveries_total", outcome="sent") is None


async def test_a_crash_left_in_flight_is_counted_as_ambiguous_at_start(
    bot: BotHarness,
) -> None:
    await person_with_nightly(bot)
    bot.clock.set(DUE)
    await bot.dispatcher.claim()
    # Left in flight by a process that died (no worker: one that nobody can vouch for).
    with bot.db.session() as session:
        session.execute(text("UPDATE deliveries SET status = 'sending', worker_id = NULL"))
    bot.dispatcher.worker.id = None  # as after a restart: this process registers anew
    await bot.dispatcher.start()
    assert sample(bot.services.metrics, "nudgebot_deliveries_total", outcome="ambiguous") == 1


async def test_what_a_dead_process_left_in_flight_is_counted_when_found(
    bot: BotHarness,
) -> None:
    await person_with_nightly(bot)
    bot.clock.set(DUE)
    await bot.dispatcher.claim()
    with bot.db.session() as session:
        session.execute(text("UPDATE deliveries SET status = 'sending', worker_id = NULL"))
    # What every heartbeat does with other processes (PostgreSQL).
    await bot.dispatcher.worker.recover()
    assert sample(bot.services.metrics, "nudgebot_deliveries_total", outcome="ambiguous") == 1
    await bot.dispatcher.worker.recover()  # nothing new: not counted again
    assert sample(bot.services.metrics, "nudgebot_deliveries_total", outcome="ambiguous") == 1


async def test_each_application_has_its_own_registry(bot: BotHarness) -> None:
    await person_with_nightly(bot)
    bot.clock.set(DUE)
    await bot.run_dispatcher()
    assert sample(bot.services.metrics, "nudgebot_deliveries_total", outcome="sent") == 1
    assert sample(Metrics(), "nudgebot_deliveries_total", outcome="sent") is None


async def test_updates_through_the_processor_are_counted_with_their_latency(
    sqlite_bot: BotHarness,
) -> None:
    app = sqlite_bot.app
    user = sqlite_bot.user(2001)
    user.send("/help")
    user.send("/help")
    updates = await app.bot.get_updates(timeout=0)
    assert len(updates) == 2
    # As python-telegram-bot does with each fetched update.
    for update in updates:
        await app.update_processor.process_update(update, app.process_update(update))
    assert len(user.messages()) == 2
    metrics = sqlite_bot.services.metrics
    assert sample(metrics, "nudgebot_updates_handled_total") == 2
    assert sample(metrics, "nudgebot_update_handling_seconds_count") == 2
    assert (sample(metrics, "nudgebot_update_handling_seconds_sum") or 0) > 0


async def test_rate_limiter_waits_are_observed_by_kind() -> None:
    metrics = Metrics()
    limiter = TelegramRateLimiter(30, 10, metrics=metrics)  # one chat: every 0.1 s or so

    async def send() -> bool:
        return True

    for _ in range(3):
        await limiter.process_request(send, (), {}, "sendMessage", {"chat_id": 7}, None)
    await limiter.process_request(send, (), {}, "sendMessage", {"chat_id": 8}, {"bulk": True})
    await limiter.process_request(send, (), {}, "getMe", {}, None)  # free: not limited
    assert sample(metrics, "nudgebot_rate_limiter_wait_seconds_count", kind="reply") == 3
    assert sample(metrics, "nudgebot_rate_limiter_wait_seconds_count", kind="bulk") == 1
    # The second and third sends to chat 7 each waited for its per-chat interval.
    waited = sample(metrics, "nudgebot_rate_limiter_wait_seconds_sum", kind="reply") or 0
    assert waited >= 0.15


def test_the_polling_lease_gauge_follows_its_owner() -> None:
    metrics = Metrics()
    assert sample(metrics, "nudgebot_polling_leader") == 0
    metrics.set_polling_leader(True)
    assert sample(metrics, "nudgebot_polling_leader") == 1
    metrics.set_polling_leader(False)
    assert sample(metrics, "nudgebot_polling_leader") == 0


# The endpoint.


async def test_healthz_answers_while_the_loop_runs(sqlite_url: str, clock: FakeClock) -> None:
    db = Database(sqlite_url)
    try:
        async with ops_client(db, healthy_probe(), clock) as client:
            response = await client.get("/healthz")
    finally:
        db.close()
    assert (response.status_code, response.text) == (200, "ok\n")


async def test_readyz_is_ready_with_a_current_schema_and_telegram_answering(
    db: Database, clock: FakeClock
) -> None:
    async with ops_client(db, healthy_probe(), clock) as client:
        response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "ready": True,
        "database": "ok",
        "migrations": "ok",
        "telegram": "ok",
    }


@pytest.mark.parametrize("where", ["postgresql-refused", "sqlite-not-a-database"])
async def test_readyz_fails_when_the_database_is_unreachable(
    where: str, tmp_path: Path, clock: FakeClock
) -> None:
    if where == "postgresql-refused":
        url = "postgresql+psycopg://nobody:x@127.0.0.1:1/none"  # nothing listens on port 1
    else:
        garbage = tmp_path / "garbage.db"
        garbage.write_bytes(b"this is not an SQLite file" * 100)
        url = f"sqlite:///{garbage}"
    db = Database(url, secret_key=b"k" * 32)
    try:
        async with ops_client(db, healthy_probe(), clock) as client:
            response = await client.get("/readyz")
            health = await client.get("/healthz")
    finally:
        db.close()
    assert response.status_code == 503
    assert response.json() == {
        "ready": False,
        "database": "unreachable",
        "migrations": "unreachable",
        "telegram": "ok",
    }
    # Liveness is not readiness: a database outage must not get the process restarted.
    assert health.status_code == 200


@pytest.mark.parametrize(("revision", "state"), [("0005", "behind"), ("9999", "ahead")])
async def test_readyz_fails_when_the_schema_is_not_this_codes(
    db: Database, clock: FakeClock, revision: str, state: str
) -> None:
    set_version = text("UPDATE alembic_version SET version_num = :r")
    with db.session() as session:
        head = session.scalar(text("SELECT version_num FROM alembic_version"))
        session.execute(set_version, {"r": revision})
    try:
        async with ops_client(db, healthy_probe(), clock) as client:
            response = await client.get("/readyz")
    finally:
        # The PostgreSQL database is shared by the whole run (emptied, not recreated,
        # between tests): later tests migrate it and must find it at head.
        with db.session() as session:
            session.execute(set_version, {"r": head})
    assert response.status_code == 503
    assert response.json()["migrations"] == state
    assert response.json()["database"] == "ok"


async def test_readyz_asks_telegram_at_most_once_a_minute_and_fails_when_it_is_down(
    sqlite_url: str, clock: FakeClock
) -> None:
    db = Database(sqlite_url)
    answers, ticks = Answers(), Ticks()
    probe = TelegramProbe(answers, clock=ticks)
    try:
        async with ops_client(db, probe, clock) as client:
            first = await client.get("/readyz")
            ticks.now += 59
            cached = await client.get("/readyz")
            ticks.now += 2
            answers.down = True
            down = await client.get("/readyz")
            again = await client.get("/readyz")
    finally:
        db.close()
    assert [r.status_code for r in (first, cached, down, again)] == [200, 200, 503, 503]
    assert down.json()["telegram"] == "unreachable"
    # Asked at first, not while the answer was fresh, then on each probe while it fails.
    assert answers.calls == 3


async def test_concurrent_readiness_probes_share_one_getme(
    sqlite_url: str, clock: FakeClock
) -> None:
    release = asyncio.Event()
    calls = 0

    async def slow_get_me() -> object:
        nonlocal calls
        calls += 1
        await release.wait()
        return {"id": 1}

    probe = TelegramProbe(slow_get_me)
    checks = [asyncio.create_task(probe.check()) for _ in range(5)]
    await asyncio.sleep(0.05)
    release.set()
    assert {str(c) for c in await asyncio.gather(*checks)} == {"ok"}
    assert calls == 1


async def test_metrics_are_in_the_prometheus_text_format_with_the_queue_depth(
    bot: BotHarness,
) -> None:
    await person_with_nightly(bot, 1001)
    await person_with_nightly(bot, 1002)
    endpoint = OpsEndpoint(bot.db, bot.services.metrics, healthy_probe(), clock=bot.clock)

    async def scrape() -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
        transport = httpx.ASGITransport(app=endpoint.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ops.test") as client:
            response = await client.get("/metrics")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
        found: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
        for family in text_string_to_metric_families(response.text):
            for s in family.samples:
                found.setdefault(s.name, {})[tuple(sorted(s.labels.items()))] = s.value
        return found

    before = await scrape()
    assert before["nudgebot_queue_depth"] == {
        (("stage", "unclaimed"),): 0,
        (("stage", "claimed"),): 0,
    }
    # Metrics without labels are there from the start, at zero.
    for name in (
        "nudgebot_polling_leader",
        "nudgebot_updates_handled_total",
        "nudgebot_update_handling_seconds_count",
        "nudgebot_delivery_lateness_seconds_count",
    ):
        assert before[name] == {(): 0}, name

    bot.clock.set(DUE)
    due = await scrape()
    assert due["nudgebot_queue_depth"][(("stage", "unclaimed"),)] == 2
    await bot.dispatcher.claim()
    claimed = await scrape()
    assert claimed["nudgebot_queue_depth"] == {
        (("stage", "unclaimed"),): 0,
        (("stage", "claimed"),): 2,
    }
    await bot.run_dispatcher()
    after = await scrape()
    assert after["nudgebot_queue_depth"] == {
        (("stage", "unclaimed"),): 0,
        (("stage", "claimed"),): 0,
    }
    assert after["nudgebot_deliveries_total"] == {(("outcome", "sent"),): 2}


async def test_the_ops_port_is_served_from_the_application_only_when_set(
    sqlite_url: str, fake: FakeTelegram, clock: FakeClock
) -> None:
    db = Database(sqlite_url)
    try:
        off = BotHarness(make_settings(sqlite_url, fake), db, fake, clock)
        async with off:
            await start_ops(off.app)
            assert "ops" not in off.app.bot_data
        on = BotHarness(make_settings(sqlite_url, fake, ops_port=0), db, fake, clock)
        async with on:
            await start_ops(on.app)
            port = on.app.bot_data["ops"].port
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
                health = await client.get("/healthz")
                ready = await client.get("/readyz")
                metrics = await client.get("/metrics")
            await stop_ops(on.app)
            assert "ops" not in on.app.bot_data
    finally:
        db.close()
    assert health.status_code == 200
    assert ready.status_code == 200, ready.text
    assert "# TYPE nudgebot_deliveries_total counter" in metrics.text


async def test_metrics_speak_openmetrics_to_a_scraper_that_asks(
    sqlite_url: str, clock: FakeClock
) -> None:
    db = Database(sqlite_url)
    try:
        async with ops_client(db, healthy_probe(), clock) as client:
            response = await client.get(
                "/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"}
            )
    finally:
        db.close()
    assert response.headers["content-type"].startswith("application/openmetrics-text")
    assert response.text.endswith("# EOF\n")


async def test_an_ops_port_in_use_is_logged_by_name_and_stops_start_up(
    sqlite_url: str, fake: FakeTelegram, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    port = taken.getsockname()[1]
    db = Database(sqlite_url)
    try:
        harness = BotHarness(make_settings(sqlite_url, fake, ops_port=port), db, fake, clock)
        async with harness:
            with pytest.raises(OSError):
                await start_ops(harness.app)
            assert "ops" not in harness.app.bot_data
    finally:
        db.close()
        taken.close()
    assert f"the ops endpoint could not listen on 127.0.0.1:{port} (OPS_PORT)" in caplog.text
