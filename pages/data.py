"""Data: import exports with a row-level error report, see how fresh the data is, regenerate the demo mall."""

from __future__ import annotations

import tempfile
from pathlib import Path

import streamlit as st

from dashboard import access, importing, margins_panel, state, ui
from dashboard.data import common
from dashboard.i18n import fmt_date, fmt_number, t
from vipmodel.columns import markdown_tables
from vipmodel.importer import KINDS, import_file


def _section_freshness(url: str, version: str, lang: str) -> None:
    fresh = common.load_freshness(url, version)
    latest = fresh["latest_transaction"]
    cols = st.columns(3)
    cols[0].metric(t("data.members", lang), fmt_number(fresh["members"], lang))
    cols[1].metric(t("data.latest", lang), fmt_date(latest.date() if latest else None, lang))
    cols[2].metric(t("data.version", lang), str(version))
    if fresh["last_imports"]:
        st.caption(" · ".join(f"{t(f'data.kind.{k}', lang)}: {v:%Y-%m-%d %H:%M}" for k, v in fresh["last_imports"].items()))


def _run_import(url: str, upload, kind: str, options: tuple[bool, bool, bool], columns: str,
                mapping: dict[str, str] | None, lang: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / Path(upload.name).name
        path.write_bytes(upload.getvalue())
        bar = st.progress(0.0, text=t("data.importing", lang, name=upload.name))

        def progress(done: int, total: int | None) -> None:
            fraction = min(done / total, 1.0) if total else 0.0
            bar.progress(fraction, text=t("data.rows_done", lang, n=fmt_number(done, lang)))

        report = import_file(
            path, kind, common.get_engine(url), partial=options[0], create_members=options[1], update=options[2],
            columns=[c.strip() for c in columns.split(",")] if columns.strip() else None,
            progress=progress, display_name=upload.name, mapping=mapping, actor=access.current_actor(),
        )
        bar.empty()
        rejects = report.rejects_path.read_bytes() if report.rejects_path and report.rejects_path.exists() else None
    if report.ok:
        st.success(t("data.import_ok", lang, written=fmt_number(report.rows_written, lang),
                     present=fmt_number(report.rows_already_present, lang)))
    elif report.written:
        st.warning(t("data.import_partial", lang, written=fmt_number(report.rows_written, lang),
                     rejected=fmt_number(len(report.errors), lang)))
    else:
        st.error(t("data.import_rejected", lang, name=upload.name, n=fmt_number(len(report.errors), lang)))
    if report.rows_updated:  # members restated by the file, with what changed (personal fields named only)
        st.caption(t("data.updated", lang, n=fmt_number(report.rows_updated, lang)) + " " + "; ".join(report.changes))
    for warning in report.warnings:
        st.caption(warning)
    if report.errors:
        ui.table(report.errors_frame(), f"import-errors-{kind}", height=300)
    if rejects:
        st.download_button(t("data.download_rejects", lang), rejects, file_name=f"{Path(upload.name).stem}.rejects.csv",
                           mime="text/csv", key="download-rejects")


def _section_import(url: str, lang: str) -> None:
    st.subheader(t("data.import_title", lang))
    kind = st.selectbox(t("data.kind", lang), KINDS, format_func=lambda k: t(f"data.kind.{k}", lang), key="data_kind")
    upload = st.file_uploader(t("data.file", lang), type=["csv", "txt", "tsv", "xlsx"], key="data_file")
    partial = st.checkbox(t("data.partial", lang), key="data_partial")
    create_members = kind == "transactions" and st.checkbox(t("data.create_members", lang), key="data_create")
    update = kind == "members" and st.checkbox(t("data.update", lang), key="data_update")
    with st.expander(t("data.advanced", lang)):
        columns = st.text_input(t("data.columns", lang), key="data_columns")
        st.markdown(markdown_tables([kind]))
    mapping, ready = None, upload is not None
    if upload is not None:
        if columns.strip():
            st.caption(t("data.map.headerless", lang))
        else:
            mapping, ready = _mapping_step(url, upload, kind, lang)
    if st.button(t("data.import", lang), type="primary", disabled=not ready, key="data_import"):
        _run_import(url, upload, kind, (partial, create_members, update), columns, mapping, lang)


def _mapping_step(url: str, upload, kind: str, lang: str) -> tuple[dict[str, str] | None, bool]:
    """The file's first rows and a role per column; returns the importer's mapping and whether it can import."""
    st.markdown(f"**{t('data.map.title', lang)}**")
    preview = importing.cached_preview(upload, kind)
    if not preview.ok:
        problem = preview.errors[0]
        st.error(t("data.map.file_problem", lang, reason=f"{problem.reason} ({problem.value})" if problem.value
                   else problem.reason))
        return None, False
    st.caption(t("data.map.intro", lang, name=upload.name))
    st.dataframe(preview.rows, hide_index=True)
    saved = importing.load_saved_mapping(url, kind, preview.headers)
    defaults = importing.effective_roles(kind, preview.headers, saved)
    if saved:
        st.caption(t("data.map.saved", lang))
    importing.reset_roles_on_new_layout((getattr(upload, "file_id", upload.name), kind, tuple(defaults)))
    options = importing.role_options(kind)
    roles = list(defaults)
    grid = st.columns(min(max(len(preview.headers), 1), 4))
    for pos, header in enumerate(preview.headers):
        if header.strip():
            roles[pos] = grid[pos % len(grid)].selectbox(
                t("data.map.role_of", lang, header=header), options, index=options.index(defaults[pos]),
                format_func=lambda r: importing.role_label(kind, r, lang), key=f"{importing.ROLE_KEY}{pos}",
            )
    pairs = zip(preview.headers, preview.matches, roles)
    unknown = [h for h, auto, r in pairs if h.strip() and not auto and r == importing.IGNORE]
    if unknown:
        st.caption(t("data.map.unknown_surveys" if kind == "surveys" else "data.map.unknown", lang,
                     columns=", ".join(unknown)))
    missing, duplicates = importing.check_roles(kind, preview.headers, roles)
    for role, headers in duplicates.items():
        label = importing.role_label(kind, role, lang)
        st.warning(t("data.map.duplicate", lang, role=label, columns=", ".join(headers)))
    if missing:
        st.warning(t("data.map.missing", lang, columns=", ".join(importing.role_label(kind, m, lang) for m in missing)))
        if preview.looks_like:
            st.info(t("data.map.looks_like", lang, kind=t(f"data.kind.{preview.looks_like}", lang)))
    return importing.mapping_from_roles(preview, roles), not missing and not duplicates


def _section_demo(url: str, lang: str) -> None:
    st.subheader(t("data.demo_title", lang))
    if not common.is_default_database(url):
        st.caption(t("data.demo_not_default", lang))
        return
    members = st.number_input(t("data.demo_members", lang), 300, 200_000, common.DEMO_MEMBERS, 1000, key="data_demo_n")
    confirm = st.checkbox(t("data.demo_confirm", lang), key="data_demo_confirm")
    if st.button(t("data.demo_button", lang), disabled=not confirm, key="data_demo_go"):
        bar = st.progress(0.0, text=t("data.demo_running", lang))
        common.regenerate_demo(url, int(members), access.current_actor(),
                               lambda f, m: bar.progress(min(max(f, 0.0), 1.0), text=m))
        bar.empty()
        st.success(t("data.demo_done", lang))


def main() -> None:
    lang = state.lang()
    st.title(t("page.data", lang))
    url = common.database_url()
    version = common.current_version(url)
    _section_freshness(url, version, lang)
    if access.may("import"):  # administrators; vipmodel refuses anyone else too
        _section_import(url, lang)
    margins_panel.render(url, version, state.period(), lang)
    if access.may("regenerate_demo"):
        _section_demo(url, lang)


main()
