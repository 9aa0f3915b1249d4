"""R's ``splines::interpSpline`` (a natural cubic interpolating spline) and ``backSpline`` (its
inverse, for a monotone spline): how ``confint.thpr`` turns a profile ζ(parameter) into the
parameter at a given ζ.
"""

from __future__ import annotations

import numpy as np


def natural_spline_slopes(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """First derivatives at the knots of the natural cubic spline through (x, y)."""
    n = len(x)
    h = np.diff(x)
    A = np.zeros((n, n))
    rhs = np.zeros(n)
    A[0, 0] = A[-1, -1] = 1.0
    for i in range(1, n - 1):
        A[i, i - 1] = h[i - 1]
        A[i, i] = 2 * (h[i - 1] + h[i])
        A[i, i + 1] = h[i]
        rhs[i] = 6 * ((y[i + 1] - y[i]) / h[i] - (y[i] - y[i - 1]) / h[i - 1])
    M = np.linalg.solve(A, rhs)  # second derivatives, 0 at both ends
    d = np.empty(n)
    d[:-1] = (y[1:] - y[:-1]) / h - h * (2 * M[:-1] + M[1:]) / 6
    d[-1] = (y[-1] - y[-2]) / h[-1] + h[-1] * (M[-2] + 2 * M[-1]) / 6
    return d


class BackSpline:
    """R's ``backSpline`` of a monotone natural interpolating spline: per interval of ζ a
    cubic in ζ with the parameter's values and the inverse slopes at both ends (quadratics on
    the first and last interval); NaN outside the knots, as R's ``predict``."""

    def __init__(self, x: np.ndarray, z: np.ndarray) -> None:
        if len(x) < 4:
            raise ValueError("must have at least 'ord'=4 points")
        if np.any(np.diff(x) <= 0):
            raise ValueError("values of 'x' must be distinct")
        slope = natural_spline_slopes(x, z)
        adiff = np.diff(z)
        if np.all(adiff < 0):
            rev = True
        elif np.all(adiff > 0):
            rev = False
        else:
            raise ValueError("spline must be monotone")
        kdiff = np.diff(x)
        nk = len(x)
        b = np.zeros((nk, 4))
        b[:, 0] = x
        b[:, 1] = 1 / slope
        for i in range(nk - 1):
            a = np.array([[adiff[i] ** 2, adiff[i] ** 3], [2 * adiff[i], 3 * adiff[i] ** 2]])
            rhs = np.array([kdiff[i] - adiff[i] * b[i, 1], b[i + 1, 1] - b[i, 1]])
            b[i, 2:4] = np.linalg.solve(a, rhs)
        b[nk - 1, 1:4] = np.nan
        if nk > 2:
            b[0, 3] = b[nk - 2, 3] = 0.0
            a = np.array([[adiff[0], adiff[0] ** 2], [1.0, 2 * adiff[0]]])
            b[0, 1:3] = np.linalg.solve(a, np.array([kdiff[0], 1 / slope[1]]))
            b[nk - 2, 2] = (kdiff[nk - 2] - adiff[nk - 2] * b[nk - 2, 1]) / adiff[nk - 2] ** 2
        if b[0, 2] > 0:
            b[0, 2] = 0.0
            b[0, 1] = kdiff[0] / adiff[0]
        if b[nk - 2, 2] < 0:
            b[nk - 2, 2] = 0.0
            b[nk - 2, 1] = kdiff[nk - 2] / adiff[nk - 2]
        self.knots = z[::-1].copy() if rev else z.copy()
        self.coef = b[::-1].copy() if rev else b

    def __call__(self, t: float) -> float:
        kn = self.knots
        if t == kn[0]:
            i = 0
        else:
            # R's cut(t, knots): intervals (k_i, k_{i+1}]
            i = int(np.searchsorted(kn, t, side="left")) - 1
            if i < 0 or i >= len(kn) - 1:
                return float("nan")
        c = self.coef[i]
        dx = t - kn[i]
        return float(((c[3] * dx + c[2]) * dx + c[1]) * dx + c[0])
