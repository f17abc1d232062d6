"""Tests for the throwaway PostgreSQL server (fakes/postgres.py)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from fakes import postgres
from fakes.postgres import (
    ALLOW_NO_POSTGRES_ENV,
    PostgresUnavailable,
    create_database,
    find_pg_bin,
    require_postgres,
    throwaway_postgres,
)

# Most of these start PostgreSQL servers of their own, beside the suite's.
pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    require_postgres()
    with throwaway_postgres() as url:
        yield url


def _scalar(url: str, query: str) -> object:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(query)).scalar_one()
    finally:
        engine.dispose()


def _port(url: str) -> int:
    port = make_url(url).port
    assert port is not None
    return port


def _assert_gone(url: str, data_directory: Path) -> None:
    port = _port(url)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    with pytest.raises(psycopg.OperationalError, match=r"(?i)refused"):
        psycopg.connect(host="127.0.0.1", port=port, user="nudgebot", connect_timeout=5)
    assert not data_directory.exists()
    assert not data_directory.parent.exists()


# --------------------------------------------------------------------------- #
# Against a running server
# --------------------------------------------------------------------------- #


def test_the_url_names_a_passwordless_local_database_on_a_free_port(pg_url: str) -> None:
    url = make_url(pg_url)
    assert url.drivername == "postgresql+psycopg"
    assert url.username == "nudgebot"
    assert url.password is None
    assert url.host == "127.0.0.1"
    assert url.port is not None and 1024 <= url.port <= 65535
    assert url.database == "nudgebot"


def test_it_answers_queries_as_the_nudgebot_user(pg_url: str) -> None:
    assert _scalar(pg_url, "select 1") == 1
    assert _scalar(pg_url, "select current_database()") == "nudgebot"
    assert _scalar(pg_url, "select current_user") == "nudgebot"


def test_it_listens_on_loopback_only(pg_url: str) -> None:
    assert _scalar(pg_url, "show listen_addresses") == "127.0.0.1"
    assert str(_scalar(pg_url, "select host(inet_server_addr())")) == "127.0.0.1"
    engine = sa.create_engine(pg_url)
    try:
        with engine.connect() as conn:
            rules = conn.execute(
                sa.text("select type, address, auth_method, error from pg_hba_file_rules")
            ).all()
    finally:
        engine.dispose()
    assert rules, "pg_hba.conf has rules"
    for rule_type, address, method, error in rules:
        assert error is None
        assert method == "trust"
        assert (rule_type, address) in {("local", None), ("host", "127.0.0.1")}


def test_socket_and_data_live_in_the_temp_dir(pg_url: str) -> None:
    data_directory = Path(str(_scalar(pg_url, "show data_directory")))
    socket_dir = Path(str(_scalar(pg_url, "show unix_socket_directories")))
    assert socket_dir == data_directory.parent
    assert socket_dir.name.startswith("nudgebot-pg-")
    assert (socket_dir / f".s.PGSQL.{_port(pg_url)}").exists()


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        pytest.param("fsync", "off", id="fsync"),
        pytest.param("synchronous_commit", "off", id="synchronous_commit"),
        pytest.param("full_page_writes", "off", id="full_page_writes"),
        pytest.param("server_encoding", "UTF8", id="encoding"),
    ],
)
def test_it_runs_with_the_fast_unsafe_settings_and_utf8(
    pg_url: str, setting: str, value: str
) -> None:
    assert _scalar(pg_url, f"show {setting}") == value


def test_create_database_gives_an_isolated_database(pg_url: str) -> None:
    url = create_database(pg_url, "isolated_one")
    parsed = make_url(url)
    assert parsed.database == "isolated_one"
    assert parsed.set(database="nudgebot") == make_url(pg_url)

    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            assert conn.execute(sa.text("select current_database()")).scalar_one() == "isolated_one"
            conn.execute(sa.text("create table things (id int primary key)"))
            conn.execute(sa.text("insert into things values (1), (2)"))
        with engine.connect() as conn:
            assert conn.execute(sa.text("select count(*) from things")).scalar_one() == 2
    finally:
        engine.dispose()
    assert _scalar(pg_url, "select to_regclass('things') is null") is True

    with pytest.raises(psycopg.errors.DuplicateDatabase):
        create_database(pg_url, "isolated_one")


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("", id="empty"),
        pytest.param("1abc", id="leading-digit"),
        pytest.param("Upper", id="upper-case"),
        pytest.param("a-b", id="hyphen"),
        pytest.param('x"; drop database nudgebot; --', id="injection"),
        pytest.param("a" * 64, id="too-long"),
    ],
)
def test_create_database_rejects_odd_names(pg_url: str, name: str) -> None:
    with pytest.raises(ValueError, match="database name"):
        create_database(pg_url, name)


# --------------------------------------------------------------------------- #
# Lifecycle
# --------------------------------------------------------------------------- #


def test_server_is_gone_after_the_context_exits(pg_url: str) -> None:
    with throwaway_postgres() as url:
        assert _port(url) != _port(pg_url), "a second server gets its own port"
        assert _scalar(url, "select 1") == 1
        data_directory = Path(str(_scalar(url, "show data_directory")))
        assert data_directory.is_dir()
    _assert_gone(url, data_directory)
    assert _scalar(pg_url, "select 1") == 1, "the other server is untouched"


def test_server_is_gone_even_if_the_body_raises() -> None:
    require_postgres()
    seen: list[tuple[str, Path]] = []
    with pytest.raises(RuntimeError, match="boom"), throwaway_postgres() as url:
        seen.append((url, Path(str(_scalar(url, "show data_directory")))))
        raise RuntimeError("boom")
    [(url, data_directory)] = seen
    _assert_gone(url, data_directory)


def test_server_is_stopped_at_interpreter_exit() -> None:
    """The atexit safety net: a process that never leaves the context leaks nothing."""
    require_postgres()
    script = textwrap.dedent(
        """
        import sys
        from fakes.postgres import throwaway_postgres
        import sqlalchemy as sa

        context = throwaway_postgres()
        url = context.__enter__()
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            data = conn.execute(sa.text("show data_directory")).scalar_one()
        engine.dispose()
        print(url)
        print(data, flush=True)
        sys.exit(0)  # without leaving the context
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    url, data = result.stdout.split()
    _assert_gone(url, Path(data))


# --------------------------------------------------------------------------- #
# Finding the binaries, and what happens without them
# --------------------------------------------------------------------------- #


def test_find_pg_bin_finds_the_tools() -> None:
    bindir = require_postgres()
    assert bindir == find_pg_bin()
    for tool in ("initdb", "pg_ctl", "postgres"):
        assert os.access(bindir / tool, os.X_OK), tool


def _fake_bin(root: Path, version: str, tools: tuple[str, ...]) -> Path:
    bindir = root / version / "bin"
    bindir.mkdir(parents=True)
    for tool in tools:
        path = bindir / tool
        path.write_text("#!/bin/sh\nexit 1\n")
        path.chmod(0o755)
    return bindir


def test_find_pg_bin_prefers_the_newest_complete_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    full = ("initdb", "pg_ctl", "postgres")
    _fake_bin(tmp_path, "9.6", full)
    expected = _fake_bin(tmp_path, "15", full)
    _fake_bin(tmp_path, "16", ("initdb", "postgres"))  # incomplete: no pg_ctl
    _fake_bin(tmp_path, "13", full)
    monkeypatch.setattr(postgres, "_DEBIAN_ROOT", tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert find_pg_bin() == expected


def test_find_pg_bin_finds_nothing_without_postgres(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(postgres, "_DEBIAN_ROOT", tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert find_pg_bin() is None


def test_missing_binaries_fail_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(postgres, "find_pg_bin", lambda: None)
    monkeypatch.delenv(ALLOW_NO_POSTGRES_ENV, raising=False)
    with pytest.raises(pytest.fail.Exception, match=ALLOW_NO_POSTGRES_ENV):
        require_postgres()
    monkeypatch.setenv(ALLOW_NO_POSTGRES_ENV, "0")
    with pytest.raises(pytest.fail.Exception):
        require_postgres()


def test_missing_binaries_skip_when_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(postgres, "find_pg_bin", lambda: None)
    monkeypatch.setenv(ALLOW_NO_POSTGRES_ENV, "1")
    with pytest.raises(pytest.skip.Exception, match="not found"):
        require_postgres()


def test_throwaway_postgres_without_binaries_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(postgres, "find_pg_bin", lambda: None)
    with pytest.raises(PostgresUnavailable, match="not found"), throwaway_postgres():
        pass  # pragma: no cover - never entered
