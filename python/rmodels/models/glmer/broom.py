"""broom.mixed's tables of a glmer fit: ``tidy.merMod`` (fixed effects with z tests,
``ran_pars``, ``ran_vals``), ``glance.merMod`` and ``augment.merMod`` (without ``.hat`` and
``.cooksd``).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..lmer.broom import tidy_ran_vals
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


def augment(fit: Any) -> pd.DataFrame:
    """The model frame with ``.fitted`` (η̂), ``.resid`` (deviance residuals), ``.fixed``
    (Xβ̂ + offset), ``.mu``, ``.offset``, ``.sqrtXwt``, ``.sqrtrwt``, ``.weights``, ``.wtres``
    (Pearson residuals) and ``.eta``, indexed by the data's labels of the rows in the fit."""
    out = fit.design.frame.copy()
    out.index = fit.rows.used_index
    n = fit.nobs()
    off = np.zeros(n) if fit.offset_values is None else fit.offset_values
    w = fit.prior_weights
    sqrtrwt = np.sqrt(w / fit.family.variance(fit.mu))
    out[".fitted"] = fit.eta
    out[".resid"] = residual_values(fit, "deviance")
    out[".fixed"] = fit.X @ fit.beta + off
    out[".mu"] = fit.mu
    out[".offset"] = off
    out[".sqrtXwt"] = sqrtrwt * fit.family.mu_eta(fit.eta)
    out[".sqrtrwt"] = sqrtrwt
    out[".weights"] = w
    out[".wtres"] = residual_values(fit, "pearson")
    out[".eta"] = fit.eta
    return out
