"""Confidence intervals shared by the analyses (complaints, care campaigns, satisfaction).

References
----------
.. [1] Wilson, E. B. (1927). Probable inference, the law of succession, and statistical inference. *Journal of
   the American Statistical Association* 22(158), 209-212.
.. [2] Newcombe, R. G. (1998). Two-sided confidence intervals for the single proportion: comparison of seven
   methods. *Statistics in Medicine* 17(8), 857-872.
.. [3] Newcombe, R. G. (1998). Interval estimation for the difference between independent proportions:
   comparison of eleven methods. *Statistics in Medicine* 17(8), 873-890.
.. [4] Welch, B. L. (1947). The generalization of "Student's" problem when several different population
   variances are involved. *Biometrika* 34(1-2), 28-35.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion [1]_ (recommended over the Wald interval by [2]_).

    Parameters
    ----------
    successes, n : int
        Events and trials, ``0 <= successes <= n``, ``n >= 1``.
    confidence : float
        Two-sided confidence level in (0, 1).

    Returns
    -------
    tuple of float
        ``(low, high)``, always inside [0, 1].

    Raises
    ------
    ValueError
        ``"n must be at least 1"``, ``"successes must be between 0 and n"``,
        ``"confidence must be between 0 and 1"``.
    """
    if n < 1:
        raise ValueError("n must be at least 1")
    if not 0 <= successes <= n:
        raise ValueError("successes must be between 0 and n")
    if not 0.0 < confidence < 1.0:
        raise ValueError("confidence must be between 0 and 1")
    z = float(stats.norm.ppf(0.5 + confidence / 2.0))
    p = successes / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2.0 * n)) / denom
    half = z * math.sqrt(p * (1.0 - p) / n + z * z / (4.0 * n * n)) / denom
    # The endpoints are exactly 0 / 1 at p = 0 / 1; clipping removes rounding noise there.
    return max(0.0, centre - half), min(1.0, centre + half)


def newcombe_interval(x1: int, n1: int, x2: int, n2: int, confidence: float = 0.95) -> tuple[float, float]:
    """Newcombe's hybrid score interval for ``x1/n1 - x2/n2`` (method 10 of [3]_)."""
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson_interval(x1, n1, confidence)
    l2, u2 = wilson_interval(x2, n2, confidence)
    d = p1 - p2
    return (d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2))


def welch_interval(a: np.ndarray, b: np.ndarray, confidence: float = 0.95) -> tuple[float, float]:
    """Welch interval for ``mean(a) - mean(b)`` with Welch-Satterthwaite degrees of freedom [4]_."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if len(a) < 2 or len(b) < 2:
        raise ValueError("each group needs at least 2 members for a Welch interval")
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    d = a.mean() - b.mean()
    se = math.sqrt(va + vb)
    if se == 0:
        return d, d
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    q = stats.t.ppf(0.5 + confidence / 2, df)
    return d - q * se, d + q * se
