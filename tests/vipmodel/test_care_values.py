"""Which value a care list weighs members by: lifetime value when it can be fitted, else 3 years of profit."""

from __future__ import annotations

import datetime as dt
import warnings

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import insert, select

from vipmodel import kpi, retention, schema
from vipmodel.care_values import CARE_LIST_COLUMNS, care_list_values
from vipmodel.db import make_engine
from vipmodel.pyramid import DEFAULT_RULES, TierRules

AS_OF = dt.date(2025, 6, 30)
YEAR_START = dt.date(2024, 7, 1)  # the window's first day: as_of - 1 year + 1 day
SPEND_RULES = TierRules(basis="spend", thresholds=(2_000.0, 1_000.0, 500.0))


def _sale(txn: str, member: str, day: dt.date, amount: float, margin: float, discount: float = 0.0,
          is_return: bool = False) -> dict:
    return {"txn_id": txn, "member_id": member, "ts": dt.datetime.combine(day, dt.time(12)), "amount": amount,
            "gross_margin": margin, "discount": discount, "is_return": is_return}


def _add(engine, members: list[str], txns: list[dict], care: list[dict] = ()) -> None:
    with engine.begin() as conn:
        conn.execute(insert(schema.members),
                     [{"member_id": m, "name": None, "join_date": dt.date(2023, 1, 1)} for m in members])
        if txns:
            conn.execute(insert(schema.transactions), txns)
        if care:
            conn.execute(insert(schema.care_actions), list(care))


def _one_purchase_mall(engine, seed: int) -> pd.DataFrame:
    """Members who each bought once (so the BG/NBD model cannot be fitted); returns what each did in the year."""
    rng = np.random.default_rng(seed)
    rows = []
    for k in range(25):
        day = YEAR_START + dt.timedelta(days=int(rng.integers(0, 365)))
        amount = float(np.round(rng.uniform(100, 3_000), 2))
        rows.append({"member_id": f"M{k:02d}", "day": day, "amount": amount,
                     "margin": round(amount * float(rng.uniform(0.1, 0.4)), 2),
                     "discount": round(amount * float(rng.uniform(0, 0.05)), 2)})
    bought = pd.DataFrame(rows)
    txns = [_sale(f"T{k:03d}", r.member_id, r.day, r.amount, r.margin, r.discount)
            for k, r in enumerate(bought.itertuples())]
    txns.append(_sale("OLD", "LAPSED", YEAR_START - dt.timedelta(days=30), 900.0, 300.0))  # before the window
    txns.append(_sale("RET", "RETURNED", AS_OF - dt.timedelta(days=5), 80.0, 24.0, is_return=True))  # no sale
    care = [{"member_id": "M00", "action_date": AS_OF - dt.timedelta(days=10), "kind": "sms", "cost": 2.5}]
    _add(engine, [*bought["member_id"], "LAPSED", "RETURNED"], txns, care)
    bought["care"] = np.where(bought["member_id"] == "M00", 2.5, 0.0)
    return bought


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("years", [1, 3, 2.5])
def test_when_nobody_bought_twice_the_value_is_the_years_profit_times_the_years(engine, seed, years):
    bought = _one_purchase_mall(engine, seed)
    with engine.connect() as conn:
        with pytest.raises(ValueError):  # the premise: the lifetime-value models cannot be fitted here
            retention.member_values(conn, AS_OF)
        frame, source = care_list_values(conn, AS_OF, SPEND_RULES, years)
    assert source == "proxy"
    assert list(frame.columns) == list(CARE_LIST_COLUMNS)
    # LAPSED bought before the year; RETURNED only returned something in it: a return alone is not a purchase.
    assert sorted(frame["member_id"]) == sorted(bought["member_id"])
    got = frame.set_index("member_id").loc[bought["member_id"]]
    profit = bought["margin"] - bought["discount"] - bought["care"]
    assert got["value"].to_numpy() == pytest.approx(profit.to_numpy() * years)
    sales = bought["amount"].to_numpy()
    tiers = np.select([sales >= 2_000, sales >= 1_000, sales >= 500], ["A", "B", "C"], "D")
    assert got["tier"].tolist() == tiers.tolist()


def test_when_the_models_fit_the_value_is_their_lifetime_value_of_every_buyer_of_the_year(demo_sqlite_url):
    engine = make_engine(demo_sqlite_url)
    with engine.connect() as conn, warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        as_of = kpi.latest_activity_date(conn)
        frame, source = care_list_values(conn, as_of, DEFAULT_RULES, 3)
        clv = retention.member_values(conn, as_of, horizon_years=3).frame.set_index("member_id")["model_clv"]
        sales = schema.transactions.c
        start = dt.date(as_of.year - 1, as_of.month, as_of.day) + dt.timedelta(days=1)
        window = conn.execute(select(sales.member_id).distinct().where(
            sales.ts >= dt.datetime.combine(start, dt.time()),
            sales.ts < dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time()), sales.is_return.is_(False),
        )).scalars().all()
    engine.dispose()
    assert source == "clv" and clv.notna().all()  # the premise: the models value every buyer
    assert sorted(frame["member_id"]) == sorted(window)
    got = frame.set_index("member_id")["value"]
    assert got.to_numpy() == pytest.approx(clv.reindex(got.index).to_numpy())
    assert set(frame["tier"]) == set("ABCD")


def test_on_the_demo_mall_a_longer_horizon_is_worth_more(demo_sqlite_url):
    engine = make_engine(demo_sqlite_url)
    with engine.connect() as conn, warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        as_of = kpi.latest_activity_date(conn)
        one, source_one = care_list_values(conn, as_of, DEFAULT_RULES, 1)
        three, source_three = care_list_values(conn, as_of, DEFAULT_RULES, 3)
    engine.dispose()
    assert source_one == source_three == "clv"
    assert one["member_id"].tolist() == three["member_id"].tolist()
    assert one["tier"].tolist() == three["tier"].tolist()
    assert (three["value"].to_numpy() >= one["value"].to_numpy() - 1e-9).all()
    assert three["value"].sum() > one["value"].sum()


def test_a_year_without_purchases_gives_an_empty_list(engine):
    _add(engine, ["OLD"], [_sale("T1", "OLD", YEAR_START - dt.timedelta(days=1), 500.0, 150.0)])
    with engine.connect() as conn:
        frame, source = care_list_values(conn, AS_OF, DEFAULT_RULES, 3)
    assert source == "none" and frame.empty and list(frame.columns) == list(CARE_LIST_COLUMNS)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"years": 0}, "years must be a finite number > 0, got 0$"),
        ({"years": -1.5}, "years must be a finite number > 0, got -1.5$"),
        ({"years": float("nan")}, "years must be a finite number > 0, got nan$"),
        ({"years": True}, "years must be a finite number > 0, got True$"),
        ({"as_of": "2025-06-30"}, "as_of must be a date, got str$"),
    ],
)
def test_bad_arguments_are_refused_with_their_message(engine, kwargs, message):
    arguments = {"as_of": AS_OF, "tier_rules": DEFAULT_RULES, "years": 3, **kwargs}
    with engine.connect() as conn, pytest.raises(ValueError, match=message):
        care_list_values(conn, **arguments)
