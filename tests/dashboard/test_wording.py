"""The therapist's own wording on the couple page, and ending a link from the dashboard.

Every prompt kind (nightly prompt, check-in opener, tip introduction) has a form with the
same checks as the bot's /wording, a preview for each partner (by name only if they
agreed, in their own language), and a history of versions that can be restored. Ending a
link asks first, and each partner who agreed is owed the words /endlink sends.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re

import httpx
import pytest
from markupsafe import escape
from sqlalchemy import select

from dashboard.render import Templates
from storage import people, therapists
from storage import wording as wording_store
from storage.db import Database
from storage.models import (
    ENDED_BY_THERAPIST,
    NIGHTLY_APPRECIATION,
    TIMING_TIP,
    WEEKLY_CHECKIN,
    Notice,
    Schedule,
    TherapistLink,
)
from tests.dashboard.conftest import Practice, seed_crowd, sign_in
from tests.support.bot import FakeClock
from tests.support.refusals import english_pieces

NIGHTLY = "Hi {{ first_name }}, what did {{ partner_first_name }} do for you today?"


def _config(db: Database, therapist_id: int, couple_id: int) -> dict[str, object]:
    with db.session() as session:
        link = session.scalars(
            select(TherapistLink).where(
                TherapistLink.therapist_id == therapist_id, TherapistLink.couple_id == couple_id
            )
        ).one()
        return dict(link.config or {})


def _history(db: Database, practice: Practice, kind: str) -> list[str | None]:
    found = db.call(wording_store.history, practice.therapist_id, practice.couple_id)
    return [v.text for v in found[kind]]


def _form_block(page: str, slug: str) -> str:
    found = re.search(
        rf'<div class="wording" id="wording-{slug}">.*?(?=<div class="wording"|</section>)',
        page,
        re.S,
    )
    assert found is not None, slug
    return found.group(0)


def _previews(block: str) -> dict[str, str]:
    """Each partner's preview in a form's block: name -> the message as shown."""
    return {
        name: re.sub(r"\s+", " ", text).strip()
        for name, text in re.findall(
            r"<figcaption>For (.*?)</figcaption>\s*<div class=\"message\">(.*?)</div>", block, re.S
        )
    }


async def _post(
    client: httpx.AsyncClient,
    practice: Practice,
    csrf: str,
    slug: str,
    text: str,
    action: str,
    **extra: str,
) -> httpx.Response:
    return await client.post(
        f"/couples/{practice.couple_id}/wording/{slug}",
        data={"csrf": csrf, "text": text, "action": action, **extra},
    )


# --- the forms and their previews -------------------------------------------------------------


async def test_the_couple_page_has_a_wording_form_for_every_prompt_kind(
    client: httpx.AsyncClient, db: Database, clock: FakeClock, practice: Practice
) -> None:
    await sign_in(client, db, practice.therapist_id, clock)
    page = (await client.get(f"/couples/{practice.couple_id}")).text
    for slug, legend in (
        ("nightly", "Nightly appreciation prompt"),
        ("checkin", "Check-in opener"),
        ("tip", "Tip introduction"),
    ):
        block = _form_block(page, slug)
        assert f"<h3>{legend}</h3>" in block
        assert f'action="/couples/{practice.couple_id}/wording/{slug}#wording-{slug}"' in block
        assert "Partners get the library&#39;s wording." in block
        assert 'value="preview"' in block and 'value="save"' in block
        assert "No versions saved yet." in block


async def test_a_preview_shows_each_partner_their_own_message_and_saves_nothing(
    client: httpx.AsyncClient, db: Database, clock: FakeClock, practice: Practice
) -> None:
    csrf = await sign_in(client, db, practice.therapist_id, clock)
    before = _config(db, practice.therapist_id, practice.couple_id)
    response = await _post(client, practice, csrf, "nightly", NIGHTLY, "preview")
    assert response.status_code == 200
    block = _form_block(response.text, "nightly")
    assert _previews(block) == {
        "Maya": "Hi Maya, what did Jonas do for you today?",
        "Jonas": "Hi Jonas, what did Maya do for you today?",
    }
    # What was typed stays in the box, escaped; nothing was saved.
    assert f">{escape(NIGHTLY)}</textarea>" in block
    assert _config(db, practice.therapist_id, practice.couple_id) == before
    assert _history(db, practice, NIGHTLY_APPRECIATION) == []


async def test_a_preview_is_in_each_partners_language_and_on_their_weekday(
    client: httpx.AsyncClient, db: Database, clock: FakeClock, practice: Practice
) -> None:
    db.call(people.set_language, practice.jonas_id, "de")
    csrf = await sign_in(client, db, practice.therapist_id, clock)
    words = "{{ first_name }}, this {{ weekday }}: what felt close?"
    response = await _post(client, practice, csrf, "checkin", words, "preview")
    previews = _previews(_form_block(response.text, "checkin"))
    # The couple's check-in is on Sundays (the therapist's default).
    assert previews["Maya"].startswith("Maya, this Sunday: what felt close? Take turns")
    assert "The listener mirrors" in previews["Maya"]
    assert previews["Jonas"].startswith("Jonas, this Sonntag: what felt close? Wechselt euch ab")


async def test_a_tip_introduction_is_previewed_before_a_tip_from_the_library(
    client: httpx.AsyncClient, db: Database, clock: FakeClock, practice: Practice
) -> None:
    csrf = await sign_in(client, db, practice.therapist_id, clock)
    response = await _post(client, practice, csrf, "tip", "A note from me first:", "preview")
    previews = _previews(_form_block(response.text, "tip"))
    intro, _, tip = previews["Maya"].partition(":")
    assert intro == "A note from me first" and len(tip.strip()) > 20


async def test_a_partner_who_has_not_agreed_is_neither_named_nor_previewed(
    client: httpx.AsyncClient, db: Database, clock: FakeClock, practice: Practice
) -> None:
    crowd = db.call(seed_crowd, practice.therapist_id, clock(), 5)
    csrf = await sign_in(client, db, practice.therapist_id, clock)
    response = await client.post(
        f"/couples/{crowd.pending}/wording/nightly",
        data={"csrf": csrf, "text": NIGHTLY, "action": "preview"},
    )
    assert response.status_code == 200
    block = _form_block(response.text, "nightly")
    # Ada0 agreed; Bo0 did not: her preview shows "…" where his name would be.
    assert _previews(block) == {"Ada0": "Hi Ada0, what did … do for you today?"}
    assert "A partner who has not agreed (yet): nothing you set reaches them" in block
    assert "Bo0" not in response.text


async def test_the_live_preview_answers_with_the_previews_alone_and_needs_the_token(
    client: httpx.AsyncClient, db: Database, clock: FakeClock, practice: Practice
) -> None:
    csrf = await sign_in(client, db, practice.therapist_id, clock)
    url = f"/couples/{practice.couple_id}/wording/nightly/preview"
    response = await client.post(url, data={"csrf": csrf, "text": NIGHTLY})
    assert response.status_code == 200
    assert "<html" not in response.text
    assert _previews(response.text)["Jonas"] == "Hi Jonas, what did Maya do for you today?"
    refused = await client.post(url, data={"csrf": csrf, "text": "See t.me/somewhere"})
    assert "That wording cannot be used as it is." in refused.text
    assert "Links" in refused.text and "<figure" not in refused.text
    pressing = await client.post(url, data={"csrf": csrf, "text": "You never listen."})
    assert "Words that may land as pressure" in pressing.text
    assert (await client.post(url, data={"text": NIGHTLY})).status_code == 403
    other = f"/couples/{practice.other_couple_id}/wording/nightly/preview"
    assert (await client.post(other, data={"csrf": csrf, "text": NIGHTLY})).status_code == 404
    assert _history(db, practice, NIGHTLY_APPRECIATION) == []


async def test_the_couple_page_allows_its_one_script_and_nothing_else(
    client: httpx.AsyncClient, db: Database, clock: FakeClock, practice: Practice
) -> None:
    await sign_in(client, db, practice.therapist_id, clock)
    response = await client.get(f"/couples/{practice.couple_id}")
    policy = response.headers["content-security-policy"]
    scripts = re.findall(r"<script>(.*?)</script>", response.text, re.S)
    assert len(scripts) == 1
    digest = base64.b64encode(hashlib.sha256(scripts[0].encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in policy
    assert "connect-src 'self'" in policy and "default-src 'none'" in policy


# --- saving, and what the sandbox refuses ------------------------------------------------------


async def test_saving_puts_the_wording_in_force_and_keeps_a_version(
    client: httpx.AsyncClient, db: Database, clock: FakeClock, practice: Practice
) -> None:
    csrf = await sign_in(client, db, practice.therapist_id, clock)
    response = await _post(client, practice, csrf, "nightly", NIGHTLY, "save")
    assert response.status_code == 303
    assert response.headers["location"] == (
        f"/couples/{practice.couple_id}?saved=wording#wording-nightly"
    )
    assert _config(db, practice.therapist_id, practice.couple_id)["custom_nightly"] == NIGHTLY
    with db.session() as session:
        carried = set(
            session.scalars(
                select(Schedule.custom_template).where(
                    Schedule.kind == NIGHTLY_APPRECIATION,
                    Schedule.therapist_id == practice.therapist_id,
                )
            )
        )
    assert carried == {NIGHTLY}
    assert _history(db, practice, NIGHTLY_APPRECIATION) == [NIGHTLY]
    page = (await client.get(response.headers["location"])).text
    assert "Wording saved." in page
    block = _form_block(page, "nightly")
    assert "In force now." in block and "saved by Dr Ana Ruiz" in block
    assert _previews(block)["Maya"] == "Hi Maya, what did Jonas do for you today?"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        pytest.param("Write here: https://example.org", "Links", id="link"),
        pytest.param("Ask @someone_else", "@mentions", id="mention"),
        pytest.param("x" * 1001, "longer than 1000 characters", id="too-long"),
        pytest.param("{% for i in range(9) %}x{% endfor %}", "loop", id="loop"),
        pytest.param("Hi {{ email }}", "email", id="unknown-variable"),
        pytest.param("<b>Hi", "Telegram formatting", id="broken-html"),
        pytest.param("   ", "empty", id="empty"),
    ],
)
async def test_the_sandbox_refuses_what_wording_refuses_and_keeps_what_was_typed(
    client: httpx.AsyncClient,
    db: Database,
    clock: FakeClock,
    practice: Practice,
    text: str,
    reason: str,
) -> None:
    csrf = await sign_in(client, db, practice.therapist_id, clock)
    before = _config(db, practice.therapist_id, practice.couple_id)
    response = await _post(client, practice, csrf, "nightly", text, "save")
    assert response.status_code == 400
    block = _form_block(response.text, "nightly")
    error = re.search(r'<p class="field-error" id="wording-nightly-error">(.*?)</p>', block, re.S)
    assert error is not None
    assert error.group(1).startswith("Nothing was changed. That wording cannot be used as it is.")
    assert reason in str(escape(error.group(1))) or reason in error.group(1)
    assert 'aria-invalid="true"' in block
    assert f">{escape(text)}</textarea>" in block
    assert _config(db, practice.therapist_id, practice.couple_id) == before
    assert _history(db, practice, NIGHTLY_APPRECIATION) == []


async def test_words_that_may_land_as_pressure_are_saved_only_once_confirmed(
    client: httpx.AsyncClient, db: Database, clock: FakeClock, practice: Practice
) -> None:
    csrf = await sign_in(client, db, practice.therapist_id, clock)
    words = "You never listen, {{ first_name }}. Tell {{ partner_first_name }} why."
    previewed = await _post(client, practice, csrf, "nightly", words, "preview")
    assert previewed.status_code == 200
    assert "Words that may land as pressure" in previewed.text
    assert "&#34;Always&#34; and &#34;never&#34; are rarely quite true" in previewed.text
    unconfirmed = await _post(client, practice, csrf, "nightly", words, "save")
    assert unconfirmed.status_code == 400
    assert "Some words may land as pressure with a partner." in unconfirmed.text
    assert _history(db, practice, NIGHTLY_APPRECIATION) == []
    confirmed = await _post(client, practice, csrf, "nightly", words, "save", confirm_tone="on")
    assert confirmed.status_code == 303
    assert _history(db, practice, NIGHTLY_APPRECIATION) == [words]


async def test_each_kind_is_saved_on_its_own(
    client: httpx.AsyncClient, db: Database, clock: FakeClock, practice: Practice
) -> None:
    csrf = await sign_in(client, db, practice.therapist_id, clock)
    await _post(client, practice, csrf, "checkin", "Let's begin, {{ first_name }}.", "save")
    await _post(client, practice, csrf, "tip", "From me:", "save")
    config = _config(db, practice.therapist_id, practice.couple_id)
    assert config.get("custom_nightly") is None
    assert config["custom_checkin"] == "Let's begin, {{ first_name }}."
    assert config["custom_tip"] == "From me:"
    with db.session() as session:
        carried = dict(
            session.execute(
                select(Schedule.kind, Schedule.custom_template).where(
                    Schedule.therapist_id == practice.therapist_id,
                    Schedule.kind.in_([WEEKLY_CHECKIN, TIMING_TIP]),
                )
            ).all()
        )
    assert carried == {WEEKLY_CHECKIN: "Let's begin, {{ first_name }}.", TIMING_TIP: "From me:"}


async def test_back_to_the_librarys_wording_is_a_version_too(
    client: httpx.AsyncClient, db: Database, clock: FakeClock, practice: Practice
) -> None:
    csrf = await sign_in(client, db, practice.therapist_id, clock)
    await _post(client, practice, csrf, "nightly", NIGHTLY, "save")
    response = await _post(client, practice, csrf, "nightly", "", "off")
    assert response.status_code == 303 and "saved=wording_off" in response.headers["location"]
    assert _config(db, practice.therapist_id, practice.couple_id)["custom_nightly"] is None
    assert _history(db, practice, NIGHTLY_APPRECIATION) == [None, NIGHTLY]
    page = (await client.get(f"/couples/{practice.couple_id}")).text
    assert "Back to the library&#39;s wording" in _form_block(page, "nightly")


async def test_an_older_version_can_be_restored(
    client: httpx.AsyncClient, db: Database, clock: FakeClock, practice: Practice
) -> None:
    csrf = await sign_in(client, db, practice.therapist_id, clock)
    await _post(client, practice, csrf, "nightly", NIGHTLY, "save")
    await _post(client, practice, csrf, "nightly", "Second, {{ first_name }}.", "save")
    older = db.call(wording_store.history, practice.therapist_id, practice.couple_id)[
        NIGHTLY_APPRECIATION
    ][-1]
    page = (await client.get(f"/couples/{practice.couple_id}")).text
    assert f'name="version" value="{older.id}"' in _form_block(page, "nightly")
    response = await client.post(
        f"/couples/{practice.couple_id}/wording/restore",
        data={"csrf": csrf, "version": str(older.id)},
    )
    assert response.status_code == 303
    assert response.headers["location"].endswith("saved=wording_restored#wording-nightly")
    assert _config(db, practice.therapist_id, practice.couple_id)["custom_nightly"] == NIGHTLY
    assert _history(db, practice, NIGHTLY_APPRECIATION) == [
        NIGHTLY,
        "Second, {{ first_name }}.",
        NIGHTLY,
    ]


@pytest.mark.parametrize("version", ["0", "-1", "abc", "99999999999", ""])
async def test_a_restore_of_no_such_version_is_not_found(
    client: httpx.AsyncClient, db: Database, clock: FakeClock, practice: Practice, version: str
) -> None:
    csrf = await sign_in(client, db, practice.therapist_id, clock)
    response = await client.post(
        f"/couples/{practice.couple_id}/wording/restore", data={"csrf": csrf, "version": version}
    )
    assert response.status_code == 404


async def test_another_therapists_couple_and_versions_are_out_of_reach(
    client: httpx.AsyncClient, db: Database, clock: FakeClock, practice: Practice
) -> None:
    theirs = db.call(
        wording_store.add_version,
        practice.other_therapist_id,
        practice.other_couple_id,
        NIGHTLY_APPRECIATION,
        "Their words",
        clock(),
    )
    before = _config(db, practice.other_therapist_id, practice.other_couple_id)
    csrf = await sign_in(client, db, practice.therapist_id, clock)
    for path, data in (
        (f"/couples/{practice.other_couple_id}/wording/nightly", {"text": "x", "action": "save"}),
        (f"/couples/{practice.other_couple_id}/wording/nightly", {"text": "x", "action": "off"}),
        (f"/couples/{practice.other_couple_id}/wording/restore", {"version": str(theirs)}),
        # Their version through our own couple's address is still not ours.
        (f"/couples/{practice.couple_id}/wording/restore", {"version": str(theirs)}),
        (f"/couples/{practice.couple_id}/wording/no_such_kind", {"text": "x", "action": "save"}),
    ):
        response = await client.post(path, data={"csrf": csrf, **data})
        assert response.status_code == 404, path
    assert _config(db, practice.other_therapist_id, practice.other_couple_id) == before
    assert _history(db, practice, NIGHTLY_APPRECIATION) == []


async def test_wording_forms_need_the_sessions_csrf_token(
    client: httpx.AsyncClient, db: Database, clock: FakeClock, practice: Practice
) -> None:
    await sign_in(client, db, practice.therapist_id, clock)
    for data in ({"text": NIGHTLY, "action": "save"}, {"csrf": "forged", "action": "off"}):
        response = await client.post(f"/couples/{practice.couple_id}/wording/nightly", data=data)
        assert response.status_code == 403
    assert _history(db, practice, NIGHTLY_APPRECIATION) == []


# --- ending a link -----------------------------------------------------------------------------


def _owed_endings(db: Database) -> set[int]:
    with db.session() as session:
        return set(
            session.scalars(select(Notice.person_id).where(Notice.topic == ENDED_BY_THERAPIST))
        )


async def test_ending_a_link_asks_first_then_ends_it_and_owes_both_partners_a_word(
    client: httpx.AsyncClient, db: Database, clock: FakeClock, practice: Practice
) -> None:
    csrf = await sign_in(client, db, practice.therapist_id, clock)
    page = (await client.get(f"/couples/{practice.couple_id}")).text
    assert f'href="/couples/{practice.couple_id}/end"' in page
    question = await client.get(f"/couples/{practice.couple_id}/end")
    assert question.status_code == 200
    assert "<h1>End your link with Couple 1: Maya &amp; Jonas?</h1>" in question.text
    assert "told in Telegram, kindly" in question.text
    assert f'href="/couples/{practice.couple_id}">Keep the link</a>' in question.text
    # Looking at the question changes nothing; nor does a post without the token.
    forged = await client.post(f"/couples/{practice.couple_id}/end", data={"csrf": "forged"})
    assert forged.status_code == 403
    assert db.call(therapists.link_of, practice.therapist_id, practice.couple_id) is not None
    ended = await client.post(f"/couples/{practice.couple_id}/end", data={"csrf": csrf})
    assert ended.status_code == 303 and ended.headers["location"] == "/ended"
    assert db.call(therapists.link_of, practice.therapist_id, practice.couple_id) is None
    assert _owed_endings(db) == {practice.maya_id, practice.jonas_id}
    after = await client.get("/ended")
    assert "<h1>The link has ended</h1>" in after.text
    assert (await client.get(f"/couples/{practice.couple_id}")).status_code == 404
    # Ending it again finds nothing to end.
    again = await client.post(f"/couples/{practice.couple_id}/end", data={"csrf": csrf})
    assert again.status_code == 404
    assert len(_owed_endings(db)) == 2


async def test_another_therapists_link_cannot_be_ended(
    client: httpx.AsyncClient, db: Database, clock: FakeClock, practice: Practice
) -> None:
    csrf = await sign_in(client, db, practice.therapist_id, clock)
    assert (await client.get(f"/couples/{practice.other_couple_id}/end")).status_code == 404
    response = await client.post(f"/couples/{practice.other_couple_id}/end", data={"csrf": csrf})
    assert response.status_code == 404
    other = db.call(therapists.link_of, practice.other_therapist_id, practice.other_couple_id)
    assert other is not None
    assert _owed_endings(db) == set()


# --- in German ---------------------------------------------------------------------------------

GERMAN = {"accept-language": "de-DE,de;q=0.9"}


def _english_wording_phrases() -> list[str]:
    """The English phrases of the wording forms and of ending a link that no German one
    contains: any of these on a German page was not translated."""
    templates = Templates()
    en, de = templates.strings["en"], templates.strings["de"]

    def leaves(value: object) -> list[str]:
        if isinstance(value, dict):
            return [leaf for inner in value.values() for leaf in leaves(inner)]
        if isinstance(value, list):
            return [leaf for inner in value for leaf in leaves(inner)]
        return [str(value)]

    mine = [en.wording, en.wording_kinds, en.tone_reasons, en.ending, en.pages["link_ended"]]
    german = leaves([de.wording, de.wording_kinds, de.tone_reasons, de.ending, de.pages])
    return sorted(
        {
            text
            for text in leaves(mine)
            if " " in text and len(text) >= 5 and not any(text in g for g in german)
        }
    )


async def test_the_wording_forms_and_ending_a_link_speak_german(
    client: httpx.AsyncClient, db: Database, clock: FakeClock, practice: Practice
) -> None:
    english = _english_wording_phrases()
    assert "Your own wording" in english and "End the link" in english
    csrf = await sign_in(client, db, practice.therapist_id, clock)
    couple = f"/couples/{practice.couple_id}"
    pages = {
        "couple": await client.get(couple, headers=GERMAN),
        "preview": await client.post(
            f"{couple}/wording/nightly",
            data={"csrf": csrf, "text": "You never {{ first_name }}", "action": "preview"},
            headers=GERMAN,
        ),
        "refused": await client.post(
            f"{couple}/wording/tip",
            data={"csrf": csrf, "text": "t.me/x", "action": "save"},
            headers=GERMAN,
        ),
        "question": await client.get(f"{couple}/end", headers=GERMAN),
    }
    await client.post(f"{couple}/end", data={"csrf": csrf}, headers=GERMAN)
    pages["ended"] = await client.get("/ended", headers=GERMAN)
    for where, response in pages.items():
        assert '<html lang="de">' in response.text, where
        found = [text for text in english if str(escape(text)) in response.text]
        assert found == [], where
    assert "Ihre eigenen Worte" in pages["couple"].text
    assert "Für Maya" in pages["preview"].text
    assert "Worte, die als Druck ankommen könnten" in pages["preview"].text
    assert "Diese Formulierung lässt sich so nicht verwenden." in pages["refused"].text
    assert "Die Verbindung mit Paar 1: Maya &amp; Jonas beenden?" in pages["question"].text
    assert "Die Verbindung ist beendet" in pages["ended"].text


def _english_sandbox_pieces() -> list[str]:
    """The pieces of the English sandbox sentences that no German one contains."""
    words = Templates().words

    def sandbox(code: str) -> list[str]:
        return [text for key, text in words[code].phrases.items() if key.startswith("sandbox_")]

    return english_pieces(sandbox("en"), sandbox("de"))


GERMAN_REFUSALS = [
    pytest.param(
        "Hallo {{ email }}",
        "Zeile 1: Die Variable „email“ gibt es nicht. Sie können verwenden: first_name, "
        "partner_first_name, weekday.",
        id="unknown-variable",
    ),
    pytest.param(
        "<b>Hallo {{ first_name }}",
        "Das Ergebnis ist keine gültige Telegram-Formatierung: Zum Tag „b“ fehlt das "
        "schließende Tag. Setzen Sie </b> dorthin, wo es enden soll.",
        id="formatting",
    ),
    pytest.param(
        "Hallo\n{% if first_name %}du",
        "Zeile 2: Der Text endet, bevor dieses {% if %} geschlossen ist. Setzen Sie "
        "{% endif %} dorthin, wo sein Teil endet.",
        id="unclosed-if",
    ),
    pytest.param(
        "{{ first_name.__class__ }}",
        "Zeile 1: Der Zugriff auf ein Attribut („.__class__“) ist nicht erlaubt.",
        id="attribute",
    ),
    pytest.param(
        "Mehr unter t.me/praxis",
        "Links, Web- oder Telegram-Adressen und @-Erwähnungen gehen in einer Frage nicht („t.me“).",
        id="link",
    ),
]


@pytest.mark.parametrize(("text", "german"), GERMAN_REFUSALS)
async def test_a_german_therapists_refused_wording_says_why_in_german_with_no_english_sentence(
    client: httpx.AsyncClient,
    db: Database,
    clock: FakeClock,
    practice: Practice,
    text: str,
    german: str,
) -> None:
    english = _english_sandbox_pieces()
    assert "Unknown variable '" in english  # the check would see an English sentence
    csrf = await sign_in(client, db, practice.therapist_id, clock)
    couple = f"/couples/{practice.couple_id}"
    saved = await client.post(
        f"{couple}/wording/nightly",
        data={"csrf": csrf, "text": text, "action": "save"},
        headers=GERMAN,
    )
    live = await client.post(
        f"{couple}/wording/nightly/preview", data={"csrf": csrf, "text": text}, headers=GERMAN
    )
    phase = await client.post(
        f"{couple}/plan",
        data={
            "csrf": csrf,
            "timing_tip": "2",
            "timing_tip_wording": text,
            "starts_on": "2026-11-23",
        },
        headers=GERMAN,
    )

    assert saved.status_code == 400 and phase.status_code == 400
    said = {
        "save": re.search(
            r'id="wording-nightly-error">(.*?)</p>', _form_block(saved.text, "nightly"), re.S
        ),
        "live preview": re.search(r'<p class="field-error">(.*?)</p>', live.text, re.S),
        "plan phase": re.search(r'id="timing_tip_wording-error">(.*?)</p>', phase.text, re.S),
    }
    for where, found in said.items():
        assert found is not None, where
        shown = html.unescape(found.group(1))
        assert "Diese Formulierung lässt sich so nicht verwenden. " + german in shown, where
        assert [piece for piece in english if piece in shown] == [], where
    assert _config(db, practice.therapist_id, practice.couple_id).get("custom_nightly") is None
