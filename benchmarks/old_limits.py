"""The sorted-list slot arithmetic nudgebot used until 2026-12 (was scheduler.ratelimit).

Kept only as the "before" column of `benchmarks.scenarios.slots` and `.fairness`: its
slot search walks every reserved instant, which made crowded minutes quadratic.
Production uses `scheduler.slots.SlotGrid`.
"""

from __future__ import annotations

import bisect

SAFETY_MARGIN = 0.97


class Limits:
    """The slot arithmetic, separate from asyncio so it can be tested with a fake clock.

    Global slots are kept as a sorted list of reserved instants, so a message to an idle
    chat takes the first free global slot even when a busy chat has reserved slots further
    ahead: one chat with many messages never holds the others back.
    """

    def __init__(
        self, per_second: float, per_chat_per_second: float, margin: float = SAFETY_MARGIN
    ) -> None:
        self.global_interval = 1 / (per_second * margin) if per_second > 0 else 0.0
        self.chat_interval = 1 / (per_chat_per_second * margin) if per_chat_per_second > 0 else 0.0
        self._slots: list[float] = []
        self._next_chat: dict[int | str, float] = {}
        self._pruned_at = 0.0
        self.blocked_until = 0.0

    def reserve(self, chat_id: int | str | None, now: float) -> float:
        """Reserve the earliest slot allowed for this chat; returns its time."""
        earliest = max(now, self.blocked_until)
        if chat_id is not None and self.chat_interval:
            earliest = max(earliest, self._next_chat.get(chat_id, 0.0))
        slot = self._free_global_slot(earliest, now)
        if chat_id is not None and self.chat_interval:
            self._next_chat[chat_id] = slot + self.chat_interval
        if now - self._pruned_at > 5:
            self._prune(now)
        return slot

    def _free_global_slot(self, earliest: float, now: float) -> float:
        gap = self.global_interval
        if not gap:
            return earliest
        slots = self._slots
        # Forget slots that can no longer conflict with anything from now on.
        del slots[: bisect.bisect_left(slots, now - gap)]
        slot = earliest
        i = bisect.bisect_right(slots, slot - gap)
        while i < len(slots) and slots[i] < slot + gap:
            slot = slots[i] + gap
            i += 1
        slots.insert(i, slot)
        return slot

    def back_off(self, seconds: float, now: float) -> None:
        """Telegram said 429: hold every slot until it allows sending again."""
        self.blocked_until = max(self.blocked_until, now + seconds)

    def _prune(self, now: float) -> None:
        self._pruned_at = now
        self._next_chat = {c: t for c, t in self._next_chat.items() if t > now}

    @property
    def chats_tracked(self) -> int:
        return len(self._next_chat)
