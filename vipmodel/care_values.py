"""The value a care list weighs each member by: lifetime value when the models can be fitted, else the documents' rule.

The care what-if (:mod:`vipmodel.care`: :func:`vipmodel.care.simulate`, :func:`vipmodel.care.optimise_budget`)
needs, for every member who bought in the year to ``as_of``, the member's tier and what the member is worth to
retain. :func:`care_list_values` decides which value that is:

* ``"clv"`` -- the member's lifetime value over ``years`` years (``model_clv`` of
  :func:`vipmodel.retention.member_values`: BG/NBD [1]_ and Gamma-Gamma [2]_, discounted);
* ``"proxy"`` -- when those models cannot be fitted on the data (e.g. nobody bought twice, so the BG/NBD model is
  not identified), the mall documents' rule: the year's profit contribution x ``years``;
* ``"none"`` -- nobody bought in the year (an empty list).

Only members with a sale in the year are listed (a return alone does not count, as in
:func:`vipmodel.features.member_features`).

References
----------
.. [1] Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting your customers" the easy way: an alternative
   to the Pareto/NBD model. *Marketing Science* 24(2), 275-284.
.. [2] Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). RFM and CLV: using iso-value curves for customer base
   analysis. *Journal of Marketing Research* 42(4), 415-430.
"""

from __future__ import annotations

import datetime as dt
import math
from numbers import Real

import pandas as pd
from sqlalchemy import Connection, Engine

from vipmodel import features, retention
from vipmodel.db import as_date
from vipmodel.outcomes import add_years
from vipmodel.pyramid import DEFAULT_RULES, TierRules, assign_tiers

__all__ = ["CARE_LIST_COLUMNS", "SOURCES", "care_list_values"]

CARE_LIST_COLUMNS: tuple[str, ...] = ("member_id", "tier", "value")
SOURCES: tuple[str, ...] = ("clv", "proxy", "none")


def care_list_values(
    conn: Connection | Engine, as_of: dt.date, tier_rules: TierRules = DEFAULT_RULES, years: float = 3
) -> tuple[pd.DataFrame, str]:
    """Members who bought in the year to ``as_of``, their tier and their value to retain; and where it comes from.

    Parameters
    ----------
    conn : sqlalchemy.Engine or sqlalchemy.Connection
        The mall's database.
    as_of : datetime.date
        Last day of the year window ``[as_of - 1 year + 1 day, as_of]`` (inclusive).
    tier_rules : TierRules, default :data:`vipmodel.pyramid.DEFAULT_RULES`
        The rules that place the window's members in tiers A-D (:func:`vipmodel.pyramid.assign_tiers`).
    years : float, default 3
        The value's horizon: ``horizon_years`` of the lifetime value, or the multiple of the year's profit
        contribution; finite and > 0.

    Returns
    -------
    frame : pandas.DataFrame
        Columns :data:`CARE_LIST_COLUMNS`: one row per member with a sale in the window, returns excluded (in the
        order of :func:`vipmodel.features.member_features`), ``member_id`` (str), ``tier`` (str, A-D) and
        ``value`` (float, yuan). Empty, with those columns, when nobody bought in the window.
    source : str
        One of :data:`SOURCES`: ``"clv"`` when ``value`` is ``model_clv`` of
        :func:`vipmodel.retention.member_values` with ``horizon_years=years`` (0 for a member that frame does not
        value); ``"proxy"`` when those models cannot be fitted (they raise
        ValueError, e.g. nobody bought twice) and ``value`` is ``profit_contribution x years`` of the window;
        ``"none"`` for the empty frame.

    Raises
    ------
    ValueError
        ``"years must be a finite number > 0, got 0"``; ``"as_of must be a date, got str"``.
    """
    as_of = as_date(as_of, "as_of")
    if isinstance(years, bool) or not isinstance(years, Real) or not math.isfinite(years) or years <= 0:
        raise ValueError(f"years must be a finite number > 0, got {years!r}")
    start = add_years(as_of, -1) + dt.timedelta(days=1)
    feats = features.member_features(conn, start, as_of, period="range")
    active = feats[feats["n_transactions"] > 0].reset_index(drop=True)
    if active.empty:
        return pd.DataFrame(columns=list(CARE_LIST_COLUMNS)), "none"
    try:
        clv = retention.member_values(conn, as_of, horizon_years=years).frame
        values, source = clv.set_index("member_id")["model_clv"], "clv"
    except ValueError:
        values, source = None, "proxy"
    tiers = assign_tiers(active, tier_rules).astype(str)
    frame = pd.DataFrame({"member_id": active["member_id"].astype(str).to_numpy(), "tier": tiers.to_numpy()})
    if values is None:
        frame["value"] = active["profit_contribution"].astype(float).to_numpy() * years
    else:
        frame["value"] = values.reindex(frame["member_id"]).fillna(0.0).astype(float).to_numpy()
    return frame, source
