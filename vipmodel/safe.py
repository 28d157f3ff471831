"""Text written to files people open in Excel: neutralised so a cell never runs as a formula.

A member name, id or note such as ``=HYPERLINK("http://x", "click")``, ``+cmd|' /C calc'!A0``, ``-2+3`` or
``@SUM(A1:A9)`` is evaluated by spreadsheet programs when a CSV or workbook is opened (CSV / formula injection,
OWASP). Every writer of CSV or Excel files passes its text through :func:`neutralise_text` or
:func:`neutralise_frame`: such a value gets a leading apostrophe, which spreadsheets show as text. Numbers (and
text that is a plain number, such as ``-12.50``) are left alone so that amounts stay amounts.

References
----------
.. [1] OWASP Foundation. *CSV Injection*. https://owasp.org/www-community/attacks/CSV_Injection
"""

from __future__ import annotations

import re

import pandas as pd

# Characters with which a spreadsheet cell starts a formula (or a DDE call), including tab and carriage return,
# which some programs strip before looking at the first character.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^[+-]?(?:\d+(?:[.,]\d+)*|\.\d+)(?:[eE][+-]?\d+)?$")


def is_formula_like(text: str) -> bool:
    """True when ``text`` would start a formula in a spreadsheet cell (and is not a plain number)."""
    return bool(text) and text.startswith(FORMULA_START) and not _PLAIN_NUMBER.match(text)


def neutralise_text(value: object) -> object:
    """``value`` with a leading apostrophe when it is text that a spreadsheet would run as a formula.

    Anything that is not a ``str`` is returned unchanged.
    """
    if isinstance(value, str) and is_formula_like(value):
        return "'" + value
    return value


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells (and column names) are neutralised with :func:`neutralise_text`.

    Numeric, date and boolean columns are not touched; only object and string columns are scanned.
    """
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if pd.api.types.is_object_dtype(series.dtype) or pd.api.types.is_string_dtype(series.dtype):
            out[column] = series.map(neutralise_text, na_action="ignore")
    out.columns = [neutralise_text(c) for c in out.columns]
    return out
