"""Tables of the results :mod:`vipmodel.results` writes (derived data: safe to delete, rebuilt by a refresh)."""

from __future__ import annotations

from sqlalchemy import Column, Date, DateTime, Float, ForeignKey, Index, Integer, LargeBinary, String, Table, Text

from vipmodel.schema import Base, MemberId

refresh_runs = Table(
    "refresh_runs",
    Base.metadata,
    Column("run_id", Integer, primary_key=True, autoincrement=True),
    Column("as_of", Date, nullable=False),
    Column("data_version", String(64), nullable=False),
    Column("model_version", String(32), nullable=False),
    Column("settings_key", String(200), nullable=False),
    Column("status", String(10), nullable=False),
    Column("started_at", DateTime, nullable=False),
    Column("finished_at", DateTime),
    Column("steps", Text),
    Column("error", Text),
    Column("members", Integer, nullable=False, default=0),
    Index("ix_refresh_runs_stamps", "data_version", "model_version", "settings_key", "status"),
)

member_results = Table(
    "member_results",
    Base.metadata,
    Column("run_id", Integer, ForeignKey("refresh_runs.run_id", ondelete="CASCADE"), primary_key=True),
    Column("member_id", MemberId, primary_key=True),
    Column("tier", String(1)),
    Column("tier_last_year", String(1)),
    # The pyramid a week earlier (the weekly pack's flows): tier and trailing-year profit at as_of - 7 days.
    Column("tier_week_before", String(1)),
    Column("profit_12m_week_before", Float),
    Column("sales_12m", Float, nullable=False),
    Column("profit_12m", Float, nullable=False),
    Column("probability_alive", Float),
    Column("expected_lifetime_years", Float),
    Column("model_clv", Float),
    Column("value_if_retained", Float),
    Column("simple_clv", Float),
    Column("churn_score", Float),
    Column("value_at_risk", Float, nullable=False),
    Column("reason_primary", String(40)),
    Column("action", String(40)),
    Index("ix_member_results_run_tier", "run_id", "tier"),
)

# Per-period aggregates of a run: ``name`` says what (``kpi``, ``satisfaction_mean``, ``survey_responses``),
# ``as_of`` the day it describes (the KPIs at the run's day, a week and 52 weeks earlier), ``key`` which one
# (a KPI or a satisfaction dimension). A missing value (e.g. no surveys) is NULL.
period_results = Table(
    "period_results",
    Base.metadata,
    Column("run_id", Integer, ForeignKey("refresh_runs.run_id", ondelete="CASCADE"), primary_key=True),
    Column("name", String(40), primary_key=True),
    Column("as_of", Date, primary_key=True),
    Column("key", String(40), primary_key=True),
    Column("value", Float),
)

# Results of an application's own computations (a page's default view), stored by :mod:`vipmodel.view_store` under
# a key the application derives from the computation, its arguments, the data and the code: any number of servers
# on the database read one copy. ``signature`` is an HMAC of ``payload`` under the servers' shared key; a row whose
# signature does not verify is never decoded.
stored_views = Table(
    "stored_views",
    Base.metadata,
    Column("key", String(64), primary_key=True),
    Column("name", String(120), nullable=False),
    Column("data_version", String(64), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("size_bytes", Integer, nullable=False),
    Column("signature", String(64), nullable=False),
    Column("payload", LargeBinary, nullable=False),
    Index("ix_stored_views_data_version", "data_version"),
)
