"""``from rmodels.lmerTest import lmer``: lmerTest's ``lmer``, an lme4 fit whose ``summary``,
``anova`` and ``tidy`` give lmerTest's tests by default (Satterthwaite's denominator df, type
III anova), as in an R session that has loaded lmerTest.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from .models.lmer.fit import lmer as lme4_lmer
from .models.lmer.optimize import LmerControl
from .models.lmertest.contest import contest  # noqa: F401
from .models.lmertest.model import LmerModLmerTest


def lmer(formula: str, data: pd.DataFrame, REML: bool = True, weights: Any = None,  # noqa: N803
         offset: Any = None, control: LmerControl | dict | None = None, subset: Any = None,
         na_action: str = "omit", data_name: str | None = None) -> LmerModLmerTest:
    """lmerTest's ``lmer``: :func:`rmodels.lmer` (same arguments and estimates), returned as an
    :class:`~rmodels.models.lmertest.model.LmerModLmerTest` whose Hessian of the deviance in
    (θ, σ) is computed at once (lmerTest's warnings when it has negative or near-zero
    eigenvalues)."""
    fit = lme4_lmer(formula, data, REML=REML, weights=weights, offset=offset, control=control,
                    subset=subset, na_action=na_action, data_name=data_name)
    return LmerModLmerTest.from_lmer(fit)
