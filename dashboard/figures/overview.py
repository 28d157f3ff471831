"""Figures of the Overview page."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard.figures.theme import ACCENT, styled


def sparkline(df: pd.DataFrame, column: str, title: str, x_title: str = "") -> go.Figure:
    """A small line chart of ``column`` over ``week_end`` (columns: week_end, <column>)."""
    fig = go.Figure(
        go.Scatter(
            x=df["week_end"],
            y=df[column],
            mode="lines+markers",
            line=dict(color=ACCENT, width=2),
            marker=dict(size=4),
            hovertemplate="%{x|%Y-%m-%d}: %{y:,.0f}<extra></extra>",
        )
    )
    styled(fig, title)
    fig.update_layout(height=220, margin=dict(l=10, r=10, t=40, b=10), showlegend=False)
    fig.update_xaxes(title_text=x_title, showgrid=False, tickformat="%Y-%m")
    fig.update_yaxes(rangemode="tozero")
    return fig
