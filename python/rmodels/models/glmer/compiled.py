"""glmer, the compiled model: ``_core.GlmerModel`` built from the fixed-effects matrix, the
response, weights, offset, family and random-effect structure (what a fit makes once and a
loaded pickle makes again)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ... import _core
from ...errors import FitError
from ..families import Family
from ..glm.fit import emit_r_warnings, error_class, warning_class
from ..lmer.terms import ReStructure
from .optimize import GlmerControl, GlmerOptInfo, gh_rule


def compiled_model(X: np.ndarray, Y: np.ndarray, weights: Any, offset: np.ndarray | None,
                   fam: Family, re: ReStructure, ctrl: GlmerControl) -> Any:
    """The compiled GLMM (``_core.GlmerModel``): ``family$initialize`` on the response (its
    warnings issued, its errors raised as the package's classes) and the PLS structure."""
    Ym = Y.reshape(len(Y), -1).astype(float)
    w = np.empty(0) if weights is None else np.asarray(weights, dtype=float)
    if w.size and (np.any(~np.isfinite(w)) or np.any(w < 0)):
        raise FitError("negative weights not allowed")
    try:
        model = _core.GlmerModel(
            np.asfortranarray(X), np.asfortranarray(Ym), w,
            np.empty(0) if offset is None else offset, fam.core,
            [t.codes for t in re.terms], [t.nlev for t in re.terms], [t.Z for t in re.terms],
            method=ctrl.pls_method)
    except _core.GlmError as e:
        raise error_class(e.kind)(str(e)) from None
    msgs, kinds = model.init_warnings
    emit_r_warnings([(warning_class(k), m) for m, k in zip(msgs, kinds)], stacklevel=4)
    if not np.isfinite(np.asarray(model.lp0)).all():
        # a starting mean outside the family's range (binomial counts with negative failures):
        # lme4's PIRLS stops on the NaN (its logit link says "Value ... out of range (0, 1)")
        raise FitError("PIRLS loop resulted in NaN value")
    return model


def restore_settings(model: Any, ctrl: GlmerControl, nagq: int, opt: GlmerOptInfo) -> None:
    """Give a model compiled again what the fit's own model held at its optimum: the PIRLS
    tolerance, the Gauss-Hermite rule (nAGQ > 1) and the linear predictor ``lp0`` PIRLS starts
    from, so that its criterion, R_X and conditional variances are the fit's, bit for bit."""
    model.set_tolerance(ctrl.tol_pwrss)
    if nagq > 1:
        model.set_rule(*gh_rule(nagq))
    if opt.lp0 is not None:
        model.lp0 = opt.lp0
