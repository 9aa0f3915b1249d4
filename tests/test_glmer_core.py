"""glmer without R: lme4's Gauss-Hermite rule, argument checks and the fit's invariants."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from rmodels import glmer
from rmodels.errors import FitError
from rmodels.models.glmer.optimize import gh_rule


def _data() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    g = np.repeat(np.arange(12), 10)
    x = rng.normal(size=g.size)
    h = rng.integers(0, 4, size=g.size)
    eta = 0.2 + 0.5 * x + rng.normal(scale=0.7, size=12)[g]
    return pd.DataFrame({"y": rng.poisson(np.exp(eta)).astype(float), "x": x,
                         "g": pd.Categorical([f"g{i}" for i in g]),
                         "h": pd.Categorical([f"h{i}" for i in h])})


def test_gh_rule_is_normal_quadrature():
    z, w, ld = gh_rule(7)
    assert w.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(z, -z[::-1], atol=1e-12)
    # exact for polynomials of degree < 14 under N(0, 1): E z^4 = 3, E z^6 = 15
    assert np.dot(w, z**4) == pytest.approx(3.0)
    assert np.dot(w, z**6) == pytest.approx(15.0)
    np.testing.assert_allclose(ld, -0.5 * z**2 - 0.5 * np.log(2 * np.pi))


def test_unsupported_family_and_agq_checks():
    d = _data()
    with pytest.raises(FitError):
        glmer("y ~ x + (1 | g)", d, family="quasipoisson")  # lme4 refuses quasi families
    with pytest.raises(FitError):
        glmer("y ~ x + (1 | g) + (1 | h)", d, family="poisson", nAGQ=5)
    with pytest.raises(FitError):
        glmer("y ~ x + (1 | g)", d, family="poisson", nAGQ=30)


def test_fit_invariants():
    d = _data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = glmer("y ~ x + (1 | g)", d, family="poisson")
        fit5 = glmer("y ~ x + (1 | g)", d, family="poisson", nAGQ=5)
    # the criterion at the optimum is the compiled model's Laplace deviance there
    par = np.concatenate([fit.theta, fit.beta])
    assert fit.model.deviance(par, 1) == pytest.approx(-2 * fit.logLik(), rel=1e-12)
    # moving any parameter raises it
    for i in range(len(par)):
        for s in (-1e-3, 1e-3):
            p2 = par.copy()
            p2[i] += s
            assert fit.model.deviance(p2, 1) > -2 * fit.logLik()
    np.testing.assert_allclose(fit.fitted().to_numpy(), np.exp(fit.predict().to_numpy()))
    np.testing.assert_allclose(fit.residuals("response").to_numpy(),
                               d["y"].to_numpy() - fit.fitted().to_numpy())
    assert fit.AIC() == pytest.approx(-2 * fit.logLik() + 2 * 3)
    assert fit5.nAGQ == 5 and "nAGQ = 5" in str(fit5)
    np.testing.assert_allclose(fit5.beta, fit.beta, atol=0.05)


def test_compiled_deriv12_is_lme4s_and_thread_independent():
    """The derivatives computed in the core (evaluations in their own workspaces, on threads)
    are lme4's deriv12 of the criterion, bit for bit, for any thread count."""
    from rmodels.models.lmer.optimize import deriv12

    d = _data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = glmer("y ~ x + (1 | g) + (1 | h)", d, family="poisson")
    par = np.concatenate([fit.theta, fit.beta])
    fx = fit.model.deviance(par, 1)
    one = fit.model.deriv12(par, fx, 1, 1e-4, 1)
    two = fit.model.deriv12(par, fx, 1, 1e-4, 2)
    # the model's own state is left at the optimum
    assert fit.model.state()["objective"] == fx
    ref = deriv12(lambda x: fit.model.deviance(x, 1), par.copy(), fx)
    for key in ("gradient", "Hessian"):
        np.testing.assert_array_equal(one[key], two[key])
        np.testing.assert_array_equal(one[key], ref[key])
