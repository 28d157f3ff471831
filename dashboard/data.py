"""The I/O boundary: the shared engine, the database URL, first-start demo data and cached loaders.

Every loader takes the URL and the data token (version and a random part, ``db.data_token``) as arguments so a
cached result is dropped as soon as an import or a demo regeneration bumps the version. Every loader the background
precompute (``dashboard.precompute``, started after each data change) fills persists its results on disk
(``persist="disk"``), the small widget-driven ones too: a restarted server, and every new browser session, reads what
the precompute or an earlier visit computed instead of aggregating a million members again. Only the sidebar's
member-id filters and the settings history stay in memory.
"""

from __future__ import annotations

import datetime as dt
import gc
import os
from typing import TYPE_CHECKING

import pandas as pd
import streamlit as st
from sqlalchemy import Engine

from dashboard.state import ALL_TIERS
from vipmodel import db, features, kpi, margins, migration, settings
from vipmodel.auth import Actor
from vipmodel.pyramid import DEFAULT_RULES, RulePreview, TierRules

if TYPE_CHECKING:
    from vipmodel.satisfaction import WeightEvaluator

DEMO_MEMBERS = int(os.environ.get("VIPDASH_DEMO_MEMBERS", "20000"))
INACTIVE_TIER = "inactive"  # bought once, but not in the 12 months up to the period end: no tier


def database_url() -> str:
    """``$VIPDASH_DATABASE_URL``, else ``[connections.sql] url`` from secrets.toml, else the embedded SQLite file."""
    if os.environ.get(db.ENV_URL):
        return os.environ[db.ENV_URL]
    try:
        url = st.secrets["connections"]["sql"]["url"]
    except (KeyError, FileNotFoundError, AttributeError):
        url = None
    except Exception:  # noqa: BLE001 - a malformed secrets.toml must not stop the app
        url = None
    return url or db.default_url()


def is_default_database(url: str) -> bool:
    """True when ``url`` is the embedded demo database (the one the app may fill by itself)."""
    return url == db.default_url() and not os.environ.get(db.ENV_URL)


@st.cache_resource(show_spinner=False)
def get_engine(url: str) -> Engine:
    """One engine per URL, shared by every session."""
    return db.make_engine(url)


def has_data(url: str) -> bool:
    """Whether the database at ``url`` holds a loaded mall."""
    return db.has_data(get_engine(url))


def display_name(url: str) -> str:
    """The URL without password, for messages."""
    return get_engine(url).url.render_as_string(hide_password=True)


def ensure_demo_data(url: str, on_progress) -> bool:
    """Generate the demo mall into the embedded database when it is empty; True if data is there afterwards."""
    engine = get_engine(url)
    if db.has_data(engine):
        return True
    if not is_default_database(url):
        return False
    from vipmodel.demo import generate

    generate(engine, members=DEMO_MEMBERS, progress=on_progress)
    st.cache_data.clear()
    return True


SHARED_ENTRIES = 16  # big read-only results kept as objects (up to a few hundred MB each at a million members);
# the default views of all pages hold about 10 of them


@st.cache_resource(show_spinner=False, max_entries=SHARED_ENTRIES)
def _shared(loader: str, *args):
    return globals()[loader](*args)


def shared(loader, *args):
    """``loader(*args)`` as one object in memory that every session and rerun reads without a copy.

    ``st.cache_data`` hands each run its own copy, unpickled from bytes: for a million-member frame that is 0.1 to
    1 s on every rerun. Results read this way are shared and read-only: a page filters and aggregates them into
    new frames, never changes them in place (pandas' copy-on-write keeps derived frames separate).
    """
    return _shared(loader.__name__, *args)


def clear_shared() -> None:
    """Drop the shared objects (with ``st.cache_data.clear()`` when the data is replaced)."""
    _shared.clear()
    gc.unfreeze()  # the precompute froze them (precompute._keep_from_the_collector): let their cycles be collected


def current_version(url: str) -> str:
    """The data token (cheap; read on every run to key the caches, in memory and on disk)."""
    with get_engine(url).connect() as conn:
        return db.data_token(conn)


@st.cache_data(persist="disk", show_spinner=False)
def load_freshness(url: str, version: str) -> dict:
    """Latest transaction, member count, last import per kind."""
    with get_engine(url).connect() as conn:
        return db.data_freshness(conn)


@st.cache_data(persist="disk", show_spinner=False)
def load_latest_date(url: str, version: str) -> dt.date | None:
    """The date of the latest transaction."""
    with get_engine(url).connect() as conn:
        return kpi.latest_activity_date(conn)


@st.cache_data(persist="disk", show_spinner=False)
def load_first_date(url: str, version: str) -> dt.date | None:
    """The date of the first transaction: the earliest day the sidebar's period may start (any year)."""
    with get_engine(url).connect() as conn:
        return kpi.first_activity_date(conn)


@st.cache_data(persist="disk", show_spinner=False)
def load_overview_kpis(url: str, version: str, as_of: dt.date) -> pd.DataFrame:
    """KPIs at ``as_of`` with the change against one week earlier."""
    with get_engine(url).connect() as conn:
        return kpi.overview_kpis(conn, as_of)


@st.cache_data(persist="disk", show_spinner=False)
def load_weekly_trend(url: str, version: str, as_of: dt.date, weeks: int = 26) -> pd.DataFrame:
    """Weekly sales, buyers and complaints up to ``as_of``."""
    with get_engine(url).connect() as conn:
        return kpi.weekly_trend(conn, as_of, weeks)


@st.cache_data(persist="disk", show_spinner=False, max_entries=8)
def load_features(url: str, version: str, start: dt.date, end: dt.date, period: str = "range") -> pd.DataFrame:
    """Per-member features of the period (aggregated in the database)."""
    with get_engine(url).connect() as conn:
        return features.member_features(conn, start, end, period=period)


@st.cache_data(persist="disk", show_spinner=False, max_entries=8)
def load_pyramid_features(url: str, version: str, start: dt.date, end: dt.date) -> pd.DataFrame:
    """Only the columns re-tiering needs, so each slider move copies as little as possible."""
    frame = load_features(url, version, start, end)
    return frame.loc[frame["n_transactions"] > 0, ["member_id", "sales", "profit_contribution"]].reset_index(drop=True)


def load_rule_preview(url: str, version: str, start: dt.date, end: dt.date, current: TierRules) -> RulePreview:
    """The threshold preview's fixed part (values, tiers in force, profit ranking), built once per period and rules."""
    # Read through shared(): built from the shared features, it holds arrays only and is never changed.
    return RulePreview(shared(load_pyramid_features, url, version, start, end), current, check_unique=False)


@st.cache_data(show_spinner=False)
def load_setting_history(url: str, kind: str) -> pd.DataFrame:
    """All saved versions of a setting (cleared by :func:`save_setting`)."""
    with get_engine(url).connect() as conn:
        return settings.setting_history(conn, kind)


def load_tier_rules(url: str) -> tuple[TierRules, int | None]:
    """The latest saved tier rules and their version, or the default 1/4/15/80 pyramid and None."""
    history = load_setting_history(url, "tier_rules")
    if history.empty:
        return DEFAULT_RULES, None
    latest = history.iloc[-1]
    return TierRules.from_payload(latest["payload"]), int(latest["version"])


def save_setting(url: str, kind: str, payload: dict, actor: Actor, note: str) -> settings.SettingVersion:
    """Save a new version as ``actor`` and drop the cached history (margin rates also start a new data version)."""
    # Given the engine, vipmodel commits inside its own check for a concurrent save (SQLite's lock shows at commit).
    saved = settings.save_setting(get_engine(url), kind, payload, actor, note=note)
    load_setting_history.clear()
    return saved


@st.cache_data(persist="disk", show_spinner=False, max_entries=4)
def load_snapshots(url: str, version: str, start: dt.date, end: dt.date, period: str, rules_payload: dict) -> pd.DataFrame:
    """Tier per member and period, each period tiered on its own."""
    frame = load_features(url, version, start, end, period)
    frame = frame[frame["n_transactions"] > 0]
    return migration.tier_snapshots(frame, TierRules.from_payload(rules_payload))


def _snapshots_kept(url: str, version: str, start: dt.date, end: dt.date, period: str, rules_payload: dict,
                    store: str | None) -> pd.DataFrame:
    from dashboard.filters import restrict

    snapshots = load_snapshots(url, version, start, end, period, rules_payload)
    return restrict(snapshots, url, version, None, store, ALL_TIERS)


@st.cache_data(persist="disk", show_spinner=False, max_entries=16)
def load_snapshot_periods(url: str, version: str, start: dt.date, end: dt.date, period: str, rules_payload: dict,
                          store: str | None = None) -> tuple[list, int]:
    """(sorted periods, member-period rows) of the tier snapshots of the members of ``store`` (all when None)."""
    snapshots = _snapshots_kept(url, version, start, end, period, rules_payload, store)
    return sorted(snapshots["period"].unique()), len(snapshots)


@st.cache_data(persist="disk", show_spinner=False, max_entries=32)
def load_transition(url: str, version: str, start: dt.date, end: dt.date, period: str, rules_payload: dict,
                    store: str | None, from_period, to_period) -> migration.TransitionMatrix:
    """``migration.transition_matrix`` between two snapshot periods (a pass over millions of member-periods)."""
    snapshots = _snapshots_kept(url, version, start, end, period, rules_payload, store)
    return migration.transition_matrix(snapshots, from_period, to_period)


@st.cache_data(persist="disk", show_spinner=False, max_entries=32)
def load_members_in_cell(url: str, version: str, start: dt.date, end: dt.date, period: str, rules_payload: dict,
                         store: str | None, from_period, to_period, source: str, target: str) -> pd.DataFrame:
    """The members behind one cell of the transition matrix (``migration.members_in_cell``)."""
    snapshots = _snapshots_kept(url, version, start, end, period, rules_payload, store)
    return migration.members_in_cell(snapshots, from_period, to_period, source, target)


FLOW_WEIGHTS = ("profit_contribution", "sales", "members")  # what sizes the Sankey's flows; the first is the default


@st.cache_data(persist="disk", show_spinner=False, max_entries=32)
def load_transition_values(url: str, version: str, start: dt.date, end: dt.date, period: str, rules_payload: dict,
                           store: str | None, from_period, to_period, weight: str) -> pd.DataFrame:
    """The transition matrix's cells weighted by value: the sum of ``weight`` (a member-feature column such as
    ``profit_contribution``) over the members of each cell, shaped like ``TransitionMatrix.counts``.

    A member weighs with the earlier period's value (what the tier had, and what moved or left); a new member with
    the later period's. A negative value counts 0, since a flow cannot be negative: D members with a negative
    contribution are still counted on the member-weighted view.
    """
    snapshots = _snapshots_kept(url, version, start, end, period, rules_payload, store)
    features = load_features(url, version, start, end, period)
    tiers, values = {}, {}
    for name, label in (("from", from_period), ("to", to_period)):
        rows = snapshots[(snapshots["period"] == label).to_numpy()]
        tiers[name] = pd.Series(rows["tier"].astype(str).to_numpy(), index=rows["member_id"].to_numpy())
        kept = features[(features["period"] == label).to_numpy()]
        values[name] = pd.Series(kept[weight].to_numpy(dtype=float), index=kept["member_id"].to_numpy())
    cells = pd.concat(tiers, axis=1).fillna({"from": migration.NEW, "to": migration.LOST})
    weights = values["from"].reindex(cells.index).where(cells["from"] != migration.NEW,
                                                         values["to"].reindex(cells.index))
    table = weights.clip(lower=0).fillna(0.0).groupby([cells["from"], cells["to"]]).sum().unstack(fill_value=0.0)
    table = table.reindex(index=list(migration.FROM_STATES), columns=list(migration.TO_STATES), fill_value=0.0)
    return table.rename_axis(index="from", columns="to")


def regenerate_demo(url: str, members: int, actor: Actor, on_progress) -> None:
    """Replace the embedded database's contents with a freshly generated demo mall (confirmed on the page, so
    imported data may go too) and drop every cached result."""
    if not is_default_database(url):
        raise ValueError("only the embedded demo database can be regenerated from the app")
    from vipmodel.demo import regenerate

    regenerate(get_engine(url), actor, replace=True, members=members, progress=on_progress)
    st.cache_data.clear()
    clear_shared()


# --- Referrals page ----------------------------------------------------------------------------------------------
def load_referral_weights(url: str) -> dict | None:
    """The latest saved satisfaction weights payload (part of the cache keys below), or None for equal weights."""
    history = load_setting_history(url, "satisfaction_weights")
    return None if history.empty else dict(history.iloc[-1]["payload"])


@st.cache_data(persist="disk", show_spinner=False, max_entries=8)
def load_referral_rates(
    url: str, version: str, as_of: dt.date, by: str, rules_payload: dict, weights_payload: dict | None
) -> pd.DataFrame:
    """Referrals per 100 active members in the year to ``as_of``, by tier or satisfaction bucket."""
    from vipmodel import referrals

    with get_engine(url).connect() as conn:
        return referrals.referral_rates(
            conn, as_of, by, rules=TierRules.from_payload(rules_payload),
            weights=weights_payload or {d: 1.0 for d in referrals.schema.DIMENSIONS},
        )


@st.cache_data(persist="disk", show_spinner=False, max_entries=4)
def load_referred_value(url: str, version: str, as_of: dt.date) -> pd.DataFrame:
    """Referred vs. other new members: value in the joining year, next-year sales and churn."""
    from vipmodel import referrals

    with get_engine(url).connect() as conn:
        return referrals.referred_value(conn, as_of)


@st.cache_data(persist="disk", show_spinner=False, max_entries=8)
def load_new_member_referrals(url: str, version: str, start: dt.date, end: dt.date) -> dict:
    """Members who joined in ``[start, end]`` and the share referred (as a dict of NewMemberReferrals)."""
    from dataclasses import asdict

    from vipmodel import referrals

    with get_engine(url).connect() as conn:
        return asdict(referrals.new_member_referrals(conn, start, end))


# --- Complaints & churn page ---------------------------------------------------------------------------------------
@st.cache_data(persist="disk", show_spinner=False, max_entries=4)
def load_churn_panel(
    url: str, version: str, as_of: dt.date, years: int = 2, rules_payload: dict | None = None
) -> pd.DataFrame:
    """Member-year panel (:func:`vipmodel.outcomes.churn_panel`): each year's features and churn in the next year."""
    from vipmodel.outcomes import churn_panel

    rules = DEFAULT_RULES if rules_payload is None else TierRules.from_payload(rules_payload)
    with get_engine(url).connect() as conn:
        return churn_panel(conn, as_of, years, rules)


def _panel_facts(panel: pd.DataFrame) -> dict:
    from vipmodel.complaints import COUNT_COLUMNS

    if panel.empty:
        return {"rows": 0, "members": 0, "first": None, "last": None, "complaints": 0}
    return {"rows": len(panel), "members": int(panel["member_id"].nunique()), "first": panel["window_start"].min(),
            "last": panel["window_end"].max(), "complaints": int(panel[list(COUNT_COLUMNS)].to_numpy().sum())}


@st.cache_data(persist="disk", show_spinner=False, max_entries=16)
def load_complaint_count(url: str, version: str, start: dt.date, end: dt.date, store: str | None = None,
                         tiers: tuple[str, ...] = ALL_TIERS) -> int:
    """Complaints filed in ``[start, end]`` by the members the sidebar filters keep (a number, not a frame to copy)."""
    from dashboard.filters import restrict

    frame = restrict(load_features(url, version, start, end), url, version, (start, end), store, tiers)
    return int(frame["n_complaints"].sum()) if not frame.empty else 0


PANEL_ANALYSES = ("facts", "churn_by_group", "group_difference_test", "standard_effects", "correlation_matrix")


@st.cache_data(persist="disk", show_spinner=False, max_entries=64)
def load_panel_analysis(
    url: str, version: str, as_of: dt.date, years: int, rules_payload: dict, store: str | None,
    tiers: tuple[str, ...], analysis: str, *args,
):
    """One analysis of the churn panel the sidebar filters keep (behaviour-year tiers), cached: ``"facts"`` (rows,
    members, window, complaints) or a :mod:`vipmodel.complaints` function of the panel (see :data:`PANEL_ANALYSES`)
    called with ``args``. Complaints are counted by their handling status as recorded by the end of the following
    year (``complaints.with_status``), as the page's regression does. At a million members each is a pass over
    millions of member-years: computed once, read on every rerun. Raises the analysis' ValueError uncached, for
    the page to explain.
    """
    from dashboard.filters import restrict
    from vipmodel import complaints

    if analysis not in PANEL_ANALYSES:
        raise KeyError(f"unknown panel analysis {analysis!r}; known: {', '.join(PANEL_ANALYSES)}")
    panel = restrict(load_churn_panel(url, version, as_of, years, rules_payload), url, version, None, store, tiers,
                     tier_column="tier")
    if analysis == "facts":
        return _panel_facts(panel)
    return getattr(complaints, analysis)(complaints.with_status(panel, "final"), *args)


# --- Satisfaction page ---------------------------------------------------------------------------------------------
def load_satisfaction_weights(url: str):
    """The latest saved satisfaction weights and their version, or equal thirds and None."""
    from vipmodel.satisfaction import DEFAULT_WEIGHTS, SatisfactionWeights

    history = load_setting_history(url, "satisfaction_weights")
    if history.empty:
        return DEFAULT_WEIGHTS, None
    latest = history.iloc[-1]
    return SatisfactionWeights.from_payload(latest["payload"]), int(latest["version"])


@st.cache_data(persist="disk", show_spinner=False, max_entries=8)
def load_dimension_scores(url: str, version: str, start: dt.date, end: dt.date) -> pd.DataFrame:
    """Per survey response in ``[start, end]``: the three dimension scores and the expectation (SQL GROUP BY)."""
    from vipmodel.satisfaction import dimension_scores

    with get_engine(url).connect() as conn:
        return dimension_scores(conn, start, end)


@st.cache_data(persist="disk", show_spinner=False, max_entries=32)
def load_satisfaction_index(
    url: str, version: str, start: dt.date, end: dt.date, weights_payload: dict, by: str, period: str,
    rules_payload: dict,
) -> pd.DataFrame:
    """Satisfaction index and experience − expectation gap by tier, store or period (raises InsufficientSurveyData).

    Computed from the cached survey scores and pyramid features of the period (``satisfaction.index_by_scores``),
    not from the database: a weight or grouping change costs a pass over the responses, not two aggregations.
    """
    from vipmodel.satisfaction import SatisfactionWeights, index_by_scores

    if by == "tier":
        scores = shared(tiered_scores, url, version, start, end, rules_payload)
    else:
        scores = shared(load_dimension_scores, url, version, start, end)
    return index_by_scores(scores, SatisfactionWeights.from_payload(weights_payload), by, period)


def tiered_scores(url: str, version: str, start: dt.date, end: dt.date, rules_payload: dict) -> pd.DataFrame:
    """The period's survey scores with the tier of each respondent (read through :func:`shared`: matching a million
    members' tiers to the responses took half a second on every weight change)."""
    from vipmodel.pyramid import assign_tiers
    from vipmodel.satisfaction import response_tiers

    scores = shared(load_dimension_scores, url, version, start, end)
    features = shared(load_pyramid_features, url, version, start, end)
    tiers = assign_tiers(features, TierRules.from_payload(rules_payload)) if len(features) else pd.Series(dtype=object)
    return scores.assign(tier=response_tiers(scores, tiers))


def surveyed_panel(url: str, version: str, as_of: dt.date, rules_payload: dict, store: str | None,
                   tiers: tuple[str, ...]) -> tuple[pd.DataFrame, int]:
    """The two-year churn panel's member-years with a survey score, among those the sidebar filters keep, and the
    number of kept member-years without one (read through :func:`shared`: a weight check runs on a third of the
    rows instead of all of them)."""
    from dashboard.filters import restrict
    from vipmodel.satisfaction import SCORE_COLUMNS

    panel = restrict(shared(load_churn_panel, url, version, as_of, 2, rules_payload), url, version, None, store,
                     tiers, tier_column="tier")
    surveyed = panel[list(SCORE_COLUMNS)].notna().any(axis=1).to_numpy()
    return panel.loc[surveyed].reset_index(drop=True), int((~surveyed).sum())


def weight_evaluator(url: str, version: str, as_of: dt.date, rules_payload: dict, store: str | None,
                     tiers: tuple[str, ...]) -> WeightEvaluator:
    """The surveyed panel reduced to its score patterns, so a new set of weights is checked in milliseconds (read
    through :func:`shared`)."""
    from vipmodel.satisfaction import WeightEvaluator

    panel, _ = shared(surveyed_panel, url, version, as_of, rules_payload, store, tiers)
    return WeightEvaluator().fit(panel)


@st.cache_data(persist="disk", show_spinner=False, max_entries=64)
def load_weights_check(
    url: str, version: str, start: dt.date, end: dt.date, rules_payload: dict, store: str | None,
    tiers: tuple[str, ...], weights_payload: dict,
) -> dict:
    """What the Satisfaction page shows for one set of weights, over the members the sidebar filters keep: the
    mean index and gap of the period's responses and how well the index foresaw churn on the two-year panel
    (``evaluate_weights``, cached per weights; InsufficientSurveyData is raised uncached).
    ``{"index": mean, "scored": n, "gap": mean, "evaluation": WeightEvaluation}``."""
    from dataclasses import replace

    from dashboard.filters import restrict
    from vipmodel.satisfaction import SatisfactionWeights, index_table

    weights = SatisfactionWeights.from_payload(weights_payload)
    scores = restrict(shared(load_dimension_scores, url, version, start, end), url, version, (start, end), store,
                      tiers)
    _, without_survey = shared(surveyed_panel, url, version, end, rules_payload, store, tiers)
    evaluator = shared(weight_evaluator, url, version, end, rules_payload, store, tiers)
    # Member-years without a score never enter the evaluation; leaving them out first changes only this count.
    evaluation = replace(evaluator.evaluate(weights), n_without_survey=without_survey)
    table = index_table(scores, weights)
    return {"index": float(table["satisfaction_index"].mean()), "scored": int(table["scored"].sum()),
            "gap": float(table["gap"].mean()), "evaluation": evaluation}


@st.cache_data(persist="disk", show_spinner=False, max_entries=8)
def load_importance_performance(url: str, version: str, as_of: dt.date, rules_payload: dict,
                                weights_payload: dict) -> pd.DataFrame:
    """``importance_performance`` of the whole two-year panel with the saved weights and the suggested ones."""
    from vipmodel.satisfaction import SatisfactionWeights, importance_performance

    panel = shared(load_churn_panel, url, version, as_of, 2, rules_payload)
    suggested = load_suggested_weights(url, version, as_of, rules_payload, weights_payload)
    return importance_performance(panel, SatisfactionWeights.from_payload(weights_payload), suggested)


@st.cache_data(persist="disk", show_spinner=False, max_entries=4)
def load_suggested_weights(url: str, version: str, as_of: dt.date, rules_payload: dict, weights_payload: dict):
    """Weights fitted to next-year churn on the 2-year churn panel, with member-level bootstrap intervals, the share
    of draws keeping their order and the cross-fitted gain (slow: cached; 200 draws, seeded, so every visit and the
    precompute show the same numbers).

    Raises InsufficientSurveyData uncached, for the page to explain.
    """
    from vipmodel.satisfaction import SatisfactionWeights, suggest_weights

    panel = load_churn_panel(url, version, as_of, 2, rules_payload)
    return suggest_weights(panel, current=SatisfactionWeights.from_payload(weights_payload), n_boot=200, seed=0,
                           cluster="member_id")


@st.cache_data(persist="disk", show_spinner=False, max_entries=4)
def load_loyalty_indicators(url: str, version: str, as_of: dt.date) -> tuple[pd.DataFrame, dict]:
    """Loyalty indicators for the year to ``as_of`` vs. the year before, and ``{indicator: reason}`` left out."""
    from vipmodel.satisfaction import loyalty_indicators

    with get_engine(url).connect() as conn:
        frame = loyalty_indicators(conn, as_of)
    return frame, dict(frame.attrs.get("omitted", {}))


# --- Care what-if page -------------------------------------------------------------------------------------------
CARE_CURVE_MULTIPLIERS: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0)
CARE_VALUE_YEARS = 3


def _care_year_start(as_of: dt.date) -> dt.date:
    from vipmodel.outcomes import add_years

    return add_years(as_of, -1) + dt.timedelta(days=1)


@st.cache_data(persist="disk", show_spinner=False, max_entries=4)
def load_care_members(url: str, version: str, as_of: dt.date, rules_payload: dict) -> tuple[pd.DataFrame, str]:
    """Members who bought in the year to ``as_of``: ``member_id``, ``tier`` (saved rules), ``value``; and its source.

    ``value`` is the member's 3-year lifetime value (``vipmodel.retention.member_values``, column ``model_clv``:
    BG/NBD + Gamma-Gamma, discounted) and the source ``"clv"``; when those models cannot be fitted on the data
    (e.g. nobody bought twice) it is the documents' rule, annual profit contribution x 3 years, source ``"proxy"``.
    """
    from vipmodel import retention
    from vipmodel.pyramid import assign_tiers

    with get_engine(url).connect() as conn:
        feats = features.member_features(conn, _care_year_start(as_of), as_of, period="range")
        active = feats[feats["n_transactions"] > 0].reset_index(drop=True)
        if active.empty:
            return pd.DataFrame(columns=["member_id", "tier", "value"]), "none"
        try:
            clv = retention.member_values(conn, as_of, horizon_years=CARE_VALUE_YEARS).frame
            values, source = clv.set_index("member_id")["model_clv"], "clv"
        except ValueError:
            values, source = None, "proxy"
    tiers = assign_tiers(active, TierRules.from_payload(rules_payload)).astype(str)
    frame = pd.DataFrame({"member_id": active["member_id"].astype(str).to_numpy(), "tier": tiers.to_numpy()})
    if values is None:
        frame["value"] = active["profit_contribution"].astype(float).to_numpy() * CARE_VALUE_YEARS
    else:
        # A member whose only activity was a return has no purchase history to value: worth nothing to retain.
        frame["value"] = values.reindex(frame["member_id"]).fillna(0.0).astype(float).to_numpy()
    return frame, source


@st.cache_data(persist="disk", show_spinner=False, max_entries=4)
def load_care_model(url: str, version: str, as_of: dt.date, rules_payload: dict):
    """The care response model (IPW) fitted on the two member-years before ``as_of`` (``care.care_panel``).

    Raises ValueError (not cached) when the history cannot identify it, e.g. less than three years of data.
    """
    from vipmodel import care

    with get_engine(url).connect() as conn:
        panel = care.care_panel(conn, as_of, years=2, rules=TierRules.from_payload(rules_payload))
    return care.CareResponseModel(method="ipw").fit(panel)


@st.cache_data(persist="disk", show_spinner=False, max_entries=8)
def load_has_care_records(url: str, version: str, as_of: dt.date) -> bool:
    """Whether any care action is recorded on or before ``as_of`` (else the care page asks for the care import)."""
    from sqlalchemy import select

    from vipmodel.schema import care_actions

    with get_engine(url).connect() as conn:
        found = conn.execute(select(care_actions.c.member_id).where(care_actions.c.action_date <= as_of).limit(1))
        return found.first() is not None


@st.cache_data(persist="disk", show_spinner=False, max_entries=4)
def load_current_care_plan(url: str, version: str, as_of: dt.date, rules_payload: dict) -> dict:
    """What the mall actually did in the year to ``as_of``, as a care-plan payload (``CarePlan.to_payload``)."""
    from vipmodel import care

    with get_engine(url).connect() as conn:
        plan = care.current_plan_from_history(conn, _care_year_start(as_of), as_of, TierRules.from_payload(rules_payload))
    return plan.to_payload()


def load_saved_care_plan(url: str) -> tuple[dict | None, int | None]:
    """The latest saved care plan payload and its version, or (None, None)."""
    history = load_setting_history(url, "care_plan")
    if history.empty:
        return None, None
    latest = history.iloc[-1]
    return dict(latest["payload"]), int(latest["version"])


def _scaled_care_plan(plan_payload: dict, factor: float):
    from vipmodel.care import CarePlan

    plan = CarePlan.from_payload(plan_payload)
    per_year = {t: {k: n * factor for k, n in acts.items()} for t, acts in plan.per_year.items()}
    return CarePlan(per_year=per_year, unit_costs=plan.unit_costs)


# --- Value & churn risk page ---------------------------------------------------------------------------------------
@st.cache_data(persist="disk", show_spinner=False, max_entries=4)
def load_member_values(url: str, version: str, as_of: dt.date):
    """BG/NBD + Gamma-Gamma lifetime value per member and the simple rule (``retention.member_values``; slow).

    Raises its ValueError (no purchases, nobody bought twice...) uncached, for the page to explain.
    """
    from vipmodel import retention

    with get_engine(url).connect() as conn:
        return retention.member_values(conn, as_of)


@st.cache_data(persist="disk", show_spinner=False, max_entries=8)
def load_at_risk(
    url: str, version: str, as_of: dt.date, rules_payload: dict, weights_payload: dict | None
) -> pd.DataFrame:
    """``retention.at_risk`` for EVERY member active in the year to ``as_of`` (``only_flagged=False``).

    The page keeps the members with a warning signal for the at-risk list and uses the rest for tiers and totals.
    """
    from vipmodel import retention

    values = load_member_values(url, version, as_of)
    with get_engine(url).connect() as conn:
        return retention.at_risk(conn, as_of, values, tier_rules=TierRules.from_payload(rules_payload),
                                 satisfaction_weights=weights_payload, only_flagged=False)


@st.cache_data(persist="disk", show_spinner=False, max_entries=4)
def load_value_model(url: str, version: str, as_of: dt.date):
    """The member values' fitted models and settings without the per-member frame (kilobytes): what the Value page
    shows of them (parameters, horizon, discount rate) without reading a million members' values from disk."""
    from dataclasses import replace

    values = load_member_values(url, version, as_of)
    return replace(values, frame=values.frame.iloc[:0])


@st.cache_data(persist="disk", show_spinner=False, max_entries=4)
def load_value_view(
    url: str, version: str, as_of: dt.date, rules_payload: dict, weights_payload: dict | None
) -> pd.DataFrame:
    """Every valued member with its 12-month ``tier`` ("inactive" without one): the lifetime-value section under the
    sidebar filters (:func:`load_value_sections`), derived once per data version (a million members)."""
    values = load_member_values(url, version, as_of)
    risk = load_at_risk(url, version, as_of, rules_payload, weights_payload)
    tiers = risk.set_index("member_id")["tier"].reindex(values.frame["member_id"]).fillna(INACTIVE_TIER).to_numpy()
    return values.frame.assign(tier=tiers)


@st.cache_data(persist="disk", show_spinner=False, max_entries=4)
def load_flagged_members(
    url: str, version: str, as_of: dt.date, rules_payload: dict, weights_payload: dict | None
) -> pd.DataFrame:
    """The at-risk list: members with a warning signal, ranked by value at risk, with one boolean column
    ``reason:<code>`` per reason code (and ``retention.NO_CLEAR_REASON``) so picking reasons is a vectorised ``any``.
    Kept apart from :func:`load_value_view`, so opening the Value page reads only these members from disk."""
    from vipmodel.retention import NO_CLEAR_REASON, REASONS

    risk = load_at_risk(url, version, as_of, rules_payload, weights_payload)
    flagged = risk[risk["signals"].map(len) > 0].reset_index(drop=True)
    reasons = pd.DataFrame({code: [code in r for r in flagged["reasons"]] for code in REASONS}, dtype=bool)
    reasons[NO_CLEAR_REASON] = flagged["reasons"].map(len).eq(0).to_numpy()
    return flagged.join(reasons.add_prefix("reason:"))


@st.cache_data(persist="disk", show_spinner=False, max_entries=16)
def load_value_sections(
    url: str, version: str, as_of: dt.date, rules_payload: dict, weights_payload: dict | None, store: str | None,
    tiers: tuple[str, ...],
) -> dict:
    """The lifetime-value section of the Value page over the members the sidebar filters keep, in numbers small
    enough to read on every rerun: ``members``, ``total_clv``, ``boxes`` (``figures.value.clv_boxes``) and
    ``summary`` (``figures.value.tier_value_summary``). Each is a pass over every valued member."""
    from dashboard.figures.value import clv_boxes, tier_value_summary
    from dashboard.filters import restrict

    every = shared(load_value_view, url, version, as_of, rules_payload, weights_payload)
    frame = restrict(every, url, version, None, store, tiers, tier_column="tier")
    return {"members": len(frame), "total_clv": float(frame["model_clv"].sum()),
            "boxes": clv_boxes(frame, [*"ABCD", INACTIVE_TIER]), "summary": tier_value_summary(frame)}


@st.cache_data(persist="disk", show_spinner=False, max_entries=4)
def load_churn_evaluation(url: str, version: str, as_of: dt.date, rules_payload: dict, weights_payload: dict | None):
    """``(RiskEvaluation, None)`` of the score on the year before ``as_of``, or ``(None, reason)`` when it cannot be
    evaluated (e.g. less than two years of data); the reason is cached too, so a failing evaluation is not redone."""
    from vipmodel import retention
    from vipmodel.outcomes import add_years

    try:
        with get_engine(url).connect() as conn:
            evaluation = retention.evaluate_churn_risk(
                conn, as_of, holdout_days=(as_of - add_years(as_of, -1)).days,
                tier_rules=TierRules.from_payload(rules_payload), satisfaction_weights=weights_payload,
            )
    except ValueError as exc:
        return None, str(exc)
    return evaluation, None


@st.cache_data(show_spinner=False, max_entries=8)
def maintenance_plan_xlsx(plan: pd.DataFrame, sheet_title: str) -> bytes:
    """The maintenance plan as a formatted Excel workbook (``retention.write_maintenance_plan_xlsx``)."""
    import io

    from vipmodel.retention import write_maintenance_plan_xlsx

    buffer = io.BytesIO()
    write_maintenance_plan_xlsx(plan, buffer, sheet_title)
    return buffer.getvalue()


# --- Shared sidebar filters: store and tier (applied by dashboard.filters) -----------------------------------------
@st.cache_data(persist="disk", show_spinner=False)
def load_stores(url: str, version: str) -> list[str]:
    """The distinct home stores of the members (``members.home_store``), sorted, for the sidebar's store filter."""
    from sqlalchemy import select

    from vipmodel.schema import members

    with get_engine(url).connect() as conn:
        stores = conn.execute(select(members.c.home_store).where(members.c.home_store.is_not(None)).distinct())
        return sorted(str(s) for s in stores.scalars())


@st.cache_data(show_spinner=False, max_entries=8)
def load_store_members(url: str, version: str, store: str) -> pd.Index:
    """Ids of the members whose home store is ``store``."""
    from sqlalchemy import select

    from vipmodel.schema import members

    with get_engine(url).connect() as conn:
        ids = conn.execute(select(members.c.member_id).where(members.c.home_store == store)).scalars().all()
    return pd.Index(ids, dtype=object, name="member_id")


@st.cache_data(show_spinner=False, max_entries=8)
def load_tier_members(
    url: str, version: str, start: dt.date, end: dt.date, rules_payload: dict, tiers: tuple[str, ...]
) -> pd.Index:
    """Ids of the members whose tier under the rules, on their purchases in ``[start, end]``, is in ``tiers``.

    Tiered as the Customer pyramid page tiers them (``load_pyramid_features``); members without a purchase in the
    period have no tier and are never in the result.
    """
    from vipmodel.pyramid import assign_tiers

    features = load_pyramid_features(url, version, start, end)
    if features.empty:
        return pd.Index([], dtype=object, name="member_id")
    tier = assign_tiers(features, TierRules.from_payload(rules_payload)).astype(str)
    return pd.Index(tier.index[tier.isin(tiers)], dtype=object, name="member_id")


def _care_members_kept(url: str, version: str, as_of: dt.date, rules_payload: dict, store: str | None,
                       tiers: tuple[str, ...]) -> pd.DataFrame:
    from dashboard.filters import restrict

    members, _ = load_care_members(url, version, as_of, rules_payload)
    return restrict(members, url, version, None, store, tiers, tier_column="tier")


@st.cache_data(persist="disk", show_spinner=False, max_entries=32)
def load_care_simulation(
    url: str, version: str, as_of: dt.date, rules_payload: dict, plan_payload: dict, current_payload: dict,
    store: str | None = None, tiers: tuple[str, ...] = ALL_TIERS,
):
    """``care.simulate`` of a plan against the current one over the care members the sidebar filters keep.

    Cached by the plan's payload: a rerun that did not change the plan (another widget, a language switch) reads.
    """
    from vipmodel import care

    members = _care_members_kept(url, version, as_of, rules_payload, store, tiers)
    model = load_care_model(url, version, as_of, rules_payload)
    return care.simulate(members, care.CarePlan.from_payload(plan_payload), model,
                         current_plan=care.CarePlan.from_payload(current_payload))


@st.cache_data(persist="disk", show_spinner=False, max_entries=16)
def load_care_curve(
    url: str, version: str, as_of: dt.date, rules_payload: dict, plan_payload: dict,
    multipliers: tuple[float, ...] = CARE_CURVE_MULTIPLIERS, store: str | None = None,
    tiers: tuple[str, ...] = ALL_TIERS,
) -> pd.DataFrame:
    """Retained value against spend per tier: ``care.simulate`` on the plan with every frequency scaled by each multiplier,
    over the care members the sidebar filters keep (``dashboard.filters.restrict``).

    Columns ``multiplier``, ``tier``, ``spend``, ``retained_value``, ``retained_value_p05``, ``retained_value_p95``,
    ``retained_value_zero`` and ``supported_spend`` (the tier's spend at the care per member the history supports,
    ``CareResponseModel.care_support_`` x members) (one row per multiplier and tier with members).
    """
    from vipmodel import care

    members = _care_members_kept(url, version, as_of, rules_payload, store, tiers)
    model = load_care_model(url, version, as_of, rules_payload)
    columns = ["tier", "spend", "retained_value", "retained_value_p05", "retained_value_p95", "retained_value_zero"]
    frames = []
    for factor in multipliers:
        table = care.simulate(members, _scaled_care_plan(plan_payload, factor), model).by_tier
        table = table.assign(supported_spend=table["supported_spend_per_member"] * table["members"])
        frames.append(table.loc[table["tier"] != "total", [*columns, "supported_spend"]].assign(multiplier=factor))
    return pd.concat(frames, ignore_index=True)[["multiplier", *columns, "supported_spend"]]


@st.cache_data(persist="disk", show_spinner=False, max_entries=16)
def load_care_allocation(
    url: str, version: str, as_of: dt.date, rules_payload: dict, budget: float, unit_costs: dict,
    objective: str = "retained_value", store: str | None = None, tiers: tuple[str, ...] = ALL_TIERS,
    support_scale: float | None = 1.0,
):
    """The optimiser's split of ``budget`` across tiers (``care.optimise_budget``) with the given unit costs, over
    the care members the sidebar filters keep; ``support_scale`` widens the care range the history supports
    (None: no limit but the actions')."""
    from vipmodel import care

    members = _care_members_kept(url, version, as_of, rules_payload, store, tiers)
    model = load_care_model(url, version, as_of, rules_payload)
    return care.optimise_budget(members, model, budget, unit_costs=unit_costs, objective=objective,
                                support_scale=support_scale)


@st.cache_data(persist="disk", show_spinner=False, max_entries=4)
def load_complaint_regression(
    url: str, version: str, as_of: dt.date, years: int = 2, rules_payload: dict | None = None,
    store: str | None = None, tiers: tuple[str, ...] = ALL_TIERS,
):
    """Per-complaint churn associations (:func:`vipmodel.complaints.adjusted_churn_effects`) on the churn panel the
    sidebar filters keep (behaviour-year tiers): adjusted for tier, log sales and satisfaction on the surveyed
    member-years, next to the fits without satisfaction; member-clustered errors, final handling status.

    The tier control is dropped when the panel holds a single tier. Raises the unadjusted fit's ValueError (too few
    member-years, separation...) uncached, for the page to explain; a failed adjusted fit is kept in the result.
    """
    from dashboard.filters import restrict
    from vipmodel.complaints import adjusted_churn_effects

    panel = load_churn_panel(url, version, as_of, years, rules_payload)
    panel = restrict(panel, url, version, None, store, tiers, tier_column="tier")
    controls = ("tier", "log_sales") if panel["tier"].nunique() > 1 else ("log_sales",)
    return adjusted_churn_effects(panel, controls)


@st.cache_data(persist="disk", show_spinner=False, max_entries=8)
def load_top_referrers(
    url: str, version: str, start: dt.date, end: dt.date, n: int, show_names: bool, rules_payload: dict,
    weights_payload: dict | None, store: str | None = None, tiers: tuple[str, ...] = ALL_TIERS,
) -> pd.DataFrame:
    """The members who referred most new members joining in ``[start, end]`` (names masked unless asked), among
    the referrers the sidebar filters keep (``dashboard.filters.member_ids``)."""
    from dashboard.filters import member_ids
    from vipmodel import referrals

    with get_engine(url).connect() as conn:
        return referrals.top_referrers(
            conn, end, n, start=start, show_names=show_names, rules=TierRules.from_payload(rules_payload),
            weights=weights_payload or {d: 1.0 for d in referrals.schema.DIMENSIONS},
            members=member_ids(url, version, (start, end), store, tiers),
        )


@st.cache_data(persist="disk", show_spinner=False)
def load_margin_coverage(url: str, version: str, start: dt.date, end: dt.date,
                         store: str | None = None) -> margins.MarginCoverage:
    """The share of the period's sales whose margin is estimated from the rates, and the rates."""
    with get_engine(url).connect() as conn:
        return margins.margin_coverage(conn, start, end, store)
