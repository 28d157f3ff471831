"""The member features every page starts from, and the sidebar's store and tier choice as member ids.

* Store: members whose home store (``members.home_store``) is the selected one.
* Tier: members whose tier under the saved tier rules, on their purchases in the sidebar period, is among the
  selected ones -- as the Customer pyramid page tiers them; a member without a purchase in the period has no tier.

Loaders and pages keep the rows of these members with ``dashboard.members_filter.restrict``; a frame that carries
its own tier (a churn panel's behaviour-year tier, the 12-month tier of the care and value pages) is filtered on
that column instead, with :func:`member_ids` of the store only (see ``dashboard.filters``).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from dashboard.data.common import cached, get_engine, load_tier_rules, shared
from dashboard.data.stored import stored
from dashboard.state import ALL_TIERS
from vipmodel import features
from vipmodel.pyramid import TierRules


@cached(show_spinner=False, max_entries=8)
def load_features(url: str, version: str, start: dt.date, end: dt.date, period: str = "range") -> pd.DataFrame:
    """Per-member features of the period (aggregated in the database).

    Not stored in the database: the loaders that derive a page's view from it are (at a million members three
    years of yearly features took 0.9 GB of ``stored_views`` and of the precompute's memory, read by nobody).
    """
    with get_engine(url).connect() as conn:
        return features.member_features(conn, start, end, period=period)


@cached(show_spinner=False, max_entries=8)
@stored
def load_pyramid_features(url: str, version: str, start: dt.date, end: dt.date) -> pd.DataFrame:
    """Only the columns re-tiering needs, so each slider move copies as little as possible."""
    frame = shared(load_features, url, version, start, end)
    return frame.loc[frame["n_transactions"] > 0, ["member_id", "sales", "profit_contribution"]].reset_index(drop=True)


@cached(show_spinner=False, max_entries=8)
def load_store_members(url: str, version: str, store: str) -> pd.Index:
    """Ids of the members whose home store is ``store``."""
    from sqlalchemy import select

    from vipmodel.schema import members

    with get_engine(url).connect() as conn:
        ids = conn.execute(select(members.c.member_id).where(members.c.home_store == store)).scalars().all()
    return pd.Index(ids, dtype=object, name="member_id")


@cached(show_spinner=False, max_entries=8)
def load_tier_members(
    url: str, version: str, start: dt.date, end: dt.date, rules_payload: dict, tiers: tuple[str, ...]
) -> pd.Index:
    """Ids of the members whose tier under the rules, on their purchases in ``[start, end]``, is in ``tiers``.

    Tiered as the Customer pyramid page tiers them (``load_pyramid_features``); members without a purchase in the
    period have no tier and are never in the result.
    """
    from vipmodel.pyramid import assign_tiers

    features = shared(load_pyramid_features, url, version, start, end)
    if features.empty:
        return pd.Index([], dtype=object, name="member_id")
    tier = assign_tiers(features, TierRules.from_payload(rules_payload)).astype(str)
    return pd.Index(tier.index[tier.isin(tiers)], dtype=object, name="member_id")


def member_ids(url: str, version: str, period: tuple[dt.date, dt.date] | None, store: str | None,
               tiers: tuple[str, ...] = ALL_TIERS) -> pd.Index | None:
    """Ids of the members the filters keep; None when they keep everyone. ``period`` is needed for a tier filter."""
    ids = shared(load_store_members, url, version, store) if store is not None else None
    if tuple(tiers) != ALL_TIERS:
        rules = load_tier_rules(url)[0].to_payload()
        in_tiers = shared(load_tier_members, url, version, period[0], period[1], rules, tuple(tiers))
        ids = in_tiers if ids is None else ids.intersection(in_tiers)
    return ids
