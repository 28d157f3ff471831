"""The sidebar's store and tier filters, applied in one place to member-level frames before pages aggregate them.

* Store: members whose home store (``members.home_store``) is the selected one.
* Tier: members whose tier under the saved tier rules, on their purchases in the sidebar period, is among the
  selected ones -- as the Customer pyramid page tiers them; a member without a purchase in the period has no tier.
  A frame that carries its own tier for the time it describes (``tier_column``: a churn panel's behaviour-year
  tier, the 12-month tier of the care and value pages) is filtered on that column instead, so an analysis of what
  happened next does not select on its outcome and a list never shows a tier the filter excludes.

All stores and all four tiers filter nothing. Sections that cannot honour a filter say so (:func:`scope`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
import streamlit as st

from dashboard import data, state, ui
from dashboard.i18n import t, tier_name
from dashboard.state import ALL_TIERS


@dataclass(frozen=True)
class PageContext:
    """What every page starts from: database, data version, language, period and the sidebar filters."""

    url: str
    version: str
    lang: str
    period: tuple[dt.date, dt.date]
    store: str | None
    tiers: tuple[str, ...]

    @property
    def start(self) -> dt.date:
        return self.period[0]

    @property
    def end(self) -> dt.date:
        return self.period[1]

    @property
    def active(self) -> tuple[str, ...]:
        """The filters in use: ``"store"`` and/or ``"tiers"``."""
        return tuple(f for f, on in (("store", self.store is not None), ("tiers", self.tiers != ALL_TIERS)) if on)


def page_context() -> PageContext | None:
    """The page context, or None with an explanation when there is no data yet (the page should then return).

    Active filters are named in a caption (presentation mode hides the sidebar that shows them).
    """
    period = ui.require_period()
    if period is None:
        return None
    url = data.database_url()
    ctx = PageContext(url, data.current_version(url), state.lang(), period, state.store(), state.tiers())
    if ctx.active:
        st.caption(t("filters.active", ctx.lang, filters=describe(ctx)))
    return ctx


def member_ids(url: str, version: str, period: tuple[dt.date, dt.date] | None, store: str | None,
               tiers: tuple[str, ...]) -> pd.Index | None:
    """Ids of the members the filters keep; None when they keep everyone. ``period`` is needed for a tier filter."""
    ids = data.shared(data.load_store_members, url, version, store) if store is not None else None
    if tuple(tiers) != ALL_TIERS:
        rules = data.load_tier_rules(url)[0].to_payload()
        in_tiers = data.shared(data.load_tier_members, url, version, period[0], period[1], rules, tuple(tiers))
        ids = in_tiers if ids is None else ids.intersection(in_tiers)
    return ids


def restrict(frame: pd.DataFrame, url: str, version: str, period: tuple[dt.date, dt.date] | None,
             store: str | None, tiers: tuple[str, ...], id_column: str = "member_id",
             tier_column: str | None = None) -> pd.DataFrame:
    """The rows of ``frame`` whose member the filters keep (see the module docstring for ``tier_column``)."""
    ids = member_ids(url, version, period, store, ALL_TIERS if tier_column else tiers)
    keep = np.ones(len(frame), dtype=bool)
    if ids is not None:
        keep &= frame[id_column].isin(ids).to_numpy()
    if tier_column and tuple(tiers) != ALL_TIERS:
        keep &= frame[tier_column].isin(tiers).to_numpy()
    if keep.all():
        return frame
    kept = frame.loc[keep]
    return kept.reset_index(drop=True) if isinstance(frame.index, pd.RangeIndex) else kept


def apply(frame: pd.DataFrame, ctx: PageContext, id_column: str = "member_id", tier_column: str | None = None,
          uses: tuple[str, ...] = ("store", "tiers")) -> pd.DataFrame:
    """:func:`restrict` with the page context's period and the filters in ``uses`` (pair with :func:`scope`)."""
    store = ctx.store if "store" in uses else None
    tiers = ctx.tiers if "tiers" in uses else ALL_TIERS
    return restrict(frame, ctx.url, ctx.version, ctx.period, store, tiers, id_column, tier_column)


def describe(ctx: PageContext) -> str:
    """The active filters in words, e.g. "store Flagship · tiers A Platinum, B Gold"."""
    parts = [t("filters.store", ctx.lang, store=ctx.store)] if ctx.store else []
    if "tiers" in ctx.active:
        names = ", ".join(tier_name(k, ctx.lang) for k in ctx.tiers) or t("filters.no_tier", ctx.lang)
        parts.append(t("filters.tiers", ctx.lang, tiers=names))
    return " · ".join(parts)


def has_members(frame: pd.DataFrame | int, ctx: PageContext) -> bool:
    """False, with an explanation, when the filters left no member in ``frame`` (or a row count of 0): the page
    should then stop."""
    if (frame if isinstance(frame, int) else len(frame)) or not ctx.active:
        return True
    st.info(t("filters.no_members", ctx.lang, filters=describe(ctx)))
    return False


def scope(ctx: PageContext, reason: str, uses: tuple[str, ...] = ()) -> None:
    """A caption naming the active filters this section does not apply (none shown when all apply), and why."""
    ignored = [f for f in ctx.active if f not in uses]
    if not ignored:
        return
    names = lambda fs: t("filters.and", ctx.lang).join(t(f"filters.name.{f}", ctx.lang) for f in fs)  # noqa: E731
    used = [f for f in ctx.active if f in uses]
    key = "filters.scope.some" if used else "filters.scope.none"
    st.caption(t(key, ctx.lang, used=names(used), ignored=names(ignored), reason=t(reason, ctx.lang)))
