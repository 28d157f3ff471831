"""Figures of the care what-if: retained value against care spend per tier, and the optimiser's budget split."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboard.figures.theme import ACCENT, TIER_COLORS, styled

TIERS = ("A", "B", "C", "D")
CURVE_COLUMNS = ("tier", "spend", "retained_value", "retained_value_p05", "retained_value_p95", "retained_value_zero")
POINT_COLUMNS = ("tier", "spend", "retained_value")


def _require(frame: pd.DataFrame, columns: tuple[str, ...], name: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{name} is missing required column(s): " + ", ".join(repr(c) for c in missing))


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
        tier's total annual care spend and ``retained_value_zero`` the retained value without any care.
    points : dict
        Plans to mark on the curves: legend label -> frame with columns :data:`POINT_COLUMNS`, one row per tier
        (rows of other "tiers", such as a ``total`` row, are ignored).
    tier_labels : dict
        Display name per tier code.
    labels : dict
        Legend names for keys ``"expected"``, ``"band"`` and ``"break_even"`` (retained value at zero care plus
        the spend: above that line the care pays for itself), and the axis titles ``"x"`` and ``"y"``.
    title : str

    Raises
    ------
    ValueError
        ``"curve is missing required column(s): 'spend'"``; ``"points['Current plan'] is missing required
        column(s): 'retained_value'"``.
    """
    _require(curve, CURVE_COLUMNS, "curve")
    for label, frame in points.items():
        _require(frame, POINT_COLUMNS, f"points[{label!r}]")
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
        ``"spend['Optimiser'] is missing required column(s): 'spend'"``.
    """
    fig = go.Figure()
    colours = ["#AAB4C3", ACCENT, "#27AE60", "#8E44AD"]
    for j, (series, frame) in enumerate(spend.items()):
        _require(frame, ("tier", "spend"), f"spend[{series!r}]")
        rows = frame.set_index("tier").reindex([t for t in TIERS if t in set(frame["tier"])])
        fig.add_bar(x=[tier_labels[t] for t in rows.index], y=rows["spend"].fillna(0.0).to_list(), name=str(series),
                    marker_color=colours[j % len(colours)])
    styled(fig, title)
    fig.update_layout(barmode="group", height=380, yaxis_title=axis_title, legend=dict(orientation="h", y=-0.15))
    return fig
