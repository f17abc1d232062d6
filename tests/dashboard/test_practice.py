"""The practice overview: one row per couple, counts only, in a constant number of queries.

Storage (`storage.practice`) and the page (`/`), on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from storage import practice as practice_store
from storage import therapists
from storage.db import Database
from storage.practice import PartnerState
from storage.therapists import TherapistError
from tests.dashboard.conftest import SECRETS, Practice, seed_crowd, sign_in
from tests.support.bot import FakeClock


@contextmanager
def _counting(db: Database) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(*args: object) -> None:
        statements.append(str(args[2]))

    engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _overview(
    db: Database, therapist_id: int, clock: FakeClock
) -> list[practice_store.PracticeRow]:
    return db.call(practice_store.overview, therapist_id, clock())


def test_the_overview_counts_this_weeks_engagement_and_the_last_delivery(
    db: Database, clock: FakeClock, practice: Practice
) -> None:
    rows = _overview(db, practice.therapist_id, clock)

    assert [row.couple_id for row in rows] == [practice.couple_id]
    row = rows[0]
    assert row.names == ("Maya", "Jonas")
    assert [p.state for p in row.partners] == [PartnerState.ACTIVE, PartnerState.ACTIVE]
    # conftest._history: four weeks ago 4 sent, then 6+2, 9+2, 11+2 (check-ins to both).
    assert [w.delivered for w in row.weeks] == [0, 0, 0, 4, 8, 11, 13, 0]
    assert [w.snoozed for w in row.weeks] == [0, 0, 0, 1, 2, 1, 3, 0]
    assert [w.answered for w in row.weeks] == [0, 0, 0, 3, 6, 10, 10, 0]
    assert all(w.ignored == 0 for w in row.weeks)
    assert row.weeks[-1].week_start == dt.date(2026, 11, 23)
    assert row.last_delivered == dt.date(2026, 11, 22)


def test_a_delivery_with_no_answer_counts_as_no_reply(
    db: Database, clock: FakeClock, practice: Practice
) -> None:
    seed_crowd_one = db.call(seed_crowd, practice.therapist_id, clock(), 5)
    rows = {row.couple_id: row for row in _overview(db, practice.therapist_id, clock)}

    quiet = rows[seed_crowd_one.quiet[0]]
    assert quiet.weeks[-1].answered == 1 and quiet.weeks[-1].ignored == 0
    assert quiet.client_code == "Q-04"


def test_each_partners_state_and_names_only_when_both_agreed(
    db: Database, clock: FakeClock, practice: Practice
) -> None:
    crowd = db.call(seed_crowd, practice.therapist_id, clock(), 6)

    rows = {row.couple_id: row for row in _overview(db, practice.therapist_id, clock)}

    pending = rows[crowd.pending]
    assert [p.state for p in pending.partners] == [PartnerState.ACTIVE, PartnerState.NOT_AGREED]
    assert pending.names is None
    assert pending.partners[1].name is None
    paused = rows[crowd.paused]
    assert [p.state for p in paused.partners] == [PartnerState.PAUSED, PartnerState.ACTIVE]
    assert paused.names == ("Ada1", "Bo1")
    ended = rows[crowd.ended]
    assert ended.ended_at == clock()
    assert [p.state for p in ended.partners] == [PartnerState.LEFT, PartnerState.LEFT]
    assert ended.names is None and all(p.name is None for p in ended.partners)
    assert ended.last_delivered is None


def test_an_ended_link_leaves_the_overview_after_thirty_days(
    db: Database, clock: FakeClock, practice: Practice
) -> None:
    crowd = db.call(seed_crowd, practice.therapist_id, clock(), 4)
    clock.advance(days=29)
    assert crowd.ended in {r.couple_id for r in _overview(db, practice.therapist_id, clock)}
    clock.advance(days=2)
    assert crowd.ended not in {r.couple_id for r in _overview(db, practice.therapist_id, clock)}


def test_another_therapists_couples_are_not_in_the_overview(
    db: Database, clock: FakeClock, practice: Practice
) -> None:
    rows = _overview(db, practice.other_therapist_id, clock)

    assert [row.couple_id for row in rows] == [practice.other_couple_id]


def test_the_overview_takes_the_same_number_of_queries_for_5_or_25_couples(
    db: Database, clock: FakeClock, practice: Practice
) -> None:
    db.call(seed_crowd, practice.therapist_id, clock(), 4)
    with _counting(db) as few:
        assert len(_overview(db, practice.therapist_id, clock)) == 5
    db.call(seed_crowd, practice.therapist_id, clock(), 20, first_uid=3000)
    with _counting(db) as many:
        assert len(_overview(db, practice.therapist_id, clock)) == 25

    assert len(many) == len(few) <= 6


@pytest.mark.parametrize(
    ("code", "problem"),
    [
        ("", None),
        ("MJ-04", None),
        ("  a  b ", None),
        ("-x", "code_format"),
        ("x" * 25, "code_format"),
        ("<b>", "code_format"),
    ],
    ids=["empty-clears", "plain", "spaces-collapse", "leading-dash", "too-long", "markup"],
)
def test_client_codes_are_checked(
    db: Database, clock: FakeClock, practice: Practice, code: str, problem: str | None
) -> None:
    def attempt(session: Session) -> str | None:
        return practice_store.set_client_code(
            session, practice.therapist_id, practice.couple_id, code
        )

    if problem is None:
        saved = db.call(attempt)
        assert saved == (" ".join(code.split()) or None)
    else:
        with pytest.raises(TherapistError) as raised:
            db.call(attempt)
        assert raised.value.reason == problem


def test_a_client_code_is_one_couples_only_and_only_for_linked_couples(
    db: Database, clock: FakeClock, practice: Practice
) -> None:
    crowd = db.call(seed_crowd, practice.therapist_id, clock(), 5)
    with pytest.raises(TherapistError) as taken:
        db.call(practice_store.set_client_code, practice.therapist_id, practice.couple_id, "q-04")
    assert taken.value.reason == "code_taken"
    with pytest.raises(TherapistError) as other:
        db.call(
            practice_store.set_client_code, practice.therapist_id, practice.other_couple_id, "X"
        )
    assert other.value.reason == "not_linked"
    # Another therapist may use the same code for their own couple.
    db.call(
        practice_store.set_client_code,
        practice.other_therapist_id,
        practice.other_couple_id,
        "Q-04",
    )
    assert crowd.quiet


# --- the page -------------------------------------------------------------------------------


def _labels(page: str) -> list[str]:
    """The couples' labels, in the order the overview lists them."""
    found = re.findall(r'<th scope="row" data-label="Couple">\s*<(?:a|span)[^>]*>([^<]+)', page)
    return [label.strip() for label in found]


def _row_html(page: str, label: str) -> str:
    found = re.search(
        r"<tr[^>]*>\s*<th scope=\"row\"[^>]*>(?:(?!</tr>).)*?"
        + re.escape(label)
        + r"(?:(?!</tr>).)*</tr>",
        page,
        re.S,
    )
    assert found is not None, label
    return found.group(0)


async def test_the_overview_page_flags_what_needs_attention(
    client: httpx.AsyncClient, db: Database, clock: FakeClock, practice: Practice
) -> None:
    crowd = db.call(seed_crowd, practice.therapist_id, clock(), 20)
    await sign_in(client, db, practice.therapist_id, clock)

    page = (await client.get("/")).text

    assert "21 linked couples; 4 need attention." in page
    assert "<title>Your couples · nudgebot</title>" in page
    assert page.count('aria-labelledby="signin"') == 1
    assert "Consent pending" in _row_html(page, f"Couple {crowd.pending}<")
    assert "Ada1 paused" in _row_html(page, f"Couple {crowd.paused} ")
    assert "Link ended on 23 Nov 2026" in _row_html(page, f"Couple {crowd.ended}<")
    assert "Starts this week: Weekly check-in" in _row_html(page, f"Couple {crowd.starting} ")
    assert "Nothing" in _row_html(page, "Q-04")
    # The ended couple is listed but not linked, and names no one.
    ended = _row_html(page, f"Couple {crowd.ended}<")
    assert "href" not in ended and "Ada2" not in ended and "Bo2" not in ended
    # Unconsented partner: no name anywhere.
    assert "Bo0" not in page
    # Needs attention first (by default), then by code.
    order = _labels(page)
    assert len(order) == 21
    assert set(order[:4]) == {
        f"Couple {c}" for c in (crowd.pending, crowd.paused, crowd.ended, crowd.starting)
    }
    assert order[4:] == sorted(order[4:], key=str.casefold)


async def test_the_overview_filters_searches_and_sorts_by_query_parameters(
    client: httpx.AsyncClient, db: Database, clock: FakeClock, practice: Practice
) -> None:
    crowd = db.call(seed_crowd, practice.therapist_id, clock(), 12)
    await sign_in(client, db, practice.therapist_id, clock)

    flagged = _labels((await client.get("/", params={"attention": "1"})).text)
    assert sorted(flagged) == sorted(
        f"Couple {c}" for c in (crowd.pending, crowd.paused, crowd.ended, crowd.starting)
    )
    searched = _labels((await client.get("/", params={"q": "q-1"})).text)
    assert searched == ["Q-10", "Q-11"]
    by_code = _labels((await client.get("/", params={"sort": "code"})).text)
    assert by_code == sorted(by_code, key=str.casefold)
    by_last = _labels((await client.get("/", params={"sort": "last"})).text)
    # Only the quiet couples (and Maya & Jonas last week) had a nudge delivered.
    assert by_last[: len(crowd.quiet)] == sorted(by_last[: len(crowd.quiet)], key=str.casefold)
    assert all(label.startswith("Q-") for label in by_last[: len(crowd.quiet)])
    assert by_last[len(crowd.quiet)] == f"Couple {practice.couple_id}"
    nothing = (await client.get("/", params={"q": "zz-none"})).text
    assert "No couple matches." in nothing
    odd = await client.get("/", params={"sort": "'; drop", "q": "<script>" * 20})
    assert odd.status_code == 200 and "<script>" not in odd.text


async def test_the_overview_shows_a_sparkline_and_this_weeks_counts(
    client: httpx.AsyncClient, db: Database, clock: FakeClock, practice: Practice
) -> None:
    await sign_in(client, db, practice.therapist_id, clock)

    page = (await client.get("/")).text

    assert "Answered per week, oldest first: 0, 0, 0, 3, 6, 10, 10, 0" in page
    assert page.count("<polyline") == 1
    assert "0 answered, 0 snoozed, 0 no reply" in page
    assert "22 Nov 2026" in page  # the last delivery, date only
    for secret in SECRETS:
        assert secret not in page


async def test_a_client_code_set_on_the_couple_page_shows_on_the_overview(
    client: httpx.AsyncClient, db: Database, clock: FakeClock, practice: Practice
) -> None:
    csrf = await sign_in(client, db, practice.therapist_id, clock)
    couple = f"/couples/{practice.couple_id}"

    saved = await client.post(f"{couple}/code", data={"csrf": csrf, "client_code": "MJ-04"})
    refused = await client.post(f"{couple}/code", data={"csrf": csrf, "client_code": "<MJ>"})
    forged = await client.post(f"{couple}/code", data={"csrf": "nope", "client_code": "X"})
    foreign = await client.post(
        f"/couples/{practice.other_couple_id}/code", data={"csrf": csrf, "client_code": "X"}
    )

    assert saved.status_code == 303 and saved.headers["location"] == f"{couple}?saved=code"
    assert refused.status_code == 400
    assert 'aria-describedby="client_code-error client_code-hint"' in refused.text
    assert 'id="client_code-error">Use 1 to 24 letters' in refused.text
    assert forged.status_code == 403 and foreign.status_code == 404
    assert _labels((await client.get("/")).text) == ["MJ-04"]
    links = db.call(therapists.links_of, practice.other_therapist_id)
    assert [link.client_code for link in links] == [None]
