"""Confidence intervals of an lmer fit (lme4's ``confint.merMod``): profile likelihood (lme4's
default, :mod:`.profile`) or Wald.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ...errors import FitError
from ..contract import perc_labels
from .profile import profile_confint


def confint_lmer(fit: Any, parm: Any = None, level: float = 0.95,
                 method: str = "profile") -> pd.DataFrame:
    """``confint(fit, parm, level, method)``: ``"profile"`` or ``"Wald"``."""
    if method == "profile":
        return profile_confint(fit, parm, level)
    if method != "Wald":
        raise FitError(f"method must be 'profile' or 'Wald', not {method!r}")
    return wald_confint(fit, parm, level)


def wald_confint(fit: Any, parm: Any = None, level: float = 0.95,
                 use_sc: bool = True) -> pd.DataFrame:
    """β̂ ± z SE for the fixed effects, NaN rows for the variance parameters (``.sig01`` …,
    and ``.sigma`` when the model has a residual scale, ``use_sc``), columns R's percent
    labels."""
    from scipy import stats
    a = (1 - level) / 2
    probs = (a, 1 - a)
    labels = perc_labels(probs)
    vn = [f".sig{i + 1:02d}" for i in range(len(fit.theta))] + ([".sigma"] if use_sc else [])
    se = np.sqrt(np.diag(fit.vcov_matrix()))
    z = stats.norm.ppf(probs)
    rows = np.vstack([np.full((len(vn), 2), np.nan),
                      fit.beta[:, None] + se[:, None] * z[None, :]])
    out = pd.DataFrame(rows, index=vn + fit.columns, columns=labels)
    if parm is not None:
        out = out.loc[[parm] if isinstance(parm, str) else list(parm)]
    return out
