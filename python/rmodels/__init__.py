"""rmodels: R's model calls (lm, glm, lmer) for Python, computed by a compiled C++ core."""

from __future__ import annotations

from . import _core  # noqa: F401
from .batch import FitList, glm, lm  # noqa: F401  (by= grouped fits; else lm.lm / glm.glm)
from .design import build_design, model_frame, model_matrix  # noqa: F401
from .errors import (  # noqa: F401
    BoundaryWarning,
    ConvergenceWarning,
    DataError,
    FitError,
    FittedValuesWarning,
    FormulaError,
    FormulaWarning,
    PerfectFitWarning,
    RankDeficiencyWarning,
    RModelsError,
    RModelsWarning,
    SingularFitWarning,
)
from .generics import (  # noqa: F401
    AIC,
    BIC,
    REMLcrit,
    VarCorr,
    anova,
    augment,
    coef,
    confint,
    cooks_distance,
    deviance,
    df_residual,
    fitted,
    fixef,
    glance,
    hatvalues,
    isSingular,
    logLik,
    nobs,
    predict,
    ranef,
    resid,
    residuals,
    rstandard,
    rstudent,
    sigma,
    summary,
    tidy,
    vcov,
)
from .models import (  # noqa: F401
    Gamma,
    binomial,
    gaussian,
    inverse_gaussian,
    negative_binomial,
    poisson,
    power,
    quasi,
    quasibinomial,
    quasipoisson,
)
from .models.glm import NegBinGLM, glm_nb  # noqa: F401
from .models.glmer import glmer  # noqa: F401
from .models.lmer import lmer  # noqa: F401

__version__ = "0.1.0"
