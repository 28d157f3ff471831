"""Tests of the demo mall generator.

The properties of the mall are measured here with this module's own SQL on the written tables (not with the
generator's internals); the window and sizes come from the arguments (3000 members, 3 years ending on the
default end date 2026-10-31, so the simulation years start on 2023-11-01, 2024-11-01 and 2025-11-01).
"""

from __future__ import annotations

import datetime as dt
import json
import re

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Connection, Engine, case, func, insert, literal, select

from tests.conftest import DEMO_MEMBERS, DEMO_SEED, DEMO_YEARS
from vipmodel import schema
from vipmodel.db import data_version, make_engine
from vipmodel.demo import (
    CARE_UNIT_COST,
    CATEGORY_MARGIN,
    DEFAULT_END_DATE,
    STORES,
    GroundTruth,
    generate,
    load_ground_truth,
    measure_realised,
)

YEAR_STARTS = [dt.date(2023, 11, 1), dt.date(2024, 11, 1), dt.date(2025, 11, 1), dt.date(2026, 11, 1)]
t, m, ca, co = schema.transactions, schema.members, schema.care_actions, schema.complaints
sr, sa = schema.survey_responses, schema.survey_answers


def _year(column, as_datetime: bool):
    bounds = [dt.datetime.combine(d, dt.time()) if as_datetime else d for d in YEAR_STARTS]
    return case(*[(column < bounds[y + 1], literal(y)) for y in range(DEMO_YEARS)], else_=literal(DEMO_YEARS))


def _member_years(conn: Connection) -> pd.DataFrame:
    """Per member and simulation year: sales, net sales, signed margin, discount (GROUP BY in SQL)."""
    yr = _year(t.c.ts, True).label("year")
    stmt = select(
        t.c.member_id,
        yr,
        func.sum(case((t.c.is_return, 0.0), else_=t.c.amount)).label("sales"),
        func.sum(case((t.c.is_return, -t.c.amount), else_=t.c.amount)).label("net_sales"),
        func.sum(case((t.c.is_return, -t.c.gross_margin), else_=t.c.gross_margin)).label("margin"),
        func.sum(t.c.discount).label("discount"),
    ).group_by(t.c.member_id, yr)
    out = pd.DataFrame(conn.execute(stmt).all(), columns=["member_id", "year", "sales", "net_sales", "margin",
                                                          "discount"])
    return out.astype({"year": int, "sales": float, "net_sales": float, "margin": float, "discount": float})


def _transitions(conn: Connection) -> pd.DataFrame:
    """One row per (member, y) for members active in y-1 (y >= 1): sales quintile in y-1 and churn at y."""
    my = _member_years(conn)
    active = my[my["sales"] > 0]
    rows = []
    for y in range(1, DEMO_YEARS):
        prev = active[active["year"] == y - 1].copy()
        prev["quintile"] = pd.qcut(prev["sales"].rank(method="first"), 5, labels=False)
        now = set(active.loc[active["year"] == y, "member_id"])
        prev["churned"] = ~prev["member_id"].isin(now)
        prev["y"] = y
        rows.append(prev)
    return pd.concat(rows, ignore_index=True)


def _fingerprint(conn: Connection) -> dict[str, tuple]:
    """Row counts and rounded sums per table: equal contents give equal fingerprints on any backend."""
    def one(stmt) -> tuple:
        return tuple(round(float(v or 0), 2) for v in conn.execute(stmt).one())

    return {
        "members": one(select(func.count(), func.count(m.c.referred_by), func.count(func.distinct(m.c.home_store)))),
        "transactions": one(select(func.count(), func.sum(t.c.amount), func.sum(t.c.gross_margin),
                                   func.sum(t.c.discount), func.sum(t.c.quantity),
                                   func.sum(case((t.c.is_return, 1), else_=0)))),
        "care_actions": one(select(func.count(), func.sum(ca.c.cost))),
        "complaints": one(select(func.count(), func.sum(co.c.compensation_cost), func.sum(co.c.severity),
                                 func.count(co.c.resolved_date))),
        "survey_responses": one(select(func.count(), func.sum(sr.c.expectation))),
        "survey_answers": one(select(func.count(), func.sum(sa.c.score))),
    }


@pytest.fixture
def demo_conn(demo_engine: Engine):
    with demo_engine.connect() as conn:
        yield conn


@pytest.fixture(scope="module")
def small_runs(tmp_path_factory) -> dict[str, dict]:
    """Three small SQLite malls: seed 1 twice (once with a progress callback), seed 2 once."""
    out: dict[str, dict] = {}
    for label, seed in (("a", 1), ("b", 1), ("c", 2)):
        url = f"sqlite:///{tmp_path_factory.mktemp('small') / f'{label}.db'}"
        eng = make_engine(url)
        calls: list[tuple[float, str]] = []
        progress = (lambda f, msg: calls.append((f, msg))) if label == "b" else False
        truth = generate(eng, members=150, years=2, seed=seed, progress=progress, batch_size=70)
        with eng.connect() as conn:
            rows = {
                name: conn.execute(select(table).order_by(*table.primary_key.columns)).all()
                for name, table in (("members", m), ("transactions", t), ("care_actions", ca), ("complaints", co),
                                    ("survey_responses", sr), ("survey_answers", sa))
            }
        eng.dispose()
        out[label] = {"rows": rows, "truth": truth, "calls": calls}
    return out


# --------------------------------------------------------------------------------------- arguments, API


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"members": 0}, "members must be an integer >= 1"),
        ({"members": 2.5}, "members must be an integer >= 1"),
        ({"years": 0}, "years must be an integer >= 1"),
        ({"years": True}, "years must be an integer >= 1"),
        ({"batch_size": 0}, "batch_size must be an integer >= 1"),
        ({"end_date": "2026-10-31"}, "end_date must be a datetime.date"),
        ({"progress": "yes"}, "progress must be True, False or a callable(fraction, message)"),
    ],
)
def test_invalid_arguments_raise_before_the_database_is_touched(engine: Engine, kwargs, message) -> None:
    with engine.begin() as conn:
        conn.execute(insert(m).values(member_id="KEEP", join_date=dt.date(2020, 1, 1)))
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        generate(engine, **{"progress": False, **kwargs})
    with engine.connect() as conn:
        assert conn.execute(select(m.c.member_id)).scalars().all() == ["KEEP"]


def test_load_ground_truth_is_none_for_a_database_without_demo(engine: Engine) -> None:
    with engine.connect() as conn:
        assert load_ground_truth(conn) is None


def test_incomplete_ground_truth_record_is_rejected_with_the_missing_keys() -> None:
    with pytest.raises(ValueError, match=r"^ground truth record is missing keys: seed, years$"):
        GroundTruth.from_dict({k: None for k in GroundTruth.__dataclass_fields__ if k not in ("seed", "years")})


def test_ground_truth_round_trips_through_json_and_the_database(demo_conn: Connection) -> None:
    truth = load_ground_truth(demo_conn)
    assert truth is not None
    assert GroundTruth.from_dict(json.loads(json.dumps(truth.to_dict()))) == truth
    assert (truth.seed, truth.members, truth.years) == (DEMO_SEED, DEMO_MEMBERS, DEMO_YEARS)
    assert (truth.start_date, truth.end_date) == (YEAR_STARTS[0], DEFAULT_END_DATE)
    assert truth.year_starts == YEAR_STARTS
    assert data_version(demo_conn) >= 1


def test_ground_truth_states_the_churn_formula_and_clearly_different_weights(demo_conn: Connection) -> None:
    truth = load_ground_truth(demo_conn)
    w = truth.satisfaction_weights
    assert sum(w.values()) == pytest.approx(1.0)
    assert min(abs(a - b) for a, b in [(w["product_quality"], w["sales_service"]),
                                        (w["sales_service"], w["corporate_image"])]) >= 0.1 - 1e-9
    cm = truth.churn_model
    assert {"b0", "b_sat", "b_care", "c0", "b_complaint", "formula"} <= set(cm)
    for cat in ("product", "service"):
        c = cm["b_complaint"][cat]
        assert c["resolved_quick"] < c["resolved_slow"] < c["unresolved"]
    assert all(cm["b_complaint"]["service"][k] > cm["b_complaint"]["product"][k] for k in cm["b_complaint"]["service"])
    # The executable formula agrees with the stated one on a hand-computed member: S = 4 (no satisfaction
    # term), no care, no spend, one unresolved service complaint -> sigmoid(b0 + b_unresolved_service).
    p = truth.churn_probability(np.array([[4.0, 4.0, 4.0]]), np.array([0.0]), np.array([0.0]),
                                {"service": {"unresolved": np.array([1])}})
    expected = 1.0 / (1.0 + np.exp(-(cm["b0"] + cm["b_complaint"]["service"]["unresolved"])))
    assert p[0] == pytest.approx(expected)


@pytest.mark.parametrize(
    ("satisfaction", "care", "complaints", "message"),
    [
        (np.ones((2, 2)), np.zeros(2), None, r"^satisfaction must have shape \(n, 3\)"),
        (np.ones((2, 3)), np.zeros(3), None,
         r"^care_cost_prev, spend_prev and complaint counts must be 1-d arrays of length 2$"),
        (np.ones((2, 3)), np.zeros(2), {"service": {"unresolved": np.zeros(1)}}, r"must be 1-d arrays of length 2$"),
        (np.ones((2, 3)), np.zeros(2), {"price": {"unresolved": np.zeros(2)}},
         r"^unknown complaint category/status: price/unresolved$"),
    ],
)
def test_churn_probability_rejects_misshapen_inputs(demo_conn: Connection, satisfaction, care, complaints,
                                                    message) -> None:
    truth = load_ground_truth(demo_conn)
    with pytest.raises(ValueError, match=message):
        truth.churn_probability(satisfaction, care, np.zeros(2), complaints)


@pytest.mark.parametrize("years", [0, -1, 1.0, True])
def test_measure_realised_rejects_a_non_positive_year_count(demo_conn: Connection, years) -> None:
    with pytest.raises(ValueError, match=r"^years must be an integer >= 1$"):
        measure_realised(demo_conn, YEAR_STARTS[0], years)


@pytest.mark.parametrize(("members", "years"), [(1, 1), (5, 4)])
def test_tiny_malls_are_generated_without_errors(db_url: str, members: int, years: int) -> None:
    eng = make_engine(db_url)
    truth = generate(eng, members=members, years=years, seed=5, progress=False, batch_size=2)
    with eng.connect() as conn:
        assert load_ground_truth(conn) == truth
        n_members = conn.execute(select(func.count()).select_from(m)).scalar_one()
    assert n_members >= members
    assert len(truth.realised["annual_churn_rate"]) == years - 1
    assert np.isfinite(truth.churn_model["b0"])
    eng.dispose()


# ---------------------------------------------------------------------------------- determinism, progress


def test_same_seed_gives_identical_tables(small_runs) -> None:
    a, b = small_runs["a"]["rows"], small_runs["b"]["rows"]
    assert all(len(a[name]) > 0 for name in a)
    assert a == b
    assert small_runs["a"]["truth"] == small_runs["b"]["truth"]


def test_a_different_seed_gives_different_tables(small_runs) -> None:
    a, c = small_runs["a"]["rows"], small_runs["c"]["rows"]
    assert a["transactions"] != c["transactions"]
    assert a["members"] != c["members"]


def test_progress_callback_gets_increasing_fractions_that_end_at_one(small_runs) -> None:
    calls = small_runs["b"]["calls"]
    fractions = [f for f, _ in calls]
    assert len(calls) >= 4
    assert all(isinstance(msg, str) and msg for _, msg in calls)
    assert fractions == sorted(fractions)
    assert 0.0 < fractions[0] and fractions[-1] == 1.0


@pytest.mark.parametrize(
    ("end_date", "years", "first_day"),
    [(dt.date(2024, 2, 29), 1, dt.date(2023, 3, 1)), (dt.date(2025, 6, 30), 2, dt.date(2023, 7, 1))],
)
def test_activity_stays_inside_the_whole_years_ending_at_end_date(tmp_path, end_date, years, first_day) -> None:
    eng = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    truth = generate(eng, members=60, years=years, seed=3, end_date=end_date, progress=False)
    assert (truth.start_date, truth.end_date) == (first_day, end_date)
    with eng.connect() as conn:
        lo, hi = conn.execute(select(func.min(t.c.ts), func.max(t.c.ts))).one()
        assert dt.datetime.combine(first_day, dt.time()) <= lo and hi < dt.datetime.combine(end_date, dt.time.max)
        for col in (ca.c.action_date, co.c.complaint_date, sr.c.survey_date, co.c.resolved_date):
            lo, hi = conn.execute(select(func.min(col), func.max(col))).one()
            assert first_day <= lo and hi <= end_date
    eng.dispose()


# ------------------------------------------------------------------------------------ integrity of the data


def test_ids_are_unique_and_well_formed(demo_conn: Connection) -> None:
    for column, pattern in ((m.c.member_id, r"M\d{7}"), (t.c.txn_id, r"T\d{9}"), (co.c.complaint_id, r"C\d{7}")):
        ids = demo_conn.execute(select(column)).scalars().all()
        assert len(ids) == len(set(ids)) > 0
        assert all(re.fullmatch(pattern, i) for i in ids)
    n = demo_conn.execute(select(func.count()).select_from(m)).scalar_one()
    assert demo_conn.execute(select(func.max(m.c.member_id))).scalar_one() == f"M{n:07d}"


def test_members_have_plausible_personal_data_and_referrals(demo_conn: Connection) -> None:
    frame = pd.DataFrame(demo_conn.execute(select(m)).all(), columns=list(m.c.keys()))
    assert frame["phone"].str.fullmatch(r"1[3-9]\d{9}").all()
    assert set(frame["gender"]) == {"F", "M", "U"}
    assert set(frame["home_store"]) == set(STORES)
    assert set(frame["channel"]) == {"store", "app", "wechat", "referral"}
    assert (frame["name"].str.len().between(2, 3)).all()
    age = (YEAR_STARTS[0] - frame["birthday"]).map(lambda d: d.days / 365.25)
    assert age.between(17, 76).all()
    # Some members joined before the window; new ones joined in every year.
    joined = frame["join_date"]
    assert (joined < YEAR_STARTS[0]).sum() >= DEMO_MEMBERS
    for y in range(DEMO_YEARS):
        assert ((joined >= YEAR_STARTS[y]) & (joined < YEAR_STARTS[y + 1])).sum() > 0.15 * DEMO_MEMBERS
    referred = frame.dropna(subset=["referred_by"]).merge(
        frame[["member_id", "join_date"]], left_on="referred_by", right_on="member_id", suffixes=("", "_referrer"))
    assert len(referred) > 0.05 * DEMO_MEMBERS
    assert (referred["join_date_referrer"] <= referred["join_date"]).all()
    assert (frame.loc[frame["referred_by"].notna(), "channel"] == "referral").all()


def test_returns_repeat_an_earlier_sale_of_the_same_member(demo_conn: Connection) -> None:
    sale = t.alias("sale")
    matching_sale = (
        select(sale.c.id)
        .where(sale.c.member_id == t.c.member_id, sale.c.amount == t.c.amount,
               sale.c.gross_margin == t.c.gross_margin, sale.c.category == t.c.category, sale.c.store == t.c.store,
               sale.c.ts < t.c.ts, sale.c.is_return.is_(False))
        .exists()
    )
    n_returns = demo_conn.execute(select(func.count()).select_from(t).where(t.c.is_return)).scalar_one()
    n_matched = demo_conn.execute(select(func.count()).select_from(t).where(t.c.is_return, matching_sale)).scalar_one()
    assert n_returns > 0 and n_matched == n_returns
    assert demo_conn.execute(select(func.max(t.c.discount)).where(t.c.is_return)).scalar_one() == 0


def test_transactions_respect_amounts_margins_and_store_hours(demo_conn: Connection) -> None:
    assert demo_conn.execute(select(func.min(t.c.amount))).scalar_one() > 0
    assert demo_conn.execute(select(func.min(t.c.discount))).scalar_one() == 0
    by_cat = demo_conn.execute(
        select(t.c.category, func.sum(t.c.gross_margin), func.sum(t.c.amount)).group_by(t.c.category)).all()
    assert {c for c, _, _ in by_cat} == set(CATEGORY_MARGIN)
    for cat, margin, amount in by_cat:
        assert float(margin) / float(amount) == pytest.approx(CATEGORY_MARGIN[cat], abs=1e-3)
    ts = pd.Series(demo_conn.execute(select(t.c.ts).where(t.c.store != "Online")).scalars().all())
    assert ts.dt.hour.between(10, 21).all()
    stores = demo_conn.execute(select(t.c.store).distinct()).scalars().all()
    assert set(stores) == set(STORES)


def test_care_actions_cost_their_unit_cost_and_go_mostly_to_top_spenders(demo_conn: Connection) -> None:
    rows = demo_conn.execute(select(ca.c.kind, func.min(ca.c.cost), func.max(ca.c.cost)).group_by(ca.c.kind)).all()
    assert {k for k, _, _ in rows} == set(CARE_UNIT_COST)
    assert all(lo == hi == CARE_UNIT_COST[k] for k, lo, hi in rows)
    tr = _transitions(demo_conn)
    cy = _year(ca.c.action_date, False).label("year")
    care = pd.DataFrame(demo_conn.execute(
        select(ca.c.member_id, cy, func.sum(ca.c.cost)).where(ca.c.kind != "sms").group_by(ca.c.member_id, cy)
    ).all(), columns=["member_id", "year", "cost"]).astype({"year": int})
    # Care in year y is decided on the sales of year y-1: the top quintile gets far more than the bottom.
    nxt = tr.merge(care.assign(y=care["year"]), on=["member_id", "y"], how="left")
    share = nxt.assign(cared=nxt["cost"].notna()).groupby("quintile")["cared"].mean()
    assert share[4] > 3 * share[0]
    assert 0.1 < share[4] < 0.95  # ... but tier does not determine it


# -------------------------------------------------------------------------------- what analyses must find


def test_top_fifth_of_members_make_about_eighty_percent_of_sales(demo_conn: Connection) -> None:
    per_member = (
        pd.Series(dict(demo_conn.execute(
            select(t.c.member_id, func.sum(case((t.c.is_return, -t.c.amount), else_=t.c.amount)))
            .group_by(t.c.member_id)).all()))
        .astype(float)
    )
    values = np.sort(per_member[per_member > 0].to_numpy())[::-1]
    share = values[: round(0.2 * len(values))].sum() / values.sum()
    assert 0.72 <= share <= 0.88


def test_annual_churn_among_active_members_is_about_thirty_percent(demo_conn: Connection) -> None:
    rates = _transitions(demo_conn).groupby("y")["churned"].mean()
    assert len(rates) == DEMO_YEARS - 1
    assert rates.between(0.25, 0.35).all()


def test_active_member_base_stays_roughly_stable(demo_conn: Connection) -> None:
    my = _member_years(demo_conn)
    active = my[my["sales"] > 0].groupby("year")["member_id"].nunique()
    assert active.max() / active.min() < 1.15
    assert active.min() > DEMO_MEMBERS  # the initial base plus the year's newcomers


def test_a_visible_minority_has_negative_profit_contribution(demo_conn: Connection) -> None:
    my = _member_years(demo_conn)
    cy, ky = _year(ca.c.action_date, False).label("year"), _year(co.c.complaint_date, False).label("year")
    care = pd.DataFrame(demo_conn.execute(select(ca.c.member_id, cy, func.sum(ca.c.cost))
                                          .group_by(ca.c.member_id, cy)).all(), columns=["member_id", "year", "care"])
    comp = pd.DataFrame(demo_conn.execute(select(co.c.member_id, ky, func.sum(co.c.compensation_cost))
                                          .group_by(co.c.member_id, ky)).all(), columns=["member_id", "year", "comp"])
    frame = (my[my["sales"] > 0].merge(care.astype({"year": int}), how="left", on=["member_id", "year"])
             .merge(comp.astype({"year": int}), how="left", on=["member_id", "year"]).fillna({"care": 0, "comp": 0}))
    contribution = frame["margin"] - frame["discount"] - frame["care"].astype(float) - frame["comp"].astype(float)
    share = (contribution < 0).mean()
    assert 0.02 < share < 0.2
    # Negative contributors include members with high sales, not only tiny buyers (a D tier by profit).
    assert frame.loc[contribution < 0, "sales"].max() > frame["sales"].median() * 5


def _complaint_status(conn: Connection) -> pd.DataFrame:
    ky = _year(co.c.complaint_date, False).label("year")
    stmt = select(
        co.c.member_id, ky, func.count().label("n"),
        func.sum(case((co.c.resolved_date.is_(None), 1), else_=0)).label("unresolved"),
    ).group_by(co.c.member_id, ky)
    frame = pd.DataFrame(conn.execute(stmt).all(), columns=["member_id", "year", "n", "unresolved"])
    return frame.astype({"year": int, "n": int, "unresolved": int}).assign(y=lambda f: f["year"] + 1)


def test_complainers_churn_more_and_unresolved_complaints_most(demo_conn: Connection) -> None:
    tr = _transitions(demo_conn).merge(_complaint_status(demo_conn), on=["member_id", "y"], how="left")
    complained = tr["n"].notna()
    assert complained.sum() > 100
    assert tr.loc[complained, "churned"].mean() > tr.loc[~complained, "churned"].mean() + 0.05
    unresolved = tr["unresolved"].fillna(0) > 0
    assert tr.loc[unresolved, "churned"].mean() > tr.loc[complained & ~unresolved, "churned"].mean()


def test_members_given_care_churn_less_than_members_of_the_same_tier_without(demo_conn: Connection) -> None:
    tr = _transitions(demo_conn)
    cy = _year(ca.c.action_date, False).label("year")
    cared = pd.DataFrame(demo_conn.execute(
        select(ca.c.member_id, cy).where(ca.c.kind != "sms").group_by(ca.c.member_id, cy)
    ).all(), columns=["member_id", "year"]).astype({"year": int})
    cared["y"] = cared["year"] + 1
    tr = tr.merge(cared[["member_id", "y"]].assign(care=True), on=["member_id", "y"], how="left")
    tr["care"] = tr["care"].fillna(False).astype(bool)
    # Mantel-Haenszel risk difference over (year, sales quintile) strata.
    num = den = 0.0
    for _, g in tr.groupby(["y", "quintile"]):
        n1, n0 = int(g["care"].sum()), int((~g["care"]).sum())
        if n1 and n0:
            w = n1 * n0 / (n1 + n0)
            num += w * (g.loc[g["care"], "churned"].mean() - g.loc[~g["care"], "churned"].mean())
            den += w
    assert den > 50
    assert num / den < -0.03


def test_referrers_report_higher_satisfaction_than_other_members(demo_conn: Connection) -> None:
    scores = pd.DataFrame(demo_conn.execute(
        select(sr.c.member_id, func.avg(sa.c.score)).join(sa, sa.c.response_id == sr.c.id).group_by(sr.c.member_id)
    ).all(), columns=["member_id", "score"]).astype({"score": float})
    referrers = set(demo_conn.execute(select(m.c.referred_by).where(m.c.referred_by.is_not(None))).scalars())
    is_ref = scores["member_id"].isin(referrers)
    assert is_ref.sum() > 30
    assert scores.loc[is_ref, "score"].mean() > scores.loc[~is_ref, "score"].mean() + 0.2


def test_members_move_between_spend_quintiles_from_year_to_year(demo_conn: Connection) -> None:
    my = _member_years(demo_conn)
    active = my[my["sales"] > 0].copy()
    active["q"] = active.groupby("year")["sales"].transform(lambda s: pd.qcut(s.rank(method="first"), 5, labels=False))
    wide = active.pivot(index="member_id", columns="year", values="q")
    both = wide[[0, 1]].dropna()
    moved = (both[0] != both[1]).mean()
    assert 0.2 < moved < 0.8  # tiers move, but spend is persistent
    assert ((both[0] - both[1]).abs() >= 2).sum() > 0


def test_surveys_cover_about_a_quarter_of_members_with_valid_scores(demo_conn: Connection) -> None:
    assert demo_conn.execute(select(func.min(sa.c.score), func.max(sa.c.score))).one() == (1, 7)
    items = set(demo_conn.execute(select(sa.c.item_code).distinct()).scalars())
    assert items == set(schema.DEFAULT_SURVEY_ITEMS)
    n_resp = demo_conn.execute(select(func.count()).select_from(sr)).scalar_one()
    n_ans = demo_conn.execute(select(func.count()).select_from(sa)).scalar_one()
    assert n_resp * len(items) * 0.9 < n_ans < n_resp * len(items)  # a few answers are left blank
    active = _member_years(demo_conn).query("sales > 0").groupby("year")["member_id"].nunique().sum()
    assert 0.18 < n_resp / active < 0.32
    exp_lo, exp_hi = demo_conn.execute(select(func.min(sr.c.expectation), func.max(sr.c.expectation))).one()
    assert 1 <= exp_lo and exp_hi <= 7


def test_complaints_have_categories_severities_and_mostly_resolutions(demo_conn: Connection) -> None:
    frame = pd.DataFrame(demo_conn.execute(select(co.c.category, co.c.severity, co.c.complaint_date,
                                                  co.c.resolved_date, co.c.compensation_cost)).all(),
                         columns=["category", "severity", "date", "resolved", "cost"])
    assert set(frame["category"]) == {"product", "service"} and set(frame["severity"]) == {1, 2, 3}
    assert 0.65 < frame["resolved"].notna().mean() < 0.85
    days = (pd.to_datetime(frame["resolved"]) - pd.to_datetime(frame["date"])).dt.days.dropna()
    assert (days > 7).mean() > 0.1 and (days >= 0).all()
    assert frame["cost"].astype(float).max() > 10 * frame["cost"].astype(float).median()


def test_ground_truth_reports_the_numbers_measured_on_the_tables(demo_conn: Connection) -> None:
    realised = load_ground_truth(demo_conn).realised
    rates = _transitions(demo_conn).groupby("y")["churned"].mean()
    assert realised["annual_churn_rate"] == pytest.approx(rates.tolist(), abs=1e-6)
    n = {name: demo_conn.execute(select(func.count()).select_from(table)).scalar_one()
         for name, table in (("members_total", m), ("transactions", t), ("complaints", co))}
    assert {k: realised[k] for k in n} == n
    my = _member_years(demo_conn)
    assert realised["active_members_per_year"] == my[my["sales"] > 0].groupby("year").size().tolist()
    assert 0.72 <= realised["top20_sales_share"] <= 0.88
    assert realised["negative_contribution_share"] > 0.02


# ------------------------------------------------------------------------------------------------ backends


def test_sqlite_and_postgresql_hold_the_same_mall(demo_sqlite_url: str, demo_postgres_url: str) -> None:
    prints, truths = [], []
    for url in (demo_sqlite_url, demo_postgres_url):
        eng = make_engine(url)
        with eng.connect() as conn:
            prints.append(_fingerprint(conn))
            truths.append(load_ground_truth(conn))
        eng.dispose()
    assert prints[0] == prints[1]
    a, b = truths[0].to_dict(), truths[1].to_dict()
    assert a["realised"].pop("top20_sales_share") == pytest.approx(b["realised"].pop("top20_sales_share"))
    assert a["churn_model"] == b["churn_model"]
    assert a["realised"]["annual_churn_rate"] == b["realised"]["annual_churn_rate"]
