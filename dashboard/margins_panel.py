"""The Data page's margin-rate editor: the mall's rate, rates per store and category, saved as a new version."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import ui
from dashboard.data import common
from dashboard.i18n import fmt_percent, t
from vipmodel.margins import KIND, MarginRates


def _rates_editor(label: str, rates: dict[str, float], key: str, lang: str) -> dict[str, float]:
    """An editable two-column table of names and rates in percent; blank rows are dropped."""
    frame = pd.DataFrame({"name": list(rates), "rate": [round(r * 100, 2) for r in rates.values()]})
    frame = frame.astype({"name": "object", "rate": "float64"})
    st.markdown(f"**{label}**")
    edited = st.data_editor(
        frame, num_rows="dynamic", hide_index=True, width="stretch", key=key,
        column_config={
            "name": st.column_config.TextColumn(t("margins.name", lang), max_chars=64),
            "rate": st.column_config.NumberColumn(t("margins.rate", lang), min_value=0.0, max_value=99.99,
                                                  step=0.5, format="%.2f"),
        },
    )
    rows = edited.dropna(subset=["name", "rate"])
    return {str(n).strip(): float(r) / 100 for n, r in zip(rows["name"], rows["rate"]) if str(n).strip()}


def render(url: str, version: str, period: tuple | None, lang: str) -> None:
    """Show the rates in force, how much of the period's sales they serve, and a form to save new ones."""
    st.subheader(t("margins.title", lang))
    st.caption(t("margins.intro", lang))
    ui.flash("mrg")
    history = common.load_setting_history(url, KIND)
    current = MarginRates.from_payload(history.iloc[-1]["payload"]) if not history.empty else MarginRates()
    source = (t("margins.version_source", lang, version=int(history.iloc[-1]["version"])) if not history.empty
              else t("margins.default_source", lang, rate=fmt_percent(current.default, lang)))
    st.caption(t("margins.in_force", lang, source=source))
    if period is not None:
        coverage = common.load_margin_coverage(url, version, *period)
        st.caption(t("margins.coverage", lang, share=fmt_percent(coverage.estimated_share, lang)))
    rate = st.number_input(t("margins.default_rate", lang), min_value=0.0, max_value=99.99,
                           value=round(current.default * 100, 2), step=0.5, format="%.2f", key="mrg_default")
    left, right = st.columns(2)
    with left:
        by_store = _rates_editor(t("margins.by_store", lang), dict(current.by_store), "mrg_by_store", lang)
    with right:
        by_category = _rates_editor(t("margins.by_category", lang), dict(current.by_category), "mrg_by_category",
                                    lang)
    try:
        proposed = MarginRates(rate / 100, by_store, by_category)
    except ValueError as exc:
        st.error(t("margins.invalid", lang, reason=str(exc)))
        return
    ui.save_form("mrg", url, KIND, {"rates": proposed.to_payload()}, t("margins.save", lang), saved="margins.saved")
    ui.setting_history(url, KIND, "margin-rates-history", t("margins.history", lang))

