"""The numbers behind R's ``plot.lm`` panels, computed as ``stats:::plot.lm`` computes them
(no drawing here): residuals r (Pearson for a glm), the linear predictor ŷ, standardized
residuals rs (NaN where the leverage is 1), leverages h, Cook's distances, the rows R labels
(``id.n`` largest |r|, |rs| or Cook's distance), R's row names, the lowess smooths (iter 3, 0
for a glm) and the normal Q-Q positions (``qqnorm``/``qqline``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import generics as g
from ..models.glm import GLM
from .lowess import Lowess, lowess

__all__ = ["LmDiagnostics", "lm_diagnostics", "ppoints", "qq_positions", "qq_line",
           "largest", "smooth"]


@dataclass
class LmDiagnostics:
    """Per-row arrays on the rows with non-zero weight, in the fit's row order."""

    residuals: np.ndarray  # r: response residuals (lm) or Pearson residuals (glm)
    predicted: np.ndarray  # ŷ: fitted values (lm) or linear predictor (glm)
    std_residuals: np.ndarray  # rs
    hat: np.ndarray
    cooks: np.ndarray
    labels: list  # R's row names
    obs: np.ndarray  # observation numbers (1-based positions among the data's rows)
    n_obs: int  # rows of R's (NA-padded) residual vector
    hat_low: float  # min of R's hat vector, which na.exclude pads with 0 (not NA)
    xlevels: dict  # R's fit$xlevels: factor variables of the model frame and their levels
    factor_codes: np.ndarray  # (rows, factors) 0-based level codes (data.matrix(mf) - 1)
    rank: int
    is_glm: bool

    @property
    def iter_smooth(self) -> int:
        """plot.lm's ``iter.smooth``: 0 for a glm, else 3."""
        return 0 if self.is_glm else 3


def _kept(series: Any, rows: np.ndarray, index: Any) -> np.ndarray:
    """The values at ``rows`` of the data (by position when the series has every row, else
    by the data's index labels, as for hat values that leave out zero-weight rows)."""
    if len(series) == len(index):
        return np.asarray(series, dtype=float)[rows]
    return series.reindex(index[rows]).to_numpy(dtype=float)


def _weights(fit: Any, is_glm: bool) -> Any:
    if is_glm:
        return np.asarray(fit.core.prior_weights, dtype=float)
    w = fit.design.weights
    return None if w is None else np.asarray(w, dtype=float)


def lm_diagnostics(fit: Any) -> LmDiagnostics:
    """plot.lm's r, yh, rs, hii and Cook's distances on the rows with w ≠ 0 (R drops the
    zero-weight rows first); rows dropped for missing values are not plotted."""
    is_glm = isinstance(fit, GLM)
    r_all = g.residuals(fit, type="pearson") if is_glm else g.residuals(fit)
    in_fit = np.flatnonzero(~np.isnan(np.asarray(r_all, dtype=float)))
    w = _weights(fit, is_glm)
    nonzero = np.ones(len(in_fit), bool) if w is None else w != 0
    rows = in_fit[nonzero]
    ix = r_all.index
    r = _kept(r_all, rows, ix)
    hii = _kept(g.hatvalues(fit), rows, ix)
    if is_glm:
        rs = _kept(g.rstandard(fit, type="pearson"), rows, ix)
    else:
        s = np.sqrt(g.deviance(fit) / g.df_residual(fit))
        wr = r if w is None else np.sqrt(w[nonzero]) * r
        with np.errstate(divide="ignore", invalid="ignore"):
            rs = wr / (s * np.sqrt(1.0 - hii))
    rs = np.where(hii >= 1.0, np.nan, rs)
    labels = [fit.design.row_names[i] for i in np.flatnonzero(nonzero)]
    return LmDiagnostics(residuals=r, predicted=_kept(g.predict(fit), rows, ix), std_residuals=rs,
                         hat=hii, cooks=_kept(g.cooks_distance(fit), rows, ix), labels=labels,
                         obs=rows + 1, n_obs=len(r_all),
                         hat_low=0.0 if len(in_fit) < len(r_all) else float(np.nanmin(hii)),
                         xlevels=dict(fit.design.xlevels or {}),
                         factor_codes=factor_codes(fit, np.flatnonzero(nonzero)),
                         rank=int(fit.rank), is_glm=is_glm)


def factor_codes(fit: Any, rows: np.ndarray) -> np.ndarray:
    """``data.matrix(model.frame(fit)[names(fit$xlevels)]) - 1`` on the given rows of the
    model frame: each factor's 0-based level codes (character columns by their sorted
    levels, as data.matrix makes them)."""
    xlev = dict(fit.design.xlevels or {})
    if not xlev:
        return np.zeros((len(rows), 0), dtype=np.int64)
    frame = fit.design.frame
    cols = []
    for var, levels in xlev.items():
        pos = {str(v): i for i, v in enumerate(levels)}
        values = frame[var].astype(object).to_numpy()[rows]
        cols.append([pos.get(str(v), -1) for v in values])
    return np.array(cols, dtype=np.int64).T


def largest(values: np.ndarray, k: int) -> np.ndarray:
    """Positions of the k largest values (R's ``sort.list(v, decreasing = TRUE)[1:k]`` /
    ``order(-v)[1:k]``: ties in row order, NaN last)."""
    v = np.where(np.isnan(values), -np.inf, values)
    order = np.argsort(-v, kind="stable")
    return order[:k]


def ppoints(n: int) -> np.ndarray:
    """R's ``ppoints(n)``: (i − a)/(n + 1 − 2a), a = 3/8 for n ≤ 10, else 1/2."""
    a = 3.0 / 8.0 if n <= 10 else 0.5
    return (np.arange(1, n + 1) - a) / (n + 1 - 2 * a)


def qq_positions(y: np.ndarray) -> np.ndarray:
    """``qqnorm(y)$x``: the normal quantile of each value's rank (NaN kept in place)."""
    x = np.full(len(y), np.nan)
    ok = ~np.isnan(y)
    yy = y[ok]
    ranks = np.argsort(np.argsort(yy, kind="stable"), kind="stable")
    from scipy.special import ndtri  # R's qnorm; imported when a plot is drawn

    x[ok] = ndtri(ppoints(len(yy)))[ranks]
    return x


def qq_line(y: np.ndarray) -> tuple:
    """``qqline(y)``: (intercept, slope) of the line through the quartiles (type 7) of y and
    of the standard normal."""
    from scipy.special import ndtri

    yq = np.percentile(y[~np.isnan(y)], [25, 75])
    xq = ndtri(np.array([0.25, 0.75]))
    slope = (yq[1] - yq[0]) / (xq[1] - xq[0])
    return yq[0] - slope * xq[0], slope


def smooth(x: np.ndarray, y: np.ndarray, iter: int) -> Lowess:  # noqa: A002
    """``panel.smooth``'s line: ``lowess(x[ok], y[ok], f = 2/3, iter)`` on the finite pairs."""
    ok = np.isfinite(x) & np.isfinite(y)
    return lowess(x[ok], y[ok], f=2 / 3, iter=iter)
