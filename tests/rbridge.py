"""Live R as the test oracle, through rpy2.

Data goes to R column by column through binary files (doubles bit for bit, factors as codes plus
levels), never through rpy2's pandas conversion; results come back as numpy arrays.
"""

from __future__ import annotations

import os
import tempfile
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd


class RUnavailable(RuntimeError):
    pass


@lru_cache(maxsize=1)
def _r():
    try:
        import rpy2.rinterface_lib.callbacks as cb
        import rpy2.robjects as ro
    except Exception as exc:  # pragma: no cover - depends on the machine
        raise RUnavailable(f"rpy2/R not available: {exc}") from exc
    # Keep R's console chatter out of pytest output; warnings are collected explicitly.
    cb.consolewrite_print = lambda s: None
    cb.consolewrite_warnerror = lambda s: None
    ro.r("suppressMessages({library(stats); library(MASS); library(lme4); library(broom); "
         "library(broom.mixed)}); options(warn = 1)")
    # Character levels are compared under ICU root collation (R in a UTF-8 locale).
    ro.r('invisible(Sys.setlocale("LC_COLLATE", "C.UTF-8"))')
    return ro


def r(code: str) -> Any:
    """Evaluate R code and convert the value (see :func:`to_py`)."""
    return to_py(_r().r(code))


def r_raw(code: str):
    return _r().r(code)


def to_py(obj: Any) -> Any:
    """Convert an R value: numeric/int/logical vectors → ndarray (NA → nan), character → list,
    factors → pd.Categorical, data frames → DataFrame, lists → dict/list, NULL → None."""
    import rpy2.robjects as ro
    from rpy2 import rinterface as ri

    if obj is ri.NULL or obj is None:
        return None
    rclass = list(ro.r["class"](obj))
    if "data.frame" in rclass:
        names = list(ro.r["names"](obj))
        cols = {n: to_py(obj.rx2(n)) for n in names}
        rn = list(ro.r["rownames"](obj))
        out = pd.DataFrame({n: (v if not isinstance(v, np.ndarray) or v.ndim == 1 else list(v))
                            for n, v in cols.items()})
        out.index = rn
        return out
    if "factor" in rclass:
        levels = list(ro.r["levels"](obj))
        codes = np.asarray(ro.r["as.integer"](obj), dtype=float)
        codes = np.where(np.isnan(codes) | (codes == ri.NA_Integer), -1, codes - 1).astype(int)
        return pd.Categorical.from_codes(codes, levels, ordered="ordered" in rclass)
    if isinstance(obj, ri.ListSexpVector):
        names = ro.r["names"](obj)
        items = [to_py(x) for x in obj]
        if names is ri.NULL:
            return items
        return dict(zip(list(names), items))
    if isinstance(obj, ri.StrSexpVector):
        return [None if x is ri.NA_Character else str(x) for x in obj]
    if isinstance(obj, (ri.FloatSexpVector, ri.IntSexpVector, ri.BoolSexpVector)):
        as_num = np.array(ro.r["as.double"](obj), dtype=float)
        dim = ro.r["dim"](obj)
        if dim is not ri.NULL:
            dims = [int(v) for v in dim]
            as_num = as_num.reshape(dims, order="F")
        return as_num
    return obj


def names(code: str) -> list[str]:
    v = r(f"names({code})")
    return [] if v is None else v


def send_df(df: pd.DataFrame, name: str) -> None:
    """Assign ``df`` in R's global environment as ``name``, column types kept:
    float/int → double, bool → logical, Categorical → factor (ordered kept, levels kept),
    str/object → character. Values travel as binary files, so doubles are bit-identical."""
    ro = _r()
    with tempfile.TemporaryDirectory() as tmp:
        parts = []
        for i, (col, s) in enumerate(df.items()):
            path = os.path.join(tmp, f"c{i}")
            qcol = _rstr(str(col))
            if isinstance(s.dtype, pd.CategoricalDtype):
                codes = s.cat.codes.to_numpy(np.int32) + 1
                codes = np.where(codes == 0, -2147483648, codes).astype("<i4")
                codes.tofile(path)
                lev = ", ".join(_rstr(str(v)) for v in s.cat.categories)
                ordered = str(s.cat.ordered).upper()
                parts.append(
                    f"{qcol} = {{v <- readBin('{path}', 'integer', {len(s)}, 4, endian = 'little');"
                    f" factor(c({lev})[v], levels = c({lev}), ordered = {ordered})}}")
            elif pd.api.types.is_bool_dtype(s.dtype):
                b = s.to_numpy(dtype=float, na_value=np.nan)
                np.where(np.isnan(b), -2147483648, b).astype("<i4").tofile(path)
                parts.append(f"{qcol} = as.logical(readBin('{path}', 'integer', {len(s)}, 4,"
                             " endian = 'little'))")
            elif pd.api.types.is_numeric_dtype(s.dtype):
                np.asarray(s.to_numpy(float, na_value=np.nan), dtype="<f8").tofile(path)
                parts.append(f"{qcol} = {{v <- readBin('{path}', 'double', {len(s)}, 8,"
                             " endian = 'little'); v[is.nan(v)] <- NA_real_; v}")
            else:
                vals = ["\x01NA" if (v is None or v is pd.NA or
                                      (isinstance(v, float) and np.isnan(v)))
                        else str(v) for v in s]
                with open(path, "w", encoding="utf-8") as fh:
                    if vals:  # an empty file reads back as character(0)
                        fh.write("\n".join(v.replace("\n", " ") for v in vals) + "\n")
                parts.append(
                    f"{qcol} = {{v <- readLines('{path}', encoding = 'UTF-8');"
                    f" v[v == '\\001NA'] <- NA; if (length(v) == 0) character(0) else v}}")
        if not parts:  # no columns: R's data frame of len(df) rows and no variables
            ro.r(f"{name} <- data.frame(row.names = seq_len({len(df)}))")
            return
        body = ",\n".join(parts)
        ro.r(f"{name} <- data.frame({body}, check.names = FALSE, stringsAsFactors = FALSE)")


def _rstr(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def r_dataset(name: str, package: str = "datasets") -> pd.DataFrame:
    """One of R's data sets as a DataFrame (factors → Categorical with R's levels)."""
    _r().r(f"data({name}, package = '{package}')")
    return to_py(_r().r(f"as.data.frame({name})"))
