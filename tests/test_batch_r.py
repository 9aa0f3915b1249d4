"""Grouped fits (``lm(..., by=)``, ``glm(..., by=)``) against R's
``lapply(split(d, d[by], lex.order = TRUE), function(s) lm(f, s))``.

Every group is compared with R's fit of that group's rows: coefficient names (R drops a group's
unused factor levels, so names differ between groups), estimates, standard errors, sigma,
deviance and residual df; groups whose fit fails in R must fail with R's message. The synthetic
data set has 200 groups, among them a group without the baseline level of a factor, a group
with a single level, a group with two rows and a group with no complete row. R's results are
computed once per case (module-scoped cache).
"""

from __future__ import annotations

import warnings
from unittest import mock

import numpy as np
import pandas as pd
import pytest
import rmodels
from rbridge import r, r_dataset, send_df
from rmodels import batch
from rmodels.batch import FailedFit, FitList
from rmodels.batch import designs as batch_designs
from rmodels.batch.results import GroupRefit

pytestmark = pytest.mark.r

RTOL = 1e-8


# ---------------------------------------------------------------------------------------------
# Data


def synthetic(n_groups: int = 200, seed: int = 7) -> pd.DataFrame:
    """200 groups of 12-30 rows; y ~ x1 + x2 + f with a 4-level factor, a 0/1 and a count
    response; special groups: g007 has no level "a" of f (the baseline), g013 a single level,
    g021 two rows, g033 no complete row, g050 missing x1 values, g060 x2 = 2 x1 (aliased)."""
    rng = np.random.default_rng(seed)
    parts = []
    for k in range(n_groups):
        m = int(rng.integers(12, 31))
        f = rng.choice(list("abcd"), m)
        f[:4] = list("abcd")
        if k == 7:
            f = rng.choice(list("bcd"), m)
            f[:3] = list("bcd")
        if k == 13:
            f[:] = "c"
        if k == 21:
            m = 2
            f = np.array(["a", "b"])
        x1 = np.round(rng.normal(size=m), 3)
        x2 = np.round(rng.uniform(0, 2, size=m), 3)
        eta = 0.3 * x1 - 0.5 * x2 + (f == "b") * 0.4 + (f == "d") * -0.3
        y = np.round(1 + eta + rng.normal(scale=0.5, size=m), 4)
        yb = (rng.uniform(size=m) < 1 / (1 + np.exp(-eta))).astype(float)
        yc = rng.poisson(np.exp(0.5 + 0.5 * eta)).astype(float)
        if k == 33:
            y[:] = np.nan
            yb[:] = np.nan
            yc[:] = np.nan
        if k == 50:
            x1[[1, 4]] = np.nan
        if k == 60:  # x2 a multiple of x1: aliased
            x2 = np.round(2 * x1, 3)
        parts.append(pd.DataFrame({"g": f"g{k:03d}", "x1": x1, "x2": x2, "f": f, "y": y,
                                   "yb": yb, "yc": yc}))
    d = pd.concat(parts, ignore_index=True)
    d["f"] = pd.Categorical(d["f"], categories=list("abcd"))
    return d


@pytest.fixture(scope="module")
def datasets() -> dict:
    out = {"mtcars": r_dataset("mtcars"), "iris": r_dataset("iris"),
           "warpbreaks": r_dataset("warpbreaks"), "synth": synthetic()}
    for name, df in out.items():
        send_df(df, f"bd_{name}")
    r("""
    .bd_ref <- function(d, by, fit) {
      sp <- split(d, d[by], lex.order = TRUE)
      out <- lapply(sp, function(s) {
        m <- tryCatch(suppressWarnings(fit(s)), error = function(e) e)
        if (inherits(m, "error")) return(list(ok = FALSE, msg = conditionMessage(m)))
        sm <- summary(m)
        cf <- coef(m)
        list(ok = TRUE, names = names(cf), coef = unname(cf),
             se_names = rownames(sm$coefficients), se = unname(sm$coefficients[, 2]),
             sigma = if (inherits(m, "glm")) sigma(m) else sm$sigma,
             deviance = deviance(m), df = df.residual(m),
             null = if (inherits(m, "glm")) m$null.deviance else NA_real_)
      })
      list(keys = names(sp), fits = unname(out))
    }
    """)
    return out


_CACHE: dict = {}


def r_groups(data_name: str, by: list, call: str) -> dict:
    """R's per-group results of ``call`` (an R expression of the group's data ``s``)."""
    key = (data_name, tuple(by), call)
    if key not in _CACHE:
        byv = "c(" + ", ".join(f'"{b}"' for b in by) + ")"
        _CACHE[key] = r(f".bd_ref(bd_{data_name}, {byv}, function(s) {call})")
    return _CACHE[key]


def r_key(key: tuple) -> str:
    def one(v):
        if isinstance(v, (bool, np.bool_)):
            return "TRUE" if v else "FALSE"
        if isinstance(v, (float, np.floating)) and float(v).is_integer():
            return str(int(v))
        return str(v)

    return ".".join(one(v) for v in key)


# Known differences of the single-fit glm core (not of the grouping) for a group with no rows:
# R's family functions fail before glm.fit's own check (binomial, Poisson), or glm.fit reaches
# its end without a fit object (Gamma: R's own bug).
KNOWN_MESSAGES = {"Argument mu must be a nonempty numeric vector":
                  "no observations informative at the first iteration",
                  "object 'fit' not found": "no observations informative at the first iteration"}


def compare(fits: FitList, ref: dict, glm: bool = False) -> None:
    assert [r_key(k) for k in fits.keys] == list(ref["keys"])
    n_ok = 0
    for fit, rf in zip(fits, ref["fits"]):
        if not rf["ok"][0]:
            assert isinstance(fit, FailedFit), (fit.group, rf["msg"])
            assert fit.status == KNOWN_MESSAGES.get(rf["msg"][0], rf["msg"][0])
            continue
        assert not isinstance(fit, FailedFit), (fit.group, fit.status)
        n_ok += 1
        cf = fit.coef()
        assert list(cf.index) == list(rf["names"]), fit.group
        # separated binomial fits stop where the deviance criterion is met on a flat
        # likelihood: compared more loosely (as the glm tests do)
        sep = glm and (not fit.converged or np.nanmax(np.abs(cf.to_numpy()), initial=0) > 10)
        rtol, se_rtol = (1e-5, 1e-3) if sep else (RTOL, 1e-7)
        np.testing.assert_allclose(cf.to_numpy(), rf["coef"], rtol=rtol, atol=1e-12)
        t = fit.tidy()
        t = t[~t["estimate"].isna()]
        assert list(t["term"]) == list(rf["se_names"]) or \
            sorted(t["term"]) == sorted(rf["se_names"])
        se = t.set_index("term")["std.error"].reindex(rf["se_names"]).to_numpy()
        np.testing.assert_allclose(se, rf["se"], rtol=se_rtol, atol=1e-12)
        if fit.df_residual() > 0:  # GLM.sigma() divides by zero at df 0 (R: Inf/NaN)
            np.testing.assert_allclose(fit.sigma(), rf["sigma"][0], rtol=rtol, atol=1e-6 * sep)
        np.testing.assert_allclose(fit.deviance(), rf["deviance"][0], rtol=rtol,
                                   atol=1e-12 + 1e-6 * sep)
        assert fit.df_residual() == int(rf["df"][0])
        if glm:
            np.testing.assert_allclose(fit.null_deviance, rf["null"][0], rtol=RTOL)
    assert n_ok > 0


def quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


# ---------------------------------------------------------------------------------------------
# lm


LM_CASES = [
    ("mtcars", ["cyl"], "mpg ~ wt + hp"),
    ("mtcars", ["cyl"], "mpg ~ wt + factor(gear)"),  # cyl 8 has no gear 4
    ("mtcars", ["am", "vs"], "mpg ~ wt"),
    ("iris", ["Species"], "Sepal.Length ~ Sepal.Width + Petal.Length"),
    ("iris", ["Species"], "Sepal.Length ~ poly(Sepal.Width, 2)"),  # per-group poly
    ("warpbreaks", ["tension"], "breaks ~ wool"),
    ("warpbreaks", ["wool", "tension"], "log(breaks) ~ 1"),
    ("synth", ["g"], "y ~ x1 + x2 + f"),
    ("synth", ["g"], "y ~ x1 + scale(x2) + f"),
]


@pytest.mark.parametrize("data_name, by, formula", LM_CASES)
def test_lm_by_matches_r(datasets, data_name, by, formula):
    fits = quiet(batch.lm, formula, datasets[data_name], by=by)
    ref = r_groups(data_name, by, f"lm({formula}, data = s)")
    compare(fits, ref)


def test_lm_by_weights_offset_matches_r(datasets):
    d = datasets["synth"]
    fits = quiet(batch.lm, "y ~ x1 + f", d, weights="x2", offset="x1", by="g")
    ref = r_groups("synth", ["g"], "lm(y ~ x1 + f, data = s, weights = x2, offset = x1)")
    compare(fits, ref)


def test_synthetic_special_groups(datasets):
    fits = quiet(batch.lm, "y ~ x1 + x2 + f", datasets["synth"], by="g")
    assert len(fits) == 200
    g7 = fits.get("g007")
    assert list(g7.coef().index) == ["(Intercept)", "x1", "x2", "fc", "fd"]
    assert fits.get("g013").status == \
        "contrasts can be applied only to factors with 2 or more levels"
    # no complete row: the factor has no level left (R's contrasts error); without a factor
    # lm.fit's "0 (non-NA) cases"
    assert fits.get("g033").status == fits.get("g013").status
    assert quiet(batch.lm, "y ~ x1", datasets["synth"], by="g").get("g033").status == \
        "0 (non-NA) cases"
    g21 = fits.get("g021")
    assert g21.rank == 2 and np.isnan(g21.coef().iloc[2:]).all()
    assert g21.nobs() == 2 and fits.get("g050").nobs() == len(
        datasets["synth"].query("g == 'g050'")) - 2


# ---------------------------------------------------------------------------------------------
# glm


GLM_CASES = [
    ("mtcars", ["cyl"], "carb ~ wt", "poisson"),
    ("mtcars", ["am"], "vs ~ mpg", "binomial"),
    ("iris", ["Species"], "I(Sepal.Width > 3) ~ Sepal.Length", "binomial"),
    ("iris", ["Species"], "round(10 * Petal.Width) ~ Sepal.Length", "poisson"),
    ("warpbreaks", ["tension"], "breaks ~ wool", "poisson"),
    ("warpbreaks", ["tension"], "I(breaks > 25) ~ wool", "binomial"),
    ("synth", ["g"], "yb ~ x1 + x2", "binomial"),
    ("synth", ["g"], "yb ~ x1 + f", "binomial"),
    ("synth", ["g"], "yc ~ x1 + x2 + f", "poisson"),
    ("synth", ["g"], "y ~ x1 + f", "gaussian"),
    ("synth", ["g"], "I(yc + 1) ~ x1 + x2", "Gamma"),
]


@pytest.mark.parametrize("data_name, by, formula, family", GLM_CASES)
def test_glm_by_matches_r(datasets, data_name, by, formula, family):
    fits = quiet(batch.glm, formula, datasets[data_name], family=family, by=by)
    ref = r_groups(data_name, by, f"glm({formula}, family = {family}, data = s)")
    compare(fits, ref, glm=True)


def test_glm_by_offset_matches_r(datasets):
    fits = quiet(batch.glm, "yc ~ x1 + f + offset(x2)", datasets["synth"], family="poisson",
                 by="g")
    ref = r_groups("synth", ["g"], "glm(yc ~ x1 + f + offset(x2), family = poisson, data = s)")
    compare(fits, ref, glm=True)


# ---------------------------------------------------------------------------------------------
# Threads, routes and the stacked tables


@pytest.mark.parametrize("which", ["lm", "glm"])
def test_results_identical_for_any_thread_count(datasets, which):
    d = datasets["synth"]
    if which == "lm":
        a = quiet(batch.lm, "y ~ x1 + x2 + f", d, by="g", threads=1)
        b = quiet(batch.lm, "y ~ x1 + x2 + f", d, by="g", threads=2)
    else:
        a = quiet(batch.glm, "yb ~ x1 + x2 + f", d, family="binomial", by="g", threads=1)
        b = quiet(batch.glm, "yb ~ x1 + x2 + f", d, family="binomial", by="g", threads=2)
    ca, cb = a.coef(), b.coef()
    assert ca.shape == cb.shape
    assert np.array_equal(ca.to_numpy(), cb.to_numpy(), equal_nan=True)
    ta, tb = a.tidy(), b.tidy()
    pd.testing.assert_frame_equal(ta, tb, check_exact=True)


def test_rows_of_whole_design_equal_own_design(datasets, monkeypatch):
    """The fast route (rows of the whole-data design) gives what the group's own design gives."""
    d = datasets["synth"]
    fast = quiet(batch.lm, "y ~ x1 + x2 + f", d, by="g")
    monkeypatch.setattr(batch_designs, "POINTWISE", frozenset())
    own = quiet(batch.lm, "y ~ x1 + x2 + f", d, by="g")
    pd.testing.assert_frame_equal(fast.coef(), own.coef(), check_exact=True)
    pd.testing.assert_series_equal(fast.status, own.status)
    for a, b in zip(fast, own):
        if not isinstance(a, FailedFit):
            assert a.row_names == b.row_names
            pd.testing.assert_frame_equal(a.model_frame(), b.model_frame())


def test_tidy_glance_coef_layout(datasets):
    d = datasets["synth"]
    fits = quiet(batch.lm, "y ~ x1 + x2 + f", d, by="g")
    t = rmodels.tidy(fits)
    assert list(t.columns[:2]) == ["g", "term"] and t.columns[-1] == "status"
    bad = t[t["g"] == "g013"]
    assert len(bad) == 1 and bad["estimate"].isna().all()
    assert set(t["status"]) == {"ok", "contrasts can be applied only to factors with 2 or more "
                                "levels"}
    # the stacked table (computed for all groups at once) is each group's tidy(), exactly
    for f in fits:
        if isinstance(f, FailedFit):
            continue
        got = t[t["g"] == f.group["g"]].drop(columns=["g", "status"]).reset_index(drop=True)
        pd.testing.assert_frame_equal(got, f.tidy(), check_exact=True)
    wfits = quiet(batch.lm, "y ~ x1 + f", d, weights="x2", by="g")
    wt = wfits.tidy()
    g21 = wfits.get("g021")
    pd.testing.assert_frame_equal(
        wt[wt["g"] == "g021"].drop(columns=["g", "status"]).reset_index(drop=True),
        g21.tidy(), check_exact=True)
    for family, y in (("binomial", "yb"), ("poisson", "yc"), ("gaussian", "y")):
        gfits = quiet(batch.glm, f"{y} ~ x1 + f", d, family=family, by="g")
        gt = gfits.tidy()
        for f in gfits:
            if not isinstance(f, FailedFit):
                # glm groups take the small-problem IRLS (normal equations): 1e-10 of the
                # single fit's QR steps
                got = gt[gt["g"] == f.group["g"]].drop(columns=["g", "status"])
                pd.testing.assert_frame_equal(got.reset_index(drop=True), f.tidy(),
                                              check_exact=False, rtol=1e-10, atol=1e-300)
    gl = rmodels.glance(fits)
    assert len(gl) == 200 and gl.columns[0] == "g" and gl.columns[-1] == "status"
    for k, f in enumerate(fits):
        if not isinstance(f, FailedFit):
            one = f.glance()
            got = gl.iloc[[k]].drop(columns=["g", "status"]).reset_index(drop=True)
            np.testing.assert_array_equal(got.to_numpy(float), one.to_numpy(float))
    ok_only = quiet(batch.lm, "y ~ x1 + x2", d[~d["g"].isin(["g033"])], by="g")
    g_ok = ok_only.glance().drop(columns=["g", "status"])
    per = pd.concat([f.glance() for f in ok_only], ignore_index=True)
    pd.testing.assert_frame_equal(g_ok, per, check_exact=True)
    cf = fits.coef()
    assert cf.index.name == "g" and list(cf.columns[:3]) == ["(Intercept)", "x1", "x2"]
    assert np.isnan(cf.loc["g007", "fb"]) and np.isnan(cf.loc["g013"]).all()


def test_by_none_is_the_single_fit(datasets):
    mt = datasets["mtcars"]
    a = batch.lm("mpg ~ wt", mt)
    b = rmodels.lm("mpg ~ wt", mt)
    assert type(a) is type(b)
    pd.testing.assert_series_equal(a.coef(), b.coef(), check_exact=True)


def test_group_fit_equals_single_fit_on_group_rows(datasets):
    """A group's fit object behaves as lm() on the group's rows: same numbers, row names,
    summary text."""
    mt = datasets["mtcars"]
    fits = batch.lm("mpg ~ wt + hp", mt, by="cyl")
    single = rmodels.lm("mpg ~ wt + hp", mt[mt["cyl"] == 6])
    six = fits.get(6.0)
    pd.testing.assert_series_equal(six.coef(), single.coef(), rtol=1e-14)
    assert six.row_names == single.row_names
    assert str(six.summary()) == str(single.summary())
    gfits = quiet(batch.glm, "vs ~ wt", mt, family="binomial", by="cyl")
    gsingle = rmodels.glm("vs ~ wt", mt[mt["cyl"] == 4], family="binomial")
    four = gfits.get(4.0)
    pd.testing.assert_series_equal(four.coef(), gsingle.coef(), rtol=1e-14)
    pd.testing.assert_frame_equal(four.data, mt[mt["cyl"] == 4])
    assert str(four.summary()) == str(gsingle.summary())


def test_multiple_by_order_and_empty_groups(datasets):
    wb = datasets["warpbreaks"]
    fits = batch.lm("breaks ~ 1", wb, by=["wool", "tension"])
    assert fits.keys == [(w, t) for w in ["A", "B"] for t in ["L", "M", "H"]]
    sub = wb[~((wb["wool"] == "A") & (wb["tension"] == "M"))]
    fits = batch.lm("breaks ~ 1", sub, by=["wool", "tension"])
    assert fits.get("A", "M").status == "0 (non-NA) cases"
    fits = batch.lm("breaks ~ 1", sub, by=["wool", "tension"], drop=True)
    assert len(fits) == 5


# ---------------------------------------------------------------------------------------------
# The columnar results: the arrays behind tidy/glance/coef against R and the single fits


def r_tables_match(fits: FitList, ref: dict, glm: bool) -> None:
    """The stacked tidy() and glance() (computed from the groups' arrays, no fit object built)
    against R's split/lapply fits: estimates, SEs, sigma / deviance, residual df; failed
    groups carry R's message as status."""
    with mock.patch.object(GroupRefit, "fit", side_effect=AssertionError("a group was refit")):
        t = fits.tidy()  # from the groups' arrays: no group is fitted again
        gl = fits.glance()
    status = fits.status
    if len(fits.by) == 1:
        assert list(status.index) == [k[0] for k in fits.keys]
    else:
        assert list(status.index) == fits.keys
    for k, rf in enumerate(ref["fits"]):
        key = fits.keys[k]
        rows = t[np.logical_and.reduce([t[b] == v for b, v in zip(fits.by, key)])]
        if not rf["ok"][0]:
            assert status.iloc[k] == KNOWN_MESSAGES.get(rf["msg"][0], rf["msg"][0])
            assert len(rows) == 1 and rows["estimate"].isna().all()
            continue
        assert status.iloc[k] == "ok"
        rows = rows[~rows["estimate"].isna()].set_index("term")
        assert sorted(rows.index) == sorted(rf["se_names"])
        est = rows["estimate"].reindex(rf["se_names"]).to_numpy()
        r_est = pd.Series(np.asarray(rf["coef"]), index=list(rf["names"]))
        sep = glm and np.nanmax(np.abs(est), initial=0) > 10
        rtol, se_rtol = (1e-5, 1e-3) if sep else (RTOL, RTOL)
        np.testing.assert_allclose(est, r_est.reindex(rf["se_names"]).to_numpy(), rtol=rtol,
                                   atol=1e-12)
        np.testing.assert_allclose(rows["std.error"].reindex(rf["se_names"]).to_numpy(),
                                   rf["se"], rtol=se_rtol, atol=1e-12)
        g = gl.iloc[k]
        np.testing.assert_allclose(g["deviance"], rf["deviance"][0], rtol=rtol,
                                   atol=1e-12 + 1e-6 * sep)
        assert int(g["df.residual"]) == int(rf["df"][0])
        if glm:
            np.testing.assert_allclose(g["null.deviance"], rf["null"][0], rtol=RTOL)
        elif rf["df"][0] > 0:
            np.testing.assert_allclose(g["sigma"], rf["sigma"][0], rtol=RTOL)


@pytest.mark.parametrize("data_name, by, formula", [c for c in LM_CASES if c[0] != "iris"])
def test_lm_by_columns_match_r(datasets, data_name, by, formula):
    fits = quiet(batch.lm, formula, datasets[data_name], by=by)
    r_tables_match(fits, r_groups(data_name, by, f"lm({formula}, data = s)"), glm=False)


@pytest.mark.parametrize("data_name, by, formula, family",
                         [c for c in GLM_CASES if c[0] == "synth"])
def test_glm_by_columns_match_r(datasets, data_name, by, formula, family):
    fits = quiet(batch.glm, formula, datasets[data_name], family=family, by=by)
    ref = r_groups(data_name, by, f"glm({formula}, family = {family}, data = s)")
    r_tables_match(fits, ref, glm=True)


def columns_equal_single_fits(fits: FitList, tol: float = 1e-10) -> int:
    """Each group's rows of the stacked tidy(), glance() and coef() equal the single fit of
    that group's rows (``fits[k]``, built on demand by lm()/glm() on the group's data)."""
    t, gl, cf = fits.tidy(), fits.glance(), fits.coef()
    n_ok = 0
    for k in range(len(fits)):
        f = fits[k]
        if isinstance(f, FailedFit):
            assert fits.status.iloc[k] == f.status != "ok"
            continue
        n_ok += 1
        key = fits.keys[k]
        rows = t[np.logical_and.reduce([t[b] == v for b, v in zip(fits.by, key)])]
        one = f.tidy()
        assert list(rows["term"]) == list(one["term"])
        np.testing.assert_allclose(rows[one.columns[1:]].to_numpy(float),
                                   one.iloc[:, 1:].to_numpy(float), rtol=tol, atol=1e-300)
        np.testing.assert_allclose(
            gl.iloc[[k]].drop(columns=[*fits.by, "status"]).to_numpy(float),
            f.glance().to_numpy(float), rtol=tol, atol=1e-300)
        c1 = f.coef()
        np.testing.assert_allclose(cf.iloc[k][c1.index].to_numpy(float), c1.to_numpy(float),
                                   rtol=tol, atol=1e-300)
        assert cf.iloc[k].drop(c1.index).isna().all()
    return n_ok


@pytest.mark.parametrize("formula, kwargs", [
    ("y ~ x1 + x2 + f", {}),
    ("y ~ x1 + scale(x2) + f", {}),
    ("y ~ x1 + f", {"weights": "x2", "offset": "x1"}),
])
def test_lm_columns_equal_single_fits(datasets, formula, kwargs):
    fits = quiet(batch.lm, formula, datasets["synth"], by="g", **kwargs)
    assert columns_equal_single_fits(fits) > 150
    ci = quiet(fits.tidy, conf_int=True, conf_level=0.9)
    for k in (0, 7, 21, 60):
        if isinstance(fits[k], FailedFit):  # g060's weights are negative in one case
            assert fits.status.iloc[k] == "missing or negative weights not allowed"
            continue
        one = quiet(fits[k].tidy, conf_int=True, conf_level=0.9)
        got = ci[ci["g"] == fits.keys[k][0]]
        np.testing.assert_allclose(got[["conf.low", "conf.high"]].to_numpy(float),
                                   one[["conf.low", "conf.high"]].to_numpy(float), rtol=1e-10)
    if "x2 +" in formula:  # aliased in that group only
        assert np.isnan(fits.coef().loc["g060", "x2"]) and fits.coef()["x2"].notna().sum() > 150


@pytest.mark.parametrize("formula, family", [
    ("yb ~ x1 + f", "binomial"), ("yc ~ x1 + x2 + f", "poisson"), ("y ~ x1 + f", "gaussian"),
    ("I(yc + 1) ~ x1 + x2", "Gamma"), ("yc ~ x1", "quasipoisson"),
])
def test_glm_columns_equal_single_fits(datasets, formula, family):
    fits = quiet(batch.glm, formula, datasets["synth"], family=family, by="g")
    assert columns_equal_single_fits(fits) > 150


def test_character_column_groups_equal_single_fits(datasets):
    """A string column in the formula: groups missing one of its values (or holding an NA in
    it) get their own design, the others the whole-data rows; each equals its single fit."""
    d = datasets["synth"].copy()
    s = np.array(["u", "v", "w"], dtype=object)[d["f"].cat.codes.to_numpy() % 3]
    g = d["g"].astype(str).to_numpy()
    s[(g == g[0]) & (s == "w")] = "v"  # the first group lacks "w"
    s[np.flatnonzero(g == g[-1])[0]] = None  # an NA in the last group
    d["s"] = s
    fits = quiet(batch.lm, "y ~ x1 + s", d, by="g")
    assert columns_equal_single_fits(fits) > 150
    assert "sw" not in fits[0].coef().index and "sw" in fits[1].coef().index


@pytest.mark.parametrize("which", ["lm", "glm"])
def test_columns_bit_identical_for_threads_1_2_8(datasets, which):
    d = datasets["synth"]
    runs = []
    for th in (1, 2, 8):
        if which == "lm":
            f = quiet(batch.lm, "y ~ x1 + x2 + f", d, weights="x2", by="g", threads=th)
        else:
            f = quiet(batch.glm, "yc ~ x1 + x2 + f", d, family="poisson", by="g", threads=th)
        runs.append((quiet(f.tidy, conf_int=which == "lm"), f.glance(), f.coef()))
    for other in runs[1:]:
        for a, b in zip(runs[0], other):
            pd.testing.assert_frame_equal(a, b, check_exact=True)


def test_status_series_and_warnings_once(datasets):
    d = datasets["synth"]
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        fits = batch.glm("yb ~ x1 + x2 + f", d, family="binomial", by="g")
    msgs = [str(w.message) for w in rec if w.category is rmodels.errors.FittedValuesWarning]
    assert len(msgs) == 1 and " of 200 groups; first: g=" in msgs[0]
    assert len({str(w.message) for w in rec}) == len(rec)  # each message once
    s = fits.status
    assert isinstance(s, pd.Series) and s.index.name == "g" and len(s) == 200
    assert s["g013"] == "contrasts can be applied only to factors with 2 or more levels"
    assert (s == "ok").sum() == len(fits.glance().dropna(subset=["deviance"]))


def test_progress_bar_forced_and_silenced(datasets, capsys):
    mt = datasets["mtcars"]
    batch.lm("mpg ~ wt", mt, by="cyl", progress=True)
    assert "group" in capsys.readouterr().err
    batch.lm("mpg ~ wt", mt, by="cyl", progress=False)
    assert capsys.readouterr().err == ""


def test_multiple_response_groups_are_fit_objects(datasets):
    """cbind() responses (mlm) keep no columns: each group's own fit, stacked as before."""
    mt = datasets["mtcars"]
    fits = batch.lm("cbind(mpg, qsec) ~ wt", mt, by="cyl")
    t = fits.tidy()
    assert list(t.columns[:3]) == ["cyl", "response", "term"]
    for k, f in enumerate(fits):
        single = rmodels.lm("cbind(mpg, qsec) ~ wt", mt[mt["cyl"] == fits.keys[k][0]])
        got = t[t["cyl"] == fits.keys[k][0]].drop(columns=["cyl", "status"])
        pd.testing.assert_frame_equal(got.reset_index(drop=True), single.tidy())
        pd.testing.assert_frame_equal(f.coef(), single.coef())
    with pytest.raises(rmodels.errors.FitError):
        fits.coef()
