"""Figures of the customer pyramid: the pyramid itself, shares per tier, and a before/after preview."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard.figures.theme import TIER_COLORS, quick_figure, styled

TIERS = ("A", "B", "C", "D")


def pyramid(summary: pd.DataFrame, tier_labels: dict[str, str], title: str, text: list[str] | None = None) -> go.Figure:
    """The customer pyramid: four bands of one triangle, A at the top, each labelled with its figures.

    The bands have fixed heights (a pyramid drawn to member counts would make A invisible: it is 1% of members);
    the numbers are in the labels. ``summary`` is indexed by tier with a ``members`` column
    (``vipmodel.pyramid.tier_summary``); ``text`` gives one label line per tier (default: the member count).
    """
    rows = summary.reindex(list(TIERS))
    lines = text or [f"{int(m):,}" for m in rows["members"].fillna(0)]
    fig = go.Figure()
    edges = [0.0, 0.22, 0.44, 0.68, 1.0]  # top of the triangle at 0, base at 1
    for i, tier in enumerate(TIERS):
        top, bottom = edges[i], edges[i + 1]
        half_top, half_bottom = top / 2, bottom / 2
        fig.add_scatter(
            x=[0.5 - half_top, 0.5 + half_top, 0.5 + half_bottom, 0.5 - half_bottom, 0.5 - half_top],
            y=[1 - top, 1 - top, 1 - bottom, 1 - bottom, 1 - top],
            fill="toself",
            fillcolor=TIER_COLORS[tier],
            line=dict(color="white", width=2),
            mode="lines",
            name=tier_labels[tier],
            hoverinfo="text",
            text=f"{tier_labels[tier]}: {lines[i]}",
        )
        fig.add_annotation(
            x=1.02, y=1 - (top + bottom) / 2, xref="x", yref="y", xanchor="left", showarrow=False,
            text=f"<b>{tier_labels[tier]}</b><br>{lines[i]}", align="left",
        )
    styled(fig, title)
    fig.update_layout(height=360, showlegend=False, margin=dict(l=10, r=10, t=50, b=10))
    fig.update_xaxes(visible=False, range=[-0.02, 1.9])
    fig.update_yaxes(visible=False, range=[-0.02, 1.02])
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
    rows = per_tier.reindex(list(TIERS), fill_value=0)
    x = [tier_labels[t] for t in TIERS]
    bars = [
        go.Bar(x=x, y=rows["members_before"].to_list(), name=labels[0], marker_color="#AAB4C3"),
        go.Bar(x=x, y=rows["members_after"].to_list(), name=labels[1], marker_color=[TIER_COLORS[t] for t in TIERS]),
    ]
    # Rebuilt on every threshold move: built in one step (see theme.quick_figure).
    return quick_figure(bars, title, {"barmode": "group", "height": 340, "legend": {"orientation": "h", "y": -0.15}})
