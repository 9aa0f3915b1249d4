"""Plain NumPy reference of R's least-squares kernel (LINPACK dqrdc2 + dqrls), and unit tests
of the compiled ``_core.lm_wfit`` against it (and of the reference against live R).

The reference follows the algorithm described in R-SEMANTICS §C1: Householder QR with limited
column pivoting (a column whose remaining norm falls below ``tol`` times its original norm is
rotated to the end), norms down-dated and recomputed when the down-date factor is below 1e-6.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from rmodels import _core


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


def _ddot(x, y) -> float:
    """Reference BLAS ddot: a sequential sum in double precision."""
    s = 0.0
    for a, b in zip(x, y):
        s = s + a * b
    return s


def _dnrm2(x) -> float:
    """Reference BLAS 3.11 dnrm2 for mid-range values: sqrt of the sequential sum of squares."""
    s = 0.0
    for a in x:
        s = s + a * a
    return math.sqrt(s)


def dqrdc2_sequential(cols: list, tol: float):
    """dqrdc2 in R's exact double-precision operation order (sequential dot products, the
    reflector scaled by the reciprocal of its norm). ``cols`` is a list of columns (lists),
    overwritten. Returns (qraux, pivot0, rank)."""
    n = len(cols[0]) if cols else 0
    p = len(cols)
    qraux = [_dnrm2(c) for c in cols]
    w1 = qraux[:]
    w2 = [q if q != 0 else 1.0 for q in qraux]
    piv = list(range(p))
    k = p + 1
    for l in range(min(n, p)):
        while l + 1 < k and qraux[l] < w2[l] * tol:
            for arr in (cols, piv, qraux, w1, w2):
                arr.append(arr.pop(l))
            k -= 1
        if l + 1 == n:
            continue
        c = cols[l]
        nrmxl = _dnrm2(c[l:])
        if nrmxl == 0:
            continue
        if c[l] != 0:
            nrmxl = math.copysign(nrmxl, c[l])
        f = 1.0 / nrmxl
        for i in range(l, n):
            c[i] = f * c[i]
        c[l] = 1.0 + c[l]
        for j in range(l + 1, p):
            cj = cols[j]
            t = -_ddot(c[l:], cj[l:]) / c[l]
            for i in range(l, n):
                cj[i] = cj[i] + t * c[i]
            if qraux[j] == 0:
                continue
            tt = max(1.0 - (abs(cj[l]) / qraux[j]) ** 2, 0.0)
            if abs(tt) < 1e-6:
                qraux[j] = _dnrm2(cj[l + 1:])
                w1[j] = qraux[j]
            else:
                qraux[j] = qraux[j] * math.sqrt(tt)
        qraux[l] = c[l]
        c[l] = -nrmxl
    return qraux, piv, min(k - 1, n)


def _reflect(cols, qraux, j, y):
    c = cols[j]
    u = [qraux[j]] + c[j + 1:]
    t = -_ddot(u, y[j:]) / u[0]
    for i in range(j, len(y)):
        y[i] = y[i] + t * u[i - j]


def lm_wfit_sequential(X, y, weights=None, offset=None, tol=1e-7) -> dict:
    """R's ``lm.wfit`` (``lm.fit`` without weights) for one response, bit for bit: dqrdc2 and
    dqrsl (Q'y, back substitution, residuals) in R's operation order; zero weights set aside."""
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    n, p = X.shape
    yo = y - offset if offset is not None else y.copy()
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    ok = w != 0
    wts = np.sqrt(w[ok])
    xw = X[ok] * wts[:, None] if weights is not None else X[ok]
    yw = yo[ok] * wts if weights is not None else yo[ok]
    m = int(ok.sum())
    cols = [list(map(float, xw[:, j])) for j in range(p)]
    qraux, piv, k = dqrdc2_sequential(cols, tol)
    qty = list(map(float, yw))
    ju = min(k, m - 1)
    for j in range(ju):
        if qraux[j] != 0:
            _reflect(cols, qraux, j, qty)
    b = qty[:k]
    for jj in range(k):
        j = k - jj - 1
        b[j] = b[j] / cols[j][j]
        if j != 0:
            t = -b[j]
            for i in range(j):
                b[i] = b[i] + t * cols[j][i]
    rsd = [0.0] * k + qty[k:]
    for j in reversed(range(ju)):
        if qraux[j] != 0:
            _reflect(cols, qraux, j, rsd)
    coef = np.full(p, np.nan)
    coef[np.asarray(piv[:k], dtype=int)] = b
    resid_ok = np.asarray(rsd) / wts if weights is not None else np.asarray(rsd)
    resid = np.empty(n)
    fitted = np.empty(n)
    resid[ok] = resid_ok
    fitted[ok] = yo[ok] - resid_ok
    if not ok.all():
        c0 = np.where(np.isnan(coef), 0.0, coef)
        f0 = np.array([_ddot(row, c0) for row in X[~ok]])
        resid[~ok] = yo[~ok] - f0
        fitted[~ok] = f0
    if offset is not None:
        fitted = fitted + offset
    return {"coefficients": coef, "qr": np.array(cols).T.copy(order="F"),
            "qraux": np.asarray(qraux), "pivot": np.asarray(piv), "rank": k,
            "effects": np.asarray(qty), "residuals": resid, "fitted_values": fitted,
            "df_residual": m - k}


def lm_wfit_reference(X, Y, weights=None, offset=None, tol=1e-7):
    """:func:`lm_wfit_sequential` for one or several responses (columns of ``Y``)."""
    Y = np.asarray(Y, dtype=float)
    if Y.ndim == 1:
        return lm_wfit_sequential(X, Y, weights, offset, tol)
    fits = [lm_wfit_sequential(X, Y[:, j], weights, offset, tol) for j in range(Y.shape[1])]
    out = dict(fits[0])
    for key in ("coefficients", "effects", "residuals", "fitted_values"):
        out[key] = np.column_stack([f[key] for f in fits])
    return out


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
    from rmodels.models.lm.wfit import lm_wfit

    X, y = _design(seed)
    w = np.random.default_rng(seed).uniform(0.5, 2, size=len(y)) if weighted else None
    off = np.linspace(0, 1, len(y))
    ref = lm_wfit_reference(X, y, w, off)
    got = lm_wfit(np.asfortranarray(X), y, w, off, 1e-7)
    assert got["rank"] == ref["rank"]
    assert list(got["pivot"]) == list(ref["pivot"])
    k = ref["rank"]
    for key in ("coefficients", "residuals", "fitted_values", "effects"):
        np.testing.assert_allclose(got[key], ref[key], rtol=1e-9, atol=1e-11, err_msg=key)
    # the factor of the first `rank` columns (R also triangularises the aliased columns moved to
    # the end, which nothing in lm reads)
    np.testing.assert_allclose(got["qr"][:, :k], ref["qr"][:, :k], rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(got["qraux"][:k], ref["qraux"][:k], rtol=1e-9, atol=1e-11)


@pytest.mark.r
@pytest.mark.parametrize("weighted", [False, True])
def test_sequential_reference_is_bit_identical_to_r(weighted):
    """The sequential reference reproduces R's lm.fit / lm.wfit to the last bit."""
    from rbridge import r

    code = "X <- model.matrix(~ Species + Petal.Width, iris); y <- iris$Sepal.Length; " \
           "w <- 1 + (seq_len(nrow(X)) %% 5)/2"
    X = r(code + "; X")
    y = r("y")
    w = r("w")
    want = r("lm.wfit(X, y, w)" if weighted else "lm.fit(X, y)")
    got = lm_wfit_reference(X, y, w if weighted else None)
    for key in ("coefficients", "residuals", "effects"):
        assert np.array_equal(got[key], np.asarray(want[key]), equal_nan=True), key


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_core_bit_identical_to_sequential_reference(seed):
    from rmodels.models.lm.wfit import lm_wfit

    X, y = _design(seed, n=40)
    ref = lm_wfit_reference(X, y)
    got = lm_wfit(np.asfortranarray(X), y, None, None, 1e-7)
    assert np.array_equal(got["coefficients"], ref["coefficients"], equal_nan=True)


def _np_summary_sums(f, r, w, intercept):
    """summary.lm's (mss, rss) in NumPy (R's formulas, no long double)."""
    if w is None:
        m = f.mean() if intercept else 0.0
        return float(np.sum((f - m) ** 2)), float(np.sum(r * r))
    m = np.sum(w * f / np.sum(w)) if intercept else 0.0
    return float(np.sum(w * (f - m) ** 2)), float(np.sum(w * r * r))


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("intercept", [False, True])
def test_r_summary_sums_against_numpy(weighted, intercept):
    rng = np.random.default_rng(5)
    f = rng.normal(3, 2, 500)
    r = rng.normal(0, 1, 500)
    w = rng.uniform(0.1, 3, 500) if weighted else None
    got = _core.r_summary_sums(f, r, w, intercept)
    np.testing.assert_allclose(got, _np_summary_sums(f, r, w, intercept), rtol=1e-12)
    with pytest.raises(ValueError):
        _core.r_summary_sums(f, r[:-1], w, intercept)


def test_r_sum_and_mean_against_fsum():
    """R's sum() and mean() (long-double accumulation) against exactly rounded sums."""
    rng = np.random.default_rng(9)
    x = rng.normal(0, 1, 10001) * 10.0 ** rng.integers(-8, 8, 10001)
    assert _core.r_sum(x) == pytest.approx(math.fsum(x), rel=1e-14, abs=1e-12)
    assert _core.r_mean(x) == pytest.approx(math.fsum(x) / x.size, rel=1e-14, abs=1e-12)
    assert math.isnan(_core.r_mean(np.array([])))
    assert _core.r_sum(np.array([])) == 0.0
