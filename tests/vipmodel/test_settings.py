"""Versioned settings on SQLite and PostgreSQL (the ``engine`` fixture runs every test on both)."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from vipmodel import schema
from vipmodel.audit import audit_trail
from vipmodel.auth import Actor, PermissionDenied
from vipmodel.pyramid import DEFAULT_RULES, TierRules
from vipmodel.settings import (
    HISTORY_COLUMNS,
    SettingVersion,
    get_setting,
    latest_setting,
    rollback_setting,
    save_setting,
    setting_history,
)


def by(name: str) -> Actor:
    """A marketing user, who may save settings."""
    return Actor(name, "marketing")

def test_first_version_of_a_kind_is_one_and_versions_increase(engine):
    first = save_setting(engine, "tier_rules", {"basis": "share"}, actor=by("alice"))
    second = save_setting(engine, "tier_rules", {"basis": "profit"}, actor=by("bob"), note="absolute cuts")
    third = save_setting(engine, "tier_rules", {"basis": "spend"}, actor=by("alice"))
    assert [first.version, second.version, third.version] == [1, 2, 3]
    assert isinstance(second, SettingVersion)
    assert second.author == "bob" and second.note == "absolute cuts" and second.kind == "tier_rules"


def test_version_numbers_are_counted_per_kind(engine):
    save_setting(engine, "tier_rules", {"x": 1}, actor=by("a"))
    save_setting(engine, "tier_rules", {"x": 2}, actor=by("a"))
    weights = save_setting(engine, "satisfaction_weights", {"product_quality": 0.5}, actor=by("a"))
    assert weights.version == 1
    assert latest_setting(engine, "tier_rules").version == 2


def test_saving_a_new_version_leaves_old_versions_unchanged(engine):
    v1 = save_setting(engine, "care_plan", {"A": {"phone_greeting": 4}}, actor=by("carol"), note="first plan")
    save_setting(engine, "care_plan", {"A": {"phone_greeting": 12}}, actor=by("dave"), note="more calls")
    again = get_setting(engine, "care_plan", 1)
    assert again == v1
    assert again.payload == {"A": {"phone_greeting": 4}}
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(schema.settings)).scalar_one() == 2


def test_latest_setting_is_none_before_anything_is_saved(engine):
    assert latest_setting(engine, "tier_rules") is None


def test_latest_setting_returns_the_highest_version(engine):
    for n in range(3):
        save_setting(engine, "tier_rules", {"n": n}, actor=by("a"))
    latest = latest_setting(engine, "tier_rules")
    assert (latest.version, latest.payload) == (3, {"n": 2})


def test_created_at_is_the_time_of_saving(engine):
    before = dt.datetime.now().replace(microsecond=0)
    saved = save_setting(engine, "tier_rules", {}, actor=by("a"))
    after = dt.datetime.now()
    assert before <= saved.created_at <= after
    assert get_setting(engine, "tier_rules", 1).created_at == saved.created_at


@pytest.mark.parametrize("actor", [Actor("ceo", "viewer"), None])
def test_a_viewer_or_nobody_may_not_save_and_nothing_is_stored(engine, actor):
    with pytest.raises(PermissionDenied, match="may not save settings"):
        save_setting(engine, "tier_rules", {"basis": "share"}, actor=actor)
    assert latest_setting(engine, "tier_rules") is None


@pytest.mark.parametrize("role", ["marketing", "admin"])
def test_the_author_is_the_acting_user_and_the_change_is_audited_with_before_and_after(engine, role):
    save_setting(engine, "tier_rules", {"basis": "share"}, actor=Actor("li.na", role))
    saved = save_setting(engine, "tier_rules", {"basis": "spend"}, actor=Actor("li.na", role), note="by spend")
    assert saved.author == "li.na"
    trail = audit_trail(engine, Actor("root", "admin"))
    latest = trail.iloc[0]
    assert (latest["username"], latest["action"], latest["target"]) == ("li.na", "setting_saved", "tier_rules v2")
    assert json.loads(latest["before"]) == {"basis": "share"}
    assert json.loads(latest["after"]) == {"basis": "spend", "note": "by spend"}


def test_a_rollback_saves_the_old_payload_as_a_new_version_and_is_audited(engine):
    boss = Actor("wang", "marketing")
    save_setting(engine, "tier_rules", {"n": 1}, actor=boss)
    save_setting(engine, "tier_rules", {"n": 2}, actor=boss)
    back = rollback_setting(engine, "tier_rules", 1, actor=Actor("zhao", "admin"), note="v2 was a mistake")
    assert (back.version, back.payload, back.author) == (3, {"n": 1}, "zhao")
    assert back.note == "rollback to version 1: v2 was a mistake"
    assert setting_history(engine, "tier_rules")["version"].tolist() == [1, 2, 3]
    entry = audit_trail(engine, Actor("root", "admin")).iloc[0]
    assert entry["action"] == "setting_rolled_back" and json.loads(entry["before"]) == {"n": 2}
    with pytest.raises(PermissionDenied):
        rollback_setting(engine, "tier_rules", 2, actor=Actor("ceo", "viewer"))
    with pytest.raises(ValueError, match="has no version 9"):
        rollback_setting(engine, "tier_rules", 9, actor=boss)
    with pytest.raises(PermissionDenied):
        audit_trail(engine, boss)  # only admins read the trail


def test_an_unknown_kind_is_refused(engine):
    with pytest.raises(ValueError, match=r"^unknown setting kind 'colours'; expected one of 'tier_rules'"):
        save_setting(engine, "colours", {}, actor=by("a"))
    with pytest.raises(ValueError, match=r"^unknown setting kind 'colours'"):
        latest_setting(engine, "colours")


def test_an_unknown_version_is_a_value_error(engine):
    save_setting(engine, "tier_rules", {}, actor=by("a"))
    with pytest.raises(ValueError, match=r"^setting 'tier_rules' has no version 2$"):
        get_setting(engine, "tier_rules", 2)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ([1, 2], r"^payload must be a mapping \(dict\), got list$"),
        ({"when": dt.date(2025, 1, 1)}, r"^payload must be JSON-serialisable: "),
        ({"share": float("nan")}, r"^payload must be JSON-serialisable: "),
    ],
)
def test_a_payload_that_is_not_a_json_object_is_refused(engine, payload, message):
    with pytest.raises(ValueError, match=message):
        save_setting(engine, "tier_rules", payload, actor=by("a"))


def test_changing_a_returned_payload_does_not_change_what_is_stored(engine):
    original = {"thresholds": {"A": 100.0}}
    saved = save_setting(engine, "tier_rules", original, actor=by("a"))
    original["thresholds"]["A"] = 1.0
    saved.payload["thresholds"]["A"] = 2.0
    assert get_setting(engine, "tier_rules", 1).payload == {"thresholds": {"A": 100.0}}


def test_updating_a_stored_setting_through_the_orm_raises(engine):
    save_setting(engine, "tier_rules", {"basis": "share"}, actor=by("a"), note="original")
    with Session(engine) as session:
        row = session.scalars(select(schema.Setting)).one()
        row.note = "rewritten history"
        with pytest.raises(ValueError, match="^settings are versioned"):
            session.flush()
        session.rollback()
    assert get_setting(engine, "tier_rules", 1).note == "original"


def test_saving_through_a_connection_follows_the_callers_transaction(engine):
    with engine.connect() as conn:
        trans = conn.begin()
        saved = save_setting(conn, "tier_rules", {"n": 1}, actor=by("a"))
        assert latest_setting(conn, "tier_rules").version == saved.version == 1
        trans.rollback()
    assert latest_setting(engine, "tier_rules") is None


def test_setting_history_lists_every_version_oldest_first(engine):
    save_setting(engine, "tier_rules", {"n": 1}, actor=by("alice"), note="start")
    save_setting(engine, "tier_rules", {"n": 2}, actor=by("bob"))
    save_setting(engine, "care_plan", {"n": 9}, actor=by("carol"))
    history = setting_history(engine, "tier_rules")
    assert list(history.columns) == list(HISTORY_COLUMNS)
    assert history["version"].tolist() == [1, 2]
    assert history["author"].tolist() == ["alice", "bob"]
    assert history["note"].tolist() == ["start", ""]
    assert history["payload"].tolist() == [{"n": 1}, {"n": 2}]
    assert pd.api.types.is_datetime64_any_dtype(history["created_at"])


def test_setting_history_of_a_kind_never_saved_is_empty_with_its_columns(engine):
    history = setting_history(engine, "satisfaction_weights")
    assert history.empty
    assert list(history.columns) == list(HISTORY_COLUMNS)


@pytest.mark.parametrize(
    "rules",
    [DEFAULT_RULES, TierRules(shares=(0.02, 0.08, 0.3)), TierRules("spend", thresholds=(50000.5, 20000, 0.1))],
)
def test_tier_rules_survive_a_round_trip_through_the_settings_table(engine, rules):
    save_setting(engine, "tier_rules", rules.to_payload(), actor=by("marketing"))
    assert TierRules.from_payload(latest_setting(engine, "tier_rules").payload) == rules
