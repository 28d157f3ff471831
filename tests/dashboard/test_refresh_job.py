"""The app prepares the weekly pack's results in the database after a data change or a settings save
(dashboard/refresh_job.py): a real `python -m vipmodel refresh` in a process of its own, on a small demo mall."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from dashboard import refresh_job
from dashboard.data import common
from vipmodel import results, results_schema
from vipmodel.auth import SYSTEM
from vipmodel.db import make_engine
from vipmodel.demo import generate
from vipmodel.pyramid import TierRules
from vipmodel.settings import save_setting


@pytest.fixture
def mall(tmp_path):
    url = f"sqlite:///{tmp_path / 'mall.db'}"
    engine = make_engine(url)
    generate(engine, members=2_000, years=2, seed=4411, progress=False)
    engine.dispose()
    return url


def _start_and_wait(url: str) -> refresh_job.threading.Thread | None:
    common.load_setting_history.clear()  # as a save through the app does
    version = common.current_version(url)
    latest = common.load_latest_date(url, version)
    before = set(refresh_job._jobs().values())
    refresh_job.start(url, version, latest)
    started = [job for job in refresh_job._jobs().values() if job not in before]
    for job in started:
        job.join(timeout=600)
    return started[0] if started else None


def _runs(url: str) -> int:
    with make_engine(url).connect() as conn:
        return conn.execute(select(func.count()).select_from(results_schema.refresh_runs)
                            .where(results_schema.refresh_runs.c.status == "done")).scalar_one()


def test_new_data_and_a_settings_save_each_start_one_refresh_for_the_default_report_week(mall, monkeypatch):
    monkeypatch.setenv(refresh_job.ENV_SWITCH, "1")
    job = _start_and_wait(mall)
    assert job is not None and job.name == "vipdash-refresh"
    version = common.current_version(mall)
    day = refresh_job.report_day(mall, version, common.load_latest_date(mall, version))
    assert day.weekday() == 6  # a Sunday: the week the Report page opens on
    run = results.current_run(make_engine(mall), as_of=day)
    assert run is not None and run.members > 0
    assert _start_and_wait(mall) is None  # the same data and settings: nothing more starts
    assert _runs(mall) == 1

    save_setting(make_engine(mall), "tier_rules", TierRules(shares=(0.02, 0.06, 0.2)).to_payload(), SYSTEM,
                 note="test")
    assert results.current_run(make_engine(mall), as_of=day) is None  # made under the old rules
    assert _start_and_wait(mall) is not None
    assert results.current_run(make_engine(mall), as_of=day) is not None
    assert _runs(mall) == 2


def test_results_already_in_the_database_are_not_computed_again(mall, monkeypatch):
    monkeypatch.setenv(refresh_job.ENV_SWITCH, "1")
    version = common.current_version(mall)
    day = refresh_job.report_day(mall, version, common.load_latest_date(mall, version))
    results.refresh(make_engine(mall), day)  # e.g. cron ran it after the nightly import
    assert _start_and_wait(mall) is not None
    assert _runs(mall) == 1


def test_the_switch_turns_the_refresh_off(mall, monkeypatch):
    monkeypatch.setenv(refresh_job.ENV_SWITCH, "0")
    assert _start_and_wait(mall) is None
    assert _runs(mall) == 0
