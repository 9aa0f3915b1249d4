"""lm's numerical core: R's ``lm.wfit`` by the compiled kernel, and the QR decomposition it
leaves (R's ``fit$qr``), from which the covariance and the hat values are read.

The kernel ``_core.lm_wfit`` is a Householder QR with LINPACK dqrdc2's limited pivoting on
sqrt(w) X over the N rows with non-zero weight. Large tall fits may come from the design's rows
without the dense model matrix (``_core.lm_wfit_rows``), and large tall factors may be
deferred: :class:`WeightedQR` then computes the (N, p) factor and the full effects on first use.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

import numpy as np

from ... import _core
from ...errors import DataError

EPS = np.finfo(float).eps

__all__ = ["lm_wfit", "lm_wfit_rows", "rows_path_applies", "empty_fit", "fit_arrays",
           "cov_unscaled_pivoted", "hat_diagonal", "hat_rounded", "WeightedQR", "LmArrays"]


def lm_wfit(X: np.ndarray, Y: np.ndarray, weights: Optional[np.ndarray],
            offset: Optional[np.ndarray], tol: float, defer: bool = False) -> dict:
    """Weighted least squares exactly as R's ``lm.wfit`` (``lm.fit`` without weights), computed
    by ``_core.lm_wfit``; ``X`` is overwritten by its QR factorisation.

    Returns a dict with ``coefficients`` (p,) or (p, k) in the original column order (NaN for
    aliased columns), ``qr`` (N, p) compact QR of sqrt(w) X with pivoted columns, ``qraux``,
    ``pivot`` (0-based), ``rank``, ``effects`` (N,) or (N, k) = Q' sqrt(w) (y − offset),
    ``residuals`` / ``fitted_values`` for all n rows (fitted includes the offset),
    ``df_residual`` = N − r, ``n_used`` = N.

    ``defer=True``: when the core reconstructs the factor of a large tall design, it does not
    write it; ``X`` then keeps sqrt(w) X (and must not be changed), ``qr`` is None, ``qr_top``
    holds the first p rows of the factor, ``effects`` only its first p entries, and
    ``deferred`` (``_core.DeferredQR``) produces the factor and the full effects on request.
    """
    one = Y.ndim == 1
    Ym = np.asfortranarray(Y.reshape(len(Y), -1), dtype=np.float64)
    # X is factorised in place when it is a Fortran float64 array (the caller hands over the
    # design's matrix), so a fit needs no second copy of the design.
    try:
        out = dict(_core.lm_wfit(np.asfortranarray(X, dtype=np.float64), Ym, weights, offset,
                                 tol, overwrite_x=True, defer_factor=defer))
    except ValueError as exc:  # lm.wfit's argument checks, R's messages ("NA/NaN/Inf in 'x'")
        raise DataError(str(exc)) from None
    return fit_arrays(out, one)


def fit_arrays(out: dict, one: bool) -> dict:
    """The core's lm result with NumPy types; one response: vectors instead of (n, 1)."""
    out["pivot"] = np.asarray(out["pivot"], dtype=np.int64)
    if out["qr"] is not None:
        out["qr"] = np.asarray(out["qr"], dtype=np.float64)
    out["rank"] = int(out["rank"])
    out["df_residual"] = int(out["df_residual"])
    for key in ("coefficients", "effects", "residuals", "fitted_values"):
        a = np.asarray(out[key], dtype=np.float64)
        out[key] = a[:, 0] if (one and a.ndim == 2) else a
    return out


def rows_path_applies(design: Any, y: np.ndarray, w: Optional[np.ndarray], n: int,
                      p: int) -> bool:
    """A large tall fit of one finite response with positive (or no) weights may go from the
    design's rows without building the dense model matrix (:func:`lm_wfit_rows`)."""
    return (y.ndim == 1 and n * p >= 200_000 and bool(np.isfinite(y).all())
            and (w is None or bool((w > 0).all())))


def lm_wfit_rows(design: Any, y: np.ndarray, w: Optional[np.ndarray],
                 tol: float) -> Optional[dict]:
    """:func:`lm_wfit` (deferred) on the model matrix kept by rows (mostly-zero designs): X'X
    is accumulated over the non-zeros of each row, straight from the model's terms, and the
    dense matrix is built only if the QR factor or the hat values are asked for. None when the
    design is not of that kind or the reconstruction path does not apply."""
    rows = design.design_rows()
    if rows is None:
        return None
    sw = None if w is None else np.sqrt(w)

    def build() -> np.ndarray:
        X = design.build_model_matrix()
        if sw is not None:
            X *= sw[:, None]
        return X

    try:
        out = _core.lm_wfit_rows(rows, y, w, design.offset, tol, build)
    except ValueError as exc:  # lm.wfit's argument checks, R's messages
        raise DataError(str(exc)) from None
    if out is None:
        return None
    out = fit_arrays(dict(out), one=True)
    out["from_rows"] = True
    return out


def empty_fit(y: np.ndarray, w: Optional[np.ndarray], offset: Optional[np.ndarray]) -> dict:
    """R's ``lm`` for an empty model (``y ~ 0``): no coefficients, fitted = offset."""
    n = y.shape[0]
    off = np.zeros(n) if offset is None else offset
    fitted = np.broadcast_to(off[:, None] if y.ndim == 2 else off, y.shape).copy()
    used = n if w is None else int((w != 0).sum())
    sw = np.ones(n) if w is None else np.sqrt(w)
    res = y - fitted
    eff = (res * (sw[:, None] if y.ndim == 2 else sw))
    eff = eff[(np.ones(n, bool) if w is None else w != 0)]
    return {"coefficients": np.zeros((0,) + y.shape[1:]), "qr": np.zeros((used, 0)),
            "qraux": np.zeros(0), "pivot": np.zeros(0, dtype=np.int64), "rank": 0,
            "effects": eff, "residuals": res, "fitted_values": fitted, "df_residual": used}


def cov_unscaled_pivoted(qr: np.ndarray, rank: int) -> np.ndarray:
    """(R₁₁'R₁₁)⁻¹ in pivoted order (R's ``chol2inv(qr$qr[p1, p1])``)."""
    if rank == 0:
        return np.zeros((0, 0))
    return np.asarray(_core.qr_cov_unscaled(qr, rank), dtype=np.float64)


def hat_rounded(h: Any) -> np.ndarray:
    """Hat values with those ≥ 1 − 10ε set to exactly 1, as R's C code does."""
    h = np.asarray(h, dtype=np.float64)
    h[h >= 1.0 - 10 * EPS] = 1.0
    return h


def hat_diagonal(qr: np.ndarray, qraux: np.ndarray, rank: int) -> np.ndarray:
    """h_i = ‖row i of Q₁‖², Q₁ the first r columns of Q (R's ``lm.influence``), values
    ≥ 1 − 10ε set to exactly 1."""
    if rank == 0:
        return np.zeros(qr.shape[0])
    return hat_rounded(_core.qr_hat(qr, qraux, rank))


class WeightedQR:
    """R's ``fit$qr``: the pivoted QR of sqrt(w) X on the N rows with non-zero weight, and the
    effects Q' sqrt(w)(y − offset).

    ``pivot`` (0-based), ``rank``, ``qraux``; ``top`` the first p rows of the compact factor
    (R₁₁ and the reflectors' tops, always at hand); ``factor`` the whole (N, p) compact factor,
    computed on first use when the core ``deferred`` it (``is_deferred``); ``from_rows``: the
    fit went by the design's rows (``design_rows`` gives them again).
    """

    def __init__(self, fit: dict, one_response: bool,
                 design_rows: Optional[Callable[[], Any]] = None):
        self.pivot: np.ndarray = fit["pivot"]
        self.rank: int = fit["rank"]
        self.qraux = np.asarray(fit["qraux"], dtype=np.float64)
        self.deferred = fit.get("deferred")
        self.from_rows = bool(fit.get("from_rows", False))
        self._factor = fit["qr"]
        top = fit.get("qr_top")
        self.top = (np.asarray(top, dtype=np.float64) if top is not None
                    else self._factor[: self._factor.shape[1]])
        self.n_rows = int(fit["n_used"]) if "n_used" in fit else int(self._factor.shape[0])
        self._effects = fit["effects"]  # the first p rows only while the factor is deferred
        self._one = one_response
        self._design_rows = design_rows

    @property
    def is_deferred(self) -> bool:
        """Whether the (N, p) factor has not been computed yet."""
        return self._factor is None and not self.deferred.materialised

    @property
    def factor(self) -> np.ndarray:
        """R's ``qr$qr`` (N, p), pivoted columns; bit-identical to the factor written at fit
        time when it was deferred (one pass over the design, which it replaces in memory)."""
        if self._factor is None:
            self.materialise()
        return self._factor

    @property
    def effects(self) -> np.ndarray:
        """All N effects Q' sqrt(w)(y − offset) (computed with the factor when deferred)."""
        if self._factor is None:
            self.materialise()
        return self._effects

    def effects_head(self, m: int) -> np.ndarray:
        """The first m ≤ p effects, without materialising a deferred factor."""
        return self._effects[:m]

    def materialise(self) -> None:
        """Compute the deferred factor and the full effects."""
        qr = np.asarray(self.deferred.qr(), dtype=np.float64)
        eff = np.asarray(self.deferred.effects(), dtype=np.float64)
        self._effects = eff[:, 0] if (self._one and eff.ndim == 2) else eff
        self._factor = qr

    def cov_unscaled(self) -> np.ndarray:
        """(R₁₁'R₁₁)⁻¹ in pivoted order."""
        return cov_unscaled_pivoted(self.top, self.rank)

    def fit_rows(self) -> Any:
        """The design by rows when the fit went by them with nothing aliased (then X b and
        x_i'(R'R)⁻¹x_i come from each row's non-zeros), else None."""
        p = self.rank
        if not (self.from_rows and p == self.top.shape[1]
                and np.array_equal(self.pivot[:p], np.arange(p))):
            return None
        return self._design_rows()

    def hat(self, weights: Optional[np.ndarray]) -> np.ndarray:
        """Diagonal of the hat matrix of sqrt(w) X on the N used rows (R's ``lm.influence``
        ``$hat``, values ≥ 1 − 10ε set to 1). A fit from the design's rows takes
        h_i = w_i x_i'(R'R)⁻¹x_i over each row's non-zeros; another deferred factor is not
        materialised: h_i = ‖x_i' R⁻¹‖² (Q₁ = X R⁻¹) from the design."""
        if self.rank == 0:
            return np.zeros(self.n_rows)
        rows = self.fit_rows()
        if rows is not None:
            # every row is used on this path (no zero weights)
            w = np.ones(self.n_rows) if weights is None else weights
            return hat_rounded(_core.rows_hat(rows, self.cov_unscaled(),
                                              np.ascontiguousarray(w, float)))
        if self.deferred is None:
            return hat_diagonal(self.factor, self.qraux, self.rank)
        return hat_rounded(self.deferred.hat())

    def __getstate__(self) -> dict:
        # the deferred factor is a handle to compiled state: pickle the materialised arrays
        if self._factor is None:
            self.materialise()
        state = dict(self.__dict__)
        state["deferred"] = None
        return state


class LmArrays:
    """The arrays of one lm fit (R's ``lm`` object components) over its n rows.

    ``coefficients`` (p,) or (p, k) in the model matrix's column order (NaN where aliased);
    ``residuals`` e = y − ŷ and ``fitted_values`` ŷ (offset included), (n,) or (n, k);
    ``weights`` the prior weights (None when unweighted); ``offset`` (None without one);
    ``df_residual`` N − r; ``qr`` the :class:`WeightedQR`; ``used`` the rows with non-zero
    weight (N of them).
    """

    def __init__(self, fit: dict, weights: Optional[np.ndarray], offset: Optional[np.ndarray],
                 qr: WeightedQR):
        self.coefficients: np.ndarray = fit["coefficients"]
        self.residuals: np.ndarray = fit["residuals"]
        self.fitted_values: np.ndarray = fit["fitted_values"]
        self.df_residual: int = fit["df_residual"]
        self.weights = weights
        self.offset = offset
        self.qr = qr
        self.used = (np.ones(self.residuals.shape[0], dtype=bool) if weights is None
                     else weights != 0)

    @property
    def rank(self) -> int:
        return self.qr.rank

    @property
    def pivot(self) -> np.ndarray:
        return self.qr.pivot

    def weighted(self, a: np.ndarray) -> np.ndarray:
        """sqrt(w)·a row by row (a itself when unweighted)."""
        if self.weights is None:
            return a
        sw = np.sqrt(self.weights)
        return a * (sw[:, None] if a.ndim == 2 else sw)

    def rss(self) -> Any:
        """RSS = Σ w e² over the used rows (per response for several)."""
        e = self.residuals[self.used]
        if self.weights is None:
            return (e * e).sum(axis=0)
        w = self.weights[self.used]
        return ((w[:, None] if e.ndim == 2 else w) * e * e).sum(axis=0)

    def residual_sd(self) -> float:
        """sqrt(RSS / rdf) (NaN for rdf = 0), R's ``sqrt(deviance(fit) / df.residual(fit))``."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return float(np.sqrt(self.rss() / self.df_residual)) if self.df_residual \
                else float("nan")
