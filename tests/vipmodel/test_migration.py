"""Tier migration: snapshots per period, transition matrix, movement rates, projection, Sankey links."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from vipmodel.migration import (
    MOVEMENT_COLUMNS,
    PROJECTION_ASSUMPTION,
    PROJECTION_COLUMNS,
    SANKEY_COLUMNS,
    SNAPSHOT_COLUMNS,
    TransitionMatrix,
    members_in_cell,
    movement_rates,
    project_pyramid,
    sankey_data,
    sankey_nodes,
    tier_snapshots,
    transition_matrix,
)
from vipmodel.pyramid import TierRules

P1, P2 = "2024", "2025"
START = {P1: pd.Timestamp("2024-01-01"), P2: pd.Timestamp("2025-01-01"), "2026": pd.Timestamp("2026-01-01")}

# Hand-built flows from 2024 to 2025 (tier in 2024 -> tier in 2025, None = absent):
#   A: a1 stays A, a2 lost            -> A row: A 1, lost 1
#   B: b1 -> A, b2 -> B, b3 -> D, b4 -> B -> B row: A 1, B 2, D 1
#   C: c1 stays C, c2 lost            -> C row: C 1, lost 1
#   D: d1 stays D, d2 -> C            -> D row: C 1, D 1
#   new: n1 -> C, n2 -> D             -> new row: C 1, D 1
FLOWS = {
    "a1": ("A", "A"), "a2": ("A", None),
    "b1": ("B", "A"), "b2": ("B", "B"), "b3": ("B", "D"), "b4": ("B", "B"),
    "c1": ("C", "C"), "c2": ("C", None),
    "d1": ("D", "D"), "d2": ("D", "C"),
    "n1": (None, "C"), "n2": (None, "D"),
}  # fmt: skip


def snapshots_from(flows: dict[str, tuple[str | None, str | None]]) -> pd.DataFrame:
    rows = [
        {"member_id": m, "period": period, "period_start": START[period], "tier": tier}
        for m, pair in flows.items()
        for period, tier in zip((P1, P2), pair)
        if tier is not None
    ]
    return pd.DataFrame(rows, columns=list(SNAPSHOT_COLUMNS))


@pytest.fixture
def snapshots() -> pd.DataFrame:
    return snapshots_from(FLOWS)


@pytest.fixture
def matrix(snapshots) -> TransitionMatrix:
    return transition_matrix(snapshots, P1, P2)


# ---------------------------------------------------------------------------------------------- snapshots


def features_over_periods() -> pd.DataFrame:
    # The same member "x" contributes 100 in both years, but in 2025 two members contribute more.
    def year(period, profits):
        return pd.DataFrame(
            {
                "member_id": list(profits),
                "period": period,
                "period_start": START[period],
                "profit_contribution": list(profits.values()),
                "sales": [4 * v for v in profits.values()],
            }
        )

    return pd.concat(
        [year(P2, {"x": 100.0, "y": 300.0, "z": 200.0, "w": 1.0}), year(P1, {"x": 100.0, "y": 50.0, "w": 1.0})],
        ignore_index=True,
    )


def test_tier_snapshots_tier_each_period_on_its_own():
    # cumulative 35% / 70% / 80%: 3 members floor to 1 / 2 / 2 (A, B, -, D), 4 members to 1 / 2 / 3 (A, B, C, D)
    rules = TierRules(shares=(0.35, 0.35, 0.1))
    snaps = tier_snapshots(features_over_periods(), rules)
    assert list(snaps.columns) == list(SNAPSHOT_COLUMNS)
    assert snaps["period"].tolist() == [P1] * 3 + [P2] * 4  # ordered by period_start
    tier = snaps.set_index(["period", "member_id"])["tier"]
    assert (tier[(P1, "x")], tier[(P2, "x")]) == ("A", "C")
    assert (tier[(P1, "y")], tier[(P2, "y")]) == ("B", "A")
    assert tier[(P2, "z")] == "B"
    assert list(snaps["tier"].cat.categories) == ["A", "B", "C", "D"]


def test_tier_snapshots_apply_absolute_thresholds_per_period():
    snaps = tier_snapshots(features_over_periods(), TierRules("profit", thresholds=(250, 150, 60)))
    tier = snaps.set_index(["period", "member_id"])["tier"]
    assert [tier[(P1, m)] for m in ("x", "y", "w")] == ["C", "D", "D"]
    assert [tier[(P2, m)] for m in ("x", "y", "z", "w")] == ["C", "A", "B", "D"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.drop(columns="period_start"), r"^features is missing columns: period_start$"),
        (lambda f: f.iloc[:0], r"^features is empty \(no rows\)$"),
        (lambda f: pd.concat([f, f.iloc[:1]]), r"^features has several rows for member 'x' in period '2025'$"),
        (
            lambda f: f.assign(period_start=[START[P2]] * 3 + [START["2026"]] + [START[P1]] * 3),
            r"^period '2025' has several period_start values$",
        ),
    ],
)
def test_tier_snapshots_refuse_inconsistent_features(change, message):
    with pytest.raises(ValueError, match=message):
        tier_snapshots(change(features_over_periods()))


# ------------------------------------------------------------------------------------- transition matrix


def test_transition_counts_match_the_hand_built_flows(matrix):
    expected = pd.DataFrame(
        [
            [1, 0, 0, 0, 1],
            [1, 2, 0, 1, 0],
            [0, 0, 1, 0, 1],
            [0, 0, 1, 1, 0],
            [0, 0, 1, 1, 0],
        ],
        index=["A", "B", "C", "D", "new"],
        columns=["A", "B", "C", "D", "lost"],
    )
    assert matrix.counts.index.tolist() == expected.index.tolist()
    assert matrix.counts.columns.tolist() == expected.columns.tolist()
    np.testing.assert_array_equal(matrix.counts.to_numpy(), expected.to_numpy())
    assert (matrix.from_period, matrix.to_period) == (P1, P2)


def test_transition_rates_are_row_shares(matrix):
    np.testing.assert_allclose(matrix.rates.loc["B"].to_numpy(), [0.25, 0.5, 0.0, 0.25, 0.0])
    np.testing.assert_allclose(matrix.rates.loc["new"].to_numpy(), [0.0, 0.0, 0.5, 0.5, 0.0])
    np.testing.assert_allclose(matrix.rates.sum(axis=1).to_numpy(), 1.0)


def test_a_tier_with_nobody_in_the_first_period_has_nan_rates():
    flows = {m: pair for m, pair in FLOWS.items() if pair[0] != "C"}
    matrix = transition_matrix(snapshots_from(flows), P1, P2)
    assert matrix.counts.loc["C"].sum() == 0
    assert matrix.rates.loc["C"].isna().all()


def test_a_period_where_everyone_is_in_one_tier():
    flows = {"m1": ("D", "D"), "m2": ("D", "D"), "m3": ("D", None), "m4": (None, "D")}
    matrix = transition_matrix(snapshots_from(flows), P1, P2)
    assert matrix.counts.loc["D"].tolist() == [0, 0, 0, 2, 1]
    assert matrix.counts.loc[["A", "B", "C"]].to_numpy().sum() == 0
    rates = movement_rates(matrix)
    assert rates.loc["D", "retained_same_tier"] == pytest.approx(2 / 3)
    assert rates.loc[["A", "B", "C"], "members"].tolist() == [0, 0, 0]


def test_a_single_member_who_moves_up():
    matrix = transition_matrix(snapshots_from({"only": ("C", "B")}), P1, P2)
    assert matrix.counts.to_numpy().sum() == 1 and matrix.counts.loc["C", "B"] == 1
    assert movement_rates(matrix).loc["C", "upgraded"] == 1.0


@pytest.mark.parametrize(
    ("from_period", "to_period", "message"),
    [
        (P1, "2026", r"^period '2026' has no members in snapshots; known periods: '2024', '2025'$"),
        ("2023", P2, r"^period '2023' has no members in snapshots; known periods: '2024', '2025'$"),
        (P2, P2, r"^from_period and to_period are the same \('2025'\)$"),
        (P2, P1, r"^from_period '2025' must come before to_period '2024'$"),
    ],
)
def test_transition_matrix_refuses_empty_unknown_or_reversed_periods(snapshots, from_period, to_period, message):
    with pytest.raises(ValueError, match=message):
        transition_matrix(snapshots, from_period, to_period)


def test_transition_matrix_refuses_snapshots_with_a_bad_tier_or_a_duplicate(snapshots):
    bad = snapshots.astype({"tier": "object"})
    bad.loc[0, "tier"] = "Z"
    with pytest.raises(ValueError, match=r"^snapshots column 'tier' must be 'A', 'B', 'C' or 'D'; found 'Z'$"):
        transition_matrix(bad, P1, P2)
    with pytest.raises(ValueError, match=r"^snapshots has several rows for member 'a1' in period '2024'$"):
        transition_matrix(pd.concat([snapshots, snapshots.iloc[:1]]), P1, P2)
    with pytest.raises(ValueError, match=r"^snapshots is missing columns: tier$"):
        transition_matrix(snapshots.drop(columns="tier"), P1, P2)


def test_snapshots_feed_the_transition_matrix():
    snaps = tier_snapshots(features_over_periods(), TierRules("profit", thresholds=(250, 150, 60)))
    matrix = transition_matrix(snaps, P1, P2)
    # x C -> C, y D -> A, w D -> D, z new -> B
    assert matrix.counts.loc["C", "C"] == 1 and matrix.counts.loc["D", "A"] == 1
    assert matrix.counts.loc["D", "D"] == 1 and matrix.counts.loc["new", "B"] == 1
    assert matrix.counts.to_numpy().sum() == 4


# ------------------------------------------------------------------------------------------ movement rates


def test_movement_rates_split_each_tier_into_stay_up_down_lost(matrix):
    rates = movement_rates(matrix)
    assert list(rates.columns) == list(MOVEMENT_COLUMNS)
    assert rates["members"].tolist() == [2, 4, 2, 2]
    expected = [[0.5, 0.0, 0.0, 0.5], [0.5, 0.25, 0.25, 0.0], [0.5, 0.0, 0.0, 0.5], [0.5, 0.5, 0.0, 0.0]]
    np.testing.assert_allclose(rates[list(MOVEMENT_COLUMNS[1:])].to_numpy(), expected)


# -------------------------------------------------------------------------------------------- cell members


@pytest.mark.parametrize(
    ("from_state", "to_state", "expected"),
    [("B", "B", ["b2", "b4"]), ("A", "lost", ["a2"]), ("new", "C", ["n1"]), ("C", "A", []), ("new", "lost", [])],
)
def test_members_in_cell_lists_the_members_behind_a_count(snapshots, from_state, to_state, expected):
    cell = members_in_cell(snapshots, P1, P2, from_state, to_state)
    assert list(cell.columns) == ["member_id", "from_state", "to_state"]
    assert cell["member_id"].tolist() == expected


@pytest.mark.parametrize(
    ("from_state", "to_state", "message"),
    [
        ("lost", "A", r"^from_state must be one of 'A', 'B', 'C', 'D', 'new'; got 'lost'$"),
        ("A", "new", r"^to_state must be one of 'A', 'B', 'C', 'D', 'lost'; got 'new'$"),
    ],
)
def test_members_in_cell_refuses_impossible_states(snapshots, from_state, to_state, message):
    with pytest.raises(ValueError, match=message):
        members_in_cell(snapshots, P1, P2, from_state, to_state)


# ----------------------------------------------------------------------------------------------- projection


def test_projection_matches_a_hand_computed_two_step_example(matrix):
    # Rates: A -> A .5, lost .5 | B -> A .25, B .5, D .25 | C -> C .5, lost .5 | D -> C .5, D .5; new: C 1, D 1.
    # step 1 from (4, 8, 2, 4): A 2+2=4, B 4, C 1+2+1=4, D 2+2+1=5; lost 2+1=3; arrived 2
    # step 2 from (4, 4, 4, 5): A 2+1=3, B 2, C 2+2.5+1=5.5, D 1+2.5+1=4.5; lost 3+2+2=7; arrived 4
    projection = project_pyramid(matrix, {"A": 4, "B": 8, "C": 2, "D": 4}, periods=2)
    assert list(projection.columns) == list(PROJECTION_COLUMNS)
    assert projection.index.tolist() == [0, 1, 2]
    expected = [
        [4, 8, 2, 4, 18, 0, 0],
        [4, 4, 4, 5, 17, 2, 3],
        [3, 2, 5.5, 4.5, 15, 4, 7],
    ]
    np.testing.assert_allclose(projection.to_numpy(), expected)


def test_projection_conserves_members():
    rng = np.random.default_rng(42)
    tiers = rng.choice(list("ABCD"), size=(400, 2), p=[0.05, 0.15, 0.3, 0.5])
    present = rng.random((400, 2)) < 0.8
    flows = {
        f"m{i}": (tiers[i, 0] if present[i, 0] else None, tiers[i, 1] if present[i, 1] else None)
        for i in range(400)
        if present[i].any()
    }
    matrix = transition_matrix(snapshots_from(flows), P1, P2)
    projection = project_pyramid(matrix, {"A": 30, "B": 70, "C": 120, "D": 200}, periods=12)
    np.testing.assert_allclose(
        projection["active"] + projection["lost"], projection["active"].iloc[0] + projection["arrived"]
    )
    np.testing.assert_allclose(projection[list("ABCD")].sum(axis=1), projection["active"])
    assert projection["arrived"].iloc[-1] == 12 * matrix.counts.loc["new"].sum()


def test_projection_with_no_new_members_only_shrinks(matrix):
    projection = project_pyramid(matrix, {"A": 4, "B": 8, "C": 2, "D": 4}, periods=5, new_per_period={})
    assert (projection["arrived"] == 0).all()
    assert projection["active"].is_monotonic_decreasing
    np.testing.assert_allclose(projection["active"] + projection["lost"], 18.0)


def test_projection_keeps_members_of_a_tier_never_observed_in_place():
    # Nobody was A in 2024, so A's rates are unknown: PROJECTION_ASSUMPTION says they stay.
    flows = {"b1": ("B", "A"), "b2": ("B", "B"), "d1": ("D", "D")}
    matrix = transition_matrix(snapshots_from(flows), P1, P2)
    projection = project_pyramid(matrix, {"A": 10, "B": 4}, periods=2)
    np.testing.assert_allclose(projection["A"], [10, 12, 13])
    assert "assumed to stay" in PROJECTION_ASSUMPTION


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"periods": 0}, r"^periods must be a positive whole number; got 0$"),
        ({"periods": 1.5}, r"^periods must be a positive whole number; got 1.5$"),
        ({"start_counts": {"A": 1, "E": 2}}, r"^start_counts has unknown tier\(s\): 'E'$"),
        ({"start_counts": {"A": -1}}, r"^start_counts for tier A must be a non-negative number; got -1$"),
        ({"new_per_period": {"B": float("nan")}}, r"^new_per_period for tier B must be a non-negative number"),
    ],
)
def test_projection_refuses_bad_arguments(matrix, kwargs, message):
    arguments = {"start_counts": {"A": 1}, "periods": 2} | kwargs
    with pytest.raises(ValueError, match=message):
        project_pyramid(matrix, **arguments)


def test_projection_accepts_tier_counts_as_a_series(matrix):
    as_series = pd.Series({"A": 4, "B": 8, "C": 2, "D": 4})
    from_dict = project_pyramid(matrix, as_series.to_dict(), periods=2)
    pd.testing.assert_frame_equal(project_pyramid(matrix, as_series, periods=2), from_dict)


# ---------------------------------------------------------------------------------------------------- sankey


def test_sankey_links_carry_every_member_once(matrix):
    links = sankey_data(matrix)
    assert list(links.columns) == list(SANKEY_COLUMNS)
    assert len(links) == 11  # non-empty cells of the hand-built matrix
    assert links["value"].sum() == len(FLOWS)
    assert (links["value"] > 0).all()
    assert links["source"].between(0, 4).all() and links["target"].between(5, 9).all()
    row = links[(links["source_state"] == "B") & (links["target_state"] == "D")].iloc[0]
    assert (row["source"], row["target"], row["value"]) == (1, 8, 1)
    assert (row["source_label"], row["target_label"]) == ("B 2024", "D 2025")


def test_sankey_nodes_label_every_node_index(matrix):
    nodes = sankey_nodes(matrix)
    links = sankey_data(matrix)
    labels = dict(zip(nodes["node"], nodes["label"]))
    assert [labels[s] for s in links["source"]] == links["source_label"].tolist()
    assert [labels[t] for t in links["target"]] == links["target_label"].tolist()
    assert labels[4] == "new" and labels[9] == "lost"


# ------------------------------------------------------------------------------------- on the demo mall


def test_the_demo_pyramid_moves_identically_on_sqlite_and_postgresql(demo_sqlite_url, demo_postgres_url):
    from vipmodel.db import make_engine
    from vipmodel.demo import load_ground_truth
    from vipmodel.features import member_features

    results = []
    for url in (demo_sqlite_url, demo_postgres_url):
        engine = make_engine(url)
        with engine.connect() as conn:
            truth = load_ground_truth(conn)
            features = member_features(conn, truth.start_date, truth.end_date, period="year")
        engine.dispose()
        snaps = tier_snapshots(features)
        first, second = snaps["period"].drop_duplicates().tolist()[1:3]  # two whole calendar years
        results.append((features, snaps, transition_matrix(snaps, first, second)))

    (features, snaps, matrix), (_, pg_snaps, pg_matrix) = results
    pd.testing.assert_frame_equal(snaps, pg_snaps)
    pd.testing.assert_frame_equal(matrix.counts, pg_matrix.counts)
    # Every member present in the first year is counted once in its row, every member of the second in a column.
    in_first = features["period"].eq(matrix.from_period).sum()
    in_second = features["period"].eq(matrix.to_period).sum()
    assert matrix.counts.loc[list("ABCD")].to_numpy().sum() == in_first
    assert matrix.counts[list("ABCD")].to_numpy().sum() == in_second
    negative = features[features["profit_contribution"] < 0].set_index(["period", "member_id"]).index
    assert (snaps.set_index(["period", "member_id"]).loc[negative, "tier"] == "D").all()
