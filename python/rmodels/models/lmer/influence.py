"""Influence measures of an lmer fit (lme4's ``hatvalues.merMod`` and
``cooks.distance.merMod``), over the rows in the fit.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...errors import FitError
from .predict import residual_values


def hat_values(fit: Any, working_weights: np.ndarray | None = None) -> np.ndarray:
    """Diagonal of the hat matrix of the penalized fit (lme4's ``hatvalues.merMod``):
    colSums(C_L²) + colSums(C_R²) with C_L = L⁻¹Λ'Z'W½, C_R = R_X'⁻¹(X'W½ − R_ZX'C_L), W the
    prior weights. A GLMM passes its final PIRLS weights as ``working_weights``: lme4's L, R_ZX
    and R_X are factors at those weights, W stays the prior weights. Computed densely (n·q
    must stay below 5e7)."""
    n, q = fit.nobs(), fit.re.q
    if n * q > 5e7:
        raise FitError("hatvalues: the dense computation is limited to n * q < 5e7")
    sw = np.ones(n) if fit.prior_weights is None else np.sqrt(fit.prior_weights)
    ZL0 = _dense_z(fit) @ _dense_lambda(fit)
    ZL = ZL0 * sw[:, None]
    Xw = fit.X * sw[:, None]
    if working_weights is None:
        L = np.linalg.cholesky(ZL.T @ ZL + np.eye(q))
        CL = np.linalg.solve(L, ZL.T)
        RZX = CL @ Xw
        RX = np.linalg.cholesky(Xw.T @ Xw - RZX.T @ RZX) if fit.p else np.zeros((0, 0))
    else:
        sk = np.sqrt(working_weights)[:, None]
        ZLk, Xk = ZL0 * sk, fit.X * sk
        L = np.linalg.cholesky(ZLk.T @ ZLk + np.eye(q))
        CL = np.linalg.solve(L, ZL.T)
        RZX = np.linalg.solve(L, ZLk.T @ Xk)
        RX = np.linalg.cholesky(Xk.T @ Xk - RZX.T @ RZX) if fit.p else np.zeros((0, 0))
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


def cooks_distances(fit: Any, hat: np.ndarray, pearson: np.ndarray | None = None) -> np.ndarray:
    """lme4's ``cooks.distance.merMod``: (r/(1−h))² h / (σ̂² p), r the Pearson residuals (an
    lmer fit's unless ``pearson`` gives them, as a GLMM does), h the hat values; infinite
    values become NaN."""
    r = residual_values(fit, type="pearson") if pearson is None else pearson
    with np.errstate(divide="ignore", invalid="ignore"):
        out = (r / (1 - hat)) ** 2 * hat / (fit.sigma() ** 2 * fit.p)
    out[np.isinf(out)] = np.nan
    return out
