"""A therapist's plan as phases: pure rules, no clock and no database.

A plan is a list of phases, stored as plain JSON on the link (and on a named template):

    {"kind": "nightly_appreciation", "from_week": 1, "to_week": 2,
     "partner": "b", "days": [0, 2, 4]}

- `from_week`/`to_week`: weeks 1 to 52 of the plan, `to_week` inclusive and optional.
- `partner` (optional): "a" or "b", the first or second partner to have joined the couple;
  without it the phase is for both. The weekly check-in is a couple's practice, so it is
  always for both.
- How often, in the rule forms schedules already have (weekdays; `scheduler.rules.Rule`):
  `days` for the nightly appreciation (the weekdays it comes on, 0 = Monday; all seven
  when missing), `every_weeks` for the check-in (1: every week, 2: every other week of
  the phase, counted from its first week), `per_week` for timing tips (1, 2, 3 or 7,
  on the fixed days of `TIP_DAYS`; the couple's setting when missing).
- `wording` (optional): the therapist's own words for this practice while the phase runs,
  in place of the couple's wording (`TherapistLink.config`); when the phase ends, the
  couple's wording applies again. Only its type and length are checked here; the template
  sandbox and tone check (`scheduler.wording.WordingChecks`) are the dashboard's to ask
  before saving.

`clean_phases` checks what a therapist sent and raises `PhaseError` with a code; the
dashboard words each code in its templates.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from scheduler.rules import EVERY_DAY, QuietHours, quiet_until
from storage.models import NIGHTLY_APPRECIATION, TIMING_TIP, WEEKLY_CHECKIN
from storage.therapists import PLAN_KINDS, TherapistError

LAST_WEEK = 52
PARTNERS: tuple[Literal["a"], Literal["b"]] = ("a", "b")
Partner = Literal["a", "b"]
EVERY_WEEKS = (1, 2)
TIP_DAYS: Mapping[int, frozenset[int]] = {
    1: frozenset({2}),
    2: frozenset({1, 4}),
    3: frozenset({0, 2, 4}),
    7: EVERY_DAY,
}
TIPS_PER_WEEK = tuple(TIP_DAYS)
# The longest phase wording, as the template sandbox allows (`bot.prompt_sandbox`).
MAX_WORDING = 1000


class PhaseError(TherapistError):
    """A phase that cannot be used; `reason` is a code the dashboard words.

    Codes: "step" (no practice, or a first week outside 1-52), "step_end" (a last week
    before the first or after 52), "step_days" (nightly days not 1 to 7 weekdays),
    "step_every" (check-in not every 1 or 2 weeks), "step_per_week" (tips not 1, 2, 3 or 7
    a week), "step_frequency" (a frequency of another practice), "step_partner" (a
    partner other than "a" or "b"), "step_partner_checkin" (the check-in is for both),
    "step_overlap" (two phases of one practice for the same partner share a week),
    "step_wording" (a wording that is not text, or longer than `MAX_WORDING`).
    """


def _whole(value: Any, reason: str) -> int:
    if isinstance(value, bool):
        raise PhaseError(reason)
    try:
        return int(value)
    except (TypeError, ValueError):
        raise PhaseError(reason) from None


def clean_phase(step: Mapping[str, Any]) -> dict[str, Any]:
    """One checked phase, with only the keys it needs (see the module docstring)."""
    kind = step.get("kind")
    if kind not in PLAN_KINDS:
        raise PhaseError("step")
    first = _whole(step.get("from_week", 0), "step")
    if not 1 <= first <= LAST_WEEK:
        raise PhaseError("step")
    tidy: dict[str, Any] = {"kind": kind, "from_week": first}
    if step.get("to_week") is not None:
        last = _whole(step["to_week"], "step_end")
        if not first <= last <= LAST_WEEK:
            raise PhaseError("step_end")
        tidy["to_week"] = last
    partner = step.get("partner")
    if partner is not None:
        if partner not in PARTNERS:
            raise PhaseError("step_partner")
        if kind == WEEKLY_CHECKIN:
            raise PhaseError("step_partner_checkin")
        tidy["partner"] = partner
    given = {key for key in ("days", "every_weeks", "per_week") if step.get(key) is not None}
    allowed = {NIGHTLY_APPRECIATION: "days", WEEKLY_CHECKIN: "every_weeks", TIMING_TIP: "per_week"}
    if given - {allowed[kind]}:
        raise PhaseError("step_frequency")
    if "days" in given:
        tidy["days"] = _days(step["days"])
    if "every_weeks" in given:
        every = _whole(step["every_weeks"], "step_every")
        if every not in EVERY_WEEKS:
            raise PhaseError("step_every")
        if every != 1:
            tidy["every_weeks"] = every
    if "per_week" in given:
        per_week = _whole(step["per_week"], "step_per_week")
        if per_week not in TIP_DAYS:
            raise PhaseError("step_per_week")
        tidy["per_week"] = per_week
    wording = step.get("wording")
    if wording is not None:
        if not isinstance(wording, str) or len(wording) > MAX_WORDING:
            raise PhaseError("step_wording")
        if wording.strip():
            tidy["wording"] = wording
    return tidy


def _days(raw: Any) -> list[int]:
    if isinstance(raw, str | bytes) or not isinstance(raw, Iterable):
        raise PhaseError("step_days")
    days = sorted({_whole(day, "step_days") for day in raw})
    if not days or any(not 0 <= day <= 6 for day in days):
        raise PhaseError("step_days")
    return days


def clean_phases(plan: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Checked phases, in the order given; `PhaseError` for the first that cannot be used."""
    clean = [clean_phase(step) for step in plan]
    for i, one in enumerate(clean):
        for other in clean[i + 1 :]:
            if one["kind"] == other["kind"] and _share_partner(one, other) and _overlap(one, other):
                raise PhaseError("step_overlap")
    return clean


def _share_partner(one: Mapping[str, Any], other: Mapping[str, Any]) -> bool:
    a, b = one.get("partner"), other.get("partner")
    return a is None or b is None or a == b


def _overlap(one: Mapping[str, Any], other: Mapping[str, Any]) -> bool:
    end_one = int(one.get("to_week") or LAST_WEEK)
    end_other = int(other.get("to_week") or LAST_WEEK)
    return int(one["from_week"]) <= end_other and int(other["from_week"]) <= end_one


def plan_week(starts_on: dt.date | None, day: dt.date) -> int:
    """The week of the plan `day` is in (1 is the week from `starts_on`); 1 with no start."""
    if starts_on is None:
        return 1
    return (day - starts_on).days // 7 + 1


def last_on_week(step: Mapping[str, Any]) -> int | None:
    """The last week a phase runs in (None: no end)."""
    end = step.get("to_week")
    if end is None:
        return None
    first, every = int(step["from_week"]), int(step.get("every_weeks") or 1)
    return first + (int(end) - first) // every * every


def runs(step: Mapping[str, Any], week: int) -> bool:
    """Whether a phase is on in this week: from its first week to its last that has a turn.

    A check-in every other week stays on in its off weeks (its next time is simply placed
    in the next week it has a turn), and ends after its last turn.
    """
    last = last_on_week(step)
    return int(step["from_week"]) <= week and (last is None or week <= last)


def has_turn(step: Mapping[str, Any], week: int) -> bool:
    """Whether a running phase has its turn in this week (every week, or every other)."""
    every = int(step.get("every_weeks") or 1)
    return runs(step, week) and (week - int(step["from_week"])) % every == 0


def for_partner(step: Mapping[str, Any], partner: Partner | None) -> bool:
    """Whether a phase reaches this partner ("a", "b"; None: a partner with no letter)."""
    wanted = step.get("partner")
    return wanted is None or (partner is not None and wanted == partner)


@dataclass(frozen=True, slots=True)
class Frequency:
    """How often a practice runs for one partner this week, as a schedule's rule sees it."""

    days: frozenset[int] = EVERY_DAY
    every_weeks: int = 1
    per_week: int | None = None  # tips: the phase's own count, or the couple's setting


def phase_now(
    plan: Sequence[Mapping[str, Any]], kind: str, week: int, partner: Partner | None
) -> Mapping[str, Any] | None:
    """The phase of `kind` that runs this week for this partner (the first, if several)."""
    for step in plan:
        if step.get("kind") == kind and runs(step, week) and for_partner(step, partner):
            return step
    return None


def wording(step: Mapping[str, Any] | None, couples: str | None) -> str | None:
    """The words a practice goes out with: the running phase's own wording if it has one,
    else the couple's (`couples`; None: the library's)."""
    own = step.get("wording") if step is not None else None
    return own or couples or None


def frequency(step: Mapping[str, Any]) -> Frequency:
    """A phase's frequency in rule form."""
    days = frozenset(int(d) for d in step.get("days") or ()) or EVERY_DAY
    per_week = step.get("per_week")
    return Frequency(days, int(step.get("every_weeks") or 1), int(per_week) if per_week else None)


def sensible_hour(
    now: dt.datetime,
    zone: str,
    *,
    quiet: QuietHours | None,
    night: QuietHours,
    paused_until: dt.datetime | None = None,
) -> dt.datetime:
    """The first instant from `now` that is after a pause and outside both the partner's
    quiet hours and the night, in their zone (a UTC instant).

    A message about their plan should not wake anyone: one that would fall in the night
    waits for the morning, one in their quiet hours for the end of them.
    """
    at = max(now, paused_until) if paused_until is not None else now
    # Each step moves to the end of one span; two spans can hand over to each other once
    # or twice, never more (each ends at a fixed wall-clock time within a day).
    for _ in range(4):
        moved = False
        for span in (quiet, night):
            if span is None:
                continue
            end = quiet_until(span, zone, at)
            if end is not None:
                at, moved = end, True
        if not moved:
            break
    return at.astimezone(dt.UTC)
