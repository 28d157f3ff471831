"""The Referrals page's loaders (referral rates, the referred members' value, new members referred, the top
referrers) and its default view."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pandas as pd

from dashboard.data.common import cached, get_engine, load_referral_weights
from dashboard.data.members import member_ids
from dashboard.data.stored import stored
from dashboard.state import ALL_TIERS
from vipmodel.pyramid import TierRules

GROUPINGS = ("tier", "satisfaction")  # what the referral rates are grouped by; the first is the default
TOP_N = 20  # top referrers listed


@cached(show_spinner=False, max_entries=8)
@stored
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


@cached(show_spinner=False, max_entries=4)
@stored
def load_referred_value(url: str, version: str, as_of: dt.date) -> pd.DataFrame:
    """Referred vs. other new members: value in the joining year, next-year sales and churn."""
    from vipmodel import referrals

    with get_engine(url).connect() as conn:
        return referrals.referred_value(conn, as_of)


@cached(show_spinner=False, max_entries=8)
@stored
def load_new_member_referrals(url: str, version: str, start: dt.date, end: dt.date) -> dict:
    """Members who joined in ``[start, end]`` and the share referred (as a dict of NewMemberReferrals)."""
    from dataclasses import asdict

    from vipmodel import referrals

    with get_engine(url).connect() as conn:
        return asdict(referrals.new_member_referrals(conn, start, end))


@cached(show_spinner=False, max_entries=8)
@stored
def load_top_referrers(
    url: str, version: str, start: dt.date, end: dt.date, n: int, show_names: bool, rules_payload: dict,
    weights_payload: dict | None, store: str | None = None, tiers: tuple[str, ...] = ALL_TIERS,
) -> pd.DataFrame:
    """The members who referred most new members joining in ``[start, end]`` (names masked unless asked), among
    the referrers the sidebar filters keep (``dashboard.data.members.member_ids``)."""
    from vipmodel import referrals

    with get_engine(url).connect() as conn:
        return referrals.top_referrers(
            conn, end, n, start=start, show_names=show_names, rules=TierRules.from_payload(rules_payload),
            weights=weights_payload or {d: 1.0 for d in referrals.schema.DIMENSIONS},
            members=member_ids(url, version, (start, end), store, tiers),
        )


def warm_default(url: str, version: str, start: dt.date, end: dt.date,
                 rules: dict) -> list[tuple[str, Callable[[], object]]]:
    """(step name, call) for what the page reads at its default view (``dashboard.precompute_plan.steps``)."""
    weights = load_referral_weights(url)
    return [
        ("referrals.new", lambda: load_new_member_referrals(url, version, start, end)),
        ("referrals.rates", lambda: load_referral_rates(url, version, end, GROUPINGS[0], rules, weights)),
        ("referrals.value", lambda: load_referred_value(url, version, end)),
        # As the page calls it: all stores, all tiers, names masked.
        ("referrals.top", lambda: load_top_referrers(url, version, start, end, TOP_N, False, rules, weights, None,
                                                     ALL_TIERS)),
    ]
