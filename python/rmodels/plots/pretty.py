"""R's ``pretty(x, n = 5)`` (``pretty.default`` over the C routine ``R_pretty``): about n + 1
equally spaced round values (1, 2 or 5 times a power of 10) covering the range of x, with
R's defaults ``min.n = n %/% 3``, ``shrink.sml = 0.75``, ``high.u.bias = 1.5``,
``u5.bias = .5 + 1.5 * high.u.bias``, no eps correction."""

from __future__ import annotations

import math
import sys

import numpy as np

__all__ = ["pretty", "pretty_unit"]

DBL_EPS = sys.float_info.epsilon
ROUNDING_EPS = 1e-10


def _cell(lo: float, up: float, ndiv: int, min_n: int, shrink: float, h: float,
          h5: float) -> float:
    """The first guess of the step: the range over ndiv, or a shrunk multiple of the value
    when the range is tiny relative to it."""
    dx = up - lo
    if dx == 0 and up == 0:
        cell, small = 1.0, True
    else:
        cell = max(abs(lo), abs(up))
        u = 1 + (1 / (1 + h) if h5 >= 1.5 * h + 0.5 else 1.5 / (1 + h5))
        u *= max(1, ndiv) * DBL_EPS
        small = dx < cell * u * 3
    if small:
        if cell > 10:
            cell = 9 + cell / 10
        cell *= shrink
        if min_n > 1:
            cell /= min_n
    else:
        cell = dx
        if ndiv > 1:
            cell /= ndiv
    return max(cell, 20 * sys.float_info.min)


def pretty_unit(cell: float, h: float, h5: float) -> float:
    """The step: 1, 2, 5 or 10 times the power of ten below ``cell``, the larger ones only
    when they are near enough (biased by h and h5)."""
    base = 10.0 ** math.floor(math.log10(cell))
    unit = base
    if 2 * base - cell < h * (cell - unit):
        unit = 2 * base
        if 5 * base - cell < h5 * (cell - unit):
            unit = 5 * base
            if 10 * base - cell < h * (cell - unit):
                unit = 10 * base
    return unit


def pretty(x, n: int = 5) -> np.ndarray:
    """R's ``pretty(x, n)`` of the finite values of x."""
    v = np.asarray(x, dtype=float)
    v = v[np.isfinite(v)]
    lo, up = float(v.min()), float(v.max())
    min_n, shrink, h = n // 3, 0.75, 1.5
    h5 = 0.5 + 1.5 * h
    unit = pretty_unit(_cell(lo, up, n, min_n, shrink, h, h5), h, h5)
    ns = math.floor(lo / unit + ROUNDING_EPS)
    nu = math.ceil(up / unit - ROUNDING_EPS)
    while ns * unit > lo + ROUNDING_EPS * unit:
        ns -= 1
    while nu * unit < up - ROUNDING_EPS * unit:
        nu += 1
    k = int(0.5 + nu - ns)
    if k < min_n:
        k = min_n - k
        if ns >= 0:
            nu += k // 2
            ns -= k // 2 + k % 2
        else:
            ns -= k // 2
            nu += k // 2 + k % 2
        k = min_n
    s = np.linspace(ns * unit, nu * unit, k + 1)
    if k:
        delta = (nu * unit - ns * unit) / k
        s[np.abs(s) < 1e-14 * delta] = 0.0
    return s
