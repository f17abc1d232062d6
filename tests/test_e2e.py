"""End to end: the real `nudgebot` process against the fake Bot API on loopback."""

from __future__ import annotations

import datetime as dt
import signal
import socket
import time
from pathlib import Path

import pytest
from sqlalchemy import select, update

from fakes.telegram_api import FakeTelegram
from scheduler import schedules
from scheduler.rules import EVERY_DAY
from scheduler.schedules import set_schedule
from storage import people
from storage.db import Database
from storage.models import Delivery, Person, Schedule
from tests.conftest import TOKEN, _emptied
from tests.support.polling import wait_until
from tests.support.process import BotProcess, run_cli

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture(params=["sqlite-default", "postgresql"])
def e2e_database(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    """Environment for the database: nothing (the default SQLite file) or PostgreSQL."""
    if request.param == "sqlite-default":
        return {}
    server = request.getfixturevalue("postgres_server")
    if server is None:
        pytest.skip("PostgreSQL unavailable (NUDGEBOT_ALLOW_NO_POSTGRES=1)")
    return {"DATABASE_URL": _emptied(server)}


def test_a_new_user_is_onboarded_by_the_real_process(
    fake: FakeTelegram, tmp_path: Path, e2e_database: dict[str, str]
) -> None:
    env = {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": fake.base_url,
        "POLL_TIMEOUT_SECONDS": "1",
        "LOG_LEVEL": "DEBUG",
        **e2e_database,
    }
    with BotProcess(tmp_path, **env) as bot:
        sam = fake.user(4242, first_name="Sam", language_code="en")
        sam.send("/start")
        welcome = sam.wait_for_message("not therapy", timeout=30)
        assert welcome.button_texts == ["Yes, I agree", "Not now"]
        sam.press_button("Yes, I agree")
        sam.wait_for_message("What would you like me to call you?")
        sam.send("Samira-Unique-Name")
        sam.wait_for_message("Which time zone")
        sam.send("new york")
        sam.wait_for_message("America/New_York")
        sam.send("/nightly 21:15")
        sam.wait_for_message("every day at 21:15 (America/New_York)")
        sam.send("/settings")
        sam.wait_for_message("Name: Samira-Unique-Name")
        assert {c["command"] for c in fake.commands} >= {"start", "settings", "delete"}
        code = bot.stop(signal.SIGTERM)
    assert code == 0
    log = bot.log
    starting = [line for line in log.splitlines() if "nudgebot starting" in line]
    assert len(starting) == 1
    assert fake.base_url in starting[0]
    expected_db = e2e_database.get("DATABASE_URL", "sqlite:///nudgebot.db")
    assert expected_db.split("@")[-1] in starting[0]
    assert TOKEN not in log and TOKEN.split(":")[1] not in log
    assert "Samira-Unique-Name" not in log
    assert "stopped cleanly" in log
    if not e2e_database:
        assert (tmp_path / "nudgebot.db").exists()


def test_sigint_stops_cleanly(fake: FakeTelegram, tmp_path: Path) -> None:
    with BotProcess(
        tmp_path,
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=fake.base_url,
        POLL_TIMEOUT_SECONDS="1",
    ) as bot:
        bot.wait_for_log("polling for updates", timeout=30)
        assert bot.stop(signal.SIGINT) == 0
    assert "Traceback" not in bot.log


def test_sigterm_while_telegram_is_unreachable_stops_at_once(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    with BotProcess(
        tmp_path,
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=f"http://127.0.0.1:{closed}/bot",
    ) as bot:
        bot.wait_for_log("Telegram unreachable", timeout=30)
        started = time.monotonic()
        assert bot.stop(signal.SIGTERM, timeout=10) == 0
        assert time.monotonic() - started < 5
    assert "stopped before Telegram could be reached" in bot.log
    assert "Traceback" not in bot.log


@pytest.mark.parametrize(
    ("env", "says"),
    [
        pytest.param({}, "TELEGRAM_BOT_TOKEN is not set", id="missing-token"),
        pytest.param(
            {"TELEGRAM_BOT_TOKEN": "not-a-token"},
            "TELEGRAM_BOT_TOKEN does not look",
            id="malformed-token",
        ),
        pytest.param(
            {"TELEGRAM_BOT_TOKEN": TOKEN, "LOG_LEVEL": "LOUD"},
            "LOG_LEVEL must be",
            id="bad-log-level",
        ),
        pytest.param(
            {"TELEGRAM_BOT_TOKEN": TOKEN, "DATABASE_URL": "mysql://x"},
            "DATABASE_URL must start",
            id="unsupported-database",
        ),
        pytest.param(
            {"TELEGRAM_BOT_TOKEN": TOKEN, "RATE_LIMIT_PER_SECOND": "fast"},
            "RATE_LIMIT_PER_SECOND",
            id="bad-number",
        ),
    ],
)
def test_bad_configuration_is_one_clear_line_and_exit_2(
    tmp_path: Path, env: dict[str, str], says: str
) -> None:
    result = run_cli("run", cwd=tmp_path, **env)
    assert result.returncode == 2
    assert says in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    if "TOKEN" in says:
        assert "@BotFather" in result.stderr
    assert "not-a-token" not in result.stderr


def test_a_token_telegram_rejects_is_explained(tmp_path: Path) -> None:
    with FakeTelegram(token="999:wrong-token-for-this-test-xxxxxxxxxxxxx") as fake:
        result = run_cli(
            "run", cwd=tmp_path, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL=fake.base_url
        )
    assert result.returncode == 2
    assert "Telegram refused TELEGRAM_BOT_TOKEN" in result.stderr
    assert TOKEN not in result.stderr


def test_every_command_has_help(tmp_path: Path) -> None:
    for args in [(), ("run",), ("db",), ("db", "upgrade"), ("preview",)]:
        result = run_cli(*args, "--help", cwd=tmp_path)
        assert result.returncode == 0, args
        assert len(result.stdout.splitlines()) >= 3


def test_db_upgrade_and_preview_work_from_the_command_line(tmp_path: Path) -> None:
    result = run_cli("db", "upgrade", cwd=tmp_path)
    assert result.returncode == 0
    assert "up to date" in result.stdout
    assert (tmp_path / "nudgebot.db").exists()
    result = run_cli("preview", "onboarding/welcome", "--var", "first_name=<Kim>", cwd=tmp_path)
    assert result.returncode == 0
    assert "Hello, &lt;Kim&gt;." in result.stdout
    result = run_cli("preview", "no/such/template", cwd=tmp_path)
    assert result.returncode == 2
    assert "nudgebot preview list" in result.stderr
    result = run_cli("preview", "list", cwd=tmp_path)
    assert "onboarding/welcome" in result.stdout.splitlines()


def _seed_due(
    url: str, count: int, due: dt.datetime, first_id: int = 5000, now: dt.datetime | None = None
) -> None:
    """`count` people in UTC (Telegram ids from `first_id`), each with a nightly prompt due
    at `due` + i seconds, made at `now` (a minute before `due` unless given)."""
    db = Database(url)
    now = now or due - dt.timedelta(minutes=1)
    for i in range(count):
        user_id = first_id + i
        person, _ = db.call(people.give_consent, user_id, user_id, f"P{i}", "en", now)
        db.call(schedules.set_timezone, person.id, "UTC", now)
        db.call(set_schedule, person.id, "nightly_appreciation", dt.time(21, 0), EVERY_DAY, now)
        with db.session() as session:
            session.execute(
                update(Schedule)
                .where(Schedule.person_id == person.id)
                .values(next_fire_at=due + dt.timedelta(seconds=i))
            )
    db.close()


def _statuses(url: str) -> dict[str, int]:
    db = Database(url)
    with db.session() as session:
        rows = session.scalars(select(Delivery.status)).all()
    db.close()
    counts: dict[str, int] = {}
    for status in rows:
        counts[status] = counts.get(status, 0) + 1
    return counts


# A person whose nudge is a barrier: see _after_a_full_drain.
CANARY = 4999


def _seed_canary(url: str) -> None:
    """The canary's nightly prompt, due tomorrow until _after_a_full_drain makes it due."""
    now = dt.datetime.now(dt.UTC)
    _seed_due(url, 1, now + dt.timedelta(days=1), first_id=CANARY, now=now)


def _after_a_full_drain(url: str, fake: FakeTelegram, bot: BotProcess) -> None:
    """A barrier for "nothing more was sent": stop `bot` after a drain that began now.

    The canary's prompt becomes due now; when it arrives, the dispatcher has claimed it in a
    drain that began after this call, and SIGTERM lets the drain in flight finish. Anything
    a wrong dispatcher would send again (a delivery already sent, ambiguous or missed) has
    reached the fake by the time the process has exited.
    """
    canary = fake.user(CANARY)  # a chat the fake knows before anything is sent to it
    db = Database(url)
    with db.session() as session:
        person_id = session.scalar(select(Person.id).where(Person.telegram_user_id == CANARY))
        session.execute(
            update(Schedule)
            .where(Schedule.person_id == person_id)
            .values(next_fire_at=dt.datetime.now(dt.UTC))
        )
    db.close()
    canary.wait_for_message(timeout=30)
    assert bot.stop() == 0


def test_sigkill_mid_batch_then_restart_delivers_each_nudge_exactly_once(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    run_cli("db", "upgrade", cwd=tmp_path, DATABASE_URL=url)
    count = 30
    due = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=60)
    _seed_due(url, count, due)
    _seed_canary(url)
    users = [fake.user(5000 + i, first_name=f"P{i}") for i in range(count)]
    # The second chunk of ten is held inside "Telegram" when the process dies; Telegram
    # still delivers it, as it would for a client that vanished mid-request.
    second_chunk = [u.chat_id for u in users[10:20]]
    for chat_id in second_chunk:
        fake.delay_next("sendMessage", 3, chat_id=chat_id)
    env = {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": fake.base_url,
        "DATABASE_URL": url,
        "POLL_TIMEOUT_SECONDS": "1",
        "DISPATCH_BATCH_SIZE": "10",
        "RATE_LIMIT_PER_SECOND": "0",
        "RATE_LIMIT_PER_CHAT_PER_SECOND": "0",
    }

    def received(chat_ids: list[int]) -> bool:
        asked = {c.params.get("chat_id") for c in fake.calls_to("sendMessage")}
        return all(chat_id in asked for chat_id in chat_ids)

    with BotProcess(tmp_path, **env) as first:
        wait_until(
            lambda: received(second_chunk), timeout=30, what="the second chunk to reach Telegram"
        )
        first.kill()
    assert _statuses(url).get("sending") == 10

    with BotProcess(tmp_path, **env) as second:
        wait_until(
            lambda: all(len(u.messages()) >= 1 for u in users), timeout=30, what="every nudge"
        )
        _after_a_full_drain(url, fake, second)
    per_person = [len(u.messages()) for u in users]
    assert per_person == [1] * count
    assert len(fake.user(CANARY).messages()) == 1
    assert _statuses(url) == {"sent": 21, "ambiguous": 10}
    assert "10 deliveries were in flight when their process stopped" in second.log


def test_downtime_longer_than_grace_records_missed_and_sends_nothing(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    run_cli("db", "upgrade", cwd=tmp_path, DATABASE_URL=url)
    # Due two hours ago; the nightly prompt's grace is one hour.
    due = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=2)
    _seed_due(url, 3, due)
    _seed_canary(url)
    users = [fake.user(5000 + i) for i in range(3)]
    with BotProcess(
        tmp_path,
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=fake.base_url,
        DATABASE_URL=url,
        POLL_TIMEOUT_SECONDS="1",
    ) as bot:
        wait_until(
            lambda: _statuses(url).get("missed") == 3,
            timeout=30,
            what="missed to be recorded",
            details=lambda: str(_statuses(url)),
        )
        _after_a_full_drain(url, fake, bot)
    assert [u.messages() for u in users] == [[], [], []]
    db = Database(url)
    with db.session() as session:
        next_fires = session.scalars(select(Schedule.next_fire_at)).all()
    db.close()
    assert all(n is not None and n > dt.datetime.now(dt.UTC) for n in next_fires)
    assert "3 nudges were missed past their grace period" in bot.log


def test_the_dashboard_is_served_by_the_same_process(fake: FakeTelegram, tmp_path: Path) -> None:
    import socket
    import urllib.error
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with BotProcess(
        tmp_path,
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=fake.base_url,
        POLL_TIMEOUT_SECONDS="1",
        DASHBOARD_PORT=str(port),
    ) as bot:
        bot.wait_for_log("therapist dashboard on 127.0.0.1", timeout=30)
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/login/not-a-token", timeout=5)
        assert refused.value.code == 403
        assert bot.stop() == 0


def test_a_dashboard_port_in_use_is_one_clear_line(fake: FakeTelegram, tmp_path: Path) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_cli(
            "run",
            cwd=tmp_path,
            TELEGRAM_BOT_TOKEN=TOKEN,
            TELEGRAM_API_BASE_URL=fake.base_url,
            POLL_TIMEOUT_SECONDS="1",
            DASHBOARD_PORT=str(port),
        )
    assert result.returncode == 1
    assert "could not listen" in result.stderr
    assert "Traceback" not in result.stderr
