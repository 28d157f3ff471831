"""Per-member features aggregated inside the database: the input of the pyramid, migration and CLV models.

Two products are computed here, both with ``GROUP BY`` running in SQL so that only one row per member (and
period) ever reaches pandas:

* :func:`member_features` -- purchases, returns, discounts, care and complaint costs and the resulting profit
  contribution (DOMAIN.md: margin - discount - care - complaint compensation) per member and calendar period.
* :func:`calibration_summary` -- the frequency / recency / T / monetary summary that the BG/NBD and
  Gamma-Gamma models take, built with the CDNOW conventions of Fader, Hardie & Lee (2005).

Periods
-------
``period`` is one of :data:`PERIODS`. Calendar periods (``month``, ``quarter``, ``year``) are labelled
``'2025-07'``, ``'2025-Q3'``, ``'2025'``; ``range`` is a single period labelled ``'range'`` covering the whole
requested range. ``period_start`` / ``period_end`` are the calendar bounds *clipped to* ``[start, end]``, so a
partial first or last period ends on the requested day (recency and tenure are measured at that day, never at
a date in the future). The period key is computed in SQL from integer year and month expressions
(``EXTRACT`` on PostgreSQL, ``strftime`` on SQLite, both produced by SQLAlchemy), so every backend groups
identically.

References
----------
.. [1] Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting Your Customers" the Easy Way: An
   Alternative to the Pareto/NBD Model. *Marketing Science* 24(2), 275-284.
.. [2] Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). RFM and CLV: Using Iso-Value Curves for Customer
   Base Analysis. *Journal of Marketing Research* 42(4), 415-430.
.. [3] Zeithaml, V. A., Rust, R. T. & Lemon, K. N. (2001). The Customer Pyramid: Creating and Serving
   Profitable Customers. *California Management Review* 43(4), 118-142.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence

import numpy as np
import pandas as pd
from sqlalchemy import (
    Connection,
    Date,
    DateTime,
    Engine,
    Float,
    Integer,
    Select,
    String,
    case,
    cast,
    extract,
    func,
    literal,
    literal_column,
    null,
    select,
    type_coerce,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement, aggregate_strings

from vipmodel import schema
from vipmodel.db import as_date, borrow_connection, read_frame
from vipmodel.margins import MarginRates, current_margin_rates, margin_sql
from vipmodel.reuse import shares_result
from vipmodel.schema import signed

PERIODS: tuple[str, ...] = ("month", "quarter", "year", "range")

FEATURE_COLUMNS: tuple[str, ...] = (
    "member_id",
    "period",
    "period_start",
    "period_end",
    "n_transactions",
    "n_visits",
    "sales",
    "gross_margin",
    "discount",
    "returns_amount",
    "care_cost",
    "complaint_cost",
    "n_complaints",
    "profit_contribution",
    "first_purchase",
    "last_purchase",
    "recency_days",
    "tenure_days",
    "home_store",
)
CALIBRATION_COLUMNS: tuple[str, ...] = ("member_id", "frequency", "recency", "T", "monetary_value", "first_purchase")
HOLDOUT_COLUMNS: tuple[str, ...] = ("holdout_purchases", "holdout_sales")

_COUNT_COLUMNS = ("n_transactions", "n_visits", "n_complaints")
_MONEY_COLUMNS = ("sales", "gross_margin", "discount", "returns_amount", "care_cost", "complaint_cost")
# Bound lists stay well below SQLite's and PostgreSQL's limits on parameters per statement.
_MEMBER_CHUNK = 5_000
# Sums are exact NUMERIC inside PostgreSQL and cast to double precision only on the way out: the driver then
# returns floats directly instead of Decimal objects (seconds per million rows).


class day_of(FunctionElement):
    """The calendar day of a timestamp, as a ``DATE`` on every backend."""

    type = Date()
    inherit_cache = True
    name = "day_of"


@compiles(day_of)
def _day_of_default(element, compiler, **kw) -> str:
    return f"CAST({compiler.process(element.clauses, **kw)} AS DATE)"


@compiles(day_of, "sqlite")
def _day_of_sqlite(element, compiler, **kw) -> str:
    # CAST(... AS DATE) has numeric affinity in SQLite and would turn '2025-07-01 10:00' into 2025.
    return f"date({compiler.process(element.clauses, **kw)})"


class days_between(FunctionElement):
    """Whole days from the first date to the second (``later - earlier``), on every backend."""

    type = Integer()
    inherit_cache = True
    name = "days_between"


@compiles(days_between)
def _days_between_default(element, compiler, **kw) -> str:
    earlier, later = list(element.clauses)
    return f"({compiler.process(later, **kw)} - {compiler.process(earlier, **kw)})"


@compiles(days_between, "sqlite")
def _days_between_sqlite(element, compiler, **kw) -> str:
    earlier, later = list(element.clauses)
    return (
        f"CAST(ROUND(julianday({compiler.process(later, **kw)}) - "
        f"julianday({compiler.process(earlier, **kw)})) AS INTEGER)"
    )


class unindexed(FunctionElement):
    """``column`` itself, which SQLite must not look up in an index (unary ``+``, a no-op on every value).

    For a pass over (nearly) every transaction, SQLite's plan through an index on ``ts`` or ``(member_id, ts)``
    reads the table's pages in index order, one random read per row; the plain scan and an in-memory sort
    for the GROUP BY took half the time (200,000-member demo mall). Other backends plan this themselves and get
    the column unchanged.
    """

    inherit_cache = True
    name = "unindexed"

    def __init__(self, column) -> None:
        super().__init__(column)
        self.type = column.type


@compiles(unindexed)
def _unindexed_default(element, compiler, **kw) -> str:
    return compiler.process(element.clauses, **kw)


@compiles(unindexed, "sqlite")
def _unindexed_sqlite(element, compiler, **kw) -> str:
    return f"+{compiler.process(element.clauses, **kw)}"


def _int(value: int) -> ColumnElement:
    # Constants are inlined rather than bound: PostgreSQL compares GROUP BY and SELECT expressions textually,
    # and two separately bound "$1 * 100" and "$4 * 100" would not match.
    return literal_column(str(int(value)), Integer)


def _period_key_sql(period: str, day: ColumnElement) -> ColumnElement | None:
    """Integer key of the calendar period containing ``day`` (None for ``range``)."""
    if period == "range":
        return None
    year = cast(extract("year", day), Integer)
    if period == "year":
        return year
    month = cast(extract("month", day), Integer)
    if period == "month":
        return year * _int(100) + month
    return year * _int(10) + (month + _int(2)) // _int(3)


def _period_key_py(period: str, day: dt.date) -> int:
    """The same key as :func:`_period_key_sql`, computed in Python."""
    if period == "range":
        return 0
    if period == "year":
        return day.year
    if period == "month":
        return day.year * 100 + day.month
    return day.year * 10 + (day.month + 2) // 3


def _check_period(period: str) -> None:
    if period not in PERIODS:
        raise ValueError(f"unknown period {period!r}: expected one of month, quarter, year, range")


def _check_range(start: dt.date, end: dt.date) -> None:
    if start > end:
        raise ValueError(f"start ({start.isoformat()}) is after end ({end.isoformat()})")


def _bounds(start: dt.date, end: dt.date, period: str) -> pd.DataFrame:
    """Periods overlapping ``[start, end]`` with their integer key (the SQL group key)."""
    rows: list[tuple[int, str, dt.date, dt.date]] = []
    if period == "range":
        return pd.DataFrame({"key": [0], "period": ["range"], "period_start": [start], "period_end": [end]}).astype(
            {"key": "int64"}
        )
    cursor = start
    while cursor <= end:
        if period == "year":
            first, label = dt.date(cursor.year, 1, 1), str(cursor.year)
            nxt = dt.date(cursor.year + 1, 1, 1)
        elif period == "quarter":
            q = (cursor.month - 1) // 3 + 1
            first, label = dt.date(cursor.year, 3 * q - 2, 1), f"{cursor.year}-Q{q}"
            nxt = dt.date(cursor.year + 1, 1, 1) if q == 4 else dt.date(cursor.year, 3 * q + 1, 1)
        else:
            first, label = dt.date(cursor.year, cursor.month, 1), f"{cursor.year}-{cursor.month:02d}"
            nxt = dt.date(cursor.year + 1, 1, 1) if cursor.month == 12 else dt.date(cursor.year, cursor.month + 1, 1)
        last = nxt - dt.timedelta(days=1)
        rows.append((_period_key_py(period, first), label, max(first, start), min(last, end)))
        cursor = nxt
    return pd.DataFrame(rows, columns=["key", "period", "period_start", "period_end"]).astype({"key": "int64"})


def period_bounds(start: dt.date, end: dt.date, period: str) -> pd.DataFrame:
    """The calendar periods of kind ``period`` that overlap ``[start, end]``, clipped to that range.

    Parameters
    ----------
    start, end : datetime.date
        First and last day of the range (both inclusive).
    period : str
        One of :data:`PERIODS`.

    Returns
    -------
    pandas.DataFrame
        ``period`` (str label: ``'2025'``, ``'2025-Q3'``, ``'2025-07'`` or ``'range'``), ``period_start`` and
        ``period_end`` (``datetime.date``, inclusive, clipped to ``[start, end]``), in calendar order.

    Raises
    ------
    ValueError
        ``"unknown period ..."`` for a period not in :data:`PERIODS`; ``"start (...) is after end (...)"``.
    """
    _check_period(period)
    start, end = as_date(start, "start"), as_date(end, "end")
    _check_range(start, end)
    return _bounds(start, end, period).drop(columns="key")


def _empty_features() -> pd.DataFrame:
    dtypes: dict[str, object] = {
        "member_id": "str",
        "period": "str",
        "period_start": "object",
        "period_end": "object",
        **{c: "int64" for c in _COUNT_COLUMNS},
        **{c: "float64" for c in (*_MONEY_COLUMNS, "profit_contribution", "recency_days", "tenure_days")},
        "first_purchase": "datetime64[us]",
        "last_purchase": "datetime64[us]",
        "home_store": "object",
    }
    return pd.DataFrame({c: pd.Series(dtype=dtypes[c]) for c in FEATURE_COLUMNS})


def _chunks(members: Sequence[str] | None) -> Iterator[list[str] | None]:
    if members is None:
        yield None
        return
    unique = list(dict.fromkeys(members))
    for i in range(0, len(unique), _MEMBER_CHUNK):
        yield unique[i : i + _MEMBER_CHUNK]


def _with_member_attributes(agg) -> Select:
    """``agg`` joined to the member's join date and home store, after aggregation (on the primary key)."""
    m = schema.members
    return select(agg, m.c.join_date, m.c.home_store).join_from(agg, m, agg.c.member_id == m.c.member_id)


def _transactions_query(
    period: str, start_ts: dt.datetime, end_ts: dt.datetime, chunk: list[str] | None, store: str | None,
    rates: MarginRates,
) -> Select:
    t = schema.transactions
    day = day_of(t.c.ts)
    conditions = [t.c.ts >= start_ts, t.c.ts < end_ts]  # sargable on ix_transactions_ts / (member_id, ts)
    if chunk is not None:
        conditions.append(t.c.member_id.in_(chunk))
    if store is not None:
        conditions.append(t.c.store == store)
    sale_ts = case((t.c.is_return, null()), else_=t.c.ts)
    # A single pass over the rows in range. Measured on PostgreSQL 15 it beats first grouping per member-day
    # (to count visits with a SUM): member-days are sparse, so the DISTINCT per group is cheap.
    key = _period_key_sql(period, t.c.ts)
    group = [t.c.member_id] + ([key] if key is not None else [])
    columns = [t.c.member_id] + ([key.label("key")] if key is not None else [])
    per_period = (
        select(
            *columns,
            func.sum(case((t.c.is_return, 0), else_=1)).label("n_transactions"),
            func.count(case((t.c.is_return, null()), else_=day).distinct()).label("n_visits"),
            cast(func.sum(signed(t.c.amount)), Float).label("sales"),
            cast(func.sum(signed(margin_sql(rates))), Float).label("gross_margin"),
            cast(func.sum(signed(t.c.discount)), Float).label("discount"),
            cast(func.sum(case((t.c.is_return, t.c.amount), else_=0)), Float).label("returns_amount"),
            type_coerce(func.min(sale_ts), DateTime()).label("first_purchase"),
            type_coerce(func.max(sale_ts), DateTime()).label("last_purchase"),
        )
        .where(*conditions)
        .group_by(*group)
        .subquery("per_period")
    )
    return _with_member_attributes(per_period)


def _dated_query(
    table,
    date_column: str,
    aggregates: list[ColumnElement],
    period: str,
    start: dt.date,
    end: dt.date,
    chunk: list[str] | None,
    store: str | None,
) -> Select:
    day = table.c[date_column]
    conditions = [day >= start, day <= end]
    if chunk is not None:
        conditions.append(table.c.member_id.in_(chunk))
    if store is not None:
        m = schema.members
        conditions.append(table.c.member_id.in_(select(m.c.member_id).where(m.c.home_store == store)))
    key = _period_key_sql(period, day)
    group = [table.c.member_id] + ([key] if key is not None else [])
    columns = [table.c.member_id] + ([key.label("key")] if key is not None else [])
    agg = select(*columns, *aggregates).where(*conditions).group_by(*group).subquery("agg")
    return _with_member_attributes(agg)


@shares_result
def member_features(
    conn: Connection | Engine,
    start: dt.date,
    end: dt.date,
    period: str = "range",
    members: Sequence[str] | None = None,
    store: str | None = None,
    margin_rates: MarginRates | None = None,
) -> pd.DataFrame:
    """Purchase, cost and profit-contribution features per member and period, aggregated in the database.

    A member gets a row for every period of ``[start, end]`` in which it has any activity: a sale, a return,
    a care action or a complaint. Periods without activity produce no row (absence means inactivity).

    Parameters
    ----------
    conn : sqlalchemy.Engine or sqlalchemy.Connection
        Database holding the :mod:`vipmodel.schema` tables. Reads ``transactions`` (``member_id, ts, store,
        amount, gross_margin, discount, is_return``), ``care_actions`` (``member_id, action_date, cost``),
        ``complaints`` (``member_id, complaint_date, compensation_cost``) and ``members`` (``member_id,
        join_date, home_store``).
    start, end : datetime.date
        First and last day of the range, both inclusive and whole days: a sale at ``end`` 23:59 counts, one at
        the next midnight does not. A ``datetime`` is reduced to its date.
    period : {"month", "quarter", "year", "range"}, default "range"
        Calendar period of each row (see the module docstring); ``"range"`` gives one row per member.
    members : sequence of str, optional
        Restrict to these member ids (an empty sequence gives an empty frame).
    store : str, optional
        Restrict *transactions* to this store. Care actions and complaints are not tied to a store, so they
        are then kept only for members whose ``home_store`` is ``store``: a member of another home store who
        shops here shows the purchases but none of those costs.
    margin_rates : MarginRates, optional
        Rates for sales exported without a margin (``gross_margin`` NULL): their margin is ``amount × rate``
        (:mod:`vipmodel.margins`). Default: the mall's saved rates, else the product's default rate.

    Returns
    -------
    pandas.DataFrame
        One row per member and period, sorted by ``member_id`` and ``period_start``, columns in this order:

        ``member_id`` (str); ``period`` (str label); ``period_start``, ``period_end`` (``datetime.date``,
        inclusive, clipped to the range); ``n_transactions`` (sale rows, returns excluded); ``n_visits``
        (distinct days with a sale); ``sales``, ``gross_margin``, ``discount`` (net of returns: a return
        subtracts its amount, margin and discount, see :mod:`vipmodel.schema`); ``returns_amount`` (amount
        returned, >= 0); ``care_cost``; ``complaint_cost`` (compensation); ``n_complaints``;
        ``profit_contribution`` (``gross_margin - discount - care_cost - complaint_cost`` [3]_);
        ``first_purchase``, ``last_purchase`` (timestamp of the first/last sale in the period, NaT if none);
        ``recency_days`` (calendar days from the day of ``last_purchase`` to ``period_end``, NaN if none);
        ``tenure_days`` (``period_end - join_date`` in days; NaN without a join date, negative if the member
        joined after the period); ``home_store``. Money is rounded to cents; counts are int64.

    Raises
    ------
    ValueError
        ``"unknown period 'week': expected one of month, quarter, year, range"``;
        ``"start (2025-02-01) is after end (2025-01-01)"``; ``"start must be a date, got str"``;
        ``"members must be a sequence of member ids, not a string"``.
    """
    _check_period(period)
    start, end = as_date(start, "start"), as_date(end, "end")
    _check_range(start, end)
    if isinstance(members, str):
        raise ValueError("members must be a sequence of member ids, not a string")  # noqa: TRY004 - house style
    start_ts = dt.datetime.combine(start, dt.time())
    end_ts = dt.datetime.combine(end + dt.timedelta(days=1), dt.time())

    c, k = schema.care_actions, schema.complaints
    frames: dict[str, list[pd.DataFrame]] = {"tx": [], "care": [], "complaints": []}
    with borrow_connection(conn) as connection:
        for chunk in _chunks(members):
            if chunk is not None and not chunk:
                continue
            if margin_rates is None:
                margin_rates, _ = current_margin_rates(connection)
            frames["tx"].append(
                read_frame(connection, _transactions_query(period, start_ts, end_ts, chunk, store, margin_rates))
            )
            frames["care"].append(
                read_frame(
                    connection,
                    _dated_query(
                        c,
                        "action_date",
                        [cast(func.sum(c.c.cost), Float).label("care_cost")],
                        period,
                        start,
                        end,
                        chunk,
                        store,
                    ),
                )
            )
            frames["complaints"].append(
                read_frame(
                    connection,
                    _dated_query(
                        k,
                        "complaint_date",
                        [
                            cast(func.sum(k.c.compensation_cost), Float).label("complaint_cost"),
                            func.count().label("n_complaints"),
                        ],
                        period,
                        start,
                        end,
                        chunk,
                        store,
                    ),
                )
            )
    parts = {name: pd.concat(dfs, ignore_index=True) if dfs else pd.DataFrame() for name, dfs in frames.items()}
    if all(df.empty for df in parts.values()):
        return _empty_features()
    return _assemble(parts, start, end, period)


def _assemble(parts: dict[str, pd.DataFrame], start: dt.date, end: dt.date, period: str) -> pd.DataFrame:
    keys = ["member_id", "key"]
    attributes = []
    pieces = []
    for df in parts.values():
        if df.empty:
            continue
        df = df.copy()
        if "key" not in df.columns:
            df["key"] = 0
        df["key"] = df["key"].astype("int64")
        attributes.append(df[["member_id", "join_date", "home_store"]])
        pieces.append(df.drop(columns=["join_date", "home_store"]))
    merged = pieces[0]
    for piece in pieces[1:]:
        merged = merged.merge(piece, on=keys, how="outer")
    for column in _COUNT_COLUMNS:
        merged[column] = merged[column].fillna(0).astype("int64") if column in merged else 0
    for column in _MONEY_COLUMNS:
        merged[column] = merged[column].astype("float64").fillna(0.0).round(2) if column in merged else 0.0
    for column in ("first_purchase", "last_purchase"):
        merged[column] = pd.to_datetime(merged[column]) if column in merged else pd.NaT
        merged[column] = merged[column].astype("datetime64[us]")
    merged["profit_contribution"] = (
        merged["gross_margin"] - merged["discount"] - merged["care_cost"] - merged["complaint_cost"]
    ).round(2)

    attrs = pd.concat(attributes, ignore_index=True).drop_duplicates("member_id")
    merged = merged.merge(attrs, on="member_id", how="left")
    bounds = _bounds(start, end, period)
    merged = merged.merge(bounds, on="key", how="left", validate="many_to_one")
    if merged["period"].isna().any():  # a key outside the range would mean the SQL and Python keys disagree
        raise AssertionError("period keys computed in SQL do not match the calendar periods")

    period_end = pd.to_datetime(merged["period_end"])
    merged["recency_days"] = (period_end - merged["last_purchase"].dt.normalize()).dt.days.astype("float64")
    join_date = pd.to_datetime(merged["join_date"])
    merged["tenure_days"] = (period_end - join_date).dt.days.astype("float64")
    merged["member_id"] = merged["member_id"].astype("str")
    merged["period"] = merged["period"].astype("str")
    merged["home_store"] = merged["home_store"].astype("object").where(merged["home_store"].notna(), None)
    merged = merged.sort_values(["member_id", "key"], kind="stable").reset_index(drop=True)
    return merged[list(FEATURE_COLUMNS)]


def _empty_calibration(holdout: bool) -> pd.DataFrame:
    dtypes = {
        "member_id": "str",
        "frequency": "int64",
        "recency": "float64",
        "T": "float64",
        "monetary_value": "float64",
        "first_purchase": "object",
        "holdout_purchases": "int64",
        "holdout_sales": "float64",
    }
    columns = CALIBRATION_COLUMNS + (HOLDOUT_COLUMNS if holdout else ())
    return pd.DataFrame({c: pd.Series(dtype=dtypes[c]) for c in columns})


_PAIR_ROWS = 100_000  # members whose purchase days are unpacked at once (some 2.6 million sales at the demo's rate)


def _summary_of_pairs(rows: pd.DataFrame, holdout_days: int) -> pd.DataFrame:
    """Per member of ``rows`` (``member_id``, ``n``, ``sales`` as "days_back:amount,..."), the calibration summary's
    parts: ``first_back``/``last_back`` (days before the last day of the first purchase day and of the last one in
    calibration), ``frequency``, ``repeat_sum`` and the holdout's ``holdout_purchases``/``holdout_sales``.

    Calibration is ``days_back >= holdout_days``; members whose first purchase day is in the holdout are left out.
    """
    if rows.empty:
        return pd.DataFrame()
    pairs = np.fromstring(",".join(rows["sales"].tolist()).replace(":", ","), dtype=np.float64, sep=",")
    counts = rows["n"].to_numpy(dtype=np.int64)
    days, amounts = pairs[0::2].astype(np.int64), pairs[1::2]
    if len(days) != counts.sum():
        raise AssertionError("the purchase days read do not match their count")
    span = int(days.max()) + 1
    # One int64 key per sale: member, then day ascending (the first purchase day first).
    key = np.repeat(np.arange(len(rows), dtype=np.int64) * span, counts) + (span - 1 - days)
    order = np.argsort(key, kind="stable")
    key, amounts = key[order], amounts[order]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    value = np.add.reduceat(amounts, starts)  # each distinct purchase day's amount
    member, reversed_day = np.divmod(key[starts], span)
    day_back = span - 1 - reversed_day
    first = np.flatnonzero(np.r_[True, member[1:] != member[:-1]])  # each member's first purchase day
    owner = np.repeat(np.arange(len(first)), np.diff(np.r_[first, len(member)]))
    in_calibration = day_back >= holdout_days
    repeat = in_calibration.copy()
    repeat[first] = False
    n_days = np.bincount(owner, weights=in_calibration, minlength=len(first)).astype(np.int64)
    last_back = np.full(len(first), span, dtype=np.int64)
    np.minimum.at(last_back, owner[in_calibration], day_back[in_calibration])
    out = pd.DataFrame({
        "member_id": rows["member_id"].to_numpy()[member[first]],
        "first_back": day_back[first],
        "last_back": last_back,
        "frequency": n_days - 1,
        "repeat_sum": np.bincount(owner, weights=np.where(repeat, value, 0.0), minlength=len(first)),
        "holdout_purchases": np.bincount(owner, weights=~in_calibration, minlength=len(first)).astype(np.int64),
        "holdout_sales": np.bincount(owner, weights=np.where(in_calibration, 0.0, value), minlength=len(first)),
    })
    return out[day_back[first] >= holdout_days]


@shares_result
def calibration_summary(
    conn: Connection | Engine,
    calibration_end: dt.date,
    holdout_end: dt.date | None = None,
    observation_start: dt.date | None = None,
    time_unit_days: float = 7.0,
) -> pd.DataFrame:
    """Frequency / recency / T / monetary value per member, the input of BG/NBD and Gamma-Gamma [1]_ [2]_.

    Follows the CDNOW convention of Fader, Hardie & Lee exactly: purchases on the same calendar day are one
    purchase (their amounts are summed); only members whose first purchase is on or before
    ``calibration_end`` are included; time is counted in units of ``time_unit_days`` (weeks by default) from
    the member's first purchase day. Return rows are ignored entirely (neither a purchase nor a negative
    amount): the models count buying occasions, and a return does not undo the visit.

    Parameters
    ----------
    conn : sqlalchemy.Engine or sqlalchemy.Connection
        Database holding ``transactions`` (``member_id, ts, amount, is_return`` are read).
    calibration_end : datetime.date
        Last day of the calibration period (inclusive, whole day).
    holdout_end : datetime.date, optional
        Last day of the holdout period ``(calibration_end, holdout_end]``; adds the holdout columns.
    observation_start : datetime.date, optional
        First day of data to use; earlier transactions are ignored, so a member's "first purchase" is its first
        purchase on or after this day. Use it to cut off history that predates reliable data.
    time_unit_days : float, default 7.0
        Length of one time unit in days (7 = weeks, as in CDNOW).

    Returns
    -------
    pandas.DataFrame
        Sorted by ``member_id``: ``member_id`` (str); ``frequency`` (int, distinct purchase days after the
        first, within calibration); ``recency`` (last minus first purchase day, in time units; 0 when
        ``frequency`` is 0); ``T`` (``calibration_end`` minus first purchase day, in time units);
        ``monetary_value`` (mean value of the repeat purchase days, 0 when ``frequency`` is 0);
        ``first_purchase`` (``datetime.date``); with ``holdout_end`` also ``holdout_purchases`` (int, distinct
        purchase days in the holdout) and ``holdout_sales`` (their total amount).

    Raises
    ------
    ValueError
        ``"holdout_end (...) must be after calibration_end (...)"``;
        ``"observation_start (...) is after calibration_end (...)"``;
        ``"time_unit_days must be positive, got 0"``; ``"calibration_end must be a date, got str"``.
    """
    calibration_end = as_date(calibration_end, "calibration_end")
    if holdout_end is not None:
        holdout_end = as_date(holdout_end, "holdout_end")
        if holdout_end <= calibration_end:
            raise ValueError(
                f"holdout_end ({holdout_end.isoformat()}) must be after calibration_end ({calibration_end.isoformat()})"
            )
    if observation_start is not None:
        observation_start = as_date(observation_start, "observation_start")
        if observation_start > calibration_end:
            raise ValueError(
                f"observation_start ({observation_start.isoformat()}) is after "
                f"calibration_end ({calibration_end.isoformat()})"
            )
    if not (isinstance(time_unit_days, (int, float)) and np.isfinite(time_unit_days) and time_unit_days > 0):
        raise ValueError(f"time_unit_days must be positive, got {time_unit_days}")

    t = schema.transactions
    last_day = holdout_end or calibration_end
    conditions = [
        unindexed(t.c.ts) < dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time()),
        t.c.is_return.is_not(True),
    ]
    if observation_start is not None:
        conditions.append(unindexed(t.c.ts) >= dt.datetime.combine(observation_start, dt.time()))
    # One row per member with its sales as "days before last_day:amount" pairs (GROUP_CONCAT / STRING_AGG); numpy
    # then sums each purchase day and finds the first one. The former SQL grouped by member and day and ranked the
    # days in a window function: 2.3 times slower (benchmarks/RESULTS.md, 2026-12-07).
    back = days_between(day_of(t.c.ts), literal(last_day, Date()))
    query = (
        select(t.c.member_id, func.count().label("n"),
               aggregate_strings(cast(back, String) + ":" + cast(t.c.amount, String), ",").label("sales"))
        .where(*conditions)
        .group_by(unindexed(t.c.member_id))
    )
    with borrow_connection(conn) as connection:
        rows = read_frame(connection, query)
    holdout_days = (last_day - calibration_end).days
    parts = [_summary_of_pairs(rows.iloc[i:i + _PAIR_ROWS], holdout_days) for i in range(0, len(rows), _PAIR_ROWS)]
    parts = [p for p in parts if len(p)]
    if not parts:
        return _empty_calibration(holdout_end is not None)
    df = pd.concat(parts, ignore_index=True)
    first_back = df["first_back"].to_numpy()
    out = pd.DataFrame(
        {
            "member_id": df["member_id"].astype("str"),
            "frequency": df["frequency"],
            "recency": (first_back - df["last_back"].to_numpy()) / time_unit_days,
            "T": (first_back - holdout_days) / time_unit_days,
            "monetary_value": np.where(df["frequency"] > 0,
                                       df["repeat_sum"] / df["frequency"].clip(lower=1), 0.0),
            "first_purchase": [last_day - dt.timedelta(days=int(b)) for b in first_back],
        }
    )
    if holdout_end is not None:
        out["holdout_purchases"] = df["holdout_purchases"].astype("int64")
        out["holdout_sales"] = df["holdout_sales"].astype("float64").round(2)
    # Python and the database may order strings differently (collations); the contract is Python order.
    return out.sort_values("member_id", kind="stable").reset_index(drop=True)
