"""The Complaints & churn page's loaders (the member-year churn panel, its analyses, the adjusted regression, the
period's complaint count) and its default view. The satisfaction page reads the same churn panel."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import partial

import pandas as pd

from dashboard.data.common import cached, get_engine, shared
from dashboard.data.members import load_features, member_ids
from dashboard.data.stored import stored
from dashboard.members_filter import restrict
from dashboard.state import ALL_TIERS
from vipmodel.pyramid import DEFAULT_RULES, TierRules

YEARS = 2  # two behaviour years, each followed by its outcome year: three years of data


@cached(show_spinner=False, max_entries=4)
@stored
def load_churn_panel(
    url: str, version: str, as_of: dt.date, years: int = 2, rules_payload: dict | None = None
) -> pd.DataFrame:
    """Member-year panel (:func:`vipmodel.outcomes.churn_panel`): each year's features and churn in the next year."""
    from vipmodel.outcomes import churn_panel

    rules = DEFAULT_RULES if rules_payload is None else TierRules.from_payload(rules_payload)
    with get_engine(url).connect() as conn:
        return churn_panel(conn, as_of, years, rules)


def _panel_facts(panel: pd.DataFrame) -> dict:
    from vipmodel.complaints import COUNT_COLUMNS

    if panel.empty:
        return {"rows": 0, "members": 0, "first": None, "last": None, "complaints": 0}
    return {"rows": len(panel), "members": int(panel["member_id"].nunique()), "first": panel["window_start"].min(),
            "last": panel["window_end"].max(), "complaints": int(panel[list(COUNT_COLUMNS)].to_numpy().sum())}


@cached(show_spinner=False, max_entries=16)
@stored
def load_complaint_count(url: str, version: str, start: dt.date, end: dt.date, store: str | None = None,
                         tiers: tuple[str, ...] = ALL_TIERS) -> int:
    """Complaints filed in ``[start, end]`` by the members the sidebar filters keep (a number, not a frame to copy)."""
    kept = member_ids(url, version, (start, end), store, tiers)
    frame = restrict(shared(load_features, url, version, start, end), kept)
    return int(frame["n_complaints"].sum()) if not frame.empty else 0


PANEL_ANALYSES = ("facts", "churn_by_group", "group_difference_test", "standard_effects", "correlation_matrix")


@cached(show_spinner=False, max_entries=64)
@stored
def load_panel_analysis(
    url: str, version: str, as_of: dt.date, years: int, rules_payload: dict, store: str | None,
    tiers: tuple[str, ...], analysis: str, *args,
):
    """One analysis of the churn panel the sidebar filters keep (behaviour-year tiers), cached: ``"facts"`` (rows,
    members, window, complaints) or a :mod:`vipmodel.complaints` function of the panel (see :data:`PANEL_ANALYSES`)
    called with ``args``. Complaints are counted by their handling status as recorded by the end of the following
    year (``complaints.with_status``), as the page's regression does. At a million members each is a pass over
    millions of member-years: computed once, read on every rerun. Raises the analysis' ValueError uncached, for
    the page to explain.
    """
    from vipmodel import complaints

    if analysis not in PANEL_ANALYSES:
        raise KeyError(f"unknown panel analysis {analysis!r}; known: {', '.join(PANEL_ANALYSES)}")
    # The shared panel (read only: every analysis makes its own frames), not a copy of it per analysis.
    panel = restrict(shared(load_churn_panel, url, version, as_of, years, rules_payload),
                     member_ids(url, version, None, store), tiers)
    if analysis == "facts":
        return _panel_facts(panel)
    return getattr(complaints, analysis)(complaints.with_status(panel, "final"), *args)


@cached(show_spinner=False, max_entries=4)
@stored
def load_complaint_regression(
    url: str, version: str, as_of: dt.date, years: int = 2, rules_payload: dict | None = None,
    store: str | None = None, tiers: tuple[str, ...] = ALL_TIERS,
):
    """Per-complaint churn associations (:func:`vipmodel.complaints.adjusted_churn_effects`) on the churn panel the
    sidebar filters keep (behaviour-year tiers): adjusted for tier, log sales and satisfaction on the surveyed
    member-years, next to the fits without satisfaction; member-clustered errors, final handling status.

    The tier control is dropped when the panel holds a single tier. Raises the unadjusted fit's ValueError (too few
    member-years, separation...) uncached, for the page to explain; a failed adjusted fit is kept in the result.
    """
    from vipmodel.complaints import adjusted_churn_effects

    panel = restrict(shared(load_churn_panel, url, version, as_of, years, rules_payload),
                     member_ids(url, version, None, store), tiers)
    controls = ("tier", "log_sales") if panel["tier"].nunique() > 1 else ("log_sales",)
    return adjusted_churn_effects(panel, controls)


def panel_views() -> tuple[tuple[str, ...], ...]:
    """The page's panel analyses at its default view (the first grouping of the selectbox)."""
    # Imported here: vipmodel.complaints brings scipy.stats (0.7 s), which a restarted server's first page need not
    # wait for when the precompute is not needed.
    from vipmodel.complaints import GROUPINGS

    return (("facts",), ("churn_by_group", GROUPINGS[0]), ("group_difference_test", GROUPINGS[0]),
            ("standard_effects",), ("correlation_matrix",))


def warm_panel(url: str, version: str, start: dt.date, end: dt.date,
               rules: dict) -> list[tuple[str, Callable[[], object]]]:
    """(step name, call) for the churn panel (the satisfaction page reads it too) and the period's complaint count,
    as the page reads them at its default view: all stores, all tiers."""
    return [
        ("complaints.panel", lambda: shared(load_churn_panel, url, version, end, YEARS, rules)),
        ("complaints.count", lambda: load_complaint_count(url, version, start, end, None, ALL_TIERS)),
    ]


def warm_default(url: str, version: str, start: dt.date, end: dt.date,
                 rules: dict) -> list[tuple[str, Callable[[], object]]]:
    """(step name, call) for the page's analyses at its default view, after :func:`warm_panel`."""
    return [
        ("complaints.regression", lambda: load_complaint_regression(url, version, end, YEARS, rules, None, ALL_TIERS)),
        *((f"complaints.{name}", partial(load_panel_analysis, url, version, end, YEARS, rules, None, ALL_TIERS, name,
                                         *args))
          for name, *args in panel_views()),
    ]
