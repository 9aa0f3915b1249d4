"""frame, columns: a data frame's column read as the R value ``model.frame`` sees (numeric →
double, Categorical → factor keeping its level order, bool → logical, strings → character,
dates → R's Date as days since 1970-01-01, date-times → R's POSIXct as seconds since
1970-01-01 UTC).
"""

from __future__ import annotations

import datetime

import numpy as np
import pandas as pd

from ..errors import DataError
from .values import Char, Factor, Logical, holds_nan


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
            # float64 values as series_value gives (a view: the data is never written;
            # integers hold no NaN)
            x = np.asarray(arr, dtype=np.float64)
            return _canonical_nan(x) if arr.dtype.kind == "f" else x
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
    if _is_arrow_date(dt):  # a pandas column of Arrow dates: R's Date, in days
        return posixct_seconds(s.astype("datetime64[s]")) / 86400.0
    if pd.api.types.is_datetime64_any_dtype(dt):
        return posixct_seconds(s)
    if pd.api.types.is_timedelta64_dtype(dt):
        raise DataError(f"column '{name}' holds time differences; convert them to numbers first")
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    uniq = list(uniques)
    if uniq and all(isinstance(v, (bool, np.bool_)) for v in uniq):
        lut = np.array([1.0 if v else 0.0 for v in uniq] + [np.nan])
        return Logical(lut[codes])
    if uniq and all(_is_date(v) for v in uniq):
        lut = np.array([float(v.toordinal() - _EPOCH_ORDINAL) for v in uniq] + [np.nan])
        return lut[codes]  # R's Date: days since 1970-01-01
    labels = [str(v) for v in uniq]
    if len(set(labels)) != len(labels):  # mixed types that print alike ("1" and 1)
        vals = np.array(labels + [None], dtype=object)[codes]
        return Char(vals)
    return Char(codes=np.asarray(codes, dtype=np.int64), uniques=labels)


_EPOCH_ORDINAL = datetime.date(1970, 1, 1).toordinal()


def _is_date(v) -> bool:
    """A calendar date (``datetime.date``; not a ``datetime``, which has a time of day)."""
    return isinstance(v, datetime.date) and not isinstance(v, datetime.datetime)


def _is_arrow_date(dtype) -> bool:
    """An Arrow ``date32``/``date64`` type (pandas' ArrowDtype)."""
    return str(getattr(dtype, "pyarrow_dtype", "")).startswith("date")


def posixct_seconds(s: pd.Series) -> np.ndarray:
    """R's POSIXct value of a date-time Series: seconds since 1970-01-01 00:00 UTC as doubles
    (a time zone only changes how R prints the instant, not its number); NaT → NaN."""
    if s.dt.tz is not None:
        s = s.dt.tz_convert("UTC").dt.tz_localize(None)
    if not isinstance(s.dtype, np.dtype):  # e.g. an Arrow timestamp: as NumPy nanoseconds
        s = s.astype("datetime64[ns]")
    values = s.to_numpy()
    unit, _ = np.datetime_data(values.dtype)
    ticks = values.view(np.int64)
    out = ticks / np.float64(np.timedelta64(1, "s") / np.timedelta64(1, unit))
    out[np.isnat(values)] = np.nan
    return out


def _canonical_nan(arr: np.ndarray) -> np.ndarray:
    """``arr`` with every NaN the canonical quiet NaN: R's NA (a signalling NaN pattern, e.g.
    data that came through rpy2) would raise floating-point 'invalid' warnings in
    arithmetic."""
    if holds_nan(arr):
        arr = arr.copy()
        arr[np.isnan(arr)] = np.nan
    return arr
