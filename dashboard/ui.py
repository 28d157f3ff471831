"""Small rendering helpers shared by the pages: charts with PNG export, tables with CSV download, empty states."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboard import state
from dashboard.i18n import t


def chart(fig: go.Figure, key: str) -> None:
    """Render a figure exactly as built (no Streamlit theme) with a PNG download in its toolbar."""
    if state.presentation():
        fig.update_layout(font_size=20, title_font_size=26, height=int((fig.layout.height or 450) * 1.25))
    config = {
        "displaylogo": False,
        "toImageButtonOptions": {"format": "png", "filename": key, "scale": 2},
    }
    st.plotly_chart(fig, theme=None, width="stretch", config=config, key=key)


_FORMATS = {"percent": "percent", "money": "localized", "int": "localized", "number": "%.2f"}


def table(frame: pd.DataFrame, key: str, height: int | None = None, formats: dict[str, str] | None = None) -> None:
    """Show a table and offer it as CSV (UTF-8 with BOM so Excel opens Chinese text correctly).

    ``formats`` maps a column to "percent" (a share shown as 12.3%), "money", "int" or "number" for display only;
    the CSV keeps the full values.
    """
    config = {
        column: st.column_config.NumberColumn(format=_FORMATS[kind]) for column, kind in (formats or {}).items()
    }
    st.dataframe(frame, width="stretch", hide_index=True, height=height or "auto", column_config=config)
    st.download_button(
        t("common.download_csv", state.lang()),
        frame.to_csv(index=False).encode("utf-8-sig"),
        file_name=f"{key}.csv",
        mime="text/csv",
        key=f"download-{key}",
    )


def require_period() -> tuple | None:
    """The sidebar period, or an explanation when there is no data yet (the page should then return)."""
    period = state.period()
    if period is None:
        st.info(t("setup.empty", state.lang()))
    return period


PRESENTATION_CSS = """
<style>
  [data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stToolbar"] {display: none;}
  [data-testid="stMainBlockContainer"] {max-width: 100%; padding-top: 1rem;}
  html, [data-testid="stMarkdownContainer"] p {font-size: 1.25rem;}
  [data-testid="stMetricValue"] {font-size: 3rem;}
</style>
"""


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
