"""A throwaway PostgreSQL server for the tests and the benchmarks.

``throwaway_postgres()`` runs ``initdb`` into a fresh temporary directory,
starts a private server that listens on 127.0.0.1 only (on a free port, with
its unix socket inside the temporary directory and trust authentication for
loopback only), yields a SQLAlchemy URL, and on exit stops the server
(``pg_ctl stop -m immediate``) and deletes the directory, even if the body
raised.  An ``atexit`` hook stops anything still running when the interpreter
exits normally.  Durability is switched off (``fsync``, ``synchronous_commit``,
``full_page_writes``): the data is thrown away anyway.

``initdb`` and ``postgres`` refuse to run as root.  When the tests run as root
the server runs as the ``postgres`` system user, in a temporary directory that
user owns; otherwise it runs as the current user.

Typical use, one server per session and one database per test::

    with throwaway_postgres() as server_url:
        url = create_database(server_url, "test_orders")
        engine = sqlalchemy.create_engine(url)
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import re
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

__all__ = [
    "ALLOW_NO_POSTGRES_ENV",
    "SUPERUSER",
    "PostgresUnavailable",
    "create_database",
    "find_pg_bin",
    "require_postgres",
    "throwaway_postgres",
]

#: Superuser created by initdb; also the name of the database the URL points at.
SUPERUSER = "nudgebot"
DEFAULT_DATABASE = "nudgebot"

#: Set to "1" to let tests skip (instead of fail) when PostgreSQL is not installed.
ALLOW_NO_POSTGRES_ENV = "NUDGEBOT_ALLOW_NO_POSTGRES"

#: The system user that runs the server when the tests run as root.
SERVICE_USER = "postgres"

#: Seconds to wait for the server to accept connections (pg_ctl -w -t).
START_TIMEOUT = 30

_DEBIAN_ROOT = Path("/usr/lib/postgresql")
_TOOLS = ("initdb", "pg_ctl", "postgres")
_PORT_ATTEMPTS = 3
_LOG_TAIL_LINES = 40
_DATABASE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


class PostgresUnavailable(RuntimeError):
    """Why a throwaway server could not be started (binaries missing, initdb failed...)."""


# --------------------------------------------------------------------------- #
# Public API
# --------------------------------------------------------------------------- #


def find_pg_bin() -> Path | None:
    """The directory holding ``initdb``, ``pg_ctl`` and ``postgres``, or ``None``.

    Prefers the newest Debian-style ``/usr/lib/postgresql/<version>/bin``, then
    ``pg_config --bindir``, then the directory of ``initdb`` on ``PATH``.
    """
    versions = sorted(_DEBIAN_ROOT.glob("*/bin"), key=_version_key, reverse=True)
    for candidate in versions:
        if _has_tools(candidate):
            return candidate
    pg_config = shutil.which("pg_config")
    if pg_config is not None:
        try:
            result = subprocess.run(
                [pg_config, "--bindir"],
                capture_output=True,
                text=True,
                timeout=10,
                check=False,
            )
        except (OSError, subprocess.SubprocessError):
            result = None
        if result is not None and result.returncode == 0:
            candidate = Path(result.stdout.strip())
            if result.stdout.strip() and _has_tools(candidate):
                return candidate
    initdb = shutil.which("initdb")
    if initdb is not None:
        candidate = Path(initdb).resolve().parent
        if _has_tools(candidate):
            return candidate
    return None


@contextmanager
def throwaway_postgres() -> Iterator[str]:
    """Start a private PostgreSQL on 127.0.0.1 and a free port; yield its URL.

    The URL is ``postgresql+psycopg://nudgebot@127.0.0.1:PORT/nudgebot``
    (trust auth on loopback only, ``listen_addresses='127.0.0.1'``, unix
    sockets in the temp dir, ``fsync``/``synchronous_commit``/
    ``full_page_writes`` off).  On exit the server is stopped with
    ``pg_ctl stop -m immediate`` and the data directory removed, even if the
    body raises.  Raises :class:`PostgresUnavailable` if it cannot start.
    """
    server = _Server.start()
    try:
        yield server.url
    finally:
        server.stop()


def create_database(url: str, name: str) -> str:
    """Create database ``name`` on the server at ``url``; return its URL.

    ``name`` must be a plain lower-case identifier (``[a-z_][a-z0-9_]*``, at
    most 63 characters); anything else raises :class:`ValueError`.
    """
    if not _DATABASE_NAME.fullmatch(name):
        raise ValueError(f"not a plain lower-case database name: {name!r}")
    server = make_url(url)
    with psycopg.connect(
        host=server.host,
        port=server.port,
        user=server.username,
        password=server.password,
        dbname="postgres",
        autocommit=True,
        connect_timeout=10,
    ) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return server.set(database=name).render_as_string(hide_password=False)


def require_postgres() -> Path:
    """For tests: the binaries directory, or fail loudly when PostgreSQL is absent.

    With ``NUDGEBOT_ALLOW_NO_POSTGRES=1`` in the environment the test is
    skipped instead of failed.
    """
    import pytest  # only needed by tests; keeps this module importable without it

    bindir = find_pg_bin()
    if bindir is not None:
        return bindir
    reason = (
        "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found in "
        f"{_DEBIAN_ROOT}/*/bin, `pg_config --bindir` or PATH. Install PostgreSQL "
        f"(e.g. apt-get install postgresql) or set {ALLOW_NO_POSTGRES_ENV}=1 to skip "
        "the PostgreSQL tests."
    )
    if os.environ.get(ALLOW_NO_POSTGRES_ENV) == "1":
        pytest.skip(reason)
    pytest.fail(reason, pytrace=False)


# --------------------------------------------------------------------------- #
# The server
# --------------------------------------------------------------------------- #


@dataclass(slots=True)
class _Server:
    bindir: Path
    workdir: Path
    owner: pwd.struct_passwd | None
    port: int = 0
    _stopped: bool = field(default=False, repr=False)

    @property
    def datadir(self) -> Path:
        return self.workdir / "data"

    @property
    def logfile(self) -> Path:
        return self.workdir / "server.log"

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{DEFAULT_DATABASE}"

    @classmethod
    def start(cls) -> _Server:
        bindir = find_pg_bin()
        if bindir is None:
            raise PostgresUnavailable(
                "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found in "
                f"{_DEBIAN_ROOT}/*/bin, `pg_config --bindir` or PATH"
            )
        owner = _service_owner()
        workdir = Path(tempfile.mkdtemp(prefix="nudgebot-pg-", dir=_temp_parent(owner)))
        server = cls(bindir=bindir, workdir=workdir, owner=owner)
        atexit.register(server.stop)
        try:
            if owner is not None:
                os.chown(workdir, owner.pw_uid, owner.pw_gid)
            workdir.chmod(0o700)
            server._initdb()
            server._configure()
            server._launch()
            server._create_default_database()
        except BaseException:
            server.stop()
            raise
        return server

    def stop(self) -> None:
        """Stop the server (immediate shutdown) and delete its directory.  Idempotent."""
        if self._stopped:
            return
        self._stopped = True
        with contextlib.suppress(Exception):
            atexit.unregister(self.stop)
        try:
            if not self._stop_quietly():
                self._kill_postmaster()
        finally:
            shutil.rmtree(self.workdir, ignore_errors=True)

    # -- steps -------------------------------------------------------------- #

    def _initdb(self) -> None:
        result = self._run(
            [
                self._tool("initdb"),
                "-D",
                str(self.datadir),
                "-U",
                SUPERUSER,
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
            timeout=120,
        )
        if result.returncode != 0:
            raise PostgresUnavailable(
                f"initdb failed (exit {result.returncode}):\n{_tail(result.stdout)}"
            )

    def _configure(self) -> None:
        socket_dir = str(self.workdir).replace("'", "''")
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": f"'{socket_dir}'",
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "shared_buffers": "'32MB'",
            "max_connections": "50",
            "logging_collector": "off",
        }
        lines = ["", "# throwaway test server (fakes/postgres.py)"]
        lines += [f"{key} = {value}" for key, value in settings.items()]
        # Writing (not re-creating) the files keeps their owner and mode.
        with (self.datadir / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write("\n".join(lines) + "\n")
        hba = (
            "# throwaway test server: trust, loopback only\n"
            "# TYPE  DATABASE  USER  ADDRESS       METHOD\n"
            "local   all       all                 trust\n"
            "host    all       all   127.0.0.1/32  trust\n"
        )
        with (self.datadir / "pg_hba.conf").open("w", encoding="utf-8") as fh:
            fh.write(hba)

    def _launch(self) -> None:
        failure = ""
        for _attempt in range(_PORT_ATTEMPTS):
            self.port = _free_port()
            result = self._run(
                [
                    self._tool("pg_ctl"),
                    "-D",
                    str(self.datadir),
                    "-l",
                    str(self.logfile),
                    "-w",
                    "-t",
                    str(START_TIMEOUT),
                    "-o",
                    f"-p {self.port}",
                    "start",
                ],
                timeout=START_TIMEOUT + 15,
            )
            if result.returncode == 0:
                return
            log = _read_tail(self.logfile)
            failure = (
                f"pg_ctl start failed (exit {result.returncode}) on port {self.port}:\n"
                f"{_tail(result.stdout)}\n--- server log ({self.logfile}) ---\n{log}"
            )
            self._stop_quietly()
            if "could not bind" not in log and "already in use" not in log:
                break  # not a port race: retrying will not help
        raise PostgresUnavailable(failure)

    def _create_default_database(self) -> None:
        try:
            with psycopg.connect(
                host="127.0.0.1",
                port=self.port,
                user=SUPERUSER,
                dbname="postgres",
                autocommit=True,
                connect_timeout=10,
            ) as conn:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DEFAULT_DATABASE)))
        except psycopg.Error as exc:
            raise PostgresUnavailable(
                f"server started but is not usable on 127.0.0.1:{self.port}: {exc}\n"
                f"--- server log ---\n{_read_tail(self.logfile)}"
            ) from exc

    # -- helpers ------------------------------------------------------------ #

    def _tool(self, name: str) -> str:
        return str(self.bindir / name)

    def _run(self, cmd: Sequence[str], *, timeout: float) -> subprocess.CompletedProcess[str]:
        env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
        env.update(LC_ALL="C", LANG="C", HOME=str(self.workdir))
        owner = self.owner
        if owner is not None:
            env.update(USER=owner.pw_name, LOGNAME=owner.pw_name)
        try:
            return subprocess.run(
                list(cmd),
                cwd=self.workdir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                timeout=timeout,
                check=False,
                # PostgreSQL refuses to run as root: drop to the service user.
                user=owner.pw_uid if owner is not None else None,
                group=owner.pw_gid if owner is not None else None,
                extra_groups=[] if owner is not None else None,
            )
        except subprocess.TimeoutExpired as exc:
            output = exc.output if isinstance(exc.output, str) else ""
            return subprocess.CompletedProcess(
                list(cmd), 124, f"timed out after {timeout}s\n{output}"
            )
        except OSError as exc:
            return subprocess.CompletedProcess(list(cmd), 127, f"could not run {cmd[0]}: {exc}")

    def _stop_quietly(self) -> bool:
        """``pg_ctl stop -m immediate``, waiting for the server to go; True if it went."""
        if not (self.datadir / "postmaster.pid").exists():
            return True
        result = self._run(
            [
                self._tool("pg_ctl"),
                "-D",
                str(self.datadir),
                "-m",
                "immediate",
                "-w",
                "-t",
                str(START_TIMEOUT),
                "stop",
            ],
            timeout=START_TIMEOUT + 15,
        )
        return result.returncode == 0

    def _kill_postmaster(self) -> None:
        """Last resort when pg_ctl could not stop the server we started."""
        try:
            pid = int((self.datadir / "postmaster.pid").read_text().splitlines()[0])
        except (OSError, ValueError, IndexError):
            return
        if pid > 1:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)


def _service_owner() -> pwd.struct_passwd | None:
    """The user the server must run as: ``postgres`` when we are root, else us."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(SERVICE_USER)
    except KeyError:
        raise PostgresUnavailable(
            f"running as root, and PostgreSQL refuses to run as root, but there is no "
            f"{SERVICE_USER!r} system user to run it as"
        ) from None


def _temp_parent(owner: pwd.struct_passwd | None) -> Path:
    """A directory for the temp dir that ``owner`` can reach (every ancestor o+x)."""
    base = Path(tempfile.gettempdir())
    if owner is None:
        return base
    for candidate in (base, Path("/tmp")):  # fallback when $TMPDIR is private
        if _traversable_by_others(candidate):
            return candidate
    raise PostgresUnavailable(
        f"neither {base} nor /tmp is traversable by the {SERVICE_USER!r} user; "
        "set TMPDIR to a directory whose ancestors are all o+x"
    )


def _traversable_by_others(path: Path) -> bool:
    try:
        resolved = path.resolve()
        return all(d.stat().st_mode & stat.S_IXOTH for d in (resolved, *resolved.parents))
    except OSError:
        return False


def _has_tools(directory: Path) -> bool:
    return all(
        (directory / tool).is_file() and os.access(directory / tool, os.X_OK) for tool in _TOOLS
    )


def _version_key(bindir: Path) -> tuple[int, ...]:
    """``/usr/lib/postgresql/15/bin`` -> ``(15,)``; ``9.6`` -> ``(9, 6)``."""
    return tuple(int(part) for part in re.findall(r"\d+", bindir.parent.name))


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _tail(text: str, lines: int = _LOG_TAIL_LINES) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def _read_tail(path: Path) -> str:
    try:
        return _tail(path.read_text(encoding="utf-8", errors="replace"))
    except OSError as exc:
        return f"(no server log: {exc})"
