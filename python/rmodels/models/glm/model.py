"""glm stage "model": R's ``glm()`` (formula and data → design → glm.fit → fit object) and the
generics of its fit object, :class:`GLM`.

The methods orchestrate: the numbers are computed in the modules of this package — the fit in
:mod:`.fit`, the stored results in :mod:`.results`, ``summary.glm`` / ``print.glm`` in
:mod:`.summary`, ``predict.glm`` in :mod:`.predict`, the influence measures in
:mod:`.influence`, ``anova.glm`` in :mod:`.anova`, MASS's profile intervals in :mod:`.profile`
and broom's tables in :mod:`.broom`.
"""

from __future__ import annotations

from typing import Any, Sequence, Union

import numpy as np
import pandas as pd

from ...design import build_design
from ...errors import FitError
from ...frame import as_data_frame, optional_data_frame
from ...printing import format_num
from ...printing.html import fit_html
from ..contract import AnovaTable, perc_labels
from ..families import Family, as_family
from . import broom
from .anova import anova_glm, anova_glmlist
from .call import glm_call_text
from .fit import (
    check_prior_weights,
    emit_r_warnings,
    fit_design,
    glm_control,
    response_matrix,
    start_vectors,
    trace_text,
)
from .influence import (
    cooks_values,
    glm_influence,
    hat_values,
    influence_series,
    rstandard_values,
    rstudent_values,
)
from .predict import predict_glm
from .profile import profile_confint
from .results import GlmResults
from .summary import GLMSummary, coef_table, print_glm

__all__ = ["glm", "GLM"]

ANOVA_TESTS = ("Chisq", "LRT", "F", "Rao", "Cp")


class GLM(GlmResults):
    """A fitted GLM (R class ``glm``). Accessors follow R's generics; per-row results are
    Series on the data's index labels (see :class:`~.results.GlmResults`)."""

    # ---- summary / print --------------------------------------------------------------------
    def summary(self, correlation: bool = False) -> GLMSummary:
        """R's ``summary.glm``; ``str()`` of the result is ``print(summary(fit))``;
        ``correlation=True`` adds the coefficients' correlations, printed as R prints them."""
        return GLMSummary(self, correlation=correlation)

    def coef_table(self) -> pd.DataFrame:
        """summary.glm's coefficient matrix (non-aliased rows, pivoted order)."""
        return coef_table(self)

    def __str__(self) -> str:
        """R's ``print.glm``."""
        return print_glm(self)

    def __repr__(self) -> str:
        return self.__str__()

    def _repr_html_(self) -> str:
        """print.glm for notebooks: the coefficients as a table of R's ``format(digits = 4)``."""
        return fit_html(str(self), "Coefficients:", self.names,
                        format_num(np.asarray(self.coefficients, dtype=float), digits=4))

    # ---- prediction -------------------------------------------------------------------------
    def predict(self, newdata: pd.DataFrame | None = None, type: str = "link",  # noqa: A002
                se_fit: bool = False) -> Union[pd.Series, pd.DataFrame]:
        """R's ``predict.glm``: type "link" (eta, incl. offset) or "response" (mu), a Series on
        the data's index labels (newdata's index for newdata); with ``se_fit`` a DataFrame
        ``fit, se_fit`` (``attrs["residual_scale"]`` = sqrt(dispersion)), se on the response
        scale = se_link * |mu.eta(eta)|."""
        return predict_glm(self, optional_data_frame(newdata), type=type, se_fit=se_fit)

    # ---- influence --------------------------------------------------------------------------
    def hatvalues(self) -> pd.Series:
        """Diagonal of the hat matrix of the last weighted least-squares step (lm.influence:
        rows with zero prior weight are left out, as R)."""
        return influence_series(self, hat_values(self), pad=0.0)

    def rstandard(self, type: str = "deviance") -> pd.Series:  # noqa: A002
        """r / sqrt(dispersion (1 - h)) with deviance (default) or Pearson residuals."""
        values = rstandard_values(glm_influence(self), self.dispersion(), type)
        return influence_series(self, values)

    def rstudent(self) -> pd.Series:
        """R's ``rstudent.glm``: sign(r_D) sqrt(r_D^2 + h r_P^2 / (1 - h)), divided by the
        leave-one-out sigma unless the family is binomial or poisson."""
        scaled = self.family.family not in ("binomial", "poisson")
        return influence_series(self, rstudent_values(glm_influence(self), scaled))

    def cooks_distance(self) -> pd.Series:
        """(r_P / (1 - h))^2 h / (dispersion rank) (R's ``cooks.distance.glm``)."""
        values = cooks_values(glm_influence(self), self.dispersion(), self.rank)
        return influence_series(self, values)

    # ---- anova ------------------------------------------------------------------------------
    def anova(self, *others: GLM, test: str | None = None,
              dispersion: float | None = None) -> AnovaTable:
        """R's ``anova.glm``: sequential deviance table (refitting term by term), or the
        comparison of nested fits; ``test`` None, "Chisq"/"LRT", "F" or "Rao"."""
        if test is not None and test not in ANOVA_TESTS:
            raise ValueError("test must be one of 'Chisq', 'LRT', 'F', 'Rao', 'Cp'")
        if others:
            return anova_glmlist([self, *others], test=test, dispersion=dispersion)
        return anova_glm(self, test=test, dispersion=dispersion)

    # ---- confidence intervals ---------------------------------------------------------------
    def parm_names(self, parm: Any = None) -> list:
        """confint's ``parm``: coefficient names or positions (all when None)."""
        if parm is None:
            return list(self.names)
        if isinstance(parm, str):
            parm = [parm]
        return [self.names[p] if isinstance(p, (int, np.integer)) else p for p in parm]

    def confint_default(self, parm: Any = None, level: float = 0.95) -> pd.DataFrame:
        """Wald intervals beta +- z_{(1+level)/2} se (R's ``confint.default``)."""
        from scipy import stats
        a = (1 - level) / 2
        names = self.parm_names(parm)
        cf = self.coefficients[names].to_numpy()
        se = np.sqrt(np.diag(self.vcov().loc[names, names].to_numpy()))
        q = stats.norm.ppf([a, 1 - a])
        lo, hi = perc_labels([a, 1 - a])
        return pd.DataFrame({lo: cf + q[0] * se, hi: cf + q[1] * se}, index=names)

    def confint(self, parm: Any = None, level: float = 0.95) -> pd.DataFrame:
        """Profile-likelihood intervals as R 4.2.2's ``confint.glm`` (MASS ``profile.glm`` with
        alpha = (1 - level)/4, then ``confint.profile.glm``: an fmm spline of the signed root
        deviance against the parameter, inverted by linear interpolation at qnorm)."""
        return profile_confint(self, self.parm_names(parm), level)

    # ---- broom ------------------------------------------------------------------------------
    def tidy(self, conf_int: bool = False, conf_level: float = 0.95,
             exponentiate: bool = False) -> pd.DataFrame:
        """broom's ``tidy.glm``: term, estimate, std.error, statistic, p.value
        [, conf.low, conf.high (profile likelihood)]."""
        ct = self.coef_table()
        ci = self.confint(parm=list(ct.index), level=conf_level) if conf_int else None
        return broom.tidy_glm(ct, ci, exponentiate, all_terms=self.names)

    def glance(self) -> pd.DataFrame:
        """broom's ``glance.glm``: null.deviance, df.null, logLik, AIC, BIC, deviance,
        df.residual, nobs."""
        return broom.glance_glm(self)

    def augment(self, newdata: pd.DataFrame | None = None, type_predict: str = "link",
                type_residuals: str = "deviance", se_fit: bool = False) -> pd.DataFrame:
        """broom's ``augment.glm``: the model frame (or newdata) with .fitted [, .se.fit] and,
        without newdata, .resid, .std.resid, .hat, .sigma, .cooksd; rows on the data's index
        labels (newdata's for newdata), R's row names in ``.rownames`` as broom has them."""
        return broom.augment_glm(self, optional_data_frame(newdata), type_predict,
                                 type_residuals, se_fit)


# ---------------------------------------------------------------------------------------------
# glm()


def check_start(start: Sequence[float] | None, columns: Sequence[str]) -> None:
    """glm.fit's check of ``start`` against the model matrix columns."""
    if start is None or len(start) == len(columns):
        return
    names = ", ".join(f'"{c}"' for c in columns)
    names = f"c({names})" if len(columns) != 1 else names
    raise FitError(f"length of 'start' should equal {len(columns)} and correspond to "
                   f"initial coefs for {names}")


def glm(formula: str, data: pd.DataFrame, family: Union[str, Family, None] = None,
        weights: Any = None, subset: Any = None, offset: Any = None, na_action: str = "omit",
        start: Sequence[float] | None = None, etastart: Any = None, mustart: Any = None,
        control: dict | None = None, contrasts: dict | None = None, *,
        data_name: str = "data") -> GLM:
    """Fit a generalized linear model as R's ``glm()``.

    ``family`` is a :class:`~rmodels.families.Family` (``binomial(link="probit")``) or R's
    family name. The response may be numeric, 0/1, logical or a two-level factor (first level
    = failure) for the binomial families, proportions with ``weights`` = trials, or
    ``cbind(successes, failures)``. ``weights``/``offset``/``etastart``/``mustart`` are column
    names of ``data`` or arrays of ``len(data)``; ``control`` = ``{"epsilon": 1e-8,
    "maxit": 25, "trace": False}``; ``contrasts`` as R's (e.g. ``{"f": "contr.sum"}``).
    ``data_name`` is the name the printed call gives the data.
    """
    data = as_data_frame(data)
    fam = as_family("gaussian" if family is None else family)
    ctrl, trace = glm_control(control)
    d = build_design(formula, data, subset=subset, weights=weights, offset=offset,
                     na_action=na_action, contrasts=contrasts, materialize=False)
    Y = response_matrix(d, fam)
    check_prior_weights(d.weights)
    check_start(start, d.columns)
    core = fit_design(d, Y, fam, ctrl, None if start is None else np.asarray(start, float),
                      start_vectors(data, d.kept, etastart, mustart))
    if trace:
        print(trace_text(core.trace), end="")
    emit_r_warnings(core.classified_warnings(), stacklevel=3)
    call = glm_call_text(getattr(d, "formula_text", "") or formula,
                         None if family is None else fam, data_name, weights,
                         subset, offset, start, etastart, mustart, control, na_action, contrasts)
    out = GLM(core=core, design=d, family=fam, Y=Y,
              raw_weights=np.ones(d.n) if d.weights is None else np.asarray(d.weights, float),
              control=ctrl, call=call, data=data, formula=formula,
              offset_arg=offset, start=start)
    out.call_inputs = ("glm", dict(formula=formula, data=data, family=family, weights=weights,
                                   subset=subset, offset=offset, na_action=na_action,
                                   start=start, etastart=etastart, mustart=mustart,
                                   control=control, contrasts=contrasts,
                                   data_name=data_name))  # what update() re-evaluates
    return out
