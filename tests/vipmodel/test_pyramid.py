"""The customer pyramid: tier rules, tier assignment, tier summary, rule comparison."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from vipmodel.pyramid import (
    DEFAULT_RULES,
    SUMMARY_COLUMNS,
    RuleComparison,
    RulePreview,
    TierRules,
    assign_tiers,
    compare_rules,
    members_moving,
    tier_summary,
)

REPO_ROOT = Path(__file__).resolve().parents[2]


def frame(profits, sales=None, ids=None, period="2025") -> pd.DataFrame:
    """A features frame with just the columns the pyramid reads (plus ``period``)."""
    n = len(profits)
    return pd.DataFrame(
        {
            "member_id": ids if ids is not None else [f"M{i:04d}" for i in range(n)],
            "period": period,
            "sales": sales if sales is not None else [max(p, 0.0) * 4 for p in profits],
            "profit_contribution": [float(p) for p in profits],
        }
    )


def counts(tiers: pd.Series) -> dict[str, int]:
    return tiers.value_counts().reindex(list("ABCD")).astype(int).to_dict()


# ----------------------------------------------------------------------------------------------- TierRules


def test_default_rules_are_the_zeithaml_rust_lemon_proportions():
    # Zeithaml, Rust & Lemon (2001): top 1%, next 4%, next 15%, remaining 80%.
    assert DEFAULT_RULES.basis == "share"
    assert DEFAULT_RULES.shares == (0.01, 0.04, 0.15)
    assert DEFAULT_RULES.thresholds is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"basis": "revenue"}, r"^basis must be one of 'share', 'profit', 'spend'; got 'revenue'$"),
        ({"shares": (0.0, 0.04, 0.15)}, r"^share of tier A must be in \(0, 1\); got 0$"),
        ({"shares": (0.01, 1.0, 0.15)}, r"^share of tier B must be in \(0, 1\); got 1$"),
        ({"shares": (0.01, 0.04, -0.1)}, r"^share of tier C must be in \(0, 1\); got -0.1$"),
        ({"shares": (0.3, 0.3, 0.45)},
         r"^shares of A, B and C must sum to less than 1 \(D takes the rest\); got 1.05$"),
        ({"shares": (0.2, 0.3, 0.5)}, r"^shares of A, B and C must sum to less than 1 \(D takes the rest\); got 1$"),
        ({"shares": (0.1, 0.2)}, r"^shares must be three numbers for A, B and C; got \(0.1, 0.2\)$"),
        ({"shares": (0.1, float("nan"), 0.2)}, r"^shares must be finite numbers"),
        ({"shares": (0.1, "0.2", 0.2)}, r"^shares must be finite numbers"),
        ({"basis": "share", "thresholds": (3, 2, 1)}, r"^thresholds only apply to basis 'profit' or 'spend'$"),
        ({"basis": "profit"}, r"^basis 'profit' needs thresholds: the minimum value for A, B and C$"),
        ({"basis": "spend", "shares": (0.1, 0.2, 0.3)}, r"^shares only apply to basis 'share'$"),
        (
            {"basis": "profit", "thresholds": (1, 2, 0.5)},
            r"^thresholds must be strictly descending \(A > B > C\); got \(1.0, 2.0, 0.5\)$",
        ),
        (
            {"basis": "spend", "thresholds": (5, 5, 1)},
            r"^thresholds must be strictly descending \(A > B > C\); got \(5.0, 5.0, 1.0\)$",
        ),
        ({"basis": "spend", "thresholds": (math.inf, 5, 1)}, r"^thresholds must be finite numbers"),
    ],
)
def test_invalid_tier_rules_are_refused_with_a_clear_message(kwargs, message):
    with pytest.raises(ValueError, match=message):
        TierRules(**kwargs)


@pytest.mark.parametrize(
    "rules",
    [
        DEFAULT_RULES,
        TierRules(shares=(0.05, 0.15, 0.3)),
        TierRules("profit", thresholds=(5000, 1000, 0)),
        TierRules("spend", thresholds=(80000.0, 30000.0, 5000.0)),
        TierRules("profit", thresholds=(10, -5, -20)),
    ],
)
def test_tier_rules_round_trip_through_their_payload(rules):
    assert TierRules.from_payload(rules.to_payload()) == rules


def test_payload_names_the_tiers_so_stored_settings_are_readable():
    assert TierRules("spend", thresholds=(3, 2, 1)).to_payload() == {
        "basis": "spend",
        "thresholds": {"A": 3.0, "B": 2.0, "C": 1.0},
    }


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ([("basis", "share")], r"^tier rules payload must be a mapping$"),
        ({"shares": [0.01, 0.04, 0.15]}, r"^tier rules payload has no 'basis'$"),
        ({"basis": "share", "colour": "red"}, r"^unknown key\(s\) in tier rules payload: 'colour'$"),
        ({"basis": "profit", "thresholds": {"A": 3, "B": 2}}, r"^thresholds must give exactly tiers 'A', 'B' and 'C'"),
        ({"basis": "profit", "thresholds": {"A": 1, "B": 2, "C": 3}}, r"^thresholds must be strictly descending"),
    ],
)
def test_a_malformed_payload_is_refused(payload, message):
    with pytest.raises(ValueError, match=message):
        TierRules.from_payload(payload)


def test_scaled_rules_multiply_absolute_thresholds_and_leave_shares_alone():
    annual = TierRules("spend", thresholds=(40000, 20000, 4000))
    assert annual.scaled(0.25) == TierRules("spend", thresholds=(10000, 5000, 1000))
    assert DEFAULT_RULES.scaled(0.25) is DEFAULT_RULES
    with pytest.raises(ValueError, match=r"^factor must be a positive number; got 0$"):
        annual.scaled(0)


# -------------------------------------------------------------------------------------------- assign_tiers


def test_one_hundred_distinct_members_split_1_4_15_80():
    profits = list(range(100, 0, -1))  # member M0000 best, M0099 worst
    tiers = assign_tiers(frame(profits))
    assert counts(tiers) == {"A": 1, "B": 4, "C": 15, "D": 80}
    assert tiers["M0000"] == "A"
    assert (tiers.iloc[1:5] == "B").all() and (tiers.iloc[5:20] == "C").all() and (tiers.iloc[20:] == "D").all()


def test_tiers_are_categorical_indexed_by_member_id_in_input_order():
    ids = ["VIP-0042", "007", "M1"]
    tiers = assign_tiers(frame([5.0, 1.0, 3.0], ids=ids), TierRules("profit", thresholds=(4, 2, 1)))
    assert tiers.index.name == "member_id" and tiers.name == "tier"
    assert tiers.index.tolist() == ids  # ids with leading zeros stay strings
    assert list(tiers.cat.categories) == ["A", "B", "C", "D"]
    assert tiers.tolist() == ["A", "C", "B"]


def test_share_tiers_never_exceed_their_share_of_members():
    # 250 members: A floor(2.5) = 2, A+B floor(12.5) = 12, A+B+C floor(50) = 50.
    tiers = assign_tiers(frame(np.arange(250, 0, -1)))
    assert counts(tiers) == {"A": 2, "B": 10, "C": 38, "D": 200}


def test_share_tiers_do_not_depend_on_row_order():
    rng = np.random.default_rng(11)
    features = frame(rng.normal(100, 60, 3000).round(1))  # rounding creates ties too
    expected = assign_tiers(features)
    shuffled = features.sample(frac=1.0, random_state=3)
    assert assign_tiers(shuffled).reindex(expected.index).equals(expected)


def test_every_member_of_a_higher_tier_contributes_more_than_every_member_below():
    rng = np.random.default_rng(5)
    features = frame(rng.gamma(2.0, 500.0, 5000) - 200)
    tiers = assign_tiers(features, TierRules(shares=(0.02, 0.08, 0.3)))
    profit = features.set_index("member_id")["profit_contribution"]
    for upper, lower in [("A", "B"), ("B", "C"), ("C", "D")]:
        assert profit[tiers == upper].min() > profit[tiers == lower].max()


def test_ties_at_a_cut_go_to_the_lower_tier_so_equal_members_share_a_tier():
    # 100 members, the best two tie: A has room for one, so neither takes it.
    profits = [50.0, 50.0] + list(range(48, -50, -1))
    tiers = assign_tiers(frame(profits))
    # Tiers fill cumulatively (top 1%, top 5%, top 20%), so B takes the top 5 and A stays empty.
    assert counts(tiers) == {"A": 0, "B": 5, "C": 15, "D": 80}
    assert tiers["M0000"] == tiers["M0001"] == "B"


@pytest.mark.parametrize("seed", [3, 17, 2026])
def test_when_every_profit_ties_sales_break_the_tie_and_share_tiers_keep_their_shares(seed):
    # A mall without margins: every contribution is the same, so the ranking falls to sales.
    rng = np.random.default_rng(seed)
    n = 1_000 + int(rng.integers(0, 500))
    sales = rng.permutation(np.arange(1, n + 1) * 10.0)  # distinct
    tiers = assign_tiers(frame([0.0] * n, sales=list(sales)))
    sizes = [math.floor(round(c * n, 6)) for c in (0.01, 0.05, 0.20)]
    assert counts(tiers) == {"A": sizes[0], "B": sizes[1] - sizes[0], "C": sizes[2] - sizes[1], "D": n - sizes[2]}
    order = np.argsort(-sales)
    assert (tiers.to_numpy()[order[: sizes[0]]] == "A").all()
    assert (tiers.to_numpy()[order[sizes[2]:]] == "D").all()


@pytest.mark.parametrize("seed", [1, 8, 99])
def test_share_tiers_rank_by_profit_then_by_sales(seed):
    features = _rounded_features(seed, 3_000)
    tiers = assign_tiers(features).cat.codes.to_numpy()
    key = list(zip(features["profit_contribution"], features["sales"]))
    best_of = {code: max(k for k, c in zip(key, tiers) if c == code) for code in set(tiers)}
    worst_of = {code: min(k for k, c in zip(key, tiers) if c == code) for code in set(tiers)}
    for upper, lower in zip(sorted(best_of), sorted(best_of)[1:]):
        if lower < 3:  # D also holds every negative contribution, whatever its rank
            assert worst_of[upper] > best_of[lower]
    sizes = [math.floor(round(c * 3_000, 6)) for c in (0.01, 0.05, 0.20)]
    assert np.count_nonzero(tiers <= 2) <= sizes[2]


def test_members_tied_on_profit_and_sales_share_a_tier():
    # 100 members, the best three tie on both values: A has room for one, so none takes it; B takes them.
    profits, sales = [0.0] * 100, [500.0] * 3 + [float(s) for s in range(97, 0, -1)]
    tiers = assign_tiers(frame(profits, sales=sales))
    assert counts(tiers) == {"A": 0, "B": 5, "C": 15, "D": 80}
    assert tiers["M0000"] == tiers["M0001"] == tiers["M0002"] == "B"


@pytest.mark.parametrize(
    ("profits", "rules", "expected"),
    [
        # every member identical: ties go down, everyone is D
        ([10.0] * 200, DEFAULT_RULES, {"A": 0, "B": 0, "C": 0, "D": 200}),
        # everyone clears A
        ([900.0, 1000.0, 5000.0], TierRules("profit", thresholds=(800, 100, 10)), {"A": 3, "B": 0, "C": 0, "D": 0}),
        # nobody qualifies for A (absolute thresholds)
        ([50.0, 150.0, 20.0, 5.0], TierRules("profit", thresholds=(1000, 100, 10)), {"A": 0, "B": 1, "C": 2, "D": 1}),
        # a single member: 1% / 5% / 20% of one member round down to nobody
        ([1e6], DEFAULT_RULES, {"A": 0, "B": 0, "C": 0, "D": 1}),
        # a single member with absolute thresholds
        ([120.0], TierRules("profit", thresholds=(100, 50, 10)), {"A": 1, "B": 0, "C": 0, "D": 0}),
        # exactly on a threshold qualifies ("minimum value")
        ([100.0, 50.0, 10.0, 9.99], TierRules("profit", thresholds=(100, 50, 10)), {"A": 1, "B": 1, "C": 1, "D": 1}),
    ],
)
def test_edge_cases_of_tier_assignment(profits, rules, expected):
    assert counts(assign_tiers(frame(profits), rules)) == expected


@pytest.mark.parametrize(
    "rules",
    [DEFAULT_RULES, TierRules("spend", thresholds=(1000, 500, 100)), TierRules("profit", thresholds=(0, -10, -20))],
)
def test_a_member_with_negative_contribution_is_always_d(rules):
    # M0000 only returned goods (negative sales and contribution); M0001 spends a lot but costs more than it brings.
    profits = [-80.0, -5.0] + [1.0] * 98
    sales = [-400.0, 50000.0] + [10.0] * 98
    tiers = assign_tiers(frame(profits, sales=sales), rules)
    assert tiers["M0000"] == "D" and tiers["M0001"] == "D"


def test_spend_basis_ranks_by_sales_not_profit():
    features = frame([1.0, 500.0], sales=[9000.0, 100.0])
    tiers = assign_tiers(features, TierRules("spend", thresholds=(5000, 1000, 50)))
    assert tiers.tolist() == ["A", "C"]


def test_a_large_shuffled_population_splits_exactly_by_share():
    # Correctness at scale; the speed budget (1M members < 100 ms) is measured by benchmarks/bench_pyramid.py.
    n = 200_000
    rng = np.random.default_rng(1)
    features = pd.DataFrame(
        {"member_id": np.arange(n).astype(str), "profit_contribution": rng.permutation(n).astype(float)}
    )
    assert counts(assign_tiers(features)) == {"A": 2_000, "B": 8_000, "C": 30_000, "D": 160_000}


@pytest.mark.parametrize(
    ("features", "rules", "message"),
    [
        (frame([1.0]).drop(columns="profit_contribution"), DEFAULT_RULES,
         r"^features is missing columns: profit_contribution$"),
        (frame([1.0]).drop(columns=["sales", "member_id"]), TierRules("spend", thresholds=(3, 2, 1)),
         r"^features is missing columns: member_id, sales$"),
        (frame([1.0]).iloc[:0], DEFAULT_RULES, r"^features is empty \(no rows\)$"),
        ([1, 2, 3], DEFAULT_RULES, r"^features must be a pandas DataFrame, got list$"),
        (frame([1.0, float("nan"), 2.0]), DEFAULT_RULES,
         r"^features column 'profit_contribution' has 1 missing value\(s\); fill or drop them first$"),
        (frame([1.0, 2.0]).assign(profit_contribution=["a", "b"]), DEFAULT_RULES,
         r"^features column 'profit_contribution' must be numeric$"),
        (pd.concat([frame([1.0], period="2024"), frame([2.0], period="2025")]), DEFAULT_RULES,
         r"^features holds several periods \('2024', '2025'\); tier one period at a time"),
        (frame([1.0]), "share", r"^rules must be a TierRules, got str$"),
    ],
)
def test_assign_tiers_refuses_bad_input_with_a_clear_message(features, rules, message):
    with pytest.raises(ValueError, match=message):
        assign_tiers(features, rules)


# -------------------------------------------------------------------------------------------- tier_summary


def small_pyramid() -> tuple[pd.DataFrame, pd.Series]:
    features = pd.DataFrame(
        {
            "member_id": ["a1", "b1", "b2", "d1", "d2"],
            "sales": [1000.0, 400.0, 200.0, 300.0, 100.0],
            "profit_contribution": [300.0, 80.0, 40.0, -20.0, 0.0],
        }
    )
    tiers = pd.Series(["A", "B", "B", "D", "D"], index=["a1", "b1", "b2", "d1", "d2"])
    return features, tiers


def test_tier_summary_adds_up_each_tier_and_keeps_empty_tiers_as_zeros():
    features, tiers = small_pyramid()
    summary = tier_summary(features, tiers)
    assert list(summary.columns) == list(SUMMARY_COLUMNS)
    assert summary.index.tolist() == ["A", "B", "C", "D"]
    assert summary["members"].tolist() == [1, 2, 0, 2]
    assert summary["sales"].tolist() == [1000.0, 600.0, 0.0, 400.0]
    assert summary["profit"].tolist() == [300.0, 120.0, 0.0, -20.0]
    # totals: 5 members, sales 2000, profit 400
    np.testing.assert_allclose(summary["member_share"], [0.2, 0.4, 0.0, 0.4])
    np.testing.assert_allclose(summary["sales_share"], [0.5, 0.3, 0.0, 0.2])
    np.testing.assert_allclose(summary["profit_share"], [0.75, 0.3, 0.0, -0.05])
    np.testing.assert_allclose(summary["avg_profit"], [300.0, 60.0, np.nan, -10.0])
    assert summary[["avg_clv", "total_clv", "churn_rate"]].isna().all().all()


def test_tier_summary_averages_clv_and_churn_over_members_with_data():
    features, tiers = small_pyramid()
    clv = pd.Series({"a1": 5000.0, "b1": 900.0, "b2": np.nan, "d2": 10.0, "zz": 1e9})
    churned = pd.Series({"a1": False, "b1": True, "b2": False, "d1": True, "d2": True})
    summary = tier_summary(features, tiers, clv=clv, churned=churned)
    np.testing.assert_allclose(summary["avg_clv"], [5000.0, 900.0, np.nan, 10.0])
    np.testing.assert_allclose(summary["total_clv"], [5000.0, 900.0, np.nan, 10.0])
    np.testing.assert_allclose(summary["churn_rate"], [0.0, 0.5, np.nan, 1.0])


def test_tier_summary_total_row_covers_everyone():
    features, tiers = small_pyramid()
    churned = pd.Series({"a1": False, "b1": True, "b2": False, "d1": True, "d2": True})
    summary = tier_summary(features, tiers, churned=churned, total=True)
    total = summary.loc["total"]
    assert summary.index.tolist() == ["A", "B", "C", "D", "total"]
    assert (total["members"], total["sales"], total["profit"]) == (5, 2000.0, 400.0)
    assert total["member_share"] == total["sales_share"] == total["profit_share"] == 1.0
    assert total["avg_profit"] == 80.0 and total["churn_rate"] == 0.6


def test_tier_summary_of_tiers_from_assign_tiers_matches_the_tier_counts():
    rng = np.random.default_rng(2)
    features = frame(rng.normal(50, 40, 1000))
    tiers = assign_tiers(features)
    summary = tier_summary(features, tiers)
    assert summary["members"].tolist() == [10, 40, 150, 800]
    assert summary["profit"].sum() == pytest.approx(features["profit_contribution"].sum())


@pytest.mark.parametrize(
    ("tiers", "kwargs", "message"),
    [
        (pd.Series(["A", "B", "B", "D"], index=["a1", "b1", "b2", "d1"]), {},
         r"^tiers has no tier for 1 member\(s\) of features, e.g. 'd2'$"),
        (pd.Series(["A", "B", "B", "D", "E"], index=["a1", "b1", "b2", "d1", "d2"]), {},
         r"^tiers must be 'A', 'B', 'C' or 'D'; found 'E'$"),
        (["A"] * 5, {}, r"^tiers must be a pandas Series indexed by member_id, got list$"),
        (None, {"clv": pd.Series(["x"] * 5, index=["a1", "b1", "b2", "d1", "d2"])}, r"^clv must be numeric$"),
        (None, {"churned": pd.Series([2, 0, 0, 0, 0], index=["a1", "b1", "b2", "d1", "d2"])},
         r"^churned must be True/False \(or 1/0\)$"),
        (None, {"clv": pd.Series([1.0, 2.0], index=["a1", "a1"])},
         r"^clv must have one value per member_id \(its index has duplicates\)$"),
    ],
)
def test_tier_summary_refuses_inconsistent_input(tiers, kwargs, message):
    features, good = small_pyramid()
    with pytest.raises(ValueError, match=message):
        tier_summary(features, good if tiers is None else tiers, **kwargs)


def test_tier_summary_refuses_a_member_listed_twice():
    features, tiers = small_pyramid()
    with pytest.raises(ValueError, match=r"^features must hold one row per member; member_id 'a1' appears more"):
        tier_summary(pd.concat([features, features.iloc[:1]]), tiers)


@pytest.mark.parametrize("order", ["aligned", "shuffled", "subset"])
def test_tier_summary_without_the_uniqueness_check_gives_the_same_table(order):
    rng = np.random.default_rng(7)
    features = frame(rng.normal(50, 40, 500))
    tiers = assign_tiers(features)
    clv = pd.Series(rng.normal(100, 10, 500), index=features["member_id"])
    if order == "shuffled":
        tiers, clv = tiers.sample(frac=1, random_state=1), clv.sample(frac=1, random_state=2)
    elif order == "subset":
        features = features.iloc[::3]
    checked = tier_summary(features, tiers, clv=clv)
    pd.testing.assert_frame_equal(tier_summary(features, tiers, clv=clv, check_unique=False), checked)


# ------------------------------------------------------------------------------------------- compare_rules


def comparison_features() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "member_id": ["m1", "m2", "m3", "m4", "m5", "m6"],
            "sales": [9000.0, 6000.0, 2500.0, 1500.0, 800.0, 7000.0],
            "profit_contribution": [900.0, 450.0, 200.0, 120.0, 30.0, -10.0],
        }
    )


CURRENT = TierRules("profit", thresholds=(500, 150, 50))  # m1 A, m2 B, m3 B, m4 C, m5 D, m6 D
PROPOSED = TierRules("profit", thresholds=(400, 250, 100))  # m1 A, m2 A, m3 C, m4 C, m5 D, m6 D
COSTS = {"A": 1000.0, "B": 300.0, "C": 50.0}


def test_compare_rules_counts_members_moving_and_the_cost_change():
    result = compare_rules(comparison_features(), CURRENT, PROPOSED, COSTS)
    assert isinstance(result, RuleComparison)
    assert (result.moved_up, result.moved_down, result.unchanged) == (1, 1, 4)
    expected = pd.DataFrame(
        [[1, 0, 0, 0], [1, 0, 1, 0], [0, 0, 1, 0], [0, 0, 0, 2]], index=list("ABCD"), columns=list("ABCD")
    )
    np.testing.assert_array_equal(result.matrix.to_numpy(), expected.to_numpy())
    assert result.per_tier["members_before"].tolist() == [1, 2, 1, 2]
    assert result.per_tier["members_after"].tolist() == [2, 0, 2, 2]
    # before: 1*1000 + 2*300 + 1*50 = 1650; after: 2*1000 + 0 + 2*50 = 2100
    assert (result.benefit_cost_before, result.benefit_cost_after) == (1650.0, 2100.0)
    assert result.benefit_cost_change == 450.0
    assert result.per_tier["benefit_cost_change"].tolist() == [1000.0, -600.0, 50.0, 0.0]


def test_compare_rules_sentence_states_the_numbers():
    result = compare_rules(comparison_features(), CURRENT, PROPOSED, COSTS)
    assert result.sentence() == (
        "If these thresholds were applied, 1 member would move up, 1 down; benefit cost changes by +450.00."
    )
    reverse = compare_rules(comparison_features(), PROPOSED, CURRENT, COSTS)
    assert reverse.sentence() == (
        "If these thresholds were applied, 1 member would move up, 1 down; benefit cost changes by -450.00."
    )


def test_comparing_rules_with_themselves_moves_nobody():
    result = compare_rules(comparison_features(), CURRENT, CURRENT, COSTS)
    assert (result.moved_up, result.moved_down, result.unchanged, result.benefit_cost_change) == (0, 0, 6, 0.0)


def test_compare_rules_can_switch_basis():
    # spend basis: m6 spends 7000 but contributes -10, so stays D.
    proposed = TierRules("spend", thresholds=(8000, 5000, 1000))  # m1 A, m2 B, m3 C, m4 C, m5 D, m6 D
    result = compare_rules(comparison_features(), CURRENT, proposed, COSTS)
    assert (result.moved_up, result.moved_down, result.unchanged) == (0, 1, 5)


@pytest.mark.parametrize(
    ("costs", "message"),
    [
        ({"A": 10.0, "E": 1.0}, r"^benefit_cost_per_tier has unknown tier\(s\): 'E'$"),
        ({"A": -1.0}, r"^benefit cost of tier A must be a non-negative number; got -1.0$"),
        ([10.0, 5.0], r"^benefit_cost_per_tier must be a mapping"),
    ],
)
def test_compare_rules_refuses_bad_benefit_costs(costs, message):
    with pytest.raises(ValueError, match=message):
        compare_rules(comparison_features(), CURRENT, PROPOSED, costs)


@pytest.mark.parametrize(
    ("direction", "expected"),
    [
        ("up", [("m2", "B", "A")]),
        ("down", [("m3", "B", "C")]),
        ("unchanged", [("m1", "A", "A"), ("m4", "C", "C"), ("m5", "D", "D"), ("m6", "D", "D")]),
    ],
)
def test_members_moving_lists_who_would_move(direction, expected):
    moving = members_moving(comparison_features(), CURRENT, PROPOSED, direction)
    assert list(moving.columns) == ["member_id", "current_tier", "proposed_tier", "profit_contribution", "sales"]
    got = list(zip(moving["member_id"], moving["current_tier"].astype(str), moving["proposed_tier"].astype(str)))
    assert got == expected


def test_members_moving_refuses_an_unknown_direction():
    with pytest.raises(ValueError, match=r"^direction must be 'up', 'down' or 'unchanged'; got 'sideways'$"):
        members_moving(comparison_features(), CURRENT, PROPOSED, "sideways")



# --------------------------------------------------------------------------------------------- RulePreview


def _rounded_features(seed: int, n: int) -> pd.DataFrame:
    """Members with many tied profits (rounded to 10) and a share of losses: the cases a ranking gets wrong."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {"member_id": [f"M{i}" for i in range(n)], "profit_contribution": np.round(rng.normal(80, 120, n), -1),
         "sales": np.round(rng.lognormal(6, 1, n), -1), "period": "2025"}
    )


PREVIEW_RULES = [
    TierRules(),
    TierRules("share", shares=(0.0001, 0.0001, 0.0001)),
    TierRules("share", shares=(0.1, 0.3, 0.59)),
    TierRules("share", shares=(0.013, 0.041, 0.152)),
    TierRules("profit", thresholds=(300, 150, 50)),
    TierRules("profit", thresholds=(10_000, 9_000, 8_000)),
    TierRules("spend", thresholds=(2_000, 800, 300)),
]


@pytest.mark.parametrize("n", [1, 7, 100, 2_345])
@pytest.mark.parametrize("current", PREVIEW_RULES[::2])
def test_a_rule_preview_gives_the_comparison_of_compare_rules(n, current):
    features = _rounded_features(n, n)
    preview = RulePreview(features, current)
    assert preview.n_members == n
    for proposed in PREVIEW_RULES:
        fast, full = preview.compare(proposed, COSTS), compare_rules(features, current, proposed, COSTS)
        assert (fast.moved_up, fast.moved_down, fast.unchanged) == (full.moved_up, full.moved_down, full.unchanged)
        pd.testing.assert_frame_equal(fast.matrix, full.matrix)
        pd.testing.assert_frame_equal(fast.per_tier, full.per_tier)
        assert fast.benefit_cost_change == full.benefit_cost_change
        assert (fast.current, fast.proposed) == (current, proposed)


def test_a_rule_preview_does_not_depend_on_row_order():
    features = _rounded_features(11, 1_000)
    shuffled = features.sample(frac=1.0, random_state=3)
    proposed = TierRules("share", shares=(0.02, 0.05, 0.2))
    a = RulePreview(features, DEFAULT_RULES).compare(proposed, COSTS)
    b = RulePreview(shuffled, DEFAULT_RULES).compare(proposed, COSTS)
    pd.testing.assert_frame_equal(a.matrix, b.matrix)


def test_a_rule_preview_needs_sales_only_for_spend_rules():
    features = comparison_features().drop(columns="sales")
    preview = RulePreview(features, CURRENT)
    assert preview.compare(PROPOSED, COSTS).moved_up == 1
    with pytest.raises(ValueError, match=r"^features is missing columns: sales$"):
        preview.compare(TierRules("spend", thresholds=(8000, 5000, 1000)), COSTS)
    with pytest.raises(ValueError, match=r"^features is missing columns: sales$"):
        RulePreview(features, TierRules("spend", thresholds=(8000, 5000, 1000)))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda f: RulePreview(f, "1/4/15"), r"^current must be a TierRules, got str$"),
        (lambda f: RulePreview(pd.concat([f, f.head(1)]), CURRENT),
         r"^features must hold one row per member; member_id 'm1' appears more than once$"),
        (lambda f: RulePreview(f.head(0), CURRENT), r"^features is empty \(no rows\)$"),
        (lambda f: RulePreview(f, CURRENT).compare(None, COSTS), r"^proposed must be a TierRules, got NoneType$"),
        (lambda f: RulePreview(f, CURRENT).compare(PROPOSED, {"E": 1.0}),
         r"^benefit_cost_per_tier has unknown tier\(s\): 'E'$"),
    ],
)
def test_a_rule_preview_refuses_bad_input_with_the_messages_of_compare_rules(make, message):
    with pytest.raises(ValueError, match=message):
        make(comparison_features())


# --------------------------------------------------------------------------------------------- benchmark


def test_the_benchmark_script_prints_a_markdown_table():
    spec = importlib.util.spec_from_file_location("bench_pyramid", REPO_ROOT / "benchmarks" / "bench_pyramid.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    table = bench.main(["--members", "2000", "--repeat", "2"])
    lines = table.splitlines()
    assert lines[0].startswith("| basis |") and set(lines[1]) <= set("|-: ")
    assert len(lines) == 2 + 3  # header, rule, one row per basis


def test_skipping_the_uniqueness_check_gives_the_same_comparison_and_list():
    rng = np.random.default_rng(4)
    features = pd.DataFrame(
        {"member_id": [f"M{i}" for i in range(500)], "profit_contribution": rng.normal(100, 80, 500),
         "sales": rng.lognormal(6, 1, 500)}
    )
    current, proposed = TierRules(), TierRules("share", shares=(0.03, 0.05, 0.2))
    costs = {"A": 100.0, "B": 50.0}
    checked = compare_rules(features, current, proposed, costs)
    unchecked = compare_rules(features, current, proposed, costs, check_unique=False)
    assert (checked.moved_up, checked.benefit_cost_change) == (unchecked.moved_up, unchecked.benefit_cost_change)
    pd.testing.assert_frame_equal(
        members_moving(features, current, proposed, "up"),
        members_moving(features, current, proposed, "up", check_unique=False),
    )
