"""The weekly summary (vipmodel.weekly): tables against pandas on the raw tables, sentence/table agreement, weeks."""

from __future__ import annotations

import datetime as dt
import math
import warnings
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine, insert

from vipmodel import schema
from vipmodel.db import make_engine
from vipmodel.outcomes import SLOW_AFTER_DAYS, add_years
from vipmodel.pyramid import DEFAULT_RULES, TierRules
from vipmodel.weekly import (
    COMPLAINT_MEASURES,
    NoDataForWeek,
    WeeklySummary,
    available_weeks,
    parse_week,
    week_label,
    weekly_summary,
)

OTHER_SEED = 13
OTHER_MEMBERS = 1500
_SUMMARIES: dict[tuple[str, str], WeeklySummary] = {}


@pytest.fixture(scope="module")
def other_seed_url(tmp_path_factory) -> str:
    """A second, smaller demo mall with another seed (SQLite), so nothing is tuned to the session's demo."""
    from vipmodel.demo import generate

    url = f"sqlite:///{tmp_path_factory.mktemp('weekly_other') / 'demo.db'}"
    eng = make_engine(url)
    generate(eng, members=OTHER_MEMBERS, years=3, seed=OTHER_SEED, progress=False)
    eng.dispose()
    return url


@pytest.fixture(params=["demo_sqlite_url", "demo_postgres_url", "other_seed_url"])
def mall_url(request) -> str:
    """The session demo mall on both backends, then a mall of another seed."""
    return request.getfixturevalue(request.param)


def summary_of(url: str, week: str) -> WeeklySummary:
    """One summary per mall and week for the whole module: the value models make it the slow step."""
    if (url, week) not in _SUMMARIES:
        eng = make_engine(url)
        try:
            _SUMMARIES[(url, week)] = weekly_summary(eng, week, rules=DEFAULT_RULES, top_n=10)
        finally:
            eng.dispose()
    return _SUMMARIES[(url, week)]


def weeks_of(url: str) -> tuple[str, ...]:
    eng = make_engine(url)
    try:
        return available_weeks(eng)
    finally:
        eng.dispose()


def chosen_week(url: str) -> str:
    """A complete week more than a year into the data (so it has a previous week and a previous year)."""
    return weeks_of(url)[-6]


def read_table(url: str, table: str) -> pd.DataFrame:
    eng = make_engine(url)
    try:
        with eng.connect() as conn:
            return pd.read_sql_table(table, conn)
    finally:
        eng.dispose()


def day_range(frame: pd.DataFrame, column: str, first: dt.date, last: dt.date) -> pd.DataFrame:
    days = pd.to_datetime(frame[column]).dt.date
    return frame[(days >= first) & (days <= last)]


def pandas_week_sales(tx: pd.DataFrame, week: str) -> float:
    monday, sunday = parse_week(week)
    rows = day_range(tx, "ts", monday, sunday)
    return float(np.where(rows["is_return"], -rows["amount"], rows["amount"]).sum())


# ---------------------------------------------------------------------------------------------------- weeks


@pytest.mark.parametrize(
    ("week", "monday", "sunday"),
    [
        ("2026-W47", dt.date(2026, 11, 16), dt.date(2026, 11, 22)),
        ("2020-W53", dt.date(2020, 12, 28), dt.date(2021, 1, 3)),  # a 53-week year, ending in January
        ("2025-W01", dt.date(2024, 12, 30), dt.date(2025, 1, 5)),  # week 1 starting in December
        ("2015-W53", dt.date(2015, 12, 28), dt.date(2016, 1, 3)),
        (" 2026-w01 ", dt.date(2025, 12, 29), dt.date(2026, 1, 4)),
    ],
)
def test_parse_week_gives_the_iso_monday_and_sunday(week, monday, sunday):
    assert parse_week(week) == (monday, sunday)
    assert monday.isoweekday() == 1 and sunday.isoweekday() == 7
    assert week_label(monday) == week_label(sunday) == week.strip().upper()


@pytest.mark.parametrize(
    ("week", "message"),
    [
        ("2026-47", "must look like '2026-W47'"),
        ("2026-W5", "must look like '2026-W47'"),
        ("W47", "must look like '2026-W47'"),
        ("", "must look like '2026-W47'"),
        ("2026-W47-1", "must look like '2026-W47'"),
        (202647, "must be text like '2026-W47', got int"),
        (None, "must be text like '2026-W47', got NoneType"),
        ("2025-W53", "week 53 does not exist in 2025: ISO year 2025 has 52 weeks"),
        ("2026-W00", "week 0 does not exist"),
        ("2026-W60", "week 60 does not exist in 2026"),
    ],
)
def test_parse_week_rejects_bad_text_with_a_clear_message(week, message):
    with pytest.raises(ValueError, match=message):
        parse_week(week)


def _add_sales(engine: Engine, days: list[dt.date]) -> None:
    with engine.begin() as conn:
        conn.execute(insert(schema.members), [{"member_id": "M1", "join_date": dt.date(2020, 1, 1)}])
        conn.execute(
            insert(schema.transactions),
            [
                {"txn_id": f"T{k}", "member_id": "M1", "ts": dt.datetime.combine(day, dt.time(23, 30)),
                 "amount": 100.0, "gross_margin": 30.0, "discount": 0.0, "is_return": False}
                for k, day in enumerate(days)
            ],
        )


def test_available_weeks_follow_iso_years_across_the_year_boundary(engine):
    # 2021-01-03 (a Sunday) still belongs to 2020-W53; the next day starts 2021-W01; 2024-12-30 is 2025-W01.
    _add_sales(engine, [dt.date(2020, 12, 31), dt.date(2021, 1, 3), dt.date(2021, 1, 4), dt.date(2024, 12, 30)])
    assert available_weeks(engine) == ("2020-W53", "2021-W01", "2025-W01")


def test_available_weeks_of_an_empty_database_are_empty_and_a_summary_says_why(engine):
    assert available_weeks(engine) == ()
    with pytest.raises(NoDataForWeek, match="no data for week 2026-W01: the database has no transactions"):
        weekly_summary(engine, "2026-W01")


@pytest.mark.parametrize(
    ("week", "message"),
    [
        ("2030-W01", "week 2030-W01 is outside the data: the data covers 2020-W53 to 2025-W01"),
        ("2019-W10", "week 2019-W10 is outside the data: the data covers 2020-W53 to 2025-W01"),
        ("2022-W10", r"no transactions in week 2022-W10 \(2022-03-07 to 2022-03-13\); the data covers 2020-W53 to "
                     "2025-W01"),
    ],
)
def test_a_week_without_data_names_the_weeks_that_exist(engine, week, message):
    _add_sales(engine, [dt.date(2020, 12, 31), dt.date(2021, 1, 4), dt.date(2024, 12, 30)])
    with pytest.raises(NoDataForWeek, match=message):
        weekly_summary(engine, week)


def test_no_data_for_week_is_a_value_error_and_bad_arguments_are_refused(engine):
    assert issubclass(NoDataForWeek, ValueError)
    with pytest.raises(ValueError, match="must look like '2026-W47'"):
        weekly_summary(engine, "last week")
    with pytest.raises(ValueError, match="top_n must be a positive integer, got 0"):
        weekly_summary(engine, "2026-W01", top_n=0)


def test_rules_must_be_tier_rules(demo_sqlite_url):
    eng = make_engine(demo_sqlite_url)
    try:
        with pytest.raises(ValueError, match="rules must be a TierRules, got dict"):
            weekly_summary(eng, chosen_week(demo_sqlite_url), rules={"basis": "share"})
    finally:
        eng.dispose()


def test_available_weeks_are_the_iso_weeks_of_the_transactions(mall_url):
    tx = read_table(mall_url, "transactions")
    expected = sorted({week_label(d) for d in pd.to_datetime(tx["ts"]).dt.date.unique()})
    assert weeks_of(mall_url) == tuple(expected)


# ---------------------------------------------------------------------------------- tables against pandas


def test_week_sales_and_complaints_agree_with_pandas_on_the_raw_tables(mall_url):
    week = chosen_week(mall_url)
    s = summary_of(mall_url, week)
    tx = read_table(mall_url, "transactions")
    complaints = read_table(mall_url, "complaints")
    kpis = s.kpis.set_index("kpi")

    assert kpis.loc["sales_week", "value"] == pytest.approx(pandas_week_sales(tx, week), abs=0.01)
    assert kpis.loc["sales_week", "previous_week"] == pytest.approx(pandas_week_sales(tx, s.previous_week), abs=0.01)
    assert kpis.loc["sales_week", "previous_year"] == pytest.approx(
        pandas_week_sales(tx, s.previous_year_week), abs=0.01)

    table = s.complaints.set_index("measure")
    for label, column in ((s.week, "value"), (s.previous_week, "previous_week")):
        monday, sunday = parse_week(label)
        opened = day_range(complaints, "complaint_date", monday, sunday)
        resolved = day_range(complaints.dropna(subset=["resolved_date"]), "resolved_date", monday, sunday)
        filed = pd.to_datetime(complaints["complaint_date"]).dt.date
        solved = pd.to_datetime(complaints["resolved_date"]).dt.date
        still_open = solved.isna() | (solved > sunday)
        overdue = still_open & (filed < sunday - dt.timedelta(days=SLOW_AFTER_DAYS))
        assert table.loc["opened", column] == len(opened) > 0
        assert table.loc["resolved", column] == len(resolved)
        assert table.loc["overdue", column] == int(overdue.sum())
    assert table.loc["opened", "value"] == kpis.loc["complaints_week", "value"]
    assert len(s.overdue_complaints) == table.loc["overdue", "value"]
    assert (s.overdue_complaints["days_open"] > SLOW_AFTER_DAYS).all()
    assert s.overdue_complaints["days_open"].is_monotonic_decreasing


def _pandas_profit(url: str, end: dt.date) -> pd.Series:
    """Trailing-year profit contribution of each member with a purchase, from the raw tables (margins present)."""
    first = add_years(end, -1) + dt.timedelta(days=1)
    tx = day_range(read_table(url, "transactions"), "ts", first, end)
    assert tx["gross_margin"].notna().all(), "the demo exports every margin; NULL margins need margin rates here"
    sign = np.where(tx["is_return"], -1.0, 1.0)
    tx = tx.assign(net=sign * (tx["gross_margin"] - tx["discount"]), sale=~tx["is_return"])
    buyers = tx.groupby("member_id")["sale"].any()
    profit = tx.groupby("member_id")["net"].sum()
    care = day_range(read_table(url, "care_actions"), "action_date", first, end).groupby("member_id")["cost"].sum()
    comp = day_range(read_table(url, "complaints"), "complaint_date", first, end)
    comp = comp.groupby("member_id")["compensation_cost"].sum()
    profit = profit.sub(care, fill_value=0.0).sub(comp, fill_value=0.0)
    return profit[buyers.reindex(profit.index, fill_value=False)].round(2)


def test_tier_counts_agree_with_a_pandas_pyramid_of_the_raw_tables(mall_url):
    week = chosen_week(mall_url)
    s = summary_of(mall_url, week)
    tiers = s.tiers.set_index("tier")
    for end, column in ((s.end, "members"), (s.end - dt.timedelta(days=7), "members_previous_week")):
        profit = _pandas_profit(mall_url, end)
        n = len(profit)
        expected = np.diff([0, *(math.floor(round(c * n, 6)) for c in np.cumsum(DEFAULT_RULES.shares)), n])
        assert tiers[column].sum() == n
        assert tiers[column].tolist() == expected.tolist()
    # The Platinum members are the top 1% by profit: their number in the flows and the pandas ranking agree.
    profit = _pandas_profit(mall_url, s.end)
    top = set(profit.sort_values(ascending=False).index[: tiers.loc["A", "members"]])
    in_a = s.flows[s.flows["to_state"] == "A"]["members"].sum()
    assert in_a == len(top)
    new_a = set(s.new_platinum["member_id"])
    assert new_a <= top
    assert tiers["members"].sum() == s.kpis.set_index("kpi").loc["active_members", "value"] or _leap_window(s.end)


def _leap_window(end: dt.date) -> bool:
    """The KPI's year is 365 days; the pyramid's is the calendar year, one day longer across 29 February."""
    return (end - add_years(end, -1)).days == 366


# -------------------------------------------------------------------------------------- internal consistency


def test_week_and_year_changes_are_consistent(mall_url):
    week = chosen_week(mall_url)
    s = summary_of(mall_url, week)
    assert s.previous_week == week_label(s.start - dt.timedelta(days=7))
    assert s.previous_year_week == week_label(s.end - dt.timedelta(days=364))
    k = s.kpis
    assert np.allclose(k["week_change"], k["value"] - k["previous_week"], equal_nan=True)
    assert np.allclose(k["year_change"], k["value"] - k["previous_year"], equal_nan=True)
    c = s.complaints
    assert (c["change"] == c["value"] - c["previous_week"]).all()
    assert c["measure"].tolist() == list(COMPLAINT_MEASURES)
    t = s.tiers.set_index("tier")
    flows = s.flows
    assert (t["change"] == t["members"] - t["members_previous_week"]).all()
    for tier in t.index:
        assert t.loc[tier, "members"] == flows.loc[flows["to_state"] == tier, "members"].sum()
        assert t.loc[tier, "members_previous_week"] == flows.loc[flows["from_state"] == tier, "members"].sum()
    down = flows[flows["direction"].isin(["down", "lost"]) & (flows["from_state"] != "new")]
    per_tier = down.groupby("from_state")[["members", "value", "with_open_complaint"]].sum()
    for tier in t.index:
        expected = per_tier.reindex([tier]).fillna(0).iloc[0]
        assert t.loc[tier, "down_members"] == expected["members"]
        assert t.loc[tier, "down_value"] == pytest.approx(expected["value"])
        assert t.loc[tier, "down_with_open_complaint"] == expected["with_open_complaint"]
    # The previous week's pyramid, as this week's summary sees it, is the pyramid of the previous week's summary.
    prev = summary_of(mall_url, s.previous_week)
    assert prev.tiers["members"].tolist() == t["members_previous_week"].tolist()
    assert prev.complaints["value"].tolist() == c["previous_week"].tolist()
    assert np.allclose(prev.kpis["value"], k["previous_week"], equal_nan=True)


def test_movement_tables_are_ranked_and_bounded(mall_url):
    s = summary_of(mall_url, chosen_week(mall_url))
    assert len(s.downgrades) <= 10 and len(s.at_risk) <= 10
    assert s.downgrades["value_lost"].is_monotonic_decreasing
    assert s.at_risk["value_at_risk"].is_monotonic_decreasing
    order = {"A": 0, "B": 1, "C": 2, "D": 3, "lost": 4}
    assert (s.downgrades["to_tier"].map(order) > s.downgrades["from_tier"].map(order)).all()
    assert (s.new_platinum["from_state"] != "A").all()
    assert s.at_risk["value_at_risk"].sum() <= s.value_at_risk + 1e-6
    assert s.at_risk["churn_probability"].between(0, 1).all()
    assert s.satisfaction.set_index("dimension").loc["index", "score"] == pytest.approx(
        s.kpis.set_index("kpi").loc["satisfaction_index", "value"])


def test_care_spend_of_the_week_agrees_with_pandas_and_has_no_plan_without_a_saved_one(mall_url):
    s = summary_of(mall_url, chosen_week(mall_url))
    care = day_range(read_table(mall_url, "care_actions"), "action_date", s.start, s.end)
    assert s.care["spend"].sum() == pytest.approx(float(care["cost"].sum()), abs=0.01)
    assert s.care_plan_version is None and s.care["plan"].isna().all()
    assert s.care.set_index("tier").loc[["A", "B", "C", "D"], "members"].tolist() == s.tiers["members"].tolist()


def test_first_week_has_no_previous_year_and_no_previous_week_change(demo_sqlite_url):
    first = weeks_of(demo_sqlite_url)[0]
    s = summary_of(demo_sqlite_url, first)
    assert s.previous_year_week is None
    assert s.kpis["previous_year"].isna().all() and s.kpis["previous_week"].isna().all()
    assert (s.tiers["members_previous_week"] == 0).all()
    assert set(s.flows.loc[s.flows["members"] > 0, "from_state"]) <= {"new"}
    assert s.partial == (parse_week(first)[0] < read_first_day(demo_sqlite_url))


def read_first_day(url: str) -> dt.date:
    return pd.to_datetime(read_table(url, "transactions")["ts"]).dt.date.min()


# --------------------------------------------------------------------------------- highlights and sentences


def _row(table: pd.DataFrame, column: str, value) -> pd.Series:
    rows = table[table[column] == value]
    assert len(rows) == 1, f"{column}={value!r} must name exactly one row"
    return rows.iloc[0]


def _same(a, b) -> bool:
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    return (math.isnan(a) and math.isnan(b)) or a == b


def test_every_number_in_a_highlight_equals_the_number_in_its_table(mall_url):
    s = summary_of(mall_url, chosen_week(mall_url))
    assert s.highlights, "a busy week has something to say"
    sizes = [h.size for h in s.highlights]
    assert sizes == sorted(sizes, reverse=True) and all(x > 0 for x in sizes)
    keyed = {"kpis": "kpi", "complaints": "measure", "satisfaction": "dimension", "care": "tier"}
    tier_columns = {"tier": "tier", "members": "down_members", "value": "down_value",
                    "with_open_complaint": "down_with_open_complaint"}
    for h in s.highlights:
        v = dict(h.values)
        if h.section in keyed:
            row = _row(getattr(s, h.section), keyed[h.section], v[keyed[h.section]])
            for name, number in v.items():
                assert _same(number, row[name]), (h.key, name)
        elif h.section == "tiers":
            row = _row(s.tiers, "tier", v["tier"])
            for name, number in v.items():
                assert _same(number, row[tier_columns[name]]), (h.key, name)
            assert h.size == pytest.approx(row["down_members"] / row["members_previous_week"])
        elif h.section == "new_platinum":
            assert v["members"] == len(s.new_platinum)
            assert v["value"] == s.new_platinum["value"].sum()
        elif h.section == "at_risk":
            assert v["value_at_risk"] == s.value_at_risk
            assert v["top_members"] == len(s.at_risk)
            assert v["top_value"] == s.at_risk["value_at_risk"].sum()
        else:
            pytest.fail(f"highlight {h.key} names an unknown section {h.section}")
    with pytest.raises(TypeError):
        s.highlights[0].values["x"] = 1  # read-only: an export cannot change a number after the check


def test_a_tier_losing_members_is_a_highlight_with_its_open_complaints(mall_url):
    s = summary_of(mall_url, chosen_week(mall_url))
    losing = s.tiers[s.tiers["down_members"] > 0]
    found = {h.values["tier"]: h for h in s.highlights if h.key == "tier_down"}
    assert set(found) == set(losing["tier"])
    flows = s.flows
    for tier, h in found.items():
        left = flows[(flows["from_state"] == tier) & flows["direction"].isin(["down", "lost"])]
        assert h.values["members"] == left["members"].sum()
        assert h.values["with_open_complaint"] <= h.values["members"]


@pytest.fixture
def summary_engine(demo_sqlite_url) -> Iterator[Engine]:
    eng = make_engine(demo_sqlite_url)
    yield eng
    eng.dispose()


def test_tier_rules_change_the_pyramid(summary_engine, demo_sqlite_url):
    week = chosen_week(demo_sqlite_url)
    base = summary_of(demo_sqlite_url, week)
    wide = weekly_summary(summary_engine, week, rules=TierRules(shares=(0.05, 0.10, 0.20)), top_n=5)
    n = int(base.tiers["members"].sum())
    assert wide.tiers["members"].sum() == n
    assert wide.tiers.set_index("tier").loc["A", "members"] == math.floor(0.05 * n)
    assert base.tiers.set_index("tier").loc["A", "members"] == math.floor(0.01 * n)


def test_overdue_counts_complaints_open_at_week_end_for_longer_than_the_slow_threshold(engine):
    # Week 2025-W10 ends on Sunday 2025-03-09. One member, a sale in the week and one the week before; too little
    # history for the value models, so the value columns are NaN rather than an error.
    _add_sales(engine, [dt.date(2025, 3, 1), dt.date(2025, 3, 5)])
    sunday = dt.date(2025, 3, 9)
    cases = {  # complaint id: (days before Sunday it was filed, resolved on, overdue at week end?)
        "C1": (SLOW_AFTER_DAYS, None, False),  # open exactly the threshold: not yet overdue
        "C2": (SLOW_AFTER_DAYS + 1, None, True),
        "C3": (20, sunday, False),  # resolved on the Sunday itself
        "C4": (20, sunday + dt.timedelta(days=1), True),  # resolved only after the week
        "C5": (2, None, False),
    }
    with engine.begin() as conn:
        conn.execute(insert(schema.complaints), [
            {"complaint_id": cid, "member_id": "M1", "complaint_date": sunday - dt.timedelta(days=days),
             "category": "service", "severity": 2, "resolved_date": resolved, "compensation_cost": 0.0}
            for cid, (days, resolved, _) in cases.items()
        ])
    s = weekly_summary(engine, "2025-W10")
    expected = sorted(cid for cid, (_, _, overdue) in cases.items() if overdue)
    assert sorted(s.overdue_complaints["complaint_id"]) == expected
    table = s.complaints.set_index("measure")
    assert table.loc["overdue", "value"] == len(expected)
    assert table.loc["opened", "value"] == 1  # C5; C1 was filed on the previous Sunday
    assert table.loc["resolved", "value"] == 1  # C3
    assert s.tiers["members"].sum() == 1 and math.isnan(s.value_at_risk)


def test_a_refresh_for_the_week_end_gives_the_same_summary_without_fitting_the_models(tmp_path, demo_sqlite_url,
                                                                                     monkeypatch):
    """The stored results are what the models compute: the summary read from them equals the one computed."""
    import shutil

    from vipmodel import kpi, results, retention, weekly

    copy = tmp_path / "mall.db"
    shutil.copy(demo_sqlite_url.removeprefix("sqlite:///"), copy)
    eng = make_engine(f"sqlite:///{copy}")
    week = available_weeks(eng)[-2]
    _, end = parse_week(week)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        computed = weekly_summary(eng, week)
        results.refresh(eng, end)

    def refuse(*args, **kwargs):
        raise AssertionError("the value models were fitted again")

    monkeypatch.setattr(retention, "member_values", refuse)
    # Nor the pyramids, KPIs and satisfaction means: the slow aggregations at a million members.
    for name in ("year_tiers", "overview_kpis"):
        monkeypatch.setattr(weekly, name, refuse)
    monkeypatch.setattr(kpi, "satisfaction_means", refuse)
    stored = weekly_summary(eng, week)
    for name in ("kpis", "satisfaction"):
        pd.testing.assert_frame_equal(getattr(stored, name), getattr(computed, name), check_dtype=False, rtol=1e-9)
    for name in ("tiers", "flows", "downgrades", "new_platinum", "at_risk"):
        # Members whose values tie to the last digits may swap places in a ranking: compare in one order.
        key = "member_id" if "member_id" in getattr(stored, name).columns else list(getattr(stored, name).columns[:2])
        pd.testing.assert_frame_equal(getattr(stored, name).sort_values(key).reset_index(drop=True),
                                      getattr(computed, name).sort_values(key).reset_index(drop=True),
                                      check_dtype=False, rtol=1e-9)
    assert stored.value_at_risk == pytest.approx(computed.value_at_risk, rel=1e-9)
    assert [h.key for h in stored.highlights] == [h.key for h in computed.highlights]
    for a, b in zip(stored.highlights, computed.highlights):
        assert a.values.keys() == b.values.keys()
        for k in a.values:
            if isinstance(a.values[k], float):
                assert a.values[k] == pytest.approx(b.values[k], rel=1e-9, nan_ok=True)
            else:
                assert a.values[k] == b.values[k]
    eng.dispose()
