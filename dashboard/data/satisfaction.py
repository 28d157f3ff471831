"""The Satisfaction page's loaders (survey scores, the index, checking and suggesting weights, importance and
performance, loyalty indicators) and its default view."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

import pandas as pd

from dashboard.data.common import cached, get_engine, load_setting_history, shared
from dashboard.data.complaints import load_churn_panel
from dashboard.data.members import load_pyramid_features, member_ids
from dashboard.data.stored import stored
from dashboard.members_filter import restrict
from dashboard.state import ALL_TIERS
from vipmodel.pyramid import TierRules

if TYPE_CHECKING:
    from vipmodel.satisfaction import WeightEvaluator


def load_satisfaction_weights(url: str):
    """The latest saved satisfaction weights and their version, or equal thirds and None."""
    from vipmodel.satisfaction import DEFAULT_WEIGHTS, SatisfactionWeights

    history = load_setting_history(url, "satisfaction_weights")
    if history.empty:
        return DEFAULT_WEIGHTS, None
    latest = history.iloc[-1]
    return SatisfactionWeights.from_payload(latest["payload"]), int(latest["version"])


@cached(show_spinner=False, max_entries=8)
@stored
def load_dimension_scores(url: str, version: str, start: dt.date, end: dt.date) -> pd.DataFrame:
    """Per survey response in ``[start, end]``: the three dimension scores and the expectation (SQL GROUP BY)."""
    from vipmodel.satisfaction import dimension_scores

    with get_engine(url).connect() as conn:
        return dimension_scores(conn, start, end)


@cached(show_spinner=False, max_entries=32)
@stored
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
    from vipmodel.satisfaction import SCORE_COLUMNS

    panel = restrict(shared(load_churn_panel, url, version, as_of, 2, rules_payload),
                     member_ids(url, version, None, store), tiers)
    surveyed = panel[list(SCORE_COLUMNS)].notna().any(axis=1).to_numpy()
    return panel.loc[surveyed].reset_index(drop=True), int((~surveyed).sum())


def weight_evaluator(url: str, version: str, as_of: dt.date, rules_payload: dict, store: str | None,
                     tiers: tuple[str, ...]) -> WeightEvaluator:
    """The surveyed panel reduced to its score patterns, so a new set of weights is checked in milliseconds (read
    through :func:`shared`)."""
    from vipmodel.satisfaction import WeightEvaluator

    panel, _ = shared(surveyed_panel, url, version, as_of, rules_payload, store, tiers)
    return WeightEvaluator().fit(panel)


@cached(show_spinner=False, max_entries=64)
@stored
def load_weights_check(
    url: str, version: str, start: dt.date, end: dt.date, rules_payload: dict, store: str | None,
    tiers: tuple[str, ...], weights_payload: dict,
) -> dict:
    """What the Satisfaction page shows for one set of weights, over the members the sidebar filters keep: the
    mean index and gap of the period's responses and how well the index foresaw churn on the two-year panel
    (``evaluate_weights``, cached per weights; InsufficientSurveyData is raised uncached).
    ``{"index": mean, "scored": n, "gap": mean, "evaluation": WeightEvaluation}``."""
    from dataclasses import replace

    from vipmodel.satisfaction import SatisfactionWeights, index_table

    weights = SatisfactionWeights.from_payload(weights_payload)
    scores = restrict(shared(load_dimension_scores, url, version, start, end),
                      member_ids(url, version, (start, end), store, tiers))
    _, without_survey = shared(surveyed_panel, url, version, end, rules_payload, store, tiers)
    evaluator = shared(weight_evaluator, url, version, end, rules_payload, store, tiers)
    # Member-years without a score never enter the evaluation; leaving them out first changes only this count.
    evaluation = replace(evaluator.evaluate(weights), n_without_survey=without_survey)
    table = index_table(scores, weights)
    return {"index": float(table["satisfaction_index"].mean()), "scored": int(table["scored"].sum()),
            "gap": float(table["gap"].mean()), "evaluation": evaluation}


@cached(show_spinner=False, max_entries=8)
@stored
def load_importance_performance(url: str, version: str, as_of: dt.date, rules_payload: dict,
                                weights_payload: dict) -> pd.DataFrame:
    """``importance_performance`` of the whole two-year panel with the saved weights and the suggested ones."""
    from vipmodel.satisfaction import SatisfactionWeights, importance_performance

    panel = shared(load_churn_panel, url, version, as_of, 2, rules_payload)
    suggested = load_suggested_weights(url, version, as_of, rules_payload, weights_payload)
    return importance_performance(panel, SatisfactionWeights.from_payload(weights_payload), suggested)


@cached(show_spinner=False, max_entries=4)
@stored
def load_suggested_weights(url: str, version: str, as_of: dt.date, rules_payload: dict, weights_payload: dict):
    """Weights fitted to next-year churn on the 2-year churn panel, with member-level bootstrap intervals, the share
    of draws keeping their order and the cross-fitted gain (slow: cached; 200 draws, seeded, so every visit and the
    precompute show the same numbers).

    Raises InsufficientSurveyData uncached, for the page to explain.
    """
    from vipmodel.satisfaction import SatisfactionWeights, suggest_weights

    panel = shared(load_churn_panel, url, version, as_of, 2, rules_payload)  # read only: no copy of 0.6 GB
    return suggest_weights(panel, current=SatisfactionWeights.from_payload(weights_payload), n_boot=200, seed=0,
                           cluster="member_id")


@cached(show_spinner=False, max_entries=4)
@stored
def load_loyalty_indicators(url: str, version: str, as_of: dt.date) -> tuple[pd.DataFrame, dict]:
    """Loyalty indicators for the year to ``as_of`` vs. the year before, and ``{indicator: reason}`` left out."""
    from vipmodel.satisfaction import loyalty_indicators

    with get_engine(url).connect() as conn:
        frame = loyalty_indicators(conn, as_of)
    return frame, dict(frame.attrs.get("omitted", {}))


def warm_default(url: str, version: str, start: dt.date, end: dt.date,
                 rules: dict) -> list[tuple[str, Callable[[], object]]]:
    """(step name, call) for what the page reads at its default view (``dashboard.precompute_plan.steps``)."""
    saved_weights = load_satisfaction_weights(url)[0].to_payload()
    return [
        ("satisfaction.scores", lambda: shared(load_dimension_scores, url, version, start, end)),
        ("satisfaction.weights", partial(_warm_weights, url, version, start, end, rules)),
        ("satisfaction.suggested", lambda: load_suggested_weights(url, version, end, rules, saved_weights)),
        ("satisfaction.loyalty", lambda: load_loyalty_indicators(url, version, end)),
    ]


def _warm_weights(url: str, version: str, start: dt.date, end: dt.date, rules: dict) -> None:
    # As the page opens: the saved weights through the sliders (whole percent) checked against the saved ones, the
    # index grouped by tier, and the importance-performance table.
    from vipmodel.satisfaction import SatisfactionWeights

    saved = load_satisfaction_weights(url)[0]
    weights = SatisfactionWeights.normalised(*(int(round(v * 100)) for v in saved.as_dict().values()))
    for payload in (weights.to_payload(), saved.to_payload()):
        load_weights_check(url, version, start, end, rules, None, ALL_TIERS, payload)
    load_satisfaction_index(url, version, start, end, weights.to_payload(), "tier", "quarter", rules)
    # What a weight slider move reads, in memory (a restarted server finds the two results above on disk): the
    # panel reduced to its score patterns, with the next-year sales ranks of all-positive weights, and the tiers.
    shared(tiered_scores, url, version, start, end, rules)
    shared(weight_evaluator, url, version, end, rules, None, ALL_TIERS).evaluate(weights)
    load_importance_performance(url, version, end, rules, saved.to_payload())
