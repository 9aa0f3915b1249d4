"""sandwich's covariances against live R (sandwich 3.0-2): vcovHC of every type, vcovCL one- and
two-way with every type and option (PetersenCL), vcovHAC/NeweyWest/kernHAC on a time-series
regression, the building blocks (estfun, bread, meat, sandwich), grouped fits, and the
package's errors on bad input. Numbers agree to 1e-8 relative to the largest entry."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import rmodels as rm
from rbridge import r, r_dataset, r_raw, send_df
from rmodels import errors

pytestmark = pytest.mark.r

TOL = 1e-8


def make_data(n: int = 80, seed: int = 12) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    d = pd.DataFrame({"x1": rng.normal(size=n), "x2": rng.normal(size=n),
                      "f": pd.Categorical(rng.choice(list("abc"), n)),
                      "g": rng.integers(0, 9, n).astype(float),
                      "h": rng.choice(list("PQRST"), n),
                      "w": rng.uniform(0.5, 2, n), "o": rng.normal(size=n) * 0.1})
    d["y"] = 1 + d.x1 - 0.5 * d.x2 + rng.normal(size=n) * (1 + np.abs(d.x1))
    d["yb"] = (rng.uniform(size=n) < 1 / (1 + np.exp(-d.x1))).astype(float)
    d["yc"] = rng.poisson(np.exp(0.5 + 0.3 * d.x1 + d.o)).astype(float)
    d["yp"] = rng.gamma(2, np.exp(0.2 * d.x1) / 2)
    d["x3"] = d.x1 - 2 * d.x2
    d["ynb"] = rng.poisson(np.exp(1 + 0.4 * d.x1) * rng.gamma(2.0, 0.5, n)).astype(float)
    return d


DATA = make_data()

#: name → (our fit, R's call)
MODELS = {
    "lm": (lambda: rm.lm("y ~ x1 + x2 + f", DATA), "lm(y ~ x1 + x2 + f, data = d)"),
    "lm_w_off": (lambda: rm.lm("y ~ x1 + x2 + f", DATA, weights="w", offset="o"),
                 "lm(y ~ x1 + x2 + f, data = d, weights = w, offset = o)"),
    "lm_rankdef": (lambda: rm.lm("y ~ x1 + x3 + x2 + f", DATA),
                   "lm(y ~ x1 + x3 + x2 + f, data = d)"),
    "binomial": (lambda: rm.glm("yb ~ x1 + x2 + f", DATA, family="binomial"),
                 "glm(yb ~ x1 + x2 + f, data = d, family = binomial)"),
    "poisson_off": (lambda: rm.glm("yc ~ x1 + x2 + f + offset(o)", DATA, family="poisson"),
                    "glm(yc ~ x1 + x2 + f + offset(o), data = d, family = poisson)"),
    "poisson_w": (lambda: rm.glm("yc ~ x1 + x2", DATA, family="poisson", weights="w"),
                  "glm(yc ~ x1 + x2, data = d, family = poisson, weights = w)"),
    "Gamma": (lambda: rm.glm("yp ~ x1 + x2 + f", DATA, family=rm.Gamma(link="log")),
              "glm(yp ~ x1 + x2 + f, data = d, family = Gamma(link = 'log'))"),
    "Gamma_w": (lambda: rm.glm("yp ~ x1 + x2", DATA, family="Gamma", weights="w"),
                "glm(yp ~ x1 + x2, data = d, family = Gamma, weights = w)"),
    "quasipoisson": (lambda: rm.glm("yc ~ x1 + f", DATA, family="quasipoisson"),
                     "glm(yc ~ x1 + f, data = d, family = quasipoisson)"),
    "negbin": (lambda: rm.glm_nb("ynb ~ x1 + x2 + f", DATA),
               "glm.nb(ynb ~ x1 + x2 + f, data = d)"),
    "glm_rankdef": (lambda: rm.glm("yc ~ x1 + x3 + x2", DATA, family="poisson"),
                    "glm(yc ~ x1 + x3 + x2, data = d, family = poisson)"),
}
HC_TYPES = ["HC0", "HC1", "HC2", "HC3", "HC4", "HC4m", "HC5", "const"]


@pytest.fixture(scope="module")
def fits():
    send_df(DATA, "d")
    r_raw("suppressMessages({library(sandwich); library(lmtest)})")
    out = {}
    for name, (ours, rcall) in MODELS.items():
        r_raw(f"m_{name} <- {rcall}")
        out[name] = ours()
    return out


def assert_matrix(ours: pd.DataFrame, rcode: str) -> None:
    R = np.asarray(r(f"unname(as.matrix({rcode}))"), dtype=float)
    assert list(ours.columns) == r(f"colnames({rcode})")
    scale = np.abs(R).max()
    np.testing.assert_allclose(ours.to_numpy(), R, rtol=TOL, atol=TOL * scale)


@pytest.mark.parametrize("model", list(MODELS))
@pytest.mark.parametrize("hc", HC_TYPES)
def test_vcovHC(fits, model, hc):
    assert_matrix(rm.vcovHC(fits[model], type=hc), f'vcovHC(m_{model}, type = "{hc}")')


def test_vcovHC_default_is_HC3(fits):
    assert_matrix(rm.vcovHC(fits["lm"]), "vcovHC(m_lm)")


@pytest.mark.parametrize("model", ["lm", "lm_w_off", "Gamma", "binomial", "lm_rankdef"])
def test_building_blocks(fits, model):
    f = fits[model]
    assert_matrix(rm.bread(f), f"bread(m_{model})")
    assert_matrix(rm.meat(f), f"meat(m_{model})")
    assert_matrix(rm.meat(f, adjust=True), f"meat(m_{model}, adjust = TRUE)")
    assert_matrix(rm.sandwich(f), f"sandwich(m_{model})")
    assert_matrix(rm.meatHC(f, type="HC2"), f'meatHC(m_{model}, type = "HC2")')
    ef = rm.estfun(f)
    assert_matrix(ef, f"estfun(m_{model})")
    assert ef.index.equals(DATA.index)


@pytest.mark.parametrize("model", ["lm", "lm_w_off", "binomial", "poisson_off", "Gamma_w",
                                   "glm_rankdef", "negbin"])
@pytest.mark.parametrize("hc", [None, "HC0", "HC1", "HC2", "HC3"])
def test_vcovCL_simulated(fits, model, hc):
    targ = "NULL" if hc is None else f'"{hc}"'
    f = fits[model]
    assert_matrix(rm.vcovCL(f, cluster="g", type=hc), f"vcovCL(m_{model}, cluster = ~g, "
                                                       f"type = {targ})")
    assert_matrix(rm.vcovCL(f, cluster=["g", "h"], type=hc),
                  f"vcovCL(m_{model}, cluster = ~g + h, type = {targ})")


def test_vcovCL_cluster_forms(fits):
    f = fits["lm"]
    want = "vcovCL(m_lm, cluster = ~g)"
    assert_matrix(rm.vcovCL(f, cluster=DATA["g"].to_numpy()), want)
    assert_matrix(rm.vcovCL(f, cluster=DATA["g"]), want)
    assert_matrix(rm.vcovCL(f, cluster=DATA[["g", "h"]]), "vcovCL(m_lm, cluster = ~g + h)")
    assert_matrix(rm.vcovCL(f), "vcovCL(m_lm)")
    # codes of non-whole numbers, of widely spread integers, and of strings
    assert_matrix(rm.vcovCL(f, cluster=DATA["g"].to_numpy() / 3), want)
    assert_matrix(rm.vcovCL(f, cluster=(DATA["g"].to_numpy() * 1e15).astype(np.int64)), want)
    assert_matrix(rm.vcovCL(f, cluster=[f"c{v:.0f}" for v in DATA["g"]]), want)
    assert_matrix(rm.meatCL(f, cluster="g"), "meatCL(m_lm, cluster = ~g)")


def test_vcovCL_factor_with_unused_levels(fits):
    # sandwich counts a factor's levels, unused ones too, in G / (G - 1)
    cl = pd.Categorical(DATA["h"], categories=list("PQRSTUV"))
    r_raw('cl_unused <- factor(d$h, levels = c("P","Q","R","S","T","U","V"))')
    assert_matrix(rm.vcovCL(fits["lm"], cluster=pd.Series(cl)),
                  "vcovCL(m_lm, cluster = cl_unused)")


def test_vcovCL_na_omitted_rows():
    d = DATA.copy()
    d.loc[[3, 10], "x1"] = np.nan
    send_df(d, "dna")
    f = rm.lm("y ~ x1 + x2", d)
    r_raw("m_na <- lm(y ~ x1 + x2, data = dna)")
    # a cluster vector over all rows of the data: the rows dropped for NAs are left out
    assert_matrix(rm.vcovCL(f, cluster=d["g"].to_numpy()), "vcovCL(m_na, cluster = dna$g)")
    assert_matrix(rm.vcovCL(f, cluster="g"), "vcovCL(m_na, cluster = ~g)")
    fe = rm.lm("y ~ x1 + x2", d, na_action="exclude")
    r_raw("m_ex <- lm(y ~ x1 + x2, data = dna, na.action = na.exclude)")
    assert_matrix(rm.vcovHC(fe), "vcovHC(m_ex)")
    ef = rm.estfun(fe)
    assert np.isnan(ef.loc[3]).all() and len(ef) == len(d)


# ---------------------------------------------------------------------------------------------
# PetersenCL (sandwich's data set): one- and two-way clustering, every type and option

@pytest.fixture(scope="module")
def petersen():
    r_raw("suppressMessages(library(sandwich)); data(PetersenCL, package = 'sandwich');"
          "p_lm <- lm(y ~ x, data = PetersenCL)")
    pcl = r_dataset("PetersenCL", "sandwich")
    return rm.lm("y ~ x", pcl)


@pytest.mark.parametrize("hc", ["HC0", "HC1", "HC2", "HC3"])
@pytest.mark.parametrize("cluster,rcl", [("firm", "~firm"), ("year", "~year"),
                                         (["firm", "year"], "~firm + year")])
def test_petersen_types(petersen, hc, cluster, rcl):
    assert_matrix(rm.vcovCL(petersen, cluster=cluster, type=hc),
                  f'vcovCL(p_lm, cluster = {rcl}, type = "{hc}")')


@pytest.mark.parametrize("opts,ropts", [
    (dict(cadjust=False), "cadjust = FALSE"),
    (dict(multi0=True), "multi0 = TRUE"),
    (dict(multi0=True, type="HC0"), 'multi0 = TRUE, type = "HC0"'),
    (dict(fix=True), "fix = TRUE"),
    (dict(cadjust=False, multi0=True, fix=True, type="HC1"),
     'cadjust = FALSE, multi0 = TRUE, fix = TRUE, type = "HC1"'),
    (dict(sandwich=False), "sandwich = FALSE"),
])
@pytest.mark.parametrize("cluster,rcl", [("firm", "~firm"), (["firm", "year"], "~firm + year")])
def test_petersen_options(petersen, opts, ropts, cluster, rcl):
    assert_matrix(rm.vcovCL(petersen, cluster=cluster, **opts),
                  f"vcovCL(p_lm, cluster = {rcl}, {ropts})")


def test_petersen_fix_changes_an_indefinite_matrix():
    # two-way HC0 without the G/(G-1) adjustment can be indefinite; fix = TRUE clips it
    rng = np.random.default_rng(3)
    n = 40
    d = pd.DataFrame({"x": rng.normal(size=n), "a": rng.integers(0, 3, n).astype(float),
                      "b": rng.integers(0, 3, n).astype(float)})
    d["y"] = rng.normal(size=n)
    send_df(d, "dfix")
    f = rm.lm("y ~ x", d)
    r_raw("m_fix <- lm(y ~ x, data = dfix)")
    for fix in (False, True):
        assert_matrix(rm.vcovCL(f, cluster=["a", "b"], type="HC0", cadjust=False, fix=fix),
                      f"vcovCL(m_fix, cluster = ~a + b, type = 'HC0', cadjust = FALSE, "
                      f"fix = {str(fix).upper()})")


def test_petersen_glm_three_way(petersen):
    pcl = r_dataset("PetersenCL", "sandwich")
    r_raw("pg <- PetersenCL; pg$yb <- as.numeric(pg$y > 0); pg$q <- pg$firm %% 7;"
          "p_glm <- glm(yb ~ x, data = pg, family = binomial)")
    pcl["yb"] = (pcl["y"] > 0).astype(float)
    pcl["q"] = pcl["firm"] % 7
    g = rm.glm("yb ~ x", pcl, family="binomial")
    for hc in ("HC0", "HC1"):
        assert_matrix(rm.vcovCL(g, cluster=["firm", "year", "q"], type=hc),
                      f'vcovCL(p_glm, cluster = ~firm + year + q, type = "{hc}")')
    assert_matrix(rm.vcovCL(g, cluster="firm", type="HC3"),
                  'vcovCL(p_glm, cluster = ~firm, type = "HC3")')


# ---------------------------------------------------------------------------------------------
# HAC on a time-series regression (a lagged series built in R)

@pytest.fixture(scope="module")
def ts_fit():
    r_raw("set.seed(42); n <- 150; x <- as.numeric(arima.sim(list(ar = 0.6), n + 1));"
          "e <- as.numeric(arima.sim(list(ar = 0.5), n + 1));"
          "yy <- numeric(n + 1); yy[1] <- e[1];"
          "for (t in 2:(n + 1)) yy[t] <- 0.5 + 0.4 * yy[t - 1] + 0.8 * x[t] + e[t];"
          "tsd <- data.frame(y = yy[-1], ylag = yy[-(n + 1)], x = x[-1]);"
          "ts_lm <- lm(y ~ ylag + x, data = tsd)")
    tsd = r("tsd")
    return rm.lm("y ~ ylag + x", tsd), tsd


@pytest.mark.parametrize("args,rargs", [
    ({}, ""), (dict(lag=4), "lag = 4"), (dict(prewhite=False), "prewhite = FALSE"),
    (dict(adjust=True), "adjust = TRUE"),
    (dict(lag=2, prewhite=False, adjust=True), "lag = 2, prewhite = FALSE, adjust = TRUE"),
    (dict(sandwich=False), "sandwich = FALSE"),
])
def test_newey_west(ts_fit, args, rargs):
    assert_matrix(rm.NeweyWest(ts_fit[0], **args), f"NeweyWest(ts_lm, {rargs})")


def test_hac_family(ts_fit):
    f, tsd = ts_fit
    assert_matrix(rm.vcovHAC(f), "vcovHAC(ts_lm)")
    assert_matrix(rm.vcovHAC(f, prewhite=True, adjust=False),
                  "vcovHAC(ts_lm, prewhite = TRUE, adjust = FALSE)")
    assert_matrix(rm.vcovHAC(f, weights=[1, 0.5, 0.25]),
                  "vcovHAC(ts_lm, weights = c(1, 0.5, 0.25))")
    assert_matrix(rm.kernHAC(f), "kernHAC(ts_lm)")
    for k in ("Bartlett", "Parzen", "Truncated", "Tukey-Hanning"):
        assert_matrix(rm.kernHAC(f, kernel=k), f'kernHAC(ts_lm, kernel = "{k}")')
    assert_matrix(rm.kernHAC(f, bw=3.5, prewhite=False), "kernHAC(ts_lm, bw = 3.5, "
                                                         "prewhite = FALSE)")
    np.testing.assert_allclose(rm.bwNeweyWest(f), r("bwNeweyWest(ts_lm)")[0], rtol=TOL)
    for k in ("Parzen", "Quadratic Spectral"):
        np.testing.assert_allclose(rm.bwNeweyWest(f, kernel=k, prewhite=0),
                                   r(f'bwNeweyWest(ts_lm, kernel = "{k}", prewhite = 0)')[0],
                                   rtol=TOL)
    np.testing.assert_allclose(rm.bwAndrews(f), r("bwAndrews(ts_lm)")[0], rtol=TOL)
    np.testing.assert_allclose(rm.weightsAndrews(f), r("weightsAndrews(ts_lm)"), rtol=TOL)
    order = np.arange(len(tsd))[::-1].astype(float)
    r_raw(f"ordr <- {len(tsd)}:1")
    assert_matrix(rm.NeweyWest(f, order_by=order), "NeweyWest(ts_lm, order.by = ordr)")


def test_hac_glm():
    r_raw("set.seed(7); nn <- 120; xg <- as.numeric(arima.sim(list(ar = 0.5), nn));"
          "yg <- rpois(nn, exp(0.3 + 0.4 * xg)); gd <- data.frame(y = yg, x = xg);"
          "gts <- glm(y ~ x, data = gd, family = poisson)")
    gd = r("gd")
    g = rm.glm("y ~ x", gd, family="poisson")
    assert_matrix(rm.NeweyWest(g), "NeweyWest(gts)")
    assert_matrix(rm.vcovHAC(g), "vcovHAC(gts)")


# ---------------------------------------------------------------------------------------------
# grouped fits

def test_grouped_vcov():
    d = DATA.assign(grp=np.where(np.arange(len(DATA)) % 2 == 0, "even", "odd"))
    send_df(d, "dg")
    fl = rm.lm("y ~ x1 + x2", d, by="grp")
    hc = rm.vcovHC(fl, type="HC1")
    cl = rm.vcovCL(fl, cluster="g")
    assert len(hc) == 2 and hc.keys == [("even",), ("odd",)]
    for key in ("even", "odd"):
        r_raw(f"mg <- lm(y ~ x1 + x2, data = dg[dg$grp == '{key}', ])")
        assert_matrix(hc.get(key), 'vcovHC(mg, type = "HC1")')
        assert_matrix(cl.get(key), "vcovCL(mg, cluster = ~g)")


# ---------------------------------------------------------------------------------------------
# bad input: the package's errors

def test_cluster_errors(fits):
    f = fits["lm"]
    bad = DATA["g"].to_numpy().copy()
    bad[4] = np.nan
    with pytest.raises(errors.DataError, match="cannot handle NAs in 'cluster'"):
        rm.vcovCL(f, cluster=bad)
    with pytest.raises(errors.DataError, match="number of observations in 'cluster'"):
        rm.vcovCL(f, cluster=np.arange(10))
    with pytest.raises(errors.DataError, match="only one cluster"):
        rm.vcovCL(f, cluster=np.zeros(len(DATA)))
    with pytest.raises(errors.DataError, match="not found in the data"):
        rm.vcovCL(f, cluster="nope")
    with pytest.raises(ValueError, match="'type' should be one of"):
        rm.vcovCL(f, cluster="g", type="HC4")
    with pytest.raises(ValueError, match="'type' should be one of"):
        rm.vcovHC(f, type="HC9")


def test_unsupported_fits():
    d = DATA.assign(y2=DATA.y * 2)
    mlm = rm.lm("cbind(y, y2) ~ x1", d)
    with pytest.raises(errors.FitError, match="mlm"):
        rm.vcovHC(mlm)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lmm = rm.lmer("y ~ x1 + (1 | h)", DATA)
    with pytest.raises(errors.FitError, match="lm and glm fits"):
        rm.vcovCL(lmm, cluster="g")
    with pytest.raises(errors.FitError, match="lm and glm fits"):
        rm.coeftest(lmm)


def test_vcovCL_from_the_terms_without_the_dense_matrix(fits):
    # a fresh lm keeps no dense model matrix: the cluster sums come from its terms (numeric,
    # factor, matrix-valued and interaction terms); then again with the matrix built
    formula = "y ~ x1 * f + poly(x2, 2) + h + x1:x2"
    r_raw(f"m_terms <- lm({formula}, data = d)")
    for hc in ("HC0", "HC1"):
        f = rm.lm(formula, DATA)
        assert f.design.X is None
        assert_matrix(rm.vcovCL(f, cluster=["g", "h"], type=hc),
                      f'vcovCL(m_terms, cluster = ~g + h, type = "{hc}")')
        f.design.model_matrix_array()
        assert_matrix(rm.vcovCL(f, cluster=["g", "h"], type=hc),
                      f'vcovCL(m_terms, cluster = ~g + h, type = "{hc}")')


@pytest.mark.parametrize("hc", ["HC0", "HC2", "HC3", "HC4", "HC4m", "HC5"])
@pytest.mark.parametrize("zeros", [3, 40])
def test_vcovHC_zero_weights(hc, zeros):
    """R's hatvalues drop zero-weight rows; sandwich's meatHC then recycles them over all rows
    (R's arithmetic, warning when the lengths are not multiples): the same numbers here."""
    w0 = DATA["w"].to_numpy().copy()
    w0[np.arange(zeros) * (len(DATA) // zeros)] = 0.0
    d = DATA.assign(w0=w0)
    assert int((d["w0"] == 0).sum()) == zeros
    send_df(d, "dz")
    r_raw("suppressMessages(library(sandwich))")
    for ours, rcall in [
            (lambda: rm.lm("y ~ x1 + x2 + f", d, weights="w0"),
             "lm(y ~ x1 + x2 + f, data = dz, weights = w0)"),
            (lambda: rm.glm("yc ~ x1 + x2", d, family="poisson", weights="w0"),
             "glm(yc ~ x1 + x2, data = dz, family = poisson, weights = w0)")]:
        r_raw(f"mz <- {rcall}")
        recycles = hc != "HC0" and len(d) % (len(d) - zeros) != 0
        with warnings.catch_warnings(record=True) as got:
            warnings.simplefilter("always")
            V = rm.vcovHC(ours(), type=hc)
        messages = [str(w.message) for w in got]
        assert ("longer object length is not a multiple of shorter object length"
                in messages) == recycles
        assert_matrix(V, f'suppressWarnings(vcovHC(mz, type = "{hc}"))')


@pytest.mark.parametrize("hc", ["HC0", "HC1", "const"])
def test_vcovHC_does_not_keep_a_dense_matrix(fits, hc):
    """A fit without its dense model matrix stays without it after vcovHC (built for the
    computation only)."""
    f = rm.lm("y ~ x1 + x2 + f", DATA)
    assert f.design.X is None
    assert_matrix(rm.vcovHC(f, type=hc), f'vcovHC(m_lm, type = "{hc}")')
    assert f.design.X is None
