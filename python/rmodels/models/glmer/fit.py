"""``glmer()``: formula and data → design (fixed-effect model matrix, random-effect terms, the
response as ``family$initialize`` takes it) → lme4's checks → the two-stage optimisation →
the fit (:class:`.model.GlmerMod`), as ``lme4::glmer`` (1.1-31).
"""

from __future__ import annotations

import warnings
from typing import Any, Union

import numpy as np
import pandas as pd

from ...design import build_design
from ...errors import DataError, FitError, RModelsWarning
from ..families import Family, as_family
from ..glm.fit import response_matrix
from ..lmer.fit import drop_rank_deficient, lmer, printed_call
from ..lmer.terms import build_re_structure
from .compiled import compiled_model
from .family import check_glmer_family
from .model import GlmerMod
from .optimize import GlmerControl, optimize_glmer


def glmer(formula: str, data: pd.DataFrame, family: Union[str, Family] = "binomial",
          weights: Any = None, offset: Any = None, subset: Any = None,
          na_action: str = "omit", nAGQ: int = 1,  # noqa: N803 - R's name
          control: GlmerControl | dict | None = None, data_name: str | None = None) -> Any:
    """Fit a generalized linear mixed model by maximum likelihood, as ``lme4::glmer``.

    ``formula`` is R's formula text with random-effect terms as for :func:`rmodels.lmer`; the
    response of a binomial model is 0/1, a factor, proportions with ``weights``, or
    ``cbind(successes, failures)``. ``family``: ``"binomial"`` (links logit, probit, cloglog,
    …), ``"poisson"``, ``Gamma``, ``inverse.gaussian``, ``gaussian`` with another link, or a
    family object (quasi families raise lme4's error); ``nAGQ``: 1 (Laplace), 0 (the first stage
    only) or up to 25 points of adaptive Gauss-Hermite quadrature (one scalar random-effect
    term). A gaussian family with the identity link fits :func:`rmodels.lmer` with lme4's
    warning. Differences from lme4: both stages use NLopt's BOBYQA (lme4: minqa's bobyqa,
    then its Nelder-Mead) with tighter tolerances.
    """
    fam = as_family(family)
    ctrl = control if isinstance(control, GlmerControl) else GlmerControl(**(control or {}))
    if fam.family == "gaussian" and fam.link == "identity":
        warnings.warn("calling glmer() with family=gaussian (identity link) as a shortcut to "
                      "lmer() is deprecated; please call lmer() directly", RModelsWarning,
                      stacklevel=2)
        return lmer(formula, data, weights=weights, offset=offset, subset=subset,
                    na_action=na_action, data_name=data_name)
    check_glmer_family(fam)
    nagq = int(nAGQ)
    if not 0 <= nagq <= 25:
        raise FitError("nAGQ must be an integer between 0 and 25")
    d = build_design(formula, data, weights=weights, offset=offset, subset=subset,
                     na_action=na_action, allow_bars=True)
    if not np.isfinite(np.asarray(d.model_matrix_array(), dtype=float)).all():
        # lme4's rank check (the QR's foreign call) comes before the response module
        raise DataError("NA/NaN/Inf in foreign function call (arg 1)")
    Y = response_matrix(d, fam)
    re = build_re_structure(d, check_nobs=False)
    if nagq > 1 and (len(re.terms) != 1 or re.terms[0].k != 1):
        raise FitError("nAGQ > 1 is only available for models with a single, scalar "
                       "random-effects term")
    X, columns, fit_msgs = drop_rank_deficient(np.asarray(d.X, dtype=float), list(d.columns),
                                               ctrl.check_rank_tol)
    off = None if d.offset is None else np.asarray(d.offset, dtype=float)
    model = compiled_model(X, Y, d.weights, off, fam, re, ctrl)
    opt = optimize_glmer(model, re, nagq, ctrl, np.zeros(len(Y)) if off is None else off)
    call = printed_call(formula, data_name, weights, offset, subset)
    call["family"] = fam.family
    out = GlmerMod(d, re, X, columns, fam, nagq, ctrl, call, fit_msgs, model, opt, off)
    out.data = data  # a reference (no copy): compare_with_r refits on it
    return out
