"""The background precompute warms exactly what the pages read at their default view."""

from __future__ import annotations

import gc
import json

import pytest
from streamlit.runtime.caching.cache_data_api import _data_caches

from dashboard import precompute
from dashboard.data import common, complaints
from vipmodel import reuse
from tests.dashboard.conftest import open_page

PAGES = ["overview", "pyramid", "migration", "referrals", "care", "satisfaction", "complaints", "value", "data"]

# Loaders a page may still compute after the precompute: cheap ones, and those driven by a widget's value
# (derived from precomputed results). Anything else computing on a page's first visit means the precompute
# called it with other arguments than the page does, or missed it.
CHEAP_OR_WIDGET_DRIVEN = {
    "load_freshness", "load_latest_date", "load_stores", "load_setting_history", "load_top_referrers", "load_complaint_regression", "maintenance_plan_xlsx",
    "load_campaigns",  # a small read of the recorded campaigns (none on the demo)
}


def _cache_bytes() -> dict[str, int]:
    stats = _data_caches.get_stats().get("cache_memory_bytes", [])
    return {s.cache_name.rsplit(".", 1)[-1]: s.byte_length for s in stats}


def test_every_heavy_loader_a_page_reads_at_its_default_view_was_precomputed(demo_app, demo_sqlite_url):
    at = demo_app.run()  # the app's first run: the sidebar's default period and the data token
    assert not at.exception
    version = common.current_version(demo_sqlite_url)
    latest = common.load_latest_date(demo_sqlite_url, version)
    assert at.session_state["period"] == precompute.default_period(latest)
    reuse_seen = []
    seconds = precompute.warm(demo_sqlite_url, version, latest, on_step=lambda *_: reuse_seen.append(reuse.active()))
    # One shared_queries block around every step: the pages' analyses read each aggregation once.
    assert reuse_seen[0] is not None and all(r is reuse_seen[0] for r in reuse_seen)
    assert sum(reuse_seen[0].reuses.values()) > sum(reuse_seen[0].runs.values())
    assert set(seconds) == {name for name, _ in precompute.steps(demo_sqlite_url, version, latest)}
    warmed = _cache_bytes()
    heavy = {"load_member_values", "load_at_risk", "load_value_view", "load_flagged_members", "load_value_model",
             "load_churn_evaluation", "load_care_model", "load_churn_panel",
             "load_suggested_weights", "load_snapshots", "load_features", "load_overview_kpis"}
    assert heavy <= set(warmed)
    for page in PAGES:
        before = _cache_bytes()
        at = open_page(demo_app, page)
        assert not at.exception, page
        grown = {name for name, size in _cache_bytes().items() if size != before.get(name)}
        assert grown <= CHEAP_OR_WIDGET_DRIVEN, f"{page} computed {sorted(grown - CHEAP_OR_WIDGET_DRIVEN)} itself"


def test_the_background_precompute_starts_once_per_data_version(demo_sqlite_url, monkeypatch, tmp_path):
    monkeypatch.setenv(precompute.ENV_SWITCH, "1")
    monkeypatch.setenv("HOME", str(tmp_path))  # a disk cache of its own: no earlier run has completed there
    version = common.current_version(demo_sqlite_url)
    latest = common.load_latest_date(demo_sqlite_url, version)
    precompute.start(demo_sqlite_url, version, latest)
    precompute.start(demo_sqlite_url, version, latest)
    jobs = [job for key, job in precompute._jobs().items() if key[:2] == (demo_sqlite_url, version)]
    assert len(jobs) == 1 and jobs[0].daemon
    assert precompute.running(demo_sqlite_url, version)
    jobs[0].join(timeout=600)
    assert not precompute.running(demo_sqlite_url, version)
    assert "load_member_values" in _cache_bytes()
    assert gc.get_freeze_count() > 0  # what it built is kept out of the full collections
    gc.unfreeze()

    # A restarted server (its jobs and memory forgotten) finds the results on disk: it starts a job that reads them
    # back into memory, shared objects included, and leaves the record of the completed precompute as it was.
    # (Here, without Streamlit's runtime, the caches live in memory only: that the job reads the disk and aggregates
    # nothing is checked on a real server, tests/e2e/test_browser.py.)
    precompute._jobs.clear()
    common.clear_shared()
    completed = tmp_path / ".streamlit" / precompute.COMPLETED_FILE
    recorded = completed.stat().st_mtime_ns
    precompute.start(demo_sqlite_url, version, latest)
    jobs = [job for key, job in precompute._jobs().items() if key[:2] == (demo_sqlite_url, version)]
    assert len(jobs) == 1 and jobs[0] is not None
    jobs[0].join(timeout=600)
    assert completed.stat().st_mtime_ns == recorded
    rules = common.load_tier_rules(demo_sqlite_url)[0].to_payload()
    with monkeypatch.context() as patched:
        patched.setattr(complaints, "load_churn_panel", lambda *_: pytest.fail("the shared panel was not read back"))
        assert len(common._shared("dashboard.data.complaints.load_churn_panel", demo_sqlite_url, version, latest,
                                  complaints.YEARS, rules))
    gc.unfreeze()
    # When the code of the loaders or steps changed since (their disk cache keys changed with it), it computes
    # again and records the new fingerprint.
    completed.write_text(json.dumps({demo_sqlite_url: "the fingerprint of older code"}), encoding="utf-8")
    precompute._jobs.clear()
    precompute.start(demo_sqlite_url, version, latest)
    assert precompute.running(demo_sqlite_url, version)
    next(job for key, job in precompute._jobs().items() if key[:2] == (demo_sqlite_url, version)).join(timeout=600)
    fingerprint = json.loads(completed.read_text(encoding="utf-8"))[demo_sqlite_url]
    assert fingerprint == precompute._fingerprint(precompute._key(demo_sqlite_url, version))
    gc.unfreeze()  # leave the test process's objects collectable for the tests that follow


def test_dropping_the_shared_results_gives_frozen_objects_back_to_the_collector():
    gc.freeze()
    assert gc.get_freeze_count() > 0
    common.clear_shared()
    assert gc.get_freeze_count() == 0


@pytest.mark.parametrize("switch", ["0"])
def test_the_precompute_can_be_switched_off(demo_sqlite_url, monkeypatch, switch):
    monkeypatch.setenv(precompute.ENV_SWITCH, switch)
    version = common.current_version(demo_sqlite_url)
    precompute.start(demo_sqlite_url, version, common.load_latest_date(demo_sqlite_url, version))
    assert not precompute.running(demo_sqlite_url, version)
    assert not any(key[:2] == (demo_sqlite_url, version) for key in precompute._jobs())


def test_a_new_data_version_drops_the_results_cached_for_the_old_one(tmp_path, monkeypatch):
    import streamlit as st

    monkeypatch.setenv("HOME", str(tmp_path))  # Streamlit's disk cache and the marker live under ~/.streamlit

    @st.cache_data
    def squared(x: int) -> int:
        return x * x

    url = f"sqlite:///{tmp_path / 'mall.db'}"
    precompute._forget_older_data(url, "1-aaaa")  # the first version this home sees: nothing to drop
    squared(3)
    precompute._forget_older_data(url, "1-aaaa")  # the same version again: the cache stays
    assert _cache_bytes().get("squared")
    precompute._forget_older_data("sqlite:///other.db", "7-bbbb")  # another database's first version: stays too
    assert _cache_bytes().get("squared")
    (tmp_path / ".streamlit" / precompute.COMPLETED_FILE).write_text(json.dumps({url: "done"}), encoding="utf-8")
    precompute._forget_older_data(url, "2-cccc")  # new data in this database: every cached result goes...
    assert not _cache_bytes().get("squared")
    assert not (tmp_path / ".streamlit" / precompute.COMPLETED_FILE).exists()  # ...and no precompute is complete
    marker = tmp_path / ".streamlit" / "vipdash-data-tokens.json"
    assert marker.read_text(encoding="utf-8").count("2-cccc") == 1
    for n in range(precompute.REMEMBERED_DATABASES):  # many throwaway databases later (test runs, trials)...
        precompute._forget_older_data(f"sqlite:///trial{n}.db", "1-dddd")
    remembered = json.loads(marker.read_text(encoding="utf-8"))
    assert len(remembered) == precompute.REMEMBERED_DATABASES and url not in remembered  # ...the oldest is forgotten
    assert list(remembered)[-1] == f"sqlite:///trial{precompute.REMEMBERED_DATABASES - 1}.db"


def test_the_precompute_process_stops_when_its_server_is_gone(demo_sqlite_url, tmp_path):
    import os
    import subprocess
    import sys

    # A parent pid that is not its parent: the server that started it has stopped, so it computes nothing.
    done = subprocess.run([sys.executable, "-m", "dashboard.precompute_process", demo_sqlite_url, "1-x", "2024-12-31",
                           str(os.getpid() + 1_000_000)], cwd=precompute.Path(precompute.__file__).parent.parent,
                          env={**os.environ, "HOME": str(tmp_path)}, capture_output=True, timeout=120)
    assert done.returncode == 1
    assert not (tmp_path / ".streamlit" / "cache").exists()


def test_new_model_code_keys_every_cache_anew_so_a_fixed_model_is_never_served_from_old_results(demo_sqlite_url,
                                                                                                monkeypatch):
    from dashboard.data import overview
    from vipmodel import kpi, results

    calls = []
    real = kpi.overview_kpis
    monkeypatch.setattr(kpi, "overview_kpis", lambda *args, **kwargs: calls.append(1) or real(*args, **kwargs))
    before = common.current_version(demo_sqlite_url)
    latest = common.load_latest_date(demo_sqlite_url, before)
    overview.load_overview_kpis(demo_sqlite_url, before, latest)
    overview.load_overview_kpis(demo_sqlite_url, before, latest)
    assert len(calls) == 1  # the second read is the cache's
    monkeypatch.setattr(results, "model_version", lambda: "0123456789abcdef")  # e.g. a fix in vipmodel/clv.py
    after = common.current_version(demo_sqlite_url)
    assert after != before and after.split(".")[0] == before.split(".")[0]  # same data, other code
    overview.load_overview_kpis(demo_sqlite_url, after, latest)
    assert len(calls) == 2
