"""Care what-if (关怀投入模拟): edit the per-tier care plan, compare it with the current plan, split a budget."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import streamlit as st

from dashboard import data, state, ui
from dashboard.figures.care import allocation_bars, spend_curves
from dashboard.i18n import fmt_date, fmt_money, fmt_number, fmt_percent, t, tier_name
from vipmodel.care import CARE_KINDS, DEFAULT_MAX_PER_YEAR, TIERS, CarePlan, CareResponseModel, simulate

RESULT_KINDS = {"members": "int", "spend_per_member": "money", "spend": "money", "churn_rate": "percent",
                "retained_members": "int", "retained_value": "money", "retained_value_p05": "money",
                "retained_value_p95": "money", "incremental_value": "money", "roi": "percent",
                "break_even_spend_per_member": "money", "retained_value_difference": "money",
                "net_value_difference": "money"}
ALLOCATION_KINDS = {"members": "int", "spend_per_member": "money", "optimal_spend": "money",
                    "retained_value": "money", "marginal_value_per_yuan": "number"}
LABEL_KEYS = {"tier": "common.tier", "action": "care.action", "unit_cost": "care.unit_cost"}


def _table(frame: pd.DataFrame, kinds: dict[str, str], key: str, lang: str) -> None:
    """A per-tier table with tier and action names, column labels and number formats of the language."""
    shown = frame.assign(tier=[tier_name(k, lang) if k in TIERS else t("care.total", lang) for k in frame["tier"]])
    if "action" in shown:
        shown["action"] = [t(f"care.action.{k}", lang) for k in shown["action"]]
    for column in [c for c, k in kinds.items() if k in ("money", "int") and c in shown]:
        shown[column] = shown[column].round(0)  # whole yuan and members: decimals would be false precision
    names = {c: t(LABEL_KEYS.get(c, f"care.col.{c}"), lang) for c in shown.columns}
    ui.table(shown.rename(columns=names), key, formats={names[c]: k for c, k in kinds.items() if c in names})


def _editor_frame(plan: CarePlan, lang: str) -> pd.DataFrame:
    frame = pd.DataFrame({t("care.action", lang): [t(f"care.action.{k}", lang) for k in CARE_KINDS],
                          "unit_cost": [plan.unit_costs[k] for k in CARE_KINDS]}, index=list(CARE_KINDS))
    return frame.join(pd.DataFrame(plan.per_year))


def _plan_from_editor(frame: pd.DataFrame, scale: float) -> CarePlan:
    values = frame.fillna(0.0)  # a cleared cell arrives as NaN and means "none of this action"
    return CarePlan(per_year={k: (values[k] * scale).to_dict() for k in TIERS},
                    unit_costs=values["unit_cost"].to_dict())


def _captions(source: str, n: int, model: CareResponseModel, as_of, lang: str) -> None:
    st.caption(t("care.members_caption", lang, n=fmt_number(n, lang), date=fmt_date(as_of, lang),
                 value=t(f"care.value.{source}", lang)))
    low, high = np.quantile(model.beta_draws_, [0.025, 0.975])
    st.caption(t("care.model_caption", lang, c0=fmt_number(model.c0_, lang), rows=fmt_number(model.n_rows_, lang),
                 method=t(f"care.method.{model.method}", lang), beta=f"{model.beta_:.2f}", low=f"{low:.2f}",
                 high=f"{high:.2f}"))


def _section_results(ctx: tuple, sim, lang: str) -> None:
    st.subheader(t("care.results_title", lang))
    row, cur = sim.by_tier.iloc[-1], sim.current.iloc[-1]
    cols = st.columns(4)
    for col, key, fmt in zip(cols, ("spend", "retained_members", "retained_value"), (fmt_money, fmt_number, fmt_money)):
        col.metric(t(f"care.metric.{key}", lang), fmt(row[key], lang), delta=fmt(row[key] - cur[key], lang),
                   delta_color="inverse" if key == "spend" else "normal", help=t("care.metric.vs_current", lang))
    band = {k: fmt_percent(row[f"roi_p{q}"], lang, 0) for k, q in (("low", "05"), ("high", "95"))}
    cols[3].metric(t("care.metric.roi", lang), fmt_percent(row["roi"], lang, 0),
                   help=t("care.metric.roi_help", lang, **band))
    _table(sim.by_tier.merge(sim.comparison, on="tier", suffixes=("", "_"))[["tier", *RESULT_KINDS]], RESULT_KINDS,
           "care-simulation", lang)
    st.caption(t("care.table_caption", lang))
    curve = data.load_care_curve(*ctx, sim.plan.to_payload())
    points = {t("care.plan.edited", lang): sim.by_tier, t("care.plan.current", lang): sim.current}
    labels = {k: t(f"care.curve.{k}", lang) for k in ("expected", "band", "break_even", "x", "y")}
    ui.chart(spend_curves(curve, points, {k: tier_name(k, lang) for k in TIERS}, labels, t("care.curve_title", lang)),
             "care-curves")
    st.caption(t("care.curve_caption", lang))


def _section_optimiser(ctx: tuple, sim, lang: str) -> CarePlan:
    st.subheader(t("care.optimiser_title", lang))
    current = sim.current.iloc[-1]  # the total row
    default = float(round(current["spend"], -2))
    left, right = st.columns([1, 2])
    budget = left.number_input(t("care.budget", lang), min_value=0.0, value=default, step=1000.0, format="%.0f",
                               key="care_budget", help=t("care.budget_help", lang, value=fmt_money(default, lang)))
    net = left.checkbox(t("care.net", lang), key="care_net")
    costs = dict(sim.plan.unit_costs)
    alloc = data.load_care_allocation(*ctx, float(budget), costs, "net_value" if net else "retained_value")
    left.metric(t("care.metric.optimised_spend", lang), fmt_money(alloc.spend, lang))
    left.metric(t("care.metric.optimised_value", lang), fmt_money(alloc.retained_value, lang),
                delta=fmt_money(alloc.retained_value - current["retained_value"], lang),
                help=t("care.metric.vs_current", lang))
    spend = {t(f"care.plan.{k}", lang): f for k, f in (("current", sim.current), ("edited", sim.by_tier),
                                                          ("optimised", alloc.by_tier))}
    with right:
        ui.chart(allocation_bars(spend, {k: tier_name(k, lang) for k in TIERS}, t("care.allocation_title", lang),
                                 t("care.spend_axis", lang)), "care-allocation")
    _table(alloc.by_tier.rename(columns={"spend": "optimal_spend"})[["tier", *ALLOCATION_KINDS]], ALLOCATION_KINDS,
           "care-allocation-table", lang)
    cap = sum(DEFAULT_MAX_PER_YEAR[k] * costs[k] for k in CARE_KINDS)
    st.caption(t("care.alloc_caption", lang, cap=fmt_money(cap, lang)))
    with st.expander(t("care.alloc_actions", lang)):
        _table(alloc.plan.as_frame(), {"unit_cost": "money", "annual_cost_per_member": "money"}, "care-optimised-plan",
               lang)
    return alloc.plan


def _section_save(url: str, plans: dict[str, CarePlan], lang: str) -> None:
    with st.form("care_save", clear_on_submit=False):
        st.markdown(f"**{t('care.save_title', lang)}**")
        which = st.radio(t("care.save_which", lang), list(plans), format_func=lambda p: t(f"care.plan.{p}", lang),
                         horizontal=True, key="care_save_which")
        author = st.text_input(t("care.author", lang), key="care_author")
        note = st.text_input(t("care.note", lang), key="care_note")
        if st.form_submit_button(t("care.save", lang)):
            if not author.strip():
                st.error(t("care.author_required", lang))
                return
            saved = data.save_setting(url, "care_plan", plans[which].to_payload(), author.strip(), note.strip())
            st.session_state["care_flash"] = t("care.saved", lang, version=saved.version)
            st.rerun(scope="app")


@st.fragment
def _section_whatif(ctx: tuple, members: pd.DataFrame, model: CareResponseModel, lang: str) -> None:
    st.subheader(t("care.plan_title", lang))
    saved, saved_version = data.load_saved_care_plan(ctx[0])
    bases = {"history": CarePlan.from_payload(data.load_current_care_plan(*ctx))}
    if saved is not None:
        bases = {"saved": CarePlan.from_payload(saved), **bases}
    start = st.radio(t("care.start", lang), list(bases), horizontal=True, key="care_start",
                     format_func=lambda b: t(f"care.start.{b}", lang, version=saved_version))
    digest = hashlib.sha1(json.dumps(bases[start].to_payload(), sort_keys=True).encode()).hexdigest()[:10]
    config = {"unit_cost": st.column_config.NumberColumn(t("care.unit_cost", lang), min_value=0.0, format="%.2f"),
              t("care.action", lang): st.column_config.TextColumn(disabled=True),
              **{k: st.column_config.NumberColumn(tier_name(k, lang), min_value=0.0, format="%.2f") for k in TIERS}}
    edited = st.data_editor(_editor_frame(bases[start], lang), key=f"care_editor_{start}_{digest}", hide_index=True,
                            column_config=config, width="stretch")
    st.caption(t("care.editor_caption", lang))
    scale = st.slider(t("care.scale", lang), 0, 200, 100, 5, format="%d%%", key="care_scale",
                      help=t("care.scale_help", lang))
    try:
        plan = _plan_from_editor(edited, scale / 100)
    except ValueError as exc:
        st.error(t("care.invalid_plan", lang, reason=str(exc)))
        return
    costs = " · ".join(f"{tier_name(k, lang)} {fmt_money(v, lang)}" for k, v in plan.cost_by_tier().items())
    st.caption(t("care.cost_per_member", lang, costs=costs))
    sim = simulate(members, plan, model, current_plan=bases["history"])
    _section_results(ctx, sim, lang)
    optimised = _section_optimiser(ctx, sim, lang)
    _section_save(ctx[0], {"edited": plan, "optimised": optimised}, lang)


def main() -> None:
    lang = state.lang()
    st.title(t("page.care", lang))
    period = ui.require_period()
    if period is None:
        return
    url, as_of = data.database_url(), period[1]
    rules, _ = data.load_tier_rules(url)
    ctx = (url, data.current_version(url), as_of, rules.to_payload())
    with st.spinner(t("common.loading", lang)):
        try:
            model = data.load_care_model(*ctx)
        except ValueError as exc:
            st.info(t("care.no_model", lang, date=fmt_date(as_of, lang), reason=str(exc)))
            return
        members, source = data.load_care_members(*ctx)
    if members.empty:
        st.info(t("care.no_members", lang, date=fmt_date(as_of, lang)))
        return
    if flash := st.session_state.pop("care_flash", None):
        st.success(flash)
    _captions(source, len(members), model, as_of, lang)
    _section_whatif(ctx, members, model, lang)
    st.subheader(t("care.history", lang))
    history = data.load_setting_history(url, "care_plan")
    if history.empty:
        st.caption(t("care.no_history", lang))
    else:
        ui.table(history.assign(payload=history["payload"].astype(str)), "care-plan-history")


main()
