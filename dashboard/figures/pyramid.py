"""Figures of the customer pyramid: the pyramid itself, shares per tier, and a before/after preview."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard.figures.theme import TIER_COLORS, styled

TIERS = ("A", "B", "C", "D")


def pyramid(summary: pd.DataFrame, tier_labels: dict[str, str], title: str, text: list[str] | None = None) -> go.Figure:
    """The customer pyramid: one band per tier, A at the top, width by member count.

    ``summary`` is indexed by tier with a ``members`` column (``vipmodel.pyramid.tier_summary``).
    """
    rows = summary.reindex(list(TIERS))
    fig = go.Figure(
        go.Funnel(
            y=[tier_labels[t] for t in TIERS],
            x=rows["members"].fillna(0).to_list(),
            text=text,
            textinfo="text" if text else "value",
            textposition="inside",
            marker=dict(color=[TIER_COLORS[t] for t in TIERS]),
            connector=dict(line=dict(color="#BBBBBB", width=1)),
            hovertemplate="%{y}: %{x:,}<extra></extra>",
        )
    )
    styled(fig, title)
    fig.update_layout(height=360, showlegend=False)
    return fig


def tier_shares(summary: pd.DataFrame, tier_labels: dict[str, str], series_labels: dict[str, str], title: str) -> go.Figure:
    """Grouped bars per tier of member share, sales share and profit share (``series_labels`` keys are the columns)."""
    rows = summary.reindex(list(TIERS))
    fig = go.Figure()
    for column, label in series_labels.items():
        fig.add_bar(
            x=[tier_labels[t] for t in TIERS],
            y=rows[column].fillna(0).to_list(),
            name=label,
            texttemplate="%{y:.0%}",
            textposition="outside",
        )
    styled(fig, title)
    fig.update_layout(barmode="group", height=360, yaxis_tickformat=".0%", legend=dict(orientation="h", y=-0.15))
    return fig


def before_after(per_tier: pd.DataFrame, tier_labels: dict[str, str], labels: tuple[str, str], title: str) -> go.Figure:
    """Members per tier now and under the proposed rules (``per_tier`` from ``RuleComparison.per_tier``)."""
    rows = per_tier.reindex(list(TIERS))
    x = [tier_labels[t] for t in TIERS]
    fig = go.Figure()
    fig.add_bar(x=x, y=rows["members_before"].to_list(), name=labels[0], marker_color="#AAB4C3")
    fig.add_bar(
        x=x, y=rows["members_after"].to_list(), name=labels[1], marker_color=[TIER_COLORS[t] for t in TIERS]
    )
    styled(fig, title)
    fig.update_layout(barmode="group", height=340, legend=dict(orientation="h", y=-0.15))
    return fig
