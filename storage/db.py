"""Engines, sessions and migrations.

Domain functions are plain synchronous functions that take a `Session`; the bot calls them
through `Database.run`, which runs them on a small thread pool inside one transaction, so
the event loop never waits on the database and the same functions serve the CLI, the
dispatcher, tests and benchmarks.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import functools
import itertools
import os
import queue
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from enum import IntEnum, StrEnum
from pathlib import Path
from typing import IO, Any, Concatenate, ParamSpec, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, make_url, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from storage import secret

P = ParamSpec("P")
T = TypeVar("T")

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 5000


def normalise_url(url: str) -> URL:
    """Parse a DATABASE_URL, choosing psycopg 3 for a bare postgresql:// URL."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def describe_url(url: str) -> str:
    """The URL with any password hidden, for the start-up log line."""
    return normalise_url(url).render_as_string(hide_password=True)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets WAL, a busy timeout and enforced foreign keys.

    Parameters are hidden from SQLAlchemy's error messages: they are what people wrote,
    and an error message ends up in a log.
    """
    parsed = normalise_url(url)
    kwargs.setdefault("hide_parameters", True)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            Path(database).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            parsed,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            **kwargs,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(parsed, pool_pre_ping=True, **kwargs)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


class Unusable(StrEnum):
    """Why the database cannot be opened at all: things the operator must fix."""

    NOT_A_DATABASE = "not_a_database"
    LOCKED = "locked"
    UNREACHABLE = "unreachable"


# The first half of the two-key advisory locks `Database.turn` takes ("nu").
TURN_SPACE = 0x6E75


def _int4(key: int) -> int:
    """A 64-bit key (a chat id) folded into PostgreSQL's signed 32-bit lock key."""
    folded = (key ^ (key >> 32)) & 0xFFFFFFFF
    return folded - (1 << 32) if folded >= 1 << 31 else folded


class OnlyOneProcess(Exception):
    """Another process already uses this SQLite file."""


class DatabaseUnusable(Exception):
    """The database cannot be opened; `where` is the SQLite file or the URL sans password."""

    def __init__(self, reason: Unusable, where: str) -> None:
        super().__init__(f"{reason}: {where}")
        self.reason = reason
        self.where = where


def unusable(url: str, exc: DBAPIError) -> DatabaseUnusable | None:
    """Recognise the faults no retry fixes: a file that is not SQLite, a lock, no server."""
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "sqlite":
        name = getattr(exc.orig, "sqlite_errorname", "")
        where = parsed.database or ":memory:"
        if name in ("SQLITE_NOTADB", "SQLITE_CORRUPT"):
            return DatabaseUnusable(Unusable.NOT_A_DATABASE, where)
        if name in ("SQLITE_BUSY", "SQLITE_LOCKED"):
            return DatabaseUnusable(Unusable.LOCKED, where)
        return None
    # psycopg gives a connection failure no SQLSTATE: the server never answered.
    if exc.connection_invalidated or getattr(exc.orig, "sqlstate", "") is None:
        return DatabaseUnusable(Unusable.UNREACHABLE, describe_url(url))
    return None


def upgrade(url: str) -> None:
    """Apply every Alembic migration to the database at `url`.

    Raises:
        DatabaseUnusable: The file is not a database, is locked, or the server is down.
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["database_url"] = url
    try:
        command.upgrade(config, "head")
    except DBAPIError as exc:
        problem = unusable(url, exc)
        if problem is None:
            raise
        raise problem from exc


class Lane(IntEnum):
    """Which work goes first on the database threads (lower first)."""

    INTERACTIVE = 0
    BULK = 1


class PriorityExecutor:
    """A fixed set of threads taking jobs from one priority queue.

    A reply's query never waits behind queued bulk work (claim batches); a job already
    running is never interrupted, which is why the dispatcher keeps its batches short.
    """

    def __init__(self, workers: int) -> None:
        self._queue: queue.PriorityQueue[tuple[int, int, _Job | None]] = queue.PriorityQueue()
        self._order = itertools.count()
        self._threads = [
            threading.Thread(target=self._work, name=f"db-{i}", daemon=True) for i in range(workers)
        ]
        for thread in self._threads:
            thread.start()

    async def submit(self, fn: Callable[[], T], lane: Lane) -> T:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._queue.put((int(lane), next(self._order), _Job(fn, future, loop)))
        return await future

    def _work(self) -> None:
        while True:
            _, _, job = self._queue.get()
            if job is None:
                return
            job.run()

    def shutdown(self, wait: bool = True) -> None:
        # Queued after everything else in the last lane: work already queued finishes.
        for _ in self._threads:
            self._queue.put((len(Lane), next(self._order), None))
        if wait:
            for thread in self._threads:
                thread.join()


class _Job:
    """One call, and where its result goes back to (thread-safe)."""

    def __init__(
        self, fn: Callable[[], Any], future: asyncio.Future[Any], loop: asyncio.AbstractEventLoop
    ) -> None:
        self.fn, self.future, self.loop = fn, future, loop

    def run(self) -> None:
        result, error = None, None
        try:
            result = self.fn()
        except BaseException as exc:  # handed to the awaiting coroutine, never lost
            error = exc
        with contextlib.suppress(RuntimeError):  # the loop closed while this ran
            self.loop.call_soon_threadsafe(_settle, self.future, result, error)


def _settle(future: asyncio.Future[Any], result: Any, exc: BaseException | None) -> None:
    if future.cancelled():
        return
    if exc is not None:
        future.set_exception(exc)
    else:
        future.set_result(result)


class Database:
    """A session factory plus the thread pool the bot uses to reach it.

    `secret_key` keys the stored person hashes (see `storage.secret`); without one,
    NUDGEBOT_SECRET_KEY is used if set, else the key stored in the database.
    """

    def __init__(
        self,
        url: str,
        *,
        threads: int | None = None,
        secret_key: bytes | None = None,
        **engine_kwargs: Any,
    ) -> None:
        self.url = url
        if secret_key is None:
            secret_key = secret.key_from_environment(os.environ)
        self.engine = make_engine(url, **engine_kwargs)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        # Other processes may use this database at the same time (see `storage.workers`).
        self.shared = not self.is_sqlite
        self._single: IO[bytes] | None = None
        self._locks: Engine | None = None
        info = {secret.GIVEN_KEY: secret_key} if secret_key is not None else {}
        self._sessions = sessionmaker(self.engine, expire_on_commit=False, info=info)
        # SQLite allows one writer at a time: one thread avoids busy waits inside the process.
        workers = threads if threads is not None else (1 if self.is_sqlite else 4)
        self._executor = PriorityExecutor(workers)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on error."""
        with self._sessions() as session, session.begin():
            yield session

    def call(
        self, fn: Callable[Concatenate[Session, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run `fn(session, ...)` in its own transaction, here and now."""
        with self.session() as session:
            return fn(session, *args, **kwargs)

    async def run(
        self, fn: Callable[Concatenate[Session, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run `fn(session, ...)` in its own transaction on the database threads.

        For what a person is waiting on (a reply): it goes ahead of any bulk work queued.
        """
        job = functools.partial(self.call, fn, *args, **kwargs)
        return await self._executor.submit(job, Lane.INTERACTIVE)

    async def run_bulk(
        self, fn: Callable[Concatenate[Session, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Like `run`, for the dispatcher's claim, take and record: it yields to replies."""
        job = functools.partial(self.call, fn, *args, **kwargs)
        return await self._executor.submit(job, Lane.BULK)

    @contextlib.asynccontextmanager
    async def turn(self, key: int) -> AsyncIterator[None]:
        """One holder of `key` at a time across every process (PostgreSQL advisory lock).

        For a chat's updates arriving at several processes (webhooks): each is handled
        after the one before. The lock lives on a connection of its own, outside the pool
        the domain functions use, so waiting for it never starves them. On SQLite there is
        one process, and this does nothing.
        """
        if not self.shared:
            yield
            return
        if self._locks is None:
            self._locks = create_engine(self.engine.url, poolclass=NullPool, hide_parameters=True)
        params = {"space": TURN_SPACE, "key": _int4(key)}
        connection = await asyncio.to_thread(self._locks.connect)
        try:
            await asyncio.to_thread(
                connection.execute, text("SELECT pg_advisory_lock(:space, :key)"), params
            )
            try:
                yield
            finally:
                await asyncio.to_thread(
                    connection.execute, text("SELECT pg_advisory_unlock(:space, :key)"), params
                )
        finally:
            await asyncio.to_thread(connection.close)

    def lock_single_process(self) -> None:
        """With SQLite, make this the only process using the file, or raise `OnlyOneProcess`.

        SQLite takes one writer at a time and nothing here coordinates two processes
        through it: a second `nudgebot run` on the same file is refused (PostgreSQL is the
        database for more than one). The lock is the OS's, so it ends with the process.
        """
        if not self.is_sqlite or self._single is not None:
            return
        database = self.engine.url.database or ""
        if not database or database == ":memory:":
            return
        path = Path(database).expanduser().resolve().with_name(Path(database).name + ".lock")
        handle = path.open("wb")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise OnlyOneProcess(str(Path(database).expanduser())) from None
        self._single = handle

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        self.engine.dispose()
        if self._locks is not None:
            self._locks.dispose()
        if self._single is not None:
            self._single.close()
            self._single = None
