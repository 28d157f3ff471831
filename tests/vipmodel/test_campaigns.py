"""The closed-loop campaign (vipmodel.campaigns): assignment, recording, measurement and the model update.

Expected values come from hand calculations (stated in each test) and published examples (Newcombe 1998).
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.special import logit
from scipy.special import expit
from sqlalchemy import MetaData, func, inspect, insert, select

from tests.conftest import copy_database
from vipmodel import db, features, schema
from vipmodel.audit import audit_trail
from vipmodel.auth import SYSTEM, Actor, PermissionDenied
from vipmodel.campaigns import (
    CONFOUNDING_SHARE,
    MEMBER_RESULT_COLUMNS,
    CampaignResult,
    campaign_beta,
    campaign_dose,
    list_campaigns,
    load_campaign,
    measure_campaign,
    measurement_end,
    plan_campaign,
    pool_care_effect,
    record_campaign,
    update_response,
)
from vipmodel.care import CareResponseModel
from vipmodel.stats import newcombe_interval, welch_interval, wilson_interval


def hand_model(beta: float = 1.0, draws: list[float] | None = None) -> CareResponseModel:
    """Baseline log-odds 0 (churn 1/2 at zero care) in every tier, c0 = 100."""
    return CareResponseModel.from_coefficients(beta, dict.fromkeys("ABCD", 0.0), c0=100.0, beta_draws=draws)


START = dt.date(2025, 3, 1)
MARKETING = Actor("wang.fang", "marketing")
ACTIONS = {"A": ["phone_greeting", "birthday_gift"], "B": ["phone_greeting"], "C": ["sms"], "D": ["sms"]}


def at_risk_list(n: int = 400) -> pd.DataFrame:
    tiers = np.array(list("ABCD"))[np.arange(n) % 4]
    return pd.DataFrame({"member_id": [f"R{i:04d}" for i in range(n)], "tier": tiers})


def test_campaign_assignment_is_reproducible_and_the_holdout_share_holds_per_tier():
    at_risk = at_risk_list()
    first = plan_campaign(at_risk, 0.3, 42, ACTIONS, START)
    shuffled = plan_campaign(at_risk.sample(frac=1.0, random_state=5), 0.3, 42, ACTIONS, START)
    assert first.holdout == shuffled.holdout
    assert plan_campaign(at_risk, 0.3, 43, ACTIONS, START).holdout != first.holdout
    counts = first.assignment.groupby(["tier", "group"]).size().unstack()
    assert (counts["holdout"] == 30).all() and (counts["treated"] == 70).all()  # 100 per tier, round(0.3 x 100)
    # Treated A members get two actions, the others one; costs from the unit cost table.
    assert len(first.actions) == 70 * 2 + 70 * 3
    assert first.cost == pytest.approx(70 * (5 + 80) + 70 * 5 + 140 * 0.5)
    assert set(first.actions["member_id"]) == set(first.treated)
    assert first.campaign_id == "retention-20250301-s42"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"holdout_share": 1.5}, "holdout_share must be strictly between 0 and 1, got 1.5"),
        ({"holdout_share": 0}, "holdout_share must be strictly between 0 and 1, got 0"),
        ({"action_by_tier": {"A": ["sms"]}}, "action_by_tier has no actions for tier\\(s\\) B, C, D"),
        ({"action_by_tier": {**ACTIONS, "A": ["sms", "sms"]}}, "action 'sms' is listed twice for tier A"),
        ({"action_by_tier": {**ACTIONS, "A": ["flowers"]}}, "unknown care action\\(s\\): flowers"),
        ({"at_risk": pd.DataFrame({"member_id": ["M1", "M1"], "tier": ["A", "A"]})},
         "at_risk must hold one row per member; member_id 'M1' appears more than once"),
        ({"at_risk": pd.DataFrame({"member_id": ["M1"]})}, "at_risk is missing columns: tier"),
    ],
)
def test_bad_campaign_inputs_give_clear_errors(kwargs, message):
    args = {"at_risk": at_risk_list(8), "holdout_share": 0.5, "seed": 1, "action_by_tier": ACTIONS,
            "start_date": START, **kwargs}
    with pytest.raises(ValueError, match=message):
        plan_campaign(**args)


def _add_members(conn, ids):
    rows = [{"member_id": m, "join_date": dt.date(2024, 1, 1), "gender": "U"} for m in ids]
    conn.execute(insert(schema.members), rows)


def test_recording_a_campaign_twice_writes_its_actions_once(engine):
    campaign = plan_campaign(at_risk_list(40), 0.25, 7, ACTIONS, START)
    with engine.begin() as conn:
        _add_members(conn, at_risk_list(40)["member_id"])
    assert record_campaign(engine, campaign, MARKETING) == len(campaign.actions)
    assert record_campaign(engine, campaign, MARKETING) == 0
    ca = schema.care_actions
    with engine.connect() as conn:
        stored = conn.execute(
            select(func.count(), func.sum(ca.c.cost)).where(ca.c.campaign_id == campaign.campaign_id)
        ).one()
        holdout_rows = conn.execute(
            select(func.count()).select_from(ca).where(ca.c.member_id.in_(campaign.holdout))
        ).scalar_one()
    assert stored[0] == len(campaign.actions) and float(stored[1]) == pytest.approx(campaign.cost)
    assert holdout_rows == 0


def test_recording_a_campaign_for_unknown_members_fails_cleanly(engine):
    campaign = plan_campaign(at_risk_list(4), 0.25, 7, ACTIONS, START)
    with pytest.raises(ValueError, match="campaign members are not in the members table: R0000"):
        record_campaign(engine, campaign, MARKETING)


@pytest.fixture
def campaign_mall(engine):
    """200 at-risk members; after the campaign 90% of the treated buy again but only 40% of the holdout.

    Buyers spend 100 (treated) or 60 (holdout) in the period, 2025-03-01..2026-02-28; one late sale marks the
    data as covering the period.
    """
    at_risk = at_risk_list(200)
    campaign = plan_campaign(at_risk, 0.5, 11, ACTIONS, START)
    with engine.begin() as conn:
        _add_members(conn, at_risk["member_id"])
    record_campaign(engine, campaign, MARKETING)
    treated, holdout = campaign.treated, campaign.holdout
    buyers = treated[: int(0.9 * len(treated))] + holdout[: int(0.4 * len(holdout))]
    rows = [
        {"txn_id": f"T{i}", "member_id": m, "ts": dt.datetime(2025, 6, 1, 12),
         "amount": 100.0 if m in treated else 60.0, "gross_margin": 20.0}
        for i, m in enumerate(buyers)
    ]
    rows.append({"txn_id": "T-last", "member_id": holdout[-1], "ts": dt.datetime(2026, 3, 5, 12), "amount": 1.0,
                 "gross_margin": 0.1})
    with engine.begin() as conn:
        conn.execute(insert(schema.transactions), rows)
    return campaign, len(treated), len(holdout), int(0.9 * len(treated)), int(0.4 * len(holdout))


def test_measured_uplift_is_the_difference_of_retention_with_a_ci_excluding_zero(engine, campaign_mall):
    campaign, nt, nh, xt, xh = campaign_mall
    result = measure_campaign(engine, campaign, dt.date(2026, 2, 28))
    assert (result.n_treated, result.n_holdout, result.retained_treated, result.retained_holdout) == (nt, nh, xt, xh)
    assert result.uplift == pytest.approx(xt / nt - xh / nh)
    assert result.uplift_ci[0] > 0 and result.uplift_ci[0] < result.uplift < result.uplift_ci[1]
    assert result.spend_treated == pytest.approx(100.0 * xt / nt)
    assert result.spend_holdout == pytest.approx(60.0 * xh / nh)
    assert result.spend_uplift_ci[0] > 0
    # Campaign care per treated member: A gets 85, B 5, C and D 0.5 (50 treated per tier).
    assert result.care_treated == pytest.approx((85 + 5 + 0.5 + 0.5) / 4)
    assert result.care_holdout == 0.0


def test_measuring_before_the_period_has_passed_is_refused(engine, campaign_mall):
    campaign = campaign_mall[0]
    message = "the period has not passed: it ends 2027-01-01 but the latest transaction is 2026-03-05"
    with pytest.raises(ValueError, match=message):
        measure_campaign(engine, campaign, dt.date(2027, 1, 1))
    with pytest.raises(ValueError, match="end_date \\(2025-01-01\\) is before the campaign start \\(2025-03-01\\)"):
        measure_campaign(engine, campaign, dt.date(2025, 1, 1))


def test_intervals_match_published_and_independent_values():
    # Newcombe (1998), Statistics in Medicine 17, 873-890: 56/70 - 48/80, method 10 gives 0.0524 to 0.3339;
    # Newcombe (1998), Statistics in Medicine 17, 857-872: 81/263, Wilson interval 0.2553 to 0.3662.
    assert newcombe_interval(56, 70, 48, 80) == pytest.approx((0.0524, 0.3339), abs=1e-4)
    assert wilson_interval(81, 263) == pytest.approx((0.2553, 0.3662), abs=1e-4)
    rng = np.random.default_rng(4)
    a, b = rng.normal(10, 3, 30), rng.normal(8, 6, 45)
    reference = stats.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
    assert welch_interval(a, b) == pytest.approx((reference.low, reference.high))


def _result(nt: int, xt: int, nh: int, xh: int, care_t: float | list[float], care_h: float | list[float],
            campaign_id: str = "c") -> CampaignResult:
    """A measured campaign built by hand: the first ``xt`` treated and ``xh`` held-out members bought again."""
    care_t = np.broadcast_to(np.asarray(care_t, dtype=float), (nt,))
    care_h = np.broadcast_to(np.asarray(care_h, dtype=float), (nh,))
    members = pd.DataFrame({
        "member_id": [f"T{i}" for i in range(nt)] + [f"H{i}" for i in range(nh)],
        "tier": "A", "group": ["treated"] * nt + ["holdout"] * nh,
        "retained": [i < xt for i in range(nt)] + [i < xh for i in range(nh)],
        "spend": 0.0, "care": np.concatenate([care_t, care_h]),
    })[list(MEMBER_RESULT_COLUMNS)]
    return CampaignResult(campaign_id, START, START, nt, nh, xt, xh, xt / nt, xh / nh, xt / nt - xh / nh,
                          (0.0, 0.0), 0.0, 0.0, 0.0, (0.0, 0.0), float(care_t.mean()), float(care_h.mean()),
                          members=members)


def test_update_response_without_a_confounding_allowance_is_plain_precision_weighting():
    # Campaign: 1000 vs 1000; churn 0.2 treated, 0.3 holdout (with +0.5 corrections); care 100 vs 0 -> dose log 2.
    result = _result(1000, 800, 1000, 700, 100.0, 0.0)
    qt, qh = 200.5 / 1001, 300.5 / 1001
    beta_c = (logit(qh) - logit(qt)) / math.log(2)
    se_c = math.sqrt(1 / (1001 * qt * (1 - qt)) + 1 / (1001 * qh * (1 - qh))) / math.log(2)
    assert campaign_beta(result, 100.0) == pytest.approx((beta_c, se_c))
    draws = list(0.3 + 0.1 * stats.norm.ppf((np.arange(400) + 0.5) / 400))
    model = hand_model(0.3, draws)
    se_m = float(np.std(draws, ddof=1))
    updated = update_response(model, result, confounding_share=0.0)
    expected = (0.3 / se_m**2 + beta_c / se_c**2) / (1 / se_m**2 + 1 / se_c**2)
    assert updated.beta_ == pytest.approx(expected)
    assert updated.beta_se_ == pytest.approx(math.sqrt(1 / (1 / se_m**2 + 1 / se_c**2)), rel=1e-6)
    assert updated.pooling_.weight_campaign == pytest.approx((1 / se_c**2) / (1 / se_m**2 + 1 / se_c**2))
    assert model.beta_ == 0.3  # the input model is unchanged
    assert updated.tier_logit_ == model.tier_logit_ and updated.c0_ == model.c0_


def test_a_campaign_without_extra_care_cannot_update_the_model():
    with pytest.raises(ValueError, match="the treated group received no more care than the holdout"):
        update_response(hand_model(0.5), _result(100, 80, 100, 70, 10.0, 10.0))
    with pytest.raises(ValueError, match="the result has no per-member care"):
        campaign_beta(CampaignResult("c", START, START, 2, 2, 1, 1, 0.5, 0.5, 0.0, (0, 0), 0, 0, 0, (0, 0), 5, 0), 100)


# --- the dose, member by member ------------------------------------------------------------------------------------


def test_the_dose_is_the_mean_of_each_members_log_dose_not_the_log_of_the_mean_care():
    # Treated care 0 and 300 (c0 = 100): (log 1 + log 4) / 2 = log 2, whereas log1p(mean 150 / 100) = log 2.5.
    assert campaign_dose([0.0, 300.0], [0.0, 0.0], 100.0) == pytest.approx(math.log(2))
    # Holdout care counts against the treated: (log 4 + log 4) / 2 - (log 1 + log 2) / 2 = log 4 - log 2 / 2.
    assert campaign_dose([300.0, 300.0], [0.0, 100.0], 100.0) == pytest.approx(math.log(4) - math.log(2) / 2)
    # c0 sets the scale: with c0 = 300, care 300 is log 2.
    assert campaign_dose([300.0], [0.0], 300.0) == pytest.approx(math.log(2))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (([], [1.0], 100.0), "care_treated is empty"),
        (([1.0], [-1.0], 100.0), "care_holdout must hold finite care costs >= 0"),
        (([1.0], [np.nan], 100.0), "care_holdout must hold finite care costs >= 0"),
        (([1.0], [0.0], 0.0), "c0 must be a finite number > 0, got 0.0"),
    ],
)
def test_a_dose_of_bad_care_values_is_refused_with_a_message(args, message):
    with pytest.raises(ValueError, match=message):
        campaign_dose(*args)


def test_campaign_beta_uses_the_members_doses_and_their_covariance_with_churn_by_hand():
    # Treated: care 0, 0, 300, 300 with the two cared-for members retained; holdout: care 0 x 4, 2 retained.
    members = pd.DataFrame({
        "member_id": list("abcdefgh"), "tier": "A", "group": ["treated"] * 4 + ["holdout"] * 4,
        "retained": [False, False, True, True, True, True, False, False], "spend": 0.0,
        "care": [0.0, 0.0, 300.0, 300.0, 0.0, 0.0, 0.0, 0.0],
    })
    result = CampaignResult("h", START, START, 4, 4, 2, 2, 0.5, 0.5, 0.0, (0, 0), 0, 0, 0, (0, 0), 150.0, 0.0,
                            members=members)
    # q = (2 + 0.5) / 5 = 0.5 in both arms: N = 0, beta = 0. D = log(4) / 2 = log 2.
    # var N = 2 / (5 x 0.25) = 1.6; var D = s^2 / 4 with s^2 = var(0, 0, log4, log4) = log(4)^2 / 3;
    # cov(N, D) = -c_t / (4 x 0.25), c_t = cov(churn 1,1,0,0; dose 0,0,log4,log4) = -log(4) / 3 (x 1/2... below).
    d = np.array([0, 0, math.log(4), math.log(4)])
    y = np.array([1.0, 1.0, 0.0, 0.0])
    cov_nd = -np.cov(y, d, ddof=1)[0, 1] / (4 * 0.25)
    var_beta = (1.6 - 0 * cov_nd + 0 * d.var(ddof=1) / 4) / math.log(2) ** 2
    beta, se = campaign_beta(result, 100.0)
    assert beta == pytest.approx(0.0, abs=1e-12) and se == pytest.approx(math.sqrt(var_beta))
    # With beta != 0 the dose's own noise and its covariance with churn enter: flip the holdout to all churned.
    flipped = members.assign(retained=[False, False, True, True, False, False, False, False])
    result = CampaignResult("h", START, START, 4, 4, 2, 0, 0.5, 0.0, 0.5, (0, 0), 0, 0, 0, (0, 0), 150.0, 0.0,
                            members=flipped)
    qt, qh = 2.5 / 5, 4.5 / 5
    b = (logit(qh) - logit(qt)) / math.log(2)
    var_n = 1 / (5 * qt * (1 - qt)) + 1 / (5 * qh * (1 - qh))
    cov_nd = -np.cov(y, d, ddof=1)[0, 1] / (4 * qt * (1 - qt))  # the holdout's dose is constant: no term
    var_d = d.var(ddof=1) / 4
    expected_se = math.sqrt((var_n - 2 * b * cov_nd + b**2 * var_d) / math.log(2) ** 2)
    assert campaign_beta(result, 100.0) == pytest.approx((b, expected_se))


def _simulated_campaign(rng: np.random.Generator, beta: float, n: int, uneven: bool,
                        spread: float = 0.0) -> CampaignResult:
    """A randomised campaign on members whose churn follows the response model exactly, with c0 = 100.

    Even: the treated all get 100 of care, the holdout none. Uneven: 30% of everyone already gets 1000 of care, and
    the campaign gives 0 or 400 at random; ``spread`` adds member-level baseline log-odds, and then members at
    higher risk are the ones who got the background care (confounded within each arm, randomised between arms).
    """
    group = np.array(["treated"] * n + ["holdout"] * n)
    base = -0.5 + spread * rng.normal(size=2 * n)
    if uneven:
        background = np.where(rng.random(2 * n) < (expit(base) if spread else 0.3), 1000.0, 0.0)
        care = background + np.where(group == "treated", 400.0 * rng.integers(0, 2, 2 * n), 0.0)
    else:
        care = np.where(group == "treated", 100.0, 0.0)
    retained = rng.random(2 * n) >= expit(base - beta * np.log1p(care / 100.0))
    members = pd.DataFrame({"member_id": np.arange(2 * n).astype(str), "tier": "A", "group": group,
                            "retained": retained, "spend": 0.0, "care": care})
    xt, xh = int(retained[:n].sum()), int(retained[n:].sum())
    return CampaignResult("sim", START, START, n, n, xt, xh, xt / n, xh / n, (xt - xh) / n, (0, 0), 0, 0, 0, (0, 0),
                          float(care[:n].mean()), float(care[n:].mean()), members=members)


def test_campaign_beta_intervals_cover_the_true_effect_of_a_randomised_campaign():
    rng = np.random.default_rng(20261206)
    hits = []
    for _ in range(300):
        beta, se = campaign_beta(_simulated_campaign(rng, 0.8, 1500, uneven=False), 100.0)
        hits.append(abs(beta - 0.8) <= 1.96 * se)
    # 300 draws of a 95% interval: the share covering lies in [0.92, 0.98] with probability > 99%.
    assert 0.92 <= np.mean(hits) <= 0.98


@pytest.mark.parametrize("spread", [0.0, 1.0])
def test_the_delta_method_standard_error_matches_the_spread_of_the_estimates_under_uneven_care(spread):
    rng = np.random.default_rng(7 + int(spread))
    estimates = np.array([campaign_beta(_simulated_campaign(rng, 0.8, 1500, True, spread), 100.0)
                          for _ in range(250)])
    # The standard deviation of 250 estimates is known to about +-9% (2 standard errors): the mean reported
    # standard error must agree within 15%.
    assert estimates[:, 1].mean() == pytest.approx(estimates[:, 0].std(ddof=1), rel=0.15)


def test_the_per_member_dose_recovers_the_effect_where_the_dose_of_the_mean_care_does_not():
    rng = np.random.default_rng(99)
    per_member, of_means = [], []
    for _ in range(200):
        result = _simulated_campaign(rng, 0.8, 1500, uneven=True)
        per_member.append(campaign_beta(result, 100.0)[0])
        qt, qh = 1 - result.retention_treated, 1 - result.retention_holdout
        of_means.append((logit(qh) - logit(qt)) / (math.log1p(result.care_treated / 100)
                                                   - math.log1p(result.care_holdout / 100)))
    # The marginal odds ratio of uneven doses is slightly attenuated (non-collapsibility), never by 10% here; the
    # dose of the mean care misses by over a third (its log difference is far from the members' mean difference).
    assert np.mean(per_member) == pytest.approx(0.8, rel=0.10)
    assert abs(np.mean(of_means) - 0.8) > 0.25


# --- pooling -------------------------------------------------------------------------------------------------------


def _model_with_se(beta: float, se: float) -> CareResponseModel:
    return hand_model(beta, list(beta + se * stats.norm.ppf((np.arange(400) + 0.5) / 400)))


def test_pooling_inflates_the_observational_variance_by_the_confounding_allowance_by_hand():
    model = _model_with_se(0.3, 0.05)
    se_m = model.beta_se_
    result = _result(3000, 2550, 3000, 2100, 100.0, 0.0)  # churn 15% treated vs 30% held out
    beta_c, se_c = campaign_beta(result, 100.0)
    pooled = pool_care_effect(model, result)
    bias = CONFOUNDING_SHARE * 0.3
    assert pooled.confounding_sd == pytest.approx(bias)
    assert pooled.se_observational_used == pytest.approx(math.sqrt(se_m**2 + bias**2))
    w_m, w_c = 1 / (se_m**2 + bias**2), 1 / se_c**2
    assert pooled.weight_observational == pytest.approx(w_m / (w_m + w_c))
    assert pooled.weight_campaign == pytest.approx(w_c / (w_m + w_c))
    assert pooled.beta == pytest.approx((w_m * 0.3 + w_c * beta_c) / (w_m + w_c))
    assert pooled.se == pytest.approx(1 / math.sqrt(w_m + w_c))
    assert pooled.campaigns["weight"].tolist() == pytest.approx([pooled.weight_campaign])
    absolute = pool_care_effect(model, result, confounding_sd=0.2)
    assert absolute.se_observational_used == pytest.approx(math.sqrt(se_m**2 + 0.04))


@pytest.mark.parametrize("n", [3000, 10_000, 30_000])
def test_a_randomised_result_with_a_tight_standard_error_moves_the_pooled_estimate_substantially(n):
    # Observational 0.3 +- 0.05; the campaign says about 1.3 (churn 15% vs 30%, dose log 2) with SE 0.09 - 0.03.
    model = _model_with_se(0.3, 0.05)
    result = _result(n, int(0.85 * n), n, int(0.70 * n), 100.0, 0.0)
    beta_c, se_c = campaign_beta(result, 100.0)
    plain = pool_care_effect(model, result, confounding_share=0.0)
    pooled = pool_care_effect(model, result)
    assert se_c < 0.1 and beta_c > 1.0
    # Without the allowance the campaign of 3,000 + 3,000 members gets about a fifth of the weight; with it, the
    # randomised result dominates at every size.
    assert pooled.weight_campaign > 0.7 and pooled.weight_campaign > plain.weight_campaign
    moved = (pooled.beta - 0.3) / (beta_c - 0.3)
    assert moved == pytest.approx(pooled.weight_campaign) and moved > 0.7


def test_several_campaigns_pool_by_precision_and_identical_ones_count_as_one_twice_as_large():
    model = _model_with_se(0.5, 0.05)
    one = _result(2000, 1700, 2000, 1500, 100.0, 0.0, "one")
    two = _result(2000, 1700, 2000, 1500, 100.0, 0.0, "two")
    both = pool_care_effect(model, [one, two])
    beta_c, se_c = campaign_beta(one, 100.0)
    assert both.beta_campaign == pytest.approx(beta_c) and both.se_campaign == pytest.approx(se_c / math.sqrt(2))
    assert both.campaigns["weight"].sum() + both.weight_observational == pytest.approx(1.0)
    assert both.weight_campaign > pool_care_effect(model, one).weight_campaign
    with pytest.raises(ValueError, match="campaign_id 'one' is given twice"):
        pool_care_effect(model, [one, one])
    with pytest.raises(ValueError, match="confounding_share must be a finite number >= 0"):
        pool_care_effect(model, one, confounding_share=-1)
    with pytest.raises(ValueError, match="results must hold at least one CampaignResult"):
        pool_care_effect(model, [])


def test_a_model_without_bootstrap_draws_gives_the_campaign_all_the_weight():
    result = _result(1000, 800, 1000, 700, 100.0, 0.0)
    pooled = pool_care_effect(hand_model(0.3), result)
    assert pooled.weight_observational == 0.0 and pooled.weight_campaign == 1.0
    assert pooled.beta == pytest.approx(campaign_beta(result, 100.0)[0])
    updated = update_response(hand_model(0.3), result)
    assert updated.beta_ == pytest.approx(pooled.beta) and updated.beta_se_ == pytest.approx(pooled.se, rel=0.02)


# --- persistence, roles, audit, upgrade ----------------------------------------------------------------------------


def test_a_recorded_campaign_survives_a_new_engine_with_its_assignment_and_actions(engine, db_url):
    at_risk = at_risk_list(60)
    campaign = plan_campaign(at_risk, 0.3, 5, ACTIONS, START)
    with engine.begin() as conn:
        _add_members(conn, at_risk["member_id"])
    record_campaign(engine, campaign, MARKETING, note="spring win-back")
    engine.dispose()
    fresh = db.make_engine(db_url)
    loaded = load_campaign(fresh, campaign.campaign_id)
    pd.testing.assert_frame_equal(loaded.assignment, campaign.assignment)
    pd.testing.assert_frame_equal(loaded.actions, campaign.actions)
    assert (loaded.start_date, loaded.seed, loaded.holdout_share) == (START, 5, 0.3)
    assert loaded.action_by_tier == campaign.action_by_tier and loaded.cost == pytest.approx(campaign.cost)
    listed = list_campaigns(fresh)
    row = listed.iloc[0]
    assert len(listed) == 1 and row["campaign_id"] == campaign.campaign_id
    assert (row["n_treated"], row["n_holdout"]) == (len(campaign.treated), len(campaign.holdout))
    assert row["cost"] == pytest.approx(campaign.cost) and row["author"] == "wang.fang"
    assert row["note"] == "spring win-back" and row["end_date"] == dt.date(2026, 2, 28)
    trail = audit_trail(fresh, SYSTEM)
    entry = trail[trail["action"] == "campaign_recorded"]
    assert entry["username"].tolist() == ["wang.fang"] and entry["target"].tolist() == [campaign.campaign_id]
    # Recording again changes nothing and is not audited twice; another draw under the same id is refused.
    assert record_campaign(fresh, campaign, MARKETING) == 0
    assert (audit_trail(fresh, SYSTEM)["action"] == "campaign_recorded").sum() == 1
    other = plan_campaign(at_risk, 0.3, 6, ACTIONS, START, campaign_id=campaign.campaign_id)
    with pytest.raises(ValueError, match="is already recorded with a different assignment"):
        record_campaign(fresh, other, MARKETING)
    with pytest.raises(ValueError, match="no campaign 'nope' is recorded"):
        load_campaign(fresh, "nope")
    fresh.dispose()


@pytest.mark.parametrize("actor", [Actor("ceo", "viewer"), None])
def test_only_marketing_or_admin_may_record_a_campaign_and_a_refusal_writes_nothing(engine, actor):
    at_risk = at_risk_list(20)
    with engine.begin() as conn:
        _add_members(conn, at_risk["member_id"])
    campaign = plan_campaign(at_risk, 0.5, 1, ACTIONS, START)
    with pytest.raises(PermissionDenied, match="may not record campaigns"):
        record_campaign(engine, campaign, actor)
    assert list_campaigns(engine).empty
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(schema.care_actions)).scalar_one() == 0
    assert record_campaign(engine, campaign, Actor("root", "admin")) == len(campaign.actions)


def _database_before_campaigns(url: str):
    engine = db.make_engine(url)
    old = MetaData()
    for table in schema.Base.metadata.sorted_tables:
        if table.name not in db.ADDED_TABLES:
            table.to_metadata(old)
    old.create_all(engine)
    return engine


def test_an_older_database_gets_the_campaign_tables_from_upgrade_schema(db_url):
    engine = _database_before_campaigns(db_url)
    assert list_campaigns(engine).empty  # reading an older database is not an error
    assert db.upgrade_schema(engine) == list(db.ADDED_TABLES)
    assert db.upgrade_schema(engine) == []
    assert {"campaigns", "campaign_members"} <= set(inspect(engine).get_table_names())
    at_risk = at_risk_list(12)
    with engine.begin() as conn:
        _add_members(conn, at_risk["member_id"])
    campaign = plan_campaign(at_risk, 0.5, 3, ACTIONS, START)
    record_campaign(engine, campaign, MARKETING)
    assert load_campaign(engine, campaign.campaign_id).holdout == campaign.holdout
    engine.dispose()


def test_recording_into_an_older_database_creates_the_campaign_tables_itself(tmp_path):
    engine = _database_before_campaigns(f"sqlite:///{tmp_path / 'old.db'}")
    at_risk = at_risk_list(8)
    with engine.begin() as conn:
        _add_members(conn, at_risk["member_id"])
    campaign = plan_campaign(at_risk, 0.5, 3, ACTIONS, START)
    assert record_campaign(engine, campaign, MARKETING) == len(campaign.actions)
    assert len(list_campaigns(engine)) == 1
    engine.dispose()


def test_actions_dated_inside_the_loaded_history_start_a_new_data_version(engine):
    at_risk = at_risk_list(8)
    with engine.begin() as conn:
        _add_members(conn, at_risk["member_id"])
        conn.execute(insert(schema.transactions), [{"txn_id": "T1", "member_id": "R0000",
                                                    "ts": dt.datetime(2025, 6, 1, 10), "amount": 10.0}])
    with engine.connect() as conn:
        before = db.data_version(conn)
    record_campaign(engine, plan_campaign(at_risk, 0.5, 3, ACTIONS, dt.date(2025, 7, 1)), MARKETING)  # after data
    with engine.connect() as conn:
        assert db.data_version(conn) == before
    record_campaign(engine, plan_campaign(at_risk, 0.5, 3, ACTIONS, dt.date(2025, 5, 1)), MARKETING)  # inside
    with engine.connect() as conn:
        assert db.data_version(conn) == before + 1


def test_a_seed_that_cannot_be_stored_is_refused_when_planning():
    with pytest.raises(ValueError, match="seed must be an integer from 0 to 2147483647, got -1"):
        plan_campaign(at_risk_list(8), 0.5, -1, ACTIONS, START)
    with pytest.raises(ValueError, match="seed must be an integer"):
        plan_campaign(at_risk_list(8), 0.5, 2**40, ACTIONS, START)


# --- end to end on a demo mall ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_copy(tmp_path_factory, demo_sqlite_url):
    """A private copy of the demo mall, and its members active in the year before a start one year before the end.

    The demo's purchases after the start were simulated before any campaign existed: a campaign recorded now at a
    past date cannot have changed them, so its true effect on retention is exactly zero (a placebo).
    """
    from vipmodel import kpi
    from vipmodel.outcomes import add_years
    from vipmodel.pyramid import DEFAULT_RULES, assign_tiers

    url = copy_database(demo_sqlite_url, tmp_path_factory.mktemp("campaign_demo"))
    engine = db.make_engine(url)
    with engine.connect() as conn:
        end = kpi.latest_activity_date(conn)
        start = add_years(end, -1) + dt.timedelta(days=1)
        feats = features.member_features(conn, add_years(start, -1), start - dt.timedelta(days=1))
    active = feats[feats["n_transactions"] > 0].reset_index(drop=True)
    active["tier"] = assign_tiers(active, DEFAULT_RULES).astype(str).to_numpy()
    yield engine, start, end, active[["member_id", "tier"]]
    engine.dispose()


def test_a_campaign_recorded_on_a_demo_mall_is_measured_from_the_stored_assignment(demo_copy):
    engine, start, end, members = demo_copy
    assert measurement_end(start) == end
    plan = {"A": ["birthday_gift"], "B": ["birthday_gift"], "C": ["holiday_card"], "D": ["sms"]}
    campaign = plan_campaign(members, 0.3, 2026, plan, start)
    written = record_campaign(engine, campaign, MARKETING)
    assert 0 < written <= len(campaign.actions)  # a treated member may already have had that action that day
    result = measure_campaign(engine, load_campaign(engine, campaign.campaign_id), end)
    # Retention computed independently from the raw transactions of the period.
    with engine.connect() as conn:
        t = schema.transactions
        buyers = set(conn.execute(select(t.c.member_id).where(~t.c.is_return,
                                                               t.c.ts >= dt.datetime.combine(start, dt.time()),
                                                               t.c.ts < dt.datetime.combine(end, dt.time()) +
                                                               dt.timedelta(days=1))).scalars())
    assert result.retained_holdout == sum(m in buyers for m in campaign.holdout)
    assert result.retained_treated == sum(m in buyers for m in campaign.treated)
    # The campaign's care shows in the treated arm's dose; the placebo's true effect (0) is inside both intervals.
    assert result.care_treated > result.care_holdout
    assert result.uplift_ci[0] <= 0 <= result.uplift_ci[1]
    model = _model_with_se(0.5, 0.05)
    beta_c, se_c = campaign_beta(result, model.c0_)
    assert abs(beta_c) <= 1.96 * se_c
    pooled = update_response(model, result).pooling_
    assert pooled.beta_campaign == pytest.approx(beta_c)
    assert pooled.weight_observational + pooled.weight_campaign == pytest.approx(1.0)


def test_the_uplift_interval_covers_the_placebos_zero_effect_over_many_random_assignments(demo_copy):
    engine, start, end, members = demo_copy
    plan = {"A": ["sms"], "B": ["sms"], "C": ["sms"], "D": ["sms"]}
    covered = [
        (lambda r: r.uplift_ci[0] <= 0 <= r.uplift_ci[1])(measure_campaign(
            engine, plan_campaign(members, 0.5, seed, plan, start, campaign_id=f"placebo-{seed}"), end))
        for seed in range(20)
    ]
    # 20 randomisations of a 95% interval: 17 or more cover with probability 98%.
    assert sum(covered) >= 17
