"""The signed-in user of this browser session and their role (sign-in itself is added separately)."""

from __future__ import annotations

import streamlit as st

from vipmodel.auth import Actor

ACTOR_KEY = "vipdash_actor"


def current_actor() -> Actor | None:
    """The user this session acts as (set in ``st.session_state[ACTOR_KEY]``); until sign-in lands, the demo admin."""
    actor = st.session_state.get(ACTOR_KEY)
    return actor if isinstance(actor, Actor) else Actor("demo", "admin")


def current_role() -> str:
    """The role of the signed-in user; ``"viewer"`` (the least) when nobody is signed in."""
    actor = current_actor()
    return actor.role if actor is not None else "viewer"
