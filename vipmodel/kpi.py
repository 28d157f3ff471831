"""Executive KPIs with week-over-week change, computed in the database.

Definitions (stated once, used by the Overview page and the weekly deck)
-----------------------------------------------------------------------
* **Active VIPs** at ``as_of``: members with at least one sale in the 365 days ending ``as_of``.
* **Sales (week)**: net sales (returns subtracted) in the 7 days ending ``as_of``.
* **Top-20% sales share**: share of the last 365 days' net sales that comes from the 20% of active members
  with the highest net sales (the 80/20 rule the mall documents quote).
* **Annual churn rate**: of the members active in the year before the last one (days 366–730 before
  ``as_of``), the share with no sale in the last 365 days (reference: 30% in retail, DOMAIN.md).
* **Complaints (week)**: complaints filed in the 7 days ending ``as_of``.
* **Satisfaction index**: mean survey item score of the last 365 days rescaled from the 1–7 scale to 0–100,
  each dimension weighted equally unless weights are given.
* **Active card share**: active VIPs as a share of all members who had joined by ``as_of`` (the documents
  note that card usage is low: 会员卡使用率低).
* **Referrals (week)**: members who joined in the 7 days ending ``as_of`` referred by another member.
Every KPI is also computed at ``as_of - 7 days`` and ``as_of - 364 days`` (the same weekday a year earlier) so the
page can show the change against the previous week and the previous year.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from sqlalchemy import Connection, and_, case, func, select

from vipmodel import schema
from vipmodel.db import read_frame
from vipmodel.schema import signed

CHURN_REFERENCE = 0.30
KPI_NAMES: tuple[str, ...] = (
    "active_members",
    "sales_week",
    "top20_share",
    "churn_rate",
    "complaints_week",
    "satisfaction_index",
    "active_share",
    "referrals_week",
)


@dataclass(frozen=True)
class KpiSnapshot:
    """The KPIs at one date; ``None`` where the data cannot support a value (e.g. no surveys)."""

    as_of: dt.date
    active_members: int
    sales_week: float
    top20_share: float | None
    churn_rate: float | None
    complaints_week: int
    satisfaction_index: float | None
    active_share: float | None
    referrals_week: int


def _start_of(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min)


def _window(day_from: dt.date, day_to: dt.date):
    """Transactions with ``day_from < day <= day_to`` (whole days)."""
    t = schema.transactions
    return and_(t.c.ts >= _start_of(day_from + dt.timedelta(days=1)), t.c.ts < _start_of(day_to + dt.timedelta(days=1)))


def _member_sales(conn: Connection, day_from: dt.date, day_to: dt.date) -> pd.Series:
    t = schema.transactions
    query = (
        select(t.c.member_id, func.sum(signed(t.c.amount)).label("sales"))
        .where(_window(day_from, day_to))
        .group_by(t.c.member_id)
        .having(func.sum(case((t.c.is_return, 0), else_=1)) > 0)
    )
    frame = read_frame(conn, query)
    return pd.Series(frame["sales"].astype(float).fillna(0.0).to_numpy(), index=frame["member_id"].astype(str),
                     dtype=float)


def top_share(values: np.ndarray, share: float = 0.2) -> float | None:
    """Share of the total held by the top ``share`` of values (ties broken by position); None if no positive total."""
    values = np.asarray(values, dtype=float)
    total = values.sum()
    if values.size == 0 or total <= 0:
        return None
    k = max(1, int(round(share * values.size)))
    top = np.partition(values, values.size - k)[values.size - k :]
    return float(top.sum() / total)


def satisfaction_means(conn: Connection, day_from: dt.date, day_to: dt.date) -> dict[str, float]:
    """Mean item score (1–7) per dimension of the surveys dated in ``(day_from, day_to]``; dimensions unanswered
    there are left out (an empty dict without surveys)."""
    r, a, i = schema.survey_responses, schema.survey_answers, schema.survey_items
    query = (
        select(i.c.dimension, func.avg(a.c.score), func.count())
        .select_from(a.join(r, a.c.response_id == r.c.id).join(i, a.c.item_code == i.c.item_code))
        .where(r.c.survey_date > day_from, r.c.survey_date <= day_to)
        .group_by(i.c.dimension)
    )
    return {dim: float(avg) for dim, avg, n in conn.execute(query) if n}


def index_of_means(means: Mapping[str, float], weights: Mapping[str, float] | None = None) -> float | None:
    """The 0–100 satisfaction index of per-dimension mean scores (:func:`satisfaction_means`) under ``weights``
    (normalised over the answered dimensions; equal when None); None when no weighted dimension was answered."""
    if not means:
        return None
    weights = dict(weights) if weights else {d: 1.0 for d in schema.DIMENSIONS}
    unknown = sorted(set(weights) - set(schema.DIMENSIONS))
    if unknown:
        raise ValueError(f"unknown satisfaction dimensions: {', '.join(unknown)}")
    used = {d: w for d, w in weights.items() if d in means and w > 0}
    if not used:
        return None
    total = sum(used.values())
    score = sum(means[d] * w for d, w in used.items()) / total
    return (score - 1.0) / 6.0 * 100.0


def satisfaction_index(
    conn: Connection, day_from: dt.date, day_to: dt.date, weights: Mapping[str, float] | None = None
) -> float | None:
    """Weighted mean item score on 0–100 for surveys dated in ``(day_from, day_to]``; None without surveys.

    Parameters
    ----------
    weights
        Dimension -> weight (normalised here); equal weights when None. Unknown dimensions raise ``ValueError``.
    """
    return index_of_means(satisfaction_means(conn, day_from, day_to), weights)


def kpi_snapshot(conn: Connection, as_of: dt.date, weights: Mapping[str, float] | None = None) -> KpiSnapshot:
    """Compute every KPI at ``as_of`` (see the module docstring for the definitions)."""
    year = dt.timedelta(days=365)
    week = dt.timedelta(days=7)
    t, c = schema.transactions, schema.complaints

    last_year = _member_sales(conn, as_of - year, as_of)
    prior_year_members = set(
        conn.execute(
            select(t.c.member_id).where(_window(as_of - 2 * year, as_of - year), ~t.c.is_return).distinct()
        ).scalars()
    )
    churn = None
    if prior_year_members:
        retained = len(prior_year_members.intersection(last_year.index))
        churn = 1.0 - retained / len(prior_year_members)

    sales_week = conn.execute(select(func.sum(signed(t.c.amount))).where(_window(as_of - week, as_of))).scalar()
    complaints_week = conn.execute(
        select(func.count()).where(c.c.complaint_date > as_of - week, c.c.complaint_date <= as_of)
    ).scalar_one()
    m = schema.members
    members_total = conn.execute(select(func.count()).where(m.c.join_date <= as_of)).scalar_one()
    referrals_week = conn.execute(
        select(func.count()).where(m.c.join_date > as_of - week, m.c.join_date <= as_of, m.c.referred_by.is_not(None))
    ).scalar_one()
    return KpiSnapshot(
        as_of=as_of,
        active_members=int(last_year.size),
        sales_week=float(sales_week or 0.0),
        top20_share=top_share(last_year.to_numpy()),
        churn_rate=churn,
        complaints_week=int(complaints_week),
        satisfaction_index=satisfaction_index(conn, as_of - year, as_of, weights),
        active_share=int(last_year.size) / members_total if members_total else None,
        referrals_week=int(referrals_week),
    )


def kpi_values(conn: Connection, as_of: dt.date, weights: Mapping[str, float] | None = None) -> dict[str, float]:
    """:func:`kpi_snapshot` as ``{kpi: value}`` in :data:`KPI_NAMES` order, NaN where a value is missing."""
    snap = asdict(kpi_snapshot(conn, as_of, weights))
    return {k: np.nan if snap[k] is None else float(snap[k]) for k in KPI_NAMES}


def kpi_table(now: Mapping[str, float], week: Mapping[str, float], year: Mapping[str, float]) -> pd.DataFrame:
    """The frame of :func:`overview_kpis` from the :func:`kpi_values` of its three dates (e.g. stored ones)."""
    return pd.DataFrame(
        [
            {
                "kpi": name,
                "value": now[name],
                "previous": week[name],
                "change": now[name] - week[name],
                "previous_year": year[name],
                "change_year": now[name] - year[name],
                "reference": CHURN_REFERENCE if name == "churn_rate" else np.nan,
            }
            for name in KPI_NAMES
        ]
    )


def overview_kpis(conn: Connection, as_of: dt.date, weights: Mapping[str, float] | None = None) -> pd.DataFrame:
    """KPIs at ``as_of`` against one week and one year (52 weeks) earlier.

    Returns
    -------
    DataFrame
        One row per KPI in :data:`KPI_NAMES` order with columns ``kpi``, ``value``, ``previous`` (a week
        earlier), ``change`` (``value - previous``), ``previous_year`` (52 weeks earlier, the same weekday),
        ``change_year`` — NaN where a value is missing — and ``reference`` (30% for the churn rate, else NaN).
    """
    return kpi_table(*(kpi_values(conn, day, weights) for day in comparison_days(as_of)))


def comparison_days(as_of: dt.date) -> tuple[dt.date, dt.date, dt.date]:
    """``as_of``, a week earlier and 52 weeks earlier (the same weekday): the dates the KPIs are compared at."""
    return as_of, as_of - dt.timedelta(days=7), as_of - dt.timedelta(days=364)


def _as_date(value: dt.datetime | str | None) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, str):  # SQLite returns aggregate datetimes as text
        value = dt.datetime.fromisoformat(value)
    return value.date()


def latest_activity_date(conn: Connection) -> dt.date | None:
    """Date of the latest transaction (the natural 'as of' date for a demo or an export), or None when empty."""
    return _as_date(conn.execute(select(func.max(schema.transactions.c.ts))).scalar())


def first_activity_date(conn: Connection) -> dt.date | None:
    """Date of the first transaction (where a mall's history starts, in any year), or None when empty."""
    return _as_date(conn.execute(select(func.min(schema.transactions.c.ts))).scalar())


def weekly_trend(conn: Connection, as_of: dt.date, weeks: int = 26) -> pd.DataFrame:
    """Net sales, purchasing members and complaints per week for the ``weeks`` weeks ending ``as_of``.

    Returns
    -------
    DataFrame
        Columns ``week_end`` (date), ``sales``, ``buyers``, ``complaints``; oldest week first, every week present.
        The week is a CASE over bound week boundaries, so one query per table works on SQLite and PostgreSQL alike.
    """
    if weeks < 1:
        raise ValueError("weeks must be at least 1")
    t, c = schema.transactions, schema.complaints
    ends = [as_of - dt.timedelta(days=7 * k) for k in range(weeks)]  # newest first
    week_of_ts = case(*[(t.c.ts >= _start_of(end - dt.timedelta(days=6)), k) for k, end in enumerate(ends)])
    week_of_day = case(*[(c.c.complaint_date > end - dt.timedelta(days=7), k) for k, end in enumerate(ends)])
    sales = conn.execute(
        select(week_of_ts.label("k"), func.sum(signed(t.c.amount)), func.count(t.c.member_id.distinct()))
        .where(_window(as_of - dt.timedelta(days=7 * weeks), as_of))
        .group_by(week_of_ts)
    ).all()
    complaints = conn.execute(
        select(week_of_day.label("k"), func.count())
        .where(c.c.complaint_date > as_of - dt.timedelta(days=7 * weeks), c.c.complaint_date <= as_of)
        .group_by(week_of_day)
    ).all()
    frame = pd.DataFrame({"week_end": ends, "sales": 0.0, "buyers": 0, "complaints": 0})
    for k, total, buyers in sales:
        frame.loc[k, ["sales", "buyers"]] = [float(total or 0.0), int(buyers)]
    for k, n in complaints:
        frame.loc[k, "complaints"] = int(n)
    return frame.iloc[::-1].reset_index(drop=True)
