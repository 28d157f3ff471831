"""Sign-in and roles in the app: a mall's database always asks who you are; each role sees and may do its part."""

from __future__ import annotations

import datetime as dt
import shutil

import pytest

from dashboard import access
from tests.conftest import copy_database
from tests.dashboard.conftest import PASSWORD, app_as, open_page
from vipmodel import db
from vipmodel.audit import audit_trail
from vipmodel.auth import Actor
from vipmodel.users import MAX_FAILED_ATTEMPTS


def _sign_in(at, username: str, password: str, button: str = "Sign in"):
    at.text_input(key="auth_username").input(username)
    at.text_input(key="auth_password").input(password)
    return at.button(key=f"FormSubmitter:auth_sign_in-{button}").click().run()


def test_a_malls_database_shows_only_the_sign_in_form_to_a_visitor(mall):
    at = app_as(None).run()
    assert not at.exception
    assert [t.value for t in at.title] == ["Sign in"]
    assert not at.metric and not at.get("plotly_chart")  # nothing of the mall before sign-in


def test_a_wrong_password_is_refused_and_the_right_one_opens_the_overview_as_that_user(mall):
    at = app_as(None).run()
    at = _sign_in(at, "wang.fang", "not the password")
    assert any("wrong name or password" in e.value for e in at.error)
    assert [t.value for t in at.title] == ["Sign in"]
    at = _sign_in(at, "wang.fang", PASSWORD)
    assert not at.exception
    assert at.title[0].value == "Overview"
    assert any("Signed in as wang.fang (marketing)" in c.value for c in at.sidebar.caption)
    trail = audit_trail(db.make_engine(mall), Actor("auditor", "admin"))
    assert trail["action"].tolist()[:2] == ["sign_in", "sign_in_failed"]


def test_a_session_expires_and_asks_for_sign_in_again(mall):
    at = app_as("marketing", "wang.fang")
    at.session_state[access.SIGNED_IN_AT] = dt.datetime.now() - dt.timedelta(hours=access.SESSION_HOURS + 1)
    at.run()
    assert [t.value for t in at.title] == ["Sign in"]
    assert any("session ended" in i.value for i in at.info)


def test_without_any_user_the_sign_in_page_says_how_to_create_the_first_admin(tmp_path, demo_sqlite_url,
                                                                              monkeypatch):
    monkeypatch.setenv(db.ENV_URL, copy_database(demo_sqlite_url, tmp_path))
    at = app_as(None).run()
    assert not at.exception
    assert any("python -m vipmodel users add" in w.value for w in at.warning)


def test_the_embedded_demo_needs_no_sign_in_and_says_it_is_a_demo(tmp_path, demo_sqlite_url, monkeypatch):
    monkeypatch.delenv(db.ENV_URL, raising=False)
    shutil.copy(demo_sqlite_url.removeprefix("sqlite:///"), tmp_path / "demo.db")
    monkeypatch.setattr(db, "DEFAULT_SQLITE_PATH", tmp_path / "demo.db")
    at = app_as(None).run()
    assert not at.exception
    assert at.title[0].value == "Overview"
    assert any("Demo mode" in w.value for w in at.sidebar.warning)


@pytest.mark.parametrize(
    ("role", "imports", "saves", "administers"),
    [("viewer", False, False, False), ("marketing", False, True, False), ("admin", True, True, True)],
)
def test_each_role_sees_the_controls_it_may_use_and_no_others(mall, role, imports, saves, administers):
    at = open_page(app_as(role, f"a-{role}"), "data")
    assert not at.exception
    assert bool([s for s in at.selectbox if s.key == "data_kind"]) is imports
    assert bool([b for b in at.button if str(b.key).startswith("FormSubmitter:mrg_save")]) is saves
    pyramid = at.switch_page("../pages/pyramid.py").run()
    assert bool([b for b in pyramid.button if str(b.key).startswith("FormSubmitter:pyr_save")]) is saves
    if administers:
        admin = pyramid.switch_page("../pages/admin.py").run()
        assert not admin.exception and admin.title[0].value == "Administration"
    else:
        with pytest.raises(Exception):  # noqa: B017 - the page is not in this role's navigation at all
            pyramid.switch_page("../pages/admin.py").run()



def test_a_locked_account_is_told_when_to_try_again_in_the_users_language(mall):
    at = app_as(None)
    at.query_params["lang"] = "zh"
    at.run()
    for _ in range(MAX_FAILED_ATTEMPTS):
        at = _sign_in(at, "wang.fang", "not the password", button="登录")
    assert any("登录失败：用户名或密码错误" in e.value for e in at.error)
    at = _sign_in(at, "wang.fang", PASSWORD, button="登录")
    assert any("失败次数过多" in e.value for e in at.error)
    assert [t.value for t in at.title] == ["登录"]


def test_signing_out_returns_to_the_sign_in_page_and_is_audited(mall):
    at = _sign_in(app_as(None).run(), "ceo", PASSWORD)
    assert at.title[0].value == "Overview"
    at = at.sidebar.button(key="auth_sign_out").click().run()
    assert [t.value for t in at.title] == ["Sign in"]
    trail = audit_trail(db.make_engine(mall), Actor("auditor", "admin"))
    assert trail["action"].tolist()[:2] == ["sign_out", "sign_in"] and trail["username"].iloc[0] == "ceo"
