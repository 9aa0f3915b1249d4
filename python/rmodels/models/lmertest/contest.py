"""lmerTest's tests of contrasts of the fixed effects of an lmer fit: ``contest`` (t tests of
each row, or the joint F test), ``contest1D``/``contestMD`` by Satterthwaite's or
Kenward-Roger's method, and the coefficient table of lmerTest's summary (``get_coefmat``).

All rows (t tests) or hypotheses (F tests) of a call are tested in one vectorised pass. The
(θ, σ) derivatives and pbkrtest's adjusted covariance are computed once per fit and kept in the
fit's ``lmertest_cache``; the tables' row labels are pandas Indexes shared by all tables with
the same labels.
"""

from __future__ import annotations

import functools
import warnings
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ...errors import FitError, RankDeficiencyWarning
from .kenward_roger import AdjustedVcov, ginv, kr_f, kr_t_tests, vcov_adjusted
from .satterthwaite import (
    FTests,
    TTests,
    contrast_rows,
    satterthwaite_f_tests,
    satterthwaite_t_tests,
)
from .varpar import VarparDerivs, varpar_derivatives

DDF_METHODS = ("Satterthwaite", "Kenward-Roger", "lme4")
T_COLUMNS = ["Estimate", "Std. Error", "df", "t value", "Pr(>|t|)"]
F_COLUMNS = ["Sum Sq", "Mean Sq", "NumDF", "DenDF", "F value", "Pr(>F)"]
T_CI_COLUMNS = T_COLUMNS[:4] + ["lower", "upper", T_COLUMNS[4]]
#: the tables' column labels as pandas Indexes, built once (a string Index costs ~0.2 ms)
COLUMN_INDEX = {len(c): pd.Index(c) for c in (T_COLUMNS, T_CI_COLUMNS)} | {
    "F": pd.Index(F_COLUMNS)}


def labels_index(labels: Sequence[str]) -> pd.Index:
    """The row labels as a pandas Index: a view of one kept per set of labels (its own object,
    so that setting its ``name`` touches no other table; an Index's values cannot be set)."""
    return shared_index(tuple(labels)).view()


def column_index(key: Any) -> pd.Index:
    """A table's column labels (``COLUMN_INDEX[key]``), a view as :func:`labels_index`."""
    return COLUMN_INDEX[key].view()


@functools.lru_cache(maxsize=1024)
def shared_index(labels: tuple) -> pd.Index:
    """pandas' Index of the labels (building a string Index costs ~0.2 ms)."""
    return pd.Index(list(labels))


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


def t_tests(fit: Any, M: np.ndarray, ddf: str) -> TTests:
    """lmerTest's ``contest1D`` of every row l of M: the estimate l'β̂, its standard error and
    df (Kenward-Roger: from pbkrtest's adjusted covariance); NaN for a row with a NaN."""
    M = np.atleast_2d(np.asarray(M, dtype=float))
    if M.shape[1] != fit.p:
        raise FitError(f"contrast has length {M.shape[1]}: expecting {fit.p}")
    if ddf == "Kenward-Roger":
        return TTests(*kr_t_tests(M, fit.beta, kr_vcov(fit)))
    return satterthwaite_t_tests(M, fit.beta, beta_vcov(fit), satterthwaite_derivs(fit))


def t_rows(tests: TTests, rhs: float, confint: bool, level: float,
           index: pd.Index | None = None) -> pd.DataFrame:
    """lmerTest's t table: ``Estimate Std. Error df t value [lower upper] Pr(>|t|)``."""
    est, se, df = tests.estimate, tests.std_error, tests.df
    with np.errstate(divide="ignore", invalid="ignore"):
        tstat = (est - rhs) / se
    cols = [est, se, df, tstat]
    if confint:
        fac = -t_quantile((1 - level) / 2, df)  # qt(1 - a, df) as -qt(a, df)
        cols += [est - se * fac, est + se * fac]
    cols.append(2 * t_upper(np.abs(tstat), df))
    return pd.DataFrame(np.column_stack(cols), index=index, columns=column_index(len(cols)))


def t_upper(x: np.ndarray, df: np.ndarray) -> np.ndarray:
    """R's ``pt(x, df, lower.tail = FALSE)`` (scipy's ``stdtr``, what ``stats.t.sf`` calls)."""
    from scipy import special
    return special.stdtr(df, -x)


def t_quantile(p: float, df: np.ndarray) -> np.ndarray:
    """R's ``qt(p, df)`` (scipy's ``stdtrit``, what ``stats.t.ppf`` calls)."""
    from scipy import special
    return special.stdtrit(df, p)


def f_upper(F: np.ndarray, df1: np.ndarray, df2: np.ndarray) -> np.ndarray:
    """R's ``pf(F, df1, df2, lower.tail = FALSE)`` (scipy's ``fdtrc``, what ``stats.f.sf``
    calls)."""
    from scipy import special
    return special.fdtrc(df1, df2, F)


def f_tests(fit: Any, Ls: Sequence[np.ndarray], ddf: str, rhs: Any = 0.0) -> FTests:
    """lmerTest's ``contestMD`` of each hypothesis Lβ = rhs (each L at least one row, no NaN),
    in one pass: F, NumDF (0 for an empty hypothesis), DenDF and the unscaled F."""
    beta = fit.beta
    rhs = np.asarray(rhs, dtype=float)
    if np.any(rhs != 0):
        warn_rank_deficient(Ls, ddf)
    if ddf == "Kenward-Roger":
        adj = kr_vcov(fit)
        res = [kr_f(L, shifted_beta(beta, L, rhs), adj) for L in Ls]
        F, F_unscaled, q, dendf = (np.array(v, dtype=float) for v in zip(*res))
        return FTests(F, q, dendf, F_unscaled)
    if np.any(rhs != 0):
        parts = [satterthwaite_f_rhs(fit, L, rhs) for L in Ls]
        return FTests(*(np.concatenate([getattr(t, f) for t in parts])
                        for f in ("F", "numdf", "dendf", "F_unscaled")))
    return satterthwaite_f_tests(Ls, beta, beta_vcov(fit), satterthwaite_derivs(fit))


def satterthwaite_f_rhs(fit: Any, L: np.ndarray, rhs: np.ndarray) -> FTests:
    """lmerTest's ``contestMD`` (Satterthwaite) of Lβ = rhs, rhs ≠ 0: the test of β̂ − ginv(L)
    rhs; but when several rows of L reduce to one independent row m, lmerTest's ``contest1D``
    of m with the first entry of rhs: t = (m'β̂ − rhs₁) / √(m'Vm)."""
    V, derivs = beta_vcov(fit), satterthwaite_derivs(fit)
    res = satterthwaite_f_tests([L], shifted_beta(fit.beta, L, rhs), V, derivs)
    if L.shape[0] > 1 and res.numdf[0] == 1:
        cr = contrast_rows([L], V)
        F = (cr.rows @ fit.beta - np.ravel(rhs)[0]) ** 2 / cr.var
        res = FTests(F, res.numdf, res.dendf, F)
    return res


def warn_rank_deficient(Ls: Sequence[np.ndarray], ddf: str) -> None:
    """lmerTest's warning for a test of Lβ = rhs (rhs ≠ 0) with a rank-deficient L (with
    Satterthwaite's method only for L of several rows, as ``contestMD``)."""
    for L in Ls:
        if (ddf == "Kenward-Roger" or L.shape[0] > 1) and \
                np.linalg.matrix_rank(L) < L.shape[0]:
            warnings.warn("Contrast is rank deficient and test may be affected",
                          RankDeficiencyWarning, stacklevel=5)


def shifted_beta(beta: np.ndarray, L: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """β̂ − ginv(L) rhs (lmerTest's test of Lβ = rhs as a test of L(β − ginv(L) rhs) = 0)."""
    r = np.broadcast_to(rhs, (L.shape[0],))
    return beta - ginv(L) @ r if np.any(r != 0) else beta


def f_table(fit: Any, Ls: Sequence[Any], ddf: str, rhs: Any = 0.0) -> tuple[np.ndarray,
                                                                            np.ndarray]:
    """lmerTest's F rows ``Sum Sq, Mean Sq, NumDF, DenDF, F value, Pr(>F)`` of the hypotheses
    (an (m, 6) array) and which of them are tested (False: no row, or L V L' of rank 0 —
    lmerTest drops them); a hypothesis with a NaN gets a row of NaN."""
    mats = [np.atleast_2d(np.asarray(L, dtype=float)) for L in Ls]
    for L in mats:
        if L.shape[0] and L.shape[1] != fit.p:
            raise FitError(f"contrast has {L.shape[1]} columns: expecting {fit.p}")
    out = np.full((len(mats), 6), np.nan)
    kept = np.array([L.shape[0] > 0 for L in mats], dtype=bool)
    full = np.array([k and not np.isnan(L).any() for k, L in zip(kept, mats)], dtype=bool)
    idx = np.flatnonzero(full)
    if len(idx) == 0:
        return out, kept
    res = f_tests(fit, [mats[i] for i in idx], ddf, rhs)
    ms = res.F_unscaled * fit.sigma() ** 2
    with np.errstate(invalid="ignore"):
        p = f_upper(res.F, res.numdf, res.dendf)
    out[idx] = np.column_stack([ms * res.numdf, ms, res.numdf, res.dendf, res.F, p])
    kept[idx] = res.numdf > 0
    return out, kept


def coef_table(fit: Any, ddf: str = "Satterthwaite") -> pd.DataFrame:
    """lmerTest's ``get_coefmat``: one t test per coefficient, rows named by the coefficients."""
    ddf = match_ddf(ddf, DDF_METHODS[:2])
    return t_rows(t_tests(fit, np.eye(fit.p), ddf), 0.0, False, 0.95,
                  labels_index(fit.columns))


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
        rows, kept = f_table(fit, mats, ddf, rhs)
        out = pd.DataFrame(rows[kept], columns=F_COLUMNS)
        out.index = [str(i + 1) for i in range(len(out))]
        return out
    rhs_value = float(np.asarray(rhs, dtype=float).ravel()[0])
    parts = [t_rows(t_tests(fit, m, ddf), rhs_value, confint, level) for m in mats]
    out = pd.concat(parts, ignore_index=True)
    out.index = [str(i + 1) for i in range(len(out))]
    return out
