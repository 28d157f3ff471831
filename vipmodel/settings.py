"""Versioned settings: tier rules, satisfaction weights, care plan.

A setting is never changed in place. Saving appends a new row with the next version number for its kind, so
every past decision ("who set the tier thresholds to what, when, and why") stays readable and a report can say
which version of the rules it used. :class:`vipmodel.schema.Setting` enforces this for ORM updates; the
functions here only ever ``INSERT``.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, insert, select
from sqlalchemy.exc import IntegrityError, OperationalError

from vipmodel import audit, schema
from vipmodel.auth import Actor, require
from vipmodel.db import borrow_connection, bump_data_version, writing

HISTORY_COLUMNS: tuple[str, ...] = ("version", "author", "note", "created_at", "payload")

# Settings that change what the data means: saving one starts a new data version.
DATA_KINDS: frozenset[str] = frozenset({"margin_rates"})
_NOTE_MAX = 500
_AUTHOR_MAX = 100


@dataclass(frozen=True)
class SettingVersion:
    """One stored version of a setting.

    Attributes
    ----------
    kind : str
        One of :data:`vipmodel.schema.SETTING_KINDS`.
    version : int
        1 for the first version of a kind, then 2, 3, ...
    payload : dict
        The setting itself (JSON). A private copy: changing it does not change what is stored.
    author, note : str
        Who saved it and why.
    created_at : datetime.datetime
        When it was saved (server-local time, whole seconds, like the rest of the data model).
    """

    kind: str
    version: int
    payload: dict[str, Any] = field(hash=False)  # a dict is unhashable; versions hash by the rest
    author: str
    note: str
    created_at: dt.datetime


def _check_kind(kind: str) -> None:
    if kind not in schema.SETTING_KINDS:
        known = ", ".join(repr(k) for k in schema.SETTING_KINDS)
        raise ValueError(f"unknown setting kind {kind!r}; expected one of {known}")


def _row_to_version(row: Any) -> SettingVersion:
    return SettingVersion(
        kind=row.kind,
        version=int(row.version),
        payload=copy.deepcopy(row.payload),
        author=row.author,
        note=row.note or "",
        created_at=row.created_at,
    )


def save_setting(
    conn: Engine | Connection, kind: str, payload: Mapping[str, Any], actor: Actor, note: str = ""
) -> SettingVersion:
    """Store ``payload`` as the next version of setting ``kind``, on behalf of ``actor``, and audit it.

    Parameters
    ----------
    conn : Engine or Connection
        With a Connection the rows are written in the caller's transaction (the caller commits).
    kind : str
        One of :data:`vipmodel.schema.SETTING_KINDS`.
    payload : Mapping
        JSON-serialisable content (e.g. :meth:`vipmodel.pyramid.TierRules.to_payload`).
    actor : vipmodel.auth.Actor
        The signed-in user; recorded as the author (the history is an audit trail). Viewers may not save.
    note : str, optional
        Why (at most 500 characters).

    Returns
    -------
    SettingVersion
        The stored version, numbered one above the latest version of ``kind`` (1 for the first).

    Notes
    -----
    Kinds in :data:`DATA_KINDS` change what the data means (margin rates change every profit), so saving one
    also bumps the data version (:func:`vipmodel.db.bump_data_version`): results cached for the old version are
    not served again. The audit entry holds the payload before and after.

    Raises
    ------
    vipmodel.auth.PermissionDenied
        ``"role 'viewer' may not save settings"``.
    ValueError
        ``"unknown setting kind ..."``, ``"payload must be a mapping ..."``,
        ``"payload must be JSON-serialisable: ..."``, ``"note is longer than 500 characters"``, or
        ``"setting 'tier_rules' was saved concurrently by someone else; reload and save again"`` when another
        session took the same version number first (the unique constraint on ``(kind, version)``) or held the
        database's write lock (SQLite); the transaction must then be rolled back.
    """
    _check_kind(kind)
    require(actor, "save_setting")
    return _store(conn, kind, payload, actor, note, "setting_saved")


def _store(
    conn: Engine | Connection, kind: str, payload: Mapping[str, Any], actor: Actor, note: str, action: str
) -> SettingVersion:
    author = actor.username.strip()[:_AUTHOR_MAX]
    note = note or ""
    if len(note) > _NOTE_MAX:
        raise ValueError(f"note is longer than {_NOTE_MAX} characters")
    if not isinstance(payload, Mapping):
        raise ValueError(f"payload must be a mapping (dict), got {type(payload).__name__}")
    try:
        # A JSON round trip both validates and detaches the stored payload from the caller's objects.
        stored = json.loads(json.dumps(dict(payload), allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"payload must be JSON-serialisable: {exc}") from exc

    s = schema.settings
    try:
        with writing(conn) as c:
            previous = c.execute(
                select(s.c.version, s.c.payload).where(s.c.kind == kind).order_by(s.c.version.desc()).limit(1)
            ).first()
            version = (int(previous.version) if previous else 0) + 1
            created_at = dt.datetime.now().replace(microsecond=0)
            c.execute(
                insert(s).values(
                    kind=kind, version=version, payload=stored, author=author, note=note, created_at=created_at
                )
            )
            audit.record(c, author, action, f"{kind} v{version}", previous.payload if previous else None,
                         {**stored, "note": note} if note else stored)
            if kind in DATA_KINDS:
                bump_data_version(c)
    except (IntegrityError, OperationalError) as exc:
        # PostgreSQL: the unique (kind, version) of the other session's row; SQLite: its write lock.
        raise ValueError(f"setting {kind!r} was saved concurrently by someone else; reload and save again") from exc
    return SettingVersion(kind, version, copy.deepcopy(stored), author, note, created_at)


def rollback_setting(
    conn: Engine | Connection, kind: str, version: int, actor: Actor, note: str = ""
) -> SettingVersion:
    """Put version ``version`` of ``kind`` back in force by saving its payload as the next version (audited).

    The history is never rewritten: the rolled-back versions stay readable, and the new version's note says
    which version it restores.

    Raises
    ------
    vipmodel.auth.PermissionDenied
        For a viewer.
    ValueError
        ``"setting 'tier_rules' has no version 7"`` and the messages of :func:`save_setting`.
    """
    _check_kind(kind)
    require(actor, "rollback_setting")
    old = get_setting(conn, kind, version)
    restores = f"rollback to version {old.version}" + (f": {note}" if note else "")
    return _store(conn, kind, old.payload, actor, restores[:_NOTE_MAX], "setting_rolled_back")


def latest_setting(conn: Engine | Connection, kind: str) -> SettingVersion | None:
    """The highest version of setting ``kind``, or None when none was saved yet.

    Raises
    ------
    ValueError
        ``"unknown setting kind ..."``.
    """
    _check_kind(kind)
    s = schema.settings
    with borrow_connection(conn) as c:
        row = c.execute(select(s).where(s.c.kind == kind).order_by(s.c.version.desc()).limit(1)).first()
    return None if row is None else _row_to_version(row)


def get_setting(conn: Engine | Connection, kind: str, version: int) -> SettingVersion:
    """Version ``version`` of setting ``kind``.

    Raises
    ------
    ValueError
        ``"unknown setting kind ..."`` or ``"setting 'tier_rules' has no version 7"``.
    """
    _check_kind(kind)
    s = schema.settings
    with borrow_connection(conn) as c:
        row = c.execute(select(s).where(s.c.kind == kind, s.c.version == int(version))).first()
    if row is None:
        raise ValueError(f"setting {kind!r} has no version {version}")
    return _row_to_version(row)


def setting_history(conn: Engine | Connection, kind: str) -> pd.DataFrame:
    """Every version of setting ``kind``, oldest first.

    Returns
    -------
    pandas.DataFrame
        Columns ``version`` (int), ``author``, ``note``, ``created_at``, ``payload`` (dict); no rows when
        nothing was saved yet.

    Raises
    ------
    ValueError
        ``"unknown setting kind ..."``.
    """
    _check_kind(kind)
    s = schema.settings
    with borrow_connection(conn) as c:
        rows = c.execute(
            select(s.c.version, s.c.author, s.c.note, s.c.created_at, s.c.payload)
            .where(s.c.kind == kind)
            .order_by(s.c.version)
        ).all()
    frame = pd.DataFrame([tuple(r) for r in rows], columns=list(HISTORY_COLUMNS))
    frame["version"] = frame["version"].astype("int64")
    frame["created_at"] = pd.to_datetime(frame["created_at"])
    frame["note"] = frame["note"].fillna("")
    return frame
