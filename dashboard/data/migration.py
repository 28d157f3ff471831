"""The Tier migration page's loaders (tier snapshots, transition matrices, flows by value) and its default view."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import partial

import pandas as pd

from dashboard.data.common import cached, shared
from dashboard.data.members import load_features, member_ids
from dashboard.data.stored import stored
from dashboard.members_filter import restrict
from vipmodel import migration
from vipmodel.outcomes import add_years
from vipmodel.pyramid import TierRules

GRANULARITIES = ("year", "quarter", "month")  # the page's snapshot periods; the first is the default
DEFAULT_CELL = ("B", "lost")  # the members listed at first: Gold members lost


def snapshot_start(end: dt.date) -> dt.date:
    """The first day of the snapshots the page compares: three years up to ``end``."""
    return add_years(end, -3) + dt.timedelta(days=1)


@cached(show_spinner=False, max_entries=4)
@stored
def load_snapshots(url: str, version: str, start: dt.date, end: dt.date, period: str, rules_payload: dict) -> pd.DataFrame:
    """Tier per member and period, each period tiered on its own."""
    frame = shared(load_features, url, version, start, end, period)
    frame = frame[frame["n_transactions"] > 0]
    return migration.tier_snapshots(frame, TierRules.from_payload(rules_payload))


def _snapshots_kept(url: str, version: str, start: dt.date, end: dt.date, period: str, rules_payload: dict,
                    store: str | None) -> pd.DataFrame:
    snapshots = shared(load_snapshots, url, version, start, end, period, rules_payload)
    return restrict(snapshots, member_ids(url, version, None, store))


@cached(show_spinner=False, max_entries=16)
@stored
def load_snapshot_periods(url: str, version: str, start: dt.date, end: dt.date, period: str, rules_payload: dict,
                          store: str | None = None) -> tuple[list, int]:
    """(sorted periods, member-period rows) of the tier snapshots of the members of ``store`` (all when None)."""
    snapshots = _snapshots_kept(url, version, start, end, period, rules_payload, store)
    return sorted(snapshots["period"].unique()), len(snapshots)


@cached(show_spinner=False, max_entries=32)
@stored
def load_transition(url: str, version: str, start: dt.date, end: dt.date, period: str, rules_payload: dict,
                    store: str | None, from_period, to_period) -> migration.TransitionMatrix:
    """``migration.transition_matrix`` between two snapshot periods (a pass over millions of member-periods)."""
    snapshots = _snapshots_kept(url, version, start, end, period, rules_payload, store)
    return migration.transition_matrix(snapshots, from_period, to_period)


@cached(show_spinner=False, max_entries=32)
@stored
def load_members_in_cell(url: str, version: str, start: dt.date, end: dt.date, period: str, rules_payload: dict,
                         store: str | None, from_period, to_period, source: str, target: str) -> pd.DataFrame:
    """The members behind one cell of the transition matrix (``migration.members_in_cell``)."""
    snapshots = _snapshots_kept(url, version, start, end, period, rules_payload, store)
    return migration.members_in_cell(snapshots, from_period, to_period, source, target)


FLOW_WEIGHTS = ("profit_contribution", "sales", "members")  # what sizes the Sankey's flows; the first is the default


@cached(show_spinner=False, max_entries=32)
@stored
def load_transition_values(url: str, version: str, start: dt.date, end: dt.date, period: str, rules_payload: dict,
                           store: str | None, from_period, to_period, weight: str) -> pd.DataFrame:
    """The transition matrix's cells weighted by value: the sum of ``weight`` (a member-feature column such as
    ``profit_contribution``) over the members of each cell, shaped like ``TransitionMatrix.counts``.

    A member weighs with the earlier period's value (what the tier had, and what moved or left); a new member with
    the later period's. A negative value counts 0, since a flow cannot be negative: D members with a negative
    contribution are still counted on the member-weighted view.
    """
    snapshots = _snapshots_kept(url, version, start, end, period, rules_payload, store)
    features = shared(load_features, url, version, start, end, period)
    tiers, values = {}, {}
    for name, label in (("from", from_period), ("to", to_period)):
        rows = snapshots[(snapshots["period"] == label).to_numpy()]
        tiers[name] = pd.Series(rows["tier"].astype(str).to_numpy(), index=rows["member_id"].to_numpy())
        kept = features[(features["period"] == label).to_numpy()]
        values[name] = pd.Series(kept[weight].to_numpy(dtype=float), index=kept["member_id"].to_numpy())
    cells = pd.concat(tiers, axis=1).fillna({"from": migration.NEW, "to": migration.LOST})
    weights = values["from"].reindex(cells.index).where(cells["from"] != migration.NEW,
                                                         values["to"].reindex(cells.index))
    table = weights.clip(lower=0).fillna(0.0).groupby([cells["from"], cells["to"]]).sum().unstack(fill_value=0.0)
    table = table.reindex(index=list(migration.FROM_STATES), columns=list(migration.TO_STATES), fill_value=0.0)
    return table.rename_axis(index="from", columns="to")


def warm_default(url: str, version: str, start: dt.date, end: dt.date,
                 rules: dict) -> list[tuple[str, Callable[[], object]]]:
    """(step name, call) for what the page reads at its default view (``dashboard.precompute_plan.steps``)."""
    return [
        ("migration.snapshots",
         lambda: shared(load_snapshots, url, version, snapshot_start(end), end, GRANULARITIES[0], rules)),
        ("migration.flows", partial(_warm_flows, url, version, end, rules)),
    ]


def _warm_flows(url: str, version: str, end: dt.date, rules: dict) -> None:
    # As the page opens: yearly snapshots over three years, the last two periods, Gold -> lost.
    args = (url, version, snapshot_start(end), end, GRANULARITIES[0], rules, None)
    periods, _ = load_snapshot_periods(*args)
    if len(periods) >= 2:
        load_transition(*args, periods[-2], periods[-1])
        load_transition_values(*args, periods[-2], periods[-1], FLOW_WEIGHTS[0])  # the meeting's default
        load_members_in_cell(*args, periods[-2], periods[-1], *DEFAULT_CELL)
