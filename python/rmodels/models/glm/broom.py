"""glm stage "broom": broom's ``tidy.glm``, ``glance.glm`` and ``augment.glm`` (its column
names; augment's rows on the data's own index labels, R's row names in ``.rownames``)."""

from __future__ import annotations

from typing import Optional

import numpy as np
import pandas as pd

from .influence import cooks_values, glm_influence, rstandard_values
from .predict import link_se, predict_glm
from .results import GlmResults

__all__ = ["tidy_glm", "glance_glm", "augment_glm"]


def tidy_glm(coefs: pd.DataFrame, ci: Optional[pd.DataFrame] = None,
             exponentiate: bool = False, all_terms: Optional[list] = None) -> pd.DataFrame:
    """broom's ``tidy.glm`` from summary.glm's coefficient matrix: term, estimate, std.error,
    statistic, p.value [, conf.low, conf.high from the intervals ``ci``]; ``exponentiate``
    takes exp of the estimate and the interval. ``all_terms`` (every coefficient's name):
    aliased terms are kept as rows of NaN in that order, as broom joins ``coef(x)``."""
    if all_terms is not None and len(all_terms) != len(coefs):
        coefs = coefs.reindex(pd.Index(list(all_terms)))
        ci = None if ci is None else ci.reindex(pd.Index(list(all_terms)))
    out = pd.DataFrame({"term": list(coefs.index), "estimate": coefs.iloc[:, 0].to_numpy(),
                        "std.error": coefs.iloc[:, 1].to_numpy(),
                        "statistic": coefs.iloc[:, 2].to_numpy(),
                        "p.value": coefs.iloc[:, 3].to_numpy()})
    if ci is not None:
        out["conf.low"] = ci.iloc[:, 0].to_numpy()
        out["conf.high"] = ci.iloc[:, 1].to_numpy()
    if exponentiate:
        out["estimate"] = np.exp(out["estimate"])
        if ci is not None:
            out["conf.low"] = np.exp(out["conf.low"])
            out["conf.high"] = np.exp(out["conf.high"])
    return out


def glance_glm(fit: GlmResults) -> pd.DataFrame:
    """broom's ``glance.glm``: null.deviance, df.null, logLik, AIC, BIC, deviance,
    df.residual, nobs (the likelihood columns NA for quasi families)."""
    quasi = fit.family.is_quasi
    return pd.DataFrame({
        "null.deviance": [fit.null_deviance], "df.null": [fit.df_null_],
        "logLik": [np.nan if quasi else fit.logLik()], "AIC": [np.nan if quasi else fit.AIC()],
        "BIC": [np.nan if quasi else fit.BIC()], "deviance": [fit.deviance()],
        "df.residual": [fit.df_residual_], "nobs": [fit.nobs()]})


def has_default_row_names(fit: GlmResults) -> bool:
    """Whether R's row names of the rows in the fit are "1".."n" (broom then adds no
    ``.rownames`` column)."""
    labels = fit.row_labels
    idx = labels.index
    if (isinstance(idx, pd.RangeIndex) and idx.start == 0 and idx.step == 1
            and np.array_equal(labels.used, np.arange(len(labels.used)))):
        return True
    rn = fit.row_names
    return rn == [str(i + 1) for i in range(len(rn))]


def augment_glm(fit: GlmResults, newdata: Optional[pd.DataFrame] = None,
                type_predict: str = "link", type_residuals: str = "deviance",
                se_fit: bool = False) -> pd.DataFrame:
    """broom's ``augment.glm``: the model frame (or newdata) with .fitted [, .se.fit] and,
    without newdata, .resid, .std.resid, .hat, .sigma, .cooksd. Rows on the data's index
    labels (newdata's index for newdata)."""
    if newdata is not None:
        out = newdata.copy()
        pr = predict_glm(fit, newdata, type=type_predict, se_fit=True)
        out[".fitted"] = pr["fit"].to_numpy()
        if se_fit:
            out[".se.fit"] = pr["se_fit"].to_numpy()
        return out
    if type_predict not in ("link", "response"):
        raise ValueError("type must be 'link' or 'response'")
    out = fit.design.frame.reset_index(drop=True)
    if not has_default_row_names(fit):
        out.insert(0, ".rownames", fit.row_names)
    eta = fit.core.linear_predictors
    out[".fitted"] = eta.copy() if type_predict == "link" else fit.family.linkinv(eta)
    if se_fit:
        se = link_se(fit, None, len(eta))
        out[".se.fit"] = se if type_predict == "link" else se * np.abs(fit.family.mu_eta(eta))
    inf = glm_influence(fit)
    disp = fit.dispersion()
    out[".resid"] = fit.residual_values(type_residuals)
    out[".std.resid"] = rstandard_values(
        inf, disp, "pearson" if type_residuals == "pearson" else "deviance")
    out[".hat"] = inf.hat
    out[".sigma"] = inf.sigma
    out[".cooksd"] = cooks_values(inf, disp, fit.rank)
    out.index = fit.row_labels.used_index
    return out
