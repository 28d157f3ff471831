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
from sqlalchemy import func, insert, select

from vipmodel import schema
from vipmodel.campaigns import (
    CampaignResult,
    campaign_beta,
    measure_campaign,
    plan_campaign,
    record_campaign,
    update_response,
)
from vipmodel.care import CareResponseModel
from vipmodel.stats import newcombe_interval, welch_interval, wilson_interval


def hand_model(beta: float = 1.0, draws: list[float] | None = None) -> CareResponseModel:
    """Baseline log-odds 0 (churn 1/2 at zero care) in every tier, c0 = 100."""
    return CareResponseModel.from_coefficients(beta, dict.fromkeys("ABCD", 0.0), c0=100.0, beta_draws=draws)


START = dt.date(2025, 3, 1)
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
        ({"at_risk": pd.DataFrame({"member_id": ["M1"]})}, "at_risk is missing required column\\(s\\): 'tier'"),
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
    assert record_campaign(engine, campaign) == len(campaign.actions)
    assert record_campaign(engine, campaign) == 0
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
        record_campaign(engine, campaign)


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
    record_campaign(engine, campaign)
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


def _result(nt: int, xt: int, nh: int, xh: int, care_t: float, care_h: float) -> CampaignResult:
    return CampaignResult("c", START, START, nt, nh, xt, xh, xt / nt, xh / nh, xt / nt - xh / nh, (0.0, 0.0),
                          0.0, 0.0, 0.0, (0.0, 0.0), care_t, care_h)


def test_update_response_combines_model_and_campaign_by_precision():
    # Campaign: 1000 vs 1000; churn 0.2 treated, 0.3 holdout (with +0.5 corrections); care 100 vs 0 -> dose log 2.
    result = _result(1000, 800, 1000, 700, 100.0, 0.0)
    qt, qh = 200.5 / 1001, 300.5 / 1001
    beta_c = (logit(qh) - logit(qt)) / math.log(2)
    se_c = math.sqrt(1 / (1001 * qt * (1 - qt)) + 1 / (1001 * qh * (1 - qh))) / math.log(2)
    assert campaign_beta(result) == pytest.approx((beta_c, se_c))
    draws = list(0.3 + 0.1 * stats.norm.ppf((np.arange(400) + 0.5) / 400))
    model = hand_model(0.3, draws)
    se_m = float(np.std(draws, ddof=1))
    updated = update_response(model, result)
    expected = (0.3 / se_m**2 + beta_c / se_c**2) / (1 / se_m**2 + 1 / se_c**2)
    assert updated.beta_ == pytest.approx(expected)
    assert updated.beta_se_ == pytest.approx(math.sqrt(1 / (1 / se_m**2 + 1 / se_c**2)), rel=1e-6)
    assert model.beta_ == 0.3  # the input model is unchanged
    assert updated.tier_logit_ == model.tier_logit_


def test_a_campaign_without_extra_care_cannot_update_the_model():
    with pytest.raises(ValueError, match="the treated group received no more care than the holdout"):
        update_response(hand_model(0.5), _result(100, 80, 100, 70, 10.0, 10.0))
