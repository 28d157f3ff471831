"""Administration page (admins only): the audit trail, the results in the database, rolling a setting back, adding
users."""

from __future__ import annotations

import warnings

import pytest

from tests.dashboard.conftest import app_as, open_page
from vipmodel import db, results, view_store
from vipmodel.auth import Actor
from vipmodel.settings import latest_setting, save_setting
from vipmodel.users import authenticate


def test_the_admin_page_lists_the_audit_trail_and_rolls_a_setting_back(mall):
    engine = db.make_engine(mall)
    save_setting(engine, "tier_rules", {"basis": "share", "shares": [0.02, 0.05, 0.2]}, Actor("wang.fang", "marketing"))
    save_setting(engine, "tier_rules", {"basis": "share", "shares": [0.03, 0.05, 0.2]}, Actor("wang.fang", "marketing"))
    at = open_page(app_as("admin", "root"), "admin")
    assert not at.exception
    trail = at.dataframe[0].value
    assert "setting_saved" in set(trail["What"]) and "wang.fang" in set(trail["Who"])
    at.selectbox(key="adm_kind").set_value("tier_rules").run()
    at.selectbox(key="adm_version").set_value(1).run()
    at.text_input(key="adm_note").input("back to 2%")
    at.button(key="FormSubmitter:adm_rollback-Roll back (saved as a new version)").click().run()
    assert not at.exception
    restored = latest_setting(engine, "tier_rules")
    assert (restored.version, restored.author, restored.payload["shares"]) == (3, "root", [0.02, 0.05, 0.2])
    assert any("Version 1 is in force again" in s.value for s in at.success)
    engine.dispose()


def test_an_admin_adds_a_user_on_the_administration_page_who_can_then_sign_in(mall):
    at = open_page(app_as("admin", "root"), "admin")
    at.text_input(key="adm_user_name").input("li.na")
    at.selectbox(key="adm_user_role").set_value("marketing")
    at.text_input(key="adm_user_password").input("her own long password")
    at.button(key="FormSubmitter:adm_user-Add or change user").click().run()
    assert not at.exception and any("User li.na saved" in s.value for s in at.success)
    assert authenticate(db.make_engine(mall), "li.na", "her own long password") == Actor("li.na", "marketing")


@pytest.mark.parametrize(("lang", "headers"), [
    ("en", ["User name", "Role", "Disabled", "Created", "Has a password", "Locked until"]),
    ("zh", ["用户名", "角色", "已停用", "创建时间", "已设密码", "锁定至"]),
])
def test_the_users_table_speaks_the_page_s_language(mall, lang, headers):
    at = app_as("admin", "root")
    at.query_params["lang"] = lang
    at = open_page(at, "admin")
    users = at.dataframe[-1].value
    assert list(users.columns) == headers
    roles = {"en": {"viewer", "marketing", "administrator"}, "zh": {"只读", "营销", "管理员"}}[lang]
    assert len(users) and set(users[headers[1]]) <= roles


RESULTS_KEY = "0123456789abcdefghij0123456789abcdefghij"  # 40 characters, as a group's shared secret


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_admin_page_shows_the_refresh_runs_and_the_stored_page_results(mall, tmp_path, monkeypatch, lang):
    from dashboard.data import common, stored

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv(stored.ENV_SECRET, RESULTS_KEY)
    engine = db.make_engine(mall)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        run = results.refresh(engine)
    version = common.current_version(mall)
    view_store.put(engine, view_store.key_for("overview", 1), "dashboard.data.overview.load_kpis", {"a": 1},
                   version, stored.secret())
    view_store.put(engine, view_store.key_for("overview", 0), "dashboard.data.overview.load_kpis", {"a": 0},
                   "an older version", stored.secret())
    at = app_as("admin", "root")
    at.query_params["lang"] = lang
    at = open_page(at, "admin")
    assert not at.exception
    zh = lang == "zh"
    assert ("数据库中的结果" if zh else "Results in the database") in [h.value for h in at.subheader]
    assert any(("每周报告" if zh else "weekly pack") in c.value for c in at.caption)
    runs = at.dataframe[1].value
    assert list(runs.columns) == (["运行编号", "分析日期", "状态", "开始时间（UTC）", "耗时（秒）", "会员数", "错误", "当前有效"]
                                  if zh else ["Run", "Day of analysis", "Status", "Started (UTC)", "Seconds",
                                              "Members", "Error", "Current"])
    assert runs.iloc[0, 0] == run.run_id and runs.iloc[0, 2] == ("完成" if zh else "done")
    assert runs.iloc[0, 5] == run.members and bool(runs.iloc[0, 7])
    metrics = {m.label: m.value for m in at.metric}
    rows, current = ("行数", "属于当前数据版本") if zh else ("Rows", "For the current data")
    assert metrics[rows] == "2" and metrics[current] == "1"
    by_name = at.dataframe[2].value
    assert by_name.iloc[0, 0] == "dashboard.data.overview.load_kpis" and by_name.iloc[0, 1] == 2
    assert not at.info
    engine.dispose()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_mall_without_runs_or_stored_results_says_so(mall, tmp_path, monkeypatch, lang):
    monkeypatch.setenv("HOME", str(tmp_path))
    at = app_as("admin", "root")
    at.query_params["lang"] = lang
    at = open_page(at, "admin")
    assert not at.exception
    expected = (["尚未运行过刷新。", "尚无已存储的结果。"] if lang == "zh"
                else ["No refresh has run yet.", "No stored results yet."])
    assert [i.value for i in at.info] == expected
    assert len(at.dataframe) == 2  # the audit trail and the users: no empty results tables
