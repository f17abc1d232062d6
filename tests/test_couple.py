"""Two partners through the real dispatch: pairing, appreciations, the shared check-in.

Ana is in Berlin (UTC+1), Ben in New York (UTC-5): six hours apart.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import func, select

from fakes.telegram_api import FakeUser
from storage.models import Appreciation, Couple, CoupleMember, Delivery, Person
from tests.support.bot import BotHarness

ANA_NIGHTLY = dt.datetime(2026, 11, 23, 20, 0, tzinfo=dt.UTC)  # 21:00 Berlin, 15:00 New York


def link_from(messages_text: str) -> str:
    match = re.search(r"start=(p_[A-Za-z0-9_-]+)", messages_text)
    assert match, messages_text
    return match.group(1)


async def pair_link(bot: BotHarness, inviter: FakeUser) -> str:
    replies = await bot.say(inviter, "/pair")
    return link_from(" ".join(m.text for m in replies))


async def paired(bot: BotHarness) -> tuple[FakeUser, FakeUser]:
    ana = bot.user(1001, "Ana")
    await bot.onboard(ana, zone="Europe/Berlin")
    payload = await pair_link(bot, ana)
    ben = bot.user(1002, "Ben")
    await bot.say(ben, f"/start {payload}")
    await bot.press(ben, "Join")
    await bot.press(ben, "Yes, I agree")
    await bot.press(ben, "Ben")
    await bot.say(ben, "America/New_York")
    return ana, ben


def count(bot: BotHarness, model: type) -> int:  # type: ignore[type-arg]
    with bot.db.session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


async def test_pair_gives_a_link_within_telegrams_rules_and_a_text_to_forward(
    bot: BotHarness,
) -> None:
    ana = bot.user(1001, "Ana")
    await bot.onboard(ana)
    link_message, forward = await bot.say(ana, "/pair")
    assert "https://t.me/nudge_test_bot?start=p_" in link_message.text
    payload = link_from(link_message.text)
    assert len(payload) <= 64 and re.fullmatch(r"[A-Za-z0-9_-]+", payload)
    assert "No pressure" in forward.text and payload in forward.text
    with bot.db.session() as session:
        from storage.models import OneTimeToken

        [token] = session.scalars(select(OneTimeToken)).all()
        assert payload.split("_", 1)[1] not in token.token_hash  # only a hash is stored


async def test_a_new_partner_sees_who_invites_then_consents_and_joins(bot: BotHarness) -> None:
    ana = bot.user(1001, "Ana")
    await bot.onboard(ana)
    payload = await pair_link(bot, ana)
    ben = bot.user(1002, "Ben")
    [offer] = await bot.say(ben, f"/start {payload}")
    assert "Ana" in offer.text and "Never shared" in offer.text
    assert offer.button_texts == ["Join", "Not now"]
    assert count(bot, Person) == 1  # nothing about Ben yet
    [consent] = await bot.press(ben, "Join")
    assert consent.button_texts == ["Yes, I agree", "Not now"]
    await bot.press(ben, "Yes, I agree")
    await bot.press(ben, "Ben")
    replies = await bot.say(ben, "America/New_York")
    assert "You're paired with Ana" in replies[-1].text
    assert "Ben accepted your invitation" in ana.messages()[-1].text
    assert count(bot, CoupleMember) == 2
    with bot.db.session() as session:
        zones = sorted(session.scalars(select(Person.timezone)).all())
    assert zones == ["America/New_York", "Europe/Berlin"]  # each keeps their own zone


async def test_declining_is_respected_and_the_inviter_is_told_kindly(bot: BotHarness) -> None:
    ana = bot.user(1001, "Ana")
    await bot.onboard(ana)
    payload = await pair_link(bot, ana)
    ben = bot.user(1002, "Ben")
    await bot.say(ben, f"/start {payload}")
    [answer] = await bot.press(ben, "Not now")
    assert "nothing of yours was saved" in answer.text
    assert "chose not to join for now" in ana.messages()[-1].text
    assert "Ben" not in ana.messages()[-1].text
    assert count(bot, Person) == 1
    [again] = await bot.say(ben, f"/start {payload}")
    assert "already been used" in again.text


async def test_expired_reused_forged_and_own_links_are_refused_kindly(bot: BotHarness) -> None:
    ana, _ = await paired(bot)
    cara = bot.user(1003, "Cara")
    await bot.onboard(cara)
    payload = await pair_link(bot, cara)
    # Reused: Ben's link from Ana was used when he joined.
    [used] = await bot.say(cara, f"/start {link_from(ana.messages()[-3].text)}")
    assert "already been used" in used.text or "already paired" in used.text
    # Own link.
    [own] = await bot.say(cara, f"/start {payload}")
    assert "your own pairing link" in own.text
    # Forged.
    [forged] = await bot.say(cara, "/start p_" + "A" * 32)
    assert "didn't work" in forged.text
    # Expired.
    bot.clock.advance(days=8)
    dan = bot.user(1004, "Dan")
    await bot.onboard(dan)
    [expired] = await bot.say(dan, f"/start {payload}")
    assert "expired" in expired.text


@pytest.mark.slow  # about 2 s
async def test_a_third_person_cannot_join_a_couple(bot: BotHarness) -> None:
    ana, ben = await paired(bot)
    [answer] = await bot.say(ana, "/pair")
    assert "already paired with Ben" in answer.text
    cara = bot.user(1003, "Cara")
    await bot.onboard(cara)
    payload = await pair_link(bot, cara)
    [refused] = await bot.say(ben, f"/start {payload}")
    assert "already paired" in refused.text
    assert count(bot, Couple) == 1 and count(bot, CoupleMember) == 2


async def write_appreciation(bot: BotHarness, ana: FakeUser, text: str) -> None:
    await bot.say(ana, "/nightly 21:00")
    bot.clock.set(ANA_NIGHTLY)
    await bot.run_dispatcher()
    [saved] = await bot.say(ana, text)
    assert "Would you like to share this with Ben" in saved.text


async def test_a_private_appreciation_never_reaches_the_partner(bot: BotHarness) -> None:
    ana, ben = await paired(bot)
    await write_appreciation(bot, ana, "Your patience with my mother today")
    before = len(ben.messages())
    [kept] = await bot.press(ana, "Keep private")
    assert "Kept private" in kept.text
    bot.clock.advance(hours=3)
    await bot.run_dispatcher()
    assert len(ben.messages()) == before
    assert all(
        "patience" not in c.params.get("text", "")
        for c in bot.fake.calls
        if c.params.get("chat_id") == ben.chat_id
    )


async def test_a_shared_appreciation_reaches_the_partner_who_thanks(bot: BotHarness) -> None:
    ana, ben = await paired(bot)
    await write_appreciation(bot, ana, "You made me laugh after a long day & I felt light")
    [shared] = await bot.press(ana, "Share with Ben")
    assert "On its way to Ben" in shared.text
    await bot.run_dispatcher()
    relay = ben.messages()[-1]
    assert relay.text.startswith("Ana wrote an appreciation for you")
    assert "You made me laugh after a long day & I felt light" in relay.text
    assert "Your appreciation reached Ben" in ana.messages()[-1].text
    await bot.press(ben, "Thank you")
    await bot.run_dispatcher()
    assert ana.messages()[-1].text == "Ben read your appreciation and says thank you."
    # A second press does not thank twice.
    ben.press(relay, relay.callback_data_for("Thank you") or "", strict=False)
    await bot.process()
    assert ben.answered_callbacks()[-1].text == "You've said thank you already."


async def test_a_shared_appreciation_waits_for_the_partners_quiet_hours(bot: BotHarness) -> None:
    ana, ben = await paired(bot)
    await bot.say(ben, "/quiet 14:00-16:00")  # 15:00 in New York is inside them
    await write_appreciation(bot, ana, "Thank you for the soup")
    await bot.press(ana, "Share with Ben")
    await bot.run_dispatcher()
    assert not any("soup" in m.text for m in ben.messages())
    bot.clock.set(dt.datetime(2026, 11, 23, 21, 0, tzinfo=dt.UTC))  # 16:00 in New York
    await bot.run_dispatcher()
    assert "Thank you for the soup" in ben.messages()[-1].text


async def test_reveal_together_waits_until_both_have_written(bot: BotHarness) -> None:
    ana, ben = await paired(bot)
    [answer] = await bot.say(ana, "/reveal together")
    assert "waits until the other has written" in answer.text
    assert "changed how shared appreciations arrive" in ben.messages()[-1].text
    await write_appreciation(bot, ana, "Your calm voice")
    [waiting] = await bot.press(ana, "Share with Ben")
    assert "once they have written theirs" in waiting.text
    await bot.run_dispatcher()
    assert not any("calm voice" in m.text for m in ben.messages())
    ben_says = await bot.say(ben, "Your cooking")  # no prompt open: not an appreciation
    assert "not waiting for an answer" in ben_says[-1].text
    await bot.say(ben, "/nightly 15:30")
    bot.clock.set(dt.datetime(2026, 11, 23, 20, 30, tzinfo=dt.UTC))
    await bot.run_dispatcher()
    await bot.say(ben, "Your cooking on Sunday")
    await bot.run_dispatcher()
    assert any("Your calm voice" in m.text for m in ben.messages())
    [sent] = await bot.press(ben, "Share with Ana")
    assert "On its way" in sent.text


async def test_after_unpair_nothing_more_is_relayed(bot: BotHarness) -> None:
    ana, ben = await paired(bot)
    await write_appreciation(bot, ana, "Your hands on my shoulders")
    await bot.press(ana, "Share with Ben")
    await bot.say(ben, "/unpair")
    [ended] = await bot.press(ben, "Yes, end it")
    assert "pairing has ended" in ended.text
    assert "pairing has ended" in ana.messages()[-1].text
    await bot.run_dispatcher()
    assert not any("shoulders" in m.text for m in ben.messages())
    with bot.db.session() as session:
        statuses = session.scalars(select(Delivery.status).where(Delivery.kind == "appreciation"))
        assert list(statuses) == ["skipped"]


async def test_sharing_paused_by_one_partner_holds_relays_and_tells_only_that(
    bot: BotHarness,
) -> None:
    ana, ben = await paired(bot)
    [paused] = await bot.say(ben, "/sharing pause")
    assert "Sharing is paused" in paused.text
    assert ana.messages()[-1].text == "Sharing between you and Ben is paused for now."
    await write_appreciation(bot, ana, "Your jokes")
    [answer] = await bot.press(ana, "Share with Ben")
    assert "Sharing is paused" in answer.text
    await bot.run_dispatcher()
    assert not any("jokes" in m.text for m in ben.messages())


async def test_the_journal_is_private_and_reads_back(bot: BotHarness) -> None:
    ana = bot.user(1001, "Ana")
    await bot.onboard(ana)
    await bot.say(ana, "/nightly 21:00")
    bot.clock.set(ANA_NIGHTLY)
    await bot.run_dispatcher()
    [saved] = await bot.say(ana, "The way you <b>hum</b> while cooking")
    assert "It's in your journal" in saved.text and saved.button_texts == []
    [journal] = await bot.say(ana, "/journal")
    assert "The way you <b>hum</b> while cooking" in journal.text
    assert "Mon 23 Nov" in journal.text


async def test_an_overlong_appreciation_is_refused_and_nothing_is_saved(bot: BotHarness) -> None:
    ana = bot.user(1001, "Ana")
    await bot.onboard(ana)
    await bot.say(ana, "/nightly 21:00")
    bot.clock.set(ANA_NIGHTLY)
    await bot.run_dispatcher()
    [answer] = await bot.say(ana, "x" * 10_000)
    assert "under 1500 characters" in answer.text
    assert count(bot, Appreciation) == 0


async def test_delete_removes_a_partners_appreciations_and_relays(bot: BotHarness) -> None:
    ana, _ = await paired(bot)
    await write_appreciation(bot, ana, "Your patience")
    await bot.press(ana, "Share with Ben")
    await bot.run_dispatcher()
    await bot.say(ana, "/delete")
    await bot.press(ana, "Yes, erase everything")
    with bot.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Appreciation)) == 0
        assert session.scalar(select(func.count()).select_from(Couple)) == 0
        people = session.scalars(select(Person.display_name)).all()
    assert people == ["Ben"]


async def test_the_weekly_checkin_is_agreed_by_both_and_snoozed_for_both(
    bot: BotHarness,
) -> None:
    ana, ben = await paired(bot)
    [proposed] = await bot.say(ana, "/checkin sun 19:00")
    assert "I've asked Ben whether Sundays at 19:00 (Europe/Berlin)" in proposed.text
    proposal = ben.messages()[-1]
    assert "Sundays at 13:00 your time (America/New_York)" in proposal.text
    [confirmed] = await bot.press(ben, "That works")
    assert "every Sunday at 13:00 (America/New_York)" in confirmed.text
    assert "every Sunday at 19:00 (Europe/Berlin)" in ana.messages()[-1].text
    due = dt.datetime(2026, 11, 29, 18, 0, tzinfo=dt.UTC)
    bot.clock.set(due)
    await bot.run_dispatcher()
    assert "check-in" in ana.messages()[-1].text.lower()
    assert "We did it" in ben.messages()[-1].button_texts
    bot.clock.advance(minutes=5)
    [snoozed] = await bot.press(ben, "Snooze an hour")
    assert "Sun 14:05" in snoozed.text
    assert ana.messages()[-1].text.startswith("Ben moved this week's check-in to Sun 20:05")
    bot.clock.advance(hours=1)
    await bot.run_dispatcher()
    assert "We did it" in ana.messages()[-1].button_texts
    assert "We did it" in ben.messages()[-1].button_texts
    [done] = await bot.press(ana, "We did it")
    assert "That's 1 check-in together" in done.text
    [also_done] = await bot.press(ben, "We did it")
    assert also_done.text == "Noted, thank you."
    with bot.db.session() as session:
        assert session.scalars(select(Couple.checkins_completed)).one() == 1


async def test_timing_asks_four_questions_then_advises(bot: BotHarness) -> None:
    ana = bot.user(1001, "Ana")
    await bot.onboard(ana)
    [question] = await bot.say(ana, "/timing")
    assert question.button_texts == ["Yes", "No"]
    for answer in ["Yes", "No", "Yes", "Yes"]:
        await bot.press(ana, answer)
    advice = ana.messages()[-1]
    assert advice.button_texts == []
    assert "wait" in advice.text.lower()


@pytest.mark.slow  # about 2.5 s
async def test_a_message_that_suggests_danger_is_never_relayed_and_gets_care(
    bot: BotHarness,
) -> None:
    ana, ben = await paired(bot)
    await bot.say(ana, "/nightly 21:00")
    bot.clock.set(ANA_NIGHTLY)
    await bot.run_dispatcher()
    before = len(ben.messages())
    [care] = await bot.say(ana, "He hit me again last night and I am scared to go home")
    assert "emergency services" in care.text
    assert "please call 112" in care.text  # Ana's zone is Berlin: Germany's numbers
    assert "TelefonSeelsorge on 0800 111 0 111" in care.text
    assert "haven't passed your message on" in care.text
    assert care.button_texts == ["Pause everything"]
    assert count(bot, Appreciation) == 0
    await bot.run_dispatcher()
    assert len(ben.messages()) == before
    [paused] = await bot.press(ana, "Pause everything")
    assert "until you send /resume" in paused.text
    with bot.db.session() as session:
        assert session.scalars(select(Person.paused_at).where(Person.display_name == "Ana")).one()


async def test_a_reply_that_beats_the_prompts_outcome_record_is_still_kept(
    bot: BotHarness,
) -> None:
    from scheduler import claims

    ana = bot.user(1001, "Ana")
    await bot.onboard(ana)
    await bot.say(ana, "/nightly 21:00")
    bot.clock.set(ANA_NIGHTLY)
    await bot.dispatcher.claim()
    # Taken for sending (the prompt is on its way); its outcome is not written yet.
    await bot.db.run(claims.take_ready, ANA_NIGHTLY, limit=10)
    [saved] = await bot.say(ana, "Your patience this morning")
    assert "It's in your journal" in saved.text
    assert count(bot, Appreciation) == 1


async def test_a_checkin_proposal_inside_the_partners_quiet_hours_is_flagged_before_it_goes(
    bot: BotHarness,
) -> None:
    ana, ben = await paired(bot)
    await bot.say(ben, "/quiet 12:00-14:00")  # Sunday 19:00 in Berlin is 13:00 in New York
    before = len(ben.messages())
    [warned] = await bot.say(ana, "/checkin sun 19:00")
    assert "quiet hours Ben set" in warned.text
    assert warned.button_texts == ["Ask anyway", "Pick another time"]
    assert len(ben.messages()) == before  # nothing was sent to Ben
    [other] = await bot.press(ana, "Pick another time")
    assert "/checkin Sunday 18:00" in other.text
    assert len(ben.messages()) == before
    [proposed] = await bot.say(ana, "/checkin sun 21:00")  # 15:00 in New York
    assert "I've asked Ben whether Sundays at 21:00" in proposed.text
    assert "Sundays at 15:00 your time" in ben.messages()[-1].text


async def test_a_checkin_proposal_inside_quiet_hours_can_be_sent_anyway(bot: BotHarness) -> None:
    ana, ben = await paired(bot)
    await bot.say(ben, "/quiet 12:00-14:00")
    await bot.say(ana, "/checkin sun 19:00")
    [proposed] = await bot.press(ana, "Ask anyway")
    assert "I've asked Ben whether Sundays at 19:00 (Europe/Berlin)" in proposed.text
    assert "Sundays at 13:00 your time (America/New_York)" in ben.messages()[-1].text
    [confirmed] = await bot.press(ben, "That works")
    assert "every Sunday at 13:00 (America/New_York)" in confirmed.text


async def test_a_checkin_proposal_outside_quiet_hours_goes_without_a_note(bot: BotHarness) -> None:
    ana, ben = await paired(bot)
    await bot.say(ben, "/quiet 22:00-07:00")
    [proposed] = await bot.say(ana, "/checkin sun 19:00")
    assert "I've asked Ben" in proposed.text
    assert "quiet hours" not in proposed.text
