"""No page and no export of the dashboard holds anything a partner wrote, nor anything
about a partner who has not agreed to the link (or withdrew): seeded in the database,
then looked for in every response body the dashboard can produce."""

from __future__ import annotations

import datetime as dt

import httpx
from markupsafe import escape
from sqlalchemy.orm import Session

from scheduler import therapy
from storage import appreciations, couples, therapists
from storage.db import Database
from tests.dashboard.conftest import (
    SECRETS,
    Practice,
    _person,
    seed_crowd,
    sign_in,
)
from tests.support.bot import FakeClock

PATH_NOTE = "Private path note: I noticed I go quiet when I am scared of the answer."
UNAGREED_APPRECIATION = "Zephyrine's own words about the garden we planted together."
# A partner who never agreed: their name and zone must appear nowhere.
UNAGREED_NAME = "Zephyrine"
UNAGREED_ZONE = "Pacific/Chatham"
WITHDRAWN_NAME = "Quillon"
WITHDRAWN_ZONE = "America/St_Johns"


def _seed_more(session: Session, practice: Practice, now: dt.datetime) -> tuple[int, int]:
    """An answer to a path prompt; a couple with an unagreed partner; one who withdrew."""
    appreciations.write_note(session, practice.maya_id, PATH_NOTE, now)
    agreed = _person(session, 7001, "Oriel", "Europe/Lisbon", now)
    unagreed = _person(session, 7002, UNAGREED_NAME, UNAGREED_ZONE, now)
    raw = couples.create_pairing_link(session, agreed, now, dt.timedelta(days=7))
    assert couples.accept_link(session, raw, unagreed, now).problem is None
    appreciations.write(session, unagreed, UNAGREED_APPRECIATION, now)
    link = therapists.client_link(session, practice.therapist_id, now)
    therapy.agree(session, link, agreed, now)
    pending = couples.couple_of(session, agreed)
    stays = _person(session, 7003, "Perrin", "Europe/Oslo", now)
    leaves = _person(session, 7004, WITHDRAWN_NAME, WITHDRAWN_ZONE, now)
    raw = couples.create_pairing_link(session, stays, now, dt.timedelta(days=7))
    assert couples.accept_link(session, raw, leaves, now).problem is None
    link = therapists.client_link(session, practice.therapist_id, now)
    therapy.agree(session, link, stays, now)
    therapy.agree(session, link, leaves, now)
    therapists.withdraw(session, leaves, now)
    half = couples.couple_of(session, stays)
    assert pending is not None and half is not None
    return pending.id, half.id


FORBIDDEN = (
    *SECRETS,
    PATH_NOTE,
    UNAGREED_APPRECIATION,
    UNAGREED_NAME,
    UNAGREED_ZONE,
    WITHDRAWN_NAME,
    WITHDRAWN_ZONE,
)


WORDING = "Hi {{ first_name }}, and {{ partner_first_name }} ({{ weekday }})."


async def test_no_page_or_export_shows_partner_text_or_unconsented_partners(
    client: httpx.AsyncClient, db: Database, clock: FakeClock, practice: Practice
) -> None:
    pending, half = db.call(_seed_more, practice, clock())
    db.call(seed_crowd, practice.therapist_id, clock(), 6)
    csrf = await sign_in(client, db, practice.therapist_id, clock)
    couple = f"/couples/{practice.couple_id}"
    responses = [
        await client.get("/"),
        await client.get("/", params={"sort": "code"}),
        await client.get("/", params={"sort": "last", "attention": "1"}),
        await client.get("/", params={"q": "Zeph"}),
        await client.get(couple),
        await client.get(f"/couples/{pending}"),
        await client.get(f"/couples/{half}"),
        await client.post(f"/couples/{pending}/code", data={"csrf": csrf, "client_code": "<x>"}),
        await client.post(f"/couples/{half}/code", data={"csrf": csrf, "client_code": "ZQ"}),
        await client.get(f"/couples/{half}?saved=code"),
        await client.post(
            f"/couples/{pending}/schedule",
            data={
                "csrf": csrf,
                "nightly_time": "25:00",
                "nightly_window": "0",
                "checkin_day": "6",
                "checkin_time": "19:00",
                "tips_per_week": "1",
                "tips_time": "18:00",
            },
        ),
        # A phase for one partner: the one who never agreed is only "Partner B".
        await client.post(
            f"/couples/{pending}/plan",
            data={
                "csrf": csrf,
                "nightly_appreciation": "1",
                "nightly_appreciation_partner": "b",
                "nightly_appreciation_days": ["0", "3"],
                "starts_on": "2026-11-23",
            },
        ),
        (with_phase := await client.get(f"/couples/{pending}")),
        await client.post(
            f"/couples/{half}/plan",
            data={"csrf": csrf, "timing_tip": "1", "timing_tip_partner": "z", "starts_on": "x"},
        ),
        await client.post(
            f"/couples/{half}/plan",
            data={
                "csrf": csrf,
                "timing_tip": "2",
                "timing_tip_partner": "b",
                "timing_tip_per_week": "2",
                "starts_on": "2026-11-23",
            },
        ),
        await client.get(f"/couples/{half}"),
        await client.get("/plans"),
        await client.post("/plans", data={"csrf": csrf, "name": "Phases", "weekly_checkin": "1"}),
        await client.post(
            "/plans",
            data={
                "csrf": csrf,
                "name": "For one",
                "timing_tip": "1",
                "timing_tip_partner": "b",
                "weekly_checkin": "2",
                "weekly_checkin_every": "2",
            },
        ),
        await client.get("/plans?saved=1"),
        await client.post("/plans", data={"csrf": csrf, "name": "", "weekly_checkin": "1"}),
        await client.get("/export"),
        await client.get("/export", params={"from": "2026-09-01", "to": "2026-11-23"}),
        await client.get("/export.csv"),
        await client.get("/export.csv", params={"from": "2026-09-01", "to": "2026-11-23"}),
        # The wording forms: previews name only partners who agreed, for either of them.
        await client.post(
            f"/couples/{pending}/wording/nightly",
            data={"csrf": csrf, "text": WORDING, "action": "preview"},
        ),
        await client.post(
            f"/couples/{half}/wording/checkin",
            data={"csrf": csrf, "text": WORDING, "action": "save"},
        ),
        await client.get(f"/couples/{half}?saved=wording"),
        await client.post(
            f"/couples/{pending}/wording/tip",
            data={"csrf": csrf, "text": "{% for x in y %}", "action": "save"},
        ),
        await client.post(
            f"/couples/{pending}/wording/nightly",
            data={"csrf": csrf, "text": "You never {{ partner_first_name }}", "action": "save"},
        ),
        await client.get(f"/couples/{pending}/end"),
        await client.post(f"/couples/{half}/end", data={"csrf": csrf}),
        await client.get("/ended"),
        await client.get(f"/couples/{practice.other_couple_id}"),
        await client.get("/no/such/page"),
        await client.post("/remember", data={"csrf": csrf}),
        await client.get("/"),
        await client.post("/logout-everywhere", data={"csrf": csrf}),
        await client.get("/signed-out?everywhere=1"),
    ]

    assert {r.status_code for r in responses} == {200, 303, 400, 404}
    assert any("Oriel" in r.text for r in responses)  # consenting partners are shown
    pending_page = with_phase.text
    assert '<option value="a">Partner A: Oriel</option>' in pending_page
    assert '<option value="b" selected>Partner B</option>' in pending_page
    assert "Only for Partner B, on Mon and Thu." in pending_page
    # A preview for Oriel stands "…" for the partner who has not agreed.
    assert any("Hi Oriel, and … (" in r.text for r in responses)
    for response in responses:
        text = response.text + str(response.headers)
        for secret in FORBIDDEN:
            for fragment in {secret, str(escape(secret)), secret[:20]}:
                assert fragment not in text, (str(response.request.url), secret)
