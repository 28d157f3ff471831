"""The weekly pack's four files, in both languages: what a meeting opens must be there and readable."""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook
from PIL import Image
from pptx import Presentation
from pypdf import PdfReader

from dashboard.i18n import t
from dashboard.report import render_pack
from dashboard.report.content import SECTIONS
from dashboard.report.export import IMAGE_HEIGHT, IMAGE_SCALE, IMAGE_WIDTH
from vipmodel import privacy


def _file(pack, extension: str) -> bytes:
    (name,) = [n for n in pack.files if n.endswith("." + extension)]
    return pack.files[name]


def test_every_file_is_named_with_the_week_and_the_language(pack, report_week):
    lang = pack.content.lang
    assert sorted(pack.files) == sorted(f"vip-weekly-{report_week}-{lang}.{ext}" for ext in ("pptx", "html", "pdf", "xlsx"))
    assert pack.skipped == {}


def test_the_deck_has_a_title_slide_a_kpi_slide_and_one_chart_slide_per_section(pack):
    deck = Presentation(io.BytesIO(_file(pack, "pptx")))
    slides = list(deck.slides)
    content = pack.content
    assert len(slides) == 2 + len(SECTIONS)
    assert slides[0].shapes.title.text == content.title
    kpi_text = " ".join(shape.text_frame.text for shape in slides[1].shapes if shape.has_text_frame)
    assert content.kpi_title in kpi_text
    (table,) = [shape.table for shape in slides[1].shapes if shape.has_table]
    assert [table.cell(i, 1).text for i in range(1, len(content.kpis) + 1)] == [k.value for k in content.kpis]
    for slide, section in zip(slides[2:], content.sections):
        texts = " ".join(shape.text_frame.text for shape in slide.shapes if shape.has_text_frame)
        assert section.title in texts and all(s in texts for s in section.sentences)
        (picture,) = [shape for shape in slide.shapes if shape.shape_type == 13]  # MSO_SHAPE_TYPE.PICTURE
        image = Image.open(io.BytesIO(picture.image.blob))
        assert image.size == (IMAGE_WIDTH * IMAGE_SCALE, IMAGE_HEIGHT * IMAGE_SCALE)
        assert slide.notes_slide.notes_text_frame.text.startswith(section.note[:40])


def test_chart_images_are_drawn_not_blank(pack):
    deck = Presentation(io.BytesIO(_file(pack, "pptx")))
    for slide in list(deck.slides)[2:]:
        (picture,) = [shape for shape in slide.shapes if shape.shape_type == 13]
        colours = Image.open(io.BytesIO(picture.image.blob)).convert("RGB").resize((160, 90)).getcolors(160 * 90)
        assert len(colours) > 20  # bars, flows, text: far more than a white page and an axis


def test_the_html_holds_every_chart_and_loads_nothing_from_outside(pack):
    from plotly.offline import get_plotlyjs

    page = _file(pack, "html").decode("utf-8")
    for key in SECTIONS:
        assert f'id="chart-{key}"' in page
    assert page.count("Plotly.newPlot(") == len(SECTIONS)
    bundle = get_plotlyjs()
    assert page.count(bundle) == 1  # plotly.js inlined once, not per chart
    tags = re.findall(r"<(?:script|link|img|iframe)\b[^>]*>", page)
    assert not [tag for tag in tags if re.search(r"\b(?:src|href)\s*=", tag)]
    # Outside the library's own code (which mentions its CDN in comments and unused defaults), no address at all.
    assert re.findall(r"https?://\S{0,40}", page.replace(bundle, "")) == []


def test_the_pdf_has_a_page_per_section_with_its_title_and_the_cjk_font_embedded(pack):
    reader = PdfReader(io.BytesIO(_file(pack, "pdf")))
    content = pack.content
    assert len(reader.pages) == 2 + len(SECTIONS)
    texts = [re.sub(r"\s+", "", page.extract_text()) for page in reader.pages]
    assert re.sub(r"\s+", "", content.title) in texts[0]
    for text, section in zip(texts[2:], content.sections):
        assert re.sub(r"\s+", "", section.title) in text
    fonts = {str(font["/BaseFont"]) for page in reader.pages for font in page["/Resources"]["/Font"].values()}
    assert any("WenQuanYi" in f for f in fonts)


def test_the_workbook_has_the_lists_with_names_masked_for_a_viewer(pack, week_contacts):
    book = load_workbook(io.BytesIO(_file(pack, "xlsx")))
    lang = pack.content.lang
    expected = [t(f"report.sheet.{k}", lang)[:31] for k in ("at_risk", "downgrades", "new_platinum", "overdue")]
    assert book.sheetnames == expected
    sheet = book[expected[0]]
    header = [c.value for c in sheet[1]]
    names = [row[header.index(t("report.col.name", lang))] for row in sheet.iter_rows(min_row=2, values_only=True)]
    phones = [row[header.index(t("report.col.phone", lang))] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert names and all(n == privacy.mask_name(n) for n in names if n)
    real = set(week_contacts["name"])
    assert not real & set(names)  # no real name reaches a viewer
    assert all(p in ("", None) or "****" in p for p in phones)


@pytest.mark.parametrize("role", ["marketing", "admin"])
def test_roles_that_may_see_names_get_them_and_formula_like_names_are_neutralised(week_summary, week_contacts, role):
    contacts = week_contacts.copy()
    first = str(week_summary.at_risk["member_id"].iloc[0])
    contacts.loc[contacts["member_id"] == first, "name"] = '=HYPERLINK("http://x","click")'
    result = render_pack(week_summary, "en", role, contacts, formats=["xlsx"])
    sheet = load_workbook(io.BytesIO(next(iter(result.files.values()))))["At-risk members"]
    header = [c.value for c in sheet[1]]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    by_member = {row[header.index("Member")]: row for row in rows}
    assert by_member[first][header.index("Name")] == '\'=HYPERLINK("http://x","click")'
    phone = by_member[first][header.index("Phone")]
    assert ("****" in phone) == (role == "marketing")


def test_without_a_browser_the_html_and_workbook_are_still_made_and_the_reason_given(week_summary, monkeypatch):
    monkeypatch.setattr("dashboard.report.export.browser_path", lambda: None)
    result = render_pack(week_summary, "en", "viewer")
    assert sorted(n.rsplit(".", 1)[1] for n in result.files) == ["html", "xlsx"]
    assert set(result.skipped) == {"pptx", "pdf"}
    assert "no Chromium" in result.skipped["pptx"]


def test_an_unknown_format_is_named(week_summary):
    with pytest.raises(ValueError, match="unknown format\\(s\\): 'doc'; expected some of pptx, html, pdf, xlsx"):
        render_pack(week_summary, "en", formats=["doc", "html"])


def test_a_second_pack_of_the_week_reads_the_stored_results_instead_of_fitting_the_models(demo_sqlite_url, tmp_path,
                                                                                          report_week, monkeypatch):
    import shutil
    import warnings

    from dashboard.report import build_pack
    from vipmodel import results, retention
    from vipmodel.db import make_engine
    from vipmodel.weekly import parse_week

    copy = tmp_path / "mall.db"
    shutil.copy(demo_sqlite_url.removeprefix("sqlite:///"), copy)
    engine = make_engine(f"sqlite:///{copy}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        first = build_pack(engine, report_week, "en", formats=("xlsx",))
    assert results.current_run(engine, parse_week(report_week)[1]) is not None

    def refuse(*args, **kwargs):
        raise AssertionError("the value models were fitted again")

    monkeypatch.setattr(retention, "member_values", refuse)
    second = build_pack(engine, report_week, "zh", formats=("xlsx",))
    assert len(second.files) == len(first.files) == 1
    engine.dispose()
