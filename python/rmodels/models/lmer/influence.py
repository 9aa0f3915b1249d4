"""Influence measures of an lmer fit (lme4's ``hatvalues.merMod`` and
``cooks.distance.merMod``), over the rows in the fit.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...errors import FitError
from .predict import residual_values


def hat_values(fit: Any) -> np.ndarray:
    """Diagonal of the hat matrix of the penalized fit (lme4's ``hatvalues.merMod``):
    colSums(C_L²) + colSums(C_R²) with C_L = L⁻¹Λ'Z'W½, C_R = R_X'⁻¹(X'W½ − R_ZX'C_L).
    Computed densely (n·q must stay below 5e7)."""
    n, q = fit.nobs(), fit.re.q
    if n * q > 5e7:
        raise FitError("hatvalues: the dense computation is limited to n * q < 5e7")
    sw = np.ones(n) if fit.prior_weights is None else np.sqrt(fit.prior_weights)
    ZL = (_dense_z(fit) @ _dense_lambda(fit)) * sw[:, None]
    Xw = fit.X * sw[:, None]
    L = np.linalg.cholesky(ZL.T @ ZL + np.eye(q))
    CL = np.linalg.solve(L, ZL.T)
    RZX = CL @ Xw
    RX = np.linalg.cholesky(Xw.T @ Xw - RZX.T @ RZX) if fit.p else np.zeros((0, 0))
    CR = np.linalg.solve(RX, Xw.T - RZX.T @ CL) if fit.p else np.zeros((0, n))
    return np.sum(CL**2, axis=0) + np.sum(CR**2, axis=0)


def _dense_z(fit: Any) -> np.ndarray:
    """Z (n x q), column ``off + level * k + e`` for effect e of a term's level."""
    n, q = fit.nobs(), fit.re.q
    Z = np.zeros((n, q))
    off = 0
    for t in fit.re.terms:
        for e in range(t.k):
            Z[np.arange(n), off + t.codes * t.k + e] = t.Z[:, e]
        off += t.k * t.nlev
    return Z


def _dense_lambda(fit: Any) -> np.ndarray:
    """Λ_θ (q x q): per term I_nlev ⊗ T_θ."""
    q = fit.re.q
    Lam = np.zeros((q, q))
    off = 0
    for t, T in zip(fit.re.terms, fit.re.templates(fit.theta)):
        for lev in range(t.nlev):
            sl = slice(off + lev * t.k, off + (lev + 1) * t.k)
            Lam[sl, sl] = T
        off += t.k * t.nlev
    return Lam


def cooks_distances(fit: Any, hat: np.ndarray) -> np.ndarray:
    """lme4's ``cooks.distance.merMod``: (r/(1−h))² h / (σ̂² p), r the Pearson residuals, h the
    hat values; infinite values become NaN."""
    r = residual_values(fit, type="pearson")
    with np.errstate(divide="ignore", invalid="ignore"):
        out = (r / (1 - hat)) ** 2 * hat / (fit.sigma() ** 2 * fit.p)
    out[np.isinf(out)] = np.nan
    return out
