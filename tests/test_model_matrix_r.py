"""model_matrix / model_frame against R's model.matrix / model.frame on a grid of formulas.

Each (data set, formula) pair is evaluated once in R (one R call per data set, cached for the
module) and compared with :func:`rmodels.model_matrix` and :func:`rmodels.model_frame`:

* model matrix: column names and their order, the ``assign`` vector, every value
  (relative 1e-12, absolute 1e-13 near zero);
* model frame: the kept rows (R's row names, as strings), the variable names (matrix variables
  split into columns), the values of numeric, character and logical variables, and the levels
  and values of factors; also with ``subset`` (mask or positions) and each ``na_action``;
* pairs R refuses (an error in R) must raise :class:`rmodels.errors.RModelsError`; where R warns,
  rmodels must issue an :class:`rmodels.errors.RModelsWarning` (and otherwise nothing);
* spec reuse on new data ("predict-style" encoding) equals what ``predict.lm`` builds in R:
  ``model.matrix(delete.response(terms(fit)), model.frame(..., newdata, xlev = fit$xlevels,
  na.action = na.pass), contrasts.arg = fit$contrasts)``, which replays ``predvars`` (frozen
  ``poly``/``scale``/``ns``/``bs`` state) and the fitted factor levels.

Every data set is built in Python and sent to R bit-exactly (``rbridge.send_df``), so both sides
see the same numbers, factor levels and row names. Mismatches found and not yet fixed are listed
in ``KNOWN_MATRIX_MISMATCHES`` / ``KNOWN_FRAME_MISMATCHES`` and run as strict xfails.

Character collation (R-SEMANTICS B4), as observed here in R 4.2.2 under a UTF-8 locale, where R
sorts with ICU's root collation (the tests' R session pins ``LC_COLLATE=C.UTF-8``): the levels of
the toy column ``ch2`` come out as ``_x, 10, 1a, 9, Ä, a b, ab, alpha, b, B, Mid, zeta``.
Whitespace and punctuation sort before digits, digits before letters; digits are compared as
characters (``10 < 1a < 9``); letters are compared first without case or accents (``Ä`` is the
one-letter word "a", so it precedes ``a b``; the space precedes any letter, so ``a b < ab``),
then accents, then case with lowercase first (``b < B``). Under ``LC_COLLATE=C`` R would sort by
bytes instead: ``10, 1a, 9, B, Mid, _x, a b, ab, alpha, b, zeta, Ä``.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass, field
from typing import Any, Iterator

import numpy as np
import pandas as pd
import pytest
import rmodels
from rbridge import _rstr, r, r_dataset, send_df
from rmodels.errors import RModelsError, RModelsWarning

pytestmark = pytest.mark.r

RTOL = 1e-12
ATOL = 1e-13


# --------------------------------------------------------------------------------------------
# Data sets (built in Python, then sent to R unchanged)
# --------------------------------------------------------------------------------------------

CH2_VALUES = ["zeta", "alpha", "Mid", "b", "B", "_x", "1a", "a b", "ab", "10", "9", "\u00c4"]


def _factor_of_numbers(values: Any) -> pd.Categorical:
    """R's ``factor(<numeric>)``: levels sorted numerically, labelled by ``as.character``."""
    v = np.asarray(values, dtype=float)
    levels = sorted(set(v.tolist()))
    labels = [str(int(x)) if float(x).is_integer() else repr(x) for x in levels]
    codes = np.searchsorted(np.asarray(levels), v)
    return pd.Categorical.from_codes(codes, labels)


def _toy() -> pd.DataFrame:
    rng = np.random.default_rng(20261125)
    n = 24
    i = np.arange(n)
    x = np.round(rng.uniform(0.5, 12.0, n), 6)
    x2 = x + rng.normal(0, 1, n)
    x2[[2, 9, 17]] = np.nan
    fna = pd.Categorical.from_codes(np.where(np.isin(i, [4, 9]), -1, i % 3), ["p", "q", "r"])
    chna = np.array(["kiwi", "apple", "Fig", "date"], dtype=object)[i % 4]
    chna[[6, 13]] = None
    d = pd.DataFrame(
        {
            "y": rng.normal(10, 3, n),
            "x": x,
            "z": np.round(rng.uniform(0.5, 5.0, n), 4),
            "w": rng.uniform(0.5, 2.0, n),
            "a": pd.Categorical.from_codes(i % 3, ["a1", "a2", "a3"]),
            "b": pd.Categorical.from_codes(i // 12, ["b1", "b2"]),
            "c": pd.Categorical.from_codes(i % 4, ["c1", "c2", "c3", "c4"]),
            "ch": pd.Series(np.array(["zeta", "alpha", "Mid"], dtype=object)[i % 3], dtype=object),
            "ch2": pd.Series(np.array(CH2_VALUES, dtype=object)[i % 12], dtype=object),
            "lg": (i % 3 == 0),
            "o": pd.Categorical.from_codes(i % 4, ["lo", "mid", "hi", "top"], ordered=True),
            "my var": rng.uniform(1.0, 3.0, n),
            "x2": x2,
            "fna": fna,
            "chna": pd.Series(chna, dtype=object),
            "u": pd.Categorical.from_codes((i * 7) % 3, ["u1", "u2", "u3", "u4"]),
            "s": rng.integers(0, 10, n).astype(float),
            "f": rng.integers(0, 10, n).astype(float),
        }
    )
    d.index = [f"obs{k + 1}" for k in range(n)]
    return d


def _toybad() -> pd.DataFrame:
    d = _toy()
    d["one"] = pd.Categorical(["u"] * len(d))
    return d


def _types() -> pd.DataFrame:
    """pandas column types and awkward names: int64, nullable Int64 with NA, nullable boolean,
    string dtype, numbers stored as strings, float32, pandas-sorted categoricals (strings and
    integers), an ordered categorical, an unused category, non-syntactic and non-ASCII names."""
    toy = _toy()
    n = len(toy)
    d = pd.DataFrame(
        {
            "y": toy["y"].to_numpy(),
            "xi": np.arange(n, dtype=np.int64) % 7,
            "xI": pd.array([1, 2, None, 4] * (n // 4), dtype="Int64"),
            "bN": pd.array([True, False, False] * (n // 3), dtype="boolean"),
            "sN": pd.array(["u", "v", "w", "v"] * (n // 4), dtype="string"),
            "num_str": pd.Series(["10", "9", "2", "100"] * (n // 4), dtype=object),
            "a:b": toy["x"].to_numpy(),
            "\u00e9": toy["z"].to_numpy(),
            "x.1": toy["x"].to_numpy(),
            "_u": toy["z"].to_numpy(),
            "if": toy["x"].to_numpy(),
            "f32": toy["x"].to_numpy().astype(np.float32),
            "catstr": pd.Categorical(["b", "a", "c"] * (n // 3)),
            "catint": pd.Categorical([3, 1, 2] * (n // 3)),
            "ordc": pd.Categorical(["lo", "hi", "mid"] * (n // 3), categories=["lo", "mid", "hi"],
                                   ordered=True),
            "emptycat": pd.Categorical(["p", "q", "p"] * (n // 3), categories=["p", "q", "zz"]),
        }
    )
    d.index = toy.index
    return d


def _mtcars() -> pd.DataFrame:
    d = r_dataset("mtcars")
    for col in ("cyl", "gear", "am"):
        d[col] = _factor_of_numbers(d[col])
    return d


def _airquality() -> pd.DataFrame:
    d = r_dataset("airquality")
    d["fMonth"] = _factor_of_numbers(d["Month"])
    d["hot"] = (d["Temp"] > 80).to_numpy(bool)
    return d


DATASETS = {
    "toy": _toy,
    "toybad": _toybad,
    "types": _types,
    "mtcars": _mtcars,
    "iris": lambda: r_dataset("iris"),
    "warpbreaks": lambda: r_dataset("warpbreaks"),
    "ToothGrowth": lambda: r_dataset("ToothGrowth"),
    "esoph": lambda: r_dataset("esoph"),
    "CO2": lambda: r_dataset("CO2"),
    "npk": lambda: r_dataset("npk"),
    "swiss": lambda: r_dataset("swiss"),
    "airquality": _airquality,
    "InsectSprays": lambda: r_dataset("InsectSprays"),
    "sleepstudy": lambda: r_dataset("sleepstudy", "lme4"),
    "Penicillin": lambda: r_dataset("Penicillin", "lme4"),
    "infert": lambda: r_dataset("infert"),
    "chickwts": lambda: r_dataset("chickwts"),
}


# --------------------------------------------------------------------------------------------
# The grid
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    dataset: str
    formula: str
    contrasts: tuple[tuple[str, str], ...] = field(default=())

    @property
    def id(self) -> str:
        extra = "".join(f" [{k}={v}]" for k, v in self.contrasts)
        return f"{self.dataset}: {self.formula}{extra}"

    def contrasts_dict(self) -> dict[str, str] | None:
        return dict(self.contrasts) if self.contrasts else None


def _grid(dataset: str, formulas: list[Any]) -> list[Case]:
    out = []
    for item in formulas:
        if isinstance(item, tuple):
            out.append(Case(dataset, item[0], tuple(item[1].items())))
        else:
            out.append(Case(dataset, item))
    return out


TOY = [
    # operators, term expansion and ordering (R-SEMANTICS A1-A3)
    "y ~ x", "y ~ x + z", "y ~ (x)", "y ~ x + (z)", "y ~ a*b*c", "y ~ (a + b)/c", "y ~ a/b/c",
    "y ~ a/(b + c)", "y ~ b %in% a", "y ~ a + b %in% a", "y ~ (a + b):(c + x)", "y ~ a*b - a",
    "y ~ (a + b + c)^3 - a:b:c", "y ~ (a + b + c)^2", "y ~ -a + b", "y ~ a + a + a:a + a^2",
    "y ~ a:b + b:a", "y ~ a:b + b + a", "y ~ b:a + a", "y ~ c:b:a + a", "y ~ a:b:c + b + a:b",
    "y ~ ((a + b))^2", "y ~ x*z", "y ~ x:z", "y ~ (x + z + a)^2", "y ~ x %in% a",
    # intercept handling (A2)
    "y ~ 0 + a", "y ~ a + 0", "y ~ a - 1", "y ~ -1 + a", "y ~ a + -1", "y ~ a - 0", "y ~ a - 1 + 1",
    "y ~ 1", "y ~ 0", "y ~ -1", "y ~ +0", "y ~ 0 + x", "y ~ x - 1", "~ a + b + x", "~ 0 + a:b",
    "~ 1", "~ x + 0",
    # contrast vs full dummy coding (B2)
    "y ~ a", "y ~ 0 + a + b", "y ~ 0 + b + a", "y ~ a:b", "y ~ x + x:a", "y ~ x:a", "y ~ a + a:b",
    "y ~ b + a:b", "y ~ a:b + a:c", "y ~ a + b + a:b:c", "y ~ 0 + x + x:a", "y ~ 0 + x:a + b",
    "y ~ a:x + b:x", "y ~ x + a:x:b", "y ~ a:c + x", "y ~ 0 + a:b:c", "y ~ z + z:a + z:a:b",
    # character / logical / ordered / unused levels (B3-B5)
    "y ~ ch", "y ~ 0 + ch", "y ~ ch2", "y ~ 0 + ch2", "y ~ ch:a", "y ~ lg", "y ~ 0 + lg",
    "y ~ lg:a", "y ~ lg*x", "y ~ o", "y ~ 0 + o", "y ~ o:x", "y ~ o + a", "y ~ o*b", "y ~ u",
    "y ~ 0 + u", "y ~ u:x",
    # NA rows (B6)
    "y ~ x2", "y ~ fna", "y ~ chna + x", "y ~ x + x2 + fna", "y ~ 0 + fna:x2", "~ x2 + chna",
    "y ~ x + offset(x2)", "cbind(x2, s) ~ a", "x2 ~ .", "y ~ factor(chna)", "y ~ fna*chna",
    "y ~ I(x2 > 5)", "y ~ I(x/0)", "y ~ I(1/(x - x))",
    # NaN/NA made by a transform: R drops the rows and warns
    "y ~ log(x - 5)", "y ~ sqrt(x - 5)", "y ~ as.numeric(ch)",
    # functions of variables (A4, A6, B1)
    "y ~ I(x^2)", "y ~ x + I(x^2) + I(x^3)", "y ~ I(1/x)", "y ~ I(x * z)", "y ~ I(x**2)",
    "y ~ I((x + 1)^2)", "y ~ I(x - 1) + I(-z)", "y ~ I(x/2) + I(x %% 3)", "y ~ I(x > 5)",
    "y ~ I(x == z)", "y ~ log(x)", "y ~ log(x + 1)", "y ~ log(x, base = 2)", "y ~ exp(z)",
    "y ~ exp(-x)", "y ~ sqrt(x) + abs(x - 5)", "y ~ sqrt(abs(z - 2))", "y ~ poly(x, 3)",
    "y ~ poly(x, 2, raw = TRUE)", "y ~ poly(x, degree = 3, raw = TRUE)", "y ~ poly(x, 3):a",
    "y ~ a:poly(x, 2)", "y ~ poly(x, z, degree = 2)", "y ~ scale(x)", "y ~ scale(x) + log(x)",
    "y ~ scale(x, center = FALSE)", "y ~ scale(z):b", "y ~ factor(s)", "y ~ factor(z > 2)",
    "y ~ factor(lg)", "y ~ as.numeric(a)", "y ~ as.numeric(lg)", "y ~ as.numeric(o)",
    "y ~ relevel(a, \"a2\")", "y ~ relevel(a, \"a3\"):b", "y ~ relevel(a, ref = \"a3\")",
    "y ~ C(a, contr.sum)", "y ~ C(a, contr.helmert)", "y ~ C(a, contr.SAS)",
    "y ~ C(a, contr.treatment)", "y ~ C(o, contr.poly)", "y ~ C(c, contr.poly)",
    "y ~ C(o, contr.treatment)", "y ~ C(a, contr.sum) + C(b, contr.helmert)",
    "y ~ C(a, contr.SAS):x", "y ~ C(a, contr.sum):C(b, contr.sum)", "y ~ ns(x, df = 3)",
    "y ~ bs(x, df = 4)", "y ~ ns(x, df = 3):b", "y ~ bs(x, degree = 2, df = 4) + a",
    "y ~ ns(x, knots = c(3, 6, 9))", "y ~ bs(z, knots = 2.5)", "y ~ `my var`",
    "y ~ `my var` + `my var`:x", "y ~ log(`my var`)", "y ~ I(`my var`^2) + a:`my var`",
    "y ~ cbind(x, z)", "y ~ cbind(x, z) + cbind(x)", "y ~ offset(log(w)) + x",
    # named arguments before positional ones (R matches names first, then positions)
    "y ~ poly(degree = 2, x)", "y ~ scale(center = FALSE, x)", "y ~ log(base = 2, x)",
    "y ~ ns(df = 3, x) + a", "y ~ relevel(ref = \"a3\", a)", "y ~ cbind(u = x, z)",
    "y ~ x + offset(w) + offset(z) + a", "y ~ offset(x)",
    # numbers in labels, more functions and arguments, spacing (A4)
    "y ~ I(x * 1e6)", "y ~ I(100000 * x)", "y ~ I(0.001 * x)", "y ~ I(2L * x)", "y ~ I(x^-1)",
    "y ~ I(123456789012 * x)", "y ~ I(x * 1e15)", "y ~ I(x * 0x10)", "y ~ I(x + TRUE)",
    "y ~ I(x > 3 & z < 2)", "y ~ x == 1", "y ~ x %% 2", "y~I(x*2)", "y ~ poly(x,2)+log(z)",
    "y ~ x +\n z", "y ~ factor(z)", "y ~ log10(x)", "y ~ log1p(x)", "y ~ sin(x) + cos(x)",
    "y ~ round(x, 1)", "y ~ pmin(x, 5)", "y ~ ifelse(x > 5, 1, 0)", "y ~ as.factor(s)",
    "y ~ ordered(a)", "y ~ factor(a, levels = c(\"a3\", \"a1\", \"a2\"))",
    "y ~ poly(x, z, degree = 2, raw = TRUE)", "y ~ ns(x, df = 3, intercept = TRUE)",
    "y ~ bs(x, degree = 1, knots = c(4, 8))", "y ~ bs(x, df = 4, Boundary.knots = c(0, 13))",
    "y ~ scale(x, scale = FALSE)", "y ~ scale(x, center = 2, scale = 3)",
    "y ~ splines::ns(x, df = 3)", "y ~ stats::poly(x, 2)", "y ~ base::scale(x)",
    "y ~ (a + b) %in% c", "y ~ ((a + b + c)^2 - (a + b + c)):x", "y ~ factor(x > 5):a",
    "y ~ 0 + lg:x", "y ~ a*b + 0", "y ~ x + I(x)", "y ~ offset(x) - 1", "y ~ .:a",
    # C(): contrasts given by short name, by a call with arguments, with how.many
    "y ~ C(a, sum)", "y ~ C(a, helmert)", "y ~ C(a, treatment)", "y ~ C(a, SAS)",
    "y ~ C(a, \"contr.sum\")", "y ~ C(a, contr.sum(3))", "y ~ C(a, contr.treatment(3, base = 2))",
    "y ~ C(o, contr.poly(4, scores = c(1, 2, 4, 8)))", "y ~ C(a, contr.sum, 1)",
    "y ~ C(a, base = 2)",
    # functions R accepts that rmodels does not evaluate (yet)
    "y ~ cut(x, breaks = c(0, 5, 13))", "y ~ interaction(a, b)", "y ~ droplevels(u)",
    "y ~ as.logical(s)", "y ~ poly(x, 2, simple = TRUE)",
    # the response on the right-hand side: R drops it with a warning
    "y ~ x + y", "y ~ y",
    # response expressions and the dot (A5, A6)
    "log(w) ~ x + a", "exp(y/10) ~ a", "I(y - x) ~ z", "cbind(s, f) ~ x + a", "cbind(s, f) ~ .",
    "cbind(s, f - s) ~ a", "y ~ .", "y ~ . - x", "y ~ . - x2 - fna - chna", "y ~ x * .",
    "log(w) ~ . - y", "s ~ . - f - ch2 - `my var`",
    # contrasts= argument
    ("y ~ a", {"a": "contr.sum"}), ("y ~ a", {"a": "contr.helmert"}), ("y ~ a", {"a": "contr.SAS"}),
    ("y ~ o", {"o": "contr.treatment"}), ("y ~ a", {"a": "contr.poly"}),
    ("y ~ a*b", {"a": "contr.helmert", "b": "contr.sum"}), ("y ~ ch + lg", {"ch": "contr.sum"}),
    ("y ~ 0 + a + b", {"a": "contr.sum", "b": "contr.sum"}), ("y ~ x:a + a", {"a": "contr.sum"}),
    ("y ~ x", {"a": "contr.sum"}),
]

TOYBAD_ERRORS = [
    "y ~ one", "y ~ 0 + one", "y ~ x + one:x", "y ~ nosuch", "y ~ x:nosuch", "y ~ poly(x, 30)",
    "y ~ poly(x, 0)", "y ~ relevel(a, \"zz\")", "y ~ relevel(ch, \"Mid\")", "y ~ log(ch)",
    "y ~ I(x + ch)", "y ~ poly(ch, 2)", "y ~ scale(ch)", "y ~ C(a, contr.nosuch)",
    "y ~ ns(ch, df = 3)", "y ~ sqrt(a)", "y ~ x^z", "y ~ x +", "log(ch) ~ x", "y ~ C(x, contr.sum)",
    "nosuch ~ x", "y ~ relevel(x, 2)", "y ~ (x + z)^a", "y ~ 2", "y ~ (x + z + a)^0", "y ~ I(1)",
    "y ~ \"a\"", "y ~ x^1", "y ~ (a + b)^1.5", "y ~ factor(s, labels = c(\"p\", \"q\"))",
    "y ~ poly(x2, 2)",
]

TYPES = [
    "y ~ xi", "y ~ factor(xi)", "y ~ xI", "y ~ bN", "y ~ sN", "y ~ num_str", "y ~ 0 + num_str",
    "y ~ `a:b`", "y ~ `a:b`:xi", "y ~ \u00e9", "y ~ x.1", "y ~ `_u`", "y ~ `if`", "y ~ f32",
    "y ~ catstr", "y ~ catint", "y ~ ordc", "y ~ emptycat", "y ~ 0 + emptycat", "y ~ .",
    "y ~ log(xI + 1)", "y ~ sN:bN", "y ~ I(xi^2)", "y ~ poly(xi, 2)", "y ~ catint:xi",
]

MTCARS = [
    "mpg ~ wt", "mpg ~ wt + hp", "mpg ~ cyl", "mpg ~ 0 + cyl", "mpg ~ cyl - 1", "mpg ~ -1 + cyl",
    "mpg ~ cyl + 0", "mpg ~ wt*cyl", "mpg ~ wt:cyl", "mpg ~ wt + wt:cyl", "mpg ~ cyl:gear",
    "mpg ~ cyl*gear", "mpg ~ cyl/gear", "mpg ~ gear %in% cyl", "mpg ~ cyl + gear %in% cyl",
    "mpg ~ (cyl + gear + am)^2", "mpg ~ cyl*gear*am", "mpg ~ (wt + hp + cyl)^3 - wt:hp:cyl",
    "mpg ~ .", "mpg ~ . - disp", "mpg ~ .^2", "log(mpg) ~ log(hp) + log(wt)", "mpg ~ I(wt^2) + wt",
    "mpg ~ poly(wt, 3)", "mpg ~ poly(wt, 2, raw = TRUE)", "mpg ~ scale(hp)", "mpg ~ factor(carb)",
    "mpg ~ as.numeric(cyl)", "mpg ~ relevel(cyl, \"6\")", "mpg ~ C(cyl, contr.sum)",
    "mpg ~ C(cyl, contr.helmert)", "mpg ~ C(gear, contr.poly)", "mpg ~ C(cyl, contr.SAS)",
    "mpg ~ C(cyl, contr.treatment)", "mpg ~ ns(hp, df = 3)", "mpg ~ bs(hp, df = 4)",
    ("mpg ~ cyl", {"cyl": "contr.sum"}),
    ("mpg ~ cyl + gear", {"cyl": "contr.helmert", "gear": "contr.SAS"}), "mpg ~ 0 + wt:cyl + am",
    "mpg ~ 0 + wt + wt:cyl", "mpg ~ am + am:wt + am:hp", "mpg ~ wt + offset(log(hp))", "~ wt + cyl",
    "~ 1", "mpg ~ 1", "mpg ~ 0", "mpg ~ wt - 1 + 1", "mpg ~ cyl - 0", "cbind(mpg, hp) ~ wt + cyl",
    "mpg ~ I(1/wt) + I(hp * wt)", "mpg ~ I(wt**2)", "mpg ~ exp(-wt) + sqrt(hp)",
    "mpg ~ log(disp + 1)", "mpg ~ abs(wt - 3)", "mpg ~ cyl:am:gear", "mpg ~ gear + cyl:gear",
    "mpg ~ (cyl + am):(wt + hp)", "mpg ~ poly(wt, 2):cyl", "mpg ~ log(wt, base = 2)",
    "mpg ~ hp:wt + wt", "mpg ~ factor(vs) * am",
]

IRIS = [
    "Sepal.Length ~ Species", "Sepal.Length ~ .", "Sepal.Length ~ . - Species",
    "Sepal.Length ~ .^2", "Sepal.Length ~ Petal.Length*Species",
    "Sepal.Length ~ 0 + Species + Petal.Width", "Sepal.Length ~ Species:Petal.Width",
    "Sepal.Length ~ Petal.Width + Petal.Width:Species",
    "Sepal.Length ~ 0 + Petal.Width:Species + Sepal.Width", "Sepal.Length ~ poly(Petal.Length, 3)",
    "Sepal.Length ~ poly(Petal.Length, degree = 2, raw = TRUE)*Species",
    "Sepal.Length ~ ns(Petal.Length, df = 3) + Species", "Sepal.Length ~ bs(Sepal.Width, df = 5)",
    "Sepal.Length ~ scale(Petal.Length) + scale(Petal.Width, center = FALSE)",
    "Sepal.Length ~ relevel(Species, \"virginica\")", "Sepal.Length ~ C(Species, contr.helmert)",
    ("Sepal.Length ~ Species", {"Species": "contr.poly"}),
    "log(Sepal.Length) ~ log(Petal.Length) + Species",
    "Sepal.Length ~ I(Petal.Length * Petal.Width) + I(Petal.Length^2)",
    "Sepal.Length ~ Petal.Length %in% Species", "Sepal.Length ~ Species/Petal.Length",
    "Sepal.Length ~ Species/(Petal.Length + Petal.Width)",
    "Sepal.Length ~ (Petal.Length + Petal.Width)/Species", "Sepal.Length ~ as.numeric(Species)",
    "Sepal.Length ~ factor(Species == \"setosa\")",
    "Sepal.Length ~ sqrt(Petal.Width) + exp(Sepal.Width/10)",
    "cbind(Sepal.Length, Sepal.Width) ~ .", "~ Species + 0", "~ Species:Petal.Length - 1",
    "Sepal.Length ~ I(Species == \"virginica\")",
]

WARPBREAKS = [
    "breaks ~ wool + tension", "breaks ~ wool*tension", "breaks ~ wool:tension",
    "breaks ~ 0 + wool:tension", "breaks ~ tension:wool", "breaks ~ 0 + tension + wool",
    "breaks ~ wool/tension", "breaks ~ tension %in% wool", "breaks ~ relevel(tension, \"M\")",
    "breaks ~ relevel(tension, \"H\")*wool", "breaks ~ C(tension, contr.poly)",
    "breaks ~ C(tension, contr.sum) + C(wool, contr.sum)",
    "breaks ~ C(tension, contr.helmert):wool", ("breaks ~ tension", {"tension": "contr.SAS"}),
    ("breaks ~ wool*tension", {"wool": "contr.sum", "tension": "contr.helmert"}), "log(breaks) ~ .",
    "sqrt(breaks) ~ . - wool", "breaks ~ (wool + tension)^2", "breaks ~ as.numeric(tension)",
    "breaks ~ as.numeric(tension) + I(as.numeric(tension)^2)",
    "breaks ~ factor(as.numeric(tension))", "breaks ~ wool + tension - 1",
    "breaks ~ wool:tension + wool", "~ wool + tension + wool:tension + 0",
]

TOOTHGROWTH = [
    "len ~ supp + dose", "len ~ supp*dose", "len ~ factor(dose)", "len ~ factor(dose)*supp",
    "len ~ 0 + factor(dose):supp", "len ~ poly(dose, 2)", "len ~ poly(dose, 2)*supp",
    "len ~ supp/poly(dose, 2)", "len ~ log(dose) + supp", "len ~ dose + dose:supp",
    "len ~ 0 + dose:supp + supp", "len ~ I(dose^2) + I(dose^3)", "len ~ relevel(supp, \"VC\")",
    "len ~ C(supp, contr.sum)*log(dose)", "len ~ factor(dose, levels = c(2, 1, 0.5))",
    "len ~ scale(dose)", "len ~ ns(dose, df = 2)", "~ supp", "len ~ .", "len ~ .^2",
    "len ~ log10(dose) + log2(dose)",
    # a variable of a transformed response, used again beside `.`, moves to the end of R's
    # variable list ("I(dose^2):len")
    "log(len) ~ . + len:dose", "log(len) ~ . + len:I(dose^2)", "log(len) ~ supp + len:I(dose^2)",
]

ESOPH = [
    "ncases ~ agegp", "ncases ~ agegp + alcgp + tobgp", "ncases ~ agegp*alcgp",
    "ncases ~ 0 + agegp", "ncases ~ agegp:tobgp", "ncases ~ tobgp + tobgp:alcgp",
    "cbind(ncases, ncontrols) ~ agegp + tobgp*alcgp", "cbind(ncases, ncontrols) ~ .",
    "I(ncases/(ncases + ncontrols)) ~ agegp", "ncases ~ C(agegp, contr.treatment)",
    "ncases ~ C(agegp, contr.helmert)", ("ncases ~ agegp", {"agegp": "contr.treatment"}),
    ("ncases ~ alcgp + tobgp", {"tobgp": "contr.sum"}), "ncases ~ as.numeric(agegp)",
    "ncases ~ factor(agegp, ordered = FALSE)", "ncases ~ agegp + log(ncontrols)",
    "ncases ~ agegp + offset(log(ncontrols))", "ncases ~ alcgp:ncontrols",
    "ncases ~ ncontrols + ncontrols:alcgp", "ncases ~ 0 + alcgp:tobgp",
    "ncases ~ C(agegp, contr.poly, 2)",
]

CO2 = [
    "uptake ~ Type*Treatment", "uptake ~ Plant", "uptake ~ 0 + Plant", "uptake ~ log(conc)*Type",
    "uptake ~ poly(conc, 3) + Treatment", "uptake ~ ns(conc, df = 3)*Type",
    "uptake ~ bs(conc, df = 4) + Type:Treatment", "uptake ~ Type/Plant",
    ("uptake ~ Plant", {"Plant": "contr.treatment"}), "uptake ~ C(Plant, contr.sum)", "uptake ~ .",
    "uptake ~ . - Plant", "uptake ~ (. - Plant)^2", "log(uptake) ~ conc + I(conc^2) + Treatment",
    "uptake ~ conc:Treatment + Type", "uptake ~ 0 + conc:Treatment + Type",
    "uptake ~ scale(conc)*Treatment", "uptake ~ Treatment %in% Type",
    "uptake ~ relevel(Treatment, \"chilled\")", "uptake ~ factor(conc)",
    "uptake ~ factor(Plant, ordered = FALSE)",
]

NPK = [
    "yield ~ block + N*P*K", "yield ~ N*P*K", "yield ~ (N + P + K)^2", "yield ~ block + N + P + K",
    "yield ~ N:P:K", "yield ~ 0 + N:P", "yield ~ block/N", "yield ~ N + N:P + N:P:K", "yield ~ .",
    "yield ~ . - block", "yield ~ .^2", "yield ~ N*P*K - N:P:K",
    "yield ~ C(N, contr.sum)*C(P, contr.sum)", ("yield ~ block", {"block": "contr.helmert"}),
    ("yield ~ block", {"block": "contr.poly"}), "yield ~ as.numeric(block)",
    "yield ~ relevel(block, \"3\") + N", "log(yield) ~ N + P",
]

SWISS = [
    "Fertility ~ .", "Fertility ~ . - Examination", "Fertility ~ .^2",
    "Fertility ~ Agriculture + Education", "Fertility ~ poly(Education, 3)",
    "Fertility ~ poly(Agriculture, Education, degree = 2)",
    "Fertility ~ log(Education) + sqrt(Catholic)", "Fertility ~ I(Catholic > 50)",
    "Fertility ~ ns(Agriculture, df = 4)", "Fertility ~ bs(Education, df = 3)",
    "Fertility ~ bs(Education, df = 5, degree = 2)",
    "Fertility ~ ns(Education, knots = c(5, 10, 20))",
    "Fertility ~ scale(Agriculture) + scale(Education)",
    "log(Fertility) ~ log(Agriculture) + Infant.Mortality",
    "Fertility ~ Agriculture*Education*Catholic",
    "Fertility ~ I(Agriculture/100) + I((Education + 1)^2)",
    "Fertility ~ I(-Education) + I(Catholic %% 10)", "Fertility ~ 0 + Agriculture + Education",
    "Fertility ~ Agriculture + offset(Education) + offset(Catholic)",
    "Fertility ~ exp(Education/10)", "Fertility ~ poly(Catholic, 4, raw = TRUE)",
]

AIRQUALITY = [
    "Ozone ~ Solar.R + Wind + Temp", "Ozone ~ .", "Ozone ~ Wind*fMonth",
    "log(Ozone) ~ Temp + fMonth", "Ozone ~ hot", "Ozone ~ 0 + hot", "Ozone ~ hot:fMonth",
    "Ozone ~ Temp + hot:Temp", "Ozone ~ poly(Temp, 2)", "Ozone ~ scale(Wind)", "~ Solar.R",
    "~ Ozone + Solar.R", "Wind ~ poly(Day, 3)", "Ozone ~ ns(Temp, df = 3)",
    "Ozone ~ factor(Month) + Day", "Ozone ~ I(Solar.R/100) + Wind:Temp",
    "sqrt(Ozone) ~ Solar.R*hot", "Ozone ~ log(Solar.R + 1)", "cbind(Ozone, Solar.R) ~ Wind",
    "Ozone ~ relevel(fMonth, \"7\")", "Ozone ~ bs(Wind, df = 4) + Temp",
    # transforms of a variable with NA (R evaluates them on all rows, then drops)
    "Ozone ~ scale(Solar.R)", "Ozone ~ poly(Solar.R, 2, raw = TRUE)",
    "Ozone ~ I(Solar.R - mean(Solar.R))", "Ozone ~ ns(Solar.R, df = 3)", "Ozone ~ cut(Temp, 3)",
]

INSECTSPRAYS = [
    "count ~ spray", "count ~ 0 + spray", "sqrt(count) ~ spray", "log(count + 1) ~ spray",
    "count ~ relevel(spray, \"C\")", "count ~ C(spray, contr.sum)",
    "count ~ C(spray, contr.helmert)", "count ~ C(spray, contr.SAS)",
    "count ~ C(spray, contr.poly)", ("count ~ spray", {"spray": "contr.sum"}),
    ("count ~ spray", {"spray": "contr.treatment"}),
    "count ~ factor(spray, levels = c(\"F\", \"E\", \"D\", \"C\", \"B\", \"A\"))",
    "count ~ as.numeric(spray)", "count ~ I(spray == \"C\")",
    "count ~ I(spray %in% c(\"A\", \"B\", \"F\"))", "count ~ .",
]

SLEEPSTUDY = [
    "Reaction ~ Days", "Reaction ~ Days + Subject", "Reaction ~ Days*Subject",
    "Reaction ~ 0 + Subject + Days:Subject", "Reaction ~ Days:Subject", "Reaction ~ Subject/Days",
    "Reaction ~ poly(Days, 3)", "Reaction ~ poly(Days, 2, raw = TRUE)", "Reaction ~ factor(Days)",
    "Reaction ~ factor(Days) + Subject", "Reaction ~ ns(Days, df = 3)",
    "Reaction ~ bs(Days, df = 4)", "log(Reaction) ~ Days", "Reaction ~ I(Days - 4.5)",
    "Reaction ~ scale(Days)", "Reaction ~ C(Subject, contr.sum)",
    "Reaction ~ relevel(Subject, \"372\")", "Reaction ~ .",
    "Reaction ~ Days + I(Days^2) + I(Days^3)",
]

PENICILLIN = [
    "diameter ~ plate + sample", "diameter ~ sample", "diameter ~ 0 + sample", "diameter ~ .",
    ("diameter ~ sample", {"sample": "contr.sum"}), "diameter ~ C(sample, contr.helmert) + plate",
    "log(diameter) ~ sample", "diameter ~ plate:sample", "diameter ~ relevel(sample, \"F\")",
    "diameter ~ as.numeric(plate)",
]

INFERT = [
    "case ~ education + age + parity", "case ~ spontaneous + induced",
    "case ~ factor(spontaneous) + factor(induced)", "case ~ education*age", "case ~ .",
    "case ~ . - stratum - pooled.stratum", "cbind(case, 1 - case) ~ age + parity",
    "case ~ poly(age, 2) + education", "case ~ ns(age, df = 3)",
    "case ~ education + offset(log(parity))", "case ~ relevel(education, \"6-11yrs\")",
    "case ~ C(education, contr.poly)", "case ~ as.numeric(education)",
    "case ~ education:factor(induced)", ("case ~ education", {"education": "contr.helmert"}),
]

CHICKWTS = [
    "weight ~ feed", "weight ~ 0 + feed", "weight ~ relevel(feed, \"soybean\")",
    "log(weight) ~ feed", "weight ~ C(feed, contr.sum)", ("weight ~ feed", {"feed": "contr.SAS"}),
    "weight ~ .", "weight ~ as.character(feed)", "~ feed - 1",
]

CASES: list[Case] = (
    _grid("toy", TOY) + _grid("types", TYPES) + _grid("mtcars", MTCARS) + _grid("iris", IRIS)
    + _grid("warpbreaks", WARPBREAKS) + _grid("ToothGrowth", TOOTHGROWTH) + _grid("esoph", ESOPH)
    + _grid("CO2", CO2) + _grid("npk", NPK) + _grid("swiss", SWISS)
    + _grid("airquality", AIRQUALITY) + _grid("InsectSprays", INSECTSPRAYS)
    + _grid("sleepstudy", SLEEPSTUDY) + _grid("Penicillin", PENICILLIN) + _grid("infert", INFERT)
    + _grid("chickwts", CHICKWTS)
)
ERROR_CASES: list[Case] = _grid("toybad", TOYBAD_ERRORS) + [
    Case("airquality", "Ozone ~ poly(Solar.R, 2)"),  # poly() refuses NA
]
ALL_CASES = CASES + ERROR_CASES


# Mismatches with R found by this grid and not yet fixed in rmodels, by case id. They run as
# strict xfails: a fix turns them into XPASS failures, and the entry must then be removed.
_NOT_EVALUATED = "function not evaluated by rmodels' formula engine"
KNOWN_MATRIX_MISMATCHES: dict[str, str] = {}
KNOWN_FRAME_MISMATCHES: dict[str, str] = {}


def _params(cases: list[Case], known: dict[str, str]) -> list[Any]:
    return [pytest.param(c, id=c.id, marks=[pytest.mark.xfail(strict=True, reason=known[c.id])]
                         if c.id in known else []) for c in cases]


# --------------------------------------------------------------------------------------------
# R side: one call per data set, cached for the module
# --------------------------------------------------------------------------------------------

R_GRID_FUNCTION = r"""
.rmodels_collect <- function(expr) {
  warned <- character(0)
  value <- withCallingHandlers(expr, warning = function(w) {
    # terms.formula's note on its own bookkeeping ("'varlist' has changed ... should no longer
    # happen!") is not about the data; rmodels need not repeat it.
    if (!grepl("'varlist' has changed", conditionMessage(w), fixed = TRUE))
      warned <<- c(warned, conditionMessage(w))
    invokeRestart("muffleWarning")
  })
  list(value = value, warnings = warned)
}
.rmodels_grid <- function(d, forms, ctrs) {
  lapply(seq_along(forms), function(i) tryCatch({
    f <- eval(parse(text = forms[[i]], keep.source = FALSE)[[1]], globalenv())
    environment(f) <- globalenv()
    mf <- .rmodels_collect(model.frame(f, d))
    mm <- .rmodels_collect(if (is.null(ctrs[[i]])) model.matrix(f, d)
                           else model.matrix(f, d, contrasts.arg = ctrs[[i]]))
    flat <- .rmodels_flatten(mf$value)
    num <- lapply(flat, function(v) if (is.numeric(v)) as.double(v) else NULL)
    fac <- lapply(flat, function(v) if (is.factor(v))
                                      list(levels = levels(v), values = as.character(v)))
    other <- lapply(flat, function(v) if (is.character(v) || is.logical(v)) as.character(v))
    X <- mm$value
    list(ok = TRUE, colnames = as.character(colnames(X)), assign = as.double(attr(X, "assign")),
         values = matrix(as.double(X), nrow(X), ncol(X)),
         mm_rows = as.character(rownames(X)), mf_rows = as.character(rownames(mf$value)),
         mf_names = names(flat), mf_numeric = num, mf_factor = fac, mf_other = other,
         mf_warnings = mf$warnings, mm_warnings = mm$warnings)
  }, error = function(e) list(ok = FALSE, message = conditionMessage(e))))
}
# R's model frame holds matrix variables (cbind(), poly(), ns() ...) as one matrix column;
# rmodels' DataFrame splits them into "label.colname" (or "label.j" for an unnamed column
# j), and a one-column matrix (scale(x)) keeps its label.
.rmodels_flatten <- function(mf) {
  out <- list()
  for (nm in names(mf)) {
    v <- mf[[nm]]
    if (is.matrix(v) && ncol(v) > 1) {
      cn <- colnames(v)
      if (is.null(cn)) cn <- rep("", ncol(v))
      cn[cn == ""] <- as.character(seq_len(ncol(v)))[cn == ""]
      for (j in seq_len(ncol(v))) out[[paste0(nm, ".", cn[j])]] <- as.vector(v[, j])
    } else if (is.matrix(v)) {
      out[[nm]] <- as.vector(v[, 1])
    } else {
      out[[nm]] <- v
    }
  }
  out
}
.rmodels_send_rownames <- function(name, path) {
  d <- get(name, envir = globalenv())
  rownames(d) <- readLines(path, encoding = "UTF-8")
  assign(name, d, envir = globalenv())
  invisible(NULL)
}
suppressMessages(library(splines))
"""


def send_with_rownames(df: pd.DataFrame, name: str) -> None:
    """``send_df`` plus R row names equal to ``df.index`` (as strings); a default RangeIndex
    stands for R's automatic row names 1..n."""
    send_df(df.reset_index(drop=True), name)
    if isinstance(df.index, pd.RangeIndex) and df.index.start == 0 and df.index.step == 1:
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "rownames")
        with open(path, "w", encoding="utf-8") as fh:
            fh.write("\n".join(str(v) for v in df.index) + "\n")
        r(f".rmodels_send_rownames({_rstr(name)}, {_rstr(path)})")


def _r_list_of_contrasts(cases: list[Case]) -> str:
    items = []
    for c in cases:
        if c.contrasts:
            items.append("list(" + ", ".join(f"{k} = {_rstr(v)}" for k, v in c.contrasts) + ")")
        else:
            items.append("NULL")
    return "list(" + ", ".join(items) + ")"


class RGrid:
    """Python data sets and R's results, each computed once per data set."""

    def __init__(self) -> None:
        r(R_GRID_FUNCTION)
        self._data: dict[str, pd.DataFrame] = {}
        self._results: dict[str, dict[Case, dict[str, Any]]] = {}
        self._sent: set[str] = set()

    def data(self, dataset: str) -> pd.DataFrame:
        if dataset not in self._data:
            self._data[dataset] = DATASETS[dataset]()
        return self._data[dataset]

    def send(self, dataset: str) -> str:
        """Make sure R holds the data set; return its R name."""
        rname = f".rmodels_d_{dataset}"
        if dataset not in self._sent:
            send_with_rownames(self.data(dataset), rname)
            self._sent.add(dataset)
        return rname

    def result(self, case: Case) -> dict[str, Any]:
        if case.dataset not in self._results:
            cases = [c for c in ALL_CASES if c.dataset == case.dataset]
            rname = self.send(case.dataset)
            forms = "c(" + ", ".join(_rstr(c.formula) for c in cases) + ")"
            out = r(f".rmodels_grid({rname}, {forms}, {_r_list_of_contrasts(cases)})")
            self._results[case.dataset] = dict(zip(cases, out))
        return self._results[case.dataset][case]


@pytest.fixture(scope="module")
def grid() -> RGrid:
    return RGrid()


def _flag(v: Any) -> bool:
    return bool(np.asarray(v).ravel()[0])


@contextlib.contextmanager
def warns_like_r(r_warnings: Any) -> Iterator[None]:
    """Where R warned, rmodels must issue an RModelsWarning; elsewhere no warning at all
    (pytest turns stray warnings into errors)."""
    if _strs(r_warnings):
        with pytest.warns(RModelsWarning):
            yield
    else:
        yield


def _named(v: Any) -> dict[str, Any]:
    """An R named list as a dict (an empty R list arrives as [])."""
    return v if isinstance(v, dict) else {}


def _strs(v: Any) -> list[str]:
    return [] if v is None else list(v)


# --------------------------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------------------------


def test_grid_size() -> None:
    assert len(CASES) >= 250
    assert len(ERROR_CASES) >= 10
    assert len({c.dataset for c in CASES}) >= 10
    assert len(set(ALL_CASES)) == len(ALL_CASES), "duplicate grid entries"
    ids = {c.id for c in ALL_CASES}
    assert set(KNOWN_MATRIX_MISMATCHES) <= ids and set(KNOWN_FRAME_MISMATCHES) <= ids


@pytest.mark.parametrize("case", _params(ALL_CASES, KNOWN_MATRIX_MISMATCHES))
def test_model_matrix_matches_r(grid: RGrid, case: Case) -> None:
    res = grid.result(case)
    data = grid.data(case.dataset)
    if case in ERROR_CASES:
        assert not _flag(res["ok"]), f"R accepted a formula listed as an error: {case.id}"
        with pytest.raises(RModelsError):
            rmodels.model_matrix(case.formula, data, contrasts=case.contrasts_dict())
        return
    assert _flag(res["ok"]), f"R failed: {res.get('message')}"
    with warns_like_r(res["mm_warnings"]):
        mm = rmodels.model_matrix(case.formula, data, contrasts=case.contrasts_dict())
    assert isinstance(mm, pd.DataFrame)
    assert list(mm.columns) == _strs(res["colnames"])
    np.testing.assert_array_equal(np.asarray(mm.attrs["assign"], dtype=float), res["assign"])
    expected = np.asarray(res["values"], dtype=float).reshape(
        len(_strs(res["mm_rows"])), len(mm.columns))
    got = mm.to_numpy(dtype=float)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("case", _params(CASES, KNOWN_FRAME_MISMATCHES))
def test_model_frame_matches_r(grid: RGrid, case: Case) -> None:
    res = grid.result(case)
    data = grid.data(case.dataset)
    with warns_like_r(res["mf_warnings"]):
        mf = rmodels.model_frame(case.formula, data)
    assert [str(v) for v in mf.index] == _strs(res["mf_rows"])
    # Matrix-valued variables are split into columns (see .rmodels_flatten in the R code).
    assert list(mf.columns) == _strs(res["mf_names"])
    for name, values in _named(res["mf_numeric"]).items():
        if values is not None:
            got = pd.to_numeric(mf[name]).to_numpy(dtype=float)
            np.testing.assert_allclose(got, values, rtol=RTOL, atol=ATOL, err_msg=name)
    for name, fac in _named(res["mf_factor"]).items():
        if fac is not None:
            col = mf[name]
            assert isinstance(col.dtype, pd.CategoricalDtype), name
            assert [str(v) for v in col.cat.categories] == _strs(fac["levels"]), name
            assert [str(v) for v in col.astype(str)] == _strs(fac["values"]), name
    for name, values in _named(res["mf_other"]).items():
        if values is not None:  # character and logical variables
            got = [("TRUE" if v else "FALSE") if isinstance(v, (bool, np.bool_)) else str(v)
                   for v in mf[name]]
            assert got == _strs(values), name


ROWNAME_CASES = [c for c in CASES if c.formula in (
    "y ~ x + x2 + fna", "Ozone ~ Solar.R + Wind + Temp", "mpg ~ wt*cyl", "Fertility ~ .",
    "y ~ chna + x", "~ Solar.R")]


@pytest.mark.parametrize("case", ROWNAME_CASES, ids=lambda c: c.id)
def test_model_matrix_row_names(grid: RGrid, case: Case) -> None:
    res = grid.result(case)
    mm = rmodels.model_matrix(case.formula, grid.data(case.dataset))
    assert [str(v) for v in mm.index] == _strs(res["mm_rows"])


SUBSET_CASES = [
    ("airquality", "Ozone ~ Wind + Temp", "Month == 5"),
    ("airquality", "Ozone ~ poly(Temp, 2) + fMonth", "Day > 10"), ("toy", "y ~ x2 + a", "x > 4"),
    ("toy", "y ~ fna:x", "b == 'b2'"), ("mtcars", "mpg ~ wt + cyl", "hp > 100"),
    ("toy", "y ~ scale(x) + ns(z, df = 3)", "x > 4"), ("toy", "y ~ I(x - mean(x))", "z < 3"),
    ("mtcars", "mpg ~ poly(wt, 2)", "hp > 100"),
]


@pytest.mark.parametrize("positions", [False, True], ids=["mask", "positions"])
@pytest.mark.parametrize("dataset,formula,condition", SUBSET_CASES,
                         ids=[f"{d}: {f} | {c}" for d, f, c in SUBSET_CASES])
def test_model_frame_subset(grid: RGrid, dataset: str, formula: str, condition: str,
                            positions: bool) -> None:
    """R evaluates the variables (poly, scale, ns, mean ...) on all rows, then subsets."""
    data = grid.data(dataset)
    rname = grid.send(dataset)
    mask = np.asarray(r(f"with({rname}, {condition})"), dtype=bool)
    expected = r(f"{{mf <- model.frame({formula}, {rname}, subset = with({rname}, {condition}));"
                 " list(rows = rownames(mf), flat = .rmodels_flatten(mf))}")
    mf = rmodels.model_frame(formula, data, subset=np.flatnonzero(mask) if positions else mask)
    assert [str(v) for v in mf.index] == expected["rows"]
    assert list(mf.columns) == list(expected["flat"])
    for name, values in expected["flat"].items():
        if isinstance(values, np.ndarray):
            got = pd.to_numeric(mf[name]).to_numpy(dtype=float)
            np.testing.assert_allclose(got, values, rtol=RTOL, atol=ATOL, err_msg=name)


def test_character_collation(grid: RGrid) -> None:
    """Levels of a character column follow R's sort(): ICU root collation (module docstring)."""
    rname = grid.send("toy")
    r_levels = r(f"levels(factor({rname}$ch2))")
    assert r_levels == ["_x", "10", "1a", "9", "\u00c4", "a b", "ab", "alpha", "b", "B", "Mid",
                        "zeta"], "R's collation differs from the one documented above"
    mm = rmodels.model_matrix("y ~ 0 + ch2", grid.data("toy"))
    assert list(mm.columns) == [f"ch2{lev}" for lev in r_levels]


# --------------------------------------------------------------------------------------------
# Predict-style encoding: the stored spec applied to new data
# --------------------------------------------------------------------------------------------


def _toy_new() -> pd.DataFrame:
    d = _toy().iloc[[1, 4, 8, 15, 22]].copy()
    d["x"] = [0.25, 13.5, 6.0, np.nan, 2.0]
    d["z"] = [0.1, 6.0, 2.2, 1.0, 3.3]
    d["ch"] = pd.Series(["Mid", "Mid", "zeta", "zeta", "Mid"], index=d.index, dtype=object)
    d.index = [f"new{k}" for k in range(len(d))]
    return d


def _airquality_new() -> pd.DataFrame:
    d = _airquality().iloc[[0, 4, 40, 100]].copy()
    d["Temp"] = [50.0, 99.0, 75.0, 61.5]
    d.index = [f"n{k}" for k in range(len(d))]
    return d


def _mtcars_new() -> pd.DataFrame:
    d = _mtcars().iloc[[2, 5, 30]].copy()
    d["wt"] = [1.0, 6.0, 3.3]
    return d


def _co2_new() -> pd.DataFrame:
    d = r_dataset("CO2").iloc[[0, 50, 83]].copy()
    d["conc"] = [50.0, 1200.0, 400.0]
    return d


PREDICT_DATA = {
    "toy": (_toy, _toy_new),
    "airquality": (_airquality, _airquality_new),
    "mtcars": (_mtcars, _mtcars_new),
    "CO2": (lambda: r_dataset("CO2"), _co2_new),
}

PREDICT_CASES = [
    ("toy", "y ~ poly(x, 3)"), ("toy", "y ~ poly(x, 2, raw = TRUE)"), ("toy", "y ~ scale(x)"),
    ("toy", "y ~ scale(x)*a"), ("toy", "y ~ ns(x, df = 3)"), ("toy", "y ~ bs(x, df = 4)"),
    ("toy", "y ~ ns(x, df = 3) + bs(z, df = 5)"), ("toy", "y ~ a*x + b"), ("toy", "y ~ ch + lg"),
    ("toy", "y ~ o + log(z)"), ("toy", "y ~ relevel(a, \"a2\") + x"), ("toy", "y ~ u + x"),
    ("toy", "y ~ I(x - mean(x))"), ("toy", "y ~ C(a, contr.sum) + x"), ("toy", "y ~ poly(x, 2):b"),
    ("toy", "y ~ x + offset(log(w))"), ("toy", "y ~ offset(w) + a + offset(z^2)"),
    ("toy", "y ~ `my var` + a:b"), ("toy", "y ~ base::scale(x)"),
    ("toy", "y ~ splines::ns(x, df = 3)"), ("toy", "y ~ stats::poly(x, 2)"),
    ("toy", "y ~ 0 + ch:x"),
    ("toy", "y ~ poly(x, z, degree = 2)"), ("toy", "y ~ scale(z, center = FALSE)"),
    ("airquality", "Ozone ~ poly(Temp, 2) + fMonth"), ("airquality", "Ozone ~ scale(Temp) + hot"),
    ("airquality", "Ozone ~ ns(Temp, df = 3)"), ("mtcars", "mpg ~ poly(wt, 2) + cyl"),
    ("mtcars", "mpg ~ bs(wt, df = 5):am"), ("CO2", "uptake ~ ns(conc, df = 3)*Type"),
    ("CO2", "uptake ~ log(conc) + Plant"),
]

R_PREDICT_FUNCTION = r"""
.rmodels_predict_grid <- function(train, new, forms) {
  lapply(forms, function(txt) tryCatch({
    f <- eval(parse(text = txt, keep.source = FALSE)[[1]], globalenv())
    environment(f) <- globalenv()
    fit <- .rmodels_collect(lm(f, train))
    tt <- delete.response(terms(fit$value))
    mf <- NULL
    enc <- .rmodels_collect({
      mf <- model.frame(tt, new, xlev = fit$value$xlevels, na.action = na.pass)
      model.matrix(tt, mf, contrasts.arg = fit$value$contrasts)
    })
    mm <- enc$value
    off <- model.offset(mf)
    list(ok = TRUE, colnames = as.character(colnames(mm)),
         values = matrix(as.double(mm), nrow(mm), ncol(mm)),
         offset = if (is.null(off)) NULL else as.double(off),
         fit_warnings = fit$warnings, new_warnings = enc$warnings)
  }, error = function(e) list(ok = FALSE, message = conditionMessage(e))))
}
"""


@pytest.fixture(scope="module")
def predict_results(grid: RGrid) -> dict[tuple[str, str], dict[str, Any]]:
    r(R_PREDICT_FUNCTION)
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for dataset, (make_train, make_new) in PREDICT_DATA.items():
        forms = [f for d, f in PREDICT_CASES if d == dataset]
        send_with_rownames(make_train(), ".rmodels_train")
        send_with_rownames(make_new(), ".rmodels_new")
        res = r(".rmodels_predict_grid(.rmodels_train, .rmodels_new, c("
                + ", ".join(_rstr(f) for f in forms) + "))")
        out.update({(dataset, f): v for f, v in zip(forms, res)})
    return out


KNOWN_PREDICT_MISMATCHES: dict[str, str] = {}


def _predict_params() -> list[Any]:
    out = []
    for dataset, formula in PREDICT_CASES:
        key = f"{dataset}: {formula}"
        reason = KNOWN_PREDICT_MISMATCHES.get(key)
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        out.append(pytest.param(dataset, formula, id=key, marks=marks))
    return out


@pytest.mark.parametrize("dataset,formula", _predict_params())
def test_spec_on_new_data_matches_r(predict_results: dict, dataset: str, formula: str) -> None:
    from rmodels.design import build_design

    res = predict_results[(dataset, formula)]
    assert _flag(res["ok"]), f"R failed: {res.get('message')}"
    make_train, make_new = PREDICT_DATA[dataset]
    assert not _strs(res["fit_warnings"]), "grid entries must fit without warnings in R"
    design = build_design(formula, make_train())
    # R's model.matrix says "contrasts dropped from factor C(a, contr.sum)" when predict()
    # re-encodes a C() term (an artefact of passing contrasts.arg); that one is not required.
    new_warnings = [w for w in _strs(res["new_warnings"])
                    if not w.startswith("contrasts dropped from factor")]
    if new_warnings:  # e.g. bs(): values beyond the boundary knots
        with pytest.warns(RModelsWarning):
            X, ok = design.spec.model_matrix(make_new())
    else:
        X, ok = design.spec.model_matrix(make_new())
    colnames = _strs(res["colnames"])
    assert list(design.columns) == colnames
    expected = np.asarray(res["values"], dtype=float).reshape(-1, len(colnames))
    X = np.asarray(X, dtype=float)
    assert X.shape == expected.shape
    na_rows = np.isnan(expected).any(axis=1)
    # R (na.pass) leaves NA only in the affected columns; rmodels may blank the whole row.
    assert not np.asarray(ok, dtype=bool)[na_rows].any()
    np.testing.assert_allclose(X[~na_rows], expected[~na_rows], rtol=RTOL, atol=ATOL)
    offset = design.spec.offset(make_new())
    if res["offset"] is None:
        assert offset is None
    else:
        np.testing.assert_allclose(np.asarray(offset, dtype=float), res["offset"], rtol=RTOL,
                                   atol=ATOL)


NEW_LEVEL_CASES = [
    ("y ~ a + x", {"a": ["a1", "a9"]}), ("y ~ u + x", {"u": ["u1", "u4"]}),
    ("y ~ ch + x", {"ch": ["alpha", "omega"]}), ("y ~ factor(s) + x", {"s": [1.0, 99.0]}),
]


@pytest.mark.parametrize("formula,change", NEW_LEVEL_CASES, ids=[f for f, _ in NEW_LEVEL_CASES])
def test_spec_new_level_is_an_error(grid: RGrid, formula: str, change: dict) -> None:
    from rmodels.design import build_design

    train = _toy()
    new = train.iloc[:2].copy()
    for col, values in change.items():
        if isinstance(train[col].dtype, pd.CategoricalDtype):
            cats = list(train[col].cat.categories) + [v for v in values
                                                      if v not in train[col].cat.categories]
            new[col] = pd.Categorical(values, categories=cats)
        else:
            new[col] = pd.Series(values, index=new.index, dtype=train[col].dtype)
    r(R_PREDICT_FUNCTION)
    send_with_rownames(train, ".rmodels_train")
    send_with_rownames(new, ".rmodels_new")
    res = r(f".rmodels_predict_grid(.rmodels_train, .rmodels_new, {_rstr(formula)})")[0]
    assert not _flag(res["ok"]) and "new level" in res["message"][0]
    design = build_design(formula, train)
    with pytest.raises(RModelsError, match="new level"):
        design.spec.model_matrix(new)


NA_ACTION_CASES = [("airquality", "Ozone ~ Solar.R + Wind"), ("toy", "y ~ x2 + fna + chna"),
                   ("toy", "y ~ x + a")]


@pytest.mark.parametrize("na_action", ["omit", "exclude", "fail"])
@pytest.mark.parametrize("dataset,formula", NA_ACTION_CASES,
                         ids=[f"{d}: {f}" for d, f in NA_ACTION_CASES])
def test_model_frame_na_action(grid: RGrid, dataset: str, formula: str, na_action: str) -> None:
    """na.omit / na.exclude drop the incomplete rows from the frame; na.fail refuses them."""
    rname = grid.send(dataset)
    res = r(f"tryCatch(rownames(model.frame({formula}, {rname}, na.action = na.{na_action})),"
            " error = function(e) paste('ERROR:', conditionMessage(e)))")
    if res and res[0].startswith("ERROR:"):
        with pytest.raises(RModelsError):
            rmodels.model_frame(formula, grid.data(dataset), na_action=na_action)
    else:
        mf = rmodels.model_frame(formula, grid.data(dataset), na_action=na_action)
        assert [str(v) for v in mf.index] == res


WEIGHT_OFFSET_CASES = [
    ("toy", "y ~ x", {"weights": "w"}), ("toy", "y ~ x", {"offset": "z"}),
    ("toy", "y ~ x + offset(s)", {"weights": "w", "offset": "z"}),
    ("toy", "y ~ a", {"weights": "x2"}),  # NA weights drop rows as NA data do
    ("airquality", "Ozone ~ Wind", {"weights": "Temp", "offset": "Solar.R"}),
]


@pytest.mark.parametrize("dataset,formula,extra", WEIGHT_OFFSET_CASES,
                         ids=[f"{d}: {f} {e}" for d, f, e in WEIGHT_OFFSET_CASES])
def test_model_frame_weights_offset(grid: RGrid, dataset: str, formula: str, extra: dict) -> None:
    """The frame lm() builds (``lm(..., method = "model.frame")``): "(weights)", "(offset)"."""
    rname = grid.send(dataset)
    args = ", ".join(f"{k} = {v}" for k, v in extra.items())
    res = r(f"{{mf <- lm({formula}, {rname}, {args}, method = 'model.frame');"
            " list(rows = rownames(mf), flat = .rmodels_flatten(mf))}")
    for how in ("name", "array"):
        kwargs = extra if how == "name" else {
            k: grid.data(dataset)[v].to_numpy(dtype=float) for k, v in extra.items()}
        mf = rmodels.model_frame(formula, grid.data(dataset), **kwargs)
        assert [str(v) for v in mf.index] == res["rows"], how
        assert list(mf.columns) == list(res["flat"]), how
        for name, values in res["flat"].items():
            if isinstance(values, np.ndarray):
                got = pd.to_numeric(mf[name]).to_numpy(dtype=float)
                np.testing.assert_allclose(got, values, rtol=RTOL, atol=ATOL, err_msg=name)


def _large(n: int = 12_007) -> pd.DataFrame:
    """Enough rows for the compiled kernel's row blocks and threads, with NA rows scattered."""
    rng = np.random.default_rng(99)
    x = rng.normal(size=n)
    x[rng.choice(n, 40, replace=False)] = np.nan
    f = rng.integers(0, 12, n)
    return pd.DataFrame({
        "y": rng.normal(size=n), "x": x, "z": rng.uniform(0.5, 2.0, n),
        "f": pd.Categorical.from_codes(np.where(rng.random(n) < 0.002, -1, f),
                                       [f"L{k}" for k in range(12)]),
        "g": pd.Categorical.from_codes(rng.integers(0, 5, n), list("vwxyz"), ordered=True),
    })


LARGE_FORMULAS = ["y ~ x*f + z:g", "y ~ 0 + f:g + poly(z, 2)", "~ f:x + g", "y ~ f*g*x"]


def test_model_matrix_large_matches_r(grid: RGrid) -> None:
    data = _large()
    send_with_rownames(data, ".rmodels_large")
    forms = "c(" + ", ".join(_rstr(f) for f in LARGE_FORMULAS) + ")"
    results = r(f".rmodels_grid(.rmodels_large, {forms}, "
                f"list({', '.join(['NULL'] * len(LARGE_FORMULAS))}))")
    for formula, res in zip(LARGE_FORMULAS, results):
        mm = rmodels.model_matrix(formula, data)
        assert list(mm.columns) == _strs(res["colnames"]), formula
        assert [str(v) for v in mm.index] == _strs(res["mm_rows"]), formula
        expected = np.asarray(res["values"], dtype=float).reshape(len(mm), len(mm.columns))
        np.testing.assert_allclose(mm.to_numpy(dtype=float), expected, rtol=RTOL, atol=ATOL,
                                   err_msg=formula)


def test_factor_of_a_long_vector_keeps_a_tiny_level():
    """factor() of more than 64 numbers (the counting path) keeps 1e-300 apart from 0 and 3,
    as R does (an offset by the minimum used to round it away)."""
    d = pd.DataFrame({"y": np.arange(90.0), "x": np.tile([-3.0, 1e-300, 3.0], 30)})
    send_df(d, "tinylev")
    got = rmodels.model_matrix("y ~ factor(x)", d)
    want = r("colnames(model.matrix(y ~ factor(x), tinylev))")
    assert list(got.columns) == list(want)
    np.testing.assert_array_equal(got.to_numpy(), r("unname(model.matrix(y ~ factor(x), tinylev))"))

