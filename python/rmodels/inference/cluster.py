"""Cluster-robust covariances: sandwich's ``vcovCL`` and ``meatCL`` (sandwich 3.0, R/vcovCL.R).

For clusterings c = 1..C (one-way: C = 1; multi-way: every intersection of the given
clusterings, in ``combn`` order, with sign (−1)^(size + 1)), each with G_c clusters:

    meat = Σ_c sign_c · adj_c · Σ_g (Σ_{i∈g} ψᵢ)(Σ_{i∈g} ψᵢ)' / n,

adj_c = G_c / (G_c − 1) with ``cadjust`` (1 otherwise; with ``multi0`` the last clustering —
multi-way: the full intersection, replaced by one cluster per row; one-way: the clustering
itself, as in R — gets adj = (n − k)/(n − 1) for HC1, else 1); HC1 multiplies
the whole meat by (n − 1)/(n − k). HC2/HC3 first replace each cluster's ψ by
(I − H_gg)^(−½) u_g · X_g resp. (I − H_gg)⁻¹ u_g · X_g (H_gg = X_g (X'WX)⁻¹ X_g' W_g, u the
residual factor of ψ = u x) and scale by sqrt((G − 1)/G). The per-cluster sums of ψ are
``np.bincount`` column by column over the cluster codes (one pass over the rows each).
"""

from __future__ import annotations

from itertools import combinations
from typing import Any, Optional

import numpy as np
import pandas as pd

from ..errors import DataError
from .design_sums import column_sums, design_cluster_sums
from .estfun import ScoreParts, matrix_frame, residual_factor, sandwich_matrix, score_parts
from .grouped import is_grouped, per_group

__all__ = ["vcovCL", "meatCL", "ClusterCodes", "cluster_codes", "cluster_sums", "matrix_power",
           "fix_negative_eigenvalues"]


class ClusterCodes:
    """One clustering: ``codes`` (n,) in 0..m−1, and ``g`` the number of clusters as sandwich
    counts them (a factor's levels, else the distinct values)."""

    def __init__(self, codes: np.ndarray, g: int) -> None:
        self.codes = np.asarray(codes, dtype=np.int64)
        self.g = int(g)

    @property
    def m(self) -> int:
        return int(self.codes.max()) + 1 if len(self.codes) else 0


def cluster_columns(fit: Any, cluster: Any, n: int) -> list:
    """The clustering variables of the fit's rows, as pandas Series (R's ``meatCL``: column
    names are read from the fit's data; a vector over all rows of the data is reduced to the
    rows in the fit)."""
    if is_column_names(fit, cluster, n):
        names = [cluster] if isinstance(cluster, str) else list(cluster)
        data = getattr(fit, "data", None)
        if data is None:
            raise DataError("cluster columns given by name need the fit's data")
        missing = [c for c in names if c not in data.columns]
        if missing:
            raise DataError(f"cluster column(s) not found in the data: {', '.join(missing)}")
        cols = [data[c] for c in names]
    elif isinstance(cluster, pd.DataFrame):
        cols = [cluster[c] for c in cluster.columns]
    else:
        arr = cluster if isinstance(cluster, pd.Series) else np.asarray(cluster)
        if getattr(arr, "ndim", 1) == 2:
            cols = [pd.Series(arr[:, j]) for j in range(arr.shape[1])]
        else:
            cols = [pd.Series(arr) if not isinstance(arr, pd.Series) else arr]
    return [rows_of_fit(fit, c, n) for c in cols]


def is_column_names(fit: Any, cluster: Any, n: int) -> bool:
    """A name, or a list of names (multi-way); a list of strings as long as the fit's rows
    that are not all column names of the data is a clustering vector."""
    if isinstance(cluster, str):
        return True
    if not (isinstance(cluster, (list, tuple)) and cluster
            and all(isinstance(c, str) for c in cluster)):
        return False
    data = getattr(fit, "data", None)
    columns = set() if data is None else set(data.columns)
    return len(cluster) != n or all(c in columns for c in cluster)


def rows_of_fit(fit: Any, col: pd.Series, n: int) -> pd.Series:
    """A clustering variable on the fit's rows (by position, as R)."""
    col = col.reset_index(drop=True)
    if len(col) != n:
        design = fit.design
        if len(col) != design.n_data:
            raise DataError("number of observations in 'cluster' and 'estfun()' do not match")
        col = col.iloc[np.asarray(design.kept)].reset_index(drop=True)
    return col


def check_no_missing(col: pd.Series) -> None:
    if col.isna().any():
        raise DataError("cannot handle NAs in 'cluster': either refit the model without the NA "
                        "observations in 'cluster' or impute the NAs")


def integer_codes(values: np.ndarray) -> Optional[ClusterCodes]:
    """Codes v − min(v) for whole numbers spanning fewer than 4n values (no hashing: the
    cluster sums only need distinct codes per cluster, empty codes add nothing); None
    otherwise."""
    if values.dtype.kind not in "iuf" or len(values) == 0:
        return None
    lo, hi = values.min(), values.max()
    if not (np.isfinite(lo) and np.isfinite(hi)) or float(hi) - float(lo) >= 4 * len(values):
        return None
    codes = (values - lo).astype(np.int64)
    if values.dtype.kind == "f" and not np.array_equal(codes + lo, values):
        return None
    return ClusterCodes(codes, int(np.count_nonzero(np.bincount(codes))))


def codes_of(col: pd.Series) -> ClusterCodes:
    """Cluster codes of one variable; g counts a factor's levels (unused ones too), as R, else
    the distinct values."""
    direct = integer_codes(col.to_numpy()) if isinstance(col.dtype, np.dtype) else None
    if direct is not None:  # finite whole numbers: nothing missing
        return direct
    check_no_missing(col)
    if isinstance(col.dtype, pd.CategoricalDtype):
        return ClusterCodes(np.asarray(col.cat.codes, dtype=np.int64), len(col.cat.categories))
    codes, uniq = pd.factorize(col)
    return ClusterCodes(codes, len(uniq))


def intersect(a: ClusterCodes, b: ClusterCodes) -> ClusterCodes:
    """The clusters of two clusterings crossed (R's ``paste(a, b, sep = "_")``)."""
    codes, uniq = pd.factorize(a.codes * b.m + b.codes)
    return ClusterCodes(codes, len(uniq))


def cluster_codes(fit: Any, cluster: Any, n: int, multi0: bool = False) -> tuple:
    """The clusterings meatCL sums over and their signs: one-way a single clustering; multi-way
    every intersection in ``combn`` order with sign (−1)^(size + 1) (with ``multi0`` the last,
    the full intersection, replaced by one cluster per row)."""
    if cluster is None:
        return [ClusterCodes(np.arange(n), n)], [1]
    base = [codes_of(c) for c in cluster_columns(fit, cluster, n)]
    p = len(base)
    if p == 1:
        return base, [1]
    out, signs = [], []
    for size in range(1, p + 1):
        for combo in combinations(range(p), size):
            cc = base[combo[0]]
            for j in combo[1:]:
                cc = intersect(cc, base[j])
            out.append(cc)
            signs.append((-1) ** (size + 1))
    if multi0:
        out[-1] = ClusterCodes(np.arange(n), n)
    return out, signs


def cluster_sums(psi: np.ndarray, codes: np.ndarray, m: int) -> np.ndarray:
    """Σ_{i∈g} ψᵢ for every cluster g (m × k), R's ``rowsum``."""
    return column_sums(np.ones(len(codes)), psi, codes, m)


def is_symmetric(M: np.ndarray) -> bool:
    """R's ``isSymmetric``: all.equal(M, t(M)) at tolerance 100 eps (mean relative
    difference)."""
    tol = 100 * np.finfo(float).eps
    diff = np.abs(M - M.T).mean()
    scale = np.abs(M).mean()
    if np.isfinite(scale) and scale > tol:
        diff = diff / scale
    return bool(diff <= tol)


def matrix_power(M: np.ndarray, p: float) -> np.ndarray:
    """sandwich's ``matrixpower``: V diag(λᵖ) V⁻¹ from the eigen decomposition (V' for a
    symmetric M), eigenvalues below eps^(1/1.3) set to 0."""
    if M.shape == (1, 1):
        return M ** p
    tol = np.finfo(float).eps ** (1 / 1.3)
    if is_symmetric(M):
        lam, V = np.linalg.eigh(M)
        lam = np.where(lam < tol, 0.0, lam)
        with np.errstate(divide="ignore"):
            return V @ ((lam ** p)[:, None] * V.T)
    lam, V = np.linalg.eig(M)
    lam, V = lam.real, V.real
    lam = np.where(lam < tol, 0.0, lam)
    with np.errstate(divide="ignore"):
        return V @ ((lam ** p)[:, None] * np.linalg.inv(V))


def unscaled_inverse(X: np.ndarray, w: Optional[np.ndarray]) -> np.ndarray:
    """(X'WX)⁻¹ from the QR of sqrt(W) X (R's ``chol2inv(qr.R(qr(X * sqrt(w))))``)."""
    from scipy.linalg import solve_triangular
    Xs = X if w is None else X * np.sqrt(w)[:, None]
    R = np.linalg.qr(Xs, mode="r")
    Ri = solve_triangular(R, np.eye(R.shape[0]))
    return Ri @ Ri.T


def cluster_leverage_factor(Xg: np.ndarray, XX1: np.ndarray, wg: Optional[np.ndarray],
                            type: str) -> np.ndarray:  # noqa: A002
    """(I − H_gg)^(−½) (HC2) or (I − H_gg)⁻¹ (HC3) with H_gg = X_g (X'WX)⁻¹ X_g' W_g.

    With weights, I − H_gg = W^(−½) S W^(½) for the symmetric S = I − W^(½) X_g (X'WX)⁻¹ X_g'
    W^(½), so its power is W^(−½) Sᵖ W^(½): the value sandwich's ``matrixpower`` computes from
    the non-symmetric eigen decomposition, without inverting a nearly singular eigenvector
    matrix (the eigenvalue 1 repeats in clusters larger than k)."""
    eye = np.eye(Xg.shape[0])
    if wg is None:
        A = eye - Xg @ XX1 @ Xg.T
        return matrix_power(A, -0.5) if type == "HC2" else np.linalg.solve(A, eye)
    if type == "HC3":
        return np.linalg.solve(eye - (Xg @ XX1 @ Xg.T) * wg[None, :], eye)
    sw = np.sqrt(wg)
    Xs = Xg * sw[:, None]
    S = eye - Xs @ XX1 @ Xs.T
    return (matrix_power(S, -0.5) / sw[:, None]) * sw[None, :]


def leverage_adjusted_scores(parts: ScoreParts, cc: ClusterCodes, type: str) -> np.ndarray:  # noqa: A002
    """HC2/HC3's ψ within each cluster: (I − H_gg)^(−½) u_g · X_g or (I − H_gg)⁻¹ u_g · X_g
    (for one cluster per row: ψ / sqrt(1 − h) or ψ / (1 − h))."""
    psi = parts.scores()
    if cc.g == parts.n:
        h = parts.hat()
        return psi / np.sqrt(1 - h)[:, None] if type == "HC2" else psi / (1 - h)[:, None]
    psi = psi.copy()  # filled cluster by cluster below
    X, w = parts.X, parts.hat_weights
    XX1 = unscaled_inverse(X, w)
    u = residual_factor(parts)
    order = np.argsort(cc.codes, kind="stable")
    bounds = np.searchsorted(cc.codes[order], np.arange(cc.m + 1))
    for g in range(cc.m):
        ij = order[bounds[g]:bounds[g + 1]]
        Xg = X[ij]
        psi[ij] = (cluster_leverage_factor(Xg, XX1, None if w is None else w[ij], type)
                   @ u[ij])[:, None] * Xg
    return psi


def cluster_adjustment(cc: ClusterCodes, last_multi0: bool, type: str, n: int, k: int,  # noqa: A002
                       cadjust: bool) -> float:
    if last_multi0:
        return (n - k) / (n - 1) if type == "HC1" else 1.0
    return cc.g / (cc.g - 1) if cadjust else 1.0


def check_cluster_counts(clusterings: list, signs: list, multi0: bool) -> None:
    """One cluster in a clustering leaves G/(G − 1) undefined (R returns Inf/NaN silently)."""
    for i, cc in enumerate(clusterings):
        if cc.g < 2 and not (multi0 and i == len(clusterings) - 1 and len(signs) > 1):
            raise DataError("'cluster' has only one cluster: the cluster-robust covariance "
                            "needs at least two")


def meat_cl_matrix(fit: Any, parts: ScoreParts, cluster: Any, type: Optional[str],  # noqa: A002
                   cadjust: bool, multi0: bool) -> np.ndarray:
    """sandwich's ``meatCL`` as a k × k array (see the module docstring)."""
    n, k = parts.n, parts.k
    clusterings, signs = cluster_codes(fit, cluster, n, multi0)
    check_cluster_counts(clusterings, signs, multi0)
    type = ("HC1" if parts.is_lm else "HC0") if type is None else type
    if type not in ("HC", "HC0", "HC1", "HC2", "HC3"):
        raise ValueError("'type' should be one of 'HC0', 'HC1', 'HC2', 'HC3'")
    type = "HC0" if type == "HC" else type
    M = np.zeros((k, k))
    last = len(clusterings) - 1
    for i, cc in enumerate(clusterings):
        adj = cluster_adjustment(cc, multi0 and i == last, type, n, k, cadjust)
        if type in ("HC2", "HC3"):
            psi = leverage_adjusted_scores(parts, cc, type) * np.sqrt((cc.g - 1) / cc.g)
            if cc.g < n:
                psi = cluster_sums(psi, cc.codes, cc.m)
        elif cc.g < n:
            psi = design_cluster_sums(parts.design, parts.res, cc.codes, cc.m, parts.keep)
        else:
            psi = parts.scores()
        M += signs[i] * adj * (psi.T @ psi) / n
    if type == "HC1":
        M *= (n - 1) / (n - k)
    return M


def fix_negative_eigenvalues(V: np.ndarray) -> np.ndarray:
    """vcovCL's ``fix = TRUE``: negative eigenvalues set to 0 (V unchanged when none is)."""
    lam, E = np.linalg.eigh(V)
    if not (lam < 0).any():
        return V
    lam = np.maximum(lam, 0.0)
    return (E * lam) @ E.T


def meatCL(fit: Any, cluster: Any = None, type: Optional[str] = None,  # noqa: N802, A002
           cadjust: bool = True, multi0: bool = False) -> pd.DataFrame:
    """sandwich's ``meatCL`` (see :func:`vcovCL`)."""
    parts = score_parts(fit)
    return matrix_frame(meat_cl_matrix(fit, parts, cluster, type, cadjust, multi0),
                        parts.names)


def vcovCL(fit: Any, cluster: Any = None, type: Optional[str] = None,  # noqa: N802, A002
           sandwich: bool = True, fix: bool = False, cadjust: bool = True,
           multi0: bool = False) -> Any:
    """sandwich's ``vcovCL(x, cluster, type, sandwich, fix, cadjust, multi0)`` for lm and glm.

    ``cluster``: a column name of the fit's data, a list of names (multi-way clustering), a
    DataFrame of clustering columns, or an array/Series over the rows of the fit (or over all
    rows of the data: the rows in the fit are taken, as R drops ``na.action`` rows); None: one
    cluster per row. ``type``: "HC0"–"HC3" (default "HC1" for lm, "HC0" for glm, as sandwich).
    ``fix=True`` sets negative eigenvalues of the result to 0. A DataFrame named by term; a
    grouped fit gives one per group (cluster must then be column names).

    Differences from R: a clustering with a single cluster is an error (R returns Inf/NaN).
    """
    if is_grouped(fit):
        if cluster is not None and not isinstance(cluster, (str, list, tuple)):
            raise DataError("for a grouped fit, 'cluster' must be column names")
        return per_group(fit, vcovCL, cluster=cluster, type=type, sandwich=sandwich, fix=fix,
                         cadjust=cadjust, multi0=multi0)
    parts = score_parts(fit)
    V = meat_cl_matrix(fit, parts, cluster, type, cadjust, multi0)
    if sandwich:
        V = sandwich_matrix(parts, V)
    if fix:
        V = fix_negative_eigenvalues(V)
    return matrix_frame(V, parts.names)
