"""Satterthwaite's denominator degrees of freedom for tests of the fixed effects of an lmer fit,
as lmerTest 3.1-3 computes them (``contest1D`` and ``contestMD`` of ``lmerModLmerTest``).

For one contrast l: var = l'Vl with V = cov(β̂); g_i = l'J_i l with J_i = ∂V/∂(θ, σ)_i;
ν = 2 var² / (g'Ag) with A = cov(θ̂, σ̂) (:mod:`.varpar`).

For a q-row contrast L: L V L' = P D P' (eigenvalues above √ε·d₁ kept); the rows of P'L are q
independent one-df contrasts with t_m² = (P'Lβ̂)_m² / d_m and ν_m as above; F = mean of the
t_m², and the denominator df is 2E / (E − q) with E = Σ ν_m / (ν_m − 2) (2 if some ν_m ≤ 2,
the common value if all ν_m agree within 1e-8).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .varpar import VarparDerivs

EPS_RANK = float(np.sqrt(np.finfo(float).eps))


@dataclass
class TTest:
    """One contrast's estimate, standard error and Satterthwaite/Kenward-Roger df."""

    estimate: float
    std_error: float
    df: float


@dataclass
class FTest:
    """A multi-row contrast's F test: F, numerator and denominator df; ``mean_sq_scale`` is
    σ̂² (lmerTest's ``Mean Sq`` = F·σ̂² before any F scaling)."""

    F: float  # noqa: N815
    numdf: float
    dendf: float
    F_unscaled: float  # noqa: N815


def qform(x: np.ndarray, A: np.ndarray) -> float:
    """x'Ax."""
    return float(x @ (A @ x))


def satterthwaite_df(l: np.ndarray, V: np.ndarray, derivs: VarparDerivs) -> float:  # noqa: E741
    """ν = 2 (l'Vl)² / (g'Ag), g_i = l'J_i l."""
    var_con = qform(l, V)
    return 2 * var_con**2 / qform(jacobian_qforms(l, derivs), derivs.vcov_varpar)


def jacobian_qforms(l: np.ndarray, derivs: VarparDerivs) -> np.ndarray:  # noqa: E741
    """g_i = l'J_i l for every variance parameter i."""
    return np.einsum("i,kij,j->k", l, derivs.jac_stack, l)


def satterthwaite_t(l: np.ndarray, beta: np.ndarray, V: np.ndarray,
                    derivs: VarparDerivs) -> TTest:
    """lmerTest's ``contest1D`` (Satterthwaite): l'β̂, √(l'Vl) and ν."""
    if np.isnan(l).any():
        return TTest(np.nan, np.nan, np.nan)
    return TTest(float(l @ beta), float(np.sqrt(qform(l, V))), satterthwaite_df(l, V, derivs))


def fstat_ddf(nu: np.ndarray, tol: float = 1e-8) -> float:
    """lmerTest's ``get_Fstat_ddf``: the denominator df of the mean of q independent t²."""
    if len(nu) == 1:
        return float(nu[0])
    if np.all(np.abs(np.diff(nu)) < tol):
        return float(np.mean(nu))
    if np.any(nu <= 2):
        return 2.0
    E = float(np.sum(nu / (nu - 2)))
    return 2 * E / (E - len(nu))


def independent_contrasts(L: np.ndarray, V: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The eigen-decomposition of L V L' (decreasing), rank tolerance √ε·d₁: the rows of P'L
    kept and their variances d."""
    d, P = np.linalg.eigh(L @ V @ L.T)
    order = np.argsort(d)[::-1]
    d, P = d[order], P[:, order]
    tol = max(EPS_RANK * d[0], 0.0)
    q = int(np.sum(d > tol))
    return (P.T @ L)[:q], d[:q]


def satterthwaite_f(L: np.ndarray, beta: np.ndarray, V: np.ndarray,
                    derivs: VarparDerivs) -> FTest | None:
    """lmerTest's ``contestMD`` (Satterthwaite) for a hypothesis Lβ = 0; None when L V L' has
    rank 0 (lmerTest's empty row)."""
    if L.shape[0] == 1:
        t = satterthwaite_t(L[0], beta, V, derivs)
        F = (t.estimate / t.std_error) ** 2
        return FTest(F, 1, t.df, F)
    PtL, d = independent_contrasts(L, V)
    q = len(d)
    if q == 0:
        return None
    if q == 1:
        t = satterthwaite_t(PtL[0], beta, V, derivs)
        F = (t.estimate / t.std_error) ** 2
        return FTest(F, 1, t.df, F)
    t2 = (PtL @ beta) ** 2 / d
    nu = np.array([2 * d[m] ** 2 / qform(jacobian_qforms(PtL[m], derivs), derivs.vcov_varpar)
                   for m in range(q)])
    F = float(np.sum(t2) / q)
    return FTest(F, q, fstat_ddf(nu), F)
