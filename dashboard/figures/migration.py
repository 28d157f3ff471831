"""Figures of tier migration: Sankey of flows, transition heatmap, Markov projection."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard.figures.theme import TIER_COLORS, styled

STATE_COLORS = {**TIER_COLORS, "new": "#27AE60", "lost": "#BDC3C7"}


def _rgba(hex_color: str, alpha: float) -> str:
    h = hex_color.lstrip("#")
    return f"rgba({int(h[0:2], 16)},{int(h[2:4], 16)},{int(h[4:6], 16)},{alpha})"


def sankey(links: pd.DataFrame, nodes: pd.DataFrame, node_labels: list[str], title: str) -> go.Figure:
    """Flows between two periods (``vipmodel.migration.sankey_data`` / ``sankey_nodes``), labels already translated."""
    fig = go.Figure(
        go.Sankey(
            arrangement="fixed",
            node=dict(
                label=node_labels,
                color=[STATE_COLORS[s] for s in nodes["state"]],
                pad=18,
                thickness=18,
                x=[0.01 if side == "from" else 0.99 for side in nodes["side"]],
                y=[0.1 + 0.2 * (i % 5) for i in range(len(nodes))],
            ),
            link=dict(
                source=links["source"].to_list(),
                target=links["target"].to_list(),
                value=links["value"].to_list(),
                color=[_rgba(STATE_COLORS[s], 0.35) for s in links["source_state"]],
                hovertemplate="%{source.label} → %{target.label}: %{value:,}<extra></extra>",
            ),
        )
    )
    styled(fig, title)
    fig.update_layout(height=460)
    return fig


def transition_heatmap(rates: pd.DataFrame, row_labels: list[str], col_labels: list[str], title: str) -> go.Figure:
    """Row-normalised transition rates as a heatmap with the percentage in each cell."""
    fig = go.Figure(
        go.Heatmap(
            z=rates.to_numpy(dtype=float),
            x=col_labels,
            y=row_labels,
            colorscale="Blues",
            zmin=0,
            zmax=1,
            texttemplate="%{z:.0%}",
            hovertemplate="%{y} → %{x}: %{z:.1%}<extra></extra>",
            colorbar=dict(tickformat=".0%"),
        )
    )
    styled(fig, title)
    fig.update_layout(height=380)
    fig.update_yaxes(autorange="reversed")
    return fig


def projection(frame: pd.DataFrame, tier_labels: dict[str, str], step_title: str, title: str) -> go.Figure:
    """Expected members per tier over the projection steps (``vipmodel.migration.project_pyramid``)."""
    fig = go.Figure()
    for tier in ("D", "C", "B", "A"):
        fig.add_scatter(
            x=frame.index.to_list(),
            y=frame[tier].to_list(),
            name=tier_labels[tier],
            mode="lines+markers",
            stackgroup="tiers",
            line=dict(color=TIER_COLORS[tier]),
            hovertemplate="%{y:,.0f}<extra>" + tier_labels[tier] + "</extra>",
        )
    styled(fig, title)
    fig.update_layout(height=380, legend=dict(orientation="h", y=-0.2))
    fig.update_xaxes(title_text=step_title, dtick=1)
    return fig
