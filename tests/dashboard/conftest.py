"""AppTest fixtures: the app on the session's demo mall, with Streamlit's process-global caches cleared."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import pytest
import streamlit as st
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

from dashboard import access
from tests.conftest import copy_database
from vipmodel import db
from vipmodel.auth import SYSTEM, Actor
from vipmodel.users import add_user

APP = str(Path(__file__).resolve().parent.parent.parent / "dashboard" / "app.py")

# The app starts a background precompute of every page on a new data version; page tests run pages themselves
# (tests/dashboard/test_precompute.py turns it on where it is the subject).
os.environ.setdefault("VIPDASH_PRECOMPUTE", "0")
# Nor the weekly pack's refresh in a process of its own (tests/dashboard/test_refresh_job.py turns it on).
os.environ.setdefault("VIPDASH_REFRESH", "0")
# Page tests compute every result themselves, never reading one a test stored in the shared demo mall
# (tests/dashboard/test_precompute.py turns the database's stored results on, on a private copy).
os.environ.setdefault("VIPDASH_STORED_VIEWS", "0")


@pytest.fixture(autouse=True)
def _fresh_caches():
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


def app_as(role: str | None = "admin", username: str = "tester", timeout: float = 90) -> AppTest:
    """The app (not yet run) with ``username`` signed in as ``role`` (None: nobody signed in).

    A database named by the environment is never in demo mode, so every page test signs in, as a real session
    would after the sign-in form (which tests/dashboard/test_access.py drives itself).
    """
    at = AppTest.from_file(APP, default_timeout=timeout)
    if role is not None:
        at.session_state[access.ACTOR_KEY] = Actor(username, role)
        at.session_state[access.SIGNED_IN_AT] = dt.datetime.now()
    return at


@pytest.fixture
def demo_app(demo_sqlite_url, monkeypatch) -> AppTest:
    """The app (not yet run) on the demo mall, an administrator signed in."""
    monkeypatch.setenv(db.ENV_URL, demo_sqlite_url)
    return app_as("admin")


@pytest.fixture
def fresh_demo_app(tmp_path, demo_sqlite_url, monkeypatch) -> AppTest:
    """The app on a private copy of the demo mall, for tests that write (saving settings)."""
    monkeypatch.setenv(db.ENV_URL, copy_database(demo_sqlite_url, tmp_path, "demo.db"))
    return app_as("admin")


def open_page(at: AppTest, page: str) -> AppTest:
    """Run the app, then switch to ``pages/<page>.py``."""
    at.run()
    return at.switch_page(f"../pages/{page}.py").run()


def chart_spec(at: AppTest, index: int) -> dict[str, Any]:
    """The Plotly figure of the page's ``index``-th chart, parsed (its JSON's formatting depends on the serialiser)."""
    return json.loads(at.get("plotly_chart")[index].proto.spec)


@pytest.fixture
def downloads(monkeypatch) -> dict[str, bytes]:
    """Bytes handed to download buttons in this test, by file name (AppTest does not expose them otherwise)."""
    captured: dict[str, bytes] = {}
    original = MediaFileManager.add

    def add(self, path_or_data, mimetype, coordinates, file_name=None, is_for_static_download=False):
        if file_name is not None and isinstance(path_or_data, bytes):
            captured[file_name] = path_or_data
        return original(self, path_or_data, mimetype, coordinates, file_name, is_for_static_download)

    monkeypatch.setattr(MediaFileManager, "add", add)
    return captured


PASSWORD = "a long enough password"  # of every user of the ``mall`` fixture


@pytest.fixture
def mall(tmp_path, demo_sqlite_url, monkeypatch) -> str:
    """A private copy of the demo mall named by the environment (so never in demo mode), with three users."""
    url = copy_database(demo_sqlite_url, tmp_path)
    engine = db.make_engine(url)
    db.create_schema(engine)
    for name, role in (("ceo", "viewer"), ("wang.fang", "marketing"), ("root", "admin")):
        add_user(engine, SYSTEM, name, role, PASSWORD)
    engine.dispose()
    monkeypatch.setenv(db.ENV_URL, url)
    return url
