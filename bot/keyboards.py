"""Inline keyboards: each button a label and a typed button (`bot.callbacks`)."""

from __future__ import annotations

from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks import Button, encode


def buttons(*rows: Sequence[tuple[str, Button]]) -> InlineKeyboardMarkup:
    """An inline keyboard from rows of (label, button)."""
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(label, callback_data=encode(button)) for label, button in row]
            for row in rows
        ]
    )
