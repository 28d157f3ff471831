"""vipmodel.reuse: identical aggregations run once inside shared_queries, never outside it."""

from __future__ import annotations

import datetime as dt
import threading

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import create_engine, insert

from vipmodel import kpi, retention, schema
from vipmodel.features import member_features
from vipmodel.outcomes import add_years, churn_panel
from vipmodel.reuse import active, remember, shared_queries, shares_result

FEATURES = "vipmodel.features.member_features"
SUMMARY = "vipmodel.features.calibration_summary"


def _year(as_of: dt.date) -> tuple[dt.date, dt.date]:
    return add_years(as_of, -1) + dt.timedelta(days=1), as_of


def test_the_same_aggregation_runs_once_in_a_block_and_gives_equal_copies(demo_engine):
    with demo_engine.connect() as conn:
        as_of = kpi.latest_activity_date(conn)
        alone = member_features(conn, *_year(as_of))
        with shared_queries() as reuse:
            first = member_features(conn, *_year(as_of))
            first["sales"] = -1.0  # a caller changing its copy must not change the next caller's
            first.iloc[0, first.columns.get_loc("n_transactions")] = 10**6  # nor in place (copies share data)
            second = member_features(conn, *_year(as_of))
            third = member_features(conn, *_year(as_of))
    assert reuse.runs[FEATURES] == 1 and reuse.reuses[FEATURES] == 2
    pd.testing.assert_frame_equal(second, alone)
    # Copies share the kept frame's data until one is changed (copy-on-write), not a full copy per caller.
    assert np.shares_memory(second["profit_contribution"].to_numpy(), third["profit_contribution"].to_numpy())


def test_analyses_in_one_block_share_their_aggregations_and_give_the_same_results(demo_engine):
    with demo_engine.connect() as conn:
        as_of = kpi.latest_activity_date(conn)
        values = retention.member_values(conn, as_of)
        risk = retention.at_risk(conn, as_of, values, only_flagged=False)
        with shared_queries() as reuse:
            shared_values = retention.member_values(conn, as_of)
            shared_risk = retention.at_risk(conn, as_of, shared_values, only_flagged=False)
            panel = churn_panel(conn, as_of, years=1)
    # at_risk's evidence reads the year that member_values read; the learned score's training inputs come from the
    # members' purchase days (retention._purchase_rhythms), so the purchase summary is asked for once.
    assert reuse.reuses[FEATURES] >= 2 and reuse.reuses.get(SUMMARY, 0) + reuse.runs[SUMMARY] == 1
    assert reuse.reuses.get("vipmodel.outcomes.churn_panel", 0) == 1 and len(panel) > 0
    pd.testing.assert_frame_equal(shared_values.frame, values.frame)
    pd.testing.assert_frame_equal(shared_risk, risk)


def test_nothing_is_kept_outside_a_block_so_new_data_is_seen(engine):
    day = dt.date(2026, 3, 1)
    with engine.begin() as conn:
        conn.execute(insert(schema.members), [{"member_id": "M1", "join_date": day}])
        conn.execute(insert(schema.transactions), [{"txn_id": "T1", "member_id": "M1", "ts": dt.datetime(2026, 3, 1, 10),
                                                     "store": "S", "amount": 100.0, "gross_margin": 30.0,
                                                     "discount": 0.0, "is_return": False}])
    with shared_queries():
        before = member_features(engine, day, day)
    with engine.begin() as conn:
        conn.execute(insert(schema.transactions), [{"txn_id": "T2", "member_id": "M1", "ts": dt.datetime(2026, 3, 1, 11),
                                                     "store": "S", "amount": 50.0, "gross_margin": 10.0,
                                                     "discount": 0.0, "is_return": False}])
    after = member_features(engine, day, day)
    assert before["sales"].tolist() == [100.0] and after["sales"].tolist() == [150.0]


def test_arguments_are_compared_by_value_and_unhashable_ones_just_run():
    calls = []

    @shares_result
    def read(conn, weights, frame=None):
        calls.append(weights)
        return pd.DataFrame({"w": [sum(weights.values())]})

    conn = create_engine("sqlite://")
    with shared_queries() as reuse:
        read(conn, {"a": 1.0, "b": 2.0})
        read(conn, {"b": 2.0, "a": 1.0})  # the same mapping in another order
        read(conn, {"a": 1.0, "b": 3.0})
        read(conn, {"a": 1.0, "b": 2.0}, frame=pd.DataFrame({"x": [1]}))  # a frame argument: runs uncached
    assert len(calls) == 3 and reuse.reuses == {f"{__name__}.{read.__qualname__}": 1}


def test_a_failing_aggregation_is_not_kept_and_blocks_are_per_thread():
    outcomes = iter([ValueError("no data yet"), pd.Series([1])])

    @shares_result
    def read(conn):
        outcome = next(outcomes)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    conn = create_engine("sqlite://")
    seen: list[bool] = []
    with shared_queries():
        with pytest.raises(ValueError, match="^no data yet$"):
            read(conn)
        assert read(conn).tolist() == [1]
        worker = threading.Thread(target=lambda: seen.append(_inside_block()))
        worker.start()
        worker.join()
        seen.append(_inside_block())
    assert seen == [False, True]


def _inside_block() -> bool:
    return active() is not None


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, "8"])
def test_shared_queries_refuses_a_bad_size(bad):
    with pytest.raises(ValueError, match=r"^max_entries must be a whole number >= 1, got "):
        with shared_queries(max_entries=bad):
            pass


def test_the_least_recently_used_result_is_dropped_beyond_max_entries():
    runs = []

    @shares_result
    def read(conn, n):
        runs.append(n)
        return n

    conn = create_engine("sqlite://")
    with shared_queries(max_entries=2):
        for n in (1, 2, 1, 3, 1, 2):
            read(conn, n)
    assert runs == [1, 2, 3, 2]  # 2 was the least recently used when 3 came in


@pytest.mark.parametrize("in_memory", [1, 2])
def test_older_frames_wait_on_disk_and_come_back_equal_and_the_folder_goes_with_the_block(in_memory):
    runs = []

    @shares_result
    def read(conn, n):
        runs.append(n)
        frame = pd.DataFrame({"member_id": [f"M{i}" for i in range(n)], "value": range(n)})
        frame.attrs["n"] = n
        return frame

    conn = create_engine("sqlite://")
    with shared_queries(max_entries=10, in_memory=in_memory) as reuse:
        first = [read(conn, n) for n in (3, 4, 5)]
        folders = {p.parent for p in reuse._folder.glob("*.pkl")}
        in_memory_now = sum(isinstance(v, pd.DataFrame) for v in reuse._results.values())
        again = [read(conn, n) for n in (3, 4, 5, 3)]
        files = sorted(reuse._folder.glob("*.pkl"))
    assert runs == [3, 4, 5] and reuse.reuses == {read.__module__ + "." + read.__qualname__: 4}
    assert in_memory_now == in_memory
    # Each frame is written once, the first time it leaves the memory, however often it comes and goes after.
    assert reuse.spilled == len(files) == 3
    for frame in again:
        pd.testing.assert_frame_equal(frame, first[[3, 4, 5].index(len(frame))])
        assert frame.attrs == {"n": len(frame)}
    assert folders == {reuse._folder} and not reuse._folder.exists()


@pytest.mark.parametrize("bad", [0, -1, 1.5, True])
def test_shared_queries_refuses_a_bad_number_kept_in_memory(bad):
    with pytest.raises(ValueError, match=r"in_memory must be a whole number >= 1, got "), shared_queries(in_memory=bad):
        pass


def test_a_remembered_answer_is_read_by_the_next_call_and_nothing_is_kept_outside_a_block(demo_engine):
    calls = []

    @shares_result
    def count(conn, day: dt.date, scale: int = 1) -> int:
        calls.append(day)
        return 7 * scale

    day = dt.date(2026, 1, 1)
    assert remember(count, 5, demo_engine, day) is False  # no block: nothing kept
    assert count(demo_engine, day) == 7
    with shared_queries():
        assert remember(count, 5, demo_engine, day=day, scale=1)
        assert count(demo_engine, day) == 5  # the same question, asked another way
        assert count(demo_engine, day, scale=2) == 14
    assert calls == [day, day]


def test_the_churn_evaluation_reads_all_history_once_for_both_purchase_summaries(demo_engine):
    with demo_engine.connect() as conn:
        as_of = kpi.latest_activity_date(conn)
        alone = retention.evaluate_churn_risk(conn, as_of)
        with shared_queries() as reuse:
            shared = retention.evaluate_churn_risk(conn, as_of)
    # Without the holdout columns the summary is the same rows: member_values reads the one the holdout check made.
    assert reuse.runs[SUMMARY] == 1 and reuse.reuses[SUMMARY] >= 1
    assert shared.auc == alone.auc and shared.predicted_purchases == alone.predicted_purchases
    pd.testing.assert_frame_equal(shared.holdout_table, alone.holdout_table)
    pd.testing.assert_frame_equal(shared.scores, alone.scores)
