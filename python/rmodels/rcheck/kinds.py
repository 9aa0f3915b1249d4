"""One entry per model kind that :func:`~rmodels.rcheck.compare_with_r` knows: the R
packages it needs, the R call that refits it, the R code of its quantities and the same
quantities from the fit. A new model (glmer, …) is one more :class:`ModelKind` in
:data:`KINDS`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pandas as pd

from .. import generics as g
from ..errors import DataError
from ..models.glm import GLM, NegBinGLM
from ..models.glmer import GlmerMod
from ..models.lm import LM
from ..models.lmer import LmerMod
from .bridge import r_string
from .quantities import (
    coefficient_rows,
    r_coefficients,
    r_summaries,
    r_varcomp,
    scalar_rows,
    summary_rows,
    varcomp_rows,
)

__all__ = ["ModelKind", "KINDS", "kind_of", "call_arguments"]

COEF_COLUMNS = ["std.error", "statistic", "p.value"]
LM_SCALARS = ["r.squared", "adj.r.squared", "sigma", "statistic", "p.value", "df", "logLik",
              "AIC", "BIC", "deviance", "df.residual", "nobs"]
GLM_SCALARS = ["null.deviance", "df.null", "logLik", "AIC", "BIC", "deviance", "df.residual",
               "nobs"]


@dataclass(frozen=True)
class ModelKind:
    """How one model class is refitted in R and compared.

    ``r_call(fit)`` is the R call text (data ``.rm_data``, weights ``.rm_w``, offset ``.rm_o``);
    ``r_code(fit)`` R code of the comma-separated ``.rm_q`` row blocks computed on ``fit``;
    ``py_rows(fit)`` the same rows from the fit (``quantity, term, rmodels``)."""

    name: str
    r_packages: tuple
    r_call: Callable[[Any], str]
    r_code: Callable[[Any], str]
    py_rows: Callable[[Any], pd.DataFrame]


# ---- the R call ---------------------------------------------------------------------------

def call_arguments(fit: Any) -> list:
    """``weights``/``offset``/``contrasts`` arguments of the refit (values sent separately)."""
    d = fit.design
    args = []
    if d.weights is not None:
        args.append("weights = .rm_w")
    if offset_argument(fit) is not None:
        args.append("offset = .rm_o")
    named = {k: v for k, v in (d.contrasts or {}).items() if isinstance(v, str)}
    if any(v not in ("contr.treatment", "contr.poly") for v in named.values()):
        inner = ", ".join(f"{r_string(k)} = {r_string(v)}" for k, v in named.items())
        args.append(f"contrasts = list({inner})")
    return args


def offset_argument(fit: Any) -> Any:
    """The values of the ``offset=`` argument on the fit's rows (None without one)."""
    d = fit.design
    arg = getattr(fit, "offset_arg", None)
    if arg is None and isinstance(getattr(fit, "call", None), dict) and fit.call.get("offset"):
        if d.terms.offsets:
            raise DataError("compare_with_r() cannot split lmer's offset= argument from "
                            "offset() terms in the formula; put the offset in one place")
        return np.asarray(d.offset, dtype=float)
    if arg is None:
        return None
    if isinstance(arg, str):
        return arg  # a column of the data sent
    return np.asarray(arg, dtype=float)[np.asarray(d.kept)]


def _formula(fit: Any) -> str:
    return f"stats::as.formula({r_string(fit.design.spec.formula_text)})"


def _joined(*parts: Any) -> str:
    return ", ".join(p for p in parts if p)


def lm_call(fit: Any) -> str:
    args = _joined(_formula(fit), "data = .rm_data", *call_arguments(fit))
    return f"lm({args})"


def glm_call(fit: Any) -> str:
    fam = fit.family
    family = fam.call_text or f'{fam.family}(link = "{fam.link}")'
    control = f"control = glm.control(epsilon = {fit.control['epsilon']!r}, " \
              f"maxit = {int(fit.control['maxit'])})"
    args = _joined(_formula(fit), f"family = {family}", "data = .rm_data",
                   *call_arguments(fit), control)
    return f"glm({args})"


def glm_nb_call(fit: Any) -> str:
    link = f"link = {fit.family.link}"
    args = _joined(_formula(fit), "data = .rm_data", *call_arguments(fit), link)
    return f"MASS::glm.nb({args})"


def lmer_call(fit: Any) -> str:
    reml = f"REML = {str(bool(fit.REML)).upper()}"
    args = _joined(_formula(fit), "data = .rm_data", reml, *call_arguments(fit))
    return f"lme4::lmer({args})"


def glmer_call(fit: Any) -> str:
    fam = fit.family
    family = fam.call_text or f'{fam.family}(link = "{fam.link}")'
    args = _joined(_formula(fit), "data = .rm_data", f"family = {family}",
                   f"nAGQ = {int(fit.nAGQ)}", *call_arguments(fit))
    return f"lme4::glmer({args})"


# ---- the quantities -----------------------------------------------------------------------

def _summaries(fit: Any) -> list:
    return [summary_rows("fitted", g.fitted(fit)), summary_rows("residuals", g.residuals(fit))]


def lm_rows(fit: Any) -> pd.DataFrame:
    gl = g.glance(fit).iloc[0]
    parts = [coefficient_rows(g.tidy(fit), COEF_COLUMNS),
             scalar_rows({k: gl[k] for k in LM_SCALARS if k in gl.index}), *_summaries(fit)]
    return pd.concat(parts, ignore_index=True)


LM_R = f"""{r_coefficients("coef(fit)", COEF_COLUMNS)},
  local({{s <- summary(fit); f <- s$fstatistic
    rbind(.rm_q("r.squared", s$r.squared, ""), .rm_q("adj.r.squared", s$adj.r.squared, ""),
      .rm_q("sigma", sigma(fit), ""), .rm_q("statistic", f[1], ""),
      .rm_q("p.value", if (is.null(f)) NULL else pf(f[1], f[2], f[3], lower.tail = FALSE), ""),
      .rm_q("df", f[2], ""))}}),
  .rm_q("logLik", logLik(fit), ""), .rm_q("AIC", AIC(fit), ""), .rm_q("BIC", BIC(fit), ""),
  .rm_q("deviance", deviance(fit), ""), .rm_q("df.residual", df.residual(fit), ""),
  .rm_q("nobs", nobs(fit), ""), {r_summaries()}"""


def glm_rows(fit: Any) -> pd.DataFrame:
    gl = g.glance(fit).iloc[0]
    scalars = {k: gl[k] for k in GLM_SCALARS}
    scalars["dispersion"] = g.summary(fit).dispersion
    if hasattr(fit, "SE_theta"):
        scalars.update(theta=fit.theta, SE_theta=fit.SE_theta)
    parts = [coefficient_rows(g.tidy(fit), COEF_COLUMNS), scalar_rows(scalars),
             *_summaries(fit)]
    return pd.concat(parts, ignore_index=True)


GLM_R = f"""{r_coefficients("coef(fit)", COEF_COLUMNS)},
  .rm_q("null.deviance", fit$null.deviance, ""), .rm_q("df.null", fit$df.null, ""),
  .rm_q("logLik", logLik(fit), ""), .rm_q("AIC", AIC(fit), ""), .rm_q("BIC", BIC(fit), ""),
  .rm_q("deviance", deviance(fit), ""), .rm_q("df.residual", df.residual(fit), ""),
  .rm_q("nobs", nobs(fit), ""), .rm_q("dispersion", summary(fit)$dispersion, ""),
  {r_summaries()}"""

GLM_NB_R = GLM_R + """,
  .rm_q("theta", fit$theta, ""), .rm_q("SE_theta", fit$SE.theta, "")"""


def lmer_rows(fit: Any) -> pd.DataFrame:
    gl = g.glance(fit).iloc[0]
    fixed = g.tidy(fit, effects="fixed")
    crit = "REMLcrit" if fit.REML else "deviance"
    names = ["sigma", "logLik", "AIC", "BIC", crit, "df.residual", "nobs"]
    parts = [coefficient_rows(fixed, ["std.error", "statistic"]),
             scalar_rows({k: gl[k] for k in names}), varcomp_rows(g.VarCorr(fit).as_data_frame()),
             *_summaries(fit)]
    return pd.concat(parts, ignore_index=True)


LMER_R = f"""{r_coefficients("lme4::fixef(fit)", ["std.error", "statistic"])},
  .rm_q("sigma", sigma(fit), ""), .rm_q("logLik", logLik(fit), ""),
  .rm_q("AIC", AIC(fit), ""), .rm_q("BIC", BIC(fit), ""),
  if (lme4::isREML(fit)) .rm_q("REMLcrit", lme4::REMLcrit(fit), "") else
    .rm_q("deviance", deviance(fit), ""),
  .rm_q("df.residual", df.residual(fit), ""), .rm_q("nobs", nobs(fit), ""),
  {r_varcomp()}, {r_summaries()}"""


def glmer_rows(fit: Any) -> pd.DataFrame:
    gl = g.glance(fit).iloc[0]
    fixed = g.tidy(fit, effects="fixed")
    names = ["logLik", "AIC", "BIC", "deviance", "df.residual", "nobs"]
    parts = [coefficient_rows(fixed, COEF_COLUMNS), scalar_rows({k: gl[k] for k in names}),
             varcomp_rows(g.VarCorr(fit).as_data_frame()), *_summaries(fit)]
    return pd.concat(parts, ignore_index=True)


GLMER_R = f"""{r_coefficients("lme4::fixef(fit)", COEF_COLUMNS)},
  .rm_q("logLik", logLik(fit), ""), .rm_q("AIC", AIC(fit), ""), .rm_q("BIC", BIC(fit), ""),
  .rm_q("deviance", deviance(fit), ""), .rm_q("df.residual", df.residual(fit), ""),
  .rm_q("nobs", nobs(fit), ""), {r_varcomp()}, {r_summaries()}"""


KINDS = {
    "lm": ModelKind("lm", ("stats",), lm_call, lambda fit: LM_R, lm_rows),
    "glm": ModelKind("glm", ("stats", "MASS"), glm_call, lambda fit: GLM_R, glm_rows),
    "glm.nb": ModelKind("glm.nb", ("MASS",), glm_nb_call, lambda fit: GLM_NB_R, glm_rows),
    "lmer": ModelKind("lmer", ("lme4",), lmer_call, lambda fit: LMER_R, lmer_rows),
    "glmer": ModelKind("glmer", ("lme4",), glmer_call, lambda fit: GLMER_R, glmer_rows),
}


def kind_of(fit: Any) -> ModelKind:
    """The entry of :data:`KINDS` for a fit (by class, most derived first)."""
    for cls, key in ((NegBinGLM, "glm.nb"), (GLM, "glm"), (LmerMod, "lmer"), (GlmerMod, "glmer"),
                     (LM, "lm")):
        if isinstance(fit, cls):
            if key == "lm" and fit.is_mlm:
                raise DataError("compare_with_r() does not compare multivariate (mlm) fits")
            return KINDS[key]
    raise DataError(f"compare_with_r() does not know fits of class {type(fit).__name__}")
