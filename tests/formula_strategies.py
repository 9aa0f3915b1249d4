"""Hypothesis strategies for random R model formulas.

The grammar covers R's formula operators (``+ : * / ^2 - %in%``, parentheses), the intercept
terms ``0``/``1``/``-1``/``+0``/``-0``/``+1``, one- and two-sided formulas and a few calls
(``I(x^2)``, ``log(x)``, ``poly(x, 2)``) over the variables ``a``, ``b``, ``c`` (meant to be
factors) and ``x``, ``z`` (numeric, positive so that ``log`` is defined). Every formula drawn is
valid R syntax; R may still refuse a few (e.g. nothing), which tests should treat as "rmodels
must refuse too". :func:`formula_data` gives a matching data frame.

Usage::

    from formula_strategies import formulas, formula_data
    @given(formulas())
    def test_something(f): ...
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from hypothesis import strategies as st

VARIABLES = ["a", "b", "c", "x", "z"]
FACTORS = ["a", "b", "c"]
NUMERICS = ["x", "z"]
CALLS = ["I(x^2)", "log(x)", "poly(x, 2)", "log(z)", "I(z^2)"]

_BINARY = [" + ", ":", "*", "/", " %in% ", " - ", " + ", ":", "*"]


def atoms(calls: bool = True, dot: bool = False) -> st.SearchStrategy[str]:
    """A variable name (more likely), one of the calls, or (``dot=True``) R's ``.``."""
    names = st.sampled_from(VARIABLES + ["."] if dot else VARIABLES)
    if not calls:
        return names
    return st.one_of(names, names, st.sampled_from(CALLS))


def _extend(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    binary = st.tuples(children, st.sampled_from(_BINARY), children).map("".join)
    return st.one_of(
        binary,
        binary,
        binary,
        children.map(lambda s: f"({s})"),
        children.map(lambda s: f"({s})^2"),
        children.map(lambda s: f"({s})^3"),
    )


def rhs_expressions(
    max_leaves: int = 6, calls: bool = True, dot: bool = False
) -> st.SearchStrategy[str]:
    """A right-hand side without intercept terms, e.g. ``(a + x)^2 - a:x``."""
    return st.recursive(atoms(calls, dot), _extend, max_leaves=max_leaves)


@st.composite
def formulas(
    draw: Any,
    lhs: bool | None = None,
    intercept_terms: bool = True,
    max_leaves: int = 6,
    calls: bool = True,
    dot: bool = False,
) -> str:
    """A complete formula string such as ``"y ~ 0 + a*x - a"``.

    ``lhs``: True (always ``y ~``), False (one-sided ``~ ...``) or None (either, also ``log(z)``).
    ``intercept_terms``: add ``0 +``, ``1 +``, ``-1 +`` prefixes and ``- 1``, ``+ 0``, ``- 0``,
    ``+ 1`` suffixes with some probability.
    ``dot``: ``.`` may appear as a variable (needs data, see :func:`formula_data`).
    """
    rhs = draw(rhs_expressions(max_leaves=max_leaves, calls=calls, dot=dot))
    prefix = suffix = ""
    if intercept_terms:
        prefix = draw(st.sampled_from(["", "", "", "", "0 + ", "1 + ", "-1 + "]))
        suffix = draw(st.sampled_from(["", "", "", "", " - 1", " + 0", " - 0", " + 1"]))
    if lhs is None:
        left = draw(st.sampled_from(["y ", "y ", "", "log(z) "]))
    else:
        left = "y " if lhs else ""
    return f"{left}~ {prefix}{rhs}{suffix}"


def formula_data(n: int = 24, seed: int = 11) -> pd.DataFrame:
    """A data frame with every variable the formulas use: numeric ``y``, ``x``, ``z`` (> 0)
    and factors ``a`` (3 levels), ``b`` (2), ``c`` (4), each level present."""
    rng = np.random.default_rng(seed)
    i = np.arange(n)
    return pd.DataFrame(
        {
            "y": rng.normal(size=n),
            "x": rng.uniform(0.5, 3.0, n),
            "z": rng.uniform(0.5, 4.0, n),
            "a": pd.Categorical.from_codes(i % 3, ["a1", "a2", "a3"]),
            "b": pd.Categorical.from_codes((i // 3) % 2, ["b1", "b2"]),
            "c": pd.Categorical.from_codes(rng.permutation(i % 4), ["c1", "c2", "c3", "c4"]),
        }
    )


# ------------------------------------------------------------------------------------------
# general R expressions (every operator the parser knows), for precedence tests

_EXPR_BINARY = [
    "~", "|", "||", "&", "&&", "==", "!=", "<", ">", "<=", ">=", "+", "-", "*", "/", "%in%",
    "%%", "%/%", "%o%", ":", "^", "**",
]
_EXPR_ATOMS = ["a", "b", "c", "x", "`my var`", "1", "2.5", "1e6", "2L", '"s"', "TRUE", "NULL",
               ".", "f(x)", "g(a, k = 2)", "pkg::h(b)"]


def _expr_extend(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    space = st.sampled_from(["", " "])
    binary = st.tuples(children, space, st.sampled_from(_EXPR_BINARY), space, children).map(
        "".join)
    unary = st.tuples(st.sampled_from(["-", "+", "!", "~"]), space, children).map("".join)
    call = st.tuples(st.sampled_from(["f", "log", "I"]), children).map(
        lambda t: f"{t[0]}({t[1]})")
    return st.one_of(binary, binary, binary, unary, children.map(lambda s: f"({s})"), call)


def r_expressions(max_leaves: int = 5) -> st.SearchStrategy[str]:
    """Random R expressions over all formula-language operators, e.g. ``-a^b:c %in% !d``.
    Some are syntax errors in R (chained comparisons such as ``a < b == c``)."""
    return st.recursive(st.sampled_from(_EXPR_ATOMS), _expr_extend, max_leaves=max_leaves)
