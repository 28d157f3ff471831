"""What the weekly pack says, in one language, independent of the file format: the words, the numbers as text,
the figures and the lists (``dashboard.report.sheets``), built from a ``vipmodel.weekly.WeeklySummary``.

Every writer (deck, HTML, PDF, workbook) renders the same :class:`PackContent`, so the formats, the Report page and
the ``report`` command can never disagree. Highlight sentences are filled only from ``Highlight.values``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from dashboard.i18n import fmt_date, fmt_money, fmt_number, t, tier_name
from dashboard.kpi_text import INVERSE_KPIS, kpi_change, kpi_value, shows_zero
from dashboard.report import figures
from dashboard.report.sheets import build_sheets
from vipmodel import privacy
from vipmodel.weekly import Highlight, WeeklySummary

SECTIONS: tuple[str, ...] = ("pyramid", "migration", "risk", "complaints", "satisfaction", "care")
# Which highlights speak for which chart: a key, or (key, the KPI it is about).
_SECTION_HIGHLIGHTS: dict[str, tuple[object, ...]] = {
    "pyramid": ("new_platinum", ("kpi_change", "active_members"), ("kpi_change", "active_share"),
                ("kpi_change", "top20_share")),
    "migration": ("tier_down",),
    "risk": ("value_at_risk", ("kpi_change", "churn_rate")),
    "complaints": ("complaints_change", ("kpi_change", "complaints_week")),
    "satisfaction": ("satisfaction_change",),
    "care": ("care_vs_plan",),
}
SENTENCES_PER_SECTION = 2
TOP_HIGHLIGHTS = 5


@dataclass(frozen=True)
class KpiLine:
    """One KPI as text: ``tone`` is ``"good"``, ``"bad"`` or ``"neutral"`` (for colour), from the week's change."""

    label: str
    value: str
    week: str
    year: str
    tone: str


@dataclass(frozen=True)
class Section:
    """One chart of the pack: ``key`` in :data:`SECTIONS`, its title, figure, highlight sentences and the method
    and caveat (speaker notes)."""

    key: str
    title: str
    figure: go.Figure
    sentences: tuple[str, ...]
    note: str


@dataclass(frozen=True)
class PackContent:
    """Everything the pack shows, in ``lang``; ``sheets`` are the workbook's lists, already masked for ``role``."""

    week: str
    lang: str
    role: str
    title: str
    subtitle: str
    partial_note: str | None
    kpi_title: str
    kpi_header: tuple[str, str, str, str]
    kpis: tuple[KpiLine, ...]
    highlights_title: str
    highlights: tuple[str, ...]
    sections: tuple[Section, ...]
    sheets: dict[str, pd.DataFrame] = field(default_factory=dict)

    def file_name(self, extension: str) -> str:
        """``vip-weekly-2026-W47-zh.pptx``: the week and the language in every file's name."""
        return f"vip-weekly-{self.week}-{self.lang}.{extension}"


# ----------------------------------------------------------------------------------------------- numbers as text


def _tone(kpi: str, text: str, change: float) -> str:
    if shows_zero(text) or change is None or (isinstance(change, float) and math.isnan(change)):
        return "neutral"
    good = (change > 0) != (kpi in INVERSE_KPIS)
    return "good" if good else "bad"


def _group_name(group: str, lang: str) -> str:
    return tier_name(group, lang) if group in "ABCD" and group else t("report.inactive", lang)


def _dimension_name(dimension: str, lang: str) -> str:
    return t("report.index", lang) if dimension == "index" else t(f"sat.dim.{dimension}", lang)


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


# ------------------------------------------------------------------------------------------------- highlights


def sentence(highlight: Highlight, lang: str) -> str:
    """The highlight in words, filled only from ``highlight.values``."""
    v: Mapping[str, Any] = highlight.values
    key = highlight.key
    if key == "kpi_change":
        direction = "up" if v["week_change"] > 0 else "down"
        return t(f"report.hl.kpi_change.{direction}", lang, kpi=t(f"kpi.{v['kpi']}", lang),
                 value=kpi_value(v["kpi"], v["value"], lang), previous=kpi_value(v["kpi"], v["previous_week"], lang),
                 change=kpi_change(v["kpi"], v["week_change"], lang) or t("common.not_available", lang))
    if key in ("tier_down", "new_platinum"):
        variant = ".no_value" if _missing(v["value"]) else ""
        return t(f"report.hl.{key}{variant}", lang, tier=tier_name(v["tier"], lang),
                 members=fmt_number(v["members"], lang), value=fmt_money(v["value"], lang),
                 complaints=fmt_number(v.get("with_open_complaint", 0), lang))
    if key == "value_at_risk":
        return t("report.hl.value_at_risk", lang, value=fmt_money(v["value_at_risk"], lang),
                 top=fmt_number(v["top_members"], lang), top_value=fmt_money(v["top_value"], lang))
    if key == "complaints_change":
        direction = "up" if v["change"] > 0 else "down"
        return t(f"report.hl.complaints_change.{direction}", lang, measure=t(f"report.measure.{v['measure']}", lang),
                 value=fmt_number(v["value"], lang), previous=fmt_number(v["previous_week"], lang),
                 change=fmt_number(abs(v["change"]), lang))
    if key == "satisfaction_change":
        direction = "up" if v["change"] > 0 else "down"
        return t(f"report.hl.satisfaction_change.{direction}", lang, dimension=_dimension_name(v["dimension"], lang),
                 score=fmt_number(v["score"], lang, decimals=1), change=f"{v['change']:+.2f}")
    if key == "care_vs_plan":
        direction = "up" if v["difference"] > 0 else "down"
        return t(f"report.hl.care_vs_plan.{direction}", lang, tier=_group_name(v["tier"], lang),
                 spend=fmt_money(v["spend"], lang), plan=fmt_money(v["plan"], lang),
                 difference=fmt_money(abs(v["difference"]), lang))
    raise ValueError(f"no sentence for highlight key {key!r}")


def _speaks_for(highlight: Highlight, wanted: tuple[object, ...]) -> bool:
    for item in wanted:
        if item == highlight.key:
            return True
        if isinstance(item, tuple) and highlight.key == item[0] and highlight.values.get("kpi") == item[1]:
            return True
    return False


def section_sentences(highlights: tuple[Highlight, ...], section: str, lang: str) -> tuple[str, ...]:
    """The biggest highlights (already ranked by size) that speak for ``section``; a plain "no notable change"
    sentence when there is none."""
    picked = [h for h in highlights if _speaks_for(h, _SECTION_HIGHLIGHTS[section])][:SENTENCES_PER_SECTION]
    return tuple(sentence(h, lang) for h in picked) or (t("report.no_highlight", lang),)


# ----------------------------------------------------------------------------------------------------- figures


def _figures(summary: WeeklySummary, lang: str) -> dict[str, tuple[str, go.Figure, str]]:
    """(title, figure, note) per section."""
    tiers = {k: tier_name(k, lang) for k in "ABCD"}
    now, before = t("report.series.this_week", lang), t("report.series.last_week", lang)
    out: dict[str, tuple[str, go.Figure, str]] = {}

    title = t("report.section.pyramid", lang)
    changes = [f"{fmt_number(m, lang)} ({'+' if c > 0 else ''}{fmt_number(c, lang)})"
               for m, c in zip(summary.tiers["members"], summary.tiers["change"])]
    out["pyramid"] = (title, figures.tier_sizes(summary.tiers, tiers, {"members": now, "members_previous_week": before},
                                                changes, title), t("report.note.pyramid", lang))

    by_value = summary.flows["value"].notna().all() and summary.flows["value"].sum() > 0
    key = "migration" if by_value else "migration_members"
    title = t(f"report.section.{key}", lang)
    states = {**tiers, "new": t("migration.state.new", lang), "lost": t("migration.state.lost", lang)}
    links = figures.flow_links(summary.flows, "value" if by_value else "members")
    columns = (t("report.last_week_column", lang, week=summary.previous_week),
               t("report.last_week_column", lang, week=summary.week))
    out["migration"] = (title, figures.flows(links, states, columns, "¥,.0f" if by_value else ",.0f",
                                             t("migration.members", lang), title), t(f"report.note.{key}", lang))

    title = t("report.section.risk", lang)
    out["risk"] = (title, figures.risk_bars(summary.at_risk, tiers, t("report.axis.value_at_risk", lang), title),
                   t("report.note.risk", lang))

    title = t("report.section.complaints", lang)
    measures = {m: t(f"report.measure.{m}", lang) for m in ("opened", "resolved", "overdue")}
    out["complaints"] = (title, figures.complaint_bars(summary.complaints, measures,
                                                       {"previous_week": before, "value": now}, title),
                         t("report.note.complaints", lang))

    title = t("report.section.satisfaction", lang)
    sat = summary.satisfaction
    dims = {d: _dimension_name(d, lang) for d in sat["dimension"]}
    changes = [f"{s:.1f} ({c:+.2f})" if not _missing(c) else f"{s:.1f}" for s, c in zip(sat["score"], sat["change"])]
    out["satisfaction"] = (title, figures.satisfaction_bars(sat, dims, {"previous": before, "score": now}, changes,
                                                            title), t("report.note.satisfaction", lang))

    title = t("report.section.care", lang)
    groups = {g: _group_name(g, lang) for g in summary.care["tier"]}
    note = t("report.note.care", lang)
    if summary.care["plan"].isna().all():
        note += " " + t("report.note.no_plan", lang)
    out["care"] = (title, figures.care_bars(summary.care, groups, {"spend": t("report.series.spend", lang),
                                                                   "plan": t("report.series.plan", lang)}, title),
                   note)
    return out


# ------------------------------------------------------------------------------------------------------ content


def build_content(summary: WeeklySummary, lang: str, role: str = "viewer",
                  contacts: pd.DataFrame | None = None) -> PackContent:
    """The pack of ``summary`` in ``lang`` for a reader of ``role`` (who may see which personal data)."""
    privacy.sees(role, "name")  # an unknown role fails here, before anything is drawn
    kpis = []
    for row in summary.kpis.itertuples(index=False):
        unknown = t("common.not_available", lang)
        week = kpi_change(row.kpi, row.week_change, lang) or unknown
        kpis.append(KpiLine(t(f"kpi.{row.kpi}", lang), kpi_value(row.kpi, row.value, lang), week,
                            kpi_change(row.kpi, row.year_change, lang) or unknown,
                            _tone(row.kpi, week, row.week_change)))
    drawn = _figures(summary, lang)
    sections = tuple(
        Section(key, drawn[key][0], drawn[key][1], section_sentences(summary.highlights, key, lang), drawn[key][2])
        for key in SECTIONS
    )
    return PackContent(
        week=summary.week,
        lang=lang,
        role=role,
        title=t("report.title", lang),
        subtitle=t("report.subtitle", lang, week=summary.week, start=fmt_date(summary.start, lang),
                   end=fmt_date(summary.end, lang)),
        partial_note=t("report.partial", lang) if summary.partial else None,
        kpi_title=t("report.kpi_title", lang, week=summary.week),
        kpi_header=tuple(t(f"report.kpi.col.{c}", lang) for c in ("kpi", "value", "week", "year")),
        kpis=tuple(kpis),
        highlights_title=t("report.highlights", lang),
        highlights=tuple(sentence(h, lang) for h in summary.highlights[:TOP_HIGHLIGHTS]),
        sections=sections,
        sheets=build_sheets(summary, contacts, lang, role),
    )
