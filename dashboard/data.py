"""The I/O boundary: the shared engine, the database URL, first-start demo data and cached loaders.

Every loader takes the URL and the data version as arguments so a cached result is dropped as soon as an
import or a demo regeneration bumps the version.
"""

from __future__ import annotations

import datetime as dt
import os

import pandas as pd
import streamlit as st
from sqlalchemy import Engine

from vipmodel import db, features, kpi, migration, settings
from vipmodel.pyramid import DEFAULT_RULES, TierRules

DEMO_MEMBERS = int(os.environ.get("VIPDASH_DEMO_MEMBERS", "20000"))


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


@st.cache_resource(show_spinner=False)
def get_engine(url: str) -> Engine:
    """One engine per URL, shared by every session."""
    return db.make_engine(url)


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


def current_version(url: str) -> int:
    """The data version (cheap; read on every run to key the caches)."""
    with get_engine(url).connect() as conn:
        return db.data_version(conn)


@st.cache_data(show_spinner=False)
def load_freshness(url: str, version: int) -> dict:
    """Latest transaction, member count, last import per kind."""
    with get_engine(url).connect() as conn:
        return db.data_freshness(conn)


@st.cache_data(show_spinner=False)
def load_latest_date(url: str, version: int) -> dt.date | None:
    """The date of the latest transaction."""
    with get_engine(url).connect() as conn:
        return kpi.latest_activity_date(conn)


@st.cache_data(show_spinner=False)
def load_overview_kpis(url: str, version: int, as_of: dt.date) -> pd.DataFrame:
    """KPIs at ``as_of`` with the change against one week earlier."""
    with get_engine(url).connect() as conn:
        return kpi.overview_kpis(conn, as_of)


@st.cache_data(show_spinner=False)
def load_weekly_trend(url: str, version: int, as_of: dt.date, weeks: int = 26) -> pd.DataFrame:
    """Weekly sales, buyers and complaints up to ``as_of``."""
    with get_engine(url).connect() as conn:
        return kpi.weekly_trend(conn, as_of, weeks)


@st.cache_data(show_spinner=False, max_entries=8)
def load_features(url: str, version: int, start: dt.date, end: dt.date, period: str = "range") -> pd.DataFrame:
    """Per-member features of the period (aggregated in the database)."""
    with get_engine(url).connect() as conn:
        return features.member_features(conn, start, end, period=period)


@st.cache_data(show_spinner=False, max_entries=8)
def load_pyramid_features(url: str, version: int, start: dt.date, end: dt.date) -> pd.DataFrame:
    """Only the columns re-tiering needs, so each slider move copies as little as possible."""
    frame = load_features(url, version, start, end)
    return frame.loc[frame["n_transactions"] > 0, ["member_id", "sales", "profit_contribution"]].reset_index(drop=True)


@st.cache_data(show_spinner=False)
def load_setting_history(url: str, kind: str) -> pd.DataFrame:
    """All saved versions of a setting (cleared by :func:`save_setting`)."""
    with get_engine(url).connect() as conn:
        return settings.setting_history(conn, kind)


def load_tier_rules(url: str) -> tuple[TierRules, int | None]:
    """The latest saved tier rules and their version, or the default 1/4/15/80 pyramid and None."""
    history = load_setting_history(url, "tier_rules")
    if history.empty:
        return DEFAULT_RULES, None
    latest = history.iloc[-1]
    return TierRules.from_payload(latest["payload"]), int(latest["version"])


def save_setting(url: str, kind: str, payload: dict, author: str, note: str) -> settings.SettingVersion:
    """Save a new version and drop the cached history."""
    with get_engine(url).begin() as conn:
        saved = settings.save_setting(conn, kind, payload, author=author, note=note)
    load_setting_history.clear()
    return saved


@st.cache_data(show_spinner=False, max_entries=4)
def load_snapshots(url: str, version: int, start: dt.date, end: dt.date, period: str, rules_payload: dict) -> pd.DataFrame:
    """Tier per member and period, each period tiered on its own."""
    frame = load_features(url, version, start, end, period)
    frame = frame[frame["n_transactions"] > 0]
    return migration.tier_snapshots(frame, TierRules.from_payload(rules_payload))


def regenerate_demo(url: str, members: int, on_progress) -> None:
    """Replace the embedded database's contents with a freshly generated demo mall and drop every cached result."""
    if not is_default_database(url):
        raise ValueError("only the embedded demo database can be regenerated from the app")
    from vipmodel.demo import generate

    generate(get_engine(url), members=members, progress=on_progress)
    st.cache_data.clear()


# --- Referrals page ----------------------------------------------------------------------------------------------
def load_referral_weights(url: str) -> dict | None:
    """The latest saved satisfaction weights payload (part of the cache keys below), or None for equal weights."""
    history = load_setting_history(url, "satisfaction_weights")
    return None if history.empty else dict(history.iloc[-1]["payload"])


@st.cache_data(show_spinner=False, max_entries=8)
def load_referral_rates(
    url: str, version: int, as_of: dt.date, by: str, rules_payload: dict, weights_payload: dict | None
) -> pd.DataFrame:
    """Referrals per 100 active members in the year to ``as_of``, by tier or satisfaction bucket."""
    from vipmodel import referrals

    with get_engine(url).connect() as conn:
        return referrals.referral_rates(
            conn, as_of, by, rules=TierRules.from_payload(rules_payload),
            weights=weights_payload or {d: 1.0 for d in referrals.schema.DIMENSIONS},
        )


@st.cache_data(show_spinner=False, max_entries=4)
def load_referred_value(url: str, version: int, as_of: dt.date) -> pd.DataFrame:
    """Referred vs. other new members: value in the joining year, next-year sales and churn."""
    from vipmodel import referrals

    with get_engine(url).connect() as conn:
        return referrals.referred_value(conn, as_of)


@st.cache_data(show_spinner=False, max_entries=8)
def load_top_referrers(
    url: str, version: int, start: dt.date, end: dt.date, n: int, show_names: bool, rules_payload: dict,
    weights_payload: dict | None,
) -> pd.DataFrame:
    """The members who referred most new members joining in ``[start, end]`` (names masked unless asked)."""
    from vipmodel import referrals

    with get_engine(url).connect() as conn:
        return referrals.top_referrers(
            conn, end, n, start=start, show_names=show_names, rules=TierRules.from_payload(rules_payload),
            weights=weights_payload or {d: 1.0 for d in referrals.schema.DIMENSIONS},
        )


@st.cache_data(show_spinner=False, max_entries=8)
def load_new_member_referrals(url: str, version: int, start: dt.date, end: dt.date) -> dict:
    """Members who joined in ``[start, end]`` and the share referred (as a dict of NewMemberReferrals)."""
    from dataclasses import asdict

    from vipmodel import referrals

    with get_engine(url).connect() as conn:
        return asdict(referrals.new_member_referrals(conn, start, end))
