"""Randomised retention campaigns: plan with a holdout, record the actions, measure the uplift, update the model.

The closed loop of the care what-if: :func:`plan_campaign` assigns members to treated and holdout groups by a
seeded draw per tier, :func:`record_campaign` writes the treated members' actions to ``care_actions``,
:func:`measure_campaign` compares retention of the two groups after the period (Newcombe interval for the
difference of proportions [1]_, Welch for care spend [2]_), and :func:`update_response` combines the measured
effect with the observational response model of :mod:`vipmodel.care`.

References
----------
.. [1] Newcombe, R. G. (1998). Interval estimation for the difference between independent proportions:
   comparison of eleven methods. *Statistics in Medicine* 17(8), 873-890.
.. [2] Welch, B. L. (1947). The generalization of "Student's" problem when several different population
   variances are involved. *Biometrika* 34(1-2), 28-35.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats
from scipy.special import logit
from sqlalchemy import Connection, Engine, and_, func, insert, select

from vipmodel import schema
from vipmodel.care import (
    _CARE_TERM,
    CARE_KINDS,
    TIERS,
    CareResponseModel,
    _connection,
    _require,
    _tier_codes,
    _unit_costs,
)
from vipmodel.db import as_date
from vipmodel.features import member_features
from vipmodel.stats import newcombe_interval, welch_interval


@dataclass(frozen=True)
class Campaign:
    """A retention campaign: who is treated, who is held out, and the actions the treated receive.

    Attributes
    ----------
    campaign_id : str
    start_date : datetime.date
        The day the actions are given (``action_date``) and the measurement period starts.
    seed : int
    holdout_share : float
    assignment : DataFrame
        ``member_id``, ``tier``, ``group`` (``"treated"`` / ``"holdout"``), sorted by ``member_id``.
    actions : DataFrame
        ``member_id``, ``action_date``, ``kind``, ``cost``, ``campaign_id``: one row per treated member and
        action (the ``care_actions`` rows :func:`record_campaign` writes).
    """

    campaign_id: str
    start_date: dt.date
    seed: int
    holdout_share: float
    assignment: pd.DataFrame = field(hash=False)
    actions: pd.DataFrame = field(hash=False)

    @property
    def treated(self) -> list[str]:
        """Member ids of the treated group."""
        return self.assignment.loc[self.assignment["group"] == "treated", "member_id"].tolist()

    @property
    def holdout(self) -> list[str]:
        """Member ids of the holdout group."""
        return self.assignment.loc[self.assignment["group"] == "holdout", "member_id"].tolist()

    @property
    def cost(self) -> float:
        """Total cost of the treated group's actions."""
        return float(self.actions["cost"].sum())


def plan_campaign(
    at_risk: pd.DataFrame,
    holdout_share: float,
    seed: int,
    action_by_tier: Mapping[str, Sequence[str]],
    start_date: dt.date,
    campaign_id: str | None = None,
    unit_costs: Mapping[str, float] | None = None,
) -> Campaign:
    """Split the at-risk list into a treated group and a random holdout, stratified by tier.

    Within each tier exactly ``round(holdout_share x members of the tier)`` members are held out, chosen by
    ``numpy.random.default_rng(seed)`` after sorting by ``member_id``: the same list and seed always give the
    same groups, whatever the row order of ``at_risk``.

    Parameters
    ----------
    at_risk : DataFrame
        ``member_id`` (unique) and ``tier``; other columns are ignored.
    holdout_share : float
        Share held out, strictly between 0 and 1.
    seed : int
    action_by_tier : mapping
        ``{tier: [care actions]}``: what each treated member of the tier receives on ``start_date`` (each
        action at most once). Every tier in ``at_risk`` needs an entry.
    start_date : datetime.date
    campaign_id : str, optional
        Default ``"retention-YYYYMMDD-s<seed>"``.
    unit_costs : mapping, optional
        Cost per action (default :data:`DEFAULT_UNIT_COST`).

    Raises
    ------
    ValueError
        ``"holdout_share must be strictly between 0 and 1, got 1.5"``, ``"at_risk must hold one row per member;
        member_id 'M1' appears more than once"``, ``"action_by_tier has no actions for tier(s) C"``,
        ``"unknown care action(s): ..."``, ``"action 'sms' is listed twice for tier A"``,
        ``"campaign_id must be a non-empty string of at most 64 characters"``.
    """
    _require(at_risk, ("member_id", "tier"), "at_risk")
    try:
        share = float(holdout_share)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"holdout_share must be strictly between 0 and 1, got {holdout_share!r}") from exc
    if not 0.0 < share < 1.0:
        raise ValueError(f"holdout_share must be strictly between 0 and 1, got {holdout_share!r}")
    start_date = as_date(start_date, "start_date")
    ids = at_risk["member_id"]
    if ids.isna().any():
        raise ValueError("at_risk column 'member_id' has missing values")
    if not ids.is_unique:
        raise ValueError(f"at_risk must hold one row per member; member_id {ids[ids.duplicated()].iloc[0]!r} "
                         "appears more than once")
    _tier_codes(at_risk, "at_risk")
    costs = _unit_costs(unit_costs)
    frame = pd.DataFrame({"member_id": ids.astype(str), "tier": at_risk["tier"].astype(str)})
    frame = frame.sort_values("member_id", kind="stable").reset_index(drop=True)
    missing = sorted(set(frame["tier"]) - {str(t) for t, acts in action_by_tier.items() if acts})
    if missing:
        raise ValueError(f"action_by_tier has no actions for tier(s) {', '.join(missing)}")
    for tier, acts in action_by_tier.items():
        if isinstance(acts, str):
            raise ValueError(f"actions of tier {tier} must be a list of care actions, not a string")
        bad = sorted(set(acts) - set(CARE_KINDS))
        if bad:
            raise ValueError(f"unknown care action(s): {', '.join(map(str, bad))}; "
                             f"expected one of {', '.join(CARE_KINDS)}")
        dup = [k for k in set(acts) if list(acts).count(k) > 1]
        if dup:
            raise ValueError(f"action {dup[0]!r} is listed twice for tier {tier}")
    cid = campaign_id if campaign_id is not None else f"retention-{start_date:%Y%m%d}-s{seed}"
    if not isinstance(cid, str) or not cid.strip() or len(cid) > 64:
        raise ValueError("campaign_id must be a non-empty string of at most 64 characters")
    rng = np.random.default_rng(seed)
    group = np.full(len(frame), "treated", dtype=object)
    for tier in TIERS:  # fixed order, so the random stream is consumed identically every time
        rows = np.flatnonzero(frame["tier"].to_numpy() == tier)
        if len(rows) == 0:
            continue
        k = int(round(share * len(rows)))
        group[rng.choice(rows, size=k, replace=False)] = "holdout"
    frame["group"] = group
    treated = frame[frame["group"] == "treated"]
    rows = [
        (mid, start_date, kind, costs[kind], cid)
        for mid, tier in zip(treated["member_id"], treated["tier"])
        for kind in action_by_tier[tier]
    ]
    actions = pd.DataFrame(rows, columns=["member_id", "action_date", "kind", "cost", "campaign_id"])
    return Campaign(campaign_id=cid, start_date=start_date, seed=int(seed), holdout_share=share,
                    assignment=frame, actions=actions)


_CHUNK = 5_000


def record_campaign(conn: Connection | Engine, campaign: Campaign) -> int:
    """Write the treated group's actions into ``care_actions`` (tagged with ``campaign_id``); idempotent.

    A row whose natural key (member, date, action) is already stored is skipped, so recording the same
    campaign twice writes nothing the second time. With a Connection the caller commits.

    Returns
    -------
    int
        Rows written.

    Raises
    ------
    ValueError
        ``"campaign must be a Campaign"``; ``"campaign members are not in the members table: M9"``.
    """
    if not isinstance(campaign, Campaign):
        raise ValueError("campaign must be a Campaign")
    actions = campaign.actions
    if actions.empty:
        return 0
    ca, m = schema.care_actions, schema.members
    ids = sorted(set(actions["member_id"]))
    with _connection(conn, write=True) as connection:
        known: set[str] = set()
        existing: set[tuple[str, str]] = set()
        for lo in range(0, len(ids), _CHUNK):
            chunk = ids[lo : lo + _CHUNK]
            known.update(connection.execute(select(m.c.member_id).where(m.c.member_id.in_(chunk))).scalars())
            existing.update(
                (r[0], r[1])
                for r in connection.execute(
                    select(ca.c.member_id, ca.c.kind).where(
                        and_(ca.c.member_id.in_(chunk), ca.c.action_date == campaign.start_date)
                    )
                )
            )
        unknown = [i for i in ids if i not in known]
        if unknown:
            raise ValueError(f"campaign members are not in the members table: {', '.join(unknown[:5])}"
                             + (" ..." if len(unknown) > 5 else ""))
        rows = [
            {"member_id": r.member_id, "action_date": r.action_date, "kind": r.kind, "cost": float(r.cost),
             "campaign_id": r.campaign_id}
            for r in actions.itertuples(index=False)
            if (r.member_id, r.kind) not in existing
        ]
        if rows:
            connection.execute(insert(ca), rows)
    return len(rows)


@dataclass(frozen=True)
class CampaignResult:
    """Treated vs holdout after the campaign period.

    Attributes
    ----------
    campaign_id : str
    start_date, end_date : datetime.date
        The measurement period (inclusive).
    n_treated, n_holdout : int
    retained_treated, retained_holdout : int
        Members with at least one purchase in the period (the churn definition of
        :mod:`vipmodel.outcomes`: a member without purchase in the year has churned).
    retention_treated, retention_holdout, uplift : float
        Retention rates and their difference (treated - holdout).
    uplift_ci : (float, float)
        95% interval of the difference: Newcombe's hybrid score interval (method 10 of [5]_).
    spend_treated, spend_holdout, spend_uplift : float
        Mean net sales per member in the period (0 for members without purchase) and the difference.
    spend_uplift_ci : (float, float)
        95% Welch interval of the spend difference [6]_.
    care_treated, care_holdout : float
        Mean care cost per member in the period (all care, the campaign's included).
    """

    campaign_id: str
    start_date: dt.date
    end_date: dt.date
    n_treated: int
    n_holdout: int
    retained_treated: int
    retained_holdout: int
    retention_treated: float
    retention_holdout: float
    uplift: float
    uplift_ci: tuple[float, float]
    spend_treated: float
    spend_holdout: float
    spend_uplift: float
    spend_uplift_ci: tuple[float, float]
    care_treated: float
    care_holdout: float


def measure_campaign(conn: Connection | Engine, campaign: Campaign, end_date: dt.date) -> CampaignResult:
    """Retention and spend of the treated group against the holdout over ``[start_date, end_date]``.

    Purchases, spend and care cost per member are aggregated in SQL (:func:`vipmodel.features.member_features`).

    Raises
    ------
    ValueError
        ``"end_date (2025-01-01) is before the campaign start (2025-03-01)"``;
        ``"the period has not passed: it ends 2026-03-01 but the latest transaction is 2025-12-31"``;
        ``"each group needs at least 2 members for a Welch interval"``.
    """
    if not isinstance(campaign, Campaign):
        raise ValueError("campaign must be a Campaign")
    end_date = as_date(end_date, "end_date")
    if end_date < campaign.start_date:
        raise ValueError(f"end_date ({end_date}) is before the campaign start ({campaign.start_date})")
    with _connection(conn) as connection:
        latest = connection.execute(select(func.max(schema.transactions.c.ts))).scalar()
        if latest is None or latest.date() < end_date:
            shown = "none" if latest is None else str(latest.date())
            raise ValueError(f"the period has not passed: it ends {end_date} but the latest transaction is {shown}")
        feats = member_features(connection, campaign.start_date, end_date, period="range",
                                members=campaign.assignment["member_id"].tolist())
    feats = feats.set_index("member_id")
    frame = campaign.assignment.set_index("member_id")
    frame["retained"] = feats["n_transactions"].reindex(frame.index).fillna(0).to_numpy() > 0
    frame["spend"] = feats["sales"].reindex(frame.index).fillna(0.0).to_numpy()
    frame["care"] = feats["care_cost"].reindex(frame.index).fillna(0.0).to_numpy()
    t = frame[frame["group"] == "treated"]
    h = frame[frame["group"] == "holdout"]
    if len(t) < 2 or len(h) < 2:
        raise ValueError("each group needs at least 2 members for a Welch interval")
    xt, xh = int(t["retained"].sum()), int(h["retained"].sum())
    return CampaignResult(
        campaign_id=campaign.campaign_id, start_date=campaign.start_date, end_date=end_date,
        n_treated=len(t), n_holdout=len(h), retained_treated=xt, retained_holdout=xh,
        retention_treated=xt / len(t), retention_holdout=xh / len(h), uplift=xt / len(t) - xh / len(h),
        uplift_ci=newcombe_interval(xt, len(t), xh, len(h)),
        spend_treated=float(t["spend"].mean()), spend_holdout=float(h["spend"].mean()),
        spend_uplift=float(t["spend"].mean() - h["spend"].mean()),
        spend_uplift_ci=welch_interval(t["spend"].to_numpy(), h["spend"].to_numpy()),
        care_treated=float(t["care"].mean()), care_holdout=float(h["care"].mean()),
    )


def campaign_beta(result: CampaignResult, c0: float = 100.0) -> tuple[float, float]:
    """The care effect ``beta`` a campaign implies, and its standard error.

    ``beta = (logit q_h - logit q_t) / (log1p(care_t / c0) - log1p(care_h / c0))`` with churn rates
    ``q = 1 - retention`` (Haldane-Anscombe +0.5 correction on the counts) and group mean care; standard error
    by the delta method, ``sqrt(1/(n_t q_t (1-q_t)) + 1/(n_h q_h (1-q_h))) / dose difference``.

    Raises
    ------
    ValueError
        ``"the treated group received no more care than the holdout; the campaign says nothing about the care
        effect"``.
    """
    dose = math.log1p(result.care_treated / c0) - math.log1p(result.care_holdout / c0)
    if not dose > 0:
        raise ValueError("the treated group received no more care than the holdout; "
                         "the campaign says nothing about the care effect")
    nt, nh = result.n_treated + 1.0, result.n_holdout + 1.0
    qt = (result.n_treated - result.retained_treated + 0.5) / nt
    qh = (result.n_holdout - result.retained_holdout + 0.5) / nh
    beta = (logit(qh) - logit(qt)) / dose
    se = math.sqrt(1 / (nt * qt * (1 - qt)) + 1 / (nh * qh * (1 - qh))) / dose
    return float(beta), float(se)


def update_response(model: CareResponseModel, result: CampaignResult) -> CareResponseModel:
    """A new model whose care effect combines the fitted ``beta`` with what the campaign measured.

    Rule: precision weighting of two independent normal estimates (fixed-effect meta-analysis). With the
    model's ``beta`` and its bootstrap standard error ``se_m``, and the campaign's ``beta_c`` and ``se_c``
    (:func:`campaign_beta`): ``beta = (beta/se_m^2 + beta_c/se_c^2) / (1/se_m^2 + 1/se_c^2)``, ``se^2 = 1 /
    (1/se_m^2 + 1/se_c^2)``. The bootstrap draws are shifted and shrunk to that mean and spread. Tier
    baselines are kept. A model without bootstrap draws (no ``se_m``) is replaced by the campaign estimate.
    The input model is not changed.
    """
    model._check_fitted()
    if not isinstance(result, CampaignResult):
        raise ValueError("result must be a CampaignResult")
    beta_c, se_c = campaign_beta(result, model.c0_)
    se_m = model.beta_se_
    if math.isfinite(se_m) and se_m > 0:
        w_m, w_c = 1 / se_m**2, 1 / se_c**2
        beta = (w_m * model.beta_ + w_c * beta_c) / (w_m + w_c)
        se = math.sqrt(1 / (w_m + w_c))
        draws = beta + (model.beta_draws_ - model.beta_draws_.mean()) * se / se_m
    else:
        beta, se = beta_c, se_c
        draws = beta + se * stats.norm.ppf((np.arange(200) + 0.5) / 200)
    new = CareResponseModel.from_coefficients(beta, model.tier_logit_, model.c0_, draws, model.tier_care_)
    # The controls of the fitted model still describe members; only the care coefficient changes.
    if hasattr(model, "_centre"):
        new._design, new._centre = model._design, model._centre
        new.store_column = model.store_column
        coef = model.coef_.copy()
        coef[_CARE_TERM] = -beta
        new.coef_ = coef
    new.method, new.n_rows_ = model.method, model.n_rows_
    return new
