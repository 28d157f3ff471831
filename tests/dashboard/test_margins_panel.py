"""The Data page's margin rates: a mall without margins sets its rate, and every profit figure follows."""

from __future__ import annotations


import pytest

from tests.conftest import copy_database
from tests.dashboard.conftest import app_as, open_page
from vipmodel import db
from vipmodel.margins import current_margin_rates
from vipmodel.settings import setting_history

SAVE = "FormSubmitter:mrg_save-Save these rates as a new version"


@pytest.fixture
def cdnow_copy(cdnow_sqlite_url, tmp_path, monkeypatch) -> str:
    """A private copy of the CDNOW mall (no margins in the export), for a test that saves rates."""
    url = copy_database(cdnow_sqlite_url, tmp_path, "cdnow.db")
    monkeypatch.setenv(db.ENV_URL, url)
    return url


def test_the_data_page_says_the_default_rate_is_in_force_and_how_much_of_sales_it_serves(cdnow_copy):
    at = open_page(app_as("admin", timeout=120), "data")
    assert not at.exception
    captions = " ".join(c.value for c in at.caption)
    assert "the product's default (20.0%)" in captions
    assert "100.0% of sales had no margin in the export" in captions
    assert at.number_input(key="mrg_default").value == 20.0


def test_saving_a_rate_makes_a_version_by_the_signed_in_user_and_every_profit_follows(cdnow_copy):
    engine = db.make_engine(cdnow_copy)
    with engine.connect() as conn:
        before = db.data_token(conn)
    at = open_page(app_as("marketing", "Zhao Min", timeout=120), "data")
    at.number_input(key="mrg_default").set_value(35.0)
    at.button(key=SAVE).click().run()
    assert not at.exception
    assert any("version 1" in s.value for s in at.success)
    rates, version = current_margin_rates(engine)
    assert (rates.default, version) == (0.35, 1)
    assert setting_history(engine, "margin_rates")["author"].tolist() == ["Zhao Min"]
    with engine.connect() as conn:
        assert db.data_token(conn) != before  # cached profits of the old rate are not served again
    engine.dispose()
    pyramid = at.switch_page("../pages/pyramid.py").run()
    notes = [c.value for c in pyramid.caption if "estimated margins" in c.value]
    assert notes and "the mall's rate of 35.0%" in notes[0] and "default" not in notes[0]


def test_the_margin_rates_speak_chinese(cdnow_copy):
    app = app_as("admin", timeout=120)
    app.query_params["lang"] = "zh"
    at = open_page(app, "data")
    assert not at.exception
    assert at.number_input(key="mrg_default").label == "商场毛利率（%）"
    assert any("系统默认值" in c.value for c in at.caption)
