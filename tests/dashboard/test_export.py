"""The export: weekly counts per couple and practice for a date range, as CSV and as a
printable page. Counts only; no names; only partners whose consent stands."""

from __future__ import annotations

import csv
import io

import httpx
import pytest

from storage import practice as practice_store
from storage import therapists
from storage.db import Database
from tests.dashboard.conftest import Practice, sign_in
from tests.support.bot import FakeClock


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


async def test_the_csv_has_one_line_per_couple_week_and_practice(
    client: httpx.AsyncClient, db: Database, clock: FakeClock, practice: Practice
) -> None:
    await sign_in(client, db, practice.therapist_id, clock)

    response = await client.get("/export.csv", params={"from": "2026-11-02", "to": "2026-11-22"})

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert (
        'filename="nudgebot-counts-2026-11-02-to-2026-11-22.csv"'
        in (response.headers["content-disposition"])
    )
    assert response.text.splitlines()[0] == (
        "client,week_starting,practice,delivered,answered,snoozed,no_reply"
    )
    rows = _csv(response.text)
    assert len(rows) == 3 * 3  # three weeks, three practices, one couple
    assert {row["client"] for row in rows} == {f"Couple {practice.couple_id}"}
    by_week: dict[str, list[int]] = {}
    for row in rows:
        totals = by_week.setdefault(row["week_starting"], [0, 0, 0, 0])
        for i, key in enumerate(("delivered", "answered", "snoozed", "no_reply")):
            totals[i] += int(row[key])
    # conftest._history: 6+2, 9+2 and 11+2 sent; 2, 1 and 3 snoozed; every other replied.
    assert by_week == {
        "2026-11-02": [8, 6, 2, 0],
        "2026-11-09": [11, 10, 1, 0],
        "2026-11-16": [13, 10, 3, 0],
    }
    checkins = [row for row in rows if row["practice"] == "Weekly check-in"]
    assert [row["delivered"] for row in checkins] == ["2", "2", "2"]
    assert "Maya" not in response.text and "Jonas" not in response.text


async def test_a_partner_who_withdrew_takes_their_counts_out_of_the_export(
    client: httpx.AsyncClient, db: Database, clock: FakeClock, practice: Practice
) -> None:
    db.call(therapists.withdraw, practice.jonas_id, clock())
    await sign_in(client, db, practice.therapist_id, clock)

    rows = _csv(
        (await client.get("/export.csv", params={"from": "2026-11-16", "to": "2026-11-22"})).text
    )

    # Week of 16 Nov: Maya had the odd-numbered of 11 nudges (5) and one check-in.
    assert sum(int(row["delivered"]) for row in rows) == 5 + 1


async def test_a_code_is_the_only_way_a_couple_is_named_in_the_export(
    client: httpx.AsyncClient, db: Database, clock: FakeClock, practice: Practice
) -> None:
    db.call(practice_store.set_client_code, practice.therapist_id, practice.couple_id, "MJ-04")
    await sign_in(client, db, practice.therapist_id, clock)

    text = (await client.get("/export.csv")).text
    page = (await client.get("/export")).text

    assert {row["client"] for row in _csv(text)} == {"MJ-04"}
    assert len(_csv(text)) == 8 * 3  # the last eight weeks by default
    assert "<td>MJ-04</td>" in page
    assert "Engagement counts, 5 Oct 2026 to 23 Nov 2026" in page
    assert 'href="/export.csv?from=2026-10-05&amp;to=2026-11-23"' in page


async def test_another_therapists_couples_are_not_exported(
    client: httpx.AsyncClient, db: Database, clock: FakeClock, practice: Practice
) -> None:
    await sign_in(client, db, practice.other_therapist_id, clock)

    rows = _csv((await client.get("/export.csv")).text)

    assert {row["client"] for row in rows} == {f"Couple {practice.other_couple_id}"}


@pytest.mark.parametrize(
    "params",
    [
        {"from": "2026-11-20", "to": "2026-11-01"},
        {"from": "2025-01-01", "to": "2026-11-01"},
        {"from": "yesterday"},
        {"to": "2026-02-30"},
    ],
    ids=["backwards", "longer-than-a-year", "words", "30-february"],
)
async def test_a_bad_range_is_refused_next_to_the_dates(
    client: httpx.AsyncClient,
    db: Database,
    clock: FakeClock,
    practice: Practice,
    params: dict[str, str],
) -> None:
    await sign_in(client, db, practice.therapist_id, clock)

    page = await client.get("/export", params=params)
    data = await client.get("/export.csv", params=params)

    assert page.status_code == 400
    assert 'aria-describedby="range-error"' in page.text
    assert 'id="range-error" role="alert">Choose a first and a last day' in page.text
    assert data.status_code == 400
    assert "client,week_starting" not in data.text


async def test_the_export_needs_a_session(client: httpx.AsyncClient, practice: Practice) -> None:
    for path in ("/export", "/export.csv"):
        response = await client.get(path)
        assert response.status_code == 401
        assert "Couple" not in response.text
