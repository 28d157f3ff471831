"""The audit trail: every change to settings, data and users, and every sign-in, with who, when and what changed.

Rows are only ever inserted. The author of an entry is the acting user (:class:`vipmodel.auth.Actor`), never text
typed into a form. Reading the trail is an admin's right (:func:`audit_trail`).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, insert, select

from vipmodel import schema
from vipmodel.auth import Actor, require
from vipmodel.db import borrow_connection

ACTIONS: tuple[str, ...] = (
    "setting_saved",
    "setting_rolled_back",
    "import",
    "demo_regenerated",
    "sign_in",
    "sign_in_failed",
    "sign_out",
    "user_added",
    "user_changed",
    "campaign_recorded",
)
COLUMNS: tuple[str, ...] = ("at", "username", "action", "target", "before", "after")
_TARGET_MAX = 300


def _json(value: Any) -> dict | None:
    if value is None:
        return None
    # A JSON round trip stores a detached, serialisable copy (dates become ISO text).
    return json.loads(json.dumps(value if isinstance(value, dict) else {"value": value}, default=str))


def record(
    conn: Connection,
    username: str,
    action: str,
    target: str = "",
    before: Any = None,
    after: Any = None,
) -> None:
    """Append one entry in the caller's transaction (the caller commits with the change it records).

    Parameters
    ----------
    conn : Connection
    username : str
        The acting user's name (for a failed sign-in, the name that was tried).
    action : str
        One of :data:`ACTIONS`.
    target : str
        What was acted on (a setting kind and version, a file name, a user).
    before, after : JSON-serialisable, optional
        The state before and after the change (a mapping, or any value stored as ``{"value": ...}``).

    Raises
    ------
    ValueError
        ``"unknown audit action 'x'"``.
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    conn.execute(
        insert(schema.audit_log).values(
            at=dt.datetime.now().replace(microsecond=0),
            username=str(username)[:100],
            action=action,
            target=str(target)[:_TARGET_MAX],
            before=_json(before),
            after=_json(after),
        )
    )


def audit_trail(conn: Engine | Connection, actor: Actor, limit: int | None = None) -> pd.DataFrame:
    """The trail, newest first, for an admin.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COLUMNS` (``before`` / ``after`` as JSON text, empty when there is none).

    Raises
    ------
    vipmodel.auth.PermissionDenied
        For any role but admin.
    """
    require(actor, "view_audit")
    a = schema.audit_log
    query = select(a.c.at, a.c.username, a.c.action, a.c.target, a.c.before, a.c.after).order_by(a.c.id.desc())
    if limit is not None:
        query = query.limit(int(limit))
    with borrow_connection(conn) as c:
        rows = c.execute(query).all()
    frame = pd.DataFrame([tuple(r) for r in rows], columns=list(COLUMNS))
    for column in ("before", "after"):
        frame[column] = frame[column].map(
            lambda v: "" if v is None else json.dumps(v, ensure_ascii=False, sort_keys=True)
        ).astype(object)
    frame["at"] = pd.to_datetime(frame["at"])
    return frame
