"""The therapist's side of the bot (issue 13, "Bot side"): their own `/` menu, /help,
couples named by the therapist's code (never by a bare number), /endlink, notices that
name the couple, and client links not used yet.

Ana (Berlin) and Ben (New York) are couple 1; Dr. Lee is therapist 9001. The clock starts
Monday 23 November 2026, 12:00 UTC.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from telegram import BotCommand, BotCommandScopeChat

from bot.callbacks import CodeFor, EndLink, EndLinkStep, WithdrawClientLink, WordingFor, encode
from bot.handlers import therapist as therapist_handlers
from bot.handlers.therapist_couples import match_couple
from bot.menus import MENU, THERAPIST_MENU
from bot.render import Renderer
from dashboard import loaders
from fakes.telegram_api import FakeUser
from scheduler import therapy, wording
from scheduler.therapy import CoupleCard, PartnerCard
from storage import couples, people, practice, therapists
from storage import wording as wording_store
from storage.models import (
    NIGHTLY_APPRECIATION,
    TIMING_TIP,
    WEEKLY_CHECKIN,
    Delivery,
    Schedule,
    TherapistConsent,
    TherapistLink,
)
from tests.support.bot import BotHarness
from tests.support.refusals import english_pieces
from tests.test_couple import paired
from tests.test_therapist import add_therapist, linked, registered_therapist

TEMPLATES = Path(__file__).resolve().parents[1] / "templates" / "messages"
EXPIRED = "That button has expired. Nothing changed."


def chat_scope(user: FakeUser) -> dict[str, Any]:
    return {"type": "chat", "chat_id": user.chat_id}


def menu_of(bot: BotHarness, user: FakeUser, language: str = "") -> list[str]:
    return [c["command"] for c in bot.fake.commands_for(chat_scope(user), language)]


def set_code(bot: BotHarness, code: str, couple_id: int = 1, therapist_id: int = 1) -> None:
    bot.db.call(practice.set_client_code, therapist_id, couple_id, code)


def link_row(bot: BotHarness, couple_id: int = 1) -> TherapistLink:
    with bot.db.session() as session:
        link = session.scalars(
            select(TherapistLink)
            .where(TherapistLink.couple_id == couple_id)
            .order_by(TherapistLink.id.desc())
        ).first()
        assert link is not None
        session.expunge(link)
        return link


def therapist_schedules(bot: BotHarness) -> list[Schedule]:
    with bot.db.session() as session:
        return list(session.scalars(select(Schedule).where(Schedule.set_by == "therapist")))


async def send_notices(bot: BotHarness) -> int:
    return await therapist_handlers.send_notices(bot.app.bot, bot.services)


# --- 1. the therapist's own menu, in their chat only -----------------------------------------


async def test_registering_gives_only_the_therapists_chat_its_own_menu_in_every_language(
    bot: BotHarness,
) -> None:
    ana, ben = await paired(bot)
    doc = await registered_therapist(bot)
    calls = bot.fake.calls_to("setMyCommands")
    # Default language, English and German: each with this chat's scope, nothing wider.
    assert sorted(str(c.params.get("language_code", "")) for c in calls) == ["", "de", "en"]
    assert all(c.params["scope"] == chat_scope(doc) for c in calls)
    assert menu_of(bot, doc) == list(THERAPIST_MENU)
    assert menu_of(bot, doc, "en") == list(THERAPIST_MENU)
    german = {c["command"]: c["description"] for c in bot.fake.commands_for(chat_scope(doc), "de")}
    assert german["endlink"] == "Die Verbindung mit einem Paar beenden"
    # The partners' menus are untouched: nothing was set for their chats or for everyone.
    assert menu_of(bot, ana) == [] and menu_of(bot, ben) == []
    assert bot.fake.commands_for(None) == []


async def test_a_therapist_who_is_also_a_partner_keeps_the_partners_commands_after_theirs(
    bot: BotHarness,
) -> None:
    ana, _ = await paired(bot)
    await bot.say(ana, f"/therapist {add_therapist(bot)}")
    menu = menu_of(bot, ana)
    assert menu[: len(THERAPIST_MENU)] == list(THERAPIST_MENU)
    assert set(menu) == set(THERAPIST_MENU) | set(MENU) and len(menu) == len(set(menu))


async def test_a_revoked_therapists_menu_is_removed_and_start_up_keeps_menus_right(
    bot: BotHarness,
) -> None:
    doc = await registered_therapist(bot)
    lena = bot.user(9002, "Lena", language_code="de")
    await bot.say(lena, f"/therapist {add_therapist(bot, 'Dr. Lena')}")
    assert menu_of(bot, doc) and menu_of(bot, lena, "de")
    assert bot.db.call(therapists.revoke, 1, bot.clock.now)
    # Start-up: the revoked account's menu goes in every language; Lena's is set again.
    bot.fake.reset_calls()
    await therapist_handlers.sync_menus(bot.app.bot, bot.services)
    assert menu_of(bot, doc) == [] and menu_of(bot, doc, "de") == []
    deleted = bot.fake.calls_to("deleteMyCommands")
    assert {c.params["scope"]["chat_id"] for c in deleted} == {doc.chat_id}
    assert menu_of(bot, lena, "de") == list(THERAPIST_MENU)
    # A revoked therapist who still types a therapist command loses the menu then, too.
    await bot.app.bot.set_my_commands(
        [BotCommand("clients", "Your couples")], scope=BotCommandScopeChat(doc.chat_id)
    )
    [refused] = await bot.say(doc, "/clients")
    assert "registered therapists" in refused.text
    assert menu_of(bot, doc) == []


# --- 2. /help --------------------------------------------------------------------------------


async def test_help_for_a_therapist_lists_their_commands_and_partners_keep_theirs(
    bot: BotHarness,
) -> None:
    ana, _ = await paired(bot)
    doc = await registered_therapist(bot)
    [helped] = await bot.say(doc, "/help")
    for command in ("/clients", "/clientlink", "/wording", "/endlink", "/dashboard"):
        assert command in helped.text
    assert "/start" not in helped.text and "also use the bot" not in helped.text
    [partner_help] = await bot.say(ana, "/help")
    assert "Here's what I can do, Ana" in partner_help.text and "/endlink" not in partner_help.text
    lena = bot.user(9002, "Lena", language_code="de")
    await bot.say(lena, f"/therapist {add_therapist(bot, 'Dr. Lena')}")
    [german] = await bot.say(lena, "/help")
    assert "Für Sie als Therapeutin oder Therapeut" in german.text and "/endlink" in german.text


async def test_the_dashboards_language_follows_telegrams_until_the_therapist_chooses(
    bot: BotHarness,
) -> None:
    lena = bot.user(9002, "Lena", language_code="de-AT")
    await bot.say(lena, f"/therapist {add_therapist(bot, 'Dr. Lena')}")
    [link] = await bot.say(lena, "/dashboard")
    assert "/login" in link.text or "http" in link.text

    def language(session: Session) -> str | None:
        return session.scalars(select(therapists.Therapist.language)).one()

    assert bot.db.call(language) == "de"
    therapist_id = bot.db.call(lambda s: s.scalars(select(therapists.Therapist.id)).one())
    bot.db.call(therapists.set_language, therapist_id, "en")
    await bot.say(lena, "/dashboard")
    assert bot.db.call(language) == "en"  # the therapist's own choice stands


async def test_help_for_a_therapist_who_is_also_a_partner_says_both_work(bot: BotHarness) -> None:
    ana, _ = await paired(bot)
    await bot.say(ana, f"/therapist {add_therapist(bot)}")
    [helped] = await bot.say(ana, "/help")
    assert "/endlink" in helped.text and "You also use the bot for yourself" in helped.text


# --- 3. couples by code or by button, never by a bare number --------------------------------


def _card(couple_id: int, code: str | None) -> CoupleCard:
    partner = PartnerCard(0, "", "", consented=False, paused=False)
    return CoupleCard(couple_id, couple_id, (partner, partner), [], None, {}, 0, code)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("MJ-04 Hello there", (4, "Hello there"), id="code"),
        pytest.param("mj-04   Hello", (4, "Hello"), id="any-case"),
        pytest.param("Maya and Jo off", (5, "off"), id="code-with-spaces"),
        pytest.param("Maya Hello", (6, "Hello"), id="shorter-code"),
        pytest.param("Couple 7 Hi", (7, "Hi"), id="default-name"),
        pytest.param("Paar 7 Hallo", (7, "Hallo"), id="default-name-german"),
        # "Couple 12" is couple 13's code: the code the therapist set wins.
        pytest.param("Couple 12 Hi", (13, "Hi"), id="code-beats-a-default-name"),
        pytest.param("MJ-04", (4, ""), id="code-alone"),
        pytest.param("7 Hi", None, id="bare-number"),
        pytest.param("MJ-040 Hi", None, id="code-prefix-only"),
        pytest.param("XX-99 Hi", None, id="unknown"),
    ],
)
def test_a_couple_is_found_by_its_name_in_the_text(
    text: str, expected: tuple[int, str] | None
) -> None:
    renderer = Renderer(TEMPLATES)
    cards = [
        _card(4, "MJ-04"),
        _card(5, "Maya and Jo"),
        _card(6, "Maya"),
        _card(7, None),
        _card(12, None),
        _card(13, "Couple 12"),
    ]
    found = match_couple(text, cards, renderer)
    if expected is None:
        assert found is None
        return
    assert found is not None
    assert (found[0].couple_id, found[1]) == expected


async def test_wording_takes_the_couples_code_and_names_it_in_the_confirmation(
    bot: BotHarness,
) -> None:
    _, _, doc = await linked(bot)
    set_code(bot, "MJ-04")
    [clients] = await bot.say(doc, "/clients")
    assert clients.button_texts == ["MJ-04: Ana & Ben"]
    [saved] = await bot.say(doc, "/wording mj-04 Good evening {{ first_name }}")
    assert saved.text.startswith("Saved for MJ-04: Ana & Ben.")
    assert link_row(bot).config["custom_nightly"] == "Good evening {{ first_name }}"  # type: ignore[index]


async def test_wording_with_an_unknown_or_another_therapists_code_changes_nothing(
    bot: BotHarness,
) -> None:
    _, _, doc = await linked(bot)
    set_code(bot, "MJ-04")
    lena = bot.user(9002, "Lena")
    await bot.say(lena, f"/therapist {add_therapist(bot, 'Dr. Lena')}")
    before = link_row(bot).config
    for who, text in (
        (doc, "/wording XX-99 Hello"),
        (doc, "/wording 1 Hello"),  # the couple's number alone is not its name
        (lena, "/wording MJ-04 Hello"),  # Lee's code means nothing to Lena
        (lena, "/wording Couple 1 Hello"),
    ):
        [refused] = await bot.say(who, text)
        assert "No couple of yours goes by that name, so nothing changed" in refused.text
    assert link_row(bot).config == before
    assert (await bot.say(lena, "/wording MJ-04 Hello"))[0].button_texts == []


async def test_wording_alone_offers_the_couples_as_buttons_and_refuses_a_forged_one(
    bot: BotHarness,
) -> None:
    _, _, doc = await linked(bot)
    set_code(bot, "MJ-04")
    [usage] = await bot.say(doc, "/wording")
    assert usage.button_texts == ["MJ-04"] and "No couple of yours" not in usage.text
    [how] = await bot.press(doc, "MJ-04")
    assert "/wording MJ-04 your text" in how.text and "/wording MJ-04 off" in how.text
    lena = bot.user(9002, "Lena")
    await bot.say(lena, f"/therapist {add_therapist(bot, 'Dr. Lena')}")
    lena.press(lena.messages()[-1], encode(WordingFor(1)), strict=False)
    await bot.process()
    assert lena.answered_callbacks()[-1].text == EXPIRED


# --- 4. /endlink -----------------------------------------------------------------------------


async def test_endlink_asks_first_then_ends_the_link_and_tells_both_partners_kindly(
    bot: BotHarness,
) -> None:
    ana, ben, doc = await linked(bot)
    await bot.say(ben, "/language de")
    set_code(bot, "MJ-04")
    await bot.say(doc, "/clients")
    await bot.press(doc, "MJ-04: Ana & Ben")
    await bot.press(doc, "Nightly 20:00")
    assert therapist_schedules(bot)
    [choose] = await bot.say(doc, "/endlink")
    assert choose.button_texts == ["MJ-04"]
    [confirm] = await bot.press(doc, "MJ-04")
    assert confirm.text.startswith("End your link with MJ-04: Ana & Ben?")
    assert confirm.button_texts == ["End the link", "Keep it"]
    [kept] = await bot.press(doc, "Keep it")
    assert kept.text == "Nothing changed: your link with MJ-04 stays as it is."
    assert link_row(bot).ended_at is None and therapist_schedules(bot)
    # By its code, straight to the question.
    [confirm] = await bot.say(doc, "/endlink MJ-04")
    assert confirm.button_texts == ["End the link", "Keep it"]
    ana_before, ben_before = len(ana.messages()), len(ben.messages())
    [done] = await bot.press(doc, "End the link")
    assert done.text == (
        "Your link with MJ-04 has ended. Nothing you set reaches them any more. "
        "Both partners have been told."
    )
    [to_ana] = ana.messages()[ana_before:]
    [to_ben] = ben.messages()[ben_before:]
    assert to_ana.text.startswith("Dr. Lee has ended their link with you here.")
    assert "your own settings are untouched" in to_ana.text
    assert to_ben.text.startswith("Dr. Lee hat die Verbindung mit dir hier beendet.")
    assert link_row(bot).ended_at is not None and therapist_schedules(bot) == []
    with bot.db.session() as session:
        consents = session.scalars(select(TherapistConsent)).all()
        assert consents and all(c.withdrawn_at is not None for c in consents)
    [clients] = await bot.say(doc, "/clients")
    assert clients.button_texts == []
    # Pressed again, the button no longer means anything.
    doc.press(confirm, encode(EndLink(1, EndLinkStep.END)), strict=False)
    await bot.process()
    assert doc.answered_callbacks()[-1].text == EXPIRED


async def test_endlink_buttons_forged_by_anyone_else_change_nothing(bot: BotHarness) -> None:
    ana, _, doc = await linked(bot)
    await bot.say(doc, "/clients")
    await bot.press(doc, "Couple 1: Ana & Ben")
    await bot.press(doc, "21:00")
    lena = bot.user(9002, "Lena")
    await bot.say(lena, f"/therapist {add_therapist(bot, 'Dr. Lena')}")
    end = encode(EndLink(1, EndLinkStep.END))
    for who in (lena, ana):
        who.press(who.messages()[-1], end, strict=False)
        await bot.process()
        assert who.answered_callbacks()[-1].text == EXPIRED
    # Lee's own button pressed by Ana in Lee's chat is not hers to press.
    [confirm] = await bot.say(doc, "/endlink Couple 1")
    doc.press(confirm, end, from_user=ana)
    await bot.process()
    assert link_row(bot).ended_at is None and therapist_schedules(bot)
    [unknown] = await bot.say(lena, "/endlink Couple 1")
    assert "No couple of yours goes by that name" in unknown.text
    assert "No couples are linked with you" in unknown.text


# --- 5. notices name the couple --------------------------------------------------------------


async def test_notices_of_an_ended_link_name_the_couple_by_its_code(bot: BotHarness) -> None:
    ana, ben, doc = await linked(bot)
    set_code(bot, "MJ-04")
    [off] = await bot.say(ben, "/therapist_off")
    assert "has ended for you" in off.text
    assert doc.messages()[-1].text.startswith("One partner of MJ-04 has ended their link")
    await bot.say(ana, "/unpair")
    await bot.press(ana, "Yes, end it")
    # The link row went with the couple; the notice kept the code.
    assert await send_notices(bot) >= 1
    told = doc.messages()[-1].text
    assert told == "Your link with MJ-04 has ended. Nothing you set reaches them any more."
    assert "Ana" not in told and "Ben" not in told


async def test_the_last_partner_to_leave_ends_the_link_and_the_therapist_is_told_so(
    bot: BotHarness,
) -> None:
    ana, ben, doc = await linked(bot)
    await bot.say(ben, "/therapist_off")
    await bot.say(ana, "/therapist_off")
    assert doc.messages()[-1].text.startswith(
        "Your link with Couple 1 has ended: neither partner is linked with you any more"
    )


async def test_a_partner_agreeing_is_told_to_the_therapist_with_the_couples_name(
    bot: BotHarness,
) -> None:
    _, _, doc = await linked(bot)
    assert doc.messages()[-1].text.endswith("/clients shows them as Couple 1.")


# --- 6. client links not used yet ------------------------------------------------------------


async def test_clients_lists_links_not_used_yet_and_one_can_be_withdrawn(bot: BotHarness) -> None:
    ana, _ = await paired(bot)
    doc = await registered_therapist(bot)
    [first] = await bot.say(doc, "/clientlink")
    await bot.say(doc, "/clientlink")
    replies = await bot.say(doc, "/clients")
    assert "No couples are linked yet" in replies[0].text
    waiting = replies[1]
    assert "Links no couple has used yet" in waiting.text and "works until" in waiting.text
    assert waiting.button_texts == ["Withdraw link 1", "Withdraw link 2"]
    # Lena cannot withdraw Lee's link, even with a well-formed button.
    lena = bot.user(9002, "Lena")
    await bot.say(lena, f"/therapist {add_therapist(bot, 'Dr. Lena')}")
    token_id = int(waiting.callback_data_for("Withdraw link 1").split("|")[1])  # type: ignore[union-attr]
    lena.press(lena.messages()[-1], encode(WithdrawClientLink(token_id)), strict=False)
    await bot.process()
    assert lena.answered_callbacks()[-1].text == EXPIRED
    [withdrawn] = await bot.press(doc, "Withdraw link 1")
    assert withdrawn.text.startswith("Done: that link no longer works.")
    payload = re.search(r"start=(t_[A-Za-z0-9_-]+)", first.text).group(1)  # type: ignore[union-attr]
    [answer] = await bot.say(ana, f"/start {payload}")
    assert "didn't work" in answer.text
    replies = await bot.say(doc, "/clients")
    assert replies[1].button_texts == ["Withdraw link 1"]
    # Pressing the withdrawn link's button again changes nothing.
    doc.press(waiting, encode(WithdrawClientLink(token_id)), strict=False)
    await bot.process()
    assert doc.answered_callbacks()[-1].text == EXPIRED


async def test_endlink_still_tells_the_other_partner_when_one_blocked_the_bot(
    bot: BotHarness,
) -> None:
    ana, ben, doc = await linked(bot)
    ben.block()
    await bot.say(doc, "/endlink Couple 1")
    ana_before = len(ana.messages())
    [done] = await bot.press(doc, "End the link")
    assert done.text == (
        "Your link with Couple 1 has ended. Nothing you set reaches them any more. "
        "One partner has been told; I couldn't reach the other."
    )
    assert ana.messages()[ana_before:][0].text.startswith("Dr. Lee has ended their link")
    assert link_row(bot).ended_at is not None


async def test_a_couple_where_only_one_partner_agreed_is_named_without_names(
    bot: BotHarness,
) -> None:
    ana, _ = await paired(bot)
    doc = await registered_therapist(bot)
    [link] = await bot.say(doc, "/clientlink")
    payload = re.search(r"start=(t_[A-Za-z0-9_-]+)", link.text).group(1)  # type: ignore[union-attr]
    await bot.say(ana, f"/start {payload}")
    await bot.press(ana, "I agree")
    [clients] = await bot.say(doc, "/clients")
    assert clients.button_texts == ["Couple 1"]
    [confirm] = await bot.say(doc, "/endlink Couple 1")
    assert confirm.text.startswith("End your link with Couple 1?")


# --- 7. the therapist's own wording for every prompt kind -----------------------------------

NIGHTLY_WORDS = "Evening, {{ first_name }}: what did {{ partner_first_name }} do today?"
CHECKIN_WORDS = "{{ first_name }}, a question from me to open with: what felt close this week?"
TIP_WORDS = "A note from me before this week's tip, {{ first_name }}:"


def next_fire(bot: BotHarness, kind: str) -> dt.datetime:
    """When the therapist's schedule of `kind` next fires (the earliest, for either partner)."""
    with bot.db.session() as session:
        found = session.scalar(
            select(func.min(Schedule.next_fire_at)).where(
                Schedule.kind == kind, Schedule.set_by == "therapist"
            )
        )
    assert found is not None, kind
    return found


async def prompts_at(bot: BotHarness, user: FakeUser, kind: str) -> list[str]:
    """Run the dispatcher when `kind` next fires; the texts `user` got then."""
    before = len(user.messages())
    bot.clock.set(next_fire(bot, kind))
    await bot.run_dispatcher()
    return [m.text or "" for m in user.messages()[before:]]


def sent_variants(bot: BotHarness, kind: str) -> set[str | None]:
    with bot.db.session() as session:
        return set(
            session.scalars(
                select(Delivery.variant).where(Delivery.kind == kind, Delivery.status == "sent")
            )
        )


async def test_each_partner_receives_the_therapists_wording_for_every_prompt_kind(
    bot: BotHarness,
) -> None:
    ana, ben, _ = await linked(bot)
    now = bot.clock.now
    for kind, words in (
        (NIGHTLY_APPRECIATION, NIGHTLY_WORDS),
        (WEEKLY_CHECKIN, CHECKIN_WORDS),
        (TIMING_TIP, TIP_WORDS),
    ):
        bot.db.call(wording.save, 1, 1, kind, words, now)
    # As the page says before saving: each partner is told their prompts changed.
    ana_told = len(ana.messages())
    assert await send_notices(bot) == 2
    assert "Dr. Lee changed what you receive here" in ana.messages()[ana_told].text
    # Nightly: the therapist's words are the whole prompt, with each partner's names.
    [nightly] = await prompts_at(bot, ana, NIGHTLY_APPRECIATION)
    assert nightly == "Evening, Ana: what did Ben do today?"
    # A timing tip: introduced by the therapist's words; the tip itself is the library's.
    [tip] = await prompts_at(bot, ana, TIMING_TIP)
    intro, _, rest = tip.partition("\n\n")
    assert intro == "A note from me before this week's tip, Ana:" and rest.strip()
    assert "custom" not in sent_variants(bot, TIMING_TIP)
    # The weekly check-in reaches both: opened with the therapist's words, then the structure.
    ana_before, ben_before = len(ana.messages()), len(ben.messages())
    bot.clock.set(next_fire(bot, WEEKLY_CHECKIN))
    await bot.run_dispatcher()
    [to_ana] = [m.text for m in ana.messages()[ana_before:]]
    [to_ben] = [m.text for m in ben.messages()[ben_before:]]
    assert to_ana.startswith("Ana, a question from me to open with: what felt close this week?")
    assert to_ben.startswith("Ben, a question from me to open with")
    assert "The listener mirrors" in to_ana


async def test_a_partner_in_german_gets_the_check_in_structure_in_german_after_the_opener(
    bot: BotHarness,
) -> None:
    _, ben, _ = await linked(bot)
    await bot.say(ben, "/language de")
    bot.db.call(wording.save, 1, 1, WEEKLY_CHECKIN, "Hallo {{ first_name }}.", bot.clock.now)
    texts = await prompts_at(bot, ben, WEEKLY_CHECKIN)
    assert texts and texts[-1].startswith("Hallo Ben.\n\nWechselt euch ab")


async def test_back_to_the_librarys_wording_stops_the_therapists_words(bot: BotHarness) -> None:
    ana, _, _ = await linked(bot)
    bot.db.call(wording.save, 1, 1, NIGHTLY_APPRECIATION, NIGHTLY_WORDS, bot.clock.now)
    bot.db.call(wording.save, 1, 1, NIGHTLY_APPRECIATION, None, bot.clock.now)
    [nightly] = await prompts_at(bot, ana, NIGHTLY_APPRECIATION)
    assert "what did Ben do today" not in nightly and nightly.strip()
    assert "custom" not in sent_variants(bot, NIGHTLY_APPRECIATION)


async def test_wording_in_the_bot_keeps_a_version_and_notes_words_that_may_pressure(
    bot: BotHarness,
) -> None:
    _, _, doc = await linked(bot)
    [saved] = await bot.say(doc, "/wording Couple 1 You never say thank you, {{ first_name }}.")
    assert saved.text.startswith("Saved for Couple 1: Ana & Ben.")
    assert "may land as pressure" in saved.text and '"never' in saved.text.lower()
    await bot.say(doc, "/wording Couple 1 off")
    history = bot.db.call(wording_store.history, 1, 1)[NIGHTLY_APPRECIATION]
    assert [v.text for v in history] == [None, "You never say thank you, {{ first_name }}."]
    assert all(v.saved_by == "Dr. Lee" for v in history)


async def test_wording_the_sandbox_refuses_is_not_saved_and_keeps_no_version(
    bot: BotHarness,
) -> None:
    _, _, doc = await linked(bot)
    [refused] = await bot.say(doc, "/wording Couple 1 Read this: https://example.org")
    assert "nothing was changed" in refused.text and "Links" in refused.text
    assert bot.db.call(wording_store.history, 1, 1)[NIGHTLY_APPRECIATION] == []


# --- 8. a link ended on the dashboard --------------------------------------------------------


async def test_a_link_ended_on_the_dashboard_tells_both_partners_as_endlink_does(
    bot: BotHarness,
) -> None:
    ana, ben, _ = await linked(bot)
    await bot.say(ben, "/language de")
    ana_before, ben_before = len(ana.messages()), len(ben.messages())
    assert bot.db.call(loaders.end_link, 1, 1, bot.clock.now) == 2
    assert await send_notices(bot) == 2
    [to_ana] = ana.messages()[ana_before:]
    [to_ben] = ben.messages()[ben_before:]
    assert to_ana.text.startswith("Dr. Lee has ended their link with you here.")
    assert "your own settings are untouched" in to_ana.text
    assert to_ben.text.startswith("Dr. Lee hat die Verbindung mit dir hier beendet.")
    assert link_row(bot).ended_at is not None and therapist_schedules(bot) == []
    # Told once: nothing more is owed.
    assert await send_notices(bot) == 0


async def test_a_link_ended_on_the_dashboard_tells_no_partner_who_never_agreed(
    bot: BotHarness,
) -> None:
    ana, ben = await paired(bot)
    doc = await registered_therapist(bot)
    [link] = await bot.say(doc, "/clientlink")
    payload = re.search(r"start=(t_[A-Za-z0-9_-]+)", link.text).group(1)  # type: ignore[union-attr]
    await bot.say(ana, f"/start {payload}")
    await bot.press(ana, "I agree")
    ben_before = len(ben.messages())
    assert bot.db.call(loaders.end_link, 1, 1, bot.clock.now) == 1
    await send_notices(bot)
    assert ben.messages()[ben_before:] == []
    assert ana.messages()[-1].text.startswith("Dr. Lee has ended their link with you here.")


# --- 9. /code: the therapist's own code for a couple, from the bot ---------------------------


def second_couple(session: Session, now: dt.datetime) -> int:
    """Cleo and Dan, paired and linked with Dr. Lee (therapist 1), both agreeing."""
    ids = []
    for uid, name in ((1101, "Cleo"), (1102, "Dan")):
        person, _ = people.give_consent(session, uid, uid, name, "en", now)
        ids.append(person.id)
    raw = couples.create_pairing_link(session, ids[0], now, dt.timedelta(days=7))
    assert couples.accept_link(session, raw, ids[1], now).problem is None
    link = therapists.client_link(session, 1, now)
    for person_id in ids:
        therapy.agree(session, link, person_id, now)
    couple = couples.couple_of(session, ids[0])
    assert couple is not None
    return couple.id


async def test_code_gives_a_couple_the_therapists_code_and_names_it_before_and_after(
    bot: BotHarness,
) -> None:
    _, _, doc = await linked(bot)
    [saved] = await bot.say(doc, "/code Couple 1 MJ-04")
    assert saved.text == "Done: Couple 1 is now MJ-04, here and on the dashboard."
    assert link_row(bot).client_code == "MJ-04"
    [clients] = await bot.say(doc, "/clients")
    assert clients.button_texts == ["MJ-04: Ana & Ben"]
    [changed] = await bot.say(doc, "/code mj-04 Maya and Jo")
    assert changed.text == "Done: MJ-04 is now Maya and Jo, here and on the dashboard."
    [cleared] = await bot.say(doc, "/code Maya and Jo off")
    assert cleared.text == 'Done: Maya and Jo is "Couple 1" again, here and on the dashboard.'
    assert link_row(bot).client_code is None


async def test_code_alone_offers_the_couples_as_buttons_and_a_button_shows_the_command(
    bot: BotHarness,
) -> None:
    _, _, doc = await linked(bot)
    set_code(bot, "MJ-04")
    [usage] = await bot.say(doc, "/code")
    assert usage.button_texts == ["MJ-04"] and "No couple of yours" not in usage.text
    [how] = await bot.press(doc, "MJ-04")
    assert "/code MJ-04 NEW-CODE" in how.text and '"Couple 1"' in how.text
    [named] = await bot.say(doc, "/code MJ-04")
    assert named.text == how.text
    # A bare number is not a couple's name; another therapist's button means nothing.
    [unknown] = await bot.say(doc, "/code 1 XY-01")
    assert "No couple of yours goes by that name, so nothing changed" in unknown.text
    lena = bot.user(9002, "Lena")
    await bot.say(lena, f"/therapist {add_therapist(bot, 'Dr. Lena')}")
    lena.press(lena.messages()[-1], encode(CodeFor(1)), strict=False)
    await bot.process()
    assert lena.answered_callbacks()[-1].text == EXPIRED
    assert link_row(bot).client_code == "MJ-04"


@pytest.mark.parametrize(
    "code",
    [
        pytest.param("-starts-with-a-dash", id="leading-dash"),
        pytest.param("x" * 25, id="too-long"),
        pytest.param("MJ/04", id="slash"),
        pytest.param("<b>MJ</b>", id="markup"),
    ],
)
async def test_code_is_checked_as_the_dashboards_code_form_checks_it(
    bot: BotHarness, code: str
) -> None:
    _, _, doc = await linked(bot)
    set_code(bot, "MJ-04")
    [refused] = await bot.say(doc, f"/code MJ-04 {code}")
    assert refused.text.startswith("A code has 1 to 24 letters, digits, spaces, dots")
    assert link_row(bot).client_code == "MJ-04"
    with pytest.raises(therapists.TherapistError) as dashboard_says:
        bot.db.call(practice.set_client_code, 1, 1, code)
    assert dashboard_says.value.reason == "code_format"


async def test_code_taken_by_another_of_the_therapists_couples_changes_nothing(
    bot: BotHarness,
) -> None:
    _, _, doc = await linked(bot)
    other = bot.db.call(second_couple, bot.clock.now)
    set_code(bot, "MJ-04")
    [refused] = await bot.say(doc, f"/code Couple {other} mj-04")
    assert refused.text.startswith("Another of your couples already has the code mj-04")
    assert link_row(bot, other).client_code is None


async def test_code_is_in_the_therapists_menu_and_help(bot: BotHarness) -> None:
    doc = await registered_therapist(bot)
    assert "code" in menu_of(bot, doc)
    [helped] = await bot.say(doc, "/help")
    assert "/code COUPLE NEW-CODE" in helped.text


NEW_TEMPLATES = (
    "therapist/help",
    "therapist/endlink_choose",
    "therapist/endlink_confirm",
    "therapist/endlink_done",
    "therapist/endlink_kept",
    "therapist/ended_by_therapist",
    "therapist/open_links",
    "therapist/link_withdrawn",
    "therapist/wording_how",
)


@pytest.mark.parametrize("template", NEW_TEMPLATES)
def test_each_new_therapist_message_is_written_in_german_too(template: str) -> None:
    english = TEMPLATES / "en" / f"{template}.j2"
    german = TEMPLATES / "de" / f"{template}.j2"
    assert english.is_file() and german.is_file()
    assert german.read_text(encoding="utf-8") != english.read_text(encoding="utf-8")


async def test_a_german_therapist_is_told_in_german_why_wording_was_refused(
    bot: BotHarness,
) -> None:
    renderer = Renderer(TEMPLATES)
    words = {
        code: renderer.env.get_template(f"{code}/therapist/_sandbox.j2").module
        for code in ("en", "de")
    }
    english = english_pieces(
        [*words["en"].reasons.values(), *words["en"].problems.values()],
        [*words["de"].reasons.values(), *words["de"].problems.values()],
    )
    ana, ben = await paired(bot)
    doc = bot.user(9001, "Lee", language_code="de")
    await bot.say(doc, f"/therapist {add_therapist(bot)}")
    [link] = await bot.say(doc, "/clientlink")
    payload = re.search(r"start=(t_[A-Za-z0-9_-]+)", link.text).group(1)  # type: ignore[union-attr]
    for partner in (ana, ben):
        await bot.say(partner, f"/start {payload}")
        await bot.press(partner, "I agree")
    refusals = {
        "/wording Paar 1 Hallo {{ email }}": (
            "Zeile 1: Die Variable „email“ gibt es nicht. Sie können verwenden: first_name, "
            "partner_first_name, weekday."
        ),
        "/wording Paar 1 <b>Hallo {{ first_name }}": (
            "Das Ergebnis ist keine gültige Telegram-Formatierung: Zum Tag „b“ fehlt das "
            "schließende Tag. Setzen Sie </b> dorthin, wo es enden soll."
        ),
        "/wording Paar 1 Hallo {{ first_name ": (
            "Zeile 1: Der Text endet, bevor etwas geschlossen ist."
        ),
        "/wording Paar 1 Schreib an @praxis_lee": "(„@praxis_lee“)",
    }
    for command, german in refusals.items():
        [refused] = await bot.say(doc, command)
        assert refused.text.startswith(
            "Diese Formulierung konnte ich nicht übernehmen, es wurde nichts geändert: "
        ), command
        assert german in refused.text, command
        assert [piece for piece in english if piece in refused.text] == [], command
    assert bot.db.call(wording_store.history, 1, 1)[NIGHTLY_APPRECIATION] == []
