"""What the precompute computes: every page's default view as named steps (``steps``), and the same steps in chains
for processes working at once (``chains``, ``workers``). ``dashboard.precompute`` runs them."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable

from dashboard import campaign_data, report_data, state
from dashboard.data import (
    care,
    common,
    complaints,
    migration,
    overview,
    pyramid,
    referrals,
    satisfaction,
    value,
)

WORKERS_ENV = "VIPDASH_PRECOMPUTE_WORKERS"  # processes computing at once (default: one per core, at most 2)
MAX_WORKERS = 2  # the two longest chains (chains()) take most of the time: more processes would mostly wait


def default_period(latest: dt.date, first: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The sidebar's default period: the 365 days up to the latest data, from its first day at the earliest
    (``state.default_period``, as ``state.load_from_query_params`` sets it)."""
    return state.default_period(latest, first)


def _defaults(url: str, version: str, latest: dt.date) -> tuple[str, str, dt.date, dt.date, dict]:
    """What every page's ``warm_default`` takes: the database, the data version, the default period and the saved
    tier rules."""
    start, end = default_period(latest, common.load_first_date(url, version))
    return url, version, start, end, common.load_tier_rules(url)[0].to_payload()


def steps(url: str, version: str, latest: dt.date) -> list[tuple[str, Callable[[], object]]]:
    """(name, call) for every heavy loader a page calls at its default view, in the order the pages need them: each
    page's data module states its default view (``warm_default``); the churn panel comes before the satisfaction page,
    which reads it too."""
    args = _defaults(url, version, latest)
    return [
        *overview.warm_default(*args),
        *pyramid.warm_default(*args),
        *migration.warm_default(*args),
        *complaints.warm_panel(*args),
        *satisfaction.warm_default(*args),
        *referrals.warm_default(*args),
        *complaints.warm_default(*args),
        *care.warm_default(*args),
        *value.warm_default(*args),
        *campaign_data.warm_default(*args),
        *report_data.warm_default(*args),
    ]


# Pages whose steps read the churn panel (0.6 GB pickled at a million members). In one process their steps run one
# after the other as one group, which keeps the panel in memory: dropped at each page's end, it was read back from
# the database by the next page's first step (2.8 GB more for that process at a million members).
PANEL_PAGES = frozenset({"complaints", "satisfaction", "referrals"})


# Steps whose results are not stored in the database: cheap next to the stored ones, they live in a server's memory
# only (the margin note's pass over the period's sales, the campaign plan's draw from the stored at-risk list). A
# server computes them as it reads the stored results back; the precompute process, which keeps nothing, skips them.
SERVER_ONLY = frozenset({overview.COVERAGE_STEP, campaign_data.PLAN_STEP})


def group(step: str) -> str:
    """The group of steps ``step`` belongs to: its page (the step name's first part), or one group for the pages
    of :data:`PANEL_PAGES`. A process that drops results as it goes does so when the group changes."""
    page = step.split(".", 1)[0]
    return "churn panel" if page in PANEL_PAGES else page


def workers() -> int:
    """How many processes compute the steps at once: ``$VIPDASH_PRECOMPUTE_WORKERS``, else one per core, at most
    :data:`MAX_WORKERS`."""
    text = os.environ.get(WORKERS_ENV, "").strip()
    wanted = int(text) if text.isdigit() else (os.cpu_count() or 1)
    return max(1, min(wanted, MAX_WORKERS))


def chains(url: str, version: str, latest: dt.date) -> list[list[tuple[str, Callable[[], object]]]]:
    """:func:`steps` in chains, for processes working at once: a chain's steps run in order in one process (they
    read each other's results and the same aggregations), each step is in one chain, and chains start in this
    order, the longest first (at a million members), as processes come free.

    The lifetime values, then the rest of Care (its lists read the members' values); Care's response model (whose
    panel computes the churn panel), then the churn panel's page steps and what reads it (Satisfaction, Complaints,
    Referrals: one :func:`group`, which keeps the panel in memory); the weekly pack's results; the churn score's
    evaluation, which reads none of the values' results (in a process of its own it does not hold their memory);
    Migration; the Overview and the Pyramid. Care's plans read the response model, which the panel's chain, started
    at the same time, stores long before: the two must start first (were it not stored yet, the plans would compute
    it: minutes more at a million members, the same result).
    """
    args = _defaults(url, version, latest)
    care_steps = care.warm_default(*args)
    response = [step for step in care_steps if step[0] == care.MODEL_STEP]
    value_steps = value.warm_default(*args)
    found = [
        [*(step for step in value_steps if step[0] != value.EVALUATION_STEP),
         *(step for step in care_steps if step[0] != care.MODEL_STEP), *campaign_data.warm_default(*args)],
        [*response, *complaints.warm_panel(*args), *satisfaction.warm_default(*args), *complaints.warm_default(*args),
         *referrals.warm_default(*args)],
        report_data.warm_default(*args),
        [step for step in value_steps if step[0] == value.EVALUATION_STEP],
        migration.warm_default(*args),
        [*overview.warm_default(*args), *pyramid.warm_default(*args)],
    ]
    return [chain for chain in found if chain]
