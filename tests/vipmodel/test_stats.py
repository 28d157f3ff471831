"""Shared confidence intervals against published values (Newcombe 1998)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as scipy_stats

from vipmodel.stats import newcombe_interval, welch_interval, wilson_interval


@pytest.mark.parametrize(
    ("k", "n", "expected"),
    # Newcombe (1998a), Table I, method 3 (Wilson score).
    [(81, 263, (0.2553, 0.3662)), (15, 148, (0.0624, 0.1605)), (0, 20, (0.0, 0.1611)), (1, 29, (0.0061, 0.1718))],
)
def test_wilson_interval_matches_newcombes_table(k, n, expected):
    assert wilson_interval(k, n) == pytest.approx(expected, abs=1e-4)


def test_newcombe_difference_interval_matches_the_published_example():
    # Newcombe (1998b), example (a): 56/70 - 48/80, method 10 gives 0.0524 to 0.3339.
    assert newcombe_interval(56, 70, 48, 80) == pytest.approx((0.0524, 0.3339), abs=1e-4)


def test_welch_interval_matches_scipy():
    rng = np.random.default_rng(3)
    a, b = rng.normal(10, 2, 40), rng.normal(9, 4, 25)
    expected = scipy_stats.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
    assert welch_interval(a, b) == pytest.approx((expected.low, expected.high), rel=1e-9)


@pytest.mark.parametrize(
    ("k", "n", "confidence", "message"),
    [(1, 0, 0.95, "n must be at least 1"), (5, 4, 0.95, "successes must be between 0 and n"),
     (1, 4, 1.0, "confidence must be between 0 and 1")],
)
def test_wilson_interval_rejects_impossible_input(k, n, confidence, message):
    with pytest.raises(ValueError, match=message):
        wilson_interval(k, n, confidence)
