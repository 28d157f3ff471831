"""Care spend: the maintenance plan, a response model of churn to care, what-if simulation, budget optimiser
and the closed-loop retention campaign.

The pieces fit together as the mall's "VIP marketing maintenance plan table" (客户营销维护计划表) turned
into numbers:

1. :class:`CarePlan` -- per tier A-D, which care actions (:data:`vipmodel.schema.CARE_KINDS`), how many times a
   year, at what unit cost; hence the annual care spend per member of each tier. Stored as the versioned
   setting ``"care_plan"`` (:mod:`vipmodel.settings`) through :meth:`CarePlan.to_payload`.
   :func:`current_plan_from_history` reads what the mall actually did.
2. :class:`CareResponseModel` -- how the probability of churn responds to the care spend of a year,
   calibrated on the mall's own history (:func:`care_panel`, i.e. :func:`vipmodel.outcomes.churn_panel` rows
   plus the home store and the member's history), with diminishing returns:

   ``logit P(churn) = a_tier + x'gamma - beta * log1p(care_cost / c0)``.

3. :func:`simulate` -- for a plan: expected members retained, retained value, spend, ROI, break-even spend,
   uncertainty bands (joint draws of ``beta``, ``c0`` and tier baselines, member value, binomial noise), the
   comparison with the current plan, and whether the plan leaves the care range the history supports.
4. :func:`optimise_budget` -- the split of a total budget across tiers that maximises retained value, the
   actions that spend it, and the marginal value of the last yuan per tier.
5. Closed loop: :func:`plan_campaign` (random, reproducible holdout), :func:`record_campaign` (writes the
   treated members' actions into ``care_actions``), :func:`measure_campaign` (uplift with confidence
   intervals once the period has passed) and :func:`update_response` (feeds the measured effect back).

Identification and assumptions of the response model
-----------------------------------------------------
Care is not randomised in the history: the mall gives more care to members it values more -- typically by
what they spent the year *before* -- and some stores care more than others. The model therefore compares,
*within each tier*, members who received more care with comparable members who received less. "Comparable"
means the same sales, complaints, home store and year, and the same history (:func:`care_panel`): whether the
member joined during the year, whether and how much they bought the year before, and how often they came.

The history matters. A newcomer has no previous-year value, so value-based care passes them by (and they join
after some of the year's mailings), while they churn more for reasons of their own: members who have stayed a
year or more are the survivors of earlier churn, selected on a satisfaction the data do not show, and
newcomers are not yet selected (Vaupel, Manton & Stallard [10]_). A model without the newcomer control reads
their churn as the effect of the first yuan of care: the curve starts too steeply, so ``c0`` and ``beta`` come
out too low (on 30 demo malls: median ``c0`` 69 instead of 100 and median ``beta`` 0.41 instead of 0.5 without
it; 89 and 0.47 with it). Previous-year sales -- what the targeting looks at -- and the purchase frequency
(observed churn is "no purchase next year", which a rare buyer shows even when they stayed) close the other
back-door paths (Pearl [11]_).

* ``method="controls"`` (default): regression adjustment -- the logistic outcome model with these controls.
* ``method="ipw"``: the same outcome model, weighted by stabilised inverse-propensity weights for a continuous
  treatment (the generalised propensity score of Hirano & Imbens [2]_, as in marginal structural models,
  Robins, Hernan & Brumback [1]_): within each tier, the dose ``T = log1p(care_cost / c0)`` is modelled as
  normal given the controls (linear regression); the weight is ``f(T | tier) / f(T | tier, x)``, truncated at
  the 1st and 99th percentiles (Cole & Hernan [3]_) and normalised to mean 1 per tier (consistent if either
  the propensity or the outcome model is right, Kang & Schafer [4]_). The estimated ``beta`` is still the
  *conditional* log-odds effect, the quantity the simulation uses. It is not the default: a mall's care dose
  is zero-inflated and lumpy (most members get a few yuan of SMS, targeted ones a gift or an event worth
  80-300), which a normal dose model describes poorly, so the weights add noise without removing bias (on the
  30 demo malls the weighted estimates scatter more and their intervals cover the truth less often).

Assumptions: (i) no unmeasured confounding given tier, sales, complaints, home store, year and history -- a
member's care does not depend on anything else that also drives churn; (ii) the yearly care cost is a
sufficient summary of the actions (one yuan of phone greetings works like one yuan of gifts); (iii) one
``beta`` for all tiers (tiers differ in their baseline churn ``a_tier``, hence in the effect on the
probability scale); (iv) the response has the shape ``log1p(care / c0)``: ``c0`` is estimated by profile
likelihood over a grid, unless the caller fixes it. The data identify ``c0`` weakly: on a 20,000-member demo
mall the 95% interval often spans a factor of ten or more, ``beta`` moves with it, and even with the exact
model the estimate of ``c0`` scatters over a factor of about ten between malls drawn alike (10th-90th
percentile 35-390 when the truth is 100).

Uncertainty
-----------
Intervals are profile-likelihood intervals whose critical values come from a member-cluster bootstrap
(rows of the same member are resampled together), not from the chi-squared approximation, which a weakly
identified ``c0``, correlated rows of one member and (with ``method="ipw"``) weights all upset (Hall [8]_,
Venzon & Moolgavkar [9]_). The bootstrap replicates are one-step (score) approximations (Kline & Santos [7]_)
at every ``c0`` of the grid; the critical value is never below the chi-squared one (the bootstrap may widen,
never narrow, the likelihood-ratio interval). Percentile intervals of the bootstrap maxima are not used: when
the estimate of ``c0`` lands far from the truth, the bootstrap maxima stay around the estimate and the interval
misses the truth. The joint draws (``draws_``) take ``c0`` from the confidence distribution of the calibrated
profile (its central 95% is the interval) and each pairs it with one bootstrap replicate's coefficients at
that ``c0``; the propensity weights are held at their full-sample values.

Support: the history only shows what care members actually received. :attr:`CareResponseModel.care_support_`
is, per tier, a high quantile (default 95%) of the observed annual care per member; the curve beyond it is
the assumed shape extrapolated. :func:`simulate` flags plans beyond it and :func:`optimise_budget` stays
within it unless told otherwise (``support_scale``).

Simulation convention
---------------------
A member's churn log-odds at a given annual care spend ``c`` is ``eta_i - beta * log1p(c / c0)``. The
baseline ``eta_i`` comes, in order of preference, from the member's own ``churn_prob`` at their current
``care_cost`` (columns of ``members``), from the model's controls when the frame holds them, or from the
tier's average. The 5-95% bands run over joint draws ``(beta_d, c0_d, a_tier,d)`` of the bootstrap: a member
valued by the model takes the draw's tier baseline; a member with their own ``churn_prob`` keeps it at their
current care and the draw turns the curve around the tier's average current care. Each draw also scales the
tier's member value by the sampling error of its mean and adds the binomial noise of which members actually
stay (normal approximation of the sums), so the bands describe what the mall could observe.

References
----------
.. [1] Robins, J. M., Hernan, M. A. & Brumback, B. (2000). Marginal structural models and causal inference
   in epidemiology. *Epidemiology* 11(5), 550-560.
.. [2] Hirano, K. & Imbens, G. W. (2004). The propensity score with continuous treatments. In *Applied
   Bayesian Modeling and Causal Inference from Incomplete-Data Perspectives*, Wiley, 73-84.
.. [3] Cole, S. R. & Hernan, M. A. (2008). Constructing inverse probability weights for marginal
   structural models. *American Journal of Epidemiology* 168(6), 656-664.
.. [4] Kang, J. D. Y. & Schafer, J. L. (2007). Demystifying double robustness. *Statistical Science* 22(4),
   523-539.
.. [5] Newcombe, R. G. (1998). Interval estimation for the difference between independent proportions:
   comparison of eleven methods. *Statistics in Medicine* 17(8), 873-890.
.. [6] Welch, B. L. (1947). The generalization of "Student's" problem when several different population
   variances are involved. *Biometrika* 34(1-2), 28-35.
.. [7] Kline, P. & Santos, A. (2012). A score based approach to wild bootstrap inference. *Journal of
   Econometric Methods* 1(1), 23-41.
.. [8] Hall, P. (1987). On the bootstrap and likelihood-based confidence regions. *Biometrika* 74(3),
   481-493.
.. [9] Venzon, D. J. & Moolgavkar, S. H. (1988). A method for computing profile-likelihood-based confidence
   intervals. *Journal of the Royal Statistical Society, Series C* 37(1), 87-94.
.. [10] Vaupel, J. W., Manton, K. G. & Stallard, E. (1979). The impact of heterogeneity in individual frailty
   on the dynamics of mortality. *Demography* 16(3), 439-454.
.. [11] Pearl, J. (2009). *Causality: Models, Reasoning, and Inference*, 2nd ed. Cambridge University Press,
   section 3.3.1 (the back-door criterion).
.. [12] Schweder, T. & Hjort, N. L. (2016). *Confidence, Likelihood, Probability: Statistical Inference with
   Confidence Distributions*. Cambridge University Press, chapter 3.
.. [13] Fritsch, F. N. & Carlson, R. E. (1980). Monotone piecewise cubic interpolation. *SIAM Journal on
   Numerical Analysis* 17(2), 238-246.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import interpolate, optimize, sparse, stats
from scipy.special import expit, log_expit, logit
from sqlalchemy import Connection, Engine, and_, func, select

from vipmodel import schema
from vipmodel.contracts import require_columns
from vipmodel.db import as_date, read_frame
from vipmodel.features import member_features
from vipmodel.logistic import gram, matvec, rmatvec
from vipmodel.outcomes import COMPLAINT_STATUSES, add_years, churn_panel
from vipmodel.pyramid import DEFAULT_RULES, TierRules, assign_tiers
from vipmodel.reuse import shared_queries

TIERS: tuple[str, ...] = schema.TIERS
CARE_KINDS: tuple[str, ...] = schema.CARE_KINDS

DEFAULT_UNIT_COST: dict[str, float] = {
    "phone_greeting": 5.0,
    "birthday_gift": 80.0,
    "holiday_card": 8.0,
    "sms": 0.5,
    "event_invitation": 150.0,
    "lecture": 60.0,
}
# Upper limits of a reasonable plan (times per member and year); the optimiser never plans more.
DEFAULT_MAX_PER_YEAR: dict[str, float] = {
    "phone_greeting": 4.0,
    "birthday_gift": 1.0,
    "holiday_card": 4.0,
    "sms": 12.0,
    "event_invitation": 4.0,
    "lecture": 4.0,
}
PLAN_FRAME_COLUMNS: tuple[str, ...] = ("tier", "action", "per_year", "unit_cost", "annual_cost_per_member")
COMPLAINT_CONTROLS: tuple[str, ...] = tuple(
    f"{cat}_{status}" for cat in schema.COMPLAINT_CATEGORIES for status in COMPLAINT_STATUSES
)
SIMULATION_COLUMNS: tuple[str, ...] = (
    "tier",
    "members",
    "spend_per_member",
    "spend",
    "churn_rate_zero",
    "churn_rate",
    "retained_members_zero",
    "retained_members",
    "retained_members_p05",
    "retained_members_p95",
    "extra_retained_members",
    "retained_value_zero",
    "retained_value",
    "retained_value_p05",
    "retained_value_p95",
    "incremental_value",
    "roi",
    "roi_p05",
    "roi_p95",
    "break_even_spend_per_member",
    "break_even_spend",
    "supported_spend_per_member",
    "extrapolated",
)
ALLOCATION_COLUMNS: tuple[str, ...] = (
    "tier",
    "members",
    "spend_per_member",
    "spend",
    "retained_members",
    "retained_value",
    "incremental_value",
    "marginal_value_per_yuan",
    "max_spend_per_member",
    "supported_spend_per_member",
    "extrapolated",
)
# Member history the care model adjusts for when the panel has it (:func:`care_panel`, see there for why):
# joined during the year, bought in the previous year, previous-year sales, visits in the year.
HISTORY_CONTROLS: tuple[str, ...] = ("new_member", "prev_active", "prev_sales", "n_visits")
# Controls that enter as log1p(max(x, 0)) (money and counts with long right tails), like sales.
LOG_CONTROLS: frozenset[str] = frozenset({"prev_sales", "n_visits"})
CARE_PANEL_COLUMNS: tuple[str, ...] = ("store", "new_member", "prev_sales", "prev_active")
_CARE_TERM = "log1p_care"


# ------------------------------------------------------------------------------------------- validation


def _require(frame: Any, columns: Sequence[str], name: str) -> pd.DataFrame:
    return require_columns(frame, columns, name)


def _numeric(frame: pd.DataFrame, column: str, name: str) -> np.ndarray:
    try:
        values = frame[column].to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} column {column!r} must be numeric") from exc
    if not np.isfinite(values).all():
        raise ValueError(f"{name} column {column!r} has missing or infinite values; fill or drop them first")
    return values


def _tier_codes(frame: pd.DataFrame, name: str) -> np.ndarray:
    tiers = frame["tier"].astype(str).to_numpy()
    unknown = sorted(set(tiers) - set(TIERS))
    if unknown:
        raise ValueError(f"{name} column 'tier' has unknown tier(s): {', '.join(unknown)}; expected A, B, C, D")
    return pd.Categorical(tiers, categories=TIERS).codes.astype(np.int64)


def _nonneg_number(value: Any, name: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a number, got {type(value).__name__}") from exc
    if not math.isfinite(number) or number < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return number


def _unit_costs(unit_costs: Mapping[str, float] | None) -> dict[str, float]:
    costs = dict(DEFAULT_UNIT_COST if unit_costs is None else unit_costs)
    unknown = sorted(set(costs) - set(CARE_KINDS))
    if unknown:
        raise ValueError(f"unknown care action(s): {', '.join(unknown)}; expected one of {', '.join(CARE_KINDS)}")
    missing = [k for k in CARE_KINDS if k not in costs]
    if missing:
        raise ValueError(f"unit_costs is missing a cost for: {', '.join(missing)}")
    return {k: _nonneg_number(costs[k], f"unit cost of {k}") for k in CARE_KINDS}


@contextmanager
def _connection(bind: Engine | Connection, write: bool = False) -> Iterator[Connection]:
    # A Connection belongs to the caller (who commits); an Engine gets a short transaction of its own.
    if isinstance(bind, Connection):
        yield bind
    elif isinstance(bind, Engine):
        with bind.begin() if write else bind.connect() as conn:
            yield conn
    else:
        raise ValueError(f"conn must be a SQLAlchemy Engine or Connection, got {type(bind).__name__}")


# -------------------------------------------------------------------------------------------- care plan


@dataclass(frozen=True)
class CarePlan:
    """The maintenance plan table: per tier, care actions and how often a member receives them in a year.

    Parameters
    ----------
    per_year : mapping
        ``{tier: {action: times per member per year}}`` with tiers among A-D and actions among
        :data:`vipmodel.schema.CARE_KINDS`. Missing tiers and actions mean 0. Fractions are allowed and mean
        an average (1.5 phone greetings = half the members get two, half one, or a share of them).
    unit_costs : mapping, optional
        Cost in yuan of one action of each kind (default :data:`DEFAULT_UNIT_COST`); every kind needs a cost.

    Raises
    ------
    ValueError
        ``"unknown tier(s) in care plan: E; expected A, B, C, D"``, ``"unknown care action(s): ..."``,
        ``"times per year of sms for tier A must be a finite number >= 0, got -1"``,
        ``"unit_costs is missing a cost for: sms"``.
    """

    per_year: Mapping[str, Mapping[str, float]] = field(hash=False)
    unit_costs: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_UNIT_COST), hash=False)

    def __post_init__(self) -> None:
        if not isinstance(self.per_year, Mapping):
            raise ValueError(f"per_year must be a mapping tier -> {{action: times per year}}, "
                             f"got {type(self.per_year).__name__}")
        unknown = sorted(set(map(str, self.per_year)) - set(TIERS))
        if unknown:
            raise ValueError(f"unknown tier(s) in care plan: {', '.join(unknown)}; expected A, B, C, D")
        table: dict[str, dict[str, float]] = {}
        for tier in TIERS:
            actions = self.per_year.get(tier, {}) or {}
            if not isinstance(actions, Mapping):
                raise ValueError(f"actions of tier {tier} must be a mapping action -> times per year")
            bad = sorted(set(actions) - set(CARE_KINDS))
            if bad:
                raise ValueError(
                    f"unknown care action(s): {', '.join(map(str, bad))}; expected one of {', '.join(CARE_KINDS)}"
                )
            table[tier] = {k: _nonneg_number(actions.get(k, 0.0), f"times per year of {k} for tier {tier}")
                           for k in CARE_KINDS}
        object.__setattr__(self, "per_year", table)
        object.__setattr__(self, "unit_costs", _unit_costs(self.unit_costs))

    def annual_cost_per_member(self, tier: str) -> float:
        """Annual care spend on one member of ``tier``: sum of times per year x unit cost."""
        if tier not in TIERS:
            raise ValueError(f"unknown tier {tier!r}; expected A, B, C, D")
        return float(sum(n * self.unit_costs[k] for k, n in self.per_year[tier].items()))

    def cost_by_tier(self) -> dict[str, float]:
        """``{tier: annual cost per member}`` for A-D."""
        return {t: self.annual_cost_per_member(t) for t in TIERS}

    def as_frame(self) -> pd.DataFrame:
        """The maintenance plan table, one row per tier and planned action (times per year > 0).

        Returns
        -------
        DataFrame
            Columns :data:`PLAN_FRAME_COLUMNS`: ``tier``, ``action``, ``per_year``, ``unit_cost``,
            ``annual_cost_per_member`` (= per_year x unit_cost), ordered by tier then action.
        """
        rows = [
            (t, k, n, self.unit_costs[k], n * self.unit_costs[k])
            for t in TIERS
            for k, n in self.per_year[t].items()
            if n > 0
        ]
        return pd.DataFrame(rows, columns=list(PLAN_FRAME_COLUMNS))

    def to_payload(self) -> dict[str, Any]:
        """JSON for :func:`vipmodel.settings.save_setting` (kind ``"care_plan"``); zero entries are left out."""
        return {
            "per_year": {t: {k: n for k, n in acts.items() if n > 0} for t, acts in self.per_year.items()},
            "unit_costs": dict(self.unit_costs),
        }

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> CarePlan:
        """Rebuild a plan from :meth:`to_payload` output.

        Raises
        ------
        ValueError
            ``"care plan payload needs 'per_year'"`` and the constructor's messages.
        """
        if not isinstance(payload, Mapping) or "per_year" not in payload:
            raise ValueError("care plan payload needs 'per_year'")
        return cls(per_year=payload["per_year"], unit_costs=payload.get("unit_costs") or DEFAULT_UNIT_COST)

    @classmethod
    def from_spend(
        cls,
        spend_per_member: Mapping[str, float],
        unit_costs: Mapping[str, float] | None = None,
        max_per_year: Mapping[str, float] | None = None,
    ) -> CarePlan:
        """A plan that spends the given amount per member of each tier, cheapest actions first.

        Actions are filled in order of increasing unit cost up to ``max_per_year`` (default
        :data:`DEFAULT_MAX_PER_YEAR`); the last one takes a fractional frequency so the spend is met exactly.
        Cheapest first because, under the response model, a yuan works the same whatever the action, and
        cheap actions reach the member more often (more touch points).

        Raises
        ------
        ValueError
            ``"spend of tier A (2000) exceeds the most the plan allows per member (978)"``.
        """
        costs = _unit_costs(unit_costs)
        limits = _max_per_year(max_per_year)
        order = sorted((k for k in CARE_KINDS if costs[k] > 0), key=lambda k: (costs[k], CARE_KINDS.index(k)))
        cap = sum(limits[k] * costs[k] for k in order)
        per_year: dict[str, dict[str, float]] = {}
        for tier, spend in spend_per_member.items():
            remaining = _nonneg_number(spend, f"spend of tier {tier}")
            if remaining > cap * (1 + 1e-9) + 1e-9:
                raise ValueError(f"spend of tier {tier} ({remaining:g}) exceeds the most the plan allows per member"
                                 f" ({cap:g})")
            acts: dict[str, float] = {}
            for k in order:
                if remaining <= 1e-12:
                    break
                times = min(limits[k], remaining / costs[k])
                acts[k] = times
                remaining -= times * costs[k]
            per_year[str(tier)] = acts
        return cls(per_year=per_year, unit_costs=costs)


def _max_per_year(max_per_year: Mapping[str, float] | None) -> dict[str, float]:
    limits = dict(DEFAULT_MAX_PER_YEAR if max_per_year is None else max_per_year)
    unknown = sorted(set(limits) - set(CARE_KINDS))
    if unknown:
        raise ValueError(f"unknown care action(s): {', '.join(unknown)}; expected one of {', '.join(CARE_KINDS)}")
    return {k: _nonneg_number(limits.get(k, 0.0), f"max_per_year of {k}") for k in CARE_KINDS}


def current_plan_from_history(
    conn: Connection | Engine,
    start: dt.date,
    end: dt.date,
    rules: TierRules = DEFAULT_RULES,
) -> CarePlan:
    """What the mall actually did in ``[start, end]``: per tier, the average number of each action per member.

    Members are tiered on their features of the range (:func:`vipmodel.features.member_features`,
    :func:`vipmodel.pyramid.assign_tiers`) among members with at least one purchase in it; counts and costs
    of ``care_actions`` are aggregated per member and kind in SQL, averaged over *all* members of the tier
    (members without care count as zero) and scaled to a year (``365.25 / days in range``). Unit costs are
    the average recorded cost per action of each kind in the range (the default where a kind was not used).

    Returns
    -------
    CarePlan

    Raises
    ------
    ValueError
        ``"no member made a purchase between 2025-01-01 and 2025-12-31"`` and the messages of
        :func:`vipmodel.features.member_features`.
    """
    start, end = as_date(start, "start"), as_date(end, "end")
    with _connection(conn) as connection:
        feats = member_features(connection, start, end, period="range")
        active = feats[feats["n_transactions"] > 0]
        if active.empty:
            raise ValueError(f"no member made a purchase between {start} and {end}")
        tiers = assign_tiers(active, rules).astype(str)
        ca = schema.care_actions
        actions = read_frame(
            connection,
            select(ca.c.member_id, ca.c.kind, func.count().label("n"), func.sum(ca.c.cost).label("cost"))
            .where(and_(ca.c.action_date >= start, ca.c.action_date <= end))
            .group_by(ca.c.member_id, ca.c.kind),
        )
    years = ((end - start).days + 1) / 365.25
    costs = dict(DEFAULT_UNIT_COST)
    per_year: dict[str, dict[str, float]] = {}
    if not actions.empty:
        actions["cost"] = actions["cost"].astype(float)
        totals = actions.groupby("kind")[["n", "cost"]].sum()
        for kind, row in totals.iterrows():
            if row["n"] > 0:
                costs[str(kind)] = round(float(row["cost"]) / float(row["n"]), 2)
        actions["tier"] = actions["member_id"].map(tiers)
        counts = actions.dropna(subset=["tier"]).groupby(["tier", "kind"])["n"].sum()
    else:
        counts = pd.Series(dtype=float)
    size = tiers.value_counts()
    for tier in TIERS:
        n = int(size.get(tier, 0))
        per_year[tier] = {
            kind: round(float(counts.get((tier, kind), 0.0)) / n / years, 4) if n else 0.0 for kind in CARE_KINDS
        }
    return CarePlan(per_year=per_year, unit_costs=costs)


def care_panel(
    conn: Connection | Engine, as_of: dt.date, years: int = 2, rules: TierRules = DEFAULT_RULES
) -> pd.DataFrame:
    """:func:`vipmodel.outcomes.churn_panel` rows plus what the care model needs to compare like with like.

    Added columns (:data:`CARE_PANEL_COLUMNS`):

    * ``store`` -- the member's home store (``"(none)"`` without one). Care intensity varies by store within a
      tier, and stores can differ in clientele.
    * ``new_member`` -- 1 when the member joined during the feature window, else 0 (0 without a join date).
      A mall's care is usually targeted by the value a member showed *before* the year (previous-year
      spend), so a newcomer gets almost none, and is reached only by the mailings after the join date. A
      newcomer also churns more for reasons that have nothing to do with care: members who have stayed a year
      or more are the survivors of earlier churn, selected on their (unobserved) satisfaction, and newcomers are
      not yet (the "survivor" or frailty selection of panel survival data, Vaupel, Manton & Stallard 1979 [1]_).
      Without this control the care model reads the newcomers' churn as the effect of the first yuan of care
      (a spuriously steep start of the curve, ``c0`` and ``beta`` biased low).
    * ``prev_sales``, ``prev_active`` -- net sales in the year before the feature window and whether the member
      bought in it (0 and 0 when not, or when the data do not reach back that far). Previous-year value is what
      value-based care targeting looks at, so it is a confounder to adjust for (the back-door criterion,
      Pearl 2009 [2]_); it also carries the member's purchase rate beyond the current year's sales.

    Rows, order and the other columns are those of :func:`vipmodel.outcomes.churn_panel` (``n_visits``, the
    purchase frequency of the window, is among them). :class:`CareResponseModel` uses these columns when present.

    References
    ----------
    .. [1] Vaupel, J. W., Manton, K. G. & Stallard, E. (1979). The impact of heterogeneity in individual frailty
       on the dynamics of mortality. *Demography* 16(3), 439-454.
    .. [2] Pearl, J. (2009). *Causality: Models, Reasoning, and Inference*, 2nd ed. Cambridge University Press,
       section 3.3.1.
    """
    with _connection(conn) as connection, shared_queries():
        panel = churn_panel(connection, as_of, years, rules)
        m = schema.members
        info = (read_frame(connection, select(m.c.member_id, m.c.home_store, m.c.join_date)).set_index("member_id")
                if len(panel) else pd.DataFrame(columns=["home_store", "join_date"]))
        prev_sales = pd.Series(np.nan, index=panel.index)
        for start in panel["window_start"].drop_duplicates() if len(panel) else ():
            start = as_date(start, "window_start")
            prev_end = start - dt.timedelta(days=1)
            feats = member_features(connection, add_years(prev_end, -1) + dt.timedelta(days=1), prev_end,
                                    period="range")
            bought = feats.loc[feats["n_transactions"] > 0].set_index("member_id")["sales"]
            rows = (panel["window_start"].map(lambda d: as_date(d, "window_start")) == start).to_numpy()
            prev_sales[rows] = panel.loc[rows, "member_id"].map(bought).to_numpy(dtype=float, na_value=np.nan)
    panel["store"] = panel["member_id"].map(info["home_store"]).fillna("(none)").astype(str)
    joined = pd.to_datetime(panel["member_id"].map(info["join_date"]), errors="coerce")
    starts = pd.to_datetime(panel["window_start"])
    panel["new_member"] = (joined >= starts).fillna(False).astype(int)
    panel["prev_active"] = prev_sales.notna().astype(int)
    panel["prev_sales"] = prev_sales.fillna(0.0).astype(float)
    return panel


# ------------------------------------------------------------------------------------- response model


_REPLICATES = 16  # bootstrap replicates whose member counts are made floats at once (0.17 GB at 1.3 M members)


def _replicate_sums(counts: np.ndarray, per_member: np.ndarray) -> np.ndarray:
    """``counts @ per_member`` for integer replicate counts (replicates x members), a few replicates at a time: the
    whole count matrix as floats would be 8 bytes per member and replicate."""
    out = np.empty((counts.shape[0], per_member.shape[1]))
    for lo in range(0, counts.shape[0], _REPLICATES):
        out[lo : lo + _REPLICATES] = counts[lo : lo + _REPLICATES].astype(np.float64) @ per_member
    return out


_COLUMN_BLOCK = 4  # columns of a row-scaled design copied at once (83 MB at 2.6 M rows, not the whole design's 0.5 GB)


def _cluster_sums(cluster: sparse.csr_matrix, X: np.ndarray, scale: np.ndarray,
                  extra: np.ndarray | None = None) -> np.ndarray:
    """``cluster @ (scale[:, None] * X)``, with ``cluster @ extra`` as one more column when given, a few columns at
    a time (the same sums, term for term, without a scaled copy of the whole design)."""
    out = np.empty((cluster.shape[0], X.shape[1] + (extra is not None)))
    for lo in range(0, X.shape[1], _COLUMN_BLOCK):
        hi = min(lo + _COLUMN_BLOCK, X.shape[1])
        out[:, lo:hi] = cluster @ (X[:, lo:hi] * scale[:, None])
    if extra is not None:
        out[:, -1] = cluster @ extra
    return out


def _set_dose(X: np.ndarray, care: np.ndarray, c0: float) -> np.ndarray:
    """Write the care dose ``log1p(care / c0)`` into the design's last column, in place; returns ``X``."""
    np.divide(care, c0, out=X[:, -1])
    np.log1p(X[:, -1], out=X[:, -1])
    return X


def _irls(
    X: np.ndarray, y: np.ndarray, w: np.ndarray, ridge: float, start: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Weighted logistic regression by Newton-Raphson; returns (coefficients, Hessian of the penalised
    negative log-likelihood). A small ridge keeps separated fits finite; ``start`` warm-starts a profile."""
    p = X.shape[1]
    beta = np.zeros(p) if start is None else np.asarray(start, dtype=float).copy()
    penalty = ridge * np.eye(p)
    for _ in range(100):
        mu = expit(matvec(X, beta))
        grad = rmatvec(X, w * (y - mu)) - ridge * beta
        hess = gram(X, w * mu * (1.0 - mu)) + penalty
        step = np.linalg.solve(hess, grad)
        beta = beta + step
        if np.max(np.abs(step)) < 1e-9:
            break
    mu = expit(matvec(X, beta))
    return beta, gram(X, w * mu * (1.0 - mu)) + penalty


def _loglik_rows(X: np.ndarray, y: np.ndarray, w: np.ndarray, coef: np.ndarray) -> np.ndarray:
    eta = matvec(X, coef)
    return w * (y * log_expit(eta) + (1.0 - y) * log_expit(-eta))


def _peak(grid: np.ndarray, loglik: np.ndarray) -> tuple[float, int, float]:
    """Maximiser of a profile log-likelihood tabulated on a log-spaced grid: the best grid point refined by the
    parabola through it and its neighbours (in log c0), clipped to them. Returns (c0, left index, share of the
    way to the next grid point) so that coefficients can be interpolated the same way."""
    j = int(np.argmax(loglik))
    if len(grid) == 1:
        return float(grid[0]), 0, 0.0
    x = np.log(grid)
    if 0 < j < len(grid) - 1:
        x0, x1, x2 = x[j - 1 : j + 2]
        y0, y1, y2 = loglik[j - 1 : j + 2]
        denom = (x0 - x1) * (x0 - x2) * (x1 - x2)
        a = (x2 * (y1 - y0) + x1 * (y0 - y2) + x0 * (y2 - y1)) / denom
        b = (x2**2 * (y0 - y1) + x1**2 * (y2 - y0) + x0**2 * (y1 - y2)) / denom
        xs = float(np.clip(-b / (2 * a), x0, x2)) if a < 0 else float(x1)
    else:
        xs = float(x[j])
    left = int(np.clip(np.searchsorted(x, xs, side="right") - 1, 0, len(grid) - 2))
    share = float(np.clip((xs - x[left]) / (x[left + 1] - x[left]), 0.0, 1.0))
    return float(np.exp(xs)), left, share


_LEVEL = 0.95
_FINE_POINTS = 241


def _interp_last(x: np.ndarray, values: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """Linear interpolation along the last axis of ``values`` (tabulated at increasing ``x``) at ``xs``, clamped
    to the ends."""
    if len(x) == 1:
        return np.repeat(values[..., :1], len(xs), axis=-1)
    j = np.clip(np.searchsorted(x, xs, side="right") - 1, 0, len(x) - 2)
    t = np.clip((xs - x[j]) / (x[j + 1] - x[j]), 0.0, 1.0)
    return values[..., j] * (1.0 - t) + values[..., j + 1] * t


def _smooth_last(x: np.ndarray, values: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """Shape-preserving cubic (PCHIP, Fritsch & Carlson [13]_) interpolation along the last axis: the profile
    log-likelihood between grid values of ``log c0`` without the overshoot of a spline."""
    if len(x) < 3:
        return _interp_last(x, values, xs)
    return interpolate.PchipInterpolator(x, values, axis=-1)(np.clip(xs, x[0], x[-1]))


def _interp_steps(x: np.ndarray, steps: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """Replicate ``b``'s coefficients (``steps[:, b]``, tabulated on the grid ``x`` of ``log c0``) at ``xs[b]``."""
    if len(x) == 1:
        return steps[0].copy()
    j = np.clip(np.searchsorted(x, xs, side="right") - 1, 0, len(x) - 2)
    t = np.clip((xs - x[j]) / (x[j + 1] - x[j]), 0.0, 1.0)[:, None]
    b = np.arange(steps.shape[1])
    return steps[j, b] * (1.0 - t) + steps[j + 1, b] * t


@dataclass(frozen=True)
class _Calibrated:
    """Profile-likelihood intervals of ``c0`` and ``beta`` with bootstrap-calibrated critical values."""

    c0_interval: tuple[float, float]
    beta_interval: tuple[float, float]
    k_c0: float
    k_beta: float
    x: np.ndarray  # fine grid of log c0
    signed_root: np.ndarray  # non-decreasing in x; N(0, 1) quantiles of the confidence distribution of c0

    def log_c0_quantile(self, z: np.ndarray) -> np.ndarray:
        """``log c0`` at standard normal quantiles ``z`` (clamped to the grid): the confidence distribution whose
        central ``_LEVEL`` interval is the calibrated interval."""
        if len(self.x) == 1:
            return np.full(len(z), self.x[0])
        return np.interp(z, self.signed_root, self.x)


def _calibrated_profile(
    grid: np.ndarray, loglik: np.ndarray, betas: np.ndarray, variances: np.ndarray, boot_loglik: np.ndarray,
    boot_betas: np.ndarray, c0_hat: float, beta_hat: float, level: float,
) -> _Calibrated:
    """Profile-likelihood intervals of ``c0`` and ``beta`` whose critical values come from the member-cluster
    bootstrap instead of the chi-squared approximation.

    The profile log-likelihood ``l(c0)`` (tabulated on ``grid``) is interpolated in ``log c0`` (PCHIP). The
    profile of ``beta`` maximises ``l(c0) - (beta - b(c0))^2 / (2 v(c0))`` over ``c0``, where ``b(c0)`` and
    ``v(c0)`` are the estimate of ``beta`` and its model-based variance at a fixed ``c0`` (the log-likelihood is
    quadratic in ``beta`` there to a very good approximation). An interval holds the values whose likelihood
    ratio statistic ``2 (max l - l)`` is at most ``k``.

    ``k`` is the ``level`` quantile of the same statistic in the bootstrap world, evaluated at the full-sample
    estimates (the truth of that world) on each replicate's profile (``boot_loglik``, ``boot_betas``: replicates
    x grid). This calibrates the likelihood ratio for what the chi-squared approximation misses here: ``c0`` is
    weakly identified (the profile is far from quadratic and flattens towards large ``c0``), rows of one member
    are correlated (resampling is by member), and with ``method="ipw"`` the weighted log-likelihood is not a
    likelihood (the weights scale it). ``k`` is never below the chi-squared quantile. Bootstrap calibration of
    a likelihood-ratio interval: Hall [8]_; profile-likelihood intervals for a nonlinear parameter: Venzon &
    Moolgavkar [9]_.

    The signed root ``sign(c0 - c0_hat) sqrt(LR(c0) / k) z_level`` (made monotone away from the peak) maps
    ``log c0`` to standard normal quantiles; its inverse turns normal draws into draws of ``c0`` whose central
    ``level`` interval is the calibrated one (a confidence distribution, Schweder & Hjort [12]_).
    """
    x = np.log(grid)
    xs = np.linspace(x[0], x[-1], _FINE_POINTS) if len(x) > 1 else x
    ll = _smooth_last(x, loglik, xs)
    b = _interp_last(x, betas, xs)
    v = np.maximum(_interp_last(x, variances, xs), 1e-12)
    boot_ll = _smooth_last(x, boot_loglik, xs)
    boot_b = _interp_last(x, boot_betas, xs)
    top = boot_ll.max(axis=1)
    at_c0 = _smooth_last(x, boot_loglik, np.array([math.log(c0_hat)]))[:, 0]
    lr_c0 = 2.0 * np.maximum(top - at_c0, 0.0)
    lr_beta = 2.0 * np.maximum(top - (boot_ll - (beta_hat - boot_b) ** 2 / (2.0 * v)).max(axis=1), 0.0)
    # Never below the chi-squared value: with a couple of hundred replicates the quantile is itself noisy, and
    # the bootstrap is there to widen the interval for what the approximation misses, not to narrow it.
    floor = float(stats.chi2.ppf(level, 1))
    k_c0, k_beta = (max(float(np.quantile(lr, level)), floor) for lr in (lr_c0, lr_beta))
    lr = 2.0 * (ll.max() - ll)
    inside = lr <= k_c0
    c0_interval = (max(float(np.exp(xs[inside].min())), float(grid[0])),
                   min(float(np.exp(xs[inside].max())), float(grid[-1])))
    half = 2.0 * v * (ll - ll.max() + k_beta / 2.0)
    ok = half >= 0
    if ok.any():
        beta_interval = (float((b[ok] - np.sqrt(half[ok])).min()), float((b[ok] + np.sqrt(half[ok])).max()))
    else:
        beta_interval = (beta_hat, beta_hat)
    # Signed root of the likelihood ratio, made monotone away from the peak and scaled so that k maps to the normal
    # quantile of the level: its inverse at standard normal draws gives c0 draws with the interval as quantiles.
    peak = int(np.argmin(np.abs(xs - math.log(c0_hat))))
    mono = np.concatenate([np.maximum.accumulate(lr[: peak + 1][::-1])[::-1], np.maximum.accumulate(lr[peak:])[1:]])
    scale = stats.norm.ppf(0.5 + level / 2.0) / math.sqrt(max(k_c0, 1e-12))
    root = np.sign(xs - xs[peak]) * np.sqrt(mono) * scale
    root = root + 1e-9 * np.arange(len(root))  # strictly increasing for the inverse
    return _Calibrated(c0_interval=c0_interval, beta_interval=beta_interval, k_c0=k_c0, k_beta=k_beta, x=xs,
                       signed_root=root)


@dataclass(frozen=True)
class _Design:
    columns: tuple[str, ...]
    stores: tuple[str, ...]
    periods: tuple[str, ...] = ()


DEFAULT_C0_GRID: tuple[float, ...] = tuple(float(v) for v in np.geomspace(5.0, 5000.0, 21))
DRAW_COLUMNS: tuple[str, ...] = ("beta", "c0", *(f"tier[{t}]" for t in TIERS))


class CareResponseModel:
    """Churn as a function of annual care spend, within tier, with diminishing returns.

    ``logit P(churn) = a_tier + gamma' x - beta * log1p(care_cost / c0)`` (see the module docstring for the
    method and its assumptions). ``x`` holds ``log1p(sales)`` (negative sales count as 0), the complaint
    counts by category and handling status, the member's history when the panel has it (``new_member``,
    ``prev_active``, ``log1p(prev_sales)``, ``log1p(n_visits)``; :data:`HISTORY_CONTROLS`), and home-store and
    year indicators. ``c0`` -- the spend at which returns start to diminish -- is estimated by profile
    likelihood over ``c0_grid`` unless it is given.

    Parameters
    ----------
    method : {"controls", "ipw"}, default "controls"
        Regression adjustment, or inverse-propensity-weighted regression adjustment (module docstring).
    c0 : float or None, default None
        ``None`` estimates ``c0`` (profile likelihood, with its bootstrap interval); a number fixes it (a
        scenario, a hand-checked case). Yuan per year, > 0.
    c0_grid : sequence of float, optional
        Candidate values of ``c0`` (default :data:`DEFAULT_C0_GRID`: 21 log-spaced values from 5 to 5,000 yuan).
        The estimate is refined between grid points; an interval that reaches an end of the grid means the data
        do not bound ``c0`` on that side.
    controls : sequence of str, optional
        Count/numeric columns of the outcome model; those in :data:`LOG_CONTROLS` enter as ``log1p``, the others
        as they are. Default: the complaint-count columns of :data:`vipmodel.outcomes.PANEL_COLUMNS` and the
        history columns :data:`HISTORY_CONTROLS` that the panel has (all required when given explicitly).
    store_column : str or None, default "store"
        Categorical column of home stores (as :func:`care_panel` adds); used when present, ``None`` to ignore.
    period_column : str or None, default "window_end"
        Categorical column of the panel's years (baseline churn may differ from year to year); used when present
        with more than one value, ``None`` to ignore.
    n_bootstrap : int, default 200
        Cluster-bootstrap replicates (resampling members) behind the intervals and ``draws_``; 0 for none.
    weight_clip : (float, float), default (0.01, 0.99)
        Quantiles at which the inverse-propensity weights are truncated.
    support_quantile : float, default 0.95
        Quantile of the observed annual care per member (per tier) up to which the history supports the curve
        (``care_support_``); spend beyond it is extrapolation.
    seed : int, default 0
        Seed of the bootstrap.

    Attributes
    ----------
    beta_ : float
        Care effect (log-odds of churn lowered per unit of ``log1p(care/c0_)``); > 0 means care retains.
    c0_ : float
        The ``c0`` in use (estimated, or the one given).
    c0_interval_, beta_interval_ : (float, float)
        95% profile-likelihood intervals with bootstrap-calibrated critical values (module docstring); an end
        at the edge of ``c0_grid`` means the data do not bound the parameter on that side. ``c0_interval_`` is
        ``(c0_, c0_)`` when ``c0`` is fixed; both are NaN without bootstrap.
    critical_values_ : dict
        ``{"c0": k, "beta": k}``: the likelihood-ratio critical values behind the intervals (the bootstrap's 95%
        quantile, at least the chi-squared 3.84; NaN without bootstrap).
    c0_profile_ : DataFrame
        ``c0``, ``loglik`` (profile log-likelihood minus its maximum) and ``beta`` at each grid value.
    coef_ : pandas.Series
        All outcome-model coefficients (``tier[A]``.., controls, ``store[...]``, ``log1p_care = -beta_``).
    draws_ : DataFrame
        Joint draws, columns :data:`DRAW_COLUMNS`: ``beta``, ``c0`` and each tier's baseline log-odds at zero
        care ``tier[A]``..``tier[D]``: ``c0`` from the calibrated profile's confidence distribution, the rest
        from one bootstrap replicate at that ``c0`` (one row ``[beta_, c0_, tier_logit_]`` without bootstrap).
    beta_draws_ : ndarray
        ``draws_["beta"]``.
    beta_se_ : float
        Standard deviation of ``beta_draws_`` (NaN without bootstrap); includes the uncertainty of ``c0``.
    beta_se_given_c0_ : float
        Bootstrap standard deviation of ``beta`` with ``c0`` held at ``c0_`` (for comparisons made at ``c0_``).
    tier_logit_ : dict
        Per tier, the average linear predictor without the care term (baseline log-odds at zero care of the
        tier's average member).
    tier_care_ : dict
        Per tier, the average observed ``log1p(care_cost / c0_)`` (where the data pin the curve down).
    care_support_ : dict
        Per tier, the ``support_quantile`` of the observed annual care per member (yuan): the history supports
        the curve from 0 up to it.
    n_rows_ : int
        Panel rows used.

    Raises
    ------
    ValueError
        ``"method must be 'ipw' or 'controls'; got 'x'"``, ``"c0 must be a finite number > 0"``,
        ``"c0_grid must hold at least 3 increasing numbers > 0"``, ``"n_bootstrap must be an integer >= 0"``,
        ``"weight_clip must be two quantiles 0 <= low < high <= 1"``,
        ``"support_quantile must be a number between 0.5 and 1"``.
    """

    def __init__(
        self,
        method: str = "controls",
        c0: float | None = None,
        c0_grid: Sequence[float] | None = None,
        controls: Sequence[str] | None = None,
        store_column: str | None = "store",
        period_column: str | None = "window_end",
        n_bootstrap: int = 200,
        weight_clip: tuple[float, float] = (0.01, 0.99),
        support_quantile: float = 0.95,
        seed: int = 0,
    ) -> None:
        if method not in ("ipw", "controls"):
            raise ValueError(f"method must be 'ipw' or 'controls'; got {method!r}")
        if c0 is not None and (isinstance(c0, bool) or not isinstance(c0, (int, float, np.integer, np.floating))
                               or not math.isfinite(c0) or c0 <= 0):
            raise ValueError("c0 must be a finite number > 0")
        grid = np.asarray(DEFAULT_C0_GRID if c0_grid is None else c0_grid, dtype=float)
        if grid.ndim != 1 or len(grid) < 3 or not np.isfinite(grid).all() or (grid <= 0).any() or (
            np.diff(grid) <= 0
        ).any():
            raise ValueError("c0_grid must hold at least 3 increasing numbers > 0")
        if isinstance(n_bootstrap, bool) or not isinstance(n_bootstrap, (int, np.integer)) or n_bootstrap < 0:
            raise ValueError("n_bootstrap must be an integer >= 0")
        lo, hi = weight_clip
        if not (0.0 <= lo < hi <= 1.0):
            raise ValueError("weight_clip must be two quantiles 0 <= low < high <= 1")
        if isinstance(support_quantile, bool) or not isinstance(support_quantile, (int, float)) or not (
            0.5 <= support_quantile <= 1.0
        ):
            raise ValueError("support_quantile must be a number between 0.5 and 1")
        self.method = method
        self.c0 = None if c0 is None else float(c0)
        self.c0_grid = tuple(float(v) for v in grid)
        self.controls = None if controls is None else tuple(controls)
        self.store_column = store_column
        self.period_column = period_column
        self.n_bootstrap = int(n_bootstrap)
        self.weight_clip = (float(lo), float(hi))
        self.support_quantile = float(support_quantile)
        self.seed = seed

    # -- construction without data (hand cases, scenario inputs, updates)
    @classmethod
    def from_coefficients(
        cls,
        beta: float,
        tier_logit: Mapping[str, float],
        c0: float = 100.0,
        beta_draws: Sequence[float] | None = None,
        tier_care: Mapping[str, float] | None = None,
        *,
        c0_draws: Sequence[float] | None = None,
        tier_logit_draws: pd.DataFrame | Mapping[str, Sequence[float]] | None = None,
        care_support: Mapping[str, float] | None = None,
    ) -> CareResponseModel:
        """A fitted-looking model from given numbers: effect ``beta``, baseline log-odds per tier at zero care.

        Used for scenarios ("what if care worked twice as well"), hand-checked cases and
        :func:`vipmodel.campaigns.update_response`. ``tier_care`` is each tier's reference ``log1p(care/c0)``
        (default 0). ``beta_draws`` (and, of the same length, ``c0_draws`` and ``tier_logit_draws`` per tier)
        are joint draws for the bands; missing ones repeat the point value. ``care_support`` is each tier's
        supported annual care per member (default: unbounded, nothing is marked as extrapolation).

        Raises
        ------
        ValueError
            ``"tier_logit needs a value for every tier; missing D"``, ``"beta_draws must be a non-empty sequence
            of finite numbers"``, ``"c0_draws must have one finite value > 0 per beta draw"``,
            ``"tier_logit_draws must have one finite value per beta draw for every tier"``.
        """
        model = cls(method="controls", c0=c0, controls=(), store_column=None, period_column=None, n_bootstrap=0)
        missing = [t for t in TIERS if t not in tier_logit]
        if missing:
            raise ValueError(f"tier_logit needs a value for every tier; missing {', '.join(missing)}")
        model.beta_ = float(beta)
        model.c0_ = float(c0)
        model.tier_logit_ = {t: float(tier_logit[t]) for t in TIERS}
        model.tier_care_ = {t: float((tier_care or {}).get(t, 0.0)) for t in TIERS}
        draws = np.asarray([beta] if beta_draws is None else beta_draws, dtype=float)
        if draws.ndim != 1 or len(draws) == 0 or not np.isfinite(draws).all():
            raise ValueError("beta_draws must be a non-empty sequence of finite numbers")
        c0s = np.full(len(draws), model.c0_) if c0_draws is None else np.asarray(c0_draws, dtype=float)
        if c0s.shape != draws.shape or not np.isfinite(c0s).all() or (c0s <= 0).any():
            raise ValueError("c0_draws must have one finite value > 0 per beta draw")
        frame = pd.DataFrame({"beta": draws, "c0": c0s})
        for t in TIERS:
            values = (np.full(len(draws), model.tier_logit_[t]) if tier_logit_draws is None
                      else np.asarray(tier_logit_draws[t], dtype=float))
            if values.shape != draws.shape or not np.isfinite(values).all():
                raise ValueError("tier_logit_draws must have one finite value per beta draw for every tier")
            frame[f"tier[{t}]"] = values
        model._set_draws(frame)
        model.beta_se_given_c0_ = model.beta_se_
        support = care_support or {}
        model.care_support_ = {t: float(support.get(t, math.inf)) for t in TIERS}
        # Reference care per tier (yuan) behind tier_care, so that draws of c0 can move it consistently.
        model._care_levels = {t: np.array([model.c0_ * math.expm1(model.tier_care_[t])]) for t in TIERS}
        model.c0_interval_ = (float(np.quantile(c0s, 0.025)), float(np.quantile(c0s, 0.975)))
        model.beta_interval_ = (float(np.quantile(draws, 0.025)), float(np.quantile(draws, 0.975)))
        model.c0_profile_ = pd.DataFrame({"c0": [model.c0_], "loglik": [0.0], "beta": [model.beta_]})
        model.coef_ = pd.Series({**{f"tier[{t}]": model.tier_logit_[t] for t in TIERS}, _CARE_TERM: -model.beta_})
        model._design = _Design(columns=(), stores=())
        model.n_rows_ = 0
        return model

    def _set_draws(self, frame: pd.DataFrame) -> None:
        self.draws_ = frame[list(DRAW_COLUMNS)].reset_index(drop=True)
        self.beta_draws_ = self.draws_["beta"].to_numpy()
        self.beta_se_ = float(np.std(self.beta_draws_, ddof=1)) if len(frame) > 1 else float("nan")

    # -- fitting
    def _check_fitted(self) -> None:
        if not hasattr(self, "beta_"):
            raise ValueError("the model is not fitted; call fit(panel) first")

    def _x(self, frame: pd.DataFrame, design: _Design, name: str) -> np.ndarray:
        # Filled column by column: a list of columns and their stacked copy would hold the controls twice.
        dummies = [(column, levels[1:]) for column, levels in ((self.store_column, design.stores),
                                                              (self.period_column, design.periods)) if levels]
        out = np.empty((len(frame), 1 + len(design.columns) + sum(len(levels) for _, levels in dummies)))
        out[:, 0] = np.log1p(np.maximum(_numeric(frame, "sales", name), 0.0))
        for j, c in enumerate(design.columns, start=1):
            values = _numeric(frame, c, name)
            out[:, j] = np.log1p(np.maximum(values, 0.0)) if c in LOG_CONTROLS else values
        j = 1 + len(design.columns)
        for column, levels in dummies:
            codes = frame[column].astype(str).to_numpy()
            for level in levels:
                out[:, j] = codes == level
                j += 1
        return out

    def _names(self, design: _Design) -> list[str]:
        return ["log1p_sales", *(f"log1p_{c}" if c in LOG_CONTROLS else c for c in design.columns),
                *(f"store[{s}]" for s in design.stores[1:]), *(f"period[{s}]" for s in design.periods[1:])]

    def _ipw(self, T: np.ndarray, tier: np.ndarray, Z: np.ndarray, w: np.ndarray) -> np.ndarray:
        """Stabilised generalised-propensity weights for the dose ``T``, fitted within each tier."""
        out = np.ones(len(T))
        for t in range(len(TIERS)):
            rows = tier == t
            if not rows.any():
                continue
            zt, Tt, wt = Z[rows], T[rows], w[rows]
            design = np.hstack([np.ones((len(Tt), 1)), zt])
            coef = np.linalg.lstsq(gram(design, wt), rmatvec(design, wt * Tt), rcond=None)[0]
            resid = Tt - matvec(design, coef)
            total = max(wt.sum(), 1.0)
            sd_cond = math.sqrt(max(float((wt * resid**2).sum() / total), 1e-12))
            mean = float((wt * Tt).sum() / total)
            sd_marg = math.sqrt(max(float((wt * (Tt - mean) ** 2).sum() / total), 1e-12))
            log_w = stats.norm.logpdf(Tt, mean, sd_marg) - stats.norm.logpdf(Tt, Tt - resid, sd_cond)
            out[rows] = np.exp(log_w)
        lo, hi = np.quantile(out[w > 0], self.weight_clip) if (w > 0).any() else (0.0, np.inf)
        out = np.clip(out, lo, hi)
        for t in range(len(TIERS)):
            rows = tier == t
            if rows.any():
                out[rows] /= max(float((w[rows] * out[rows]).sum() / max(w[rows].sum(), 1.0)), 1e-12)
        return out

    @staticmethod
    def _profile(
        X: np.ndarray, care: np.ndarray, y: np.ndarray, w: np.ndarray, grid: np.ndarray
    ) -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray]:
        """Fits at every ``c0`` of the grid (each warm-started from its neighbour): coefficients, Hessians and
        the profile log-likelihood. ``X``'s last column is the care dose, rewritten for each ``c0``."""
        coefs, hessians, loglik = [], [], np.empty(len(grid))
        start = None
        for g, c0 in enumerate(grid):
            _set_dose(X, care, c0)
            coef, hess = _irls(X, y, w, ridge=1e-6, start=start)
            coefs.append(coef)
            hessians.append(hess)
            loglik[g] = float(_loglik_rows(X, y, w, coef).sum())
            start = coef
        return coefs, hessians, loglik

    def fit(self, panel: pd.DataFrame) -> CareResponseModel:
        """Estimate the response on member-year rows (:func:`care_panel` / :func:`vipmodel.outcomes.churn_panel`).

        ``c0`` (unless given) maximises the profile log-likelihood over ``c0_grid`` (refined by a parabola in
        ``log c0`` between grid points); with ``method="ipw"`` the propensity weights are those of the dose
        ``log1p(care / c0)`` at the unweighted profile's maximum, held fixed while the weighted profile is
        maximised. Uncertainty: a one-step (score) cluster bootstrap over members (Kline & Santos [7]_) at
        every grid value gives each replicate's profile (its log-likelihood to second order); the intervals are
        profile-likelihood intervals whose critical values are the replicates' 95% quantile of the same
        statistic (:func:`_calibrated_profile`), and the joint draws (``draws_``) follow them.

        Parameters
        ----------
        panel : DataFrame
            Needs ``tier`` (A-D), ``care_cost`` (>= 0), ``sales``, ``churned`` (bool) and the ``controls``;
            ``member_id`` (bootstrap clusters; rows are their own cluster without it) and the store column
            are used when present. Every tier needs rows with and without churn.

        Returns
        -------
        self

        Raises
        ------
        ValueError
            ``"panel is missing columns: care_cost"``, ``"panel is empty (no rows)"``,
            ``"panel column 'care_cost' must be >= 0"``,
            ``"panel has no rows for tier(s) D; the response model needs every tier"``,
            ``"panel tier B has no variation in churn (all rows churned or all stayed)"``,
            ``"panel has no variation in care_cost; the care effect cannot be estimated"``.
        """
        controls = (*COMPLAINT_CONTROLS, *HISTORY_CONTROLS) if self.controls is None else self.controls
        if self.controls is None:
            controls = tuple(c for c in controls if isinstance(panel, pd.DataFrame) and c in panel.columns)
        _require(panel, ("tier", "care_cost", "sales", "churned", *controls), "panel")
        tier = _tier_codes(panel, "panel")
        absent = [TIERS[t] for t in range(len(TIERS)) if not (tier == t).any()]
        if absent:
            raise ValueError(f"panel has no rows for tier(s) {', '.join(absent)}; the response model needs every tier")
        care = _numeric(panel, "care_cost", "panel")
        if (care < 0).any():
            raise ValueError("panel column 'care_cost' must be >= 0")
        if np.ptp(care) == 0:
            raise ValueError("panel has no variation in care_cost; the care effect cannot be estimated")
        y = _numeric(panel, "churned", "panel")
        for t in range(len(TIERS)):
            yt = y[tier == t]
            if yt.min() == yt.max():
                raise ValueError(f"panel tier {TIERS[t]} has no variation in churn (all rows churned or all stayed)")
        use_store = self.store_column is not None and self.store_column in panel.columns
        stores = tuple(sorted(panel[self.store_column].astype(str).unique())) if use_store else ()
        use_period = self.period_column is not None and self.period_column in panel.columns
        periods = tuple(sorted(panel[self.period_column].astype(str).unique())) if use_period else ()
        design = _Design(columns=tuple(controls), stores=stores, periods=periods if len(periods) > 1 else ())
        Xc = self._x(panel, design, "panel")
        # Controls are centred so each tier intercept is the log-odds of the tier's average member.
        centre = Xc.mean(axis=0)
        tier_means = np.stack([(Xc[tier == i].mean(axis=0) - centre) for i in range(len(TIERS))])
        # One design for every fit: tier intercepts, centred controls and, last, the care dose, which each c0
        # rewrites in place (a design per c0 would be 0.5 GB more at a million members).
        X = np.empty((len(y), len(TIERS) + Xc.shape[1] + 1))
        X[:, : len(TIERS)] = tier[:, None] == np.arange(len(TIERS))[None, :]
        np.subtract(Xc, centre, out=X[:, len(TIERS) : -1])
        Z = Xc if self.method == "ipw" else None
        del Xc
        grid = np.array([self.c0]) if self.c0 is not None else np.asarray(self.c0_grid)
        ones = np.ones(len(y))
        weights = ones
        if Z is not None:
            # The dose of the propensity model needs a c0: the unweighted profile's maximum (data-driven).
            pilot = grid[0] if len(grid) == 1 else _peak(grid, self._profile(X, care, y, ones, grid)[2])[0]
            weights = self._ipw(np.log1p(care / pilot), tier, Z, ones)
            del Z
        coefs, hessians, loglik = self._profile(X, care, y, weights, grid)
        c0, left, share = _peak(grid, loglik)
        start = coefs[left] if len(grid) == 1 else (1 - share) * coefs[left] + share * coefs[left + 1]
        coef, hess = _irls(_set_dose(X, care, c0), y, weights, ridge=1e-6, start=start)

        names = [f"tier[{t}]" for t in TIERS] + self._names(design) + [_CARE_TERM]
        self._design = design
        self._centre = centre
        self.coef_ = pd.Series(coef, index=names)
        self.beta_ = float(-coef[-1])
        self.c0_ = float(c0)
        # Tier baseline = intercept + the tier's mean controls (centred) x gamma, for point and draws alike.
        def tier_logits(c: np.ndarray) -> np.ndarray:
            c = np.atleast_2d(c)
            return c[:, : len(TIERS)] + c[:, len(TIERS) : -1] @ tier_means.T

        self.tier_logit_ = dict(zip(TIERS, map(float, tier_logits(coef)[0])))
        self.tier_care_ = {t: float(np.log1p(care[tier == i] / c0).mean()) for i, t in enumerate(TIERS)}
        self._care_levels = {t: np.quantile(care[tier == i], np.linspace(0.0, 1.0, 101)) for i, t in enumerate(TIERS)}
        self.care_support_ = {t: float(np.quantile(care[tier == i], self.support_quantile))
                              for i, t in enumerate(TIERS)}
        self.n_rows_ = int(len(y))
        betas_at_grid = [-float(c[-1]) for c in coefs]
        self.c0_profile_ = pd.DataFrame({"c0": grid, "loglik": loglik - loglik.max(), "beta": betas_at_grid})

        point = pd.DataFrame([[self.beta_, c0, *tier_logits(coef)[0]]], columns=list(DRAW_COLUMNS))
        self.beta_se_given_c0_ = float("nan")
        self.critical_values_ = {"c0": float("nan"), "beta": float("nan")}
        if self.n_bootstrap:
            cluster = self._clusters(panel, len(y))
            counts = self._replicate_counts(cluster.shape[0])
            boot = self._profile_bootstrap(X, care, y, weights, grid, coefs, hessians, loglik, counts, cluster)
            variances = np.array([np.linalg.inv(h)[-1, -1] for h in hessians])
            calibrated = _calibrated_profile(
                grid, loglik, np.array(betas_at_grid), variances, boot["loglik"], -boot["steps"][:, :, -1].T,
                c0, self.beta_, _LEVEL,
            )
            self.c0_interval_ = (min(calibrated.c0_interval[0], c0), max(calibrated.c0_interval[1], c0))
            self.beta_interval_ = (min(calibrated.beta_interval[0], self.beta_),
                                   max(calibrated.beta_interval[1], self.beta_))
            self.critical_values_ = {"c0": calibrated.k_c0, "beta": calibrated.k_beta}
            # Joint draws for the bands: c0 from the calibrated profile's confidence distribution, each paired with
            # one bootstrap replicate's coefficients at that c0 (so beta and the tier baselines move with c0 and
            # keep the member-cluster sampling error at a given c0).
            z = np.random.default_rng(None if self.seed is None else [self.seed, 1]).standard_normal(self.n_bootstrap)
            x_draw = calibrated.log_c0_quantile(z)
            coef_draws = _interp_steps(np.log(grid), boot["steps"], x_draw)
            frame = pd.DataFrame({"beta": -coef_draws[:, -1], "c0": np.exp(x_draw)})
            for i, t in enumerate(TIERS):
                frame[f"tier[{t}]"] = tier_logits(coef_draws)[:, i]
            self._set_draws(frame)
            at_c0 = self._one_step(_set_dose(X, care, c0), y, weights, coef, hess, counts, cluster)
            self.beta_se_given_c0_ = float(np.std(-at_c0[:, -1], ddof=1)) if len(at_c0) > 1 else float("nan")
        else:
            self._set_draws(point)
            self.c0_interval_ = self.beta_interval_ = (float("nan"), float("nan"))
        if self.c0 is not None:
            self.c0_interval_ = (self.c0_, self.c0_)
        return self

    @staticmethod
    def _clusters(panel: pd.DataFrame, n: int) -> sparse.csr_matrix:
        """Cluster indicator (members x rows): ``C @ values`` sums rows of the same member."""
        cluster = pd.factorize(panel["member_id"])[0] if "member_id" in panel.columns else np.arange(n)
        return sparse.csr_matrix((np.ones(n), (cluster, np.arange(n))), shape=(int(cluster.max()) + 1, n))

    def _replicate_counts(self, n_clusters: int) -> np.ndarray:
        """Multinomial member counts of each bootstrap replicate minus 1 (replicates x members), seeded.

        Small integers (a member drawn 13 times in a million draws is already rare), kept as ``int8``: as floats
        they took 2.1 GB at a million members; :func:`_replicate_sums` multiplies them a block at a time.
        """
        rng = np.random.default_rng(self.seed)
        out = np.empty((self.n_bootstrap, n_clusters), dtype=np.int8)
        for b in range(self.n_bootstrap):
            drawn = np.bincount(rng.integers(0, n_clusters, n_clusters), minlength=n_clusters) - 1
            if drawn.max(initial=0) > np.iinfo(out.dtype).max:  # never seen; keep the counts exact all the same
                out = out.astype(np.int32)
            out[b] = drawn
        return out

    def _one_step(
        self, X: np.ndarray, y: np.ndarray, w: np.ndarray, coef: np.ndarray, hess: np.ndarray, counts: np.ndarray,
        cluster: sparse.csr_matrix,
    ) -> np.ndarray:
        """One-step (score) cluster bootstrap at a fixed ``c0``: each replicate is one Newton step from the
        full-sample fit with member counts as frequency weights (Kline & Santos 2012)."""
        scores = _cluster_sums(cluster, X, w * (y - expit(matvec(X, coef))))
        return coef + np.linalg.solve(hess, _replicate_sums(counts, scores).T).T

    def _profile_bootstrap(
        self, X: np.ndarray, care: np.ndarray, y: np.ndarray, w: np.ndarray, grid: np.ndarray,
        coefs: list[np.ndarray], hessians: list[np.ndarray], loglik: np.ndarray, counts: np.ndarray,
        cluster: sparse.csr_matrix,
    ) -> dict[str, np.ndarray]:
        """Per replicate, the profile log-likelihood at every grid value to second order (the full-sample value
        reweighted by the member counts plus the gain of one Newton step), ``loglik`` (replicates x grid), and the
        one-step coefficients at every grid value, ``steps`` (grid x replicates x coefficients)."""
        n_boot = counts.shape[0]
        ll = np.empty((n_boot, len(grid)))
        steps = np.empty((len(grid), n_boot, len(coefs[0])))
        for g, c0 in enumerate(grid):
            _set_dose(X, care, c0)
            rows = _loglik_rows(X, y, w, coefs[g])
            resid = w * (y - expit(matvec(X, coefs[g])))
            # Member sums of the score and of the log-likelihood, weighted by each replicate's counts at once.
            both = _replicate_sums(counts, _cluster_sums(cluster, X, resid, rows))
            u = both[:, :-1]
            step = np.linalg.solve(hessians[g], u.T).T
            steps[g] = coefs[g] + step
            ll[:, g] = loglik[g] + both[:, -1] + 0.5 * (u * step).sum(axis=1)
        return {"loglik": ll, "steps": steps}

    # -- prediction
    def baseline_logit(self, frame: pd.DataFrame) -> np.ndarray:
        """Churn log-odds of each row at zero care (``a_tier + gamma' x``).

        ``frame`` needs ``tier``; when it holds every control the model was fitted with (``sales``, the
        control columns and the store column) they are used, otherwise each row gets its tier's average.
        """
        self._check_fitted()
        _require(frame, ("tier",), "frame")
        tier = _tier_codes(frame, "frame")
        design = self._design
        needed = ["sales", *design.columns, *([self.store_column] if design.stores else []),
                  *([self.period_column] if design.periods else [])]
        if hasattr(self, "_centre") and all(c in frame.columns for c in needed):
            coef = self.coef_.to_numpy()
            Xc = self._x(frame, design, "frame") - self._centre
            return coef[: len(TIERS)][tier] + matvec(Xc, coef[len(TIERS) : -1])
        return np.array([self.tier_logit_[t] for t in TIERS])[tier]

    def predict_churn(self, frame: pd.DataFrame, care_cost: float | np.ndarray | pd.Series) -> np.ndarray:
        """Probability of churn of each row of ``frame`` if it received ``care_cost`` yuan of care in the year.

        Parameters
        ----------
        frame : DataFrame
            ``tier`` and, optionally, the model's controls (see :meth:`baseline_logit`).
        care_cost : float or array
            Annual care spend per member (scalar or one value per row), >= 0.

        Raises
        ------
        ValueError
            ``"care_cost must be >= 0"``, ``"care_cost must have one value per row of frame"``.
        """
        eta = self.baseline_logit(frame)
        cost = np.asarray(care_cost, dtype=float)
        if cost.ndim and cost.shape != eta.shape:
            raise ValueError("care_cost must have one value per row of frame")
        if not np.isfinite(cost).all() or (cost < 0).any():
            raise ValueError("care_cost must be >= 0")
        return expit(eta - self.beta_ * np.log1p(cost / self.c0_))

    def __repr__(self) -> str:
        c0 = "estimated" if self.c0 is None else f"{self.c0:g}"
        fitted = f", beta_={self.beta_:.3f}, c0_={self.c0_:g}" if hasattr(self, "beta_") else ""
        return f"CareResponseModel(method={self.method!r}, c0={c0}{fitted})"


# ------------------------------------------------------------------------------------------ simulation


@dataclass(frozen=True)
class _Members:
    """Members sorted by tier (each tier a contiguous block, so per-tier sums are slices)."""

    tier: np.ndarray  # codes 0..3, sorted
    value: np.ndarray
    eta: np.ndarray  # zero-care log-odds at the point estimate
    care: np.ndarray | None  # each member's current care when their own churn_prob anchors the curve, else None
    bounds: np.ndarray  # tier t occupies rows bounds[t]:bounds[t + 1]

    def block(self, t: int) -> slice:
        return slice(int(self.bounds[t]), int(self.bounds[t + 1]))


def _prepare_members(members: pd.DataFrame, model: CareResponseModel) -> _Members:
    model._check_fitted()
    _require(members, ("member_id", "tier", "value"), "members")
    tier = _tier_codes(members, "members")
    value = _numeric(members, "value", "members")
    care = None
    if "churn_prob" in members.columns:
        if "care_cost" not in members.columns:
            raise ValueError("members with 'churn_prob' also need 'care_cost' (the care at which it was predicted)")
        prob = _numeric(members, "churn_prob", "members")
        if ((prob <= 0) | (prob >= 1)).any():
            raise ValueError("members column 'churn_prob' must be strictly between 0 and 1")
        care = _numeric(members, "care_cost", "members")
        if (care < 0).any():
            raise ValueError("members column 'care_cost' must be >= 0")
        eta = logit(prob) + model.beta_ * np.log1p(care / model.c0_)
    else:
        eta = model.baseline_logit(members)
    order = np.argsort(tier, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(np.bincount(tier, minlength=len(TIERS)))])
    return _Members(tier=tier[order], value=value[order], eta=eta[order], care=None if care is None else care[order],
                    bounds=bounds)


def _break_even(m: _Members, beta: float, c0: float, grid: np.ndarray) -> np.ndarray:
    """Per tier, the largest spend per member at which incremental retained value still covers the spend.

    The surplus ``gain(s) - n s`` is bracketed on a coarse log grid and its last sign change refined with
    Brent's method.
    """
    out = np.full(len(TIERS), np.nan)
    for t in range(len(TIERS)):
        rows = m.block(t)
        n = rows.stop - rows.start
        if n == 0:
            continue
        eta, v = m.eta[rows], m.value[rows]
        p0 = expit(eta)

        def surplus(s: float) -> float:
            return float((v * (p0 - expit(eta - beta * math.log1p(s / c0)))).sum()) - n * s

        values = np.array([surplus(s) for s in grid])
        positive = np.flatnonzero(values[1:] > 0) + 1
        if len(positive) == 0:
            out[t] = 0.0
        elif positive[-1] == len(grid) - 1:
            out[t] = np.inf  # still paying off at the top of the grid
        else:
            j = positive[-1]
            out[t] = optimize.brentq(surplus, grid[j], grid[j + 1], xtol=1e-6, rtol=1e-10)
    return out


@dataclass(frozen=True)
class _Draws:
    """What each simulation draw changes, per tier: the zero-care log-odds shift against the point estimate,
    ``beta`` and ``c0``, the multiplier of the tier's member value, and two standard normals for the binomial
    noise of the realised counts and value."""

    shift: np.ndarray  # (tiers, draws)
    beta: np.ndarray  # (draws,)
    c0: np.ndarray  # (draws,)
    value_factor: np.ndarray  # (tiers, draws)
    z_members: np.ndarray  # (tiers, draws)
    z_value: np.ndarray  # (tiers, draws)


def _mean_log_care(care: np.ndarray, c0: np.ndarray) -> np.ndarray:
    """``mean_i log1p(care_i / c)`` for each ``c`` of ``c0``, through an interpolation table in ``log c``."""
    if len(care) == 0:
        return np.zeros(len(c0))
    levels = np.unique(c0)
    if len(levels) > 25:
        levels = np.geomspace(levels[0], levels[-1], 25)
    table = np.array([np.log1p(care / c).mean() for c in levels])
    return np.interp(np.log(c0), np.log(levels), table) if len(levels) > 1 else np.full(len(c0), table[0])


def _draws(m: _Members, model: CareResponseModel, n_draws: int, seed: int) -> _Draws:
    """Joint parameter draws (resampled from ``model.draws_``), member-value factors and noise, seeded.

    Members valued by the model (tier baseline or controls) take each draw's tier baseline. Members with their
    own ``churn_prob`` keep it at their current care in every draw (what the risk model says there): the draw
    moves only the response around the tier's average ``log1p(care / c0)``. The value factor is the sampling
    error of the tier's mean member value (``1 + z sd / (sqrt(n) |mean|)``): how much the tier's value rests on
    a few members.
    """
    rng = np.random.default_rng(seed)
    rows = model.draws_.iloc[rng.choice(len(model.draws_), size=n_draws, replace=True)]
    beta, c0 = rows["beta"].to_numpy(), rows["c0"].to_numpy()
    k = len(TIERS)
    shift = np.zeros((k, n_draws))
    factor = np.ones((k, n_draws))
    z_value_factor = rng.standard_normal((k, n_draws))
    for t in range(k):
        block = m.block(t)
        if m.care is None:
            shift[t] = rows[f"tier[{TIERS[t]}]"].to_numpy() - model.tier_logit_[TIERS[t]]
        else:
            care = m.care[block]
            shift[t] = beta * _mean_log_care(care, c0) - model.beta_ * _mean_log_care(care, np.array([model.c0_]))
        v = m.value[block]
        if len(v) > 1 and v.mean() != 0:
            factor[t] = 1.0 + z_value_factor[t] * v.std(ddof=1) / math.sqrt(len(v)) / abs(v.mean())
    return _Draws(shift=shift, beta=beta, c0=c0, value_factor=factor, z_members=rng.standard_normal((k, n_draws)),
                  z_value=rng.standard_normal((k, n_draws)))


@dataclass(frozen=True)
class Simulation:
    """The expected outcome of a care plan.

    Attributes
    ----------
    by_tier : DataFrame
        Columns :data:`SIMULATION_COLUMNS`, one row per tier A-D and a ``total`` row. ``*_zero``: at zero care;
        ``retained_members`` = sum of ``1 - P(churn)``; ``retained_value`` = sum of ``(1 - P(churn)) x value``;
        ``incremental_value`` = retained value - retained value at zero care; ``roi`` = (incremental value -
        spend) / spend (NaN at zero spend); ``break_even_spend_per_member`` = the largest spend per member
        at which the incremental value still covers the spend (``inf`` beyond 100,000 yuan); ``*_p05`` /
        ``*_p95`` = 5% / 95% quantiles over the draws (joint draws of ``beta``, ``c0`` and the tier baselines,
        the sampling error of the tier's member value, and the binomial noise of which members actually stay);
        ``supported_spend_per_member`` = the care per member the history supports
        (:attr:`CareResponseModel.care_support_`), ``extrapolated`` = the plan spends more per member than that
        (the result rests on the assumed shape of the curve, not on data). The total row's break-even spend is
        the sum over tiers; it is ``extrapolated`` when any tier is.
    current : DataFrame or None
        The same table for the current plan.
    comparison : DataFrame or None
        Per tier and total: ``spend``, ``retained_members``, ``retained_value``, ``net_value`` (retained
        value - spend) of the plan, of the current plan, and their difference (``*_difference`` columns).
    plan, current_plan : CarePlan, CarePlan or None
    draws : int
        Number of draws behind the bands.
    """

    by_tier: pd.DataFrame
    current: pd.DataFrame | None
    comparison: pd.DataFrame | None
    plan: CarePlan
    current_plan: CarePlan | None
    draws: int


_BE_GRID = np.concatenate([[0.0], np.geomspace(0.1, 100_000.0, 25)])


_BAND_POINTS = 41


def _tier_curves(eta: np.ndarray, value: np.ndarray, x: np.ndarray, n: np.ndarray | None = None,
                 value2: np.ndarray | None = None) -> np.ndarray:
    """For each log-odds shift in ``x``: expected retained members, retained value, and the binomial variances
    of both (sums of ``1-p``, ``(1-p) v``, ``p(1-p)``, ``p(1-p) v^2``); shape (4, len(x)). Rows may be groups
    of members: ``n`` members each, ``value`` and ``value2`` their sums of ``v`` and ``v^2``."""
    n = np.ones(len(eta)) if n is None else n
    value2 = value * value if value2 is None else value2
    p = expit(eta[:, None] + np.asarray(x, dtype=float)[None, :])
    keep = 1.0 - p
    var = p * keep
    return np.stack([n @ keep, value @ keep, n @ var, value2 @ var])


_ETA_BIN = 0.002


def _grouped(eta: np.ndarray, value: np.ndarray) -> tuple[np.ndarray, ...]:
    """Members grouped by log-odds in bins of width 0.002: mean log-odds, members, sum and sum of squares of
    value per bin. The bands are computed on the groups (the error of using the bin mean, below 1e-6 of the
    sums, is far under the Monte Carlo error of the quantiles); the point estimates on every member."""
    codes, index = np.unique(np.round(eta / _ETA_BIN), return_inverse=True)
    n = np.bincount(index, minlength=len(codes)).astype(float)
    return (np.bincount(index, weights=eta) / n, n, np.bincount(index, weights=value),
            np.bincount(index, weights=value * value))


def _simulate_table(m: _Members, model: CareResponseModel, plan: CarePlan, d: _Draws, be: np.ndarray) -> pd.DataFrame:
    c0, beta = model.c0_, model.beta_
    k, n_draws = len(TIERS), len(d.beta)
    counts = np.diff(m.bounds).astype(float)
    spend_pm = np.array([plan.annual_cost_per_member(t) for t in TIERS])
    support = np.array([model.care_support_.get(t, math.inf) for t in TIERS])
    point = np.zeros((k, 2, 2))  # tier x (zero care, plan) x (members, value)
    kept, value, value0 = np.zeros((k, n_draws)), np.zeros((k, n_draws)), np.zeros((k, n_draws))
    for t in range(k):
        block = m.block(t)
        if counts[t] == 0:
            continue
        eta, v = m.eta[block], m.value[block]
        x_point = np.array([0.0, -beta * math.log1p(spend_pm[t] / c0)])
        point[t] = _tier_curves(eta, v, x_point)[:2].T
        # Every draw is a scalar shift of the tier's log-odds: tabulate the sums on a grid of shifts spanning
        # the draws and interpolate (41 shifts of the grouped members instead of two passes per draw).
        x0 = d.shift[t]
        x1 = d.shift[t] - d.beta * np.log1p(spend_pm[t] / d.c0)
        lo, hi = min(x0.min(), x1.min()), max(x0.max(), x1.max())
        grid = np.linspace(lo, hi, _BAND_POINTS) if hi > lo else np.array([lo])
        g_eta, g_n, g_v, g_v2 = _grouped(eta, v)
        table = _tier_curves(g_eta, g_v, grid, g_n, g_v2)

        def at(x: np.ndarray, row: int) -> np.ndarray:
            return np.interp(x, grid, table[row]) if len(grid) > 1 else np.full(len(x), table[row, 0])

        noise_members = np.sqrt(np.maximum(at(x1, 2), 0.0)) * d.z_members[t]
        noise_value = np.sqrt(np.maximum(at(x1, 3), 0.0)) * d.z_value[t]
        kept[t] = at(x1, 0) + noise_members
        value[t] = (at(x1, 1) + noise_value) * d.value_factor[t]
        value0[t] = at(x0, 1) * d.value_factor[t]
    spend = counts * spend_pm
    present = counts > 0
    extrapolated = present & (spend_pm > support * (1 + 1e-9))
    rows = []
    for i in [*range(k), None]:
        sel = slice(None) if i is None else slice(i, i + 1)
        n, s = counts[sel].sum(), spend[sel].sum()
        kept0, kept1 = point[sel, 0, 0].sum(), point[sel, 1, 0].sum()
        val0, val1 = point[sel, 0, 1].sum(), point[sel, 1, 1].sum()
        dk, dv0, dv1 = kept[sel].sum(axis=0), value0[sel].sum(axis=0), value[sel].sum(axis=0)
        inc = val1 - val0
        roi_draws = (dv1 - dv0 - s) / s if s > 0 else np.full(n_draws, np.nan)
        rows.append(
            {
                "tier": "total" if i is None else TIERS[i],
                "members": int(n),
                "spend_per_member": s / n if n else 0.0,
                "spend": s,
                "churn_rate_zero": 1 - kept0 / n if n else np.nan,
                "churn_rate": 1 - kept1 / n if n else np.nan,
                "retained_members_zero": kept0,
                "retained_members": kept1,
                "retained_members_p05": np.quantile(dk, 0.05),
                "retained_members_p95": np.quantile(dk, 0.95),
                "extra_retained_members": kept1 - kept0,
                "retained_value_zero": val0,
                "retained_value": val1,
                "retained_value_p05": np.quantile(dv1, 0.05),
                "retained_value_p95": np.quantile(dv1, 0.95),
                "incremental_value": inc,
                "roi": (inc - s) / s if s > 0 else np.nan,
                "roi_p05": np.quantile(roi_draws, 0.05) if s > 0 else np.nan,
                "roi_p95": np.quantile(roi_draws, 0.95) if s > 0 else np.nan,
                "break_even_spend_per_member": be[i] if i is not None else np.nan,
                "break_even_spend": (be[i] * n if i is not None else float(np.nansum(be * counts))) if n else 0.0,
                "supported_spend_per_member": support[i] if i is not None else np.nan,
                "extrapolated": bool(extrapolated[sel].any()),
            }
        )
    table = pd.DataFrame(rows, columns=list(SIMULATION_COLUMNS))
    return table[(table["members"] > 0) | (table["tier"] == "total")].reset_index(drop=True)


def simulate(
    members: pd.DataFrame,
    plan: CarePlan,
    model: CareResponseModel,
    current_plan: CarePlan | None = None,
    draws: int = 200,
    seed: int = 0,
) -> Simulation:
    """Expected retained members and value, spend, ROI and break-even of ``plan``, with bands.

    Parameters
    ----------
    members : DataFrame
        One row per member: ``member_id``, ``tier`` (A-D), ``value`` (what the member is worth if retained,
        e.g. lifetime value from :func:`vipmodel.clv.lifetime_value` or
        :func:`vipmodel.clv.simple_lifetime_value`; may be negative). Optional: ``churn_prob`` with
        ``care_cost`` (a member's own churn probability at the care they currently receive, e.g. from a risk
        model), or the model's control columns (see :meth:`CareResponseModel.baseline_logit`).
    plan, current_plan : CarePlan
        The plan to evaluate and, optionally, the plan to compare it with.
    model : CareResponseModel
        Fitted response model.
    draws : int, default 200
        Number of draws behind the 5%/95% bands: joint rows of ``model.draws_`` resampled with replacement
        (``beta``, ``c0``, tier baselines), each with a member-value factor per tier and binomial noise for the
        realised counts and value (normal approximation of the sums), seeded.
    seed : int, default 0

    Returns
    -------
    Simulation

    Raises
    ------
    ValueError
        ``"members is missing columns: value"``, ``"members is empty (no rows)"``,
        ``"members column 'value' has missing or infinite values; ..."``, ``"draws must be an integer >= 1"``,
        ``"plan must be a CarePlan"``, ``"the model is not fitted; call fit(panel) first"``.
    """
    if not isinstance(plan, CarePlan) or (current_plan is not None and not isinstance(current_plan, CarePlan)):
        raise ValueError("plan must be a CarePlan")
    if isinstance(draws, bool) or not isinstance(draws, (int, np.integer)) or draws < 1:
        raise ValueError("draws must be an integer >= 1")
    m = _prepare_members(members, model)
    d = _draws(m, model, int(draws), seed)
    be = _break_even(m, model.beta_, model.c0_, _BE_GRID)  # a property of the members, not of the plan
    table = _simulate_table(m, model, plan, d, be)
    current = comparison = None
    if current_plan is not None:
        current = _simulate_table(m, model, current_plan, d, be)
        comparison = pd.DataFrame({"tier": table["tier"]})
        for col in ("spend", "retained_members", "retained_value"):
            comparison[col] = table[col]
            comparison[f"{col}_current"] = current[col]
            comparison[f"{col}_difference"] = table[col] - current[col]
        comparison["net_value"] = table["retained_value"] - table["spend"]
        comparison["net_value_current"] = current["retained_value"] - current["spend"]
        comparison["net_value_difference"] = comparison["net_value"] - comparison["net_value_current"]
    return Simulation(by_tier=table, current=current, comparison=comparison, plan=plan, current_plan=current_plan,
                      draws=int(draws))


# ------------------------------------------------------------------------------------------- optimiser


@dataclass(frozen=True)
class Allocation:
    """The budget split that maximises retained value.

    Attributes
    ----------
    budget : float
        The budget given.
    by_tier : DataFrame
        Columns :data:`ALLOCATION_COLUMNS`, one row per tier with members; ``marginal_value_per_yuan`` is the
        retained value the last yuan spent on the tier brings (derivative of the tier's retained value with
        respect to its total spend). At the optimum it is equal across tiers that are neither at zero nor at
        their cap; a value below 1 means the last yuan does not pay for itself. ``max_spend_per_member`` is the
        tier's cap (the actions' cap, limited by ``support_scale`` x the supported care),
        ``supported_spend_per_member`` the care per member the history supports and ``extrapolated`` whether
        the allocation goes beyond it.
    plan : CarePlan
        Actions that spend the allocation (:meth:`CarePlan.from_spend`).
    spend, retained_value, baseline_retained_value : float
        Total spend, retained value with the allocation, and at zero care.
    objective : str
        ``"retained_value"`` or ``"net_value"``.
    """

    budget: float
    by_tier: pd.DataFrame
    plan: CarePlan
    spend: float
    retained_value: float
    baseline_retained_value: float
    objective: str


def _tier_value(m: _Members, beta: float, c0: float, t: int, spend_pm: np.ndarray) -> np.ndarray:
    """Retained value of tier ``t`` at each per-member spend in ``spend_pm`` (vectorised over the grid)."""
    rows = m.block(t)
    eta, v = m.eta[rows], m.value[rows]
    out = np.empty(len(spend_pm))
    for j, s in enumerate(spend_pm):
        out[j] = float(((1 - expit(eta - beta * math.log1p(s / c0))) * v).sum())
    return out


def optimise_budget(
    members: pd.DataFrame,
    model: CareResponseModel,
    budget: float,
    unit_costs: Mapping[str, float] | None = None,
    max_per_year: Mapping[str, float] | None = None,
    tiers: Sequence[str] | None = None,
    objective: str = "retained_value",
    grid_points: int = 200,
    support_scale: float | None = 1.0,
) -> Allocation:
    """Allocate ``budget`` (yuan per year) across tiers to maximise retained value (scipy SLSQP).

    The decision is the care spend per member of each tier, ``0 <= s_t <= cap_t``, subject to
    ``sum_t n_t s_t <= budget``. ``cap_t`` is the most the actions allow per member (``sum max_per_year x
    unit_cost``) and, by default, no more than the history supports (``support_scale x
    model.care_support_[t]``): beyond that the curve is an extrapolation of its assumed shape, which an
    optimiser would otherwise exploit (the log curve keeps promising returns where no member was ever cared
    for that much).
    Retained value is ``sum_i (1 - P_i(churn | s_tier(i))) x value_i`` with the fitted response (point
    estimate). Because the per-tier curves need not be concave, the start point is the global optimum on a
    grid (dynamic programming over ``grid_points`` budget steps), which SLSQP then refines.

    Parameters
    ----------
    members : DataFrame
        As for :func:`simulate`.
    model : CareResponseModel
    budget : float
        Total annual budget, >= 0.
    unit_costs, max_per_year : mapping, optional
        Defaults :data:`DEFAULT_UNIT_COST`, :data:`DEFAULT_MAX_PER_YEAR`.
    tiers : sequence of str, optional
        Tiers eligible for care (default: every tier present in ``members``); others get nothing.
    objective : {"retained_value", "net_value"}
        Maximise retained value, or retained value minus spend (then the budget need not be spent).
    grid_points : int, default 200
    support_scale : float or None, default 1.0
        Multiple of each tier's supported care per member (:attr:`CareResponseModel.care_support_`) the
        optimiser may spend; > 1 widens the range explicitly (extrapolation), ``None`` lifts the limit (only
        the actions' cap remains).

    Returns
    -------
    Allocation

    Raises
    ------
    ValueError
        ``"budget must be a finite number >= 0, got -1"``, ``"tier D has no members"`` (an eligible tier
        without members), ``"objective must be 'retained_value' or 'net_value'"``, and the messages of
        :func:`simulate` about ``members``, ``"support_scale must be a number >= 1 or None"``.
    """
    if support_scale is not None and (isinstance(support_scale, bool) or not isinstance(
            support_scale, (int, float, np.integer, np.floating)) or not support_scale >= 1.0):
        raise ValueError("support_scale must be a number >= 1 or None")
    try:
        budget = float(budget)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"budget must be a finite number >= 0, got {budget!r}") from exc
    if not math.isfinite(budget) or budget < 0:
        raise ValueError(f"budget must be a finite number >= 0, got {budget:g}")
    if objective not in ("retained_value", "net_value"):
        raise ValueError("objective must be 'retained_value' or 'net_value'")
    if isinstance(grid_points, bool) or not isinstance(grid_points, (int, np.integer)) or grid_points < 2:
        raise ValueError("grid_points must be an integer >= 2")
    costs = _unit_costs(unit_costs)
    limits = _max_per_year(max_per_year)
    cap = sum(limits[k] * costs[k] for k in CARE_KINDS)
    m = _prepare_members(members, model)
    counts = np.diff(m.bounds).astype(float)
    eligible = [t for t in TIERS if counts[TIERS.index(t)] > 0] if tiers is None else list(tiers)
    for t in eligible:
        if t not in TIERS:
            raise ValueError(f"unknown tier {t!r}; expected A, B, C, D")
        if counts[TIERS.index(t)] == 0:
            raise ValueError(f"tier {t} has no members")
    idx = [TIERS.index(t) for t in eligible]
    beta, c0 = model.beta_, model.c0_
    support = np.array([model.care_support_.get(t, math.inf) for t in TIERS])
    caps = np.full(len(TIERS), cap) if support_scale is None else np.minimum(cap, support_scale * support)
    net = objective == "net_value"

    # Grid of tier budgets: step = budget / grid_points; DP picks the best split of whole steps.
    step = budget / grid_points if budget > 0 else 0.0
    x0 = np.zeros(len(idx))
    if budget > 0 and idx and caps[idx].max() > 0:
        k_max = [min(grid_points, int(counts[t] * caps[t] // step)) for t in idx]
        tables = []
        for t, km in zip(idx, k_max):
            spends = np.arange(km + 1) * step / counts[t]
            vals = _tier_value(m, beta, c0, t, spends)
            if net:
                vals = vals - np.arange(km + 1) * step
            tables.append(vals)
        best = np.zeros(grid_points + 1)  # best[b]: value with b steps over the tiers so far
        choice = []
        for vals in tables:
            new = np.full(grid_points + 1, -np.inf)
            arg = np.zeros(grid_points + 1, dtype=int)
            for k in range(len(vals)):
                cand = np.full(grid_points + 1, -np.inf)
                cand[k:] = best[: grid_points + 1 - k] + vals[k] - vals[0]
                better = cand > new
                new[better], arg[better] = cand[better], k
            best = new
            choice.append(arg)
        b = int(np.argmax(best))
        for j in range(len(idx) - 1, -1, -1):
            k = int(choice[j][b])
            x0[j] = k * step / counts[idx[j]]
            b -= k

    n_vec = counts[idx]

    def objective_fn(u: np.ndarray) -> tuple[float, np.ndarray]:
        # Variables are tier shares of the budget and the objective is in yuan per budget yuan, so that
        # gradients are of order 1 (the marginal values) and SLSQP's tolerances mean something.
        x = u * budget / n_vec
        total, grad = 0.0, np.zeros(len(x))
        for j, t in enumerate(idx):
            rows = m.block(t)
            p = expit(m.eta[rows] - beta * np.log1p(x[j] / c0))
            total += float(((1 - p) * m.value[rows]).sum())
            grad[j] = float((m.value[rows] * p * (1 - p)).sum()) * beta / (c0 + x[j]) / n_vec[j]
            if net:
                total -= n_vec[j] * x[j]
                grad[j] -= 1.0
        return -total / budget, -grad

    x = x0
    if budget > 0 and idx and caps[idx].max() > 0:
        u0 = x0 * n_vec / budget
        upper = np.minimum(n_vec * caps[idx] / budget, 1.0)
        res = optimize.minimize(
            objective_fn, u0, jac=True, method="SLSQP", bounds=list(zip(np.zeros(len(idx)), upper)),
            constraints=[{"type": "ineq", "fun": lambda u: 1.0 - u.sum(), "jac": lambda u: -np.ones(len(u))}],
            options={"maxiter": 500, "ftol": 1e-14},
        )
        cand = np.clip(res.x, 0.0, upper)
        if cand.sum() > 1.0:  # SLSQP may overshoot the constraint by rounding; scale back into the feasible set
            cand = cand / cand.sum()
        if objective_fn(cand)[0] <= objective_fn(u0)[0]:
            x = cand * budget / n_vec
    spend_pm = np.zeros(len(TIERS))
    spend_pm[idx] = x
    rows = []
    total_value = base_value = 0.0
    for t in range(len(TIERS)):
        if counts[t] == 0:
            continue
        sel = m.block(t)
        p0 = expit(m.eta[sel])
        p = expit(m.eta[sel] - beta * math.log1p(spend_pm[t] / c0))
        value = float(((1 - p) * m.value[sel]).sum())
        zero = float(((1 - p0) * m.value[sel]).sum())
        marginal = float((m.value[sel] * p * (1 - p)).sum()) * beta / (c0 + spend_pm[t]) / counts[t]
        total_value += value
        base_value += zero
        rows.append((TIERS[t], int(counts[t]), spend_pm[t], spend_pm[t] * counts[t], float((1 - p).sum()), value,
                     value - zero, marginal, caps[t], support[t], bool(spend_pm[t] > support[t] * (1 + 1e-9))))
    by_tier = pd.DataFrame(rows, columns=list(ALLOCATION_COLUMNS))
    plan = CarePlan.from_spend({t: min(spend_pm[TIERS.index(t)], cap) for t in TIERS}, costs, limits)
    return Allocation(budget=budget, by_tier=by_tier, plan=plan, spend=float(by_tier["spend"].sum()),
                      retained_value=total_value, baseline_retained_value=base_value, objective=objective)
