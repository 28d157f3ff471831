"""Results in the database (vipmodel.results): one refresh per data, code and settings; never a stale result.

Checked against the in-memory computation the pages made before (retention.member_values / at_risk, member
features), on SQLite and PostgreSQL, on a demo mall whose seed no other test uses.
"""

from __future__ import annotations

import datetime as dt
import shutil
import warnings

import numpy as np
import pytest
from sqlalchemy import func, insert, select, text

from tests.conftest import new_postgres_database
from vipmodel import results, results_schema, schema
from vipmodel.auth import SYSTEM
from vipmodel.cli import main
from vipmodel.db import bump_data_version, create_schema, make_engine, writing
from vipmodel.demo import generate
from vipmodel.features import member_features
from vipmodel.kpi import comparison_days, kpi_values, satisfaction_means
from vipmodel.outcomes import add_years, year_tiers
from vipmodel.pyramid import TierRules
from vipmodel.retention import at_risk, member_values
from vipmodel.satisfaction import current_weights
from vipmodel.settings import save_setting

MALL = {"members": 2_500, "years": 2, "seed": 913}


@pytest.fixture(scope="module")
def template(tmp_path_factory, request):
    """One small demo mall per backend, generated once; each test gets its own copy (refresh writes)."""
    made = {}

    def get(backend: str) -> str:
        if backend not in made:
            if backend == "sqlite":
                url = f"sqlite:///{tmp_path_factory.mktemp('results') / 'template.db'}"
            else:
                url = new_postgres_database(request.getfixturevalue("postgres_server"))
            eng = make_engine(url)
            generate(eng, progress=False, **MALL)
            eng.dispose()
            made[backend] = url
        return made[backend]

    return get


@pytest.fixture(params=["sqlite", "postgresql"])
def engine_(request, template, tmp_path):
    source = template(request.param)
    if request.param == "sqlite":
        copy = tmp_path / "mall.db"
        shutil.copy(source.removeprefix("sqlite:///"), copy)
        url = f"sqlite:///{copy}"
    else:
        server, _, name = source.rpartition("/")
        url = new_postgres_database(server)
        fresh = url.rpartition("/")[2]
        admin = make_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{fresh}"'))
            conn.execute(text(f'CREATE DATABASE "{fresh}" TEMPLATE "{name}"'))  # names made by the fixtures
        admin.dispose()
    eng = make_engine(url)
    create_schema(eng)
    yield eng
    eng.dispose()


def _sqlite_copy(template, tmp_path):
    """An engine on a private copy of the SQLite template mall (a test that changes its tables)."""
    copy = tmp_path / "mall.db"
    shutil.copy(template("sqlite").removeprefix("sqlite:///"), copy)
    return make_engine(f"sqlite:///{copy}")


def _refresh(eng, **kwargs) -> results.RefreshRun:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return results.refresh(eng, **kwargs)


def test_a_refresh_writes_what_the_models_compute_in_memory(engine_, monkeypatch):
    monkeypatch.setattr(results, "_WRITE_CHUNK", 997)  # rows written a few chunks at a time, the last one short
    run = _refresh(engine_)
    assert run.status == "done" and not run.reused and run.error is None
    assert [s["step"] for s in run.steps] == ["member_values", "churn_risk", "profit_12m", "pyramid_week_before",
                                              "period_aggregates", "write"]
    stored = results.member_results(engine_, run).set_index("member_id")
    with engine_.connect() as conn, warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        values = member_values(conn, run.as_of)
        risk = at_risk(conn, run.as_of, values, only_flagged=False).set_index("member_id")
        year = member_features(conn, add_years(run.as_of, -1) + dt.timedelta(days=1), run.as_of,
                               period="range").set_index("member_id")
    frame = values.frame.set_index("member_id")
    assert run.members == len(stored) == len(frame)
    assert list(stored.index) == sorted(frame.index)
    for column in ("probability_alive", "model_clv", "value_if_retained"):
        np.testing.assert_allclose(stored[column], frame.loc[stored.index, column], rtol=1e-9)
    active = risk.index
    np.testing.assert_allclose(stored.loc[active, "churn_score"], risk["score"], rtol=1e-9)
    np.testing.assert_allclose(stored.loc[active, "value_at_risk"], risk["value_at_risk"], rtol=1e-9)
    assert (stored.loc[active, "tier"] == risk["tier"].where(risk["tier"].notna(), None)).all()
    assert stored.drop(index=active)["tier"].isna().all()
    assert (stored.drop(index=active)["value_at_risk"] == 0).all()
    np.testing.assert_allclose(stored["profit_12m"], year["profit_contribution"].reindex(stored.index).fillna(0),
                               rtol=1e-9, atol=1e-6)


def test_a_refresh_stores_the_pyramid_a_week_earlier_and_the_kpis_of_its_three_dates(engine_):
    run = _refresh(engine_)
    stored = results.member_results(engine_, run, columns=["tier_week_before", "profit_12m_week_before"])
    stored = stored.set_index("member_id")
    week_before = run.as_of - dt.timedelta(days=7)
    with engine_.connect() as conn:
        pyramid = year_tiers(conn, week_before)
        expected = {day: kpi_values(conn, day, current_weights(conn).as_dict()) for day in comparison_days(run.as_of)}
        means = satisfaction_means(conn, week_before - dt.timedelta(days=365), week_before)
    with_tier = stored[stored["tier_week_before"].notna()]
    assert len(pyramid) > 0 and sorted(with_tier.index) == sorted(pyramid.index)
    assert (with_tier["tier_week_before"] == pyramid["tier"].reindex(with_tier.index)).all()
    np.testing.assert_allclose(with_tier["profit_12m_week_before"], pyramid["profit"].reindex(with_tier.index),
                               rtol=1e-9)
    assert stored.drop(index=with_tier.index)["profit_12m_week_before"].isna().all()
    kpis = results.period_results(engine_, run, "kpi")
    assert set(kpis) == set(expected)
    for day, values in expected.items():
        assert set(kpis[day]) == set(values)
        np.testing.assert_allclose([kpis[day][k] for k in values], list(values.values()), rtol=1e-9, equal_nan=True)
    stored_means = results.period_results(engine_, run, "satisfaction_mean")[week_before]
    assert means and stored_means == pytest.approx(means, rel=1e-12)


def test_a_second_refresh_of_the_same_data_reuses_the_results_and_force_computes_again(engine_):
    first = _refresh(engine_)
    again = _refresh(engine_)
    assert again.reused and again.run_id == first.run_id
    assert "nothing to do" in again.summary()
    forced = _refresh(engine_, force=True)
    assert not forced.reused and forced.run_id > first.run_id
    assert results.current_run(engine_).run_id == forced.run_id


@pytest.mark.parametrize("change", ["model code", "data", "tier rules", "satisfaction weights"])
def test_results_made_by_other_code_or_for_other_data_or_settings_are_never_returned(engine_, monkeypatch, change):
    run = _refresh(engine_)
    assert results.current_run(engine_) == run
    if change == "model code":
        monkeypatch.setattr(results, "model_version", lambda: "another-version")
    elif change == "data":
        with writing(engine_) as conn:
            bump_data_version(conn)
    elif change == "tier rules":
        save_setting(engine_, "tier_rules", TierRules(shares=(0.02, 0.06, 0.2)).to_payload(), SYSTEM, note="test")
    else:
        save_setting(engine_, "satisfaction_weights", {"product_quality": 0.5, "sales_service": 0.3, "corporate_image": 0.2}, SYSTEM,
                     note="test")
    assert results.current_run(engine_) is None
    redone = _refresh(engine_)
    assert not redone.reused and redone.run_id != run.run_id
    assert results.current_run(engine_) == redone


def test_recent_runs_lists_the_newest_first_and_which_one_is_current(engine_):
    empty = results.recent_runs(engine_)
    assert empty.empty and list(empty.columns) == ["run_id", "as_of", "status", "started_at", "seconds", "members",
                                                   "error", "current"]
    first = _refresh(engine_)
    second = _refresh(engine_, force=True)
    earlier = _refresh(engine_, as_of=first.as_of - dt.timedelta(days=7))
    runs = results.recent_runs(engine_)
    assert list(runs.columns) == list(empty.columns)
    assert runs["run_id"].tolist() == [earlier.run_id, second.run_id, first.run_id]
    assert runs["as_of"].tolist() == [earlier.as_of, first.as_of, first.as_of]
    assert set(runs["status"]) == {"done"} and runs["error"].isna().all()
    assert runs["members"].tolist() == [earlier.members, second.members, first.members]
    assert runs["seconds"].tolist() == pytest.approx([earlier.seconds, second.seconds, first.seconds])
    assert (runs["started_at"].diff().dropna() <= dt.timedelta(0)).all()
    # The run current_run returns for each day, and no other (the forced run replaced the first).
    assert runs["current"].tolist() == [True, True, False]
    assert results.current_run(engine_, first.as_of).run_id == second.run_id
    assert results.recent_runs(engine_, limit=2)["run_id"].tolist() == [earlier.run_id, second.run_id]
    save_setting(engine_, "tier_rules", TierRules(shares=(0.02, 0.06, 0.2)).to_payload(), SYSTEM, note="test")
    assert not results.recent_runs(engine_)["current"].any()
    assert results.current_run(engine_) is None


def test_saved_tier_rules_decide_the_stored_tiers(engine_):
    rules = TierRules(shares=(0.05, 0.10, 0.15))
    save_setting(engine_, "tier_rules", rules.to_payload(), SYSTEM, note="test")
    run = _refresh(engine_)
    tiers = results.member_results(engine_, run, columns=["tier"])["tier"].value_counts(normalize=True)
    active = tiers.sum()
    assert tiers["A"] / active == pytest.approx(0.05, abs=0.01)
    assert tiers["B"] / active == pytest.approx(0.10, abs=0.01)


def test_reads_are_filtered_in_sql_by_tier_member_and_column(engine_):
    run = _refresh(engine_)
    every = results.member_results(engine_, run)
    assert list(every.columns) == list(results.MEMBER_RESULT_COLUMNS)
    gold = results.member_results(engine_, run, tiers=["A", "B"], columns=["tier", "value_at_risk"])
    assert list(gold.columns) == ["member_id", "tier", "value_at_risk"]
    assert set(gold["tier"]) == {"A", "B"}
    assert len(gold) == every["tier"].isin(["A", "B"]).sum()
    some = every["member_id"].iloc[[0, 5, 9]].tolist()
    assert results.member_results(engine_, run, members=some)["member_id"].tolist() == some
    with pytest.raises(ValueError, match="unknown result columns: nope"):
        results.member_results(engine_, run, columns=["nope"])


def test_old_runs_and_their_rows_are_pruned(engine_):
    runs = [_refresh(engine_, force=True) for _ in range(5)]
    with engine_.connect() as conn:
        kept = list(conn.execute(select(results_schema.refresh_runs.c.run_id)
                                 .order_by(results_schema.refresh_runs.c.run_id)).scalars())
        rows = set(conn.execute(select(results_schema.member_results.c.run_id).distinct()).scalars())
    assert kept == [r.run_id for r in runs[-3:]]
    assert rows == set(kept)


def test_a_failed_refresh_is_recorded_with_its_error_and_leaves_no_rows(tmp_path):
    """Nobody bought twice: the purchase model cannot be fitted."""
    eng = make_engine(f"sqlite:///{tmp_path / 'once.db'}")
    create_schema(eng)
    with eng.begin() as conn:
        conn.execute(insert(schema.members), [{"member_id": f"M{i}", "join_date": dt.date(2025, 1, 1)}
                                             for i in range(30)])
        conn.execute(insert(schema.transactions), [
            {"txn_id": f"T{i}", "member_id": f"M{i}", "ts": dt.datetime(2025, 3, 1 + i % 20, 12),
             "store": "S1", "category": "food", "amount": 100.0, "gross_margin": 20.0, "discount": 0.0,
             "quantity": 1, "is_return": False} for i in range(30)])
        bump_data_version(conn)
    with pytest.raises(ValueError):
        _refresh(eng)
    with eng.connect() as conn:
        run = conn.execute(select(results_schema.refresh_runs)).one()
        assert conn.execute(select(func.count()).select_from(results_schema.member_results)).scalar() == 0
    assert run.status == "failed" and run.error
    assert results.current_run(eng) is None
    listed = results.recent_runs(eng)
    assert listed[["status", "error", "current"]].values.tolist() == [["failed", run.error, False]]
    eng.dispose()


def test_the_model_version_is_a_hash_of_the_package_source():
    version = results.model_version()
    assert len(version) == 16 and int(version, 16) >= 0
    assert results.model_version() == version


def test_the_command_line_refreshes_and_says_what_it_did(engine_, capsys):
    url = engine_.url.render_as_string(hide_password=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert main(["refresh", "--url", url]) == 0
        first = capsys.readouterr().out
        assert main(["refresh", "--url", url]) == 0
        second = capsys.readouterr().out
    assert " done: " in first and "members as of" in first and "member_values" in first
    assert "nothing to do" in second
    assert main(["refresh", "--url", url, "--as-of", "31/10/2026"]) == 2
    assert "--as-of must be a date YYYY-MM-DD" in capsys.readouterr().err


def test_the_command_line_on_an_empty_database_explains(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    create_schema(make_engine(url))
    assert main(["refresh", "--url", url]) == 1
    assert "no purchases in the database" in capsys.readouterr().err


def test_a_database_made_before_results_were_stored_has_none_and_gets_the_tables_from_a_refresh(tmp_path,
                                                                                                 template):
    from sqlalchemy import inspect

    eng = _sqlite_copy(template, tmp_path)
    with eng.begin() as conn:
        conn.exec_driver_sql("DROP TABLE member_results")
        conn.exec_driver_sql("DROP TABLE refresh_runs")
    assert results.current_run(eng) is None
    run = _refresh(eng)
    assert {"refresh_runs", "member_results"} <= set(inspect(eng).get_table_names())
    assert results.current_run(eng) == run
    eng.dispose()


def test_result_tables_made_by_older_code_with_other_columns_are_rebuilt_by_a_refresh(tmp_path, template):
    from sqlalchemy import inspect

    eng = _sqlite_copy(template, tmp_path)
    with eng.begin() as conn:
        conn.exec_driver_sql("DROP TABLE member_results")
        conn.exec_driver_sql("CREATE TABLE member_results (run_id INTEGER, member_id VARCHAR(32), tier VARCHAR(1))")
    run = _refresh(eng)
    columns = {c["name"] for c in inspect(eng).get_columns("member_results")}
    assert columns == set(results_schema.member_results.columns.keys())
    assert len(results.member_results(eng, run)) == run.members > 0
    eng.dispose()
