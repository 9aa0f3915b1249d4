"""Transforms and contrasts against live R: contr.*, poly/polym, scale, splines::ns/bs,
splineDesign, and the encoding of new data with the stored state (R's predict / predvars)."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest
from rbridge import r, r_dataset, send_df
from rmodels.errors import DataError, DataWarning
from rmodels.frame.transforms import (
    bs,
    contrast_matrix,
    full_dummy_matrix,
    ns,
    poly,
    scale,
    seq_unit,
    spline_design,
)
from rmodels.printing import quantile7

pytestmark = pytest.mark.r

RTOL = 1e-12
ATOL = 1e-13


def close(py: np.ndarray, rv: np.ndarray, rtol: float = RTOL, atol: float = ATOL) -> None:
    py = np.asarray(py, dtype=float)
    rv = np.asarray(rv, dtype=float)
    if rv.ndim == 1 and py.ndim == 2 and py.shape[1] == 1:
        rv = rv[:, None]
    assert py.shape == rv.shape, (py.shape, rv.shape)
    np.testing.assert_allclose(py, rv, rtol=rtol, atol=atol)


def _vectors() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(20240601)
    mt = r_dataset("mtcars")
    return {
        "unif": rng.uniform(0, 10, 40),
        "norm": rng.normal(3, 2, 57),
        "ties": rng.integers(1, 7, 45).astype(float),      # many ties (quantile interpolation)
        "offset": 1e4 + rng.normal(0, 1, 30),               # large mean, small spread
        "expo": rng.exponential(1.0, 60),                   # skewed
        "mpg": mt["mpg"].to_numpy(float),
        "hp": mt["hp"].to_numpy(float),
        "wt": mt["wt"].to_numpy(float),
        "seq": np.arange(1.0, 13.0),
    }


VECTORS = list(_vectors().keys())


@pytest.fixture(scope="module")
def vecs() -> dict[str, np.ndarray]:
    v = _vectors()
    for name, x in v.items():
        send_df(pd.DataFrame({"x": x}), f"tv_{name}")
    rng = np.random.default_rng(7)
    na = rng.normal(size=25)
    na[[0, 4, 17]] = np.nan
    v["withna"] = na
    send_df(pd.DataFrame({"x": na}), "tv_withna")
    r("suppressMessages(library(splines))")
    return v


def newx(x: np.ndarray) -> np.ndarray:
    """New data for predict: inside, at and beyond the training range."""
    lo, hi = np.nanmin(x), np.nanmax(x)
    span = hi - lo
    return np.array([lo, hi, lo + 0.37 * span, lo + 0.81 * span, lo - 0.2 * span,
                     hi + 0.3 * span, np.nan, np.nanmedian(x)])


def send_new(x: np.ndarray) -> None:
    send_df(pd.DataFrame({"x": x}), "tv_new")


def r_warnings_of(code: str) -> list[str]:
    out = r(f"local({{w <- character(); withCallingHandlers({code}, warning = function(c) "
            "{w <<- c(w, conditionMessage(c)); invokeRestart('muffleWarning')}); w})")
    return list(out or [])


# ------------------------------------------------------------------------------ contrasts

CONTR = ["contr.treatment", "contr.SAS", "contr.sum", "contr.helmert", "contr.poly"]


@pytest.mark.parametrize("kind", CONTR)
@pytest.mark.parametrize("L", range(2, 9))
def test_contrast_matrix(kind: str, L: int) -> None:
    levels = [f"lv{chr(97 + j)}" for j in range(L)]
    lev_r = "c(" + ", ".join(f"'{v}'" for v in levels) + ")"
    M, names = contrast_matrix(kind, levels)
    rm = r(f"unname({kind}({lev_r}))")
    close(M, rm.reshape(L, -1))
    rn = r(f"colnames({kind}({lev_r}))")
    assert names == rn


@pytest.mark.parametrize("L", [12, 25, 30, 50, 95])
def test_contr_poly_many_levels(L: int) -> None:
    """Beyond ~25 levels R's QR pivots the Vandermonde columns; the result still matches."""
    M, names = contrast_matrix("contr.poly", [str(j) for j in range(L)])
    close(M, r(f"unname(contr.poly({L}))"))
    assert names == r(f"colnames(contr.poly({L}))")


@pytest.mark.parametrize("scores", [[1, 2, 4], [0.5, 1.5, 2, 7.25], [10, 20, 30, 45, 70]])
def test_contr_poly_scores(scores: list) -> None:
    L = len(scores)
    sc = "c(" + ", ".join(repr(float(v)) for v in scores) + ")"
    M, names = contrast_matrix("contr.poly", [str(j) for j in range(L)], scores=scores)
    close(M, r(f"unname(contr.poly({L}, scores = {sc}))"))
    assert names == r(f"colnames(contr.poly({L}, scores = {sc}))")


def test_contr_poly_too_many_levels() -> None:
    msg = r("tryCatch(contr.poly(96), error = function(e) conditionMessage(e))")[0]
    with pytest.raises(DataError, match=re.escape(msg)):
        contrast_matrix("contr.poly", [str(j) for j in range(96)])


@pytest.mark.parametrize("L", [2, 3, 5, 8])
def test_contr_treatment_base(L: int) -> None:
    levels = [str(j) for j in range(1, L + 1)]
    for base in range(1, L + 1):
        M, names = contrast_matrix("contr.treatment", levels, base=base)
        close(M, r(f"unname(contr.treatment({L}, base = {base}))").reshape(L, -1))
        assert names == r(f"colnames(contr.treatment({L}, base = {base}))")


@pytest.mark.parametrize("L", [2, 4, 7])
def test_full_dummy(L: int) -> None:
    levels = [f"g{j}" for j in range(L)]
    M, names = full_dummy_matrix(levels)
    f = "factor(c(" + ", ".join(f"'{v}'" for v in levels) + "))"
    close(M, r(f"unname(contrasts({f}, contrasts = FALSE))"))
    assert names == r(f"colnames(contrasts({f}, contrasts = FALSE))")


@pytest.mark.parametrize("L", range(2, 9))
def test_contr_poly_names_in_model_matrix(L: int) -> None:
    levels = [f"o{j}" for j in range(L)]
    send_df(pd.DataFrame({"o": pd.Categorical(levels, categories=levels, ordered=True)}), "tv_o")
    cols = r("colnames(model.matrix(~ o, tv_o))")[1:]
    M, names = contrast_matrix("contr.poly", levels)
    assert ["o" + nm for nm in names] == cols
    close(M, r("unname(model.matrix(~ o, tv_o))")[:, 1:])


@pytest.mark.parametrize(("L", "k", "named"), [(3, 1, False), (4, 1, True), (5, 2, False),
                                               (6, 3, True), (4, 3, False), (4, 5, True)])
def test_user_contrast_matrix(L: int, k: int, named: bool) -> None:
    rng = np.random.default_rng(L * 10 + k)
    U = rng.normal(size=(L, k))
    send_df(pd.DataFrame(U, columns=[f"c{j}" for j in range(k)]), "tv_U")
    cn = "colnames(U) <- paste0('u', seq_len(ncol(U)))" if named else "colnames(U) <- NULL"
    r(f"U <- as.matrix(tv_U); {cn}; f <- factor(letters[1:{L}]); contrasts(f) <- U; "
      "cm <- contrasts(f)")
    colnames = [f"u{j + 1}" for j in range(k)] if named else None
    M, names = contrast_matrix(U, [chr(97 + j) for j in range(L)], colnames=colnames)
    close(M, r("unname(cm)"))
    assert names == r("colnames(cm)")


@pytest.mark.parametrize("kind", CONTR)
@pytest.mark.parametrize(("L", "how_many"), [(3, 1), (4, 2), (5, 1), (5, 4), (6, 3)])
def test_contrasts_how_many(kind: str, L: int, how_many: int) -> None:
    """C(f, contr, how.many): the contrast function is called with nlevels, then cut."""
    r(f"cm <- contrasts(C(factor(letters[1:{L}]), {kind}, {how_many}))")
    M, names = contrast_matrix(kind, [str(j) for j in range(1, L + 1)], how_many=how_many)
    close(M, r("unname(cm)"))
    assert names == r("colnames(cm)")


@pytest.mark.parametrize(("L", "k", "how_many"), [(4, 1, 2), (5, 2, 4), (6, 1, 5)])
def test_user_matrix_how_many(L: int, k: int, how_many: int) -> None:
    rng = np.random.default_rng(100 + L)
    U = rng.normal(size=(L, k))
    send_df(pd.DataFrame(U), "tv_U")
    r(f"U <- unname(as.matrix(tv_U)); f <- factor(letters[1:{L}]); "
      f"contrasts(f, {how_many}) <- U; cm <- contrasts(f)")
    M, names = contrast_matrix(U, [chr(97 + j) for j in range(L)], how_many=how_many)
    close(M, r("unname(cm)"))
    assert names == r("colnames(cm)")


def test_contrast_errors() -> None:
    msg = r("tryCatch({f <- factor('a'); contrasts(f) <- contr.sum; 1}, "
            "error = function(e) conditionMessage(e))")[0]
    with pytest.raises(DataError, match=msg):
        contrast_matrix("contr.sum", ["a"])
    U = np.array([[1.0], [1.0], [1.0]])
    msg = r("tryCatch({f <- factor(letters[1:3]); contrasts(f) <- matrix(1, 3, 1); 1}, "
            "error = function(e) conditionMessage(e))")[0]
    with pytest.raises(DataError, match=msg):
        contrast_matrix(U, ["a", "b", "c"])


# ------------------------------------------------------------------------------ poly

@pytest.mark.parametrize("name", VECTORS)
@pytest.mark.parametrize("degree", [1, 2, 3, 4, 5])
def test_poly_orthogonal(vecs: dict, name: str, degree: int) -> None:
    x = vecs[name]
    if degree >= np.unique(x).size:
        pytest.skip("degree too high for the data")
    M, cols, state = poly(x, degree=degree)
    r(f"p <- poly(tv_{name}$x, {degree})")
    close(M, r("unclass(p)[, , drop = FALSE]"))
    assert cols == r("colnames(p)")
    close(state.coefs[0]["alpha"], r("attr(p, 'coefs')$alpha"))
    close(state.coefs[0]["norm2"], r("attr(p, 'coefs')$norm2"))
    xn = newx(x)
    send_new(xn)
    close(state.apply(xn), r("unclass(predict(p, tv_new$x))"))


@pytest.mark.parametrize("name", ["unif", "norm", "hp", "seq"])
@pytest.mark.parametrize("degree", [1, 2, 3, 5])
def test_poly_raw(vecs: dict, name: str, degree: int) -> None:
    x = vecs[name]
    M, cols, state = poly(x, degree=degree, raw=True)
    r(f"p <- poly(tv_{name}$x, {degree}, raw = TRUE)")
    close(M, r("unclass(p)[, , drop = FALSE]"))
    assert cols == r("colnames(p)")
    xn = newx(x)
    send_new(xn)
    close(state.apply(xn), r("unclass(predict(p, tv_new$x))"))


@pytest.mark.parametrize("degree", [1, 2, 3])
@pytest.mark.parametrize("raw", [False, True])
def test_poly_multivariate(vecs: dict, degree: int, raw: bool) -> None:
    x, z = vecs["mpg"], vecs["wt"]
    M, cols, state = poly(x, z, degree=degree, raw=raw)
    r(f"p <- poly(tv_mpg$x, tv_wt$x, degree = {degree}, raw = {str(raw).upper()})")
    close(M, r("unclass(p)[, , drop = FALSE]"))
    assert cols == r("colnames(p)")
    if not raw:
        for i in range(2):
            close(state.coefs[i]["alpha"], r(f"attr(p, 'coefs')[[{i + 1}]]$alpha"))
            close(state.coefs[i]["norm2"], r(f"attr(p, 'coefs')[[{i + 1}]]$norm2"))
    xn, zn = newx(x), newx(z)[::-1].copy()
    send_df(pd.DataFrame({"x": xn, "z": zn}), "tv_new2")
    # as predvars does it: poly(x, z, degree =, coefs = <training coefs>)
    extra = "raw = TRUE" if raw else "coefs = attr(p, 'coefs')"
    close(state.apply(xn, zn),
          r(f"unclass(poly(tv_new2$x, tv_new2$z, degree = {degree}, {extra}))"))


def test_poly_errors(vecs: dict) -> None:
    msg = r("tryCatch(poly(c(1, 2, 2, 1), 2), error = function(e) conditionMessage(e))")[0]
    with pytest.raises(DataError, match=msg):
        poly(np.array([1.0, 2.0, 2.0, 1.0]), degree=2)
    msg = r("tryCatch(poly(tv_withna$x, 2), error = function(e) conditionMessage(e))")[0]
    with pytest.raises(DataError, match=msg):
        poly(vecs["withna"], degree=2)
    msg = r("tryCatch(poly(1:5, 0), error = function(e) conditionMessage(e))")[0]
    with pytest.raises(DataError, match=msg):
        poly(np.arange(1.0, 6.0), degree=0)


def test_poly_in_model_matrix_predvars(vecs: dict) -> None:
    """predict() encodes new data through predvars = poly(x, 3, coefs = ...)."""
    x = vecs["unif"]
    y = np.sin(x)
    send_df(pd.DataFrame({"x": x, "y": y}), "tv_train")
    xn = newx(x)[:6]
    send_df(pd.DataFrame({"x": xn}), "tv_newd")
    mm = r("fit <- lm(y ~ poly(x, 3), tv_train); "
           "unname(model.matrix(delete.response(terms(fit)), tv_newd))")
    _, _, state = poly(x, degree=3)
    close(state.apply(xn), mm[:, 1:])


# ------------------------------------------------------------------------------ scale

@pytest.mark.parametrize("name", VECTORS + ["withna"])
@pytest.mark.parametrize(("center", "scl"), [("TRUE", "TRUE"), ("FALSE", "TRUE"),
                                             ("TRUE", "FALSE"), ("2.5", "TRUE"),
                                             ("TRUE", "0.75"), ("-1", "3")])
def test_scale(vecs: dict, name: str, center: str, scl: str) -> None:
    x = vecs[name]

    def arg(s: str):
        return {"TRUE": True, "FALSE": False}.get(s, float(s) if s not in ("TRUE", "FALSE") else s)

    M, state = scale(x, center=arg(center), scale=arg(scl))
    r(f"s <- scale(tv_{name}$x, center = {center}, scale = {scl})")
    close(M, r("unclass(s)[, 1, drop = FALSE]"))
    rc = r("attr(s, 'scaled:center')")
    rs = r("attr(s, 'scaled:scale')")
    assert (state.center is None) == (rc is None)
    assert (state.scale is None) == (rs is None)
    if rc is not None:
        close(np.array([state.center]), rc)
    if rs is not None:
        close(np.array([state.scale]), rs)
    xn = newx(x)
    send_new(xn)
    cen = "FALSE" if state.center is None else "attr(s, 'scaled:center')"
    sc = "FALSE" if state.scale is None else "attr(s, 'scaled:scale')"
    close(state.apply(xn), r(f"unclass(scale(tv_new$x, center = {cen}, scale = {sc}))"))


def test_scale_in_model_matrix_predvars(vecs: dict) -> None:
    x = vecs["hp"]
    send_df(pd.DataFrame({"x": x, "y": np.log(x)}), "tv_train")
    xn = newx(x)[:6]
    send_df(pd.DataFrame({"x": xn}), "tv_newd")
    mm = r("fit <- lm(y ~ scale(x), tv_train); "
           "unname(model.matrix(delete.response(terms(fit)), tv_newd))")
    _, state = scale(x)
    close(state.apply(xn), mm[:, 1:])


# ------------------------------------------------------------------------------ quantiles

@pytest.mark.parametrize("name", VECTORS)
@pytest.mark.parametrize("m", [1, 2, 3, 4, 5, 7, 10])
def test_quantile7_at_knot_probabilities(vecs: dict, name: str, m: int) -> None:
    probs = seq_unit(m + 2)
    close(probs, r(f"seq.int(0, 1, length.out = {m + 2})"), rtol=0, atol=0)
    got = quantile7(vecs[name], probs[1:-1])
    want = r(f"unname(quantile(tv_{name}$x, seq.int(0, 1, length.out = {m + 2})"
             f"[-c(1L, {m + 2}L)]))")
    close(got, want, rtol=0, atol=0)


# ------------------------------------------------------------------------------ splines

def _r_args(df, knots, intercept, bk, degree=None) -> str:
    parts = []
    if df is not None:
        parts.append(f"df = {df}")
    if knots is not None:
        parts.append("knots = c(" + ", ".join(repr(float(k)) for k in knots) + ")")
    if degree is not None:
        parts.append(f"degree = {degree}")
    parts.append(f"intercept = {str(intercept).upper()}")
    if bk is not None:
        parts.append("Boundary.knots = c(" + ", ".join(repr(float(k)) for k in bk) + ")")
    return ", ".join(parts)


def _knots_for(x: np.ndarray, how: str) -> np.ndarray | None:
    if how == "none":
        return None
    lo, hi = np.nanmin(x), np.nanmax(x)
    if how == "one":
        return np.array([lo + 0.4 * (hi - lo)])
    return np.array([lo + 0.2 * (hi - lo), lo + 0.5 * (hi - lo), lo + 0.7 * (hi - lo)])


def _bk_for(x: np.ndarray, how: str) -> np.ndarray | None:
    lo, hi = np.nanmin(x), np.nanmax(x)
    if how == "none":
        return None
    if how == "narrow":  # some training x fall outside
        return np.array([lo + 0.1 * (hi - lo), hi - 0.15 * (hi - lo)])
    return np.array([hi + 0.5 * (hi - lo), lo - 0.25 * (hi - lo)])  # wide, given unsorted


SPLINE_GRID = [
    # (df, knots, intercept, boundary)
    (None, "none", False, "none"),
    (1, "none", False, "none"),
    (2, "none", False, "none"),
    (3, "none", False, "none"),
    (4, "none", True, "none"),
    (6, "none", False, "none"),
    (5, "none", True, "narrow"),
    (4, "none", False, "wide"),
    (None, "one", False, "none"),
    (None, "three", True, "none"),
    (None, "three", False, "narrow"),
    (None, "one", True, "wide"),
]


def _check_spline(fn_name, M, cols, state, x, name, args):
    call = f"{fn_name}(tv_{name}$x, {args})"
    r(f"b <- suppressWarnings({call})")
    close(M, r("unclass(b)[, , drop = FALSE]"))
    assert cols == r("colnames(b)")
    rk = r("attr(b, 'knots')")
    close(state.knots, np.zeros(0) if rk is None else rk)
    close(state.boundary_knots, r("attr(b, 'Boundary.knots')"))
    assert state.intercept == bool(r("attr(b, 'intercept')")[0])
    xn = newx(x)
    send_new(xn)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        Mn = state.apply(xn)
    close(Mn, r("unclass(suppressWarnings(predict(b, tv_new$x)))[, , drop = FALSE]"))


@pytest.mark.parametrize("name", ["unif", "norm", "ties", "expo", "mpg", "withna", "offset"])
@pytest.mark.parametrize(("df", "kn", "intercept", "bk"), SPLINE_GRID)
def test_ns(vecs: dict, name: str, df, kn: str, intercept: bool, bk: str) -> None:
    x = vecs[name]
    knots, bkn = _knots_for(x, kn), _bk_for(x, bk)
    args = _r_args(df, knots, intercept, bkn)
    err = r(f"tryCatch({{ns(tv_{name}$x, {args}); NULL}}, "
            "error = function(e) conditionMessage(e))")
    if err is not None:  # e.g. tied quantile knots: R's qr() refuses the constraint matrix
        with pytest.raises(DataError, match=re.escape(err[0])):
            ns(x, df=df, knots=knots, intercept=intercept, Boundary_knots=bkn)
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        M, cols, state = ns(x, df=df, knots=knots, intercept=intercept, Boundary_knots=bkn)
    _check_spline("ns", M, cols, state, x, name, args)


@pytest.mark.parametrize("name", ["unif", "norm", "ties", "expo", "hp", "withna", "offset"])
@pytest.mark.parametrize("degree", [1, 2, 3, 4])
@pytest.mark.parametrize(("df", "kn", "intercept", "bk"), SPLINE_GRID[::2] + SPLINE_GRID[7:9])
def test_bs(vecs: dict, name: str, degree: int, df, kn: str, intercept: bool, bk: str) -> None:
    x = vecs[name]
    knots, bkn = _knots_for(x, kn), _bk_for(x, bk)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        M, cols, state = bs(x, df=df, knots=knots, degree=degree, intercept=intercept,
                            Boundary_knots=bkn)
    _check_spline("bs", M, cols, state, x, name,
                  _r_args(df, knots, intercept, bkn, degree=degree))


def test_spline_warnings(vecs: dict) -> None:
    x = vecs["unif"]
    bkn = _bk_for(x, "narrow")
    bk_r = f"c({float(bkn[0])!r}, {float(bkn[1])!r})"
    want = r_warnings_of(f"bs(tv_unif$x, df = 5, Boundary.knots = {bk_r})")
    with pytest.warns(DataWarning) as rec:
        bs(x, df=5, Boundary_knots=bkn)
    assert [str(w.message) for w in rec] == want
    for fn, pyfn in (("ns", ns), ("bs", bs)):
        want = r_warnings_of(f"{fn}(tv_unif$x, df = 0)")
        with pytest.warns(DataWarning) as rec:
            pyfn(x, df=0)
        assert [str(w.message) for w in rec] == want
    assert r_warnings_of("ns(tv_unif$x, df = 4, Boundary.knots = c(2, 8))") == []
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ns(x, df=4, Boundary_knots=[2, 8])


def test_splines_in_model_matrix_predvars(vecs: dict) -> None:
    """predict() encodes new data with the stored knots (predvars), ns and bs together."""
    x = vecs["expo"]
    send_df(pd.DataFrame({"x": x, "y": np.sqrt(x)}), "tv_train")
    xn = newx(x)[:6]
    send_df(pd.DataFrame({"x": xn}), "tv_newd")
    mm = r("fit <- lm(y ~ ns(x, df = 4) + bs(x, df = 5, degree = 2), tv_train); "
           "suppressWarnings(unname(model.matrix(delete.response(terms(fit)), tv_newd)))")
    _, _, s_ns = ns(x, df=4)
    _, _, s_bs = bs(x, df=5, degree=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        got = np.column_stack([s_ns.apply(xn), s_bs.apply(xn)])
    close(got, mm[:, 1:])


@pytest.mark.parametrize("ord_", [1, 2, 3, 4, 5])
def test_spline_design_values_and_derivatives(ord_: int) -> None:
    knots = np.array([0.0, 0.0, 0.0, 0.0, 0.3, 1.1, 1.1, 2.0, 2.5, 3.0, 3.0, 3.0, 3.0])
    x = np.array([0.0, 0.05, 0.3, 0.9, 1.1, 1.5, 2.0, 2.9999, 3.0])
    nk = knots.size
    x = x[(x >= knots[ord_ - 1]) & (x <= knots[nk - ord_])]
    send_df(pd.DataFrame({"x": x}), "tv_sx")
    kr = "c(" + ", ".join(repr(float(k)) for k in knots) + ")"
    for der in range(ord_):
        got = spline_design(knots, x, ord_, der)
        want = r(f"splineDesign({kr}, tv_sx$x, {ord_}, derivs = {der})")
        close(got, want, rtol=1e-12, atol=1e-12)


# ------------------------------------------------------------------------------ edge cases

def _x(*v: float) -> np.ndarray:
    return np.array(v, dtype=float)


INF = np.inf
EDGE_CASES = [
    ("scale(5)", lambda: scale(_x(5))[0]),
    ("scale(c(5, 5, 5))", lambda: scale(_x(5, 5, 5))[0]),
    ("scale(c(NA_real_, NA_real_))", lambda: scale(_x(np.nan, np.nan))[0]),
    ("scale(c(2, NA, 7, 1), center = FALSE)", lambda: scale(_x(2, np.nan, 7, 1), center=False)[0]),
    ("poly(c(1, 2, 4), 2)", lambda: poly(_x(1, 2, 4), degree=2)[0]),
    ("poly(c(1, 1, 1), 1)", lambda: poly(_x(1, 1, 1), degree=1)[0]),
    ("poly(c(1, 2, 3, Inf), 2)", lambda: poly(_x(1, 2, 3, INF), degree=2)[0]),
    ("predict(poly(1:8, 3), c(1, Inf, -Inf, NA))",
     lambda: poly(np.arange(1.0, 9.0), degree=3)[2].apply(_x(1, INF, -INF, np.nan))),
    ("splines::ns(c(2, 2, 2))", lambda: ns(_x(2, 2, 2))[0]),
    ("splines::ns(2)", lambda: ns(_x(2))[0]),
    ("splines::ns(2, df = 3)", lambda: ns(_x(2), df=3)[0]),
    ("splines::ns(c(1, 2, Inf))", lambda: ns(_x(1, 2, INF))[0]),
    ("splines::ns(c(1, 2, 3, 4, 5, -Inf), Boundary.knots = c(1, 5))",
     lambda: ns(_x(1, 2, 3, 4, 5, -INF), Boundary_knots=[1, 5])[0]),
    ("splines::ns(1:9, knots = 0)", lambda: ns(np.arange(1.0, 10.0), knots=[0.0])[0]),
    ("splines::bs(c(2, 2, 2))", lambda: bs(_x(2, 2, 2))[0]),
    ("splines::bs(2)", lambda: bs(_x(2))[0]),
    ("splines::bs(1:9, knots = 12)", lambda: bs(np.arange(1.0, 10.0), knots=[12.0])[0]),
    ("splines::bs(1:9, degree = 0)", lambda: bs(np.arange(1.0, 10.0), degree=0)[0]),
    ("splines::bs(c(1, 2, Inf))", lambda: bs(_x(1, 2, INF))[0]),
    ("splines::bs(c(1, 2, 3, 4, 5, Inf), df = 4)", lambda: bs(_x(1, 2, 3, 4, 5, INF), df=4)[0]),
    ("splines::bs(c(1, 2, 3, 4, 5, -Inf), Boundary.knots = c(1, 5))",
     lambda: bs(_x(1, 2, 3, 4, 5, -INF), Boundary_knots=[1, 5])[0]),
    ("{f <- factor(letters[1:3]); contrasts(f) <- matrix(c(1, NA, 0)); contrasts(f)}",
     lambda: contrast_matrix(_x(1, np.nan, 0)[:, None], ["a", "b", "c"])[0]),
]


@pytest.mark.parametrize(("rcode", "pyfn"), EDGE_CASES, ids=[c[0] for c in EDGE_CASES])
def test_edge_cases_value_or_error(rcode: str, pyfn) -> None:
    """Degenerate inputs: same values (NaN/Inf pattern included) or the same error as R."""
    got = r(f"suppressWarnings(tryCatch(list('ok', unclass({rcode})), "
            "error = function(e) list('err', conditionMessage(e))))")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        if got[0] == ["err"]:
            with pytest.raises(DataError, match=re.escape(got[1][0])):
                pyfn()
            return
        value = pyfn()
    want = np.asarray(got[1], dtype=float)
    close(np.asarray(value, dtype=float).reshape(want.shape), want)
