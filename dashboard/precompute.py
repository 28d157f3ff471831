"""Precompute every page's default view once per data version, in the background, into the mall's database.

The heavy part of each page (SQL aggregation over all transactions, model fits) depends only on the data, the
period and the saved settings, not on who is looking. Computing it right after the data changes, before anyone
opens the page, turns a first visit into a read. A server computes the steps in a process of its own
(``python -m dashboard.precompute_process``), which stores each result in the database (``dashboard.data.stored``),
and then reads them back into its memory (``_warm_and_record``). A second server on the same database, or a
restarted one, finds the precompute complete there and only reads the results (seconds), computing nothing.
Widget-driven results (a different budget, weights or grouping) are derived from these and stay cheap.
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import os
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import streamlit as st
from streamlit.logger import get_logger

from dashboard.data import common, stored
from dashboard.precompute_plan import SERVER_ONLY, chains, group, steps
from vipmodel.reuse import shared_queries

URL_ENV = "VIPDASH_PRECOMPUTE_URL"  # the database the precompute process works on (a URL may hold a password)
ENV_SWITCH = "VIPDASH_PRECOMPUTE"  # "0" turns the background precompute off (the test suite does)
SHARED_RESULTS = 40  # aggregations kept during a precompute: about every distinct one of a data version
SHARED_IN_MEMORY = 4  # of which in memory, the others in a temporary folder (0.1-0.3 GB each at 1M members)
_LOG = get_logger(__name__)  # Streamlit's handler and level: the server's log shows it


def enabled() -> bool:
    """Whether this server precomputes (on unless ``VIPDASH_PRECOMPUTE=0``)."""
    return os.environ.get(ENV_SWITCH, "1") != "0"


def warm(url: str, version: str, latest: dt.date,
         on_step: Callable[[str, float, Exception | None], None] | None = None,
         done: str = "precompute finished", hold: bool = True,
         chain: int | None = None) -> dict[str, float]:
    """Run every step; returns seconds per step and calls ``on_step(name, seconds, error)`` after each. A step
    whose data cannot support it is skipped (logged): the page explains that case itself when it is opened.
    The log line at the end starts with ``done``. Loaders that pages read through :func:`common.shared` are read
    the same way here, so a page finds the object built, not only its bytes.

    ``hold=False`` (the precompute process, whose results are in the database) skips the steps that are not stored
    (:data:`~dashboard.precompute_plan.SERVER_ONLY`) and drops this process's copies of the results when a page's
    steps are done (a :func:`~dashboard.precompute_plan.group` of pages, for those reading the churn panel): a later
    step that needs one reads it back, and the process's memory holds one page's results at a time instead of every
    page's. ``chain=i`` runs only the ``i``-th of
    :func:`chains` (in one of several processes working at once).
    """
    seconds: dict[str, float] = {}
    todo = steps(url, version, latest) if chain is None else chains(url, version, latest)[chain]
    if not hold:  # a process that keeps nothing has no use for what is not stored
        todo = [step for step in todo if step[0] not in SERVER_ONLY]
    # The pages' analyses read the same yearly aggregations over and over (features of the year, purchase
    # summaries, the churn panel): within this one data version each runs once (vipmodel.reuse).
    with shared_queries(max_entries=SHARED_RESULTS, in_memory=SHARED_IN_MEMORY) as reuse:
        for position, (name, call) in enumerate(todo):
            started, error = time.perf_counter(), None
            try:
                call()
            except Exception as exc:  # noqa: BLE001 - a background job must not die on one page's data
                _LOG.info("precompute %s skipped: %s", name, exc)
                error = exc
            seconds[name] = time.perf_counter() - started
            if not hold and (position + 1 == len(todo) or group(todo[position + 1][0]) != group(name)):
                st.cache_data.clear()
                common.clear_shared()
            if on_step is not None:
                on_step(name, seconds[name], error)
    _LOG.info("%s in %.1f s: %s; peak memory of this process %.0f MB; aggregations run %d, reused %d (%d kept on "
              "disk a while)", done, sum(seconds.values()), ", ".join(f"{name} {s:.1f} s" for name, s in seconds.items()),
              peak_memory_mb(), sum(reuse.runs.values()), sum(reuse.reuses.values()), reuse.spilled)
    return seconds


def peak_memory_mb() -> float:
    """The most memory this process has held (its peak resident set, Linux), NaN where the system does not say."""
    try:
        import resource
    except ImportError:  # Windows
        return float("nan")
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


@st.cache_resource(show_spinner=False)
def _jobs() -> dict[tuple[str, str, str, str], threading.Thread]:
    return {}


@st.cache_resource(show_spinner=False)
def _versions_in_memory() -> dict[str, str]:
    """{url: the data and model version whose results this server's memory holds}."""
    return {}


def start(url: str, version: str, latest: dt.date | None) -> None:
    """Start the background precompute for this data version unless it ran or runs in this server already."""
    if latest is None or not enabled():
        return
    jobs, key = _jobs(), _key(url, version)
    if key in jobs:
        return
    _forget_older_data(url, version)
    fingerprint = _fingerprint(key)
    complete = stored.enabled() and stored.is_complete(url, fingerprint)
    if complete:
        _LOG.info("precompute not needed: this data version's results are in the database; reading them into memory")
    thread = threading.Thread(target=_warm_and_record, args=(url, version, latest, None if complete else fingerprint),
                              name="vipdash-precompute", daemon=True)
    jobs[key] = thread
    thread.start()


def _warm_and_record(url: str, version: str, latest: dt.date, fingerprint: str | None) -> None:
    """Compute the steps and record ``fingerprint`` as complete in the database, or with None (complete already)
    only read the results back.

    The steps are computed in a separate process (:func:`_compute_apart`) that stores them in the database; this
    server then reads them back: its own process stays free for its visitors during a precompute of twenty minutes
    (Python runs one thread at a time), and holds only the results afterwards, not the gigabytes the aggregations
    passed through. With stored results switched off (``VIPDASH_STORED_VIEWS=0``) the steps run here.
    """
    started = time.perf_counter()
    if fingerprint is None:
        warm(url, version, latest, on_step=_keep_from_the_collector, done="precompute read from the database")
        return
    if stored.enabled() and not stored.claim(url, version, fingerprint):
        # Another server of the group computes this data version's views: wait for them instead of computing twice.
        _LOG.info("precompute runs on another server: waiting for its results in the database")
        if stored.wait_for_complete(url, fingerprint):
            warm(url, version, latest, on_step=_keep_from_the_collector, done="precompute read from the database")
            return
        _LOG.info("the other server's precompute stopped: computing here")
        stored.claim(url, version, fingerprint)
    try:
        _compute_and_record(url, version, latest, fingerprint, started)
    finally:
        if stored.enabled():
            stored.release(url, fingerprint)


def _compute_and_record(url: str, version: str, latest: dt.date, fingerprint: str, started: float) -> None:
    if stored.enabled() and _compute_apart(url, version, latest):
        computed = time.perf_counter() - started
        warm(url, version, latest, on_step=_keep_from_the_collector, done="precompute read back")
        _LOG.info("precompute finished in %.1f s: computed in a separate process in %.1f s, read back in %.1f s",
                  time.perf_counter() - started, computed, time.perf_counter() - started - computed)
    else:
        if stored.enabled():
            stored.prune(url, version)
        with stored.writing():
            warm(url, version, latest, on_step=_keep_from_the_collector)
    if stored.enabled():  # not reached when the server stops midway: the next start computes what is missing
        stored.mark_complete(url, version, fingerprint)


def _compute_apart(url: str, version: str, latest: dt.date) -> bool:
    """Run :func:`warm` in a child process that stores the results in the database (its log goes to the
    server's); False when it failed, and the caller computes in this process instead."""
    import subprocess

    command = [sys.executable, "-m", "dashboard.precompute_process", version, latest.isoformat(), str(os.getpid())]
    env = {**os.environ, URL_ENV: url}  # not in argv: a URL may hold a password
    try:
        done = subprocess.run(command, cwd=Path(__file__).resolve().parent.parent, env=env, check=False)
    except OSError as exc:
        _LOG.warning("precompute process did not start (%s): computing in the server", exc)
        return False
    if done.returncode != 0:
        _LOG.warning("precompute process ended with code %s: computing in the server", done.returncode)
    return done.returncode == 0


def _keep_from_the_collector(*_step) -> None:
    """Collect, then freeze every object alive (``gc.freeze``): what the precompute keeps lives as long as this data
    version, and Python's full collections no longer walk it.

    With a million members' results in memory each full collection took 170 ms and found nothing to free; a precompute
    ran 670 of them, and one could stall any slider move or page. :func:`dashboard.data.common.clear_shared`
    unfreezes when the data is replaced, so the dropped results are collected again.
    """
    gc.collect()
    gc.freeze()


def _fingerprint(key: tuple[str, str, str, str]) -> str:
    """The job's key (without the URL: the database is where it is recorded) and the dashboard's code: a precompute
    recorded complete by other code is not taken as complete."""
    return hashlib.sha256(repr((key[1:], stored.code_version())).encode("utf-8")).hexdigest()


def running(url: str, version: str) -> bool:
    """True while the precompute for this data version and the saved settings is still working."""
    thread = _jobs().get(_key(url, version))
    return thread is not None and thread.is_alive()


def _key(url: str, version: str) -> tuple[str, str, str, str]:
    # Saved tier rules and satisfaction weights are part of the heavy loaders' keys: saving new ones warms again.
    return url, version, repr(common.load_tier_rules(url)[0].to_payload()), repr(common.load_referral_weights(url))


def _forget_older_data(url: str, version: str) -> None:
    """Drop every result in this server's memory when this database's data (or the model code) changed since they
    were computed: results of replaced data are never read again, and must not fill the memory."""
    versions = _versions_in_memory()
    if versions.get(url, version) != version:
        st.cache_data.clear()
        common.clear_shared()
    versions[url] = version
