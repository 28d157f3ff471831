"""Loaders of the Administration page: the audit trail, setting rollbacks and users (fresh reads, never cached)."""

from __future__ import annotations

import pandas as pd

from dashboard.data import common
from vipmodel import audit, settings, users
from vipmodel.auth import Actor

AUDIT_ROWS = 5_000  # the newest entries on screen; the CSV download holds the same


def load_audit(url: str, actor: Actor) -> pd.DataFrame:
    """The newest audit entries (admins only: :func:`vipmodel.audit.audit_trail` refuses anyone else)."""
    return audit.audit_trail(common.get_engine(url), actor, limit=AUDIT_ROWS)


def rollback(url: str, kind: str, version: int, actor: Actor, note: str) -> settings.SettingVersion:
    """Put an earlier version of a setting back in force as a new version (audited), and drop cached histories."""
    saved = settings.rollback_setting(common.get_engine(url), kind, version, actor, note)
    common.load_setting_history.clear()
    return saved


def load_users(url: str, actor: Actor) -> pd.DataFrame:
    """Every user with role and state (never a password hash)."""
    return users.list_users(common.get_engine(url), actor)


def add_user(url: str, actor: Actor, username: str, role: str, password: str | None) -> None:
    """Create a user (audited)."""
    users.add_user(common.get_engine(url), actor, username, role, password)


def change_user(url: str, actor: Actor, username: str, role: str, disabled: bool) -> None:
    """Change a user's role and disabled flag (audited)."""
    users.change_user(common.get_engine(url), actor, username, role=role, disabled=disabled)
