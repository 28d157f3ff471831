"""The Customer pyramid page's threshold preview and its default view (its features: ``dashboard.data.members``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from dashboard.data.common import load_tier_rules, shared
from dashboard.data.members import load_pyramid_features
from vipmodel.pyramid import RulePreview, TierRules


def load_rule_preview(url: str, version: str, start: dt.date, end: dt.date, current: TierRules) -> RulePreview:
    """The threshold preview's fixed part (values, tiers in force, profit ranking), built once per period and rules."""
    # Read through shared(): built from the shared features, it holds arrays only and is never changed.
    return RulePreview(shared(load_pyramid_features, url, version, start, end), current, check_unique=False)


def warm_default(url: str, version: str, start: dt.date, end: dt.date,
                 rules: dict) -> list[tuple[str, Callable[[], object]]]:
    """(step name, call) for what the page reads at its default view (``dashboard.precompute_plan.steps``)."""
    return [
        ("pyramid.features", lambda: shared(load_pyramid_features, url, version, start, end)),
        # In memory only: the first threshold move need not rank a million members.
        ("pyramid.preview", lambda: shared(load_rule_preview, url, version, start, end, load_tier_rules(url)[0])),
    ]
