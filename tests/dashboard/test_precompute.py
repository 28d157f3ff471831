"""The background precompute stores exactly what the pages read at their default view in the database, and a
second server reads it back without computing."""

from __future__ import annotations

import gc
from functools import partial

import pandas as pd
import pytest
import streamlit as st

from dashboard import precompute, precompute_plan
from dashboard.data import common, complaints, stored
from tests.conftest import copy_database
from tests.dashboard.conftest import app_as, open_page
from vipmodel import campaigns, db, features, margins, reuse, view_store

PAGES = ["overview", "pyramid", "migration", "referrals", "care", "satisfaction", "complaints", "value", "data"]

# Loaders a page may still compute after the precompute: cheap ones, and those driven by a widget's value
# (derived from precomputed results). Anything else computing on a page's first visit means the precompute
# called it with other arguments than the page does, or missed it.
CHEAP_OR_WIDGET_DRIVEN = {
    "load_top_referrers", "load_complaint_regression", "load_campaigns",
}
HEAVY = {"load_member_values", "load_at_risk", "load_value_view", "load_flagged_members", "load_value_model",
         "load_churn_evaluation", "load_care_model", "load_churn_panel", "load_suggested_weights", "load_snapshots",
         "load_overview_kpis"}


@pytest.fixture
def stored_mall(demo_sqlite_url, monkeypatch, tmp_path) -> str:
    """A private copy of the demo mall with the database's stored results switched on (a secret of the test's)."""
    monkeypatch.setenv(stored.ENV_SWITCH, "1")
    monkeypatch.setenv(stored.ENV_SECRET, "a test secret of more than sixteen bytes")
    monkeypatch.setenv("HOME", str(tmp_path))
    url = copy_database(demo_sqlite_url, tmp_path)
    monkeypatch.setenv(db.ENV_URL, url)
    return url


def _computed() -> set[str]:
    return {name.rsplit(".", 1)[-1] for name, n in stored.computed.items() if n}


def test_a_second_server_opens_every_page_on_the_stored_default_views_without_computing_them(stored_mall,
                                                                                              monkeypatch):
    demo_app = app_as("admin")  # on the private copy (stored_mall points the app at it)
    at = demo_app.run()  # the app's first run: the sidebar's default period and the data token
    assert not at.exception
    version = common.current_version(stored_mall)
    latest = common.load_latest_date(stored_mall, version)
    assert at.session_state["period"] == precompute_plan.default_period(latest)
    reuse_seen = []
    st.cache_data.clear()  # the first run computed the Overview's results in memory; the precompute process has none
    st.cache_resource.clear()
    with stored.writing():
        seconds = precompute.warm(stored_mall, version, latest, on_step=lambda *_: reuse_seen.append(reuse.active()))
    # One shared_queries block around every step: the pages' analyses read each aggregation once.
    assert reuse_seen[0] is not None and all(r is reuse_seen[0] for r in reuse_seen)
    assert sum(reuse_seen[0].reuses.values()) > sum(reuse_seen[0].runs.values())
    assert set(seconds) == {name for name, _ in precompute_plan.steps(stored_mall, version, latest)}
    kept = view_store.listing(common.get_engine(stored_mall))
    assert HEAVY <= {name.rsplit(".", 1)[-1] for name in kept["name"]}
    assert set(kept["data_version"]) == {version}

    # Another server: nothing in its memory. Every page's first visit reads the stored results; no heavy loader
    # (no model fit, no aggregation over the members) runs.
    st.cache_data.clear()
    st.cache_resource.clear()
    stored.computed.clear()
    aggregated = []  # the members' features are not stored: a page that needs them aggregates all transactions
    member_features = features.member_features
    monkeypatch.setattr(features, "member_features", lambda *a, **k: aggregated.append(a[1:]) or member_features(*a, **k))
    for page in PAGES:
        at = open_page(demo_app, page)
        assert not at.exception, page
        assert _computed() <= CHEAP_OR_WIDGET_DRIVEN, f"{page} computed {sorted(_computed() - CHEAP_OR_WIDGET_DRIVEN)}"
        assert not aggregated, f"{page} aggregated the members' features {aggregated}"

    # A server reads the stored results back as it starts, running the steps that are not stored (the margin note's
    # pass over the sales, the campaign plan's draw) there and then: a first visitor then computes neither.
    st.cache_data.clear()
    st.cache_resource.clear()
    precompute.warm(stored_mall, version, latest)
    called = []
    for module, name in ((margins, "margin_coverage"), (campaigns, "plan_campaign")):
        original = getattr(module, name)
        monkeypatch.setattr(module, name, lambda *a, _f=original, _n=name, **k: called.append(_n) or _f(*a, **k))
    for page in PAGES:
        at = open_page(app_as("admin"), page)
        assert not at.exception, page
        assert not called, f"{page}'s first visitor computed {called}"


def test_a_stored_result_signed_with_another_secret_is_not_read_but_computed(stored_mall, monkeypatch):
    from dashboard.data import overview

    version = common.current_version(stored_mall)
    latest = common.load_latest_date(stored_mall, version)
    with stored.writing():
        expected = overview.load_overview_kpis(stored_mall, version, latest)
    st.cache_data.clear()
    stored.computed.clear()
    monkeypatch.setenv(stored.ENV_SECRET, "another group's secret, also long enough")
    assert overview.load_overview_kpis(stored_mall, version, latest).equals(expected)
    assert stored.computed["dashboard.data.overview.load_overview_kpis"] == 1


@pytest.mark.parametrize("workers", ["1", "2"])
def test_the_background_precompute_stores_once_per_data_version_and_a_restart_only_reads(stored_mall, monkeypatch,
                                                                                         workers):
    monkeypatch.setenv(precompute.ENV_SWITCH, "1")
    monkeypatch.setenv(precompute_plan.WORKERS_ENV, workers)  # "2": its chains in two processes at once
    version = common.current_version(stored_mall)
    latest = common.load_latest_date(stored_mall, version)
    engine = common.get_engine(stored_mall)
    # Results of older data are dropped from the database by the next precompute.
    view_store.put(engine, view_store.key_for("old"), "old data's result", 1, "1-old.0", stored.secret())
    # ...and this data's results that no step asks for any more (made under settings saved over since).
    view_store.put(engine, view_store.key_for("old rules"), "old rules' result", 1, version, stored.secret())
    precompute.start(stored_mall, version, latest)
    precompute.start(stored_mall, version, latest)
    jobs = [job for key, job in precompute._jobs().items() if key[:2] == (stored_mall, version)]
    assert len(jobs) == 1 and jobs[0].daemon
    assert precompute.running(stored_mall, version)
    jobs[0].join(timeout=900)
    assert not precompute.running(stored_mall, version)
    fingerprint = precompute._fingerprint(precompute._key(stored_mall, version))
    assert stored.is_complete(stored_mall, fingerprint)
    kept = view_store.listing(engine)
    assert not {"old data's result", "old rules' result"} & set(kept["name"]) and len(kept) > 20
    assert gc.get_freeze_count() > 0  # what it read back is kept out of the full collections
    gc.unfreeze()

    # A restarted server (its jobs and memory forgotten) finds the precompute complete in the database: it starts a
    # job that reads the results back into memory, shared objects included, and computes nothing.
    precompute._jobs.clear()
    st.cache_data.clear()
    common.clear_shared()
    stored.computed.clear()
    precompute.start(stored_mall, version, latest)
    next(job for key, job in precompute._jobs().items() if key[:2] == (stored_mall, version)).join(timeout=600)
    assert not _computed() - CHEAP_OR_WIDGET_DRIVEN
    assert len(view_store.listing(engine)) == len(kept)  # nothing stored again
    rules = common.load_tier_rules(stored_mall)[0].to_payload()
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(complaints, "load_churn_panel", lambda *_: pytest.fail("the shared panel was not read back"))
        assert len(common._shared("dashboard.data.complaints.load_churn_panel", stored_mall, version, latest,
                                  complaints.YEARS, rules))
    gc.unfreeze()  # leave the test process's objects collectable for the tests that follow


def test_the_chains_hold_every_step_once_and_each_result_after_what_it_reads(demo_sqlite_url, monkeypatch):
    monkeypatch.setenv("VIPDASH_REFRESH", "1")  # the weekly pack's results are a chain too
    version = common.current_version(demo_sqlite_url)
    latest = common.load_latest_date(demo_sqlite_url, version)
    names = [name for name, _ in precompute_plan.steps(demo_sqlite_url, version, latest)]
    chains = [[name for name, _ in chain] for chain in precompute_plan.chains(demo_sqlite_url, version, latest)]
    assert sorted(name for chain in chains for name in chain) == sorted(names)
    where = {name: position for position, chain in enumerate(chains) for name in chain}
    # Care's response model first (its panel computes the churn panel, shared with the next steps) and stored early
    # for Care's plans in the other chain; then the churn panel and its readers, one group, never split.
    panel = chains[where["complaints.panel"]]
    assert panel[0] == "care.model" and panel[1] == "complaints.panel"
    assert where["complaints.regression"] == where["satisfaction.weights"] == where["complaints.panel"]
    assert where["referrals.value"] == where["complaints.panel"]  # the referred members' churn is the panel's
    readers = [precompute_plan.group(name) for name in panel[1:]]
    assert set(readers) == {"churn panel"} and precompute_plan.group("care.model") != "churn panel"
    values = chains[where["value.values"]]
    assert values.index("value.values") < values.index("care.members") < values.index("care.simulation")
    assert values.index("value.flagged") < values.index("care.campaign_plan")  # the plan draws from the at-risk list
    # Care's plans read the response model, stored by the panel's chain: the two chains start first, at once.
    assert {where["care.model"], where["care.simulation"]} == {0, 1}
    # The score's evaluation reads none of the values' results: a chain of its own, whose process holds none of them.
    assert chains[where["value.evaluation"]] == ["value.evaluation"]


def test_the_churn_panels_readers_share_it_and_leave_it_as_it_was(demo_sqlite_url):
    version = common.current_version(demo_sqlite_url)
    latest = common.load_latest_date(demo_sqlite_url, version)
    st.cache_data.clear()
    common.clear_shared()
    chain = next(c for c in precompute_plan.chains(demo_sqlite_url, version, latest)
                 if c[1][0] == "complaints.panel")
    chain[1][1]()  # the panel step
    rules = common.load_tier_rules(demo_sqlite_url)[0].to_payload()
    panel = common.shared(complaints.load_churn_panel, demo_sqlite_url, version, latest, complaints.YEARS, rules)
    before = panel.copy(deep=True)
    for name, call in chain[2:]:
        try:
            call()
        except ValueError:  # a step the small demo cannot support is skipped, as the precompute does
            pass
    assert common.shared(complaints.load_churn_panel, demo_sqlite_url, version, latest, complaints.YEARS,
                         rules) is panel  # one object, not a copy per reader
    pd.testing.assert_frame_equal(panel, before)
    common.clear_shared()


@pytest.mark.parametrize(("grouped", "reads"), [(True, 1), (False, 3)])
def test_the_precompute_process_keeps_the_churn_panel_for_all_its_readers(stored_mall, monkeypatch, grouped, reads):
    version = common.current_version(stored_mall)
    latest = common.load_latest_date(stored_mall, version)
    chain = next(i for i, c in enumerate(precompute_plan.chains(stored_mall, version, latest))
                 if "complaints.panel" in dict(c))
    rules = common.load_tier_rules(stored_mall)[0].to_payload()
    panel_key = stored.key("dashboard.data.complaints.load_churn_panel", version, (latest, complaints.YEARS, rules), {})
    asked, get = [], view_store.get
    monkeypatch.setattr(view_store, "get", lambda engine, key, secret: asked.append(key) or get(engine, key, secret))
    if not grouped:  # what dropping results at every page's end did: Satisfaction and Complaints read it back
        monkeypatch.setattr(precompute, "group", lambda step: step.split(".", 1)[0])
    st.cache_data.clear()
    common.clear_shared()
    with stored.writing():
        precompute.warm(stored_mall, version, latest, hold=False, chain=chain)
    assert asked.count(panel_key) == reads


@pytest.mark.parametrize(("hold", "expected"), [(True, ["overview.kpis", "margins.coverage", "care.campaign_plan"]),
                                               (False, ["overview.kpis"])])
def test_only_a_server_computes_the_steps_that_are_not_stored(demo_sqlite_url, monkeypatch, hold, expected):
    version = common.current_version(demo_sqlite_url)
    latest = common.load_latest_date(demo_sqlite_url, version)
    names = [name for name, _ in precompute_plan.steps(demo_sqlite_url, version, latest)]
    assert precompute_plan.SERVER_ONLY <= set(names)  # real steps, named as the pages' modules name them
    ran = []
    todo = ["overview.kpis", "margins.coverage", "care.campaign_plan"]  # one stored step, the two that are not
    monkeypatch.setattr(precompute, "steps", lambda *_: [(name, partial(ran.append, name)) for name in todo])
    seconds = precompute.warm(demo_sqlite_url, version, latest, hold=hold)
    assert sorted(ran) == sorted(expected) and sorted(seconds) == sorted(expected)


@pytest.mark.parametrize("switch", ["1", "0"])
def test_the_weekly_packs_results_are_a_step_unless_cron_prepares_them(stored_mall, monkeypatch, switch):
    from dashboard import refresh_job
    from vipmodel import results

    monkeypatch.setenv(refresh_job.ENV_SWITCH, switch)
    version = common.current_version(stored_mall)
    latest = common.load_latest_date(stored_mall, version)
    todo = dict(precompute_plan.steps(stored_mall, version, latest))
    assert ("report.results" in todo) == (switch == "1")
    chained = {n for chain in precompute_plan.chains(stored_mall, version, latest) for n, _ in chain}
    assert ("report.results" in chained) == (switch == "1")
    if switch == "1":
        todo["report.results"]()
        day = refresh_job.report_day(stored_mall, version, latest)
        assert results.current_run(common.get_engine(stored_mall), as_of=day) is not None


@pytest.mark.parametrize(("setting", "cores", "expected"),
                         [("", 1, 1), ("", 2, 2), ("", 16, 2), ("1", 16, 1), ("2", 1, 2), ("many", 4, 2), ("0", 4, 1)])
def test_the_precompute_uses_one_process_per_core_up_to_two(monkeypatch, setting, cores, expected):
    monkeypatch.setenv(precompute_plan.WORKERS_ENV, setting)
    monkeypatch.setattr(precompute_plan.os, "cpu_count", lambda: cores)
    assert precompute_plan.workers() == expected


def test_the_precompute_reports_the_peak_memory_of_its_process():
    import subprocess
    import sys

    code = ("import numpy as np; from dashboard.precompute import peak_memory_mb; before = peak_memory_mb(); "
            "rss = int(next(l for l in open('/proc/self/status') if l.startswith('VmRSS')).split()[1]) / 1024; "
            "held = np.ones(50_000_000); print(before, rss, peak_memory_mb())")  # 381 MiB written
    done = subprocess.run([sys.executable, "-c", code], cwd=precompute.Path(precompute.__file__).parent.parent,
                          capture_output=True, text=True, timeout=120, check=True)
    before, resident, after = map(float, done.stdout.split())
    # The peak so far may be an import's, above what the process then holds: the array comes on top of the latter.
    assert 50 < resident <= before and resident + 330 < after < max(before, resident) + 450


def _process_ids(_chain: int) -> tuple[int, int]:
    import os

    return os.getpid(), os.getppid()


def test_each_chain_runs_in_a_process_of_its_own():
    import os

    from dashboard import precompute_process

    ids = precompute_process.each_in_a_fresh_process(_process_ids, range(4), 2)  # four chains, two at a time
    assert len({pid for pid, _ in ids}) == 4  # a fresh process each: none keeps the memory another chain freed
    assert {parent for _, parent in ids} == {os.getpid()}


def test_the_precompute_process_yields_the_cores_to_the_servers_visitors_and_runs_blas_on_one_thread():
    import os
    import subprocess
    import sys

    code = ("import os; from dashboard import precompute_process as p; p.yield_to_visitors(); "
            "p.one_thread_per_process(); "
            "print(os.nice(0), os.environ['OPENBLAS_NUM_THREADS'], os.environ['MKL_NUM_THREADS'])")
    env = {k: v for k, v in os.environ.items() if k not in {"OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"}}
    done = subprocess.run([sys.executable, "-c", code], cwd=precompute.Path(precompute.__file__).parent.parent,
                          capture_output=True, text=True, timeout=60, check=True, env=env)
    assert done.stdout.split() == [str(os.nice(0) + 10), "1", "1"]
    # An operator's own setting stands.
    done = subprocess.run([sys.executable, "-c", code], cwd=precompute.Path(precompute.__file__).parent.parent,
                          capture_output=True, text=True, timeout=60, check=True, env={**env, "MKL_NUM_THREADS": "3"})
    assert done.stdout.split()[1:] == ["1", "3"]


def test_a_server_waits_for_the_precompute_another_server_runs_and_computes_nothing(stored_mall, monkeypatch):
    monkeypatch.setenv(precompute.ENV_SWITCH, "1")
    monkeypatch.setattr(stored, "POLL_SECONDS", 0.2)
    version = common.current_version(stored_mall)
    latest = common.load_latest_date(stored_mall, version)
    fingerprint = precompute._fingerprint(precompute._key(stored_mall, version))
    assert stored.claim(stored_mall, version, fingerprint)  # another server's precompute runs...
    with stored.writing():  # ...and has stored its results, not yet recorded complete
        precompute.warm(stored_mall, version, latest)
    st.cache_data.clear()  # this server's memory starts empty
    common.clear_shared()
    stored.computed.clear()
    precompute.start(stored_mall, version, latest)
    job = next(job for key, job in precompute._jobs().items() if key[:2] == (stored_mall, version))
    job.join(timeout=2)
    assert job.is_alive() and not stored.computed  # waiting, not computing
    stored.mark_complete(stored_mall, version, fingerprint)  # the other server is done
    stored.release(stored_mall, fingerprint)
    job.join(timeout=600)
    assert not job.is_alive()
    assert not _computed() - CHEAP_OR_WIDGET_DRIVEN  # it read every result from the database
    gc.unfreeze()


def test_a_precompute_recorded_by_other_dashboard_code_is_not_taken_as_complete(stored_mall, monkeypatch):
    version = common.current_version(stored_mall)
    key = precompute._key(stored_mall, version)
    stored.mark_complete(stored_mall, version, precompute._fingerprint(key))
    assert stored.is_complete(stored_mall, precompute._fingerprint(key))
    monkeypatch.setattr(stored, "code_version", lambda: "0123456789abcdef")  # e.g. a fixed loader
    assert not stored.is_complete(stored_mall, precompute._fingerprint(key))


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


def test_a_new_data_version_drops_the_results_this_server_holds_in_memory(tmp_path):
    @st.cache_data
    def squared(x: int) -> int:
        calls.append(x)
        return x * x

    calls: list[int] = []
    url = f"sqlite:///{tmp_path / 'mall.db'}"
    precompute._forget_older_data(url, "1-aaaa.0")  # the first version this server sees: nothing to drop
    squared(3)
    precompute._forget_older_data(url, "1-aaaa.0")  # the same version again: the cache stays
    precompute._forget_older_data("sqlite:///other.db", "7-bbbb.0")  # another database's first version: stays too
    squared(3)
    assert calls == [3]
    precompute._forget_older_data(url, "2-cccc.0")  # new data in this database: every cached result goes
    squared(3)
    assert calls == [3, 3]


def test_the_precompute_process_stops_when_its_server_is_gone(stored_mall):
    import os
    import subprocess
    import sys

    # A parent pid that is not its parent: the server that started it has stopped, so it computes nothing.
    done = subprocess.run([sys.executable, "-m", "dashboard.precompute_process", "1-x.0", "2024-12-31",
                           str(os.getpid() + 1_000_000)], cwd=precompute.Path(precompute.__file__).parent.parent,
                          env={**os.environ, "VIPDASH_PRECOMPUTE_URL": stored_mall}, capture_output=True, timeout=120)
    assert done.returncode == 1
    assert view_store.listing(common.get_engine(stored_mall)).empty


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


def test_without_a_configured_secret_a_server_keeps_its_own_private_key_file(monkeypatch, tmp_path):
    import stat

    monkeypatch.delenv(stored.ENV_SECRET, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    first = stored.secret()
    key_file = tmp_path / ".streamlit" / stored.KEY_FILE
    assert len(first) >= view_store.MIN_SECRET_BYTES and key_file.read_bytes() == first
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600  # readable by this user only
    assert stored.secret() == first  # the same key on every call and restart
    monkeypatch.setenv(stored.ENV_SECRET, "the group's configured secret, long enough")
    assert stored.secret() == b"the group's configured secret, long enough"  # configured wins
