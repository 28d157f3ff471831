"""Shared filters in ``st.session_state``, mirrored in ``st.query_params`` so a link reproduces the view."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from collections.abc import Sequence

from dashboard.i18n import DEFAULT_LANGUAGE, LANGUAGES

LANG = "lang"
PERIOD = "period"
PRESENT = "present"
STORE = "store"  # session key and query parameter; "" = all stores
TIERS = "tiers"  # session key; its query parameter is TIER_PARAM, e.g. ?tier=A,B
TIER_PARAM = "tier"
IGNORED = "_link_ignored"  # the link's parameters that could not be used, for a notice
NO_TIERS = "none"  # the tier parameter when the user cleared the selection
ALL_TIERS: tuple[str, ...] = ("A", "B", "C", "D")
_LOADED = "_query_params_loaded"
PERIOD_ADJUSTED = "_period_adjusted"  # (asked, shown) when a period outside the data was moved into it
DEFAULT_DAYS = 365  # the default period: the last year of the data


def _parse_date(text: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _parse_tiers(text: str | None) -> tuple[str, ...]:
    """``"A,B"`` -> ``("A", "B")``, ``"none"`` -> ``()``; missing or malformed (an unknown tier, "") -> all tiers."""
    if text == NO_TIERS:
        return ()
    picked = {part.strip().upper() for part in (text or "").split(",")}
    if not text or not picked or not picked <= set(ALL_TIERS):
        return ALL_TIERS
    return tuple(k for k in ALL_TIERS if k in picked)


def default_period(latest: dt.date, first: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The period shown when the link names none: the 365 days up to ``latest``, starting no earlier than ``first``
    (the data's first day, in whatever year it lies)."""
    start = latest - dt.timedelta(days=DEFAULT_DAYS - 1)
    return (max(start, first) if first is not None else start), latest


def clamp_period(start: dt.date | None, end: dt.date | None, latest: dt.date,
                 first: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """A period (either end may be missing) moved into the data's ``[first, latest]``.

    A missing end is ``latest``; a missing start, or one after the end, starts a year before the end. A period
    overlapping the data keeps the overlap; one wholly before or after the data becomes :func:`default_period`.
    """
    first = latest if first is not None and first > latest else first
    end = end or latest
    if start is not None and start > end:
        start = None
    if (first is not None and end < first) or (start is not None and start > latest):
        return default_period(latest, first)
    end = min(end, latest)
    start = start or end - dt.timedelta(days=DEFAULT_DAYS - 1)
    return (max(start, first) if first is not None else start), end


def _adjusted(asked: tuple[dt.date | None, dt.date | None], shown: tuple[dt.date, dt.date]) -> None:
    moved = any(a is not None and a != s for a, s in zip(asked, shown))
    st.session_state[PERIOD_ADJUSTED] = (asked, shown) if moved else None


def load_from_query_params(latest: dt.date | None, stores: Sequence[str] = (), first: dt.date | None = None) -> None:
    """On a session's first run, take language, period, store and tiers from the URL (ignoring malformed values).

    ``first`` and ``latest`` are the data's first and last days: a period from the URL is moved into them
    (:func:`clamp_period`, remembered for :func:`period_adjusted`). ``stores`` are the known home stores: an unknown
    ``?store=`` falls back to all stores.
    """
    if st.session_state.get(_LOADED):
        return
    st.session_state[_LOADED] = True
    params = st.query_params
    lang = params.get(LANG)
    st.session_state[LANG] = lang if lang in LANGUAGES else DEFAULT_LANGUAGE
    st.session_state[PRESENT] = params.get(PRESENT) == "1"
    start, end = _parse_date(params.get("from")), _parse_date(params.get("to"))
    if latest is not None:
        st.session_state[PERIOD] = clamp_period(start, end, latest, first)
        _adjusted((start, end), st.session_state[PERIOD])
    store = params.get(STORE)
    st.session_state[STORE] = store if store in stores else ""
    st.session_state[TIERS] = list(_parse_tiers(params.get(TIER_PARAM)))
    st.session_state[IGNORED] = _ignored(params, stores, lang, start, end)


def _ignored(params, stores: Sequence[str], lang: str | None, start, end) -> list[str]:
    """The link's ``name=value`` pairs that were malformed or unknown and so not used (shown in the sidebar)."""
    tier = params.get(TIER_PARAM)
    bad = {
        LANG: lang is not None and lang not in LANGUAGES,
        PRESENT: params.get(PRESENT) not in (None, "", "0", "1"),
        "from": params.get("from") not in (None, "") and start is None,
        "to": params.get("to") not in (None, "") and end is None,
        STORE: params.get(STORE) not in (None, "") and params.get(STORE) not in stores,
        TIER_PARAM: tier not in (None, "", NO_TIERS) and _parse_tiers(tier) == ALL_TIERS
        and {p.strip().upper() for p in tier.split(",")} != set(ALL_TIERS),
    }
    # Values are cut short: a link can carry anything, and the notice only needs to say which part was ignored.
    return [f"{name}={str(params.get(name))[:40]}" for name, flag in bad.items() if flag]


def ignored_params() -> list[str]:
    """What :func:`load_from_query_params` could not use from the session's link."""
    return list(st.session_state.get(IGNORED) or [])


def keep_period_within(latest: dt.date | None, first: dt.date | None = None) -> None:
    """Move the session's period into the data's ``[first, latest]`` before the sidebar draws its date picker (which
    refuses a value outside its bounds), e.g. after an import replaced the data with another span of years."""
    if latest is None:
        return
    value = st.session_state.get(PERIOD)
    if not isinstance(value, tuple | list) or len(value) not in (1, 2):
        st.session_state[PERIOD] = default_period(latest, first)
        return
    start, end = value[0], value[-1]
    inside = (first is None or start >= first) and end <= latest
    if inside:
        return
    st.session_state[PERIOD] = clamp_period(start, end, latest, first)
    _adjusted((start, end), st.session_state[PERIOD])


def period_adjusted() -> tuple[dt.date | None, dt.date | None] | None:
    """The period that was asked for (the link's, or the one before the data changed) while the sidebar still shows
    the one it was moved to; None otherwise."""
    adjusted = st.session_state.get(PERIOD_ADJUSTED)
    if not adjusted:
        return None
    asked, shown = adjusted
    return asked if period() == tuple(shown) else None


def sync_query_params() -> None:
    """Write the current filters to the URL."""
    st.query_params[LANG] = st.session_state.get(LANG, DEFAULT_LANGUAGE)
    _set_or_drop(PRESENT, "1" if st.session_state.get(PRESENT) else "")
    period = st.session_state.get(PERIOD)
    if isinstance(period, tuple | list) and len(period) == 2:
        st.query_params["from"] = period[0].isoformat()
        st.query_params["to"] = period[1].isoformat()
    _set_or_drop(STORE, store() or "")
    picked = tiers()
    _set_or_drop(TIER_PARAM, "" if picked == ALL_TIERS else ",".join(picked) or NO_TIERS)


def _set_or_drop(name: str, value: str) -> None:
    if value:
        st.query_params[name] = value
    elif name in st.query_params:
        del st.query_params[name]


def lang() -> str:
    """The interface language code."""
    return st.session_state.get(LANG, DEFAULT_LANGUAGE)


def period() -> tuple[dt.date, dt.date] | None:
    """The selected period (start, end), both inclusive; None until data exists."""
    value = st.session_state.get(PERIOD)
    if isinstance(value, tuple | list) and len(value) == 2:
        return value[0], value[1]
    if isinstance(value, tuple | list) and len(value) == 1:  # the date range picker mid-selection
        return value[0], value[0]
    return None


def store() -> str | None:
    """The selected home store; None for all stores."""
    return st.session_state.get(STORE) or None


def tiers() -> tuple[str, ...]:
    """The selected tiers in A-D order (all four by default; empty when the user cleared the selection)."""
    picked = st.session_state.get(TIERS)
    if picked is None:
        return ALL_TIERS
    return tuple(k for k in ALL_TIERS if k in set(picked))


def presentation() -> bool:
    """True in presentation mode (weekly meeting on a projector): bigger charts and text, no controls."""
    return bool(st.session_state.get(PRESENT, False))
