"""The variance parameters of an lmer fit in two coordinates: θ (the relative Cholesky factors
of each random-effect term, what the optimizer moves) and the standard deviations and
correlations (what ``VarCorr`` prints and what ``profile.merMod`` profiles): lme4's
``Cv_to_Sv`` and ``Sv_to_Cv`` with its ``safe_chol`` (R's ``chol``, with ``chol(pivot = TRUE)``
for matrices that are not positive definite).
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from ...errors import RModelsWarning


def lower_tri_from(v: np.ndarray, k: int) -> np.ndarray:
    """k x k lower triangle filled column by column from v (R's lower.tri order)."""
    m = np.zeros((k, k))
    pos = 0
    for j in range(k):
        for i in range(j, k):
            m[i, j] = v[pos]
            pos += 1
    return m


def lower_tri_values(m: np.ndarray) -> list:
    """The lower triangle of a square matrix column by column (R's ``m[lower.tri(m, diag =
    TRUE)]``)."""
    k = m.shape[0]
    return [m[i, j] for j in range(k) for i in range(j, k)]


def theta_to_sdcor(theta: np.ndarray, sizes: list, sigma: float) -> np.ndarray:
    """lme4's ``Cv_to_Sv(theta, n, s = sigma)``: per term the standard deviations and
    correlations of Λ Λ' σ² (lower triangle by columns), then σ."""
    out: list = []
    pos = 0
    for k in sizes:
        nt = k * (k + 1) // 2
        L = lower_tri_from(theta[pos:pos + nt], k)
        pos += nt
        V = (L @ L.T) * sigma**2
        sd = np.sqrt(np.diag(V))
        with np.errstate(divide="ignore", invalid="ignore"):
            inv = 1 / sd
            r = inv[:, None] * V * inv[None, :]
        np.fill_diagonal(r, sd)
        if np.isnan(r).any():
            warnings.warn("NA values in sdcor matrix converted to 0", RModelsWarning,
                          stacklevel=2)
            r[np.isnan(r)] = 0.0
        out += lower_tri_values(r)
    return np.array(out + [sigma])


def pivoted_chol_upper(m: np.ndarray) -> np.ndarray:
    """R's ``chol(m, pivot = TRUE)`` with its columns put back in their original order
    (``cc[, order(attr(cc, "pivot"))]``, lme4's ``safe_chol``), step by step as LAPACK's
    dpstf2 (upper): complete pivoting on the largest remaining diagonal; at the stop (that
    diagonal <= n eps max(diag)) the Schur complement's largest diagonal is left in place and
    the rows below the rank keep their input values."""
    a = np.array(m, dtype=float)
    n = a.shape[0]
    piv = np.arange(n)
    pvt = int(np.argmax(np.diag(a)))
    ajj = a[pvt, pvt]
    if not ajj > 0:
        return np.triu(a)[:, np.argsort(piv)]
    dstop = n * np.finfo(float).eps * ajj
    work = np.zeros(2 * n)
    for j in range(n):
        for i in range(j, n):
            if j > 0:
                work[i] += a[j - 1, i] ** 2
            work[n + i] = a[i, i] - work[i]
        if j > 0:
            pvt = j + int(np.argmax(work[n + j:2 * n]))
            ajj = work[n + pvt]
            if ajj <= dstop or np.isnan(ajj):
                a[j, j] = ajj
                break
        if j != pvt:
            a[pvt, pvt] = a[j, j]
            a[:j, [j, pvt]] = a[:j, [pvt, j]]
            if pvt < n - 1:
                a[[j, pvt], pvt + 1:] = a[[pvt, j], pvt + 1:]
            seg = a[j, j + 1:pvt].copy()
            a[j, j + 1:pvt] = a[j + 1:pvt, pvt]
            a[j + 1:pvt, pvt] = seg
            work[[j, pvt]] = work[[pvt, j]]
            piv[[j, pvt]] = piv[[pvt, j]]
        ajj = math.sqrt(ajj)
        a[j, j] = ajj
        if j < n - 1:
            a[j, j + 1:] = (a[j, j + 1:] - a[:j, j + 1:].T @ a[:j, j]) * (1.0 / ajj)
    return np.triu(a)[:, np.argsort(piv)]


def safe_chol_lower(m: np.ndarray) -> np.ndarray:
    """lme4's ``safe_chol(m)`` transposed: the lower Cholesky factor, with the shortcuts for
    NaN, zero, 1 x 1 and diagonal matrices, and R's pivoted factor (transposed, so not
    triangular) when ``m`` is not positive definite."""
    if np.isnan(m).any() or np.all(m == 0):
        return m
    if m.shape[0] == 1:
        return np.sqrt(m)
    if np.all(m[~np.eye(m.shape[0], dtype=bool)] == 0):
        return np.diag(np.sqrt(np.diag(m)))
    try:
        return np.linalg.cholesky(m)
    except np.linalg.LinAlgError:
        return pivoted_chol_upper(m).T


def small_term_theta(v: np.ndarray, s2: float) -> list | None:
    """θ of a 1 x 1 or 2 x 2 term from (sd) or (sd1, cor, sd2) and σ², by the arithmetic of
    ``safe_chol(sdcor2cov(m) / s^2)``; None where that takes its pivoted branch."""
    if len(v) == 1:
        sd = float(v[0])
        return [math.sqrt((sd * sd) / s2)]
    sd1, cor, sd2 = float(v[0]), float(v[1]), float(v[2])
    a11 = (sd1 * sd1) / s2
    a21 = (cor * (sd2 * sd1)) / s2
    a22 = (sd2 * sd2) / s2
    if a11 == 0 and a21 == 0 and a22 == 0:
        return [0.0, 0.0, 0.0]
    if a21 == 0:
        return [math.sqrt(a11), 0.0, math.sqrt(a22)]
    if not a11 > 0:
        return None
    l11 = math.sqrt(a11)
    l21 = a21 * (1.0 / l11)  # LAPACK dpotf2 scales by the reciprocal
    d = a22 - l21 * l21
    if not d > 0:
        return None
    return [l11, l21, math.sqrt(d)]


def sdcor_to_theta(sv: np.ndarray, sizes: list, sigma: float) -> np.ndarray:
    """lme4's ``Sv_to_Cv(sv, n, s = sigma)`` (sv without σ): θ of each term from its standard
    deviations and correlations."""
    out: list = []
    pos = 0
    s2 = sigma**2
    for k in sizes:
        nt = k * (k + 1) // 2
        if k <= 2:  # the same operations in scalars (the profile's inner loop)
            fast = small_term_theta(sv[pos:pos + nt], s2)
            if fast is not None:
                out += fast
                pos += nt
                continue
        m = lower_tri_from(sv[pos:pos + nt], k)
        pos += nt
        m = m + np.tril(m, -1).T
        sd = np.diag(m).copy()
        c = m.copy()
        np.fill_diagonal(c, 1.0)
        V = c * np.outer(sd, sd) / sigma**2
        x = safe_chol_lower(V)  # t(safe_chol(.)): lower unless the pivoted branch ran
        # mlist2vec: the lower triangle of x when x is lower triangular, else of t(x)
        out += lower_tri_values(x if not np.any(np.triu(x, 1)) else x.T)
    return np.array(out)
