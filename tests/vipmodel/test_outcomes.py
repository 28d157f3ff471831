"""The member-year churn panel: hand-checked windows and statuses (at the window's end and as finally recorded), and
the demo mall's realised churn."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from sqlalchemy import insert

from vipmodel import schema
from vipmodel.demo import load_ground_truth
from vipmodel.outcomes import PANEL_COLUMNS, churn_panel, complaint_features, year_windows

AS_OF = dt.date(2026, 6, 30)


def test_year_windows_are_whole_years_ending_at_the_date_oldest_first():
    assert year_windows(AS_OF, 2) == [
        (dt.date(2024, 7, 1), dt.date(2025, 6, 30)),
        (dt.date(2025, 7, 1), dt.date(2026, 6, 30)),
    ]
    assert year_windows(dt.date(2024, 2, 29), 1) == [(dt.date(2023, 3, 1), dt.date(2024, 2, 29))]
    with pytest.raises(ValueError, match="n must be at least 1"):
        year_windows(AS_OF, 0)


@pytest.fixture
def two_year_mall(engine):
    """M1 buys in both years; M2 buys only in the first (churned) and complained; M3 only in the second."""
    with engine.begin() as conn:
        conn.execute(
            insert(schema.members),
            [{"member_id": m, "join_date": dt.date(2024, 1, 1), "gender": "U"} for m in ("M1", "M2", "M3")],
        )
        conn.execute(
            insert(schema.transactions),
            [
                {"txn_id": "T1", "member_id": "M1", "ts": dt.datetime(2024, 8, 1, 10), "amount": 100.0, "gross_margin": 30.0},
                {"txn_id": "T2", "member_id": "M1", "ts": dt.datetime(2025, 8, 1, 10), "amount": 50.0, "gross_margin": 10.0},
                {"txn_id": "T3", "member_id": "M2", "ts": dt.datetime(2025, 6, 30, 21), "amount": 80.0, "gross_margin": 20.0},
                {"txn_id": "T4", "member_id": "M3", "ts": dt.datetime(2025, 7, 1, 9), "amount": 10.0, "gross_margin": 2.0},
            ],
        )
        conn.execute(
            insert(schema.complaints),
            [
                {"complaint_id": "C1", "member_id": "M2", "complaint_date": dt.date(2025, 1, 10), "category": "service",
                 "severity": 3, "resolved_date": dt.date(2025, 1, 30)},
                {"complaint_id": "C2", "member_id": "M2", "complaint_date": dt.date(2025, 2, 1), "category": "product",
                 "severity": 1, "resolved_date": dt.date(2025, 2, 3)},
                {"complaint_id": "C3", "member_id": "M1", "complaint_date": dt.date(2025, 6, 1), "category": "product",
                 "severity": 2, "resolved_date": dt.date(2025, 7, 20)},  # resolved after the window: unresolved then
            ],
        )
    return engine


def test_panel_marks_members_without_a_purchase_next_year_as_churned(two_year_mall):
    panel = churn_panel(two_year_mall, AS_OF, years=1).set_index("member_id")
    assert list(panel.columns) == [c for c in PANEL_COLUMNS if c != "member_id"]
    assert sorted(panel.index) == ["M1", "M2"]  # M3 was not active in the feature window
    assert not panel.loc["M1", "churned"] and panel.loc["M2", "churned"]
    assert panel.loc["M1", "next_sales"] == pytest.approx(50.0)
    assert panel.loc["M2", "next_sales"] == 0.0


def test_complaints_are_classified_by_what_was_known_at_the_end_of_the_window(two_year_mall):
    with two_year_mall.connect() as conn:
        feats = complaint_features(conn, dt.date(2024, 7, 1), dt.date(2025, 6, 30))
    assert feats.loc["M2", "service_resolved_slow"] == 1 and feats.loc["M2", "product_resolved_quick"] == 1
    assert feats.loc["M1", "product_unresolved"] == 1
    assert feats.loc["M2", "max_severity"] == 3
    assert feats.loc["M2", "mean_resolution_days"] == pytest.approx((20 + 2) / 2)


def test_empty_database_gives_an_empty_panel_with_the_contract_columns(engine):
    panel = churn_panel(engine, AS_OF, years=2)
    assert panel.empty and list(panel.columns) == list(PANEL_COLUMNS)


def test_demo_panel_reproduces_the_generators_realised_churn(demo_engine):
    with demo_engine.connect() as conn:
        truth = load_ground_truth(conn)
    panel = churn_panel(demo_engine, truth.end_date, years=truth.years - 1)
    by_window = panel.groupby("window_start")["churned"].mean().to_list()
    assert by_window == pytest.approx(truth.realised["annual_churn_rate"], abs=1e-4)
    # The structure the analyses exist to find: unresolved service complaints and low tiers churn more.
    assert panel.loc[panel["service_unresolved"] > 0, "churned"].mean() > panel["churned"].mean() + 0.15
    assert panel.loc[panel["tier"] == "A", "churned"].mean() < panel.loc[panel["tier"] == "D", "churned"].mean()


@pytest.fixture
def late_resolutions(engine):
    """M1 buys in both years and complains four times near the end of the first, resolved at different times."""
    with engine.begin() as conn:
        conn.execute(insert(schema.members), [{"member_id": "M1", "join_date": dt.date(2024, 1, 1), "gender": "U"}])
        conn.execute(
            insert(schema.transactions),
            [
                {"txn_id": "T1", "member_id": "M1", "ts": dt.datetime(2024, 8, 1, 10), "amount": 100.0, "gross_margin": 30.0},
                {"txn_id": "T2", "member_id": "M1", "ts": dt.datetime(2025, 8, 1, 10), "amount": 50.0, "gross_margin": 10.0},
            ],
        )
        conn.execute(
            insert(schema.complaints),
            [
                # Filed 20 June, resolved 5 July: open at the window's end, resolved slowly (15 days) in truth.
                {"complaint_id": "C1", "member_id": "M1", "complaint_date": dt.date(2025, 6, 20), "category": "service",
                 "severity": 2, "resolved_date": dt.date(2025, 7, 5)},
                # Filed 28 June, resolved 2 July: open at the window's end, resolved quickly (4 days).
                {"complaint_id": "C2", "member_id": "M1", "complaint_date": dt.date(2025, 6, 28), "category": "product",
                 "severity": 1, "resolved_date": dt.date(2025, 7, 2)},
                # Never resolved: open at both dates.
                {"complaint_id": "C3", "member_id": "M1", "complaint_date": dt.date(2025, 3, 1), "category": "product",
                 "severity": 1, "resolved_date": None},
                # Resolved after the outcome year too (2026-08-01 > 2026-06-30): open at both dates.
                {"complaint_id": "C4", "member_id": "M1", "complaint_date": dt.date(2025, 5, 1), "category": "service",
                 "severity": 3, "resolved_date": dt.date(2026, 8, 1)},
            ],
        )
    return engine


def test_a_complaint_resolved_after_its_window_is_open_at_the_window_end_and_resolved_in_the_final_status(
    late_resolutions,
):
    row = churn_panel(late_resolutions, AS_OF, years=1).set_index("member_id").loc["M1"]
    # As known at the end of the window (what a prediction made then may use): all four are open.
    assert (row["product_unresolved"], row["service_unresolved"]) == (2, 2)
    assert row["product_resolved_quick"] == row["service_resolved_slow"] == 0
    assert pd.isna(row["mean_resolution_days"])
    # As recorded by the end of the outcome year (what the churn model uses): two were resolved, by their real times.
    final = {c: row[f"{c}_final"] for c in ("product_resolved_quick", "product_resolved_slow", "product_unresolved",
                                            "service_resolved_quick", "service_resolved_slow", "service_unresolved")}
    assert final == {"product_resolved_quick": 1, "product_resolved_slow": 0, "product_unresolved": 1,
                     "service_resolved_quick": 0, "service_resolved_slow": 1, "service_unresolved": 1}
    assert row["mean_resolution_days_final"] == pytest.approx((15 + 4) / 2)
    assert row["max_severity"] == 3


def test_the_status_date_cannot_precede_the_window_end(late_resolutions):
    with late_resolutions.connect() as conn:
        with pytest.raises(ValueError, match="known_by must not be before end"):
            complaint_features(conn, dt.date(2024, 7, 1), dt.date(2025, 6, 30), known_by=dt.date(2025, 6, 1))
        later = complaint_features(conn, dt.date(2024, 7, 1), dt.date(2025, 6, 30), known_by=dt.date(2025, 7, 3))
    assert later.loc["M1", "product_resolved_quick"] == 1 and later.loc["M1", "service_unresolved"] == 2
