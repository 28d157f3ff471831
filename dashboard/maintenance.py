"""The maintenance plan table (客户营销维护计划表) of the Value page: names as the role may see them, the plan's
codes in words, CSV and a formatted Excel workbook."""

from __future__ import annotations

import datetime as dt
import io
import math
import os
import re
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from dashboard import ui
from dashboard.data.common import cached
from dashboard.access import current_role
from dashboard.i18n import LANGUAGES, TIER_NAMES, fmt_percent, t
from vipmodel import privacy
from vipmodel.retention import DEFAULT_SAVE_RATES, PLAN_COLUMNS, maintenance_plan
from vipmodel.safe import is_formula_like

MONEY = ("value_at_risk", "action_cost", "expected_benefit")
# Characters an .xlsx cell cannot hold (openpyxl.cell.cell.ILLEGAL_CHARACTERS_RE; openpyxl is imported lazily).
_ILLEGAL_IN_XLSX = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")


def plan_headers(lang: str) -> dict[str, str]:
    """``{plan column code: header in lang}`` for :data:`vipmodel.retention.PLAN_COLUMNS`."""
    return {c: t(f"retention.plan.{c}", lang) for c in PLAN_COLUMNS}


def localized_plan(at_risk_frame: pd.DataFrame, lang: str = "en", show_personal: bool = False) -> pd.DataFrame:
    """``retention.maintenance_plan`` in ``lang``: headers, tier names, warning signs and reasons (joined by "; ",
    "；" in Chinese) and actions (joined by " + ") in words. ``ValueError`` for a language other than en/zh."""
    if lang not in LANGUAGES:
        raise ValueError(f"lang must be 'en' or 'zh', got {lang!r}")
    plan = maintenance_plan(at_risk_frame, show_personal=show_personal)
    sep = "; " if lang == "en" else "；"

    def words(kind: str, codes: tuple[str, ...], joiner: str) -> str:
        return joiner.join(t(f"retention.{kind}.{c}", lang) for c in codes)

    plan["tier"] = [TIER_NAMES.get(code, {}).get(lang, "") if isinstance(code, str) else "" for code in plan["tier"]]
    plan["signals"] = [words("signal", codes, sep) for codes in plan["signals"]]
    plan["reasons"] = [words("reason", codes, sep) for codes in plan["reasons"]]
    plan["action"] = [words("action", codes, " + ") for codes in plan["action"]]
    return plan.rename(columns=plan_headers(lang))


def plan_table(shown: pd.DataFrame, as_of: dt.date, lang: str) -> None:
    """The plan of the flagged members ``shown``, with a names switch for the roles that may see names."""
    role = current_role()
    may_see_names = privacy.sees(role, "name")
    show_personal = st.toggle(t("value.show_personal", lang), value=False, key="val_show_personal",
                              disabled=not may_see_names,
                              help=None if may_see_names else t("privacy.names_hidden", lang))
    # Names as the role may see them, and then only when asked (a shared screen): masked before the plan is built,
    # so the table, its CSV and the workbook hold the same names. A viewer's switch reveals nothing, even if a
    # client sends it switched on.
    shown_as = role if show_personal else "viewer"
    headers = plan_headers(lang)
    personal = {headers["name"]: "name"}

    def plan(rows: pd.DataFrame) -> pd.DataFrame:
        return localized_plan(privacy.mask_personal(rows, shown_as), lang, show_personal=True)

    full = partial(plan, shown)  # every row: for the downloads, built on click
    ui.table(plan(shown.head(ui.MAX_TABLE_ROWS)), "maintenance-plan", height=420,
             formats={headers[c]: "money" for c in MONEY}, full=full, total=len(shown), personal=personal)

    # A long plan's workbook takes seconds to write: then only when the button is clicked, not on every rerun.
    def workbook() -> bytes:
        return maintenance_plan_xlsx(ui.protect(full(), personal), t("value.plan_sheet", lang))

    st.download_button(t("value.download_xlsx", lang), workbook if len(shown) > ui.MAX_TABLE_ROWS else workbook(),
                       file_name=f"maintenance-plan-{as_of.isoformat()}.xlsx", key="val_download_xlsx",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    st.caption(t("value.plan_caption", lang, **{k: fmt_percent(v, lang, 0) for k, v in DEFAULT_SAVE_RATES.items()}))


@cached(show_spinner=False, max_entries=8)
def maintenance_plan_xlsx(plan: pd.DataFrame, sheet_title: str) -> bytes:
    """The maintenance plan as a formatted Excel workbook (:func:`write_plan_xlsx`)."""
    buffer = io.BytesIO()
    write_plan_xlsx(plan, buffer, sheet_title)
    return buffer.getvalue()


def _display_width(value: Any) -> int:
    text = "" if value is None else str(value)
    # CJK characters take two columns in Excel's default fonts.
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def write_plan_xlsx(frame: pd.DataFrame, path_or_buffer: str | os.PathLike | io.BufferedIOBase,
                    sheet_title: str = "Plan") -> None:
    """Write a :func:`localized_plan` table as a formatted Excel workbook (openpyxl).

    Bold white header on a dark fill, header row frozen, column widths fitted to the contents (CJK characters
    count double), money (the plan's money headers in either language) with thousands separators, dates as Excel
    dates, and an auto-filter on the header.

    Text is never a formula: a member name or id such as ``=HYPERLINK("http://x", "y")`` (which openpyxl would
    otherwise store as a live formula) or ``+cmd|' /C calc'!A0`` is written as it reads, as a text cell with
    Excel's quote prefix (``vipmodel.safe.is_formula_like``), so Excel neither evaluates it on opening nor when
    the cell is edited. Characters a workbook cannot hold (control characters) are dropped.

    Raises
    ------
    ValueError
        ``"frame must be a pandas DataFrame, got list"``; ``"frame has no columns"``;
        ``"sheet_title must be 1 to 31 characters"``.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"frame must be a pandas DataFrame, got {type(frame).__name__}")
    if len(frame.columns) == 0:
        raise ValueError("frame has no columns")
    if not isinstance(sheet_title, str) or not 1 <= len(sheet_title) <= 31:
        raise ValueError("sheet_title must be 1 to 31 characters")
    wb = Workbook()
    ws = wb.active
    ws.title = sheet_title
    headers = [_excel_value(str(c)) for c in frame.columns]
    _append_as_text(ws, headers)
    fill = PatternFill("solid", fgColor="1F3864")
    for cell in ws[1]:
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = fill
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for row in frame.itertuples(index=False):
        _append_as_text(ws, [_excel_value(v) for v in row])
    money = {plan_headers(lang)[c] for lang in LANGUAGES for c in MONEY}
    for j, header in enumerate(headers, start=1):
        letter = get_column_letter(j)
        widths = [_display_width(header)] + [_display_width(v) for v in frame.iloc[:, j - 1]]
        ws.column_dimensions[letter].width = min(60, max(8, max(widths) + 2))
        if header in money:
            for cell in ws[letter][1:]:
                cell.number_format = "#,##0.00"
        elif len(frame) and isinstance(frame.iloc[0, j - 1], dt.date):
            for cell in ws[letter][1:]:
                cell.number_format = "yyyy-mm-dd"
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = ws.dimensions
    wb.save(os.fspath(path_or_buffer) if isinstance(path_or_buffer, (str, os.PathLike)) else path_or_buffer)


def _append_as_text(ws: Any, values: list[Any]) -> None:
    """Append a row; cells whose text a spreadsheet would run as a formula become quote-prefixed text cells."""
    ws.append(values)
    row = ws.max_row
    for column, value in enumerate(values, start=1):
        if isinstance(value, str) and is_formula_like(value):
            cell = ws.cell(row=row, column=column)
            # openpyxl made a text starting with "=" a formula when it was appended: the type is set back to
            # text, and the quote prefix keeps Excel from turning it into one when somebody edits the cell.
            cell.data_type = "s"
            cell.quotePrefix = True


def _excel_value(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (tuple, list)):
        value = "; ".join(map(str, value))
    if isinstance(value, str):
        # openpyxl refuses control characters (IllegalCharacterError): one odd name must not break the download.
        return _ILLEGAL_IN_XLSX.sub("", value)
    return value
