"""Bad data against live R: for each case R's kind of outcome (error with R's message, warning,
or numbers) is compared with rmodels' (the package's classes; the same message where rmodels
uses R's), and the caller's DataFrame is unchanged (a deep copy compared before and after)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np
import pandas as pd
import pytest
import rmodels
from rbridge import r, r_raw, send_df
from rmodels.errors import RModelsError, RModelsWarning

pytestmark = pytest.mark.r


def base(n: int = 30, seed: int = 11) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    return pd.DataFrame({
        "y": 1 + 2 * x + rng.normal(size=n), "x": x, "z": rng.normal(size=n),
        "f": pd.Categorical(rng.choice(["a", "b", "c"], size=n)),
        "g": pd.Categorical([f"g{i % 5}" for i in range(n)]),
        "bin": (rng.uniform(size=n) < 1 / (1 + np.exp(-x))).astype(float),
        "cnt": rng.poisson(np.exp(0.5 + 0.3 * x)).astype(float),
        "pos": rng.gamma(2.0, np.exp(0.2 * x)), "w": rng.uniform(0.5, 2.0, size=n),
    })


def edit(**changes: Callable[[pd.DataFrame], object]) -> Callable[[], pd.DataFrame]:
    def make() -> pd.DataFrame:
        d = base()
        for col, fn in changes.items():
            d[col] = fn(d)
        return d
    return make


def at(values, i, v):
    out = np.array(values, dtype=float)
    out[i] = v
    return out


@dataclass
class Case:
    name: str
    model: str  # lm, glm, lmer
    formula: str
    data: Callable[[], pd.DataFrame]
    family: str = "gaussian"
    weights: bool = False
    subset: Optional[str] = None  # R expression; the Python side gets the same rows
    r_prep: str = ""  # R code run on `d` after it is sent (for values rbridge cannot send)
    py_prep: Optional[Callable[[pd.DataFrame], pd.DataFrame]] = None
    same_message: bool = True
    extra: dict = field(default_factory=dict)


CASES = [
    Case("empty frame", "lm", "y ~ x", lambda: base().iloc[:0]),
    Case("all rows NA", "lm", "y ~ x", edit(y=lambda d: np.nan)),
    Case("Inf in x", "lm", "y ~ x", edit(x=lambda d: at(d.x, 3, np.inf))),
    Case("-Inf in x", "lm", "y ~ x + z", edit(z=lambda d: at(d.z, 0, -np.inf))),
    Case("Inf in y", "lm", "y ~ x", edit(y=lambda d: at(d.y, 3, np.inf))),
    Case("NaN in x (dropped)", "lm", "y ~ x", edit(x=lambda d: at(d.x, 3, np.nan))),
    Case("NaN in y (dropped)", "lm", "y ~ x + f", edit(y=lambda d: at(d.y, [1, 2], np.nan))),
    Case("one-level factor", "lm", "y ~ x + h",
         edit(h=lambda d: pd.Categorical(["a"] * len(d)))),
    Case("zero-variance column", "lm", "y ~ x + k", edit(k=lambda d: 3.0)),
    Case("n < p", "lm", "y ~ x + z + pos + w + cnt", lambda: base().iloc[:4]),
    Case("zero weights", "lm", "y ~ x", edit(w=lambda d: at(d.w, [0, 5], 0.0)), weights=True),
    Case("negative weights", "lm", "y ~ x", edit(w=lambda d: at(d.w, 2, -1.0)), weights=True),
    Case("NaN weights", "lm", "y ~ x", edit(w=lambda d: at(d.w, 2, np.nan)), weights=True),
    Case("subset selecting nothing", "lm", "y ~ x", base, subset="x > 100"),
    Case("unicode and spaces in names", "lm", "y ~ `x é` + `a b`",
         edit(**{"x é": lambda d: d.x, "a b": lambda d: d.z})),
    Case("extreme magnitude 1e300", "lm", "y ~ xb", edit(xb=lambda d: d.x * 1e300)),
    Case("extreme magnitude 1e-300", "lm", "y ~ xb", edit(xb=lambda d: d.x * 1e-300)),
    Case("extreme magnitude 1e-160", "lm", "y ~ xb", edit(xb=lambda d: d.x * 1e-160)),
    Case("extreme magnitude 1e160", "lm", "y ~ xb + z", edit(xb=lambda d: d.x * 1e160)),
    Case("unused categories", "lm", "y ~ x + f",
         edit(f=lambda d: pd.Categorical(d.f, categories=["a", "b", "c", "zz"]))),
    Case("int64 near 2**63", "lm", "y ~ big",
         edit(big=lambda d: (np.arange(len(d)) * 2**50 + (2**63 - 2**60)).astype(np.int64))),
    Case("nullable Float64 with pd.NA", "lm", "y ~ x + zz",
         edit(zz=lambda d: pd.array(list(d.z[:-2]) + [None, None], dtype="Float64")),
         r_prep="d$zz[29:30] <- NA"),
    Case("nullable Int64 with pd.NA", "lm", "y ~ x + k",
         edit(k=lambda d: pd.array([i % 4 for i in range(len(d) - 1)] + [None],
                                   dtype="Int64")),
         r_prep="d$k[30] <- NA"),
    # R coerces the strings to NA and stops at "NA/NaN/Inf in 'y'"
    Case("string response", "lm", "s ~ x", edit(s=lambda d: np.where(d.x > 0, "p", "q")),
         same_message=False),
    Case("complex column", "lm", "y ~ cx", edit(cx=lambda d: d.x + 1j),
         r_prep="d$cx <- complex(real = d$x, imaginary = 1)"),
    Case("mixed-object column", "lm", "y ~ x + mix",
         edit(mix=lambda d: [[1, "a", 2.5, None, "b"][i % 5] for i in range(len(d))])),
    Case("weights of the wrong length", "lm", "y ~ x", base, weights=True,
         extra={"weights_len": 10}),
    # glm
    Case("glm Inf in x", "glm", "cnt ~ x", edit(x=lambda d: at(d.x, 4, np.inf)),
         family="poisson"),
    Case("glm Inf in weights", "glm", "y ~ x", edit(w=lambda d: at(d.w, 4, np.inf)),
         weights=True),
    Case("glm negative weights", "glm", "y ~ x", edit(w=lambda d: at(d.w, 4, -2.0)),
         weights=True),
    Case("glm zero weights", "glm", "cnt ~ x", edit(w=lambda d: at(d.w, [1, 4], 0.0)),
         family="poisson", weights=True),
    Case("binomial y outside [0, 1]", "glm", "yb ~ x", edit(yb=lambda d: d.bin * 2),
         family="binomial"),
    Case("binomial non-integer counts", "glm", "p ~ x", edit(p=lambda d: at(d.bin, 0, 0.5)),
         family="binomial", weights=True),
    Case("negative Poisson counts", "glm", "c2 ~ x", edit(c2=lambda d: at(d.cnt, 0, -1.0)),
         family="poisson"),
    Case("non-positive Gamma response", "glm", "p2 ~ x", edit(p2=lambda d: at(d.pos, 0, 0.0)),
         family="Gamma"),
    Case("separation", "glm", "sep ~ x", edit(sep=lambda d: (d.x > 0).astype(float)),
         family="binomial"),
    # R 4.2.2's glm stops at "object 'fit' not found" here (a bug in glm.fit)
    Case("glm empty frame", "glm", "cnt ~ x", lambda: base().iloc[:0], family="poisson",
         same_message=False),
    Case("glm all rows NA", "glm", "cnt ~ x", edit(x=lambda d: np.nan), family="poisson",
         same_message=False),
    Case("glm one-level factor", "glm", "cnt ~ x + h",
         edit(h=lambda d: pd.Categorical(["a"] * len(d))), family="poisson"),
    Case("glm extreme magnitude 1e300", "glm", "y ~ xb", edit(xb=lambda d: d.x * 1e300)),
    Case("glm complex column", "glm", "y ~ cx", edit(cx=lambda d: d.x + 1j),
         r_prep="d$cx <- complex(real = d$x, imaginary = 1)"),
    # lmer
    Case("lmer one group", "lmer", "y ~ x + (1 | h)",
         edit(h=lambda d: pd.Categorical(["a"] * len(d)))),
    Case("lmer groups of one row", "lmer", "y ~ x + (1 | h)",
         edit(h=lambda d: pd.Categorical([f"r{i}" for i in range(len(d))]))),
    Case("lmer more levels than rows", "lmer", "y ~ x + (1 | h)",
         edit(h=lambda d: pd.Categorical([f"r{i}" for i in range(len(d))],
                                         categories=[f"r{i}" for i in range(60)]))),
    Case("lmer Inf in y", "lmer", "y ~ x + (1 | g)", edit(y=lambda d: at(d.y, 2, np.inf))),
    Case("lmer Inf in x", "lmer", "y ~ x + (1 | g)", edit(x=lambda d: at(d.x, 2, np.inf))),
    Case("lmer negative weights", "lmer", "y ~ x + (1 | g)",
         edit(w=lambda d: at(d.w, 2, -1.0)), weights=True),
    Case("lmer zero weights", "lmer", "y ~ x + (1 | g)",
         edit(w=lambda d: at(d.w, [0, 7, 8], 0.0)), weights=True),
    Case("lmer column whose squares overflow", "lmer", "y ~ I(x * 1e200) + (1 | g)", base),
    Case("lmer column whose squares underflow", "lmer", "y ~ I(x * 1e-200) + (1 | g)", base),
    Case("lmer empty random-effect terms", "lmer", "y ~ x + (0 | g) + (0 | g)", base),
    Case("lmer all rows NA", "lmer", "y ~ x + (1 | g)", edit(y=lambda d: np.nan),
         same_message=False),
    Case("lmer complex column", "lmer", "y ~ cx + (1 | g)", edit(cx=lambda d: d.x + 1j),
         r_prep="d$cx <- complex(real = d$x, imaginary = 1)", same_message=False),
]


def r_outcome(case: Case) -> dict:
    d = case.data()
    if case.extra.get("weights_len"):
        d = d.copy()
    send_df(d.select_dtypes(exclude=["complex"]), "d")
    if case.r_prep:
        r_raw(case.r_prep)
    w = ", weights = w" if case.weights else ""
    if case.extra.get("weights_len"):
        r_raw(f"ww <- d$w[1:{case.extra['weights_len']}]")
        w = ", weights = ww"
    sub = f", subset = {case.subset}" if case.subset else ""
    call = {"lm": f"lm({case.formula}, data = d{w}{sub})",
            "glm": f"glm({case.formula}, family = {case.family}, data = d{w}{sub})",
            "lmer": f"lme4::lmer({case.formula}, data = d{w}{sub})"}[case.model]
    coef = "coef" if case.model != "lmer" else "lme4::fixef"
    out = r(f"""local({{
      warns <- character(0)
      res <- tryCatch(withCallingHandlers(list(kind = "ok", coef = {coef}({call})),
               warning = function(w) {{ warns <<- c(warns, conditionMessage(w));
                                       invokeRestart("muffleWarning") }}),
               error = function(e) list(kind = "error", message = conditionMessage(e)))
      c(res, list(warnings = warns))
    }})""")
    return out


def py_outcome(case: Case) -> tuple[dict, pd.DataFrame, pd.DataFrame]:
    d = case.data()
    before = d.copy(deep=True)
    kwargs: dict = {}
    if case.weights:
        kwargs["weights"] = "w"
    if case.extra.get("weights_len"):
        kwargs["weights"] = d["w"].to_numpy()[: case.extra["weights_len"]]
    if case.subset:
        kwargs["subset"] = d.eval(case.subset).to_numpy()
    if case.model == "glm":
        kwargs["family"] = case.family
    fit = {"lm": rmodels.lm, "glm": rmodels.glm, "lmer": rmodels.lmer}[case.model]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            m = fit(case.formula, d, **kwargs)
            coef = rmodels.fixef(m) if case.model == "lmer" else rmodels.coef(m)
            res: dict = {"kind": "ok", "coef": coef.to_numpy(dtype=float)}
        except RModelsError as exc:
            res = {"kind": "error", "message": str(exc), "cls": type(exc)}
        except Exception as exc:  # noqa: BLE001 - recorded to fail with its type
            res = {"kind": "foreign", "message": f"{type(exc).__name__}: {exc}"}
    res["warnings"] = [(w.category, str(w.message)) for w in caught]
    return res, before, d


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_data_matches_r(case: Case):
    want = r_outcome(case)
    got, before, after = py_outcome(case)
    pd.testing.assert_frame_equal(before, after)  # the caller's frame is untouched
    assert got["kind"] != "foreign", got["message"]
    foreign = [m for c, m in got["warnings"] if not issubclass(c, RModelsWarning)]
    assert not foreign, foreign
    want_kind = want["kind"][0] if isinstance(want["kind"], list) else want["kind"]
    assert got["kind"] == want_kind, (want, got)
    if want_kind == "error":
        message = want["message"][0] if isinstance(want["message"], list) else want["message"]
        if case.same_message:
            assert message.split("\n")[0] in got["message"], (message, got["message"])
        return
    np.testing.assert_allclose(got["coef"], np.asarray(want["coef"], dtype=float),
                               rtol=1e-6, atol=0, equal_nan=True)
    r_warns = want["warnings"] or []
    assert bool(r_warns) == bool(got["warnings"]), (r_warns, got["warnings"])
    for msg in r_warns:
        assert any(msg in m for _, m in got["warnings"]), (msg, got["warnings"])


def test_grouped_fits_match_r_split():
    d = base(60)
    d["k"] = np.where(d.g == "g1", 1.0, d.z)  # constant within one group: aliased there
    d.loc[d.g == "g2", "x"] = np.nan  # one group loses every row
    before = d.copy(deep=True)
    send_df(d, "d")
    want = r("""t(sapply(split(d, d$g), function(s)
        tryCatch(coef(lm(y ~ x + k, s)), error = function(e) rep(-999, 3))))""")
    fits = rmodels.lm("y ~ x + k", d, by="g")
    got = rmodels.coef(fits)
    pd.testing.assert_frame_equal(before, d)
    assert np.asarray(want)[2, 0] == -999  # R: "0 (non-NA) cases" for g2
    for i, grp in enumerate(["g0", "g1", "g3", "g4"]):
        row = [0, 1, 3, 4][i]
        np.testing.assert_allclose(np.asarray(got.loc[grp], dtype=float),
                                   np.asarray(want)[row], rtol=1e-8, equal_nan=True)


@pytest.mark.parametrize("change,column", [("new level", "f"), ("missing column", "x")])
def test_predict_newdata_errors_match_r(change, column):
    d = base()
    send_df(d, "d")
    nd = d.iloc[:3].copy()
    if change == "new level":
        nd["f"] = pd.Categorical(["a", "b", "zz"])
    else:
        nd = nd.drop(columns="x")
    send_df(nd, "nd")
    want = r("""tryCatch(predict(lm(y ~ x + f, d), newdata = nd),
                          error = function(e) conditionMessage(e))""")[0]
    before = nd.copy(deep=True)
    with pytest.raises(RModelsError, match=want.replace("(", r"\(").replace(")", r"\)")):
        rmodels.predict(rmodels.lm("y ~ x + f", d), newdata=nd)
    pd.testing.assert_frame_equal(before, nd)


PY_ONLY = [
    ("MultiIndex columns", lambda: base().set_axis(
        pd.MultiIndex.from_tuples([(c, "v") for c in base().columns]), axis=1)),
    ("duplicate column names", lambda: base().rename(columns={"z": "x"})),
    # R's lm takes difftime as numbers; rmodels asks for an explicit conversion (datetime
    # columns are R's POSIXct seconds: tests/test_input_frames.py checks them against R)
    ("timedelta column", lambda: base().assign(x=pd.to_timedelta(np.arange(30), unit="h"))),
]


@pytest.mark.parametrize("name,make", PY_ONLY, ids=[n for n, _ in PY_ONLY])
def test_frames_r_cannot_hold_are_package_errors(name, make):
    d = make()
    before = d.copy(deep=True)
    with pytest.raises(RModelsError):
        rmodels.lm("y ~ x", d)
    pd.testing.assert_frame_equal(before, d)


def test_lmer_reml_with_as_many_coefficients_as_rows_matches_r():
    rng = np.random.default_rng(2)
    d = pd.DataFrame({"y": rng.normal(size=12), "g": pd.Categorical(np.tile(["a", "b", "c"], 4))})
    for j in range(11):
        d[f"v{j}"] = rng.normal(size=12)
    send_df(d, "d")
    want = r("""tryCatch(lme4::lmer(y ~ . - g + (1 | g), d),
                          error = function(e) conditionMessage(e))""")[0]
    with pytest.raises(rmodels.FitError) as exc:
        rmodels.lmer("y ~ . - g + (1 | g)", d)
    assert want in str(exc.value)


@pytest.mark.parametrize("reml", [True, False])
def test_lmer_zero_weights_match_r(reml):
    """lme4 fits zero weights: log|W| is -Inf, so the criterion is Inf at every θ and the
    optimizer stays at the starting θ; the fit at that θ is the PLS solution with those rows'
    weight 0 (they still count in n)."""
    d = base(40)
    d["w"] = at(d.w, [0, 7, 8, 21], 0.0)
    send_df(d, "d")
    r_raw(f"m <- suppressWarnings(lme4::lmer(y ~ x + (x | g), d, weights = w, REML = {reml!s:.1}))")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Gradient contains NAs" is printed, not warned (R)
        m = rmodels.lmer("y ~ x + (x | g)", d, weights="w", REML=reml, data_name="d")
    assert m.optinfo.messages == r("m@optinfo$conv$lme4$messages")
    np.testing.assert_allclose(rmodels.fixef(m), r("lme4::fixef(m)"), rtol=1e-10)
    np.testing.assert_allclose(m.theta, r("lme4::getME(m, 'theta')"), rtol=1e-10)
    np.testing.assert_allclose(rmodels.sigma(m), r("sigma(m)"), rtol=1e-10)
    np.testing.assert_allclose(rmodels.fitted(m), r("fitted(m)"), rtol=1e-10)
    np.testing.assert_allclose(rmodels.residuals(m), r("residuals(m)"), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(rmodels.residuals(m, type="pearson"),
                               r("residuals(m, type = 'pearson')"), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(m.ranef()["g"].to_numpy(), r("as.matrix(lme4::ranef(m)$g)"),
                               rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(m.vcov_matrix(), r("as.matrix(vcov(m))"), rtol=1e-10)
    assert float(rmodels.logLik(m)) == r("as.numeric(logLik(m))")[0] == -np.inf
    assert m.optinfo.feval == r("m@optinfo$feval")[0]
    want = r("paste(capture.output(print(m)), collapse = '\\n')")[0]
    assert str(m).rstrip("\n") == want.rstrip("\n")
    if reml:
        want = r("paste(capture.output(print(summary(m))), collapse = '\\n')")[0]
        assert str(rmodels.summary(m)).rstrip("\n") == want.rstrip("\n")
