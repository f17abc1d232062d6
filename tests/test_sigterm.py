"""SIGTERM in the middle of a burst: the real `nudgebot run` finishes what is in flight,
leaves nothing `sending` or `queued`, and exits 0 within a few seconds; a restart then
sends the rest, each exactly once.

This is what a rolling restart (systemd, a container orchestrator) does to a process.
"""

from __future__ import annotations

import datetime as dt
import re
import signal
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from fakes.telegram_api import FakeTelegram
from storage.db import Database
from storage.models import Delivery, Person
from tests.conftest import TOKEN, _emptied
from tests.support.polling import wait_until
from tests.support.process import BotProcess, run_cli
from tests.test_e2e import _seed_due, _statuses

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PEOPLE = 90
FIRST_ID = 7000
# Long enough that requests are surely in flight when the signal lands.
ANSWER_DELAY = 0.4
# "A few seconds": the chunk in flight (about two seconds of sends at 30/s) plus answers.
STOP_WITHIN = 6.0


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url_for_process(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'bot.db'}"
    server = request.getfixturevalue("postgres_server")
    if server is None:
        pytest.skip("PostgreSQL unavailable (NUDGEBOT_ALLOW_NO_POSTGRES=1)")
    return _emptied(server)


def _sent_rows_by_chat(url: str) -> Counter[int]:
    """Chat ids of the deliveries recorded `sent`, counted."""
    db = Database(url)
    with db.session() as session:
        chats = session.scalars(
            select(Person.chat_id)
            .join(Delivery, Delivery.person_id == Person.id)
            .where(Delivery.status == "sent")
        ).all()
    db.close()
    return Counter(int(c) for c in chats)


def _ops_port(bot: BotProcess) -> int:
    bot.wait_for_log("ops endpoint on")
    found = re.search(r"ops endpoint on [^:]+:(\d+)", bot.log)
    assert found is not None, bot.log
    return int(found.group(1))


def test_sigterm_mid_burst_finishes_in_flight_and_loses_nothing(
    tmp_path: Path, database_url_for_process: str
) -> None:
    url = database_url_for_process
    result = run_cli("db", "upgrade", cwd=tmp_path, DATABASE_URL=url)
    assert result.returncode == 0, result.stderr
    # _seed_due spaces the due times a second apart: starting PEOPLE seconds ago (well inside
    # the nightly prompt's hour of grace), all of them are due at once.
    _seed_due(url, PEOPLE, dt.datetime.now(dt.UTC) - dt.timedelta(seconds=2 * PEOPLE), FIRST_ID)
    with FakeTelegram(token=TOKEN, enforce_rate_limits=True) as fake:
        users = [fake.user(FIRST_ID + i, first_name=f"P{i}") for i in range(PEOPLE)]
        fake.delay_next("sendMessage", ANSWER_DELAY, times=PEOPLE * 2)
        env = {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": fake.base_url,
            "DATABASE_URL": url,
            "POLL_TIMEOUT_SECONDS": "1",
            "OPS_PORT": "0",
        }
        with BotProcess(tmp_path, **env) as bot:
            port = _ops_port(bot)
            wait_until(
                lambda: len(fake.calls_to("sendMessage")) >= 20,
                timeout=30,
                what="the burst to be under way",
                details=lambda: bot.log,
            )
            # The real process answers its ops port mid-burst.
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
                assert client.get("/healthz").status_code == 200
                ready = client.get("/readyz")
                assert ready.status_code == 200, ready.text
                metrics = client.get("/metrics").text
            assert 'nudgebot_queue_depth{stage="claimed"}' in metrics
            started = time.monotonic()
            code = bot.stop(signal.SIGTERM, timeout=20)
            took = time.monotonic() - started
        first_log = bot.log
        assert code == 0, first_log
        assert took < STOP_WITHIN, f"took {took:.1f} s to stop:\n{first_log}"
        assert "stopped cleanly" in first_log

        statuses = _statuses(url)
        assert statuses.get("sending", 0) == 0, statuses
        assert statuses.get("queued", 0) == 0, statuses
        assert statuses.get("ambiguous", 0) == 0, statuses
        # What is recorded sent is exactly what Telegram received: nothing in flight was
        # abandoned, nothing was recorded that did not arrive.
        received = Counter(m.chat_id for u in users for m in u.messages())
        assert _sent_rows_by_chat(url) == received
        assert set(received.values()) == {1}
        stopped_after = sum(received.values())
        assert 0 < stopped_after < PEOPLE, "the signal should land mid-burst"

        with BotProcess(tmp_path, **env) as second:
            wait_until(
                lambda: all(len(u.messages()) >= 1 for u in users),
                timeout=60,
                what="every nudge after the restart",
                details=lambda: str(_statuses(url)),
            )
            assert second.stop(signal.SIGTERM) == 0
        assert [len(u.messages()) for u in users] == [1] * PEOPLE
        assert _statuses(url) == {"sent": PEOPLE}
        assert fake.too_many_requests == 0
