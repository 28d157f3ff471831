"""Engine helpers: URLs, the data version, and the chunked frame reader."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import insert, select, text

from vipmodel import db, schema


def test_default_url_is_the_embedded_sqlite_file_unless_the_environment_says_otherwise(monkeypatch):
    monkeypatch.delenv(db.ENV_URL, raising=False)
    assert db.default_url() == f"sqlite:///{db.DEFAULT_SQLITE_PATH}"
    monkeypatch.setenv(db.ENV_URL, "postgresql://u@h/mall")
    assert db.default_url() == "postgresql://u@h/mall"


def test_data_version_starts_at_zero_and_each_bump_adds_one(engine):
    with engine.begin() as conn:
        assert db.data_version(conn) == 0
        assert db.bump_data_version(conn) == 1
        assert db.bump_data_version(conn) == 2
    with engine.connect() as conn:
        assert db.data_version(conn) == 2


@pytest.mark.parametrize("chunk_rows", [1, 2, 3, 1000])
def test_read_frame_gives_the_same_frame_whatever_the_chunk_size(engine, chunk_rows):
    with engine.begin() as conn:
        conn.execute(
            insert(schema.members),
            [{"member_id": f"M{i}", "join_date": dt.date(2024, 1, i + 1), "gender": "U"} for i in range(5)],
        )
    query = select(schema.members.c.member_id, schema.members.c.join_date).order_by(schema.members.c.member_id)
    with engine.connect() as conn:
        frame = db.read_frame(conn, query, chunk_rows=chunk_rows)
    assert list(frame.columns) == ["member_id", "join_date"]
    assert frame["member_id"].tolist() == [f"M{i}" for i in range(5)]


def test_read_frame_of_an_empty_result_keeps_the_columns(engine):
    with engine.connect() as conn:
        frame = db.read_frame(conn, select(schema.members.c.member_id, schema.members.c.phone))
    assert frame.empty and list(frame.columns) == ["member_id", "phone"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [(dt.date(2025, 3, 1), dt.date(2025, 3, 1)), (dt.datetime(2025, 3, 1, 23, 59), dt.date(2025, 3, 1))],
)
def test_as_date_accepts_dates_and_cuts_datetimes_to_their_day(value, expected):
    assert db.as_date(value, "as_of") == expected


def test_as_date_names_the_argument_it_rejects():
    with pytest.raises(ValueError, match="as_of must be a date, got str"):
        db.as_date("2025-03-01", "as_of")


def test_borrow_connection_leaves_a_callers_connection_open(engine):
    with engine.connect() as conn:
        with db.borrow_connection(conn) as borrowed:
            assert borrowed is conn
        assert not conn.closed
    with pytest.raises(ValueError, match="conn must be a SQLAlchemy Engine or Connection, got str"):
        db.borrow_connection("sqlite://")


def test_member_ids_group_and_sort_in_python_string_order_on_every_backend(engine):
    # Byte order (COLLATE "C" on PostgreSQL) is what makes GROUP BY member fast there, and it is Python's order.
    db.create_schema(engine)
    ids = ["a1", "B2", "_x", "Z", "b10", "b9", "Ärger", "会员01"]
    with engine.begin() as conn:
        conn.execute(insert(schema.members), [{"member_id": i, "join_date": dt.date(2024, 1, 1)} for i in ids])
        stored = conn.execute(select(schema.members.c.member_id).order_by(schema.members.c.member_id)).scalars().all()
    assert stored == sorted(ids)
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            collations = conn.execute(text(
                "SELECT table_name, collation_name FROM information_schema.columns "
                "WHERE column_name IN ('member_id', 'referred_by') AND table_schema = current_schema()"
            )).all()
        assert {table for table, _ in collations} >= {"members", "transactions", "care_actions", "complaints"}
        assert {collation for _, collation in collations} == {"C"}


def test_data_token_changes_with_every_bump_and_between_regenerated_databases(tmp_path):
    tokens = []
    for name in ("first.db", "second.db"):  # the same history in two databases: counters equal, tokens not
        engine = db.make_engine(f"sqlite:///{tmp_path / name}")
        db.create_schema(engine)
        with engine.begin() as conn:
            assert db.data_token(conn) == "0"
            db.bump_data_version(conn)
            tokens.append(db.data_token(conn))
            db.bump_data_version(conn)
            tokens.append(db.data_token(conn))
        engine.dispose()
    assert [token.split("-")[0] for token in tokens] == ["1", "2", "1", "2"]
    assert len(set(tokens)) == 4


def test_a_sqlite_writer_waits_a_minute_for_another_instead_of_pythons_few_seconds(tmp_path):
    # Set by the engine's own pragma, whatever the driver's timeout (here none).
    engine = db.make_engine(f"sqlite:///{tmp_path / 'mall.db'}", connect_args={"timeout": 0})
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA busy_timeout")).scalar_one() == db.BUSY_TIMEOUT_MS == 60_000
    engine.dispose()
