"""How the scheduler reaches people: a small interface that `bot/` implements.

The scheduler decides *what* is due and *when*; it never imports Telegram. A transport
sends one composed message and answers with a `SendResult` that says, in the scheduler's
terms, what happened to it. Mapping the Bot API's answers onto these results (with the
evidence for each row) is the transport's job; see `docs/delivery-errors.md`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from storage.deliveries import Ready
    from storage.invitations import Reminder


OnLeaving = Callable[[], Awaitable[bool]]


class SendStatus(StrEnum):
    """What became of one send, as far as the sender can know."""

    SENT = "sent"
    """Telegram accepted it; `message_id` is set."""
    NOT_SENT = "not_sent"
    """Certainly not delivered (the request never left, or the Bot API answered with an
    error of its own): safe to send again after `retry_after` seconds."""
    RATE_LIMITED = "rate_limited"
    """A 429: not delivered; Telegram asks to wait `retry_after` seconds."""
    BLOCKED = "blocked"
    """A 403: the person blocked the bot or deleted their account."""
    MIGRATED = "migrated"
    """The chat moved to `new_chat_id`; not delivered, send there instead."""
    REFUSED = "refused"
    """A 400 or similar: Telegram will never accept this message; do not retry."""
    AMBIGUOUS = "ambiguous"
    """The answer was lost after the request left: it may have arrived. Never resend."""
    CANCELLED = "cancelled"
    """Not sent: `on_leaving` said no (the delivery was deleted or taken elsewhere)."""


@dataclass(frozen=True, slots=True)
class SendResult:
    """The outcome of one request, classified."""

    status: SendStatus
    message_id: int | None = None
    retry_after: float | None = None
    new_chat_id: int | None = None
    error: str = ""
    """A short name for logs and the delivery row (an exception class, never text)."""


class Transport(Protocol):
    """Sends one message to one chat. Implemented by `bot.transport`."""

    async def send(
        self,
        chat_id: int,
        text: str,
        *,
        markup: object | None = None,
        silent: bool = False,
        bulk: bool = True,
        on_leaving: OnLeaving | None = None,
    ) -> SendResult:
        """Send `text` (Telegram HTML); never raises for a Telegram or network error.

        `markup` is whatever the composer built for this transport (buttons), opaque to
        the scheduler. `bulk` marks scheduled sends, which yield to interactive replies.
        `on_leaving` is awaited after any rate-limit wait, immediately before the request
        leaves; if it returns False nothing is sent (CANCELLED).
        """
        ...


@dataclass(frozen=True, slots=True)
class Composed:
    """One message ready to send: its text, the wording it used, and its buttons."""

    text: str
    variant: str | None
    markup: object | None
    """Buttons as the transport wants them; opaque to the scheduler."""


class Composer(Protocol):
    """Turns a due delivery into words and buttons. Implemented by `bot.composer`."""

    def compose(self, ready: Ready) -> Composed:
        """The message for one nudge, relay or invitation."""
        ...

    def compose_reminder(self, reminder: Reminder) -> Composed:
        """The once-only invitation reminder."""
        ...
