"""History of any age: a mall whose data lies in the 1990s (as the public CDNOW file, 1997-1998) opens on every page.

The sidebar's period picker takes its bounds from the data (first and last transaction), the default period is the
data's last year, and a period from the link outside the data is moved into it with a caption saying so.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import state
from tests.dashboard.conftest import app_as, open_page
from vipmodel.auth import SYSTEM
from vipmodel import db
from vipmodel.db import create_schema, make_engine

PAGES = ["overview", "pyramid", "migration", "referrals", "care", "satisfaction", "complaints", "value", "data"]
FIRST = dt.date(1996, 1, 2)  # the transactions-only mall's first and last purchase
LAST = dt.date(1998, 6, 30)
DEMO_END = dt.date(1998, 12, 31)  # the full 1990s mall: two demo years ending here
ADJUSTED = "lies outside the data"


def _write_transactions(path, first: dt.date, last: dt.date, members: int, rows: int, seed: int) -> None:
    """A CDNOW-like export: member id, date, quantity, amount; the first and last day always bought on."""
    rng = np.random.default_rng(seed)
    days = (last - first).days
    offsets = np.concatenate([[0, days], rng.integers(0, days + 1, rows - 2)])
    frame = pd.DataFrame({
        "member_id": [f"C{n:04d}" for n in rng.integers(0, members, rows)],
        "ts": [(first + dt.timedelta(days=int(d))).isoformat() for d in offsets],
        "quantity": rng.integers(1, 5, rows),
        "amount": rng.gamma(2.0, 20.0, rows).round(2) + 1,
    })
    frame.to_csv(path, index=False)


def _import_transactions(directory, first: dt.date, last: dt.date, members: int, rows: int, seed: int) -> str:
    from vipmodel.importer import import_file

    url = f"sqlite:///{directory / 'mall.db'}"
    engine = make_engine(url)
    create_schema(engine)
    _write_transactions(directory / "transactions.csv", first, last, members, rows, seed)
    report = import_file(directory / "transactions.csv", "transactions", engine, create_members=True, actor=SYSTEM)
    engine.dispose()
    assert report.ok, report.format()
    return url


@pytest.fixture(scope="module")
def transactions_only_url(tmp_path_factory) -> str:
    """A mall that imported only transactions, 1996 to mid-1998 (members created by the import; no store, no
    surveys, complaints or care)."""
    return _import_transactions(tmp_path_factory.mktemp("cdnow"), FIRST, LAST, members=300, rows=1500, seed=1997)


@pytest.fixture(scope="module")
def full_nineties_url(tmp_path_factory) -> str:
    """The demo mall (every table filled) moved to 1997-1998."""
    from vipmodel.demo import generate

    url = f"sqlite:///{tmp_path_factory.mktemp('nineties') / 'demo.db'}"
    engine = make_engine(url)
    generate(engine, members=400, years=2, seed=11, end_date=DEMO_END, progress=False)
    engine.dispose()
    return url


@pytest.fixture(scope="module")
def short_history_url(tmp_path_factory) -> str:
    """A mall with three months of history, in 1997."""
    return _import_transactions(tmp_path_factory.mktemp("short"), dt.date(1997, 3, 1), dt.date(1997, 5, 31),
                                members=60, rows=200, seed=3)


def _data_span(url: str) -> tuple[dt.date, dt.date]:
    from vipmodel import kpi

    engine = make_engine(url)
    with engine.connect() as conn:
        span = kpi.first_activity_date(conn), kpi.latest_activity_date(conn)
    engine.dispose()
    return span


def _app_on(url: str, monkeypatch) -> AppTest:
    monkeypatch.setenv(db.ENV_URL, url)
    return app_as("admin", timeout=120)


@pytest.fixture(params=["transactions only", "full"])
def nineties_url(request) -> str:
    """Each 1990s mall: transactions only, and every table filled."""
    fixture = {"transactions only": "transactions_only_url", "full": "full_nineties_url"}[request.param]
    return request.getfixturevalue(fixture)


def _assert_period_within_the_data(at: AppTest, url: str) -> None:
    first, last = _data_span(url)
    picker = at.date_input(key="period")
    assert (picker.min, picker.max) == (first, last)
    start, end = picker.value
    assert first <= start <= end <= last


# --- pure rules ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("start", "end", "expected"), [
    (None, None, (dt.date(1997, 7, 1), LAST)),  # no period in the link: the data's last year
    (dt.date(1997, 2, 1), dt.date(1997, 8, 31), (dt.date(1997, 2, 1), dt.date(1997, 8, 31))),  # inside: kept
    (dt.date(1990, 1, 1), dt.date(1996, 6, 30), (FIRST, dt.date(1996, 6, 30))),  # overlapping: the overlap
    (dt.date(1998, 1, 1), dt.date(2024, 1, 1), (dt.date(1998, 1, 1), LAST)),
    (dt.date(2024, 1, 1), dt.date(2024, 12, 31), (dt.date(1997, 7, 1), LAST)),  # wholly after: the default
    (dt.date(1980, 1, 1), dt.date(1980, 12, 31), (dt.date(1997, 7, 1), LAST)),  # wholly before: the default
    (None, dt.date(1996, 6, 30), (FIRST, dt.date(1996, 6, 30))),  # a year before the end, from the first day
    (dt.date(1998, 3, 1), dt.date(1997, 3, 1), (dt.date(1996, 3, 2), dt.date(1997, 3, 1))),  # reversed: start dropped
])
def test_a_period_is_moved_into_the_data_span(start, end, expected):
    assert state.clamp_period(start, end, LAST, FIRST) == expected


def test_the_default_period_starts_no_earlier_than_the_data():
    three_months = dt.date(1997, 3, 1), dt.date(1997, 5, 31)
    assert state.default_period(three_months[1], three_months[0]) == three_months
    assert state.default_period(LAST, FIRST) == (dt.date(1997, 7, 1), LAST)
    assert state.default_period(LAST) == (dt.date(1997, 7, 1), LAST)


def test_the_data_span_runs_from_the_first_to_the_last_purchase(transactions_only_url):
    assert _data_span(transactions_only_url) == (FIRST, LAST)


# --- the app on 1990s data ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("page", PAGES)
def test_every_page_opens_on_a_mall_whose_history_lies_in_the_1990s(page, nineties_url, monkeypatch):
    at = open_page(_app_on(nineties_url, monkeypatch), page)
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    _assert_period_within_the_data(at, nineties_url)
    assert not any(ADJUSTED in c.value for c in at.sidebar.caption)


def test_the_default_period_is_the_last_year_of_the_data(transactions_only_url, monkeypatch):
    at = _app_on(transactions_only_url, monkeypatch).run()
    assert not at.exception
    assert at.date_input(key="period").value == (dt.date(1997, 7, 1), LAST)
    assert (at.query_params["from"], at.query_params["to"]) == ("1997-07-01", "1998-06-30")


def test_a_history_shorter_than_a_year_is_shown_whole(short_history_url, monkeypatch):
    at = _app_on(short_history_url, monkeypatch).run()
    assert not at.exception
    assert at.date_input(key="period").value == (dt.date(1997, 3, 1), dt.date(1997, 5, 31))


@pytest.mark.parametrize(("link", "expected"), [
    ({"from": "2024-01-01", "to": "2024-12-31"}, (dt.date(1997, 7, 1), LAST)),
    ({"from": "1990-01-01", "to": "1996-06-30"}, (FIRST, dt.date(1996, 6, 30))),
    ({"to": "2030-01-01"}, (dt.date(1997, 7, 1), LAST)),
], ids=["after the data", "starting before the data", "ending after the data"])
def test_a_period_from_the_link_outside_the_data_is_moved_into_it_and_said_so(link, expected, transactions_only_url,
                                                                              monkeypatch):
    app = _app_on(transactions_only_url, monkeypatch)
    app.query_params.update(link)
    at = open_page(app, "overview")
    assert not at.exception
    assert at.date_input(key="period").value == expected
    assert any(ADJUSTED in c.value for c in at.sidebar.caption)
    assert (at.query_params["from"], at.query_params["to"]) == tuple(d.isoformat() for d in expected)


def test_a_period_from_the_link_inside_the_data_is_kept_without_a_note(transactions_only_url, monkeypatch):
    app = _app_on(transactions_only_url, monkeypatch)
    app.query_params.update({"from": "1997-01-01", "to": "1997-12-31"})
    at = app.run()
    assert not at.exception
    assert at.date_input(key="period").value == (dt.date(1997, 1, 1), dt.date(1997, 12, 31))
    assert not any(ADJUSTED in c.value for c in at.sidebar.caption)


def test_the_note_goes_once_the_user_picks_another_period(transactions_only_url, monkeypatch):
    app = _app_on(transactions_only_url, monkeypatch)
    app.query_params.update({"from": "2024-01-01", "to": "2024-12-31"})
    at = app.run()
    assert any(ADJUSTED in c.value for c in at.sidebar.caption)
    at.date_input(key="period").set_value((dt.date(1997, 1, 1), dt.date(1997, 6, 30))).run()
    assert not at.exception
    assert not any(ADJUSTED in c.value for c in at.sidebar.caption)


def test_the_note_speaks_chinese(transactions_only_url, monkeypatch):
    app = _app_on(transactions_only_url, monkeypatch)
    app.query_params.update({"lang": "zh", "from": "2024-01-01", "to": "2024-12-31"})
    at = app.run()
    assert not at.exception
    assert any("超出数据范围" in c.value and "1998年6月30日" in c.value for c in at.sidebar.caption)


def test_a_period_of_other_data_is_moved_into_the_new_data_when_the_database_changes(demo_sqlite_url,
                                                                                     transactions_only_url,
                                                                                     monkeypatch):
    at = _app_on(demo_sqlite_url, monkeypatch).run()  # the 2020s demo mall
    assert not at.exception
    assert at.date_input(key="period").value[1].year > 2000
    monkeypatch.setenv(db.ENV_URL, transactions_only_url)  # as if an import replaced the data with the 1990s
    at.run()
    assert not at.exception
    _assert_period_within_the_data(at, transactions_only_url)
    assert any(ADJUSTED in c.value for c in at.sidebar.caption)


@pytest.mark.parametrize(("page", "message"), [
    ("satisfaction", "survey"),
    ("complaints", "complaint"),
    ("care", "care"),
])
def test_pages_without_their_data_say_what_to_import(page, message, transactions_only_url, monkeypatch):
    at = open_page(_app_on(transactions_only_url, monkeypatch), page)
    assert not at.exception
    notes = [m.value for m in [*at.info, *at.warning]]
    assert any(message in n.lower() and "import" in n.lower() for n in notes), notes
