"""The sidebar's store and tier filters on a page: its context, the filters applied to a member-level frame, and
the captions naming them.

* Store: members whose home store (``members.home_store``) is the selected one.
* Tier: members whose tier under the saved tier rules, on their purchases in the sidebar period, is among the
  selected ones -- as the Customer pyramid page tiers them; a member without a purchase in the period has no tier.
  A frame that carries its own tier for the time it describes (``tier_column``: a churn panel's behaviour-year
  tier, the 12-month tier of the care and value pages) is filtered on that column instead, so an analysis of what
  happened next does not select on its outcome and a list never shows a tier the filter excludes.

All stores and all four tiers filter nothing. Sections that cannot honour a filter say so (:func:`scope`). The
choice is resolved to member ids by ``dashboard.data.members.member_ids`` and applied by the pure
``dashboard.members_filter.restrict``, which the loaders call too.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from dashboard import state, ui
from dashboard.data import common
from dashboard.data.members import member_ids
from dashboard.i18n import t, tier_name
from dashboard.members_filter import restrict
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
    url = common.database_url()
    ctx = PageContext(url, common.current_version(url), state.lang(), period, state.store(), state.tiers())
    if ctx.active:
        st.caption(t("filters.active", ctx.lang, filters=describe(ctx)))
    return ctx


def apply(frame: pd.DataFrame, ctx: PageContext, id_column: str = "member_id", tier_column: str | None = None,
          uses: tuple[str, ...] = ("store", "tiers")) -> pd.DataFrame:
    """The rows of ``frame`` whose member the filters in ``uses`` keep (pair with :func:`scope`): on
    ``tier_column`` when the frame has its own tier (see the module docstring), else as tiered in the period."""
    store = ctx.store if "store" in uses else None
    tiers = ctx.tiers if "tiers" in uses else ALL_TIERS
    if tier_column:
        return restrict(frame, member_ids(ctx.url, ctx.version, None, store), tiers, id_column, tier_column)
    return restrict(frame, member_ids(ctx.url, ctx.version, ctx.period, store, tiers), ALL_TIERS, id_column)


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
