"""Freeze a release's migrations and snapshot the schema it leaves behind.

Run once per release, from the repository root, and commit what it writes:

    .venv/bin/python -m tests.data.release_snapshot 0.2.0

It appends `release 0.2.0` and the sha256 of every migration not yet listed to
storage/migrations/released.txt, then builds a fresh SQLite database and a fresh
PostgreSQL database (on the suite's throwaway server) with every migration, and dumps
their schemas to tests/data/schema_0.2.0_sqlite.sql and schema_0.2.0_postgresql.sql.
tests/test_migrations.py upgrades databases loaded from those files to head.

The same helpers serve the tests: reading the manifest, checking it, loading a snapshot.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import make_url

from storage.db import MIGRATIONS_DIR, make_engine, normalise_url, upgrade

VERSIONS_DIR = MIGRATIONS_DIR / "versions"
MANIFEST = MIGRATIONS_DIR / "released.txt"
DATA_DIR = Path(__file__).resolve().parent
DIALECTS = ("sqlite", "postgresql")
EDITED = "released migrations are never edited: add a new one"

_RELEASE = re.compile(r"release (\S+)")
_ENTRY = re.compile(r"([0-9a-f]{64})  (\S+\.py)")
# pg_dump lines that are psql commands or session settings, not schema, and that differ
# between PostgreSQL versions (`\restrict`, `SET transaction_timeout`, ...).
_PG_NOISE = re.compile(r"^(\\|SET |SELECT pg_catalog\.set_config\()")


@dataclass(frozen=True)
class Release:
    version: str
    files: dict[str, str]  # migration file name -> sha256 of its bytes


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_manifest(path: Path = MANIFEST) -> list[Release]:
    """The releases in the manifest, oldest first."""
    releases: list[Release] = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if match := _RELEASE.fullmatch(line):
            releases.append(Release(match[1], {}))
        elif (match := _ENTRY.fullmatch(line)) and releases:
            releases[-1].files[match[2]] = match[1]
        else:
            raise ValueError(f"{path}:{number}: not a 'release X' line or '<sha256>  <file>'")
    return releases


def release_problems(manifest: Path = MANIFEST, versions: Path = VERSIONS_DIR) -> list[str]:
    """One line per released migration that changed or disappeared."""
    problems = []
    for release in read_manifest(manifest):
        for name, expected in release.files.items():
            path = versions / name
            if not path.is_file():
                problems.append(f"{name} (released in {release.version}) is gone")
            elif sha256(path) != expected:
                problems.append(f"{name} (released in {release.version}) was edited")
    return problems


def snapshot_path(version: str, dialect: str) -> Path:
    return DATA_DIR / f"schema_{version}_{dialect}.sql"


def dump_schema(url: str) -> str:
    """The schema of the database at `url` (and the alembic_version row), as SQL."""
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "sqlite":
        with sqlite3.connect(parsed.database or "") as conn:
            return "".join(line.rstrip() + "\n" for line in "\n".join(conn.iterdump()).split("\n"))
    return _pg_dump(url)


def _pg_dump(url: str) -> str:
    from fakes.postgres import find_pg_bin

    bindir = find_pg_bin()
    pg_dump = shutil.which("pg_dump", path=str(bindir)) if bindir else shutil.which("pg_dump")
    if pg_dump is None:
        raise SystemExit("pg_dump not found: install PostgreSQL's client binaries")
    server = make_url(url)
    result = subprocess.run(
        [
            pg_dump,
            "--host",
            server.host or "127.0.0.1",
            "--port",
            str(server.port or 5432),
            "--username",
            server.username or "",
            "--no-owner",
            "--no-privileges",
            "--no-comments",
            "--inserts",
            server.database or "",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    lines = [line for line in result.stdout.splitlines() if not _PG_NOISE.match(line)]
    # Drop pg_dump's version banner too, so the file does not change with the client.
    lines = [line for line in lines if not line.startswith("-- Dumped ")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"


def load_schema(url: str, script: str) -> None:
    """Run a snapshot written by `dump_schema` against the (empty) database at `url`."""
    engine = make_engine(url)
    try:
        raw = engine.raw_connection()
        try:
            if engine.dialect.name == "sqlite":
                raw.driver_connection.executescript(script)  # type: ignore[union-attr]
            else:
                # No parameters: psycopg sends the whole script as one simple query.
                raw.cursor().execute(script)
            raw.commit()
        finally:
            raw.close()
    finally:
        engine.dispose()


def append_release(
    version: str, manifest: Path = MANIFEST, versions: Path = VERSIONS_DIR
) -> list[str]:
    """List every migration not yet in the manifest under `release <version>`."""
    releases = read_manifest(manifest)
    if any(release.version == version for release in releases):
        raise SystemExit(f"{version} is already in {manifest}")
    listed = {name for release in releases for name in release.files}
    new = sorted(p.name for p in versions.glob("*.py") if p.name not in listed)
    lines = [f"release {version}", *(f"{sha256(versions / n)}  {n}" for n in new)]
    with manifest.open("a", encoding="utf-8") as out:
        out.write("\n" + "\n".join(lines) + "\n")
    return new


def write_snapshots(version: str) -> list[Path]:
    """Migrate fresh SQLite and PostgreSQL databases to head and dump their schemas."""
    from fakes.postgres import create_database, throwaway_postgres

    written = []
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'release.db'}"
        upgrade(url)
        written.append(snapshot_path(version, "sqlite"))
        written[-1].write_text(dump_schema(url), encoding="utf-8")
    with throwaway_postgres() as server:
        url = create_database(server, "release")
        upgrade(url)
        written.append(snapshot_path(version, "postgresql"))
        written[-1].write_text(dump_schema(url), encoding="utf-8")
    return written


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__)
        return 2
    version = argv[0]
    new = append_release(version)
    print(f"{MANIFEST}: release {version} freezes {', '.join(new) or 'no new migrations'}")
    for path in write_snapshots(version):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
