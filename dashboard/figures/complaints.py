"""Figures of the complaint-to-churn evidence: churn per group, forest plot of effects, the adjusted vs unadjusted
per-complaint odds ratios, correlations, the iceberg.

Every builder takes the output of :mod:`vipmodel.complaints` (or a frame built from it) plus labels that are already
translated, and never calls Streamlit. The helpers at the end turn the analysis' language-neutral codes and
:class:`~vipmodel.complaints.Effect` template arguments into the translated labels and sentences.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go

from dashboard.figures.theme import ACCENT, NEGATIVE, styled
from dashboard.i18n import fmt_number, t, tier_name
from vipmodel.complaints import (
    COUNT_COLUMNS, MIN_EXPECTED, RESOLUTION_EDGES, AdjustedEffects, Effect, GroupTest, RegressionResult,
)
from vipmodel.outcomes import SLOW_AFTER_DAYS

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


# --------------------------------------------------------------------------------------------- labels and sentences
# The analysis speaks in language-neutral codes; these turn them into the words on the axes, tables and sentences.
_ERRORS: dict[str, str] = {
    "too few member-years": "cpl.err.too_few",
    "churned has only one value": "cpl.err.one_outcome",
    "panel has no member with a complaint": "cpl.err.no_complainer",
    "regression could not be estimated: ": "cpl.err.not_estimated",
    "no member-year has a complete satisfaction survey": "cpl.err.no_survey",
}


def group_label(code: str, lang: str) -> str:
    """A group code of :func:`vipmodel.complaints.churn_by_group` (``"none"``, ``"le_7d"``...) in ``lang``."""
    edges = [f"{e:g}" for e in RESOLUTION_EDGES]
    if code.startswith(("le_", "gt_")) and code[3:-1] in edges:
        i = edges.index(code[3:-1])
        if code.startswith("gt_"):
            return t("cpl.group.res_over", lang, low=edges[i])
        if i == 0:
            return t("cpl.group.res_first", lang, high=edges[i])
        return t("cpl.group.res_between", lang, low=edges[i - 1], high=edges[i])
    return t(f"cpl.group.{code}", lang, days=SLOW_AFTER_DAYS)


def kind_label(column: str, lang: str) -> str:
    """A complaint count column (``"service_unresolved"``) as a short label ("Service, unresolved")."""
    category, status = column.split("_", 1)
    return t("cpl.kind", lang, cat=t(f"cpl.kind_cat.{category}", lang),
             status=t(f"cpl.kind_status.{status}", lang, days=SLOW_AFTER_DAYS))


def _who(code: str, lang: str) -> str:
    if code == "none":
        return t("cpl.who.none", lang)
    category, status = code.split("_", 1)
    return t(f"cpl.who.{status}", lang, cat=t(f"cpl.cat.{category}", lang), days=SLOW_AFTER_DAYS)


def effect_sentence(effect: Effect, lang: str) -> str:
    """The effect as one plain sentence in ``lang`` from its template key and arguments, e.g. "Members with an
    unresolved service complaint churned 2.6× as often as members with no complaint (95% CI 2.3–3.0)."; an
    interval that includes 1 adds "not statistically significant"."""
    args = {**effect.template_args(), "group": _who(effect.exposed_label, lang),
            "reference": _who(effect.reference_label, lang)}
    return t(effect.template_key + ("" if effect.significant else ".not_significant"), lang, **args)


def effects_frame(effects: Sequence[Effect], lang: str) -> pd.DataFrame:
    """The input of :func:`forest_plot`: one row per effect, in the given order, labelled in ``lang``."""
    return pd.DataFrame(
        [{"label": kind_label(e.exposed_label, lang), "relative_risk": e.relative_risk, "rr_low": e.rr_low,
          "rr_high": e.rr_high, "significant": e.significant} for e in effects],
        columns=["label", "relative_risk", "rr_low", "rr_high", "significant"],
    )


def effects_caption(effects: Sequence[Effect], lang: str) -> str:
    """What the relative risks compare (not adjusted), and the complaint kinds nobody had."""
    missing = [c for c in COUNT_COLUMNS if c not in {e.exposed_label for e in effects}]
    text = t("cpl.effects_caption", lang)
    return text + (" " + t("cpl.effects_missing", lang, kinds=", ".join(kind_label(c, lang) for c in missing))
                   if missing else "")


def feature_label(column: str, lang: str) -> str:
    """A column of :func:`vipmodel.complaints.correlation_matrix` in ``lang``."""
    return kind_label(column, lang) if column in COUNT_COLUMNS else t(f"cpl.feature.{column}", lang)


def correlation_caption(matrix: pd.DataFrame, lang: str) -> str:
    """How to read the matrix, and the constant columns it left out."""
    constant = matrix.attrs.get("constant_columns") or []
    text = t("cpl.corr_caption", lang)
    return text + (" " + t("cpl.corr_constant", lang, columns=", ".join(feature_label(c, lang) for c in constant))
                   if constant else "")


def p_text(p: float, lang: str) -> str:
    """``"< 0.001"`` or ``"= 0.042"``: a p-value as read aloud in a meeting."""
    return "< 0.001" if p < 0.001 else f"= {fmt_number(p, lang, 3)}"


def explain_error(exc: ValueError, lang: str) -> str:
    """The analysis' ValueError in ``lang`` when it is a known one, else its message as it is."""
    message = str(exc)
    key = next((k for prefix, k in _ERRORS.items() if message.startswith(prefix)), None)
    return t(key, lang, reason=message.split(": ", 1)[-1]) if key else message


def group_test_text(test: GroupTest, lang: str) -> str:
    """The chi-square / Fisher test of :func:`vipmodel.complaints.group_difference_test` as sentences, saying
    whether the difference is significant at 5% and when small groups make the p-value approximate."""
    text = [t(f"cpl.test.{test.test}", lang, stat=fmt_number(test.statistic, lang, 1), dof=test.dof,
              p=p_text(test.p_value, lang), n=fmt_number(test.n, lang)),
            t("cpl.test.significant" if test.p_value < 0.05 else "cpl.test.not_significant", lang)]
    if test.test == "pearson_chi2" and test.min_expected < MIN_EXPECTED:
        text.append(t("cpl.test.small_expected", lang))
    return " ".join(text)


def _controls_text(result: RegressionResult, lang: str) -> str:
    names = [t(f"cpl.control.{c}", lang, tier=tier_name(result.reference_tier or "", lang)) for c in result.controls]
    return t("cpl.adj.and", lang).join([t("cpl.adj.sep", lang).join(names[:-1]), names[-1]]) if len(names) > 1 \
        else "".join(names)


def _ratio(x: float) -> str:
    return f"{x:.2f}"


def adjusted_sentences(effects: AdjustedEffects, lang: str) -> list[str]:
    """One sentence per complaint kind, the headline fit's odds ratio worded as an association adjusted for its
    controls (named), with the same members' figure without the satisfaction adjustment next to it."""
    head = effects.headline
    same = effects.same_sample.table if effects.same_sample is not None else None
    out = []
    for term, row in head.complaint_effects().iterrows():
        category, status = term.split("_", 1)
        args = {"kind": t(f"cpl.adj.kind.{status}", lang, cat=t(f"cpl.cat.{category}", lang), days=SLOW_AFTER_DAYS),
                "ratio": _ratio(row["odds_ratio"]), "low": _ratio(row["or_low"]), "high": _ratio(row["or_high"]),
                "level": f"{head.confidence:.0%}", "controls": _controls_text(head, lang)}
        text = t("cpl.adj.sentence", lang, **args)
        if row["or_low"] <= 1.0 <= row["or_high"]:
            text += t("cpl.adj.not_significant", lang)
        if same is not None and term in same.index:
            text += t("cpl.adj.without", lang, ratio=_ratio(same.loc[term, "odds_ratio"]))
        out.append(text)
    return out


def adjusted_caption(effects: AdjustedEffects, lang: str) -> str:
    """What the headline figures are adjusted for, on which member-years, that they are associations, and how
    intervals and handling status are defined; or, without a usable survey, why satisfaction is not controlled."""
    head = effects.headline
    numbers = {"n": fmt_number(head.n, lang), "members": fmt_number(head.n_clusters, lang),
               "excluded": fmt_number(head.n_excluded, lang), "controls": _controls_text(head, lang)}
    text = [t("cpl.adj.caption" if effects.adjusted is not None else "cpl.adj.caption_unadjusted", lang, **numbers),
            t("cpl.adj.association", lang), t("cpl.adj.clustered", lang), t("cpl.adj.status", lang)]
    if head.dropped_terms:
        text.append(t("cpl.reg_dropped", lang, kinds=", ".join(kind_label(c, lang) for c in head.dropped_terms)))
    return " ".join(text)


def adjustment_fallback(effects: AdjustedEffects, lang: str) -> str | None:
    """The warning when satisfaction could not be controlled for (None when it was)."""
    if effects.adjusted is not None:
        return None
    return t("cpl.adj.fallback", lang, reason=explain_error(ValueError(effects.adjusted_error or ""), lang),
             controls=_controls_text(effects.unadjusted, lang))


def comparison_frame(effects: AdjustedEffects, lang: str) -> pd.DataFrame:
    """The input of :func:`adjustment_plot`: each fit's odds ratio per complaint kind, labelled in ``lang``
    (adjusted first)."""
    frame = effects.comparison()
    return pd.DataFrame({
        "label": [kind_label(term, lang) for term in frame["term"]],
        "model": [t(f"cpl.adj.model.{m}", lang) for m in frame["model"]],
        "odds_ratio": frame["odds_ratio"], "or_low": frame["or_low"], "or_high": frame["or_high"],
    })


def comparison_table(effects: AdjustedEffects, lang: str) -> pd.DataFrame:
    """One row per complaint kind, one column per fit: "odds ratio (interval)", the adjusted one first."""
    frame = effects.comparison()
    cells = frame.assign(cell=[f"{_ratio(r)} ({_ratio(lo)}–{_ratio(hi)})"
                               for r, lo, hi in zip(frame["odds_ratio"], frame["or_low"], frame["or_high"])])
    wide = cells.pivot(index="term", columns="model", values="cell")
    models = [m for m in ("adjusted", "same_sample", "unadjusted") if m in wide.columns]
    terms = [c for c in COUNT_COLUMNS if c in wide.index]
    out = wide.loc[terms, models].rename(columns=lambda m: t(f"cpl.adj.model.{m}", lang))
    out = out.rename_axis(columns=None).reset_index(drop=True)
    out.insert(0, t("cpl.adj.col.kind", lang), [kind_label(c, lang) for c in terms])
    return out


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
