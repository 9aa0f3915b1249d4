"""Hypothesis strategies for hostile and careless formulas.

Two families of inputs: arbitrary text (any unicode, and text built from the formula language's
own characters), and grammar-shaped formulas: the formula operators, calls of every whitelisted
function with odd arities and argument kinds, numbers at the edges of double range, strings,
backticks, unicode names and random-effect bars, over the columns of :func:`fuzz_frame`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import strategies as st
from rmodels.frame.interpreter import FUNCTIONS as INTERPRETER_FUNCTIONS

COLUMNS = ["y", "x", "z", "a", "b", "g", "bin", "cnt", "lg", "s", "pos"]
#: every function the formula engine knows, plus namespaced and unknown/hostile names
FUNCTIONS = sorted(INTERPRETER_FUNCTIONS) + [
    "splines::ns", "splines::bs", "stats::poly", "base::log", "contr.sum", "contr.treatment",
    "contr.helmert", "contr.poly", "outer", "exp2", "eval", "get", "system", "__import__",
    "getattr", "lambda", "open",
]
NUMBERS = [
    "0", "1", "-1", "2", "3", "0.5", "1e9", "1e308", "1e-308", "4.9e-324", "1.8e308", "1e400",
    "Inf", "-Inf", "NaN", "NA", "NA_integer_", "NA_real_", "2L", "0L", "1e6L", "0x10", "0xFFp2",
    ".5", "5.", "1e", "2147483648L", "9007199254740993", "pi", "T", "F", "TRUE", "FALSE", "NULL",
]
STRINGS = ['"a"', "'b'", '""', '"\\n"', '"x"', '"é"', "'\\''"]
NAMES = COLUMNS + ["`x`", "`a b`", "`y`", "w", "q", ".", "..1", "é", "x.1", "`\\``", "π",
                   "_x", "x_", "`\u202ex`"]
BINARY = [" + ", " - ", "*", "/", ":", "^", " %in% ", " | ", " || ", " & ", " == ", " < ",
          " %% ", " %/% ", "$", "**", " ~ ", " && ", " != ", " >= ", " |> ", " <- ", " = "]
UNARY = ["-", "+", "!", "~", "--", "!!"]
PUNCT = "~+-*/:^()|&!=<>%$@,.'\"`[]{};\\#?0123456789 xyzabg\n\t"


def atoms() -> st.SearchStrategy[str]:
    """A name, number, string or literal constant."""
    return st.one_of(st.sampled_from(NAMES), st.sampled_from(NAMES), st.sampled_from(NUMBERS),
                     st.sampled_from(STRINGS),
                     st.floats(allow_nan=True, allow_infinity=True).map(repr),
                     st.integers(-(2**70), 2**70).map(str))


def _call(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    arg = st.one_of(children, st.tuples(st.sampled_from(["df", "degree", "raw", "breaks",
                                                         "ref", "knots", "center", "base",
                                                         "digits", "levels", "x", "foo"]),
                                        children).map(lambda kv: f"{kv[0]} = {kv[1]}"))
    return st.tuples(st.sampled_from(FUNCTIONS), st.lists(arg, max_size=4)).map(
        lambda fa: f"{fa[0]}({', '.join(fa[1])})")


def _extend(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.tuples(children, st.sampled_from(BINARY), children).map("".join),
        st.tuples(children, st.sampled_from(BINARY[:6]), children).map("".join),
        st.tuples(st.sampled_from(UNARY), children).map("".join),
        children.map(lambda s: f"({s})"),
        st.tuples(children, children).map(lambda p: f"({p[0]} | {p[1]})"),
        st.tuples(children, st.sampled_from(NUMBERS)).map(lambda p: f"({p[0]})^{p[1]}"),
        _call(children),
    )


def expressions(max_leaves: int = 8) -> st.SearchStrategy[str]:
    """A grammar-shaped right-hand side (valid and invalid R alike)."""
    return st.recursive(atoms(), _extend, max_leaves=max_leaves)


def grammar_formulas() -> st.SearchStrategy[str]:
    """``lhs ~ rhs``, ``~ rhs`` or (rarely) no tilde at all."""
    lhs = st.one_of(st.sampled_from(["y", "y", "bin", "cnt", "pos", "a", "s", "lg",
                                     "cbind(cnt, 5 - cnt)", "log(y)", "x"]), expressions(3))
    rhs = expressions()
    return st.one_of(
        st.tuples(lhs, rhs).map(lambda p: f"{p[0]} ~ {p[1]}"),
        st.tuples(lhs, rhs).map(lambda p: f"{p[0]} ~ {p[1]}"),
        st.tuples(lhs, rhs, st.sampled_from(["(1 | g)", "(x | g)", "(0 | g)", "(1 | a:g)",
                                             "(1 | g/a)", "(x || g)", "(-1 | g)"])).map(
            lambda p: f"{p[0]} ~ {p[1]} + {p[2]}"),
        rhs.map(lambda r: f"~ {r}"),
        rhs,
    )


def text_formulas() -> st.SearchStrategy[str]:
    """Arbitrary text: any unicode, or strings of the formula language's own characters."""
    return st.one_of(
        st.text(max_size=40),
        st.text(alphabet=PUNCT, max_size=40),
        st.text(alphabet=PUNCT, max_size=40).map(lambda s: "y ~ " + s),
    )


def formulas() -> st.SearchStrategy[str]:
    """Everything the fuzzer feeds: mostly grammar-shaped, some arbitrary text."""
    return st.one_of(grammar_formulas(), grammar_formulas(), grammar_formulas(), text_formulas())


def fuzz_frame(n: int = 24, seed: int = 1) -> pd.DataFrame:
    """The small data frame every fuzz input is evaluated on: numeric, factor, grouping,
    binary, count, logical, string and positive columns."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    return pd.DataFrame({
        "y": 1.0 + 2.0 * x + rng.normal(size=n),
        "x": x,
        "z": rng.uniform(1, 5, size=n),
        "a": pd.Categorical(rng.choice(["p", "q", "r"], size=n)),
        "b": rng.choice(["u", "v"], size=n),
        "g": pd.Categorical([f"g{i % 4}" for i in range(n)]),
        "bin": (rng.uniform(size=n) < 0.5).astype(float),
        "cnt": rng.poisson(2.0, size=n).astype(float),
        "lg": rng.uniform(size=n) < 0.5,
        "s": [f"s{i % 3}" for i in range(n)],
        "pos": rng.gamma(2.0, size=n),
    })
