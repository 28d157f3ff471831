"""Computed results in the database, shared by every application server on it: one row per result, signed.

An application (the dashboard) computes a page's default view once per data version and :func:`put` stores it under
a key it derives from the computation, its arguments, the data version and the code (:func:`key_for`). Any server
then :func:`get` s it with one indexed read instead of computing it again -- a second server, a restarted one, or
the server that started the computation in a process of its own.

The payload is the result as Python objects (frames, numbers, the package's frozen dataclasses), serialised with
:mod:`pickle`. Unpickling runs code named in the payload, so a row is decoded only when its HMAC-SHA256 signature
verifies under the servers' shared secret (RFC 2104): whoever may write to the database but does not hold the secret
cannot make a server run code. A row that fails the check raises :class:`UntrustedResult` and is never decoded.

Results are derived data: deleting any row costs only its computation. :func:`prune` drops the rows of older data.

References
----------
.. [1] Krawczyk, H., Bellare, M. and Canetti, R. (1997). HMAC: Keyed-Hashing for Message Authentication. RFC 2104.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import pickle
from collections.abc import Collection
from typing import Any

import pandas as pd
from sqlalchemy import Engine, LargeBinary, delete, exc, func, insert, inspect, select, type_coerce

from vipmodel.results_schema import stored_views

__all__ = ["MIN_SECRET_BYTES", "UntrustedResult", "claim", "get", "key_for", "listing", "prune", "put", "release"]

MIN_SECRET_BYTES = 16  # an HMAC key shorter than the hash's security level weakens it (RFC 2104, section 3)
READ_SLICE_BYTES = 256 * 2**20  # a stored payload is read in slices of this size (see get)
_HAS_TABLE: set[str] = set()  # engines (by URL) whose database has the table: checked once per process


class UntrustedResult(ValueError):
    """A stored result whose signature does not verify under this server's secret (another secret, or altered)."""


def key_for(*parts: object) -> str:
    """A 64-hex-digit key for a result: the SHA-256 of the ``repr`` of each part (computation, arguments, data and
    code versions), so any change in a part gives another key."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(repr(part).encode("utf-8"))
        digest.update(b"\x00")
    return digest.hexdigest()


def _signature(secret: bytes, key: str, payload: bytes) -> str:
    if len(secret) < MIN_SECRET_BYTES:
        raise ValueError(f"the results secret must have at least {MIN_SECRET_BYTES} bytes, got {len(secret)}")
    # The key is signed with the payload: a signed row copied under another key does not verify there.
    return hmac.new(secret, key.encode("ascii") + b"\x00" + payload, hashlib.sha256).hexdigest()


def _table_exists(engine: Engine) -> bool:
    name = engine.url.render_as_string(hide_password=False)
    if name not in _HAS_TABLE and inspect(engine).has_table(stored_views.name):
        _HAS_TABLE.add(name)
    return name in _HAS_TABLE


def put(engine: Engine, key: str, name: str, value: Any, data_version: str, secret: bytes) -> int:
    """Store ``value`` under ``key`` (replacing a row there); returns the payload's size in bytes.

    Parameters
    ----------
    engine : sqlalchemy.Engine
    key : str
        From :func:`key_for`.
    name : str
        What the result is (the computation's name), for an operator's :func:`listing`.
    value : object
        Any picklable result.
    data_version : str
        The data token it was computed from (:func:`vipmodel.db.data_token`): :func:`prune` keeps the current one's.
    secret : bytes
        The servers' shared secret (at least :data:`MIN_SECRET_BYTES` bytes).
    """
    payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    row = {"key": key, "name": name[:120], "data_version": data_version, "size_bytes": len(payload),
           "signature": _signature(secret, key, payload), "payload": payload,
           "created_at": dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)}
    if not _table_exists(engine):
        stored_views.create(engine, checkfirst=True)
    try:
        with engine.begin() as conn:
            conn.execute(delete(stored_views).where(stored_views.c.key == key))
            conn.execute(insert(stored_views), row)
    except exc.IntegrityError:  # another server stored the same result at the same moment: theirs is as good
        pass
    return len(payload)


def get(engine: Engine, key: str, secret: bytes) -> tuple[bool, Any]:
    """``(True, value)`` for the result stored under ``key``, ``(False, None)`` when there is none.

    Raises
    ------
    UntrustedResult
        When the stored row's signature does not verify under ``secret``: it is not decoded.
    """
    if not _table_exists(engine):
        return False, None
    v = stored_views
    try:
        with engine.connect() as conn:
            row = conn.execute(select(v.c.signature, v.c.size_bytes).where(v.c.key == key)).one_or_none()
            if row is None:
                return False, None
            # In slices: PostgreSQL sends a bytea as hex text, twice its size, and refuses a value over 1 GB, so a
            # 595 MB churn panel (1,000,000 members) could be stored but not read in one piece. Each slice is copied
            # into one buffer as it comes: a list of slices joined at the end held the payload twice.
            payload, filled = bytearray(int(row.size_bytes)), 0
            for start in range(0, max(int(row.size_bytes), 1), READ_SLICE_BYTES):
                part = conn.execute(select(type_coerce(func.substr(v.c.payload, start + 1, READ_SLICE_BYTES),
                                                       LargeBinary())).where(v.c.key == key)).scalar_one() or b""
                payload[filled:filled + len(part)] = part
                filled += len(part)
                del part
            del payload[filled:]  # a row whose size column is wrong fails the signature below, as any altered row
    except (exc.OperationalError, exc.ProgrammingError):  # the table was dropped since (a database replaced)
        _HAS_TABLE.discard(engine.url.render_as_string(hide_password=False))
        return False, None
    if not hmac.compare_digest(row.signature, _signature(secret, key, payload)):
        raise UntrustedResult(f"the stored result {key[:12]} is not signed with this server's secret: not read")
    return True, pickle.loads(payload)  # noqa: S301 - only a payload signed with the servers' secret is decoded


def claim(engine: Engine, key: str, name: str, data_version: str, secret: bytes, max_age: dt.timedelta) -> bool:
    """Claim the work a key stands for (e.g. a precompute): True when this caller got it, False when another holds a
    claim younger than ``max_age`` (an older one is taken over: its holder stopped). Release with :func:`release`.

    The claim is a row inserted under ``key``: the database's primary key decides between servers claiming at once.
    """
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    payload = pickle.dumps(now)  # when it was claimed: what get() returns for the key
    row = {"key": key, "name": name[:120], "data_version": data_version, "size_bytes": len(payload),
           "created_at": now, "signature": _signature(secret, key, payload), "payload": payload}
    if not _table_exists(engine):
        stored_views.create(engine, checkfirst=True)
    v = stored_views
    for _ in range(2):
        try:
            with engine.begin() as conn:
                conn.execute(insert(v), row)
            return True
        except exc.IntegrityError:
            with engine.begin() as conn:  # a stale claim (its holder stopped) is taken over
                stale = conn.execute(delete(v).where(v.c.key == key, v.c.created_at < now - max_age)).rowcount
            if not stale:
                return False
    return False


def release(engine: Engine, key: str) -> None:
    """Drop a :func:`claim`."""
    if _table_exists(engine):
        with engine.begin() as conn:
            conn.execute(delete(stored_views).where(stored_views.c.key == key))


def prune(engine: Engine, keep_data_version: str, keep_keys: Collection[str] | None = None) -> int:
    """Delete the results of every other data version (they can no longer be asked for) and, with ``keep_keys``,
    every result of this one not among them (e.g. made under settings saved over since); returns rows deleted."""
    if not _table_exists(engine):
        return 0
    v = stored_views
    with engine.begin() as conn:
        deleted = conn.execute(delete(v).where(v.c.data_version != keep_data_version)).rowcount
        if keep_keys is not None:
            kept = set(keep_keys)
            stale = [k for k in conn.execute(select(v.c.key)).scalars() if k not in kept]
            for start in range(0, len(stale), 500):  # bound the statement's parameters
                deleted += conn.execute(delete(v).where(v.c.key.in_(stale[start:start + 500]))).rowcount
    return deleted


def listing(engine: Engine) -> pd.DataFrame:
    """What is stored: ``name``, ``data_version``, ``created_at``, ``size_bytes`` per row, newest first (no payload)."""
    columns = ["name", "data_version", "created_at", "size_bytes"]
    if not _table_exists(engine):
        return pd.DataFrame(columns=columns)
    v = stored_views
    with engine.connect() as conn:
        rows = conn.execute(select(v.c.name, v.c.data_version, v.c.created_at, v.c.size_bytes)
                            .order_by(v.c.created_at.desc(), v.c.name)).all()
    return pd.DataFrame(rows, columns=columns)
