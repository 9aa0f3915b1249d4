"""Model frame: the variables of a formula evaluated against the data (R's model.frame)."""

from __future__ import annotations

from .model_frame import (  # noqa: F401
    Char,
    Env,
    Factor,
    Logical,
    Mat,
    char_to_factor,
    evaluate,
    finish_variable,
    numeric_to_factor,
    take,
    variable_na,
)
