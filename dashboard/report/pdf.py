"""The weekly pack as a PDF, laid out with fpdf2 from the same PNG images the deck embeds, with a CJK font embedded
(subset): the PDF then needs no second browser run (printing the HTML page from Chromium would load 5 MB of
plotly.js and redraw every chart, seconds per page), looks exactly like the deck, and its text stays selectable and
searchable in both languages."""

from __future__ import annotations

import io
import os

from dashboard.report.content import PackContent
from dashboard.report.export import IMAGE_HEIGHT, IMAGE_WIDTH

CJK_FONTS = (  # where Debian's fonts-wqy-microhei and Noto CJK put their files; the first found is embedded
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
)


def cjk_font() -> str | None:
    """The first CJK font file of :data:`CJK_FONTS` that exists (embedded in the PDF), or None."""
    return next((path for path in CJK_FONTS if os.path.exists(path)), None)


def pdf_bytes(content: PackContent, images: list[bytes]) -> bytes:
    """A landscape A4 PDF with the deck's pages: title and highlights, KPIs, one page per chart with its sentences
    and note. The CJK font is embedded (subset), so Chinese renders on any reader.

    Raises
    ------
    RuntimeError
        ``"no CJK font found (install fonts-wqy-microhei): ..."`` when the pack is in Chinese and no font exists.
    """
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.set_auto_page_break(auto=True, margin=12)
    font = cjk_font()
    if font is not None:
        pdf.add_font("cjk", fname=font)
        pdf.add_font("cjk", style="B", fname=font)  # the font has no bold face: titles are larger instead
        family = "cjk"
    elif content.lang == "en":
        family = "helvetica"
    else:
        raise RuntimeError("no CJK font found (install fonts-wqy-microhei): looked in " + ", ".join(CJK_FONTS))
    pdf.set_title(f"{content.title} {content.week}")
    pdf.set_creator("vipdash")
    page_width = pdf.w - pdf.l_margin - pdf.r_margin

    def write(text: str, size: float, height: float, color: tuple[int, int, int] = (34, 34, 34)) -> None:
        pdf.set_font(family, size=size)
        pdf.set_text_color(*color)
        pdf.multi_cell(page_width, height, text, align="L", new_x="LMARGIN", new_y="NEXT")

    pdf.add_page()
    write(content.title, 28, 14)
    write(content.subtitle, 14, 8, (85, 85, 85))
    if content.partial_note:
        write(content.partial_note, 11, 6, (85, 85, 85))
    pdf.ln(6)
    write(content.highlights_title, 18, 10)
    for line in content.highlights:
        write("• " + line, 13, 7)

    pdf.add_page()
    write(content.kpi_title, 22, 12)
    pdf.set_font(family, size=13)
    tones = {"good": (30, 132, 73), "bad": (192, 57, 43), "neutral": (85, 85, 85)}
    with pdf.table(col_widths=(40, 20, 20, 20), text_align="LEFT", line_height=8) as table:
        table.row(list(content.kpi_header))
        for kpi in content.kpis:
            row = table.row()
            row.cell(kpi.label)
            row.cell(kpi.value)
            row.cell(kpi.week, style=FontFace(color=tones[kpi.tone]))
            row.cell(kpi.year)

    for section, png in zip(content.sections, images):
        pdf.add_page()
        write(section.title, 20, 10)
        image_height = 118.0
        image_width = image_height * IMAGE_WIDTH / IMAGE_HEIGHT
        pdf.image(io.BytesIO(png), x=pdf.l_margin + (page_width - image_width) / 2, y=pdf.get_y() + 1,
                  w=image_width, h=image_height)
        pdf.set_y(pdf.get_y() + image_height + 3)
        for line in section.sentences:
            write(line, 13, 6.5)
        write(section.note, 9.5, 4.8, (85, 85, 85))
    return bytes(pdf.output())
