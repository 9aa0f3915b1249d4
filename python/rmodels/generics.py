"""R's generic functions as module-level functions: ``rmodels.coef(fit)`` is ``fit.coef()``.

Each generic forwards to the method of the same name on the fit object (LM, GLM, LMM), so a
user can write R-style code (``coef(fit)``, ``summary(fit)``, ``anova(fit0, fit1)``) or method
calls (``fit.coef()``) interchangeably.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from .errors import RModelsError
from .models.anova_broom import tidy_anova


def _method(fit: Any, name: str):
    m = getattr(fit, name, None)
    if m is None or not callable(m):
        raise RModelsError(f"no applicable method for '{name}' applied to an object of class "
                           f"\"{type(fit).__name__}\"")
    return m


def coef(fit: Any, **kwargs: Any) -> Any:
    """Coefficients (R's ``coef``); aliased ones are NaN."""
    return _method(fit, "coef")(**kwargs)


def vcov(fit: Any, **kwargs: Any) -> Any:
    """Variance-covariance matrix of the coefficients (R's ``vcov``)."""
    return _method(fit, "vcov")(**kwargs)


def fitted(fit: Any, **kwargs: Any) -> Any:
    """Fitted values (R's ``fitted``)."""
    return _method(fit, "fitted")(**kwargs)


def residuals(fit: Any, **kwargs: Any) -> Any:
    """Residuals (R's ``residuals``; ``type=`` as R)."""
    return _method(fit, "residuals")(**kwargs)


resid = residuals


def confint(fit: Any, parm: Any = None, level: float = 0.95, **kwargs: Any) -> Any:
    """Confidence intervals (R's ``confint``; columns ``2.5 %``, ``97.5 %``)."""
    return _method(fit, "confint")(parm=parm, level=level, **kwargs)


def predict(fit: Any, newdata: Any = None, **kwargs: Any) -> Any:
    """Predictions (R's ``predict``)."""
    return _method(fit, "predict")(newdata=newdata, **kwargs)


def summary(fit: Any, **kwargs: Any) -> Any:
    """R's ``summary``: ``str()`` of the result is R's printed summary."""
    return _method(fit, "summary")(**kwargs)


def anova(fit: Any, *others: Any, **kwargs: Any) -> Any:
    """Analysis of variance/deviance tables (R's ``anova``)."""
    return _method(fit, "anova")(*others, **kwargs)


def logLik(fit: Any, **kwargs: Any) -> Any:  # noqa: N802 - R's name
    """The log-likelihood (R's ``logLik``; lme4's ``logLik`` for a mixed model, the REML
    log-likelihood for a REML fit)."""
    return _method(fit, "logLik")(**kwargs)


def AIC(*fits: Any, k: float = 2.0, **named: Any) -> Any:  # noqa: N802
    """R's ``AIC(object, ..., k = 2)``: −2 logLik + k·df of one fit (a float), or for several
    fits R's data frame with columns ``df`` and ``AIC``. Row names: a keyword's name
    (``AIC(full=m1, small=m0)``), else ``m1``, ``m2`` … by position (R deparses the expressions
    typed, which Python cannot see). Warns as R when the numbers of observations differ."""
    if len(fits) == 1 and not named:
        if k == 2.0:
            return _method(fits[0], "AIC")()
        from .models.workflow.information import loglik_parts

        val, df, _ = loglik_parts(fits[0])
        return -2.0 * val + k * df
    from .models.workflow.information import fit_labels, information_table

    objs, labels = fit_labels(fits, named)
    return information_table(objs, labels, "AIC", k)


def BIC(*fits: Any, **named: Any) -> Any:  # noqa: N802
    """R's ``BIC(object, ...)``: −2 logLik + log(nobs)·df of one fit, or the ``df``/``BIC``
    table of several (row names as :func:`AIC`)."""
    if len(fits) == 1 and not named:
        return _method(fits[0], "BIC")()
    from .models.workflow.information import fit_labels, information_table

    objs, labels = fit_labels(fits, named)
    return information_table(objs, labels, "BIC")


def deviance(fit: Any, **kwargs: Any) -> Any:
    """The deviance (R's ``deviance``; the residual sum of squares of an lm)."""
    return _method(fit, "deviance")(**kwargs)


def sigma(fit: Any, **kwargs: Any) -> Any:
    """The residual standard deviation (R's ``sigma``)."""
    return _method(fit, "sigma")(**kwargs)


def nobs(fit: Any, **kwargs: Any) -> Any:
    """The number of observations used (R's ``nobs``)."""
    return _method(fit, "nobs")(**kwargs)


def df_residual(fit: Any, **kwargs: Any) -> Any:
    """The residual degrees of freedom (R's ``df.residual``)."""
    return _method(fit, "df_residual")(**kwargs)


def fixef(fit: Any, **kwargs: Any) -> Any:
    """The fixed-effect coefficients of a mixed model (lme4's ``fixef``)."""
    return _method(fit, "fixef")(**kwargs)


def ranef(fit: Any, **kwargs: Any) -> Any:
    """The conditional modes of the random effects (lme4's ``ranef``)."""
    return _method(fit, "ranef")(**kwargs)


def VarCorr(fit: Any, **kwargs: Any) -> Any:  # noqa: N802
    """The variance components of a mixed model (lme4's ``VarCorr``)."""
    return _method(fit, "VarCorr")(**kwargs)


def isSingular(fit: Any, **kwargs: Any) -> Any:  # noqa: N802
    """Whether a mixed model's fit is singular (lme4's ``isSingular``)."""
    return _method(fit, "isSingular")(**kwargs)


def REMLcrit(fit: Any, **kwargs: Any) -> Any:  # noqa: N802
    """The REML criterion at the optimum (lme4's ``REMLcrit``)."""
    return _method(fit, "REMLcrit")(**kwargs)


def hatvalues(fit: Any, **kwargs: Any) -> Any:
    """The diagonal of the hat matrix (R's ``hatvalues``)."""
    return _method(fit, "hatvalues")(**kwargs)


def cooks_distance(fit: Any, **kwargs: Any) -> Any:
    """Cook's distances (R's ``cooks.distance``)."""
    return _method(fit, "cooks_distance")(**kwargs)


def rstandard(fit: Any, **kwargs: Any) -> Any:
    """Standardized residuals (R's ``rstandard``)."""
    return _method(fit, "rstandard")(**kwargs)


def rstudent(fit: Any, **kwargs: Any) -> Any:
    """Studentized (leave-one-out) residuals (R's ``rstudent``)."""
    return _method(fit, "rstudent")(**kwargs)


def tidy(fit: Any, **kwargs: Any) -> Any:
    """broom's ``tidy`` (columns ``term``, ``estimate``, ``std.error``, ...). An anova table
    given as a plain DataFrame (lmer's table of fixed terms) is tidied as broom's
    ``tidy.anova``."""
    if isinstance(fit, pd.DataFrame) and not hasattr(fit, "tidy"):
        return tidy_anova(fit)
    return _method(fit, "tidy")(**kwargs)


def glance(fit: Any, **kwargs: Any) -> Any:
    """broom's ``glance``: a one-row DataFrame of model statistics."""
    return _method(fit, "glance")(**kwargs)


def augment(fit: Any, **kwargs: Any) -> Any:
    """broom's ``augment``: data with ``.fitted``, ``.resid``... columns."""
    return _method(fit, "augment")(**kwargs)
