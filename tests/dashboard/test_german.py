"""The dashboard in German: every page, the language switch, and dates from Babel."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest
from markupsafe import escape

from bot.i18n import GapKind, find_dashboard_gaps
from dashboard import i18n
from dashboard.i18n import TEMPLATES_DIR, choose, format_date, format_when, weekday_names
from dashboard.render import Templates
from storage import therapists
from storage.db import Database
from tests.dashboard.conftest import PUBLIC_URL, Practice, sign_in
from tests.support.bot import FakeClock

GERMAN = {"accept-language": "de-DE,de;q=0.9,en;q=0.5"}
_PLACEHOLDER = re.compile(r"\{[a-z_]+\}")


def _leaves(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [leaf for inner in value.values() for leaf in _leaves(inner)]
    if isinstance(value, list):
        return [leaf for inner in value for leaf in _leaves(inner)]
    return [str(value)]


def _english_leftovers() -> list[str]:
    """English phrases of the strings template that no German phrase contains: any of these
    on a German page is a word that was not translated."""
    templates = Templates()
    en, de = templates.strings["en"], templates.strings["de"]
    german = [
        *_leaves([de.pages, de.reasons, de.saved, de.text]),
        *_leaves([de.phase_words, de.phase_states, de.tip_counts]),
        *templates.words["de"].phrases.values(),
    ]
    english = [
        *_leaves([en.pages, en.reasons, en.saved, en.text]),
        *_leaves([en.phase_words, en.phase_states, en.tip_counts]),
        *templates.words["en"].phrases.values(),
    ]
    pieces = {piece.strip(" .,:;()") for text in english for piece in _PLACEHOLDER.split(text)}
    return sorted(
        piece
        for piece in pieces
        if len(piece) >= 5 and " " in piece and not any(piece in text for text in german)
    )


def test_every_dashboard_language_has_every_english_string_and_macro() -> None:
    assert find_dashboard_gaps() == []


def test_the_check_finds_a_missing_string_a_changed_placeholder_and_a_macro_argument(
    tmp_path: Path,
) -> None:
    shutil.copy(TEMPLATES_DIR / "_strings.html", tmp_path / "_strings.html")
    german = (TEMPLATES_DIR / "_strings.de.html").read_text(encoding="utf-8")
    german = german.replace('  "save_code": "Code speichern",\n', "")
    german = german.replace('"couple": "Paar {id}"', '"couple": "Paar {nummer}"')
    german = german.replace("macro apply(name)", "macro apply(title)")
    (tmp_path / "_strings.de.html").write_text(german, encoding="utf-8")

    found = {(gap.kind, gap.name) for gap in find_dashboard_gaps(tmp_path)}

    where = "dashboard _strings.de.html:"
    assert found == {
        (GapKind.MISSING_STRING, f"{where} text.save_code"),
        (GapKind.STRING_PLACEHOLDERS, f"{where} words.couple"),
        (GapKind.MACRO_ARGUMENTS, f"{where} macro apply"),
    }


def test_the_leftover_list_would_catch_an_untranslated_phrase() -> None:
    leftovers = _english_leftovers()
    assert "Keep me signed in for 30 days" in leftovers
    assert "Who controls what" in leftovers
    assert "Plan timeline" in leftovers
    assert "three times a week" in leftovers


async def _german_pages(
    client: httpx.AsyncClient, db: Database, clock: FakeClock, practice: Practice
) -> dict[str, str]:
    csrf = await sign_in(client, db, practice.therapist_id, clock)
    couple = f"/couples/{practice.couple_id}"
    # A plan in phases, for one partner and both, with each kind of frequency: the couple
    # page shows its timeline and editor; the same phases as a template on /plans.
    phases = {
        "nightly_appreciation": "1",
        "nightly_appreciation_to": "2",
        "nightly_appreciation_partner": "b",
        "nightly_appreciation_days": ["4", "0", "2"],
        "nightly_appreciation-2": "3",
        "weekly_checkin": "2",
        "weekly_checkin_every": "2",
        "timing_tip": "1",
        "timing_tip_to": "6",
        "timing_tip_per_week": "3",
        "timing_tip-2": "7",
        "timing_tip-2_wording": "Ein kleiner Gedanke für {{ first_name }}:",
    }
    plan = {"csrf": csrf, **phases, "starts_on": "2026-11-23"}
    saved = await client.post(f"{couple}/plan", data=plan, headers=GERMAN)
    assert saved.status_code == 303
    template = {"csrf": csrf, "name": "In Phasen", **phases}
    assert (await client.post("/plans", data=template, headers=GERMAN)).status_code == 303
    pages = {}
    for path in ("/", couple, "/plans", "/export", "/export?from=2026-13-01", "/nowhere"):
        pages[path] = (await client.get(path, headers=GERMAN)).text
    refused = await client.post(
        f"{couple}/schedule",
        data={"csrf": csrf, "nightly_time": "9pm", "nightly_window": "30"},
        headers=GERMAN,
    )
    assert refused.status_code == 400
    pages["refused schedule"] = refused.text
    refused_template = await client.post("/plans", data={"csrf": csrf, "name": ""}, headers=GERMAN)
    pages["refused template"] = refused_template.text
    overlap = {**plan, "nightly_appreciation-2": "2"}
    refused_plan = await client.post(f"{couple}/plan", data=overlap, headers=GERMAN)
    assert refused_plan.status_code == 400
    pages["refused plan"] = refused_plan.text
    linked = {**plan, "timing_tip-2_wording": "Mehr unter www.example.com"}
    refused_wording = await client.post(f"{couple}/plan", data=linked, headers=GERMAN)
    assert refused_wording.status_code == 400
    pages["refused phase wording"] = refused_wording.text
    client.cookies.clear()
    pages["/signed-out"] = (await client.get("/signed-out", headers=GERMAN)).text
    pages["sign in"] = (await client.get("/", headers=GERMAN)).text
    return pages


async def test_every_page_in_german_has_no_english_left_from_the_strings(
    client: httpx.AsyncClient, db: Database, clock: FakeClock, practice: Practice
) -> None:
    pages = await _german_pages(client, db, clock, practice)
    leftovers = _english_leftovers()
    for where, page in pages.items():
        assert '<html lang="de">' in page, where
        found = [text for text in leftovers if str(escape(text)) in page]
        assert found == [], where
    assert "Ihre Paare" in pages["/"]
    assert "Wer was festlegt" in pages[f"/couples/{practice.couple_id}"]
    assert "Bitte im Format HH:MM, zum Beispiel 21:00." in pages["refused schedule"]
    assert "Bitte melden Sie sich an" in pages["sign in"]
    timeline = pages[f"/couples/{practice.couple_id}"]
    assert "Ablauf des Plans" in timeline
    assert "Nur für Jonas, Mo., Mi. und Fr." in timeline
    assert "Wöchentliches Check-in ab Woche 2.</strong> Für beide, jede zweite Woche." in timeline
    assert "Für beide, dreimal pro Woche." in timeline
    assert "Begonnen am Mo., 23. Nov. 2026; jetzt ist Woche 1." in timeline
    assert '<span class="tag now">diese Woche</span>' in timeline
    assert '<option value="3" selected>dreimal pro Woche</option>' in timeline
    assert "In Phasen" in pages["/plans"] and "Weitere Phasen dieser Übung" in pages["/plans"]
    assert "Für beide, so oft, wie der Zeitplan sagt." in pages["/plans"]
    assert "Zwei Phasen einer Übung liegen für dieselbe Person" in pages["refused plan"]
    assert '<span class="tag">eigene Formulierung</span>' in timeline
    assert "Eigene Formulierung für diese Phase (optional)" in pages["/plans"]
    assert (
        'id="timing_tip-2_wording-error">Es wurde nichts geändert. '
        "Diese Formulierung lässt sich so nicht verwenden."
    ) in pages["refused phase wording"]


async def test_the_couple_page_in_german_writes_dates_with_babel_in_each_partners_zone(
    client: httpx.AsyncClient, db: Database, clock: FakeClock, practice: Practice
) -> None:
    await sign_in(client, db, practice.therapist_id, clock)
    page = (await client.get(f"/couples/{practice.couple_id}", headers=GERMAN)).text
    # Monday 23 November 2026, 21:00 for each in their own evening (see conftest).
    assert "<li>Mo., 23. Nov. 21:00</li>" in page
    # The Sunday check-in: 19:00 in Berlin is 13:00 in New York.
    assert "<li>So., 29. Nov. 13:00</li>" in page
    assert "<td>16. Nov.</td>" in page
    assert "Wöchentliches Check-in am" in page
    assert ">Sonntag</option>" in page
    assert "Mon 23 Nov" not in page


async def test_a_browser_asking_for_german_gets_german_and_any_other_gets_english(
    client: httpx.AsyncClient, db: Database, clock: FakeClock, practice: Practice
) -> None:
    await sign_in(client, db, practice.therapist_id, clock)
    german = await client.get("/", headers={"accept-language": "fr-CH, de;q=0.8"})
    french = await client.get("/", headers={"accept-language": "fr-FR,fr;q=0.9"})
    plain = await client.get("/", headers={"accept-language": ""})
    assert '<html lang="de">' in german.text and "<h1>Ihre Paare</h1>" in german.text
    assert '<html lang="en">' in french.text and "<h1>Your couples</h1>" in french.text
    assert '<html lang="en">' in plain.text


async def test_the_language_switch_is_kept_for_the_therapist_on_every_device(
    client: httpx.AsyncClient, db: Database, clock: FakeClock, practice: Practice, app: Any
) -> None:
    csrf = await sign_in(client, db, practice.therapist_id, clock)
    couple = f"{PUBLIC_URL}/couples/{practice.couple_id}"

    switched = await client.post(
        "/language", data={"csrf": csrf, "language": "de"}, headers={"referer": couple}
    )

    assert switched.status_code == 303
    assert switched.headers["location"] == f"/couples/{practice.couple_id}"
    page = (await client.get("/", headers={"accept-language": "en"})).text
    assert '<html lang="de">' in page
    assert '<option value="de" lang="de" selected>Deutsch</option>' in page
    # Another browser of the same therapist, asking for English, gets the choice too.
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as other:
        await sign_in(other, db, practice.therapist_id, clock)
        assert "<h1>Ihre Paare</h1>" in (await other.get("/")).text
    back = await client.post("/language", data={"csrf": csrf, "language": "en"}, headers=GERMAN)
    assert back.headers["location"] == "/"
    assert "<h1>Your couples</h1>" in (await client.get("/", headers=GERMAN)).text


@pytest.mark.parametrize(
    ("data", "status"),
    [
        ({"language": "fr"}, 400),
        ({"language": "de-DE"}, 400),
        ({"language": "../en"}, 400),
        ({}, 400),
    ],
    ids=["a-language-it-does-not-speak", "a-region", "a-path", "nothing"],
)
async def test_the_language_switch_refuses_anything_but_a_language_it_speaks(
    client: httpx.AsyncClient,
    db: Database,
    clock: FakeClock,
    practice: Practice,
    data: dict[str, str],
    status: int,
) -> None:
    csrf = await sign_in(client, db, practice.therapist_id, clock)
    response = await client.post("/language", data={"csrf": csrf, **data})
    assert response.status_code == status
    assert "<h1>Your couples</h1>" in (await client.get("/")).text


async def test_the_language_switch_needs_the_forms_csrf_token(
    client: httpx.AsyncClient, db: Database, clock: FakeClock, practice: Practice
) -> None:
    await sign_in(client, db, practice.therapist_id, clock)
    response = await client.post("/language", data={"csrf": "forged", "language": "de"})
    assert response.status_code == 403
    assert "<h1>Your couples</h1>" in (await client.get("/")).text


async def test_a_switch_from_another_site_goes_back_to_the_overview(
    client: httpx.AsyncClient, db: Database, clock: FakeClock, practice: Practice
) -> None:
    csrf = await sign_in(client, db, practice.therapist_id, clock)
    response = await client.post(
        "/language",
        data={"csrf": csrf, "language": "de"},
        headers={"referer": "https://evil.example/couples/1"},
    )
    assert response.headers["location"] == "/"


async def test_telegrams_language_is_the_default_until_the_therapist_chooses(
    client: httpx.AsyncClient, db: Database, clock: FakeClock, practice: Practice
) -> None:
    db.call(therapists.note_telegram_language, practice.therapist_id, "de-AT")
    csrf = await sign_in(client, db, practice.therapist_id, clock)
    assert "<h1>Ihre Paare</h1>" in (await client.get("/", headers={"accept-language": "en"})).text

    await client.post("/language", data={"csrf": csrf, "language": "en"})
    db.call(therapists.note_telegram_language, practice.therapist_id, "de")

    assert "<h1>Your couples</h1>" in (await client.get("/", headers=GERMAN)).text


# --- the pure parts ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stored", "header", "expected"),
    [
        (None, "de-DE,de;q=0.9,en;q=0.8", "de"),
        (None, "en-US,en;q=0.9,de;q=0.8", "en"),
        (None, "fr;q=1.0, de;q=0.5", "de"),
        (None, "de;q=0, en;q=0.1", "en"),
        (None, "de;q=banana", "en"),
        (None, "", "en"),
        (None, None, "en"),
        ("de", "en", "de"),
        ("fr", "de", "de"),
    ],
    ids=[
        "german-browser",
        "english-browser",
        "second-choice",
        "q-zero-is-no",
        "malformed-q",
        "empty-header",
        "no-header",
        "the-choice-wins",
        "an-unknown-choice-falls-through",
    ],
)
def test_a_pages_language_is_the_choice_then_the_browsers_then_english(
    stored: str | None, header: str | None, expected: str
) -> None:
    assert choose(stored, header, ("en", "de")) == expected


@pytest.mark.parametrize(
    ("kind", "en", "de"),
    [
        ("date", "3 Dec 2026", "3. Dez. 2026"),
        ("day_month", "3 Dec", "3. Dez."),
        ("weekday_date", "Thu, 3 Dec 2026", "Do., 3. Dez. 2026"),
        ("time", "21:05", "21:05"),
    ],
)
def test_dates_are_day_first_and_24_hour_in_both_languages(
    kind: i18n.DateKind, en: str, de: str
) -> None:
    value = dt.datetime(2026, 12, 3, 21, 5, tzinfo=dt.UTC)
    assert format_date(value, "en", kind) == en
    assert format_date(value, "de", kind) == de


@pytest.mark.parametrize(
    ("zone", "en", "de"),
    [
        ("Europe/Berlin", "Sun 29 Mar 03:30", "So., 29. März 03:30"),
        ("America/New_York", "Sat 28 Mar 21:30", "Sa., 28. März 21:30"),
        ("Australia/Lord_Howe", "Sun 29 Mar 12:30", "So., 29. März 12:30"),
        ("UTC", "Sun 29 Mar 01:30", "So., 29. März 01:30"),
    ],
    ids=["berlin-just-after-dst-starts", "new-york", "lord-howe", "utc"],
)
def test_a_time_is_written_in_the_persons_zone_and_language(zone: str, en: str, de: str) -> None:
    at = dt.datetime(2026, 3, 29, 1, 30, 30, tzinfo=dt.UTC)
    assert format_when(at, zone, "en") == en
    assert format_when(at, zone, "de") == de


def test_weekday_names_come_from_babel_monday_first() -> None:
    assert weekday_names("en")[0] == "Monday" and weekday_names("de")[6] == "Sonntag"
    assert weekday_names("de", "abbreviated")[:2] == ("Mo.", "Di.")


def test_no_page_template_imports_a_strings_file() -> None:
    # Pages read the page's language as `s`; an import would always be English.
    for path in TEMPLATES_DIR.glob("*.html"):
        if path.name.startswith("_strings"):
            continue
        assert "_strings" not in path.read_text(encoding="utf-8"), path.name
