"""The server's start-up work (dashboard/startup.py), which dashboard/server.py runs before any visitor."""

from __future__ import annotations

import sys

import pytest

from dashboard import precompute, startup
from dashboard.data import common, stored
from vipmodel import db


def test_the_start_imports_every_module_the_pages_need_but_not_the_command_line():
    sys.modules.pop("vipmodel.__main__", None)
    assert startup.import_page_modules() == []
    assert {"vipmodel.clv", "vipmodel.complaints", "dashboard.figures.pyramid", "scipy.stats"} <= set(sys.modules)
    assert "vipmodel.__main__" not in sys.modules  # importing it would run the command line


def test_the_start_begins_the_precompute_of_the_configured_database(demo_sqlite_url, monkeypatch, tmp_path):
    monkeypatch.setenv(precompute.ENV_SWITCH, "1")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv(db.ENV_URL, demo_sqlite_url)
    startup.prepare()
    version = common.current_version(demo_sqlite_url)
    job = precompute._jobs().get(precompute._key(demo_sqlite_url, version))
    assert job is not None and job.name == "vipdash-precompute"
    stored.computed.clear()
    job.join(timeout=600)
    assert stored.computed["dashboard.data.value.load_member_values"] == 1  # (stored results off: computed here)


@pytest.mark.parametrize("case", ["empty", "unreachable"])
def test_the_start_leaves_a_database_without_data_to_the_first_visitor(case, monkeypatch, tmp_path):
    # An empty database is filled (demo) or explained by the first page run; an unreachable one is reported there.
    url = f"sqlite:///{tmp_path / 'empty.db'}" if case == "empty" else "postgresql+psycopg://nobody@127.0.0.1:1/none"
    monkeypatch.setenv(precompute.ENV_SWITCH, "1")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv(db.ENV_URL, url)
    startup.prepare()  # no exception: the server keeps starting
    assert not any(key[0] == url for key in precompute._jobs())
