"""frame, native: the data a user passes, as the pandas DataFrame the model frame reads.

A pandas DataFrame is used as it is (no copy, no check beyond its type). A polars DataFrame or a
pyarrow Table goes through narwhals (a compatibility layer between data-frame libraries, imported
only for such data) and Arrow's own conversion to pandas, whole columns at a time in compiled
code, never value by value in Python. The numbers are then the ones the same data gives as a
pandas DataFrame; row labels are R's default ``1..n`` (these libraries have no index).

Types, as R sees the same data:

* Date (polars ``Date``, Arrow ``date32``/``date64``): R's ``Date``, the number of days since
  1970-01-01 (the cast is done by the library, before the conversion);
* Datetime: R's ``POSIXct``, seconds since 1970-01-01 UTC (read by :mod:`.columns`, as for a
  pandas ``datetime64`` column);
* polars ``Enum``: a factor with the Enum's categories as its levels, unordered (polars has no
  separate "ordered" flag; R's ``factor(x, levels = ...)``); polars ``Categorical``: character
  (its category order is the order strings were first seen, so the levels are sorted as R's
  ``factor()`` sorts them); an Arrow dictionary keeps its order and ``ordered`` flag, as a
  pandas Categorical does.
"""

from __future__ import annotations

from typing import Any, Optional

import pandas as pd

from ..errors import DataError


def as_data_frame(data: Any, what: str = "data") -> pd.DataFrame:
    """``data`` as a pandas DataFrame: pandas unchanged, polars and pyarrow through narwhals
    (see the module docstring); anything else is a :class:`DataError` naming ``what``."""
    if isinstance(data, pd.DataFrame):
        return data
    frame = _narwhals_frame(data, what)
    import narwhals as nw

    enums = [name for name, dtype in frame.schema.items() if isinstance(dtype, nw.Enum)]
    casts = [nw.col(name).cast(target) for name, dtype in frame.schema.items()
             for target in [_cast_target(dtype, frame)] if target is not None]
    if casts:
        frame = frame.with_columns(*casts)
    out = frame.to_pandas()
    for name in enums:
        out[name] = out[name].cat.as_unordered()
    return out


def optional_data_frame(data: Any, what: str = "newdata") -> Optional[pd.DataFrame]:
    """:func:`as_data_frame`, None kept as None (``newdata`` not given)."""
    return None if data is None else as_data_frame(data, what)


def _narwhals_frame(data: Any, what: str):
    """The narwhals eager frame wrapping ``data`` (a DataError for what it cannot wrap)."""
    if data is None:
        raise DataError(f"'{what}' must be a data frame, not None")
    kind = type(data).__module__.split(".")[0]
    if kind not in ("polars", "pyarrow"):
        raise DataError(f"'{what}' must be a pandas or polars DataFrame or a pyarrow Table, "
                        f"not {type(data).__name__}")
    try:
        import narwhals as nw
    except ImportError as exc:  # pragma: no cover - narwhals is a dependency
        raise DataError("reading polars or pyarrow data needs the 'narwhals' package "
                        "(pip install narwhals)") from exc
    try:
        return nw.from_native(data, eager_only=True)
    except TypeError as exc:
        raise DataError(f"'{what}' must be a pandas or polars DataFrame or a pyarrow Table, "
                        f"not {type(data).__name__}") from exc


def _cast_target(dtype, frame):
    """The type a column is cast to before the conversion (None: kept): dates to their day
    numbers (R's Date), a polars Categorical to strings."""
    import narwhals as nw

    if isinstance(dtype, nw.Date):
        return nw.Int32()
    if isinstance(dtype, nw.Categorical) and frame.implementation.is_polars():
        return nw.String()
    return None
