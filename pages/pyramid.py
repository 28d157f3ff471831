"""Customer pyramid: tiers by profit contribution, a live preview of new thresholds, and versioned saving."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import filters, state, ui
from dashboard.data import common, members as members_data, pyramid as pyramid_data
from dashboard.figures.pyramid import before_after, pyramid, tier_shares
from dashboard.i18n import fmt_money, fmt_number, fmt_percent, t, tier_name
from vipmodel.pyramid import TierRules, assign_tiers, members_moving, tier_summary

DEFAULT_BENEFIT_COST = {"A": 2000.0, "B": 800.0, "C": 150.0, "D": 0.0}


def _section_current(ctx: filters.PageContext, features: pd.DataFrame, rules: TierRules, version: int | None) -> None:
    lang = ctx.lang
    st.caption(t("pyramid.rules_in_force", lang, version=version or t("pyramid.default_rules", lang)))
    tiers = assign_tiers(features, rules)  # tiered on the whole mall, then the store's members counted
    if not filters.has_members(features := filters.apply(features, ctx, uses=("store",)), ctx):
        return
    summary = tier_summary(features, tiers, check_unique=False)  # cached features: unique
    labels = {k: tier_name(k, lang) for k in "ABCD"}
    text = [
        f"{fmt_number(r.members, lang)} · {t('pyramid.sales', lang)} {fmt_percent(r.sales_share, lang, 0)}"
        f" · {t('pyramid.profit', lang)} {fmt_percent(r.profit_share, lang, 0)}"
        for r in summary.reindex(list("ABCD")).itertuples()
    ]
    left, right = st.columns(2)
    with left:
        ui.chart(pyramid(summary, labels, t("pyramid.chart_title", lang), text), "pyramid")
    with right:
        series = {c: t(f"pyramid.{c}", lang) for c in ("member_share", "sales_share", "profit_share")}
        ui.chart(tier_shares(summary, labels, series, t("pyramid.shares_title", lang)), "pyramid-shares")
    kinds = {"members": "int", "member_share": "percent", "sales": "money", "sales_share": "percent",
             "profit": "money", "profit_share": "percent", "avg_profit": "money"}
    names = {c: t(f"pyramid.col.{c}", lang) for c in kinds}
    shown = summary[list(kinds)].rename(index=labels, columns=names).reset_index(names=t("common.tier", lang))
    ui.table(shown, "tier-summary", formats={names[c]: k for c, k in kinds.items()})
    filters.scope(ctx, "filters.reason.all_tiers", uses=("store",))


def _proposed_rules(current: TierRules, features: pd.DataFrame, lang: str) -> TierRules | None:
    bases = ["share", "profit", "spend"]
    basis = st.radio(t("pyramid.basis", lang), bases, index=bases.index(current.basis), horizontal=True,
                     format_func=lambda b: t(f"pyramid.basis.{b}", lang), key="pyr_basis")
    columns = st.columns(3)
    try:
        if basis == "share":
            shares = current.shares if current.basis == "share" else (0.01, 0.04, 0.15)
            limits = [(0.1, 10.0), (0.5, 30.0), (1.0, 60.0)]
            picked = [
                col.slider(t("pyramid.share_of", lang, tier=tier_name(k, lang)), lo, hi, round(s * 100, 1), 0.1,
                           format="%.1f%%", key=f"pyr_share_{k}")
                for col, k, s, (lo, hi) in zip(columns, "ABC", shares, limits)
            ]
            return TierRules("share", shares=tuple(p / 100 for p in picked))
        column = "profit_contribution" if basis == "profit" else "sales"
        defaults = current.thresholds if current.basis == basis else tuple(
            float(round(features[column].quantile(q), -1)) for q in (0.99, 0.95, 0.80)
        )
        picked = [
            col.number_input(t("pyramid.minimum_for", lang, tier=tier_name(k, lang)), value=float(v), step=100.0,
                             key=f"pyr_{basis}_{k}")
            for col, k, v in zip(columns, "ABC", defaults)
        ]
        return TierRules(basis, thresholds=tuple(picked))
    except ValueError as exc:
        st.error(t("pyramid.invalid_rules", lang, reason=str(exc)))
        return None


@st.fragment
def _section_preview(ctx: filters.PageContext, features: pd.DataFrame, current: TierRules) -> None:
    url, lang = ctx.url, ctx.lang
    st.subheader(t("pyramid.preview_title", lang))
    filters.scope(ctx, "filters.reason.rules")
    proposed = _proposed_rules(current, features, lang)
    with st.expander(t("pyramid.benefit_cost", lang)):
        cols = st.columns(4)
        costs = {k: col.number_input(tier_name(k, lang), min_value=0.0, value=DEFAULT_BENEFIT_COST[k], step=50.0,
                                     key=f"pyr_cost_{k}") for col, k in zip(cols, "ABCD")}
    if proposed is None:
        return
    # The ranking and the tiers in force are computed once per period and shared: a slider move only re-tiers.
    preview = common.shared(pyramid_data.load_rule_preview, url, ctx.version, *ctx.period, current)
    comparison = preview.compare(proposed, costs)
    up, down, cost = st.columns(3)
    up.metric(t("pyramid.moved_up", lang), fmt_number(comparison.moved_up, lang))
    down.metric(t("pyramid.moved_down", lang), fmt_number(comparison.moved_down, lang))
    cost.metric(t("pyramid.cost_change", lang), fmt_money(comparison.benefit_cost_change, lang))
    st.write(t("pyramid.sentence", lang, up=fmt_number(comparison.moved_up, lang),
               down=fmt_number(comparison.moved_down, lang), cost=fmt_money(comparison.benefit_cost_change, lang)))
    labels = {k: tier_name(k, lang) for k in "ABCD"}
    ui.chart(before_after(comparison.per_tier, labels, (t("pyramid.now", lang), t("pyramid.proposed", lang)),
                          t("pyramid.before_after_title", lang)), "pyramid-preview")
    if st.toggle(t("pyramid.who_moves", lang), key="pyr_show_moves"):  # listed on demand: it costs a sort
        direction = st.radio(t("pyramid.direction", lang), ["up", "down"], horizontal=True,
                             format_func=lambda d: t(f"pyramid.direction.{d}", lang), key="pyr_direction")
        moving = members_moving(features, current, proposed, direction, check_unique=False)
        ui.table(moving, f"members-moving-{direction}", height=300)
    ui.save_form("pyr", url, "tier_rules", {"rules": proposed.to_payload()}, t("pyramid.save", lang))


def main() -> None:
    st.title(t("page.pyramid", state.lang()))
    if (ctx := filters.page_context()) is None:
        return
    with st.spinner(t("common.loading", ctx.lang)):
        features = common.shared(members_data.load_pyramid_features, ctx.url, ctx.version, *ctx.period)
    if features.empty:
        st.info(t("pyramid.no_members", ctx.lang))
        return
    ui.flash("pyr")
    ui.margin_note(ctx.url, ctx.version, *ctx.period)
    current, rules_version = common.load_tier_rules(ctx.url)
    _section_current(ctx, features, current, rules_version)
    _section_preview(ctx, features, current)
    ui.setting_history(ctx.url, "tier_rules", "tier-rules-history", t("pyramid.history", ctx.lang),
                       t("pyramid.no_history", ctx.lang))


main()
