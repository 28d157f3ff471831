"""Randomised retention campaigns: plan with a holdout, record and persist them, measure the uplift, update the model.

The closed loop of the care what-if:

1. :func:`plan_campaign` assigns at-risk members to treated and holdout groups by a seeded draw per tier.
2. :func:`record_campaign` (marketing or admin, audited) stores the campaign and *who was assigned to which group*
   in the ``campaigns`` / ``campaign_members`` tables and writes the treated members' actions to ``care_actions``;
   :func:`load_campaign` and :func:`list_campaigns` read them back after any restart.
3. :func:`measure_campaign` compares retention of the two groups after the period (Newcombe interval for the
   difference of proportions [1]_, Welch for spend [2]_).
4. :func:`campaign_beta` turns the measured difference into the care effect ``beta`` of
   :class:`vipmodel.care.CareResponseModel` (churn log-odds fall by ``beta * log1p(care / c0)``), with the dose
   taken per member; :func:`pool_care_effect` combines it with the observational ``beta`` after allowing for the
   confounding the observational standard error leaves out, and :func:`update_response` returns the updated model.

Why the pooling inflates the observational standard error
---------------------------------------------------------
The response model's bootstrap standard error measures sampling error only. Its ``beta`` rests on "no
unmeasured confounding given tier, sales, complaints and store" (:mod:`vipmodel.care`), a bias that does not
shrink with more members; a randomised campaign has no such bias. Plain precision weighting would let a
well-powered observational estimate swamp every campaign (with twenty thousand members the campaign got about 2% of
the weight). Following bias modelling in evidence synthesis (Turner et al. [3]_; the size of the bias of
non-randomised comparisons is documented by Deeks et al. [4]_), the observational estimate's variance gets a bias
variance ``confounding_sd^2`` before weighting, by default ``confounding_sd = CONFOUNDING_SHARE x |beta_obs|``:
the observational effect may be off by half its size (one standard deviation) either way.

References
----------
.. [1] Newcombe, R. G. (1998). Interval estimation for the difference between independent proportions:
   comparison of eleven methods. *Statistics in Medicine* 17(8), 873-890.
.. [2] Welch, B. L. (1947). The generalization of "Student's" problem when several different population
   variances are involved. *Biometrika* 34(1-2), 28-35.
.. [3] Turner, R. M., Spiegelhalter, D. J., Smith, G. C. S. & Thompson, S. G. (2009). Bias modelling in evidence
   synthesis. *Journal of the Royal Statistical Society A* 172(1), 21-47.
.. [4] Deeks, J. J., Dinnes, J., D'Amico, R. et al. (2003). Evaluating non-randomised intervention studies.
   *Health Technology Assessment* 7(27).
.. [5] Gail, M. H., Wieand, S. & Piantadosi, S. (1984). Biased estimates of treatment effect in randomized
   experiments with nonlinear regressions and omitted covariates. *Biometrika* 71(3), 431-444.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from scipy.special import logit
from sqlalchemy import Connection, Engine, and_, func, insert, inspect, select
from sqlalchemy.exc import IntegrityError, OperationalError

from vipmodel import audit, schema
from vipmodel.auth import Actor, require
from vipmodel.care import (
    _CARE_TERM,
    CARE_KINDS,
    TIERS,
    CareResponseModel,
    _connection,
    _tier_codes,
    _unit_costs,
)
from vipmodel.contracts import require_columns
from vipmodel.db import as_date, bump_data_version, read_frame
from vipmodel.features import member_features
from vipmodel.outcomes import add_years
from vipmodel.stats import newcombe_interval, welch_interval

CONFOUNDING_SHARE = 0.5
CAMPAIGN_COLUMNS: tuple[str, ...] = (
    "campaign_id", "start_date", "end_date", "seed", "holdout_share", "n_treated", "n_holdout", "cost", "author",
    "note", "recorded_at",
)
MEMBER_RESULT_COLUMNS: tuple[str, ...] = ("member_id", "tier", "group", "retained", "spend", "care")
_SEED_MAX = 2**31 - 1  # the seed column is a 32-bit integer on every backend
_NOTE_MAX = 500


def measurement_end(start_date: dt.date) -> dt.date:
    """The last day of a campaign's one-year measurement period, ``[start_date, start_date + 1 year - 1 day]``.

    One year, because the response model's churn is "no purchase in the following year" and its dose the care of a
    year (:mod:`vipmodel.outcomes`).
    """
    start_date = as_date(start_date, "start_date")
    return add_years(start_date, 1) - dt.timedelta(days=1)


@dataclass(frozen=True)
class Campaign:
    """A retention campaign: who is treated, who is held out, and the actions the treated receive.

    Attributes
    ----------
    campaign_id : str
    start_date : datetime.date
        The day the actions are given (``action_date``) and the measurement period starts.
    seed : int
    holdout_share : float
    assignment : DataFrame
        ``member_id``, ``tier``, ``group`` (``"treated"`` / ``"holdout"``), sorted by ``member_id``.
    actions : DataFrame
        ``member_id``, ``action_date``, ``kind``, ``cost``, ``campaign_id``: one row per treated member and
        action (the ``care_actions`` rows :func:`record_campaign` writes).
    action_by_tier : dict
        ``{tier: (care actions, ...)}`` as planned.
    unit_costs : dict
        Cost per care action used for ``actions``.
    """

    campaign_id: str
    start_date: dt.date
    seed: int
    holdout_share: float
    assignment: pd.DataFrame = field(hash=False)
    actions: pd.DataFrame = field(hash=False)
    action_by_tier: dict[str, tuple[str, ...]] = field(default_factory=dict, hash=False)
    unit_costs: dict[str, float] = field(default_factory=dict, hash=False)

    @property
    def treated(self) -> list[str]:
        """Member ids of the treated group."""
        return self.assignment.loc[self.assignment["group"] == "treated", "member_id"].tolist()

    @property
    def holdout(self) -> list[str]:
        """Member ids of the holdout group."""
        return self.assignment.loc[self.assignment["group"] == "holdout", "member_id"].tolist()

    @property
    def cost(self) -> float:
        """Total cost of the treated group's actions."""
        return float(self.actions["cost"].sum())

    def summary(self) -> pd.DataFrame:
        """Per tier: ``tier``, ``treated``, ``holdout`` (members) and ``cost`` of the treated group's actions."""
        counts = self.assignment.groupby(["tier", "group"]).size().unstack(fill_value=0)
        counts = counts.reindex(columns=["treated", "holdout"], fill_value=0)
        tiers = [t for t in TIERS if t in counts.index]
        per_member = {t: sum(self.unit_costs.get(k, 0.0) for k in self.action_by_tier.get(t, ())) for t in tiers}
        return pd.DataFrame({
            "tier": tiers,
            "treated": [int(counts.loc[t, "treated"]) for t in tiers],
            "holdout": [int(counts.loc[t, "holdout"]) for t in tiers],
            "cost": [float(counts.loc[t, "treated"] * per_member[t]) for t in tiers],
        })


def _action_rows(treated: pd.DataFrame, action_by_tier: Mapping[str, Sequence[str]], costs: Mapping[str, float],
                 start_date: dt.date, cid: str) -> pd.DataFrame:
    # Member by member, each its tier's actions in order; built per (tier, action), not per row.
    counts = treated["tier"].map({t: len(acts) for t, acts in action_by_tier.items()}).to_numpy(dtype=np.int64)
    row = np.repeat(np.arange(len(treated)), counts)
    position = np.arange(len(row)) - np.repeat(np.cumsum(counts) - counts, counts)
    row_tier = treated["tier"].to_numpy()[row]
    kind = np.empty(len(row), dtype=object)
    for tier, acts in action_by_tier.items():
        in_tier = row_tier == tier
        for k, act in enumerate(acts):
            kind[in_tier & (position == k)] = act
    return pd.DataFrame({"member_id": treated["member_id"].to_numpy()[row],
                         "action_date": np.full(len(row), start_date, dtype=object), "kind": kind, "cost": pd.Series(kind, dtype=object).map(costs).astype(float).to_numpy(),
                         "campaign_id": cid}, columns=["member_id", "action_date", "kind", "cost", "campaign_id"])


def plan_campaign(
    at_risk: pd.DataFrame,
    holdout_share: float,
    seed: int,
    action_by_tier: Mapping[str, Sequence[str]],
    start_date: dt.date,
    campaign_id: str | None = None,
    unit_costs: Mapping[str, float] | None = None,
) -> Campaign:
    """Split the at-risk list into a treated group and a random holdout, stratified by tier.

    Within each tier exactly ``round(holdout_share x members of the tier)`` members are held out, chosen by
    ``numpy.random.default_rng(seed)`` after sorting by ``member_id``: the same list and seed always give the
    same groups, whatever the row order of ``at_risk``.

    Parameters
    ----------
    at_risk : DataFrame
        ``member_id`` (unique) and ``tier``; other columns are ignored.
    holdout_share : float
        Share held out, strictly between 0 and 1.
    seed : int
        0 to 2,147,483,647 (stored with the campaign).
    action_by_tier : mapping
        ``{tier: [care actions]}``: what each treated member of the tier receives on ``start_date`` (each
        action at most once). Every tier in ``at_risk`` needs an entry.
    start_date : datetime.date
    campaign_id : str, optional
        Default ``"retention-YYYYMMDD-s<seed>"``.
    unit_costs : mapping, optional
        Cost per action (default :data:`vipmodel.care.DEFAULT_UNIT_COST`).

    Raises
    ------
    ValueError
        ``"holdout_share must be strictly between 0 and 1, got 1.5"``, ``"at_risk must hold one row per member;
        member_id 'M1' appears more than once"``, ``"action_by_tier has no actions for tier(s) C"``,
        ``"unknown care action(s): ..."``, ``"action 'sms' is listed twice for tier A"``,
        ``"campaign_id must be a non-empty string of at most 64 characters"``,
        ``"seed must be an integer from 0 to 2147483647, got -1"``.
    """
    require_columns(at_risk, ("member_id", "tier"), "at_risk")
    try:
        share = float(holdout_share)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"holdout_share must be strictly between 0 and 1, got {holdout_share!r}") from exc
    if not 0.0 < share < 1.0:
        raise ValueError(f"holdout_share must be strictly between 0 and 1, got {holdout_share!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= int(seed) <= _SEED_MAX:
        raise ValueError(f"seed must be an integer from 0 to {_SEED_MAX}, got {seed!r}")
    start_date = as_date(start_date, "start_date")
    ids = at_risk["member_id"]
    if ids.isna().any():
        raise ValueError("at_risk column 'member_id' has missing values")
    if not ids.is_unique:
        raise ValueError(f"at_risk must hold one row per member; member_id {ids[ids.duplicated()].iloc[0]!r} "
                         "appears more than once")
    _tier_codes(at_risk, "at_risk")
    costs = _unit_costs(unit_costs)
    frame = pd.DataFrame({"member_id": ids.astype(str), "tier": at_risk["tier"].astype(str)})
    frame = frame.sort_values("member_id", kind="stable").reset_index(drop=True)
    present = set(frame["tier"].unique())
    missing = sorted(present - {str(t) for t, acts in action_by_tier.items() if acts})
    if missing:
        raise ValueError(f"action_by_tier has no actions for tier(s) {', '.join(missing)}")
    for tier, acts in action_by_tier.items():
        if isinstance(acts, str):
            raise ValueError(f"actions of tier {tier} must be a list of care actions, not a string")
        bad = sorted(set(acts) - set(CARE_KINDS))
        if bad:
            raise ValueError(f"unknown care action(s): {', '.join(map(str, bad))}; "
                             f"expected one of {', '.join(CARE_KINDS)}")
        dup = [k for k in set(acts) if list(acts).count(k) > 1]
        if dup:
            raise ValueError(f"action {dup[0]!r} is listed twice for tier {tier}")
    cid = campaign_id if campaign_id is not None else f"retention-{start_date:%Y%m%d}-s{seed}"
    if not isinstance(cid, str) or not cid.strip() or len(cid) > 64:
        raise ValueError("campaign_id must be a non-empty string of at most 64 characters")
    rng = np.random.default_rng(int(seed))
    group = np.full(len(frame), "treated", dtype=object)
    for tier in TIERS:  # fixed order, so the random stream is consumed identically every time
        rows = np.flatnonzero(frame["tier"].to_numpy() == tier)
        if len(rows) == 0:
            continue
        k = int(round(share * len(rows)))
        group[rng.choice(rows, size=k, replace=False)] = "holdout"
    frame["group"] = group
    plan = {str(t): tuple(acts) for t, acts in action_by_tier.items() if str(t) in present}
    actions = _action_rows(frame[frame["group"] == "treated"], plan, costs, start_date, cid)
    return Campaign(campaign_id=cid, start_date=start_date, seed=int(seed), holdout_share=share,
                    assignment=frame, actions=actions, action_by_tier=plan, unit_costs=costs)


_CHUNK = 5_000


def _same_campaign(a: Campaign, b: Campaign) -> bool:
    return (a.start_date == b.start_date and a.seed == b.seed and a.holdout_share == b.holdout_share
            and {t: tuple(v) for t, v in a.action_by_tier.items()} == {t: tuple(v) for t, v in b.action_by_tier.items()}
            and _rows(a.assignment) == _rows(b.assignment))


def _rows(assignment: pd.DataFrame) -> list[tuple[str, str, str]]:
    return sorted(zip(assignment["member_id"].astype(str), assignment["tier"].astype(str),
                      assignment["group"].astype(str)))


def _campaign_tables(connection: Connection) -> bool:
    names = inspect(connection)
    return names.has_table(schema.campaigns.name) and names.has_table(schema.campaign_members.name)


def record_campaign(conn: Connection | Engine, campaign: Campaign, actor: Actor, note: str = "") -> int:
    """Store the campaign and its random assignment, and write the treated group's actions into ``care_actions``.

    Everything happens in one transaction on behalf of ``actor`` (marketing or admin), with an audit entry
    (``campaign_recorded``). Recording is idempotent: recording the same campaign again writes nothing; a
    ``care_actions`` row whose natural key (member, date, action) is already stored is skipped. A database made
    before campaigns were stored gets the two tables here (as :func:`vipmodel.db.upgrade_schema` would create
    them). Actions dated within the data already loaded (``start_date`` on or before the latest transaction)
    change what the history says, so they start a new data version (:func:`vipmodel.db.bump_data_version`).
    With a Connection the caller commits.

    Parameters
    ----------
    conn : Engine or Connection
    campaign : Campaign
        From :func:`plan_campaign`.
    actor : vipmodel.auth.Actor
        The signed-in user, recorded as the campaign's author.
    note : str, optional
        Why (at most 500 characters).

    Returns
    -------
    int
        ``care_actions`` rows written.

    Raises
    ------
    vipmodel.auth.PermissionDenied
        ``"role 'viewer' may not record campaigns"``.
    ValueError
        ``"campaign must be a Campaign"``; ``"campaign members are not in the members table: M9"``;
        ``"campaign 'x' is already recorded with a different assignment; plan it under another campaign_id"``;
        ``"campaign 'x' was recorded concurrently by someone else; reload and try again"``;
        ``"note is longer than 500 characters"``.
    """
    require(actor, "record_campaign")
    if not isinstance(campaign, Campaign):
        raise ValueError("campaign must be a Campaign")
    note = note or ""
    if len(note) > _NOTE_MAX:
        raise ValueError(f"note is longer than {_NOTE_MAX} characters")
    ca, m = schema.care_actions, schema.members
    actions = campaign.actions
    ids = sorted(set(campaign.assignment["member_id"]))
    try:
        with _connection(conn, write=True) as connection:
            if not _campaign_tables(connection):
                schema.campaigns.create(connection, checkfirst=True)
                schema.campaign_members.create(connection, checkfirst=True)
            known: set[str] = set()
            existing: set[tuple[str, str]] = set()
            for lo in range(0, len(ids), _CHUNK):
                chunk = ids[lo : lo + _CHUNK]
                known.update(connection.execute(select(m.c.member_id).where(m.c.member_id.in_(chunk))).scalars())
                existing.update(
                    (r[0], r[1])
                    for r in connection.execute(
                        select(ca.c.member_id, ca.c.kind).where(
                            and_(ca.c.member_id.in_(chunk), ca.c.action_date == campaign.start_date)
                        )
                    )
                )
            unknown = [i for i in ids if i not in known]
            if unknown:
                raise ValueError(f"campaign members are not in the members table: {', '.join(unknown[:5])}"
                                 + (" ..." if len(unknown) > 5 else ""))
            stored = _read_campaign(connection, campaign.campaign_id)
            if stored is not None and not _same_campaign(stored, campaign):
                raise ValueError(f"campaign {campaign.campaign_id!r} is already recorded with a different "
                                 "assignment; plan it under another campaign_id")
            if stored is None:
                _insert_campaign(connection, campaign, actor, note)
            rows = [
                {"member_id": r.member_id, "action_date": r.action_date, "kind": r.kind, "cost": float(r.cost),
                 "campaign_id": r.campaign_id}
                for r in actions.itertuples(index=False)
                if (r.member_id, r.kind) not in existing
            ]
            for lo in range(0, len(rows), _CHUNK):
                connection.execute(insert(ca), rows[lo : lo + _CHUNK])
            if stored is None or rows:
                audit.record(connection, actor.username, "campaign_recorded", campaign.campaign_id, None, {
                    "start_date": campaign.start_date, "seed": campaign.seed,
                    "holdout_share": campaign.holdout_share, "treated": len(campaign.treated),
                    "holdout": len(campaign.holdout), "cost": campaign.cost, "actions_written": len(rows),
                    **({"note": note} if note else {}),
                })
            latest = connection.execute(select(func.max(schema.transactions.c.ts))).scalar()
            if rows and latest is not None and campaign.start_date <= latest.date():
                bump_data_version(connection)
    except (IntegrityError, OperationalError) as exc:
        # PostgreSQL: the other session's campaign_id (primary key); SQLite: its write lock.
        raise ValueError(f"campaign {campaign.campaign_id!r} was recorded concurrently by someone else; "
                         "reload and try again") from exc
    return len(rows)


def _insert_campaign(connection: Connection, campaign: Campaign, actor: Actor, note: str) -> None:
    connection.execute(insert(schema.campaigns).values(
        campaign_id=campaign.campaign_id, start_date=campaign.start_date, seed=int(campaign.seed),
        holdout_share=float(campaign.holdout_share),
        action_by_tier={t: list(v) for t, v in campaign.action_by_tier.items()},
        unit_costs={k: float(v) for k, v in campaign.unit_costs.items()},
        author=actor.username.strip()[:100], note=note, recorded_at=dt.datetime.now().replace(microsecond=0),
    ))
    members = [
        {"campaign_id": campaign.campaign_id, "member_id": mid, "tier": tier, "arm": group}
        for mid, tier, group in zip(campaign.assignment["member_id"], campaign.assignment["tier"],
                                    campaign.assignment["group"])
    ]
    for lo in range(0, len(members), _CHUNK):
        connection.execute(insert(schema.campaign_members), members[lo : lo + _CHUNK])


def _read_campaign(connection: Connection, campaign_id: str) -> Campaign | None:
    c, cm = schema.campaigns, schema.campaign_members
    row = connection.execute(select(c).where(c.c.campaign_id == campaign_id)).first()
    if row is None:
        return None
    assignment = read_frame(connection, select(cm.c.member_id, cm.c.tier, cm.c.arm.label("group"))
                            .where(cm.c.campaign_id == campaign_id))
    assignment = assignment.astype({"member_id": str, "tier": str, "group": str})
    assignment = assignment.sort_values("member_id", kind="stable").reset_index(drop=True)
    plan = {str(t): tuple(v) for t, v in row.action_by_tier.items()}
    costs = {str(k): float(v) for k, v in row.unit_costs.items()}
    start = as_date(row.start_date, "start_date")
    actions = _action_rows(assignment[assignment["group"] == "treated"], plan, costs, start, row.campaign_id)
    return Campaign(campaign_id=row.campaign_id, start_date=start, seed=int(row.seed),
                    holdout_share=float(row.holdout_share), assignment=assignment, actions=actions,
                    action_by_tier=plan, unit_costs=costs)


def load_campaign(conn: Connection | Engine, campaign_id: str) -> Campaign:
    """The recorded campaign ``campaign_id``, with its assignment as drawn and its actions as planned.

    Raises
    ------
    ValueError
        ``"no campaign 'x' is recorded"``.
    """
    with _connection(conn) as connection:
        found = _read_campaign(connection, campaign_id) if _campaign_tables(connection) else None
    if found is None:
        raise ValueError(f"no campaign {campaign_id!r} is recorded")
    return found


def list_campaigns(conn: Connection | Engine) -> pd.DataFrame:
    """Every recorded campaign, newest start first.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`CAMPAIGN_COLUMNS`: ``campaign_id``, ``start_date``, ``end_date`` (of the one-year
        measurement period, :func:`measurement_end`), ``seed``, ``holdout_share``, ``n_treated``, ``n_holdout``,
        ``cost`` (planned: treated members x their tier's actions), ``author``, ``note``, ``recorded_at``. No rows
        when nothing is recorded (or the database predates campaigns).
    """
    c, cm = schema.campaigns, schema.campaign_members
    with _connection(conn) as connection:
        if not _campaign_tables(connection):
            return pd.DataFrame(columns=list(CAMPAIGN_COLUMNS))
        heads = connection.execute(select(c).order_by(c.c.start_date.desc(), c.c.campaign_id)).all()
        counts = read_frame(connection, select(cm.c.campaign_id, cm.c.tier, cm.c.arm, func.count().label("n"))
                            .group_by(cm.c.campaign_id, cm.c.tier, cm.c.arm))
    rows = []
    for head in heads:
        mine = counts[counts["campaign_id"] == head.campaign_id]
        treated = mine[mine["arm"] == "treated"]
        costs = head.unit_costs
        per_member = {t: sum(float(costs.get(k, 0.0)) for k in acts) for t, acts in head.action_by_tier.items()}
        start = as_date(head.start_date, "start_date")
        rows.append((head.campaign_id, start, measurement_end(start), int(head.seed), float(head.holdout_share),
                     int(treated["n"].sum()), int(mine.loc[mine["arm"] == "holdout", "n"].sum()),
                     float(sum(int(n) * per_member.get(t, 0.0) for t, n in zip(treated["tier"], treated["n"]))),
                     head.author, head.note or "", head.recorded_at))
    return pd.DataFrame(rows, columns=list(CAMPAIGN_COLUMNS))


@dataclass(frozen=True)
class CampaignResult:
    """Treated vs holdout after the campaign period.

    Attributes
    ----------
    campaign_id : str
    start_date, end_date : datetime.date
        The measurement period (inclusive).
    n_treated, n_holdout : int
    retained_treated, retained_holdout : int
        Members with at least one purchase in the period (the churn definition of
        :mod:`vipmodel.outcomes`: a member without purchase in the year has churned).
    retention_treated, retention_holdout, uplift : float
        Retention rates and their difference (treated - holdout).
    uplift_ci : (float, float)
        95% interval of the difference: Newcombe's hybrid score interval (method 10 of [1]_).
    spend_treated, spend_holdout, spend_uplift : float
        Mean net sales per member in the period (0 for members without purchase) and the difference.
    spend_uplift_ci : (float, float)
        95% Welch interval of the spend difference [2]_.
    care_treated, care_holdout : float
        Mean care cost per member in the period (all care, the campaign's included).
    members : DataFrame
        One row per assigned member, columns :data:`MEMBER_RESULT_COLUMNS` (``group``, ``retained``, ``spend``,
        ``care``): what :func:`campaign_beta` takes the per-member dose from.
    """

    campaign_id: str
    start_date: dt.date
    end_date: dt.date
    n_treated: int
    n_holdout: int
    retained_treated: int
    retained_holdout: int
    retention_treated: float
    retention_holdout: float
    uplift: float
    uplift_ci: tuple[float, float]
    spend_treated: float
    spend_holdout: float
    spend_uplift: float
    spend_uplift_ci: tuple[float, float]
    care_treated: float
    care_holdout: float
    members: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(MEMBER_RESULT_COLUMNS)),
                                  hash=False, compare=False)


def measure_campaign(conn: Connection | Engine, campaign: Campaign, end_date: dt.date) -> CampaignResult:
    """Retention and spend of the treated group against the holdout over ``[start_date, end_date]``.

    Purchases, spend and care cost per member are aggregated in SQL (:func:`vipmodel.features.member_features`).
    For the care effect the period should be one year (:func:`measurement_end`), the response model's horizon.

    Raises
    ------
    ValueError
        ``"end_date (2025-01-01) is before the campaign start (2025-03-01)"``;
        ``"the period has not passed: it ends 2026-03-01 but the latest transaction is 2025-12-31"``;
        ``"each group needs at least 2 members for a Welch interval"``.
    """
    if not isinstance(campaign, Campaign):
        raise ValueError("campaign must be a Campaign")
    end_date = as_date(end_date, "end_date")
    if end_date < campaign.start_date:
        raise ValueError(f"end_date ({end_date}) is before the campaign start ({campaign.start_date})")
    with _connection(conn) as connection:
        latest = connection.execute(select(func.max(schema.transactions.c.ts))).scalar()
        if latest is None or latest.date() < end_date:
            shown = "none" if latest is None else str(latest.date())
            raise ValueError(f"the period has not passed: it ends {end_date} but the latest transaction is {shown}")
        feats = member_features(connection, campaign.start_date, end_date, period="range",
                                members=campaign.assignment["member_id"].tolist())
    feats = feats.set_index("member_id")
    frame = campaign.assignment.set_index("member_id")
    frame["retained"] = feats["n_transactions"].reindex(frame.index).fillna(0).to_numpy() > 0
    frame["spend"] = feats["sales"].reindex(frame.index).fillna(0.0).to_numpy(dtype=float)
    frame["care"] = feats["care_cost"].reindex(frame.index).fillna(0.0).to_numpy(dtype=float)
    t = frame[frame["group"] == "treated"]
    h = frame[frame["group"] == "holdout"]
    if len(t) < 2 or len(h) < 2:
        raise ValueError("each group needs at least 2 members for a Welch interval")
    xt, xh = int(t["retained"].sum()), int(h["retained"].sum())
    return CampaignResult(
        campaign_id=campaign.campaign_id, start_date=campaign.start_date, end_date=end_date,
        n_treated=len(t), n_holdout=len(h), retained_treated=xt, retained_holdout=xh,
        retention_treated=xt / len(t), retention_holdout=xh / len(h), uplift=xt / len(t) - xh / len(h),
        uplift_ci=newcombe_interval(xt, len(t), xh, len(h)),
        spend_treated=float(t["spend"].mean()), spend_holdout=float(h["spend"].mean()),
        spend_uplift=float(t["spend"].mean() - h["spend"].mean()),
        spend_uplift_ci=welch_interval(t["spend"].to_numpy(), h["spend"].to_numpy()),
        care_treated=float(t["care"].mean()), care_holdout=float(h["care"].mean()),
        members=frame.reset_index()[list(MEMBER_RESULT_COLUMNS)],
    )


def _care_values(values: Any, name: str) -> np.ndarray:
    care = np.asarray(values, dtype=float).ravel()
    if len(care) == 0:
        raise ValueError(f"{name} is empty: the group has no members")
    if not np.isfinite(care).all() or (care < 0).any():
        raise ValueError(f"{name} must hold finite care costs >= 0")
    return care


def _check_c0(c0: Any) -> float:
    if isinstance(c0, bool) or not isinstance(c0, (int, float, np.floating, np.integer)) or not (
        math.isfinite(c0) and c0 > 0
    ):
        raise ValueError(f"c0 must be a finite number > 0, got {c0!r}")
    return float(c0)


def campaign_dose(care_treated: Sequence[float] | np.ndarray, care_holdout: Sequence[float] | np.ndarray,
                  c0: float) -> float:
    """The dose difference a campaign gave, on the response model's scale, member by member.

    ``mean_i log1p(care_i / c0)`` over the treated minus the same over the holdout. The model's churn log-odds
    fall by ``beta`` per unit of ``log1p(care / c0)`` *of each member*; because that curve is concave,
    ``log1p(mean care / c0)`` overstates the dose of a group whose care is uneven (Jensen's inequality) and
    would understate ``beta``.

    Parameters
    ----------
    care_treated, care_holdout : array-like
        Care cost of each member of the group in the period (>= 0).
    c0 : float
        The response model's ``c0_``.

    Raises
    ------
    ValueError
        ``"care_treated is empty: the group has no members"``, ``"care_holdout must hold finite care costs >= 0"``,
        ``"c0 must be a finite number > 0, got 0"``.
    """
    c0 = _check_c0(c0)
    treated, holdout = _care_values(care_treated, "care_treated"), _care_values(care_holdout, "care_holdout")
    return float(np.log1p(treated / c0).mean() - np.log1p(holdout / c0).mean())


def _group_arrays(result: CampaignResult, group: str) -> tuple[np.ndarray, np.ndarray]:
    rows = result.members[result.members["group"] == group]
    return (~rows["retained"].astype(bool)).to_numpy(dtype=float), rows["care"].to_numpy(dtype=float)


def campaign_beta(result: CampaignResult, c0: float) -> tuple[float, float]:
    """The care effect ``beta`` a campaign implies, and its standard error.

    ``beta = N / D`` with ``N = logit q_h - logit q_t`` (churn rates ``q = (churned + 0.5) / (n + 1)``,
    Haldane-Anscombe correction) and ``D`` = :func:`campaign_dose` of the members' care in the period: the Wald
    (instrumental-variable) ratio, the random assignment being the instrument for the dose.

    Standard error by the delta method for a ratio of estimates from the same members:
    ``var beta = (var N - 2 beta cov(N, D) + beta^2 var D) / D^2`` with
    ``var N = sum_g 1 / ((n_g + 1) q_g (1 - q_g))``, ``var D = sum_g s_g^2 / n_g`` (``s_g`` the standard deviation
    of the members' ``log1p(care / c0)`` in group ``g``) and
    ``cov(N, D) = -sum_g c_g / (n_g q_g (1 - q_g))`` (``c_g`` the covariance of churn and dose within the group).
    When every member of a group gets the same care, ``var D = cov = 0`` and this is the usual
    ``sqrt(var N) / D``.

    Notes
    -----
    The arms' log-odds ratio is a *marginal* effect: when members' baseline churn differs, it is smaller than the
    model's conditional ``beta`` (non-collapsibility of the odds ratio, Gail et al. [5]_), so a campaign errs
    towards a weaker effect, never a stronger one.

    Parameters
    ----------
    result : CampaignResult
        From :func:`measure_campaign` (needs its ``members``).
    c0 : float
        The response model's ``c0_``.

    Raises
    ------
    ValueError
        ``"the result has no per-member care; measure the campaign with measure_campaign"``;
        ``"the treated group received no more care than the holdout; the campaign says nothing about the care
        effect"``.
    """
    if not isinstance(result, CampaignResult):
        raise ValueError("result must be a CampaignResult")
    c0 = _check_c0(c0)
    if result.members is None or result.members.empty:
        raise ValueError("the result has no per-member care; measure the campaign with measure_campaign")
    yt, care_t = _group_arrays(result, "treated")
    yh, care_h = _group_arrays(result, "holdout")
    dose = campaign_dose(care_t, care_h, c0)
    if not dose > 0:
        raise ValueError("the treated group received no more care than the holdout; "
                         "the campaign says nothing about the care effect")
    parts = []
    for y, care in ((yt, care_t), (yh, care_h)):
        n = len(y)
        q = (y.sum() + 0.5) / (n + 1.0)
        d = np.log1p(care / c0)
        var_d = float(d.var(ddof=1)) / n if n > 1 else 0.0
        cov_yd = float(np.cov(y, d, ddof=1)[0, 1]) if n > 1 else 0.0
        parts.append((q, 1.0 / ((n + 1.0) * q * (1 - q)), var_d, cov_yd / (n * q * (1 - q))))
    (qt, vnt, vdt, ct), (qh, vnh, vdh, ch) = parts
    beta = (logit(qh) - logit(qt)) / dose
    var_n, var_d, cov_nd = vnt + vnh, vdt + vdh, -(ct + ch)
    var_beta = (var_n - 2 * beta * cov_nd + beta**2 * var_d) / dose**2
    # The quadratic form of a covariance matrix; the floor only guards rounding when var D and cov are ~0.
    return float(beta), float(math.sqrt(max(var_beta, var_n / dose**2 * 1e-6)))


@dataclass(frozen=True)
class CarePooling:
    """How the observational care effect and the campaigns' effects combine (:func:`pool_care_effect`).

    Attributes
    ----------
    beta_observational, se_observational : float
        The response model's ``beta_`` and its bootstrap SE at the fitted c0 (``beta_se_given_c0_``; NaN without
        bootstrap).
    confounding_sd : float
        The allowance for confounding added to the observational variance.
    se_observational_used : float
        ``sqrt(se_observational^2 + confounding_sd^2)``, the standard error the weighting uses (inf without
        bootstrap: the observational estimate then gets no weight).
    beta_campaign, se_campaign : float
        The campaigns combined by precision (one campaign: its own :func:`campaign_beta`).
    weight_observational, weight_campaign : float
        Shares of the pooled estimate (sum to 1).
    beta, se : float
        The pooled care effect and its standard error.
    campaigns : DataFrame
        ``campaign_id``, ``beta``, ``se``, ``weight`` (share of the pooled estimate) per campaign.
    """

    beta_observational: float
    se_observational: float
    confounding_sd: float
    se_observational_used: float
    beta_campaign: float
    se_campaign: float
    weight_observational: float
    weight_campaign: float
    beta: float
    se: float
    campaigns: pd.DataFrame = field(hash=False, compare=False)


def pool_care_effect(
    model: CareResponseModel,
    results: CampaignResult | Sequence[CampaignResult],
    confounding_share: float = CONFOUNDING_SHARE,
    confounding_sd: float | None = None,
) -> CarePooling:
    """Combine the model's observational ``beta`` with what randomised campaigns measured.

    Rule (inverse-variance weighting after a bias allowance, Turner et al. [3]_): the observational variance is
    ``se_m^2 + confounding_sd^2`` with ``confounding_sd = confounding_share x |beta_m|`` unless given; each campaign
    enters with ``se_c^2`` from :func:`campaign_beta` (at the model's ``c0_``). Weights are the inverse variances,
    ``beta = sum w_k beta_k / sum w_k``, ``se = 1 / sqrt(sum w_k)``. A model without bootstrap draws has no
    standard error and gets no weight.

    Parameters
    ----------
    model : CareResponseModel
        Fitted (or :meth:`~vipmodel.care.CareResponseModel.from_coefficients`).
    results : CampaignResult or sequence of them
        From :func:`measure_campaign`; each campaign counts once.
    confounding_share : float, default :data:`CONFOUNDING_SHARE` (0.5)
        Standard deviation of the possible confounding bias as a share of ``|beta_m|``; 0 gives plain
        fixed-effect pooling.
    confounding_sd : float, optional
        The allowance in ``beta`` units, replacing ``confounding_share x |beta_m|``.

    Raises
    ------
    ValueError
        ``"results must hold at least one CampaignResult"``, ``"confounding_share must be a finite number >= 0"``,
        ``"confounding_sd must be a finite number >= 0"``, ``"campaign_id 'x' is given twice"`` and the messages of
        :func:`campaign_beta`.
    """
    model._check_fitted()
    items = [results] if isinstance(results, CampaignResult) else list(results)
    if not items or not all(isinstance(r, CampaignResult) for r in items):
        raise ValueError("results must hold at least one CampaignResult")
    ids = [r.campaign_id for r in items]
    if len(set(ids)) < len(ids):
        raise ValueError(f"campaign_id {next(i for i in ids if ids.count(i) > 1)!r} is given twice")
    for value, name in ((confounding_share, "confounding_share"), (confounding_sd, "confounding_sd")):
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                  or not math.isfinite(value) or value < 0):
            raise ValueError(f"{name} must be a finite number >= 0")
    # The campaigns' beta is measured at the model's c0_, so the history's beta is compared at that c0 too: its
    # spread with c0 held (beta_se_given_c0_), not the wider one that also carries c0's uncertainty.
    beta_m = float(model.beta_)
    se_m = float(model.beta_se_given_c0_) if math.isfinite(model.beta_se_given_c0_) else float(model.beta_se_)
    bias = float(confounding_sd) if confounding_sd is not None else float(confounding_share) * abs(beta_m)
    has_se = math.isfinite(se_m) and se_m > 0
    se_used = math.sqrt(se_m**2 + bias**2) if has_se else math.inf
    estimates = [campaign_beta(r, model.c0_) for r in items]
    betas = np.array([b for b, _ in estimates])
    precisions = np.array([1.0 / s**2 for _, s in estimates])  # s > 0: var N > 0 whatever the counts
    w_obs = 1.0 / se_used**2 if math.isfinite(se_used) else 0.0
    w_camp = float(precisions.sum())
    total = w_obs + w_camp
    beta_c = float((precisions * betas).sum() / w_camp)
    campaigns = pd.DataFrame({"campaign_id": ids, "beta": betas, "se": [s for _, s in estimates],
                              "weight": precisions / total})
    return CarePooling(
        beta_observational=beta_m, se_observational=se_m, confounding_sd=bias, se_observational_used=se_used,
        beta_campaign=beta_c, se_campaign=float(1.0 / math.sqrt(w_camp)),
        weight_observational=w_obs / total, weight_campaign=w_camp / total,
        beta=float((w_obs * beta_m + w_camp * beta_c) / total), se=float(1.0 / math.sqrt(total)),
        campaigns=campaigns,
    )


def update_response(
    model: CareResponseModel,
    results: CampaignResult | Sequence[CampaignResult],
    confounding_share: float = CONFOUNDING_SHARE,
    confounding_sd: float | None = None,
) -> CareResponseModel:
    """A new model whose care effect is the pooled ``beta`` of :func:`pool_care_effect`.

    The bootstrap draws are shifted to the pooled ``beta`` and scaled to its standard error (a model without draws
    gets 200 normal quantiles). Tier baselines, ``c0_`` and the controls are kept; the pooling is attached as
    ``pooling_``. The input model is not changed. Parameters and errors as :func:`pool_care_effect`.
    """
    pooling = pool_care_effect(model, results, confounding_share, confounding_sd)
    beta, se, se_m = pooling.beta, pooling.se, pooling.se_observational
    extra: dict[str, Any] = {}
    if math.isfinite(se_m) and se_m > 0:
        draws = beta + (model.beta_draws_ - model.beta_draws_.mean()) * se / se_m
        joint = getattr(model, "draws_", None)  # joint draws of c0 and the tier baselines, where the model has them
        if isinstance(joint, pd.DataFrame) and len(joint) == len(draws):
            extra["c0_draws"] = joint["c0"].to_numpy() if "c0" in joint else None
            if all(f"tier[{k}]" in joint for k in TIERS):
                extra["tier_logit_draws"] = {k: joint[f"tier[{k}]"].to_numpy() for k in TIERS}
    else:
        draws = beta + se * stats.norm.ppf((np.arange(200) + 0.5) / 200)
    if isinstance(getattr(model, "care_support_", None), dict):
        extra["care_support"] = model.care_support_
    extra = {k: v for k, v in extra.items() if v is not None}
    new = CareResponseModel.from_coefficients(beta, model.tier_logit_, model.c0_, draws, model.tier_care_, **extra)
    # The controls of the fitted model still describe members; only the care coefficient changes.
    if hasattr(model, "_centre"):
        new._design, new._centre = model._design, model._centre
        new.store_column = model.store_column
        coef = model.coef_.copy()
        coef[_CARE_TERM] = -beta
        new.coef_ = coef
    new.method, new.n_rows_ = model.method, model.n_rows_
    new.pooling_ = pooling
    return new
