"""The compiled least-squares core (dqrdc2 QR, lm_wfit) against a plain NumPy reference of
LINPACK dqrdc2 and, for tests marked ``r``, against R's qr(), lm.fit() and lm.wfit()."""

from __future__ import annotations

import numpy as np
import pytest
from rmodels import _core

# ---------------------------------------------------------------------------------------------
# NumPy reference: LINPACK dqrdc2 (R's limited pivoting), dqrsl's qty / b / rsd, lm.wfit.
# ---------------------------------------------------------------------------------------------


def ref_dqrdc2(x: np.ndarray, tol: float = 1e-7) -> dict:
    """Column-by-column dqrdc2: norms relative to each column's original norm, aliased columns
    rotated to the end, norms down-dated and recomputed when the squared factor drops below
    1e-6; LINPACK storage (qraux = first entry of each Householder vector)."""
    a = np.array(x, dtype=float, order="F", copy=True)
    n, p = a.shape
    pivot = list(range(p))
    cur = np.array([np.linalg.norm(a[:, j]) for j in range(p)]) if n > 0 else np.zeros(p)
    orig = np.where(cur == 0.0, 1.0, cur)
    k = p
    for step in range(min(n, p)):
        while step < k and cur[step] < orig[step] * tol:
            order = list(range(step + 1, p)) + [step]
            a[:, step:] = a[:, order]
            pivot[step:] = [pivot[i] for i in order]
            cur[step:] = cur[order]
            orig[step:] = orig[order]
            k -= 1
        if step == n - 1:
            continue
        col = a[step:, step]
        nrm = np.linalg.norm(col)
        if nrm == 0.0:
            continue
        if col[0] != 0.0:
            nrm = np.copysign(nrm, col[0])
        col *= 1.0 / nrm
        col[0] += 1.0
        for j in range(step + 1, p):
            t = -np.dot(col, a[step:, j]) / col[0]
            a[step:, j] += t * col
            if cur[j] != 0.0:
                tt = max(1.0 - (abs(a[step, j]) / cur[j]) ** 2, 0.0)
                if tt >= 1e-6:
                    cur[j] *= np.sqrt(tt)
                else:
                    cur[j] = np.linalg.norm(a[step + 1:, j])
        cur[step] = col[0]
        col[0] = -nrm
    return {"qr": a, "qraux": cur, "pivot": np.array(pivot), "rank": min(k, n)}


def ref_qty(f: dict, y: np.ndarray) -> np.ndarray:
    """dqrsl's Q'y: the first min(rank, n - 1) reflectors in order."""
    qr, qraux = f["qr"], f["qraux"]
    out = np.array(y, dtype=float, copy=True).reshape(qr.shape[0], -1)
    for j in range(min(f["rank"], qr.shape[0] - 1)):
        if qraux[j] == 0.0:
            continue
        u = np.concatenate([[qraux[j]], qr[j + 1:, j]])
        out[j:] -= np.outer(u, u @ out[j:]) / qraux[j]
    return out


def ref_qy(f: dict, y: np.ndarray) -> np.ndarray:
    qr, qraux = f["qr"], f["qraux"]
    out = np.array(y, dtype=float, copy=True).reshape(qr.shape[0], -1)
    for j in reversed(range(min(f["rank"], qr.shape[0] - 1))):
        if qraux[j] == 0.0:
            continue
        u = np.concatenate([[qraux[j]], qr[j + 1:, j]])
        out[j:] -= np.outer(u, u @ out[j:]) / qraux[j]
    return out


def ref_lm_wfit(x, y, w=None, offset=None, tol=1e-7) -> dict:
    """R's lm.wfit (lm.fit when w is None) on the reference QR."""
    x = np.asarray(x, float)
    y = np.asarray(y, float).reshape(x.shape[0], -1)
    n, p = x.shape
    yo = y - (0.0 if offset is None else np.asarray(offset, float)[:, None])
    ok = np.ones(n, bool) if w is None else np.asarray(w) != 0
    wts = np.ones(ok.sum()) if w is None else np.sqrt(np.asarray(w, float)[ok])
    f = ref_dqrdc2(x[ok] * wts[:, None], tol)
    r = f["rank"]
    eff = ref_qty(f, yo[ok] * wts[:, None])
    coef = np.full((p, y.shape[1]), np.nan)
    if r > 0:
        b = np.linalg.solve(np.triu(f["qr"][:r, :r]), eff[:r])
        coef[f["pivot"][:r]] = b
    rsd = eff.copy()
    rsd[:r] = 0.0
    rsd = ref_qy(f, rsd) / wts[:, None]
    res = np.empty_like(yo)
    fit = np.empty_like(yo)
    res[ok] = rsd
    fit[ok] = yo[ok] - rsd
    b0 = np.nan_to_num(coef)
    fit[~ok] = x[~ok] @ b0
    res[~ok] = yo[~ok] - fit[~ok]
    if offset is not None:
        fit += np.asarray(offset, float)[:, None]
    return {"coefficients": coef, "effects": eff, "residuals": res, "fitted_values": fit,
            "rank": r, "pivot": f["pivot"], "qraux": f["qraux"], "qr": f["qr"],
            "df_residual": int(ok.sum()) - r}


# ---------------------------------------------------------------------------------------------
# Matrices
# ---------------------------------------------------------------------------------------------


def design(kind: str, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if kind == "tall":
        return rng.standard_normal((40, 6))
    if kind == "square":
        return rng.standard_normal((7, 7))
    if kind == "wide":  # p > n
        return rng.standard_normal((4, 7))
    if kind == "one_row":
        return rng.standard_normal((1, 3))
    if kind == "intercept_dup":  # a column equal to a combination of earlier ones
        x = rng.standard_normal((25, 5))
        x[:, 0] = 1.0
        x[:, 3] = x[:, 1] - 2.0 * x[:, 2]
        return x
    if kind == "zero_col":
        x = rng.standard_normal((20, 4))
        x[:, 1] = 0.0
        return x
    if kind == "all_zero":
        return np.zeros((6, 3))
    if kind == "dummies":  # full dummy coding plus intercept: the last level is aliased
        g = rng.integers(0, 4, 30)
        x = np.column_stack([np.ones(30), rng.standard_normal(30)] + [(g == k) * 1.0
                                                                      for k in range(4)])
        return x
    if kind.startswith("near"):  # x5 = x1 + eps * x4 (R-SEMANTICS C1)
        eps = float(kind[4:])
        x = rng.standard_normal((10, 4))
        x[:, 0] = 1.0
        return np.column_stack([x[:, 0], x[:, 1], x[:, 1] + eps * x[:, 3], x[:, 2]])
    if kind == "scaled":  # a tiny but independent column is kept (relative criterion)
        x = rng.standard_normal((15, 3))
        x[:, 2] *= 1e-10
        return x
    if kind == "many_aliased":
        x = rng.standard_normal((30, 3))
        return np.column_stack([x, x @ rng.standard_normal((3, 5)), rng.standard_normal(30)])
    raise ValueError(kind)


KINDS = ["tall", "square", "wide", "one_row", "intercept_dup", "zero_col", "all_zero", "dummies",
         "near1e-6", "near1e-7", "near1e-8", "scaled", "many_aliased"]


def cond_rtol(x: np.ndarray, pivot, rank: int, base: float = 1e-10) -> float:
    """Relative tolerance for quantities of a least-squares fit: results are determined only to
    about cond(X_kept) * eps in any implementation, so near-collinear fits get a wider one."""
    if rank == 0:
        return base
    kept = x[:, np.asarray(pivot)[:rank]]
    kept = kept / np.maximum(np.linalg.norm(kept, axis=0), 1e-300)
    return max(base, float(np.linalg.cond(kept)) * 1e-14)


def fcopy(x: np.ndarray) -> np.ndarray:
    """A private Fortran-ordered copy (lm_wfit factorises its argument in place)."""
    return np.array(x, dtype=float, order="F", copy=True)


def rel_close(a, b, rtol=1e-12, atol_scale=1e-13):
    a = np.asarray(a, float)
    b = np.asarray(b, float)
    assert a.shape == b.shape
    assert np.array_equal(np.isnan(a), np.isnan(b))
    m = ~np.isnan(b)
    scale = max(np.max(np.abs(b[m]), initial=0.0), 1e-300)
    np.testing.assert_allclose(a[m], b[m], rtol=rtol, atol=max(atol_scale, rtol * 1e-2) * scale)


# ---------------------------------------------------------------------------------------------
# C++ kernel vs NumPy reference
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_dqrdc2_matches_reference(kind, seed):
    x = design(kind, seed)
    ref = ref_dqrdc2(x)
    got = _core.qr_dqrdc2(np.asfortranarray(x), 1e-7)
    assert got["rank"] == ref["rank"]
    np.testing.assert_array_equal(np.asarray(got["pivot"]), ref["pivot"])
    r = ref["rank"]
    # The triangle and the reflectors of the kept columns; columns beyond the rank are rounding
    # noise in LINPACK too.  A kept near-collinear column (ratio 1e-6) is only determined to
    # about eps / 1e-6 in any implementation.
    rtol = cond_rtol(x, ref["pivot"], r)
    rel_close(got["qr"][:, :r], ref["qr"][:, :r], rtol=rtol)
    rel_close(np.triu(got["qr"][:r]), np.triu(ref["qr"][:r]), rtol=rtol)
    rel_close(got["qraux"][:r], ref["qraux"][:r], rtol=rtol)


@pytest.mark.parametrize("kind", KINDS)
def test_qty_qy_coef_match_reference(kind):
    x = design(kind, 7)
    n = x.shape[0]
    y = np.random.default_rng(8).standard_normal((n, 3))
    f = _core.qr_dqrdc2(np.asfortranarray(x), 1e-7)
    ref = ref_dqrdc2(x)
    rtol = cond_rtol(x, ref["pivot"], ref["rank"])
    rel_close(_core.qr_qty(f["qr"], f["qraux"], f["rank"], y), ref_qty(ref, y), rtol=rtol)
    rel_close(_core.qr_qy(f["qr"], f["qraux"], f["rank"], y), ref_qy(ref, y), rtol=rtol)
    # Q is orthogonal: qy(qty(y)) == y
    back = _core.qr_qy(f["qr"], f["qraux"], f["rank"],
                       _core.qr_qty(f["qr"], f["qraux"], f["rank"], y))
    np.testing.assert_allclose(back, y, atol=1e-13 * np.abs(y).max())
    coef = _core.qr_coef(f["qr"], f["qraux"], f["rank"], y)
    r = f["rank"]
    assert np.isnan(coef[r:]).all()
    want = np.linalg.solve(np.triu(ref["qr"][:r, :r]), ref_qty(ref, y)[:r]) if r else coef[:0]
    rel_close(coef[:r], want, rtol=rtol)


def _weights(n, seed, zeros):
    rng = np.random.default_rng(seed)
    w = rng.uniform(0.2, 3.0, n)
    if zeros:
        w[rng.choice(n, size=max(1, n // 5), replace=False)] = 0.0
    return w


@pytest.mark.parametrize("kind", ["tall", "intercept_dup", "zero_col", "dummies", "near1e-6",
                                  "near1e-7", "scaled", "many_aliased"])
@pytest.mark.parametrize("weights", [None, "positive", "zeros"])
@pytest.mark.parametrize("offset", [False, True])
def test_lm_wfit_matches_reference(kind, weights, offset):
    x = design(kind, 11)
    n = x.shape[0]
    rng = np.random.default_rng(12)
    y = rng.standard_normal((n, 2))
    w = None if weights is None else _weights(n, 13, weights == "zeros")
    o = rng.standard_normal(n) if offset else None
    ref = ref_lm_wfit(x, y, w, o)
    got = _core.lm_wfit(fcopy(x), y, w, o, 1e-7)
    assert got["rank"] == ref["rank"]
    assert got["df_residual"] == ref["df_residual"]
    np.testing.assert_array_equal(got["pivot"], ref["pivot"])
    rtol = cond_rtol(x, ref["pivot"], ref["rank"])
    for key in ["coefficients", "effects", "residuals", "fitted_values"]:
        rel_close(got[key], ref[key], rtol=rtol, atol_scale=1e-12)
    assert got["qr"].shape == (int(n if w is None else (w != 0).sum()), x.shape[1])


def test_lm_wfit_in_place_and_copy():
    x = fcopy(design("tall", 3))
    y = np.random.default_rng(4).standard_normal(x.shape[0])
    keep = x.copy()
    a = _core.lm_wfit(x, y, overwrite_x=False)
    np.testing.assert_array_equal(x, keep)  # not touched
    b = _core.lm_wfit(x, y)  # factorised in place: 'qr' is a view of x
    assert np.shares_memory(b["qr"], x)
    np.testing.assert_array_equal(a["qr"], b["qr"])
    np.testing.assert_array_equal(a["coefficients"], b["coefficients"])
    c_order = np.ascontiguousarray(keep)  # C order: copied, never modified
    c = _core.lm_wfit(c_order, y)
    np.testing.assert_array_equal(c_order, keep)
    np.testing.assert_array_equal(c["coefficients"], a["coefficients"])
    assert a["coefficients"].shape == (x.shape[1], 1)


def test_lm_wfit_errors():
    x = np.asfortranarray(design("tall", 3))
    y = np.ones(x.shape[0])
    with pytest.raises(ValueError, match="incompatible dimensions"):
        _core.lm_wfit(x.copy(order="F"), y[:-1])
    with pytest.raises(ValueError, match="negative weights"):
        _core.lm_wfit(x.copy(order="F"), y, -np.ones(x.shape[0]))
    bad = x.copy(order="F")
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NA/NaN/Inf in 'x'"):
        _core.lm_wfit(bad, y)
    yb = y.copy()
    yb[1] = np.inf
    with pytest.raises(ValueError, match="NA/NaN/Inf in 'y'"):
        _core.lm_wfit(x.copy(order="F"), yb)
    with pytest.raises(ValueError, match="0 \\(non-NA\\) cases"):
        _core.lm_wfit(np.zeros((0, 2), order="F"), np.zeros(0))


def test_empty_and_all_zero_weight_models():
    rng = np.random.default_rng(5)
    y = rng.standard_normal(6)
    o = rng.standard_normal(6)
    f = _core.lm_wfit(np.zeros((6, 0), order="F"), y, None, o)
    assert f["rank"] == 0 and f["df_residual"] == 6 and f["coefficients"].shape == (0, 1)
    np.testing.assert_allclose(f["fitted_values"][:, 0], o)
    np.testing.assert_allclose(f["residuals"][:, 0], y - o)
    g = _core.lm_wfit(rng.standard_normal((6, 2)), y, np.zeros(6))
    assert g["rank"] == 0 and g["df_residual"] == 0 and np.isnan(g["coefficients"]).all()


def test_hat_and_cov_unscaled():
    x = design("intercept_dup", 9)
    f = _core.lm_wfit(fcopy(x), np.ones(x.shape[0]))
    r = f["rank"]
    xs = x[:, f["pivot"][:r]]
    q, _ = np.linalg.qr(xs)
    np.testing.assert_allclose(_core.qr_hat(f["qr"], f["qraux"], r), (q**2).sum(1), atol=1e-14)
    np.testing.assert_allclose(_core.qr_cov_unscaled(f["qr"], r), np.linalg.inv(xs.T @ xs),
                               rtol=1e-10)


def test_large_matrix_matches_reference_rule():
    """A tall design with factor dummies, an exact alias and a near-alias: rank/pivot as the
    reference rule, coefficients to the reference's accuracy (whatever path the kernel takes)."""
    rng = np.random.default_rng(21)
    n = 30000
    g = rng.integers(0, 12, n)
    h = rng.integers(0, 5, n)
    x1 = rng.standard_normal(n)
    cols = [np.ones(n), x1, rng.standard_normal(n)]
    cols += [(g == k) * 1.0 for k in range(1, 12)] + [(h == k) * 1.0 for k in range(1, 5)]
    cols += [x1 * (h == k) for k in range(1, 5)]
    x = np.column_stack(cols)
    y = x @ rng.standard_normal(x.shape[1]) + rng.standard_normal(n)
    for extra in [None, "alias", "near"]:
        xx = x
        if extra == "alias":
            xx = np.column_stack([x[:, :5], x[:, 3] + x[:, 4], x[:, 5:]])
        elif extra == "near":
            xx = np.column_stack([x[:, :5], x[:, 1] + 1e-9 * rng.standard_normal(n), x[:, 5:]])
        ref = ref_lm_wfit(xx, y)
        got = _core.lm_wfit(fcopy(xx), y)
        assert got["rank"] == ref["rank"]
        np.testing.assert_array_equal(got["pivot"], ref["pivot"])
        rel_close(got["coefficients"], ref["coefficients"], rtol=1e-10)
        rel_close(got["residuals"], ref["residuals"], rtol=1e-8, atol_scale=1e-12)
        rel_close(got["effects"], ref["effects"], rtol=1e-8, atol_scale=1e-12)


# ---------------------------------------------------------------------------------------------
# Against R: qr(), lm.fit(), lm.wfit() on the same matrices (sent bit-exactly)
# ---------------------------------------------------------------------------------------------


def _send_matrix(name: str, x: np.ndarray) -> None:
    import pandas as pd
    from rbridge import r, send_df

    x = np.atleast_2d(np.asarray(x, float))
    send_df(pd.DataFrame({f"c{j}": x[:, j] for j in range(x.shape[1])}), f"{name}_df")
    r(f"{name} <- unname(as.matrix({name}_df)); invisible(NULL)")


def _send_vector(name: str, v) -> None:
    from rbridge import r

    if v is None:
        r(f"{name} <- NULL; invisible(NULL)")
    else:
        _send_matrix(name, np.asarray(v, float)[:, None])
        r(f"{name} <- drop({name}); invisible(NULL)")


@pytest.mark.r
@pytest.mark.parametrize("kind", KINDS)
def test_qr_matches_R(kind):
    from rbridge import r

    x = design(kind, 31)
    _send_matrix("X", x)
    rq = r("q <- qr(X); list(qr = q$qr, qraux = q$qraux, pivot = q$pivot, rank = q$rank)")
    got = _core.qr_dqrdc2(np.asfortranarray(x), 1e-7)
    rank = int(rq["rank"][0])
    assert got["rank"] == rank
    np.testing.assert_array_equal(np.asarray(got["pivot"]) + 1, rq["pivot"])
    rtol = cond_rtol(x, got["pivot"], rank)
    rq_qr = np.asarray(rq["qr"]).reshape(x.shape, order="F")
    rel_close(got["qr"][:, :rank], rq_qr[:, :rank], rtol=rtol)
    rel_close(np.triu(got["qr"][:rank]), np.triu(rq_qr[:rank]), rtol=rtol)
    rel_close(got["qraux"][:rank], rq["qraux"][:rank], rtol=rtol)


@pytest.mark.r
@pytest.mark.parametrize("kind", ["tall", "wide", "intercept_dup", "zero_col", "dummies",
                                  "near1e-6", "near1e-7", "near1e-8", "scaled", "many_aliased"])
@pytest.mark.parametrize("weights", [None, "positive", "zeros"])
@pytest.mark.parametrize("offset", [False, True])
def test_lm_fit_matches_R(kind, weights, offset):
    from rbridge import r

    x = design(kind, 41)
    n = x.shape[0]
    rng = np.random.default_rng(42)
    y = rng.standard_normal((n, 2))
    w = None if weights is None else _weights(n, 43, weights == "zeros")
    if kind == "wide" and weights == "zeros":
        w[w == 0] = 1.0  # keep at least as many rows as R needs to say something sensible
    o = rng.standard_normal(n) if offset else None
    _send_matrix("X", x)
    _send_matrix("Y", y)
    _send_vector("w", w)
    _send_vector("o", o)
    call = "lm.fit(X, Y, offset = o)" if w is None else "lm.wfit(X, Y, w, offset = o)"
    rf = r(f"f <- {call}; list(coefficients = f$coefficients, effects = f$effects, "
           "residuals = f$residuals, fitted = f$fitted.values, rank = f$rank, "
           "df = f$df.residual, pivot = f$qr$pivot, qraux = f$qr$qraux)")
    got = _core.lm_wfit(fcopy(x), y, w, o, 1e-7)
    rank = int(rf["rank"][0])
    assert got["rank"] == rank
    assert got["df_residual"] == int(rf["df"][0])
    np.testing.assert_array_equal(got["pivot"] + 1, rf["pivot"])
    xw = x if w is None else (x * np.sqrt(w)[:, None])[w != 0]
    rtol = cond_rtol(xw, got["pivot"], rank, base=1e-12)
    # Elementwise to rtol, and normwise (atol = rtol * max) for the small entries of
    # ill-conditioned fits.
    for key, rkey in [("coefficients", "coefficients"), ("effects", "effects"),
                      ("residuals", "residuals"), ("fitted_values", "fitted")]:
        rel_close(got[key], rf[rkey], rtol=rtol, atol_scale=rtol)
    rel_close(got["qraux"][:rank], rf["qraux"][:rank], rtol=rtol)


@pytest.fixture(scope="module")
def semantics_c1():
    """The data of R-SEMANTICS C1 (set.seed(10)), built in R."""
    from rbridge import r

    r("set.seed(10); n <- 10; d <- data.frame(x1 = rnorm(n), x2 = rnorm(n), x4 = rnorm(n)); "
      "d$x3 <- d$x1 + 2*d$x2; d$y <- 1 + d$x1 - d$x2 + 0.5*d$x4 + rnorm(n, sd = 0.3); NULL")
    return {k: r(f"d${k}") for k in ["x1", "x2", "x3", "x4", "y"]}


@pytest.mark.r
@pytest.mark.parametrize("eps", [1e-6, 1e-7, 1e-8])
def test_near_collinear_lm_and_glm_tolerances(semantics_c1, eps):
    """x5 = x1 + eps * x4: lm (tol 1e-7) aliases x5 for eps <= 1e-7; glm's 1e-11 keeps it."""
    from rbridge import r

    d = semantics_c1
    x5 = d["x1"] + eps * d["x4"]
    x = np.column_stack([np.ones(10), d["x1"], x5, d["x2"]])
    for tol, call in [(1e-7, "lm"), (1e-11, "glm")]:
        want = r(f"d$x5 <- d$x1 + {eps!r} * d$x4; coef({call}(y ~ x1 + x5 + x2, data = d))")
        got = _core.lm_wfit(fcopy(x), d["y"], None, None, tol)
        rel_close(got["coefficients"][:, 0], want, rtol=cond_rtol(x, got["pivot"], got["rank"]))


@pytest.mark.r
def test_semantics_alias_examples(semantics_c1):
    from rbridge import r

    d = semantics_c1
    x = np.column_stack([np.ones(10), d["x1"], d["x3"], d["x2"], d["x4"]])
    got = _core.lm_wfit(fcopy(x), d["y"])
    want = r("m <- lm(y ~ x1 + x3 + x2 + x4, d); list(coef = coef(m), pivot = m$qr$pivot, "
             "effects = m$effects, res = residuals(m))")
    np.testing.assert_array_equal(got["pivot"] + 1, want["pivot"])
    rel_close(got["coefficients"][:, 0], want["coef"])
    rel_close(got["effects"][:, 0], want["effects"])
    rel_close(got["residuals"][:, 0], want["res"])
    # p > n: columns beyond the rank are NA
    x3 = np.column_stack([np.ones(3), d["x1"][:3], d["x2"][:3], d["x4"][:3], d["x3"][:3]])
    got = _core.lm_wfit(np.asfortranarray(x3), d["y"][:3])
    want = r("coef(lm(y ~ x1 + x2 + x4 + x3, d[1:3, ]))")
    rel_close(got["coefficients"][:, 0], want)


# ---------------------------------------------------------------------------------------------
# The reconstruction path for tall sparse designs (cpp/qr_tall.hpp)
# ---------------------------------------------------------------------------------------------


def factor_design(n: int, seed: int, l1: int = 12, l2: int = 5) -> np.ndarray:
    """Intercept, three numeric columns, dummies of two factors and x1 x dummies of the second
    (the shape of y ~ x1 + x2 + x3 + f1 + f2 + x1:f2)."""
    rng = np.random.default_rng(seed)
    x1, x2, x3 = rng.standard_normal((3, n))
    f1 = rng.integers(0, l1, n)
    f2 = rng.integers(0, l2, n)
    cols = [np.ones(n), x1, x2, x3] + [(f1 == k) * 1.0 for k in range(1, l1)]
    cols += [(f2 == k) * 1.0 for k in range(1, l2)] + [x1 * (f2 == k) for k in range(1, l2)]
    return np.asfortranarray(np.column_stack(cols))


def normwise_close(a, b, rtol):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape
    assert np.array_equal(np.isnan(a), np.isnan(b))
    m = ~np.isnan(b)
    assert np.max(np.abs(a[m] - b[m]), initial=0.0) <= rtol * np.max(np.abs(b[m]), initial=0.0)


@pytest.mark.parametrize("weights", [None, "positive", "zeros"])
@pytest.mark.parametrize("offset", [False, True])
def test_reconstruction_path_equals_column_by_column(weights, offset):
    x = factor_design(12000, 3)
    n = x.shape[0]
    rng = np.random.default_rng(4)
    y = np.column_stack([x @ rng.standard_normal(x.shape[1]) + rng.standard_normal(n),
                         rng.standard_normal(n)])
    w = None if weights is None else _weights(n, 5, weights == "zeros")
    o = rng.standard_normal(n) if offset else None
    fast = _core.lm_wfit(fcopy(x), y, w, o, 1e-7, extended=0)
    slow = _core.lm_wfit(fcopy(x), y, w, o, 1e-7, extended=0, allow_fast=False)
    assert fast["algorithm"] == "reconstructed" and slow["algorithm"] == "dqrdc2"
    assert fast["rank"] == slow["rank"] == x.shape[1]
    np.testing.assert_array_equal(fast["pivot"], slow["pivot"])
    assert fast["df_residual"] == slow["df_residual"]
    for key in ["coefficients", "effects", "residuals", "fitted_values", "qr", "qraux"]:
        normwise_close(fast[key], slow[key], 1e-12)
    # The compact factor is LINPACK's: Q'y from it reproduces the effects.
    yw = (y - (0 if o is None else o[:, None]))
    if w is not None:
        yw = (yw * np.sqrt(w)[:, None])[w != 0]
    normwise_close(_core.qr_qty(fast["qr"], fast["qraux"], fast["rank"], yw), slow["effects"],
                   1e-12)


@pytest.mark.parametrize("case", ["alias", "near", "ill"])
def test_reconstruction_path_declines(case):
    """Aliased, near-aliased or ill-conditioned designs go column by column (R's decisions)."""
    x = factor_design(12000, 6)
    rng = np.random.default_rng(7)
    if case == "alias":
        x = np.asfortranarray(np.column_stack([x[:, :6], x[:, 4] + x[:, 5], x[:, 6:]]))
    elif case == "near":
        x = np.asfortranarray(np.column_stack([x[:, :2], x[:, 1] + 1e-8 * x[:, 2], x[:, 2:]]))
    else:
        x = np.asfortranarray(np.column_stack([x, x[:, 1] + 1e-5 * rng.standard_normal(len(x))]))
    y = rng.standard_normal(x.shape[0])
    got = _core.lm_wfit(fcopy(x), y, extended=0)
    ref = _core.lm_wfit(fcopy(x), y, extended=0, allow_fast=False)
    assert got["algorithm"] == "dqrdc2"
    assert got["rank"] == ref["rank"]
    np.testing.assert_array_equal(got["pivot"], ref["pivot"])
    np.testing.assert_array_equal(got["coefficients"], ref["coefficients"])


def test_reconstruction_threads_agree():
    x = factor_design(40000, 8)
    y = np.random.default_rng(9).standard_normal(x.shape[0])
    one = _core.lm_wfit(fcopy(x), y, threads=1, extended=0)
    two = _core.lm_wfit(fcopy(x), y, threads=2, extended=0)
    assert one["algorithm"] == two["algorithm"] == "reconstructed"
    for key in ["coefficients", "effects", "residuals", "qr"]:
        normwise_close(one[key], two[key], 1e-13)


@pytest.mark.r
def test_reconstruction_path_matches_R():
    from rbridge import r

    x = factor_design(10000, 10)
    y = x @ np.random.default_rng(11).standard_normal(x.shape[1])
    y += np.random.default_rng(12).standard_normal(x.shape[0])
    _send_matrix("X", x)
    _send_vector("yv", y)
    rf = r("f <- lm.fit(X, yv); list(coef = f$coefficients, effects = f$effects, "
           "res = f$residuals, fitted = f$fitted.values, qr = f$qr$qr, qraux = f$qr$qraux, "
           "pivot = f$qr$pivot, rank = f$rank)")
    got = _core.lm_wfit(fcopy(x), y, extended=0)
    assert got["algorithm"] == "reconstructed"
    assert got["rank"] == int(rf["rank"][0])
    np.testing.assert_array_equal(got["pivot"] + 1, rf["pivot"])
    normwise_close(got["coefficients"][:, 0], rf["coef"], 1e-12)
    normwise_close(got["effects"][:, 0], rf["effects"], 1e-12)
    normwise_close(got["residuals"][:, 0], rf["res"], 1e-12)
    normwise_close(got["fitted_values"][:, 0], rf["fitted"], 1e-12)
    normwise_close(got["qr"], np.asarray(rf["qr"]).reshape(x.shape, order="F"), 1e-12)
    normwise_close(got["qraux"], rf["qraux"], 1e-12)


@pytest.mark.parametrize("weights", [None, "zeros"])
def test_reconstruction_path_dense_design(weights):
    """Dense columns: R~ from the tall-skinny QR, the same reconstruction."""
    rng = np.random.default_rng(13)
    n, p = 20000, 16
    x = np.asfortranarray(rng.standard_normal((n, p)))
    x[:, 0] = 1.0
    y = x @ rng.standard_normal(p) + rng.standard_normal(n)
    w = None if weights is None else _weights(n, 14, True)
    fast = _core.lm_wfit(fcopy(x), y, w, None, 1e-7, extended=0)
    slow = _core.lm_wfit(fcopy(x), y, w, None, 1e-7, extended=0, allow_fast=False)
    assert fast["algorithm"] == "reconstructed"
    for key in ["coefficients", "effects", "residuals", "fitted_values", "qr", "qraux"]:
        normwise_close(fast[key], slow[key], 1e-12)


@pytest.mark.parametrize("kind", ["tall", "square", "wide", "intercept_dup", "zero_col", "dummies",
                                  "many_aliased", "one_row"])
def test_hat_values_match_explicit_q(kind):
    """qr_hat (compact WY, row blocks) equals the squared row norms of Q[, 1:rank] formed by
    applying the reflectors to the unit vectors (R's lm.influence)."""
    x = design(kind, 15)
    f = _core.qr_dqrdc2(np.asfortranarray(x), 1e-7)
    n, r = x.shape[0], f["rank"]
    e = np.zeros((n, r))
    e[np.arange(r), np.arange(r)] = 1.0
    q1 = _core.qr_qy(f["qr"], f["qraux"], r, e)
    np.testing.assert_allclose(_core.qr_hat(f["qr"], f["qraux"], r), (q1**2).sum(axis=1),
                               rtol=1e-12, atol=1e-14)


def test_hat_values_large_reconstructed():
    x = factor_design(30000, 16)
    y = np.random.default_rng(17).standard_normal(x.shape[0])
    f = _core.lm_wfit(fcopy(x), y, extended=0)
    assert f["algorithm"] == "reconstructed"
    q, _ = np.linalg.qr(x)
    np.testing.assert_allclose(_core.qr_hat(f["qr"], f["qraux"], f["rank"]), (q**2).sum(axis=1),
                               rtol=1e-10, atol=1e-15)


@pytest.mark.r
def test_hat_and_cov_unscaled_match_R():
    from rbridge import r

    x = design("dummies", 19)
    n = x.shape[0]
    y = np.random.default_rng(20).standard_normal(n)
    w = _weights(n, 21, True)
    _send_matrix("X", x)
    _send_vector("yv", y)
    _send_vector("w", w)
    want = r("m <- lm(yv ~ X - 1, weights = w); list(hat = unname(lm.influence(m)$hat), "
             "cov = unname(summary(m)$cov.unscaled))")
    f = _core.lm_wfit(fcopy(x), y, w)
    r_ = f["rank"]
    np.testing.assert_allclose(_core.qr_hat(f["qr"], f["qraux"], r_), want["hat"], rtol=1e-12,
                               atol=1e-15)
    cov = _core.qr_cov_unscaled(f["qr"], r_)
    p = f["pivot"][:r_]
    order = np.argsort(p)  # summary.lm orders cov.unscaled by original column (aliased dropped)
    np.testing.assert_allclose(cov[np.ix_(order, order)], want["cov"], rtol=1e-12)


@pytest.mark.parametrize("dense", [False, True])
def test_nonfinite_x_detected_on_fast_path(dense):
    x = factor_design(12000, 22)
    if dense:
        x = np.asfortranarray(np.random.default_rng(23).standard_normal((12000, 20)))
    y = np.random.default_rng(24).standard_normal(x.shape[0])
    assert _core.lm_wfit(fcopy(x), y, extended=0)["algorithm"] == "reconstructed"
    for bad in [np.nan, np.inf]:
        xb = fcopy(x)
        xb[7000, 3] = bad
        with pytest.raises(ValueError, match="NA/NaN/Inf in 'x'"):
            _core.lm_wfit(xb, y, extended=0)
    yb = y.copy()
    yb[5] = np.nan
    with pytest.raises(ValueError, match="NA/NaN/Inf in 'y'"):
        _core.lm_wfit(fcopy(x), yb, extended=0)


def test_reconstruction_path_with_badly_scaled_columns():
    """Columns in very different units (raw condition number ~1e12) but equilibrated condition
    small: the fast path applies and agrees coefficient by coefficient."""
    x = factor_design(20000, 3)
    p = x.shape[1]
    x[:, 1] *= 1e6
    x[:, 10] *= 1e-6
    beta = np.random.default_rng(1).standard_normal(p)
    beta[1] /= 1e6
    beta[10] *= 1e6
    y = x @ beta + np.random.default_rng(2).standard_normal(x.shape[0])
    fast = _core.lm_wfit(fcopy(x), y, extended=0)
    slow = _core.lm_wfit(fcopy(x), y, extended=0, allow_fast=False)
    assert fast["algorithm"] == "reconstructed"
    np.testing.assert_allclose(fast["coefficients"], slow["coefficients"], rtol=1e-11)
    for key in ["effects", "residuals", "qraux"]:
        normwise_close(fast[key], slow[key], 1e-12)
    scale = np.abs(slow["qr"]).max(axis=0)
    assert np.all(np.abs(fast["qr"] - slow["qr"]).max(axis=0) <= 1e-12 * scale)
