"""Shared fixtures: databases (SQLite and PostgreSQL), the fake Bot API, a driven clock,
and an in-process bot that runs python-telegram-bot's real dispatch against the fake.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from xdist.scheduler import LoadScopeScheduling

from bot.settings import Settings
from fakes.postgres import PostgresUnavailable, create_database, throwaway_postgres
from fakes.telegram_api import FakeTelegram
from storage.db import Database, upgrade
from tests.support.bot import BotHarness, FakeClock

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawQ"
ALLOW_NO_POSTGRES = os.environ.get("NUDGEBOT_ALLOW_NO_POSTGRES") == "1"
# Monday 23 November 2026, 12:00 UTC: 13:00 in Berlin, 07:00 in New York.
DEFAULT_NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)


# Under pytest-xdist (scripts/test runs `-n 3 --dist loadgroup`) every worker is a process
# with its own session: its own SQLite template, its own throwaway PostgreSQL server (on a
# free port) and its own temporary folder, so workers share no database, port or file.
# A module-scoped fixture, though, would be built again on every worker that gets one of
# the module's tests: these modules keep all their tests on one worker.
ONE_WORKER_MODULES = {
    # One Chromium and one seeded dashboard for the module.
    "tests/dashboard/test_browser.py": "browser",
    # One run of `python -m benchmarks --quick` (many processes) that every test reads.
    "tests/test_benchmark_smoke.py": "benchmark",
    # A PostgreSQL server of the module's own, beside the worker's.
    "tests/support/test_postgres.py": "postgres-lifecycle",
}


class _OneWorkerModules(LoadScopeScheduling):
    """`--dist loadgroup` by module: xdist's own loadgroup renames `item._nodeid`, which
    pytest 9 no longer reads, so its `xdist_group` marks are silently ignored."""

    def _split_scope(self, nodeid: str) -> str:
        return ONE_WORKER_MODULES.get(nodeid.split("::", 1)[0], nodeid)


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> LoadScopeScheduling | None:
    if config.getvalue("dist") != "loadgroup":
        return None
    return _OneWorkerModules(config, log)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (migrating once is much faster)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str | None]:
    """A throwaway PostgreSQL on loopback for the whole run (for each xdist worker), with
    one migrated database; started only when a test first needs it."""
    try:
        with throwaway_postgres() as url:
            database = create_database(url, "nudgebot_tests")
            upgrade(database)
            yield database
    except PostgresUnavailable as exc:
        if not ALLOW_NO_POSTGRES:
            pytest.fail(f"PostgreSQL could not be started: {exc}", pytrace=False)
        print(f"\n!!! PostgreSQL tests SKIPPED: {exc} !!!\n")
        yield None


def _emptied(url: str) -> str:
    """Empty every table (much faster than a new database per test)."""
    from sqlalchemy import create_engine, text

    from storage.models import Base

    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


# The PostgreSQL runs need the server process the suite starts (seconds), and double the
# time: they are `slow`, so the fast loop (`-m "not slow"`) runs on SQLite alone.
ON_POSTGRESQL = pytest.param("postgresql", marks=pytest.mark.slow)


@pytest.fixture(params=["sqlite", ON_POSTGRESQL])
def database_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    """A fresh, migrated database: each test using it runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "bot.db"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}"
    server = request.getfixturevalue("postgres_server")
    if server is None:
        pytest.skip("PostgreSQL unavailable (NUDGEBOT_ALLOW_NO_POSTGRES=1)")
    return _emptied(server)


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    """A fresh, migrated SQLite database, for tests that need only one backend."""
    path = tmp_path / "bot.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.close()


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram(token=TOKEN) as server:
        yield server


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(DEFAULT_NOW)


def make_settings(database_url: str, fake: FakeTelegram, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "telegram_bot_token": TOKEN,
        "database_url": database_url,
        "telegram_api_base_url": fake.base_url,
        "poll_timeout_seconds": 0,
        "rate_limit_per_second": 0,
        "rate_limit_per_chat_per_second": 0,
        # A free port if anything starts the dashboard: 8080 may be taken on a shared machine.
        "dashboard_port": 0,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
async def bot(db: Database, fake: FakeTelegram, clock: FakeClock) -> AsyncIterator[BotHarness]:
    """The real Application, on both databases, driven update by update."""
    async with BotHarness(make_settings(db.url, fake), db, fake, clock) as harness:
        yield harness


@pytest.fixture
async def sqlite_bot(
    sqlite_url: str, fake: FakeTelegram, clock: FakeClock
) -> AsyncIterator[BotHarness]:
    """The same, on SQLite only, for tests about the bot rather than the database."""
    database = Database(sqlite_url)
    async with BotHarness(make_settings(sqlite_url, fake), database, fake, clock) as harness:
        yield harness
    database.close()
