"""A family given as R text (``'Gamma(link = "log")'``, ``"poisson(link = log)"``) against the
family object R makes from the same text: family, link, variance name and the link/variance
functions on a grid, R's errors, and the printed glm call. The text is read by the formula
parser; nothing is evaluated by Python."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from rbridge import r, send_df
from rmodels import errors, glm
from rmodels.models.families import as_family
from rmodels.models.family_text import parse_family

TEXTS = [
    'Gamma(link = "log")',
    "binomial(link = 'probit')",
    'quasi(link = "log", variance = "mu")',
    "poisson(link = log)",
    "poisson(link=identity)",
    "binomial(probit)",
    "binomial(l = 'cloglog')",
    'stats::binomial("cauchit")',
    "quasibinomial(link = 'logit')",
    "quasipoisson(sqrt)",
    "gaussian(link = log)",
    "inverse.gaussian(link = 1/mu^2)",
    'inverse.gaussian(link = "inverse")',
    "quasi(variance = mu^2, link = log)",
    'quasi(link = power(1/3), variance = "mu")',
    "quasi(variance = 'mu(1-mu)', link = 'logit')",
    "poisson(link = power(0.5))",
    'binomial(link = "identity")',
    "Gamma",
    "MASS::negative.binomial(theta = 2)",
    'MASS::negative.binomial(1.5, link = "sqrt")',
]

MU = np.array([0.05, 0.2, 0.5, 0.7, 0.95])


def _r_family(text: str) -> dict:
    r(f"fam <- {text}" + ("()" if "(" not in text else ""))
    out = r("list(family = fam$family, link = fam$link, "
            "varfun = if (is.null(fam$varfun)) '' else fam$varfun)")
    out = {k: (v[0] if isinstance(v, list) else v) for k, v in out.items()}
    mu = ", ".join(repr(float(m)) for m in MU)
    out["linkfun"] = r(f"fam$linkfun(c({mu}))")
    out["variance"] = r(f"fam$variance(c({mu}))")
    eta = r(f"fam$linkfun(c({mu}))")
    etas = ", ".join(repr(float(e)) for e in eta)
    out["linkinv"] = r(f"fam$linkinv(c({etas}))")
    out["mu_eta"] = r(f"fam$mu.eta(c({etas}))")
    return out


@pytest.mark.r
@pytest.mark.parametrize("text", TEXTS)
def test_family_matches_r(text):
    want = _r_family(text)
    fam = as_family(text)
    assert fam.family == want["family"]
    assert fam.link == want["link"]
    if fam.family == "quasi":
        assert fam.variance_name == want["varfun"]
    # (atol: the compiled qnorm(0.5) is -1.9e-18 where R's is 0)
    np.testing.assert_allclose(fam.linkfun(MU), want["linkfun"], rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(fam.variance(MU), want["variance"], rtol=1e-13)
    np.testing.assert_allclose(fam.linkinv(want["linkfun"]), want["linkinv"], rtol=1e-13)
    np.testing.assert_allclose(fam.mu_eta(want["linkfun"]), want["mu_eta"], rtol=1e-12)


def _r_error(text: str) -> str:
    return r(f"tryCatch({{{text}; ''}}, error = function(e) conditionMessage(e))")[0]


@pytest.mark.r
@pytest.mark.parametrize("text", ["binomial(link = identity)", "poisson(link = exp)",
                                  'binomial(link = "foo")', "Gamma(link = sqrt)",
                                  "gaussian(link = sqrt)", "inverse.gaussian(link = sqrt)",
                                  "quasibinomial(link = identity)", "quasipoisson(link = exp)",
                                  "MASS::negative.binomial(2, link = exp)"])
def test_errors_match_r(text):
    with pytest.raises(errors.FitError) as info:
        as_family(text)
    assert str(info.value) == _r_error(text)


@pytest.mark.parametrize("text", ['binomial(link = "logit"', "binomial(lnk = 'logit')",
                                  "binomial('logit', 'x')", 'Gamma(link = __import__("os"))',
                                  "Gamma(link = 'log'); 1"])
def test_syntax_errors_are_formula_errors(text):
    with pytest.raises(errors.FormulaError):
        as_family(text)


@pytest.mark.parametrize("text", ["foo(link = 'log')", "1 + 2", "negative.binomial()"])
def test_not_a_family(text):
    with pytest.raises(errors.FitError):
        as_family(text)


def test_parse_only_reads_the_text():
    call = parse_family("quasi(variance = mu^2, link = power(-1/2))")
    assert call.name == "quasi"
    assert call.args == {"variance": "mu^2", "link": -0.5}
    assert not call.unquoted_link
    assert call.call_text == "quasi(variance = mu^2, link = power(-1/2))"


@pytest.fixture(scope="module")
def gamma_data():
    rng = np.random.default_rng(11)
    x = np.linspace(0, 2, 30)
    y = rng.gamma(3.0, np.exp(0.3 + 0.5 * x) / 3.0)
    return pd.DataFrame({"y": y, "x": x})


@pytest.mark.r
@pytest.mark.parametrize("text", ['Gamma(link = "log")', "Gamma(link = log)",
                                  'quasi(link = "log", variance = "mu^2")'])
def test_glm_with_text_family_matches_r(gamma_data, text):
    send_df(gamma_data, "gd")
    r(f"m <- glm(y ~ x, family = {text}, data = gd)")
    fit = glm("y ~ x", gamma_data, family=text, data_name="gd")
    np.testing.assert_allclose(fit.coef().to_numpy(), r("coef(m)"), rtol=1e-8)
    call = "Call:  " + r("deparse(m$call, width.cutoff = 500)")[0]
    if len(call) <= 80:  # (longer calls are wrapped, as R wraps them)
        assert str(fit).splitlines()[1] == call
