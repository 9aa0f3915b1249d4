"""Per-row values of an lmer fit on its own rows and on new data (lme4's ``fitted.merMod``,
``residuals.merMod``, ``predict.merMod``): plain arrays over the rows in the fit, or over the
rows of ``newdata``; the fit's methods put them on the data's index (``naresid``).

    fitted      μ̂ = Xβ̂ + Zb̂ + offset
    population  Xβ̂ + offset                     (``re.form = NA``)
    residuals   y − μ̂ ("response"), √w (y − μ̂) ("pearson"), divided by σ̂ if scaled
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from ...design import build_design
from ...errors import DataError
from ...formula.deparse import deparse
from .ranef import term_modes
from .terms import grouping_factor


def is_population(re_form: Any) -> bool:
    """Whether ``re_form`` asks for the population level: None means all random effects,
    ``"~0"``, ``"NA"`` or NaN none (lme4's ``re.form = NA`` / ``~0``)."""
    if re_form is None:
        return False
    if isinstance(re_form, float) and math.isnan(re_form):
        return True
    if isinstance(re_form, str) and re_form.replace(" ", "") in ("~0", "NA", "~-1"):
        return True
    raise ValueError("re_form must be None (all random effects) or '~0' / NA (none)")


def fitted_values(fit: Any) -> np.ndarray:
    """μ̂ = Xβ̂ + Zb̂ + offset on the rows in the fit (a new array)."""
    return np.asarray(fit.solution["fitted"]).copy()


def population_values(fit: Any) -> np.ndarray:
    """Xβ̂ + offset on the rows in the fit."""
    off = 0 if fit.offset_values is None else fit.offset_values
    return fit.X @ fit.beta + off


def residual_values(fit: Any, type: str = "response",  # noqa: A002 - R's argument
                    scaled: bool = False) -> np.ndarray:
    """``y − μ̂`` ("response", "working"), times √w ("pearson"); divided by σ̂ if ``scaled``."""
    r = fit.y - np.asarray(fit.solution["fitted"])
    if type == "pearson" and fit.prior_weights is not None:
        r = r * np.sqrt(fit.prior_weights)
    elif type not in ("response", "pearson", "working"):
        raise ValueError(f"unknown residual type {type!r}")
    return r / fit.sigma() if scaled else r


def predict_newdata(fit: Any, newdata: pd.DataFrame, population: bool,
                    allow_new_levels: bool) -> np.ndarray:
    """Xβ̂ + offset on ``newdata`` (its rows encoded by the fit's model spec, the formula's
    ``offset()`` terms evaluated there), plus Zb̂ unless ``population``. A level of a grouping
    factor not in the fit raises unless ``allow_new_levels``, which gives it random effects 0."""
    Xall, _ok = fit.design.spec.model_matrix(newdata)
    keep = [list(fit.design.columns).index(c) for c in fit.columns]
    eta = np.asarray(Xall)[:, keep] @ fit.beta
    off = fit.design.spec.offset(newdata)
    if off is not None:
        eta = eta + off
    if population:
        return eta
    for i in range(len(fit.re.terms)):
        eta = eta + _term_contribution(fit, i, newdata, allow_new_levels)
    return eta


def _term_contribution(fit: Any, i: int, newdata: pd.DataFrame,
                       allow_new_levels: bool) -> np.ndarray:
    """Z_i b̂_i of random-effect term ``i`` on the rows of ``newdata`` (0 at new levels)."""
    t = fit.re.terms[i]
    sub = build_design("~" + deparse(t.bar.lhs), fit.design.kept_data(), na_action="fail")
    Znew = np.asarray(sub.spec.model_matrix(newdata)[0])
    codes_new, levels_new = grouping_factor(newdata, fit.design.formula_text, t.bar.group)
    lookup = {lev: j for j, lev in enumerate(t.levels)}
    mapped = np.array([lookup.get(levels_new[c], -1) for c in codes_new], dtype=int)
    if (mapped < 0).any() and not allow_new_levels:
        bad = list(dict.fromkeys(levels_new[c] for c, m in zip(codes_new, mapped) if m < 0))
        raise DataError(f"new levels detected in newdata: {', '.join(bad)}")
    bt = term_modes(fit.b, fit.re, i)
    contrib = np.einsum("ij,ij->i", Znew, bt[np.maximum(mapped, 0)])
    return np.where(mapped >= 0, contrib, 0.0)
