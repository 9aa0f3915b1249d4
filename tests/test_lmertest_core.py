"""Kernels of the lmerTest port without R: numDeriv's Richardson derivatives against analytic
ones, Doolittle's factor against the LU identity (and from a Cholesky factor), lmerTest's
F-test df rule, type III's cell cross products against rdX, and the structured Kenward-Roger
computation against a plain NumPy reference that forms pbkrtest's n × n Σ.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import rmodels
from rmodels.models.lmertest.contrasts import doolittle, unit_lower
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


def test_unit_lower_from_cholesky_equals_doolittle():
    """Doolittle's L of a crossproduct from its Cholesky factor: the elimination's own numbers
    (to rounding), its zeroed entries included; a pivot below eps leaves it to the
    elimination (the column of L set to 0)."""
    rng = np.random.default_rng(4)
    A = rng.normal(size=(40, 6)) * np.array([1.0, 3.0, 1e-2, 50.0, 1.0, 1.0])
    A[:, 4] = A[:, 0] + 1e-2 * rng.normal(size=40)  # nearly collinear: a small pivot
    A[:, 5] = (A[:, 1] > 0) * 1.0
    for S in (A.T @ A, A[:, :4].T @ A[:, :4]):
        L = unit_lower(S)
        ref = doolittle(S)
        np.testing.assert_allclose(L, ref, rtol=0, atol=1e-12 * np.abs(ref).max())
        assert np.array_equal(L == 0, ref == 0)
    tiny = A.T @ A * 1e-12  # pivots below 1e-6: the elimination's zero columns
    np.testing.assert_array_equal(unit_lower(tiny), doolittle(tiny))
    assert np.any(np.all(doolittle(tiny)[1:] == 0, axis=0))


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


def test_cell_gram_matches_the_cell_coding():
    """Type III's rdX'rdX summed over the joint cells of the factors (from the model frame)
    equals rdX'rdX of lmerTest's rdX built column by column, the treatment-coded X is rdX's
    columns of the same names, and both routes give the same ginv(X) rdX; also with more joint
    cells than rows (renumbered) and with a term left to the formula engine (no Gram)."""
    from rmodels.models.lmertest.cells import cell_coding, cell_gram
    from rmodels.models.lmertest.contrasts import cells_on_x
    from rmodels.models.lmertest.kenward_roger import ginv_times
    rng = np.random.default_rng(5)
    n = 240
    d = pd.DataFrame({
        "y": rng.normal(size=n), "x": rng.normal(size=n), "z": rng.integers(0, 5, n),
        "A": pd.Categorical(rng.choice(["a", "b", "c"], n)),
        "B": pd.Categorical(rng.choice(["u", "v"], n)),
        "F": pd.Categorical(rng.choice([f"f{i:02d}" for i in range(50)], n)),
        "g": pd.Categorical(rng.choice([f"g{i}" for i in range(12)], n))})
    d["y"] += 0.8 * rng.normal(size=12)[d["g"].cat.codes.to_numpy()]
    for formula in ("y ~ A * x * B + z:A + (1 | g)", "y ~ A + B + F + x + (1 | g)"):
        fit = rmodels.lmer(formula, d)
        X = np.asarray(fit.X)
        rdX, names = cell_coding(fit)
        K, names2 = cell_gram(fit)
        assert names2 == names
        np.testing.assert_allclose(K, rdX.T @ rdX, rtol=1e-12, atol=1e-10)
        np.testing.assert_array_equal(X, rdX[:, [names.index(c) for c in fit.columns]])
        np.testing.assert_allclose(cells_on_x(fit, X, list(fit.columns))[0],
                                   ginv_times(X, rdX).T, atol=1e-7)
    fit = rmodels.lmer("y ~ A * log(z + 1) + (1 | g)", d)
    assert cell_gram(fit) is None
    rdX, names = cell_coding(fit)
    assert names[:4] == ["(Intercept)", "Aa", "Ab", "Ac"] and rdX.shape == (n, len(names))


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
