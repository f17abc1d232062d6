"""Settings, logging redaction, the database set-up and the migrations."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from bot.logs import RedactingFormatter, redact
from bot.settings import Settings, SettingsError, load_settings
from storage.db import Database, describe_url, make_engine
from storage.models import Base, Person
from tests.conftest import TOKEN


def test_settings_come_from_a_dotenv_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    (tmp_path / ".env").write_text(f"TELEGRAM_BOT_TOKEN={TOKEN}\nLOG_LEVEL=debug\n")
    settings = load_settings()
    assert settings.token == TOKEN
    assert settings.log_level == "DEBUG"
    assert TOKEN not in repr(settings)


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("TELEGRAM_BOT_TOKEN", "12345", "TELEGRAM_BOT_TOKEN does not look like a bot token"),
        ("DATABASE_URL", "mysql://x", "DATABASE_URL must start with"),
        ("TELEGRAM_API_BASE_URL", "ftp://x", "TELEGRAM_API_BASE_URL must be an http(s) URL"),
        ("LOG_LEVEL", "chatty", "LOG_LEVEL must be one of"),
        ("RATE_LIMIT_PER_SECOND", "-1", "RATE_LIMIT_PER_SECOND"),
        ("POLL_TIMEOUT_SECONDS", "500", "POLL_TIMEOUT_SECONDS"),
    ],
)
def test_a_bad_setting_names_its_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str, value: str, says: str
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as raised:
        load_settings()
    assert says in str(raised.value)
    assert value not in str(raised.value) or name != "TELEGRAM_BOT_TOKEN"


def test_a_missing_token_says_how_to_get_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    with pytest.raises(SettingsError, match="@BotFather"):
        _ = Settings().token


def test_the_formatter_masks_tokens_even_inside_tracebacks() -> None:
    formatter = RedactingFormatter("%(message)s", secrets=(TOKEN,))
    try:
        raise RuntimeError(f"The token `{TOKEN}` was rejected")
    except RuntimeError:
        import sys

        record = logging.LogRecord(
            "x", logging.ERROR, __file__, 1, "failed with %s", (TOKEN,), sys.exc_info()
        )
    line = formatter.format(record)
    assert TOKEN not in line
    assert line.count("<token>") >= 2
    assert redact("url /bot987654321:ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef123/getMe") == (
        "url /bot<token>/getMe"
    )


def test_database_urls_hide_passwords_in_the_log() -> None:
    assert describe_url("postgresql+psycopg://u:secret@h/db") == "postgresql+psycopg://u:***@h/db"
    assert describe_url("postgresql://u:secret@h/db").startswith("postgresql+psycopg://")


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 5000
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    engine.dispose()


def test_the_migrations_match_the_models(database_url: str) -> None:
    engine = make_engine(database_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == []


def test_timestamps_are_aware_utc_on_the_way_back(db: Database) -> None:
    berlin = dt.timezone(dt.timedelta(hours=1))
    consented = dt.datetime(2026, 3, 29, 3, 30, tzinfo=berlin)
    with db.session() as session:
        session.add(
            Person(
                telegram_user_id=1,
                chat_id=1,
                display_name="A",
                language="en",
                consented_at=consented,
                created_at=consented,
            )
        )
    with db.session() as session:
        person = session.query(Person).one()
        assert person.consented_at == consented
        assert person.consented_at.tzinfo == dt.UTC


def test_a_naive_timestamp_is_refused(db: Database) -> None:
    with pytest.raises(Exception, match="naive"), db.session() as session:
        session.add(
            Person(
                telegram_user_id=1,
                chat_id=1,
                display_name="A",
                language="en",
                consented_at=dt.datetime(2026, 1, 1),
                created_at=dt.datetime(2026, 1, 1),
            )
        )
        session.flush()
