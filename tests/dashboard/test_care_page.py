"""Care what-if page: renders in both languages, scaling the plan scales the spend, the budget drives the optimiser,
saving needs an author, and the loaders behind it agree with vipmodel computed independently."""

from __future__ import annotations

import datetime as dt
import json
import os

import pandas as pd
import pytest

from dashboard import access
from dashboard.data import care as care_data
from dashboard.figures.care import allocation_bars, spend_curves
from tests.dashboard.conftest import open_page
from vipmodel import care, db, features, kpi, settings
from vipmodel.auth import Actor
from vipmodel.outcomes import add_years
from vipmodel.pyramid import DEFAULT_RULES, assign_tiers


def _metric(at, label):
    return next(m for m in at.metric if m.label == label).value


def _yuan(text: str) -> float:
    return float(text.replace("¥", "").replace(",", ""))


def _spec(at, index):
    return json.loads(at.get("plotly_chart")[index].proto.spec)


@pytest.fixture(scope="module")
def demo_year(demo_sqlite_url):
    """The last year of the demo mall: its end, members who bought in it with their tier, and the plan of history."""
    engine = db.make_engine(demo_sqlite_url)
    with engine.connect() as conn:
        as_of = kpi.latest_activity_date(conn)
        start = add_years(as_of, -1) + dt.timedelta(days=1)
        feats = features.member_features(conn, start, as_of, period="range")
        plan = care.current_plan_from_history(conn, start, as_of)
    engine.dispose()
    active = feats[feats["n_transactions"] > 0].reset_index(drop=True)
    active["tier"] = assign_tiers(active, DEFAULT_RULES).astype(str).to_numpy()
    return as_of, active, plan


def test_care_page_shows_the_plan_the_comparison_the_curves_and_the_optimiser(demo_app):
    at = open_page(demo_app, "care")
    assert not at.exception
    assert at.title[0].value == "Care what-if"
    labels = [m.label for m in at.metric]
    assert {"Annual care spend", "Members retained", "Retained value", "Return on care",
            "Retained value, optimiser"} <= set(labels)
    captions = " ".join(c.value for c in at.caption)
    assert "Estimated on" in captions and "by regression adjustment" in captions and "β = " in captions
    assert "95% interval" in captions and "whether the member is new" in captions
    assert "3-year lifetime value" in captions
    assert len(at.get("plotly_chart")) == 2
    curves = _spec(at, 0)
    # Subplot titles first; then a "Beyond the history" label on each tier whose doubled plan leaves the support.
    assert [a["text"] for a in curves["layout"]["annotations"]][:4] == ["A Platinum", "B Gold", "C Iron", "D Lead"]
    assert sum(trace.get("fill") == "tonexty" for trace in curves["data"]) == 4  # one band per tier
    assert not at.info


def test_care_page_speaks_chinese_with_the_tier_names_of_the_documents(demo_app):
    demo_app.query_params["lang"] = "zh"
    at = open_page(demo_app, "care")
    assert not at.exception
    assert at.title[0].value == "关怀投入模拟"
    assert "年关怀投入" in [m.label for m in at.metric]
    assert "A 白金层" in [a["text"] for a in _spec(at, 0)["layout"]["annotations"]]
    assert any("采用回归调整估计" in c.value and "是否新会员" in c.value for c in at.caption)


@pytest.mark.parametrize(
    ("lang", "assumption", "support", "mark", "optimiser"),
    [("en", "No unmeasured confounding", "history supports", "Extrapolation", "optimiser"),
     ("zh", "除控制变量外无未观测混杂", "历史数据支持", "外推", "优化方案")],
)
def test_the_page_states_its_assumptions_and_marks_optimiser_spend_beyond_the_history(demo_app, lang, assumption,
                                                                                     support, mark, optimiser):
    demo_app.query_params["lang"] = lang
    at = open_page(demo_app, "care")
    assert not at.exception
    text = " ".join(m.value for m in at.markdown)
    assert assumption in text and "c0" in text
    assert any(support in c.value for c in at.caption)
    # A budget far above what the supported care absorbs: by default the optimiser stays within the history...
    at.number_input(key="care_budget").set_value(5_000_000.0).run()
    assert not at.exception
    assert not any(mark in w.value and optimiser in w.value for w in at.warning)
    # ...and only when the range is lifted does it go beyond it, marked above and in its table.
    at.selectbox(key="care_support_scale").set_value(0.0).run()
    assert not at.exception
    assert any(mark in w.value and optimiser in w.value for w in at.warning)
    beyond = "⚠ beyond history" if lang == "en" else "⚠ 超出历史范围"
    assert any((frame.value == beyond).any().any() for frame in at.dataframe)


def test_the_curves_shade_the_spend_beyond_what_the_history_supports():
    curve = _curve().assign(supported_spend=[15.0 if t == "A" else 50.0 for t in _curve()["tier"]])
    fig = spend_curves(curve, {}, TIER_LABELS, {**CURVE_LABELS, "beyond": "Beyond"}, "t")
    assert [a.text for a in fig.layout.annotations].count("Beyond") == 1  # only tier A's spend goes past it
    assert len(fig.layout.shapes) == 1 and fig.layout.shapes[0].x0 == 15.0 and fig.layout.shapes[0].x1 == 20.0


def test_the_current_plan_costs_what_history_says_times_the_members_of_each_tier(demo_app, demo_year):
    _, active, plan = demo_year
    expected = sum(n * plan.annual_cost_per_member(t) for t, n in active["tier"].value_counts().items())
    at = open_page(demo_app, "care")
    assert _yuan(_metric(at, "Annual care spend")) == pytest.approx(expected, abs=1.0)
    spend = next(m for m in at.metric if m.label == "Annual care spend")
    assert spend.delta in ("¥0", "-¥0")  # the editor starts from the current plan


def test_scaling_all_frequencies_scales_the_spend_and_more_care_retains_more_members(demo_app):
    at = open_page(demo_app, "care")
    base = _yuan(_metric(at, "Annual care spend"))
    retained = {}
    for percent in (0, 50, 200):
        at.slider(key="care_scale").set_value(percent).run()
        assert not at.exception
        # Spend is linear in the frequencies: every action scales, unit costs and members stay.
        assert _yuan(_metric(at, "Annual care spend")) == pytest.approx(percent / 100 * base, abs=1.0)
        retained[percent] = float(_metric(at, "Members retained").replace(",", ""))
    assert retained[0] < retained[50] < retained[200]


def test_changing_the_budget_changes_the_optimisers_allocation(demo_app):
    at = open_page(demo_app, "care")
    at.number_input(key="care_budget").set_value(0.0).run()
    assert not at.exception
    assert _metric(at, "Optimiser spend") == "¥0"
    assert _spec(at, 1)["data"][2]["y"] == [0.0, 0.0, 0.0, 0.0]
    at.number_input(key="care_budget").set_value(40_000.0).run()
    assert not at.exception
    # Maximising retained value spends the whole budget when it is far below what the actions could absorb.
    assert _yuan(_metric(at, "Optimiser spend")) == pytest.approx(40_000.0, abs=1.0)
    bars = _spec(at, 1)["data"]
    assert [b["name"] for b in bars] == ["Current plan", "Edited plan", "Optimiser"]
    assert sum(bars[2]["y"]) == pytest.approx(40_000.0, abs=1.0)


def test_saving_records_the_edited_plan_with_the_signed_in_user_as_its_author(fresh_demo_app, demo_year):
    _, _, history_plan = demo_year
    fresh_demo_app.session_state[access.ACTOR_KEY] = Actor("Wang Fang", "marketing")
    at = open_page(fresh_demo_app, "care")
    at.slider(key="care_scale").set_value(50).run()
    assert any("Saved as Wang Fang" in c.value for c in at.caption)
    at.text_input(key="care_note").input("half the care for the test")
    next(b for b in at.button if str(b.key).startswith("FormSubmitter:care_save")).click().run()
    assert not at.exception
    assert any("version 1" in s.value for s in at.success)
    assert at.radio(key="care_start").options[0] == "Saved plan (version 1)"
    engine = db.make_engine(os.environ[db.ENV_URL])  # the private copy fresh_demo_app points the app at
    saved = settings.latest_setting(engine, "care_plan")
    engine.dispose()
    assert saved.author == "Wang Fang"
    stored = care.CarePlan.from_payload(saved.payload)
    for tier in care.TIERS:
        assert stored.annual_cost_per_member(tier) == pytest.approx(0.5 * history_plan.annual_cost_per_member(tier))


def test_a_period_without_three_years_of_history_explains_what_is_missing(demo_app):
    demo_app.query_params["to"] = "2024-03-31"
    at = open_page(demo_app, "care")
    assert not at.exception
    assert any("cannot be estimated" in i.value for i in at.info)
    assert not at.get("plotly_chart")


# --- loaders (called outside a Streamlit run: caches still work, keyed on the arguments) ----------------------------


def test_members_are_the_years_buyers_tiered_and_valued_at_their_lifetime_value(demo_sqlite_url, demo_year):
    from vipmodel.retention import member_values

    as_of, active, _ = demo_year
    members, source = care_data.load_care_members(demo_sqlite_url, -1, as_of, DEFAULT_RULES.to_payload())
    assert source == "clv"
    assert sorted(members["member_id"]) == sorted(active["member_id"])
    merged = members.merge(active[["member_id", "tier"]], on="member_id", suffixes=("", "_expected"))
    assert (merged["tier"] == merged["tier_expected"]).all()
    engine = db.make_engine(demo_sqlite_url)
    clv = member_values(engine, as_of, horizon_years=3).frame.set_index("member_id")["model_clv"]
    engine.dispose()
    assert members.set_index("member_id")["value"].to_numpy() == pytest.approx(
        clv.reindex(members["member_id"]).fillna(0.0).to_numpy())


def test_members_fall_back_to_three_years_of_profit_when_lifetime_value_cannot_be_fitted(
    demo_sqlite_url, demo_year, monkeypatch
):
    from vipmodel import retention

    def refuse(*args, **kwargs):
        raise ValueError("nobody bought twice")

    monkeypatch.setattr(retention, "member_values", refuse)
    as_of, active, _ = demo_year
    members, source = care_data.load_care_members(demo_sqlite_url, -2, as_of, DEFAULT_RULES.to_payload())
    assert source == "proxy"
    expected = active.set_index("member_id")["profit_contribution"] * 3
    assert members.set_index("member_id")["value"].to_numpy() == pytest.approx(
        expected.reindex(members["member_id"]).to_numpy())


def test_the_spend_curve_starts_at_no_care_and_passes_through_the_plan(demo_sqlite_url, demo_year):
    as_of, _, plan = demo_year
    ctx = (demo_sqlite_url, -3, as_of, DEFAULT_RULES.to_payload())
    curve = care_data.load_care_curve(*ctx, plan.to_payload(), (0.0, 1.0, 2.0))
    zero, one, two = (curve[curve["multiplier"] == m].set_index("tier") for m in (0.0, 1.0, 2.0))
    assert (zero["spend"] == 0).all()
    assert zero["retained_value"].to_numpy() == pytest.approx(zero["retained_value_zero"].to_numpy())
    sim = care.simulate(care_data.load_care_members(*ctx)[0], plan, care_data.load_care_model(*ctx))
    sim = sim.by_tier.set_index("tier")
    assert one["retained_value"].to_numpy() == pytest.approx(sim.loc[one.index, "retained_value"].to_numpy())
    assert two["spend"].to_numpy() == pytest.approx(2 * one["spend"].to_numpy())
    assert (two["retained_value_p05"] <= two["retained_value"]).all()
    assert (two["retained_value"] <= two["retained_value_p95"]).all()


# --- figures -------------------------------------------------------------------------------------------------------

TIER_LABELS = {"A": "A", "B": "B", "C": "C", "D": "D"}
CURVE_LABELS = {"expected": "Expected", "band": "Band", "break_even": "Break-even", "x": "Spend", "y": "Value"}


def _curve() -> pd.DataFrame:
    rows = [(t, s, 100 + s * 2, 90 + s * 2, 110 + s * 2, 100.0) for t in "ABCD" for s in (0.0, 10.0, 20.0)]
    return pd.DataFrame(rows, columns=["tier", "spend", "retained_value", "retained_value_p05",
                                       "retained_value_p95", "retained_value_zero"])


def test_the_break_even_line_is_the_value_without_care_plus_the_spend():
    points = {"Plan": pd.DataFrame({"tier": ["A", "total"], "spend": [10.0, 10.0], "retained_value": [120.0, 1.0]})}
    fig = spend_curves(_curve(), points, TIER_LABELS, CURVE_LABELS, "t")
    line = next(tr for tr in fig.data if tr.name == "Break-even")
    assert list(line.y) == [100.0, 110.0, 120.0]
    marks = [tr for tr in fig.data if tr.name == "Plan"]
    assert [list(tr.x) for tr in marks] == [[10.0], [], [], []]  # the total row is not a tier


@pytest.mark.parametrize("column", ["spend", "retained_value_p05", "retained_value_zero"])
def test_a_curve_without_a_needed_column_is_refused_with_its_name(column):
    with pytest.raises(ValueError, match=f"curve is missing columns: {column}$"):
        spend_curves(_curve().drop(columns=column), {}, TIER_LABELS, CURVE_LABELS, "t")


def test_allocation_bars_show_one_series_per_plan_in_tier_order():
    frames = {"Now": pd.DataFrame({"tier": ["B", "A", "total"], "spend": [2.0, 1.0, 3.0]}),
              "Best": pd.DataFrame({"tier": ["A", "B"], "spend": [0.0, 3.0]})}
    fig = allocation_bars(frames, TIER_LABELS, "t", "¥")
    assert [tr.name for tr in fig.data] == ["Now", "Best"]
    assert list(fig.data[0].x) == ["A", "B"] and list(fig.data[0].y) == [1.0, 2.0]
    with pytest.raises(ValueError, match=r"spend\['Best'\] is missing columns: spend$"):
        allocation_bars({"Best": frames["Best"].drop(columns="spend")}, TIER_LABELS, "t", "¥")


def test_the_loaders_give_the_same_members_and_plan_on_sqlite_and_postgresql(demo_sqlite_url, demo_postgres_url):
    engine = db.make_engine(demo_sqlite_url)
    with engine.connect() as conn:
        as_of = kpi.latest_activity_date(conn)
    engine.dispose()
    rules = DEFAULT_RULES.to_payload()
    lite, lite_source = care_data.load_care_members(demo_sqlite_url, -4, as_of, rules)
    pg, pg_source = care_data.load_care_members(demo_postgres_url, -4, as_of, rules)
    assert lite_source == pg_source == "clv"
    pd.testing.assert_frame_equal(lite.sort_values("member_id").reset_index(drop=True),
                                  pg.sort_values("member_id").reset_index(drop=True), rtol=1e-6)
    plans = [care.CarePlan.from_payload(care_data.load_current_care_plan(url, -4, as_of, rules))
             for url in (demo_sqlite_url, demo_postgres_url)]
    assert plans[0].per_year == plans[1].per_year
    assert plans[0].unit_costs == pytest.approx(plans[1].unit_costs)
