"""Property test: random formulas give R's model.matrix (names, assign, values).

Hypothesis draws formulas half from the shared grammar of ``formula_strategies`` (nested
operators, intercept terms, the dot) and half from the term-group grammar below (chains of
``+ : * / %in%``, powers, crossed sums, nesting, and more transforms: ``C()``, ``relevel()``,
``scale()``, raw ``poly()`` ...), over one fixed data frame with numeric ``x``, ``z`` and
factors ``a`` (3 levels), ``b`` (2) and ``c`` (4). Each example is evaluated by R's
``model.matrix`` (one cheap R call) and by :func:`rmodels.model_matrix`; a formula R refuses must
raise
:class:`rmodels.errors.RModelsError`. The run is derandomized (fixed seed) with 300 examples.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
import rmodels
from formula_strategies import formula_data
from formula_strategies import formulas as parser_formulas
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rbridge import _rstr, r, send_df
from rmodels.errors import RModelsError, RModelsWarning

pytestmark = pytest.mark.r

RTOL = 1e-12
ATOL = 1e-13


def _data() -> pd.DataFrame:
    """The shared formula data (numeric y, x > 0, z > 0; factors a, b, c) plus w > 0 for a
    log(w) response."""
    d = formula_data(n=30, seed=7)
    d["w"] = np.random.default_rng(8).uniform(0.5, 2.0, len(d))
    return d


# --------------------------------------------------------------------------------------------
# Formula grammar
# --------------------------------------------------------------------------------------------

VARIABLES = ["x", "z", "a", "b", "c"]
TRANSFORMS = ["I(x^2)", "log(z)", "poly(x, 2)", "scale(z)", "I(x * z)", "exp(-z)", "sqrt(z)",
              "poly(z, 2, raw = TRUE)", "relevel(a, \"a3\")", "C(c, contr.sum)", "factor(b)",
              "C(a, contr.helmert)", "as.numeric(c)"]

atoms = st.one_of(st.sampled_from(VARIABLES), st.sampled_from(VARIABLES),
                  st.sampled_from(TRANSFORMS))


def _combine(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    binary = st.tuples(children, st.sampled_from([" + ", ":", "*", " + ", ":", "/", " %in% ",
                                                  " - "]), children)
    joined = binary.map(lambda t: f"{t[0]}{t[1]}{t[2]}")
    return st.one_of(
        joined, joined, joined,
        children.map(lambda s: f"({s})"),
        st.tuples(children, st.sampled_from([2, 3])).map(lambda t: f"({t[0]})^{t[1]}"),
    )


nested_expressions = st.recursive(atoms, _combine, max_leaves=6)


@st.composite
def term_groups(draw: Any) -> str:
    """1-4 groups joined by + or -; a group combines 1-3 distinct atoms with + : * / %in%,
    possibly parenthesised and raised to a power, or crosses two sums: (A + B):(C + D)."""
    groups = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["chain", "chain", "chain", "cross", "nest"]))
        if kind == "chain":
            k = draw(st.integers(1, 3))
            names = draw(st.lists(atoms, min_size=k, max_size=k, unique=True))
            ops = draw(st.lists(st.sampled_from([":", "*", "/", " %in% ", " + ", ":"]),
                                min_size=k - 1, max_size=k - 1))
            expr = names[0] + "".join(op + v for op, v in zip(ops, names[1:]))
            wrap = draw(st.sampled_from(["", "", "()", "^2", "^3"])) if k > 1 else ""
            if wrap == "()":
                expr = f"({expr})"
            elif wrap:
                expr = f"({expr}){wrap}"
        elif kind == "cross":
            names = draw(st.lists(atoms, min_size=4, max_size=4, unique=True))
            op = draw(st.sampled_from([":", "*", "/"]))
            expr = f"({names[0]} + {names[1]}){op}({names[2]} + {names[3]})"
        else:
            expr = draw(nested_expressions)
        groups.append(expr)
    joins = draw(st.lists(st.sampled_from([" + ", " + ", " + ", " - "]),
                          min_size=len(groups) - 1, max_size=len(groups) - 1))
    return groups[0] + "".join(j + g for j, g in zip(joins, groups[1:]))


@st.composite
def formulas(draw: Any) -> str:
    rhs = draw(term_groups())
    prefix = draw(st.sampled_from(["", "", "", "0 + ", "1 + ", "-1 + ", ". + "]))
    suffix = draw(st.sampled_from(["", "", "", " - 1", " + 0", " - 0", " + 1", " - x"]))
    lhs = draw(st.sampled_from(["y ", "y ", "", "log(w) "]))
    return f"{lhs}~ {prefix}{rhs}{suffix}"


# --------------------------------------------------------------------------------------------
# R side
# --------------------------------------------------------------------------------------------

R_ONE = r"""
.rmodels_prop <- function(txt) tryCatch({
  f <- eval(parse(text = txt, keep.source = FALSE)[[1]], globalenv())
  environment(f) <- globalenv()
  warned <- character(0)
  mm <- withCallingHandlers(model.matrix(f, .rmodels_prop_data), warning = function(w) {
    # R's terms.formula complains about its own bookkeeping when `.` meets a variable of a
    # transformed response ("'varlist' has changed ... should no longer happen!"): not a
    # statement about the data, so rmodels need not repeat it.
    if (!grepl("'varlist' has changed", conditionMessage(w), fixed = TRUE))
      warned <<- c(warned, conditionMessage(w))
    invokeRestart("muffleWarning")
  })
  list(ok = TRUE, colnames = as.character(colnames(mm)), assign = as.double(attr(mm, "assign")),
       values = matrix(as.double(mm), nrow(mm), ncol(mm)), warnings = warned)
}, error = function(e) list(ok = FALSE, message = conditionMessage(e)))
"""


@pytest.fixture(scope="module")
def prop_data() -> pd.DataFrame:
    d = _data()
    send_df(d, ".rmodels_prop_data")
    r(R_ONE)
    return d


@settings(derandomize=True, max_examples=300, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                 HealthCheck.data_too_large])
@given(formula=st.one_of(parser_formulas(dot=True), formulas()))
def test_random_formula_matches_r(prop_data: pd.DataFrame, formula: str) -> None:
    res = r(f".rmodels_prop({_rstr(formula)})")
    if not bool(res["ok"][0]):
        with pytest.raises(RModelsError):
            rmodels.model_matrix(formula, prop_data)
        return
    if res["warnings"]:  # e.g. the response reappears on the right-hand side
        with pytest.warns(RModelsWarning):
            mm = rmodels.model_matrix(formula, prop_data)
    else:
        mm = rmodels.model_matrix(formula, prop_data)
    colnames = [] if res["colnames"] is None else list(res["colnames"])
    assert list(mm.columns) == colnames, formula
    np.testing.assert_array_equal(np.asarray(mm.attrs["assign"], dtype=float), res["assign"],
                                  err_msg=formula)
    expected = np.asarray(res["values"], dtype=float).reshape(len(prop_data), len(colnames))
    np.testing.assert_allclose(mm.to_numpy(dtype=float), expected, rtol=RTOL, atol=ATOL,
                               err_msg=formula)
