"""The dashboard app through HTTP (httpx against the ASGI app), on SQLite and PostgreSQL.

Data is made with the domain functions (see conftest.py); every change the dashboard makes
is checked in the schedule rows it must (or must not) have touched.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import httpx
import pytest
from markupsafe import escape
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.applications import Starlette

from dashboard import COOKIE_NAME, create_app, login_url
from dashboard.i18n import format_when
from scheduler import therapy
from storage import dashboard_sessions, people, therapists
from storage.db import Database
from storage.models import (
    NIGHTLY_APPRECIATION,
    TIMING_TIP,
    WEEKLY_CHECKIN,
    Schedule,
    TherapistLink,
)
from tests.dashboard.conftest import (
    PUBLIC_URL,
    SECRETS,
    Practice,
    schedule_rows,
    sign_in,
)
from tests.support.bot import FakeClock

HHMM_ERROR = "Please use HH:MM, for example 21:00."


def _schedule_form(practice: Practice, csrf: str | None, **changes: str) -> dict[str, str]:
    form = {
        "nightly_time": "21:30",
        "nightly_window": "30",
        "checkin_day": "2",
        "checkin_time": "20:15",
        "tips_per_week": "3",
        "tips_time": "17:45",
        f"override_{practice.maya_id}": "",
        f"override_{practice.jonas_id}": "22:15",
    }
    if csrf is not None:
        form["csrf"] = csrf
    form.update(changes)
    return form


def _state(session: Session) -> tuple[Any, ...]:
    """Everything a dashboard POST could change: schedule rows and each link's settings."""
    links = session.scalars(select(TherapistLink).order_by(TherapistLink.id))
    return (
        schedule_rows(session),
        [(link.config, link.plan, link.plan_starts_on, link.ended_at) for link in links],
    )


def _schedule(session: Session, **where: Any) -> Schedule:
    return session.scalars(select(Schedule).filter_by(**where)).one()


def _assert_protective_headers(response: httpx.Response) -> None:
    assert response.headers["cache-control"] == "no-store"
    login = response.request.url.path.startswith("/login/")
    # No referrer to other sites anywhere; none at all from a URL that holds a token.
    assert response.headers["referrer-policy"] == ("no-referrer" if login else "same-origin")
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"


# --- signing in ----------------------------------------------------------------------------


async def test_a_one_time_link_signs_in_with_a_strict_httponly_cookie(
    client: httpx.AsyncClient, db: Database, clock: FakeClock, practice: Practice
) -> None:
    raw = db.call(therapists.login_link, practice.therapist_id, clock())

    response = await client.get(f"/login/{raw}")

    assert response.status_code == 303
    assert response.headers["location"] == "/"
    _assert_protective_headers(response)
    cookie = response.headers["set-cookie"]
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert cookie.startswith(f"{COOKIE_NAME}=")
    assert {"httponly", "secure", "path", "max-age"} <= attributes
    assert "samesite=strict" in cookie.lower()
    assert "path=/;" in cookie.lower() + ";"
    home = await client.get("/")
    assert home.status_code == 200
    assert "Dr Ana Ruiz" in home.text
    assert "Maya" in home.text and "Jonas" in home.text


def test_cookies_are_secure_only_behind_https_unless_told(db: Database, clock: FakeClock) -> None:
    def secure(app: Starlette) -> bool:
        return bool(app.state.dashboard.secure_cookies)

    assert secure(create_app(db, clock=clock, public_url="https://care.example.org"))
    assert not secure(create_app(db, clock=clock, public_url="http://127.0.0.1:8080"))
    assert secure(create_app(db, clock=clock, public_url="http://x.test", secure_cookies=True))
    with pytest.raises(ValueError, match="public_url"):
        create_app(db, clock=clock, public_url="care.example.org")


def test_login_url_is_built_from_the_public_url() -> None:
    assert login_url("https://care.example.org/", "abc") == "https://care.example.org/login/abc"


async def test_a_reused_login_link_is_refused(
    client: httpx.AsyncClient, db: Database, clock: FakeClock, practice: Practice
) -> None:
    raw = db.call(therapists.login_link, practice.therapist_id, clock())
    assert (await client.get(f"/login/{raw}")).status_code == 303
    client.cookies.clear()

    again = await client.get(f"/login/{raw}")

    assert again.status_code == 403
    assert "no longer valid" in again.text
    assert "/dashboard" in again.text
    assert "set-cookie" not in again.headers
    _assert_protective_headers(again)


async def test_an_expired_login_link_is_refused(
    client: httpx.AsyncClient, db: Database, clock: FakeClock, practice: Practice
) -> None:
    raw = db.call(therapists.login_link, practice.therapist_id, clock())
    clock.advance(minutes=10, seconds=1)

    response = await client.get(f"/login/{raw}")

    assert response.status_code == 403
    assert "no longer valid" in response.text
    assert "set-cookie" not in response.headers
    assert (await client.get("/")).status_code == 401


@pytest.mark.parametrize(
    "token",
    ["not-a-real-token", "x" * 500, "%00", "..%2F..%2Fetc"],
    ids=["made-up", "500-characters", "nul-byte", "path-traversal"],
)
async def test_an_unknown_login_link_is_refused(
    client: httpx.AsyncClient, practice: Practice, token: str
) -> None:
    response = await client.get(f"/login/{token}")

    assert response.status_code in (403, 404)
    assert "set-cookie" not in response.headers
    assert "Maya" not in response.text


async def test_a_link_checker_using_head_does_not_use_the_link_up(
    client: httpx.AsyncClient, db: Database, clock: FakeClock, practice: Practice
) -> None:
    raw = db.call(therapists.login_link, practice.therapist_id, clock())

    assert (await client.head(f"/login/{raw}")).status_code == 200
    assert (await client.get(f"/login/{raw}")).status_code == 303


async def test_a_revoked_therapist_is_signed_out(
    client: httpx.AsyncClient, db: Database, clock: FakeClock, practice: Practice, app: Starlette
) -> None:
    await sign_in(client, db, practice.therapist_id, clock)
    db.call(therapists.revoke, practice.therapist_id, clock())

    response = await client.get("/")

    assert response.status_code == 401
    assert "Maya" not in response.text
    assert db.call(dashboard_sessions.count_sessions, None) == 0


async def test_a_session_ends_after_eight_hours(
    client: httpx.AsyncClient, db: Database, clock: FakeClock, practice: Practice
) -> None:
    await sign_in(client, db, practice.therapist_id, clock)
    clock.advance(hours=7, minutes=59)
    assert (await client.get("/")).status_code == 200
    clock.advance(minutes=1)

    response = await client.get("/")

    assert response.status_code == 401
    assert "Maya" not in response.text


async def test_signing_in_drops_expired_sessions(
    client: httpx.AsyncClient, db: Database, clock: FakeClock, practice: Practice, app: Starlette
) -> None:
    for _ in range(3):
        client.cookies.clear()
        await sign_in(client, db, practice.therapist_id, clock)
    assert db.call(dashboard_sessions.count_sessions, None) == 3
    clock.advance(hours=9)
    client.cookies.clear()

    await sign_in(client, db, practice.therapist_id, clock)

    assert db.call(dashboard_sessions.count_sessions, None) == 1


# --- without a session ---------------------------------------------------------------------


@pytest.mark.parametrize("cookie", [None, "made-up-session-id"], ids=["no-cookie", "made-up"])
async def test_pages_without_a_session_show_no_data(
    client: httpx.AsyncClient, practice: Practice, cookie: str | None
) -> None:
    if cookie is not None:
        client.cookies.set(COOKIE_NAME, cookie)
    for path in ("/", f"/couples/{practice.couple_id}", f"/couples/{practice.other_couple_id}"):
        response = await client.get(path)

        assert response.status_code == 401, path
        assert "Send /dashboard to the bot" in response.text
        for name in ("Maya", "Jonas", "Kim", "Lee", "Dr Ana Ruiz"):
            assert name not in response.text
        _assert_protective_headers(response)


async def test_a_cross_site_arrival_without_the_cookie_reloads_once_from_the_same_site(
    client: httpx.AsyncClient, practice: Practice
) -> None:
    # Browsers withhold SameSite=Strict cookies from a navigation that began on another
    # site, even after our redirect; a same-site reload brings the cookie along.
    cross = await client.get("/", headers={"sec-fetch-site": "cross-site"})
    same = await client.get("/", headers={"sec-fetch-site": "same-origin"})

    assert cross.status_code == same.status_code == 401
    assert '<meta http-equiv="refresh" content="0">' in cross.text
    assert "http-equiv" not in same.text


# --- what a therapist sees -----------------------------------------------------------------


async def test_the_home_page_lists_couples_with_each_partners_state(
    client: httpx.AsyncClient, db: Database, clock: FakeClock, practice: Practice
) -> None:
    await sign_in(client, db, practice.therapist_id, clock)

    page = (await client.get("/")).text

    assert f'href="/couples/{practice.couple_id}"' in page
    assert "Maya &amp; Jonas" in page
    assert page.count('class="tag active">active') == 2
    assert "Kim" not in page and "Lee" not in page  # another therapist's couple


async def test_a_partner_who_has_not_agreed_shows_no_name_zone_or_times(
    client: httpx.AsyncClient, db: Database, clock: FakeClock, practice: Practice
) -> None:
    db.call(therapists.withdraw, practice.jonas_id, clock())
    await sign_in(client, db, practice.therapist_id, clock)

    home = (await client.get("/")).text
    page = (await client.get(f"/couples/{practice.couple_id}")).text

    assert 'Partner 2: <span class="tag left">left</span>' in home
    assert "Nothing you set reaches them, and nothing about them is shown here." in page
    for shown in (home, page):
        assert "Jonas" not in shown
        assert "America/New_York" not in shown  # the pairing offer promised this


async def test_the_couple_page_shows_names_next_times_and_adherence(
    client: httpx.AsyncClient, db: Database, clock: FakeClock, practice: Practice
) -> None:
    await sign_in(client, db, practice.therapist_id, clock)

    response = await client.get(f"/couples/{practice.couple_id}")

    page = response.text
    assert response.status_code == 200
    assert f"<h1>Couple {practice.couple_id}: Maya &amp; Jonas</h1>" in page
    assert "Europe/Berlin" in page and "America/New_York" in page
    card = db.call(therapy.couple_for, practice.therapist_id, practice.couple_id, clock())
    assert card is not None
    for partner in card.partners:
        for times in partner.next_at.values():
            assert len(times) == 5
            for at in times:
                assert f"<li>{format_when(at, partner.zone, 'en')}</li>" in page
    # 21:00 each in their own evening; the Sunday check-in is 19:00 in Berlin, 13:00 in NY.
    maya, jonas = card.partners
    assert maya.next_times[NIGHTLY_APPRECIATION][0] == "Mon 23 Nov 21:00"
    assert jonas.next_times[NIGHTLY_APPRECIATION][0] == "Mon 23 Nov 21:00"
    assert maya.next_times[WEEKLY_CHECKIN][0] == "Sun 29 Nov 19:00"
    assert jonas.next_times[WEEKLY_CHECKIN][0] == "Sun 29 Nov 13:00"
    # Adherence: per week delivered, snoozed, check-ins done (see conftest._history).
    for row in (
        ("5 Oct", 0, 0, 0),
        ("26 Oct", 4, 1, 0),
        ("2 Nov", 8, 2, 1),
        ("9 Nov", 11, 1, 1),
        ("16 Nov", 13, 3, 1),
        ("23 Nov", 0, 0, 0),
    ):
        assert "<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" in page
    assert '<svg class="chart"' in page
    assert "Over 8 weeks: 36 nudges delivered, 7 snoozed, 3 check-ins done." in page
    assert page.count("<rect x=") == 8 * 3


async def test_names_are_escaped(
    client: httpx.AsyncClient, db: Database, clock: FakeClock, practice: Practice
) -> None:
    db.call(people.set_name, practice.maya_id, '<i>Maya</i> "M"')
    await sign_in(client, db, practice.therapist_id, clock)

    for path in ("/", f"/couples/{practice.couple_id}"):
        page = (await client.get(path)).text
        assert "<i>Maya" not in page
        assert "&lt;i&gt;Maya&lt;/i&gt; &#34;M&#34;" in page


# --- changing the schedule -----------------------------------------------------------------


async def test_a_schedule_change_through_the_form_applies_and_is_confirmed(
    client: httpx.AsyncClient, db: Database, clock: FakeClock, practice: Practice
) -> None:
    csrf = await sign_in(client, db, practice.therapist_id, clock)

    response = await client.post(
        f"/couples/{practice.couple_id}/schedule", data=_schedule_form(practice, csrf)
    )

    assert response.status_code == 303
    assert response.headers["location"] == f"/couples/{practice.couple_id}?saved=schedule"
    maya = db.call(_schedule, person_id=practice.maya_id, kind=NIGHTLY_APPRECIATION)
    jonas = db.call(_schedule, person_id=practice.jonas_id, kind=NIGHTLY_APPRECIATION)
    checkin = db.call(_schedule, couple_id=practice.couple_id, kind=WEEKLY_CHECKIN)
    tips = db.call(_schedule, person_id=practice.maya_id, kind=TIMING_TIP)
    assert (maya.local_time, maya.window_minutes, maya.zone) == (
        dt.time(21, 30),
        30,
        "Europe/Berlin",
    )
    assert (jonas.local_time, jonas.zone) == (dt.time(22, 15), "America/New_York")
    assert (checkin.local_time, checkin.weekdays) == (dt.time(20, 15), 1 << 2)
    assert (tips.local_time, tips.weekdays) == (dt.time(17, 45), 0b10101)
    assert {maya.set_by, jonas.set_by, checkin.set_by} == {"therapist"}
    assert maya.next_fire_at == dt.datetime(2026, 11, 23, 20, 30, tzinfo=dt.UTC)

    page = (await client.get(response.headers["location"])).text
    assert "Schedule saved." in page
    assert "Maya (Europe/Berlin time): nightly appreciation next on Mon 23 Nov at 21:30" in page
    assert "Jonas (America/New_York time): nightly appreciation next on Mon 23 Nov at 22:15" in page
    assert 'value="22:15"' in page  # the form shows what is now set


async def test_pausing_through_the_form_stops_what_the_therapist_set(
    client: httpx.AsyncClient, db: Database, clock: FakeClock, practice: Practice
) -> None:
    csrf = await sign_in(client, db, practice.therapist_id, clock)

    response = await client.post(
        f"/couples/{practice.couple_id}/schedule",
        data=_schedule_form(practice, csrf, paused="on"),
    )

    assert response.status_code == 303
    ours = {practice.maya_id, practice.jonas_id}
    rows = db.call(schedule_rows)
    assert [r for r in rows if r[1] in ours or r[2] == practice.couple_id] == []
    assert rows  # the other therapist's couple keeps theirs
    page = (await client.get(response.headers["location"])).text
    assert "Nothing is scheduled for Maya at the moment." in page
    assert "checked" in page


@pytest.mark.parametrize("csrf", [None, "", "wrong-token"], ids=["missing", "empty", "wrong"])
async def test_a_post_without_the_right_csrf_token_is_refused_and_changes_nothing(
    client: httpx.AsyncClient,
    db: Database,
    clock: FakeClock,
    practice: Practice,
    csrf: str | None,
) -> None:
    await sign_in(client, db, practice.therapist_id, clock)
    before = db.call(_state)

    for path, form in (
        (f"/couples/{practice.couple_id}/schedule", _schedule_form(practice, csrf)),
        (f"/couples/{practice.couple_id}/plan", {"nightly_appreciation": "2", "csrf": csrf}),
        ("/logout", {"csrf": csrf}),
    ):
        response = await client.post(path, data={k: v for k, v in form.items() if v is not None})
        assert response.status_code == 403, path
        _assert_protective_headers(response)

    assert db.call(_state) == before
    assert (await client.get("/")).status_code == 200  # still signed in


async def test_another_sessions_csrf_token_does_not_work(
    client: httpx.AsyncClient, db: Database, clock: FakeClock, practice: Practice, app: Starlette
) -> None:
    await sign_in(client, db, practice.therapist_id, clock)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as other:
        their_csrf = await sign_in(other, db, practice.therapist_id, clock)
    before = db.call(_state)

    response = await client.post(
        f"/couples/{practice.couple_id}/schedule", data=_schedule_form(practice, their_csrf)
    )

    assert response.status_code == 403
    assert db.call(_state) == before


async def test_a_post_from_another_origin_is_refused_even_with_the_token(
    client: httpx.AsyncClient, db: Database, clock: FakeClock, practice: Practice
) -> None:
    csrf = await sign_in(client, db, practice.therapist_id, clock)
    before = db.call(_state)
    path, form = f"/couples/{practice.couple_id}/schedule", _schedule_form(practice, csrf)

    for origin in ("https://evil.example", "null", "http://care.example.org"):
        refused = await client.post(path, data=form, headers={"origin": origin})
        assert refused.status_code == 403, origin
    assert db.call(_state) == before

    allowed = await client.post(path, data=form, headers={"origin": PUBLIC_URL})
    assert allowed.status_code == 303


async def test_a_post_without_a_session_is_refused(
    client: httpx.AsyncClient, db: Database, practice: Practice
) -> None:
    before = db.call(_state)

    response = await client.post(
        f"/couples/{practice.couple_id}/schedule", data=_schedule_form(practice, "anything")
    )

    assert response.status_code == 401
    assert db.call(_state) == before


async def test_another_therapists_couple_is_not_found_and_unchanged(
    client: httpx.AsyncClient, db: Database, clock: FakeClock, practice: Practice
) -> None:
    csrf = await sign_in(client, db, practice.therapist_id, clock)
    before = db.call(_state)
    theirs, nobodys = practice.other_couple_id, 987654

    got = await client.get(f"/couples/{theirs}")
    missing = await client.get(f"/couples/{nobodys}")
    posts = [
        await client.post(f"/couples/{couple}/schedule", data=_schedule_form(practice, csrf))
        for couple in (theirs, nobodys)
    ] + [
        await client.post(
            f"/couples/{couple}/plan",
            data={"csrf": csrf, "nightly_appreciation": "1", "starts_on": "2026-11-23"},
        )
        for couple in (theirs, nobodys)
    ]

    assert got.status_code == missing.status_code == 404
    assert got.text == missing.text
    assert "Kim" not in got.text and "Lee" not in got.text
    assert [p.status_code for p in posts] == [404] * 4
    assert len({p.text for p in posts} | {got.text}) == 1
    assert db.call(_state) == before


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("nightly_time", "25:00", HHMM_ERROR),
        ("nightly_time", "", HHMM_ERROR),
        ("checkin_time", "7 o'clock", HHMM_ERROR),
        ("tips_per_week", "5", "Tips can be 0, 1, 2, 3 or 7 times a week."),
        ("tips_per_week", "many", "Tips can be 0, 1, 2, 3 or 7 times a week."),
        ("nightly_window", "181", "The delivery window must be 0 to 180 minutes."),
        ("nightly_window", "-5", "The delivery window must be 0 to 180 minutes."),
        ("nightly_window", "٣٠", "The delivery window must be 0 to 180 minutes."),
        ("checkin_day", "7", "Choose a weekday."),
        ("override_JONAS", "24:00", HHMM_ERROR),
    ],
    ids=[
        "nightly-at-25-00",
        "nightly-empty",
        "checkin-at-7pm",
        "tips-5-a-week",
        "tips-many",
        "window-181-minutes",
        "window-negative",
        "window-in-arabic-digits",
        "checkin-day-7",
        "override-at-24-00",
    ],
)
async def test_invalid_schedule_values_are_refused_with_the_reason_and_change_nothing(
    client: httpx.AsyncClient,
    db: Database,
    clock: FakeClock,
    practice: Practice,
    field: str,
    value: str,
    reason: str,
) -> None:
    csrf = await sign_in(client, db, practice.therapist_id, clock)
    field = field.replace("JONAS", str(practice.jonas_id))
    before = db.call(_state)

    response = await client.post(
        f"/couples/{practice.couple_id}/schedule",
        data=_schedule_form(practice, csrf, **{field: value}),
    )

    assert response.status_code == 400
    assert str(escape(reason)) in response.text
    assert "Nothing was changed." in response.text
    assert f"<h1>Couple {practice.couple_id}: Maya &amp; Jonas</h1>" in response.text
    assert f'value="{escape(value)}"' in response.text or field.endswith(("_day", "_week"))
    assert db.call(_state) == before
    # The reason sits under its own field, which points to it.
    error = f'<p class="field-error" id="{field}-error">{escape(reason)}</p>'
    assert response.text.count('class="field-error"') == 1
    assert error in response.text
    tag = re.search(rf'<(?:input|select) id="{field}"[^>]*>', response.text)
    assert tag is not None
    assert 'aria-invalid="true"' in tag.group(0)
    assert f'aria-describedby="{field}-error' in tag.group(0)
    assert response.text.index(tag.group(0)) < response.text.index(error)


# --- the plan ------------------------------------------------------------------------------


async def test_a_plan_set_through_the_form_applies_this_week(
    client: httpx.AsyncClient, db: Database, clock: FakeClock, practice: Practice
) -> None:
    csrf = await sign_in(client, db, practice.therapist_id, clock)

    response = await client.post(
        f"/couples/{practice.couple_id}/plan",
        data={
            "csrf": csrf,
            "nightly_appreciation": "1",
            "weekly_checkin": "3",
            "timing_tip": "",
            "starts_on": "2026-11-16",
        },
    )

    assert response.status_code == 303
    link = db.call(
        lambda s: s.scalars(
            select(TherapistLink).where(TherapistLink.couple_id == practice.couple_id)
        ).one()
    )
    assert link.plan == [
        {"kind": NIGHTLY_APPRECIATION, "from_week": 1},
        {"kind": WEEKLY_CHECKIN, "from_week": 3},
    ]
    assert link.plan_starts_on == dt.date(2026, 11, 16)
    ours = {practice.maya_id, practice.jonas_id}
    kinds = {
        row[3] for row in db.call(schedule_rows) if row[1] in ours or row[2] == practice.couple_id
    }
    assert kinds == {NIGHTLY_APPRECIATION}  # week 2: no check-in yet, no tips in the plan
    page = (await client.get(response.headers["location"])).text
    assert "Plan saved." in page
    assert "Weekly check-in from week 3." in page
    assert "Started on Mon, 16 Nov 2026; this is week 2." in page


@pytest.mark.parametrize(
    ("form", "reason"),
    [
        ({"weekly_checkin": "60", "starts_on": "2026-11-23"}, "a week from 1 to 52"),
        ({"weekly_checkin": "0", "starts_on": "2026-11-23"}, "a week from 1 to 52"),
        ({"weekly_checkin": "two", "starts_on": "2026-11-23"}, "a week from 1 to 52"),
        ({"weekly_checkin": "2", "starts_on": ""}, "Choose the date week 1 starts on"),
        ({"weekly_checkin": "2", "starts_on": "next monday"}, "Choose the date week 1"),
        ({"weekly_checkin": "2", "starts_on": "2026-02-30"}, "Choose the date week 1"),
    ],
    ids=[
        "checkin-from-week-60",
        "checkin-from-week-0",
        "checkin-from-week-two",
        "no-start-date",
        "start-date-in-words",
        "start-date-30-february",
    ],
)
async def test_an_invalid_plan_is_refused_and_changes_nothing(
    client: httpx.AsyncClient,
    db: Database,
    clock: FakeClock,
    practice: Practice,
    form: dict[str, str],
    reason: str,
) -> None:
    csrf = await sign_in(client, db, practice.therapist_id, clock)
    before = db.call(_state)

    response = await client.post(f"/couples/{practice.couple_id}/plan", data={"csrf": csrf, **form})

    assert response.status_code == 400
    assert reason in response.text
    field = "starts_on" if "starts_on" in reason or "date" in reason else "weekly_checkin"
    assert f'id="{field}-error">' in response.text
    assert db.call(_state) == before


# --- signing out and the edges -------------------------------------------------------------


async def test_signing_out_ends_the_session(
    client: httpx.AsyncClient, db: Database, clock: FakeClock, practice: Practice, app: Starlette
) -> None:
    csrf = await sign_in(client, db, practice.therapist_id, clock)
    cookie = client.cookies[COOKIE_NAME]

    response = await client.post("/logout", data={"csrf": csrf})

    assert response.status_code == 303
    assert response.headers["location"] == "/signed-out"
    assert "max-age=0" in response.headers["set-cookie"].lower()
    assert db.call(dashboard_sessions.count_sessions, None) == 0
    assert "You are signed out" in (await client.get("/signed-out")).text
    client.cookies.set(COOKIE_NAME, cookie)  # an old copy of the cookie is no use
    assert (await client.get("/")).status_code == 401


async def test_every_response_carries_the_protective_headers(
    client: httpx.AsyncClient, db: Database, clock: FakeClock, practice: Practice
) -> None:
    csrf = await sign_in(client, db, practice.therapist_id, clock)
    responses = [
        await client.get("/"),
        await client.get(f"/couples/{practice.couple_id}"),
        await client.get("/no/such/page"),
        await client.get("/logout"),  # 405
        await client.post(
            f"/couples/{practice.couple_id}/schedule",
            content=b"csrf=" + csrf.encode() + b"&x=" + b"a" * 100_000,
            headers={"content-type": "application/x-www-form-urlencoded"},
        ),
    ]

    assert [r.status_code for r in responses] == [200, 200, 404, 405, 413]
    for response in responses:
        _assert_protective_headers(response)


async def test_what_partners_wrote_never_appears_on_any_page(
    client: httpx.AsyncClient, db: Database, clock: FakeClock, practice: Practice
) -> None:
    pages = [await client.get("/"), await client.get(f"/couples/{practice.couple_id}")]
    csrf = await sign_in(client, db, practice.therapist_id, clock)
    couple = f"/couples/{practice.couple_id}"
    pages += [
        await client.get("/"),
        await client.get(couple),
        await client.post(f"{couple}/schedule", data=_schedule_form(practice, csrf)),
        await client.get(f"{couple}?saved=schedule"),
        await client.post(
            f"{couple}/plan",
            data={"csrf": csrf, "nightly_appreciation": "1", "starts_on": "2026-11-23"},
        ),
        await client.get(f"{couple}?saved=plan"),
        await client.post(
            f"{couple}/schedule", data=_schedule_form(practice, csrf, nightly_time="25:00")
        ),
        await client.post(f"{couple}/plan", data={"csrf": csrf, "timing_tip": "99"}),
        await client.get(f"/couples/{practice.other_couple_id}"),
        await client.get("/login/used-or-unknown"),
        await client.post("/logout", data={"csrf": csrf}),
        await client.get("/signed-out"),
    ]

    assert {p.status_code for p in pages} == {200, 303, 400, 401, 403, 404}
    for response in pages:
        text = response.text + str(response.headers)
        for secret in SECRETS:
            for fragment in (secret, str(escape(secret)), secret[:24]):
                assert fragment not in text, (response.request.url, secret)


async def test_time_fields_are_24_hour_text_inputs_never_am_pm(
    client: httpx.AsyncClient, db: Database, clock: FakeClock, practice: Practice
) -> None:
    await sign_in(client, db, practice.therapist_id, clock)

    page = (await client.get(f"/couples/{practice.couple_id}")).text

    assert 'type="time"' not in page
    for name in ("nightly_time", "checkin_time", "tips_time", f"override_{practice.jonas_id}"):
        tag = re.search(rf'<input id="{name}"[^>]*>', page)
        assert tag is not None, name
        assert 'type="text"' in tag.group(0)
        assert 'pattern="([01][0-9]|2[0-3]):[0-5][0-9]"' in tag.group(0)
    assert 'id="nightly_time" name="nightly_time"' in page and 'value="21:00"' in page


@pytest.mark.parametrize(
    "time", ["9:30", "21.30", "9pm", "21:3"], ids=["one-digit-hour", "dot", "pm", "short"]
)
async def test_a_time_that_is_not_hh_mm_is_refused_next_to_its_field(
    client: httpx.AsyncClient, db: Database, clock: FakeClock, practice: Practice, time: str
) -> None:
    csrf = await sign_in(client, db, practice.therapist_id, clock)
    before = db.call(_state)

    response = await client.post(
        f"/couples/{practice.couple_id}/schedule",
        data=_schedule_form(practice, csrf, tips_time=time),
    )

    assert response.status_code == 400
    assert f'<p class="field-error" id="tips_time-error">{HHMM_ERROR}</p>' in response.text
    assert db.call(_state) == before


async def test_error_pages_keep_the_header_and_sign_out_when_signed_in(
    client: httpx.AsyncClient, db: Database, clock: FakeClock, practice: Practice
) -> None:
    csrf = await sign_in(client, db, practice.therapist_id, clock)

    for response in (
        await client.get("/no/such/page"),
        await client.get(f"/couples/{practice.other_couple_id}"),
        await client.get("/logout"),
    ):
        assert response.status_code in (404, 405)
        assert "Dr Ana Ruiz" in response.text
        assert f'name="csrf" value="{csrf}"' in response.text
        assert ">Sign out</button>" in response.text
    client.cookies.clear()
    anonymous = await client.get("/no/such/page")
    assert anonymous.status_code == 404 and "Sign out" not in anonymous.text
