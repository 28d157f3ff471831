"""Satisfaction (满意度): tune the weights of the three survey dimensions, test them against what members did next,
compare them with weights fitted to churn, and save a version ("tested, discussed, then rolled out")."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from dashboard import data, state, ui
from dashboard.figures.satisfaction import gap_bars, index_bars, ipa_quadrant, weight_bars
from dashboard.i18n import fmt_date, fmt_number, fmt_percent, t, tier_name
from vipmodel.satisfaction import (BY_OPTIONS, DIMENSIONS, PERIODS, QUADRANTS, InsufficientSurveyData,
                                   SatisfactionWeights, SuggestedWeights, evaluate_weights, importance_performance,
                                   index_table)

SLIDER = "sat_w_{}"
GROUPINGS = (*(b for b in BY_OPTIONS if b != "period"), *PERIODS)
PERCENT_INDICATORS = ("purchase_rate", "repeat_purchase_rate", "retention_rate")


def _dims(lang: str) -> dict[str, str]:
    return {d: t(f"sat.dim.{d}", lang) for d in DIMENSIONS}


def _set_sliders(weights: SatisfactionWeights) -> None:
    # A button callback: the only moment the keys of sliders that are already drawn may be written.
    for dim, value in weights.as_dict().items():
        st.session_state[SLIDER.format(dim)] = int(round(value * 100))


def _explain(exc: InsufficientSurveyData, panel: pd.DataFrame, end: dt.date, lang: str) -> None:
    if panel.empty:  # the commonest cause on real data: too little history, which the message would not say
        st.info(t("sat.no_panel", lang, date=fmt_date(end, lang)))
    else:
        st.info(t("sat.insufficient", lang, reason=str(exc)))


def _ci(low: float, high: float, lang: str, decimals: int = 3) -> str:
    return t("sat.ci", lang, low=fmt_number(low, lang, decimals), high=fmt_number(high, lang, decimals))


def _section_index(url: str, version: int, period: tuple, weights: SatisfactionWeights, rules: dict, lang: str) -> None:
    st.subheader(t("sat.index_title", lang))
    choice = st.selectbox(t("sat.by", lang), GROUPINGS, format_func=lambda b: t(f"sat.by.{b}", lang), key="sat_by")
    by, grain = (choice, "quarter") if choice in BY_OPTIONS else ("period", choice)
    frame = data.load_satisfaction_index(url, version, *period, weights.to_payload(), by, grain, rules)
    labels = {**{k: tier_name(k, lang) for k in "ABCD"}, "inactive": t("sat.inactive", lang),
              "unknown": t("sat.unknown_store", lang)}
    left, right = st.columns(2)
    with left:
        ui.chart(index_bars(frame, labels, t("sat.index_chart", lang), t("sat.index_axis", lang)), f"sat-idx-{choice}")
    with right:
        ui.chart(gap_bars(frame, labels, t("sat.gap_chart", lang), t("sat.gap_axis", lang)), f"sat-gap-{choice}")
    st.caption(t("sat.index_caption", lang))


def _section_evaluation(panel: pd.DataFrame, scores: pd.DataFrame, weights: SatisfactionWeights,
                        saved: SatisfactionWeights, lang: str) -> None:
    table = index_table(scores, weights)
    cols = st.columns(4)
    cols[0].metric(t("sat.metric.index", lang), fmt_number(table["satisfaction_index"].mean(), lang, 1),
                   help=t("sat.metric.index_help", lang, n=fmt_number(int(table["scored"].sum()), lang)))
    cols[1].metric(t("sat.metric.gap", lang), fmt_number(table["gap"].mean(), lang, 2), help=t("sat.gap_help", lang))
    ev, base = evaluate_weights(panel, weights), evaluate_weights(panel, saved)
    cols[2].metric(t("sat.metric.auc", lang), fmt_number(ev.auc, lang, 3), help=t("sat.auc_help", lang),
                   delta=t("sat.vs_saved", lang, delta=f"{ev.auc - base.auc:+.3f}"), delta_color="off")
    cols[2].caption(_ci(ev.auc_low, ev.auc_high, lang))
    cols[3].metric(t("sat.metric.spearman", lang), fmt_number(ev.spearman, lang, 3), help=t("sat.spearman_help", lang))
    cols[3].caption(_ci(ev.spearman_low, ev.spearman_high, lang))
    st.write(t("sat.eval." + ("chance" if ev.auc_low <= 0.5 else "some"), lang, auc=fmt_percent(ev.auc, lang, 0),
               n=fmt_number(ev.n, lang), churned=fmt_number(ev.n_churned, lang)))


@st.fragment
def _section_weights(url: str, version: int, period: tuple, panel: pd.DataFrame, scores: pd.DataFrame,
                     saved: tuple[SatisfactionWeights, int | None], rules: dict, lang: str) -> None:
    st.subheader(t("sat.weights_title", lang))
    st.caption(t("sat.weights_in_force", lang, version=saved[1]) if saved[1] else t("sat.no_history", lang))
    for dim, value in saved[0].as_dict().items():
        st.session_state.setdefault(SLIDER.format(dim), int(round(value * 100)))
    cols = st.columns(3)
    raw = [col.slider(label, 0, 100, key=SLIDER.format(dim)) for col, (dim, label) in zip(cols, _dims(lang).items())]
    st.button(t("sat.reset", lang), key="sat_reset", on_click=_set_sliders, args=(saved[0],))
    if not any(raw):
        st.warning(t("sat.all_zero", lang))
        return
    weights = SatisfactionWeights.normalised(*raw)
    st.markdown(t("sat.normalised", lang) + " · ".join(
        f"{label} **{fmt_percent(w, lang)}**" for label, w in zip(_dims(lang).values(), weights.as_array())))
    try:
        _section_evaluation(panel, scores, weights, saved[0], lang)
    except InsufficientSurveyData as exc:
        _explain(exc, panel, period[1], lang)
    try:
        _section_index(url, version, period, weights, rules, lang)
    except InsufficientSurveyData as exc:
        st.info(t("sat.insufficient", lang, reason=str(exc)))
    with st.form("sat_save", clear_on_submit=False):
        author = st.text_input(t("pyramid.author", lang), key="sat_author")
        note = st.text_input(t("pyramid.note", lang), key="sat_note")
        if st.form_submit_button(t("sat.save", lang)):
            if not author.strip():
                st.error(t("pyramid.author_required", lang))
            else:
                done = data.save_setting(url, "satisfaction_weights", weights.to_payload(), author.strip(),
                                         note.strip())
                st.session_state["sat_flash"] = t("pyramid.saved", lang, version=done.version)
                st.rerun(scope="app")


def _section_suggested(panel: pd.DataFrame, saved: SatisfactionWeights, suggested: SuggestedWeights, lang: str) -> None:
    st.subheader(t("sat.suggested_title", lang))
    series = (t("sat.in_force", lang), t("sat.suggested", lang))
    ui.chart(weight_bars(suggested.table(), _dims(lang), series, t("sat.suggested_chart", lang)), "sat-suggested")
    tiny = suggested.auc_gain_low <= 0.0 or abs(suggested.auc_gain) < 0.01
    st.write(t("sat.gain." + ("tiny" if tiny else "real"), lang, gain=f"{suggested.auc_gain:+.3f}",
               low=f"{suggested.auc_gain_low:+.3f}", high=f"{suggested.auc_gain_high:+.3f}",
               cv=fmt_number(suggested.auc_suggested_cv, lang, 3), p=fmt_number(suggested.lr_pvalue, lang, 2)))
    st.caption(t("sat.suggested_caption", lang, n=fmt_number(suggested.n, lang), boot=suggested.n_boot))
    st.button(t("sat.try_suggested", lang), key="sat_try", on_click=_set_sliders, args=(suggested.weights,),
              type="primary")
    st.subheader(t("sat.ipa_title", lang))
    ipa = importance_performance(panel, saved, suggested)
    quadrants = {q: t(f"sat.quadrant.{q}", lang) for q in QUADRANTS}
    axes = (t("sat.col.performance", lang), t("sat.col.importance", lang))
    ui.chart(ipa_quadrant(ipa, _dims(lang), quadrants, t("sat.ipa_chart", lang), axes), "sat-ipa")
    columns = ["dimension", "quadrant", "performance", "importance", "current_weight"]
    shown = ipa.assign(dimension=ipa["dimension"].map(_dims(lang)), quadrant=ipa["quadrant"].map(quadrants),
                       performance=ipa["performance"].round(1))[columns]
    shown = shown.rename(columns=lambda c: t(f"sat.col.{c}", lang))
    ui.table(shown, "sat-importance-performance", formats={t(f"sat.col.{c}", lang): "percent" for c in columns[3:]})
    st.caption(t("sat.ipa_caption", lang))


def _section_loyalty(url: str, version: int, end: dt.date, lang: str) -> None:
    st.subheader(t("sat.loyalty_title", lang))
    frame, omitted = data.load_loyalty_indicators(url, version, end)
    names = frame["indicator"]

    def shown(values: pd.Series) -> list[str]:
        return [fmt_percent(v, lang) if n in PERCENT_INDICATORS else fmt_number(v, lang, 2)
                for n, v in zip(names, values)]

    table = frame.assign(indicator=[t(f"sat.loyalty.{n}", lang) for n in names], value=shown(frame["value"]),
                         previous=shown(frame["previous"]))[["indicator", "value", "previous", "n"]]
    ui.table(table.rename(columns=lambda c: t(f"sat.col.{c}", lang)), "sat-loyalty")
    for name in omitted:
        st.caption(t("sat.omitted", lang, name=t(f"sat.loyalty.{name}", lang), reason=t(f"sat.omitted.{name}", lang)))


def main() -> None:
    lang = state.lang()
    st.title(t("page.satisfaction", lang))
    period = ui.require_period()
    if period is None:
        return
    url, end = data.database_url(), period[1]
    version = data.current_version(url)
    rules = data.load_tier_rules(url)[0].to_payload()
    saved = data.load_satisfaction_weights(url)
    with st.spinner(t("common.loading", lang)):
        panel = data.load_churn_panel(url, version, end, 2, rules)
        scores = data.load_dimension_scores(url, version, *period)
    if flash := st.session_state.pop("sat_flash", None):
        st.success(flash)
    if scores.empty:
        st.info(t("sat.no_surveys", lang))
    else:
        _section_weights(url, version, period, panel, scores, saved, rules, lang)
    try:
        with st.spinner(t("sat.fitting", lang)):
            suggested = data.load_suggested_weights(url, version, end, rules, saved[0].to_payload())
        _section_suggested(panel, saved[0], suggested, lang)
    except InsufficientSurveyData as exc:
        if scores.empty or not panel.empty:  # else the weights section has already explained the missing history
            _explain(exc, panel, end, lang)
    _section_loyalty(url, version, end, lang)
    history = data.load_setting_history(url, "satisfaction_weights")
    if not history.empty:
        st.subheader(t("pyramid.history", lang))
        ui.table(history.assign(payload=history["payload"].astype(str)), "sat-weights-history")


main()
