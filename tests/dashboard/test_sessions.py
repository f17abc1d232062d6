"""Dashboard sessions in the database: they survive a restart, only a hash of the id is
stored, "remember this device" lasts 30 days, and "sign out everywhere" ends them all."""

from __future__ import annotations

import hashlib

import httpx
from sqlalchemy import select
from starlette.applications import Starlette

from dashboard import COOKIE_NAME, create_app
from storage import dashboard_sessions
from storage.db import Database
from storage.models import DashboardSession as SessionRow
from tests.dashboard.conftest import PUBLIC_URL, Practice, sign_in
from tests.support.bot import FakeClock


def _sessions(db: Database, therapist_id: int | None = None) -> int:
    return db.call(dashboard_sessions.count_sessions, therapist_id)


async def test_a_session_survives_a_restart_of_the_dashboard(
    client: httpx.AsyncClient, db: Database, clock: FakeClock, practice: Practice
) -> None:
    await sign_in(client, db, practice.therapist_id, clock)
    cookie = client.cookies[COOKIE_NAME]

    restarted = create_app(db, clock=clock, public_url=PUBLIC_URL)
    transport = httpx.ASGITransport(app=restarted)
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as again:
        again.cookies.set(COOKIE_NAME, cookie)
        home = await again.get("/")

    assert home.status_code == 200 and "Maya" in home.text


async def test_only_a_hash_of_the_session_id_is_stored(
    client: httpx.AsyncClient, db: Database, clock: FakeClock, practice: Practice
) -> None:
    await sign_in(client, db, practice.therapist_id, clock)
    cookie = client.cookies[COOKIE_NAME]

    stored = db.call(lambda s: [r.id_hash for r in s.scalars(select(SessionRow))])

    assert stored == [hashlib.sha256(cookie.encode()).hexdigest()]
    assert cookie not in stored


async def test_remembering_this_device_keeps_the_session_for_30_days(
    client: httpx.AsyncClient, db: Database, clock: FakeClock, practice: Practice
) -> None:
    csrf = await sign_in(client, db, practice.therapist_id, clock)

    remembered = await client.post("/remember", data={"csrf": csrf})

    assert remembered.status_code == 303
    assert "max-age=2592000" in remembered.headers["set-cookie"].lower()
    assert "stays signed in until 23 Dec 2026" in (await client.get("/")).text
    clock.advance(days=29, hours=23)
    assert (await client.get("/")).status_code == 200
    clock.advance(hours=1)
    assert (await client.get("/")).status_code == 401


async def test_remembering_needs_the_csrf_token(
    client: httpx.AsyncClient, db: Database, clock: FakeClock, practice: Practice
) -> None:
    await sign_in(client, db, practice.therapist_id, clock)

    refused = await client.post("/remember", data={"csrf": "wrong"})

    assert refused.status_code == 403
    clock.advance(hours=8)
    assert (await client.get("/")).status_code == 401


async def test_signing_out_everywhere_ends_every_session_of_that_therapist_only(
    app: Starlette, db: Database, clock: FakeClock, practice: Practice
) -> None:
    transport = httpx.ASGITransport(app=app)
    async with (
        httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as phone,
        httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as laptop,
        httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as colleague,
    ):
        csrf = await sign_in(phone, db, practice.therapist_id, clock)
        await sign_in(laptop, db, practice.therapist_id, clock)
        await sign_in(colleague, db, practice.other_therapist_id, clock)
        assert _sessions(db, practice.therapist_id) == 2

        response = await phone.post("/logout-everywhere", data={"csrf": csrf})

        assert response.status_code == 303
        assert response.headers["location"] == "/signed-out?everywhere=1"
        assert "max-age=0" in response.headers["set-cookie"].lower()
        assert (await phone.get("/")).status_code == 401
        assert (await laptop.get("/")).status_code == 401
        assert (await colleague.get("/")).status_code == 200
        assert _sessions(db, practice.therapist_id) == 0
        page = (await phone.get("/signed-out?everywhere=1")).text
        assert "You are signed out everywhere" in page


async def test_signing_out_everywhere_needs_the_csrf_token(
    client: httpx.AsyncClient, db: Database, clock: FakeClock, practice: Practice
) -> None:
    await sign_in(client, db, practice.therapist_id, clock)

    refused = await client.post("/logout-everywhere", data={"csrf": "wrong"})

    assert refused.status_code == 403
    assert _sessions(db, practice.therapist_id) == 1


async def test_each_session_has_its_own_id_and_csrf_token(
    db: Database, clock: FakeClock, practice: Practice
) -> None:
    one, first = db.call(dashboard_sessions.start_session, practice.therapist_id, clock())
    two, second = db.call(dashboard_sessions.start_session, practice.therapist_id, clock())

    assert one != two and first.csrf_token != second.csrf_token
    assert len(one) >= 40 and len(first.csrf_token) >= 40
    assert db.call(dashboard_sessions.find_session, one, clock()) == first
    assert db.call(dashboard_sessions.find_session, "made-up", clock()) is None
