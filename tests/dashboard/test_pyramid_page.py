"""Customer pyramid page: renders, its threshold controls change the preview, and Save records a version."""

from __future__ import annotations

from dashboard import access
from tests.dashboard.conftest import open_page
from vipmodel.auth import Actor


def _metric(at, label):
    return next(m for m in at.metric if m.label == label).value


def test_pyramid_page_shows_the_pyramid_and_the_tier_table(demo_app):
    at = open_page(demo_app, "pyramid")
    assert not at.exception
    assert at.title[0].value == "Customer pyramid"
    assert len(at.get("plotly_chart")) >= 3
    assert _metric(at, "Would move up") == "0" and _metric(at, "Would move down") == "0"


def test_moving_the_platinum_share_slider_moves_members_up(demo_app):
    at = open_page(demo_app, "pyramid")
    at.slider(key="pyr_share_A").set_value(5.0).run()
    assert not at.exception
    assert int(_metric(at, "Would move up").replace(",", "")) > 0
    assert "would move up" in " ".join(m.value for m in at.markdown)


def test_absolute_thresholds_that_are_not_descending_are_explained(demo_app):
    at = open_page(demo_app, "pyramid")
    at.radio(key="pyr_basis").set_value("profit").run()
    at.number_input(key="pyr_profit_C").set_value(10_000_000.0).run()
    assert not at.exception
    assert any("cannot be applied" in e.value for e in at.error)


def test_saving_records_a_new_version_by_the_signed_in_user(fresh_demo_app):
    fresh_demo_app.session_state[access.ACTOR_KEY] = Actor("Li Na", "marketing")
    at = open_page(fresh_demo_app, "pyramid")
    at.slider(key="pyr_share_A").set_value(2.0).run()
    # A form sends its widgets' values with the submit click, so fill and click in one run.
    at.text_input(key="pyr_note").input("wider platinum tier")
    next(b for b in at.button if str(b.key).startswith("FormSubmitter:pyr_save")).click().run()
    assert not at.exception
    assert any("version 1" in s.value for s in at.success)
    assert "version 1" in " ".join(c.value for c in at.caption)
    assert at.dataframe[-1].value["author"].tolist() == ["Li Na"]  # the version history


def test_a_viewer_sees_the_preview_but_no_save_form(fresh_demo_app):
    fresh_demo_app.session_state[access.ACTOR_KEY] = Actor("ceo", "viewer")
    at = open_page(fresh_demo_app, "pyramid")
    at.slider(key="pyr_share_A").set_value(2.0).run()
    assert not at.exception
    assert any("may read this page but not save" in c.value for c in at.caption)
    assert not [b for b in at.button if str(b.key).startswith("FormSubmitter:pyr_save")]


def test_pyramid_page_in_chinese_uses_the_tier_names_of_the_documents(demo_app):
    demo_app.query_params["lang"] = "zh"
    at = open_page(demo_app, "pyramid")
    assert not at.exception
    assert at.title[0].value == "顾客金字塔"
    assert any("白金层" in s.label for s in at.slider)


def test_the_list_of_members_moving_up_appears_on_demand(demo_app):
    at = open_page(demo_app, "pyramid")
    at.slider(key="pyr_share_A").set_value(3.0).run()
    tables_before = len(at.dataframe)
    at.toggle(key="pyr_show_moves").set_value(True).run()
    assert not at.exception
    assert len(at.dataframe) == tables_before + 1
    moving = at.dataframe[-1].value
    assert len(moving) == int(_metric(at, "Would move up").replace(",", ""))
    assert set(moving["proposed_tier"]) <= {"A", "B", "C"}


def test_before_after_bars_show_every_tier_in_order_with_zero_for_an_empty_one():
    import pandas as pd

    from dashboard.figures.pyramid import before_after

    per_tier = pd.DataFrame({"members_before": [5, 1, 9], "members_after": [6, 0, 9]}, index=["C", "A", "D"])
    fig = before_after(per_tier, {"A": "Pt", "B": "Au", "C": "Fe", "D": "Pb"}, ("now", "new"), "title")
    assert [bar.name for bar in fig.data] == ["now", "new"]
    assert list(fig.data[0].x) == ["Pt", "Au", "Fe", "Pb"]
    assert list(fig.data[0].y) == [1, 0, 5, 9] and list(fig.data[1].y) == [0, 0, 6, 9]
    assert fig.layout.barmode == "group" and fig.layout.title.text == "title"
