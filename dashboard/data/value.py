"""The Value & churn risk page's loaders (lifetime values, the at-risk list, the value sections under the sidebar
filters, the churn score's evaluation) and its default view; the plan's workbook is dashboard.maintenance's."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pandas as pd

from dashboard.data.common import cached, get_engine, load_referral_weights, shared
from dashboard.data.members import member_ids
from dashboard.data.stored import stored
from dashboard.members_filter import restrict
from dashboard.state import ALL_TIERS
from vipmodel.pyramid import TierRules

INACTIVE_TIER = "inactive"  # bought once, but not in the 12 months up to the period end: no tier
EVALUATION_STEP = "value.evaluation"  # reads none of the page's other results (dashboard.precompute_plan.chains)


@cached(show_spinner=False, max_entries=4)
@stored
def load_member_values(url: str, version: str, as_of: dt.date):
    """BG/NBD + Gamma-Gamma lifetime value per member and the simple rule (``retention.member_values``; slow).

    Raises its ValueError (no purchases, nobody bought twice...) uncached, for the page to explain.
    """
    from vipmodel import retention

    with get_engine(url).connect() as conn:
        return retention.member_values(conn, as_of)


@cached(show_spinner=False, max_entries=8)
@stored
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


@cached(show_spinner=False, max_entries=4)
@stored
def load_value_model(url: str, version: str, as_of: dt.date):
    """The member values' fitted models and settings without the per-member frame (kilobytes): what the Value page
    shows of them (parameters, horizon, discount rate) without reading a million members' values from disk."""
    from dataclasses import replace

    values = load_member_values(url, version, as_of)
    return replace(values, frame=values.frame.iloc[:0])


@cached(show_spinner=False, max_entries=4)
@stored
def load_value_view(
    url: str, version: str, as_of: dt.date, rules_payload: dict, weights_payload: dict | None
) -> pd.DataFrame:
    """Every valued member with its 12-month ``tier`` ("inactive" without one): the lifetime-value section under the
    sidebar filters (:func:`load_value_sections`), derived once per data version (a million members)."""
    values = load_member_values(url, version, as_of)
    risk = load_at_risk(url, version, as_of, rules_payload, weights_payload)
    tiers = risk.set_index("member_id")["tier"].reindex(values.frame["member_id"]).fillna(INACTIVE_TIER).to_numpy()
    return values.frame.assign(tier=tiers)


@cached(show_spinner=False, max_entries=4)
@stored
def load_flagged_members(
    url: str, version: str, as_of: dt.date, rules_payload: dict, weights_payload: dict | None
) -> pd.DataFrame:
    """The at-risk list: members with a warning signal, ranked by value at risk, with one boolean column
    ``reason:<code>`` per reason code and ``retention.NO_CLEAR_REASON`` (``vipmodel.value_summary.reason_flags``).
    Kept apart from :func:`load_value_view`, so opening the Value page reads only these members from disk."""
    from vipmodel.value_summary import reason_flags

    risk = load_at_risk(url, version, as_of, rules_payload, weights_payload)
    flagged = risk[risk["signals"].map(len) > 0].reset_index(drop=True)
    return flagged.join(reason_flags(flagged))


@cached(show_spinner=False, max_entries=16)
@stored
def load_value_sections(
    url: str, version: str, as_of: dt.date, rules_payload: dict, weights_payload: dict | None, store: str | None,
    tiers: tuple[str, ...],
) -> dict:
    """The lifetime-value section of the Value page over the members the sidebar filters keep, in numbers small
    enough to read on every rerun: ``members``, ``total_clv``, ``boxes`` (``vipmodel.value_summary.clv_boxes``) and
    ``summary`` (``vipmodel.value_summary.tier_value_summary``). Each is a pass over every valued member."""
    from vipmodel.value_summary import clv_boxes, tier_value_summary

    every = shared(load_value_view, url, version, as_of, rules_payload, weights_payload)
    frame = restrict(every, member_ids(url, version, None, store), tiers)
    return {"members": len(frame), "total_clv": float(frame["model_clv"].sum()),
            "boxes": clv_boxes(frame, [*"ABCD", INACTIVE_TIER]), "summary": tier_value_summary(frame)}


@cached(show_spinner=False, max_entries=4)
@stored
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


def warm_default(url: str, version: str, start: dt.date, end: dt.date,
                 rules: dict) -> list[tuple[str, Callable[[], object]]]:
    """(step name, call) for what the page reads at its default view (``dashboard.precompute_plan.steps``)."""
    weights = load_referral_weights(url)
    return [
        ("value.values", lambda: load_member_values(url, version, end)),
        ("value.at_risk", lambda: load_at_risk(url, version, end, rules, weights)),
        ("value.model", lambda: load_value_model(url, version, end)),
        ("value.view", lambda: shared(load_value_view, url, version, end, rules, weights)),
        ("value.flagged", lambda: shared(load_flagged_members, url, version, end, rules, weights)),
        ("value.sections", lambda: load_value_sections(url, version, end, rules, weights, None, ALL_TIERS)),
        (EVALUATION_STEP, lambda: shared(load_churn_evaluation, url, version, end, rules, weights)),
    ]
