"""glm's per-row results line up with the user's DataFrame (issue 10, item 4), against live R.

Every per-row result (residuals of each type, fitted, predict with and without se.fit,
hatvalues, cooks.distance, rstandard, rstudent, augment) is a Series/DataFrame on the input
DataFrame's own index labels; with ``na_action="exclude"`` every row of the (subsetted) data is
there, NaN where R's ``naresid`` pads (hat 0: "omitted cases have 0 leverage"). R sees the same
data with the row names R would give it, and its padded vectors are compared position by
position; the index is checked against the data's labels of the rows R names.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import rmodels as rm
from rbridge import r, r_raw, send_df
from rmodels import errors
from rmodels.design import r_row_names

pytestmark = pytest.mark.r

N = 36


def _data(index: pd.Index) -> pd.DataFrame:
    rng = np.random.default_rng(2024)
    x1 = rng.normal(size=N)
    x2 = rng.uniform(0, 2, size=N)
    f = pd.Categorical(rng.choice(["a", "b", "c"], size=N))
    eta = -0.2 + 0.8 * x1 - 0.5 * x2 + np.where(f == "b", 0.6, 0.0)
    d = pd.DataFrame({
        "yb": (rng.random(N) < 1 / (1 + np.exp(-eta))).astype(float),
        "yc": rng.poisson(np.exp(0.5 + 0.3 * x1)).astype(float),
        "x1": x1, "x2": x2, "f": f,
        "sel": np.arange(N) % 5 != 2})
    d.loc[[3, 10, 17, 30], "x1"] = np.nan
    d.loc[[6, 22], "x2"] = np.nan
    d.index = index
    return d


INDEXES = {
    "range": pd.RangeIndex(N),
    "int": pd.Index(np.arange(N)[::-1] * 7 + 100),
    "str": pd.Index([f"row{k:02d}" for k in np.random.default_rng(7).permutation(N)]),
}
CASES = [(ix, fam, sub) for ix in INDEXES for fam in ("binomial", "poisson")
         for sub in (False, True)]


def _send(d: pd.DataFrame, name: str) -> None:
    send_df(d, name)
    names = ", ".join(f'"{v}"' for v in r_row_names(d.index))
    r_raw(f"rownames({name}) <- c({names})")


def _labels(d: pd.DataFrame, r_names) -> list:
    """The data's labels of the rows R names ``r_names``."""
    pos = {n: i for i, n in enumerate(r_row_names(d.index))}
    return [d.index[pos[n]] for n in r_names]


def _r_results(name: str, fam: str, sub: bool) -> dict:
    subset = ", subset = sel" if sub else ""
    y = "yb" if fam == "binomial" else "yc"
    return r(f"local({{ m <- glm({y} ~ x1 + x2 + f, family = {fam}, data = {name}{subset}, "
             "na.action = na.exclude); "
             "pl <- predict(m, se.fit = TRUE); pr <- predict(m, type = 'response', "
             "se.fit = TRUE); "
             "list(nm = names(residuals(m)), dev = unname(residuals(m)), "
             "pear = unname(residuals(m, 'pearson')), work = unname(residuals(m, 'working')), "
             "resp = unname(residuals(m, 'response')), fit = unname(fitted(m)), "
             "link = unname(predict(m)), mu = unname(predict(m, type = 'response')), "
             "pl_fit = unname(pl$fit), pl_se = unname(pl$se.fit), "
             "pr_fit = unname(pr$fit), pr_se = unname(pr$se.fit), "
             "hat = unname(hatvalues(m)), hat_nm = names(hatvalues(m)), "
             "cook = unname(cooks.distance(m)), rsd = unname(rstandard(m)), "
             "rst = unname(rstudent(m))) })")


def _fit(d: pd.DataFrame, name: str, fam: str, sub: bool):
    y = "yb" if fam == "binomial" else "yc"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", errors.RModelsWarning)
        return rm.glm(f"{y} ~ x1 + x2 + f", d, family=fam, na_action="exclude",
                      subset=d["sel"].to_numpy() if sub else None, data_name=name)


@pytest.fixture(scope="module")
def fits():
    out = {}
    for ix, index in INDEXES.items():
        d = _data(index)
        name = f"dal_{ix}"
        _send(d, name)
        for fam in ("binomial", "poisson"):
            for sub in (False, True):
                out[ix, fam, sub] = (d, _fit(d, name, fam, sub), _r_results(name, fam, sub))
    return out


def _same(got: pd.Series, want: np.ndarray, rows: list, rtol: float = 1e-8) -> None:
    assert isinstance(got, pd.Series)
    assert list(got.index) == rows
    np.testing.assert_allclose(got.to_numpy(float), want, rtol=rtol, atol=1e-12,
                               equal_nan=True)


@pytest.mark.parametrize("ix,fam,sub", CASES)
def test_residuals_fitted_predict_padded(fits, ix, fam, sub):
    d, m, R = fits[ix, fam, sub]
    rows = _labels(d, R["nm"])
    assert len(rows) == (int(d["sel"].sum()) if sub else N)
    for t, key in (("deviance", "dev"), ("pearson", "pear"), ("working", "work"),
                   ("response", "resp")):
        _same(m.residuals(t), R[key], rows)
        _same(rm.residuals(m, type=t), R[key], rows)
    _same(m.fitted(), R["fit"], rows)
    _same(m.predict(), R["link"], rows)
    _same(m.predict(type="response"), R["mu"], rows)
    for typ, key in (("link", "pl"), ("response", "pr")):
        p = m.predict(type=typ, se_fit=True)
        assert list(p.columns) == ["fit", "se_fit"]
        _same(p["fit"], R[f"{key}_fit"], rows)
        _same(p["se_fit"], R[f"{key}_se"], rows, rtol=1e-7)


@pytest.mark.parametrize("ix,fam,sub", CASES)
def test_influence_padded(fits, ix, fam, sub):
    d, m, R = fits[ix, fam, sub]
    rows = _labels(d, R["hat_nm"])
    _same(m.hatvalues(), R["hat"], rows)
    _same(m.cooks_distance(), R["cook"], rows)
    _same(m.rstandard(), R["rsd"], rows)
    _same(m.rstudent(), R["rst"], rows)


@pytest.mark.parametrize("ix,fam,sub", CASES)
def test_assign_lines_up(fits, ix, fam, sub):
    """``df.assign(r=residuals(fit))`` puts each residual on its own row: R's value at the
    rows in the fit, NaN at the rows dropped for missing values and outside the subset."""
    d, m, R = fits[ix, fam, sub]
    out = d.assign(r=rm.residuals(m), h=rm.hatvalues(m), mu=rm.fitted(m))
    want = pd.Series(R["dev"], index=_labels(d, R["nm"]))
    np.testing.assert_allclose(out["r"].to_numpy(), want.reindex(d.index).to_numpy(),
                               rtol=1e-8, atol=1e-12, equal_nan=True)
    np.testing.assert_allclose(out["mu"].to_numpy(),
                               pd.Series(R["fit"], index=want.index).reindex(d.index)
                               .to_numpy(), rtol=1e-8, equal_nan=True)
    used = m.row_labels.used_index
    assert out["r"].notna().sum() == len(used)
    assert out.loc[used, "h"].notna().all()


@pytest.mark.parametrize("ix", list(INDEXES))
def test_omit_indexes_rows_used_and_newdata_index(ix):
    """With na.omit the rows used; predict(newdata) and augment(newdata) on newdata's index;
    augment's rows on the data's labels with R's row names in .rownames."""
    d = _data(INDEXES[ix])
    name = f"dalo_{ix}"
    _send(d, name)
    m = _fit_omit(d, name)
    R = r(f"local({{ m <- glm(yb ~ x1 + x2 + f, binomial, {name}); nd <- {name}[c(2, 5, 9), ]; "
          "list(nm = names(residuals(m)), dev = unname(residuals(m)), "
          "p = unname(predict(m, nd, type = 'response')), "
          "aug = as.data.frame(broom::augment(m))) })")
    rows = _labels(d, R["nm"])
    _same(m.residuals(), R["dev"], rows)
    _same(m.fitted(), m.fitted_values.to_numpy(), rows)
    nd = d.iloc[[1, 4, 8]]
    _same(m.predict(nd, type="response"), R["p"], list(nd.index))
    assert list(m.augment(newdata=nd).index) == list(nd.index)
    aug = m.augment()
    assert list(aug.index) == rows
    np.testing.assert_allclose(aug[".resid"].to_numpy(), R["aug"][".resid"].to_numpy(),
                               rtol=1e-8)
    if ".rownames" in R["aug"].columns:
        assert list(aug[".rownames"]) == list(R["aug"][".rownames"])
    else:
        assert ".rownames" not in aug.columns


def _fit_omit(d: pd.DataFrame, name: str):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", errors.RModelsWarning)
        return rm.glm("yb ~ x1 + x2 + f", d, family="binomial", data_name=name)


def test_summary_names_padded_rows_of_subset():
    """print(summary()) of a fit with at most 5 residual df shows each deviance residual
    under R's row name: with a subset and na.exclude, the names of the subsetted rows."""
    d = pd.DataFrame({"y": [1, 0, 1, 1, 0, 1, 0, 0, 1, 1.0],
                      "x": [1, 2, np.nan, 4, 5, 6, 7, 8, 9, 10.0]})
    send_df(d, "dsub")
    text = r("paste(capture.output(print(summary(glm(y ~ x, binomial, dsub, subset = 2:8, "
             "na.action = na.exclude)))), collapse = '\\n')")[0]
    m = rm.glm("y ~ x", d, family="binomial", subset=np.arange(1, 8), na_action="exclude",
               data_name="dsub")
    got = str(m.summary())
    # the call differs (R shows subset = 2:8); compare from the residuals on
    assert got.split("Deviance Residuals:", 1)[1].rstrip("\n") == \
        text.split("Deviance Residuals:", 1)[1].rstrip("\n")
