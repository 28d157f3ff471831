"""Shared rendering helpers: long tables show their head on screen and say so; the CSV keeps every row."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest


def _long_table_script():
    import pandas as pd

    from dashboard import ui

    frame = pd.DataFrame({"member": [f"M{i:03d}" for i in range(12)], "value": [i * 1000.456 for i in range(12)]})
    ui.table(frame, "long", formats={"value": "money"}, max_rows=5)


def test_a_long_table_shows_its_first_rows_rounded_to_the_cent_and_says_how_many_there_are():
    at = AppTest.from_function(_long_table_script, default_timeout=30).run()
    assert not at.exception
    shown = at.dataframe[0].value
    assert len(shown) == 5 and shown["value"].tolist() == [0.0, 1000.46, 2000.91, 3001.37, 4001.82]
    assert at.caption[0].value == "Showing the first 5 of 12 rows; the CSV download holds all of them."
    assert at.get("download_button")[0].proto.label == "Download table (CSV)"
