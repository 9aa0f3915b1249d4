"""The result of a bootstrap (:class:`BootResult`, R's ``"boot"`` object as ``car::Boot``
returns it) and what is computed from its replicates: car's ``summary.boot``, ``boot.ci``'s
intervals through car's ``confint.boot``, and broom's ``tidy.boot``.

The intervals, as boot 1.3's ``boot.ci`` for one statistic t (replicates t*, the finite ones
only, R of them) at level c:

- "norm": t0 − b ∓ z_{(1+c)/2} sd(t*), b = mean(t*) − t0;
- "basic": 2 t0 − q((1 ± c)/2); "perc": q((1 ∓ c)/2);
- "bca": q(Φ(w + (w + z_α) / (1 − a (w + z_α)))) for α = (1 ∓ c)/2, with
  w = Φ⁻¹(#{t* < t0} / R) and a = Σ L³ / (6 (Σ L²)^1.5), L the empirical influence values by
  regression (``empinf(type = "reg")``: t* on the resampling frequencies f/n of rows 2..n, by
  glm's least squares, intercept dropped and L centred);

where q(α) is ``norm.inter``: with k = ⌊(R + 1) α⌋, the k-th order statistic when (R + 1) α is
whole, otherwise interpolation between the k-th and (k+1)-th on the normal quantile scale
(the extremes at k = 0 or R, with R's warning).
"""

from __future__ import annotations

import warnings
from typing import Any, Optional, Sequence, Union

import numpy as np
import pandas as pd

from .. import _core
from ..errors import BootstrapWarning, FitError
from ..printing import format_num, format_str
from .rrandom import qnorm

__all__ = ["BootResult", "norm_inter", "empinf_reg", "bca_ci", "perc_ci", "basic_ci",
           "norm_ci", "boot_summary", "boot_confint", "tidy_boot", "BootSummary",
           "BootConfint", "print_boot_summary", "data_frame_text"]

CI_TYPES = ("bca", "norm", "basic", "perc")
CI_LABELS = {"bca": "bca", "norm": "normal", "basic": "basic", "perc": "percent"}
GLM_QR_TOL = 1e-11  # glm.fit's min(1e-7, epsilon / 1000) with epsilon = 1e-8


class BCaFailure(FitError):
    """boot.ci's BCa adjustment cannot be computed (R: "estimated adjustment 'w' is
    infinite" / "'a' is NA")."""


def norm_inter(t: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """boot's ``norm.inter(t, alpha)``: the interpolated quantiles (second column of R's
    result) of the finite values of ``t`` at the probabilities ``alpha``."""
    t = np.sort(t[np.isfinite(t)])
    R = t.size
    alpha = np.asarray(alpha, dtype=np.float64)
    rk = (R + 1) * alpha
    if not np.all((rk > 1) & (rk < R)):
        warnings.warn("extreme order statistics used as endpoints", BootstrapWarning,
                      stacklevel=3)
    k = np.trunc(rk).astype(np.int64)
    out = np.empty(alpha.size)
    whole = k == rk
    out[whole] = t[np.clip(k[whole], 1, R) - 1]
    out[k == 0] = t[0]
    out[k == R] = t[R - 1]
    mid = ~whole & (k != 0) & (k != R)
    km = k[mid]
    z, z1, z2 = qnorm(np.concatenate([alpha[mid], km / (R + 1), (km + 1) / (R + 1)])).reshape(3, -1)
    tk, tk1 = t[km - 1], t[km]
    out[mid] = tk + (z - z1) / (z2 - z1) * (tk1 - tk)
    return out


def finite(t: np.ndarray) -> np.ndarray:
    return t[np.isfinite(t)]


def perc_ci(t: np.ndarray, conf: np.ndarray) -> np.ndarray:
    """boot's ``perc.ci``: rows (lower, upper) per level."""
    conf = np.asarray(conf, dtype=np.float64)
    q = norm_inter(t, np.concatenate([(1 - conf) / 2, (1 + conf) / 2]))
    return q.reshape(2, -1).T


def basic_ci(t0: float, t: np.ndarray, conf: np.ndarray) -> np.ndarray:
    """boot's ``basic.ci``: 2 t0 − q((1 + c)/2), 2 t0 − q((1 − c)/2)."""
    conf = np.asarray(conf, dtype=np.float64)
    q = norm_inter(t, np.concatenate([(1 + conf) / 2, (1 - conf) / 2]))
    return (2 * t0 - q).reshape(2, -1).T


def norm_ci(t0: float, t: np.ndarray, conf: np.ndarray) -> np.ndarray:
    """boot's ``norm.ci`` from the replicates: bias-corrected t0 ∓ z sd(t*)."""
    conf = np.asarray(conf, dtype=np.float64)
    tf = finite(t)
    bias = np.mean(tf) - t0
    merr = np.sqrt(np.var(tf, ddof=1)) * qnorm((1 + conf) / 2)
    return np.column_stack([t0 - bias - merr, t0 - bias + merr])


def frequency_array(indices: np.ndarray) -> np.ndarray:
    """boot's ``boot.array``: how often each row is drawn in each replicate (R × n)."""
    R, n = indices.shape
    flat = (np.arange(R)[:, None] * n + indices).ravel()
    return np.bincount(flat, minlength=R * n).reshape(R, n).astype(np.float64)


def empinf_reg(t: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """boot's ``empinf.reg``: the regression estimates of the empirical influence values (NaN
    where the least-squares fit of t* on the frequencies is rank-deficient, as R's NA)."""
    ok = np.isfinite(t)
    n = indices.shape[1]
    if int(ok.sum()) < n:  # more coefficients than replicates: R's fit has NA coefficients
        return np.full(n, np.nan)
    X = np.asfortranarray(np.column_stack(
        [np.ones(int(ok.sum())), frequency_array(indices[ok])[:, 1:] / n]))
    fit = _core.lm_wfit(X, np.asfortranarray(t[ok].reshape(-1, 1)), tol=GLM_QR_TOL,
                        overwrite_x=True)
    beta = np.asarray(fit["coefficients"], dtype=np.float64).ravel()[1:]
    L = np.concatenate([[0.0], beta])
    return L - L.mean()


def bca_ci(t0: float, t: np.ndarray, conf: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """boot's ``bca.ci`` (rows (lower, upper) per level); :class:`BCaFailure` as R's errors."""
    from scipy.special import ndtr
    conf = np.asarray(conf, dtype=np.float64)
    tf = finite(t)
    with np.errstate(divide="ignore"):
        w = float(qnorm(np.array([np.sum(tf < t0) / tf.size]))[0])
    if not np.isfinite(w):
        raise BCaFailure("estimated adjustment 'w' is infinite")
    L = empinf_reg(t, indices)
    a = np.sum(L**3) / (6 * np.sum(L**2) ** 1.5)
    if not np.isfinite(a):
        raise BCaFailure("estimated adjustment 'a' is NA")
    zalpha = qnorm(np.concatenate([(1 - conf) / 2, (1 + conf) / 2]))
    adj = ndtr(w + (w + zalpha) / (1 - a * (w + zalpha)))
    return norm_inter(tf, adj).reshape(2, -1).T


def interval(kind: str, t0: float, t: np.ndarray, conf: np.ndarray,
             indices: np.ndarray) -> np.ndarray:
    """One statistic's interval of boot.ci ``type = kind`` (rows per level)."""
    tf = finite(t)
    if tf.size and np.all(np.abs(tf - tf.mean()) < min(1e-8, tf.mean() / 1e6)):
        raise FitError(f"All values of t are equal to {np.mean(tf):.15g}; cannot calculate "
                       "confidence intervals")
    if kind == "bca":
        return bca_ci(t0, t, conf, indices)
    if kind == "norm":
        return norm_ci(t0, t, conf)
    if kind == "basic":
        return basic_ci(t0, t, conf)
    return perc_ci(t, conf)


def level_labels(conf: np.ndarray) -> tuple:
    """car's column labels ``paste(round(100 * levs, 1), "%")`` and their order."""
    levs = np.concatenate([[(1 - c) / 2, 1 - (1 - c) / 2] for c in conf])
    order = np.argsort(levs, kind="stable")
    labels = [f"{round(100 * v, 1):.15g} %" for v in levs[order]]
    return labels, order


def boot_confint(b: "BootResult", parm: Any = None, level: Union[float, Sequence[float]] = 0.95,
                 type: str = "bca") -> pd.DataFrame:  # noqa: A002 - R's argument
    """car's ``confint.boot``: intervals of ``boot.ci(type = type)`` for each coefficient
    (default: the non-aliased ones); "bca" falls back to "perc" with car's warning when the
    BCa adjustments cannot be computed. ``attrs["type"]`` is car's label."""
    if type not in CI_TYPES:
        raise FitError("'arg' should be one of \u201cbca\u201d, \u201cnorm\u201d, "
                       "\u201cbasic\u201d, \u201cperc\u201d")
    conf = np.atleast_1d(np.asarray(level, dtype=np.float64))
    names = b.parm_names(parm)
    rows = []
    for name in names:
        j = b.names.index(name)
        try:
            ci = interval(type, float(b.t0.iloc[j]), b.t_array[:, j], conf, b.indices)
        except BCaFailure:
            warnings.warn("BCa method fails for this problem.  Using 'perc' instead",
                          BootstrapWarning, stacklevel=3)
            return boot_confint(b, parm, level, "perc")
        rows.append(ci.ravel())
    labels, order = level_labels(conf)
    out = BootConfint(np.array(rows).reshape(len(names), -1)[:, order],
                      index=pd.Index(names), columns=pd.Index(labels))
    out.attrs["type"] = CI_LABELS[type]
    return out


class BootSummary(pd.DataFrame):
    """car's ``summary.boot`` table (a DataFrame); ``str()`` is what R prints for it."""

    @property
    def _constructor(self) -> type:
        return pd.DataFrame  # derived tables are plain DataFrames

    def __str__(self) -> str:
        return print_boot_summary(self)


def print_boot_summary(s: pd.DataFrame, digits: int = 5) -> str:
    """car's ``print.summary.boot``: with several rows and the same R in all, the line
    "Number of bootstrap replications R = R" and the table without R; then
    ``print.data.frame(digits = 5)`` (each column formatted alone, right-justified)."""
    head = ""
    if len(s) > 1 and np.std(s["R"].to_numpy(), ddof=1) < 1e-8:
        head = f"\nNumber of bootstrap replications R = {format_num([s['R'].iloc[0]], 7)[0]} \n"
        s = s.drop(columns="R")
    return head + data_frame_text(s, digits)


def data_frame_text(df: pd.DataFrame, digits: int = 7) -> str:
    """R's ``print.data.frame(digits = digits)`` of numeric columns: each column formatted
    alone (``format``), right-justified under its name; row names left-justified."""
    cols = [[str(c)] + format_num(df[c].to_numpy(), digits) for c in df.columns]
    rows = format_str([""] + [str(i) for i in df.index])
    widths = [max(len(x) for x in col) for col in cols]
    lines = [" ".join([r] + [col[i].rjust(w) for col, w in zip(cols, widths)])
             for i, r in enumerate(rows)]
    return "\n".join(lines) + "\n"


class BootConfint(pd.DataFrame):
    """car's ``confint.boot`` matrix (a DataFrame, ``attrs["type"]`` car's label); ``str()`` is
    what R prints for it."""

    @property
    def _constructor(self) -> type:
        return pd.DataFrame

    def __str__(self) -> str:
        return (f"Bootstrap {self.attrs.get('type', '')} confidence intervals\n\n"
                + data_frame_text(self))


def boot_summary(b: "BootResult") -> pd.DataFrame:
    """car's ``summary.boot``: per non-aliased coefficient R (non-NA replicates), original,
    bootBias (mean − original), bootSE (sd) and bootMed (median), NAs removed."""
    keep = ~np.isnan(b.t0.to_numpy())
    t = b.t_array[:, keep]
    t0 = b.t0.to_numpy()[keep]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        out = BootSummary({
            "R": np.sum(~np.isnan(t), axis=0).astype(np.float64),
            "original": t0,
            "bootBias": np.nanmean(t, axis=0) - t0,
            "bootSE": np.nanstd(t, axis=0, ddof=1),
            "bootMed": np.nanmedian(t, axis=0),
        }, index=pd.Index(list(b.t0.index[keep])))
    return out


def tidy_boot(b: "BootResult", conf_int: bool = False, conf_level: float = 0.95,
              conf_method: str = "perc") -> pd.DataFrame:
    """broom's ``tidy.boot``: term, statistic (t0), bias, std.error, and with ``conf_int``
    conf.low/conf.high from ``boot.ci(type = conf_method)``; coefficients whose replicates
    are all NA are left out. Difference: for ``conf_method = "norm"`` broom 1.0 pairs the
    first two coefficients' intervals wrongly; here each row has its own interval."""
    if conf_method not in ("perc", "bca", "basic", "norm"):
        raise FitError("`conf.method` must be one of \"perc\", \"bca\", \"basic\", or \"norm\"")
    t = b.t_array
    keep = ~np.all(np.isnan(t), axis=0)
    t0 = b.t0.to_numpy()[keep]
    tk = t[:, keep]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        out = pd.DataFrame({
            "term": list(b.t0.index[keep]), "statistic": t0,
            "bias": np.nanmean(tk, axis=0) - t0,
            "std.error": np.nanstd(tk, axis=0, ddof=1)})
    if conf_int:
        conf = np.array([conf_level], dtype=np.float64)
        cis = np.array([interval(conf_method, float(t0[j]), tk[:, j], conf, b.indices)[0]
                        for j in range(tk.shape[1])]).reshape(-1, 2)
        out["conf.low"] = cis[:, 0]
        out["conf.high"] = cis[:, 1]
    return out


class BootResult:
    """A bootstrap's result (R's ``"boot"`` object from ``car::Boot``).

    ``t0``: f(fit) (a Series named by coefficient); ``t``: the replicates (R × p DataFrame, a
    replicate that lost rank all NaN); ``indices``: the resampled rows (R × n, 0-based);
    ``R``, ``method``, ``seed``. Methods: :meth:`summary`, :meth:`confint`, :meth:`tidy`.
    """

    def __init__(self, t0: pd.Series, t: np.ndarray, indices: np.ndarray, method: str,
                 seed: Optional[int]):
        self.t0 = t0
        self.t_array = np.asarray(t, dtype=np.float64)
        self.indices = indices
        self.method = method
        self.seed = seed
        self.names = list(t0.index)

    @property
    def R(self) -> int:  # noqa: N802 - R's name
        return int(self.t_array.shape[0])

    @property
    def t(self) -> pd.DataFrame:
        return pd.DataFrame(self.t_array, columns=pd.Index(self.names))

    def parm_names(self, parm: Any = None) -> list:
        """car's ``parm``: default the coefficients with a non-NA ``t0``; names or 0-based
        positions otherwise."""
        if parm is None:
            return [n for n, v in zip(self.names, self.t0.to_numpy()) if not np.isnan(v)]
        items = [parm] if isinstance(parm, (str, int, np.integer)) else list(parm)
        out = []
        for p in items:
            name = self.names[int(p)] if isinstance(p, (int, np.integer)) else str(p)
            if name not in self.names:
                raise FitError(f"no coefficient named '{name}'")
            out.append(name)
        return out

    def summary(self) -> pd.DataFrame:
        """car's ``summary(b)`` (see :func:`boot_summary`)."""
        return boot_summary(self)

    def confint(self, parm: Any = None, level: Union[float, Sequence[float]] = 0.95,
                type: str = "bca") -> pd.DataFrame:  # noqa: A002 - R's argument
        """car's ``confint(b, parm, level, type)`` (see :func:`boot_confint`)."""
        return boot_confint(self, parm, level, type)

    def tidy(self, conf_int: bool = False, conf_level: float = 0.95,
             conf_method: str = "perc") -> pd.DataFrame:
        """broom's ``tidy(b, conf.int, conf.level, conf.method)`` (see :func:`tidy_boot`)."""
        return tidy_boot(self, conf_int, conf_level, conf_method)

    def __repr__(self) -> str:
        return (f"<Boot: {self.R} {self.method} bootstrap replicates of "
                f"{len(self.names)} coefficients>\n{self.summary()}")
