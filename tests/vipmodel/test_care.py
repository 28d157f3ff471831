"""Care plan, response model, simulation, optimiser and the closed-loop campaign (vipmodel.care).

Expected values come from hand calculations (stated in each test), published examples (Newcombe 1998), an
independent implementation (scipy's Welch test) or the demo mall's ground truth.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.special import expit, logit

from tests.conftest import RECOVERY_SEEDS
from vipmodel.auth import Actor
from vipmodel.care import (
    DEFAULT_MAX_PER_YEAR,
    DEFAULT_UNIT_COST,
    CarePlan,
    CareResponseModel,
    care_panel,
    current_plan_from_history,
    optimise_budget,
    simulate,
)
from vipmodel.db import make_engine
from vipmodel.demo import load_ground_truth
from vipmodel.features import member_features
from vipmodel.outcomes import add_years
from vipmodel.pyramid import assign_tiers
from vipmodel.settings import latest_setting, save_setting

# ------------------------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def big_mall(large_demo_url):
    """The session's 20,000-member demo mall: enough member-years to pin the care effect down."""
    eng = make_engine(large_demo_url)
    with eng.connect() as conn:
        truth = load_ground_truth(conn)
    yield eng, truth
    eng.dispose()


@pytest.fixture(scope="module")
def big_panel(big_mall):
    eng, truth = big_mall
    return care_panel(eng, truth.end_date, years=2)


def hand_model(beta: float = 1.0, draws: list[float] | None = None) -> CareResponseModel:
    """Baseline log-odds 0 (churn 1/2 at zero care) in every tier, c0 = 100."""
    return CareResponseModel.from_coefficients(beta, dict.fromkeys("ABCD", 0.0), c0=100.0, beta_draws=draws)


def population(n: int = 4000, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    tier = rng.choice(list("ABCD"), n, p=[0.05, 0.15, 0.3, 0.5])
    scale = pd.Series(tier).map({"A": 20_000.0, "B": 8_000.0, "C": 3_000.0, "D": 800.0}).to_numpy()
    return pd.DataFrame({
        "member_id": [f"M{i:05d}" for i in range(n)],
        "tier": tier,
        "value": scale * rng.lognormal(0.0, 0.5, n),
        "churn_prob": rng.uniform(0.1, 0.5, n),
        "care_cost": rng.uniform(0.0, 200.0, n),
    })


# ----------------------------------------------------------------------------------------------- care plan


def test_annual_cost_per_member_is_times_per_year_times_unit_cost():
    plan = CarePlan({"A": {"phone_greeting": 4, "birthday_gift": 1, "sms": 12}, "D": {"sms": 2}})
    # 4 x 5 + 1 x 80 + 12 x 0.5 = 106; 2 x 0.5 = 1; tiers not listed get nothing.
    assert plan.annual_cost_per_member("A") == pytest.approx(106.0)
    assert plan.annual_cost_per_member("D") == pytest.approx(1.0)
    assert plan.annual_cost_per_member("B") == 0.0
    table = plan.as_frame()
    assert list(table.columns) == ["tier", "action", "per_year", "unit_cost", "annual_cost_per_member"]
    assert table.groupby("tier")["annual_cost_per_member"].sum().to_dict() == pytest.approx({"A": 106.0, "D": 1.0})


def test_care_plan_round_trips_through_the_versioned_setting(engine):
    plan = CarePlan({"A": {"lecture": 2.5}, "C": {"holiday_card": 2}}, unit_costs={**DEFAULT_UNIT_COST, "lecture": 75})
    save_setting(engine, "care_plan", plan.to_payload(), actor=Actor("marketing", "marketing"), note="lectures for A")
    assert CarePlan.from_payload(latest_setting(engine, "care_plan").payload) == plan


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"per_year": {"E": {"sms": 1}}}, "unknown tier\\(s\\) in care plan: E; expected A, B, C, D"),
        ({"per_year": {"A": {"flowers": 1}}}, "unknown care action\\(s\\): flowers"),
        ({"per_year": {"A": {"sms": -1}}}, "times per year of sms for tier A must be a finite number >= 0, got -1"),
        ({"per_year": {}, "unit_costs": {"sms": 1.0}}, "unit_costs is missing a cost for: phone_greeting"),
    ],
)
def test_bad_care_plans_are_rejected_with_clear_messages(kwargs, message):
    with pytest.raises(ValueError, match=message):
        CarePlan(**kwargs)


def test_plan_from_spend_fills_cheapest_actions_first_and_meets_the_spend_exactly():
    plan = CarePlan.from_spend({"A": 100.0, "D": 3.0})
    # Cheapest first: 12 SMS (6) + 4 calls (20) + 4 cards (32) = 58, then 42/60 = 0.7 lectures.
    assert plan.per_year["A"]["sms"] == 12 and plan.per_year["A"]["phone_greeting"] == 4
    assert plan.per_year["A"]["lecture"] == pytest.approx(0.7)
    assert plan.per_year["D"] == pytest.approx({**dict.fromkeys(plan.per_year["D"], 0.0), "sms": 6.0})
    assert plan.annual_cost_per_member("A") == pytest.approx(100.0)
    cap = sum(DEFAULT_MAX_PER_YEAR[k] * DEFAULT_UNIT_COST[k] for k in DEFAULT_UNIT_COST)
    with pytest.raises(ValueError, match="spend of tier A \\(5000\\) exceeds the most the plan allows per member"):
        CarePlan.from_spend({"A": 5000.0})
    assert CarePlan.from_spend({"B": cap}).annual_cost_per_member("B") == pytest.approx(cap)


def test_current_plan_from_history_costs_what_the_tier_received(big_mall, big_panel):
    eng, truth = big_mall
    start = add_years(truth.end_date, -1) + dt.timedelta(days=1)
    plan = current_plan_from_history(eng, start, truth.end_date)
    # The panel's last window is the same year and tiers: its mean care cost per tier is the plan's cost.
    last = big_panel[big_panel["window_end"] == add_years(truth.end_date, -1)]
    assert len(last) > 0
    feats = member_features(eng, start, truth.end_date)
    active = feats[feats["n_transactions"] > 0]
    tiers = assign_tiers(active).astype(str)
    mean_care = active.set_index("member_id")["care_cost"].groupby(tiers).mean()
    for tier in "ABCD":
        assert plan.annual_cost_per_member(tier) == pytest.approx(mean_care[tier] * 365.25 / 365, rel=1e-3)
    # The generator's unit costs are recovered exactly.
    assert plan.unit_costs == pytest.approx(truth.care_unit_cost)


# ------------------------------------------------------------------------------------------ response model


# The recovery seeds and five more, chosen before the estimator's rework (none tuned to): coverage is a rate, and
# 10 cases of five malls cannot tell 90% from 80%.
COVERAGE_SEEDS: tuple[int, ...] = (*RECOVERY_SEEDS, 101, 202, 303, 40404, 777)


@pytest.fixture(scope="module")
def recovery_fits(recovery_mall):
    """The default response model (regression adjustment, c0 estimated) on every mall of the coverage seeds, with
    the generator's truth."""
    fits = {}
    for seed in COVERAGE_SEEDS:
        eng = make_engine(recovery_mall(seed))
        with eng.connect() as conn:
            truth = load_ground_truth(conn)
        fits[seed] = (CareResponseModel().fit(care_panel(eng, truth.end_date, years=2)), truth)
        eng.dispose()
    return fits


def _log_z(draws: np.ndarray, estimate: float, true: float) -> float:
    """Distance of the estimate from the truth in standard deviations of the model's joint draws, on the log
    scale (where the draws of c0 and beta are roughly symmetric: c0 multiplies, and beta moves with it)."""
    return abs(math.log(estimate) - math.log(true)) / float(np.std(np.log(draws), ddof=1))


@pytest.mark.parametrize("seed", RECOVERY_SEEDS)
def test_the_estimated_c0_and_beta_lie_within_three_bootstrap_sds_of_the_truth(recovery_fits, seed):
    model, truth = recovery_fits[seed]
    assert _log_z(model.draws_["c0"].to_numpy(), model.c0_, truth.churn_model["c0"]) < 3
    assert _log_z(model.beta_draws_, model.beta_, truth.churn_model["b_care"]) < 3
    assert model.coef_["log1p_care"] == -model.beta_
    # The estimate is the profile's maximum, inside its own interval.
    assert model.c0_interval_[0] <= model.c0_ <= model.c0_interval_[1]
    assert model.beta_interval_[0] <= model.beta_ <= model.beta_interval_[1]
    assert model.c0_profile_["loglik"].max() == 0.0


def test_the_95_percent_intervals_of_beta_and_c0_cover_the_truth_across_seeds(recovery_fits):
    cases = []
    for model, truth in recovery_fits.values():
        cases.append(model.beta_interval_[0] <= truth.churn_model["b_care"] <= model.beta_interval_[1])
        cases.append(model.c0_interval_[0] <= truth.churn_model["c0"] <= model.c0_interval_[1])
    # Acceptance rule (issue 16): at least 90% of the (seed x parameter) cases covered. A calibrated 95% interval
    # misses about one mall in 20 by design -- seed 11's own churn draws favour c0 near 15 even for the exact
    # generating model, with the latent satisfaction the data do not show -- so the rule is read over ten malls.
    assert len(cases) == 2 * len(COVERAGE_SEEDS) == 20
    assert sum(cases) >= 0.9 * len(cases), cases


def test_the_intervals_are_the_calibrated_profile_likelihood_intervals(recovery_fits):
    model, _ = recovery_fits[RECOVERY_SEEDS[0]]
    k = model.critical_values_
    # The bootstrap may widen the likelihood-ratio interval, never narrow it below the chi-squared one.
    assert k["c0"] >= stats.chi2.ppf(0.95, 1) and k["beta"] >= stats.chi2.ppf(0.95, 1)
    profile = model.c0_profile_
    lr = -2.0 * profile["loglik"].to_numpy()
    outside = (profile["c0"] < model.c0_interval_[0]) | (profile["c0"] > model.c0_interval_[1])
    # Grid values outside the interval are rejected by the likelihood ratio (up to the refinement of the maximum
    # between grid values), and the interval reaches at least the grid values that are not.
    assert (lr[outside.to_numpy()] > k["c0"] - 0.1).all()
    assert (lr[~outside.to_numpy()] <= k["c0"] + 0.1).all()
    # beta at each grid c0 lies inside the beta interval wherever that c0 is inside the c0 interval.
    inside = profile[~outside]
    assert (inside["beta"] >= model.beta_interval_[0] - 1e-9).all()
    assert (inside["beta"] <= model.beta_interval_[1] + 1e-9).all()
    # The joint draws behind the bands follow the intervals: their central 95% is the interval, up to the
    # Monte Carlo error of 200 draws.
    low, high = np.quantile(model.draws_["c0"], [0.025, 0.975])
    assert math.log(low) == pytest.approx(math.log(model.c0_interval_[0]), abs=0.35)
    assert math.log(high) == pytest.approx(math.log(model.c0_interval_[1]), abs=0.35)


def _newcomer_panel(n: int = 40_000, seed: int = 1) -> pd.DataFrame:
    """Member-years where care is targeted on previous-year sales, newcomers (no previous year) get only the
    untargeted SMS, and newcomers churn more for a reason of their own (not yet selected by earlier churn).
    Truth: beta = 0.5, c0 = 100."""
    rng = np.random.default_rng(seed)
    tier = rng.choice(list("ABCD"), n, p=[0.05, 0.15, 0.3, 0.5])
    new = rng.random(n) < 0.25
    away = ~new & (rng.random(n) < 0.15)  # members of longer standing who bought nothing the year before
    sales = rng.lognormal(7.0, 1.0, n)
    prev = np.where(new | away, 0.0, sales * rng.lognormal(0.0, 0.3, n))
    rank = pd.Series(prev).rank(pct=True).to_numpy()
    targeted = ~new & (rng.random(n) < np.clip(2.5 * (rank - 0.6), 0.0, 0.9))
    care = 0.5 * rng.binomial(4, 0.3, n) + targeted * rng.uniform(0.0, 400.0, n)
    p = expit(-1.0 + 0.6 * new - 0.2 * np.log1p(sales / 1000) - 0.5 * np.log1p(care / 100))
    return pd.DataFrame({"member_id": [f"M{i}" for i in range(n)], "tier": tier, "sales": sales, "care_cost": care,
                         "churned": rng.random(n) < p, "new_member": new.astype(int), "prev_sales": prev,
                         "prev_active": (prev > 0).astype(int), "n_visits": rng.poisson(6, n)})


def test_the_newcomer_control_removes_the_bias_of_a_spuriously_steep_start_of_the_curve():
    panel = _newcomer_panel()
    adjusted = CareResponseModel(n_bootstrap=100).fit(panel)
    assert adjusted.coef_["new_member"] == pytest.approx(0.6, abs=0.15)  # the newcomers' own extra churn
    assert adjusted.beta_interval_[0] <= 0.5 <= adjusted.beta_interval_[1]
    assert adjusted.c0_interval_[0] <= 100.0 <= adjusted.c0_interval_[1]
    # Without it the newcomers' churn is read as the effect of the first yuan of care: the curve starts too
    # steeply, c0 and beta come out too low (on seeds 1-4 of this panel: c0 15-47 against 61-400 adjusted).
    naive = CareResponseModel(controls=(), n_bootstrap=100).fit(panel)
    assert naive.c0_ < 50 and adjusted.c0_ > 2 * naive.c0_
    assert naive.beta_ < adjusted.beta_


def test_care_panel_adds_the_members_history(big_mall, big_panel):
    eng, _ = big_mall
    panel = big_panel
    assert {"store", "new_member", "prev_sales", "prev_active"} <= set(panel.columns)
    with eng.connect() as conn:
        joined = pd.read_sql("select member_id, join_date from members", conn).set_index("member_id")["join_date"]
    joined = pd.to_datetime(panel["member_id"].map(joined))
    assert (panel["new_member"] == (joined >= pd.to_datetime(panel["window_start"])).astype(int)).all()
    windows = sorted(panel["window_start"].unique())
    first, second = panel[panel["window_start"] == windows[0]], panel[panel["window_start"] == windows[1]]
    # The data start with the first window: nobody has a previous year there.
    assert (first["prev_active"] == 0).all() and (first["prev_sales"] == 0).all()
    # In the second window the previous year is the first window: its sales, for the members active in it.
    before = first.set_index("member_id")["sales"]
    assert (second["prev_active"] == second["member_id"].isin(before.index).astype(int)).all()
    expected = second["member_id"].map(before).fillna(0.0)
    assert second["prev_sales"].to_numpy() == pytest.approx(expected.to_numpy())
    # Newcomers had no previous year in the mall.
    assert (second.loc[second["new_member"] == 1, "prev_active"] == 0).all()


def test_the_optimiser_stays_within_the_care_the_history_supports_unless_widened(recovery_fits):
    members = population(3000, 7)
    for seed, (model, _) in recovery_fits.items():
        support = pd.Series(model.care_support_)
        for budget in np.random.default_rng(seed).uniform(1e5, 5e6, 3):
            alloc = optimise_budget(members, model, budget).by_tier.set_index("tier")
            assert (alloc["spend_per_member"] <= support[alloc.index] * (1 + 1e-9) + 1e-9).all()
            assert not alloc["extrapolated"].any()
            assert alloc["max_spend_per_member"].to_numpy() == pytest.approx(support[alloc.index].to_numpy())
        # Lifting the limit, a budget far above what the supported range absorbs goes beyond it.
        wide = optimise_budget(members, model, 1e7, support_scale=None).by_tier.set_index("tier")
        assert wide["extrapolated"].any()
        assert (wide.loc[wide["extrapolated"], "spend_per_member"] > support[wide.index[wide["extrapolated"]]]).all()
        doubled = optimise_budget(members, model, 1e7, support_scale=2.0).by_tier.set_index("tier")
        assert (doubled["spend_per_member"] <= 2 * support[doubled.index] * (1 + 1e-9) + 1e-9).all()
        assert doubled["extrapolated"].any()


def test_a_plan_beyond_the_supported_care_is_marked_as_extrapolation():
    members = population()
    model = CareResponseModel.from_coefficients(0.5, dict.fromkeys("ABCD", 0.0), c0=100.0,
                                                care_support={"A": 300.0, "B": 200.0, "C": 100.0, "D": 9.0})
    inside = simulate(members, CarePlan.from_spend({"A": 300.0, "D": 9.0}), model, draws=10).by_tier
    assert not inside["extrapolated"].any()
    beyond = simulate(members, CarePlan.from_spend({"A": 300.0, "D": 20.0}), model, draws=10).by_tier.set_index("tier")
    assert beyond["extrapolated"].to_dict() == {"A": False, "B": False, "C": False, "D": True, "total": True}
    assert beyond.loc["D", "supported_spend_per_member"] == 9.0


def test_uncertainty_about_c0_and_the_tier_baselines_widens_the_bands():
    members = population().drop(columns=["churn_prob", "care_cost"])
    rng = np.random.default_rng(4)
    betas = rng.normal(0.5, 0.05, 300)
    narrow = CareResponseModel.from_coefficients(0.5, dict.fromkeys("ABCD", 0.0), beta_draws=betas)
    wide = CareResponseModel.from_coefficients(
        0.5, dict.fromkeys("ABCD", 0.0), beta_draws=betas, c0_draws=np.exp(rng.normal(math.log(100), 0.8, 300)),
        tier_logit_draws={t: rng.normal(0.0, 0.1, 300) for t in "ABCD"})
    plan = CarePlan.from_spend(dict.fromkeys("ABCD", 200.0))
    width = {name: (lambda t: t["retained_value_p95"] - t["retained_value_p05"])(simulate(members, plan, m).by_tier)
             for name, m in (("narrow", narrow), ("wide", wide))}
    assert (width["wide"] > width["narrow"]).all()
    # Binomial noise alone keeps a band around a model without any parameter uncertainty.
    exact = CareResponseModel.from_coefficients(0.5, dict.fromkeys("ABCD", 0.0))
    band = simulate(members, plan, exact).by_tier
    assert (band["retained_members_p05"] < band["retained_members"]).all()
    assert (band["retained_members"] < band["retained_members_p95"]).all()


def test_predicted_churn_falls_with_care_with_diminishing_returns(big_panel):
    model = CareResponseModel(n_bootstrap=0).fit(big_panel)
    rows = big_panel.head(50)
    p = np.stack([model.predict_churn(rows, c) for c in (0.0, 100.0, 200.0, 300.0)])
    assert (np.diff(p, axis=0) < 0).all()
    assert (np.diff(p, axis=0)[1] > np.diff(p, axis=0)[0]).all()  # the second 100 yuan buys less than the first
    # The tier average path (no controls in the frame) is the tier's logit at zero care.
    tiers_only = pd.DataFrame({"tier": list("ABCD")})
    assert model.predict_churn(tiers_only, 0.0) == pytest.approx(expit([model.tier_logit_[t] for t in "ABCD"]))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda p: p.drop(columns="care_cost"), "panel is missing columns: care_cost"),
        (lambda p: p.iloc[:0], "panel is empty \\(no rows\\)"),
        (lambda p: p[p["tier"] != "D"], "panel has no rows for tier\\(s\\) D; the response model needs every tier"),
        (lambda p: p.assign(care_cost=10.0), "panel has no variation in care_cost"),
        (lambda p: p.assign(care_cost=-p["care_cost"] - 1), "panel column 'care_cost' must be >= 0"),
        (lambda p: p.assign(tier="Z"), "panel column 'tier' has unknown tier\\(s\\): Z"),
    ],
)
def test_fitting_bad_panels_gives_clear_errors(change, message):
    rng = np.random.default_rng(0)
    panel = pd.DataFrame({
        "member_id": [f"M{i}" for i in range(40)], "tier": list("ABCD") * 10, "sales": rng.uniform(10, 1000, 40),
        "care_cost": rng.uniform(0, 300, 40), "churned": [True, False] * 20,
    })
    with pytest.raises(ValueError, match=message):
        CareResponseModel(n_bootstrap=0).fit(change(panel))


def test_unfitted_model_and_bad_hyperparameters_are_rejected():
    with pytest.raises(ValueError, match="method must be 'ipw' or 'controls'; got 'magic'"):
        CareResponseModel(method="magic")
    with pytest.raises(ValueError, match="c0 must be a finite number > 0"):
        CareResponseModel(c0=0)
    with pytest.raises(ValueError, match="the model is not fitted; call fit\\(panel\\) first"):
        CareResponseModel().predict_churn(pd.DataFrame({"tier": ["A"]}), 0.0)


# ------------------------------------------------------------------------------------------------ simulation


def test_roi_and_break_even_of_a_hand_case():
    # One member worth 1000, churn 1/2 at zero care, beta = 1, c0 = 100. Spending 100 gives
    # P = sigmoid(-log 2) = 1/3: retained value 2/3 x 1000, gain 166.67, ROI (166.67 - 100) / 100 = 2/3.
    # Break-even: 1000 (1/2 - 1/(2 + s/100)) = s  ->  s = 300.
    members = pd.DataFrame({"member_id": ["M1"], "tier": ["A"], "value": [1000.0], "churn_prob": [0.5],
                            "care_cost": [0.0]})
    plan = CarePlan.from_spend({"A": 100.0})
    row = simulate(members, plan, hand_model(1.0)).by_tier.set_index("tier").loc["A"]
    assert row["retained_value"] == pytest.approx(2000.0 / 3)
    assert row["retained_value_zero"] == pytest.approx(500.0)
    assert row["incremental_value"] == pytest.approx(500.0 / 3)
    assert row["roi"] == pytest.approx(2.0 / 3)
    assert row["retained_members"] == pytest.approx(2.0 / 3)
    assert row["break_even_spend_per_member"] == pytest.approx(300.0, rel=1e-6)


def test_zero_spend_gives_the_baseline():
    members = population()
    result = simulate(members, CarePlan({}), hand_model(0.5, [0.3, 0.5, 0.7]), draws=50).by_tier
    baseline = ((1 - members["churn_prob"]) * members["value"]).sum()  # model anchored at each member's care
    assert result["retained_value"].to_numpy() == pytest.approx(result["retained_value_zero"].to_numpy())
    assert result["spend"].sum() == 0 and result["roi"].isna().all()
    care_effect = np.log1p(members["care_cost"] / 100) * 0.5
    zero_care = ((1 - expit(logit(members["churn_prob"]) + care_effect)) * members["value"]).sum()
    assert result.set_index("tier").loc["total", "retained_value"] == pytest.approx(zero_care)
    assert zero_care < baseline  # taking the current care away loses members


def test_bands_bracket_the_point_estimate_and_the_current_plan_is_compared():
    members = population()
    draws = list(np.random.default_rng(0).normal(0.5, 0.1, 200))
    plan = CarePlan.from_spend({"A": 300, "B": 150, "C": 40, "D": 5})
    current = CarePlan.from_spend(dict.fromkeys("ABCD", 50))
    sim = simulate(members, plan, hand_model(0.5, draws), current_plan=current, draws=200, seed=1)
    t = sim.by_tier
    assert (t["retained_value_p05"] <= t["retained_value_p95"]).all()
    assert (t["retained_members_p05"] < t["retained_members_p95"]).all()
    cmp = sim.comparison.set_index("tier")
    assert cmp.loc["total", "spend_difference"] == pytest.approx(t["spend"].iloc[-1] - sim.current["spend"].iloc[-1])
    assert cmp.loc["A", "retained_value_difference"] > 0  # A gets 300 instead of 50
    # Same seed, same bands.
    again = simulate(members, plan, hand_model(0.5, draws), draws=200, seed=1).by_tier
    assert again["roi_p05"].equals(t["roi_p05"])


@pytest.mark.parametrize(
    ("members", "message"),
    [
        (pd.DataFrame({"member_id": ["M1"], "tier": ["A"]}), "members is missing columns: value"),
        (pd.DataFrame(columns=["member_id", "tier", "value"]), "members is empty \\(no rows\\)"),
        (pd.DataFrame({"member_id": ["M1"], "tier": ["A"], "value": [np.nan]}),
         "members column 'value' has missing or infinite values"),
        (pd.DataFrame({"member_id": ["M1"], "tier": ["A"], "value": [1.0], "churn_prob": [0.2]}),
         "members with 'churn_prob' also need 'care_cost'"),
    ],
)
def test_simulating_bad_member_frames_gives_clear_errors(members, message):
    with pytest.raises(ValueError, match=message):
        simulate(members, CarePlan({}), hand_model())


# ------------------------------------------------------------------------------------------------- optimiser


def test_optimal_allocation_beats_an_even_split_and_equalises_marginal_values():
    members = population()
    model = hand_model(0.5)
    budget = 300_000.0
    best = optimise_budget(members, model, budget)
    assert best.spend <= budget * (1 + 1e-9)
    even = CarePlan.from_spend(dict.fromkeys("ABCD", budget / len(members)))
    even_value = simulate(members, even, model, draws=1).by_tier["retained_value"].iloc[-1]
    assert best.retained_value >= even_value
    # KKT: tiers neither at zero nor at the cap have the same marginal value of the last yuan.
    cap = sum(DEFAULT_MAX_PER_YEAR[k] * DEFAULT_UNIT_COST[k] for k in DEFAULT_UNIT_COST)
    interior = best.by_tier[(best.by_tier["spend_per_member"] > 1) & (best.by_tier["spend_per_member"] < cap - 1)]
    assert len(interior) >= 2
    assert interior["marginal_value_per_yuan"].to_numpy() == pytest.approx(
        interior["marginal_value_per_yuan"].iloc[0], rel=1e-3
    )
    # The plan spends exactly the allocation.
    for row in best.by_tier.itertuples():
        assert best.plan.annual_cost_per_member(row.tier) == pytest.approx(row.spend_per_member, abs=1e-6)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_more_budget_never_lowers_the_optimal_retained_value(seed):
    members = population(2000, seed)
    model = hand_model(0.4 + 0.2 * seed)
    budgets = np.sort(np.random.default_rng(seed).uniform(0, 2_000_000, 5))
    values = [optimise_budget(members, model, b).retained_value for b in [0.0, *budgets]]
    assert all(b >= a - 1e-9 * abs(a) for a, b in zip(values, values[1:]))


def test_zero_budget_gives_the_baseline_retained_value():
    members = population()
    result = optimise_budget(members, hand_model(0.5), 0.0)
    assert result.spend == 0.0
    assert result.retained_value == pytest.approx(result.baseline_retained_value)
    zero = simulate(members, CarePlan({}), hand_model(0.5), draws=1).by_tier["retained_value"].iloc[-1]
    assert result.retained_value == pytest.approx(zero)


def test_net_objective_stops_spending_when_the_last_yuan_does_not_pay():
    members = population()
    net = optimise_budget(members, hand_model(0.5), 1e9, objective="net_value")
    assert net.spend < 1e9
    cap = sum(DEFAULT_MAX_PER_YEAR[k] * DEFAULT_UNIT_COST[k] for k in DEFAULT_UNIT_COST)
    spend = net.by_tier["spend_per_member"]
    interior = net.by_tier[(spend > 1) & (spend < cap - 1)]
    assert len(interior) >= 1
    # Spending stops where the last yuan brings back one yuan, unless the plan's cap is reached first.
    assert interior["marginal_value_per_yuan"].to_numpy() == pytest.approx(1.0, rel=1e-3)
    assert (net.by_tier.loc[spend >= cap - 1, "marginal_value_per_yuan"] >= 1.0).all()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"budget": -1.0}, "budget must be a finite number >= 0, got -1"),
        ({"budget": float("nan")}, "budget must be a finite number >= 0, got nan"),
        ({"budget": 100.0, "tiers": ["A", "B"]}, "tier B has no members"),
        ({"budget": 100.0, "objective": "profit"}, "objective must be 'retained_value' or 'net_value'"),
    ],
)
def test_bad_optimiser_inputs_give_clear_errors(kwargs, message):
    members = pd.DataFrame({"member_id": ["M1", "M2"], "tier": ["A", "C"], "value": [100.0, 50.0]})
    with pytest.raises(ValueError, match=message):
        optimise_budget(members, hand_model(), **kwargs)
