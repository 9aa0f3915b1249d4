"""Plain NumPy reference of R's least-squares kernel (LINPACK dqrdc2 + dqrls), and unit tests
of the compiled ``_core.lm_wfit`` against it (and of the reference against live R).

The reference follows the algorithm described in R-SEMANTICS §C1: Householder QR with limited
column pivoting (a column whose remaining norm falls below ``tol`` times its original norm is
rotated to the end), norms down-dated and recomputed when the down-date factor is below 1e-6.
"""

from __future__ import annotations

import numpy as np
import pytest

from rmodels import _core


def dqrdc2_reference(X: np.ndarray, tol: float = 1e-7):
    """Compact pivoted QR as R's ``qr(X, LAPACK = FALSE, tol)``: (qr, qraux, pivot0, rank)."""
    x = np.array(X, dtype=float, order="F", copy=True)
    n, p = x.shape
    qraux = np.sqrt((x * x).sum(axis=0)) if n else np.zeros(p)
    work1 = qraux.copy()
    work2 = np.where(qraux == 0.0, 1.0, qraux)
    piv = np.arange(p)
    k = p + 1  # 1-based as in the Fortran
    for l0 in range(min(n, p)):
        l1 = l0 + 1
        while l1 < k and qraux[l0] < work2[l0] * tol:
            # rotate column l0 to the end
            order = list(range(l0 + 1, p)) + [l0]
            for arr in (piv, qraux, work1, work2):
                arr[l0:] = arr[order]
            x[:, l0:] = x[:, order]
            k -= 1
        if l1 == n:
            continue
        nrmxl = np.sqrt(np.dot(x[l0:, l0], x[l0:, l0]))
        if nrmxl == 0.0:
            continue
        if x[l0, l0] != 0.0:
            nrmxl = np.copysign(nrmxl, x[l0, l0])
        x[l0:, l0] /= nrmxl
        x[l0, l0] += 1.0
        for j in range(l0 + 1, p):
            t = -np.dot(x[l0:, l0], x[l0:, j]) / x[l0, l0]
            x[l0:, j] += t * x[l0:, l0]
            if qraux[j] == 0.0:
                continue
            tt = max(1.0 - (abs(x[l0, j]) / qraux[j]) ** 2, 0.0)
            if abs(tt) < 1e-6:
                qraux[j] = np.sqrt(np.dot(x[l0 + 1:, j], x[l0 + 1:, j]))
                work1[j] = qraux[j]
            else:
                qraux[j] = qraux[j] * np.sqrt(tt)
        qraux[l0] = x[l0, l0]
        x[l0, l0] = -nrmxl
    rank = min(k - 1, n)
    return x, qraux, piv, rank


def _apply_qt(qr, qraux, rank, y):
    """Q'y with LINPACK's reflector storage (dqrsl job 1000)."""
    y = np.array(y, dtype=float, copy=True)
    n = qr.shape[0]
    for j in range(min(rank, n - 1)):
        if qraux[j] == 0.0:
            continue
        u = qr[j:, j].copy()
        u[0] = qraux[j]
        t = -(u @ y[j:]) / u[0]
        y[j:] += np.multiply.outer(u, t) if y.ndim == 2 else t * u
    return y


def _apply_q(qr, qraux, rank, y):
    y = np.array(y, dtype=float, copy=True)
    n = qr.shape[0]
    for j in reversed(range(min(rank, n - 1))):
        if qraux[j] == 0.0:
            continue
        u = qr[j:, j].copy()
        u[0] = qraux[j]
        t = -(u @ y[j:]) / u[0]
        y[j:] += np.multiply.outer(u, t) if y.ndim == 2 else t * u
    return y


def lm_wfit_reference(X, Y, weights=None, offset=None, tol=1e-7):
    """R's ``lm.wfit``/``lm.fit`` on rows with non-zero weight (zero weights are the caller's)."""
    X = np.asarray(X, dtype=float)
    Y = np.asarray(Y, dtype=float)
    w = np.ones(X.shape[0]) if weights is None else np.asarray(weights, dtype=float)
    yo = Y - (0.0 if offset is None else (offset if Y.ndim == 1 else offset[:, None]))
    sw = np.sqrt(w)
    xw = X * sw[:, None]
    yw = yo * (sw if Y.ndim == 1 else sw[:, None])
    qr, qraux, piv, rank = dqrdc2_reference(xw, tol)
    p = X.shape[1]
    effects = _apply_qt(qr, qraux, rank, yw)
    coef_piv = np.full((p,) + Y.shape[1:], np.nan)
    if rank:
        from scipy.linalg import solve_triangular

        coef_piv[:rank] = solve_triangular(qr[:rank, :rank], effects[:rank])
    coef = np.empty_like(coef_piv)
    coef[piv] = coef_piv
    z = effects.copy()
    z[:rank] = 0.0
    resid_w = _apply_q(qr, qraux, rank, z)
    resid = resid_w / (sw if Y.ndim == 1 else sw[:, None])
    fitted = Y - resid
    return {
        "coefficients": coef, "qr": qr, "qraux": qraux, "pivot": piv, "rank": rank,
        "effects": effects, "residuals": resid, "fitted_values": fitted,
        "df_residual": X.shape[0] - rank,
    }


def hat_reference(qr, qraux, rank):
    """Diagonal of the hat matrix: row sums of squares of the first ``rank`` columns of Q."""
    n = qr.shape[0]
    e = np.zeros((n, rank))
    e[np.arange(rank), np.arange(rank)] = 1.0
    q1 = _apply_q(qr, qraux, rank, e)
    return (q1 * q1).sum(axis=1)


def _design(seed=1, n=30):
    rng = np.random.default_rng(seed)
    x1, x2, x4 = rng.normal(size=(3, n))
    X = np.column_stack([np.ones(n), x1, x1 + 2 * x2, x2, x4])
    y = 1 + x1 - x2 + 0.5 * x4 + rng.normal(scale=0.3, size=n)
    return X, y


def test_reference_moves_aliased_column_to_end():
    X, y = _design()
    out = lm_wfit_reference(X, y)
    assert out["rank"] == 4
    assert list(out["pivot"]) == [0, 1, 2, 4, 3]
    assert np.isnan(out["coefficients"][3])
    full = np.linalg.lstsq(X[:, [0, 1, 2, 4]], y, rcond=None)[0]
    np.testing.assert_allclose(out["coefficients"][[0, 1, 2, 4]], full, rtol=1e-10)


def test_reference_relative_tolerance():
    X, y = _design()
    Xs = X.copy()
    Xs[:, 4] *= 1e-10  # tiny but not collinear: kept
    out = lm_wfit_reference(Xs, y)
    assert not np.isnan(out["coefficients"][4])


@pytest.mark.skipif(not hasattr(_core, "lm_wfit"), reason="compiled lm_wfit not built yet")
@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("weighted", [False, True])
def test_core_matches_reference(seed, weighted):
    from rmodels.lm import _core_wfit

    X, y = _design(seed)
    w = np.random.default_rng(seed).uniform(0.5, 2, size=len(y)) if weighted else None
    off = np.linspace(0, 1, len(y))
    ref = lm_wfit_reference(X, y, w, off)
    got = _core_wfit(np.asfortranarray(X), y, w, off, 1e-7)
    assert got["rank"] == ref["rank"]
    assert list(got["pivot"]) == list(ref["pivot"])
    for key in ("coefficients", "residuals", "fitted_values", "effects", "qr", "qraux"):
        np.testing.assert_allclose(got[key], ref[key], rtol=1e-9, atol=1e-11, err_msg=key)
