"""The plan editor in phases: reading its form, filling it from a plan, and the timeline.

Each practice has up to `SLOTS` phases in the form. The first phase's fields keep the names
they always had (`nightly_appreciation`, `nightly_appreciation_to`), later ones carry the
slot (`nightly_appreciation-2`, `nightly_appreciation-2_to`); each phase adds its partner
(`..._partner`: "", "a" or "b") and its frequency: `..._days` (nightly, weekday checkboxes;
none ticked is every evening), `..._every` (check-in, 1 or 2 weeks), `..._per_week` (tips,
1, 2, 3 or 7; empty for the couple's setting) and, optionally, `..._wording`: the phase's own
words for the practice (checked by `check_wordings` with the bot's `WordingChecks`).
Refusals are `Invalid` codes next to a field; the words are in each language's strings
(templates/_strings.html, _strings.de.html).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from starlette.datastructures import FormData

from dashboard.codes import Reason
from dashboard.forms import DOMAIN_CODES, LAST_WEEK, Invalid, is_number, number, start_date, text
from scheduler import phases
from scheduler.therapy import CoupleCard
from scheduler.wording import WordingChecks, WordingRefused
from storage.models import NIGHTLY_APPRECIATION, TIMING_TIP, WEEKLY_CHECKIN
from storage.therapists import PLAN_KINDS

SLOTS = 3
# The form field (after the phase's prefix) that holds each practice's frequency.
FREQUENCY: Mapping[str, str] = {
    NIGHTLY_APPRECIATION: "days",
    WEEKLY_CHECKIN: "every",
    TIMING_TIP: "per_week",
}
# Which field a domain refusal of a phase is about (after the phase's prefix).
_DOMAIN_FIELD: Mapping[str, str] = {
    "step": "",
    "step_end": "_to",
    "step_days": "_days",
    "step_every": "_every",
    "step_per_week": "_per_week",
    "step_frequency": "",
    "step_partner": "_partner",
    "step_partner_checkin": "",
    "step_overlap": "",
}
PhaseState = Literal["done", "now", "later"]


def prefix(kind: str, slot: int) -> str:
    """The name the fields of a practice's `slot`-th phase start with."""
    return kind if slot == 1 else f"{kind}-{slot}"


def _frequency(form: FormData, kind: str, name: str, step: dict[str, Any]) -> None:
    if kind == NIGHTLY_APPRECIATION:
        raw = [v.strip() for v in form.getlist(f"{name}_days") if isinstance(v, str)]
        if any(not is_number(v) or int(v) > 6 for v in raw):
            raise Invalid("step_days", f"{name}_days")
        days = sorted({int(v) for v in raw})
        if days and len(days) < 7:
            step["days"] = days
    elif kind == WEEKLY_CHECKIN:
        every = text(form, f"{name}_every")
        if every and every != "1":
            if every not in {str(n) for n in phases.EVERY_WEEKS}:
                raise Invalid("step_every", f"{name}_every")
            step["every_weeks"] = int(every)
    else:
        per_week = text(form, f"{name}_per_week")
        if per_week:
            if per_week not in {str(n) for n in phases.TIPS_PER_WEEK}:
                raise Invalid("step_per_week", f"{name}_per_week")
            step["per_week"] = int(per_week)


def _phase(form: FormData, kind: str, name: str) -> dict[str, Any]:
    """One phase of a practice: its weeks, partner and frequency."""
    week = number(form, name, "plan_week")
    if not 1 <= week <= LAST_WEEK:
        raise Invalid("plan_week", name)
    step: dict[str, Any] = {"kind": kind, "from_week": week}
    if text(form, f"{name}_to"):
        end = number(form, f"{name}_to", "plan_last_week")
        if not week <= end <= LAST_WEEK:
            raise Invalid("plan_last_week", f"{name}_to")
        step["to_week"] = end
    partner = text(form, f"{name}_partner")
    if partner:
        if partner not in phases.PARTNERS:
            raise Invalid("step_partner", f"{name}_partner")
        if kind == WEEKLY_CHECKIN:  # the form offers no partner here: a forged field
            raise Invalid("step_partner_checkin", name)
        step["partner"] = partner
    _frequency(form, kind, name, step)
    own = _wording(form, name)
    if own.strip():
        step["wording"] = own
    return step


def _wording(form: FormData, name: str) -> str:
    """A phase's own wording as typed (only line endings made plain)."""
    value = form.get(f"{name}_wording")
    return value.replace("\r\n", "\n") if isinstance(value, str) else ""


class WordingInvalid(Invalid):
    """A phase wording the sandbox refuses, or whose tone waits for confirmation:
    `refused` is the sandbox's refusal (the page words it), `detail` the phrases the tone
    check noticed."""

    def __init__(
        self,
        reason: Reason,
        field: str,
        detail: str = "",
        refused: WordingRefused | None = None,
    ) -> None:
        super().__init__(reason, field)
        self.detail = detail
        self.refused = refused


def check_wordings(
    form: FormData,
    checks: WordingChecks | None,
    languages: Sequence[str],
) -> None:
    """Ask the same checks as the wording forms of every phase's own wording in the form;
    `WordingInvalid` next to the first one refused, or with tone notes not confirmed
    (`confirm_tone`)."""
    confirmed = text(form, "confirm_tone") == "on"
    for kind in PLAN_KINDS:
        for slot in range(1, SLOTS + 1):
            name = prefix(kind, slot)
            own = _wording(form, name)
            if not text(form, name) or not own.strip():
                continue
            field = f"{name}_wording"
            if checks is None:
                raise WordingInvalid("wording_refused", field, "")
            try:
                checked = checks.check(own, languages)
            except WordingRefused as exc:
                raise WordingInvalid("wording_refused", field, refused=exc) from None
            if checked.tone and not confirmed:
                notes = " ".join(f"“{n.phrase}” → “{n.suggestion}”" for n in checked.tone)
                raise WordingInvalid("tone_unconfirmed", field, notes)


def steps_from(form: FormData) -> list[dict[str, Any]]:
    """The plan form's phases, checked one by one: `Invalid` names the field at fault."""
    steps: list[dict[str, Any]] = []
    for kind in PLAN_KINDS:
        for slot in range(1, SLOTS + 1):
            name = prefix(kind, slot)
            if not text(form, name):
                if text(form, f"{name}_to"):
                    raise Invalid("plan_last_needs_first", name)
                continue
            steps.append(_phase(form, kind, name))
            try:
                phases.clean_phases(steps)
            except phases.PhaseError as exc:
                field = name + _DOMAIN_FIELD.get(exc.reason, "")
                raise Invalid(_domain_reason(exc.reason), field) from None
    return steps


def _domain_reason(reason: str) -> Reason:
    return DOMAIN_CODES.get(reason, "not_saved")


def plan_steps(
    form: FormData, *, need_start: bool = True
) -> tuple[list[dict[str, Any]], dt.date | None]:
    """The plan form as `therapy.set_plan` phases and a start date (if `need_start`)."""
    steps = steps_from(form)
    if not need_start:
        return steps, None
    if not text(form, "starts_on"):
        if steps:
            raise Invalid("plan_start_missing", "starts_on")
        return steps, None
    return steps, start_date(form, "starts_on")


def field_names() -> list[str]:
    """Every field of the phase editor (for showing a refused form again)."""
    names = []
    for kind in PLAN_KINDS:
        for slot in range(1, SLOTS + 1):
            name = prefix(kind, slot)
            names += [name, f"{name}_to", f"{name}_partner", f"{name}_{FREQUENCY[kind]}"]
            names.append(f"{name}_wording")
    return names


def form_values(plan: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """The phase editor's fields, filled from a plan (each practice's phases in week order)."""
    values = dict.fromkeys(field_names(), "")
    for kind in PLAN_KINDS:
        mine = sorted((s for s in plan if s.get("kind") == kind), key=_start)[:SLOTS]
        for slot, step in enumerate(mine, start=1):
            name = prefix(kind, slot)
            values[name] = str(step["from_week"])
            values[f"{name}_to"] = str(step.get("to_week") or "")
            values[f"{name}_partner"] = str(step.get("partner") or "")
            values[f"{name}_wording"] = str(step.get("wording") or "")
            if kind == NIGHTLY_APPRECIATION:
                values[f"{name}_days"] = ",".join(str(d) for d in step.get("days") or ())
            elif kind == WEEKLY_CHECKIN:
                values[f"{name}_every"] = str(step.get("every_weeks") or "")
            else:
                values[f"{name}_per_week"] = str(step.get("per_week") or "")
    return values


def _start(step: Mapping[str, Any]) -> tuple[int, str, str]:
    return (int(step["from_week"]), str(step["kind"]), str(step.get("partner") or ""))


@dataclass(frozen=True, slots=True)
class PartnerChoice:
    """A partner a phase can be for: "a" or "b", and their name only while they agreed."""

    value: str
    name: str


def partner_choices(card: CoupleCard | None) -> tuple[PartnerChoice, ...]:
    """Partner A and B of a couple (in the order they joined): the name of one who agreed
    to the link, nothing for one who did not. Without a couple (a template), no names."""
    partners = card.partners if card is not None else ()
    names = [p.name if p.consented else "" for p in partners]
    names += [""] * (len(phases.PARTNERS) - len(names))
    return tuple(PartnerChoice(v, n) for v, n in zip(phases.PARTNERS, names, strict=False))


@dataclass(frozen=True, slots=True)
class TimelineRow:
    """One phase on the couple page's timeline (the words are in the templates)."""

    kind: str
    from_week: int
    to_week: int | None
    partner: str  # "" for both, else "a" or "b"
    partner_name: str  # only for a partner who agreed
    days: tuple[int, ...]  # nightly: the weekdays; () is every evening
    every_weeks: int
    per_week: int | None  # tips: the phase's count; None is the couple's setting
    state: PhaseState | None  # None before the plan has a start date
    own_wording: bool = False  # the phase has its own wording


@dataclass(frozen=True, slots=True)
class Timeline:
    rows: tuple[TimelineRow, ...]
    starts_on: dt.date | None
    week: int | None  # this week of the plan; None before it starts or without a start


def timeline(
    plan: Sequence[Mapping[str, Any]],
    starts_on: dt.date | None,
    today: dt.date,
    choices: Sequence[PartnerChoice] = (),
) -> Timeline:
    """The plan's phases in the order they start, each marked done, now or later."""
    names = {c.value: c.name for c in choices}
    week = phases.plan_week(starts_on, today) if starts_on and today >= starts_on else None
    rows = []
    for step in sorted(plan, key=_start):
        state: PhaseState | None = None
        if starts_on is not None:
            current = week if week is not None else 0
            last = phases.last_on_week(step)
            if last is not None and current > last:
                state = "done"
            elif current >= int(step["from_week"]):
                state = "now"
            else:
                state = "later"
        partner = str(step.get("partner") or "")
        rows.append(
            TimelineRow(
                kind=str(step["kind"]),
                from_week=int(step["from_week"]),
                to_week=int(step["to_week"]) if step.get("to_week") is not None else None,
                partner=partner,
                partner_name=names.get(partner, ""),
                days=tuple(int(d) for d in step.get("days") or ()),
                every_weeks=int(step.get("every_weeks") or 1),
                per_week=int(step["per_week"]) if step.get("per_week") else None,
                state=state,
                own_wording=bool(step.get("wording")),
            )
        )
    return Timeline(tuple(rows), starts_on, week)
