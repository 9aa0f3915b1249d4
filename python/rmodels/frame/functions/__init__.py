"""frame functions: the R functions a formula may call (``log``, ``factor``, ``C``, ``poly``,
``ns`` …), grouped by what they compute, installed into the interpreter's table
:data:`rmodels.frame.interpreter.FUNCTIONS`."""

from __future__ import annotations

from ..interpreter import FUNCTIONS
from . import factors, numeric, transform_calls

for _module in (numeric, factors, transform_calls):
    FUNCTIONS.update(_module.FUNCTIONS)
