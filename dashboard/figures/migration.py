"""Figures of tier migration: Sankey of flows, transition heatmap, Markov projection."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard.figures.theme import TIER_COLORS, styled

STATE_COLORS = {**TIER_COLORS, "new": "#27AE60", "lost": "#BDC3C7"}
NODE_PAD = 0.05  # gap between two nodes of a column, as a share of the plot's height
LABEL_FONT = 20  # the largest font the chart is drawn with (presentation mode, the deck): margins fit labels at it


def _display_width(label: str) -> int:
    """Width in Latin letters (a CJK character counts two), to size the margins that hold the node labels."""
    return sum(2 if ord(ch) >= 0x2E80 else 1 for ch in label)


def _rgba(hex_color: str, alpha: float) -> str:
    h = hex_color.lstrip("#")
    return f"rgba({int(h[0:2], 16)},{int(h[2:4], 16)},{int(h[4:6], 16)},{alpha})"


def _column_layout(sizes: list[float]) -> tuple[list[float], list[float]]:
    """Centres (0 = top) and heights of a column of nodes stacked in order with :data:`NODE_PAD` between them."""
    total = sum(sizes) or 1.0
    room = 1.0 - NODE_PAD * (len(sizes) - 1)
    centres, heights, top = [], [], 0.0
    for size in sizes:
        height = room * size / total
        centres.append(top + height / 2)
        heights.append(height)
        top += height + NODE_PAD
    return centres, heights


def sankey(links: pd.DataFrame, nodes: pd.DataFrame, node_labels: list[str], title: str,
           column_titles: tuple[str, str] | None = None, value_format: str = ",.0f",
           hover_members: str | None = None) -> go.Figure:
    """Flows between two periods (``vipmodel.migration.sankey_data`` / ``sankey_nodes``), labels already translated.

    ``links["value"]`` sizes the flows: members, or a value such as profit (then an optional ``members`` column is
    shown on hover after ``hover_members``). Each node's label and its share of the column sit outside the flows,
    left of the earlier period and right of the later one, under ``column_titles``; nodes are stacked in tier order
    at their own size, so a small tier (Platinum is 1% of members) keeps a readable label however thin its flow.
    """
    size = {n: 0.0 for n in nodes["node"]}
    for column in ("source", "target"):
        for node, value in links.groupby(column)["value"].sum().items():
            size[node] += float(value)
    x, y, annotations = [], [], []
    widest = 0
    for side, anchor in (("from", "right"), ("to", "left")):
        members = nodes[nodes["side"] == side]
        column_total = sum(size[n] for n in members["node"]) or 1.0
        centres, _ = _column_layout([size[n] for n in members["node"]])
        for node, centre in zip(members["node"], centres):
            label = f"{node_labels[node]} · {size[node] / column_total:.0%}"
            widest = max(widest, _display_width(label))
            x.append(0.001 if side == "from" else 0.999)
            y.append(centre)
            annotations.append(dict(x=-0.01 if side == "from" else 1.01, y=1 - centre, xref="paper", yref="paper",
                                    xanchor=anchor, yanchor="middle", text=label, showarrow=False,
                                    xshift=-4 if side == "from" else 4))
    if column_titles is not None:
        for side, text in zip((0.0, 1.0), column_titles):
            annotations.append(dict(x=side, y=1.0, xref="paper", yref="paper", xanchor="center", yanchor="bottom",
                                    text=f"<b>{text}</b>", showarrow=False, yshift=8))
    link_hover = "%{source.customdata} → %{target.customdata}: %{value:" + value_format + "}"
    customdata = None
    if hover_members is not None and "members" in links.columns:
        customdata = links["members"].to_list()
        link_hover += f"<br>{hover_members}: %{{customdata:,}}"
    fig = go.Figure(
        go.Sankey(
            arrangement="fixed",
            valueformat=value_format,
            node=dict(
                label=[""] * len(node_labels),  # drawn as annotations outside the flows instead
                customdata=node_labels,
                hovertemplate="%{customdata}: %{value:" + value_format + "}<extra></extra>",
                color=[STATE_COLORS[s] for s in nodes["state"]],
                pad=12,
                thickness=22,
                x=x,
                y=y,
            ),
            link=dict(
                source=links["source"].to_list(),
                target=links["target"].to_list(),
                value=links["value"].to_list(),
                customdata=customdata,
                color=[_rgba(STATE_COLORS[s], 0.4) for s in links["source_state"]],
                hovertemplate=link_hover + "<extra></extra>",
            ),
        )
    )
    styled(fig, title)
    margin = int(20 + widest * LABEL_FONT * 0.6)
    fig.update_layout(height=480, annotations=annotations, margin=dict(l=margin, r=margin, t=90, b=30))
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
