"""A fake Telegram Bot API server for tests.

:class:`FakeTelegram` is a real HTTP server (uvicorn, in a background thread with its
own asyncio event loop) bound to ``127.0.0.1`` on a port chosen by the OS.  It speaks
the Bot API wire protocol closely enough that an unmodified python-telegram-bot
``Bot``/``Application`` (or the real nudgebot process) can run against it, while the
test injects what users do and inspects what the bot did.

What it does
============

* ``POST``/``GET`` ``/bot<token>/<method>`` with url-encoded, multipart or JSON
  parameters; method names are case-insensitive.  Answers are
  ``{"ok": true, "result": ...}`` or ``{"ok": false, "error_code": N,
  "description": "..."}`` (plus ``"parameters": {"retry_after": N}`` for 429) with
  the matching HTTP status.  A wrong token gets 401 ``Unauthorized``, an unknown
  method 404 ``Not Found`` (recorded, so tests can see what the bot tried).
* Implemented methods: getMe, getUpdates (offset/limit/timeout long polling; a second
  concurrent getUpdates terminates the first with 409 like Telegram), deleteWebhook,
  getWebhookInfo, setMyCommands, getMyCommands, deleteMyCommands, setChatMenuButton,
  getChatMenuButton, sendMessage, editMessageText, editMessageReplyMarkup,
  deleteMessage, answerCallbackQuery, sendDocument, sendChatAction, close, logOut.
* Telegram-like validation with Telegram's error descriptions: empty text, text over
  4096 UTF-16 code units after entity parsing, strict ``parse_mode=HTML`` parsing
  (see :func:`parse_telegram_html`), callback_data over 64 bytes, malformed inline
  keyboards, editing unknown/unchanged messages, unknown chats, blocked users.
  ``Markdown``/``MarkdownV2`` texts are accepted but *not* parsed or validated.
* Realistic details worth knowing:

  - ``SentMessage.text`` is the text as the user sees it (tags stripped, entities
    decoded), ``SentMessage.sent_text`` is exactly what the bot sent.
  - ``editMessageText`` without ``reply_markup`` removes the inline keyboard, as
    Telegram does.
  - Only inline keyboards are echoed back in the returned Message object (Telegram
    never returns reply keyboards); the record keeps whatever was sent.
  - User and bot messages share one ``message_id`` sequence per chat.
  - Answering the same callback query twice is a 400, like Telegram.
  - ``delay_next`` delays *before* processing: a client that times out still has its
    message delivered, which is the case that causes duplicates in production.

Stricter than Telegram (on purpose): a ``&`` that does not start one of the supported
entities (``&lt; &gt; &amp; &quot;`` or a numeric one, terminated by ``;``) is an
error, in text and in attribute values.  Telegram itself passes such a ``&`` through
literally; the fake insists on proper escaping so that escaping bugs show up in tests.

Webhooks: ``setWebhook`` (https only, ``secret_token`` checked like Telegram) records where
updates would go and makes ``getUpdates`` answer 409 until ``deleteWebhook``; the tests
deliver the updates themselves (``take_updates``), Bot API style with
:class:`fakes.webhook.WebhookSender`.

Not implemented (answered 404 / 400 and recorded, so a test notices):
``inline_message_id`` edits, media other than documents, groups and channels.

Usage
=====

.. code:: python

    import pytest
    from telegram.ext import ApplicationBuilder
    from fakes.telegram_api import FakeTelegram

    TOKEN = "123456:TEST-TOKEN"

    @pytest.fixture
    def fake():
        with FakeTelegram(token=TOKEN) as server:           # or .start() / .stop()
            yield server

    async def test_start_and_button(fake: FakeTelegram) -> None:
        ana = fake.user(1001, first_name="Ana", language_code="en")
        app = ApplicationBuilder().token(TOKEN).base_url(fake.base_url).build()
        ...  # add the real handlers
        async with app:
            await app.start()
            await app.updater.start_polling(poll_interval=0)
            ana.send("/start")
            welcome = await ana.await_message("Welcome")   # sync tests: wait_for_message
            assert welcome.button_texts == ["Yes", "Later"]
            ana.press_button("Yes")                        # a callback_query update
            await ana.await_message("See you", include_edits=True)
            assert ana.answered_callbacks()
            fake.fail_next("sendMessage", chat_id=ana.chat_id, error_code=403)
            ...
            await app.updater.stop()
            await app.stop()

API overview
============

* :class:`FakeTelegram` -- ``start()``, ``stop()``, context manager; ``base_url``,
  ``api_url``, ``port``, ``server_address``; ``user()``, ``users()``,
  ``inject_update()``, ``pending_updates()``; ``calls``, ``calls_to()``,
  ``request_log()``, ``reset_calls()``, ``wait_for_call()`` / ``await_call()``;
  barriers: ``call_seq``, ``wait_for_request()`` / ``await_request()``,
  ``wait_for_next_poll()`` /
  ``await_next_poll()``; ``messages()``,
  ``message()``, ``seq``, ``commands``, ``commands_for()``, ``menu_button()``;
  ``fail_next()``, ``delay_next()``, ``clear_scripts()``, ``errors_served``,
  ``too_many_requests``, ``unauthorized_requests``; ``bot_user()``.
* :class:`FakeUser` -- ``send()``, ``share_location()``, ``press()``,
  ``press_button()``, ``block()`` / ``unblock()``; ``messages()``, ``last_message()``,
  ``wait_for_message()`` / ``await_message()``, ``mark_read()``, ``cursor``,
  ``answered_callbacks()``.
* Records: :class:`RecordedCall`, :class:`SentMessage`, :class:`SentDocument`,
  :class:`UploadedFile`, :class:`AnsweredCallback`.
* HTML: :func:`validate_telegram_html`, :func:`parse_telegram_html`, :func:`utf16_len`
  (defined in :mod:`bot.telegram_html`, re-exported here).

Note that python-telegram-bot turns the description ``"Bad Request: message is not
modified: ..."`` into ``BadRequest("Message is not modified: ...")``: it strips the
prefix and applies ``str.capitalize()``, which lower-cases everything after the first
letter.  Match error messages case-insensitively.

Waiting for messages (the cursor)
=================================

Every message the bot sends, edits or deletes bumps a global sequence number
(:attr:`FakeTelegram.seq`).  Each :class:`FakeUser` keeps a *cursor* in that
sequence.  ``send``/``press``/``press_button``/``share_location`` move the cursor to
"now" *before* injecting the update, so the reply to an action can never be missed
even if the bot answers before the test starts waiting.  ``wait_for_message`` /
``await_message`` return the first message to that user whose sequence number is
after the cursor and that matches, then move the cursor to it; consecutive waits
therefore consume messages in order.  ``mark_read()`` moves the cursor to "now".

Barriers (instead of "sleep, then assert nothing arrived")
=========================================================

A test that checks that something did *not* happen needs a point after which it would
have happened.  ``wait_for_request(method, after_seq=fake.call_seq)`` waits until the
bot has made a call after that point (answered or still running: a hanging long poll, a
send held by ``delay_next``).  ``wait_for_next_poll()`` waits until the bot asks for
updates past every update injected so far, which proves it fetched them (see its
docstring for what that proves about handling).  Both have ``await_*`` twins.

Thread safety
=============

All state lives behind one re-entrant lock; every inspection method returns deep
copies.  Injecting and inspecting is safe from any thread or event loop.  The blocking
``wait_for_*`` helpers refuse to run inside a running event loop (they would freeze an
in-process bot); use the ``await_*`` twins there.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import math
import re
import socket
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Final, TypeAlias

import uvicorn
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException
from starlette.requests import ClientDisconnect, Request
from starlette.types import Receive, Scope, Send

from bot.telegram_html import (
    ParsedText,
    parse_telegram_html,
    utf16_len,
    validate_telegram_html,
)

__all__ = [
    "RATE_LIMITED_METHODS",
    "AnsweredCallback",
    "FakeTelegram",
    "FakeUser",
    "MessageMatch",
    "ParsedText",
    "RecordedCall",
    "SentDocument",
    "SentMessage",
    "UploadedFile",
    "parse_telegram_html",
    "utf16_len",
    "validate_telegram_html",
]

JSONDict: TypeAlias = dict[str, Any]

MESSAGE_MAX_LENGTH: Final = 4096
CAPTION_MAX_LENGTH: Final = 1024
CALLBACK_DATA_MAX_BYTES: Final = 64

#: Methods subject to ``enforce_rate_limits`` (canonical Bot API spelling).
RATE_LIMITED_METHODS: Final = frozenset(
    {
        "sendMessage",
        "sendDocument",
        "editMessageText",
        "editMessageReplyMarkup",
    }
)

_IMPLEMENTED_METHODS: Final = (
    "getMe",
    "getUpdates",
    "deleteWebhook",
    "setWebhook",
    "getWebhookInfo",
    "setMyCommands",
    "getMyCommands",
    "deleteMyCommands",
    "setChatMenuButton",
    "getChatMenuButton",
    "sendMessage",
    "editMessageText",
    "editMessageReplyMarkup",
    "deleteMessage",
    "answerCallbackQuery",
    "sendDocument",
    "sendChatAction",
    "close",
    "logOut",
)
_CANONICAL_METHODS: Final = {name.lower(): name for name in _IMPLEMENTED_METHODS}

_JSON_PARAMS: Final = frozenset(
    {
        "reply_markup",
        "commands",
        "allowed_updates",
        "entities",
        "caption_entities",
        "link_preview_options",
        "reply_parameters",
        "menu_button",
        "scope",
    }
)
_BOOL_PARAMS: Final = frozenset(
    {
        "disable_notification",
        "protect_content",
        "show_alert",
        "drop_pending_updates",
        "disable_web_page_preview",
        "allow_sending_without_reply",
        "disable_content_type_detection",
        "show_caption_above_media",
        "allow_paid_broadcast",
    }
)
_INT_PARAMS: Final = frozenset(
    {
        "chat_id",
        "message_id",
        "offset",
        "limit",
        "cache_time",
        "message_thread_id",
        "user_id",
        "reply_to_message_id",
    }
)
_FLOAT_PARAMS: Final = frozenset({"timeout"})

_CHAT_ACTIONS: Final = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_INLINE_BUTTON_KINDS: Final = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
_COMMAND_RE: Final = re.compile(r"[a-z0-9_]{1,32}")
_BUTTON_URL_RE: Final = re.compile(r"(?:https?|tg)://\S+", re.IGNORECASE)

_CONFLICT: Final = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
_WEBHOOK_ACTIVE: Final = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
_SECRET_TOKEN: Final = re.compile(r"[A-Za-z0-9_-]{1,256}")
_NOT_MODIFIED: Final = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
_QUERY_INVALID: Final = (
    "Bad Request: query is too old and response timeout expired or query ID is invalid"
)
_DEFAULT_DESCRIPTIONS: Final = {
    400: "Bad Request: simulated failure",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: _CONFLICT,
    500: "Internal Server Error",
    502: "Bad Gateway",
}


# --------------------------------------------------------------------------------------
# HTML (Telegram subset) parsing
# --------------------------------------------------------------------------------------

# The parser lives in production code (bot.telegram_html) and is re-exported here,
# so the fake and the bot's own checks agree by construction.


# --------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------


@dataclass
class UploadedFile:
    """A file part of a multipart request."""

    field: str
    filename: str | None
    content: bytes
    content_type: str | None


@dataclass
class RecordedCall:
    """One HTTP call to the Bot API.

    Attributes:
        seq: position among all calls (monotonic, survives :meth:`FakeTelegram.reset_calls`).
        method: canonical method name (``sendMessage``) or the name as sent if unknown.
        params: decoded parameters (JSON parameters such as ``reply_markup`` are dicts,
            booleans are ``bool``, ids are ``int``; other values are strings as sent).
        files: uploaded files by form field name.
        time: ``time.time()`` when the request arrived.
        status: HTTP status of the answer, ``None`` while the call is still running.
        result: the ``result`` of a successful answer.
        error: the ``description`` of an error answer.
    """

    seq: int
    method: str
    params: JSONDict
    files: dict[str, UploadedFile]
    time: float
    http_method: str
    status: int | None = None
    result: Any = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the call was answered with ``ok: true``."""
        return self.status == 200


@dataclass
class SentDocument:
    """A document the bot sent."""

    file_id: str
    file_unique_id: str
    file_name: str | None
    mime_type: str | None
    content: bytes


@dataclass
class SentMessage:
    """A message the bot sent, in its current state.

    Attributes:
        text: text as the user sees it (HTML tags stripped, entities decoded); for
            documents the caption or ``None``.
        sent_text: the text/caption exactly as the bot last sent it.
        entities: entities of ``text`` (from HTML parsing or the ``entities`` parameter).
        reply_markup: the decoded ``reply_markup`` as sent (any keyboard type), or ``None``.
        previous_texts: plain texts before each ``editMessageText``.
        seq: :attr:`FakeTelegram.seq` value when the message was sent.
        updated_seq: sequence value of the last send/edit/delete.
        api_object: the Message object as Telegram would return it now.
    """

    chat_id: int
    message_id: int
    text: str | None
    sent_text: str | None
    entities: list[JSONDict]
    parse_mode: str | None
    disable_notification: bool
    reply_markup: JSONDict | None
    date: int
    seq: int
    updated_seq: int
    document: SentDocument | None = None
    edit_date: int | None = None
    deleted: bool = False
    previous_texts: list[str | None] = field(default_factory=list)
    api_object: JSONDict = field(default_factory=dict)
    reply_to_message_id: int | None = None

    @property
    def inline_keyboard(self) -> list[list[JSONDict]]:
        """The inline keyboard rows (empty if there is none)."""
        if self.reply_markup is None:
            return []
        rows = self.reply_markup.get("inline_keyboard")
        return rows if isinstance(rows, list) else []

    @property
    def buttons(self) -> list[JSONDict]:
        """All inline buttons, row by row."""
        return [button for row in self.inline_keyboard for button in row]

    @property
    def button_texts(self) -> list[str]:
        """Labels of all inline buttons."""
        return [str(button.get("text")) for button in self.buttons]

    def callback_data_for(self, button_text: str) -> str | None:
        """The callback_data of the first button labelled ``button_text``, if any."""
        for button in self.buttons:
            if button.get("text") == button_text and "callback_data" in button:
                return str(button["callback_data"])
        return None


@dataclass
class AnsweredCallback:
    """An ``answerCallbackQuery`` call."""

    callback_query_id: str
    user_id: int
    text: str | None
    show_alert: bool
    url: str | None
    cache_time: int | None
    time: float


MessageMatch: TypeAlias = "str | re.Pattern[str] | Callable[[SentMessage], bool] | None"
"""How to select a message: substring of ``text``, regex searched in ``text``, predicate, or
``None`` for any message."""


class _ApiError(Exception):
    """An error answer of the fake Bot API."""

    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after

    def payload(self) -> JSONDict:
        body: JSONDict = {"ok": False, "error_code": self.code, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def _bad_request(detail: str) -> _ApiError:
    return _ApiError(400, f"Bad Request: {detail}")


@dataclass
class _ScriptedFailure:
    method: str
    chat_id: str | None
    error_code: int
    description: str
    retry_after: int | None
    remaining: int


@dataclass
class _ScriptedDelay:
    method: str
    chat_id: str | None
    seconds: float
    remaining: int


@dataclass(eq=False)
class _PollWaiter:
    event: asyncio.Event
    conflict: bool = False


def _to_matcher(match: MessageMatch) -> Callable[[SentMessage], bool]:
    if match is None:
        return lambda _message: True
    if isinstance(match, str):
        return lambda message: match in (message.text or "")
    if isinstance(match, re.Pattern):
        pattern = match
        return lambda message: pattern.search(message.text or "") is not None
    return match


def _describe_match(match: MessageMatch) -> str:
    if match is None:
        return "any message"
    if isinstance(match, str):
        return f"text containing {match!r}"
    if isinstance(match, re.Pattern):
        return f"text matching /{match.pattern}/"
    return f"predicate {getattr(match, '__name__', repr(match))}"


def _ensure_no_running_loop(name: str) -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    raise RuntimeError(
        f"{name}() blocks and would freeze the running event loop (and an in-process bot); "
        "use the async twin instead"
    )


# --------------------------------------------------------------------------------------
# Simulated users
# --------------------------------------------------------------------------------------


class FakeUser:
    """A simulated Telegram user in a private chat with the bot.

    Obtain it with :meth:`FakeTelegram.user`; the chat id equals the user id.
    """

    def __init__(
        self,
        fake: FakeTelegram,
        user_id: int,
        first_name: str,
        language_code: str | None,
        last_name: str | None,
        username: str | None,
    ) -> None:
        self._fake = fake
        self._user_id = user_id
        self._first_name = first_name
        self._language_code = language_code
        self._last_name = last_name
        self._username = username
        self._cursor = 0
        self._blocked = False

    # -- identity ----------------------------------------------------------------------

    @property
    def user_id(self) -> int:
        """The Telegram user id (also the private chat id)."""
        return self._user_id

    @property
    def chat_id(self) -> int:
        """The private chat id (same as :attr:`user_id`)."""
        return self._user_id

    @property
    def first_name(self) -> str:
        """The user's first name."""
        return self._first_name

    @property
    def language_code(self) -> str | None:
        """The user's IETF language code."""
        return self._language_code

    @property
    def blocked(self) -> bool:
        """Whether the user has blocked the bot (sends then fail with 403)."""
        with self._fake._lock:
            return self._blocked

    @property
    def cursor(self) -> int:
        """The position after which ``wait_for_message`` looks (see module docs)."""
        with self._fake._lock:
            return self._cursor

    def as_dict(self) -> JSONDict:
        """The Bot API ``User`` object of this user."""
        user: JSONDict = {"id": self._user_id, "is_bot": False, "first_name": self._first_name}
        if self._last_name is not None:
            user["last_name"] = self._last_name
        if self._username is not None:
            user["username"] = self._username
        if self._language_code is not None:
            user["language_code"] = self._language_code
        return user

    def chat_dict(self) -> JSONDict:
        """The Bot API ``Chat`` object of the private chat with this user."""
        chat: JSONDict = {"id": self._user_id, "type": "private", "first_name": self._first_name}
        if self._last_name is not None:
            chat["last_name"] = self._last_name
        if self._username is not None:
            chat["username"] = self._username
        return chat

    def __repr__(self) -> str:
        return f"FakeUser(user_id={self._user_id}, first_name={self._first_name!r})"

    # -- actions -----------------------------------------------------------------------

    def send(self, text: str) -> int:
        """Send a private text message to the bot; returns the update id.

        Text starting with ``/`` gets a ``bot_command`` entity covering everything up to
        the first space (so ``/start payload`` is the command ``/start``).
        """
        message = self._new_message()
        message["text"] = text
        if text.startswith("/"):
            command = text.split(" ", 1)[0].split("\n", 1)[0]
            message["entities"] = [
                {"type": "bot_command", "offset": 0, "length": utf16_len(command)}
            ]
        return self._inject_message(message)

    def share_location(
        self, latitude: float, longitude: float, *, horizontal_accuracy: float | None = None
    ) -> int:
        """Send a location message to the bot; returns the update id."""
        message = self._new_message()
        location: JSONDict = {"latitude": latitude, "longitude": longitude}
        if horizontal_accuracy is not None:
            location["horizontal_accuracy"] = horizontal_accuracy
        message["location"] = location
        return self._inject_message(message)

    def press(
        self,
        message: SentMessage,
        data: str,
        *,
        from_user: FakeUser | None = None,
        strict: bool = True,
    ) -> int:
        """Press the inline button with ``callback_data == data`` on ``message``.

        ``message`` is a record from :meth:`FakeTelegram.messages`; its *current* state
        is sent in the callback query, as Telegram does.  ``from_user`` makes another
        fake user the presser (the query then belongs to that user).  With
        ``strict=False`` the data need not be on the keyboard (forged/stale buttons).

        Returns:
            The update id.
        """
        presser = from_user if from_user is not None else self
        fake = self._fake
        with fake._lock:
            current = fake._messages.get((message.chat_id, message.message_id))
            if current is None:
                raise AssertionError(f"message {message.message_id} was not sent by the bot")
            if strict:
                if current.deleted:
                    raise AssertionError(f"message {message.message_id} has been deleted")
                available = [b.get("callback_data") for b in current.buttons]
                if data not in available:
                    raise AssertionError(
                        f"message {message.message_id} has no button with callback_data "
                        f"{data!r}; available: {available!r}"
                    )
            presser._cursor = fake._seq
            query_id = fake._new_callback_query_id(presser._user_id)
            query: JSONDict = {
                "id": query_id,
                "from": presser.as_dict(),
                # The message as Telegram would send it now (a replied-to message
                # deleted since is no longer quoted).
                "message": fake._render(current),
                "chat_instance": str(-4_000_000_000 - current.chat_id),
                "data": data,
            }
            return fake.inject_update({"callback_query": query})

    def press_button(self, text: str, *, from_user: FakeUser | None = None) -> int:
        """Press the button labelled ``text`` on the newest bot message that has one.

        Raises:
            AssertionError: listing the available buttons if no message has it.
        """
        with self._fake._lock:
            candidates = [m for m in self._fake._message_order if m.chat_id == self._user_id]
            for message in reversed(candidates):
                if message.deleted:
                    continue
                for button in message.buttons:
                    if button.get("text") != text:
                        continue
                    if "callback_data" not in button:
                        raise AssertionError(
                            f"button {text!r} on message {message.message_id} is not a "
                            f"callback button: {button!r}"
                        )
                    return self.press(message, str(button["callback_data"]), from_user=from_user)
            available = {
                m.message_id: m.button_texts for m in candidates if m.buttons and not m.deleted
            }
        raise AssertionError(
            f"no bot message to user {self._user_id} has a button {text!r}; "
            f"buttons by message_id: {available!r}"
        )

    def block(self, *, notify: bool = True) -> None:
        """Block the bot: later sends to this user fail with 403.

        With ``notify`` a ``my_chat_member`` update (member -> kicked) is injected.
        """
        self._set_blocked(True, notify)

    def unblock(self, *, notify: bool = True) -> None:
        """Unblock the bot (``my_chat_member`` kicked -> member when ``notify``)."""
        self._set_blocked(False, notify)

    # -- inspection --------------------------------------------------------------------

    def messages(self, *, include_deleted: bool = False) -> list[SentMessage]:
        """Copies of the bot's messages to this user, oldest first."""
        return self._fake.messages(self._user_id, include_deleted=include_deleted)

    def last_message(self) -> SentMessage:
        """The newest (not deleted) bot message to this user.

        Raises:
            AssertionError: if the bot has not sent this user anything.
        """
        messages = self.messages()
        if not messages:
            raise AssertionError(f"the bot has not sent any message to user {self._user_id}")
        return messages[-1]

    def answered_callbacks(self) -> list[AnsweredCallback]:
        """The ``answerCallbackQuery`` calls for queries this user made, oldest first."""
        with self._fake._lock:
            return [copy.deepcopy(a) for a in self._fake._answered if a.user_id == self._user_id]

    def mark_read(self) -> int:
        """Move the cursor to now: later waits only see messages sent after this call."""
        with self._fake._lock:
            self._cursor = self._fake._seq
            return self._cursor

    def wait_for_message(
        self,
        match: MessageMatch = None,
        timeout: float = 10.0,
        *,
        include_edits: bool = False,
    ) -> SentMessage:
        """Block until the bot sends this user a new message matching ``match``.

        "New" means after the cursor (see module docs); the cursor then moves to the
        returned message.  With ``include_edits`` an edit also counts as new.

        Raises:
            AssertionError: on timeout, listing the last messages and failed API calls.
            RuntimeError: if called inside a running event loop (use :meth:`await_message`).
        """
        _ensure_no_running_loop("wait_for_message")
        matcher = _to_matcher(match)
        deadline = time.monotonic() + timeout
        with self._fake._cond:
            while True:
                found = self._take_new(matcher, include_edits)
                if found is not None:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(self._timeout_report(match, timeout))
                self._fake._cond.wait(remaining)

    async def await_message(
        self,
        match: MessageMatch = None,
        timeout: float = 10.0,  # noqa: ASYNC109 - same signature as the blocking twin
        *,
        include_edits: bool = False,
    ) -> SentMessage:
        """Async twin of :meth:`wait_for_message`; polls without blocking the loop."""
        matcher = _to_matcher(match)
        deadline = time.monotonic() + timeout
        while True:
            with self._fake._lock:
                found = self._take_new(matcher, include_edits)
            if found is not None:
                return found
            if time.monotonic() >= deadline:
                raise AssertionError(self._timeout_report(match, timeout))
            await asyncio.sleep(0.01)

    # -- internals ---------------------------------------------------------------------

    def _new_message(self) -> JSONDict:
        fake = self._fake
        with fake._lock:
            self._cursor = fake._seq
            message_id = fake._next_message_id(self._user_id)
            fake._user_message_ids.setdefault(self._user_id, set()).add(message_id)
        return {
            "message_id": message_id,
            "from": self.as_dict(),
            "chat": self.chat_dict(),
            "date": int(time.time()),
        }

    def _inject_message(self, message: JSONDict) -> int:
        fake = self._fake
        with fake._lock:
            # Kept so that a bot message can reply to it, as Telegram quotes it.
            fake._user_messages.setdefault(self._user_id, {})[message["message_id"]] = (
                copy.deepcopy(message)
            )
        return fake.inject_update({"message": message})

    def edit_own_message(self, message_id: int, text: str) -> None:
        """The user edits one of their own text messages; a bot message replying to it
        quotes the new text from now on. No ``edited_message`` update is injected: a bot
        gets those only when it asks for them in ``allowed_updates``."""
        fake = self._fake
        with fake._lock:
            message = fake._user_messages.get(self._user_id, {}).get(message_id)
            if message is None or "text" not in message:
                raise AssertionError(f"user {self._user_id} sent no text message {message_id}")
            message["text"] = text
            message["edit_date"] = int(time.time())
            message.pop("entities", None)

    def delete_own_message(self, message_id: int) -> None:
        """The user deletes one of their own messages. Telegram tells the bot nothing;
        a bot message that replied to it no longer carries ``reply_to_message``."""
        fake = self._fake
        with fake._lock:
            fake._user_message_ids.get(self._user_id, set()).discard(message_id)
            fake._user_messages.get(self._user_id, {}).pop(message_id, None)

    def _set_blocked(self, blocked: bool, notify: bool) -> None:
        fake = self._fake
        with fake._lock:
            was = self._blocked
            self._blocked = blocked
        if not notify or was == blocked:
            return
        bot = fake.bot_user()
        old, new = ("member", "kicked") if blocked else ("kicked", "member")
        now = int(time.time())
        member_update: JSONDict = {
            "chat": self.chat_dict(),
            "from": self.as_dict(),
            "date": now,
            "old_chat_member": {"status": old, "user": bot}
            | ({"until_date": 0} if old == "kicked" else {}),
            "new_chat_member": {"status": new, "user": bot}
            | ({"until_date": 0} if new == "kicked" else {}),
        }
        fake.inject_update({"my_chat_member": member_update})

    def _take_new(
        self, matcher: Callable[[SentMessage], bool], include_edits: bool
    ) -> SentMessage | None:
        """Find (under the lock) the first new matching message and advance the cursor."""
        best: SentMessage | None = None
        best_stamp = 0
        for message in self._fake._message_order:
            if message.chat_id != self._user_id or message.deleted:
                continue
            stamp = message.updated_seq if include_edits else message.seq
            if stamp <= self._cursor or (best is not None and stamp >= best_stamp):
                continue
            if matcher(copy.deepcopy(message)):
                best, best_stamp = message, stamp
        if best is None:
            return None
        self._cursor = best_stamp
        return copy.deepcopy(best)

    def _timeout_report(self, match: MessageMatch, timeout: float) -> str:
        fake = self._fake
        with fake._lock:
            recent = [m for m in fake._message_order if m.chat_id == self._user_id][-5:]
            failed = [c for c in fake._calls if c.status not in (None, 200)][-5:]
            pending = len(fake._updates)
            cursor = self._cursor
        lines = [
            f"no new message to user {self._user_id} with {_describe_match(match)} "
            f"within {timeout}s (cursor={cursor})",
            "last messages to this user:" if recent else "the bot sent this user nothing",
        ]
        lines += [
            f"  #{m.message_id} seq={m.seq} updated_seq={m.updated_seq}"
            f"{' deleted' if m.deleted else ''}: {m.text!r} buttons={m.button_texts}"
            for m in recent
        ]
        if failed:
            lines.append("recent failed API calls:")
            lines += [f"  {c.method} -> {c.status} {c.error}" for c in failed]
        lines.append(f"unconfirmed updates in the queue: {pending}")
        return "\n".join(lines)


# --------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------


def _is_accept_task(task: asyncio.Task[Any]) -> bool:
    return getattr(task.get_coro(), "__qualname__", "").endswith("_accept_connection2")


class _QuickServer(uvicorn.Server):
    """uvicorn server that stops on an event and shuts down without fixed sleeps.

    Stock uvicorn polls ``should_exit`` every 0.1 s and sleeps another 0.1 s during
    shutdown; with a fresh fake per test that adds up, so both are replaced.
    """

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.exit_event: asyncio.Event | None = None

    async def main_loop(self) -> None:
        if self.exit_event is None:
            await super().main_loop()
            return
        await self.exit_event.wait()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        loop = asyncio.get_running_loop()
        me = asyncio.current_task()
        # Stop accepting first and let accepts already in flight finish before close():
        # on Python 3.11 a transport created after Server.close() fails an assertion in
        # Server._attach() and its socket leaks (ResourceWarning).
        for server in self.servers:
            for listener in server.sockets:
                loop.remove_reader(listener.fileno())
        for _ in range(100):
            if not any(_is_accept_task(task) for task in asyncio.all_tasks() if task is not me):
                break
            await asyncio.sleep(0)
        for server in self.servers:
            server.close()
        deadline = loop.time() + 2.0
        told: set[int] = set()
        others: list[asyncio.Task[Any]] = []
        while True:
            # Connections accepted just before close() show up a few iterations later.
            for connection in list(self.server_state.connections):
                if id(connection) in told:
                    continue
                told.add(id(connection))
                try:
                    connection.shutdown()  # closes idle keep-alive connections right away
                except Exception:  # e.g. h11 refusing ConnectionClosed on a half-closed socket
                    self._close_transport(connection)
            others = [task for task in asyncio.all_tasks() if task is not me]
            if (not self.server_state.connections and not others) or loop.time() >= deadline:
                break
            await asyncio.sleep(0.002)
        for connection in list(self.server_state.connections):
            self._close_transport(connection)
        for task in others:
            task.cancel()
        for server in self.servers:
            await server.wait_closed()

    @staticmethod
    def _close_transport(connection: object) -> None:
        transport: Any = getattr(connection, "transport", None)
        if transport is not None:
            transport.close()


class FakeTelegram:
    """A fake Telegram Bot API server (see the module docstring for an overview).

    Args:
        token: the only token accepted; its numeric prefix is the bot's user id.
        bot_username: ``username`` of the bot returned by getMe.
        bot_first_name: ``first_name`` of the bot.
        enforce_rate_limits: answer 429 when :data:`RATE_LIMITED_METHODS` exceed
            ``global_per_second`` calls in any sliding second, or ``per_chat_per_second``
            calls for one chat.
    """

    def __init__(
        self,
        token: str = "123456789:TEST-fake-telegram-token",
        bot_username: str = "nudge_test_bot",
        *,
        bot_first_name: str = "Nudge Test Bot",
        enforce_rate_limits: bool = False,
        global_per_second: int = 30,
        per_chat_per_second: int = 1,
    ) -> None:
        self.token: Final = token
        self.bot_username: Final = bot_username
        self.bot_first_name: Final = bot_first_name
        prefix = token.split(":", 1)[0]
        self.bot_id: Final = int(prefix) if prefix.isdigit() else 1_000_000_001
        self.enforce_rate_limits: Final = enforce_rate_limits
        self.global_per_second: Final = global_per_second
        self.per_chat_per_second: Final = per_chat_per_second

        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)

        self._sock: socket.socket | None = None
        self._port = 0
        self._server: _QuickServer | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None
        self._startup_error: BaseException | None = None
        self._started_once = False
        self._stopping = False

        self._calls: list[RecordedCall] = []
        self._call_seq = 0
        self._errors_served: Counter[int] = Counter()
        self._too_many_requests = 0
        self._unauthorized = 0

        self._users: dict[int, FakeUser] = {}
        self._message_ids: dict[int, int] = {}
        self._user_message_ids: dict[int, set[int]] = {}
        # The text messages users sent, by user and message id (for replies to them).
        self._user_messages: dict[int, dict[int, JSONDict]] = {}
        self._messages: dict[tuple[int, int], SentMessage] = {}
        self._message_order: list[SentMessage] = []
        self._seq = 0
        self._files: dict[str, SentDocument] = {}

        self._updates: list[JSONDict] = []
        # setWebhook: where updates would go (the tests deliver them), and its secret.
        self.webhook: JSONDict | None = None
        self._next_update_id = 1
        self._poll_waiters: set[_PollWaiter] = set()

        self._callback_queries: dict[str, int] = {}
        self._callback_counter = 0
        self._answered: list[AnsweredCallback] = []

        self._commands: dict[tuple[str, str], list[JSONDict]] = {}
        self._last_commands_key: tuple[str, str] | None = None
        self._menu_buttons: dict[int | None, JSONDict] = {}

        self._failures: list[_ScriptedFailure] = []
        self._delays: list[_ScriptedDelay] = []
        self._global_window: deque[float] = deque()
        self._chat_windows: dict[str, deque[float]] = {}

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> FakeTelegram:
        """Bind ``127.0.0.1:0`` and serve in a background thread; returns ``self``.

        A FakeTelegram can be started only once.
        """
        with self._lock:
            if self._started_once:
                raise RuntimeError("a FakeTelegram can only be started once")
            self._started_once = True
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            # Accepted sockets inherit this. Without it, uvicorn's two writes per response
            # (headers, body) meet the client's delayed ACK: 40 ms per request on loopback.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.bind(("127.0.0.1", 0))
            sock.listen(128)
            sock.setblocking(False)
        except OSError:
            sock.close()
            raise
        self._sock = sock
        self._port = sock.getsockname()[1]
        config = uvicorn.Config(
            app=self._asgi,
            host="127.0.0.1",
            port=self._port,
            interface="asgi3",
            lifespan="off",
            http="h11",
            ws="none",
            log_config=None,
            log_level="warning",
            access_log=False,
            proxy_headers=False,
            server_header=False,
            date_header=False,
            timeout_keep_alive=60,
            timeout_graceful_shutdown=2,
        )
        self._server = _QuickServer(config)
        self._thread = threading.Thread(
            target=self._run, args=(sock,), name=f"FakeTelegram:{self._port}", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError("FakeTelegram server failed to start") from self._startup_error
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("FakeTelegram server did not start within 10 s")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        """Stop the server; returns promptly even while long polls are pending.

        Pending ``getUpdates`` calls are answered with an empty list and scripted delays
        are cut short.  Recorded state stays available after stopping.
        """
        with self._lock:
            self._stopping = True
            loop = self._loop
            server, thread = self._server, self._thread
        if loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop may have just closed
                loop.call_soon_threadsafe(self._wake_everything)
        if server is None or thread is None:
            return
        server.should_exit = True
        thread.join(timeout=5)
        if thread.is_alive():
            server.force_exit = True
            thread.join(timeout=5)
        if self._sock is not None:
            self._sock.close()

    def __enter__(self) -> FakeTelegram:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The TCP port the server listens on (0 before :meth:`start`)."""
        return self._port

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>/bot``, the ``base_url`` for python-telegram-bot."""
        return f"http://127.0.0.1:{self._port}/bot"

    @property
    def api_url(self) -> str:
        """``base_url`` plus the token: append ``/<method>`` for raw HTTP calls."""
        return f"{self.base_url}{self.token}"

    @property
    def server_address(self) -> tuple[str, int]:
        """``getsockname()`` of the listening socket."""
        if self._sock is None:
            raise RuntimeError("not started")
        host, port = self._sock.getsockname()[:2]
        return str(host), int(port)

    # -- users and updates -------------------------------------------------------------

    def user(
        self,
        user_id: int,
        first_name: str | None = None,
        language_code: str | None = "en",
        *,
        last_name: str | None = None,
        username: str | None = None,
    ) -> FakeUser:
        """Create (or return the existing) simulated user; their chat becomes known.

        On repeated calls the existing user is returned and the other arguments are
        ignored.  ``first_name`` defaults to ``"User<id>"``.
        """
        with self._lock:
            existing = self._users.get(user_id)
            if existing is not None:
                return existing
            created = FakeUser(
                self,
                user_id,
                first_name if first_name is not None else f"User{user_id}",
                language_code,
                last_name,
                username,
            )
            self._users[user_id] = created
            return created

    def users(self) -> list[FakeUser]:
        """All simulated users, in creation order."""
        with self._lock:
            return list(self._users.values())

    def inject_update(self, payload: JSONDict) -> int:
        """Queue a raw update (without ``update_id``); returns the assigned update id."""
        with self._lock:
            update_id = self._next_update_id
            self._next_update_id += 1
            update = {"update_id": update_id, **copy.deepcopy(payload)}
            self._updates.append(update)
            waiters = list(self._poll_waiters)
            loop = self._loop
            self._cond.notify_all()
        if loop is not None and waiters:
            for waiter in waiters:
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(waiter.event.set)
        return update_id

    def take_updates(self) -> list[JSONDict]:
        """Remove and return the pending updates: a test delivering them to a webhook."""
        with self._lock:
            taken, self._updates = self._updates, []
        return copy.deepcopy(taken)

    def pending_updates(self) -> list[JSONDict]:
        """Updates not yet confirmed by the bot (via a later getUpdates offset)."""
        with self._lock:
            return copy.deepcopy(self._updates)

    # -- inspection --------------------------------------------------------------------

    @property
    def calls(self) -> list[RecordedCall]:
        """Copies of all recorded calls, oldest first."""
        with self._lock:
            return copy.deepcopy(self._calls)

    def calls_to(self, method: str) -> list[RecordedCall]:
        """Copies of the recorded calls of ``method`` (case-insensitive)."""
        wanted = method.lower()
        with self._lock:
            return [copy.deepcopy(c) for c in self._calls if c.method.lower() == wanted]

    def request_log(
        self, method: str, after_seq: int = 0
    ) -> list[tuple[int, float, int | None, Any]]:
        """``(seq, arrival time, status, chat_id)`` of each ``method`` call after ``after_seq``.

        For load tests with many thousands of calls: plain tuples, no deep copies (what
        :attr:`calls` would copy is every parameter of every call). ``status`` is ``None``
        while a call is still being answered.
        """
        wanted = method.lower()
        with self._lock:
            return [
                (c.seq, c.time, c.status, c.params.get("chat_id"))
                for c in self._calls
                if c.seq > after_seq and c.method.lower() == wanted
            ]

    def reset_calls(self) -> None:
        """Forget recorded calls (messages, users, counters and scripts are kept)."""
        with self._lock:
            self._calls.clear()

    def messages(
        self, chat_id: int | None = None, *, include_deleted: bool = False
    ) -> list[SentMessage]:
        """Copies of the bot's messages (to ``chat_id``, or all), in sending order."""
        with self._lock:
            return [
                copy.deepcopy(m)
                for m in self._message_order
                if (chat_id is None or m.chat_id == chat_id) and (include_deleted or not m.deleted)
            ]

    def message(self, chat_id: int, message_id: int) -> SentMessage:
        """A copy of one bot message (deleted ones included); KeyError if unknown."""
        with self._lock:
            return copy.deepcopy(self._messages[(chat_id, message_id)])

    @property
    def seq(self) -> int:
        """The current message sequence number (bumped by every send/edit/delete)."""
        with self._lock:
            return self._seq

    @property
    def commands(self) -> list[JSONDict]:
        """Commands of the scope/language most recently set with setMyCommands.

        Empty if never set or deleted since.
        """
        with self._lock:
            if self._last_commands_key is None:
                return []
            return copy.deepcopy(self._commands.get(self._last_commands_key, []))

    def commands_for(
        self, scope: JSONDict | None = None, language_code: str = ""
    ) -> list[JSONDict]:
        """Commands set for an exact scope (default scope if ``None``) and language."""
        with self._lock:
            return copy.deepcopy(self._commands.get(self._commands_key(scope, language_code), []))

    def menu_button(self, chat_id: int | None = None) -> JSONDict | None:
        """The menu button set for ``chat_id`` (``None``: the default one), if any."""
        with self._lock:
            button = self._menu_buttons.get(chat_id)
            return copy.deepcopy(button) if button is not None else None

    @property
    def errors_served(self) -> dict[int, int]:
        """Number of error answers by HTTP status (scripted, validation, rate limits...)."""
        with self._lock:
            return dict(self._errors_served)

    @property
    def too_many_requests(self) -> int:
        """Number of 429 answers produced by ``enforce_rate_limits``."""
        with self._lock:
            return self._too_many_requests

    @property
    def unauthorized_requests(self) -> int:
        """Number of requests with a wrong token (those are not recorded as calls)."""
        with self._lock:
            return self._unauthorized

    def bot_user(self) -> JSONDict:
        """The bot's ``User`` object as returned by getMe."""
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def wait_for_call(
        self,
        method: str,
        predicate: Callable[[RecordedCall], bool] | None = None,
        timeout: float = 10.0,
        *,
        after_seq: int = 0,
    ) -> RecordedCall:
        """Block until a finished call to ``method`` with ``seq > after_seq`` matches.

        Already recorded calls count, so this also returns immediately if the call
        happened before.  Raises AssertionError on timeout.
        """
        _ensure_no_running_loop("wait_for_call")
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = self._find_call(method, predicate, after_seq)
                if found is not None:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(self._call_timeout_report(method, timeout))
                self._cond.wait(remaining)

    async def await_call(
        self,
        method: str,
        predicate: Callable[[RecordedCall], bool] | None = None,
        timeout: float = 10.0,  # noqa: ASYNC109 - same signature as the blocking twin
        *,
        after_seq: int = 0,
    ) -> RecordedCall:
        """Async twin of :meth:`wait_for_call`."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                found = self._find_call(method, predicate, after_seq)
            if found is not None:
                return found
            if time.monotonic() >= deadline:
                raise AssertionError(self._call_timeout_report(method, timeout))
            await asyncio.sleep(0.01)

    # -- barriers ----------------------------------------------------------------------

    @property
    def call_seq(self) -> int:
        """The ``seq`` of the newest recorded call (0 before any): a point in time.

        Pass it as ``after_seq`` to wait only for calls made after that point.
        """
        with self._lock:
            return self._call_seq

    def wait_for_request(
        self,
        method: str,
        predicate: Callable[[RecordedCall], bool] | None = None,
        timeout: float = 10.0,
        *,
        after_seq: int = 0,
    ) -> RecordedCall:
        """Block until a call to ``method`` with ``seq > after_seq`` that matches has arrived.

        Unlike :meth:`wait_for_call` the call need not be answered yet: a long poll still
        hanging or a send held by :meth:`delay_next` counts (its ``status`` is ``None``).
        Raises AssertionError on timeout.
        """
        _ensure_no_running_loop("wait_for_request")
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = self._find_call(method, predicate, after_seq, answered=False)
                if found is not None:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(self._call_timeout_report(method, timeout))
                self._cond.wait(remaining)

    async def await_request(
        self,
        method: str,
        predicate: Callable[[RecordedCall], bool] | None = None,
        timeout: float = 10.0,  # noqa: ASYNC109 - same signature as the blocking twin
        *,
        after_seq: int = 0,
    ) -> RecordedCall:
        """Async twin of :meth:`wait_for_request`."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                found = self._find_call(method, predicate, after_seq, answered=False)
            if found is not None:
                return found
            if time.monotonic() >= deadline:
                raise AssertionError(self._call_timeout_report(method, timeout))
            await asyncio.sleep(0.01)

    def wait_for_next_poll(self, timeout: float = 10.0) -> RecordedCall:
        """A barrier: block until the bot, after this call, asks for updates past every
        update injected so far; returns that ``getUpdates`` call.

        Such a call proves that the bot has fetched and confirmed every earlier update. A
        bot that handles what it fetched before it polls again (the tests' in-process
        harness does) has handled them too, so "nothing arrived" can be asserted right
        after. python-telegram-bot's ``Updater`` polls again while the ``Application``
        still handles the last batch: there it proves receipt, not handling.
        """
        _ensure_no_running_loop("wait_for_next_poll")
        after_seq, confirms = self._poll_barrier()
        return self.wait_for_request("getUpdates", confirms, timeout, after_seq=after_seq)

    async def await_next_poll(
        self,
        timeout: float = 10.0,  # noqa: ASYNC109 - same signature as the blocking twin
    ) -> RecordedCall:
        """Async twin of :meth:`wait_for_next_poll`."""
        after_seq, confirms = self._poll_barrier()
        return await self.await_request("getUpdates", confirms, timeout, after_seq=after_seq)

    def _poll_barrier(self) -> tuple[int, Callable[[RecordedCall], bool]]:
        with self._lock:
            after_seq = self._call_seq
            last_update_id = self._next_update_id - 1

        def confirms(call: RecordedCall) -> bool:
            return last_update_id == 0 or int(call.params.get("offset") or 0) > last_update_id

        return after_seq, confirms

    # -- failure scripting -------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        *,
        chat_id: int | str | None = None,
        error_code: int = 429,
        description: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Make the next ``times`` matching calls fail as Telegram would.

        ``method`` is case-insensitive, ``"*"`` matches every method; ``chat_id``
        restricts to calls for that chat.  Defaults: 429 -> ``"Too Many Requests:
        retry after N"`` with ``parameters.retry_after = N`` (``retry_after`` defaults
        to 1); 403 -> ``"Forbidden: bot was blocked by the user"``; 400 ->
        ``"Bad Request: simulated failure"``; 500 -> ``"Internal Server Error"``.  A
        given ``description`` is used verbatim (include the ``"Bad Request: "`` prefix).
        """
        if times < 1:
            raise ValueError("times must be >= 1")
        if error_code == 429:
            retry = 1 if retry_after is None else retry_after
            if retry < 1:
                raise ValueError("retry_after must be >= 1 (python-telegram-bot ignores 0)")
            text = description or f"Too Many Requests: retry after {retry}"
            scripted_retry: int | None = retry
        else:
            if retry_after is not None:
                raise ValueError("retry_after only makes sense with error_code=429")
            text = description or _DEFAULT_DESCRIPTIONS.get(error_code, f"Error {error_code}")
            scripted_retry = None
        with self._lock:
            self._failures.append(
                _ScriptedFailure(
                    method=method.lower(),
                    chat_id=None if chat_id is None else str(chat_id),
                    error_code=error_code,
                    description=text,
                    retry_after=scripted_retry,
                    remaining=times,
                )
            )

    def delay_next(
        self, method: str, seconds: float, *, chat_id: int | str | None = None, times: int = 1
    ) -> None:
        """Delay the answer to the next ``times`` matching calls by ``seconds``.

        The delay happens before processing, so a client that gives up still gets its
        message delivered afterwards.
        """
        with self._lock:
            self._delays.append(
                _ScriptedDelay(
                    method=method.lower(),
                    chat_id=None if chat_id is None else str(chat_id),
                    seconds=seconds,
                    remaining=times,
                )
            )

    def clear_scripts(self) -> None:
        """Drop all pending ``fail_next``/``delay_next`` scripts."""
        with self._lock:
            self._failures.clear()
            self._delays.clear()

    # ==================================================================================
    # Internals: server thread
    # ==================================================================================

    def _run(self, sock: socket.socket) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._serve(sock))
        except BaseException as exc:  # SystemExit from uvicorn's startup, among others
            self._startup_error = exc
        finally:
            with self._lock:
                self._loop = None
            tasks = asyncio.all_tasks(loop)
            for task in tasks:
                task.cancel()
            if tasks:
                loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
            for _ in range(3):  # run close callbacks scheduled by the cancellations
                loop.run_until_complete(asyncio.sleep(0))
            loop.run_until_complete(loop.shutdown_asyncgens())
            asyncio.set_event_loop(None)
            loop.close()

    async def _serve(self, sock: socket.socket) -> None:
        assert self._server is not None
        self._stop_event = asyncio.Event()
        self._server.exit_event = self._stop_event
        with self._lock:
            self._loop = asyncio.get_running_loop()
            stopping = self._stopping
        if stopping:
            return
        await self._server.serve(sockets=[sock])

    def _wake_everything(self) -> None:
        """Runs in the server loop: end long polls and delays for shutdown."""
        if self._stop_event is not None:
            self._stop_event.set()
        with self._lock:
            waiters = list(self._poll_waiters)
        for waiter in waiters:
            waiter.event.set()

    async def _sleep_unless_stopping(self, seconds: float) -> None:
        if self._stop_event is None or seconds <= 0:
            return
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._stop_event.wait(), timeout=seconds)

    # -- HTTP ----------------------------------------------------------------------------

    async def _asgi(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        match = re.fullmatch(r"/bot([^/]*)/([^/]+)/?", scope["path"])
        if match is None:
            await self._respond(
                send, 404, {"ok": False, "error_code": 404, "description": "Not Found"}
            )
            return
        token, raw_method = match.groups()
        if token != self.token:
            with self._lock:
                self._unauthorized += 1
                self._errors_served[401] += 1
            await self._respond(
                send, 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
            )
            return

        method = _CANONICAL_METHODS.get(raw_method.lower(), raw_method)
        request = Request(scope, receive)
        raw_params: JSONDict = {}
        files: dict[str, UploadedFile] = {}
        parse_error: _ApiError | None = None
        try:
            raw_params, files = await self._read_params(request)
        except ClientDisconnect:
            return
        except _ApiError as exc:
            parse_error = exc
        params = raw_params
        if parse_error is None:
            try:
                params = self._decode_params(raw_params)
            except _ApiError as exc:
                parse_error = exc

        call = self._record(method, params, files, scope.get("method", "POST"))
        try:
            if parse_error is not None:
                raise parse_error
            if method not in _IMPLEMENTED_METHODS:
                raise _ApiError(404, "Not Found")
            delay = self._take_delay(method, params)
            if delay:
                await self._sleep_unless_stopping(delay)
            self._raise_scripted_failure(method, params)
            if method == "getUpdates":
                result: Any = await self._get_updates(params, receive)
            else:
                handler: Callable[[JSONDict, dict[str, UploadedFile]], Any] = getattr(
                    self, f"_api_{method}"
                )
                with self._lock:
                    result = handler(params, files)
            status, body = 200, {"ok": True, "result": result}
            self._finish(call, 200, result=result)
        except _ApiError as exc:
            status, body = exc.code, exc.payload()
            self._finish(call, exc.code, error=exc.description)
        except Exception as exc:  # a bug in the fake: answer like Telegram's 500, keep details
            description = f"Internal Server Error: fake Bot API crashed: {exc!r}"
            status, body = 500, _ApiError(500, description).payload()
            self._finish(call, 500, error=description)
        await self._respond(send, status, body)

    @staticmethod
    async def _respond(send: Send, status: int, payload: JSONDict) -> None:
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode("ascii")),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    @staticmethod
    async def _read_params(request: Request) -> tuple[JSONDict, dict[str, UploadedFile]]:
        params: JSONDict = dict(request.query_params)
        files: dict[str, UploadedFile] = {}
        content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if content_type == "application/json":
            body = await request.body()
            if body.strip():
                try:
                    decoded = json.loads(body)
                except ValueError as exc:
                    raise _bad_request("can't parse JSON object") from exc
                if not isinstance(decoded, dict):
                    raise _bad_request("JSON object expected")
                params.update(decoded)
            return params, files
        if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            try:
                async with request.form(max_part_size=64 * 1024 * 1024) as form:
                    for key, value in form.multi_items():
                        if isinstance(value, UploadFile):
                            files[key] = UploadedFile(
                                field=key,
                                filename=value.filename,
                                content=await value.read(),
                                content_type=value.content_type,
                            )
                        else:
                            params[key] = value
            except MultiPartException as exc:
                raise _bad_request(f"can't parse request body: {exc.message}") from exc
        return params, files

    @staticmethod
    def _decode_params(raw: JSONDict) -> JSONDict:
        params: JSONDict = {}
        for key, value in raw.items():
            if not isinstance(value, str):
                params[key] = value
            elif key in _JSON_PARAMS:
                try:
                    params[key] = json.loads(value)
                except ValueError as exc:
                    raise _bad_request(f"can't parse {key} JSON object") from exc
            elif key in _BOOL_PARAMS:
                lowered = value.strip().lower()
                if lowered not in ("true", "false", "1", "0", ""):
                    raise _bad_request(f"invalid value of the parameter {key}")
                params[key] = lowered in ("true", "1")
            elif key in _INT_PARAMS:
                try:
                    params[key] = int(value)
                except ValueError:
                    if key != "chat_id":
                        raise _bad_request(f"invalid {key} specified") from None
                    params[key] = value  # "@channelname"
            elif key in _FLOAT_PARAMS:
                try:
                    number = float(value)
                except ValueError:
                    raise _bad_request(f"invalid {key} specified") from None
                params[key] = int(number) if number.is_integer() else number
            else:
                params[key] = value
        return params

    # -- recording -----------------------------------------------------------------------

    def _record(
        self, method: str, params: JSONDict, files: dict[str, UploadedFile], http_method: str
    ) -> RecordedCall:
        with self._lock:
            self._call_seq += 1
            call = RecordedCall(
                seq=self._call_seq,
                method=method,
                params=copy.deepcopy(params),
                files=files,
                time=time.time(),
                http_method=http_method,
            )
            self._calls.append(call)
            self._cond.notify_all()  # wakes wait_for_request
            return call

    def _finish(
        self, call: RecordedCall, status: int, *, result: Any = None, error: str | None = None
    ) -> None:
        with self._lock:
            call.status = status
            call.result = copy.deepcopy(result)
            call.error = error
            if status != 200:
                self._errors_served[status] += 1
            self._cond.notify_all()

    def _find_call(
        self,
        method: str,
        predicate: Callable[[RecordedCall], bool] | None,
        after_seq: int,
        *,
        answered: bool = True,
    ) -> RecordedCall | None:
        wanted = method.lower()
        for call in self._calls:
            if call.seq <= after_seq or call.method.lower() != wanted:
                continue
            if answered and call.status is None:
                continue
            snapshot = copy.deepcopy(call)
            if predicate is None or predicate(snapshot):
                return snapshot
        return None

    def _call_timeout_report(self, method: str, timeout: float) -> str:
        with self._lock:
            recent = [f"  {c.method} -> {c.status} {c.error or ''}" for c in self._calls[-8:]]
        return "\n".join([f"no matching {method} call within {timeout}s; recent calls:", *recent])

    # -- scripts ---------------------------------------------------------------------------

    @staticmethod
    def _script_matches(
        script_method: str, script_chat: str | None, method: str, params: JSONDict
    ) -> bool:
        if script_method not in ("*", method.lower()):
            return False
        return script_chat is None or str(params.get("chat_id")) == script_chat

    def _take_delay(self, method: str, params: JSONDict) -> float:
        with self._lock:
            for delay in self._delays:
                if self._script_matches(delay.method, delay.chat_id, method, params):
                    delay.remaining -= 1
                    if delay.remaining <= 0:
                        self._delays.remove(delay)
                    return delay.seconds
        return 0.0

    def _raise_scripted_failure(self, method: str, params: JSONDict) -> None:
        with self._lock:
            for failure in self._failures:
                if self._script_matches(failure.method, failure.chat_id, method, params):
                    failure.remaining -= 1
                    if failure.remaining <= 0:
                        self._failures.remove(failure)
                    raise _ApiError(failure.error_code, failure.description, failure.retry_after)

    def _check_rate_limit(self, method: str, params: JSONDict) -> Callable[[], None]:
        """Raise 429 if over the limit; returns a function recording a successful send."""
        if not self.enforce_rate_limits or method not in RATE_LIMITED_METHODS:
            return lambda: None
        now = time.monotonic()
        chat_key = str(params.get("chat_id"))
        chat_window = self._chat_windows.setdefault(chat_key, deque())
        for window in (self._global_window, chat_window):
            while window and now - window[0] >= 1.0:
                window.popleft()
        for window, limit in (
            (self._global_window, self.global_per_second),
            (chat_window, self.per_chat_per_second),
        ):
            if len(window) >= limit:
                retry = max(1, math.ceil(window[0] + 1.0 - now))
                self._too_many_requests += 1
                raise _ApiError(429, f"Too Many Requests: retry after {retry}", retry)

        def commit() -> None:
            self._global_window.append(now)
            chat_window.append(now)

        return commit

    # -- long polling ----------------------------------------------------------------------

    async def _get_updates(self, params: JSONDict, receive: Receive) -> list[JSONDict]:
        offset = int(params.get("offset") or 0)
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = max(float(params.get("timeout") or 0), 0.0)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        waiter = _PollWaiter(asyncio.Event())
        if self.webhook is not None:
            raise _ApiError(409, _WEBHOOK_ACTIVE)
        with self._lock:
            self._confirm_updates(offset)
            for other in self._poll_waiters:
                other.conflict = True
                other.event.set()
            self._poll_waiters.add(waiter)
        disconnected = asyncio.ensure_future(self._wait_disconnect(receive))
        try:
            while True:
                with self._lock:
                    waiter.event.clear()
                    if waiter.conflict:
                        raise _ApiError(409, _CONFLICT)
                    updates = self._select_updates(offset, limit)
                    if updates or self._stopping:
                        return updates
                remaining = deadline - loop.time()
                if remaining <= 0 or disconnected.done():
                    return []
                woken = asyncio.ensure_future(waiter.event.wait())
                try:
                    await asyncio.wait(
                        {woken, disconnected},
                        timeout=remaining,
                        return_when=asyncio.FIRST_COMPLETED,
                    )
                finally:
                    woken.cancel()
        finally:
            disconnected.cancel()
            with self._lock:
                self._poll_waiters.discard(waiter)

    @staticmethod
    async def _wait_disconnect(receive: Receive) -> None:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return

    def _confirm_updates(self, offset: int) -> None:
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif offset < 0:
            self._updates = self._updates[offset:]

    def _select_updates(self, offset: int, limit: int) -> list[JSONDict]:
        selected = [u for u in self._updates if offset <= 0 or u["update_id"] >= offset]
        return copy.deepcopy(selected[:limit])

    # ==================================================================================
    # Internals: state helpers (called with the lock held)
    # ==================================================================================

    def _bump_seq(self) -> int:
        self._seq += 1
        self._cond.notify_all()
        return self._seq

    def _next_message_id(self, chat_id: int) -> int:
        next_id = self._message_ids.get(chat_id, 0) + 1
        self._message_ids[chat_id] = next_id
        return next_id

    def _new_callback_query_id(self, user_id: int) -> str:
        self._callback_counter += 1
        query_id = str(5_000_000_000_000_000_000 + self._callback_counter)
        self._callback_queries[query_id] = user_id
        return query_id

    @staticmethod
    def _commands_key(scope: Any, language_code: Any) -> tuple[str, str]:
        scope_dict = scope if isinstance(scope, dict) and scope else {"type": "default"}
        return json.dumps(scope_dict, sort_keys=True), str(language_code or "")

    def _bot_from(self) -> JSONDict:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    def _require_user(self, params: JSONDict, *, sending: bool = True) -> FakeUser:
        if "chat_id" not in params or params["chat_id"] in ("", None):
            raise _bad_request("chat_id is empty")
        chat_id = params["chat_id"]
        user = self._users.get(chat_id) if isinstance(chat_id, int) else None
        if user is None:
            raise _bad_request("chat not found")
        if sending and user._blocked:
            raise _ApiError(403, "Forbidden: bot was blocked by the user")
        return user

    @staticmethod
    def _require_message_id(params: JSONDict) -> int:
        message_id = params.get("message_id")
        if not isinstance(message_id, int):
            raise _bad_request("message identifier is not specified")
        return message_id

    @staticmethod
    def _parse_text(text: str, parse_mode: Any, entities: Any, *, caption: bool) -> ParsedText:
        mode = str(parse_mode).lower() if parse_mode else ""
        if mode == "html":
            try:
                parsed = parse_telegram_html(text)
            except ValueError as exc:
                raise _bad_request(f"can't parse entities: {exc}") from exc
        elif mode in ("markdown", "markdownv2"):
            parsed = ParsedText(text=text, entities=[])  # not parsed by the fake
        elif mode:
            raise _bad_request("unsupported parse_mode")
        else:
            given = entities if isinstance(entities, list) else []
            parsed = ParsedText(text=text, entities=copy.deepcopy(given))
        limit = CAPTION_MAX_LENGTH if caption else MESSAGE_MAX_LENGTH
        if utf16_len(parsed.text) > limit:
            raise _bad_request("message caption is too long" if caption else "message is too long")
        return parsed

    def _parse_message_text(self, params: JSONDict) -> tuple[str, ParsedText]:
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise _bad_request("message text is empty")
        parsed = self._parse_text(
            text, params.get("parse_mode"), params.get("entities"), caption=False
        )
        if not parsed.text.strip():
            raise _bad_request("message text is empty")
        return text, parsed

    @staticmethod
    def _validate_reply_markup(value: Any, *, inline_only: bool = False) -> JSONDict | None:
        if value is None:
            return None
        if not isinstance(value, dict):
            raise _bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in value:
            rows = value["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
                raise _bad_request(
                    'field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays'
                )
            for row in rows:
                for button in row:
                    FakeTelegram._validate_inline_button(button)
            return value
        if inline_only:
            raise _bad_request("inline keyboard expected")
        if "keyboard" in value:
            rows = value["keyboard"]
            if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
                raise _bad_request(
                    'field "keyboard" of the ReplyKeyboardMarkup must be an Array of Arrays'
                )
            for row in rows:
                for button in row:
                    label = button.get("text") if isinstance(button, dict) else button
                    if not isinstance(label, str) or not label:
                        raise _bad_request("can't parse keyboard button: Text must be non-empty")
            return value
        if "remove_keyboard" in value or "force_reply" in value:
            return value
        raise _bad_request("can't parse reply keyboard markup JSON object")

    @staticmethod
    def _validate_inline_button(button: Any) -> None:
        if not isinstance(button, dict):
            raise _bad_request(
                "can't parse inline keyboard button: InlineKeyboardButton must be an Object"
            )
        if not isinstance(button.get("text"), str):
            raise _bad_request(
                'can\'t parse inline keyboard button: Field "text" must be of type String'
            )
        kinds = [kind for kind in _INLINE_BUTTON_KINDS if kind in button]
        if not kinds:
            raise _bad_request(
                "can't parse inline keyboard button: Text buttons are unallowed in the inline "
                "keyboard"
            )
        if len(kinds) > 1:
            raise _bad_request(
                "can't parse inline keyboard button: exactly one of the optional fields must be "
                "used"
            )
        if "callback_data" in button:
            data = button["callback_data"]
            if (
                not isinstance(data, str)
                or not data
                or len(data.encode("utf-8")) > CALLBACK_DATA_MAX_BYTES
            ):
                raise _bad_request("BUTTON_DATA_INVALID")
        if "url" in button:
            url = button["url"]
            if not isinstance(url, str) or _BUTTON_URL_RE.fullmatch(url) is None:
                raise _bad_request("BUTTON_URL_INVALID")

    @staticmethod
    def _inline_part(markup: JSONDict | None) -> list[Any]:
        if markup is None:
            return []
        rows = markup.get("inline_keyboard")
        return rows if isinstance(rows, list) else []

    def _reply_target(self, user: FakeUser, params: JSONDict) -> int | None:
        """The message id a send replies to (``reply_parameters`` or the older
        ``reply_to_message_id``), or None. A target that does not exist in the chat is a
        400, unless ``allow_sending_without_reply`` says to send without the reply."""
        reply = params.get("reply_parameters")
        if reply is None and params.get("reply_to_message_id") not in (None, ""):
            reply = {
                "message_id": params["reply_to_message_id"],
                "allow_sending_without_reply": params.get("allow_sending_without_reply", False),
            }
        if reply is None:
            return None
        if not isinstance(reply, dict) or not isinstance(reply.get("message_id"), int):
            raise _bad_request("can't parse reply parameters JSON object")
        if reply.get("chat_id") not in (None, user.user_id):
            raise _bad_request("replies to other chats are not supported by the fake Bot API")
        message_id = reply["message_id"]
        if self._replied_message(user.user_id, message_id) is not None:
            return int(message_id)
        if reply.get("allow_sending_without_reply"):
            return None
        raise _bad_request("message to be replied not found")

    def _replied_message(self, chat_id: int, message_id: int) -> JSONDict | None:
        """A message of this chat as it is quoted in ``reply_to_message`` now (without its
        own ``reply_to_message``, as Telegram quotes one level only), or None when gone."""
        own = self._user_messages.get(chat_id, {}).get(message_id)
        if own is not None:
            return copy.deepcopy(own)
        sent = self._messages.get((chat_id, message_id))
        if sent is not None and not sent.deleted:
            quoted = self._render(sent, quote=False)
            return quoted
        return None

    def _render(self, message: SentMessage, *, quote: bool = True) -> JSONDict:
        user = self._users[message.chat_id]
        rendered: JSONDict = {
            "message_id": message.message_id,
            "from": self._bot_from(),
            "chat": user.chat_dict(),
            "date": message.date,
        }
        if quote and message.reply_to_message_id is not None:
            replied = self._replied_message(message.chat_id, message.reply_to_message_id)
            if replied is not None:
                rendered["reply_to_message"] = replied
        if message.edit_date is not None:
            rendered["edit_date"] = message.edit_date
        if message.document is not None:
            doc = message.document
            document: JSONDict = {
                "file_id": doc.file_id,
                "file_unique_id": doc.file_unique_id,
                "file_size": len(doc.content),
            }
            if doc.file_name is not None:
                document["file_name"] = doc.file_name
            if doc.mime_type is not None:
                document["mime_type"] = doc.mime_type
            rendered["document"] = document
            if message.text:
                rendered["caption"] = message.text
                if message.entities:
                    rendered["caption_entities"] = copy.deepcopy(message.entities)
        else:
            rendered["text"] = message.text
            if message.entities:
                rendered["entities"] = copy.deepcopy(message.entities)
        inline = self._inline_part(message.reply_markup)
        if inline:
            rendered["reply_markup"] = {"inline_keyboard": copy.deepcopy(inline)}
        return rendered

    def _store_new_message(
        self,
        user: FakeUser,
        params: JSONDict,
        sent_text: str | None,
        parsed: ParsedText | None,
        markup: JSONDict | None,
        document: SentDocument | None = None,
    ) -> JSONDict:
        reply_to = self._reply_target(user, params)
        seq = self._bump_seq()
        message = SentMessage(
            chat_id=user.user_id,
            message_id=self._next_message_id(user.user_id),
            text=parsed.text if parsed is not None else None,
            sent_text=sent_text,
            entities=parsed.entities if parsed is not None else [],
            parse_mode=params.get("parse_mode"),
            disable_notification=bool(params.get("disable_notification", False)),
            reply_markup=copy.deepcopy(markup),
            date=int(time.time()),
            seq=seq,
            updated_seq=seq,
            document=document,
            reply_to_message_id=reply_to,
        )
        message.api_object = self._render(message)
        self._messages[(message.chat_id, message.message_id)] = message
        self._message_order.append(message)
        return copy.deepcopy(message.api_object)

    def _editable_message(self, params: JSONDict) -> SentMessage:
        if params.get("inline_message_id"):
            raise _bad_request("inline_message_id is not supported by the fake Bot API")
        user = self._require_user(params)
        message_id = self._require_message_id(params)
        message = self._messages.get((user.user_id, message_id))
        if message is None or message.deleted:
            if message_id in self._user_message_ids.get(user.user_id, set()):
                raise _bad_request("message can't be edited")
            raise _bad_request("message to edit not found")
        return message

    # ==================================================================================
    # Bot API methods (called with the lock held)
    # ==================================================================================

    def _api_getMe(self, params: JSONDict, files: dict[str, UploadedFile]) -> Any:
        return self.bot_user()

    def _api_logOut(self, params: JSONDict, files: dict[str, UploadedFile]) -> Any:
        return True

    def _api_close(self, params: JSONDict, files: dict[str, UploadedFile]) -> Any:
        return True

    def _api_deleteWebhook(self, params: JSONDict, files: dict[str, UploadedFile]) -> Any:
        if params.get("drop_pending_updates"):
            self._updates.clear()
        self.webhook = None
        return True

    def _api_setWebhook(self, params: JSONDict, files: dict[str, UploadedFile]) -> Any:
        url = str(params.get("url") or "")
        if not url:  # Telegram: an empty url removes the webhook
            self.webhook = None
            return True
        if not url.startswith("https://"):
            raise _bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not _SECRET_TOKEN.fullmatch(str(secret)):
            raise _bad_request("bad webhook: secret token contains unallowed characters")
        allowed = params.get("allowed_updates")
        if isinstance(allowed, str):
            allowed = json.loads(allowed)
        self.webhook = {"url": url, "secret_token": secret, "allowed_updates": allowed}
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    def _api_getWebhookInfo(self, params: JSONDict, files: dict[str, UploadedFile]) -> Any:
        return {
            "url": self.webhook["url"] if self.webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    def _api_setMyCommands(self, params: JSONDict, files: dict[str, UploadedFile]) -> Any:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _bad_request("can't parse commands JSON object")
        if len(commands) > 100:
            raise _bad_request("too many commands specified")
        for command in commands:
            if not isinstance(command, dict):
                raise _bad_request("can't parse BotCommand")
            name, description = command.get("command"), command.get("description")
            if not isinstance(name, str) or _COMMAND_RE.fullmatch(name) is None:
                raise _bad_request("BOT_COMMAND_INVALID")
            if not isinstance(description, str) or not 1 <= len(description.strip()) <= 256:
                raise _bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        key = self._commands_key(params.get("scope"), params.get("language_code"))
        self._commands[key] = copy.deepcopy(commands)
        self._last_commands_key = key
        return True

    def _api_getMyCommands(self, params: JSONDict, files: dict[str, UploadedFile]) -> Any:
        key = self._commands_key(params.get("scope"), params.get("language_code"))
        return copy.deepcopy(self._commands.get(key, []))

    def _api_deleteMyCommands(self, params: JSONDict, files: dict[str, UploadedFile]) -> Any:
        key = self._commands_key(params.get("scope"), params.get("language_code"))
        self._commands.pop(key, None)
        return True

    def _api_setChatMenuButton(self, params: JSONDict, files: dict[str, UploadedFile]) -> Any:
        chat_id: int | None = None
        if params.get("chat_id") not in (None, ""):
            chat_id = self._require_user(params, sending=False).user_id
        button = params.get("menu_button", {"type": "default"})
        if not isinstance(button, dict) or button.get("type") not in (
            "commands",
            "web_app",
            "default",
        ):
            raise _bad_request("can't parse menu button")
        if button["type"] == "web_app" and not (
            isinstance(button.get("text"), str) and isinstance(button.get("web_app"), dict)
        ):
            raise _bad_request("can't parse menu button")
        self._menu_buttons[chat_id] = copy.deepcopy(button)
        return True

    def _api_getChatMenuButton(self, params: JSONDict, files: dict[str, UploadedFile]) -> Any:
        chat_id: int | None = None
        if params.get("chat_id") not in (None, ""):
            chat_id = self._require_user(params, sending=False).user_id
        button = self._menu_buttons.get(chat_id) or self._menu_buttons.get(None)
        return copy.deepcopy(button) if button is not None else {"type": "default"}

    def _api_sendMessage(self, params: JSONDict, files: dict[str, UploadedFile]) -> Any:
        user = self._require_user(params)
        commit = self._check_rate_limit("sendMessage", params)
        text, parsed = self._parse_message_text(params)
        markup = self._validate_reply_markup(params.get("reply_markup"))
        result = self._store_new_message(user, params, text, parsed, markup)
        commit()
        return result

    def _api_editMessageText(self, params: JSONDict, files: dict[str, UploadedFile]) -> Any:
        message = self._editable_message(params)
        commit = self._check_rate_limit("editMessageText", params)
        if message.document is not None:
            raise _bad_request("there is no text in the message to edit")
        text, parsed = self._parse_message_text(params)
        markup = self._validate_reply_markup(params.get("reply_markup"), inline_only=True)
        if (
            parsed.text == message.text
            and parsed.entities == message.entities
            and self._inline_part(markup) == self._inline_part(message.reply_markup)
        ):
            raise _bad_request(_NOT_MODIFIED.removeprefix("Bad Request: "))
        message.previous_texts.append(message.text)
        message.text = parsed.text
        message.sent_text = text
        message.entities = parsed.entities
        message.parse_mode = params.get("parse_mode")
        message.reply_markup = copy.deepcopy(markup)  # no reply_markup removes the keyboard
        message.edit_date = int(time.time())
        message.updated_seq = self._bump_seq()
        message.api_object = self._render(message)
        commit()
        return copy.deepcopy(message.api_object)

    def _api_editMessageReplyMarkup(self, params: JSONDict, files: dict[str, UploadedFile]) -> Any:
        message = self._editable_message(params)
        commit = self._check_rate_limit("editMessageReplyMarkup", params)
        markup = self._validate_reply_markup(params.get("reply_markup"), inline_only=True)
        if self._inline_part(markup) == self._inline_part(message.reply_markup):
            raise _bad_request(_NOT_MODIFIED.removeprefix("Bad Request: "))
        message.reply_markup = copy.deepcopy(markup)
        message.edit_date = int(time.time())
        message.updated_seq = self._bump_seq()
        message.api_object = self._render(message)
        commit()
        return copy.deepcopy(message.api_object)

    def _api_deleteMessage(self, params: JSONDict, files: dict[str, UploadedFile]) -> Any:
        user = self._require_user(params, sending=False)
        message_id = self._require_message_id(params)
        message = self._messages.get((user.user_id, message_id))
        if message is not None and not message.deleted:
            message.deleted = True
            message.updated_seq = self._bump_seq()
            return True
        own = self._user_message_ids.get(user.user_id, set())
        if message_id in own:
            own.discard(message_id)
            self._user_messages.get(user.user_id, {}).pop(message_id, None)
            return True
        raise _bad_request("message to delete not found")

    def _api_answerCallbackQuery(self, params: JSONDict, files: dict[str, UploadedFile]) -> Any:
        query_id = str(params.get("callback_query_id", ""))
        user_id = self._callback_queries.pop(query_id, None)
        if user_id is None:
            raise _bad_request(_QUERY_INVALID.removeprefix("Bad Request: "))
        text = params.get("text")
        if isinstance(text, str) and len(text) > 200:
            raise _bad_request("MESSAGE_TOO_LONG")
        cache_time = params.get("cache_time")
        self._answered.append(
            AnsweredCallback(
                callback_query_id=query_id,
                user_id=user_id,
                text=text if isinstance(text, str) else None,
                show_alert=bool(params.get("show_alert", False)),
                url=params.get("url"),
                cache_time=cache_time if isinstance(cache_time, int) else None,
                time=time.time(),
            )
        )
        return True

    def _api_sendDocument(self, params: JSONDict, files: dict[str, UploadedFile]) -> Any:
        user = self._require_user(params)
        commit = self._check_rate_limit("sendDocument", params)
        upload = files.get("document")
        reference = params.get("document")
        if upload is None and isinstance(reference, str) and reference.startswith("attach://"):
            upload = files.get(reference.removeprefix("attach://"))
            if upload is None:
                raise _bad_request("wrong file identifier/HTTP URL specified")
        if upload is not None:
            if not upload.content:
                raise _bad_request("file must be non-empty")
            number = len(self._files) + 1
            document = SentDocument(
                file_id=f"BQACAgIAAxkBAAI{number:06d}fake{self.bot_id}",
                file_unique_id=f"AgAD{number:06d}",
                file_name=upload.filename,
                mime_type=upload.content_type,
                content=upload.content,
            )
            self._files[document.file_id] = document
        elif isinstance(reference, str) and reference in self._files:
            document = copy.deepcopy(self._files[reference])
        elif isinstance(reference, str) and reference:
            raise _bad_request("wrong file identifier/HTTP URL specified")
        else:
            raise _bad_request("there is no document in the request")
        caption = params.get("caption")
        parsed: ParsedText | None = None
        if isinstance(caption, str) and caption:
            parsed = self._parse_text(
                caption, params.get("parse_mode"), params.get("caption_entities"), caption=True
            )
        markup = self._validate_reply_markup(params.get("reply_markup"))
        result = self._store_new_message(
            user,
            params,
            caption if isinstance(caption, str) else None,
            parsed,
            markup,
            document=document,
        )
        commit()
        return result

    def _api_sendChatAction(self, params: JSONDict, files: dict[str, UploadedFile]) -> Any:
        self._require_user(params)
        if params.get("action") not in _CHAT_ACTIONS:
            raise _bad_request("wrong parameter action in request")
        return True
