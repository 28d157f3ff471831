"""Figures of the care what-if: retained value against care spend per tier, and the optimiser's budget split.

Pure builders that never call Streamlit. The helpers at the end turn :mod:`vipmodel.care` results into translated
display tables and captions, and convert a care plan to and from the page's editable table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboard.figures.theme import ACCENT, TIER_COLORS, styled
from dashboard.i18n import fmt_number, t, tier_name
from vipmodel.care import CARE_KINDS, CarePlan, CareResponseModel
from vipmodel.contracts import require_columns

TIERS = ("A", "B", "C", "D")
CURVE_COLUMNS = ("tier", "spend", "retained_value", "retained_value_p05", "retained_value_p95", "retained_value_zero")
POINT_COLUMNS = ("tier", "spend", "retained_value")


def _rgba(hex_colour: str, alpha: float) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def spend_curves(
    curve: pd.DataFrame,
    points: dict[str, pd.DataFrame],
    tier_labels: dict[str, str],
    labels: dict[str, str],
    title: str,
) -> go.Figure:
    """Retained value against annual care spend, one panel per tier, with the 5–95% band of the care effect.

    Parameters
    ----------
    curve : DataFrame
        Columns :data:`CURVE_COLUMNS`, several spend levels per tier (e.g. multiples of a plan); ``spend`` is the
        tier's total annual care spend and ``retained_value_zero`` the retained value without any care. With a
        column ``supported_spend`` (the tier's spend at the care the history supports) the part of each panel
        beyond it is shaded and named ``labels["beyond"]``: there the curve is extrapolated.
    points : dict
        Plans to mark on the curves: legend label -> frame with columns :data:`POINT_COLUMNS`, one row per tier
        (rows of other "tiers", such as a ``total`` row, are ignored).
    tier_labels : dict
        Display name per tier code.
    labels : dict
        Legend names for keys ``"expected"``, ``"band"`` and ``"break_even"`` (retained value at zero care plus
        the spend: above that line the care pays for itself), the axis titles ``"x"`` and ``"y"``, and
        ``"beyond"`` when the curve has ``supported_spend``.
    title : str

    Raises
    ------
    ValueError
        ``"curve is missing columns: spend"``; ``"points['Current plan'] is missing columns: retained_value"``
        (:func:`vipmodel.contracts.require_columns`).
    """
    require_columns(curve, CURVE_COLUMNS, "curve", allow_empty=True)
    for label, frame in points.items():
        require_columns(frame, POINT_COLUMNS, f"points[{label!r}]", allow_empty=True)
    tiers = [t for t in TIERS if t in set(curve["tier"])]
    fig = make_subplots(rows=2, cols=2, subplot_titles=[tier_labels[t] for t in tiers], horizontal_spacing=0.12,
                        vertical_spacing=0.16)
    symbols = ["diamond", "circle", "square", "x"]
    for i, tier in enumerate(tiers):
        row, col = i // 2 + 1, i % 2 + 1
        rows = curve[curve["tier"] == tier].sort_values("spend")
        first = i == 0  # one legend entry per series, not per panel
        colour = TIER_COLORS[tier]
        fig.add_scatter(x=rows["spend"], y=rows["retained_value_p95"], mode="lines", line=dict(width=0),
                        showlegend=False, hoverinfo="skip", row=row, col=col)
        fig.add_scatter(x=rows["spend"], y=rows["retained_value_p05"], mode="lines", line=dict(width=0),
                        fill="tonexty", fillcolor=_rgba(colour, 0.25), name=labels["band"], legendgroup="band",
                        showlegend=first, hoverinfo="skip", row=row, col=col)
        fig.add_scatter(x=rows["spend"], y=rows["retained_value"], mode="lines", line=dict(color=colour, width=3),
                        name=labels["expected"], legendgroup="expected", showlegend=first, row=row, col=col)
        fig.add_scatter(x=rows["spend"], y=rows["retained_value_zero"] + rows["spend"], mode="lines",
                        line=dict(color="#888888", dash="dash", width=1.5), name=labels["break_even"],
                        legendgroup="break_even", showlegend=first, row=row, col=col)
        top = float(rows["spend"].max()) if len(rows) else 0.0
        supported = float(rows["supported_spend"].iloc[0]) if "supported_spend" in rows and len(rows) else np.inf
        if supported < top:
            # Shade what lies beyond the care the history supports: there the curve is the assumed shape only.
            axis = "" if i == 0 else str(i + 1)
            fig.add_vrect(x0=supported, x1=top, fillcolor="#F5B041", opacity=0.18, line_width=0, row=row, col=col)
            fig.add_annotation(x=supported, y=1, xref=f"x{axis}", yref=f"y{axis} domain", text=labels["beyond"],
                               showarrow=False, xanchor="left", yanchor="top", font=dict(size=11, color="#9C640C"))
        for j, (plan, frame) in enumerate(points.items()):
            mark = frame[frame["tier"] == tier]
            fig.add_scatter(x=mark["spend"], y=mark["retained_value"], mode="markers", name=str(plan),
                            marker=dict(symbol=symbols[j % len(symbols)], size=12, color=ACCENT if j else "#222222",
                                        line=dict(color="white", width=1)),
                            legendgroup=f"plan{j}", showlegend=first, row=row, col=col)
    styled(fig, title)
    fig.update_layout(height=620, legend=dict(orientation="h", y=-0.12))
    fig.update_xaxes(title_text=labels["x"], row=2)
    fig.update_yaxes(title_text=labels["y"], col=1)
    return fig


def allocation_bars(
    spend: dict[str, pd.DataFrame], tier_labels: dict[str, str], title: str, axis_title: str
) -> go.Figure:
    """Annual care spend per tier of several plans side by side (grouped bars).

    Parameters
    ----------
    spend : dict
        Legend label (e.g. "Current plan", "Edited plan", "Optimiser") -> frame with columns ``tier`` and ``spend``;
        rows of other "tiers", such as a ``total`` row, are ignored.
    tier_labels : dict
    title, axis_title : str

    Raises
    ------
    ValueError
        ``"spend['Optimiser'] is missing columns: spend"`` (:func:`vipmodel.contracts.require_columns`).
    """
    fig = go.Figure()
    colours = ["#AAB4C3", ACCENT, "#27AE60", "#8E44AD"]
    for j, (series, frame) in enumerate(spend.items()):
        require_columns(frame, ("tier", "spend"), f"spend[{series!r}]", allow_empty=True)
        rows = frame.set_index("tier").reindex([t for t in TIERS if t in set(frame["tier"])])
        fig.add_bar(x=[tier_labels[t] for t in rows.index], y=rows["spend"].fillna(0.0).to_list(), name=str(series),
                    marker_color=colours[j % len(colours)])
    styled(fig, title)
    fig.update_layout(barmode="group", height=380, yaxis_title=axis_title, legend=dict(orientation="h", y=-0.15))
    return fig


# --- Translated tables and captions; the plan editor's table --------------------------------------------------------
RESULT_KINDS = {"members": "int", "spend_per_member": "money", "supported_spend_per_member": "money",
                "spend": "money", "churn_rate": "percent", "retained_members": "int", "retained_value": "money",
                "retained_value_p05": "money", "retained_value_p95": "money", "incremental_value": "money",
                "roi": "percent", "break_even_spend_per_member": "money", "retained_value_difference": "money",
                "net_value_difference": "money"}
ALLOCATION_KINDS = {"members": "int", "spend_per_member": "money", "max_spend_per_member": "money",
                    "optimal_spend": "money", "retained_value": "money", "marginal_value_per_yuan": "number"}
# Columns shown as text (the extrapolation mark) after the formatted ones.
RESULT_COLUMNS = (*RESULT_KINDS, "extrapolated")
ALLOCATION_COLUMNS = (*ALLOCATION_KINDS, "extrapolated")
PLAN_KINDS = {"unit_cost": "money", "annual_cost_per_member": "money"}
_LABEL_KEYS = {"tier": "common.tier", "action": "care.action", "unit_cost": "care.unit_cost"}


def tier_table(frame: pd.DataFrame, kinds: dict[str, str], lang: str) -> tuple[pd.DataFrame, dict[str, str]]:
    """A per-tier table with tier and action names and column labels of the language, and its column formats.

    ``kinds`` maps columns to "money", "int", "percent" or "number"; money and member counts are rounded to whole
    numbers (decimals would be false precision).
    """
    shown = frame.assign(tier=[tier_name(k, lang) if k in TIERS else t("care.total", lang) for k in frame["tier"]])
    if "action" in shown:
        shown["action"] = [t(f"care.action.{k}", lang) for k in shown["action"]]
    if "extrapolated" in shown:
        shown["extrapolated"] = [t("care.beyond_history", lang) if flag else "" for flag in shown["extrapolated"]]
    for column in [c for c, k in kinds.items() if k in ("money", "int") and c in shown]:
        shown[column] = shown[column].round(0)
    names = {c: t(_LABEL_KEYS.get(c, f"care.col.{c}"), lang) for c in shown.columns}
    return shown.rename(columns=names), {names[c]: k for c, k in kinds.items() if c in names}


def _c0_numbers(model: CareResponseModel, lang: str) -> dict[str, str]:
    low, high = model.c0_interval_ if np.isfinite(model.c0_interval_).all() else (model.c0_, model.c0_)
    return {"c0": fmt_number(model.c0_, lang), "c0_low": fmt_number(low, lang), "c0_high": fmt_number(high, lang)}


def model_caption(model: CareResponseModel, lang: str) -> str:
    """What the care response model was fitted on, its care effect and c0 with the 95% intervals of its draws."""
    low, high = np.quantile(model.beta_draws_, [0.025, 0.975])
    return t("care.model_caption", lang, rows=fmt_number(model.n_rows_, lang),
             method=t(f"care.method.{model.method}", lang), beta=f"{model.beta_:.2f}", low=f"{low:.2f}",
             high=f"{high:.2f}", **_c0_numbers(model, lang))


def assumptions_text(model: CareResponseModel, lang: str) -> str:
    """The assumptions behind the what-if (response shape with the estimated c0, confounding, what the bands
    include) as Markdown bullets."""
    return t("care.assumptions", lang, **_c0_numbers(model, lang))


def support_caption(model: CareResponseModel, lang: str) -> str:
    """The care per member and year the history supports in each tier."""
    ranges = " · ".join(f"{tier_name(k, lang)} ¥0 – ¥{fmt_number(model.care_support_[k], lang)}" for k in TIERS)
    return t("care.support_caption", lang, q=f"{100 * model.support_quantile:g}", ranges=ranges)


def extrapolated_tiers(frame: pd.DataFrame, lang: str) -> str:
    """Names of the tiers of a simulation or allocation table marked ``extrapolated`` ("" when none)."""
    rows = frame[frame["tier"].isin(TIERS) & frame["extrapolated"].astype(bool)]
    return "、".join(tier_name(k, lang) for k in rows["tier"]) if lang == "zh" else ", ".join(
        tier_name(k, lang) for k in rows["tier"])


def editor_frame(plan: CarePlan, lang: str) -> pd.DataFrame:
    """The plan as the editable table: one row per care action, its name, unit cost and times per year per tier."""
    frame = pd.DataFrame({t("care.action", lang): [t(f"care.action.{k}", lang) for k in CARE_KINDS],
                          "unit_cost": [plan.unit_costs[k] for k in CARE_KINDS]}, index=list(CARE_KINDS))
    return frame.join(pd.DataFrame(plan.per_year))


def plan_from_editor(frame: pd.DataFrame, scale: float) -> CarePlan:
    """The edited table back as a plan, every frequency times ``scale`` (raises CarePlan's ValueError)."""
    values = frame.fillna(0.0)  # a cleared cell arrives as NaN and means "none of this action"
    per_year = {k: (values[k] * scale).to_dict() for k in TIERS}
    return CarePlan(per_year=per_year, unit_costs=values["unit_cost"].to_dict())


# The optimiser's care range as multiples of what the history supports; 0 means no limit but the actions'.
SUPPORT_SCALES: tuple[float, ...] = (1.0, 1.5, 2.0, 3.0, 5.0, 0.0)


def widen_label(scale: float, lang: str) -> str:
    """How a choice of :data:`SUPPORT_SCALES` reads in the optimiser's range control."""
    key = "care.widen.within" if scale == 1 else "care.widen.none" if scale == 0 else "care.widen.scale"
    return t(key, lang, scale=f"{scale:g}")
