"""Updates: different chats at once, one chat in order."""

from __future__ import annotations

import asyncio
import datetime as dt

from telegram import Chat, Message, Update, User

from bot.updates import PerChatUpdateProcessor

NOW = 1_700_000_000


def message_from(chat_id: int, update_id: int) -> Update:
    user = User(chat_id, "Ana", is_bot=False)
    chat = Chat(chat_id, Chat.PRIVATE)
    message = Message(
        update_id, date=dt.datetime.fromtimestamp(NOW, dt.UTC), chat=chat, from_user=user, text="hi"
    )
    return Update(update_id, message=message)


async def test_one_chats_updates_run_in_order_even_when_the_first_is_slow() -> None:
    processor = PerChatUpdateProcessor(8)
    done: list[int] = []

    async def handle(update_id: int, delay: float) -> None:
        await asyncio.sleep(delay)
        done.append(update_id)

    async with processor:
        await asyncio.gather(
            processor.process_update(message_from(1, 1), handle(1, 0.2)),
            processor.process_update(message_from(1, 2), handle(2, 0.0)),
        )
    assert done == [1, 2]
    assert processor.chats_tracked == 0


async def test_another_chat_is_not_held_back_by_a_slow_one() -> None:
    processor = PerChatUpdateProcessor(8)
    done: list[int] = []

    async def handle(update_id: int, delay: float) -> None:
        await asyncio.sleep(delay)
        done.append(update_id)

    async with processor:
        await asyncio.gather(
            processor.process_update(message_from(1, 1), handle(1, 0.2)),
            processor.process_update(message_from(2, 2), handle(2, 0.0)),
        )
    assert done == [2, 1]
    assert processor.chats_tracked == 0
