"""Callback data: short, typed, and checked before use.

Every button carries `action:argument` (at most 64 bytes, Telegram's limit). Parsing is
strict so that a forged or stale button can only ever be answered kindly.
"""

from __future__ import annotations

import re

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

_DATA = re.compile(r"^([a-z_]{1,16}):([A-Za-z0-9_/+\-:.]{0,46})$")


def data(action: str, argument: str | int = "") -> str:
    """Build callback data for `action` with one argument."""
    value = f"{action}:{argument}"
    if not _DATA.fullmatch(value):
        raise ValueError(f"callback data out of shape: {action!r}")
    return value


def parse(value: str | None) -> tuple[str, str] | None:
    """Split callback data into (action, argument), or None if it is not ours."""
    if not value:
        return None
    match = _DATA.fullmatch(value)
    return (match.group(1), match.group(2)) if match else None


def buttons(*rows: list[tuple[str, str]]) -> InlineKeyboardMarkup:
    """An inline keyboard from rows of (label, callback data)."""
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=value) for label, value in row] for row in rows]
    )
