"""Alembic environment. It imports nothing outside `storage`.

The database URL, first found wins:

1. `config.attributes["database_url"]`, set by `storage.db.upgrade(url)`;
2. the `sqlalchemy.url` main option, set by a caller with `config.set_main_option`
   (alembic.ini deliberately has none, so it cannot shadow DATABASE_URL);
3. the DATABASE_URL environment variable, for `alembic upgrade head` / `alembic check`
   from the command line.
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import text

from storage.db import make_engine
from storage.models import Base

config = context.config
MIGRATION_LOCK = 0x6E756467  # "nudg": the advisory lock key held while migrating


def _url() -> str:
    url = (
        config.attributes.get("database_url")
        or config.get_main_option("sqlalchemy.url")
        or os.environ.get("DATABASE_URL")
    )
    if not url:
        raise SystemExit(
            "No database URL: set DATABASE_URL (for example sqlite:///nudgebot.db) "
            "or run `nudgebot db upgrade`."
        )
    return str(url)


def run_migrations_online() -> None:
    engine = make_engine(_url())
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            # SQLite cannot ALTER most things: batch mode rebuilds tables where needed.
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            if connection.dialect.name == "postgresql":
                # Several processes starting at once: one migrates, the others wait for it
                # and then find nothing left to do.
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK}
                )
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("Offline migrations are not supported; run `nudgebot db upgrade`.")
run_migrations_online()
