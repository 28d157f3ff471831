"""Data page: freshness, an upload that is rejected row by row without writing, a good upload, demo regeneration."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from tests.dashboard.conftest import app_as, open_page
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
    assert any("reason" in df.value and df.value["reason"].str.contains("unknown member").any() for df in at.dataframe)
    assert _transactions(url) == before


def test_regenerating_the_embedded_demo_needs_confirmation_and_replaces_the_data(tmp_path, monkeypatch):
    import dashboard.data.common

    monkeypatch.delenv(db.ENV_URL, raising=False)
    monkeypatch.setattr(db, "DEFAULT_SQLITE_PATH", tmp_path / "demo.db")
    monkeypatch.setattr(dashboard.data.common, "DEMO_MEMBERS", 300)
    at = open_page(app_as("admin", timeout=120), "data")
    assert at.button(key="data_demo_go").disabled
    at.number_input(key="data_demo_n").set_value(400).run()
    at.checkbox(key="data_demo_confirm").check().run()
    at.button(key="data_demo_go").click().run()
    assert not at.exception
    assert any("regenerated" in s.value for s in at.success)
    with db.make_engine(f"sqlite:///{tmp_path / 'demo.db'}").connect() as conn:
        from vipmodel.demo import load_ground_truth

        assert load_ground_truth(conn).members == 400


# ------------------------------------------------------------------------------------------ the mapping step

CDNOW_MASTER = IMPORT_DATA.parent / "cdnow" / "CDNOW_master_head.txt"  # customer_id date number_of_cds dollar_value


def _role(at, header: str, lang: str = "en"):
    label = f"Column “{header}”" if lang == "en" else f"列“{header}”"
    return next(s for s in at.selectbox if s.label == label)


def _upload_cdnow(at, lang: str = "en"):
    at.selectbox(key="data_kind").set_value("transactions").run()
    at.checkbox(key="data_create").check().run()
    at.file_uploader[0].set_value(("CDNOW_master.txt", CDNOW_MASTER.read_bytes(), "text/plain")).run()
    return at


def test_an_upload_shows_its_first_rows_and_a_role_per_column_before_import(demo_app):
    at = _upload_cdnow(open_page(demo_app, "data"))
    assert not at.exception
    preview = at.dataframe[0].value
    assert list(preview.columns) == ["customer_id", "date", "number_of_cds", "dollar_value"]
    assert preview.iloc[0].tolist() == ["00001", "19970101", "1", "11.77"] and len(preview) == 5
    assert _role(at, "customer_id").value == "member_id" and _role(at, "date").value == "ts"
    assert _role(at, "dollar_value").value == "_" and _role(at, "number_of_cds").value == "_"
    assert "Amount · amount (required)" in _role(at, "dollar_value").options
    assert "Ignore this column" in _role(at, "dollar_value").options
    assert any("number_of_cds, dollar_value" in c.value for c in at.caption)
    assert any("Required columns still missing: Amount · amount (required)" in w.value for w in at.warning)
    assert at.button(key="data_import").disabled


def test_mapping_the_missing_column_enables_the_import_which_succeeds_and_is_remembered(fresh_demo_app):
    import os

    url = os.environ[db.ENV_URL]
    before = _transactions(url)
    at = _upload_cdnow(open_page(fresh_demo_app, "data"))
    _role(at, "dollar_value").set_value("amount").run()
    _role(at, "number_of_cds").set_value("quantity").run()
    assert not at.warning and not at.button(key="data_import").disabled
    at.button(key="data_import").click().run()
    assert not at.exception
    assert any("Imported: 299 rows written" in s.value for s in at.success), [e.value for e in at.error]
    assert _transactions(url) == before + 299
    with db.make_engine(url).connect() as conn:
        from vipmodel.importer import saved_mapping

        headers = ["customer_id", "date", "number_of_cds", "dollar_value"]
        assert saved_mapping(conn, "transactions", headers) == {"number_of_cds": "quantity", "dollar_value": "amount"}
    # Next week's export with the same layout: the roles come back preselected.
    again = _upload_cdnow(open_page(fresh_demo_app, "data"))
    assert _role(again, "dollar_value").value == "amount" and _role(again, "number_of_cds").value == "quantity"
    assert any("Preselected as when a file with these columns was last imported" in c.value for c in again.caption)
    assert not again.button(key="data_import").disabled


def test_one_role_chosen_for_two_columns_is_explained_and_blocks_the_import(demo_app):
    at = _upload_cdnow(open_page(demo_app, "data"))
    _role(at, "dollar_value").set_value("amount").run()
    _role(at, "number_of_cds").set_value("amount").run()
    assert not at.exception
    assert any("is chosen for more than one column (number_of_cds, dollar_value)" in w.value for w in at.warning)
    assert at.button(key="data_import").disabled


def test_an_unreadable_upload_is_explained_without_a_traceback(demo_app):
    at = open_page(demo_app, "data")
    at.file_uploader[0].set_value(("bad.csv", (IMPORT_DATA / "unreadable.csv").read_bytes(), "text/csv")).run()
    assert not at.exception
    assert any("This file cannot be read: unreadable encoding" in e.value for e in at.error)
    assert at.button(key="data_import").disabled


def test_a_headerless_upload_skips_the_mapping_step(demo_app):
    at = open_page(demo_app, "data")
    at.selectbox(key="data_kind").set_value("transactions").run()
    at.text_input(key="data_columns").input("member_id,ts,quantity,amount").run()
    at.file_uploader[0].set_value(("cd.txt", b"00001 19970101 1 11.77\n", "text/plain")).run()
    assert not at.exception
    assert not at.button(key="data_import").disabled
    assert not [d for d in at.dataframe if not str(d.key).startswith("mrg_")]  # no preview (the margin tables stay)


def test_the_mapping_step_runs_in_chinese(demo_app):
    demo_app.query_params["lang"] = "zh"
    at = _upload_cdnow(open_page(demo_app, "data"), lang="zh")
    assert not at.exception
    assert "金额 · amount（必填）" in _role(at, "dollar_value", "zh").options
    assert "忽略此列" in _role(at, "dollar_value", "zh").options
    assert any("仍缺少必填列：金额 · amount（必填）" in w.value for w in at.warning)
    _role(at, "dollar_value", "zh").set_value("amount").run()
    assert not at.exception and not at.warning and not at.button(key="data_import").disabled
