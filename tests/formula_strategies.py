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


def atoms(calls: bool = True) -> st.SearchStrategy[str]:
    """A variable name (more likely) or one of the calls."""
    names = st.sampled_from(VARIABLES)
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


def rhs_expressions(max_leaves: int = 6, calls: bool = True) -> st.SearchStrategy[str]:
    """A right-hand side without intercept terms, e.g. ``(a + x)^2 - a:x``."""
    return st.recursive(atoms(calls), _extend, max_leaves=max_leaves)


@st.composite
def formulas(
    draw: Any,
    lhs: bool | None = None,
    intercept_terms: bool = True,
    max_leaves: int = 6,
    calls: bool = True,
) -> str:
    """A complete formula string such as ``"y ~ 0 + a*x - a"``.

    ``lhs``: True (always ``y ~``), False (one-sided ``~ ...``) or None (either, also ``log(z)``).
    ``intercept_terms``: add ``0 +``, ``1 +``, ``-1 +`` prefixes and ``- 1``, ``+ 0``, ``- 0``,
    ``+ 1`` suffixes with some probability.
    """
    rhs = draw(rhs_expressions(max_leaves=max_leaves, calls=calls))
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
