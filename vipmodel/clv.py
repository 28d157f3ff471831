"""Customer lifetime value: BG/NBD purchase model, Gamma-Gamma spend model, and the values built on them.

Models
------
* :class:`BetaGeoModel` -- the BG/NBD model of Fader, Hardie & Lee (2005a): while alive a member buys as a
  Poisson process with rate ``lambda ~ Gamma(r, alpha)``; after every purchase they drop out for good with
  probability ``p ~ Beta(a, b)``. It predicts how many purchases each member will make and whether they
  are still "alive" (will buy again), from three numbers per member.
* :class:`GammaGammaModel` -- the spend model of Fader, Hardie & Lee (2005b): the value of each purchase is
  ``Gamma(p, nu)`` with ``nu ~ Gamma(q, gamma)`` across members, independent of the purchase process.
* :func:`lifetime_value` combines both into a discounted expected profit over a horizon;
  :func:`simple_lifetime_value` is the rule of thumb from the mall's documents (life cycle in years x annual
  profit), and :func:`expected_lifetime_years` is the BG/NBD's answer to "how many years" for that rule.

Input columns (one row per member, the "RFM summary" of the literature)
-----------------------------------------------------------------------
``frequency``
    Number of *repeat* purchases in the calibration window (distinct purchase days minus one), int >= 0.
``recency``
    Age of the member at their last repeat purchase (time from first to last purchase); 0 when
    ``frequency == 0``.
``T``
    Age of the member at the end of the calibration window (time from first purchase to window end).
``monetary_value``
    Mean value of the repeat purchases (the first purchase is excluded); only used for ``frequency > 0``.

``recency`` and ``T`` must share one time unit, the model's *period* (weeks in the literature's examples).
Every horizon ``t`` given to a fitted model is in that same unit.

References
----------
.. [1] Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005a). "Counting Your Customers" the Easy Way: An
   Alternative to the Pareto/NBD Model. *Marketing Science* 24(2), 275-284.
.. [2] Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005b). RFM and CLV: Using Iso-Value Curves for
   Customer Base Analysis. *Journal of Marketing Research* 42(4), 415-430.
.. [3] Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2008). Computing P(alive) using the BG/NBD model.
   http://brucehardie.com/notes/021/
.. [4] Fader, P. S. & Hardie, B. G. S. (2013). The Gamma-Gamma Model of Monetary Value.
   http://brucehardie.com/notes/025/
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize
from scipy.special import betaincinv, betaln, digamma, expit, gammaln, hyp2f1, roots_jacobi

from vipmodel.contracts import require_columns

__all__ = [
    "BETA_GEO_PARAMS",
    "GAMMA_GAMMA_PARAMS",
    "BetaGeoModel",
    "GammaGammaModel",
    "HoldoutMetrics",
    "SpendFrequencyCorrelationWarning",
    "UndefinedSpendWarning",
    "ZeroSpendWarning",
    "expected_lifetime_years",
    "holdout_fit_metrics",
    "holdout_fit_table",
    "lifetime_value",
    "simple_lifetime_value",
    "simulate_beta_geo",
]

BETA_GEO_PARAMS: tuple[str, ...] = ("r", "alpha", "a", "b")
GAMMA_GAMMA_PARAMS: tuple[str, ...] = ("p", "q", "gamma")
BETA_GEO_COLUMNS: tuple[str, ...] = ("frequency", "recency", "T")
GAMMA_GAMMA_COLUMNS: tuple[str, ...] = ("frequency", "monetary_value")

# Above this |Pearson correlation| between frequency and mean spend among repeat buyers, the Gamma-Gamma
# independence assumption is visibly violated (FHL 2005b report 0.11 on CDNOW and call it "weak").
CORRELATION_WARNING_THRESHOLD = 0.3

_Z95 = 1.959963984540054


def _dot(u: np.ndarray, v: np.ndarray) -> float:
    """Inner product without BLAS: ``np.dot`` on long vectors starts OpenBLAS threads, which on a small
    shared machine made each likelihood evaluation up to 10x slower; einsum's loop is single-threaded SIMD.
    """
    return float(np.einsum("i,i->", u, v))


class SpendFrequencyCorrelationWarning(UserWarning):
    """Spend and purchase frequency are correlated, so the Gamma-Gamma model's independence assumption fails."""


class UndefinedSpendWarning(UserWarning):
    """The Gamma-Gamma posterior mean spend is infinite for some members (heavy-tailed spend, q <= 1)."""


class ZeroSpendWarning(UserWarning):
    """Some repeat buyers spent nothing on average and were left out of the Gamma-Gamma fit."""


# --------------------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------------------


def _require_frame(df: object, columns: tuple[str, ...]) -> pd.DataFrame:
    df = require_columns(df, columns, "df")
    for c in columns:
        if not pd.api.types.is_numeric_dtype(df[c]) or pd.api.types.is_bool_dtype(df[c]):
            raise ValueError(f"column {c} must be numeric")
        if df[c].isna().any():
            raise ValueError(f"column {c} contains missing values (NaN)")
        if not np.isfinite(df[c].to_numpy(dtype=float)).all():
            raise ValueError(f"column {c} contains infinite values")
    return df


def _frequency_array(df: pd.DataFrame) -> np.ndarray:
    x = df["frequency"].to_numpy(dtype=float)
    if (x < 0).any():
        raise ValueError("column frequency must be >= 0")
    if (x != np.round(x)).any():
        raise ValueError("column frequency must hold whole numbers (repeat purchases)")
    return x


def _rfm_arrays(df: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validated ``frequency``, ``recency``, ``T`` as float arrays."""
    frame = _require_frame(df, BETA_GEO_COLUMNS)
    x = _frequency_array(frame)
    tx = frame["recency"].to_numpy(dtype=float)
    T = frame["T"].to_numpy(dtype=float)
    if (tx < 0).any():
        raise ValueError("column recency must be >= 0")
    if (T < 0).any():
        raise ValueError("column T must be >= 0")
    # Recency and T are often computed separately (days / 7): forgive rounding, not real inconsistencies.
    if (tx > T + 1e-9 * np.maximum(T, 1.0)).any():
        raise ValueError("recency must not exceed T (the last purchase cannot be after the end of observation)")
    tx = np.minimum(tx, T)
    if ((x == 0) & (tx != 0)).any():
        raise ValueError("recency must be 0 when frequency is 0")
    if ((x > 0) & (tx == 0)).any():
        raise ValueError("recency must be > 0 when frequency > 0 (repeat purchases happen after the first)")
    return x, tx, T


def _weight_array(df: pd.DataFrame, weights: str | None) -> np.ndarray | None:
    if weights is None:
        return None
    require_columns(df, (weights,), "df")
    w = df[weights].to_numpy(dtype=float)
    if np.isnan(w).any() or (w < 0).any():
        raise ValueError(f"column {weights} must hold non-negative counts")
    if w.sum() <= 0:
        raise ValueError("empty input: no members to work on")
    return w


def _check_horizon(t: float, name: str = "t") -> float:
    t = float(t)
    if not np.isfinite(t) or t < 0:
        raise ValueError(f"{name} must be a finite number >= 0")
    return t


def _group_rows(
    *cols: np.ndarray, weights: np.ndarray | None
) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """Collapse identical rows to unique rows: (unique columns, counts, row -> unique index).

    Hash-based (``pandas.factorize``) because sorting a million rows costs more than the whole model fit.
    """
    key = np.zeros(len(cols[0]), dtype=np.int64)
    col_uniques = []
    for col in cols:
        codes, uniques = pd.factorize(col)
        col_uniques.append(np.asarray(uniques))
        key *= len(uniques)
        key += codes
    inverse, key_uniques = pd.factorize(key)
    counts = np.bincount(inverse, weights=weights, minlength=len(key_uniques))
    # Decode each distinct key back into its column values (mixed-radix digits, last column first).
    rest = np.asarray(key_uniques, dtype=np.int64)
    unique_cols: list[np.ndarray] = []
    for uniques in reversed(col_uniques):
        rest, digit = np.divmod(rest, len(uniques))
        unique_cols.append(uniques[digit])
    return unique_cols[::-1], counts, inverse


# --------------------------------------------------------------------------------------------------------
# Shared estimator machinery
# --------------------------------------------------------------------------------------------------------


def _fit_log_params(
    objective: Callable[[np.ndarray], tuple[float, np.ndarray]],
    start: np.ndarray,
    tol: float,
    maxiter: int,
) -> optimize.OptimizeResult:
    """Minimise ``objective`` (value and gradient) over log-parameters.

    SLSQP rather than L-BFGS-B: on a small shared machine L-BFGS-B's calls into multi-threaded OpenBLAS
    cost milliseconds per iteration and leave spinning threads that slowed the likelihood itself 3-4x;
    SLSQP needs as few evaluations here and does not wake those threads.
    """
    return optimize.minimize(
        objective,
        np.log(start),
        jac=True,
        method="SLSQP",
        # Parameters live on the log scale; the box only keeps exp() finite during line searches.
        bounds=[(-30.0, 30.0)] * len(start),
        options={"maxiter": maxiter, "ftol": tol * 1e-4},
    )


def _hessian_from_gradient(grad: Callable[[np.ndarray], np.ndarray], theta: np.ndarray) -> np.ndarray:
    """Forward finite differences of an analytic gradient, symmetrised.

    Forward rather than central differences: k + 1 gradient evaluations instead of 2k, and a relative
    error of ~1e-6 is far below what a standard error needs.
    """
    k = len(theta)
    h = np.empty((k, k))
    g0 = grad(theta)
    for j in range(k):
        step = 1e-6 * max(1.0, abs(theta[j]))
        up = theta.copy()
        up[j] += step
        h[:, j] = (grad(up) - g0) / step
    return (h + h.T) / 2


def _standard_errors(
    total_grad: Callable[[np.ndarray], np.ndarray], log_params: np.ndarray, names: tuple[str, ...]
) -> pd.Series:
    """Standard errors of the natural parameters from the inverse Hessian of the total negative log-likelihood.

    The Hessian is taken on the log scale (where the optimiser worked) and mapped back with the delta
    method, ``Cov(theta) = D Cov(log theta) D`` with ``D = diag(theta)``; at an unpenalised optimum this
    equals inverting the Hessian in the natural parameters.
    """
    hess = _hessian_from_gradient(total_grad, log_params)
    theta = np.exp(log_params)
    try:
        cov_log = np.linalg.inv(hess)
        # A Hessian that is not positive definite (flat or boundary optimum) has no standard errors: NaN.
        with np.errstate(invalid="ignore"):
            se = theta * np.sqrt(np.diag(cov_log))
    except np.linalg.LinAlgError:
        se = np.full(len(theta), np.nan)
    return pd.Series(np.where(np.isfinite(se), se, np.nan), index=list(names), dtype=float)


def _summary_frame(params: pd.Series, se: pd.Series) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "parameter": list(params.index),
            "estimate": params.to_numpy(),
            "std_error": se.to_numpy(),
            "ci_lower": params.to_numpy() - _Z95 * se.to_numpy(),
            "ci_upper": params.to_numpy() + _Z95 * se.to_numpy(),
        }
    )


class _Fitted:
    params_: pd.Series

    def _check_fitted(self) -> None:
        if not hasattr(self, "params_"):
            raise ValueError(f"{type(self).__name__} is not fitted yet: call fit() first")


# --------------------------------------------------------------------------------------------------------
# BG/NBD
# --------------------------------------------------------------------------------------------------------


class _BetaGeoData:
    """Sufficient statistics of the BG/NBD likelihood, indexed so each evaluation touches few distinct values.

    The likelihood depends on ``x`` only through a handful of special functions, and on ``T`` and ``t_x``
    only through ``log(alpha + .)``; those are evaluated once per distinct value and gathered per row.
    Members without repeat purchases depend on ``T`` alone and are kept as counts per distinct ``T``.
    """

    def __init__(self, x: np.ndarray, tx: np.ndarray, T: np.ndarray, w: np.ndarray) -> None:
        self.n = float(w.sum())
        self.x_u, x_idx = np.unique(x, return_inverse=True)
        self.w_by_x = np.bincount(x_idx, weights=w, minlength=len(self.x_u))
        T_idx, T_u = pd.factorize(T)
        tx_idx, tx_u = pd.factorize(tx)
        self.T_u = np.asarray(T_u, dtype=float)
        self.tx_u = np.asarray(tx_u, dtype=float)
        zero = x == 0
        self.zero_w_by_T = np.bincount(T_idx[zero], weights=w[zero], minlength=len(self.T_u))
        rep = ~zero
        self.rx = x[rep]
        self.rw = w[rep]
        self.rwx = self.rw * self.rx
        self.rx_idx = x_idx[rep]
        self.rT_idx = T_idx[rep]
        self.rtx_idx = tx_idx[rep]


def _beta_geo_loglik(log_params: np.ndarray, d: _BetaGeoData, with_grad: bool = True) -> tuple[float, np.ndarray]:
    """Total log-likelihood of BG/NBD (FHL 2005a, eq. 6) and its gradient with respect to log-parameters.

    Written for speed on ~10^6 rows: every per-row array operation is counted, constants per distinct
    ``x``/``T``/``t_x`` are computed on the small tables, and ``exp`` is taken once for both the
    log-sum-exp and its derivative.
    """
    r, alpha, a, b = np.exp(log_params)
    xu = d.x_u
    has_rep = xu > 0
    # Per distinct x: log[Gamma(r+x) alpha^r / Gamma(r)] + log[B(a, b+x) / B(a, b)]
    a12 = gammaln(r + xu) - gammaln(r) + r * np.log(alpha) + betaln(a, b + xu) - betaln(a, b)
    log_aT = np.log(alpha + d.T_u)
    log_atx = np.log(alpha + d.tx_u)
    ll = _dot(d.w_by_x, a12) - r * _dot(d.zero_w_by_T, log_aT)  # x == 0: (alpha+T)^-r
    # x > 0: log[(alpha+T)^-(r+x) + a/(b+x-1) (alpha+t_x)^-(r+x)] = -(r+x) log(alpha+T) + softplus(delta)
    log_ratio = np.log(a) - np.log(np.where(has_rep, b + xu - 1.0, 1.0))
    lT = log_aT.take(d.rT_idx)
    diff = lT - log_atx.take(d.rtx_idx)
    delta = d.rx + r
    delta *= diff
    delta += log_ratio.take(d.rx_idx)
    e = np.abs(delta)
    np.negative(e, out=e)
    np.exp(e, out=e)
    softplus = np.log1p(e)
    pos = delta > 0
    softplus += np.where(pos, delta, 0.0)
    rw_lT = _dot(d.rw, lT)
    ll += _dot(d.rw, softplus) - r * rw_lT - _dot(d.rwx, lT)
    if not with_grad:
        return ll, np.empty(0)

    # Weight of the "dropped out right after t_x" branch, expit(delta), from the same exp(-|delta|).
    e1 = e + 1.0
    w4 = np.where(pos, 1.0, e)
    w4 /= e1
    w4 *= d.rw
    inv_T = 1.0 / (alpha + d.T_u)
    inv_tx = 1.0 / (alpha + d.tx_u)
    iT = inv_T.take(d.rT_idx)
    itx_minus_iT = inv_tx.take(d.rtx_idx)
    itx_minus_iT -= iT
    w4_by_x = np.bincount(d.rx_idx, weights=w4, minlength=len(xu))

    g_r = _dot(d.w_by_x, digamma(r + xu) - digamma(r) + np.log(alpha))
    g_r += -_dot(d.zero_w_by_T, log_aT) - rw_lT + _dot(w4, diff)
    g_alpha = r / alpha * d.n - r * _dot(d.zero_w_by_T, inv_T)
    # sum w (r+x) [iT + w4 (itx - iT)], split so no per-row (r + x) array is needed
    w4 *= itx_minus_iT
    g_alpha -= r * _dot(d.rw, iT) + _dot(d.rwx, iT) + r * float(w4.sum())
    g_alpha -= _dot(w4, d.rx)
    dig_ab, dig_abx = digamma(a + b), digamma(a + b + xu)
    g_a = _dot(d.w_by_x, dig_ab - dig_abx) + float(w4_by_x.sum()) / a
    inv_bx = np.where(has_rep, 1.0 / np.where(has_rep, b + xu - 1.0, 1.0), 0.0)
    g_b = _dot(d.w_by_x, digamma(b + xu) - dig_abx - digamma(b) + dig_ab) - _dot(w4_by_x, inv_bx)
    return ll, np.array([g_r * r, g_alpha * alpha, g_a * a, g_b * b])


class BetaGeoModel(_Fitted):
    """BG/NBD ("beta-geometric / negative binomial") model of repeat purchasing, fitted by maximum likelihood.

    Parameters
    ----------
    penalizer : float, default 0.0
        L2 penalty ``penalizer * sum(theta**2)`` added to the *mean* negative log-likelihood (the same
        convention as the ``lifetimes`` library). Use a small value (e.g. 0.001) when the optimiser drifts
        to extreme ``a``/``b`` on small or odd data; 0 gives the plain maximum-likelihood estimates.
    tol : float, default 1e-8
        Gradient tolerance of the optimiser (on the mean log-likelihood, log-parameter scale).
    maxiter : int, default 2000
        Maximum optimiser iterations.

    Attributes
    ----------
    params_ : pandas.Series
        Estimates of ``r``, ``alpha`` (purchase rate ``lambda ~ Gamma(shape=r, rate=alpha)``, in purchases per
        period) and ``a``, ``b`` (dropout probability ``p ~ Beta(a, b)``).
    standard_errors_ : pandas.Series
        Asymptotic standard errors from the inverse Hessian of the negative log-likelihood at the optimum.
    log_likelihood_ : float
        Maximised log-likelihood (without the penalty).
    n_customers_ : int
        Members the model was fitted on (sum of weights).
    n_unique_rows_ : int
        Distinct ``(frequency, recency, T)`` rows the likelihood was evaluated on.
    converged_ : bool
        Whether the optimiser reported convergence.

    Notes
    -----
    Fitting collapses identical rows into counts, evaluates special functions once per distinct value
    of ``frequency``, ``recency`` and ``T``, and uses the analytic gradient, so a million members fit in
    well under a second when ages are measured in whole days.

    References
    ----------
    Fader, Hardie & Lee (2005a), see module docstring; the CDNOW estimates ``r = 0.243, alpha = 4.414,
    a = 0.793, b = 2.426`` (log-likelihood -9582.4) are reproduced by the tests.
    """

    def __init__(self, penalizer: float = 0.0, tol: float = 1e-8, maxiter: int = 2000) -> None:
        if penalizer < 0:
            raise ValueError("penalizer must be >= 0")
        self.penalizer = penalizer
        self.tol = tol
        self.maxiter = maxiter

    # -- fitting --------------------------------------------------------------------------------------

    def fit(self, df: pd.DataFrame, weights: str | None = None) -> BetaGeoModel:
        """Estimate ``r, alpha, a, b`` from an RFM summary.

        Parameters
        ----------
        df : pandas.DataFrame
            Columns ``frequency`` (repeat purchases, whole number >= 0), ``recency`` (age at last repeat
            purchase, 0 when ``frequency == 0``) and ``T`` (age at the end of observation), with
            ``0 <= recency <= T``; one row per member (or per group of identical members, see ``weights``).
        weights : str, optional
            Name of a column of non-negative counts: each row then stands for that many identical members.

        Returns
        -------
        BetaGeoModel
            ``self``, fitted.

        Raises
        ------
        ValueError
            On a missing column (``"df is missing columns: recency"``), an empty frame
            (``"df is empty (no rows)"``), NaN or negative values, ``recency > T``, or when no member made a
            repeat purchase (the dropout process is then not identified).
        """
        x, tx, T = _rfm_arrays(df)
        w = _weight_array(df, weights)
        if w is None:
            w = np.ones(len(x))
        if not (w[x > 0] > 0).any():
            raise ValueError(
                "no member made a repeat purchase: the data cannot identify the BG/NBD model "
                "(frequency is 0 for everyone)"
            )
        if not (w[T > 0] > 0).any():
            raise ValueError("T is 0 for every member: the data cannot identify the BG/NBD model")
        (x, tx, T), w, _ = _group_rows(x, tx, T, weights=w)
        data = _BetaGeoData(x, tx, T, w)
        n = data.n
        penalizer = self.penalizer

        def objective(log_params: np.ndarray) -> tuple[float, np.ndarray]:
            ll, grad = _beta_geo_loglik(log_params, data)
            theta = np.exp(log_params)
            value = -ll / n + penalizer * float(np.sum(theta**2))
            g = -grad / n + penalizer * 2.0 * theta**2
            return value, g

        # Gamma mean r/alpha = observed repeat rate; the dropout half starts neutral at Beta(1, 2).
        rate = max(_dot(w, x) / max(_dot(w, T), 1e-12), 1e-6)
        start = np.array([1.0, 1.0 / rate, 1.0, 2.0])
        result = _fit_log_params(objective, start, self.tol, self.maxiter)
        log_params = result.x
        self.params_ = pd.Series(np.exp(log_params), index=list(BETA_GEO_PARAMS), dtype=float)
        self.log_likelihood_ = _beta_geo_loglik(log_params, data, with_grad=False)[0]

        def total_grad(lp: np.ndarray) -> np.ndarray:
            g = -_beta_geo_loglik(lp, data)[1]
            return g + n * penalizer * 2.0 * np.exp(lp) ** 2

        self.standard_errors_ = _standard_errors(total_grad, log_params, BETA_GEO_PARAMS)
        self.n_customers_ = int(round(n))
        self.n_unique_rows_ = len(x)
        self.converged_ = bool(result.success)
        if not self.converged_:
            warnings.warn(f"BG/NBD fit did not converge: {result.message}", RuntimeWarning, stacklevel=2)
        return self

    def summary(self) -> pd.DataFrame:
        """Estimates with standard errors and 95% Wald intervals.

        Returns
        -------
        pandas.DataFrame
            Columns ``parameter``, ``estimate``, ``std_error``, ``ci_lower``, ``ci_upper``; one row per
            parameter ``r, alpha, a, b``.
        """
        self._check_fitted()
        return _summary_frame(self.params_, self.standard_errors_)

    def log_likelihood(self, df: pd.DataFrame, params: dict[str, float] | pd.Series | None = None) -> float:
        """Total log-likelihood of ``df`` at ``params`` (default: the fitted ``params_``).

        ``df`` has the columns of :meth:`fit`. Useful to compare estimates from other software.
        """
        if params is None:
            self._check_fitted()
            params = self.params_
        theta = np.array([float(params[k]) for k in BETA_GEO_PARAMS])
        if (theta <= 0).any():
            raise ValueError("BG/NBD parameters must all be > 0")
        x, tx, T = _rfm_arrays(df)
        data = _BetaGeoData(x, tx, T, np.ones(len(x)))
        return _beta_geo_loglik(np.log(theta), data, with_grad=False)[0]

    # -- prediction -----------------------------------------------------------------------------------

    def _theta(self) -> tuple[float, float, float, float]:
        self._check_fitted()
        r, alpha, a, b = (float(self.params_[k]) for k in BETA_GEO_PARAMS)
        return r, alpha, a, b

    def _log_odds_dead(self, x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> np.ndarray:
        r, alpha, a, b = self._theta()
        out = np.full(len(x), -np.inf)
        rep = x > 0
        xr = x[rep]
        out[rep] = np.log(a / (b + xr - 1.0)) + (r + xr) * (np.log(alpha + T[rep]) - np.log(alpha + tx[rep]))
        return out

    def probability_alive(self, df: pd.DataFrame) -> pd.Series:
        """Probability that each member is still active at the end of observation, P(alive | x, t_x, T).

        ``1 / (1 + [x > 0] a / (b + x - 1) ((alpha + T) / (alpha + t_x))^(r + x))`` (FHL 2008, eq. 2):
        exactly 1 for members without repeat purchases, because in the BG/NBD a member can only drop out
        right after a purchase.

        Parameters
        ----------
        df : pandas.DataFrame
            Columns ``frequency``, ``recency``, ``T`` (see :meth:`fit`).

        Returns
        -------
        pandas.Series
            Named ``probability_alive``, values in (0, 1], on ``df``'s index.
        """
        x, tx, T = _rfm_arrays(df)
        p = expit(-self._log_odds_dead(x, tx, T))
        return pd.Series(p, index=df.index, name="probability_alive")

    def _future_if_alive(self, t: float, xu: np.ndarray, Tu: np.ndarray) -> np.ndarray:
        """Expected purchases in (T, T + t] of a member known to be alive, for arrays of (x, T).

        FHL 2005a eq. 10 divided by P(alive). The hypergeometric term is rewritten with Euler's
        transformation, ``(1-z)^(r+x) 2F1(r+x, b+x; c; z) = (1-z)^(a-1) 2F1(a+b-1-r, a-1; c; z)`` with
        ``c = a+b+x-1`` and ``z = t / (alpha+T+t)``, which stays well conditioned for large ``x``.
        """
        r, alpha, a, b = self._theta()
        if abs(a - 1.0) < 1e-9:  # removable singularity of the closed form at a == 1
            a = 1.0 + 1e-9
        c = a + b + xu - 1.0
        z = t / (alpha + Tu + t)
        with np.errstate(all="ignore"):
            out = c / (a - 1.0) * (1.0 - (1.0 - z) ** (a - 1.0) * hyp2f1(a + b - 1.0 - r, a - 1.0, c, z))
        bad = ~np.isfinite(out)
        if bad.any():
            # Very large a and b (members all drop out at nearly the same rate: the fit's limit of no heterogeneity)
            # overflow the closed form. Given alive, E[X(t) | p] = (1 - ((alpha+T) / (alpha+T+p t))^(r+x)) / p with
            # lambda integrated out; the expectation over p ~ Beta(a, b+x) is then taken on its quantiles.
            out[bad] = [self._quantile_mean(
                lambda p, s=alpha + T_, k=r + x_: -np.expm1(-k * np.log1p(p * t / s)) / p, a, b + x_)
                for x_, T_ in zip(xu[bad], Tu[bad])]
        return out

    @staticmethod
    def _quantile_mean(f: Callable[[np.ndarray], np.ndarray], a: float, b: float, n: int = 256) -> float:
        """E[f(p)] for p ~ Beta(a, b), as the mean of f over n equally spaced quantiles: the fallback where a and b
        are too large for the closed forms and Gauss-Jacobi nodes (the Beta is then concentrated and f smooth)."""
        return float(np.mean(f(np.maximum(betaincinv(a, b, (np.arange(n) + 0.5) / n), 1e-300))))

    def expected_purchases(self, t: float, df: pd.DataFrame) -> pd.Series:
        """Expected number of purchases of each member in the next ``t`` periods, E[X(t) | x, t_x, T].

        FHL 2005a, eq. 10. It is ``probability_alive`` times the expected purchases of a member known to be
        alive, so it rises with ``t`` and, for a given history, falls as the time since the last purchase
        grows.

        Parameters
        ----------
        t : float
            Horizon, in the time unit of ``recency`` and ``T``; >= 0.
        df : pandas.DataFrame
            Columns ``frequency``, ``recency``, ``T`` (see :meth:`fit`).

        Returns
        -------
        pandas.Series
            Named ``expected_purchases``, on ``df``'s index.
        """
        t = _check_horizon(t)
        x, tx, T = _rfm_arrays(df)
        alive = expit(-self._log_odds_dead(x, tx, T))
        # The hypergeometric part depends on (x, T) only: far fewer distinct pairs than members.
        (xu, Tu), _, inverse = _group_rows(x, T, weights=None)
        values = alive * self._future_if_alive(t, xu, Tu)[inverse] if t > 0 else np.zeros(len(x))
        return pd.Series(values, index=df.index, name="expected_purchases")

    def expected_purchases_new(self, t: float | np.ndarray) -> float | np.ndarray:
        """Expected purchases of a randomly chosen member in the first ``t`` periods after joining, E[X(t)].

        FHL 2005a, eq. 9 (counts all purchases after time 0, i.e. repeat purchases for a member whose first
        purchase is at 0). ``t`` in the model's time unit, scalar or array, >= 0.
        """
        self._check_fitted()
        t_arr = np.asarray(t, dtype=float)
        if not np.isfinite(t_arr).all() or (t_arr < 0).any():
            raise ValueError("t must be a finite number >= 0")
        flat = t_arr.reshape(-1)
        values = np.where(flat > 0, self._future_if_alive_many(flat), 0.0)
        values = values.reshape(t_arr.shape)
        return float(values) if values.ndim == 0 else values

    def _future_if_alive_many(self, t: np.ndarray) -> np.ndarray:
        return np.array([self._future_if_alive(v, np.zeros(1), np.zeros(1))[0] if v > 0 else 0.0 for v in t])

    def _expected_lifetime_if_alive(self, horizon: float, xu: np.ndarray, Tu: np.ndarray) -> np.ndarray:
        """E[min(remaining lifetime, horizon) | alive, x, T] for arrays of (x, T).

        Given alive, the posterior of (lambda, p) is Gamma(r+x, alpha+T) x Beta(a, b+x), independent; dropout
        comes as a thinned Poisson process, so the remaining lifetime is Exponential(p lambda). Integrating
        lambda out in closed form leaves a one-dimensional integral over p, done by Gauss-Jacobi quadrature
        (exact for the Beta weight, however a < 1 makes it spike at p = 0).
        """
        r, alpha, a, b = self._theta()
        out = np.empty(len(xu))
        for xi in np.unique(xu):
            rows = xu == xi
            # Beta(a, b+x) on p = (1+u)/2 is the Jacobi weight (1-u)^(b+x-1) (1+u)^(a-1).
            with np.errstate(all="ignore"):
                u, wq = roots_jacobi(64, b + xi - 1.0, a - 1.0)
                wq = wq / wq.sum()
            p = ((1.0 + u) / 2.0)[None, :]
            if not (np.isfinite(p).all() and np.isfinite(wq).all()):
                # a or b out of the nodes' range (see _future_if_alive): the Beta's equally spaced quantiles. A
                # quantile that rounds to p = 0 (a tiny a: nobody drops out) is kept just above it.
                p = np.maximum(betaincinv(a, b + xi, (np.arange(256) + 0.5) / 256), 1e-300)[None, :]
                wq = np.full(p.shape[1], 1.0 / p.shape[1])
            k = r + xi
            scale = (alpha + Tu[rows])[:, None]
            y = p * horizon / scale
            # int_0^H (1 + p s / scale)^-k ds = H g(y) with g(y) -> 1 as p -> 0: written as H times a ratio of
            # expm1/log1p terms, so that a p near 0 gives H instead of overflowing scale / p.
            with np.errstate(invalid="ignore", divide="ignore"):
                if abs(k - 1.0) < 1e-9:
                    ratio = np.log1p(y) / y
                else:
                    ratio = -np.expm1(-(k - 1.0) * np.log1p(y)) / ((k - 1.0) * y)
            inner = horizon * np.where(y > 0, ratio, 1.0)
            out[rows] = inner @ wq
        return out


# --------------------------------------------------------------------------------------------------------
# Gamma-Gamma
# --------------------------------------------------------------------------------------------------------


class _GammaGammaData:
    """Sufficient statistics of the Gamma-Gamma likelihood: the Gamma functions depend on ``x`` only."""

    def __init__(self, x: np.ndarray, m: np.ndarray, w: np.ndarray) -> None:
        self.n = float(w.sum())
        self.x_u, x_idx = np.unique(x, return_inverse=True)
        self.w_by_x = np.bincount(x_idx, weights=w, minlength=len(self.x_u))
        self.x, self.m, self.w = x, m, w
        self.wx = w * x
        logm = np.log(m)
        self.sum_w_logm = _dot(w, logm)
        self.sum_wx_logm = _dot(self.wx, logm)
        self.sum_wx_logx = _dot(self.w_by_x * self.x_u, np.log(self.x_u))


def _gamma_gamma_loglik(log_params: np.ndarray, d: _GammaGammaData) -> tuple[float, np.ndarray]:
    """Total log-likelihood of the Gamma-Gamma model (Fader & Hardie 2013, eq. 5) and its log-scale gradient.

    Density of the mean ``zbar`` of ``x`` purchases:
    ``Gamma(px+q) / (Gamma(px) Gamma(q)) gamma^q x^(px) zbar^(px-1) / (gamma + x zbar)^(px+q)``.
    Only ``log(gamma + x zbar)`` needs a pass over the members; the rest is per distinct ``x`` or constant.
    """
    p, q, g = np.exp(log_params)
    pxu = p * d.x_u
    log_gxm = np.log(g + d.x * d.m)
    inv_gxm = 1.0 / (g + d.x * d.m)
    sum_w_L, sum_wx_L = _dot(d.w, log_gxm), _dot(d.wx, log_gxm)
    per_x = gammaln(pxu + q) - gammaln(pxu) - gammaln(q) + q * np.log(g)
    ll = _dot(d.w_by_x, per_x) + p * d.sum_wx_logx + p * d.sum_wx_logm - d.sum_w_logm - p * sum_wx_L - q * sum_w_L
    dig = digamma(pxu + q)
    g_p = _dot(d.w_by_x * d.x_u, dig - digamma(pxu)) + d.sum_wx_logx + d.sum_wx_logm - sum_wx_L
    g_q = _dot(d.w_by_x, dig - digamma(q) + np.log(g)) - sum_w_L
    g_g = d.n * q / g - p * _dot(d.wx, inv_gxm) - q * _dot(d.w, inv_gxm)
    return ll, np.array([g_p * p, g_q * q, g_g * g])


def _spend_arrays(df: object) -> tuple[np.ndarray, np.ndarray]:
    frame = _require_frame(df, GAMMA_GAMMA_COLUMNS)
    x = _frequency_array(frame)
    m = frame["monetary_value"].to_numpy(dtype=float)
    if (m < 0).any():
        raise ValueError("column monetary_value must be >= 0")
    return x, m


class GammaGammaModel(_Fitted):
    """Gamma-Gamma model of the value of a member's purchases, fitted by maximum likelihood.

    Each purchase of a member is worth ``Gamma(shape=p, rate=nu)``; ``nu ~ Gamma(shape=q, rate=gamma)``
    across members, so a member's long-run mean spend is ``p / nu`` and the population mean is
    ``p gamma / (q - 1)``. Spend is assumed independent of purchase frequency: check that the correlation
    between ``frequency`` and ``monetary_value`` is weak (a :class:`SpendFrequencyCorrelationWarning` is
    issued otherwise).

    Parameters
    ----------
    penalizer : float, default 0.0
        L2 penalty ``penalizer * sum(theta**2)`` on the mean negative log-likelihood.
    tol : float, default 1e-8
        Optimiser gradient tolerance.
    maxiter : int, default 2000
        Maximum optimiser iterations.

    Attributes
    ----------
    params_ : pandas.Series
        ``p``, ``q``, ``gamma``.
    standard_errors_ : pandas.Series
        From the inverse Hessian of the negative log-likelihood at the optimum.
    log_likelihood_ : float
        Maximised log-likelihood (of the observed mean spends).
    n_customers_ : int
        Repeat buyers the model was fitted on.
    spend_frequency_correlation_ : float
        Pearson correlation of ``frequency`` and ``monetary_value`` among those repeat buyers.

    References
    ----------
    Fader, Hardie & Lee (2005b); Fader & Hardie (2013), see module docstring. On the 946 CDNOW repeat
    buyers: ``p = 6.25, q = 3.74, gamma = 15.44``, log-likelihood -4055.9.
    """

    def __init__(self, penalizer: float = 0.0, tol: float = 1e-8, maxiter: int = 2000) -> None:
        if penalizer < 0:
            raise ValueError("penalizer must be >= 0")
        self.penalizer = penalizer
        self.tol = tol
        self.maxiter = maxiter

    def fit(self, df: pd.DataFrame, weights: str | None = None) -> GammaGammaModel:
        """Estimate ``p, q, gamma`` from the repeat buyers (``frequency > 0``) of ``df``.

        Parameters
        ----------
        df : pandas.DataFrame
            Columns ``frequency`` (repeat purchases, whole number >= 0) and ``monetary_value`` (mean value of
            the repeat purchases, >= 0). Rows with ``frequency == 0`` are ignored.
        weights : str, optional
            Name of a column of non-negative counts of identical members.

        Returns
        -------
        GammaGammaModel
            ``self``, fitted.

        Raises
        ------
        ValueError
            Missing column, empty frame, NaN, negative values, no repeat buyers (or none with a positive
            ``monetary_value``), or the same ``monetary_value`` for every repeat buyer.

        Warns
        -----
        SpendFrequencyCorrelationWarning
            When ``|corr(frequency, monetary_value)| > 0.3`` among repeat buyers.
        ZeroSpendWarning
            When repeat buyers with ``monetary_value == 0`` are left out of the fit.
        """
        x, m = _spend_arrays(df)
        w = _weight_array(df, weights)
        if w is None:
            w = np.ones(len(x))
        keep = (x > 0) & (w > 0)
        if not keep.any():
            raise ValueError(
                "no member made a repeat purchase: the data cannot identify the Gamma-Gamma model "
                "(it is fitted on repeat buyers only)"
            )
        free = keep & (m == 0)
        if not (keep & ~free).any():
            raise ValueError(
                "every repeat buyer has monetary_value == 0: the data cannot identify the Gamma-Gamma model"
            )
        if free.any():
            # Repeat days worth nothing (vouchers, gifts) are real but outside the Gamma's support: fit without
            # them rather than refuse the whole member base; their expected_spend is still defined.
            warnings.warn(
                f"{int(free.sum())} repeat buyers with monetary_value == 0 were left out of the Gamma-Gamma fit",
                ZeroSpendWarning,
                stacklevel=2,
            )
            keep &= ~free
        x, m, w = x[keep], m[keep], w[keep]
        if m.min() == m.max():
            raise ValueError(
                "monetary_value is the same for every repeat buyer: the data cannot identify the Gamma-Gamma model"
            )
        self.spend_frequency_correlation_ = _weighted_corr(x, m, w)
        if abs(self.spend_frequency_correlation_) > CORRELATION_WARNING_THRESHOLD:
            warnings.warn(
                f"frequency and monetary_value are correlated (r = {self.spend_frequency_correlation_:.2f}) "
                "among repeat buyers: the Gamma-Gamma model assumes they are independent, so its spend "
                "predictions are biased",
                SpendFrequencyCorrelationWarning,
                stacklevel=2,
            )
        (x, m), w, _ = _group_rows(x, m, weights=w)
        data = _GammaGammaData(x, m, w)
        n = float(w.sum())
        penalizer = self.penalizer

        def objective(log_params: np.ndarray) -> tuple[float, np.ndarray]:
            ll, grad = _gamma_gamma_loglik(log_params, data)
            theta = np.exp(log_params)
            return -ll / n + penalizer * float(np.sum(theta**2)), -grad / n + penalizer * 2.0 * theta**2

        # Start where the population mean p gamma / (q - 1) equals the observed mean, with finite variance (q > 2).
        mean = _dot(w, m) / n
        start = np.array([1.0, 3.0, 2.0 * mean])
        result = _fit_log_params(objective, start, self.tol, self.maxiter)
        log_params = result.x
        self.params_ = pd.Series(np.exp(log_params), index=list(GAMMA_GAMMA_PARAMS), dtype=float)
        self.log_likelihood_ = _gamma_gamma_loglik(log_params, data)[0]

        def total_grad(lp: np.ndarray) -> np.ndarray:
            g = -_gamma_gamma_loglik(lp, data)[1]
            return g + n * penalizer * 2.0 * np.exp(lp) ** 2

        self.standard_errors_ = _standard_errors(total_grad, log_params, GAMMA_GAMMA_PARAMS)
        self.n_customers_ = int(round(n))
        self.converged_ = bool(result.success)
        if not self.converged_:
            warnings.warn(f"Gamma-Gamma fit did not converge: {result.message}", RuntimeWarning, stacklevel=2)
        return self

    def summary(self) -> pd.DataFrame:
        """Estimates with standard errors and 95% Wald intervals (columns as :meth:`BetaGeoModel.summary`)."""
        self._check_fitted()
        return _summary_frame(self.params_, self.standard_errors_)

    def log_likelihood(self, df: pd.DataFrame, params: dict[str, float] | pd.Series | None = None) -> float:
        """Total log-likelihood of the repeat buyers of ``df`` at ``params`` (default: fitted ``params_``)."""
        if params is None:
            self._check_fitted()
            params = self.params_
        theta = np.array([float(params[k]) for k in GAMMA_GAMMA_PARAMS])
        if (theta <= 0).any():
            raise ValueError("Gamma-Gamma parameters must all be > 0")
        x, m = _spend_arrays(df)
        keep = x > 0
        if (m[keep] <= 0).any():
            raise ValueError("monetary_value must be > 0 for members with frequency > 0")
        x, m = x[keep], m[keep]
        return _gamma_gamma_loglik(np.log(theta), _GammaGammaData(x, m, np.ones(len(x))))[0]

    def expected_spend(self, df: pd.DataFrame) -> pd.Series:
        """Expected value of each member's future purchases, E[Z | zbar, x] (Fader & Hardie 2013, eq. 5).

        ``(p (gamma + x zbar)) / (p x + q - 1)``: a weighted average of the population mean
        ``p gamma / (q - 1)`` and the member's own mean ``zbar``, the weight on ``zbar`` growing with ``x``.
        Members without repeat purchases get the population mean (their ``monetary_value`` is ignored).

        When ``p x + q <= 1`` the posterior mean is infinite: spend is so heavy-tailed (``q <= 1``, e.g.
        lognormal tickets with a few very large ones) that the model cannot give a finite average for
        members with little history. Those entries are NaN and an :class:`UndefinedSpendWarning` says how
        many; fitting on capped spend (e.g. winsorised at the 99th percentile) is the usual remedy.

        Parameters
        ----------
        df : pandas.DataFrame
            Columns ``frequency`` and ``monetary_value`` (see :meth:`fit`).

        Returns
        -------
        pandas.Series
            Named ``expected_spend``, in the currency of ``monetary_value``, on ``df``'s index.
        """
        self._check_fitted()
        p, q, g = (float(self.params_[k]) for k in GAMMA_GAMMA_PARAMS)
        x, m = _spend_arrays(df)
        m = np.where(x > 0, m, 0.0)
        denominator = p * x + q - 1.0
        defined = denominator > 0
        values = np.full(len(x), np.nan)
        values[defined] = p * (g + x[defined] * m[defined]) / denominator[defined]
        if not defined.all():
            warnings.warn(
                f"expected spend is infinite for {int((~defined).sum())} members (fitted q = {q:.3f}, heavy-tailed "
                "spend): returned as NaN",
                UndefinedSpendWarning,
                stacklevel=2,
            )
        return pd.Series(values, index=df.index, name="expected_spend")


def _weighted_corr(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> float:
    if len(x) < 2:
        return 0.0
    mx, my = np.average(x, weights=w), np.average(y, weights=w)
    cov = np.average((x - mx) * (y - my), weights=w)
    sx, sy = np.sqrt(np.average((x - mx) ** 2, weights=w)), np.sqrt(np.average((y - my) ** 2, weights=w))
    if sx == 0 or sy == 0:
        return 0.0
    return float(cov / (sx * sy))


# --------------------------------------------------------------------------------------------------------
# Values built on the models
# --------------------------------------------------------------------------------------------------------


def lifetime_value(
    bgnbd: BetaGeoModel,
    gg: GammaGammaModel,
    df: pd.DataFrame,
    horizon_periods: int,
    margin: float | pd.Series,
    discount_rate_per_period: float,
) -> pd.Series:
    """Discounted expected profit of each member over the next ``horizon_periods`` periods.

    ``CLV_i = margin_i * E[spend_i] * sum_{k=1..H} (E[X_i(k)] - E[X_i(k-1)]) / (1 + d)^k``: purchases
    expected in period ``k`` (BG/NBD, conditional on the member's history) times the expected value of a
    purchase (Gamma-Gamma), times the profit margin, discounted to the end of the calibration window as if
    each period's purchases happened at its end (FHL 2005b, section "Computing CLV", discretised).

    The *period* is the time unit of ``recency`` and ``T`` the BG/NBD model was fitted with (weeks for
    data built with ``time_unit_days=7``): a 3-year horizon in weeks is ``horizon_periods=156``, and an
    annual discount rate ``i`` becomes ``(1 + i) ** (1 / 52) - 1`` per week.

    Parameters
    ----------
    bgnbd : BetaGeoModel
        Fitted purchase model.
    gg : GammaGammaModel
        Fitted spend model.
    df : pandas.DataFrame
        Columns ``frequency``, ``recency``, ``T`` and ``monetary_value``.
    horizon_periods : int
        Number of future periods, >= 1.
    margin : float or pandas.Series
        Profit per unit of spend (e.g. 0.25 for a 25% gross margin net of discounts), or one value per
        member aligned on ``df``'s index.
    discount_rate_per_period : float
        Discount rate per period, >= 0.

    Returns
    -------
    pandas.Series
        Named ``lifetime_value``, in the currency of ``monetary_value``, on ``df``'s index; NaN where
        :meth:`GammaGammaModel.expected_spend` is undefined (heavy-tailed spend, see there).

    Raises
    ------
    ValueError
        Missing columns, invalid values (see the models' ``fit``), unfitted models, or invalid horizon,
        margin or discount rate.
    """
    if isinstance(horizon_periods, bool) or int(horizon_periods) != horizon_periods or horizon_periods < 1:
        raise ValueError("horizon_periods must be a whole number >= 1")
    discount = float(discount_rate_per_period)
    if not np.isfinite(discount) or discount < 0:
        raise ValueError("discount_rate_per_period must be a finite number >= 0")
    _require_frame(df, (*BETA_GEO_COLUMNS, "monetary_value"))
    if isinstance(margin, pd.Series):
        if not margin.index.equals(df.index):
            raise ValueError("margin must be a float or a Series on the same index as df")
        margin_arr = margin.to_numpy(dtype=float)
    else:
        margin_arr = np.full(len(df), float(margin))
    if not np.isfinite(margin_arr).all():
        raise ValueError("margin must be finite")
    spend = gg.expected_spend(df).to_numpy()
    x, tx, T = _rfm_arrays(df)
    alive = expit(-bgnbd._log_odds_dead(x, tx, T))
    (xu, Tu), _, inverse = _group_rows(x, T, weights=None)
    horizon = int(horizon_periods)
    discounted = np.zeros(len(xu))
    previous = np.zeros(len(xu))
    for k in range(1, horizon + 1):
        cumulative = bgnbd._future_if_alive(float(k), xu, Tu)
        discounted += (cumulative - previous) / (1.0 + discount) ** k
        previous = cumulative
    values = margin_arr * spend * alive * discounted[inverse]
    return pd.Series(values, index=df.index, name="lifetime_value")


def simple_lifetime_value(
    annual_profit: float | pd.Series, lifetime_years: float | pd.Series
) -> float | pd.Series:
    """The mall documents' rule: lifetime value = customer life cycle (years) x annual profit contribution.

    No discounting, no uncertainty about whether the member is still active, and the past year's profit
    taken as the future's. Compare with :func:`lifetime_value`; :func:`expected_lifetime_years` supplies a
    model-based life cycle for this rule.

    Parameters
    ----------
    annual_profit : float or pandas.Series
        Profit contribution per year (may be negative for a D-tier member).
    lifetime_years : float or pandas.Series
        Remaining life cycle in years, >= 0. Two Series must share their index.

    Returns
    -------
    float or pandas.Series
        ``annual_profit * lifetime_years`` (a Series named ``simple_lifetime_value`` if either is a Series).
    """
    years = lifetime_years.to_numpy(dtype=float) if isinstance(lifetime_years, pd.Series) else np.asarray(
        lifetime_years, dtype=float
    )
    profit = annual_profit.to_numpy(dtype=float) if isinstance(annual_profit, pd.Series) else np.asarray(
        annual_profit, dtype=float
    )
    if np.isnan(years).any() or np.isnan(profit).any():
        raise ValueError("annual_profit and lifetime_years must not contain missing values (NaN)")
    if (years < 0).any() or not np.isfinite(years).all():
        raise ValueError("lifetime_years must be finite and >= 0")
    series = [s for s in (annual_profit, lifetime_years) if isinstance(s, pd.Series)]
    if len(series) == 2 and not series[0].index.equals(series[1].index):
        raise ValueError("annual_profit and lifetime_years must share the same index")
    if not series:
        return float(profit * years)
    return pd.Series(profit * years, index=series[0].index, name="simple_lifetime_value")


def expected_lifetime_years(
    bgnbd: BetaGeoModel, df: pd.DataFrame, periods_per_year: float, horizon_years: float = 10.0
) -> pd.Series:
    """Expected remaining active years of each member within a horizon, under the fitted BG/NBD model.

    ``P(alive) * E[min(remaining lifetime, horizon) | alive]``: the model's counterpart of the "customer life
    cycle (years)" in :func:`simple_lifetime_value`. Given alive, a member with purchase rate ``lambda``
    and dropout probability ``p`` leaves at rate ``p * lambda``; both are averaged over their posterior.

    Why it is capped at ``horizon_years``: the BG/NBD lifetime is heavy tailed, and when ``a <= 1``
    (CDNOW: ``a = 0.79``) members with ``p`` near 0 make the untruncated expectation infinite.

    Why ``simple_lifetime_value(annual_profit, expected_lifetime_years(...))`` differs from
    :func:`lifetime_value` even over the same horizon:

    * the simple rule does not discount; :func:`lifetime_value` does;
    * the simple rule takes last year's profit as every future year's; the model predicts each member's
      future purchase rate from their whole history and shrinks short histories toward the population
      (regression to the mean);
    * in the BG/NBD a member can only drop out right after a purchase, so frequent buyers leave sooner in
      calendar time: purchase rate and remaining lifetime are negatively related, and
      ``E[rate x lifetime] < E[rate] x E[lifetime]``, which is what multiplying two averages assumes.

    Members without repeat purchases have P(alive) = 1 in the BG/NBD, so their expected years are long:
    the model's known optimism about one-time buyers. Read their values with that in mind.

    Parameters
    ----------
    bgnbd : BetaGeoModel
        Fitted BG/NBD model.
    df : pandas.DataFrame
        Columns ``frequency``, ``recency``, ``T`` in the model's period unit.
    periods_per_year : float
        Model periods in a year (52.18 for weeks, 365.25 for days, 12 for months), > 0.
    horizon_years : float, default 10.0
        Cap on the remaining lifetime, in years, > 0.

    Returns
    -------
    pandas.Series
        Named ``expected_lifetime_years``, values in ``[0, horizon_years]``, on ``df``'s index.
    """
    periods_per_year = float(periods_per_year)
    if not np.isfinite(periods_per_year) or periods_per_year <= 0:
        raise ValueError("periods_per_year must be a finite number > 0")
    horizon_years = float(horizon_years)
    if not np.isfinite(horizon_years) or horizon_years <= 0:
        raise ValueError("horizon_years must be a finite number > 0")
    x, tx, T = _rfm_arrays(df)
    alive = expit(-bgnbd._log_odds_dead(x, tx, T))
    (xu, Tu), _, inverse = _group_rows(x, T, weights=None)
    periods = bgnbd._expected_lifetime_if_alive(horizon_years * periods_per_year, xu, Tu)
    return pd.Series(alive * periods[inverse] / periods_per_year, index=df.index, name="expected_lifetime_years")


# --------------------------------------------------------------------------------------------------------
# Holdout validation
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HoldoutMetrics:
    """Overall agreement between predicted and actual holdout purchases (see :func:`holdout_fit_metrics`)."""

    customers: int
    actual_total: float
    predicted_total: float
    total_relative_error: float  # (predicted - actual) / actual
    mean_absolute_error: float  # per member
    correlation: float  # Pearson, per member


def _holdout_frame(df: object) -> np.ndarray:
    frame = _require_frame(df, (*BETA_GEO_COLUMNS, "holdout_purchases"))
    y = frame["holdout_purchases"].to_numpy(dtype=float)
    if (y < 0).any():
        raise ValueError("column holdout_purchases must be >= 0")
    return y


def holdout_fit_table(
    model: BetaGeoModel, df: pd.DataFrame, holdout_length: float, max_purchases: int = 7
) -> pd.DataFrame:
    """Actual vs predicted holdout purchases by number of calibration repeat purchases (the model-fit table).

    The conditional-expectation check of FHL 2005a (figure 4): members are grouped by ``frequency`` in the
    calibration window (``0 .. max_purchases - 1`` and a last group ``"max_purchases+"``); for each group the
    mean actual purchases in the holdout window are compared with the mean of
    :meth:`BetaGeoModel.expected_purchases` over ``holdout_length``.

    Parameters
    ----------
    model : BetaGeoModel
        Model fitted on the calibration window.
    df : pandas.DataFrame
        Columns ``frequency``, ``recency``, ``T`` (calibration window) and ``holdout_purchases`` (purchases,
        counted like ``frequency``, in the ``holdout_length`` periods after the calibration window).
    holdout_length : float
        Length of the holdout window, in the model's period unit, > 0.
    max_purchases : int, default 7
        First ``frequency`` pooled into the last group.

    Returns
    -------
    pandas.DataFrame
        One row per group, in order: ``frequency`` (label, str: ``"0"``, ``"1"``, ..., ``"7+"``),
        ``customers``, ``actual`` (mean holdout purchases), ``predicted`` (mean expected purchases),
        ``difference`` (predicted - actual). Groups without members are left out.
    """
    if isinstance(max_purchases, bool) or int(max_purchases) != max_purchases or max_purchases < 1:
        raise ValueError("max_purchases must be a whole number >= 1")
    holdout_length = _check_horizon(holdout_length, "holdout_length")
    if holdout_length <= 0:
        raise ValueError("holdout_length must be > 0")
    actual = _holdout_frame(df)
    predicted = model.expected_purchases(holdout_length, df).to_numpy()
    x = df["frequency"].to_numpy(dtype=float)
    bucket = np.minimum(x, max_purchases).astype(np.int64)
    table = (
        pd.DataFrame({"bucket": bucket, "actual": actual, "predicted": predicted})
        .groupby("bucket", sort=True)
        .agg(customers=("actual", "size"), actual=("actual", "mean"), predicted=("predicted", "mean"))
        .reset_index()
    )
    labels = [f"{b}+" if b == max_purchases else str(b) for b in table["bucket"]]
    table.insert(0, "frequency", labels)
    table["difference"] = table["predicted"] - table["actual"]
    return table.drop(columns="bucket")[["frequency", "customers", "actual", "predicted", "difference"]]


def holdout_fit_metrics(model: BetaGeoModel, df: pd.DataFrame, holdout_length: float) -> HoldoutMetrics:
    """Totals, per-member mean absolute error and correlation of predicted vs actual holdout purchases.

    ``df`` and ``holdout_length`` as in :func:`holdout_fit_table`.
    """
    holdout_length = _check_horizon(holdout_length, "holdout_length")
    if holdout_length <= 0:
        raise ValueError("holdout_length must be > 0")
    actual = _holdout_frame(df)
    predicted = model.expected_purchases(holdout_length, df).to_numpy()
    actual_total, predicted_total = float(actual.sum()), float(predicted.sum())
    corr = float(np.corrcoef(actual, predicted)[0, 1]) if len(actual) > 1 and actual.std() > 0 else float("nan")
    return HoldoutMetrics(
        customers=len(actual),
        actual_total=actual_total,
        predicted_total=predicted_total,
        total_relative_error=(predicted_total - actual_total) / actual_total if actual_total > 0 else float("nan"),
        mean_absolute_error=float(np.mean(np.abs(predicted - actual))),
        correlation=corr,
    )


# --------------------------------------------------------------------------------------------------------
# Simulation (tests, benchmarks, what-if demos)
# --------------------------------------------------------------------------------------------------------


def simulate_beta_geo(
    params: dict[str, float] | pd.Series,
    T: np.ndarray | pd.Series,
    seed: int | np.random.Generator = 0,
    time_resolution: float | None = None,
) -> pd.DataFrame:
    """Draw RFM summaries from the BG/NBD process with known parameters.

    Each member gets ``lambda ~ Gamma(r, rate=alpha)`` and ``p ~ Beta(a, b)``; the first purchase is at time 0,
    repeat purchases follow a Poisson process with rate ``lambda``, and after each repeat purchase the member
    drops out with probability ``p`` (FHL 2005a, assumptions i-v). Vectorised: the number of repeat
    purchases before dropout is geometric, and given ``n`` Poisson arrivals in ``[0, T]`` the time of the
    ``x``-th is ``T * Beta(x, n - x + 1)``.

    Parameters
    ----------
    params : dict or pandas.Series
        ``r``, ``alpha``, ``a``, ``b`` (all > 0).
    T : array-like
        Age of each member at the end of observation (> 0), in the period unit; its length is the number
        of members.
    seed : int or numpy.random.Generator, default 0
        Randomness source.
    time_resolution : float, optional
        Round recency up to a multiple of this (e.g. ``1/7`` for whole days when the unit is weeks), as
        real data recorded by day are; ``T`` is then expected to be such a multiple already.

    Returns
    -------
    pandas.DataFrame
        Columns ``frequency`` (int), ``recency``, ``T``.
    """
    theta = {k: float(params[k]) for k in BETA_GEO_PARAMS}
    if any(v <= 0 for v in theta.values()):
        raise ValueError("BG/NBD parameters must all be > 0")
    T_arr = np.asarray(T, dtype=float)
    if T_arr.ndim != 1 or len(T_arr) == 0 or not np.isfinite(T_arr).all() or (T_arr <= 0).any():
        raise ValueError("T must be a non-empty 1-D array of finite values > 0")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    n = len(T_arr)
    lam = rng.gamma(theta["r"], 1.0 / theta["alpha"], size=n)
    p = rng.beta(theta["a"], theta["b"], size=n)
    arrivals = rng.poisson(lam * T_arr)
    # Index of the repeat purchase after which the member drops out (1, 2, ...).
    last = rng.geometric(np.clip(p, 1e-300, 1.0))
    x = np.minimum(arrivals, last)
    tx = np.zeros(n)
    rep = x > 0
    tx[rep] = T_arr[rep] * rng.beta(x[rep], arrivals[rep] - x[rep] + 1)
    if time_resolution is not None:
        # Whole days: a repeat purchase happens on a later day than the first one, never after T.
        steps = np.maximum(np.ceil(tx[rep] / time_resolution - 1e-9), 1.0)
        tx[rep] = np.minimum(steps * time_resolution, T_arr[rep])
    return pd.DataFrame({"frequency": x.astype(np.int64), "recency": tx, "T": T_arr})
