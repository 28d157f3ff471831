"""Administration: the audit trail (exportable), the results in the database, rolling a setting back to an earlier
version, and users."""

from __future__ import annotations

import streamlit as st

from dashboard import access, admin, admin_results, state, ui
from dashboard.data import common
from dashboard.i18n import t
from vipmodel.auth import ROLES, PermissionDenied
from vipmodel.schema import SETTING_KINDS


def _section_audit(url: str, actor, lang: str) -> None:
    st.subheader(t("admin.audit_title", lang))
    trail = admin.load_audit(url, actor)
    actions = st.multiselect(t("admin.actions", lang), sorted(trail["action"].unique()), key="adm_actions",
                             format_func=lambda a: t(f"admin.action.{a}", lang))
    shown = trail[trail["action"].isin(actions)] if actions else trail
    names = {c: t(f"admin.col.{c}", lang) for c in shown.columns}
    ui.table(shown.rename(columns=names), "audit-trail", height=360)


def _section_rollback(url: str, actor, lang: str) -> None:
    st.subheader(t("admin.rollback_title", lang))
    ui.flash("adm")
    kind = st.selectbox(t("admin.setting", lang), SETTING_KINDS, format_func=lambda k: t(f"admin.kind.{k}", lang),
                        key="adm_kind")
    history = common.load_setting_history(url, kind)
    if history.empty:
        st.caption(t("admin.no_versions", lang))
        return
    versions = history["version"].tolist()
    with st.form("adm_rollback"):
        version = st.selectbox(t("admin.version", lang), versions[:-1] or versions, key="adm_version")
        note = st.text_input(t("pyramid.note", lang), key="adm_note", max_chars=400)
        if st.form_submit_button(t("admin.rollback", lang)):
            try:
                saved = admin.rollback(url, kind, int(version), actor, note.strip())
            except (PermissionDenied, ValueError) as exc:
                st.error(str(exc))
                return
            st.session_state["adm_flash"] = t("admin.rolled_back", lang, version=version, new=saved.version)
            st.rerun(scope="app")


def _section_users(url: str, actor, lang: str) -> None:
    st.subheader(t("admin.users_title", lang))
    users = admin.load_users(url, actor)
    role_names = {r: t(f"auth.role.{r}", lang) for r in ROLES}
    shown = users.assign(role=users["role"].map(role_names).fillna(users["role"])) if "role" in users else users
    ui.table(shown.rename(columns={c: t(f"admin.user_col.{c}", lang) for c in users.columns}), "users")
    with st.form("adm_user", clear_on_submit=True):
        name = st.text_input(t("auth.username", lang), key="adm_user_name")
        role = st.selectbox(t("admin.role", lang), ROLES, format_func=lambda r: t(f"auth.role.{r}", lang),
                            key="adm_user_role")
        password = st.text_input(t("admin.new_password", lang), type="password", key="adm_user_password")
        disabled = st.checkbox(t("admin.disabled", lang), key="adm_user_disabled")
        if st.form_submit_button(t("admin.save_user", lang)):
            try:
                known = name.strip() in set(admin.load_users(url, actor)["username"])
                if known:
                    admin.change_user(url, actor, name.strip(), role, disabled)
                else:
                    admin.add_user(url, actor, name, role, password or None)
            except (PermissionDenied, ValueError) as exc:
                st.error(str(exc))
                return
            st.success(t("admin.user_saved", lang, name=name.strip()))
    st.caption(t("admin.users_cli", lang))


def main() -> None:
    lang = state.lang()
    st.title(t("page.admin", lang))
    actor = access.current_actor()
    if not access.may("view_audit"):
        st.info(t("auth.not_allowed", lang, role=t(f"auth.role.{access.current_role()}", lang)))
        return
    url = common.database_url()
    _section_audit(url, actor, lang)
    admin_results.section(url, lang)
    _section_rollback(url, actor, lang)
    _section_users(url, actor, lang)


main()
