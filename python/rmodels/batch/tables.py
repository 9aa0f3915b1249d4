"""Grouped fits, stage 4: broom's ``tidy`` and ``glance`` and R's ``coef`` of every group at once,
computed over the groups' result arrays (:class:`~rmodels.batch.compiled.GroupColumns`) with the
arithmetic of the single fits' methods (``LM.tidy``/``glance`` = ``summary.lm``, ``logLik.lm``;
``GLM.tidy``/``glance`` = ``summary.glm``, ``logLik.glm``), the tail probabilities in one
vectorised call per kind. The long tables are built with NumPy repeats and ravels: a group's rows
are its own coefficients (all of them, aliased ones NaN, in its column order, as broom joins
``coef(x)``), a failed group one row of NaN.

Each function returns ``(body, counts)``: the table's columns without the group columns, and the
number of rows of each group.
"""

from __future__ import annotations

import math
import warnings
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Optional

import numpy as np
import pandas as pd

from ..errors import RModelsWarning
from ..models import Family
from .compiled import GroupColumns

__all__ = ["lm_tidy", "lm_glance", "glm_tidy", "glm_glance", "coef_matrix", "int_column",
           "take_strings"]


_THREADED_TAIL = 20_000


def _long_positions(cols: GroupColumns, counts: np.ndarray, local: np.ndarray) -> tuple:
    """(group of each row, union column of each row or −1): ``local(gid, k)`` gives the local
    column of the k-th row of an ok group."""
    gid = np.repeat(np.arange(len(cols)), counts)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    k = np.arange(len(gid)) - np.repeat(starts, counts)
    ok = cols.ok[gid]
    union = np.full(len(gid), -1, dtype=np.int64)
    union[ok] = cols.cols[cols.col_ptr[gid[ok]] + local(gid[ok], k[ok])]
    return gid, union


def _take(a: np.ndarray, gid: np.ndarray, union: np.ndarray) -> np.ndarray:
    out = np.full(len(gid), np.nan)
    has = union >= 0
    out[has] = a[gid[has], union[has]]
    return out


def take_strings(values: list, idx: np.ndarray) -> Any:
    """``values[idx]`` as pandas' default string array (−1 → missing), taken without building
    one Python string per row."""
    arr = pd.array(list(values), dtype=pd.StringDtype(na_value=np.nan)) if values else \
        pd.array([np.nan], dtype=pd.StringDtype(na_value=np.nan))
    if not values:
        idx = np.full(len(idx), -1, dtype=np.int64)
    return arr.take(idx, allow_fill=True)


def _terms(cols: GroupColumns, union: np.ndarray) -> Any:
    return take_strings(cols.names, union)  # −1 → NaN (a failed group's row)


def t_upper_tail(x: np.ndarray, df: np.ndarray) -> np.ndarray:
    """``scipy.stats.t.sf(x, df)`` for df > 0 (the same values: SciPy's ``t.sf`` is
    ``stdtr(df, -x)``), evaluated in two threads for long inputs (the ufunc releases the
    GIL)."""
    from scipy import special
    n = len(x)
    if n < _THREADED_TAIL:
        return special.stdtr(df, -x)
    out = np.empty(n)
    half = n // 2

    def part(a: int, b: int) -> None:
        special.stdtr(df[a:b], -x[a:b], out=out[a:b])

    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(lambda ab: part(*ab), [(0, half), (half, n)]))
    return out


def _tidy_frame(cols: GroupColumns, gid: np.ndarray, union: np.ndarray,
                p_value: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({
        "term": _terms(cols, union), "estimate": _take(cols.estimate, gid, union),
        "std.error": _take(cols.std_error, gid, union),
        "statistic": _take(cols.statistic, gid, union), "p.value": p_value})


def lm_tidy(cols: GroupColumns, conf_int: bool = False,
            conf_level: float = 0.95) -> tuple[pd.DataFrame, np.ndarray]:
    """broom's ``tidy.lm`` of every group: p = 2 pt(|t|, df, lower = FALSE) (NaN when the
    residual df is 0); with ``conf_int`` R's ``confint.lm``, β̂ ± qt((1 ± level)/2, df)·SE."""
    from scipy import stats as sps
    ncols = np.diff(cols.col_ptr)
    counts = np.where(cols.ok, ncols, 1)
    gid, union = _long_positions(cols, counts, lambda g, k: k)
    tv = _take(cols.statistic, gid, union)
    dfv = np.where(cols.ok, cols.df_residual, 0)[gid].astype(np.float64)
    pv = np.full(len(tv), np.nan)
    pos = dfv > 0
    pv[pos] = 2.0 * t_upper_tail(np.abs(tv[pos]), dfv[pos])
    out = _tidy_frame(cols, gid, union, pv)
    if conf_int:
        a = (1 - conf_level) / 2
        lo, hi = np.full(len(tv), np.nan), np.full(len(tv), np.nan)
        est, se = out["estimate"].to_numpy(), out["std.error"].to_numpy()
        lo[pos] = est[pos] + se[pos] * sps.t.ppf(a, dfv[pos])
        hi[pos] = est[pos] + se[pos] * sps.t.ppf(1 - a, dfv[pos])
        if (~pos & cols.ok[gid]).any():
            warnings.warn("NaNs produced", RModelsWarning, stacklevel=3)
        out["conf.low"], out["conf.high"] = lo, hi
    return out, counts


def glm_tidy(cols: GroupColumns, family: Family) -> tuple[pd.DataFrame, np.ndarray]:
    """broom's ``tidy.glm`` of every group (summary.glm's table): z tests for a fixed
    dispersion, t tests otherwise (NaN without residual df); aliased terms are rows of NaN."""
    from scipy import stats as sps
    counts = np.where(cols.ok, np.diff(cols.col_ptr), 1)
    gid, union = _long_positions(cols, counts, lambda g, k: k)
    z = _take(cols.statistic, gid, union)
    pv = np.full(len(z), np.nan)
    if family.fixed_dispersion:
        pv = 2 * sps.norm.cdf(-np.abs(z))
    else:
        dfv = cols.df_residual[gid].astype(np.float64)
        pos = cols.ok[gid] & (dfv > 0)
        pv[pos] = 2 * sps.t.cdf(-np.abs(z[pos]), dfv[pos])
    return _tidy_frame(cols, gid, union, pv), counts


def int_column(values: np.ndarray, failed: np.ndarray) -> np.ndarray:
    """An integer column: int64, or float64 with NaN for failed groups (the stacked tables'
    layout: a failed group's row is NaN)."""
    if not failed.any():
        return np.asarray(values, dtype=np.int64)
    return np.where(failed, np.nan, np.asarray(values, dtype=np.float64))


def _f_upper(stat: np.ndarray, d1: np.ndarray, d2: np.ndarray) -> np.ndarray:
    from scipy import stats as sps
    pv = np.full(len(stat), np.nan)
    ok = ~np.isnan(stat) & (d1 > 0) & (d2 > 0)
    pv[ok] = sps.f.sf(stat[ok], d1[ok], d2[ok])
    return pv


def lm_glance(cols: GroupColumns) -> tuple[pd.DataFrame, np.ndarray]:
    """broom's ``glance.lm`` of every group: summary.lm's R², adjusted R², σ and F statistic
    (NaN for one coefficient), ``logLik.lm`` ½(Σ log w − N(log 2π + 1 − log N + log RSS)),
    AIC, BIC, the deviance (RSS), residual df and nobs."""
    x = cols.extra
    ok, p = cols.ok, cols.rank.astype(np.int64)
    rdf = cols.df_residual.astype(np.float64)
    rss, mss, N = x["rss"], x["mss"], x["n_used"].astype(np.int64)
    df_int = 1 if cols.intercept else 0
    with np.errstate(divide="ignore", invalid="ignore"):
        resvar = rss / rdf
        has_f = ok & (p > 0) & (p != df_int)
        r2 = np.where(has_f, mss / (mss + rss), 0.0)
        adj = np.where(has_f, 1 - (1 - r2) * ((N - df_int).astype(np.float64) / rdf), 0.0)
        fval = (mss / (p - df_int)) / resvar
        dev = x["deviance"]
        ll = 0.5 * (x["sum_log_w"] - N * (np.log(2 * np.pi) + 1 - np.log(N.astype(np.float64))
                                          + np.log(dev)))
        bic_log = np.log(N.astype(np.float64))
    show_f = has_f & (p != 1)
    stat = np.where(show_f, fval, np.nan)
    d1 = np.where(show_f, p - df_int, np.nan).astype(np.float64)
    d2 = np.where(show_f, rdf, np.nan)
    failed = ~ok

    def nan_if_failed(v: np.ndarray) -> np.ndarray:
        return np.where(failed, np.nan, v)

    body = pd.DataFrame({
        "r.squared": nan_if_failed(r2), "adj.r.squared": nan_if_failed(adj),
        "sigma": nan_if_failed(np.sqrt(resvar)), "statistic": stat,
        "p.value": _f_upper(stat, d1, d2), "df": d1, "logLik": nan_if_failed(ll),
        "AIC": nan_if_failed(-2.0 * ll + 2.0 * (p + 1)),
        "BIC": nan_if_failed(-2.0 * ll + bic_log * (p + 1)),
        "deviance": nan_if_failed(dev), "df.residual": int_column(cols.df_residual, failed),
        "nobs": int_column(N, failed)})
    return body, np.ones(len(cols), dtype=np.int64)


def glm_aic(cols: GroupColumns, family: Family, bounds: Optional[np.ndarray]) -> np.ndarray:
    """R's ``family$aic(...) + 2 rank`` of every group (NaN for quasi families): binomial and
    Poisson from the core, gaussian from the deviance and Σ log w, the others from the stacked
    rows (``bounds``: each group's rows in them)."""
    x = cols.extra
    G = len(cols)
    fam = family.family
    if fam in ("binomial", "poisson"):
        aic0 = np.asarray(x["aic_family"], dtype=np.float64)
    elif fam == "gaussian":
        nobs = x["n_rows"].astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            aic0 = nobs * (np.log(x["deviance"] / nobs * 2 * math.pi) + 1) + 2 - x["sum_log_w"]
    elif family.is_quasi or bounds is None:
        aic0 = np.full(G, np.nan)
    else:
        aic0 = np.full(G, np.nan)
        for g in np.flatnonzero(cols.ok):
            s = slice(bounds[g], bounds[g + 1])
            aic0[g] = family.aic(x["y"][s], x["n_trials"][s], x["mu"][s],
                                 x["prior_weights"][s], float(x["deviance"][g]))
    return aic0 + 2 * cols.rank


def glm_glance(cols: GroupColumns, family: Family,
               bounds: Optional[np.ndarray]) -> tuple[pd.DataFrame, np.ndarray]:
    """broom's ``glance.glm`` of every group: null deviance and df, ``logLik.glm``
    (rank + extra df − AIC / 2; NaN for quasi families), AIC, BIC, deviance, residual df,
    nobs."""
    x = cols.extra
    failed = ~cols.ok
    k = cols.rank.astype(np.int64) + family.extra_df
    aic = glm_aic(cols, family, bounds)
    quasi = family.is_quasi
    ll = np.full(len(cols), np.nan) if quasi else k - aic / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        bic = -2 * ll + np.log(x["n_loglik"].astype(np.float64)) * k

    def nan_if(v: np.ndarray) -> np.ndarray:
        return np.where(failed | quasi, np.nan, v)

    body = pd.DataFrame({
        "null.deviance": np.where(failed, np.nan, x["null_deviance"]),
        "df.null": int_column(x["n_ok"] - (1 if cols.intercept else 0), failed),
        "logLik": nan_if(ll), "AIC": nan_if(-2 * ll + 2 * k), "BIC": nan_if(bic),
        "deviance": np.where(failed, np.nan, x["deviance"]),
        "df.residual": int_column(cols.df_residual, failed),
        "nobs": int_column(x["n_ok"], failed)})
    return body, np.ones(len(cols), dtype=np.int64)


def coef_matrix(cols: GroupColumns, first: list) -> tuple[np.ndarray, list]:
    """Every group's coefficients (G × names): columns in R's order (``first``, the whole-data
    design's, then names in the order groups meet them), only names some fitted group has;
    NaN where a group has no such coefficient, for aliased ones and for failed groups."""
    ncols = np.diff(cols.col_ptr)
    met = np.zeros(len(cols.names), dtype=bool)
    okrows = np.repeat(cols.ok, ncols)
    met[cols.cols[okrows]] = True
    pos = {nm: j for j, nm in enumerate(cols.names)}
    order = [pos[nm] for nm in first if nm in pos]
    order += [j for j in range(len(cols.names)) if j not in set(order)]
    order = [j for j in order if met[j]]
    M = cols.estimate[:, order]
    M[~cols.ok] = np.nan
    return M, [cols.names[j] for j in order]
