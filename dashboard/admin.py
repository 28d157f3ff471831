"""Loaders of the Administration page: the audit trail, setting rollbacks, users and the results the database holds
(fresh reads, never cached)."""

from __future__ import annotations

import pandas as pd

from dashboard.data import common
from vipmodel import audit, results, settings, users, view_store
from vipmodel.auth import Actor

AUDIT_ROWS = 5_000  # the newest entries on screen; the CSV download holds the same
RECENT_RUNS = 10  # refresh runs listed (the refresh keeps the three newest finished ones and their rows)
_MB = 1024 * 1024


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


def load_refresh_runs(url: str) -> pd.DataFrame:
    """The newest refresh runs with their state, time and whether each is current
    (:func:`vipmodel.results.recent_runs`)."""
    return results.recent_runs(common.get_engine(url), limit=RECENT_RUNS)


def load_stored_views(url: str) -> tuple[dict, pd.DataFrame]:
    """What ``stored_views`` holds: ``{"rows", "mb", "current"}`` (rows of the current data and model version) and
    one row per result name (``name``, ``count``, ``mb``, ``newest``), the most rows first."""
    listing = view_store.listing(common.get_engine(url))
    version = common.current_version(url)
    totals = {"rows": len(listing), "mb": float(listing["size_bytes"].sum()) / _MB,
              "current": int((listing["data_version"] == version).sum())}
    if listing.empty:
        return totals, pd.DataFrame(columns=["name", "count", "mb", "newest"])
    by_name = listing.groupby("name", as_index=False).agg(count=("size_bytes", "size"), mb=("size_bytes", "sum"),
                                                          newest=("created_at", "max"))
    by_name["mb"] = by_name["mb"] / _MB
    return totals, by_name.sort_values(["count", "name"], ascending=[False, True]).reset_index(drop=True)
