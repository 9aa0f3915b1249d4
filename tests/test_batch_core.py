"""The grouped-fit engine's compiled pieces without R: which groups hold every level of a factor
(``_core.groups_with_all_levels``, the test that lets a group take its rows of the whole-data
design), the model matrix described by its column sources, and grouped glm fits (the
small-problem IRLS, the matrix built per group) against the single fits."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import rmodels
from rmodels import _core
from rmodels.batch import designs as batch_designs
from rmodels.design import build_design


def levels_by_sets(codes, levels, pos, bounds):
    """The same test written with Python sets."""
    out = []
    for g in range(len(bounds) - 1):
        seen = {int(codes[p]) for p in pos[bounds[g]:bounds[g + 1]] if p >= 0 and codes[p] >= 0}
        out.append(len(seen) == levels)
    return np.array(out)


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int32, np.int64])
def test_groups_with_all_levels_matches_sets(dtype):
    rng = np.random.default_rng(1)
    n, L = 600, 3
    codes = rng.integers(-1, L, n).astype(dtype)  # -1: a missing value
    pos = rng.permutation(n).astype(np.int64)
    pos[rng.uniform(size=n) < 0.1] = -1  # rows left out of the design
    sizes = rng.integers(0, 9, 120)
    bounds = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    bounds = bounds[bounds <= n]
    got = _core.groups_with_all_levels(codes, L, pos, bounds)
    assert got.dtype == bool and len(got) == len(bounds) - 1
    np.testing.assert_array_equal(got, levels_by_sets(codes, L, pos, bounds))
    assert got.any() and not got.all()


def test_groups_with_all_levels_rejects_bad_input():
    pos = np.arange(4, dtype=np.int64)
    bounds = np.array([0, 2, 4], dtype=np.int64)
    with pytest.raises(ValueError):
        _core.groups_with_all_levels(np.array([0, 1, 5, 0], dtype=np.int32), 2, pos, bounds)
    with pytest.raises(ValueError):
        _core.groups_with_all_levels(np.array([0, 1], dtype=np.int32), 2, pos, bounds)
    with pytest.raises(ValueError):
        _core.groups_with_all_levels(np.array([0, 1, 0, 1], dtype=np.int32), 2, pos,
                                     np.array([0, 3, 2], dtype=np.int64))
    with pytest.raises(TypeError):
        _core.groups_with_all_levels(np.array([0.0, 1.0, 0.0, 1.0]), 2, pos, bounds)


def logistic_groups(groups: int = 40, rows: int = 300, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = groups * rows
    g = np.repeat(np.arange(groups), rows)
    x1, x2 = rng.standard_normal((2, n))
    f = rng.integers(0, 3, n)
    eta = rng.normal(scale=0.5, size=groups)[g] + 0.8 * x1 - 0.4 * x2 + \
        np.array([0.0, 0.5, -0.5])[f]
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-eta))).astype(float)
    d = pd.DataFrame({"g": g, "y": y, "x1": x1, "x2": x2,
                      "f": pd.Categorical.from_codes(f, list("abc"))})
    return d.sample(frac=1.0, random_state=4)  # rows not in group order


def fits_equal_single_fits(fits, by: str = "g") -> None:
    """Every group's tidy() and glance() rows equal the single fit of its rows (1e-10)."""
    tidy, glance = fits.tidy(), fits.glance()
    cols = ["estimate", "std.error", "statistic", "p.value"]
    for k in range(len(fits)):
        one = fits[k]
        rows = tidy[tidy[by] == fits.keys[k][0]]
        assert list(rows["term"]) == list(one.tidy()["term"])
        np.testing.assert_allclose(rows[cols].to_numpy(float), one.tidy()[cols].to_numpy(float),
                                   rtol=1e-10, atol=1e-300)
        np.testing.assert_allclose(glance.iloc[[k]].drop(columns=[by, "status"])
                                   .to_numpy(float), one.glance().to_numpy(float), rtol=1e-10)


@pytest.mark.parametrize("formula, family, weights, by_sources", [
    ("y ~ x1 + x2 + f", "binomial", None, True),
    ("y ~ x1 + x2 + f", "binomial", "w", True),
    ("y ~ x1 * f", "binomial", None, False),  # an interaction: the matrix is built
    ("cnt ~ log(x1 + 5) + f", "poisson", None, True),
    ("cnt ~ poly(x1, 2) + f", "poisson", None, True),  # (each group's own design)
])
def test_grouped_glm_equals_single_fits(formula, family, weights, by_sources):
    """The grouped glm (the normal-equation IRLS with fewer divisions, the deviance of a 0/1
    response from a product of probabilities and binomial()$aic as that deviance; each group's
    model matrix built from the whole-data design's column sources when it has no
    interaction) gives each group's single fit to 1e-10."""
    d = logistic_groups()
    d["w"] = np.where(d["x2"] > 0, 2.0, 1.0)
    d["cnt"] = np.random.default_rng(5).poisson(np.exp(0.3 * d["x1"].to_numpy() + 1.0))
    fits = rmodels.glm(formula, d, family=family, by="g", weights=weights)
    fits_equal_single_fits(fits)
    whole = build_design(formula, d, materialize=False)
    assert (batch_designs.column_sources(whole) is not None) == by_sources


def test_column_sources_are_the_model_matrix():
    """The column sources hold the built matrix's values (numeric columns, coding columns)."""
    d = logistic_groups(groups=3, rows=40)
    whole = build_design("y ~ x1 + I(x2^2) + f", d, materialize=False)
    X = whole.model_matrix_array()
    sources = batch_designs.column_sources(whole)
    assert [s[0] for s in sources] == ["ones", "num", "num", "coding", "coding"]
    for j, s in enumerate(sources):
        col = np.ones(len(X)) if s[0] == "ones" else s[1] if s[0] == "num" else s[2][s[1]]
        np.testing.assert_array_equal(col, X[:, j])
