"""The compiled PLS core against a plain NumPy reference (no R needed).

The reference builds Z and Λ(θ) densely and evaluates lme4's profiled criteria
(R-SEMANTICS E1):  L L' = Λ'Z'WZΛ + I,  R_ZX = L⁻¹Λ'Z'WX,  R_X'R_X = X'WX − R_ZX'R_ZX,
pwrss = ‖W½(y − o − Xβ̂ − ZΛû)‖² + ‖û‖²,
ML: ldL2 − ldW + n(1 + log(2π pwrss/n)),  REML: ldL2 − ldW + ldRX2 + (n−p)(1 + log(2π pwrss/(n−p))).
"""

from __future__ import annotations

import numpy as np
import pytest
from rmodels import _core
from rmodels.models.lmer.terms import order_terms, structure_from_arrays


def make_problem(seed: int, layout: list, n: int = 300, p: int = 3, weights: bool = False,
                 offset: bool = False) -> dict:
    """Random data; ``layout`` = [(nlev, k), ...] per term (first term most levels)."""
    rng = np.random.default_rng(seed)
    X = np.column_stack([np.ones(n)] + [rng.standard_normal(n) for _ in range(p - 1)])
    terms = []
    for nlev, k in layout:
        codes = rng.integers(0, nlev, n).astype(np.int32)
        codes[:nlev] = np.arange(nlev)  # every level used
        Z = np.column_stack([np.ones(n)] + [rng.standard_normal(n) for _ in range(k - 1)])
        terms.append((codes, nlev, np.asfortranarray(Z)))
    y = X @ rng.standard_normal(p) + rng.standard_normal(n)
    for codes, nlev, Z in terms:
        y = y + np.einsum("ij,ij->i", Z, rng.standard_normal((nlev, Z.shape[1]))[codes])
    w = rng.uniform(0.5, 2.0, n) if weights else np.empty(0)
    o = rng.standard_normal(n) * 0.3 if offset else np.empty(0)
    return {"X": np.asfortranarray(X), "y": y, "w": w, "o": o, "terms": terms}


def theta_of(layout: list, rng: np.random.Generator) -> np.ndarray:
    out = []
    for _, k in layout:
        for c in range(k):
            for r in range(c, k):
                out.append(rng.uniform(0.2, 1.5) if r == c else rng.uniform(-0.5, 0.5))
    return np.array(out)


def reference(prob: dict, theta: np.ndarray) -> dict:
    X, y = prob["X"], prob["y"]
    n, p = X.shape
    w = prob["w"] if prob["w"].size else np.ones(n)
    o = prob["o"] if prob["o"].size else np.zeros(n)
    Zs, lams, pos = [], [], 0
    for codes, nlev, Zl in prob["terms"]:
        k = Zl.shape[1]
        Z = np.zeros((n, nlev * k))
        for e in range(k):
            Z[np.arange(n), codes * k + e] = Zl[:, e]
        T = np.zeros((k, k))
        for c in range(k):
            for r in range(c, k):
                T[r, c] = theta[pos]
                pos += 1
        Zs.append(Z)
        lams.append(np.kron(np.eye(nlev), T))
    Z = np.hstack(Zs)
    q = Z.shape[1]
    Lam = np.zeros((q, q))
    off = 0
    for lam in lams:
        Lam[off:off + lam.shape[0], off:off + lam.shape[0]] = lam
        off += lam.shape[0]
    sw = np.sqrt(w)
    ZL = sw[:, None] * (Z @ Lam)
    Xw = sw[:, None] * X
    yw = sw * (y - o)
    L = np.linalg.cholesky(ZL.T @ ZL + np.eye(q))
    cu = np.linalg.solve(L, ZL.T @ yw)
    RZX = np.linalg.solve(L, ZL.T @ Xw)
    RX = np.linalg.cholesky(Xw.T @ Xw - RZX.T @ RZX)
    beta = np.linalg.solve(RX.T, np.linalg.solve(RX, Xw.T @ yw - RZX.T @ cu))
    u = np.linalg.solve(L.T, cu - RZX @ beta)
    pwrss = np.sum((yw - ZL @ u - Xw @ beta) ** 2) + np.sum(u**2)
    ldL2 = 2 * np.sum(np.log(np.diag(L)))
    ldRX2 = 2 * np.sum(np.log(np.diag(RX)))
    ldW = np.sum(np.log(w))
    ml = ldL2 - ldW + n * (1 + np.log(2 * np.pi * pwrss / n))
    reml = ldL2 - ldW + ldRX2 + (n - p) * (1 + np.log(2 * np.pi * pwrss / (n - p)))
    Minv = np.linalg.inv(L @ L.T)
    return {"ML": ml, "REML": reml, "beta": beta, "b": Lam @ u, "pwrss": pwrss,
            "condvar": Lam @ Minv @ Lam.T, "fitted": X @ beta + Z @ (Lam @ u) + o}


LAYOUTS = {
    "one_scalar": [(20, 1)],
    "one_vector": [(15, 2)],
    "crossed_scalar": [(25, 1), (8, 1)],
    "three_scalar": [(30, 1), (12, 1), (5, 1)],
    "vector_then_scalar": [(20, 2), (6, 1)],
    "scalar_then_vector": [(20, 1), (6, 2)],
    "two_vectors": [(12, 3), (7, 2)],
}


@pytest.mark.parametrize("method", ["blocked", "sparse"])
@pytest.mark.parametrize("name", list(LAYOUTS))
@pytest.mark.parametrize("extras", [(False, False), (True, True)])
def test_criterion_and_solution_match_reference(name, method, extras):
    layout = LAYOUTS[name]
    prob = make_problem(list(LAYOUTS).index(name), layout, weights=extras[0], offset=extras[1])
    m = _core.PlsModel(prob["X"], prob["y"], prob["w"], prob["o"],
                       [t[0] for t in prob["terms"]], [t[1] for t in prob["terms"]],
                       [t[2] for t in prob["terms"]], method=method)
    assert m.is_sparse == (method == "sparse")
    rng = np.random.default_rng(7)
    for _ in range(3):
        th = theta_of(layout, rng)
        ref = reference(prob, th)
        assert m.objective(th, False) == pytest.approx(ref["ML"], rel=1e-11)
        assert m.objective(th, True) == pytest.approx(ref["REML"], rel=1e-11)
        s = m.solve(th)
        np.testing.assert_allclose(s["beta"], ref["beta"], rtol=1e-9, atol=1e-11)
        np.testing.assert_allclose(s["b"], ref["b"], rtol=1e-9, atol=1e-11)
        np.testing.assert_allclose(s["fitted"], ref["fitted"], rtol=1e-10, atol=1e-11)
        assert s["pwrss"] == pytest.approx(ref["pwrss"], rel=1e-11)
        # conditional variance blocks: diagonal k x k blocks of Λ (L L')⁻¹ Λ'
        blocks = m.cond_var_blocks(th)
        off = 0
        for (_codes, nlev, Zl), B in zip(prob["terms"], blocks):
            k = Zl.shape[1]
            for lev in range(nlev):
                sl = slice(off + lev * k, off + (lev + 1) * k)
                np.testing.assert_allclose(B[:, lev * k:(lev + 1) * k], ref["condvar"][sl, sl],
                                           rtol=1e-9, atol=1e-13)
            off += nlev * k


def clustered_problem(seed: int, weighted: bool = False) -> dict:
    """Three crossed scalar terms whose second factor's levels fall into clusters that the
    first factor's levels do not cross (InstEval-like: the rest block has zero tiles)."""
    rng = np.random.default_rng(seed)
    n1, n2, n3, ncl, per = 900, 320, 12, 8, 6
    g1 = np.repeat(np.arange(n1), per)
    n = len(g1)
    cluster = rng.integers(0, ncl, n1)
    g2 = (cluster[g1] * (n2 // ncl) + rng.integers(0, n2 // ncl, n)).astype(np.int32)
    g3 = rng.integers(0, n3, n).astype(np.int32)
    g2[:n2] = np.arange(n2)
    g3[:n3] = np.arange(n3)
    X = np.asfortranarray(np.column_stack([np.ones(n), rng.standard_normal(n)]))
    y = (X @ [1.0, 0.5] + rng.standard_normal(n1)[g1] + 0.7 * rng.standard_normal(n2)[g2]
         + 0.3 * rng.standard_normal(n3)[g3] + rng.standard_normal(n))
    terms = [(g1.astype(np.int32), n1, np.ones((n, 1))), (g2, n2, np.ones((n, 1))),
             (g3, n3, np.ones((n, 1)))]
    w = rng.uniform(0.5, 2.0, n) if weighted else np.empty(0)
    o = rng.standard_normal(n) * 0.3 if weighted else np.empty(0)
    return {"X": X, "y": y, "w": w, "o": o, "terms": terms}


@pytest.mark.parametrize("weighted", [False, True])
def test_tiled_rest_block_equals_sparse_path(weighted):
    """The fill-reducing order and tiled factorisation of a large rest block give the sparse
    path's criterion, solution and conditional variances; 1 or 2 threads give equal numbers."""
    prob = clustered_problem(11, weighted)
    args = (prob["X"], prob["y"], prob["w"], prob["o"], [t[0] for t in prob["terms"]],
            [t[1] for t in prob["terms"]], [t[2] for t in prob["terms"]])
    tiled = _core.PlsModel(*args, method="blocked")
    sparse = _core.PlsModel(*args, method="sparse")
    assert tiled.is_tiled and not sparse.is_tiled
    for th in ([0.8, 0.6, 0.3], [1.3, 0.05, 2.0], [0.0, 0.9, 0.4]):
        th = np.array(th)
        for reml in (False, True):
            assert tiled.objective(th, reml) == pytest.approx(sparse.objective(th, reml),
                                                              rel=1e-12)
        a, b = tiled.solve(th), sparse.solve(th)
        np.testing.assert_allclose(a["beta"], b["beta"], rtol=1e-10)
        np.testing.assert_allclose(a["b"], b["b"], rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(a["u"], b["u"], rtol=1e-9, atol=1e-12)
        for ca, cb in zip(tiled.cond_var_blocks(th), sparse.cond_var_blocks(th)):
            np.testing.assert_allclose(ca, cb, rtol=1e-9, atol=1e-14)
        tiled.threads = 2
        two = tiled.objective(th, False), tiled.solve(th)["b"]
        tiled.threads = 1
        assert two[0] == tiled.objective(th, False)
        np.testing.assert_array_equal(two[1], tiled.solve(th)["b"])


def test_optimizer_reaches_reference_minimum():
    layout = [(25, 1), (8, 1)]
    prob = make_problem(3, layout)
    m = _core.PlsModel(prob["X"], prob["y"], prob["w"], prob["o"],
                       [t[0] for t in prob["terms"]], [t[1] for t in prob["terms"]],
                       [t[2] for t in prob["terms"]])
    o = m.optimize(np.ones(2), np.zeros(2), True, trace=True)
    assert o["status"] > 0 and o["feval"] == o["path"].shape[0]
    assert o["fval"] == pytest.approx(reference(prob, o["theta"])["REML"], rel=1e-12)
    assert o["fval"] == o["path"][:, -1].min()
    # a small step in any direction does not lower the criterion
    for j in range(2):
        for step in (1e-4, -1e-4):
            th = o["theta"].copy()
            th[j] = max(0.0, th[j] + step)
            assert m.objective(th, True) >= o["fval"] - 1e-7


def test_term_order_rule():
    # lme4: unchanged when non-increasing, else rev(order(nl)) (ties reversed)
    assert order_terms([6, 6, 4]) == [0, 1, 2]
    assert order_terms([4, 6]) == [1, 0]
    assert order_terms([4, 6, 6]) == [2, 1, 0]
    assert order_terms([6, 4, 6]) == [2, 0, 1]
    assert order_terms([4, 4, 6]) == [2, 1, 0]


def test_theta_layout_names():
    rng = np.random.default_rng(1)
    n = 50
    re = structure_from_arrays([
        ("a", ["(Intercept)", "x"], rng.standard_normal((n, 2)), rng.integers(0, 4, n),
         list("abcd")),
        ("b", ["(Intercept)"], np.ones((n, 1)), rng.integers(0, 6, n), list("uvwxyz")),
    ])
    assert [t.group for t in re.terms] == ["b", "a"]
    assert re.theta_names == ["b.(Intercept)", "a.(Intercept)", "a.x.(Intercept)", "a.x"]
    np.testing.assert_array_equal(re.theta0, [1, 1, 0, 1])
    np.testing.assert_array_equal(re.lower, [0, 0, -np.inf, 0])
