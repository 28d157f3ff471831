"""The Report page and the ``report`` command: the same weekly pack, for any signed-in role."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pptx import Presentation
from pypdf import PdfReader

from dashboard.i18n import t
from tests.dashboard.conftest import app_as, open_page
from tests.dashboard.report.conftest import require_browser
from vipmodel import db
from vipmodel.cli import main as cli
from vipmodel.demo import STORES
from vipmodel.weekly import available_weeks


def _slide_texts(payload: bytes) -> list[list[str]]:
    deck = Presentation(io.BytesIO(payload))
    return [[shape.text_frame.text for shape in slide.shapes if shape.has_text_frame] for slide in deck.slides]


def _sheets(payload: bytes) -> dict[str, list[tuple]]:
    book = load_workbook(io.BytesIO(payload))
    return {name: list(book[name].iter_rows(values_only=True)) for name in book.sheetnames}


def _pdf_text(payload: bytes) -> list[str]:
    return [re.sub(r"\s+", " ", page.extract_text()) for page in PdfReader(io.BytesIO(payload)).pages]


@pytest.fixture(scope="module")
def report_week(demo_sqlite_url) -> str:
    """The demo mall's last complete week (its last week with data ends after the data does)."""
    engine = db.make_engine(demo_sqlite_url)
    weeks = available_weeks(engine)
    engine.dispose()
    return weeks[-2]


@pytest.fixture(scope="module")
def command_pack(demo_sqlite_url, report_week, tmp_path_factory) -> dict[str, bytes]:
    """The Chinese pack written by ``python -m vipmodel report`` for a viewer, by file name."""
    require_browser()
    out = tmp_path_factory.mktemp("report")
    code = cli(["report", "--week", report_week, "--lang", "zh", "--out", str(out), "--url", demo_sqlite_url])
    assert code == 0
    return {p.name: p.read_bytes() for p in out.iterdir()}


@pytest.fixture
def viewer_app(demo_sqlite_url, monkeypatch):
    monkeypatch.setenv(db.ENV_URL, demo_sqlite_url)
    return app_as("viewer")


def test_a_viewer_finds_the_report_page_with_the_last_complete_week_chosen(viewer_app, report_week):
    at = open_page(viewer_app, "report")
    assert not at.exception
    assert at.title[0].value == "Weekly report"
    assert at.selectbox(key="report_week").value == report_week
    assert not at.get("download_button")  # nothing is built before the button is pressed


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_page_says_the_pack_ignores_the_sidebars_store_and_tier_filters(viewer_app, lang):
    viewer_app.query_params.update({"store": STORES[0], "tier": "A", "lang": lang})
    at = open_page(viewer_app, "report")
    assert not at.exception
    reason = t("report.scope_reason", lang)
    assert any(reason in c.value for c in at.caption), [c.value for c in at.caption]


def test_the_page_builds_the_same_pack_as_the_command(viewer_app, downloads, command_pack, report_week):
    require_browser()
    at = open_page(viewer_app, "report")
    at.radio(key="report_lang").set_value("zh").run()
    at.button(key="report_build").click().run(timeout=180)
    assert not at.exception and not at.error
    built = {name: payload for name, payload in downloads.items() if name.startswith("vip-weekly-")}
    assert sorted(built) == sorted(command_pack) == sorted(
        f"vip-weekly-{report_week}-zh.{ext}" for ext in ("html", "pdf", "pptx", "xlsx"))
    name = f"vip-weekly-{report_week}-zh"
    assert _slide_texts(built[f"{name}.pptx"]) == _slide_texts(command_pack[f"{name}.pptx"])
    assert _sheets(built[f"{name}.xlsx"]) == _sheets(command_pack[f"{name}.xlsx"])
    assert _pdf_text(built[f"{name}.pdf"]) == _pdf_text(command_pack[f"{name}.pdf"])
    # The HTML differs only in Plotly's random chart ids, which the page and the command both fix to the section.
    assert built[f"{name}.html"] == command_pack[f"{name}.html"]
    assert "白金层" in " ".join(" ".join(s) for s in _slide_texts(built[f"{name}.pptx"]))


def test_the_command_refuses_a_week_outside_the_data_and_names_the_weeks_there_are(demo_sqlite_url, tmp_path, capsys):
    code = cli(["report", "--week", "2019-W10", "--out", str(tmp_path), "--url", demo_sqlite_url])
    assert code == 1
    err = capsys.readouterr().err
    assert "outside the data" in err and re.search(r"the data covers \d{4}-W\d{2} to \d{4}-W\d{2}", err)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("argument", "message"), [
    (["--week", "2026-47"], "week must look like '2026-W47'"),
    (["--formats", "html,doc"], "--formats takes some of pptx, html, pdf, xlsx"),
])
def test_the_command_explains_bad_arguments(demo_sqlite_url, tmp_path, capsys, argument, message):
    code = cli(["report", *argument, "--out", str(tmp_path), "--url", demo_sqlite_url])
    assert code in (1, 2)
    assert message in capsys.readouterr().err


def test_without_a_browser_the_command_writes_the_html_and_workbook_and_exits_3(
        demo_sqlite_url, report_week, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("dashboard.report.export.browser_path", lambda: None)
    code = cli(["report", "--week", report_week, "--out", str(tmp_path), "--url", demo_sqlite_url])
    assert code == 3
    out, err = capsys.readouterr()
    assert sorted(p.suffix for p in Path(tmp_path).iterdir()) == [".html", ".xlsx"]
    assert out.count("\n") == 1 and out.startswith(f"report {report_week} (en): 2 of 4 files")
    assert "no Chromium" in err
