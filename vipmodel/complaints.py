"""Complaint-to-churn evidence: churn rates by complaint group, effect sizes, a controlled regression, the iceberg.

The mall's documents say that well-handled complaints prevent VIP loss and that every complaint stands for many
silent unhappy customers. This module turns the member-year panel of :func:`vipmodel.outcomes.churn_panel` into
the evidence for (or against) those claims:

* :func:`churn_by_group` -- churn rate with a Wilson 95% interval by complaint status, category, severity or
  resolution time; :func:`group_difference_test` -- does churn differ between those groups at all (r x c).
* :func:`compare_groups` / :func:`standard_effects` -- 2 x 2 tables, relative risk (Katz log interval), odds
  ratio (Woolf interval), Pearson chi-square or Fisher's exact test, and a plain-words statement.
* :func:`churn_regression` -- logistic regression of churn on complaint counts by category x status,
  controlling for tier, spend and (where a survey exists) satisfaction, with member-clustered standard errors;
  :func:`adjusted_churn_effects` -- the per-complaint associations with and without the satisfaction control,
  side by side (the adjusted ones are the headline). On the demo mall they recover the generator's truth.
* :func:`correlation_matrix` -- Spearman correlations of complaint features with churn and value.
* :func:`iceberg` -- the silent dissatisfied members that the received complaints stand for, under an explicit,
  editable assumption.

Units and conventions
---------------------
* A panel row is a **member-year** (a member active in a one-year window, see :mod:`vipmodel.outcomes`); the
  column ``members`` of the tables counts those rows, so a member active in two windows counts twice. The
  regression clusters its standard errors by member; the descriptive intervals and tests (Wilson, 2 x 2) treat
  rows as independent, which slightly overstates their precision for members present twice.
* Everything here is an **association**: churn rates and effects are those of member-years alike in what the
  analysis names (nothing for the group tables; tier, spend and satisfaction for the adjusted regression).
  Whatever else differs between complainers and the others (the reason they complained...) is still mixed in.
* Handling status: the plain count columns hold the status as known at the end of the behaviour year; the
  panel's ``*_final`` columns the status as recorded by the end of the outcome year. The churn analyses should
  use the latter (:func:`with_status`; :func:`churn_regression` does by default): a complaint filed in December
  and resolved in January was resolved slowly, it was not left open (see :mod:`vipmodel.outcomes`).
* Group codes (``"none"``, ``"unresolved"``, ``"service_unresolved"``...) are language-neutral; the app
  translates them. :meth:`Effect.statement_en` is the English sentence for the CLI and tests.
* Nothing here reads the database: every function takes the panel DataFrame. Build it with
  ``churn_panel(conn, as_of, years)``, whose aggregation runs in SQL.

Input columns (panel)
---------------------
``churned``
    bool, no missing values: no purchase in the year after the window (the one churn definition).
``product_resolved_quick`` ... ``service_unresolved``
    int >= 0: complaints filed in the window by category x handling status (:data:`COUNT_COLUMNS`).
``max_severity``
    int 0..3 (0 = no complaint), for ``by="severity"``.
``mean_resolution_days``
    float, mean days to resolution of the resolved complaints (NaN when none), for ``by="resolution_time"``.
``tier``, ``sales``, ``care_cost``, ``profit_contribution``
    For the regression's controls and the correlation matrix.
``sat_product_quality``, ``sat_sales_service``, ``sat_corporate_image``
    float 1..7 or NaN (no survey in the year): the regression's satisfaction control.
``product_resolved_quick_final`` ... ``service_unresolved_final``, ``mean_resolution_days_final``
    The counts and mean days by the handling status recorded by the end of the outcome year.
``member_id``
    The regression's clusters.

References
----------
.. [1] Agresti, A. (2007). *An Introduction to Categorical Data Analysis*, 2nd ed. Wiley. Sections 2.2-2.4
   (relative risk, odds ratio and their intervals; chi-square and Fisher's exact test), chapter 5 (logistic
   regression).
.. [2] Wilson, E. B. (1927). Probable inference, the law of succession, and statistical inference. *Journal of
   the American Statistical Association* 22(158), 209-212.
.. [3] Newcombe, R. G. (1998). Two-sided confidence intervals for the single proportion: comparison of seven
   methods. *Statistics in Medicine* 17(8), 857-872.
.. [4] Katz, D., Baptista, J., Azen, S. P. & Pike, M. C. (1978). Obtaining confidence intervals for the risk
   ratio in cohort studies. *Biometrics* 34(3), 469-474.
.. [5] Woolf, B. (1955). On estimating the relation between blood group and disease. *Annals of Human
   Genetics* 19(4), 251-253.
.. [6] Cochran, W. G. (1954). Some methods for strengthening the common chi-square tests. *Biometrics* 10(4),
   417-451 (the "expected count below 5" rule).
.. [7] TARP / White House Office of Consumer Affairs figures as quoted in the mall's documents (DOMAIN.md):
   each complaint stands for ~20 (store article: 25) customers who feel the same; 39% of unhappy customers
   don't bother to complain.
.. [8] Cameron, A. C. & Miller, D. L. (2015). A practitioner's guide to cluster-robust inference. *Journal of
   Human Resources* 50(2), 317-372.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from vipmodel import schema
from vipmodel.contracts import require_columns
from vipmodel.logistic import fit_logistic
from vipmodel.outcomes import COMPLAINT_STATUSES, FINAL_COUNT_COLUMNS, FINAL_SUFFIX, SLOW_AFTER_DAYS
from vipmodel.stats import wilson_interval

COUNT_COLUMNS: tuple[str, ...] = tuple(
    f"{cat}_{status}" for cat in schema.COMPLAINT_CATEGORIES for status in COMPLAINT_STATUSES
)
GROUPINGS: tuple[str, ...] = ("status", "handling", "category", "severity", "resolution_time")
GROUP_ORDER: dict[str, tuple[str, ...]] = {
    "status": ("none", "resolved", "unresolved"),
    "handling": ("none", "resolved_quick", "resolved_slow", "unresolved"),
    "category": ("none", "product", "service", "both"),
    "severity": ("none", "minor", "moderate", "serious"),
}
SEVERITY_CODES: dict[int, str] = {1: "minor", 2: "moderate", 3: "serious"}
RESOLUTION_EDGES: tuple[float, ...] = (1.0, 7.0, 30.0)
CONTROLS: tuple[str, ...] = ("tier", "log_sales", "log_care", "satisfaction")
BASE_CONTROLS: tuple[str, ...] = ("tier", "log_sales")
SATISFACTION_COLUMNS: tuple[str, ...] = tuple(f"sat_{d}" for d in schema.DIMENSIONS)
STATUS_VIEWS: tuple[str, ...] = ("final", "window_end")
CARE_SCALE = 100.0  # yuan: log1p(care_cost / 100), the scale of one phone call + card, keeps small spends visible
CONFIDENCE = 0.95
MIN_EXPECTED = 5.0
MAX_ABS_COEF = 15.0  # log-odds: an odds ratio of 3e6 per unit only comes out of a separated fit

# Iceberg assumptions quoted in the mall's documents (DOMAIN.md).
ICEBERG_MULTIPLIERS: dict[str, float] = {"mall_plan": 20.0, "store_article": 25.0}
DEFAULT_MULTIPLIER = ICEBERG_MULTIPLIERS["mall_plan"]
SILENT_SHARE_QUOTED = 0.39

_STATUS_EN: dict[str, str] = {
    "resolved_quick": f"{{cat}} complaint resolved within {SLOW_AFTER_DAYS} days",
    "resolved_slow": f"{{cat}} complaint resolved after more than {SLOW_AFTER_DAYS} days",
    "unresolved": "unresolved {cat} complaint",
}
_CONTROL_EN: dict[str, str] = {
    "tier": "tier", "log_sales": "spend", "log_care": "care spend", "satisfaction": "satisfaction",
}
_GROUP_EN: dict[str, str] = {
    "none": "no complaint",
    "any": "a complaint",
    "resolved": "only resolved complaints",
    "unresolved": "an unresolved complaint",
    "product": "only product complaints",
    "service": "only service complaints",
    "both": "both product and service complaints",
    **{
        f"{cat}_{status}": ("an " if status == "unresolved" else "a ") + text.format(cat=cat)
        for cat in schema.COMPLAINT_CATEGORIES
        for status, text in _STATUS_EN.items()
    },
}


# --------------------------------------------------------------------------------------------- validation
def _require(panel: pd.DataFrame, columns: Sequence[str]) -> None:
    require_columns(panel, columns, "panel")


def _churned(panel: pd.DataFrame) -> np.ndarray:
    col = panel["churned"]
    if col.isna().any():
        raise ValueError("churned must be True/False without missing values")
    values = col.to_numpy()
    if values.dtype != bool:
        if not np.isin(pd.unique(values), [0, 1, True, False]).all():
            raise ValueError("churned must be True/False without missing values")
        values = values.astype(bool)
    return values


def _counts(panel: pd.DataFrame, columns: Sequence[str] = COUNT_COLUMNS) -> pd.DataFrame:
    """The complaint counts of ``columns`` (in :data:`COUNT_COLUMNS` order), validated, named by
    :data:`COUNT_COLUMNS`."""
    counts = panel[list(columns)].set_axis(list(COUNT_COLUMNS), axis=1)
    if counts.isna().any().any():
        raise ValueError("complaint counts must not be missing (0 where a member had no complaint)")
    counts = counts.astype(float)
    if (counts < 0).any().any() or (counts != np.round(counts)).any().any():
        raise ValueError("complaint counts must be non-negative integers")
    return counts.astype(np.int64)


def _has_status(counts: pd.DataFrame) -> dict[str, np.ndarray]:
    """Per row, whether it has at least one complaint of each handling status (any category)."""
    return {
        st: (counts[[f"{c}_{st}" for c in schema.COMPLAINT_CATEGORIES]].sum(axis=1) > 0).to_numpy()
        for st in COMPLAINT_STATUSES
    }


# --------------------------------------------------------------------------------------------- proportions
def _resolution_labels(edges: Sequence[float]) -> tuple[str, ...]:
    return (*(f"le_{e:g}d" for e in edges), f"gt_{edges[-1]:g}d")


def _group_codes(panel: pd.DataFrame, by: str, edges: Sequence[float]) -> tuple[pd.Series, tuple[str, ...]]:
    counts = _counts(panel)
    has = _has_status(counts)
    any_complaint = (counts.sum(axis=1) > 0).to_numpy()
    if by == "status":
        codes = np.where(~any_complaint, "none", np.where(has["unresolved"], "unresolved", "resolved"))
    elif by == "handling":
        # The worst handling a member experienced in the window decides the group.
        codes = np.select(
            [~any_complaint, has["unresolved"], has["resolved_slow"]],
            ["none", "unresolved", "resolved_slow"],
            "resolved_quick",
        )
    elif by == "category":
        prod = (counts[[f"product_{s}" for s in COMPLAINT_STATUSES]].sum(axis=1) > 0).to_numpy()
        serv = (counts[[f"service_{s}" for s in COMPLAINT_STATUSES]].sum(axis=1) > 0).to_numpy()
        codes = np.select([prod & serv, prod, serv], ["both", "product", "service"], "none")
    elif by == "severity":
        sev = panel["max_severity"]
        if sev.isna().any():
            raise ValueError("max_severity must not be missing (0 where a member had no complaint)")
        sev = sev.astype(int).to_numpy()
        bad = sorted(set(np.unique(sev[any_complaint])) - set(SEVERITY_CODES))
        if bad or (sev[~any_complaint] != 0).any():
            raise ValueError("max_severity must be 1, 2 or 3 for complainers and 0 otherwise")
        codes = np.array([SEVERITY_CODES.get(int(s), "none") for s in sev], dtype=object)
        codes[~any_complaint] = "none"
    else:  # resolution_time
        days = panel["mean_resolution_days"].astype(float).to_numpy()
        labels = _resolution_labels(edges)
        bucket = np.searchsorted(np.asarray(edges, dtype=float), days, side="left")
        codes = np.array(labels, dtype=object)[np.minimum(bucket, len(labels) - 1)]
        # A member with an open complaint is "unresolved" whatever the others took: the open one is what they
        # remember at the end of the window.
        codes = np.where(has["unresolved"] | np.isnan(days), "unresolved", codes)
        codes = np.where(~any_complaint, "none", codes)
        return pd.Series(codes, index=panel.index), ("none", *labels, "unresolved")
    return pd.Series(np.asarray(codes, dtype=object), index=panel.index), GROUP_ORDER[by]


def churn_by_group(
    panel: pd.DataFrame,
    by: str = "status",
    resolution_edges: Sequence[float] = RESOLUTION_EDGES,
    confidence: float = CONFIDENCE,
) -> pd.DataFrame:
    """Churn rate of member-years by complaint group, with member counts and Wilson intervals.

    Parameters
    ----------
    panel : DataFrame
        :func:`vipmodel.outcomes.churn_panel` output; needs ``churned`` and :data:`COUNT_COLUMNS`, plus
        ``max_severity`` for ``by="severity"`` and ``mean_resolution_days`` for ``by="resolution_time"``.
    by : {"status", "handling", "category", "severity", "resolution_time"}
        * ``status``: none / resolved / unresolved (any unresolved complaint makes the row unresolved);
        * ``handling``: none / resolved_quick / resolved_slow / unresolved (the worst handling in the window;
          slow = resolved after :data:`vipmodel.outcomes.SLOW_AFTER_DAYS` days);
        * ``category``: none / product / service / both;
        * ``severity``: none / minor / moderate / serious (the most severe complaint);
        * ``resolution_time``: none, then buckets of the mean days to resolution ``le_1d`` (<= 1 day),
          ``le_7d`` (1-7], ``le_30d`` (7-30], ``gt_30d`` (> 30), then ``unresolved`` (any open complaint).
    resolution_edges : sequence of float
        Upper bucket edges in days for ``by="resolution_time"`` (strictly increasing, >= 0).
    confidence : float
        Level of the Wilson score intervals [2]_.

    Returns
    -------
    DataFrame
        Columns ``group`` (code, in the order above), ``members`` (member-years), ``churned``, ``churn_rate``,
        ``ci_low``, ``ci_high``. Groups without any member are left out (never NaN rows) and listed in
        ``frame.attrs["empty_groups"]`` so the app can say so.

    Raises
    ------
    ValueError
        ``"by must be one of: ..."``, ``"panel is missing columns: ..."``, ``"panel is empty (no rows)"``,
        ``"churned must be True/False without missing values"``, ``"resolution_edges must be strictly
        increasing and non-negative"``, and the count/severity messages of the validation.
    """
    if by not in GROUPINGS:
        raise ValueError(f"by must be one of: {', '.join(GROUPINGS)}")
    extra = {"severity": ["max_severity"], "resolution_time": ["mean_resolution_days"]}.get(by, [])
    _require(panel, ["churned", *COUNT_COLUMNS, *extra])
    edges = [float(e) for e in resolution_edges]
    if not edges or edges[0] < 0 or any(b <= a for a, b in zip(edges, edges[1:])):
        raise ValueError("resolution_edges must be strictly increasing and non-negative")
    churned = _churned(panel)
    codes, order = _group_codes(panel, by, edges)
    rows, empty = [], []
    for group in order:
        mask = (codes == group).to_numpy()
        n = int(mask.sum())
        if n == 0:
            empty.append(group)
            continue
        k = int(churned[mask].sum())
        low, high = wilson_interval(k, n, confidence)
        rows.append({"group": group, "members": n, "churned": k, "churn_rate": k / n, "ci_low": low, "ci_high": high})
    out = pd.DataFrame(rows, columns=["group", "members", "churned", "churn_rate", "ci_low", "ci_high"])
    out.attrs["empty_groups"] = empty
    out.attrs["by"] = by
    return out


@dataclass(frozen=True)
class GroupTest:
    """Test of independence between complaint group and churn over all non-empty groups (r x 2 table).

    Attributes
    ----------
    by : str
        The grouping (see :func:`churn_by_group`).
    test : str
        ``"pearson_chi2"`` or ``"fisher_exact"`` (Fisher only for a 2 x 2 table with an expected count < 5).
    statistic : float
        Chi-square statistic (the odds ratio for Fisher's test).
    dof : int
        Degrees of freedom ``(groups - 1)``.
    p_value : float
        Two-sided p-value.
    n : int
        Member-years in the table.
    min_expected : float
        Smallest expected count; below 5 the chi-square approximation of an r x c table is doubtful [6]_.
    """

    by: str
    test: str
    statistic: float
    dof: int
    p_value: float
    n: int
    min_expected: float


def group_difference_test(panel: pd.DataFrame, by: str = "status") -> GroupTest:
    """Does the churn rate differ between the groups of :func:`churn_by_group`? (Pearson chi-square, r x 2.)

    Parameters
    ----------
    panel : DataFrame
        As for :func:`churn_by_group`.
    by : str
        One of :data:`GROUPINGS`.

    Returns
    -------
    GroupTest

    Raises
    ------
    ValueError
        The messages of :func:`churn_by_group`, and ``"need at least two non-empty groups to compare"``.
    """
    table = churn_by_group(panel, by)
    if len(table) < 2:
        raise ValueError("need at least two non-empty groups to compare")
    observed = np.column_stack([table["churned"], table["members"] - table["churned"]]).astype(float)
    n = int(observed.sum())
    expected = observed.sum(axis=1, keepdims=True) * observed.sum(axis=0, keepdims=True) / n
    if (observed.sum(axis=0) == 0).any():
        # Nobody (or everybody) churned: churn cannot depend on the group.
        return GroupTest(by, "pearson_chi2", 0.0, len(table) - 1, 1.0, n, float(expected.min()))
    if observed.shape[0] == 2 and expected.min() < MIN_EXPECTED:
        odds, p = stats.fisher_exact(observed)
        return GroupTest(by, "fisher_exact", float(odds), 1, float(p), n, float(expected.min()))
    chi2, p, dof, _ = stats.chi2_contingency(observed, correction=False)
    return GroupTest(by, "pearson_chi2", float(chi2), int(dof), float(p), n, float(expected.min()))


# --------------------------------------------------------------------------------------------- 2 x 2 effects
def _fmt(x: float) -> str:
    if not math.isfinite(x):
        return "∞" if x > 0 else "−∞"
    return f"{x:.1f}" if abs(x) >= 1 else f"{x:.2f}"


@dataclass(frozen=True)
class Effect:
    """Churn among exposed vs reference member-years: 2 x 2 table, relative risk, odds ratio and a test.

    Attributes
    ----------
    exposed_label, reference_label : str
        Group codes (e.g. ``"service_unresolved"`` vs ``"none"``), translated by the app.
    table : tuple of tuple of int
        ``((a, b), (c, d))``: exposed churned / stayed, reference churned / stayed.
    exposed_rate, reference_rate : float
        Churn rates ``a / (a + b)`` and ``c / (c + d)``.
    relative_risk, rr_low, rr_high : float
        ``exposed_rate / reference_rate`` and its Katz log interval [4]_.
    odds_ratio, or_low, or_high : float
        ``(a d) / (b c)`` and its Woolf log interval [5]_.
    test : str
        ``"pearson_chi2"`` (no continuity correction, as [1]_ recommends) or ``"fisher_exact"`` (used when an
        expected count is below 5 [6]_).
    statistic, p_value : float
        The test's statistic (chi-square; for Fisher, the sample odds ratio as scipy reports it) and
        two-sided p-value.
    zero_corrected : bool
        A cell was zero, so 0.5 was added to every cell for RR, OR and their intervals (Haldane-Anscombe).
    confidence : float
        Level of the intervals.
    template_key : str
        Key of the translated sentence in the app (``"complaints.effect.relative_risk"``); its arguments are
        :meth:`template_args`.
    """

    exposed_label: str
    reference_label: str
    table: tuple[tuple[int, int], tuple[int, int]]
    exposed_rate: float
    reference_rate: float
    relative_risk: float
    rr_low: float
    rr_high: float
    odds_ratio: float
    or_low: float
    or_high: float
    test: str
    statistic: float
    p_value: float
    zero_corrected: bool
    confidence: float = CONFIDENCE
    template_key: str = field(default="complaints.effect.relative_risk")

    @property
    def exposed_members(self) -> int:
        """Member-years in the exposed group."""
        return sum(self.table[0])

    @property
    def reference_members(self) -> int:
        """Member-years in the reference group."""
        return sum(self.table[1])

    @property
    def significant(self) -> bool:
        """The relative risk's interval excludes 1."""
        return self.rr_low > 1.0 or self.rr_high < 1.0

    def template_args(self) -> dict[str, Any]:
        """Arguments of :attr:`template_key`: group codes, RR and interval (rounded as in the sentence)."""
        return {
            "group": self.exposed_label,
            "reference": self.reference_label,
            "rr": _fmt(self.relative_risk),
            "low": _fmt(self.rr_low),
            "high": _fmt(self.rr_high),
            "level": f"{self.confidence:.0%}",
            "significant": self.significant,
        }

    def statement_en(self) -> str:
        """Plain-words English sentence, e.g. ``"members with an unresolved service complaint churned 2.3× as
        often (95% CI 1.9–2.8)"``; ``" — not statistically significant"`` is appended when the interval
        contains 1."""
        who = _GROUP_EN.get(self.exposed_label, f"'{self.exposed_label}'")
        a = self.template_args()
        text = f"members with {who} churned {a['rr']}× as often ({a['level']} CI {a['low']}–{a['high']})"
        if self.reference_label != "none":
            other = _GROUP_EN.get(self.reference_label, f"'{self.reference_label}'")
            text += f" as members with {other}"
        return text if self.significant else text + " — not statistically significant"


def two_by_two(
    a: int, b: int, c: int, d: int, exposed_label: str = "exposed", reference_label: str = "reference",
    confidence: float = CONFIDENCE,
) -> Effect:
    """Effect sizes and test of a 2 x 2 table ``[[a, b], [c, d]]`` (rows exposed / reference, columns churned /
    stayed), following [1]_ section 2.2-2.4.

    RR interval: ``exp(log RR ± z sqrt(1/a - 1/(a+b) + 1/c - 1/(c+d)))`` [4]_; OR interval:
    ``exp(log OR ± z sqrt(1/a + 1/b + 1/c + 1/d))`` [5]_. A zero cell adds 0.5 to all cells for those.

    Raises
    ------
    ValueError
        ``"2x2 counts must be non-negative integers"``, ``"exposed group has no members"``,
        ``"reference group has no members"``, ``"confidence must be between 0 and 1"``.
    """
    cells = (a, b, c, d)
    if any(isinstance(x, bool) or not isinstance(x, (int, np.integer)) or x < 0 for x in cells):
        raise ValueError("2x2 counts must be non-negative integers")
    a, b, c, d = (int(x) for x in cells)
    if a + b == 0:
        raise ValueError("exposed group has no members")
    if c + d == 0:
        raise ValueError("reference group has no members")
    if not 0.0 < confidence < 1.0:
        raise ValueError("confidence must be between 0 and 1")
    z = float(stats.norm.ppf(0.5 + confidence / 2.0))
    corrected = min(cells) == 0
    fa, fb, fc, fd = (x + 0.5 for x in cells) if corrected else (float(x) for x in cells)
    rr = (fa / (fa + fb)) / (fc / (fc + fd))
    se_rr = math.sqrt(1 / fa - 1 / (fa + fb) + 1 / fc - 1 / (fc + fd))
    odds = (fa * fd) / (fb * fc)
    se_or = math.sqrt(1 / fa + 1 / fb + 1 / fc + 1 / fd)
    observed = np.array([[a, b], [c, d]], dtype=float)
    n = observed.sum()
    expected = observed.sum(axis=1, keepdims=True) * observed.sum(axis=0, keepdims=True) / n
    if expected.min() < MIN_EXPECTED:
        statistic, p = stats.fisher_exact(observed.astype(int))
        test = "fisher_exact"
    else:
        statistic, p, _, _ = stats.chi2_contingency(observed, correction=False)
        test = "pearson_chi2"
    return Effect(
        exposed_label=exposed_label,
        reference_label=reference_label,
        table=((a, b), (c, d)),
        exposed_rate=a / (a + b),
        reference_rate=c / (c + d),
        relative_risk=rr,
        rr_low=math.exp(math.log(rr) - z * se_rr),
        rr_high=math.exp(math.log(rr) + z * se_rr),
        odds_ratio=odds,
        or_low=math.exp(math.log(odds) - z * se_or),
        or_high=math.exp(math.log(odds) + z * se_or),
        test=test,
        statistic=float(statistic),
        p_value=float(p),
        zero_corrected=corrected,
        confidence=confidence,
    )


def compare_groups(
    panel: pd.DataFrame,
    exposed_mask: pd.Series | np.ndarray,
    reference_mask: pd.Series | np.ndarray,
    exposed_label: str = "exposed",
    reference_label: str = "reference",
    confidence: float = CONFIDENCE,
) -> Effect:
    """Churn of the exposed rows against the reference rows of a panel (see :func:`two_by_two`).

    Parameters
    ----------
    panel : DataFrame
        Needs ``churned``.
    exposed_mask, reference_mask : boolean Series (aligned on ``panel.index``) or array of ``len(panel)``
        Which rows are exposed / reference; they must not overlap.
    exposed_label, reference_label : str
        Codes used by :meth:`Effect.statement_en` and the app (e.g. ``"service_unresolved"``, ``"none"``).

    Returns
    -------
    Effect

    Raises
    ------
    ValueError
        ``"panel is missing columns: churned"``, ``"panel is empty (no rows)"``, ``"masks must be boolean with
        one value per panel row"``, ``"exposed and reference groups overlap"``, and the messages of
        :func:`two_by_two`.
    """
    _require(panel, ["churned"])
    churned = _churned(panel)
    masks = []
    for mask in (exposed_mask, reference_mask):
        if isinstance(mask, pd.Series):
            if not mask.index.equals(panel.index):
                raise ValueError("masks must be boolean with one value per panel row")
            mask = mask.to_numpy()
        mask = np.asarray(mask)
        if mask.shape != (len(panel),) or mask.dtype != bool:
            raise ValueError("masks must be boolean with one value per panel row")
        masks.append(mask)
    exposed, reference = masks
    if (exposed & reference).any():
        raise ValueError("exposed and reference groups overlap")
    a = int((exposed & churned).sum())
    c = int((reference & churned).sum())
    return two_by_two(a, int(exposed.sum()) - a, c, int(reference.sum()) - c, exposed_label, reference_label,
                      confidence)


def standard_effects(panel: pd.DataFrame, confidence: float = CONFIDENCE) -> list[Effect]:
    """Each category x status (at least one such complaint in the window) against member-years without complaint.

    Parameters
    ----------
    panel : DataFrame
        Needs ``churned`` and :data:`COUNT_COLUMNS`.
    confidence : float
        Level of the intervals.

    Returns
    -------
    list of Effect
        Exposed = member-years with at least one complaint of that category and status (they may have others
        too), labelled by the count column (e.g. ``"service_unresolved"``); reference = no complaint at all
        (``"none"``). Kinds nobody had are left out (the app says so); the order is :data:`COUNT_COLUMNS`.

    Raises
    ------
    ValueError
        ``"panel is missing columns: ..."``, ``"panel is empty (no rows)"``,
        ``"panel has no member with a complaint"``, ``"panel has no member without a complaint"``.
    """
    _require(panel, ["churned", *COUNT_COLUMNS])
    counts = _counts(panel)
    total = counts.sum(axis=1).to_numpy()
    if (total == 0).all():
        raise ValueError("panel has no member with a complaint")
    if (total > 0).all():
        raise ValueError("panel has no member without a complaint")
    reference = total == 0
    return [
        compare_groups(panel, (counts[col] > 0).to_numpy(), reference, col, "none", confidence)
        for col in COUNT_COLUMNS
        if (counts[col] > 0).any()
    ]


# --------------------------------------------------------------------------------------------- regression
@dataclass(frozen=True)
class RegressionResult:
    """Logistic regression of churn on complaint counts with controls (see :func:`churn_regression`).

    Attributes
    ----------
    table : DataFrame
        Index ``term`` (``const``, the complaint count columns, ``tier_<X>`` dummies, ``log_sales``,
        ``log_care``, ``sat_<dimension>``); columns ``coef`` (log-odds per unit), ``std_err``, ``z``,
        ``p_value``, ``odds_ratio``, ``or_low``, ``or_high`` (Wald interval at ``confidence``, from the
        member-clustered standard errors unless ``cluster`` is None).
    n, n_churned : int
        Member-years used and how many churned.
    pseudo_r2 : float
        McFadden's pseudo-R² ``1 - llf / llnull``.
    log_likelihood : float
    converged : bool
    controls : tuple of str
    reference_tier : str or None
        The tier absorbed in the constant (the most common one), None without the tier control.
    dropped_terms : tuple of str
        Complaint columns left out because nobody had such a complaint (no information about them).
    confidence : float
    status : str
        Which handling status the complaint terms count: ``"final"`` (as recorded by the end of the outcome
        year) or ``"window_end"`` (as known at the end of the behaviour year); see :mod:`vipmodel.outcomes`.
    cluster : str or None
        Column whose values group the member-years for the standard errors (``"member_id"``), None for the
        textbook (independent-rows) errors.
    n_clusters : int
        Distinct values of ``cluster`` among the rows used (members); ``n`` without clustering.
    n_excluded : int
        Member-years of the panel left out because they lacked a complete satisfaction survey (``satisfaction``
        control only; 0 otherwise).
    """

    table: pd.DataFrame
    n: int
    n_churned: int
    pseudo_r2: float
    log_likelihood: float
    converged: bool
    controls: tuple[str, ...]
    reference_tier: schema.Tier | None
    dropped_terms: tuple[str, ...]
    confidence: float = CONFIDENCE
    status: str = "final"
    cluster: str | None = "member_id"
    n_clusters: int = 0
    n_excluded: int = 0

    def complaint_effects(self) -> pd.DataFrame:
        """The rows of :attr:`table` for the complaint count columns, with ``category`` and ``status`` columns."""
        rows = self.table.loc[[t for t in COUNT_COLUMNS if t in self.table.index]].copy()
        rows.insert(0, "status", [t.split("_", 1)[1] for t in rows.index])
        rows.insert(0, "category", [t.split("_", 1)[0] for t in rows.index])
        return rows

    def statement_en(self, term: str) -> str:
        """Plain-words English sentence for one complaint term, worded as an association and naming what it is
        adjusted for, e.g. ``"each additional unresolved service complaint is associated with 3.1× the odds of
        churn (95% CI 2.4–4.0), adjusted for tier, spend and satisfaction"``."""
        if term not in COUNT_COLUMNS or term not in self.table.index:
            raise ValueError(f"no complaint term {term!r} in this regression")
        row = self.table.loc[term]
        category, status = term.split("_", 1)
        kind = _STATUS_EN[status].format(cat=category)
        names = [_CONTROL_EN[c] for c in self.controls]
        adjusted = " and ".join([", ".join(names[:-1]), names[-1]]) if len(names) > 1 else "".join(names) or "nothing"
        text = (f"each additional {kind} is associated with {_fmt(row['odds_ratio'])}× the odds of churn "
                f"({self.confidence:.0%} CI {_fmt(row['or_low'])}–{_fmt(row['or_high'])}), adjusted for {adjusted}")
        return text


def with_status(panel: pd.DataFrame, status: str = "final") -> pd.DataFrame:
    """The panel with :data:`COUNT_COLUMNS` (and ``mean_resolution_days``) counting complaints by ``status``.

    :func:`vipmodel.outcomes.churn_panel` keeps two views of the handling status: as known at the end of the
    behaviour year (the plain columns) and as recorded by the end of the outcome year (``*_final``). The churn
    analyses of this module should all use the same one; ``"final"`` is right for them (a complaint resolved two
    weeks after the year ended was resolved, slowly, not left open; see :mod:`vipmodel.outcomes`).

    Parameters
    ----------
    panel : DataFrame
        Needs :data:`COUNT_COLUMNS`; for ``"final"`` also :data:`vipmodel.outcomes.FINAL_COUNT_COLUMNS` and
        ``mean_resolution_days_final``.
    status : {"final", "window_end"}
        ``"window_end"`` returns the panel as it is.

    Returns
    -------
    DataFrame
        A copy for ``"final"``; the ``*_final`` columns stay as they are.

    Raises
    ------
    ValueError
        ``"status must be one of: final, window_end"``, ``"panel is missing columns: ..."``.
    """
    if status not in STATUS_VIEWS:
        raise ValueError(f"status must be one of: {', '.join(STATUS_VIEWS)}")
    if status == "window_end":
        return panel
    resolution = f"mean_resolution_days{FINAL_SUFFIX}"
    _require(panel, [*FINAL_COUNT_COLUMNS, resolution])
    out = panel.copy()
    out[list(COUNT_COLUMNS)] = panel[list(FINAL_COUNT_COLUMNS)].to_numpy()
    out["mean_resolution_days"] = panel[resolution].to_numpy()
    return out


def churn_regression(
    panel: pd.DataFrame,
    controls: Sequence[str] = BASE_CONTROLS,
    confidence: float = CONFIDENCE,
    *,
    status: str = "final",
    cluster: str | None = "member_id",
) -> RegressionResult:
    """Logistic regression of ``churned`` on complaint counts by category x status, with controls ([1]_ ch. 5).

    ``logit P(churn) = const + sum_k beta_k * count_k + controls``, fitted by maximum likelihood (Newton,
    :func:`vipmodel.logistic.fit_logistic`; the same numbers as statsmodels ``Logit``). ``beta_k`` is the
    change in log-odds per additional complaint of kind ``k`` among
    member-years alike in the controls: an **association adjusted for those controls**, not a proven effect.
    Members who complain are less satisfied to begin with and would churn more anyway, so without the
    ``satisfaction`` control the coefficients also carry that dissatisfaction (on the demo mall they overstate
    the generator's ``b_complaint`` by about 0.1 log-odds); with it, only the member-years with a complete survey
    in the behaviour year are used (complete cases: assumes those who answer are not different in how complaints
    relate to churn). :func:`adjusted_churn_effects` fits both and keeps them side by side.

    A member active in both behaviour years is two rows; their errors are not independent, so standard errors
    are clustered by member ([8]_, the sandwich estimator with statsmodels' small-sample correction).

    Parameters
    ----------
    panel : DataFrame
        Needs ``churned``, the complaint counts of ``status``, ``cluster``, and ``tier`` / ``sales`` /
        ``care_cost`` / ``sat_<dimension>`` for the controls.
    controls : sequence of {"tier", "log_sales", "log_care", "satisfaction"}
        ``tier``: dummies against the most common tier; ``log_sales``: ``log1p(max(sales, 0))``;
        ``log_care``: ``log1p(care_cost / 100)``; ``satisfaction``: the three ``sat_<dimension>`` survey means
        (1-7) of the behaviour year, rows without a complete survey left out.
    confidence : float
        Level of the odds-ratio intervals.
    status : {"final", "window_end"}
        Count complaints by their handling status as recorded by the end of the outcome year (``*_final``
        columns, the default: the handling the member lived through) or as known at the end of the behaviour
        year (:data:`COUNT_COLUMNS`, which calls a complaint resolved a week after the year "unresolved").
    cluster : str or None
        Column grouping the rows for cluster-robust standard errors (default ``"member_id"``); None treats every
        member-year as independent.

    Returns
    -------
    RegressionResult
        The complaint terms are named :data:`COUNT_COLUMNS` whichever ``status`` they count.

    Raises
    ------
    ValueError
        ``"unknown controls: ..."``, ``"status must be one of: ..."``, ``"panel is missing columns: ..."``,
        ``"panel is empty (no rows)"``, ``"no member-year has a complete satisfaction survey"``, ``"<column> must
        not be missing"``, ``"panel has no member with a complaint"``, ``"churned has only one value: nothing
        to explain"``, ``"too few member-years for the model: n <= number of terms"``, ``"regression could not
        be estimated: ..."`` (collinear terms, a complaint kind whose member-years all churned or all stayed,
        or a fit that did not converge).
    """
    controls = tuple(controls)
    unknown = [c for c in controls if c not in CONTROLS]
    if unknown:
        raise ValueError(f"unknown controls: {', '.join(unknown)} (known: {', '.join(CONTROLS)})")
    if status not in STATUS_VIEWS:
        raise ValueError(f"status must be one of: {', '.join(STATUS_VIEWS)}")
    needed = {"tier": ["tier"], "log_sales": ["sales"], "log_care": ["care_cost"],
              "satisfaction": list(SATISFACTION_COLUMNS)}
    sources = FINAL_COUNT_COLUMNS if status == "final" else COUNT_COLUMNS
    _require(panel, ["churned", *sources, *(c for k in controls for c in needed[k]),
                     *([cluster] if cluster else [])])
    n_excluded = 0
    if "satisfaction" in controls:
        surveyed = panel[list(SATISFACTION_COLUMNS)].notna().all(axis=1)
        if not surveyed.any():
            raise ValueError("no member-year has a complete satisfaction survey: cannot control for satisfaction")
        n_excluded = int((~surveyed).sum())
        panel = panel[surveyed]
    if cluster and panel[cluster].isna().any():
        raise ValueError(f"{cluster} must not be missing")
    y = _churned(panel).astype(float)
    counts = _counts(panel, sources)
    if (counts.to_numpy().sum(axis=1) == 0).all():
        raise ValueError("panel has no member with a complaint")
    if y.min() == y.max():
        raise ValueError("churned has only one value: nothing to explain")
    keep = [c for c in COUNT_COLUMNS if counts[c].any()]
    dropped = tuple(c for c in COUNT_COLUMNS if c not in keep)
    X = counts[keep].astype(float).reset_index(drop=True)
    reference_tier = None
    if "tier" in controls:
        tier = panel["tier"].astype(str).reset_index(drop=True)
        if panel["tier"].isna().any():
            raise ValueError("tier must not be missing")
        freq = tier.value_counts()
        reference_tier = str(sorted(freq.index[freq == freq.max()])[0])
        for t in sorted(set(tier) - {reference_tier}):
            X[f"tier_{t}"] = (tier == t).astype(float)
    for name, col, scale in (("log_sales", "sales", 1.0), ("log_care", "care_cost", CARE_SCALE)):
        if name in controls:
            values = panel[col].astype(float).reset_index(drop=True)
            if values.isna().any():
                raise ValueError(f"{col} must not be missing")
            X[name] = np.log1p(values.clip(lower=0.0) / scale)
    if "satisfaction" in controls:
        scores = panel[list(SATISFACTION_COLUMNS)].astype(float)
        if ((scores < 1.0) | (scores > 7.0)).any().any():
            raise ValueError("satisfaction scores must be between 1 and 7")
        for col in SATISFACTION_COLUMNS:
            X[col] = scores[col].to_numpy()
    X.insert(0, "const", 1.0)
    if len(X) <= X.shape[1]:
        raise ValueError("too few member-years for the model: n <= number of terms")
    if np.linalg.matrix_rank(X.to_numpy()) < X.shape[1]:
        raise ValueError("regression could not be estimated: the terms are collinear (singular design)")
    for col in keep:
        # One complaint kind whose members all churned (or all stayed) has an infinite MLE (quasi-complete
        # separation); Newton would stop at an arbitrary large value instead of failing.
        outcome = y[counts[col].to_numpy() > 0]
        if outcome.min() == outcome.max():
            verb = "churned" if outcome[0] == 1.0 else "stayed"
            raise ValueError(
                f"regression could not be estimated: every member-year with {col} complaints {verb} "
                "(separation); use more data or fewer terms"
            )
    groups = pd.factorize(panel[cluster])[0] if cluster else None
    try:
        fit = fit_logistic(X.to_numpy(), y, se=True, cluster=groups, maxiter=100)
    except (np.linalg.LinAlgError, ValueError) as exc:  # singular, or statsmodels' perfect-separation check
        raise ValueError(f"regression could not be estimated: {exc}") from None
    n_clusters = fit.n_clusters
    z = float(stats.norm.ppf(0.5 + confidence / 2.0))
    coef, se = pd.Series(fit.coef, index=X.columns), pd.Series(fit.se, index=X.columns)
    converged = fit.converged
    # Separation by a combination of terms shows up as a non-converged fit or exploding estimates.
    if not converged or not np.isfinite(se).all() or (np.abs(coef) > MAX_ABS_COEF).any():
        raise ValueError("regression could not be estimated: the fit did not converge (separation or too few data)")
    table = pd.DataFrame(
        {
            "coef": coef,
            "std_err": se,
            "z": coef / se,
            "p_value": fit.p_values,
            "odds_ratio": np.exp(coef),
            "or_low": np.exp(coef - z * se),
            "or_high": np.exp(coef + z * se),
        }
    )
    table.index.name = "term"
    return RegressionResult(
        table=table,
        n=len(y),
        n_churned=int(y.sum()),
        pseudo_r2=float(fit.pseudo_r2),
        log_likelihood=float(fit.log_likelihood),
        converged=converged,
        controls=controls,
        reference_tier=reference_tier,
        dropped_terms=dropped,
        confidence=confidence,
        status=status,
        cluster=cluster,
        n_clusters=n_clusters,
        n_excluded=n_excluded,
    )


@dataclass(frozen=True)
class AdjustedEffects:
    """Per-complaint churn associations with and without the satisfaction control (:func:`adjusted_churn_effects`).

    Attributes
    ----------
    adjusted : RegressionResult or None
        Base controls + ``satisfaction``, on the member-years with a complete survey; None when it could not be
        estimated (``adjusted_error`` says why, e.g. no survey).
    same_sample : RegressionResult or None
        Base controls only, on exactly the member-years of ``adjusted``: the difference from ``adjusted`` is the
        satisfaction adjustment alone, not a change of sample.
    unadjusted : RegressionResult
        Base controls only, on every member-year.
    adjusted_error : str or None
        The ValueError message of the adjusted fit when it failed.
    """

    adjusted: RegressionResult | None
    same_sample: RegressionResult | None
    unadjusted: RegressionResult
    adjusted_error: str | None = None

    @property
    def headline(self) -> RegressionResult:
        """The figure to lead with: the satisfaction-adjusted fit when there is one, else the unadjusted one."""
        return self.adjusted if self.adjusted is not None else self.unadjusted

    def comparison(self) -> pd.DataFrame:
        """The complaint terms of each fit in long form.

        Returns
        -------
        DataFrame
            Columns ``term``, ``category``, ``status``, ``model`` (``"adjusted"``, ``"same_sample"``,
            ``"unadjusted"``; fits that failed are left out), ``n``, ``coef``, ``std_err``, ``odds_ratio``,
            ``or_low``, ``or_high``, ``p_value``; terms in :data:`COUNT_COLUMNS` order, then by model.
        """
        frames = []
        for order, (model, fit) in enumerate(
            (("adjusted", self.adjusted), ("same_sample", self.same_sample), ("unadjusted", self.unadjusted))
        ):
            if fit is None:
                continue
            rows = fit.complaint_effects().reset_index()
            frames.append(rows.assign(model=model, n=fit.n, _model=order, _term=rows["term"].map(COUNT_COLUMNS.index)))
        out = pd.concat(frames, ignore_index=True).sort_values(["_term", "_model"], ignore_index=True)
        return out[["term", "category", "status", "model", "n", "coef", "std_err", "odds_ratio", "or_low",
                    "or_high", "p_value"]]


def adjusted_churn_effects(
    panel: pd.DataFrame,
    controls: Sequence[str] = BASE_CONTROLS,
    confidence: float = CONFIDENCE,
    *,
    status: str = "final",
    cluster: str | None = "member_id",
) -> AdjustedEffects:
    """The per-complaint churn associations adjusted for satisfaction where a survey exists, next to the
    unadjusted ones (:func:`churn_regression` three times).

    Parameters
    ----------
    panel : DataFrame
        As for :func:`churn_regression` with the ``satisfaction`` control (``sat_<dimension>`` NaN where a
        member answered no survey in the year).
    controls : sequence of str
        The base controls (without ``satisfaction``, which is added for the adjusted fit).
    confidence, status, cluster
        As for :func:`churn_regression`.

    Returns
    -------
    AdjustedEffects
        :attr:`AdjustedEffects.headline` is the adjusted fit when it could be estimated.

    Raises
    ------
    ValueError
        The messages of :func:`churn_regression` for the unadjusted fit (without it there is nothing to show),
        and ``"controls must not include satisfaction: the adjusted fit adds it"``. A failure of the adjusted
        fit is not raised but kept in ``adjusted_error``.
    """
    base = tuple(controls)
    if "satisfaction" in base:
        raise ValueError("controls must not include satisfaction: the adjusted fit adds it")
    kwargs: dict[str, Any] = {"confidence": confidence, "status": status, "cluster": cluster}
    unadjusted = churn_regression(panel, base, **kwargs)
    try:
        adjusted = churn_regression(panel, (*base, "satisfaction"), **kwargs)
        surveyed = panel[list(SATISFACTION_COLUMNS)].notna().all(axis=1)
        same = churn_regression(panel[surveyed], base, **kwargs)
    except ValueError as exc:
        return AdjustedEffects(None, None, unadjusted, str(exc))
    return AdjustedEffects(adjusted, same, unadjusted)


# --------------------------------------------------------------------------------------------- correlations
def correlation_matrix(panel: pd.DataFrame) -> pd.DataFrame:
    """Spearman rank correlations of complaint features with churn and value.

    Features: the six :data:`COUNT_COLUMNS`, ``n_complaints`` (their sum), ``max_severity``, then ``churned``
    (0/1), ``sales``, ``profit_contribution``. Rank correlation because counts and money are heavily skewed.
    ``mean_resolution_days`` is left out: it exists for complainers only, so its correlations would describe
    a different population than the rest of the matrix.

    Returns
    -------
    DataFrame
        Square, symmetric, indexed and labelled by the feature names. Constant columns (e.g. nobody had an
        unresolved product complaint) have no correlation and are left out, never NaN; they are listed in
        ``frame.attrs["constant_columns"]``.

    Raises
    ------
    ValueError
        ``"panel is missing columns: ..."``, ``"panel is empty (no rows)"``, ``"churned must be ..."``,
        ``"panel has no member with a complaint"``.
    """
    _require(panel, ["churned", *COUNT_COLUMNS, "max_severity", "sales", "profit_contribution"])
    counts = _counts(panel)
    if (counts.to_numpy().sum(axis=1) == 0).all():
        raise ValueError("panel has no member with a complaint")
    data = counts.astype(float).reset_index(drop=True)
    data["n_complaints"] = counts.sum(axis=1).to_numpy().astype(float)
    for col in ("max_severity", "sales", "profit_contribution"):
        data[col] = panel[col].astype(float).to_numpy()
    data.insert(len(COUNT_COLUMNS) + 2, "churned", _churned(panel).astype(float))
    if data.isna().any().any():
        bad = [c for c in data.columns if data[c].isna().any()]
        raise ValueError(f"columns must not have missing values: {', '.join(bad)}")
    constant = [c for c in data.columns if data[c].nunique() < 2]
    out = data.drop(columns=constant).corr(method="spearman")
    out.attrs["constant_columns"] = constant
    return out


# --------------------------------------------------------------------------------------------- iceberg
@dataclass(frozen=True)
class Iceberg:
    """Silent dissatisfied members estimated from the complaints received, under an explicit assumption.

    Attributes
    ----------
    visible : int
        Complaints received (the tip).
    silent : float
        Estimated dissatisfied members who did not complain: ``visible * (multiplier - 1)``.
    total : float
        ``visible * multiplier``: everyone the complaints stand for (complainers included).
    multiplier : float
        Dissatisfied members per complaint (documents: 20; store article: 25).
    silent_share : float or None
        Share of unhappy members who do not complain when the multiplier was derived from it
        (``multiplier = 1 / (1 - silent_share)``; documents: 0.39), else None.
    assumption_key : str
        ``"complaints.iceberg.multiplier"`` or ``"complaints.iceberg.silent_share"``: the app's translated text
        that states the assumption next to the numbers; its arguments are :meth:`assumption_args`.
    """

    visible: int
    silent: float
    total: float
    multiplier: float
    silent_share: float | None
    assumption_key: str

    @property
    def silent_per_complaint(self) -> float:
        """Silent dissatisfied members behind each complaint (``multiplier - 1``)."""
        return self.multiplier - 1.0

    def assumption_args(self) -> dict[str, Any]:
        """Values shown in the assumption text."""
        return {"multiplier": self.multiplier, "silent_share": self.silent_share}

    def statement_en(self) -> str:
        """E.g. ``"100 complaints stand for about 2,000 dissatisfied members, 1,900 of whom did not complain
        (assumption: each complaint stands for 20 members who feel the same)"``."""
        if self.silent_share is None:
            why = f"each complaint stands for {self.multiplier:g} members who feel the same"
        else:
            why = f"{self.silent_share:.0%} of unhappy members don't complain"
        return (
            f"{self.visible:,} complaints stand for about {self.total:,.0f} dissatisfied members, "
            f"{self.silent:,.0f} of whom did not complain (assumption: {why})"
        )


def iceberg(n_complaints: int, multiplier: float | None = None, silent_share: float | None = None) -> Iceberg:
    """The "iceberg" of dissatisfaction under the received complaints.

    Parameters
    ----------
    n_complaints : int
        Complaints received (>= 0).
    multiplier : float, optional
        Dissatisfied members each complaint stands for, the complainer included (>= 1). Default
        :data:`DEFAULT_MULTIPLIER` (20, the mall plan); :data:`ICEBERG_MULTIPLIERS` holds the quoted values.
    silent_share : float, optional
        Alternative assumption: the share of unhappy members who don't complain, in [0, 1) (documents: 0.39,
        :data:`SILENT_SHARE_QUOTED`); then ``multiplier = 1 / (1 - silent_share)``. Give one or the other.

    Returns
    -------
    Iceberg

    Raises
    ------
    ValueError
        ``"n_complaints must be an integer >= 0"``, ``"multiplier must be a number >= 1"``,
        ``"silent_share must be a number in [0, 1)"``, ``"give either multiplier or silent_share, not both"``.
    """
    if isinstance(n_complaints, bool) or not isinstance(n_complaints, (int, np.integer)) or n_complaints < 0:
        raise ValueError("n_complaints must be an integer >= 0")
    if multiplier is not None and silent_share is not None:
        raise ValueError("give either multiplier or silent_share, not both")

    def _number(x: Any) -> bool:
        return not isinstance(x, bool) and isinstance(x, (int, float, np.integer, np.floating)) and math.isfinite(x)

    if silent_share is not None:
        if not _number(silent_share) or not 0.0 <= silent_share < 1.0:
            raise ValueError("silent_share must be a number in [0, 1)")
        m = 1.0 / (1.0 - float(silent_share))
        key, share = "complaints.iceberg.silent_share", float(silent_share)
    else:
        m = DEFAULT_MULTIPLIER if multiplier is None else multiplier
        if not _number(m) or m < 1.0:
            raise ValueError("multiplier must be a number >= 1")
        m, key, share = float(m), "complaints.iceberg.multiplier", None
    n = int(n_complaints)
    return Iceberg(visible=n, silent=n * (m - 1.0), total=n * m, multiplier=m, silent_share=share,
                   assumption_key=key)
