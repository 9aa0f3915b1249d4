"""Hostile formulas: each ends in the package's own error or a correct fit, in bounded time, and
none runs code: every formula that would touch the sentinel file if Python evaluated it leaves
the file absent (the formula engine never calls ``eval``)."""

from __future__ import annotations

import os
import time

import numpy as np
import pandas as pd
import pytest
import rmodels
from rmodels.errors import RModelsError
from rmodels.limits import LIMITS

SENTINEL = os.path.join(os.path.dirname(os.path.abspath(__file__)), ".hostile_sentinel")
TOUCH = f"open({SENTINEL!r}, 'w').write('ran')"
SECONDS = 10.0


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n = 40
    x = rng.normal(size=n)
    return pd.DataFrame({"y": 1 + 2 * x + rng.normal(size=n), "x": x,
                         "z": rng.uniform(1, 3, size=n),
                         "g": pd.Categorical([f"g{i % 5}" for i in range(n)]),
                         "bin": (rng.uniform(size=n) < 0.5).astype(float)})


HOSTILE = [
    f"y ~ {TOUCH}",
    f"y ~ x + I({TOUCH})",
    "y ~ __import__('os').system('touch " + SENTINEL + "')",
    "y ~ x.__class__.__bases__[0].__subclasses__()",
    "y ~ x.__class__",
    "y ~ getattr(x, '__class__')",
    "y ~ (lambda: 1)()",
    "y ~ lambda x: x",
    "y ~ [c for c in x]",
    "y ~ {k: 1 for k in x}",
    "y ~ f'{x}'",
    "y ~ x; import os",
    "y ~ x\nimport os",
    "y ~ x; " + TOUCH,
    "y ~ eval('1')",
    "y ~ exec('x = 1')",
    "y ~ get('x')",
    "y ~ system('touch x')",
    "y ~ base::system('ls')",
    "y ~ x$`__class__`",
    "y ~ x@y",
    "y ~ x[1]",
    "y ~ {x}",
    "y ~ function(a) a",
    "y ~ \\(a) a",
    "y ~ x |> log()",
    "y ~ x <- 1",
    "y ~ x\x00",
    "y ~ x\u202e + z",
    "y ~ `x\x00`",
    "y ~ x + `\u202e`",
    "y ~ " + "(" * 20_000 + "x" + ")" * 20_000,
    "y ~ " + "-" * 20_000 + "x",
    "y ~ " + "log(" * 20_000 + "x" + ")" * 20_000,
    "y ~ I(x" + "^2" * 5_000 + ")",
    "y ~ " + " + ".join(f"x{i}" for i in range(200_000)),
    "y ~ (x)^1e9",
    "y ~ (x + z + g)^2147483647",
    "y ~ (x + z)^1e400",
    "y ~ I(x ** 99999999)",
    "y ~ poly(x, 1e8, raw = TRUE)",
    "y ~ poly(x, 1e9)",
    "y ~ bs(x, df = 1e7)",
    "y ~ ns(x, df = 1e7)",
    "y ~ cut(x, 1e9)",
    "y ~ cut(pi, 1e9)",
    "y ~ round(1e308, 1e308)",
    "y ~ x:" + ":".join(f"v{i}" for i in range(200)),
    "y ~ " + "*".join(f"v{i}" for i in range(30)),
    "y ~ 1:1e9",
    "y ~ rep(x, 1e9)",
    "y ~ x + " + "'a' + " * 10 + "x",
]


@pytest.mark.parametrize("formula", HOSTILE, ids=[f"h{i:02d}" for i in range(len(HOSTILE))])
@pytest.mark.parametrize("fit", ["model_matrix", "lm", "lmer"])
def test_hostile_formula_is_refused_or_fitted(formula: str, fit: str, data: pd.DataFrame):
    if os.path.exists(SENTINEL):
        os.remove(SENTINEL)
    f = formula + (" + (1 | g)" if fit == "lmer" else "")
    call = {"model_matrix": rmodels.model_matrix, "lm": rmodels.lm,
            "lmer": rmodels.lmer}[fit]
    t0 = time.perf_counter()
    try:
        call(f, data)
    except RModelsError:
        pass
    assert time.perf_counter() - t0 < SECONDS
    assert not os.path.exists(SENTINEL), "a formula ran code"


HOSTILE_FAMILIES = ["__import__('os')", "binomial(link=eval('x'))", "poisson; import os",
                    "gaussian(link = 'log'))", "quasi(variance = 'mu^1e9')", "Gamma\x00",
                    "binomial(link = lambda x: x)", "x" * 100_000]


@pytest.mark.parametrize("family", HOSTILE_FAMILIES,
                         ids=[f"f{i}" for i in range(len(HOSTILE_FAMILIES))])
def test_hostile_family_string_is_refused(family: str, data: pd.DataFrame):
    with pytest.raises(RModelsError):
        rmodels.glm("bin ~ x", data, family=family)


def test_deep_nesting_names_rs_contextstack(data: pd.DataFrame):
    with pytest.raises(rmodels.FormulaError, match="contextstack overflow"):
        rmodels.model_matrix("y ~ " + "(" * 51 + "x" + ")" * 51, data)
    # R's parser takes 50 nested brackets
    mm = rmodels.model_matrix("y ~ " + "(" * 50 + "x" + ")" * 50, data)
    assert list(mm.columns) == ["(Intercept)", "x"]


def test_limits_are_configurable(data: pd.DataFrame):
    old = LIMITS.poly_degree
    try:
        LIMITS.poly_degree = 2
        with pytest.raises(rmodels.DataError, match="limit"):
            rmodels.model_matrix("y ~ poly(x, 3)", data)
    finally:
        LIMITS.poly_degree = old
    assert rmodels.model_matrix("y ~ poly(x, 3)", data).shape == (40, 4)


def test_power_saturates_like_r(data: pd.DataFrame):
    # R's terms(y ~ (x + z)^1e9) loops 1e9 times to the same terms as ^2
    big = rmodels.model_matrix("y ~ (x + z)^1000000000", data)
    two = rmodels.model_matrix("y ~ (x + z)^2", data)
    assert list(big.columns) == list(two.columns)


def test_thousand_term_glm_fits(data: pd.DataFrame):
    rng = np.random.default_rng(1)
    wide = pd.DataFrame(rng.normal(size=(1200, 1000)), columns=[f"v{i}" for i in range(1000)])
    wide["y"] = rng.normal(size=1200)
    f = "y ~ " + " + ".join(f"v{i}" for i in range(1000))
    fit = rmodels.glm(f, wide)
    assert len(rmodels.coef(fit)) == 1001
    ref = np.linalg.lstsq(np.column_stack([np.ones(1200), wide.iloc[:, :1000]]),
                          wide["y"], rcond=None)[0]
    np.testing.assert_allclose(rmodels.coef(fit).to_numpy(), ref, rtol=1e-7, atol=1e-10)


def test_dense_contrasts_of_huge_factor_refused_up_front():
    n = 200_000
    d = pd.DataFrame({"y": np.zeros(n), "f": pd.Categorical(np.arange(n) % 100_000)})
    t0 = time.perf_counter()
    with pytest.raises(rmodels.DataError, match="memory budget"):
        rmodels.lm("y ~ f", d)
    assert time.perf_counter() - t0 < SECONDS


def test_model_matrix_budget_is_configurable(data: pd.DataFrame):
    old = LIMITS.model_matrix_bytes
    try:
        LIMITS.model_matrix_bytes = 8 * 40 * 2  # 40 rows x 2 columns fit, 3 do not
        assert rmodels.model_matrix("y ~ x", data).shape == (40, 2)
        with pytest.raises(rmodels.DataError, match="the model matrix would need a dense 40 x 3"):
            rmodels.model_matrix("y ~ x + z", data)
    finally:
        LIMITS.model_matrix_bytes = old


def test_two_thousand_term_formula_parses_expands_and_deparses():
    from rmodels.formula.call import deparse_formula_lines
    from rmodels.formula.parser import parse_formula
    from rmodels.formula.terms import terms

    text = "y ~ " + " + ".join(f"v{i}" for i in range(2000))
    t = terms(text)
    assert t.term_labels == [f"v{i}" for i in range(2000)]
    lines = deparse_formula_lines(parse_formula(text))
    assert "".join(line.strip() for line in lines).replace(" ", "") == text.replace(" ", "")
