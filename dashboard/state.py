"""Shared filters in ``st.session_state``, mirrored in ``st.query_params`` so a link reproduces the view."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from dashboard.i18n import DEFAULT_LANGUAGE, LANGUAGES

LANG = "lang"
PERIOD = "period"
PRESENT = "present"
_LOADED = "_query_params_loaded"


def _parse_date(text: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None


def load_from_query_params(latest: dt.date | None) -> None:
    """On a session's first run, take language and period from the URL (ignoring malformed values)."""
    if st.session_state.get(_LOADED):
        return
    st.session_state[_LOADED] = True
    params = st.query_params
    lang = params.get(LANG)
    st.session_state[LANG] = lang if lang in LANGUAGES else DEFAULT_LANGUAGE
    st.session_state[PRESENT] = params.get(PRESENT) == "1"
    start, end = _parse_date(params.get("from")), _parse_date(params.get("to"))
    if latest is not None:
        end = end if end and end <= latest else latest
        start = start if start and start <= end else end - dt.timedelta(days=364)
        st.session_state[PERIOD] = (start, end)


def sync_query_params() -> None:
    """Write the current filters to the URL."""
    st.query_params[LANG] = st.session_state.get(LANG, DEFAULT_LANGUAGE)
    if st.session_state.get(PRESENT):
        st.query_params[PRESENT] = "1"
    elif PRESENT in st.query_params:
        del st.query_params[PRESENT]
    period = st.session_state.get(PERIOD)
    if isinstance(period, tuple | list) and len(period) == 2:
        st.query_params["from"] = period[0].isoformat()
        st.query_params["to"] = period[1].isoformat()


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


def presentation() -> bool:
    """True in presentation mode (weekly meeting on a projector): bigger charts and text, no controls."""
    return bool(st.session_state.get(PRESENT, False))
