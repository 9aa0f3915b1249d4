"""R's ``predict.lm``: predictions on the fit's rows or on new data, with standard errors and
confidence or prediction intervals.

fit = x₀'β̂ + offset (aliased coefficients dropped); se = sqrt(x₀'Vx₀), V = σ̂²(R'R)⁻¹;
``interval="confidence"``: fit ± t·se; ``"prediction"``: fit ± t·sqrt(se² + σ̂²/w₀), with
t = qt((1 + level)/2, rdf) and w₀ the prediction weights.
"""

from __future__ import annotations

import math
import warnings
from typing import Any, Optional, Union

import numpy as np
import pandas as pd

from ... import _core
from ...errors import DataError, FitError, PredictionWarning, RankDeficiencyWarning
from .distributions import qt

__all__ = ["predict_lm", "offset_on"]


def offset_on(newdata: pd.DataFrame, offset_arg: Any, spec: Any) -> np.ndarray:
    """The offset of new data: the formula's ``offset()`` terms plus the fit's ``offset=``
    argument re-evaluated on ``newdata`` (a column name; an array cannot be)."""
    off = np.zeros(len(newdata))
    o1 = spec.offset(newdata)
    if o1 is not None:
        off = off + o1
    if isinstance(offset_arg, str):
        if offset_arg not in newdata.columns:
            raise DataError(f"object '{offset_arg}' not found (offset)")
        off = off + newdata[offset_arg].to_numpy(dtype=float)
    elif offset_arg is not None:
        raise DataError("the fit's offset= was given as an array; give it as a column "
                        "name of data to predict on new data")
    return off


def _check_interval(interval: Optional[str]) -> Optional[str]:
    if interval == "none":
        return None
    if interval not in (None, "confidence", "prediction"):
        raise ValueError("interval must be None, 'confidence' or 'prediction'")
    return interval


def predict_lm(fit: Any, newdata: Optional[pd.DataFrame] = None,
               interval: Optional[str] = None, level: float = 0.95, se_fit: bool = False,
               weights: Any = None) -> Union[pd.Series, pd.DataFrame]:
    """``predict.lm`` of an :class:`~rmodels.models.lm.LM` (see :meth:`LM.predict`)."""
    interval = _check_interval(interval)
    a = fit.arrays
    p, piv = a.rank, a.pivot[: a.rank]
    have_new = newdata is not None
    rows = None
    if have_new:
        X, _ok = fit.design.spec.model_matrix(newdata)
        off = offset_on(newdata, fit.offset_arg, fit.design.spec)
        if p < X.shape[1]:
            warnings.warn("prediction from a rank-deficient fit may be misleading",
                          RankDeficiencyWarning, stacklevel=3)
    elif fit.is_mlm:
        X, off = None, None
    else:
        rows = a.qr.fit_rows()
        X = None if rows is not None else fit.design.model_matrix_array()
        off = a.offset
    if fit.is_mlm:
        return _predict_mlm(fit, X, off, newdata, se_fit or interval is not None)
    with np.errstate(invalid="ignore"):  # NaN rows: missing predictors (na.pass)
        if X is None:  # the fit's own rows, by their non-zeros (R's X %*% b order)
            pred = np.asarray(_core.rows_matvec(rows, np.ascontiguousarray(a.coefficients)),
                              dtype=np.float64)
        else:
            pred = X[:, piv] @ a.coefficients[piv] if p else np.zeros(X.shape[0])
    if off is not None:
        pred = pred + off
    pw = _prediction_weights(fit, newdata, interval, weights)
    if not (se_fit or interval is not None):
        return _rows_of(fit, newdata, pred)
    res_var = fit.summary_stats().resvar
    rdf = a.df_residual
    ip = _prediction_variance(a, X, rows, len(pred), res_var)
    cols: dict = {"fit": pred}
    if interval is not None:
        tfrac = qt((1 - level) / 2, rdf)
        with np.errstate(invalid="ignore", divide="ignore"):
            hw = tfrac * (np.sqrt(ip) if interval == "confidence"
                          else np.sqrt(ip + res_var / pw))
        cols["lwr"] = pred + hw
        cols["upr"] = pred - hw
    if se_fit:
        cols["se_fit"] = np.sqrt(ip)
    out = _rows_of(fit, newdata, np.column_stack(list(cols.values())), list(cols))
    if se_fit:
        out.attrs["df"] = rdf
        out.attrs["residual_scale"] = math.sqrt(res_var)
    return out


def _rows_of(fit: Any, newdata: Optional[pd.DataFrame], values: np.ndarray,
             columns: Optional[list] = None) -> Union[pd.Series, pd.DataFrame]:
    """Predictions on newdata's index, or on the data's (``naresid``-padded) rows."""
    if newdata is None:
        return fit.row_labels.naresid(values, columns=columns)
    if values.ndim == 2:
        return pd.DataFrame(values, index=newdata.index, columns=pd.Index(columns))
    return pd.Series(values, index=newdata.index)


def _predict_mlm(fit: Any, X: np.ndarray, off: Optional[np.ndarray],
                 newdata: Optional[pd.DataFrame], with_se: bool) -> pd.DataFrame:
    """``predict.mlm``: the fitted values (unpadded, as R) without new data, X β̂ + offset
    with it."""
    if with_se:
        raise FitError("the 'se.fit' argument is not yet implemented for \"mlm\" objects")
    a = fit.arrays
    if newdata is None:
        return pd.DataFrame(a.fitted_values, index=fit.row_labels.used_index,
                            columns=pd.Index(fit.response_names))
    piv = a.pivot[: a.rank]
    with np.errstate(invalid="ignore"):
        pred = X[:, piv] @ a.coefficients[piv]
    if off is not None:
        pred = pred + off[:, None]
    return pd.DataFrame(pred, index=newdata.index, columns=pd.Index(fit.response_names))


def _prediction_weights(fit: Any, newdata: Optional[pd.DataFrame], interval: Optional[str],
                        weights: Any) -> Any:
    """w₀ of a prediction interval: ``weights`` (a number, an array or a column of newdata),
    by default 1, or on the fit's own rows the fit's weights (R warns in both cases)."""
    w = fit.arrays.weights
    if interval == "prediction":
        if newdata is None:
            warnings.warn("predictions on current data refer to _future_ responses",
                          PredictionWarning, stacklevel=4)
            if weights is None and w is not None:
                warnings.warn("assuming prediction variance inversely proportional to "
                              "weights used for fitting", PredictionWarning, stacklevel=4)
                return w
        elif weights is None and w is not None:
            warnings.warn("Assuming constant prediction variance even though model fit is "
                          "weighted", PredictionWarning, stacklevel=4)
    if weights is None:
        return 1.0
    if isinstance(weights, str):
        if newdata is None or weights not in newdata.columns:
            raise DataError(f"object '{weights}' not found (weights)")
        return newdata[weights].to_numpy(dtype=float)
    return np.asarray(weights, dtype=float)


def _prediction_variance(a: Any, X: Optional[np.ndarray], rows: Any, n: int,
                         res_var: float) -> np.ndarray:
    """se² = σ̂² x₀'(R'R)⁻¹x₀ per row, x₀'(R'R)⁻¹x₀ = ‖x₀' R⁻¹‖² (R's ``X[, piv] %*%
    qr.solve(R11)``), from the design's rows on the fit's rows of a fit made from them."""
    from scipy.linalg import solve_triangular
    p = a.rank
    if X is None:
        xcx = np.asarray(_core.rows_hat(rows, a.qr.cov_unscaled(), np.ones(n)),
                         dtype=np.float64)
        return xcx * res_var
    if p == 0:
        return np.zeros(X.shape[0])
    with np.errstate(invalid="ignore"):
        XRinv = solve_triangular(a.qr.top[:p, :p], X[:, a.pivot[:p]].T, trans="T",
                                 lower=False, check_finite=False).T
        return np.sum(XRinv * XRinv, axis=1) * res_var
