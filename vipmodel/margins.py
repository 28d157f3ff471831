"""Gross-margin rates for sales exported without a margin, and how much of the profit rests on them.

A mall's first export is usually its POS data: amounts, no margins. Counting a missing margin as 0 makes every
profit contribution 0, every member a D (Lead) and every lifetime value ¥0. Instead a transaction stored with
``gross_margin`` NULL gets ``amount × rate``, where the rate is the mall's margin rate for the sale's product
category, else for its store, else the mall's default rate (category first: a margin belongs to the goods more
than to the counter that sold them). A margin given in the export is always used as it is.

The rates are a versioned setting (kind ``"margin_rates"``, :mod:`vipmodel.settings`) like the tier rules;
until the mall saves its own, :data:`DEFAULT_RATES` applies. Every analysis reads them in SQL through
:func:`margin_sql`, and :func:`margin_coverage` says for what share of sales the margin was estimated, so a
page can say so next to every profit figure.

References
----------
.. [1] Kaplan, R. S. & Narayanan, V. G. (2001). Measuring and managing customer profitability.
   *Journal of Cost Management*, 15(5), 5-15 (profit per customer from the margin of what they buy, less the
   cost to serve them).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from numbers import Real
from typing import Any

from sqlalchemy import Connection, Engine, Float, case, cast, func, literal, select
from sqlalchemy.sql.elements import ColumnElement

from vipmodel import schema, settings
from vipmodel.auth import Actor
from vipmodel.db import as_date, borrow_connection

KIND = "margin_rates"
# A department-store margin on what members buy, before discounts: used until the mall saves its own rate.
DEFAULT_RATE = 0.20
_PAYLOAD_KEYS = {"default", "by_store", "by_category"}
_NAME_MAX = 64  # the length of transactions.store / transactions.category


def _rate(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
        raise ValueError(f"{what} must be a number in [0, 1); got {value!r}")
    if not 0.0 <= float(value) < 1.0:
        raise ValueError(f"{what} must be in [0, 1); got {float(value):g}")
    return float(value)


def _rates(values: Any, what: str) -> dict[str, float]:
    if values is None:
        return {}
    if not isinstance(values, Mapping):
        raise ValueError(f"{what} must map names to rates; got {type(values).__name__}")
    out: dict[str, float] = {}
    for name, value in values.items():
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"{what} has a blank or non-text name: {name!r}")
        if len(name) > _NAME_MAX:
            raise ValueError(f"{what} name {name[:20]!r}... is longer than {_NAME_MAX} characters")
        out[name] = _rate(value, f"{what}[{name!r}]")
    return dict(sorted(out.items()))


@dataclass(frozen=True)
class MarginRates:
    """The gross-margin rates applied to sales exported without a margin.

    Parameters
    ----------
    default : float
        Rate of the mall, in [0, 1): margin = ``rate × amount``.
    by_store, by_category : mapping of str to float, optional
        Rates of particular stores (``transactions.store``) and product categories (``transactions.category``);
        a category's rate wins over a store's, a store's over the default.

    Raises
    ------
    ValueError
        ``"default must be in [0, 1); got 1.2"``, ``"by_store['East'] must be a number in [0, 1); got 'x'"``,
        ``"by_category has a blank or non-text name: ''"``.
    """

    default: float = DEFAULT_RATE
    by_store: Mapping[str, float] = field(default_factory=dict)
    by_category: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "default", _rate(self.default, "default"))
        object.__setattr__(self, "by_store", _rates(self.by_store, "by_store"))
        object.__setattr__(self, "by_category", _rates(self.by_category, "by_category"))

    def __hash__(self) -> int:  # the mappings are plain dicts: hash their items (used as a cache key)
        return hash((self.default, tuple(self.by_store.items()), tuple(self.by_category.items())))

    def rate_for(self, store: str | None, category: str | None) -> float:
        """The rate a sale of ``category`` in ``store`` gets when its margin is missing."""
        if category is not None and category in self.by_category:
            return self.by_category[category]
        if store is not None and store in self.by_store:
            return self.by_store[store]
        return self.default

    def to_payload(self) -> dict[str, Any]:
        """JSON payload for :func:`save_margin_rates` (setting kind ``"margin_rates"``)."""
        return {"default": self.default, "by_store": dict(self.by_store), "by_category": dict(self.by_category)}

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> MarginRates:
        """Rates from a stored payload (the inverse of :meth:`to_payload`).

        Raises ``ValueError`` (``"margin rates payload must be a mapping"``, ``"margin rates payload has no
        'default'"``, ``"unknown key(s) in margin rates payload: 'x'"``, or any message of the class).
        """
        if not isinstance(payload, Mapping):
            raise ValueError("margin rates payload must be a mapping")
        unknown = sorted(set(payload) - _PAYLOAD_KEYS, key=str)
        if unknown:
            raise ValueError("unknown key(s) in margin rates payload: " + ", ".join(repr(k) for k in unknown))
        if "default" not in payload:
            raise ValueError("margin rates payload has no 'default'")
        return cls(payload["default"], payload.get("by_store") or {}, payload.get("by_category") or {})


DEFAULT_RATES = MarginRates()


def current_margin_rates(conn: Engine | Connection) -> tuple[MarginRates, int | None]:
    """The latest saved margin rates and their version, or :data:`DEFAULT_RATES` and None."""
    saved = settings.latest_setting(conn, KIND)
    if saved is None:
        return DEFAULT_RATES, None
    return MarginRates.from_payload(saved.payload), saved.version


def save_margin_rates(
    conn: Engine | Connection, rates: MarginRates, actor: Actor, note: str = ""
) -> settings.SettingVersion:
    """Save ``rates`` as the next version, on behalf of ``actor``.

    Every profit figure of sales without a margin changes with the rates, so the save also starts a new data
    version (:data:`vipmodel.settings.DATA_KINDS`): results cached under the old one are not served again.

    Parameters
    ----------
    conn : Engine or Connection
        With a Connection the rows are written in the caller's transaction (the caller commits).
    rates : MarginRates
    actor : vipmodel.auth.Actor
        The signed-in user (marketing or admin).
    note : str
        Why.

    Returns
    -------
    SettingVersion

    Raises
    ------
    ValueError
        ``"rates must be a MarginRates, got dict"`` or any message of :func:`vipmodel.settings.save_setting`.
    vipmodel.auth.PermissionDenied
        For a viewer.
    """
    if not isinstance(rates, MarginRates):
        raise ValueError(f"rates must be a MarginRates, got {type(rates).__name__}")
    return settings.save_setting(conn, KIND, rates.to_payload(), actor, note)


def margin_sql(rates: MarginRates, table=None) -> ColumnElement:
    """SQL for the gross margin of each row of ``transactions``: the exported one, else ``amount × rate``.

    Store and category names travel as bound parameters. The expression has the sign of the sale (wrap it in
    :func:`vipmodel.schema.signed` for net figures).
    """
    t = schema.transactions if table is None else table
    rate: ColumnElement = literal(rates.default, Float)
    if rates.by_store:
        rate = case({k: literal(v, Float) for k, v in rates.by_store.items()}, value=t.c.store, else_=rate)
    if rates.by_category:
        rate = case({k: literal(v, Float) for k, v in rates.by_category.items()}, value=t.c.category, else_=rate)
    return func.coalesce(t.c.gross_margin, cast(t.c.amount, Float) * rate)


@dataclass(frozen=True)
class MarginCoverage:
    """How much of a period's sales had a margin in the export.

    Attributes
    ----------
    sales : float
        Gross sales of the period (returns not deducted).
    estimated_sales : float
        Sales whose margin was estimated from the rates.
    estimated_share : float
        ``estimated_sales / sales`` (0 when there were no sales).
    rates : MarginRates
        The rates applied.
    version : int or None
        Their saved version (None: the product's default rate).
    """

    sales: float
    estimated_sales: float
    estimated_share: float
    rates: MarginRates
    version: int | None

    @property
    def any_estimated(self) -> bool:
        """True when some sales of the period had no margin in the export."""
        return self.estimated_sales > 0


def margin_coverage(
    conn: Engine | Connection, start: dt.date, end: dt.date, store: str | None = None
) -> MarginCoverage:
    """The share of sales in ``[start, end]`` (whole days) whose margin is estimated from the rates.

    Parameters
    ----------
    conn : Engine or Connection
    start, end : datetime.date
        First and last day, inclusive.
    store : str, optional
        Only the sales of this store.

    Returns
    -------
    MarginCoverage

    Raises
    ------
    ValueError
        ``"start must be a date, got str"``, ``"start (2025-02-01) is after end (2025-01-01)"``.
    """
    start, end = as_date(start, "start"), as_date(end, "end")
    if start > end:
        raise ValueError(f"start ({start}) is after end ({end})")
    t = schema.transactions
    conditions = [
        t.c.ts >= dt.datetime.combine(start, dt.time()),
        t.c.ts < dt.datetime.combine(end + dt.timedelta(days=1), dt.time()),
        t.c.is_return.is_(False),
    ]
    if store is not None:
        conditions.append(t.c.store == store)
    query = select(
        cast(func.coalesce(func.sum(t.c.amount), 0), Float),
        cast(func.coalesce(func.sum(case((t.c.gross_margin.is_(None), t.c.amount), else_=0)), 0), Float),
    ).where(*conditions)
    with borrow_connection(conn) as c:
        sales, estimated = c.execute(query).one()
        rates, version = current_margin_rates(c)
    sales, estimated = float(sales or 0.0), float(estimated or 0.0)
    return MarginCoverage(sales, estimated, estimated / sales if sales > 0 else 0.0, rates, version)
