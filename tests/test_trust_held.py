"""What someone shares with a paused partner is held, never lost; reminders go the
dispatcher's way (issue "Trust", items 7 and 8)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from storage.models import Delivery, Invitation
from tests.support.bot import BotHarness
from tests.test_couple import paired, write_appreciation
from tests.test_invite import walk_to_preview

INVITED = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)


def has_text(user, text: str) -> bool:  # type: ignore[no-untyped-def]
    return any(text in m.text for m in user.messages())


async def test_an_appreciation_shared_with_a_paused_partner_arrives_after_resume(
    bot: BotHarness,
) -> None:
    ana, ben = await paired(bot)
    await bot.say(ben, "/pause")
    await write_appreciation(bot, ana, "Thank you for the soup")
    await bot.press(ana, "Share with Ben")
    await bot.run_dispatcher()
    assert not has_text(ben, "Thank you for the soup")
    bot.clock.advance(days=3)  # past the relay's own deadline while Ben is paused
    await bot.run_dispatcher()
    assert not has_text(ben, "Thank you for the soup")
    await bot.say(ben, "/resume")
    await bot.run_dispatcher()
    assert has_text(ben, "Thank you for the soup")
    assert "Your appreciation reached Ben" in ana.messages()[-1].text


async def test_an_invitation_to_a_paused_partner_waits_and_does_not_block_forever(
    bot: BotHarness,
) -> None:
    ana, ben = await paired(bot)
    await bot.say(ben, "/pause")
    await walk_to_preview(bot, ana)
    await bot.press(ana, "Send it now")
    await bot.run_dispatcher()
    assert not any("I'd try one session" in m.button_texts for m in ben.messages())
    await bot.say(ben, "/resume")
    await bot.run_dispatcher()
    assert any("I'd try one session" in m.button_texts for m in ben.messages())


async def test_an_invitation_to_a_partner_who_stopped_no_longer_counts_as_open(
    bot: BotHarness,
) -> None:
    ana, ben = await paired(bot)
    await bot.say(ben, "/stop")
    await walk_to_preview(bot, ana)
    await bot.press(ana, "Send it now")
    await bot.run_dispatcher()
    with bot.db.session() as session:
        assert session.scalars(select(Invitation.status)).one() == "undelivered"
    assert not any("I'd try one session" in m.button_texts for m in ben.messages())


async def _reminder_asked(bot: BotHarness):  # type: ignore[no-untyped-def]
    ana, ben = await paired(bot)
    await walk_to_preview(bot, ana)
    await bot.press(ana, "Send it now")
    await bot.run_dispatcher()
    await bot.press(ben, "Tell me more first")
    await bot.press(ben, "Remind me once, in a week")
    return ana, ben


def _reminders(ben) -> int:  # type: ignore[no-untyped-def]
    return sum("I'd try one session" in m.button_texts for m in ben.messages())


async def test_an_invitation_reminder_is_a_delivery_that_a_pause_holds(bot: BotHarness) -> None:
    _, ben = await _reminder_asked(bot)
    before = _reminders(ben)
    await bot.say(ben, "/pause")
    bot.clock.set(INVITED + dt.timedelta(days=8))
    await bot.run_dispatcher()
    assert _reminders(ben) == before
    with bot.db.session() as session:
        kinds = session.scalars(select(Delivery.kind)).all()
    assert "invitation_reminder" in kinds
    await bot.say(ben, "/resume")
    await bot.run_dispatcher()
    assert _reminders(ben) == before + 1


async def test_an_invitation_reminder_is_never_sent_to_someone_who_stopped(
    bot: BotHarness,
) -> None:
    _, ben = await _reminder_asked(bot)
    before = _reminders(ben)
    await bot.say(ben, "/stop")
    bot.clock.set(INVITED + dt.timedelta(days=8))
    await bot.run_dispatcher()
    assert _reminders(ben) == before


async def test_an_invitation_reminder_survives_a_failed_send(bot: BotHarness) -> None:
    _, ben = await _reminder_asked(bot)
    before = _reminders(ben)
    bot.clock.set(INVITED + dt.timedelta(days=8))
    bot.fake.fail_next("sendMessage", error_code=500, chat_id=ben.chat_id)
    await bot.run_dispatcher()  # the Bot API said 500: not sent, tried again
    bot.clock.advance(minutes=5)
    await bot.run_dispatcher()
    assert _reminders(ben) == before + 1


async def test_an_answered_invitation_is_never_reminded(bot: BotHarness) -> None:
    _, ben = await _reminder_asked(bot)
    await bot.press(ben, "Not now")
    before = _reminders(ben)
    bot.clock.set(INVITED + dt.timedelta(days=8))
    await bot.run_dispatcher()
    assert _reminders(ben) == before


async def test_the_writer_learns_when_a_partner_who_stopped_cannot_receive_it(
    bot: BotHarness,
) -> None:
    ana, ben = await paired(bot)
    await bot.say(ben, "/stop")
    await write_appreciation(bot, ana, "Thank you for the soup")
    [shared] = await bot.press(ana, "Share with Ben")
    assert "On its way to Ben" in shared.text  # what Ana was told, hence the note
    await bot.run_dispatcher()
    assert not has_text(ben, "Thank you for the soup")
    assert "couldn't be passed on" in ana.messages()[-1].text
    assert "It's still yours, in /journal" in ana.messages()[-1].text


async def test_off_also_stops_a_nudge_already_snoozed_to_tomorrow(bot: BotHarness) -> None:
    due = dt.datetime(2026, 11, 23, 20, 0, tzinfo=dt.UTC)  # 21:00 in Berlin
    ana = bot.user(1001, "Ana")
    await bot.onboard(ana, zone="Europe/Berlin")
    await bot.say(ana, "/nightly 21:00")
    bot.clock.set(due)
    await bot.run_dispatcher()
    await bot.press(ana, "Tomorrow")
    await bot.say(ana, "/nightly off")
    before = len(ana.messages())
    for hours in (12, 24, 25, 48):
        bot.clock.set(due + dt.timedelta(hours=hours))
        await bot.run_dispatcher()
    assert len(ana.messages()) == before  # off means off, snoozed copies included


async def test_what_waited_through_a_timed_pause_arrives_when_it_ends_by_itself(
    bot: BotHarness,
) -> None:
    ana, ben = await paired(bot)
    await bot.say(ben, "/pause 3")
    await write_appreciation(bot, ana, "Thank you for the soup")
    await bot.press(ana, "Share with Ben")
    bot.clock.advance(days=2)  # past the relay's 36-hour deadline, still paused
    await bot.run_dispatcher()
    assert not has_text(ben, "Thank you for the soup")
    bot.clock.advance(days=1, hours=1)  # the pause has ended; nobody sent /resume
    await bot.run_dispatcher()
    assert has_text(ben, "Thank you for the soup")


async def test_a_relay_stopped_by_a_sharing_pause_is_reported_to_its_writer(
    bot: BotHarness,
) -> None:
    ana, ben = await paired(bot)
    await bot.say(ben, "/quiet 14:00-16:00")  # the relay waits for Ben's quiet hours
    await write_appreciation(bot, ana, "Thank you for the soup")
    await bot.press(ana, "Share with Ben")
    await bot.run_dispatcher()
    await bot.say(ben, "/sharing pause")
    bot.clock.set(dt.datetime(2026, 11, 23, 21, 0, tzinfo=dt.UTC))  # quiet hours over
    await bot.run_dispatcher()
    assert not has_text(ben, "Thank you for the soup")
    assert has_text(ana, "couldn't be passed on to Ben")
