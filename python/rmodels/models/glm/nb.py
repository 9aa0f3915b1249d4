"""glm stage "negative binomial": MASS's ``glm.nb`` (theta by ``theta.ml`` alternating with the
IRLS of ``negative.binomial(theta)``) and its fit object, :class:`NegBinGLM` (R class
``negbin``: ``logLik.negbin``, ``summary.negbin``, ``anova.negbin``)."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ... import printing as rf
from ...design import build_design
from ...errors import DataError, FitError, RModelsWarning
from ...frame import as_data_frame
from ..contract import AnovaTable, LogLik
from ..families import negative_binomial, poisson
from .anova import negbin_lr_table
from .call import glm_nb_call_text
from .fit import (
    GlmCoreFit,
    check_prior_weights,
    emit_r_warnings,
    glm_control,
    glm_fit_matrix,
    start_vectors,
)
from .model import GLM
from .summary import GLMSummary

__all__ = ["glm_nb", "NegBinGLM", "NegBinSummary", "theta_ml", "nb_loglik"]


def nb_loglik(th: float, mu: np.ndarray, y: np.ndarray, w: np.ndarray) -> float:
    """Negative binomial log-likelihood of glm.nb: sum w (lgamma(th + y) - lgamma(th)
    - lgamma(y + 1) + th log th + y log(mu + (y == 0)) - (th + y) log(th + mu))."""
    from scipy.special import gammaln
    return float(np.sum(w * (gammaln(th + y) - gammaln(th) - gammaln(y + 1) + th * math.log(th)
                             + y * np.log(mu + (y == 0)) - (th + y) * np.log(th + mu))))


def theta_ml(y: np.ndarray, mu: np.ndarray, n: float, w: np.ndarray, limit: int = 10,
             eps: float = np.finfo(float).eps ** 0.25) -> tuple[float, float, list[str]]:
    """MASS's ``theta.ml``: Newton-Raphson on the score of theta, started at
    n / sum(w (y/mu - 1)^2); returns (theta, SE = 1/sqrt(information), warnings)."""

    def score(th: float) -> float:
        from scipy.special import digamma
        return float(np.sum(w * (digamma(th + y) - digamma(th) + math.log(th) + 1
                                 - np.log(th + mu) - (y + th) / (mu + th))))

    def info(th: float) -> float:
        from scipy.special import polygamma
        return float(np.sum(w * (-polygamma(1, th + y) + polygamma(1, th) - 1 / th
                                 + 2 / (mu + th) - (y + th) / (mu + th) ** 2)))

    t0 = n / float(np.sum(w * (y / mu - 1) ** 2))
    it = 0
    delta = 1.0
    i = float("nan")
    msgs: list[str] = []
    while True:
        it += 1
        if not (it < limit and abs(delta) > eps):
            break
        t0 = abs(t0)
        i = info(t0)
        delta = score(t0) / i
        t0 = t0 + delta
    if t0 < 0:
        t0 = 0.0
        msgs.append("estimate truncated at zero")
    if it == limit:
        msgs.append("iteration limit reached")
    return t0, math.sqrt(1 / i), msgs


@dataclass
class NbAlternation:
    """glm.nb's state after the alternation: the last IRLS fit, the family it was fitted
    with, theta and its SE, the log-likelihood, theta's last warning and every message in R's
    order."""

    fit: GlmCoreFit
    family: Any
    theta: float
    se_theta: float
    loglik: float
    th_warn: str | None
    messages: list = field(default_factory=list)


def alternate_theta(X: np.ndarray, Y: np.ndarray, w: np.ndarray, fit: GlmCoreFit, fam0: Any,
                    link: str, common: dict) -> NbAlternation:
    """glm.nb's loop: theta by theta.ml at the previous means, then IRLS with
    ``negative.binomial(theta)`` started at its linear predictor, until
    |Lm0 - Lm|/d1 + |dtheta|/d2 <= epsilon (d1 = sqrt(2 max(1, df.residual)), d2 = 1), at most
    ``maxit`` alternations."""
    eps, maxit = common["epsilon"], common["maxit"]
    msgs = fit.classified_warnings()
    n_ok = int(len(Y) - np.sum(fit.prior_weights == 0))
    mu = fit.fitted
    th, se_th, tw = theta_ml(Y, mu, float(np.sum(w)), w, limit=maxit)
    msgs += [(RModelsWarning, m) for m in tw]
    fam = negative_binomial(th, link)
    fam_fit = fam0
    it = 0
    d1 = math.sqrt(2 * max(1, n_ok - fit.rank))
    d2 = delta = 1.0
    Lm = nb_loglik(th, mu, Y, w)
    Lm0 = Lm + 2 * d1
    while True:
        it += 1
        if not (it <= maxit and (abs(Lm0 - Lm) / d1 + abs(delta) / d2) > eps):
            break
        fit = glm_fit_matrix(X, Y, fam, etastart=fam.linkfun(mu), emit=False, **common)
        msgs += fit.classified_warnings()
        fam_fit = fam
        t0 = th
        th, se_th, tw = theta_ml(Y, mu, float(np.sum(w)), w, limit=maxit)
        msgs += [(RModelsWarning, m) for m in tw]
        fam = negative_binomial(th, link)
        mu = fit.fitted
        delta = t0 - th
        Lm0 = Lm
        Lm = nb_loglik(th, mu, Y, w)
    th_warn = tw[-1] if tw else None
    if it > maxit:
        msgs.append((RModelsWarning, "alternation limit reached"))
        th_warn = "alternation limit reached"
    return NbAlternation(fit, fam_fit, th, se_th, Lm, th_warn, msgs)


def glm_nb(formula: str, data: pd.DataFrame, weights: Any = None, subset: Any = None,
           na_action: str = "omit", start: Sequence[float] | None = None, etastart: Any = None,
           mustart: Any = None, control: dict | None = None, init_theta: float | None = None,
           link: str | None = None, *, data_name: str = "data") -> NegBinGLM:
    """Negative binomial GLM as MASS's ``glm.nb``: a Poisson (or ``init_theta``) fit, then
    alternate theta by ``theta.ml`` and IRLS with ``negative.binomial(theta)``
    (:func:`alternate_theta`)."""
    data = as_data_frame(data)
    link_given = link is not None
    link = "log" if link is None else link
    ctrl, _ = glm_control(control)
    d = build_design(formula, data, subset=subset, weights=weights, na_action=na_action)
    if d.y is None or np.asarray(d.y).ndim != 1 or d.y_factor is not None:
        raise DataError("glm.nb needs a numeric response")
    Y = np.asarray(d.y, float)
    check_prior_weights(d.weights)
    w = np.ones(len(Y)) if d.weights is None else np.asarray(d.weights, float)
    starts = start_vectors(data, d.kept, etastart, mustart)
    fam0 = poisson(link) if init_theta is None else negative_binomial(init_theta, link)
    common = {"weights": w, "offset": d.offset, "epsilon": ctrl["epsilon"],
              "maxit": ctrl["maxit"], "intercept": d.intercept, "has_offset": False}
    fit0 = glm_fit_matrix(d.X, Y, fam0, start=None if start is None else np.asarray(start, float),
                          etastart=starts.get("etastart"), mustart=starts.get("mustart"),
                          emit=False, **common)
    alt = alternate_theta(d.X, Y, w, fit0, fam0, link, common)
    fit = alt.fit
    if d.offset is not None and d.intercept:
        icol = d.columns.index("(Intercept)")
        nul = glm_fit_matrix(d.X[:, [icol]], Y, negative_binomial(alt.theta, link), emit=False,
                             **common)
        alt.messages += nul.classified_warnings()
        fit.null_deviance = nul.deviance
    emit_r_warnings(alt.messages, stacklevel=3)
    call = glm_nb_call_text(getattr(d, "formula_text", "") or formula, data_name, weights,
                            link, link_given, alt.theta)
    out = NegBinGLM(core=fit, design=d, family=alt.family, Y=Y[:, None], raw_weights=w,
                    control=ctrl, call=call, data=data, formula=formula)
    out.theta = float(alt.theta)
    out.SE_theta = float(alt.se_theta)
    out.twologlik = 2 * alt.loglik
    out.th_warn = alt.th_warn
    out.aic = -out.twologlik + 2 * fit.rank + 2
    out.call_inputs = ("glm.nb", dict(formula=formula, data=data, weights=weights, subset=subset,
                                      na_action=na_action, start=start, etastart=etastart,
                                      mustart=mustart, control=control, init_theta=init_theta,
                                      link=link if link_given else None,
                                      data_name=data_name))  # what update() re-evaluates
    return out


class NegBinGLM(GLM):
    """A ``glm.nb`` fit (R class ``negbin``): theta, SE_theta, twologlik; logLik = twologlik/2
    with rank + 1 degrees of freedom; summary with dispersion 1 and the theta lines."""

    theta: float
    SE_theta: float
    twologlik: float
    th_warn: str | None

    def logLik(self) -> LogLik:  # noqa: N802
        """MASS's ``logLik.negbin``: twologlik / 2 with df = rank + 1."""
        return self.loglik_object(self.twologlik / 2)

    def loglik_df(self) -> int:
        return self.rank + 1

    def summary(self) -> NegBinSummary:
        return NegBinSummary(self)

    def anova(self, *others: GLM, test: str | None = "Chisq",  # type: ignore[override]
              dispersion: float | None = None) -> AnovaTable:
        """MASS's ``anova.negbin``: one model → anova.glm with theta held fixed (warning
        "tests made without re-estimating 'theta'", Chisq test by default); several →
        likelihood-ratio tests of the models ordered by decreasing residual df (columns Model,
        theta, Resid. df, 2 x log-lik., Test, df, LR stat., Pr(Chi))."""
        if not others:
            warnings.warn("tests made without re-estimating 'theta'", RModelsWarning,
                          stacklevel=2)
            return super().anova(test=test, dispersion=dispersion)
        if test != "Chisq":
            warnings.warn("only Chi-squared LR tests are implemented", RModelsWarning,
                          stacklevel=2)
        fits = [self, *others]
        if not all(isinstance(f, NegBinGLM) for f in fits):
            raise FitError('not all objects are of class "negbin"')
        return negbin_lr_table(
            [str(f.design.formula_text).split(" ~ ", 1)[-1] for f in fits],
            [f.theta for f in fits], [f.df_residual_ for f in fits],
            [f.twologlik for f in fits], self.design.response_name)


class NegBinSummary(GLMSummary):
    """``summary.negbin``: summary.glm's text, then Theta, its standard error and
    2 x log-likelihood."""

    fit: NegBinGLM

    def __str__(self) -> str:
        fit = self.fit
        out = super().__str__()
        dp = max(2 - math.floor(math.log10(fit.SE_theta)), 0)
        th = rf.format_num([rf.round_r(fit.theta, dp)], nsmall=dp)[0]
        se = rf.format_num([rf.round_r(fit.SE_theta, dp)], nsmall=dp)[0]
        out += f"\n              Theta:  {th} \n          Std. Err.:  {se} \n"
        if fit.th_warn is not None:
            out += f"Warning while fitting theta: {fit.th_warn} \n"
        ll = rf.format_num([rf.round_r(fit.twologlik, 3)], nsmall=dp)[0]
        out += f"\n 2 x log-likelihood:  {ll} \n"
        return out

    __repr__ = __str__
