"""The dashboard on a real POS export: every page opens on the CDNOW master file (imported through the CLI with a
column mapping; 1997-1998, transactions only, no margins), and the pages that work from purchases work fully."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.dashboard.conftest import app_as, chart_spec, open_page
from vipmodel import db

PAGES = ["overview", "pyramid", "migration", "referrals", "care", "satisfaction", "complaints", "value", "data"]
# Pages whose data a transactions-only mall lacks: each says which import would fill it.
NEEDS_IMPORT = {"satisfaction": "survey", "complaints": "complaint", "care": "care"}


@pytest.fixture
def cdnow_app(cdnow_sqlite_url, monkeypatch) -> AppTest:
    monkeypatch.setenv(db.ENV_URL, cdnow_sqlite_url)
    return app_as("admin", timeout=120)


def _texts(at: AppTest) -> str:
    parts = [e.value for kind in ("info", "caption", "warning", "markdown") for e in at.get(kind)]
    return " ".join(str(p) for p in parts)


@pytest.mark.parametrize("page", PAGES)
def test_every_page_opens_on_the_cdnow_export_without_an_error(cdnow_app, page):
    at = open_page(cdnow_app, page)
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    if page in NEEDS_IMPORT:
        assert NEEDS_IMPORT[page] in _texts(at).lower()


@pytest.mark.parametrize("page", ["overview", "pyramid", "migration", "value", "referrals"])
def test_pages_using_profit_say_the_margin_is_estimated_for_all_sales(cdnow_app, page):
    at = open_page(cdnow_app, page)
    notes = [c.value for c in at.caption if "estimated margins" in c.value]
    assert notes and "100.0% of the period's sales" in notes[0] and "20.0%" in notes[0], notes


def test_the_pyramid_has_members_in_every_tier_and_the_value_page_positive_values(cdnow_app):
    at = open_page(cdnow_app, "pyramid")
    summary = at.dataframe[0].value
    counts = dict(zip(summary.iloc[:, 0], summary.iloc[:, 1]))
    assert all(n > 0 for n in counts.values()), counts
    total = sum(counts.values())
    assert counts["A Platinum"] <= 0.01 * total and counts["A Platinum"] >= 0.009 * total
    at = open_page(cdnow_app, "value")
    assert not at.exception
    assert chart_spec(at, 0)["data"], "the lifetime value by tier chart is empty"
    metrics = {m.label: m.value for m in at.metric}
    assert any(v and v.startswith("¥") and v not in ("¥0", "¥0.00") for v in metrics.values()), metrics


def test_chinese_pages_open_on_the_cdnow_export(cdnow_app):
    cdnow_app.query_params["lang"] = "zh"
    at = open_page(cdnow_app, "pyramid")
    assert not at.exception
    assert any("估算毛利" in c.value for c in at.caption)
