"""The couple page says who controls what: per partner and practice, the schedule in force,
who set it, and the next five times in the partner's own zone (24-hour)."""

from __future__ import annotations

import datetime as dt
import re

import httpx
import pytest
from markupsafe import escape

from dashboard.views import control_owner, control_schedule, days_text
from scheduler import schedules as own_schedules
from scheduler import therapy
from scheduler.therapy import Control, SetBy
from storage import schedules as schedule_rows
from storage.db import Database
from storage.models import NIGHTLY_APPRECIATION, TIMING_TIP, WEEKLY_CHECKIN
from tests.dashboard.conftest import Practice, sign_in
from tests.support.bot import FakeClock


def _partner_block(page: str, name: str) -> str:
    found = re.search(
        r'<div class="partner">\s*<h3>'
        + re.escape(name)
        + r"</h3>.*?(?=<div class=\"partner\">|</section>)",
        page,
        re.S,
    )
    assert found is not None, name
    return found.group(0)


def _control_block(partner: str, label: str) -> str:
    found = re.search(r"<h4>" + re.escape(label) + r"</h4>.*?</div>", partner, re.S)
    assert found is not None, label
    return found.group(0)


async def test_the_couple_page_says_who_set_each_practice_for_each_partner(
    client: httpx.AsyncClient, db: Database, clock: FakeClock, practice: Practice
) -> None:
    # Maya chose her own evening; Jonas turned the timing tips off.
    db.call(
        own_schedules.set_schedule,
        practice.maya_id,
        NIGHTLY_APPRECIATION,
        dt.time(22, 30),
        frozenset(range(7)),
        clock(),
    )
    assert db.call(schedule_rows.turn_off_own, practice.jonas_id, TIMING_TIP, clock())
    await sign_in(client, db, practice.therapist_id, clock)

    page = (await client.get(f"/couples/{practice.couple_id}")).text

    maya, jonas = _partner_block(page, "Maya"), _partner_block(page, "Jonas")
    maya_nightly = _control_block(maya, "Nightly appreciation")
    assert "Changed by Maya: 22:30</span>. Every day at 22:30" in maya_nightly
    assert maya_nightly.count("<li>") == 5
    assert "<li>Mon 23 Nov 22:30</li>" in maya_nightly
    jonas_nightly = _control_block(jonas, "Nightly appreciation")
    assert "Set by you</span>. Every day at 21:00" in jonas_nightly
    assert "<li>Mon 23 Nov 21:00</li>" in jonas_nightly  # his own evening, in New York
    assert "Turned off by Jonas" in _control_block(jonas, "Timing tip")
    assert "<li>" not in _control_block(jonas, "Timing tip")
    # The shared check-in is Sunday 19:00 in Berlin: 13:00 for Jonas, in his zone.
    jonas_checkin = _control_block(jonas, "Weekly check-in")
    assert "Set by you</span>. Sun at 19:00 (Europe/Berlin time)" in jonas_checkin
    assert "<li>Sun 29 Nov 13:00</li>" in jonas_checkin
    assert "Set by you</span>. Sun at 19:00</p>" in _control_block(maya, "Weekly check-in")
    # Before saving: the partners are told, and their own choices stand.
    note = page[page.index('id="schedule-note"') :]
    assert "each partner who agreed gets a short message" in note
    assert str(escape("A partner's own choice wins.")) in note
    assert str(escape("Maya's nightly appreciation (22:30); Jonas's timing tip (off)")) in note
    assert 'aria-describedby="schedule-note">Save schedule' in page
    assert 'aria-describedby="plan-note">Save plan' in page


async def test_a_practice_outside_this_weeks_plan_says_it_is_not_running(
    client: httpx.AsyncClient, db: Database, clock: FakeClock, practice: Practice
) -> None:
    db.call(
        therapy.set_plan,
        practice.therapist_id,
        practice.couple_id,
        [{"kind": NIGHTLY_APPRECIATION, "from_week": 1}, {"kind": WEEKLY_CHECKIN, "from_week": 3}],
        clock().date(),
        clock(),
    )
    await sign_in(client, db, practice.therapist_id, clock)

    page = (await client.get(f"/couples/{practice.couple_id}")).text

    checkin = _control_block(_partner_block(page, "Maya"), "Weekly check-in")
    assert "Not running: not in this week&#39;s plan, or paused by you" in checkin


@pytest.mark.parametrize(
    ("days", "text"),
    [
        ((0, 1, 2, 3, 4, 5, 6), "every day"),
        ((6,), "Sun"),
        ((1, 3), "Tue and Thu"),
        ((0, 2, 4), "Mon, Wed and Fri"),
    ],
    ids=["all", "one", "two", "three"],
)
def test_days_read_as_a_therapist_would_say_them(days: tuple[int, ...], text: str) -> None:
    assert days_text(days) == text


@pytest.mark.parametrize(
    ("control", "owner"),
    [
        (Control(NIGHTLY_APPRECIATION, SetBy.YOU, "", "21:00", (0,)), "Set by you"),
        (Control(NIGHTLY_APPRECIATION, SetBy.PARTNER, "Maya", "22:30"), "Changed by Maya: 22:30"),
        (Control(WEEKLY_CHECKIN, SetBy.PARTNER, "", "19:00"), "Changed by the couple: 19:00"),
        (Control(TIMING_TIP, SetBy.TURNED_OFF, "Jonas"), "Turned off by Jonas"),
        (Control(TIMING_TIP, SetBy.TURNED_OFF, ""), "Turned off by their partner"),
        (Control(TIMING_TIP, SetBy.OTHER_THERAPIST, "", "18:00"), "Set by another therapist"),
    ],
    ids=["you", "partner", "couple", "off", "off-by-unagreed", "other-therapist"],
)
def test_who_set_it_is_said_plainly(control: Control, owner: str) -> None:
    assert control_owner(control) == owner


def test_a_schedule_reads_in_24_hour_time_with_its_window_and_zone() -> None:
    control = Control(
        NIGHTLY_APPRECIATION, SetBy.YOU, "", "21:05", tuple(range(7)), 30, "Europe/Berlin"
    )
    assert control_schedule(control, "Europe/Berlin") == (
        "Every day at 21:05, spread over 30 minutes"
    )
    assert control_schedule(control, "UTC") == (
        "Every day at 21:05, spread over 30 minutes (Europe/Berlin time)"
    )
    assert control_schedule(Control(TIMING_TIP, SetBy.NOT_RUNNING), "UTC") == "Not scheduled"
