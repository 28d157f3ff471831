"""Prepare the weekly pack's results after the data or the saved settings change, before anyone asks for the pack.

When the app sees a data version (an import, a demo generation) or saved tier rules / satisfaction weights it has
not seen, it starts ``python -m vipmodel refresh --as-of <Sunday of the Report page's default week>`` in a process
of its own (the command a mall's cron runs after the nightly import; the database URL is passed in the environment,
not on the command line, so a password does not show in the process list). The results go into the database
(:mod:`vipmodel.results`), so the Report page, the ``report`` command and any other app server read them instead of
fitting the value models while someone waits. Nothing starts when a run for that day already matches the data,
code and settings. The refresh waits for this server's background precompute to finish: both are heavy at a
million members, and the precompute serves the pages first.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import streamlit as st
from streamlit.logger import get_logger

from dashboard import precompute, report_data
from dashboard.data import common
from dashboard.report_data import REFRESH_SWITCH as ENV_SWITCH  # noqa: F401 - "0" turns the refresh off
from dashboard.report_data import refreshes as enabled
from vipmodel.db import ENV_URL

_WAIT_S = 5.0  # how often a waiting refresh looks whether the precompute has finished
_LOG = get_logger(__name__)


@st.cache_resource(show_spinner=False)
def _jobs() -> dict[tuple, threading.Thread]:
    return {}


def report_day(url: str, version: str, latest: dt.date | None) -> dt.date | None:
    """The Sunday of the Report page's default week (the last complete week), None without data."""
    from vipmodel.weekly import parse_week

    weeks = report_data.load_weeks(url, version)
    return parse_week(report_data.default_week(weeks, latest))[1] if weeks and latest is not None else None


def _key(url: str, version: str) -> tuple:
    # The saved settings the results depend on are part of the key: saving new rules or weights refreshes again.
    return url, version, repr(common.load_tier_rules(url)[0].to_payload()), repr(common.load_referral_weights(url))


def start(url: str, version: str, latest: dt.date | None) -> None:
    """Start the refresh for the default report week unless it ran or runs for this data and these settings.

    Called on every page run: it only looks up a key; the week's day is found in the background thread.
    """
    if latest is None or not enabled():
        return
    jobs, key = _jobs(), _key(url, version)
    if key in jobs:
        return
    thread = threading.Thread(target=_run, args=(url, version, latest), name="vipdash-refresh", daemon=True)
    jobs[key] = thread
    thread.start()


def running(url: str, version: str) -> bool:
    """True while this server's refresh for the data and the saved settings is working."""
    thread = _jobs().get(_key(url, version))
    return thread is not None and thread.is_alive()


def _run(url: str, version: str, latest: dt.date) -> None:
    from vipmodel import results

    while precompute.running(url, version):
        time.sleep(_WAIT_S)
    day = report_day(url, version, latest)
    if day is None:
        return
    if results.current_run(common.get_engine(url), as_of=day) is not None:
        _LOG.info("refresh for %s not needed: its results are in the database", day)
        return
    command = [sys.executable, "-m", "vipmodel", "refresh", "--as-of", day.isoformat()]
    started = time.perf_counter()
    try:
        done = subprocess.run(command, cwd=Path(__file__).resolve().parent.parent, env={**os.environ, ENV_URL: url},
                              capture_output=True, text=True, check=False)
    except OSError as exc:
        _LOG.warning("refresh did not start: %s", exc)
        return
    line = (done.stdout or done.stderr).strip().splitlines()[-1:] or [""]
    _LOG.info("refresh for %s ended with code %s in %.1f s: %s", day, done.returncode,
              time.perf_counter() - started, line[0])
