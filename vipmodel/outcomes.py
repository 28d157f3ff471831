"""Member-year panels: what members did in one year, and whether they were still buying the next.

Every analysis that asks "what happened next" (satisfaction weights, complaint-to-churn evidence, the care
response model, churn-risk evaluation) stands on the same panel, defined once here so they agree:

* Windows are whole years ending at ``as_of``: window ``k`` (``k = 0`` the latest) is
  ``[as_of - (k+1) years + 1 day, as_of - k years]``.
* A row is a member **active** in window ``w`` (at least one sale in it) for which window ``w + 1`` is
  observed. ``churned`` is True when the member made no sale in window ``w + 1`` — the same definition as the
  annual churn KPI (:mod:`vipmodel.kpi`).
* Features describe window ``w`` only (never the outcome window), so nothing that defines the label leaks into
  the features. One exception is deliberate and kept apart: the ``*_final`` complaint columns (below).

Complaint handling status, two views
------------------------------------
A complaint filed near the end of window ``w`` is often resolved a few weeks into window ``w + 1``.

* ``<category>_<status>`` (and ``mean_resolution_days``): the status **as known at the end of window** ``w``, so
  such a complaint counts as *unresolved*. This is what a model that predicts churn *at* the end of the window may
  use (retention scores, the care response model): it never reads a date after the window.
* ``<category>_<status>_final`` (and ``mean_resolution_days_final``): the status **as recorded by the end of the
  outcome window** ``w + 1``: a complaint resolved after the window counts as resolved (quickly or slowly, by its
  real resolution time); *unresolved* means still open a year later. This is the right label for the churn model
  of :mod:`vipmodel.complaints`, which asks how the handling a member experienced relates to churn: labelling a
  slow resolution "unresolved" because the calendar year ended mixes resolved members into the unresolved group.
  Its price: a resolution dated inside the outcome window could in principle depend on the member's behaviour
  there (a member who stopped coming is harder to satisfy), so these columns describe, they do not predict.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, and_, func, select

from vipmodel import schema
from vipmodel.db import read_frame
from vipmodel.features import member_features
from vipmodel.pyramid import DEFAULT_RULES, TierRules, assign_tiers
from vipmodel.reuse import shares_result

SLOW_AFTER_DAYS = 7
COMPLAINT_STATUSES: tuple[str, ...] = ("resolved_quick", "resolved_slow", "unresolved")
FINAL_SUFFIX = "_final"
# The handling status as recorded by the end of the outcome window (module docstring), added after the original
# columns so that every earlier column keeps its place and meaning.
FINAL_COUNT_COLUMNS: tuple[str, ...] = tuple(
    f"{cat}_{status}{FINAL_SUFFIX}" for cat in schema.COMPLAINT_CATEGORIES for status in COMPLAINT_STATUSES
)
PANEL_COLUMNS: tuple[str, ...] = (
    "member_id",
    "window_start",
    "window_end",
    "tier",
    "sales",
    "profit_contribution",
    "n_visits",
    "care_cost",
    "n_complaints",
    *(f"{cat}_{status}" for cat in schema.COMPLAINT_CATEGORIES for status in COMPLAINT_STATUSES),
    "max_severity",
    "mean_resolution_days",
    *(f"sat_{dim}" for dim in schema.DIMENSIONS),
    "expectation",
    "churned",
    "next_sales",
    *FINAL_COUNT_COLUMNS,
    f"mean_resolution_days{FINAL_SUFFIX}",
)


def add_years(day: dt.date, years: int) -> dt.date:
    """``day`` moved by whole years (29 February becomes 28 February where needed)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def year_tiers(conn: Connection | Engine, end: dt.date, rules: TierRules = DEFAULT_RULES) -> pd.DataFrame:
    """The pyramid of the year ending ``end``: tier and trailing-year profit of each member with a purchase in it.

    Parameters
    ----------
    conn : sqlalchemy.Engine or sqlalchemy.Connection
    end : datetime.date
        Last day of the year (the year is ``[add_years(end, -1) + 1 day, end]``).
    rules : vipmodel.pyramid.TierRules, optional

    Returns
    -------
    pandas.DataFrame
        Indexed by ``member_id`` (str), columns ``tier`` (``"A"``...``"D"``) and ``profit`` (float); empty when
        nobody bought in the year.
    """
    feats = member_features(conn, add_years(end, -1) + dt.timedelta(days=1), end, period="range")
    active = feats[feats["n_transactions"] > 0].reset_index(drop=True)
    if active.empty:
        return pd.DataFrame({"tier": pd.Series(dtype=object), "profit": pd.Series(dtype=float)},
                            index=pd.Index([], name="member_id"))
    tiers = assign_tiers(active, rules).astype(str)
    return pd.DataFrame(
        {"tier": tiers.to_numpy(), "profit": active["profit_contribution"].astype(float).to_numpy()},
        index=pd.Index(active["member_id"].astype(str).to_numpy(), name="member_id"),
    )


def year_windows(as_of: dt.date, n: int) -> list[tuple[dt.date, dt.date]]:
    """The ``n`` whole-year windows ending at ``as_of``, oldest first, as (first day, last day)."""
    if n < 1:
        raise ValueError("n must be at least 1")
    windows = []
    for k in range(n - 1, -1, -1):
        end = add_years(as_of, -k)
        windows.append((add_years(end, -1) + dt.timedelta(days=1), end))
    return windows


@shares_result
def complaint_features(
    conn: Connection, start: dt.date, end: dt.date, known_by: dt.date | None = None
) -> pd.DataFrame:
    """Per member, complaints filed in ``[start, end]`` counted by category and handling status.

    A complaint is *resolved_quick* when resolved within :data:`SLOW_AFTER_DAYS` days, *resolved_slow* when
    resolved later, *unresolved* when it has no resolved date or was resolved after ``known_by`` (what the mall
    knew on that day).

    Parameters
    ----------
    conn
        Connection to the mall database.
    start, end
        First and last filing day counted.
    known_by
        The day the handling status is read on; default ``end`` (the status known at the end of the window). A
        later day (e.g. the end of the following year) counts resolutions recorded up to then.

    Returns
    -------
    DataFrame
        Index ``member_id``; columns ``<category>_<status>`` (counts), ``max_severity``, ``mean_resolution_days``
        (of the complaints resolved by ``known_by``).

    Raises
    ------
    ValueError
        ``"known_by must not be before end"``.
    """
    known_by = end if known_by is None else known_by
    if known_by < end:
        raise ValueError("known_by must not be before end")
    c = schema.complaints
    frame = read_frame(conn, select(c.c.member_id, c.c.category, c.c.severity, c.c.complaint_date, c.c.resolved_date)
                       .where(and_(c.c.complaint_date >= start, c.c.complaint_date <= end)))
    columns = [f"{cat}_{status}" for cat in schema.COMPLAINT_CATEGORIES for status in COMPLAINT_STATUSES]
    if frame.empty:
        return pd.DataFrame(columns=[*columns, "max_severity", "mean_resolution_days"], index=pd.Index([], name="member_id"))
    filed = pd.to_datetime(frame["complaint_date"])
    resolved = pd.to_datetime(frame["resolved_date"])
    resolved = resolved.where(resolved <= pd.Timestamp(known_by))
    days = (resolved - filed).dt.days
    status = np.where(days.isna(), "unresolved", np.where(days <= SLOW_AFTER_DAYS, "resolved_quick", "resolved_slow"))
    frame["key"] = frame["category"] + "_" + status
    counts = pd.crosstab(frame["member_id"], frame["key"]).reindex(columns=columns, fill_value=0)
    frame["days"] = days
    extra = frame.groupby("member_id").agg(max_severity=("severity", "max"), mean_resolution_days=("days", "mean"))
    return counts.join(extra)


@shares_result
def survey_features(conn: Connection, start: dt.date, end: dt.date) -> pd.DataFrame:
    """Per member, mean item score per dimension over surveys dated in ``[start, end]``, and mean expectation.

    Returns
    -------
    DataFrame
        Index ``member_id``; columns ``sat_<dimension>`` (1–7, NaN when the dimension was not answered) and
        ``expectation``. Aggregated in SQL by member and dimension.
    """
    r, a, i = schema.survey_responses, schema.survey_answers, schema.survey_items
    in_window = and_(r.c.survey_date >= start, r.c.survey_date <= end)
    scores = read_frame(conn, select(r.c.member_id, i.c.dimension, func.avg(a.c.score).label("score"))
                        .select_from(a.join(r, a.c.response_id == r.c.id).join(i, a.c.item_code == i.c.item_code))
                        .where(in_window)
                        .group_by(r.c.member_id, i.c.dimension))
    expectation = read_frame(conn, select(r.c.member_id, func.avg(r.c.expectation).label("expectation"))
                             .where(in_window).group_by(r.c.member_id))
    columns = [f"sat_{d}" for d in schema.DIMENSIONS]
    if scores.empty:
        return pd.DataFrame(columns=[*columns, "expectation"], index=pd.Index([], name="member_id"), dtype=float)
    wide = (
        scores.assign(score=lambda f: f["score"].astype(float), dimension=lambda f: "sat_" + f["dimension"])
        .pivot(index="member_id", columns="dimension", values="score")
        .reindex(columns=columns)
    )
    exp = expectation.set_index("member_id")
    return wide.join(exp["expectation"].astype(float), how="left")


@shares_result
def churn_panel(
    conn: Connection | Engine, as_of: dt.date, years: int = 2, rules: TierRules = DEFAULT_RULES
) -> pd.DataFrame:
    """Members active in each of ``years`` consecutive windows, their features there, and the next window's outcome.

    Parameters
    ----------
    conn
        Engine or connection to the mall database.
    as_of
        Last day of the latest *outcome* window: with ``years = 2`` the panel covers feature windows ending at
        ``as_of - 2 years`` and ``as_of - 1 year``.
    years
        Number of feature windows (each paired with the following window as outcome).
    rules
        Tier rules applied within each feature window (default: the 1/4/15/80 pyramid).

    Returns
    -------
    DataFrame
        Columns :data:`PANEL_COLUMNS`; one row per (member, feature window). Counts are 0 and survey scores NaN
        where a member had no complaint or survey. ``<category>_<status>`` counts complaints by their status at
        the end of the window, ``<category>_<status>_final`` by their status at the end of the outcome window
        (see the module docstring for which to use when). Empty (with those columns) when the data does not
        cover two windows.
    """
    if isinstance(conn, Engine):
        with conn.connect() as connection:
            return churn_panel(connection, as_of, years, rules)
    windows = year_windows(as_of, years + 1)
    frames = []
    for (start, end), (next_start, next_end) in zip(windows[:-1], windows[1:]):
        feats = member_features(conn, start, end, period="range")
        active = feats[feats["n_transactions"] > 0].set_index("member_id")
        if active.empty:
            continue
        nxt = member_features(conn, next_start, next_end, period="range").set_index("member_id")
        next_sales = nxt["sales"].where(nxt["n_transactions"] > 0)
        panel = active[["sales", "profit_contribution", "n_visits", "care_cost", "n_complaints"]].copy()
        panel["tier"] = assign_tiers(active.reset_index(), rules).astype(str)
        panel = panel.join(complaint_features(conn, start, end)).join(survey_features(conn, start, end))
        # The same complaints with their status as recorded by the end of the outcome window (module docstring).
        final = complaint_features(conn, start, end, known_by=next_end)
        final = final[[*(c.removesuffix(FINAL_SUFFIX) for c in FINAL_COUNT_COLUMNS), "mean_resolution_days"]]
        panel = panel.join(final.add_suffix(FINAL_SUFFIX))
        panel["next_sales"] = next_sales.reindex(panel.index).fillna(0.0)
        panel["churned"] = ~panel.index.isin(next_sales.dropna().index)
        panel["window_start"], panel["window_end"] = start, end
        frames.append(panel.reset_index())
    if not frames:
        return pd.DataFrame(columns=list(PANEL_COLUMNS))
    out = pd.concat(frames, ignore_index=True)
    count_columns = [c for c in PANEL_COLUMNS if c.startswith(("product_", "service_"))]
    out[count_columns] = out[count_columns].fillna(0).astype(int)
    out["max_severity"] = out["max_severity"].fillna(0).astype(int)
    return out[list(PANEL_COLUMNS)]
