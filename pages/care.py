"""Care what-if (关怀投入模拟): edit the per-tier care plan, compare it with the current plan, split a budget."""

from __future__ import annotations

import hashlib
import json

import pandas as pd
import streamlit as st

from dashboard import campaigns_panel, filters, state, ui
from dashboard.data import care as data, common
from dashboard.figures.care import (ALLOCATION_COLUMNS, ALLOCATION_KINDS, PLAN_KINDS, RESULT_COLUMNS, RESULT_KINDS,
                                    SUPPORT_SCALES, allocation_bars, assumptions_text, editor_frame,
                                    extrapolated_tiers, model_caption, plan_from_editor, spend_curves,
                                    support_caption, tier_table, widen_label)
from dashboard.i18n import fmt_date, fmt_money, fmt_number, fmt_percent, t, tier_name
from vipmodel.care import CARE_KINDS, DEFAULT_MAX_PER_YEAR, TIERS, CarePlan


def _table(frame: pd.DataFrame, kinds: dict[str, str], key: str, lang: str, warning: str | None = None) -> None:
    if warning and (tiers := extrapolated_tiers(frame, lang)):  # a tier spends beyond the history: say so first
        st.warning(t(warning, lang, tiers=tiers))
    shown, formats = tier_table(frame, kinds, lang)
    ui.table(shown, key, formats=formats)


def _section_results(ctx: filters.PageContext, rules: dict, sim) -> None:
    lang = ctx.lang
    st.subheader(t("care.results_title", lang))
    row, cur = sim.by_tier.iloc[-1], sim.current.iloc[-1]
    cols = st.columns(4)
    for col, key, fmt in zip(cols, ("spend", "retained_members", "retained_value"), (fmt_money, fmt_number, fmt_money)):
        with col:
            ui.metric(t(f"care.metric.{key}", lang), fmt(row[key], lang), delta=fmt(row[key] - cur[key], lang),
                      inverse=key == "spend", help=t("care.metric.vs_current", lang))
    band = {k: fmt_percent(row[f"roi_p{q}"], lang, 0) for k, q in (("low", "05"), ("high", "95"))}
    cols[3].metric(t("care.metric.roi", lang), fmt_percent(row["roi"], lang, 0),
                   help=t("care.metric.roi_help", lang, **band))
    _table(sim.by_tier.merge(sim.comparison, on="tier", suffixes=("", "_"))[["tier", *RESULT_COLUMNS]], RESULT_KINDS,
           "care-simulation", lang, "care.extrapolation_warning")
    st.caption(t("care.table_caption", lang))
    curve = data.load_care_curve(ctx.url, ctx.version, ctx.end, rules, sim.plan.to_payload(), store=ctx.store,
                                 tiers=ctx.tiers)
    points = {t("care.plan.edited", lang): sim.by_tier, t("care.plan.current", lang): sim.current}
    labels = {k: t(f"care.curve.{k}", lang) for k in ("expected", "band", "break_even", "x", "y", "beyond")}
    ui.chart(spend_curves(curve, points, {k: tier_name(k, lang) for k in TIERS}, labels, t("care.curve_title", lang)),
             "care-curves")
    st.caption(t("care.curve_caption", lang))


def _section_optimiser(ctx: filters.PageContext, rules: dict, sim) -> CarePlan:
    lang = ctx.lang
    st.subheader(t("care.optimiser_title", lang))
    current = sim.current.iloc[-1]  # the total row
    default = float(round(current["spend"], -2))
    left, right = st.columns([1, 2])
    budget = left.number_input(t("care.budget", lang), min_value=0.0, value=default, step=1000.0, format="%.0f",
                               key="care_budget", help=t("care.budget_help", lang, value=fmt_money(default, lang)))
    objective = "net_value" if left.checkbox(t("care.net", lang), key="care_net") else "retained_value"
    scale = left.selectbox(t("care.widen", lang), SUPPORT_SCALES, key="care_support_scale",
                           help=t("care.widen_help", lang), format_func=lambda x: widen_label(x, lang))
    costs = dict(sim.plan.unit_costs)
    alloc = data.load_care_allocation(ctx.url, ctx.version, ctx.end, rules, float(budget), costs, objective,
                                      ctx.store, ctx.tiers, scale or None)
    left.metric(t("care.metric.optimised_spend", lang), fmt_money(alloc.spend, lang))
    with left:
        ui.metric(t("care.metric.optimised_value", lang), fmt_money(alloc.retained_value, lang),
                  delta=fmt_money(alloc.retained_value - current["retained_value"], lang),
                  help=t("care.metric.vs_current", lang))
    spend = {t(f"care.plan.{k}", lang): f for k, f in (("current", sim.current), ("edited", sim.by_tier),
                                                          ("optimised", alloc.by_tier))}
    with right:
        ui.chart(allocation_bars(spend, {k: tier_name(k, lang) for k in TIERS}, t("care.allocation_title", lang),
                                 t("care.spend_axis", lang)), "care-allocation")
    _table(alloc.by_tier.rename(columns={"spend": "optimal_spend"})[["tier", *ALLOCATION_COLUMNS]], ALLOCATION_KINDS,
           "care-allocation-table", lang, "care.alloc_extrapolation")
    cap = sum(DEFAULT_MAX_PER_YEAR[k] * costs[k] for k in CARE_KINDS)
    st.caption(t("care.alloc_caption", lang, cap=fmt_money(cap, lang)))
    with st.expander(t("care.alloc_actions", lang)):
        _table(alloc.plan.as_frame(), PLAN_KINDS, "care-optimised-plan", lang)
    return alloc.plan


@st.fragment
def _section_whatif(ctx: filters.PageContext, rules: dict) -> None:
    lang = ctx.lang
    st.subheader(t("care.plan_title", lang))
    saved, saved_version = data.load_saved_care_plan(ctx.url)
    bases = {"history": CarePlan.from_payload(data.load_current_care_plan(ctx.url, ctx.version, ctx.end, rules))}
    if saved is not None:
        bases = {"saved": CarePlan.from_payload(saved), **bases}
    start = st.radio(t("care.start", lang), list(bases), horizontal=True, key="care_start",
                     format_func=lambda b: t(f"care.start.{b}", lang, version=saved_version))
    digest = hashlib.sha1(json.dumps(bases[start].to_payload(), sort_keys=True).encode()).hexdigest()[:10]
    config = {"unit_cost": st.column_config.NumberColumn(t("care.unit_cost", lang), min_value=0.0, format="%.2f"),
              t("care.action", lang): st.column_config.TextColumn(disabled=True),
              **{k: st.column_config.NumberColumn(tier_name(k, lang), min_value=0.0, format="%.2f") for k in TIERS}}
    edited = st.data_editor(editor_frame(bases[start], lang), key=f"care_editor_{start}_{digest}", hide_index=True,
                            column_config=config, width="stretch")
    st.caption(t("care.editor_caption", lang))
    scale = st.slider(t("care.scale", lang), 0, 200, 100, 5, format="%d%%", key="care_scale",
                      help=t("care.scale_help", lang))
    try:
        plan = plan_from_editor(edited, scale / 100)
    except ValueError as exc:
        st.error(t("care.invalid_plan", lang, reason=str(exc)))
        return
    costs = " · ".join(f"{tier_name(k, lang)} {fmt_money(v, lang)}" for k, v in plan.cost_by_tier().items())
    st.caption(t("care.cost_per_member", lang, costs=costs))
    sim = data.load_care_simulation(ctx.url, ctx.version, ctx.end, rules, plan.to_payload(),
                                    bases["history"].to_payload(), ctx.store, ctx.tiers)
    _section_results(ctx, rules, sim)
    optimised = _section_optimiser(ctx, rules, sim)
    ui.save_form("care", ctx.url, "care_plan", {"edited": plan.to_payload(), "optimised": optimised.to_payload()},
                 t("care.save", lang), saved="care.saved", title=t("care.save_title", lang),
                 choose=(t("care.save_which", lang), lambda p: t(f"care.plan.{p}", lang)))


def main() -> None:
    st.title(t("page.care", state.lang()))
    if (ctx := filters.page_context()) is None:
        return
    lang, date = ctx.lang, fmt_date(ctx.end, ctx.lang)
    rules = common.load_tier_rules(ctx.url)[0].to_payload()
    with st.spinner(t("common.loading", lang)):
        try:
            model = data.load_care_model(ctx.url, ctx.version, ctx.end, rules)
        except ValueError as exc:
            recorded = data.load_has_care_records(ctx.url, ctx.version, ctx.end)
            st.info(t("care.no_model" if recorded else "period.no_care_records", lang, date=date, reason=str(exc)))
            return
        # One object for every session (common.shared): a copy of a million-member list took seconds per run.
        members, source = common.shared(data.load_care_members, ctx.url, ctx.version, ctx.end, rules)
    if members.empty:
        st.info(t("care.no_members", lang, date=date))
        return
    if not filters.has_members(members := filters.apply(members, ctx, tier_column="tier"), ctx):
        return
    ui.flash("care")
    st.caption(t("care.members_caption", lang, n=fmt_number(len(members), lang), date=date,
                 value=t(f"care.value.{source}", lang)))
    st.caption(model_caption(model, lang))
    st.caption(support_caption(model, lang))
    with st.expander(t("care.assumptions_title", lang)):
        st.markdown(assumptions_text(model, lang))
    ui.margin_note(ctx.url, ctx.version, *ctx.period)
    _section_whatif(ctx, rules)
    ui.setting_history(ctx.url, "care_plan", "care-plan-history", t("care.history", lang), t("care.no_history", lang))


main()
campaigns_panel.render()  # the closed loop of care: plan a campaign, measure it, update the model
