"""Referrals page: renders on the demo mall in both languages; "group by" changes the chart; names stay masked."""

from __future__ import annotations

import json

from tests.dashboard.conftest import open_page


def _chart_x(at, index=0):
    spec = json.loads(at.get("plotly_chart")[index].proto.spec)
    return spec["data"][0]["x"]


def _metric(at, label):
    return next(m for m in at.metric if m.label == label).value


def test_referrals_page_shows_kpis_rates_value_and_top_referrers(demo_app):
    at = open_page(demo_app, "referrals")
    assert not at.exception
    assert at.title[0].value == "Referrals"
    assert int(_metric(at, "Referrals in the period").replace(",", "")) > 0
    assert float(_metric(at, "Referrals per 100 members")) > 0
    assert _metric(at, "New members who were referred").endswith("%")
    assert len(at.get("plotly_chart")) == 3  # rates, value, churn
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert any(shape.get("y0") == 25.0 for shape in spec["layout"]["shapes"])  # the documents' 25 per 100
    assert not at.info


def test_grouping_by_satisfaction_redraws_the_rates_by_survey_bucket(demo_app):
    at = open_page(demo_app, "referrals")
    assert _chart_x(at) == ["A Platinum", "B Gold", "C Iron", "D Lead"]
    at.selectbox(key="ref_group_by").set_value("satisfaction").run()
    assert not at.exception
    assert _chart_x(at) == ["Below 4", "4 to 5", "5 to 6", "6 and above", "No survey"]
    rates = json.loads(at.get("plotly_chart")[0].proto.spec)["data"][0]["y"]
    assert rates[3] > rates[0]  # the demo's satisfied members refer more


def test_top_referrer_names_are_masked_until_asked(demo_app):
    at = open_page(demo_app, "referrals")
    table = at.dataframe[-1].value
    assert table["Name"].str.contains(r"\*").all()
    at.toggle(key="ref_show_names").set_value(True).run()
    assert not at.exception
    assert not at.dataframe[-1].value["Name"].str.contains(r"\*").any()


def test_referrals_page_in_chinese(demo_app):
    demo_app.query_params["lang"] = "zh"
    at = open_page(demo_app, "referrals")
    assert not at.exception
    assert at.title[0].value == "转介绍"
    assert "期间内转介绍人数" in [m.label for m in at.metric]
    at.selectbox(key="ref_group_by").set_value("satisfaction").run()
    assert not at.exception
    assert "6 分及以上" in _chart_x(at)
