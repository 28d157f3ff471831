"""KPIs on a small hand-built mall whose answers are computed by hand, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from sqlalchemy import insert

from vipmodel import kpi, schema

AS_OF = dt.date(2026, 6, 30)


def _ts(days_before: int, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(AS_OF - dt.timedelta(days=days_before), dt.time(hour))


@pytest.fixture
def small_mall(engine):
    """Five members. Sales in the last year: M1 1000, M2 100, M3 50 (+ a 20 return), M5 30.

    M4 bought only 400-500 days ago (churned). Prior year (366-730 days ago): M1, M2, M4 bought.
    """
    members = [
        {"member_id": f"M{i}", "join_date": dt.date(2024, 1, 1), "gender": "U"} for i in range(1, 6)
    ]
    txns = [
        ("T1", "M1", _ts(3), 600.0, False),
        ("T2", "M1", _ts(40), 400.0, False),
        ("T3", "M2", _ts(10), 100.0, False),
        ("T4", "M3", _ts(6), 50.0, False),
        ("T5", "M3", _ts(2), 20.0, True),  # a return within the week
        ("T6", "M5", _ts(200), 30.0, False),
        ("T7", "M1", _ts(400), 70.0, False),
        ("T8", "M2", _ts(500), 80.0, False),
        ("T9", "M4", _ts(450), 90.0, False),
        ("T10", "M2", _ts(7, hour=0), 5.0, False),  # exactly 7 days ago: outside this week, inside the previous one
    ]
    complaints = [
        ("C1", "M2", AS_OF - dt.timedelta(days=1)),
        ("C2", "M3", AS_OF - dt.timedelta(days=8)),
    ]
    with engine.begin() as conn:
        conn.execute(insert(schema.members), members)
        conn.execute(
            insert(schema.transactions),
            [
                {"txn_id": i, "member_id": m, "ts": ts, "amount": a, "gross_margin": a * 0.3, "is_return": r}
                for i, m, ts, a, r in txns
            ],
        )
        conn.execute(
            insert(schema.complaints),
            [
                {"complaint_id": i, "member_id": m, "complaint_date": d, "category": "service", "severity": 2}
                for i, m, d in complaints
            ],
        )
        response_ids = []
        for member, day in [("M1", 20), ("M2", 400)]:
            result = conn.execute(
                insert(schema.survey_responses).values(
                    member_id=member, survey_date=AS_OF - dt.timedelta(days=day), expectation=5
                )
            )
            response_ids.append(result.inserted_primary_key[0])
        # Within the last year only M1's survey: pq 7, ss 4, ci 1 -> dimension means 7, 4, 1.
        conn.execute(
            insert(schema.survey_answers),
            [
                {"response_id": response_ids[0], "item_code": "pq_1", "score": 7},
                {"response_id": response_ids[0], "item_code": "ss_1", "score": 4},
                {"response_id": response_ids[0], "item_code": "ci_1", "score": 1},
                {"response_id": response_ids[1], "item_code": "pq_1", "score": 1},
            ],
        )
    return engine


def test_snapshot_counts_active_members_sales_and_complaints_by_hand(small_mall):
    with small_mall.connect() as conn:
        snap = kpi.kpi_snapshot(conn, AS_OF)
    assert snap.active_members == 4  # M1, M2, M3, M5
    assert snap.sales_week == pytest.approx(600.0 + 50.0 - 20.0)
    assert snap.complaints_week == 1


def test_churn_rate_is_share_of_prior_year_members_without_a_purchase_this_year(small_mall):
    with small_mall.connect() as conn:
        snap = kpi.kpi_snapshot(conn, AS_OF)
    # Prior year: M1, M2, M4; this year M1 and M2 bought again, M4 did not.
    assert snap.churn_rate == pytest.approx(1 / 3)


def test_top20_share_takes_the_biggest_fifth_of_active_members(small_mall):
    with small_mall.connect() as conn:
        snap = kpi.kpi_snapshot(conn, AS_OF)
    # Member sales last year: 1000, 105, 30 (50 - 20), 30; top 20% of 4 members rounds to 1 member.
    assert snap.top20_share == pytest.approx(1000 / 1165)


def test_satisfaction_index_rescales_the_one_to_seven_scale_with_weights(small_mall):
    with small_mall.connect() as conn:
        equal = kpi.satisfaction_index(conn, AS_OF - dt.timedelta(days=365), AS_OF)
        product_only = kpi.satisfaction_index(
            conn, AS_OF - dt.timedelta(days=365), AS_OF, {"product_quality": 1.0, "sales_service": 0.0}
        )
    assert equal == pytest.approx((4.0 - 1.0) / 6.0 * 100.0)
    assert product_only == pytest.approx(100.0)


def test_satisfaction_index_rejects_unknown_dimensions(small_mall):
    with small_mall.connect() as conn, pytest.raises(ValueError, match="unknown satisfaction dimensions: price"):
        kpi.satisfaction_index(conn, AS_OF - dt.timedelta(days=365), AS_OF, {"price": 1.0})


def test_overview_compares_with_the_previous_week(small_mall):
    with small_mall.connect() as conn:
        table = kpi.overview_kpis(conn, AS_OF)
    assert list(table["kpi"]) == list(kpi.KPI_NAMES)
    sales = table.set_index("kpi").loc["sales_week"]
    # Previous week (days 8-14 before): T3 (100, 10 days ago) and T10 (5, exactly 7 days ago at midnight).
    assert sales["previous"] == pytest.approx(105.0)
    assert sales["change"] == pytest.approx(630.0 - 105.0)
    assert table.set_index("kpi").loc["churn_rate", "reference"] == kpi.CHURN_REFERENCE
    # A year (52 weeks) earlier nobody had bought in the prior 365 days except M1 (400 d), M2 (500 d), M4 (450 d).
    active = table.set_index("kpi").loc["active_members"]
    assert active["previous_year"] == 3 and active["change_year"] == 1


def test_active_share_and_referrals_count_members_who_had_joined(small_mall):
    with small_mall.begin() as conn:
        conn.execute(
            insert(schema.members),
            [{"member_id": "M6", "join_date": AS_OF - dt.timedelta(days=2), "gender": "F", "referred_by": "M1"},
             {"member_id": "M7", "join_date": AS_OF + dt.timedelta(days=2), "gender": "F", "referred_by": "M1"}],
        )
    with small_mall.connect() as conn:
        snap = kpi.kpi_snapshot(conn, AS_OF)
    assert snap.referrals_week == 1  # M7 joins after the date
    assert snap.active_share == pytest.approx(4 / 6)


def test_weekly_trend_buckets_sales_and_complaints_by_week(small_mall):
    with small_mall.connect() as conn:
        trend = kpi.weekly_trend(conn, AS_OF, weeks=3)
    assert list(trend["week_end"]) == [AS_OF - dt.timedelta(days=14), AS_OF - dt.timedelta(days=7), AS_OF]
    assert list(trend["sales"]) == pytest.approx([0.0, 105.0, 630.0])
    assert list(trend["buyers"]) == [0, 1, 2]
    assert list(trend["complaints"]) == [0, 1, 1]


def test_empty_database_gives_zero_counts_and_missing_ratios(engine):
    with engine.connect() as conn:
        snap = kpi.kpi_snapshot(conn, AS_OF)
        assert kpi.latest_activity_date(conn) is None
    assert (snap.active_members, snap.sales_week, snap.complaints_week, snap.referrals_week) == (0, 0.0, 0, 0)
    assert snap.top20_share is None and snap.churn_rate is None and snap.satisfaction_index is None
    assert snap.active_share is None


@pytest.mark.parametrize(
    ("values", "expected"),
    [([100.0], 1.0), ([1.0] * 10, 0.2), ([80.0, 5, 5, 5, 5], 0.8), ([], None), ([0.0, 0.0], None)],
)
def test_top_share_edge_cases(values, expected):
    result = kpi.top_share(np.array(values))
    assert result == (pytest.approx(expected) if expected is not None else None)


def test_latest_activity_date_is_the_last_transaction_day(small_mall):
    with small_mall.connect() as conn:
        assert kpi.latest_activity_date(conn) == AS_OF - dt.timedelta(days=2)
