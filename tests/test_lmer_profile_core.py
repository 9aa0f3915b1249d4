"""The profile's parameter maps (no R needed): θ <-> standard deviations/correlations, the
scalar path for 1 x 1 and 2 x 2 terms against the matrix path, and the spline inversion."""

from __future__ import annotations

import numpy as np
import pytest
from rmodels.models.lmer import sdcor, spline


def _matrix_path(v: np.ndarray, s: float) -> np.ndarray:
    m = sdcor.lower_tri_from(v, 2)
    m = m + np.tril(m, -1).T
    sd = np.diag(m).copy()
    c = m.copy()
    np.fill_diagonal(c, 1.0)
    return np.array(sdcor.lower_tri_values(sdcor.safe_chol_lower(c * np.outer(sd, sd) / s**2)))


def test_small_terms_take_the_matrix_arithmetic():
    rng = np.random.default_rng(1)
    for _ in range(2000):
        sd1, sd2 = rng.uniform(0, 50, 2)
        v = np.array([sd1, rng.uniform(-1, 1), sd2])
        s = rng.uniform(0.1, 30)
        np.testing.assert_array_equal(sdcor.small_term_theta(v, s**2), _matrix_path(v, s))
    assert sdcor.small_term_theta(np.array([3.0, 0.0, 2.0]), 4.0) == [1.5, 0.0, 1.0]
    assert sdcor.small_term_theta(np.array([3.0, 1.0, 2.0]), 4.0) is None  # pivoted branch


@pytest.mark.parametrize("sizes", [[1], [2], [3, 1], [2, 2, 1]])
def test_theta_sdcor_round_trip(sizes):
    rng = np.random.default_rng(len(sizes))
    theta = []
    for k in sizes:
        L = np.tril(rng.normal(size=(k, k)))
        L[np.diag_indices(k)] = np.abs(L[np.diag_indices(k)]) + 0.1
        theta += sdcor.lower_tri_values(L)
    theta = np.array(theta)
    sv = sdcor.theta_to_sdcor(theta, sizes, 2.5)
    assert sv[-1] == 2.5
    np.testing.assert_allclose(sdcor.sdcor_to_theta(sv[:-1], sizes, 2.5), theta, rtol=1e-12)


def test_back_spline_inverts_a_monotone_profile():
    x = np.linspace(-2.0, 3.0, 12)
    zeta = np.sinh(0.8 * x)  # smooth and increasing
    back = spline.BackSpline(x, zeta)
    for t in (-1.5, 0.0, 1.96):
        assert back(t) == pytest.approx(np.arcsinh(t) / 0.8, abs=2e-3)
    assert np.isnan(back(zeta[-1] + 1))
    with pytest.raises(ValueError):
        spline.BackSpline(x, np.cos(x))


def test_pivoted_cholesky_of_a_positive_definite_matrix():
    """Full rank: the pivoted factor, columns back in order, reproduces the matrix (the
    rank-deficient case is compared with R's chol(pivot = TRUE) in test_lmer_profile_r)."""
    rng = np.random.default_rng(5)
    A = rng.normal(size=(4, 4))
    m = A @ A.T + 0.1 * np.eye(4)
    R = sdcor.pivoted_chol_upper(m)
    np.testing.assert_allclose(R.T @ R, m, rtol=1e-12)
