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
from sqlalchemy import func, select

from bot import classifier
from bot.safety import check_danger
from fakes.telegram_api import FakeUser, SentMessage
from storage.models import Appreciation
from tests.support.bot import BotHarness
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
    with bot.db.session() as session:
        return int(session.scalar(select(func.count()).select_from(Appreciation)) or 0)


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
    ana.delete_own_message(care.api_object["reply_to_message"]["message_id"])
    [gone] = await bot.press(ana, USE)
    assert "can no longer see what you wrote" in gone.text
    assert appreciations(bot) == 0


async def test_an_answer_edited_into_a_danger_phrase_brings_the_note_back_without_the_button(
    bot: BotHarness, misread: str
) -> None:
    ana = await prompted(bot)
    care = await flagged(bot, ana, misread)
    ana.edit_own_message(care.api_object["reply_to_message"]["message_id"], "he choked me")
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
