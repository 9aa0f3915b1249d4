"""compare_with_r(): the refit in R agrees with rmodels on every quantity for lm, glm,
glm.nb, lmer, glmer and grouped fits; R-side numbers are checked independently against the test
bridge; a missing rpy2 gives the package's MissingDependencyError."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest
import rbridge
import rmodels as rm
from rmodels.datasets import load
from rmodels.errors import DataError, MissingDependencyError
from rmodels.rcheck import bridge, compare_with_r
from rmodels.rcheck.compare import comparison_table

pytestmark = pytest.mark.r


@pytest.fixture(scope="module")
def df() -> pd.DataFrame:
    d = load("listings").iloc[:600].copy()
    d["borough"] = pd.Categorical(d["borough"], ["Queens", "Bronx", "Brooklyn", "Manhattan",
                                                 "Staten Island"])
    d["expo"] = np.linspace(0.5, 2.0, len(d))
    d.loc[d.index[[3, 10]], "stars"] = np.nan
    return d


def _check(table: pd.DataFrame, quantities: set) -> None:
    assert list(table.columns[-7:]) == ["quantity", "term", "rmodels", "R", "abs_diff",
                                        "rel_diff", "equal"]
    assert quantities <= set(table["quantity"])
    assert table["R"].notna().sum() > 0
    bad = table[~table["equal"]]
    assert bad.empty, bad.to_string()


@pytest.fixture(scope="module")
def full() -> pd.DataFrame:
    return load("listings")


LM_Q = {"estimate", "std.error", "statistic", "p.value", "sigma", "logLik", "AIC", "BIC",
        "deviance", "fitted", "residuals", "r.squared"}


def test_lm_weights_subset_na_exclude(df):
    fit = rm.lm("price ~ stars + borough + room_type", df, weights="reviews",
                subset=(df["price"] > 60).to_numpy(), na_action="exclude")
    t = compare_with_r(fit, df, tol=1e-9)
    _check(t, LM_Q)
    # the R column is R's own number: the same fit through the test bridge
    rbridge.send_df(df[df["price"] > 60], "d")
    cf = rbridge.r("coef(lm(price ~ stars + borough + room_type, d, weights = reviews))")
    est = t[t["quantity"] == "estimate"]["R"].to_numpy()
    np.testing.assert_allclose(est, cf, rtol=1e-12)


def test_lm_aliased_relevel_sum_contrasts_offset(df):
    d = df.assign(stars2=2 * df["stars"])
    fit = rm.lm('price ~ stars + stars2 + relevel(borough, "Manhattan")', d,
                offset=np.log(d["expo"].to_numpy()),
                contrasts={'relevel(borough, "Manhattan")': "contr.sum"})
    t = compare_with_r(fit, d)
    _check(t, LM_Q)
    aliased = t[(t["term"] == "stars2") & (t["quantity"] == "estimate")]
    assert aliased["R"].isna().all() and aliased["rmodels"].isna().all()


def test_glm_families(df):
    logit = rm.glm("booked ~ stars + borough", df, family="binomial")
    _check(compare_with_r(logit), {"estimate", "dispersion", "null.deviance", "AIC"})
    pois = rm.glm("reviews ~ stars + room_type", df, family=rm.poisson(), offset="expo")
    _check(compare_with_r(pois, df), {"estimate", "deviance"})
    gam = rm.glm("price ~ stars", df, family=rm.Gamma(link="log"), weights="expo")
    _check(compare_with_r(gam, df), {"dispersion", "p.value"})


def test_glm_nb(full):
    nb = rm.glm_nb("reviews ~ stars + room_type", full)
    t = compare_with_r(nb, full)
    _check(t, {"theta", "SE_theta", "estimate", "AIC"})


@pytest.mark.parametrize("reml", [True, False])
def test_lmer(full, reml):
    fit = rm.lmer("price ~ stars + (stars | neighborhood)", full, REML=reml)
    t = compare_with_r(fit, full)
    _check(t, {"estimate", "std.error", "vcov", "sdcor", "sigma", "logLik",
               "REMLcrit" if reml else "deviance"})
    assert "neighborhood (Intercept),stars" in set(t["term"])


def test_grouped_fits(df):
    fits = rm.lm("price ~ stars", df, by="borough")
    t = compare_with_r(fits, df)
    assert list(t.columns[:2]) == ["borough", "quantity"]
    assert list(dict.fromkeys(t["borough"])) == list(fits.groups()["borough"])
    _check(t, {"estimate", "sigma"})


def test_unequal_numbers_are_flagged():
    ours = pd.DataFrame({"quantity": ["a", "b", "c"], "term": ["", "", "x"],
                         "rmodels": [1.0, 2.0, np.nan]})
    theirs = pd.DataFrame({"quantity": ["a", "b", "c", "d"], "term": ["", "", "x", ""],
                           "R": [1.0 + 1e-9, 2.1, np.nan, 5.0]})
    t = comparison_table(ours, theirs, tol=1e-6)
    assert t["equal"].tolist() == [True, False, True, False]
    assert t["quantity"].tolist() == ["a", "b", "c", "d"]
    assert t["rel_diff"].iloc[1] == pytest.approx(0.1 / 2.1)


def test_data_from_the_fit_or_checked(df):
    fit = rm.lm("price ~ stars", df)
    _check(compare_with_r(fit), {"estimate", "sigma"})  # the fit keeps its data
    with pytest.raises(DataError, match="rows"):
        compare_with_r(fit, df.iloc[:10])
    fit.data, fit.call_inputs = None, ("lm", {})
    with pytest.raises(DataError, match="needs the data"):
        compare_with_r(fit)


@pytest.mark.parametrize("nagq", [1, 0])
def test_glmer(nagq):
    cbpp = rbridge.r_dataset("cbpp", "lme4")
    fit = rm.glmer("cbind(incidence, size - incidence) ~ period + (1 | herd)", cbpp,
                   family="binomial", nAGQ=nagq)
    t = compare_with_r(fit, tol=1e-4)  # lme4's optimizer stops within 1e-4 of ours
    _check(t, {"estimate", "std.error", "p.value", "vcov", "sdcor", "logLik", "deviance"})
    assert "herd (Intercept)" in set(t["term"])


def test_missing_rpy2_names_what_to_install(monkeypatch, df):
    bridge.r_session.cache_clear()
    monkeypatch.setitem(sys.modules, "rpy2.robjects", None)
    try:
        with pytest.raises(MissingDependencyError, match=r"rmodels\[r\]"):
            compare_with_r(rm.lm("price ~ stars", df), df)
    finally:
        bridge.r_session.cache_clear()


def test_missing_r_package_names_it():
    with pytest.raises(MissingDependencyError, match="rmodelsNoSuchPackage"):
        bridge.require_r_packages(("stats", "rmodelsNoSuchPackage"))


def test_grouped_glm_two_columns(full):
    fits = rm.glm("booked ~ stars", full, family="binomial", by=["room_type", "borough"])
    t = compare_with_r(fits, full)
    assert list(t.columns[:3]) == ["room_type", "borough", "quantity"]
    keys = t[["room_type", "borough"]].drop_duplicates().reset_index(drop=True)
    done = fits.groups()[fits.status.to_numpy() == "ok"].reset_index(drop=True)
    pd.testing.assert_frame_equal(keys.astype(str), done.astype(str), check_dtype=False)
    _check(t, {"estimate", "deviance", "AIC"})
