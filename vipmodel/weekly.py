"""The weekly summary for the weekly meeting (周例会): one ISO week's numbers, independent of any output format.

:func:`weekly_summary` gathers, for one ISO week (Monday to Sunday), what the meeting looks at: the executive KPIs
with week-over-week and year-over-year change, the pyramid and the week's flows between tiers, the biggest
movements, the value at risk, complaints, satisfaction and care spend against plan, and the *highlights*: the
facts worth a sentence, ranked by the size of their effect. The exports (deck, HTML, PDF, Excel, the Report page,
the ``report`` command) only word and draw what it returns; every number of a highlight is copied from a row of
the table it names, so a sentence can never disagree with its chart.

Definitions
-----------
* **Week**: ISO 8601 week ``"YYYY-Www"``; its *end* is the Sunday. Every "at week end" figure is computed
  ``as_of`` that Sunday; the previous week ends 7 days earlier, the same week a year earlier ends 364 days
  earlier (52 weeks, the same weekday, like :func:`vipmodel.kpi.overview_kpis`).
* **KPIs**: :func:`vipmodel.kpi.overview_kpis` at the week's Sunday (the 7 days ending a Sunday are the ISO
  week). Comparisons with a week before the first transaction are NaN, not a change against zero.
* **Tier at week end**: the pyramid (:func:`vipmodel.pyramid.assign_tiers`, the saved ``tier_rules`` setting
  unless ``rules`` is given) of the members with a purchase in the year ending that Sunday
  (:func:`vipmodel.features.member_features` over ``[add_years(end, -1) + 1 day, end]``, the window
  :func:`vipmodel.retention.at_risk` tiers on). The same at the previous week's end gives the week's flows.
  ``"new"``: in the pyramid at week end but not a week earlier; ``"lost"``: the reverse.
* **Value** of flows, downgrades and new Platinum members: the member's model lifetime value at week end
  (``model_clv`` of :func:`vipmodel.retention.member_values`: BG/NBD + Gamma-Gamma, 3-year horizon,
  discounted; the same value for every flow, including members who left the pyramid). A downgrade's
  ``value_lost`` is the lifetime value that left the higher tier. NaN when the value models cannot be fitted
  (e.g. in the first weeks of a mall's data).
* **Value at risk**: the column ``value_at_risk`` of :func:`vipmodel.retention.at_risk` (read, never
  recomputed here), summed over every member active in the year to the week's end.
* **Complaints**: *opened* -- filed in the week; *resolved* -- resolved in the week; *overdue* -- still open
  at week end (no resolution on or before the Sunday) after more than
  :data:`vipmodel.outcomes.SLOW_AFTER_DAYS` days, the threshold after which a resolution counts as slow.
  An *open complaint* (in flows and tiers) is any complaint filed on or before the Sunday and not resolved by it.
* **Satisfaction**: the 0-100 index of :func:`vipmodel.kpi.satisfaction_index` over the 365 days ending the
  Sunday, per dimension and for the saved weights (row ``"index"``, equal to the KPI), against a week earlier.
* **Care**: care-action cost recorded in the week, by tier at week end (``"inactive"``: members outside the
  pyramid), against the saved ``care_plan`` setting's annual cost per member x members of the tier x 7 / 365.25.

Highlight sizes
---------------
:attr:`Highlight.size` is a fraction >= 0: *the share of its base that the effect moves*, so that highlights of
different kinds can be ranked together. Per key: ``kpi_change`` |week change| / |previous week| (not for
``complaints_week`` and ``satisfaction_index``, told by the complaints and satisfaction highlights);
``tier_down`` members who left the tier downward (to a lower tier or out of the pyramid) / members a week
earlier; ``new_platinum`` new A members / A members a week earlier; ``complaints_change`` |change| /
max(previous week, 1); ``satisfaction_change`` |change| / previous score; ``care_vs_plan`` |difference| / plan;
``value_at_risk`` value at risk / total value if retained (a level, not a change: the share of the members'
future value that is at risk).

References
----------
.. [1] ISO 8601-1:2019, *Date and time -- Representations for information interchange*, 5.2.2 (week dates).
.. [2] Zeithaml, V. A., Rust, R. T. & Lemon, K. N. (2001). The customer pyramid: creating and serving profitable
   customers. *California Management Review*, 43(4), 118-142.
.. [3] Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). RFM and CLV: Using Iso-Value Curves for Customer Base
   Analysis. *Journal of Marketing Research* 42(4), 415-430.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, and_, func, or_, select

from vipmodel import schema
from vipmodel.db import borrow_connection, read_frame
from vipmodel.features import day_of
from vipmodel.kpi import first_activity_date, index_of_means, kpi_table, latest_activity_date, overview_kpis
from vipmodel.outcomes import SLOW_AFTER_DAYS, year_tiers
from vipmodel.pyramid import DEFAULT_RULES, TierRules, require_columns
from vipmodel.schema import DIMENSIONS, TIERS

__all__ = [
    "CARE_COLUMNS",
    "COMPLAINT_COLUMNS",
    "COMPLAINT_MEASURES",
    "DOWNGRADE_COLUMNS",
    "FLOW_COLUMNS",
    "HIGHLIGHT_KEYS",
    "KPI_COLUMNS",
    "Highlight",
    "NoDataForWeek",
    "WeeklySummary",
    "available_weeks",
    "parse_week",
    "week_label",
    "weekly_summary",
]

NEW = "new"
LOST = "lost"
INACTIVE = "inactive"
INDEX_ROW = "index"
FROM_STATES: tuple[str, ...] = (*TIERS, NEW)
TO_STATES: tuple[str, ...] = (*TIERS, LOST)
KPI_COLUMNS: tuple[str, ...] = ("kpi", "value", "previous_week", "week_change", "previous_year", "year_change")
TIER_COLUMNS: tuple[str, ...] = (
    "tier", "members", "members_previous_week", "change", "moved_in", "moved_out",
    "down_members", "down_value", "down_with_open_complaint",
)
FLOW_COLUMNS: tuple[str, ...] = ("from_state", "to_state", "direction", "members", "value", "with_open_complaint")
DOWNGRADE_COLUMNS: tuple[str, ...] = (
    "member_id", "from_tier", "to_tier", "value_lost", "profit_previous_week", "profit", "open_complaint",
)
NEW_PLATINUM_COLUMNS: tuple[str, ...] = ("member_id", "from_state", "value")
AT_RISK_COLUMNS: tuple[str, ...] = (
    "member_id", "tier", "churn_probability", "value_if_retained", "value_at_risk", "reason_primary", "action",
)
COMPLAINT_MEASURES: tuple[str, ...] = ("opened", "resolved", "overdue")
COMPLAINT_COLUMNS: tuple[str, ...] = ("measure", "value", "previous_week", "change")
OVERDUE_COLUMNS: tuple[str, ...] = ("complaint_id", "member_id", "tier", "opened", "type", "severity", "days_open")
SATISFACTION_COLUMNS: tuple[str, ...] = ("dimension", "score", "previous", "change")
CARE_COLUMNS: tuple[str, ...] = ("tier", "members", "spend", "plan", "difference")
HIGHLIGHT_KEYS: tuple[str, ...] = (
    "kpi_change", "tier_down", "new_platinum", "value_at_risk", "complaints_change", "satisfaction_change",
    "care_vs_plan",
)
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
# KPIs whose week is told by another section's highlight (complaints opened, the satisfaction index row).
_SAID_ELSEWHERE = frozenset({"complaints_week", "satisfaction_index"})
_RISK_INPUT = ("member_id", "tier", "score", "value_at_risk")


class NoDataForWeek(ValueError):
    """The requested week has no data; the message names the week and the first and last weeks that exist."""


@dataclass(frozen=True)
class Highlight:
    """One fact worth a sentence; the dashboard words it from ``key`` and ``values`` (no display words here).

    Attributes
    ----------
    key : str
        One of :data:`HIGHLIGHT_KEYS`, e.g. ``"tier_down"``.
    section : str
        The :class:`WeeklySummary` table the numbers come from (``"kpis"``, ``"tiers"``, ``"new_platinum"``,
        ``"at_risk"``, ``"complaints"``, ``"satisfaction"``, ``"care"``).
    values : Mapping
        Every number and name the sentence shows, copied from that table (read-only).
    size : float
        The size of the effect, a fraction >= 0 used for ranking (module docstring, "Highlight sizes").
    """

    key: str
    section: str
    values: Mapping[str, Any]
    size: float


@dataclass(frozen=True)
class WeeklySummary:
    """Everything the weekly meeting shows for one ISO week (definitions in the module docstring).

    Attributes
    ----------
    week, start, end : str, datetime.date, datetime.date
        ``"2026-W44"``, its Monday and its Sunday.
    previous_week, previous_year_week : str, str or None
        The week before, and the week 52 weeks before (None when it precedes the data).
    kpis : DataFrame
        :data:`KPI_COLUMNS`, one row per KPI of :data:`vipmodel.kpi.KPI_NAMES`, plus ``reference``.
    tiers : DataFrame
        One row per tier A-D: ``members`` at week end, ``members_previous_week``, ``change``; ``moved_in`` /
        ``moved_out`` (members who entered / left the tier this week, from or to any state);
        ``down_members`` (left to a lower tier or out of the pyramid), their lifetime value ``down_value``,
        and ``down_with_open_complaint`` (of them, with a complaint open at week end).
    flows : DataFrame
        :data:`FLOW_COLUMNS`, one row per pair of :data:`FROM_STATES` x :data:`TO_STATES` except new -> lost
        (zero rows kept). ``direction`` is ``"same"``, ``"up"``, ``"down"``, ``"new"`` or ``"lost"``;
        ``value`` is the members' **lifetime value** at week end (``model_clv``).
    downgrades : DataFrame
        :data:`DOWNGRADE_COLUMNS`, the ``top_n`` members who left a tier downward (``to_tier`` may be
        ``"lost"``) with the highest ``value_lost`` (lifetime value), biggest first; ``profit`` columns are the
        trailing-year profit contribution at each week end.
    new_platinum : DataFrame
        Every member in A at week end who was not a week earlier: ``member_id``, ``from_state``, ``value``.
    at_risk : DataFrame
        :data:`AT_RISK_COLUMNS`, the ``top_n`` members with the highest value at risk (no personal data).
    value_at_risk : float
        Total value at risk over every member active in the year to the week's end (NaN without value models).
    complaints : DataFrame
        :data:`COMPLAINT_COLUMNS`, rows ``opened``, ``resolved``, ``overdue``.
    overdue_complaints : DataFrame
        :data:`OVERDUE_COLUMNS`, every complaint overdue at week end, longest open first (``type`` is the
        complaint category).
    satisfaction : DataFrame
        :data:`SATISFACTION_COLUMNS` (+ ``responses``): one row per dimension and ``"index"``; empty with these
        columns when no survey was answered in the year.
    care : DataFrame
        :data:`CARE_COLUMNS`: tiers A-D and ``"inactive"``; ``plan`` / ``difference`` NaN without a saved plan.
    highlights : tuple of Highlight
        Ordered by ``size``, biggest first.
    partial : bool
        The data ends inside the week (the last week of the data): its figures cover fewer than 7 days.
    rules_version, care_plan_version : int or None
        Versions of the saved settings used (None: default tier rules / no care plan, or ``rules`` given).
    """

    week: str
    start: dt.date
    end: dt.date
    previous_week: str
    previous_year_week: str | None
    kpis: pd.DataFrame
    tiers: pd.DataFrame
    flows: pd.DataFrame
    downgrades: pd.DataFrame
    new_platinum: pd.DataFrame
    at_risk: pd.DataFrame
    value_at_risk: float
    complaints: pd.DataFrame
    overdue_complaints: pd.DataFrame
    satisfaction: pd.DataFrame
    care: pd.DataFrame
    highlights: tuple[Highlight, ...]
    partial: bool = False
    rules_version: int | None = None
    care_plan_version: int | None = None


# ------------------------------------------------------------------------------------------------------ weeks


def week_label(day: dt.date) -> str:
    """The ISO week ``"YYYY-Www"`` that contains ``day`` (ISO year: 2024-12-30 is ``"2025-W01"``)."""
    year, week, _ = day.isocalendar()
    return f"{year:04d}-W{week:02d}"


def parse_week(week: str) -> tuple[dt.date, dt.date]:
    """The Monday and Sunday of an ISO 8601 week.

    Parameters
    ----------
    week : str
        ``"YYYY-Www"``, e.g. ``"2026-W47"``; surrounding spaces are ignored, a lower-case ``w`` is accepted.

    Returns
    -------
    (datetime.date, datetime.date)
        Monday and Sunday of the week (ISO 8601 [1]_: weeks start on Monday; week 1 holds the year's first
        Thursday, so week 1 may start in December and week 52/53 may end in January).

    Raises
    ------
    ValueError
        ``"week must be text like '2026-W47', got int"``, ``"week must look like '2026-W47' (year, 'W', two-digit
        week), got '2026-47'"``, ``"week 53 does not exist in 2025: ISO year 2025 has 52 weeks"``,
        ``"week 0 does not exist: ISO weeks are numbered from 1"``.

    References
    ----------
    .. [1] ISO 8601-1:2019, *Date and time -- Representations for information interchange*, 5.2.2.
    """
    if not isinstance(week, str):
        raise ValueError(f"week must be text like '2026-W47', got {type(week).__name__}")  # noqa: TRY004
    match = _WEEK.match(week.strip().upper())
    if match is None:
        raise ValueError(f"week must look like '2026-W47' (year, 'W', two-digit week), got {week!r}")
    year, number = int(match.group(1)), int(match.group(2))
    if number < 1:
        raise ValueError(f"week {number} does not exist: ISO weeks are numbered from 1")
    weeks_in_year = dt.date(year, 12, 28).isocalendar()[1]  # 28 December is always in the year's last week
    if number > weeks_in_year or year < 1:
        raise ValueError(f"week {number} does not exist in {year}: ISO year {year} has {weeks_in_year} weeks")
    monday = dt.date.fromisocalendar(year, number, 1)
    return monday, monday + dt.timedelta(days=6)


def available_weeks(conn: Connection | Engine) -> tuple[str, ...]:
    """The ISO weeks that have at least one transaction (sale or return), oldest first.

    The distinct days are found in SQL (one row per day with data, a few thousand at most); the weeks are
    derived from them in Python, identically on SQLite and PostgreSQL.

    Returns
    -------
    tuple of str
        ``("2023-W44", "2023-W45", ...)``; empty when there are no transactions.
    """
    t = schema.transactions
    with borrow_connection(conn) as connection:
        days = connection.execute(select(day_of(t.c.ts)).distinct()).scalars().all()
    weeks = {week_label(_to_date(d)) for d in days if d is not None}
    return tuple(sorted(weeks))


def _to_date(value: Any) -> dt.date:
    if isinstance(value, str):  # SQLite returns dates of expressions as text
        return dt.date.fromisoformat(value[:10])
    if isinstance(value, dt.datetime):
        return value.date()
    return value


def _check_week_has_data(conn: Connection, week: str, start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    first, last = first_activity_date(conn), latest_activity_date(conn)
    if first is None or last is None:
        raise NoDataForWeek(f"no data for week {week}: the database has no transactions (import transactions first)")
    span = f"the data covers {week_label(first)} to {week_label(last)}"
    if end < first or start > last:
        raise NoDataForWeek(f"week {week} is outside the data: {span}")
    t = schema.transactions
    found = conn.execute(
        select(t.c.id).where(t.c.ts >= _day_start(start), t.c.ts < _day_start(end + dt.timedelta(days=1))).limit(1)
    ).first()
    if found is None:
        raise NoDataForWeek(f"no transactions in week {week} ({start} to {end}); {span}")
    return first, last


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min)


# ------------------------------------------------------------------------------------------------------- parts


def _rules(conn: Connection, rules: Any) -> tuple[TierRules, int | None]:
    from vipmodel.settings import latest_setting

    if rules is None:
        saved = latest_setting(conn, "tier_rules")
        return (DEFAULT_RULES, None) if saved is None else (TierRules.from_payload(saved.payload), saved.version)
    if not isinstance(rules, TierRules):
        raise ValueError(f"rules must be a TierRules, got {type(rules).__name__}")
    return rules, None


def _kpis(conn: Connection, end: dt.date, weights: Mapping[str, float], first: dt.date, run: Any) -> pd.DataFrame:
    if run is not None:  # the refresh stored the KPIs of the three dates under the saved weights
        from vipmodel.kpi import comparison_days
        from vipmodel.results import period_results

        stored = period_results(conn, run, "kpi")
        frame = kpi_table(*(stored[day] for day in comparison_days(end)))
    else:
        frame = overview_kpis(conn, end, weights)
    frame = frame.rename(columns={"previous": "previous_week", "change": "week_change", "change_year": "year_change"})
    # A comparison with a week before the data began is a comparison with nothing, not with zero.
    if end - dt.timedelta(days=7) < first:
        frame[["previous_week", "week_change"]] = np.nan
    if end - dt.timedelta(days=364) < first:
        frame[["previous_year", "year_change"]] = np.nan
    return frame[[*KPI_COLUMNS, "reference"]]


def _stored_pyramid(stored: pd.DataFrame, tier: str, profit: str) -> pd.DataFrame:
    """The :func:`vipmodel.outcomes.year_tiers` frame from a run's member rows (members with a tier in ``tier``)."""
    rows = stored[stored[tier].notna()]
    return pd.DataFrame({"tier": rows[tier].astype(str).to_numpy(), "profit": rows[profit].astype(float).to_numpy()},
                        index=pd.Index(rows["member_id"].astype(str).to_numpy(), name="member_id"))


def _open_complaint_members(conn: Connection, end: dt.date) -> set[str]:
    c = schema.complaints
    query = (
        select(c.c.member_id)
        .where(c.c.complaint_date <= end, or_(c.c.resolved_date.is_(None), c.c.resolved_date > end))
        .distinct()
    )
    return {str(m) for m in conn.execute(query).scalars()}


_STORED_COLUMNS = ["tier", "profit_12m", "tier_week_before", "profit_12m_week_before", "model_clv",
                   "value_if_retained", "churn_score", "value_at_risk", "reason_primary", "action"]


def _stored_values(stored: pd.DataFrame) -> tuple[pd.Series, pd.DataFrame]:
    """Lifetime value per member and the at-risk frame from a run's member rows."""
    clv = stored.set_index("member_id")["model_clv"].astype(float)
    # at_risk's rows are the members active in the year to ``end``: the ones the refresh scored.
    risk = stored[stored["churn_score"].notna()].rename(columns={"churn_score": "score"}).reset_index(drop=True)
    return clv, risk


def _values(conn: Connection, end: dt.date, rules: TierRules, weights: Mapping[str, float]
            ) -> tuple[pd.Series | None, pd.DataFrame | None]:
    """Lifetime value per member and the full at-risk frame at ``end``, fitted here; (None, None) when the models
    cannot fit."""
    from vipmodel import retention

    try:
        values = retention.member_values(conn, end)
        risk = retention.at_risk(conn, end, values, tier_rules=rules, satisfaction_weights=weights,
                                 only_flagged=False)
    except ValueError:
        # e.g. nobody has bought twice yet: the value models have nothing to learn from in a mall's first weeks.
        return None, None
    clv = values.frame.set_index("member_id")["model_clv"].astype(float)
    clv.index = clv.index.astype(str)
    return clv, risk


def _movements(
    now: pd.DataFrame, before: pd.DataFrame, clv: pd.Series | None, open_members: set[str]
) -> pd.DataFrame:
    """One row per member in the pyramid at either week end: from_state, to_state, value, open complaint, profits."""
    ids = now.index.union(before.index)
    moves = pd.DataFrame(index=ids)
    moves["from_state"] = before["tier"].reindex(ids).fillna(NEW)
    moves["to_state"] = now["tier"].reindex(ids).fillna(LOST)
    moves["value"] = clv.reindex(ids).to_numpy() if clv is not None else np.nan
    moves["open_complaint"] = ids.isin(list(open_members))
    moves["profit_previous_week"] = before["profit"].reindex(ids)
    moves["profit"] = now["profit"].reindex(ids)
    rank = {s: k for k, s in enumerate(TIERS)}
    f = moves["from_state"].map(rank)
    t = moves["to_state"].map(rank)
    moves["direction"] = np.select(
        [moves["from_state"] == NEW, moves["to_state"] == LOST, f == t, t < f],
        [NEW, LOST, "same", "up"],
        default="down",
    )
    # Leaving the pyramid is the deepest downgrade: a tier's "down" members include those lost.
    moves["down"] = (moves["direction"] == "down") | ((moves["direction"] == LOST) & (moves["from_state"] != NEW))
    return moves


def _sum(values: pd.Series) -> float:
    """Sum that stays NaN when the values are unknown (no value model) instead of becoming 0."""
    return float(values.sum()) if values.notna().all() else math.nan


def _flows(moves: pd.DataFrame) -> pd.DataFrame:
    rows = []
    grouped = {key: g for key, g in moves.groupby(["from_state", "to_state"], sort=False)}
    for a in FROM_STATES:
        for b in TO_STATES:
            if a == NEW and b == LOST:
                continue
            g = grouped.get((a, b), moves.iloc[:0])
            direction = NEW if a == NEW else LOST if b == LOST else (
                "same" if a == b else "up" if TIERS.index(b) < TIERS.index(a) else "down")
            rows.append((a, b, direction, len(g), _sum(g["value"]), int(g["open_complaint"].sum())))
    frame = pd.DataFrame(rows, columns=list(FLOW_COLUMNS))
    return frame.astype({"members": "int64", "with_open_complaint": "int64", "value": float})


def _tier_table(moves: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for tier in TIERS:
        was, now = moves["from_state"] == tier, moves["to_state"] == tier
        down = moves[was & moves["down"]]
        rows.append({
            "tier": tier,
            "members": int(now.sum()),
            "members_previous_week": int(was.sum()),
            "change": int(now.sum()) - int(was.sum()),
            "moved_in": int((now & ~was).sum()),
            "moved_out": int((was & ~now).sum()),
            "down_members": len(down),
            "down_value": _sum(down["value"]),
            "down_with_open_complaint": int(down["open_complaint"].sum()),
        })
    return pd.DataFrame(rows, columns=list(TIER_COLUMNS))


def _downgrades(moves: pd.DataFrame, top_n: int) -> pd.DataFrame:
    down = moves[moves["down"]].rename(columns={"from_state": "from_tier", "to_state": "to_tier",
                                                "value": "value_lost"})
    down = down.rename_axis("member_id").reset_index()
    down = down.sort_values(["value_lost", "member_id"], ascending=[False, True], kind="stable", na_position="last")
    return down[list(DOWNGRADE_COLUMNS)].head(top_n).reset_index(drop=True)


def _new_platinum(moves: pd.DataFrame) -> pd.DataFrame:
    top = TIERS[0]
    new = moves[(moves["to_state"] == top) & (moves["from_state"] != top)].rename_axis("member_id").reset_index()
    new = new.sort_values(["value", "member_id"], ascending=[False, True], kind="stable", na_position="last")
    return new[list(NEW_PLATINUM_COLUMNS)].reset_index(drop=True)


def _at_risk_table(risk: pd.DataFrame | None, top_n: int) -> tuple[pd.DataFrame, float, float]:
    """Top ``top_n`` rows, total value at risk, total value if retained (NaN, NaN without value models)."""
    if risk is None:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in AT_RISK_COLUMNS}), math.nan, math.nan
    if len(risk) == 0:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in AT_RISK_COLUMNS}), 0.0, 0.0
    require_columns(risk, _RISK_INPUT, "at_risk")
    # value_if_retained is the lead's new column of retention.at_risk; model_clv was the value before it.
    retained_column = "value_if_retained" if "value_if_retained" in risk.columns else "model_clv"
    frame = pd.DataFrame({
        "member_id": risk["member_id"].astype(str),
        "tier": risk["tier"],
        "churn_probability": risk["score"].astype(float),
        "value_if_retained": risk[retained_column].astype(float),
        "value_at_risk": risk["value_at_risk"].astype(float),
        "reason_primary": risk.get("reason_primary"),
        "action": risk.get("action"),
    })
    total = float(frame["value_at_risk"].sum())
    retained = float(frame["value_if_retained"].clip(lower=0.0).sum())
    top = frame.sort_values(["value_at_risk", "member_id"], ascending=[False, True], kind="stable").head(top_n)
    return top[list(AT_RISK_COLUMNS)].reset_index(drop=True), total, retained


def _complaint_counts(conn: Connection, start: dt.date, end: dt.date) -> dict[str, int]:
    c = schema.complaints
    opened = conn.execute(
        select(func.count()).where(c.c.complaint_date >= start, c.c.complaint_date <= end)).scalar_one()
    resolved = conn.execute(
        select(func.count()).where(c.c.resolved_date >= start, c.c.resolved_date <= end)).scalar_one()
    overdue = conn.execute(select(func.count()).where(_overdue_at(end))).scalar_one()
    return {"opened": int(opened), "resolved": int(resolved), "overdue": int(overdue)}


def _overdue_at(end: dt.date):
    c = schema.complaints
    return and_(
        c.c.complaint_date < end - dt.timedelta(days=SLOW_AFTER_DAYS),
        or_(c.c.resolved_date.is_(None), c.c.resolved_date > end),
    )


def _complaints(conn: Connection, start: dt.date, end: dt.date) -> pd.DataFrame:
    now = _complaint_counts(conn, start, end)
    before = _complaint_counts(conn, start - dt.timedelta(days=7), end - dt.timedelta(days=7))
    return pd.DataFrame(
        [(m, now[m], before[m], now[m] - before[m]) for m in COMPLAINT_MEASURES], columns=list(COMPLAINT_COLUMNS)
    )


def _overdue_complaints(conn: Connection, end: dt.date, tiers: pd.Series) -> pd.DataFrame:
    c = schema.complaints
    frame = read_frame(
        conn,
        select(c.c.complaint_id, c.c.member_id, c.c.complaint_date.label("opened"), c.c.category.label("type"),
               c.c.severity).where(_overdue_at(end)),
    )
    if frame.empty:
        return pd.DataFrame({col: pd.Series(dtype=object) for col in OVERDUE_COLUMNS})
    frame["member_id"] = frame["member_id"].astype(str)
    frame["opened"] = frame["opened"].map(_to_date)
    frame["tier"] = frame["member_id"].map(tiers).fillna(INACTIVE)
    frame["days_open"] = [(end - d).days for d in frame["opened"]]
    frame = frame.sort_values(["days_open", "complaint_id"], ascending=[False, True], kind="stable")
    return frame[list(OVERDUE_COLUMNS)].reset_index(drop=True)


def _satisfaction(conn: Connection, end: dt.date, weights: Mapping[str, float], run: Any) -> pd.DataFrame:
    year = dt.timedelta(days=365)
    before = end - dt.timedelta(days=7)
    if run is not None:  # the refresh stored the dimension means of both years and the year's responses
        from vipmodel.results import period_results

        means = period_results(conn, run, "satisfaction_mean")
        now_means, before_means = means.get(end, {}), means.get(before, {})
        responses = period_results(conn, run, "survey_responses")[end]["count"]
    else:
        from vipmodel.kpi import satisfaction_means

        now_means = satisfaction_means(conn, end - year, end)
        before_means = satisfaction_means(conn, before - year, before)
        r = schema.survey_responses
        responses = conn.execute(
            select(func.count()).where(r.c.survey_date > end - year, r.c.survey_date <= end)).scalar_one()
    rows = []
    for name, w in [*((d, {d: 1.0}) for d in DIMENSIONS), (INDEX_ROW, weights)]:
        score = index_of_means(now_means, w)
        previous = index_of_means(before_means, w)
        if score is None and previous is None:
            continue
        s = math.nan if score is None else score
        p = math.nan if previous is None else previous
        rows.append((name, s, p, s - p))
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype=float if c != "dimension" else object) for c in SATISFACTION_COLUMNS})
    frame = pd.DataFrame(rows, columns=list(SATISFACTION_COLUMNS))
    frame["responses"] = int(responses)
    return frame


def _care(conn: Connection, start: dt.date, end: dt.date, tiers: pd.Series) -> tuple[pd.DataFrame, int | None]:
    from vipmodel.care import CarePlan
    from vipmodel.settings import latest_setting

    ca = schema.care_actions
    spend = read_frame(
        conn,
        select(ca.c.member_id, func.sum(ca.c.cost).label("spend"))
        .where(ca.c.action_date >= start, ca.c.action_date <= end)
        .group_by(ca.c.member_id),
    )
    by_tier = pd.Series(dtype=float)
    if not spend.empty:
        spend["tier"] = spend["member_id"].astype(str).map(tiers).fillna(INACTIVE)
        by_tier = spend.groupby("tier")["spend"].sum().astype(float)
    saved = latest_setting(conn, "care_plan")
    plan = None if saved is None else CarePlan.from_payload(saved.payload)
    counts = tiers.value_counts()
    rows = []
    for tier in (*TIERS, INACTIVE):
        members = int(counts.get(tier, 0)) if tier != INACTIVE else 0
        s = float(by_tier.get(tier, 0.0))
        if plan is not None and tier != INACTIVE:
            planned = plan.annual_cost_per_member(tier) * members * 7.0 / 365.25
        else:
            planned = math.nan
        rows.append((tier, members, s, planned, s - planned))
    return pd.DataFrame(rows, columns=list(CARE_COLUMNS)), None if saved is None else saved.version


# -------------------------------------------------------------------------------------------------- highlights


def _relative(change: float, base: float) -> float:
    return abs(change) / abs(base) if base and math.isfinite(base) and math.isfinite(change) else math.nan


def _highlights(summary: dict[str, Any], retained_total: float) -> tuple[Highlight, ...]:
    out: list[Highlight] = []

    def add(key: str, section: str, values: dict[str, Any], size: float) -> None:
        if math.isfinite(size) and size > 0:
            out.append(Highlight(key, section, MappingProxyType(values), float(size)))

    for row in summary["kpis"].itertuples(index=False):
        if row.kpi in _SAID_ELSEWHERE:
            continue
        add("kpi_change", "kpis", {"kpi": row.kpi, "value": row.value, "previous_week": row.previous_week,
                                   "week_change": row.week_change}, _relative(row.week_change, row.previous_week))
    for row in summary["tiers"].itertuples(index=False):
        add("tier_down", "tiers", {"tier": row.tier, "members": row.down_members, "value": row.down_value,
                                   "with_open_complaint": row.down_with_open_complaint},
            _relative(row.down_members, row.members_previous_week))
    new = summary["new_platinum"]
    top = summary["tiers"].iloc[0]
    add("new_platinum", "new_platinum", {"tier": TIERS[0], "members": len(new), "value": _sum(new["value"])},
        _relative(len(new), top["members_previous_week"]))
    risk = summary["at_risk"]
    if len(risk) and math.isfinite(summary["value_at_risk"]):
        add("value_at_risk", "at_risk", {"value_at_risk": summary["value_at_risk"], "top_members": len(risk),
                                         "top_value": float(risk["value_at_risk"].sum())},
            _relative(summary["value_at_risk"], retained_total))
    for row in summary["complaints"].itertuples(index=False):
        add("complaints_change", "complaints", {"measure": row.measure, "value": row.value,
                                                "previous_week": row.previous_week, "change": row.change},
            abs(row.change) / max(row.previous_week, 1))
    for row in summary["satisfaction"].itertuples(index=False):
        add("satisfaction_change", "satisfaction", {"dimension": row.dimension, "score": row.score,
                                                    "previous": row.previous, "change": row.change},
            _relative(row.change, row.previous))
    for row in summary["care"].itertuples(index=False):
        add("care_vs_plan", "care", {"tier": row.tier, "spend": row.spend, "plan": row.plan,
                                     "difference": row.difference}, _relative(row.difference, row.plan))
    # Stable sort: equal sizes keep the order of the sections above.
    return tuple(sorted(out, key=lambda h: -h.size))


# ----------------------------------------------------------------------------------------------------- summary


def weekly_summary(
    conn: Connection | Engine, week: str, *, rules: TierRules | None = None, top_n: int = 20,
    use_results: bool = True,
) -> WeeklySummary:
    """The weekly summary of ISO week ``week``: tables and ranked highlights (definitions: module docstring).

    Parameters
    ----------
    conn : sqlalchemy.Engine or sqlalchemy.Connection
        The mall database; only data dated on or before the week's Sunday is read.
    week : str
        ISO week ``"YYYY-Www"`` (:func:`parse_week`).
    rules : vipmodel.pyramid.TierRules, optional
        Pyramid rules; default: the saved ``tier_rules`` setting, else the 1/4/15/80 pyramid.
    top_n : int, default 20
        Rows kept in ``downgrades`` and ``at_risk``.
    use_results : bool, default True
        Read what a refresh for the week's Sunday stored (:mod:`vipmodel.results`) when it matches the data, code
        and saved settings; False computes everything here (the stored and computed summaries are equal).

    Returns
    -------
    WeeklySummary

    Raises
    ------
    NoDataForWeek
        ``"week 2027-W05 is outside the data: the data covers 2023-W44 to 2026-W44"``, ``"no transactions in
        week 2025-W10 (2025-03-03 to 2025-03-09); the data covers ..."``, ``"no data for week 2026-W01: the
        database has no transactions (import transactions first)"``.
    ValueError
        The messages of :func:`parse_week`; ``"rules must be a TierRules, got dict"``; ``"top_n must be a
        positive integer, got 0"``.

    Notes
    -----
    The heavy parts run in the database and are shared with the pages: :func:`vipmodel.kpi.overview_kpis`,
    :func:`vipmodel.features.member_features` (twice, for the two week ends),
    :func:`vipmodel.retention.member_values` and :func:`vipmodel.retention.at_risk` (the slowest step: the
    value and churn models), and a handful of ``COUNT``/``SUM`` queries. Only one row per member reaches pandas.
    When ``python -m vipmodel refresh --as-of <the week's Sunday>`` has run for the current data, code and saved
    settings, the two models, both week ends' pyramids, the KPIs and the satisfaction means are read from its
    results (:mod:`vipmodel.results`) instead of computed again: the summary then costs a few indexed reads
    and the small week-window queries.

    References
    ----------
    .. [1] Zeithaml, V. A., Rust, R. T. & Lemon, K. N. (2001). The customer pyramid: creating and serving
       profitable customers. *California Management Review*, 43(4), 118-142.
    .. [2] Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). RFM and CLV: Using Iso-Value Curves for Customer
       Base Analysis. *Journal of Marketing Research* 42(4), 415-430.
    """
    start, end = parse_week(week)
    label = week_label(start)
    if isinstance(top_n, bool) or not isinstance(top_n, int) or top_n < 1:
        raise ValueError(f"top_n must be a positive integer, got {top_n!r}")
    with borrow_connection(conn) as connection:
        first, last = _check_week_has_data(connection, label, start, end)
        tier_rules, rules_version = _rules(connection, rules)
        from vipmodel import results
        from vipmodel.satisfaction import current_weights

        weights = current_weights(connection).as_dict()
        # Passed rules other than the saved ones are a what-if: the stored results were made under the saved ones.
        run = results.current_run(connection, as_of=end) if use_results and rules is None else None
        kpis = _kpis(connection, end, weights, first, run)
        if run is not None:
            stored = results.member_results(connection, run, columns=_STORED_COLUMNS)
            stored["member_id"] = stored["member_id"].astype(str)
            now = _stored_pyramid(stored, "tier", "profit_12m")
            before = _stored_pyramid(stored, "tier_week_before", "profit_12m_week_before")
            clv, risk = _stored_values(stored)
        else:
            now = year_tiers(connection, end, tier_rules)
            before = year_tiers(connection, end - dt.timedelta(days=7), tier_rules)
            clv, risk = _values(connection, end, tier_rules, weights)
        open_members = _open_complaint_members(connection, end)
        moves = _movements(now, before, clv, open_members)
        at_risk_top, total_risk, retained_total = _at_risk_table(risk, top_n)
        care, plan_version = _care(connection, start, end, now["tier"])
        parts: dict[str, Any] = {
            "kpis": kpis,
            "tiers": _tier_table(moves),
            "flows": _flows(moves),
            "downgrades": _downgrades(moves, top_n),
            "new_platinum": _new_platinum(moves),
            "at_risk": at_risk_top,
            "value_at_risk": total_risk,
            "complaints": _complaints(connection, start, end),
            "overdue_complaints": _overdue_complaints(connection, end, now["tier"]),
            "satisfaction": _satisfaction(connection, end, weights, run),
            "care": care,
        }
    year_ago = end - dt.timedelta(days=364)
    return WeeklySummary(
        week=label,
        start=start,
        end=end,
        previous_week=week_label(start - dt.timedelta(days=7)),
        previous_year_week=week_label(year_ago) if year_ago >= first else None,
        highlights=_highlights(parts, retained_total),
        partial=last < end or first > start,
        rules_version=rules_version,
        care_plan_version=plan_version,
        **parts,
    )

