"""Referral analysis: hand-checked on a tiny mall on both backends, published interval values, the demo mall."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sqlalchemy import insert

from vipmodel import referrals, schema
from vipmodel.auth import Actor
from vipmodel.db import make_engine
from vipmodel.pyramid import TierRules
from vipmodel.referrals import (
    latest_satisfaction,
    mask_name,
    mean_ci,
    new_member_referrals,
    poisson_rate_ci,
    proportion_ci,
    rate_table,
    referral_rates,
    referral_summary,
    referred_value,
    satisfaction_bucket,
    top_referrers,
)
from vipmodel.settings import save_setting

START, END = dt.date(2025, 1, 1), dt.date(2025, 12, 31)
RULES = TierRules("profit", thresholds=(250.0, 80.0, 10.0))
WEIGHTS = {"product_quality": 0.5, "sales_service": 0.3, "corporate_image": 0.2}


def _tx(txn, member, ts, amount, margin, discount=0.0, is_return=False):
    return {"txn_id": txn, "member_id": member, "ts": ts, "amount": amount, "gross_margin": margin,
            "discount": discount, "is_return": is_return}


def _survey(conn, response_id, member, day, scores):
    conn.execute(insert(schema.survey_responses).values(id=response_id, member_id=member, survey_date=day))
    conn.execute(
        insert(schema.survey_answers),
        [{"response_id": response_id, "item_code": code, "score": s} for code, s in scores.items()],
    )


@pytest.fixture
def tiny_mall(engine):
    """R1 referred N1, N2 in 2025 (and N4 in 2024); R2 referred N3; L (no sale in 2025) referred N5; O1 came alone.

    Profit in 2025: R1 300 (A under RULES), R2 100 (B), N2 159 (B, with a purchase the day before joining),
    X 50 (C), O1 20 (C), N1 -15 (D), N5 3 (D).
    """
    members = [
        ("R1", dt.date(2023, 1, 1), None, "王小明"),
        ("R2", dt.date(2023, 1, 1), None, "Anna Smith"),
        ("X", dt.date(2023, 1, 1), None, None),
        ("L", dt.date(2023, 1, 1), None, "李四"),
        ("N4", dt.date(2024, 5, 1), "R1", None),
        ("O1", dt.date(2025, 2, 1), None, None),
        ("N1", dt.date(2025, 3, 1), "R1", None),
        ("N5", dt.date(2025, 4, 1), "L", None),
        ("N2", dt.date(2025, 6, 15), "R1", None),
        ("N3", dt.date(2025, 9, 1), "R2", None),
    ]
    with engine.begin() as conn:
        # Referrers first: referred_by is a foreign key to members.
        conn.execute(
            insert(schema.members),
            [{"member_id": m, "join_date": d, "referred_by": r, "name": n, "gender": "U"} for m, d, r, n in members],
        )
        conn.execute(
            insert(schema.transactions),
            [
                _tx("T1", "R1", dt.datetime(2025, 2, 1, 10), 1000.0, 300.0),
                _tx("T2", "R2", dt.datetime(2025, 2, 1, 11), 400.0, 100.0),
                _tx("T3", "X", dt.datetime(2025, 2, 1, 12), 200.0, 50.0),
                _tx("T4", "L", dt.datetime(2024, 3, 1, 12), 200.0, 50.0),
                _tx("T5", "N4", dt.datetime(2024, 5, 1, 12), 70.0, 20.0),
                _tx("T10", "N1", dt.datetime(2025, 3, 1, 10), 100.0, 40.0, discount=5.0),
                _tx("T11", "N1", dt.datetime(2025, 3, 10, 10), 20.0, 8.0, is_return=True),
                _tx("T12", "N1", dt.datetime(2026, 2, 28, 23), 50.0, 10.0),  # day 365 of the first year
                _tx("T13", "N1", dt.datetime(2026, 3, 1, 9), 1000.0, 100.0),  # day 366: after the first year
                _tx("T20", "N2", dt.datetime(2025, 6, 14, 18), 999.0, 99.0),  # before joining: not first-year
                _tx("T21", "N2", dt.datetime(2025, 6, 15, 9), 200.0, 60.0),
                _tx("T50", "N5", dt.datetime(2025, 4, 1, 9), 10.0, 3.0),
                _tx("T60", "O1", dt.datetime(2025, 2, 1, 9), 100.0, 20.0),
                _tx("T61", "O1", dt.datetime(2026, 5, 1, 9), 40.0, 8.0),
            ],
        )
        conn.execute(
            insert(schema.care_actions),
            [
                {"member_id": "N1", "action_date": dt.date(2025, 4, 1), "kind": "sms", "cost": 30.0},
                {"member_id": "N3", "action_date": dt.date(2025, 10, 1), "kind": "sms", "cost": 10.0},
            ],
        )
        conn.execute(
            insert(schema.complaints),
            [{"complaint_id": "C1", "member_id": "N1", "complaint_date": dt.date(2025, 5, 1), "category": "service",
              "severity": 1, "compensation_cost": 12.0}],
        )
        _survey(conn, 1, "R1", dt.date(2024, 6, 1), {c: 7 for c in schema.DEFAULT_SURVEY_ITEMS})
        _survey(conn, 2, "R1", dt.date(2025, 6, 1), {"pq_1": 6, "pq_2": 6, "ss_1": 5})  # no corporate image item
        _survey(conn, 3, "R1", dt.date(2026, 2, 1), {c: 1 for c in schema.DEFAULT_SURVEY_ITEMS})  # after as_of
        _survey(conn, 4, "R2", dt.date(2025, 3, 1), {c: 3 for c in schema.DEFAULT_SURVEY_ITEMS})
        _survey(conn, 5, "X", dt.date(2025, 5, 1), {c: 4 for c in schema.DEFAULT_SURVEY_ITEMS})
    return engine


# ----------------------------------------------------------------------------------------- tiny mall, by hand


def test_summary_counts_each_referrers_new_members_and_their_first_year_value(tiny_mall):
    summary = referral_summary(tiny_mall, START, END, rules=RULES, weights=WEIGHTS)
    assert list(summary.columns) == list(referrals.SUMMARY_COLUMNS)
    assert summary["referrer_id"].tolist() == ["R1", "L", "R2"]  # most referrals, then most referred sales
    r1, l, r2 = (summary.iloc[i] for i in range(3))
    # N1: 100 - 20 (return) + 50 (day 365); margin 40 - 8 + 10 - discount 5 - care 30 - compensation 12 = -5.
    # N2: the purchase the day before joining is not in its first year: sales 200, profit 60.
    assert (r1["referrals"], r1["referred_buyers"]) == (2, 2)
    assert r1["referred_sales"] == pytest.approx(330.0) and r1["referred_profit"] == pytest.approx(55.0)
    assert (r2["referrals"], r2["referred_buyers"]) == (1, 0)
    assert r2["referred_sales"] == 0.0 and r2["referred_profit"] == pytest.approx(-10.0)
    assert l["referred_sales"] == pytest.approx(10.0) and l["referred_profit"] == pytest.approx(3.0)
    assert (r1["tier"], r2["tier"], l["tier"]) == ("A", "B", None)  # L did not buy in the year to END
    # Latest survey up to END answered product quality (6) and service (5) only: (0.5*6 + 0.3*5) / 0.8.
    assert r1["satisfaction"] == pytest.approx(5.625)
    assert r2["satisfaction"] == pytest.approx(3.0) and math.isnan(l["satisfaction"])


def test_summary_only_counts_referrals_joining_in_the_range(tiny_mall):
    summary = referral_summary(tiny_mall, dt.date(2024, 1, 1), dt.date(2024, 12, 31), rules=RULES)
    assert summary[["referrer_id", "referrals"]].values.tolist() == [["R1", 1]]
    assert summary["referred_sales"].iloc[0] == pytest.approx(70.0)


def test_summary_is_empty_with_its_columns_when_nobody_was_referred(tiny_mall):
    summary = referral_summary(tiny_mall, dt.date(2020, 1, 1), dt.date(2020, 12, 31))
    assert summary.empty and list(summary.columns) == list(referrals.SUMMARY_COLUMNS)


def test_latest_satisfaction_uses_the_latest_response_up_to_the_date_and_the_saved_weights(tiny_mall):
    equal = latest_satisfaction(tiny_mall, END).set_index("member_id")
    assert equal.loc["R1", "survey_date"] == dt.date(2025, 6, 1)
    assert equal.loc["R1", "satisfaction"] == pytest.approx(5.5)  # equal weights over the two answered dimensions
    assert math.isnan(equal.loc["R1", "sat_corporate_image"])
    save_setting(tiny_mall, "satisfaction_weights", {"product_quality": 1.0, "sales_service": 0.0,
                                                     "corporate_image": 0.0}, actor=Actor("test", "marketing"))
    assert latest_satisfaction(tiny_mall, END).set_index("member_id").loc["R1", "satisfaction"] == pytest.approx(6.0)
    later = latest_satisfaction(tiny_mall, dt.date(2026, 6, 30), WEIGHTS).set_index("member_id")
    assert later.loc["R1", "satisfaction"] == pytest.approx(1.0)
    assert set(later.index) == {"R1", "R2", "X"}  # the 2025 surveys of R2 and X are still within two years
    assert set(latest_satisfaction(tiny_mall, dt.date(2027, 6, 30), lookback_years=1)["member_id"]) == set()


def test_rates_by_tier_count_referrals_of_members_active_in_the_year(tiny_mall):
    rates = referral_rates(tiny_mall, END, by="tier", rules=RULES).set_index("group")
    assert list(rates.index) == ["A", "B", "C", "D", "all"]
    assert rates["members"].tolist() == [1, 2, 2, 2, 7]  # B: R2, N2; C: X, O1; D: N1, N5; N3 and L did not buy
    assert rates["referrals"].tolist() == [2, 1, 0, 0, 3]  # N5 was referred by L, who is not active
    assert rates["referrers"].tolist() == [1, 1, 0, 0, 2]
    assert rates.loc["all", "rate_per_100"] == pytest.approx(300 / 7)
    # No referral among 2 members: the exact 95% upper bound of a zero count is 3.689 (Garwood).
    assert rates.loc["C", "rate_low"] == 0.0 and rates.loc["C", "rate_high"] == pytest.approx(368.9 / 2, rel=1e-3)


def test_rates_by_satisfaction_use_the_buckets_of_the_latest_survey(tiny_mall):
    rates = referral_rates(tiny_mall, END, by="satisfaction", rules=RULES, weights=WEIGHTS).set_index("group")
    assert list(rates.index) == ["below_4", "4_to_5", "5_to_6", "6_plus", "no_survey", "all"]
    assert rates["members"].tolist() == [1, 1, 1, 0, 4, 7]  # R2 3.0; X exactly 4.0; R1 5.625
    assert rates["referrals"].tolist() == [1, 0, 2, 0, 0, 3]
    assert math.isnan(rates.loc["6_plus", "rate_per_100"])


@pytest.mark.parametrize("as_of", [dt.date(2020, 12, 31)])
def test_rates_are_empty_when_nobody_bought_in_the_year(tiny_mall, as_of):
    rates = referral_rates(tiny_mall, as_of)
    assert rates.empty and list(rates.columns) == list(referrals.RATE_COLUMNS)


def test_referred_value_follows_new_members_of_each_kind_through_the_churn_panel(tiny_mall):
    value = referred_value(tiny_mall, dt.date(2026, 12, 31), years=1).set_index("group")
    referred, other = value.loc["referred"], value.loc["other"]
    # New in 2025 and buying in 2025: N1, N2, N5 referred (N3 never bought), O1 not.
    assert (referred["members"], other["members"]) == (3, 1)
    sales = np.array([80.0, 1199.0, 10.0])  # 2025 sales of N1 (100 - 20), N2 (999 the day before joining + 200), N5
    assert referred["mean_sales"] == pytest.approx(sales.mean())
    low, high = stats.t.interval(0.95, 2, loc=sales.mean(), scale=stats.sem(sales))
    assert (referred["mean_sales_low"], referred["mean_sales_high"]) == pytest.approx((low, high))
    assert referred["mean_profit"] == pytest.approx((-15.0 + 159.0 + 3.0) / 3)
    assert referred["mean_next_sales"] == pytest.approx(1050.0 / 3)  # N1 bought 50 + 1000 in 2026
    assert (referred["churned"], referred["churn_rate"]) == (2, pytest.approx(2 / 3))  # N2, N5
    assert (other["churned"], other["mean_next_sales"]) == (0, pytest.approx(40.0))
    assert math.isnan(other["mean_sales_low"])  # one member: no interval
    assert (other["churn_rate_low"], other["churn_rate_high"]) == pytest.approx((0.0, 0.975))


def test_referred_value_is_empty_without_two_years_of_data(tiny_mall):
    value = referred_value(tiny_mall, dt.date(2021, 12, 31))
    assert value.empty and list(value.columns) == list(referrals.VALUE_COLUMNS)


def test_top_referrers_mask_names_unless_asked(tiny_mall):
    top = top_referrers(tiny_mall, END, n=2, rules=RULES)
    assert list(top.columns) == list(referrals.TOP_COLUMNS)
    assert top[["member_id", "name", "referrals"]].values.tolist() == [["R1", "王**", 2], ["L", "李*", 1]]
    shown = top_referrers(tiny_mall, END, n=3, show_names=True, rules=RULES)
    assert shown["name"].tolist() == ["王小明", "李四", "Anna Smith"]
    assert top_referrers(tiny_mall, END, start=dt.date(2024, 1, 1), rules=RULES)["referrals"].tolist() == [3, 1, 1]


def test_top_referrers_among_given_members_rank_only_those(tiny_mall):
    top = top_referrers(tiny_mall, END, n=2, rules=RULES, members={"R2", "L", "O1"})
    assert top["member_id"].tolist() == ["L", "R2"]  # R1 refers most but is not among them
    assert top_referrers(tiny_mall, END, rules=RULES, members=[]).empty


def test_new_member_referrals_gives_the_share_of_joiners_who_were_referred(tiny_mall):
    kpis = new_member_referrals(tiny_mall, START, END)
    assert (kpis.new_members, kpis.referred) == (5, 4)  # O1, N1, N2, N3, N5
    assert kpis.referred_share == pytest.approx(0.8)
    assert (kpis.share_low, kpis.share_high) == pytest.approx(proportion_ci(4, 5))


# ---------------------------------------------------------------------------------------------- pure helpers


@pytest.mark.parametrize(
    ("count", "low", "high"),
    # Exact 95% Poisson limits as tabulated by Garwood (1936) and in Sahai & Khurshid (1993), Table 1.
    [(0, 0.0, 3.689), (1, 0.0253, 5.572), (5, 1.623, 11.668), (10, 4.795, 18.390)],
)
def test_poisson_interval_matches_published_exact_limits(count, low, high):
    assert poisson_rate_ci(count, 1.0) == pytest.approx((low, high), abs=1e-3)
    assert poisson_rate_ci(count, 100.0) == pytest.approx((low / 100, high / 100), abs=1e-5)


@pytest.mark.parametrize(
    ("k", "n", "low", "high"),
    # Clopper-Pearson 95% limits (e.g. Newcombe 1998, Table I: 0/10 and 1/10 ... rounded to 4 places).
    [(0, 10, 0.0, 0.3085), (1, 10, 0.0025, 0.4450), (10, 10, 0.6915, 1.0)],
)
def test_proportion_interval_matches_published_clopper_pearson_limits(k, n, low, high):
    assert proportion_ci(k, n) == pytest.approx((low, high), abs=1e-4)


def test_mean_interval_of_a_single_value_has_no_bounds():
    mean, low, high = mean_ci(np.array([5.0]))
    assert mean == 5.0 and math.isnan(low) and math.isnan(high)


@pytest.mark.parametrize(
    ("value", "bucket"),
    [(1.0, "below_4"), (3.99, "below_4"), (4.0, "4_to_5"), (5.0, "5_to_6"), (5.99, "5_to_6"), (6.0, "6_plus"),
     (7.0, "6_plus"), (float("nan"), "no_survey")],
)
def test_satisfaction_buckets_are_half_open_on_the_seven_point_scale(value, bucket):
    assert satisfaction_bucket(pd.Series([value])).iloc[0] == bucket


@pytest.mark.parametrize(
    ("name", "masked"), [("王小明", "王**"), ("李四", "李*"), ("Z", "Z*"), (None, ""), ("  ", "")]
)
def test_names_keep_only_their_first_character(name, masked):
    assert mask_name(name) == masked


def test_rate_table_by_hand():
    members = pd.DataFrame(
        {"member_id": ["a", "b", "c", "d"], "group": ["x", "x", "y", "y"], "referrals": [2, 0, 1, 1]}
    )
    table = rate_table(members, ("x", "y")).set_index("group")
    assert table["rate_per_100"].tolist() == [100.0, 100.0, 100.0]
    assert table["referrer_share"].tolist() == [0.5, 1.0, 0.75]


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pd.DataFrame({"member_id": ["a"], "referrals": [1]}), r"members is missing columns: group"),
        (pd.DataFrame({"member_id": [], "group": [], "referrals": []}), r"members is empty \(no rows\)"),
        (pd.DataFrame({"member_id": ["a"], "group": ["z"], "referrals": [1]}), "members has groups not in groups: 'z'"),
        (pd.DataFrame({"member_id": ["a"], "group": ["x"], "referrals": [-1]}),
         "members column 'referrals' must hold non-negative whole numbers"),
        (pd.DataFrame({"member_id": ["a", "a"], "group": ["x", "x"], "referrals": [1, 1]}),
         "members must hold one row per member; member_id 'a' appears more than once"),
        ([1, 2], "members must be a pandas DataFrame, got list"),
    ],
)
def test_rate_table_rejects_bad_input_with_a_clear_message(frame, message):
    with pytest.raises(ValueError, match=message):
        rate_table(frame, ("x", "y"))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda e: referral_rates(e, END, by="store"), "by must be 'tier' or 'satisfaction'; got 'store'"),
        (lambda e: referral_summary(e, END, START), r"start \(2025-12-31\) is after end \(2025-01-01\)"),
        (lambda e: referral_summary(e, "2025-01-01", END), "start must be a date, got str"),
        (lambda e: top_referrers(e, END, n=0), "n must be a positive integer; got 0"),
        (lambda e: referred_value(e, END, years=0), "years must be a positive integer; got 0"),
        (lambda e: referral_rates(e, END, confidence=1.5), r"confidence must be in \(0, 1\); got 1.5"),
        (lambda e: latest_satisfaction(e, END, {"product_quality": 1.0}),
         "satisfaction weights must give exactly product_quality, sales_service, corporate_image"),
        (lambda e: latest_satisfaction(e, END, {**WEIGHTS, "sales_service": -1.0}),
         "satisfaction weights must be non-negative finite numbers"),
        (lambda e: latest_satisfaction(e, END, {d: 0.0 for d in WEIGHTS}),
         "at least one satisfaction weight must be positive"),
        (lambda e: referral_summary("sqlite://", START, END),
         "conn must be a SQLAlchemy Engine or Connection, got str"),
        (lambda e: referral_rates(e, END, rules={"basis": "share"}), "rules must be a TierRules, got dict"),
        (lambda e: poisson_rate_ci(1, 0), "exposure must be positive; got 0"),
    ],
)
def test_bad_arguments_raise_clear_messages(tiny_mall, call, message):
    with pytest.raises(ValueError, match=message):
        call(tiny_mall)


# ------------------------------------------------------------------------------------------------- demo mall


@pytest.fixture(scope="module")
def demo_end(demo_sqlite_url) -> dt.date:
    from vipmodel.demo import load_ground_truth

    eng = make_engine(demo_sqlite_url)
    with eng.connect() as conn:
        end = load_ground_truth(conn).end_date
    eng.dispose()
    return end


def test_on_the_demo_mall_the_referral_rate_rises_with_satisfaction(demo_engine, demo_end):
    # The generator draws referrals ~ Poisson(r_max * sigmoid(r_slope * (S - r_mid))): rising in satisfaction.
    rates = referral_rates(demo_engine, demo_end, by="satisfaction").set_index("group")
    buckets = rates.loc[list(referrals.SATISFACTION_BUCKETS), "rate_per_100"].to_numpy()
    assert (np.diff(buckets) > 0).all()
    assert rates.loc["6_plus", "rate_low"] > rates.loc["4_to_5", "rate_high"]


def test_on_the_demo_mall_every_referral_in_the_year_is_in_the_summary(demo_engine, demo_end):
    start = demo_end.replace(year=demo_end.year - 1) + dt.timedelta(days=1)
    summary = referral_summary(demo_engine, start, demo_end)
    kpis = new_member_referrals(demo_engine, start, demo_end)
    assert summary["referrals"].sum() == kpis.referred > 0
    assert (summary["referred_buyers"] <= summary["referrals"]).all()


def test_summary_and_rates_are_equal_on_sqlite_and_postgresql(demo_sqlite_url, demo_postgres_url, demo_end):
    start = demo_end.replace(year=demo_end.year - 1) + dt.timedelta(days=1)
    frames = []
    for url in (demo_sqlite_url, demo_postgres_url):
        eng = make_engine(url)
        frames.append((referral_summary(eng, start, demo_end), referral_rates(eng, demo_end, by="satisfaction")))
        eng.dispose()
    pd.testing.assert_frame_equal(frames[0][0], frames[1][0])
    pd.testing.assert_frame_equal(frames[0][1], frames[1][1])
