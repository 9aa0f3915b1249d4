"""sandwich's building blocks for lm and glm fits: the estimating functions (``estfun``), the
bread, the meat and the sandwich itself (sandwich 3.0: R/estfun.R, R/bread.R, R/meat.R,
R/sandwich.R).

For a fit with n rows, k non-aliased coefficients (aliased columns are dropped, as sandwich
drops them) and model matrix X (n × k):

* lm: ψᵢ = wᵢ eᵢ xᵢ (prior weights w, response residuals e); bread = (X'WX)⁻¹ · N with N the
  rows of non-zero weight (``summary.lm``'s ``cov.unscaled · sum(df[1:2])``).
* glm: ψᵢ = Wᵢ rᵢ xᵢ / φ (working weights W, working residuals r); bread = (X'WX)⁻¹ · N · φ,
  where φ = 1 for the binomial, Poisson and negative binomial families and
  φ = Σ (W r)² / Σ W otherwise (sandwich's dispersion, not summary.glm's).
* meat = Ψ'Ψ / n, sandwich = B M B / n with n the rows of Ψ (every row of the fit).

:class:`ScoreParts` gathers these arrays once per fit; vcovHC, vcovCL and vcovHAC read it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

import numpy as np
import pandas as pd

from ..errors import FitError
from ..models.glm import GLM
from ..models.glm.influence import hat_values
from ..models.lm import LM

__all__ = ["ScoreParts", "score_parts", "estfun", "bread", "meat", "sandwich", "matrix_frame",
           "FIXED_DISPERSION_FAMILIES"]

#: families whose dispersion sandwich fixes at 1 (``substr(family, 1, 17)``)
FIXED_DISPERSION_FAMILIES = ("poisson", "binomial", "Negative Binomial")

EPS = np.finfo(float).eps


@dataclass
class ScoreParts:
    """What sandwich reads from a fit.

    ``res`` (n,) the per-row factor of the estimating functions (ψᵢ = resᵢ xᵢ); ``bread``
    (k × k); ``names`` the k non-aliased coefficient names and ``keep`` the mask of those
    columns; ``is_lm`` (R class "lm", not "glm": vcovCL's default type); ``hat_weights`` the
    weights of the hat matrix (None: unweighted); ``df_residual``; ``design`` the fit's design.
    ``X`` (n × k, aliased columns dropped) and ``hat`` (the leverages) are computed on first
    use (a large fit may not keep its dense model matrix)."""

    res: np.ndarray
    bread: np.ndarray
    names: list
    keep: np.ndarray
    is_lm: bool
    hat_weights: Optional[np.ndarray]
    df_residual: int
    design: Any = field(repr=False)
    fit: Any = field(repr=False, default=None)
    _X: Optional[np.ndarray] = field(repr=False, default=None)
    _hat: Optional[np.ndarray] = field(repr=False, default=None)
    _scores: Optional[np.ndarray] = field(repr=False, default=None)

    @property
    def n(self) -> int:
        return len(self.res)

    @property
    def k(self) -> int:
        return len(self.names)

    @property
    def X(self) -> np.ndarray:  # noqa: N802 - the model matrix
        if self._X is None:
            d = self.design
            # a fit that did not keep its dense matrix: built for this computation only, not
            # cached on the design (the fit stays as small as it was)
            X = d.X if d.X is not None else d.build_model_matrix()
            self._X = X if self.keep.all() else X[:, self.keep]
        return self._X

    def scores(self) -> np.ndarray:
        """Ψ = res · X (n × k), sandwich's ``estfun``; computed once (read-only)."""
        if self._scores is None:
            self._scores = self.res[:, None] * self.X
            self._scores.setflags(write=False)
        return self._scores

    def hat(self) -> np.ndarray:
        """The fit's leverages (R's ``hatvalues``), one per row of X."""
        if self._hat is None:
            self._hat = fit_hatvalues(self.fit, self.n)
        return self._hat

    def hat_values(self) -> np.ndarray:
        """R's ``hatvalues`` as ``meatHC`` reads them: :meth:`hat`, or with zero weights only
        the rows of non-zero weight (:func:`used_hatvalues`)."""
        return used_hatvalues(self.fit) if has_zero_weights(self.fit) else self.hat()


def check_supported(fit: Any) -> None:
    """sandwich's methods here cover single-response lm and glm fits."""
    if isinstance(fit, LM):
        if fit.is_mlm:
            raise FitError("sandwich covariances of multiple-response ('mlm') fits are not "
                           "supported")
        return
    if isinstance(fit, GLM):
        return
    raise FitError(f"sandwich covariances are available for lm and glm fits, not for an "
                   f"object of class {type(fit).__name__!r}")


def score_parts(fit: Any) -> ScoreParts:
    """The arrays sandwich reads from an lm or glm fit."""
    check_supported(fit)
    return lm_parts(fit) if isinstance(fit, LM) else glm_parts(fit)


def lm_parts(fit: LM) -> ScoreParts:
    """ψᵢ = wᵢ eᵢ xᵢ; bread = (R'R)⁻¹ · N (sandwich's ``estfun.lm``, ``bread.lm``)."""
    a = fit.arrays
    keep = ~np.isnan(np.asarray(a.coefficients, dtype=float))
    res = np.asarray(a.residuals, dtype=float)
    if a.weights is not None:
        res = res * a.weights
    names = [nm for nm, k in zip(fit.coef_names, keep) if k]
    n_used = a.rank + a.df_residual
    B = a.qr.cov_unscaled() * float(n_used)
    return ScoreParts(res, B, names, keep, True, a.weights, a.df_residual, fit.design, fit)


def glm_dispersion(fit: GLM) -> float:
    """sandwich's φ: 1 for binomial, Poisson and negative binomial; else Σ (W r)² / Σ W."""
    if fit.family.family[:17] in FIXED_DISPERSION_FAMILIES:
        return 1.0
    W = fit.core.working_weights
    wres = fit.core.working_residuals * W
    return float(np.nansum(wres ** 2) / np.nansum(W))


def glm_parts(fit: GLM) -> ScoreParts:
    """ψᵢ = Wᵢ rᵢ xᵢ / φ; bread = (R'R)⁻¹ · N · φ (sandwich's ``estfun.glm``, ``bread.glm``)."""
    c = fit.core
    keep = ~np.isnan(np.asarray(c.coefficients, dtype=float))
    phi = glm_dispersion(fit)
    W = np.asarray(c.working_weights, dtype=float)
    res = np.asarray(c.working_residuals, dtype=float) * W / phi
    names = [nm for nm, k in zip(fit.names, keep) if k]
    n_used = fit.rank + fit.df_residual()
    B = fit.cov_unscaled() * float(n_used) * phi
    return ScoreParts(res, B, names, keep, False, W, fit.df_residual(), fit.design, fit)


def has_zero_weights(fit: Any) -> bool:
    """Whether some (prior) weight of the fit is zero."""
    if isinstance(fit, LM):
        return not fit.arrays.used.all()
    return not (np.asarray(fit.core.prior_weights) != 0).all()


def used_hatvalues(fit: Any) -> np.ndarray:
    """R's ``hatvalues(fit)``: the leverages of the rows with a non-zero (prior) weight only,
    as ``lm.influence`` drops the others (fewer values than rows of the model matrix when
    weights are zero)."""
    if isinstance(fit, LM):
        a = fit.arrays
        return np.asarray(a.qr.hat(a.weights), dtype=float)
    return hat_values(fit)[np.asarray(fit.core.prior_weights) != 0]


def fit_hatvalues(fit: Any, n: int) -> np.ndarray:
    """R's ``hatvalues`` of the fit as sandwich uses them (one per row of the model matrix)."""
    if isinstance(fit, LM):
        a = fit.arrays
        if not a.used.all():
            raise FitError("hat values of an lm with zero weights do not line up with its "
                           "rows (R's lm.influence drops those rows); use HC0 or HC1")
        return np.asarray(a.qr.hat(a.weights), dtype=float)
    if not (fit.core.prior_weights != 0).all():
        raise FitError("hat values of a glm with zero prior weights do not line up with its "
                       "rows (R's lm.influence drops those rows); use HC0 or HC1")
    h = hat_values(fit)
    if len(h) != n:
        raise FitError("hat values do not match the rows of the model matrix")
    return h


def matrix_frame(M: np.ndarray, names: list) -> pd.DataFrame:
    """A k × k matrix as a DataFrame named by term on both margins."""
    return pd.DataFrame(M, index=pd.Index(list(names)), columns=pd.Index(list(names)))


def residual_factor(parts: ScoreParts) -> np.ndarray:
    """sandwich's ``rowMeans(estfun(x) / X, na.rm = TRUE)`` with rows whose estimating
    functions are all below machine epsilon in absolute value set to 0 (meatHC, meatCL)."""
    res = parts.res.copy()
    all0 = np.all(np.abs(parts.scores()) < EPS, axis=1)
    res[all0] = 0.0
    return res


def estfun(fit: Any) -> pd.DataFrame:
    """sandwich's ``estfun``: the estimating functions ψᵢ (one row per row of the fit, one
    column per non-aliased coefficient). Rows on the data's index labels; with
    ``na_action="exclude"`` the dropped rows are NaN (R's ``naresid``)."""
    p = score_parts(fit)
    return fit.row_labels.naresid(p.scores().copy(), columns=p.names)


def bread(fit: Any) -> pd.DataFrame:
    """sandwich's ``bread``: (X'WX)⁻¹ · N (lm) or (X'WX)⁻¹ · N · φ (glm, sandwich's φ)."""
    p = score_parts(fit)
    return matrix_frame(p.bread, p.names)


def meat_matrix(parts: ScoreParts, adjust: bool = False) -> np.ndarray:
    """Ψ'Ψ / n, times n / (n − k) with ``adjust``."""
    psi = parts.scores()
    M = psi.T @ psi / parts.n
    if adjust:
        M = M * (parts.n / (parts.n - parts.k))
    return M


def meat(fit: Any, adjust: bool = False) -> pd.DataFrame:
    """sandwich's ``meat``: Ψ'Ψ / n (times n / (n − k) with ``adjust=True``)."""
    p = score_parts(fit)
    return matrix_frame(meat_matrix(p, adjust), p.names)


def sandwich_matrix(parts: ScoreParts, M: np.ndarray) -> np.ndarray:
    """B M B / n (sandwich's ``sandwich``)."""
    B = parts.bread
    return (B @ M @ B) / parts.n


def sandwich(fit: Any, bread_: Optional[Any] = None, meat_: Optional[Any] = None,
             adjust: bool = False) -> pd.DataFrame:
    """sandwich's ``sandwich(x, bread., meat.)``: B M B / n with B = :func:`bread` and
    M = :func:`meat` unless given (matrices or DataFrames, k × k). The default is the
    HC0 covariance."""
    p = score_parts(fit)
    B = p.bread if bread_ is None else np.asarray(bread_, dtype=float)
    M = meat_matrix(p, adjust) if meat_ is None else np.asarray(meat_, dtype=float)
    return matrix_frame((B @ M @ B) / p.n, p.names)
