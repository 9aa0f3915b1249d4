"""R's ``lm.influence`` and the measures built on it: hat values, leave-one-out σ, standardised
and studentised residuals, Cook's distances and ``dfbeta``.

On the N rows with non-zero weight: e the weighted residuals sqrt(w)·(y − ŷ) (those below
100ε·median|e| set to 0, as R), h the hat values, r the rank, σ̂ = sqrt(RSS / rdf).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence, Union

import numpy as np
import pandas as pd

from ... import _core
from ..contract import RowLabels
from .wfit import EPS, LmArrays

__all__ = ["Influence", "lm_influence", "rstandard", "rstudent", "cooks_distance", "dfbeta",
           "influence_rows", "naresid_filled"]


@dataclass
class Influence:
    """R's ``lm.influence(fit, do.coef = FALSE)`` on the rows with non-zero weight."""

    hat: np.ndarray  # (N,) hat values, ≥ 1 − 10ε set to 1
    sigma: np.ndarray  # (N,) leave-one-out residual standard errors
    wt_res: np.ndarray  # (N,) weighted residuals, tiny ones zeroed


def lm_influence(a: LmArrays) -> Influence:
    """σ₍ᵢ₎ = sqrt((Σ e² − eᵢ²/(1 − hᵢ)) / (N − r − 1)) (Σ e² where hᵢ = 1), R's C_influence."""
    e = a.weighted(a.residuals)[a.used]
    n, p = len(e), a.rank
    if p == 0:
        return Influence(np.zeros(n), np.full(n, a.residual_sd()), e)
    e = e.copy()
    med = np.median(np.abs(e)) if n else 0.0
    e[np.abs(e) < 100 * EPS * med] = 0.0
    hat = a.qr.hat(a.weights)
    denom = n - p - 1
    tot = float(np.sum(e * e))
    with np.errstate(divide="ignore", invalid="ignore"):
        inner = np.where(hat < 1.0, tot - e * e / np.where(hat < 1.0, 1.0 - hat, 1.0), tot)
        sigma = np.sqrt(inner / denom) if denom != 0 else np.sqrt(inner * np.nan)
    return Influence(hat, sigma, e)


def _inf_to_nan(r: np.ndarray) -> np.ndarray:
    r[np.isinf(r)] = np.nan
    return r


def rstandard(infl: Influence, sd: float) -> np.ndarray:
    """eᵢ/(σ̂ sqrt(1 − hᵢ)); infinite values become NaN (R's ``rstandard.lm``)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return _inf_to_nan(infl.wt_res / (np.sqrt(1 - infl.hat) * sd))


def rstudent(infl: Influence) -> np.ndarray:
    """eᵢ/(σ₍ᵢ₎ sqrt(1 − hᵢ)); infinite values become NaN (R's ``rstudent.lm``)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return _inf_to_nan(infl.wt_res / (infl.sigma * np.sqrt(1 - infl.hat)))


def cooks_distance(infl: Influence, weighted_resid: np.ndarray, sd: float,
                   rank: int) -> np.ndarray:
    """(eᵢ/(σ̂(1 − hᵢ)))²·hᵢ/r with the raw weighted residuals (R's ``cooks.distance.lm``);
    infinite values become NaN."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return _inf_to_nan((weighted_resid / ((1 - infl.hat) * sd)) ** 2 * infl.hat / rank)


def dfbeta(infl: Influence, a: LmArrays, coef_names: Sequence[str]) -> tuple[np.ndarray, list]:
    """The change in each non-aliased coefficient when case i is left out (R's ``dfbeta``):
    rows of (R⁻¹Q₁')' scaled by eᵢ/(1 − hᵢ) (0 where hᵢ = 1). Returns the (N, r) values with
    columns in the model matrix's order, and their names."""
    from scipy.linalg import solve_triangular
    p = a.rank
    n = len(infl.hat)
    eye = np.zeros((n, p))
    eye[np.arange(p), np.arange(p)] = 1.0
    Q1 = np.asarray(_core.qr_qy(a.qr.factor, a.qr.qraux, p, eye))
    inv_rqt = solve_triangular(a.qr.top[:p, :p], Q1.T).T
    hat = infl.hat
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(hat == 1, 0.0, infl.wt_res / (1 - hat))
    cf = inv_rqt * scale[:, None]
    order = np.argsort(a.pivot[:p])
    return cf[:, order], [coef_names[a.pivot[i]] for i in order]


def influence_rows(rows: RowLabels, used: np.ndarray) -> RowLabels:
    """The rows of the influence measures: those with non-zero weight. R pads them back under
    ``na.exclude`` only when every row has non-zero weight (otherwise its ``naresid`` would put
    values at the wrong rows; they are then left unpadded)."""
    if used.all():
        return rows
    return RowLabels(rows.index, rows.used[used])


def naresid_filled(rows: RowLabels, values: np.ndarray, fill: float = np.nan,
                   columns: Optional[Sequence[str]] = None) -> Union[pd.Series, pd.DataFrame]:
    """``rows.naresid(values)`` with ``fill`` at the padded rows (R's ``lm.influence`` puts 0
    hat values and coefficients, and σ̂ as σ₍ᵢ₎, at the rows excluded for NA)."""
    out = rows.naresid(values, columns=columns)
    if rows.pad_rows is not None and not np.isnan(fill):
        padded = rows.naresid(np.zeros(len(rows.used))).isna().to_numpy()
        if isinstance(out, pd.DataFrame):
            out.iloc[padded, :] = fill
        else:
            out.iloc[padded] = fill
    return out
