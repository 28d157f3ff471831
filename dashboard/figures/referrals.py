"""Figures of the referral analysis: referral rate per group against the documents' 25 per 100, referred vs. other."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard.figures.theme import ACCENT, NEGATIVE, TIER_COLORS, styled

OTHER_COLOR = "#AAB4C3"


def _error(frame: pd.DataFrame, column: str) -> dict:
    """Asymmetric error bars from ``<column>_low`` / ``<column>_high`` (none where a bound is missing)."""
    value = frame[column]
    return dict(
        type="data",
        symmetric=False,
        array=(frame[f"{column}_high"] - value).fillna(0).to_list(),
        arrayminus=(value - frame[f"{column}_low"]).fillna(0).to_list(),
        color="#555555",
        thickness=1.5,
    )


def rate_bars(
    rates: pd.DataFrame,
    group_labels: dict[str, str],
    title: str,
    reference: float | None = None,
    reference_label: str = "",
    y_title: str = "",
) -> go.Figure:
    """Referrals per 100 members per group with the exact 95% interval, and a dashed reference line.

    ``rates`` is :func:`vipmodel.referrals.referral_rates` (``group``, ``rate_per_100``, ``rate_low``,
    ``rate_high``, ``members``); only groups in ``group_labels`` are drawn, in its order. Tier groups take
    the tier colours.
    """
    rows = rates.set_index("group").reindex(list(group_labels)).reset_index()
    rows = rows.rename(columns={"rate_low": "rate_per_100_low", "rate_high": "rate_per_100_high"})
    colors = [TIER_COLORS.get(g, ACCENT) for g in rows["group"]]
    fig = go.Figure(
        go.Bar(
            x=[group_labels[g] for g in rows["group"]],
            y=rows["rate_per_100"].to_list(),
            error_y=_error(rows, "rate_per_100"),
            marker_color=colors,
            customdata=rows["members"].fillna(0).to_list(),
            texttemplate="%{y:.1f}",
            textposition="inside",
            hovertemplate="%{x}: %{y:.1f} / 100 (n = %{customdata:,})<extra></extra>",
        )
    )
    if reference is not None:
        fig.add_hline(y=reference, line_dash="dash", line_color=NEGATIVE, annotation_text=reference_label,
                      annotation_position="top left")
    styled(fig, title)
    fig.update_layout(height=380, showlegend=False, yaxis_title=y_title, yaxis_rangemode="tozero")
    return fig


def value_bars(
    value: pd.DataFrame,
    metrics: dict[str, str],
    group_labels: dict[str, str],
    title: str,
    tickformat: str = ",.0f",
) -> go.Figure:
    """Referred vs. other members side by side for each metric, with the 95% interval of each mean or rate.

    ``value`` is :func:`vipmodel.referrals.referred_value`; ``metrics`` maps its columns (each with
    ``_low`` / ``_high`` bounds) to axis labels; ``group_labels`` maps ``referred`` / ``other`` to legend names.
    """
    rows = value.set_index("group")
    fig = go.Figure()
    for group, color in (("referred", ACCENT), ("other", OTHER_COLOR)):
        if group not in rows.index:
            continue
        row = rows.loc[[group]]
        fig.add_bar(
            x=list(metrics.values()),
            y=[float(row[m].iloc[0]) for m in metrics],
            error_y=dict(
                type="data",
                symmetric=False,
                array=[float((row[f"{m}_high"] - row[m]).fillna(0).iloc[0]) for m in metrics],
                arrayminus=[float((row[m] - row[f"{m}_low"]).fillna(0).iloc[0]) for m in metrics],
                color="#555555",
                thickness=1.5,
            ),
            name=group_labels[group],
            marker_color=color,
        )
    styled(fig, title)
    fig.update_layout(barmode="group", height=360, yaxis_tickformat=tickformat, legend=dict(orientation="h", y=-0.15))
    return fig
