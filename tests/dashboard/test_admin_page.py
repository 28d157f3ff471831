"""Administration page (admins only): the audit trail, rolling a setting back, adding users."""

from __future__ import annotations

from tests.dashboard.conftest import app_as, open_page
from vipmodel import db
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
