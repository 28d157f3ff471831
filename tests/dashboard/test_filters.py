"""The sidebar's store and tier filters: loaded from and written to the link, kept across pages, applied by the
pages to their members, explained where a section cannot apply them, and an empty result explained."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from sqlalchemy import select

from dashboard import filters, state
from dashboard.data import common, members
from dashboard.members_filter import restrict
from tests.dashboard.conftest import open_page
from vipmodel import db, features, kpi, schema
from vipmodel.pyramid import DEFAULT_RULES, assign_tiers

STORE = "East"


@pytest.fixture(scope="module")
def demo_members(demo_sqlite_url):
    """The default sidebar period of the demo mall, and its buyers with their home store and tier (default rules)."""
    engine = db.make_engine(demo_sqlite_url)
    with engine.connect() as conn:
        end = kpi.latest_activity_date(conn)
        start = end - dt.timedelta(days=364)
        feats = features.member_features(conn, start, end)
        stores = dict(conn.execute(select(schema.members.c.member_id, schema.members.c.home_store)).all())
    engine.dispose()
    buyers = feats[feats["n_transactions"] > 0].reset_index(drop=True)
    buyers["tier"] = assign_tiers(buyers, DEFAULT_RULES).astype(str).to_numpy()
    buyers["store"] = buyers["member_id"].map(stores)
    return (start, end), buyers


def _captions(at) -> str:
    return " ".join(c.value for c in at.caption)


def _pyramid_members(at) -> int:
    return int(at.dataframe[0].value["Members"].sum())


# --- the link and the session ----------------------------------------------------------------------------------


def test_store_and_tiers_in_the_link_are_loaded_into_the_sidebar_and_written_back(demo_app):
    demo_app.query_params["store"] = STORE
    demo_app.query_params["tier"] = "B,A"
    at = demo_app.run()
    assert not at.exception
    assert at.selectbox(key="store").value == STORE
    assert list(at.multiselect(key="tiers").value) == ["A", "B"]
    assert at.query_params["store"] == STORE and at.query_params["tier"] == "A,B"
    assert "Sidebar filters: store East · tiers A Platinum, B Gold." in _captions(at)
    at.multiselect(key="tiers").set_value(["D", "C"]).run()
    assert at.query_params["tier"] == "C,D"
    at.multiselect(key="tiers").set_value(list("ABCD")).run()
    at.selectbox(key="store").set_value("").run()
    assert "store" not in at.query_params and "tier" not in at.query_params  # "all" is not written


@pytest.mark.parametrize("tier", ["A,X", "", "ABC"])
def test_a_malformed_tier_or_an_unknown_store_in_the_link_falls_back_to_all(demo_app, tier):
    demo_app.query_params["store"] = "Nowhere"
    demo_app.query_params["tier"] = tier
    at = demo_app.run()
    assert not at.exception
    assert at.selectbox(key="store").value == ""
    assert list(at.multiselect(key="tiers").value) == list("ABCD")
    assert "store" not in at.query_params and "tier" not in at.query_params
    assert "Sidebar filters" not in _captions(at)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("A,B", ("A", "B")), ("c, a", ("A", "C")), ("none", ()), ("A,X", state.ALL_TIERS), ("", state.ALL_TIERS),
     (None, state.ALL_TIERS)],
)
def test_the_tier_parameter_reads_a_comma_separated_list_and_anything_else_as_all(text, expected):
    assert state._parse_tiers(text) == expected


def test_the_filters_stay_set_when_the_user_changes_page(demo_app):
    at = demo_app.run()
    at.selectbox(key="store").set_value(STORE).run()
    at.multiselect(key="tiers").set_value(["A"]).run()
    at.switch_page("../pages/migration.py").run()
    assert not at.exception
    assert at.selectbox(key="store").value == STORE and list(at.multiselect(key="tiers").value) == ["A"]
    assert at.query_params["store"] == STORE and at.query_params["tier"] == "A"


# --- the pages apply them ----------------------------------------------------------------------------------------


def test_choosing_a_store_narrows_the_pyramid_to_the_buyers_of_that_home_store(demo_app, demo_members):
    _, buyers = demo_members
    at = open_page(demo_app, "pyramid")
    everyone = _pyramid_members(at)
    assert everyone == len(buyers)
    at.selectbox(key="store").set_value(STORE).run()
    assert not at.exception
    assert _pyramid_members(at) == int((buyers["store"] == STORE).sum()) < everyone
    # The members keep the tier they have in the whole mall: the store's share of each tier, not a pyramid of its own.
    shown = at.dataframe[0].value.set_index("Tier")["Members"]
    expected = buyers[buyers["store"] == STORE]["tier"].value_counts()
    assert shown["A Platinum"] == expected.get("A", 0) and shown["D Lead"] == expected.get("D", 0)


def test_the_tier_filter_narrows_the_top_referrers_to_the_chosen_tiers(demo_app):
    at = open_page(demo_app, "referrals")
    assert set(at.dataframe[-1].value["Tier"]) - {"A Platinum", "B Gold"}  # other tiers refer too
    at.multiselect(key="tiers").set_value(["A", "B"]).run()
    assert not at.exception
    top = at.dataframe[-1].value
    assert len(top) > 0 and set(top["Tier"]) <= {"A Platinum", "B Gold"}


def test_the_store_and_tier_filters_keep_exactly_the_members_of_that_store_and_tiers(demo_sqlite_url, demo_members):
    period, buyers = demo_members
    expected = set(buyers.loc[(buyers["store"] == STORE) & buyers["tier"].isin(["A", "B"]), "member_id"])
    assert expected
    assert set(members.member_ids(demo_sqlite_url, 0, period, STORE, ("A", "B"))) == expected
    assert members.member_ids(demo_sqlite_url, 0, period, None, state.ALL_TIERS) is None  # nothing to filter


def test_a_frame_with_its_own_tier_column_is_filtered_on_it_so_churned_members_stay(demo_sqlite_url):
    # A churn panel: the tier of the behaviour year. Members who churned bought nothing at the period end, so the
    # period-end tier would drop them all; ids unknown to the database show the period-end tier is not consulted.
    panel = pd.DataFrame({"member_id": ["X1", "X2", "X3"], "tier": ["A", "D", "A"], "churned": [True, True, False]})
    ctx = filters.PageContext(demo_sqlite_url, 0, "en", (dt.date(2024, 1, 1), dt.date(2024, 12, 31)), None, ("A",))
    kept = filters.apply(panel, ctx, tier_column="tier")
    assert kept["member_id"].tolist() == ["X1", "X3"]
    assert kept.index.tolist() == [0, 1]


def test_the_member_filter_is_a_plain_function_of_a_frame_ids_and_tiers():
    frame = pd.DataFrame({"member_id": ["a", "b", "c", "d"], "tier": ["A", "B", "inactive", "A"]})
    assert restrict(frame, None) is frame  # nothing to filter: the frame itself, not a copy
    assert restrict(frame, None, state.ALL_TIERS) is frame  # all four tiers keep the members without one too
    assert restrict(frame, pd.Index(["b", "c", "x"]))["member_id"].tolist() == ["b", "c"]
    kept = restrict(frame, ["a", "b", "c"], ("A",))
    assert kept["member_id"].tolist() == ["a"] and kept.index.tolist() == [0]
    assert restrict(frame, None, ()).empty  # no tier chosen: nobody
    labelled = frame.set_index(pd.Index(["w", "x", "y", "z"]))
    assert restrict(labelled, None, ("A",)).index.tolist() == ["w", "z"]  # a meaningful index is kept
    renamed = frame.rename(columns={"member_id": "referrer", "tier": "level"})
    assert restrict(renamed, ["d"], ("A",), id_column="referrer", tier_column="level")["referrer"].tolist() == ["d"]


# --- what cannot be filtered, and filters that leave nobody ------------------------------------------------------


def test_sections_that_cannot_apply_a_filter_say_which_they_use(demo_app):
    at = demo_app.run()
    assert "filter" not in _captions(at)  # nothing filtered: nothing to explain
    at.selectbox(key="store").set_value(STORE).run()
    at.multiselect(key="tiers").set_value(["A"]).run()
    assert not at.exception
    captions = _captions(at)
    assert "covers the whole mall, without the sidebar's store filter and tier filter (the KPIs" in captions
    assert "uses the sidebar's store filter but not its tier filter (the pyramid shows every tier)" in captions


@pytest.mark.parametrize("page", ["complaints", "satisfaction", "referrals"])
def test_a_filter_that_leaves_no_member_explains_itself_instead_of_failing(demo_app, page):
    demo_app.query_params["tier"] = "none"
    at = open_page(demo_app, page)
    assert not at.exception
    assert list(at.multiselect(key="tiers").value) == []
    assert any(i.value.startswith("No member matches the sidebar filters (tiers none)") for i in at.info)


def test_the_empty_state_speaks_chinese(demo_app):
    demo_app.query_params["lang"] = "zh"
    demo_app.query_params["store"] = STORE
    demo_app.query_params["tier"] = "none"
    at = open_page(demo_app, "complaints")
    assert not at.exception
    assert at.selectbox(key="store").options[0] == "全部门店"
    assert any("没有符合侧栏筛选条件（门店 East · 层级 无）" in i.value for i in at.info)



@pytest.mark.parametrize("filtered", [False, True])
@pytest.mark.parametrize("page", ["overview", "pyramid", "satisfaction", "value"])
def test_pages_read_shared_results_without_changing_them(demo_app, monkeypatch, page, filtered):
    """The big results every session reads as one object (common.shared) are, after a page has filtered,
    aggregated and re-tiered them under the store and tier filters, still equal to a fresh copy from the cache."""
    reads = []
    original = common.shared

    def recording(loader, *args):
        result = original(loader, *args)
        reads.append((loader, args, result))
        return result

    for module in _data_modules():  # each loader module calls shared() by its own name for it
        if hasattr(module, "shared"):
            monkeypatch.setattr(module, "shared", recording)
    if filtered:
        demo_app.query_params["store"] = STORE
        demo_app.query_params["tier"] = "A,B,C"
    at = open_page(demo_app, page)
    assert not at.exception
    assert reads, "the page read nothing through common.shared"
    for loader, args, result in reads:
        assert original(loader, *args) is result  # one object, not a copy per read
        _assert_same(result, loader(*args), loader.__name__)


def _data_modules() -> list:
    import importlib
    import pkgutil

    import dashboard.data

    return [importlib.import_module(f"dashboard.data.{m.name}") for m in pkgutil.iter_modules(dashboard.data.__path__)]


def _assert_same(shared, fresh, where: str) -> None:
    import dataclasses

    if isinstance(shared, pd.DataFrame):
        pd.testing.assert_frame_equal(shared, fresh, obj=where)
    elif isinstance(shared, pd.Series):
        pd.testing.assert_series_equal(shared, fresh, obj=where)
    elif isinstance(shared, pd.Index):
        pd.testing.assert_index_equal(shared, fresh, obj=where)
    elif isinstance(shared, (tuple, list)):
        assert len(shared) == len(fresh), where
        for i, (a, b) in enumerate(zip(shared, fresh)):
            _assert_same(a, b, f"{where}[{i}]")
    elif dataclasses.is_dataclass(shared):
        for f in dataclasses.fields(shared):
            _assert_same(getattr(shared, f.name), getattr(fresh, f.name), f"{where}.{f.name}")
    elif isinstance(shared, (str, int, float, bool, type(None))):
        assert shared == fresh or (shared != shared and fresh != fresh), where
