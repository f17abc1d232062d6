"""Plans in phases (a practice from week N to week M) and named plan templates applied to
several couples at once, through the domain and the dashboard."""

from __future__ import annotations

import datetime as dt
import html
import re
from html.parser import HTMLParser

import httpx
import pytest
from markupsafe import escape
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dashboard import phases as phases_view
from dashboard.security import MAX_FORM_FIELDS
from scheduler import therapy
from storage import notices, therapists
from storage import practice as practice_store
from storage.db import Database
from storage.models import (
    NIGHTLY_APPRECIATION,
    TIMING_TIP,
    WEEKLY_CHECKIN,
    Notice,
    Schedule,
    TherapistLink,
)
from storage.therapists import TherapistError
from tests.dashboard.conftest import Practice, _pair, _person, _therapist, seed_crowd, sign_in
from tests.support.bot import FakeClock

THREE_PHASES = {
    "name": "Eight weeks, three phases",
    "nightly_appreciation": "1",
    "nightly_appreciation_to": "8",
    "weekly_checkin": "3",
    "weekly_checkin_to": "",
    "timing_tip": "5",
    "timing_tip_to": "8",
}


def _kinds(db: Database, practice: Practice) -> set[str]:
    ours = (practice.maya_id, practice.jonas_id)
    return set(
        db.call(
            lambda s: s.scalars(
                select(Schedule.kind).where(
                    (Schedule.person_id.in_(ours)) | (Schedule.couple_id == practice.couple_id),
                    Schedule.next_fire_at.is_not(None),
                )
            ).all()
        )
    )


def _plan(db: Database, couple_id: int) -> list[dict[str, object]] | None:
    return db.call(
        lambda s: s.scalars(
            select(TherapistLink.plan).where(
                TherapistLink.couple_id == couple_id, TherapistLink.ended_at.is_(None)
            )
        ).one()
    )


def test_a_phase_stops_after_its_last_week(
    db: Database, clock: FakeClock, practice: Practice
) -> None:
    db.call(
        therapy.set_plan,
        practice.therapist_id,
        practice.couple_id,
        [
            {"kind": NIGHTLY_APPRECIATION, "from_week": 1, "to_week": 2},
            {"kind": WEEKLY_CHECKIN, "from_week": 2},
        ],
        clock().date() - dt.timedelta(weeks=1),  # this is week 2
        clock(),
    )
    assert _kinds(db, practice) == {NIGHTLY_APPRECIATION, WEEKLY_CHECKIN}

    clock.advance(weeks=1)  # week 3: the nightly phase has ended
    db.call(therapy.apply_plans, clock())

    assert _kinds(db, practice) == {WEEKLY_CHECKIN}
    stopped = db.call(
        lambda s: s.scalar(
            select(func.count())
            .select_from(Notice)
            .where(Notice.kind == NIGHTLY_APPRECIATION, Notice.change == "stopped")
        )
    )
    assert stopped == 2  # each partner is told


@pytest.mark.parametrize(
    "step",
    [
        {"kind": TIMING_TIP, "from_week": 5, "to_week": 4},
        {"kind": TIMING_TIP, "from_week": 5, "to_week": 53},
    ],
    ids=["ends-before-it-starts", "ends-after-week-52"],
)
def test_a_phase_must_end_within_the_year_and_not_before_it_starts(
    db: Database, clock: FakeClock, practice: Practice, step: dict[str, object]
) -> None:
    with pytest.raises(TherapistError):
        db.call(
            therapy.set_plan,
            practice.therapist_id,
            practice.couple_id,
            [step],
            clock().date(),
            clock(),
        )


async def test_a_phase_set_on_the_couple_page_is_shown_with_its_last_week(
    client: httpx.AsyncClient, db: Database, clock: FakeClock, practice: Practice
) -> None:
    csrf = await sign_in(client, db, practice.therapist_id, clock)
    couple = f"/couples/{practice.couple_id}"

    saved = await client.post(
        f"{couple}/plan",
        data={"csrf": csrf, "timing_tip": "1", "timing_tip_to": "4", "starts_on": "2026-11-23"},
    )
    refused = await client.post(
        f"{couple}/plan",
        data={"csrf": csrf, "timing_tip": "5", "timing_tip_to": "2", "starts_on": "2026-11-23"},
    )

    assert saved.status_code == 303
    assert _plan(db, practice.couple_id) == [{"kind": TIMING_TIP, "from_week": 1, "to_week": 4}]
    page = (await client.get(couple)).text
    assert "Timing tip in weeks 1 to 4." in page
    assert 'id="timing_tip_to" name="timing_tip_to"' in page and 'value="4"' in page
    assert refused.status_code == 400
    assert 'id="timing_tip_to-error">A last week must be from the first week to 52' in (
        refused.text
    )


async def test_a_three_phase_template_applied_to_two_couples(
    client: httpx.AsyncClient, db: Database, clock: FakeClock, practice: Practice
) -> None:
    crowd = db.call(seed_crowd, practice.therapist_id, clock(), 6)
    csrf = await sign_in(client, db, practice.therapist_id, clock)
    notices_before = db.call(lambda s: s.scalar(select(func.count()).select_from(Notice)))

    made = await client.post("/plans", data={"csrf": csrf, **THREE_PHASES})
    templates = db.call(practice_store.plan_templates, practice.therapist_id)
    applied = await client.post(
        f"/plans/{templates[0].id}/apply",
        data={
            "csrf": csrf,
            "couple": [str(practice.couple_id), str(crowd.quiet[0])],
            "starts_on": "2026-11-23",
        },
    )

    assert made.status_code == 303 and made.headers["location"] == "/plans?saved=1"
    assert [t.name for t in templates] == ["Eight weeks, three phases"]
    assert applied.status_code == 303 and applied.headers["location"] == "/plans?applied=2"
    expected = [
        {"kind": NIGHTLY_APPRECIATION, "from_week": 1, "to_week": 8},
        {"kind": WEEKLY_CHECKIN, "from_week": 3},
        {"kind": TIMING_TIP, "from_week": 5, "to_week": 8},
    ]
    assert _plan(db, practice.couple_id) == expected
    assert _plan(db, crowd.quiet[0]) == expected
    assert _plan(db, crowd.quiet[1]) is None  # not chosen
    # Week 1: only the nightly practice runs; the partners are told what stopped.
    assert _kinds(db, practice) == {NIGHTLY_APPRECIATION}
    notices_after = db.call(lambda s: s.scalar(select(func.count()).select_from(Notice)))
    assert notices_after > notices_before
    page = (await client.get("/plans?applied=2")).text
    assert "Plan applied to 2 couples." in page
    assert "Nightly appreciation in weeks 1 to 8." in page
    assert "Weekly check-in from week 3." in page
    assert "Timing tip in weeks 5 to 8." in page


async def test_applying_a_template_is_all_or_nothing(
    client: httpx.AsyncClient, db: Database, clock: FakeClock, practice: Practice
) -> None:
    csrf = await sign_in(client, db, practice.therapist_id, clock)
    await client.post("/plans", data={"csrf": csrf, **THREE_PHASES})
    template = db.call(practice_store.plan_templates, practice.therapist_id)[0]

    foreign = await client.post(
        f"/plans/{template.id}/apply",
        data={
            "csrf": csrf,
            "couple": [str(practice.couple_id), str(practice.other_couple_id)],
            "starts_on": "2026-11-23",
        },
    )
    none_chosen = await client.post(
        f"/plans/{template.id}/apply", data={"csrf": csrf, "starts_on": "2026-11-23"}
    )
    no_date = await client.post(
        f"/plans/{template.id}/apply",
        data={"csrf": csrf, "couple": str(practice.couple_id), "starts_on": "soon"},
    )
    forged = await client.post(
        f"/plans/{template.id}/apply",
        data={"csrf": "nope", "couple": str(practice.couple_id), "starts_on": "2026-11-23"},
    )

    assert foreign.status_code == 404
    assert _plan(db, practice.couple_id) is None
    assert none_chosen.status_code == 400
    assert f'id="couples-{template.id}-error">Choose at least one couple.' in none_chosen.text
    assert no_date.status_code == 400
    assert f'id="starts_on-{template.id}-error">Choose the date week 1' in no_date.text
    assert forged.status_code == 403
    assert _plan(db, practice.couple_id) is None


async def test_another_therapists_template_cannot_be_applied(
    client: httpx.AsyncClient, db: Database, clock: FakeClock, practice: Practice
) -> None:
    theirs = db.call(
        practice_store.save_plan_template,
        practice.other_therapist_id,
        "Theirs",
        [{"kind": WEEKLY_CHECKIN, "from_week": 1}],
        clock(),
    ).id
    csrf = await sign_in(client, db, practice.therapist_id, clock)

    response = await client.post(
        f"/plans/{theirs}/apply",
        data={"csrf": csrf, "couple": str(practice.couple_id), "starts_on": "2026-11-23"},
    )

    assert response.status_code == 404
    assert "Theirs" not in (await client.get("/plans")).text


@pytest.mark.parametrize(
    ("form", "field", "reason"),
    [
        ({"name": ""}, "name", "Give the template a name"),
        ({"name": "Same"}, "name", "You have a template with this name"),
        ({"name": "New", "weekly_checkin": "0"}, "weekly_checkin", "Each practice needs a week"),
        ({"name": "New", "timing_tip_to": "3"}, "timing_tip", "A last week needs a first week"),
        ({"name": "New", "weekly_checkin": ""}, "nightly_appreciation", "Choose at least one"),
    ],
    ids=["no-name", "same-name", "week-0", "end-without-start", "empty"],
)
async def test_a_template_that_cannot_be_saved_says_why_next_to_the_field(
    client: httpx.AsyncClient,
    db: Database,
    clock: FakeClock,
    practice: Practice,
    form: dict[str, str],
    field: str,
    reason: str,
) -> None:
    db.call(
        practice_store.save_plan_template,
        practice.therapist_id,
        "Same",
        [{"kind": WEEKLY_CHECKIN, "from_week": 1}],
        clock(),
    )
    csrf = await sign_in(client, db, practice.therapist_id, clock)
    data = {"csrf": csrf, "weekly_checkin": "2", **form}

    response = await client.post("/plans", data=data)

    assert response.status_code == 400
    assert f'<p class="field-error" id="{field}-error">{reason}' in response.text
    assert len(db.call(practice_store.plan_templates, practice.therapist_id)) == 1


# --- phases: how often, and for whom ---------------------------------------------------------


def _weekdays(db: Database, person_id: int, kind: str) -> int | None:
    return db.call(
        lambda s: s.scalar(
            select(Schedule.weekdays).where(
                Schedule.person_id == person_id,
                Schedule.kind == kind,
                Schedule.next_fire_at.is_not(None),
            )
        )
    )


async def test_a_phase_with_its_frequency_and_one_partner_is_saved_followed_and_shown(
    client: httpx.AsyncClient, db: Database, clock: FakeClock, practice: Practice
) -> None:
    csrf = await sign_in(client, db, practice.therapist_id, clock)
    couple = f"/couples/{practice.couple_id}"
    page = (await client.get(couple)).text
    # Maya joined first: partner A. Both agreed, so both are named.
    assert '<option value="a">Partner A: Maya</option>' in page
    assert '<option value="b">Partner B: Jonas</option>' in page

    saved = await client.post(
        f"{couple}/plan",
        data={
            "csrf": csrf,
            "nightly_appreciation": "1",
            "nightly_appreciation_to": "2",
            "nightly_appreciation_partner": "b",
            "nightly_appreciation_days": ["4", "0", "2"],
            "nightly_appreciation-2": "3",
            "nightly_appreciation-2_to": "8",
            "weekly_checkin": "2",
            "weekly_checkin_every": "2",
            "timing_tip": "1",
            "timing_tip_per_week": "3",
            "starts_on": "2026-11-23",
        },
    )

    assert saved.status_code == 303
    assert _plan(db, practice.couple_id) == [
        {
            "kind": NIGHTLY_APPRECIATION,
            "from_week": 1,
            "to_week": 2,
            "partner": "b",
            "days": [0, 2, 4],
        },
        {"kind": NIGHTLY_APPRECIATION, "from_week": 3, "to_week": 8},
        {"kind": WEEKLY_CHECKIN, "from_week": 2, "every_weeks": 2},
        {"kind": TIMING_TIP, "from_week": 1, "per_week": 3},
    ]
    # Week 1: only Jonas gets the nightly prompt, on Monday, Wednesday and Friday.
    assert _weekdays(db, practice.jonas_id, NIGHTLY_APPRECIATION) == 0b0010101
    assert _weekdays(db, practice.maya_id, NIGHTLY_APPRECIATION) is None
    assert _weekdays(db, practice.maya_id, TIMING_TIP) == 0b0010101  # three tips a week
    page = (await client.get(couple)).text
    assert (
        "Nightly appreciation in weeks 1 to 2.</strong> Only for Jonas, on Mon, Wed and Fri."
        in (page)
    )
    assert "Nightly appreciation in weeks 3 to 8.</strong> For both, every evening." in page
    assert "Weekly check-in from week 2.</strong> For both, every other week." in page
    assert "Timing tip from week 1.</strong> For both, three times a week." in page
    assert '<span class="tag now">this week</span>' in page
    assert "Started on Mon, 23 Nov 2026; this is week 1." in page
    # The editor is filled from the plan.
    assert 'name="nightly_appreciation_days" value="2" checked' in page
    assert 'name="nightly_appreciation_days" value="1">' in page
    assert '<option value="b" selected>Partner B: Jonas</option>' in page
    assert '<option value="2" selected>Every other week</option>' in page
    assert 'id="nightly_appreciation-2_to" name="nightly_appreciation-2_to"' in page

    clock.advance(weeks=2)  # week 3: both get it, every evening
    db.call(therapy.apply_plans, clock())
    assert _weekdays(db, practice.maya_id, NIGHTLY_APPRECIATION) == 0b1111111
    assert _weekdays(db, practice.jonas_id, NIGHTLY_APPRECIATION) == 0b1111111


@pytest.mark.parametrize(
    ("form", "field", "reason"),
    [
        ({"nightly_appreciation_days": "9"}, "nightly_appreciation_days", "Tick the evenings"),
        (
            {"weekly_checkin": "1", "weekly_checkin_every": "3"},
            "weekly_checkin_every",
            "The check-in comes every week or every other week.",
        ),
        (
            {"timing_tip": "1", "timing_tip_per_week": "5"},
            "timing_tip_per_week",
            "Tips can come 1, 2, 3 or 7 times a week",
        ),
        (
            {"nightly_appreciation_partner": "c"},
            "nightly_appreciation_partner",
            "Choose both partners, partner A or partner B.",
        ),
        (
            {"weekly_checkin": "1", "weekly_checkin_partner": "a"},
            "weekly_checkin",
            "The check-in is for both partners together.",
        ),
        (
            {"nightly_appreciation-2": "3"},
            "nightly_appreciation-2",
            "Two phases of a practice share a week for the same partner.",
        ),
        (
            {"nightly_appreciation-3_to": "3"},
            "nightly_appreciation-3",
            "A last week needs a first week too.",
        ),
    ],
    ids=[
        "day-9",
        "every-third-week",
        "five-tips",
        "partner-c",
        "check-in-for-one",
        "overlap",
        "third-phase-without-start",
    ],
)
async def test_a_phase_that_cannot_be_used_says_why_next_to_its_field_and_changes_nothing(
    client: httpx.AsyncClient,
    db: Database,
    clock: FakeClock,
    practice: Practice,
    form: dict[str, str],
    field: str,
    reason: str,
) -> None:
    csrf = await sign_in(client, db, practice.therapist_id, clock)
    data = {
        "csrf": csrf,
        "nightly_appreciation": "1",
        "nightly_appreciation_to": "4",
        "starts_on": "2026-11-23",
        **form,
    }

    response = await client.post(f"/couples/{practice.couple_id}/plan", data=data)

    assert response.status_code == 400
    assert f'<p class="field-error" id="{field}-error">{reason}' in response.text
    assert f'href="#{field}"' in response.text
    assert _plan(db, practice.couple_id) is None
    # What was typed is shown again.
    assert 'id="nightly_appreciation_to" name="nightly_appreciation_to"' in response.text
    assert 'value="4"' in response.text


async def test_a_template_keeps_each_phases_frequency_and_partner_for_every_couple(
    client: httpx.AsyncClient, db: Database, clock: FakeClock, practice: Practice
) -> None:
    crowd = db.call(seed_crowd, practice.therapist_id, clock(), 5)
    csrf = await sign_in(client, db, practice.therapist_id, clock)
    form = {
        "csrf": csrf,
        "name": "Jonas first",
        "nightly_appreciation": "1",
        "nightly_appreciation_to": "2",
        "nightly_appreciation_partner": "b",
        "nightly_appreciation_days": ["0", "2", "4"],
        "weekly_checkin": "3",
        "weekly_checkin_every": "2",
    }
    page = (await client.get("/plans")).text
    assert '<option value="b">Partner B</option>' in page  # no names on a template

    made = await client.post("/plans", data=form)
    template = db.call(practice_store.plan_templates, practice.therapist_id)[0]
    applied = await client.post(
        f"/plans/{template.id}/apply",
        data={
            "csrf": csrf,
            "couple": [str(practice.couple_id), str(crowd.quiet[0])],
            "starts_on": "2026-11-23",
        },
    )

    assert made.status_code == 303 and applied.status_code == 303
    expected = [
        {
            "kind": NIGHTLY_APPRECIATION,
            "from_week": 1,
            "to_week": 2,
            "partner": "b",
            "days": [0, 2, 4],
        },
        {"kind": WEEKLY_CHECKIN, "from_week": 3, "every_weeks": 2},
    ]
    assert template.steps == expected
    assert _plan(db, practice.couple_id) == expected and _plan(db, crowd.quiet[0]) == expected
    page = (await client.get("/plans")).text
    assert "Only for Partner B, on Mon, Wed and Fri." in page
    assert "Weekly check-in from week 3.</strong> For both, every other week." in page


def test_a_second_partner_agreeing_does_not_tell_the_first_their_fortnightly_check_in_changed(
    db: Database, clock: FakeClock
) -> None:
    def seed(session: Session) -> tuple[int, int, int, str]:
        now = clock()
        first = _person(session, 8001, "Rhea", "Europe/Berlin", now)
        second = _person(session, 8002, "Sol", "Europe/Berlin", now)
        couple_id = _pair(session, first, second, now)
        therapist_id = _therapist(session, "Dr Fort", 8101, now)
        raw = therapists.client_link(session, therapist_id, now)
        therapy.agree(session, raw, first, now)
        plan = [{"kind": WEEKLY_CHECKIN, "from_week": 1, "every_weeks": 2}]
        therapy.set_plan(session, therapist_id, couple_id, plan, now.date(), now)
        return first, second, couple_id, raw

    _, second, _, raw = db.call(seed)
    db.call(notices.take_owed, clock())  # what linking and the plan changed: told

    db.call(therapy.agree, raw, second, clock())
    owed = db.call(notices.take_owed, clock())

    told_first = [c.kind for o in owed for c in o.changes if o.chat_id == 8001]
    told_second = [c.kind for o in owed for c in o.changes if o.chat_id == 8002]
    assert WEEKLY_CHECKIN not in told_first
    assert WEEKLY_CHECKIN in told_second


def test_the_timeline_marks_each_phase_done_this_week_or_later() -> None:
    plan = [
        {"kind": TIMING_TIP, "from_week": 5},
        {"kind": NIGHTLY_APPRECIATION, "from_week": 1, "to_week": 2, "partner": "b"},
        {"kind": WEEKLY_CHECKIN, "from_week": 1, "to_week": 4, "every_weeks": 2},
    ]
    choices = (phases_view.PartnerChoice("a", "Maya"), phases_view.PartnerChoice("b", ""))

    week_4 = phases_view.timeline(plan, dt.date(2026, 11, 2), dt.date(2026, 11, 23), choices)
    before = phases_view.timeline(plan, dt.date(2026, 12, 7), dt.date(2026, 11, 23), choices)

    assert week_4.week == 4 and before.week is None
    # The fortnightly check-in's last turn was week 3: it is done in week 4.
    assert [(r.kind, r.state) for r in week_4.rows] == [
        (NIGHTLY_APPRECIATION, "done"),
        (WEEKLY_CHECKIN, "done"),
        (TIMING_TIP, "later"),
    ]
    assert {r.state for r in before.rows} == {"later"}
    assert week_4.rows[0].partner == "b" and week_4.rows[0].partner_name == ""


# --- a phase's own wording ---------------------------------------------------------------------

PHASE_WORDS = "This fortnight, {{ first_name }}: one small thing {{ partner_first_name }} did?"


def _custom_templates(db: Database, practice: Practice) -> set[str | None]:
    ours = (practice.maya_id, practice.jonas_id)
    return set(
        db.call(
            lambda s: s.scalars(
                select(Schedule.custom_template).where(
                    Schedule.person_id.in_(ours), Schedule.kind == NIGHTLY_APPRECIATION
                )
            ).all()
        )
    )


async def test_a_phases_own_wording_is_saved_used_for_its_weeks_and_shown_on_the_timeline(
    client: httpx.AsyncClient, db: Database, clock: FakeClock, practice: Practice
) -> None:
    csrf = await sign_in(client, db, practice.therapist_id, clock)
    data = {
        "csrf": csrf,
        "nightly_appreciation": "1",
        "nightly_appreciation_to": "2",
        "nightly_appreciation_wording": PHASE_WORDS + "\r\n",
        "nightly_appreciation-2": "3",
        "starts_on": clock().date().isoformat(),
    }

    response = await client.post(f"/couples/{practice.couple_id}/plan", data=data)

    assert response.status_code == 303
    assert _plan(db, practice.couple_id) == [
        {
            "kind": NIGHTLY_APPRECIATION,
            "from_week": 1,
            "to_week": 2,
            "wording": PHASE_WORDS + "\n",
        },
        {"kind": NIGHTLY_APPRECIATION, "from_week": 3},
    ]
    assert _custom_templates(db, practice) == {PHASE_WORDS + "\n"}
    page = (await client.get(f"/couples/{practice.couple_id}")).text
    assert page.count('<span class="tag">own wording</span>') == 1
    assert f">{escape(PHASE_WORDS)}\n</textarea>" in page
    # Week 3: the phase is over, and the couple's wording (the library's here) is back.
    db.call(therapy.apply_plans, clock() + dt.timedelta(weeks=2))
    assert _custom_templates(db, practice) == {None}


@pytest.mark.parametrize(
    ("words", "why"),
    [
        ("Read https://example.com first, {{ first_name }}", "link"),
        ("Hello {{ first_name ", "unexpected"),
        ("Hello {{ email }}", "Unknown variable 'email'"),
    ],
    ids=["a-link", "unclosed-tag", "unknown-variable"],
)
async def test_a_phase_wording_the_sandbox_refuses_is_shown_next_to_its_field_and_nothing_saved(
    client: httpx.AsyncClient,
    db: Database,
    clock: FakeClock,
    practice: Practice,
    words: str,
    why: str,
) -> None:
    csrf = await sign_in(client, db, practice.therapist_id, clock)
    data = {
        "csrf": csrf,
        "timing_tip": "2",
        "timing_tip_wording": words,
        "starts_on": "2026-11-23",
    }

    response = await client.post(f"/couples/{practice.couple_id}/plan", data=data)

    assert response.status_code == 400
    error = re.search(
        r'<p class="field-error" id="timing_tip_wording-error">(.*?)</p>', response.text, re.S
    )
    assert error is not None
    assert error.group(1).startswith("Nothing was changed. That wording cannot be used as it is.")
    assert why.casefold() in html.unescape(error.group(1)).casefold()
    assert 'href="#timing_tip_wording"' in response.text
    assert f">{escape(words)}</textarea>" in response.text
    assert _plan(db, practice.couple_id) is None


async def test_a_phase_wording_that_may_land_as_pressure_is_saved_only_once_confirmed(
    client: httpx.AsyncClient, db: Database, clock: FakeClock, practice: Practice
) -> None:
    csrf = await sign_in(client, db, practice.therapist_id, clock)
    words = "You never listen, {{ first_name }}. Tell {{ partner_first_name }} why."
    data = {
        "csrf": csrf,
        "weekly_checkin": "1",
        "weekly_checkin_wording": words,
        "starts_on": "2026-11-23",
    }

    unconfirmed = await client.post(f"/couples/{practice.couple_id}/plan", data=data)

    assert unconfirmed.status_code == 400
    assert 'id="weekly_checkin_wording-error">Nothing was changed. Some words may land' in (
        unconfirmed.text
    )
    assert 'name="confirm_tone" value="on"' in unconfirmed.text
    assert _plan(db, practice.couple_id) is None
    confirmed = await client.post(
        f"/couples/{practice.couple_id}/plan", data={**data, "confirm_tone": "on"}
    )
    assert confirmed.status_code == 303
    assert _plan(db, practice.couple_id) == [
        {"kind": WEEKLY_CHECKIN, "from_week": 1, "wording": words}
    ]


async def test_a_templates_phase_wording_is_checked_saved_and_given_to_each_couple(
    client: httpx.AsyncClient, db: Database, clock: FakeClock, practice: Practice
) -> None:
    csrf = await sign_in(client, db, practice.therapist_id, clock)
    refused = await client.post(
        "/plans",
        data={
            "csrf": csrf,
            "name": "Own words",
            "nightly_appreciation": "1",
            "nightly_appreciation_wording": "See www.example.com",
        },
    )
    assert refused.status_code == 400
    assert 'id="nightly_appreciation_wording-error">Nothing was changed.' in refused.text
    assert db.call(practice_store.plan_templates, practice.therapist_id) == []

    saved = await client.post(
        "/plans",
        data={
            "csrf": csrf,
            "name": "Own words",
            "nightly_appreciation": "1",
            "nightly_appreciation_wording": PHASE_WORDS,
        },
    )
    assert saved.status_code == 303
    [template] = db.call(practice_store.plan_templates, practice.therapist_id)
    assert list(template.steps) == [
        {"kind": NIGHTLY_APPRECIATION, "from_week": 1, "wording": PHASE_WORDS}
    ]
    assert '<span class="tag">own wording</span>' in (await client.get("/plans")).text


class _FormFields(HTMLParser):
    """Counts the fields a browser would send from each POST form, every box ticked."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, int]] = []
        self._open: list[str] | None = None
        self._count = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "form" and (found.get("method") or "").lower() == "post":
            self._open, self._count = [found.get("action") or ""], 0
        elif (
            self._open is not None and tag in ("input", "select", "textarea") and found.get("name")
        ):
            self._count += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self._open is not None:
            self.forms.append((self._open[0], self._count))
            self._open = None


async def test_every_form_with_every_phase_and_box_fits_what_the_dashboard_reads(
    client: httpx.AsyncClient, db: Database, clock: FakeClock, practice: Practice
) -> None:
    await sign_in(client, db, practice.therapist_id, clock)
    parser = _FormFields()
    for page in ("/plans", f"/couples/{practice.couple_id}"):
        answer = await client.get(page)
        assert answer.status_code == 200
        parser.feed(answer.text)
    biggest = max(count for _, count in parser.forms)
    assert biggest > 40  # the plan editors: three phases per practice, days, wording
    too_many = [(action, n) for action, n in parser.forms if n > MAX_FORM_FIELDS]
    assert not too_many, f"forms with more fields than the dashboard reads: {too_many}"
