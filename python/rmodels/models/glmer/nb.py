"""``glmer_nb()``: a negative binomial GLMM with its θ estimated, as ``lme4::glmer.nb``
(1.1-31): a Poisson glmer, MASS's ``theta.ml`` on its fitted means for the starting θ, then R's
``optimize`` (Brent's ``fmin``) of −2 log L over log θ in log θ₀ ± 3, each point a glmer fit
with MASS's ``negative.binomial(θ)`` family; the fit returned is the last one, at the minimum.
"""

from __future__ import annotations

import math
import warnings
from typing import Any, Callable

import numpy as np
import pandas as pd

from ...errors import RModelsWarning, SingularFitWarning
from ..families import negative_binomial
from ..glm.nb import theta_ml
from .fit import glmer

#: (3 - √5) / 2, the golden-section fraction of R's fmin.
GOLDEN = (3.0 - math.sqrt(5.0)) * 0.5


def brent_fmin(f: Callable[[float], float], ax: float, bx: float, tol: float) -> float:
    """R's ``Brent_fmin`` (stats' ``optimize``): the minimum of ``f`` on [ax, bx] by golden
    sections and parabolic interpolation, to tolerance ``tol``. A faithful port of one R
    routine (kept whole); a non-finite value counts as the largest double, as R's ``fmin``."""
    def fn(x: float) -> float:
        v = f(x)
        return v if math.isfinite(v) else np.finfo(float).max

    eps = math.sqrt(np.finfo(float).eps)
    a, b = ax, bx
    v = w = x = a + GOLDEN * (b - a)
    d = e = 0.0
    fx = fn(x)
    fv = fw = fx
    tol3 = tol / 3.0
    while True:
        xm = (a + b) * 0.5
        tol1 = eps * abs(x) + tol3
        t2 = tol1 * 2.0
        if abs(x - xm) <= t2 - (b - a) * 0.5:
            return x
        p = q = r = 0.0
        if abs(e) > tol1:  # fit a parabola
            r = (x - w) * (fx - fv)
            q = (x - v) * (fx - fw)
            p = (x - v) * q - (x - w) * r
            q = (q - r) * 2.0
            if q > 0.0:
                p = -p
            else:
                q = -q
            r = e
            e = d
        if abs(p) >= abs(q * 0.5 * r) or p <= q * (a - x) or p >= q * (b - x):
            e = b - x if x < xm else a - x  # a golden-section step
            d = GOLDEN * e
        else:  # a parabolic-interpolation step, not too close to a or b
            d = p / q
            u = x + d
            if u - a < t2 or b - u < t2:
                d = tol1 if x < xm else -tol1
        if abs(d) >= tol1:
            u = x + d
        else:
            u = x + tol1 if d > 0.0 else x - tol1
        fu = fn(u)
        if fu <= fx:
            if u < x:
                b = x
            else:
                a = x
            v, w, x = w, x, u
            fv, fw, fx = fw, fx, fu
        else:
            if u < x:
                a = u
            else:
                b = u
            if fu <= fw or w == x:
                v, fv = w, fw
                w, fw = u, fu
            elif fu <= fv or v == x or v == w:
                v, fv = u, fu


def _fit_quietly(fit_fn: Callable[[], Any]) -> tuple[Any, list]:
    """A fit with its warnings caught (lme4's ``factory(refitNB)``), returned with them."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = fit_fn()
    return fit, list(caught)


def initial_theta(fit: Any, limit: int, eps: float) -> float:
    """lme4's ``est_theta``: MASS's ``theta.ml`` on the Poisson fit's response and fitted means
    with its prior weights (its warnings issued)."""
    w = fit.prior_weights
    th, _se, msgs = theta_ml(fit.y, fit.mu, float(np.sum(w)), w, limit=limit, eps=eps)
    for m in msgs:
        warnings.warn(m, RModelsWarning, stacklevel=3)
    return th


def glmer_nb(formula: str, data: pd.DataFrame, weights: Any = None, offset: Any = None,
             subset: Any = None, na_action: str = "omit", nAGQ: int = 1,  # noqa: N803
             control: Any = None, data_name: str | None = None,
             interval: tuple[float, float] | None = None, tol: float = 5e-5,
             init_theta: float | None = None, limit: int = 20) -> Any:
    """Fit a negative binomial GLMM with θ estimated, as ``lme4::glmer.nb``.

    The arguments are :func:`rmodels.glmer`'s (without ``family``), plus lme4's ``interval``
    (of log θ; default log θ₀ ± 3), ``tol`` (of R's ``optimize``) and ``init_theta``/``limit``
    (lme4's ``initCtrl``: θ₀ given, or MASS's ``theta.ml`` with ``limit`` iterations on a
    Poisson fit). Returns the glmer fit at the θ found, its family
    ``negative_binomial(θ)`` (θ in ``fit.family.theta``, lme4's ``getME(fit,
    "glmer.nb.theta")``) and ``fit.nevals`` the number of fits of the search. Differences from
    lme4: each point of the search is a fit from lme4's starting values, where lme4 refits
    from the previous fit's estimates.
    """
    kw = dict(weights=weights, offset=offset, subset=subset, na_action=na_action, nAGQ=nAGQ,
              control=control, data_name=data_name)

    def fit_at(theta: float) -> Any:
        return glmer(formula, data, family=negative_binomial(theta), **kw)

    th = init_theta
    if th is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SingularFitWarning)  # lme4: suppressMessages
            g0 = glmer(formula, data, family="poisson", **kw)
        th = initial_theta(g0, limit, 2 * tol)
    lo, hi = interval if interval is not None else (math.log(th) - 3, math.log(th) + 3)
    last: dict = {"nevals": 0}

    def deviance_at(t: float) -> float:
        last["fit"], last["warnings"] = _fit_quietly(lambda: fit_at(math.exp(t)))
        last["nevals"] += 1
        return -2.0 * last["fit"].logLik()

    tmin = brent_fmin(deviance_at, lo, hi, tol)
    deviance_at(tmin)  # R's optimize() evaluates f at the minimum it returns
    fit = last["fit"]
    fit.nevals = last["nevals"]
    for w in last["warnings"]:
        warnings.warn(w.message, w.category, stacklevel=2)
    return fit
