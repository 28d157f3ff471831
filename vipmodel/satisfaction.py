"""Satisfaction index with tunable weights, tested against what members did next.

The questionnaire (DOMAIN.md) has items on a 7-level scale (1 very dissatisfied .. 7 very satisfied) in three
dimensions: product quality, sales service and corporate image. This module

* rolls the items of each response up into the three dimension scores (mean of the answered items, in SQL) and
  a weighted **satisfaction index** on 0–100: ``(sum_d w_d * s_d - 1) / 6 * 100`` with user-set weights
  ``w`` (non-negative, summing to 1; stored as versioned ``"satisfaction_weights"`` settings);
* shows the index by tier, home store or period with a 95% confidence interval and the
  experience − expectation gap (VIP客户满意度 = 体验 − 期望: *experience* is the weighted mean score on the 1–7
  scale, *expectation* the response's overall expectation item on the same scale);
* tests any weight vector against behaviour ("weights must be tested, discussed, then rolled out"): the AUC
  of the index for next-year churn and its rank correlation with next-year sales, on the member-year panel of
  :func:`vipmodel.outcomes.churn_panel` (the one definition of churn);
* **suggests weights** from the data: a logistic regression of churn on the three dimension scores whose
  satisfaction coefficients are constrained to ``beta_d = -scale * w_d`` with ``w`` on the simplex and
  ``scale >= 0`` (equivalently ``beta_d <= 0``), with optional controls for value, care and complaints,
  because churn depends on those too and they are correlated with satisfaction. A member answers in several
  years, so the uncertainty is measured per member: the bootstrap resamples whole members [6]_, the gain over
  the weights in force is cross-fitted (folds by member, never judged on the rows that fitted it) with a
  clustered AUC variance [5]_, and the share of bootstrap draws keeping the suggested order of the three
  weights says whether the data can tell the weights apart (:data:`ORDER_PROBABILITY_THRESHOLD`);
* gives importance–performance data per dimension for the quadrant chart of Martilla & James (1977) [3]_,
  and the loyalty indicators the data supports.

Missing answers
---------------
A dimension score is the mean of the items the member answered in that dimension, so a skipped item does not
pull the score down. A response with a *whole* dimension unanswered gets an index renormalised over the
dimensions it answered (``sum_{answered} w_d s_d / sum_{answered} w_d``) and is flagged ``partial``; a
response that answered only dimensions of weight 0 has no index (NaN, flagged ``scored = False``) and is
counted, never charted. Weight fitting uses complete responses only.

Items whose code or label mentions a budget / wallet share (``wallet``, ``预算``) measure loyalty, not
satisfaction: they are left out of the dimension scores and reported as share of wallet by
:func:`loyalty_indicators`.

References
----------
.. [1] DeLong, E. R., DeLong, D. M. & Clarke-Pearson, D. L. (1988). Comparing the areas under two or more
   correlated receiver operating characteristic curves: a nonparametric approach. *Biometrics* 44(3), 837-845.
.. [2] Fieller, E. C., Hartley, H. O. & Pearson, E. S. (1957). Tests for rank correlation coefficients. I.
   *Biometrika* 44(3/4), 470-481 (the ``1.03 / sqrt(n - 3)`` standard error of Fisher's z for Spearman's rho).
.. [3] Martilla, J. A. & James, J. C. (1977). Importance-performance analysis. *Journal of Marketing* 41(1),
   77-79.
.. [4] Sun, X. & Xu, W. (2014). Fast implementation of DeLong's algorithm for comparing the areas under
   correlated receiver operating characteristic curves. *IEEE Signal Processing Letters* 21(11), 1389-1393.
.. [5] Obuchowski, N. A. (1997). Nonparametric analysis of clustered ROC curve data. *Biometrics* 53(2),
   567-578.
.. [6] Field, C. A. & Welsh, A. H. (2007). Bootstrapping clustered data. *Journal of the Royal Statistical Society
   B* 69(3), 369-390 (resampling whole clusters).
"""

from __future__ import annotations

import datetime as dt
import math
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from numbers import Real
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from sqlalchemy import Connection, Engine, Float, and_, cast, func, select

from vipmodel import schema
from vipmodel.auth import Actor
from vipmodel.contracts import require_columns
from vipmodel.db import as_date, borrow_connection
from vipmodel.features import member_features
from vipmodel.logistic import fit_logistic
from vipmodel.outcomes import COMPLAINT_STATUSES, year_windows
from vipmodel.pyramid import DEFAULT_RULES, TierRules, assign_tiers
from vipmodel.settings import SettingVersion, latest_setting, save_setting

DIMENSIONS: tuple[str, ...] = schema.DIMENSIONS
SCORE_COLUMNS: tuple[str, ...] = tuple(f"sat_{d}" for d in DIMENSIONS)
SCORE_FRAME_COLUMNS: tuple[str, ...] = (
    "response_id",
    "member_id",
    "survey_date",
    "home_store",
    "expectation",
    *SCORE_COLUMNS,
    "n_answers",
)
INDEX_TABLE_COLUMNS: tuple[str, ...] = (
    "experience",
    "satisfaction_index",
    "gap",
    "dimensions_answered",
    "partial",
    "scored",
)
INDEX_BY_COLUMNS: tuple[str, ...] = (
    "group",
    "n",
    "n_partial",
    "n_unscored",
    "mean_index",
    "sd_index",
    "ci_low",
    "ci_high",
    "experience",
    "expectation",
    "gap",
    "n_gap",
    "note",
)
BY_OPTIONS: tuple[str, ...] = ("tier", "store", "period")
PERIODS: tuple[str, ...] = ("month", "quarter", "year")
QUADRANTS: tuple[str, ...] = ("keep_up", "concentrate_here", "low_priority", "possible_overkill")
IPA_COLUMNS: tuple[str, ...] = (
    "dimension",
    "importance",
    "importance_low",
    "importance_high",
    "effect_per_sd",
    "current_weight",
    "performance",
    "n",
    "importance_cut",
    "performance_cut",
    "quadrant",
)
LOYALTY_COLUMNS: tuple[str, ...] = ("indicator", "value", "previous", "change", "unit", "n", "note")
CONTROLS: tuple[str, ...] = ("log_sales", "log_care_cost", "complaints")
COMPLAINT_COUNT_COLUMNS: tuple[str, ...] = tuple(
    f"{cat}_{status}" for cat in schema.COMPLAINT_CATEGORIES for status in COMPLAINT_STATUSES
)
WALLET_MARKERS: tuple[str, ...] = ("wallet", "预算")
NO_TIER_LABEL = "inactive"
NO_STORE_LABEL = "unknown"
MIN_CLASS_SIZE = 10
WEIGHT_TOLERANCE = 1e-6
# The rule for "the data can tell the weights apart": the suggested order of the three weights must hold in at
# least this share of the member-level bootstrap draws. Below it, the order is reversed in more than one draw in
# ten, and the page says the data cannot tell those weights apart instead of presenting the order as a finding.
ORDER_PROBABILITY_THRESHOLD = 0.90

NO_SURVEYS = "no survey responses: nobody answered a satisfaction survey in the selected data"
ONE_RESPONDENT = "only one member answered the survey: at least two respondents are needed"
CONSTANT_ANSWERS = "every respondent has the same index (zero variance): the index cannot tell members apart"
NO_COMPLETE_RESPONSES = (
    "no respondent answered all three dimensions: weights can only be fitted on complete responses"
)
NO_WALLET_ITEM = (
    "no survey item asks for the share of wallet (预算比例): register an item whose code or label contains "
    "'wallet' or '预算' to report it"
)
NO_BRAND_DATA = (
    "transactions record store and category but no brand: the preferred-brand spend ratio (组合比) cannot be computed"
)


class InsufficientSurveyData(ValueError):
    """The survey data cannot support the requested analysis; the message says why in plain words."""


# ------------------------------------------------------------------------------------------------- weights


@dataclass(frozen=True)
class SatisfactionWeights:
    """Weights of the three survey dimensions in the satisfaction index.

    Parameters
    ----------
    product_quality, sales_service, corporate_image : float
        Non-negative finite numbers summing to 1 (within :data:`WEIGHT_TOLERANCE`). Use :meth:`normalised`
        for raw slider values.

    Raises
    ------
    ValueError
        ``"weight of sales_service must be a finite number; got 'x'"``,
        ``"weight of sales_service must be non-negative; got -0.1"``,
        ``"weights must sum to 1 (within 1e-06); got 1.1"``.
    """

    product_quality: float = 1.0 / 3.0
    sales_service: float = 1.0 / 3.0
    corporate_image: float = 1.0 / 3.0

    def __post_init__(self) -> None:
        for dim in DIMENSIONS:
            value = getattr(self, dim)
            if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
                raise ValueError(f"weight of {dim} must be a finite number; got {value!r}")
            if value < 0:
                raise ValueError(f"weight of {dim} must be non-negative; got {value:g}")
            object.__setattr__(self, dim, float(value))
        total = sum(getattr(self, d) for d in DIMENSIONS)
        if abs(total - 1.0) > WEIGHT_TOLERANCE:
            raise ValueError(f"weights must sum to 1 (within {WEIGHT_TOLERANCE:g}); got {total:g}")

    @classmethod
    def normalised(cls, product_quality: float, sales_service: float, corporate_image: float) -> SatisfactionWeights:
        """Weights proportional to the given non-negative values (e.g. three sliders 0..100).

        ``ValueError("at least one weight must be positive")`` when all are zero; the messages of the class
        for negative or non-finite values.
        """
        raw = {"product_quality": product_quality, "sales_service": sales_service, "corporate_image": corporate_image}
        for dim, value in raw.items():
            if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
                raise ValueError(f"weight of {dim} must be a finite number; got {value!r}")
            if value < 0:
                raise ValueError(f"weight of {dim} must be non-negative; got {value:g}")
        total = float(sum(raw.values()))
        if total <= 0:
            raise ValueError("at least one weight must be positive")
        return cls(**{d: float(v) / total for d, v in raw.items()})

    def as_array(self) -> np.ndarray:
        """The weights in the order of :data:`DIMENSIONS`."""
        return np.array([getattr(self, d) for d in DIMENSIONS], dtype=float)

    def as_dict(self) -> dict[str, float]:
        """``{dimension: weight}`` in the order of :data:`DIMENSIONS`."""
        return {d: getattr(self, d) for d in DIMENSIONS}

    def to_payload(self) -> dict[str, float]:
        """JSON payload for :func:`vipmodel.settings.save_setting` (kind ``"satisfaction_weights"``)."""
        return self.as_dict()

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> SatisfactionWeights:
        """Weights from a stored payload (the inverse of :meth:`to_payload`).

        Raises ``ValueError``: ``"satisfaction weights payload must be a mapping"``,
        ``"unknown key(s) in satisfaction weights payload: 'x'"``,
        ``"satisfaction weights payload is missing: 'corporate_image'"``, or any message of the class.
        """
        if not isinstance(payload, Mapping):
            raise ValueError("satisfaction weights payload must be a mapping")
        unknown = sorted(set(map(str, payload)) - set(DIMENSIONS))
        if unknown:
            raise ValueError("unknown key(s) in satisfaction weights payload: " + ", ".join(map(repr, unknown)))
        missing = [d for d in DIMENSIONS if d not in payload]
        if missing:
            raise ValueError("satisfaction weights payload is missing: " + ", ".join(map(repr, missing)))
        return cls(**{d: payload[d] for d in DIMENSIONS})


DEFAULT_WEIGHTS = SatisfactionWeights()


def save_weights(
    conn: Engine | Connection, weights: SatisfactionWeights, actor: Actor, note: str = ""
) -> SettingVersion:
    """Store ``weights`` as the next version of the ``"satisfaction_weights"`` setting, on behalf of ``actor``.

    Raises ``ValueError("weights must be a SatisfactionWeights, got dict")`` and the errors of
    :func:`vipmodel.settings.save_setting` (a viewer, a long note, a concurrent save).
    """
    if not isinstance(weights, SatisfactionWeights):
        raise ValueError(f"weights must be a SatisfactionWeights, got {type(weights).__name__}")
    return save_setting(conn, "satisfaction_weights", weights.to_payload(), actor, note)


def current_weights(conn: Engine | Connection) -> SatisfactionWeights:
    """The latest saved weights, or :data:`DEFAULT_WEIGHTS` (equal thirds) when none was saved yet."""
    latest = latest_setting(conn, "satisfaction_weights")
    return DEFAULT_WEIGHTS if latest is None else SatisfactionWeights.from_payload(latest.payload)


def _check_weights(weights: Any) -> SatisfactionWeights:
    if not isinstance(weights, SatisfactionWeights):
        raise ValueError(f"weights must be a SatisfactionWeights, got {type(weights).__name__}")
    return weights


# ------------------------------------------------------------------------------------------ validation help


def _float_column(frame: pd.DataFrame, column: str, name: str) -> np.ndarray:
    try:
        return frame[column].to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} column {column!r} must be numeric") from exc


def _score_column(frame: pd.DataFrame, column: str, name: str) -> np.ndarray:
    col = _float_column(frame, column, name)
    with np.errstate(invalid="ignore"):
        bad = (col < 1.0) | (col > 7.0)  # NaN (not answered) compares False
    if bad.any():
        raise ValueError(f"{name} column {column!r} has {int(bad.sum())} value(s) outside the 1-7 scale")
    return col


def _score_matrix(frame: pd.DataFrame, name: str) -> np.ndarray:
    if not len(frame):
        return np.empty((0, 3))
    return np.column_stack([_score_column(frame, c, name) for c in SCORE_COLUMNS])


# ------------------------------------------------------------------------------------------ scores & index


def _wallet_items(conn: Connection) -> list[str]:
    i = schema.survey_items
    rows = conn.execute(select(i.c.item_code, i.c.label_en, i.c.label_zh)).all()
    return [
        code
        for code, en, zh in rows
        if any(marker in f"{code} {en or ''} {zh or ''}".lower() for marker in WALLET_MARKERS)
    ]


def dimension_scores(conn: Connection | Engine, start: dt.date, end: dt.date) -> pd.DataFrame:
    """Per survey response dated in ``[start, end]``, the mean answered item score of each dimension.

    The item means are aggregated in SQL (``GROUP BY`` response and dimension); share-of-wallet items (code or
    label containing ``wallet`` / ``预算``) are excluded.

    Parameters
    ----------
    conn : Engine or Connection
        Reads ``survey_responses``, ``survey_answers``, ``survey_items`` and ``members.home_store``.
    start, end : datetime.date
        First and last survey day, inclusive.

    Returns
    -------
    DataFrame
        Columns :data:`SCORE_FRAME_COLUMNS`: ``response_id`` (int), ``member_id``, ``survey_date`` (date),
        ``home_store`` (missing when unknown), ``expectation`` (1–7, NaN when not answered), ``sat_<dimension>``
        (1–7 mean of the answered items, NaN when none was answered), ``n_answers`` (items answered, 0 for a
        response without answers). Sorted by ``survey_date`` and ``response_id``; no rows when nobody answered.

    Raises
    ------
    ValueError
        ``"start must be a date, got str"``; ``"start (2025-02-01) is after end (2025-01-01)"``.
    """
    start, end = as_date(start, "start"), as_date(end, "end")
    if start > end:
        raise ValueError(f"start ({start}) is after end ({end})")
    r, a, i, m = schema.survey_responses, schema.survey_answers, schema.survey_items, schema.members
    in_range = and_(r.c.survey_date >= start, r.c.survey_date <= end)
    with borrow_connection(conn) as c:
        wallet = _wallet_items(c)
        item_filter = [a.c.item_code.not_in(wallet)] if wallet else []
        scores = c.execute(
            select(
                a.c.response_id,
                i.c.dimension,
                cast(func.avg(cast(a.c.score, Float)), Float),
                func.count(a.c.score),
            )
            .select_from(a.join(r, a.c.response_id == r.c.id).join(i, a.c.item_code == i.c.item_code))
            .where(in_range, *item_filter)
            .group_by(a.c.response_id, i.c.dimension)
        ).all()
        responses = c.execute(
            select(r.c.id, r.c.member_id, r.c.survey_date, m.c.home_store, r.c.expectation)
            .select_from(r.join(m, r.c.member_id == m.c.member_id))
            .where(in_range)
        ).all()
    frame = pd.DataFrame(
        [tuple(row) for row in responses],
        columns=["response_id", "member_id", "survey_date", "home_store", "expectation"],
    )
    if frame.empty:
        empty = pd.DataFrame({c: pd.Series(dtype=float) for c in SCORE_FRAME_COLUMNS})
        return empty.astype({"response_id": "int64", "member_id": object, "survey_date": object,
                             "home_store": object, "n_answers": "int64"})
    frame["response_id"] = frame["response_id"].astype("int64")
    frame["expectation"] = pd.to_numeric(frame["expectation"], errors="coerce").astype(float)
    long = pd.DataFrame([tuple(row) for row in scores], columns=["response_id", "dimension", "score", "n"])
    if long.empty:
        wide = pd.DataFrame(columns=list(SCORE_COLUMNS), index=pd.Index([], name="response_id"), dtype=float)
        answered = pd.Series(dtype="int64")
    else:
        long["dimension"] = "sat_" + long["dimension"]
        wide = long.pivot(index="response_id", columns="dimension", values="score").reindex(columns=list(SCORE_COLUMNS))
        answered = long.groupby("response_id")["n"].sum()
    frame = frame.join(wide.astype(float), on="response_id")
    frame["n_answers"] = frame["response_id"].map(answered).fillna(0).astype("int64")
    frame = frame.sort_values(["survey_date", "response_id"], kind="stable").reset_index(drop=True)
    return frame[list(SCORE_FRAME_COLUMNS)]


def index_table(scores: pd.DataFrame, weights: SatisfactionWeights = DEFAULT_WEIGHTS) -> pd.DataFrame:
    """Experience, satisfaction index and gap for each row of ``scores``.

    Parameters
    ----------
    scores : DataFrame
        Needs ``sat_product_quality``, ``sat_sales_service``, ``sat_corporate_image`` (1–7 or NaN, e.g.
        :func:`dimension_scores` or :func:`vipmodel.outcomes.churn_panel`); ``expectation`` (1–7) is optional.
    weights : SatisfactionWeights

    Returns
    -------
    DataFrame
        Same index as ``scores``; columns :data:`INDEX_TABLE_COLUMNS`: ``experience`` (weighted mean score on
        1–7, renormalised over the answered dimensions), ``satisfaction_index`` (``(experience - 1) / 6 * 100``),
        ``gap`` (``experience - expectation``, NaN without expectation), ``dimensions_answered`` (0–3),
        ``partial`` (a dimension of positive weight was unanswered and the weights were renormalised),
        ``scored`` (False when no dimension of positive weight was answered: index NaN).

    Raises
    ------
    ValueError
        ``"scores must be a pandas DataFrame, got list"``, ``"scores is missing columns: ..."``,
        ``"scores column 'sat_sales_service' has 2 value(s) outside the 1-7 scale"``,
        ``"weights must be a SatisfactionWeights, got dict"``.
    """
    weights = _check_weights(weights)
    require_columns(scores, SCORE_COLUMNS, "scores", allow_empty=True)
    # Column by column, not over an (n, 3) matrix: numpy reduces a 3-wide axis slowly, and a weight change on a
    # dashboard recomputes this for every response. The sums run in the same order, so the values are identical.
    n = len(scores)
    weight_sum, weighted = np.zeros(n), np.zeros(n)
    n_answered, unanswered_weighted = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=bool)
    for column, w in zip(SCORE_COLUMNS, weights.as_array()):
        x = _score_column(scores, column, "scores")
        answered = ~np.isnan(x)
        n_answered += answered
        if w > 0:
            weight_sum += answered * w
            weighted += np.where(answered, x * w, 0.0)
            unanswered_weighted |= ~answered
    scored = weight_sum > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        experience = np.where(scored, weighted / np.where(scored, weight_sum, 1.0), np.nan)
    partial = scored & unanswered_weighted
    if "expectation" in scores.columns:
        expectation = _float_column(scores, "expectation", "scores")
    else:
        expectation = np.full(len(scores), np.nan)
    return pd.DataFrame(
        {
            "experience": experience,
            "satisfaction_index": (experience - 1.0) / 6.0 * 100.0,
            "gap": experience - expectation,
            "dimensions_answered": n_answered,
            "partial": partial,
            "scored": scored,
        },
        index=scores.index,
    )


def satisfaction_index(scores: pd.DataFrame, weights: SatisfactionWeights = DEFAULT_WEIGHTS) -> pd.Series:
    """The weighted satisfaction index on 0–100 for each row of ``scores`` (see :func:`index_table`).

    ``(sum_d w_d s_d - 1) / 6 * 100`` with ``s_d`` on the 1–7 scale; rows with a missing dimension are
    renormalised over the answered ones (flagged by :func:`index_table`), rows with no dimension of positive
    weight answered are NaN. Named ``satisfaction_index``; same index as ``scores``.
    """
    return index_table(scores, weights)["satisfaction_index"]


def _period_label(dates: pd.Series, period: str) -> pd.Series:
    ts = pd.to_datetime(dates)
    year = ts.dt.year.astype(str)
    if period == "year":
        return year
    if period == "quarter":
        return year + "-Q" + ts.dt.quarter.astype(str)
    return year + "-" + ts.dt.month.map("{:02d}".format)


def _mean_ci(values: np.ndarray) -> tuple[float, float, float, float]:
    """Mean, sd and the 95% t-interval of ``values`` (NaN interval below two values)."""
    n = len(values)
    mean = float(values.mean())
    if n < 2:
        return mean, float("nan"), float("nan"), float("nan")
    sd = float(values.std(ddof=1))
    half = float(stats.t.ppf(0.975, n - 1)) * sd / math.sqrt(n)
    return mean, sd, mean - half, mean + half


def _check_index_args(weights: Any, by: str, period: str) -> SatisfactionWeights:
    weights = _check_weights(weights)
    if by not in BY_OPTIONS:
        raise ValueError(f"by must be one of 'tier', 'store', 'period'; got {by!r}")
    if period not in PERIODS:
        raise ValueError(f"period must be one of 'month', 'quarter', 'year'; got {period!r}")
    return weights


def index_by(
    conn: Connection | Engine,
    start: dt.date,
    end: dt.date,
    weights: SatisfactionWeights = DEFAULT_WEIGHTS,
    by: str = "tier",
    period: str = "quarter",
    rules: TierRules = DEFAULT_RULES,
) -> pd.DataFrame:
    """The satisfaction index of responses dated in ``[start, end]`` by tier, home store or period.

    Parameters
    ----------
    conn : Engine or Connection
    start, end : datetime.date
        Survey days, inclusive. For ``by="tier"`` members are tiered on their features of the same range
        (:func:`vipmodel.features.member_features`, ``rules``); respondents without a purchase in the range
        form the group ``"inactive"``.
    weights : SatisfactionWeights
    by : {"tier", "store", "period"}
        ``"store"`` groups by the member's home store (``"unknown"`` when not recorded).
    period : {"month", "quarter", "year"}
        Calendar period of the survey date when ``by="period"`` (labels ``2025-07``, ``2025-Q3``, ``2025``).
    rules : TierRules

    Returns
    -------
    DataFrame
        One row per group (tiers A–D then ``inactive``; stores alphabetically; periods in time order), columns
        :data:`INDEX_BY_COLUMNS`: ``n`` (scored responses), ``n_partial`` (renormalised, see module docstring),
        ``n_unscored`` (responses without an index, not in the mean), ``mean_index``, ``sd_index``,
        ``ci_low``/``ci_high`` (95% t-interval of the mean; NaN with one response), ``experience`` (mean on
        1–7), ``expectation`` (mean of the responses that gave one), ``gap`` (mean of experience − expectation
        over those responses; negative = expectations not met), ``n_gap``, ``note`` (plain-language caveat:
        one respondent, identical answers, no expectation; empty otherwise). Each response counts once.

    Raises
    ------
    InsufficientSurveyData
        :data:`NO_SURVEYS` when no response in the range has an index.
    ValueError
        ``"by must be one of 'tier', 'store', 'period'; got 'x'"``,
        ``"period must be one of 'month', 'quarter', 'year'; got 'week'"``, date errors, weight errors.
    """
    _check_index_args(weights, by, period)  # before reading anything
    with borrow_connection(conn) as c:
        scores = dimension_scores(c, start, end)
        tiers = None
        if by == "tier" and len(scores):
            feats = member_features(c, start, end, period="range")
            active = feats[feats["n_transactions"] > 0]
            tiers = assign_tiers(active, rules).astype(str) if len(active) else pd.Series(dtype=object)
    return index_by_scores(scores, weights, by, period, tiers)


def response_tiers(scores: pd.DataFrame, tiers: pd.Series) -> pd.Series:
    """The tier of each response's member, ``"inactive"`` for members without one (no purchase in the range).

    The grouping :func:`index_by_scores` uses for ``by="tier"``; a dashboard that regroups on every weight change
    computes it once and passes it as the ``tier`` column of ``scores``.

    Parameters
    ----------
    scores : DataFrame
        Needs ``member_id`` (e.g. :func:`dimension_scores`).
    tiers : Series
        Tier by ``member_id`` (:func:`vipmodel.pyramid.assign_tiers`).

    Returns
    -------
    Series
        Named ``tier``, same index as ``scores``; categorical with categories A..D and :data:`NO_TIER_LABEL`.
    """
    require_columns(scores, ("member_id",), "scores", allow_empty=True)
    labels = scores["member_id"].map(tiers).astype(object)
    labels = labels.where(labels.notna(), NO_TIER_LABEL).rename("tier")
    return labels.astype(pd.CategoricalDtype([*schema.TIERS, NO_TIER_LABEL]))


def index_by_scores(
    scores: pd.DataFrame,
    weights: SatisfactionWeights = DEFAULT_WEIGHTS,
    by: str = "tier",
    period: str = "quarter",
    tiers: pd.Series | None = None,
) -> pd.DataFrame:
    """:func:`index_by` on survey scores already read (:func:`dimension_scores`): no database, so a dashboard
    can recompute it on every weight change from cached scores.

    Parameters
    ----------
    scores : DataFrame
        :func:`dimension_scores` of the range (columns :data:`SCORE_FRAME_COLUMNS`); for ``by="tier"`` it may
        carry a ``tier`` column (:func:`response_tiers`), which is then used instead of ``tiers``.
    weights, by, period
        As in :func:`index_by`.
    tiers : Series, optional
        Tier by ``member_id`` of the members who bought in the range (:func:`vipmodel.pyramid.assign_tiers`);
        needed for ``by="tier"`` without a ``tier`` column, where respondents without one form the group
        ``"inactive"``.

    Returns
    -------
    DataFrame
        As :func:`index_by`.

    Raises
    ------
    InsufficientSurveyData
        :data:`NO_SURVEYS` when no response has an index.
    ValueError
        As :func:`index_by`, and ``"tiers are needed to group by tier"``.
    """
    weights = _check_index_args(weights, by, period)
    scores = require_columns(scores, SCORE_FRAME_COLUMNS, "scores", allow_empty=True)
    table = index_table(scores, weights) if len(scores) else None
    if table is None or not table["scored"].any():
        raise InsufficientSurveyData(NO_SURVEYS)
    if by == "tier":
        if "tier" in scores.columns:
            group = scores["tier"]
            group = group.astype(object).fillna(NO_TIER_LABEL) if group.hasnans else group
        elif tiers is None:
            raise ValueError("tiers are needed to group by tier")
        else:
            group = response_tiers(scores, tiers)
        order = [*schema.TIERS, NO_TIER_LABEL]
    elif by == "store":
        group = scores["home_store"].fillna(NO_STORE_LABEL).astype(str)
        order = sorted(group.unique())
    else:
        group = _period_label(scores["survey_date"], period)
        order = sorted(group.unique())
    # One stable sort of the group codes, then each group's rows as a slice of it: a weight move on a dashboard
    # recomputes this, and a boolean mask per group passed over every response once per group (40 ms at 325 k
    # responses). The stable sort keeps each group's rows in their original order, so every sum runs in the same
    # order as over the group's rows selected by mask, and the values are identical.
    codes, labels = pd.factorize(group)
    code_of = {label: code for code, label in enumerate(labels)}
    sortable = codes.astype(np.int16) if len(labels) < 2**15 else codes  # small integers: numpy's radix sort
    by_group = np.argsort(sortable, kind="stable")
    bounds = np.searchsorted(codes[by_group], np.arange(len(labels) + 1))
    scored, partial = table["scored"].to_numpy(bool), table["partial"].to_numpy(bool)
    index, experience = table["satisfaction_index"].to_numpy(float), table["experience"].to_numpy(float)
    gap, expectation = table["gap"].to_numpy(float), _float_column(scores, "expectation", "scores")
    rows = []
    for label in order:
        if label not in code_of:
            continue
        code = code_of[label]
        members = by_group[bounds[code]:bounds[code + 1]]
        ok = members[scored[members]]
        n_unscored = len(members) - len(ok)
        if not len(ok):
            rows.append({"group": label, "n": 0, "n_partial": 0, "n_unscored": n_unscored,
                         "note": "no response in this group answered a dimension with positive weight"})
            continue
        n = len(ok)
        mean, sd, lo, hi = _mean_ci(index[ok])
        with_gap = ok[~np.isnan(gap[ok])]
        n_gap = len(with_gap)
        notes = []
        if n == 1:
            notes.append("only one respondent: no confidence interval")
        elif sd == 0.0:
            notes.append("every respondent has the same index (zero variance)")
        if not n_gap:
            notes.append("no respondent stated an expectation: no gap")
        rows.append(
            {
                "group": label,
                "n": n,
                "n_partial": int(partial[ok].sum()),
                "n_unscored": n_unscored,
                "mean_index": mean,
                "sd_index": sd,
                "ci_low": lo,
                "ci_high": hi,
                "experience": float(experience[ok].mean()),
                "expectation": float(expectation[with_gap].mean()) if n_gap else float("nan"),
                "gap": float(gap[with_gap].mean()) if n_gap else float("nan"),
                "n_gap": n_gap,
                "note": "; ".join(notes),
            }
        )
    out = pd.DataFrame(rows).reindex(columns=list(INDEX_BY_COLUMNS))
    for column in ("n", "n_partial", "n_unscored", "n_gap"):
        out[column] = out[column].fillna(0).astype("int64")
    out["note"] = out["note"].fillna("")
    return out


# ------------------------------------------------------------------------------------- testing weights


def auc_delong(scores: np.ndarray, positive: np.ndarray) -> tuple[float, float]:
    """AUC of ``scores`` for the binary ``positive`` and DeLong's variance of it [1]_ [4]_.

    Ties count one half. Returns ``(auc, variance)``. Both classes must be present (the caller checks).
    """
    auc, v10, v01 = _delong_components(np.asarray(scores, float)[None, :], np.asarray(positive, bool))
    m, n = v10.shape[1], v01.shape[1]
    var = float(np.var(v10[0], ddof=1) / m + np.var(v01[0], ddof=1) / n)
    return float(auc[0]), var


def _delong_components(scores: np.ndarray, positive: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    # Sun & Xu (2014): the structural components follow from mid-ranks within each class and overall.
    pos, neg = scores[:, positive], scores[:, ~positive]
    m, n = pos.shape[1], neg.shape[1]
    all_ranks = stats.rankdata(np.concatenate([pos, neg], axis=1), axis=1)
    pos_ranks = stats.rankdata(pos, axis=1)
    neg_ranks = stats.rankdata(neg, axis=1)
    auc = (all_ranks[:, :m].sum(axis=1) - m * (m + 1) / 2.0) / (m * n)
    v10 = (all_ranks[:, :m] - pos_ranks) / n
    v01 = 1.0 - (all_ranks[:, m:] - neg_ranks) / m
    return auc, v10, v01


def auc_difference(
    score_a: np.ndarray, score_b: np.ndarray, positive: np.ndarray, clusters: np.ndarray | None = None
) -> tuple[float, float]:
    """AUC(b) − AUC(a) on the same rows and the variance of the difference (correlated AUCs).

    Without ``clusters`` this is DeLong's variance [1]_. With ``clusters`` (one label per row, e.g. the member of
    each member-year) rows of one cluster are not taken as independent: the structural components are summed per
    cluster and the variance is Obuchowski's clustered estimator [5]_,
    ``S10 / M + S01 / N + 2 S11 / (M N)`` per AUC and its covariance analogue for the pair, which equals DeLong's
    when every cluster holds one row.

    Parameters
    ----------
    score_a, score_b : ndarray
        Scores of the same rows (higher = more likely positive).
    positive : ndarray of bool
        The outcome; both classes must be present (the caller checks).
    clusters : ndarray, optional
        Cluster label of each row.

    Returns
    -------
    (float, float)
        ``(auc_b - auc_a, variance)``.

    Raises
    ------
    ValueError
        ``"clusters must have one label per row: got 3 for 4 rows"``; ``"the clustered AUC variance needs at least
        two clusters with each outcome"``.
    """
    positive = np.asarray(positive, bool)
    auc, v10, v01 = _delong_components(np.vstack([np.asarray(score_a, float), np.asarray(score_b, float)]), positive)
    m, n = v10.shape[1], v01.shape[1]
    if clusters is None:
        cov = np.cov(v10) / m + np.cov(v01) / n
    else:
        clusters = np.asarray(clusters)
        if clusters.shape != positive.shape:
            raise ValueError(f"clusters must have one label per row: got {clusters.size} for {positive.size} rows")
        codes, labels = pd.factorize(clusters)
        k = len(labels)
        # Per cluster: the summed components of its positive (negative) rows minus their number times the AUC.
        m_i = np.bincount(codes[positive], minlength=k).astype(float)
        n_i = np.bincount(codes[~positive], minlength=k).astype(float)
        a = np.vstack([np.bincount(codes[positive], weights=v, minlength=k) for v in v10]) - m_i * auc[:, None]
        b = np.vstack([np.bincount(codes[~positive], weights=v, minlength=k) for v in v01]) - n_i * auc[:, None]
        k10, k01 = int((m_i > 0).sum()), int((n_i > 0).sum())
        if min(k10, k01) < 2:
            raise ValueError("the clustered AUC variance needs at least two clusters with each outcome")
        s10 = k10 / ((k10 - 1) * m) * (a @ a.T)
        s01 = k01 / ((k01 - 1) * n) * (b @ b.T)
        s11 = k / (k - 1) * (a @ b.T)
        cov = s10 / m + s01 / n + (s11 + s11.T) / (m * n)
    contrast = np.array([-1.0, 1.0])
    return float(auc[1] - auc[0]), float(max(contrast @ cov @ contrast, 0.0))


def _normal_ci(value: float, var: float, lo: float = -math.inf, hi: float = math.inf) -> tuple[float, float]:
    half = 1.959963984540054 * math.sqrt(max(var, 0.0))
    return max(value - half, lo), min(value + half, hi)


def spearman_ci(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """Spearman's rho of ``x`` and ``y`` with a 95% interval from Fisher's z, ``se = 1.03 / sqrt(n - 3)`` [2]_.

    Returns ``(rho, low, high)``; the interval is NaN below 5 pairs and rho NaN when either is constant.
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    n = len(x)
    if n < 2 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan"), float("nan"), float("nan")
    return _spearman_interval(float(stats.spearmanr(x, y).statistic), n)


def _spearman_interval(rho: float, n: int) -> tuple[float, float, float]:
    if n < 5 or abs(rho) >= 1.0:
        return rho, (rho if abs(rho) >= 1.0 else float("nan")), (rho if abs(rho) >= 1.0 else float("nan"))
    z, se = math.atanh(rho), 1.03 / math.sqrt(n - 3)
    return rho, math.tanh(z - 1.959963984540054 * se), math.tanh(z + 1.959963984540054 * se)


@dataclass(frozen=True)
class WeightEvaluation:
    """How well the index under ``weights`` explains what members did next.

    Attributes
    ----------
    weights : SatisfactionWeights
    n : int
        Member-years with an index (panel rows with at least one scored dimension).
    n_churned : int
    n_partial : int
        Rows whose index was renormalised over the answered dimensions.
    n_without_survey : int
        Panel rows left out because the member answered no survey in that year.
    auc, auc_low, auc_high : float
        Area under the ROC curve of the *negated* index for churn (0.5 = no better than chance, 1 = every
        churner scored below every retained member) with DeLong's 95% interval [1]_.
    spearman, spearman_low, spearman_high : float
        Spearman's rho of the index with next-year sales (``next_sales``, 0 for churners) with a Fisher-z 95%
        interval [2]_; NaN when next-year sales are constant.
    """

    weights: SatisfactionWeights
    n: int
    n_churned: int
    n_partial: int
    n_without_survey: int
    auc: float
    auc_low: float
    auc_high: float
    spearman: float
    spearman_low: float
    spearman_high: float


PANEL_REQUIRED: tuple[str, ...] = (*SCORE_COLUMNS, "churned")


def _panel_outcome(panel: pd.DataFrame) -> np.ndarray:
    churned = panel["churned"]
    if churned.isna().any():
        raise ValueError(f"panel column 'churned' has {int(churned.isna().sum())} missing value(s)")
    try:
        return churned.to_numpy(dtype=bool)
    except (TypeError, ValueError) as exc:
        raise ValueError("panel column 'churned' must be boolean (True = no purchase in the next year)") from exc


def _check_sample(index: np.ndarray, churned: np.ndarray) -> None:
    """The messages of :class:`InsufficientSurveyData`, in the order a user would need to fix them."""
    n = len(index)
    if n == 0:
        raise InsufficientSurveyData(NO_SURVEYS)
    if n == 1:
        raise InsufficientSurveyData(ONE_RESPONDENT)
    if np.ptp(index) == 0:
        raise InsufficientSurveyData(CONSTANT_ANSWERS)
    _check_sample_sizes(n, int(churned.sum()))


def _check_sample_sizes(n: int, n_churned: int) -> None:
    n_retained = n - n_churned
    if min(n_churned, n_retained) < MIN_CLASS_SIZE:
        raise InsufficientSurveyData(
            f"too few churners to evaluate: {n_churned} churned and {n_retained} retained among {n} surveyed "
            f"members; at least {MIN_CLASS_SIZE} of each are needed"
        )


def evaluate_weights(panel: pd.DataFrame, weights: SatisfactionWeights = DEFAULT_WEIGHTS) -> WeightEvaluation:
    """Test a weight vector against behaviour on the member-year churn panel.

    Parameters
    ----------
    panel : DataFrame
        :func:`vipmodel.outcomes.churn_panel` rows: needs ``sat_<dimension>`` (1–7 or NaN) and ``churned``;
        ``next_sales`` is used for the rank correlation when present. Rows without any survey score are left
        out (counted in ``n_without_survey``).
    weights : SatisfactionWeights

    Returns
    -------
    WeightEvaluation

    Raises
    ------
    InsufficientSurveyData
        :data:`NO_SURVEYS`, :data:`ONE_RESPONDENT`, :data:`CONSTANT_ANSWERS`, or
        ``"too few churners to evaluate: 3 churned and 40 retained among 43 surveyed members; at least 10 of
        each are needed"``.
    ValueError
        ``"panel is missing columns: churned"``, non-boolean ``churned``, scores off the scale.
    """
    weights = _check_weights(weights)
    # One implementation: the evaluator's per-pattern computation is exact for any panel (tested against the
    # per-row definitions), and with as many patterns as rows it costs what a per-row computation costs.
    return WeightEvaluator().fit(panel).evaluate(weights)


def _midranks(counts: np.ndarray) -> np.ndarray:
    """Average ranks (1-based) of groups of tied values, given the group sizes in ascending order of value."""
    before = np.cumsum(counts) - counts
    return before + (counts + 1.0) / 2.0


def _weighted_var(values: np.ndarray, counts: np.ndarray) -> float:
    """``np.var(np.repeat(values, counts), ddof=1)`` without repeating."""
    total = counts.sum()
    mean = (values * counts).sum() / total
    return float(((values - mean) ** 2 * counts).sum() / (total - 1))


class WeightEvaluator:
    """:func:`evaluate_weights` for many weight vectors on one panel, fast enough for a live slider.

    Survey answers sit on a 7-level scale, so a panel of a million member-years holds a few thousand distinct
    score patterns (the three dimension scores, missing ones included). :meth:`fit` reduces the panel to them
    once, with per pattern the member-years, the churners and the sum of the next-year sales ranks;
    :meth:`evaluate` then computes the index per pattern and DeLong's AUC [1]_ [4]_ and Spearman's rho [2]_
    from ranks of tied groups: the AUC equal to :func:`auc_delong` over the rows, rho to :func:`spearman_ci` up to
    rounding. With as many patterns as rows it costs what a per-row computation costs, so
    :func:`evaluate_weights` is this class fitted for one use.

    Attributes
    ----------
    n_rows_ : int
        Panel rows.
    n_patterns_ : int
        Distinct score patterns among them.
    n_without_survey_ : int
        Rows with no dimension answered (as :attr:`WeightEvaluation.n_without_survey`).

    Examples
    --------
    >>> evaluator = WeightEvaluator().fit(panel)                                   # doctest: +SKIP
    >>> evaluator.evaluate(SatisfactionWeights.normalised(50, 30, 20)).auc         # doctest: +SKIP
    """

    def fit(self, panel: pd.DataFrame) -> WeightEvaluator:
        """Reduce ``panel`` (as :func:`evaluate_weights`) to its score patterns; returns self.

        Raises
        ------
        ValueError
            As :func:`evaluate_weights`: missing columns, non-boolean ``churned``, scores off the scale.
        """
        require_columns(panel, PANEL_REQUIRED, "panel", allow_empty=True)
        x = _score_matrix(panel, "panel")
        churned = _panel_outcome(panel)
        answered = ~np.isnan(x)
        # Scores are 1-7, so 0 stands for "not answered" in the pattern key without colliding with a score.
        keys = np.where(answered, x, 0.0)
        # A hash grouping: numpy's row-wise unique sorts the rows and is 30 times slower on a million.
        inverse = pd.DataFrame(keys).groupby([0, 1, 2], sort=False).ngroup().to_numpy()
        n_patterns = int(inverse.max()) + 1 if len(inverse) else 0
        row_of = np.empty(n_patterns, dtype=np.intp)
        row_of[inverse] = np.arange(len(inverse))  # any row of each pattern (they are equal)
        patterns = np.where(answered[row_of], x[row_of], np.nan)
        self._patterns = pd.DataFrame(patterns, columns=list(SCORE_COLUMNS))
        self._inverse = inverse
        self._count = np.bincount(inverse, minlength=n_patterns).astype(float)
        self._churned = np.bincount(inverse, weights=churned, minlength=n_patterns)
        self._next_sales = _float_column(panel, "next_sales", "panel") if "next_sales" in panel.columns else None
        self._ranks: dict[int, tuple[np.ndarray, float, bool]] = {}
        self._lock = threading.Lock()
        self.n_rows_ = len(panel)
        self.n_patterns_ = n_patterns
        self.n_without_survey_ = int((~answered.any(axis=1)).sum())
        return self

    def _next_sales_ranks(self, positive: np.ndarray, ok_patterns: np.ndarray) -> tuple[np.ndarray, float, bool]:
        """Per pattern the sum of next-year sales ranks among the scored rows, the sum of squared ranks, and
        whether any is missing. The scored rows depend only on which weights are positive: cached per that."""
        key = int(positive @ np.array([1, 2, 4]))
        with self._lock:
            if key not in self._ranks:
                rows = ok_patterns[self._inverse]
                y = self._next_sales[rows]
                ranks = stats.rankdata(y)
                sums = np.bincount(self._inverse[rows], weights=ranks, minlength=self.n_patterns_)
                self._ranks[key] = (sums, float((ranks**2).sum()), bool(np.isnan(y).any()) or np.ptp(y) == 0)
            return self._ranks[key]

    def evaluate(self, weights: SatisfactionWeights = DEFAULT_WEIGHTS) -> WeightEvaluation:
        """:func:`evaluate_weights` of the fitted panel under ``weights``.

        Raises
        ------
        InsufficientSurveyData
            As :func:`evaluate_weights`.
        ValueError
            ``"weights must be a SatisfactionWeights, got dict"``; ``"evaluate needs fit(panel) first"``.
        """
        weights = _check_weights(weights)
        if not hasattr(self, "_patterns"):
            raise ValueError("evaluate needs fit(panel) first")
        table = index_table(self._patterns, weights)
        ok = table["scored"].to_numpy()
        index = table["satisfaction_index"].to_numpy(float)[ok]
        count, churned = self._count[ok], self._churned[ok]
        n = int(count.sum())
        if n == 0:
            raise InsufficientSurveyData(NO_SURVEYS)
        if n == 1:
            raise InsufficientSurveyData(ONE_RESPONDENT)
        # Patterns equal in index (e.g. the same scores in another order under equal weights) are one tie group.
        values, group = np.unique(index, return_inverse=True)
        if len(values) == 1:
            raise InsufficientSurveyData(CONSTANT_ANSWERS)
        n_churned = int(churned.sum())
        _check_sample_sizes(n, n_churned)
        size = np.bincount(group, weights=count)
        pos = np.bincount(group, weights=churned)
        neg = size - pos
        auc, var = self._auc(size[::-1], pos[::-1], neg[::-1])  # of the negated index: descending values
        auc_low, auc_high = _normal_ci(auc, var, 0.0, 1.0)
        rho = rho_low = rho_high = float("nan")
        if self._next_sales is not None:
            sums, squares, degenerate = self._next_sales_ranks(weights.as_array() > 0, ok)
            if not degenerate:
                rank = _midranks(size)
                mean = (n + 1) / 2.0
                covariance = (rank * np.bincount(group, weights=sums[ok])).sum() / n - mean**2
                spread = math.sqrt(((rank**2 * size).sum() / n - mean**2) * (squares / n - mean**2))
                rho, rho_low, rho_high = _spearman_interval(float(np.clip(covariance / spread, -1.0, 1.0)), n)
        return WeightEvaluation(
            weights=weights,
            n=n,
            n_churned=n_churned,
            n_partial=int(count[table["partial"].to_numpy()[ok]].sum()),
            n_without_survey=self.n_without_survey_,
            auc=auc,
            auc_low=auc_low,
            auc_high=auc_high,
            spearman=rho,
            spearman_low=rho_low,
            spearman_high=rho_high,
        )

    @staticmethod
    def _auc(size: np.ndarray, pos: np.ndarray, neg: np.ndarray) -> tuple[float, float]:
        """:func:`auc_delong` from tie groups in ascending order of score: their sizes, churners and others."""
        m, k = pos.sum(), neg.sum()
        overall, in_pos, in_neg = _midranks(size), _midranks(pos), _midranks(neg)
        auc = float(((pos * overall).sum() - m * (m + 1) / 2.0) / (m * k))
        has_pos, has_neg = pos > 0, neg > 0
        v10 = (overall[has_pos] - in_pos[has_pos]) / k
        v01 = 1.0 - (overall[has_neg] - in_neg[has_neg]) / m
        var = _weighted_var(v10, pos[has_pos]) / m + _weighted_var(v01, neg[has_neg]) / k
        return auc, float(var)


# ------------------------------------------------------------------------------------ suggesting weights


def _control_matrix(panel: pd.DataFrame, controls: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """Control columns: log(1 + x / median positive x) for money (unit-free), raw complaint counts."""
    columns: list[np.ndarray] = []
    names: list[str] = []
    for control in controls:
        if control in ("log_sales", "log_care_cost"):
            source = "sales" if control == "log_sales" else "care_cost"
            values = np.maximum(_float_column(panel, source, "panel"), 0.0)
            positive = values[values > 0]
            scale = float(np.median(positive)) if positive.size else 1.0
            columns.append(np.log1p(values / scale))
            names.append(control)
        else:
            for column in COMPLAINT_COUNT_COLUMNS:
                columns.append(_float_column(panel, column, "panel"))
                names.append(column)
    return (np.column_stack(columns) if columns else np.empty((len(panel), 0))), names


def _required_for_controls(controls: Sequence[str]) -> list[str]:
    needed: list[str] = []
    for control in controls:
        if control not in CONTROLS:
            raise ValueError(
                f"unknown control {control!r}; expected some of 'log_sales', 'log_care_cost', 'complaints'"
            )
        needed += {"log_sales": ["sales"], "log_care_cost": ["care_cost"], "complaints": list(COMPLAINT_COUNT_COLUMNS)}[
            control
        ]
    return needed


def _newton_logistic(design: np.ndarray, y: np.ndarray, free: np.ndarray,
                     start: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """Logistic regression on the ``free`` columns of ``design`` (others fixed at 0), Newton from ``start`` (default
    0); returns (theta, loss).

    :func:`vipmodel.logistic.fit_logistic`; the loss is the total negative log-likelihood. A tiny ridge on the
    Hessian only guards against an exactly singular one.
    """
    fit = fit_logistic(design, y, free=free, ridge=1e-9 * len(y), start=start)
    return fit.coef, -fit.log_likelihood


def _fit_sign_constrained(design: np.ndarray, y: np.ndarray, constrained: Sequence[int],
                          start: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """Logistic regression with ``theta[j] <= 0`` for ``j`` in ``constrained`` (the satisfaction columns).

    The loss is convex, so the constrained optimum is the unconstrained optimum on some face (a set of
    constrained coefficients held at 0) that happens to be feasible, and it is the feasible face optimum with
    the lowest loss. With three constrained coefficients the eight faces are enumerated exactly.
    """
    k = design.shape[1]
    best: tuple[np.ndarray, float] | None = None
    constrained = list(constrained)
    faces = sorted(
        (tuple(j for bit, j in enumerate(constrained) if mask >> bit & 1) for mask in range(2 ** len(constrained))),
        key=len,
    )
    for zeroed in faces:
        free = np.ones(k, dtype=bool)
        free[list(zeroed)] = False
        theta, loss = _newton_logistic(design, y, free, start)
        if np.all(theta[constrained] <= 1e-12) and (best is None or loss < best[1] - 1e-9):
            best = (theta, loss)
            if not zeroed:
                break  # the unconstrained optimum is feasible: it is the constrained optimum
    assert best is not None  # the face with every constrained coefficient at 0 is always feasible
    return best


def _design(x: np.ndarray, controls: np.ndarray) -> np.ndarray:
    # Centring and scaling the controls only conditions the Newton steps; the satisfaction columns stay on the
    # 1-7 scale (centred) so their coefficients are per scale point and the weights are their shares.
    z = controls - controls.mean(axis=0) if controls.shape[1] else controls
    sd = z.std(axis=0) if controls.shape[1] else np.ones(0)
    z = z / np.where(sd > 0, sd, 1.0)
    return np.column_stack([np.ones(len(x)), x - x.mean(axis=0), z])


def _weights_from_fit(theta: np.ndarray) -> np.ndarray | None:
    beta = -theta[1:4]
    total = beta.sum()
    return None if total <= 0 else beta / total


@dataclass(frozen=True)
class SuggestedWeights:
    """Weights fitted to churn, their uncertainty, and how much better they explain behaviour.

    Attributes
    ----------
    weights : SatisfactionWeights
        ``w_d = beta_d / sum(beta)`` from the sign-constrained logistic fit (see :func:`suggest_weights`).
    weights_low, weights_high : dict
        Percentile 95% interval of each weight (``{dimension: value}``) from the member-level (cluster)
        bootstrap [6]_; NaN with ``n_boot = 0``.
    weights_se : dict
        Bootstrap standard error of each weight (``{dimension: value}``); NaN with ``n_boot = 0``.
    current : SatisfactionWeights
        The weights compared against.
    coefficients : dict
        ``{dimension: beta_d}`` (change in churn log-odds per scale point; <= 0), ``scale`` (``sum(-beta)``)
        and the control coefficients (per standard deviation of the control).
    controls : tuple of str
        Control variables used.
    n, n_churned : int
        Complete member-years used (every dimension answered).
    n_members : int
        Distinct members (clusters) among them: the unit that is resampled and split into folds.
    n_incomplete : int
        Surveyed rows left out because a whole dimension was unanswered.
    n_boot, n_boot_failed : int
        Bootstrap replicates drawn, and those where no dimension predicted retention (left out of the
        intervals, counted against the order).
    order : tuple of str
        The dimensions by suggested weight, largest first (ties keep the order of :data:`DIMENSIONS`).
    order_probability : float
        Share of the ``n_boot`` draws whose three weights fall strictly in ``order`` (failed draws count as
        not); NaN with ``n_boot = 0``.
    pair_probabilities : tuple of (str, str, float)
        For each neighbouring pair of ``order`` (larger, smaller), the share of draws in which the larger
        weight stays strictly larger.
    folds : int
        Folds of the cross-fitting (by member).
    auc_current : float
        AUC of the negated index for churn under the current weights (nothing fitted: no optimism).
    auc_suggested : float
        In-sample AUC of the suggested index: judged on the rows that fitted it, so optimistic.
    auc_suggested_cv : float
        Cross-fitted AUC: each member's rows scored with weights fitted on the other folds' members, pooled.
    auc_gain, auc_gain_low, auc_gain_high : float
        The reported gain, ``auc_suggested_cv - auc_current``, with a 95% interval from the clustered variance of
        two correlated AUCs [5]_ (the fold weights held fixed).
    auc_gain_in_sample : float
        ``auc_suggested - auc_current``, for comparison only (optimistic).
    log_loss_current, log_loss_suggested : float
        Mean negative log-likelihood of the logistic model (same controls) with the satisfaction effect
        constrained to the current / the suggested weights.
    lr_statistic, lr_pvalue : float
        Likelihood-ratio test of the current weights against the fit: ``2 n (log_loss_current -
        log_loss_suggested)`` against chi-square with 2 degrees of freedom (approximate, conservative when a
        fitted weight is 0; it takes member-years as independent).
    """

    weights: SatisfactionWeights
    weights_low: dict[str, float] = field(hash=False)
    weights_high: dict[str, float] = field(hash=False)
    weights_se: dict[str, float] = field(hash=False)
    current: SatisfactionWeights
    coefficients: dict[str, float] = field(hash=False)
    controls: tuple[str, ...]
    n: int
    n_churned: int
    n_members: int
    n_incomplete: int
    n_boot: int
    n_boot_failed: int
    order: tuple[str, ...]
    order_probability: float
    pair_probabilities: tuple[tuple[str, str, float], ...]
    folds: int
    auc_current: float
    auc_suggested: float
    auc_suggested_cv: float
    auc_gain: float
    auc_gain_low: float
    auc_gain_high: float
    auc_gain_in_sample: float
    log_loss_current: float
    log_loss_suggested: float
    lr_statistic: float
    lr_pvalue: float

    @property
    def order_established(self) -> bool:
        """Whether the data tells the three weights apart: the suggested order holds in at least
        :data:`ORDER_PROBABILITY_THRESHOLD` of the bootstrap draws (False without a bootstrap: nothing shows it)."""
        return bool(self.order_probability >= ORDER_PROBABILITY_THRESHOLD)  # NaN compares False

    def weakest_pair(self) -> tuple[str, str, float]:
        """The neighbouring pair of :attr:`order` least often kept in the bootstrap: ``(larger, smaller, share)``."""
        return min(self.pair_probabilities, key=lambda pair: (np.nan_to_num(pair[2], nan=-1.0), pair[0]))

    def table(self) -> pd.DataFrame:
        """Per dimension: ``dimension``, ``current``, ``suggested``, ``low``, ``high`` (for a bar chart)."""
        return pd.DataFrame(
            {
                "dimension": list(DIMENSIONS),
                "current": self.current.as_array(),
                "suggested": self.weights.as_array(),
                "low": [self.weights_low[d] for d in DIMENSIONS],
                "high": [self.weights_high[d] for d in DIMENSIONS],
            }
        )


def _fit_weights(x: np.ndarray, controls: np.ndarray, y: np.ndarray,
                 start: np.ndarray | None = None) -> tuple[np.ndarray | None, np.ndarray, float]:
    theta, loss = _fit_sign_constrained(_design(x, controls), y, [1, 2, 3], start)
    return _weights_from_fit(theta), theta, loss


def _fit_fixed_weights(x: np.ndarray, controls: np.ndarray, y: np.ndarray, w: np.ndarray) -> float:
    """Loss of the model whose satisfaction effect is ``-scale * (x @ w)``, ``scale >= 0``."""
    _, loss = _fit_sign_constrained(_design((x @ w)[:, None], controls), y, [1])
    return loss


def _cluster_codes(panel: pd.DataFrame, cluster: str | None, rows: np.ndarray) -> np.ndarray:
    """0-based cluster number of each selected row (each row its own cluster without a cluster column)."""
    if cluster is None:
        return np.arange(int(rows.sum()))
    labels = panel[cluster]
    if labels.isna().any():
        raise ValueError(f"panel column {cluster!r} has {int(labels.isna().sum())} missing value(s)")
    codes, _ = pd.factorize(labels.to_numpy()[rows])
    return codes


def _resample_clusters(rng: np.random.Generator, order: np.ndarray, start: np.ndarray, size: np.ndarray) -> np.ndarray:
    """Row numbers of one cluster bootstrap draw: as many clusters as there are, drawn with replacement, each
    bringing all its rows (``order`` lists the rows cluster by cluster, ``start``/``size`` locate each cluster)."""
    drawn = rng.integers(0, len(size), len(size))
    lengths = size[drawn]
    before = np.cumsum(lengths) - lengths
    return order[np.repeat(start[drawn] - before, lengths) + np.arange(int(lengths.sum()))]


def _member_folds(codes: np.ndarray, churned: np.ndarray, folds: int, rng: np.random.Generator) -> np.ndarray:
    """Fold of each row, all rows of a cluster in one fold; clusters with and without a churned row are dealt
    round-robin separately, so every fold gets its share of churners."""
    n_clusters = int(codes.max()) + 1
    any_churned = np.bincount(codes, weights=churned.astype(float), minlength=n_clusters) > 0
    fold_of = np.empty(n_clusters, dtype=int)
    for label in (False, True):
        idx = np.flatnonzero(any_churned == label)
        fold_of[idx] = rng.permutation(len(idx)) % folds
    return fold_of[codes]


def suggest_weights(
    panel: pd.DataFrame,
    current: SatisfactionWeights = DEFAULT_WEIGHTS,
    controls: Sequence[str] = CONTROLS,
    n_boot: int = 200,
    seed: int = 0,
    folds: int = 5,
    cluster: str | None = "member_id",
) -> SuggestedWeights:
    """Weights derived from the data: which dimensions go with members staying, how much, and how surely.

    The model is a logistic regression of ``churned`` on the three dimension scores and the controls,

    ``logit P(churn) = a - scale * sum_d w_d (s_d - mean_d) + sum_k g_k z_k``,  ``w >= 0``, ``sum w = 1``,
    ``scale >= 0``,

    i.e. the satisfaction coefficients ``beta_d = -scale * w_d`` are constrained non-positive (more satisfied
    members do not churn more) and the suggested weights are their shares. It is fitted exactly (Newton on each
    face of the constraint set). Measurement noise in the item means biases the fitted weights (errors in
    variables; the demo malls show its size); the intervals do not include that bias.

    The panel holds a member once per year, so its rows are not independent. Uncertainty is therefore measured
    per member (``cluster``): the bootstrap draws whole members with replacement [6]_ (percentile 95% intervals,
    standard errors, and the share of draws keeping the suggested order of the weights); the gain over the
    current weights is cross-fitted — members are split into ``folds``, each fold's rows are scored with
    weights fitted on the other folds, and the pooled out-of-fold AUC is compared with the current weights' AUC
    on the same rows, with Obuchowski's clustered variance [5]_ for the interval.

    Parameters
    ----------
    panel : DataFrame
        :func:`vipmodel.outcomes.churn_panel` rows. Needs ``sat_<dimension>``, ``churned``, the ``cluster``
        column and the columns of the controls: ``sales`` (``log_sales``), ``care_cost`` (``log_care_cost``),
        the six ``<category>_<status>`` complaint counts (``complaints``). Rows with a dimension unanswered are
        left out (``n_incomplete``).
    current : SatisfactionWeights
        The weights in use, to compare against.
    controls : sequence of {"log_sales", "log_care_cost", "complaints"}
        Variables held fixed while the satisfaction weights are estimated. Money enters as
        ``log(1 + x / median)``, unit-free. Pass ``()`` for none.
    n_boot : int
        Bootstrap replicates (members resampled with replacement) for the intervals and the order
        probability; 0 skips them.
    seed : int
        Seeds the bootstrap and the fold split (independent streams: the folds do not depend on ``n_boot``).
    folds : int
        Folds of the cross-fitting (>= 2), split by member.
    cluster : str or None
        Column identifying the member of each row; ``None`` only for data with one row per member.

    Returns
    -------
    SuggestedWeights

    Raises
    ------
    InsufficientSurveyData
        The messages of :func:`evaluate_weights` (counted on complete responses);
        :data:`NO_COMPLETE_RESPONSES`; ``"every respondent gave the same sales_service score (zero
        variance): its weight cannot be estimated"``; ``"no satisfaction dimension goes with better retention in
        this data (higher scores do not come with less churn): weights cannot be suggested"``;
        ``"too few members to cross-fit: 4 member(s) with a churned year and 60 with a retained year; at least 5
        of each are needed for 5 folds"``.
    ValueError
        Missing columns, ``"unknown control 'x'; ..."``, ``"n_boot must be an integer >= 0"``,
        ``"folds must be an integer >= 2"``, ``"panel column 'member_id' has 2 missing value(s)"``.

    References
    ----------
    See the module's references [1]_, [5]_ and [6]_.
    """
    current = _check_weights(current)
    if isinstance(controls, str):
        controls = (controls,)
    controls = tuple(controls)
    needed = _required_for_controls(controls)
    for name, value, low in (("n_boot", n_boot, 0), ("folds", folds, 2)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}")
    require_columns(
        panel, [*PANEL_REQUIRED, *needed, *([cluster] if cluster is not None else [])], "panel", allow_empty=True
    )
    x_all = _score_matrix(panel, "panel")
    churned_all = _panel_outcome(panel)
    surveyed = ~np.isnan(x_all).all(axis=1)
    complete = ~np.isnan(x_all).any(axis=1)
    z_all, control_names = _control_matrix(panel, controls)
    bad_controls = np.isnan(z_all).any(axis=1) & complete
    if bad_controls.any():
        raise ValueError(f"panel has {int(bad_controls.sum())} surveyed row(s) with missing control values")
    codes = _cluster_codes(panel, cluster, complete)
    if surveyed.any() and not complete.any():
        raise InsufficientSurveyData(NO_COMPLETE_RESPONSES)
    x, z, y_bool = x_all[complete], z_all[complete], churned_all[complete]
    y = y_bool.astype(float)
    _check_sample(x @ current.as_array() if len(x) else np.empty(0), y_bool)
    for j, dim in enumerate(DIMENSIONS):
        if np.ptp(x[:, j]) == 0:
            raise InsufficientSurveyData(
                f"every respondent gave the same {dim} score (zero variance): its weight cannot be estimated"
            )
    n_members = int(codes.max()) + 1
    churners = int((np.bincount(codes, weights=y, minlength=n_members) > 0).sum())
    stayers = int((np.bincount(codes, weights=1.0 - y, minlength=n_members) > 0).sum())
    if min(churners, stayers) < folds:
        raise InsufficientSurveyData(
            f"too few members to cross-fit: {churners} member(s) with a churned year and {stayers} with a retained "
            f"year; at least {folds} of each are needed for {folds} folds"
        )
    w, theta, loss = _fit_weights(x, z, y)
    if w is None:
        raise InsufficientSurveyData(
            "no satisfaction dimension goes with better retention in this data (higher scores do not come with "
            "less churn): weights cannot be suggested"
        )
    suggested = SatisfactionWeights(*(float(v) for v in w / w.sum()))
    n = len(y)
    boot_rng, fold_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2))

    # Member-level bootstrap: a member's years share the member's satisfaction and habits, so they are drawn
    # together; drawing rows would treat them as independent evidence and understate the spread.
    by_cluster = np.argsort(codes, kind="stable")
    size = np.bincount(codes)
    start = np.cumsum(size) - size
    boot: list[np.ndarray] = []
    for _ in range(n_boot):
        rows = _resample_clusters(boot_rng, by_cluster, start, size)
        if np.ptp(y[rows]) == 0:
            continue
        # Newton from the full sample's fit: a replicate's optimum is near it (about half the steps from 0).
        wb, _, _ = _fit_weights(x[rows], z[rows], y[rows], start=theta)
        if wb is not None:
            boot.append(wb)
    failed = n_boot - len(boot)
    draws = np.array(boot).reshape(-1, len(DIMENSIONS))
    if len(draws):
        low_arr, high_arr = np.percentile(draws, [2.5, 97.5], axis=0)
    else:
        low_arr = high_arr = np.full(3, np.nan)
    se_arr = draws.std(axis=0, ddof=1) if len(draws) > 1 else np.full(3, np.nan)
    rank = np.argsort(-w, kind="stable")
    order = tuple(DIMENSIONS[i] for i in rank)
    kept = [draws[:, rank[k]] > draws[:, rank[k + 1]] for k in range(len(rank) - 1)]

    def share(hits: np.ndarray) -> float:  # of all draws: a failed draw does not keep the order
        return float(hits.sum()) / n_boot if n_boot else float("nan")

    order_probability = share(np.logical_and.reduce(kept))
    pairs = tuple((order[k], order[k + 1], share(kept[k])) for k in range(len(kept)))

    # Cross-fitting: every row is scored by weights that never saw its member.
    fold_of = _member_folds(codes, y_bool, folds, fold_rng)
    oof = np.full(n, np.nan)
    for f in range(folds):
        train, test = fold_of != f, fold_of == f
        wf = _fit_weights(x[train], z[train], y[train])[0] if np.ptp(y[train]) > 0 else None
        # A fold whose training members show no retention effect would keep the weights in force.
        oof[test] = x[test] @ (wf if wf is not None else current.as_array())
    idx_current, idx_suggested = x @ current.as_array(), x @ suggested.as_array()
    auc_current, _ = auc_delong(-idx_current, y_bool)
    auc_suggested, _ = auc_delong(-idx_suggested, y_bool)
    auc_cv, _ = auc_delong(-oof, y_bool)
    gain, gain_var = auc_difference(-idx_current, -oof, y_bool, codes)
    gain_low, gain_high = _normal_ci(gain, gain_var, -1.0, 1.0)
    loss_current = _fit_fixed_weights(x, z, y, current.as_array())
    lr = max(2.0 * (loss_current - loss), 0.0)
    coefficients = {d: float(theta[1 + j]) for j, d in enumerate(DIMENSIONS)}
    coefficients["scale"] = float(-theta[1:4].sum())
    coefficients.update({name: float(theta[4 + k]) for k, name in enumerate(control_names)})
    return SuggestedWeights(
        weights=suggested,
        weights_low=dict(zip(DIMENSIONS, map(float, low_arr))),
        weights_high=dict(zip(DIMENSIONS, map(float, high_arr))),
        weights_se=dict(zip(DIMENSIONS, map(float, se_arr))),
        current=current,
        coefficients=coefficients,
        controls=controls,
        n=n,
        n_churned=int(y_bool.sum()),
        n_members=n_members,
        n_incomplete=int((surveyed & ~complete).sum()),
        n_boot=int(n_boot),
        n_boot_failed=failed,
        order=order,
        order_probability=order_probability,
        pair_probabilities=pairs,
        folds=int(folds),
        auc_current=auc_current,
        auc_suggested=auc_suggested,
        auc_suggested_cv=auc_cv,
        auc_gain=gain,
        auc_gain_low=gain_low,
        auc_gain_high=gain_high,
        auc_gain_in_sample=auc_suggested - auc_current,
        log_loss_current=loss_current / n,
        log_loss_suggested=loss / n,
        lr_statistic=lr,
        lr_pvalue=float(stats.chi2.sf(lr, 2)),
    )


# ---------------------------------------------------------------------------- importance and performance


def importance_performance(
    panel: pd.DataFrame,
    weights: SatisfactionWeights = DEFAULT_WEIGHTS,
    suggested: SuggestedWeights | None = None,
    **fit_options: Any,
) -> pd.DataFrame:
    """Importance–performance data per dimension for the quadrant chart (Martilla & James 1977 [3]_).

    Parameters
    ----------
    panel : DataFrame
        Churn-panel rows (see :func:`suggest_weights`); performance is read from the ``sat_<dimension>``
        columns of every row that answered the dimension.
    weights : SatisfactionWeights
        The current weights (shown as ``current_weight``; the comparison point of a fit made here).
    suggested : SuggestedWeights, optional
        A fit already made (the page usually has one); otherwise :func:`suggest_weights` is run with
        ``fit_options``.

    Returns
    -------
    DataFrame
        One row per dimension, columns :data:`IPA_COLUMNS`: ``importance`` (the suggested weight: the
        dimension's share of the satisfaction effect on retention) with its bootstrap interval
        (``importance_low``/``importance_high``); ``effect_per_sd`` (reduction in churn log-odds for one
        standard deviation more of the dimension score); ``current_weight``; ``performance`` (mean score on
        0–100); ``n`` (rows that answered it); the cross-hair ``importance_cut`` (1/3, the average weight) and
        ``performance_cut`` (mean performance of the three dimensions); ``quadrant``: ``concentrate_here``
        (important, below-average performance), ``keep_up`` (important, above), ``low_priority`` (less
        important, below), ``possible_overkill`` (less important, above). Ties at a cut count as high.

    Raises
    ------
    InsufficientSurveyData, ValueError
        As :func:`suggest_weights`; ``"suggested must be a SuggestedWeights, got dict"``.
    """
    weights = _check_weights(weights)
    if suggested is None:
        suggested = suggest_weights(panel, current=weights, **fit_options)
    elif not isinstance(suggested, SuggestedWeights):
        raise ValueError(f"suggested must be a SuggestedWeights, got {type(suggested).__name__}")
    require_columns(panel, SCORE_COLUMNS, "panel", allow_empty=True)
    x = _score_matrix(panel, "panel")
    if np.isnan(x).all():
        raise InsufficientSurveyData(NO_SURVEYS)
    performance = (np.nanmean(x, axis=0) - 1.0) / 6.0 * 100.0
    sd = np.nanstd(x, axis=0, ddof=1)
    importance = suggested.weights.as_array()
    imp_cut = 1.0 / len(DIMENSIONS)
    perf_cut = float(performance.mean())
    quadrant = [
        ("keep_up" if p >= perf_cut else "concentrate_here") if i >= imp_cut
        else ("possible_overkill" if p >= perf_cut else "low_priority")
        for i, p in zip(importance, performance)
    ]
    return pd.DataFrame(
        {
            "dimension": list(DIMENSIONS),
            "importance": importance,
            "importance_low": [suggested.weights_low[d] for d in DIMENSIONS],
            "importance_high": [suggested.weights_high[d] for d in DIMENSIONS],
            "effect_per_sd": [-suggested.coefficients[d] * s for d, s in zip(DIMENSIONS, sd)],
            "current_weight": weights.as_array(),
            "performance": performance,
            "n": (~np.isnan(x)).sum(axis=0).astype("int64"),
            "importance_cut": imp_cut,
            "performance_cut": perf_cut,
            "quadrant": quadrant,
        }
    )[list(IPA_COLUMNS)]


# -------------------------------------------------------------------------------------------------- loyalty


def _wallet_share(conn: Connection, codes: list[str], start: dt.date, end: dt.date) -> tuple[float, int]:
    r, a = schema.survey_responses, schema.survey_answers
    mean, n = conn.execute(
        select(cast(func.avg(cast(a.c.score, Float)), Float), func.count(func.distinct(r.c.member_id)))
        .select_from(a.join(r, a.c.response_id == r.c.id))
        .where(a.c.item_code.in_(codes), r.c.survey_date >= start, r.c.survey_date <= end)
    ).one()
    return (float("nan") if mean is None else (float(mean) - 1.0) / 6.0 * 100.0), int(n)


def loyalty_indicators(conn: Connection | Engine, as_of: dt.date) -> pd.DataFrame:
    """Loyalty indicators of DOMAIN.md that the data supports, for the year ending ``as_of`` and the year before.

    Years are the whole-year windows of :func:`vipmodel.outcomes.year_windows`; purchases are aggregated per
    member in SQL (:func:`vipmodel.features.member_features`).

    Returns
    -------
    DataFrame
        Columns :data:`LOYALTY_COLUMNS` (``change = value - previous``; ``n`` = the base of ``value``), rows:

        * ``purchase_rate`` (购买率) — share of card holders (joined by the end of the year) who bought in it;
        * ``repeat_purchase_rate`` — share of the year's buyers who bought on at least two different days;
        * ``retention_rate`` (传输速率, the repeat measure across years) — share of the previous year's buyers
          who bought again (1 − the churn of :mod:`vipmodel.outcomes`);
        * ``purchase_frequency`` — mean purchase days per buyer (the frequency trend: ``value`` vs
          ``previous``);
        * ``share_of_wallet`` (预算比例) — only when a survey item's code or label contains ``wallet`` or
          ``预算``: its mean answer on 0–100.

        NaN where a year has no buyers (``note`` says so). Indicators the data cannot support are left out and
        listed in ``frame.attrs["omitted"]`` as ``{indicator: reason}`` — the share of wallet without such an
        item (:data:`NO_WALLET_ITEM`; the default questionnaire has none) and the preferred-brand spend ratio
        (组合比, :data:`NO_BRAND_DATA`).

    Raises
    ------
    ValueError
        ``"as_of must be a date, got str"``.
    """
    as_of = as_date(as_of, "as_of")
    windows = year_windows(as_of, 3)  # oldest first: two years before, previous year, last year
    m = schema.members
    rows: list[dict[str, Any]] = []
    omitted = {"brand_mix": NO_BRAND_DATA}
    with borrow_connection(conn) as c:
        visits: list[pd.Series] = []
        for start, end in windows:
            feats = member_features(c, start, end, period="range")
            buyers = feats[feats["n_transactions"] > 0]
            visits.append(buyers.set_index("member_id")["n_visits"].astype(float))
        holders = [
            int(c.execute(select(func.count()).select_from(m).where(m.c.join_date <= end)).scalar_one())
            for _, end in windows
        ]
        wallet = _wallet_items(c)
        wallet_values = [_wallet_share(c, wallet, s, e) for s, e in windows[1:]] if wallet else None

    def ratio(num: float, den: int) -> float:
        return num / den if den else float("nan")

    def add(name: str, unit: str, last: tuple[float, int], prev: tuple[float, int], note: str = "") -> None:
        if last[1] == 0 and not note:
            note = "no data in the year ending " + as_of.isoformat()
        rows.append({"indicator": name, "value": last[0], "previous": prev[0], "change": last[0] - prev[0],
                     "unit": unit, "n": last[1], "note": note})

    def purchase_rate(k: int) -> tuple[float, int]:
        return ratio(len(visits[k]), holders[k]), holders[k]

    def repeat_rate(k: int) -> tuple[float, int]:
        return ratio(float((visits[k] >= 2).sum()), len(visits[k])), len(visits[k])

    def retention(k: int) -> tuple[float, int]:
        base = visits[k - 1].index
        return ratio(float(base.isin(visits[k].index).sum()), len(base)), len(base)

    def frequency(k: int) -> tuple[float, int]:
        return (float(visits[k].mean()) if len(visits[k]) else float("nan")), len(visits[k])

    add("purchase_rate", "share of card holders", purchase_rate(2), purchase_rate(1))
    add("repeat_purchase_rate", "share of buyers", repeat_rate(2), repeat_rate(1))
    add("retention_rate", "share of previous-year buyers", retention(2), retention(1))
    add("purchase_frequency", "purchase days per buyer per year", frequency(2), frequency(1))
    if wallet_values is not None:
        add("share_of_wallet", "0-100 (survey)", wallet_values[1], wallet_values[0],
            note="survey item(s) " + ", ".join(sorted(wallet)))
    else:
        omitted = {"share_of_wallet": NO_WALLET_ITEM, **omitted}
    out = pd.DataFrame(rows, columns=list(LOYALTY_COLUMNS))
    out["n"] = out["n"].astype("int64")
    out.attrs["omitted"] = omitted
    return out
