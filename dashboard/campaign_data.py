"""Cached loaders of the Care page's campaigns panel: recorded campaigns, their measured uplift, the pooled effect.

Campaigns are few and their rows immutable once recorded, so the list is cached in memory and dropped by
:func:`record` (the one writer); measurements and the pooling are keyed on the data token like every other loader,
since a new import is what makes a campaign's year measurable.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import partial

import pandas as pd

from dashboard.data import care as care_data
from dashboard.data import common
from dashboard.data import value as value_data
from dashboard.data.members import member_ids
from dashboard.members_filter import restrict
from dashboard.state import ALL_TIERS
from vipmodel import campaigns
from vipmodel.auth import Actor
from vipmodel.care import TIERS

AT_RISK_COLUMNS = ["member_id", "tier", "value_at_risk"]
# The panel's inputs as it opens. Actions: what the pyramid strategies suggest per tier (DOMAIN.md), personal care
# on top, information below.
DEFAULT_ACTIONS: dict[str, tuple[str, ...]] = {"A": ("phone_greeting", "birthday_gift"), "B": ("phone_greeting",),
                                               "C": ("sms",), "D": ("sms",)}
DEFAULT_HOLDOUT = 0.3
DEFAULT_SEED = 1
PLAN_STEP = "care.campaign_plan"


def load_at_risk(url: str, version: str, as_of: dt.date, rules_payload: dict) -> pd.DataFrame:
    """The Value page's at-risk list (members with a warning signal, highest value at risk first), the columns a
    campaign needs; read through the same shared, cached result as the Value page."""
    weights = common.load_referral_weights(url)
    flagged = common.shared(value_data.load_flagged_members, url, version, as_of, rules_payload, weights)
    return flagged[AT_RISK_COLUMNS].copy()


# A resource, not cache_data: one plan per set of inputs for every session, read only (Campaign is frozen). Planning
# the at-risk list of a million members (sorting by member_id, drawing the holdout) took seconds on every run.
@common.cached(resource=True, show_spinner=False, max_entries=8)
def load_campaign_plan(url: str, version: str, as_of: dt.date, rules_payload: dict, store: str | None,
                       kept_tiers: tuple[str, ...], tiers: tuple[str, ...], holdout_share: float, seed: int,
                       actions: dict[str, tuple[str, ...]], start: dt.date) -> campaigns.Campaign:
    """``campaigns.plan_campaign`` over the at-risk members the sidebar filters keep (``store``, ``kept_tiers``) in
    ``tiers``; raises its ValueError (uncached) for the panel to show."""
    at_risk = restrict(load_at_risk(url, version, as_of, rules_payload), member_ids(url, version, None, store),
                       kept_tiers, "member_id", "tier")
    return campaigns.plan_campaign(at_risk[at_risk["tier"].isin(tiers)], holdout_share, seed,
                                   {k: list(v) for k, v in actions.items()}, start)


def plan_tiers(at_risk: pd.DataFrame) -> list[str]:
    """The tiers a plan can cover (and covers by default): those of the at-risk list, in A-D order."""
    present = set(at_risk["tier"])
    return [k for k in TIERS if k in present]


def first_day(url: str, version: str, end: dt.date) -> dt.date:
    """The earliest start of a campaign: the day after the latest data (``end`` when there is none)."""
    return (common.load_latest_date(url, version) or end) + dt.timedelta(days=1)


def warm_default(url: str, version: str, start: dt.date, end: dt.date,
                 rules: dict) -> list[tuple[str, Callable[[], object]]]:
    """(step name, call) for the panel's plan as it opens (``dashboard.precompute_plan.steps``). The plan is not
    stored (seconds to draw from the stored at-risk list): a server draws it as it reads the results back, so the
    page's first visitor does not."""
    return [(PLAN_STEP, partial(_warm_plan, url, version, end, rules))]


def _warm_plan(url: str, version: str, end: dt.date, rules: dict) -> None:
    tiers = plan_tiers(load_at_risk(url, version, end, rules))
    if tiers:  # the same arguments, in the same order, as campaigns_panel passes them
        load_campaign_plan(url, version, end, rules, None, ALL_TIERS, tuple(tiers), DEFAULT_HOLDOUT, DEFAULT_SEED,
                           {k: DEFAULT_ACTIONS[k] for k in tiers}, first_day(url, version, end))


@common.cached(show_spinner=False)
def load_campaigns(url: str) -> pd.DataFrame:
    """Every recorded campaign (``vipmodel.campaigns.list_campaigns``), newest first."""
    return campaigns.list_campaigns(common.get_engine(url))


@common.cached(show_spinner=False, max_entries=64)
def load_result(url: str, version: str, campaign_id: str) -> tuple[campaigns.CampaignResult | None, str | None]:
    """``(result, None)`` of the campaign's one-year measurement, or ``(None, reason)`` when it cannot be measured
    yet (its year has not passed in the data) or at all; the reason is cached too."""
    engine = common.get_engine(url)
    try:
        campaign = campaigns.load_campaign(engine, campaign_id)
        return campaigns.measure_campaign(engine, campaign, campaigns.measurement_end(campaign.start_date)), None
    except ValueError as exc:
        return None, str(exc)


@common.cached(show_spinner=False, max_entries=16)
def load_pooling(url: str, version: str, as_of: dt.date, rules_payload: dict,
                 campaign_ids: tuple[str, ...]) -> tuple[campaigns.CarePooling | None, str | None]:
    """``(pooling, None)`` of the care model fitted at ``as_of`` (the Care page's) with the measured campaigns, or
    ``(None, reason)`` when the model cannot be fitted or a campaign says nothing about care."""
    results = [load_result(url, version, cid)[0] for cid in campaign_ids]
    try:
        model = care_data.load_care_model(url, version, as_of, rules_payload)
        return campaigns.pool_care_effect(model, [r for r in results if r is not None]), None
    except ValueError as exc:
        return None, str(exc)


def record(url: str, campaign: campaigns.Campaign, actor: Actor, note: str) -> int:
    """Record ``campaign`` as ``actor`` (``vipmodel.campaigns.record_campaign`` checks the role and audits it) and
    drop the cached list; returns the care actions written."""
    written = campaigns.record_campaign(common.get_engine(url), campaign, actor, note=note)
    load_campaigns.clear()
    return written
