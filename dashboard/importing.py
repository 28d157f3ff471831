"""The Data page's mapping step: preview an uploaded file, preselect each column's role, check the choice.

The roles are the import kind's canonical columns (``vipmodel.columns``) plus ``"_"`` (ignore). A column's role is
preselected from the mapping remembered for the file's header layout (``vipmodel.importer.saved_mapping``), else
from the automatic header match. Only choices that differ from the automatic match are passed to the importer as
its ``mapping``, so an import that changes nothing remembers nothing.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from dashboard.data import common
from dashboard.i18n import t
from vipmodel import columns as colmap
from vipmodel.importer import FilePreview, preview_file, saved_mapping

IGNORE = colmap.IGNORE
ROLE_KEY = "data_map_col_"  # widget keys of the role selectboxes: data_map_col_<position>
_PREVIEW_STATE = "data_map_preview"
_LAYOUT_STATE = "data_map_layout"


def preview_upload(name: str, content: bytes, kind: str) -> FilePreview:
    """:func:`vipmodel.importer.preview_file` of uploaded bytes (written to a temporary file under ``name``)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / (Path(name).name or "upload")
        path.write_bytes(content)
        return preview_file(path, kind)


def cached_preview(upload, kind: str) -> FilePreview:
    """The preview of an ``st.file_uploader`` upload, read once per uploaded file and kind (kept in the session)."""
    key = (getattr(upload, "file_id", None) or upload.name, upload.size, kind)
    kept = st.session_state.get(_PREVIEW_STATE)
    if kept is None or kept[0] != key:
        kept = (key, preview_upload(upload.name, upload.getvalue(), kind))
        st.session_state[_PREVIEW_STATE] = kept
    return kept[1]


def load_saved_mapping(url: str, kind: str, headers: tuple[str, ...]) -> dict[str, str] | None:
    """The mapping remembered for this layout, or None (also when the database cannot say)."""
    if not headers:
        return None
    try:
        with common.get_engine(url).connect() as conn:
            return saved_mapping(conn, kind, headers)
    except SQLAlchemyError:
        return None


def role_options(kind: str) -> list[str]:
    """The roles a column of a ``kind`` file can take: the canonical columns, then ``"_"`` (ignore)."""
    return [s.name for s in colmap.specs(kind)] + [IGNORE]


def role_label(kind: str, role: str, lang: str) -> str:
    """``Amount · amount (required)``: the translated name, the canonical name, and whether it is required."""
    if role == IGNORE:
        return t("data.map.ignore_or_item" if kind == "surveys" else "data.map.ignore", lang)
    key = f"data.map.role.{role}"
    name = t(key, lang)
    label = role if name == key else f"{name} · {role}"
    if role in colmap.required_columns(kind):
        label = t("data.map.required", lang, name=label)
    return label


def effective_roles(kind: str, headers: tuple[str, ...], mapping: dict[str, str] | None) -> list[str]:
    """Per header, the role the importer would give it under ``mapping`` (an unusable mapping is left out)."""
    match = colmap.match_header(kind, headers, mapping)
    if match.problems:
        match = colmap.match_header(kind, headers)
    roles = [IGNORE] * len(headers)
    for name, pos in match.columns.items():
        roles[pos] = name
    return roles


def reset_roles_on_new_layout(token: tuple) -> None:
    """Forget the role choices of an earlier file or kind, so the next selectboxes start from their preselection."""
    if st.session_state.get(_LAYOUT_STATE) == token:
        return
    for key in [k for k in st.session_state if isinstance(k, str) and k.startswith(ROLE_KEY)]:
        del st.session_state[key]
    st.session_state[_LAYOUT_STATE] = token


def check_roles(kind: str, headers: tuple[str, ...], roles: list[str]) -> tuple[tuple[str, ...], dict[str, list[str]]]:
    """``(required roles no column has, role -> headers when chosen for more than one column)``."""
    chosen: dict[str, list[str]] = {}
    for header, role in zip(headers, roles):
        if role != IGNORE:
            chosen.setdefault(role, []).append(header)
    missing = tuple(name for name in colmap.required_columns(kind) if name not in chosen)
    duplicates = {role: hs for role, hs in chosen.items() if len(hs) > 1}
    return missing, duplicates


def mapping_from_roles(preview: FilePreview, roles: list[str]) -> dict[str, str] | None:
    """The importer's ``mapping``: the chosen roles that differ from the automatic match (None when none do)."""
    mapping = {
        header: role
        for header, auto, role in zip(preview.headers, preview.matches, roles)
        if header.strip() and role != (auto or IGNORE)
    }
    return mapping or None
