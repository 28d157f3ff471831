"""Results in the database: one refresh per data version, read by any number of app servers.

:func:`refresh` computes what depends only on the data, the day of analysis and the saved settings -- per-member
tiers, profit, lifetime value, value if retained, churn score and value at risk -- and writes it into
``member_results`` in the same database, under a row of ``refresh_runs`` stamped with

* the **data version** (:func:`vipmodel.db.data_token`: changes with every import, demo generation and margin
  rates saved),
* the **model version** (:func:`model_version`: a hash of the source of every ``vipmodel`` module, so a fix in
  ``clv.py`` invalidates results made by the old code without anyone remembering to bump a number), and
* the **settings key** (the saved versions of the settings the results depend on: tier rules, satisfaction
  weights).

:func:`current_run` returns the finished run whose three stamps all match the database and code as they are now,
or None: a result made by other code, for other data or under other settings is never returned. Readers
(:func:`member_results`) select only the rows and columns they need with indexed, filtered SQL, so a freshly
started server reads a page's view in milliseconds instead of fitting the models again.

Each run records its steps (name, seconds, rows) and, if it failed, the error, so an operator can see what ran and
how long it took (``python -m vipmodel refresh --url URL`` prints a one-line summary for a scheduler).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, delete, func, insert, inspect, select, update

from vipmodel import results_schema as rs
from vipmodel.db import as_date, borrow_connection, data_token, read_frame
from vipmodel.pyramid import DEFAULT_RULES, TierRules
from vipmodel.reuse import shared_queries
from vipmodel.settings import latest_setting

__all__ = [
    "MEMBER_RESULT_COLUMNS",
    "RefreshRun",
    "current_run",
    "member_results",
    "model_version",
    "period_results",
    "recent_runs",
    "refresh",
    "settings_key",
]

# The settings whose saved version changes the results (margin rates start a new data version themselves).
RESULT_SETTINGS: tuple[str, ...] = ("tier_rules", "satisfaction_weights")
MEMBER_RESULT_COLUMNS: tuple[str, ...] = tuple(c.name for c in rs.member_results.columns if c.name != "run_id")
_WRITE_CHUNK = 20_000
_SHARED_QUERIES = 8  # member-level aggregations kept during a refresh (some 100-300 MB each at a million members)
_KEPT_RUNS = 3  # finished runs kept per database (older ones and their member rows are deleted)


@lru_cache(maxsize=1)
def model_version() -> str:
    """A short hash of the source of every module of the ``vipmodel`` package (16 hex digits).

    Any change to the code that computes results -- a model, a query, a default -- gives a new version, and
    :func:`current_run` then ignores the results the old code made.
    """
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def settings_key(conn: Engine | Connection) -> str:
    """The saved version of each setting in :data:`RESULT_SETTINGS` (``"tier_rules=3;satisfaction_weights=-"``)."""
    parts = []
    for kind in RESULT_SETTINGS:
        saved = latest_setting(conn, kind)
        parts.append(f"{kind}={'-' if saved is None else saved.version}")
    return ";".join(parts)


@dataclass(frozen=True)
class RefreshRun:
    """One refresh: its stamps, its state and the steps it ran.

    Attributes
    ----------
    run_id : int
    as_of : datetime.date
        The day of analysis (results describe the members as of that day).
    data_version, model_version, settings_key : str
        The stamps the results were made under.
    status : str
        ``"running"``, ``"done"`` or ``"failed"``.
    started_at, finished_at : datetime.datetime or None
    steps : tuple of dict
        ``{"step": name, "seconds": float, "rows": int}`` in the order run.
    error : str or None
        The failure message of a failed run.
    members : int
        Rows written to ``member_results``.
    reused : bool
        True when :func:`refresh` found this finished run already matching and computed nothing.
    """

    run_id: int
    as_of: dt.date
    data_version: str
    model_version: str
    settings_key: str
    status: str
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    steps: tuple[dict, ...]
    error: str | None
    members: int
    reused: bool = False

    @property
    def seconds(self) -> float:
        """Total time of the steps."""
        return float(sum(s["seconds"] for s in self.steps))

    def summary(self) -> str:
        """One line for a scheduler's log."""
        if self.reused:
            return f"refresh {self.run_id}: up to date for {self.as_of} (data {self.data_version}), nothing to do"
        steps = ", ".join(f"{s['step']} {s['seconds']:.1f}s" for s in self.steps)
        return (f"refresh {self.run_id} {self.status}: {self.members} members as of {self.as_of} in "
                f"{self.seconds:.1f}s ({steps})" + (f"; error: {self.error}" if self.error else ""))


def _run_from_row(row: Any, reused: bool = False) -> RefreshRun:
    return RefreshRun(
        run_id=int(row.run_id), as_of=row.as_of, data_version=row.data_version, model_version=row.model_version,
        settings_key=row.settings_key, status=row.status, started_at=row.started_at, finished_at=row.finished_at,
        steps=tuple(json.loads(row.steps or "[]")), error=row.error, members=int(row.members or 0), reused=reused,
    )


def _latest_date(conn: Connection) -> dt.date | None:
    from vipmodel.schema import transactions

    value = conn.execute(select(func.max(transactions.c.ts))).scalar()
    if value is None:
        return None
    return value.date() if isinstance(value, dt.datetime) else as_date(value, "latest transaction")


def current_run(conn: Engine | Connection, as_of: dt.date | None = None) -> RefreshRun | None:
    """The newest finished refresh made for the data, code and settings as they are now, or None.

    Parameters
    ----------
    conn : sqlalchemy.Engine or sqlalchemy.Connection
    as_of : datetime.date, optional
        Only a run for this day of analysis; default any day (the newest run).

    Returns
    -------
    RefreshRun or None
        None when no run matches all three stamps: results made by other code, for other data or under other
        settings are never returned.
    """
    runs = rs.refresh_runs
    with borrow_connection(conn) as c:
        if not inspect(c).has_table(runs.name):  # a database made before results were stored: none to read
            return None
        query = select(runs).where(
            runs.c.status == "done",
            runs.c.data_version == data_token(c),
            runs.c.model_version == model_version(),
            runs.c.settings_key == settings_key(c),
        )
        if as_of is not None:
            query = query.where(runs.c.as_of == as_date(as_of, "as_of"))
        row = c.execute(query.order_by(runs.c.run_id.desc()).limit(1)).first()
    return None if row is None else _run_from_row(row)


def recent_runs(conn: Engine | Connection, limit: int = 10) -> pd.DataFrame:
    """The newest refresh runs, what they did and whether each is current (for an operator's record).

    Parameters
    ----------
    conn : sqlalchemy.Engine or sqlalchemy.Connection
    limit : int, default 10
        At most this many runs (the refresh keeps the newest finished ones, see :func:`refresh`).

    Returns
    -------
    pandas.DataFrame
        One row per run, newest first (by ``run_id``), with these columns:

        * ``run_id`` (int), ``as_of`` (datetime.date: the day of analysis),
        * ``status`` (str: ``"running"``, ``"done"`` or ``"failed"``),
        * ``started_at`` (datetime, UTC), ``seconds`` (float: total time of the steps run; 0 for a run still
          running), ``members`` (int: rows written to ``member_results``),
        * ``error`` (str or None: a failed run's message),
        * ``current`` (bool: True for the run :func:`current_run` returns for its day of analysis, i.e. the newest
          finished run stamped with the data, code and settings as they are now).

        Empty (with these columns) when no refresh has run or the database has no result tables.
    """
    columns = ["run_id", "as_of", "status", "started_at", "seconds", "members", "error", "current"]
    runs = rs.refresh_runs
    with borrow_connection(conn) as c:
        if not inspect(c).has_table(runs.name):
            return pd.DataFrame({name: [] for name in columns})
        rows = c.execute(select(runs).order_by(runs.c.run_id.desc()).limit(int(limit))).all()
        stamps = (data_token(c), model_version(), settings_key(c)) if rows else None
    records, newest_current = [], {}
    for row in rows:
        run = _run_from_row(row)
        matches = run.status == "done" and (run.data_version, run.model_version, run.settings_key) == stamps
        if matches and run.as_of not in newest_current:  # rows come newest first
            newest_current[run.as_of] = run.run_id
        records.append({"run_id": run.run_id, "as_of": as_date(run.as_of, "as_of"), "status": run.status,
                        "started_at": run.started_at, "seconds": run.seconds, "members": run.members,
                        "error": run.error, "current": newest_current.get(run.as_of) == run.run_id})
    return pd.DataFrame.from_records(records, columns=columns) if records else pd.DataFrame({n: [] for n in columns})


def member_results(
    conn: Engine | Connection,
    run: RefreshRun,
    *,
    columns: Sequence[str] | None = None,
    tiers: Iterable[str] | None = None,
    members: Iterable[str] | None = None,
) -> pd.DataFrame:
    """The per-member results of ``run``, filtered in SQL.

    Parameters
    ----------
    conn : sqlalchemy.Engine or sqlalchemy.Connection
    run : RefreshRun
        From :func:`current_run` (or :func:`refresh`).
    columns : sequence of str, optional
        Columns of :data:`MEMBER_RESULT_COLUMNS` to read (``member_id`` is always included); default all.
    tiers : iterable of str, optional
        Keep members of these tiers (``"A"``...``"D"``; members without a tier are left out when given).
    members : iterable of str, optional
        Keep these member ids.

    Returns
    -------
    pandas.DataFrame
        One row per member, sorted by ``member_id``.

    Raises
    ------
    ValueError
        ``"unknown result columns: x"``.
    """
    names = list(MEMBER_RESULT_COLUMNS) if columns is None else ["member_id", *[c for c in columns if c != "member_id"]]
    unknown = sorted(set(names) - set(MEMBER_RESULT_COLUMNS))
    if unknown:
        raise ValueError(f"unknown result columns: {', '.join(unknown)}")
    mr = rs.member_results
    query = select(*[mr.c[n] for n in names]).where(mr.c.run_id == run.run_id)
    if tiers is not None:
        query = query.where(mr.c.tier.in_(list(tiers)))
    if members is not None:
        query = query.where(mr.c.member_id.in_([str(m) for m in members]))
    with borrow_connection(conn) as c:
        frame = read_frame(c, query.order_by(mr.c.member_id))
    return frame[names].reset_index(drop=True) if len(frame) else pd.DataFrame({n: [] for n in names})


def period_results(conn: Engine | Connection, run: RefreshRun, name: str) -> dict[dt.date, dict[str, float]]:
    """The per-period aggregates ``name`` of ``run`` as ``{as_of: {key: value}}`` (NaN for a missing value).

    ``name`` is ``"kpi"`` (:func:`vipmodel.kpi.kpi_values` at the run's day, a week and 52 weeks earlier, under
    the saved satisfaction weights), ``"satisfaction_mean"`` (:func:`vipmodel.kpi.satisfaction_means` over the
    365 days ending the run's day and a week earlier) or ``"survey_responses"`` (key ``"count"``, the run's day).
    """
    pr = rs.period_results
    query = select(pr.c.as_of, pr.c.key, pr.c.value).where(pr.c.run_id == run.run_id, pr.c.name == name)
    out: dict[dt.date, dict[str, float]] = {}
    with borrow_connection(conn) as c:
        for day, key, value in c.execute(query):
            out.setdefault(as_date(day, "as_of"), {})[key] = np.nan if value is None else float(value)
    return out


def _period_rows(day: dt.date, weights: dict, conn: Connection) -> list[dict]:
    """The rows of ``period_results`` for a run at ``day`` (see :func:`period_results`)."""
    from vipmodel.kpi import comparison_days, kpi_values, satisfaction_means
    from vipmodel.schema import survey_responses

    rows = []
    for when in comparison_days(day):
        rows += [{"name": "kpi", "as_of": when, "key": k, "value": None if np.isnan(v) else v}
                 for k, v in kpi_values(conn, when, weights).items()]
    year = dt.timedelta(days=365)
    for when in (day, day - dt.timedelta(days=7)):
        rows += [{"name": "satisfaction_mean", "as_of": when, "key": k, "value": v}
                 for k, v in satisfaction_means(conn, when - year, when).items()]
    r = survey_responses
    responses = conn.execute(select(func.count()).where(r.c.survey_date > day - year, r.c.survey_date <= day))
    rows.append({"name": "survey_responses", "as_of": day, "key": "count", "value": float(responses.scalar_one())})
    return rows


def _ensure_tables(engine: Engine) -> None:
    """Create the result tables where missing; rebuild them (results are derived data) when an older version of
    the code made them with other columns."""
    tables = (rs.refresh_runs, rs.member_results, rs.period_results)
    with engine.begin() as conn:
        inspector = inspect(conn)
        outdated = any(
            inspector.has_table(t.name) and {c["name"] for c in inspector.get_columns(t.name)} != set(t.columns.keys())
            for t in tables)
        if outdated:
            for table in reversed(tables):
                table.drop(conn, checkfirst=True)
        for table in tables:
            table.create(conn, checkfirst=True)


def _saved_rules(conn: Connection) -> tuple[TierRules, dict]:
    """The saved tier rules and satisfaction weights (defaults when none saved), as the weekly summary uses them."""
    from vipmodel.satisfaction import current_weights

    rules = latest_setting(conn, "tier_rules")
    return (DEFAULT_RULES if rules is None else TierRules.from_payload(rules.payload),
            current_weights(conn).as_dict())


def _member_frame(values: pd.DataFrame, risk: pd.DataFrame, profit: pd.Series, sales: pd.Series,
                  week_before: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``member_results``: every valued member, with tier and risk where active in the last year and
    the tier and profit of the year to a week earlier where active in it."""
    out = values.set_index("member_id")[
        ["probability_alive", "model_clv", "value_if_retained", "simple_clv", "expected_lifetime_years"]]
    risk = risk.set_index("member_id")
    out = out.join(risk[["tier", "tier_last_year", "score", "value_at_risk", "reason_primary", "action"]], how="left")
    out = out.rename(columns={"score": "churn_score"})
    out["profit_12m"] = profit.reindex(out.index).fillna(0.0)
    out["sales_12m"] = sales.reindex(out.index).fillna(0.0)
    out["value_at_risk"] = out["value_at_risk"].fillna(0.0)
    out["tier_week_before"] = week_before["tier"].reindex(out.index)
    out["profit_12m_week_before"] = week_before["profit"].reindex(out.index)
    out = out.reset_index()
    for column in ("tier", "tier_last_year", "tier_week_before", "reason_primary", "action"):
        out[column] = out[column].astype(object).where(out[column].notna(), None)
    return out[list(MEMBER_RESULT_COLUMNS)]


def _write_members(conn: Connection, run_id: int, frame: pd.DataFrame) -> None:
    # Row dictionaries a chunk at a time: at two million members all of them at once took 1.8 GB more.
    for start in range(0, len(frame), _WRITE_CHUNK):
        chunk = frame.iloc[start:start + _WRITE_CHUNK].replace({np.nan: None}).to_dict("records")
        conn.execute(insert(rs.member_results), [{"run_id": run_id, **r} for r in chunk])


def _prune(conn: Connection) -> None:
    """Delete finished runs beyond the newest :data:`_KEPT_RUNS` and failed runs older than those (running ones stay:
    another server may be writing them)."""
    runs = rs.refresh_runs
    done = list(conn.execute(select(runs.c.run_id).where(runs.c.status == "done")
                             .order_by(runs.c.run_id.desc())).scalars())
    if len(done) <= _KEPT_RUNS:
        return
    oldest_kept = done[_KEPT_RUNS - 1]
    old = select(runs.c.run_id).where(runs.c.run_id < oldest_kept, runs.c.status != "running")
    conn.execute(delete(rs.member_results).where(rs.member_results.c.run_id.in_(old)))
    conn.execute(delete(rs.period_results).where(rs.period_results.c.run_id.in_(old)))
    conn.execute(delete(runs).where(runs.c.run_id < oldest_kept, runs.c.status != "running"))


def refresh(
    engine: Engine,
    as_of: dt.date | None = None,
    *,
    force: bool = False,
    progress: Callable[[float, str], None] | None = None,
) -> RefreshRun:
    """Compute the data's results and write them into the database (or find them there already).

    Parameters
    ----------
    engine : sqlalchemy.Engine
        The mall database. The results are derived data (no user's change), so no permission is needed; the
        write of the members' rows is one short transaction at the end.
    as_of : datetime.date, optional
        Day of analysis; default the day of the latest transaction.
    force : bool, default False
        Compute again even when a finished run matches the data, code and settings.
    progress : callable, optional
        ``progress(fraction, step)`` after each step.

    Returns
    -------
    RefreshRun
        The finished run (``reused=True`` when nothing had to be computed). A failure is recorded in the run
        (status ``"failed"`` with the error) and re-raised.

    Raises
    ------
    ValueError
        ``"no purchases in the database: import transactions first"`` and the models' messages.
    """
    from vipmodel import retention
    from vipmodel.features import member_features
    from vipmodel.outcomes import add_years, year_tiers

    _ensure_tables(engine)  # a database made before results were stored (or by older code) gets their tables
    with engine.connect() as conn:
        day = as_date(as_of, "as_of") if as_of is not None else _latest_date(conn)
        if day is None:
            raise ValueError("no purchases in the database: import transactions first")
        existing = None if force else current_run(conn, day)
        if existing is not None:
            return RefreshRun(**{**existing.__dict__, "reused": True})
        stamps = {"data_version": data_token(conn), "model_version": model_version(),
                  "settings_key": settings_key(conn)}
    runs = rs.refresh_runs
    with engine.begin() as conn:
        run_id = conn.execute(insert(runs).values(as_of=day, status="running", started_at=_now(), steps="[]",
                                                  members=0, **stamps)).inserted_primary_key[0]
    steps: list[dict] = []

    def step(name: str, fraction: float, fn: Callable[[], Any], rows: Callable[[Any], int] = len) -> Any:
        began = time.perf_counter()
        value = fn()
        steps.append({"step": name, "seconds": round(time.perf_counter() - began, 3), "rows": int(rows(value))})
        if progress is not None:
            progress(fraction, name)
        return value

    try:
        # The steps ask the same yearly questions (the year's member features: at_risk's evidence, the profit
        # column; the purchase summaries): inside shared_queries each runs once.
        with engine.connect() as conn, shared_queries(max_entries=_SHARED_QUERIES):
            tier_rules, weights = _saved_rules(conn)
            values = step("member_values", 0.45, lambda: retention.member_values(conn, day),
                          rows=lambda v: len(v.frame))
            risk = step("churn_risk", 0.75, lambda: retention.at_risk(
                conn, day, values, tier_rules=tier_rules, satisfaction_weights=weights, only_flagged=False))
            year = step("profit_12m", 0.8, lambda: member_features(
                conn, add_years(day, -1) + dt.timedelta(days=1), day, period="range"))
            week_before = step("pyramid_week_before", 0.85, lambda: year_tiers(conn, day - dt.timedelta(days=7),
                                                                              tier_rules))
            periods = step("period_aggregates", 0.9, lambda: _period_rows(day, weights, conn))
        frame = _member_frame(values.frame, risk, year.set_index("member_id")["profit_contribution"],
                              year.set_index("member_id")["sales"], week_before)
        with engine.begin() as conn:
            step("write", 0.98, lambda: _write_members(conn, run_id, frame) or frame)
            conn.execute(insert(rs.period_results), [{"run_id": run_id, **r} for r in periods])
            conn.execute(update(runs).where(runs.c.run_id == run_id).values(
                status="done", finished_at=_now(), steps=json.dumps(steps), members=len(frame)))
            _prune(conn)
    except Exception as exc:
        with engine.begin() as conn:
            conn.execute(delete(rs.member_results).where(rs.member_results.c.run_id == run_id))
            conn.execute(delete(rs.period_results).where(rs.period_results.c.run_id == run_id))
            conn.execute(update(runs).where(runs.c.run_id == run_id).values(
                status="failed", finished_at=_now(), steps=json.dumps(steps), error=str(exc)[:2000]))
        raise
    if progress is not None:
        progress(1.0, "done")
    with engine.connect() as conn:
        return _run_from_row(conn.execute(select(runs).where(runs.c.run_id == run_id)).one())


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
