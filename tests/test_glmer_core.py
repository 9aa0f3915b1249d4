"""glmer without R: lme4's Gauss-Hermite rule, argument checks and the fit's invariants."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from rmodels import glmer
from rmodels.errors import FitError
from rmodels.models.glmer.optimize import gh_rule, glmerControl


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


def _post_fit_values(model, par: np.ndarray, theta: np.ndarray) -> list:
    """R_X and the conditional variances after an evaluation at par (lmer's PLS models,
    reweighted to the working weights of that evaluation)."""
    model.deviance(par, 1)
    return [np.asarray(model.fixed_rx(theta))] + [np.asarray(B)
                                                   for B in model.cond_var_blocks(theta)]


def test_post_fit_rx_and_condvar_are_reproducible():
    """R_X (vcov's fallback) and condVar come from lmer's PLS models reweighted after the fit:
    bit for bit the same whatever those models held before (other weights), in a model compiled
    again, and R_X equal to a dense Cholesky factor of the same system."""
    d = _data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = glmer("y ~ x + (1 | g) + (1 | h)", d, family="poisson")
    model = fit.model
    par = np.concatenate([fit.theta, fit.beta])
    first = _post_fit_values(model, par, fit.theta)
    rng = np.random.default_rng(11)
    for _ in range(3):
        other = par + rng.normal(scale=0.05, size=par.size)
        other[: len(fit.theta)] = np.abs(other[: len(fit.theta)])
        _post_fit_values(model, other, other[: len(fit.theta)])
        again = _post_fit_values(model, par, fit.theta)
        for a, b in zip(first, again):
            np.testing.assert_array_equal(a, b)
    fresh = _post_fit_values(fit.rebuild_model(), par, fit.theta)
    for a, b in zip(first, fresh):
        np.testing.assert_array_equal(a, b)
    # R_X at the working weights of the final linear predictor (poisson, log link: w = mu)
    model.deviance(par, 1)
    mu = np.asarray(model.state()["mu"])
    Z = np.hstack([np.eye(t.nlev)[t.codes] * np.asarray(t.Z) for t in fit.re.terms])
    ZL = Z * np.concatenate([np.full(t.nlev, th) for t, th in zip(fit.re.terms, fit.theta)])
    X = fit.X
    A = np.block([[ZL.T @ (mu[:, None] * ZL) + np.eye(ZL.shape[1]), ZL.T @ (mu[:, None] * X)],
                  [X.T @ (mu[:, None] * ZL), X.T @ (mu[:, None] * X)]])
    RX = np.linalg.cholesky(A)[ZL.shape[1]:, ZL.shape[1]:]
    np.testing.assert_allclose(first[0], RX, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("nagq", [1, 5])
def test_unpickled_fit_recomputes_the_same_bits(nagq):
    """A pickled fit compiles its model again with the fit's PIRLS start (lp0), tolerance and
    Gauss-Hermite rule: its criterion, condVar and vcov are the original's bit for bit."""
    import pickle

    d = _data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = glmer("y ~ x + (1 | g)", d, family="poisson", nAGQ=nagq,
                    control=glmerControl(tol_pwrss=1e-9))
    back = pickle.loads(pickle.dumps(fit))
    par = np.concatenate([fit.theta, fit.beta])
    assert back.model.deviance(par, nagq) == fit.model.deviance(par, nagq)
    assert back.model.state()["objective"] == fit.optinfo.fval
    np.testing.assert_array_equal(back.conditional_variances()[0],
                                  fit.conditional_variances()[0])
    np.testing.assert_array_equal(back.vcov_matrix(), fit.vcov_matrix())
