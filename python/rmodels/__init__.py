"""rmodels: R's model calls for Python — R's formulas, numbers, names and printouts, computed by
a compiled C++ core. R is never needed at run time.

Fitting (formula text as in R; data a pandas or polars DataFrame or a pyarrow Table):
    lm(formula, data, weights=, subset=, by=)    linear model (R's lm); by= one fit per group
    glm(formula, data, family=, weights=, by=)   generalized linear model (R's glm)
    glm_nb(formula, data)                        negative binomial GLM (MASS's glm.nb)
    lmer(formula, data, REML=True)               linear mixed model (lme4's lmer)
    glmer(formula, data, family=, nAGQ=1)        generalized linear mixed model (lme4's glmer)
    glmer_nb(formula, data)                      negative binomial GLMM (lme4's glmer.nb)
    lmerTest.lmer(formula, data)                 lmer with lmerTest's tests by default
    model_matrix(formula, data)                  R's model.matrix; model_frame: R's model.frame

Results (R's generics, also methods of the fits):
    summary(fit)                                 R's printed summary (str() of the result)
    coef, vcov, confint, fitted, residuals, predict(fit, newdata)
    anova(fit[, fit2...]), logLik, AIC, BIC, deviance, sigma, nobs, df_residual
    hatvalues, rstandard, rstudent, cooks_distance
    fixef, ranef, VarCorr, isSingular, REMLcrit  (lme4's, for lmer fits)
    tidy, glance, augment                        broom's tables (broom.mixed's for lmer)
    contest(fit, L, ddf=)                        lmerTest's F/t test of contrasts L
    update, drop1, add1, step                    R's workflow verbs (lm, glm)

Inference (sandwich, lmtest, car):
    vcovHC, vcovCL, vcovHAC, NeweyWest          robust covariances (sandwich's)
    coeftest(fit, vcov=), coefci, waldtest       lmtest's tests with them
    Boot(fit, R=999, seed=)                      car::Boot, with R's random numbers (rrandom)

Checks and pictures:
    compare_with_r(fit)                          refit in R (rpy2) and compare every quantity
    plot(fit)                                    R's plot.lm panels; lme4's caterpillar plot

Families (R's family functions; ``family=`` also takes R's text, 'Gamma(link = "log")'):
    gaussian, binomial, poisson, Gamma, inverse_gaussian, quasi, quasibinomial, quasipoisson,
    negative_binomial, power

Errors and warnings: RModelsError (FormulaError, DataError, FitError) and RModelsWarning
subclasses carrying R's messages.

Command line: ``python -m rmodels lm|glm|lmer|glmer FORMULA FILE [--summary|--tidy|--glance]``
(also the ``rmodels`` console script; see :mod:`rmodels.cli`).
"""

import importlib
from typing import Any

from . import _core  # noqa: F401
from .batch import FitList, glm, lm  # noqa: F401  (by= grouped fits; else lm.lm / glm.glm)
from .design import build_design, model_frame, model_matrix  # noqa: F401
from .errors import (  # noqa: F401
    BootstrapWarning,
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
from .models.lmer import lmer  # noqa: F401

__version__ = "0.1.0"

# Imported on first use (PEP 562): glmer, robust inference and the bootstrap, plots and the
# check against R are not needed to fit most models, and every user would pay their import time.
_LAZY = {
    **dict.fromkeys(["Boot", "NeweyWest", "bread", "bwAndrews", "bwNeweyWest", "coefci",
                     "coeftest", "estfun", "kernHAC", "meat", "meatCL", "meatHC", "rrandom",
                     "sandwich", "vcovCL", "vcovHAC", "vcovHC", "waldtest", "weightsAndrews"],
                    ".inference"),
    "glmer": ".models.glmer",
    "glmer_nb": ".models.glmer",
    "contest": ".models.lmertest.contest",
    **dict.fromkeys(["add1", "drop1", "step", "update", "update_formula"], ".models.workflow"),
    "plot": ".plots",
    "compare_with_r": ".rcheck",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'rmodels' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list:
    return sorted(set(globals()) | set(_LAZY))
