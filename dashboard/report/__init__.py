"""The weekly meeting pack (周例会资料): deck, self-contained HTML, PDF and Excel of one ISO week.

No Streamlit here: the Report page (``pages/report.py``) and the ``python -m vipmodel report`` command both call
:func:`render_pack` on a ``vipmodel.weekly.WeeklySummary``, so they produce the same content.

>>> from dashboard.report import build_pack          # doctest: +SKIP
>>> result = build_pack(engine, "2026-W47", "zh", role="viewer")
>>> result.write(Path("out"))                         # vip-weekly-2026-W47-zh.pptx, .html, .pdf, .xlsx
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from sqlalchemy import Connection, Engine, select

from dashboard.report.content import PackContent, build_content
from dashboard.report.export import (
    FORMATS,
    IMAGE_FORMATS,
    ImagesUnavailable,
    chart_images,
    html_bytes,
    pptx_bytes,
    xlsx_bytes,
)
from dashboard.report.pdf import pdf_bytes
from vipmodel import results, schema
from vipmodel.db import borrow_connection
from vipmodel.weekly import WeeklySummary, available_weeks, parse_week, weekly_summary

__all__ = ["FORMATS", "PackResult", "Progress", "build_pack", "listed_members", "member_contacts",
           "prepare_results", "render_pack"]

# A step of the build, for a progress bar: (fraction done, step key; its words are "report.step.<key>").
Progress = Callable[[float, str], None]


@dataclass
class PackResult:
    """The files of one pack: ``files`` maps a file name (``vip-weekly-2026-W47-zh.pptx``) to its bytes;
    ``skipped`` maps a format that could not be made to the reason (e.g. no browser for the chart images)."""

    content: PackContent
    files: dict[str, bytes] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    def write(self, folder: Path) -> list[Path]:
        """Write every file into ``folder`` (created if needed); the paths written."""
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        for name, payload in self.files.items():
            path = folder / name
            path.write_bytes(payload)
            written.append(path)
        return written


def member_contacts(conn: Connection | Engine, member_ids: Iterable[str]) -> pd.DataFrame:
    """``member_id``, ``name``, ``phone`` of the given members (for the workbook's lists; masked there by role)."""
    ids = sorted({str(m) for m in member_ids})
    m = schema.members
    rows = []
    with borrow_connection(conn) as connection:
        for start in range(0, len(ids), 500):  # bounded IN lists: SQLite allows a limited number of parameters
            chunk = ids[start:start + 500]
            rows += connection.execute(select(m.c.member_id, m.c.name, m.c.phone).where(m.c.member_id.in_(chunk))).all()
    return pd.DataFrame(rows, columns=["member_id", "name", "phone"]).astype({"member_id": str})


def listed_members(summary: WeeklySummary) -> set[str]:
    """The members named in the summary's lists (whose contacts the workbook shows)."""
    frames = (summary.at_risk, summary.downgrades, summary.new_platinum, summary.overdue_complaints)
    return {str(m) for frame in frames for m in frame["member_id"]}


def render_pack(summary: WeeklySummary, lang: str, role: str = "viewer", contacts: pd.DataFrame | None = None,
                formats: Iterable[str] = FORMATS, progress: Progress | None = None) -> PackResult:
    """The pack's files for ``summary`` in ``lang``, personal data as ``role`` may see them.

    A format whose images cannot be drawn (no Chromium) is left out with its reason in ``PackResult.skipped``;
    the HTML page and the workbook need no browser and are always made.

    Raises
    ------
    ValueError
        ``"unknown format(s): 'doc'; expected some of pptx, html, pdf, xlsx"``, and an unknown role
        (``vipmodel.privacy``).
    """
    started = time.perf_counter()
    wanted = [f for f in FORMATS if f in set(formats)]
    unknown = sorted(set(formats) - set(FORMATS))
    if unknown or not wanted:
        raise ValueError(f"unknown format(s): {', '.join(map(repr, unknown)) or 'none given'}; "
                         f"expected some of {', '.join(FORMATS)}")
    report = progress or (lambda fraction, step: None)
    report(0.35, "charts")
    content = build_content(summary, lang, role, contacts)
    result = PackResult(content)
    images: list[bytes] | None = None
    if any(f in IMAGE_FORMATS for f in wanted):
        report(0.45, "images")
        try:
            images = chart_images(content)
        except ImagesUnavailable as exc:
            result.skipped.update({f: str(exc) for f in wanted if f in IMAGE_FORMATS})
    writers = {"pptx": lambda: pptx_bytes(content, images), "html": lambda: html_bytes(content),
               "pdf": lambda: pdf_bytes(content, images), "xlsx": lambda: xlsx_bytes(content)}
    for i, fmt in enumerate(wanted):
        if fmt in result.skipped:
            continue
        report(0.6 + 0.4 * i / len(wanted), fmt)
        result.files[content.file_name(fmt)] = writers[fmt]()
    report(1.0, "done")
    result.seconds = time.perf_counter() - started
    return result


def prepare_results(engine: Engine, week: str) -> None:
    """Store the week's results for its Sunday in the database (``vipmodel.results``: the value and churn models,
    the pyramids at both week ends, the KPIs and satisfaction means), or find them there: every later summary of
    that week -- the other language, the page on another server, a rerun from cron -- reads them instead of
    computing them again. A week without data is left to
    :func:`vipmodel.weekly.weekly_summary`, which says which weeks exist."""
    if week in available_weeks(engine):
        results.refresh(engine, parse_week(week)[1])


def build_pack(conn: Connection | Engine, week: str, lang: str, role: str = "viewer",
               formats: Iterable[str] = FORMATS, progress: Progress | None = None) -> PackResult:
    """:func:`vipmodel.weekly.weekly_summary` of ``week``, then :func:`render_pack` (the ``report`` command).

    Raises
    ------
    vipmodel.weekly.NoDataForWeek
        The week has no data, or lies outside the data (the message names the weeks that exist).
    """
    started = time.perf_counter()
    report = progress or (lambda fraction, step: None)
    report(0.0, "summary")
    if isinstance(conn, Engine):
        prepare_results(conn, week)
    with borrow_connection(conn) as connection:
        summary = weekly_summary(connection, week)
        contacts = member_contacts(connection, listed_members(summary))
    result = render_pack(summary, lang, role, contacts, formats, progress)
    result.seconds = time.perf_counter() - started
    return result
