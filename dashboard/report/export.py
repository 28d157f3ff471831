"""The pack's files: chart images (Kaleido on the system Chromium), PowerPoint, self-contained HTML, Excel (the PDF:
``dashboard.report.pdf``).

Each writer renders a :class:`dashboard.report.content.PackContent` to bytes, so the Report page offers them as
downloads and the ``report`` command writes them to a folder, with the same content.
"""

from __future__ import annotations

import html
import io
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from dashboard.report.content import PackContent
from vipmodel import safe

FORMATS: tuple[str, ...] = ("pptx", "html", "pdf", "xlsx")
IMAGE_FORMATS = ("pptx", "pdf")  # the formats that need chart images (and so a browser)
IMAGE_WIDTH, IMAGE_HEIGHT, IMAGE_SCALE = 1280, 720, 2  # 16:9, 2560 x 1440 pixels: sharp on a projector
CHROMIUM = "/usr/bin/chromium"

Progress = Callable[[str], None]


class ImagesUnavailable(RuntimeError):
    """No browser to draw the chart images with (the deck and the PDF need them); the message says why."""


def browser_path() -> str | None:
    """The Chromium Kaleido will use: ``$BROWSER_PATH``, else Debian's ``/usr/bin/chromium``, else one on PATH."""
    for candidate in (os.environ.get("BROWSER_PATH"), CHROMIUM, shutil.which("chromium"),
                      shutil.which("chromium-browser"), shutil.which("google-chrome")):
        if candidate and os.path.exists(candidate):
            return candidate
    return None


def chart_images(content: PackContent) -> list[bytes]:
    """PNG bytes of every section's chart, drawn in one Kaleido session (one browser start for all of them).

    Raises
    ------
    ImagesUnavailable
        When no Chromium is installed (Kaleido's own browser download is never attempted: it fails offline), or
        the browser fails to draw.
    """
    browser = browser_path()
    if browser is None:
        raise ImagesUnavailable("no Chromium found at /usr/bin/chromium, $BROWSER_PATH or on PATH")
    import plotly.graph_objects as go
    import plotly.io as pio

    os.environ.setdefault("BROWSER_PATH", browser)
    # The slide and the PDF page title each chart themselves: the image leaves the title out and uses the room.
    figures = [go.Figure(section.figure).update_layout(title_text=None, margin_t=50) for section in content.sections]
    with tempfile.TemporaryDirectory(prefix="vip-weekly-") as folder:
        paths = [Path(folder) / f"chart-{i}.png" for i in range(len(figures))]
        try:
            pio.write_images(figures, paths, format="png", width=IMAGE_WIDTH, height=IMAGE_HEIGHT, scale=IMAGE_SCALE)
        except Exception as exc:  # noqa: BLE001 - Kaleido's errors vary by version; the caller says what failed
            raise ImagesUnavailable(f"the browser could not draw the charts ({type(exc).__name__}: {exc})") from exc
        return [p.read_bytes() for p in paths]


# ------------------------------------------------------------------------------------------------------ deck


def pptx_bytes(content: PackContent, images: list[bytes]) -> bytes:
    """A 16:9 deck: title slide (with the top highlights), KPI slide, one slide per chart with its highlight
    sentences and the chart's method and caveat as speaker notes."""
    from pptx import Presentation
    from pptx.dml.color import RGBColor
    from pptx.util import Emu, Inches, Pt

    deck = Presentation()
    deck.slide_width, deck.slide_height = Inches(13.333), Inches(7.5)
    blank = deck.slide_layouts[6]
    title_layout = deck.slide_layouts[0]
    width = deck.slide_width

    slide = deck.slides.add_slide(title_layout)
    slide.shapes.title.text = content.title
    lines = [content.subtitle, *([content.partial_note] if content.partial_note else [])]
    slide.placeholders[1].text = "\n".join(lines)
    slide.notes_slide.notes_text_frame.text = "\n".join([content.highlights_title, *content.highlights])

    def text_box(slide, text: str, top: float, height: float, size: int, bold: bool = False) -> None:
        box = slide.shapes.add_textbox(Inches(0.5), Inches(top), width - Inches(1.0), Inches(height))
        frame = box.text_frame
        frame.word_wrap = True
        for i, line in enumerate(text.split("\n")):
            para = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
            para.text = line
            para.font.size = Pt(size)
            para.font.bold = bold

    slide = deck.slides.add_slide(blank)
    text_box(slide, content.kpi_title, 0.3, 0.8, 30, bold=True)
    rows, cols = len(content.kpis) + 1, 4
    table = slide.shapes.add_table(rows, cols, Inches(0.5), Inches(1.3), width - Inches(1.0),
                                   Inches(0.45 * rows)).table
    tones = {"good": RGBColor(0x1E, 0x84, 0x49), "bad": RGBColor(0xC0, 0x39, 0x2B), "neutral": RGBColor(0x55, 0x55, 0x55)}
    for j, header in enumerate(content.kpi_header):
        table.cell(0, j).text = header
    for i, kpi in enumerate(content.kpis, start=1):
        for j, text in enumerate((kpi.label, kpi.value, kpi.week, kpi.year)):
            cell = table.cell(i, j)
            cell.text = text
            cell.text_frame.paragraphs[0].font.size = Pt(18)
            if j == 2:
                cell.text_frame.paragraphs[0].font.color.rgb = tones[kpi.tone]
    text_box(slide, "\n".join(content.highlights[:3]), 1.4 + 0.45 * rows, 1.5, 16)
    slide.notes_slide.notes_text_frame.text = "\n".join(content.highlights)

    for section, png in zip(content.sections, images):
        slide = deck.slides.add_slide(blank)
        text_box(slide, section.title, 0.2, 0.7, 28, bold=True)
        picture_height = Inches(5.2)
        picture_width = Emu(int(picture_height * IMAGE_WIDTH / IMAGE_HEIGHT))
        slide.shapes.add_picture(io.BytesIO(png), int((width - picture_width) / 2), Inches(0.9),
                                 picture_width, picture_height)
        text_box(slide, "\n".join(section.sentences), 6.2, 1.2, 18)
        slide.notes_slide.notes_text_frame.text = section.note
    buffer = io.BytesIO()
    deck.save(buffer)
    return buffer.getvalue()


# ------------------------------------------------------------------------------------------------------ HTML

_CSS = """
body {font-family: Arial, "WenQuanYi Micro Hei", "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", sans-serif;
      margin: 2rem auto; max-width: 1200px; color: #222; padding: 0 1rem;}
h1 {margin-bottom: 0.2rem;} .subtitle {color: #555; margin-top: 0;}
table.kpis {border-collapse: collapse; width: 100%; font-size: 1.1rem;}
table.kpis th, table.kpis td {border-bottom: 1px solid #ddd; padding: 0.4rem 0.6rem; text-align: left;}
.good {color: #1E8449;} .bad {color: #C0392B;} .neutral {color: #555;}
section {margin-top: 2.5rem; page-break-before: always;}
.sentences {font-size: 1.2rem;} .note {color: #555; font-size: 0.95rem;}
"""


def html_bytes(content: PackContent) -> bytes:
    """One self-contained page: every chart interactive, plotly.js inlined once, no external URL (opens offline)."""
    import plotly.io as pio
    from plotly.offline import get_plotlyjs

    e = html.escape
    parts = [
        f'<!DOCTYPE html><html lang="{e(content.lang)}"><head><meta charset="utf-8">',
        f"<title>{e(content.title)} {e(content.week)}</title><style>{_CSS}</style>",
        f"<script>{get_plotlyjs()}</script></head><body>",
        f"<h1>{e(content.title)}</h1><p class='subtitle'>{e(content.subtitle)}</p>",
    ]
    if content.partial_note:
        parts.append(f"<p class='note'>{e(content.partial_note)}</p>")
    parts.append(f"<h2>{e(content.highlights_title)}</h2><ul class='sentences'>")
    parts += [f"<li>{e(s)}</li>" for s in content.highlights]
    parts.append(f"</ul><h2>{e(content.kpi_title)}</h2><table class='kpis'><tr>")
    parts += [f"<th>{e(h)}</th>" for h in content.kpi_header]
    parts.append("</tr>")
    for kpi in content.kpis:
        parts.append(f"<tr><td>{e(kpi.label)}</td><td>{e(kpi.value)}</td><td class='{kpi.tone}'>{e(kpi.week)}</td>"
                     f"<td>{e(kpi.year)}</td></tr>")
    parts.append("</table>")
    for section in content.sections:
        chart = pio.to_html(section.figure, include_plotlyjs=False, full_html=False,
                            config={"displaylogo": False, "responsive": True},
                            div_id=f"chart-{section.key}")
        parts.append(f"<section id='{section.key}'><h2>{e(section.title)}</h2>{chart}<div class='sentences'>")
        parts += [f"<p>{e(s)}</p>" for s in section.sentences]
        parts.append(f"</div><p class='note'>{e(section.note)}</p></section>")
    parts.append("</body></html>")
    return "\n".join(parts).encode("utf-8")


# ----------------------------------------------------------------------------------------------------- Excel


def xlsx_bytes(content: PackContent) -> bytes:
    """The lists behind the charts, one sheet each (already masked for the reader's role), every text cell
    neutralised against formula injection (``vipmodel.safe``)."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, frame in content.sheets.items():
            sheet = safe.neutralise_frame(frame)
            sheet.to_excel(writer, sheet_name=name[:31], index=False)  # Excel's limit on a sheet name
            worksheet = writer.sheets[name[:31]]
            worksheet.freeze_panes = "A2"
            for column, header in zip(worksheet.columns, sheet.columns):
                worksheet.column_dimensions[column[0].column_letter].width = max(12, min(40, len(str(header)) + 4))
    return buffer.getvalue()
