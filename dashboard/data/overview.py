"""The Overview page's loaders (KPIs, weekly trend) and its default view."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pandas as pd

from dashboard.data.common import cached, get_engine, load_margin_coverage, shared
from dashboard.data.members import load_pyramid_features, member_ids
from dashboard.data.stored import stored
from dashboard.members_filter import restrict
from vipmodel import kpi
from vipmodel.outcomes import add_years
from vipmodel.pyramid import TierRules, assign_tiers, tier_summary

COVERAGE_STEP = "margins.coverage"  # the estimated-margin note: not stored, a server draws it as it reads back


def pyramid_start(end: dt.date) -> dt.date:
    """The first day of the overview pyramid's period: the year up to ``end``, whatever the sidebar's period."""
    return add_years(end, -1) + dt.timedelta(days=1)


@cached(show_spinner=False)
@stored
def load_overview_kpis(url: str, version: str, as_of: dt.date) -> pd.DataFrame:
    """KPIs at ``as_of`` with the change against one week earlier."""
    with get_engine(url).connect() as conn:
        return kpi.overview_kpis(conn, as_of)


@cached(show_spinner=False)
@stored
def load_weekly_trend(url: str, version: str, as_of: dt.date, weeks: int = 26) -> pd.DataFrame:
    """Weekly sales, buyers and complaints up to ``as_of``."""
    with get_engine(url).connect() as conn:
        return kpi.weekly_trend(conn, as_of, weeks)


@cached(show_spinner=False, max_entries=16)
@stored
def load_overview_pyramid(url: str, version: str, end: dt.date, rules_payload: dict,
                          store: str | None = None) -> pd.DataFrame | None:
    """The pyramid of the year to ``end`` (``pyramid.tier_summary``): members tiered on the whole mall under the
    saved rules, then kept to the members of ``store`` (all when None). A small frame: a rerun re-tiers nobody.

    None when nobody bought in the year; a frame with an empty ``members`` column when nobody of ``store`` did.
    """
    features = shared(load_pyramid_features, url, version, pyramid_start(end), end)
    if features.empty:
        return None
    tiers = assign_tiers(features, TierRules.from_payload(rules_payload))
    if store is not None:
        features = restrict(features, member_ids(url, version, None, store))
    if features.empty:
        return pd.DataFrame({"members": pd.Series(dtype="int64")})
    return tier_summary(features, tiers, check_unique=False)  # cached features: unique


def warm_default(url: str, version: str, start: dt.date, end: dt.date,
                 rules: dict) -> list[tuple[str, Callable[[], object]]]:
    """(step name, call) for what the page reads at its default view (``dashboard.precompute_plan.steps``)."""
    year_start = pyramid_start(end)
    return [
        ("overview.kpis", lambda: load_overview_kpis(url, version, end)),
        # The estimated-margin note of every page that shows profit: one pass over the period's sales.
        (COVERAGE_STEP, lambda: load_margin_coverage(url, version, start, end)),
        ("overview.trend", lambda: load_weekly_trend(url, version, end)),
        ("overview.pyramid", lambda: shared(load_pyramid_features, url, version, year_start, end)),
        ("overview.pyramid_summary", lambda: load_overview_pyramid(url, version, end, rules, None)),
    ]
