"""The t and F probabilities of lm's tests, with R's rules for undefined values (NaN for
zero degrees of freedom, R's "NaNs produced" warning from ``qt``).

The upper tails call ``scipy.special`` directly (``fdtrc``, ``stdtr``): the functions
``scipy.stats.f.sf`` and ``scipy.stats.t.sf`` evaluate for positive degrees of freedom, the same
values without their argument checking, which costs some 50 µs a call."""

from __future__ import annotations

import warnings

import numpy as np

from ...errors import RModelsWarning

__all__ = ["pf_upper", "pt_two_sided", "qt"]


def pf_upper(f: float, df1: float, df2: float) -> float:
    """``pf(f, df1, df2, lower.tail = FALSE)`` (NaN when undefined)."""
    from scipy import special as spc
    if f != f:
        return float("nan")
    if df2 <= 0 or df1 <= 0:
        return float("nan")
    if f <= 0:  # at or below the support's lower end (as scipy.stats.f.sf)
        return 1.0
    return float(spc.fdtrc(float(df1), float(df2), float(f)))


def pt_two_sided(t: np.ndarray, df: float) -> np.ndarray:
    """``2 * pt(abs(t), df, lower.tail = FALSE)``."""
    from scipy import special as spc
    t = np.asarray(t, dtype=np.float64)
    if df <= 0:
        return np.full(t.shape, np.nan)
    if np.isfinite(t).all():
        return 2.0 * spc.stdtr(float(df), -np.abs(t))
    with np.errstate(invalid="ignore"):
        return 2.0 * spc.stdtr(float(df), -np.abs(t))


def qt(p: float, df: float) -> float:
    """``qt(p, df)``; R warns "NaNs produced" for df = 0."""
    from scipy import stats as sps
    if df <= 0:
        warnings.warn("NaNs produced", RModelsWarning, stacklevel=3)
        return float("nan")
    return float(sps.t.ppf(p, df))
