"""When only the trained classifier thinks an answer suggests danger, the safety note
offers to use the answer after all ("Use what I wrote"), reading it back from the
message the note quotes: the bot keeps no copy.

The classifier's own figures are tested in test_classifier.py and test_safety.py; here it
is made to flag one chosen text, so that these tests of the flow do not depend on which
harmless sentence the current model happens to misread.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from bot import classifier
from bot.safety import check_danger
from fakes.telegram_api import FakeUser, SentMessage
from storage.answers import open_question as answers_open
from storage.models import Appreciation, Invitation, Person
from tests.support.bot import BotHarness
from tests.test_couple import count
from tests.test_german import onboarded_in_german

NIGHTLY = dt.datetime(2026, 11, 23, 20, 0, tzinfo=dt.UTC)  # 21:00 in Berlin
MISREAD = "You followed me home from the station to make sure I got back safe"
USE = "Use what I wrote"


@pytest.fixture
def bot(sqlite_bot: BotHarness) -> BotHarness:
    """The flow does not depend on the database: SQLite alone."""
    return sqlite_bot


@pytest.fixture
def misread(monkeypatch: pytest.MonkeyPatch) -> str:
    """The safety classifier flags MISREAD (and only it, beyond what it flags anyway)."""
    real = classifier.score

    def score(check: classifier.CheckName, text: str, language: str) -> classifier.Score:
        if check == "safety" and text == MISREAD:
            return classifier.Score(0.97, text, True)
        return real(check, text, language)

    monkeypatch.setattr(classifier, "score", score)
    found = check_danger(MISREAD, "en")
    assert found.category is None and found.classifier == 0.97, "a phrase now matches it"
    return MISREAD


def appreciations(bot: BotHarness) -> int:
    return count(bot, Appreciation)


async def prompted(bot: BotHarness) -> FakeUser:
    """Ana, with tonight's appreciation prompt open."""
    ana = bot.user(1001, "Ana")
    await bot.onboard(ana)
    await bot.say(ana, "/nightly 21:00")
    bot.clock.set(NIGHTLY)
    await bot.run_dispatcher()
    return ana


async def flagged(bot: BotHarness, ana: FakeUser, text: str) -> SentMessage:
    [care] = await bot.say(ana, text)
    assert "haven't passed your message on" in care.text
    return care


def note_text_id(care: SentMessage) -> int:
    """The id of the person's message that the care note quotes."""
    return int(care.api_object["reply_to_message"]["message_id"])


async def test_an_answer_only_the_classifier_flagged_can_be_used_after_all(
    bot: BotHarness, misread: str
) -> None:
    ana = await prompted(bot)
    care = await flagged(bot, ana, misread)
    assert care.button_texts == ["Pause everything", USE]
    assert f"tap “{USE}”" in care.text
    quoted = care.api_object["reply_to_message"]
    assert quoted["text"] == misread and quoted["from"]["id"] == ana.user_id
    assert appreciations(bot) == 0  # nothing kept until Ana says so

    [saved] = await bot.press(ana, USE)
    assert "It's in your journal" in saved.text
    assert appreciations(bot) == 1
    assert ana.messages()[-2].button_texts == []  # the note's buttons are gone
    with bot.db.session() as session:
        assert session.scalars(select(Appreciation.text)).one() == misread


async def test_a_phrase_flag_offers_no_way_past_the_note_and_quotes_nothing(
    bot: BotHarness,
) -> None:
    ana = await prompted(bot)
    care = await flagged(bot, ana, "He hit me again last night")
    assert care.button_texts == ["Pause everything"]
    assert "there's nothing you need to do" in care.text
    assert "reply_to_message" not in care.api_object


async def test_with_no_question_open_the_note_offers_nothing_to_carry_on_with(
    bot: BotHarness, misread: str
) -> None:
    ana = bot.user(1001, "Ana")
    await bot.onboard(ana)
    care = await flagged(bot, ana, misread)
    assert care.button_texts == ["Pause everything"]


async def test_an_answer_deleted_before_the_tap_is_not_used(bot: BotHarness, misread: str) -> None:
    ana = await prompted(bot)
    care = await flagged(bot, ana, misread)
    ana.delete_own_message(note_text_id(care))
    [gone] = await bot.press(ana, USE)
    assert "can no longer see what you wrote" in gone.text
    assert appreciations(bot) == 0


async def test_an_answer_edited_into_a_danger_phrase_brings_the_note_back_without_the_button(
    bot: BotHarness, misread: str
) -> None:
    ana = await prompted(bot)
    care = await flagged(bot, ana, misread)
    ana.edit_own_message(note_text_id(care), "he choked me")
    [again] = await bot.press(ana, USE)
    assert "haven't passed your message on" in again.text
    assert again.button_texts == ["Pause everything"]
    assert appreciations(bot) == 0


async def test_the_button_does_nothing_once_the_question_it_answered_has_closed(
    bot: BotHarness, misread: str
) -> None:
    ana = await prompted(bot)
    await flagged(bot, ana, misread)
    [saved] = await bot.say(ana, "Your patience with my mother on the phone")
    assert "It's in your journal" in saved.text
    ana.press_button(USE)
    await bot.process()
    assert "isn't open any more" in ana.messages()[-1].text
    assert appreciations(bot) == 1


async def test_a_stopped_person_cannot_use_the_button(bot: BotHarness, misread: str) -> None:
    ana = await prompted(bot)
    await flagged(bot, ana, misread)
    await bot.say(ana, "/stop")
    ana.press_button(USE)
    await bot.process()
    assert "isn't open any more" in ana.messages()[-1].text
    assert appreciations(bot) == 0


async def test_the_note_in_german_names_its_button(bot: BotHarness, misread: str) -> None:
    ana = await onboarded_in_german(bot)
    await bot.say(ana, "/nightly 21:00")
    bot.clock.set(NIGHTLY)
    await bot.run_dispatcher()
    care = await flagged_de(bot, ana, misread)
    assert care.button_texts == ["Alles pausieren", "Meine Nachricht verwenden"]
    assert "„Meine Nachricht verwenden“" in care.text


async def flagged_de(bot: BotHarness, ana: FakeUser, text: str) -> SentMessage:
    [care] = await bot.say(ana, text)
    assert "an niemanden weitergegeben" in care.text
    return care


async def press_use(bot: BotHarness, ana: FakeUser, care: SentMessage, data: str = "") -> str:
    """Press "Use what I wrote" on this note (or forged `data` on it); the last reply."""
    ana.press(care, data or str(care.callback_data_for(USE)), strict=False)
    await bot.process()
    return ana.messages()[-1].text or ""


async def test_yesterdays_note_does_not_answer_tonights_prompt(
    bot: BotHarness, misread: str
) -> None:
    """Found by an adversarial review: the button compared only the question's kind."""
    ana = await prompted(bot)
    old = await flagged(bot, ana, misread)
    bot.clock.set(NIGHTLY + dt.timedelta(days=1))
    await bot.run_dispatcher()  # tonight's prompt is open now
    assert "isn't open any more" in await press_use(bot, ana, old)
    assert appreciations(bot) == 0


async def test_a_note_from_an_erased_account_does_not_feed_the_new_one(
    bot: BotHarness, misread: str
) -> None:
    ana = await prompted(bot)
    old = await flagged(bot, ana, misread)
    await bot.say(ana, "/delete")
    await bot.press(ana, ana.messages()[-1].button_texts[0])
    bot.clock.advance(minutes=5)
    await bot.onboard(ana)
    await bot.say(ana, "/nightly 21:00")
    bot.clock.set(NIGHTLY + dt.timedelta(days=1))
    await bot.run_dispatcher()
    # SQLite may give the new account the erased one's ids, so the question can look the
    # same; the seal (which holds the account's creation time) does not match, so the
    # answer is read again like a new message: nothing is used unchecked.
    reply = await press_use(bot, ana, old)
    assert "isn't open any more" in reply or "haven't passed your message on" in reply
    assert appreciations(bot) == 0


async def test_a_forged_button_cannot_move_an_answer_to_another_question(
    bot: BotHarness, misread: str
) -> None:
    ana = await prompted(bot)
    care = await flagged(bot, ana, misread)
    data = str(care.callback_data_for(USE))
    await bot.say(ana, "/invite")
    await bot.press(ana, "Yes, it's calm")  # the invitation now asks for a name
    _, _, ref, seal = data.split("|")
    assert ref != "0"
    # The question's kind and reference no longer match: refused.
    forged = f"sc|appreciation|{ref}|{'0' * 12}"
    assert "isn't open any more" in await press_use(bot, ana, care, forged)
    # An invitation's question is its draft: another draft, or none, is refused.
    assert "isn't open any more" in await press_use(bot, ana, care, f"sc|invite_name|0|{seal}")
    # Made to match the invitation's question: the seal does not, so the answer is read
    # again as if just sent, and the note comes back; the name question stays open.
    with bot.db.session() as session:
        draft = session.scalars(select(Invitation.id)).one()
    forged = f"sc|invite_name|{draft}|{seal}"
    assert "haven't passed your message on" in await press_use(bot, ana, care, forged)
    with bot.db.session() as session:
        assert session.scalars(select(Person.awaiting)).one() == "invite_name"
    assert appreciations(bot) == 0


async def test_a_forged_seal_on_the_open_question_uses_nothing_unchecked(
    bot: BotHarness, misread: str
) -> None:
    """The seal binds the answer: a wrong one means "changed since", so the text is
    checked again like a new message (and the classifier flags it again)."""
    ana = await prompted(bot)
    care = await flagged(bot, ana, misread)
    tag, flow, ref, _ = str(care.callback_data_for(USE)).split("|")
    reply = await press_use(bot, ana, care, f"{tag}|{flow}|{ref}|{'0' * 12}")
    assert "haven't passed your message on" in reply
    assert appreciations(bot) == 0


async def test_an_answer_edited_since_is_checked_again_like_a_new_message(
    bot: BotHarness, misread: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ana = await prompted(bot)
    care = await flagged(bot, ana, misread)
    # Edited into something the classifier flags too: the note comes back, with a new
    # button bound to the new words.
    also = "I gave all my things away this week, I won't be needing anything soon"
    real = classifier.score
    monkeypatch.setattr(
        classifier,
        "score",
        lambda c, t, lang: classifier.Score(0.9, t, True) if t == also else real(c, t, lang),
    )
    ana.edit_own_message(note_text_id(care), also)
    again = await press_use(bot, ana, care)
    assert "haven't passed your message on" in again
    assert ana.messages()[-1].button_texts == ["Pause everything", USE]
    assert appreciations(bot) == 0
    # Edited into plain kind words: used, as if just sent.
    ana.edit_own_message(note_text_id(care), "Your patience with my mother today")
    assert "It's in your journal" in await press_use(bot, ana, ana.messages()[-1])
    assert appreciations(bot) == 1


async def test_a_note_from_an_earlier_invitation_does_not_feed_a_new_one(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by a second adversarial review: invitation questions had no reference, so a
    note written for a cancelled invitation's line filled the next invitation's."""
    line = "I keep thinking about how we used to talk for hours on the balcony"
    real = classifier.score
    monkeypatch.setattr(
        classifier,
        "score",
        lambda c, t, lang: (
            classifier.Score(0.9, t, True) if c == "safety" and t == line else real(c, t, lang)
        ),
    )
    ana = bot.user(1001, "Ana")
    await bot.onboard(ana)
    with bot.db.session() as session:
        person = session.scalars(select(Person)).one()
    first = await bot.db.run(answers_open, person.id)
    assert first is None
    await bot.say(ana, "/invite")
    await bot.press(ana, "Yes, it's calm")
    question = await bot.db.run(answers_open, person.id)
    assert question is not None and question[0] == "invite_name" and question[1] > 0
    care = await flagged(bot, ana, line)
    assert care.button_texts == ["Pause everything", USE]
    await bot.say(ana, "/invite cancel")
    with bot.db.session() as session:
        assert session.scalars(select(Invitation.status)).all() in ([], ["cancelled"])
    bot.clock.advance(days=20)  # past the pause a cancelled invitation may leave
    await bot.say(ana, "/invite")
    await bot.press(ana, "Yes, it's calm")
    assert "isn't open any more" in await press_use(bot, ana, care)
