"""Users who may sign in: stored in the database, passwords hashed with argon2id, failed sign-ins rate-limited.

The first admin is made on the command line (``python -m vipmodel users add NAME --role admin``); there is no
default user and no default password. Hashing is argon2-cffi's :class:`argon2.PasswordHasher` (RFC 9106
parameters), which also says when a stored hash should be upgraded.

After :data:`MAX_FAILED_ATTEMPTS` wrong passwords in a row an account is locked for :data:`LOCK_MINUTES`; the
count lives in the database, so every app server sees it. An unknown name gets the same answer, after the same
hashing work, as a wrong password.

References
----------
.. [1] Biryukov, A., Dinu, D., Khovratovich, D. & Josefsson, S. (2021). *Argon2 Memory-Hard Function for Password
   Hashing and Proof-of-Work Applications*. RFC 9106.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, Engine, insert, inspect, select, update

from vipmodel import audit, schema
from vipmodel.auth import ROLES, Actor, require
from vipmodel.db import borrow_connection, writing

MAX_FAILED_ATTEMPTS = 5
LOCK_MINUTES = 15
MIN_PASSWORD_LENGTH = 10
USER_COLUMNS: tuple[str, ...] = ("username", "role", "disabled", "created_at", "has_password", "locked_until")

_hasher = PasswordHasher()
# Verified against for unknown names, so that they cost the same time as a wrong password.
_DUMMY_HASH = _hasher.hash("not a password of anyone")


class SignInError(Exception):
    """Sign-in refused; it never says whether the name exists.

    Attributes
    ----------
    locked_until : datetime or None
        When a locked account may try again; None for a wrong name or password.
    """

    def __init__(self, message: str, locked_until: dt.datetime | None = None) -> None:
        super().__init__(message)
        self.locked_until = locked_until


def _check_username(username: str) -> str:
    if not isinstance(username, str) or not username.strip():
        raise ValueError("username must not be blank")
    username = username.strip()
    if len(username) > 100:
        raise ValueError("username is longer than 100 characters")
    return username


def _check_password(password: str | None) -> None:
    if password is None:
        return
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"password must have at least {MIN_PASSWORD_LENGTH} characters")


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}: expected one of {', '.join(ROLES)}")


def add_user(conn: Engine | Connection, actor: Actor, username: str, role: str, password: str | None) -> None:
    """Create a user (``password`` None: the user signs in only through the mall's OIDC provider).

    Raises
    ------
    vipmodel.auth.PermissionDenied
        Unless ``actor`` is an admin.
    ValueError
        Blank or long name, unknown role, a password under :data:`MIN_PASSWORD_LENGTH` characters, or
        ``"user 'x' exists already"``.
    """
    require(actor, "manage_users")
    username = _check_username(username)
    _check_role(role)
    _check_password(password)
    u = schema.users
    with writing(conn) as c:
        if c.execute(select(u.c.username).where(u.c.username == username)).first() is not None:
            raise ValueError(f"user {username!r} exists already")
        c.execute(insert(u).values(
            username=username, role=role, password_hash=None if password is None else _hasher.hash(password),
            disabled=False, created_at=dt.datetime.now().replace(microsecond=0), failed_attempts=0,
        ))
        audit.record(c, actor.username, "user_added", username, None, {"role": role})


def change_user(
    conn: Engine | Connection,
    actor: Actor,
    username: str,
    *,
    role: str | None = None,
    password: str | None = None,
    disabled: bool | None = None,
) -> None:
    """Change a user's role, password or disabled flag (a new password also unlocks the account).

    Raises
    ------
    vipmodel.auth.PermissionDenied
        Unless ``actor`` is an admin.
    ValueError
        ``"no user 'x'"``, an unknown role or a short password.
    """
    require(actor, "manage_users")
    u = schema.users
    values: dict[str, Any] = {}
    if role is not None:
        _check_role(role)
        values["role"] = role
    if password is not None:
        _check_password(password)
        values.update(password_hash=_hasher.hash(password), failed_attempts=0, locked_until=None)
    if disabled is not None:
        values["disabled"] = bool(disabled)
    with writing(conn) as c:
        row = c.execute(select(u.c.role, u.c.disabled).where(u.c.username == username)).first()
        if row is None:
            raise ValueError(f"no user {username!r}")
        if values:
            c.execute(update(u).where(u.c.username == username).values(**values))
        before = {"role": row.role, "disabled": bool(row.disabled)}
        after = {"role": values.get("role", row.role), "disabled": values.get("disabled", bool(row.disabled))}
        if password is not None:
            after["password"] = "changed"
        audit.record(c, actor.username, "user_changed", username, before, after)


def list_users(conn: Engine | Connection, actor: Actor) -> pd.DataFrame:
    """Every user (never their hashes), for an admin: columns :data:`USER_COLUMNS`."""
    require(actor, "manage_users")
    u = schema.users
    with borrow_connection(conn) as c:
        rows = c.execute(
            select(u.c.username, u.c.role, u.c.disabled, u.c.created_at, u.c.password_hash.is_not(None),
                   u.c.locked_until).order_by(u.c.username)
        ).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=list(USER_COLUMNS))


def has_users(conn: Engine | Connection) -> bool:
    """True when at least one user exists (the app then requires sign-in)."""
    with borrow_connection(conn) as c:
        if not inspect(c).has_table("users"):  # a database made before sign-in existed
            return False
        return c.execute(select(schema.users.c.username).limit(1)).first() is not None


def authenticate(conn: Engine, username: str, password: str, now: dt.datetime | None = None) -> Actor:
    """The user ``username`` when ``password`` is theirs; records the attempt in the audit trail.

    Parameters
    ----------
    conn : Engine
        The attempt is committed whatever its outcome (a failed one must count even though sign-in fails).
    username, password : str
    now : datetime, optional
        The time of the attempt (default: now); for tests of the lock.

    Returns
    -------
    Actor

    Raises
    ------
    SignInError
        ``"wrong name or password"`` (unknown name, wrong password, disabled user, no password set) or
        ``"too many failed attempts: try again after 14:05"``.
    """
    now = (now or dt.datetime.now()).replace(microsecond=0)
    name = str(username or "").strip()[:100]
    u = schema.users
    with conn.begin() as c:
        row = c.execute(select(u).where(u.c.username == name)).first() if name else None
        if row is not None and row.locked_until is not None and row.locked_until > now:
            audit.record(c, name, "sign_in_failed", name, None, {"reason": "locked"})
            raise SignInError(f"too many failed attempts: try again after {row.locked_until:%H:%M}", row.locked_until)
        stored = row.password_hash if row is not None and row.password_hash else _DUMMY_HASH
        try:
            ok = _hasher.verify(stored, str(password or "")) and stored is not _DUMMY_HASH
        except (VerificationError, InvalidHashError):
            ok = False
        if ok and not row.disabled:
            values: dict[str, Any] = {"failed_attempts": 0, "locked_until": None}
            if _hasher.check_needs_rehash(stored):
                values["password_hash"] = _hasher.hash(password)
            c.execute(update(u).where(u.c.username == name).values(**values))
            audit.record(c, name, "sign_in", name)
            return Actor(name, row.role)
        if row is not None:
            failed = int(row.failed_attempts or 0) + 1
            locked = now + dt.timedelta(minutes=LOCK_MINUTES) if failed >= MAX_FAILED_ATTEMPTS else None
            c.execute(update(u).where(u.c.username == name).values(
                failed_attempts=0 if locked else failed, locked_until=locked))
        audit.record(c, name or "(blank)", "sign_in_failed", name, None, {"reason": "wrong name or password"})
    raise SignInError("wrong name or password")


def actor_for_identity(conn: Engine | Connection, identity: str) -> Actor | None:
    """The user an external sign-in (OIDC, by e-mail address) maps to, or None when the mall has not added it."""
    name = str(identity or "").strip()
    if not name:
        return None
    u = schema.users
    with borrow_connection(conn) as c:
        row = c.execute(select(u.c.role, u.c.disabled).where(u.c.username == name)).first()
    if row is None or row.disabled:
        return None
    return Actor(name, row.role)
