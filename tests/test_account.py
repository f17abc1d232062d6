"""A person's control over their record: /settings, /pause, /resume, /stop, /mydata, /delete."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import func, select

from bot.callbacks import DeleteAccount, YesNo, encode
from storage.models import (
    Appreciation,
    Couple,
    CoupleMember,
    Delivery,
    Person,
    Schedule,
)
from tests.support.bot import BotHarness


async def onboarded(
    bot: BotHarness, user_id: int = 1001, name: str = "Ana", zone: str = "Europe/Berlin"
):  # type: ignore[no-untyped-def]
    user = bot.user(user_id, name)
    await bot.onboard(user, zone=zone)
    return user


def person_row(bot: BotHarness, telegram_id: int = 1001) -> Person:
    with bot.db.session() as session:
        person = session.scalars(select(Person).where(Person.telegram_user_id == telegram_id)).one()
        session.expunge(person)
        return person


async def test_settings_shows_everything_held_in_plain_words(bot: BotHarness) -> None:
    ana = await onboarded(bot)
    await bot.say(ana, "/nightly 21:30")
    [settings] = await bot.say(ana, "/settings")
    text = settings.text
    assert "Name: Ana" in text
    assert "Europe/Berlin (it's 13:00 there)" in text
    assert "Nightly appreciation prompt: every day at 21:30 (Europe/Berlin)" in text
    assert "Next: Mon 21:30, Tue 21:30, Wed 21:30" in text
    assert "Partner: not paired" in text


async def test_pause_for_days_holds_until_then_and_resume_ends_it(bot: BotHarness) -> None:
    ana = await onboarded(bot)
    [paused] = await bot.say(ana, "/pause 3")
    assert "Paused until Thu 26 Nov 13:00" in paused.text
    person = person_row(bot)
    assert person.paused_until == bot.clock.now + dt.timedelta(days=3)
    [resumed] = await bot.say(ana, "/resume")
    assert "on again" in resumed.text
    assert person_row(bot).paused_at is None
    [again] = await bot.say(ana, "/resume")
    assert "Nothing was paused" in again.text


async def test_pause_without_days_holds_until_resume(bot: BotHarness) -> None:
    ana = await onboarded(bot)
    [paused] = await bot.say(ana, "/pause")
    assert "until you send /resume" in paused.text
    person = person_row(bot)
    assert person.paused_at is not None and person.paused_until is None


async def test_bad_pause_arguments_are_explained_and_change_nothing(bot: BotHarness) -> None:
    ana = await onboarded(bot)
    for arg in ["0", "366", "-3", "abc", "1.5", "9" * 40, "٣", "3 days", "🙂"]:
        [answer] = await bot.say(ana, f"/pause {arg}")
        assert "/pause 7" in answer.text, arg
    assert person_row(bot).paused_at is None


async def test_stop_silences_everything_until_start(bot: BotHarness) -> None:
    ana = await onboarded(bot)
    await bot.say(ana, "/nightly 21:00")
    [stopped] = await bot.say(ana, "/stop")
    assert "won't send you anything until you send /start" in stopped.text
    [reminder] = await bot.say(ana, "/nightly 22:00")
    assert "You've stopped me" in reminder.text
    [back] = await bot.say(ana, "/start")
    assert "Welcome back" in back.text
    assert person_row(bot).stopped_at is None


async def test_mydata_sends_a_json_export_of_everything(bot: BotHarness) -> None:
    ana = await onboarded(bot)
    await bot.say(ana, "/nightly 21:00")
    await bot.say(ana, "/mydata")
    [document] = bot.fake.calls_to("sendDocument")
    [upload] = document.files.values()
    exported = json.loads(upload.content)
    assert upload.filename == "nudgebot-my-data.json"
    assert exported["person"]["display_name"] == "Ana"
    assert exported["person"]["timezone"] == "Europe/Berlin"
    assert exported["schedules"][0]["kind"] == "nightly_appreciation"
    assert exported["schedules"][0]["local_time"] == "21:00:00"


async def test_delete_asks_first_and_keep_changes_nothing(bot: BotHarness) -> None:
    ana = await onboarded(bot)
    [confirm] = await bot.say(ana, "/delete")
    assert "can't be undone" in confirm.text
    [kept] = await bot.press(ana, "Keep my data")
    assert "Nothing was erased" in kept.text
    assert person_row(bot).display_name == "Ana"


def seed_couple_with_history(bot: BotHarness) -> None:
    """Pair the two people directly and give Ana some history to erase."""
    now = bot.clock.now
    with bot.db.session() as session:
        ana = session.scalars(select(Person).where(Person.telegram_user_id == 1001)).one()
        ben = session.scalars(select(Person).where(Person.telegram_user_id == 1002)).one()
        couple = Couple(created_at=now)
        session.add(couple)
        session.flush()
        session.add_all(
            [
                CoupleMember(couple_id=couple.id, person_id=ana.id, joined_at=now),
                CoupleMember(couple_id=couple.id, person_id=ben.id, joined_at=now),
                Appreciation(
                    person_id=ana.id,
                    couple_id=couple.id,
                    text="your laugh",
                    written_at=now,
                    local_date=now.date(),
                ),
                Delivery(
                    person_id=ana.id,
                    kind="nightly_appreciation",
                    due_at=now,
                    send_after=now,
                    deadline=now,
                    status="sent",
                    claimed_at=now,
                ),
            ]
        )


async def test_delete_erases_every_row_and_tells_the_partner_only_that_it_ended(
    bot: BotHarness,
) -> None:
    ana = await onboarded(bot)
    ben = await onboarded(bot, 1002, "Ben", "America/New_York")
    await bot.say(ana, "/nightly 21:00")
    seed_couple_with_history(bot)
    await bot.say(ana, "/delete")
    [done] = await bot.press(ana, "Yes, erase everything")
    assert "Everything I held about you is erased" in done.text
    with bot.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Person)) == 1
        for model in (Appreciation, Delivery, Schedule, Couple, CoupleMember):
            remaining = session.scalar(select(func.count()).select_from(model))
            assert remaining == 0, model.__name__
    told = ben.messages()[-1]
    assert (
        told.text
        == "Your pairing has ended. Your own settings and what you've written are unchanged."
    )
    assert "Ana" not in told.text


async def test_pressing_erase_twice_is_harmless(bot: BotHarness) -> None:
    ana = await onboarded(bot)
    await bot.say(ana, "/delete")
    confirm = ana.messages()[-1]
    await bot.press(ana, "Yes, erase everything")
    # The same button again (a double tap, or an old copy of the message).
    ana.press(confirm, encode(DeleteAccount(YesNo.YES)), strict=False)
    await bot.process()
    assert ana.answered_callbacks()[-1].text == "Already done."
    with bot.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Person)) == 0


async def test_a_deep_link_waiting_for_onboarding_is_in_mydata_and_erased_by_delete(
    bot: BotHarness,
) -> None:
    kim = bot.user(2002, "Kim")
    await bot.say(kim, "/start zz_waiting")
    await bot.press(kim, "Yes, I agree")
    assert person_row(bot, 2002).pending_start == "zz_waiting"
    await bot.say(kim, "/mydata")
    [document] = bot.fake.calls_to("sendDocument")
    [upload] = document.files.values()
    assert json.loads(upload.content)["person"]["pending_deep_link"] == "zz_waiting"
    await bot.say(kim, "/delete")
    await bot.press(kim, "Yes, erase everything")
    with bot.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Person)) == 0
