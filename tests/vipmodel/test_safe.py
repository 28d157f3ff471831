"""Text written to CSV and Excel files never runs as a formula (CSV / formula injection)."""

from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd
import pytest

from vipmodel.safe import csv_bytes, is_formula_like, neutralise_frame, neutralise_text

ATTACKS = [
    '=HYPERLINK("http://x","y")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
    "=",
    "-",
]


@pytest.mark.parametrize("text", ATTACKS)
def test_formula_like_text_gets_a_leading_apostrophe(text):
    assert is_formula_like(text)
    assert neutralise_text(text) == "'" + text


@pytest.mark.parametrize("text", ["王小明", "John Smith", "M001", "", " =not at the start", "a=b", "'=already"])
def test_ordinary_text_is_left_alone(text):
    assert not is_formula_like(text)
    assert neutralise_text(text) == text


@pytest.mark.parametrize("number", ["-12.50", "+3", "-1e5", "1,234.5", ".5", "-0.25"])
def test_text_that_is_a_plain_number_stays_a_number(number):
    assert neutralise_text(number) == number


@pytest.mark.parametrize("value", [None, -3, -2.5, np.int64(-4), float("nan"), pd.NA, ("=x",)])
def test_values_that_are_not_text_are_returned_unchanged(value):
    assert neutralise_text(value) is value


def test_a_frame_is_neutralised_cell_by_cell_and_header_by_header():
    frame = pd.DataFrame(
        {
            "member_id": ["=1+1", "M002", None],
            "=evil header": ["@SUM(A1:A9)", "John", "-2+3"],
            "amount": [-1.5, 2.0, -3.0],
            "text_dtype": pd.Series(["+cmd", "ok", pd.NA], dtype="string"),
            "category": pd.Categorical(["-x", "y", "-x"]),
        }
    )
    out = neutralise_frame(frame)
    assert list(out.columns) == ["member_id", "'=evil header", "amount", "text_dtype", "category"]
    assert out["member_id"].tolist()[:2] == ["'=1+1", "M002"] and pd.isna(out["member_id"].iloc[2])
    assert out["'=evil header"].tolist() == ["'@SUM(A1:A9)", "John", "'-2+3"]
    assert out["amount"].tolist() == [-1.5, 2.0, -3.0]  # numbers stay numbers, negative or not
    assert out["text_dtype"].tolist()[:2] == ["'+cmd", "ok"]
    assert out["category"].tolist() == ["'-x", "y", "'-x"]
    assert frame.loc[0, "member_id"] == "=1+1"  # the caller's frame is untouched


def test_repeated_headers_are_each_neutralised():
    frame = pd.DataFrame([["=a", "=b"]], columns=["x", "x"])
    assert neutralise_frame(frame).iloc[0].tolist() == ["'=a", "'=b"]


def test_neutralise_frame_refuses_what_is_not_a_frame():
    with pytest.raises(ValueError, match="frame must be a pandas DataFrame, got list"):
        neutralise_frame([])


def test_csv_bytes_are_utf8_with_bom_and_hold_no_formula():
    frame = pd.DataFrame({"姓名": ATTACKS + ["王小明"], "amount": range(len(ATTACKS) + 1)})
    raw = csv_bytes(frame)
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert len(rows) == len(ATTACKS) + 2  # a carriage return inside a cell does not start a row
    assert rows[0] == ["姓名", "amount"]
    names = [row[0] for row in rows[1:]]
    assert names[-1] == "王小明"
    assert all(name.startswith("'") for name in names[:-1])
    assert [name[1:] for name in names[:-1]] == ATTACKS  # what follows the apostrophe is the text as it was
