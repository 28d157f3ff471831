"""The maintenance plan table (客户营销维护计划表) of the Value page: names as the role may see them, CSV and Excel."""

from __future__ import annotations

import datetime as dt
from functools import partial

import pandas as pd
import streamlit as st

from dashboard import ui
from dashboard.data import value as value_data
from dashboard.access import current_role
from dashboard.i18n import fmt_percent, t
from vipmodel import privacy
from vipmodel.retention import DEFAULT_SAVE_RATES, PLAN_HEADERS, maintenance_plan

MONEY = ("value_at_risk", "action_cost", "expected_benefit")


def plan_table(shown: pd.DataFrame, as_of: dt.date, lang: str) -> None:
    """The plan of the flagged members ``shown``, with a names switch for the roles that may see names."""
    role = current_role()
    may_see_names = privacy.sees(role, "name")
    show_personal = st.toggle(t("value.show_personal", lang), value=False, key="val_show_personal",
                              disabled=not may_see_names,
                              help=None if may_see_names else t("privacy.names_hidden", lang))
    # Names as the role may see them, and then only when asked (a shared screen): masked before the plan is built,
    # so the table, its CSV and the workbook hold the same names. A viewer's switch reveals nothing, even if a
    # client sends it switched on.
    shown_as = role if show_personal else "viewer"
    personal = {PLAN_HEADERS[lang]["name"]: "name"}

    def plan(rows: pd.DataFrame) -> pd.DataFrame:
        return maintenance_plan(privacy.mask_personal(rows, shown_as), lang, show_personal=True)

    full = partial(plan, shown)  # every row: for the downloads, built on click
    ui.table(plan(shown.head(ui.MAX_TABLE_ROWS)), "maintenance-plan", height=420,
             formats={PLAN_HEADERS[lang][c]: "money" for c in MONEY}, full=full, total=len(shown), personal=personal)

    # A long plan's workbook takes seconds to write: then only when the button is clicked, not on every rerun.
    def workbook() -> bytes:
        return value_data.maintenance_plan_xlsx(ui.protect(full(), personal), t("value.plan_sheet", lang))

    st.download_button(t("value.download_xlsx", lang), workbook if len(shown) > ui.MAX_TABLE_ROWS else workbook(),
                       file_name=f"maintenance-plan-{as_of.isoformat()}.xlsx", key="val_download_xlsx",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    st.caption(t("value.plan_caption", lang, **{k: fmt_percent(v, lang, 0) for k, v in DEFAULT_SAVE_RATES.items()}))
