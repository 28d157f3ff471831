"""Figures of the satisfaction page: index by group with intervals, the experience − expectation gap, current vs.
suggested weights, and the importance–performance quadrant (Martilla & James 1977).

Pure builders: they take the frames of :mod:`vipmodel.satisfaction` plus already translated labels and return a
styled :class:`plotly.graph_objects.Figure`; they never call Streamlit. The helpers at the end turn the analysis'
codes and results into translated labels, display tables and sentences.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboard.figures.theme import ACCENT, NEGATIVE, TIER_COLORS, fixed_margins, merged, quick_figure, styled
from dashboard.i18n import fmt_date, fmt_number, fmt_percent, t, tier_name
from vipmodel.satisfaction import (DIMENSIONS, ORDER_PROBABILITY_THRESHOLD, QUADRANTS, InsufficientSurveyData,
                                   SatisfactionWeights, SuggestedWeights, WeightEvaluation)

NEUTRAL = "#AAB4C3"
# Where each quadrant's name sits (x = performance, y = importance): position in the plot area and its anchors.
_QUADRANT_CORNERS = {
    "keep_up": (1.0, 1.0, "right", "top"),
    "concentrate_here": (0.0, 1.0, "left", "top"),
    "low_priority": (0.0, 0.0, "left", "bottom"),
    "possible_overkill": (1.0, 0.0, "right", "bottom"),
}


def _require(frame: pd.DataFrame, columns: list[str], name: str) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"{name} must be a pandas DataFrame, got {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{name} is missing required column(s): " + ", ".join(repr(c) for c in missing))


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
        ``"frame is missing required column(s): 'ci_low'"``.
    """
    _require(frame, ["group", "n", "mean_index", "ci_low", "ci_high"], "frame")
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
    _require(frame, ["group", "gap", "n_gap"], "frame")
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
    _require(table, ["dimension", "current", "suggested", "low", "high"], "table")
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
    """
    _require(frame, ["dimension", "performance", "importance", "importance_low", "importance_high",
                     "importance_cut", "performance_cut"], "frame")
    if frame.empty:
        raise ValueError("frame has no rows")
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


# --- Translated labels, tables and sentences ----------------------------------------------------------------------
PERCENT_INDICATORS = ("purchase_rate", "repeat_purchase_rate", "retention_rate")
IPA_COLUMNS = ("dimension", "quadrant", "performance", "importance", "current_weight")


def dimension_names(lang: str) -> dict[str, str]:
    """Display name of each survey dimension."""
    return {d: t(f"sat.dim.{d}", lang) for d in DIMENSIONS}


def quadrant_names(lang: str) -> dict[str, str]:
    """Display name of each importance-performance quadrant."""
    return {q: t(f"sat.quadrant.{q}", lang) for q in QUADRANTS}


def group_names(lang: str) -> dict[str, str]:
    """Display names of the index groups: tiers, members without a tier, an unknown store."""
    return {**{k: tier_name(k, lang) for k in "ABCD"}, "inactive": t("sat.inactive", lang),
            "unknown": t("sat.unknown_store", lang)}


def ipa_table(ipa: pd.DataFrame, lang: str) -> tuple[pd.DataFrame, dict[str, str]]:
    """The importance-performance frame with translated names and headers, and the formats of its share columns."""
    shown = ipa.assign(dimension=ipa["dimension"].map(dimension_names(lang)),
                       quadrant=ipa["quadrant"].map(quadrant_names(lang)),
                       performance=ipa["performance"].round(1))[list(IPA_COLUMNS)]
    names = {c: t(f"sat.col.{c}", lang) for c in IPA_COLUMNS}
    return shown.rename(columns=names), {names[c]: "percent" for c in IPA_COLUMNS[3:]}


def loyalty_table(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Loyalty indicators (``indicator``, ``value``, ``previous``, ``n``) translated, rates as percentages."""
    names = frame["indicator"]

    def shown(values: pd.Series) -> list[str]:
        return [fmt_percent(v, lang) if n in PERCENT_INDICATORS else fmt_number(v, lang, 2)
                for n, v in zip(names, values)]

    table = frame.assign(indicator=[t(f"sat.loyalty.{n}", lang) for n in names], value=shown(frame["value"]),
                         previous=shown(frame["previous"]))[["indicator", "value", "previous", "n"]]
    return table.rename(columns=lambda c: t(f"sat.col.{c}", lang))


def weights_text(weights: SatisfactionWeights, lang: str) -> str:
    """The normalised weights in one line, e.g. "Normalised: Product quality **50.0%** · ..."."""
    return t("sat.normalised", lang) + " · ".join(
        f"{label} **{fmt_percent(w, lang)}**" for label, w in zip(dimension_names(lang).values(), weights.as_array()))


def insufficient_text(exc: InsufficientSurveyData, panel_empty: bool, end: dt.date, lang: str) -> str:
    """Why the weights cannot be judged. An empty churn panel is the commonest cause on real data (too little
    history), which the analysis' message would not say."""
    if panel_empty:
        return t("sat.no_panel", lang, date=fmt_date(end, lang))
    return t("sat.insufficient", lang, reason=str(exc))


def ci_text(low: float, high: float, lang: str, decimals: int = 3) -> str:
    """A 95% confidence interval in words."""
    return t("sat.ci", lang, low=fmt_number(low, lang, decimals), high=fmt_number(high, lang, decimals))


def evaluation_sentence(ev: WeightEvaluation, lang: str) -> str:
    """How well the weights explain what members did next, saying so plainly when it is no better than chance."""
    return t("sat.eval." + ("chance" if ev.auc_low <= 0.5 else "some"), lang, auc=fmt_percent(ev.auc, lang, 0),
             n=fmt_number(ev.n, lang), churned=fmt_number(ev.n_churned, lang))


def gain_sentence(suggested: SuggestedWeights, lang: str) -> str:
    """What the suggested weights gain in AUC on members the fit never saw (cross-fitted), saying so plainly when
    the gain is within the noise."""
    tiny = suggested.auc_gain_low <= 0.0 or abs(suggested.auc_gain) < 0.01
    return t("sat.gain." + ("tiny" if tiny else "real"), lang, gain=f"{suggested.auc_gain:+.3f}",
             low=f"{suggested.auc_gain_low:+.3f}", high=f"{suggested.auc_gain_high:+.3f}",
             p=fmt_number(suggested.lr_pvalue, lang, 2))


def suggested_caption(suggested: SuggestedWeights, lang: str) -> str:
    """How the weights were fitted and resampled: member-years, members, bootstrap draws of whole members."""
    return t("sat.suggested_caption", lang, n=fmt_number(suggested.n, lang), boot=suggested.n_boot,
             members=fmt_number(suggested.n_members, lang))


def suggested_metrics(suggested: SuggestedWeights, lang: str) -> list[tuple[str, str, str]]:
    """``(label, value, help)`` of the two headline numbers of the suggested weights: the share of bootstrap draws
    keeping their order, and the AUC gain on members the fit never saw (with the optimistic in-sample figure in
    the help for comparison)."""
    threshold = fmt_percent(ORDER_PROBABILITY_THRESHOLD, lang, 0)
    return [
        (t("sat.order.metric", lang), fmt_percent(suggested.order_probability, lang, 0),
         t("sat.order.help", lang, boot=suggested.n_boot, threshold=threshold)),
        (t("sat.gain.metric", lang), f"{suggested.auc_gain:+.3f}",
         t("sat.gain.help", lang, folds=suggested.folds, in_sample=f"{suggested.auc_gain_in_sample:+.3f}")),
    ]


def order_sentence(suggested: SuggestedWeights, lang: str) -> tuple[str, bool]:
    """Whether the data tells the three weights apart, in words, and whether it does: the order is established
    when it holds in at least :data:`vipmodel.satisfaction.ORDER_PROBABILITY_THRESHOLD` of the bootstrap draws;
    otherwise the sentence names the neighbouring pair that swaps most often."""
    if math.isnan(suggested.order_probability):
        return t("sat.order.no_bootstrap", lang), False
    names = dimension_names(lang)
    values = {"order": " > ".join(names[d] for d in suggested.order),
              "share": fmt_percent(suggested.order_probability, lang, 0),
              "threshold": fmt_percent(ORDER_PROBABILITY_THRESHOLD, lang, 0)}
    if suggested.order_established:
        return t("sat.order.established", lang, **values), True
    higher, lower, pair = suggested.weakest_pair()
    return t("sat.order.unclear", lang, higher=names[higher], lower=names[lower], pair=fmt_percent(pair, lang, 0),
             **values), False
