"""Profile-likelihood confidence intervals of an lmer fit, as lme4 1.1-31's
``confint(fit, method = "profile")`` (``profile.merMod`` + ``confint.thpr``).

The profile is that of the maximum-likelihood deviance (a REML fit is refitted by ML first).

- **Variance parameters** are the standard deviations and correlations of each random-effect
  term (``.sig01``, ``.sig02``, …) and the residual ``.sigma``. Each is fixed on a sequence of
  values. At each value the deviance is minimised over the other variance parameters by BOBYQA
  (lme4's ``devfun2``: profiled over the fixed effects, not over σ).
- **A fixed effect** is fixed by moving its column into the offset, and the deviance is
  minimised over θ.
- **Where the values come from.** They start next to the estimate. Each next value is chosen
  so that the signed root deviance ζ moves by about ``cutoff / 8``, where
  ``cutoff = sqrt(qchisq(0.99, number of parameters))``. This goes on until |ζ| passes the
  cutoff or a bound is reached.
- **The interval.** A natural interpolating spline ζ(parameter) is inverted piecewise (R's
  ``splines::interpSpline`` and ``backSpline``) and evaluated at ζ = ±qnorm((1 + level) / 2).
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pandas as pd

from ... import _core
from ...errors import ConvergenceWarning, FitError, RModelsWarning, SingularFitWarning
from ..contract import format_perc
from .optimize import pls_model
from .sdcor import sdcor_to_theta, theta_to_sdcor
from .spline import BackSpline

_ALPHAMAX = 0.01
_MAXPTS = 100
_DELTA_CUTOFF = 1 / 8
_MAXMULT = 10
_DEVTOL = 1e-9
_MINSTEP = 1e-6


def _term_sizes(fit: Any) -> list:
    return [int(t.k) for t in fit.re.terms]


class _Profiler:
    def __init__(self, fit: Any) -> None:
        from scipy import stats
        with warnings.catch_warnings():
            # lme4's refitML runs the optimizer without the convergence checks
            warnings.simplefilter("ignore", SingularFitWarning)
            warnings.simplefilter("ignore", ConvergenceWarning)
            ml = fit.refitML()
        self.ml = ml
        self.sizes = _term_sizes(ml)
        self.n = ml.nobs()
        self.base = -2 * float(ml.logLik())
        sig = ml.sigma()
        self.theta_opt = np.asarray(ml.theta, float).copy()
        vp = theta_to_sdcor(self.theta_opt, self.sizes, sig)
        self.nvp = len(vp)
        self.p = ml.p
        self.opt = np.concatenate([vp, np.asarray(ml.beta, float)])
        self.names = ([f".sig{i + 1:02d}" for i in range(len(self.theta_opt))] + [".sigma"]
                      + list(ml.columns))
        self.stderr = np.sqrt(np.diag(ml.vcov_matrix()))
        th_lower = np.asarray(ml.re.lower, float)
        self.lower = np.concatenate([np.maximum(th_lower, -1.0), [0.0], np.full(self.p, -np.inf)])
        self.upper = np.concatenate([np.where(th_lower == 0, np.inf, 1.0), [np.inf],
                                     np.full(self.p, np.inf)])
        nptot = len(self.opt)
        self.cutoff = math.sqrt(stats.chi2.ppf(1 - _ALPHAMAX, nptot))
        self.delta = self.cutoff * _DELTA_CUTOFF
        ctrl = ml.control
        self.opt_args = (ctrl.xtol_abs, ctrl.ftol_abs, ctrl.xtol_rel, ctrl.maxeval)
        if not math.isclose(self.dev2(self.opt[:self.nvp]), self.base, rel_tol=1e-5):
            raise FitError("Profiling over both the residual variance and\nfixed effects is not "
                           "numerically consistent with\nprofiling over the fixed effects only")

    # lme4's devfun2: the ML deviance at standard deviations/correlations and sigma, profiled
    # over the fixed effects only.
    def dev2(self, pars: np.ndarray) -> float:
        sigma = float(pars[-1])
        theta = sdcor_to_theta(np.asarray(pars[:-1], float), self.sizes, sigma)
        c = self.ml.model.criterion(theta)
        s2 = sigma * sigma
        return float(c["ldL2"] - c["ldW"] + c["pwrss"] / s2 + self.n * math.log(2 * math.pi * s2))

    def _nextpar(self, rows: list, cc: int, lower: float, upper: float) -> float:
        (p1, z1), (p2, z2) = ((r[cc], r[0]) for r in rows[-2:])
        num = p2 - p1
        denom = z2 - z1
        if np.isnan(denom) or denom == 0:
            warnings.warn("Last two rows have identical or NA .zeta values: using minstep",
                          RModelsWarning, stacklevel=4)
            step = _MINSTEP
        else:
            step = self.delta * num / denom
            if step < 0:
                warnings.warn("unexpected decrease in profile: using minstep", RModelsWarning,
                              stacklevel=4)
                step = _MINSTEP
            elif abs(step) > abs(_MAXMULT * num):
                step = math.copysign(abs(_MAXMULT * num), step)
        return min(upper, max(lower, p2 + np.sign(num) * step))

    def _fill(self, rows: list, lowcut: float, upcut: float, zetafun, cc: int) -> list:
        while (len(rows) < _MAXPTS and lowcut < rows[-1][cc] < upcut
               and (np.isnan(rows[-1][0]) or abs(rows[-1][0]) <= self.cutoff)):
            rows.append(zetafun(self._nextpar(rows, cc, lowcut, upcut), rows[-1]))
        return rows

    def variance(self, w: int) -> np.ndarray:
        nvp = self.nvp
        pw = self.opt[w]
        lowcut, upcut = self.lower[w], self.upper[w]
        others = [i for i in range(nvp) if i != w]
        lo, hi = self.lower[others], self.upper[others]

        def zeta(xx: float, prev_row: np.ndarray) -> np.ndarray:
            start = np.asarray(prev_row[1:1 + nvp], float)[others]
            full = np.empty(nvp)

            def fn(x: np.ndarray) -> float:
                full[others] = x
                full[w] = xx
                return self.dev2(full)

            try:
                r = _core.bobyqa(fn, start, lo, hi, *self.opt_args)
                devdiff = float(r["fval"]) - self.base
                pars = np.asarray(r["par"], float)
            except (ValueError, np.linalg.LinAlgError, FloatingPointError):
                devdiff, pars = float("nan"), np.full(len(others), np.nan)
            if np.isnan(devdiff):
                warnings.warn("NAs detected in profiling", RModelsWarning, stacklevel=3)
            else:
                if devdiff < -_DEVTOL:
                    raise FitError("profiling detected new, lower deviance")
                if devdiff < 0:
                    warnings.warn(f"slightly lower deviances (diff={devdiff:g}) detected",
                                  RModelsWarning, stacklevel=3)
                devdiff = max(0.0, devdiff)
            row = np.empty(1 + nvp)
            row[0] = np.sign(xx - pw) * math.sqrt(devdiff)
            row[1 + w] = xx
            row[1 + np.array(others)] = pars
            return row

        opt_row = np.concatenate([[0.0], self.opt[:nvp]])
        shift = 1e-3 if pw == 0 else pw * 1.01
        first = zeta(shift, opt_row)
        up = self._fill([opt_row, first], lowcut, upcut, zeta, 1 + w)
        down = self._fill([first, opt_row], lowcut, upcut, zeta, 1 + w) if pw > lowcut else []
        return self._points(up + down, 1 + w)

    def fixed(self, j: int) -> np.ndarray:
        ml = self.ml
        X = ml.X
        xj = X[:, j].copy()
        keep = [c for c in range(self.p) if c != j]
        Xd = np.asfortranarray(X[:, keep])
        off0 = np.zeros(self.n) if ml.offset_values is None else ml.offset_values
        w = ml.prior_weights
        re = ml.re
        est = self.opt[self.nvp + j]
        th_lower = np.asarray(re.lower, float)
        col = 1 + self.nvp + j

        def zeta(fw: float, _prev: Any = None) -> np.ndarray:
            model = pls_model(Xd, ml.y, w, np.ascontiguousarray(xj * fw + off0), re,
                              ml.control)
            r = model.optimize(self.theta_opt.copy(), th_lower, False, *self.opt_args)
            fv = float(r["fval"])
            row = np.full(1 + self.nvp + self.p, np.nan)
            with np.errstate(invalid="ignore"):
                row[0] = np.sign(fw - est) * math.sqrt(fv - self.base) if fv >= self.base \
                    else float("nan")
            row[col] = fw
            return row

        opt_row = np.concatenate([[0.0], self.opt])
        first = zeta(est + self.delta * self.stderr[j])
        up = self._fill([opt_row, first], -np.inf, np.inf, zeta, col)
        down = self._fill([first, opt_row], -np.inf, np.inf, zeta, col)
        return self._points(up + down, col)

    @staticmethod
    def _points(rows: list, cc: int) -> np.ndarray:
        """(parameter, ζ) of the distinct rows, ordered by the parameter."""
        pts = {(float(r[cc]), float(r[0])) for r in rows}
        arr = np.array(sorted(pts, key=lambda t: t[0]))
        return arr


def profile_confint(fit: Any, parm: Any = None, level: float = 0.95) -> pd.DataFrame:
    """``confint(fit, parm, level, method = "profile")`` of lme4: see the module doc."""
    from scipy import stats
    prof = _Profiler(fit)
    names = prof.names
    if parm is None:
        which = list(range(len(names)))
    else:
        wanted = [parm] if isinstance(parm, (str, int)) else list(parm)
        which = []
        for p in wanted:
            if isinstance(p, str):
                if p == "theta_":
                    which += list(range(prof.nvp))
                elif p == "beta_":
                    which += list(range(prof.nvp, len(names)))
                elif p in names:
                    which.append(names.index(p))
            else:
                which.append(int(p) - 1)
        which = sorted(set(which))
    a = (1 - level) / 2
    z = stats.norm.ppf([a, 1 - a])

    cols = [format_perc(a), format_perc(1 - a)]
    # profile() first (its warnings), then confint.thpr on every parameter (its warnings)
    profiles = []
    for i in which:
        pts = prof.variance(i) if i < prof.nvp else prof.fixed(i - prof.nvp)
        profiles.append((pts, _back_spline(pts, names[i])))
    out = [_interval(pts, back, z, names[i],
                     prof.lower[i] if i < prof.nvp else float("nan"),
                     prof.upper[i] if i < prof.nvp else float("nan"))
           for i, (pts, back) in zip(which, profiles)]
    return pd.DataFrame(out, index=[names[i] for i in which], columns=cols)


def _back_spline(pts: np.ndarray, name: str) -> BackSpline | None:
    """profile.merMod's ``backSpline(interpSpline(.zeta ~ par))`` on the points with a ζ;
    None (and R's warning) when it cannot be built."""
    ok = ~np.isnan(pts[:, 1])
    try:
        return BackSpline(pts[ok, 0], pts[ok, 1])
    except (ValueError, np.linalg.LinAlgError):
        warnings.warn(f"non-monotonic profile for {name}", RModelsWarning, stacklevel=4)
        return None


def _approx(x: np.ndarray, y: np.ndarray, t: float) -> float:
    """R's ``approxfun(x, y)(t)``: NA pairs dropped, tied x averaged, linear interpolation,
    NaN outside the range of x."""
    ok = ~(np.isnan(x) | np.isnan(y))
    x, y = x[ok], y[ok]
    if len(x) == 0:
        return float("nan")
    ux, inv = np.unique(x, return_inverse=True)
    uy = np.bincount(inv, weights=y) / np.bincount(inv)
    if not (ux[0] <= t <= ux[-1]):
        return float("nan")
    return float(np.interp(t, ux, uy))


def _interval(pts: np.ndarray, back: BackSpline | None, z: np.ndarray, name: str,
              lower: float, upper: float) -> list:
    """confint.thpr for one parameter: the back-spline at ζ = z, else R's fallbacks; limits
    beyond the profile become the parameter's bounds."""
    if back is not None:
        p = [back(float(t)) for t in z]
    else:
        allz = pts[:, 1]
        diffs = np.diff(allz)
        diffs = diffs[~np.isnan(diffs)]
        if np.all(np.isnan(allz)):
            warnings.warn(f"bad profile for {name}", RModelsWarning, stacklevel=3)
            return [float("nan"), float("nan")]
        # R tests min(diff(zeta) < -tol): true only when every step goes down
        if len(diffs) and np.all(diffs < -1e-2):
            warnings.warn(f"non-monotonic profile for {name}", RModelsWarning, stacklevel=3)
            return [float("nan"), float("nan")]
        warnings.warn(f"bad spline fit for {name}: falling back to linear interpolation",
                      RModelsWarning, stacklevel=3)
        p = [_approx(allz, pts[:, 0], float(t)) for t in z]
    if np.isnan(p[0]):
        p[0] = lower
    if np.isnan(p[1]):
        p[1] = upper
    return p
