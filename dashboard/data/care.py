"""The Care what-if page's loaders (the care members and response model, last year's plan, simulations, spend
curves, the budget optimiser) and its default view."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import partial

import pandas as pd

from dashboard.data.common import cached, get_engine, load_setting_history, shared
from dashboard.data.members import member_ids
from dashboard.data.stored import stored
from dashboard.members_filter import restrict
from dashboard.state import ALL_TIERS
from vipmodel.pyramid import TierRules

CARE_CURVE_MULTIPLIERS: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0)
CARE_VALUE_YEARS = 3


def _care_year_start(as_of: dt.date) -> dt.date:
    from vipmodel.outcomes import add_years

    return add_years(as_of, -1) + dt.timedelta(days=1)


@cached(show_spinner=False, max_entries=4)
@stored
def load_care_members(url: str, version: str, as_of: dt.date, rules_payload: dict) -> tuple[pd.DataFrame, str]:
    """Members who bought in the year to ``as_of``: ``member_id``, ``tier`` (saved rules), ``value``; and its source.

    ``value`` is the member's 3-year lifetime value (``vipmodel.retention.member_values``, column ``model_clv``:
    BG/NBD + Gamma-Gamma, discounted) and the source ``"clv"``; when those models cannot be fitted on the data
    (e.g. nobody bought twice) it is the documents' rule, annual profit contribution x 3 years, source ``"proxy"``
    (``vipmodel.care_values.care_list_values``).
    """
    from vipmodel.care_values import care_list_values

    with get_engine(url).connect() as conn:
        return care_list_values(conn, as_of, TierRules.from_payload(rules_payload), CARE_VALUE_YEARS)


@cached(show_spinner=False, max_entries=4)
@stored
def load_care_model(url: str, version: str, as_of: dt.date, rules_payload: dict):
    """The care response model (its default: regression adjustment) fitted on the two member-years before ``as_of``
    (``care.care_panel``).

    Raises ValueError (not cached) when the history cannot identify it, e.g. less than three years of data.
    """
    from vipmodel import care

    with get_engine(url).connect() as conn:
        panel = care.care_panel(conn, as_of, years=2, rules=TierRules.from_payload(rules_payload))
    return care.CareResponseModel().fit(panel)


@cached(show_spinner=False, max_entries=8)
@stored
def load_has_care_records(url: str, version: str, as_of: dt.date) -> bool:
    """Whether any care action is recorded on or before ``as_of`` (else the care page asks for the care import)."""
    from sqlalchemy import select

    from vipmodel.schema import care_actions

    with get_engine(url).connect() as conn:
        found = conn.execute(select(care_actions.c.member_id).where(care_actions.c.action_date <= as_of).limit(1))
        return found.first() is not None


@cached(show_spinner=False, max_entries=4)
@stored
def load_current_care_plan(url: str, version: str, as_of: dt.date, rules_payload: dict) -> dict:
    """What the mall actually did in the year to ``as_of``, as a care-plan payload (``CarePlan.to_payload``)."""
    from vipmodel import care

    with get_engine(url).connect() as conn:
        plan = care.current_plan_from_history(conn, _care_year_start(as_of), as_of, TierRules.from_payload(rules_payload))
    return plan.to_payload()


def load_saved_care_plan(url: str) -> tuple[dict | None, int | None]:
    """The latest saved care plan payload and its version, or (None, None)."""
    history = load_setting_history(url, "care_plan")
    if history.empty:
        return None, None
    latest = history.iloc[-1]
    return dict(latest["payload"]), int(latest["version"])


def _scaled_care_plan(plan_payload: dict, factor: float):
    from vipmodel.care import CarePlan

    plan = CarePlan.from_payload(plan_payload)
    per_year = {t: {k: n * factor for k, n in acts.items()} for t, acts in plan.per_year.items()}
    return CarePlan(per_year=per_year, unit_costs=plan.unit_costs)


def _care_members_kept(url: str, version: str, as_of: dt.date, rules_payload: dict, store: str | None,
                       tiers: tuple[str, ...]) -> pd.DataFrame:
    members, _ = shared(load_care_members, url, version, as_of, rules_payload)
    return restrict(members, member_ids(url, version, None, store), tiers)


@cached(show_spinner=False, max_entries=32)
@stored
def load_care_simulation(
    url: str, version: str, as_of: dt.date, rules_payload: dict, plan_payload: dict, current_payload: dict,
    store: str | None = None, tiers: tuple[str, ...] = ALL_TIERS,
):
    """``care.simulate`` of a plan against the current one over the care members the sidebar filters keep.

    Cached by the plan's payload: a rerun that did not change the plan (another widget, a language switch) reads.
    """
    from vipmodel import care

    members = _care_members_kept(url, version, as_of, rules_payload, store, tiers)
    model = load_care_model(url, version, as_of, rules_payload)
    return care.simulate(members, care.CarePlan.from_payload(plan_payload), model,
                         current_plan=care.CarePlan.from_payload(current_payload))


@cached(show_spinner=False, max_entries=16)
@stored
def load_care_curve(
    url: str, version: str, as_of: dt.date, rules_payload: dict, plan_payload: dict,
    multipliers: tuple[float, ...] = CARE_CURVE_MULTIPLIERS, store: str | None = None,
    tiers: tuple[str, ...] = ALL_TIERS,
) -> pd.DataFrame:
    """Retained value against spend per tier: ``care.simulate`` on the plan with every frequency scaled by each multiplier,
    over the care members the sidebar filters keep (``dashboard.members_filter.restrict``).

    Columns ``multiplier``, ``tier``, ``spend``, ``retained_value``, ``retained_value_p05``, ``retained_value_p95``,
    ``retained_value_zero`` and ``supported_spend`` (the tier's spend at the care per member the history supports,
    ``CareResponseModel.care_support_`` x members) (one row per multiplier and tier with members).
    """
    from vipmodel import care

    members = _care_members_kept(url, version, as_of, rules_payload, store, tiers)
    model = load_care_model(url, version, as_of, rules_payload)
    columns = ["tier", "spend", "retained_value", "retained_value_p05", "retained_value_p95", "retained_value_zero"]
    frames = []
    for factor in multipliers:
        table = care.simulate(members, _scaled_care_plan(plan_payload, factor), model).by_tier
        table = table.assign(supported_spend=table["supported_spend_per_member"] * table["members"])
        frames.append(table.loc[table["tier"] != "total", [*columns, "supported_spend"]].assign(multiplier=factor))
    return pd.concat(frames, ignore_index=True)[["multiplier", *columns, "supported_spend"]]


@cached(show_spinner=False, max_entries=16)
@stored
def load_care_allocation(
    url: str, version: str, as_of: dt.date, rules_payload: dict, budget: float, unit_costs: dict,
    objective: str = "retained_value", store: str | None = None, tiers: tuple[str, ...] = ALL_TIERS,
    support_scale: float | None = 1.0,
):
    """The optimiser's split of ``budget`` across tiers (``care.optimise_budget``) with the given unit costs, over
    the care members the sidebar filters keep; ``support_scale`` widens the care range the history supports
    (None: no limit but the actions')."""
    from vipmodel import care

    members = _care_members_kept(url, version, as_of, rules_payload, store, tiers)
    model = load_care_model(url, version, as_of, rules_payload)
    return care.optimise_budget(members, model, budget, unit_costs=unit_costs, objective=objective,
                                support_scale=support_scale)


MODEL_STEP = "care.model"  # the response model's step: the precompute runs it next to the churn panel it reads


def warm_default(url: str, version: str, start: dt.date, end: dt.date,
                 rules: dict) -> list[tuple[str, Callable[[], object]]]:
    """(step name, call) for what the page reads at its default view (``dashboard.precompute_plan.steps``)."""
    return [
        (MODEL_STEP, lambda: load_care_model(url, version, end, rules)),
        ("care.members", lambda: shared(load_care_members, url, version, end, rules)),
        ("care.current_plan", lambda: load_current_care_plan(url, version, end, rules)),
        ("care.simulation", partial(_warm_plans, url, version, end, rules)),
    ]


def _warm_plans(url: str, version: str, end: dt.date, rules: dict) -> None:
    # As the page opens: the saved plan (else last year's) through the editor at 100%, all stores and tiers; its
    # simulation against last year's plan, the spend curves and the optimiser at last year's spend.
    from dashboard.figures.care import editor_frame, plan_from_editor
    from vipmodel.care import CarePlan

    history = load_current_care_plan(url, version, end, rules)
    saved, _ = load_saved_care_plan(url)
    plan = plan_from_editor(editor_frame(CarePlan.from_payload(saved or history), "en"), 1.0)
    sim = load_care_simulation(url, version, end, rules, plan.to_payload(), history, None, ALL_TIERS)
    load_care_curve(url, version, end, rules, sim.plan.to_payload(), store=None, tiers=ALL_TIERS)
    budget = float(round(sim.current.iloc[-1]["spend"], -2))
    load_care_allocation(url, version, end, rules, budget, dict(sim.plan.unit_costs), "retained_value", None,
                         ALL_TIERS, 1.0)
