"""Every consent, privacy and safety promise holds: snoozes, held questions, the path for
one, the invitation pause, and bad input in the invitation flow.

Ana is in Berlin (UTC+1), Ben in New York (UTC-5). The clock starts Monday 23 November
2026, 12:00 UTC.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from bot.callbacks import AppreciationAction, AppreciationChoice, encode
from fakes.telegram_api import FakeUser
from storage import invitations
from storage.models import (
    PATH_NOTE,
    Appreciation,
    Couple,
    Delivery,
    Invitation,
    InviteCooldown,
    Person,
)
from tests.conftest import DEFAULT_NOW
from tests.support.bot import BotHarness
from tests.test_couple import ANA_NIGHTLY, paired
from tests.test_invite import walk_to_preview

CHECKIN_DUE = dt.datetime(2026, 11, 29, 18, 0, tzinfo=dt.UTC)  # Sun 19:00 Berlin
PATH_DUE = dt.datetime(2026, 11, 24, 18, 0, tzinfo=dt.UTC)  # Tue 19:00 Berlin


def count(bot: BotHarness, model: type, *where: object) -> int:  # type: ignore[type-arg]
    with bot.db.session() as session:
        query = select(func.count()).select_from(model).where(*where)  # type: ignore[arg-type]
        return int(session.scalar(query) or 0)


def checkins(user: FakeUser) -> list[str]:
    return [m.text for m in user.messages() if "We did it" in m.button_texts]


async def agreed_checkin(bot: BotHarness) -> tuple[FakeUser, FakeUser]:
    ana, ben = await paired(bot)
    await bot.say(ana, "/checkin sun 19:00")
    await bot.press(ben, "That works")
    bot.clock.set(CHECKIN_DUE)
    await bot.run_dispatcher()
    return ana, ben


# --- 9. snoozes and answers --------------------------------------------------------------


async def test_a_checkin_done_after_a_snooze_is_not_reminded_again_nor_counted_twice(
    bot: BotHarness,
) -> None:
    ana, ben = await agreed_checkin(bot)
    bot.clock.advance(minutes=5)
    await bot.press(ben, "Snooze an hour")
    # They sat down anyway: Ana answers on the reminder she still has.
    [done] = await bot.press(ana, "We did it")
    assert "That's 1 check-in together" in done.text
    before = (len(checkins(ana)), len(checkins(ben)))
    bot.clock.advance(hours=1, minutes=5)
    await bot.run_dispatcher()
    assert (len(checkins(ana)), len(checkins(ben))) == before  # no reminder after "we did it"
    with bot.db.session() as session:
        assert session.scalars(select(Couple.checkins_completed)).one() == 1
        statuses = session.scalars(
            select(Delivery.status).where(Delivery.due_at > CHECKIN_DUE)
        ).all()
    assert sorted(statuses) == ["skipped", "skipped"]


async def test_a_second_we_did_it_on_a_snoozed_copy_counts_once(bot: BotHarness) -> None:
    ana, ben = await agreed_checkin(bot)
    bot.clock.advance(minutes=5)
    await bot.press(ben, "Snooze an hour")
    bot.clock.advance(hours=1)
    await bot.run_dispatcher()
    [done] = await bot.press(ana, "We did it")  # on the copy that came back
    assert "That's 1 check-in together" in done.text
    # Ana's first reminder still has its buttons; a press there answers the same check-in.
    first = next(m for m in ana.messages() if "We did it" in m.button_texts)
    ana.press(first, first.callback_data_for("We did it") or "")
    await bot.process()
    assert "already answered this check-in" in ana.answered_callbacks()[-1].text
    with bot.db.session() as session:
        assert session.scalars(select(Couple.checkins_completed)).one() == 1


async def test_snoozing_a_checkin_the_partner_already_did_brings_nothing_back(
    bot: BotHarness,
) -> None:
    ana, ben = await agreed_checkin(bot)
    await bot.press(ana, "We did it")
    await bot.press(ben, "Snooze an hour")
    before = (len(ana.messages()), len(ben.messages()))
    bot.clock.advance(hours=1, minutes=5)
    await bot.run_dispatcher()
    assert (len(ana.messages()), len(ben.messages())) == before


async def test_a_snoozed_nightly_prompt_does_not_come_back_after_it_was_answered(
    bot: BotHarness,
) -> None:
    ana = bot.user(1001, "Ana")
    await bot.onboard(ana)
    await bot.say(ana, "/nightly 21:00")
    bot.clock.set(ANA_NIGHTLY)
    await bot.run_dispatcher()
    prompts = len(ana.messages())
    await bot.press(ana, "Snooze an hour")
    [saved] = await bot.say(ana, "Your patience this morning")
    assert "It's in your journal" in saved.text
    after_answer = len(ana.messages())
    assert after_answer == prompts + 2
    bot.clock.advance(hours=1, minutes=1)
    await bot.run_dispatcher()
    assert len(ana.messages()) == after_answer  # the snoozed prompt stays away


async def test_a_prompt_snoozed_to_tomorrow_still_comes_tomorrow_after_an_answer_tonight(
    bot: BotHarness,
) -> None:
    ana = bot.user(1001, "Ana")
    await bot.onboard(ana)
    await bot.say(ana, "/nightly 21:00")
    bot.clock.set(ANA_NIGHTLY)
    await bot.run_dispatcher()
    await bot.press(ana, "Tomorrow")
    await bot.say(ana, "Your patience this morning")
    bot.clock.set(ANA_NIGHTLY + dt.timedelta(days=1))
    await bot.run_dispatcher()
    assert ana.messages()[-1].button_texts  # tomorrow's own prompt, with its snoozes


# --- 10. a prompt never takes over a question being answered ------------------------------


async def walk_to_own_line(bot: BotHarness, ana: FakeUser) -> None:
    await bot.say(ana, "/invite")
    await bot.press(ana, "Yes, it's calm")
    await bot.press(ana, "Ben")
    await bot.press(ana, "To feel close again")
    await bot.press(ana, "Being on the same team")
    await bot.press(ana, "Just one session")
    await bot.press(ana, "We choose together")
    await bot.press(ana, "Add my own line")


async def test_the_nightly_prompt_does_not_turn_an_invitation_line_into_an_appreciation(
    bot: BotHarness,
) -> None:
    ana, _ = await paired(bot)
    await bot.say(ana, "/nightly 21:00")
    bot.clock.set(ANA_NIGHTLY - dt.timedelta(minutes=10))
    await walk_to_own_line(bot, ana)
    bot.clock.set(ANA_NIGHTLY)
    await bot.run_dispatcher()  # the nightly prompt arrives mid-sentence
    replies = await bot.say(ana, "I miss our Sunday walks.")
    assert count(bot, Appreciation) == 0
    with bot.db.session() as session:
        draft = session.scalars(select(Invitation)).one()
        assert draft.personal_line == "I miss our Sunday walks."
    preview = next(m for m in replies if "I'd try one session" in m.button_texts)
    assert "I miss our Sunday walks." in preview.text
    # Once the line is in, the evening question opens, and the person is told so.
    assert "Your evening question came in while you were busy" in replies[-1].text
    [saved] = await bot.say(ana, "The tea you brought me")
    assert "share this with Ben" in saved.text
    assert count(bot, Appreciation) == 1


async def test_editing_the_line_holds_an_open_evening_question_instead_of_dropping_it(
    bot: BotHarness,
) -> None:
    ana, _ = await paired(bot)
    await bot.say(ana, "/nightly 21:00")
    bot.clock.set(ANA_NIGHTLY)
    await bot.run_dispatcher()  # the question is open
    bot.clock.advance(minutes=2)
    await walk_to_own_line(bot, ana)  # the flow asks for a typed line
    replies = await bot.say(ana, "I'd love an evening for us.")
    assert count(bot, Appreciation) == 0
    assert "Your evening question came in while you were busy" in replies[-1].text
    await bot.say(ana, "The tea you brought me")
    assert count(bot, Appreciation) == 1


async def test_a_held_prompt_opens_when_the_flow_ends_with_a_button(bot: BotHarness) -> None:
    ana, _ = await paired(bot)
    await bot.say(ana, "/nightly 21:00")
    bot.clock.set(ANA_NIGHTLY - dt.timedelta(minutes=10))
    await bot.say(ana, "/invite")
    await bot.press(ana, "Yes, it's calm")
    await bot.press(ana, "Ben")
    await bot.press(ana, "To feel close again")
    await bot.press(ana, "Being on the same team")
    await bot.press(ana, "Just one session")
    await bot.press(ana, "We choose together")
    await bot.press(ana, "No, that's all")
    await bot.press(ana, "Choose a calm time")  # asks for a typed time: a question is open
    bot.clock.set(ANA_NIGHTLY)
    await bot.run_dispatcher()
    replies = await bot.press(ana, ana.messages()[-2].button_texts[0])
    assert "Your evening question came in while you were busy" in replies[-1].text
    await bot.say(ana, "The tea you brought me")
    assert count(bot, Appreciation) == 1


# --- 11. the path for one ----------------------------------------------------------------


async def test_settings_describes_the_path_for_one_to_someone_who_started_it(
    bot: BotHarness,
) -> None:
    ana = bot.user(1001, "Ana")
    await bot.onboard(ana)
    await bot.say(ana, "/alone")
    [settings] = await bot.say(ana, "/settings")
    assert "Path for one" in settings.text and "/alone off" in settings.text
    await bot.say(ana, "/language de")
    [german] = await bot.say(ana, "/settings")
    assert "Weg für eine Person" in german.text


async def test_an_answer_to_the_path_for_one_is_kept_as_a_private_note_only_for_its_writer(
    bot: BotHarness,
) -> None:
    ana, ben = await paired(bot)
    await bot.say(ana, "/alone")
    bot.clock.set(PATH_DUE)
    await bot.run_dispatcher()
    assert "what was the first step" in ana.messages()[-1].text
    [kept] = await bot.say(ana, "I went quiet, then he got louder.")
    assert "private note" in kept.text
    assert kept.button_texts == []  # nothing to share
    [journal] = await bot.say(ana, "/journal")
    assert "I went quiet, then he got louder." in journal.text
    assert "private note" in journal.text
    with bot.db.session() as session:
        note = session.scalars(select(Appreciation)).one()
        assert (note.kind, note.couple_id, note.shared_at) == (PATH_NOTE, None, None)
        note_id = note.id
    # A forged "share" button changes nothing; the partner never sees it.
    forged = AppreciationChoice(AppreciationAction.SHARE, note_id)
    ana.press(journal, encode(forged), strict=False)
    await bot.process()
    bot.clock.advance(minutes=5)
    await bot.run_dispatcher()
    assert not any("I went quiet" in m.text for m in ben.messages())
    # Only one answer per prompt: the next message is not kept.
    [other] = await bot.say(ana, "hello")
    assert "I'm not waiting for an answer" in other.text
    assert count(bot, Appreciation) == 1
    await bot.say(ana, "/delete")
    await bot.press(ana, "Yes, erase everything")
    assert count(bot, Appreciation) == 0


async def test_a_path_note_too_long_keeps_the_question_open(bot: BotHarness) -> None:
    ana = bot.user(1001, "Ana")
    await bot.onboard(ana)
    await bot.say(ana, "/alone")
    bot.clock.set(PATH_DUE)
    await bot.run_dispatcher()
    [too_long] = await bot.say(ana, "x" * 10_000)
    assert "Nothing was saved yet" in too_long.text
    hostile = "<b>shorter</b> \u202eolleh\u200b"  # HTML, a right-to-left override, zero-width
    [kept] = await bot.say(ana, hostile)
    assert "private note" in kept.text
    with bot.db.session() as session:
        assert session.scalars(select(Appreciation.text)).one() == hostile
    [journal] = await bot.say(ana, "/journal")
    assert "&lt;b&gt;shorter&lt;/b&gt;" in (journal.sent_text or "")  # shown, never obeyed
    assert count(bot, Person) == 1


# --- 12. the invitation pause survives /delete then /start --------------------------------


async def invite_and_hear_not_now(bot: BotHarness) -> tuple[FakeUser, FakeUser]:
    ana, ben = await paired(bot)
    await walk_to_preview(bot, ana)
    await bot.press(ana, "Send it now")
    await bot.run_dispatcher()
    await bot.press(ben, "Not now")
    return ana, ben


async def test_delete_then_start_does_not_reset_the_invitation_pause(bot: BotHarness) -> None:
    ana, _ = await invite_and_hear_not_now(bot)
    [confirm] = await bot.say(ana, "/delete")
    assert "until Wed 23 Dec" in confirm.text and "coded fingerprint" in confirm.text
    await bot.press(ana, "Yes, erase everything")
    with bot.db.session() as session:
        [kept] = session.scalars(select(InviteCooldown)).all()
        assert str(ana.user_id) not in kept.user_hash
        assert kept.user_hash == invitations.person_hash(session, ana.user_id)
        assert kept.until == DEFAULT_NOW + dt.timedelta(days=30)
    bot.clock.advance(days=1)
    await bot.onboard(ana)
    [again] = await bot.say(ana, "/invite")
    assert "possible again from Wed 23 Dec" in again.text
    assert again.button_texts == ["Start the path for one"]


async def test_the_kept_pause_is_erased_when_it_ends(bot: BotHarness) -> None:
    ana, _ = await invite_and_hear_not_now(bot)
    await bot.say(ana, "/delete")
    await bot.press(ana, "Yes, erase everything")
    assert count(bot, InviteCooldown) == 1
    bot.clock.advance(days=30, minutes=1)
    await bot.run_dispatcher()
    assert count(bot, InviteCooldown) == 0
    await bot.onboard(ana)
    [calm] = await bot.say(ana, "/invite")
    assert calm.button_texts == ["Yes, it's calm", "Not really"]


async def test_delete_says_nothing_about_a_pause_when_none_is_running(bot: BotHarness) -> None:
    ana = bot.user(1001, "Ana")
    await bot.onboard(ana)
    [confirm] = await bot.say(ana, "/delete")
    assert "fingerprint" not in confirm.text
    await bot.press(ana, "Yes, erase everything")
    assert count(bot, InviteCooldown) == 0


async def test_delete_explains_the_kept_pause_in_german(bot: BotHarness) -> None:
    ana, _ = await invite_and_hear_not_now(bot)
    await bot.say(ana, "/language de")
    [confirm] = await bot.say(ana, "/delete")
    assert "codierten Fingerabdruck" in confirm.text and "23. Dez" in confirm.text


# --- bad input gets a clear answer ---------------------------------------------------------


async def test_an_empty_or_invisible_partner_name_is_asked_again_not_taken(
    bot: BotHarness,
) -> None:
    ana, _ = await paired(bot)
    await bot.say(ana, "/invite")
    await bot.press(ana, "Yes, it's calm")
    for invisible in ["   ", "\u200b\u200b", "\u202e\u2066"]:
        [again] = await bot.say(ana, invisible)
        assert "Could you type your partner's name again?" in again.text
    [too_long] = await bot.say(ana, "x" * 10_000)
    assert "under 40 characters" in too_long.text
    [hope] = await bot.say(ana, "Ben\u202e\u200b")
    assert "What do you hope for" in hope.text
    with bot.db.session() as session:
        assert session.scalars(select(Invitation)).one().choices["partner"] == "Ben"


async def test_a_hostile_own_line_reaches_the_preview_escaped_and_without_disguise(
    bot: BotHarness,
) -> None:
    ana, _ = await paired(bot)
    await walk_to_own_line(bot, ana)
    [too_long] = await bot.say(ana, "y" * 10_000)
    assert "under 300 characters" in too_long.text
    replies = await bot.say(ana, "<script>alert(1)</script> I\u202e miss\u200b you &amp;")
    preview = next(m for m in replies if "I'd try one session" in m.button_texts)
    assert "<script>alert(1)</script> I miss you &amp;" in (preview.text or "")
    assert "&lt;script&gt;" in (preview.sent_text or "")  # shown as text, never as markup


async def test_someone_else_pressing_the_initiators_buttons_changes_nothing(
    bot: BotHarness,
) -> None:
    ana, ben = await paired(bot)
    await bot.say(ana, "/invite")
    await bot.press(ana, "Yes, it's calm")
    await bot.press(ana, "Ben")
    before = len(ana.messages())
    await bot.press(ana, "To feel close again", from_user=ben)
    assert len(ana.messages()) == before and ana.messages()[-1].button_texts != []
    assert "someone else" in (ben.answered_callbacks()[-1].text or "")
    with bot.db.session() as session:
        assert session.scalars(select(Invitation)).one().choices["hope"] is None


# --- 9. a nightly time inside quiet hours --------------------------------------------------


async def test_a_nightly_time_inside_quiet_hours_is_not_confirmed_as_if_it_would_arrive(
    bot: BotHarness,
) -> None:
    ana = bot.user(1001, "Ana")
    await bot.onboard(ana)
    await bot.say(ana, "/quiet 22:00-07:00")
    [answer] = await bot.say(ana, "/nightly 23:00")
    assert "Done." not in answer.text
    assert "22:00-07:00" in answer.text and "never reach you" in answer.text
    assert "before 22:00" in answer.text and "/quiet" in answer.text
    # And it is true: two evenings at 23:00 Berlin bring nothing.
    before = len(ana.messages())
    for day in (0, 1):
        bot.clock.set(dt.datetime(2026, 11, 23, 22, 0, tzinfo=dt.UTC) + dt.timedelta(days=day))
        await bot.run_dispatcher()
        bot.clock.advance(hours=9)  # past the end of the quiet hours
        await bot.run_dispatcher()
    assert len(ana.messages()) == before


async def test_a_nightly_time_just_before_quiet_hours_end_says_it_arrives_late(
    bot: BotHarness,
) -> None:
    ana = bot.user(1001, "Ana")
    await bot.onboard(ana)
    await bot.say(ana, "/quiet 22:00-07:00")
    [answer] = await bot.say(ana, "/nightly 06:30")
    assert "only arrive when they end, at 07:00" in answer.text
    assert "never" not in answer.text


async def test_a_nightly_time_outside_quiet_hours_is_confirmed_as_before(bot: BotHarness) -> None:
    ana = bot.user(1001, "Ana")
    await bot.onboard(ana)
    await bot.say(ana, "/quiet 22:00-07:00")
    [answer] = await bot.say(ana, "/nightly 21:00")
    assert "Done." in answer.text and "quiet" not in answer.text.lower()


async def test_quiet_hours_covering_an_existing_nightly_time_say_so(bot: BotHarness) -> None:
    ana = bot.user(1001, "Ana")
    await bot.onboard(ana)
    await bot.say(ana, "/nightly 23:00")
    await bot.say(ana, "/tips daily 12:30")
    [quiet, warning] = await bot.say(ana, "/quiet 22:00-07:00")
    assert "Quiet hours: 22:00-07:00" in quiet.text
    assert "23:00" in warning.text and "never reach you" in warning.text
    assert "/nightly" in warning.text and "/tips" not in warning.text
    [only] = await bot.say(ana, "/quiet 23:30-07:00")  # 23:00 is outside these
    assert "Quiet hours: 23:30-07:00" in only.text


async def test_the_quiet_hours_warning_speaks_german_to_a_german_speaker(
    bot: BotHarness,
) -> None:
    ana = bot.user(1001, "Ana")
    await bot.onboard(ana)
    await bot.say(ana, "/language de")
    await bot.say(ana, "/quiet 22:00-07:00")
    [answer] = await bot.say(ana, "/nightly 23:00")
    assert "nie erreichen" in answer.text and "vor 22:00" in answer.text
