"""frame: the variables of a formula evaluated against the data (R's model.frame stage).

Each variable expression of the terms (``x``, ``log(x + 1)``, ``poly(x, 2)``, ``factor(g)``...)
is evaluated by a small interpreter over the formula AST. Only the functions in
``interpreter.FUNCTIONS`` are callable; user text never reaches Python's ``eval``.

As in R, variables are evaluated on the whole data first (so ``poly``/``scale``/``ns`` see every
row), then ``subset`` is applied, then rows with a missing value in any variable are dropped.
Data-dependent transforms at the top of a variable (``poly``, ``scale``, ``ns``, ``bs``) record
their state so that new data is encoded exactly as the training data (R's ``predvars``).

Modules: ``values`` (R's value types: factor, matrix column, character, logical),
``columns`` (a data column as an R value), ``native`` (polars and pyarrow data as pandas),
``interpreter`` (operators, argument matching, the function table), ``functions`` (the R
functions a formula may call), ``transforms`` (poly, scale, splines, contrasts).
"""

from __future__ import annotations

from . import (
    functions,  # noqa: F401  (installs the formula functions into the interpreter)
    transforms,  # noqa: F401
)
from .columns import column_value, series_value
from .interpreter import FUNCTIONS, Env, evaluate
from .native import as_data_frame, optional_data_frame
from .values import (
    Char,
    Factor,
    Logical,
    Mat,
    VarState,
    char_to_factor,
    finish_variable,
    format_number_label,
    interaction_factor,
    numeric_to_factor,
    take,
    variable_has_na,
    variable_na,
)

__all__ = [
    "FUNCTIONS",
    "Char",
    "Env",
    "Factor",
    "Logical",
    "Mat",
    "as_data_frame",
    "VarState",
    "char_to_factor",
    "column_value",
    "evaluate",
    "finish_variable",
    "format_number_label",
    "interaction_factor",
    "numeric_to_factor",
    "optional_data_frame",
    "series_value",
    "take",
    "variable_has_na",
    "variable_na",
]
