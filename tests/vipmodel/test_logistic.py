"""vipmodel.logistic.fit_logistic against statsmodels (estimates, model-based and clustered standard errors,
log-likelihoods) and against the penalised and restricted problems it also solves."""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import optimize
from scipy.special import log_expit

from vipmodel.logistic import fit_logistic


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(7)
    n = 2000
    X = np.column_stack([np.ones(n), rng.poisson(0.4, n), rng.normal(size=n), rng.normal(size=n)])
    y = (rng.random(n) < 1 / (1 + np.exp(-(-1.0 + 0.6 * X[:, 1] + 0.3 * X[:, 2])))).astype(float)
    groups = rng.integers(0, 700, n)
    return X, y, groups


@pytest.mark.parametrize("clustered", [False, True])
def test_the_fit_matches_statsmodels_logit(data, clustered):
    X, y, groups = data
    cov = {"cov_type": "cluster", "cov_kwds": {"groups": groups}} if clustered else {"cov_type": "nonrobust"}
    ref = sm.Logit(y, X).fit(method="newton", disp=0, **cov)
    fit = fit_logistic(X, y, se=True, cluster=groups if clustered else None)
    np.testing.assert_allclose(fit.coef, ref.params, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(fit.se, ref.bse, rtol=1e-8)
    np.testing.assert_allclose(fit.p_values, ref.pvalues, rtol=1e-7, atol=1e-15)
    assert fit.log_likelihood == pytest.approx(ref.llf, rel=1e-12)
    assert fit.pseudo_r2 == pytest.approx(ref.prsquared, rel=1e-8)
    assert fit.converged and fit.n_clusters == (len(np.unique(groups)) if clustered else len(y))
    np.testing.assert_allclose(fit.predict(X), ref.predict(X), rtol=1e-9)


def test_the_own_newton_fit_finds_statsmodels_estimates_and_standard_errors(data):
    """The Newton fit the penalised and restricted problems use, with no penalty, is the maximum-likelihood fit."""
    X, y, _ = data
    ref = sm.Logit(y, X).fit(method="newton", disp=0)
    fit = fit_logistic(X, y, free=np.ones(X.shape[1], dtype=bool), se=True)  # all free: the own Newton path
    np.testing.assert_allclose(fit.coef, ref.params, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(fit.se, ref.bse, rtol=1e-8)
    assert fit.log_likelihood == pytest.approx(ref.llf, rel=1e-12)


def test_perfect_separation_is_refused_for_inference():
    X = np.column_stack([np.ones(40), np.r_[np.zeros(20), np.ones(20)]])
    y = np.r_[np.zeros(20), np.ones(20)]
    with pytest.raises(ValueError, match="perfect separation"):
        fit_logistic(X, y, se=True)


def test_a_ridge_penalty_and_fixed_columns_solve_their_own_problems(data):
    X, y, _ = data
    penalty = np.array([0.0, 5.0, 5.0, 5.0])

    def objective(theta):
        eta = X @ theta
        return -(y * log_expit(eta) + (1 - y) * log_expit(-eta)).sum() + 0.5 * (penalty * theta**2).sum()

    direct = optimize.minimize(objective, np.zeros(4), method="BFGS", options={"gtol": 1e-10}).x
    np.testing.assert_allclose(fit_logistic(X, y, l2=penalty).coef, direct, atol=1e-5)
    free = np.array([True, True, False, True])
    restricted = fit_logistic(X, y, free=free)
    assert restricted.coef[2] == 0.0
    np.testing.assert_allclose(restricted.coef[free], sm.Logit(y, X[:, free]).fit(disp=0).params, rtol=1e-8)
    with pytest.raises(ValueError, match="no standard errors"):
        _ = restricted.z


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_newton_from_another_start_reaches_the_same_optimum(data, seed):
    X, y, _ = data
    free = np.array([True, True, False, True])
    start = np.random.default_rng(seed).normal(0.0, 2.0, X.shape[1])  # far off, and a value for the fixed column
    from_zero = fit_logistic(X, y, free=free, l2=0.5)
    from_start = fit_logistic(X, y, free=free, l2=0.5, start=start)
    assert from_start.converged and from_start.coef[2] == 0.0
    np.testing.assert_allclose(from_start.coef, from_zero.coef, rtol=1e-7, atol=1e-9)
