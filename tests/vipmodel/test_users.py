"""Users: argon2 hashes, roles, rate-limited sign-in, audited changes; on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from vipmodel import schema
from vipmodel.audit import audit_trail
from vipmodel.auth import SYSTEM, Actor, PermissionDenied, can
from vipmodel.users import (
    LOCK_MINUTES,
    MAX_FAILED_ATTEMPTS,
    SignInError,
    actor_for_identity,
    add_user,
    authenticate,
    change_user,
    has_users,
    list_users,
)

ADMIN = Actor("root", "admin")
PASSWORD = "correct horse battery"
NOON = dt.datetime(2026, 12, 7, 12, 0)


@pytest.fixture
def with_users(engine):
    add_user(engine, SYSTEM, "wang.fang", "marketing", PASSWORD)
    add_user(engine, SYSTEM, "ceo", "viewer", "executive password")
    return engine


def test_a_password_is_stored_only_as_an_argon2_hash(with_users):
    with with_users.connect() as conn:
        stored = conn.execute(select(schema.users.c.password_hash).where(schema.users.c.username == "wang.fang"))
        stored = stored.scalar_one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert has_users(with_users)
    assert list_users(with_users, ADMIN)["username"].tolist() == ["ceo", "wang.fang"]
    assert "password_hash" not in list_users(with_users, ADMIN).columns


def test_the_right_password_signs_in_with_the_users_role_and_is_audited(with_users):
    actor = authenticate(with_users, "wang.fang", PASSWORD, now=NOON)
    assert actor == Actor("wang.fang", "marketing")
    entry = audit_trail(with_users, ADMIN).iloc[0]
    assert (entry["username"], entry["action"]) == ("wang.fang", "sign_in")


@pytest.mark.parametrize(("username", "password"), [("wang.fang", "wrong password!"), ("nobody", PASSWORD), ("", "")])
def test_a_wrong_password_and_an_unknown_name_get_the_same_answer(with_users, username, password):
    with pytest.raises(SignInError, match="^wrong name or password$"):
        authenticate(with_users, username, password, now=NOON)
    assert audit_trail(with_users, ADMIN).iloc[0]["action"] == "sign_in_failed"


def test_repeated_failures_lock_the_account_for_a_while_even_for_the_right_password(with_users):
    for _ in range(MAX_FAILED_ATTEMPTS):
        with pytest.raises(SignInError, match="wrong name or password"):
            authenticate(with_users, "wang.fang", "guess guess guess", now=NOON)
    with pytest.raises(SignInError, match="too many failed attempts: try again after 12:15"):
        authenticate(with_users, "wang.fang", PASSWORD, now=NOON + dt.timedelta(minutes=1))
    later = NOON + dt.timedelta(minutes=LOCK_MINUTES, seconds=1)
    assert authenticate(with_users, "wang.fang", PASSWORD, now=later).role == "marketing"


def test_a_successful_sign_in_resets_the_count_of_failures(with_users):
    for _ in range(MAX_FAILED_ATTEMPTS - 1):
        with pytest.raises(SignInError):
            authenticate(with_users, "wang.fang", "guess guess guess", now=NOON)
    authenticate(with_users, "wang.fang", PASSWORD, now=NOON)
    with pytest.raises(SignInError, match="wrong name or password"):
        authenticate(with_users, "wang.fang", "guess guess guess", now=NOON)  # not locked: counting from 0


def test_a_disabled_user_cannot_sign_in_and_a_new_role_applies_at_the_next_sign_in(with_users):
    change_user(with_users, ADMIN, "ceo", disabled=True)
    with pytest.raises(SignInError):
        authenticate(with_users, "ceo", "executive password", now=NOON)
    change_user(with_users, ADMIN, "ceo", disabled=False, role="admin")
    assert authenticate(with_users, "ceo", "executive password", now=NOON).role == "admin"
    changes = audit_trail(with_users, ADMIN)
    changes = changes[changes["action"] == "user_changed"]
    assert changes.iloc[0]["username"] == "root" and '"role": "admin"' in changes.iloc[0]["after"]


@pytest.mark.parametrize("role", ["viewer", "marketing"])
def test_only_an_admin_manages_users(with_users, role):
    actor = Actor("someone", role)
    with pytest.raises(PermissionDenied, match=f"role '{role}' may not manage users"):
        add_user(with_users, actor, "intruder", "admin", "a long password")
    with pytest.raises(PermissionDenied):
        change_user(with_users, actor, role="admin", username="wang.fang")
    with pytest.raises(PermissionDenied):
        list_users(with_users, actor)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"username": "  ", "role": "admin", "password": "a long password"}, "username must not be blank"),
        ({"username": "x", "role": "owner", "password": "a long password"}, "unknown role 'owner'"),
        ({"username": "x", "role": "admin", "password": "short"}, "at least 10 characters"),
        ({"username": "wang.fang", "role": "admin", "password": "a long password"}, "exists already"),
    ],
)
def test_bad_users_are_refused_with_a_message(with_users, kwargs, message):
    with pytest.raises(ValueError, match=message):
        add_user(with_users, ADMIN, **kwargs)


def test_an_external_identity_maps_to_a_user_the_mall_added_and_to_nobody_else(with_users):
    add_user(with_users, ADMIN, "li.na@mall.example", "marketing", None)  # signs in through OIDC only
    assert actor_for_identity(with_users, "li.na@mall.example") == Actor("li.na@mall.example", "marketing")
    assert actor_for_identity(with_users, "stranger@example.com") is None
    with pytest.raises(SignInError):
        authenticate(with_users, "li.na@mall.example", "", now=NOON)  # no password to guess


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        ("viewer", set()),
        ("marketing", {"save_setting", "rollback_setting"}),
        ("admin", {"save_setting", "rollback_setting", "import", "regenerate_demo", "manage_users", "view_audit"}),
    ],
)
def test_the_role_matrix(role, allowed):
    actions = ("save_setting", "rollback_setting", "import", "regenerate_demo", "manage_users", "view_audit")
    assert {a for a in actions if can(Actor("x", role), a)} == allowed
    assert not any(can(None, a) for a in actions)
