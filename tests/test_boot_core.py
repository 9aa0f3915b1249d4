"""The compiled case-bootstrap refits of an lm (``_core.boot_lm_case``) against lm.wfit in R's
operation order (the grouped lm engine on the same rows), bit for bit, on every path: the row
kernel (widths 4 to 32), and the general refit (zero weights, a column dqrdc2 moves, more than
31 columns, fewer rows than columns); and R's index matrix drawn in place."""

from __future__ import annotations

import numpy as np
import pytest
from rmodels import _core
from rmodels.inference.boot import bootstrap_indices, stacked_groups
from rmodels.inference.rrandom import RRandom


def reference(X, y, w, o, indices, tol=1e-7):
    """The grouped engine's lm.wfit (R's operation order for these sizes) on each resample."""
    g = stacked_groups(indices, X.shape[1])
    res = _core.lm_batch_columns(X, y.reshape(-1, 1), w, o, g["rows"], g["row_ptr"], g["cols"],
                                 g["col_ptr"], tol, True, 1)
    return np.asarray(res["estimate"]), np.asarray(res["rank"])


def problem(n, p, seed, weights=False, offset=False):
    rng = np.random.default_rng(seed)
    X = np.asfortranarray(np.column_stack([np.ones(n), rng.normal(size=(n, p - 1))]))
    y = X @ rng.normal(size=p) + rng.normal(size=n)
    w = rng.uniform(0.2, 3, n) if weights else None
    o = rng.normal(size=n) if offset else None
    return X, y, w, o


@pytest.mark.parametrize("n,p,weights,offset", [
    (50, 2, False, False), (200, 7, True, True), (120, 11, False, True), (400, 15, True, False),
    (300, 23, False, False), (260, 31, True, True), (90, 40, False, False), (6, 8, False, False)])
def test_replicates_equal_lm_wfit_bit_for_bit(n, p, weights, offset):
    X, y, w, o = problem(n, p, seed=n + p, weights=weights, offset=offset)
    idx = bootstrap_indices(RRandom(n), n, 25)
    got = _core.boot_lm_case(X, y, w, o, idx, 1e-7, 2)
    want, rank = reference(X, y, w, o, idx)
    np.testing.assert_array_equal(got["coefficients"], want)
    np.testing.assert_array_equal(got["rank"], rank)


def test_zero_weights_moved_columns_and_rank_loss():
    X, y, w, o = problem(80, 5, seed=3, weights=True)
    w[[0, 7, 30]] = 0.0
    X[:, 3] = X[:, 1] - 2 * X[:, 2]  # collinear: dqrdc2 moves column 3
    X[:, 4] = (np.arange(80) < 2).astype(float)  # a dummy many resamples lose
    X = np.asfortranarray(X)
    idx = bootstrap_indices(RRandom(4), 80, 60)
    got = _core.boot_lm_case(X, y, w, None, idx, 1e-7, 3)
    want, rank = reference(X, y, w, None, idx)
    np.testing.assert_array_equal(got["coefficients"], want)
    np.testing.assert_array_equal(got["rank"], rank)
    assert len(set(rank.tolist())) == 2
    for k in (1, 2):  # the same without the zero weights: the row kernel falls back
        got = _core.boot_lm_case(X, y, None, None, idx, 1e-7, k)
        np.testing.assert_array_equal(got["coefficients"], reference(X, y, None, None, idx)[0])


def test_all_weights_zero_in_a_replicate_is_reported():
    X, y, w, o = problem(4, 2, seed=5, weights=True)
    w[1:] = 0.0
    idx = np.array([[1, 2, 3, 1], [0, 0, 1, 2]], dtype=np.int32)
    got = _core.boot_lm_case(X, y, w, None, idx, 1e-7, 1)
    assert list(got["status"]) == [1, 0]
    assert got["message"][0] == "all weights are zero"


def test_index_matrix_is_the_column_filled_stream():
    for n, R in [(1, 3), (9, 4), (70_000, 2)]:
        a, b = RRandom(7), RRandom(7)
        m = a.unif_index_matrix(n, R, n)
        flat = b.unif_index(n, n * R)
        np.testing.assert_array_equal(m, flat.reshape(n, R).T)
        np.testing.assert_array_equal(a.runif(3), b.runif(3))


def test_bad_indices_are_refused():
    X, y, _, _ = problem(10, 2, seed=1)
    with pytest.raises(ValueError, match="rows of X"):
        _core.boot_lm_case(X, y, None, None, np.array([[0, 10]], dtype=np.int32))


def test_recomputed_norms_of_nearly_collinear_columns():
    """A column nearly in the span of earlier ones: dqrdc2 recomputes its norm from the rows
    (the down-dating factor falls below 1e-6) without moving it; the row kernel follows."""
    X, y, w, o = problem(150, 6, seed=8, weights=True)
    rng = np.random.default_rng(9)
    X[:, 4] = X[:, 1] + 2 * X[:, 2] + 1e-4 * rng.normal(size=150)
    X[:, 5] = X[:, 3] - 1e-5 * rng.normal(size=150)
    X = np.asfortranarray(X)
    idx = bootstrap_indices(RRandom(10), 150, 30)
    got = _core.boot_lm_case(X, y, w, None, idx, 1e-7, 2)
    want, rank = reference(X, y, w, None, idx)
    assert (rank == 6).all()
    np.testing.assert_array_equal(got["coefficients"], want)
