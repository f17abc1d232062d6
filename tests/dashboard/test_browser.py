"""The dashboard in a real browser: headless Chromium (Debian's /usr/bin/chromium) driven
by Playwright against the app served by uvicorn (DashboardServer) on 127.0.0.1.

Without Playwright or Chromium these tests fail, saying what is missing;
NUDGEBOT_ALLOW_NO_BROWSER=1 turns that into a loud skip. Screenshots go to a temporary
folder, or with NUDGEBOT_UPDATE_SCREENSHOT=1 into docs/ (docs/dashboard.png, and the
overview and couple page at phone and desktop sizes in docs/screenshots/).

Every page checked here is also checked with axe-core (bundled by axe-playwright-python,
so it works offline): no violation of serious or critical impact at 390 px or 1280 px.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import shutil
import socket
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import select

from dashboard import DashboardServer, create_app, login_url
from scheduler import schedules as own_schedules
from scheduler import therapy
from storage import therapists
from storage.db import Database
from storage.models import NIGHTLY_APPRECIATION, TIMING_TIP, WEEKLY_CHECKIN, Schedule
from tests.conftest import DEFAULT_NOW
from tests.dashboard.conftest import (
    SECRETS,
    Crowd,
    Practice,
    schedule_rows,
    seed_crowd,
    seed_practice,
    wording_checks,
)
from tests.support.bot import FakeClock

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

pytestmark = pytest.mark.slow  # a real browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]
ALLOW_NO_BROWSER = os.environ.get("NUDGEBOT_ALLOW_NO_BROWSER") == "1"
UPDATE_SCREENSHOT = os.environ.get("NUDGEBOT_UPDATE_SCREENSHOT") == "1"
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "dashboard.png"
SCREENSHOTS = SCREENSHOT.parent / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
SIZES = {"phone": PHONE, "desktop": DESKTOP}
BLOCKING_IMPACT = ("serious", "critical")


def _browser_missing(reason: str) -> None:
    if ALLOW_NO_BROWSER:
        print(f"\n!!! browser tests SKIPPED: {reason} !!!\n")
        pytest.skip(f"browser tests skipped (NUDGEBOT_ALLOW_NO_BROWSER=1): {reason}")
    pytest.fail(
        f"{reason}. scripts/test installs both (pip 'playwright', Debian 'chromium'); "
        "or set NUDGEBOT_ALLOW_NO_BROWSER=1 to skip the browser tests.",
        pytrace=False,
    )


class _ServerThread:
    """DashboardServer in its own thread and event loop, as the bot's loop would run it."""

    def __init__(self, server: DashboardServer) -> None:
        self.server = server
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="dashboard-test", daemon=True)

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        try:
            await self.server.start()
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            raise
        self._ready.set()
        await self._stop.wait()
        await self.server.stop()

    def __enter__(self) -> _ServerThread:
        self._thread.start()
        assert self._ready.wait(10), "the dashboard server did not start"
        if self._error is not None:
            raise self._error
        return self

    def __exit__(self, *_: object) -> None:
        assert self._loop is not None and self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)
        assert not self._thread.is_alive(), "the dashboard server did not stop"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Live:
    """The running dashboard and what the tests need to reach it."""

    url: str
    db: Database
    clock: FakeClock
    practice: Practice
    crowd: Crowd

    def login_link(self, therapist_id: int | None = None) -> str:
        raw = self.db.call(
            therapists.login_link, therapist_id or self.practice.therapist_id, self.clock()
        )
        return login_url(self.url, raw)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError as exc:
        _browser_missing(f"Playwright is not installed ({exc})")
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        _browser_missing(f"Chromium is not installed at {CHROMIUM}")
    with sync_playwright() as playwright:
        try:
            launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        except Error as exc:
            _browser_missing(f"Chromium at {CHROMIUM} did not start: {exc.message}")
        yield launched
        launched.close()


@contextmanager
def _serving(path: Path, sqlite_template: Path, couples: int) -> Iterator[Live]:
    """The practice and `couples` more couples, served on a free loopback port."""
    shutil.copy(sqlite_template, path)
    db = Database(f"sqlite:///{path}")
    clock = FakeClock(DEFAULT_NOW)
    practice = db.call(seed_practice, clock())
    crowd = db.call(seed_crowd, practice.therapist_id, clock(), couples)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    app = create_app(db, clock=clock, public_url=url, wording=wording_checks())
    try:
        with _ServerThread(DashboardServer(app, "127.0.0.1", port)):
            yield Live(url, db, clock, practice, crowd)
    finally:
        db.close()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[Live]:
    with _serving(tmp_path_factory.mktemp("dashboard") / "bot.db", sqlite_template, 20) as served:
        yield served


@pytest.fixture
def own_live(tmp_path: Path, sqlite_template: Path) -> Iterator[Live]:
    """A practice of its own, for a test that changes it for good (ends a link)."""
    with _serving(tmp_path / "bot.db", sqlite_template, 5) as served:
        yield served


@pytest.fixture
def context(browser: Browser, live: Live) -> Iterator[BrowserContext]:
    live.clock.set(DEFAULT_NOW)
    ctx = browser.new_context(viewport=PHONE, device_scale_factor=2)
    ctx.set_default_timeout(10_000)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


def _signed_in(page: Page, live: Live) -> None:
    response = page.goto(live.login_link())
    assert response is not None and response.ok
    assert page.url == f"{live.url}/"
    assert page.locator("h1").inner_text() == "Your couples"


def _nightly(live: Live, person_id: int) -> Schedule:
    return live.db.call(
        lambda s: s.scalars(
            select(Schedule).where(
                Schedule.person_id == person_id, Schedule.kind == NIGHTLY_APPRECIATION
            )
        ).one()
    )


def test_signing_in_and_changing_the_nightly_time_through_the_form(
    page: Page, context: BrowserContext, live: Live
) -> None:
    _signed_in(page, live)
    cookie = next(c for c in context.cookies() if c["name"] == "nudgebot_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/"

    page.get_by_role("link", name="Maya & Jonas").click()
    page.get_by_label("Nightly appreciation at").click()
    page.get_by_label("Nightly appreciation at").fill("21:45")
    page.get_by_role("button", name="Save schedule").click()

    banner = page.get_by_role("status")
    assert "Schedule saved." in banner.inner_text()
    assert "Maya (Europe/Berlin time): nightly appreciation next on Mon 23 Nov at 21:45" in (
        banner.inner_text()
    )
    assert page.url.endswith(f"/couples/{live.practice.couple_id}?saved=schedule")
    assert _nightly(live, live.practice.maya_id).local_time == dt.time(21, 45)
    assert _nightly(live, live.practice.jonas_id).local_time == dt.time(21, 45)


def test_a_link_opened_from_another_site_still_signs_in(page: Page, live: Live) -> None:
    # As from Telegram's web app: the SameSite=Strict cookie is withheld after the
    # cross-site redirect, and the sign-in page reloads itself once from the same site.
    home: list[tuple[int, str | None]] = []
    page.on(
        "response",
        lambda r: (
            home.append((r.status, r.request.all_headers().get("sec-fetch-site")))
            if r.url == f"{live.url}/"
            else None
        ),
    )
    page.set_content(f'<a id="open" href="{live.login_link()}">open the dashboard</a>')
    page.click("#open")
    page.wait_for_url(f"{live.url}/")
    page.get_by_role("heading", name="Your couples").wait_for()
    assert home == [(401, "cross-site"), (200, "same-origin")]


def test_a_reused_login_link_is_refused(browser: Browser, page: Page, live: Live) -> None:
    link = live.login_link()
    assert (first := page.goto(link)) is not None and first.ok
    other = browser.new_context()
    try:
        again = other.new_page().goto(link)
        assert again is not None and again.status == 403
        assert "This login link is no longer valid" in again.text()
        assert "/dashboard" in again.text()
        assert other.cookies() == []
    finally:
        other.close()


def test_an_expired_login_link_is_refused(page: Page, context: BrowserContext, live: Live) -> None:
    link = live.login_link()
    live.clock.advance(minutes=11)

    response = page.goto(link)

    assert response is not None and response.status == 403
    assert page.get_by_role("heading").inner_text() == "This login link is no longer valid"
    assert context.cookies() == []
    home = page.goto(f"{live.url}/")
    assert home is not None and home.status == 401
    assert "Maya" not in page.content()


def test_a_form_without_its_csrf_token_is_refused(page: Page, live: Live) -> None:
    _signed_in(page, live)
    page.goto(f"{live.url}/couples/{live.practice.couple_id}")
    before = live.db.call(schedule_rows)

    page.evaluate("document.querySelectorAll('input[name=csrf]').forEach(e => e.remove())")
    page.get_by_label("Nightly appreciation at").fill("23:10")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name="Save schedule").click()

    assert posted.value.status == 403
    assert page.get_by_role("heading").inner_text() == "That did not go through"
    assert live.db.call(schedule_rows) == before
    # And without the page at all: a bare POST with the session cookie but no token.
    bare = page.request.post(
        f"{live.url}/couples/{live.practice.couple_id}/schedule",
        form={
            "nightly_time": "23:10",
            "nightly_window": "0",
            "checkin_day": "6",
            "checkin_time": "19:00",
            "tips_per_week": "1",
            "tips_time": "18:00",
        },
    )
    assert bare.status == 403
    assert live.db.call(schedule_rows) == before


def test_another_therapists_couple_is_refused(page: Page, live: Live) -> None:
    _signed_in(page, live)
    page.goto(f"{live.url}/couples/{live.practice.couple_id}")
    csrf = page.locator("input[name=csrf]").first.get_attribute("value")
    before = live.db.call(schedule_rows)

    response = page.goto(f"{live.url}/couples/{live.practice.other_couple_id}")
    posted = page.request.post(
        f"{live.url}/couples/{live.practice.other_couple_id}/schedule",
        form={
            "csrf": csrf or "",
            "nightly_time": "05:00",
            "nightly_window": "0",
            "checkin_day": "0",
            "checkin_time": "05:00",
            "tips_per_week": "0",
            "tips_time": "05:00",
        },
        headers={"Origin": live.url},
    )

    assert response is not None and response.status == 404
    assert page.get_by_role("heading").inner_text() == "Not found"
    assert "Kim" not in page.content()
    assert posted.status == 404
    assert live.db.call(schedule_rows) == before


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


def test_the_couple_page_on_a_phone(page: Page, live: Live, tmp_path: Path) -> None:
    practice = live.practice
    live.db.call(
        therapy.set_plan,
        practice.therapist_id,
        practice.couple_id,
        [
            {"kind": NIGHTLY_APPRECIATION, "from_week": 1},
            {"kind": WEEKLY_CHECKIN, "from_week": 3},
            {"kind": TIMING_TIP, "from_week": 5},
        ],
        dt.date(2026, 11, 2),
        live.clock(),
    )
    _signed_in(page, live)
    page.get_by_role("link", name="Maya & Jonas").click()
    page.get_by_label("Jonas's evening, if different").fill("21:30")
    page.get_by_role("button", name="Save schedule").click()
    page.get_by_role("status").wait_for()

    content = page.content()
    for secret in SECRETS:
        assert secret not in content
    # Phone-friendly: nothing wider than the screen.
    scroll_width: Any = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= PHONE["width"]
    whole = tmp_path / "whole.png"
    page.screenshot(path=str(whole), full_page=True)
    assert _png_size(whole.read_bytes())[0] == PHONE["width"] * 2
    # For the README: from the top to the end of the adherence counts.
    adherence = page.locator("section[aria-labelledby=adherence]").bounding_box()
    assert adherence is not None
    bottom = adherence["y"] + adherence["height"] + 16
    target = SCREENSHOT if UPDATE_SCREENSHOT else tmp_path / "dashboard.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(
        path=str(target),
        full_page=True,
        clip={"x": 0, "y": 0, "width": PHONE["width"], "height": bottom},
    )
    width, height = _png_size(target.read_bytes())
    assert (width, height) == (PHONE["width"] * 2, round(bottom * 2))


def test_it_works_with_javascript_switched_off(browser: Browser, live: Live) -> None:
    live.clock.set(DEFAULT_NOW)
    context = browser.new_context(viewport=PHONE, java_script_enabled=False)
    try:
        page = context.new_page()
        _signed_in(page, live)
        page.get_by_role("link", name="Maya & Jonas").click()
        page.get_by_label("Weekly check-in on").select_option(label="Saturday")
        page.get_by_role("button", name="Save schedule").click()

        assert "weekly check-in next on Sat 28 Nov" in page.get_by_role("status").inner_text()
        page.get_by_role("button", name="Sign out").click()
        assert page.get_by_role("heading").inner_text() == "You are signed out"
    finally:
        context.close()


# --- the practice overview, accessibility and screenshots ---------------------------------


def _blocking_violations(page: Page) -> list[str]:
    """axe-core's violations of serious or critical impact on the page as it is now."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v.get("impact") in BLOCKING_IMPACT
    ]


@pytest.fixture(params=list(SIZES), ids=list(SIZES))
def sized(request: pytest.FixtureRequest, browser: Browser, live: Live) -> Iterator[Page]:
    live.clock.set(DEFAULT_NOW)
    ctx = browser.new_context(viewport=SIZES[request.param], device_scale_factor=1)
    ctx.set_default_timeout(10_000)
    try:
        yield ctx.new_page()
    finally:
        ctx.close()


def test_a_therapist_finds_the_couple_that_needs_attention_and_sees_who_controls_what(
    page: Page, live: Live
) -> None:
    _signed_in(page, live)
    assert "21 linked couples; 4 need attention." in page.locator("#summary").inner_text()
    scroll_width: Any = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= PHONE["width"]

    page.get_by_label("Only couples that need attention").check()
    page.get_by_role("button", name="Show").click()

    assert "attention=1" in page.url
    rows = page.locator("table.overview tbody tr")
    assert rows.count() == 4
    paused = rows.filter(has_text="Ada1 paused")
    paused.get_by_role("link").click()
    assert page.url.endswith(f"/couples/{live.crowd.paused}")
    heading = page.get_by_role("heading", name="Who controls what")
    assert heading.is_visible()
    assert page.get_by_text("Set by you").first.is_visible()


def test_the_overview_is_a_table_on_a_desktop_and_cards_on_a_phone(
    browser: Browser, live: Live
) -> None:
    live.clock.set(DEFAULT_NOW)
    for size, display in ((PHONE, "grid"), (DESKTOP, "table-row")):
        ctx = browser.new_context(viewport=size)
        try:
            page = ctx.new_page()
            _signed_in(page, live)
            row = page.locator("table.overview tbody tr").first
            assert row.evaluate("r => getComputedStyle(r).display") == display
            scroll_width: Any = page.evaluate("document.documentElement.scrollWidth")
            assert scroll_width <= size["width"]
        finally:
            ctx.close()


def test_searching_by_client_code_and_exporting_csv(page: Page, live: Live) -> None:
    _signed_in(page, live)
    page.get_by_label("Client code").fill("q-1")
    page.get_by_role("button", name="Show").click()
    codes = page.locator("table.overview tbody th a").all_inner_texts()
    assert [c.splitlines()[0].strip() for c in codes] == [f"Q-{n}" for n in range(10, 20)]

    page.get_by_role("link", name="Export counts").click()
    assert page.get_by_role("heading", level=1).inner_text().startswith("Engagement counts")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download as CSV").click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert text.startswith("client,week_starting,practice,delivered,answered,snoozed,no_reply")
    for secret in (*SECRETS, "Maya", "Jonas"):
        assert secret not in text


@pytest.mark.parametrize("where", ["overview", "couple", "error", "export", "plans"])
def test_no_serious_accessibility_violations(sized: Page, live: Live, where: str) -> None:
    _signed_in(sized, live)
    if where == "couple":
        sized.goto(f"{live.url}/couples/{live.practice.couple_id}")
    elif where == "error":
        response = sized.goto(f"{live.url}/couples/{live.practice.other_couple_id}")
        assert response is not None and response.status == 404
        assert sized.get_by_role("button", name="Sign out").is_visible()
    elif where == "export":
        sized.goto(f"{live.url}/export")
    elif where == "plans":
        sized.goto(f"{live.url}/plans")

    assert _blocking_violations(sized) == []


@pytest.mark.parametrize("where", ["overview", "couple"])
def test_the_german_pages_have_no_serious_accessibility_violations(
    browser: Browser, live: Live, where: str
) -> None:
    live.clock.set(DEFAULT_NOW)
    # A German browser (Accept-Language: de-DE): the pages follow it until a choice is made.
    ctx = browser.new_context(viewport=PHONE, locale="de-DE")
    ctx.set_default_timeout(10_000)
    try:
        page = ctx.new_page()
        page.goto(live.login_link())
        assert page.locator("h1").inner_text() == "Ihre Paare"
        if where == "couple":
            page.goto(f"{live.url}/couples/{live.practice.couple_id}")
            assert page.get_by_role("heading", name="Wer was festlegt").is_visible()
        assert page.locator("html").get_attribute("lang") == "de"
        assert _blocking_violations(page) == []
    finally:
        ctx.close()


def test_a_refused_form_has_no_serious_accessibility_violations(sized: Page, live: Live) -> None:
    _signed_in(sized, live)
    sized.goto(f"{live.url}/couples/{live.practice.couple_id}")
    # Past the browser's own pattern check, to see the server's message under the field.
    sized.evaluate("document.getElementById('tips_time').removeAttribute('pattern')")
    sized.get_by_label("at", exact=True).last.fill("7pm")
    sized.get_by_role("button", name="Save schedule").click()

    error = sized.locator("#tips_time-error")
    assert error.inner_text() == "Please use HH:MM, for example 21:00."
    assert sized.locator("#tips_time").get_attribute("aria-invalid") == "true"
    assert _blocking_violations(sized) == []


@pytest.mark.parametrize("where", ["overview", "couple"])
def test_screenshots_of_the_overview_and_couple_page(
    sized: Page, live: Live, where: str, tmp_path: Path
) -> None:
    if where == "couple":  # show a partner's own choice beside the therapist's settings
        live.db.call(
            own_schedules.set_schedule,
            live.practice.maya_id,
            NIGHTLY_APPRECIATION,
            dt.time(22, 30),
            frozenset(range(7)),
            live.clock(),
        )
    _signed_in(sized, live)
    if where == "couple":
        sized.goto(f"{live.url}/couples/{live.practice.couple_id}")
        assert sized.get_by_text("Changed by Maya: 22:30").is_visible()
    width = sized.viewport_size["width"] if sized.viewport_size else 0
    size = "phone" if width == PHONE["width"] else "desktop"
    folder = SCREENSHOTS if UPDATE_SCREENSHOT else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{where}-{size}.png"
    height: Any = sized.evaluate("document.documentElement.scrollHeight")
    clip_height = min(int(height), 2400)
    sized.screenshot(
        path=str(target),
        full_page=True,
        clip={"x": 0, "y": 0, "width": width, "height": clip_height},
    )
    assert _png_size(target.read_bytes()) == (width, clip_height)


def test_a_three_phase_template_is_applied_to_two_couples_in_the_browser(
    page: Page, live: Live
) -> None:
    _signed_in(page, live)
    page.get_by_role("link", name="Plan templates").click()
    scroll_width: Any = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= PHONE["width"]
    page.get_by_label("Name").fill("Three phases")
    for kind, first, last in (
        ("nightly_appreciation", "1", "8"),
        ("weekly_checkin", "3", ""),
        ("timing_tip", "5", "8"),
    ):
        page.locator(f"#{kind}").fill(first)
        page.locator(f"#{kind}_to").fill(last)
    page.get_by_role("button", name="Save template").click()
    assert page.get_by_role("status").inner_text() == "Template saved."

    page.get_by_label("Q-04").check()
    page.get_by_label("Q-05").check()
    page.get_by_role("button", name="Apply Three phases").click()

    assert page.get_by_role("status").inner_text() == "Plan applied to 2 couples."
    assert _blocking_violations(page) == []
    page.goto(f"{live.url}/")
    plans = page.locator("table.overview tbody tr").filter(has_text="Q-04")
    assert "Week" in plans.inner_text() or "Starts" in plans.inner_text()


def test_a_phase_for_one_partner_on_chosen_evenings_is_set_on_a_phone(
    page: Page, live: Live
) -> None:
    _signed_in(page, live)
    page.goto(f"{live.url}/couples/{live.crowd.quiet[-1]}")
    page.locator("#nightly_appreciation").fill("1")
    page.locator("#nightly_appreciation_to").fill("2")
    for day in ("Mon", "Wed", "Fri"):
        page.locator("#nightly_appreciation_days").get_by_label(day, exact=True).check()
    page.locator("#nightly_appreciation_partner").select_option("b")
    page.locator("summary").filter(has_text="Weekly check-in").click()
    page.locator("#weekly_checkin-2").fill("3")
    page.locator("#weekly_checkin-2_every").select_option("2")
    page.locator("#starts_on").fill("2026-11-23")
    page.get_by_role("button", name="Save plan").click()

    assert page.get_by_role("status").inner_text().startswith("Plan saved.")
    timeline = page.locator("ol.timeline").inner_text()
    assert "Nightly appreciation in weeks 1 to 2. Only for Bo" in timeline
    assert "on Mon, Wed and Fri." in timeline
    assert "Weekly check-in from week 3. For both, every other week." in timeline
    scroll_width: Any = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= PHONE["width"]
    assert _blocking_violations(page) == []


def test_the_accessibility_check_does_find_a_serious_violation(page: Page, live: Live) -> None:
    # The check above passing means something only if it fails on a broken page.
    _signed_in(page, live)
    page.evaluate("document.querySelector('label[for=q]').remove()")

    found = _blocking_violations(page)

    assert any(v.startswith("label (critical)") for v in found), found


def test_editing_wording_with_a_preview_and_ending_a_link(page: Page, own_live: Live) -> None:
    live = own_live
    couple_id = live.practice.couple_id
    _signed_in(page, live)
    page.goto(f"{live.url}/couples/{couple_id}")
    nightly = page.locator("#wording-nightly")
    nightly.get_by_label("Your wording").fill(
        "Hi {{ first_name }}, what did {{ partner_first_name }} do for you today?"
    )
    # The live preview answers as the therapist types (the page's one script)...
    live_preview = page.locator("#wording-nightly-previews figure.preview").first
    live_preview.wait_for()
    assert "Hi Maya, what did Jonas do for you today?" in live_preview.inner_text()
    assert page.url.endswith(f"/couples/{couple_id}")
    # ...and "Preview" shows the same without it.
    nightly.get_by_role("button", name="Preview").click()

    nightly = page.locator("#wording-nightly")
    previews = nightly.locator("figure.preview")
    assert previews.count() == 2
    assert previews.filter(has_text="For Maya").locator(".message").inner_text() == (
        "Hi Maya, what did Jonas do for you today?"
    )
    assert "Hi Jonas, what did Maya do for you today?" in previews.nth(1).inner_text()
    assert page.url.endswith(f"/couples/{couple_id}/wording/nightly#wording-nightly")
    scroll_width: Any = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= PHONE["width"]
    assert _blocking_violations(page) == []

    nightly.get_by_role("button", name="Save wording").click()
    assert "Wording saved." in page.get_by_role("status").inner_text()
    link = live.db.call(therapists.link_of, live.practice.therapist_id, couple_id)
    assert link is not None and (link.config or {})["custom_nightly"].startswith("Hi {{")
    page.locator("#wording-nightly summary").click()
    assert "saved by Dr Ana Ruiz" in page.locator("#wording-nightly ol.history").inner_text()

    page.get_by_role("link", name="End the link with this couple").click()
    assert page.get_by_role("heading", level=1).inner_text() == (
        "End your link with Couple 1: Maya & Jonas?"
    )
    assert _blocking_violations(page) == []
    page.get_by_role("button", name="End the link").click()
    assert page.get_by_role("heading", level=1).inner_text() == "The link has ended"
    assert _blocking_violations(page) == []
    assert live.db.call(therapists.link_of, live.practice.therapist_id, couple_id) is None
