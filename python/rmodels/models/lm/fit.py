"""R's ``lm()``: formula → :func:`rmodels.design.build_design` (model frame and matrix) → the
compiled least-squares kernel (:mod:`.wfit`) → an :class:`~rmodels.models.lm.LM`."""

from __future__ import annotations

from typing import Any, Optional

import numpy as np
import pandas as pd

from ...design import build_design
from ...errors import DataError, FitError
from ...frame import as_data_frame
from .model import LM
from .wfit import empty_fit, lm_wfit, lm_wfit_rows, rows_path_applies

__all__ = ["lm", "lm_call_args"]


def _arg_text(value: Any, name: str) -> str:
    return value if isinstance(value, str) else name


def lm_call_args(data_name: str, subset: Any, weights: Any, offset: Any, na_action: str,
                 singular_ok: bool) -> list:
    """The arguments after ``formula`` of the printed call ``lm(formula = ..., data = ...)``."""
    extra: list = [("data", data_name)]
    if subset is not None:
        extra.append(("subset", "subset"))
    if weights is not None:
        extra.append(("weights", _arg_text(weights, "weights")))
    if na_action != "omit":
        extra.append(("na.action", f"na.{na_action}"))
    if not singular_ok:
        extra.append(("singular.ok", "FALSE"))
    if offset is not None:
        extra.append(("offset", _arg_text(offset, "offset")))
    return extra


def _checked_response(design: Any) -> np.ndarray:
    """The response as float64, with R's errors for a missing or factor response, no rows,
    missing or negative weights, and all weights zero."""
    if design.y is None:
        raise DataError("lm() needs a response: the formula has no left-hand side")
    if design.y_factor is not None:
        raise DataError(f"the response '{design.response_name}' is a factor; lm() needs a "
                        "numeric response")
    w = design.weights
    if w is not None and (np.isnan(w).any() or (w < 0).any()):
        raise DataError("missing or negative weights not allowed")
    y = np.asarray(design.y, dtype=np.float64)
    if y.shape[0] == 0:
        raise DataError("0 (non-NA) cases")
    if w is not None and not (w != 0).any():
        raise FitError("all weights are zero")
    return y


def lm_fit_design(design: Any, y: np.ndarray, tol: float) -> dict:
    """R's ``lm.wfit`` on a design: no coefficients for an empty model, the design's rows
    for a large mostly-zero one, else the dense matrix (whose factor the core may defer)."""
    w = design.weights
    n, p = y.shape[0], len(design.columns)
    fit = None
    if p == 0:
        fit = empty_fit(y, w, design.offset)
    elif rows_path_applies(design, y, w, n, p):
        fit = lm_wfit_rows(design, y, w, tol)
    if fit is None:
        fit = lm_wfit(design.consume_X(), y, w, design.offset, tol, defer=True)
    return fit


def lm(formula: str, data: pd.DataFrame, weights: Any = None, subset: Any = None,
       offset: Any = None, na_action: str = "omit", tol: float = 1e-7,
       singular_ok: bool = True, contrasts: Optional[dict] = None,
       data_name: str = "data") -> LM:
    """Fit a linear model as R's ``lm(formula, data, subset, weights, na.action, offset)``.

    ``weights``/``offset``: a column name of ``data`` or an array of ``len(data)``; ``subset``:
    a boolean mask or 0-based integer positions; ``na_action``: ``"omit"``, ``"exclude"`` or
    ``"fail"``. Weighted least squares minimises Σ wᵢ(yᵢ − oᵢ − xᵢ'β)² over the rows with wᵢ > 0
    by the pivoted QR of R's ``lm.wfit`` (tolerance ``tol``, R's default 1e-7); columns that
    are linear combinations of earlier ones get NaN coefficients (an error if not
    ``singular_ok``). ``data_name`` is the name shown for ``data`` in the printed call.
    """
    data = as_data_frame(data)  # polars/Arrow as pandas, so the fit keeps a pandas frame
    design = build_design(formula, data, subset=subset, weights=weights, offset=offset,
                          na_action=na_action, contrasts=contrasts, materialize=False)
    y = _checked_response(design)
    fit = lm_fit_design(design, y, tol)
    if not singular_ok and fit["rank"] < len(design.columns):
        raise FitError("singular fit encountered")
    extra = lm_call_args(data_name, subset, weights, offset, na_action, singular_ok)
    out = LM(design, fit, extra, tol, offset_arg=offset)
    out.data = data  # a reference (no copy): sandwich's cluster columns are read from it
    out.call_inputs = ("lm", dict(formula=formula, data=data, weights=weights, subset=subset,
                                  offset=offset, na_action=na_action, tol=tol,
                                  singular_ok=singular_ok, contrasts=contrasts,
                                  data_name=data_name))  # what update() re-evaluates
    return out
