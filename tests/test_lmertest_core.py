"""Kernels of the lmerTest port without R: numDeriv's Richardson derivatives against analytic
ones, Doolittle's factor against the LU identity, lmerTest's F-test df rule, and the structured
Kenward-Roger computation against a plain NumPy reference that forms pbkrtest's n × n Σ.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import rmodels
from rmodels.models.lmertest.contrasts import doolittle
from rmodels.models.lmertest.kenward_roger import (
    parameter_patterns,
    random_effects_matrix,
    vcov_adjusted,
)
from rmodels.models.lmertest.satterthwaite import fstat_ddf
from rmodels.models.lmertest.varpar import hessian_richardson, jacobian_richardson


def test_hessian_richardson_matches_analytic():
    def f(v):
        return np.exp(v[0]) * np.sin(v[1]) + v[0] ** 2 * v[2] ** 3

    x = np.array([0.3, 1.1, 2.0])
    H = hessian_richardson(f, x)
    a, b, c = x
    expected = np.array([
        [np.exp(a) * np.sin(b) + 2 * c**3, np.exp(a) * np.cos(b), 6 * a * c**2],
        [np.exp(a) * np.cos(b), -np.exp(a) * np.sin(b), 0.0],
        [6 * a * c**2, 0.0, 6 * a**2 * c]])
    np.testing.assert_allclose(H, expected, rtol=1e-7, atol=1e-8)


def test_jacobian_richardson_matches_analytic_and_zero_steps():
    def f(v):
        return np.array([v[0] * v[1], np.exp(v[1]), v[0] ** 3])

    x = np.array([0.0, 0.7])  # a zero coordinate takes numDeriv's absolute step
    J = jacobian_richardson(f, x)
    expected = np.array([[x[1], x[0]], [0.0, np.exp(x[1])], [3 * x[0] ** 2, 0.0]])
    np.testing.assert_allclose(J, expected, rtol=1e-9, atol=1e-10)


def test_doolittle_factor():
    rng = np.random.default_rng(3)
    A = rng.normal(size=(6, 4))
    S = A.T @ A
    L = doolittle(S, eps=0.0)
    U = np.linalg.solve(L, S)
    np.testing.assert_allclose(np.diag(L), 1.0)
    np.testing.assert_allclose(np.tril(U, -1), 0.0, atol=1e-10)
    np.testing.assert_allclose(L @ U, S, rtol=1e-12)


def one_group(nu: np.ndarray) -> float:
    return float(fstat_ddf(nu, np.array([len(nu)]))[0])


def test_fstat_ddf_rule():
    assert one_group(np.array([7.5])) == 7.5
    assert one_group(np.array([10.0, 10.0 + 1e-10])) == pytest.approx(10.0)
    assert one_group(np.array([1.5, 20.0])) == 2.0
    nu = np.array([12.0, 30.0, 8.0])
    E = np.sum(nu / (nu - 2))
    assert one_group(nu) == pytest.approx(2 * E / (E - 3))


def test_fstat_ddf_groups_one_pass():
    """Consecutive groups in one call give each group's own rule (no mixing across groups);
    a NaN ν makes its group's df NaN unless another ν of it is at most 2."""
    groups = [np.array([7.5]), np.array([10.0, 10.0 + 1e-10]), np.array([1.5, 20.0]),
              np.array([12.0, 30.0, 8.0]), np.array([9.0]), np.array([np.nan, 5.0]),
              np.array([np.nan, 1.0])]
    nu = np.concatenate(groups)
    q = np.array([len(g) for g in groups])
    got = fstat_ddf(nu, q)
    expected = [one_group(g) for g in groups[:5]]
    np.testing.assert_array_equal(got[:5], expected)
    assert np.isnan(got[5]) and got[6] == 2.0
    # a boundary between equal values of two groups is not a "common value" of either
    np.testing.assert_allclose(fstat_ddf(np.array([4.0, 6.0, 6.0, 9.0]), np.array([2, 2])),
                               [one_group(np.array([4.0, 6.0])),
                                one_group(np.array([6.0, 9.0]))])


def dense_vcov_adjusted(fit) -> np.ndarray:
    """pbkrtest's ``vcovAdj_internal`` literally: Σ (n × n), Σ⁻¹, the G_r, and Φ_A."""
    Z = random_effects_matrix(fit.re).toarray()
    X = np.asarray(fit.X)
    n = X.shape[0]
    E = [Er.toarray() for Er in parameter_patterns(fit.re)]
    gammas = []
    for t, T in zip(fit.re.terms, fit.re.templates(fit.theta)):
        C = fit.sigma() ** 2 * (T @ T.T)
        gammas += [C[i, j] for i in range(t.k) for j in range(i, t.k)]
    G = [Z @ Er @ Z.T for Er in E] + [np.eye(n)]
    gammas.append(fit.sigma() ** 2)
    Sigma = sum(g * Gr for g, Gr in zip(gammas, G))
    Si = np.linalg.inv(Sigma)
    Phi = fit.vcov_matrix()
    H = [Gr @ Si for Gr in G]
    O = [h @ X for h in H]
    TT = Si @ X
    P = [-(o.T @ TT) for o in O]
    m = len(G)
    Q = {(r, s): O[r].T @ Si @ O[s] for r in range(m) for s in range(r, m)}
    IE2 = np.array([[np.sum(H[i].T * H[j]) - 2 * np.sum(Phi * Q[min(i, j), max(i, j)])
                     + np.sum((Phi @ P[i]) * (P[j] @ Phi)) for j in range(m)]
                    for i in range(m)])
    W = 2 * np.linalg.inv(IE2)
    U = sum(W[i, j] * (Q[i, j] - P[i] @ Phi @ P[j]) for i in range(m) for j in range(i + 1, m))
    U = U + U.T
    U = U + sum(W[i, i] * (Q[i, i] - P[i] @ Phi @ P[i]) for i in range(m))
    return Phi + 2 * Phi @ U @ Phi


def test_structured_kenward_roger_equals_dense_reference():
    rng = np.random.default_rng(1)
    g = np.repeat(np.arange(9), 7)[rng.random(63) > 0.2]
    n = len(g)
    x = rng.normal(size=n)
    h = rng.integers(0, 4, size=n)
    y = 1 + 0.5 * x + 2 * rng.normal(size=9)[g] + rng.normal(size=9)[g] * x \
        + 1.5 * rng.normal(size=4)[h] + 0.5 * rng.normal(size=n)
    data = pd.DataFrame({"y": y, "x": x, "g": pd.Categorical([f"g{v}" for v in g]),
                         "h": pd.Categorical([f"h{v}" for v in h])})
    fit = rmodels.lmer("y ~ x + (x | g) + (1 | h)", data)
    np.testing.assert_allclose(vcov_adjusted(fit).PhiA, dense_vcov_adjusted(fit),
                               rtol=1e-8, atol=1e-12)


def test_cell_crossprod_matches_the_cell_coding():
    """Type III's X'rdX summed cell by cell (sparse, from the model frame) equals X' times
    lmerTest's rdX built column by column; both paths give the same ginv(X) rdX."""
    from rmodels.models.lmertest.contrasts import cell_coding, cell_crossprod, cells_on_x
    from rmodels.models.lmertest.kenward_roger import ginv_times
    rng = np.random.default_rng(5)
    n = 240
    d = pd.DataFrame({
        "y": rng.normal(size=n), "x": rng.normal(size=n), "z": rng.integers(0, 5, n),
        "A": pd.Categorical(rng.choice(["a", "b", "c"], n)),
        "B": pd.Categorical(rng.choice(["u", "v"], n)),
        "g": pd.Categorical(rng.choice([f"g{i}" for i in range(12)], n))})
    d["y"] += 0.8 * rng.normal(size=12)[d["g"].cat.codes.to_numpy()]
    fit = rmodels.lmer("y ~ A * x * B + z:A + (1 | g)", d)
    X = np.asarray(fit.X)
    rdX, names = cell_coding(fit)
    XtB, names2 = cell_crossprod(fit, X)
    assert names2 == names
    np.testing.assert_allclose(XtB, X.T @ rdX, rtol=1e-12, atol=1e-10)
    np.testing.assert_allclose(cells_on_x(fit, X)[0], ginv_times(X, rdX).T, atol=1e-7)


def test_tables_do_not_share_index_objects():
    """The anova and coefficient tables reuse built label Indexes as copies: naming one
    table's index or columns leaves later tables alone."""
    rng = np.random.default_rng(8)
    d = pd.DataFrame({"y": rng.normal(size=90), "x": rng.normal(size=90),
                      "A": pd.Categorical(rng.choice(["a", "b", "c"], 90)),
                      "g": pd.Categorical(np.repeat([f"g{i}" for i in range(9)], 10))})
    d["y"] += rng.normal(size=9)[d["g"].cat.codes.to_numpy()]
    fit = rmodels.lmer("y ~ A * x + (1 | g)", d)
    first = fit.anova(type="III")
    first.index.name, first.columns.name = "term", "stat"
    coef = fit.summary(ddf="Satterthwaite").coefficients
    coef.index.name = "coef"
    again = fit.anova(type="III")
    assert again.index.name is None and again.columns.name is None
    assert fit.summary(ddf="Satterthwaite").coefficients.index.name is None
    assert list(again.index) == ["A", "x", "A:x"]
