"""The dashboard at scale: warm script runs, first loads, slider latency and memory per browser session.

Targets (issue 5) with 1,000,000 members: every page's script run after the first (warm cache) < 300 ms; a
threshold or weight slider change < 300 ms from input to re-rendered chart in the browser; first load of any
page < 5 s; memory per browser session must not grow with the number of sessions beyond the shared cache
(5 sessions).

The browser part runs the product's flow (``streamlit run dashboard/server.py``): a server starts and precomputes
every page's default view in the background into the database (timed from its log; when the database holds them
already, it reads them), then each page is opened by a new visitor and reloaded; the sliders and memory are
measured; finally a second server with another home folder (another machine of the group, the same results secret)
starts: it computes nothing but reads the stored views from the database as it starts (timed from its log), then
the pages are opened again and the sliders moved.

Usage::

    python benchmarks/bench_pages.py --url sqlite:///benchmarks/.cache/bench_1m.db
    python benchmarks/bench_pages.py --url postgresql+psycopg://vip@127.0.0.1:5432/bench_1000000 --skip-script-runs

Needs Debian's Chromium at /usr/bin/chromium and Playwright (requirements-dev.txt). Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.pgserver import free_port  # noqa: E402

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
DONE = '[data-testid="stApp"][data-test-script-state="notRunning"][data-test-connection-state="CONNECTED"]'


SKIPPED_PAGES: set[str] = set()  # --skip-page


def page_paths() -> list[str]:
    """URL paths of every registered page, read from the router (the default page is ""), minus --skip-page."""
    import re

    source = (ROOT / "dashboard" / "app.py").read_text(encoding="utf-8")
    paths = ["" if "default=True" in line else re.search(r'url_path="([^"]+)"', line).group(1)
             for line in source.splitlines() if "st.Page(" in line]
    return [p for p in paths if p not in SKIPPED_PAGES]


def warm_script_runs(url: str, repeat: int = 3) -> None:
    """Print (page, first run s, median warm run s) with Streamlit's AppTest in this process, after running the
    background precompute here first (the same loaders, in this process's cache) and printing its steps."""
    from streamlit.testing.v1 import AppTest

    from dashboard import precompute
    from dashboard.data import common

    os.environ["VIPDASH_DATABASE_URL"] = url
    os.environ["VIPDASH_PRECOMPUTE"] = "0"  # AppTest runs the pages itself; the precompute runs below
    version = common.current_version(url)
    latest = common.load_latest_date(url, version)
    print("| precompute step | seconds |\n| --- | ---: |", flush=True)

    def report(name: str, seconds: float, error: Exception | None) -> None:
        print(f"| {name}{f' (skipped: {error})' if error else ''} | {seconds:.1f} |", flush=True)

    total = sum(precompute.warm(url, version, latest, on_step=report).values())  # as the server runs it
    print(f"| **total** | {total:.1f} |\n", flush=True)
    print(f"peak memory of this process after the precompute: {_peak_mb():,.0f} MB\n", flush=True)
    print("| page | first script run | warm script run (median) |\n| --- | ---: | ---: |", flush=True)
    for path in page_paths():
        at = AppTest.from_file(str(ROOT / "dashboard" / "app.py"), default_timeout=3600)
        start = time.perf_counter()
        at.run()
        script = (ROOT / "pages" / f"{path or 'overview'}.py")
        if path:
            at.switch_page(f"../pages/{script.name}").run()
        first = time.perf_counter() - start
        warm = []
        for _ in range(repeat):
            start = time.perf_counter()
            at.run()
            warm.append(time.perf_counter() - start)
        if at.exception:
            print(f"exception on {path or 'overview'}: {at.exception[0].value}", file=sys.stderr)
        print(f"| {path or 'overview'} | {first:.2f} s | {statistics.median(warm) * 1000:.0f} ms |", flush=True)
    print(f"\npeak memory of this process after the page runs: {_peak_mb():,.0f} MB", flush=True)


def _peak_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _rss_mb(pid: int) -> float:
    total = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            total = int(line.split()[1])
    return total / 1024


BENCH_SECRET = "the benchmark's results secret, shared by its servers"
BENCH_USER, BENCH_PASSWORD = "bench-admin", "the benchmark's own long password"
SIGN_IN_TITLES = ("Sign in", "登录")


def _with_bench_user(url: str) -> None:
    """A mall's database asks every visitor to sign in: the benchmark's administrator exists there."""
    from vipmodel import db
    from vipmodel.auth import SYSTEM
    from vipmodel.users import add_user, list_users

    engine = db.make_engine(url)
    if BENCH_USER not in set(list_users(engine, SYSTEM)["username"]):
        add_user(engine, SYSTEM, BENCH_USER, "admin", BENCH_PASSWORD)
    engine.dispose()


def _open(page, url: str) -> float:
    """Open ``url`` as a new visitor: seconds until the page is rendered. A new browser session meets the sign-in
    form first; then the time runs from pressing "Sign in" to the requested page rendered (what the visitor waits
    for the page), not the form's own load."""
    start = time.perf_counter()
    page.goto(url)
    page.wait_for_selector("h1", timeout=600_000)
    page.wait_for_selector(DONE, timeout=3_600_000)
    if page.locator("h1").first.inner_text().strip() not in SIGN_IN_TITLES:
        return time.perf_counter() - start
    form = page.locator('[data-testid="stForm"]')
    form.locator('input[type="password"]').wait_for(timeout=60_000)
    form.locator('input[type="text"]').first.fill(BENCH_USER)
    form.locator('input[type="password"]').fill(BENCH_PASSWORD)
    start = time.perf_counter()
    form.locator('[data-testid="stFormSubmitButton"] button').click()
    page.wait_for_function(RENDERED, polling=200, timeout=600_000)
    return time.perf_counter() - start


# Signed in and rendered: the page's own title instead of the sign-in form's, the run finished, and no element still
# a placeholder. Right after the click, the run state can still read "notRunning" from before the rerun: the title
# and the placeholders tell it apart. (The Administration page has a password field of its own.)
RENDERED = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  const title = document.querySelector('h1');
  return app && app.dataset.testScriptState === 'notRunning' && title
    && !%s.includes(title.innerText.trim())
    && !document.querySelector('[data-testid="stSkeleton"]');
}""" % json.dumps(list(SIGN_IN_TITLES))


def _start_server(url: str, home: Path, log: Path) -> tuple[subprocess.Popen, str]:
    """``streamlit run`` with the background precompute on, home folder ``home``; waits for health."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "dashboard/server.py", "--server.address", "127.0.0.1",
         "--server.port", str(port), "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env={**os.environ, "VIPDASH_DATABASE_URL": url, "VIPDASH_PRECOMPUTE": "1", "HOME": str(home),
                       "VIPDASH_REFRESH": "0", "VIPDASH_RESULTS_KEY": BENCH_SECRET},
        stdout=log.open("w"), stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(240):
        try:
            urllib.request.urlopen(f"{base}/_stcore/health", timeout=2)
            break
        except OSError:
            time.sleep(0.5)
    return proc, base


# The server's log line when the precompute has computed every page's default view, or read it from the database
# (stored there by an earlier precompute, this or another server's).
PRECOMPUTE_DONE = ("precompute finished in", "precompute read from the database in")


def _wait_for_precompute(log: Path, timeout: float) -> str:
    """The text after the server's :data:`PRECOMPUTE_DONE` log line (dashboard/server.py starts it with the server)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        for line in log.read_text(errors="replace").splitlines():
            for done in PRECOMPUTE_DONE:
                if done in line:
                    return line.split(done, 1)[1].strip()
        time.sleep(1)
    raise TimeoutError(f"no precompute within {timeout:.0f} s; see {log}")


def _first_loads(browser, base: str, label: str) -> Iterator[tuple[str, str]]:
    """Each page opened in a new browser session (a new visitor), then reloaded (another new session); a row per
    page as soon as it is measured."""
    for path in page_paths():
        context = browser.new_context(viewport={"width": 1400, "height": 2000})
        page = context.new_page()
        try:
            times = [f"{_open(page, f'{base}/{path}'):.2f} s" for _ in range(2)]
        except Exception as exc:  # noqa: BLE001 - one page's failure is reported, the others still measured
            page.screenshot(path=f"/tmp/bench-load-{path or 'overview'}.png", full_page=True)
            times = [f"not rendered ({type(exc).__name__})", "-"]
        yield f"/{path}: first load {label} / reload (new visitors, after sign-in)", " / ".join(times)
        context.close()


# (measure, page, index of the chart the first slider redraws): the pyramid's threshold preview and the
# Satisfaction page's index by tier.
SLIDERS = (("threshold slider", "pyramid", 2), ("satisfaction weight slider", "satisfaction", 0))


def _slider_latencies(browser, url: str, chart_index: int, moves: int = 11) -> list[float | None]:
    """Seconds from a key press on the page's first slider to the chart redrawn and the run finished, per move
    (None: no redraw within a minute).

    Each move is a value not seen before (one step right), so nothing comes from a cache of that value.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page = browser.new_page(viewport={"width": 1400, "height": 2000})
    _open(page, url)
    if page.locator('[data-testid="stPlotlyChart"]').count() <= chart_index:
        page.screenshot(path=f"/tmp/bench-slider-{url.rsplit('/', 1)[-1]}.png", full_page=True)
        page.close()
        return [None]  # the chart is not on the page (see the screenshot): reported as not redrawn
    slider = page.locator('[data-testid="stSlider"]').first.locator('input[type="range"]')
    latencies: list[float | None] = []
    for _ in range(moves):
        chart = page.locator('[data-testid="stPlotlyChart"]').nth(chart_index)
        before = chart.inner_html()
        slider.focus()
        start = time.perf_counter()
        page.keyboard.press("ArrowRight")
        try:
            page.wait_for_function(
                "([el, old]) => el.innerHTML !== old", arg=[chart.element_handle(), before], timeout=60_000
            )
            page.wait_for_selector(DONE, timeout=60_000)
            latencies.append(time.perf_counter() - start)
        except PlaywrightTimeout:
            latencies.append(None)
            page.wait_for_selector(DONE, timeout=600_000)
        time.sleep(0.5)  # a person reads the chart before the next move
    page.close()
    return latencies


def _latency_row(label: str, latencies: list[float | None]) -> tuple[str, str]:
    measured = [s for s in latencies if s is not None]
    first = f"{latencies[0] * 1000:.0f} ms" if latencies[0] is not None else "no redraw"
    missed = len(latencies) - len(measured)
    result = f"{statistics.median(measured) * 1000:.0f} ms; {first}" if measured else "no redraw"
    return (f"{label} (median of {len(measured)}; first move)",
            result + (f"; {missed} of {len(latencies)} moves not redrawn within 60 s" if missed else ""))


def browser_measures(url: str, sessions: int = 5, precompute_timeout: float = 4 * 3600) -> Iterator[tuple[str, str]]:
    """Precompute time, first loads after it and on a second server, slider latency, server memory; each row as
    soon as it is measured."""
    import tempfile

    from playwright.sync_api import sync_playwright

    home = Path(tempfile.mkdtemp(prefix="bench-pages-home-"))
    _with_bench_user(url)
    log = home / "server.log"
    proc, base = _start_server(url, home, log)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            # dashboard/server.py starts the precompute with the server, before any visit.
            yield "background precompute after a data change", _wait_for_precompute(log, precompute_timeout)
            yield from _first_loads(browser, base, "after the precompute")

            for label, path, chart in SLIDERS:
                yield _latency_row(f"{label} → re-rendered chart", _slider_latencies(browser, f"{base}/{path}", chart))

            # Measured after the sliders, right before the other sessions: what those add is what grows per session.
            time.sleep(2)
            yield "server memory, 1 session", f"{_rss_mb(proc.pid):,.0f} MB"
            others = []
            for _ in range(sessions - 1):
                context = browser.new_context(viewport={"width": 1400, "height": 2000})
                other = context.new_page()
                _open(other, f"{base}/pyramid")
                others.append(context)
            time.sleep(2)
            yield f"server memory, {sessions} sessions", f"{_rss_mb(proc.pid):,.0f} MB"
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    # A second server (another machine of the group: another home folder, the same results secret) reads the data
    # version's results from the database. It starts once the first has gone and the system has taken back its
    # memory (gigabytes at a million members), as a restart would.
    time.sleep(15)
    home = Path(tempfile.mkdtemp(prefix="bench-pages-second-"))
    proc, base = _start_server(url, home, home / "restart.log")
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            # It reads the precomputed views back into memory as it starts (timed from its log), then is visited.
            started = time.perf_counter()
            read = _wait_for_precompute(home / "restart.log", precompute_timeout)
            yield ("start-up read of the stored views by a second server",
                   f"{read.split(':', 1)[0]} (ready {time.perf_counter() - started:.0f} s after health)")
            yield from _first_loads(browser, base, "on the second server")
            for label, path, chart in SLIDERS:  # the in-memory parts are rebuilt on the first move
                yield _latency_row(f"{label} on the second server", _slider_latencies(browser, f"{base}/{path}", chart))
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="SQLAlchemy URL of a loaded mall")
    parser.add_argument("--sessions", type=int, default=5)
    parser.add_argument("--skip-browser", action="store_true")
    parser.add_argument("--skip-script-runs", action="store_true",
                        help="skip the precompute and AppTest script runs in this process")
    parser.add_argument("--skip-page", action="append", default=[],
                        help="a page path not to open (e.g. report, whose week needs `vipmodel refresh` first)")
    args = parser.parse_args(argv)
    SKIPPED_PAGES.update(args.skip_page)
    print(f"\n{dt.date.today().isoformat()} · {platform.node()} · {platform.machine()} · {args.url}\n")
    if not args.skip_script_runs:
        warm_script_runs(args.url)
    if not args.skip_browser:
        print("\n| browser measure | result |\n| --- | ---: |")
        for measure, result in browser_measures(args.url, args.sessions):
            print(f"| {measure} | {result} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
