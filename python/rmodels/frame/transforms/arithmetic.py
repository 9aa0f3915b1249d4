"""frame transforms, arithmetic: the small numerical steps of R's own code that the transforms
share, written so that results equal R's to the last bit — LINPACK ``dqrdc2`` Householder QR
(with its limited pivoting) summed in reference-BLAS order, the C library's ``pow`` for integer
powers, long-double sums where R uses them, R's ``seq.int(0, 1, length.out = m)`` and type-7
``quantile``.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any, Sequence, Union

import numpy as np

from ...errors import DataError

ArrayLike = Union[np.ndarray, Sequence[float]]


def as_float_vector(x: Any, what: str = "x") -> np.ndarray:
    """``x`` as a 1-d float64 array, without a copy when it already is one (pandas NA and
    None become NaN)."""
    if hasattr(x, "to_numpy"):
        x = x.to_numpy(dtype=float, na_value=np.nan)
    arr = np.asarray(x)
    if arr.dtype == object:
        arr = np.array([np.nan if v is None else v for v in arr.ravel()], dtype=float)
    arr = np.asarray(arr, dtype=float)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise DataError(f"'{what}' must be a vector")
    return arr


def col_mean(v: np.ndarray) -> float:
    """R's ``colMeans()`` of one column: long-double sum divided by n in long double."""
    n = v.size
    if n == 0:
        return math.nan
    return float(np.sum(np.asarray(v, dtype=np.longdouble)) / n)


def col_sums(M: np.ndarray) -> np.ndarray:
    """R's ``colSums()``: each column accumulated in long double."""
    return np.sum(np.asarray(M, dtype=np.longdouble), axis=0).astype(float)


def r_pow_int(x: np.ndarray, k: int) -> np.ndarray:
    """x^k for a small integer k exactly as R computes it (``R_pow``): 1 for k = 0, ``x * x``
    for k = 2, otherwise the C library's ``pow()`` — called here through ``math.pow``, because
    NumPy's vectorised ``power`` can differ from it in the last bit."""
    x = np.asarray(x, dtype=float)
    if k == 0:
        return np.ones_like(x)
    if k == 1:
        return x.copy()
    if k == 2:
        return x * x
    fk = float(k)
    try:
        return np.fromiter(map(math.pow, x.tolist(), itertools.repeat(fk, x.size)),
                           dtype=float, count=x.size)
    except OverflowError:  # math.pow raises where C's pow() returns +-Inf
        def safe(v: float) -> float:
            try:
                return math.pow(v, fk)
            except OverflowError:
                return math.copysign(math.inf, v) if k % 2 else math.inf
        return np.fromiter(map(safe, x.tolist()), dtype=float, count=x.size)


def power_columns(x: np.ndarray, exponents: Sequence[int]) -> np.ndarray:
    """R's ``outer(x, exponents, "^")`` for integer exponents."""
    return np.column_stack([r_pow_int(x, int(k)) for k in exponents]) if len(exponents) \
        else np.zeros((x.size, 0))


def _seq_dot_cols(u: np.ndarray, A: np.ndarray) -> np.ndarray:
    """<u, A[:, j]> for every column j, summed strictly top to bottom (reference BLAS
    ``ddot``, which R's LINPACK QR calls), so that the rounding follows R's.

    A reduction over axis 0 of a C-ordered array with several columns runs row after row
    (NumPy keeps pairwise summation for the contiguous axis), i.e. sequentially per column; a
    single column uses the (sequential) cumulative sum instead."""
    if u.size == 0:
        return np.zeros(A.shape[1])
    if A.shape[1] == 1:
        return np.cumsum(u * A[:, 0])[-1:]
    return np.add.reduce(np.multiply(u[:, None], A, order="C"), axis=0)


def _seq_norm(v: np.ndarray) -> float:
    """Euclidean norm as reference BLAS 3.10+ ``dnrm2`` computes it for ordinary magnitudes:
    sqrt of the left-to-right sum of squares."""
    if v.size == 0:
        return 0.0
    amax = float(np.max(np.abs(v)))
    if amax > 1e140 or (0.0 < amax < 1e-140):  # dnrm2 rescales extreme values; so do we
        return float(amax * np.sqrt(np.cumsum((v / amax) ** 2)[-1]))
    return float(np.sqrt(np.cumsum(v * v)[-1]))


@dataclass(frozen=True)
class HouseholderQR:
    """Compact Householder QR as LINPACK ``dqrdc2`` (R's ``qr()``) computes it.

    ``vectors[l]`` is the reflector u_l (length m - l, u_l[0] = 1 + |x_ll| / ||x_l||) so that
    H_l = I - u_l u_l' / u_l[0], or None for a zero column or the last row (H_l = I, LINPACK's
    qraux = 0); Q = H_1 H_2 ... H_k.  ``rdiag`` holds diag(R) (of the pivoted columns),
    ``pivot`` the 0-based original index of each column, ``rank`` R's ``qr()$rank``.
    """

    vectors: tuple[np.ndarray | None, ...]
    rdiag: np.ndarray
    pivot: np.ndarray
    rank: int

    def qty_rows(self, B: np.ndarray) -> np.ndarray:
        """B Q for the rows of ``B`` (n x m), i.e. R's ``t(qr.qty(qr, t(B)))``; as R's
        ``dqrqty``, only the first ``rank`` reflectors are applied."""
        out = np.array(B, dtype=float, copy=True).T  # m x n: one column per row of B
        for l, u in enumerate(self.vectors[: self.rank]):
            if u is None:
                continue
            t = -_seq_dot_cols(u, out[l:, :]) / u[0]
            out[l:, :] += u[:, None] * t[None, :]
        return out.T

    def qy(self, Y: np.ndarray) -> np.ndarray:
        """Q Y (Y is m x c): R's ``qr.qy`` (``dqrqy`` applies H_rank, ..., H_1)."""
        out = np.array(Y, dtype=float, copy=True, order="C")
        for l in range(min(self.rank, len(self.vectors)) - 1, -1, -1):
            u = self.vectors[l]
            if u is None:
                continue
            t = -_seq_dot_cols(u, out[l:, :]) / u[0]
            out[l:, :] += u[:, None] * t[None, :]
        return out


def householder_qr(X: np.ndarray, tol: float = 1e-7) -> HouseholderQR:
    """Householder QR of X (m x p) exactly as LINPACK ``dqrdc2`` (R's ``qr(X, tol)``) does it.

    Reflector: with s = sign(x_ll)·||x_l||, u_l = x_l · (1/s) plus 1 in its leading entry; the
    later columns get x_j += t·u_l, t = -<u_l, x_j> / u_l[0]; R_ll = -s.  (The reflectors are
    LAPACK's too, so Q is the same matrix.)  Limited pivoting: before step l, while the current
    norm of column l is below tol times its original norm, the column is moved to the end.
    Current norms are down-dated by sqrt(1 - (x_lj / norm_j)^2) and recomputed when that factor
    falls below 1e-6.  Dot products and norms are summed left to right, as reference BLAS."""
    A = np.array(X, dtype=float, copy=True, order="C")
    if not np.isfinite(A).all():  # R's qr() passes the matrix to Fortran, which refuses it
        raise DataError("NA/NaN/Inf in foreign function call (arg 1)")
    m, p = A.shape
    cur = np.array([_seq_norm(A[:, j]) for j in range(p)])  # LINPACK's qraux during the sweep
    orig = np.where(cur == 0.0, 1.0, cur)                    # LINPACK's work(, 2)
    pivot = np.arange(p)
    k = p  # columns [k, p) have been moved to the end
    lup = min(m, p)
    vectors: list[np.ndarray | None] = []
    rdiag = np.zeros(lup)
    for l in range(lup):
        while l < k and cur[l] < orig[l] * tol:
            order = np.r_[np.arange(l), np.arange(l + 1, p), l]
            A = A[:, order]
            cur, orig, pivot = cur[order], orig[order], pivot[order]
            k -= 1
        col = A[l:, l]
        if l == m - 1:  # LINPACK leaves the last row alone (qraux = 0)
            rdiag[l] = col[0]
            vectors.append(None)
            continue
        nrm = _seq_norm(col)
        if nrm == 0.0:
            vectors.append(None)
            continue
        if col[0] != 0.0:
            nrm = math.copysign(nrm, col[0])
        u = col * (1.0 / nrm)
        u[0] = 1.0 + u[0]
        rest = A[l:, l + 1:]
        if rest.shape[1]:
            t = -_seq_dot_cols(u, rest) / u[0]
            rest += u[:, None] * t[None, :]
            for j in range(l + 1, p):
                if cur[j] == 0.0:
                    continue
                tt = max(1.0 - (abs(A[l, j]) / cur[j]) ** 2, 0.0)
                if abs(tt) < 1e-6:
                    cur[j] = _seq_norm(A[l + 1:, j])
                else:
                    cur[j] = cur[j] * math.sqrt(tt)
        rdiag[l] = -nrm
        A[l, l] = -nrm
        vectors.append(u)
    return HouseholderQR(tuple(vectors), rdiag, pivot, min(k, m))


def seq_unit(m: int) -> np.ndarray:
    """R's ``seq.int(0, 1, length.out = m)`` as R 4.2.2 computes it: i * (1 / (m - 1)),
    i = 0..m-1 (not i / (m - 1): the two differ in the last bit for some i)."""
    if m == 1:
        return np.zeros(1)
    return np.arange(m, dtype=float) * (1.0 / (m - 1))
