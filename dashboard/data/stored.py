"""Heavy page results kept in the mall's database (``vipmodel.view_store``), so every app server on it reads one copy.

A loader marked :func:`stored` first looks for its result in the database, under a key made of the loader, its
arguments (the saved settings it depends on among them), the data and model version (``common.current_version``) and
the dashboard's code; it computes only when none is there. The precompute (``dashboard.precompute``) computes each
page's default view in a process of its own inside :func:`writing`, which stores what it computes; a page's own
computations (other filters, a widget's value) stay in the server's memory. A result made by other code or for other data has another key and
is never read.

The rows are signed with the servers' shared secret (:func:`secret`): ``$VIPDASH_RESULTS_KEY``, else ``[results] key``
in secrets.toml, else a random key this machine keeps in ``~/.streamlit/vipdash-results.key``. Every server of a
group needs the same one (README, "Several app servers on one database").
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import os
import secrets as random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import streamlit as st
from streamlit.logger import get_logger

from dashboard.data.common import get_engine
from vipmodel import view_store

ENV_SWITCH = "VIPDASH_STORED_VIEWS"  # "0": loaders neither read nor write stored results (the page tests)
ENV_SECRET = "VIPDASH_RESULTS_KEY"
KEY_FILE = "vipdash-results.key"
_LOG = get_logger(__name__)
_state = threading.local()  # .writing: this thread's computations are stored (the precompute's steps)
computed: Counter[str] = Counter()  # loader name -> results this process computed, not finding them stored
F = TypeVar("F", bound=Callable[..., Any])


def enabled() -> bool:
    """Whether loaders use the database's stored results (on unless ``VIPDASH_STORED_VIEWS=0``)."""
    return os.environ.get(ENV_SWITCH, "1") != "0"


@functools.lru_cache(maxsize=1)
def code_version() -> str:
    """A hash of the dashboard's code (every module of the package): part of every stored result's key."""
    digest = hashlib.sha256()
    root = Path(__file__).resolve().parent.parent
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode("utf-8"))
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def secret() -> bytes:
    """The key that signs and verifies stored results (see the module's description)."""
    configured = os.environ.get(ENV_SECRET) or _secret_from_secrets_toml()
    if configured:
        return configured.encode("utf-8")
    path = Path.home() / ".streamlit" / KEY_FILE
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    try:  # created readable by this user only; of two processes creating it at once, one writes, both read
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes()
    with os.fdopen(handle, "wb") as out:
        out.write(random.token_hex(32).encode("ascii"))
    return path.read_bytes()


def _secret_from_secrets_toml() -> str | None:
    try:
        return str(st.secrets["results"]["key"])
    except (KeyError, FileNotFoundError, AttributeError):
        return None
    except Exception:  # noqa: BLE001 - a malformed secrets.toml must not stop the app
        return None


@contextmanager
def writing() -> Iterator[set[str]]:
    """Within: what this thread's :func:`stored` loaders compute is stored in the database. Yields the set of the
    keys they read or stored, filled as they run (what :func:`prune` keeps)."""
    _state.writing, _state.touched = True, set()
    try:
        yield _state.touched
    finally:
        _state.writing = False


def key(name: str, version: str, args: tuple, kwargs: dict) -> str:
    """The stored result's key (the URL is not part of it: the database is).

    Like the memory cache's key, it is made of the arguments: loaders get the saved settings they depend on (tier
    rules, weights) as arguments, so a save gives them other keys.
    """
    return view_store.key_for(name, args, sorted(kwargs.items()), version, code_version())


def stored(loader: F) -> F:
    """Read ``loader(url, version, ...)``'s result from the database, or compute it (and store it inside
    :func:`writing`). Put it under ``st.cache_data``: memory first, then the database, then the computation."""
    name = f"{loader.__module__}.{loader.__qualname__}"

    @functools.wraps(loader)
    def read_or_compute(url: str, version: str, *args: Any, **kwargs: Any) -> Any:
        if not enabled():
            computed[name] += 1
            return loader(url, version, *args, **kwargs)
        engine, where = get_engine(url), key(name, version, args, kwargs)
        try:
            found, value = view_store.get(engine, where, secret())
        except view_store.UntrustedResult as exc:  # another group's secret, or an altered row: computed here
            _LOG.warning("%s: %s", name, exc)
            found = False
        if getattr(_state, "writing", False):
            _state.touched.add(where)
        if found:
            return value
        computed[name] += 1
        value = loader(url, version, *args, **kwargs)
        if getattr(_state, "writing", False):
            view_store.put(engine, where, name, value, version, secret())
        return value

    return read_or_compute  # type: ignore[return-value]


def _complete_key(fingerprint: str) -> str:
    return view_store.key_for("precompute", fingerprint)


def mark_complete(url: str, version: str, fingerprint: str) -> None:
    """Record in the database that every step of the precompute ``fingerprint`` stored its result."""
    view_store.put(get_engine(url), _complete_key(fingerprint), "precompute complete", True, version, secret())


def is_complete(url: str, fingerprint: str) -> bool:
    """Whether a precompute with this fingerprint completed on this database (by any server)."""
    try:
        return view_store.get(get_engine(url), _complete_key(fingerprint), secret())[0]
    except view_store.UntrustedResult:
        return False


def bookkeeping_keys(fingerprint: str) -> set[str]:
    """The keys of the precompute ``fingerprint``'s own rows (its claim, its record of completion)."""
    return {_claim_key(fingerprint), _complete_key(fingerprint)}


CLAIM_MINUTES = 90  # a precompute claimed longer ago than this is taken over (its server stopped); 1M: 30-47 min
POLL_SECONDS = 10.0  # how often a server waiting for another's precompute looks for its record


def _claim_key(fingerprint: str) -> str:
    return view_store.key_for("precompute running", fingerprint)


def claim(url: str, version: str, fingerprint: str) -> bool:
    """Claim the precompute ``fingerprint`` for this server: False while another server of the group runs it."""
    return view_store.claim(get_engine(url), _claim_key(fingerprint), "precompute running", version, secret(),
                            dt.timedelta(minutes=CLAIM_MINUTES))


def release(url: str, fingerprint: str) -> None:
    """Drop this server's claim on the precompute ``fingerprint``."""
    view_store.release(get_engine(url), _claim_key(fingerprint))


def wait_for_complete(url: str, fingerprint: str, timeout_seconds: float = CLAIM_MINUTES * 60) -> bool:
    """Wait until another server recorded the precompute ``fingerprint`` complete (True), or gave up on it: its
    claim is gone without a record (False)."""
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        if is_complete(url, fingerprint):
            return True
        try:
            claimed, _ = view_store.get(get_engine(url), _claim_key(fingerprint), secret())
        except view_store.UntrustedResult:
            claimed = True
        if not claimed:
            return is_complete(url, fingerprint)
        time.sleep(POLL_SECONDS)
    return False


def prune(url: str, version: str, keep: set[str] | None = None) -> int:
    """Delete the stored results of other data or model versions and, with ``keep`` (the keys a precompute just
    read or stored, :func:`writing`), this version's others: made under settings saved over since. Returns rows
    deleted."""
    return view_store.prune(get_engine(url), version, keep)
