"""The R session behind :func:`~rmodels.rcheck.compare_with_r`: rpy2 imported when first
needed, R packages checked, and data sent to R through binary files (doubles bit for bit,
factors as integer codes plus their levels in our order), never element by element."""

from __future__ import annotations

import os
import tempfile
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from ..collation import sort_levels
from ..errors import DataError, MissingDependencyError

__all__ = ["r_session", "require_r_packages", "frame_to_r", "vector_to_r", "r_table"]

NA_INTEGER = -2147483648


@lru_cache(maxsize=1)
def r_session() -> Any:
    """``rpy2.robjects`` with an embedded R, or :class:`MissingDependencyError`."""
    try:
        import rpy2.robjects as ro
    except Exception as exc:  # ImportError, or R itself not found by rpy2
        raise MissingDependencyError(
            "compare_with_r() needs R and the Python package rpy2: install R "
            "(https://cran.r-project.org) and then `pip install 'rmodels[r]'` "
            f"(rpy2 could not be loaded: {exc})") from exc
    return ro


def require_r_packages(packages: tuple) -> None:
    """Raise :class:`MissingDependencyError` naming the R packages that are not installed."""
    ro = r_session()
    missing = [p for p in packages
               if not bool(ro.r(f"isTRUE(requireNamespace('{p}', quietly = TRUE))")[0])]
    if missing:
        quoted = ", ".join(f'"{p}"' for p in missing)
        raise MissingDependencyError(
            f"compare_with_r() needs the R package{'s' if len(missing) > 1 else ''} "
            f"{', '.join(missing)}: in R, install.packages(c({quoted}))")


def r_string(s: str) -> str:
    """An R string literal."""
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def vector_to_r(values: np.ndarray, path: str) -> str:
    """Write a double vector to ``path``; the R expression that reads it back (NaN → NA)."""
    arr = np.ascontiguousarray(np.asarray(values, dtype="<f8"))
    arr.tofile(path)
    return (f"{{v <- readBin({r_string(path)}, 'double', {len(arr)}, 8, endian = 'little');"
            " v[is.nan(v)] <- NA_real_; v}")


def _factor_to_r(codes: np.ndarray, levels: list, ordered: bool, path: str) -> str:
    c = np.where(codes < 0, NA_INTEGER, codes + 1).astype("<i4")
    c.tofile(path)
    lev = "c(" + ", ".join(r_string(str(v)) for v in levels) + ")"
    return (f"{{v <- readBin({r_string(path)}, 'integer', {len(c)}, 4, endian = 'little');"
            f" factor({lev}[v], levels = {lev}, ordered = {str(bool(ordered)).upper()})}}")


def column_to_r(s: pd.Series, path: str) -> str:
    """One column as R reads it: Categorical → factor (levels and order kept), bool →
    logical, numbers → double, anything else → factor with R's sorted levels (as the formula
    engine makes character columns)."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        return _factor_to_r(s.cat.codes.to_numpy(np.int64), list(s.cat.categories),
                            s.cat.ordered, path)
    if pd.api.types.is_bool_dtype(s.dtype):
        b = s.to_numpy(dtype=float, na_value=np.nan)
        np.where(np.isnan(b), NA_INTEGER, b).astype("<i4").tofile(path)
        return (f"as.logical(readBin({r_string(path)}, 'integer', {len(b)}, 4,"
                " endian = 'little'))")
    if pd.api.types.is_numeric_dtype(s.dtype):
        return vector_to_r(s.to_numpy(float, na_value=np.nan), path)
    values = s.to_numpy(dtype=object)
    isna = pd.isna(values)
    text = [str(v) for v in values[~isna]]
    levels = sort_levels(text)
    pos = {lv: i for i, lv in enumerate(levels)}
    codes = np.full(len(values), -1, dtype=np.int64)
    codes[~isna] = [pos[t] for t in text]
    return _factor_to_r(codes, levels, False, path)


def frame_to_r(df: pd.DataFrame, tmp: str) -> str:
    """The R expression of a data frame with ``df``'s columns (files written under ``tmp``)."""
    if not isinstance(df, pd.DataFrame):
        raise DataError("compare_with_r() needs the fit's data as a pandas DataFrame")
    parts = [f"{r_string(str(col))} = {column_to_r(s, os.path.join(tmp, f'c{i}'))}"
             for i, (col, s) in enumerate(df.items())]
    if not parts:
        return f"data.frame(row.names = seq_len({len(df)}))"
    return f"data.frame({', '.join(parts)}, check.names = FALSE)"


def r_table(code: str) -> pd.DataFrame:
    """Evaluate R code that returns ``data.frame(quantity, term, value)``; R's warnings and
    messages are muffled (the comparison is about numbers)."""
    ro = r_session()
    wrapped = (f"tryCatch(suppressWarnings(suppressMessages({{{code}}})),"
               " error = function(e) paste('Error:', conditionMessage(e)))")
    res = ro.r(wrapped)
    if not bool(ro.r["is.data.frame"](res)[0]):
        raise DataError(f"the R refit failed: {str(res[0])}")
    get = ro.r("function(d, k) d[[k]]")
    return pd.DataFrame({
        "quantity": [str(v) for v in get(res, "quantity")],
        "term": [str(v) for v in get(res, "term")],
        "R": np.array(ro.r["as.double"](get(res, "value")), dtype=float),
    })


def temporary_directory() -> tempfile.TemporaryDirectory:
    return tempfile.TemporaryDirectory(prefix="rmodels-r-")
