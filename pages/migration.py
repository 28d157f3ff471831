"""Tier migration: how members move between tiers from one period to the next ("make the pyramid move")."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import partial

import streamlit as st

from dashboard import filters, state, ui
from dashboard.data import common, migration as migration_data
from dashboard.figures.migration import projection, sankey, transition_heatmap
from dashboard.i18n import fmt_percent, t, tier_name
from vipmodel import migration
from vipmodel.pyramid import TierRules

# The first granularity and weight, and the default cell, are the view the precompute warms (dashboard.data.migration).
GRANULARITIES, FLOW_WEIGHTS = migration_data.GRANULARITIES, migration_data.FLOW_WEIGHTS
SOURCES, TARGETS = ["A", "B", "C", "D", "new"], ["A", "B", "C", "D", "lost"]


def _state_label(code: str, lang: str) -> str:
    return tier_name(code, lang) if code in "ABCD" else t(f"migration.state.{code}", lang)


def _flow_links(matrix: migration.TransitionMatrix, values, weight: str):
    """Sankey links sized by ``weight``, with each flow's member count for the hover."""
    counts = migration.sankey_data(matrix)
    if weight == "members":
        return counts
    # sankey_data reads the cells as counts: rounded to the yuan, the value table takes their place.
    links = migration.sankey_data(replace(matrix, counts=values.round().astype("int64")))
    return links.merge(counts[["source", "target", "value"]].rename(columns={"value": "members"}),
                       on=["source", "target"], how="left")


def _section_flows(matrix: migration.TransitionMatrix, values, weight: str, lang: str) -> None:
    nodes = migration.sankey_nodes(matrix)
    labels = [_state_label(s, lang) for s in nodes["state"]]
    title = t(f"migration.sankey_title.{weight}", lang, start=matrix.from_period, end=matrix.to_period)
    fmt = ",.0f" if weight == "members" else "¥,.0f"
    ui.chart(sankey(_flow_links(matrix, values, weight), nodes, labels, title,
                    (str(matrix.from_period), str(matrix.to_period)), fmt, t("migration.members", lang)),
             "migration-sankey")
    if weight != "members":
        st.caption(t("migration.weight_caption", lang))
    left, right = st.columns(2)
    with left:
        rates = matrix.rates
        ui.chart(transition_heatmap(rates, [_state_label(s, lang) for s in rates.index],
                                    [_state_label(s, lang) for s in rates.columns],
                                    t("migration.heatmap_title", lang)), "migration-heatmap")
    with right:
        moves = migration.movement_rates(matrix)
        shown = moves.rename(index=lambda k: tier_name(k, lang), columns=lambda c: t(f"migration.{c}", lang))
        for column in shown.columns[1:]:
            shown[column] = shown[column].map(lambda v: fmt_percent(v, lang))
        st.markdown(f"**{t('migration.rates_title', lang)}**")
        ui.table(shown.reset_index(names=t("common.tier", lang)), "migration-rates")


def _section_projection(matrix: migration.TransitionMatrix, rules: TierRules, lang: str) -> None:
    st.subheader(t("migration.projection_title", lang))
    steps = st.slider(t("migration.steps", lang), 1, 8, 3, key="mig_steps")
    start_counts = matrix.counts.loc[["A", "B", "C", "D", "new"], ["A", "B", "C", "D"]].sum()
    frame = migration.project_pyramid(matrix, start_counts, steps)
    labels = {k: tier_name(k, lang) for k in "ABCD"}
    ui.chart(projection(frame, labels, t("migration.step", lang), t("migration.projection_chart", lang)),
             "migration-projection")
    st.caption(t("migration.assumption", lang))
    if rules.basis == "share":  # every period is tiered by rank: the tier sizes are the rule's shares, whatever happens
        st.caption(t("migration.share_rule_projection", lang))


def _section_members(cell: Callable, matrix: migration.TransitionMatrix, lang: str) -> None:
    st.subheader(t("migration.members_title", lang))
    left, right = st.columns(2)
    default_source, default_target = migration_data.DEFAULT_CELL
    source = left.selectbox(t("migration.from_state", lang), SOURCES, index=SOURCES.index(default_source),
                            format_func=lambda s: _state_label(s, lang), key="mig_cell_from")
    target = right.selectbox(t("migration.to_state", lang), TARGETS, index=TARGETS.index(default_target),
                             format_func=lambda s: _state_label(s, lang), key="mig_cell_to")
    members = cell(matrix.from_period, matrix.to_period, source, target)
    st.caption(t("migration.members_count", lang, n=len(members)))
    ui.table(members, f"members-{source}-to-{target}", height=280)


def main() -> None:
    st.title(t("page.migration", state.lang()))
    if (ctx := filters.page_context()) is None:
        return
    lang = ctx.lang
    # The period pickers stay on the projector (presentation mode hides every other control): the meeting picks them.
    keep = st.container(key=ui.PRESENTATION_KEEP)
    granularity = keep.selectbox(t("migration.granularity", lang), GRANULARITIES,
                               format_func=lambda g: t(f"migration.granularity.{g}", lang), key="mig_granularity")
    rules, _ = common.load_tier_rules(ctx.url)
    # Snapshots of the store's members (tier flows run between tiers: no tier filter); every step cached.
    args = (ctx.url, ctx.version, migration_data.snapshot_start(ctx.end), ctx.end, granularity,
            rules.to_payload(), ctx.store)
    with st.spinner(t("common.loading", lang)):
        periods, rows = migration_data.load_snapshot_periods(*args)
    filters.scope(ctx, "filters.reason.flows", uses=("store",))
    ui.margin_note(ctx.url, ctx.version, *ctx.period)
    if not filters.has_members(rows, ctx):
        return
    if len(periods) < 2:
        st.info(t("migration.need_two_periods", lang))
        return
    left, right = keep.columns(2)
    start_period = left.selectbox(t("migration.from_period", lang), periods[:-1], index=len(periods) - 2, key="mig_from")
    later = [p for p in periods if p > start_period]
    end_period = right.selectbox(t("migration.to_period", lang), later, index=0, key="mig_to")
    weight = FLOW_WEIGHTS[0] if state.presentation() else st.radio(  # the meeting sees flows by value
        t("migration.weight", lang), FLOW_WEIGHTS, horizontal=True, key="mig_weight",
        format_func=lambda w: t(f"migration.weight.{w}", lang), help=t("migration.weight_help", lang))
    matrix = migration_data.load_transition(*args, start_period, end_period)
    values = (None if weight == "members"
              else migration_data.load_transition_values(*args, start_period, end_period, weight))
    _section_flows(matrix, values, weight, lang)
    _section_projection(matrix, rules, lang)
    _section_members(partial(migration_data.load_members_in_cell, *args), matrix, lang)


main()
