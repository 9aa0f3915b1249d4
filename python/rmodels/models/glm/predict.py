"""glm stage "predict": R's ``predict.glm`` on the fit's own rows or on new data.

New data is encoded by the fit's stored model spec (the training data's levels, contrasts and
transform states). On the fit's own rows the result is ``napredict``-ed (padded under
``na_action="exclude"``) and indexed by the data's labels; on new data, by newdata's index.
"""

from __future__ import annotations

import math
import warnings
from typing import Union

import numpy as np
import pandas as pd

from ...errors import RankDeficiencyWarning
from .influence import rows_quadform, solve_lower
from .results import GlmResults

__all__ = ["newdata_matrix", "predict_glm"]


def newdata_matrix(fit: GlmResults, newdata: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The model matrix of new data and its offset (formula offsets plus the ``offset=``
    column when the fit named one)."""
    X, _ = fit.design.spec.model_matrix(newdata)
    off = fit.design.spec.offset(newdata)
    o = np.zeros(len(newdata)) if off is None else np.asarray(off, float)
    if isinstance(fit.offset_arg, str):
        o = o + np.asarray(newdata[fit.offset_arg], dtype=float)
    return np.asarray(X, float), o


def link_se(fit: GlmResults, X: np.ndarray | None, n: int) -> np.ndarray:
    """Standard errors of the linear predictor, sqrt(dispersion x_i' (R'R)^-1 x_i), over the
    rows of X (the fit's own model matrix when X is None)."""
    p = fit.rank
    piv = fit.core.pivot[:p]
    q = rows_quadform(fit, np.ones(n)) if X is None else None
    if q is None:
        if X is None:
            X = fit.design.model_matrix_array()
        ok = np.isfinite(X).all(axis=1)  # rows of newdata with a missing predictor: NaN
        XRinv = solve_lower(np.triu(fit.core.R[:p, :p]).T, X[ok][:, piv].T).T if p else \
            np.zeros((int(ok.sum()), 0))
        q = np.full(n, np.nan)
        q[ok] = np.sum(XRinv ** 2, axis=1)
    return np.sqrt(q * fit.dispersion())


def predict_glm(fit: GlmResults, newdata: pd.DataFrame | None = None,
                type: str = "link",  # noqa: A002 - R's argument
                se_fit: bool = False) -> Union[pd.Series, pd.DataFrame]:
    """R's ``predict.glm``: type "link" (eta, incl. offset) or "response" (mu), a Series; with
    ``se_fit`` a DataFrame ``fit, se_fit`` (``attrs["residual_scale"]`` = sqrt(dispersion)),
    se on the response scale = se_link * |mu.eta(eta)|."""
    if type not in ("link", "response"):
        raise ValueError("type must be 'link' or 'response'")
    p = fit.rank
    X = None
    if newdata is None:
        eta = fit.core.linear_predictors.copy()  # the result must not share the fit's array
    else:
        X, o = newdata_matrix(fit, newdata)
        if p < X.shape[1]:
            warnings.warn("prediction from a rank-deficient fit may be misleading",
                          RankDeficiencyWarning, stacklevel=3)
        piv = fit.core.pivot[:p]
        eta = X[:, piv] @ fit.core.coefficients[piv] + o
    values = eta if type == "link" else fit.family.linkinv(eta)
    if not se_fit:
        if newdata is None:
            return fit.naresid(values)
        return pd.Series(values, index=newdata.index, dtype=float)
    se = link_se(fit, X, len(eta))
    if type == "response":
        se = se * np.abs(fit.family.mu_eta(eta))
    if newdata is None:
        out = fit.row_labels.naresid(np.column_stack([values, se]), columns=["fit", "se_fit"])
    else:
        out = pd.DataFrame({"fit": values, "se_fit": se}, index=newdata.index)
    out.attrs["residual_scale"] = math.sqrt(fit.dispersion())
    return out
