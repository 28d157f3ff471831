"""Sign-in: who this browser session acts as, demo mode, session expiry, password and OIDC sign-in forms."""

from __future__ import annotations

import datetime as dt
import os

import streamlit as st

from dashboard import state
from dashboard.data import common
from dashboard.i18n import t
from vipmodel import audit, users
from vipmodel.auth import Actor, can

ACTOR_KEY = "vipdash_actor"
SIGNED_IN_AT = "vipdash_signed_in_at"
EXPIRED = "vipdash_session_expired"
# A signed-in session lasts this long (hours) before the user signs in again; VIPDASH_SESSION_HOURS overrides it.
SESSION_HOURS = float(os.environ.get("VIPDASH_SESSION_HOURS", "8"))
# Everyone is the demo's administrator on the embedded demo database: it holds no real member.
DEMO_ACTOR = Actor("demo", "admin")


def demo_mode(url: str) -> bool:
    """True on the embedded demo database only: never for a database named by the environment or secrets."""
    return common.is_default_database(url)


def sign_in(actor: Actor) -> None:
    """Make ``actor`` the user of this session, from now."""
    st.session_state[ACTOR_KEY] = actor
    st.session_state[SIGNED_IN_AT] = dt.datetime.now()
    st.session_state.pop(EXPIRED, None)


def current_actor() -> Actor | None:
    """The user this session acts as, or None (not signed in, or the session expired)."""
    actor = st.session_state.get(ACTOR_KEY)
    if not isinstance(actor, Actor):
        return None
    if actor == DEMO_ACTOR:
        return actor
    signed_in_at = st.session_state.get(SIGNED_IN_AT)
    expired = not isinstance(signed_in_at, dt.datetime) or dt.datetime.now() - signed_in_at > dt.timedelta(
        hours=SESSION_HOURS)
    if expired:
        st.session_state.pop(ACTOR_KEY, None)
        st.session_state[EXPIRED] = True
        return None
    return actor


def current_role() -> str:
    """The role of the signed-in user; ``"viewer"`` (the least) when nobody is signed in."""
    actor = current_actor()
    return actor.role if actor is not None else "viewer"


def may(action: str) -> bool:
    """True when the signed-in user may perform ``action`` (:data:`vipmodel.auth.PERMISSIONS`)."""
    return can(current_actor(), action)


def _oidc_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # noqa: BLE001 - no secrets file at all: no OIDC
        return False


def _oidc_sign_in(url: str, lang: str) -> None:
    """Streamlit's OIDC sign-in (``[auth]`` in secrets); the identity's e-mail must be a user the mall added."""
    if not st.user.is_logged_in:
        st.button(t("auth.oidc_button", lang), on_click=st.login, key="auth_oidc")
        return
    email = str(st.user.get("email") or "")
    actor = users.actor_for_identity(common.get_engine(url), email)
    if actor is None:
        st.error(t("auth.oidc_unknown", lang, email=email))
        st.button(t("auth.sign_out", lang), on_click=st.logout, key="auth_oidc_out")
        return
    with common.get_engine(url).begin() as conn:
        audit.record(conn, actor.username, "sign_in", actor.username, None, {"via": "oidc"})
    sign_in(actor)
    st.rerun()


def _password_sign_in(url: str, lang: str) -> None:
    engine = common.get_engine(url)
    if not users.has_users(engine):
        st.warning(t("auth.no_users", lang))
        return
    with st.form("auth_sign_in"):
        username = st.text_input(t("auth.username", lang), key="auth_username")
        password = st.text_input(t("auth.password", lang), type="password", key="auth_password")
        if not st.form_submit_button(t("auth.sign_in", lang)):
            return
    try:
        actor = users.authenticate(engine, username, password)
    except users.SignInError as exc:  # the words in the user's language, never whether the name exists
        locked = exc.locked_until
        st.error(t("auth.locked", lang, time=f"{locked:%H:%M}") if locked else t("auth.wrong", lang))
        return
    sign_in(actor)
    st.rerun()


def signed_in(url: str) -> Actor | None:
    """The user of this session (in demo mode, the demo's administrator), or None when someone must sign in."""
    if demo_mode(url):
        sign_in(DEMO_ACTOR)
        return DEMO_ACTOR
    return current_actor()


def sign_in_page(url: str) -> None:
    """The sign-in page (password, and the mall's OIDC provider when configured); the run stops here."""
    lang = state.lang()
    st.title(t("auth.title", lang))
    if st.session_state.get(EXPIRED):
        st.info(t("auth.expired", lang, hours=f"{SESSION_HOURS:g}"))
    if _oidc_configured():
        _oidc_sign_in(url, lang)
    _password_sign_in(url, lang)
    st.stop()


def sidebar(url: str, lang: str) -> None:
    """Who is signed in, with a sign-out button; in demo mode, a banner saying so."""
    actor = current_actor()
    if demo_mode(url):
        st.sidebar.warning(t("auth.demo_banner", lang))
        return
    if actor is None:
        return
    st.sidebar.caption(t("auth.signed_in_as", lang, name=actor.username, role=t(f"auth.role.{actor.role}", lang)))
    if st.sidebar.button(t("auth.sign_out", lang), key="auth_sign_out"):
        with common.get_engine(url).begin() as conn:
            audit.record(conn, actor.username, "sign_out", actor.username)
        for key in (ACTOR_KEY, SIGNED_IN_AT):
            st.session_state.pop(key, None)
        if _oidc_configured() and st.user.is_logged_in:
            st.logout()
        st.rerun()
