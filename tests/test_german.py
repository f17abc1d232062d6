"""A German-speaking person can use the bot in German, start to finish."""

from __future__ import annotations

from fakes.telegram_api import FakeUser
from tests.support.bot import BotHarness


def de(bot: BotHarness, key: str) -> str:
    return bot.renderer.label(key, "de")


async def onboarded_in_german(bot: BotHarness, user_id: int = 2001) -> FakeUser:
    lena = bot.user(user_id, "Lena", language_code="de-AT")
    [welcome] = await bot.say(lena, "/start")
    assert de(bot, "consent_yes") in welcome.button_texts
    await bot.press(lena, de(bot, "consent_yes"))
    await bot.press(lena, "Lena")
    await bot.say(lena, "Europe/Vienna")
    return lena


async def test_a_person_whose_telegram_is_german_is_answered_in_german(
    sqlite_bot: BotHarness,
) -> None:
    lena = await onboarded_in_german(sqlite_bot)
    [settings] = await sqlite_bot.say(lena, "/settings")
    assert "Sprache: Deutsch" in settings.text
    [scheduled] = await sqlite_bot.say(lena, "/nightly 21:00")
    assert "21:00" in scheduled.text
    assert "Done" not in scheduled.text


async def test_german_day_names_and_twelve_hour_times_are_understood(
    sqlite_bot: BotHarness,
) -> None:
    lena = await onboarded_in_german(sqlite_bot)
    [scheduled] = await sqlite_bot.say(lena, "/checkin So 7 pm")
    assert "19:00" in scheduled.text
    assert "Sonntag" in scheduled.text or "So." in scheduled.text


async def test_an_unreadable_time_is_explained_in_german(sqlite_bot: BotHarness) -> None:
    lena = await onboarded_in_german(sqlite_bot)
    [usage] = await sqlite_bot.say(lena, "/nightly 21:60")
    assert "Die Minuten gehen von 00 bis 59" in usage.text


async def test_language_switches_the_words_and_settings_show_it(sqlite_bot: BotHarness) -> None:
    lena = await onboarded_in_german(sqlite_bot)
    [choose] = await sqlite_bot.say(lena, "/language")
    assert choose.button_texts == ["Deutsch", "English"]
    [done] = await sqlite_bot.press(lena, "English")
    assert "in English from now on" in done.text
    [settings] = await sqlite_bot.say(lena, "/settings")
    assert "Language: English" in settings.text
    [back] = await sqlite_bot.say(lena, "/language de")
    assert "auf Deutsch" in back.text


async def test_a_language_we_do_not_speak_falls_back_to_the_default(
    sqlite_bot: BotHarness,
) -> None:
    marie = sqlite_bot.user(2002, "Marie", language_code="fr")
    [welcome] = await sqlite_bot.say(marie, "/start")
    assert sqlite_bot.renderer.label("consent_yes", "en") in welcome.button_texts


async def test_danger_written_in_german_gets_care_with_the_countrys_numbers(
    sqlite_bot: BotHarness,
) -> None:
    lena = await onboarded_in_german(sqlite_bot)
    [care] = await sqlite_bot.say(lena, "Er schlägt mich und ich habe Angst, nach Hause zu gehen")
    assert "Ich habe deine Nachricht an niemanden weitergegeben" in care.text
    assert "142" in care.text  # Austria's Telefonseelsorge, from the zone
    assert "112" in care.text


async def test_danger_written_in_english_by_a_german_speaker_is_still_caught(
    sqlite_bot: BotHarness,
) -> None:
    lena = await onboarded_in_german(sqlite_bot)
    [care] = await sqlite_bot.say(lena, "He hit me again and I am scared to go home")
    assert "Ich habe deine Nachricht an niemanden weitergegeben" in care.text


def test_an_undelivered_invitation_is_told_in_german_without_blame(bot: BotHarness) -> None:
    told = bot.renderer.render("invite/undelivered", "de", partner="Jonas")
    assert "Deine Einladung konnte Jonas nicht erreichen" in told
    assert "sagt nichts über deine Einladung" in told
    assert "einen privaten Link" in told
    unnamed = bot.renderer.render("invite/undelivered", "de", partner="")
    assert "konnte deinen Partner oder deine Partnerin nicht erreichen" in unnamed
    assert "es deinem Partner oder deiner Partnerin in einem ruhigen Moment" in unnamed


def test_a_checkin_time_in_the_partners_quiet_hours_is_explained_in_german(
    bot: BotHarness,
) -> None:
    text = bot.renderer.render(
        "checkin/proposal_quiet", "de", partner="Jonas", day="Sonntag", at="19:00"
    )
    assert text.startswith("Jeden Sonntag um 19:00 liegt in der Ruhezeit, die Jonas")
    assert de(bot, "checkin_ask_anyway") == "Trotzdem fragen"
    assert de(bot, "checkin_pick_another") == "Andere Zeit wählen"
