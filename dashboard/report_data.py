"""Cached loaders of the Report page: the weeks with data, the week's summary, and the pack's files.

The rendering itself is ``dashboard.report`` (no Streamlit), shared with ``python -m vipmodel report``.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from functools import partial

import pandas as pd

from dashboard.data import common
from dashboard.data.stored import stored
from dashboard.report import (
    FORMATS,
    PackResult,
    Progress,
    listed_members,
    member_contacts,
    prepare_results,
    render_pack,
)
from vipmodel import weekly

REFRESH_SWITCH = "VIPDASH_REFRESH"  # "0": this server leaves the week's results to cron (the test suite does)


def refreshes() -> bool:
    """Whether this server prepares the weekly pack's results itself (on unless ``VIPDASH_REFRESH=0``)."""
    return os.environ.get(REFRESH_SWITCH, "1") != "0"


@common.cached(show_spinner=False)
@stored
def load_weeks(url: str, version: str) -> tuple[str, ...]:
    """ISO weeks with transactions, oldest first (``vipmodel.weekly.available_weeks``)."""
    return weekly.available_weeks(common.get_engine(url))


def default_week(weeks: tuple[str, ...], latest: dt.date | None) -> str:
    """The last complete week of the data (whose Sunday the data reaches), else the last week with data."""
    complete = [w for w in weeks if latest is not None and weekly.parse_week(w)[1] <= latest]
    return complete[-1] if complete else weeks[-1]


# A resource, not cache_data: the summary is frozen and only read, and its highlights hold read-only mappings that
# do not pickle. Its value models take most of the half minute a first pack costs; they are stored in the database
# for the week, so a second language, or another server, is quick.
@common.cached(resource=True, show_spinner=False, max_entries=8)
def load_summary(url: str, version: str, week: str) -> weekly.WeeklySummary:
    """``vipmodel.weekly.weekly_summary`` of ``week`` on the results stored for its Sunday (computed and stored first
    when no server did yet); raises ``NoDataForWeek`` (uncached) for a week without data."""
    prepare_results(common.get_engine(url), week)
    return weekly.weekly_summary(common.get_engine(url), week)


@common.cached(show_spinner=False, max_entries=8)
def load_contacts(url: str, version: str, week: str) -> pd.DataFrame:
    """Names and phones of the members the week's lists name (masked later, by the reader's role)."""
    return member_contacts(common.get_engine(url), listed_members(load_summary(url, version, week)))


def build_pack(url: str, version: str, week: str, lang: str, role: str, progress: Progress) -> PackResult:
    """The pack's files for the signed-in reader's ``role`` (not cached: the files are downloaded once)."""
    progress(0.0, "summary")
    summary = load_summary(url, version, week)
    return render_pack(summary, lang, role, load_contacts(url, version, week), FORMATS, progress)


def warm_default(url: str, version: str, start: dt.date, end: dt.date,
                 rules: dict) -> list[tuple[str, Callable[[], object]]]:
    """(step name, call) for the page's default week (``dashboard.precompute_plan.steps``): its results for the week's
    Sunday (``prepare_results``, the ``refresh`` command's work), which the week's summary reads. None when this
    server leaves them to cron (:func:`refreshes`)."""
    return [("report.results", partial(_prepare_default_week, url, version, end))] if refreshes() else []


def _prepare_default_week(url: str, version: str, latest: dt.date) -> None:
    weeks = load_weeks(url, version)
    if weeks:
        prepare_results(common.get_engine(url), default_week(weeks, latest))
