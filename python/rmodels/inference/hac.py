"""Heteroskedasticity- and autocorrelation-consistent covariances: sandwich's ``vcovHAC``,
``meatHAC``, ``NeweyWest``, ``bwNeweyWest``, ``kernHAC``/``weightsAndrews``/``bwAndrews`` with
the AR(1) approximation, and ``kweights`` (sandwich 3.0, R/vcovHAC.R, R/kernHAC.R,
R/NeweyWest.R).

meat = (Σ_l w_l Γ_l + Γ_l') / n with Γ_0 weighted by ½ and Γ_l = Σ_t ψ_t ψ'_{t+l}; with
``prewhite`` the ψ are first replaced by the residuals of a VAR(1) fitted by least squares
without intercept (R's ``ar(…, method = "ols", demean = FALSE)``) and the result recoloured by
D = (I − A)⁻¹; ``adjust`` multiplies by n / (n − k). Newey–West weights are the Bartlett
kernel 1 − l/(L + 1), l = 0..L + 1, with L = floor(bwNeweyWest) unless given.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence, Union

import numpy as np
import pandas as pd

from ..errors import DataError
from .estfun import ScoreParts, matrix_frame, sandwich_matrix, score_parts

__all__ = ["vcovHAC", "meatHAC", "NeweyWest", "bwNeweyWest", "bwAndrews", "weightsAndrews",
           "kernHAC", "kweights", "var1_ols", "newey_west_weights"]

KERNELS = ("Truncated", "Bartlett", "Parzen", "Tukey-Hanning", "Quadratic Spectral")


def ordered_scores(parts: ScoreParts, order_by: Any) -> np.ndarray:
    """Ψ with its rows in the order of ``order_by`` (stable, as R's ``order``)."""
    psi = parts.scores()
    if order_by is None:
        return psi
    z = np.asarray(order_by)
    if len(z) != parts.n:
        raise DataError("'order_by' must have one value per row of the fit")
    return psi[np.argsort(z, kind="stable")]


def var1_ols(U: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """VAR(1) without intercept by least squares (R's ``ar(U, order.max = 1, aic = FALSE,
    demean = FALSE, method = "ols")``): A with U_t ≈ A U_{t−1}, and the residuals (n − 1 rows)."""
    Y, X = U[1:], U[:-1]
    A = np.linalg.solve(X.T @ X, X.T @ Y).T
    return A, Y - X @ A.T


def ar1_demeaned(x: np.ndarray) -> tuple[float, float]:
    """R's ``ar(x, order.max = 1, aic = FALSE, method = "ols")`` of one series (demeaned, with
    intercept): the AR coefficient ρ and sqrt(var.pred) σ."""
    x = x - x.mean()
    X = np.column_stack([np.ones(len(x) - 1), x[:-1]])
    y = x[1:]
    beta = np.linalg.solve(X.T @ X, X.T @ y)
    e = y - X @ beta
    return float(beta[1]), float(np.sqrt(e @ e / len(y)))


def prewhitened(U: np.ndarray, prewhite: int) -> tuple[np.ndarray, Optional[np.ndarray]]:
    """The VAR(1) residuals and D = (I − A)⁻¹ (prewhite = 1), or U and None (prewhite = 0)."""
    if prewhite == 0:
        return U, None
    if prewhite != 1:
        raise DataError("only first-order prewhitening (prewhite = 0 or 1) is available")
    A, E = var1_ols(U)
    return E, np.linalg.inv(np.eye(A.shape[0]) - A)


def kweights(x: Any, kernel: str = "Truncated", normalize: bool = False) -> np.ndarray:
    """sandwich's ``kweights``: kernel weights at x (Truncated, Bartlett, Parzen,
    Tukey-Hanning, Quadratic Spectral)."""
    if kernel not in KERNELS:
        raise ValueError(f"'kernel' should be one of {', '.join(KERNELS)}")
    x = np.asarray(x, dtype=float)
    ca = {"Truncated": 2, "Bartlett": 2 / 3, "Parzen": 0.539285, "Tukey-Hanning": 3 / 4,
          "Quadratic Spectral": 1}[kernel] if normalize else 1
    ax = np.abs(ca * x)
    with np.errstate(divide="ignore", invalid="ignore"):
        if kernel == "Truncated":
            return np.where(ax > 1, 0.0, 1.0)
        if kernel == "Bartlett":
            return np.where(ax > 1, 0.0, 1 - ax)
        if kernel == "Parzen":
            return np.where(ax > 1, 0.0, np.where(ax < 0.5, 1 - 6 * ax ** 2 + 6 * ax ** 3,
                                                  2 * (1 - ax) ** 3))
        if kernel == "Tukey-Hanning":
            return np.where(ax > 1, 0.0, (1 + np.cos(np.pi * ca * x)) / 2)
        w = quadratic_spectral(x)
    small = np.abs(x) < 1e-3
    if small.any():
        cf = 1e6 * np.log(quadratic_spectral(np.array([1e-3]))[0])
        w[small] = np.exp(cf * x[small] ** 2)
    return w


def quadratic_spectral(x: np.ndarray) -> np.ndarray:
    y = 6 * np.pi * x / 5
    return 3 * (1 / y) ** 2 * (np.sin(y) / y - np.cos(y))


def meat_hac_matrix(parts: ScoreParts, weights: np.ndarray, order_by: Any, prewhite: int,
                    adjust: bool) -> np.ndarray:
    """sandwich's ``meatHAC`` with given lag weights w_0, w_1, … (see the module docstring)."""
    U = ordered_scores(parts, order_by)
    n_orig, k = U.shape
    U, D = prewhitened(U, int(prewhite))
    n = U.shape[0]
    w = np.asarray(weights, dtype=float)[:n]
    utu = 0.5 * (U.T @ U) * w[0]
    for lag in range(1, len(w)):
        utu += w[lag] * (U[: n - lag].T @ U[lag:])
    utu = utu + utu.T
    if adjust:
        utu *= n_orig / (n_orig - k)
    if D is not None:
        utu = D @ utu @ D.T
    return utu / n_orig


def bandwidth_weights(parts: ScoreParts, U: np.ndarray, weights: Optional[Sequence[float]],
                      all_zero: str) -> np.ndarray:
    """The per-column weights of the bandwidth rules: 0 for the intercept (or a column equal to
    the residual factor when no column is named "(Intercept)"), 1 otherwise."""
    k = U.shape[1]
    if weights is not None:
        w = np.resize(np.asarray(weights, dtype=float), k)
    else:
        w = np.ones(k)
        if "(Intercept)" in parts.names:
            w[parts.names.index("(Intercept)")] = 0.0
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                res = np.nanmean(np.where(parts.X != 0, U / parts.X, np.nan), axis=1)
            w[((U - res[:, None]) ** 2).sum(axis=0) < 1e-16] = 0.0
        if (all_zero == "le0" and (w <= 0).all()) or (all_zero == "eq0" and (w == 0).all()):
            w = np.ones(k)
    return w if len(w) >= 2 else np.ones(1)


def bw_newey_west_value(parts: ScoreParts, order_by: Any = None, kernel: str = "Bartlett",
                        prewhite: int = 1, weights: Optional[Sequence[float]] = None) -> float:
    """sandwich's ``bwNeweyWest`` (Newey and West 1994): the automatic bandwidth."""
    if kernel not in ("Bartlett", "Parzen", "Quadratic Spectral"):
        raise ValueError("automatic bandwidth selection is only available for the 'Bartlett', "
                         "'Parzen' and 'Quadratic Spectral' kernels")
    U = ordered_scores(parts, order_by)
    n = U.shape[0]
    w = bandwidth_weights(parts, U if order_by is None else parts.scores(), weights, "le0")
    mrate = {"Bartlett": 2 / 9, "Parzen": 4 / 25, "Quadratic Spectral": 2 / 25}[kernel]
    m = int(np.floor((3 if prewhite > 0 else 4) * (n / 100) ** mrate))
    U, _ = prewhitened(U, int(prewhite))
    n = U.shape[0]
    hw = U @ w
    sigma = np.array([hw[: n - j] @ hw[j:] / n for j in range(m + 1)])
    lags = np.arange(1, m + 1)
    s0 = sigma[0] + 2 * sigma[1:].sum()
    s1 = 2 * (lags * sigma[1:]).sum()
    s2 = 2 * (lags ** 2 * sigma[1:]).sum()
    qrate = 1 / (2 * (1 if kernel == "Bartlett" else 2) + 1)
    if kernel == "Bartlett":
        bw = 1.1447 * ((s1 / s0) ** 2) ** qrate
    else:
        bw = (2.6614 if kernel == "Parzen" else 1.3221) * ((s2 / s0) ** 2) ** qrate
    return float(bw * (n + prewhite) ** qrate)


def bwNeweyWest(fit: Any, order_by: Any = None, kernel: str = "Bartlett",  # noqa: N802
                weights: Optional[Sequence[float]] = None, prewhite: int = 1) -> float:
    """sandwich's ``bwNeweyWest(x, order.by, kernel, weights, prewhite)``."""
    return bw_newey_west_value(score_parts(fit), order_by, kernel, int(prewhite), weights)


def newey_west_weights(lag: int) -> np.ndarray:
    """R's ``seq(1, 0, by = -(1/(lag + 1)))``: 1, 1 − 1/(L+1), …, 0 (L + 2 values)."""
    by = -(1 / (lag + 1))
    count = int(-1 / by + 1e-10)
    return np.maximum(1 + np.arange(count + 1) * by, 0.0)


def NeweyWest(fit: Any, lag: Optional[int] = None, order_by: Any = None,  # noqa: N802
              prewhite: Union[bool, int] = True, adjust: bool = False,
              sandwich: bool = True) -> pd.DataFrame:
    """sandwich's ``NeweyWest(x, lag = NULL, order.by = NULL, prewhite = TRUE,
    adjust = FALSE)``: Bartlett weights with lag L = floor(:func:`bwNeweyWest`) unless given.
    ``order_by``: values ordering the rows in time (default: the rows' order)."""
    parts = score_parts(fit)
    pw = int(prewhite)
    if lag is None:
        lag = int(np.floor(bw_newey_west_value(parts, order_by, "Bartlett", pw)))
    M = meat_hac_matrix(parts, newey_west_weights(int(lag)), order_by, pw, adjust)
    return matrix_frame(sandwich_matrix(parts, M) if sandwich else M, parts.names)


def bw_andrews_value(parts: ScoreParts, order_by: Any = None,
                     kernel: str = "Quadratic Spectral", prewhite: int = 1,
                     weights: Optional[Sequence[float]] = None) -> float:
    """sandwich's ``bwAndrews`` with ``approx = "AR(1)"`` (Andrews 1991)."""
    U = ordered_scores(parts, order_by)
    w = bandwidth_weights(parts, U if order_by is None else parts.scores(), weights, "eq0")
    U, _ = prewhitened(U, int(prewhite))
    n = U.shape[0]
    fits = np.array([ar1_demeaned(U[:, j]) for j in range(U.shape[1])])
    rho, sig = fits[:, 0], fits[:, 1]
    w = np.resize(w, len(rho))
    denom = np.sum(w * (sig / (1 - rho)) ** 4)
    alpha2 = np.sum(w * 4 * rho ** 2 * sig ** 4 / (1 - rho) ** 8) / denom
    alpha1 = np.sum(w * 4 * rho ** 2 * sig ** 4 / ((1 - rho) ** 6 * (1 + rho) ** 2)) / denom
    if kernel == "Bartlett":
        return float(1.1447 * (n * alpha1) ** (1 / 3))
    const = {"Truncated": 0.6611, "Parzen": 2.6614, "Tukey-Hanning": 1.7462,
             "Quadratic Spectral": 1.3221}[kernel]
    return float(const * (n * alpha2) ** (1 / 5))


def bwAndrews(fit: Any, order_by: Any = None, kernel: str = "Quadratic Spectral",  # noqa: N802
              weights: Optional[Sequence[float]] = None, prewhite: int = 1) -> float:
    """sandwich's ``bwAndrews(x, order.by, kernel, approx = "AR(1)", weights, prewhite)``."""
    if kernel not in KERNELS:
        raise ValueError(f"'kernel' should be one of {', '.join(KERNELS)}")
    return bw_andrews_value(score_parts(fit), order_by, kernel, int(prewhite), weights)


def andrews_weights(parts: ScoreParts, order_by: Any, kernel: str, prewhite: int,
                    bw: Optional[float], tol: float = 1e-7) -> np.ndarray:
    """sandwich's ``weightsAndrews``: kernel weights at l / bw, l = 0..n − 1, cut after the
    last one above ``tol``."""
    if bw is None:
        bw = bw_andrews_value(parts, order_by, kernel, prewhite)
    n = parts.n - int(prewhite)
    w = kweights(np.arange(n) / bw, kernel)
    return w[: int(np.nonzero(np.abs(w) > tol)[0].max()) + 1]


def weightsAndrews(fit: Any, order_by: Any = None, bw: Optional[float] = None,  # noqa: N802
                   kernel: str = "Quadratic Spectral", prewhite: int = 1,
                   tol: float = 1e-7) -> np.ndarray:
    """sandwich's ``weightsAndrews`` (bandwidth by :func:`bwAndrews` unless ``bw`` given)."""
    return andrews_weights(score_parts(fit), order_by, kernel, int(prewhite), bw, tol)


def vcovHAC(fit: Any, order_by: Any = None, prewhite: Union[bool, int] = False,  # noqa: N802
            weights: Optional[Sequence[float]] = None, adjust: bool = True,
            sandwich: bool = True, kernel: str = "Quadratic Spectral",
            bw: Optional[float] = None) -> pd.DataFrame:
    """sandwich's ``vcovHAC(x, order.by, prewhite = FALSE, weights = weightsAndrews,
    adjust = TRUE)``: lag weights ``weights`` if given, else Andrews' kernel weights
    (``kernel``, bandwidth ``bw`` or :func:`bwAndrews`), which makes it ``kernHAC``."""
    parts = score_parts(fit)
    pw = int(prewhite)
    w = andrews_weights(parts, order_by, kernel, pw, bw) if weights is None else weights
    M = meat_hac_matrix(parts, np.asarray(w, dtype=float), order_by, pw, adjust)
    return matrix_frame(sandwich_matrix(parts, M) if sandwich else M, parts.names)


def kernHAC(fit: Any, order_by: Any = None, prewhite: Union[bool, int] = 1,  # noqa: N802
            bw: Optional[float] = None, kernel: str = "Quadratic Spectral",
            adjust: bool = True, sandwich: bool = True) -> pd.DataFrame:
    """sandwich's ``kernHAC`` (AR(1) approximation): :func:`vcovHAC` with Andrews' weights and
    R's defaults (prewhite = 1, Quadratic Spectral kernel)."""
    return vcovHAC(fit, order_by=order_by, prewhite=prewhite, adjust=adjust, sandwich=sandwich,
                   kernel=kernel, bw=bw)


def meatHAC(fit: Any, weights: Sequence[float], order_by: Any = None,  # noqa: N802
            prewhite: Union[bool, int] = False, adjust: bool = True) -> pd.DataFrame:
    """sandwich's ``meatHAC`` with given lag weights (w_0 = weight of lag 0, …)."""
    parts = score_parts(fit)
    return matrix_frame(meat_hac_matrix(parts, np.asarray(weights, dtype=float), order_by,
                                        int(prewhite), adjust), parts.names)
