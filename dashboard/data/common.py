"""The engine, the database URL, first-start demo data, objects shared across sessions, the data token, dates,
freshness, stores, margin coverage and the saved settings: what every page reads (see ``dashboard.data``)."""

from __future__ import annotations

import datetime as dt
import functools
import gc
import importlib
import inspect
import os
from collections.abc import Callable
from typing import Any, TypeVar

import pandas as pd
import streamlit as st
from sqlalchemy import Engine

from vipmodel import db, kpi, margins, settings
from vipmodel.auth import Actor
from vipmodel.pyramid import DEFAULT_RULES, TierRules

DEMO_MEMBERS = int(os.environ.get("VIPDASH_DEMO_MEMBERS", "20000"))
F = TypeVar("F", bound=Callable[..., Any])


def cached(*, resource: bool = False, **options: Any) -> Callable[[F], F]:
    """``st.cache_data(**options)`` (``st.cache_resource`` with ``resource=True``) keyed on the call's arguments
    bound to the loader's signature, its defaults filled in: every form of one call finds the same result."""
    def decorate(loader: F) -> F:
        signature = inspect.signature(loader)
        cache = (st.cache_resource if resource else st.cache_data)(**options)(loader)

        # Streamlit keys a cached call on the arguments as given: a caller leaving out a default, or naming an
        # argument, would miss what the precompute or another page computed (and compute it again).
        @functools.wraps(loader)
        def call(*args: Any, **kwargs: Any) -> Any:
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            return cache(*bound.args, **bound.kwargs)

        call.clear = cache.clear  # type: ignore[attr-defined]
        call.uncached = loader  # type: ignore[attr-defined]  # what shared() calls: it keeps the object itself
        return call  # type: ignore[return-value]

    return decorate


def database_url() -> str:
    """``$VIPDASH_DATABASE_URL``, else ``[connections.sql] url`` from secrets.toml, else the embedded SQLite file."""
    if os.environ.get(db.ENV_URL):
        return os.environ[db.ENV_URL]
    try:
        url = st.secrets["connections"]["sql"]["url"]
    except (KeyError, FileNotFoundError, AttributeError):
        url = None
    except Exception:  # noqa: BLE001 - a malformed secrets.toml must not stop the app
        url = None
    return url or db.default_url()


def is_default_database(url: str) -> bool:
    """True when ``url`` is the embedded demo database (the one the app may fill by itself)."""
    return url == db.default_url() and not os.environ.get(db.ENV_URL)


@cached(resource=True, show_spinner=False)
def get_engine(url: str) -> Engine:
    """One engine per URL, shared by every session."""
    return db.make_engine(url)


def has_data(url: str) -> bool:
    """Whether the database at ``url`` holds a loaded mall."""
    return db.has_data(get_engine(url))


def display_name(url: str) -> str:
    """The URL without password, for messages."""
    return get_engine(url).url.render_as_string(hide_password=True)


def ensure_demo_data(url: str, on_progress) -> bool:
    """Generate the demo mall into the embedded database when it is empty; True if data is there afterwards."""
    engine = get_engine(url)
    if db.has_data(engine):
        return True
    if not is_default_database(url):
        return False
    from vipmodel.demo import generate

    generate(engine, members=DEMO_MEMBERS, progress=on_progress)
    st.cache_data.clear()
    return True


def regenerate_demo(url: str, members: int, actor: Actor, on_progress) -> None:
    """Replace the embedded database's contents with a freshly generated demo mall (confirmed on the page, so
    imported data may go too) and drop every cached result."""
    if not is_default_database(url):
        raise ValueError("only the embedded demo database can be regenerated from the app")
    from vipmodel.demo import regenerate

    regenerate(get_engine(url), actor, replace=True, members=members, progress=on_progress)
    st.cache_data.clear()
    clear_shared()


SHARED_ENTRIES = 24  # big read-only results kept as objects (up to a few hundred MB each at a million members);
# the default views of all pages hold about 14 of them


@cached(resource=True, show_spinner=False, max_entries=SHARED_ENTRIES)
def _shared(loader: str, *args):
    """``loader`` is the dotted name of a function of the package (``"dashboard.data.complaints.load_churn_panel"``),
    looked up at each call, so the cache key is a string and a replaced function is the one called."""
    module, _, name = loader.rpartition(".")
    function = getattr(importlib.import_module(module), name)
    return getattr(function, "uncached", function)(*args)


def shared(loader, *args):
    """``loader(*args)`` as one object in memory that every session and rerun reads without a copy.

    ``st.cache_data`` hands each run its own copy, unpickled from bytes: for a million-member frame that is 0.1 to
    1 s on every rerun. Results read this way are shared and read-only: a page filters and aggregates them into
    new frames, never changes them in place (pandas' copy-on-write keeps derived frames separate). They are kept
    once, as the object: the loader's own ``st.cache_data`` (:func:`cached`) is passed by, which would also hold its
    pickle (0.6 GB for the churn panel at a million members). A loader read here is read here everywhere.
    """
    bound = inspect.signature(loader).bind(*args)  # one key whether a default is given or left out
    bound.apply_defaults()
    return _shared(f"{loader.__module__}.{loader.__name__}", *bound.args)


def clear_shared() -> None:
    """Drop the shared objects (with ``st.cache_data.clear()`` when the data is replaced)."""
    _shared.clear()
    gc.unfreeze()  # the precompute froze them (precompute._keep_from_the_collector): let their cycles be collected


def current_version(url: str) -> str:
    """The data token and the version of the model code (cheap; read on every run to key the caches, in memory and
    on disk): an upgrade of ``vipmodel`` -- a fixed model, query or default -- never serves results the old code
    made, even from a server's disk cache."""
    from vipmodel.results import model_version

    with get_engine(url).connect() as conn:
        return f"{db.data_token(conn)}.{model_version()}"


@cached(show_spinner=False)
def load_freshness(url: str, version: str) -> dict:
    """Latest transaction, member count, last import per kind."""
    with get_engine(url).connect() as conn:
        return db.data_freshness(conn)


@cached(show_spinner=False)
def load_latest_date(url: str, version: str) -> dt.date | None:
    """The date of the latest transaction."""
    with get_engine(url).connect() as conn:
        return kpi.latest_activity_date(conn)


@cached(show_spinner=False)
def load_first_date(url: str, version: str) -> dt.date | None:
    """The date of the first transaction: the earliest day the sidebar's period may start (any year)."""
    with get_engine(url).connect() as conn:
        return kpi.first_activity_date(conn)


SETTINGS_TTL_SECONDS = 30  # a setting saved through another server of the group is seen here within this time


@cached(show_spinner=False, ttl=SETTINGS_TTL_SECONDS)
def load_setting_history(url: str, kind: str) -> pd.DataFrame:
    """All saved versions of a setting (cleared by :func:`save_setting` on this server; read again every
    :data:`SETTINGS_TTL_SECONDS` for saves through other servers)."""
    with get_engine(url).connect() as conn:
        return settings.setting_history(conn, kind)


def load_tier_rules(url: str) -> tuple[TierRules, int | None]:
    """The latest saved tier rules and their version, or the default 1/4/15/80 pyramid and None."""
    history = load_setting_history(url, "tier_rules")
    if history.empty:
        return DEFAULT_RULES, None
    latest = history.iloc[-1]
    return TierRules.from_payload(latest["payload"]), int(latest["version"])


def save_setting(url: str, kind: str, payload: dict, actor: Actor, note: str) -> settings.SettingVersion:
    """Save a new version as ``actor`` and drop the cached history (margin rates also start a new data version)."""
    # Given the engine, vipmodel commits inside its own check for a concurrent save (SQLite's lock shows at commit).
    saved = settings.save_setting(get_engine(url), kind, payload, actor, note=note)
    load_setting_history.clear()
    return saved


def load_referral_weights(url: str) -> dict | None:
    """The latest saved satisfaction weights payload (part of the referral, value and campaign loaders' cache keys),
    or None for equal weights."""
    history = load_setting_history(url, "satisfaction_weights")
    return None if history.empty else dict(history.iloc[-1]["payload"])


# --- The sidebar's store choice (its members: dashboard.data.members) ----------------------------------------------
@cached(show_spinner=False)
def load_stores(url: str, version: str) -> list[str]:
    """The distinct home stores of the members (``members.home_store``), sorted, for the sidebar's store filter."""
    from sqlalchemy import select

    from vipmodel.schema import members

    with get_engine(url).connect() as conn:
        stores = conn.execute(select(members.c.home_store).where(members.c.home_store.is_not(None)).distinct())
        return sorted(str(s) for s in stores.scalars())


@cached(show_spinner=False)
def load_margin_coverage(url: str, version: str, start: dt.date, end: dt.date,
                         store: str | None = None) -> margins.MarginCoverage:
    """The share of the period's sales whose margin is estimated from the rates, and the rates."""
    with get_engine(url).connect() as conn:
        return margins.margin_coverage(conn, start, end, store)
