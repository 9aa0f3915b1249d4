"""lmer's per-row results line up with the user's DataFrame (issue 10, item 4), against live
lme4: fitted, residuals, predict, hatvalues and cooks.distance are Series on the data's own
index labels; with na_action="exclude" every row of the data is present, NaN where lme4's
naresid/napredict pads; predict on new data is indexed by the new data's index; augment's rows
are the rows in the fit, on their labels. R's values are compared position by position, and
R's names with the labels where R's row names are the data's labels."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from rbridge import r, r_dataset, send_df
from rmodels import lmer
from rmodels.errors import SingularFitWarning

pytestmark = pytest.mark.r

FORMULA = "Reaction ~ Days + (Days | Subject)"
RFORMULA = "Reaction ~ Days + (Days | Subject)"

# (our call, lme4's call) of every per-row result
PER_ROW = [
    (lambda f: f.fitted(), "fitted(mx)"),
    (lambda f: f.residuals(), "residuals(mx)"),
    (lambda f: f.residuals(type="pearson", scaled=True),
     "residuals(mx, type = 'pearson', scaled = TRUE)"),
    (lambda f: f.predict(), "predict(mx)"),
    (lambda f: f.predict(re_form="~0"), "predict(mx, re.form = NA)"),
    (lambda f: f.hatvalues(), "hatvalues(mx)"),
    (lambda f: f.cooks_distance(), "cooks.distance(mx)"),
]


def _index(kind: str, n: int) -> pd.Index:
    if kind == "range":
        return pd.RangeIndex(n)
    if kind == "int":
        return pd.Index(1000 - 7 * np.arange(n, dtype=np.int64))  # decreasing, not positions
    return pd.Index([f"obs{i:03d}" for i in range(n)][::-1])  # not in sorted order


@pytest.fixture(scope="module")
def sleep():
    return r_dataset("sleepstudy", "lme4")


def _with_missing(sleep: pd.DataFrame, kind: str) -> pd.DataFrame:
    data = sleep.copy()
    data.iloc[[3, 7], data.columns.get_loc("Reaction")] = np.nan
    data.iloc[10, data.columns.get_loc("Days")] = np.nan
    data.index = _index(kind, len(data))
    return data


def _send_with_rownames(data: pd.DataFrame, name: str) -> None:
    """The data in R with its index as row names (R's default 1..n for a RangeIndex)."""
    send_df(data, name)
    if not isinstance(data.index, pd.RangeIndex):
        labels = ", ".join(f"'{v}'" for v in data.index)
        r(f"rownames({name}) <- c({labels})")


def _r_names(kind: str, index: pd.Index) -> list:
    """R's names of a per-row result over the rows ``index``: the row names."""
    if kind == "range":
        return [str(i + 1) for i in index]
    return [str(v) for v in index]


@pytest.mark.parametrize("kind", ["range", "int", "string"])
def test_na_exclude_per_row_results_on_the_data_index(sleep, kind):
    data = _with_missing(sleep, kind)
    _send_with_rownames(data, "ssx")
    r(f"mx <- lmer({RFORMULA}, ssx, na.action = na.exclude)")
    fit = lmer(FORMULA, data, na_action="exclude")
    for ours, code in PER_ROW:
        got = ours(fit)
        ref = r(f"unname({code})")
        assert isinstance(got, pd.Series), code
        assert got.index.equals(data.index), code
        assert _r_names(kind, got.index) == list(r(f"names({code})")), code
        np.testing.assert_array_equal(np.isnan(got.to_numpy()), np.isnan(ref), err_msg=code)
        ok = ~np.isnan(ref)
        np.testing.assert_allclose(got.to_numpy()[ok], ref[ok], rtol=1e-6, err_msg=code)
        # df.assign lines up whatever the index: the column is R's padded vector
        col = data.assign(v=got)["v"].to_numpy()
        np.testing.assert_array_equal(np.isnan(col), np.isnan(ref), err_msg=code)
        np.testing.assert_allclose(col[ok], ref[ok], rtol=1e-6, err_msg=code)


@pytest.mark.parametrize("kind", ["range", "int", "string"])
def test_na_omit_per_row_results_on_the_rows_used(sleep, kind):
    data = _with_missing(sleep, kind)
    _send_with_rownames(data, "ssx")
    r(f"mo <- lmer({RFORMULA}, ssx)")
    fit = lmer(FORMULA, data)
    used = data.dropna().index
    for ours, code in PER_ROW:
        code = code.replace("mx", "mo")
        got = ours(fit)
        assert got.index.equals(used), code
        assert _r_names(kind, used) == list(r(f"names({code})")), code
        np.testing.assert_allclose(got.to_numpy(), r(f"unname({code})"), rtol=1e-6,
                                   err_msg=code)
    au = fit.augment()
    assert au.index.equals(used)
    np.testing.assert_allclose(data.assign(v=au[".fitted"])["v"].dropna().to_numpy(),
                               r("unname(fitted(mo))"), rtol=1e-6)


def test_na_exclude_with_subset_pads_to_the_subsetted_rows(sleep):
    """lme4 pads to the rows left by ``subset``, not to all rows of the data."""
    data = _with_missing(sleep, "string")
    keep = np.arange(len(data)) % 4 != 1
    data["k"] = keep
    _send_with_rownames(data, "ssk")
    r(f"mk <- lmer({RFORMULA}, ssk, subset = k, na.action = na.exclude)")
    fit = lmer(FORMULA, data, subset=keep, na_action="exclude")
    for ours, code in PER_ROW[:5]:
        code = code.replace("mx", "mk")
        got = ours(fit)
        ref = r(f"unname({code})")
        assert got.index.equals(data.index[keep]), code
        assert list(got.index) == list(r(f"names({code})")), code
        np.testing.assert_array_equal(np.isnan(got.to_numpy()), np.isnan(ref), err_msg=code)
        ok = ~np.isnan(ref)
        np.testing.assert_allclose(got.to_numpy()[ok], ref[ok], rtol=1e-6, err_msg=code)


@pytest.mark.parametrize("kind", ["range", "int", "string"])
def test_predict_newdata_on_its_index(sleep, kind):
    r(f"data(sleepstudy, package = 'lme4'); fm <- lmer({RFORMULA}, sleepstudy)")
    fit = lmer(FORMULA, sleep)
    nd = sleep.iloc[[5, 40, 41, 170]].copy()
    nd.index = _index(kind, len(nd))
    _send_with_rownames(nd, "nd")
    for re_form, rarg in ((None, ""), ("~0", ", re.form = NA")):
        got = fit.predict(nd, re_form=re_form)
        assert got.index.equals(nd.index)
        if kind != "range":
            assert list(got.index.astype(str)) == list(r(f"names(predict(fm, nd{rarg}))"))
        np.testing.assert_allclose(got.to_numpy(), r(f"unname(predict(fm, nd{rarg}))"),
                                   rtol=1e-7)
    au = fit.augment(newdata=nd)
    assert au.index.equals(nd.index)
    np.testing.assert_allclose(au[".fitted"].to_numpy(), r("unname(predict(fm, nd))"),
                               rtol=1e-7)


def test_refit_ml_keeps_the_rows(sleep):
    """A fit refitted by ML (anova, profile) keeps the data's labels."""
    data = _with_missing(sleep, "string")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SingularFitWarning)
        fit = lmer(FORMULA, data, na_action="exclude")
    ml = fit.refitML()
    assert ml.fitted().index.equals(data.index)
    _send_with_rownames(data, "ssx")
    r(f"mm <- lmer({RFORMULA}, ssx, REML = FALSE, na.action = na.exclude)")
    ref = r("unname(fitted(mm))")
    ok = ~np.isnan(ref)
    np.testing.assert_allclose(ml.fitted().to_numpy()[ok], ref[ok], rtol=1e-6)


@pytest.mark.parametrize("kind", ["range", "int", "string"])
def test_augment_rownames_as_broom_mixed(sleep, kind):
    """broom's ``.rownames`` column (first) holds R's row names of the rows in the fit when
    they are not 1..n: rows dropped for missing values, or the data's own labels."""
    data = _with_missing(sleep, kind)
    _send_with_rownames(data, "ssx")
    r(f"mo <- lmer({RFORMULA}, ssx); au <- as.data.frame(augment(mo))")
    au = lmer(FORMULA, data).augment()
    ra = r("au")
    assert list(au.columns) == list(ra.columns)
    assert list(au[".rownames"]) == list(ra[".rownames"])
    for c in [".fitted", ".resid", ".hat", ".cooksd", ".wtres"]:
        np.testing.assert_allclose(au[c].to_numpy(float), ra[c].to_numpy(float), rtol=1e-5,
                                   atol=1e-10, err_msg=c)
