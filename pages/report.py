"""Weekly report: the meeting pack of one week (deck, interactive HTML, PDF, Excel lists) for any signed-in role."""

from __future__ import annotations

import streamlit as st

from dashboard import access, filters, report_data, state
from dashboard.data import common
from dashboard.i18n import LANGUAGES, t
from vipmodel.weekly import NoDataForWeek

MIMES = {
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "html": "text/html",
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
RESULT = "report_result"  # the last pack built in this session: (week, lang, role, files, skipped, seconds)


def _build(url: str, version: str, week: str, lang: str, role: str) -> None:
    bar = st.progress(0.0, text=t("report.step.summary", lang))

    def progress(fraction: float, step: str) -> None:
        bar.progress(min(max(fraction, 0.0), 1.0), text=t(f"report.step.{step}", lang))

    try:
        result = report_data.build_pack(url, version, week, lang, role, progress)
    except NoDataForWeek as exc:
        bar.empty()
        st.warning(t("report.no_data", lang, reason=str(exc)))
        return
    except Exception as exc:  # noqa: BLE001 - a visitor sees the reason, never a traceback
        bar.empty()
        st.error(t("report.failed", lang, reason=str(exc).splitlines()[0] if str(exc) else type(exc).__name__))
        return
    bar.empty()
    st.session_state[RESULT] = (week, lang, role, result.files, result.skipped, result.seconds)


def _downloads(week: str, lang: str, role: str, page_lang: str) -> None:
    stored = st.session_state.get(RESULT)
    if not stored or stored[:3] != (week, lang, role):
        return
    _, _, _, files, skipped, seconds = stored
    st.success(t("report.ready", page_lang, week=week, seconds=f"{seconds:.0f}"))
    if skipped:
        st.warning(t("report.no_images", page_lang, reason=next(iter(skipped.values()))))
    columns = st.columns(len(MIMES))
    for column, fmt in zip(columns, MIMES):
        name = next((n for n in files if n.endswith(f".{fmt}")), None)
        if name is not None:
            column.download_button(t(f"report.download.{fmt}", page_lang), files[name], file_name=name,
                                   mime=MIMES[fmt], key=f"report_download_{fmt}")
    st.caption(t("report.masked_for", page_lang, role=t(f"auth.role.{role}", page_lang)))


def main() -> None:
    lang = state.lang()
    st.title(t("page.report", lang))
    if (ctx := filters.page_context()) is None:
        return
    filters.scope(ctx, "report.scope_reason")
    url, version = ctx.url, ctx.version
    weeks = report_data.load_weeks(url, version)
    if not weeks:
        st.info(t("report.no_weeks", lang))
        return
    default = report_data.default_week(weeks, common.load_latest_date(url, version))
    newest_first = list(reversed(weeks))
    left, right = st.columns(2)
    week = left.selectbox(t("report.week", lang), newest_first, index=newest_first.index(default), key="report_week")
    pack_lang = right.radio(t("report.language", lang), list(LANGUAGES), index=list(LANGUAGES).index(lang),
                            format_func=LANGUAGES.get, horizontal=True, key="report_lang")
    st.caption(t("report.intro", lang, week=week, code=pack_lang))
    role = access.current_role()  # personal data in the workbook as this reader may see them
    if st.button(t("report.build", lang), key="report_build", type="primary"):
        _build(url, version, week, pack_lang, role)
    _downloads(week, pack_lang, role, lang)


main()
