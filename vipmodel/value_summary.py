"""Lifetime value by tier in a few numbers: box statistics, per-tier totals and the at-risk list's reason flags.

The Value page shows the lifetime value (``model_clv``, :func:`vipmodel.retention.member_values`) of up to a
million members per tier. What it draws and lists is computed here, once per filter, small enough to cache:

* :func:`clv_boxes` -- Tukey's box statistics per tier [1]_ [2]_ (quartiles, whiskers at the most extreme value
  within 1.5 IQR of the box, outliers beyond), with at most :data:`MAX_OUTLIERS` outliers per box and side, so the
  figure's size does not grow with the number of members. Lifetime values are heavy tailed; when they span more
  than :data:`SKEW_DECADES` powers of ten (:func:`is_skewed`) a log scale is used, starting at :data:`CLV_FLOOR`.
* :func:`tier_value_summary` -- members, total and median lifetime value per tier, model and the documents'
  simple rule side by side; an undefined simple value stays undefined.
* :func:`reason_flags` -- one boolean column per reason code of :data:`vipmodel.retention.REASONS` (and
  :data:`vipmodel.retention.NO_CLEAR_REASON`), so that picking reasons is a vectorised ``any``.

References
----------
.. [1] Tukey, J. W. (1977). *Exploratory Data Analysis*. Addison-Wesley, ch. 2 (schematic plots, fences at
   1.5 H-spread).
.. [2] McGill, R., Tukey, J. W. & Larsen, W. A. (1978). Variations of box plots. *The American Statistician*
   32(1), 12-16.
.. [3] Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). RFM and CLV: using iso-value curves for customer base
   analysis. *Journal of Marketing Research* 42(4), 415-430 (lifetime values are heavy tailed).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from vipmodel.contracts import require_columns
from vipmodel.retention import NO_CLEAR_REASON, REASONS

__all__ = [
    "CLV_FLOOR",
    "MAX_OUTLIERS",
    "REASON_FLAG_PREFIX",
    "SKEW_DECADES",
    "box_statistics",
    "clv_boxes",
    "is_skewed",
    "reason_flags",
    "tier_value_summary",
]

SKEW_DECADES = 2.0
# The log scale starts here (yuan): the model values a member with no purchase to expect at fractions of a fen
# (1e-9), which would stretch the scale over ten empty decades. Members below it are counted, not described.
CLV_FLOOR = 1.0
MAX_OUTLIERS = 200  # per box and side: the figure's size must not grow with the number of members
REASON_FLAG_PREFIX = "reason:"
BOX_COLUMNS: tuple[str, ...] = ("tier", "model_clv")
SUMMARY_COLUMNS: tuple[str, ...] = ("tier", "model_clv", "simple_clv")


def is_skewed(values: pd.Series | np.ndarray, decades: float = SKEW_DECADES) -> bool:
    """Whether the positive values span more than ``decades`` powers of ten between their 5th and 95th percentile.

    Parameters
    ----------
    values : array-like of float
        Lifetime values; zero, negative and non-finite values are ignored.
    decades : float, default :data:`SKEW_DECADES`
        Powers of ten the 95th percentile must exceed the 5th by.

    Returns
    -------
    bool
        False with fewer than two positive values (no spread to judge).

    Notes
    -----
    Lifetime values are heavy tailed [3]_ (a few platinum members are worth a thousand iron ones); on a linear
    scale the boxes of the lower tiers collapse to a line, so a log scale is used when this holds.
    """
    positive = np.asarray(values, dtype=float)
    positive = positive[np.isfinite(positive) & (positive > 0)]
    if len(positive) < 2:
        return False
    low, high = np.percentile(positive, [5, 95])
    return bool(high / low > 10**decades)


def box_statistics(values: np.ndarray, max_outliers: int = MAX_OUTLIERS) -> dict[str, object]:
    """Tukey box statistics of ``values`` [1]_ [2]_.

    Parameters
    ----------
    values : numpy.ndarray of float
        At least one finite value.
    max_outliers : int, default :data:`MAX_OUTLIERS`
        Outliers kept per side: the most extreme ones, so a box of a million members is described as compactly as
        one of a hundred.

    Returns
    -------
    dict
        ``q1``, ``median``, ``q3`` (``numpy.percentile``, linear interpolation); ``lowerfence`` and ``upperfence``
        (the smallest and largest value within ``[q1 - 1.5 IQR, q3 + 1.5 IQR]``); ``outliers`` (the values outside
        the fences, lowest first, at most ``max_outliers`` per side); ``n`` (the number of values).
    """
    q1, median, q3 = np.percentile(values, [25, 50, 75])
    iqr = q3 - q1
    inside = values[(values >= q1 - 1.5 * iqr) & (values <= q3 + 1.5 * iqr)]
    low, high = float(inside.min()), float(inside.max())
    below, above = np.sort(values[values < low]), np.sort(values[values > high])
    outliers = np.concatenate([below[:max_outliers], above[-max_outliers:] if len(above) else above])
    return {"q1": float(q1), "median": float(median), "q3": float(q3), "lowerfence": low, "upperfence": high,
            "outliers": outliers, "n": len(values)}


def clv_boxes(frame: pd.DataFrame, groups: Sequence[str], log: bool | None = None,
              floor: float = CLV_FLOOR) -> dict[str, object]:
    """The box statistics of ``model_clv`` per tier, small enough to cache.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per member with ``tier`` and ``model_clv``; may be empty.
    groups : sequence of str
        The tiers to describe (e.g. ``["A", "B", "C", "D", "inactive"]``).
    log : bool, optional
        Describe the values for a log scale; None decides by :func:`is_skewed` over every member of ``frame``.
    floor : float, default :data:`CLV_FLOOR`
        On a log scale, the smallest value described.

    Returns
    -------
    dict
        ``{"log", "boxes", "non_positive", "floor"}``: ``boxes`` maps each of ``groups`` that has a value to
        describe to its :func:`box_statistics` (non-finite values are left out; on a log scale so are values below
        ``floor``, i.e. 0 and the model's fractions of a fen for members who are not expected to buy again);
        ``non_positive`` counts the members left out for their value: below ``floor`` on a log scale, at or below
        0 otherwise.

    Raises
    ------
    ValueError
        ``"frame is missing columns: tier"`` (:func:`vipmodel.contracts.require_columns`).
    """
    require_columns(frame, BOX_COLUMNS, "frame", allow_empty=True)
    clv = frame["model_clv"].to_numpy(dtype=float)
    use_log = is_skewed(clv) if log is None else bool(log)
    tiers = frame["tier"].astype("category")  # one pass of string comparisons, then integer codes per group
    boxes = {}
    for group in groups:
        values = clv[(tiers == group).to_numpy()] if group in tiers.cat.categories else clv[:0]
        values = values[np.isfinite(values) & (values >= floor)] if use_log else values[np.isfinite(values)]
        if len(values):
            boxes[group] = box_statistics(values)
    below = int((clv < floor).sum()) if use_log else int((clv <= 0).sum())
    return {"log": use_log, "boxes": boxes, "non_positive": below, "floor": floor}


def tier_value_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Members, total and median lifetime value (model and simple rule) per tier.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per member with ``tier``, ``model_clv`` and ``simple_clv``; may be empty.

    Returns
    -------
    pandas.DataFrame
        Indexed by tier (str, the tiers that have members, sorted), columns ``members``, ``model_clv_total``,
        ``simple_clv_total``, ``model_clv_median``, ``simple_clv_median``. A tier whose simple values are all
        undefined (NaN) has an undefined total rather than 0; medians skip NaN.

    Raises
    ------
    ValueError
        ``"frame is missing columns: simple_clv"`` (:func:`vipmodel.contracts.require_columns`).
    """
    require_columns(frame, SUMMARY_COLUMNS, "frame", allow_empty=True)
    by_group = frame.groupby(frame["tier"].astype("category"), observed=True)[["model_clv", "simple_clv"]]
    summary = pd.concat([by_group.size().rename("members"), by_group.sum(min_count=1).add_suffix("_total"),
                         by_group.median().add_suffix("_median")], axis=1)
    summary.index = summary.index.astype(str)
    return summary


def reason_flags(frame: pd.DataFrame) -> pd.DataFrame:
    """One boolean column per reason code: whether each member's likely churn reasons include it.

    Parameters
    ----------
    frame : pandas.DataFrame
        :func:`vipmodel.retention.at_risk` rows; needs ``reasons`` (a tuple of :data:`vipmodel.retention.REASONS`
        codes per member). May be empty.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``frame``, one bool column ``"reason:<code>"`` (:data:`REASON_FLAG_PREFIX`) per code of
        :data:`vipmodel.retention.REASONS` in that order, then ``"reason:no_clear_reason"``
        (:data:`vipmodel.retention.NO_CLEAR_REASON`), True where the member has no reason. Codes that are not in
        ``REASONS`` set no flag.

    Raises
    ------
    ValueError
        ``"frame is missing columns: reasons"`` (:func:`vipmodel.contracts.require_columns`).
    """
    require_columns(frame, ["reasons"], "frame", allow_empty=True)
    reasons = frame["reasons"].to_list()
    flags = {f"{REASON_FLAG_PREFIX}{code}": np.fromiter((code in r for r in reasons), dtype=bool, count=len(reasons))
             for code in REASONS}
    flags[f"{REASON_FLAG_PREFIX}{NO_CLEAR_REASON}"] = np.fromiter((len(r) == 0 for r in reasons), dtype=bool,
                                                                  count=len(reasons))
    return pd.DataFrame(flags, index=frame.index)
