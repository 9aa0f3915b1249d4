"""rmodels.Boot against live R: car 3.1-1's ``Boot`` (boot 1.3-28's ``boot``/``boot.ci``) and
broom's ``tidy.boot`` with ``set.seed`` — the replicates, car's summary, every interval type
(bca, norm, basic, perc) for lm (case and residual, weighted, offset, rank-losing replicates)
and glm (binomial, Poisson, Gamma), at 1e-8."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from rbridge import r, send_df
from rmodels import Boot, Gamma, coef, glm, lm
from rmodels.errors import BootstrapWarning, DataError, FitError, RModelsWarning

RTOL = 1e-8
TYPES = ["bca", "norm", "basic", "perc"]


def make_data(n: int = 60, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=n)
    x2 = rng.uniform(0, 2, size=n)
    f = pd.Categorical(rng.choice(["a", "b", "c"], size=n, p=[0.45, 0.45, 0.1]))
    w = rng.uniform(0.5, 2.0, size=n)
    eta = 0.3 + 0.8 * x1 - 0.5 * x2
    return pd.DataFrame({
        "y": 1.0 + 2.0 * x1 - x2 + rng.normal(scale=0.7, size=n),
        "x1": x1, "x2": x2, "f": f, "w": w, "off": rng.uniform(-0.2, 0.2, size=n),
        "yb": (rng.uniform(size=n) < 1 / (1 + np.exp(-eta))).astype(float),
        "cnt": rng.poisson(np.exp(0.5 + 0.4 * x1)).astype(float),
        "pos": rng.gamma(3.0, np.exp(0.2 + 0.3 * x1) / 3.0),
        "s": rng.binomial(5, 1 / (1 + np.exp(-eta))).astype(float),
    })


DATA = make_data()
SMALL = make_data(12, seed=9)


@pytest.fixture(scope="module")
def rdata():
    send_df(DATA, "bd")
    send_df(SMALL, "bs")
    r("suppressMessages({library(car); library(boot)})")
    return DATA


def r_boot(model: str, seed: int, R: int, method: str = "case") -> dict:
    """car::Boot in R: replicates, t0, summary, and confint of every type (with its label)."""
    code = f"""local({{
      m <- {model}
      set.seed({seed}); b <- suppressWarnings(Boot(m, R = {R}, method = "{method}"))
      ci <- lapply(c("bca", "norm", "basic", "perc"), function(ty) {{
        x <- suppressWarnings(confint(b, type = ty)); list(v = unclass(x)[, 1:2],
                                                           type = attr(x, "type")) }})
      s <- summary(b)
      list(t = b$t, t0 = b$t0, ci = ci, summary = as.matrix(as.data.frame(s)),
           summary_names = colnames(s), assign_b = {{assign("b", b, envir = .GlobalEnv); 1}})
    }})"""
    return r(code)


def assert_close(got, want, rtol=RTOL):
    np.testing.assert_allclose(np.asarray(got, dtype=float), np.asarray(want, dtype=float),
                               rtol=rtol, atol=rtol * 1e-2, equal_nan=True)


def check_against_r(b, rb: dict, rtol=RTOL) -> None:
    assert_close(b.t_array, rb["t"], rtol)
    assert_close(b.t0.to_numpy(), rb["t0"], rtol)
    s = b.summary()
    assert list(s.columns) == rb["summary_names"]
    assert_close(s.to_numpy(), rb["summary"], rtol)
    for ty, ci in zip(TYPES, rb["ci"]):
        with warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            got = b.confint(type=ty)
        assert got.attrs["type"] == ci["type"][0]
        assert list(got.columns) == ["2.5 %", "97.5 %"]
        assert_close(got.to_numpy(), np.asarray(ci["v"]).reshape(got.shape), rtol)


LM_CASES = [
    ("y ~ x1 + x2", "lm(y ~ x1 + x2, data = bd)", {}),
    ("y ~ x1 * x2 + f", "lm(y ~ x1 * x2 + f, data = bd)", {}),
    ("y ~ x1 + x2", "lm(y ~ x1 + x2, data = bd, weights = w)", {"weights": "w"}),
    ("y ~ x1 + x2 + offset(off)", "lm(y ~ x1 + x2 + offset(off), data = bd)", {}),
]


@pytest.mark.r
@pytest.mark.parametrize("seed", [1, 2024])
@pytest.mark.parametrize("method", ["case", "residual"])
@pytest.mark.parametrize("case", range(len(LM_CASES)))
def test_lm_boot_matches_car(rdata, case, method, seed):
    formula, rmodel, kw = LM_CASES[case]
    fit = lm(formula, DATA, **kw)
    b = Boot(fit, R=199, method=method, seed=seed)
    check_against_r(b, r_boot(rmodel, seed, 199, method))


GLM_CASES = [
    ("yb ~ x1 + x2", "binomial", "glm(yb ~ x1 + x2, binomial, data = bd)", {}),
    ("cnt ~ x1 + f", "poisson", "glm(cnt ~ x1 + f, poisson, data = bd)", {}),
    ("pos ~ x1", "Gamma", "glm(pos ~ x1, Gamma(link = 'log'), data = bd)", {}),
    ("cnt ~ x1 + offset(off)", "poisson",
     "glm(cnt ~ x1 + offset(off), poisson, data = bd, weights = w)", {"weights": "w"}),
    ("cbind(s, 5 - s) ~ x1 + x2", "binomial", "glm(cbind(s, 5 - s) ~ x1 + x2, binomial, data = bd)",
     {}),
]


@pytest.mark.r
@pytest.mark.parametrize("seed", [7, 31])
@pytest.mark.parametrize("case", range(len(GLM_CASES)))
def test_glm_boot_matches_car(rdata, case, seed):
    formula, family, rmodel, kw = GLM_CASES[case]
    fam = Gamma(link="log") if family == "Gamma" else family
    fit = glm(formula, DATA, family=fam, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RModelsWarning)
        b = Boot(fit, R=150, seed=seed)
    check_against_r(b, r_boot(rmodel, seed, 150))


@pytest.mark.r
def test_rank_losing_replicates_are_na(rdata):
    """On 12 rows the rare level of f is missing from some resamples: car's NA rows."""
    fit = lm("y ~ x1 + f", SMALL)
    b = Boot(fit, R=60, seed=4)
    rb = r_boot("lm(y ~ x1 + f, data = bs)", 4, 60)
    lost = np.isnan(rb["t"]).all(axis=1)
    assert lost.any()
    np.testing.assert_array_equal(np.isnan(b.t_array).all(axis=1), lost)
    check_against_r(b, rb)


@pytest.mark.r
def test_bca_falls_back_to_percentile(rdata):
    """n > R: the regression for the influence values has NA coefficients (R errors), and car
    falls back to percentile intervals with its warning."""
    fit = lm("y ~ x1", DATA)
    b = Boot(fit, R=40, seed=5)
    with pytest.warns(BootstrapWarning, match="BCa method fails"):
        got = b.confint()
    assert got.attrs["type"] == "percent"
    want = r("local({set.seed(5); b <- Boot(lm(y ~ x1, data = bd), R = 40); "
             "suppressWarnings(unclass(confint(b))[, 1:2])})")
    assert_close(got.to_numpy(), want)


@pytest.mark.r
def test_levels_and_parm(rdata):
    fit = lm("y ~ x1 + x2", DATA)
    b = Boot(fit, R=199, seed=12)
    got = b.confint(parm=["x2", "x1"], level=[0.9, 0.5], type="perc")
    want = r("local({set.seed(12); b <- Boot(lm(y ~ x1 + x2, data = bd), R = 199); "
             "x <- confint(b, parm = c('x2', 'x1'), level = c(0.9, 0.5), type = 'perc'); "
             "list(v = unclass(x)[, 1:4], names = colnames(x))})")
    assert list(got.columns) == want["names"]
    assert list(got.index) == ["x2", "x1"]
    assert_close(got.to_numpy(), want["v"])


@pytest.mark.r
@pytest.mark.parametrize("method", ["perc", "bca", "basic"])
def test_tidy_matches_broom(rdata, method):
    fit = lm("y ~ x1 * x2", DATA)
    b = Boot(fit, R=199, seed=21)
    got = b.tidy(conf_int=True, conf_method=method)
    want = r(f"local({{set.seed(21); b <- Boot(lm(y ~ x1 * x2, data = bd), R = 199); "
             f"as.data.frame(broom::tidy(b, conf.int = TRUE, conf.method = '{method}'))}})")
    assert list(got.columns) == list(want.columns)
    assert list(got["term"]) == list(want["term"])
    assert_close(got.iloc[:, 1:].to_numpy(), want.iloc[:, 1:].to_numpy())


@pytest.mark.r
def test_tidy_norm_is_boot_ci_norm(rdata):
    """broom 1.0 mispairs the "norm" intervals; ours are boot.ci's, one per coefficient."""
    fit = lm("y ~ x1 * x2", DATA)
    b = Boot(fit, R=199, seed=21)
    got = b.tidy(conf_int=True, conf_method="norm")
    want = r("local({set.seed(21); b <- Boot(lm(y ~ x1 * x2, data = bd), R = 199); "
             "t(sapply(1:4, function(i) boot.ci(b, type = 'norm', index = i)$normal[2:3]))})")
    assert_close(got[["conf.low", "conf.high"]].to_numpy(), want)
    plain = b.tidy()
    assert list(plain.columns) == ["term", "statistic", "bias", "std.error"]


def test_threads_do_not_change_results():
    fit = glm("cnt ~ x1 + f", DATA, family="poisson")
    a = Boot(fit, R=120, seed=9, threads=1)
    b = Boot(fit, R=120, seed=9, threads=4)
    np.testing.assert_array_equal(a.t_array, b.t_array)
    fit = lm("y ~ x1 + f", DATA)
    np.testing.assert_array_equal(Boot(fit, R=80, seed=2, threads=1).t_array,
                                  Boot(fit, R=80, seed=2, threads=3).t_array)


def test_case_replicate_equals_single_refit():
    fit = lm("y ~ x1 + x2 + f", DATA, weights="w")
    b = Boot(fit, R=5, seed=13)
    for k in range(5):
        rows = DATA.iloc[b.indices[k]].reset_index(drop=True)
        one = lm("y ~ x1 + x2 + f", rows, weights="w")
        np.testing.assert_allclose(b.t_array[k], one.coef().to_numpy(), rtol=1e-10)


def test_bad_input():
    fit = lm("y ~ x1", DATA)
    with pytest.raises(DataError, match="at least 2"):
        Boot(fit, R=1)
    with pytest.raises(DataError, match="whole number"):
        Boot(fit, R=10.5)  # type: ignore[arg-type]
    with pytest.raises(DataError, match="should be one of"):
        Boot(fit, R=10, method="wild")
    with pytest.raises(FitError, match="Residual bootstrap is not implemented"):
        Boot(glm("yb ~ x1", DATA, family="binomial"), R=10, method="residual")
    with pytest.raises(FitError, match="f must return a numeric vector"):
        Boot(fit, f=len, R=10)
    assert Boot(fit, f=coef, R=3, seed=1).R == 3
    with_na = DATA.assign(x1=DATA["x1"].where(DATA.index != 3))
    with pytest.raises(DataError, match="does not allow\n  missing values"):
        Boot(lm("y ~ x1", with_na), R=10)
    with pytest.raises(FitError, match="lm or glm"):
        Boot("not a fit", R=10)
    with pytest.raises(FitError, match="should be one of"):
        Boot(fit, R=10, seed=1).confint(type="student")


@pytest.mark.r
@pytest.mark.parametrize("seed,formula", [(1, "y ~ x1 + x2"), (3, "y ~ x1 + f"), (8, "y ~ x2")])
def test_printed_summary(rdata, seed, formula):
    data, rname = (SMALL, "bs") if "f" in formula else (DATA, "bd")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BootstrapWarning)
        b = Boot(lm(formula, data), R=40, seed=seed)
    want = r(f"local({{set.seed({seed}); b <- Boot(lm({formula}, data = {rname}), R = 40); "
             "paste0(paste(capture.output(print(summary(b))), collapse = '\\n'), '\\n')})")
    assert str(b.summary()) == want[0]


def test_generics_forward_to_the_bootstrap():
    import rmodels

    b = Boot(lm("y ~ x1 + x2", DATA), R=60, seed=6)
    pd.testing.assert_frame_equal(rmodels.confint(b, type="perc"), b.confint(type="perc"))
    pd.testing.assert_frame_equal(rmodels.tidy(b, conf_int=True), b.tidy(conf_int=True))
    assert str(rmodels.summary(b)) == str(b.summary())
    assert b.t.shape == (60, 3) and list(b.t.columns) == ["(Intercept)", "x1", "x2"]
    # the module's stream: set_seed then Boot without a seed draws the same indices
    rmodels.rrandom.set_seed(6)
    np.testing.assert_array_equal(Boot(lm("y ~ x1 + x2", DATA), R=60).t_array, b.t_array)


@pytest.mark.r
@pytest.mark.parametrize("ty", TYPES)
def test_printed_confint(rdata, ty):
    b = Boot(lm("y ~ x1 * x2", DATA), R=199, seed=17)
    want = r(f"local({{set.seed(17); b <- Boot(lm(y ~ x1 * x2, data = bd), R = 199); "
             f"paste0(paste(capture.output(print(confint(b, type = '{ty}'))), "
             "collapse = '\\n'), '\\n')})")
    assert str(b.confint(type=ty)) == want[0]


CUSTOM_F = [
    ("lm(y ~ x1 + f, data = bd, weights = w)", lambda: lm("y ~ x1 + f", DATA, weights="w"),
     "function(m) c(coef(m), sigma = sigma(m))",
     lambda m: pd.concat([m.coef(), pd.Series({"sigma": m.sigma()})]), 5),
    ("glm(cnt ~ x1 + f, data = bd, family = poisson)",
     lambda: glm("cnt ~ x1 + f", DATA, family="poisson"),
     "function(m) deviance(m)", lambda m: np.array([m.deviance()]), 6),
    ("lm(y ~ x1 + f, data = bs)", lambda: lm("y ~ x1 + f", SMALL),
     "function(m) unname(coef(m)[2:3])", lambda m: m.coef().to_numpy()[1:3], 7),
]


@pytest.mark.parametrize("rmodel,ours,rf,f,seed", CUSTOM_F)
def test_custom_statistic(rdata, rmodel, ours, rf, f, seed):
    """car's f: any statistic of the refitted model (columns named as car names them; a
    replicate that loses rank is NA)."""
    want = r(f"""local({{
      set.seed({seed}); b <- suppressWarnings(Boot({rmodel}, f = {rf}, R = 40))
      list(t = b$t, t0 = b$t0, names = colnames(b$t),
           summary = as.matrix(as.data.frame(summary(b))))
    }})""")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RModelsWarning)
        b = Boot(ours(), f=f, R=40, seed=seed)
    assert list(b.t0.index) == list(want["names"])
    assert_close(b.t_array, want["t"])
    assert_close(b.t0.to_numpy(), want["t0"])
    assert_close(b.summary().to_numpy(), want["summary"])


def test_custom_statistic_errors():
    fit = lm("y ~ x1", DATA)
    with pytest.raises(FitError, match="residual"):
        Boot(fit, f=lambda m: m.coef(), R=5, method="residual")
    with pytest.raises(FitError, match="1-D"):
        Boot(fit, f=lambda m: np.ones((2, 2)), R=5)


@pytest.mark.r
def test_custom_statistic_with_an_unnamed_value_prints_as_car(rdata):
    """c(coef(m), sigma(m)) in R names the columns "(Intercept)", "x1", "": a Series with an
    empty label here; summary printed as car prints it."""
    b = Boot(lm("y ~ x1", DATA), f=lambda m: pd.concat([m.coef(), pd.Series({"": m.sigma()})]),
             R=30, seed=4)
    want = r("local({set.seed(4); b <- Boot(lm(y ~ x1, data = bd), "
             "f = function(m) c(coef(m), sigma(m)), R = 30); "
             "list(names = colnames(b$t), "
             "text = paste0(paste(capture.output(print(summary(b))), collapse = '\\n'), '\\n'))})")
    assert list(b.t0.index) == list(want["names"])
    assert str(b.summary()) == want["text"][0]


@pytest.mark.r
def test_data_dependent_transforms_keep_the_original_basis(rdata):
    """R evaluates poly() and scale() on the whole data before update()'s subset, so car's
    case resamples are rows of the original model matrix (compiled path and custom f)."""
    formula = "y ~ poly(x1, 2) + scale(x2)"
    rb = r_boot(f"lm({formula}, data = bd)", seed=12, R=60)
    check_against_r(Boot(lm(formula, DATA), R=60, seed=12), rb)
    want = r("local({set.seed(13); b <- Boot(glm(cnt ~ poly(x1, 2), data = bd, "
             "family = poisson), f = function(m) coef(m)[2:3], R = 20); b$t})")
    b = Boot(glm("cnt ~ poly(x1, 2)", DATA, family="poisson"),
             f=lambda m: m.coef().iloc[1:3], R=20, seed=13)
    assert_close(b.t_array, want)
