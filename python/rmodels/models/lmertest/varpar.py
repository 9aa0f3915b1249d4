"""The variance parameters of an lmer fit as lmerTest sees them (``as_lmerModLT``): the
deviance as a function of (θ, σ), its Hessian by numDeriv's Richardson extrapolation, the
asymptotic covariance of (θ, σ), and the Jacobian of cov(β̂) with respect to (θ, σ).

With the penalized least squares solution at θ (log-determinants ldL2 and ldRX2, penalized
residual sum of squares pwrss), lmerTest's ``devfun_vp`` is

    ML:    d(θ, σ) = ldL2 + pwrss / σ² + n log(2πσ²)
    REML:  d(θ, σ) + ldRX2 − p log(2πσ²)

(the prior weights' log-determinant, constant in θ, is left out as lmerTest does), and
``get_covbeta`` is cov(β̂)(θ, σ) = σ² (R_X'R_X)⁻¹. The Hessian H of d gives
A = cov(θ̂, σ̂) = 2 H⁺ (eigenvalues above 1e-8 kept).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from ...errors import ConvergenceWarning

#: numDeriv's ``zero.tol``: a coordinate below it gets the absolute step ``eps``
ZERO_TOL = math.sqrt(np.finfo(float).eps / 7e-7)
RICHARDSON_R = 4
HESSIAN_D = 0.1
JACOBIAN_D = 1e-4
STEP_EPS = 1e-4
EIGEN_TOL = 1e-8


@dataclass
class PlsAtTheta:
    """What lmerTest reads from lme4's deviance function environment at one θ."""

    ldL2: float  # noqa: N815
    ldRX2: float  # noqa: N815
    pwrss: float
    RX: np.ndarray  # lower L with L L' = R_X'R_X (empty when not asked for)


@dataclass
class VarparDerivs:
    """lmerTest's slots of an ``lmerModLmerTest``: ``vcov_varpar`` (k, k) = A and
    ``jac_list`` (k arrays (p, p)) = ∂cov(β̂)/∂(θ, σ), k = length(θ) + 1."""

    varpar: np.ndarray
    hessian: np.ndarray
    vcov_varpar: np.ndarray
    jac_list: list

    def __post_init__(self) -> None:
        #: the J_i as one array (k, p, p)
        self.jac_stack = np.stack(self.jac_list) if self.jac_list else np.zeros((0, 0, 0))


class PlsCache:
    """The penalized least squares solution by θ, so that the steps in σ alone (and the repeated
    points of the Hessian's stencil) solve once."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.store: dict = {}

    def at(self, theta: np.ndarray, need_rx: bool = False) -> PlsAtTheta:
        """The solution at θ; R_X only when ``need_rx`` (the criteria alone solve less)."""
        key = (tuple(float(t) for t in theta), need_rx)
        hit = self.store.get(key)
        if hit is None:
            th = np.asarray(theta, dtype=float)
            s = self.model.solve(th) if need_rx else self.model.criterion(th)
            hit = PlsAtTheta(float(s["ldL2"]), float(s["ldRX2"]), float(s["pwrss"]),
                             np.array(s["RX"], dtype=float) if need_rx else np.empty((0, 0)))
            self.store[key] = hit
        return hit


def varpar_deviance(cache: PlsCache, varpar: np.ndarray, n: int, p: int, reml: bool) -> float:
    """lmerTest's ``devfun_vp``: the ML (or REML) deviance at (θ, σ) = ``varpar``."""
    sigma2 = varpar[-1] ** 2
    s = cache.at(varpar[:-1])
    dev = s.ldL2 + s.pwrss / sigma2 + n * math.log(2 * math.pi * sigma2)
    if not reml:
        return dev
    return dev + s.ldRX2 - p * math.log(2 * math.pi * sigma2)


def covbeta_at(cache: PlsCache, varpar: np.ndarray) -> np.ndarray:
    """lmerTest's ``get_covbeta``: σ² (R_X'R_X)⁻¹ at (θ, σ) = ``varpar``, as R's
    column-major vector."""
    s = cache.at(varpar[:-1], need_rx=True)
    p = s.RX.shape[0]
    Linv = np.linalg.solve(s.RX, np.eye(p))
    return (varpar[-1] ** 2 * (Linv.T @ Linv)).ravel(order="F")


def richardson_steps(x: np.ndarray, d: float) -> np.ndarray:
    """numDeriv's first step h = |d x| + eps·(|x| < zero.tol)."""
    return np.abs(d * x) + STEP_EPS * (np.abs(x) < ZERO_TOL)


def richardson_extrapolate(a: np.ndarray) -> np.ndarray:
    """numDeriv's Richardson improvement over the r approximations on axis 0 (steps halved,
    v = 2): a_k ← (4^m a_{k+1} − a_k) / (4^m − 1) for m = 1 … r − 1."""
    for m in range(1, a.shape[0]):
        a = (a[1:] * 4.0**m - a[:-1]) / (4.0**m - 1)
    return a[0]


def unit_step(n: int, i: int, h: np.ndarray) -> np.ndarray:
    """The vector ``(i == 1:n) * h`` of numDeriv (h_i at i, zero elsewhere)."""
    e = np.zeros(n)
    e[i] = h[i]
    return e


def hessian_richardson(f: Callable[[np.ndarray], float], x: np.ndarray) -> np.ndarray:
    """``numDeriv::hessian(f, x)`` (method "Richardson": d = 0.1, eps = 1e-4, r = 4, v = 2),
    through ``genD``: the diagonal from second differences, the off-diagonal from the mixed
    second differences less the diagonal parts, each Richardson-extrapolated."""
    n = len(x)
    f0 = f(x)
    h0 = richardson_steps(x, HESSIAN_D)
    hdiag = np.zeros(n)
    for i in range(n):
        h = h0.copy()
        approx = np.zeros(RICHARDSON_R)
        for k in range(RICHARDSON_R):
            e = unit_step(n, i, h)
            approx[k] = (f(x + e) - 2 * f0 + f(x - e)) / h[i] ** 2
            h = h / 2
        hdiag[i] = richardson_extrapolate(approx)
    H = np.diag(hdiag)
    for i in range(n):
        for j in range(i):
            h = h0.copy()
            approx = np.zeros(RICHARDSON_R)
            for k in range(RICHARDSON_R):
                e = unit_step(n, i, h) + unit_step(n, j, h)
                approx[k] = ((f(x + e) - 2 * f0 + f(x - e) - hdiag[i] * h[i] ** 2
                              - hdiag[j] * h[j] ** 2) / (2 * h[i] * h[j]))
                h = h / 2
            H[i, j] = H[j, i] = richardson_extrapolate(approx)
    return H


def jacobian_richardson(f: Callable[[np.ndarray], np.ndarray], x: np.ndarray) -> np.ndarray:
    """``numDeriv::jacobian(f, x)`` (method "Richardson": d = 1e-4, eps = 1e-4, r = 4, v = 2):
    central differences with halved steps, Richardson-extrapolated; (length f, length x)."""
    n = len(x)
    h = richardson_steps(x, JACOBIAN_D)
    cols: list = [[] for _ in range(n)]
    for _ in range(RICHARDSON_R):
        for i in range(n):
            e = unit_step(n, i, h)
            cols[i].append((f(x + e) - f(x - e)) / (2 * h[i]))
        h = h / 2
    return np.column_stack([richardson_extrapolate(np.array(c)) for c in cols])


def vcov_from_hessian(H: np.ndarray) -> np.ndarray:
    """A = 2 H⁺ from the eigen-decomposition of H, eigenvalues above 1e-8 kept; lmerTest's
    warnings for negative eigenvalues and eigenvalues close to zero."""
    values, vectors = np.linalg.eigh(H)
    order = np.argsort(values)[::-1]  # R's eigen: decreasing
    values, vectors = values[order], vectors[:, order]
    warn_eigenvalues(values)
    pos = values > EIGEN_TOL
    V = vectors[:, pos]
    return 2 * (V / values[pos]) @ V.T


def warn_eigenvalues(values: np.ndarray) -> None:
    """lmerTest's messages about the Hessian of the deviance in (θ, σ)."""
    neg = values[values < -EIGEN_TOL]
    zero = values[(values > -EIGEN_TOL) & (values < EIGEN_TOL)]
    if len(neg):
        word = "eigenvalues" if len(neg) > 1 else "eigenvalue"
        warnings.warn(f"Model failed to converge with {len(neg)} negative {word}: "
                      + " ".join(f"{v:1.1e}" for v in neg), ConvergenceWarning, stacklevel=4)
    if len(zero):
        word = "eigenvalues" if len(zero) > 1 else "eigenvalue"
        warnings.warn(f"Model may not have converged with {len(zero)} {word} close to zero: "
                      + " ".join(f"{v:1.1e}" for v in zero), ConvergenceWarning, stacklevel=4)


def varpar_derivatives(model: Any, theta: np.ndarray, sigma: float, n: int, p: int,
                       reml: bool) -> VarparDerivs:
    """lmerTest's ``as_lmerModLT``: the Hessian of ``devfun_vp`` at (θ̂, σ̂), A = 2 H⁺ and the
    Jacobian of ``get_covbeta``, split into one (p, p) matrix per variance parameter."""
    cache = PlsCache(model)
    x = np.append(np.asarray(theta, dtype=float), float(sigma))
    H = hessian_richardson(lambda v: varpar_deviance(cache, v, n, p, reml), x)
    A = vcov_from_hessian(H)
    J = jacobian_richardson(lambda v: covbeta_at(cache, v), x)
    jac_list = [J[:, i].reshape(p, p, order="F") for i in range(len(x))]
    return VarparDerivs(x, H, A, jac_list)
