"""``compare_with_r(fit)``: the same model refitted in R (through rpy2) and every quantity of
:mod:`.quantities` set side by side. R gets the rows the fit used (after ``subset`` and the
missing-value rule) with the weights and offset the fit used, so a subset or NA rule given as
a Python value needs no translation; the statistics compared are the same as R's on the full
call."""

from __future__ import annotations

import os
from typing import Any, Optional

import numpy as np
import pandas as pd

from ..batch import FitList
from ..errors import DataError
from .bridge import (
    frame_to_r,
    r_string,
    r_table,
    require_r_packages,
    temporary_directory,
    vector_to_r,
)
from .kinds import ModelKind, kind_of, offset_argument
from .quantities import R_HELPERS

__all__ = ["compare_with_r", "comparison_table"]

COLUMNS = ["quantity", "term", "rmodels", "R", "abs_diff", "rel_diff", "equal"]


def comparison_table(ours: pd.DataFrame, theirs: pd.DataFrame, tol: float) -> pd.DataFrame:
    """Rows of both sides joined on ``(quantity, term)`` (ours first, in their order, then any
    R has alone) with ``abs_diff = |rmodels − R|``, ``rel_diff = abs_diff / |R|`` and
    ``equal``: both missing, or ``abs_diff <= tol · max(1, |R|)``."""
    keys = ["quantity", "term"]
    out = ours.merge(theirs, on=keys, how="left")
    r_only = theirs.merge(ours[keys], on=keys, how="left", indicator=True)
    r_only = r_only[r_only["_merge"] == "left_only"].drop(columns="_merge")
    if len(r_only):
        out = pd.concat([out, r_only.assign(rmodels=np.nan)], ignore_index=True)
    a = out["rmodels"].to_numpy(float)
    b = out["R"].to_numpy(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        diff = np.abs(a - b)
        both_zero = (diff == 0)
        rel = np.where(both_zero, 0.0, diff / np.abs(b))
    both_na = np.isnan(a) & np.isnan(b)
    out["abs_diff"] = diff
    out["rel_diff"] = rel
    out["equal"] = both_na | (diff <= tol * np.maximum(1.0, np.abs(np.nan_to_num(b))))
    return out[COLUMNS]


def fit_data(fit: Any) -> Optional[pd.DataFrame]:
    """The DataFrame a fit was made on, when the fit keeps a reference to it."""
    data = getattr(fit, "data", None)
    if data is None and hasattr(fit, "call_inputs"):
        data = fit.call_inputs[1].get("data")
    return data


def _fit_data(fit: Any, data: Optional[pd.DataFrame]) -> pd.DataFrame:
    if data is None:
        data = fit_data(fit)
    if not isinstance(data, pd.DataFrame):
        raise DataError("compare_with_r() needs the data the model was fitted on: "
                        "compare_with_r(fit, data)")
    if len(data) != len(fit.design.data_index):
        raise DataError(f"'data' has {len(data)} rows but the fit was made on "
                        f"{len(fit.design.data_index)}")
    return data


def r_refit_code(fit: Any, kind: ModelKind, data: pd.DataFrame, tmp: str) -> str:
    """R code that rebuilds the data, refits the call and returns the quantities' rows."""
    d = fit.design
    rows = data.iloc[np.asarray(d.kept)]
    lines = [R_HELPERS, f".rm_data <- {frame_to_r(rows, tmp)}"]
    if d.weights is not None:
        lines.append(f".rm_w <- {vector_to_r(d.weights, os.path.join(tmp, 'w'))}")
    off = offset_argument(fit)
    if isinstance(off, str):
        lines.append(f".rm_o <- .rm_data[[{r_string(off)}]]")
    elif off is not None:
        lines.append(f".rm_o <- {vector_to_r(off, os.path.join(tmp, 'o'))}")
    lines.append(f"fit <- {kind.r_call(fit)}")
    lines.append(f"rbind({kind.r_code(fit)})")
    return "local({\n" + "\n".join(lines) + "\n})"


def compare_single(fit: Any, data: pd.DataFrame, tol: float) -> pd.DataFrame:
    kind = kind_of(fit)
    require_r_packages(kind.r_packages)
    ours = kind.py_rows(fit)
    with temporary_directory() as tmp:
        theirs = r_table(r_refit_code(fit, kind, data, tmp))
    return comparison_table(ours, theirs, tol)


def _group_rows(data: pd.DataFrame, by: list, key: pd.Series) -> pd.DataFrame:
    mask = np.ones(len(data), dtype=bool)
    for col in by:
        mask &= (data[col] == key[col]).to_numpy(dtype=bool, na_value=False)
    return data.loc[mask]


def compare_grouped(fits: FitList, data: pd.DataFrame, tol: float) -> pd.DataFrame:
    """One comparison per group that fitted (failed groups have no fit to compare), the group
    columns first, in the grouped fit's order."""
    groups = fits.groups()
    parts = []
    for i in range(len(fits)):
        fit = fits[i]
        if not hasattr(fit, "design"):  # a group whose fit failed
            continue
        key = groups.iloc[i]
        table = compare_single(fit, _group_rows(data, fits.by, key), tol)
        for col in reversed(fits.by):
            table.insert(0, col, key[col])
        parts.append(table)
    if not parts:
        raise DataError("no group of the grouped fit was fitted")
    return pd.concat(parts, ignore_index=True)


def compare_with_r(fit: Any, data: Optional[pd.DataFrame] = None,
                   tol: float = 1e-6) -> pd.DataFrame:
    """Refit ``fit``'s model in R (``lm``, ``glm``, ``MASS::glm.nb``, ``lme4::lmer``,
    ``lme4::glmer``; a grouped fit group by group) through rpy2 and compare: one row per
    quantity — coefficients and their standard errors, statistics and p-values, sigma or the
    dispersion (and theta), logLik, AIC, BIC, deviance (REML criterion), residual df, nobs,
    ``summary()`` of the fitted values and residuals, variance components for lmer and
    glmer — with the columns ``quantity, term, rmodels, R, abs_diff, rel_diff, equal``.

    ``data`` is the DataFrame the model was fitted on; fits keep a reference to theirs, so
    it is needed only to compare against other data of the same shape. ``equal`` is
    ``abs_diff <= tol · max(1, |R|)`` (or both missing). Data travel to R as binary files:
    doubles bit for bit, factor levels in the order the fit used. Needs R,
    rpy2 (``pip install 'rmodels[r]'``) and R's packages for the model (MASS, lme4); without
    them a :class:`~rmodels.errors.MissingDependencyError` says what to install."""
    if isinstance(fit, FitList):
        data = data if data is not None else fit_data(fit)
        if not isinstance(data, pd.DataFrame):
            raise DataError("compare_with_r() needs the data the grouped model was fitted "
                            "on: compare_with_r(fits, data)")
        return compare_grouped(fit, data, tol)
    return compare_single(fit, _fit_data(fit, data), tol)
