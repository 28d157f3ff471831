"""One weekly summary of the session's demo mall, and the pack in each language built from it once per module."""

from __future__ import annotations

import os

import pytest

from dashboard.report import PackResult, listed_members, member_contacts, render_pack
from dashboard.report.export import browser_path
from vipmodel.db import make_engine
from vipmodel.weekly import WeeklySummary, available_weeks, weekly_summary


def require_browser() -> None:
    """Skip (fail in CI, ``VIPDASH_REQUIRE_BROWSER=1``) where no Chromium can draw the chart images."""
    if browser_path() is None:
        reason = "no Chromium to draw the chart images (apt-get install chromium)"
        if os.environ.get("VIPDASH_REQUIRE_BROWSER") == "1":
            pytest.fail(reason + " (VIPDASH_REQUIRE_BROWSER=1)")
        pytest.skip(reason)


@pytest.fixture(scope="session")
def report_week(demo_sqlite_url) -> str:
    """The last complete week of the demo mall (the week the meeting would look at)."""
    return available_weeks(make_engine(demo_sqlite_url))[-2]


@pytest.fixture(scope="session")
def week_summary(demo_sqlite_url, report_week) -> WeeklySummary:
    engine = make_engine(demo_sqlite_url)
    summary = weekly_summary(engine, report_week)
    engine.dispose()
    return summary


@pytest.fixture(scope="session")
def week_contacts(demo_sqlite_url, week_summary):
    engine = make_engine(demo_sqlite_url)
    contacts = member_contacts(engine, listed_members(week_summary))
    engine.dispose()
    return contacts


@pytest.fixture(scope="module", params=["en", "zh"])
def pack(request, week_summary, week_contacts) -> PackResult:
    """The whole pack (four files) in each language, for a viewer (personal data masked)."""
    require_browser()
    return render_pack(week_summary, request.param, "viewer", week_contacts)
