"""glm stage "influence": R's ``influence.glm`` / ``lm.influence`` on the last weighted
least-squares step of the IRLS, and ``hatvalues``, ``rstandard.glm``, ``rstudent.glm``,
``cooks.distance.glm``.

Rows with zero prior weight are left out (as lm.influence); with ``na_action="exclude"`` the
rows dropped for missing values are padded (NaN, and hat 0: "omitted cases have 0 leverage").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np
import pandas as pd

from ... import _core
from .results import GlmResults

__all__ = ["GlmInfluence", "glm_influence", "hat_values", "rows_quadform", "solve_lower",
           "rstandard_values", "rstudent_values", "cooks_values", "influence_series"]


@dataclass
class GlmInfluence:
    """influence.glm's vectors over the rows of the fit: ``hat`` (leverages), ``dev_res`` and
    ``pear_res`` (deviance and Pearson residuals), ``sigma`` (leave-one-out sigma; NaN at rows
    with zero prior weight)."""

    hat: np.ndarray
    dev_res: np.ndarray
    pear_res: np.ndarray
    sigma: np.ndarray


def solve_lower(L: np.ndarray, B: np.ndarray) -> np.ndarray:
    """L^{-1} B for a lower-triangular L (an empty result for a 0 x 0 L)."""
    from scipy.linalg import solve_triangular
    if L.shape[0] == 0:
        return np.zeros((0,) + B.shape[1:])
    return solve_triangular(L, B, lower=True)


def rows_quadform(fit: GlmResults, w: np.ndarray) -> Optional[np.ndarray]:
    """w_i x_i' (R'R)^-1 x_i over the rows of the design when the fit went by the rows of a
    mostly-zero design (well conditioned, nothing aliased); None otherwise."""
    c = fit.core
    p = fit.rank
    if not (c.gram_steps > 0 and p == len(fit.names)
            and np.array_equal(c.pivot[:p], np.arange(p))):
        return None
    rows = fit.design.design_rows()
    if rows is None:
        return None
    M = fit.cov_unscaled()
    return np.asarray(_core.rows_hat(rows, M, np.ascontiguousarray(w, float)), dtype=float)


def hat_values(fit: GlmResults) -> np.ndarray:
    """Leverages h_i = w_i x_i' (R'R)^-1 x_i of the last weighted QR (W the working weights;
    0 at rows not in the last step), set to 1 within 10 eps of 1 (lm.influence)."""
    c = fit.core
    h = rows_quadform(fit, c.working_weights)
    if h is None:
        p = fit.rank
        piv = c.pivot[:p]
        h = np.zeros(len(c.y))
        g = c.good
        X = fit.design.model_matrix_array()
        Xw = X[g][:, piv] * np.sqrt(c.working_weights[g])[:, None]
        Q = solve_lower(np.triu(c.R[:p, :p]).T, Xw.T).T
        h[g] = np.sum(Q ** 2, axis=1)
    h[h >= 1 - 10 * np.finfo(float).eps] = 1.0
    return h


def glm_influence(fit: GlmResults) -> GlmInfluence:
    """influence.glm: leverages, residuals, and the leave-one-out sigma
    sqrt((sum e^2 - e_i^2 / (1 - h_i)) / (n - rank - 1)) over the rows with prior weight > 0
    (sqrt(sum e^2 / (n - rank - 1)) where h_i = 1)."""
    h = hat_values(fit)
    keep = fit.core.prior_weights != 0
    dres = fit.residual_values("deviance")
    pres = fit.residual_values("pearson")
    e = dres[keep]
    hk = h[keep]
    denom = len(e) - fit.rank - 1
    s2 = np.sum(e ** 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        sig = np.where(hk < 1, np.sqrt((s2 - e ** 2 / (1 - hk)) / denom), np.sqrt(s2 / denom))
    sigma = np.full(len(h), np.nan)
    sigma[keep] = sig
    return GlmInfluence(hat=h, dev_res=dres, pear_res=pres, sigma=sigma)


def rstandard_values(inf: GlmInfluence, dispersion: float,
                     type: str = "deviance") -> np.ndarray:  # noqa: A002 - R's argument
    """rstandard.glm: r / sqrt(dispersion (1 - h)) with deviance (default) or Pearson
    residuals; infinite values are NaN."""
    r = inf.pear_res if type == "pearson" else inf.dev_res
    with np.errstate(divide="ignore", invalid="ignore"):
        out = r / np.sqrt(dispersion * (1 - inf.hat))
    out[np.isinf(out)] = np.nan
    return out


def rstudent_values(inf: GlmInfluence, scaled: bool) -> np.ndarray:
    """rstudent.glm: sign(r_D) sqrt(r_D^2 + h r_P^2 / (1 - h)), divided by the leave-one-out
    sigma when ``scaled`` (families other than binomial and poisson)."""
    rd, rp, h = inf.dev_res, inf.pear_res, inf.hat
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.sign(rd) * np.sqrt(rd ** 2 + (h * rp ** 2) / (1 - h))
    r[np.isinf(r)] = np.nan
    return r / inf.sigma if scaled else r


def cooks_values(inf: GlmInfluence, dispersion: float, rank: int) -> np.ndarray:
    """cooks.distance.glm: (r_P / (1 - h))^2 h / (dispersion rank)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return (inf.pear_res / (1 - inf.hat)) ** 2 * inf.hat / (dispersion * rank)


def influence_series(fit: GlmResults, values: np.ndarray, pad: float = np.nan) -> pd.Series:
    """lm.influence's rows of a per-row influence measure: those with non-zero prior weight,
    on the data's index labels; with ``na_action="exclude"`` also the rows dropped for missing
    values, holding ``pad``."""
    labels = fit.row_labels
    s = labels.naresid(np.asarray(values, dtype=float))
    if labels.pad_rows is not None and not np.isnan(pad):
        s = s.fillna(pad)
    keep = fit.core.prior_weights != 0
    if not keep.all():
        s = s[labels.naresid(keep.astype(float)).to_numpy() != 0]
    return s
