"""The app shell and the Overview page run on the demo mall, in both languages, without exceptions."""

from __future__ import annotations

import datetime as dt
from streamlit.testing.v1 import AppTest

from tests.dashboard.conftest import APP, app_as, chart_spec
from vipmodel import db


def _metric(at: AppTest, label: str):
    return next(m for m in at.metric if m.label == label)


def test_overview_runs_and_shows_every_kpi(demo_app):
    at = demo_app.run()
    assert not at.exception
    labels = [m.label for m in at.metric]
    assert "Active VIPs (12 months)" in labels and "Annual churn rate" in labels and len(labels) == 8
    assert any(c.value.startswith("vs. a year ago: ") for c in at.main.caption)
    assert int(_metric(at, "Active VIPs (12 months)").value.replace(",", "")) > 1000
    charts = at.get("plotly_chart")
    assert len(charts) == 4  # the pyramid in miniature and three weekly trends
    assert any(trace.get("fill") == "toself" for trace in chart_spec(at, 0)["data"])


def test_presentation_mode_comes_from_the_link_and_can_be_left(demo_app):
    demo_app.query_params["present"] = "1"
    at = demo_app.run()
    assert not at.exception
    assert at.toggle(key="present").value is True
    at.button(key="exit_presentation").click().run()
    assert at.toggle(key="present").value is False
    assert "present" not in at.query_params


def test_overview_speaks_chinese_when_the_language_is_switched(demo_app):
    at = demo_app.run()
    at.selectbox(key="lang").set_value("zh").run()
    assert not at.exception
    assert at.title[0].value == "总览"
    assert "年流失率" in [m.label for m in at.metric]


def test_language_and_period_come_from_the_link(demo_app):
    demo_app.query_params["lang"] = "zh"
    demo_app.query_params["to"] = "2025-12-31"
    at = demo_app.run()
    assert not at.exception
    assert at.title[0].value == "总览"
    assert at.date_input(key="period").value[1] == dt.date(2025, 12, 31)


def test_moving_the_period_end_changes_the_kpis(demo_app):
    at = demo_app.run()
    before = _metric(at, "Sales this week").value
    start, end = at.date_input(key="period").value
    at.date_input(key="period").set_value((start - dt.timedelta(days=180), end - dt.timedelta(days=180))).run()
    assert not at.exception
    assert _metric(at, "Sales this week").value != before


def test_an_empty_external_database_explains_how_to_load_data(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    db.create_schema(db.make_engine(url))
    monkeypatch.setenv(db.ENV_URL, url)
    at = app_as("admin", timeout=60).run()
    assert not at.exception
    assert any("python -m vipmodel import" in info.value for info in at.info)


def test_an_unreachable_database_is_a_clear_error_not_a_traceback(monkeypatch):
    monkeypatch.setenv(db.ENV_URL, "postgresql+psycopg://nobody@127.0.0.1:1/none")
    at = app_as("admin", timeout=60).run()
    assert not at.exception
    assert any("Cannot open the database" in err.value for err in at.error)


def test_first_start_fills_the_embedded_database_with_the_demo_mall(tmp_path, monkeypatch):
    import dashboard.data.common

    monkeypatch.delenv(db.ENV_URL, raising=False)
    monkeypatch.setattr(db, "DEFAULT_SQLITE_PATH", tmp_path / "demo.db")
    monkeypatch.setattr(dashboard.data.common, "DEMO_MEMBERS", 300)
    at = app_as("admin", timeout=120).run()
    assert not at.exception
    assert db.has_data(db.make_engine(f"sqlite:///{tmp_path / 'demo.db'}"))
    assert len(at.metric) == 8


def test_the_server_config_turns_off_the_full_collection_after_every_run():
    """The post-run gc.collect() held the GIL for most of a slider's latency at scale; the option must stay known."""
    import tomllib
    from pathlib import Path

    from streamlit import config

    settings = tomllib.loads((Path(APP).parent.parent / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert settings["runner"]["postScriptGC"] is False
    assert "runner.postScriptGC" in config.get_config_options()


def test_visitors_get_no_traceback_the_server_config_hides_error_details():
    """An unexpected error shows a generic message in the browser; the details only reach the server's log."""
    import tomllib
    from pathlib import Path

    from streamlit import config

    path = Path(__file__).resolve().parent.parent.parent / ".streamlit" / "config.toml"
    assert tomllib.loads(path.read_text(encoding="utf-8"))["client"]["showErrorDetails"] == "none"
    assert "client.showErrorDetails" in config.get_config_options()


def test_a_hostile_link_is_clamped_or_ignored_with_a_notice_never_a_traceback(demo_app):
    for name, value in {"store": "Nowhere", "tier": "Z,A", "lang": "xx", "present": "maybe", "from": "1900-01-01",
                        "to": "=cmd|' /C calc'!A0"}.items():
        demo_app.query_params[name] = value
    at = demo_app.run()
    assert not at.exception and at.title[0].value == "Overview"
    captions = " ".join(c.value for c in at.sidebar.caption)
    assert "lies outside the data" in captions  # from=1900-01-01 moved into the data
    assert "Not understood in the link, so not used: lang=xx, present=maybe, to==cmd|' /C calc'!A0, store=Nowhere, " \
           "tier=Z,A." in captions
    assert at.query_params["lang"] == "en" and "store" not in at.query_params
