"""R's ``lowess()`` (``stats``' C routine ``clowess``, Cleveland 1979): locally weighted linear
fits with tricube weights over the ``ns = max(2, min(n, floor(f n + 1e-7)))`` nearest points,
points closer than ``delta`` to the last fitted one interpolated, then ``iter`` robustness
passes with bisquare weights of the residuals scaled by 6·median|residual|.

Sums run left to right as in the C code (``np.cumsum``'s last element), so the numbers agree
with R's to rounding."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

__all__ = ["lowess", "Lowess"]


@dataclass
class Lowess:
    """The smooth: ``x`` sorted, ``y`` the fitted values at each ``x`` (R's list(x, y))."""

    x: np.ndarray
    y: np.ndarray


def _seq_sum(v: np.ndarray) -> float:
    """Σ v from left to right (the C loop's order)."""
    return float(np.cumsum(v)[-1]) if len(v) else 0.0


def tricube_weights(x: np.ndarray, xs: float, nleft: int, h: float,
                    rw: Optional[np.ndarray]) -> tuple:
    """Weights of the points from ``nleft`` on for the fit at ``xs`` (C's ``lowest`` first
    loop): tricube of |x − xs| / h, 1 within 0.001 h, 0 beyond 0.999 h; the window ends at
    the first point right of ``xs`` beyond 0.999 h (ties on the right picked up).
    Returns (weights of points nleft..nrt, nrt)."""
    r = np.abs(x[nleft:] - xs)
    h9, h1 = 0.999 * h, 0.001 * h
    stop = np.flatnonzero((r > h9) & (x[nleft:] > xs))
    nrt = nleft + (int(stop[0]) if len(stop) else len(r)) - 1
    r = r[: nrt - nleft + 1]
    w = np.where(r <= h1, 1.0, (1.0 - (r / h) ** 3) ** 3)
    w[r > h9] = 0.0
    if rw is not None:
        w = w * rw[nleft: nrt + 1]
    return w, nrt


def local_fit(x: np.ndarray, y: np.ndarray, xs: float, nleft: int, nright: int,
              rw: Optional[np.ndarray]) -> Optional[float]:
    """The fitted value at ``xs`` from the window [nleft, nright] (C's ``lowest``), or None
    when every weight is zero."""
    span = x[-1] - x[0]
    h = max(xs - x[nleft], x[nright] - xs)
    w, nrt = tricube_weights(x, xs, nleft, h, rw)
    a = _seq_sum(w)
    if a <= 0.0:
        return None
    w = w / a
    xw = x[nleft: nrt + 1]
    if h > 0.0:
        centre = _seq_sum(w * xw)
        c = _seq_sum(w * (xw - centre) ** 2)
        if np.sqrt(c) > 0.001 * span:
            b = (xs - centre) / c
            w = w * (b * (xw - centre) + 1.0)
    return _seq_sum(w * y[nleft: nrt + 1])


def smooth_pass(x: np.ndarray, y: np.ndarray, ns: int, delta: float,
                rw: Optional[np.ndarray]) -> np.ndarray:
    """One pass of local fits over the sorted x (C's inner ``for(;;)`` loop): the window
    slides right while that shrinks its radius; points within ``delta`` of the last fitted
    point are interpolated linearly, exact ties copied."""
    n = len(x)
    ys = np.empty(n)
    nleft, nright, last, i = 0, ns - 1, -1, 0
    while True:
        if nright < n - 1 and x[i] - x[nleft] > x[nright + 1] - x[i]:
            nleft += 1
            nright += 1
            continue
        fit = local_fit(x, y, x[i], nleft, nright, rw)
        ys[i] = y[i] if fit is None else fit
        if last < i - 1:
            denom = x[i] - x[last]
            alpha = (x[last + 1: i] - x[last]) / denom
            ys[last + 1: i] = alpha * ys[i] + (1.0 - alpha) * ys[last]
        last = i
        cut = x[last] + delta
        i = last + 1
        while i < n and x[i] <= cut:
            if x[i] == x[last]:
                ys[i] = ys[last]
                last = i
            i += 1
        i = max(last + 1, i - 1)
        if last >= n - 1:
            return ys


def robustness_weights(res: np.ndarray) -> Optional[np.ndarray]:
    """Bisquare weights of the residuals scaled by cmad = 6·median|res| (1 within 0.001 cmad,
    0 beyond 0.999 cmad); None when cmad is effectively zero (< 1e-7 · mean|res|)."""
    n = len(res)
    ar = np.abs(res)
    sc = _seq_sum(ar) / n
    m1 = n // 2
    srt = np.partition(ar, [n - m1 - 1, m1]) if n % 2 == 0 else np.partition(ar, m1)
    cmad = 3.0 * (srt[m1] + srt[n - m1 - 1]) if n % 2 == 0 else 6.0 * srt[m1]
    if cmad < 1e-7 * sc:
        return None
    rw = np.where(ar <= 0.001 * cmad, 1.0, (1.0 - (ar / cmad) ** 2) ** 2)
    rw[ar > 0.999 * cmad] = 0.0
    return rw


def lowess(x, y, f: float = 2 / 3, iter: int = 3,  # noqa: A002 - R's argument name
           delta: Optional[float] = None) -> Lowess:
    """R's ``lowess(x, y, f, iter, delta = 0.01 * diff(range(x)))``: the points are ordered by
    x (a stable order, as R's ``order``) and smoothed as ``clowess`` does."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    o = np.argsort(x, kind="stable")
    x, y = x[o], y[o]
    n = len(x)
    if delta is None:
        delta = 0.01 * (x[-1] - x[0]) if n else 0.0
    if n < 2:
        return Lowess(x, y.copy())
    ns = max(2, min(n, int(f * n + 1e-7)))
    rw = None
    for step in range(iter + 1):
        ys = smooth_pass(x, y, ns, delta, rw)
        if step == iter:
            break
        rw = robustness_weights(y - ys)
        if rw is None:
            break
    return Lowess(x, ys)
