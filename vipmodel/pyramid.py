"""The customer pyramid (顾客金字塔): four tiers A (白金 Platinum) to D (重铅 Lead) by profit contribution.

Tiers are assigned from the member features frame of one period (:func:`vipmodel.features.member_features`),
either by *share* of members ranked by profit contribution (the reference proportions of Zeithaml, Rust &
Lemon are 1% / 4% / 15% / 80%) or by *absolute* minimum values of profit contribution or spend that the mall
sets itself. Whatever the basis, a member whose profit contribution is negative is in D: the documents define
D as the customers who cost more than they bring, however much they spend.

Marketing tunes the rules interactively, so :func:`assign_tiers` is vectorised (one ``numpy.partition`` and
three comparisons; no per-member Python) and :func:`compare_rules` shows what a proposed change would do before
it is saved (:mod:`vipmodel.settings`, kind ``"tier_rules"``).

References
----------
.. [1] Zeithaml, V. A., Rust, R. T. & Lemon, K. N. (2001). The customer pyramid: creating and serving
   profitable customers. *California Management Review*, 43(4), 118-142.
.. [2] Kaplan, R. S. & Narayanan, V. G. (2001). Measuring and managing customer profitability.
   *Journal of Cost Management*, 15(5), 5-15 (the "whale curve": the most profitable customers can earn more
   than 100% of total profit, which unprofitable customers then give back).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from numbers import Real
from typing import Any, Literal

import numpy as np
import pandas as pd

from vipmodel.contracts import require_columns
from vipmodel.schema import TIERS, Tier

Basis = Literal["share", "profit", "spend"]
Direction = Literal["up", "down", "unchanged"]

BASES: tuple[str, ...] = ("share", "profit", "spend")
BASIS_COLUMN: dict[str, str] = {"share": "profit_contribution", "profit": "profit_contribution", "spend": "sales"}
DEFAULT_SHARES: tuple[float, float, float] = (0.01, 0.04, 0.15)
SUMMARY_COLUMNS: tuple[str, ...] = (
    "members",
    "member_share",
    "sales",
    "sales_share",
    "profit",
    "profit_share",
    "avg_profit",
    "avg_clv",
    "total_clv",
    "churn_rate",
)
DIRECTIONS: tuple[str, ...] = ("up", "down", "unchanged")
_PAYLOAD_KEYS = {"basis", "shares", "thresholds"}
_UPPER: tuple[Tier, ...] = TIERS[:3]  # the tiers a rule sets a bound for; D is the rest


# ----------------------------------------------------------------------------------------------- validation


def numeric_column(frame: pd.DataFrame, column: str, name: str = "features") -> np.ndarray:
    """``frame[column]`` as a float array; ``ValueError`` when it is not numeric or has missing values."""
    try:
        values = frame[column].to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} column {column!r} must be numeric") from exc
    n_missing = int(np.isnan(values).sum())
    if n_missing:
        raise ValueError(f"{name} column {column!r} has {n_missing} missing value(s); fill or drop them first")
    return values


def _check_member_ids(frame: pd.DataFrame, name: str, unique: bool) -> None:
    ids = frame["member_id"]
    if ids.isna().any():
        raise ValueError(f"{name} column 'member_id' has missing values")
    # Uniqueness costs a hash of every id (~0.1 s per million); assign_tiers skips it to stay interactive and
    # relies on the one-row-per-member-and-period contract of member_features plus _check_single_period.
    if unique and not ids.is_unique:
        dup = ids[ids.duplicated()].iloc[0]
        raise ValueError(f"{name} must hold one row per member; member_id {dup!r} appears more than once")


def _check_single_period(frame: pd.DataFrame, name: str = "features") -> None:
    if "period" not in frame.columns or len(frame) == 0:
        return
    col = frame["period"]
    if not bool((col == col.iloc[0]).all()):
        periods = ", ".join(repr(p) for p in pd.unique(col.astype("object"))[:5])
        raise ValueError(
            f"{name} holds several periods ({periods}); tier one period at a time "
            "or use vipmodel.migration.tier_snapshots"
        )


def _three_numbers(value: Any, what: str) -> tuple[float, float, float]:
    if isinstance(value, Mapping):
        if set(value) != set(_UPPER):
            raise ValueError(f"{what} must give exactly tiers 'A', 'B' and 'C'; got keys {sorted(map(str, value))}")
        value = [value[t] for t in _UPPER]
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or len(value) != 3:
        raise ValueError(f"{what} must be three numbers for A, B and C; got {value!r}")
    if any(isinstance(v, bool) or not isinstance(v, Real) or not math.isfinite(v) for v in value):
        raise ValueError(f"{what} must be finite numbers; got {tuple(value)!r}")
    return (float(value[0]), float(value[1]), float(value[2]))


# -------------------------------------------------------------------------------------------------- rules


@dataclass(frozen=True)
class TierRules:
    """How members are placed in tiers A-D.

    Parameters
    ----------
    basis : {"share", "profit", "spend"}
        ``"share"``: rank members by ``profit_contribution`` and fill A, B, C with the top ``shares`` of
        members, D with the rest. ``"profit"`` / ``"spend"``: a member is in the highest tier whose minimum
        ``profit_contribution`` / ``sales`` (net spend) they reach.
    shares : (float, float, float), optional
        Basis ``"share"`` only: the shares of members in A, B and C, each in (0, 1) and summing to less than 1
        (D takes the rest). Default 1% / 4% / 15% (Zeithaml, Rust & Lemon 2001 [1]_).
    thresholds : (float, float, float), optional
        Basis ``"profit"`` / ``"spend"`` only, required there: the minimum value for A, B and C, strictly
        descending. The values are compared with the features of the period as given: the mall's rules are
        annual, so tier yearly features, or use :meth:`scaled` (e.g. ``0.25`` for a quarter).

    Notes
    -----
    Whatever the basis, members with negative profit contribution are always in D.

    Raises
    ------
    ValueError
        ``"basis must be one of 'share', 'profit', 'spend'; got 'x'"``,
        ``"share of tier B must be in (0, 1); got 0"``,
        ``"shares of A, B and C must sum to less than 1 (D takes the rest); got 1.05"``,
        ``"thresholds must be strictly descending (A > B > C); got (1.0, 2.0, 0.5)"``,
        ``"basis 'profit' needs thresholds: the minimum value for A, B and C"``,
        ``"thresholds only apply to basis 'profit' or 'spend'"``, ``"shares only apply to basis 'share'"``,
        ``"shares must be three numbers for A, B and C; got ..."``, ``"thresholds must be finite numbers; ..."``.

    References
    ----------
    .. [1] Zeithaml, V. A., Rust, R. T. & Lemon, K. N. (2001). The customer pyramid: creating and serving
       profitable customers. *California Management Review*, 43(4), 118-142.
    """

    basis: Basis = "share"
    shares: tuple[float, float, float] | None = None
    thresholds: tuple[float, float, float] | None = None

    def __post_init__(self) -> None:
        if self.basis not in BASES:
            raise ValueError(f"basis must be one of 'share', 'profit', 'spend'; got {self.basis!r}")
        if self.basis == "share":
            if self.thresholds is not None:
                raise ValueError("thresholds only apply to basis 'profit' or 'spend'")
            shares = _three_numbers(DEFAULT_SHARES if self.shares is None else self.shares, "shares")
            for tier, share in zip(_UPPER, shares):
                if not 0.0 < share < 1.0:
                    raise ValueError(f"share of tier {tier} must be in (0, 1); got {share:g}")
            total = sum(shares)
            if total >= 1.0:
                raise ValueError(f"shares of A, B and C must sum to less than 1 (D takes the rest); got {total:g}")
            object.__setattr__(self, "shares", shares)
        else:
            if self.shares is not None:
                raise ValueError("shares only apply to basis 'share'")
            if self.thresholds is None:
                raise ValueError(f"basis {self.basis!r} needs thresholds: the minimum value for A, B and C")
            thresholds = _three_numbers(self.thresholds, "thresholds")
            if not thresholds[0] > thresholds[1] > thresholds[2]:
                raise ValueError(f"thresholds must be strictly descending (A > B > C); got {thresholds}")
            object.__setattr__(self, "thresholds", thresholds)

    @property
    def value_column(self) -> str:
        """The features column the tiers are cut on (``profit_contribution`` or ``sales``)."""
        return BASIS_COLUMN[self.basis]

    @property
    def required_columns(self) -> tuple[str, ...]:
        """Columns of the features frame that :func:`assign_tiers` needs for these rules."""
        if self.basis == "spend":
            return ("member_id", "profit_contribution", "sales")
        return ("member_id", "profit_contribution")

    def scaled(self, factor: float) -> TierRules:
        """These rules with absolute thresholds multiplied by ``factor`` (share rules are returned unchanged).

        Use it to apply annual thresholds to a shorter period, e.g. ``rules.scaled(0.25)`` for a quarter.
        ``ValueError("factor must be a positive number; got 0")`` otherwise.
        """
        if isinstance(factor, bool) or not isinstance(factor, Real) or not math.isfinite(factor) or factor <= 0:
            raise ValueError(f"factor must be a positive number; got {factor!r}")
        if self.thresholds is None:
            return self
        return TierRules(basis=self.basis, thresholds=tuple(t * float(factor) for t in self.thresholds))

    def to_payload(self) -> dict[str, Any]:
        """JSON payload for :func:`vipmodel.settings.save_setting` (kind ``"tier_rules"``)."""
        if self.basis == "share":
            return {"basis": "share", "shares": dict(zip(_UPPER, self.shares))}
        return {"basis": self.basis, "thresholds": dict(zip(_UPPER, self.thresholds))}

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> TierRules:
        """Rules from a stored payload (the inverse of :meth:`to_payload`).

        ``shares`` / ``thresholds`` may be ``{"A": .., "B": .., "C": ..}`` or a three-element list.
        Raises ``ValueError`` (``"tier rules payload must be a mapping"``, ``"tier rules payload has no
        'basis'"``, ``"unknown key(s) in tier rules payload: 'x'"``, or any message of :class:`TierRules`).
        """
        if not isinstance(payload, Mapping):
            raise ValueError("tier rules payload must be a mapping")
        unknown = sorted(set(payload) - _PAYLOAD_KEYS, key=str)
        if unknown:
            raise ValueError("unknown key(s) in tier rules payload: " + ", ".join(repr(k) for k in unknown))
        if "basis" not in payload:
            raise ValueError("tier rules payload has no 'basis'")
        basis = payload["basis"]
        shares = payload.get("shares")
        thresholds = payload.get("thresholds")
        return cls(
            basis=basis,
            shares=None if shares is None else _three_numbers(shares, "shares"),
            thresholds=None if thresholds is None else _three_numbers(thresholds, "thresholds"),
        )


DEFAULT_RULES = TierRules()


# ---------------------------------------------------------------------------------------------- assigning


def _share_codes(
    values: np.ndarray,
    shares: tuple[float, float, float],
    ascending: np.ndarray | None = None,
    tiebreak: np.ndarray | None = None,
) -> np.ndarray:
    n = len(values)
    cumulative = np.cumsum(shares)
    # floor: a tier never holds more than its share of members; the rounding to 6 decimals first keeps float
    # noise (0.05 * 100 = 5.000000000000001 or 4.999999999999999) from moving a cut by one member.
    sizes = [min(n, math.floor(round(c * n, 6))) for c in cumulative]
    # The (k+1)-th largest value sits at ascending position n-1-k; partitioning in place of sorting keeps
    # this O(n), and partitioning the values themselves (not their negation) saves a copy. A caller tiering the
    # same values many times (RulePreview) passes them sorted once instead.
    positions = sorted({n - 1 - k for k in sizes if k < n})
    ordered = ascending if ascending is not None else np.partition(values, positions) if positions else None
    # The cut for a tier is the value of the best member *outside* it; members tied with that member are
    # below the cut, so ties never push a tier over its share and equal values always share a tier.
    cuts = [(ordered[n - 1 - k] if k < n else -np.inf) for k in sizes]
    codes = (values <= cuts[0]).astype(np.int8)
    codes += values <= cuts[1]
    codes += values <= cuts[2]
    if tiebreak is not None:
        _break_ties(codes, values, tiebreak, sizes, cuts)
    return codes


def _tiebreak(features: pd.DataFrame) -> np.ndarray | None:
    """Sales as the tie-break of a profit ranking (missing sales rank last), or None without a sales column."""
    if "sales" not in features.columns:
        return None
    try:
        sales = features["sales"].to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError):
        return None
    return np.where(np.isnan(sales), -np.inf, sales)


def _break_ties(codes: np.ndarray, values: np.ndarray, tiebreak: np.ndarray, sizes: list[int], cuts: list) -> None:
    """Fill a tier that ties at its cut left short with the tied members of highest ``tiebreak`` (in place).

    Profits tie in whole blocks when a mall has no margins yet (every contribution 0) or prices are few; without
    this a 1% tier of tied members would stay empty. Members tied on both values still go to the lower tier, and
    the members lifted at a cut are the top of the same tie-break order at every cut, so the tiers stay nested.
    """
    for size, cut in zip(sizes, cuts):
        if not np.isfinite(cut):
            continue
        short = size - int(np.count_nonzero(values > cut))
        if short <= 0:
            continue
        tied = np.flatnonzero(values == cut)
        if short >= len(tied):  # cannot happen with a cut taken from the values; kept safe
            codes[tied] -= 1
            continue
        second = tiebreak[tied]
        position = len(second) - short - 1
        bar = np.partition(second, position)[position]  # the best tied member left outside the tier
        codes[tied[second > bar]] -= 1


def _threshold_codes(values: np.ndarray, thresholds: tuple[float, float, float]) -> np.ndarray:
    codes = (values < thresholds[0]).astype(np.int8)
    codes += values < thresholds[1]
    codes += values < thresholds[2]
    return codes


def assign_tiers(features: pd.DataFrame, rules: TierRules = DEFAULT_RULES) -> pd.Series:
    """Place every member of one period in tier A, B, C or D.

    Parameters
    ----------
    features : pandas.DataFrame
        One row per member for a single period (:func:`vipmodel.features.member_features`). Needs
        ``member_id`` and ``profit_contribution``, plus ``sales`` for basis ``"spend"``; when a ``period``
        column is present it must hold a single period.
    rules : TierRules, optional
        Default :data:`DEFAULT_RULES` (1% / 4% / 15% / 80% by profit contribution).

    Returns
    -------
    pandas.Series
        Named ``tier``, indexed by ``member_id`` in the order of ``features``; categorical with categories
        ``A, B, C, D`` (unordered: A is the best tier, so comparing labels would mislead).

    Notes
    -----
    Basis ``"share"``: with ``n`` members and cumulative shares ``c`` (A, A+B, A+B+C), the top
    ``floor(c * n)`` members by profit contribution fill the tiers, so a tier never holds more than its
    share (with fewer than 100 members the default A tier is empty). **Ties at a cut are broken by sales**
    when ``features`` has a ``sales`` column: of the members whose contribution equals that of the best member
    left outside a tier, those with the highest sales fill the tier up to its share, so share-based tiers keep
    their shares when profits tie (a mall without margins, where every contribution is the same). Members tied
    on both go to the lower tier, so two such members always share a tier. The result does not depend on row
    order.

    Basis ``"profit"`` / ``"spend"``: a member is in A when the value is ``>= thresholds[0]``, else B when
    ``>= thresholds[1]``, else C when ``>= thresholds[2]``, else D. Nobody may qualify for A.

    Any basis: negative ``profit_contribution`` means D.

    The rows are assumed to be one per member (the contract of ``member_features``); checking it would cost
    more than the tiering itself, so it is checked by :func:`tier_summary` and :func:`compare_rules` instead.

    Raises
    ------
    ValueError
        Missing column, empty frame, several periods, non-numeric or missing values (see
        :func:`vipmodel.contracts.require_columns`, :func:`numeric_column`).
    """
    if not isinstance(rules, TierRules):
        raise ValueError(f"rules must be a TierRules, got {type(rules).__name__}")
    require_columns(features, rules.required_columns, "features")
    _check_single_period(features)
    _check_member_ids(features, "features", unique=False)
    profit = numeric_column(features, "profit_contribution")
    values = profit if rules.value_column == "profit_contribution" else numeric_column(features, rules.value_column)
    if rules.basis == "share":
        codes = _share_codes(values, rules.shares, tiebreak=_tiebreak(features))
    else:
        codes = _threshold_codes(values, rules.thresholds)
    codes[profit < 0] = 3
    return pd.Series(
        pd.Categorical.from_codes(codes, categories=list(TIERS)),
        index=pd.Index(features["member_id"], name="member_id"),
        name="tier",
    )


def tier_codes(tiers: pd.Series, name: str = "tiers") -> np.ndarray:
    """Tier labels as integer codes 0 (A) .. 3 (D); ``ValueError`` for anything else (including missing)."""
    if not isinstance(tiers, pd.Series):
        raise ValueError(f"{name} must be a pandas Series, got {type(tiers).__name__}")
    if isinstance(tiers.dtype, pd.CategoricalDtype) and list(tiers.cat.categories) == list(TIERS):
        codes = tiers.cat.codes.to_numpy()
        if (codes < 0).any():
            raise ValueError(f"{name} has missing tiers")
        return codes.astype(np.int8)
    values = tiers.astype("object")
    valid = values.isin(TIERS).to_numpy()
    if not valid.all():
        bad = values[~valid].iloc[0]
        if pd.isna(bad):
            raise ValueError(f"{name} has missing tiers")
        raise ValueError(f"{name} must be 'A', 'B', 'C' or 'D'; found {bad!r}")
    return np.asarray(pd.Categorical(values, categories=list(TIERS)).codes, dtype=np.int8)


def _aligned(series: pd.Series | None, member_ids: pd.Index, name: str, check_unique: bool = True) -> pd.Series | None:
    if series is None:
        return None
    if not isinstance(series, pd.Series):
        raise ValueError(f"{name} must be a pandas Series indexed by member_id, got {type(series).__name__}")
    if check_unique and not series.index.is_unique:
        raise ValueError(f"{name} must have one value per member_id (its index has duplicates)")
    if series.index.equals(member_ids):  # already aligned (tiers of these very features): no hash look-up
        return series
    return series.reindex(member_ids)


# -------------------------------------------------------------------------------------------------- summary


def tier_summary(
    features: pd.DataFrame,
    tiers: pd.Series,
    clv: pd.Series | None = None,
    churned: pd.Series | None = None,
    total: bool = False,
    check_unique: bool = True,
) -> pd.DataFrame:
    """Size, sales, profit, lifetime value and churn of each tier.

    Parameters
    ----------
    features : pandas.DataFrame
        One row per member: ``member_id``, ``sales``, ``profit_contribution``.
    tiers : pandas.Series
        Tier (``"A"``..``"D"``) by ``member_id`` (:func:`assign_tiers`); must cover every member of
        ``features`` (tiers of other members are ignored).
    clv : pandas.Series, optional
        Customer lifetime value by ``member_id``; members without a value (or NaN) are left out of
        ``avg_clv`` / ``total_clv``.
    churned : pandas.Series, optional
        True / False by ``member_id``; members without a value are left out of ``churn_rate``.
    total : bool, default False
        Append a ``"total"`` row over all members (shares 1, averages and rates over everyone).
    check_unique : bool, default True
        Check that ``features`` and the series hold one row per member. Hashing every id costs a few hundred
        milliseconds per million members; a caller whose features come from
        :func:`vipmodel.features.member_features` (unique by construction) may skip it to stay interactive.

    Returns
    -------
    pandas.DataFrame
        Index ``tier`` = A, B, C, D (all four always, then ``"total"`` if asked), columns ``members``,
        ``member_share``, ``sales``, ``sales_share``, ``profit``, ``profit_share``, ``avg_profit``,
        ``avg_clv``, ``total_clv``, ``churn_rate``. An empty tier has 0 members, sales, profit and shares,
        and NaN averages and rates; ``avg_clv``, ``total_clv`` and ``churn_rate`` are NaN without data.
        Shares are of the all-member totals (NaN when the total is 0); ``profit_share`` of A can exceed 1 when
        D's contribution is negative (the "whale curve", Kaplan & Narayanan 2001).

    Raises
    ------
    ValueError
        Missing column, empty frame, duplicated member, ``"tiers has no tier for 3 member(s) of features,
        e.g. 'M7'"``, invalid tier labels, ``"clv must be numeric"``,
        ``"churned must be True/False (or 1/0)"``.
    """
    require_columns(features, ("member_id", "sales", "profit_contribution"), "features")
    _check_member_ids(features, "features", unique=check_unique)
    member_ids = pd.Index(features["member_id"], name="member_id")
    aligned = _aligned(tiers, member_ids, "tiers", check_unique)
    if aligned is None:
        raise ValueError("tiers must be a pandas Series indexed by member_id, got NoneType")
    if aligned.isna().any():
        absent = member_ids[aligned.isna().to_numpy()]
        raise ValueError(f"tiers has no tier for {len(absent)} member(s) of features, e.g. {absent[0]!r}")
    codes = tier_codes(aligned)
    sales = numeric_column(features, "sales")
    profit = numeric_column(features, "profit_contribution")

    n = np.bincount(codes, minlength=4).astype(np.int64)
    sales_t = np.bincount(codes, weights=sales, minlength=4)
    profit_t = np.bincount(codes, weights=profit, minlength=4)
    out = pd.DataFrame({"members": n, "sales": sales_t, "profit": profit_t}, index=pd.Index(list(TIERS), name="tier"))

    clv_sum = clv_n = churn_sum = churn_n = None
    clv_aligned = _aligned(clv, member_ids, "clv", check_unique)
    if clv_aligned is not None:
        try:
            clv_values = clv_aligned.to_numpy(dtype=np.float64, na_value=np.nan)
        except (TypeError, ValueError) as exc:
            raise ValueError("clv must be numeric") from exc
        known = ~np.isnan(clv_values)
        clv_sum = np.bincount(codes[known], weights=clv_values[known], minlength=4)
        clv_n = np.bincount(codes[known], minlength=4)
    churn_aligned = _aligned(churned, member_ids, "churned", check_unique)
    if churn_aligned is not None:
        known_mask = churn_aligned.notna().to_numpy()
        flags = churn_aligned[known_mask]
        if not flags.isin([True, False]).all():
            raise ValueError("churned must be True/False (or 1/0)")
        flags = flags.astype(bool).to_numpy()
        churn_sum = np.bincount(codes[known_mask], weights=flags, minlength=4)
        churn_n = np.bincount(codes[known_mask], minlength=4)

    if total:
        out.loc["total"] = [n.sum(), sales_t.sum(), profit_t.sum()]
        out["members"] = out["members"].astype(np.int64)
        clv_sum, clv_n, churn_sum, churn_n = (
            None if a is None else np.append(a, a.sum()) for a in (clv_sum, clv_n, churn_sum, churn_n)
        )

    with np.errstate(divide="ignore", invalid="ignore"):
        members = out["members"].to_numpy(dtype=np.float64)
        grand_n, grand_sales, grand_profit = n.sum(), sales_t.sum(), profit_t.sum()
        out["member_share"] = members / grand_n
        out["sales_share"] = out["sales"] / grand_sales if grand_sales != 0 else np.nan
        out["profit_share"] = out["profit"] / grand_profit if grand_profit != 0 else np.nan
        out["avg_profit"] = np.where(members > 0, out["profit"].to_numpy() / np.where(members > 0, members, 1), np.nan)
        if clv_sum is None:
            out["avg_clv"] = np.nan
            out["total_clv"] = np.nan
        else:
            has = clv_n > 0
            out["avg_clv"] = np.where(has, clv_sum / np.where(has, clv_n, 1), np.nan)
            out["total_clv"] = np.where(has, clv_sum, np.nan)
        if churn_sum is None:
            out["churn_rate"] = np.nan
        else:
            has = churn_n > 0
            out["churn_rate"] = np.where(has, churn_sum / np.where(has, churn_n, 1), np.nan)
    # An empty tier has a zero share even when a grand total is 0 and the share is otherwise undefined.
    empty = out["members"].to_numpy() == 0
    out.loc[empty, ["member_share", "sales_share", "profit_share"]] = 0.0
    return out[list(SUMMARY_COLUMNS)]


# ------------------------------------------------------------------------------------------ comparing rules


@dataclass(frozen=True, eq=False)
class RuleComparison:
    """What would change if ``proposed`` tier rules replaced ``current`` ones.

    Attributes
    ----------
    current, proposed : TierRules
    moved_up, moved_down, unchanged : int
        Members whose tier would rise (e.g. C -> B), fall, or stay.
    matrix : pandas.DataFrame
        4x4 member counts, index ``current`` tier, columns ``proposed`` tier (A..D both ways).
    per_tier : pandas.DataFrame
        Index ``tier`` A..D; columns ``members_before``, ``members_after``, ``member_change``,
        ``cost_per_member``, ``benefit_cost_before``, ``benefit_cost_after``, ``benefit_cost_change``.
    benefit_cost_before, benefit_cost_after, benefit_cost_change : float
        Totals over the tiers (members x benefit cost per member of their tier).
    """

    current: TierRules
    proposed: TierRules
    moved_up: int
    moved_down: int
    unchanged: int
    matrix: pd.DataFrame
    per_tier: pd.DataFrame
    benefit_cost_before: float
    benefit_cost_after: float
    benefit_cost_change: float

    def sentence(self) -> str:
        """One English sentence, e.g. ``"If these thresholds were applied, 120 members would move up, 45 down;
        benefit cost changes by +12,300.00."`` (the app translates it from the numbers above)."""
        noun = "member" if self.moved_up == 1 else "members"
        return (
            f"If these thresholds were applied, {self.moved_up:,} {noun} would move up, {self.moved_down:,} down; "
            f"benefit cost changes by {self.benefit_cost_change:+,.2f}."
        )


def _cost_per_tier(benefit_cost_per_tier: Mapping[str, float]) -> np.ndarray:
    if not isinstance(benefit_cost_per_tier, Mapping):
        raise ValueError("benefit_cost_per_tier must be a mapping from tier ('A'..'D') to cost per member")
    unknown = [k for k in benefit_cost_per_tier if k not in TIERS]
    if unknown:
        raise ValueError("benefit_cost_per_tier has unknown tier(s): " + ", ".join(repr(k) for k in unknown))
    costs = []
    for tier in TIERS:
        cost = benefit_cost_per_tier.get(tier, 0.0)
        if isinstance(cost, bool) or not isinstance(cost, Real) or not math.isfinite(cost) or cost < 0:
            raise ValueError(f"benefit cost of tier {tier} must be a non-negative number; got {cost!r}")
        costs.append(float(cost))
    return np.array(costs)


def _before_after(
    features: pd.DataFrame, current: TierRules, proposed: TierRules, check_unique: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    for label, rules in (("current", current), ("proposed", proposed)):
        if not isinstance(rules, TierRules):
            raise ValueError(f"{label} must be a TierRules, got {type(rules).__name__}")
    require_columns(features, (*current.required_columns, *proposed.required_columns), "features")
    _check_member_ids(features, "features", unique=check_unique)
    before = assign_tiers(features, current).cat.codes.to_numpy()
    after = assign_tiers(features, proposed).cat.codes.to_numpy()
    return before, after


def compare_rules(
    features: pd.DataFrame,
    current: TierRules,
    proposed: TierRules,
    benefit_cost_per_tier: Mapping[str, float],
    check_unique: bool = True,
) -> RuleComparison:
    """Members moving between tiers and the change in benefit cost if ``proposed`` replaced ``current``.

    Parameters
    ----------
    features : pandas.DataFrame
        One row per member of one period; the columns both rules need (``member_id``,
        ``profit_contribution``, ``sales`` for basis ``"spend"``).
    current, proposed : TierRules
    benefit_cost_per_tier : Mapping[str, float]
        Cost of the tier's benefits per member and period (e.g. from the care plan), keys among A..D;
        a tier left out costs 0.
    check_unique : bool, default True
        Check that each member appears once. Pass False only for a frame whose ids are unique by construction
        (e.g. :func:`vipmodel.features.member_features` with one period): the check hashes every id and costs
        about 0.4 s per million members, too slow for a live threshold slider.

    Returns
    -------
    RuleComparison

    Raises
    ------
    ValueError
        As :func:`assign_tiers`, plus duplicated members, ``"benefit_cost_per_tier has unknown tier(s): 'E'"``,
        ``"benefit cost of tier A must be a non-negative number; got -1"``.
    """
    costs = _cost_per_tier(benefit_cost_per_tier)
    before, after = _before_after(features, current, proposed, check_unique)
    return _comparison(before, after, costs, current, proposed)


def _comparison(
    before: np.ndarray, after: np.ndarray, costs: np.ndarray, current: TierRules, proposed: TierRules
) -> RuleComparison:
    matrix = np.bincount(before.astype(np.intp) * 4 + after, minlength=16).reshape(4, 4)
    labels = list(TIERS)
    matrix_frame = pd.DataFrame(
        matrix, index=pd.Index(labels, name="current"), columns=pd.Index(labels, name="proposed")
    )
    n_before = matrix.sum(axis=1)
    n_after = matrix.sum(axis=0)
    per_tier = pd.DataFrame(
        {
            "members_before": n_before,
            "members_after": n_after,
            "member_change": n_after - n_before,
            "cost_per_member": costs,
            "benefit_cost_before": n_before * costs,
            "benefit_cost_after": n_after * costs,
        },
        index=pd.Index(labels, name="tier"),
    )
    per_tier["benefit_cost_change"] = per_tier["benefit_cost_after"] - per_tier["benefit_cost_before"]
    cost_before = float(per_tier["benefit_cost_before"].sum())
    cost_after = float(per_tier["benefit_cost_after"].sum())
    return RuleComparison(
        current=current,
        proposed=proposed,
        # Rows are current tiers and columns proposed ones, A first: below the diagonal is a better tier.
        moved_up=int(np.tril(matrix, -1).sum()),
        moved_down=int(np.triu(matrix, 1).sum()),
        unchanged=int(np.trace(matrix)),
        matrix=matrix_frame,
        per_tier=per_tier,
        benefit_cost_before=cost_before,
        benefit_cost_after=cost_after,
        benefit_cost_change=cost_after - cost_before,
    )


class RulePreview:
    """Compare many proposed rules with the rules in force, for one fixed set of members (a live slider).

    :func:`compare_rules` validates the frame, tiers it under the current rules and partitions the values on
    every call. A preview does the part that does not depend on the proposal once: the checks, the value
    columns, the tiers in force and the profit ranking (one sort). Each :meth:`compare` is then a few vectorised
    comparisons and a count, with the same result as :func:`compare_rules`.

    Parameters
    ----------
    features : pandas.DataFrame
        As :func:`compare_rules`: ``member_id``, ``profit_contribution``, and ``sales`` for spend-based rules
        (current or proposed); one period. The preview keeps arrays, not the frame.
    current : TierRules
        The rules in force.
    check_unique : bool, default True
        As :func:`compare_rules`.

    Attributes
    ----------
    current : TierRules
    n_members : int

    Raises
    ------
    ValueError
        As :func:`assign_tiers` for the current rules, plus duplicated members.

    Examples
    --------
    >>> preview = RulePreview(features, current)                               # doctest: +SKIP
    >>> preview.compare(TierRules("share", shares=(0.02, 0.05, 0.2)), costs)   # doctest: +SKIP
    """

    def __init__(self, features: pd.DataFrame, current: TierRules, check_unique: bool = True) -> None:
        if not isinstance(current, TierRules):
            raise ValueError(f"current must be a TierRules, got {type(current).__name__}")
        require_columns(features, current.required_columns, "features")
        _check_single_period(features)
        _check_member_ids(features, "features", unique=check_unique)
        self.current = current
        self._profit = numeric_column(features, "profit_contribution")
        self._sales = numeric_column(features, "sales") if "sales" in features.columns else None
        self._tiebreak = _tiebreak(features)
        self._negative = self._profit < 0
        self._profit_ascending = np.sort(self._profit)
        self._current = self._codes(current)
        self.n_members = len(self._profit)

    def _codes(self, rules: TierRules) -> np.ndarray:
        if rules.basis == "share":
            codes = _share_codes(self._profit, rules.shares, self._profit_ascending, tiebreak=self._tiebreak)
        else:
            values = self._profit if rules.value_column == "profit_contribution" else self._sales
            if values is None:
                raise ValueError("features is missing columns: sales")
            codes = _threshold_codes(values, rules.thresholds)
        codes[self._negative] = 3
        return codes

    def compare(self, proposed: TierRules, benefit_cost_per_tier: Mapping[str, float]) -> RuleComparison:
        """What would change if ``proposed`` replaced the current rules: as :func:`compare_rules`.

        Raises
        ------
        ValueError
            ``proposed`` not a TierRules, ``"features is missing columns: sales"`` for spend rules on
            a frame without sales, and the benefit cost errors of :func:`compare_rules`.
        """
        if not isinstance(proposed, TierRules):
            raise ValueError(f"proposed must be a TierRules, got {type(proposed).__name__}")
        costs = _cost_per_tier(benefit_cost_per_tier)
        return _comparison(self._current, self._codes(proposed), costs, self.current, proposed)


def members_moving(
    features: pd.DataFrame, current: TierRules, proposed: TierRules, direction: Direction, check_unique: bool = True
) -> pd.DataFrame:
    """The members who would move ``direction`` (``"up"``, ``"down"`` or ``"unchanged"``) under ``proposed``.

    Parameters
    ----------
    features : pandas.DataFrame
        As :func:`compare_rules`.
    current, proposed : TierRules
    direction : {"up", "down", "unchanged"}
    check_unique : bool, default True
        As :func:`compare_rules`.

    Returns
    -------
    pandas.DataFrame
        Columns ``member_id``, ``current_tier``, ``proposed_tier``, ``profit_contribution`` and ``sales``
        (when ``features`` has it), sorted by profit contribution (highest first), then ``member_id``.

    Raises
    ------
    ValueError
        As :func:`compare_rules`, plus ``"direction must be 'up', 'down' or 'unchanged'; got 'sideways'"``.
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be 'up', 'down' or 'unchanged'; got {direction!r}")
    before, after = _before_after(features, current, proposed, check_unique)
    mask = {"up": after < before, "down": after > before, "unchanged": after == before}[direction]
    labels = list(TIERS)
    out = pd.DataFrame(
        {
            "member_id": features["member_id"].to_numpy()[mask],
            "current_tier": pd.Categorical.from_codes(before[mask], categories=labels),
            "proposed_tier": pd.Categorical.from_codes(after[mask], categories=labels),
            "profit_contribution": numeric_column(features, "profit_contribution")[mask],
        }
    )
    if "sales" in features.columns:
        out["sales"] = numeric_column(features, "sales")[mask]
    return out.sort_values(["profit_contribution", "member_id"], ascending=[False, True], ignore_index=True)
