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
from zoneinfo import ZoneInfo

from dashboard.i18n import ENGLISH, Words, format_when, weekday_names
from scheduler.therapy import Control, CoupleCard, PartnerCard, SetBy
from storage.practice import Engagement, ExportRow, PartnerState, PracticeRow
from storage.therapists import WeekCounts

TIPS_PER_WEEK = (0, 1, 2, 3, 7)
# Calm, distinguishable in grey scale too; the legend and the table carry the same numbers.
SERIES_COLOURS: tuple[tuple[str, str], ...] = (
    ("delivered", "#4f7f78"),
    ("snoozed", "#c9a66b"),
    ("checkins_done", "#6b6f9e"),
)


def _count(n: int, noun: str, w: Words) -> str:
    return w(f"{noun}_{'one' if n == 1 else 'other'}", n=n)


def kind_label(kind: str, w: Words = ENGLISH) -> str:
    """A practice's name as a therapist would say it."""
    return w.kind(kind)


def weekdays(w: Words = ENGLISH) -> tuple[str, ...]:
    """The weekdays for the check-in's day, Monday first, in the page's language."""
    return weekday_names(w.code)


def tip_choices(w: Words = ENGLISH) -> list[tuple[int, str]]:
    """How often timing tips can come, with their names."""
    return [(n, w(f"tips_{n}")) for n in TIPS_PER_WEEK]


def series(w: Words = ENGLISH) -> list[tuple[str, str, str]]:
    """The chart's series: key, name and colour."""
    return [(key, w(f"series_{key}"), colour) for key, colour in SERIES_COLOURS]


def next_times(partner: PartnerCard, kind: str, w: Words = ENGLISH) -> list[str]:
    """A practice's next times in the partner's zone: "Mon 23 Nov 21:00" / "Mo., 23. Nov. 21:00"."""
    return [format_when(at, partner.zone, w.code) for at in partner.next_at.get(kind, ())]


def _times_sentence(kind: str, times: Sequence[dt.datetime], zone: str, w: Words) -> str:
    parts = [
        w(
            "day_at",
            day=w.date(at.astimezone(ZoneInfo(zone)), "weekday_day_month"),
            time=w.date(at.astimezone(ZoneInfo(zone)), "time"),
        )
        for at in times[:2]
    ]
    if len(parts) > 1:
        return w("next_two", kind=w.kind_in_sentence(kind), first=parts[0], second=parts[1])
    return w("next_one", kind=w.kind_in_sentence(kind), first=parts[0])


def partner_label(partner: PartnerCard, w: Words = ENGLISH) -> str:
    """The partner's name, or only that they have not agreed: nothing else about them."""
    return partner.name if partner.consented else w("unagreed")


def _turned_off(partner: PartnerCard, w: Words) -> str:
    return "; ".join(
        w("turned_off_by", kind=w.kind_in_sentence(kind), who=by or w("their_partner"))
        for kind, by in sorted(partner.turned_off.items())
    )


def partner_preview(partner: PartnerCard, w: Words = ENGLISH) -> str:
    """One plain sentence: when this partner is next nudged, in their own zone."""
    if not partner.consented:
        return w("preview_unagreed")
    times = [(kind, t) for kind, t in sorted(partner.next_at.items()) if t]
    off = _turned_off(partner, w)
    if not times:
        text = w("preview_nothing", name=partner.name)
        return f"{text} {off[0].upper()}{off[1:]}." if off else text
    parts = [_times_sentence(kind, t, partner.zone, w) for kind, t in times]
    text = w(
        "preview_times",
        name=partner.name,
        zone=partner.zone,
        times="; ".join([*parts, off] if off else parts),
    )
    if partner.paused:
        text += " " + w("preview_paused", name=partner.name)
    return text


def previews(card: CoupleCard, w: Words = ENGLISH) -> list[str]:
    """The preview sentence of each partner, in the couple's order."""
    return [partner_preview(p, w) for p in card.partners]


def couple_name(card: CoupleCard, w: Words = ENGLISH) -> str:
    """The couple as the therapist knows them: "Couple 12: Maya & Jonas"."""
    names = " & ".join(p.name if p.consented else w("unagreed_in_list") for p in card.partners)
    if names:
        return w("couple_named", id=card.couple_id, names=names)
    return w("couple", id=card.couple_id)


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


def adherence_chart(
    weeks: Sequence[WeekCounts], w: Words = ENGLISH, width: int = 320, height: int = 150
) -> Chart:
    """Lay out the adherence counts as bars; the numbers are also in a table beside it."""
    top, bottom, side = 14.0, 22.0, 4.0
    baseline = height - bottom
    peak = max([1, *(getattr(week, key) for week in weeks for key, _ in SERIES_COLOURS)])
    group = (width - 2 * side) / max(len(weeks), 1)
    bar_width = group * 0.8 / len(SERIES_COLOURS)
    bars: list[Bar] = []
    labels: list[AxisLabel] = []
    for index, week in enumerate(weeks):
        left = side + index * group + group * 0.1
        day = w.date(week.week_start, "day_month")
        for position, (key, colour) in enumerate(SERIES_COLOURS):
            value = int(getattr(week, key))
            bar_height = (baseline - top) * value / peak
            bars.append(
                Bar(
                    round(left + position * bar_width, 1),
                    round(baseline - bar_height, 1),
                    round(bar_width - 1, 1),
                    round(bar_height, 1),
                    colour,
                    w(f"bar_{key}", day=day, n=value),
                )
            )
        labels.append(AxisLabel(round(left + group * 0.4, 1), day))
    totals = {key: sum(int(getattr(week, key)) for week in weeks) for key, _ in SERIES_COLOURS}
    summary = w(
        "chart_summary",
        weeks=_count(len(weeks), "week", w),
        delivered=_count(totals["delivered"], "nudge", w),
        snoozed=totals["snoozed"],
        checkins=_count(totals["checkins_done"], "checkin", w),
    )
    return Chart(width, height, baseline, top, peak, tuple(bars), tuple(labels), summary)


# --- the practice overview -------------------------------------------------------------


class Sort(StrEnum):
    """How the overview is ordered (the `sort` query parameter)."""

    ATTENTION = "attention"
    CODE = "code"
    LAST = "last"


def sort_labels(w: Words = ENGLISH) -> list[tuple[str, str]]:
    """The overview's orders: the `sort` value and its name."""
    return [(sort.value, w(f"sort_{sort.value}")) for sort in Sort]


MAX_QUERY_CHARS = 40


def client_label(couple_id: int, client_code: str | None, w: Words = ENGLISH) -> str:
    """The couple's client code, or "Couple 12" until the therapist gives it one."""
    return client_code or w("couple", id=couple_id)


def plan_week(plan_starts_on: dt.date | None, today: dt.date) -> int | None:
    """The plan's week today (1 in the first week), or None before it starts or without one."""
    if plan_starts_on is None or today < plan_starts_on:
        return None
    return (today - plan_starts_on).days // 7 + 1


def attention(row: PracticeRow, today: dt.date, w: Words = ENGLISH) -> list[str]:
    """What the therapist may want to look at, in plain words; empty when all is well."""
    if row.ended_at is not None:
        return [w("attention_ended", date=w.date(row.ended_at))]
    found = []
    states = [p.state for p in row.partners]
    if PartnerState.NOT_AGREED in states:
        found.append(w("attention_consent"))
    if PartnerState.LEFT in states:
        found.append(w("attention_left"))
    for partner in row.partners:
        if partner.state is PartnerState.PAUSED:
            found.append(w("attention_paused", name=partner.name))
    week = plan_week(row.plan_starts_on, today)
    start = row.plan_starts_on
    if week is None and start is not None and (start - today).days < 7:
        week = 1  # the plan itself starts this week
    starting = sorted(
        w.kind(str(step["kind"])) for step in row.plan if week and step["from_week"] == week
    )
    if starting:
        found.append(w("attention_starts", kinds=", ".join(starting)))
    return found


def plan_text(row: PracticeRow, today: dt.date, w: Words = ENGLISH) -> str:
    """The plan in a few words: "Week 3 of a plan", "Starts 30 Nov", or "No plan"."""
    if row.ended_at is not None:
        return "-"
    if not row.plan:
        return w("plan_text_none")
    week = plan_week(row.plan_starts_on, today)
    if week is None:
        start = row.plan_starts_on
        return (
            w("plan_text_starts", date=w.date(start, "day_month"))
            if start
            else w("plan_text_no_start")
        )
    last = max(int(step["from_week"]) for step in row.plan)
    if week < last:
        return w("plan_text_week_until", week=week, last=last)
    return w("plan_text_week", week=week)


@dataclass(frozen=True, slots=True)
class Sparkline:
    """Eight weeks of answered nudges as a tiny line, with the numbers in its title."""

    width: int
    height: int
    points: str
    dots: tuple[tuple[float, float], ...]
    summary: str


def sparkline(
    weeks: Sequence[Engagement], w: Words = ENGLISH, width: int = 96, height: int = 24
) -> Sparkline:
    """Lay out the answered counts of each week as a polyline (no script, no library)."""
    peak = max([1, *(week.answered for week in weeks)])
    step = (width - 4) / max(len(weeks) - 1, 1)
    dots = tuple(
        (round(2 + i * step, 1), round(height - 2 - (height - 4) * week.answered / peak, 1))
        for i, week in enumerate(weeks)
    )
    summary = w("spark", counts=", ".join(str(week.answered) for week in weeks))
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


def overview_line(row: PracticeRow, today: dt.date, w: Words = ENGLISH) -> OverviewLine:
    """What the overview says about one couple."""
    partners = []
    for index, partner in enumerate(row.partners, start=1):
        who = partner.name if partner.name and row.names else w("partner_n", n=index)
        state = partner.state.value
        partners.append((who, w(f"state_{state}"), state))
    last = row.last_delivered
    return OverviewLine(
        couple_id=row.couple_id,
        label=client_label(row.couple_id, row.client_code, w),
        names=" & ".join(row.names) if row.names else None,
        linked=row.ended_at is None,
        plan=plan_text(row, today, w),
        partners=tuple(partners),
        last_delivered=w.date(last) if last else w("none_yet"),
        last_sort=last,
        this_week=row.weeks[-1],
        spark=sparkline(row.weeks, w),
        attention=tuple(attention(row, today, w)),
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


def days_text(days: Sequence[int], w: Words = ENGLISH) -> str:
    """Weekdays in a few letters: "every day", "Sun", "Tue and Thu", "Mon, Wed and Fri"."""
    if len(days) == 7:
        return w("every_day")
    short = weekday_names(w.code, "abbreviated")
    names = [short[d] for d in sorted(days)]
    if len(names) == 1:
        return names[0]
    return w("days_and", first=", ".join(names[:-1]), last=names[-1])


def control_schedule(control: Control, partner_zone: str, w: Words = ENGLISH) -> str:
    """The schedule in force, in 24-hour time: "every day at 22:30", "Sun at 19:00"."""
    if not control.at:
        return w("not_scheduled")
    days = days_text(control.days, w)
    text = w("days_at", days=days[:1].upper() + days[1:], time=control.at)
    if control.window:
        text += w("spread_over", minutes=control.window)
    if control.zone and control.zone != partner_zone:
        text += w("zone_time", zone=control.zone)
    return text


def control_owner(control: Control, w: Words = ENGLISH) -> str:
    """Who set it, as the therapist reads it: "Set by you", "Changed by Maya: 22:30"."""
    if control.set_by is SetBy.YOU:
        return w("set_by_you")
    if control.set_by is SetBy.OTHER_THERAPIST:
        return w("set_by_other")
    if control.set_by is SetBy.PARTNER:
        return w("changed_by", who=control.by or w("the_couple"), time=control.at)
    if control.set_by is SetBy.TURNED_OFF:
        return w("turned_off_by_owner", who=control.by or w("their_partner"))
    return w("not_running")


def own_choices(card: CoupleCard, w: Words = ENGLISH) -> list[str]:
    """The practices where a partner's own choice stands, for the note before saving."""
    found = []
    for partner in card.partners:
        for control in partner.controls:
            kind = w.kind_in_sentence(control.kind)
            if control.set_by is SetBy.PARTNER:
                found.append(w("own_choice_time", name=partner.name, kind=kind, time=control.at))
            elif control.set_by is SetBy.TURNED_OFF:
                found.append(w("own_choice_off", name=partner.name, kind=kind))
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


def export_lines(rows: Sequence[ExportRow], w: Words = ENGLISH) -> list[ExportLine]:
    """The export's lines, by client and week."""
    return [
        ExportLine(
            client_label(row.couple_id, row.client_code, w),
            row.week_start,
            w.kind(row.kind),
            row.delivered,
            row.answered,
            row.snoozed,
            row.ignored,
        )
        for row in rows
    ]


def export_csv(rows: Sequence[ExportRow]) -> str:
    """The export as CSV text (RFC 4180, via the csv module): ISO dates, and the same
    columns and (English) practice names whatever the dashboard's language, so a
    spreadsheet built on one export reads the next."""
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


def sandbox_reason(code: str, params: Mapping[str, str | int], w: Words = ENGLISH) -> str:
    """Why the template sandbox refused a wording (`bot.prompt_sandbox.Refusal`), in `w`'s
    language: the refused construct or formatting problem filled in, and the line first."""
    phrases = w.phrases

    def phrase(key: str, fallback: str) -> str:
        return phrases.get(key, phrases[fallback])

    what = why = ""
    if "construct" in params:
        what = phrase(f"sandbox_construct_{params['construct']}", "sandbox_construct_other")
        what = what.format(**params)
    if "problem" in params:
        why = phrase(f"sandbox_problem_{params['problem']}", "sandbox_problem_other")
        why = why.format(**params)
    text = phrase(f"sandbox_{code}", "sandbox_other").format(what=what, why=why, **params)
    line = params.get("line")
    return w("sandbox_at_line", line=line, reason=text) if line else text
