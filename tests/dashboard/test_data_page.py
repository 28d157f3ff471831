"""Data page: freshness, an upload that is rejected row by row without writing, a good upload, demo regeneration."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from tests.dashboard.conftest import open_page
from vipmodel import db, schema

IMPORT_DATA = Path(__file__).resolve().parent.parent / "data" / "import"


def _transactions(url: str) -> int:
    with db.make_engine(url).connect() as conn:
        return conn.execute(select(func.count()).select_from(schema.transactions)).scalar_one()


def test_data_page_shows_freshness(demo_app):
    at = open_page(demo_app, "data")
    assert not at.exception
    assert at.title[0].value == "Data"
    assert {m.label for m in at.metric} >= {"Members", "Latest transaction", "Data version"}


def test_a_bad_upload_is_reported_row_by_row_and_nothing_is_written(fresh_demo_app, monkeypatch):
    import os

    url = os.environ[db.ENV_URL]
    before = _transactions(url)
    at = open_page(fresh_demo_app, "data")
    at.selectbox(key="data_kind").set_value("transactions").run()
    content = (IMPORT_DATA / "unknown_member.csv").read_bytes()
    at.file_uploader[0].set_value(("unknown_member.csv", content, "text/csv")).run()
    at.button(key="data_import").click().run()
    assert not at.exception
    assert any("was not imported" in e.value for e in at.error)
    assert any(df.value["reason"].str.contains("unknown member").any() for df in at.dataframe)
    assert _transactions(url) == before


def test_regenerating_the_embedded_demo_needs_confirmation_and_replaces_the_data(tmp_path, monkeypatch):
    import dashboard.data
    from streamlit.testing.v1 import AppTest

    from tests.dashboard.conftest import APP

    monkeypatch.delenv(db.ENV_URL, raising=False)
    monkeypatch.setattr(db, "DEFAULT_SQLITE_PATH", tmp_path / "demo.db")
    monkeypatch.setattr(dashboard.data, "DEMO_MEMBERS", 300)
    at = open_page(AppTest.from_file(APP, default_timeout=120), "data")
    assert at.button(key="data_demo_go").disabled
    at.number_input(key="data_demo_n").set_value(400).run()
    at.checkbox(key="data_demo_confirm").check().run()
    at.button(key="data_demo_go").click().run()
    assert not at.exception
    assert any("regenerated" in s.value for s in at.success)
    with db.make_engine(f"sqlite:///{tmp_path / 'demo.db'}").connect() as conn:
        from vipmodel.demo import load_ground_truth

        assert load_ground_truth(conn).members == 400
