"""rmodels.rrandom against live R 4.2.2's default generator (Mersenne-Twister, Inversion,
Rejection): the first 10,000 values of runif, rnorm and sample for several seeds and sizes
(exactly equal, bit for bit), the stream's position after each call, and R's qnorm."""

from __future__ import annotations

import numpy as np
import pytest
from rbridge import r
from rmodels import rrandom
from rmodels.errors import DataError

SEEDS = [1, 42, -7, 123456, 2147483647, 0]


@pytest.mark.r
@pytest.mark.parametrize("seed", SEEDS)
def test_runif_first_10000(seed):
    g = rrandom.RRandom(seed)
    np.testing.assert_array_equal(g.runif(10000), r(f"set.seed({seed}); runif(10000)"))
    np.testing.assert_array_equal(g.runif(5, -2.0, 3.5), r("runif(5, -2, 3.5)"))


@pytest.mark.r
def test_random_seed_matches_r():
    g = rrandom.RRandom(2024)
    np.testing.assert_array_equal(g.random_seed, r("set.seed(2024); .Random.seed"))
    g.runif(700)
    np.testing.assert_array_equal(g.random_seed, r("invisible(runif(700)); .Random.seed"))


@pytest.mark.r
@pytest.mark.parametrize("seed", SEEDS)
def test_rnorm_first_10000(seed):
    g = rrandom.RRandom(seed)
    np.testing.assert_array_equal(g.rnorm(10000), r(f"set.seed({seed}); rnorm(10000)"))
    np.testing.assert_array_equal(g.rnorm(7, 3.0, 0.5), r("rnorm(7, 3, 0.5)"))


@pytest.mark.r
@pytest.mark.parametrize("seed", [1, 42, 99999])
@pytest.mark.parametrize("n", [1, 2, 3, 10, 100, 1000, 10000, 65536, 65537])
def test_sample_n_with_replacement(seed, n):
    g = rrandom.RRandom(seed)
    size = min(n, 10000)
    got = g.sample(n, size, replace=True) if size == n else g.sample_int(n, size, True)
    want = r(f"set.seed({seed}); sample({n}, {size}, replace = TRUE)")
    np.testing.assert_array_equal(got, want)
    # the stream continues where R's does
    np.testing.assert_array_equal(g.runif(3), r("runif(3)"))


@pytest.mark.r
@pytest.mark.parametrize("n", [2**31 - 1, 2**31 + 5, 3_000_000_000, 2**40 + 3, 4e15])
def test_sample_int_large_n(n):
    """Above 2^31 R returns doubles (and needs 3 or 4 uniforms per candidate)."""
    g = rrandom.RRandom(11)
    want = r(f"set.seed(11); sample.int({n:.0f}, 10000, replace = TRUE)")
    np.testing.assert_array_equal(g.sample_int(n, 10000, replace=True).astype(float), want)
    np.testing.assert_array_equal(g.runif(2), r("runif(2)"))


@pytest.mark.r
@pytest.mark.parametrize("n,size", [(10, 10), (1000, 1000), (50000, 300), (20_000_000, 500),
                                    (200_000, 150_000)])
def test_sample_without_replacement(n, size):
    g = rrandom.RRandom(5)
    want = r(f"set.seed(5); sample.int({n}, {size})")
    np.testing.assert_array_equal(g.sample_int(n, size), want)
    np.testing.assert_array_equal(g.runif(2), r("runif(2)"))


@pytest.mark.r
@pytest.mark.parametrize("n,nrow,seed", [(1, 3, 2), (2, 7, 3), (37, 11, 4), (70_000, 3, 5),
                                         (2**31 - 1, 5, 6), (65_537, 1, 7)])
def test_unif_index_matrix_fills_by_column(n, nrow, seed):
    """boot's index matrix: matrix(sample.int(n, n * R, TRUE), R, n), drawn in place."""
    g = rrandom.RRandom(seed)
    ncol = min(n, 4000)
    want = r(f"set.seed({seed}); as.vector(t(matrix(sample.int({n}, {ncol} * {nrow}, "
             f"replace = TRUE), {nrow}, {ncol})))")
    got = g.unif_index_matrix(n, nrow, ncol)
    assert got.dtype == np.int32 and got.flags.c_contiguous
    np.testing.assert_array_equal(got.ravel() + 1.0, want)
    np.testing.assert_array_equal(g.runif(2), r("runif(2)"))


@pytest.mark.r
def test_sample_of_a_vector_and_module_stream():
    rrandom.set_seed(8)
    x = np.array([2.5, 7.0, -1.0, 4.0])
    got = rrandom.sample(x, 10, replace=True)
    np.testing.assert_array_equal(got, r("set.seed(8); sample(c(2.5, 7, -1, 4), 10, TRUE)"))
    np.testing.assert_array_equal(rrandom.runif(4), r("runif(4)"))
    np.testing.assert_array_equal(rrandom.rnorm(4), r("rnorm(4)"))
    np.testing.assert_array_equal(rrandom.sample_int(6), r("sample.int(6)"))


@pytest.mark.r
def test_qnorm_is_rs():
    p = np.concatenate([np.linspace(0, 1, 20001), 10.0 ** -np.arange(1, 300, 0.5),
                        1 - 10.0 ** -np.arange(1, 16, 0.25), [0.075, 0.925, -0.1, 1.5]])
    r_p = ", ".join(repr(float(v)) for v in p)
    want = r(f"suppressWarnings(qnorm(c({r_p})))")
    np.testing.assert_array_equal(rrandom.qnorm(p), want)


def test_bad_input():
    with pytest.raises(DataError, match="not a valid integer"):
        rrandom.RRandom(2**31)
    with pytest.raises(DataError, match="not a valid integer"):
        rrandom.RRandom("1")  # type: ignore[arg-type]
    g = rrandom.RRandom(1)
    with pytest.raises(DataError, match="larger than the population"):
        g.sample_int(5, 6)
    with pytest.raises(DataError, match="invalid first argument"):
        g.sample_int(-1, 2)
    assert np.isnan(g.runif(2, 3.0, 1.0)).all()


def test_seeding_is_deterministic():
    a, b = rrandom.RRandom(77), rrandom.RRandom(77)
    np.testing.assert_array_equal(a.sample_int(10**6, 5000, True), b.sample_int(10**6, 5000, True))
    assert not np.array_equal(rrandom.RRandom(1).runif(10), rrandom.RRandom(2).runif(10))


@pytest.mark.parametrize("n", [1, 7, 10000, 65536, 70001, 2**31 + 5, 2**40 + 3, 4e15])
def test_compiled_index_sampler_equals_numpy_reference(n):
    a, b = rrandom.RRandom(3), rrandom.RRandom(3)
    np.testing.assert_array_equal(a.unif_index(n, 20000), b.unif_index_numpy(n, 20000))
    np.testing.assert_array_equal(a.random_seed, b.random_seed)
    np.testing.assert_array_equal(a.unif_index(n, 5), b.unif_index_numpy(n, 5))
