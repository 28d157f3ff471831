"""The maintenance plan in words and as a workbook (dashboard.maintenance): vipmodel.retention.maintenance_plan
hands over codes; headers, tier names, warning signs, reasons and actions are worded here, in English or Chinese,
and the workbook is styled here."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pandas as pd
import pytest
from openpyxl import load_workbook

from dashboard.maintenance import localized_plan, plan_headers, write_plan_xlsx
from vipmodel.retention import PLAN_COLUMNS


def _at_risk() -> pd.DataFrame:
    return pd.DataFrame({
        "member_id": ["M1", "M2"],
        "name": ["王小明", "Li"],
        "as_of": [dt.date(2026, 11, 1)] * 2,
        "tier": ["A", "D"],
        "score": [0.876, 0.5],
        "signals": [("overdue", "spend_falling"), ()],
        "reasons": [("complaint_unresolved",), ("no_clear_reason",)],
        "value_at_risk": [1234.567, 10.0],
        "actions": [("resolve_complaint", "personal_care"), ("no_spend",)],
        "action_cost": [285.0, 0.0],
        "expected_benefit": [370.37, 0.0],
    })


def test_the_english_plan_words_every_code_as_the_app_always_did():
    plan = localized_plan(_at_risk(), "en")
    assert list(plan.columns) == ["Member ID", "Name", "Tier", "Risk score", "Warning signs", "Likely reasons",
                                  "Value at risk (CNY)", "Action", "Cost (CNY)", "Expected benefit (CNY)", "Owner",
                                  "Due date"]
    first = plan.iloc[0]
    assert first["Name"] == "王**" and first["Tier"] == "A Platinum" and first["Risk score"] == 0.88
    assert first["Warning signs"] == "Overdue by own shopping rhythm; Spend falling (last 6 months)"
    assert first["Likely reasons"] == "Complaint not resolved"
    assert first["Action"] == ("Resolve the open complaint first (call, apologise, fix) + Personal call by the "
                               "account manager + gift + invitation to a member event")
    assert first["Due date"] == dt.date(2026, 11, 4)  # tier A: three days
    assert plan.iloc[1]["Warning signs"] == "" and plan.iloc[1]["Likely reasons"] == "No clear reason in the data"


def test_the_chinese_plan_has_chinese_headers_and_words_and_shows_names_only_when_asked():
    plan = localized_plan(_at_risk(), "zh")
    assert list(plan.columns) == list(plan_headers("zh").values())
    assert len(plan_headers("zh")) == len(PLAN_COLUMNS)
    assert plan["等级"].tolist() == ["A 白金层", "D 重铅层"]
    assert plan["预警信号"].iloc[0] == "超过自身购物周期未到店；近半年消费下降"
    assert plan["姓名"].tolist() == ["王**", "L*"]
    assert localized_plan(_at_risk(), "zh", show_personal=True)["姓名"].tolist() == ["王小明", "Li"]
    with pytest.raises(ValueError, match=r"^lang must be 'en' or 'zh', got 'fr'$"):
        localized_plan(_at_risk(), "fr")


def test_the_plan_workbook_has_a_styled_frozen_header_and_money_formats(tmp_path):
    plan = localized_plan(_at_risk(), "zh")
    path = tmp_path / "plan.xlsx"
    write_plan_xlsx(plan, path)
    ws = load_workbook(path).active
    rows = list(ws.iter_rows(values_only=True))
    assert list(rows[0]) == list(plan.columns)
    assert [r[0] for r in rows[1:]] == list(plan["会员编号"])
    assert ws.freeze_panes == "A2" and ws["A1"].font.bold
    assert ws["G2"].number_format == "#,##0.00" and ws["L2"].number_format == "yyyy-mm-dd"
    with pytest.raises(ValueError, match=r"^frame must be a pandas DataFrame, got list$"):
        write_plan_xlsx([1], io.BytesIO())


def test_the_plan_workbook_writes_formula_like_text_as_quoted_text_never_as_a_formula():
    attacks = ['=HYPERLINK("http://evil","x")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)"]
    plan = pd.DataFrame({"Member ID": ["=1+1", "M2", "M3", "M4"], "Name": attacks,
                         "Cost (CNY)": [-1.5, 2.0, 3.0, 4.0], "Note": ["a\x07b", "ok", None, "-12.50"]})
    buffer = io.BytesIO()
    write_plan_xlsx(plan, buffer)
    sheet = load_workbook(io.BytesIO(buffer.getvalue())).active
    cells = [cell for row in sheet.iter_rows() for cell in row]
    assert not [cell.coordinate for cell in cells if cell.data_type == "f"]
    assert [c.value for c in sheet["B"][1:]] == attacks  # the text as it was, no apostrophe added
    assert all(c.data_type == "s" and c.quotePrefix for c in sheet["B"][1:])
    assert sheet["A2"].value == "=1+1" and sheet["A2"].quotePrefix and not sheet["A3"].quotePrefix
    assert [c.value for c in sheet["C"][1:]] == [-1.5, 2, 3, 4]  # numbers stay numbers
    assert sheet["D2"].value == "ab"  # a control character is dropped instead of breaking the download
    assert sheet["D5"].value == "-12.50" and not sheet["D5"].quotePrefix
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as archive:
        assert "<f>" not in archive.read("xl/worksheets/sheet1.xml").decode()
