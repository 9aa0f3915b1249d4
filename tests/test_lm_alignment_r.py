"""lm's per-row results line up with the user's DataFrame, against live R.

For a default RangeIndex, a non-default (unordered) integer index and a string index, with
missing values in the response, a predictor and a factor: ``residuals`` (response, pearson),
``fitted``, ``weights``, ``hatvalues``, ``rstandard``, ``rstudent``, ``cooks_distance``,
``influence_sigma``, ``dfbeta``, summary's residuals and ``predict`` (plain, intervals,
se.fit) are indexed by the data's own labels; with ``na_action="exclude"`` every row of the
(subsetted) data is there, the dropped ones as R pads them (``na.exclude``). R's names of its
padded vectors, mapped to the data's labels, give the expected index; ``df.assign(...)``
lines up row by row. ``predict`` on new data keeps newdata's index; an mlm gives DataFrames
on the same index; ``augment`` keeps broom's ``.rownames`` and is indexed by the data's labels.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import rmodels as rm
from rbridge import r, send_df
from rmodels.errors import PredictionWarning

pytestmark = pytest.mark.r

RTOL = 1e-8
N = 24


def _base() -> pd.DataFrame:
    i = np.arange(N)
    x1 = np.sin(i * 1.3) * 3 + i / 4
    x2 = np.cos(i * 0.7) + (i % 3) / 2
    y = 1.5 + 0.8 * x1 - 0.6 * x2 + np.sin(i * 2.1)
    g = pd.Categorical(np.array(list("abc"))[(i * 5) % 3])
    d = pd.DataFrame({"y": y, "x1": x1, "x2": x2, "g": g, "w": 0.5 + (i % 4) / 2})
    d.loc[3, "x1"] = np.nan
    d.loc[10, "g"] = np.nan
    d.loc[17, "y"] = np.nan
    return d


INDEXES = {
    "range": pd.RangeIndex(N),
    "int": pd.Index((np.arange(N) * 7919) % 101 + 1000, dtype=np.int64),  # unordered, unique
    "str": pd.Index([f"r{k:02d}" for k in np.arange(N)[::-1]]),
}

# (id, formula, lm options, R arguments); subset keeps rows i % 5 != 2
CASES = [
    ("exclude", "y ~ x1 + g", {"na_action": "exclude"}, "na.action = na.exclude"),
    ("exclude_w", "y ~ x1 + x2 + g", {"na_action": "exclude", "weights": "w"},
     "weights = w, na.action = na.exclude"),
    ("exclude_subset", "y ~ x1 + g", {"na_action": "exclude", "subset": True},
     "subset = sub, na.action = na.exclude"),
    ("omit_subset", "y ~ x1 + x2", {"subset": True}, "subset = sub"),
    # integer positions out of order (rows 3, 10 and 17 have missing values)
    ("exclude_subset_order", "y ~ x1 + g", {"na_action": "exclude", "subset": "order"},
     "subset = sub_order, na.action = na.exclude"),
]

SUBSET_ORDER = [17, 3, 9, 0, 21, 10, 5, 14, 2, 8, 19, 12, 6, 23]

R_RUN = r"""
.nv <- function(x) list(v = unname(as.numeric(x)), n = names(x))
.mat <- function(x) list(v = unname(as.matrix(x)), r = rownames(x), c = colnames(x))
.one <- function(m, nd) {
  ps <- predict(m, se.fit = TRUE)
  list(resid = .nv(residuals(m)), pearson = .nv(residuals(m, type = "pearson")),
       fitted = .nv(fitted(m)), weights = if (is.null(weights(m))) NULL else .nv(weights(m)),
       hat = .nv(hatvalues(m)), rstd = .nv(rstandard(m)), rstu = .nv(rstudent(m)),
       cooks = .nv(cooks.distance(m)), sig = .nv(influence(m)$sigma), dfbeta = .mat(dfbeta(m)),
       pred = .nv(predict(m)), sres = .nv(summary(m)$residuals),
       pconf = .mat(predict(m, interval = "confidence")),
       pse_fit = .nv(ps$fit), pse_se = unname(ps$se.fit), pnew = .nv(predict(m, nd)))
}
"""


def _frame(kind: str) -> pd.DataFrame:
    d = _base()
    d.index = INDEXES[kind]
    return d


def _subset() -> np.ndarray:
    return np.arange(N) % 5 != 2


def _fit(kind: str, case) -> rm.models.lm.LM:
    _, formula, opts, _ = case
    opts = dict(opts)
    how = opts.pop("subset", False)
    if how == "order":
        opts["subset"] = np.array(SUBSET_ORDER)
    elif how:
        opts["subset"] = _subset()
    return rm.lm(formula, _frame(kind), **opts)


def _newdata(kind: str) -> pd.DataFrame:
    nd = _frame(kind).iloc[[5, 0, 12, 3]]  # row 3 has a missing x1: NA prediction (na.pass)
    return nd


@pytest.fixture(scope="module")
def r_results() -> dict:
    r(R_RUN)
    out = {}
    for kind in INDEXES:
        d = _frame(kind)
        send_df(d.reset_index(drop=True), "dal")
        if kind != "range":
            r(f"rownames(dal) <- c({', '.join(repr(str(v)) for v in d.index)})")
        rows = ", ".join(str(k + 1) for k in (5, 0, 12, 3))
        r(f"sub <- seq_len({N}) %% 5 != 3; ndal <- dal[c({rows}), ]")
        r(f"sub_order <- c({', '.join(str(k + 1) for k in SUBSET_ORDER)})")
        for cid, formula, _, rargs in CASES:
            out[kind, cid] = r(f"local(.one(lm({formula}, data = dal, {rargs}), ndal))")
        out[kind, "mlm"] = r("local({m <- lm(cbind(y, x2) ~ x1 + g, data = dal, "
                             "na.action = na.exclude); list(resid = .mat(residuals(m)), "
                             "fitted = .mat(fitted(m)), pred = .mat(predict(m)))})")
        out[kind, "augment"] = r("as.data.frame(broom::augment(lm(y ~ x1 + g, data = dal)))")
    return out


def _labels(kind: str, r_names) -> list:
    """The data's labels of R's row names."""
    d = _frame(kind)
    if kind == "range":
        return [int(nm) - 1 for nm in r_names]
    lookup = {str(v): v for v in d.index}
    return [lookup[nm] for nm in r_names]


def _close(got, want, what: str) -> None:
    got = np.asarray(got, dtype=float)
    want = np.asarray(want, dtype=float)
    assert got.shape == want.shape, what
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want), err_msg=what)
    ok = ~np.isnan(want)
    np.testing.assert_allclose(got[ok], want[ok], rtol=RTOL,
                               atol=RTOL * 1e-2 * np.max(np.abs(want[ok])), err_msg=what)


def _same_series(got: pd.Series, want: dict, kind: str, what: str) -> None:
    assert isinstance(got, pd.Series), what
    assert list(got.index) == _labels(kind, want["n"]), what
    _close(got.to_numpy(), want["v"], what)


PER_ROW = [
    ("resid", lambda m: m.residuals()), ("pearson", lambda m: m.residuals(type="pearson")),
    ("fitted", lambda m: m.fitted()), ("hat", lambda m: m.hatvalues()),
    ("rstd", lambda m: m.rstandard()), ("rstu", lambda m: m.rstudent()),
    ("cooks", lambda m: m.cooks_distance()), ("sig", lambda m: m.influence_sigma()),
    ("pred", lambda m: m.predict()), ("sres", lambda m: m.summary().residuals),
]

PARAMS = [pytest.param(kind, case, id=f"{kind}-{case[0]}") for kind in INDEXES
          for case in CASES]


@pytest.mark.parametrize("kind,case", PARAMS)
def test_per_row_results_on_the_data_index(kind, case, r_results):
    want = r_results[kind, case[0]]
    m = _fit(kind, case)
    for key, get in PER_ROW:
        if key == "cooks" and "weights" in case[2]:
            # R's cooks.distance of a weighted na.exclude fit loses the names of the excluded
            # rows (it indexes by the NA-padded weights): compare the values in the data's order
            got = get(m)
            assert list(got.index) == _labels(kind, want["resid"]["n"])
            _close(got.to_numpy(), want[key]["v"], key)
            continue
        _same_series(get(m), want[key], kind, key)
    w = m.weights()
    if want["weights"] is None:
        assert w is None
    else:  # R's weights() are unnamed: the rows of the residuals
        assert list(w.index) == _labels(kind, want["resid"]["n"])
        _close(w.to_numpy(), want["weights"]["v"], "weights")
    db = m.dfbeta()
    assert list(db.index) == _labels(kind, want["dfbeta"]["r"])
    assert list(db.columns) == want["dfbeta"]["c"]
    _close(db.to_numpy(), want["dfbeta"]["v"], "dfbeta")


@pytest.mark.parametrize("kind,case", PARAMS)
def test_predict_frames_on_the_data_index(kind, case, r_results):
    want = r_results[kind, case[0]]
    m = _fit(kind, case)
    pc = m.predict(interval="confidence")
    assert list(pc.columns) == ["fit", "lwr", "upr"]
    assert list(pc.index) == _labels(kind, want["pconf"]["r"])
    _close(pc.to_numpy(), want["pconf"]["v"], "predict interval")
    ps = m.predict(se_fit=True)
    assert list(ps.index) == _labels(kind, want["pse_fit"]["n"])
    _close(ps["fit"].to_numpy(), want["pse_fit"]["v"], "se.fit fit")
    _close(ps["se_fit"].to_numpy(), want["pse_se"], "se.fit")
    nd = _newdata(kind)
    pn = m.predict(nd)
    assert isinstance(pn, pd.Series) and pn.index.equals(nd.index)
    assert list(pn.index) == _labels(kind, want["pnew"]["n"])
    _close(pn.to_numpy(), want["pnew"]["v"], "predict newdata")
    if "weights" in case[2]:
        with pytest.warns(PredictionWarning, match="constant prediction variance"):
            pi = m.predict(nd, interval="prediction", se_fit=True)
    else:
        pi = m.predict(nd, interval="prediction", se_fit=True)
    assert pi.index.equals(nd.index) and list(pi.columns) == ["fit", "lwr", "upr", "se_fit"]


@pytest.mark.parametrize("kind,case", PARAMS)
def test_assign_lines_up(kind, case, r_results):
    """``df.assign(col=result)`` puts each value at its own row: R's padded vectors placed at
    the rows they name, NaN at every other row of the data."""
    want = r_results[kind, case[0]]
    d = _frame(kind)
    m = _fit(kind, case)
    pos = {lab: k for k, lab in enumerate(d.index)}
    for key, get in (("resid", lambda f: rm.residuals(f)), ("fitted", lambda f: rm.fitted(f)),
                     ("hat", lambda f: rm.hatvalues(f)), ("pred", lambda f: rm.predict(f))):
        expected = np.full(len(d), np.nan)
        for lab, v in zip(_labels(kind, want[key]["n"]), want[key]["v"]):
            expected[pos[lab]] = v
        got = d.assign(res=get(m))["res"]
        assert got.index.equals(d.index)
        _close(got.to_numpy(), expected, f"assign {key}")


@pytest.mark.parametrize("kind", list(INDEXES))
def test_mlm_frames_on_the_data_index(kind, r_results):
    want = r_results[kind, "mlm"]
    m = rm.lm("cbind(y, x2) ~ x1 + g", _frame(kind), na_action="exclude")
    for key, got in (("resid", m.residuals()), ("fitted", m.fitted()), ("pred", m.predict())):
        assert isinstance(got, pd.DataFrame)
        assert list(got.index) == _labels(kind, want[key]["r"]), key
        assert list(got.columns) == want[key]["c"], key
        _close(got.to_numpy(), want[key]["v"], key)


@pytest.mark.parametrize("kind", list(INDEXES))
def test_augment_keeps_rownames_and_data_index(kind, r_results):
    want = r_results[kind, "augment"]
    m = rm.lm("y ~ x1 + g", _frame(kind))
    a = m.augment()
    assert list(a[".rownames"]) == list(want[".rownames"])
    assert list(a.index) == _labels(kind, want[".rownames"])
    for col in (".fitted", ".resid", ".hat", ".sigma", ".cooksd", ".std.resid"):
        _close(a[col].to_numpy(), want[col].to_numpy(dtype=float), col)
    nd = _newdata(kind)
    an = m.augment(newdata=nd)
    assert an.index.equals(nd.index)
    _close(an[".fitted"].to_numpy(), m.predict(nd).to_numpy(), ".fitted on newdata")
