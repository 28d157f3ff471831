"""Figures of the complaint-to-churn evidence: churn per group, forest plot of effects, the adjusted vs unadjusted
per-complaint odds ratios, correlations, the iceberg.

Every builder takes the output of :mod:`vipmodel.complaints` (or a frame built from it) plus labels that are already
translated, and never calls Streamlit. The labels, sentences and the frames these charts take are built by
:mod:`dashboard.figures.complaints_text`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go

from dashboard.figures.theme import ACCENT, NEGATIVE, styled

NONE_COLOR = "#AAB4C3"
SILENT_COLOR = "#1F4E79"
WATER_COLOR = "#5DADE2"


def _require(frame: pd.DataFrame, columns: Sequence[str], name: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{name} is missing columns: {', '.join(missing)}")


def churn_bars(
    table: pd.DataFrame,
    labels: Sequence[str],
    text: Sequence[str],
    title: str,
    reference: float | None = None,
    reference_label: str = "",
    y_title: str = "",
) -> go.Figure:
    """Churn rate per complaint group with its Wilson interval, a text per bar and a dashed reference line.

    ``table`` is :func:`vipmodel.complaints.churn_by_group` (``group``, ``churn_rate``, ``ci_low``, ``ci_high``);
    ``labels`` and ``text`` (e.g. member counts) have one entry per row. The no-complaint group is grey and open
    complaints red, so the eye finds the baseline and the worst case first.
    """
    _require(table, ["group", "churn_rate", "ci_low", "ci_high"], "table")
    if len(labels) != len(table) or len(text) != len(table):
        raise ValueError("labels and text need one entry per row of the table")
    colors = [NONE_COLOR if g == "none" else NEGATIVE if g == "unresolved" else ACCENT for g in table["group"]]
    fig = go.Figure(
        go.Bar(
            x=list(labels),
            y=table["churn_rate"].to_list(),
            error_y=dict(
                type="data",
                symmetric=False,
                array=(table["ci_high"] - table["churn_rate"]).to_list(),
                arrayminus=(table["churn_rate"] - table["ci_low"]).to_list(),
                color="#555555",
                thickness=1.5,
            ),
            marker_color=colors,
            text=list(text),
            textposition="inside",
            insidetextanchor="start",
            customdata=list(zip(table["ci_low"], table["ci_high"])),
            hovertemplate="%{x}: %{y:.1%} (%{customdata[0]:.1%} – %{customdata[1]:.1%})<br>%{text}<extra></extra>",
        )
    )
    if reference is not None:
        fig.add_hline(y=reference, line_dash="dash", line_color=NEGATIVE, annotation_text=reference_label,
                      annotation_position="top left")
    styled(fig, title)
    fig.update_layout(height=400, showlegend=False, yaxis_title=y_title, yaxis_tickformat=".0%",
                      yaxis_rangemode="tozero")
    return fig


def forest_plot(effects: pd.DataFrame, title: str, x_title: str = "") -> go.Figure:
    """Relative risk with its interval per row (top row first), on a log axis with the no-effect line at 1.

    ``effects`` has ``label``, ``relative_risk``, ``rr_low``, ``rr_high`` and ``significant`` (bool; intervals
    that include 1 are drawn hollow and grey, so "no evidence" does not look like an effect).
    """
    _require(effects, ["label", "relative_risk", "rr_low", "rr_high", "significant"], "effects")
    rows = effects.iloc[::-1]  # Plotly draws the first category at the bottom
    significant = rows["significant"].astype(bool)
    fig = go.Figure(
        go.Scatter(
            x=rows["relative_risk"].to_list(),
            y=rows["label"].to_list(),
            mode="markers",
            marker=dict(
                size=11,
                symbol=["square" if s else "square-open" for s in significant],
                color=[NEGATIVE if s else "#7F8C8D" for s in significant],
            ),
            error_x=dict(
                type="data",
                symmetric=False,
                array=(rows["rr_high"] - rows["relative_risk"]).to_list(),
                arrayminus=(rows["relative_risk"] - rows["rr_low"]).to_list(),
                color="#555555",
                thickness=1.5,
            ),
            customdata=list(zip(rows["rr_low"], rows["rr_high"])),
            hovertemplate="%{y}: %{x:.2f} (%{customdata[0]:.2f} – %{customdata[1]:.2f})<extra></extra>",
        )
    )
    fig.add_vline(x=1.0, line_dash="dash", line_color="#555555")
    styled(fig, title)
    fig.update_layout(height=max(260, 60 + 45 * len(rows)), showlegend=False, xaxis_title=x_title,
                      margin=dict(l=220))
    # Keep the no-effect line inside the plot even when every interval lies on one side of it.
    low = min(1.0, float(rows["rr_low"].min())) if len(rows) else 1.0
    high = max(1.0, float(rows["rr_high"].max())) if len(rows) else 1.0
    fig.update_xaxes(type="log", range=[math.log10(low) - 0.05, math.log10(high) + 0.05])
    return fig


def correlation_heatmap(matrix: pd.DataFrame, labels: Sequence[str], title: str) -> go.Figure:
    """A square correlation matrix (:func:`vipmodel.complaints.correlation_matrix`) on a fixed -1..1 diverging
    scale, so colours mean the same on every page and period; ``labels`` name its rows/columns in order."""
    if matrix.shape[0] != matrix.shape[1] or len(labels) != matrix.shape[0]:
        raise ValueError("matrix must be square with one label per row")
    fig = go.Figure(
        go.Heatmap(
            z=matrix.to_numpy(dtype=float),
            x=list(labels),
            y=list(labels),
            colorscale="RdBu",
            reversescale=True,
            zmin=-1,
            zmax=1,
            texttemplate="%{z:.2f}",
            hovertemplate="%{y} × %{x}: %{z:.2f}<extra></extra>",
        )
    )
    styled(fig, title)
    fig.update_layout(height=max(420, 40 * len(labels) + 160))
    fig.update_yaxes(autorange="reversed")
    return fig


def iceberg_figure(visible: float, silent: float, labels: tuple[str, str], title: str, y_title: str = "") -> go.Figure:
    """The visible tip (complaints received) above the waterline and the silent dissatisfied below it.

    ``labels`` names the (visible, silent) bars. Heights are to scale on purpose: the point of the figure is how
    small the tip is.
    """
    if visible < 0 or silent < 0:
        raise ValueError("visible and silent must be >= 0")
    fig = go.Figure(
        go.Bar(
            x=[0, 0],
            y=[visible, -silent],
            base=[0, 0],
            width=0.6,
            marker_color=[ACCENT, SILENT_COLOR],
            text=list(labels),
            textposition="outside",
            customdata=[visible, silent],
            hovertemplate="%{text}: %{customdata:,.0f}<extra></extra>",
        )
    )
    fig.add_hline(y=0, line_color=WATER_COLOR, line_width=3)
    styled(fig, title)
    fig.update_layout(height=420, showlegend=False, yaxis_title=y_title, bargap=0.3)
    fig.update_xaxes(visible=False, range=[-1, 1])
    # Both directions are member counts: label the side below the waterline without a minus sign.
    ticks = _nice_ticks(visible, silent)
    fig.update_yaxes(tickvals=ticks, ticktext=[f"{abs(v):,.0f}" for v in ticks], zeroline=False)
    return fig


def _nice_ticks(top: float, bottom: float) -> list[float]:
    """About five round tick values from ``-bottom`` to ``top`` (1, 2 or 5 times a power of ten apart)."""
    span = max(top, bottom, 1.0)
    raw = span / 4.0
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1.0, 2.0, 5.0, 10.0) if m * power >= raw)
    low, high = -math.ceil(bottom / step), math.ceil(top / step)
    return [k * step for k in range(low, high + 1)]


ADJUSTED_COLOR = NEGATIVE
UNADJUSTED_COLOR = "#7F8C8D"


def adjustment_plot(frame: pd.DataFrame, title: str, x_title: str = "") -> go.Figure:
    """Odds ratio with interval per complaint kind, one marker series per fit (in the order they first appear: the
    adjusted one first, in red), on a log axis with the no-association line at 1.

    ``frame`` has ``label``, ``model`` (the fit's translated name), ``odds_ratio``, ``or_low``, ``or_high``;
    the first row's kind is drawn on top.
    """
    _require(frame, ["label", "model", "odds_ratio", "or_low", "or_high"], "frame")
    fig = go.Figure()
    colors = [ADJUSTED_COLOR, UNADJUSTED_COLOR, "#B0BEC5"]
    for i, model in enumerate(pd.unique(frame["model"])):
        rows = frame[frame["model"] == model]
        fig.add_trace(go.Scatter(
            x=rows["odds_ratio"].to_list(), y=rows["label"].to_list(), name=str(model), mode="markers",
            orientation="h", offsetgroup=str(i),  # side by side within a kind (layout scattermode="group")
            marker=dict(size=10, symbol="circle" if i == 0 else "diamond-open", color=colors[min(i, 2)]),
            error_x=dict(type="data", symmetric=False, array=(rows["or_high"] - rows["odds_ratio"]).to_list(),
                         arrayminus=(rows["odds_ratio"] - rows["or_low"]).to_list(), color=colors[min(i, 2)],
                         thickness=1.5),
            customdata=list(zip(rows["or_low"], rows["or_high"])),
            hovertemplate="%{y}: %{x:.2f} (%{customdata[0]:.2f} – %{customdata[1]:.2f})<extra>" + str(model)
                          + "</extra>",
        ))
    fig.add_vline(x=1.0, line_dash="dash", line_color="#555555")
    styled(fig, title)
    labels = list(pd.unique(frame["label"]))
    fig.update_layout(height=max(300, 80 + 55 * len(labels)), xaxis_title=x_title, margin=dict(l=220),
                      legend=dict(orientation="h", y=-0.2), scattermode="group")
    fig.update_yaxes(categoryorder="array", categoryarray=labels[::-1])
    low = min(1.0, float(frame["or_low"].min())) if len(frame) else 1.0
    high = max(1.0, float(frame["or_high"].max())) if len(frame) else 1.0
    fig.update_xaxes(type="log", range=[math.log10(low) - 0.05, math.log10(high) + 0.05])
    return fig
