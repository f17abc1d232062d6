"""The one rate limiter: evenly spaced slots under both of Telegram's limits."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import AsyncIterator

import pytest
from hypothesis import given
from hypothesis import strategies as st
from telegram.ext import ExtBot

from bot.ratelimit import TelegramRateLimiter
from fakes.telegram_api import FakeTelegram
from scheduler.slots import SAFETY_MARGIN, SlotGrid
from tests.conftest import TOKEN


def test_slots_are_spaced_at_the_global_rate() -> None:
    limits = SlotGrid(per_second=30, per_chat_per_second=1)
    slots = [limits.reserve(chat_id=i, earliest=0.0, now=0.0) for i in range(90)]
    gaps = [b - a for a, b in itertools.pairwise(slots)]
    assert min(gaps) == pytest.approx(1 / (30 * SAFETY_MARGIN))
    # In any one-second window, never more than 30 slots.
    assert max(sum(1 for s in slots if t <= s < t + 1) for t in slots) <= 30


def test_one_chat_gets_at_most_one_slot_a_second() -> None:
    limits = SlotGrid(per_second=30, per_chat_per_second=1)
    slots = [limits.reserve(chat_id=7, earliest=0.0, now=0.0) for _ in range(5)]
    assert [round(b - a, 3) for a, b in itertools.pairwise(slots)] == [
        round(1 / SAFETY_MARGIN, 3)
    ] * 4


def test_other_chats_are_not_held_back_by_a_busy_one() -> None:
    limits = SlotGrid(per_second=30, per_chat_per_second=1)
    for _ in range(3):
        limits.reserve(chat_id=7, earliest=0.0, now=0.0)
    assert limits.reserve(chat_id=8, earliest=0.0, now=0.0) < 0.2


def test_a_429_holds_every_slot_until_retry_after() -> None:
    limits = SlotGrid(per_second=30, per_chat_per_second=1)
    limits.back_off(5, now=10.0)
    assert limits.reserve(chat_id=1, earliest=10.0, now=10.0) == 15.0


def test_memory_holds_only_recent_chats() -> None:
    limits = SlotGrid(per_second=1000, per_chat_per_second=1)
    for i in range(10_000):
        limits.reserve(chat_id=i, earliest=i / 1000, now=i / 1000)
    limits.reserve(chat_id=-1, earliest=100.0, now=100.0)
    assert limits.chats_tracked <= 2


@given(
    st.lists(
        st.tuples(st.integers(0, 5), st.floats(0, 3, allow_nan=False)), min_size=1, max_size=200
    )
)
def test_no_schedule_of_requests_breaks_either_limit(requests: list[tuple[int, float]]) -> None:
    limits = SlotGrid(per_second=30, per_chat_per_second=1)
    reserved: list[tuple[int, float]] = []
    for chat, at in sorted(requests, key=lambda r: r[1]):
        slot = limits.reserve(chat, at, now=at)
        assert slot >= at
        reserved.append((chat, slot))
    times = sorted(t for _, t in reserved)
    assert all(b - a >= 1 / 30 - 1e-9 for a, b in itertools.pairwise(times))
    for chat in {c for c, _ in reserved}:
        mine = sorted(t for c, t in reserved if c == chat)
        assert all(b - a >= 1 - 1e-9 for a, b in itertools.pairwise(mine))


def test_zero_turns_the_limiter_off() -> None:
    limiter = TelegramRateLimiter(0, 0)
    assert limiter.enabled is False


@pytest.mark.slow  # seconds of real sends at the limit
async def test_at_the_limit_a_strict_server_never_answers_429() -> None:
    with FakeTelegram(
        token=TOKEN, enforce_rate_limits=True, global_per_second=30, per_chat_per_second=1
    ) as fake:
        users = [fake.user(100 + i) for i in range(20)]
        limiter = TelegramRateLimiter(30, 1, max_retries=0)
        async with ExtBot(TOKEN, base_url=fake.base_url, rate_limiter=limiter) as bot:
            started = time.monotonic()
            # 45 messages: 20 chats, a few of them getting three, so both limits bite.
            chats = (
                [u.chat_id for u in users]
                + [u.chat_id for u in users[:12]] * 2
                + [users[0].chat_id]
            )
            await asyncio.gather(*(bot.send_message(c, "hi") for c in chats))
            elapsed = time.monotonic() - started
        assert fake.too_many_requests == 0
        assert len(fake.calls_to("sendMessage")) == len(chats)
        # Paced, not bursty: 45 messages at 30/s need about 1.5 s at least.
        assert elapsed >= (len(chats) - 30) / 30


async def test_after_an_event_loop_stall_sends_do_not_burst() -> None:
    now = [100.0]
    limiter = TelegramRateLimiter(30, 1, clock=lambda: now[0])
    # Thirty slots were planned over the last second, but the loop was stalled: all of them
    # are now due at once. The guard lets at most 29 out within any second.
    allowed = sum(1 for i in range(40) if limiter._guard(i, now[0]) == 0)
    assert allowed == limiter._capacity == 29
    assert limiter._guard(999, now[0]) == pytest.approx(1.0)
    assert limiter._guard(0, now[0] + 0.5) > 0  # chat 0 sent half a second ago


async def test_a_reply_overtakes_a_queue_of_bulk_sends() -> None:
    limiter = TelegramRateLimiter(20, 1)
    done: list[str] = []

    def sender(name: str):  # type: ignore[no-untyped-def]
        async def send() -> bool:
            done.append(name)
            return True

        return send

    async def request(name: str, chat_id: int, bulk: bool) -> None:
        await limiter.process_request(
            sender(name), (), {}, "sendMessage", {"chat_id": chat_id}, {"bulk": bulk}
        )

    bulk = [asyncio.create_task(request(f"bulk{i}", 100 + i, True)) for i in range(30)]
    await asyncio.sleep(0.1)  # the bulk queue has formed and is being paced
    await request("reply", 1, False)
    position = done.index("reply")
    await asyncio.gather(*bulk)
    # Without the lane the reply would queue behind all thirty (about 1.5 s at 20/s).
    assert position <= 6, done


async def test_with_a_shared_budget_one_chat_is_spaced_from_when_sends_really_leave() -> None:
    """A slot from the shared budget can come late (a slow round trip): the chat's last
    send is recorded when the request leaves, so the next one to that chat still waits
    a full second (found by an adversarial run: replies 0.78 s apart, then a 429)."""

    class SlowThenFast:
        """A stand-in for `SharedBudget`: the first slot arrives 0.4 s late."""

        def __init__(self) -> None:
            self.delays = [0.4, 0.0]

        @contextlib.asynccontextmanager
        async def leaving(self, *, bulk: bool) -> AsyncIterator[None]:
            yield
            await asyncio.sleep(self.delays.pop(0))

        async def back_off(self, seconds: float) -> None:
            raise AssertionError("no 429 here")

    limiter = TelegramRateLimiter(30, 1, shared=SlowThenFast())  # type: ignore[arg-type]
    left: list[float] = []

    async def send() -> bool:
        left.append(time.monotonic())
        return True

    async def reply() -> None:
        await limiter.process_request(send, (), {}, "sendMessage", {"chat_id": 7}, None)

    await asyncio.gather(reply(), reply())
    assert len(left) == 2
    assert left[1] - left[0] >= 1.0


async def test_sends_held_up_by_a_slow_mark_still_leave_inside_the_limit() -> None:
    """A group commit that takes a while releases many marked sends at once: the limiter
    checks the rate when they really leave, after the mark, not when their slot came."""
    limiter = TelegramRateLimiter(10, 0)
    commit_done = asyncio.Event()
    left: list[float] = []

    async def slow_mark() -> bool:
        await commit_done.wait()
        return True

    async def send() -> bool:
        left.append(time.monotonic())
        return True

    async def one(chat: int) -> None:
        await limiter.process_request(
            send, (), {}, "sendMessage", {"chat_id": chat}, {"on_leaving": slow_mark}
        )

    sends = [asyncio.create_task(one(chat)) for chat in range(12)]
    await asyncio.sleep(1.0)  # every slot of the first second has come and gone
    commit_done.set()
    await asyncio.gather(*sends)
    capacity = int(10 * SAFETY_MARGIN)
    assert max(sum(1 for s in left if t <= s < t + 1) for t in left) <= capacity
