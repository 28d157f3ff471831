"""Satisfaction page: renders in both languages, its sliders re-test the weights against churn, the suggested
weights can be tried with one click, saving records a version with its author, and thin data is explained.
The figure builders are checked on small hand-made frames."""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import replace

import pandas as pd
import pytest
from sqlalchemy import delete, func, select

from dashboard import access
from dashboard.figures.satisfaction import gap_bars, index_bars, ipa_quadrant, weight_bars
from dashboard.figures.satisfaction_text import dimension_names, gain_sentence, order_sentence, suggested_metrics
from dashboard.i18n import fmt_date, fmt_percent, t
from tests.dashboard.conftest import chart_spec, open_page
from vipmodel import db, schema
from vipmodel.auth import Actor
from vipmodel.kpi import latest_activity_date
from vipmodel.outcomes import churn_panel
from vipmodel.satisfaction import (ORDER_PROBABILITY_THRESHOLD, SatisfactionWeights, current_weights, evaluate_weights,
                                   suggest_weights)

SLIDERS = ("sat_w_product_quality", "sat_w_sales_service", "sat_w_corporate_image")


def _metric(at, label: str) -> str:
    return next(m for m in at.metric if m.label == label).value


def _sliders(at) -> tuple[int, ...]:
    return tuple(at.slider(key=k).value for k in SLIDERS)


@pytest.fixture(scope="module")
def demo_panel(demo_sqlite_url) -> pd.DataFrame:
    """The churn panel the page evaluates: two years up to the sidebar's default period end (the latest activity)."""
    engine = db.make_engine(demo_sqlite_url)
    with engine.connect() as conn:
        panel = churn_panel(conn, latest_activity_date(conn), 2)
    engine.dispose()
    return panel


def test_satisfaction_page_shows_weights_evaluation_charts_and_loyalty(demo_app, demo_panel):
    at = open_page(demo_app, "satisfaction")
    assert not at.exception
    assert at.title[0].value == "Satisfaction"
    assert _sliders(at) == (33, 33, 33)  # nothing saved yet: equal thirds
    assert "0.5 = no better than chance" in " ".join(m.value for m in at.markdown)
    labels = [m.label for m in at.metric]
    assert {"AUC for churn", "Rank correlation with next-year sales", "Satisfaction index (0–100)"} <= set(labels)
    assert len(at.get("plotly_chart")) == 4  # index, gap, current vs. suggested, quadrant
    assert not at.info
    # The one caution: this 3,000-member mall is too small to order the weights (checked in the test below).
    assert [w.value for w in at.warning] == [order_sentence(suggest_weights(demo_panel), "en")[0]]


def test_the_auc_shown_is_the_evaluation_of_the_slider_weights_on_the_churn_panel(demo_app, demo_panel):
    at = open_page(demo_app, "satisfaction")
    before = _metric(at, "AUC for churn")
    assert before == f"{evaluate_weights(demo_panel).auc:,.3f}"
    at.slider(key="sat_w_product_quality").set_value(100).run()
    at.slider(key="sat_w_sales_service").set_value(0).run()
    at.slider(key="sat_w_corporate_image").set_value(0).run()
    assert not at.exception
    expected = evaluate_weights(demo_panel, SatisfactionWeights(1.0, 0.0, 0.0)).auc
    assert _metric(at, "AUC for churn") == f"{expected:,.3f}" != before
    assert "Product quality **100.0%**" in " ".join(m.value for m in at.markdown)


@pytest.mark.parametrize("store", [None, "East"])
def test_the_cached_weights_check_equals_the_evaluation_of_the_whole_filtered_panel(demo_sqlite_url, demo_panel,
                                                                                      store):
    from dashboard.data import common, members, satisfaction as satisfaction_data
    from dashboard.members_filter import restrict
    from dashboard.state import ALL_TIERS
    from vipmodel.pyramid import DEFAULT_RULES

    version = common.current_version(demo_sqlite_url)
    end = common.load_latest_date(demo_sqlite_url, version)
    weights = SatisfactionWeights(0.5, 0.3, 0.2)
    check = satisfaction_data.load_weights_check(demo_sqlite_url, version, end - dt.timedelta(days=364), end,
                                                 DEFAULT_RULES.to_payload(), store, ALL_TIERS, weights.to_payload())
    panel = restrict(demo_panel, members.member_ids(demo_sqlite_url, version, None, store))
    # The surveyed rows first, reduced to their score patterns: the same evaluation, up to rounding.
    got, want = vars(check["evaluation"]).copy(), vars(evaluate_weights(panel, weights)).copy()
    assert got.pop("weights") == want.pop("weights") == weights
    assert got == pytest.approx(want, rel=1e-12)
    assert check["evaluation"].n_without_survey > 0


@pytest.mark.parametrize(("lang", "phrase"), [("en", "The data cannot tell the weights apart"),
                                              ("zh", "数据无法区分这些权重")])
def test_the_page_shows_the_order_probability_and_says_when_the_data_cannot_tell_the_weights_apart(
        demo_app, demo_panel, lang, phrase):
    # The demo mall's 3,000 members are a small panel: the suggested order is a coin flip, and the page must say so.
    fit = suggest_weights(demo_panel)  # the page's settings: 200 member-level draws, seed 0, 5 member folds
    assert fit.order_probability < ORDER_PROBABILITY_THRESHOLD and not fit.order_established
    demo_app.query_params["lang"] = lang
    at = open_page(demo_app, "satisfaction")
    assert not at.exception
    assert _metric(at, t("sat.order.metric", lang)) == fmt_percent(fit.order_probability, lang, 0)
    assert _metric(at, t("sat.gain.metric", lang)) == f"{fit.auc_gain:+.3f}"  # cross-fitted, not in-sample
    warnings = [w.value for w in at.warning]
    assert warnings == [order_sentence(fit, lang)[0]] and phrase in warnings[0]
    higher, lower, _ = fit.weakest_pair()
    assert dimension_names(lang)[higher] in warnings[0] and dimension_names(lang)[lower] in warnings[0]


def test_moving_a_slider_changes_the_satisfaction_index(demo_app):
    at = open_page(demo_app, "satisfaction")
    before = _metric(at, "Satisfaction index (0–100)")
    at.slider(key="sat_w_sales_service").set_value(0).run()
    assert not at.exception
    assert _metric(at, "Satisfaction index (0–100)") != before


def test_try_suggested_weights_sets_the_sliders_to_the_fitted_weights(demo_app, demo_panel):
    at = open_page(demo_app, "satisfaction")
    at.button(key="sat_try").click().run()
    assert not at.exception
    fitted = suggest_weights(demo_panel, n_boot=0).weights  # the bootstrap does not move the point estimate
    assert _sliders(at) == tuple(int(round(w * 100)) for w in fitted.as_array())
    at.button(key="sat_reset").click().run()
    assert _sliders(at) == (33, 33, 33)


def test_all_sliders_at_zero_is_explained_instead_of_failing(demo_app):
    at = open_page(demo_app, "satisfaction")
    for key in SLIDERS:
        at.slider(key=key).set_value(0).run()
    assert not at.exception
    assert any("At least one slider" in w.value for w in at.warning)


def test_saving_records_the_slider_weights_as_a_version_by_the_signed_in_user(fresh_demo_app):
    fresh_demo_app.session_state[access.ACTOR_KEY] = Actor("Wang Fang", "marketing")
    at = open_page(fresh_demo_app, "satisfaction")
    at.slider(key="sat_w_product_quality").set_value(50).run()
    at.slider(key="sat_w_sales_service").set_value(30).run()
    at.slider(key="sat_w_corporate_image").set_value(20).run()
    # A form sends its widgets' values with the submit click, so fill and click in one run.
    at.text_input(key="sat_note").input("service matters more for our positioning")
    at.button(key="FormSubmitter:sat_save-Save these weights as a new version").click().run()
    assert not at.exception
    assert any("version 1" in s.value for s in at.success)
    assert "version 1" in " ".join(c.value for c in at.caption)
    assert _sliders(at) == (50, 30, 20)
    engine = db.make_engine(os.environ[db.ENV_URL])  # the private copy set by fresh_demo_app
    with engine.connect() as conn:
        saved = current_weights(conn)
        author, note = conn.execute(select(schema.settings.c.author, schema.settings.c.note)).one()
    engine.dispose()
    assert saved == SatisfactionWeights(0.5, 0.3, 0.2)
    assert (author, note) == ("Wang Fang", "service matters more for our positioning")


def test_satisfaction_page_speaks_chinese_with_the_terms_of_the_documents(demo_app):
    demo_app.query_params["lang"] = "zh"
    at = open_page(demo_app, "satisfaction")
    assert not at.exception
    assert at.title[0].value == "满意度"
    assert [s.label for s in at.slider] == ["产品质量", "销售服务", "企业形象"]
    quadrant_chart = chart_spec(at, -1)
    texts = [a.get("text", "") for a in quadrant_chart["layout"].get("annotations", [])]
    assert all(any(name in text for text in texts) for name in ("继续保持", "重点改进", "低优先级", "可能过度"))
    assert "体验 − 期望" in [m.label for m in at.metric]


def test_a_period_without_two_years_of_history_shows_an_explanation_not_a_traceback(demo_app, demo_sqlite_url):
    engine = db.make_engine(demo_sqlite_url)
    with engine.connect() as conn:
        first = conn.execute(select(func.min(schema.transactions.c.ts))).scalar_one().date()
    engine.dispose()
    early_end = first + dt.timedelta(days=200)  # surveys exist, but no year has a following year to judge churn
    demo_app.query_params["from"] = first.isoformat()
    demo_app.query_params["to"] = early_end.isoformat()
    at = open_page(demo_app, "satisfaction")
    assert not at.exception
    assert [i.value for i in at.info] == [
        t("sat.no_panel", "en", date=fmt_date(early_end, "en"))
    ]  # said once, although both the evaluation and the suggested weights need the history
    assert len(at.get("plotly_chart")) == 2  # the index by group needs no history: it is still shown


def test_too_few_surveys_to_judge_the_weights_shows_the_reason_from_the_analysis(fresh_demo_app):
    engine = db.make_engine(os.environ[db.ENV_URL])
    r, a = schema.survey_responses, schema.survey_answers
    with engine.begin() as conn:
        keep = select(r.c.id).order_by(r.c.survey_date.desc()).limit(25).scalar_subquery()
        conn.execute(delete(a).where(a.c.response_id.not_in(keep)))
        conn.execute(delete(r).where(r.c.id.not_in(select(a.c.response_id))))
        left = conn.execute(select(func.count()).select_from(r)).scalar_one()
    engine.dispose()
    assert 0 < left <= 25
    at = open_page(fresh_demo_app, "satisfaction")
    assert not at.exception
    reasons = [i.value for i in at.info]
    assert reasons and all(v.startswith("The survey data cannot support this analysis yet: ") for v in reasons)


# --- figure builders -----------------------------------------------------------------------------------------------
GROUPS = pd.DataFrame(
    {
        "group": ["A", "B", "inactive"],
        "n": [4, 0, 1],
        "mean_index": [70.0, float("nan"), 50.0],
        "ci_low": [60.0, float("nan"), float("nan")],
        "ci_high": [82.0, float("nan"), float("nan")],
        "gap": [-0.5, float("nan"), 0.25],
        "n_gap": [4, 0, 1],
    }
)


def test_index_bars_leave_out_empty_groups_and_draw_asymmetric_intervals():
    fig = index_bars(GROUPS, {"A": "A Platinum"}, "t", "y")
    bar = fig.data[0]
    assert list(bar.x) == ["A Platinum", "inactive"]
    assert list(bar.error_y.array) == [12.0, None] and list(bar.error_y.arrayminus) == [10.0, None]
    assert fig.layout.template.layout.font.family.startswith("Arial")  # the house template, not Streamlit's


def test_gap_bars_colour_unmet_expectations_red():
    fig = gap_bars(GROUPS, {}, "t", "y")
    assert list(fig.data[0].y) == [-0.5, 0.25]
    assert fig.data[0].marker.color[0] != fig.data[0].marker.color[1]
    assert fig.layout.yaxis.zeroline is True and fig.layout.yaxis.range[0] < 0 < fig.layout.yaxis.range[1]


def test_weight_bars_put_the_bootstrap_interval_on_the_suggested_weights():
    table = pd.DataFrame({"dimension": ["product_quality"], "current": [0.5], "suggested": [0.4],
                          "low": [0.1], "high": [0.7]})
    fig = weight_bars(table, {"product_quality": "PQ"}, ("now", "fit"), "t")
    error = fig.data[1].error_y
    assert error.array[0] == pytest.approx(0.3) and error.arrayminus[0] == pytest.approx(0.3)


def test_ipa_quadrant_draws_the_cut_lines_and_names_every_quadrant():
    ipa = pd.DataFrame({"dimension": ["a", "b", "c"], "performance": [60.0, 70.0, 80.0],
                        "importance": [0.2, 0.5, 0.3], "importance_low": [0.1, 0.3, 0.2],
                        "importance_high": [0.3, 0.7, 0.4], "importance_cut": [1 / 3] * 3,
                        "performance_cut": [70.0] * 3})
    names = {"keep_up": "K", "concentrate_here": "C", "low_priority": "L", "possible_overkill": "P"}
    fig = ipa_quadrant(ipa, {}, names, "t", ("x", "y"))
    lines = {(s.type, s.x0, s.y0) for s in fig.layout.shapes}
    assert ("line", 70.0, 0) in lines and ("line", 0, 1 / 3) in lines
    corners = {a.text: (a.x, a.y) for a in fig.layout.annotations}
    # x = performance, y = importance: important and performing well is the top right.
    assert corners == {"<b>K</b>": (1, 1), "<b>C</b>": (0, 1), "<b>L</b>": (0, 0), "<b>P</b>": (1, 0)}
    low, high = fig.layout.xaxis.range
    assert low < 60.0 and high > 80.0


@pytest.mark.parametrize("builder", [index_bars, gap_bars])
def test_group_figures_name_the_missing_column(builder):
    with pytest.raises(ValueError, match=r"frame is missing columns: group$"):
        builder(GROUPS.drop(columns="group"), {}, "t", "y")


def test_ipa_quadrant_rejects_an_empty_frame():
    empty = pd.DataFrame(columns=["dimension", "performance", "importance", "importance_low", "importance_high",
                                  "importance_cut", "performance_cut"])
    with pytest.raises(ValueError, match=r"frame is empty \(no rows\)"):
        ipa_quadrant(empty, {}, {}, "t", ("x", "y"))


def test_a_missing_interval_is_exported_as_null_not_nan():
    exported = json.loads(index_bars(GROUPS, {}, "t", "y").to_json())  # strict JSON: NaN would not parse in a browser
    assert exported["data"][0]["error_y"]["array"] == [12.0, None]


@pytest.mark.parametrize(("labels", "fixed"), [
    (["A Platinum", "inactive"], True),                 # tiers: known short labels
    (["白金", "未活跃"], True),
    (["Flagship store at the North Station mall"], False),  # a long store name keeps Plotly's measured margins
    (["北京朝阳大悦城旗舰店"], False),                   # ten CJK characters are as wide as twenty letters
])
def test_charts_redrawn_on_every_weight_move_fix_their_margins_only_for_short_labels(labels, fixed):
    frame = pd.DataFrame({"group": labels, "n": 5, "mean_index": 60.0, "ci_low": 55.0, "ci_high": 65.0,
                          "gap": -0.2, "n_gap": 5})
    for fig in (index_bars(frame, {}, "t", "y"), gap_bars(frame, {}, "t", "y")):
        assert (fig.layout.xaxis.automargin is False and fig.layout.yaxis.automargin is False) == fixed
        assert (fig.layout.margin.l == 70) == fixed


# --- sentences about the suggested weights ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def fitted(demo_panel):
    return suggest_weights(demo_panel, n_boot=20)


OPENING = {"en": {True: "The data tells the weights apart", False: "The data cannot tell the weights apart"},
           "zh": {True: "数据能够区分这些权重", False: "数据无法区分这些权重"}}


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize(("share", "established"), [
    (ORDER_PROBABILITY_THRESHOLD, True),           # the threshold itself counts as established
    (ORDER_PROBABILITY_THRESHOLD - 0.005, False),
    (0.3, False),
])
def test_the_order_sentence_follows_the_threshold_rule(fitted, share, established, lang):
    pairs = ((fitted.order[0], fitted.order[1], 0.99), (fitted.order[1], fitted.order[2], share + 0.004))
    case = replace(fitted, order_probability=share, pair_probabilities=pairs)
    sentence, said = order_sentence(case, lang)
    assert said is established is case.order_established
    names = dimension_names(lang)
    assert " > ".join(names[d] for d in fitted.order) in sentence
    assert fmt_percent(share, lang, 0) in sentence
    assert sentence.startswith(OPENING[lang][established])
    if not established:  # names the pair that swaps most often
        assert names[fitted.order[1]] in sentence and fmt_percent(share + 0.004, lang, 0) in sentence


def test_without_a_bootstrap_the_page_says_nothing_shows_the_order(fitted):
    sentence, said = order_sentence(replace(fitted, order_probability=float("nan")), "en")
    assert not said and sentence == t("sat.order.no_bootstrap", "en")


def test_the_headline_numbers_are_the_order_share_and_the_cross_fitted_gain(fitted):
    (order_label, order_value, order_help), (gain_label, gain_value, gain_help) = suggested_metrics(
        replace(fitted, order_probability=0.62, auc_gain=0.0031, auc_gain_in_sample=0.0047), "en")
    assert (order_label, order_value) == ("Suggested order holds in", "62%")
    assert "20 bootstrap samples" in order_help and "90%" in order_help
    assert (gain_label, gain_value) == ("AUC gain on unseen members", "+0.003")
    assert "+0.005" in gain_help and "5 groups" in gain_help  # the optimistic in-sample figure, for comparison


def test_the_gain_sentence_reports_the_cross_fitted_gain_and_calls_a_noisy_one_tiny(fitted):
    noisy = replace(fitted, auc_gain=0.004, auc_gain_low=-0.001, auc_gain_high=0.009, auc_gain_in_sample=0.02)
    sentence = gain_sentence(noisy, "en")
    assert sentence.startswith("On members the fit never saw") and "+0.004" in sentence and "+0.020" not in sentence
    assert "too small to matter" in sentence
    clear = replace(fitted, auc_gain=0.03, auc_gain_low=0.02, auc_gain_high=0.04)
    assert "更好地解释流失" in gain_sentence(clear, "zh") and "+0.030" in gain_sentence(clear, "zh")
