"""Overview: the executives' KPIs with week-over-week change and weekly trends."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from dashboard import filters, state, ui
from dashboard.data import common, overview as overview_data
from dashboard.figures.overview import sparkline
from dashboard.figures.pyramid import pyramid
from dashboard.i18n import fmt_date, fmt_number, fmt_percent, t, tier_name
from dashboard.kpi_text import INVERSE_KPIS, kpi_change, kpi_value


def _section_kpis(kpis: pd.DataFrame, lang: str) -> None:
    columns = st.columns(4)
    for i, row in enumerate(kpis.itertuples()):
        help_text = t(f"kpi.help.{row.kpi}", lang)
        if not pd.isna(row.reference):
            help_text += " · " + t("kpi.reference", lang, value=fmt_percent(row.reference, lang, 0))
        with columns[i % 4]:
            ui.metric(t(f"kpi.{row.kpi}", lang), kpi_value(row.kpi, row.value, lang),
                      delta=kpi_change(row.kpi, row.change, lang), inverse=row.kpi in INVERSE_KPIS, help=help_text,
                      border=True)
            year = kpi_change(row.kpi, row.change_year, lang)
            st.caption(t("overview.vs_last_year", lang, change=year or t("common.not_available", lang)))


def _section_trends(trend: pd.DataFrame, columns: list, lang: str) -> None:
    for column, (field, key) in zip(
        columns, [("sales", "trend.sales"), ("buyers", "trend.buyers"), ("complaints", "trend.complaints")]
    ):
        with column:
            ui.chart(sparkline(trend, field, t(key, lang)), f"trend-{field}")


def _section_pyramid(ctx: filters.PageContext, lang: str) -> None:
    rules = common.load_tier_rules(ctx.url)[0].to_payload()
    summary = overview_data.load_overview_pyramid(ctx.url, ctx.version, ctx.end, rules, ctx.store)
    if summary is None or not filters.has_members(int(summary["members"].sum()), ctx):
        return
    text = [f"{fmt_number(r.members, lang)} · {fmt_percent(r.profit_share, lang, 0)}" for r in summary.itertuples()]
    labels = {k: tier_name(k, lang) for k in "ABCD"}
    ui.chart(pyramid(summary, labels, t("overview.pyramid", lang), text), "overview-pyramid")
    filters.scope(ctx, "filters.reason.all_tiers", uses=("store",))


def main() -> None:
    lang = state.lang()
    st.title(t("overview.title", lang))
    if (ctx := filters.page_context()) is None:
        return
    as_of = ctx.end
    st.caption(t("overview.caption", lang, date=fmt_date(as_of, lang), previous=fmt_date(as_of - dt.timedelta(days=7), lang)))
    kpis = overview_data.load_overview_kpis(ctx.url, ctx.version, as_of)
    if kpis.loc[kpis["kpi"] == "active_members", "value"].iloc[0] == 0:
        st.warning(t("overview.no_data", lang, date=fmt_date(as_of, lang)))
    _section_kpis(kpis, lang)
    ui.margin_note(ctx.url, ctx.version, *ctx.period)
    filters.scope(ctx, "filters.reason.kpis")
    st.subheader(t("overview.trend", lang))
    pyramid_column, *trend_columns = st.columns(4)
    with pyramid_column:
        _section_pyramid(ctx, lang)
    _section_trends(overview_data.load_weekly_trend(ctx.url, ctx.version, as_of), trend_columns, lang)


main()
