"""The binomial and Poisson log densities behind glm's AIC (``_core.glm_count_aic``) against
live R's dbinom/dpois, one element at a time and summed as R's family$aic; R's warning for
non-integer Poisson counts."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from rbridge import r, send_df
from rmodels import _core, errors
from rmodels.models.glm import glm

pytestmark = pytest.mark.r

# Counts and means on both sides of the method's switches (Stirling table up to 15, series cuts
# at 35, 80, 500; the deviance term's series when x is near the mean; tiny means).
POIS_X = np.array([0, 0, 1, 2, 3, 5, 7, 10, 15, 16, 20, 30, 35, 36, 50, 80, 81, 100, 500, 501,
                   1000, 1e5, 3e6, 4, 12])
POIS_MU = np.array([1e-300, 2.5, 1e-5, 0.3, 1, 2.5, 7, 10, 14.9, 16, 19, 33, 40, 36, 49, 85, 80,
                    120, 400, 600, 1003, 99000, 3e6 + 5, 1e-200, 0.0])
BINOM = [(0, 1, 0.3), (1, 1, 0.05), (0, 5, 0.05), (5, 5, 0.95), (3, 10, 0.3), (17, 40, 0.5),
         (400, 1000, 0.41), (1, 3, 1e-9), (29, 30, 0.999), (7, 15, 0.5), (8, 31, 0.2),
         (0, 4, 0.0), (4, 4, 1.0), (2, 4, 0.0), (0, 0, 0.5), (123456, 250000, 0.49)]


@pytest.fixture(scope="module")
def r_pois():
    send_df(pd.DataFrame({"x": POIS_X, "mu": POIS_MU}), "pd_")
    return np.asarray(r("dpois(pd_$x, pd_$mu, log = TRUE)"), float)


@pytest.fixture(scope="module")
def r_binom():
    k, n, p = (np.array(v, float) for v in zip(*BINOM))
    send_df(pd.DataFrame({"k": k, "n": n, "p": p}), "bd_")
    return k, n, p, np.asarray(r("dbinom(bd_$k, bd_$n, bd_$p, log = TRUE)"), float)


def _one(family, y, n, mu, wt):
    return -_core.glm_count_aic(family, np.array([y]), np.array([n]), np.array([mu]),
                                np.array([wt]))[0] / 2


def test_poisson_log_density_equals_r(r_pois):
    ours = np.array([_one("poisson", x, 1.0, m, 1.0) for x, m in zip(POIS_X, POIS_MU)])
    np.testing.assert_allclose(ours, r_pois, rtol=2e-15, atol=1e-300)


def test_binomial_log_density_equals_r(r_binom):
    k, n, p, expect = r_binom
    # y = k / n with the trials as n and as the prior weights (m = n): the term is dbinom.
    ours = np.array([_one("binomial", ki / ni if ni > 0 else 0.0, ni, pi, ni)
                     for ki, ni, pi in zip(k, n, p)])
    np.testing.assert_allclose(ours, expect, rtol=2e-15)


def test_family_aic_sums_equal_r():
    rng = np.random.default_rng(7)
    n = 50_000  # several threaded tasks
    mu = rng.uniform(0.5, 30, n)
    y = rng.poisson(mu).astype(float)
    wt = rng.integers(0, 4, n).astype(float)
    prob = rng.uniform(0.01, 0.99, n)
    size = rng.integers(1, 60, n).astype(float)
    yb = rng.binomial(size.astype(int), prob) / size
    send_df(pd.DataFrame({"y": y, "mu": mu, "wt": wt, "prob": prob, "size": size, "yb": yb}),
            "aic_")
    r_pois = float(r("poisson()$aic(aic_$y, 1, aic_$mu, aic_$wt)")[0])
    r_binom = float(r("binomial()$aic(aic_$yb, aic_$size, aic_$prob, aic_$size)")[0])
    ours_pois = _core.glm_count_aic("poisson", y, np.ones(n), mu, wt)[0]
    ours_binom = _core.glm_count_aic("binomial", yb, size, prob, size)[0]
    assert ours_pois == pytest.approx(r_pois, rel=1e-13)
    assert ours_binom == pytest.approx(r_binom, rel=1e-13)
    # Bernoulli responses: m is the prior weights (no trials above 1).
    yb01 = (rng.uniform(size=n) < prob).astype(float)
    send_df(pd.DataFrame({"y": yb01, "prob": prob}), "aicb_")
    r_bern = float(r("binomial()$aic(aicb_$y, 1, aicb_$prob, rep(1, nrow(aicb_)))")[0])
    ours_bern = _core.glm_count_aic("binomial", yb01, np.ones(n), prob, np.ones(n))[0]
    assert ours_bern == pytest.approx(r_bern, rel=1e-13)


def test_poisson_noninteger_counts_warn_as_r():
    d = pd.DataFrame({"y": [0.5, 1.0, 2.0, 4.25], "x": [1.0, 2.0, 3.0, 4.0]})
    send_df(d, "nonint_")
    r_msgs = list(r("local({w <- character(); withCallingHandlers("
                    "f <- glm(y ~ x, poisson, nonint_), warning = function(c) {"
                    "w <<- c(w, conditionMessage(c)); invokeRestart('muffleWarning')}); w})"))
    r_aic = float(r("glm(y ~ x, poisson, nonint_)$aic")[0])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = glm("y ~ x", d, family="poisson")
    ours = [str(c.message) for c in caught if issubclass(c.category, errors.RModelsWarning)]
    assert ours == r_msgs
    assert fit.aic == r_aic  # Inf, as R
