"""AppTest fixtures: the app on the session's demo mall, with Streamlit's process-global caches cleared."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from vipmodel import db

APP = str(Path(__file__).resolve().parent.parent.parent / "dashboard" / "app.py")

# The app starts a background precompute of every page on a new data version; page tests run pages themselves
# (tests/dashboard/test_precompute.py turns it on where it is the subject).
os.environ.setdefault("VIPDASH_PRECOMPUTE", "0")


@pytest.fixture(autouse=True)
def _fresh_caches():
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture
def demo_app(demo_sqlite_url, monkeypatch) -> AppTest:
    """The app (not yet run) on the demo mall."""
    monkeypatch.setenv(db.ENV_URL, demo_sqlite_url)
    return AppTest.from_file(APP, default_timeout=90)


@pytest.fixture
def fresh_demo_app(tmp_path, demo_sqlite_url, monkeypatch) -> AppTest:
    """The app on a private copy of the demo mall, for tests that write (saving settings)."""
    import shutil

    source = demo_sqlite_url.removeprefix("sqlite:///")
    copy = tmp_path / "demo.db"
    shutil.copy(source, copy)
    monkeypatch.setenv(db.ENV_URL, f"sqlite:///{copy}")
    return AppTest.from_file(APP, default_timeout=90)


def open_page(at: AppTest, page: str) -> AppTest:
    """Run the app, then switch to ``pages/<page>.py``."""
    at.run()
    return at.switch_page(f"../pages/{page}.py").run()


def chart_spec(at: AppTest, index: int) -> dict[str, Any]:
    """The Plotly figure of the page's ``index``-th chart, parsed (its JSON's formatting depends on the serialiser)."""
    return json.loads(at.get("plotly_chart")[index].proto.spec)
