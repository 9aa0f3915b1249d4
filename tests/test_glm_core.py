"""The compiled IRLS (``_core.glm_fit``) against a plain NumPy reference of R's glm.fit.

The reference follows R-SEMANTICS §D2 step by step: family initialize (mustart), eta = g(mustart),
then per iteration z = eta - offset + (y - mu)/mu.eta, W = w mu.eta^2 / V(mu), weighted least
squares, deviance, convergence |dev - dev_old| / (|dev| + 0.1) < epsilon. On full-rank,
well-conditioned problems an ordinary least-squares solve gives the same iterates to rounding, so
the results must agree to ~1e-10 and the iteration counts exactly.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from rmodels import _core, errors
from rmodels.models.families import Gamma, binomial, gaussian, inverse_gaussian, poisson, quasi
from rmodels.models.glm import glm_fit_matrix
from scipy import special

EPS = np.finfo(float).eps


def _link(name: str):
    """(linkfun, linkinv, mu_eta) of R's make.link, with its clamps."""
    if name == "logit":
        def inv(e):
            t = np.where(e < -30, EPS, np.where(e > 30, 1 / EPS, np.exp(np.clip(e, -30, 30))))
            return t / (1 + t)
        return (lambda m: np.log(m / (1 - m)), inv,
                lambda e: np.where(np.abs(e) > 30, EPS, np.exp(e) / (1 + np.exp(e)) ** 2))
    if name == "probit":
        th = -special.ndtri(EPS)
        return (special.ndtri, lambda e: special.ndtr(np.clip(e, -th, th)),
                lambda e: np.maximum(np.exp(-e * e / 2) / np.sqrt(2 * np.pi), EPS))
    if name == "log":
        return (np.log, lambda e: np.maximum(np.exp(e), EPS),
                lambda e: np.maximum(np.exp(e), EPS))
    if name == "identity":
        return (lambda m: m, lambda e: e, np.ones_like)
    if name == "inverse":
        return (lambda m: 1 / m, lambda e: 1 / e, lambda e: -1 / e ** 2)
    if name == "sqrt":
        return (np.sqrt, lambda e: e ** 2, lambda e: 2 * e)
    raise ValueError(name)


def _ylogy(y, mu):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(y != 0, y * np.log(y / mu), 0.0)


def _family(name: str):
    """(variance, dev.resids, mustart from y and weights) of R's families."""
    if name == "binomial":
        return (lambda m: m * (1 - m),
                lambda y, m, w: 2 * w * (_ylogy(y, m) + _ylogy(1 - y, 1 - m)),
                lambda y, w: (w * y + 0.5) / (w + 1))
    if name == "poisson":
        return (lambda m: m, lambda y, m, w: 2 * w * (_ylogy(y, m) - (y - m)),
                lambda y, w: y + 0.1)
    if name == "Gamma":
        return (lambda m: m ** 2, lambda y, m, w: -2 * w * (np.log(y / m) - (y - m) / m),
                lambda y, w: y)
    if name == "inverse.gaussian":
        return (lambda m: m ** 3, lambda y, m, w: w * (y - m) ** 2 / (y * m ** 2),
                lambda y, w: y)
    if name in ("gaussian", "quasi"):
        return (np.ones_like, lambda y, m, w: w * (y - m) ** 2, lambda y, w: y)
    raise ValueError(name)


def irls_reference(X, y, w, offset, family: str, link: str, epsilon=1e-8, maxit=25):
    """NumPy glm.fit for full-rank X (no step halving): (coef, deviance, iter, W, mu)."""
    linkfun, linkinv, mu_eta = _link(link)
    variance, dev_resids, mustart = _family(family)
    eta = linkfun(mustart(y, w))
    mu = linkinv(eta)
    devold = np.sum(dev_resids(y, mu, w))
    it = 0
    for it in range(1, maxit + 1):  # noqa: B007 - the count is returned
        me = mu_eta(eta)
        z = eta - offset + (y - mu) / me
        W = w * me ** 2 / variance(mu)
        sw = np.sqrt(W)
        coef = np.linalg.lstsq(X * sw[:, None], z * sw, rcond=None)[0]
        eta = X @ coef + offset
        mu = linkinv(eta)
        dev = np.sum(dev_resids(y, mu, w))
        if abs(dev - devold) / (abs(dev) + 0.1) < epsilon:
            break
        devold = dev
    return coef, dev, it, W, mu


def _problem(seed: int, n: int = 200):
    rng = np.random.default_rng(seed)
    X = np.column_stack([np.ones(n), rng.normal(size=n), rng.uniform(0, 1, n)])
    return rng, X


CASES = [
    (binomial(), "binomial", "logit"), (binomial(link="probit"), "binomial", "probit"),
    (poisson(), "poisson", "log"), (poisson(link="sqrt"), "poisson", "sqrt"),
    (Gamma(), "Gamma", "inverse"), (Gamma(link="log"), "Gamma", "log"),
    (inverse_gaussian(link="log"), "inverse.gaussian", "log"),
    (gaussian(), "gaussian", "identity"), (gaussian(link="log"), "gaussian", "log"),
    (quasi(link="log"), "quasi", "log"),
]


@pytest.mark.parametrize("fam,fname,link", CASES, ids=[c[0].call_text for c in CASES])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_core_matches_numpy_reference(fam, fname, link, seed):
    rng, X = _problem(seed)
    n = X.shape[0]
    eta = X @ np.array([0.3, 0.4, -0.5])
    if fname == "binomial":
        y = (rng.uniform(size=n) < 1 / (1 + np.exp(-eta))).astype(float)
    elif fname == "poisson":
        y = rng.poisson(np.exp(eta + 1)).astype(float)
    else:
        y = rng.gamma(5.0, np.exp(eta + 1) / 5.0)
    w = rng.integers(1, 4, size=n).astype(float)
    offset = rng.uniform(-0.1, 0.1, size=n) if link == "log" else np.zeros(n)
    coef, dev, it, W, mu = irls_reference(X, y, w, offset, fname, link)
    core = glm_fit_matrix(X, y, fam, weights=w, offset=offset)
    assert core.iter == it
    assert core.converged
    np.testing.assert_allclose(core.coefficients, coef, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(core.deviance, dev, rtol=1e-10)
    np.testing.assert_allclose(core.working_weights, W, rtol=1e-9)
    np.testing.assert_allclose(core.fitted, mu, rtol=1e-9)


def test_family_kernels_numpy():
    eta = np.linspace(-35, 35, 71)
    for fam, link in ((binomial(), "logit"), (binomial(link="probit"), "probit"),
                      (poisson(), "log")):
        _, linkinv, mu_eta = _link(link)
        # scipy's ndtr and the core's erfc-based Phi differ by ~1e-14 at the probit clamp
        np.testing.assert_allclose(fam.linkinv(eta), linkinv(eta), rtol=1e-13, atol=1e-300)
        np.testing.assert_allclose(fam.mu_eta(eta), mu_eta(eta), rtol=1e-13, atol=1e-300)


def test_aliased_columns_are_nan_and_moved_last():
    rng, X = _problem(5)
    X = np.column_stack([X[:, 0], X[:, 1], X[:, 1] * 2.0, X[:, 2]])
    y = rng.poisson(3.0, size=X.shape[0]).astype(float)
    core = glm_fit_matrix(X, y, poisson())
    assert core.rank == 3
    assert list(core.pivot) == [0, 1, 3, 2]
    assert np.isnan(core.coefficients[2]) and not np.isnan(core.coefficients).sum() > 1


def test_zero_weights_are_not_good_rows():
    rng, X = _problem(6)
    y = rng.poisson(3.0, size=X.shape[0]).astype(float)
    w = np.ones(X.shape[0])
    w[:10] = 0
    core = glm_fit_matrix(X, y, poisson(), weights=w)
    assert not core.good[:10].any() and core.good[10:].all()
    assert np.all(core.working_weights[:10] == 0)
    ref = glm_fit_matrix(X[10:], y[10:], poisson())
    np.testing.assert_allclose(core.coefficients, ref.coefficients, rtol=1e-12)


def test_errors_and_empty_model():
    X = np.ones((4, 1))
    with pytest.raises(errors.DataError, match="y values must be 0 <= y <= 1"):
        glm_fit_matrix(X, np.array([0.0, 2.0, 1.0, 0.0]), binomial())
    core = glm_fit_matrix(np.zeros((4, 0)), np.array([1.0, 2.0, 3.0, 4.0]), poisson(),
                          intercept=False)
    assert core.iter == 0 and core.converged and core.rank == 0
    np.testing.assert_allclose(core.fitted, 1.0)


@pytest.mark.parametrize("fam,fname,link", CASES, ids=[c[0].call_text for c in CASES])
def test_family_object_against_numpy(fam, fname, link):
    """The compiled family bound once (``Family.core``, a ``_core.GlmFamily``): its element-wise
    functions against the NumPy reference of R's make.link and variance/dev.resids."""
    rng = np.random.default_rng(7)
    linkfun, linkinv, mu_eta = _link(link)
    variance, dev_resids, _ = _family(fname)
    mu = rng.uniform(0.05, 0.95, 50) if fname == "binomial" else rng.uniform(0.5, 4.0, 50)
    y = (rng.uniform(size=50) < mu).astype(float) if fname == "binomial" else \
        rng.uniform(0.5, 4.0, 50)
    wt = rng.uniform(0.5, 2.0, 50)
    eta = linkfun(mu)
    core = fam.core
    assert isinstance(core, _core.GlmFamily) and fam.core is core  # made once
    np.testing.assert_allclose(core.linkfun(mu), eta, rtol=1e-13)
    np.testing.assert_allclose(core.linkinv(eta), linkinv(eta), rtol=1e-13)
    np.testing.assert_allclose(core.mu_eta(eta), mu_eta(eta), rtol=1e-13)
    np.testing.assert_allclose(core.variance(mu), variance(mu), rtol=1e-13)
    np.testing.assert_allclose(core.dev_resids(y, mu, wt), dev_resids(y, mu, wt), rtol=1e-12,
                               atol=1e-300)
    assert core.valid(eta, mu) == (True, True)
    assert (core.family, core.link) == (fam.core_name, fam.link)
    again = pickle.loads(pickle.dumps(core))
    np.testing.assert_array_equal(again.linkinv(eta), core.linkinv(eta))


def test_error_kinds():
    """Errors carry their kind (``_core.GlmErrorKind``); the Python classes follow it."""
    X = np.ones((4, 1))
    with pytest.raises(_core.GlmError) as exc:
        _core.GlmFamily("binomial", "nolink")
    assert exc.value.kind == _core.GlmErrorKind.InvalidArgument
    fam = binomial().core
    y = np.asfortranarray([[0.0], [2.0], [1.0], [0.0]])
    w, o = np.ones(4), np.zeros(4)
    with pytest.raises(_core.GlmError, match="y values must be") as exc:
        _core.glm_fit(X, y, w, o, False, fam)
    assert exc.value.kind == _core.GlmErrorKind.ResponseValues
    with pytest.raises(_core.GlmError) as exc:
        _core.glm_fit(X, np.asfortranarray(np.ones((4, 3))), w, o, False, poisson().core)
    assert exc.value.kind == _core.GlmErrorKind.ResponseShape
    with pytest.raises(_core.GlmError, match="length of 'start'") as exc:
        _core.glm_fit(X, np.asfortranarray([[1.0], [2.0], [3.0], [4.0]]), w, o, False,
                      poisson().core, start=np.zeros(2))
    assert exc.value.kind == _core.GlmErrorKind.InvalidArgument
    with pytest.raises(errors.FitError, match="cannot find valid starting values"):
        glm_fit_matrix(X, np.array([1.0, 0.0, 3.0, 4.0]), gaussian(link="log"), emit=False)
    with pytest.raises(errors.DataError, match="y must be a vector of 0 and 1"):
        glm_fit_matrix(X, np.ones((4, 3)), binomial(), emit=False)


def test_warning_kinds():
    """R's warnings come with their kinds, one per message, in R's order."""
    rng, X = _problem(4)
    n = X.shape[0]
    y = (X[:, 1] > 0).astype(float)  # complete separation
    res = glm_fit_matrix(X, y, binomial(), emit=False)
    K = _core.GlmWarningKind
    assert len(res.warning_kinds) == len(res.warnings)
    assert K.FittedProbabilitiesZeroOne in res.warning_kinds
    k = res.warning_kinds.index(K.FittedProbabilitiesZeroOne)
    assert "fitted probabilities numerically 0 or 1" in res.warnings[k]
    y = rng.poisson(3.0, size=n).astype(float)
    res = glm_fit_matrix(X, y, poisson(), maxit=1, emit=False)
    assert res.warning_kinds == [K.NotConverged]
    assert res.warnings == ["glm.fit: algorithm did not converge"]
    with pytest.warns(errors.ConvergenceWarning, match="did not converge"):
        glm_fit_matrix(X, y, poisson(), maxit=1)
    yb = np.column_stack([rng.integers(0, 5, n) + 0.5, np.full(n, 3.0)])
    res = glm_fit_matrix(X, yb, binomial(), emit=False)
    assert res.warning_kinds[0] == K.NonIntegerCounts
