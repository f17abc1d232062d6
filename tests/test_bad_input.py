"""Wrong, empty, huge and hostile input: a clear, kind answer, and nothing changes."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import func, select

from bot import logs
from bot.callbacks import Consent, YesNo, encode
from storage.models import Person, Schedule
from tests.conftest import TOKEN
from tests.support.bot import BotHarness

HUGE = "x" * 10_000
RTL = "\u05e9\u05dc\u05d5\u05dd \u0645\u0631\u062d\u0628\u0627"  # Hebrew and Arabic
EMOJI = "\U0001f642\U0001f308\U0001f469\u200d\u2764\ufe0f\u200d\U0001f468"


def snapshot(bot: BotHarness) -> list[tuple[object, ...]]:
    """What is stored about people and schedules, to show that nothing changed.

    `awaiting` is left out: a bad answer may (re)open the question, which is the point.
    """
    with bot.db.session() as session:
        people = [
            (p.display_name, p.timezone, p.paused_at, p.stopped_at, p.quiet_start)
            for p in session.scalars(select(Person).order_by(Person.id))
        ]
        schedules = [
            (s.kind, s.local_time, s.weekdays, s.next_fire_at)
            for s in session.scalars(select(Schedule).order_by(Schedule.id))
        ]
    return [*people, *schedules]


@pytest.fixture
async def ana(sqlite_bot: BotHarness):  # type: ignore[no-untyped-def]
    user = sqlite_bot.user(1001, "Ana")
    await sqlite_bot.onboard(user)
    await sqlite_bot.say(user, "/nightly 21:00")
    return user


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("/frobnicate", "I don't know that command", id="unknown-command"),
        pytest.param("/" + "a" * 300, "I don't know that command", id="huge-unknown-command"),
        pytest.param("hello there", "not waiting for an answer", id="free-text"),
        pytest.param(HUGE, "not waiting for an answer", id="10000-characters"),
        pytest.param(RTL, "not waiting for an answer", id="right-to-left"),
        pytest.param(EMOJI, "not waiting for an answer", id="emoji"),
        pytest.param("<b>bold</b> & <script>", "not waiting for an answer", id="html"),
        pytest.param("/nightly 25:00", "/nightly 21:00", id="nightly-impossible-time"),
        pytest.param("/nightly", "/nightly 21:00", id="nightly-empty"),
        pytest.param("/nightly 13pm", "from 1 to 12", id="nightly-12-hour-out-of-range"),
        pytest.param(f"/nightly {HUGE}", "/nightly 21:00", id="nightly-huge"),
        pytest.param("/nightly 21:00 22:00", "/nightly 21:00", id="nightly-two-times"),
        pytest.param("/checkin someday 19:00", "/checkin sun 19:00", id="checkin-bad-day"),
        pytest.param("/checkin sun", "/checkin sun 19:00", id="checkin-no-time"),
        pytest.param("/checkin someday 19:00", "such as Sunday", id="checkin-bad-day-why"),
        pytest.param("/nightly 21:60", "Minutes go from 00 to 59", id="nightly-why"),
        pytest.param("/quiet 22:30-", "end time is missing", id="quiet-which-end"),
        pytest.param("/tips hourly", "/tips daily", id="tips-unknown"),
        pytest.param("/tips daily 99:99", "/tips daily", id="tips-bad-time"),
        pytest.param("/quiet 22:00", "/quiet 22:30-07:00", id="quiet-one-time"),
        pytest.param("/quiet 22:00-22:00", "/quiet 22:30-07:00", id="quiet-empty-range"),
        pytest.param(f"/quiet {EMOJI}", "/quiet 22:30-07:00", id="quiet-emoji"),
        pytest.param("/pause -1", "/pause 7", id="pause-negative"),
        pytest.param("/timezone Mars/Base", "couldn't find", id="zone-unknown"),
        pytest.param(f"/timezone {HUGE}", "couldn't find", id="zone-huge"),
        pytest.param(f"/timezone {RTL}", "couldn't find", id="zone-rtl"),
        pytest.param("/name", "/name Sam", id="name-empty"),
        pytest.param(f"/name {HUGE}", "under 32 characters", id="name-huge"),
    ],
)
async def test_bad_input_gets_a_clear_answer_and_changes_nothing(
    sqlite_bot: BotHarness,
    ana,
    text: str,
    expected: str,  # type: ignore[no-untyped-def]
) -> None:
    before = snapshot(sqlite_bot)
    replies = await sqlite_bot.say(ana, text)
    assert replies, "the bot said nothing"
    assert expected in replies[-1].text
    assert "Traceback" not in replies[-1].text
    assert snapshot(sqlite_bot) == before


async def test_names_are_cleaned_of_invisible_and_control_characters(
    sqlite_bot: BotHarness,
    ana,  # type: ignore[no-untyped-def]
) -> None:
    [answer] = await sqlite_bot.say(ana, "/name \u202eSam\u0000 \u200b")
    assert "I'll call you Sam" in answer.text
    [answer] = await sqlite_bot.say(ana, f"/name {RTL}")
    assert RTL in answer.text


async def test_a_name_is_escaped_wherever_it_is_shown(
    sqlite_bot: BotHarness,
    ana,  # type: ignore[no-untyped-def]
) -> None:
    [answer] = await sqlite_bot.say(ana, "/name <b>Sam</b> & co")
    # The fake refuses invalid Telegram HTML, so reaching here means it was escaped.
    assert "<b>Sam</b> & co" in answer.text
    [settings] = await sqlite_bot.say(ana, "/settings")
    assert "Name: <b>Sam</b> & co" in settings.text


async def test_commands_before_consent_ask_for_start_and_store_nothing(
    sqlite_bot: BotHarness,
) -> None:
    stranger = sqlite_bot.user(2002, "Kim")
    for text in ["/settings", "/pause 3", "/nightly 21:00", "/delete", "/mydata", "hello"]:
        [answer] = await sqlite_bot.say(stranger, text)
        assert "/start" in answer.text
    with sqlite_bot.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Person)) == 0


async def test_a_button_pressed_by_someone_else_is_refused(
    sqlite_bot: BotHarness,
    ana,  # type: ignore[no-untyped-def]
) -> None:
    await sqlite_bot.say(ana, "/delete")
    mallory = sqlite_bot.user(6666, "Mallory")
    await sqlite_bot.press(ana, "Yes, erase everything", from_user=mallory)
    assert "someone else" in (mallory.answered_callbacks()[-1].text or "")
    with sqlite_bot.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Person)) == 1


async def test_consent_pressed_twice_creates_one_person(sqlite_bot: BotHarness) -> None:
    kim = sqlite_bot.user(2002, "Kim")
    [welcome] = await sqlite_bot.say(kim, "/start")
    await sqlite_bot.press(kim, "Yes, I agree")
    kim.press(welcome, encode(Consent(YesNo.YES)), strict=False)
    await sqlite_bot.process()
    assert kim.answered_callbacks()[-1].text == "Already done."
    with sqlite_bot.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Person)) == 1


@pytest.mark.parametrize(
    "data",
    [
        pytest.param("nonsense", id="not-our-shape"),
        pytest.param("zz:1", id="unknown-action"),
        pytest.param("snooze:999999.h", id="snooze-unknown-delivery"),
        pytest.param("snooze:abc.h", id="snooze-not-a-number"),
        pytest.param("tz:Mars/Base", id="zone-not-real"),
        pytest.param("delete:" + "9" * 40, id="long-argument"),
    ],
)
async def test_forged_or_stale_buttons_are_answered_kindly(
    sqlite_bot: BotHarness,
    ana,
    data: str,  # type: ignore[no-untyped-def]
) -> None:
    before = snapshot(sqlite_bot)
    message = ana.messages()[-1]
    ana.press(message, data, strict=False)
    await sqlite_bot.process()
    answer = ana.answered_callbacks()[-1].text or ""
    assert (
        "expired" in answer
        or "Already done" in answer
        or "Nothing was erased" in (ana.messages()[-1].text)
    )
    assert snapshot(sqlite_bot) == before


async def test_stickers_and_photos_get_a_text_only_answer(sqlite_bot: BotHarness) -> None:
    kim = sqlite_bot.user(2002, "Kim")
    update = {
        "message": {
            "message_id": 99,
            "date": 1_790_000_000,
            "chat": {"id": 2002, "type": "private", "first_name": "Kim"},
            "from": {"id": 2002, "is_bot": False, "first_name": "Kim"},
            "sticker": {
                "file_id": "x",
                "file_unique_id": "y",
                "width": 1,
                "height": 1,
                "is_animated": False,
                "is_video": False,
                "type": "regular",
            },
        }
    }
    sqlite_bot.fake.inject_update(update)
    await sqlite_bot.process()
    assert "only read text" in kim.messages()[-1].text


async def test_group_chats_are_told_to_use_a_private_chat(sqlite_bot: BotHarness) -> None:
    sqlite_bot.user(2002, "Kim")
    sqlite_bot.fake.inject_update(
        {
            "message": {
                "message_id": 5,
                "date": 1_790_000_000,
                "chat": {"id": -100123, "type": "supergroup", "title": "Family"},
                "from": {"id": 2002, "is_bot": False, "first_name": "Kim"},
                "text": "/start",
                "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
            }
        }
    )
    await sqlite_bot.process()
    # The fake knows no group chats, so it refuses the answer; what matters is what was said.
    call = sqlite_bot.fake.calls_to("sendMessage")[0]
    assert call.params["chat_id"] == -100123
    assert "private chats" in call.params["text"]


async def test_logs_hold_neither_message_text_nor_the_token(
    sqlite_bot: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    logs.configure(logging.DEBUG, secrets=(TOKEN,))
    caplog.set_level(logging.DEBUG)
    secret_words = "Zebulon-quartz-appreciation"
    kim = sqlite_bot.user(2002, "Kim")
    await sqlite_bot.onboard(kim, name="Quintessa-Marigold")
    await sqlite_bot.say(kim, secret_words)
    await sqlite_bot.say(kim, "/settings")
    await sqlite_bot.say(kim, "/frobnicate " + secret_words)
    assert caplog.records, "nothing was logged at all"
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert secret_words not in text
    assert "Quintessa-Marigold" not in text
    assert TOKEN not in text
    assert TOKEN.split(":")[1] not in text


@pytest.mark.parametrize(
    ("command", "shown"),
    [
        pytest.param("/nightly 9pm", "21:00", id="9pm"),
        pytest.param("/nightly 9:30 pm", "21:30", id="9-30-pm-two-words"),
        pytest.param("/checkin sun 7 pm", "19:00", id="checkin-day-and-12-hour"),
    ],
)
async def test_the_twelve_hour_clock_is_understood(
    sqlite_bot: BotHarness,
    ana,
    command: str,
    shown: str,  # type: ignore[no-untyped-def]
) -> None:
    replies = await sqlite_bot.say(ana, command)
    assert f"at {shown}" in replies[-1].text
