"""Engines, schema creation and small key/value helpers. Nothing here connects at import time."""

from __future__ import annotations

import datetime as dt
import os
import secrets
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, create_engine, delete, event, func, insert, inspect, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url

from vipmodel import results_schema, schema  # noqa: F401 - importing results_schema adds its tables to the metadata

ENV_URL = "VIPDASH_DATABASE_URL"
REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE_PATH = REPO_ROOT / "data" / "demo.db"


def default_url() -> str:
    """The database URL to use: ``$VIPDASH_DATABASE_URL`` or the embedded SQLite file under ``data/``."""
    return os.environ.get(ENV_URL) or f"sqlite:///{DEFAULT_SQLITE_PATH}"


BUSY_TIMEOUT_MS = 60_000


def _sqlite_pragmas(dbapi_connection, connection_record) -> None:  # noqa: ARG001 - SQLAlchemy signature
    cursor = dbapi_connection.cursor()
    # Foreign keys are off by default in SQLite; WAL lets the app read while an import writes.
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # One writer at a time: a writer waits up to a minute for another's transaction (the precompute's two worker
    # processes store results of hundreds of MB at once) instead of failing after Python's 5 s.
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    # SQLite's default page cache and temporary files, not a 200 MB cache and temp_store=MEMORY: with those, the
    # GROUP BY of a year's transactions ran 1.6 times slower (benchmarks/RESULTS.md, 2026-12-07).
    cursor.close()


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    """Create an engine for ``url`` (default :func:`default_url`); SQLite files get their folder and pragmas.

    ``postgresql://`` URLs use the psycopg 3 driver.
    """
    url = url or default_url()
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(parsed, pool_pre_ping=True, **kwargs)


def create_schema(engine: Engine) -> None:
    """Create every table that does not exist yet, bring older tables up to date, register the default survey items."""
    schema.Base.metadata.create_all(engine)
    upgrade_schema(engine)
    with engine.begin() as conn:
        known = set(conn.execute(select(schema.survey_items.c.item_code)).scalars())
        rows = [
            {"item_code": code, "dimension": dim, "label_en": en, "label_zh": zh}
            for code, (dim, en, zh) in schema.DEFAULT_SURVEY_ITEMS.items()
            if code not in known
        ]
        if rows:
            conn.execute(insert(schema.survey_items), rows)


def _outdated(engine: Engine) -> list[str]:
    """Tables created by an older version of the data model that :func:`upgrade_schema` must change."""
    inspector = inspect(engine)
    outdated = []
    if inspector.has_table("transactions"):
        margin = next(c for c in inspector.get_columns("transactions") if c["name"] == "gross_margin")
        if not margin["nullable"]:  # before 2026-12-06 a missing margin was stored as 0
            outdated.append("transactions")
    if inspector.has_table("settings"):
        checks = [c["sqltext"] for c in inspector.get_check_constraints("settings") if c["name"] == "ck_settings_kind"]
        if checks and not all(f"'{kind}'" in str(checks[0]) for kind in schema.SETTING_KINDS):
            outdated.append("settings")
    return outdated


# Tables a later version of the data model added: an older database gets them, empty, from upgrade_schema.
ADDED_TABLES: tuple[str, ...] = (
    "campaigns", "campaign_members", "refresh_runs", "member_results", "period_results", "stored_views")


def upgrade_schema(engine: Engine) -> list[str]:
    """Bring tables made by an older version of the data model up to date, keeping their rows; return their names.

    ``transactions.gross_margin`` became nullable (a sale exported without a margin is estimated from the mall's
    margin rates, :mod:`vipmodel.margins`) and ``settings`` gained the kind ``margin_rates``. PostgreSQL alters
    the tables in place; SQLite, which cannot alter a column or a constraint, copies the table into a new one.
    The tables of :data:`ADDED_TABLES` (recorded campaigns and their random assignment, the refresh's results) are
    created where missing
    and named in the list after the altered ones.
    """
    outdated = _outdated(engine)
    inspector = inspect(engine)
    added = [name for name in ADDED_TABLES if not inspector.has_table(name)]
    if not outdated and not added:
        return []
    with engine.begin() as conn:
        for name in added:  # in ADDED_TABLES order: campaign_members refers to campaigns
            schema.Base.metadata.tables[name].create(conn)
        for name in outdated:
            if engine.dialect.name == "postgresql":
                if name == "transactions":
                    conn.exec_driver_sql("ALTER TABLE transactions ALTER COLUMN gross_margin DROP NOT NULL")
                else:
                    kinds = ", ".join(f"'{k}'" for k in schema.SETTING_KINDS)  # constants of the data model
                    conn.exec_driver_sql("ALTER TABLE settings DROP CONSTRAINT ck_settings_kind")
                    conn.exec_driver_sql(
                        f"ALTER TABLE settings ADD CONSTRAINT ck_settings_kind CHECK (kind IN ({kinds}))"
                    )
            else:
                _copy_into_new_table(conn, schema.Base.metadata.tables[name])
    return outdated + added


def _copy_into_new_table(conn: Connection, table) -> None:
    # SQLite's documented way to change a column or a constraint: a new table, the rows copied, the old one dropped.
    # No other table has a foreign key to the tables upgraded here, so renaming them rewrites no reference.
    old = f"_old_{table.name}"
    conn.exec_driver_sql(f'ALTER TABLE "{table.name}" RENAME TO "{old}"')
    named = conn.exec_driver_sql(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL", (old,)
    ).scalars().all()
    for index in named:
        conn.exec_driver_sql(f'DROP INDEX "{index}"')
    table.create(conn)
    columns = ", ".join(f'"{c.name}"' for c in table.columns)
    conn.exec_driver_sql(f'INSERT INTO "{table.name}" ({columns}) SELECT {columns} FROM "{old}"')
    conn.exec_driver_sql(f'DROP TABLE "{old}"')


# Tables that outlive a regeneration of the demo mall: who may sign in, and what was done.
KEPT_TABLES: tuple[str, ...] = ("users", "audit_log")


def drop_schema(engine: Engine, keep: tuple[str, ...] = KEPT_TABLES) -> None:
    """Drop every table of the data model but ``keep`` (used before regenerating the demo mall)."""
    metadata = schema.Base.metadata
    schema.Base.metadata.drop_all(engine, tables=[t for t in metadata.sorted_tables if t.name not in keep])


def table_counts(engine: Engine) -> dict[str, int]:
    """Rows per existing table of the data model (what replacing the database would delete)."""
    inspector = inspect(engine)
    counts = {}
    with engine.connect() as conn:
        for table in schema.Base.metadata.sorted_tables:
            if inspector.has_table(table.name):
                counts[table.name] = int(conn.execute(select(func.count()).select_from(table)).scalar_one())
    return counts


def has_data(engine: Engine) -> bool:
    """True when the schema exists and at least one member is stored."""
    if not inspect(engine).has_table("members"):
        return False
    with engine.connect() as conn:
        return conn.execute(select(schema.members.c.member_id).limit(1)).first() is not None


def put_info(conn: Connection, key: str, value: dict) -> None:
    """Store ``value`` (JSON-serialisable) under ``key`` in ``dataset_info``, replacing the previous value.

    One upsert statement, so that two transactions writing the same key at once (two imports both recording a
    new data version) wait for each other instead of one failing on the primary key.
    """
    values = {"key": key, "value": value, "updated_at": dt.datetime.now().replace(microsecond=0)}
    table = schema.dataset_info
    name = conn.dialect.name
    if name in ("postgresql", "sqlite"):
        upsert = (postgresql.insert if name == "postgresql" else sqlite.insert)(table).values(**values)
        conn.execute(upsert.on_conflict_do_update(
            index_elements=[table.c.key], set_={"value": upsert.excluded.value, "updated_at": upsert.excluded.updated_at}
        ))
        return
    conn.execute(delete(table).where(table.c.key == key))
    conn.execute(insert(table).values(**values))


def get_info(conn: Connection, key: str) -> dict | None:
    """The value stored under ``key`` in ``dataset_info``, or None."""
    return conn.execute(select(schema.dataset_info.c.value).where(schema.dataset_info.c.key == key)).scalar()


def data_freshness(conn: Connection) -> dict[str, Any]:
    """Latest transaction time, member count and last import per kind, for the Data page and sidebar."""
    t, m = schema.transactions, schema.members
    latest = conn.execute(select(func.max(t.c.ts))).scalar()
    n_members = conn.execute(select(func.count()).select_from(m)).scalar_one()
    log = schema.import_log
    last_imports = {
        kind: when
        for kind, when in conn.execute(select(log.c.kind, func.max(log.c.imported_at)).group_by(log.c.kind))
    }
    return {"latest_transaction": latest, "members": n_members, "last_imports": last_imports}


DATA_VERSION_KEY = "data_version"


def bump_data_version(conn: Connection) -> int:
    """Record that the data changed (import, demo regeneration); caches key on this number and its token."""
    current = get_info(conn, DATA_VERSION_KEY) or {"version": 0}
    new = int(current["version"]) + 1
    # A random token besides the counter: a database regenerated from scratch counts from 1 again, and results
    # persisted on disk for the old data must not be taken for the new.
    put_info(conn, DATA_VERSION_KEY, {"version": new, "token": secrets.token_hex(8)})
    return new


def data_version(conn: Connection) -> int:
    """The current data version (0 when nothing was recorded)."""
    value = get_info(conn, DATA_VERSION_KEY)
    return int(value["version"]) if value else 0


def data_token(conn: Connection) -> str:
    """A key for the current data that changes with every change and differs between regenerated databases.

    ``"<version>-<random token>"``; ``"0"`` before any data was recorded.
    """
    value = get_info(conn, DATA_VERSION_KEY)
    if not value:
        return "0"
    return f"{int(value['version'])}-{value.get('token', '')}"


# 250,000 rows a chunk held a quarter more memory at the peak of three years' features (200k members), no faster.
READ_CHUNK_ROWS = 50_000


def read_frame(conn: Connection, query, chunk_rows: int = READ_CHUNK_ROWS) -> pd.DataFrame:
    """Run ``query`` and return its rows as a DataFrame, built chunk by chunk.

    Building the frame from at most ``chunk_rows`` Python tuples at a time keeps the peak memory of a
    million-row aggregate close to the frame itself (a list of a million row tuples costs several times more);
    on PostgreSQL the rows stream from a server-side cursor. An empty result gives an empty frame with the
    query's columns.
    """
    result = conn.execution_options(stream_results=True, yield_per=chunk_rows).execute(query)
    columns = list(result.keys())
    # Plain tuples: pandas probes every Row object for attributes, which costs seconds per million rows.
    frames = [pd.DataFrame.from_records([tuple(r) for r in part], columns=columns) for part in result.partitions()]
    if not frames:
        return pd.DataFrame(columns=columns)
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


def borrow_connection(conn: Connection | Engine) -> AbstractContextManager[Connection]:
    """A context manager yielding a connection: ``conn`` itself when it is one (the caller owns its transaction),
    else a new connection from the engine, closed on exit."""
    if isinstance(conn, Engine):
        return conn.connect()
    if isinstance(conn, Connection):
        return nullcontext(conn)
    raise ValueError(f"conn must be a SQLAlchemy Engine or Connection, got {type(conn).__name__}")


def writing(conn: Connection | Engine) -> AbstractContextManager[Connection]:
    """A context manager yielding a connection to write with: ``conn`` itself when it is one (the caller owns its
    transaction and commits), else a short transaction of the engine's own, committed on exit."""
    if isinstance(conn, Engine):
        return conn.begin()
    return borrow_connection(conn)


def as_date(value: object, name: str) -> dt.date:
    """``value`` as a date (a datetime is cut to its day); ``ValueError("<name> must be a date, got <type>")``."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    raise ValueError(f"{name} must be a date, got {type(value).__name__}")
