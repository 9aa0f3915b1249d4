"""glm against live R 4.2.2: a grid of fits (every family x link, weights, offsets, cbind and
factor responses, ordered factors, separation, non-convergence, rank deficiency) compared on
coefficients, standard errors, deviances, AIC, dispersion, every residual type, predictions with
standard errors, and the printed summary; anova tables, profile intervals and broom output on a
subset. R's results are computed once per module (one R call per fit).

Tolerances: 1e-8 relative for coefficients, deviances, AIC, dispersion, fitted values and
residuals where R converges tightly; 1e-7 for standard errors, the covariance matrix and
predictions with se.fit (computed from the R factor by a different triangular inverse than R's
chol2inv). Fits that stop under separation are compared at 1e-6 (1e-5 for their standard errors,
which are ~1e3 times the coefficients); the IRLS path is the same as R's, so they usually agree
far more closely.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from rbridge import r, send_df
from rmodels import errors
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
from rmodels.models.glm import glm

pytestmark = pytest.mark.r

N = 60


def make_data(seed: int = 20240601) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1 = np.round(rng.normal(size=N), 3)
    x2 = np.round(rng.uniform(0, 2, size=N), 3)
    f = pd.Categorical(rng.choice(["lo", "mid", "hi"], size=N), categories=["hi", "lo", "mid"])
    o = pd.Categorical(rng.choice(["a", "b", "c", "d"], size=N),
                       categories=["a", "b", "c", "d"], ordered=True)
    eta = 0.3 + 0.8 * x1 - 0.5 * x2 + np.where(np.asarray(f) == "lo", 0.4, 0.0)
    pb = 1 / (1 + np.exp(-eta))
    yb = (rng.uniform(size=N) < pb).astype(float)
    mu_c = np.exp(1.0 + 0.3 * x1 + 0.2 * x2)
    yc = rng.poisson(mu_c).astype(float)
    mu_p = np.exp(0.5 + 0.2 * x1 + 0.3 * x2)
    yp = np.round(rng.gamma(4.0, mu_p / 4.0), 4) + 0.01
    ytr = rng.integers(5, 15, size=N).astype(float)
    ys = rng.binomial(ytr.astype(int), 0.15 + 0.5 * pb * 0.9).astype(float)
    w = rng.integers(1, 4, size=N).astype(float)
    w0 = w.copy()
    w0[[3, 17, 40]] = 0.0
    expo = np.round(rng.uniform(0.5, 3, size=N), 3)
    ycx = rng.poisson(mu_c * expo).astype(float)
    x3 = x1 + 2 * x2  # exactly collinear: aliased in glm
    ylog = yb == 1
    yfac = pd.Categorical(np.where(yb == 1, "yes", "no"), categories=["yes", "no"])
    sep_x = np.arange(N, dtype=float) / 10
    ysep = (sep_x > 3.05).astype(float)
    ylin = 1.5 + 0.6 * x2 + np.round(rng.normal(scale=0.2, size=N), 4) + 0.8  # for identity
    ynb = rng.negative_binomial(2.0, 2.0 / (2.0 + mu_c)).astype(float)  # theta = 2
    return pd.DataFrame({
        "x1": x1, "x2": x2, "f": f, "o": o, "yb": yb, "yc": yc, "yp": yp, "ytr": ytr,
        "ys": ys, "yf": ytr - ys, "yprop": ys / ytr, "w": w, "w0": w0, "expo": expo,
        "ycx": ycx, "x3": x3, "ylog": ylog, "yfac": yfac, "sep_x": sep_x, "ysep": ysep,
        "ylin": ylin, "ynb": ynb,
    })


DATA = make_data()

# (family object, response) for every family x link.
FAMILY_GRID = [
    (gaussian(), "yp"), (gaussian(link="log"), "yp"), (gaussian(link="inverse"), "yp"),
    (binomial(), "yb"), (binomial(link="probit"), "yb"), (binomial(link="cauchit"), "yb"),
    (binomial(link="cloglog"), "yb"), (binomial(link="log"), "cbind(ys, yf)"),
    (poisson(), "yc"), (poisson(link="identity"), "ylin"), (poisson(link="sqrt"), "yc"),
    (Gamma(), "yp"), (Gamma(link="identity"), "yp"), (Gamma(link="log"), "yp"),
    (inverse_gaussian(), "yp"), (inverse_gaussian(link="inverse"), "yp"),
    (inverse_gaussian(link="identity"), "yp"), (inverse_gaussian(link="log"), "yp"),
    (quasi(), "yp"), (quasi(link="log", variance="mu"), "yc"),
    (quasi(link="log", variance="mu^2"), "yp"), (quasi(link="inverse", variance="mu^2"), "yp"),
    (quasi(link="log", variance="mu^3"), "yp"), (quasi(link="logit", variance="mu(1-mu)"), "yprop"),
    (quasi(link="sqrt", variance="mu"), "yc"), (quasi(link="1/mu^2", variance="mu^3"), "yp"),
    (quasibinomial(), "yb"), (quasibinomial(link="probit"), "cbind(ys, yf)"),
    (quasipoisson(), "yc"), (quasipoisson(link="sqrt"), "yc"),
]

RHS = ["x1 + x2", "x1 + f", "x2 * f", "o + x1"]


def _cases() -> list[dict]:
    cases = []
    for fam, resp in FAMILY_GRID:
        rhs_list = RHS if fam.link not in ("identity",) or resp != "yp" else RHS[:2]
        for rhs in rhs_list:
            cases.append({"formula": f"{resp} ~ {rhs}", "family": fam})
        cases.append({"formula": f"{resp} ~ x1 + x2", "family": fam, "weights": "w"})
    # offsets, zero weights, proportions, factor/logical responses, no intercept, start, subset
    cases += [
        {"formula": "ycx ~ x1 + x2 + offset(log(expo))", "family": poisson()},
        {"formula": "ycx ~ x1 + f", "family": poisson(), "offset": "logexpo"},
        {"formula": "ycx ~ 0 + x1 + offset(log(expo))", "family": poisson()},
        {"formula": "ycx ~ x1 + offset(log(expo))", "family": quasipoisson()},
        {"formula": "ys ~ x1 + offset(log(ytr))", "family": poisson()},
        {"formula": "yp ~ x1 + offset(0.1 * x2)", "family": Gamma(link="log")},
        {"formula": "yp ~ x1 + offset(0.1 * x2)", "family": gaussian()},
        {"formula": "yc ~ x1 + x2", "family": poisson(), "weights": "w0"},
        {"formula": "yp ~ x1 + x2", "family": gaussian(), "weights": "w0"},
        {"formula": "yp ~ x1 + f", "family": Gamma(), "weights": "w0"},
        {"formula": "yb ~ x1 + x2", "family": binomial(), "weights": "w0"},
        {"formula": "yprop ~ x1 + x2", "family": binomial(), "weights": "ytr"},
        {"formula": "yprop ~ x1 + f", "family": quasibinomial(), "weights": "ytr"},
        {"formula": "cbind(ys, yf) ~ x1 + x2 + f", "family": binomial()},
        {"formula": "cbind(ys, yf) ~ x1", "family": binomial(link="cloglog")},
        {"formula": "cbind(ys, yf) ~ x1 + x2", "family": binomial(), "weights": "w"},
        {"formula": "yfac ~ x1 + x2", "family": binomial()},
        {"formula": "ylog ~ x1 + f", "family": binomial()},
        {"formula": "yb ~ 0 + x1 + x2", "family": binomial()},
        {"formula": "yc ~ 0 + f + x1", "family": poisson()},
        {"formula": "yb ~ x1 + x2 + x3", "family": binomial()},
        {"formula": "yc ~ x1 + x3 + x2 + f", "family": poisson()},
        {"formula": "yp ~ x1 + x2 + x3", "family": Gamma(link="log")},
        {"formula": "yp ~ x3 + x1 + x2", "family": gaussian()},
        {"formula": "yc ~ x1 + x2", "family": poisson(), "start": [1.0, 0.0, 0.0]},
        {"formula": "yc ~ x1 + x2", "family": poisson(), "subset": "x1 > -1"},
        {"formula": "yc ~ x1 + I(x2^2) + log(expo)", "family": poisson()},
        {"formula": "yc ~ poly(x1, 2) + f", "family": poisson()},
        {"formula": "yb ~ x1 * x2", "family": binomial(), "control": {"epsilon": 1e-12}},
        {"formula": "yc ~ o", "family": poisson()},
        {"formula": "yc ~ 1", "family": poisson()},
        {"formula": "yp ~ o * x1", "family": Gamma(link="log")},
        {"formula": "yc ~ x1 + x2", "family": poisson(), "control": {"maxit": 2}},
        {"formula": "ysep ~ sep_x", "family": binomial(), "loose": True},
        {"formula": "ysep ~ sep_x + x1", "family": binomial(link="probit"), "loose": True},
        {"formula": "ysep ~ sep_x", "family": binomial(), "control": {"maxit": 3},
         "loose": True},
        {"formula": "yc ~ x1", "family": quasi(link="log", variance="mu"), "weights": "w0"},
    ]
    return cases


CASES = _cases()


def _py_kwargs(case: dict) -> dict:
    kw = {}
    for k in ("weights", "offset", "start", "control"):
        if k in case:
            kw[k] = case[k]
    if "subset" in case:
        kw["subset"] = (DATA["x1"] > -1).to_numpy()
    return kw


def _r_call(case: dict) -> str:
    fam = case["family"]
    args = [case["formula"], f"family = {fam.call_text}", "data = data"]
    if "weights" in case:
        args.append(f"weights = {case['weights']}")
    if "subset" in case:
        args.append(f"subset = {case['subset']}")
    if "start" in case:
        args.append("start = c(" + ", ".join(repr(v) for v in case["start"]) + ")")
    if "offset" in case:
        args.append(f"offset = {case['offset']}")
    if "control" in case:
        args.append("control = list(" + ", ".join(f"{k} = {v!r}" for k, v in
                                                   case["control"].items()) + ")")
    return "glm(" + ", ".join(args) + ")"


NEWDATA = DATA.iloc[[0, 5, 11, 23, 42]].reset_index(drop=True)


@pytest.fixture(scope="module")
def rdata():
    df = DATA.copy()
    df["logexpo"] = np.log(df["expo"])
    send_df(df, "data")
    nd = NEWDATA.copy()
    nd["logexpo"] = np.log(nd["expo"])
    send_df(nd, "newdata")
    return df


def _r_fit(case: dict) -> dict:
    call = _r_call(case)
    code = f"""
    local({{
      ws <- character(0)
      m <- withCallingHandlers({call}, warning = function(w) {{
        ws <<- c(ws, conditionMessage(w)); invokeRestart("muffleWarning") }})
      s <- withCallingHandlers(summary(m), warning = function(w) invokeRestart("muffleWarning"))
      cf <- coef(m)
      se <- rep(NA_real_, length(cf)); names(se) <- names(cf)
      se[rownames(coef(s))] <- coef(s)[, 2]
      pl <- tryCatch(suppressWarnings(predict(m, newdata, se.fit = TRUE)), error = function(e) NULL)
      pr <- tryCatch(suppressWarnings(predict(m, newdata, type = "response", se.fit = TRUE)),
                     error = function(e) NULL)
      list(coef = unname(cf), names = names(cf), se = unname(se), deviance = deviance(m),
           null = m$null.deviance, aic = m$aic, disp = s$dispersion, iter = m$iter,
           converged = m$converged, boundary = m$boundary, df_null = m$df.null,
           df_res = m$df.residual, rank = m$rank,
           loglik = tryCatch(as.numeric(logLik(m)), error = function(e) NA_real_),
           AIC = tryCatch(AIC(m), error = function(e) NA_real_),
           BIC = tryCatch(BIC(m), error = function(e) NA_real_),
           res_dev = unname(residuals(m, "deviance")), res_pear = unname(residuals(m, "pearson")),
           res_work = unname(residuals(m, "working")), res_resp = unname(residuals(m, "response")),
           fitted = unname(fitted(m)), eta = unname(m$linear.predictors),
           weights = unname(m$weights), vcov = unname(vcov(m)),
           pl_fit = if (is.null(pl)) NULL else unname(pl$fit),
           pl_se = if (is.null(pl)) NULL else unname(pl$se.fit),
           pr_fit = if (is.null(pr)) NULL else unname(pr$fit),
           pr_se = if (is.null(pr)) NULL else unname(pr$se.fit),
           summary = paste(capture.output(print(s)), collapse = "\\n"),
           print = paste(capture.output(print(m)), collapse = "\\n"),
           warnings = ws)
    }})
    """
    return r(code)


@pytest.fixture(scope="module")
def rfits(rdata):
    return [_r_fit(c) for c in CASES]


def _py_fit(case: dict):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        m = glm(case["formula"], DATA.assign(logexpo=np.log(DATA["expo"])),
                family=case["family"], **_py_kwargs(case))
    return m, [str(c.message) for c in caught]


def _close(a, b, rtol, atol=0.0):
    a = np.atleast_1d(np.asarray(a, float))
    b = np.atleast_1d(np.asarray(b, float))
    assert a.shape == b.shape, (a.shape, b.shape)
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, equal_nan=True)


IDS = [f"{i}:{c['formula']}|{c['family'].call_text}" + ("|w" if "weights" in c else "")
       for i, c in enumerate(CASES)]


@pytest.mark.parametrize("i", range(len(CASES)), ids=IDS)
def test_fit_numbers(i, rfits):
    case = CASES[i]
    R = rfits[i]
    m, ws = _py_fit(case)
    loose = case.get("loose", False)
    rtol = 1e-6 if loose else 1e-8
    assert m.names == R["names"]
    assert m.iter == int(R["iter"][0])
    assert m.converged == bool(R["converged"][0])
    assert m.boundary == bool(R["boundary"][0])
    assert m.rank == int(R["rank"][0])
    assert m.df_null == int(R["df_null"][0]) and m.df_residual() == int(R["df_res"][0])
    _close(m.coef(), R["coef"], rtol, atol=1e-12)
    _close(m.deviance(), R["deviance"], rtol, atol=1e-12)
    _close(m.null_deviance, R["null"], rtol)
    _close(m.aic, R["aic"], rtol)
    _close(m.dispersion(), R["disp"], rtol)
    _close(m.fitted(), R["fitted"], rtol, atol=1e-14)
    _close(m.linear_predictors, R["eta"], rtol, atol=1e-12)
    _close(m.weights, R["weights"], rtol, atol=1e-300)
    se = m.coef_table()["Std. Error"].reindex(m.names)
    _close(se, R["se"], 1e-5 if loose else 1e-7)
    _close(m.vcov(), R["vcov"], 1e-5 if loose else 1e-7, atol=1e-300)
    for t, key in (("deviance", "res_dev"), ("pearson", "res_pear"), ("working", "res_work"),
                   ("response", "res_resp")):
        _close(m.residuals(t), R[key], rtol, atol=1e-10)
    if not m.family.is_quasi:
        _close(m.logLik(), R["loglik"], rtol)
        _close(m.AIC(), R["AIC"], rtol)
        _close(m.BIC(), R["BIC"], rtol)
    r_glm_warn = sorted(w for w in R["warnings"] or [] if w.startswith("glm.fit"))
    assert sorted(w for w in ws if w.startswith("glm.fit")) == r_glm_warn


@pytest.mark.parametrize("i", range(len(CASES)), ids=IDS)
def test_predict_newdata(i, rfits):
    case = CASES[i]
    R = rfits[i]
    if R["pl_fit"] is None or "subset" in case:
        pytest.skip("R cannot predict on this newdata")
    m, _ = _py_fit(case)
    nd = NEWDATA.assign(logexpo=np.log(NEWDATA["expo"]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", errors.RankDeficiencyWarning)
        pl = m.predict(nd, se_fit=True)
        pr = m.predict(nd, type="response", se_fit=True)
    rtol = 1e-6 if case.get("loose") else 1e-7
    _close(pl["fit"], R["pl_fit"], rtol, atol=1e-12)
    _close(pl["se_fit"], R["pl_se"], rtol)
    _close(pr["fit"], R["pr_fit"], rtol, atol=1e-14)
    _close(pr["se_fit"], R["pr_se"], rtol, atol=1e-300)


def _text_cases() -> list[int]:
    return [i for i, c in enumerate(CASES) if not c.get("loose")]


@pytest.mark.parametrize("i", _text_cases(), ids=[IDS[i] for i in _text_cases()])
def test_summary_and_print_text(i, rfits):
    case = CASES[i]
    R = rfits[i]
    m, _ = _py_fit(case)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", errors.RModelsWarning)
        s = str(m.summary())
    exact_call = not any(k in case for k in ("subset", "start", "control"))
    if exact_call:
        assert s.rstrip("\n") == R["summary"][0].rstrip("\n")
        assert str(m).rstrip("\n") == R["print"][0].rstrip("\n")
    else:
        assert _strip_call(s) == _strip_call(R["summary"][0])
        assert _strip_call(str(m)) == _strip_call(R["print"][0])


def _strip_call(text: str) -> str:
    """The text without the deparsed call (for calls whose R deparse shows literal values)."""
    lines = text.rstrip("\n").split("\n")
    out = []
    skipping = False
    for ln in lines:
        if ln.startswith("Call:"):
            out.append("Call:")
            skipping = True
            continue
        if skipping and ln != "":
            continue
        skipping = False
        out.append(ln)
    return "\n".join(out)
