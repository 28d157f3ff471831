"""The Administration page's "Results in the database": the latest refresh runs and the stored page results."""

from __future__ import annotations

import streamlit as st

from dashboard import admin, ui
from dashboard.i18n import fmt_number, t


def section(url: str, lang: str) -> None:
    """What the refresh and the precompute stored, for an operator (no SQL client needed)."""
    st.subheader(t("admin.results_title", lang))
    st.caption(t("admin.results_caption", lang))
    _runs(url, lang)
    _stored(url, lang)


def _runs(url: str, lang: str) -> None:
    st.markdown(f"**{t('admin.runs_title', lang)}**")
    runs = admin.load_refresh_runs(url)
    if runs.empty:
        st.info(t("admin.no_runs", lang))
        return
    shown = runs.assign(status=runs["status"].map(lambda s: t(f"admin.run_status.{s}", lang)),
                        seconds=runs["seconds"].round(1))
    ui.table(shown.rename(columns={c: t(f"admin.run.{c}", lang) for c in shown.columns}), "refresh-runs",
             formats={t("admin.run.members", lang): "int"})


def _stored(url: str, lang: str) -> None:
    st.markdown(f"**{t('admin.stored_title', lang)}**")
    totals, by_name = admin.load_stored_views(url)
    if not totals["rows"]:
        st.info(t("admin.no_stored", lang))
        return
    rows, size, current = st.columns(3)
    rows.metric(t("admin.stored.rows", lang), fmt_number(totals["rows"], lang))
    size.metric(t("admin.stored.mb", lang), fmt_number(totals["mb"], lang, decimals=2))
    current.metric(t("admin.stored.current", lang), fmt_number(totals["current"], lang))
    shown = by_name.assign(mb=by_name["mb"].round(2))
    ui.table(shown.rename(columns={c: t(f"admin.stored.{c}", lang) for c in shown.columns}), "stored-views",
             formats={t("admin.stored.count", lang): "int"})
