"""Column contracts: the one validator every public function of vipmodel checks its input frames with.

Messages (one format, which tests match):

- ``"<name> must be a pandas DataFrame, got list"``
- ``"<name> is missing columns: a, b"`` (in the order the columns were asked for)
- ``"<name> is empty (no rows)"`` (unless ``allow_empty``)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

__all__ = ["require_columns"]


def require_columns(frame: Any, columns: Iterable[str], name: str, *, allow_empty: bool = False) -> pd.DataFrame:
    """Return ``frame`` after checking it is a DataFrame holding ``columns`` (and, by default, a row).

    Parameters
    ----------
    frame : object
        The input to check.
    columns : iterable of str
        The columns the caller reads.
    name : str
        The argument's name as the caller's user knows it; it starts every message.
    allow_empty : bool, default False
        Accept a frame without rows.

    Returns
    -------
    pandas.DataFrame
        ``frame`` itself (not a copy).

    Raises
    ------
    ValueError
        ``"features must be a pandas DataFrame, got list"``, ``"features is missing columns: sales, tenure_days"``,
        ``"features is empty (no rows)"``.
    """
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"{name} must be a pandas DataFrame, got {type(frame).__name__}")
    missing = [str(c) for c in dict.fromkeys(columns) if c not in frame.columns]
    if missing:
        raise ValueError(f"{name} is missing columns: {', '.join(missing)}")
    if not allow_empty and len(frame) == 0:
        raise ValueError(f"{name} is empty (no rows)")
    return frame
