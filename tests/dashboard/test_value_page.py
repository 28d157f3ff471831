"""Value & churn risk page: renders on the demo mall in both languages, the tier filter narrows the at-risk list,
names stay masked until asked, and the maintenance plan downloads as an Excel workbook that openpyxl opens."""

from __future__ import annotations

import datetime as dt
import io
import json

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from openpyxl import load_workbook

from dashboard.data import value as value_data
from dashboard.figures.value import clv_by_tier, holdout_fit, risk_calibration
from dashboard.i18n import t
from dashboard.maintenance import maintenance_plan_xlsx, plan_headers
from tests.dashboard.conftest import open_page
from vipmodel.pyramid import DEFAULT_RULES
from vipmodel.value_summary import MAX_OUTLIERS, is_skewed


def _metric(at, label: str) -> str:
    return next(m for m in at.metric if m.label == label).value


def _money(text: str) -> float:
    return float(text.replace("¥", "").replace(",", ""))


def _plan(at) -> pd.DataFrame:
    return at.dataframe[-1].value


def _xlsx(downloads: dict[str, bytes]) -> bytes:
    return next(data for name, data in downloads.items() if name.endswith(".xlsx"))


# --- the page ----------------------------------------------------------------------------------------------------


def test_value_page_shows_values_model_check_and_a_plan_ranked_by_value_at_risk_with_names_masked(demo_app):
    at = open_page(demo_app, "value")
    assert not at.exception
    assert at.title[0].value == "Value & churn risk"
    plan = _plan(at)
    headers = plan_headers("en")
    assert list(plan.columns) == list(headers.values())
    # The KPIs describe exactly the list below them.
    assert int(_metric(at, "Members at risk").replace(",", "")) == len(plan)
    shown_total = plan[headers["value_at_risk"]].sum()
    assert _money(_metric(at, "Value at risk")) == pytest.approx(shown_total, abs=1 + 0.01 * len(plan))
    assert _money(_metric(at, "Value at risk")) < _money(_metric(at, "Lifetime value (model), all members"))
    assert plan[headers["value_at_risk"]].is_monotonic_decreasing
    assert plan[headers["name"]].str.contains(r"\*").all()  # staff privacy by default
    # CLV by tier, model vs simple rule, predicted vs actual purchases, calibration by decile.
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    assert len(charts) == 4
    boxes = [trace["name"] for trace in charts[0]["data"] if trace["type"] == "box"]
    assert boxes[:4] == ["A Platinum", "B Gold", "C Iron", "D Lead"]
    # The demo mall's churn is only weakly predictable from observed data (retention docstring: ~0.62 at best).
    auc = float(_metric(at, "Churn-risk score: AUC"))
    assert 0.5 < auc < 0.75
    assert any("AUC" in m.value and "95% interval" in m.value for m in at.markdown)
    assert any("Why the two differ" in c.value for c in at.caption)
    at.toggle(key="val_show_personal").set_value(True).run()
    assert not at.exception
    assert not _plan(at)[headers["name"]].str.contains(r"\*").any()


def test_tier_filter_narrows_the_list_to_the_chosen_tiers(demo_app):
    at = open_page(demo_app, "value")
    everyone = len(_plan(at))
    at.multiselect(key="val_tiers_ABCD").set_value(["A", "B"]).run()
    assert not at.exception
    plan = _plan(at)
    assert 0 < len(plan) < everyone
    assert set(plan[plan_headers("en")["tier"]]) <= {"A Platinum", "B Gold"}
    at.number_input(key="val_min_value").set_value(float(plan[plan_headers("en")["value_at_risk"]].median())).run()
    assert 0 < len(_plan(at)) < len(plan)
    at.multiselect(key="val_reasons").set_value([]).run()
    assert not at.exception
    assert any("No member at risk matches" in i.value for i in at.info)


def test_the_list_offers_only_the_tiers_the_sidebar_keeps(demo_app):
    demo_app.query_params["tier"] = "A,B"
    at = open_page(demo_app, "value")
    assert not at.exception
    picker = at.multiselect(key="val_tiers_AB")
    assert list(picker.value) == ["A", "B"] and len(picker.options) == 2
    assert set(_plan(at)[plan_headers("en")["tier"]]) <= {"A Platinum", "B Gold"}
    at.multiselect(key="tiers").set_value(["C"]).run()
    assert not at.exception
    assert list(at.multiselect(key="val_tiers_C").value) == ["C"]
    assert set(_plan(at)[plan_headers("en")["tier"]]) == {"C Iron"}


def test_the_excel_download_opens_with_openpyxl_and_holds_the_table_shown(demo_app, downloads):
    at = open_page(demo_app, "value")
    at.multiselect(key="val_tiers_ABCD").set_value(["A"]).run()
    assert at.get("download_button")[-1].proto.label == "Download the maintenance plan (Excel)"
    shown = _plan(at)
    sheet = load_workbook(io.BytesIO(_xlsx(downloads)), read_only=True)["Maintenance plan"]
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == list(plan_headers("en").values())
    assert [r[0] for r in rows[1:]] == shown[plan_headers("en")["member_id"]].tolist()
    csv = next(data for name, data in downloads.items() if name == "maintenance-plan.csv")
    assert csv.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel reads the Chinese text correctly


def test_value_page_in_chinese_downloads_the_maintenance_plan_table(demo_app, downloads):
    demo_app.query_params["lang"] = "zh"
    at = open_page(demo_app, "value")
    assert not at.exception
    assert at.title[0].value == "价值与流失风险"
    assert "流失风险会员" in [m.label for m in at.metric]
    assert "白金层" in " ".join(str(o) for o in at.multiselect(key="val_tiers_ABCD").options)
    workbook = load_workbook(io.BytesIO(_xlsx(downloads)), read_only=True)
    assert workbook.sheetnames == ["客户营销维护计划表"]
    header = next(workbook["客户营销维护计划表"].iter_rows(values_only=True))
    assert "风险价值（元）" in header and "挽留措施" in header


def test_without_a_year_to_check_against_the_model_check_explains_why(demo_app):
    demo_app.query_params["to"] = "2024-06-30"  # eight months into the demo's three years: nothing to hold out
    at = open_page(demo_app, "value")
    assert not at.exception
    assert any("needs at least two years" in i.value for i in at.info)
    assert len(at.get("plotly_chart")) == 2  # the value charts still show


# --- the loaders ------------------------------------------------------------------------------------------------


def test_the_churn_evaluation_loader_returns_the_reason_instead_of_raising(demo_url):
    # 2024-06-30 minus one year spans 29 February: the loader must ask for 366 days, so the reason given is the
    # real one (no data a year earlier), not a complaint about the holdout length.
    rules = DEFAULT_RULES.to_payload()
    evaluation, reason = value_data.load_churn_evaluation(demo_url, 0, dt.date(2024, 6, 30), rules, None)
    assert evaluation is None
    assert reason.startswith("as_of (2023-06-30) is before the first purchase")


def test_the_excel_loader_writes_a_workbook_with_money_formatted_columns():
    plan = pd.DataFrame({"会员编号": ["M1", "M2"], "风险价值（元）": [1234.5, 10.0],
                         "完成期限": [dt.date(2026, 11, 3), dt.date(2026, 11, 30)]})
    workbook = load_workbook(io.BytesIO(maintenance_plan_xlsx(plan, "客户营销维护计划表")))
    sheet = workbook["客户营销维护计划表"]
    assert [c.value for c in sheet[1]] == list(plan.columns)
    assert sheet["B2"].value == 1234.5 and sheet["B2"].number_format == "#,##0.00"
    assert sheet["C3"].value.date() == dt.date(2026, 11, 30)


# --- the figures -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "skewed"),
    [
        (np.geomspace(1, 1_000, 101), True),  # 5th-95th percentile ratio 10 ** 2.7
        (np.linspace(100, 500, 101), False),  # ratio 4.3
        (np.array([0.0, 0.0, 5.0]), False),  # a single positive value has no spread
        (np.array([]), False),
    ],
)
def test_a_log_axis_is_chosen_when_values_span_more_than_two_decades(values, skewed):
    assert is_skewed(values) is skewed


def test_clv_box_plot_drops_zero_values_on_a_log_axis_and_keeps_tier_order():
    frame = pd.DataFrame({"tier": ["B", "A", "A", "C", "C"], "model_clv": [50.0, 9_000.0, 20_000.0, 0.0, 3.0]})
    fig = clv_by_tier(frame, {"A": "A", "B": "B", "C": "C", "D": "D"}, "t", "y", log=True)
    assert isinstance(fig, go.Figure)
    boxes = [trace for trace in fig.data if trace.type == "box"]
    assert [trace.name for trace in boxes] == ["A", "B", "C"]  # D has no members
    assert list(boxes[2].median) == [3.0] and fig.layout.yaxis.type == "log"  # C's zero is not drawn


def test_a_box_of_a_million_members_is_drawn_from_statistics_with_bounded_outliers():
    rng = np.random.default_rng(3)
    values = rng.lognormal(5, 2, size=1_000_000)
    fig = clv_by_tier(pd.DataFrame({"tier": "A", "model_clv": values}), {"A": "A"}, "t", "y", log=True)
    box, points = fig.data
    values = values[values >= 1.0]  # on a log axis the box describes the members valued at ¥1 or more (CLV_FLOOR)
    q1, median, q3 = np.percentile(values, [25, 50, 75])
    assert box.q1[0] == pytest.approx(q1) and box.median[0] == pytest.approx(median) and box.q3[0] == pytest.approx(q3)
    assert box.upperfence[0] == pytest.approx(values[values <= q3 + 1.5 * (q3 - q1)].max())
    assert len(points.y) <= 2 * MAX_OUTLIERS and max(points.y) == values.max()
    assert len(fig.to_json()) < 100_000


def test_clv_box_plot_names_a_missing_column():
    with pytest.raises(ValueError, match="frame is missing columns: tier$"):
        clv_by_tier(pd.DataFrame({"model_clv": [1.0]}), {"A": "A"}, "t", "y")


def test_holdout_and_calibration_charts_plot_the_columns_they_are_given():
    table = pd.DataFrame({"frequency": ["0", "1", "2+"], "customers": [10, 5, 3], "actual": [0.2, 1.0, 3.0],
                          "predicted": [0.3, 0.9, 3.3], "difference": [0.1, -0.1, 0.3]})
    fig = holdout_fit(table, {"actual": "Actual", "predicted": "Predicted"}, "t", "x", "y")
    assert [list(trace.y) for trace in fig.data] == [[0.2, 1.0, 3.0], [0.3, 0.9, 3.3]]
    calibration = pd.DataFrame({"decile": [1, 2], "members": [5, 5], "mean_score": [0.1, 0.6],
                                "churn_rate": [0.2, 0.4]})
    fig = risk_calibration(calibration, {"mean_score": "Predicted", "churn_rate": "Actual"}, "t", "x")
    assert [trace.name for trace in fig.data] == ["Predicted", "Actual"]
    assert list(fig.data[1].y) == [0.2, 0.4]


@pytest.mark.parametrize("reason", ["spend_down", "complaint_unresolved", "no_care_contact"])
def test_picking_one_reason_lists_exactly_the_members_with_that_reason(demo_app, reason):
    at = open_page(demo_app, "value")
    everyone = _plan(at)
    at.multiselect(key="val_reasons").set_value([reason]).run()
    assert not at.exception
    column = plan_headers("en")["reasons"]
    label = t(f"retention.reason.{reason}", "en")
    expected = everyone[everyone[column].str.contains(label, regex=False)]
    assert 0 < len(expected) < len(everyone)
    assert _plan(at)[plan_headers("en")["member_id"]].tolist() == expected[plan_headers("en")["member_id"]].tolist()


def test_tier_value_summary_counts_totals_and_medians_and_keeps_an_undefined_simple_value_undefined():
    from dashboard.figures.value import tier_value_table
    from vipmodel.value_summary import tier_value_summary

    frame = pd.DataFrame({"tier": ["A", "A", "B", "inactive", "B"], "model_clv": [10.0, 30.0, 5.0, 1.0, 7.0],
                          "simple_clv": [12.0, 28.0, np.nan, 2.0, np.nan]})
    summary = tier_value_summary(frame)
    assert summary.loc["A"].tolist() == [2, 40.0, 40.0, 20.0, 20.0]
    assert summary.loc["B", "members"] == 2 and summary.loc["B", "model_clv_total"] == 12.0
    assert np.isnan(summary.loc["B", "simple_clv_total"])
    shown, formats = tier_value_table(summary, {"A": "A Platinum", "B": "B Gold", "C": "C Iron"}, "en")
    assert shown.iloc[:, 0].tolist() == ["A Platinum", "B Gold"]  # C has no member, inactive was not asked for
    assert set(formats.values()) == {"int", "money"}
