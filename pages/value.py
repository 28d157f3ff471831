"""Value & churn risk (分析其未来价值, 识别即将流失的VIP): lifetime value, model check and the plan."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from dashboard import filters, maintenance, state, ui
from dashboard.data import common, value as value_data
from dashboard.figures.value import clv_box_figure, holdout_fit, model_vs_simple, risk_calibration, tier_value_table
from dashboard.i18n import fmt_date, fmt_money, fmt_number, fmt_percent, t, tier_name
from vipmodel.retention import NO_CLEAR_REASON, PERIODS_PER_YEAR, REASONS, MemberValues, RiskEvaluation

INACTIVE = value_data.INACTIVE_TIER
MONEY = maintenance.MONEY
REASON_CODES = [*REASONS, NO_CLEAR_REASON]


def _section_kpis(sections: dict, flagged: pd.DataFrame, horizon: dict[str, str], lang: str) -> None:
    money = {c: fmt_money(flagged[c].sum(), lang) for c in MONEY}
    items = [("total_clv", fmt_money(sections["total_clv"], lang), horizon),
             ("at_risk", fmt_number(len(flagged), lang), {}), ("value_at_risk", money["value_at_risk"], {}),
             ("action_cost", money["action_cost"], {"benefit": money["expected_benefit"]})]
    for col, (key, value, extra) in zip(st.columns(4), items):
        col.metric(t(f"value.kpi.{key}", lang), value, help=t(f"value.kpi.{key}_help", lang, **extra))


def _section_value(sections: dict, horizon: dict[str, str], lang: str) -> None:
    st.subheader(t("value.clv_title", lang))
    groups = {**{k: tier_name(k, lang) for k in "ABCD"}, INACTIVE: t("value.inactive", lang)}
    boxes, summary = sections["boxes"], sections["summary"]
    left, right = st.columns(2)
    with left:
        ui.chart(clv_box_figure(boxes, groups, t("value.clv_chart", lang), t("value.clv_axis", lang)), "value-clv")
        if boxes["log"]:
            st.caption(t("value.log_caption", lang, n=fmt_number(boxes["non_positive"], lang)))
    series = {"model_clv": t("value.series.model", lang), "simple_clv": t("value.series.simple", lang)}
    totals = summary[[f"{c}_total" for c in series]].rename(columns=lambda c: c.removesuffix("_total"))
    with right:
        ui.chart(model_vs_simple(totals, groups, series, t("value.compare_chart", lang)), "value-vs-simple")
    st.caption(t("value.why_differ", lang, **horizon))
    shown, formats = tier_value_table(summary, groups, lang)
    ui.table(shown, "value-by-tier", formats=formats)


def _section_model_check(ctx: filters.PageContext, values: MemberValues, ev: RiskEvaluation | None,
                         reason: str | None) -> None:
    lang = ctx.lang
    st.subheader(t("value.check_title", lang))
    filters.scope(ctx, "filters.reason.model")
    p = values.bgnbd.params_
    rate, dropout = p["r"] / p["alpha"] * PERIODS_PER_YEAR, p["a"] / (p["a"] + p["b"])
    st.markdown(f"**{t('value.params_title', lang)}**  \n" + t(
        "value.params_sentence", lang, date=fmt_date(values.as_of, lang), rate=fmt_number(rate, lang, 1),
        dropout=fmt_percent(dropout, lang)))
    table = values.bgnbd.summary().round(3).replace({"parameter": {"alpha": "α"}})
    ui.table(table.rename(columns=lambda c: t(f"value.col.{c}", lang)), "value-bgnbd-parameters")
    if ev is None:
        st.info(t("value.no_evaluation", lang, reason=reason))
        return
    cal_end, cal, error = fmt_date(ev.calibration_end, lang), ev.calibration, ev.purchases_relative_error
    auc = {k: fmt_number(getattr(ev, f"auc{k}"), lang, 2) for k in ("", "_ci_lower", "_ci_upper", "_p_no_purchase")}
    left, right = st.columns(2)
    left.metric(t("value.kpi.auc", lang), auc[""],
                help=t("value.kpi.auc_help", lang, low=auc["_ci_lower"], high=auc["_ci_upper"]))
    right.metric(t("value.kpi.purchases", lang), ("+" if error > 0 else "") + fmt_percent(error, lang),
                 help=t("value.kpi.purchases_help", lang))
    with left:
        series = {c: t(f"value.series.{c}", lang) for c in ("actual", "predicted")}
        ui.chart(holdout_fit(ev.holdout_table, series, t("value.holdout_chart", lang),
                             t("value.holdout_x", lang, date=cal_end), t("value.holdout_y", lang)), "value-holdout")
        st.write(t("value.purchases_sentence", lang, date=cal_end, predicted=fmt_number(ev.predicted_purchases, lang),
                   actual=fmt_number(ev.actual_purchases, lang), error=fmt_percent(abs(error), lang)))
    with right:
        series = {c: t(f"value.series.{c}", lang) for c in ("mean_score", "churn_rate")}
        ui.chart(risk_calibration(cal, series, t("value.calibration_chart", lang), t("value.decile_x", lang)),
                 "value-calibration")
        st.write(t("value.auc_sentence", lang, date=cal_end, members=fmt_number(ev.members, lang),
                   churned=fmt_number(ev.churned, lang), auc=auc[""], low=auc["_ci_lower"], high=auc["_ci_upper"],
                   baseline=auc["_p_no_purchase"], top=fmt_percent(cal["churn_rate"].iloc[-1], lang),
                   bottom=fmt_percent(cal["churn_rate"].iloc[0], lang)))
    st.caption(t(f"value.method.{ev.score_method}", lang))
    if ev.auc_ci_lower <= 0.5:
        st.warning(t("value.auc_weak", lang))


@st.fragment
def _section_at_risk(flagged: pd.DataFrame, as_of: dt.date, tiers: tuple[str, ...], lang: str) -> None:
    st.subheader(t("value.risk_title", lang))
    if flagged.empty:
        st.info(t("value.no_risk", lang, date=fmt_date(as_of, lang)))
        return
    left, middle, right = st.columns([2, 3, 1])
    # Narrows the list within the sidebar's tiers (offers only those), without rerunning the whole page.
    picked_tiers = left.multiselect(t("value.filter_tiers", lang), list(tiers), default=list(tiers),
                                    format_func=lambda k: tier_name(k, lang), key=f"val_tiers_{''.join(tiers)}")
    picked = set(middle.multiselect(t("value.filter_reasons", lang), REASON_CODES, default=REASON_CODES,
                                    format_func=lambda r: t(f"retention.reason.{r}", lang), key="val_reasons"))
    minimum = right.number_input(t("value.filter_min", lang), min_value=0.0, step=100.0, key="val_min_value")
    has_reason = flagged[[f"reason:{r}" for r in REASON_CODES if r in picked]].any(axis=1).to_numpy()
    shown = flagged[flagged["tier"].isin(picked_tiers).to_numpy() & has_reason & (flagged["value_at_risk"] >= minimum)]
    if shown.empty:
        st.info(t("value.no_match", lang))
        return
    value, cost, benefit = (fmt_money(shown[c].sum(), lang) for c in MONEY)
    st.caption(t("value.risk_summary", lang, n=fmt_number(len(shown), lang), value=value, cost=cost, benefit=benefit))
    maintenance.plan_table(shown, as_of, lang)


def main() -> None:
    st.title(t("page.value", state.lang()))
    if (ctx := filters.page_context()) is None:
        return
    url, version, as_of, lang = ctx.url, ctx.version, ctx.end, ctx.lang
    (rules, rules_version), date = common.load_tier_rules(url), fmt_date(as_of, lang)
    weights = common.load_referral_weights(url)  # the saved satisfaction weights, None for equal ones
    try:
        with st.spinner(t("common.loading", lang)):
            values = value_data.load_value_model(url, version, as_of)  # the models, not the million members' values
            flagged = common.shared(value_data.load_flagged_members, url, version, as_of, rules.to_payload(), weights)
    except ValueError as exc:
        st.info(t("value.no_values", lang, date=date, reason=str(exc)))
        return
    st.caption(t("value.caption", lang, date=date, rules=rules_version or t("pyramid.default_rules", lang)))
    ui.margin_note(url, version, *ctx.period)
    sections = value_data.load_value_sections(url, version, as_of, rules.to_payload(), weights, ctx.store, ctx.tiers)
    if not filters.has_members(sections["members"], ctx):
        return
    flagged = filters.apply(flagged, ctx, tier_column="tier")
    horizon = dict(years=fmt_number(values.horizon_years, lang), rate=fmt_percent(values.discount_rate_annual, lang, 0))
    _section_kpis(sections, flagged, horizon, lang)
    _section_value(sections, horizon, lang)
    check = st.container()  # drawn above the list but filled last: the list shows while the slow check runs
    _section_at_risk(flagged, as_of, ctx.tiers, lang)
    with check, st.spinner(t("value.checking", lang)):
        evaluation = common.shared(value_data.load_churn_evaluation, url, version, as_of, rules.to_payload(), weights)
        _section_model_check(ctx, values, *evaluation)


main()
