"""Figures of the value and churn-risk analysis: lifetime value by tier, model vs. simple rule, model checks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboard.figures.theme import ACCENT, NEGATIVE, TIER_COLORS, styled
from dashboard.i18n import t

INACTIVE_COLOR = "#AAB4C3"
SIMPLE_COLOR = "#D4A017"
SKEW_DECADES = 2.0


def is_skewed(values: pd.Series | np.ndarray, decades: float = SKEW_DECADES) -> bool:
    """True when the positive values span more than ``decades`` powers of ten between their 5th and 95th percentile.

    Lifetime values are heavy tailed (a few platinum members are worth a thousand iron ones); on a linear axis the
    boxes of the lower tiers collapse to a line, so a log axis is used when this holds.
    """
    positive = np.asarray(values, dtype=float)
    positive = positive[np.isfinite(positive) & (positive > 0)]
    if len(positive) < 2:
        return False
    low, high = np.percentile(positive, [5, 95])
    return bool(high / low > 10**decades)


def clv_by_tier(
    frame: pd.DataFrame, group_labels: dict[str, str], title: str, y_title: str, log: bool | None = None
) -> go.Figure:
    """Box plot of ``model_clv`` per ``tier``, one box per key of ``group_labels`` (in its order), tier colours.

    ``frame`` needs ``tier`` and ``model_clv``; groups missing from ``frame`` are left out. ``log`` None decides by
    :func:`is_skewed`; on a log axis members with a value of 0 cannot be drawn (the caller says how many).
    """
    missing = [c for c in ("tier", "model_clv") if c not in frame.columns]
    if missing:
        raise ValueError("frame is missing required column(s): " + ", ".join(repr(c) for c in missing))
    use_log = is_skewed(frame["model_clv"]) if log is None else log
    fig = go.Figure()
    for group, label in group_labels.items():
        values = frame.loc[frame["tier"] == group, "model_clv"].astype(float)
        if use_log:
            values = values[values > 0]
        if values.empty:
            continue
        fig.add_box(
            y=values.to_list(),
            name=label,
            marker_color=TIER_COLORS.get(group, INACTIVE_COLOR),
            boxpoints="outliers",
            hovertemplate="%{y:,.0f}<extra>" + label + "</extra>",
        )
    styled(fig, title)
    fig.update_layout(height=420, showlegend=False, yaxis_title=y_title)
    fig.update_yaxes(type="log" if use_log else "linear", tickformat=",.0f")
    return fig


def model_vs_simple(
    totals: pd.DataFrame, group_labels: dict[str, str], series_labels: dict[str, str], title: str
) -> go.Figure:
    """Grouped bars per group of the model and the simple-rule value (``series_labels`` keys are the columns).

    ``totals`` is indexed by group; the first series takes the accent colour, the second the simple rule's.
    """
    rows = totals.reindex([g for g in group_labels if g in totals.index])
    fig = go.Figure()
    for (column, label), color in zip(series_labels.items(), (ACCENT, SIMPLE_COLOR)):
        fig.add_bar(
            x=[group_labels[g] for g in rows.index],
            y=rows[column].to_list(),  # NaN (undefined) draws no bar rather than a bar at 0
            name=label,
            marker_color=color,
            hovertemplate="%{x}: %{y:,.0f}<extra>" + label + "</extra>",
        )
    styled(fig, title)
    fig.update_layout(barmode="group", height=420, yaxis_tickformat=",.0f", legend=dict(orientation="h", y=-0.15))
    return fig


def holdout_fit(
    table: pd.DataFrame, series_labels: dict[str, str], title: str, x_title: str, y_title: str
) -> go.Figure:
    """Actual vs. predicted mean holdout purchases per number of calibration repeat purchases (FHL 2005, fig. 4).

    ``table`` is :func:`vipmodel.clv.holdout_fit_table` (``frequency``, ``customers``, ``actual``, ``predicted``);
    ``series_labels`` maps ``actual`` and ``predicted`` to legend names.
    """
    fig = go.Figure()
    for column, color in (("actual", INACTIVE_COLOR), ("predicted", ACCENT)):
        fig.add_bar(
            x=table["frequency"].astype(str).to_list(),
            y=table[column].astype(float).to_list(),
            name=series_labels[column],
            marker_color=color,
            customdata=table["customers"].to_list(),
            hovertemplate="%{x}: %{y:.2f} (n = %{customdata:,})<extra>" + series_labels[column] + "</extra>",
        )
    styled(fig, title)
    fig.update_layout(barmode="group", height=380, xaxis_title=x_title, yaxis_title=y_title,
                      xaxis_type="category", legend=dict(orientation="h", y=-0.2))
    return fig


def risk_calibration(calibration: pd.DataFrame, series_labels: dict[str, str], title: str, x_title: str) -> go.Figure:
    """Mean predicted churn risk and the churn rate that followed, per score decile (1 = lowest risk).

    ``calibration`` is ``RiskEvaluation.calibration`` (``decile``, ``members``, ``mean_score``, ``churn_rate``);
    ``series_labels`` maps ``mean_score`` and ``churn_rate`` to legend names. A calibrated score has the two lines
    on top of each other; a useful one rises from left to right.
    """
    fig = go.Figure()
    for column, color, dash in (("mean_score", ACCENT, "dash"), ("churn_rate", NEGATIVE, "solid")):
        fig.add_scatter(
            x=calibration["decile"].to_list(),
            y=calibration[column].astype(float).to_list(),
            name=series_labels[column],
            mode="lines+markers",
            line=dict(color=color, dash=dash),
            customdata=calibration["members"].to_list(),
            hovertemplate="%{x}: %{y:.1%} (n = %{customdata:,})<extra>" + series_labels[column] + "</extra>",
        )
    styled(fig, title)
    fig.update_layout(height=380, xaxis_title=x_title, yaxis_tickformat=".0%", yaxis_rangemode="tozero",
                      xaxis=dict(tickmode="linear", dtick=1), legend=dict(orientation="h", y=-0.2))
    return fig


def tier_value_table(frame: pd.DataFrame, groups: dict[str, str], lang: str) -> tuple[pd.DataFrame, dict[str, str]]:
    """Members, total and median lifetime value (model and simple rule) per tier group, translated, with formats.

    ``frame`` has ``tier`` (a key of ``groups``, whose order the rows follow), ``model_clv`` and ``simple_clv``; an
    undefined simple value (NaN) stays undefined in the totals instead of counting as 0.
    """
    by_group = frame.groupby("tier")[["model_clv", "simple_clv"]]
    summary = pd.concat([by_group.size().rename("members"), by_group.sum(min_count=1).add_suffix("_total"),
                         by_group.median().add_suffix("_median")], axis=1)
    names = {c: t(f"value.col.{c}", lang) for c in summary.columns}
    shown = summary.reindex([g for g in groups if g in summary.index]).rename(index=groups, columns=names)
    formats = {n: "int" if c == "members" else "money" for c, n in names.items()}
    return shown.reset_index(names=t("common.tier", lang)), formats
