"""Tier migration: "make the pyramid move" (让顾客金字塔动起来).

Tiers are reassigned every period (:func:`tier_snapshots`); the flows between two periods — who stayed, moved
up, moved down, joined or left — are the counts of a transition matrix (:func:`transition_matrix`), which also
drives a Markov projection of the pyramid (:func:`project_pyramid`) and a Sankey diagram (:func:`sankey_data`).

A member is *present* in a period when the features frame has a row for them in that period. "new" means
present in the later period but not the earlier one, "lost" the reverse; a member who comes back after a gap
is therefore "new" again. If the features frame lists every member in every period (with zeros for inactive
ones), nobody is ever lost and inactive members simply sit in D.

References
----------
.. [1] Pfeifer, P. E. & Carraway, R. L. (2000). Modeling customer relationships as Markov chains.
   *Journal of Interactive Marketing*, 14(2), 43-55.
.. [2] Zeithaml, V. A., Rust, R. T. & Lemon, K. N. (2001). The customer pyramid: creating and serving
   profitable customers. *California Management Review*, 43(4), 118-142.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from numbers import Real
from typing import Any

import numpy as np
import pandas as pd

from vipmodel.contracts import require_columns
from vipmodel.pyramid import DEFAULT_RULES, TierRules, assign_tiers, tier_codes
from vipmodel.schema import TIERS

NEW = "new"
LOST = "lost"
FROM_STATES: tuple[str, ...] = (*TIERS, NEW)
TO_STATES: tuple[str, ...] = (*TIERS, LOST)
SNAPSHOT_COLUMNS: tuple[str, ...] = ("member_id", "period", "period_start", "tier")
MOVEMENT_COLUMNS: tuple[str, ...] = ("members", "retained_same_tier", "upgraded", "downgraded", "lost")
PROJECTION_COLUMNS: tuple[str, ...] = (*TIERS, "active", "arrived", "lost")
SANKEY_COLUMNS: tuple[str, ...] = (
    "source",
    "target",
    "value",
    "source_label",
    "target_label",
    "source_state",
    "target_state",
)

PROJECTION_ASSUMPTION = (
    "The projection is a time-homogeneous Markov chain (Pfeifer & Carraway 2000): every period, the members "
    "of each tier stay, move to another tier or leave at exactly the rates observed between the two periods "
    "of the transition matrix, whatever happened to them before; new members arrive every period in the same "
    "number and tier mix as in the observed period (unless other numbers are given); lost members do not come "
    "back (a returning member would count as new); members of a tier that had nobody in the observed period "
    "are assumed to stay in it. The figures are expected counts, without any margin of uncertainty, and one "
    "step is as long as the gap between the two observed periods."
)


# --------------------------------------------------------------------------------------------- snapshots


def tier_snapshots(features: pd.DataFrame, rules: TierRules = DEFAULT_RULES) -> pd.DataFrame:
    """Tiers of every member in every period, each period tiered on its own.

    Parameters
    ----------
    features : pandas.DataFrame
        :func:`vipmodel.features.member_features` over several periods, one row per member and period:
        ``member_id``, ``period``, ``period_start`` and the columns ``rules`` need (``profit_contribution``,
        plus ``sales`` for basis ``"spend"``).
    rules : TierRules, optional
        Applied within each period separately (shares of that period's members; absolute thresholds compared
        with that period's values — see :meth:`vipmodel.pyramid.TierRules.scaled` for periods shorter than a
        year).

    Returns
    -------
    pandas.DataFrame
        Columns ``member_id``, ``period``, ``period_start``, ``tier`` (categorical A..D), sorted by
        ``period_start``, ``period``, ``member_id``.

    Raises
    ------
    ValueError
        Missing column, empty frame (messages of :func:`vipmodel.contracts.require_columns`),
        ``"features has several rows for member 'M1' in period '2025'"``,
        ``"period '2025' has several period_start values"``, and anything :func:`assign_tiers` raises.
    """
    if not isinstance(rules, TierRules):
        raise ValueError(f"rules must be a TierRules, got {type(rules).__name__}")
    require_columns(features, ("member_id", "period", "period_start", *rules.required_columns), "features")
    if features["period"].isna().any():
        raise ValueError("features column 'period' has missing values")
    dup = features.duplicated(["member_id", "period"])
    if dup.any():
        row = features[dup.to_numpy()].iloc[0]
        raise ValueError(f"features has several rows for member {row['member_id']!r} in period {row['period']!r}")
    starts = features.groupby("period", sort=False, dropna=False)["period_start"].nunique(dropna=False)
    if (starts > 1).any():
        raise ValueError(f"period {starts[starts > 1].index[0]!r} has several period_start values")

    parts = []
    for period, group in features.groupby("period", sort=False):
        tiers = assign_tiers(group, rules)
        parts.append(
            pd.DataFrame(
                {
                    "member_id": group["member_id"].to_numpy(),
                    "period": period,
                    "period_start": group["period_start"].to_numpy(),
                    "tier": tiers.to_numpy(),
                }
            )
        )
    out = pd.concat(parts, ignore_index=True)
    out["tier"] = pd.Categorical(out["tier"], categories=list(TIERS))
    return out.sort_values(["period_start", "period", "member_id"], ignore_index=True)[list(SNAPSHOT_COLUMNS)]


# ------------------------------------------------------------------------------------- transition matrix


@dataclass(frozen=True, eq=False)
class TransitionMatrix:
    """Member flows between two periods.

    Attributes
    ----------
    from_period, to_period : str
    counts : pandas.DataFrame
        Index ``from`` = A, B, C, D, ``"new"``; columns ``to`` = A, B, C, D, ``"lost"``; integer member
        counts. ``counts.loc["new", "lost"]`` is always 0.
    rates : pandas.DataFrame
        Same shape; rows A..D divided by their row total (the share of the tier's members that went to each
        state; rows sum to 1); row ``"new"`` is the tier mix of the new members (``lost`` 0). A row with no
        members is NaN.
    """

    from_period: str
    to_period: str
    counts: pd.DataFrame
    rates: pd.DataFrame


def _periods(snapshots: pd.DataFrame) -> list[Any]:
    if "period_start" in snapshots.columns:
        firsts = snapshots.groupby("period", sort=False)["period_start"].min().sort_values(kind="stable")
        return list(firsts.index)
    return list(pd.unique(snapshots["period"]))


def _pair_codes(snapshots: pd.DataFrame, from_period: Any, to_period: Any) -> pd.DataFrame:
    """Each member present in either period with codes 0..3 (tier) or 4 (new / lost)."""
    require_columns(snapshots, ("member_id", "period", "tier"), name="snapshots")
    if from_period == to_period:
        raise ValueError(f"from_period and to_period are the same ({from_period!r})")
    known = _periods(snapshots)
    for period in (from_period, to_period):
        if period not in known:
            shown = ", ".join(repr(p) for p in known[:12])
            raise ValueError(f"period {period!r} has no members in snapshots; known periods: {shown}")
    if "period_start" in snapshots.columns and known.index(from_period) > known.index(to_period):
        raise ValueError(f"from_period {from_period!r} must come before to_period {to_period!r}")

    # Factorize the ids of both periods once and work on integer codes: hashing and sorting a million string
    # ids per operation is what made this slow.
    rows = snapshots[snapshots["period"].isin([from_period, to_period]).to_numpy()]
    ids, members = pd.factorize(rows["member_id"])
    tiers = tier_codes(rows["tier"], name="snapshots column 'tier'")
    codes = {}
    for period in (from_period, to_period):
        mask = (rows["period"] == period).to_numpy()
        counts = np.bincount(ids[mask], minlength=len(members))
        if (counts > 1).any():
            dup = members[np.flatnonzero(counts > 1)[0]]
            raise ValueError(f"snapshots has several rows for member {dup!r} in period {period!r}")
        code = np.full(len(members), 4, dtype=np.int64)
        code[ids[mask]] = tiers[mask]
        codes[period] = code
    return pd.DataFrame(
        {"member_id": np.asarray(members, dtype=object), "from_code": codes[from_period], "to_code": codes[to_period]}
    )


def transition_matrix(snapshots: pd.DataFrame, from_period: Any, to_period: Any) -> TransitionMatrix:
    """Counts and rates of members moving between tiers from one period to another.

    Parameters
    ----------
    snapshots : pandas.DataFrame
        :func:`tier_snapshots` output: ``member_id``, ``period``, ``tier`` (``period_start`` orders periods).
    from_period, to_period : str
        Two different periods present in ``snapshots``; ``from_period`` must start first.

    Returns
    -------
    TransitionMatrix

    Raises
    ------
    ValueError
        Missing column or empty frame, ``"period '2027' has no members in snapshots; known periods: '2024',
        '2025'"``, ``"from_period and to_period are the same ('2025')"``,
        ``"from_period '2025' must come before to_period '2024'"``, duplicated members, invalid tiers.
    """
    pairs = _pair_codes(snapshots, from_period, to_period)
    counts = np.bincount(pairs["from_code"] * 5 + pairs["to_code"], minlength=25).reshape(5, 5).astype(np.int64)
    totals = counts.sum(axis=1, keepdims=True).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        rates = np.where(totals > 0, counts / np.where(totals > 0, totals, 1.0), np.nan)
    index = pd.Index(list(FROM_STATES), name="from")
    columns = pd.Index(list(TO_STATES), name="to")
    return TransitionMatrix(
        from_period=from_period,
        to_period=to_period,
        counts=pd.DataFrame(counts, index=index, columns=columns),
        rates=pd.DataFrame(rates, index=index, columns=columns),
    )


def movement_rates(matrix: TransitionMatrix) -> pd.DataFrame:
    """Per tier of the earlier period: how many members, and which share stayed, rose, fell or left.

    Returns
    -------
    pandas.DataFrame
        Index ``tier`` A..D; columns ``members`` (int), ``retained_same_tier``, ``upgraded``, ``downgraded``,
        ``lost`` (shares of ``members``, summing to 1; NaN for a tier with no members). A is never upgraded
        and D never downgraded.
    """
    if not isinstance(matrix, TransitionMatrix):
        raise ValueError(f"matrix must be a TransitionMatrix, got {type(matrix).__name__}")
    counts = matrix.counts.loc[list(TIERS), list(TO_STATES)].to_numpy(dtype=np.float64)
    tiers = counts[:, :4]
    members = counts.sum(axis=1)
    parts = np.column_stack(
        [np.diag(tiers), np.tril(tiers, -1).sum(axis=1), np.triu(tiers, 1).sum(axis=1), counts[:, 4]]
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        shares = np.where(members[:, None] > 0, parts / np.where(members > 0, members, 1.0)[:, None], np.nan)
    out = pd.DataFrame(shares, columns=list(MOVEMENT_COLUMNS[1:]), index=pd.Index(list(TIERS), name="tier"))
    out.insert(0, "members", members.astype(np.int64))
    return out


def members_in_cell(
    snapshots: pd.DataFrame, from_period: Any, to_period: Any, from_state: str, to_state: str
) -> pd.DataFrame:
    """The members behind one cell of the transition matrix (e.g. who fell from A to B, who were lost from C).

    Parameters
    ----------
    snapshots, from_period, to_period
        As :func:`transition_matrix`.
    from_state : {"A", "B", "C", "D", "new"}
    to_state : {"A", "B", "C", "D", "lost"}

    Returns
    -------
    pandas.DataFrame
        Columns ``member_id``, ``from_state``, ``to_state``, sorted by ``member_id``; no rows for an empty
        cell (``"new"`` -> ``"lost"`` is always empty).

    Raises
    ------
    ValueError
        As :func:`transition_matrix`, plus ``"from_state must be one of 'A', 'B', 'C', 'D', 'new'; got 'X'"``
        and the same for ``to_state``.
    """
    if from_state not in FROM_STATES:
        raise ValueError(f"from_state must be one of 'A', 'B', 'C', 'D', 'new'; got {from_state!r}")
    if to_state not in TO_STATES:
        raise ValueError(f"to_state must be one of 'A', 'B', 'C', 'D', 'lost'; got {to_state!r}")
    pairs = _pair_codes(snapshots, from_period, to_period)
    in_cell = (pairs["from_code"] == FROM_STATES.index(from_state)) & (pairs["to_code"] == TO_STATES.index(to_state))
    cell = pairs[in_cell]
    out = pd.DataFrame({"member_id": cell["member_id"].to_numpy(), "from_state": from_state, "to_state": to_state})
    return out.sort_values("member_id", ignore_index=True)


# ------------------------------------------------------------------------------------------- projection


def _tier_counts(values: Any, name: str) -> np.ndarray:
    if isinstance(values, pd.Series):
        values = values.to_dict()
    if not isinstance(values, Mapping):
        raise ValueError(f"{name} must be a mapping from tier ('A'..'D') to a number of members")
    unknown = [k for k in values if k not in TIERS]
    if unknown:
        raise ValueError(f"{name} has unknown tier(s): " + ", ".join(repr(k) for k in unknown))
    out = []
    for tier in TIERS:
        v = values.get(tier, 0)
        if isinstance(v, bool) or not isinstance(v, Real) or not math.isfinite(v) or v < 0:
            raise ValueError(f"{name} for tier {tier} must be a non-negative number; got {v!r}")
        out.append(float(v))
    return np.array(out)


def project_pyramid(
    matrix: TransitionMatrix,
    start_counts: Mapping[str, float] | pd.Series,
    periods: int,
    new_per_period: Mapping[str, float] | pd.Series | None = None,
) -> pd.DataFrame:
    """Project tier sizes ``periods`` steps ahead with the observed transition rates (a Markov chain [1]_).

    One step: ``n_next[j] = sum_i n[i] * rates[i, j] + new[j]`` and ``lost += sum_i n[i] * rates[i, "lost"]``.
    The assumptions are stated in :data:`PROJECTION_ASSUMPTION` (show it next to the chart).

    Parameters
    ----------
    matrix : TransitionMatrix
    start_counts : Mapping or pandas.Series
        Members per tier at step 0 (a tier left out counts 0), typically the tier counts of ``to_period``.
    periods : int
        Number of steps (>= 1), each as long as the gap between the matrix's periods.
    new_per_period : Mapping or pandas.Series, optional
        New members per tier arriving each step; default the new members observed in the matrix
        (``counts.loc["new", A..D]``). Pass ``{}`` for a closed membership.

    Returns
    -------
    pandas.DataFrame
        Index ``step`` 0..periods (0 = ``start_counts``); columns ``A``, ``B``, ``C``, ``D`` (expected members),
        ``active`` (their sum), ``arrived`` and ``lost`` (cumulative since step 0). Members are conserved:
        ``active + lost == active[0] + arrived`` at every step.

    Raises
    ------
    ValueError
        ``"periods must be a positive whole number; got 0"``, ``"start_counts has unknown tier(s): 'E'"``,
        ``"start_counts for tier A must be a non-negative number; got -1"`` (same for ``new_per_period``).

    References
    ----------
    .. [1] Pfeifer, P. E. & Carraway, R. L. (2000). Modeling customer relationships as Markov chains.
       *Journal of Interactive Marketing*, 14(2), 43-55.
    """
    if not isinstance(matrix, TransitionMatrix):
        raise ValueError(f"matrix must be a TransitionMatrix, got {type(matrix).__name__}")
    if isinstance(periods, bool) or not isinstance(periods, (int, np.integer)) or periods < 1:
        raise ValueError(f"periods must be a positive whole number; got {periods!r}")
    state = _tier_counts(start_counts, "start_counts")
    if new_per_period is None:
        arrivals = matrix.counts.loc[NEW, list(TIERS)].to_numpy(dtype=np.float64)
    else:
        arrivals = _tier_counts(new_per_period, "new_per_period")

    step_rates = matrix.rates.loc[list(TIERS), list(TO_STATES)].to_numpy(dtype=np.float64).copy()
    unobserved = np.isnan(step_rates).any(axis=1)
    step_rates[unobserved] = 0.0
    step_rates[unobserved, np.flatnonzero(unobserved)] = 1.0  # see PROJECTION_ASSUMPTION: they stay

    rows = [np.concatenate([state, [state.sum(), 0.0, 0.0]])]
    arrived = lost = 0.0
    for _ in range(int(periods)):
        flows = state @ step_rates
        lost += flows[4]
        arrived += arrivals.sum()
        state = flows[:4] + arrivals
        rows.append(np.concatenate([state, [state.sum(), arrived, lost]]))
    return pd.DataFrame(rows, columns=list(PROJECTION_COLUMNS), index=pd.RangeIndex(len(rows), name="step"))


# ---------------------------------------------------------------------------------------------- sankey


def _node_labels(matrix: TransitionMatrix) -> tuple[list[str], list[str]]:
    sources = [f"{s} {matrix.from_period}" if s in TIERS else NEW for s in FROM_STATES]
    targets = [f"{s} {matrix.to_period}" if s in TIERS else LOST for s in TO_STATES]
    return sources, targets


def sankey_nodes(matrix: TransitionMatrix) -> pd.DataFrame:
    """The ten nodes of :func:`sankey_data` in index order: ``node``, ``state``, ``side`` (from/to), ``label``."""
    if not isinstance(matrix, TransitionMatrix):
        raise ValueError(f"matrix must be a TransitionMatrix, got {type(matrix).__name__}")
    sources, targets = _node_labels(matrix)
    return pd.DataFrame(
        {
            "node": range(10),
            "state": [*FROM_STATES, *TO_STATES],
            "side": ["from"] * 5 + ["to"] * 5,
            "label": sources + targets,
        }
    )


def sankey_data(matrix: TransitionMatrix) -> pd.DataFrame:
    """Links for a Plotly Sankey of the transition counts.

    Nodes 0-4 are the earlier period's A, B, C, D and "new", nodes 5-9 the later period's A, B, C, D and
    "lost" (so the same tier appears once on each side; :func:`sankey_nodes` lists them all).

    Returns
    -------
    pandas.DataFrame
        Columns ``source``, ``target`` (node numbers), ``value`` (members, > 0; empty cells are left out),
        ``source_label``, ``target_label`` (e.g. ``"A 2024"``, ``"new"``, ``"lost"``), ``source_state``,
        ``target_state`` (``"A"``..``"D"``, ``"new"``, ``"lost"``, for the app to translate).
    """
    if not isinstance(matrix, TransitionMatrix):
        raise ValueError(f"matrix must be a TransitionMatrix, got {type(matrix).__name__}")
    sources, targets = _node_labels(matrix)
    counts = matrix.counts.loc[list(FROM_STATES), list(TO_STATES)].to_numpy()
    i, j = np.nonzero(counts)
    return pd.DataFrame(
        {
            "source": i.astype(np.int64),
            "target": (j + 5).astype(np.int64),
            "value": counts[i, j].astype(np.int64),
            "source_label": [sources[k] for k in i],
            "target_label": [targets[k] for k in j],
            "source_state": [FROM_STATES[k] for k in i],
            "target_state": [TO_STATES[k] for k in j],
        },
        columns=list(SANKEY_COLUMNS),
    )
