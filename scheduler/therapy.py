"""What a therapist sets and sees, over `storage.therapists`: plans, times and cards.

A therapist's choices live on the link (`TherapistLink.config` and `.plan`); this module
turns them into ordinary schedule rows marked `set_by="therapist"`, places their next
fire times with the pure rules, and describes each couple with the next five times in
each partner's own zone. Only partners whose consent stands are touched or shown.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from scheduler import phases
from scheduler.rules import EVERY_DAY, QuietHours, next_fire_at, parse_hhmm, upcoming
from scheduler.schedules import rule_of, view
from storage import Session, notices
from storage import therapists as accounts
from storage.couples import couple_of, members
from storage.models import (
    NIGHTLY_APPRECIATION,
    TIMING_TIP,
    WEEKLY_CHECKIN,
    Couple,
    Person,
    Schedule,
    TherapistLink,
)
from storage.practice import plan_template
from storage.schedules import delete_schedule, find_schedule, new_schedule, weekdays_mask
from storage.therapists import (
    DEFAULT_CONFIG,
    PLAN_KINDS,
    Agreed,
    TherapistError,
    consenting_people,
    link_of,
    links_of,
    plan_links,
    schedules_for,
)
from storage.wording import CONFIG_KEYS

TIP_DAYS = phases.TIP_DAYS


def agree(session: Session, raw: str, person_id: int, now: dt.datetime) -> Agreed:
    """A partner agrees to a therapist's link; the therapist's schedules then apply.

    What starts reaching them because of it is owed to them as a notice.
    """
    couple = couple_of(session, person_id)
    consenting: set[int] = set()
    every_weeks = 1
    if couple is not None:
        offer_link = accounts.link_for_token(session, raw, couple.id)
        if offer_link is not None:
            consenting = {p.id for p in consenting_people(session, offer_link)}
            every_weeks = _every_weeks(offer_link)
    before = _receiving(session, couple.id, consenting, every_weeks) if couple is not None else {}
    agreed = accounts.agree(session, raw, person_id, now)
    apply_link(session, session.get_one(TherapistLink, agreed.link_id), now, before=before)
    return agreed


def _editable_link(session: Session, therapist_id: int, couple_id: int) -> TherapistLink:
    link = link_of(session, therapist_id, couple_id)
    if link is None:
        raise TherapistError("not_linked")
    return link


class SetBy(StrEnum):
    """Who decides a practice's schedule for a partner, as the couple page says it."""

    YOU = "you"  # this therapist's setting applies
    OTHER_THERAPIST = "other_therapist"
    PARTNER = "partner"  # the partner (or the couple) chose their own time
    TURNED_OFF = "turned_off"  # a partner turned it off; their choice stands
    NOT_RUNNING = "not_running"  # nothing scheduled: not in this week's plan, or paused


@dataclass(frozen=True, slots=True)
class Control:
    """One practice for one partner: the schedule in force and who set it.

    `at` is the local time ("22:30") in `zone`, `days` the weekdays (0 = Monday); `by` is
    the consenting partner who changed or turned it off ("" when that was a partner who
    has not agreed, or the couple together).
    """

    kind: str
    set_by: SetBy
    by: str = ""
    at: str = ""
    days: tuple[int, ...] = ()
    window: int = 0
    zone: str = ""


@dataclass(frozen=True, slots=True)
class PartnerCard:
    """One partner as their therapist sees them.

    A partner who has not agreed (or no longer agrees) is only that: `consented` False,
    `person_id` 0, no name, zone, pause state or times.
    """

    person_id: int
    name: str
    zone: str
    consented: bool
    paused: bool
    next_times: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Practices a partner turned off themselves: kind -> who ("" when that was a partner
    # who has not agreed to the link). Their choice; nothing the therapist sets undoes it.
    turned_off: dict[str, str] = field(default_factory=dict)
    # Per practice a therapist can set, in PLAN_KINDS order: what is in force, and whose.
    controls: tuple[Control, ...] = ()
    # The same next times as aware UTC instants, for pages that write them in their own
    # language (the dashboard, through Babel).
    next_at: dict[str, tuple[dt.datetime, ...]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CoupleCard:
    couple_id: int
    link_id: int
    partners: tuple[PartnerCard, ...]
    plan: list[dict[str, Any]]
    plan_starts_on: dt.date | None
    config: dict[str, Any]
    checkins_completed: int
    # The therapist's own code for the couple (set on the dashboard), if any.
    client_code: str | None = None


def _card(session: Session, link: TherapistLink, now: dt.datetime) -> CoupleCard:
    couple = session.get_one(Couple, link.couple_id)
    consenting = {p.id: p for p in consenting_people(session, link)}
    partners = []
    for person in members(session, couple.id):
        if person.id not in consenting:
            # What the pairing offer promised: nothing about them reaches the therapist.
            partners.append(PartnerCard(0, "", "", consented=False, paused=False))
            continue
        next_times: dict[str, tuple[str, ...]] = {}
        next_at: dict[str, tuple[dt.datetime, ...]] = {}
        turned_off: dict[str, str] = {}
        controls: dict[str, Control] = {}
        # Only the practices a therapist can set: the path for one is the partner's own.
        for schedule in schedules_for(session, person, couple.id):
            if schedule.kind not in PLAN_KINDS:
                continue
            if schedule.next_fire_at is not None:
                next_at[schedule.kind] = _next_five_at(schedule)
                next_times[schedule.kind] = _next_five(schedule, person.timezone or "UTC")
            elif schedule.set_by == "person":
                by = consenting.get(schedule.turned_off_by_id or schedule.person_id or 0)
                turned_off[schedule.kind] = by.display_name if by is not None else ""
            controls[schedule.kind] = _control(schedule, link, consenting)
        partners.append(
            PartnerCard(
                person.id,
                person.display_name,
                person.timezone or "UTC",
                True,
                person.paused_at is not None or person.stopped_at is not None,
                next_times,
                turned_off,
                tuple(controls.get(kind, Control(kind, SetBy.NOT_RUNNING)) for kind in PLAN_KINDS),
                next_at,
            )
        )
    return CoupleCard(
        couple.id,
        link.id,
        tuple(partners),
        list(link.plan or []),
        link.plan_starts_on,
        {**DEFAULT_CONFIG, **(link.config or {})},
        couple.checkins_completed,
        link.client_code,
    )


def _control(schedule: Schedule, link: TherapistLink, consenting: dict[int, Person]) -> Control:
    """Who decides this schedule, and what it is."""
    rule = rule_of(schedule)
    running = schedule.next_fire_at is not None
    if schedule.set_by == "therapist":
        set_by = SetBy.YOU if schedule.therapist_id == link.therapist_id else SetBy.OTHER_THERAPIST
        by = ""
    else:
        set_by = SetBy.PARTNER if running else SetBy.TURNED_OFF
        who = consenting.get(
            (schedule.turned_off_by_id if not running else None) or schedule.person_id or 0
        )
        by = who.display_name if who is not None else ""
    if not running and set_by is not SetBy.TURNED_OFF:
        return Control(schedule.kind, SetBy.NOT_RUNNING)
    if not running:
        return Control(schedule.kind, set_by, by)
    return Control(
        schedule.kind,
        set_by,
        by,
        rule.local_time.strftime("%H:%M"),
        tuple(sorted(rule.weekdays)),
        rule.window_minutes,
        rule.zone,
    )


def _next_five_at(schedule: Schedule) -> tuple[dt.datetime, ...]:
    if schedule.next_fire_at is None:
        return ()
    return (schedule.next_fire_at, *upcoming(rule_of(schedule), schedule.next_fire_at, 4))


def _next_five(schedule: Schedule, zone: str) -> tuple[str, ...]:
    if schedule.next_fire_at is None:
        return ()
    tz = ZoneInfo(zone)
    rest = upcoming(rule_of(schedule), schedule.next_fire_at, 4)
    return tuple(
        t.astimezone(tz).strftime("%a %d %b %H:%M") for t in [schedule.next_fire_at, *rest]
    )


def couples_of(session: Session, therapist_id: int, now: dt.datetime) -> list[CoupleCard]:
    links = links_of(session, therapist_id)
    return [_card(session, link, now) for link in links]


def couple_for(
    session: Session, therapist_id: int, couple_id: int, now: dt.datetime
) -> CoupleCard | None:
    """One couple, only if it is linked to this therapist (else None: not found)."""
    link = link_of(session, therapist_id, couple_id)
    return _card(session, link, now) if link is not None else None


def _hhmm(value: Any) -> dt.time:
    try:
        return parse_hhmm(str(value))
    except ValueError as exc:
        # The therapist-facing reasons are still English sentences (issue 13 moves them
        # into the dashboard's templates as codes).
        raise TherapistError("hhmm") from exc


def configure(
    session: Session, therapist_id: int, couple_id: int, changes: dict[str, Any], now: dt.datetime
) -> CoupleCard:
    """Change times, frequency, per-partner nightly time, or the pause; then apply them.

    `changes` may hold: nightly_time, nightly_window (0-180), checkin_day (0-6),
    checkin_time, tips_per_week (0, 1, 2, 3 or 7), tips_time, paused (bool), and
    override: {person_id: nightly_time} for a partner whose evening differs.
    """
    link = _editable_link(session, therapist_id, couple_id)
    config = {**DEFAULT_CONFIG, **(link.config or {})}
    nightly, checkin, tips = dict(config["nightly"]), dict(config["checkin"]), dict(config["tips"])
    overrides = dict(config.get("overrides") or {})
    if "nightly_time" in changes:
        nightly["time"] = _hhmm(changes["nightly_time"]).strftime("%H:%M")
    if "nightly_window" in changes:
        window = int(changes["nightly_window"])
        if not 0 <= window <= 180:
            raise TherapistError("window")
        nightly["window"] = window
    if "checkin_day" in changes:
        day = int(changes["checkin_day"])
        if not 0 <= day <= 6:
            raise TherapistError("weekday")
        checkin["day"] = day
    if "checkin_time" in changes:
        checkin["time"] = _hhmm(changes["checkin_time"]).strftime("%H:%M")
    if "tips_per_week" in changes:
        per_week = int(changes["tips_per_week"])
        if per_week not in (0, *TIP_DAYS):
            raise TherapistError("tips")
        tips["per_week"] = per_week
    if "tips_time" in changes:
        tips["time"] = _hhmm(changes["tips_time"]).strftime("%H:%M")
    if "paused" in changes:
        config["paused"] = bool(changes["paused"])
    for person_id, value in (changes.get("override") or {}).items():
        partner_ids = {p.id for p in members(session, couple_id)}
        if int(person_id) not in partner_ids:
            raise TherapistError("not_linked")
        if value:
            overrides[str(int(person_id))] = _hhmm(value).strftime("%H:%M")
        else:
            overrides.pop(str(int(person_id)), None)
    link.config = {
        **config,
        "nightly": nightly,
        "checkin": checkin,
        "tips": tips,
        "overrides": overrides,
    }
    for key in CONFIG_KEYS.values():  # a therapist's own wording, per prompt kind
        if key in changes:
            link.config = {**link.config, key: changes[key] or None}
    apply_link(session, link, now)
    return _card(session, link, now)


def set_plan(
    session: Session,
    therapist_id: int,
    couple_id: int,
    plan: list[dict[str, Any]],
    starts_on: dt.date,
    now: dt.datetime,
) -> CoupleCard:
    """A practice plan over weeks, e.g. nightly from week 1, check-in from week 3.

    A step may also end: `to_week` (inclusive), so a plan is a list of phases such as
    nightly weeks 1 to 8, check-in from week 3, tips weeks 5 to 8.
    """
    link = _editable_link(session, therapist_id, couple_id)
    link.plan, link.plan_starts_on = clean_plan(plan), starts_on
    apply_link(session, link, now)
    return _card(session, link, now)


def clean_plan(plan: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Checked phases (`scheduler.phases`): a practice each, weeks 1 to 52, an end (if any)
    not before the start, a frequency of that practice, and a partner ("a", "b") or both.

    Raises `TherapistError` (a `PhaseError`) with a reason the therapist can act on.
    """
    return phases.clean_phases(plan)


def step_runs(step: dict[str, Any], week: int) -> bool:
    """Whether a plan step is on in this week of the plan."""
    return phases.runs(step, week)


def apply_template(
    session: Session,
    therapist_id: int,
    template_id: int,
    couple_ids: list[int],
    starts_on: dt.date,
    now: dt.datetime,
) -> list[CoupleCard]:
    """Give several couples a therapist's named plan, all from the same first week.

    All or nothing: a couple not linked to this therapist refuses the whole request.
    Each consenting partner is owed a notice of what starts or stops for them.
    """
    template = plan_template(session, therapist_id, template_id)
    if template is None or not couple_ids:
        raise TherapistError("not_linked")
    return [
        set_plan(session, therapist_id, couple_id, list(template.steps), starts_on, now)
        for couple_id in sorted(set(couple_ids))
    ]


def _week(link: TherapistLink, now: dt.datetime) -> int:
    return phases.plan_week(link.plan_starts_on, now.date())


def _letters(session: Session, couple_id: int) -> dict[int, phases.Partner]:
    """Partner "a" and "b" of a couple: the first and the second to have joined it."""
    return dict(zip((p.id for p in members(session, couple_id)), phases.PARTNERS, strict=False))


def _wanted(
    link: TherapistLink, now: dt.datetime, partner: phases.Partner | None
) -> dict[str, phases.Frequency]:
    """The practices the plan switches on this week for one partner, with how often.

    All of them (every day, weekly, the couple's tips setting) if there is no plan;
    nothing while the therapist paused the couple.
    """
    config = {**DEFAULT_CONFIG, **(link.config or {})}
    if config.get("paused"):
        return {}
    tips_setting = int(config["tips"]["per_week"])
    if not link.plan:
        wanted = {
            NIGHTLY_APPRECIATION: phases.Frequency(),
            WEEKLY_CHECKIN: phases.Frequency(),
        }
        if tips_setting:
            wanted[TIMING_TIP] = phases.Frequency(per_week=tips_setting)
        return wanted
    week = _week(link, now)
    wanted = {}
    for kind in PLAN_KINDS:
        step = phases.phase_now(link.plan, kind, week, partner)
        if step is not None:
            wanted[kind] = phases.frequency(step)
    tips = wanted.get(TIMING_TIP)
    if tips is not None and tips.per_week is None:
        if tips_setting:
            wanted[TIMING_TIP] = phases.Frequency(per_week=tips_setting)
        else:
            del wanted[TIMING_TIP]  # the couple's tips are off, and the phase says no more
    return wanted


# (on, local time, weekdays, window, zone, wording, every how many weeks, next fire time)
Received = tuple[bool, dt.time, int, int, str, str | None, int, dt.datetime | None]
# The parts a partner is told about when they change (not the next fire time).
_TOLD = slice(0, 7)
# Night for a phase notice in the partner's zone, on top of their own quiet hours.
NOTICE_NIGHT = QuietHours(dt.time(21, 30), dt.time(8, 0))


def _every_weeks(link: TherapistLink) -> int:
    """How often the therapist's check-in comes, as last applied (1: weekly, 2: every other)."""
    return int((link.config or {}).get("checkin_every") or 1)


def _receiving(
    session: Session, couple_id: int, consenting: set[int], every_weeks: int = 1
) -> dict[int, dict[tuple[str, bool], Received]]:
    """What each partner receives of the practices a therapist can set, by (kind, shared).

    A therapist's schedule reaches only partners in `consenting`.
    """
    result: dict[int, dict[tuple[str, bool], Received]] = {}
    for person in members(session, couple_id):
        got: dict[tuple[str, bool], Received] = {}
        for s in schedules_for(session, person, couple_id):
            if s.kind not in PLAN_KINDS:
                continue
            if s.set_by == "therapist" and person.id not in consenting:
                continue
            therapists_checkin = s.set_by == "therapist" and s.kind == WEEKLY_CHECKIN
            got[(s.kind, s.couple_id is not None)] = (
                s.next_fire_at is not None,
                s.local_time,
                s.weekdays,
                s.window_minutes,
                s.zone,
                s.custom_template,
                every_weeks if therapists_checkin else 1,
                s.next_fire_at,
            )
        result[person.id] = got
    return result


def _owe_notices(
    session: Session,
    link: TherapistLink,
    before: dict[int, dict[tuple[str, bool], Received]],
    now: dt.datetime,
    *,
    phase: bool = False,
) -> None:
    """Each consenting partner is owed a word about every practice that changed for them.

    With `phase` (the hourly plan step: a new phase began), the word says what the practice
    becomes and waits for a sensible hour in the partner's zone (`phase_notice_at`); a
    partner paused until further notice is not told (their pause wins).
    """
    consenting = {p.id: p for p in consenting_people(session, link)}
    after = _receiving(session, link.couple_id, set(consenting), _every_weeks(link))
    for person_id, person in consenting.items():
        was, now_gets = before.get(person_id, {}), after.get(person_id, {})
        for key in sorted(set(was) | set(now_gets)):
            old, new = was.get(key), now_gets.get(key)
            on_before, on_after = bool(old and old[0]), bool(new and new[0])
            if on_before and on_after and old is not None and new is not None:
                if old[_TOLD] == new[_TOLD]:
                    continue
                if phase and _without_wording(old) == _without_wording(new):
                    continue
                change = notices.Change.CHANGED
            elif on_after:
                change = notices.Change.STARTED
            elif on_before:
                change = notices.Change.STOPPED
            else:
                continue
            next_at = new[7] if new is not None and on_after else None
            if not phase:
                notices.schedule_changed(
                    session, person_id, key[0], change, next_at, link.therapist_id, now
                )
                continue
            if person.paused_at is not None and person.paused_until is None:
                continue
            notices.phase_started(
                session,
                person_id,
                key[0],
                change,
                next_at,
                link.therapist_id,
                now,
                send_after=phase_notice_at(person, now),
                detail=_detail(session, person, link.couple_id, key, new)
                if on_after and new
                else {},
            )


def _without_wording(got: Received) -> tuple[Any, ...]:
    """What a partner is told of, but the wording: a new phase that changes only the words
    is not announced (the prompt itself shows them), only one that changes when or how often."""
    on, at, days, window, zone, _wording, every, _next = got
    return (on, at, days, window, zone, every)


def phase_notice_at(person: Person, now: dt.datetime) -> dt.datetime:
    """When a phase notice may reach this partner: now, or after their pause, quiet hours
    and night in their own zone (`phases.sensible_hour`)."""
    start, end = person.quiet_start, person.quiet_end
    quiet = None
    if start is not None and end is not None and start != end:
        quiet = QuietHours(start, end)
    return phases.sensible_hour(
        now,
        person.timezone or "UTC",
        quiet=quiet,
        night=NOTICE_NIGHT,
        paused_until=person.paused_until if person.paused_at is not None else None,
    )


def _detail(
    session: Session, person: Person, couple_id: int, key: tuple[str, bool], got: Received
) -> dict[str, Any]:
    """What a practice is now, as the partner reads it: weekdays and time in their zone."""
    kind, shared = key
    schedule = (
        find_schedule(session, couple_id=couple_id, kind=kind)
        if shared
        else find_schedule(session, person_id=person.id, kind=kind)
    )
    if schedule is None:
        return {}
    shown = view(schedule, count=1, zone=person.timezone or schedule.zone)
    return {"days": list(shown.weekdays), "time": shown.local_time, "every_weeks": got[6]}


def apply_link(
    session: Session,
    link: TherapistLink,
    now: dt.datetime,
    *,
    before: dict[int, dict[tuple[str, bool], Received]] | None = None,
    phase: bool = False,
) -> None:
    """Make the therapist's schedule rows match the config and this week of the plan.

    Only for partners whose consent stands; a partner's own schedule of a kind (set_by
    "person") is theirs, and the therapist's does not replace it; nor does it undo a
    partner's own "off". Whatever this changes for a consenting partner is owed to them
    as a notice (`before`: what they received before, if not what they receive now);
    `phase`: the change is a plan's new phase (see `_owe_notices`).
    """
    if before is None:
        before = _receiving(
            session,
            link.couple_id,
            {p.id for p in consenting_people(session, link)},
            _every_weeks(link),
        )
    _apply(session, link, now)
    session.flush()
    _owe_notices(session, link, before, now, phase=phase)


def _apply(session: Session, link: TherapistLink, now: dt.datetime) -> None:
    config = {**DEFAULT_CONFIG, **(link.config or {})}
    letters = _letters(session, link.couple_id)
    active = link.ended_at is None
    for person in consenting_people(session, link):
        wanted = _wanted(link, now, letters.get(person.id)) if active else {}
        zone = person.timezone or "UTC"
        overrides = config.get("overrides") or {}
        nightly_time = overrides.get(str(person.id)) or config["nightly"]["time"]
        nightly, tips = wanted.get(NIGHTLY_APPRECIATION), wanted.get(TIMING_TIP)
        tip_days = phases.TIP_DAYS.get(tips.per_week or 0, frozenset({2})) if tips else EVERY_DAY
        plans = {
            NIGHTLY_APPRECIATION: (
                nightly_time if nightly else None,
                nightly.days if nightly else EVERY_DAY,
                int(config["nightly"]["window"]),
            ),
            TIMING_TIP: (config["tips"]["time"] if tips else None, tip_days, 0),
        }
        week, letter = _week(link, now), letters.get(person.id)
        for kind, (at, days, window) in plans.items():
            # A running phase's own wording, else the couple's (`phases.wording`).
            step = phases.phase_now(link.plan, kind, week, letter) if link.plan else None
            _set_person_schedule(
                session,
                link,
                person,
                kind,
                zone,
                at,
                days,
                window,
                now,
                custom=phases.wording(step, config.get(CONFIG_KEYS[kind])),
            )
    checkin: Mapping[str, Any] | None = None
    if active and WEEKLY_CHECKIN in _wanted(link, now, None):
        checkin = (
            phases.phase_now(link.plan, WEEKLY_CHECKIN, _week(link, now), None)
            if link.plan
            else {"kind": WEEKLY_CHECKIN, "from_week": 1}
        )
    _set_couple_checkin(session, link, config, checkin, now)


def _set_person_schedule(
    session: Session,
    link: TherapistLink,
    person: Person,
    kind: str,
    zone: str,
    at: str | None,
    days: frozenset[int],
    window: int,
    now: dt.datetime,
    custom: str | None = None,
) -> None:
    schedule = find_schedule(session, person_id=person.id, kind=kind)
    if schedule is not None and schedule.set_by != "therapist":
        return  # the partner's own choice keeps the last word
    if at is None:
        if schedule is not None:
            delete_schedule(session, schedule)
        return
    if schedule is None:
        schedule = new_schedule(session, person_id=person.id, kind=kind, now=now)
    local = _hhmm(at)
    changed = (schedule.local_time, schedule.weekdays, schedule.window_minutes, schedule.zone) != (
        local,
        weekdays_mask(days),
        window,
        zone,
    )
    schedule.local_time, schedule.weekdays, schedule.window_minutes = (
        local,
        weekdays_mask(days),
        window,
    )
    schedule.zone, schedule.set_by, schedule.therapist_id = zone, "therapist", link.therapist_id
    schedule.custom_template = custom
    schedule.updated_at = now
    if changed or schedule.next_fire_at is None:
        schedule.next_fire_at = next_fire_at(rule_of(schedule), now)


def _set_couple_checkin(
    session: Session,
    link: TherapistLink,
    config: dict[str, Any],
    step: Mapping[str, Any] | None,
    now: dt.datetime,
) -> None:
    """The couple's check-in as the therapist set it, while a phase (`step`) has it on.

    Every other week: the rule stays weekly and its next time is placed in the next week
    the phase has its turn (the hourly plan step moves it on after each one fires).
    """
    every = int(step.get("every_weeks") or 1) if step is not None else 1
    if _every_weeks(link) != every:
        link.config = {**(link.config or {}), "checkin_every": every}
    schedule = find_schedule(session, couple_id=link.couple_id, kind=WEEKLY_CHECKIN)
    if schedule is not None and schedule.set_by != "therapist":
        return  # the couple agreed their own time
    if step is None:
        if schedule is not None:
            delete_schedule(session, schedule)
        return
    consenting = consenting_people(session, link)
    if not consenting:
        return
    zone = consenting[0].timezone or "UTC"
    if schedule is None:
        schedule = new_schedule(session, couple_id=link.couple_id, kind=WEEKLY_CHECKIN, now=now)
    local = _hhmm(config["checkin"]["time"])
    days = frozenset({int(config["checkin"]["day"])})
    changed = (schedule.local_time, schedule.weekdays, schedule.zone) != (
        local,
        weekdays_mask(days),
        zone,
    )
    schedule.local_time, schedule.weekdays, schedule.window_minutes = local, weekdays_mask(days), 0
    schedule.zone, schedule.set_by, schedule.therapist_id = zone, "therapist", link.therapist_id
    schedule.custom_template = phases.wording(step, config.get(CONFIG_KEYS[WEEKLY_CHECKIN]))
    schedule.updated_at = now

    def has_turn(instant: dt.datetime) -> bool:
        day = instant.astimezone(ZoneInfo(zone)).date()
        return phases.has_turn(step, phases.plan_week(link.plan_starts_on, day))

    due = schedule.next_fire_at
    if changed or due is None or (every > 1 and due > now and not has_turn(due)):
        at = next_fire_at(rule_of(schedule), now)
        # A weekly rule: the next week with a turn is at most two occurrences away.
        for _ in range(2):
            if every == 1 or has_turn(at):
                break
            at = next_fire_at(rule_of(schedule), at)
        schedule.next_fire_at = at


def apply_plans(session: Session, now: dt.datetime) -> int:
    """Follow every active plan to this week (run by the dispatcher, hourly)."""
    links = plan_links(session)
    for link in links:
        apply_link(session, link, now, phase=True)
    return len(links)
