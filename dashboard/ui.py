"""Small rendering helpers shared by the pages: charts with PNG export, tables with CSV download, empty states,
and saving a setting as a new version (form, success message, version history)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboard import access, state
from dashboard.data import common
from dashboard.i18n import fmt_number, fmt_percent, t
from dashboard.kpi_text import shows_zero
from vipmodel import privacy, safe
from vipmodel.auth import PermissionDenied


def chart(fig: go.Figure, key: str) -> None:
    """Render a figure exactly as built (no Streamlit theme) with a PNG download in its toolbar."""
    if state.presentation():  # larger text needs the margins measured (see figures.theme.fixed_margins)
        fig.update_layout(font_size=20, title_font_size=26, height=int((fig.layout.height or 450) * 1.25))
        fig.update_xaxes(automargin=True)
        fig.update_yaxes(automargin=True)
    config = {
        "displaylogo": False,
        "toImageButtonOptions": {"format": "png", "filename": key, "scale": 2},
    }
    st.plotly_chart(fig, theme=None, width="stretch", config=config, key=key)


def chart_pair(left: tuple[go.Figure, str], right: tuple[go.Figure, str]) -> None:
    """Two charts side by side, each given as ``(figure, key)`` for :func:`chart`."""
    for column, (fig, key) in zip(st.columns(2), (left, right)):
        with column:
            chart(fig, key)


def metric(label: str, value: str, delta: str | None = None, inverse: bool = False, **kwargs) -> None:
    """``st.metric`` whose delta reads neutral when it shows zero: grey, no arrow, no sign (``"0.0"``), instead of
    Streamlit's red "↓ -0.0" for a change that rounds to zero from below. ``inverse``: a rise is bad news (red)."""
    if shows_zero(delta):
        st.metric(label, value, delta=delta.lstrip("+-−"), delta_color="off", delta_arrow="off", **kwargs)
    else:
        st.metric(label, value, delta=delta, delta_color="inverse" if inverse else "normal", **kwargs)


_FORMATS = {"percent": "percent", "money": "localized", "int": "localized", "number": "%.2f"}
_DIGITS = {"money": 2, "int": 0}


MAX_TABLE_ROWS = 5_000  # more rows than anyone reads on screen; sending them all slows every rerun


def protect(frame: pd.DataFrame, personal: Mapping[str, str] | None = None) -> pd.DataFrame:
    """``frame`` with its personal data masked for the signed-in user's role (``vipmodel.privacy.mask_personal``).

    The columns ``name``, ``phone`` and ``birthday`` are always masked; ``personal`` adds translated headers,
    header -> kind (``{"姓名": "name"}``). Masking happens here, on the server, so nothing masked reaches the browser.
    """
    return privacy.mask_personal(frame, access.current_role(), personal)


def csv_download(frame: pd.DataFrame | Callable[[], pd.DataFrame], label: str, file_name: str, key: str,
                 personal: Mapping[str, str] | None = None) -> None:
    """A download button for ``frame`` (or a function building it on click) as CSV: personal data masked for the
    role (:func:`protect`) and text a spreadsheet would run as a formula neutralised (``vipmodel.safe.csv_bytes``)."""
    def csv() -> bytes:
        return safe.csv_bytes(protect(frame() if callable(frame) else frame, personal))

    st.download_button(label, csv if callable(frame) else csv(), file_name=file_name, mime="text/csv", key=key)


def table(frame: pd.DataFrame, key: str, height: int | None = None, formats: dict[str, str] | None = None,
          max_rows: int = MAX_TABLE_ROWS, full: Callable[[], pd.DataFrame] | None = None,
          total: int | None = None, personal: Mapping[str, str] | None = None) -> None:
    """Show a table and offer it as CSV (UTF-8 with BOM so Excel opens Chinese text correctly).

    ``formats`` maps a column to "percent" (a share shown as 12.3%), "money", "int" or "number" for display only;
    the CSV keeps the full values and every row, while the screen shows the first ``max_rows`` (callers sort).
    A caller that builds rows at a cost (e.g. a long action list) may pass only the head as ``frame``, with ``full``
    building all ``total`` rows for the download, on click.

    Both the screen and the CSV mask personal data for the signed-in user's role (:func:`protect`; ``personal``
    names translated headers of personal columns), and the CSV neutralises formula-like text (CSV injection).
    """
    config = {
        column: st.column_config.NumberColumn(format=_FORMATS[kind]) for column, kind in (formats or {}).items()
    }
    # "localized" shows up to three decimals: money to the cent and counts to units, for display only.
    digits = {column: _DIGITS[kind] for column, kind in (formats or {}).items() if kind in _DIGITS}
    shown = protect(frame.head(max_rows), personal)
    shown = shown.round(digits) if digits else shown
    st.dataframe(shown, width="stretch", hide_index=True, height=height or "auto", column_config=config)
    total = total if full is not None and total is not None else len(frame)
    lang = state.lang()
    if total > max_rows:
        st.caption(t("common.rows_shown", lang, shown=fmt_number(max_rows, lang), total=fmt_number(total, lang)))

    rows = full if full is not None else (lambda: frame)
    # A long table's CSV is built on click, not on every rerun.
    csv_download(rows if total > max_rows else rows(), t("common.download_csv", lang), f"{key}.csv",
                 f"download-{key}", personal)


def margin_note(url: str, version: str, start, end, store: str | None = None) -> None:
    """A caption when some of the period's profit rests on estimated margins (sales exported without one)."""
    coverage = common.load_margin_coverage(url, version, start, end, store)
    if not coverage.any_estimated:
        return
    lang = state.lang()
    rates = coverage.rates
    rate = fmt_percent(rates.default, lang)
    source = t("margins.note_rates" if rates.by_store or rates.by_category else "margins.note_rate", lang, rate=rate)
    if coverage.version is None:
        source += t("margins.note_default", lang)
    st.caption(t("margins.note", lang, share=fmt_percent(coverage.estimated_share, lang), source=source))


def require_period() -> tuple | None:
    """The sidebar period, or an explanation when there is no data yet (the page should then return)."""
    period = state.period()
    if period is None:
        st.info(t("setup.empty", state.lang()))
    return period


def save_form(prefix: str, url: str, kind: str, payloads: dict[str, dict], submit: str, saved: str = "pyramid.saved",
              title: str | None = None, choose: tuple[str, Callable[[str], str]] | None = None) -> None:
    """A form saving one of ``payloads`` as a new version of setting ``kind`` by the signed-in user, with a note.

    Widget keys are ``<prefix>_note`` (and ``<prefix>_save_which``, a radio labelled and formatted by ``choose``,
    when there are several payloads); the form is ``<prefix>_save``. The author is the signed-in user, never typed.
    A role that may not save sees why instead of the form (``vipmodel.settings`` refuses it anyway). After saving,
    the whole app reruns and :func:`flash` shows the ``saved`` message with the version.
    """
    lang = state.lang()
    actor = access.current_actor()
    if not access.may("save_setting"):
        st.caption(t("auth.read_only", lang, role=t(f"auth.role.{access.current_role()}", lang)))
        return
    with st.form(f"{prefix}_save", clear_on_submit=False):
        if title:
            st.markdown(f"**{title}**")
        which = next(iter(payloads))
        if choose is not None:
            which = st.radio(choose[0], list(payloads), format_func=choose[1], horizontal=True,
                             key=f"{prefix}_save_which")
        note = st.text_input(t("pyramid.note", lang), key=f"{prefix}_note", max_chars=500)
        st.caption(t("auth.saved_by", lang, name=actor.username))
        if not st.form_submit_button(submit):
            return
        try:
            version = common.save_setting(url, kind, payloads[which], actor, note.strip()).version
        except PermissionDenied:
            st.error(t("auth.not_allowed", lang, role=t(f"auth.role.{actor.role}", lang)))
            return
        except ValueError as exc:
            concurrent = "saved concurrently" in str(exc)
            st.error(t("auth.concurrent", lang) if concurrent else t("pyramid.invalid_rules", lang, reason=str(exc)))
            return
        st.session_state[f"{prefix}_flash"] = t(saved, lang, version=version)
        st.rerun(scope="app")


def flash(prefix: str) -> None:
    """The success message :func:`save_form` left for this run, once."""
    if message := st.session_state.pop(f"{prefix}_flash", None):
        st.success(message)


def setting_history(url: str, kind: str, key: str, title: str, empty: str | None = None) -> None:
    """The saved versions of setting ``kind`` as a table; without versions, the ``empty`` caption (or nothing)."""
    history = common.load_setting_history(url, kind)
    if history.empty and empty is None:
        return
    st.subheader(title)
    if history.empty:
        st.caption(empty)
    else:
        table(history.assign(payload=history["payload"].astype(str)), key)


PRESENTATION_CSS = """
<style>
  [data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stToolbar"] {display: none;}
  [data-testid="stMainBlockContainer"] {max-width: 100%; padding-top: 1rem;}
  html, [data-testid="stMarkdownContainer"] p {font-size: 1.25rem;}
  [data-testid="stMetricValue"] {font-size: 3rem;}
  /* No controls on the projector: every input of the main area is hidden, except the ones a page keeps inside
     st.container(key=PRESENTATION_KEEP) (e.g. the migration page's period pickers) and the way back. */
  [data-testid="stMain"] :is([data-testid="stSlider"], [data-testid="stSelectbox"], [data-testid="stMultiSelect"],
    [data-testid="stNumberInput"], [data-testid="stRadio"], [data-testid="stCheckbox"], [data-testid="stDateInput"],
    [data-testid="stTextInput"], [data-testid="stTextArea"], [data-testid="stButton"],
    [data-testid="stDownloadButton"], [data-testid="stForm"], [data-testid="stFileUploader"],
    [data-testid="stButtonGroup"], [data-testid="stPopover"]):not(.st-key-presentation-keep *):not(
    .st-key-exit_presentation *) {display: none;}
</style>
"""
# The key of the container whose controls presentation mode still shows (see PRESENTATION_CSS).
PRESENTATION_KEEP = "presentation-keep"


def presentation_frame() -> None:
    """In presentation mode: hide the sidebar and toolbar, enlarge text, and offer a way back."""
    if not state.presentation():
        return
    st.markdown(PRESENTATION_CSS, unsafe_allow_html=True)
    # A callback: the sidebar toggle owning this key was already drawn in this run, so only a callback may change it.
    st.button(
        t("sidebar.exit_presentation", state.lang()),
        key="exit_presentation",
        on_click=lambda: st.session_state.update({state.PRESENT: False}),
    )
