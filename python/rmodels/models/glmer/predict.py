"""Per-row values of a glmer fit (lme4's ``residuals.glmResp``, ``predict.merMod``): plain arrays
over the rows in the fit or of ``newdata``; the fit's methods put them on the data's index.

    response  y − μ̂          working   (y − μ̂) / μ'(η̂)
    pearson   √w (y − μ̂) / √V(μ̂)     deviance  sign(y − μ̂) √(unit deviance × w)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..lmer.predict import is_population, predict_newdata


def residual_values(fit: Any, type: str = "deviance") -> np.ndarray:  # noqa: A002
    """lme4's ``residuals.glmResp`` of the given type on the rows in the fit."""
    fam, y, mu, w = fit.family, fit.y, fit.mu, fit.prior_weights
    if type == "response":
        return y - mu
    if type == "working":
        return (y - mu) / fam.mu_eta(fit.eta)
    if type == "pearson":
        return np.sqrt(w) * (y - mu) / np.sqrt(fam.variance(mu))
    if type == "deviance":
        d = np.maximum(fam.dev_resids(y, mu, w), 0.0)
        return np.sign(y - mu) * np.sqrt(d)
    raise ValueError(f"unknown residual type {type!r}")


def predict_glmer(fit: Any, newdata: pd.DataFrame | None, type: str,  # noqa: A002
                  re_form: Any, allow_new_levels: bool) -> np.ndarray:
    """The linear predictor (``type="link"``) or the mean (``"response"``) on the rows in the
    fit or of ``newdata``, with all random effects or none (``re_form``)."""
    if type not in ("link", "response"):
        raise ValueError("type must be 'link' or 'response'")
    population = is_population(re_form)
    if newdata is None:
        if population:
            off = 0 if fit.offset_values is None else fit.offset_values
            eta = fit.X @ fit.beta + off
        else:
            eta = fit.eta.copy()
    else:
        eta = predict_newdata(fit, newdata, population, allow_new_levels)
    return fit.family.linkinv(eta) if type == "response" else eta
