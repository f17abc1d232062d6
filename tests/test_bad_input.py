"""Wrong, empty, huge and hostile input: a clear, kind answer, and nothing changes."""

from __future__ import annotations

import dataclasses
import logging

import pytest
from sqlalchemy import func, select

from bot import logs
from bot.callbacks import (
    AnswerInvitation,
    AppreciationAction,
    AppreciationChoice,
    Button,
    ChangeCouple,
    CheckinAction,
    CheckinReminder,
    Consent,
    CouplePreset,
    Fewer,
    InvitationAnswer,
    OpenCouple,
    Snooze,
    UseZone,
    YesNo,
    encode,
    kinds,
)
from scheduler.snoozes import SnoozeOption
from storage.models import Appreciation, Delivery, Invitation, Person, Schedule
from tests.conftest import TOKEN
from tests.support.bot import BotHarness
from tests.test_callbacks import largest

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
        pytest.param("zz|1", id="unknown-kind"),
        pytest.param(encode(Snooze(999999, SnoozeOption.HOUR)), id="snooze-unknown-delivery"),
        pytest.param("sn|abc|h", id="snooze-not-a-number"),
        pytest.param("sn|-5|h", id="snooze-negative"),
        pytest.param("sn|" + "9" * 40 + "|h", id="snooze-huge-number"),
        pytest.param("sn|١|h", id="snooze-non-ascii-digit"),
        pytest.param(encode(UseZone("Mars/Base")), id="zone-not-real"),
        pytest.param("tz|Europe/" + "B" * 60, id="65-bytes"),
        pytest.param("de|y|" + "9" * 40, id="wrong-number-of-fields"),
        pytest.param("snooze:1.h", id="old-format-snooze"),
        pytest.param("delete:yes", id="old-format-delete"),
        pytest.param("invf:send.now", id="old-format-invite-flow"),
        pytest.param("inv:1.maybe", id="old-format-invitation-unknown-answer"),
        pytest.param("thset:1.n2000", id="old-format-therapist"),
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
    assert answer == "That button has expired. Nothing changed."
    assert snapshot(sqlite_bot) == before


ID_KINDS = [
    (tag, kind)
    for tag, kind in sorted(kinds().items())
    if any(f.type in ("int", "Token", "Timestamp") for f in dataclasses.fields(kind))
]


@pytest.mark.parametrize(("tag", "kind"), ID_KINDS, ids=[tag for tag, _ in ID_KINDS])
async def test_every_kind_pointing_at_rows_that_are_not_there_changes_nothing(
    sqlite_bot: BotHarness,
    ana,
    tag: str,
    kind: type[Button],  # type: ignore[no-untyped-def]
) -> None:
    before = snapshot(sqlite_bot)
    sent = len(ana.messages())
    ana.press(ana.messages()[-1], encode(largest(kind)), strict=False)
    await sqlite_bot.process()
    answered = [a.text or "" for a in ana.answered_callbacks()]
    replies = [m.text for m in ana.messages()[sent:]]
    assert answered or replies  # answered kindly, one way or another
    assert not any("something went wrong" in text for text in [*answered, *replies])
    assert snapshot(sqlite_bot) == before
    with sqlite_bot.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Appreciation)) == 0
        assert session.scalar(select(func.count()).select_from(Invitation)) == 0


async def test_buttons_forged_with_another_persons_ids_change_nothing(
    sqlite_bot: BotHarness,
    ana,  # type: ignore[no-untyped-def]
) -> None:
    bot = sqlite_bot
    ben = bot.user(1002, "Ben")
    await bot.onboard(ben)
    with bot.db.session() as session:
        schedule = session.scalars(select(Schedule)).one()
        assert schedule.next_fire_at is not None
        bot.clock.set(schedule.next_fire_at)
    await bot.run_dispatcher()
    await bot.say(ana, "I appreciate how you listened tonight")
    with bot.db.session() as session:
        delivery = session.scalars(select(Delivery)).one()
        appreciation = session.scalars(select(Appreciation)).one()
        ids = (delivery.id, schedule.id, appreciation.id)
        rows_before = (delivery.due_at, delivery.response, appreciation.shared_at)
    before = snapshot(bot)
    delivery_id, schedule_id, appreciation_id = ids
    forged = [
        Snooze(delivery_id, SnoozeOption.HOUR),
        Snooze(delivery_id, SnoozeOption.TOMORROW),
        CheckinReminder(delivery_id, CheckinAction.DONE),
        CheckinReminder(delivery_id, CheckinAction.SKIP),
        Fewer(schedule_id, YesNo.YES),
        AppreciationChoice(AppreciationAction.SHARE, appreciation_id),
        AppreciationChoice(AppreciationAction.KEEP, appreciation_id),
        AppreciationChoice(AppreciationAction.THANK, appreciation_id),
        AnswerInvitation(appreciation_id, InvitationAnswer.YES),
        OpenCouple(1),
        ChangeCouple(1, CouplePreset.PAUSE),
    ]
    for button in forged:
        sent = len(ben.messages())
        ben.press(ben.messages()[-1], encode(button), strict=False)
        await bot.process()
        assert not any("something went wrong" in m.text for m in ben.messages()[sent:])
    assert len(ben.answered_callbacks()) >= len(forged) - 2  # a reply may stand for one
    assert snapshot(bot) == before
    with bot.db.session() as session:
        delivery = session.get_one(Delivery, delivery_id)
        appreciation = session.get_one(Appreciation, appreciation_id)
        assert (delivery.due_at, delivery.response, appreciation.shared_at) == rows_before
    assert not any("listened" in m.text for m in ben.messages())


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
