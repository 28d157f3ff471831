"""The Overview page's loaders (KPIs, weekly trend) and its default view."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pandas as pd
import streamlit as st

from dashboard.data.common import get_engine, load_margin_coverage, shared
from dashboard.data.members import load_pyramid_features
from dashboard.data.stored import stored
from vipmodel import kpi
from vipmodel.outcomes import add_years


def pyramid_start(end: dt.date) -> dt.date:
    """The first day of the overview pyramid's period: the year up to ``end``, whatever the sidebar's period."""
    return add_years(end, -1) + dt.timedelta(days=1)


@st.cache_data(show_spinner=False)
@stored
def load_overview_kpis(url: str, version: str, as_of: dt.date) -> pd.DataFrame:
    """KPIs at ``as_of`` with the change against one week earlier."""
    with get_engine(url).connect() as conn:
        return kpi.overview_kpis(conn, as_of)


@st.cache_data(show_spinner=False)
@stored
def load_weekly_trend(url: str, version: str, as_of: dt.date, weeks: int = 26) -> pd.DataFrame:
    """Weekly sales, buyers and complaints up to ``as_of``."""
    with get_engine(url).connect() as conn:
        return kpi.weekly_trend(conn, as_of, weeks)


def warm_default(url: str, version: str, start: dt.date, end: dt.date,
                 rules: dict) -> list[tuple[str, Callable[[], object]]]:
    """(step name, call) for what the page reads at its default view (``dashboard.precompute.steps``)."""
    year_start = pyramid_start(end)
    return [
        ("overview.kpis", lambda: load_overview_kpis(url, version, end)),
        # The estimated-margin note of every page that shows profit: one pass over the period's sales.
        ("margins.coverage", lambda: load_margin_coverage(url, version, start, end)),
        ("overview.trend", lambda: load_weekly_trend(url, version, end)),
        ("overview.pyramid", lambda: shared(load_pyramid_features, url, version, year_start, end)),
    ]
