"""Consent-first onboarding through the real dispatch, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from bot.callbacks import Consent, YesNo, encode
from storage.models import Person
from tests.support.bot import BotHarness


def count_people(bot: BotHarness) -> int:
    with bot.db.session() as session:
        return int(session.scalar(select(func.count()).select_from(Person)) or 0)


async def test_start_explains_and_asks_consent_before_storing_anything(bot: BotHarness) -> None:
    ana = bot.user(1001, "Ana")
    [welcome] = await bot.say(ana, "/start")
    assert "not therapy" in welcome.text
    assert "emergency" in welcome.text
    assert "What I keep" in welcome.text
    assert welcome.button_texts == ["Yes, I agree", "Not now"]
    assert count_people(bot) == 0


async def test_declining_consent_keeps_nothing(bot: BotHarness) -> None:
    ana = bot.user(1001, "Ana")
    await bot.say(ana, "/start")
    [answer] = await bot.press(ana, "Not now")
    assert "haven't saved anything" in answer.text
    assert count_people(bot) == 0
    # And the question's buttons are gone, so it cannot be answered twice.
    assert ana.messages()[0].button_texts == []


async def test_it_onboards_name_and_zone(bot: BotHarness) -> None:
    ana = bot.user(1001, "Ana")
    await bot.say(ana, "/start")
    [ask_name] = await bot.press(ana, "Yes, I agree")
    assert "call you" in ask_name.text
    assert ask_name.button_texts == ["Ana"]
    [ask_zone] = await bot.say(ana, "Annie")
    assert "Nice to meet you, Annie" in ask_zone.text
    assert "time zone" in ask_zone.text
    [done] = await bot.say(ana, "berlin")
    assert "Europe/Berlin" in done.text
    assert "14:00" not in done.text and "13:00" in done.text  # 12:00 UTC is 13:00 in Berlin
    with bot.db.session() as session:
        person = session.scalars(select(Person)).one()
        assert (person.display_name, person.timezone) == ("Annie", "Europe/Berlin")
        assert person.consented_at == bot.clock.now
        assert person.awaiting is None


async def test_keeping_the_suggested_name_is_one_tap(bot: BotHarness) -> None:
    ana = bot.user(1001, "Ana")
    await bot.onboard(ana)
    with bot.db.session() as session:
        assert session.scalars(select(Person.display_name)).one() == "Ana"


async def test_a_near_miss_zone_gets_suggestions_as_buttons(bot: BotHarness) -> None:
    ana = bot.user(1001, "Ana")
    await bot.say(ana, "/start")
    await bot.press(ana, "Yes, I agree")
    await bot.press(ana, "Ana")
    [answer] = await bot.say(ana, "Europe/Berln")
    assert "Did you mean" in answer.text
    assert "Use Europe/Berlin" in answer.button_texts
    [done] = await bot.press(ana, "Use Europe/Berlin")
    assert "Europe/Berlin" in done.text


async def test_an_unknown_zone_is_explained_and_nothing_changes(bot: BotHarness) -> None:
    ana = bot.user(1001, "Ana")
    await bot.onboard(ana, zone="Asia/Kolkata")
    [answer] = await bot.say(ana, "/timezone Mars/Olympus_Mons")
    assert "couldn't find" in answer.text
    with bot.db.session() as session:
        assert session.scalars(select(Person.timezone)).one() == "Asia/Kolkata"


async def test_a_shared_location_sets_the_zone_and_is_not_kept(bot: BotHarness) -> None:
    ana = bot.user(1001, "Ana")
    await bot.say(ana, "/start")
    await bot.press(ana, "Yes, I agree")
    await bot.press(ana, "Ana")
    [done] = await bot.share_location(ana, 40.7128, -74.0060)
    assert "America/New_York" in done.text
    with bot.db.session() as session:
        person = session.scalars(select(Person)).one()
        assert person.timezone == "America/New_York"
        # Nothing about the coordinates is stored anywhere on the person.
        assert "40.71" not in repr(vars(person))


async def test_a_location_at_sea_asks_for_a_city(bot: BotHarness) -> None:
    ana = bot.user(1001, "Ana")
    await bot.onboard(ana)
    [answer] = await bot.share_location(ana, 0.0, -150.0)
    assert "nearest big city" in answer.text


async def test_start_again_after_onboarding_does_not_ask_again(bot: BotHarness) -> None:
    ana = bot.user(1001, "Ana")
    await bot.onboard(ana)
    [answer] = await bot.say(ana, "/start")
    assert "already set up" in answer.text
    assert count_people(bot) == 1


async def test_unknown_deep_link_gets_a_kind_explanation(bot: BotHarness) -> None:
    ana = bot.user(1001, "Ana")
    await bot.onboard(ana)
    [answer] = await bot.say(ana, "/start zz_notarealtoken")
    assert "didn't work" in answer.text


async def test_malformed_deep_link_is_refused_without_storing(bot: BotHarness) -> None:
    ana = bot.user(1001, "Ana")
    [answer] = await bot.say(ana, "/start " + "<script>" * 20)
    assert "didn't work" in answer.text
    assert count_people(bot) == 0


async def test_a_deep_link_before_consent_is_kept_until_consent(bot: BotHarness) -> None:
    ana = bot.user(1001, "Ana")
    [welcome] = await bot.say(ana, "/start zz_unknownflow")
    assert welcome.button_texts == ["Yes, I agree", "Not now"]
    await bot.press(ana, "Yes, I agree")
    await bot.press(ana, "Ana")
    messages = await bot.say(ana, "UTC")
    # After onboarding, the remembered link is routed (and this one is unknown).
    assert "didn't work" in messages[-1].text


async def test_a_deep_link_before_consent_waits_in_the_database_not_in_memory(
    bot: BotHarness,
) -> None:
    ana = bot.user(1001, "Ana")
    [welcome] = await bot.say(ana, "/start zz_unknownflow")
    assert count_people(bot) == 0  # nothing stored before consent: the button carries it
    carried = encode(Consent(YesNo.YES, "zz_unknownflow"))
    assert welcome.callback_data_for("Yes, I agree") == carried
    await bot.press(ana, "Yes, I agree")
    with bot.db.session() as session:
        person = session.scalars(select(Person)).one()
        assert person.pending_start == "zz_unknownflow"
        assert person.pending_start_expires_at == bot.clock() + dt.timedelta(hours=24)
    # A restart, or the next update landing on another process: nothing in memory.
    bot.app.drop_user_data(ana.user_id)
    await bot.press(ana, "Ana")
    messages = await bot.say(ana, "UTC")
    assert "didn't work" in messages[-1].text
    with bot.db.session() as session:
        assert session.scalars(select(Person.pending_start)).one() is None


async def test_a_deep_link_waiting_more_than_a_day_is_let_go(bot: BotHarness) -> None:
    ana = bot.user(1001, "Ana")
    await bot.say(ana, "/start zz_unknownflow")
    await bot.press(ana, "Yes, I agree")
    bot.clock.advance(hours=25)
    await bot.press(ana, "Ana")
    messages = await bot.say(ana, "UTC")
    assert not any("didn't work" in m.text for m in messages)
    with bot.db.session() as session:
        assert session.scalars(select(Person.pending_start)).one() is None


async def test_a_deep_link_declined_at_consent_leaves_nothing(bot: BotHarness) -> None:
    ana = bot.user(1001, "Ana")
    await bot.say(ana, "/start zz_unknownflow")
    await bot.press(ana, "Not now")
    assert count_people(bot) == 0


async def test_setmycommands_registers_the_menu(bot: BotHarness) -> None:
    from bot.app import _post_init, _post_stop

    await _post_init(bot.app)
    await _post_stop(bot.app)  # it also started the dashboard
    names = [c["command"] for c in bot.fake.commands]
    assert {
        "start",
        "help",
        "settings",
        "pause",
        "resume",
        "stop",
        "delete",
        "mydata",
        "timezone",
        "nightly",
        "checkin",
        "tips",
        "quiet",
    } <= set(names)
    assert all(c["description"] for c in bot.fake.commands)
