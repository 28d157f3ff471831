"""Precompute every page's default view once per data version, in the background, into the shared cache.

The heavy part of each page (SQL aggregation over all transactions, model fits) depends only on the data, the
period and the saved settings, not on who is looking. Computing it right after the data changes, before anyone
opens the page, turns a first visit into a cache read. A server computes them in a separate process and reads the
results back (``_warm_and_record``). With ``persist="disk"`` on the loaders, a restarted server computes nothing
again when the precompute completed on disk for the same data, settings and code: the same steps only read the
results back into memory, started with the server by ``dashboard/server.py`` (seconds, where each first visit
would otherwise wait for its own share). Widget-driven results (a different budget, weights or grouping) are
derived from these and stay cheap.
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import json
import os
import sys
import threading
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import streamlit as st
from streamlit.logger import get_logger

from dashboard import data, state
from dashboard.state import ALL_TIERS
from vipmodel.outcomes import add_years
from vipmodel.reuse import shared_queries

ENV_SWITCH = "VIPDASH_PRECOMPUTE"  # "0" turns the background precompute off (the test suite does)
COMPLAINT_YEARS = 2  # as pages/complaints.py: two behaviour years, each followed by its outcome year
TOP_REFERRERS = 20  # as pages/referrals.py
REMEMBERED_DATABASES = 20  # databases whose data token the disk cache remembers (each test run adds one)
TOKENS_FILE = "vipdash-data-tokens.json"  # next to Streamlit's disk cache: {url: data token it holds results of}
COMPLETED_FILE = "vipdash-precomputed.json"  # {url: fingerprint of the last precompute that finished}
SHARED_RESULTS = 40  # aggregations kept during a precompute: about every distinct one of a data version
_LOG = get_logger(__name__)  # Streamlit's handler and level: the server's log shows it


def enabled() -> bool:
    """Whether this server precomputes (on unless ``VIPDASH_PRECOMPUTE=0``)."""
    return os.environ.get(ENV_SWITCH, "1") != "0"


def default_period(latest: dt.date, first: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The sidebar's default period: the 365 days up to the latest data, from its first day at the earliest
    (``state.default_period``, as ``state.load_from_query_params`` sets it)."""
    return state.default_period(latest, first)


def panel_views() -> tuple[tuple[str, ...], ...]:
    """The complaints page's panel analyses at its default view (the first grouping of the selectbox)."""
    # Imported here: vipmodel.complaints brings scipy.stats (0.7 s), which a restarted server's first page need not
    # wait for when the precompute is not needed.
    from vipmodel.complaints import GROUPINGS

    return (("facts",), ("churn_by_group", GROUPINGS[0]), ("group_difference_test", GROUPINGS[0]),
            ("standard_effects",), ("correlation_matrix",))


def steps(url: str, version: str, latest: dt.date) -> list[tuple[str, Callable[[], object]]]:
    """(name, call) for every heavy loader a page calls at its default view, in the order the pages need them."""
    start, end = default_period(latest, data.load_first_date(url, version))
    year_start = add_years(end, -1) + dt.timedelta(days=1)
    rules = data.load_tier_rules(url)[0].to_payload()
    weights = data.load_referral_weights(url)
    saved_weights = data.load_satisfaction_weights(url)[0].to_payload()
    return [
        ("overview.kpis", lambda: data.load_overview_kpis(url, version, end)),
        # The estimated-margin note of every page that shows profit: one pass over the period's sales.
        ("margins.coverage", lambda: data.load_margin_coverage(url, version, start, end)),
        ("overview.trend", lambda: data.load_weekly_trend(url, version, end)),
        ("overview.pyramid", lambda: data.shared(data.load_pyramid_features, url, version, year_start, end)),
        ("pyramid.features", lambda: data.shared(data.load_pyramid_features, url, version, start, end)),
        # In memory only: the first threshold move need not rank a million members.
        ("pyramid.preview", lambda: data.shared(data.load_rule_preview, url, version, start, end,
                                                data.load_tier_rules(url)[0])),
        ("migration.snapshots", lambda: data.load_snapshots(
            url, version, add_years(end, -3) + dt.timedelta(days=1), end, "year", rules)),
        ("migration.flows", partial(_migration, url, version, end, rules)),
        ("complaints.panel", lambda: data.shared(data.load_churn_panel, url, version, end, COMPLAINT_YEARS, rules)),
        ("complaints.count", lambda: data.load_complaint_count(url, version, start, end, None, ALL_TIERS)),
        ("satisfaction.scores", lambda: data.shared(data.load_dimension_scores, url, version, start, end)),
        ("satisfaction.weights", partial(_satisfaction, url, version, start, end, rules)),
        ("satisfaction.suggested", lambda: data.load_suggested_weights(url, version, end, rules, saved_weights)),
        ("satisfaction.loyalty", lambda: data.load_loyalty_indicators(url, version, end)),
        ("referrals.new", lambda: data.load_new_member_referrals(url, version, start, end)),
        ("referrals.rates", lambda: data.load_referral_rates(url, version, end, "tier", rules, weights)),
        ("referrals.value", lambda: data.load_referred_value(url, version, end)),
        # As pages/referrals.py and pages/complaints.py call them: all stores, all tiers, names masked.
        ("referrals.top", lambda: data.load_top_referrers(url, version, start, end, TOP_REFERRERS, False, rules,
                                                          weights, None, ALL_TIERS)),
        ("complaints.regression", lambda: data.load_complaint_regression(
            url, version, end, COMPLAINT_YEARS, rules, None, ALL_TIERS)),
        *((f"complaints.{name}", partial(_panel_analysis, url, version, end, rules, name, *args))
          for name, *args in panel_views()),
        ("care.model", lambda: data.load_care_model(url, version, end, rules)),
        ("care.members", lambda: data.load_care_members(url, version, end, rules)),
        ("care.current_plan", lambda: data.load_current_care_plan(url, version, end, rules)),
        ("care.simulation", partial(_care, url, version, end, rules)),
        ("value.values", lambda: data.load_member_values(url, version, end)),
        ("value.at_risk", lambda: data.load_at_risk(url, version, end, rules, weights)),
        ("value.model", lambda: data.load_value_model(url, version, end)),
        ("value.view", lambda: data.shared(data.load_value_view, url, version, end, rules, weights)),
        ("value.flagged", lambda: data.shared(data.load_flagged_members, url, version, end, rules, weights)),
        ("value.sections", lambda: data.load_value_sections(url, version, end, rules, weights, None, ALL_TIERS)),
        ("value.evaluation", lambda: data.shared(data.load_churn_evaluation, url, version, end, rules, weights)),
    ]


def _migration(url: str, version: str, end: dt.date, rules: dict) -> None:
    # As pages/migration.py opens: yearly snapshots over three years, the last two periods, Gold -> lost.
    args = (url, version, add_years(end, -3) + dt.timedelta(days=1), end, "year", rules, None)
    periods, _ = data.load_snapshot_periods(*args)
    if len(periods) >= 2:
        data.load_transition(*args, periods[-2], periods[-1])
        data.load_transition_values(*args, periods[-2], periods[-1], data.FLOW_WEIGHTS[0])  # the meeting's default
        data.load_members_in_cell(*args, periods[-2], periods[-1], "B", "lost")


def _satisfaction(url: str, version: str, start: dt.date, end: dt.date, rules: dict) -> None:
    # As pages/satisfaction.py opens: the saved weights through the sliders (whole percent) checked against the
    # saved ones, the index grouped by tier, and the importance-performance table.
    from vipmodel.satisfaction import SatisfactionWeights

    saved = data.load_satisfaction_weights(url)[0]
    weights = SatisfactionWeights.normalised(*(int(round(v * 100)) for v in saved.as_dict().values()))
    for payload in (weights.to_payload(), saved.to_payload()):
        data.load_weights_check(url, version, start, end, rules, None, ALL_TIERS, payload)
    data.load_satisfaction_index(url, version, start, end, weights.to_payload(), "tier", "quarter", rules)
    # What a weight slider move reads, in memory (a restarted server finds the two results above on disk): the
    # panel reduced to its score patterns, with the next-year sales ranks of all-positive weights, and the tiers.
    data.shared(data.tiered_scores, url, version, start, end, rules)
    data.shared(data.weight_evaluator, url, version, end, rules, None, ALL_TIERS).evaluate(weights)
    data.load_importance_performance(url, version, end, rules, saved.to_payload())


def _care(url: str, version: str, end: dt.date, rules: dict) -> None:
    # As pages/care.py opens: the saved plan (else last year's) through the editor at 100%, all stores and tiers;
    # its simulation against last year's plan, the spend curves and the optimiser at last year's spend.
    from dashboard.figures.care import editor_frame, plan_from_editor
    from vipmodel.care import CarePlan

    history = data.load_current_care_plan(url, version, end, rules)
    saved, _ = data.load_saved_care_plan(url)
    plan = plan_from_editor(editor_frame(CarePlan.from_payload(saved or history), "en"), 1.0)
    sim = data.load_care_simulation(url, version, end, rules, plan.to_payload(), history, None, ALL_TIERS)
    data.load_care_curve(url, version, end, rules, sim.plan.to_payload(), store=None, tiers=ALL_TIERS)
    budget = float(round(sim.current.iloc[-1]["spend"], -2))
    data.load_care_allocation(url, version, end, rules, budget, dict(sim.plan.unit_costs), "retained_value", None,
                              ALL_TIERS, 1.0)


def _panel_analysis(url: str, version: str, end: dt.date, rules: dict, name: str, *args) -> object:
    return data.load_panel_analysis(url, version, end, COMPLAINT_YEARS, rules, None, ALL_TIERS, name, *args)


def warm(url: str, version: str, latest: dt.date,
         on_step: Callable[[str, float, Exception | None], None] | None = None,
         done: str = "precompute finished") -> dict[str, float]:
    """Run every step; returns seconds per step and calls ``on_step(name, seconds, error)`` after each. A step
    whose data cannot support it is skipped (logged): the page explains that case itself when it is opened.
    The log line at the end starts with ``done``. Loaders that pages read through :func:`data.shared` are read
    the same way here, so a page finds the object built, not only its bytes."""
    seconds: dict[str, float] = {}
    # The pages' analyses read the same yearly aggregations over and over (features of the year, purchase
    # summaries, the churn panel): within this one data version each runs once (vipmodel.reuse).
    with shared_queries(max_entries=SHARED_RESULTS) as reuse:
        for name, call in steps(url, version, latest):
            started, error = time.perf_counter(), None
            try:
                call()
            except Exception as exc:  # noqa: BLE001 - a background job must not die on one page's data
                _LOG.info("precompute %s skipped: %s", name, exc)
                error = exc
            seconds[name] = time.perf_counter() - started
            if on_step is not None:
                on_step(name, seconds[name], error)
    _LOG.info("%s in %.1f s: %s; aggregations run %d, reused %d", done, sum(seconds.values()),
              ", ".join(f"{name} {s:.1f} s" for name, s in seconds.items()), sum(reuse.runs.values()),
              sum(reuse.reuses.values()))
    return seconds


@st.cache_resource(show_spinner=False)
def _jobs() -> dict[tuple[str, str, str, str], threading.Thread]:
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
    record = None if _completed_on_disk(url, fingerprint) else fingerprint
    if record is None:
        _LOG.info("precompute not needed: this data version's results are on disk; reading them into memory")
    thread = threading.Thread(target=_warm_and_record, args=(url, version, latest, record),
                              name="vipdash-precompute", daemon=True)
    jobs[key] = thread
    thread.start()


def _warm_and_record(url: str, version: str, latest: dt.date, fingerprint: str | None) -> None:
    """Compute the steps and record ``fingerprint`` as completed, or with None (the results are on disk) only read
    them back.

    A server computes in a separate process (:func:`_compute_apart`) and then reads the results back from the disk
    cache: the server's own process stays free for its visitors during a precompute of half an hour (Python runs
    one thread at a time), and holds only the results afterwards, not the gigabytes the aggregations passed
    through. Without Streamlit's runtime (tests, scripts) the caches are in memory only, and the steps run here.
    """
    started = time.perf_counter()
    if fingerprint is None:
        warm(url, version, latest, on_step=_keep_from_the_collector, done="precompute read from the disk cache")
        return
    if _persists_on_disk() and _compute_apart(url, version, latest):
        computed = time.perf_counter() - started
        warm(url, version, latest, on_step=_keep_from_the_collector, done="precompute read back")
        _LOG.info("precompute finished in %.1f s: computed in a separate process in %.1f s, read back in %.1f s",
                  time.perf_counter() - started, computed, time.perf_counter() - started - computed)
    else:
        warm(url, version, latest, on_step=_keep_from_the_collector)
    _record(COMPLETED_FILE, url, fingerprint)  # not reached when the server stops midway: the next start warms


def _persists_on_disk() -> bool:
    from streamlit import runtime

    return runtime.exists()


def _compute_apart(url: str, version: str, latest: dt.date) -> bool:
    """Run :func:`warm` in a child process that writes Streamlit's disk cache (its log goes to the server's);
    False when it failed, and the caller computes in this process instead."""
    import subprocess

    command = [sys.executable, "-m", "dashboard.precompute_process", url, version, latest.isoformat(),
               str(os.getpid())]
    try:
        done = subprocess.run(command, cwd=Path(__file__).resolve().parent.parent, check=False)
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
    ran 670 of them, and one could stall any slider move or page. :func:`dashboard.data.clear_shared` unfreezes when
    the data is replaced, so the dropped results are collected again.
    """
    gc.collect()
    gc.freeze()


def _fingerprint(key: tuple[str, str, str, str]) -> str:
    """The job's key and the source of the loaders and of the steps: the disk cache's keys change with either."""
    digest = hashlib.sha256(repr(key).encode("utf-8"))
    for module in (data, sys.modules[__name__]):
        digest.update(Path(module.__file__).read_bytes())
    return digest.hexdigest()


def _marker_folder() -> Path:
    from streamlit.runtime.caching.storage.local_disk_cache_storage import get_cache_folder_path

    return Path(get_cache_folder_path()).parent


def _read(name: str) -> dict[str, str]:
    try:
        return json.loads((_marker_folder() / name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _record(name: str, url: str, value: str | None) -> None:
    """Set (or with None drop) ``url`` in marker file ``name``, keeping the last REMEMBERED_DATABASES."""
    values = _read(name)
    values.pop(url, None)
    if value is not None:
        values[url] = value  # last: the oldest databases seen are forgotten first
    values = dict(list(values.items())[-REMEMBERED_DATABASES:])
    try:
        _marker_folder().mkdir(parents=True, exist_ok=True)
        (_marker_folder() / name).write_text(json.dumps(values), encoding="utf-8")
    except OSError as exc:  # a read-only home: the cache still works, it is only not pruned nor trusted
        _LOG.warning("cannot record the cache state in %s: %s", _marker_folder() / name, exc)


def _completed_on_disk(url: str, fingerprint: str) -> bool:
    return _read(COMPLETED_FILE).get(url) == fingerprint


def running(url: str, version: str) -> bool:
    """True while the precompute for this data version and the saved settings is still working."""
    thread = _jobs().get(_key(url, version))
    return thread is not None and thread.is_alive()


def _key(url: str, version: str) -> tuple[str, str, str, str]:
    # Saved tier rules and satisfaction weights are part of the heavy loaders' keys: saving new ones warms again.
    return url, version, repr(data.load_tier_rules(url)[0].to_payload()), repr(data.load_referral_weights(url))


def _forget_older_data(url: str, version: str) -> None:
    """Drop every cached result, in memory and on disk, when this database's data token differs from the one the
    disk cache was filled for: results of replaced data are never read again, and the disk must not fill up
    with one copy per import."""
    tokens = _read(TOKENS_FILE)
    if tokens.get(url) == version:
        return
    if url in tokens:
        st.cache_data.clear()
        data.clear_shared()
        (_marker_folder() / COMPLETED_FILE).unlink(missing_ok=True)  # the clear emptied every database's results
    _record(TOKENS_FILE, url, version)
