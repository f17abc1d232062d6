"""Tests of the fake Telegram Bot API, driven by a real python-telegram-bot ``Bot`` and httpx."""

from __future__ import annotations

import asyncio
import datetime as dtm
import socket
import sys
import threading
import time
import warnings
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MenuButtonCommands,
    Message,
    MessageEntity,
    ReplyParameters,
    Update,
)
from telegram.error import (
    BadRequest,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
)
from telegram.warnings import PTBDeprecationWarning

from fakes.telegram_api import (
    FakeTelegram,
    SentMessage,
    parse_telegram_html,
    utf16_len,
    validate_telegram_html,
)

# RetryAfter.__init__ itself reads its deprecated int-valued ``retry_after`` property.
pytestmark = pytest.mark.filterwarnings(
    "ignore:.*retry_after.*:telegram.warnings.PTBDeprecationWarning"
)

TOKEN = "123456789:TEST-fake-token"
ANA = 1001
BEN = 1002


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram(token=TOKEN, bot_username="nudge_test_bot") as server:
        yield server


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, base_url=fake.base_url) as client:
        yield client


def keyboard(*labels: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=label.lower()) for label in labels]]
    )


def retry_after_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


# --------------------------------------------------------------------------------------
# Basics
# --------------------------------------------------------------------------------------


async def test_a_real_bot_gets_itself_from_get_me(fake: FakeTelegram) -> None:
    async with Bot(TOKEN, base_url=fake.base_url) as client:
        me = client.bot  # Bot.initialize() called getMe
        again = await client.get_me()
    assert me.is_bot is True
    assert me.username == "nudge_test_bot"
    assert me.id == 123456789
    assert me.can_join_groups is True
    assert again == me
    assert [c.status for c in fake.calls_to("getme")] == [200, 200]


def test_it_is_served_on_localhost_at_its_base_url(fake: FakeTelegram) -> None:
    assert fake.port > 0
    assert fake.base_url == f"http://127.0.0.1:{fake.port}/bot"
    assert fake.server_address == ("127.0.0.1", fake.port)


@pytest.mark.skipif(sys.platform != "linux", reason="127.0.0.2 is loopback only on Linux")
def test_it_is_not_reachable_on_other_addresses(fake: FakeTelegram) -> None:
    # A server bound to 0.0.0.0 would accept this; one bound to 127.0.0.1 refuses it.
    with (
        pytest.raises(ConnectionRefusedError),
        socket.create_connection(("127.0.0.2", fake.port), timeout=2),
    ):
        pass
    with socket.create_connection(("127.0.0.1", fake.port), timeout=2):
        pass


async def test_a_wrong_token_is_401_and_an_unknown_method_is_404(fake: FakeTelegram) -> None:
    async with httpx.AsyncClient() as http:
        wrong = await http.post(f"{fake.base_url}999:WRONG/getMe")
        unknown = await http.post(f"{fake.api_url}/getChatHistoryPlease")
    assert wrong.status_code == 401
    assert wrong.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    assert unknown.status_code == 404
    assert unknown.json()["description"] == "Not Found"
    assert fake.unauthorized_requests == 1
    assert [c.status for c in fake.calls_to("getChatHistoryPlease")] == [404]
    with pytest.raises(InvalidToken):
        async with Bot("999:WRONG", base_url=fake.base_url):
            pass


async def test_it_takes_json_bodies_gets_and_method_names_in_any_case(fake: FakeTelegram) -> None:
    fake.user(ANA, first_name="Ana")
    async with httpx.AsyncClient() as http:
        by_json = await http.post(
            f"{fake.api_url}/SENDMESSAGE",
            json={"chat_id": ANA, "text": "hi", "reply_markup": {"inline_keyboard": []}},
        )
        by_get = await http.get(
            f"{fake.api_url}/sendmessage", params={"chat_id": ANA, "text": "yo"}
        )
        form = await http.post(
            f"{fake.api_url}/sendMessage",
            data={"chat_id": str(ANA), "text": "form", "disable_notification": "true"},
        )
    assert by_json.status_code == by_get.status_code == form.status_code == 200
    assert [m.text for m in fake.messages(ANA)] == ["hi", "yo", "form"]
    assert [m.message_id for m in fake.messages(ANA)] == [1, 2, 3]
    assert fake.messages(ANA)[2].disable_notification is True
    assert fake.messages(ANA)[0].disable_notification is False
    assert [c.method for c in fake.calls] == ["sendMessage"] * 3
    assert [c.http_method for c in fake.calls] == ["POST", "GET", "POST"]


# --------------------------------------------------------------------------------------
# Sending and editing
# --------------------------------------------------------------------------------------


async def test_a_sent_message_with_an_inline_keyboard_is_recorded_and_returned(
    fake: FakeTelegram, bot: Bot
) -> None:
    fake.user(ANA, first_name="Ana")
    sent = await bot.send_message(
        ANA,
        "<b>Hello</b> Ana &amp; co",
        parse_mode="HTML",
        reply_markup=keyboard("Yes", "No"),
        disable_notification=True,
    )
    second = await bot.send_message(ANA, "again")

    assert sent.text == "Hello Ana & co"
    assert sent.entities == (MessageEntity(MessageEntity.BOLD, 0, 5),)
    assert sent.chat.id == ANA
    assert sent.chat.first_name == "Ana"
    assert sent.from_user is not None
    assert sent.from_user.username == "nudge_test_bot"
    assert sent.reply_markup == keyboard("Yes", "No")
    assert isinstance(sent.date, dtm.datetime)
    assert second.message_id == sent.message_id + 1
    assert second.reply_markup is None

    record = fake.messages(ANA)[0]
    assert record.text == "Hello Ana & co"
    assert record.sent_text == "<b>Hello</b> Ana &amp; co"
    assert record.parse_mode == "HTML"
    assert record.disable_notification is True
    assert record.reply_markup == {
        "inline_keyboard": [
            [{"text": "Yes", "callback_data": "yes"}, {"text": "No", "callback_data": "no"}]
        ]
    }
    assert record.button_texts == ["Yes", "No"]
    call = fake.calls_to("sendMessage")[0]
    assert call.params["chat_id"] == ANA  # decoded from the form string
    assert call.params["disable_notification"] is True
    assert call.params["reply_markup"] == record.reply_markup


async def test_inspection_returns_copies(fake: FakeTelegram, bot: Bot) -> None:
    fake.user(ANA)
    await bot.send_message(ANA, "original")
    copy_ = fake.messages(ANA)[0]
    copy_.text = "tampered"
    fake.calls_to("sendMessage")[0].params["text"] = "tampered"
    assert fake.messages(ANA)[0].text == "original"
    assert fake.calls_to("sendMessage")[0].params["text"] == "original"


async def test_an_unknown_chat_and_an_empty_text_are_refused(fake: FakeTelegram, bot: Bot) -> None:
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(4242, "hi")
    fake.user(ANA)
    with pytest.raises(BadRequest, match="Message text is empty"):
        await bot.send_message(ANA, "   ")
    with pytest.raises(BadRequest, match="Message text is empty"):
        await bot.send_message(ANA, "<b></b>", parse_mode="HTML")
    assert fake.messages() == []
    assert fake.errors_served == {400: 3}


async def test_editing_text_and_markup_works_like_telegram(fake: FakeTelegram, bot: Bot) -> None:
    ana = fake.user(ANA)
    sent = await bot.send_message(ANA, "Pick one", reply_markup=keyboard("A", "B"))

    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_text(
            "Pick one", ANA, sent.message_id, reply_markup=keyboard("A", "B")
        )
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("x", ANA, 999)

    edited = await bot.edit_message_reply_markup(ANA, sent.message_id, reply_markup=keyboard("C"))
    assert isinstance(edited, type(sent))
    assert ana.last_message().button_texts == ["C"]

    # Like Telegram: editMessageText without reply_markup drops the inline keyboard.
    edited = await bot.edit_message_text("<i>Done</i>", ANA, sent.message_id, parse_mode="HTML")
    assert not isinstance(edited, bool)
    assert edited.text == "Done"
    assert edited.reply_markup is None
    assert edited.edit_date is not None
    record = ana.last_message()
    assert record.text == "Done"
    assert record.previous_texts == ["Pick one"]
    assert record.reply_markup is None
    assert record.parse_mode == "HTML"

    assert await bot.delete_message(ANA, sent.message_id) is True
    assert ana.messages() == []
    assert ana.messages(include_deleted=True)[0].deleted is True
    with pytest.raises(BadRequest, match="Message to delete not found"):
        await bot.delete_message(ANA, sent.message_id)


async def test_send_document_records_name_and_bytes(fake: FakeTelegram, bot: Bot) -> None:
    ana = fake.user(ANA)
    sent = await bot.send_document(
        ANA,
        document=b"week,score\n1,5\n",
        filename="progress.csv",
        caption="<b>Your week</b>",
        parse_mode="HTML",
    )
    assert sent.document is not None
    assert sent.document.file_name == "progress.csv"
    assert sent.document.file_size == 15
    assert sent.caption == "Your week"
    record = ana.last_message()
    assert record.document is not None
    assert record.document.content == b"week,score\n1,5\n"
    assert record.document.file_name == "progress.csv"
    assert record.text == "Your week"
    upload = fake.calls_to("sendDocument")[0].files["document"]
    assert upload.filename == "progress.csv"
    assert upload.content == b"week,score\n1,5\n"

    resent = await bot.send_document(ANA, document=sent.document.file_id)
    assert resent.document is not None
    assert resent.document.file_id == sent.document.file_id
    with pytest.raises(BadRequest, match="Wrong file identifier"):
        await bot.send_document(ANA, document="no-such-file-id")


async def test_commands_the_menu_button_and_other_methods_work(
    fake: FakeTelegram, bot: Bot
) -> None:
    fake.user(ANA)
    commands = [BotCommand("start", "Start"), BotCommand("pause", "Pause nudges")]
    assert await bot.set_my_commands(commands) is True
    assert fake.commands == [
        {"command": "start", "description": "Start"},
        {"command": "pause", "description": "Pause nudges"},
    ]
    assert tuple(await bot.get_my_commands()) == tuple(commands)
    assert await bot.get_my_commands(language_code="de") == ()
    with pytest.raises(BadRequest, match="Bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Start", "uppercase is invalid")])
    assert await bot.delete_my_commands() is True
    assert fake.commands == []

    assert await bot.set_chat_menu_button(menu_button=MenuButtonCommands()) is True
    assert fake.menu_button() == {"type": "commands"}
    assert await bot.send_chat_action(ANA, "typing") is True
    assert await bot.delete_webhook() is True
    info = await bot.get_webhook_info()
    assert info.url == ""
    assert await bot.log_out() is True
    assert await bot.close() is True


# --------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------

GOOD_HTML = (
    "<b>b</b><strong>s</strong><i>i</i><em>e</em><u>u</u><ins>n</ins><s>s</s><strike>k</strike>"
    '<del>d</del><span class="tg-spoiler">p</span><tg-spoiler>t</tg-spoiler>'
    '<a href="https://example.com/?a=1&amp;b=2">link</a><code>c</code>'
    '<pre><code class="language-python">x = 1</code></pre><blockquote>q</blockquote>'
    '<blockquote expandable>x</blockquote><tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>'
    " &lt;3 &gt; &quot;ok&quot; &#65;&#x42; a > b"
)


def test_html_validator_accepts_telegram_subset() -> None:
    assert validate_telegram_html(GOOD_HTML) == ('bsieunskdptlinkcx = 1qx👍 <3 > "ok" AB a > b')
    parsed = parse_telegram_html('😀 <b>hi <i>there</i></b> <a href="https://x.org">x</a>')
    assert parsed.text == "😀 hi there x"
    assert parsed.entities == [
        {"offset": 3, "length": 8, "type": "bold"},  # the emoji is 2 UTF-16 units
        {"offset": 6, "length": 5, "type": "italic"},
        {"offset": 12, "length": 1, "type": "text_link", "url": "https://x.org"},
    ]
    pre = parse_telegram_html('<pre><code class="language-python">x</code></pre>').entities
    assert pre == [{"offset": 0, "length": 1, "type": "pre", "language": "python"}]
    quote = parse_telegram_html("<BLOCKQUOTE expandable>x</BLOCKQUOTE>").entities
    assert quote == [{"offset": 0, "length": 1, "type": "expandable_blockquote"}]


@pytest.mark.parametrize(
    ("markup", "message"),
    [
        ("<script>alert(1)</script>", 'Unsupported start tag "script" at byte offset 0'),
        ("Hi <b>there", "Can't find end tag corresponding to start tag b"),
        ("Tom & Jerry", "Character '&' at byte offset 4"),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler"'),
        ('<span class="red">x</span>', 'Tag "span" must have class "tg-spoiler"'),
        ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
        ("line<br>break", 'Unsupported start tag "br"'),
        ("a&nbsp;b", 'Unsupported HTML entity "&nbsp;"'),
        ("&amp", "Character '&' at byte offset 0"),
        pytest.param("é<b", "Unclosed start tag at byte offset 2", id="unclosed-after-non-ascii"),
        ("<a href=https://x.org>x</a>", "Unexpected end of name token"),
    ],
)
def test_the_html_validator_rejects_what_telegram_rejects(markup: str, message: str) -> None:
    with pytest.raises(ValueError) as excinfo:
        validate_telegram_html(markup)
    assert message in str(excinfo.value)


async def test_html_errors_reach_the_bot_as_bad_request(fake: FakeTelegram, bot: Bot) -> None:
    fake.user(ANA)
    with pytest.raises(BadRequest) as excinfo:
        await bot.send_message(ANA, "<script>x</script>", parse_mode="HTML")
    # python-telegram-bot strips "Bad Request: " and lower-cases the rest of the message.
    assert excinfo.value.message == (
        'Can\'t parse entities: unsupported start tag "script" at byte offset 0'
    )
    call = fake.calls_to("sendMessage")[0]
    assert call.status == 400
    assert call.error == (
        'Bad Request: can\'t parse entities: Unsupported start tag "script" at byte offset 0'
    )
    ok = await bot.send_message(ANA, "Tom &amp; Jerry", parse_mode="HTML")
    assert ok.text == "Tom & Jerry"


async def test_message_length_is_counted_in_utf16_after_parsing(
    fake: FakeTelegram, bot: Bot
) -> None:
    fake.user(ANA)
    emoji = "😀" * 2048
    assert len(emoji) == 2048
    assert utf16_len(emoji) == 4096
    await bot.send_message(ANA, emoji)  # exactly at the limit
    await bot.send_message(ANA, "a" * 4096)
    await bot.send_message(ANA, "<b>" + "a" * 4096 + "</b>", parse_mode="HTML")  # tags are free
    await bot.send_message(ANA, "&amp;" * 4096, parse_mode="HTML")  # 4096 after decoding
    for too_long in (emoji + "a", "a" * 4097):
        with pytest.raises(BadRequest, match="Message is too long"):
            await bot.send_message(ANA, too_long)
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(ANA, "&lt;" * 4097, parse_mode="HTML")
    assert len(fake.messages(ANA)) == 4


async def test_malformed_keyboards_are_refused_like_telegram(fake: FakeTelegram, bot: Bot) -> None:
    fake.user(ANA)
    with pytest.raises(BadRequest, match="Button_data_invalid"):
        await bot.send_message(
            ANA,
            "x",
            reply_markup=InlineKeyboardMarkup(
                [[InlineKeyboardButton("a", callback_data="é" * 33)]]
            ),
        )
    await bot.send_message(  # 64 bytes exactly is fine
        ANA,
        "x",
        reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("a", callback_data="é" * 32)]]),
    )
    async with httpx.AsyncClient() as http:
        not_nested = await http.post(
            f"{fake.api_url}/sendMessage",
            json={
                "chat_id": ANA,
                "text": "x",
                "reply_markup": {"inline_keyboard": [{"text": "a"}]},
            },
        )
        no_action = await http.post(
            f"{fake.api_url}/sendMessage",
            json={
                "chat_id": ANA,
                "text": "x",
                "reply_markup": {"inline_keyboard": [[{"text": "a"}]]},
            },
        )
        bad_json = await http.post(
            f"{fake.api_url}/sendMessage",
            data={"chat_id": str(ANA), "text": "x", "reply_markup": "{not json"},
        )
    assert not_nested.status_code == 400
    assert "Array of Arrays" in not_nested.json()["description"]
    assert no_action.status_code == 400
    assert "Text buttons are unallowed" in no_action.json()["description"]
    assert bad_json.status_code == 400
    assert len(fake.messages(ANA)) == 1


# --------------------------------------------------------------------------------------
# Updates and users
# --------------------------------------------------------------------------------------


async def test_get_updates_long_polls_and_redelivers_until_an_offset_confirms(
    fake: FakeTelegram, bot: Bot
) -> None:
    ana = fake.user(ANA, first_name="Ana", language_code="pt")
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await fake.await_request("getUpdates")  # it has reached the fake
    assert not poll.done()  # hanging: nothing to deliver yet
    started = time.monotonic()
    update_id = ana.send("/start abc")
    updates = await asyncio.wait_for(poll, 2)
    assert time.monotonic() - started < 1.0  # woken by the injection, not by the timeout

    assert [u.update_id for u in updates] == [update_id]
    message = updates[0].message
    assert message is not None
    assert message.text == "/start abc"
    assert message.entities == (MessageEntity(MessageEntity.BOT_COMMAND, 0, 6),)
    assert message.from_user is not None
    assert message.from_user.first_name == "Ana"
    assert message.from_user.language_code == "pt"
    assert message.chat.type == "private"

    # Not confirmed yet: delivered again; offset confirms.
    assert [u.update_id for u in await bot.get_updates(timeout=0)] == [update_id]
    second = ana.share_location(52.52, 13.405)
    again = await bot.get_updates(offset=update_id + 1, timeout=0)
    assert [u.update_id for u in again] == [second]
    assert again[0].message is not None
    assert again[0].message.location is not None
    assert again[0].message.location.latitude == pytest.approx(52.52)
    assert len(fake.pending_updates()) == 1
    assert await bot.get_updates(offset=second + 1, timeout=0) == ()
    assert fake.pending_updates() == []


async def test_get_updates_times_out_empty_and_honours_its_limit(fake: FakeTelegram) -> None:
    async with httpx.AsyncClient() as http:
        started = time.monotonic()
        empty = await http.post(f"{fake.api_url}/getUpdates", data={"timeout": "0.4"})
        elapsed = time.monotonic() - started
        assert empty.json() == {"ok": True, "result": []}
        assert 0.35 <= elapsed < 2
        ana = fake.user(ANA)
        ids = [ana.send(f"m{i}") for i in range(3)]
        limited = await http.post(f"{fake.api_url}/getUpdates", data={"limit": "2"})
    assert [u["update_id"] for u in limited.json()["result"]] == ids[:2]


async def test_a_second_concurrent_get_updates_ends_the_first_with_a_conflict(
    fake: FakeTelegram, bot: Bot
) -> None:
    # A second bot instance (one Bot serialises its getUpdates calls on a 1-connection pool).
    async with Bot(TOKEN, base_url=fake.base_url) as other_instance:
        first = asyncio.create_task(bot.get_updates(timeout=5))
        await fake.await_request("getUpdates")
        second = asyncio.create_task(
            other_instance.get_updates(timeout=dtm.timedelta(milliseconds=300))
        )
        with pytest.raises(Conflict, match="terminated by other getUpdates request"):
            await asyncio.wait_for(first, 2)
        assert await asyncio.wait_for(second, 2) == ()
    assert [c.status for c in fake.calls_to("getUpdates")] == [409, 200]


async def test_press_button_yields_parsable_callback_query(fake: FakeTelegram, bot: Bot) -> None:
    ana = fake.user(ANA, first_name="Ana")
    ben = fake.user(BEN, first_name="Ben")
    sent = await bot.send_message(
        ANA, "Did you practise today?", reply_markup=keyboard("Yes", "No")
    )

    update_id = ana.press_button("Yes")
    updates = await bot.get_updates(timeout=1)
    assert [u.update_id for u in updates] == [update_id]
    query = updates[0].callback_query
    assert query is not None
    assert query.data == "yes"
    assert query.from_user.id == ANA
    assert query.message is not None
    assert query.message.message_id == sent.message_id
    assert query.message.chat.id == ANA
    assert await query.answer(text="Noted!") is True

    assert [(a.text, a.show_alert) for a in ana.answered_callbacks()] == [("Noted!", False)]
    with pytest.raises(BadRequest, match="Query is too old"):
        await query.answer()  # answering twice is an error on Telegram too

    # Someone else presses a button on Ana's message.
    record = fake.messages(ANA)[0]
    other = ana.press(record, "no", from_user=ben)
    updates = await bot.get_updates(offset=update_id + 1, timeout=1)
    assert [u.update_id for u in updates] == [other]
    assert updates[0].callback_query is not None
    assert updates[0].callback_query.from_user.id == BEN
    await bot.answer_callback_query(updates[0].callback_query.id, text="Not yours", show_alert=True)
    assert [(a.text, a.show_alert) for a in ben.answered_callbacks()] == [("Not yours", True)]
    assert len(ana.answered_callbacks()) == 1

    with pytest.raises(AssertionError, match=r"\['Yes', 'No'\]"):
        ana.press_button("Maybe")
    with pytest.raises(AssertionError, match="no button with callback_data 'forged'"):
        ana.press(record, "forged")
    ana.press(record, "forged", strict=False)  # allowed when explicitly asked for


async def test_a_reply_quotes_the_message_it_answers_until_that_message_is_deleted(
    fake: FakeTelegram, bot: Bot
) -> None:
    ana = fake.user(ANA, first_name="Ana")
    fake.user(BEN)
    first = ana.send("the words Ana typed")
    typed = (await bot.get_updates(timeout=1))[0].message
    assert typed is not None

    sent = await bot.send_message(
        ANA,
        "About that:",
        reply_parameters=ReplyParameters(typed.message_id),
        reply_markup=keyboard("Go on"),
    )
    assert sent.reply_to_message is not None
    assert sent.reply_to_message.text == "the words Ana typed"
    assert sent.reply_to_message.from_user is not None
    assert sent.reply_to_message.from_user.id == ANA

    # The callback query carries the message with its quote, one level deep.
    ana.press_button("Go on")
    updates = await bot.get_updates(offset=first + 1, timeout=1)
    query = updates[-1].callback_query
    assert query is not None and isinstance(query.message, Message)
    assert query.message.reply_to_message is not None
    assert query.message.reply_to_message.text == "the words Ana typed"

    # Ana deletes what she typed: the quote is gone from what the bot is shown next.
    ana.delete_own_message(typed.message_id)
    ana.press_button("Go on")
    updates = await bot.get_updates(offset=updates[-1].update_id + 1, timeout=1)
    query = updates[-1].callback_query
    assert query is not None and isinstance(query.message, Message)
    assert query.message.reply_to_message is None

    # Replying to a message that is not there is a 400, unless told to send anyway;
    # so is replying to a message of another chat.
    with pytest.raises(BadRequest, match="Message to be replied not found"):
        await bot.send_message(ANA, "x", reply_parameters=ReplyParameters(typed.message_id))
    plain = await bot.send_message(
        ANA,
        "x",
        reply_parameters=ReplyParameters(typed.message_id, allow_sending_without_reply=True),
    )
    assert plain.reply_to_message is None
    with pytest.raises(BadRequest, match="Message to be replied not found"):
        await bot.send_message(BEN, "x", reply_parameters=ReplyParameters(sent.message_id))


async def test_blocked_user_gets_403_and_my_chat_member(fake: FakeTelegram, bot: Bot) -> None:
    ana = fake.user(ANA)
    ana.block()
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(ANA, "hello?")
    updates = await bot.get_updates(timeout=0)
    assert updates[0].my_chat_member is not None
    assert updates[0].my_chat_member.new_chat_member.status == "kicked"
    ana.unblock()
    await bot.send_message(ANA, "welcome back")


# --------------------------------------------------------------------------------------
# Waiting helpers
# --------------------------------------------------------------------------------------


def test_wait_for_message_sees_a_reply_sent_before_waiting(fake: FakeTelegram) -> None:
    ana = fake.user(ANA)
    with httpx.Client() as http:

        def bot_reply(text: str) -> None:
            http.post(f"{fake.api_url}/sendMessage", data={"chat_id": str(ANA), "text": text})

        bot_reply("old news")
        ana.send("/start")
        bot_reply("Welcome!")  # the bot answers before the test starts waiting
        assert ana.wait_for_message("Welcome", timeout=2).text == "Welcome!"

        timer = threading.Timer(0.2, bot_reply, args=("later",))
        timer.start()
        try:
            started = time.monotonic()
            assert ana.wait_for_message(timeout=3).text == "later"
            assert time.monotonic() - started >= 0.15
        finally:
            timer.join()

        with pytest.raises(AssertionError, match="no new message") as excinfo:
            ana.wait_for_message("old news", timeout=0.2)  # not new any more
        assert "'later'" in str(excinfo.value)


async def test_await_message_does_not_block_the_loop_and_counts_edits_on_request(
    fake: FakeTelegram, bot: Bot
) -> None:
    ana = fake.user(ANA)
    ana.send("/start")

    async def reply_later() -> int:
        await asyncio.sleep(0.1)
        return (await bot.send_message(ANA, "one", reply_markup=keyboard("Go"))).message_id

    task = asyncio.create_task(reply_later())
    started = time.monotonic()
    first = await ana.await_message(timeout=3)  # does not block the loop the bot runs on
    assert first.text == "one"
    assert time.monotonic() - started >= 0.05
    assert first.message_id == await task

    await bot.send_message(ANA, "two")
    await bot.edit_message_text("one, edited", ANA, first.message_id)
    assert (await ana.await_message(timeout=3)).text == "two"
    with pytest.raises(AssertionError, match="no new message"):
        await ana.await_message(timeout=0.1)  # edits only count with include_edits
    edited = await ana.await_message("edited", timeout=3, include_edits=True)
    assert edited.message_id == first.message_id
    assert edited.text == "one, edited"
    with pytest.raises(RuntimeError, match="async twin"):
        ana.wait_for_message(timeout=0.1)  # would block the loop: refused

    matched = await fake.await_call("editMessageText", lambda c: c.ok, timeout=1)
    assert matched.params["text"] == "one, edited"
    assert isinstance(ana.last_message(), SentMessage)


async def test_await_request_sees_a_call_the_fake_is_still_holding(
    fake: FakeTelegram, bot: Bot
) -> None:
    fake.user(ANA)
    fake.delay_next("sendMessage", 1.0)
    before = fake.call_seq
    send = asyncio.create_task(bot.send_message(ANA, "held"))

    held = await fake.await_request("sendMessage", timeout=3, after_seq=before)
    assert held.status is None  # arrived, not answered yet
    assert held.params["text"] == "held"
    assert not send.done()
    with pytest.raises(AssertionError, match="no matching sendMessage"):
        await fake.await_call("sendMessage", timeout=0.1)  # wait_for_call needs an answer
    await send
    assert fake.call_seq == held.seq
    with pytest.raises(AssertionError, match="no matching sendMessage"):
        await fake.await_request("sendMessage", timeout=0.1, after_seq=fake.call_seq)


async def test_the_next_poll_barrier_waits_for_a_poll_that_confirms_every_update(
    fake: FakeTelegram, bot: Bot
) -> None:
    ana = fake.user(ANA)
    first = ana.send("one")
    barrier = asyncio.create_task(fake.await_next_poll(timeout=3))
    await asyncio.sleep(0)  # the barrier takes its point in time

    fetched = await bot.get_updates(timeout=0)  # fetched, not confirmed: not enough
    assert [u.update_id for u in fetched] == [first]
    assert await bot.get_updates(offset=first + 1, timeout=0) == ()
    call = await barrier
    assert call.params["offset"] == first + 1
    # Only a poll made after the barrier counts, even one past every update.
    with pytest.raises(AssertionError, match="no matching getUpdates"):
        await fake.await_next_poll(timeout=0.2)


def test_the_blocking_barriers_wake_as_soon_as_the_call_arrives(fake: FakeTelegram) -> None:
    update_id = fake.user(ANA).send("hi")
    fake.delay_next("getUpdates", 1.0)  # the fake holds the poll that confirms "hi"
    with httpx.Client() as http:

        def poll() -> None:
            http.post(f"{fake.api_url}/getUpdates", data={"offset": str(update_id + 1)})

        timer = threading.Timer(0.2, poll)
        timer.start()
        try:
            started = time.monotonic()
            call = fake.wait_for_next_poll(timeout=3)
            waited = time.monotonic() - started
        finally:
            timer.join()
    assert waited >= 0.15  # it blocked until the poll came
    assert call.status is None
    assert call.params["offset"] == update_id + 1
    assert fake.wait_for_request("getUpdates", timeout=1).seq == call.seq

    async def inside_a_loop() -> None:
        fake.wait_for_next_poll(timeout=0.1)

    with pytest.raises(RuntimeError, match="async twin"):
        asyncio.run(inside_a_loop())


# --------------------------------------------------------------------------------------
# Failure scripting and rate limits
# --------------------------------------------------------------------------------------


async def test_fail_next_maps_to_ptb_errors(fake: FakeTelegram, bot: Bot) -> None:
    fake.user(ANA)
    fake.user(BEN)
    fake.fail_next("sendMessage", error_code=429, retry_after=7)
    fake.fail_next("sendmessage", chat_id=BEN, error_code=403)
    fake.fail_next(
        "sendMessage", error_code=400, description="Bad Request: chat not found", times=2
    )

    with pytest.raises(RetryAfter) as retry:
        await bot.send_message(ANA, "1")
    assert retry_after_seconds(retry.value) == 7
    with pytest.raises(Forbidden, match="Forbidden: bot was blocked by the user"):
        await bot.send_message(BEN, "2")
    for _ in range(2):
        with pytest.raises(BadRequest, match="Chat not found"):
            await bot.send_message(ANA, "3")
    await bot.send_message(ANA, "4")  # scripts are used up

    fake.fail_next("*", error_code=500)
    with pytest.raises(NetworkError, match="Internal Server Error"):
        await bot.send_chat_action(ANA, "typing")

    assert fake.errors_served == {429: 1, 403: 1, 400: 2, 500: 1}
    assert [m.text for m in fake.messages()] == ["4"]
    statuses = [c.status for c in fake.calls_to("sendMessage")]
    assert statuses == [429, 403, 400, 400, 200]
    raw = fake.calls_to("sendMessage")[0]
    assert raw.error == "Too Many Requests: retry after 7"


async def test_delay_next_causes_client_timeout(fake: FakeTelegram, bot: Bot) -> None:
    fake.user(ANA)
    fake.delay_next("sendMessage", 0.8)
    with pytest.raises(TimedOut):
        await bot.send_message(ANA, "slow", read_timeout=0.2)
    # Like a slow Telegram: the message is still delivered after the client gave up.
    call = await fake.await_call("sendMessage", lambda c: c.ok, timeout=3)
    assert call.params["text"] == "slow"
    assert [m.text for m in fake.messages(ANA)] == ["slow"]


async def test_enforced_rate_limits_answer_429_within_a_sliding_second() -> None:
    with FakeTelegram(
        token=TOKEN, enforce_rate_limits=True, global_per_second=3, per_chat_per_second=1
    ) as fake:
        for user_id in (1, 2, 3, 4):
            fake.user(user_id)
        async with Bot(TOKEN, base_url=fake.base_url) as bot:
            first = time.monotonic()
            for user_id in (1, 2, 3):  # under both limits
                await bot.send_message(user_id, "hi")
            assert fake.too_many_requests == 0

            with pytest.raises(RetryAfter) as per_chat:  # 2nd message to chat 1 within 1 s
                await bot.send_message(1, "again")
            assert retry_after_seconds(per_chat.value) >= 1
            with pytest.raises(RetryAfter):  # 4th message overall within 1 s
                await bot.send_message(4, "hi")
            assert fake.too_many_requests == 2
            assert fake.errors_served == {429: 2}

            await asyncio.sleep(max(0.0, first + 1.05 - time.monotonic()))
            await bot.send_message(4, "hi")  # the sliding window moved on
            await bot.send_message(1, "again")
            assert fake.too_many_requests == 2
            assert len(fake.messages()) == 5


# --------------------------------------------------------------------------------------
# Lifecycle, concurrency, an in-process Application
# --------------------------------------------------------------------------------------


async def test_stop_returns_quickly_during_long_poll() -> None:
    fake = FakeTelegram(token=TOKEN).start()
    try:
        async with Bot(TOKEN, base_url=fake.base_url) as bot:
            poll = asyncio.create_task(bot.get_updates(timeout=30))
            await fake.await_request("getUpdates")
            assert not poll.done()
            started = time.monotonic()
            fake.stop()  # called on the loop thread on purpose: must not need the client
            assert time.monotonic() - started < 1.5
            assert await asyncio.wait_for(poll, 2) == ()  # answered, not cut off
    finally:
        fake.stop()  # idempotent; cleans up if an assertion above failed
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", fake.port), timeout=1).close()


async def test_updates_injected_from_many_threads_arrive_once_each_in_order(
    fake: FakeTelegram, bot: Bot
) -> None:
    users = [fake.user(5000 + i) for i in range(4)]

    def chatter(index: int) -> None:
        for n in range(25):
            users[index].send(f"{index}-{n}")

    threads = [threading.Thread(target=chatter, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    received: list[Update] = []
    offset = 0
    deadline = time.monotonic() + 5
    while len(received) < 100 and time.monotonic() < deadline:
        batch = await bot.get_updates(offset=offset, timeout=1)
        received.extend(batch)
        if batch:
            offset = batch[-1].update_id + 1
    for thread in threads:
        thread.join()
    texts = sorted(u.message.text for u in received if u.message and u.message.text)
    assert texts == sorted(f"{i}-{n}" for i in range(4) for n in range(25))
    assert len({u.update_id for u in received}) == 100
    # message ids per chat are unique and increasing
    for user in users:
        ids = [
            u.message.message_id
            for u in received
            if u.message and u.message.chat.id == user.chat_id
        ]
        assert ids == list(range(1, 26))


async def test_an_in_process_application_answers_a_command_and_a_button(fake: FakeTelegram) -> None:
    ana = fake.user(ANA, first_name="Ana")

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_user is not None and update.message is not None
        await update.message.reply_html(
            f"Welcome, <b>{update.effective_user.first_name}</b>! Ready?",
            reply_markup=keyboard("Yes", "Later"),
        )

    async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer("Great")
        await query.edit_message_text(f"You chose {query.data}")

    app: Application = ApplicationBuilder().token(TOKEN).base_url(fake.base_url).build()  # type: ignore[type-arg]
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(button))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=dtm.timedelta(seconds=1))
        try:
            ana.send("/start")
            welcome = await ana.await_message("Welcome", timeout=5)
            assert welcome.text == "Welcome, Ana! Ready?"
            assert welcome.parse_mode == "HTML"
            ana.press_button("Yes")
            chosen = await ana.await_message("You chose", timeout=5, include_edits=True)
            assert chosen.text == "You chose yes"
            assert chosen.message_id == welcome.message_id
            assert chosen.reply_markup is None
            await fake.await_call("answerCallbackQuery", timeout=5)
            assert [a.text for a in ana.answered_callbacks()] == ["Great"]
        finally:
            await app.updater.stop()
            await app.stop()
    assert fake.calls_to("deleteWebhook")  # python-telegram-bot's bootstrap
    assert all(c.ok for c in fake.calls if c.method != "getUpdates")
