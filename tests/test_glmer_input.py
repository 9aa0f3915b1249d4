"""glmer's bad-input conditions against live lme4 1.1-31 (as the package's classes), the
likelihood-ratio table of two fits, Wald intervals and new-data predictions."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from rbridge import r, r_dataset, send_df
from rmodels import glmer
from rmodels.errors import DataError, FitError, RModelsWarning, SingularFitWarning

pytestmark = pytest.mark.r


@pytest.fixture(scope="module")
def cbpp() -> pd.DataFrame:
    d = r_dataset("cbpp", "lme4")
    d["inc2"] = d["incidence"] + 0.5
    d["neg"] = d["incidence"].astype(float)
    d.loc[d.index[0], "neg"] = -1.0
    d["one"] = pd.Categorical(["a"] * len(d))
    d["obs"] = pd.Categorical([f"o{i:02d}" for i in range(len(d))])
    send_df(d, "d")
    return d


def _r_condition(expr: str, kind: str) -> str:
    return r(f"tryCatch({{{expr}; ''}}, {kind} = function(c) conditionMessage(c))")[0]


def test_non_integer_binomial_counts_warn(cbpp):
    msg = _r_condition("glmer(cbind(inc2, size - inc2) ~ period + (1 | herd), data = d, "
                       "family = binomial)", "warning")
    with pytest.warns(RModelsWarning) as rec:
        glmer("cbind(inc2, size - inc2) ~ period + (1 | herd)", cbpp, family="binomial")
    assert msg in [str(w.message) for w in rec]


def test_negative_poisson_counts_error(cbpp):
    msg = _r_condition("glmer(neg ~ period + (1 | herd), data = d, family = poisson)", "error")
    with pytest.raises(DataError) as exc:
        glmer("neg ~ period + (1 | herd)", cbpp, family="poisson")
    assert str(exc.value) == msg


def test_single_level_grouping_factor_error(cbpp):
    msg = _r_condition("glmer(incidence ~ period + (1 | one), data = d, family = poisson)",
                       "error")
    with pytest.raises(FitError) as exc:
        glmer("incidence ~ period + (1 | one)", cbpp, family="poisson")
    assert str(exc.value) == msg


def test_observation_level_factor_is_allowed(cbpp):
    ll = float(r("as.numeric(logLik(glmer(incidence ~ period + (1 | obs), data = d, "
                 "family = poisson)))")[0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = glmer("incidence ~ period + (1 | obs)", cbpp, family="poisson")
    assert fit.logLik() >= ll - 1e-6 * abs(ll)


def test_anova_lrt_and_wald_confint(cbpp):
    r("g0 <- glmer(cbind(incidence, size - incidence) ~ 1 + (1 | herd), data = d, "
      "family = binomial); g1 <- glmer(cbind(incidence, size - incidence) ~ period + "
      "(1 | herd), data = d, family = binomial); a <- as.data.frame(anova(g0, g1))")
    f0 = glmer("cbind(incidence, size - incidence) ~ 1 + (1 | herd)", cbpp)
    f1 = glmer("cbind(incidence, size - incidence) ~ period + (1 | herd)", cbpp)
    tab = f0.anova(f1)
    np.testing.assert_allclose(tab["Chisq"].to_numpy()[1], r("a$Chisq")[1], rtol=1e-5)
    np.testing.assert_allclose(tab["Pr(>Chisq)"].to_numpy()[1], r("a[['Pr(>Chisq)']]")[1],
                               rtol=1e-4)
    np.testing.assert_array_equal(tab["npar"].to_numpy(), r("a$npar"))
    ci = f1.confint(method="Wald")
    ref = r("unname(confint(g1, method = 'Wald'))")
    assert list(ci.index) == r("rownames(confint(g1, method = 'Wald'))")
    np.testing.assert_allclose(ci.to_numpy()[1:], ref[1:], rtol=1e-3)
    assert np.isnan(ci.to_numpy()[0]).all()
    assert list(ci.columns) == r("colnames(confint(g1, method = 'Wald'))")
    ci = f1.confint(method="Wald", level=0.999)
    assert list(ci.columns) == r("colnames(confint(g1, method = 'Wald', level = 0.999))")
    np.testing.assert_allclose(ci.to_numpy()[1:],
                               r("unname(confint(g1, method = 'Wald', level = 0.999))")[1:],
                               rtol=1e-3)


def test_predict_newdata(cbpp):
    new = pd.DataFrame({"period": pd.Categorical(["1", "3"], categories=["1", "2", "3", "4"]),
                        "herd": pd.Categorical(["2", "99"], categories=list(cbpp["herd"].cat
                                                                          .categories) + ["99"]),
                        "size": [10.0, 20.0]})
    send_df(new, "nd")
    r("g1 <- glmer(cbind(incidence, size - incidence) ~ period + (1 | herd), data = d, "
      "family = binomial)")
    fit = glmer("cbind(incidence, size - incidence) ~ period + (1 | herd)", cbpp)
    ref = r("unname(predict(g1, newdata = nd, type = 'response', allow.new.levels = TRUE))")
    got = fit.predict(new, type="response", allow_new_levels=True).to_numpy()
    np.testing.assert_allclose(got, ref, rtol=1e-3)
    with pytest.raises(DataError):
        fit.predict(new)


def test_singular_fit_message():
    r("set.seed(1); ds <- data.frame(g = factor(rep(1:10, each = 20)), x = rnorm(200)); "
      "ds$y <- rbinom(200, 1, plogis(0.3 * ds$x)); "
      "gs <- suppressMessages(glmer(y ~ x + (1 | g), data = ds, family = binomial))")
    ds = r("ds")
    assert bool(r("isSingular(gs)")[0])
    msg = r("gs@optinfo$conv$lme4$messages")[0]
    with pytest.warns(SingularFitWarning) as rec:
        fit = glmer("y ~ x + (1 | g)", ds, family="binomial")
    assert msg in [str(w.message) for w in rec]
    assert fit.isSingular()
    assert str(fit).splitlines()[-1] == r("capture.output(print(gs))")[-1]
    assert msg in str(fit.summary()).splitlines()
    assert fit.logLik() >= float(r("as.numeric(logLik(gs))")[0]) - 1e-9
    np.testing.assert_allclose(fit.beta, r("unname(fixef(gs))"), atol=1e-4)
