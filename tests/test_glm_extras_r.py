"""glm against live R 4.2.2: anova.glm tables (sequential and between fits, every test), MASS
profile intervals, broom's tidy/glance/augment, the family kernels, R's errors and warnings."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from rbridge import r, send_df
from rmodels import errors
from rmodels.design import r_row_names
from rmodels.models.families import (
    Gamma,
    binomial,
    gaussian,
    inverse_gaussian,
    poisson,
    quasi,
    quasibinomial,
    quasipoisson,
)
from rmodels.models.glm import glm, glm_nb
from test_glm_r import DATA

pytestmark = pytest.mark.r


@pytest.fixture(scope="module")
def rdata():
    send_df(DATA, "data")
    return DATA


def _quiet_glm(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", errors.RModelsWarning)
        return glm(*args, **kwargs)


# ---------------------------------------------------------------------------------------------
# anova

ANOVA_CASES = [
    ("yc ~ x1 + f + x2", poisson(), None), ("yc ~ x1 + f + x2", poisson(), "Chisq"),
    ("yc ~ x1 + f + x2", poisson(), "Rao"), ("yc ~ x1 * f", quasipoisson(), "F"),
    ("yb ~ x1 + x2 + f", binomial(), "LRT"), ("yp ~ x1 + o", Gamma(link="log"), "F"),
    ("yp ~ x1 + o", Gamma(link="log"), "Chisq"), ("yp ~ x2 + f", gaussian(), "F"),
    ("cbind(ys, yf) ~ x1 + f", binomial(), "Chisq"), ("yb ~ x1 + x2", quasibinomial(), "Rao"),
    ("yp ~ x1 + x2 + f", inverse_gaussian(link="log"), None), ("yp ~ x2 * f", Gamma(), None),
]


@pytest.mark.parametrize("formula,fam,test", ANOVA_CASES)
def test_anova_sequential(rdata, formula, fam, test):
    m = _quiet_glm(formula, DATA, family=fam)
    a = m.anova(test=test)
    targ = "NULL" if test is None else f'"{test}"'
    rtab = r(f"as.data.frame(anova(glm({formula}, family = {fam.call_text}, data = data), "
             f"test = {targ}))")
    rtext = r(f"paste(capture.output(print(anova(glm({formula}, family = {fam.call_text}, "
              f"data = data), test = {targ}))), collapse = '\\n')")[0]
    assert list(a.columns) == list(rtab.columns)
    assert list(a.index) == list(rtab.index)
    np.testing.assert_allclose(a.to_numpy(float), rtab.to_numpy(float), rtol=1e-8,
                               equal_nan=True)
    assert str(a).rstrip("\n") == rtext.rstrip("\n")


@pytest.mark.parametrize("f0,f1,fam,test", [
    ("yc ~ x1", "yc ~ x1 + f + x2", poisson(), "LRT"),
    ("yc ~ x1", "yc ~ x1 + f + x2", quasipoisson(), "F"),
    ("yb ~ x1", "yb ~ x1 + x2 * f", binomial(), "Rao"),
    ("yp ~ x1", "yp ~ x1 + x2", Gamma(), None),
])
def test_anova_between_fits(rdata, f0, f1, fam, test):
    m0 = _quiet_glm(f0, DATA, family=fam)
    m1 = _quiet_glm(f1, DATA, family=fam)
    a = m0.anova(m1, test=test)
    targ = "NULL" if test is None else f'"{test}"'
    expr = (f"anova(glm({f0}, family = {fam.call_text}, data = data), glm({f1}, family = "
            f"{fam.call_text}, data = data), test = {targ})")
    rtab = r(f"as.data.frame({expr})")
    rtext = r(f"paste(capture.output(print({expr})), collapse = '\\n')")[0]
    np.testing.assert_allclose(a.to_numpy(float), rtab.to_numpy(float), rtol=1e-8,
                               equal_nan=True)
    assert str(a).rstrip("\n") == rtext.rstrip("\n")


# ---------------------------------------------------------------------------------------------
# profile likelihood intervals and broom

PROFILE_CASES = [
    ("yc ~ x1 + f", poisson(), {}), ("yb ~ x1 + x2", binomial(), {}),
    ("yb ~ x1 + x2", binomial(link="probit"), {}), ("cbind(ys, yf) ~ x1 + f", binomial(), {}),
    ("yp ~ x1 + x2", gaussian(), {}), ("yp ~ x1 + x2", Gamma(link="log"), {}),
    ("yp ~ x1 + f", Gamma(), {}), ("yc ~ x1 + x2", quasipoisson(), {}),
    ("yc ~ x1 + x2", poisson(), {"weights": "w"}), ("yp ~ x1", inverse_gaussian(), {}),
    ("ycx ~ x1 + offset(log(expo))", poisson(), {}), ("yb ~ x1 + x2 + x3", binomial(), {}),
    ("yprop ~ x1", binomial(), {"weights": "ytr"}),
]


def _rcall(formula, fam, kw):
    extra = "".join(f", {k} = {v}" for k, v in kw.items())
    return f"glm({formula}, family = {fam.call_text}, data = data{extra})"


@pytest.mark.parametrize("formula,fam,kw", PROFILE_CASES)
def test_profile_confint(rdata, formula, fam, kw):
    m = _quiet_glm(formula, DATA, family=fam, **kw)
    ci = m.confint()
    rci = r(f"unname(suppressMessages(confint({_rcall(formula, fam, kw)})))")
    np.testing.assert_allclose(ci.to_numpy(), rci, rtol=1e-6, atol=1e-8, equal_nan=True)
    ci90 = m.confint(parm=[m.names[1]], level=0.9)
    r90 = r(f"unname(suppressMessages(confint({_rcall(formula, fam, kw)}, "
            f"parm = '{m.names[1]}', level = 0.9)))")
    np.testing.assert_allclose(ci90.to_numpy().ravel(), np.ravel(r90), rtol=1e-6)
    assert list(ci90.columns) == ["5 %", "95 %"]


@pytest.mark.parametrize("formula,fam,kw", PROFILE_CASES[:6])
def test_tidy_glance_augment(rdata, formula, fam, kw):
    m = _quiet_glm(formula, DATA, family=fam, **kw)
    call = _rcall(formula, fam, kw)
    t = m.tidy(conf_int=True, exponentiate=True)
    rt = r(f"as.data.frame(suppressMessages(broom::tidy({call}, conf.int = TRUE, "
           "exponentiate = TRUE)))")
    assert list(t.columns) == list(rt.columns)
    assert list(t["term"]) == list(rt["term"])
    num = [c for c in t.columns if c != "term"]
    np.testing.assert_allclose(t[num].to_numpy(float), rt[num].to_numpy(float), rtol=1e-6)
    g = m.glance()
    rg = r(f"as.data.frame(broom::glance({call}))")
    assert list(g.columns) == list(rg.columns)
    np.testing.assert_allclose(g.to_numpy(float), rg.to_numpy(float), rtol=1e-8,
                               equal_nan=True)
    a = m.augment(type_predict="response", se_fit=True)
    ra = r(f"as.data.frame(broom::augment({call}, type.predict = 'response', se_fit = TRUE))")
    cols = [".fitted", ".se.fit", ".resid", ".std.resid", ".hat", ".sigma", ".cooksd"]
    assert [c for c in a.columns if c.startswith(".")] == [c for c in ra.columns
                                                          if c.startswith(".")]
    np.testing.assert_allclose(a[cols].to_numpy(float), ra[cols].to_numpy(float), rtol=1e-7)


def test_rstandard_cooks(rdata):
    m = _quiet_glm("yc ~ x1 + f", DATA, family=quasipoisson())
    call = "glm(yc ~ x1 + f, family = quasipoisson, data = data)"
    np.testing.assert_allclose(m.rstandard(), r(f"unname(rstandard({call}))"), rtol=1e-8)
    np.testing.assert_allclose(m.rstandard("pearson"),
                               r(f"unname(rstandard({call}, type = 'pearson'))"), rtol=1e-8)
    np.testing.assert_allclose(m.cooks_distance(), r(f"unname(cooks.distance({call}))"),
                               rtol=1e-8)
    np.testing.assert_allclose(m.hatvalues(), r(f"unname(hatvalues({call}))"), rtol=1e-8)
    np.testing.assert_allclose(m.rstudent(), r(f"unname(rstudent({call}))"), rtol=1e-8)
    mp = _quiet_glm("yc ~ x1 + f", DATA, family=poisson())
    np.testing.assert_allclose(mp.rstudent(), r("unname(rstudent(glm(yc ~ x1 + f, poisson, "
                                                "data)))"), rtol=1e-8)


def test_confint_default(rdata):
    m = _quiet_glm("yp ~ x1 + x2 + x3", DATA, family=Gamma(link="log"))
    rci = r("unname(confint.default(glm(yp ~ x1 + x2 + x3, family = Gamma(link = 'log'), "
            "data = data)))")
    np.testing.assert_allclose(m.confint_default().to_numpy(), rci, rtol=1e-7, equal_nan=True)


# ---------------------------------------------------------------------------------------------
# family kernels

KERNEL_FAMILIES = [
    (binomial(), "binomial()"), (binomial(link="probit"), "binomial('probit')"),
    (binomial(link="cauchit"), "binomial('cauchit')"),
    (binomial(link="cloglog"), "binomial('cloglog')"), (binomial(link="log"), "binomial('log')"),
    (poisson(link="sqrt"), "poisson('sqrt')"), (Gamma(), "Gamma()"),
    (inverse_gaussian(), "inverse.gaussian()"), (gaussian(link="log"), "gaussian('log')"),
    (quasi(link="log", variance="mu^2"), "quasi(link = 'log', variance = 'mu^2')"),
    (quasi(link="identity", variance="mu"), "quasi(variance = 'mu')"),
]


@pytest.mark.parametrize("fam,rfam", KERNEL_FAMILIES, ids=[k[1] for k in KERNEL_FAMILIES])
def test_family_kernels(fam, rfam):
    eta = np.array([-40.0, -31.0, -3.0, -0.2, 0.0001, 0.7, 2.5, 31.0, 40.0])
    if fam.link in ("sqrt", "inverse", "1/mu^2"):
        eta = np.abs(eta) + 0.1
    r(f"fam <- {rfam}")
    send_df(pd.DataFrame({"eta": eta}), "k")
    np.testing.assert_allclose(fam.linkinv(eta), r("fam$linkinv(k$eta)"), rtol=1e-14)
    np.testing.assert_allclose(fam.mu_eta(eta), r("fam$mu.eta(k$eta)"), rtol=1e-13)
    mu = np.clip(r("fam$linkinv(k$eta)"), 1e-6, 1 - 1e-6) if fam.family == "binomial" else \
        np.abs(r("fam$linkinv(k$eta)")) + 0.05
    send_df(pd.DataFrame({"mu": mu, "y": np.round(mu * 0.9 + 0.01, 2)}), "k2")
    np.testing.assert_allclose(fam.linkfun(mu), r("fam$linkfun(k2$mu)"), rtol=1e-13,
                               atol=1e-15)
    np.testing.assert_allclose(fam.variance(mu), r("fam$variance(k2$mu)"), rtol=1e-15)
    y = np.round(mu * 0.9 + 0.01, 2)
    np.testing.assert_allclose(fam.dev_resids(y, mu, 2.0), r("fam$dev.resids(k2$y, k2$mu, 2)"),
                               rtol=1e-13, atol=1e-15)


# ---------------------------------------------------------------------------------------------
# errors and warnings with R's messages


@pytest.mark.parametrize("y,fam,msg", [
    ([0.5, 1.2, 2.0, 0.1], binomial(), "y values must be 0 <= y <= 1"),
    ([-1.0, 1.0, 2.0, 3.0], poisson(), "negative values not allowed for the 'Poisson' family"),
    ([0.0, 1.0, 2.0, 3.0], Gamma(), "non-positive values not allowed for the 'Gamma' family"),
    ([0.0, 1.0, 2.0, 3.0], inverse_gaussian(),
     "positive values only are allowed for the 'inverse.gaussian' family"),
    ([-1.0, 1.0, 2.0, 3.0], quasipoisson(),
     "negative values not allowed for the 'quasiPoisson' family"),
])
def test_invalid_response_errors(y, fam, msg):
    d = pd.DataFrame({"y": y, "x": [1.0, 2.0, 3.0, 4.0]})
    rmsg = r(f"tryCatch({{glm(c({', '.join(map(str, y))}) ~ c(1, 2, 3, 4), family = "
             f"{fam.call_text}); ''}}, error = conditionMessage)")[0]
    assert rmsg == msg
    with pytest.raises(errors.DataError, match="^" + msg.replace("(", r"\(").replace(
            ")", r"\)").replace("^", r"\^") + "$"):
        glm("y ~ x", d, family=fam)


@pytest.mark.parametrize("control", [{"epsilon": 0}, {"maxit": 0}])
def test_control_checks_glm_and_glm_nb(control):
    """glm.control's checks, shared by glm() and glm.nb(): R's messages."""
    d = pd.DataFrame({"y": [0.0, 1.0, 3.0, 2.0, 5.0], "x": [1.0, 2.0, 3.0, 4.0, 5.0]})
    args = ", ".join(f"{k} = {v}" for k, v in control.items())
    rmsg = r(f"tryCatch({{glm.control({args}); ''}}, error = conditionMessage)")[0]
    assert rmsg
    for fit in (lambda: glm("y ~ x", d, family=poisson(), control=control),
                lambda: glm_nb("y ~ x", d, control=control)):
        with pytest.raises(errors.FitError, match="^" + rmsg.replace("(", r"\(") + "$"):
            fit()


def test_gaussian_log_start_error():
    d = pd.DataFrame({"y": [0.0, 1.0, 2.0], "x": [1.0, 2.0, 3.0]})
    with pytest.raises(errors.FitError, match="cannot find valid starting values"):
        glm("y ~ x", d, family=gaussian(link="log"))


def test_separation_and_convergence_warnings():
    d = pd.DataFrame({"x": np.arange(1.0, 9.0), "y": [0.0, 0, 0, 0, 1, 1, 1, 1]})
    with pytest.warns(errors.FittedValuesWarning,
                      match="fitted probabilities numerically 0 or 1 occurred"):
        m = glm("y ~ x", d, family=binomial())
    assert m.converged and m.iter == 25
    with pytest.warns(errors.ConvergenceWarning, match="glm.fit: algorithm did not converge"):
        m2 = glm("y ~ x", d, family=binomial(), control={"maxit": 3})
    assert not m2.converged
    d3 = pd.DataFrame({"g": ["a", "a", "b", "b"], "y": [0.0, 0, 3, 4]})
    m3 = glm("y ~ g", d3, family=poisson())  # R gives no warning here (mu = 2e-10)
    np.testing.assert_allclose(m3.coef(), r("coef(suppressWarnings(glm(c(0,0,3,4) ~ "
                                            "factor(c('a','a','b','b')), poisson)))"),
                               rtol=1e-8)
    assert m3.iter == 20


def test_non_integer_successes_warning():
    d = pd.DataFrame({"y": [0.5, 0.2, 1.0], "x": [1.0, 2.0, 3.0]})
    with pytest.warns(errors.RModelsWarning, match="non-integer #successes in a binomial glm!"):
        glm("y ~ x", d, family=binomial())


def test_step_halving_matches_r(rdata):
    d = pd.DataFrame({"x": np.arange(1.0, 13.0),
                      "yc": [2.0, 3, 6, 7, 8, 9, 10, 12, 15, 13, 17, 20]})
    d["nf"] = 25 - d["yc"]
    with pytest.warns(errors.RModelsWarning, match="step size truncated due to divergence"):
        m = glm("cbind(yc, nf) ~ x", d, family=binomial(link="log"), start=[-2.0, 0.05])
    send_df(d, "dh")
    rc = r("coef(suppressWarnings(glm(cbind(yc, nf) ~ x, binomial(link = 'log'), dh, "
           "start = c(-2, 0.05))))")
    np.testing.assert_allclose(m.coef(), rc, rtol=1e-8)
    assert m.iter == 5


# ---------------------------------------------------------------------------------------------
# MASS::glm.nb

NB_CASES = [
    ("ynb ~ x1 + f", {}, ""), ("ynb ~ x1 + x2 + offset(log(expo))", {}, ""),
    ("ynb ~ x1", {"weights": "w"}, ", weights = w"), ("ynb ~ o + x2", {}, ""),
    ("ynb ~ x1", {"link": "sqrt"}, ", link = sqrt"),
]


@pytest.mark.parametrize("formula,kw,rkw", NB_CASES)
def test_glm_nb(rdata, formula, kw, rkw):

    m = glm_nb(formula, DATA, **kw)
    call = f"glm.nb({formula}, data = data{rkw})"
    R = r(f"local({{ m <- {call}; list(coef = unname(coef(m)), theta = m$theta, "
          "se = m$SE.theta, aic = AIC(m), bic = BIC(m), ll = as.numeric(logLik(m)), "
          "dev = deviance(m), null = m$null.deviance, iter = m$iter, "
          "vc = unname(vcov(m)), "
          "ci = unname(suppressMessages(confint(m))), "
          "txt = paste(capture.output(print(summary(m))), collapse = '\\n'), "
          "ptxt = paste(capture.output(print(m)), collapse = '\\n')) })")
    np.testing.assert_allclose(m.coef(), R["coef"], rtol=1e-8)
    np.testing.assert_allclose(m.theta, R["theta"], rtol=1e-8)
    np.testing.assert_allclose(m.SE_theta, R["se"], rtol=1e-7)
    np.testing.assert_allclose([m.AIC(), m.BIC(), m.logLik(), m.deviance(), m.null_deviance],
                               [R["aic"][0], R["bic"][0], R["ll"][0], R["dev"][0],
                                R["null"][0]], rtol=1e-8)
    assert m.iter == int(R["iter"][0])
    np.testing.assert_allclose(m.vcov().to_numpy(), R["vc"], rtol=1e-7)
    np.testing.assert_allclose(m.confint().to_numpy(), R["ci"], rtol=1e-6)
    assert str(m.summary()).rstrip("\n") == R["txt"][0].rstrip("\n")
    assert str(m).rstrip("\n") == R["ptxt"][0].rstrip("\n")


def test_glm_nb_anova(rdata):

    m0 = glm_nb("ynb ~ x1", DATA)
    m1 = glm_nb("ynb ~ x1 + f + x2", DATA)
    a = m0.anova(m1)
    rtxt = r("paste(capture.output(print(anova(glm.nb(ynb ~ x1, data = data), "
             "glm.nb(ynb ~ x1 + f + x2, data = data)))), collapse = '\\n')")[0]
    assert str(a).rstrip("\n") == rtxt.rstrip("\n")
    with pytest.warns(errors.RModelsWarning, match="tests made without re-estimating 'theta'"):
        a1 = m1.anova()
    rtxt1 = r("paste(capture.output(suppressWarnings(print(anova(glm.nb(ynb ~ x1 + f + x2, "
              "data = data))))), collapse = '\\n')")[0]
    assert str(a1).rstrip("\n") == rtxt1.rstrip("\n")


# ---------------------------------------------------------------------------------------------
# argument forms


def _data_labels(data: pd.DataFrame, r_names) -> list:
    """The data's own index labels of the rows R names ``r_names`` (R's row names: "1".."n"
    for a default RangeIndex, else the labels as strings)."""
    pos = {n: i for i, n in enumerate(r_row_names(data.index))}
    return [data.index[pos[n]] for n in r_names]


def _check_same(m, call):
    R = r(f"local({{ m <- suppressWarnings({call}); list(coef = unname(coef(m)), "
          "dev = deviance(m), null = m$null.deviance, iter = m$iter, "
          "res = unname(residuals(m)), fit = unname(fitted(m)), "
          "nm = names(residuals(m))) })")
    np.testing.assert_allclose(m.coef(), R["coef"], rtol=1e-8)
    np.testing.assert_allclose([m.deviance(), m.null_deviance], [R["dev"][0], R["null"][0]],
                               rtol=1e-8)
    assert m.iter == int(R["iter"][0])
    np.testing.assert_allclose(m.residuals(), R["res"], rtol=1e-8, atol=1e-12)
    assert list(m.residuals().index) == _data_labels(m.data, R["nm"])
    np.testing.assert_allclose(m.fitted(), R["fit"], rtol=1e-8, equal_nan=True)


def test_array_weights_offset_and_string_family(rdata):
    w = DATA["w"].to_numpy()
    off = np.log(DATA["expo"].to_numpy())
    m = glm("ycx ~ x1 + f", DATA, family="poisson", weights=w, offset=off)
    _check_same(m, "glm(ycx ~ x1 + f, family = 'poisson', data = data, weights = w, "
                   "offset = log(expo))")


def test_etastart_mustart(rdata):
    m = glm("yc ~ x1 + x2", DATA, family=poisson(), mustart=DATA["yc"].to_numpy() + 1.0)
    _check_same(m, "glm(yc ~ x1 + x2, family = poisson, data = data, mustart = yc + 1)")
    eta = np.log(DATA["yc"].to_numpy() + 2.0)
    m2 = glm("yc ~ x1 + x2", DATA, family=poisson(), etastart=eta)
    _check_same(m2, "glm(yc ~ x1 + x2, family = poisson, data = data, etastart = log(yc + 2))")


def test_power_link_quasi(rdata):
    from rmodels.models.families import power

    m = glm("yp ~ x1 + x2", DATA, family=quasi(link=power(1 / 3), variance="mu^2"))
    _check_same(m, "glm(yp ~ x1 + x2, family = quasi(link = power(1/3), variance = 'mu^2'), "
                   "data = data)")
    assert m.family.link == r("quasi(link = power(1/3), variance = 'mu^2')$link")[0]


def test_na_exclude_and_omit(rdata):
    d = DATA.copy()
    d.loc[[2, 9, 33], "x1"] = np.nan
    send_df(d, "dna")
    for act in ("omit", "exclude"):
        m = glm("yc ~ x1 + f", d, family=poisson(), na_action=act, data_name="dna")
        extra = ", na.action = na.exclude" if act == "exclude" else ""
        call = f"glm(yc ~ x1 + f, family = poisson, data = dna{extra})"
        _check_same(m, call)
        txt = r(f"paste(capture.output(print(summary({call}))), collapse = '\\n')")[0]
        assert str(m.summary()).rstrip("\n") == txt.rstrip("\n")
        ptxt = r(f"paste(capture.output(print({call})), collapse = '\\n')")[0]
        assert str(m).rstrip("\n") == ptxt.rstrip("\n")


def test_predict_with_offset_argument(rdata):
    d = DATA.assign(logexpo=np.log(DATA["expo"]))
    send_df(d, "doff")
    m = glm("ycx ~ x1", d, family=poisson(), offset="logexpo", data_name="doff")
    nd = d.iloc[[1, 4, 7]]
    send_df(nd.reset_index(drop=True), "ndoff")
    p = m.predict(nd, type="response", se_fit=True)
    R = r("local({ m <- glm(ycx ~ x1, family = poisson, data = doff, offset = logexpo); "
          "p <- predict(m, ndoff, type = 'response', se.fit = TRUE); "
          "list(fit = unname(p$fit), se = unname(p$se.fit)) })")
    np.testing.assert_allclose(p["fit"], R["fit"], rtol=1e-8)
    np.testing.assert_allclose(p["se_fit"], R["se"], rtol=1e-8)


def test_trace_output(rdata, capsys):
    glm("yc ~ x1 + f", DATA, family=poisson(), control={"trace": True})
    ours = capsys.readouterr().out
    rtxt = r("paste(capture.output(invisible(glm(yc ~ x1 + f, poisson, data, "
             "control = list(trace = TRUE)))), collapse = '\\n')")[0]
    assert ours.rstrip("\n") == rtxt.rstrip("\n")


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_out_of_bounds_step_halving(seed):
    """Identity-link Poisson fits that hit mu <= 0: same halvings, warnings, boundary flag,
    iterations and coefficients as R."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 10, 30)
    y = rng.poisson(np.maximum(0.05, 2 - 0.25 * x)).astype(float)
    d = pd.DataFrame({"x": x, "y": y})
    send_df(d, "dob")
    R = r("local({ ws <- character(0); m <- withCallingHandlers(glm(y ~ x, "
          "poisson(link = 'identity'), dob, start = c(1, 0)), warning = function(w) { "
          "ws <<- c(ws, conditionMessage(w)); invokeRestart('muffleWarning') }); "
          "list(coef = unname(coef(m)), iter = m$iter, ws = ws, b = m$boundary, "
          "conv = m$converged, dev = deviance(m)) })")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        m = glm("y ~ x", d, family=poisson(link="identity"), start=[1.0, 0.0])
    assert [str(c.message) for c in caught] == R["ws"]
    assert m.iter == int(R["iter"][0]) and m.boundary == bool(R["b"][0])
    assert m.converged == bool(R["conv"][0])
    np.testing.assert_allclose(m.coef(), R["coef"], rtol=1e-8)
    np.testing.assert_allclose(m.deviance(), R["dev"], rtol=1e-10)


@pytest.mark.parametrize("formula,fam,kw,rkw", [
    ("yc ~ 0", "poisson", {}, ""),
    ("yc ~ 0 + offset(log(expo))", "poisson", {}, ""),
    ("cbind(ys, yf) ~ 1", "binomial", {}, ""),
    ("yc ~ x1 + f", "poisson", {"contrasts": {"f": "contr.sum"}},
     ", contrasts = list(f = 'contr.sum')"),
    ("yb ~ x2 * f", "binomial", {"contrasts": {"f": "contr.helmert"}},
     ", contrasts = list(f = 'contr.helmert')"),
])
def test_empty_models_and_contrasts_text(rdata, formula, fam, kw, rkw):
    m = glm(formula, DATA, family=fam, **kw)
    call = f"glm({formula}, family = {fam}, data = data{rkw})"
    rs = r(f"paste(capture.output(print(summary({call}))), collapse = '\\n')")[0]
    rp = r(f"paste(capture.output(print({call})), collapse = '\\n')")[0]
    assert str(m.summary()).rstrip("\n") == rs.rstrip("\n")
    assert str(m).rstrip("\n") == rp.rstrip("\n")


def test_cbind_with_zero_trials(rdata):
    d = DATA.copy()
    d.loc[[4, 8], ["ys", "yf"]] = 0.0
    send_df(d, "dz")
    m = glm("cbind(ys, yf) ~ x1 + f", d, family=binomial(), data_name="dz")
    call = "glm(cbind(ys, yf) ~ x1 + f, family = binomial, data = dz)"
    R = r(f"local({{ m <- {call}; list(aic = m$aic, nobs = nobs(m), dfr = df.residual(m), "
          "bic = BIC(m), txt = paste(capture.output(print(summary(m))), collapse = '\\n')) })")
    np.testing.assert_allclose([m.aic, m.BIC()], [R["aic"][0], R["bic"][0]], rtol=1e-10)
    assert m.nobs() == int(R["nobs"][0]) and m.df_residual() == int(R["dfr"][0])
    assert str(m.summary()).rstrip("\n") == R["txt"][0].rstrip("\n")


# ---------------------------------------------------------------------------------------------
# large designs: the reconstruction path for the weighted least-squares steps


def _large_data(seed: int = 7, n: int = 30000) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=(2, n))
    g = rng.integers(0, 6, n)
    eta = 0.2 + 0.4 * x1 - 0.3 * x2 + np.linspace(-0.5, 0.5, 6)[g]
    return pd.DataFrame({
        "x1": x1, "x2": x2, "x3": x1 + x2,
        "g": pd.Categorical.from_codes(g, [f"g{k}" for k in range(6)]),
        "yb": (rng.uniform(size=n) < 1 / (1 + np.exp(-eta))).astype(float),
        "yc": rng.poisson(np.exp(eta)).astype(float),
        "yp": rng.gamma(3.0, np.exp(eta) / 3.0),
    })


@pytest.mark.parametrize("formula,fam,fast", [
    ("yb ~ x1 + x2 + g", binomial(), True), ("yc ~ x1 * x2 + g", poisson(), True),
    ("yp ~ x1 + x2 + g", Gamma(link="log"), True), ("yb ~ x1 + x2 + x3 + g", binomial(), False),
])
def test_large_fits_match_r(formula, fam, fast):
    d = _large_data()
    send_df(d, "dlarge")
    m = glm(formula, d, family=fam, data_name="dlarge")
    assert (m.core.reconstructed_steps > 0) == fast
    call = f"glm({formula}, family = {fam.call_text}, data = dlarge)"
    R = r(f"local({{ m <- {call}; s <- summary(m); list(coef = unname(coef(m)), "
          "se = unname(sqrt(diag(vcov(m)))), dev = deviance(m), null = m$null.deviance, "
          "aic = m$aic, iter = m$iter, disp = s$dispersion) })")
    np.testing.assert_allclose(m.coef(), R["coef"], rtol=1e-8, equal_nan=True)
    np.testing.assert_allclose(np.sqrt(np.diag(m.vcov())), R["se"], rtol=1e-8, equal_nan=True)
    np.testing.assert_allclose([m.deviance(), m.null_deviance, m.aic, m.dispersion()],
                               [R["dev"][0], R["null"][0], R["aic"][0], R["disp"][0]],
                               rtol=1e-9)
    assert m.iter == int(R["iter"][0])


# ---------------------------------------------------------------------------------------------
# large sparse designs: the weighted Gram path for the least-squares steps


def _sparse_data(seed: int = 11, n: int = 24000) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=(2, n))
    g = rng.integers(0, 12, n)
    h = rng.integers(0, 8, n)
    eta = -0.3 + 0.4 * x1 - 0.2 * x2 + np.linspace(-0.6, 0.6, 12)[g] + np.linspace(0, 0.4, 8)[h]
    w = rng.integers(0, 4, n).astype(float)  # about a quarter of the prior weights are zero
    return pd.DataFrame({
        "x1": x1, "x2": x2,
        "g": pd.Categorical.from_codes(g, [f"g{k:02d}" for k in range(12)]),
        "h": pd.Categorical.from_codes(h, [f"h{k}" for k in range(8)]),
        "hh": pd.Categorical.from_codes(np.minimum(h, 6), [f"h{k}" for k in range(7)]),
        "yb": (rng.uniform(size=n) < 1 / (1 + np.exp(-eta))).astype(float),
        "yc": rng.poisson(np.exp(eta)).astype(float),
        "yp": rng.gamma(2.0, np.exp(eta) / 2.0),
        "succ": rng.binomial(5, 1 / (1 + np.exp(-eta))).astype(float),
        "expo": rng.uniform(0.5, 2.0, n), "w": w,
    })


# (formula, family, extra glm() arguments as (Python kwargs, R text), Gram path expected)
_SPARSE_CASES = [
    ("yb ~ x1 + x2 + g + h", binomial(), ({}, ""), True),
    ("yb ~ x1 + g + h", binomial(link="probit"), ({}, ""), True),
    ("yc ~ x1 + x2 + g + h + offset(log(expo))", poisson(), ({}, ""), True),
    ("yc ~ x1 + g * h", poisson(), ({}, ""), True),
    ("yp ~ x1 + x2 + g + h", Gamma(link="log"), ({"weights": "w"}, ", weights = w"), True),
    ("cbind(succ, 5 - succ) ~ x1 + g + h", binomial(link="cloglog"), ({}, ""), True),
    ("yc ~ x1 + x2 + g + h", quasipoisson(), ({}, ""), True),
    # h and hh are aliased (hh merges the last two levels): dqrdc2's path, R's NA
    ("yb ~ x1 + g + hh + h", binomial(), ({}, ""), False),
]


@pytest.mark.parametrize("formula,fam,extra,gram", _SPARSE_CASES)
def test_sparse_gram_fits_match_r(formula, fam, extra, gram):
    d = _sparse_data()
    send_df(d, "dsparse")
    kwargs, rtext = extra
    kw = {k: d[v] for k, v in kwargs.items()}
    m = glm(formula, d, family=fam, data_name="dsparse", **kw)
    assert (m.core.gram_steps > 0) == gram
    call = f"glm({formula}, family = {fam.call_text}, data = dsparse{rtext})"
    R = r(f"local({{ m <- {call}; s <- summary(m); list(coef = unname(coef(m)), "
          "se = unname(sqrt(diag(vcov(m)))), dev = deviance(m), null = m$null.deviance, "
          "aic = m$aic, iter = m$iter, disp = s$dispersion, "
          "rd = unname(residuals(m, 'deviance')), rw = unname(m$weights), "
          "R = unname(m$R), hat = unname(hatvalues(m)), "
          "sef = unname(predict(m, se.fit = TRUE)$se.fit), "
          "ser = unname(predict(m, type = 'response', se.fit = TRUE)$se.fit), "
          "pr = unname(predict(m, dsparse[1:50, ], type = 'response'))) })")
    np.testing.assert_allclose(m.coef(), R["coef"], rtol=1e-8, equal_nan=True)
    np.testing.assert_allclose(np.sqrt(np.diag(m.vcov())), R["se"], rtol=1e-8, equal_nan=True)
    vals = [m.deviance(), m.null_deviance, m.dispersion()]
    np.testing.assert_allclose(vals, [R["dev"][0], R["null"][0], R["disp"][0]], rtol=1e-9)
    if not np.isnan(R["aic"][0]):
        np.testing.assert_allclose(m.aic, R["aic"][0], rtol=1e-9)
    assert m.iter == int(R["iter"][0])
    np.testing.assert_allclose(m.residuals("deviance"), R["rd"], rtol=1e-7, atol=1e-10)
    np.testing.assert_allclose(m.weights, R["rw"], rtol=1e-8, atol=1e-14)
    # R's Rmat: LINPACK's signs included
    np.testing.assert_allclose(np.triu(m.core.R), np.asarray(R["R"]), rtol=1e-8, atol=1e-9)
    # from the rows' non-zeros when the fit went by rows, else from the dense model matrix
    np.testing.assert_allclose(m.hatvalues(), R["hat"], rtol=1e-8, atol=1e-14)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", errors.RankDeficiencyWarning)
        np.testing.assert_allclose(m.predict(se_fit=True)["se_fit"], R["sef"], rtol=1e-8)
        np.testing.assert_allclose(m.predict(type="response", se_fit=True)["se_fit"], R["ser"],
                                   rtol=1e-8, atol=1e-300)
    with warnings.catch_warnings():
        # R warns too: "prediction from a rank-deficient fit may be misleading"
        warnings.simplefilter("ignore", errors.RankDeficiencyWarning)
        pr = m.predict(d.iloc[:50], type="response")
    np.testing.assert_allclose(pr, R["pr"], rtol=1e-8)


@pytest.mark.parametrize("fam", [poisson(), Gamma(link="log")])
def test_influence_leaves_out_zero_weights(fam):
    """lm.influence drops rows with zero prior weight: hatvalues, rstandard, rstudent and
    cooks.distance have one entry per row with positive weight, named as R names them."""
    d = pd.DataFrame({"x": np.arange(1.0, 13.0),
                      "y": [1, 3, 2, 5, 4, 6, 8, 7, 9, 12, 10, 13.0],
                      "w": [0, 1, 1, 2, 1, 0, 1, 1, 1, 1, 3, 1.0]})
    send_df(d, "dzw")
    m = glm("y ~ x", d, family=fam, weights="w", data_name="dzw")
    R = r(f"local({{ m <- glm(y ~ x, family = {fam.call_text}, data = dzw, weights = w); "
          "list(h = hatvalues(m), rs = rstandard(m), rt = rstudent(m), cd = cooks.distance(m), "
          "nm = names(hatvalues(m))) })")
    for got, key in ((m.hatvalues(), "h"), (m.rstandard(), "rs"), (m.rstudent(), "rt"),
                     (m.cooks_distance(), "cd")):
        assert list(got.index) == _data_labels(d, R["nm"])
        np.testing.assert_allclose(got.to_numpy(), R[key], rtol=1e-8)


@pytest.mark.parametrize("n", [3, 30])
def test_saturated_fit_prints_unnamed_zero_residuals(n):
    """No residual df left: residuals.glm's deviance residuals are an unnamed rep.int(0, n), so
    print(summary()) shows them with [k] labels (wrapped as R wraps them)."""
    d = pd.DataFrame({"g": pd.Categorical([f"l{k:02d}" for k in range(n)]),
                      "y": [float(k % 7 + 1) for k in range(n)]})
    send_df(d, "dsat")
    text = r("paste(capture.output(print(summary(glm(y ~ g, poisson, dsat)))), "
             "collapse = '\\n')")[0]

    def block(s: str) -> str:
        return s.split("Deviance Residuals: \n", 1)[1].split("\n\nCoefficients", 1)[0]

    m = _quiet_glm("y ~ g", d, family="poisson", data_name="dsat")
    assert m.df_residual_ == 0
    assert block(str(m.summary())) == block(text)
    np.testing.assert_array_equal(m.residuals("deviance"), np.zeros(n))
