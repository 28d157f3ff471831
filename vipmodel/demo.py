"""The demo mall: a seeded simulation of members, purchases, care, complaints, surveys and churn.

The simulation exists so that every analysis of the product has something *true* to find. Every parameter
that drives behaviour is written into a :class:`GroundTruth` record (stored in ``dataset_info`` under
:data:`GROUND_TRUTH_KEY`), together with statistics measured with SQL on what was actually written.

Model (yearly steps; purchase times are continuous inside a year)
-----------------------------------------------------------------
* ``members`` is the size of the member base alive at the start of the window. In addition a share of
  dormant card holders (joined earlier, never buy in the window) is written, and new members join every
  year (referrals + acquisition) at about the churn rate, so the active base stays roughly stable.
* Latent traits per member: purchase rate (floor + gamma), mean ticket (lognormal, heavy tail), discount
  seeking (a minority), return propensity, complaint propensity, three satisfaction scores on 1..7 and an
  expectation score. Rate and ticket follow a random walk on the log scale from year to year.
* Churn is decided once per year, at the start of year ``y >= 1``, for every alive member with
  ``P = sigmoid(logit)`` (see :data:`CHURN_FORMULA`); churned members never buy again.
* Care is given mostly by value (percentile of the previous year's spend) with store-specific intensity
  and Bernoulli randomness, so care is *not* determined by tier.

Conventions of the written data
-------------------------------
* A return row repeats ``amount``, ``gross_margin``, ``quantity``, ``store`` and ``category`` of an earlier
  sale of the same member with ``is_return = True`` and ``discount = 0`` (the discount stays on the sale, so
  ``sum(discount)`` is the same whether or not an analysis signs it).
* The simulation year ``y`` is ``[start_date + y years, start_date + (y + 1) years)``; it is not the
  calendar year. A member is *active* in a year when it has at least one non-return transaction in it.
* Member ids ``M0000001``... (pre-window members in join order, then new members by join date), transaction
  ids ``T000000001``..., complaint ids ``C0000001``...

References
----------
.. [1] Zeithaml, V. A., Rust, R. T. & Lemon, K. N. (2001). The customer pyramid: creating and serving
   profitable customers. California Management Review 43(4), 118-142.
.. [2] Reichheld, F. F. & Sasser, W. E. (1990). Zero defections: quality comes to services. Harvard
   Business Review 68(5), 105-111 (annual churn and the value of retention).
"""

from __future__ import annotations

import datetime as dt
import io
import math
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import brentq
from scipy.special import expit
from sqlalchemy import (
    Connection,
    Engine,
    ForeignKeyConstraint,
    Table,
    case,
    func,
    insert,
    inspect,
    literal,
    select,
    text,
)
from sqlalchemy.schema import AddConstraint

from vipmodel import audit, schema
from vipmodel.auth import Actor, require
from vipmodel.db import KEPT_TABLES, bump_data_version, create_schema, drop_schema, get_info, put_info, table_counts

GROUND_TRUTH_KEY = "demo_ground_truth"
DEFAULT_END_DATE = dt.date(2026, 10, 31)

STORES: tuple[str, ...] = ("Flagship", "East", "West", "North", "Outlet", "Online")
# Care intensity differs by store (some managers call their VIPs more): a natural source of variation in
# care within a tier, which the what-if analysis needs to estimate the effect of care.
STORE_WEIGHTS: tuple[float, ...] = (0.25, 0.17, 0.17, 0.13, 0.13, 0.15)
STORE_CARE_MULTIPLIER: dict[str, float] = {
    "Flagship": 1.3, "East": 1.0, "West": 1.0, "North": 0.8, "Outlet": 0.6, "Online": 0.5,
}
CHANNELS: tuple[str, ...] = ("store", "app", "wechat", "referral")
ACQUISITION_CHANNEL_WEIGHTS: tuple[float, ...] = (0.5, 0.3, 0.2)  # store, app, wechat

CATEGORY_MARGIN: dict[str, float] = {
    "apparel": 0.40,
    "cosmetics": 0.45,
    "jewellery": 0.22,
    "household": 0.30,
    "food": 0.14,
    "electronics": 0.10,
}
CATEGORIES: tuple[str, ...] = tuple(CATEGORY_MARGIN)
# Relative ticket size by category (jewellery and electronics are big-ticket items).
CATEGORY_PRICE_FACTOR: dict[str, float] = {
    "apparel": 1.0, "cosmetics": 0.7, "jewellery": 3.0, "household": 0.8, "food": 0.25, "electronics": 2.5,
}
CATEGORY_MIX: dict[str, tuple[float, ...]] = {
    "regular": (0.30, 0.18, 0.07, 0.15, 0.20, 0.10),
    # Discount seekers cherry-pick promotions on low-margin goods, which is what makes them unprofitable.
    "discount_seeker": (0.14, 0.06, 0.10, 0.10, 0.28, 0.32),
}

CARE_UNIT_COST: dict[str, float] = {
    "phone_greeting": 5.0,
    "sms": 0.5,
    "holiday_card": 8.0,
    "birthday_gift": 80.0,
    "event_invitation": 150.0,
    "lecture": 60.0,
}
# Per kind: day offsets inside the simulation year (None = the member's birthday) and the probability
# p(v) = low + (high - low) * sigmoid((v - mid) / scale) of receiving it, v = previous-year value percentile.
CARE_PLAN: dict[str, dict[str, Any]] = {
    "sms": {"days": [40, 130, 220, 310], "low": 0.30, "high": 0.30, "mid": 0.5, "scale": 0.1},
    "phone_greeting": {"days": [85, 265], "low": 0.03, "high": 0.60, "mid": 0.80, "scale": 0.06},
    "holiday_card": {"days": [60, 330], "low": 0.02, "high": 0.55, "mid": 0.85, "scale": 0.05},
    "birthday_gift": {"days": None, "low": 0.02, "high": 0.65, "mid": 0.88, "scale": 0.04},
    "event_invitation": {"days": [120, 290], "low": 0.01, "high": 0.40, "mid": 0.92, "scale": 0.03},
    "lecture": {"days": [100, 200], "low": 0.01, "high": 0.25, "mid": 0.85, "scale": 0.05},
}
CARE_KINDS_INDEX: dict[str, int] = {k: i for i, k in enumerate(CARE_PLAN)}

SATISFACTION_WEIGHTS: dict[str, float] = {"product_quality": 0.5, "sales_service": 0.3, "corporate_image": 0.2}
SATISFACTION_MODEL: dict[str, Any] = {
    "means": {"product_quality": 5.0, "sales_service": 4.6, "corporate_image": 4.9},
    "common_factor_sd": 0.8,
    "specific_sd": 0.6,
    "yearly_drift_sd": 0.25,
    "range": [1.0, 7.0],
}

CHURN_FORMULA = (
    "P(churn at start of year y) = sigmoid(b0 + b_sat * (S - 4) - b_care * log1p(care_cost_prev / c0)"
    " + b_value * log1p(spend_prev / v0)"
    " + sum_{cat, status} b_complaint[cat][status] * n_complaints_prev[cat][status]),"
    " S = sum_d w_d * s_d (latent satisfaction at the end of year y-1), care_cost_prev = care cost in year y-1,"
    " spend_prev = sales (non-return amounts) in year y-1, n_complaints_prev = complaints filed in year y-1 by"
    " category (product/service) and status (resolved_quick: resolved within slow_after_days days;"
    " resolved_slow: later; unresolved: never resolved)"
)
CHURN_MODEL: dict[str, Any] = {
    "b_sat": -0.6,
    "b_care": 0.5,
    "c0": 100.0,
    "b_value": -0.2,
    "v0": 1000.0,
    "b_complaint": {
        "product": {"resolved_quick": 0.15, "resolved_slow": 0.5, "unresolved": 1.0},
        "service": {"resolved_quick": 0.3, "resolved_slow": 0.8, "unresolved": 1.5},
    },
    "slow_after_days": 7,
    # b0 is solved at the first churn step so that the expected churn among members active in the previous
    # year equals this target; it is then fixed for all later years.
    "target_churn_among_active": 0.29,
}
COMPLAINT_STATUSES: tuple[str, ...] = ("resolved_quick", "resolved_slow", "unresolved")

PURCHASE_MODEL: dict[str, Any] = {
    "rate_floor_per_year": 3.0,
    "rate_gamma_shape": 2.0,
    "rate_gamma_scale": 2.0,
    "log_ticket_mean": 5.0,
    "log_ticket_sd": 1.5,
    "per_purchase_log_sd": 0.5,
    "yearly_log_rate_drift_sd": 0.2,
    "yearly_log_ticket_drift_sd": 0.25,
    "home_store_share": 0.8,
    "store_hours": [10, 22],
    "discount_seeker_share": 0.09,
    "discount_seeker": {"p_discount": 0.7, "rate": [0.10, 0.36]},
    "regular": {"p_discount": 0.2, "rate": [0.02, 0.12]},
    "returner_share": 0.08,
    "return_propensity_beta": {"regular": [1.0, 40.0], "returner": [3.0, 9.0]},
    "return_after_days": [1, 30],
    "first_purchase_on_join_date": True,
}
COMPLAINT_MODEL: dict[str, Any] = {
    "formula": "n ~ Poisson(base_rate * propensity * exp(-sat_slope * (S - 4)) * exposure_years)",
    "base_rate": 0.18,
    "propensity_gamma_shape": 0.5,
    "sat_slope": 0.5,
    "p_service": "clip(0.4 + 0.1 * (s_product_quality - s_sales_service), 0.1, 0.9)",
    "severity_probabilities": [0.5, 0.35, 0.15],
    "p_resolved": 0.75,
    "p_quick_given_resolved": 0.7,
    "quick_days": [0, 7],
    "slow_days": [8, 60],
    "p_compensation_by_severity": [0.3, 0.6, 0.9],
    "compensation_median_by_severity": [50.0, 200.0, 800.0],
    "compensation_log_sd": 1.0,
    "note": "complaints do not change latent satisfaction; resolutions after end_date are written as unresolved",
}
SURVEY_MODEL: dict[str, Any] = {
    "response_rate": 0.25,
    "item_noise_sd": 0.7,
    "p_missing_item": 0.03,
    "expectation_mean": 5.0,
    "expectation_sd": 0.8,
    "p_missing_expectation": 0.03,
    "note": "score = clip(round(s_dimension + N(0, item_noise_sd)), 1, 7); expectation does not drive churn",
}
REFERRAL_MODEL: dict[str, Any] = {
    "formula": "referrals in year y ~ Poisson(r_max * sigmoid(r_slope * (S - r_mid)))",
    "r_max": 0.45,
    "r_slope": 2.5,
    "r_mid": 5.3,
    "p_same_home_store": 0.7,
}
POPULATION_MODEL: dict[str, Any] = {
    "join_rate": 0.30,
    "dormant_share": 0.2,
    "pre_window_join_years": 8,
    "gender_weights": {"F": 0.62, "M": 0.33, "U": 0.05},
    "age_range": [18, 75],
    "note": "new members in year y = max(target, referrals), target = members churned at the start of year y"
    " (year 0: join_rate * members); the part of the target not covered by referrals is acquired through"
    " store/app/wechat",
}

_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾"
)
_GIVEN = (
    "伟芳娜秀敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂英华玉兰萍红梅琳建国志文斌辉鹏宇浩凯婷雪莉倩颖佳欣怡晨阳"
    "思雨晓东海燕丹飞鑫宁慧嘉豪俊博瑞琪"
)


@dataclass(frozen=True)
class GroundTruth:
    """Every true parameter of a generated demo mall and the statistics measured on what was written.

    Attributes
    ----------
    seed, members, years : int
        The arguments of :func:`generate` (``members`` = member base at the start of the window).
    start_date, end_date : datetime.date
        First and last day of the simulated window (``years`` whole years).
    stores : tuple of str
        Store names; ``members.home_store`` and ``transactions.store`` take these values.
    category_margin : dict
        Category -> gross margin rate (``gross_margin = amount * rate`` exactly, rounded to cents).
    care_unit_cost : dict
        Care kind -> cost in yuan of one ``care_actions`` row.
    satisfaction_weights : dict
        True weights ``w_d`` of the three survey dimensions in the churn model (sum 1).
    churn_model : dict
        Coefficients (``b0``, ``b_sat``, ``b_care``, ``c0``, ``b_value``, ``v0``, ``b_complaint``) and
        ``formula``, the exact formula as a string.
    referral_model, purchase_model, complaint_model, survey_model, care_plan, population_model : dict
        The remaining true parameters (see the module docstring).
    realised : dict
        Statistics measured with SQL on the written tables (see :func:`measure_realised`).
    """

    seed: int
    members: int
    years: int
    start_date: dt.date
    end_date: dt.date
    stores: tuple[str, ...]
    category_margin: dict[str, float]
    care_unit_cost: dict[str, float]
    satisfaction_weights: dict[str, float]
    churn_model: dict[str, Any]
    referral_model: dict[str, Any]
    purchase_model: dict[str, Any]
    complaint_model: dict[str, Any]
    survey_model: dict[str, Any]
    care_plan: dict[str, Any]
    population_model: dict[str, Any]
    realised: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable nested dict (dates as ISO strings, tuples as lists)."""
        return {
            "seed": self.seed,
            "members": self.members,
            "years": self.years,
            "start_date": self.start_date.isoformat(),
            "end_date": self.end_date.isoformat(),
            "stores": list(self.stores),
            "category_margin": dict(self.category_margin),
            "care_unit_cost": dict(self.care_unit_cost),
            "satisfaction_weights": dict(self.satisfaction_weights),
            "churn_model": _jsonable(self.churn_model),
            "referral_model": _jsonable(self.referral_model),
            "purchase_model": _jsonable(self.purchase_model),
            "complaint_model": _jsonable(self.complaint_model),
            "survey_model": _jsonable(self.survey_model),
            "care_plan": _jsonable(self.care_plan),
            "population_model": _jsonable(self.population_model),
            "realised": _jsonable(self.realised),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GroundTruth:
        """Rebuild a record from :meth:`to_dict` output.

        Raises
        ------
        ValueError
            ``"ground truth record is missing keys: ..."`` when a required key is absent.
        """
        required = [f for f in cls.__dataclass_fields__ if f != "realised"]
        missing = [k for k in required if k not in data]
        if missing:
            raise ValueError(f"ground truth record is missing keys: {', '.join(missing)}")
        return cls(
            seed=int(data["seed"]),
            members=int(data["members"]),
            years=int(data["years"]),
            start_date=dt.date.fromisoformat(data["start_date"]),
            end_date=dt.date.fromisoformat(data["end_date"]),
            stores=tuple(data["stores"]),
            category_margin=dict(data["category_margin"]),
            care_unit_cost=dict(data["care_unit_cost"]),
            satisfaction_weights=dict(data["satisfaction_weights"]),
            churn_model=dict(data["churn_model"]),
            referral_model=dict(data["referral_model"]),
            purchase_model=dict(data["purchase_model"]),
            complaint_model=dict(data["complaint_model"]),
            survey_model=dict(data["survey_model"]),
            care_plan=dict(data["care_plan"]),
            population_model=dict(data["population_model"]),
            realised=dict(data.get("realised", {})),
        )

    @property
    def year_starts(self) -> list[dt.date]:
        """First day of each simulation year, plus the day after the window (length ``years + 1``)."""
        return [_add_years(self.start_date, y) for y in range(self.years + 1)]

    def churn_probability(
        self,
        satisfaction: np.ndarray,
        care_cost_prev: np.ndarray,
        spend_prev: np.ndarray,
        complaints_prev: dict[str, dict[str, np.ndarray]] | None = None,
    ) -> np.ndarray:
        """The true churn probability (see :data:`CHURN_FORMULA`) for arrays of members.

        Parameters
        ----------
        satisfaction : ndarray, shape (n, 3)
            Latent scores in the order of :data:`vipmodel.schema.DIMENSIONS`.
        care_cost_prev, spend_prev : ndarray, shape (n,)
            Care cost and sales of the previous year.
        complaints_prev : dict, optional
            ``{category: {status: counts}}`` with categories ``product``/``service`` and statuses
            ``resolved_quick``/``resolved_slow``/``unresolved``; missing entries count as zero.

        Returns
        -------
        ndarray, shape (n,)
            Probability of churning at the start of the next year.

        Raises
        ------
        ValueError
            On a wrong shape or an unknown complaint category/status (exact messages in the code).
        """
        sat = np.asarray(satisfaction, dtype=float)
        if sat.ndim != 2 or sat.shape[1] != len(schema.DIMENSIONS):
            raise ValueError("satisfaction must have shape (n, 3): product_quality, sales_service, corporate_image")
        n = sat.shape[0]
        arrays = [np.asarray(care_cost_prev), np.asarray(spend_prev)]
        arrays += [np.asarray(v) for by in (complaints_prev or {}).values() for v in by.values()]
        if any(a.shape != (n,) for a in arrays):
            raise ValueError(f"care_cost_prev, spend_prev and complaint counts must be 1-d arrays of length {n}")
        known = self.churn_model["b_complaint"]
        for cat, by_status in (complaints_prev or {}).items():
            unknown = [f"{cat}/{st}" for st in by_status if cat not in known or st not in known[cat]]
            if unknown:
                raise ValueError(f"unknown complaint category/status: {', '.join(unknown)}")
        rest = _churn_logit_rest(self.churn_model, self.satisfaction_weights, sat, care_cost_prev, spend_prev,
                                 complaints_prev)
        return expit(rest + self.churn_model["b0"])


def _churn_logit_rest(
    model: dict[str, Any],
    weights: dict[str, float],
    satisfaction: np.ndarray,
    care_cost_prev: np.ndarray,
    spend_prev: np.ndarray,
    complaints_prev: dict[str, dict[str, np.ndarray]] | None,
) -> np.ndarray:
    w = np.array([weights[d] for d in schema.DIMENSIONS])
    s = np.asarray(satisfaction, dtype=float) @ w
    logit = (
        model["b_sat"] * (s - 4.0)
        - model["b_care"] * np.log1p(np.asarray(care_cost_prev, dtype=float) / model["c0"])
        + model["b_value"] * np.log1p(np.asarray(spend_prev, dtype=float) / model["v0"])
    )
    for cat, by_status in (complaints_prev or {}).items():
        for status, counts in by_status.items():
            logit = logit + model["b_complaint"][cat][status] * np.asarray(counts, dtype=float)
    return logit


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        # NaN (e.g. a statistic of an empty year) is not valid JSON, and PostgreSQL's JSON type rejects it.
        return None if math.isnan(value) else float(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def load_ground_truth(conn: Connection) -> GroundTruth | None:
    """The ground truth of the demo mall stored in the database, or None (e.g. real data, empty database)."""
    data = get_info(conn, GROUND_TRUTH_KEY)
    return None if data is None else GroundTruth.from_dict(data)


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a non-leap year
        return day.replace(year=day.year + years, day=28)


def window(end_date: dt.date, years: int) -> tuple[dt.date, dt.date]:
    """First and last day of ``years`` whole years ending at ``end_date`` (inclusive)."""
    return _add_years(end_date, -years) + dt.timedelta(days=1), end_date


# --------------------------------------------------------------------------------------------- writing


class _Writer:
    """Bulk writes of DataFrames: COPY on PostgreSQL (much faster), Core executemany elsewhere."""

    def __init__(self, conn: Connection, batch_rows: int) -> None:
        self.conn = conn
        self.batch_rows = max(1, batch_rows)
        self.postgres = conn.dialect.name == "postgresql"
        self.rows: dict[str, int] = {}
        self.seconds: dict[str, float] = {}

    def write(self, table: Table, frame: pd.DataFrame) -> None:
        if frame.empty:
            return
        t0 = time.perf_counter()
        if self.postgres:
            self._copy(table, frame)
        else:
            for lo in range(0, len(frame), self.batch_rows):
                part = frame.iloc[lo : lo + self.batch_rows]
                self.conn.execute(insert(table), _records(part))
        self.rows[table.name] = self.rows.get(table.name, 0) + len(frame)
        self.seconds[table.name] = self.seconds.get(table.name, 0.0) + time.perf_counter() - t0

    def _copy(self, table: Table, frame: pd.DataFrame) -> None:
        prep = self.conn.dialect.identifier_preparer
        # Identifiers come from the schema module, never from data; values travel in the COPY stream.
        statement = f"COPY {prep.format_table(table)} ({', '.join(prep.quote(c) for c in frame.columns)}) FROM STDIN"
        out = frame.copy()
        for col in out.columns:
            values = out[col]
            if values.dtype == bool:
                out[col] = np.where(values.to_numpy(), "t", "f")
            elif pd.api.types.is_datetime64_any_dtype(values):
                arr = values.to_numpy()
                text = np.datetime_as_string(arr, unit="D" if col in _DATE_COLUMNS else "s").astype(object)
                text[np.isnat(arr)] = None
                out[col] = text
        cursor = self.conn.connection.driver_connection.cursor()
        for lo in range(0, len(out), self.batch_rows):
            buf = io.StringIO()
            out.iloc[lo : lo + self.batch_rows].to_csv(
                buf, sep="\t", header=False, index=False, na_rep="\\N", float_format="%.2f", lineterminator="\n"
            )
            with cursor.copy(statement) as copy:
                copy.write(buf.getvalue())
        cursor.close()


def _drop_foreign_keys(conn: Connection) -> list[ForeignKeyConstraint]:
    """Drop the schema's foreign keys (checked row by row during COPY); return them to add back after the load.

    Adding a foreign key back validates all rows in one join, which is much cheaper than a trigger per row,
    and recreates exactly the constraint that ``create_all`` made.
    """
    inspector = inspect(conn)
    prep = conn.dialect.identifier_preparer
    dropped: list[ForeignKeyConstraint] = []
    for table in schema.Base.metadata.sorted_tables:
        reflected = {tuple(fk["constrained_columns"]): fk["name"] for fk in inspector.get_foreign_keys(table.name)}
        for fk in table.foreign_key_constraints:
            name = reflected.get(tuple(fk.column_keys))
            if name is None:
                continue
            # DDL with identifiers only (from the schema and the catalogue); no values are formatted in.
            conn.exec_driver_sql(f"ALTER TABLE {prep.format_table(table)} DROP CONSTRAINT {prep.quote(name)}")
            dropped.append(fk)
    return dropped


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    columns: dict[str, list[Any]] = {}
    for col in frame.columns:
        values = frame[col]
        if pd.api.types.is_datetime64_any_dtype(values):
            arr = values.to_numpy()
            unit = "D" if col in _DATE_COLUMNS else "us"
            columns[col] = arr.astype(f"datetime64[{unit}]").astype(object).tolist()
        elif pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
            columns[col] = values.to_numpy().tolist()
        else:
            # Text columns (object or pandas' string dtype): missing values must reach the driver as NULL.
            columns[col] = values.astype(object).where(values.notna(), None).tolist()
    names = list(columns)
    return [dict(zip(names, row, strict=True)) for row in zip(*columns.values(), strict=True)]


_DATE_COLUMNS = {"birthday", "join_date", "action_date", "complaint_date", "resolved_date", "survey_date"}


# ------------------------------------------------------------------------------------------ simulation


class _Population:
    """Per-member state as growable numpy arrays (one row per member ever created)."""

    def __init__(self, capacity: int) -> None:
        self.n = 0
        self.capacity = capacity
        self.rate = np.zeros(capacity)
        self.log_ticket = np.zeros(capacity)
        self.return_prop = np.zeros(capacity)
        self.complaint_prop = np.zeros(capacity)
        self.expectation = np.zeros(capacity)
        self.spend_prev = np.zeros(capacity)
        self.care_prev = np.zeros(capacity)
        self.spend_cur = np.zeros(capacity)
        self.care_cur = np.zeros(capacity)
        self.value_pct = np.zeros(capacity)
        self.join_day = np.zeros(capacity, dtype=np.int64)  # days since start_date (negative: before window)
        self.store = np.zeros(capacity, dtype=np.int64)
        self.referred_by = np.full(capacity, -1, dtype=np.int64)
        self.birthday_day = np.zeros(capacity, dtype=np.int64)  # days since 1970-01-01
        self.seeker = np.zeros(capacity, dtype=bool)
        self.alive = np.zeros(capacity, dtype=bool)
        self.sat = np.zeros((capacity, 3))
        # complaints by (category, status): 2 x 3 counts, flattened to 6 columns
        self.complaints_prev = np.zeros((capacity, 6), dtype=np.int64)
        self.complaints_cur = np.zeros((capacity, 6), dtype=np.int64)

    def grow(self, extra: int) -> None:
        need = self.n + extra
        if need <= self.capacity:
            return
        new_cap = max(need, int(self.capacity * 1.5))
        for name, arr in list(vars(self).items()):
            if isinstance(arr, np.ndarray):
                shape = (new_cap, *arr.shape[1:])
                grown = np.full(shape, -1 if name == "referred_by" else 0, dtype=arr.dtype)
                grown[: self.n] = arr[: self.n]
                setattr(self, name, grown)
        self.capacity = new_cap


class _Simulation:
    def __init__(self, conn: Connection, rng: np.random.Generator, members: int, years: int, start: dt.date,
                 end: dt.date, batch_size: int) -> None:
        self.conn = conn
        self.rng = rng
        self.members = members
        self.years = years
        self.start = start
        self.end = end
        self.batch_size = batch_size
        self.year_starts = [_add_years(start, y) for y in range(years + 1)]
        self.start64 = np.datetime64(start, "D")
        self.window_days = (end - start).days + 1
        self.writer = _Writer(conn, batch_rows=max(batch_size, 10_000))
        self.next_txn = 1
        self.next_complaint = 1
        self.next_response = 1
        self.b0: float | None = None
        capacity = int(members * (1 + POPULATION_MODEL["dormant_share"] + 0.4 * years)) + 16
        self.pop = _Population(capacity)
        self.id_width = 7
        self.churned_per_year: list[int] = []
        self.joined_per_year: list[int] = []

    # -- members
    def _member_ids(self, idx: np.ndarray) -> np.ndarray:
        width = max(self.id_width, len(str(self.pop.capacity)))
        return _format_ids("M", idx + 1, width)

    def _new_traits(self, n: int) -> dict[str, np.ndarray]:
        rng, pm = self.rng, PURCHASE_MODEL
        rate = pm["rate_floor_per_year"] + rng.gamma(pm["rate_gamma_shape"], pm["rate_gamma_scale"], n)
        log_ticket = rng.normal(pm["log_ticket_mean"], pm["log_ticket_sd"], n)
        seeker = rng.random(n) < pm["discount_seeker_share"]
        returner = rng.random(n) < pm["returner_share"]
        rb = pm["return_propensity_beta"]
        return_prop = np.where(returner, rng.beta(*rb["returner"], n), rng.beta(*rb["regular"], n))
        complaint_prop = rng.gamma(COMPLAINT_MODEL["propensity_gamma_shape"],
                                   1.0 / COMPLAINT_MODEL["propensity_gamma_shape"], n)
        sm = SATISFACTION_MODEL
        common = rng.normal(0.0, sm["common_factor_sd"], n)
        means = np.array([sm["means"][d] for d in schema.DIMENSIONS])
        sat = means + common[:, None] + rng.normal(0.0, sm["specific_sd"], (n, 3))
        sat = np.clip(sat, *sm["range"])
        expectation = rng.normal(SURVEY_MODEL["expectation_mean"], SURVEY_MODEL["expectation_sd"], n)
        return {"rate": rate, "log_ticket": log_ticket, "seeker": seeker, "return_prop": return_prop,
                "complaint_prop": complaint_prop, "sat": sat, "expectation": expectation}

    def _add_members(self, join_day: np.ndarray, store: np.ndarray, channel: np.ndarray, referred_by: np.ndarray,
                     alive: np.ndarray) -> np.ndarray:
        """Append members (already sorted by join day), write their rows, return their indices."""
        rng, pop = self.rng, self.pop
        n = len(join_day)
        pop.grow(n)
        idx = np.arange(pop.n, pop.n + n)
        pop.n += n
        traits = self._new_traits(n)
        for name, values in traits.items():
            getattr(pop, name)[idx] = values
        pop.join_day[idx] = join_day
        pop.store[idx] = store
        pop.referred_by[idx] = referred_by
        pop.alive[idx] = alive
        # Birthday: age at the start of the window uniform in age_range.
        lo, hi = POPULATION_MODEL["age_range"]
        start_epoch = (self.start - dt.date(1970, 1, 1)).days
        birthday = start_epoch - (rng.uniform(lo, hi, n) * 365.25).astype(np.int64)
        pop.birthday_day[idx] = birthday
        genders = np.array(list(POPULATION_MODEL["gender_weights"]))
        gender = genders[rng.choice(len(genders), n, p=list(POPULATION_MODEL["gender_weights"].values()))]
        surname = np.array(list(_SURNAMES))[rng.integers(0, len(_SURNAMES), n)]
        given_chars = np.array(list(_GIVEN))
        g1 = given_chars[rng.integers(0, len(_GIVEN), n)]
        g2 = np.where(rng.random(n) < 0.6, given_chars[rng.integers(0, len(_GIVEN), n)], "")
        names = pd.Series(surname, dtype=object) + pd.Series(g1, dtype=object) + pd.Series(g2, dtype=object)
        phone = pd.Series(_format_ids("1", rng.integers(3, 10, n) * 10**9 + rng.integers(0, 10**9, n), 10))
        ref_ids = pd.Series(self._member_ids(np.maximum(referred_by, 0)), dtype=object)
        ref_ids[referred_by < 0] = None
        frame = pd.DataFrame(
            {
                "member_id": self._member_ids(idx),
                "name": names,
                "phone": phone,
                "birthday": (np.datetime64("1970-01-01", "D") + birthday).astype("datetime64[s]"),
                "gender": gender,
                "join_date": (self.start64 + join_day).astype("datetime64[s]"),
                "home_store": np.array(STORES)[store],
                "channel": np.array(CHANNELS)[channel],
                "referred_by": ref_ids,
            }
        )
        self.writer.write(schema.members, frame)
        return idx

    def initial_members(self) -> None:
        rng = self.rng
        n_alive = self.members
        n_dormant = int(round(POPULATION_MODEL["dormant_share"] * self.members))
        span = int(POPULATION_MODEL["pre_window_join_years"] * 365.25)
        # Dormant card holders tend to be older memberships.
        join_alive = -1 - rng.integers(0, span, n_alive)
        join_dormant = -1 - (span * np.sqrt(rng.random(n_dormant))).astype(np.int64)
        join = np.concatenate([join_alive, join_dormant])
        alive = np.concatenate([np.ones(n_alive, bool), np.zeros(n_dormant, bool)])
        order = np.argsort(join, kind="stable")
        n = len(join)
        store = rng.choice(len(STORES), n, p=STORE_WEIGHTS)
        channel = rng.choice(3, n, p=ACQUISITION_CHANNEL_WEIGHTS)
        self._add_members(join[order], store, channel, np.full(n, -1), alive[order])

    def new_members(self, y: int) -> None:
        rng, pop = self.rng, self.pop
        alive_idx = np.flatnonzero(pop.alive[: pop.n])
        s = self._weighted_satisfaction(alive_idx)
        rm = REFERRAL_MODEL
        lam = rm["r_max"] * expit(rm["r_slope"] * (s - rm["r_mid"]))
        n_ref = rng.poisson(lam)
        referrer = np.repeat(alive_idx, n_ref)
        # Replace last year's churners so the base stays roughly stable (year 0: the expected churn).
        target = self.churned_per_year[-1] if y > 0 else int(round(POPULATION_MODEL["join_rate"] * self.members))
        n_acq = max(target - len(referrer), 0)
        y0 = (self.year_starts[y] - self.start).days
        ndays = (self.year_starts[y + 1] - self.year_starts[y]).days
        n_new = len(referrer) + n_acq
        join = y0 + rng.integers(0, ndays, n_new)
        ref_store = np.where(rng.random(len(referrer)) < rm["p_same_home_store"], pop.store[referrer],
                             rng.choice(len(STORES), len(referrer), p=STORE_WEIGHTS))
        store = np.concatenate([ref_store, rng.choice(len(STORES), n_acq, p=STORE_WEIGHTS)])
        channel = np.concatenate([np.full(len(referrer), CHANNELS.index("referral")),
                                  rng.choice(3, n_acq, p=ACQUISITION_CHANNEL_WEIGHTS)])
        referred_by = np.concatenate([referrer, np.full(n_acq, -1)])
        order = np.argsort(join, kind="stable")
        idx = self._add_members(join[order], store[order], channel[order], referred_by[order],
                                np.ones(n_new, bool))
        pop.value_pct[idx] = 0.0  # no history yet: the mall's value-based care does not target them
        self.joined_per_year.append(n_new)

    def _weighted_satisfaction(self, idx: np.ndarray) -> np.ndarray:
        w = np.array([SATISFACTION_WEIGHTS[d] for d in schema.DIMENSIONS])
        return self.pop.sat[idx] @ w

    # -- yearly dynamics
    def _complaints_dict(self, counts: np.ndarray) -> dict[str, dict[str, np.ndarray]]:
        return {cat: {st: counts[:, 3 * i + j] for j, st in enumerate(COMPLAINT_STATUSES)}
                for i, cat in enumerate(schema.COMPLAINT_CATEGORIES)}

    def _logit_rest(self, idx: np.ndarray) -> np.ndarray:
        pop = self.pop
        return _churn_logit_rest(CHURN_MODEL, SATISFACTION_WEIGHTS, pop.sat[idx], pop.care_cur[idx],
                                 pop.spend_cur[idx], self._complaints_dict(pop.complaints_cur[idx]))

    def calibrate_b0(self) -> None:
        pop = self.pop
        idx = np.flatnonzero(pop.alive[: pop.n] & (pop.spend_cur[: pop.n] > 0))
        if len(idx) == 0:
            self.b0 = 0.0
            return
        rest = self._logit_rest(idx)
        target = CHURN_MODEL["target_churn_among_active"]
        self.b0 = float(brentq(lambda b: float(expit(rest + b).mean()) - target, -30.0, 30.0, xtol=1e-10))

    def end_of_year(self) -> None:
        """Roll the current-year aggregates into 'previous year'."""
        pop, n = self.pop, self.pop.n
        pop.spend_prev[:n] = pop.spend_cur[:n]
        pop.care_prev[:n] = pop.care_cur[:n]
        pop.complaints_prev[:n] = pop.complaints_cur[:n]
        pop.spend_cur[:n] = 0.0
        pop.care_cur[:n] = 0.0
        pop.complaints_cur[:n] = 0

    def churn_and_drift(self) -> None:
        rng, pop = self.rng, self.pop
        idx = np.flatnonzero(pop.alive[: pop.n])
        rest = _churn_logit_rest(CHURN_MODEL, SATISFACTION_WEIGHTS, pop.sat[idx], pop.care_prev[idx],
                                 pop.spend_prev[idx], self._complaints_dict(pop.complaints_prev[idx]))
        churn = rng.random(len(idx)) < expit(self.b0 + rest)
        pop.alive[idx[churn]] = False
        self.churned_per_year.append(int(churn.sum()))
        stay = idx[~churn]
        pm = PURCHASE_MODEL
        # Random walk on log rate (kept above the floor) and log ticket: members move between tiers.
        excess = np.maximum(pop.rate[stay] - pm["rate_floor_per_year"], 0.05)
        excess *= np.exp(rng.normal(0.0, pm["yearly_log_rate_drift_sd"], len(stay)))
        pop.rate[stay] = pm["rate_floor_per_year"] + excess
        pop.log_ticket[stay] += rng.normal(0.0, pm["yearly_log_ticket_drift_sd"], len(stay))
        pop.sat[stay] = np.clip(
            pop.sat[stay] + rng.normal(0.0, SATISFACTION_MODEL["yearly_drift_sd"], (len(stay), 3)),
            *SATISFACTION_MODEL["range"],
        )

    def set_value_percentiles(self, y: int) -> None:
        """The mall's view of member value at the start of year y (previous-year sales; year 0: history)."""
        pop = self.pop
        idx = np.flatnonzero(pop.alive[: pop.n])
        if y == 0:
            # Pre-window history is not simulated: the expected yearly spend with noise stands in for it.
            value = pop.rate[idx] * np.exp(pop.log_ticket[idx]) * np.exp(self.rng.normal(0.0, 0.5, len(idx)))
        else:
            value = pop.spend_prev[idx]
        pop.value_pct[idx] = (pd.Series(value).rank(method="average").to_numpy() - 0.5) / max(len(idx), 1)

    def year_chunks(self, y: int) -> Iterator[np.ndarray]:
        idx = np.flatnonzero(self.pop.alive[: self.pop.n])
        for lo in range(0, len(idx), self.batch_size):
            yield idx[lo : lo + self.batch_size]

    def simulate_chunk(self, y: int, m: np.ndarray) -> None:
        y0 = (self.year_starts[y] - self.start).days
        y1 = (self.year_starts[y + 1] - self.start).days  # exclusive
        a = np.maximum(self.pop.join_day[m], y0)
        b = np.full(len(m), y1 - 1)
        self._transactions(m, a, b, is_new=self.pop.join_day[m] >= y0)
        self._care(y, m, y0, y1)
        self._complaints(m, a, b)
        self._surveys(m, a, b)

    def _transactions(self, m: np.ndarray, a: np.ndarray, b: np.ndarray, is_new: np.ndarray) -> None:
        rng, pop, pm = self.rng, self.pop, PURCHASE_MODEL
        ndays = b - a + 1
        n = rng.poisson(pop.rate[m] * ndays / 365.25) + is_new.astype(np.int64)
        mi = np.repeat(m, n)
        total = len(mi)
        if total == 0:
            return
        a_rep = np.repeat(a, n)
        day = a_rep + (rng.random(total) * np.repeat(ndays, n)).astype(np.int64)
        first = np.cumsum(n) - n
        day[first[is_new & (n > 0)]] = pop.join_day[m[is_new & (n > 0)]]
        # Store: mostly the home store.
        home = pop.store[mi]
        store = np.where(rng.random(total) < pm["home_store_share"], home, rng.integers(0, len(STORES), total))
        online = store == STORES.index("Online")
        open_h, close_h = pm["store_hours"]
        # Physical stores: open_h..close_h with an evening peak; online: any time of day.
        hours = np.arange(open_h, close_h)
        hw = 1.0 + np.exp(-0.5 * ((hours - 19.0) / 2.0) ** 2) + 0.6 * np.exp(-0.5 * ((hours - 14.0) / 1.5) ** 2)
        hour = np.where(online, rng.integers(0, 24, total), rng.choice(hours, total, p=hw / hw.sum()))
        seconds = hour * 3600 + rng.integers(0, 3600, total)
        # Category by the member's mix (discount seekers prefer low-margin promotions).
        seek = pop.seeker[mi]
        cdf = np.cumsum(np.array([CATEGORY_MIX["regular"], CATEGORY_MIX["discount_seeker"]]), axis=1)
        cdf[:, -1] = 1.0
        u = rng.random(total)
        cat = (u[:, None] > cdf[seek.astype(np.int64)]).sum(axis=1)
        factor = np.array([CATEGORY_PRICE_FACTOR[c] for c in CATEGORIES])
        norm = float(np.dot(CATEGORY_MIX["regular"], factor))
        log_amount = pop.log_ticket[mi] + rng.normal(0.0, pm["per_purchase_log_sd"], total) \
            - 0.5 * pm["per_purchase_log_sd"] ** 2
        amount = np.round(np.clip(np.exp(log_amount) * factor[cat] / norm, 5.0, 500_000.0), 2)
        margin_rate = np.array([CATEGORY_MARGIN[c] for c in CATEGORIES])
        margin = np.round(amount * margin_rate[cat], 2)
        ds, dr = pm["discount_seeker"], pm["regular"]
        p_disc = np.where(seek, ds["p_discount"], dr["p_discount"])
        d_rate = np.where(seek, rng.uniform(*ds["rate"], total), rng.uniform(*dr["rate"], total))
        discount = np.where(rng.random(total) < p_disc, np.round(amount * d_rate, 2), 0.0)
        quantity = 1 + rng.poisson(0.4, total)
        ts = self.start64.astype("datetime64[s]") + day.astype("timedelta64[D]") + seconds.astype("timedelta64[s]")
        # Returns repeat an earlier sale; those that would fall after the window never happened.
        ret = rng.random(total) < pop.return_prop[mi]
        ret_days = rng.integers(pm["return_after_days"][0], pm["return_after_days"][1] + 1, total)
        ret &= (day + ret_days) < self.window_days
        r = np.flatnonzero(ret)
        ts_all = np.concatenate([ts, ts[r] + ret_days[r].astype("timedelta64[D]")])
        order = np.argsort(ts_all, kind="stable")
        k = len(order)
        ids = _format_ids("T", np.arange(self.next_txn, self.next_txn + k), 9)
        self.next_txn += k
        mi_all = np.concatenate([mi, mi[r]])
        frame = pd.DataFrame(
            {
                "txn_id": ids,
                "member_id": self._member_ids(mi_all[order]),
                "ts": ts_all[order],
                "store": np.array(STORES)[np.concatenate([store, store[r]])[order]],
                "category": np.array(CATEGORIES)[np.concatenate([cat, cat[r]])[order]],
                "quantity": np.concatenate([quantity, quantity[r]])[order],
                "amount": np.concatenate([amount, amount[r]])[order],
                "gross_margin": np.concatenate([margin, margin[r]])[order],
                "discount": np.concatenate([discount, np.zeros(len(r))])[order],
                "is_return": np.concatenate([np.zeros(total, bool), np.ones(len(r), bool)])[order],
            }
        )
        self.writer.write(schema.transactions, frame)
        np.add.at(pop.spend_cur, mi, amount)

    def _care(self, y: int, m: np.ndarray, y0: int, y1: int) -> None:
        rng, pop = self.rng, self.pop
        v = pop.value_pct[m]
        store_mult = np.array([STORE_CARE_MULTIPLIER[s] for s in STORES])[pop.store[m]]
        member_parts, day_parts, kind_parts = [], [], []
        for kind, plan in CARE_PLAN.items():
            p = plan["low"] + (plan["high"] - plan["low"]) * expit((v - plan["mid"]) / plan["scale"])
            if kind != "sms":  # mass SMS campaigns go to a random sample whatever the store
                p = p * store_mult
            p = np.clip(p, 0.0, 0.95)
            if plan["days"] is None:
                # The birthday in this simulation year.
                bdays = self._birthday_in_year(pop.birthday_day[m], y)
                days_list = [bdays]
            else:
                days_list = [np.full(len(m), y0 + d) for d in plan["days"] if y0 + d < y1]
            for days in days_list:
                eligible = (pop.join_day[m] <= days) & (rng.random(len(m)) < p)
                member_parts.append(m[eligible])
                day_parts.append(days[eligible])
                kind_parts.append(np.full(int(eligible.sum()), CARE_KINDS_INDEX[kind]))
        mi = np.concatenate(member_parts)
        if len(mi) == 0:
            return
        days = np.concatenate(day_parts)
        kinds = np.concatenate(kind_parts)
        order = np.lexsort((kinds, days))
        mi, days, kinds = mi[order], days[order], kinds[order]
        kind_names = np.array(list(CARE_PLAN))
        cost = np.array([CARE_UNIT_COST[k] for k in CARE_PLAN])[kinds]
        dates = self.start64 + days
        date_str = np.datetime_as_string(dates, unit="D")
        campaign = np.where(kind_names[kinds] == "birthday_gift",
                            pd.Series(kind_names[kinds]) + "-Y" + str(y + 1),
                            pd.Series(kind_names[kinds]) + "-" + pd.Series(date_str).str.replace("-", ""))
        frame = pd.DataFrame(
            {
                "member_id": self._member_ids(mi),
                "action_date": dates.astype("datetime64[s]"),
                "kind": kind_names[kinds],
                "cost": cost,
                "campaign_id": campaign,
            }
        )
        self.writer.write(schema.care_actions, frame)
        np.add.at(pop.care_cur, mi, cost)

    def _birthday_in_year(self, birthday_epoch: np.ndarray, y: int) -> np.ndarray:
        """Day offset (since start_date) of each member's birthday inside simulation year y."""
        ys = self.year_starts[y]
        births = pd.DatetimeIndex((np.datetime64("1970-01-01", "D") + birthday_epoch).astype("datetime64[s]"))
        month, day = births.month.to_numpy(), births.day.to_numpy()
        ys64 = np.datetime64(ys, "D")
        out = np.empty(len(birthday_epoch), dtype="datetime64[D]")
        todo = np.ones(len(birthday_epoch), dtype=bool)
        for year in (ys.year, ys.year + 1):
            leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
            d = np.where((month == 2) & (day == 29) & (not leap), 28, day)
            cand = (np.datetime64(f"{year:04d}-01-01", "M") + (month - 1).astype("timedelta64[M]")).astype(
                "datetime64[D]") + (d - 1).astype("timedelta64[D]")
            take = todo & (cand >= ys64)
            out[take] = cand[take]
            todo &= ~take
        return (out - self.start64).astype(np.int64)

    def _complaints(self, m: np.ndarray, a: np.ndarray, b: np.ndarray) -> None:
        rng, pop, cm = self.rng, self.pop, COMPLAINT_MODEL
        ndays = b - a + 1
        s = self._weighted_satisfaction(m)
        lam = cm["base_rate"] * pop.complaint_prop[m] * np.exp(-cm["sat_slope"] * (s - 4.0)) * ndays / 365.25
        n = rng.poisson(lam)
        mi = np.repeat(m, n)
        total = len(mi)
        if total == 0:
            return
        day = np.repeat(a, n) + (rng.random(total) * np.repeat(ndays, n)).astype(np.int64)
        sat = pop.sat[mi]
        p_service = np.clip(0.4 + 0.1 * (sat[:, 0] - sat[:, 1]), 0.1, 0.9)
        cat = (rng.random(total) < p_service).astype(np.int64)  # 0 product, 1 service
        severity = 1 + rng.choice(3, total, p=cm["severity_probabilities"])
        resolved = rng.random(total) < cm["p_resolved"]
        quick = rng.random(total) < cm["p_quick_given_resolved"]
        res_days = np.where(quick, rng.integers(cm["quick_days"][0], cm["quick_days"][1] + 1, total),
                            rng.integers(cm["slow_days"][0], cm["slow_days"][1] + 1, total))
        status = np.where(~resolved, 2, np.where(res_days > CHURN_MODEL["slow_after_days"], 1, 0))
        # A resolution after the end of the window has not happened yet in the data.
        written_resolved = resolved & (day + res_days < self.window_days)
        p_comp = np.array(cm["p_compensation_by_severity"])[severity - 1]
        median = np.array(cm["compensation_median_by_severity"])[severity - 1]
        comp = np.where(rng.random(total) < p_comp,
                        np.round(median * np.exp(rng.normal(0.0, cm["compensation_log_sd"], total)), 2), 0.0)
        comp = np.minimum(comp, 50_000.0)
        resolutions = np.array(["apology", "exchange", "refund", "voucher", "repair"], dtype=object)
        resolution = np.where(written_resolved, resolutions[rng.integers(0, len(resolutions), total)], None)
        order = np.argsort(day, kind="stable")
        ids = _format_ids("C", np.arange(self.next_complaint, self.next_complaint + total), 7)
        self.next_complaint += total
        dates = self.start64 + day
        resolved_dates = pd.Series((dates + res_days).astype("datetime64[s]"))
        resolved_dates[~written_resolved] = pd.NaT
        frame = pd.DataFrame(
            {
                "complaint_id": ids,
                "member_id": self._member_ids(mi[order]),
                "complaint_date": dates[order].astype("datetime64[s]"),
                "category": np.array(schema.COMPLAINT_CATEGORIES)[cat[order]],
                "severity": severity[order],
                "resolved_date": resolved_dates.iloc[order].reset_index(drop=True),
                "resolution": resolution[order],
                "compensation_cost": comp[order],
            }
        )
        self.writer.write(schema.complaints, frame)
        np.add.at(pop.complaints_cur, (mi, 3 * cat + status), 1)

    def _surveys(self, m: np.ndarray, a: np.ndarray, b: np.ndarray) -> None:
        rng, pop, sm = self.rng, self.pop, SURVEY_MODEL
        answer = rng.random(len(m)) < sm["response_rate"]
        r = m[answer]
        k = len(r)
        if k == 0:
            return
        ndays = (b - a + 1)[answer]
        day = a[answer] + (rng.random(k) * ndays).astype(np.int64)
        response_ids = np.arange(self.next_response, self.next_response + k)
        self.next_response += k
        expectation = np.clip(np.round(pop.expectation[r] + rng.normal(0.0, 0.7, k)), 1, 7).astype(np.int64)
        exp_obj = pd.Series(expectation, dtype=object)
        exp_obj[rng.random(k) < sm["p_missing_expectation"]] = None
        responses = pd.DataFrame(
            {
                "id": response_ids,
                "member_id": self._member_ids(r),
                "survey_date": (self.start64 + day).astype("datetime64[s]"),
                "expectation": exp_obj,
            }
        )
        self.writer.write(schema.survey_responses, responses)
        items = list(schema.DEFAULT_SURVEY_ITEMS)
        dim_of = np.array([schema.DIMENSIONS.index(schema.DEFAULT_SURVEY_ITEMS[c][0]) for c in items])
        latent = pop.sat[r][:, dim_of]  # k x items
        scores = np.clip(np.round(latent + rng.normal(0.0, sm["item_noise_sd"], latent.shape)), 1, 7)
        keep = rng.random(latent.shape) >= sm["p_missing_item"]
        rows, cols = np.nonzero(keep)
        answers = pd.DataFrame(
            {
                "response_id": response_ids[rows],
                "item_code": np.array(items)[cols],
                "score": scores[rows, cols].astype(np.int64),
            }
        )
        self.writer.write(schema.survey_answers, answers)



def _format_ids(prefix: str, numbers: np.ndarray, width: int) -> np.ndarray:
    text = pd.Series(np.asarray(numbers, dtype=np.int64)).astype(str).str.zfill(width)
    return (prefix + text).to_numpy(dtype=object)


# ------------------------------------------------------------------------------------ realised statistics


def _year_index(column: Any, year_starts: list[dt.date], as_datetime: bool) -> Any:
    """SQL expression: the simulation year (0-based) of a date/datetime ``column``; -1 before, ``years`` after."""
    bounds = [dt.datetime.combine(d, dt.time()) if as_datetime else d for d in year_starts]
    whens = [(column < bounds[0], literal(-1))]
    whens += [(column < bounds[y + 1], literal(y)) for y in range(len(year_starts) - 1)]
    return case(*whens, else_=literal(len(year_starts) - 1))


def _member_year_activity(conn: Connection, year_starts: list[dt.date]) -> pd.DataFrame:
    """Per member and simulation year: sales, signed margin and discount (aggregated in SQL).

    Returns
    -------
    DataFrame
        Columns ``member_id``, ``year``, ``n_sales`` (non-return rows), ``sales`` (non-return amounts),
        ``net_sales``, ``margin`` (signed), ``discount``; only member-years with at least one row.
    """
    t = schema.transactions
    frames = []
    # One query per year keeps the fetched result (one row per member) small for very large malls.
    for y in range(len(year_starts) - 1):
        lo, hi = (dt.datetime.combine(d, dt.time()) for d in (year_starts[y], year_starts[y + 1]))
        stmt = (
            select(
                t.c.member_id,
                literal(y).label("year"),
                func.sum(case((t.c.is_return, 0), else_=1)).label("n_sales"),
                func.sum(case((t.c.is_return, 0.0), else_=t.c.amount)).label("sales"),
                func.sum(schema.signed(t.c.amount)).label("net_sales"),
                func.sum(schema.signed(t.c.gross_margin)).label("margin"),
                func.sum(t.c.discount).label("discount"),
            )
            .where(t.c.ts >= lo, t.c.ts < hi)
            .group_by(t.c.member_id)
        )
        frames.append(_frame(conn, stmt, ["member_id", "year", "n_sales", "sales", "net_sales", "margin",
                                          "discount"]))
    frame = pd.concat(frames, ignore_index=True)
    for col in ("sales", "net_sales", "margin", "discount"):
        frame[col] = frame[col].astype(float)
    frame["n_sales"] = frame["n_sales"].astype(np.int64)
    frame["year"] = frame["year"].astype(np.int64)
    return frame


def _frame(conn: Connection, stmt: Any, columns: list[str]) -> pd.DataFrame:
    # Plain tuples: pandas probes every Row object for attributes, which is slow on large results.
    return pd.DataFrame([tuple(row) for row in conn.execute(stmt)], columns=columns)


def _member_year_costs(conn: Connection, year_starts: list[dt.date]) -> pd.DataFrame:
    ca, co = schema.care_actions, schema.complaints
    cy = _year_index(ca.c.action_date, year_starts, as_datetime=False).label("year")
    care = _frame(conn, select(ca.c.member_id, cy, func.sum(ca.c.cost)).group_by(ca.c.member_id, cy),
                  ["member_id", "year", "care_cost"])
    ky = _year_index(co.c.complaint_date, year_starts, as_datetime=False).label("year")
    comp = _frame(conn, select(co.c.member_id, ky, func.sum(co.c.compensation_cost)).group_by(co.c.member_id, ky),
                  ["member_id", "year", "compensation"])
    out = care.merge(comp, on=["member_id", "year"], how="outer")
    for col in ("care_cost", "compensation"):
        out[col] = out[col].astype(float).fillna(0.0)
    out["year"] = out["year"].astype(np.int64)
    return out


def _top_share(values: np.ndarray, fraction: float = 0.2) -> float:
    """Share of the total held by the top ``fraction`` of positive ``values`` (NaN when there are none)."""
    v = np.sort(np.asarray(values, dtype=float)[np.asarray(values, dtype=float) > 0])[::-1]
    if len(v) == 0:
        return float("nan")
    k = max(1, int(round(fraction * len(v))))
    return float(v[:k].sum() / v.sum())


def measure_realised(conn: Connection, start_date: dt.date, years: int) -> dict[str, Any]:
    """Statistics of the written demo mall, measured with SQL aggregates on the tables.

    Definitions: *active* in year y = at least one non-return transaction in simulation year y; *churn rate*
    for y >= 1 = share of members active in y-1 with no non-return transaction in y; *top-20% share* = share of
    net sales of the 20% members with the highest net sales (members with positive net sales; over the window
    and per year); *negative contribution* = signed margin - discount - care cost - complaint compensation
    < 0 in a year, as a share of that year's active members.

    Parameters
    ----------
    conn : Connection
        A database holding the data model (:mod:`vipmodel.schema`); reads ``transactions`` (``member_id``,
        ``ts``, ``amount``, ``gross_margin``, ``discount``, ``is_return``), ``care_actions`` (``cost``,
        ``action_date``), ``complaints`` (``compensation_cost``, ``complaint_date``) and ``members``.
    start_date : date
        First day of the window; simulation year y starts ``y`` years later.
    years : int
        Number of simulation years (>= 1).

    Returns
    -------
    dict
        JSON-ready: table counts, ``members_joined_per_year``, ``active_members_per_year``,
        ``annual_churn_rate`` (years 1.., length ``years - 1``) and its mean, ``top20_sales_share`` (window)
        and ``top20_sales_share_per_year``, ``negative_contribution_share_per_year`` and its mean.

    Raises
    ------
    ValueError
        ``"years must be an integer >= 1"``.
    """
    if isinstance(years, bool) or not isinstance(years, (int, np.integer)) or years < 1:
        raise ValueError("years must be an integer >= 1")
    year_starts = [_add_years(start_date, y) for y in range(years + 1)]
    act = _member_year_activity(conn, year_starts)
    active = act[act["n_sales"] > 0]
    sets = [set(active.loc[active["year"] == y, "member_id"]) for y in range(years)]
    churn = [1.0 - len(sets[y - 1] & sets[y]) / len(sets[y - 1]) if sets[y - 1] else float("nan")
             for y in range(1, years)]
    per_member = act.groupby("member_id")["net_sales"].sum()
    top_by_year = [_top_share(act.loc[act["year"] == y, "net_sales"].to_numpy()) for y in range(years)]
    costs = _member_year_costs(conn, year_starts)
    contrib = active.merge(costs, on=["member_id", "year"], how="left").fillna({"care_cost": 0.0, "compensation": 0.0})
    contrib["contribution"] = contrib["margin"] - contrib["discount"] - contrib["care_cost"] - contrib["compensation"]
    neg_by_year = [float((contrib.loc[contrib["year"] == y, "contribution"] < 0).mean()) for y in range(years)]
    m = schema.members
    jy = _year_index(m.c.join_date, year_starts, as_datetime=False).label("year")
    joined = dict(conn.execute(select(jy, func.count()).group_by(jy)).all())
    counts = {
        name: conn.execute(select(func.count()).select_from(table)).scalar_one()
        for name, table in (("members_total", schema.members), ("transactions", schema.transactions),
                            ("care_actions", schema.care_actions), ("complaints", schema.complaints),
                            ("survey_responses", schema.survey_responses))
    }
    t = schema.transactions
    n_returns = conn.execute(select(func.count()).select_from(t).where(t.c.is_return)).scalar_one()
    return {
        **counts,
        "return_rows": int(n_returns),
        "members_joined_per_year": [int(joined.get(y, 0)) for y in range(years)],
        "active_members_per_year": [len(s) for s in sets],
        "annual_churn_rate": [round(c, 6) for c in churn],
        "annual_churn_rate_mean": round(float(np.mean(churn)), 6) if churn else None,
        "top20_sales_share": round(_top_share(per_member.to_numpy()), 6),
        "top20_sales_share_per_year": [round(v, 6) for v in top_by_year],
        "negative_contribution_share_per_year": [round(v, 6) for v in neg_by_year],
        "negative_contribution_share": round(float(np.mean(neg_by_year)), 6),
    }


# ------------------------------------------------------------------------------------------------ API


def _progress_reporter(
    progress: bool | Callable[[float, str], None], total: int
) -> tuple[Callable[[str], None], Callable[[], None], Callable[[], None]]:
    """(step, close, finish): step after each unit of work, close always, finish once on success."""
    done = [0]
    if callable(progress):
        def step(message: str) -> None:
            done[0] += 1
            # The step count is estimated up front; never report 1.0 before the work is really done.
            progress(min(done[0] / total, 0.99), message)

        return step, lambda: None, lambda: progress(1.0, "done")
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=total, file=sys.stderr, desc="demo mall", unit="step")

        def step(message: str) -> None:
            bar.set_postfix_str(message, refresh=False)
            bar.update(1)

        def finish() -> None:
            bar.n = total
            bar.refresh()

        return step, bar.close, finish
    return (lambda message: None), (lambda: None), (lambda: None)


def generate(
    engine: Engine,
    members: int = 20_000,
    years: int = 3,
    seed: int = 7,
    end_date: dt.date | None = None,
    progress: bool | Callable[[float, str], None] = True,
    batch_size: int = 50_000,
) -> GroundTruth:
    """Replace the database contents with a simulated mall and return its ground truth.

    Parameters
    ----------
    engine : Engine
        Target database; its tables are dropped and recreated.
    members : int
        Member base alive at the start of the window (dormant card holders and yearly newcomers are added).
    years : int
        Whole years simulated, ending at ``end_date``.
    seed : int
        Seed of ``numpy.random.default_rng``; same arguments give identical table contents.
    end_date : date, optional
        Last day of the window (default :data:`DEFAULT_END_DATE`, so outputs are deterministic).
    progress : bool or callable
        ``True``: tqdm bar on stderr; ``False``: silent; callable: called with (fraction 0..1, message).
    batch_size : int
        Members simulated and written per batch (bounds memory for very large malls).

    Returns
    -------
    GroundTruth
        Every true parameter and the statistics measured on the written tables (also stored in
        ``dataset_info`` under :data:`GROUND_TRUTH_KEY`; see :func:`load_ground_truth`).

    Raises
    ------
    ValueError
        ``"members must be an integer >= 1"``, ``"years must be an integer >= 1"``,
        ``"batch_size must be an integer >= 1"``, ``"end_date must be a datetime.date"``,
        ``"progress must be True, False or a callable(fraction, message)"`` (checked before anything is
        dropped). If generation fails later, the database is left with an empty or partial schema.
    """
    for name, value in (("members", members), ("years", years), ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1")
    if not (isinstance(progress, bool) or callable(progress)):
        raise ValueError("progress must be True, False or a callable(fraction, message)")
    if end_date is not None and (not isinstance(end_date, dt.date) or isinstance(end_date, dt.datetime)):
        raise ValueError("end_date must be a datetime.date")
    end = end_date or DEFAULT_END_DATE
    start, end = window(end, years)
    rng = np.random.default_rng(seed)
    chunks_per_year = max(1, math.ceil(members * 1.3 / batch_size))
    step, close, finish = _progress_reporter(progress, total=2 + years * (chunks_per_year + 1))
    try:
        drop_schema(engine)
        create_schema(engine)
        with engine.begin() as conn:
            step("members")
            # Secondary indexes of the big table are built once after the load instead of row by row.
            deferred = [ix for ix in schema.transactions.indexes if not ix.unique]
            for ix in deferred:
                ix.drop(conn)
            dropped_fks = _drop_foreign_keys(conn) if conn.dialect.name == "postgresql" else []
            sim = _Simulation(conn, rng, int(members), int(years), start, end, int(batch_size))
            sim.initial_members()
            for y in range(years):
                if y > 0:
                    sim.churn_and_drift()
                sim.set_value_percentiles(y)
                sim.new_members(y)
                step(f"year {y + 1}/{years}: members")
                for m in sim.year_chunks(y):
                    sim.simulate_chunk(y, m)
                    step(f"year {y + 1}/{years}")
                if y == 0:
                    sim.calibrate_b0()
                sim.end_of_year()
            for ix in deferred:
                ix.create(conn)
            for fk in dropped_fks:
                conn.execute(AddConstraint(fk))
            if conn.dialect.name == "postgresql":
                # Explicit ids were written by COPY: move the sequence past them so later inserts work.
                sr = schema.survey_responses
                conn.execute(select(func.setval(func.pg_get_serial_sequence(sr.name, "id"),
                                                select(func.coalesce(func.max(sr.c.id), 0) + 1).scalar_subquery(),
                                                False)))
            step("statistics")
            # Planner statistics for the freshly loaded tables: without them PostgreSQL (and SQLite) plan the
            # first aggregations as if the tables were nearly empty (an 8.7M-row scan estimated at 130k rows).
            conn.execute(text("ANALYZE"))
            realised = measure_realised(conn, start, years)
            realised["churned_per_year_simulated"] = sim.churned_per_year
            realised["rows_per_table"] = dict(sim.writer.rows)
            churn_model = {**CHURN_MODEL, "b0": round(float(sim.b0), 10), "formula": CHURN_FORMULA}
            truth = GroundTruth(
                seed=int(seed), members=int(members), years=int(years), start_date=start, end_date=end,
                stores=STORES, category_margin=dict(CATEGORY_MARGIN), care_unit_cost=dict(CARE_UNIT_COST),
                satisfaction_weights=dict(SATISFACTION_WEIGHTS), churn_model=_jsonable(churn_model),
                referral_model=_jsonable(REFERRAL_MODEL),
                purchase_model=_jsonable({**PURCHASE_MODEL, "category_mix": CATEGORY_MIX,
                                          "category_price_factor": CATEGORY_PRICE_FACTOR}),
                complaint_model=_jsonable(COMPLAINT_MODEL), survey_model=_jsonable(SURVEY_MODEL),
                care_plan=_jsonable({"plan": CARE_PLAN, "store_multiplier": STORE_CARE_MULTIPLIER,
                                     "value_percentile": "rank of previous-year sales among alive members"}),
                population_model=_jsonable(POPULATION_MODEL), realised=_jsonable(realised),
            )
            put_info(conn, GROUND_TRUTH_KEY, truth.to_dict())
            bump_data_version(conn)
    finally:
        close()
    finish()
    return truth


def regenerate(engine: Engine, actor: Actor, *, replace: bool = False, **kwargs: Any) -> GroundTruth:
    """:func:`generate` on behalf of ``actor``, refusing to delete imported data unless ``replace`` is True.

    Parameters
    ----------
    engine : Engine
    actor : vipmodel.auth.Actor
        Must be an admin.
    replace : bool, default False
        Required when the database holds imported data (any row in ``import_log``): regenerating deletes every
        member, purchase, survey, complaint, care action, setting and import record (users and the audit trail
        are kept).
    **kwargs
        Passed to :func:`generate` (``members``, ``years``, ``seed``, ``progress`` ...).

    Returns
    -------
    GroundTruth

    Raises
    ------
    vipmodel.auth.PermissionDenied
        For any role but admin.
    ValueError
        ``"the database holds imported data: 12 import_log, 5,000 members, ... rows would be deleted; replace it
        explicitly (--replace)"``.
    """
    require(actor, "regenerate_demo")
    counts = table_counts(engine)
    deleted = {name: n for name, n in counts.items() if n and name not in KEPT_TABLES}
    if counts.get("import_log") and not replace:
        listed = ", ".join(f"{n:,} {name}" for name, n in deleted.items())
        raise ValueError(f"the database holds imported data: {listed} rows would be deleted; "
                         "replace it explicitly (--replace)")
    truth = generate(engine, **kwargs)
    with engine.begin() as conn:
        audit.record(conn, actor.username, "demo_regenerated", engine.url.render_as_string(hide_password=True),
                     deleted, {k: kwargs.get(k) for k in ("members", "years", "seed")})
    return truth
