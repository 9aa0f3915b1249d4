"""The model matrix kept by rows (``_core.design_rows``) and glm's fit from it.

The row store must hold exactly the non-zero entries of the dense model matrix (same products,
same bits), and a glm fitted from it must equal the fit from the dense matrix bit for bit (both
accumulate the same weighted Gram matrix)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from rmodels import _core
from rmodels.design import build_design
from rmodels.models.glm import glm_fit_matrix


def _data(n: int = 30000, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = rng.integers(0, 15, n)
    h = rng.integers(0, 6, n)
    x = rng.normal(size=n)
    x[::7] = 0.0  # exact zeros in a numeric column
    eta = -0.2 + 0.3 * x + np.linspace(-0.5, 0.5, 15)[g]
    return pd.DataFrame({
        "x": x, "z": rng.uniform(1, 2, n),
        "g": pd.Categorical.from_codes(g, [f"g{k:02d}" for k in range(15)]),
        "h": pd.Categorical.from_codes(h, list("abcdef")),
        "o": pd.Categorical.from_codes(h, list("abcdef"), ordered=True),
        "y": (rng.uniform(size=n) < 1 / (1 + np.exp(-eta))).astype(float),
        "k": rng.poisson(np.exp(eta)).astype(float),
    })


FORMULAS = [
    "y ~ x + g + h",
    "y ~ 0 + g + x",
    "y ~ x * g",
    "y ~ g:h",
    "y ~ x:z + g + h",
    "y ~ poly(x, 2) + g + h",
    "y ~ g + o",
    "y ~ log(z) + g * x",
]


@pytest.mark.parametrize("formula", FORMULAS)
def test_rows_hold_the_dense_matrix(formula):
    d = build_design(formula, _data())
    rows = d.design_rows()
    assert rows is not None
    assert (rows.n, rows.p) == d.X.shape
    dense = rows.to_dense()
    np.testing.assert_array_equal(dense, d.X)
    assert rows.nnz == np.count_nonzero(d.X)


def test_rows_refused_when_dense_or_small():
    df = _data()
    assert build_design("y ~ x + z", df).design_rows() is None  # every entry non-zero
    assert build_design("y ~ g + h", df.iloc[:500]).design_rows() is None  # not tall enough
    with pytest.raises(ValueError):
        _core.design_rows(10, 2, [(1, [("num", np.ones((10, 1)))]), (2, [])])


def test_rows_refused_with_non_finite_values():
    df = _data()
    df.loc[5, "z"] = np.inf
    assert build_design("y ~ x:z + g + h", df).design_rows() is None


@pytest.mark.parametrize("formula,family", [
    ("y ~ x + g + h", "binomial"), ("k ~ x * g", "poisson"), ("k ~ g + h + log(z)", "poisson"),
])
def test_glm_from_rows_equals_dense(formula, family):
    d = build_design(formula, _data())
    rows = d.design_rows()
    assert rows is not None
    Y = d.y.astype(float)
    dense = glm_fit_matrix(d.X, Y, family, intercept_col=0)
    sparse = glm_fit_matrix(None, Y, family, rows=rows, intercept_col=0)
    assert sparse is not None and sparse.gram_steps == sparse.iter == dense.gram_steps
    for attr in ("coefficients", "fitted", "linear_predictors", "working_weights", "R"):
        np.testing.assert_array_equal(getattr(sparse, attr), getattr(dense, attr))
    assert sparse.deviance == dense.deviance and sparse.null_deviance == dense.null_deviance


def test_glm_from_rows_declines_aliased_columns():
    df = _data()
    df["h2"] = df["h"]
    d = build_design("y ~ x + g + h + h2", df)
    rows = d.design_rows()
    assert rows is not None
    assert glm_fit_matrix(None, d.y.astype(float), "binomial", rows=rows) is None


def test_rows_matvec_and_hat_against_numpy():
    """``rows_matvec`` (X b) and ``rows_hat`` (w_i x_i' M x_i) on the row store against the same
    products of the dense matrix in NumPy."""
    d = build_design("y ~ x + g + h", _data())
    rows = d.design_rows()
    X = d.X
    rng = np.random.default_rng(11)
    b = rng.normal(size=X.shape[1])
    b[3] = 0.0  # a zero coefficient is skipped: the sum is unchanged
    np.testing.assert_allclose(_core.rows_matvec(rows, b), X @ b, rtol=1e-13, atol=1e-13)
    A = rng.normal(size=(X.shape[1], X.shape[1]))
    M = np.asfortranarray(A @ A.T)
    w = rng.uniform(0.5, 2, X.shape[0])
    w[::5] = 0.0
    ref = w * np.einsum("ij,jk,ik->i", X, M, X)
    np.testing.assert_allclose(_core.rows_hat(rows, M, w), ref, rtol=1e-11, atol=1e-12)
    assert np.all(_core.rows_hat(rows, M, w)[::5] == 0.0)
