"""The executive KPIs as text: value and signed change, shared by the Overview page and the weekly pack."""

from __future__ import annotations

import math

from dashboard.i18n import fmt_money, fmt_number, fmt_percent

PERCENT_KPIS = frozenset({"top20_share", "churn_rate", "active_share"})
INVERSE_KPIS = frozenset({"churn_rate", "complaints_week"})  # a rise is bad news: shown red when it goes up


def shows_zero(change: str | None) -> bool:
    """True when a change as written (``"-0.0"``, ``"+0.0 pp"``, ``"-¥0"``) shows no change: every digit is 0."""
    digits = [ch for ch in str(change or "") if ch.isdigit()]
    return bool(digits) and set(digits) == {"0"}


def kpi_value(kpi: str, value: float, lang: str) -> str:
    """A KPI's value as shown (percent, money, index with one decimal, or a count)."""
    if kpi in PERCENT_KPIS:
        return fmt_percent(value, lang)
    if kpi == "sales_week":
        return fmt_money(value, lang)
    if kpi == "satisfaction_index":
        return fmt_number(value, lang, decimals=1)
    return fmt_number(value, lang)


def kpi_change(kpi: str, change: float | None, lang: str) -> str | None:
    """A KPI's change as shown, signed (``"+1.2 pp"``, ``"-¥115,436"``); a change that rounds to zero has no sign;
    None when unknown (no earlier data to compare with)."""
    if change is None or (isinstance(change, float) and math.isnan(change)):
        return None
    if kpi in PERCENT_KPIS:
        text = f"{change * 100:+.1f} pp"
    elif kpi == "satisfaction_index":
        text = f"{change:+.1f}"
    else:
        text = ("+" if change >= 0 else "-") + kpi_value(kpi, abs(change), lang)
    return text.lstrip("+-") if shows_zero(text) else text
