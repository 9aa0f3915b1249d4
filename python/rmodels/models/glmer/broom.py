"""broom.mixed's tables of a glmer fit: ``tidy.merMod`` (fixed effects with z tests,
``ran_pars``, ``ran_vals``), ``glance.merMod`` and ``augment.merMod``.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..lmer.broom import bar_variables, tidy_ran_vals
from .influence import glmm_cooks_distances, glmm_hat_values
from .predict import residual_values

TIDY_COLUMNS = ["effect", "group", "level", "term", "estimate", "std.error", "statistic",
                "p.value", "conf.low", "conf.high"]


def tidy(fit: Any, effects: Sequence[str] | str = ("ran_pars", "fixed"),
         conf_int: bool = False, conf_level: float = 0.95) -> pd.DataFrame:
    """The fixed rows first, then ``ran_pars`` and ``ran_vals`` as asked."""
    effects = [effects] if isinstance(effects, str) else list(effects)
    parts = []
    if "fixed" in effects:
        parts.append(tidy_fixed(fit, conf_int, conf_level))
    if "ran_pars" in effects:
        parts.append(fit.VarCorr().tidy("sdcor"))
    if "ran_vals" in effects:
        parts.append(tidy_ran_vals(fit))
    if not parts:
        raise ValueError("no effects selected")
    out = pd.concat(parts, ignore_index=True, sort=False)
    return out[[c for c in TIDY_COLUMNS if c in out.columns]]


def tidy_fixed(fit: Any, conf_int: bool, conf_level: float) -> pd.DataFrame:
    """``effect group term estimate std.error statistic p.value`` per fixed effect (z tests),
    with Wald intervals on request."""
    from scipy import stats
    se = np.sqrt(np.diag(fit.vcov_matrix()))
    z = fit.beta / se
    df = pd.DataFrame({"effect": "fixed", "group": np.nan, "term": fit.columns,
                       "estimate": fit.beta, "std.error": se, "statistic": z,
                       "p.value": 2 * stats.norm.sf(np.abs(z))})
    if conf_int:
        q = stats.norm.ppf(0.5 + conf_level / 2)
        df["conf.low"] = fit.beta - q * se
        df["conf.high"] = fit.beta + q * se
    return df


def glance(fit: Any) -> pd.DataFrame:
    """``nobs sigma logLik AIC BIC deviance df.residual``."""
    return pd.DataFrame([{"nobs": fit.nobs(), "sigma": fit.sigma(), "logLik": fit.logLik(),
                          "AIC": fit.AIC(), "BIC": fit.BIC(), "deviance": fit.deviance(),
                          "df.residual": fit.df_residual()}])


def model_frame(fit: Any) -> pd.DataFrame:
    """broom's ``augment_columns`` frame: ``.rownames`` when the row names are not 1..n, the
    model frame and the variables of the random-effect terms, on the data's labels."""
    out = fit.design.frame.copy()
    out.index = fit.rows.used_index
    row_names = fit.design.row_names
    if row_names != [str(i + 1) for i in range(len(row_names))]:
        out.insert(0, ".rownames", row_names)
    kept = fit.design.kept_data()
    for name in bar_variables(fit.design.bars):
        if name not in out.columns and name in kept.columns:
            out[name] = kept[name].to_numpy()
    return out


def augment(fit: Any) -> pd.DataFrame:
    """The model frame with ``.fitted`` (η̂), ``.resid`` (deviance residuals), ``.hat`` and
    ``.cooksd`` (lme4's hatvalues and cooks.distance, with lme4's warning that the hat matrix
    may not make sense for GLMMs: broom.mixed gives it twice, we once), ``.fixed`` (Xβ̂ +
    offset), ``.mu``, ``.offset``, ``.sqrtXwt``, ``.sqrtrwt``, ``.weights``, ``.wtres``
    (Pearson residuals) and ``.eta``, indexed by the data's labels of the rows in the fit."""
    out = model_frame(fit)
    n = fit.nobs()
    off = np.zeros(n) if fit.offset_values is None else fit.offset_values
    w = fit.prior_weights
    sqrtrwt = np.sqrt(w / fit.family.variance(fit.mu))
    out[".fitted"] = fit.eta
    out[".resid"] = residual_values(fit, "deviance")
    hat = glmm_hat_values(fit)
    out[".hat"] = hat
    out[".cooksd"] = glmm_cooks_distances(fit, hat)
    out[".fixed"] = fit.X @ fit.beta + off
    out[".mu"] = fit.mu
    out[".offset"] = off
    out[".sqrtXwt"] = sqrtrwt * fit.family.mu_eta(fit.eta)
    out[".sqrtrwt"] = sqrtrwt
    out[".weights"] = w
    out[".wtres"] = residual_values(fit, "pearson")
    out[".eta"] = fit.eta
    return out
