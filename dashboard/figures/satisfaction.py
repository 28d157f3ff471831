"""Figures of the satisfaction page: index by group with intervals, the experience − expectation gap, current vs.
suggested weights, and the importance–performance quadrant (Martilla & James 1977).

Pure builders: they take the frames of :mod:`vipmodel.satisfaction` plus already translated labels and return a
styled :class:`plotly.graph_objects.Figure`; they never call Streamlit. The translated names, display tables and
sentences are in :mod:`dashboard.figures.satisfaction_text`.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboard.figures.theme import ACCENT, NEGATIVE, TIER_COLORS, fixed_margins, merged, quick_figure, styled
from vipmodel.contracts import require_columns

NEUTRAL = "#AAB4C3"
# Where each quadrant's name sits (x = performance, y = importance): position in the plot area and its anchors.
_QUADRANT_CORNERS = {
    "keep_up": (1.0, 1.0, "right", "top"),
    "concentrate_here": (0.0, 1.0, "left", "top"),
    "low_priority": (0.0, 0.0, "left", "bottom"),
    "possible_overkill": (1.0, 0.0, "right", "bottom"),
}


def _nan_to_none(values: pd.Series | np.ndarray) -> list[float | None]:
    return [None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v) for v in values]


def _group_colors(groups: list[str]) -> list[str]:
    return [TIER_COLORS.get(g, ACCENT) for g in groups]


def index_bars(frame: pd.DataFrame, labels: dict[str, str], title: str, axis_title: str) -> go.Figure:
    """Mean satisfaction index per group (0–100) with its 95% interval as error bars.

    Parameters
    ----------
    frame : DataFrame
        :func:`vipmodel.satisfaction.index_by` rows: needs ``group``, ``n``, ``mean_index``, ``ci_low``,
        ``ci_high``. Groups with ``n == 0`` are left out; a NaN interval (one respondent) draws no error bar.
    labels : dict
        Display name per group code (tiers, ``inactive``); codes without a label are shown as they are.
    title, axis_title : str

    Raises
    ------
    ValueError
        ``"frame is missing columns: ci_low"`` (:func:`vipmodel.contracts.require_columns`).
    """
    require_columns(frame, ["group", "n", "mean_index", "ci_low", "ci_high"], "frame", allow_empty=True)
    rows = frame[frame["n"] > 0]
    groups = [str(g) for g in rows["group"]]
    mean = rows["mean_index"].to_numpy(float)
    x = [labels.get(g, g) for g in groups]
    bar = go.Bar(
        x=x,
        y=mean.tolist(),
        marker_color=_group_colors(groups),
        error_y=dict(
            type="data",
            symmetric=False,
            array=_nan_to_none(rows["ci_high"].to_numpy(float) - mean),
            arrayminus=_nan_to_none(mean - rows["ci_low"].to_numpy(float)),
            color="#444444",
        ),
        text=[f"{v:.1f}" for v in mean],
        textposition="inside",
        customdata=rows["n"].to_numpy(),
        hovertemplate="%{x}: %{y:.1f} (n = %{customdata})<extra></extra>",
    )
    layout = {"height": 360, "showlegend": False, "yaxis": {"title": {"text": axis_title}, "range": [0, 100]}}
    return quick_figure([bar], title, merged(layout, fixed_margins(x)))  # redrawn on every weight move


def gap_bars(frame: pd.DataFrame, labels: dict[str, str], title: str, axis_title: str) -> go.Figure:
    """Mean experience − expectation per group on the 1–7 scale; red below zero (expectations not met).

    ``frame`` needs ``group``, ``gap`` and ``n_gap`` (:func:`vipmodel.satisfaction.index_by`); groups where
    nobody stated an expectation (``n_gap == 0``) are left out.
    """
    require_columns(frame, ["group", "gap", "n_gap"], "frame", allow_empty=True)
    rows = frame[(frame["n_gap"] > 0) & frame["gap"].notna()]
    gap = rows["gap"].to_numpy(float)
    x = [labels.get(str(g), str(g)) for g in rows["group"]]
    bar = go.Bar(
        x=x,
        y=gap.tolist(),
        marker_color=[NEGATIVE if v < 0 else ACCENT for v in gap],
        text=[f"{v:+.2f}" for v in gap],
        textposition="outside",
        customdata=rows["n_gap"].to_numpy(),
        hovertemplate="%{x}: %{y:+.2f} (n = %{customdata})<extra></extra>",
    )
    span = max(float(np.abs(gap).max()) if len(gap) else 0.0, 0.25) * 1.3
    # The zero line is the axis' own (one layout key, not a shape): expectations met above it, unmet below.
    yaxis = {"title": {"text": axis_title}, "range": [-span, span], "zeroline": True, "zerolinecolor": "#444444",
             "zerolinewidth": 1}
    layout = {"height": 360, "showlegend": False, "yaxis": yaxis}
    return quick_figure([bar], title, merged(layout, fixed_margins(x)))  # redrawn on every weight move


def weight_bars(table: pd.DataFrame, dimension_labels: dict[str, str], series_labels: tuple[str, str],
                title: str) -> go.Figure:
    """Weights in force next to the suggested weights, the latter with their bootstrap 95% interval.

    ``table`` is :meth:`vipmodel.satisfaction.SuggestedWeights.table` (``dimension``, ``current``,
    ``suggested``, ``low``, ``high``); ``series_labels`` names (current, suggested).
    """
    require_columns(table, ["dimension", "current", "suggested", "low", "high"], "table", allow_empty=True)
    x = [dimension_labels.get(d, d) for d in table["dimension"]]
    suggested = table["suggested"].to_numpy(float)
    fig = go.Figure()
    fig.add_bar(x=x, y=table["current"].to_list(), name=series_labels[0], marker_color=NEUTRAL,
                texttemplate="%{y:.0%}", textposition="outside")
    fig.add_bar(
        x=x, y=suggested.tolist(), name=series_labels[1], marker_color=ACCENT,
        error_y=dict(type="data", symmetric=False, color="#444444",
                     array=_nan_to_none(table["high"].to_numpy(float) - suggested),
                     arrayminus=_nan_to_none(suggested - table["low"].to_numpy(float))),
        texttemplate="%{y:.0%}", textposition="inside",
    )
    styled(fig, title)
    fig.update_layout(barmode="group", height=340, yaxis_tickformat=".0%", legend=dict(orientation="h", y=-0.15))
    fig.update_yaxes(rangemode="tozero")
    return fig


def ipa_quadrant(frame: pd.DataFrame, dimension_labels: dict[str, str], quadrant_labels: dict[str, str],
                 title: str, axes: tuple[str, str]) -> go.Figure:
    """Importance–performance quadrant: x performance (0–100), y importance, with the two cut lines.

    Parameters
    ----------
    frame : DataFrame
        :func:`vipmodel.satisfaction.importance_performance` rows: needs ``dimension``, ``performance``,
        ``importance``, ``importance_low``, ``importance_high``, ``importance_cut``, ``performance_cut``.
    dimension_labels, quadrant_labels : dict
        Display names of the dimensions and of the four quadrants (``keep_up``, ``concentrate_here``,
        ``low_priority``, ``possible_overkill``).
    title : str
    axes : (str, str)
        Titles of the x (performance) and y (importance) axes.

    Raises
    ------
    ValueError
        ``"frame is missing columns: importance_cut"``, ``"frame is empty (no rows)"``
        (:func:`vipmodel.contracts.require_columns`).
    """
    require_columns(frame, ["dimension", "performance", "importance", "importance_low", "importance_high",
                            "importance_cut", "performance_cut"], "frame")
    perf, imp = frame["performance"].to_numpy(float), frame["importance"].to_numpy(float)
    perf_cut, imp_cut = float(frame["performance_cut"].iloc[0]), float(frame["importance_cut"].iloc[0])
    # Centre the view on the cross-hair so all four quadrants are visible whatever the values.
    half_x = max(float(np.abs(perf - perf_cut).max()) * 1.6, 5.0)
    highs = frame["importance_high"].to_numpy(float)
    top = float(np.nanmax(np.concatenate([imp, highs[~np.isnan(highs)]]))) if len(imp) else imp_cut
    half_y = max(top - imp_cut, imp_cut - 0.0) * 1.15
    x_range = [max(perf_cut - half_x, 0.0), min(perf_cut + half_x, 100.0)]
    y_range = [max(imp_cut - half_y, -0.02), imp_cut + half_y]
    fig = go.Figure()
    fig.add_scatter(
        x=perf.tolist(), y=imp.tolist(), mode="markers+text",
        text=[dimension_labels.get(d, d) for d in frame["dimension"]], textposition="middle right",
        marker=dict(size=16, color=ACCENT),
        error_y=dict(type="data", symmetric=False, color="#888888",
                     array=_nan_to_none(highs - imp),
                     arrayminus=_nan_to_none(imp - frame["importance_low"].to_numpy(float))),
        hovertemplate="%{text}: %{x:.1f} / %{y:.0%}<extra></extra>", showlegend=False,
    )
    fig.add_vline(x=perf_cut, line_dash="dash", line_color="#888888")
    fig.add_hline(y=imp_cut, line_dash="dash", line_color="#888888")
    for quadrant, (px, py, xanchor, yanchor) in _QUADRANT_CORNERS.items():
        fig.add_annotation(
            x=px, y=py, xref="x domain", yref="y domain", xanchor=xanchor, yanchor=yanchor, showarrow=False,
            text=f"<b>{quadrant_labels.get(quadrant, quadrant)}</b>", font=dict(color="#666666"),
        )
    styled(fig, title)
    fig.update_layout(height=420)
    fig.update_xaxes(title_text=axes[0], range=x_range)
    fig.update_yaxes(title_text=axes[1], range=y_range, tickformat=".0%")
    return fig
