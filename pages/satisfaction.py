"""Satisfaction (满意度): tune the weights of the three survey dimensions, test them against what members did next,
compare them with weights fitted to churn, and save a version ("tested, discussed, then rolled out")."""

from __future__ import annotations

from functools import partial

import streamlit as st

from dashboard import filters, state, ui
from dashboard.data import common, complaints as complaints_data, satisfaction as satisfaction_data
from dashboard.figures.satisfaction import gap_bars, index_bars, ipa_quadrant, weight_bars
from dashboard.figures.satisfaction_text import (ci_text, dimension_names, evaluation_sentence, gain_sentence,
                                                 group_names, insufficient_text, ipa_table, loyalty_table,
                                                 order_sentence, quadrant_names, suggested_caption, suggested_metrics,
                                                 weights_text)
from dashboard.i18n import fmt_number, t
from vipmodel.satisfaction import BY_OPTIONS, PERIODS, InsufficientSurveyData, SatisfactionWeights, SuggestedWeights

SLIDER = "sat_w_{}"
GROUPINGS = (*(b for b in BY_OPTIONS if b != "period"), *PERIODS)


def _set_sliders(weights: SatisfactionWeights) -> None:
    # A button callback: the only moment the keys of sliders that are already drawn may be written.
    for dim, value in weights.as_dict().items():
        st.session_state[SLIDER.format(dim)] = int(round(value * 100))


def _section_index(ctx: filters.PageContext, weights: SatisfactionWeights, rules: dict) -> None:
    lang = ctx.lang
    st.subheader(t("sat.index_title", lang))
    choice = st.selectbox(t("sat.by", lang), GROUPINGS, format_func=lambda b: t(f"sat.by.{b}", lang), key="sat_by")
    by, grain = (choice, "quarter") if choice in BY_OPTIONS else ("period", choice)
    frame = satisfaction_data.load_satisfaction_index(ctx.url, ctx.version, *ctx.period, weights.to_payload(), by,
                                                      grain, rules)
    index = index_bars(frame, group_names(lang), t("sat.index_chart", lang), t("sat.index_axis", lang))
    gap = gap_bars(frame, group_names(lang), t("sat.gap_chart", lang), t("sat.gap_axis", lang))
    ui.chart_pair((index, f"sat-idx-{choice}"), (gap, f"sat-gap-{choice}"))
    st.caption(t("sat.index_caption", lang))
    filters.scope(ctx, "filters.reason.index")


def _section_evaluation(ctx: filters.PageContext, weights: SatisfactionWeights, saved: SatisfactionWeights,
                        rules: dict) -> None:
    lang = ctx.lang
    check = partial(satisfaction_data.load_weights_check, ctx.url, ctx.version, *ctx.period, rules, ctx.store,
                    ctx.tiers)
    now, base = check(weights.to_payload()), check(saved.to_payload())
    ev = now["evaluation"]
    cols = st.columns(4)
    cols[0].metric(t("sat.metric.index", lang), fmt_number(now["index"], lang, 1),
                   help=t("sat.metric.index_help", lang, n=fmt_number(now["scored"], lang)))
    cols[1].metric(t("sat.metric.gap", lang), fmt_number(now["gap"], lang, 2), help=t("sat.gap_help", lang))
    cols[2].metric(t("sat.metric.auc", lang), fmt_number(ev.auc, lang, 3), help=t("sat.auc_help", lang),
                   delta=t("sat.vs_saved", lang, delta=f"{ev.auc - base['evaluation'].auc:+.3f}"), delta_color="off")
    cols[2].caption(ci_text(ev.auc_low, ev.auc_high, lang))
    cols[3].metric(t("sat.metric.spearman", lang), fmt_number(ev.spearman, lang, 3), help=t("sat.spearman_help", lang))
    cols[3].caption(ci_text(ev.spearman_low, ev.spearman_high, lang))
    st.write(evaluation_sentence(ev, lang))


@st.fragment
def _section_weights(ctx: filters.PageContext, panel_empty: bool, saved: tuple[SatisfactionWeights, int | None],
                     rules: dict) -> None:
    lang, dims = ctx.lang, dimension_names(ctx.lang)
    st.subheader(t("sat.weights_title", lang))
    st.caption(t("sat.weights_in_force", lang, version=saved[1]) if saved[1] else t("sat.no_history", lang))
    for dim, value in saved[0].as_dict().items():
        st.session_state.setdefault(SLIDER.format(dim), int(round(value * 100)))
    raw = [col.slider(label, 0, 100, key=SLIDER.format(dim)) for col, (dim, label) in zip(st.columns(3), dims.items())]
    st.button(t("sat.reset", lang), key="sat_reset", on_click=_set_sliders, args=(saved[0],))
    if not any(raw):
        st.warning(t("sat.all_zero", lang))
        return
    weights = SatisfactionWeights.normalised(*raw)
    st.markdown(weights_text(weights, lang))
    try:
        _section_evaluation(ctx, weights, saved[0], rules)
    except InsufficientSurveyData as exc:
        st.info(insufficient_text(exc, panel_empty, ctx.end, lang))
    try:
        _section_index(ctx, weights, rules)
    except InsufficientSurveyData as exc:
        st.info(t("sat.insufficient", lang, reason=str(exc)))


def _section_save(ctx: filters.PageContext) -> None:
    """Save, outside the live fragment (not redrawn per move); a submit reruns the page and reads the sliders then."""
    if any(raw := [st.session_state.get(SLIDER.format(dim), 0) for dim in dimension_names(ctx.lang)]):
        payload = {"weights": SatisfactionWeights.normalised(*raw).to_payload()}
        ui.save_form("sat", ctx.url, "satisfaction_weights", payload, t("sat.save", ctx.lang))


def _section_suggested(ctx: filters.PageContext, rules: dict, saved: SatisfactionWeights,
                       suggested: SuggestedWeights) -> None:
    lang, dims = ctx.lang, dimension_names(ctx.lang)
    st.subheader(t("sat.suggested_title", lang))
    filters.scope(ctx, "filters.reason.weights")
    series = (t("sat.in_force", lang), t("sat.suggested", lang))
    ui.chart(weight_bars(suggested.table(), dims, series, t("sat.suggested_chart", lang)), "sat-suggested")
    for col, (label, value, help_text) in zip(st.columns(2), suggested_metrics(suggested, lang)):
        col.metric(label, value, help=help_text)
    sentence, established = order_sentence(suggested, lang)
    (st.write if established else st.warning)(sentence)  # an order the data does not support must not read as fact
    st.write(gain_sentence(suggested, lang))
    st.caption(suggested_caption(suggested, lang))
    st.button(t("sat.try_suggested", lang), key="sat_try", on_click=_set_sliders, args=(suggested.weights,),
              type="primary")
    st.subheader(t("sat.ipa_title", lang))
    ipa = satisfaction_data.load_importance_performance(ctx.url, ctx.version, ctx.end, rules, saved.to_payload())
    axes = (t("sat.col.performance", lang), t("sat.col.importance", lang))
    ui.chart(ipa_quadrant(ipa, dims, quadrant_names(lang), t("sat.ipa_chart", lang), axes), "sat-ipa")
    shown, formats = ipa_table(ipa, lang)
    ui.table(shown, "sat-importance-performance", formats=formats)
    st.caption(t("sat.ipa_caption", lang))


def _section_loyalty(ctx: filters.PageContext) -> None:
    lang = ctx.lang
    st.subheader(t("sat.loyalty_title", lang))
    filters.scope(ctx, "filters.reason.loyalty")
    frame, omitted = satisfaction_data.load_loyalty_indicators(ctx.url, ctx.version, ctx.end)
    ui.table(loyalty_table(frame, lang), "sat-loyalty")
    for name in omitted:
        st.caption(t("sat.omitted", lang, name=t(f"sat.loyalty.{name}", lang), reason=t(f"sat.omitted.{name}", lang)))


def main() -> None:
    st.title(t("page.satisfaction", state.lang()))
    if (ctx := filters.page_context()) is None:
        return
    url, version, end, lang = ctx.url, ctx.version, ctx.end, ctx.lang
    rules, saved = common.load_tier_rules(url)[0].to_payload(), satisfaction_data.load_satisfaction_weights(url)
    with st.spinner(t("common.loading", lang)):
        # The suggested weights are fitted on the whole panel.
        whole = common.shared(complaints_data.load_churn_panel, url, version, end, 2, rules)
        scores = filters.apply(common.shared(satisfaction_data.load_dimension_scores, url, version, *ctx.period), ctx)
    panel = filters.apply(whole, ctx, tier_column="tier")  # tiers of the behaviour years: churn is the outcome
    ui.flash("sat")
    if len(whole) and not filters.has_members(panel, ctx):
        return
    if scores.empty:
        st.info(t("sat.no_surveys", lang))
    else:
        _section_weights(ctx, panel.empty, saved, rules)
        _section_save(ctx)
    try:
        with st.spinner(t("sat.fitting", lang)):
            suggested = satisfaction_data.load_suggested_weights(url, version, end, rules, saved[0].to_payload())
        _section_suggested(ctx, rules, saved[0], suggested)
    except InsufficientSurveyData as exc:
        if scores.empty or not whole.empty:  # else the weights section has already explained the missing history
            st.info(insufficient_text(exc, whole.empty, end, lang))
    _section_loyalty(ctx)
    ui.setting_history(url, "satisfaction_weights", "sat-weights-history", t("pyramid.history", lang))


main()
