"""printing, rounding: R's ``round(x, digits)`` (R 4's ``fround``) and ``signif`` (``fprec``),
both computed by the core (format/format_real.cpp), ``zapsmall`` and ``quantile(type = 7)``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import _core


def fround(x: float, digits: float) -> float:
    """R 4's ``fround``: the nearer of the two ``digits``-decimal neighbours of x (ties to the
    even last digit); computed by the core (format/format_real.cpp)."""
    return float(_core.fround(np.array([x], dtype=np.float64), float(digits))[0])


def fround_array(x: np.ndarray, digits: float) -> np.ndarray:
    """:func:`fround` of every number of ``x`` (flattened)."""
    return _core.fround(x, float(digits))


def round_r(x: Any, digits: float = 0) -> Any:
    """R's ``round(x, digits)`` (R >= 4.0 algorithm); scalar in, scalar out; arrays elementwise.
    A non-integer ``digits`` is rounded to the nearest integer (x.5 up)."""
    if np.isscalar(x):
        return fround(float(x), float(digits))
    arr = np.asarray(x, dtype=np.float64)
    return fround_array(arr.ravel(), float(digits)).reshape(arr.shape)


def signif(x: Any, digits: int = 6) -> Any:
    """R's ``signif(x, digits)``; scalar in, scalar out; arrays elementwise."""
    if np.isscalar(x):
        return float(_core.fprec(np.array([x], dtype=np.float64), float(digits))[0])
    arr = np.asarray(x, dtype=np.float64)
    return _core.fprec(arr.ravel(), float(digits)).reshape(arr.shape)


#: Arrays up to this size are zapped and cut into quantiles with Python floats (a few NumPy
#: calls cost more than the work at this length; the arithmetic is the same IEEE doubles).
SHORT_LENGTH = 64

#: R's default ``probs`` of ``quantile``.
QUARTILES = (0.0, 0.25, 0.5, 0.75, 1.0)


def zapsmall(x: Any, digits: int = 7) -> np.ndarray:
    """R's ``zapsmall``: ``round(x, max(0, digits - log10(max|x|)))`` over the non-NA values."""
    arr = np.asarray(x, dtype=np.float64)
    if arr.size <= SHORT_LENGTH:
        sizes = [abs(v) for v in arr.ravel().tolist() if v == v]
        if not sizes:
            return arr.copy()
        mx = max(sizes)
    else:
        ina = np.isnan(arr)
        if ina.all():
            return arr.copy()
        mx = float(np.max(np.abs(arr[~ina])))
    dg = max(0.0, digits - math.log10(mx)) if mx > 0 else float(digits)
    return round_r(arr, dg)


def quantile7(x: Any, probs: Sequence[float] = QUARTILES, na_rm: bool = False) -> np.ndarray:
    """R's ``quantile(x, probs, type = 7)``: with h = 1 + (n-1)p, lo = floor(h), hi = ceil(h),
    q = (1 - (h-lo)) x_(lo) + (h-lo) x_(hi) (only when h > lo and x_(hi) != x_(lo))."""
    xs = np.sort(np.asarray(x, dtype=np.float64).ravel())  # NaNs sort last
    if na_rm:
        xs = xs[~np.isnan(xs)]
    n = xs.size
    if n and xs[n - 1] != xs[n - 1]:
        raise ValueError("missing values and NaN's not allowed if 'na.rm' is FALSE")
    if n and n <= SHORT_LENGTH and probs is QUARTILES:
        return np.array([_quantile7_sorted(xs.tolist(), p) for p in probs])
    p = np.clip(np.asarray(probs, dtype=np.float64), 0.0, 1.0)
    if n == 0:
        return np.full(p.shape, np.nan)
    index = 1 + max(n - 1, 0) * p
    lo = np.floor(index).astype(np.int64)
    hi = np.ceil(index).astype(np.int64)
    qs = xs[lo - 1].copy()
    xhi = xs[hi - 1]
    i = (index > lo) & (xhi != qs)
    h = (index - lo)[i]
    qs[i] = (1 - h) * qs[i] + h * xhi[i]
    return qs


def _quantile7_sorted(xs: list, p: float) -> float:
    """One type-7 quantile of the sorted, non-empty list ``xs`` (0 <= p <= 1)."""
    index = 1 + (len(xs) - 1) * p
    lo = math.floor(index)
    q, xhi = xs[lo - 1], xs[math.ceil(index) - 1]
    if index > lo and xhi != q:
        h = index - lo
        q = (1 - h) * q + h * xhi
    return q
