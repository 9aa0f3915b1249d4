"""printing, rounding: R's ``round(x, digits)`` (R 4's ``fround``), ``signif`` (``fprec``),
``zapsmall`` and ``quantile(type = 7)``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np


def _pow_di(x: float, n: int) -> float:
    """R's ``R_pow_di``: x^n by repeated squaring in double precision."""
    xn = 1.0
    if n != 0:
        is_neg = n < 0
        if is_neg:
            n = -n
        while True:
            if n & 1:
                xn *= x
            n >>= 1
            if n:
                x *= x
            else:
                break
        if is_neg:
            xn = 1.0 / xn
    return xn


def fround(x: float, digits: float) -> float:
    """R 4's ``fround``: the nearer of the two ``digits``-decimal neighbours of x
    (ties to the even last digit)."""
    if math.isnan(x) or math.isnan(digits):
        return x + digits
    if math.isinf(x):
        return x
    if digits > 308 + 15 or x == 0.0:
        return x
    if digits < -308:
        return 0.0
    if digits == 0.0:
        return float(np.rint(x))
    dig = int(math.floor(digits + 0.5))
    sgn = 1.0
    if x < 0.0:
        sgn = -1.0
        x = -x
    l10x = 0.301029995663981195 * (0.5 + (math.frexp(x)[1] - 1))
    if l10x + dig > 15:
        return sgn * x
    if dig <= 308:
        pow10 = _pow_di(10.0, dig)
        x10 = x * pow10
        i10 = math.floor(x10)
        xd = i10 / pow10
        xu = math.ceil(x10) / pow10
    else:
        e10 = dig - 308
        p10 = _pow_di(10.0, e10)
        pow10 = _pow_di(10.0, 308)
        x10 = (x * pow10) * p10
        i10 = math.floor(x10)
        xd = i10 / pow10 / p10
        xu = math.ceil(x10) / pow10 / p10
    du = xu - x
    dd = x - xd
    return sgn * (xu if (du < dd or (math.fmod(i10, 2.0) == 1 and du == dd)) else xd)


def round_r(x: Any, digits: float = 0) -> Any:
    """R's ``round(x, digits)`` (R >= 4.0 algorithm); scalar in, scalar out; arrays elementwise.
    A non-integer ``digits`` is rounded to the nearest integer (x.5 up)."""
    if np.isscalar(x):
        return fround(float(x), float(digits))
    arr = np.asarray(x, dtype=np.float64)
    dg = float(digits)
    out = np.array([fround(v, dg) for v in arr.ravel().tolist()], dtype=np.float64)
    return out.reshape(arr.shape)


def _fprec(x: float, digits: float) -> float:
    """R's ``fprec`` (``signif``)."""
    if math.isnan(x) or math.isnan(digits):
        return x + digits
    if math.isinf(x):
        return x
    if math.isinf(digits):
        if digits > 0:
            return x
        digits = 1.0
    if x == 0:
        return x
    dig = int(math.floor(abs(digits) + 0.5)) * (1 if digits >= 0 else -1)  # C round()
    if dig > 22:
        return x
    if dig < 1:
        dig = 1
    sgn = 1.0
    if x < 0.0:
        sgn = -sgn
        x = -x
    l10 = math.log10(x)
    e10 = int(dig - 1 - math.floor(l10))
    if abs(l10) < 308 - 2:
        p10 = 1.0
        if e10 > 308:
            p10 = _pow_di(10.0, e10 - 308)
            e10 = 308
        if e10 > 0:
            pow10 = _pow_di(10.0, e10)
            return sgn * (float(np.rint((x * pow10) * p10)) / pow10) / p10
        pow10 = _pow_di(10.0, -e10)
        return sgn * (float(np.rint(x / pow10)) * pow10)
    do_round = 308 - l10 >= _pow_di(10.0, -dig)
    e2 = dig + (1 if e10 > 0 else -1) * 22
    p10 = _pow_di(10.0, e2)
    x *= p10
    big_p10 = _pow_di(10.0, e10 - e2)
    x *= big_p10
    if do_round:
        x += 0.5
    x = math.floor(x) / p10
    return sgn * x / big_p10


def signif(x: Any, digits: int = 6) -> Any:
    """R's ``signif(x, digits)``; scalar in, scalar out; arrays elementwise."""
    if np.isscalar(x):
        return _fprec(float(x), float(digits))
    arr = np.asarray(x, dtype=np.float64)
    dg = float(digits)
    out = np.array([_fprec(v, dg) for v in arr.ravel().tolist()], dtype=np.float64)
    return out.reshape(arr.shape)


def zapsmall(x: Any, digits: int = 7) -> np.ndarray:
    """R's ``zapsmall``: ``round(x, max(0, digits - log10(max|x|)))`` over the non-NA values."""
    arr = np.asarray(x, dtype=np.float64)
    ina = np.isnan(arr)
    if ina.all():
        return arr.copy()
    mx = float(np.max(np.abs(arr[~ina])))
    dg = max(0.0, digits - math.log10(mx)) if mx > 0 else float(digits)
    return round_r(arr, dg)


def quantile7(x: Any, probs: Sequence[float] = (0.0, 0.25, 0.5, 0.75, 1.0),
              na_rm: bool = False) -> np.ndarray:
    """R's ``quantile(x, probs, type = 7)``: with h = 1 + (n-1)p, lo = floor(h), hi = ceil(h),
    q = (1 - (h-lo)) x_(lo) + (h-lo) x_(hi) (only when h > lo and x_(hi) != x_(lo))."""
    xs = np.sort(np.asarray(x, dtype=np.float64).ravel())
    if na_rm:
        xs = xs[~np.isnan(xs)]
    if np.isnan(xs).any():
        raise ValueError("missing values and NaN's not allowed if 'na.rm' is FALSE")
    p = np.clip(np.asarray(probs, dtype=np.float64), 0.0, 1.0)
    n = xs.size
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
