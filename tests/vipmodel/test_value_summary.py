"""Lifetime value by tier in a few numbers: box statistics against numpy, totals against pandas, reason flags."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from vipmodel.retention import NO_CLEAR_REASON, REASONS
from vipmodel.value_summary import (
    CLV_FLOOR,
    MAX_OUTLIERS,
    box_statistics,
    clv_boxes,
    is_skewed,
    reason_flags,
    tier_value_summary,
)

TIERS = ["A", "B", "C", "D", "inactive"]


def _members(seed: int, n: int = 3_000) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    clv = rng.lognormal(5, 2, n)
    clv[rng.random(n) < 0.05] = 0.0  # members valued at nothing
    clv[rng.random(n) < 0.05] = rng.uniform(1e-9, 1e-6)  # fractions of a fen: no purchase expected
    simple = rng.normal(500, 300, n)
    simple[rng.random(n) < 0.1] = np.nan  # undefined simple value
    return pd.DataFrame({"tier": rng.choice(TIERS, n, p=[0.02, 0.08, 0.2, 0.5, 0.2]), "model_clv": clv,
                         "simple_clv": simple})


# --- is_skewed ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("decades", [1.0, 2.0, 3.0])
def test_values_are_skewed_exactly_when_their_5th_to_95th_percentile_ratio_exceeds_the_decades(seed, decades):
    values = np.random.default_rng(seed).lognormal(4, 1.5, 1_000)
    low, high = np.percentile(values, [5, 95])
    assert is_skewed(values, decades) is bool(np.log10(high / low) > decades)


@pytest.mark.parametrize(
    ("values", "skewed"),
    [
        (np.array([0.0, -3.0, np.nan, np.inf, 5.0]), False),  # one usable value: no spread
        (np.array([-1e6, 10.0, 20.0, 30.0]), False),  # a negative value is ignored, not a spread
        (np.array([]), False),
    ],
)
def test_only_positive_finite_values_count_towards_skew(values, skewed):
    assert is_skewed(values) is skewed


# --- box_statistics ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [4, 5, 6])
@pytest.mark.parametrize("n", [1, 7, 1_000])
def test_box_statistics_are_tukeys_with_numpy_percentiles(seed, n):
    values = np.random.default_rng(seed).lognormal(3, 1.2, n)
    stats = box_statistics(values)
    q1, median, q3 = np.percentile(values, [25, 50, 75])
    iqr = q3 - q1
    inside = values[(values >= q1 - 1.5 * iqr) & (values <= q3 + 1.5 * iqr)]
    assert (stats["q1"], stats["median"], stats["q3"]) == pytest.approx((q1, median, q3))
    assert stats["lowerfence"] == inside.min() and stats["upperfence"] == inside.max()
    outside = np.sort(values[(values < inside.min()) | (values > inside.max())])
    np.testing.assert_array_equal(stats["outliers"], outside)  # fewer than the cap: every one, lowest first
    assert stats["n"] == n


@pytest.mark.parametrize("max_outliers", [1, 5, MAX_OUTLIERS])
def test_a_box_keeps_only_the_most_extreme_outliers_on_each_side(max_outliers):
    rng = np.random.default_rng(7)
    values = np.concatenate([rng.normal(100, 1, 10_000), rng.uniform(1_000, 2_000, 400),
                             rng.uniform(-2_000, -1_000, 400)])
    stats = box_statistics(values, max_outliers=max_outliers)
    ordered = np.sort(values)
    expected = np.concatenate([ordered[:max_outliers], ordered[-max_outliers:]])
    np.testing.assert_array_equal(stats["outliers"], expected)


# --- clv_boxes ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [8, 9, 10])
def test_log_boxes_describe_each_tier_from_the_floor_up_and_count_the_rest(seed):
    frame = _members(seed)
    boxes = clv_boxes(frame, TIERS, log=True)
    assert boxes["log"] is True and boxes["floor"] == CLV_FLOOR
    assert boxes["non_positive"] == int((frame["model_clv"] < CLV_FLOOR).sum())
    for tier in TIERS:
        values = frame.loc[frame["tier"] == tier, "model_clv"].to_numpy()
        values = values[values >= CLV_FLOOR]
        q1, median, q3 = np.percentile(values, [25, 50, 75])
        box = boxes["boxes"][tier]
        assert (box["q1"], box["median"], box["q3"]) == pytest.approx((q1, median, q3))
        assert box["n"] == len(values)


@pytest.mark.parametrize("seed", [11, 12])
def test_linear_boxes_keep_zero_values_and_count_members_at_or_below_zero(seed):
    frame = _members(seed)
    boxes = clv_boxes(frame, TIERS, log=False)
    assert boxes["non_positive"] == int((frame["model_clv"] <= 0).sum())
    for tier in TIERS:
        values = frame.loc[frame["tier"] == tier, "model_clv"].to_numpy()
        assert boxes["boxes"][tier]["median"] == pytest.approx(np.median(values))
        assert boxes["boxes"][tier]["n"] == len(values)


@pytest.mark.parametrize("seed", [13, 14])
def test_without_a_choice_the_scale_follows_the_skew_of_every_member(seed):
    frame = _members(seed)
    assert clv_boxes(frame, TIERS)["log"] is is_skewed(frame["model_clv"])
    narrow = frame.assign(model_clv=np.random.default_rng(seed).uniform(100, 200, len(frame)))
    assert clv_boxes(narrow, TIERS)["log"] is False


def test_a_tier_without_members_or_not_asked_for_has_no_box():
    frame = pd.DataFrame({"tier": ["A", "A", "B", "C"], "model_clv": [10.0, 20.0, 0.5, np.nan]})
    boxes = clv_boxes(frame, ["A", "B", "C", "D"], log=True)
    assert list(boxes["boxes"]) == ["A"]  # B is below the floor, C undefined, D has nobody
    assert boxes["non_positive"] == 1  # NaN is neither drawn nor counted below the floor
    assert clv_boxes(frame.iloc[:0], ["A"], log=False) == {"log": False, "boxes": {}, "non_positive": 0,
                                                           "floor": CLV_FLOOR}


# --- tier_value_summary ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [15, 16, 17])
def test_tier_summary_matches_pandas_by_hand_and_keeps_undefined_totals_undefined(seed):
    frame = _members(seed, n=500)
    frame.loc[frame["tier"] == "A", "simple_clv"] = np.nan  # a tier without any defined simple value
    summary = tier_value_summary(frame)
    assert list(summary.columns) == ["members", "model_clv_total", "simple_clv_total", "model_clv_median",
                                     "simple_clv_median"]
    assert list(summary.index) == sorted(frame["tier"].unique())
    for tier, rows in frame.groupby("tier"):
        assert summary.loc[tier, "members"] == len(rows)
        assert summary.loc[tier, "model_clv_total"] == pytest.approx(rows["model_clv"].sum())
        assert summary.loc[tier, "model_clv_median"] == pytest.approx(rows["model_clv"].median())
        simple = rows["simple_clv"].dropna()
        if simple.empty:
            assert np.isnan(summary.loc[tier, "simple_clv_total"])
        else:
            assert summary.loc[tier, "simple_clv_total"] == pytest.approx(simple.sum())
            assert summary.loc[tier, "simple_clv_median"] == pytest.approx(simple.median())


def test_a_summary_of_nobody_is_empty():
    summary = tier_value_summary(pd.DataFrame({"tier": [], "model_clv": [], "simple_clv": []}))
    assert summary.empty


# --- reason_flags ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [18, 19, 20])
def test_each_reason_flag_is_true_exactly_for_the_members_with_that_reason(seed):
    rng = np.random.default_rng(seed)
    reasons = [tuple(rng.choice(REASONS, int(rng.integers(0, 4)), replace=False)) for _ in range(400)]
    frame = pd.DataFrame({"member_id": [f"M{k}" for k in range(400)], "reasons": reasons},
                         index=rng.permutation(400))
    flags = reason_flags(frame)
    assert list(flags.columns) == [f"reason:{code}" for code in [*REASONS, NO_CLEAR_REASON]]
    assert (flags.dtypes == bool).all() and flags.index.equals(frame.index)
    for code in REASONS:
        assert flags[f"reason:{code}"].tolist() == [code in r for r in reasons]
    assert flags[f"reason:{NO_CLEAR_REASON}"].tolist() == [len(r) == 0 for r in reasons]


def test_reason_flags_of_nobody_keep_their_columns():
    flags = reason_flags(pd.DataFrame({"reasons": pd.Series([], dtype=object)}))
    assert flags.empty and len(flags.columns) == len(REASONS) + 1 and (flags.dtypes == bool).all()


# --- contracts ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: clv_boxes(pd.DataFrame({"model_clv": [1.0]}), ["A"]), "frame is missing columns: tier$"),
        (lambda: clv_boxes(pd.DataFrame({"x": [1.0]}), ["A"]), "frame is missing columns: tier, model_clv$"),
        (lambda: clv_boxes([1.0], ["A"]), "frame must be a pandas DataFrame, got list$"),
        (lambda: tier_value_summary(pd.DataFrame({"tier": ["A"], "model_clv": [1.0]})),
         "frame is missing columns: simple_clv$"),
        (lambda: reason_flags(pd.DataFrame({"member_id": ["M1"]})), "frame is missing columns: reasons$"),
    ],
)
def test_missing_columns_are_named_in_the_shared_format(call, message):
    with pytest.raises(ValueError, match=message):
        call()
