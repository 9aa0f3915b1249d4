"""Satterthwaite's denominator degrees of freedom for tests of the fixed effects of an lmer fit,
as lmerTest 3.1-3 computes them (``contest1D`` and ``contestMD`` of ``lmerModLmerTest``), for
many contrasts in one vectorised pass.

For one contrast l: var = l'Vl with V = cov(β̂); g_i = l'J_i l with J_i = ∂V/∂(θ, σ)_i;
ν = 2 var² / (g'Ag) with A = cov(θ̂, σ̂) (:mod:`.varpar`).

For a q-row contrast L: L V L' = P D P' (eigenvalues above √ε·d₁ kept); the rows of P'L are q
independent one-df contrasts with t_m² = (P'Lβ̂)_m² / d_m and ν_m as above; F = mean of the
t_m², and the denominator df is 2E / (E − q) with E = Σ ν_m / (ν_m − 2) (2 if some ν_m ≤ 2,
the common value if all ν_m agree within 1e-8).

Several hypotheses are tested together: their one-df rows are stacked (``ContrastRows``) and
ν, t² and the per-hypothesis sums are computed for all rows at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .varpar import VarparDerivs

EPS_RANK = float(np.sqrt(np.finfo(float).eps))


@dataclass
class TTests:
    """Contrasts' estimates, standard errors and Satterthwaite/Kenward-Roger df (arrays)."""

    estimate: np.ndarray
    std_error: np.ndarray
    df: np.ndarray


@dataclass
class FTests:
    """F tests of several hypotheses (arrays, one entry each): F, numerator df q (0: L V L'
    has rank 0, lmerTest's empty row) and denominator df; ``F_unscaled`` is the Wald F before
    Kenward-Roger's scaling (lmerTest's ``Mean Sq`` = ``F_unscaled``·σ̂²)."""

    F: np.ndarray  # noqa: N815
    numdf: np.ndarray
    dendf: np.ndarray
    F_unscaled: np.ndarray  # noqa: N815


@dataclass
class ContrastRows:
    """The independent one-df rows of several hypotheses stacked: ``rows`` (R, p), their
    variances ``var`` (R,) and the number of rows of each hypothesis ``q``."""

    rows: np.ndarray
    var: np.ndarray
    q: np.ndarray


def row_variances(M: np.ndarray, V: np.ndarray) -> np.ndarray:
    """m_r'Vm_r for every row of M."""
    return np.einsum("rp,pq,rq->r", M, V, M)


def row_dfs(M: np.ndarray, var: np.ndarray, derivs: VarparDerivs) -> np.ndarray:
    """ν_r = 2 var_r² / (g_r'Ag_r) with g_rk = m_r'J_k m_r, every row r of M at once."""
    g = np.einsum("rp,kpq,rq->rk", M, derivs.jac_stack, M)
    with np.errstate(divide="ignore", invalid="ignore"):
        return 2 * var**2 / np.einsum("rk,kl,rl->r", g, derivs.vcov_varpar, g)


def satterthwaite_t_tests(M: np.ndarray, beta: np.ndarray, V: np.ndarray,
                          derivs: VarparDerivs) -> TTests:
    """lmerTest's ``contest1D`` (Satterthwaite) of every row of M: m'β̂, √(m'Vm) and ν (NaN
    for a row with a NaN)."""
    M = np.atleast_2d(np.asarray(M, dtype=float))
    var = row_variances(M, V)
    return TTests(M @ beta, np.sqrt(var), row_dfs(M, var, derivs))


def independent_contrasts(L: np.ndarray, C: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """From C = L V L', its eigen-decomposition (decreasing), rank tolerance √ε·d₁: the rows of
    P'L kept and their variances d."""
    d, P = np.linalg.eigh(C)
    d, P = d[::-1], P[:, ::-1]
    tol = max(EPS_RANK * d[0], 0.0)
    q = int(np.sum(d > tol))
    return (P[:, :q].T @ L), d[:q]


def contrast_rows(Ls: Sequence[np.ndarray], V: np.ndarray) -> ContrastRows:
    """The one-df rows of each hypothesis (lmerTest's ``contestMD``): a one-row L as it is,
    otherwise the independent rows of its L V L'. One product L V L' over all rows."""
    sizes = np.array([L.shape[0] for L in Ls], dtype=int)
    Lall = np.vstack(Ls)
    C = Lall @ V @ Lall.T
    ends = np.cumsum(sizes)
    if np.all(sizes == 1):
        return ContrastRows(Lall, np.diag(C).copy(), sizes)
    rows, var, q = [], [], np.zeros(len(Ls), dtype=int)
    for h, (e, s) in enumerate(zip(ends, sizes)):
        if s == 1:
            rows.append(Lall[e - 1:e])
            var.append(C[e - 1, e - 1:e])
            q[h] = 1
            continue
        M, d = independent_contrasts(Lall[e - s:e], C[e - s:e, e - s:e])
        rows.append(M)
        var.append(d)
        q[h] = len(d)
    return ContrastRows(np.vstack(rows), np.concatenate(var), q)


def group_starts(q: np.ndarray) -> np.ndarray:
    """The first row of each (non-empty) group of q rows."""
    return np.cumsum(q) - q


def fstat_ddf(nu: np.ndarray, q: np.ndarray) -> np.ndarray:
    """lmerTest's ``get_Fstat_ddf`` for consecutive groups of q_h > 0 values of ν (one value per
    group): one ν as it is; all within 1e-8 of the next: their mean; some ν ≤ 2: 2; otherwise
    2E / (E − q) with E = Σ ν/(ν − 2)."""
    q = np.asarray(q, dtype=int)
    starts = group_starts(q)
    step = np.abs(np.diff(nu, append=0.0))
    step[starts + q - 1] = 0.0  # no step across groups
    same = np.maximum.reduceat(step, starts) < 1e-8
    mean = np.add.reduceat(nu, starts) / q
    small = np.fmin.reduceat(nu, starts) <= 2
    with np.errstate(divide="ignore", invalid="ignore"):
        E = np.add.reduceat(nu / (nu - 2), starts)
        general = 2 * E / (E - q)
    return np.where(same, mean, np.where(small, 2.0, general))


def satterthwaite_f_tests(Ls: Sequence[np.ndarray], beta: np.ndarray, V: np.ndarray,
                          derivs: VarparDerivs) -> FTests:
    """lmerTest's ``contestMD`` (Satterthwaite) of each hypothesis Lβ = 0 (L without NaN, at
    least one row): F, q and the denominator df; q = 0 (F, df NaN) when L V L' has rank 0."""
    cr = contrast_rows(Ls, V)
    F = np.full(len(Ls), np.nan)
    ddf = np.full(len(Ls), np.nan)
    has = cr.q > 0
    if cr.rows.shape[0]:
        with np.errstate(divide="ignore", invalid="ignore"):
            t2 = (cr.rows @ beta) ** 2 / cr.var
        nu = row_dfs(cr.rows, cr.var, derivs)
        q = cr.q[has]
        F[has] = np.add.reduceat(t2, group_starts(q)) / q
        ddf[has] = fstat_ddf(nu, q)
    q = cr.q.astype(float)
    return FTests(F, q, ddf, F)
