"""Tests of vipmodel.features: hand-computed features on a tiny mall, CDNOW ground truth, SQLite == PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine, case, insert

from vipmodel import features, schema
from vipmodel.db import create_schema, make_engine
from vipmodel.features import FEATURE_COLUMNS, PERIODS, calibration_summary, member_features, period_bounds

CDNOW_DIR = Path(__file__).resolve().parent.parent / "data" / "cdnow"
D = dt.date
T = dt.datetime
Q1_START, Q1_END = D(2025, 1, 1), D(2025, 3, 31)

MEMBERS = [
    {"member_id": "M01", "join_date": D(2024, 1, 15), "home_store": "S1"},
    {"member_id": "M02", "join_date": D(2025, 1, 1), "home_store": "S2"},
    {"member_id": "M03", "join_date": D(2023, 6, 1), "home_store": "S1"},
    {"member_id": "M04", "join_date": D(2024, 12, 1), "home_store": "S2"},
    {"member_id": "M05", "join_date": D(2024, 12, 1), "home_store": None},
]


def _txn(
    txn_id: str,
    member: str,
    ts: dt.datetime,
    store: str,
    amount: float,
    margin: float,
    discount: float,
    is_return: bool = False,
) -> dict:
    return {
        "txn_id": txn_id,
        "member_id": member,
        "ts": ts,
        "store": store,
        "amount": amount,
        "gross_margin": margin,
        "discount": discount,
        "is_return": is_return,
    }


TRANSACTIONS = [
    # M01: two sales on the same day (one visit), a return, a sale in another store and month.
    _txn("t01", "M01", T(2025, 1, 10, 9, 0), "S1", 100.00, 40.00, 10.00),
    _txn("t02", "M01", T(2025, 1, 10, 18, 30), "S1", 50.00, 20.00, 0.00),
    _txn("t03", "M01", T(2025, 1, 20, 12, 0), "S1", 30.00, 12.00, 3.00, is_return=True),
    _txn("t04", "M01", T(2025, 2, 5, 10, 0), "S2", 200.00, 60.00, 20.00),
    # M02 only returns something (bought before the range).
    _txn("t05", "M02", T(2025, 1, 15, 16, 0), "S2", 80.00, 30.00, 8.00, is_return=True),
    # M04 sits on period boundaries: the last second of January, the first of February, of the range and after.
    _txn("t06", "M04", T(2025, 1, 31, 23, 59, 59), "S1", 40.00, 12.00, 0.00),
    _txn("t07", "M04", T(2025, 2, 1, 0, 0, 0), "S1", 60.00, 18.00, 6.00),
    _txn("t08", "M04", T(2025, 3, 31, 23, 59, 59), "S1", 70.00, 21.00, 0.00),
    _txn("t09", "M04", T(2025, 4, 1, 0, 0, 0), "S1", 999.00, 99.00, 0.00),
    # M05 bought only just before the range.
    _txn("t10", "M05", T(2024, 12, 31, 23, 59, 59), "S1", 10.00, 3.00, 0.00),
]
CARE = [
    {"member_id": "M01", "action_date": D(2025, 1, 5), "kind": "sms", "cost": 2.00},
    {"member_id": "M01", "action_date": D(2025, 2, 14), "kind": "birthday_gift", "cost": 25.00},
    {"member_id": "M04", "action_date": D(2025, 3, 1), "kind": "sms", "cost": 1.00},
    {"member_id": "M05", "action_date": D(2025, 4, 1), "kind": "sms", "cost": 1.00},
]
COMPLAINTS = [
    {
        "complaint_id": "c1",
        "member_id": "M01",
        "complaint_date": D(2025, 2, 6),
        "category": "service",
        "compensation_cost": 15.00,
    },
    # M03's only activity in the range is this complaint.
    {
        "complaint_id": "c2",
        "member_id": "M03",
        "complaint_date": D(2025, 3, 1),
        "category": "product",
        "compensation_cost": 40.00,
    },
]


def _load_mall(engine: Engine) -> Engine:
    with engine.begin() as conn:
        conn.execute(insert(schema.members), MEMBERS)
        conn.execute(insert(schema.transactions), TRANSACTIONS)
        conn.execute(insert(schema.care_actions), CARE)
        conn.execute(insert(schema.complaints), COMPLAINTS)
    return engine


@pytest.fixture
def mall(engine: Engine) -> Engine:
    return _load_mall(engine)


@pytest.fixture
def both_malls(tmp_path, postgres_server) -> dict[str, Engine]:
    """The same tiny mall on SQLite and on PostgreSQL, side by side."""
    from tests.conftest import new_postgres_database

    engines = {
        "sqlite": make_engine(f"sqlite:///{tmp_path / 'both.db'}"),
        "postgresql": make_engine(new_postgres_database(postgres_server)),
    }
    for eng in engines.values():
        create_schema(eng)
        _load_mall(eng)
    yield engines
    for eng in engines.values():
        eng.dispose()


def _row(
    member: str,
    period: str,
    start: dt.date,
    end: dt.date,
    *,
    n_tx: int = 0,
    visits: int = 0,
    sales: float = 0.0,
    margin: float = 0.0,
    discount: float = 0.0,
    returns: float = 0.0,
    care: float = 0.0,
    complaint: float = 0.0,
    n_complaints: int = 0,
    first: dt.datetime | None = None,
    last: dt.datetime | None = None,
) -> dict:
    join = next(m for m in MEMBERS if m["member_id"] == member)
    return {
        "member_id": member,
        "period": period,
        "period_start": start,
        "period_end": end,
        "n_transactions": n_tx,
        "n_visits": visits,
        "sales": sales,
        "gross_margin": margin,
        "discount": discount,
        "returns_amount": returns,
        "care_cost": care,
        "complaint_cost": complaint,
        "n_complaints": n_complaints,
        "profit_contribution": margin - discount - care - complaint,
        "first_purchase": pd.Timestamp(first) if first else pd.NaT,
        "last_purchase": pd.Timestamp(last) if last else pd.NaT,
        "recency_days": float((end - last.date()).days) if last else np.nan,
        "tenure_days": float((end - join["join_date"]).days),
        "home_store": join["home_store"],
    }


def _expected(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=list(FEATURE_COLUMNS))
    return df.astype(features._empty_features().dtypes.to_dict())


def _assert_features_equal(actual: pd.DataFrame, expected_rows: list[dict]) -> None:
    pd.testing.assert_frame_equal(actual, _expected(expected_rows), check_exact=False, atol=1e-9)


def test_range_features_equal_hand_computed_values(mall):
    expected = [
        # 100 + 50 - 30 + 200 sales, 40 + 20 - 12 + 60 margin, 10 + 0 - 3 + 20 discount, care 2 + 25.
        _row(
            "M01",
            "range",
            Q1_START,
            Q1_END,
            n_tx=3,
            visits=2,
            sales=320.0,
            margin=108.0,
            discount=27.0,
            returns=30.0,
            care=27.0,
            complaint=15.0,
            n_complaints=1,
            first=T(2025, 1, 10, 9),
            last=T(2025, 2, 5, 10),
        ),
        _row("M02", "range", Q1_START, Q1_END, sales=-80.0, margin=-30.0, discount=-8.0, returns=80.0),
        _row("M03", "range", Q1_START, Q1_END, complaint=40.0, n_complaints=1),
        _row(
            "M04",
            "range",
            Q1_START,
            Q1_END,
            n_tx=3,
            visits=3,
            sales=170.0,
            margin=51.0,
            discount=6.0,
            care=1.0,
            first=T(2025, 1, 31, 23, 59, 59),
            last=T(2025, 3, 31, 23, 59, 59),
        ),
    ]
    _assert_features_equal(member_features(mall, Q1_START, Q1_END), expected)


def test_profit_contribution_of_the_member_with_costs_is_margin_minus_discount_care_and_complaints(mall):
    row = member_features(mall, Q1_START, Q1_END).set_index("member_id").loc["M01"]
    assert row["profit_contribution"] == pytest.approx(108.0 - 27.0 - 27.0 - 15.0)
    assert row["recency_days"] == 54.0  # 5 Feb -> 31 Mar


def test_monthly_periods_split_exactly_at_midnight(mall):
    jan, feb, mar = (D(2025, 1, 1), D(2025, 1, 31)), (D(2025, 2, 1), D(2025, 2, 28)), (D(2025, 3, 1), D(2025, 3, 31))
    expected = [
        _row(
            "M01",
            "2025-01",
            *jan,
            n_tx=2,
            visits=1,
            sales=120.0,
            margin=48.0,
            discount=7.0,
            returns=30.0,
            care=2.0,
            first=T(2025, 1, 10, 9),
            last=T(2025, 1, 10, 18, 30),
        ),
        _row(
            "M01",
            "2025-02",
            *feb,
            n_tx=1,
            visits=1,
            sales=200.0,
            margin=60.0,
            discount=20.0,
            care=25.0,
            complaint=15.0,
            n_complaints=1,
            first=T(2025, 2, 5, 10),
            last=T(2025, 2, 5, 10),
        ),
        _row("M02", "2025-01", *jan, sales=-80.0, margin=-30.0, discount=-8.0, returns=80.0),
        _row("M03", "2025-03", *mar, complaint=40.0, n_complaints=1),
        _row(
            "M04",
            "2025-01",
            *jan,
            n_tx=1,
            visits=1,
            sales=40.0,
            margin=12.0,
            first=T(2025, 1, 31, 23, 59, 59),
            last=T(2025, 1, 31, 23, 59, 59),
        ),
        _row(
            "M04",
            "2025-02",
            *feb,
            n_tx=1,
            visits=1,
            sales=60.0,
            margin=18.0,
            discount=6.0,
            first=T(2025, 2, 1),
            last=T(2025, 2, 1),
        ),
        _row(
            "M04",
            "2025-03",
            *mar,
            n_tx=1,
            visits=1,
            sales=70.0,
            margin=21.0,
            care=1.0,
            first=T(2025, 3, 31, 23, 59, 59),
            last=T(2025, 3, 31, 23, 59, 59),
        ),
    ]
    _assert_features_equal(member_features(mall, Q1_START, Q1_END, period="month"), expected)


def test_partial_periods_are_clipped_to_the_requested_range(mall):
    df = member_features(mall, D(2025, 1, 15), D(2025, 4, 1), period="quarter")
    assert list(zip(df["member_id"], df["period"], df["period_start"], df["period_end"])) == [
        ("M01", "2025-Q1", D(2025, 1, 15), D(2025, 3, 31)),
        ("M02", "2025-Q1", D(2025, 1, 15), D(2025, 3, 31)),
        ("M03", "2025-Q1", D(2025, 1, 15), D(2025, 3, 31)),
        ("M04", "2025-Q1", D(2025, 1, 15), D(2025, 3, 31)),
        ("M04", "2025-Q2", D(2025, 4, 1), D(2025, 4, 1)),
        ("M05", "2025-Q2", D(2025, 4, 1), D(2025, 4, 1)),
    ]
    # The sale at 1 April 00:00 belongs to the one-day second quarter, measured at that day.
    q2 = df[(df["member_id"] == "M04") & (df["period"] == "2025-Q2")].iloc[0]
    assert (q2["sales"], q2["recency_days"]) == (999.0, 0.0)


def test_a_year_period_covers_the_whole_range_like_range_when_inside_one_year(mall):
    by_year = member_features(mall, Q1_START, Q1_END, period="year")
    by_range = member_features(mall, Q1_START, Q1_END, period="range")
    assert set(by_year["period"]) == {"2025"}
    pd.testing.assert_frame_equal(by_year.drop(columns="period"), by_range.drop(columns="period"))


@pytest.mark.parametrize("period", PERIODS)
def test_a_range_without_activity_gives_an_empty_frame_with_the_contract_columns(mall, period):
    df = member_features(mall, D(2030, 1, 1), D(2030, 12, 31), period=period)
    assert df.empty
    assert tuple(df.columns) == FEATURE_COLUMNS
    assert df["n_visits"].dtype == np.int64 and df["sales"].dtype == np.float64


def test_store_filter_keeps_that_stores_transactions_and_costs_only_of_its_home_members(mall):
    df = member_features(mall, Q1_START, Q1_END, store="S1").set_index("member_id")
    assert sorted(df.index) == ["M01", "M03", "M04"]  # M02 returned in S2 and lives in S2
    # M01's S2 purchase is gone, its care and complaints stay (home store S1).
    assert (df.loc["M01", "n_transactions"], df.loc["M01", "sales"]) == (2, 120.0)
    assert (df.loc["M01", "care_cost"], df.loc["M01", "complaint_cost"]) == (2.0 + 25.0, 15.0)
    assert df.loc["M03", "complaint_cost"] == 40.0
    # M04 shops in S1 but lives in S2: purchases shown, its care action not.
    assert (df.loc["M04", "sales"], df.loc["M04", "care_cost"]) == (170.0, 0.0)


def test_members_filter_restricts_rows_and_an_empty_list_gives_an_empty_frame(mall):
    df = member_features(mall, Q1_START, Q1_END, members=["M03", "M02", "M03", "NOPE"])
    assert list(df["member_id"]) == ["M02", "M03"]
    assert member_features(mall, Q1_START, Q1_END, members=[]).empty


def test_member_lists_longer_than_one_chunk_give_the_same_frame(mall, monkeypatch):
    whole = member_features(mall, Q1_START, Q1_END, period="month", members=[m["member_id"] for m in MEMBERS])
    monkeypatch.setattr(features, "_MEMBER_CHUNK", 2)
    chunked = member_features(mall, Q1_START, Q1_END, period="month", members=[m["member_id"] for m in MEMBERS])
    pd.testing.assert_frame_equal(chunked, whole)
    assert len(whole) == 7


def test_a_connection_works_as_well_as_an_engine(mall):
    with mall.connect() as conn:
        pd.testing.assert_frame_equal(member_features(conn, Q1_START, Q1_END), member_features(mall, Q1_START, Q1_END))


@pytest.mark.parametrize("period", PERIODS)
@pytest.mark.parametrize("store", [None, "S1"])
def test_sqlite_and_postgresql_give_identical_frames(both_malls, period, store):
    frames = [
        member_features(eng, D(2024, 12, 1), D(2025, 6, 30), period=period, store=store).sort_values(
            ["member_id", "period"], ignore_index=True
        )
        for eng in both_malls.values()
    ]
    assert len(frames[0]) > 0
    pd.testing.assert_frame_equal(frames[0], frames[1])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"period": "week"}, r"^unknown period 'week': expected one of month, quarter, year, range$"),
        ({"start": D(2025, 2, 1), "end": D(2025, 1, 1)}, r"^start \(2025-02-01\) is after end \(2025-01-01\)$"),
        ({"start": "2025-01-01"}, r"^start must be a date, got str$"),
        ({"members": "M01"}, r"^members must be a sequence of member ids, not a string$"),
    ],
)
def test_member_features_rejects_bad_arguments_with_a_clear_message(kwargs, message):
    args = {"conn": make_engine("sqlite://"), "start": Q1_START, "end": Q1_END, **kwargs}
    with pytest.raises(ValueError, match=message):
        member_features(**args)


def test_member_features_rejects_something_that_is_not_a_database():
    with pytest.raises(ValueError, match=r"^conn must be a SQLAlchemy Engine or Connection, got str$"):
        member_features("sqlite://", Q1_START, Q1_END)


@pytest.mark.parametrize(
    ("start", "end", "period", "expected"),
    [
        (
            D(2024, 11, 15),
            D(2025, 2, 10),
            "month",
            [
                ("2024-11", D(2024, 11, 15), D(2024, 11, 30)),
                ("2024-12", D(2024, 12, 1), D(2024, 12, 31)),
                ("2025-01", D(2025, 1, 1), D(2025, 1, 31)),
                ("2025-02", D(2025, 2, 1), D(2025, 2, 10)),
            ],
        ),
        (
            D(2024, 2, 29),
            D(2024, 10, 1),
            "quarter",
            [
                ("2024-Q1", D(2024, 2, 29), D(2024, 3, 31)),
                ("2024-Q2", D(2024, 4, 1), D(2024, 6, 30)),
                ("2024-Q3", D(2024, 7, 1), D(2024, 9, 30)),
                ("2024-Q4", D(2024, 10, 1), D(2024, 10, 1)),
            ],
        ),
        (
            D(2023, 12, 31),
            D(2024, 1, 1),
            "year",
            [("2023", D(2023, 12, 31), D(2023, 12, 31)), ("2024", D(2024, 1, 1), D(2024, 1, 1))],
        ),
        (D(2025, 3, 3), D(2025, 3, 3), "range", [("range", D(2025, 3, 3), D(2025, 3, 3))]),
    ],
)
def test_period_bounds_lists_calendar_periods_clipped_to_the_range(start, end, period, expected):
    df = period_bounds(start, end, period)
    assert list(df.columns) == ["period", "period_start", "period_end"]
    assert list(df.itertuples(index=False, name=None)) == expected


def test_period_bounds_validates_like_member_features():
    with pytest.raises(ValueError, match=r"^unknown period 'weekly'"):
        period_bounds(Q1_START, Q1_END, "weekly")
    with pytest.raises(ValueError, match=r"^start \(2025-03-31\) is after end \(2025-01-01\)$"):
        period_bounds(Q1_END, Q1_START, "month")


# --- calibration_summary -------------------------------------------------------------------------------------


def _cdnow_transactions() -> pd.DataFrame:
    raw = pd.read_csv(
        CDNOW_DIR / "CDNOW_sample.txt",
        sep=r"\s+",
        header=None,
        names=["master_id", "id", "date", "cds", "value"],
        dtype={"date": str},
    )
    raw["day"] = pd.to_datetime(raw["date"], format="%Y%m%d")
    raw["member_id"] = raw["id"].astype(str)
    return raw


def _load_cdnow(engine: Engine) -> pd.DataFrame:
    raw = _cdnow_transactions()
    members = raw.groupby("member_id", as_index=False)["day"].min()
    with engine.begin() as conn:
        conn.execute(
            insert(schema.members),
            [{"member_id": m, "join_date": d.date()} for m, d in members.itertuples(index=False)],
        )
        conn.execute(
            insert(schema.transactions),
            [
                {"txn_id": f"c{i}", "member_id": m, "ts": d.to_pydatetime(), "amount": v, "quantity": int(q)}
                for i, (m, d, v, q) in enumerate(raw[["member_id", "day", "value", "cds"]].itertuples(index=False))
            ],
        )
    return raw


@pytest.fixture
def cdnow(engine: Engine) -> tuple[Engine, pd.DataFrame]:
    return engine, _load_cdnow(engine)


def test_calibration_summary_reproduces_the_published_cdnow_summary(cdnow):
    engine, _ = cdnow
    ours = calibration_summary(engine, calibration_end=D(1997, 9, 30)).set_index("member_id")
    published = pd.read_csv(CDNOW_DIR / "cdnow_customers_summary_with_transactions.csv")
    published.index = published["ID"].astype(str)
    assert len(ours) == len(published) == 2357
    ours = ours.loc[published.index]
    assert (ours["frequency"].to_numpy() == published["x"].to_numpy()).all()
    # The published file is rounded to 2 decimals.
    for column, theirs in (("recency", "t_x"), ("T", "T"), ("monetary_value", "zbar")):
        np.testing.assert_allclose(ours[column], published[theirs], rtol=0, atol=0.005 + 1e-9, err_msg=column)


def test_calibration_holdout_counts_distinct_purchase_days_after_calibration(cdnow):
    engine, raw = cdnow
    cal_end, holdout_end = D(1997, 9, 30), D(1998, 6, 30)
    ours = calibration_summary(engine, cal_end, holdout_end=holdout_end).set_index("member_id")
    # Independent count straight from the text file.
    in_holdout = raw[(raw["day"] > pd.Timestamp(cal_end)) & (raw["day"] <= pd.Timestamp(holdout_end))]
    expected_days = in_holdout.groupby("member_id")["day"].nunique()
    expected_sales = in_holdout.groupby("member_id")["value"].sum()
    assert ours["holdout_purchases"].sum() == expected_days.sum() > 0
    pd.testing.assert_series_equal(
        ours["holdout_purchases"].reindex(expected_days.index), expected_days, check_names=False, check_dtype=False
    )
    np.testing.assert_allclose(ours["holdout_sales"].reindex(expected_sales.index), expected_sales, atol=0.005)
    # Customer 1 of the sample (Fader-Hardie's example): one holdout purchase, 26.48 on 1997-12-12.
    assert (ours.loc["1", "holdout_purchases"], ours.loc["1", "holdout_sales"]) == (1, 26.48)


def test_calibration_summary_merges_same_day_purchases_ignores_returns_and_later_buyers(engine):
    with engine.begin() as conn:
        conn.execute(insert(schema.members), [{"member_id": m, "join_date": D(2025, 1, 1)} for m in ("A", "B", "C")])
        conn.execute(
            insert(schema.transactions),
            [
                _txn("a1", "A", T(2025, 1, 1, 10), "S1", 10.0, 0, 0),
                _txn("a2", "A", T(2025, 1, 8, 9), "S1", 20.0, 0, 0),
                _txn("a3", "A", T(2025, 1, 8, 17), "S1", 5.0, 0, 0),  # same day as a2: one purchase of 25
                _txn("a4", "A", T(2025, 1, 15, 12), "S1", 40.0, 0, 0, is_return=True),  # not a purchase
                _txn("a5", "A", T(2025, 1, 29, 12), "S1", 35.0, 0, 0),
                _txn("b1", "B", T(2025, 1, 29, 23, 59), "S1", 7.0, 0, 0),  # first purchase on calibration_end
                _txn("c1", "C", T(2025, 1, 30, 0, 0), "S1", 9.0, 0, 0),  # first purchase after calibration_end
            ],
        )
    df = calibration_summary(engine, D(2025, 1, 29), time_unit_days=1.0)
    assert list(df["member_id"]) == ["A", "B"]
    a, b = df.iloc[0], df.iloc[1]
    assert (a["frequency"], a["recency"], a["T"], a["monetary_value"]) == (2, 28.0, 28.0, (25.0 + 35.0) / 2)
    assert (b["frequency"], b["recency"], b["T"], b["monetary_value"]) == (0, 0.0, 0.0, 0.0)
    assert a["first_purchase"] == D(2025, 1, 1)
    weeks = calibration_summary(engine, D(2025, 1, 29))
    assert weeks.loc[0, "T"] == pytest.approx(4.0)
    late = calibration_summary(engine, D(2025, 1, 29), observation_start=D(2025, 1, 2))
    # Without 1 January, A's first purchase is the 25.00 day on 8 January.
    assert (late.loc[0, "frequency"], late.loc[0, "T"], late.loc[0, "monetary_value"]) == (1, 3.0, 35.0)


def _reference_summary(sales: list[tuple[str, dt.datetime, float]], cal_end: dt.date, holdout_end: dt.date,
                       start: dt.date | None) -> pd.DataFrame:
    """The CDNOW summary computed the plain way, member by member (time in days)."""
    days: dict[str, dict[dt.date, float]] = {}
    for member, ts, amount in sales:
        if start is not None and ts.date() < start or ts.date() > holdout_end:
            continue
        days.setdefault(member, {}).setdefault(ts.date(), 0.0)
        days[member][ts.date()] += amount
    rows = []
    for member, by_day in sorted(days.items()):
        ordered = sorted(by_day)
        if ordered[0] > cal_end:
            continue
        calibration = [d for d in ordered if d <= cal_end]
        holdout = [d for d in ordered if d > cal_end]
        repeat = [by_day[d] for d in calibration[1:]]
        rows.append({"member_id": member, "frequency": len(repeat),
                     "recency": float((calibration[-1] - ordered[0]).days), "T": float((cal_end - ordered[0]).days),
                     "monetary_value": sum(repeat) / len(repeat) if repeat else 0.0, "first_purchase": ordered[0],
                     "holdout_purchases": len(holdout), "holdout_sales": round(sum(by_day[d] for d in holdout), 2)})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("seed", [3, 17, 2026])
def test_calibration_summary_matches_a_member_by_member_count_on_random_sales(engine, seed):
    rng = np.random.default_rng(seed)
    members = [f"R{i:03d}" for i in range(60)]
    sales, rows = [], []
    for n, member in enumerate(members):
        for k in range(int(rng.integers(1, 12))):
            ts = dt.datetime(2024, 1, 1) + dt.timedelta(days=int(rng.integers(0, 500)), hours=int(rng.integers(8, 22)))
            amount = round(float(rng.uniform(1, 500)), 2)
            is_return = bool(rng.random() < 0.1)
            rows.append(_txn(f"r{n}-{k}", member, ts, "S1", amount, 0, 0, is_return=is_return))
            if not is_return:
                sales.append((member, ts, amount))
    with engine.begin() as conn:
        conn.execute(insert(schema.members), [{"member_id": m, "join_date": D(2024, 1, 1)} for m in members])
        conn.execute(insert(schema.transactions), rows)
    cal_end, holdout_end, start = D(2024, 11, 30), D(2025, 5, 14), D(2024, 2, 10)
    for observation_start in (None, start):
        expected = _reference_summary(sales, cal_end, holdout_end, observation_start)
        got = calibration_summary(engine, cal_end, holdout_end=holdout_end, observation_start=observation_start,
                                  time_unit_days=1.0)
        pd.testing.assert_frame_equal(got, expected, check_dtype=False, rtol=1e-9)
        alone = calibration_summary(engine, cal_end, observation_start=observation_start, time_unit_days=1.0)
        pd.testing.assert_frame_equal(alone, got[list(features.CALIBRATION_COLUMNS)])


@pytest.mark.parametrize("holdout_end", [None, D(2030, 1, 1)])
def test_calibration_summary_of_an_empty_database_has_the_contract_columns(engine, holdout_end):
    df = calibration_summary(engine, D(2025, 1, 1), holdout_end=holdout_end)
    expected = features.CALIBRATION_COLUMNS + (features.HOLDOUT_COLUMNS if holdout_end else ())
    assert df.empty and tuple(df.columns) == expected


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"holdout_end": D(2025, 1, 31)}, r"^holdout_end \(2025-01-31\) must be after calibration_end \(2025-01-31\)$"),
        (
            {"observation_start": D(2025, 2, 1)},
            r"^observation_start \(2025-02-01\) is after calibration_end \(2025-01-31\)$",
        ),
        ({"time_unit_days": 0}, r"^time_unit_days must be positive, got 0$"),
        ({"calibration_end": "2025-01-31"}, r"^calibration_end must be a date, got str$"),
    ],
)
def test_calibration_summary_rejects_bad_arguments_with_a_clear_message(kwargs, message):
    args = {"conn": make_engine("sqlite://"), "calibration_end": D(2025, 1, 31), **kwargs}
    with pytest.raises(ValueError, match=message):
        calibration_summary(**args)


def test_demo_mall_totals_agree_between_periods_and_with_plain_sql_sums(demo_engine):
    from sqlalchemy import func, select

    t = schema.transactions
    with demo_engine.connect() as conn:
        latest = conn.execute(select(func.max(t.c.ts))).scalar()
        start, end = D(latest.year - 1, 1, 1), D(latest.year - 1, 12, 31)
        in_range = (t.c.ts >= T(start.year, 1, 1)) & (t.c.ts < T(end.year + 1, 1, 1))
        net, n_sales = conn.execute(
            select(func.sum(schema.signed(t.c.amount)), func.sum(case((t.c.is_return, 0), else_=1))).where(in_range)
        ).one()
    by_range = member_features(demo_engine, start, end)
    by_month = member_features(demo_engine, start, end, period="month")
    assert by_range["sales"].sum() == pytest.approx(float(net), abs=0.01)
    assert by_range["n_transactions"].sum() == by_month["n_transactions"].sum() == n_sales > 0
    for column in ("sales", "profit_contribution", "care_cost", "complaint_cost"):
        assert by_month[column].sum() == pytest.approx(by_range[column].sum(), abs=0.05), column
    # A visit day belongs to exactly one month, so visits add up too.
    assert by_month["n_visits"].sum() == by_range["n_visits"].sum()
