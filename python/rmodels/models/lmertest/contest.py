"""lmerTest's tests of contrasts of the fixed effects of an lmer fit: ``contest`` (t tests of
each row, or the joint F test), ``contest1D``/``contestMD`` by Satterthwaite's or
Kenward-Roger's method, and the coefficient table of lmerTest's summary (``get_coefmat``).

The (θ, σ) derivatives and pbkrtest's adjusted covariance are computed once per fit and kept in
the fit's ``lmertest_cache``.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

from ...errors import FitError
from .kenward_roger import AdjustedVcov, ginv, kr_f, kr_t, vcov_adjusted
from .satterthwaite import TTest, satterthwaite_f, satterthwaite_t
from .varpar import VarparDerivs, varpar_derivatives

DDF_METHODS = ("Satterthwaite", "Kenward-Roger", "lme4")
T_COLUMNS = ["Estimate", "Std. Error", "df", "t value", "Pr(>|t|)"]
F_COLUMNS = ["Sum Sq", "Mean Sq", "NumDF", "DenDF", "F value", "Pr(>F)"]


def match_ddf(ddf: str, allowed: Sequence[str] = DDF_METHODS) -> str:
    """R's ``match.arg(ddf)``: an exact or unique partial match of the allowed methods."""
    if ddf in allowed:
        return ddf
    hits = [a for a in allowed if a.startswith(str(ddf))]
    if len(hits) != 1:
        raise FitError("'arg' should be one of " + ", ".join(f"\u201c{a}\u201d" for a in allowed))
    return hits[0]


def satterthwaite_derivs(fit: Any) -> VarparDerivs:
    """The fit's (θ, σ) Hessian-based covariance and Jacobian of cov(β̂) (computed once)."""
    cache = fit.lmertest_cache
    if "varpar" not in cache:
        cache["varpar"] = varpar_derivatives(fit.model, fit.theta, fit.sigma(), fit.nobs(),
                                             fit.p, fit.REML)
    return cache["varpar"]


def beta_vcov(fit: Any) -> np.ndarray:
    """cov(β̂) of the fit (computed once)."""
    cache = fit.lmertest_cache
    if "vcov" not in cache:
        cache["vcov"] = fit.vcov_matrix()
    return cache["vcov"]


def kr_vcov(fit: Any) -> AdjustedVcov:
    """pbkrtest's adjusted covariance of the fit (computed once)."""
    cache = fit.lmertest_cache
    if "kr" not in cache:
        cache["kr"] = vcov_adjusted(fit)
    return cache["kr"]


def contrast_t(fit: Any, l: np.ndarray, ddf: str) -> TTest:  # noqa: E741
    """lmerTest's ``contest1D``: the estimate l'β̂, its standard error and df (Kenward-Roger:
    from pbkrtest's adjusted covariance)."""
    l = np.asarray(l, dtype=float).ravel()  # noqa: E741
    if len(l) != fit.p:
        raise FitError(f"contrast has length {len(l)}: expecting {fit.p}")
    if np.isnan(l).any():
        return TTest(np.nan, np.nan, np.nan)
    if ddf == "Kenward-Roger":
        est, se, df = kr_t(l, fit.beta, kr_vcov(fit))
        return TTest(est, se, float(df))
    return satterthwaite_t(l, fit.beta, beta_vcov(fit), satterthwaite_derivs(fit))


def t_rows(tests: list, rhs: float, confint: bool, level: float) -> pd.DataFrame:
    """lmerTest's t table: ``Estimate Std. Error df t value [lower upper] Pr(>|t|)``."""
    from scipy import stats
    est = np.array([t.estimate for t in tests], dtype=float)
    se = np.array([t.std_error for t in tests], dtype=float)
    df = np.array([t.df for t in tests], dtype=float)
    tstat = (est - rhs) / se
    out = {"Estimate": est, "Std. Error": se, "df": df, "t value": tstat}
    if confint:
        fac = stats.t.isf((1 - level) / 2, df)
        out["lower"] = est - se * fac
        out["upper"] = est + se * fac
    out["Pr(>|t|)"] = 2 * stats.t.sf(np.abs(tstat), df)
    return pd.DataFrame(out)


def contrast_f(fit: Any, L: np.ndarray, ddf: str, rhs: Any = 0.0) -> list | None:
    """lmerTest's ``contestMD``: ``[Sum Sq, Mean Sq, NumDF, DenDF, F value, Pr(>F)]`` for
    Lβ = rhs, None for an empty hypothesis."""
    from scipy import stats
    L = np.atleast_2d(np.asarray(L, dtype=float))
    if L.shape[0] == 0:
        return None
    if L.shape[1] != fit.p:
        raise FitError(f"contrast has {L.shape[1]} columns: expecting {fit.p}")
    if np.isnan(L).any():
        return [np.nan] * 6
    beta = fit.beta
    rhs = np.broadcast_to(np.asarray(rhs, dtype=float), (L.shape[0],))
    if np.any(rhs != 0):
        beta = beta - ginv(L) @ rhs
    sigma2 = fit.sigma() ** 2
    if ddf == "Kenward-Roger":
        F, F_unscaled, q, dendf = kr_f(L, beta, kr_vcov(fit))
    else:
        res = satterthwaite_f(L, beta, beta_vcov(fit), satterthwaite_derivs(fit))
        if res is None:
            return None
        F, F_unscaled, q, dendf = res.F, res.F_unscaled, res.numdf, res.dendf
    ms = F_unscaled * sigma2
    return [ms * q, ms, q, dendf, F, float(stats.f.sf(F, q, dendf))]


def coef_table(fit: Any, ddf: str = "Satterthwaite") -> pd.DataFrame:
    """lmerTest's ``get_coefmat``: one t test per coefficient, rows named by the coefficients."""
    ddf = match_ddf(ddf, DDF_METHODS[:2])
    eye = np.eye(fit.p)
    tab = t_rows([contrast_t(fit, eye[i], ddf) for i in range(fit.p)], 0.0, False, 0.95)
    tab.index = list(fit.columns)
    return tab


def contest(fit: Any, L: Any, rhs: Any = 0.0, joint: bool = True, confint: bool = True,
            level: float = 0.95, ddf: str = "Satterthwaite") -> pd.DataFrame:
    """lmerTest's ``contest(model, L, rhs, joint, confint, level, ddf)``: with ``joint`` the F
    test of Lβ = rhs (``Sum Sq Mean Sq NumDF DenDF F value Pr(>F)``, one row per matrix when L
    is a list), else a t test per row of L (``Estimate Std. Error df t value lower upper
    Pr(>|t|)``). L is a vector (one row), a matrix (array, DataFrame or nested lists) or, as
    R's list of matrices, a Python list of arrays/DataFrames. ``ddf="lme4"`` is not offered."""
    ddf = match_ddf(ddf, DDF_METHODS[:2])
    is_list = isinstance(L, (list, tuple)) and len(L) > 0 and all(
        isinstance(m, (np.ndarray, pd.DataFrame)) for m in L)
    mats = [np.atleast_2d(np.asarray(m, dtype=float)) for m in (L if is_list else [L])]
    if joint:
        rows = [contrast_f(fit, m, ddf, rhs) for m in mats]
        rows = [r for r in rows if r is not None]
        out = pd.DataFrame(rows, columns=F_COLUMNS)
        out.index = [str(i + 1) for i in range(len(out))]
        return out
    rhs_value = float(np.asarray(rhs, dtype=float).ravel()[0])
    parts = [t_rows([contrast_t(fit, row, ddf) for row in m], rhs_value, confint, level)
             for m in mats]
    out = pd.concat(parts, ignore_index=True)
    out.index = [str(i + 1) for i in range(len(out))]
    return out
