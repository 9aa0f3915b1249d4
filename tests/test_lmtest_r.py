"""lmtest against live R (lmtest 0.9-40, sandwich 3.0-2, broom): coeftest's printed text, its
numbers and broom's tidy (with intervals), coefci, waldtest (F and Chisq, covariance as a
function or a matrix, several models), grouped fits, and the package's errors."""

from __future__ import annotations

import functools
import warnings

import numpy as np
import pandas as pd
import pytest
import rmodels as rm
from rbridge import r, r_raw, send_df
from rmodels import errors
from test_sandwich_r import DATA

pytestmark = pytest.mark.r

TOL = 1e-8

MODELS = {
    "lm": (lambda: rm.lm("y ~ x1 + x2 + f", DATA), "lm(y ~ x1 + x2 + f, data = d)"),
    "lm_small": (lambda: rm.lm("y ~ x1", DATA), "lm(y ~ x1, data = d)"),
    "lm_mid": (lambda: rm.lm("y ~ x1 + x2", DATA), "lm(y ~ x1 + x2, data = d)"),
    "lm_w": (lambda: rm.lm("y ~ x1 + x2 + f", DATA, weights="w"),
             "lm(y ~ x1 + x2 + f, data = d, weights = w)"),
    "lm_rankdef": (lambda: rm.lm("y ~ x1 + x3 + x2", DATA), "lm(y ~ x1 + x3 + x2, data = d)"),
    "pois": (lambda: rm.glm("yc ~ x1 + x2 + f", DATA, family="poisson"),
             "glm(yc ~ x1 + x2 + f, data = d, family = poisson)"),
    "pois_small": (lambda: rm.glm("yc ~ x1", DATA, family="poisson"),
                   "glm(yc ~ x1, data = d, family = poisson)"),
    "gamma": (lambda: rm.glm("yp ~ x1 + x2", DATA, family=rm.Gamma(link="log")),
              "glm(yp ~ x1 + x2, data = d, family = Gamma(link = 'log'))"),
}


@pytest.fixture(scope="module")
def fits():
    send_df(DATA, "d")
    r_raw("suppressMessages({library(sandwich); library(lmtest); library(broom)})")
    out = {}
    for name, (ours, rcall) in MODELS.items():
        r_raw(f"m_{name} <- {rcall}")
        out[name] = ours()
    return out


def r_text(code: str) -> str:
    return "\n".join(r(f"capture.output(print({code}))")) + "\n"


VCOV_CASES = [
    ("lm", None, "NULL"),
    ("lm", rm.vcovHC, "vcovHC"),
    ("lm", functools.partial(rm.vcovHC, type="HC0"), 'vcovHC(m_lm, type = "HC0")'),
    ("lm", functools.partial(rm.vcovCL, cluster="g"), "vcovCL(m_lm, cluster = ~g)"),
    ("lm_w", functools.partial(rm.vcovCL, cluster=["g", "h"], type="HC2"),
     'vcovCL(m_lm_w, cluster = ~g + h, type = "HC2")'),
    ("lm_rankdef", None, "NULL"),
    ("lm_rankdef", rm.vcovHC, "vcovHC"),
    ("pois", None, "NULL"),
    ("pois", functools.partial(rm.vcovCL, cluster="g"), "vcovCL(m_pois, cluster = ~g)"),
    ("gamma", rm.vcovHC, "vcovHC"),
    ("gamma", rm.NeweyWest, "NeweyWest"),
]


def quiet_nan_sqrt(fn, *args, **kwargs):
    """R warns "NaNs produced" for a negative variance (lm_w's two-way HC2); so do we."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = fn(*args, **kwargs)
    assert all(issubclass(w.category, errors.RModelsWarning) and str(w.message) ==
               "NaNs produced" for w in caught)
    return out


@pytest.mark.parametrize("model,vc,rvc", VCOV_CASES)
def test_coeftest(fits, model, vc, rvc):
    ct = quiet_nan_sqrt(rm.coeftest, fits[model], vcov=vc)
    rcode = f"coeftest(m_{model}, vcov. = {rvc})"
    assert str(ct) == r_text(rcode)
    R = np.asarray(r(f"unclass({rcode})[, 1:4, drop = FALSE]"), dtype=float)
    np.testing.assert_allclose(ct.table.to_numpy(), R, rtol=TOL, atol=0)
    assert list(ct.table.index) == r(f"rownames({rcode})")
    assert list(ct.table.columns) == r(f"colnames({rcode})")
    assert ct.df == r(f"attr({rcode}, 'df')")[0]
    for conf in (False, True):
        td = ct.tidy(conf_int=conf, conf_level=0.9)
        rt = r(f"as.data.frame(tidy({rcode}, conf.int = {str(conf).upper()}, "
               "conf.level = 0.9))")
        assert list(td.columns) == list(rt.columns)
        assert list(td["term"]) == list(rt["term"])
        num = [c for c in td.columns if c != "term"]
        np.testing.assert_allclose(td[num].to_numpy(float), rt[num].to_numpy(float),
                                   rtol=TOL, atol=0)


def test_coeftest_df_argument(fits):
    ct = rm.coeftest(fits["lm"], vcov=rm.vcovHC, df=float("inf"))
    assert str(ct) == r_text("coeftest(m_lm, vcov. = vcovHC, df = Inf)")
    ct = rm.coeftest(fits["pois"], df=30)
    assert str(ct) == r_text("coeftest(m_pois, df = 30)")
    V = rm.vcovHC(fits["lm"]).to_numpy()
    ct = rm.coeftest(fits["lm"], vcov=V)
    assert str(ct) == r_text("coeftest(m_lm, vcov. = vcovHC(m_lm))")


@pytest.mark.parametrize("model,vc,rvc", VCOV_CASES)
def test_coefci(fits, model, vc, rvc):
    for level in (0.95, 0.8):
        ci = quiet_nan_sqrt(rm.coefci, fits[model], vcov=vc, level=level)
        rcode = f"coefci(m_{model}, vcov. = {rvc}, level = {level})"
        R = np.asarray(r(f"unname({rcode})"), dtype=float)
        np.testing.assert_allclose(ci.to_numpy(), R, rtol=TOL, atol=0)
        assert list(ci.columns) == r(f"colnames({rcode})")
        assert list(ci.index) == r(f"rownames({rcode})")
    ci = quiet_nan_sqrt(rm.coefci, fits[model], parm=["x1"], vcov=vc)
    R = np.asarray(r(f"unname(coefci(m_{model}, parm = 'x1', vcov. = {rvc}))"), dtype=float)
    np.testing.assert_allclose(ci.to_numpy(), R, rtol=TOL, atol=0)


WALD_CASES = [
    (("lm_small", "lm"), {}, ""),
    (("lm", "lm_small"), {}, ""),
    (("lm_small", "lm"), dict(vcov=rm.vcovHC), ", vcov = vcovHC"),
    (("lm_small", "lm"), dict(vcov=rm.vcovHC, test="Chisq"), ", vcov = vcovHC, test = 'Chisq'"),
    (("lm_small", "lm_mid", "lm"), dict(vcov=functools.partial(rm.vcovCL, cluster="g")),
     ", vcov = function(x) vcovCL(x, cluster = ~g)"),
    (("pois_small", "pois"), {}, ""),
    (("pois_small", "pois"), dict(test="Chisq", vcov=rm.sandwich),
     ", test = 'Chisq', vcov = sandwich"),
    # one model: compared with its intercept-only update (lmtest's `. ~ 1`)
    (("lm",), {}, ""),
    (("lm_w",), dict(vcov=rm.vcovHC), ", vcov = vcovHC"),
    (("pois",), dict(test="Chisq"), ", test = 'Chisq'"),
    (("gamma",), {}, ""),
]


@pytest.mark.parametrize("models,kw,rkw", WALD_CASES)
def test_waldtest(fits, models, kw, rkw):
    w = rm.waldtest(*[fits[m] for m in models], **kw)
    rcode = f"waldtest({', '.join('m_' + m for m in models)}{rkw})"
    assert str(w) == r_text(rcode)
    R = r(f"as.data.frame({rcode})")
    np.testing.assert_allclose(w.table.to_numpy(float), R.to_numpy(float), rtol=TOL,
                               equal_nan=True)


def test_waldtest_vcov_matrix(fits):
    V = rm.vcovHC(fits["lm"], type="HC0")
    w = rm.waldtest(fits["lm_small"], fits["lm"], vcov=V)
    assert str(w) == r_text("waldtest(m_lm_small, m_lm, vcov = vcovHC(m_lm, type = 'HC0'))")


def test_grouped_coeftest():
    d = DATA.assign(grp=np.where(np.arange(len(DATA)) % 3 == 0, "a", "b"))
    send_df(d, "dg")
    fl = rm.lm("y ~ x1 + x2", d, by="grp")
    ct = rm.coeftest(fl, vcov=rm.vcovHC)
    ct2 = rm.coeftest(fl, vcov=rm.vcovCL(fl, cluster="g"))
    td, td2 = ct.tidy(conf_int=True), ct2.tidy()
    assert list(td.columns) == ["grp", "term", "estimate", "std.error", "statistic",
                                "p.value", "conf.low", "conf.high", "status"]
    assert list(td["grp"]) == ["a"] * 3 + ["b"] * 3
    for key in ("a", "b"):
        r_raw(f"mg <- lm(y ~ x1 + x2, data = dg[dg$grp == '{key}', ])")
        rt = r("as.data.frame(tidy(coeftest(mg, vcov. = vcovHC), conf.int = TRUE))")
        mine = td[td["grp"] == key]
        np.testing.assert_allclose(mine[["estimate", "std.error", "statistic", "p.value",
                                         "conf.low", "conf.high"]].to_numpy(float),
                                   rt.iloc[:, 1:].to_numpy(float), rtol=TOL)
        rt2 = r("as.data.frame(tidy(coeftest(mg, vcov. = vcovCL(mg, cluster = ~g))))")
        np.testing.assert_allclose(td2[td2["grp"] == key].iloc[:, 2:6].to_numpy(float),
                                   rt2.iloc[:, 1:].to_numpy(float), rtol=TOL)
    text = str(ct)
    assert text.startswith("grp = a:\n\nt test of coefficients:")


def test_waldtest_errors(fits):
    with pytest.raises(errors.FitError, match="aliased coefficients"):
        rm.waldtest(fits["lm_small"], fits["lm_rankdef"])
    with pytest.raises(errors.FitError, match="'a' is 0-diml"):  # R: solve() of a 0 x 0 block
        rm.waldtest(rm.lm("y ~ 1", DATA))
    with pytest.raises(errors.FitError, match="nesting of models"):
        rm.waldtest(fits["lm_small"], rm.lm("y ~ x2 + f", DATA))
    with pytest.raises(errors.FitError, match="same size of dataset"):
        rm.waldtest(fits["lm_small"], rm.lm("y ~ x1 + x2", DATA.iloc[:50]))
    with pytest.raises(errors.FitError, match="needs to be a function"):
        rm.waldtest(fits["lm_small"], fits["lm_mid"], fits["lm"],
                    vcov=rm.vcovHC(fits["lm"]))
    with pytest.raises(errors.FitError, match="original model was of class"):
        rm.waldtest(fits["lm_small"], fits["pois"])


def test_coeftest_is_exported_with_r_names():
    for name in ("vcovHC", "vcovCL", "vcovHAC", "NeweyWest", "sandwich", "bread", "estfun",
                 "meat", "coeftest", "coefci", "waldtest"):
        assert callable(getattr(rm, name))
    assert isinstance(rm.coeftest(rm.lm("y ~ x1", DATA)).table, pd.DataFrame)


@pytest.mark.parametrize("model", ["lm", "pois"])
def test_generics_on_coeftest(fits, model):
    ct = rm.coeftest(fits[model], vcov=rm.vcovHC)
    pd.testing.assert_frame_equal(rm.tidy(ct, conf_int=True), ct.tidy(conf_int=True))
    ci = rm.confint(ct, level=0.9)
    rcode = f"confint(coeftest(m_{model}, vcov. = vcovHC), level = 0.9)"
    np.testing.assert_allclose(ci.to_numpy(), np.asarray(r(f"unname({rcode})"), dtype=float),
                               rtol=TOL)
    assert list(ci.columns) == r(f"colnames({rcode})")


def test_grouped_glm_coeftest():
    d = DATA.assign(grp=np.where(np.arange(len(DATA)) % 2 == 0, "u", "v"))
    send_df(d, "dg2")
    fl = rm.glm("yc ~ x1 + x2", d, family="poisson", by="grp")
    td = rm.coeftest(fl, vcov=functools.partial(rm.vcovCL, cluster="g")).tidy()
    for key in ("u", "v"):
        r_raw(f"mg <- glm(yc ~ x1 + x2, family = poisson, data = dg2[dg2$grp == '{key}', ])")
        rt = r("as.data.frame(tidy(coeftest(mg, vcov. = vcovCL(mg, cluster = ~g))))")
        np.testing.assert_allclose(td[td["grp"] == key].iloc[:, 2:6].to_numpy(float),
                                   rt.iloc[:, 1:].to_numpy(float), rtol=TOL)
    assert (td["status"] == "ok").all()
