"""Tier migration page: flows, heatmap, projection and the members behind a flow."""

from __future__ import annotations

import re

from tests.dashboard.conftest import chart_spec, open_page


def _cell_count(at) -> int:
    captions = [c.value for c in at.main.caption if re.fullmatch(r"[\d,]+ members", c.value)]
    return int(captions[-1].split()[0].replace(",", ""))


def test_migration_page_shows_flows_heatmap_and_projection(demo_app):
    at = open_page(demo_app, "migration")
    assert not at.exception
    assert at.title[0].value == "Tier migration"
    assert len(at.get("plotly_chart")) == 3
    assert chart_spec(at, 0)["data"][0]["type"] == "sankey" and chart_spec(at, 1)["data"][0]["type"] == "heatmap"


def test_choosing_a_flow_lists_its_members_and_the_count_changes(demo_app):
    at = open_page(demo_app, "migration")
    lost_from_b = _cell_count(at)
    at.selectbox(key="mig_cell_from").set_value("D").run()
    assert not at.exception
    lost_from_d = _cell_count(at)
    assert lost_from_d > lost_from_b > 0  # D is the biggest tier and churns most


def test_projection_horizon_slider_extends_the_projection(demo_app):
    at = open_page(demo_app, "migration")
    at.slider(key="mig_steps").set_value(6).run()
    assert not at.exception
    assert all(trace["x"] == list(range(7)) for trace in chart_spec(at, 2)["data"])


def test_quarterly_granularity_runs_in_chinese(demo_app):
    demo_app.query_params["lang"] = "zh"
    at = open_page(demo_app, "migration")
    at.selectbox(key="mig_granularity").set_value("quarter").run()
    assert not at.exception
    assert at.title[0].value == "层级迁移"
    assert "Q" in at.selectbox(key="mig_from").value


def test_flows_are_weighted_by_profit_by_default_and_by_members_on_request(demo_app):
    at = open_page(demo_app, "migration")
    by_profit = chart_spec(at, 0)
    assert by_profit["layout"]["title"]["text"].startswith("Profit contribution moving")
    at.radio(key="mig_weight").set_value("members").run()
    assert not at.exception
    by_members = chart_spec(at, 0)
    assert by_members["layout"]["title"]["text"].startswith("Members moving")
    # The same flows, other sizes: the top tier weighs far more by profit than by head count.
    def share_of_platinum(spec):
        link = spec["data"][0]["link"]
        total = sum(link["value"])
        return sum(v for s, v in zip(link["source"], link["value"]) if s == 0) / total
    assert share_of_platinum(by_profit) > 3 * share_of_platinum(by_members)


def test_the_projection_says_what_it_means_under_the_share_based_default_rule(demo_app):
    at = open_page(demo_app, "migration")
    assert any("share-based" in c.value for c in at.main.caption)
