"""A plan's new phase, told to each partner it changes something for: once, in their
language, at a sensible hour in their zone, and never over their own "off" or pause.

Through the real dispatch and the fake Bot API. Ana (partner A, Berlin) and Ben (partner B,
New York) are linked to Dr. Lee; the clock starts Monday 23 November 2026, 12:00 UTC, so
week 2 of a plan starting that day begins on Monday 30 November.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from fakes.telegram_api import FakeUser
from scheduler import therapy
from storage.models import NIGHTLY_APPRECIATION, WEEKLY_CHECKIN, Couple, Delivery, Schedule
from tests.support.bot import BotHarness
from tests.test_therapist import linked
from tests.test_therapist_bot import send_notices

PHASE = "A new phase of your practice plan"


def _couple_and_therapist(bot: BotHarness) -> tuple[int, int]:
    with bot.db.session() as session:
        couple_id = session.scalars(select(Couple.id)).one()
    return couple_id, 1


def _phase_messages(user: FakeUser) -> list[str]:
    return [m.text for m in user.messages() if m.text.startswith(PHASE)]


async def _set_plan(bot: BotHarness, plan: list[dict[str, object]]) -> None:
    couple_id, therapist_id = _couple_and_therapist(bot)
    now = bot.clock.now
    bot.db.call(therapy.set_plan, therapist_id, couple_id, plan, now.date(), now)
    await send_notices(bot)  # what the therapist's own save changed goes at once


async def test_each_partner_hears_of_a_new_phase_once_in_their_words_and_not_in_their_night(
    bot: BotHarness,
) -> None:
    ana, ben, _ = await linked(bot)
    await bot.say(ben, "/quiet 19:00-07:30")
    await _set_plan(
        bot,
        [
            {"kind": NIGHTLY_APPRECIATION, "from_week": 1, "to_week": 1},
            {"kind": NIGHTLY_APPRECIATION, "from_week": 2, "partner": "b", "days": [0, 2, 4]},
            {"kind": WEEKLY_CHECKIN, "from_week": 2, "every_weeks": 2},
        ],
    )
    # Week 2 begins at 00:30 UTC: Ana's night (01:30), Ben's quiet evening (19:30).
    bot.clock.set(dt.datetime(2026, 11, 30, 0, 30, tzinfo=dt.UTC))
    await bot.run_dispatcher()
    assert await send_notices(bot) == 0
    bot.clock.set(dt.datetime(2026, 11, 30, 1, 45, tzinfo=dt.UTC))
    await bot.run_dispatcher()  # the next hour's plan step
    bot.db.call(therapy.apply_plans, bot.clock.now)  # and another process's
    assert await send_notices(bot) == 0
    assert _phase_messages(ana) == [] and _phase_messages(ben) == []

    # 08:00 in Berlin: Ana's morning. Ben (02:00 in New York) still sleeps.
    bot.clock.set(dt.datetime(2026, 11, 30, 7, 0, tzinfo=dt.UTC))
    await bot.run_dispatcher()
    await send_notices(bot)
    [to_ana] = _phase_messages(ana)
    assert "The evening appreciation takes a rest for now." in to_ana
    assert "Dr. Lee suggests the weekly check-in every other Sunday at 19:00." in to_ana
    assert _phase_messages(ben) == []

    # 08:00 in New York: after Ben's quiet hours (07:30) and the night (08:00).
    bot.clock.set(dt.datetime(2026, 11, 30, 13, 0, tzinfo=dt.UTC))
    await bot.run_dispatcher()
    await send_notices(bot)
    [to_ben] = _phase_messages(ben)
    assert "Dr. Lee suggests the evening appreciation on Mon, Wed and Fri at 21:00." in to_ben
    assert "the weekly check-in every other Sunday at 13:00." in to_ben  # 19:00 in Berlin
    sent_at = [m for m in ben.messages() if m.text.startswith(PHASE)]
    assert len(sent_at) == 1

    # Later hours and days: nothing more about this phase.
    for hours in (1, 2, 30):
        bot.clock.set(dt.datetime(2026, 11, 30, 13, 0, tzinfo=dt.UTC) + dt.timedelta(hours=hours))
        await bot.run_dispatcher()
        await send_notices(bot)
    assert len(_phase_messages(ana)) == 1 and len(_phase_messages(ben)) == 1


@pytest.mark.slow  # about 10 s: five weeks of dispatcher runs
async def test_a_check_in_every_other_week_comes_only_in_the_weeks_with_its_turn(
    bot: BotHarness,
) -> None:
    await linked(bot)
    await _set_plan(bot, [{"kind": WEEKLY_CHECKIN, "from_week": 1, "every_weeks": 2}])
    start = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
    for step in range(36 * 4):  # five weeks, every six hours
        bot.clock.set(start + dt.timedelta(hours=6 * step))
        await bot.run_dispatcher()
    with bot.db.session() as session:
        due = sorted(
            set(session.scalars(select(Delivery.due_at).where(Delivery.kind == WEEKLY_CHECKIN)))
        )
    # Sundays 19:00 in Berlin of weeks 1, 3 and 5 (29 Nov, 13 Dec, 27 Dec); not 2 and 4.
    assert [d.astimezone(ZoneInfo("Europe/Berlin")) for d in due] == [
        dt.datetime(2026, 11, 29, 19, 0, tzinfo=ZoneInfo("Europe/Berlin")),
        dt.datetime(2026, 12, 13, 19, 0, tzinfo=ZoneInfo("Europe/Berlin")),
        dt.datetime(2026, 12, 27, 19, 0, tzinfo=ZoneInfo("Europe/Berlin")),
    ]


async def test_a_partners_own_off_wins_over_a_new_phase_and_is_not_told_otherwise(
    bot: BotHarness,
) -> None:
    ana, ben, _ = await linked(bot)
    await bot.say(ben, "/nightly off")
    await _set_plan(bot, [{"kind": NIGHTLY_APPRECIATION, "from_week": 2}])
    ben_before = len(ben.messages())

    bot.clock.set(dt.datetime(2026, 11, 30, 15, 0, tzinfo=dt.UTC))  # 16:00 and 10:00
    await bot.run_dispatcher()
    await send_notices(bot)

    [to_ana] = _phase_messages(ana)
    assert "suggests the evening appreciation every evening at 21:00." in to_ana
    assert ben.messages()[ben_before:] == []
    with bot.db.session() as session:
        bens = session.scalars(
            select(Schedule).where(Schedule.kind == NIGHTLY_APPRECIATION, Schedule.person_id == 2)
        ).one()
        assert (bens.set_by, bens.next_fire_at) == ("person", None)


async def test_a_partner_who_paused_is_not_told_of_a_new_phase(bot: BotHarness) -> None:
    ana, ben, _ = await linked(bot)
    await _set_plan(bot, [{"kind": NIGHTLY_APPRECIATION, "from_week": 2}])
    await bot.say(ben, "/pause")
    ben_before = len(ben.messages())

    bot.clock.set(dt.datetime(2026, 11, 30, 15, 0, tzinfo=dt.UTC))
    await bot.run_dispatcher()
    await send_notices(bot)

    assert len(_phase_messages(ana)) == 1
    assert ben.messages()[ben_before:] == []


async def test_a_phase_with_its_own_wording_sends_it_during_the_phase_and_the_couples_after(
    bot: BotHarness,
) -> None:
    ana, _, _ = await linked(bot)
    couple_id, therapist_id = _couple_and_therapist(bot)
    bot.db.call(
        therapy.configure,
        therapist_id,
        couple_id,
        {"nightly_window": 0, "custom_nightly": "Couple words for {{ first_name }}"},
        bot.clock.now,
    )
    await _set_plan(
        bot,
        [
            {
                "kind": NIGHTLY_APPRECIATION,
                "from_week": 1,
                "to_week": 1,
                "wording": "Phase words for {{ first_name }}",
            },
            {"kind": NIGHTLY_APPRECIATION, "from_week": 2},
        ],
    )

    def prompts(user: FakeUser) -> list[str]:
        return [m.text for m in user.messages() if " words for " in m.text]

    # Monday 23 November, 21:00 in Berlin: week 1, the phase's own words.
    bot.clock.set(dt.datetime(2026, 11, 23, 20, 0, tzinfo=dt.UTC))
    await bot.run_dispatcher()
    assert prompts(ana) == ["Phase words for Ana"]
    with bot.db.session() as session:  # the phase is for both: Ben's evening has it too
        wordings = session.scalars(
            select(Schedule.custom_template).where(Schedule.kind == NIGHTLY_APPRECIATION)
        ).all()
    assert wordings == ["Phase words for {{ first_name }}"] * 2
    # Week 2 begins; the hourly plan step ends the phase, and the couple's words return.
    for day in range(1, 8):
        bot.clock.set(dt.datetime(2026, 11, 23, 20, 0, tzinfo=dt.UTC) + dt.timedelta(days=day))
        await bot.run_dispatcher()
    # Sunday 29 November is the phase's last evening; Monday 30 November is week 2.
    # (One evening of week 1 asks instead whether fewer prompts would suit her.)
    *during, after = prompts(ana)
    assert set(during) == {"Phase words for Ana"} and len(during) >= 5
    assert after == "Couple words for Ana"
    # Only the words changed, not when or how often: no phase notice about it.
    bot.clock.set(dt.datetime(2026, 11, 30, 20, 30, tzinfo=dt.UTC))
    await bot.run_dispatcher()
    await send_notices(bot)
    assert _phase_messages(ana) == []
