"""The weekly pack's charts, drawn from the tables of ``vipmodel.weekly.WeeklySummary`` with translated labels.

Pure builders as in ``dashboard/figures``: no aggregation beyond picking rows, no translation inside. Each figure
is sized for a 16:9 slide and a projector (large fonts), and uses the house template and tier colours, so the
exported PNG, the HTML and the screen look the same.
"""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboard.figures.migration import sankey
from dashboard.figures.theme import ACCENT, NEGATIVE, TIER_COLORS, styled

PREVIOUS_COLOR = "#C9D1DB"
PLAN_COLOR = "#7F8C8D"
INACTIVE_COLOR = "#AAB4C3"
SLIDE_HEIGHT = 620  # px at which a chart is laid out; exported at 16:9 (see dashboard.report.export)
STATES_FROM = ("A", "B", "C", "D", "new")
STATES_TO = ("A", "B", "C", "D", "lost")


def _finish(fig: go.Figure, title: str) -> go.Figure:
    styled(fig, title, presentation=True)
    fig.update_layout(height=SLIDE_HEIGHT, margin=dict(l=40, r=40, t=90, b=60))
    fig.update_xaxes(automargin=True)
    fig.update_yaxes(automargin=True)
    return fig


def tier_sizes(tiers: pd.DataFrame, tier_labels: dict[str, str], series: dict[str, str], change_text: list[str],
               title: str) -> go.Figure:
    """Members per tier at week end against the week before, tier A on top (``WeeklySummary.tiers``).

    ``series`` labels ``members_previous_week`` and ``members``; ``change_text`` is shown at the end of each
    tier's bar (e.g. ``"283 (+8)"``, one per row of ``tiers``). A log axis: Platinum (1% of members) and Lead
    (80%) differ by two orders of magnitude, and every tier must be readable.
    """
    rows = tiers.iloc[::-1]  # plotly draws the first category at the bottom
    labels = [tier_labels[k] for k in rows["tier"]]
    fig = go.Figure()
    fig.add_bar(y=labels, x=rows["members_previous_week"].to_list(), orientation="h",
                name=series["members_previous_week"], marker_color=PREVIOUS_COLOR)
    fig.add_bar(y=labels, x=rows["members"].to_list(), orientation="h", name=series["members"],
                marker_color=[TIER_COLORS[k] for k in rows["tier"]], text=list(change_text)[::-1],
                textposition="outside", cliponaxis=False)
    _finish(fig, title)
    fig.update_layout(barmode="group", bargap=0.25, legend=dict(orientation="h", y=-0.12), margin_r=190)
    fig.update_xaxes(type="log", tickformat=",~g", dtick=1)  # a tick per power of ten
    return fig


def flow_links(flows: pd.DataFrame, weight: str) -> pd.DataFrame:
    """Links of the week's flows (``WeeklySummary.flows``) for :func:`dashboard.figures.migration.sankey`: nodes 0-4
    are last week's A-D and new, 5-9 this week's A-D and lost; ``value`` is the ``weight`` column (``"value"``:
    lifetime value, or ``"members"``) rounded, ``members`` the count; flows of no weight are left out."""
    kept = flows[flows[weight].fillna(0) > 0]
    return pd.DataFrame({
        "source": [STATES_FROM.index(s) for s in kept["from_state"]],
        "target": [5 + STATES_TO.index(s) for s in kept["to_state"]],
        "value": kept[weight].astype(float).round().to_list(),
        "members": kept["members"].astype(int).to_list(),
        "source_state": kept["from_state"].to_list(),
        "target_state": kept["to_state"].to_list(),
    })


def flow_nodes() -> pd.DataFrame:
    """The ten nodes of :func:`flow_links` in the layout ``vipmodel.migration.sankey_nodes`` uses."""
    return pd.DataFrame({"node": range(10), "state": [*STATES_FROM, *STATES_TO], "side": ["from"] * 5 + ["to"] * 5})


def flows(links: pd.DataFrame, state_labels: dict[str, str], columns: tuple[str, str], value_format: str,
          members_label: str, title: str) -> go.Figure:
    """The week's tier flows as a Sankey (labels outside the flows, shares per column)."""
    nodes = flow_nodes()
    fig = sankey(links, nodes, [state_labels[s] for s in nodes["state"]], title, columns, value_format, members_label)
    styled(fig, title, presentation=True)
    fig.update_layout(height=SLIDE_HEIGHT)
    return fig


def risk_bars(at_risk: pd.DataFrame, tier_labels: dict[str, str], x_title: str, title: str,
              rows: int = 15) -> go.Figure:
    """The members with the most value at risk (``WeeklySummary.at_risk``, already ranked), one bar each in the
    colour of their tier, the biggest on top; member ids only (no personal data on a slide)."""
    top = at_risk.head(rows).iloc[::-1]
    fig = go.Figure()
    for tier in [k for k in tier_labels if k in set(top["tier"])]:
        part = top[top["tier"] == tier]
        fig.add_bar(y=part["member_id"].to_list(), x=part["value_at_risk"].astype(float).to_list(), orientation="h",
                    name=tier_labels[tier], marker_color=TIER_COLORS.get(tier, INACTIVE_COLOR),
                    hovertemplate="%{y}: ¥%{x:,.0f}<extra>" + tier_labels[tier] + "</extra>")
    _finish(fig, title)
    fig.update_layout(legend=dict(orientation="h", y=-0.14), barmode="overlay")
    fig.update_yaxes(categoryorder="array", categoryarray=top["member_id"].to_list(), tickfont_size=14)
    fig.update_xaxes(title_text=x_title, tickformat=",.0f", tickprefix="¥")
    return fig


def complaint_bars(complaints: pd.DataFrame, measure_labels: dict[str, str], series: dict[str, str],
                   title: str) -> go.Figure:
    """Complaints opened, resolved (this week and the week before) and overdue at week end (two panels: the
    overdue backlog is a stock, often far larger than a week's flow)."""
    fig = make_subplots(rows=1, cols=2, column_widths=[0.62, 0.38], horizontal_spacing=0.12)
    flows_rows = complaints[complaints["measure"] != "overdue"]
    stock = complaints[complaints["measure"] == "overdue"]
    for frame, col in ((flows_rows, 1), (stock, 2)):
        x = [measure_labels[m] for m in frame["measure"]]
        fig.add_bar(x=x, y=frame["previous_week"].to_list(), name=series["previous_week"], marker_color=PREVIOUS_COLOR,
                    text=frame["previous_week"].to_list(), textposition="outside", showlegend=col == 1,
                    cliponaxis=False, row=1, col=col)
        fig.add_bar(x=x, y=frame["value"].to_list(), name=series["value"],
                    marker_color=NEGATIVE if col == 2 else ACCENT, text=frame["value"].to_list(),
                    textposition="outside", showlegend=col == 1, cliponaxis=False, row=1, col=col)
    _finish(fig, title)
    fig.update_layout(barmode="group", legend=dict(orientation="h", y=-0.12))
    fig.update_yaxes(rangemode="tozero", tickformat=",d")
    return fig


def satisfaction_bars(satisfaction: pd.DataFrame, dimension_labels: dict[str, str], series: dict[str, str],
                      change_text: list[str], title: str) -> go.Figure:
    """Satisfaction (0-100) per survey dimension and the weighted index, now and a week earlier, with the change
    written on each bar (``change_text``, one per row)."""
    x = [dimension_labels[d] for d in satisfaction["dimension"]]
    fig = go.Figure()
    fig.add_bar(x=x, y=satisfaction["previous"].to_list(), name=series["previous"], marker_color=PREVIOUS_COLOR)
    fig.add_bar(x=x, y=satisfaction["score"].to_list(), name=series["score"], marker_color=ACCENT,
                text=list(change_text), textposition="outside", cliponaxis=False)
    _finish(fig, title)
    fig.update_layout(barmode="group", legend=dict(orientation="h", y=-0.12))
    fig.update_yaxes(range=[0, 100])
    return fig


def care_bars(care: pd.DataFrame, group_labels: dict[str, str], series: dict[str, str], title: str) -> go.Figure:
    """Care spend of the week per tier, with the care plan's weekly share as a marker where a plan is saved."""
    x = [group_labels[g] for g in care["tier"]]
    fig = go.Figure()
    fig.add_bar(x=x, y=care["spend"].astype(float).to_list(), name=series["spend"],
                marker_color=[TIER_COLORS.get(g, INACTIVE_COLOR) for g in care["tier"]],
                text=[f"¥{v:,.0f}" for v in care["spend"]], textposition="outside", cliponaxis=False)
    plan = care["plan"].astype(float)
    if plan.notna().any():
        fig.add_scatter(x=x, y=[None if math.isnan(v) else v for v in plan], mode="markers", name=series["plan"],
                        marker=dict(symbol="line-ew-open", size=60, line=dict(width=4, color=PLAN_COLOR)))
    _finish(fig, title)
    fig.update_layout(legend=dict(orientation="h", y=-0.12), showlegend=bool(plan.notna().any()))
    fig.update_yaxes(rangemode="tozero", tickformat=",.0f", tickprefix="¥")
    return fig
