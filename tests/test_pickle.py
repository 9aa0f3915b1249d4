"""Every fit (LM, GLM, NegBinGLM, lmer's LmerMod, glmer's GlmerMod, lmerTest's fit, grouped
FitList) pickles and loads with all its methods working: each of R's generics in
:mod:`rmodels.generics`, and the methods that take arguments, give the same result (or the same
error) on the loaded fit as on the original."""

from __future__ import annotations

import inspect
import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import rmodels
from rmodels import generics, lmerTest


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    n = 60
    s = np.repeat(np.arange(6), 10)
    x = rng.normal(size=n)
    mu = np.exp(0.5 + 0.3 * x)
    df = pd.DataFrame({"x": x, "g": rng.choice(["a", "b", "c"], n), "s": s.astype(str),
                       "cnt": rng.negative_binomial(2.0, 2.0 / (2.0 + mu))})
    df["y"] = 1 + df["x"] + rng.normal(size=6)[s] + rng.normal(size=n)
    df.loc[3, "x"] = np.nan  # a row dropped for a missing value
    df.index = [f"r{i}" for i in range(n)]
    return df


FITS = {
    "lm": lambda d: rmodels.lm("y ~ x + g", d, na_action="exclude"),
    "lm_weighted": lambda d: rmodels.lm("y ~ poly(x, 2) + g", d.dropna(), weights="cnt"),
    "glm": lambda d: rmodels.glm("cnt ~ x + g", d, family="poisson"),
    "glm_gamma": lambda d: rmodels.glm("I(cnt + 1) ~ x", d, family='Gamma(link = "log")'),
    "glm_nb": lambda d: rmodels.glm_nb("cnt ~ x", d),
    "lmer": lambda d: rmodels.lmer("y ~ x + (1 | s)", d),
    "lmer_ml": lambda d: rmodels.lmer("y ~ x + (x | s)", d, REML=False),
    "glmer": lambda d: rmodels.glmer("cnt ~ x + (1 | s)", d, family="poisson"),
    "lmer_test": lambda d: lmerTest.lmer("y ~ x + (1 | s)", d),
    "lm_by": lambda d: rmodels.lm("y ~ x", d, by="g"),
    "glm_by": lambda d: rmodels.glm("cnt ~ x", d, family="poisson", by="g"),
}


def _generic_functions() -> list:
    return [(name, f) for name, f in inspect.getmembers(generics, inspect.isfunction)
            if not name.startswith("_") and f.__module__ == generics.__name__]


def _outcome(call):
    """(result, None) or (None, the exception's type and text), with the warnings issued."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            out = call(), None
        except Exception as exc:  # the loaded fit must fail the same way
            out = None, (type(exc), str(exc))
    return out, [(type(w.message), str(w.message)) for w in caught]


def _assert_same(a, b) -> None:
    if isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b)
        assert str(a) == str(b)
    elif isinstance(a, pd.Series):
        pd.testing.assert_series_equal(a, b)
    elif isinstance(a, np.ndarray):
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            _assert_same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _assert_same(x, y)
    elif isinstance(a, float):
        assert (np.isnan(a) and np.isnan(b)) or a == b
    elif isinstance(a, (int, str, bool, type(None))):
        assert a == b
    else:  # summaries, VarCorr, logLik ...: what R prints
        assert type(a) is type(b)
        assert str(a) == str(b)


def _same_call(original, loaded, call, must_work: bool = False) -> None:
    (res_a, err_a), warn_a = _outcome(lambda: call(original))
    (res_b, err_b), warn_b = _outcome(lambda: call(loaded))
    assert err_a is None or not must_work, (must_work, err_a)
    assert err_a == err_b
    assert warn_a == warn_b
    if err_a is None:
        _assert_same(res_a, res_b)


@pytest.fixture(scope="module")
def fits(data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        made = {k: f(data) for k, f in FITS.items()}
    return {k: (fit, pickle.loads(pickle.dumps(fit))) for k, fit in made.items()}


@pytest.mark.parametrize("kind", list(FITS))
@pytest.mark.parametrize("generic", [name for name, _ in _generic_functions()])
def test_every_generic_after_loading(fits, kind, generic):
    original, loaded = fits[kind]
    assert type(loaded) is type(original)
    _same_call(original, loaded, getattr(generics, generic))


def test_methods_with_arguments(fits, data):
    new = data.iloc[:5]
    calls = {
        "lm": [lambda f: f.predict(new, interval="prediction"),
               lambda f: f.predict(new, se_fit=True), lambda f: f.residuals(type="pearson"),
               lambda f: f.augment(new), lambda f: f.anova(fits["lm"][0]),
               lambda f: f.confint(level=0.9)],
        "glm": [lambda f: f.predict(new, type="response", se_fit=True),
                lambda f: f.residuals(type="pearson"), lambda f: f.confint(),
                lambda f: f.anova(test="Chisq"), lambda f: f.augment(new)],
        "glm_nb": [lambda f: f.predict(new, type="response"), lambda f: f.anova()],
        "lmer": [lambda f: f.predict(new), lambda f: f.predict(new, re_form="~0"),
                 lambda f: f.devfun([0.5]), lambda f: f.refitML().logLik(),
                 lambda f: f.confint(), lambda f: f.tidy(conf_int=True),
                 lambda f: f.ranef(condVar=True), lambda f: f.residuals(scaled=True)],
        "lmer_ml": [lambda f: f.anova(fits["lmer"][0]), lambda f: f.devfun([0.5, 0.1, 0.2])],
        "glmer": [lambda f: f.predict(new, type="response"), lambda f: f.ranef(condVar=True),
                  lambda f: f.residuals(type="pearson"), lambda f: f.confint(method="Wald"),
                  lambda f: f.tidy(conf_int=True)],
        "lmer_test": [lambda f: f.anova(type="I"), lambda f: f.tidy(ddf="Kenward-Roger"),
                      lambda f: f.summary(ddf="Satterthwaite")],
        "lm_by": [lambda f: f.tidy(conf_int=True), lambda f: f.coef(),
                  lambda f: f.get("a").summary(), lambda f: f[1].predict(new)],
        "glm_by": [lambda f: f.glance(), lambda f: f.get("c").summary(), lambda f: f.status]
    }
    for kind, methods in calls.items():
        original, loaded = fits[kind]
        for call in methods:
            _same_call(original, loaded, call, must_work=kind)


def test_loaded_lmer_refits_and_profiles(fits):
    original, loaded = fits["lmer"]
    # the compiled model is rebuilt on load: the criterion is the same function of theta
    for theta in ([0.1], [0.7], [2.0]):
        assert loaded.devfun(theta) == original.devfun(theta)
    assert pickle.loads(pickle.dumps(loaded)).devfun([0.3]) == original.devfun([0.3])


@pytest.mark.parametrize("kind,group", [("lm_by", "a"), ("glm_by", "c")])
@pytest.mark.parametrize("generic", [name for name, _ in _generic_functions()])
def test_group_fits_of_a_loaded_fitlist(fits, kind, group, generic):
    original, loaded = fits[kind]
    _same_call(original.get(group), loaded.get(group), getattr(generics, generic))
