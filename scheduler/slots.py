"""Send slots for crowded minutes: linear-time slot arithmetic and a fair order.

Telegram allows about 30 messages a second overall and 1 a second per chat. This module
hands out send instants that keep both limits (with the same 3% safety margin as its
predecessor, kept in `benchmarks.old_limits`), in a constant number of amortised steps
per nudge on the patterns the dispatcher produces (see below for the worst case), and
decides who goes first when more people are due than the limits can reach inside their
delivery windows. It is pure:
standard library only, every instant is an explicit float (seconds since the epoch), no
clock is read.

The slot structure
------------------
Global instants live on a grid: cell ``k`` is ``origin + k * gap``, where ``gap`` is the
global interval (``1 / (per_second * margin)``). Any two distinct cells are at least one
gap apart, so the global limit holds by construction and nothing needs comparing with
its neighbours. Reserving means: find the first free cell at or after the earliest
instant the chat allows, and take it.

The first free cell is found with a "next free" disjoint-set forest (union-find): a taken
cell points at a later cell, every cell between them taken, and each lookup compresses
the path it walked. Pointers only ever point forward, so cells that fell behind ``now``
can be dropped without touching the rest. With everyone due at one instant a lookup walks
two pointers, whatever the crowd size. (Linking by index with path compression is
amortised O(log n) in the worst case, by Tarjan and van Leeuwen; union by rank would bring
that to inverse-Ackermann but would make pointers run backwards and pruning a rebuild. The
patterns the dispatcher produces stay at a constant two to three steps, which
tests/test_slots.py checks by counting steps from 1,000 to 100,000 reservations.)

Why a grid with a free-list rather than a single global cursor: a cursor serves arrivals
in order, so a message to an idle chat would queue behind a busy chat's slots a second
or more ahead (its second and third nudge). On the grid those slots are just taken cells;
the idle chat takes the first free cell before them, as the old sorted list
(`benchmarks.old_limits`) did, without that list's linear walk and insert. A calendar
of per-second buckets with free counts would need the same "next non-full bucket" pointer
on top, so it would be this structure with coarser cells.

The price of the grid is that a slot can be up to one gap (about 34 ms at 30/s) later
than the earliest instant when other slots are near. Once ``now`` is a gap past the
latest reserved slot, the next reservation re-anchors the grid at its own start, so an
idle limiter sends at once and a new crowded minute starts exactly on its minute.

Per-chat next-free times live in a dict that is pruned to the chats whose next slot is
still ahead of ``now``, and taken cells to those not behind it: when a dict has doubled
since the last prune (amortised O(1)) and, as in `Limits`, when ``now`` has moved on
five seconds.

The fair order
--------------
When a crowd is larger than the windows can hold, someone's window is unmet. Taking the
crowd in schedule-id order makes that the same people every night; independent nightly
shuffles (a hash of person and date) are no better on average over two nights: at 50%
capacity a quarter of everyone would miss both. `fair_order` instead:

1. gives each person a stable point (a keyed 64-bit mix of the person id) and ranks the
   batch's distinct people by it;
2. splits the ranks in two interleaved halves, evens and odds, and lets the half of the
   night's parity go first. Tonight's second half is tomorrow's first, so at 50% capacity
   or more nobody misses two nights in a row;
3. rotates the order inside each half by the golden ratio each night (a low-discrepancy
   sequence), so below 50% the people left out are a different stretch each time and
   everyone gets a turn within a few nights.

Deadlines come before rotation: a batch is ordered by the end of each window first
(earliest deadline first is what meets most windows when they open together), then by
how far behind each schedule is (`Want.behind`: its nudges that missed or came late past
their window, in a row), then by the fair order among equal ends.

The rotation alone is fair only on average: the halves swap inside one batch, but a crowd
claimed in several batches (or by several processes) is split by a different key. What
makes "nobody misses two nights in a row at 50% capacity or more" hold whatever the
batches is the miss count: it is kept on the schedule (`queue_turn`), so the claim query
takes everyone who missed last time before anyone who did not, and they take the first
slots.

The order is fair among the wants of one `SlotGrid.assign` call. Wants placed by an
earlier call keep their slots, so when a crowded minute is claimed in several batches,
which people land in the first batch matters as much as this order: the claim query
orders the crowded instant by `queue_turn` (who is behind, then the same rotation).

Windows
-------
A window is ``[start, end]``. By default it starts at the due minute (``start = due``):
nobody is sent a nudge before the time they asked for. A window may start earlier (a
"between 20:45 and 21:30" preference); then a nudge that would otherwise miss its window
goes early inside it, if a cell before the due minute is free, rather than late. A window
that ends at or before its due instant (zero minutes) is its own minute, as in
`scheduler.deliveries.Slotter`: met up to ``due + 60 s``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

__all__ = [
    "MAX_BEHIND",
    "SAFETY_MARGIN",
    "Placed",
    "SlotGrid",
    "Want",
    "behind_of",
    "fair_order",
    "night_turn",
    "queue_turn",
    "stable_point",
    "unmet_count",
]

SAFETY_MARGIN = 0.97
"""Share of Telegram's limits used: network jitter must not put two slots in one second."""

ZERO_WINDOW_GRACE = 60.0
"""A window of zero minutes is met anywhere inside its minute."""

_GOLDEN = (math.sqrt(5) - 1) / 2
_MASK64 = (1 << 64) - 1
_DEFAULT_SALT = 0x6E75_6467_6562_6F74  # "nudgebot"
# A fraction of a cell (about 3 µs at 30/s): larger than float rounding at epoch scale.
_ROUNDING = 1e-4
# A prune walks both dicts: it runs when one has doubled since the last (but not below
# this size), or when `now` has moved on this many seconds (a real-time limiter).
_PRUNE_FLOOR = 4096
_PRUNE_EVERY = 5.0


def stable_point(who: int, salt: int = _DEFAULT_SALT) -> int:
    """A person's fixed place on the rotation circle: splitmix64 of their id, keyed by salt."""
    z = ((who ^ salt) + 0x9E37_79B9_7F4A_7C15) & _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58_476D_1CE4_E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D0_49BB_1331_11EB) & _MASK64
    return z ^ (z >> 31)


@dataclass(frozen=True, slots=True)
class Want:
    """One delivery asking for a send slot at claim time.

    Args:
        key: The caller's handle for the delivery (returned unchanged).
        chat_id: The Telegram chat, for the per-chat limit (None: no per-chat limit).
        due: The nominal due instant, seconds since the epoch.
        window_end: The end of the delivery window (<= due: a zero-minute window).
        who: Whose turn this is, for the fair order (the person id).
        night: The person's local date of this occurrence (the rotation advances daily).
        window_start: The earliest acceptable instant; None means the due instant.
        behind: How many of this schedule's nudges in a row missed or came late past
            their window: the further behind, the earlier its turn (see `fair_order`).
    """

    key: Hashable
    chat_id: int | str | None
    due: float
    window_end: float
    who: int = 0
    night: dt.date = dt.date(1970, 1, 1)
    window_start: float | None = None
    behind: int = 0

    @property
    def latest(self) -> float:
        """The last instant that still meets the window."""
        if self.window_end <= self.due:
            return self.due + ZERO_WINDOW_GRACE
        return self.window_end


class Placed(NamedTuple):
    """The slot given to one `Want`, and whether it is past the window."""

    key: Hashable
    slot: float
    unmet: bool


def fair_order(wants: Sequence[Want], salt: int = _DEFAULT_SALT) -> list[int]:
    """Indices of `wants` in the order they should take slots (see the module docstring)."""
    # Sorting floats and small ints takes CPython's fast comparison paths. 53 bits of the
    # point are plenty: two people tie with odds of about n^2 / 2^54, and a tie only
    # swaps two neighbours.
    people = sorted({w.who for w in wants}, key=lambda who: float(stable_point(who, salt) >> 11))
    rank = {who: i for i, who in enumerate(people)}
    halves = ((len(people) + 1) // 2, len(people) // 2)
    span = halves[0] + 1
    offsets: dict[int, tuple[int, int]] = {}
    places = [0] * len(wants)
    by_deadline: dict[float, list[int]] = {}
    for i, want in enumerate(wants):
        r = rank[want.who]
        night = want.night.toordinal()
        if (offset := offsets.get(night)) is None:
            turn = (night * _GOLDEN) % 1.0
            offset = offsets[night] = (int(turn * halves[0]), int(turn * halves[1]))
        half = (r + night) % 2
        places[i] = half * span + (r // 2 - offset[r % 2]) % halves[r % 2]
        by_deadline.setdefault(want.latest, []).append(i)
    order: list[int] = []
    for latest in sorted(by_deadline):
        # Who missed last time goes first; then the rotation. A stable sort: a person's
        # several nudges stay in the order given.
        order.extend(sorted(by_deadline[latest], key=lambda i: (-wants[i].behind, places[i])))
    return order


MAX_BEHIND = 30
"""Misses in a row counted at most (a person further behind than this is simply first)."""


def queue_turn(rotation: float, behind: int) -> float:
    """A schedule's claim-order key: everyone behind before everyone not, then the rotation.

    Args:
        rotation: The night's place in [0, 1) (`night_turn`).
        behind: Its nudges in a row that missed or came late past their window.

    Returns:
        ``rotation - behind``: ascending order takes the furthest behind first, and one
        column (with its index) carries both. `behind_of` reads the count back.
    """
    return rotation - min(max(behind, 0), MAX_BEHIND)


def behind_of(turn: float) -> int:
    """The miss count a `queue_turn` key holds."""
    return max(0, -math.floor(turn))


def night_turn(who: int, night: dt.date, salt: int = _DEFAULT_SALT) -> float:
    """A person's place in the queue on `night`, in [0, 1): the same rotation as
    `fair_order`, without needing the whole crowd.

    Two halves by the person's fixed point, swapping which goes first every night, and a
    golden-ratio turn inside each half: at half capacity nobody is last two nights in a
    row. The dispatcher claims a crowded instant in batches, so this is what orders the
    batches (stored as `Schedule.turn`); `fair_order` orders inside a batch.
    """
    point = (stable_point(who, salt) >> 11) / float(1 << 53)
    day = night.toordinal()
    half = (int(point * 2) + day) % 2
    inside = (point * 2 + day * _GOLDEN) % 1.0
    return (half + inside) / 2


class SlotGrid:
    """Send slots under a global and a per-chat rate, on a grid of global instants.

    Drop-in for the arithmetic of the old `Limits` (`reserve`, `back_off`,
    `global_interval`, `chat_interval`, `chats_tracked`), plus `assign` for a claim batch.
    """

    def __init__(
        self, per_second: float, per_chat_per_second: float, margin: float = SAFETY_MARGIN
    ) -> None:
        self.global_interval = 1 / (per_second * margin) if per_second > 0 else 0.0
        self.chat_interval = 1 / (per_chat_per_second * margin) if per_chat_per_second > 0 else 0.0
        self.blocked_until = -math.inf
        self.steps = 0
        """Pointers followed by all lookups so far (for tests of the amortised cost)."""
        self._origin = 0.0
        self._taken: dict[int, int] = {}
        self._last = -math.inf
        self._now = -math.inf
        self._next_chat: dict[int | str, float] = {}
        self._prune_cells_at = _PRUNE_FLOOR
        self._prune_chats_at = _PRUNE_FLOOR
        self._pruned_at = -math.inf

    @property
    def chats_tracked(self) -> int:
        """Chats whose next free instant is remembered."""
        return len(self._next_chat)

    @property
    def last_reserved(self) -> float:
        """The latest global slot handed out so far (-inf before the first)."""
        return self._last

    @property
    def cells_tracked(self) -> int:
        """Taken grid cells remembered."""
        return len(self._taken)

    def back_off(self, seconds: float, now: float) -> None:
        """Telegram said 429: hold every slot until it allows sending again."""
        self.blocked_until = max(self.blocked_until, now + seconds)

    def reserve(
        self, chat_id: int | str | None, earliest: float, now: float | None = None
    ) -> float:
        """Reserve the first slot at or after `earliest` that both limits allow.

        Args:
            chat_id: The chat the message goes to; None for no per-chat limit.
            earliest: The earliest acceptable instant.
            now: The caller's current time. No slot is given before the latest `now`
                seen, and memory is pruned to what lies ahead of it; without it nothing
                is pruned.

        Returns:
            The reserved instant.
        """
        if now is not None and now > self._now:
            self._now = now
        return self._reserve(chat_id, earliest, None, 0.0)

    def assign(self, wants: Sequence[Want], now: float, salt: int = _DEFAULT_SALT) -> list[Placed]:
        """Give each delivery of a claim batch its slot, in the fair order.

        Each takes the first slot at or after ``max(due, now)``; one that would then miss
        its window, and whose window starts earlier, takes the first free slot from the
        window's start instead (early inside the window rather than late). Slots past the
        window are still reserved (the caller decides whether to send late or record a
        miss) and flagged ``unmet``.

        Returns:
            One `Placed` per want, in the order of `wants`.
        """
        if now > self._now:
            self._now = now
        slots = [0.0] * len(wants)
        for i in fair_order(wants, salt):
            want = wants[i]
            early = want.window_start
            if early is not None and early >= want.due:
                early = None
            slots[i] = self._reserve(want.chat_id, want.due, early, want.latest)
        return [
            Placed(want.key, slot, slot > want.latest)
            for want, slot in zip(wants, slots, strict=True)
        ]

    def _reserve(
        self, chat_id: int | str | None, earliest: float, early: float | None, latest: float
    ) -> float:
        """The slot for one message; with `early`, go back to it rather than past `latest`."""
        start = earliest
        if self._now > start:
            start = self._now
        if self.blocked_until > start:
            start = self.blocked_until
        chat = chat_id if self.chat_interval else None
        chat_free = -math.inf
        if chat is not None:
            chat_free = self._next_chat.get(chat, chat_free)
            if chat_free > start:
                start = chat_free
        gap = self.global_interval
        if not gap:
            slot = start
        else:
            taken = self._taken
            if self._now >= self._last + gap:
                # Nothing reserved can be within a gap of any slot from now on: start
                # afresh here, so an idle limiter sends at once, not at a grid line.
                taken.clear()
                self._origin = start
                cell = 0
            else:
                cell = self._cell_at_or_after(start)
                if early is not None and chat_free <= early and self._instant(cell) > latest:
                    # Early inside the window rather than late. Only for a chat with no
                    # slot ahead, so that its slots stay in order.
                    start = max(early, self._now, self.blocked_until)
                    cell = self._cell_at_or_after(start)
            taken[cell] = cell + 1
            slot = self._origin + cell * gap
            if slot > self._last:
                self._last = slot
            # A start a rounding error past a grid line took that line: never before start.
            if slot < start:
                slot = start
        if chat is not None:
            self._next_chat[chat] = slot + self.chat_interval
        if (
            len(self._taken) > self._prune_cells_at
            or len(self._next_chat) > self._prune_chats_at
            or self._now - self._pruned_at > _PRUNE_EVERY
        ):
            self._prune()
        return slot

    def _instant(self, cell: int) -> float:
        return self._origin + cell * self.global_interval

    def _cell_at_or_after(self, start: float) -> int:
        """The first free cell whose instant is at or after `start`."""
        cell = math.ceil((start - self._origin) / self.global_interval - _ROUNDING)
        return self._find(cell) if cell in self._taken else cell

    def _find(self, cell: int) -> int:
        """The first free cell at or after a taken `cell`, compressing the path walked."""
        taken = self._taken
        root = taken[cell]
        steps = 1
        while root in taken:
            root = taken[root]
            steps += 1
        self.steps += steps
        while cell != root:
            taken[cell], cell = root, taken[cell]
        return root

    def _prune(self) -> None:
        """Forget cells and chats behind now; linear, so run only on doubling or every 5 s."""
        now = self._now
        if now > -math.inf:
            # Cells before now can never be returned again; pointers run forward only, so
            # the rest stays consistent.
            below = math.floor((now - self._origin) / self.global_interval) if self._taken else 0
            self._taken = {c: n for c, n in self._taken.items() if c >= below}
            self._next_chat = {c: t for c, t in self._next_chat.items() if t > now}
            self._pruned_at = now
        self._prune_cells_at = max(_PRUNE_FLOOR, 2 * len(self._taken))
        self._prune_chats_at = max(_PRUNE_FLOOR, 2 * len(self._next_chat))


def unmet_count(placed: Iterable[Placed]) -> int:
    """How many placements are past their window."""
    return sum(p.unmet for p in placed)
