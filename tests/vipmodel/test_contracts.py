"""The one column-contract validator of vipmodel and its one message format."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from vipmodel import pyramid
from vipmodel.contracts import require_columns


def test_require_columns_returns_the_frame_itself():
    frame = pd.DataFrame({"a": [1], "b": [2]})
    assert require_columns(frame, ("a", "b"), "features") is frame
    assert require_columns(frame.iloc[:0], ("a",), "features", allow_empty=True).empty


@pytest.mark.parametrize(
    ("frame", "columns", "allow_empty", "message"),
    [
        ([1, 2], ("a",), False, "features must be a pandas DataFrame, got list"),
        (pd.DataFrame({"a": [1]}), ("a", "sales", "tenure"), False, "features is missing columns: sales, tenure"),
        (pd.DataFrame({"a": [1]}), ("b", "b"), False, "features is missing columns: b"),  # each column named once
        (pd.DataFrame({"a": []}), ("a",), False, "features is empty (no rows)"),
        (pd.DataFrame(), ("a",), True, "features is missing columns: a"),  # columns before rows
    ],
)
def test_require_columns_messages(frame, columns, allow_empty, message):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        require_columns(frame, columns, "features", allow_empty=allow_empty)


def test_the_pyramid_name_is_the_same_validator():
    assert pyramid.require_columns is require_columns
