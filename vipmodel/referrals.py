"""Referral analysis (转介绍): who brings new members, how many, and what the referred members are worth.

``members.referred_by`` records who referred whom. The mall documents quote "100 satisfied customers bring 25
new customers" (DOMAIN.md); this module measures the mall's own figure and checks whether satisfied members
really refer more.

Definitions used throughout
---------------------------
* A **referral** is a member whose ``referred_by`` is set; it is dated by the referred member's ``join_date``.
  Referral counts are grouped by ``referred_by`` inside the database.
* The **year window** ending at ``as_of`` is ``[as_of - 1 year + 1 day, as_of]`` (:func:`vipmodel.outcomes.
  year_windows`). A member is **active** there when it has at least one sale in it, the base of the pyramid
  and of the churn panel.
* The **first year** of a referred member is its first :data:`FIRST_YEAR_DAYS` days, join day included:
  ``[join_date, join_date + 365 days)``. Its value there is net sales and profit contribution (gross margin -
  discount - care cost - complaint compensation, as in :func:`vipmodel.features.member_features`), aggregated
  in SQL per referred member and then per referrer. A first year that is not over yet counts what happened
  so far.
* **Satisfaction** of a member is its *latest* survey response dated in the ``lookback_years`` years up to
  the reference day: the mean item score of each dimension (1-7), combined with the satisfaction weights
  (latest saved ``"satisfaction_weights"`` setting, equal weights when none was saved) and renormalised over
  the dimensions the response answered. :func:`vipmodel.outcomes.survey_features` averages all surveys of a
  window instead; for a referrer the latest opinion is the relevant one, hence a query of its own.
* **Satisfaction buckets** on the 1-7 scale: ``below_4`` [1, 4), ``4_to_5`` [4, 5), ``5_to_6`` [5, 6),
  ``6_plus`` [6, 7]; members without a survey are ``no_survey``.

Confidence intervals
--------------------
Referral counts are treated as Poisson: the exact (Garwood) interval for a count ``k`` is
``[chi2.ppf(a/2, 2k) / 2, chi2.ppf(1 - a/2, 2k + 2) / 2]`` [1]_, divided by the members at risk. Proportions
(churn rate, share referred) use the exact Clopper-Pearson interval [2]_; means use Student's t.

References
----------
.. [1] Garwood, F. (1936). Fiducial limits for the Poisson distribution. *Biometrika* 28(3/4), 437-442.
.. [2] Clopper, C. J. & Pearson, E. S. (1934). The use of confidence or fiducial limits illustrated in the
   case of the binomial. *Biometrika* 26(4), 404-413.
.. [3] Schmitt, P., Skiera, B. & Van den Bulte, C. (2011). Referral programs and customer value. *Journal of
   Marketing* 75(1), 46-59 (referred customers are more loyal and more valuable; what
   :func:`referred_value` checks on the mall's own data).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from numbers import Real
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from sqlalchemy import Connection, Engine, Float, Integer, and_, case, cast, func, literal, select
from sqlalchemy.sql.elements import ColumnElement

from vipmodel import schema
from vipmodel.contracts import require_columns
from vipmodel.db import as_date, borrow_connection, read_frame
from vipmodel.features import member_features
from vipmodel.margins import current_margin_rates, margin_sql
from vipmodel.outcomes import add_years, churn_panel
from vipmodel.pyramid import DEFAULT_RULES, TierRules, assign_tiers
from vipmodel.schema import signed
from vipmodel.settings import latest_setting

FIRST_YEAR_DAYS = 365
REFERENCE_PER_100 = 25.0  # DOMAIN.md: "100 satisfied customers bring 25 new customers"
GROUPINGS: tuple[str, ...] = ("tier", "satisfaction")
SATISFACTION_EDGES: tuple[float, ...] = (4.0, 5.0, 6.0)
SATISFACTION_BUCKETS: tuple[str, ...] = ("below_4", "4_to_5", "5_to_6", "6_plus")
NO_SURVEY = "no_survey"
ALL_GROUP = "all"
TIER_GROUPS: tuple[str, ...] = schema.TIERS
VALUE_GROUPS: tuple[str, ...] = ("referred", "other")

SATISFACTION_COLUMNS: tuple[str, ...] = (
    "member_id",
    "survey_date",
    *(f"sat_{d}" for d in schema.DIMENSIONS),
    "satisfaction",
)
SUMMARY_COLUMNS: tuple[str, ...] = (
    "referrer_id",
    "referrals",
    "referred_buyers",
    "referred_sales",
    "referred_profit",
    "tier",
    "satisfaction",
)
RATE_COLUMNS: tuple[str, ...] = (
    "group",
    "members",
    "referrers",
    "referrals",
    "referrer_share",
    "rate_per_100",
    "rate_low",
    "rate_high",
)
VALUE_COLUMNS: tuple[str, ...] = (
    "group",
    "members",
    "mean_sales",
    "mean_sales_low",
    "mean_sales_high",
    "mean_profit",
    "mean_profit_low",
    "mean_profit_high",
    "mean_next_sales",
    "mean_next_sales_low",
    "mean_next_sales_high",
    "churned",
    "churn_rate",
    "churn_rate_low",
    "churn_rate_high",
)
TOP_COLUMNS: tuple[str, ...] = ("member_id", "name", *SUMMARY_COLUMNS[1:])


# ------------------------------------------------------------------------------------------------ validation


def _check_range(start: dt.date, end: dt.date) -> None:
    if start > end:
        raise ValueError(f"start ({start.isoformat()}) is after end ({end.isoformat()})")


def _positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer; got {value!r}")
    return int(value)


def _check_confidence(confidence: Any) -> float:
    if isinstance(confidence, bool) or not isinstance(confidence, Real) or not 0.0 < float(confidence) < 1.0:
        raise ValueError(f"confidence must be in (0, 1); got {confidence!r}")
    return float(confidence)


def _day(value: Any) -> dt.date:
    """A database date as ``datetime.date`` (aggregates over dates may come back as text from SQLite)."""
    if isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    return value.date() if isinstance(value, dt.datetime) else value


def _year_start(as_of: dt.date) -> dt.date:
    return add_years(as_of, -1) + dt.timedelta(days=1)


# ------------------------------------------------------------------------------------------ interval helpers


def poisson_rate_ci(count: int, exposure: float, confidence: float = 0.95) -> tuple[float, float]:
    """Exact (Garwood) confidence interval of the rate ``count / exposure`` of a Poisson count [1]_.

    Parameters
    ----------
    count : int
        Observed events (>= 0).
    exposure : float
        Members (or member-years) at risk, > 0.
    confidence : float, default 0.95

    Returns
    -------
    (float, float)
        Lower and upper bound of the rate; the lower bound is 0 when ``count`` is 0.

    Raises
    ------
    ValueError
        ``"count must be a non-negative integer; got -1"``, ``"exposure must be positive; got 0"``,
        ``"confidence must be in (0, 1); got 1.5"``.
    """
    if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 0:
        raise ValueError(f"count must be a non-negative integer; got {count!r}")
    if isinstance(exposure, bool) or not isinstance(exposure, Real) or not float(exposure) > 0:
        raise ValueError(f"exposure must be positive; got {exposure!r}")
    alpha = 1.0 - _check_confidence(confidence)
    low = 0.0 if count == 0 else float(stats.chi2.ppf(alpha / 2, 2 * count)) / 2
    high = float(stats.chi2.ppf(1 - alpha / 2, 2 * count + 2)) / 2
    return low / float(exposure), high / float(exposure)


def proportion_ci(successes: int, trials: int, confidence: float = 0.95) -> tuple[float, float]:
    """Exact Clopper-Pearson interval of a proportion [2]_; (nan, nan) when ``trials`` is 0.

    Raises ``ValueError("successes must be an integer between 0 and trials; got 5 of 3")`` and the confidence
    message of :func:`poisson_rate_ci`.
    """
    alpha = 1.0 - _check_confidence(confidence)
    if trials == 0:
        return math.nan, math.nan
    if not 0 <= successes <= trials:
        raise ValueError(f"successes must be an integer between 0 and trials; got {successes} of {trials}")
    low = 0.0 if successes == 0 else float(stats.beta.ppf(alpha / 2, successes, trials - successes + 1))
    high = 1.0 if successes == trials else float(stats.beta.ppf(1 - alpha / 2, successes + 1, trials - successes))
    return low, high


def mean_ci(values: np.ndarray, confidence: float = 0.95) -> tuple[float, float, float]:
    """Mean and Student-t confidence interval of ``values``; bounds are NaN with fewer than two values."""
    alpha = 1.0 - _check_confidence(confidence)
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        return math.nan, math.nan, math.nan
    mean = float(x.mean())
    if x.size < 2:
        return mean, math.nan, math.nan
    half = float(stats.t.ppf(1 - alpha / 2, x.size - 1)) * float(x.std(ddof=1)) / math.sqrt(x.size)
    return mean, mean - half, mean + half


# -------------------------------------------------------------------------------------------- satisfaction


def _resolve_weights(conn: Connection, weights: Mapping[str, float] | None) -> np.ndarray:
    if weights is None:
        saved = latest_setting(conn, "satisfaction_weights")
        weights = saved.payload if saved is not None else {d: 1.0 for d in schema.DIMENSIONS}
    if not isinstance(weights, Mapping) or set(map(str, weights)) != set(schema.DIMENSIONS):
        got = sorted(map(str, weights)) if isinstance(weights, Mapping) else type(weights).__name__
        raise ValueError(
            "satisfaction weights must give exactly product_quality, sales_service, corporate_image; got " + str(got)
        )
    values = [weights[d] for d in schema.DIMENSIONS]
    if any(isinstance(v, bool) or not isinstance(v, Real) or not math.isfinite(v) or v < 0 for v in values):
        raise ValueError(f"satisfaction weights must be non-negative finite numbers; got {values}")
    if sum(values) <= 0:
        raise ValueError("at least one satisfaction weight must be positive")
    return np.asarray(values, dtype=float)


def latest_satisfaction(
    conn: Connection | Engine,
    as_of: dt.date,
    weights: Mapping[str, float] | None = None,
    lookback_years: int = 2,
) -> pd.DataFrame:
    """Each member's latest survey response in the ``lookback_years`` years up to ``as_of``, weighted.

    Parameters
    ----------
    conn : sqlalchemy.Engine or sqlalchemy.Connection
        Reads ``survey_responses`` (``id, member_id, survey_date``), ``survey_answers`` (``response_id,
        item_code, score``), ``survey_items`` (``item_code, dimension``) and, when ``weights`` is None,
        ``settings``.
    as_of : datetime.date
        Last day a survey may be dated.
    weights : mapping of dimension -> weight, optional
        Non-negative weights of :data:`vipmodel.schema.DIMENSIONS` (normalised here). Default: the latest saved
        ``"satisfaction_weights"`` setting, else equal weights.
    lookback_years : int, default 2
        Older responses are ignored: an opinion of years ago says little about today.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`SATISFACTION_COLUMNS`, one row per member with a response, sorted by ``member_id``:
        ``survey_date``; ``sat_<dimension>`` (mean item score 1-7, NaN when the dimension was not answered);
        ``satisfaction`` (weighted mean over the answered dimensions, NaN when all of them have weight 0).
        Aggregated in SQL by member and dimension.

    Raises
    ------
    ValueError
        ``"as_of must be a date, got str"``; ``"lookback_years must be a positive integer; got 0"``;
        ``"satisfaction weights must give exactly product_quality, sales_service, corporate_image; got [...]"``;
        ``"satisfaction weights must be non-negative finite numbers; got [...]"``;
        ``"at least one satisfaction weight must be positive"``.
    """
    as_of = as_date(as_of, "as_of")
    lookback_years = _positive_int(lookback_years, "lookback_years")
    since = add_years(as_of, -lookback_years) + dt.timedelta(days=1)
    r, a, i = schema.survey_responses, schema.survey_answers, schema.survey_items
    with borrow_connection(conn) as connection:
        w = _resolve_weights(connection, weights)
        latest = (
            select(r.c.member_id, func.max(r.c.survey_date).label("survey_date"))
            .where(r.c.survey_date >= since, r.c.survey_date <= as_of)
            .group_by(r.c.member_id)
            .subquery("latest")
        )
        # (member_id, survey_date) is unique, so the join picks exactly the latest response.
        query = (
            select(latest.c.member_id, latest.c.survey_date, i.c.dimension,
                   cast(func.avg(a.c.score), Float).label("score"))
            .select_from(
                latest.join(r, and_(r.c.member_id == latest.c.member_id, r.c.survey_date == latest.c.survey_date))
                .join(a, a.c.response_id == r.c.id)
                .join(i, a.c.item_code == i.c.item_code)
            )
            .group_by(latest.c.member_id, latest.c.survey_date, i.c.dimension)
        )
        # read_frame: building a frame from SQLAlchemy rows costs a key look-up per row (minutes at a million)
        long = read_frame(connection, query)
    score_columns = [f"sat_{d}" for d in schema.DIMENSIONS]
    if long.empty:
        frame = pd.DataFrame({c: pd.Series(dtype=float) for c in SATISFACTION_COLUMNS})
        return frame.astype({"member_id": "str", "survey_date": "object"})
    wide = long.pivot(index=["member_id", "survey_date"], columns="dimension", values="score")
    wide = wide.reindex(columns=list(schema.DIMENSIONS)).astype(float)
    scores = wide.to_numpy()
    answered = ~np.isnan(scores)
    weight_sum = (answered * w).sum(axis=1)
    weighted = np.where(answered, scores, 0.0) @ w
    with np.errstate(invalid="ignore", divide="ignore"):
        satisfaction = np.where(weight_sum > 0, weighted / np.where(weight_sum > 0, weight_sum, 1.0), np.nan)
    out = wide.set_axis(score_columns, axis=1).reset_index()
    out["satisfaction"] = satisfaction
    out["member_id"] = out["member_id"].astype(str)
    out["survey_date"] = [_day(d) for d in out["survey_date"]]
    return out[list(SATISFACTION_COLUMNS)].sort_values("member_id", kind="stable").reset_index(drop=True)


def satisfaction_bucket(satisfaction: pd.Series) -> pd.Series:
    """The bucket of each satisfaction value on the 1-7 scale (:data:`SATISFACTION_BUCKETS`, NaN -> ``no_survey``).

    Raises ``ValueError("satisfaction must be a pandas Series, got list")`` and
    ``ValueError("satisfaction must be numeric")``.
    """
    if not isinstance(satisfaction, pd.Series):
        raise ValueError(f"satisfaction must be a pandas Series, got {type(satisfaction).__name__}")
    try:
        values = satisfaction.to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise ValueError("satisfaction must be numeric") from exc
    codes = np.searchsorted(np.asarray(SATISFACTION_EDGES), values, side="right")
    labels = np.asarray(SATISFACTION_BUCKETS, dtype=object)[np.minimum(codes, len(SATISFACTION_BUCKETS) - 1)]
    labels[np.isnan(values)] = NO_SURVEY
    return pd.Series(labels, index=satisfaction.index, name="satisfaction_bucket", dtype=object)


# -------------------------------------------------------------------------------------------- SQL helpers


def _days_after(conn: Connection, day: ColumnElement, days: int) -> ColumnElement:
    """``day`` plus ``days`` days, as a date both backends compare with dates and timestamps alike."""
    if conn.dialect.name == "sqlite":
        return func.date(day, literal(f"+{int(days)} days"))
    return day + literal(int(days), Integer)


def _referral_counts(conn: Connection, start: dt.date, end: dt.date) -> pd.DataFrame:
    """``referrer_id``, ``referrals``: members joining in ``[start, end]``, counted per referrer in SQL."""
    m = schema.members
    query = (
        select(m.c.referred_by.label("referrer_id"), func.count().label("referrals"))
        .where(m.c.referred_by.is_not(None), m.c.join_date >= start, m.c.join_date <= end)
        .group_by(m.c.referred_by)
    )
    frame = read_frame(conn, query)
    if frame.empty:
        return pd.DataFrame({"referrer_id": pd.Series(dtype=str), "referrals": pd.Series(dtype="int64")})
    return frame.astype({"referrer_id": str, "referrals": "int64"})


def _first_year_value(conn: Connection, start: dt.date, end: dt.date) -> pd.DataFrame:
    """Per referrer: referrals joining in ``[start, end]`` and their first-year buyers, sales and profit (SQL)."""
    m, t, c, k = schema.members, schema.transactions, schema.care_actions, schema.complaints
    rates, _ = current_margin_rates(conn)  # sales exported without a margin get the mall's rate
    referred = (
        select(
            m.c.member_id,
            m.c.referred_by,
            m.c.join_date,
            _days_after(conn, m.c.join_date, FIRST_YEAR_DAYS).label("horizon"),
        )
        .where(m.c.referred_by.is_not(None), m.c.join_date >= start, m.c.join_date <= end)
        .subquery("referred")
    )
    tx = (
        select(
            referred.c.member_id,
            func.sum(case((t.c.is_return, 0), else_=1)).label("n_sales"),
            func.sum(signed(t.c.amount)).label("sales"),
            func.sum(signed(margin_sql(rates)) - signed(t.c.discount)).label("margin"),
        )
        .select_from(t.join(referred, t.c.member_id == referred.c.member_id))
        .where(t.c.ts >= referred.c.join_date, t.c.ts < referred.c.horizon)
        .group_by(referred.c.member_id)
        .subquery("tx")
    )
    care = (
        select(referred.c.member_id, func.sum(c.c.cost).label("care_cost"))
        .select_from(c.join(referred, c.c.member_id == referred.c.member_id))
        .where(c.c.action_date >= referred.c.join_date, c.c.action_date < referred.c.horizon)
        .group_by(referred.c.member_id)
        .subquery("care")
    )
    comp = (
        select(referred.c.member_id, func.sum(k.c.compensation_cost).label("complaint_cost"))
        .select_from(k.join(referred, k.c.member_id == referred.c.member_id))
        .where(k.c.complaint_date >= referred.c.join_date, k.c.complaint_date < referred.c.horizon)
        .group_by(referred.c.member_id)
        .subquery("comp")
    )
    zero = literal(0)
    per_member = (
        select(
            referred.c.referred_by,
            case((func.coalesce(tx.c.n_sales, zero) > 0, 1), else_=0).label("buyer"),
            func.coalesce(tx.c.sales, zero).label("sales"),
            (
                func.coalesce(tx.c.margin, zero)
                - func.coalesce(care.c.care_cost, zero)
                - func.coalesce(comp.c.complaint_cost, zero)
            ).label("profit"),
        )
        .select_from(
            referred.outerjoin(tx, tx.c.member_id == referred.c.member_id)
            .outerjoin(care, care.c.member_id == referred.c.member_id)
            .outerjoin(comp, comp.c.member_id == referred.c.member_id)
        )
        .subquery("per_member")
    )
    query = select(
        per_member.c.referred_by.label("referrer_id"),
        func.count().label("referrals"),
        func.sum(per_member.c.buyer).label("referred_buyers"),
        cast(func.sum(per_member.c.sales), Float).label("referred_sales"),
        cast(func.sum(per_member.c.profit), Float).label("referred_profit"),
    ).group_by(per_member.c.referred_by)
    return read_frame(conn, query)


def _active_tiers(conn: Connection, as_of: dt.date, rules: TierRules) -> pd.Series:
    """Tier of every member active in the year window ending at ``as_of`` (indexed by ``member_id``)."""
    feats = member_features(conn, _year_start(as_of), as_of, period="range")
    active = feats[feats["n_transactions"] > 0]
    if active.empty:
        return pd.Series(dtype=object, index=pd.Index([], name="member_id"), name="tier")
    return assign_tiers(active.reset_index(drop=True), rules).astype(str)


def _resolve_rules(conn: Connection, rules: TierRules | None) -> TierRules:
    if rules is None:
        saved = latest_setting(conn, "tier_rules")
        return DEFAULT_RULES if saved is None else TierRules.from_payload(saved.payload)
    if not isinstance(rules, TierRules):
        raise ValueError(f"rules must be a TierRules, got {type(rules).__name__}")
    return rules


# ------------------------------------------------------------------------------------------ public analyses


def referral_summary(
    conn: Connection | Engine,
    start: dt.date,
    end: dt.date,
    rules: TierRules | None = None,
    weights: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """One row per member who referred anyone joining in ``[start, end]``, with the value of those referred.

    Parameters
    ----------
    conn : sqlalchemy.Engine or sqlalchemy.Connection
        Reads ``members`` (``member_id, join_date, referred_by``), ``transactions``, ``care_actions``,
        ``complaints`` and the survey tables.
    start, end : datetime.date
        Join dates of the referred members, both inclusive.
    rules : TierRules, optional
        Tier rules for the referrer's tier; default the latest saved ``"tier_rules"`` setting, else the
        1/4/15/80 pyramid.
    weights : mapping, optional
        Satisfaction weights (see :func:`latest_satisfaction`).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`SUMMARY_COLUMNS`, sorted by ``referrals`` (descending), then ``referred_sales``
        (descending), then ``referrer_id``: ``referrer_id`` (str); ``referrals`` (int, referred members who
        joined in the range); ``referred_buyers`` (int, of them with a sale in their first year);
        ``referred_sales``, ``referred_profit`` (their first-year net sales and profit contribution, summed,
        rounded to cents; see the module docstring); ``tier`` (the referrer's tier among members active in
        the year window ending at ``end``, None when the referrer did not buy in it); ``satisfaction`` (the
        referrer's latest weighted survey score up to ``end``, 1-7, NaN without a survey). Empty (with these
        columns) when nobody joined through a referral in the range.

    Raises
    ------
    ValueError
        ``"start (2026-02-01) is after end (2026-01-01)"``, ``"start must be a date, got str"``,
        ``"conn must be a SQLAlchemy Engine or Connection, got str"``, ``"rules must be a TierRules, got dict"``,
        and the weight messages of :func:`latest_satisfaction`.
    """
    start, end = as_date(start, "start"), as_date(end, "end")
    _check_range(start, end)
    with borrow_connection(conn) as connection:
        rules = _resolve_rules(connection, rules)
        summary = _first_year_value(connection, start, end)
        if summary.empty:
            return _empty(SUMMARY_COLUMNS, {"referrer_id": "str", "tier": "object"})
        tiers = _active_tiers(connection, end, rules)
        satisfaction = latest_satisfaction(connection, end, weights).set_index("member_id")["satisfaction"]
    summary = summary.astype({"referrer_id": str, "referrals": "int64", "referred_buyers": "int64"})
    for column in ("referred_sales", "referred_profit"):
        summary[column] = summary[column].astype(float).round(2)
    tier = summary["referrer_id"].map(tiers)
    summary["tier"] = tier.astype(object).where(tier.notna(), None)
    summary["satisfaction"] = summary["referrer_id"].map(satisfaction).astype(float)
    summary = summary.sort_values(
        ["referrals", "referred_sales", "referrer_id"], ascending=[False, False, True], kind="stable"
    )
    return summary[list(SUMMARY_COLUMNS)].reset_index(drop=True)


def _empty(columns: tuple[str, ...], dtypes: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=dtypes.get(c, "float64")) for c in columns})


def rate_table(
    members: pd.DataFrame, groups: tuple[str, ...], confidence: float = 0.95
) -> pd.DataFrame:
    """Referral rate per group from one row per member at risk.

    Parameters
    ----------
    members : pandas.DataFrame
        One row per member who could refer: ``member_id``, ``group`` (one of ``groups``) and ``referrals``
        (non-negative integer count of members that member referred in the window).
    groups : tuple of str
        Group labels, in the order of the output rows.
    confidence : float, default 0.95

    Returns
    -------
    pandas.DataFrame
        Columns :data:`RATE_COLUMNS`, one row per group in ``groups`` order followed by ``"all"``:
        ``members``, ``referrers`` (members with at least one referral), ``referrals``, ``referrer_share``
        (referrers / members), ``rate_per_100`` (referrals per 100 members, compare with
        :data:`REFERENCE_PER_100`) and its exact Poisson interval ``rate_low``, ``rate_high`` (per 100; NaN for
        an empty group).

    Raises
    ------
    ValueError
        ``"members is missing columns: group"``, ``"members is empty (no rows)"``,
        ``"members has groups not in groups: 'X'"``, ``"members column 'referrals' must hold non-negative
        whole numbers"``, ``"members must hold one row per member; member_id 'M1' appears more than once"``.
    """
    require_columns(members, ("member_id", "group", "referrals"), "members")
    ids = members["member_id"]
    if not ids.is_unique:
        raise ValueError(
            f"members must hold one row per member; member_id {ids[ids.duplicated()].iloc[0]!r} appears more than once"
        )
    unknown = sorted(set(members["group"].astype(str)) - set(groups))
    if unknown:
        raise ValueError("members has groups not in groups: " + ", ".join(repr(u) for u in unknown))
    try:
        counts = members["referrals"].to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise ValueError("members column 'referrals' must hold non-negative whole numbers") from exc
    if np.isnan(counts).any() or (counts < 0).any() or (counts != np.round(counts)).any():
        raise ValueError("members column 'referrals' must hold non-negative whole numbers")
    frame = pd.DataFrame({"group": members["group"].astype(str).to_numpy(), "referrals": counts.astype(np.int64)})
    rows = []
    for group in (*groups, ALL_GROUP):
        part = frame if group == ALL_GROUP else frame[frame["group"] == group]
        n, k = len(part), int(part["referrals"].sum())
        low, high = poisson_rate_ci(k, n, confidence) if n else (math.nan, math.nan)
        rows.append(
            {
                "group": group,
                "members": n,
                "referrers": int((part["referrals"] > 0).sum()),
                "referrals": k,
                "referrer_share": (part["referrals"] > 0).mean() if n else math.nan,
                "rate_per_100": 100.0 * k / n if n else math.nan,
                "rate_low": 100.0 * low,
                "rate_high": 100.0 * high,
            }
        )
    return pd.DataFrame(rows, columns=list(RATE_COLUMNS)).astype(
        {"members": "int64", "referrers": "int64", "referrals": "int64", "referrer_share": "float64"}
    )


def referral_rates(
    conn: Connection | Engine,
    as_of: dt.date,
    by: str = "tier",
    rules: TierRules | None = None,
    weights: Mapping[str, float] | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Referrals per 100 active members in the year window ending at ``as_of``, by tier or satisfaction bucket.

    The members at risk are those active (at least one sale) in ``[as_of - 1 year + 1 day, as_of]``; their
    referrals are the members who joined in that window with ``referred_by`` pointing at them (counted in SQL).
    Referrals made by members who did not buy in the window are not in any group.

    Parameters
    ----------
    conn : sqlalchemy.Engine or sqlalchemy.Connection
    as_of : datetime.date
        Last day of the year window.
    by : {"tier", "satisfaction"}
        ``"tier"``: the member's tier in the window (``rules``); ``"satisfaction"``: the bucket of the member's
        latest survey up to ``as_of`` (:func:`satisfaction_bucket`, plus ``no_survey``).
    rules : TierRules, optional
        Default the latest saved ``"tier_rules"`` setting, else the 1/4/15/80 pyramid.
    weights : mapping, optional
        Satisfaction weights (see :func:`latest_satisfaction`).
    confidence : float, default 0.95

    Returns
    -------
    pandas.DataFrame
        :func:`rate_table` over groups ``A, B, C, D`` or :data:`SATISFACTION_BUCKETS` + ``no_survey``, then
        ``all``. Empty (with :data:`RATE_COLUMNS`) when no member was active in the window.

    Raises
    ------
    ValueError
        ``"by must be 'tier' or 'satisfaction'; got 'store'"``, ``"as_of must be a date, got str"``,
        ``"confidence must be in (0, 1); got 1.5"`` and the messages of :func:`latest_satisfaction`.
    """
    as_of = as_date(as_of, "as_of")
    if by not in GROUPINGS:
        raise ValueError(f"by must be 'tier' or 'satisfaction'; got {by!r}")
    confidence = _check_confidence(confidence)
    with borrow_connection(conn) as connection:
        rules = _resolve_rules(connection, rules)
        tiers = _active_tiers(connection, as_of, rules)
        if tiers.empty:
            return _empty(RATE_COLUMNS, {"group": "str"})
        counts = _referral_counts(connection, _year_start(as_of), as_of).set_index("referrer_id")["referrals"]
        if by == "satisfaction":
            satisfaction = latest_satisfaction(connection, as_of, weights).set_index("member_id")["satisfaction"]
    members = pd.DataFrame({"member_id": tiers.index.astype(str)})
    members["referrals"] = members["member_id"].map(counts).fillna(0).astype("int64")
    if by == "tier":
        members["group"] = tiers.to_numpy()
        groups = TIER_GROUPS
    else:
        members["group"] = satisfaction_bucket(members["member_id"].map(satisfaction).astype(float)).to_numpy()
        groups = (*SATISFACTION_BUCKETS, NO_SURVEY)
    return rate_table(members, groups, confidence)


def referred_value(
    conn: Connection | Engine, as_of: dt.date, years: int = 2, confidence: float = 0.95
) -> pd.DataFrame:
    """New members who joined through a referral against the other new members: value and churn.

    Stands on :func:`vipmodel.outcomes.churn_panel` (``as_of``, ``years``), the one definition of churn: its
    feature windows are the ``years`` year windows before the last year up to ``as_of``. A **new member** of a
    window is one that joined in it and bought in it (so it has a panel row there); it is followed through
    that row: sales and profit contribution in the joining window (a partial first year, equally partial for
    both groups, who join throughout the year), sales in the following full year (``next_sales``, 0 when it
    churned) and ``churned`` (no sale in the following year).

    Parameters
    ----------
    conn : sqlalchemy.Engine or sqlalchemy.Connection
    as_of : datetime.date
        Last day of the latest outcome window.
    years : int, default 2
        Number of joining windows.
    confidence : float, default 0.95

    Returns
    -------
    pandas.DataFrame
        Columns :data:`VALUE_COLUMNS`, rows ``referred`` and ``other``: ``members`` (new members followed);
        ``mean_sales``, ``mean_profit``, ``mean_next_sales`` with Student-t bounds ``*_low``, ``*_high``;
        ``churned`` (count), ``churn_rate`` with Clopper-Pearson bounds. A group without members has NaN
        statistics. Empty (with these columns) when the panel is empty (less than two years of data).

    Raises
    ------
    ValueError
        ``"years must be a positive integer; got 0"``, ``"as_of must be a date, got str"``,
        ``"confidence must be in (0, 1); got 1.5"``.
    """
    as_of = as_date(as_of, "as_of")
    years = _positive_int(years, "years")
    confidence = _check_confidence(confidence)
    m = schema.members
    with borrow_connection(conn) as connection:
        panel = churn_panel(connection, as_of, years)
        if panel.empty:
            return _empty(VALUE_COLUMNS, {"group": "str"})
        first = min(panel["window_start"])
        joined = read_frame(
            connection,
            select(m.c.member_id, m.c.join_date, m.c.referred_by.is_not(None).label("referred")).where(
                m.c.join_date >= first, m.c.join_date <= add_years(as_of, -1)
            ),
        )
    if joined.empty:
        return _value_rows(panel.iloc[0:0], confidence)
    joined["join_date"] = [_day(d) for d in joined["join_date"]]
    rows = panel.merge(joined.astype({"member_id": str}), on="member_id", how="inner")
    in_window = (rows["join_date"] >= rows["window_start"]) & (rows["join_date"] <= rows["window_end"])
    return _value_rows(rows[in_window], confidence)


def _value_rows(rows: pd.DataFrame, confidence: float) -> pd.DataFrame:
    out = []
    for group in VALUE_GROUPS:
        part = rows[rows["referred"].astype(bool) == (group == "referred")] if len(rows) else rows
        record: dict[str, Any] = {"group": group, "members": len(part)}
        for name, column in (("mean_sales", "sales"), ("mean_profit", "profit_contribution"),
                             ("mean_next_sales", "next_sales")):
            values = part[column].to_numpy(dtype=float) if len(part) else np.array([])
            record[name], record[f"{name}_low"], record[f"{name}_high"] = mean_ci(values, confidence)
        churned = int(part["churned"].astype(bool).sum()) if len(part) else 0
        record["churned"] = churned
        record["churn_rate"] = churned / len(part) if len(part) else math.nan
        record["churn_rate_low"], record["churn_rate_high"] = proportion_ci(churned, len(part), confidence)
        out.append(record)
    return pd.DataFrame(out, columns=list(VALUE_COLUMNS)).astype({"members": "int64", "churned": "int64"})


def mask_name(name: str | None) -> str:
    """A name with all but its first character hidden: ``"王小明"`` -> ``"王**"``, ``None`` -> ``""``."""
    if name is None or (isinstance(name, float) and math.isnan(name)):
        return ""
    text = str(name).strip()
    if not text:
        return ""
    return text[0] + "*" * max(len(text) - 1, 1)


def top_referrers(
    conn: Connection | Engine,
    as_of: dt.date,
    n: int = 20,
    start: dt.date | None = None,
    show_names: bool = False,
    rules: TierRules | None = None,
    weights: Mapping[str, float] | None = None,
    members: Collection[str] | None = None,
) -> pd.DataFrame:
    """The ``n`` members who referred most new members joining in ``[start, as_of]``.

    Parameters
    ----------
    conn : sqlalchemy.Engine or sqlalchemy.Connection
    as_of : datetime.date
        Last join date counted.
    n : int, default 20
        Rows returned (at most).
    start : datetime.date, optional
        First join date counted; default the year window ending at ``as_of``.
    show_names : bool, default False
        Names are personal data: masked with :func:`mask_name` unless True.
    rules, weights
        As in :func:`referral_summary`.
    members : collection of str, optional
        Only these referrers compete for the ``n`` places (e.g. one store's members); default everyone.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`TOP_COLUMNS`: ``member_id``, ``name`` (masked unless ``show_names``; ``""`` when
        unknown), then the columns of :func:`referral_summary`, in its order (most referrals first).

    Raises
    ------
    ValueError
        ``"n must be a positive integer; got 0"``, ``"show_names must be True or False"`` and the messages of
        :func:`referral_summary`.
    """
    as_of = as_date(as_of, "as_of")
    n = _positive_int(n, "n")
    if not isinstance(show_names, bool):
        raise ValueError("show_names must be True or False")
    start = _year_start(as_of) if start is None else as_date(start, "start")
    m = schema.members
    with borrow_connection(conn) as connection:
        summary = referral_summary(connection, start, as_of, rules, weights)
        if members is not None:
            summary = summary[summary["referrer_id"].isin(members)]
        summary = summary.head(n)
        if summary.empty:
            return _empty(TOP_COLUMNS, {"member_id": "str", "name": "str", "tier": "object"})
        names = dict(
            connection.execute(
                select(m.c.member_id, m.c.name).where(m.c.member_id.in_(summary["referrer_id"].tolist()))
            ).all()
        )
    out = summary.rename(columns={"referrer_id": "member_id"})
    raw = out["member_id"].map(names)
    out.insert(1, "name", [("" if v is None else str(v)) if show_names else mask_name(v) for v in raw])
    return out[list(TOP_COLUMNS)].reset_index(drop=True)


@dataclass(frozen=True)
class NewMemberReferrals:
    """How the members who joined in a period came: through a referral or otherwise.

    Attributes
    ----------
    start, end : datetime.date
        The join-date range (inclusive).
    new_members : int
        Members who joined in the range.
    referred : int
        Of them, members with ``referred_by`` set.
    referred_share : float
        ``referred / new_members`` (NaN when nobody joined), with Clopper-Pearson bounds ``share_low``,
        ``share_high``.
    """

    start: dt.date
    end: dt.date
    new_members: int
    referred: int
    referred_share: float
    share_low: float
    share_high: float


def new_member_referrals(
    conn: Connection | Engine, start: dt.date, end: dt.date, confidence: float = 0.95
) -> NewMemberReferrals:
    """New members joining in ``[start, end]`` and the share that came through a referral (counted in SQL).

    Raises ``ValueError`` with the date and confidence messages of :func:`referral_summary`.
    """
    start, end = as_date(start, "start"), as_date(end, "end")
    _check_range(start, end)
    confidence = _check_confidence(confidence)
    m = schema.members
    with borrow_connection(conn) as connection:
        total, referred = connection.execute(
            select(func.count(), func.count(m.c.referred_by)).where(m.c.join_date >= start, m.c.join_date <= end)
        ).one()
    total, referred = int(total), int(referred or 0)
    low, high = proportion_ci(referred, total, confidence)
    return NewMemberReferrals(start, end, total, referred, referred / total if total else math.nan, low, high)
