"""The Care page's campaigns panel: plan a randomised retention campaign on the at-risk list, record it, read what
it measured a year later and how that updates the care response model (vipmodel.campaigns)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from dashboard import access, campaign_data, filters, state, ui
from dashboard.data import care as care_data
from dashboard.data import common
from dashboard.i18n import fmt_date, fmt_money, fmt_number, fmt_percent, t, tier_name
from vipmodel.auth import PermissionDenied
from vipmodel.campaigns import Campaign, CarePooling
from vipmodel.care import CARE_KINDS

PREFIX = "cmp"


def _headers(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    return frame.rename(columns=lambda c: t(f"campaigns.col.{c}", lang))


def _plan_inputs(ctx: filters.PageContext, rules: dict, at_risk: pd.DataFrame) -> Campaign | None:
    lang = ctx.lang
    present = campaign_data.plan_tiers(at_risk)
    left, middle, right = st.columns(3)
    tiers = left.multiselect(t("campaigns.tiers", lang), present, default=present,
                             format_func=lambda k: tier_name(k, lang), key=f"{PREFIX}_tiers")
    share = middle.slider(t("campaigns.holdout", lang), 0.05, 0.5, campaign_data.DEFAULT_HOLDOUT, 0.05,
                          key=f"{PREFIX}_holdout", help=t("campaigns.holdout_help", lang))
    seed = right.number_input(t("campaigns.seed", lang), 0, 2**31 - 1, campaign_data.DEFAULT_SEED, 1,
                              key=f"{PREFIX}_seed", help=t("campaigns.seed_help", lang))
    first_day = campaign_data.first_day(ctx.url, ctx.version, ctx.end)
    latest = first_day - dt.timedelta(days=1)
    start = left.date_input(t("campaigns.start", lang), value=first_day, min_value=first_day, key=f"{PREFIX}_start",
                            help=t("campaigns.start_help", lang, date=fmt_date(latest, lang)))
    columns = st.columns(max(len(tiers), 1))
    actions = {k: col.multiselect(t("campaigns.actions", lang, tier=tier_name(k, lang)), list(CARE_KINDS),
                                  default=list(campaign_data.DEFAULT_ACTIONS[k]),
                                  format_func=lambda a: t(f"care.action.{a}", lang), key=f"{PREFIX}_actions_{k}")
               for k, col in zip(tiers, columns)}
    if not tiers:
        st.info(t("campaigns.no_tiers", lang))
        return None
    try:
        return campaign_data.load_campaign_plan(ctx.url, ctx.version, ctx.end, rules, ctx.store, tuple(ctx.tiers),
                                                tuple(tiers), share, int(seed),
                                                {k: tuple(v) for k, v in actions.items()}, start)
    except ValueError as exc:
        st.error(t("campaigns.invalid", lang, reason=str(exc)))
        return None


def _record_form(url: str, campaign: Campaign, lang: str) -> None:
    actor = access.current_actor()
    with st.form(f"{PREFIX}_record"):
        st.markdown(f"**{t('campaigns.record_title', lang)}**")
        note = st.text_input(t("campaigns.note", lang), key=f"{PREFIX}_note", max_chars=500)
        st.caption(t("campaigns.record_caption", lang, name=actor.username))
        if not st.form_submit_button(t("campaigns.record", lang, id=campaign.campaign_id)):
            return
    try:
        written = campaign_data.record(url, campaign, actor, note.strip())
    except PermissionDenied:
        st.error(t("auth.not_allowed", lang, role=t(f"auth.role.{actor.role}", lang)))
        return
    except ValueError as exc:
        st.error(t("campaigns.record_failed", lang, reason=str(exc)))
        return
    st.session_state[f"{PREFIX}_flash"] = t("campaigns.recorded", lang, id=campaign.campaign_id,
                                            n=fmt_number(written, lang))
    st.rerun(scope="app")


@st.fragment
def _section_plan(ctx: filters.PageContext, rules: dict) -> None:
    lang = ctx.lang
    st.subheader(t("campaigns.plan_title", lang))
    if not access.may("record_campaign"):
        st.caption(t("campaigns.read_only", lang, role=t(f"auth.role.{access.current_role()}", lang)))
        return
    date = fmt_date(ctx.end, lang)
    try:
        with st.spinner(t("common.loading", lang)):
            at_risk = campaign_data.load_at_risk(ctx.url, ctx.version, ctx.end, rules)
    except ValueError as exc:
        st.info(t("campaigns.no_values", lang, reason=str(exc)))
        return
    at_risk = filters.apply(at_risk, ctx, tier_column="tier")
    if at_risk.empty:
        st.info(t("campaigns.no_at_risk", lang, date=date))
        return
    st.caption(t("campaigns.at_risk_caption", lang, n=fmt_number(len(at_risk), lang), date=date))
    campaign = _plan_inputs(ctx, rules, at_risk)
    if campaign is None:
        return
    summary = campaign.summary()
    items = [("members", fmt_number(len(campaign.assignment), lang)),
             ("treated", fmt_number(len(campaign.treated), lang)),
             ("holdout", fmt_number(len(campaign.holdout), lang)), ("cost", fmt_money(campaign.cost, lang))]
    for col, (key, value) in zip(st.columns(4), items):
        col.metric(t(f"campaigns.metric.{key}", lang), value)
    ui.table(_headers(summary.assign(tier=summary["tier"].map(lambda k: tier_name(k, lang))), lang),
             "campaign-plan", formats={t("campaigns.col.cost", lang): "money"})
    with st.expander(t("campaigns.assignment", lang)):
        groups = {g: t(f"campaigns.group.{g}", lang) for g in ("treated", "holdout")}  # a lookup, not a call per row
        shown = campaign.assignment.assign(group=campaign.assignment["group"].map(groups))
        ui.table(_headers(shown, lang), "campaign-assignment")
    _record_form(ctx.url, campaign, lang)


def _status(result, reason: str | None, end: dt.date, lang: str) -> str:
    if result is not None:
        return t("campaigns.status.measured", lang)
    if reason and reason.startswith("the period has not passed"):
        return t("campaigns.status.waiting", lang, date=fmt_date(end, lang))
    return t("campaigns.status.failed", lang, reason=reason)


def _pooling_table(pooling: CarePooling, lang: str) -> pd.DataFrame:
    rows = [(t("campaigns.source.observational", lang), pooling.beta_observational, pooling.se_observational,
             pooling.se_observational_used, pooling.weight_observational)]
    rows += [(t("campaigns.source.campaign", lang, id=r.campaign_id), r.beta, r.se, r.se, r.weight)
             for r in pooling.campaigns.itertuples(index=False)]
    rows.append((t("campaigns.source.pooled", lang), pooling.beta, pooling.se, pooling.se, 1.0))
    frame = pd.DataFrame(rows, columns=["source", "beta", "se", "se_used", "weight"]).round(
        {"beta": 3, "se": 3, "se_used": 3})
    return _headers(frame, lang)


def _section_results(ctx: filters.PageContext, rules: dict) -> None:
    lang = ctx.lang
    st.subheader(t("campaigns.results_title", lang))
    recorded = campaign_data.load_campaigns(ctx.url)
    if recorded.empty:
        st.caption(t("campaigns.none", lang))
        return
    measured = {cid: campaign_data.load_result(ctx.url, ctx.version, cid) for cid in recorded["campaign_id"]}
    listing = recorded[["campaign_id", "start_date", "end_date", "n_treated", "n_holdout", "cost", "author"]].assign(
        status=[_status(*measured[c], e, lang) for c, e in zip(recorded["campaign_id"], recorded["end_date"])])
    ui.table(_headers(listing, lang), "campaigns", formats={t("campaigns.col.cost", lang): "money"})
    done = [r for r, _ in measured.values() if r is not None]
    if not done:
        st.caption(t("campaigns.nothing_measured", lang))
        return
    uplift = pd.DataFrame([(r.campaign_id, r.retention_treated, r.retention_holdout, r.uplift, *r.uplift_ci,
                            r.spend_uplift) for r in done],
                          columns=["campaign_id", "retention_treated", "retention_holdout", "uplift", "uplift_low",
                                   "uplift_high", "spend_uplift"])
    percent = {t(f"campaigns.col.{c}", lang): "percent" for c in uplift.columns[1:6]}
    ui.table(_headers(uplift, lang), "campaign-uplift",
             formats={**percent, t("campaigns.col.spend_uplift", lang): "money"})
    st.caption(t("campaigns.uplift_caption", lang))
    st.markdown(f"**{t('campaigns.model_title', lang)}**")
    pooling, reason = campaign_data.load_pooling(ctx.url, ctx.version, ctx.end, rules,
                                                 tuple(r.campaign_id for r in done))
    if pooling is None:
        st.info(t("campaigns.no_pooling", lang, reason=reason))
        return
    num = {k: fmt_number(v, lang, 3) for k, v in (
        ("obs", pooling.beta_observational), ("obs_se", pooling.se_observational), ("camp", pooling.beta_campaign),
        ("camp_se", pooling.se_campaign), ("pooled", pooling.beta), ("pooled_se", pooling.se))}
    st.write(t("campaigns.pooled_sentence", lang, **num, weight=fmt_percent(pooling.weight_campaign, lang, 0)))
    ui.table(_pooling_table(pooling, lang), "campaign-pooling", formats={t("campaigns.col.weight", lang): "percent"})
    c0 = care_data.load_care_model(ctx.url, ctx.version, ctx.end, rules).c0_
    st.caption(t("campaigns.pooling_caption", lang, bias=fmt_number(pooling.confounding_sd, lang, 3),
                 c0=fmt_money(c0, lang)))


def render() -> None:
    """The panel, below the Care page (it reads the page's period, filters and language itself)."""
    if (period := state.period()) is None:
        return
    url = common.database_url()
    ctx = filters.PageContext(url, common.current_version(url), state.lang(), period, state.store(), state.tiers())
    rules = common.load_tier_rules(url)[0].to_payload()
    st.divider()
    st.header(t("campaigns.title", ctx.lang))
    st.caption(t("campaigns.intro", ctx.lang))
    ui.flash(PREFIX)
    _section_plan(ctx, rules)
    _section_results(ctx, rules)
