"""Churn and win-back (VIP客户挽留): who is about to leave, what they are worth, why, and what to do.

The four steps of the mall's retention plan (DOMAIN.md, "Churn and win-back"), one function each:

1. **Value** (分析其未来价值) -- :func:`member_values`: BG/NBD + Gamma-Gamma lifetime value per member
   (:mod:`vipmodel.clv`) next to the documents' simple rule (life cycle in years x annual profit).
2. **Identify** (识别即将流失的VIP) -- :func:`at_risk`: warning signals per member active in the last year,
   a churn-risk score and the value at risk, ranked by value at risk rather than by risk alone.
3. **Reasons** (找出流失原因) -- the same frame carries codes of the likely reasons found in the data
   (complaints, satisfaction, care, spend, tier), which the app translates (:data:`REASONS`).
4. **Win back** (挽回) -- a recommended action per member from the tier strategies (:data:`ACTIONS`), its cost
   and an expected benefit, and the maintenance plan (客户营销维护计划表) as codes: :func:`maintenance_plan`
   (the app translates it and writes the workbook).

:func:`evaluate_churn_risk` judges the score honestly: it is computed with data up to one year before
``as_of`` and compared with what members did afterwards, with churn defined by
:func:`vipmodel.outcomes.churn_panel` (no purchase in the following year).

How the risk score is made
--------------------------
The score is the probability of churning in the next year from a logistic regression **learned on the mall's
own previous year**: the same evidence (signals, reasons, spend, care, complaints, satisfaction, the BG/NBD
probability of no purchase in a year) measured one year before ``as_of`` is regressed on whether those members
churned in the year that followed (:func:`vipmodel.outcomes.churn_panel`), then applied to the evidence at
``as_of``. Every input of the training rows is dated on or before ``as_of``, so nothing from the future leaks
in. When that is impossible (less than two years of data, fewer than :data:`MIN_TRAINING_MEMBERS` members, or
only one outcome), the score falls back to a fixed combination (``score_method = "rules"``)::

    score = 1 - (1 - p_no_purchase_1y) * (1 - 0.5 * overdue) * (1 - 0.3 * spend_falling)

i.e. the BG/NBD probability of no purchase in the next year, raised by the rule signals as independent
causes ("noisy-OR"); it equals the model probability when no rule signal fires.

Known limits
------------
On the demo mall churn is decided at the start of each year from satisfaction, care, complaints and spend,
without any decline in purchases beforehand, and satisfaction is only observed for survey respondents: even
the *true* churn formula applied to the observed data reaches an AUC of about 0.62 there. The purchase
signals (``low_p_alive``, ``overdue``, ``spend_falling``) matter on real data, where members fade out.

References
----------
.. [1] Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting Your Customers" the Easy Way: An
   Alternative to the Pareto/NBD Model. *Marketing Science* 24(2), 275-284.
.. [2] Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). RFM and CLV: Using Iso-Value Curves for Customer
   Base Analysis. *Journal of Marketing Research* 42(4), 415-430.
.. [3] Hanley, J. A. & McNeil, B. J. (1982). The meaning and use of the area under a receiver operating
   characteristic (ROC) curve. *Radiology* 143(1), 29-36.
.. [4] Zeithaml, V. A., Rust, R. T. & Lemon, K. N. (2001). The Customer Pyramid: Creating and Serving
   Profitable Customers. *California Management Review* 43(4), 118-142.
"""

from __future__ import annotations

import datetime as dt
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from sqlalchemy import (
    Connection,
    Date,
    Engine,
    Float,
    String,
    case,
    cast,
    func,
    literal,
    select,
    type_coerce,
)
from sqlalchemy.sql.functions import aggregate_strings

from vipmodel import schema
from vipmodel.clv import (
    BetaGeoModel,
    GammaGammaModel,
    UndefinedSpendWarning,
    expected_lifetime_years,
    holdout_fit_table,
    lifetime_value,
    simple_lifetime_value,
)
from vipmodel.contracts import require_columns
from vipmodel.db import as_date, read_frame
from vipmodel.features import HOLDOUT_COLUMNS, calibration_summary, day_of, days_between, member_features, unindexed
from vipmodel.logistic import fit_logistic
from vipmodel.outcomes import COMPLAINT_STATUSES, add_years, churn_panel, complaint_features
from vipmodel.pyramid import DEFAULT_RULES as DEFAULT_TIER_RULES
from vipmodel.pyramid import TierRules, assign_tiers
from vipmodel.reuse import remember, shares_result
from vipmodel.schema import TIERS, Tier, signed

__all__ = [
    "ACTIONS",
    "AT_RISK_COLUMNS",
    "DEFAULT_RULES",
    "DEFAULT_SAVE_RATES",
    "PLAN_COLUMNS",
    "REASONS",
    "SIGNALS",
    "VALUE_COLUMNS",
    "Action",
    "MemberValues",
    "RiskEvaluation",
    "RiskRules",
    "action_table",
    "at_risk",
    "auc_with_ci",
    "evaluate_churn_risk",
    "maintenance_plan",
    "member_values",
    "value_at_risk",
    "value_if_retained",
]

TIME_UNIT_DAYS = 7.0  # the models work in weeks, like the CDNOW literature
PERIODS_PER_YEAR = 365.25 / TIME_UNIT_DAYS
MIN_TRAINING_MEMBERS = 50
_Z95 = 1.959963984540054
_MEMBER_CHUNK = 5_000
_NAMES_SCAN_FROM = 50_000  # ids above which _names reads the whole members table

SIGNALS: tuple[str, ...] = ("low_p_alive", "overdue", "spend_falling")
# In priority order: reason_primary is the first that applies.
REASONS: tuple[str, ...] = (
    "complaint_unresolved",
    "complaint_slow",
    "satisfaction_low",
    "satisfaction_falling",
    "tier_downgrade",
    "spend_down",
    "no_care_contact",
)
NO_CLEAR_REASON = "no_clear_reason"
_COMPLAINT_REASONS = ("complaint_unresolved", "complaint_slow")

VALUE_COLUMNS: tuple[str, ...] = (
    "member_id",
    "frequency",
    "recency",
    "T",
    "monetary_value",
    "probability_alive",
    "expected_purchases_1y",
    "p_no_purchase_1y",
    "expected_spend",
    "spend_source",
    "margin",
    "annual_profit",
    "expected_lifetime_years",
    "model_clv",
    "value_if_retained",
    "simple_clv",
)
AT_RISK_COLUMNS: tuple[str, ...] = (
    "member_id",
    "name",
    "as_of",
    "tier",
    "tier_last_year",
    "probability_alive",
    "score",
    "score_method",
    "signals",
    *SIGNALS,
    "days_since_last_purchase",
    "median_interval_days",
    "sales_recent",
    "sales_before",
    "reasons",
    "reason_primary",
    "model_clv",
    "value_if_retained",
    "value_at_risk",
    "action",
    "actions",
    "action_cost",
    "save_rate",
    "expected_benefit",
    "net_benefit",
)


def value_if_retained(model_clv: np.ndarray, probability_alive: np.ndarray) -> np.ndarray:
    """Expected lifetime value of members given that they are still active: ``model_clv / probability_alive``.

    BG/NBD's expected purchases conditional on a member's history are ``P(alive)`` times those of a member known
    to be active (Fader, Hardie & Lee 2005, eq. 10) [1]_, so dividing the lifetime value by ``P(alive)`` removes
    the dropout it already contains. Negative values (loss-making members) are kept; where ``P(alive)`` is 0 or
    missing the value is 0 (nothing can be retained).

    Parameters
    ----------
    model_clv : numpy.ndarray
        Discounted expected profit over the horizon (:func:`member_values`).
    probability_alive : numpy.ndarray
        BG/NBD probability that the member is still active, same length.

    Returns
    -------
    numpy.ndarray
        One value per member, in yuan.
    """
    clv = np.asarray(model_clv, dtype=float)
    alive = np.asarray(probability_alive, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(alive > 0, clv / alive, 0.0)
    return np.where(np.isfinite(out), out, 0.0)


def value_at_risk(churn_probability: np.ndarray, value_retained: np.ndarray) -> np.ndarray:
    """The one definition of value at risk: ``P(churn) x value if retained`` (losses of negative value are 0).

    ``P(churn)`` is the churn-risk score of :func:`at_risk` (probability of no purchase in the next year); the
    value is :func:`value_if_retained`, not ``model_clv``, which already discounts the future by the chance of
    dropout and so would count it twice.

    Parameters
    ----------
    churn_probability : numpy.ndarray
        Values in [0, 1].
    value_retained : numpy.ndarray
        :func:`value_if_retained` of the same members.

    Returns
    -------
    numpy.ndarray
        Expected future profit lost if nothing is done, >= 0.
    """
    return np.asarray(churn_probability, dtype=float) * np.clip(np.asarray(value_retained, dtype=float), 0.0, None)


# --------------------------------------------------------------------------------------------------------
# Rules and actions
# --------------------------------------------------------------------------------------------------------


def _positive(value: Any, name: str, integer: bool = False) -> None:
    ok = not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value) and value > 0
    if ok and integer:
        ok = float(value) == int(value)
    if not ok:
        kind = "a whole number > 0" if integer else "a finite number > 0"
        raise ValueError(f"{name} must be {kind}, got {value!r}")


def _fraction(value: Any, name: str) -> None:
    ok = not isinstance(value, bool) and isinstance(value, (int, float)) and 0.0 < value < 1.0
    if not ok:
        raise ValueError(f"{name} must be in (0, 1), got {value!r}")


@dataclass(frozen=True)
class RiskRules:
    """Thresholds of the warning signals and reasons.

    Parameters
    ----------
    p_alive_threshold : float, default 0.5
        ``low_p_alive`` fires when the BG/NBD probability of being alive is below this, in (0, 1).
    overdue_factor : float, default 3.0
        ``overdue`` fires when the days since the last purchase exceed ``overdue_factor`` times the member's own
        median interval between purchase days (> 0) ...
    overdue_floor_days : int, default 30
        ... and also exceed this floor, so that a weekly shopper is not flagged after three weeks of holiday.
        Members with a single purchase day have no rhythm of their own: the median of all members' medians
        stands in for it.
    spend_window_days : int, default 182
        ``spend_falling`` compares net sales in the last ``spend_window_days`` with the window before ...
    spend_drop_ratio : float, default 0.5
        ... and fires when the recent window is below this share of the previous one (previous > 0), in (0, 1).
    complaint_lookback_days : int, default 365
        Complaints filed in this many days up to ``as_of`` count for the complaint reasons. A complaint is
        *slow* when resolved more than 7 days after filing (:data:`vipmodel.outcomes.SLOW_AFTER_DAYS`) and
        *unresolved* when it had no resolution on ``as_of``.
    low_satisfaction : float, default 4.0
        ``satisfaction_low`` when the latest survey's weighted score (1-7 scale) is below this (4 is neutral).
    no_care_days : int, default 180
        ``no_care_contact`` when no care action reached the member in this many days up to ``as_of``.
    spend_down_ratio : float, default 0.8
        ``spend_down`` when the last year's net sales are below this share of the year before's, in (0, 1).

    Raises
    ------
    ValueError
        ``"overdue_factor must be a finite number > 0, got 0"``, ``"p_alive_threshold must be in (0, 1), got
        1.5"``, ``"no_care_days must be a whole number > 0, got -1"`` and the same for each field.
    """

    p_alive_threshold: float = 0.5
    overdue_factor: float = 3.0
    overdue_floor_days: int = 30
    spend_window_days: int = 182
    spend_drop_ratio: float = 0.5
    complaint_lookback_days: int = 365
    low_satisfaction: float = 4.0
    no_care_days: int = 180
    spend_down_ratio: float = 0.8

    def __post_init__(self) -> None:
        _fraction(self.p_alive_threshold, "p_alive_threshold")
        _positive(self.overdue_factor, "overdue_factor")
        _positive(self.overdue_floor_days, "overdue_floor_days", integer=True)
        _positive(self.spend_window_days, "spend_window_days", integer=True)
        _fraction(self.spend_drop_ratio, "spend_drop_ratio")
        _positive(self.complaint_lookback_days, "complaint_lookback_days", integer=True)
        if not (
            not isinstance(self.low_satisfaction, bool)
            and isinstance(self.low_satisfaction, (int, float))
            and 1.0 <= self.low_satisfaction <= 7.0
        ):
            raise ValueError(f"low_satisfaction must be on the 1-7 survey scale, got {self.low_satisfaction!r}")
        _positive(self.no_care_days, "no_care_days", integer=True)
        _fraction(self.spend_down_ratio, "spend_down_ratio")


DEFAULT_RULES = RiskRules()


@dataclass(frozen=True)
class Action:
    """One retention action of the maintenance plan (tier strategies of DOMAIN.md); the app words it by ``code``."""

    code: str
    unit_cost: float  # yuan per member
    tiers: tuple[Tier, ...]


ACTIONS: tuple[Action, ...] = (
    Action("resolve_complaint", 50.0, TIERS),  # call, apologise, fix: before any other action
    Action("personal_care", 235.0, ("A",)),  # phone 5 + gift 80 + event seat 150, the demo mall's care unit costs
    Action("tailored_offer", 55.0, ("B",)),  # call 5 + offer 50
    Action("info_sms", 5.0, ("C",)),
    Action("lift_to_c", 5.0, ("D",)),  # D members with potential: the SMS aims at tier C
    Action("no_spend", 0.0, ("D",)),  # reduce benefits carefully (avoid bad word of mouth)
)
_ACTION_BY_CODE = {a.code: a for a in ACTIONS}
_TIER_ACTION: dict[Tier, str] = {"A": "personal_care", "B": "tailored_offer", "C": "info_sms"}
# Assumed share of the value at risk that the action saves. These are planning assumptions, not estimates:
# the data hold no record of past win-back campaigns to learn them from.
DEFAULT_SAVE_RATES: dict[str, float] = {
    "personal_care": 0.30,
    "tailored_offer": 0.20,
    "info_sms": 0.05,
    "lift_to_c": 0.05,
    "no_spend": 0.0,
}


def action_table() -> pd.DataFrame:
    """:data:`ACTIONS` as a DataFrame: ``code``, ``unit_cost``,
    ``tiers`` (tuple), ``save_rate`` (the default assumption, :data:`DEFAULT_SAVE_RATES`; NaN for
    ``resolve_complaint``, which adds to another action)."""
    return pd.DataFrame(
        [
            {
                "code": a.code,
                "unit_cost": a.unit_cost,
                "tiers": a.tiers,
                "save_rate": DEFAULT_SAVE_RATES.get(a.code, np.nan),
            }
            for a in ACTIONS
        ]
    )


# --------------------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------------------


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time())


def _with_connection(conn: Connection | Engine, fn, *args, **kwargs):
    if isinstance(conn, Engine):
        with conn.connect() as connection:
            return fn(connection, *args, **kwargs)
    if isinstance(conn, Connection):
        return fn(conn, *args, **kwargs)
    raise ValueError(f"conn must be a SQLAlchemy Engine or Connection, got {type(conn).__name__}")


def _first_purchase_day(conn: Connection) -> dt.date | None:
    t = schema.transactions
    first = conn.execute(select(func.min(t.c.ts)).where(t.c.is_return.is_not(True))).scalar()
    if first is None:
        return None
    if isinstance(first, str):  # SQLite returns aggregate datetimes as text
        first = dt.datetime.fromisoformat(first)
    return first.date() if isinstance(first, dt.datetime) else first


def _check_data(conn: Connection, as_of: dt.date) -> dt.date:
    first = _first_purchase_day(conn)
    if first is None:
        raise ValueError("no purchases in the database: import transactions first")
    if as_of < first:
        raise ValueError(
            f"as_of ({as_of.isoformat()}) is before the first purchase ({first.isoformat()}): nothing to analyse"
        )
    return first


def _year_features(conn: Connection, start: dt.date, end: dt.date) -> pd.DataFrame:
    """One row per member with any activity in ``[start, end]``, indexed by member_id."""
    return member_features(conn, start, end, period="range").set_index("member_id")


class _FixedSpend:
    """Stands in for a Gamma-Gamma model in :func:`vipmodel.clv.lifetime_value`, which only asks it for
    ``expected_spend``: lets the observed mean replace the undefined model spend without copying the CLV sum."""

    def __init__(self, spend: pd.Series) -> None:
        self._spend = spend

    def expected_spend(self, df: pd.DataFrame) -> pd.Series:
        return self._spend.reindex(df.index)


def _p_no_purchase(model: BetaGeoModel, summary: pd.DataFrame, alive: np.ndarray, t: float) -> np.ndarray:
    """P(no purchase in the next ``t`` periods | history) under the BG/NBD.

    Given alive at ``T`` the purchase rate's posterior is ``Gamma(r + x, alpha + T)`` and a member can only drop
    out right after a purchase, so ``P(0 | alive) = ((alpha + T) / (alpha + T + t)) ** (r + x)``; a dead member
    buys nothing: ``P(0) = 1 - P(alive) + P(alive) P(0 | alive)``.
    """
    r, alpha = float(model.params_["r"]), float(model.params_["alpha"])
    x = summary["frequency"].to_numpy(dtype=float)
    T = summary["T"].to_numpy(dtype=float)
    zero_if_alive = np.exp((r + x) * (np.log(alpha + T) - np.log(alpha + T + t)))
    return 1.0 - alive + alive * zero_if_alive


# --------------------------------------------------------------------------------------------------------
# 1. Member value
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MemberValues:
    """Per-member value at ``as_of`` and the fitted models (see :func:`member_values`).

    Attributes
    ----------
    as_of : datetime.date
        Last day of data used.
    frame : pandas.DataFrame
        Columns :data:`VALUE_COLUMNS`, one row per member with a purchase on or before ``as_of``.
    bgnbd : BetaGeoModel
        Purchase model fitted on the calibration summary at ``as_of`` (weeks).
    gamma_gamma : GammaGammaModel
        Spend model fitted on the repeat buyers.
    horizon_years, discount_rate_annual : float
        The lifetime-value horizon and annual discount rate used.
    observation_start : datetime.date or None
        First day of data used (``calibration_weeks`` before ``as_of``), None for all history.
    """

    as_of: dt.date
    frame: pd.DataFrame = field(repr=False)
    bgnbd: BetaGeoModel = field(repr=False)
    gamma_gamma: GammaGammaModel = field(repr=False)
    horizon_years: float = 3.0
    discount_rate_annual: float = 0.10
    observation_start: dt.date | None = None


def member_values(
    conn: Connection | Engine,
    as_of: dt.date,
    calibration_weeks: int | None = None,
    horizon_years: float = 3,
    discount_rate_annual: float = 0.10,
    margin: float | None = None,
) -> MemberValues:
    """Future value of every member at ``as_of``: BG/NBD + Gamma-Gamma lifetime value and the simple rule.

    Fits :class:`vipmodel.clv.BetaGeoModel` and :class:`vipmodel.clv.GammaGammaModel` on
    :func:`vipmodel.features.calibration_summary` at ``calibration_end = as_of`` (time in weeks) [1]_ [2]_.

    Parameters
    ----------
    conn : sqlalchemy.Engine or sqlalchemy.Connection
        Database with ``transactions`` (and ``care_actions``, ``complaints`` for the profit contribution).
    as_of : datetime.date
        Last day of data used (inclusive).
    calibration_weeks : int, optional
        Use only the last ``calibration_weeks`` weeks of history (members first seen in that window count from
        there); None uses all history.
    horizon_years : float, default 3
        Horizon of ``model_clv`` and cap of ``expected_lifetime_years``, > 0.
    discount_rate_annual : float, default 0.10
        Annual discount rate of ``model_clv`` (>= 0), converted to weekly ``(1 + i) ** (1 / 52.18) - 1``.
    margin : float, optional
        Profit per yuan of spend for every member, in [0, 1]. Default: each member's own margin rate over the
        last year, ``(gross_margin - discount) / sales`` from :func:`vipmodel.features.member_features`, clipped
        to [0, 1]; members without net sales in that year take their whole history's rate, then the mall's.

    Returns
    -------
    MemberValues
        ``frame`` has one row per member with a purchase on or before ``as_of`` (returns alone do not count),
        sorted by ``member_id``, columns :data:`VALUE_COLUMNS`:

        ``frequency``, ``recency``, ``T``, ``monetary_value`` (the calibration summary, weeks);
        ``probability_alive`` (BG/NBD); ``expected_purchases_1y`` (purchase days in the next year);
        ``p_no_purchase_1y`` (probability of no purchase in the next year, see :func:`_p_no_purchase`);
        ``expected_spend`` (yuan per purchase day) and ``spend_source``; ``margin``; ``annual_profit`` (profit
        contribution of the last year: margin - discount - care - complaint cost, 0 without activity);
        ``expected_lifetime_years`` (BG/NBD, capped at the horizon); ``model_clv`` (discounted expected profit
        over the horizon, :func:`vipmodel.clv.lifetime_value`; it already weighs the future by the chance that
        the member is still active); ``value_if_retained`` (``model_clv / probability_alive``: the same expected
        profit given that the member is still active, exact for BG/NBD because its conditional expected
        purchases are ``P(alive) x`` those of an active member [1]_); ``simple_clv`` (the documents' rule,
        ``expected_lifetime_years x annual_profit``, :func:`vipmodel.clv.simple_lifetime_value`; undiscounted
        and negative for loss-making members).

    Notes
    -----
    **Spend fallback.** When the fitted Gamma-Gamma ``q`` is small (heavy-tailed tickets, as on the demo mall
    where ``q < 1``) the model's expected spend is infinite for members with few repeat purchases (NaN and an
    :class:`vipmodel.clv.UndefinedSpendWarning` in :mod:`vipmodel.clv`). Those members get their *observed*
    mean spend per purchase day instead (all their purchase days, the first included, returns ignored like the
    calibration summary does), flagged ``spend_source = "observed"`` (else ``"model"``); the warning is not
    repeated. So ``model_clv`` is never NaN for a member with a purchase.

    Raises
    ------
    ValueError
        ``"no purchases in the database: import transactions first"``;
        ``"as_of (2020-01-01) is before the first purchase (2023-11-01): nothing to analyse"``;
        ``"horizon_years must be a finite number > 0, got 0"``; ``"discount_rate_annual must be a finite
        number >= 0, got -0.1"``; ``"margin must be in [0, 1], got 1.5"``; ``"calibration_weeks must be a whole
        number > 0, got 0"``; and the model fits' messages when the data cannot identify them (e.g. nobody
        bought twice).
    """
    as_of = as_date(as_of, "as_of")
    _positive(horizon_years, "horizon_years")
    if not (
        not isinstance(discount_rate_annual, bool)
        and isinstance(discount_rate_annual, (int, float))
        and math.isfinite(discount_rate_annual)
        and discount_rate_annual >= 0
    ):
        raise ValueError(f"discount_rate_annual must be a finite number >= 0, got {discount_rate_annual!r}")
    if margin is not None and not (
        not isinstance(margin, bool) and isinstance(margin, (int, float)) and 0.0 <= margin <= 1.0
    ):
        raise ValueError(f"margin must be in [0, 1], got {margin!r}")
    if calibration_weeks is not None:
        _positive(calibration_weeks, "calibration_weeks", integer=True)
    return _with_connection(conn, _member_values, as_of, calibration_weeks, float(horizon_years),
                            float(discount_rate_annual), margin)


def _member_values(
    conn: Connection,
    as_of: dt.date,
    calibration_weeks: int | None,
    horizon_years: float,
    discount_rate_annual: float,
    margin: float | None,
) -> MemberValues:
    first = _check_data(conn, as_of)
    start = _observation_start(as_of, calibration_weeks)
    summary, bgnbd = _purchase_model(conn, as_of, start)
    gg = GammaGammaModel().fit(summary)

    history = _year_features(conn, start or first, as_of)
    last_year = _year_features(conn, add_years(as_of, -1) + dt.timedelta(days=1), as_of)
    ids = summary.index

    with warnings.catch_warnings():
        # The fallback below replaces every undefined spend and is flagged per member in spend_source.
        warnings.simplefilter("ignore", UndefinedSpendWarning)
        model_spend = gg.expected_spend(summary)
    hist = history.reindex(ids)
    gross = (hist["sales"] + hist["returns_amount"]).fillna(0.0)
    visits = hist["n_visits"].fillna(0).astype(float)
    observed = (gross / visits.where(visits > 0)).clip(lower=0.0).fillna(0.0)
    undefined = model_spend.isna()
    spend = model_spend.where(~undefined, observed).rename("expected_spend")

    if margin is None:
        member_margin = _margin_rates(last_year.reindex(ids), hist, history)
    else:
        member_margin = pd.Series(float(margin), index=ids)

    horizon = max(1, int(round(horizon_years * PERIODS_PER_YEAR)))
    weekly = (1.0 + discount_rate_annual) ** (1.0 / PERIODS_PER_YEAR) - 1.0
    model_clv = lifetime_value(bgnbd, _FixedSpend(spend), summary, horizon_periods=horizon, margin=member_margin,
                               discount_rate_per_period=weekly)
    alive = bgnbd.probability_alive(summary)
    annual_profit = last_year["profit_contribution"].reindex(ids).fillna(0.0).astype(float)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        years = expected_lifetime_years(bgnbd, summary, periods_per_year=PERIODS_PER_YEAR,
                                        horizon_years=horizon_years)
    if years.isna().any():
        # Seen with extreme dropout parameters (b >> a) on one year of data: the quadrature in vipmodel.clv
        # overflows. simple_clv is then unknown for those members rather than wrong.
        warnings.warn(
            f"expected_lifetime_years is undefined for {int(years.isna().sum())} members at BG/NBD parameters "
            + ", ".join(f"{k}={v:.4g}" for k, v in bgnbd.params_.items())
            + ": their simple_clv is NaN",
            RuntimeWarning,
            stacklevel=3,
        )
    simple = simple_lifetime_value(annual_profit, years.fillna(0.0)).where(years.notna())
    frame = pd.DataFrame(
        {
            "member_id": summary["member_id"].astype(str).to_numpy(),
            "frequency": summary["frequency"].to_numpy(),
            "recency": summary["recency"].to_numpy(),
            "T": summary["T"].to_numpy(),
            "monetary_value": summary["monetary_value"].to_numpy(),
            "probability_alive": alive.to_numpy(),
            "expected_purchases_1y": bgnbd.expected_purchases(PERIODS_PER_YEAR, summary).to_numpy(),
            "p_no_purchase_1y": _p_no_purchase(bgnbd, summary, alive.to_numpy(), PERIODS_PER_YEAR),
            "expected_spend": spend.to_numpy(),
            "spend_source": np.where(undefined.to_numpy(), "observed", "model"),
            "margin": member_margin.to_numpy(),
            "annual_profit": annual_profit.to_numpy(),
            "expected_lifetime_years": years.to_numpy(),
            "model_clv": model_clv.to_numpy(),
            "value_if_retained": value_if_retained(model_clv.to_numpy(), alive.to_numpy()),
            "simple_clv": simple.to_numpy(),
        }
    )
    return MemberValues(
        as_of=as_of,
        frame=frame.reset_index(drop=True)[list(VALUE_COLUMNS)],
        bgnbd=bgnbd,
        gamma_gamma=gg,
        horizon_years=horizon_years,
        discount_rate_annual=discount_rate_annual,
        observation_start=start,
    )


def _observation_start(as_of: dt.date, calibration_weeks: int | None) -> dt.date | None:
    if calibration_weeks is None:
        return None
    return as_of - dt.timedelta(weeks=int(calibration_weeks)) + dt.timedelta(days=1)


def _purchase_model(
    conn: Connection, as_of: dt.date, start: dt.date | None
) -> tuple[pd.DataFrame, BetaGeoModel]:
    """Calibration summary at ``as_of`` (weeks, indexed by member_id) and the BG/NBD fitted on it."""
    summary = calibration_summary(conn, calibration_end=as_of, observation_start=start,
                                  time_unit_days=TIME_UNIT_DAYS)
    summary = summary.set_index("member_id", drop=False)
    return summary, BetaGeoModel().fit(summary)


def _margin_rates(last_year: pd.DataFrame, hist: pd.DataFrame, history: pd.DataFrame) -> pd.Series:
    """Own last-year margin rate, else own history's, else the mall's; clipped to [0, 1]."""

    def rate(frame: pd.DataFrame) -> pd.Series:
        sales = frame["sales"].astype(float)
        return ((frame["gross_margin"] - frame["discount"]).astype(float) / sales.where(sales > 0)).clip(0.0, 1.0)

    total_sales = float(history["sales"].clip(lower=0).sum())
    mall = float(np.clip((history["gross_margin"] - history["discount"]).sum() / total_sales, 0, 1)) if total_sales > 0 else 0.0
    return rate(last_year).fillna(rate(hist)).fillna(mall)


# --------------------------------------------------------------------------------------------------------
# 2.-4. Evidence, signals, reasons, actions
# --------------------------------------------------------------------------------------------------------


_RHYTHM_COLUMNS = ("days_since_last_purchase", "median_interval_days", "n_days", "days_since_first_purchase")


_RHYTHM_BLOCK = 200_000  # members whose purchase days are taken apart at once (:func:`_purchase_rhythms`)


def _purchase_rhythms(
    conn: Connection, windows: Sequence[tuple[dt.date, dt.date | None]], block: int = _RHYTHM_BLOCK
) -> list[pd.DataFrame]:
    """Per member and window ``(as_of, start)``: days from the last purchase day to ``as_of`` and the median gap
    in days between consecutive purchase days, over the sales in ``[start, as_of]`` (all history when ``start``
    is None).

    One read serves every window: the database groups the sales by member and returns, per member, the list of
    its sale days (as days before the latest ``as_of``, ``GROUP_CONCAT`` / ``STRING_AGG``); numpy then keeps the
    distinct days of each window, takes the gaps and their median (the mean of the two middle gaps for an even
    count, NaN without a gap). One row per member leaves the database, and no window function sorts every
    purchase day per window (the former SQL took half of :func:`at_risk`'s time).

    Returns
    -------
    list of pandas.DataFrame
        One per window, indexed by ``member_id`` (members with a sale in the window), columns
        :data:`_RHYTHM_COLUMNS`: ``days_since_last_purchase`` (int), ``median_interval_days`` (float),
        ``n_days`` (distinct purchase days) and ``days_since_first_purchase`` (int), the last two enough for the
        BG/NBD summary (:func:`_rhythm_summary`).
    """
    empty = pd.DataFrame(
        {c: pd.Series(dtype=float if c == "median_interval_days" else "int64") for c in _RHYTHM_COLUMNS},
        index=pd.Index([], name="member_id", dtype=object),
    )
    if not windows:
        return []
    t = schema.transactions
    last = max(end for end, _ in windows)
    starts = [start for _, start in windows]
    first = None if any(start is None for start in starts) else min(starts)
    conditions = [unindexed(t.c.ts) < _day_start(last + dt.timedelta(days=1)), t.c.is_return.is_not(True)]
    if first is not None:
        conditions.append(unindexed(t.c.ts) >= _day_start(first))
    back = days_between(day_of(t.c.ts), literal(last, Date()))  # days before `last`, >= 0
    rows = read_frame(
        conn,
        select(
            t.c.member_id,
            func.count().label("n"),
            aggregate_strings(cast(back, String), ",").label("days"),
        )
        .where(*conditions)
        .group_by(unindexed(t.c.member_id)),
    )
    if rows.empty:
        return [empty.copy() for _ in windows]
    # A block of members at a time: the arrays below hold every purchase day of the block's members (at a million
    # members, all of them at once took 1.4 GB more); each member's figures depend on its own days only.
    parts: list[list[pd.DataFrame]] = [[] for _ in windows]
    for low in range(0, len(rows), block):
        part = rows.iloc[low:low + block]
        for kept, frame in zip(parts, _rhythm_block(part, windows, last)):
            if len(frame):
                kept.append(frame)
    return [pd.concat(kept) if len(kept) > 1 else kept[0] if kept else empty.copy() for kept in parts]


def _rhythm_block(
    rows: pd.DataFrame, windows: Sequence[tuple[dt.date, dt.date | None]], last: dt.date
) -> list[pd.DataFrame]:
    """:func:`_purchase_rhythms`' figures of the members of ``rows`` (``member_id``, ``n`` and ``days``, their
    purchase days as days before ``last``), one frame per window (empty without a purchase in it)."""
    counts = rows["n"].to_numpy(dtype=np.int64)
    days_back = np.fromstring(",".join(rows["days"].tolist()), dtype=np.int64, sep=",")
    if len(days_back) != counts.sum():
        raise AssertionError("the purchase days read do not match their count")
    # Distinct (member, day) pairs, sorted by member then most recent day first (one int64 key, sorted in place;
    # the arrays are freed as soon as they are used).
    span = int(days_back.max()) + 1
    key = np.repeat(np.arange(len(rows), dtype=np.int64) * span, counts)
    key += days_back
    del days_back
    key.sort()
    keep = np.empty(len(key), dtype=bool)
    keep[0] = True
    np.not_equal(key[1:], key[:-1], out=keep[1:])
    key = key[keep]
    del keep
    member, days_back = np.divmod(key, span)
    del key
    ids = rows["member_id"].to_numpy()
    out = []
    for end, start in windows:
        low = (last - end).days
        in_window = days_back >= low
        if start is not None:
            in_window &= days_back <= (last - start).days
        m, d = member[in_window], days_back[in_window]
        if len(m) == 0:
            out.append(pd.DataFrame())
            continue
        new_member = np.empty(len(m), dtype=bool)
        new_member[0] = True
        np.not_equal(m[1:], m[:-1], out=new_member[1:])
        firsts = np.flatnonzero(new_member)  # each member's most recent day in the window
        n_days = np.diff(np.append(firsts, len(m)))
        # Gaps between consecutive distinct days of the same member, sorted by member then gap.
        gap_member = m[1:][~new_member[1:]]
        gaps = np.diff(d)[~new_member[1:]]
        gaps = np.sort(gap_member * span + gaps) % span
        n_gaps = np.bincount(gap_member, minlength=len(ids))[m[firsts]]
        offset = np.concatenate(([0], np.cumsum(n_gaps)[:-1]))
        has = n_gaps > 0
        lo = offset[has] + (n_gaps[has] - 1) // 2
        hi = offset[has] + n_gaps[has] // 2
        median = np.full(len(firsts), np.nan)
        median[has] = (gaps[lo] + gaps[hi]) / 2.0
        out.append(
            pd.DataFrame(
                {
                    "days_since_last_purchase": d[firsts] - low,
                    "median_interval_days": median,
                    "n_days": n_days,
                    "days_since_first_purchase": d[firsts + n_days - 1] - low,
                },
                index=pd.Index(ids[m[firsts]], name="member_id"),
            )
        )
    return out


@shares_result
def _purchase_rhythm(conn: Connection, as_of: dt.date, start: dt.date | None) -> pd.DataFrame:
    """:func:`_purchase_rhythms` of the one window ``(as_of, start)``."""
    return _purchase_rhythms(conn, ((as_of, start),))[0]


def _rhythm_summary(rhythm: pd.DataFrame) -> pd.DataFrame:
    """The BG/NBD columns of :func:`vipmodel.features.calibration_summary` (``frequency``, ``recency``, ``T``
    in weeks, sorted by ``member_id``, indexed by it as in :func:`_purchase_model`) from a window of
    :func:`_purchase_rhythms`: the same distinct purchase days of the same members (a sale in the window), so
    the same values, without a second pass over the transactions. No ``monetary_value``: only for BG/NBD."""
    r = rhythm.sort_index(kind="stable")
    first = r["days_since_first_purchase"].to_numpy(dtype=np.int64)
    last = r["days_since_last_purchase"].to_numpy(dtype=np.int64)
    ids = r.index.to_numpy()
    return pd.DataFrame(
        {
            "member_id": ids,
            "frequency": r["n_days"].to_numpy(dtype=np.int64) - 1,
            "recency": (first - last) / TIME_UNIT_DAYS,
            "T": first / TIME_UNIT_DAYS,
        },
        index=pd.Index(ids, name="member_id"),
    )


@shares_result
def _spend_windows(conn: Connection, as_of: dt.date, days: int) -> pd.DataFrame:
    """Per member: net sales in the last ``days`` days (``sales_recent``) and the ``days`` before (``sales_before``)."""
    t = schema.transactions
    cut = _day_start(as_of - dt.timedelta(days=days - 1))
    amount = signed(t.c.amount)
    rows = read_frame(
        conn,
        select(
            t.c.member_id,
            cast(func.sum(case((t.c.ts >= cut, amount), else_=0)), Float).label("sales_recent"),
            cast(func.sum(case((t.c.ts < cut, amount), else_=0)), Float).label("sales_before"),
        )
        .where(
            t.c.ts >= _day_start(as_of - dt.timedelta(days=2 * days - 1)),
            t.c.ts < _day_start(as_of + dt.timedelta(days=1)),
        )
        .group_by(t.c.member_id),
    )
    if rows.empty:
        return pd.DataFrame(columns=["sales_recent", "sales_before"], index=pd.Index([], name="member_id"))
    return rows.set_index("member_id").astype(float)


@shares_result
def _satisfaction_scores(conn: Connection, as_of: dt.date, weights: Mapping[str, float]) -> pd.DataFrame:
    """Per member: weighted score (1-7) of the latest and the previous survey on or before ``as_of``."""
    r, a, i = schema.survey_responses, schema.survey_answers, schema.survey_items
    ranked = (
        select(
            r.c.id,
            r.c.member_id,
            func.row_number()
            .over(partition_by=r.c.member_id, order_by=(r.c.survey_date.desc(), r.c.id.desc()))
            .label("rn"),
        )
        .where(r.c.survey_date <= as_of)
        .subquery()
    )
    rows = read_frame(
        conn,
        select(ranked.c.member_id, ranked.c.rn, i.c.dimension, cast(func.avg(a.c.score), Float).label("score"))
        .select_from(ranked.join(a, a.c.response_id == ranked.c.id).join(i, a.c.item_code == i.c.item_code))
        .where(ranked.c.rn <= 2)
        .group_by(ranked.c.member_id, ranked.c.rn, i.c.dimension),
    )
    if rows.empty:
        return pd.DataFrame(columns=["sat_latest", "sat_previous"], index=pd.Index([], name="member_id"), dtype=float)
    rows["w"] = rows["dimension"].map(weights).fillna(0.0).astype(float)
    rows = rows[rows["w"] > 0]
    # A dimension left unanswered drops out and the others' weights are renormalised.
    rows["ws"] = rows["w"] * rows["score"].astype(float)
    per = rows.groupby(["member_id", "rn"])[["ws", "w"]].sum()
    score = (per["ws"] / per["w"]).unstack("rn")
    return pd.DataFrame(
        {"sat_latest": score.get(1), "sat_previous": score.get(2)}, index=score.index
    ).astype(float)


@shares_result
def _last_care(conn: Connection, as_of: dt.date) -> pd.Series:
    c = schema.care_actions
    rows = read_frame(
        conn,
        select(c.c.member_id, type_coerce(func.max(c.c.action_date), Date()).label("last_care"))
        .where(c.c.action_date <= as_of)
        .group_by(c.c.member_id),
    )
    if rows.empty:
        return pd.Series(dtype=object, name="last_care")
    return pd.to_datetime(rows.set_index("member_id")["last_care"]).dt.date


def _names(conn: Connection, ids: Sequence[str]) -> pd.Series:
    m = schema.members
    if len(ids) > _NAMES_SCAN_FROM:
        # Most members are asked for: one pass over the members table beats hundreds of IN-lists, whose
        # compilation alone costs seconds per hundred thousand ids.
        frame = read_frame(conn, select(m.c.member_id, m.c.name))
    else:
        parts = []
        for k in range(0, len(ids), _MEMBER_CHUNK):
            chunk = list(ids[k : k + _MEMBER_CHUNK])
            parts.append(read_frame(conn, select(m.c.member_id, m.c.name).where(m.c.member_id.in_(chunk))))
        frame = pd.concat(parts) if parts else pd.DataFrame(columns=["member_id", "name"])
    return frame.set_index("member_id")["name"] if not frame.empty else pd.Series(dtype=object, name="name")


def _tiers(features: pd.DataFrame, rules: TierRules) -> pd.Series:
    active = features[features["n_transactions"] > 0]
    if active.empty:
        return pd.Series(dtype=object, name="tier")
    return assign_tiers(active.reset_index(), rules).astype(str)


def _evidence(
    conn: Connection,
    as_of: dt.date,
    summary_values: pd.DataFrame,
    rules: RiskRules,
    tier_rules: TierRules,
    weights: Mapping[str, float],
    observation_start: dt.date | None,
    rhythm: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Everything known at ``as_of`` about each member active in the year up to ``as_of`` (one row each).

    ``rhythm`` is :func:`_purchase_rhythm` at ``(as_of, observation_start)`` when the caller already has it.
    """
    (prev_start, prev_end), (year_start, _) = [
        (add_years(as_of, -k - 1) + dt.timedelta(days=1), add_years(as_of, -k)) for k in (1, 0)
    ]
    year = _year_features(conn, year_start, as_of)
    active = year[year["n_transactions"] > 0]
    if active.empty:
        return pd.DataFrame()
    ids = active.index
    previous = _year_features(conn, prev_start, prev_end)
    spend = _spend_windows(conn, as_of, int(rules.spend_window_days)).reindex(ids).fillna(0.0)
    if rhythm is None:
        rhythm = _purchase_rhythm(conn, as_of, observation_start)
    rhythm = rhythm.reindex(ids)
    lookback = as_of - dt.timedelta(days=int(rules.complaint_lookback_days) - 1)
    complaints = complaint_features(conn, lookback, as_of).reindex(ids).fillna(0)
    sat = _satisfaction_scores(conn, as_of, weights).reindex(ids)
    last_care = _last_care(conn, as_of).reindex(ids)
    values = summary_values.set_index("member_id").reindex(ids)

    ev = pd.DataFrame(index=ids)
    ev["tier"] = _tiers(year, tier_rules).reindex(ids)
    ev["tier_last_year"] = _tiers(previous, tier_rules).reindex(ids)
    ev["sales_year"] = active["sales"].astype(float)
    ev["sales_prev_year"] = previous["sales"].reindex(ids).fillna(0.0).astype(float)
    ev["care_cost_year"] = active["care_cost"].astype(float)
    ev["sales_recent"] = spend["sales_recent"]
    ev["sales_before"] = spend["sales_before"]
    ev["days_since_last_purchase"] = rhythm["days_since_last_purchase"]
    ev["median_interval_days"] = rhythm["median_interval_days"]
    for status in COMPLAINT_STATUSES:
        cols = [f"{cat}_{status}" for cat in schema.COMPLAINT_CATEGORIES]
        ev[f"complaints_{status}"] = complaints[cols].sum(axis=1).astype(int)
    ev["sat_latest"] = sat["sat_latest"]
    ev["sat_previous"] = sat["sat_previous"]
    ev["days_since_care"] = (pd.Timestamp(as_of) - pd.to_datetime(last_care)).dt.days
    ev["probability_alive"] = values["probability_alive"].astype(float)
    ev["p_no_purchase_1y"] = values["p_no_purchase_1y"].astype(float)

    # Signals
    ev["low_p_alive"] = ev["probability_alive"] < rules.p_alive_threshold
    typical = ev["median_interval_days"].median()
    rhythm_days = ev["median_interval_days"].fillna(typical if pd.notna(typical) else float(rules.overdue_floor_days))
    threshold = np.maximum(rules.overdue_factor * rhythm_days, rules.overdue_floor_days)
    ev["overdue"] = ev["days_since_last_purchase"] > threshold
    ev["spend_falling"] = (ev["sales_before"] > 0) & (ev["sales_recent"] < rules.spend_drop_ratio * ev["sales_before"])

    # Reasons
    ev["complaint_unresolved"] = ev["complaints_unresolved"] > 0
    ev["complaint_slow"] = ev["complaints_resolved_slow"] > 0
    ev["satisfaction_low"] = ev["sat_latest"] < rules.low_satisfaction
    ev["satisfaction_falling"] = ev["sat_latest"] < ev["sat_previous"]
    order = {t: k for k, t in enumerate(schema.TIERS)}
    ev["tier_downgrade"] = ev["tier"].map(order) > ev["tier_last_year"].map(order)
    ev["spend_down"] = (ev["sales_prev_year"] > 0) & (ev["sales_year"] < rules.spend_down_ratio * ev["sales_prev_year"])
    ev["no_care_contact"] = ~(ev["days_since_care"] < rules.no_care_days)
    for col in (*SIGNALS, *REASONS):
        ev[col] = ev[col].fillna(False).astype(bool)
    return ev


# Model inputs of the learned score; each is known at the scoring date.
_SCORE_FEATURES: tuple[str, ...] = (
    "p_no_purchase_1y",
    *SIGNALS,
    "log_sales",
    "log_care",
    "complaints_unresolved",
    "complaints_resolved_slow",
    "complaints_resolved_quick",
    "sat_centered",
    "sat_missing",
    "satisfaction_falling",
    "tier_downgrade",
    "spend_down",
    "no_care_contact",
)


def _design(ev: pd.DataFrame) -> np.ndarray:
    sat = ev["sat_latest"]
    cols = {
        "p_no_purchase_1y": ev["p_no_purchase_1y"].fillna(1.0),
        "log_sales": np.log1p(ev["sales_year"].clip(lower=0.0) / 1000.0),
        "log_care": np.log1p(ev["care_cost_year"].clip(lower=0.0) / 100.0),
        "sat_centered": (sat - 4.0).fillna(0.0),
        "sat_missing": sat.isna(),
    }
    data = [np.asarray(cols[c] if c in cols else ev[c], dtype=float) for c in _SCORE_FEATURES]
    return np.column_stack(data)


@dataclass(frozen=True)
class _Logistic:
    """Ridge-penalised logistic regression on standardised inputs (:func:`vipmodel.logistic.fit_logistic`)."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray  # intercept first

    @classmethod
    def fit(cls, X: np.ndarray, y: np.ndarray, l2: float = 1.0) -> _Logistic:
        mean = X.mean(axis=0)
        scale = X.std(axis=0)
        scale = np.where(scale > 0, scale, 1.0)
        Z = np.column_stack([np.ones(len(X)), (X - mean) / scale])
        penalty = np.full(Z.shape[1], l2)
        penalty[0] = 0.0  # the intercept is not shrunk
        return cls(mean, scale, fit_logistic(Z, y, l2=penalty, maxiter=50).coef)

    def predict(self, X: np.ndarray) -> np.ndarray:
        Z = (X - self.mean) / self.scale
        return 1.0 / (1.0 + np.exp(-(self.coef[0] + np.einsum("ij,j->i", Z, self.coef[1:]))))


def _rules_score(ev: pd.DataFrame) -> np.ndarray:
    base = ev["p_no_purchase_1y"].fillna(1.0).to_numpy(dtype=float)
    overdue = ev["overdue"].to_numpy(dtype=float)
    falling = ev["spend_falling"].to_numpy(dtype=float)
    return 1.0 - (1.0 - base) * (1.0 - 0.5 * overdue) * (1.0 - 0.3 * falling)


def _learned_model(
    conn: Connection,
    as_of: dt.date,
    rules: RiskRules,
    tier_rules: TierRules,
    weights: Mapping[str, float],
    calibration_weeks: int | None,
    rhythm: pd.DataFrame | None = None,
) -> _Logistic | None:
    """The score model learned on the year before ``as_of`` (evidence a year ago -> churned since), or None.

    ``rhythm`` is :func:`_purchase_rhythm` at the training date when the caller already has it."""
    train_date = add_years(as_of, -1)
    panel = churn_panel(conn, as_of, years=1, rules=tier_rules)
    if len(panel) < MIN_TRAINING_MEMBERS or panel["churned"].nunique() < 2:
        return None
    start = _observation_start(train_date, calibration_weeks)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if rhythm is None:
                summary, bgnbd = _purchase_model(conn, train_date, start)
            else:
                summary = _rhythm_summary(rhythm)
                bgnbd = BetaGeoModel().fit(summary)
    except ValueError:
        return None  # too little history a year ago to fit the purchase model
    alive = bgnbd.probability_alive(summary).to_numpy()
    past = pd.DataFrame(
        {
            "member_id": summary["member_id"].to_numpy(),
            "probability_alive": alive,
            "p_no_purchase_1y": _p_no_purchase(bgnbd, summary, alive, PERIODS_PER_YEAR),
        }
    )
    ev = _evidence(conn, train_date, past, rules, tier_rules, weights, start, rhythm)
    labels = panel.set_index("member_id")["churned"].reindex(ev.index)
    known = labels.notna().to_numpy()
    if known.sum() < MIN_TRAINING_MEMBERS:
        return None
    return _Logistic.fit(_design(ev)[known], labels[known].astype(float).to_numpy())


def _check_weights(weights: Mapping[str, float] | None) -> dict[str, float]:
    if weights is None:
        return {d: 1.0 for d in schema.DIMENSIONS}
    if not isinstance(weights, Mapping):
        raise ValueError(f"satisfaction_weights must be a mapping of dimension to weight, got {type(weights).__name__}")
    unknown = sorted(set(weights) - set(schema.DIMENSIONS))
    if unknown:
        raise ValueError(f"unknown satisfaction dimensions: {', '.join(unknown)}")
    if any(not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v) or v < 0
           for v in weights.values()) or sum(weights.values()) <= 0:
        raise ValueError("satisfaction_weights must be finite numbers >= 0 with a positive sum")
    return {d: float(v) for d, v in weights.items()}


def _check_save_rates(save_rates: Mapping[str, float] | None) -> dict[str, float]:
    rates = dict(DEFAULT_SAVE_RATES)
    for code, rate in (save_rates or {}).items():
        if code not in rates:
            raise ValueError(f"unknown action in save_rates: {code!r}; expected one of {', '.join(rates)}")
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0.0 <= rate <= 1.0:
            raise ValueError(f"save rate of {code} must be in [0, 1], got {rate!r}")
        rates[code] = float(rate)
    return rates


def _fired(frame: pd.DataFrame, codes: tuple[str, ...]) -> list[tuple[str, ...]]:
    """Per row, the codes whose bool column is True, in the order of ``codes``."""
    flags = frame[list(codes)].to_numpy(dtype=bool)
    # Each row's flags as one integer, looked up in the table of every combination (2 ** len(codes) tuples).
    bits = flags.astype(np.int64) @ (np.int64(1) << np.arange(len(codes), dtype=np.int64))
    table = [tuple(c for k, c in enumerate(codes) if mask >> k & 1) for mask in range(1 << len(codes))]
    return [table[b] for b in bits.tolist()]


def at_risk(
    conn: Connection | Engine,
    as_of: dt.date,
    values: MemberValues,
    rules: RiskRules = DEFAULT_RULES,
    tier_rules: TierRules = DEFAULT_TIER_RULES,
    satisfaction_weights: Mapping[str, float] | None = None,
    save_rates: Mapping[str, float] | None = None,
    learn: bool = True,
    only_flagged: bool = True,
) -> pd.DataFrame:
    """Members at risk of churning, ranked by value at risk, with likely reasons and a recommended action.

    Parameters
    ----------
    conn : sqlalchemy.Engine or sqlalchemy.Connection
        The mall database (transactions, care_actions, complaints, survey tables, members).
    as_of : datetime.date
        The day of the analysis; nothing after it is read.
    values : MemberValues
        :func:`member_values` at the same ``as_of``.
    rules : RiskRules, optional
        Thresholds of signals and reasons (:data:`DEFAULT_RULES`).
    tier_rules : vipmodel.pyramid.TierRules, optional
        Pyramid rules for ``tier`` (the last year) and ``tier_last_year`` (the year before).
    satisfaction_weights : mapping, optional
        Dimension -> weight of the survey score (normalised; equal weights when None). Pass the saved
        ``satisfaction_weights`` setting to use the mall's own.
    save_rates : mapping, optional
        Action code -> assumed share of the value at risk the action saves, overriding
        :data:`DEFAULT_SAVE_RATES` (assumptions, not estimates).
    learn : bool, default True
        Learn the score from the previous year (module docstring); False forces the fixed rule combination.
    only_flagged : bool, default True
        Keep only members with at least one signal; False returns every member active in the last year.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`AT_RISK_COLUMNS`, one row per member active (a sale) in the year up to ``as_of``, sorted
        by ``value_at_risk`` descending then ``member_id``:

        ``name`` (personal data, for masking in the plan); ``as_of``; ``tier`` / ``tier_last_year`` (pyramid
        of each year among members active in it; None when not active); ``probability_alive``; ``score``
        (0-1, churn risk in the next year, see the module docstring) and ``score_method`` ("learned" |
        "rules"); ``signals`` (tuple of the codes in :data:`SIGNALS` that fired) and one bool column per signal;
        ``days_since_last_purchase``; ``median_interval_days`` (NaN with one purchase day); ``sales_recent``
        and ``sales_before`` (net sales of the two spend windows); ``reasons`` (tuple of :data:`REASONS`
        codes) and ``reason_primary`` (the first in :data:`REASONS` order, ``"no_clear_reason"`` if none);
        ``model_clv`` and ``value_if_retained`` (from ``values``); ``value_at_risk``
        (:func:`value_at_risk`: ``score x value_if_retained``, the expected future profit lost if nothing is
        done); ``action`` (the tier's action code, :data:`ACTIONS`) and ``actions`` (tuple; complaint reasons
        put ``"resolve_complaint"`` first); ``action_cost`` (yuan, sum over ``actions``); ``save_rate``;
        ``expected_benefit`` (``value_at_risk x save_rate``); ``net_benefit`` (benefit minus cost).

    Notes
    -----
    Tier actions follow the pyramid strategies: A personal care by the account manager, B a tailored offer
    and a call, C an information/coupon SMS, D an SMS only for members with potential (``model_clv`` at
    least the median ``model_clv`` of tier C, or positive when tier C is empty), otherwise no spend.

    Raises
    ------
    ValueError
        ``"values must be a MemberValues from member_values(), got DataFrame"``;
        ``"values were computed at 2026-01-31, not at as_of (2026-10-31)"``; the messages of
        :func:`member_values` for empty data; ``"unknown action in save_rates: 'x'; ..."``;
        ``"save rate of info_sms must be in [0, 1], got 2"``; ``"unknown satisfaction dimensions: x"``.
    """
    as_of = as_date(as_of, "as_of")
    if not isinstance(values, MemberValues):
        raise ValueError(f"values must be a MemberValues from member_values(), got {type(values).__name__}")
    if values.as_of != as_of:
        raise ValueError(f"values were computed at {values.as_of.isoformat()}, not at as_of ({as_of.isoformat()})")
    if not isinstance(rules, RiskRules):
        raise ValueError(f"rules must be a RiskRules, got {type(rules).__name__}")
    weights = _check_weights(satisfaction_weights)
    rates = _check_save_rates(save_rates)
    return _with_connection(conn, _at_risk, as_of, values, rules, tier_rules, weights, rates, learn, only_flagged)


def _at_risk(
    conn: Connection,
    as_of: dt.date,
    values: MemberValues,
    rules: RiskRules,
    tier_rules: TierRules,
    weights: dict[str, float],
    rates: dict[str, float],
    learn: bool,
    only_flagged: bool,
) -> pd.DataFrame:
    _check_data(conn, as_of)
    calibration_weeks = None
    if values.observation_start is not None:
        calibration_weeks = round(((as_of - values.observation_start).days + 1) / 7)
    # The purchase rhythm now and at the training date (a year ago) come from one read of the purchase days.
    windows = [(as_of, values.observation_start)]
    if learn:
        train_date = add_years(as_of, -1)
        windows.append((train_date, _observation_start(train_date, calibration_weeks)))
    rhythms = _purchase_rhythms(conn, windows)
    ev = _evidence(conn, as_of, values.frame, rules, tier_rules, weights, values.observation_start, rhythms[0])
    if ev.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in AT_RISK_COLUMNS})
    model = (_learned_model(conn, as_of, rules, tier_rules, weights, calibration_weeks, rhythms[-1])
             if learn else None)
    del rhythms
    if model is not None:
        ev["score"] = model.predict(_design(ev))
        ev["score_method"] = "learned"
    else:
        ev["score"] = _rules_score(ev)
        ev["score_method"] = "rules"

    ev["signals"] = _fired(ev, SIGNALS)
    ev["reasons"] = _fired(ev, REASONS)
    ev["reason_primary"] = [r[0] if r else NO_CLEAR_REASON for r in ev["reasons"]]
    member_value = values.frame.set_index("member_id")[["model_clv", "value_if_retained"]].reindex(ev.index)
    ev["model_clv"] = member_value["model_clv"].fillna(0.0).astype(float)
    ev["value_if_retained"] = member_value["value_if_retained"].fillna(0.0).astype(float)
    ev["value_at_risk"] = value_at_risk(ev["score"].to_numpy(), ev["value_if_retained"].to_numpy())

    c_clv = ev.loc[ev["tier"] == "C", "model_clv"]
    potential_cut = float(c_clv.median()) if len(c_clv) else 0.0
    clv = ev["model_clv"].to_numpy()
    has_potential = (clv >= potential_cut if len(c_clv) else clv > 0).tolist()
    main = [_TIER_ACTION.get(tier) or ("lift_to_c" if potential else "no_spend")
            for tier, potential in zip(ev["tier"].tolist(), has_potential)]
    # A complaint reason puts "resolve_complaint" first (the reasons hold a complaint code iff its column is set).
    complaint = ev[list(_COMPLAINT_REASONS)].any(axis=1).tolist()
    actions = [("resolve_complaint", code) if extra else (code,) for code, extra in zip(main, complaint)]
    cost = {acts: sum(_ACTION_BY_CODE[a].unit_cost for a in acts) for acts in set(actions)}
    ev["action"] = main
    ev["actions"] = actions
    ev["action_cost"] = [cost[acts] for acts in actions]
    ev["save_rate"] = [rates[a] for a in main]
    ev["expected_benefit"] = ev["value_at_risk"] * ev["save_rate"]
    ev["net_benefit"] = ev["expected_benefit"] - ev["action_cost"]
    ev["name"] = _names(conn, list(ev.index)).reindex(ev.index)
    ev["as_of"] = as_of
    out = ev.reset_index().rename(columns={"index": "member_id"})
    if only_flagged:
        out = out[out["signals"].map(len) > 0]
    out = out.sort_values(["value_at_risk", "member_id"], ascending=[False, True], kind="stable")
    out["tier"] = out["tier"].astype(object).where(out["tier"].notna(), None)
    out["tier_last_year"] = out["tier_last_year"].astype(object).where(out["tier_last_year"].notna(), None)
    return out[list(AT_RISK_COLUMNS)].reset_index(drop=True)


# --------------------------------------------------------------------------------------------------------
# 5. Maintenance plan
# --------------------------------------------------------------------------------------------------------

PLAN_COLUMNS: tuple[str, ...] = (
    "member_id",
    "name",
    "tier",
    "score",
    "signals",
    "reasons",
    "value_at_risk",
    "action",
    "action_cost",
    "expected_benefit",
    "owner",
    "due_date",
)
# Days to act, by tier: the most valuable members first.
DUE_DAYS: dict[Tier, int] = {"A": 3, "B": 7, "C": 14, "D": 30}
_PLAN_INPUT = ("member_id", "name", "as_of", "tier", "score", "signals", "reasons", "value_at_risk", "actions",
               "action_cost", "expected_benefit")


def _mask(name: Any) -> str:
    if name is None or (isinstance(name, float) and math.isnan(name)) or str(name).strip() == "":
        return ""
    text = str(name).strip()
    return text[0] + "*" * max(1, len(text) - 1)


def maintenance_plan(at_risk_frame: pd.DataFrame, show_personal: bool = False) -> pd.DataFrame:
    """The customer marketing maintenance plan table (客户营销维护计划表), in codes for the app to word.

    Parameters
    ----------
    at_risk_frame : pandas.DataFrame
        Output of :func:`at_risk`; needs ``member_id, name, as_of, tier, score, signals, reasons,
        value_at_risk, actions, action_cost, expected_benefit``.
    show_personal : bool, default False
        Show full names; by default only the first character is kept (``王小明`` -> ``王**``).

    Returns
    -------
    pandas.DataFrame
        Same rows and order, columns :data:`PLAN_COLUMNS`: ``member_id`` (str), ``name``, ``tier`` (code),
        ``score`` (0-1, 2 decimals), ``signals`` and ``reasons`` (tuples of :data:`SIGNALS` / :data:`REASONS`
        codes), ``value_at_risk``, ``action`` (tuple of :data:`ACTIONS` codes), ``action_cost``,
        ``expected_benefit`` (2 decimals), ``owner`` (blank, to fill in), ``due_date`` (``as_of`` +
        :data:`DUE_DAYS` of the tier).

    Raises
    ------
    ValueError
        ``"at_risk_frame is missing columns: score"``; ``"at_risk_frame must be a pandas DataFrame, got list"``.
    """
    require_columns(at_risk_frame, _PLAN_INPUT, "at_risk_frame", allow_empty=True)
    f = at_risk_frame
    due = [
        None if pd.isna(day) else day + dt.timedelta(days=DUE_DAYS.get(tier, 30))
        for day, tier in zip(f["as_of"], f["tier"])
    ]
    return pd.DataFrame(
        {
            "member_id": f["member_id"].astype(str).to_numpy(),
            "name": [("" if n is None or pd.isna(n) else str(n)) if show_personal else _mask(n) for n in f["name"]],
            "tier": [t if isinstance(t, str) else None for t in f["tier"]],
            "score": f["score"].astype(float).round(2).to_numpy(),
            "signals": [tuple(codes) for codes in f["signals"]],
            "reasons": [tuple(codes) for codes in f["reasons"]],
            "value_at_risk": f["value_at_risk"].astype(float).round(2).to_numpy(),
            "action": [tuple(acts) for acts in f["actions"]],
            "action_cost": f["action_cost"].astype(float).round(2).to_numpy(),
            "expected_benefit": f["expected_benefit"].astype(float).round(2).to_numpy(),
            "owner": "",
            "due_date": due,
        },
        columns=list(PLAN_COLUMNS),
    )


# --------------------------------------------------------------------------------------------------------
# 6. Honest evaluation
# --------------------------------------------------------------------------------------------------------


def auc_with_ci(score: Sequence[float] | np.ndarray, positive: Sequence[bool] | np.ndarray) -> tuple[float, float, float, float]:
    """Area under the ROC curve with its Hanley-McNeil standard error and 95% interval [3]_.

    The AUC is the Mann-Whitney ``U`` of the positives' scores against the negatives' divided by
    ``n_pos * n_neg`` (:func:`scipy.stats.mannwhitneyu`; ties count one half): the probability that a random
    positive scores higher than a random negative. ``SE = sqrt((A(1-A) + (n1-1)(Q1-A^2) + (n0-1)(Q2-A^2)) /
    (n1 n0))`` with ``Q1 = A/(2-A)``, ``Q2 = 2A^2/(1+A)``; the interval is ``A +- 1.96 SE`` clipped to [0, 1].

    Returns
    -------
    tuple of float
        ``(auc, std_error, ci_lower, ci_upper)``.

    Raises
    ------
    ValueError
        ``"score and positive must have the same length"``; ``"the AUC needs both outcomes: 3 positives and 0
        negatives"``; ``"score contains missing values (NaN)"``.
    """
    s = np.asarray(score, dtype=float)
    y = np.asarray(positive, dtype=bool)
    if s.shape != y.shape or s.ndim != 1:
        raise ValueError("score and positive must have the same length")
    if np.isnan(s).any():
        raise ValueError("score contains missing values (NaN)")
    n1, n0 = int(y.sum()), int((~y).sum())
    if n1 == 0 or n0 == 0:
        raise ValueError(f"the AUC needs both outcomes: {n1} positives and {n0} negatives")
    u = stats.mannwhitneyu(s[y], s[~y], alternative="two-sided").statistic
    a = float(u) / (n1 * n0)
    q1, q2 = a / (2.0 - a), 2.0 * a * a / (1.0 + a)
    se = math.sqrt(max(a * (1 - a) + (n1 - 1) * (q1 - a * a) + (n0 - 1) * (q2 - a * a), 0.0) / (n1 * n0))
    return a, se, max(0.0, a - _Z95 * se), min(1.0, a + _Z95 * se)


@dataclass(frozen=True)
class RiskEvaluation:
    """How well the risk score and the value model did on a year they did not see (see :func:`evaluate_churn_risk`).

    Attributes
    ----------
    as_of, calibration_end : datetime.date
        End of the holdout and of the data the score was computed from.
    members, churned : int
        Members active in the year up to ``calibration_end`` and how many of them churned.
    score_method : str
        ``"learned"`` or ``"rules"`` (see the module docstring).
    auc, auc_std_error, auc_ci_lower, auc_ci_upper : float
        ROC AUC of ``score`` for ``churned`` with the Hanley-McNeil 95% interval.
    auc_p_no_purchase : float
        The same AUC for the BG/NBD probability of no purchase alone (a baseline).
    calibration : pandas.DataFrame
        By score decile: ``decile`` (1 = lowest), ``members``, ``mean_score``, ``churn_rate``.
    holdout_table : pandas.DataFrame
        :func:`vipmodel.clv.holdout_fit_table` of the purchase model over the holdout.
    predicted_purchases, actual_purchases : float
        Total purchase days in the holdout, predicted by the BG/NBD and observed.
    purchases_relative_error : float
        ``(predicted - actual) / actual``.
    scores : pandas.DataFrame
        ``member_id``, ``score``, ``churned``: the evaluated pairs (for ROC plots).
    """

    as_of: dt.date
    calibration_end: dt.date
    members: int
    churned: int
    score_method: str
    auc: float
    auc_std_error: float
    auc_ci_lower: float
    auc_ci_upper: float
    auc_p_no_purchase: float
    calibration: pd.DataFrame = field(repr=False)
    holdout_table: pd.DataFrame = field(repr=False)
    predicted_purchases: float
    actual_purchases: float
    purchases_relative_error: float
    scores: pd.DataFrame = field(repr=False)


def evaluate_churn_risk(
    conn: Connection | Engine,
    as_of: dt.date,
    holdout_days: int = 365,
    rules: RiskRules = DEFAULT_RULES,
    tier_rules: TierRules = DEFAULT_TIER_RULES,
    satisfaction_weights: Mapping[str, float] | None = None,
    calibration_weeks: int | None = None,
    learn: bool = True,
    bins: int = 10,
) -> RiskEvaluation:
    """Judge the churn-risk score and the value model on the last ``holdout_days`` before ``as_of``.

    The score (:func:`at_risk`) and the value model (:func:`member_values`) are computed with data up to
    ``calibration_end = as_of - holdout_days`` only; the outcome is what members did afterwards. Churned means
    no purchase in the holdout year among members active in the year up to ``calibration_end``, taken from
    :func:`vipmodel.outcomes.churn_panel` (the one definition of churn). Because that definition is annual,
    the holdout must be exactly one year: 365 days, or 366 when it spans 29 February.

    Parameters
    ----------
    conn : sqlalchemy.Engine or sqlalchemy.Connection
        The mall database.
    as_of : datetime.date
        Last day of the holdout (usually the last day of data).
    holdout_days : int, default 365
        Length of the holdout; must equal one year before ``as_of``.
    rules, tier_rules, satisfaction_weights, learn
        As in :func:`at_risk`.
    calibration_weeks : int, optional
        As in :func:`member_values`.
    bins : int, default 10
        Number of score groups of the calibration table (deciles), >= 2.

    Returns
    -------
    RiskEvaluation

    Raises
    ------
    ValueError
        ``"holdout_days must cover exactly one year before as_of (365 days for as_of 2026-10-31): churn is
        defined on whole years (outcomes.churn_panel)"``; ``"bins must be a whole number >= 2, got 1"``;
        ``"no member active in the year up to 2025-10-31 to evaluate"``; and the messages of
        :func:`member_values`.
    """
    as_of = as_date(as_of, "as_of")
    expected = (as_of - add_years(as_of, -1)).days
    if isinstance(holdout_days, bool) or not isinstance(holdout_days, (int, np.integer)) or holdout_days != expected:
        raise ValueError(
            f"holdout_days must cover exactly one year before as_of ({expected} days for as_of {as_of.isoformat()}): "
            "churn is defined on whole years (outcomes.churn_panel)"
        )
    if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or bins < 2:
        raise ValueError(f"bins must be a whole number >= 2, got {bins!r}")
    weights = _check_weights(satisfaction_weights)
    return _with_connection(conn, _evaluate, as_of, int(holdout_days), rules, tier_rules, weights,
                            calibration_weeks, learn, int(bins))


def _evaluate(
    conn: Connection,
    as_of: dt.date,
    holdout_days: int,
    rules: RiskRules,
    tier_rules: TierRules,
    weights: dict[str, float],
    calibration_weeks: int | None,
    learn: bool,
    bins: int,
) -> RiskEvaluation:
    cal_end = as_of - dt.timedelta(days=holdout_days)
    start = _observation_start(cal_end, calibration_weeks)
    holdout = calibration_summary(conn, calibration_end=cal_end, holdout_end=as_of, observation_start=start,
                                  time_unit_days=TIME_UNIT_DAYS)
    # The summary without the holdout columns is the same rows (a member's first purchase day is before cal_end in
    # both): inside a shared-queries block member_values reads it instead of a second pass over all history.
    remember(calibration_summary, holdout.drop(columns=list(HOLDOUT_COLUMNS)), conn, calibration_end=cal_end,
             observation_start=start, time_unit_days=TIME_UNIT_DAYS)
    values = member_values(conn, cal_end, calibration_weeks=calibration_weeks)
    risk = _at_risk(conn, cal_end, values, rules, tier_rules, weights, dict(DEFAULT_SAVE_RATES), learn,
                    only_flagged=False)
    if risk.empty:
        raise ValueError(f"no member active in the year up to {cal_end.isoformat()} to evaluate")
    panel = churn_panel(conn, as_of, years=1, rules=tier_rules).set_index("member_id")
    pairs = risk[["member_id", "score"]].copy()
    pairs["churned"] = panel["churned"].reindex(pairs["member_id"]).to_numpy()
    # churn_panel and at_risk select the same members (a sale in the year up to calibration_end).
    pairs = pairs[pairs["churned"].notna()].astype({"churned": bool}).reset_index(drop=True)
    auc, se, lo, hi = auc_with_ci(pairs["score"], pairs["churned"])
    lapse = values.frame.set_index("member_id")["p_no_purchase_1y"].reindex(pairs["member_id"]).fillna(1.0)
    auc_lapse = auc_with_ci(lapse.to_numpy(), pairs["churned"].to_numpy())[0]

    ranks = pairs["score"].rank(method="first")
    pairs_bins = np.ceil(ranks / len(pairs) * bins).astype(int).clip(1, bins)
    calibration = (
        pairs.assign(decile=pairs_bins)
        .groupby("decile")
        .agg(members=("score", "size"), mean_score=("score", "mean"), churn_rate=("churned", "mean"))
        .reset_index()
    )

    length = holdout_days / TIME_UNIT_DAYS
    table = holdout_fit_table(values.bgnbd, holdout, length)
    predicted = float(values.bgnbd.expected_purchases(length, holdout).sum())
    actual = float(holdout["holdout_purchases"].sum())
    return RiskEvaluation(
        as_of=as_of,
        calibration_end=cal_end,
        members=len(pairs),
        churned=int(pairs["churned"].sum()),
        score_method=str(risk["score_method"].iloc[0]),
        auc=auc,
        auc_std_error=se,
        auc_ci_lower=lo,
        auc_ci_upper=hi,
        auc_p_no_purchase=auc_lapse,
        calibration=calibration,
        holdout_table=table,
        predicted_purchases=predicted,
        actual_purchases=actual,
        purchases_relative_error=(predicted - actual) / actual if actual > 0 else float("nan"),
        scores=pairs,
    )
