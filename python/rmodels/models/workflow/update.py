"""R's ``update()`` of a fit: the call that made it, evaluated again with some arguments
changed (``update.default``), the formula changed by R's ``update.formula``."""

from __future__ import annotations

from typing import Any, Callable, Optional

from ...errors import RModelsError
from ...formula import deparse
from ...formula.call import deparse_formula_lines
from .formula_update import update_formula

__all__ = ["update", "call_inputs", "model_formula", "formula_lines"]


def _fitters() -> dict[str, Callable[..., Any]]:
    from ..glm import glm, glm_nb
    from ..lm import lm
    from ..lmer import lmer
    return {"lm": lm, "glm": glm, "glm.nb": glm_nb, "lmer": lmer}


def call_inputs(fit: Any) -> tuple[str, dict]:
    """The model function's name and the arguments a fit was made with (R's ``getCall``)."""
    inputs = getattr(fit, "call_inputs", None)
    if inputs is None:
        raise RModelsError("need an object with call component (the fit keeps no call to "
                           f"update: an object of class \"{type(fit).__name__}\")")
    return inputs


def model_formula(fit: Any) -> str:
    """R's ``formula(fit)``: the fit's formula with ``.`` expanded (one line)."""
    return deparse(fit.design.terms.formula, cutoff=None)


def formula_lines(fit: Any) -> list[str]:
    """``deparse(formula(fit))``: the lines R prints for the fit's formula."""
    return deparse_formula_lines(fit.design.terms.formula)


def update(fit: Any, formula: Optional[str] = None, **changes: Any) -> Any:
    """R's ``update(object, formula., ...)``: the fit made again by the same function with
    the formula updated by :func:`update_formula` (``". ~ . + x"``; ``.`` is the fit's
    formula with ``.`` expanded, R's ``formula(object)``) and any other argument replaced
    (``data=``, ``weights=``, ``subset=``, ``family=``, ``REML=`` …; ``None`` removes one, as
    R's ``update(fit, weights = NULL)``).

    A changed ``data`` keeps the printed call's ``data`` name unless ``data_name=`` is given.
    """
    name, args = call_inputs(fit)
    args = dict(args)
    if formula is not None:
        args["formula"] = update_formula(model_formula(fit), formula)
    unknown = [k for k in changes if k not in args]
    if unknown:
        raise RModelsError(f"unused argument{'s' if len(unknown) > 1 else ''} "
                           f"({', '.join(unknown)}) in update() of a {name} fit")
    args.update(changes)
    return _fitters()[name](**args)
