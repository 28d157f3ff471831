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

from vipmodel.contracts import require_columns

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

    Numeric, date and boolean columns are not touched; object, string and categorical columns are scanned (a
    categorical column comes back as object, since a neutralised value is not one of its categories).

    Raises
    ------
    ValueError
        ``"frame must be a pandas DataFrame, got list"``.
    """
    require_columns(frame, (), "frame", allow_empty=True)
    out = frame.copy()
    for position in range(out.shape[1]):  # by position: headers may repeat
        series = out.iloc[:, position]
        if isinstance(series.dtype, pd.CategoricalDtype):
            series = series.astype(object)
        elif not (pd.api.types.is_object_dtype(series.dtype) or pd.api.types.is_string_dtype(series.dtype)):
            continue
        out.isetitem(position, series.map(neutralise_text, na_action="ignore"))
    out.columns = [neutralise_text(c) for c in out.columns]
    return out


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """``frame`` as a CSV download: neutralised (:func:`neutralise_frame`), without the index, UTF-8 with a byte
    order mark so that Excel opens Chinese text correctly.

    Rows end in CRLF (RFC 4180): with it, a text holding a lone carriage return is quoted, where under a bare
    ``"\n"`` Python's writer leaves it bare and a spreadsheet starts a new row there.
    """
    return neutralise_frame(frame).to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")
