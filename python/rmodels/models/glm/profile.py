"""glm stage "profile": profile-likelihood confidence intervals as R 4.2.2's ``confint.glm``
(MASS 7.3-58 ``profile.glm`` + ``confint.profile.glm``), with R's ``spline`` (fmm) and
``approx`` used to invert the profile."""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import pandas as pd

from ...errors import FitError
from .fit import GlmCoreFit, glm_fit_matrix
from .results import GlmResults
from .summary import coef_table

__all__ = ["profile_glm", "profile_confint", "r_spline", "r_approx", "fmm_spline"]


def refit_profile(fit: GlmResults, Xi: np.ndarray, Y: np.ndarray, W: np.ndarray,
                  LP: np.ndarray, o: np.ndarray) -> GlmCoreFit:
    """glm.fit(x = Xi, y = Y, weights = W, etastart = LP, offset = o) for profiling."""
    return glm_fit_matrix(Xi, Y, fit.family, weights=W, offset=o, etastart=LP,
                          epsilon=fit.control["epsilon"], maxit=fit.control["maxit"],
                          has_offset=False)


def profile_perc(a: float) -> str:
    """confint.profile.glm's column label: ``paste(round(100 * a, 1), "%")``."""
    return f"{round(100 * a, 1):.15g} %"


def profile_glm(fit: GlmResults, names: Sequence[str], alpha: float = 0.01,
                maxsteps: int = 10) -> dict:
    """MASS's ``profile.glm``: for each coefficient j, beta_j is fixed at
    beta_hat_j + s k (zmax/5) se_j (s = -1, +1; k = 1, 2, ... while k < maxsteps and |z| < zmax)
    through the offset, the other coefficients are refitted by glm.fit (started at the previous
    linear predictor), and z = s sqrt((dev - dev_hat) / dispersion) is recorded.
    zmax = sqrt(qchisq(1 - alpha, 1)) for binomial/poisson, sqrt(qf(1 - alpha, 1, n - p))
    otherwise. Returns {name: (z sorted, parameter values (rows) in the same order)}."""
    from scipy import stats
    B0 = fit.core.coefficients
    nonA = ~np.isnan(B0)
    p = len(B0)
    ct = coef_table(fit)
    X = fit.design.model_matrix_array()
    Y = fit.response
    n = Y.shape[0]
    O = fit.offset
    W = fit.raw_weights
    dev0 = fit.deviance()
    disp = fit.dispersion()
    if fit.family.family in ("binomial", "poisson", "Negative Binomial"):
        zmax = math.sqrt(stats.chi2.ppf(1 - alpha, 1))
    else:
        zmax = math.sqrt(stats.f.ppf(1 - alpha, 1, n - p))
    delta = zmax / 5
    out = {}
    B0z = np.where(nonA, B0, 0.0)
    for name in names:
        i = fit.names.index(name)
        if not nonA[i]:
            continue
        zi = [0.0]
        pvi = [B0.copy()]
        a = nonA.copy()
        a[i] = False
        Xi = X[:, a]
        se = float(ct.loc[name, "Std. Error"])
        for sgn in (-1.0, 1.0):
            step = 0
            z = 0.0
            LP = X[:, nonA] @ B0z[nonA] + O
            while (step + 1) < maxsteps and abs(z) < zmax:
                step += 1
                bi = B0[i] + sgn * step * delta * se
                o = O + X[:, i] * bi
                fm = refit_profile(fit, Xi, Y, W, LP, o)
                cf = fm.coefficients
                LP = Xi @ cf + o
                ri = B0.copy()
                ri[np.flatnonzero(a)] = cf
                ri[i] = bi
                pvi.append(ri)
                zz = (fm.deviance - dev0) / disp
                if zz > -0.001:
                    zz = max(zz, 0.0)
                else:
                    raise FitError("profiling has found a better solution, so original fit had "
                                   "not converged")
                z = sgn * math.sqrt(zz)
                zi.append(z)
        order = np.argsort(np.asarray(zi), kind="stable")
        out[name] = (np.asarray(zi)[order], np.asarray(pvi)[order])
    return out


def fmm_spline(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Coefficients b, c, d of the Forsythe-Malcolm-Moler interpolating cubic spline (end
    conditions matching third derivatives of cubics through the end points), as R's
    ``spline(method = "fmm")``: s(u) = y_i + b_i t + c_i t^2 + d_i t^3, t = u - x_i."""
    n = len(x)
    b = np.zeros(n)
    c = np.zeros(n)
    d = np.zeros(n)
    if n < 2:
        raise FitError("need at least two points for a spline")
    if n < 3:
        t = (y[1] - y[0])
        b[0] = t / (x[1] - x[0])
        b[1] = b[0]
        return b, c, d
    d[0] = x[1] - x[0]
    c[1] = (y[1] - y[0]) / d[0]
    for i in range(1, n - 1):
        d[i] = x[i + 1] - x[i]
        b[i] = 2.0 * (d[i - 1] + d[i])
        c[i + 1] = (y[i + 1] - y[i]) / d[i]
        c[i] = c[i + 1] - c[i]
    b[0] = -d[0]
    b[n - 1] = -d[n - 2]
    c[0] = c[n - 1] = 0.0
    if n > 3:
        c[0] = c[2] / (x[3] - x[1]) - c[1] / (x[2] - x[0])
        c[n - 1] = c[n - 2] / (x[n - 1] - x[n - 3]) - c[n - 3] / (x[n - 2] - x[n - 4])
        c[0] = c[0] * d[0] * d[0] / (x[3] - x[0])
        c[n - 1] = -c[n - 1] * d[n - 2] * d[n - 2] / (x[n - 1] - x[n - 4])
    for i in range(1, n):
        t = d[i - 1] / b[i - 1]
        b[i] = b[i] - t * d[i - 1]
        c[i] = c[i] - t * c[i - 1]
    c[n - 1] = c[n - 1] / b[n - 1]
    for i in range(n - 2, -1, -1):
        c[i] = (c[i] - d[i] * c[i + 1]) / b[i]
    b[n - 1] = (y[n - 1] - y[n - 2]) / d[n - 2] + d[n - 2] * (c[n - 2] + 2.0 * c[n - 1])
    for i in range(n - 1):
        b[i] = (y[i + 1] - y[i]) / d[i] - d[i] * (c[i + 1] + 2.0 * c[i])
        d[i] = (c[i + 1] - c[i]) / d[i]
        c[i] = 3.0 * c[i]
    c[n - 1] = 3.0 * c[n - 1]
    d[n - 1] = d[n - 2]
    return b, c, d


def regularize_values(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """R's regularize.values(ties = mean): sort by x, average y over tied x."""
    order = np.argsort(x, kind="stable")
    x = x[order]
    y = y[order]
    ux, inv = np.unique(x, return_inverse=True)
    if len(ux) == len(x):
        return x, y
    sums = np.zeros(len(ux))
    np.add.at(sums, inv, y)
    counts = np.bincount(inv)
    return ux, sums / counts


def r_spline(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """R's ``spline(x, y)`` (fmm, n = 3 * number of distinct x, equally spaced over range x)."""
    x, y = regularize_values(np.asarray(x, float), np.asarray(y, float))
    nx = len(x)
    n = 3 * nx
    lo, hi = x[0], x[-1]
    xout = np.empty(n)
    xout[0] = lo
    xout[-1] = hi
    if n > 2:
        by = (hi - lo) / (n - 1)
        for k in range(1, n - 1):
            xout[k] = lo + k * by if k < n // 2 else hi - (n - 1 - k) * by
    b, c, d = fmm_spline(x, y)
    idx = np.clip(np.searchsorted(x, xout, side="right") - 1, 0, nx - 1)
    dx = xout - x[idx]
    yout = y[idx] + dx * (b[idx] + dx * (c[idx] + dx * d[idx]))
    return xout, yout


def r_approx(x: np.ndarray, y: np.ndarray, xout: np.ndarray) -> np.ndarray:
    """R's ``approx(x, y, xout)`` (linear, rule = 1: NA outside the range, ties = mean)."""
    x, y = regularize_values(np.asarray(x, float), np.asarray(y, float))
    out = np.full(len(xout), np.nan)
    for k, v in enumerate(xout):
        if not (x[0] <= v <= x[-1]):
            continue
        j = int(np.searchsorted(x, v, side="left"))
        if x[j] == v:
            out[k] = y[j]
            continue
        i = j - 1
        out[k] = y[i] + (y[j] - y[i]) * ((v - x[i]) / (x[j] - x[i]))
    return out


def profile_confint(fit: GlmResults, names: Sequence[str], level: float = 0.95) -> pd.DataFrame:
    """``confint.profile.glm`` on ``profile_glm(alpha = (1 - level) / 4)``."""
    from scipy import stats
    a = (1 - level) / 2
    cutoff = stats.norm.ppf([a, 1 - a])
    prof = profile_glm(fit, names, alpha=(1 - level) / 4)
    rows = []
    for name in names:
        if name not in prof:
            rows.append([np.nan, np.nan])
            continue
        z, pv = prof[name]
        j = fit.names.index(name)
        sx, sy = r_spline(pv[:, j], z)
        rows.append(list(r_approx(sy, sx, cutoff)))
    return pd.DataFrame(rows, index=list(names), columns=[profile_perc(a), profile_perc(1 - a)])
