"""The one logistic-regression fit of vipmodel, with optional ridge penalty, coefficients held at 0, and
model-based or cluster-robust standard errors.

Used by :func:`vipmodel.complaints.churn_regression` (inference: clustered standard errors), the learned churn
score of :mod:`vipmodel.retention` (ridge-penalised prediction) and the sign-constrained weight fits of
:mod:`vipmodel.satisfaction` (coefficients held at 0). An unpenalised fit with standard errors -- inference -- is
statsmodels' ``Logit`` (the maintained, published implementation, cluster-robust covariance included); statsmodels
has no Newton fit with an L2 penalty or with coefficients held at 0 (its ``fit_regularized`` is an elastic-net
coordinate descent, far slower on a million member-years), so those are fitted here by Newton-Raphson (IRLS) with
step halving, and checked against statsmodels where both apply (tests/vipmodel/test_logistic.py).

Products over the rows are taken in blocks of 1,024 rows (:func:`gram`, :func:`matvec`, :func:`rmatvec`, shared
with :mod:`vipmodel.care`): one product over a million rows runs OpenBLAS multi-threaded, which a shared 2-core
machine slowed many times, and ``einsum`` over three operands does not use BLAS at all (five times slower).

References
----------
.. [1] Cameron, A. C. & Miller, D. L. (2015). A practitioner's guide to cluster-robust inference. *Journal of
   Human Resources*, 50(2), 317-372 (the sandwich with the ``G/(G-1) * (N-1)/(N-K)`` small-sample correction,
   statsmodels' default).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import stats
from scipy.special import expit, log_expit

__all__ = ["LogisticFit", "fit_logistic"]


@dataclass(frozen=True)
class LogisticFit:
    """A fitted logistic regression (:func:`fit_logistic`).

    Attributes
    ----------
    coef : ndarray
        One coefficient per design column (0 for columns held fixed).
    se : ndarray or None
        Standard errors (NaN for fixed columns); None unless asked for (``se=True`` or a ``cluster``).
    cov : ndarray or None
        Covariance of the free coefficients, in the order of the free columns; None without standard errors.
    fitted : ndarray
        Fitted probabilities of the rows.
    log_likelihood : float
        Log-likelihood at ``coef`` (without the penalty).
    log_likelihood_null : float
        Log-likelihood of the intercept-only model (the mean rate), for McFadden's pseudo-R².
    converged : bool
        Whether Newton's method converged within ``maxiter`` steps.
    n_clusters : int
        Clusters of the standard errors (rows when not clustered).
    """

    coef: np.ndarray = field(hash=False)
    se: np.ndarray | None = field(hash=False)
    cov: np.ndarray | None = field(hash=False)
    fitted: np.ndarray = field(hash=False)
    log_likelihood: float
    log_likelihood_null: float
    converged: bool
    n_clusters: int

    @property
    def pseudo_r2(self) -> float:
        """McFadden's pseudo-R²: ``1 - log_likelihood / log_likelihood_null``."""
        return 1.0 - self.log_likelihood / self.log_likelihood_null

    @property
    def z(self) -> np.ndarray:
        """``coef / se`` (needs standard errors)."""
        if self.se is None:
            raise ValueError("the fit has no standard errors: fit with se=True or a cluster")
        return self.coef / self.se

    @property
    def p_values(self) -> np.ndarray:
        """Two-sided normal p-values of :attr:`z`."""
        return 2.0 * stats.norm.sf(np.abs(self.z))

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Probabilities for the rows of ``X`` (same columns as the fitted design)."""
        return expit(np.einsum("ij,j->i", np.asarray(X, dtype=float), self.coef))


def _loss(a: np.ndarray, y: np.ndarray, theta: np.ndarray, penalty: np.ndarray) -> float:
    # -(y log s(eta) + (1 - y) log s(-eta)) = log(1 + e^eta) - y eta: one transcendental per row instead of two.
    eta = matvec(a, theta)
    return float((np.logaddexp(0.0, eta) - y * eta).sum() + 0.5 * (penalty * theta**2).sum())


_ROWS = 1024


def gram(X: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``X' diag(w) X`` in row blocks: small products keep OpenBLAS single-threaded, which on a shared 2-core
    machine is some 50x faster than one large multi-threaded product (and 3 to 7 times faster than ``einsum``,
    whose three-operand loop runs without BLAS)."""
    out = np.zeros((X.shape[1], X.shape[1]))
    for lo in range(0, len(X), _ROWS):
        block = X[lo : lo + _ROWS]
        out += (block * w[lo : lo + _ROWS, None]).T @ block
    return out


def matvec(X: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``X @ b`` in row blocks (see :func:`gram`)."""
    if len(X) <= _ROWS:
        return X @ b
    return np.concatenate([X[lo : lo + _ROWS] @ b for lo in range(0, len(X), _ROWS)])


def rmatvec(X: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``X' @ v`` in row blocks (see :func:`gram`)."""
    out = np.zeros(X.shape[1])
    for lo in range(0, len(X), _ROWS):
        out += v[lo : lo + _ROWS] @ X[lo : lo + _ROWS]
    return out


def fit_logistic(
    X: np.ndarray,
    y: np.ndarray,
    *,
    l2: float | Sequence[float] | np.ndarray = 0.0,
    ridge: float = 0.0,
    free: np.ndarray | None = None,
    se: bool = False,
    cluster: np.ndarray | None = None,
    maxiter: int = 100,
    start: np.ndarray | None = None,
) -> LogisticFit:
    """Maximum-likelihood (optionally ridge-penalised) logistic regression of ``y`` on the columns of ``X``.

    ``X`` carries its own intercept column when one is wanted. Newton-Raphson with step halving minimises
    ``-loglik + l2/2 * |theta|²``; it stops when a step changes the loss by less than ``1e-10`` (relative) or
    moves no coefficient by more than ``1e-8`` — Newton converges quadratically, so the coefficients are then at
    the optimum to rounding.

    Parameters
    ----------
    X : ndarray (n, k)
        The design.
    y : ndarray (n,)
        0/1 outcomes (as float).
    l2 : float or array of k floats
        Ridge penalty per coefficient (put 0 for the intercept); counted in the loss and the Hessian.
    ridge : float
        A tiny diagonal added to the Hessian only (not the loss): guards against an exactly singular Hessian.
    free : boolean array of k, optional
        Columns estimated; the others are held at 0.
    se : bool
        Compute model-based standard errors (the inverse of the observed information).
    cluster : array of n labels, optional
        Compute cluster-robust (sandwich) standard errors with the ``G/(G-1) * (N-1)/(N-K)`` correction [1]_.
    maxiter : int
        Newton steps at most.
    start : array of k floats, optional
        Coefficients to start Newton from (the free ones are used; default 0), e.g. a fit on similar data: a
        bootstrap replicate then converges in fewer steps to the same optimum.

    Returns
    -------
    LogisticFit

    Raises
    ------
    numpy.linalg.LinAlgError
        When the Hessian is singular (collinear columns without a penalty).
    ValueError
        ``"perfect separation or prediction detected"`` (statsmodels' check, for an unpenalised fit with
        standard errors).
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    k = X.shape[1]
    if (se or cluster is not None) and free is None and not np.any(np.asarray(l2, dtype=float)) and ridge == 0.0:
        return _statsmodels_fit(X, y, cluster, maxiter)
    cols = np.arange(k) if free is None else np.flatnonzero(free)
    a = X[:, cols]
    penalty = np.broadcast_to(np.asarray(l2, dtype=float), (k,))[cols]
    theta = np.zeros(len(cols)) if start is None else np.asarray(start, dtype=float)[cols].copy()
    guard = np.diag(penalty) + ridge * np.eye(len(cols))
    loss = _loss(a, y, theta, penalty)
    converged = False
    for _ in range(maxiter):
        p = expit(matvec(a, theta))
        grad = rmatvec(a, p - y) + penalty * theta
        hess = gram(a, p * (1.0 - p)) + guard
        step = np.linalg.solve(hess, grad)
        t = 1.0
        while True:
            candidate = theta - t * step
            new_loss = _loss(a, y, candidate, penalty)
            if new_loss <= loss + 1e-12 or t < 1e-8:
                break
            t /= 2.0
        small = abs(loss - new_loss) < 1e-10 * max(1.0, abs(loss)) or np.max(np.abs(t * step), initial=0.0) < 1e-8
        theta, loss = candidate, new_loss
        if small:
            converged = True
            break
    coef = np.zeros(k)
    coef[cols] = theta
    eta = a @ theta
    fitted = expit(eta)
    loglik = float((y * log_expit(eta) + (1.0 - y) * log_expit(-eta)).sum())
    rate = float(y.mean()) if len(y) else np.nan
    null = float(len(y) * (rate * np.log(rate) + (1.0 - rate) * np.log1p(-rate))) if 0.0 < rate < 1.0 else 0.0
    cov = se_full = None
    n_clusters = len(y)
    if se or cluster is not None:
        w = fitted * (1.0 - fitted)
        bread = np.linalg.inv(gram(a, w) + np.diag(penalty))
        if cluster is None:
            cov = bread
        else:
            groups = np.unique(np.asarray(cluster), return_inverse=True)[1].ravel()
            n_clusters = int(groups.max()) + 1 if len(groups) else 0
            scores = np.zeros((n_clusters, len(cols)))
            np.add.at(scores, groups, a * (y - fitted)[:, None])
            meat = np.einsum("gi,gj->ij", scores, scores)
            n, m = len(y), len(cols)
            correction = n_clusters / (n_clusters - 1.0) * (n - 1.0) / (n - m)
            cov = correction * bread @ meat @ bread
        se_full = np.full(k, np.nan)
        se_full[cols] = np.sqrt(np.diag(cov))
    return LogisticFit(
        coef=coef,
        se=se_full,
        cov=cov,
        fitted=fitted,
        log_likelihood=loglik,
        log_likelihood_null=null,
        converged=converged,
        n_clusters=n_clusters,
    )


def _statsmodels_fit(X: np.ndarray, y: np.ndarray, cluster: np.ndarray | None, maxiter: int) -> LogisticFit:
    """Inference: statsmodels' ``Logit`` by Newton's method, cluster-robust covariance when ``cluster`` is given."""
    import statsmodels.api as sm  # heavy import, only needed for inference
    from statsmodels.tools.sm_exceptions import ConvergenceWarning, PerfectSeparationWarning

    if cluster is not None:
        groups = np.unique(np.asarray(cluster), return_inverse=True)[1].ravel()
        n_clusters = int(groups.max()) + 1 if len(groups) else 0
        covariance: dict = {"cov_type": "cluster", "cov_kwds": {"groups": groups}}
    else:
        n_clusters, covariance = len(y), {"cov_type": "nonrobust"}
    with warnings.catch_warnings():
        warnings.simplefilter("error", PerfectSeparationWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        try:
            result = sm.Logit(y, X).fit(method="newton", maxiter=maxiter, disp=0, **covariance)
        except PerfectSeparationWarning:
            raise ValueError("perfect separation or prediction detected") from None
    return LogisticFit(
        coef=np.asarray(result.params, dtype=float),
        se=np.asarray(result.bse, dtype=float),
        cov=np.asarray(result.cov_params(), dtype=float),
        fitted=np.asarray(result.predict(), dtype=float),
        log_likelihood=float(result.llf),
        log_likelihood_null=float(result.llnull),
        converged=bool(result.mle_retvals.get("converged", True)),
        n_clusters=n_clusters,
    )
