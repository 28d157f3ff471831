"""Figures of the value and churn-risk analysis: lifetime value by tier, model vs. simple rule, model checks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboard.figures.theme import ACCENT, NEGATIVE, TIER_COLORS, styled
from dashboard.i18n import t
from vipmodel.value_summary import CLV_FLOOR, clv_boxes

INACTIVE_COLOR = "#AAB4C3"
SIMPLE_COLOR = "#D4A017"
LABEL_WRAP = 12  # display width (a CJK character counts two) after which a category label wraps onto a new line


def wrap_label(label: str, width: int = LABEL_WRAP) -> str:
    """``label`` broken into lines (``<br>``) of about ``width``, at spaces, or anywhere in CJK text, so that a
    category name is never cut off under a narrow chart."""
    lines, line = [], ""
    for word in label.split(" "):
        candidate = f"{line} {word}" if line else word
        if _width(candidate) <= width or not line:
            line = candidate
        else:
            lines.append(line)
            line = word
        if _width(line) > width and any(ord(ch) >= 0x2E80 for ch in line):  # CJK: break inside, in even parts
            parts = -(-_width(line) // width)
            size = -(-len(line) // parts)
            lines += [line[i:i + size] for i in range(0, len(line) - size, size)]
            line = line[len(line) - (len(line) - 1) % size - 1:]
    lines.append(line)
    return "<br>".join(part for part in lines if part)


def _width(text: str) -> int:
    return sum(2 if ord(ch) >= 0x2E80 else 1 for ch in text)


def clv_box_figure(boxes: dict[str, object], group_labels: dict[str, str], title: str, y_title: str) -> go.Figure:
    """Box plot of :func:`vipmodel.value_summary.clv_boxes`, one box per key of ``group_labels`` that has one (in
    its order), tier colours."""
    fig = go.Figure()
    for group, full_label in group_labels.items():
        stats = boxes["boxes"].get(group)
        if stats is None:
            continue
        label = wrap_label(full_label)
        color = TIER_COLORS.get(group, INACTIVE_COLOR)
        fig.add_box(
            x=[label], q1=[stats["q1"]], median=[stats["median"]], q3=[stats["q3"]],
            lowerfence=[stats["lowerfence"]], upperfence=[stats["upperfence"]],
            name=full_label, marker_color=color, boxpoints=False, hoverinfo="y",
        )
        if len(stats["outliers"]):
            fig.add_scatter(x=[label] * len(stats["outliers"]), y=stats["outliers"], mode="markers", name=full_label,
                            marker=dict(color=color, size=4, opacity=0.6), showlegend=False,
                            hovertemplate="%{y:,.0f}<extra>" + full_label + "</extra>")
    styled(fig, title)
    use_log = boxes["log"]
    fig.update_layout(height=420, showlegend=False, yaxis_title=y_title)
    # ",~g" keeps sub-unit decades readable on a log axis (",.0f" printed 0.01 as "0").
    fig.update_yaxes(type="log" if use_log else "linear", tickformat=",~g" if use_log else ",.0f")
    if use_log:  # from the floor up: the axis never runs down into decades where nobody is drawn
        fig.update_yaxes(autorangeoptions=dict(minallowed=float(np.log10(boxes.get("floor", CLV_FLOOR)))))
    fig.update_xaxes(automargin=True, tickangle=0)  # wrapped names, never cut off or slanted
    return fig


def clv_by_tier(
    frame: pd.DataFrame, group_labels: dict[str, str], title: str, y_title: str, log: bool | None = None
) -> go.Figure:
    """Box plot of ``model_clv`` per ``tier``: :func:`vipmodel.value_summary.clv_boxes` drawn by
    :func:`clv_box_figure`."""
    return clv_box_figure(clv_boxes(frame, list(group_labels), log), group_labels, title, y_title)


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


def tier_value_table(summary: pd.DataFrame, groups: dict[str, str], lang: str) -> tuple[pd.DataFrame, dict[str, str]]:
    """:func:`vipmodel.value_summary.tier_value_summary` translated, rows in the order of ``groups``, with formats."""
    names = {c: t(f"value.col.{c}", lang) for c in summary.columns}
    shown = summary.reindex([g for g in groups if g in summary.index]).rename(index=groups, columns=names)
    formats = {n: "int" if c == "members" else "money" for c, n in names.items()}
    return shown.reset_index(names=t("common.tier", lang)), formats
