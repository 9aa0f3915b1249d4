"""frame, columns: a data frame's column read as the R value ``model.frame`` sees (numeric →
double, Categorical → factor keeping its level order, bool → logical, strings → character).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import DataError
from .values import Char, Factor, Logical


def column_value(data: pd.DataFrame, name: str, expr_pos: int = 0, formula: str | None = None):
    """The R value of a data column: numeric → float64 array, Categorical → Factor,
    bool → Logical, strings → Char."""
    cols = data.columns
    if name not in cols:
        raise DataError(f"object '{name}' not found")
    loc = cols.get_loc(name) if cols.is_unique else None
    if isinstance(loc, int):
        arr = _column_array(data, loc)
        if isinstance(arr, np.ndarray) and arr.dtype.kind in "fiu":
            # NumPy numbers (the common case), read without building a Series: the same
            # float64 values as series_value gives (a view: the data is never written)
            return _canonical_nan(np.asarray(arr, dtype=np.float64))
    s = data[name]
    if isinstance(s, pd.DataFrame):
        raise DataError(f"column name '{name}' is duplicated in data")
    return series_value(s, name)


def _column_array(data: pd.DataFrame, loc: int):
    """The values of column ``loc`` as pandas stores them (a NumPy array for NumPy dtypes),
    without the Series ``data[name]`` builds (about 20 times cheaper); None when this pandas
    has no such accessor."""
    get = getattr(data, "_get_column_array", None)
    return None if get is None else get(loc)


def series_value(s: pd.Series, name: str = "x"):
    """The R value of a Series (see :func:`column_value`)."""
    dt = s.dtype
    if isinstance(dt, np.dtype) and dt.kind in "fiu":
        # NumPy numbers (the common case): the same float64 values as the general path below,
        # without pandas' dtype tests and NA masking (NumPy columns hold no pandas NA)
        return _canonical_nan(np.asarray(s.to_numpy(), dtype=np.float64))
    if isinstance(dt, pd.CategoricalDtype):
        cats = [str(c) for c in dt.categories]
        return Factor(s.cat.codes.to_numpy(np.int32, copy=True), cats, bool(dt.ordered))
    if isinstance(dt, np.dtype) and dt.kind == "c":
        raise DataError(f"complex variables are not currently allowed in model matrices "
                        f"(column '{name}')")
    if pd.api.types.is_bool_dtype(dt):
        return Logical(s.to_numpy(dtype=float, na_value=np.nan))
    if pd.api.types.is_numeric_dtype(dt):
        return _canonical_nan(s.to_numpy(dtype=np.float64, na_value=np.nan))
    if pd.api.types.is_datetime64_any_dtype(dt) or pd.api.types.is_timedelta64_dtype(dt):
        raise DataError(f"column '{name}' has a date/time type; convert it to numbers first")
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    uniq = list(uniques)
    if uniq and all(isinstance(v, (bool, np.bool_)) for v in uniq):
        lut = np.array([1.0 if v else 0.0 for v in uniq] + [np.nan])
        return Logical(lut[codes])
    labels = [str(v) for v in uniq]
    if len(set(labels)) != len(labels):  # mixed types that print alike ("1" and 1)
        vals = np.array(labels + [None], dtype=object)[codes]
        return Char(vals)
    return Char(codes=np.asarray(codes, dtype=np.int64), uniques=labels)


def _canonical_nan(arr: np.ndarray) -> np.ndarray:
    """``arr`` with every NaN the canonical quiet NaN: R's NA (a signalling NaN pattern, e.g.
    data that came through rpy2) would raise floating-point 'invalid' warnings in
    arithmetic."""
    nan = np.isnan(arr)
    if np.count_nonzero(nan):  # (cheaper than .any() on short arrays)
        arr = arr.copy()
        arr[nan] = np.nan
    return arr
