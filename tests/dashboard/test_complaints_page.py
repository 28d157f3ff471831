"""Complaints & churn page: renders on the demo mall in both languages, leads with the per-complaint associations
adjusted for satisfaction next to the unadjusted ones, "group by" redraws the churn chart, the iceberg multiplier
changes the silent-dissatisfied estimate, and missing data (no complaints, no survey) is explained, not crashed on."""

from __future__ import annotations

import json
import shutil

import pytest
from sqlalchemy import delete, func, select

from dashboard.figures.complaints import adjustment_plot, churn_bars, correlation_heatmap, forest_plot, iceberg_figure
from dashboard.figures.complaints_text import (
    comparison_frame, comparison_table, effect_sentence, effects_frame, explain_error, group_label,
)
from tests.dashboard.conftest import app_as, open_page
from vipmodel import db, schema
from vipmodel import complaints as cpl


def _spec(at, key):
    """The Plotly spec of the chart whose PNG export is named ``key`` (see ``ui.chart``)."""
    for chart in at.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        if json.loads(chart.proto.config)["toImageButtonOptions"]["filename"] == key:
            return spec
    raise AssertionError(f"no chart {key}")


def _metric(at, label):
    return next(m for m in at.metric if m.label == label).value


def _number(text):
    return float(text.replace(",", ""))


@pytest.fixture
def page(demo_app):
    return open_page(demo_app, "complaints")


def test_complaints_page_shows_churn_by_status_effects_regression_correlations_and_iceberg(page):
    at = page
    assert not at.exception
    assert at.title[0].value == "Complaints & churn"
    status = _spec(at, "complaints-churn-status")
    assert status["data"][0]["x"] == ["No complaint", "Resolved only", "Unresolved"]
    # The demo mall's generator makes every complaint raise churn, open ones most.
    rates = status["data"][0]["y"]
    assert rates[0] < rates[1] < rates[2]
    assert any(shape.get("y0") == 0.30 for shape in status["layout"]["shapes"])  # the 30% retail reference
    captions = " ".join(c.value for c in at.caption)
    # The demo mall has thousands of member-years and a strong effect: the test must find it.
    assert "Pearson chi-square" in captions and "The difference is statistically significant" in captions
    forest = _spec(at, "complaints-forest")
    assert forest["layout"]["xaxis"]["type"] == "log"
    assert any(shape.get("x0") == 1.0 for shape in forest["layout"]["shapes"])
    sentences = [m.value for m in at.markdown if m.value.startswith("- Members with")]
    assert sentences and "churned" in sentences[0] and "95% CI" in sentences[0]
    assert "tier (reference:" in captions  # the regression states its controls
    heat = _spec(at, "complaints-correlations")
    assert "Churned" in heat["data"][0]["x"]
    assert _number(_metric(at, "Complaints received")) > 0
    assert not at.warning


ADJUSTED_MODELS = ["Adjusted for satisfaction", "Not adjusted (same members)", "Not adjusted (all member-years)"]


def test_the_headline_is_the_satisfaction_adjusted_association_shown_beside_the_unadjusted_one(page):
    at = page
    assert not at.exception and not at.warning
    assert at.subheader[0].value.startswith("Per complaint, among members alike in tier, spend and satisfaction")
    headline = next(m.value for m in at.markdown if m.value.startswith("- Each additional"))
    lines = headline.splitlines()
    assert len(lines) == len(cpl.COUNT_COLUMNS)
    for line in lines:  # an association, adjusted for named controls, with the unadjusted figure beside it
        assert " is associated with " in line and "× the odds of churn (95% CI " in line
        assert "adjusted for tier (reference: " in line and "spend (log) and satisfaction" in line
        assert "Without the satisfaction adjustment (same members): " in line
    captions = " ".join(c.value for c in at.caption)
    assert "member-years with a satisfaction survey" in captions and "not proven effects" in captions
    assert "clustered by member" in captions and "counts as resolved" in captions
    adjustment = _spec(at, "complaints-adjustment")
    assert [trace["name"] for trace in adjustment["data"]] == ADJUSTED_MODELS
    assert all(len(trace["x"]) == len(cpl.COUNT_COLUMNS) for trace in adjustment["data"])
    assert adjustment["layout"]["xaxis"]["type"] == "log"
    table = at.dataframe[0].value
    assert list(table.columns) == ["Complaint (per additional one)", *ADJUSTED_MODELS]
    assert len(table) == len(cpl.COUNT_COLUMNS)
    # The headline sentence and the table's first column are the same adjusted fit.
    first_ratio = lines[0].split(" is associated with ")[1].split("×")[0]
    assert table.iloc[0, 1].startswith(first_ratio)


def test_effect_sentences_are_listed_strongest_first(page):
    markdown = next(m.value for m in page.markdown if m.value.startswith("- Members with"))
    ratios = [float(line.split(" churned ")[1].split("×")[0]) for line in markdown.splitlines()]
    assert len(ratios) == len(cpl.COUNT_COLUMNS)  # the demo mall has every kind of complaint
    assert ratios == sorted(ratios, reverse=True)


@pytest.mark.parametrize(
    ("by", "labels"),
    [
        ("handling", ["No complaint", "Resolved within 7 days", "Resolved after more than 7 days", "Unresolved"]),
        ("category", ["No complaint", "Product only", "Service only", "Product and service"]),
        ("severity", ["No complaint", "Minor", "Moderate", "Serious"]),
        ("resolution_time", ["No complaint", "Within 1 day(s)", "1–7 days", "7–30 days", "More than 30 days",
                             "Unresolved"]),
    ],
)
def test_changing_the_grouping_redraws_the_churn_chart(page, by, labels):
    at = page.selectbox(key="cpl_group_by").set_value(by).run()
    assert not at.exception
    spec = _spec(at, f"complaints-churn-{by}")
    assert spec["data"][0]["x"] == labels
    # Every member-year is in exactly one group, so the bar counts add up to the panel.
    counts = [int(text.removeprefix("n = ").replace(",", "")) for text in spec["data"][0]["text"]]
    assert sum(counts) == _number(next(c.value for c in at.caption if "member-years from" in c.value).split()[0])


def test_the_iceberg_multiplier_scales_the_silent_dissatisfied(page):
    at = page
    visible = _number(_metric(at, "Complaints received"))
    assert _number(_metric(at, "Silent dissatisfied (estimate)")) == visible * 19  # 20 per complaint by default
    at.number_input(key="cpl_multiplier").set_value(10.0).run()
    assert not at.exception
    assert _number(_metric(at, "Silent dissatisfied (estimate)")) == visible * 9
    assert "stands for 10 members" in " ".join(c.value for c in at.caption)
    at.button(key="cpl_preset_store_article").click().run()
    assert not at.exception
    assert _number(_metric(at, "Silent dissatisfied (estimate)")) == visible * 24
    assert _number(_metric(at, "Dissatisfied in all (estimate)")) == visible * 25


def test_complaints_page_in_chinese_reads_as_chinese_sentences(demo_app):
    demo_app.query_params["lang"] = "zh"
    at = open_page(demo_app, "complaints")
    assert not at.exception
    assert at.title[0].value == "投诉与流失"
    markdown = next(m.value for m in at.markdown if m.value.startswith("- 有"))
    assert "的会员流失率是无投诉会员的" in markdown and "95% 置信区间" in markdown
    assert _spec(at, "complaints-churn-status")["data"][0]["x"] == ["无投诉", "均已解决", "未解决"]
    at.selectbox(key="cpl_group_by").set_value("category").run()
    assert not at.exception
    assert "仅服务投诉" in _spec(at, "complaints-churn-category")["data"][0]["x"]
    assert "收到的投诉" in [m.label for m in at.metric]
    headline = next(m.value for m in at.markdown if m.value.startswith("- 调整"))
    assert "关联的流失优势比为" in headline and "满意度" in headline and "不调整满意度（同一批会员）" in headline
    assert [trace["name"] for trace in _spec(at, "complaints-adjustment")["data"]] == [
        "调整满意度", "不调整（同一批会员）", "不调整（全部会员年度）"]
    assert "相关关系" in " ".join(c.value for c in at.caption)


def test_a_regression_that_cannot_be_estimated_is_explained_in_a_warning(demo_app, monkeypatch):
    def too_few(*args, **kwargs):
        raise ValueError("too few member-years for the model: n <= number of terms")

    monkeypatch.setattr(cpl, "churn_regression", too_few)
    at = open_page(demo_app, "complaints")
    assert not at.exception
    assert any("too few member-years" in w.value and "later period" in w.value for w in at.warning)
    assert len(at.dataframe) == 0  # no odds-ratio table
    assert _spec(at, "complaints-forest")  # the rest of the page still shows


@pytest.fixture
def app_without_surveys(tmp_path, demo_sqlite_url, monkeypatch):
    copy = tmp_path / "demo.db"
    shutil.copy(demo_sqlite_url.removeprefix("sqlite:///"), copy)
    engine = db.make_engine(f"sqlite:///{copy}")
    with engine.begin() as conn:
        conn.execute(delete(schema.survey_answers))
        conn.execute(delete(schema.survey_responses))
    engine.dispose()
    monkeypatch.setenv(db.ENV_URL, f"sqlite:///{copy}")
    return app_as("admin", timeout=90)


@pytest.mark.parametrize(("lang", "warning", "model"), [
    ("en", "Satisfaction could not be taken into account (no member-year has a complete satisfaction survey)",
     "Not adjusted (all member-years)"),
    ("zh", "无法调整满意度（没有会员年度填写了完整的满意度问卷）", "不调整（全部会员年度）"),
])
def test_without_a_survey_the_page_says_satisfaction_is_not_adjusted_for(app_without_surveys, lang, warning, model):
    app_without_surveys.query_params["lang"] = lang
    at = open_page(app_without_surveys, "complaints")
    assert not at.exception
    assert any(w.value.startswith(warning) for w in at.warning)
    assert [trace["name"] for trace in _spec(at, "complaints-adjustment")["data"]] == [model]
    if lang == "en":
        assert "adjusted for tier" in " ".join(c.value for c in at.caption)
        assert "Without the satisfaction adjustment" not in next(
            m.value for m in at.markdown if m.value.startswith("- Each additional"))


@pytest.fixture
def app_without_complaints(tmp_path, demo_sqlite_url, monkeypatch):
    copy = tmp_path / "demo.db"
    shutil.copy(demo_sqlite_url.removeprefix("sqlite:///"), copy)
    engine = db.make_engine(f"sqlite:///{copy}")
    with engine.begin() as conn:
        conn.execute(delete(schema.complaints))
        assert conn.execute(select(func.count()).select_from(schema.complaints)).scalar() == 0
    engine.dispose()
    monkeypatch.setenv(db.ENV_URL, f"sqlite:///{copy}")
    return app_as("admin", timeout=90)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_data_without_complaints_explains_what_is_missing(app_without_complaints, lang):
    app_without_complaints.query_params["lang"] = lang
    at = open_page(app_without_complaints, "complaints")
    assert not at.exception
    assert len(at.info) == 2  # the analysis and the iceberg each say why they are empty
    assert ("No complaints were filed" if lang == "en" else "没有投诉记录") in at.info[0].value
    assert not at.get("plotly_chart")


# ----------------------------------------------------------------------------------------------- figure builders
def test_churn_bars_draw_the_wilson_interval_around_each_rate():
    table = cpl.churn_by_group(_hand_panel(), "status")
    fig = churn_bars(table, ["none", "resolved", "unresolved"], ["a", "b", "c"], "t", 0.3)
    bar = fig.data[0]
    low, high = cpl.wilson_interval(1, 4)  # the no-complaint group: 1 of 4 churned
    assert bar.y[0] == pytest.approx(0.25)
    assert bar.y[0] - bar.error_y.arrayminus[0] == pytest.approx(low)
    assert bar.y[0] + bar.error_y.array[0] == pytest.approx(high)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: churn_bars(_hand_panel()[["churned"]], [], [], "t"), "table is missing columns: group"),
        (lambda: churn_bars(cpl.churn_by_group(_hand_panel()), ["x"], ["y"], "t"), "one entry per row"),
        (lambda: forest_plot(_hand_panel(), "t"), "effects is missing columns: label"),
        (lambda: iceberg_figure(-1, 5, ("a", "b"), "t"), "must be >= 0"),
    ],
)
def test_figure_builders_reject_bad_input_with_a_clear_message(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def _adjusted_effects():
    """Adjusted and unadjusted fits on a seeded simulated panel (a known logit model; every member surveyed half
    the time)."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(4)
    n = 4000
    rows = {c: rng.poisson(0.2, n) for c in cpl.COUNT_COLUMNS}
    logit = -1.0 + sum(0.3 * v for v in rows.values())
    panel = pd.DataFrame({**rows, **{f"{c}_final": v for c, v in rows.items()}, "member_id": np.arange(n),
                          "tier": rng.choice(["C", "D"], n), "sales": rng.lognormal(7, 1, n),
                          "churned": rng.random(n) < 1 / (1 + np.exp(-logit))})
    for col in cpl.SATISFACTION_COLUMNS:
        panel[col] = np.where(rng.random(n) < 0.5, rng.uniform(1, 7, n), np.nan)
    panel[list(cpl.SATISFACTION_COLUMNS)] = panel[list(cpl.SATISFACTION_COLUMNS)].where(
        panel[list(cpl.SATISFACTION_COLUMNS)].notna().all(axis=1))
    return cpl.adjusted_churn_effects(panel)


def test_the_adjustment_plot_draws_one_series_per_fit_with_the_first_kind_on_top():
    effects = _adjusted_effects()
    fig = adjustment_plot(comparison_frame(effects, "en"), "t")
    assert [trace.name for trace in fig.data] == ADJUSTED_MODELS
    adjusted = effects.adjusted.complaint_effects()
    assert list(fig.data[0].x) == pytest.approx(adjusted["odds_ratio"].to_list())
    assert fig.data[0].x[0] - fig.data[0].error_x.arrayminus[0] == pytest.approx(adjusted["or_low"].iloc[0])
    assert fig.layout.yaxis.categoryarray[-1] == "Product, resolved ≤ 7 days"  # the top row
    assert fig.layout.xaxis.type == "log"
    with pytest.raises(ValueError, match="frame is missing columns: model"):
        adjustment_plot(comparison_frame(effects, "en").drop(columns=["model"]), "t")


def test_the_comparison_table_puts_each_fits_ratio_and_interval_side_by_side_in_both_languages():
    effects = _adjusted_effects()
    table = comparison_table(effects, "en")
    assert list(table.columns) == ["Complaint (per additional one)", *ADJUSTED_MODELS]
    row = effects.unadjusted.table.loc["service_unresolved"]
    expected = f"{row['odds_ratio']:.2f} ({row['or_low']:.2f}–{row['or_high']:.2f})"
    assert table.set_index("Complaint (per additional one)").loc["Service, unresolved", ADJUSTED_MODELS[2]] == expected
    assert list(comparison_table(effects, "zh").columns) == ["投诉类型（每多一次）", "调整满意度", "不调整（同一批会员）",
                                                               "不调整（全部会员年度）"]


def test_iceberg_figure_puts_the_silent_below_the_waterline_with_unsigned_ticks():
    fig = iceberg_figure(10, 190, ("visible", "silent"), "t")
    assert list(fig.data[0].y) == [10, -190]
    ticks = dict(zip(fig.layout.yaxis.tickvals, fig.layout.yaxis.ticktext))
    assert min(ticks) <= -190 and max(ticks) >= 10
    assert all(not text.startswith("-") for text in ticks.values())


def test_correlation_heatmap_is_on_a_fixed_minus_one_to_one_scale():
    import pandas as pd

    matrix = pd.DataFrame([[1.0, 0.2], [0.2, 1.0]], index=["a", "b"], columns=["a", "b"])
    fig = correlation_heatmap(matrix, ["A", "B"], "t")
    assert (fig.data[0].zmin, fig.data[0].zmax) == (-1, 1)
    with pytest.raises(ValueError, match="one label per row"):
        correlation_heatmap(matrix, ["A"], "t")


def _hand_panel():
    """Eight member-years: 4 without complaint (1 churned), 2 resolved (1 churned), 2 unresolved (2 churned)."""
    import pandas as pd

    rows = []
    for churned, column in [(True, None), (False, None), (False, None), (False, None),
                            (True, "product_resolved_quick"), (False, "service_resolved_slow"),
                            (True, "service_unresolved"), (True, "product_unresolved")]:
        row = {c: 0 for c in cpl.COUNT_COLUMNS}
        if column:
            row[column] = 1
        rows.append({**row, "churned": churned})
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------------------------- sentences and labels
def test_an_effect_reads_as_a_sentence_in_english_and_chinese():
    # 30 of 100 exposed vs 10 of 100 reference churned: RR 3.0; Katz interval exp(ln 3 ± 1.96 sqrt(1/30 - 1/100
    # + 1/10 - 1/100)) = 1.55 to 5.80, by hand.
    effect = cpl.two_by_two(30, 70, 10, 90, "service_unresolved", "none")
    assert effect_sentence(effect, "en") == (
        "Members with an unresolved service complaint churned 3.0× as often as members with no complaint "
        "(95% CI 1.6–5.8)."
    )
    assert effect_sentence(effect, "zh") == "有未解决的服务投诉的会员流失率是无投诉会员的 3.0 倍（95% 置信区间 1.6–5.8）。"


def test_an_effect_whose_interval_includes_one_says_it_is_not_significant():
    effect = cpl.two_by_two(12, 88, 10, 90, "product_resolved_quick", "none")  # RR 1.2, interval spans 1
    assert not effect.significant
    assert effect_sentence(effect, "en").endswith("— not statistically significant.")
    assert "a product complaint resolved within 7 days" in effect_sentence(effect, "en")
    assert effect_sentence(effect, "zh").endswith("差异无统计学意义。")


def test_forest_plot_lists_the_first_effect_on_top_and_draws_non_significant_ones_hollow():
    effects = [cpl.two_by_two(30, 70, 10, 90, "service_unresolved", "none"),
               cpl.two_by_two(12, 88, 10, 90, "product_resolved_quick", "none")]
    fig = forest_plot(effects_frame(effects, "en"), "t")
    assert list(fig.data[0].y) == ["Product, resolved ≤ 7 days", "Service, unresolved"]  # bottom to top
    assert list(fig.data[0].marker.symbol) == ["square-open", "square"]


@pytest.mark.parametrize(
    ("code", "en", "zh"),
    [("le_1d", "Within 1 day(s)", "1 天内"), ("le_30d", "7–30 days", "7–30 天"),
     ("gt_30d", "More than 30 days", "超过 30 天"), ("resolved_slow", "Resolved after more than 7 days", "超过 7 天才解决"), ("none", "No complaint", "无投诉")],
)
def test_group_codes_are_translated_from_the_resolution_edges_and_the_slow_threshold(code, en, zh):
    assert (group_label(code, "en"), group_label(code, "zh")) == (en, zh)


@pytest.mark.parametrize(
    ("message", "lang", "expected"),
    [
        ("too few member-years for the model: n <= number of terms", "zh", "会员年度样本太少"),
        ("churned has only one value: nothing to explain", "en", "every member-year churned, or every one stayed"),
        ("regression could not be estimated: the terms are collinear (singular design)", "en",
         "the model could not be estimated (the terms are collinear (singular design))."),
        ("something nobody foresaw", "zh", "something nobody foresaw"),
    ],
)
def test_analysis_errors_are_translated_when_known_and_shown_as_they_are_otherwise(message, lang, expected):
    assert expected in explain_error(ValueError(message), lang)


# ----------------------------------------------------------------------------------------------- loaders
def test_the_page_loaders_give_the_same_panel_and_regression_on_sqlite_and_postgresql(demo_sqlite_url,
                                                                                     demo_postgres_url):
    import pandas as pd

    from dashboard.data import common, complaints as complaints_data

    end = common.load_latest_date(demo_sqlite_url, 0)
    assert end == common.load_latest_date(demo_postgres_url, 0)
    panels = [complaints_data.load_churn_panel(url, 0, end, 2).sort_values(["window_end", "member_id"],
                                                                           ignore_index=True)
              for url in (demo_sqlite_url, demo_postgres_url)]
    assert len(panels[0]) > 0
    pd.testing.assert_frame_equal(panels[0][list(cpl.COUNT_COLUMNS) + ["churned", "tier"]],
                                  panels[1][list(cpl.COUNT_COLUMNS) + ["churned", "tier"]])
    lite, pg = (complaints_data.load_complaint_regression(url, 0, end, 2)
                for url in (demo_sqlite_url, demo_postgres_url))
    assert lite.adjusted is not None and pg.adjusted is not None
    pd.testing.assert_frame_equal(lite.comparison(), pg.comparison(), rtol=1e-6)
    pd.testing.assert_frame_equal(lite.headline.table, pg.headline.table, rtol=1e-6)


def test_a_period_without_three_years_of_history_explains_why_and_still_shows_the_iceberg(demo_app):
    import datetime as dt

    from vipmodel.demo import DEFAULT_END_DATE
    from vipmodel.outcomes import add_years

    # The demo mall's data starts three years before its last day: a period ending a month before the second
    # anniversary has less than a year of history before its last year, so no behaviour year with an outcome year.
    end = add_years(DEFAULT_END_DATE, -2) - dt.timedelta(days=31)
    demo_app.query_params["from"] = (end - dt.timedelta(days=364)).isoformat()
    demo_app.query_params["to"] = end.isoformat()
    at = open_page(demo_app, "complaints")
    assert not at.exception
    assert at.session_state["period"][1] == end
    assert any("needs three years of purchases" in i.value for i in at.info)
    assert _number(_metric(at, "Complaints received")) > 0
    assert len(at.get("plotly_chart")) == 1  # only the iceberg
