"""Referrals (转介绍): who brings new members, whether satisfied members refer more, what the referred are worth."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from dashboard import filters, state, ui
from dashboard.data import common, referrals as referrals_data
from dashboard.access import current_role
from dashboard.figures.referrals import rate_bars, value_bars
from dashboard.i18n import fmt_date, fmt_money, fmt_number, fmt_percent, t, tier_name
from vipmodel import privacy
from vipmodel.referrals import NO_SURVEY, REFERENCE_PER_100, SATISFACTION_BUCKETS

GROUPINGS = referrals_data.GROUPINGS  # the first is the default view the precompute warms
TOP_N = referrals_data.TOP_N


def _group_labels(by: str, lang: str) -> dict[str, str]:
    if by == "tier":
        return {k: tier_name(k, lang) for k in "ABCD"}
    return {b: t(f"ref.bucket.{b}", lang) for b in (*SATISFACTION_BUCKETS, NO_SURVEY)}


def _interval(low: float, high: float, lang: str) -> str:
    return f"{fmt_number(low, lang, 1)} – {fmt_number(high, lang, 1)}"


def _section_kpis(new: dict, rates: pd.DataFrame, lang: str) -> None:
    rate = rates.set_index("group").loc["all", "rate_per_100"] if not rates.empty else None
    left, middle, right = st.columns(3)
    left.metric(t("ref.kpi.referrals", lang), fmt_number(new["referred"], lang), help=t("ref.kpi.referrals_help", lang))
    middle.metric(t("ref.kpi.rate", lang), fmt_number(rate, lang, 1), help=t("ref.kpi.rate_help", lang))
    right.metric(
        t("ref.kpi.share", lang),
        fmt_percent(new["referred_share"], lang),
        help=t("ref.kpi.share_help", lang, low=fmt_percent(new["share_low"], lang),
               high=fmt_percent(new["share_high"], lang)),
    )


def _section_rates(rates: pd.DataFrame, by: str, end: dt.date, lang: str) -> None:
    labels = _group_labels(by, lang)
    title = t("ref.rates_title", lang, date=fmt_date(end, lang))
    fig = rate_bars(rates, labels, title, REFERENCE_PER_100, t("ref.reference", lang), t("ref.rate_axis", lang))
    ui.chart(fig, f"referral-rates-{by}")
    st.caption(t("ref.rates_caption", lang))
    shown = pd.DataFrame(
        {
            t("ref.col.group", lang): [labels.get(g, t("ref.all", lang)) for g in rates["group"]],
            t("ref.col.members", lang): rates["members"],
            t("ref.col.referrers", lang): rates["referrers"],
            t("ref.col.referrals", lang): rates["referrals"],
            t("ref.col.rate", lang): [fmt_number(v, lang, 1) for v in rates["rate_per_100"]],
            t("ref.col.interval", lang): [
                _interval(lo, hi, lang) for lo, hi in zip(rates["rate_low"], rates["rate_high"])
            ],
        }
    )
    ui.table(shown, f"referral-rates-{by}")


def _section_value(value: pd.DataFrame, end: dt.date, lang: str) -> None:
    st.subheader(t("ref.value_title", lang))
    if value.empty or (value["members"] == 0).all():
        st.info(t("ref.no_value", lang, date=fmt_date(end, lang)))
        return
    groups = {g: t(f"ref.group.{g}", lang) for g in ("referred", "other")}
    money = {m: t(f"ref.metric.{m}", lang) for m in ("mean_sales", "mean_profit", "mean_next_sales")}
    left, right = st.columns([2, 1])
    with left:
        ui.chart(value_bars(value, money, groups, t("ref.money_title", lang), tickformat=",.0f"), "referred-value")
    with right:
        churn = {"churn_rate": t("ref.metric.churn_rate", lang)}
        ui.chart(value_bars(value, churn, groups, t("ref.churn_title", lang), tickformat=".0%"), "referred-churn")
    st.caption(t("ref.value_caption", lang))
    shown = pd.DataFrame({t("ref.col.group", lang): [groups[g] for g in value["group"]],
                          t("ref.col.members", lang): value["members"]})
    for metric, label in money.items():
        shown[label] = [fmt_money(v, lang) for v in value[metric]]
    shown[t("ref.col.churned", lang)] = value["churned"]
    shown[t("ref.metric.churn_rate", lang)] = [fmt_percent(v, lang) for v in value["churn_rate"]]
    ui.table(shown, "referred-value")


def _section_top(ctx: filters.PageContext, rules: dict, weights: dict | None) -> None:
    (start, end), lang = ctx.period, ctx.lang
    st.subheader(t("ref.top_title", lang, start=fmt_date(start, lang), end=fmt_date(end, lang)))
    role = current_role()
    may_see_names = privacy.sees(role, "name")
    show_names = st.toggle(t("ref.show_names", lang), value=False, key="ref_show_names", disabled=not may_see_names,
                           help=None if may_see_names else t("privacy.names_hidden", lang))
    # Names are read only for a role that may see them and only when asked; a viewer's toggle reveals nothing, even
    # if a client sends it switched on. Masked again as the role's (one style of mask on every page).
    reveal = show_names and may_see_names
    top = referrals_data.load_top_referrers(ctx.url, ctx.version, start, end, TOP_N, reveal, rules, weights,
                                            ctx.store, ctx.tiers)
    top = privacy.mask_personal(top, role if reveal else "viewer")
    if not filters.has_members(top, ctx):
        return
    if top.empty:
        st.info(t("ref.no_referrals", lang, start=fmt_date(start, lang), end=fmt_date(end, lang)))
        return
    shown = top.assign(
        tier=[tier_name(v, lang) if isinstance(v, str) else t("common.not_available", lang) for v in top["tier"]],
        satisfaction=top["satisfaction"].round(2),
    )
    names = {c: t(f"ref.col.{c}", lang) for c in shown.columns if c != "tier"}
    ui.table(shown.rename(columns={**names, "tier": t("common.tier", lang)}), "top-referrers",
             personal={names["name"]: "name"})


def main() -> None:
    st.title(t("page.referrals", state.lang()))
    if (ctx := filters.page_context()) is None:
        return
    url, version, end, lang = ctx.url, ctx.version, ctx.end, ctx.lang
    rules = common.load_tier_rules(url)[0].to_payload()
    weights = common.load_referral_weights(url)
    by = st.selectbox(t("ref.group_by", lang), GROUPINGS, format_func=lambda g: t(f"ref.group_by.{g}", lang),
                      key="ref_group_by")
    filters.scope(ctx, "filters.reason.referrals")
    ui.margin_note(url, version, *ctx.period)
    with st.spinner(t("common.loading", lang)):
        new = referrals_data.load_new_member_referrals(url, version, *ctx.period)
        rates = referrals_data.load_referral_rates(url, version, end, by, rules, weights)
    _section_kpis(new, rates, lang)
    if rates.empty:
        st.info(t("ref.no_active", lang, date=fmt_date(end, lang)))
    else:
        _section_rates(rates, by, end, lang)
    with st.spinner(t("common.loading", lang)):
        value = referrals_data.load_referred_value(url, version, end)
    _section_value(value, end, lang)
    _section_top(ctx, rules, weights)


main()
