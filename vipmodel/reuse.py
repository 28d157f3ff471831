"""Run each identical aggregation once within a block of read-only work.

The analyses of one data version ask the database the same questions many times: the members' features of the
year to a date feed the pyramid, the lifetime values, the churn risk, its evaluation, the care model and the
churn panel; the purchase summary at a date feeds every BG/NBD fit at that date. Each is a pass over every
transaction (tens of seconds at a million members). Inside :func:`shared_queries` the aggregations decorated
with :func:`shares_result` run once per distinct set of arguments and database; later calls get a copy.

A block can keep only its most recently used results in memory (``in_memory``) and the older ones in a private
temporary folder, read back when asked for again: at a million members each result is 0.1 to 0.3 GB, and a
precompute asks some forty questions, the answer to an early one being needed again an hour later.

Outside the block nothing is kept: a library call never returns a result computed before the data changed.
Inside it the caller promises that the data does not change (e.g. a dashboard's precompute of one data
version). The block is per thread and per asyncio task (a :class:`contextvars.ContextVar`), so other threads
serving other users are unaffected.
"""

from __future__ import annotations

import functools
import inspect
import shutil
import tempfile
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import pandas as pd
from sqlalchemy import Connection, Engine

P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True)
class _OnDisk:
    path: Path


@dataclass
class QueryReuse:
    """What a :func:`shared_queries` block did: ``runs`` (computed) and ``reuses`` (copied) per function, and
    ``spilled``, the results written to its temporary folder (each once)."""

    max_entries: int
    in_memory: int | None = None
    runs: dict[str, int] = field(default_factory=dict)
    reuses: dict[str, int] = field(default_factory=dict)
    spilled: int = 0
    _results: OrderedDict = field(default_factory=OrderedDict, repr=False)
    _files: dict[tuple, Path] = field(default_factory=dict, repr=False)  # a result's file, once written
    _folder: Path | None = field(default=None, repr=False)

    def _get(self, key: tuple) -> Any:
        self._results.move_to_end(key)
        value = self._results[key]
        if isinstance(value, _OnDisk):
            # Its file stays: a result is never changed (callers get copies), so dropped again it is not rewritten.
            value = self._results[key] = pd.read_pickle(value.path)
        self._trim()
        return value

    def _put(self, key: tuple, value: Any) -> None:
        self._forget_file(key)  # a new answer to the question: its old file is stale
        self._results[key] = value
        self._results.move_to_end(key)
        self._trim()

    def _forget_file(self, key: tuple) -> None:
        path = self._files.pop(key, None)
        if path is not None:
            path.unlink(missing_ok=True)

    def _trim(self) -> None:
        """Drop the least recently used results beyond ``max_entries``; write those beyond ``in_memory`` to disk."""
        while len(self._results) > self.max_entries:
            key, _ = self._results.popitem(last=False)
            self._forget_file(key)
        if self.in_memory is None:
            return
        for position, (key, value) in enumerate(list(self._results.items())):
            if position >= len(self._results) - self.in_memory:
                break
            if isinstance(value, (pd.DataFrame, pd.Series)):  # other results are small
                path = self._files.get(key)
                if path is None:  # written once, the first time it leaves the memory
                    if self._folder is None:
                        self._folder = Path(tempfile.mkdtemp(prefix="vipmodel-shared-"))
                    path = self._files[key] = self._folder / f"{self.spilled}.pkl"
                    value.to_pickle(path)
                    self.spilled += 1
                self._results[key] = _OnDisk(path)

    def _close(self) -> None:
        self._results.clear()
        self._files.clear()
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)


_ACTIVE: ContextVar[QueryReuse | None] = ContextVar("vipmodel_shared_queries", default=None)


@contextmanager
def shared_queries(max_entries: int = 24, in_memory: int | None = None) -> Iterator[QueryReuse]:
    """Within the block, each :func:`shares_result` aggregation runs once per distinct arguments and database.

    Parameters
    ----------
    max_entries : int, default 24
        Results kept at once, least recently used dropped first. A member-level result at a million members is
        some 100-300 MB, so this bounds the block's memory.
    in_memory : int, optional
        Results kept in memory, the most recently used; older frames are pickled into a private temporary folder
        (removed when the block ends) and read back when asked for again. None keeps every result in memory.

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
    for name, value in (("max_entries", max_entries), ("in_memory", in_memory)):
        if (value is not None or name == "max_entries") and (
                isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise ValueError(f"{name} must be a whole number >= 1, got {value!r}")
    outer = _ACTIVE.get()
    if outer is not None:
        yield outer
        return
    reuse = QueryReuse(max_entries=max_entries, in_memory=in_memory)
    token = _ACTIVE.set(reuse)
    try:
        yield reuse
    finally:
        _ACTIVE.reset(token)
        reuse._close()


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

    def key_of(conn, *args, **kwargs) -> tuple:
        # Bound with defaults: f(c, d), f(c, d, years=1) and f(c, end=d) are one question when they mean one.
        bound = signature.bind(conn, *args, **kwargs)
        bound.apply_defaults()
        arguments = dict(bound.arguments)
        arguments.pop(next(iter(signature.parameters)))
        key = (name, _database(conn), _frozen(arguments))
        hash(key)
        return key

    @functools.wraps(fn)
    def wrapper(conn, *args, **kwargs):
        reuse = _ACTIVE.get()
        if reuse is None:
            return fn(conn, *args, **kwargs)
        try:
            key = key_of(conn, *args, **kwargs)
        except TypeError:
            return fn(conn, *args, **kwargs)
        if key in reuse._results:
            reuse.reuses[name] = reuse.reuses.get(name, 0) + 1
            return _copy(reuse._get(key))
        value = fn(conn, *args, **kwargs)  # an exception propagates and nothing is kept
        reuse.runs[name] = reuse.runs.get(name, 0) + 1
        reuse._put(key, value)
        return _copy(value)

    wrapper._reuse_key = key_of  # type: ignore[attr-defined]  # read by remember()
    return wrapper


def remember(fn: Callable[..., R], value: R, conn: Connection | Engine, *args: Any, **kwargs: Any) -> bool:
    """Keep ``value`` as the answer of ``fn(conn, *args, **kwargs)`` in the active :func:`shared_queries` block.

    For a caller that derived that answer from a wider one it already has (e.g. a calibration summary without
    its holdout columns from the one with them): the next call then reads it instead of running the query.
    ``fn`` must be decorated with :func:`shares_result`. Returns False, keeping nothing, outside a block or when
    the arguments cannot be compared by value.
    """
    reuse = _ACTIVE.get()
    if reuse is None:
        return False
    try:
        key = fn._reuse_key(conn, *args, **kwargs)  # type: ignore[attr-defined]
    except TypeError:
        return False
    reuse._put(key, value)
    return True


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
    # A shallow copy: under pandas' copy-on-write (always on since pandas 3) the caller's frame shares the kept one's
    # data until either is changed, when the changed columns are copied. A deep copy doubled every kept result
    # while its caller held it (0.2 to 0.4 GB each at a million members).
    if isinstance(value, (pd.DataFrame, pd.Series)):
        out = value.copy(deep=False)
        out.attrs = dict(value.attrs)
        return out  # type: ignore[return-value]
    return value
