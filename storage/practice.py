"""A therapist's whole practice at a glance: one row per linked couple, and weekly counts.

Counts only, in a constant number of queries however many couples there are: the links,
their members, the consents, then deliveries aggregated per person and week in SQL. A
partner is counted, named or described only while their consent to this therapist stands;
of anyone else the overview says only "not yet agreed" or "left". Nothing here reads what
partners wrote (appreciations, invitations, answers): only delivery statuses and the kind
of response (snoozed or not) are aggregated.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import Integer, and_, case, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from storage.models import (
    CoupleMember,
    Delivery,
    Person,
    PlanTemplate,
    TherapistConsent,
    TherapistLink,
    WeeklyCount,
)
from storage.therapists import PLAN_KINDS, TherapistError

# How long an ended link stays on the overview, so the therapist notices it ended.
ENDED_SHOWN_FOR = dt.timedelta(days=30)
OVERVIEW_WEEKS = 8
MAX_EXPORT_WEEKS = 53
CLIENT_CODE_MAX = 24
_CLIENT_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._-]{0,23}")
# A response that means the partner answered the nudge (anything but a snooze).
SNOOZED = "snoozed"
SENT = "sent"


class PartnerState(StrEnum):
    """Where a partner stands with this therapist's link."""

    ACTIVE = "active"
    PAUSED = "paused"  # paused or stopped the bot themselves
    NOT_AGREED = "not_agreed"  # has not (yet) agreed to the link
    LEFT = "left"  # withdrew their consent, or left the couple


@dataclass(frozen=True, slots=True)
class PartnerStatus:
    """One partner on the overview: their state, and their name only while consent stands."""

    state: PartnerState
    name: str | None


@dataclass(frozen=True, slots=True)
class Engagement:
    """What became of the nudges due in one week: counts only."""

    week_start: dt.date
    delivered: int = 0
    answered: int = 0
    snoozed: int = 0
    ignored: int = 0


@dataclass(frozen=True, slots=True)
class PracticeRow:
    """One couple on the overview."""

    couple_id: int
    client_code: str | None
    ended_at: dt.datetime | None
    plan: list[dict[str, Any]]
    plan_starts_on: dt.date | None
    partners: tuple[PartnerStatus, ...]
    # Only when every partner's consent stands (and so they agreed to be shown by name).
    names: tuple[str, ...] | None
    last_delivered: dt.date | None
    weeks: tuple[Engagement, ...]  # oldest first; the last is this week


def monday_of(day: dt.date) -> dt.date:
    """The Monday of the week `day` is in."""
    return day - dt.timedelta(days=day.weekday())


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), dt.UTC)


def _weekly(
    session: Session, person_ids: Iterable[int], first_monday: dt.date, weeks: int
) -> dict[tuple[int, str, int], list[int]]:
    """Per (person, kind, week index): [delivered, answered, snoozed, ignored], from the
    deliveries still stored plus what purged ones left in `weekly_counts`.

    Week buckets are UTC Mondays, as the rest of the adherence counts are. One query: the
    bucket is a CASE over the week boundaries, grouped in an outer query (PostgreSQL does
    not see two bound copies of the same CASE as one grouping expression).
    """
    ids = sorted(set(person_ids))
    if not ids:
        return {}
    starts = [_midnight(first_monday + dt.timedelta(weeks=i)) for i in range(weeks)]
    end = _midnight(first_monday + dt.timedelta(weeks=weeks))
    bucket = case(
        *((Delivery.due_at >= start, index) for index, start in reversed(list(enumerate(starts)))),
        else_=-1,
    )

    def flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
        return case((condition, 1), else_=0).cast(Integer)

    sent = Delivery.status == SENT
    inner = (
        select(
            Delivery.person_id.label("person_id"),
            Delivery.kind.label("kind"),
            bucket.label("week"),
            flag(sent).label("delivered"),
            flag(and_(sent, Delivery.response.is_not(None), Delivery.response != SNOOZED)).label(
                "answered"
            ),
            flag(and_(sent, Delivery.response == SNOOZED)).label("snoozed"),
            flag(and_(sent, Delivery.response.is_(None))).label("ignored"),
        )
        .where(
            Delivery.person_id.in_(ids),
            Delivery.kind.in_(PLAN_KINDS),
            Delivery.due_at >= starts[0],
            Delivery.due_at < end,
        )
        .subquery()
    )
    rows = session.execute(
        select(
            inner.c.person_id,
            inner.c.kind,
            inner.c.week,
            func.sum(inner.c.delivered),
            func.sum(inner.c.answered),
            func.sum(inner.c.snoozed),
            func.sum(inner.c.ignored),
        ).group_by(inner.c.person_id, inner.c.kind, inner.c.week)
    ).all()
    found = {
        (int(person), str(kind), int(week)): [int(d or 0), int(a or 0), int(s or 0), int(i or 0)]
        for person, kind, week, d, a, s, i in rows
        if int(week) >= 0
    }
    # What deliveries already purged by retention counted (storage.retention).
    kept = session.execute(
        select(
            WeeklyCount.person_id,
            WeeklyCount.kind,
            WeeklyCount.week_start,
            WeeklyCount.delivered,
            WeeklyCount.answered,
            WeeklyCount.snoozed,
            WeeklyCount.ignored,
        ).where(
            WeeklyCount.person_id.in_(ids),
            WeeklyCount.kind.in_(PLAN_KINDS),
            WeeklyCount.week_start >= first_monday,
            WeeklyCount.week_start < first_monday + dt.timedelta(weeks=weeks),
        )
    )
    for person, kind, week_start, delivered, answered, snoozed, ignored in kept:
        total = found.setdefault((person, kind, (week_start - first_monday).days // 7), [0] * 4)
        total[0] += delivered
        if answered is None or ignored is None:  # kept before migration 0013: no split
            total[2] += snoozed
            continue
        # `snoozed` there counts snoozes whatever the delivery's status (for adherence);
        # here only delivered ones count, which is what is left of delivered.
        total[1] += answered
        total[2] += delivered - answered - ignored
        total[3] += ignored
    return found


@dataclass(frozen=True, slots=True)
class _Member:
    couple_id: int
    person_id: int
    name: str
    paused: bool


def _links(session: Session, therapist_id: int, now: dt.datetime) -> list[TherapistLink]:
    """Active links, and links that ended lately for couples with no active link."""
    links = session.scalars(
        select(TherapistLink)
        .where(
            TherapistLink.therapist_id == therapist_id,
            or_(
                TherapistLink.ended_at.is_(None),
                TherapistLink.ended_at >= now - ENDED_SHOWN_FOR,
            ),
        )
        .order_by(TherapistLink.created_at, TherapistLink.id)
    ).all()
    chosen: dict[int, TherapistLink] = {}
    for link in links:
        held = chosen.get(link.couple_id)
        if held is None or held.ended_at is not None:
            chosen[link.couple_id] = link  # active wins; else the latest to end
    return list(chosen.values())


def overview(
    session: Session, therapist_id: int, now: dt.datetime, weeks: int = OVERVIEW_WEEKS
) -> list[PracticeRow]:
    """Every couple linked to this therapist (and lately unlinked), oldest link first."""
    links = _links(session, therapist_id, now)
    if not links:
        return []
    couple_ids = [link.couple_id for link in links]
    members: dict[int, list[_Member]] = defaultdict(list)
    for couple_id, person_id, name, paused_at, paused_until, stopped_at in session.execute(
        select(
            CoupleMember.couple_id,
            Person.id,
            Person.display_name,
            Person.paused_at,
            Person.paused_until,
            Person.stopped_at,
        )
        .join(Person, Person.id == CoupleMember.person_id)
        .where(CoupleMember.couple_id.in_(couple_ids))
        .order_by(CoupleMember.couple_id, CoupleMember.id)
    ):
        paused = paused_at is not None and (paused_until is None or paused_until > now)
        members[couple_id].append(_Member(couple_id, person_id, name, paused or bool(stopped_at)))
    consents: dict[tuple[int, int], bool] = {}  # (link, person) -> consent stands
    for link_id, person_id, withdrawn_at in session.execute(
        select(
            TherapistConsent.link_id, TherapistConsent.person_id, TherapistConsent.withdrawn_at
        ).where(TherapistConsent.link_id.in_([link.id for link in links]))
    ):
        consents[(link_id, person_id)] = withdrawn_at is None

    consenting: dict[int, list[int]] = {}
    for link in links:
        consenting[link.couple_id] = [
            m.person_id
            for m in members[link.couple_id]
            if link.ended_at is None and consents.get((link.id, m.person_id))
        ]
    today = now.date()
    first_monday = monday_of(today) - dt.timedelta(weeks=weeks - 1)
    counts = _weekly(session, (p for ids in consenting.values() for p in ids), first_monday, weeks)
    last = _last_delivered(session, [p for ids in consenting.values() for p in ids])

    rows = []
    for link in links:
        rows.append(
            _row(
                link,
                members[link.couple_id],
                consents,
                consenting[link.couple_id],
                counts,
                last,
                first_monday,
                weeks,
            )
        )
    return rows


def _row(
    link: TherapistLink,
    members: Sequence[_Member],
    consents: dict[tuple[int, int], bool],
    consenting: Sequence[int],
    counts: dict[tuple[int, str, int], list[int]],
    last: dict[int, dt.datetime],
    first_monday: dt.date,
    weeks: int,
) -> PracticeRow:
    partners: list[PartnerStatus] = []
    for member in members:
        consent = consents.get((link.id, member.person_id))
        if link.ended_at is not None or consent is False:
            partners.append(PartnerStatus(PartnerState.LEFT, None))
        elif consent is None:
            partners.append(PartnerStatus(PartnerState.NOT_AGREED, None))
        elif member.paused:
            partners.append(PartnerStatus(PartnerState.PAUSED, member.name))
        else:
            partners.append(PartnerStatus(PartnerState.ACTIVE, member.name))
    while len(partners) < 2:  # a partner who left the couple (or erased their data)
        partners.append(PartnerStatus(PartnerState.LEFT, None))
    both = len(consenting) == len(members) == 2 and link.ended_at is None
    week_counts = []
    for index in range(weeks):
        total = [0, 0, 0, 0]
        for person in consenting:
            for kind in PLAN_KINDS:
                for i, value in enumerate(counts.get((person, kind, index), ())):
                    total[i] += value
        week_counts.append(Engagement(first_monday + dt.timedelta(weeks=index), *total))
    delivered = [last[p] for p in consenting if p in last]
    return PracticeRow(
        couple_id=link.couple_id,
        client_code=link.client_code,
        ended_at=link.ended_at,
        plan=list(link.plan or []) if link.ended_at is None else [],
        plan_starts_on=link.plan_starts_on if link.ended_at is None else None,
        partners=tuple(partners),
        names=tuple(m.name for m in members) if both else None,
        last_delivered=max(delivered).date() if delivered else None,
        weeks=tuple(week_counts),
    )


def _last_delivered(session: Session, person_ids: Sequence[int]) -> dict[int, dt.datetime]:
    if not person_ids:
        return {}
    rows = session.execute(
        select(Delivery.person_id, func.max(Delivery.sent_at))
        .where(
            Delivery.person_id.in_(sorted(set(person_ids))),
            Delivery.kind.in_(PLAN_KINDS),
            Delivery.status == SENT,
        )
        .group_by(Delivery.person_id)
    ).all()
    # Through the column type, so SQLite's naive values come back aware.
    return {
        int(person): at if at.tzinfo else at.replace(tzinfo=dt.UTC)
        for person, at in rows
        if isinstance(at, dt.datetime)
    }


# --- export -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExportRow:
    """One couple, week and practice: counts only."""

    couple_id: int
    client_code: str | None
    week_start: dt.date
    kind: str
    delivered: int
    answered: int
    snoozed: int
    ignored: int


def export_weeks(first: dt.date, last: dt.date) -> tuple[dt.date, int]:
    """The Monday the range starts on and how many weeks it spans (at most 53).

    Raises `TherapistError("range")` when `last` is before `first` or the range is longer.
    """
    start = monday_of(first)
    weeks = (monday_of(last) - start).days // 7 + 1
    if last < first or weeks > MAX_EXPORT_WEEKS:
        raise TherapistError("range")
    return start, weeks


def engagement(
    session: Session, therapist_id: int, first: dt.date, last: dt.date
) -> list[ExportRow]:
    """Weekly counts per couple and practice for the weeks `first`..`last` touch.

    Only couples linked now, and only partners whose consent stands now: a partner who
    withdrew takes their counts with them.
    """
    start, weeks = export_weeks(first, last)
    links = list(
        session.scalars(
            select(TherapistLink)
            .where(TherapistLink.therapist_id == therapist_id, TherapistLink.ended_at.is_(None))
            .order_by(TherapistLink.created_at, TherapistLink.id)
        )
    )
    if not links:
        return []
    people: dict[int, list[int]] = defaultdict(list)
    for link_id, person_id in session.execute(
        select(TherapistConsent.link_id, TherapistConsent.person_id)
        .join(CoupleMember, CoupleMember.person_id == TherapistConsent.person_id)
        .join(TherapistLink, TherapistLink.id == TherapistConsent.link_id)
        .where(
            TherapistConsent.link_id.in_([link.id for link in links]),
            TherapistConsent.withdrawn_at.is_(None),
            CoupleMember.couple_id == TherapistLink.couple_id,
        )
    ):
        people[link_id].append(person_id)
    counts = _weekly(session, (p for ids in people.values() for p in ids), start, weeks)
    rows = []
    for link in links:
        for index in range(weeks):
            for kind in PLAN_KINDS:
                total = [0, 0, 0, 0]
                for person in people[link.id]:
                    for i, value in enumerate(counts.get((person, kind, index), ())):
                        total[i] += value
                rows.append(
                    ExportRow(
                        link.couple_id,
                        link.client_code,
                        start + dt.timedelta(weeks=index),
                        kind,
                        *total,
                    )
                )
    return rows


# --- client codes --------------------------------------------------------------------------


def set_client_code(session: Session, therapist_id: int, couple_id: int, code: str) -> str | None:
    """Give a linked couple the therapist's own code, or clear it with an empty one.

    Raises `TherapistError` with reason "not_linked", "code_format" (1 to 24 letters,
    digits, spaces, dots, dashes or underscores, starting with a letter or digit) or
    "code_taken" (another of this therapist's couples has it, in any case).
    """
    link = session.scalar(
        select(TherapistLink).where(
            TherapistLink.therapist_id == therapist_id,
            TherapistLink.couple_id == couple_id,
            TherapistLink.ended_at.is_(None),
        )
    )
    if link is None:
        raise TherapistError("not_linked")
    clean = " ".join(code.split())
    if not clean:
        link.client_code = None
        return None
    if not _CLIENT_CODE.fullmatch(clean):
        raise TherapistError("code_format")
    taken = session.scalar(
        select(func.count())
        .select_from(TherapistLink)
        .where(
            TherapistLink.therapist_id == therapist_id,
            TherapistLink.ended_at.is_(None),
            TherapistLink.id != link.id,
            func.lower(TherapistLink.client_code) == clean.lower(),
        )
    )
    if taken:
        raise TherapistError("code_taken")
    link.client_code = clean
    return clean


# --- plan templates -------------------------------------------------------------------------

TEMPLATE_NAME_MAX = 60


def plan_templates(session: Session, therapist_id: int) -> list[PlanTemplate]:
    """A therapist's named plans, by name."""
    return list(
        session.scalars(
            select(PlanTemplate)
            .where(PlanTemplate.therapist_id == therapist_id)
            .order_by(func.lower(PlanTemplate.name), PlanTemplate.id)
        )
    )


def plan_template(session: Session, therapist_id: int, template_id: int) -> PlanTemplate | None:
    """One of this therapist's named plans (None for anyone else's)."""
    return session.scalar(
        select(PlanTemplate).where(
            PlanTemplate.id == template_id, PlanTemplate.therapist_id == therapist_id
        )
    )


def save_plan_template(
    session: Session,
    therapist_id: int,
    name: str,
    steps: list[dict[str, Any]],
    now: dt.datetime,
) -> PlanTemplate:
    """Store a named plan (steps already checked by the caller).

    Raises `TherapistError` "template_name" (1 to 60 characters) or "template_taken".
    """
    clean = " ".join(name.split())
    if not 1 <= len(clean) <= TEMPLATE_NAME_MAX:
        raise TherapistError("template_name")
    taken = session.scalar(
        select(func.count())
        .select_from(PlanTemplate)
        .where(
            PlanTemplate.therapist_id == therapist_id,
            func.lower(PlanTemplate.name) == clean.lower(),
        )
    )
    if taken:
        raise TherapistError("template_taken")
    template = PlanTemplate(therapist_id=therapist_id, name=clean, steps=steps, created_at=now)
    session.add(template)
    session.flush()
    return template
