"""Protected member data: every table and download masks names and phones as the signed-in role may see them, and
text a spreadsheet would run as a formula comes out of every CSV and Excel download neutralised."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile

import pandas as pd
import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update
from streamlit.testing.v1 import AppTest

from dashboard import access
from dashboard.maintenance import plan_headers
from tests.dashboard.conftest import open_page
from vipmodel import schema
from vipmodel.auth import Actor
from vipmodel.db import make_engine

EVIL = '=HYPERLINK("http://evil","x")'
NAME = plan_headers("en")["name"]
# The switches that reveal names, or list members, on each page (all switched on: a viewer's must reveal nothing).
SWITCHES = {"value": ["val_show_personal"], "referrals": ["ref_show_names"], "pyramid": ["pyr_show_moves"],
            "migration": []}


def as_role(at: AppTest, role: str) -> AppTest:
    """Sign ``at``'s session in as a user with ``role``."""
    at.session_state[access.ACTOR_KEY] = Actor(f"test-{role}", role)
    at.session_state[access.SIGNED_IN_AT] = dt.datetime.now()  # sessions expire: signed in just now
    return at


@pytest.fixture(scope="module")
def personal(demo_sqlite_url) -> dict[str, dict[str, str]]:
    """The demo members' names and phones, by member id."""
    engine = make_engine(demo_sqlite_url)
    with engine.connect() as conn:
        rows = conn.execute(select(schema.members.c.member_id, schema.members.c.name, schema.members.c.phone)).all()
    engine.dispose()
    return {"name": {r.member_id: r.name for r in rows if r.name}, "phone": {r.member_id: r.phone for r in rows if r.phone}}


def _cells(at: AppTest) -> set[str]:
    """Every text cell of every table on the page."""
    return {v for frame in at.dataframe for column in frame.value.columns for v in frame.value[column] if isinstance(v, str)}


def _open(at: AppTest, role: str, page: str) -> AppTest:
    at = open_page(as_role(at, role), page)
    assert not at.exception
    if page == "pyramid":  # proposed rules that move members, so that the list of who moves has rows
        at.slider(key="pyr_share_A").set_value(3.0).run()
    for key in SWITCHES[page]:
        if at.toggle(key=key).disabled:  # as a crafted client could send it: the value, whatever the widget says
            at.session_state[key] = True
            at.run()
        else:
            at.toggle(key=key).set_value(True).run()
        assert not at.exception and at.toggle(key=key).value
    return at


def _csv(raw: bytes) -> pd.DataFrame:
    assert raw.startswith(b"\xef\xbb\xbf")
    return pd.DataFrame(list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))[1:],
                        columns=next(csv.reader(io.StringIO(raw.decode("utf-8-sig")))))


def _xlsx(downloads: dict[str, bytes]) -> bytes:
    return next(data for name, data in downloads.items() if name.endswith(".xlsx"))


# --- every table on the pages that list members ------------------------------------------------------------------


@pytest.mark.parametrize("page", ["value", "referrals", "pyramid", "migration"])
def test_a_viewer_sees_no_name_or_phone_in_any_table_even_with_every_switch_on(demo_app, personal, page):
    at = _open(demo_app, "viewer", page)
    assert len(at.dataframe) > 0
    cells = _cells(at)
    names = {n for n in personal["name"].values() if len(n) > 1}
    assert not cells & names
    assert not cells & set(personal["phone"].values())
    for key in SWITCHES[page][:1]:
        if page in ("value", "referrals"):  # the switch that would show names is off limits, and says why
            assert at.toggle(key=key).disabled
            assert "masked" in at.toggle(key=key).help


@pytest.mark.parametrize(("page", "table"), [("value", NAME), ("referrals", "Name")])
@pytest.mark.parametrize("role", ["marketing", "admin"])
def test_marketing_and_administrators_see_names_when_they_ask_but_no_phone(demo_app, personal, page, table, role):
    at = open_page(as_role(demo_app, role), page)
    assert at.dataframe[-1].value[table].str.contains(r"\*").all()  # masked until asked, for every role
    for key in SWITCHES[page]:
        at.toggle(key=key).set_value(True).run()
    assert not at.exception
    shown = at.dataframe[-1].value[table]
    assert len(shown) > 0 and set(shown) <= set(personal["name"].values())
    assert not _cells(at) & set(personal["phone"].values())


@pytest.mark.parametrize("page", ["pyramid", "migration"])
def test_member_lists_of_pyramid_and_migration_hold_ids_but_no_personal_data(demo_app, personal, page):
    at = _open(demo_app, "admin", page)
    cells = _cells(at)
    assert cells & set(personal["name"])  # member ids are listed
    assert not cells & {n for n in personal["name"].values() if len(n) > 1}
    assert not cells & set(personal["phone"].values())


# --- the maintenance plan's downloads ----------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "masked"), [("viewer", True), ("marketing", False), ("admin", False)])
def test_the_plan_downloads_mask_names_as_the_role_requires(demo_app, downloads, personal, role, masked):
    at = _open(demo_app, role, "value")
    at.multiselect(key="val_tiers_ABCD").set_value(["A"]).run()  # a short plan: its files are built at once
    assert not at.exception
    plan = _csv(downloads["maintenance-plan.csv"])
    sheet = load_workbook(io.BytesIO(_xlsx(downloads)), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    workbook = pd.DataFrame(rows[1:], columns=rows[0])
    assert len(plan) == len(workbook) == len(at.dataframe[-1].value) > 0
    truth = [personal["name"].get(m, "") for m in plan[plan_headers("en")["member_id"]]]
    for names in (plan[NAME].tolist(), workbook[NAME].fillna("").tolist()):
        if masked:
            assert all("*" in n for n in names) and not set(names) & set(truth)
        else:
            assert names == truth
    assert not set(plan.to_numpy().ravel()) & set(personal["phone"].values())


@pytest.fixture
def evil_names(fresh_demo_app) -> AppTest:
    """The app on a private copy of the demo mall in which every member is called ``=HYPERLINK(...)``."""
    import os

    from vipmodel import db

    engine = make_engine(os.environ[db.ENV_URL])
    with engine.begin() as conn:
        conn.execute(update(schema.members).values(name=EVIL))
    engine.dispose()
    return fresh_demo_app


@pytest.mark.parametrize(("role", "name"), [("admin", EVIL), ("viewer", "=***")])
def test_a_formula_in_a_name_comes_out_of_the_plan_downloads_as_text(evil_names, downloads, role, name):
    at = _open(evil_names, role, "value")
    at.multiselect(key="val_tiers_ABCD").set_value(["A"]).run()
    assert not at.exception
    assert set(at.dataframe[-1].value[NAME]) == {name}  # the screen shows the text as it is: browsers run no formula
    plan = _csv(downloads["maintenance-plan.csv"])
    assert set(plan[NAME]) == {"'" + name}  # CSV: the apostrophe makes a spreadsheet read it as text
    raw = _xlsx(downloads)
    sheet = load_workbook(io.BytesIO(raw)).active
    column = [c.value for c in sheet[1]].index(NAME)
    names = [row[column] for row in sheet.iter_rows(min_row=2)]
    assert names and {c.value for c in names} == {name}  # Excel: the text as it reads, in a text cell
    assert all(c.data_type == "s" and c.quotePrefix for c in names)
    assert not [c.coordinate for row in sheet.iter_rows() for c in row if c.data_type == "f"]
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        assert "<f>" not in archive.read("xl/worksheets/sheet1.xml").decode()


def test_a_formula_in_a_top_referrers_name_is_neutralised_in_its_csv(evil_names, downloads):
    at = _open(evil_names, "admin", "referrals")
    assert set(at.dataframe[-1].value["Name"]) == {EVIL}
    assert set(_csv(downloads["top-referrers.csv"])["Name"]) == {"'" + EVIL}


# --- dashboard.ui.table: every table's CSV, the Data page's import errors among them -----------------------------


def _errors_table_script():
    from types import SimpleNamespace

    from dashboard import ui
    from vipmodel.importer import ImportReport, RowError

    # The Data page shows ImportReport.errors_frame() through ui.table; the values are the file's cells as they were.
    errors = [RowError(row=2, column="name", reason="too long", value="=cmd|' /C calc'!A0"),
              RowError(row=3, column="member_id", reason="unknown member", value="@SUM(A1:A9)")]
    ui.table(ImportReport.errors_frame(SimpleNamespace(errors=errors)), "import-errors-members", height=300)


def _member_table_script():
    import pandas as pd

    from dashboard import ui

    frame = pd.DataFrame({"member_id": ["-2+3", "M2"], "name": ["王小明", "John Smith"],
                          "phone": ["13812345678", "+86 139 8765 4321"], "sales": [-12.5, 3.0]})
    ui.table(frame, "members")


def test_the_import_errors_csv_neutralises_formulas(downloads):
    at = as_role(AppTest.from_function(_errors_table_script, default_timeout=30), "admin").run()
    assert not at.exception
    errors = _csv(downloads["import-errors-members.csv"])
    assert errors["value"].tolist() == ["'=cmd|' /C calc'!A0", "'@SUM(A1:A9)"]
    assert errors["row"].tolist() == ["2", "3"]


@pytest.mark.parametrize(
    ("role", "names", "phones"),
    [
        ("viewer", ["王**", "J*** S***"], ["138****5678", "'+86 139****4321"]),
        ("marketing", ["王小明", "John Smith"], ["138****5678", "'+86 139****4321"]),
        ("admin", ["王小明", "John Smith"], ["13812345678", "'+86 139 8765 4321"]),
    ],
)
def test_any_table_with_personal_columns_is_masked_on_screen_and_in_its_csv(downloads, role, names, phones):
    at = as_role(AppTest.from_function(_member_table_script, default_timeout=30), role).run()
    assert not at.exception
    screen = at.dataframe[0].value
    assert screen["name"].tolist() == names
    assert screen["phone"].tolist() == [p.removeprefix("'") for p in phones]
    table = _csv(downloads["members.csv"])
    assert table["name"].tolist() == names and table["phone"].tolist() == phones
    assert table["member_id"].tolist() == ["'-2+3", "M2"] and table["sales"].tolist() == ["-12.5", "3.0"]


def test_the_tables_own_csv_export_is_off_so_every_csv_comes_from_the_neutralising_download():
    """st.dataframe's toolbar writes cells as they are (no neutralising): .streamlit/config.toml turns it off."""
    import tomllib
    from pathlib import Path

    from streamlit import config

    path = Path(__file__).resolve().parent.parent.parent / ".streamlit" / "config.toml"
    settings = tomllib.loads(path.read_text(encoding="utf-8"))
    assert settings["client"]["disableDataExport"] is True
    assert "client.disableDataExport" in config.get_config_options()
