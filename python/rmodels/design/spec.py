"""design, spec: the stored model spec — everything needed to encode new data exactly as the
training data was encoded (R's ``predvars`` transform states, ``xlevels`` and contrasts), used
by ``predict(newdata)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np
import pandas as pd

from ..errors import DataError
from ..formula.terms import Terms
from ..frame import (
    Env,
    Factor,
    as_data_frame,
    char_to_factor,
    evaluate,
    finish_variable,
    variable_na,
)
from .fill import fill_model_matrix


@dataclass
class ModelSpec:
    """Everything needed to encode new data as the training data was encoded (R's predvars,
    xlevels and contrasts)."""

    terms: Terms
    labels: list  # deparsed variable labels (coefficient-name style)
    frame_labels: list
    states: dict
    kinds: list  # per variable: "num", "mat", "factor", "character", "logical", None (response)
    levels: dict  # var index -> levels used in the fit
    contrast_mats: dict  # var index -> (M, names)
    codings: list  # per term: list[Coding]
    columns: list
    assign: np.ndarray
    intercept: bool
    rhs_vars: list  # indices of variables needed on the right-hand side (incl. offsets)
    formula_text: str

    def evaluate_variables(self, newdata: pd.DataFrame, indices: Sequence[int]) -> dict:
        """The variables ``indices`` evaluated in ``newdata`` with the recorded transform
        states, factors re-coded to the fit's levels (var index -> value)."""
        newdata = as_data_frame(newdata, "newdata")
        env = Env(newdata, self.formula_text, states=self.states, record=False)
        out = {}
        for i in indices:
            expr = self.terms.variables[i]
            v = finish_variable(evaluate(expr, env, top=True, label=self.labels[i]), len(newdata),
                                self.labels[i])
            kind = self.kinds[i]
            if kind in ("factor", "character", "logical"):
                v = self.relevel(v, i)
            elif isinstance(v, Factor):
                raise DataError(f"variable '{self.frame_labels[i]}' was fitted with type "
                                f"\"numeric\" but type \"factor\" was supplied")
            out[i] = v
        return out

    # the name callers used before the spec had a public one
    def relevel(self, v, i: int) -> Factor:
        """Variable ``i`` of new data coded by the fit's levels (R's error for a new level)."""
        levels = self.levels[i]
        if not isinstance(v, Factor):
            if isinstance(v, np.ndarray):
                raise DataError(f"variable '{self.frame_labels[i]}' was fitted with type "
                                f"\"factor\" but type \"numeric\" was supplied")
            raise DataError(f"variable '{self.frame_labels[i]}' has the wrong type")
        if list(v.levels) == list(levels):
            return v
        labels = v.labels()
        f = char_to_factor(labels, levels)
        bad = (f.codes < 0) & (v.codes >= 0)
        if bad.any():
            new = list(dict.fromkeys(str(v) for v in labels[bad]))
            # R's ngettext counts the new data's levels, not the new ones (model.frame.default)
            word = "level" if len(v.levels) == 1 else "levels"
            raise DataError(f"factor {self.frame_labels[i]} has new {word} {', '.join(new)}")
        return Factor(f.codes, list(levels), v.ordered, self.kinds[i])

    def model_matrix(self, newdata: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Model matrix of ``newdata`` (rows in order; rows with a missing predictor are NaN,
        R's na.pass) and the mask of complete rows."""
        needed = sorted({c.var for cod in self.codings for c in cod})
        vals = self.evaluate_variables(newdata, needed)
        n = len(newdata)
        X = fill_model_matrix(n, self.intercept, self.codings, vals, self.contrast_mats,
                              len(self.columns))
        ok = np.ones(n, dtype=bool)
        for v in vals.values():
            ok &= ~variable_na(v)
        return X, ok

    def offset(self, newdata: pd.DataFrame) -> Optional[np.ndarray]:
        """Sum of the formula's ``offset()`` terms evaluated in ``newdata`` (None if none)."""
        if not self.terms.offsets:
            return None
        vals = self.evaluate_variables(newdata, self.terms.offsets)
        return np.sum([np.asarray(vals[i], dtype=float) for i in self.terms.offsets], axis=0)
