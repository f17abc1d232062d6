"""What the pages show, worked out in plain Python so templates stay simple and tests can
check the wording: labels, the plain-language preview of next times, and the bar chart.

Everything here takes the domain's cards and counts (names, zones, schedules, counts) and
nothing else, so nothing a partner wrote can reach a page through it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from scheduler.therapy import Control, CoupleCard, PartnerCard, SetBy
from storage.models import NIGHTLY_APPRECIATION, PATH_FOR_ONE, TIMING_TIP, WEEKLY_CHECKIN
from storage.practice import Engagement, ExportRow, PartnerState, PracticeRow
from storage.therapists import PLAN_KINDS, WeekCounts

KIND_LABELS: Mapping[str, str] = {
    NIGHTLY_APPRECIATION: "Nightly appreciation",
    WEEKLY_CHECKIN: "Weekly check-in",
    TIMING_TIP: "Timing tip",
    PATH_FOR_ONE: "Path for one",
}
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
TIP_CHOICES: tuple[tuple[int, str], ...] = (
    (0, "Off"),
    (1, "Once a week"),
    (2, "Twice a week"),
    (3, "Three times a week"),
    (7, "Every day"),
)
# Calm, distinguishable in grey scale too; the legend and the table carry the same numbers.
SERIES: tuple[tuple[str, str, str], ...] = (
    ("delivered", "Delivered", "#4f7f78"),
    ("snoozed", "Snoozed", "#c9a66b"),
    ("checkins_done", "Check-ins done", "#6b6f9e"),
)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def kind_label(kind: str) -> str:
    """A practice's name as a therapist would say it."""
    return KIND_LABELS.get(kind, kind.replace("_", " ").capitalize())


def split_when(when: str) -> tuple[str, str]:
    """Split the domain's "Mon 23 Nov 21:30" into ("Mon 23 Nov", "21:30")."""
    day, _, time = when.rpartition(" ")
    return (day, time) if day else (when, "")


def _times_sentence(kind: str, times: Sequence[str]) -> str:
    parts = [" at ".join(split_when(t)) for t in times[:2]]
    text = f"{kind_label(kind).lower()} next on {parts[0]}"
    if len(parts) > 1:
        text += f", then {parts[1]}"
    return text


UNAGREED = "A partner who has not agreed (yet)"


def partner_label(partner: PartnerCard) -> str:
    """The partner's name, or only that they have not agreed: nothing else about them."""
    return partner.name if partner.consented else UNAGREED


def _turned_off(partner: PartnerCard) -> str:
    return "; ".join(
        f"{kind_label(kind).lower()} turned off by {by or 'their partner'}"
        for kind, by in sorted(partner.turned_off.items())
    )


def partner_preview(partner: PartnerCard) -> str:
    """One plain sentence: when this partner is next nudged, in their own zone."""
    if not partner.consented:
        return f"{UNAGREED}: nothing you set reaches them, and nothing about them is shown."
    times = [(kind, t) for kind, t in sorted(partner.next_times.items()) if t]
    off = _turned_off(partner)
    if not times:
        text = f"Nothing is scheduled for {partner.name} at the moment."
        return f"{text} {off[0].upper()}{off[1:]}." if off else text
    sentence = "; ".join(_times_sentence(kind, t) for kind, t in times)
    text = f"{partner.name} ({partner.zone} time): {sentence}{'; ' + off if off else ''}."
    if partner.paused:
        text += f" {partner.name} has paused the bot, so nothing reaches them until they resume."
    return text


def previews(card: CoupleCard) -> list[str]:
    """The preview sentence of each partner, in the couple's order."""
    return [partner_preview(p) for p in card.partners]


def couple_name(card: CoupleCard) -> str:
    """The couple as the therapist knows them: "Couple 12: Maya & Jonas"."""
    names = " & ".join(p.name if p.consented else UNAGREED.lower() for p in card.partners)
    return f"Couple {card.couple_id}: {names}" if names else f"Couple {card.couple_id}"


def schedule_values(card: CoupleCard) -> dict[str, str]:
    """The schedule form's fields, filled from the couple's current settings."""
    config: Mapping[str, Any] = card.config
    overrides: Mapping[str, Any] = config.get("overrides") or {}
    values = {
        "nightly_time": str(config["nightly"]["time"]),
        "nightly_window": str(config["nightly"]["window"]),
        "checkin_day": str(config["checkin"]["day"]),
        "checkin_time": str(config["checkin"]["time"]),
        "tips_per_week": str(config["tips"]["per_week"]),
        "tips_time": str(config["tips"]["time"]),
        "paused": "on" if config.get("paused") else "",
    }
    for partner in card.partners:
        if not partner.consented:
            continue
        values[f"override_{partner.person_id}"] = str(overrides.get(str(partner.person_id), ""))
    return values


def plan_values(card: CoupleCard) -> dict[str, str]:
    """The plan form's fields, filled from the couple's current plan."""
    values = {kind: "" for kind in PLAN_KINDS}
    values.update({f"{kind}_to": "" for kind in PLAN_KINDS})
    for step in card.plan:
        values[str(step["kind"])] = str(step["from_week"])
        if step.get("to_week") is not None:
            values[f"{step['kind']}_to"] = str(step["to_week"])
    values["starts_on"] = card.plan_starts_on.isoformat() if card.plan_starts_on else ""
    return values


def plan_summary(card: CoupleCard, today: dt.date) -> list[str]:
    """The plan in plain words, with where the couple is in it today."""
    if not card.plan:
        return ["No plan: every practice runs (timing tips unless they are set to off)."]
    lines = [step_text(step) for step in sorted_steps(card.plan)]
    start = card.plan_starts_on
    if start is not None:
        if today < start:
            lines.append(f"The plan starts on {start:%a %d %b %Y}.")
        else:
            week = (today - start).days // 7 + 1
            lines.append(f"Started on {start:%a %d %b %Y}; this is week {week}.")
    return lines


def sorted_steps(steps: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Plan steps in the order they start."""
    return sorted(steps, key=lambda s: (int(s["from_week"]), str(s["kind"])))


def step_text(step: Mapping[str, Any]) -> str:
    """One plan step: "Weekly check-in from week 3." or "Timing tip in weeks 5 to 8."."""
    kind = kind_label(str(step["kind"]))
    end = step.get("to_week")
    if end is None:
        return f"{kind} from week {step['from_week']}."
    if int(end) == int(step["from_week"]):
        return f"{kind} in week {end} only."
    return f"{kind} in weeks {step['from_week']} to {end}."


@dataclass(frozen=True, slots=True)
class Bar:
    """One bar of the adherence chart, in SVG user units."""

    x: float
    y: float
    width: float
    height: float
    fill: str
    title: str


@dataclass(frozen=True, slots=True)
class AxisLabel:
    x: float
    text: str


@dataclass(frozen=True, slots=True)
class Chart:
    """A small grouped bar chart: for each week, delivered, snoozed and check-ins done."""

    width: int
    height: int
    baseline: float
    top: float
    max_value: int
    bars: tuple[Bar, ...]
    labels: tuple[AxisLabel, ...]
    summary: str


def adherence_chart(weeks: Sequence[WeekCounts], width: int = 320, height: int = 150) -> Chart:
    """Lay out the adherence counts as bars; the numbers are also in a table beside it."""
    top, bottom, side = 14.0, 22.0, 4.0
    baseline = height - bottom
    peak = max([1, *(getattr(w, key) for w in weeks for key, _, _ in SERIES)])
    group = (width - 2 * side) / max(len(weeks), 1)
    bar_width = group * 0.8 / len(SERIES)
    bars: list[Bar] = []
    labels: list[AxisLabel] = []
    for index, week in enumerate(weeks):
        left = side + index * group + group * 0.1
        for position, (key, name, colour) in enumerate(SERIES):
            value = int(getattr(week, key))
            bar_height = (baseline - top) * value / peak
            bars.append(
                Bar(
                    round(left + position * bar_width, 1),
                    round(baseline - bar_height, 1),
                    round(bar_width - 1, 1),
                    round(bar_height, 1),
                    colour,
                    f"Week of {week.week_start:%d %b}: {value} {name.lower()}",
                )
            )
        labels.append(AxisLabel(round(left + group * 0.4, 1), f"{week.week_start:%d %b}"))
    totals = {key: sum(int(getattr(w, key)) for w in weeks) for key, _, _ in SERIES}
    summary = (
        f"Over {_count(len(weeks), 'week')}: {_count(totals['delivered'], 'nudge')} delivered, "
        f"{totals['snoozed']} snoozed, {_count(totals['checkins_done'], 'check-in')} done."
    )
    return Chart(width, height, baseline, top, peak, tuple(bars), tuple(labels), summary)


# --- the practice overview -------------------------------------------------------------


class Sort(StrEnum):
    """How the overview is ordered (the `sort` query parameter)."""

    ATTENTION = "attention"
    CODE = "code"
    LAST = "last"


SORT_LABELS: Mapping[Sort, str] = {
    Sort.ATTENTION: "Needs attention first",
    Sort.CODE: "Client code",
    Sort.LAST: "Last nudge delivered",
}
STATE_LABELS: Mapping[PartnerState, str] = {
    PartnerState.ACTIVE: "active",
    PartnerState.PAUSED: "paused",
    PartnerState.NOT_AGREED: "not yet agreed",
    PartnerState.LEFT: "left",
}
MAX_QUERY_CHARS = 40


def client_label(couple_id: int, client_code: str | None) -> str:
    """The couple's client code, or "Couple 12" until the therapist gives it one."""
    return client_code or f"Couple {couple_id}"


def plan_week(plan_starts_on: dt.date | None, today: dt.date) -> int | None:
    """The plan's week today (1 in the first week), or None before it starts or without one."""
    if plan_starts_on is None or today < plan_starts_on:
        return None
    return (today - plan_starts_on).days // 7 + 1


def attention(row: PracticeRow, today: dt.date) -> list[str]:
    """What the therapist may want to look at, in plain words; empty when all is well."""
    if row.ended_at is not None:
        return [f"Link ended on {row.ended_at:%d %b %Y}"]
    found = []
    states = [p.state for p in row.partners]
    if PartnerState.NOT_AGREED in states:
        found.append("Consent pending")
    if PartnerState.LEFT in states:
        found.append("A partner left")
    for partner in row.partners:
        if partner.state is PartnerState.PAUSED:
            found.append(f"{partner.name} paused")
    week = plan_week(row.plan_starts_on, today)
    start = row.plan_starts_on
    if week is None and start is not None and (start - today).days < 7:
        week = 1  # the plan itself starts this week
    starting = sorted(
        kind_label(str(step["kind"])) for step in row.plan if week and step["from_week"] == week
    )
    if starting:
        found.append("Starts this week: " + ", ".join(starting))
    return found


def plan_text(row: PracticeRow, today: dt.date) -> str:
    """The plan in a few words: "Week 3 of a plan", "Starts 30 Nov", or "No plan"."""
    if row.ended_at is not None:
        return "-"
    if not row.plan:
        return "No plan"
    week = plan_week(row.plan_starts_on, today)
    if week is None:
        start = row.plan_starts_on
        return f"Starts {start:%d %b}" if start else "No start date"
    last = max(int(step["from_week"]) for step in row.plan)
    return f"Week {week}" + (f" (all practices from week {last})" if week < last else "")


@dataclass(frozen=True, slots=True)
class Sparkline:
    """Eight weeks of answered nudges as a tiny line, with the numbers in its title."""

    width: int
    height: int
    points: str
    dots: tuple[tuple[float, float], ...]
    summary: str


def sparkline(weeks: Sequence[Engagement], width: int = 96, height: int = 24) -> Sparkline:
    """Lay out the answered counts of each week as a polyline (no script, no library)."""
    peak = max([1, *(w.answered for w in weeks)])
    step = (width - 4) / max(len(weeks) - 1, 1)
    dots = tuple(
        (round(2 + i * step, 1), round(height - 2 - (height - 4) * w.answered / peak, 1))
        for i, w in enumerate(weeks)
    )
    summary = "Answered per week, oldest first: " + ", ".join(str(w.answered) for w in weeks)
    return Sparkline(width, height, " ".join(f"{x},{y}" for x, y in dots), dots, summary)


@dataclass(frozen=True, slots=True)
class OverviewLine:
    """One couple as the overview shows it."""

    couple_id: int
    label: str
    names: str | None
    linked: bool
    plan: str
    partners: tuple[tuple[str, str, str], ...]  # (who, state label, state)
    last_delivered: str
    last_sort: dt.date | None
    this_week: Engagement
    spark: Sparkline
    attention: tuple[str, ...]


def overview_line(row: PracticeRow, today: dt.date) -> OverviewLine:
    """What the overview says about one couple."""
    partners = []
    for index, partner in enumerate(row.partners, start=1):
        who = partner.name if partner.name and row.names else f"Partner {index}"
        partners.append((who, STATE_LABELS[partner.state], partner.state.value))
    return OverviewLine(
        couple_id=row.couple_id,
        label=client_label(row.couple_id, row.client_code),
        names=" & ".join(row.names) if row.names else None,
        linked=row.ended_at is None,
        plan=plan_text(row, today),
        partners=tuple(partners),
        last_delivered=f"{row.last_delivered:%d %b %Y}" if row.last_delivered else "none yet",
        last_sort=row.last_delivered,
        this_week=row.weeks[-1],
        spark=sparkline(row.weeks),
        attention=tuple(attention(row, today)),
    )


def arrange(
    lines: Sequence[OverviewLine], sort: Sort, attention_only: bool, query: str
) -> list[OverviewLine]:
    """Filter by attention and by a piece of the client code, then sort."""
    needle = query.strip().casefold()[:MAX_QUERY_CHARS]
    chosen = [
        line
        for line in lines
        if (not attention_only or line.attention)
        and (not needle or needle in line.label.casefold())
    ]
    by_code = sorted(chosen, key=lambda line: (line.label.casefold(), line.couple_id))
    if sort is Sort.CODE:
        return by_code
    if sort is Sort.LAST:
        return sorted(by_code, key=lambda line: -(line.last_sort or dt.date.min).toordinal())
    return sorted(by_code, key=lambda line: -len(line.attention))


def parse_sort(value: str | None) -> Sort:
    """The `sort` query parameter, or the default for anything else."""
    try:
        return Sort(value or Sort.ATTENTION)
    except ValueError:
        return Sort.ATTENTION


# --- who controls what -----------------------------------------------------------------

SHORT_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def days_text(days: Sequence[int]) -> str:
    """Weekdays in a few letters: "every day", "Sun", "Tue and Thu", "Mon, Wed and Fri"."""
    if len(days) == 7:
        return "every day"
    names = [SHORT_DAYS[d] for d in sorted(days)]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def control_schedule(control: Control, partner_zone: str) -> str:
    """The schedule in force, in 24-hour time: "every day at 22:30", "Sun at 19:00"."""
    if not control.at:
        return "Not scheduled"
    text = f"{days_text(control.days).capitalize()} at {control.at}"
    if control.window:
        text += f", spread over {control.window} minutes"
    if control.zone and control.zone != partner_zone:
        text += f" ({control.zone} time)"
    return text


def control_owner(control: Control) -> str:
    """Who set it, as the therapist reads it: "Set by you", "Changed by Maya: 22:30"."""
    if control.set_by is SetBy.YOU:
        return "Set by you"
    if control.set_by is SetBy.OTHER_THERAPIST:
        return "Set by another therapist"
    if control.set_by is SetBy.PARTNER:
        who = control.by or "the couple"
        return f"Changed by {who}: {control.at}"
    if control.set_by is SetBy.TURNED_OFF:
        return f"Turned off by {control.by or 'their partner'}"
    return "Not running: not in this week's plan, or paused by you"


def own_choices(card: CoupleCard) -> list[str]:
    """The practices where a partner's own choice stands, for the note before saving."""
    found = []
    for partner in card.partners:
        for control in partner.controls:
            if control.set_by is SetBy.PARTNER:
                found.append(f"{partner.name}'s {kind_label(control.kind).lower()} ({control.at})")
            elif control.set_by is SetBy.TURNED_OFF:
                found.append(f"{partner.name}'s {kind_label(control.kind).lower()} (off)")
    return found


# --- export ------------------------------------------------------------------------------

EXPORT_COLUMNS = (
    "client",
    "week_starting",
    "practice",
    "delivered",
    "answered",
    "snoozed",
    "no_reply",
)


@dataclass(frozen=True, slots=True)
class ExportLine:
    """One line of the export, as shown and as written to CSV: no names, counts only."""

    client: str
    week_start: dt.date
    practice: str
    delivered: int
    answered: int
    snoozed: int
    no_reply: int


def export_lines(rows: Sequence[ExportRow]) -> list[ExportLine]:
    """The export's lines, by client and week."""
    return [
        ExportLine(
            client_label(row.couple_id, row.client_code),
            row.week_start,
            kind_label(row.kind),
            row.delivered,
            row.answered,
            row.snoozed,
            row.ignored,
        )
        for row in rows
    ]


def export_csv(rows: Sequence[ExportRow]) -> str:
    """The export as CSV text (RFC 4180, via the csv module)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(EXPORT_COLUMNS)
    for line in export_lines(rows):
        writer.writerow(
            (
                line.client,
                line.week_start.isoformat(),
                line.practice,
                line.delivered,
                line.answered,
                line.snoozed,
                line.no_reply,
            )
        )
    return out.getvalue()
