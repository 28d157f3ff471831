"""Run each identical aggregation once within a block of read-only work.

The analyses of one data version ask the database the same questions many times: the members' features of the
year to a date feed the pyramid, the lifetime values, the churn risk, its evaluation, the care model and the
churn panel; the purchase summary at a date feeds every BG/NBD fit at that date. Each is a pass over every
transaction (tens of seconds at a million members). Inside :func:`shared_queries` the aggregations decorated
with :func:`shares_result` run once per distinct set of arguments and database; later calls get a copy.

Outside the block nothing is kept: a library call never returns a result computed before the data changed.
Inside it the caller promises that the data does not change (e.g. a dashboard's precompute of one data
version). The block is per thread and per asyncio task (a :class:`contextvars.ContextVar`), so other threads
serving other users are unaffected.
"""

from __future__ import annotations

import functools
import inspect
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar

import pandas as pd
from sqlalchemy import Connection, Engine

P = ParamSpec("P")
R = TypeVar("R")


@dataclass
class QueryReuse:
    """What a :func:`shared_queries` block did: ``runs`` (computed) and ``reuses`` (copied) per function."""

    max_entries: int
    runs: dict[str, int] = field(default_factory=dict)
    reuses: dict[str, int] = field(default_factory=dict)
    _results: OrderedDict = field(default_factory=OrderedDict, repr=False)


_ACTIVE: ContextVar[QueryReuse | None] = ContextVar("vipmodel_shared_queries", default=None)


@contextmanager
def shared_queries(max_entries: int = 24) -> Iterator[QueryReuse]:
    """Within the block, each :func:`shares_result` aggregation runs once per distinct arguments and database.

    Parameters
    ----------
    max_entries : int, default 24
        Results kept at once, least recently used dropped first. A member-level result at a million members is
        some 100-300 MB, so this bounds the block's memory.

    Yields
    ------
    QueryReuse
        Counts of runs and reuses per function, filled as the block goes.

    Raises
    ------
    ValueError
        ``"max_entries must be a whole number >= 1, got 0"``.

    Notes
    -----
    Nested blocks share the outer block's results. Only reads belong inside: a write in the block would not be
    seen by an aggregation that already ran.
    """
    if isinstance(max_entries, bool) or not isinstance(max_entries, int) or max_entries < 1:
        raise ValueError(f"max_entries must be a whole number >= 1, got {max_entries!r}")
    outer = _ACTIVE.get()
    if outer is not None:
        yield outer
        return
    reuse = QueryReuse(max_entries=max_entries)
    token = _ACTIVE.set(reuse)
    try:
        yield reuse
    finally:
        _ACTIVE.reset(token)
        reuse._results.clear()


def active() -> QueryReuse | None:
    """The :func:`shared_queries` block this thread is in, or None."""
    return _ACTIVE.get()


def shares_result(fn: Callable[P, R]) -> Callable[P, R]:
    """Decorate ``fn(conn, *args, **kwargs)``, a read whose result depends only on its arguments and the data,
    so that inside :func:`shared_queries` it runs once per distinct arguments and database.

    Arguments are compared by value (mappings and sequences included); a call with an argument that cannot be
    compared so (e.g. a DataFrame) simply runs. Results are returned as copies: a caller that changes its frame
    does not change the next caller's.
    """

    name = f"{fn.__module__}.{fn.__qualname__}"
    signature = inspect.signature(fn)

    @functools.wraps(fn)
    def wrapper(conn, *args, **kwargs):
        reuse = _ACTIVE.get()
        if reuse is None:
            return fn(conn, *args, **kwargs)
        try:
            # Bound with defaults: f(c, d), f(c, d, years=1) and f(c, end=d) are one question when they mean one.
            bound = signature.bind(conn, *args, **kwargs)
            bound.apply_defaults()
            arguments = dict(bound.arguments)
            arguments.pop(next(iter(signature.parameters)))
            key = (name, _database(conn), _frozen(arguments))
            hash(key)
        except TypeError:
            return fn(conn, *args, **kwargs)
        results = reuse._results
        if key in results:
            results.move_to_end(key)
            reuse.reuses[name] = reuse.reuses.get(name, 0) + 1
            return _copy(results[key])
        value = fn(conn, *args, **kwargs)  # an exception propagates and nothing is kept
        reuse.runs[name] = reuse.runs.get(name, 0) + 1
        results[key] = value
        while len(results) > reuse.max_entries:
            results.popitem(last=False)
        return _copy(value)

    return wrapper


def _database(conn: Connection | Engine | Any) -> str:
    engine = conn if isinstance(conn, Engine) else getattr(conn, "engine", None)
    if engine is None:
        raise TypeError("not a SQLAlchemy connection")
    return engine.url.render_as_string(hide_password=False)


def _frozen(value: Any) -> Any:
    if isinstance(value, Mapping):
        return ("mapping", tuple(sorted((str(k), _frozen(v)) for k, v in value.items())))
    if isinstance(value, (list, tuple)):
        return ("sequence", tuple(_frozen(v) for v in value))
    if isinstance(value, (pd.DataFrame, pd.Series, pd.Index)):
        raise TypeError("frames are not compared by value")
    return value


def _copy(value: R) -> R:
    if isinstance(value, (pd.DataFrame, pd.Series)):
        out = value.copy()
        out.attrs = dict(value.attrs)
        return out  # type: ignore[return-value]
    return value
