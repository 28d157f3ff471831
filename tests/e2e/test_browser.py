"""End to end in a real browser: Debian's Chromium driven by Playwright against `streamlit run`.

Skipped with the reason where Chromium or Playwright is missing; `.ci/run` installs both and sets
``VIPDASH_REQUIRE_BROWSER=1``, which turns the skip into a failure. Screenshots go to ``test-output/screenshots``.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from vipmodel import db

ROOT = Path(__file__).resolve().parent.parent.parent
SHOTS = ROOT / "test-output" / "screenshots"
CHROMIUM = os.environ.get("VIPDASH_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DONE = '[data-testid="stApp"][data-test-script-state="notRunning"][data-test-connection-state="CONNECTED"]'
# Every page of the app: (url path, English title, Chinese title, has charts); the default page is served at "/".
PAGES = [
    ("", "Overview", "总览", True),
    ("report", "Weekly report", "周报", False),
    ("pyramid", "Customer pyramid", "顾客金字塔", True),
    ("migration", "Tier migration", "层级迁移", True),
    ("data", "Data", "数据管理", False),
    ("referrals", "Referrals", "转介绍", True),
    ("care", "Care what-if", "关怀投入模拟", True),
    ("satisfaction", "Satisfaction", "满意度", True),
    ("complaints", "Complaints & churn", "投诉与流失", True),
    ("value", "Value & churn risk", "价值与流失风险", True),
]

pytestmark = pytest.mark.browser


def _require(condition: bool, reason: str) -> None:
    if condition:
        return
    if os.environ.get("VIPDASH_REQUIRE_BROWSER") == "1":
        pytest.fail(reason + " (VIPDASH_REQUIRE_BROWSER=1)")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# A mall's database always asks who you are: the browser signs in through the real form, as a person would.
E2E_USER, E2E_PASSWORD = "e2e-marketing", "browser test password"
SIGN_IN_TITLES = ("Sign in", "登录")


RESULTS_KEY = "the browser tests' group secret, long enough"


def _with_user(url: str) -> str:
    """``url`` after making sure the browser's user exists there (a marketing user: may save settings)."""
    from vipmodel.auth import SYSTEM
    from vipmodel.users import add_user, list_users

    engine = db.make_engine(url)
    db.create_schema(engine)
    if E2E_USER not in set(list_users(engine, SYSTEM)["username"]):
        add_user(engine, SYSTEM, E2E_USER, "marketing", E2E_PASSWORD)
    engine.dispose()
    return url


def _goto(page, url: str, **kwargs) -> None:
    """Open ``url``; when the sign-in form shows (a new browser session), sign in and wait for the page."""
    page.goto(url, **kwargs)
    page.wait_for_selector("h1", timeout=60_000)  # the sign-in page's title or the page's own
    page.wait_for_selector(DONE, timeout=60_000)
    if page.locator("h1").first.inner_text().strip() in SIGN_IN_TITLES:
        form = page.locator('[data-testid="stForm"]')
        form.locator('input[type="password"]').wait_for(timeout=30_000)
        form.locator('input[type="text"]').first.fill(E2E_USER)
        form.locator('input[type="password"]').fill(E2E_PASSWORD)
        form.locator('[data-testid="stFormSubmitButton"] button').click()
        page.wait_for_function("() => !document.querySelector('[data-testid=\"stForm\"] input[type=\"password\"]')",
                               timeout=60_000)


@pytest.fixture(scope="module")
def server_home(tmp_path_factory) -> Path:
    """The browser-test server's home folder (its log files)."""
    return tmp_path_factory.mktemp("server-home")


@pytest.fixture(scope="module")
def server(demo_sqlite_url, server_home) -> Iterator[str]:
    """`streamlit run` on 127.0.0.1 and a free port, on the demo mall; yields the base URL.

    As in production, the server precomputes the pages in the background and stores the results in the database.
    """
    yield from _serve(_with_user(demo_sqlite_url), server_home, precompute="1")


@pytest.fixture
def writable_server(demo_sqlite_url, tmp_path) -> Iterator[tuple[str, str]]:
    """A server on a private copy of the demo mall, for a test that saves a setting; yields (base URL, db URL)."""
    copy = tmp_path / "demo.db"
    shutil.copy(demo_sqlite_url.removeprefix("sqlite:///"), copy)
    url = _with_user(f"sqlite:///{copy}")
    for base in _serve(url, tmp_path, precompute="0"):
        yield base, url


def _serve(url: str, home: Path, precompute: str) -> Iterator[str]:
    """The README's server (``streamlit run dashboard/server.py``), its log in ``home/server-<port>.log``."""
    _require(Path(CHROMIUM).exists() or shutil.which("chromium") is not None, f"Chromium not found at {CHROMIUM}")
    port = _free_port()
    # The weekly pack's refresh (dashboard/refresh_job.py, tested on its own) would share the 2 cores with the pages.
    env = {**os.environ, db.ENV_URL: url, "VIPDASH_PRECOMPUTE": precompute, "VIPDASH_REFRESH": "0", "HOME": str(home),
           "VIPDASH_RESULTS_KEY": RESULTS_KEY,  # the secret a group of servers shares (README)
           "VIPDASH_STORED_VIEWS": "1"}  # as in production (the page tests' conftest turns it off for themselves)
    log = home / f"server-{port}.log"
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "streamlit", "run", "dashboard/server.py",
            "--server.address", "127.0.0.1", "--server.port", str(port),
            "--server.headless", "true", "--browser.gatherUsageStats", "false",
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as response:
                    if response.read().decode().strip() == "ok":
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"streamlit did not start:\n{log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.5)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def browser():
    _require(importlib.util.find_spec("playwright") is not None, "playwright is not installed (requirements-dev.txt)")
    from playwright import sync_api
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _wait_rendered(page, charts: bool = True) -> None:
    try:
        page.wait_for_selector(DONE, timeout=60_000)
        if charts:
            page.wait_for_selector('[data-testid="stPlotlyChart"] .main-svg', timeout=60_000)
        page.wait_for_selector(DONE, timeout=60_000)
    except Exception:
        SHOTS.mkdir(parents=True, exist_ok=True)  # what the browser showed, for the failure's report
        page.screenshot(path=str(SHOTS / f"not-rendered-{int(time.time())}.png"))
        raise


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_page_renders_without_exceptions_in_both_languages(server, browser, lang):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1400, "height": 2200})
    try:
        for path, title_en, title_zh, has_charts in PAGES:
            _goto(page, f"{server}/{path}?lang={lang}")
            _wait_rendered(page, charts=has_charts)
            assert page.locator('[data-testid="stException"]').count() == 0
            assert page.get_by_text("Page not found").count() == 0
            heading = page.locator("h1").first.inner_text()
            assert heading.strip() == (title_en if lang == "en" else title_zh)
            if has_charts:
                assert page.locator('[data-testid="stPlotlyChart"] .main-svg').count() >= 1
            page.screenshot(path=str(SHOTS / f"{path or 'overview'}-{lang}.png"))
    finally:
        page.close()


# Every kind of input Streamlit draws; presentation mode shows none of them but the ones a page keeps on purpose.
CONTROLS = ", ".join(f'[data-testid="{k}"]' for k in (
    "stSlider", "stSelectbox", "stMultiSelect", "stNumberInput", "stRadio", "stCheckbox", "stDateInput", "stTextInput",
    "stTextArea", "stButton", "stDownloadButton", "stForm", "stFileUploader", "stButtonGroup", "stPopover"))
VISIBLE_CONTROLS = """(keep) => [...document.querySelectorAll('[data-testid="stMain"] :is(%s)')]
    .filter(e => e.getClientRects().length > 0)
    .filter(e => keep === (e.closest('.st-key-presentation-keep') !== null))
    .filter(e => !e.closest('.st-key-exit_presentation')).length""" % CONTROLS


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_presentation_mode_shows_no_controls_but_the_migration_periods_and_the_way_back(server, browser, lang):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1600, "height": 1800})
    try:
        for path, _title_en, _title_zh, has_charts in PAGES:
            _goto(page, f"{server}/{path}?lang={lang}&present=1")
            _wait_rendered(page, charts=has_charts)
            assert page.locator('[data-testid="stSidebar"]').is_hidden()
            assert page.evaluate(VISIBLE_CONTROLS, False) == 0, f"controls shown on /{path} in presentation mode"
            kept = page.evaluate(VISIBLE_CONTROLS, True)
            assert kept == (3 if path == "migration" else 0), f"/{path} keeps {kept} controls"
            page.locator(".st-key-exit_presentation button").wait_for(state="visible", timeout=30_000)
            page.screenshot(path=str(SHOTS / f"present-{path or 'overview'}-{lang}.png"))
    finally:
        page.close()


def test_switching_language_in_the_sidebar_rerenders_in_chinese(server, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 1600})
    try:
        _goto(page, f"{server}/?lang=en")
        _wait_rendered(page)
        page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').first.click()
        page.get_by_role("option", name="中文").click()
        page.wait_for_function("() => document.querySelector('h1') && document.querySelector('h1').innerText.includes('总览')")
        _wait_rendered(page)
        assert page.locator('[data-testid="stException"]').count() == 0
        assert "lang=zh" in page.url
    finally:
        page.close()


def test_moving_a_threshold_slider_previews_members_moving_up(server, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 2400})
    try:
        _goto(page, f"{server}/pyramid?lang=en")
        _wait_rendered(page)
        slider = page.locator('[data-testid="stSlider"]').filter(has_text="A Platinum").locator('input[type="range"]')
        slider.focus()
        for _ in range(20):  # 0.1 percentage point per key press
            page.keyboard.press("ArrowRight")
        moved_up = page.locator('[data-testid="stMetric"]').filter(has_text="Would move up")
        page.wait_for_function(
            "el => el.querySelector('[data-testid=\"stMetricValue\"]').innerText.trim() !== '0'",
            arg=moved_up.element_handle(),
            timeout=30_000,
        )
        _wait_rendered(page)
        assert page.locator('[data-testid="stException"]').count() == 0
        value = moved_up.locator('[data-testid="stMetricValue"]').inner_text().replace(",", "")
        assert int(value) > 0
        page.screenshot(path=str(SHOTS / "pyramid-preview-en.png"))
    finally:
        page.close()


def test_the_server_stores_the_page_results_in_the_database(server, browser, demo_sqlite_url):
    # Runs after the page visits above: the precompute stored every page's default view in the mall's database.
    from vipmodel import view_store

    page = browser.new_page()
    _goto(page, f"{server}/value", wait_until="domcontentloaded")
    page.wait_for_selector('[data-testid="stPlotlyChart"]', timeout=180_000)
    page.close()
    engine = db.make_engine(demo_sqlite_url)
    kept = {name.rsplit(".", 1)[-1] for name in view_store.listing(engine)["name"]}
    engine.dispose()
    assert {"load_member_values", "load_at_risk", "load_care_model", "load_churn_panel"} <= kept and len(kept) >= 20


def _log_line(log: Path, text: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in log.read_text(errors="replace").splitlines():
            if text in line:
                return line
        time.sleep(1)
    pytest.fail(f"no {text!r} in {log.name} within {timeout:.0f} s:\n{log.read_text(errors='replace')[-3000:]}")


def test_a_second_server_reads_the_precomputed_views_from_the_database_as_it_starts(server, browser, demo_sqlite_url,
                                                                                   server_home, tmp_path):
    first_log = server_home / f"server-{server.rsplit(':', 1)[1]}.log"
    # The server computed in a process of its own, then read the results back without aggregating anything.
    assert "computed in a separate process" in _log_line(first_log, "precompute finished in", timeout=900)
    assert "aggregations run 0," in _log_line(first_log, "precompute read back in", timeout=1)
    # A second server (another home folder: another machine) on the same database, with the group's secret: before
    # any visit it reads every default view from the database, and aggregates nothing again.
    for base in _serve(_with_user(demo_sqlite_url), tmp_path, precompute="1"):
        line = _log_line(tmp_path / f"server-{base.rsplit(':', 1)[1]}.log",
                         "precompute read from the database in", timeout=300)
        assert "aggregations run 0," in line, line
        page = browser.new_page(viewport={"width": 1400, "height": 2200})
        try:
            _goto(page, f"{base}/pyramid")
            _wait_rendered(page)
            assert page.locator('[data-testid="stException"]').count() == 0
        finally:
            page.close()


def test_save_records_the_weights_a_slider_moved_without_a_page_rerun(writable_server, browser):
    # The weight sliders rerun only their fragment; the Save form outside it must still save what they show.
    from sqlalchemy import select

    from vipmodel import schema
    from vipmodel.satisfaction import SatisfactionWeights

    base, url = writable_server
    page = browser.new_page(viewport={"width": 1400, "height": 2400})
    try:
        _goto(page, f"{base}/satisfaction?lang=en")
        _wait_rendered(page)
        sliders = page.locator('[data-testid="stSlider"] input[type="range"]')
        before = [int(sliders.nth(i).input_value()) for i in range(3)]
        sliders.nth(0).focus()
        for _ in range(7):
            page.keyboard.press("ArrowRight")
        page.wait_for_function("([el, v]) => Number(el.value) === v", arg=[sliders.nth(0).element_handle(),
                                                                           before[0] + 7])
        _wait_rendered(page)
        form = page.locator('[data-testid="stForm"]')
        form.locator('input[type="text"]').first.fill("moved in the fragment")
        form.locator('[data-testid="stFormSubmitButton"] button').click()
        page.wait_for_selector('[data-testid="stAlertContentSuccess"]', timeout=60_000)
        assert page.locator('[data-testid="stException"]').count() == 0
    finally:
        page.close()
    engine = db.make_engine(url)
    with engine.connect() as conn:
        payload, author = conn.execute(select(schema.settings.c.payload, schema.settings.c.author)).one()
    engine.dispose()
    assert author == E2E_USER  # the signed-in user, never typed
    assert SatisfactionWeights.from_payload(payload) == SatisfactionWeights.normalised(before[0] + 7, *before[1:])


# Pages a transactions-only mall (the CDNOW export) fills: the others say which import would fill them.
CDNOW_CHARTS = {"", "pyramid", "migration", "referrals", "value"}


@pytest.fixture(scope="module")
def cdnow_server(cdnow_sqlite_url, tmp_path_factory) -> Iterator[str]:
    """The README's server on a mall whose only data is the CDNOW master file (1997-1998, no margins)."""
    yield from _serve(_with_user(cdnow_sqlite_url), tmp_path_factory.mktemp("cdnow-home"), precompute="0")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_page_renders_on_a_real_pos_export_from_the_1990s(cdnow_server, browser, lang):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1400, "height": 2200})
    try:
        for path, title_en, title_zh, _ in PAGES:
            _goto(page, f"{cdnow_server}/{path}?lang={lang}")
            charts = path in CDNOW_CHARTS
            _wait_rendered(page, charts=charts)
            assert page.locator('[data-testid="stException"]').count() == 0, path
            assert page.locator('[data-testid="stAlertContentError"]').count() == 0, path
            assert page.locator("h1").first.inner_text().strip() == (title_en if lang == "en" else title_zh)
            if charts:
                assert page.locator('[data-testid="stPlotlyChart"] .main-svg').count() >= 1
            page.screenshot(path=str(SHOTS / f"cdnow-{path or 'overview'}-{lang}.png"))
    finally:
        page.close()
