"""Complaints & churn: per-complaint associations adjusted for satisfaction (the headline) next to the unadjusted
ones, churn by complaint group, plain-language relative risks, correlations, the iceberg."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import partial

import streamlit as st

from dashboard import filters, state, ui
from dashboard.data import common, complaints as complaints_data
from dashboard.figures.complaints import adjustment_plot, churn_bars, correlation_heatmap, forest_plot, iceberg_figure
from dashboard.figures.complaints_text import (
    adjusted_caption, adjusted_sentences, adjustment_fallback, comparison_frame, comparison_table, correlation_caption,
    effect_sentence, effects_caption, effects_frame, explain_error, feature_label, group_label, group_test_text,
)
from dashboard.i18n import fmt_date, fmt_number, fmt_percent, t
from dashboard.state import ALL_TIERS
from vipmodel import complaints as cpl
from vipmodel.kpi import CHURN_REFERENCE

YEARS = complaints_data.YEARS  # two behaviour years, each followed by its outcome year


@st.fragment
def _section_groups(analysis: Callable, lang: str) -> None:
    by = st.selectbox(t("cpl.group_by", lang), cpl.GROUPINGS, format_func=lambda b: t(f"cpl.by.{b}", lang),
                      key="cpl_group_by")
    table = analysis("churn_by_group", by)
    fig = churn_bars(table, [group_label(g, lang) for g in table["group"]],
                     [t("cpl.bar_text", lang, n=fmt_number(n, lang)) for n in table["members"]],
                     t("cpl.churn_title", lang, by=t(f"cpl.by.{by}", lang)), CHURN_REFERENCE,
                     t("cpl.reference", lang, value=fmt_percent(CHURN_REFERENCE, lang, 0)), t("cpl.churn_axis", lang))
    ui.chart(fig, f"complaints-churn-{by}")
    notes = [t("cpl.bars_caption", lang)]
    if empty := table.attrs.get("empty_groups"):
        notes.append(t("cpl.empty_groups", lang, groups=", ".join(group_label(g, lang) for g in empty)))
    try:
        notes.append(group_test_text(analysis("group_difference_test", by), lang))
    except ValueError as exc:
        notes.append(t("cpl.test.unavailable", lang, reason=explain_error(exc, lang)))
    st.caption(" ".join(notes))


def _section_effects(analysis: Callable, lang: str) -> None:
    st.subheader(t("cpl.effects_title", lang))
    try:
        effects = sorted(analysis("standard_effects"), key=lambda e: -e.relative_risk)
    except ValueError as exc:
        st.warning(explain_error(exc, lang))
        return
    st.markdown("\n".join(f"- {effect_sentence(e, lang)}" for e in effects))
    st.caption(effects_caption(effects, lang))
    ui.chart(forest_plot(effects_frame(effects, lang), t("cpl.forest_title", lang), t("cpl.forest_axis", lang)),
             "complaints-forest")


def _section_adjusted(ctx: filters.PageContext, rules: dict, lang: str) -> None:
    st.subheader(t("cpl.adj.title", lang))
    try:
        with st.spinner(t("common.loading", lang)):
            effects = complaints_data.load_complaint_regression(ctx.url, ctx.version, ctx.end, YEARS, rules,
                                                                ctx.store, ctx.tiers)
    except ValueError as exc:
        st.warning(t("cpl.reg_unavailable", lang, reason=explain_error(exc, lang)))
        return
    if fallback := adjustment_fallback(effects, lang):
        st.warning(fallback)
    st.markdown("\n".join(f"- {sentence}" for sentence in adjusted_sentences(effects, lang)))
    st.caption(adjusted_caption(effects, lang))
    ui.chart(adjustment_plot(comparison_frame(effects, lang), t("cpl.adj.chart_title", lang),
                             t("cpl.adj.axis", lang)), "complaints-adjustment")
    ui.table(comparison_table(effects, lang), "complaints-regression")


def _section_correlations(analysis: Callable, lang: str) -> None:
    try:
        matrix = analysis("correlation_matrix")
    except ValueError as exc:
        st.warning(explain_error(exc, lang))
        return
    ui.chart(correlation_heatmap(matrix, [feature_label(c, lang) for c in matrix.columns], t("cpl.corr_title", lang)),
             "complaints-correlations")
    st.caption(correlation_caption(matrix, lang))


@st.fragment
def _section_iceberg(n_complaints: int, start: dt.date, end: dt.date, lang: str) -> None:
    st.subheader(t("cpl.iceberg_title", lang))
    dates = {"start": fmt_date(start, lang), "end": fmt_date(end, lang)}
    if n_complaints == 0:
        st.info(t("cpl.iceberg_none", lang, **dates))
        return
    columns = st.columns([2, 1, 1])
    # Seeded through session state, not value=, so the preset buttons' callbacks may overwrite it.
    st.session_state.setdefault("cpl_multiplier", cpl.DEFAULT_MULTIPLIER)
    multiplier = columns[0].number_input(t("cpl.iceberg_multiplier", lang), min_value=1.0, max_value=1000.0,
                                         step=1.0, format="%g", key="cpl_multiplier", help=t("cpl.iceberg_help", lang))
    for column, (source, value) in zip(columns[1:], cpl.ICEBERG_MULTIPLIERS.items()):
        column.button(t(f"cpl.preset.{source}", lang, value=f"{value:g}"), key=f"cpl_preset_{source}",
                      on_click=lambda v=value: st.session_state.update({"cpl_multiplier": v}))
    berg = cpl.iceberg(n_complaints, multiplier)
    numbers = {"visible": fmt_number(berg.visible, lang), "silent": fmt_number(berg.silent, lang),
               "total": fmt_number(berg.total, lang)}
    for column, key in zip(st.columns(3), numbers):
        column.metric(t(f"cpl.metric.{key}", lang), numbers[key])
    st.write(t("cpl.iceberg_sentence", lang, **numbers, **dates))
    st.caption(t(berg.assumption_key, lang, multiplier=f"{berg.multiplier:g}",
                 silent_share=fmt_percent(berg.silent_share, lang, 0)))
    labels = tuple(f"{t(f'cpl.iceberg_{k}', lang)}: {numbers[k]}" for k in ("visible", "silent"))
    fig = iceberg_figure(berg.visible, berg.silent, labels, t("cpl.iceberg_title", lang), t("cpl.iceberg_axis", lang))
    ui.chart(fig, "complaints-iceberg")


def main() -> None:
    st.title(t("page.complaints", state.lang()))
    if (ctx := filters.page_context()) is None:
        return
    (start, end), lang = ctx.period, ctx.lang
    rules = common.load_tier_rules(ctx.url)[0].to_payload()
    # Analyses of the panel the filters keep (tiers of the behaviour years: churn is the outcome), each cached and
    # small: the page never copies the million-row panel out of the cache.
    analysis = partial(complaints_data.load_panel_analysis, ctx.url, ctx.version, end, YEARS, rules, ctx.store,
                       ctx.tiers)
    with st.spinner(t("common.loading", lang)):
        whole = complaints_data.load_panel_analysis(ctx.url, ctx.version, end, YEARS, rules, None, ALL_TIERS,
                                                    "facts")
        facts = analysis("facts")
        n_complaints = complaints_data.load_complaint_count(ctx.url, ctx.version, start, end, ctx.store,
                                                            ctx.tiers)
    if whole["rows"] == 0:
        st.info(t("cpl.no_panel", lang, date=fmt_date(end, lang)))
    elif filters.has_members(facts["rows"], ctx):
        first, last = facts["first"], facts["last"]
        st.caption(t("cpl.panel_caption", lang, n=fmt_number(facts["rows"], lang), start=fmt_date(first, lang),
                     end=fmt_date(last, lang), members=fmt_number(facts["members"], lang)))
        if facts["complaints"] == 0:
            st.info(t("cpl.no_complaints", lang, start=fmt_date(first, lang), end=fmt_date(last, lang)))
        else:
            _section_adjusted(ctx, rules, lang)  # the headline: adjusted for satisfaction where surveyed
            _section_groups(analysis, lang)
            _section_effects(analysis, lang)
            _section_correlations(analysis, lang)
    _section_iceberg(n_complaints, start, end, lang)


main()
