"""End to end with two people: the real process, its wall clock set just before 20:00 UTC.

Ana is in Berlin (21:00 = 20:00 UTC), Ben in New York (15:00 = 20:00 UTC): six hours apart.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from fakes.telegram_api import FakeTelegram
from storage.db import Database
from storage.models import Delivery
from tests.conftest import TOKEN
from tests.support.polling import wait_until
from tests.support.process import BotProcess

# It waits for real minutes to pass on the process's clock: longer than the default limit.
pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(400)]

# A Monday. The set-up below must finish before 20:00 UTC; a loaded CI machine needs room.
START = dt.datetime(2026, 11, 23, 19, 58, 50, tzinfo=dt.UTC)
QUIET_ENDS = dt.datetime(2026, 11, 23, 20, 1, tzinfo=dt.UTC)


def test_two_partners_pair_share_thank_and_check_in(fake: FakeTelegram, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    env = {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": fake.base_url,
        "DATABASE_URL": url,
        "POLL_TIMEOUT_SECONDS": "1",
    }
    ana = fake.user(7001, first_name="Ana")
    ben = fake.user(7002, first_name="Ben")
    with BotProcess(tmp_path, starts_at=START.isoformat(), **env) as bot:
        ana.send("/start")
        ana.wait_for_message("not therapy", timeout=30)
        ana.press_button("Yes, I agree")
        ana.wait_for_message("call you")
        ana.press_button("Ana")
        ana.wait_for_message("time zone")
        ana.send("Europe/Berlin")
        ana.wait_for_message("You're all set")
        ana.send("/pair")
        link = ana.wait_for_message("pairing link").text
        ana.wait_for_message("No pressure")
        payload = re.search(r"start=(p_[A-Za-z0-9_-]+)", link).group(1)  # type: ignore[union-attr]

        ben.send(f"/start {payload}")
        assert "Ana" in ben.wait_for_message("invited you to pair").text
        ben.press_button("Join")
        ben.wait_for_message("not therapy")
        ben.press_button("Yes, I agree")
        ben.wait_for_message("call you")
        ben.press_button("Ben")
        ben.wait_for_message("time zone")
        ben.send("America/New_York")
        ben.wait_for_message("You're paired with Ana")
        ana.wait_for_message("Ben accepted your invitation")

        ana.send("/nightly 21:00")
        ana.wait_for_message("every day at 21:00 (Europe/Berlin)")
        ben.send("/quiet 14:00-15:01")
        ben.wait_for_message("Quiet hours: 14:00-15:01")
        ana.send("/checkin mon 21:01")
        ana.wait_for_message("I've asked Ben")
        assert "Mondays at 15:01 your time" in ben.wait_for_message("weekly check-in").text
        ben.press_button("That works")
        ben.wait_for_message("Your weekly check-in is set")
        ana.wait_for_message("Your weekly check-in is set")

        # 21:00 in Berlin: Ana's prompt, at her local time.
        prompt = ana.wait_for_message(lambda m: "Snooze an hour" in m.button_texts, timeout=120)
        assert prompt.button_texts[0] == "Snooze an hour"
        ana.send("Your calm when the train was late. I felt safe with you.")
        ana.wait_for_message("Would you like to share this with Ben")
        ana.press_button("Share with Ben")
        ana.wait_for_message("On its way to Ben")

        # Ben's quiet hours hold it: sent_at, checked below, says it went out after they ended.
        relay = ben.wait_for_message("Ana wrote an appreciation for you", timeout=90)
        assert "Your calm when the train was late." in relay.text
        relays = [m.message_id for m in ben.messages() if "calm when the train" in (m.text or "")]
        assert relays == [relay.message_id]
        ben.press_button("Thank you")
        # Ana learns it arrived: from the thanks (and a receipt, if it was not thanked first).
        ana.wait_for_message("Ben read your appreciation and says thank you", timeout=20)

        # 21:01 Berlin / 15:01 New York: the check-in reaches both at the agreed time.
        wait_until(
            lambda: all(
                any("We did it" in m.button_texts for m in u.messages()) for u in (ana, ben)
            ),
            timeout=30,
            what="the check-in to reach both",
        )
        ben.press_button("Snooze an hour")
        moved = ben.wait_for_message("Snoozed").text
        told = ana.wait_for_message("Ben moved this week's check-in").text
        ben_time = re.search(r"back (\w+ \d\d:\d\d)", moved).group(1)  # type: ignore[union-attr]
        ana_time = re.search(r"to (\w+ \d\d:\d\d) your time", told).group(1)  # type: ignore[union-attr]
        ben_hour, ana_hour = int(ben_time[-5:-3]), int(ana_time[-5:-3])
        assert (ana_hour - ben_hour) % 24 == 6
        assert bot.stop() == 0

    db = Database(url)
    with db.session() as session:
        [relayed] = session.scalars(select(Delivery).where(Delivery.kind == "appreciation"))
        [prompt_row] = session.scalars(
            select(Delivery).where(Delivery.kind == "nightly_appreciation")
        )
    db.close()
    assert relayed.sent_at is not None and relayed.sent_at >= QUIET_ENDS
    assert prompt_row.due_at == dt.datetime(2026, 11, 23, 20, 0, tzinfo=dt.UTC)
