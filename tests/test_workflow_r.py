"""R's workflow verbs against live R 4.2.2: ``update.formula`` and ``update`` of lm/glm/lmer
fits, ``drop1``/``add1`` of lm and glm (every test, tables and printed text), ``AIC``/``BIC``
of several fits."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import rmodels
from rbridge import r, r_dataset, send_df
from rmodels import errors
from test_glm_r import DATA

pytestmark = pytest.mark.r


@pytest.fixture(scope="module")
def mtcars():
    d = r_dataset("mtcars")
    d = d.reset_index(drop=True)
    d["cyl"] = pd.Categorical(d["cyl"].astype(int).astype(str))
    d["w"] = np.linspace(0.5, 2.0, len(d))
    send_df(d, "mt")
    return d


@pytest.fixture(scope="module")
def gdata():
    send_df(DATA, "gd")
    return DATA


def _rtext(expr: str) -> str:
    return r(f"paste(capture.output(print({expr})), collapse = '\\n')")[0]


def _same_table(tab, expr: str) -> None:
    rtab = r(f"as.data.frame({expr})")
    assert list(tab.columns) == list(rtab.columns)
    assert list(tab.index) == list(rtab.index)
    np.testing.assert_allclose(tab.to_numpy(float), rtab.to_numpy(float), rtol=1e-8,
                               atol=1e-12, equal_nan=True)
    assert str(tab).rstrip("\n") == _rtext(expr).rstrip("\n")


# ---------------------------------------------------------------------------------------------
# update.formula and update

FORMULA_CASES = [
    ("y ~ x + offset(o)", ". ~ . + z"), ("y ~ a*b", ". ~ . + c"), ("y ~ a*b", ". ~ . - a:b"),
    ("y ~ a*b", ". ~ . - 1"), ("y ~ x - 1", ". ~ . + z"), ("y ~ x + (1|g)", ". ~ . + z"),
    ("y ~ x", "log(.) ~ ."), ("y ~ x", "~ . + z"), ("y ~ x", ". ~ .^2 + z"),
    ("y ~ x + z", ". ~ 1"), ("y ~ x + z", ". ~ . - x - z - 1"),
    ("y ~ I(x^2) + z", ". ~ . + x:z"), ("y ~ a + b", ". ~ . + b:a"), ("y ~ a/b", ". ~ ."),
    ("y ~ 0 + x", ". ~ . + 1"), ("y ~ offset(o) + x", ". ~ . + z - 1"),
    ("y ~ x", ". ~ offset(o)"), ("cbind(a, b) ~ x", ". ~ . + z"),
    ("y ~ poly(x, 2) + log(z)", ". ~ . - log(z)"), ("y ~ x + (x|g)", ". ~ . - (x|g) + (1|g)"),
    ("y ~ (a + b + c)^2", ". ~ . - a:c"), ("y ~ x * z", ". ~ . + I(x^2)"),
]


@pytest.mark.parametrize("old,new", FORMULA_CASES)
def test_update_formula(old, new):
    want = r(f"paste(deparse(update({old}, {new})), collapse = '')")[0]
    assert rmodels.update_formula(old, new) == want


def test_update_lm(mtcars):
    m = rmodels.lm("mpg ~ wt + hp", mtcars, data_name="mt")
    m2 = rmodels.update(m, ". ~ . + qsec - hp", weights="w")
    r("um <- update(lm(mpg ~ wt + hp, data = mt), . ~ . + qsec - hp, weights = w)")
    np.testing.assert_allclose(m2.coef().to_numpy(), r("coef(um)"), rtol=1e-10)
    assert m2.call == _rtext("um$call")
    m3 = rmodels.update(m, data=mtcars.iloc[:20])
    np.testing.assert_allclose(m3.coef().to_numpy(), r("coef(update(lm(mpg ~ wt + hp, "
                                                       "data = mt), data = mt[1:20, ]))"),
                               rtol=1e-10)
    m4 = rmodels.update(rmodels.lm("mpg ~ .", mtcars[["mpg", "wt", "hp", "qsec"]]), ". ~ . - hp")
    assert m4.formula == "mpg ~ wt + qsec"
    with pytest.raises(errors.RModelsError):
        rmodels.update(m, family="binomial")


def test_update_glm_and_lmer(gdata):
    m = rmodels.glm("yc ~ x1", DATA, family="poisson", data_name="gd")
    m2 = rmodels.update(m, ". ~ . + f", subset=DATA["x2"] > -1)
    r("ug <- update(glm(yc ~ x1, family = poisson, data = gd), . ~ . + f, "
      "subset = x2 > -1)")
    np.testing.assert_allclose(m2.coef().to_numpy(), r("coef(ug)"), rtol=1e-8)
    assert rmodels.deviance(m2) == pytest.approx(float(r("deviance(ug)")[0]), rel=1e-10)
    q = rmodels.update(m, family="quasipoisson")
    assert q.family.family == "quasipoisson"
    lm0 = rmodels.lmer("yp ~ x1 + (1 | f)", DATA, data_name="gd")
    lm1 = rmodels.update(lm0, ". ~ . + x2", REML=False)
    r("ul <- update(lmer(yp ~ x1 + (1 | f), data = gd), . ~ . + x2, REML = FALSE)")
    np.testing.assert_allclose(lm1.fixef().to_numpy(), r("fixef(ul)"), rtol=1e-5)
    assert float(lm1.logLik()) == pytest.approx(float(r("logLik(ul)")[0]), rel=1e-7)


# ---------------------------------------------------------------------------------------------
# drop1 / add1

LM_CASES = [
    ("mpg ~ wt + hp + cyl", "none", {}), ("mpg ~ wt + hp + cyl", "F", {}),
    ("mpg ~ wt + hp + cyl", "Chisq", {}), ("mpg ~ wt * hp + qsec", "F", {}),
    ("mpg ~ wt + hp + qsec", "F", {"weights": "w"}), ("mpg ~ wt + cyl + disp", "none", {"k": 4}),
    ("mpg ~ wt + hp + qsec", "Chisq", {"scale": 6.5}),
]


def _rargs(kw: dict) -> str:
    return "".join(f", {k} = {v}" for k, v in kw.items())


@pytest.mark.parametrize("formula,test,kw", LM_CASES)
def test_drop1_lm(mtcars, formula, test, kw):
    fit_kw = {k: v for k, v in kw.items() if k == "weights"}
    opt = {k: v for k, v in kw.items() if k != "weights"}
    m = rmodels.lm(formula, mtcars, **fit_kw)
    tab = rmodels.drop1(m, test=test, **opt)
    _same_table(tab, f"drop1(lm({formula}, data = mt{_rargs(fit_kw)}), test = '{test}'"
                     f"{_rargs(opt)})")


ADD_LM = [("mpg ~ wt", "~ . + hp + qsec + cyl", "F"), ("mpg ~ wt", "~ . + hp + qsec", "Chisq"),
          ("mpg ~ wt + hp", "~ . + wt:hp + cyl", "none")]


@pytest.mark.parametrize("formula,scope,test", ADD_LM)
def test_add1_lm(mtcars, formula, scope, test):
    m = rmodels.lm(formula, mtcars)
    tab = rmodels.add1(m, scope, test=test)
    _same_table(tab, f"add1(lm({formula}, data = mt), {scope}, test = '{test}')")


GLM_CASES = [
    ("yc ~ x1 + f + x2", "poisson", "none"), ("yc ~ x1 + f + x2", "poisson", "Chisq"),
    ("yc ~ x1 * f + x2", "quasipoisson", "F"), ("cbind(ys, yf) ~ x1 + f", "binomial", "LRT"),
    ("yp ~ x1 + x2 + f", "Gamma", "F"), ("yp ~ x1 + x2", "gaussian", "Chisq"),
    ("yc ~ x1 + f + x2", "poisson", "Rao"), ("yp ~ x1 + x2 + f", "Gamma", "Rao"),
    ("cbind(ys, yf) ~ x1 + f", "binomial", "Rao"),
]


@pytest.mark.parametrize("formula,fam,test", GLM_CASES)
def test_drop1_glm(gdata, formula, fam, test):
    m = rmodels.glm(formula, DATA, family=fam)
    tab = rmodels.drop1(m, test=test)
    _same_table(tab, f"drop1(glm({formula}, family = {fam}, data = gd), test = '{test}')")


@pytest.mark.parametrize("formula,fam,test", GLM_CASES)
def test_add1_glm(gdata, formula, fam, test):
    base = formula.split("~")[0] + "~ x1"
    m = rmodels.glm(base, DATA, family=fam)
    scope = "~ " + formula.split("~")[1]
    tab = rmodels.add1(m, scope, test=test)
    _same_table(tab, f"add1(glm({base}, family = {fam}, data = gd), {scope}, test = '{test}')")


def test_f_test_family_warning(gdata):
    m = rmodels.glm("yc ~ x1 + f", DATA, family="poisson")
    with pytest.warns(errors.RModelsWarning, match="F test assumes 'quasipoisson' family"):
        rmodels.drop1(m, test="F")
    with pytest.raises(errors.RModelsError, match="scope is not a subset"):
        rmodels.drop1(m, scope=["x2"])


# ---------------------------------------------------------------------------------------------
# AIC / BIC of several fits

def test_aic_bic_tables(mtcars):
    m1 = rmodels.lm("mpg ~ wt", mtcars)
    m2 = rmodels.lm("mpg ~ wt + hp", mtcars)
    r("m1 <- lm(mpg ~ wt, data = mt); m2 <- lm(mpg ~ wt + hp, data = mt)")
    for fn in ("AIC", "BIC"):
        tab = getattr(rmodels, fn)(m1, m2)
        rtab = r(f"{fn}(m1, m2)")
        assert list(tab.index) == ["m1", "m2"] == list(rtab.index)
        assert list(tab.columns) == list(rtab.columns)
        np.testing.assert_allclose(tab.to_numpy(float), rtab.to_numpy(float), rtol=1e-10)
        assert str(tab).rstrip("\n") == _rtext(f"{fn}(m1, m2)")
    named = rmodels.AIC(small=m1, big=m2, k=3)
    assert list(named.index) == ["small", "big"]
    np.testing.assert_allclose(named["AIC"].to_numpy(), r("AIC(m1, m2, k = 3)$AIC"), rtol=1e-10)
    assert rmodels.AIC(m1, k=3) == pytest.approx(float(r("AIC(m1, k = 3)")[0]), rel=1e-12)
    with pytest.warns(errors.RModelsWarning, match="not all fitted to the same number"):
        rmodels.AIC(m1, rmodels.lm("mpg ~ wt", mtcars.iloc[:20]))


def test_aic_glm_lmer(gdata):
    g1 = rmodels.glm("yc ~ x1", DATA, family="poisson")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", errors.RModelsWarning)
        l1 = rmodels.lmer("yp ~ x1 + (1 | f)", DATA, REML=False)
    r("g1 <- glm(yc ~ x1, family = poisson, data = gd); "
      "l1 <- lmer(yp ~ x1 + (1 | f), data = gd, REML = FALSE)")
    tab = rmodels.BIC(g1, l1)
    np.testing.assert_allclose(tab.to_numpy(float), r("BIC(g1, l1)").to_numpy(float),
                               rtol=1e-7)


# ---------------------------------------------------------------------------------------------
# step

STEP_CASES = [
    ("lm", "mpg ~ wt + hp + qsec + disp + drat", "mt", None, {}),
    ("lm", "mpg ~ wt", "mt", "~ . + hp + qsec + disp + drat + cyl", {}),
    ("lm", "mpg ~ wt + hp + qsec + disp", "mt", {"lower": "~ wt", "upper": "~ .^2"}, {}),
    ("lm", "mpg ~ wt + hp + qsec + disp + drat", "mt", None, {"k": float(np.log(32))}),
    ("lm", "mpg ~ wt + hp + qsec + disp", "mt", None, {"direction": "backward", "scale": 6.5}),
    ("glm", "yc ~ x1 + x2 + f", "gd", "~ .^2", {"family": "poisson"}),
    ("glm", "yb ~ x1", "gd", "~ . + x2 + f + o", {"family": "binomial"}),
]


def _r_scope(scope) -> str:
    if scope is None:
        return ""
    if isinstance(scope, dict):
        return ", scope = list(" + ", ".join(f"{k} = {v}" for k, v in scope.items()) + ")"
    return f", scope = {scope}"


@pytest.mark.parametrize("fun,formula,data,scope,kw", STEP_CASES)
def test_step(mtcars, gdata, capsys, fun, formula, data, scope, kw):
    frame = mtcars if data == "mt" else DATA
    fam = kw.get("family")
    opts = {k: v for k, v in kw.items() if k != "family"}
    m = rmodels.lm(formula, frame) if fun == "lm" else rmodels.glm(formula, frame, family=fam)
    capsys.readouterr()
    s = rmodels.step(m, scope=scope, **opts)
    printed = capsys.readouterr().out
    rfit = f"{fun}({formula}, data = {data}{'' if fam is None else ', family = ' + fam})"
    ropts = "".join(f", {k} = {v!r}" if isinstance(v, str) else f", {k} = {v!r}"
                    for k, v in opts.items()).replace("'", '"')
    rtext = r(f"paste(capture.output(st <- step({rfit}{_r_scope(scope)}{ropts})), "
              "collapse = '\\n')")[0]
    assert printed.rstrip("\n") == rtext.rstrip("\n")
    assert s.formula == r("paste(deparse(formula(st)), collapse = '')")[0]
    path = r("as.data.frame(st$anova)")
    assert list(s.step_anova.columns) == list(path.columns)
    assert list(s.step_anova["Step"]) == [str(x) for x in path["Step"]]
    np.testing.assert_allclose(s.step_anova.iloc[:, 1:].to_numpy(float),
                               path.iloc[:, 1:].to_numpy(float), rtol=1e-8, equal_nan=True)
    np.testing.assert_allclose(s.coef().to_numpy(), r("coef(st)"), rtol=1e-8)


def test_step_quiet(mtcars, capsys):
    m = rmodels.lm("mpg ~ wt + hp + qsec", mtcars)
    capsys.readouterr()
    s = rmodels.step(m, trace=0)
    assert capsys.readouterr().out == ""
    assert s.formula == r("paste(deparse(formula(step(lm(mpg ~ wt + hp + qsec, data = mt), "
                          "trace = 0))), collapse = '')")[0]


# ---------------------------------------------------------------------------------------------
# summary(fit, correlation = TRUE)

@pytest.mark.parametrize("fun,formula,data,fam", [
    ("lm", "mpg ~ wt + hp + qsec", "mt", None), ("lm", "mpg ~ wt * cyl", "mt", None),
    ("lm", "mpg ~ wt", "mt", None),
    ("glm", "yc ~ x1 + f + x2", "gd", "poisson"), ("glm", "yb ~ x1 + x3 + x2", "gd", "binomial"),
    ("glm", "yp ~ x1 + x2", "gd", "Gamma"),
])
def test_summary_correlation(mtcars, gdata, fun, formula, data, fam):
    frame = mtcars if data == "mt" else DATA
    m = rmodels.lm(formula, frame, data_name=data) if fun == "lm" else \
        rmodels.glm(formula, frame, family=fam, data_name=data)
    s = rmodels.summary(m, correlation=True)
    rfit = f"{fun}({formula}, data = {data}{'' if fam is None else ', family = ' + fam})"
    rtext = _rtext(f"summary({rfit}, correlation = TRUE)")
    assert str(s).rstrip("\n") == rtext.rstrip("\n")
    rc = r(f"summary({rfit}, correlation = TRUE)$correlation")
    np.testing.assert_allclose(s.correlation.to_numpy(), rc, rtol=1e-8)
    assert str(rmodels.summary(m)) == str(m.summary())


def test_drop1_add1_offset_weights_scopes(gdata, mtcars):
    m = rmodels.glm("ycx ~ x1 + f + offset(log(expo))", DATA, family="poisson")
    _same_table(rmodels.drop1(m, test="Chisq"),
                "drop1(glm(ycx ~ x1 + f + offset(log(expo)), poisson, gd), test = 'Chisq')")
    _same_table(rmodels.add1(m, "~ . + x2", test="Chisq"),
                "add1(glm(ycx ~ x1 + f + offset(log(expo)), poisson, gd), ~ . + x2, "
                "test = 'Chisq')")
    _same_table(rmodels.add1(m, "~ . + x2", test="Rao"),
                "add1(glm(ycx ~ x1 + f + offset(log(expo)), poisson, gd), ~ . + x2, "
                "test = 'Rao')")
    _same_table(rmodels.drop1(m, test="Rao"),
                "drop1(glm(ycx ~ x1 + f + offset(log(expo)), poisson, gd), test = 'Rao')")
    w = rmodels.glm("yprop ~ x1 + f + x2", DATA, family="binomial", weights="ytr")
    _same_table(rmodels.drop1(w, scope="~ f + x2", test="LRT"),
                "drop1(glm(yprop ~ x1 + f + x2, binomial, gd, weights = ytr), ~ f + x2, "
                "test = 'LRT')")
    lm0 = rmodels.lm("mpg ~ wt", mtcars)
    _same_table(rmodels.add1(lm0, ["hp", "qsec"], test="F"),
                "add1(lm(mpg ~ wt, mt), c('hp', 'qsec'), test = 'F')")
    lm1 = rmodels.lm("mpg ~ wt * hp", mtcars)
    _same_table(rmodels.drop1(lm1, scope="~ wt + hp + wt:hp"),
                "drop1(lm(mpg ~ wt * hp, mt), ~ wt + hp + wt:hp)")
