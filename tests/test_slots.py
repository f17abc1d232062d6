"""Send slots for crowded minutes: both rates hold, idle chats go first, the order rotates."""

from __future__ import annotations

import datetime as dt
import itertools
import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks.old_limits import Limits
from scheduler.slots import (
    MAX_BEHIND,
    SAFETY_MARGIN,
    SlotGrid,
    Want,
    behind_of,
    fair_order,
    queue_turn,
    unmet_count,
)

GAP = 1 / (30 * SAFETY_MARGIN)
CHAT_GAP = 1 / SAFETY_MARGIN
DUE = 1_000_000.0
NIGHT = dt.date(2026, 3, 14)
# Floating point slack: slots are origin + k * gap, or a start a rounding error before it.
EPS = 1e-5


def most_in_one_second(slots: list[float]) -> int:
    """The largest number of slots in any one-second window [t, t + 1)."""
    ordered = sorted(slots)
    return max(sum(1 for s in ordered if t <= s < t + 1) for t in ordered)


def assert_rates_hold(reserved: list[tuple[int | str | None, float]]) -> None:
    times = sorted(t for _, t in reserved)
    assert all(b - a >= GAP - EPS for a, b in itertools.pairwise(times))
    assert most_in_one_second(times) <= 30
    for chat in {c for c, _ in reserved if c is not None}:
        mine = sorted(t for c, t in reserved if c == chat)
        assert all(b - a >= CHAT_GAP - EPS for a, b in itertools.pairwise(mine))


def crowd(
    people: list[int], *, capacity: int, night: dt.date = NIGHT, start: float | None = None
) -> list[Want]:
    """Everyone due at DUE with a window that holds exactly `capacity` slots."""
    end = DUE + (capacity - 0.5) * GAP
    return [Want(p, p, DUE, end, who=p, night=night, window_start=start) for p in people]


def test_slots_at_one_instant_are_spaced_at_the_global_rate() -> None:
    grid = SlotGrid(per_second=30, per_chat_per_second=1)
    slots = [grid.reserve(chat, 0.0, now=0.0) for chat in range(90)]
    gaps = [b - a for a, b in itertools.pairwise(slots)]
    assert min(gaps) == pytest.approx(GAP) and max(gaps) == pytest.approx(GAP)
    assert slots[0] == 0.0
    assert most_in_one_second(slots) == 30


def test_one_chat_gets_at_most_one_slot_a_second() -> None:
    grid = SlotGrid(per_second=30, per_chat_per_second=1)
    slots = [grid.reserve(7, 0.0, now=0.0) for _ in range(5)]
    assert [b - a for a, b in itertools.pairwise(slots)] == pytest.approx([CHAT_GAP] * 4)


def test_a_message_to_an_idle_chat_is_not_held_back_by_a_busy_chat() -> None:
    grid = SlotGrid(per_second=30, per_chat_per_second=1)
    busy = [grid.reserve(7, 0.0, now=0.0) for _ in range(100)]
    assert busy[-1] > 99
    # The busy chat holds one cell a second for 100 seconds; the idle one takes the
    # first free cell, right after the busy chat's first.
    assert grid.reserve(8, 0.0, now=0.0) == pytest.approx(GAP)
    assert grid.reserve(9, 50.0, now=0.0) < 50.0 + 2 * GAP


def test_it_gives_the_old_limits_slots_to_a_crowd_of_distinct_chats() -> None:
    old = Limits(per_second=30, per_chat_per_second=1)
    new = SlotGrid(per_second=30, per_chat_per_second=1)
    chats = random.Random(5).sample(range(10**6), 300)
    assert [new.reserve(c, 5.0, now=5.0) for c in chats] == pytest.approx(
        [old.reserve(c, 5.0) for c in chats]
    )


def test_an_idle_limiter_sends_at_once_not_at_the_next_grid_line() -> None:
    grid = SlotGrid(per_second=30, per_chat_per_second=1)
    grid.reserve(1, 0.0, now=0.0)
    assert grid.reserve(2, 7.123, now=7.123) == 7.123


def test_no_slot_is_given_before_now() -> None:
    grid = SlotGrid(per_second=30, per_chat_per_second=1)
    grid.reserve(1, 10.0, now=10.0)
    assert grid.reserve(2, 3.0, now=10.0) >= 10.0


def test_a_429_holds_every_slot_until_retry_after() -> None:
    grid = SlotGrid(per_second=30, per_chat_per_second=1)
    grid.back_off(5, now=10.0)
    assert grid.reserve(1, 10.0, now=10.0) == 15.0


def test_zero_turns_either_limit_off() -> None:
    assert SlotGrid(0, 0).reserve(1, 3.0) == 3.0
    no_chat_limit = SlotGrid(30, 0)
    slots = [no_chat_limit.reserve(1, 0.0, now=0.0) for _ in range(3)]
    assert slots == pytest.approx([0.0, GAP, 2 * GAP])


def test_memory_holds_only_chats_and_cells_still_ahead() -> None:
    # Asked for 1000/s, granted 970/s: a backlog of about 1,500 slots builds up.
    grid = SlotGrid(per_second=1000, per_chat_per_second=1)
    slots = [grid.reserve(i % 3000, i / 1000, now=i / 1000) for i in range(50_000)]
    # Prunes run when a dict has doubled, and keep only what is still ahead of now.
    assert grid.chats_tracked <= 2 * 4096
    assert grid.cells_tracked <= 2 * 4096
    # Across the prunes, both limits still hold.
    gap = 1 / (1000 * SAFETY_MARGIN)
    assert all(b - a >= gap - EPS for a, b in itertools.pairwise(slots))
    for chat in (0, 1, 2999):
        mine = slots[chat::3000]
        assert all(b - a >= CHAT_GAP - EPS for a, b in itertools.pairwise(mine))


def test_after_five_quiet_seconds_memory_holds_only_what_is_ahead() -> None:
    grid = SlotGrid(per_second=1000, per_chat_per_second=1)
    for i in range(3_000):
        grid.reserve(i, i / 1000, now=i / 1000)
    grid.reserve(-1, 100.0, now=100.0)
    assert grid.chats_tracked == 1 and grid.cells_tracked == 1


@pytest.mark.parametrize("size", [1_000, 10_000, 100_000], ids=["1k", "10k", "100k"])
def test_a_reservation_walks_a_constant_number_of_steps_whatever_the_crowd(size: int) -> None:
    # One person in ten has three nudges at once, adjacent, as in a real crowded minute.
    people = itertools.count()
    chats = list(
        itertools.islice(
            (c for p in people for c in ([p] * 3 if p % 10 == 0 else [p])),
            size,
        )
    )
    grid = SlotGrid(per_second=30, per_chat_per_second=1)
    for chat in chats:
        grid.reserve(chat, DUE, now=DUE)
    assert grid.steps / size <= 2.5
    # Nothing can be pruned at one instant: every cell is still ahead, one per nudge.
    assert grid.cells_tracked == size


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 5), st.floats(0, 3), st.floats(0, 0.5), st.booleans()),
        min_size=1,
        max_size=200,
    )
)
def test_no_sequence_of_requests_breaks_either_limit_or_skips_a_free_cell(
    requests: list[tuple[int, float, float, bool]],
) -> None:
    grid = SlotGrid(per_second=30, per_chat_per_second=1)
    reserved: list[tuple[int | str | None, float]] = []
    now = 0.0
    for chat, ahead, tick, tell_now in requests:
        now += tick
        earliest = now + ahead
        chat_free = max((t + CHAT_GAP for c, t in reserved if c == chat), default=earliest)
        start = max(earliest, chat_free)
        slot = grid.reserve(chat, earliest, now=now if tell_now else None)
        assert slot >= start
        # Work-conserving: between the start and the slot every gap-sized step is
        # explained by a slot already there.
        crowded = sum(1 for _, t in reserved if start - GAP < t < slot + GAP)
        assert slot - start <= GAP * (crowded + 1) + EPS
        reserved.append((chat, slot))
    assert_rates_hold(reserved)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 8),  # chat (and person)
            st.floats(0, 5),  # due, after DUE
            st.sampled_from([0.0, 2.0, 10.0]),  # window length
            st.sampled_from([0.0, 1.0, 5.0]),  # how early the window may start
        ),
        min_size=1,
        max_size=120,
    )
)
def test_a_claim_batch_keeps_both_limits_and_flags_exactly_the_late_ones(
    rows: list[tuple[int, float, float, float]],
) -> None:
    grid = SlotGrid(per_second=30, per_chat_per_second=1)
    wants = [
        Want(
            i,
            chat,
            DUE + due,
            DUE + due + length,
            who=chat,
            night=NIGHT,
            window_start=DUE + due - early,
        )
        for i, (chat, due, length, early) in enumerate(rows)
    ]
    placed = grid.assign(wants, now=DUE)
    assert [p.key for p in placed] == [w.key for w in wants]
    for want, p in zip(wants, placed, strict=True):
        assert p.slot >= (want.window_start if want.window_start is not None else want.due)
        assert p.slot >= DUE
        assert p.unmet == (p.slot > want.latest)
        # Early only when it saves the window.
        assert p.slot >= want.due or not p.unmet
    assert_rates_hold([(w.chat_id, p.slot) for w, p in zip(wants, placed, strict=True)])


def test_unmet_zero_minute_windows_are_counted_exactly() -> None:
    # One slot every ~20.6 s: a zero-minute window is its own minute, so three fit.
    grid = SlotGrid(per_second=0.05, per_chat_per_second=1)
    wants = [Want(i, i, DUE, DUE, who=i, night=NIGHT) for i in range(6)]
    placed = grid.assign(wants, now=DUE)
    assert sorted(p.slot for p in placed)[0] == DUE
    assert unmet_count(placed) == 3


def test_unmet_windows_are_counted_exactly_in_a_large_crowd() -> None:
    grid = SlotGrid(per_second=30, per_chat_per_second=1)
    end = DUE + 10.5
    wants = [Want(i, i, DUE, end, who=i, night=NIGHT) for i in range(500)]
    placed = grid.assign(wants, now=DUE)
    inside = math.floor(10.5 / GAP) + 1  # cells 0 .. floor(10.5 / gap)
    assert unmet_count(placed) == 500 - inside
    assert all((p.slot > end) == p.unmet for p in placed)


def test_a_wide_enough_window_absorbs_the_crowd() -> None:
    grid = SlotGrid(per_second=0.05, per_chat_per_second=1)
    wants = [Want(i, i, DUE, DUE + 1800, who=i, night=NIGHT) for i in range(6)]
    assert unmet_count(grid.assign(wants, now=DUE)) == 0


def test_the_shortest_window_goes_first_whatever_the_order_given() -> None:
    grid = SlotGrid(per_second=0.05, per_chat_per_second=1)
    wide = [Want(i, i, DUE, DUE + 1800, who=i, night=NIGHT) for i in range(5)]
    narrow = Want("narrow", 99, DUE, DUE, who=99, night=NIGHT)
    placed = grid.assign([*wide, narrow], now=DUE)
    assert placed[-1].slot == DUE and unmet_count(placed) == 0


def test_a_window_that_opens_early_sends_early_rather_than_missing() -> None:
    grid = SlotGrid(per_second=30, per_chat_per_second=1)
    early = DUE - 300 * GAP
    placed = grid.assign(crowd(list(range(200)), capacity=100, start=early), now=early)
    assert unmet_count(placed) == 0
    ahead = [p for p in placed if p.slot < DUE]
    assert len(ahead) == 100 and all(p.slot >= early for p in ahead)


def test_nobody_is_sent_early_while_the_asked_minute_has_room() -> None:
    grid = SlotGrid(per_second=30, per_chat_per_second=1)
    early = DUE - 300 * GAP
    placed = grid.assign(crowd(list(range(100)), capacity=100, start=early), now=early)
    assert all(p.slot >= DUE for p in placed) and unmet_count(placed) == 0


def test_default_windows_start_at_the_due_minute() -> None:
    grid = SlotGrid(per_second=30, per_chat_per_second=1)
    placed = grid.assign(crowd(list(range(200)), capacity=100), now=DUE - 600)
    assert min(p.slot for p in placed) == DUE and unmet_count(placed) == 100


@pytest.mark.parametrize(
    "people",
    [list(range(1, 2001)), random.Random(7).sample(range(10**9), 2000)],
    ids=["consecutive-ids", "scattered-ids"],
)
def test_at_half_capacity_nobody_misses_two_nights_in_a_row(people: list[int]) -> None:
    missed = []
    for day in range(3):
        grid = SlotGrid(per_second=30, per_chat_per_second=1)
        night = NIGHT + dt.timedelta(days=day)
        placed = grid.assign(crowd(people, capacity=1000, night=night), now=DUE)
        missed.append({p.key for p in placed if p.unmet})
    assert [len(m) for m in missed] == [1000, 1000, 1000]
    assert not missed[0] & missed[1] and not missed[1] & missed[2]


def test_below_half_capacity_everyone_gets_a_turn_within_a_week() -> None:
    people = random.Random(3).sample(range(10**9), 2000)
    missed_all_week = set(people)
    for day in range(7):
        grid = SlotGrid(per_second=30, per_chat_per_second=1)
        night = NIGHT + dt.timedelta(days=day)
        placed = grid.assign(crowd(people, capacity=600, night=night), now=DUE)
        missed_all_week &= {p.key for p in placed if p.unmet}
    assert not missed_all_week


def test_the_first_half_tonight_is_the_second_half_tomorrow() -> None:
    wants = crowd(list(range(10)), capacity=5)
    tomorrow = crowd(list(range(10)), capacity=5, night=NIGHT + dt.timedelta(days=1))
    first = set(fair_order(wants)[:5])
    assert first.isdisjoint(fair_order(tomorrow)[:5])
    assert sorted(fair_order(wants)) == list(range(10))


def test_a_persons_several_nudges_share_one_place_in_the_order() -> None:
    wants = [
        Want((p, k), p, DUE, DUE + 60, who=p, night=NIGHT) for p in range(20) for k in range(3)
    ]
    positions = {
        p: [i for i, w in enumerate(fair_order(wants)) if wants[w].who == p] for p in range(20)
    }
    assert all(b - a == 1 for spots in positions.values() for a, b in itertools.pairwise(spots))


def test_who_missed_last_time_goes_first_whatever_the_rotation() -> None:
    behind = {3, 8, 11, 17}
    wants = [
        Want(p, p, DUE, DUE + 60, who=p, night=NIGHT, behind=2 if p in behind else 0)
        for p in range(20)
    ]
    assert {wants[i].who for i in fair_order(wants)[: len(behind)]} == behind


@pytest.mark.parametrize("rotation", [0.0, 0.25, 0.999])
@pytest.mark.parametrize("behind", [0, 1, 2, MAX_BEHIND])
def test_a_claim_key_holds_its_miss_count_and_sorts_the_furthest_behind_first(
    rotation: float, behind: int
) -> None:
    key = queue_turn(rotation, behind)
    assert behind_of(key) == behind
    if behind < MAX_BEHIND:
        assert queue_turn(0.999, behind + 1) < key
    assert behind_of(queue_turn(rotation, MAX_BEHIND + 5)) == MAX_BEHIND
