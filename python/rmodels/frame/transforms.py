"""Data-dependent transforms and contrast codings of R's model.matrix.

Everything here reproduces an R function to about 1e-12 relative (the tests ask live R):

===========================  ==========================================================
``contrast_matrix``          ``contr.treatment`` / ``contr.SAS`` / ``contr.sum`` /
                             ``contr.helmert`` / ``contr.poly`` and ``contrasts<-`` for a
                             user matrix (stats)
``full_dummy_matrix``        ``contrasts(f, contrasts = FALSE)``: the identity
``poly``                     ``stats::poly`` / ``polym`` (orthogonal or raw polynomials)
``scale``                    ``base::scale`` (centre and scale a column)
``ns`` / ``bs``              ``splines::ns`` / ``splines::bs`` (natural / B-spline bases)
``spline_design``            ``splines::splineDesign`` (B-spline values and derivatives)
===========================  ==========================================================

Each data-dependent transform returns its result together with a small frozen *state*
dataclass holding exactly what R's ``makepredictcall`` methods keep in ``predvars``
(``poly``: ``coefs = list(alpha, norm2)``; ``scale``: ``center``, ``scale``; ``ns``/``bs``:
``knots``, ``Boundary.knots``, ``intercept``, ``degree``).  ``state.apply(x_new)`` encodes new
data the way R's ``predict()`` does, i.e. by re-calling the R function with those arguments.

Errors R raises are :class:`~rmodels.errors.DataError` with R's message; R's warnings are
:class:`~rmodels.errors.DataWarning`.

The arithmetic follows R's own step by step — LINPACK ``dqrdc2`` Householder QR (with its
limited pivoting) summed in reference-BLAS order, the C library's ``pow`` for integer powers,
long-double sums where R uses them, R's ``seq.int`` and type-7 ``quantile`` — so that on the
test data the results are not merely within 1e-12 of R 4.2.2 but equal to the last bit.
"""

from __future__ import annotations

import itertools
import math
import warnings
from dataclasses import dataclass
from typing import Any, NamedTuple, Sequence, Union

import numpy as np

from ..errors import DataError, DataWarning
from ..rsums import r_mean, r_sum

__all__ = [
    "CONTRAST_KINDS",
    "contrast_matrix",
    "full_dummy_matrix",
    "PolyState",
    "poly",
    "ScaleState",
    "scale",
    "SplineState",
    "ns",
    "bs",
    "spline_design",
    "quantile7",
]

CONTRAST_KINDS = ("contr.treatment", "contr.SAS", "contr.sum", "contr.helmert", "contr.poly")

ArrayLike = Union[np.ndarray, Sequence[float]]


# --------------------------------------------------------------------------------------------
# small numerical helpers that follow R's arithmetic
# --------------------------------------------------------------------------------------------

def _as_float_vector(x: Any, what: str = "x") -> np.ndarray:
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


def _col_mean(v: np.ndarray) -> float:
    """R's ``colMeans()`` of one column: long-double sum divided by n in long double."""
    n = v.size
    if n == 0:
        return math.nan
    return float(np.sum(np.asarray(v, dtype=np.longdouble)) / n)


def _col_sums(M: np.ndarray) -> np.ndarray:
    """R's ``colSums()``: each column accumulated in long double."""
    return np.sum(np.asarray(M, dtype=np.longdouble), axis=0).astype(float)


def _r_pow_int(x: np.ndarray, k: int) -> np.ndarray:
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


def _power_columns(x: np.ndarray, exponents: Sequence[int]) -> np.ndarray:
    """R's ``outer(x, exponents, "^")`` for integer exponents."""
    return np.column_stack([_r_pow_int(x, int(k)) for k in exponents]) if len(exponents) \
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
class _HouseholderQR:
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


def _householder_qr(X: np.ndarray, tol: float = 1e-7) -> _HouseholderQR:
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
    return _HouseholderQR(tuple(vectors), rdiag, pivot, min(k, m))


# --------------------------------------------------------------------------------------------
# contrasts
# --------------------------------------------------------------------------------------------

def full_dummy_matrix(levels: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """Indicator coding of all levels, R's ``contrasts(f, contrasts = FALSE)``: the L x L
    identity whose columns are named by the levels."""
    levels = [str(v) for v in levels]
    return np.eye(len(levels)), list(levels)


def _poly_basis(y: np.ndarray, degree: int) -> tuple[np.ndarray, _HouseholderQR]:
    """Monic orthogonal polynomials of degrees 0..degree on the points y (already centred):
    with X = [y^0 .. y^degree] = QR, column j is Q_j·R_jj, the part of y^j orthogonal to the
    lower powers (the construction of R's ``poly`` and ``contr.poly``)."""
    X = _power_columns(y, range(degree + 1))
    qr = _householder_qr(X)
    p = degree + 1
    Z = qr.qy(np.vstack([np.diag(qr.rdiag), np.zeros((y.size - p, p))]))
    return Z, qr


def _contr_poly(n: int, scores: ArrayLike | None = None) -> np.ndarray:
    """R's ``contr.poly(n, scores)`` (default scores 1..n): the degree 1..n-1 orthogonal
    polynomials on the centred scores, each scaled to unit Euclidean length."""
    if n > 95:
        raise DataError(
            f"orthogonal polynomials cannot be represented accurately enough for {n - 1} "
            "degrees of freedom")
    if scores is None:
        sc = np.arange(1, n + 1, dtype=float)
    else:
        sc = _as_float_vector(scores, "scores")
        if sc.size != n:
            raise DataError("'scores' argument is of the wrong length")
        if np.isnan(sc).any() or np.unique(sc).size != n:
            raise DataError("'scores' must all be different numbers")
    Z, _ = _poly_basis(sc - r_mean(sc), n - 1)
    Z = Z / np.sqrt(_col_sums(Z * Z))  # R: sqrt(sum(x^2)), sum() accumulates in long double
    return Z[:, 1:]


def _poly_contrast_names(n: int) -> list[str]:
    names = [f"^{j}" for j in range(1, n)]
    for j, nm in enumerate((".L", ".Q", ".C")[: n - 1]):
        names[j] = nm
    return names


def _named_contrast(kind: str, levels: list[str], base: int, scores: ArrayLike | None
                    ) -> tuple[np.ndarray, list[str] | None]:
    """R's contr.* functions called with the levels (as ``contrasts()`` calls them)."""
    n = len(levels)
    if kind == "contr.treatment":
        if base < 1 or base > n:
            raise DataError("baseline group number out of range")
        keep = [j for j in range(n) if j != base - 1]
        return np.eye(n)[:, keep], [levels[j] for j in keep]
    if kind == "contr.SAS":
        return _named_contrast("contr.treatment", levels, n, None)
    if kind == "contr.sum":
        M = np.eye(n)[:, : n - 1]
        M[n - 1, :] = -1.0
        return M, None
    if kind == "contr.helmert":
        M = np.full((n, n - 1), -1.0)
        for j in range(n - 1):
            M[j + 1, j] = j + 1.0
            M[j + 2:, j] = 0.0
        return M, None
    if kind == "contr.poly":
        return _contr_poly(n, scores), _poly_contrast_names(n)
    raise DataError(f"unknown contrast function '{kind}'")


def contrast_matrix(
    kind: Union[str, np.ndarray, Any],
    levels: Sequence[str],
    *,
    base: int = 1,
    scores: ArrayLike | None = None,
    colnames: Sequence[str] | None = None,
    how_many: int | None = None,
) -> tuple[np.ndarray, list[str] | None]:
    """The contrast matrix R uses for a factor with ``levels``.

    Returns ``(M, names)``: ``M`` is L x k (rows = levels), ``names`` the column names R gives
    (the model-matrix column is *label + name*), or None when R's matrix has no column names
    (then R names the columns 1..k).

    kind
        ``"contr.treatment"`` (``base`` = 1-based baseline level; names = the other levels),
        ``"contr.SAS"`` (baseline = last level), ``"contr.sum"`` (rows 1..L-1 identity, last row
        -1; names None), ``"contr.helmert"`` (column j: -1 for levels <= j, j for level j+1;
        names None), ``"contr.poly"`` (orthonormal polynomials on ``scores``, default 1..L;
        names ``.L .Q .C ^4 ...``), or a numeric matrix (numpy array or DataFrame; names from
        ``colnames`` or the DataFrame's columns) with L rows.
    how_many
        R's ``contrasts(f, how.many) <- value`` (what ``C(f, contr, how.many)`` does): keep
        the first ``how_many`` columns.  A matrix (user matrix, or a named kind when how_many is
        given) with k columns goes through ``contrasts<-``: k >= n1 (n1 = how_many, default
        L-1) keeps the first n1 columns; k < n1 completes it to L-1 columns with the orthogonal
        complement of ``cbind(1, M)`` from its Householder QR (names padded with "").

    Errors (R's wording): fewer than 2 levels -> "contrasts can be applied only to factors with
    2 or more levels"; wrong row count -> "wrong number of contrast matrix rows"; a matrix
    whose columns and a constant are dependent -> "singular contrast matrix".
    """
    levels = [str(v) for v in levels]
    n = len(levels)
    if n < 2:
        raise DataError("contrasts can be applied only to factors with 2 or more levels")
    if isinstance(kind, str):
        M, names = _named_contrast(kind, levels, base, scores)
        if how_many is None:
            return M, names
    else:
        if hasattr(kind, "columns") and hasattr(kind, "to_numpy"):
            if colnames is None:
                colnames = [str(c) for c in kind.columns]
            kind = kind.to_numpy(dtype=float)
        M = np.asarray(kind, dtype=float)
        if M.ndim == 1:
            M = M[:, None]
        if M.ndim != 2:
            raise DataError("numeric contrasts or contrast name expected")
        names = None if colnames is None else [str(c) for c in colnames]
        if names is not None and len(names) != M.shape[1]:
            raise DataError("length of 'colnames' must equal the number of contrast columns")
    return _assign_contrasts(M, names, n, how_many)


def _assign_contrasts(M: np.ndarray, names: list[str] | None, n: int, how_many: int | None
                      ) -> tuple[np.ndarray, list[str] | None]:
    """R's ``contrasts<-`` for a numeric matrix value (see :func:`contrast_matrix`)."""
    if M.shape[0] != n:
        raise DataError("wrong number of contrast matrix rows")
    n1 = n - 1 if how_many is None else int(how_many)
    nc = M.shape[1]
    if nc >= n1:
        return M[:, :n1].copy(), None if names is None else names[:n1]
    qr = _householder_qr(np.column_stack([np.ones(n), M]))
    if qr.rank != nc + 1:
        raise DataError("singular contrast matrix")
    cm = qr.qy(np.eye(n))[:, 1:]
    cm[:, :nc] = M
    if names is not None:
        names = names + [""] * (n1 - nc)
        if len(names) != cm.shape[1]:
            raise DataError("length of 'dimnames' [2] not equal to array extent")
    return cm, names


# --------------------------------------------------------------------------------------------
# poly
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PolyState:
    """What R keeps in ``predvars`` for ``poly(...)``.

    degree  the degree argument;  raw  True for raw powers;
    coefs   per variable, ``{"alpha": ndarray (degree,), "norm2": ndarray (degree + 2,)}``
            (R's ``attr(, "coefs")``; None when raw);
    nvars   number of variables (1 for ``poly(x, d)``, >1 for ``poly(x, z, degree = d)``).
    """

    degree: int
    raw: bool
    coefs: tuple[dict, ...] | None
    nvars: int = 1

    @property
    def colnames(self) -> list[str]:
        """R's column names: "1".."d", or the degree patterns "1.0", "2.0", "0.1"... ."""
        if self.nvars == 1:
            return [str(j) for j in range(1, self.degree + 1)]
        return [".".join(str(v) for v in row) for row in _polym_exponents(self.nvars, self.degree)]

    def apply(self, *xs: ArrayLike) -> np.ndarray:
        """Encode new data as ``predict()`` does: ``poly(x_new, degree, coefs = coefs)``."""
        M, _, _ = poly(*xs, degree=self.degree, raw=self.raw,
                       coefs=None if self.raw else list(self.coefs))
        return M


def _polym_exponents(nvars: int, degree: int) -> list[tuple[int, ...]]:
    """Rows of ``expand.grid(0:degree, ..)`` (first variable fastest) with total degree in
    1..degree, as R's ``polym`` orders its columns."""
    rows = []
    for flat in range((degree + 1) ** nvars):
        e, rem = [], flat
        for _ in range(nvars):
            e.append(rem % (degree + 1))
            rem //= degree + 1
        if 0 < sum(e) <= degree:
            rows.append(tuple(e))
    return rows


def _poly_fit(x: np.ndarray, degree: int) -> tuple[np.ndarray, dict]:
    """Orthogonal polynomials of degree 1..degree on x, R's ``poly(x, degree)``.

    With xbar = mean(x) and X = [(x - xbar)^0 .. (x - xbar)^d] = QR (Householder), Z_j = Q_j R_jj
    are the monic orthogonal polynomials on the data; norm2_j = ||Z_j||^2,
    alpha_j = <x - xbar, Z_j^2> / norm2_j + xbar; the basis is Z_j / sqrt(norm2_j), j >= 1.
    ``coefs = {alpha: alpha_0..alpha_{d-1}, norm2: (1, norm2_0, .., norm2_d)}`` reproduce it by
    the three-term recurrence (:func:`_poly_predict`).
    """
    if np.isnan(x).any():
        raise DataError("missing values are not allowed in 'poly'")
    if degree >= np.unique(x).size:
        raise DataError("'degree' must be less than number of unique points")
    xbar = r_mean(x)
    with np.errstate(invalid="ignore"):  # infinite x: R's qr() reports it (below)
        xc = x - xbar
    Z, qr = _poly_basis(xc, degree)
    if qr.rank < degree:
        raise DataError("'degree' must be less than number of unique points")
    Z2 = Z * Z
    norm2 = _col_sums(Z2)
    alpha = (_col_sums(xc[:, None] * Z2) / norm2 + xbar)[:degree]
    norm2 = np.r_[1.0, norm2]
    M = Z[:, 1:] / np.sqrt(norm2[2:])
    return M, {"alpha": alpha, "norm2": norm2}


def _poly_predict(x: np.ndarray, degree: int, coefs: dict) -> np.ndarray:
    """R's ``poly(x, degree, coefs = coefs)``: the recurrence
    P_0 = 1, P_1 = x - alpha_1,
    P_{i+1} = (x - alpha_{i+1}) P_i - (norm2_{i+2} / norm2_{i+1}) P_{i-1}
    (R's 1-based indexing of alpha and norm2), each P_j divided by sqrt(norm2_{j+1})."""
    alpha = np.asarray(coefs["alpha"], dtype=float)
    norm2 = np.asarray(coefs["norm2"], dtype=float)
    if alpha.size < degree or norm2.size < degree + 2:
        raise DataError("'coefs' do not match 'degree'")
    Z = np.ones((x.size, degree + 1))
    with np.errstate(invalid="ignore", over="ignore"):  # infinite x gives Inf/NaN, as in R
        Z[:, 1] = x - alpha[0]
        for i in range(2, degree + 1):
            Z[:, i] = (x - alpha[i - 1]) * Z[:, i - 1] - (norm2[i] / norm2[i - 1]) * Z[:, i - 2]
        return Z[:, 1:] / np.sqrt(norm2[2: degree + 2])


def _poly1(x: np.ndarray, degree: int, raw: bool, coefs: dict | None
           ) -> tuple[np.ndarray, dict | None]:
    if raw:
        return _power_columns(x, range(1, degree + 1)), None
    if coefs is None:
        return _poly_fit(x, degree)
    return _poly_predict(x, degree, coefs), {
        "alpha": np.asarray(coefs["alpha"], dtype=float),
        "norm2": np.asarray(coefs["norm2"], dtype=float)}


def poly(
    *xs: ArrayLike,
    degree: int = 1,
    raw: bool = False,
    coefs: Union[dict, Sequence[dict]] | None = None,
) -> tuple[np.ndarray, list[str], PolyState]:
    """R's ``poly(x, degree = 1, coefs = NULL, raw = FALSE)`` and ``poly(x, z, ..., degree)``.

    One variable: columns are the orthogonal polynomials of degree 1..degree on ``x`` (see
    :func:`_poly_fit`), or with ``raw=True`` the powers x, x^2, ... .  With ``coefs`` (from a
    fitted :class:`PolyState`) new data is encoded with the training recurrence, as
    ``predict()`` does; NA is then allowed and propagates.

    Several variables (R's ``polym``): the products of the univariate bases (each variable
    with its own coefs) for every exponent vector of total degree 1..degree, first variable's
    exponent varying fastest; column names "1.0", "2.0", "0.1", "1.1", "0.2" (degree 2).

    Returns ``(M, colnames, state)``; ``state.coefs`` is a tuple with one
    ``{"alpha", "norm2"}`` dict per variable (None when raw).

    Errors as R: degree < 1 -> "'degree' must be at least 1"; NA in x without coefs ->
    "missing values are not allowed in 'poly'"; degree >= unique points -> "'degree' must be
    less than number of unique points".
    """
    if not xs:
        raise DataError("must supply one or more vectors")
    degree = int(degree)
    if degree < 1:
        raise DataError("'degree' must be at least 1")
    arrays = [_as_float_vector(x) for x in xs]
    nvars = len(arrays)
    if coefs is not None and isinstance(coefs, dict):
        coefs = [coefs]
    if coefs is not None and len(coefs) != nvars:
        raise DataError(f"wrong number of columns in new data: expected {len(coefs)}")
    if nvars > 1 and any(a.size != arrays[0].size for a in arrays):
        raise DataError("arguments must have the same length")
    parts, kept = [], []
    for i, x in enumerate(arrays):
        M, c = _poly1(x, degree, raw, None if coefs is None else coefs[i])
        parts.append(M)
        kept.append(c)
    state = PolyState(degree=degree, raw=bool(raw),
                      coefs=None if raw else tuple(kept), nvars=nvars)
    if nvars == 1:
        return parts[0], state.colnames, state
    n = arrays[0].size
    exps = _polym_exponents(nvars, degree)
    res = None
    for i in range(nvars):
        full = np.column_stack([np.ones(n), parts[i]])
        block = full[:, [e[i] for e in exps]]
        res = block if res is None else res * block
    return res, state.colnames, state


# --------------------------------------------------------------------------------------------
# scale
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ScaleState:
    """What R keeps in ``predvars`` for ``scale(x)``: ``scale(x, center = c, scale = s)``.
    ``center`` / ``scale`` are floats, or None where R's argument was FALSE."""

    center: float | None
    scale: float | None

    def apply(self, x_new: ArrayLike) -> np.ndarray:
        """(x_new - center) / scale with the stored numbers, as an n x 1 matrix."""
        M, _ = scale(x_new,
                     center=False if self.center is None else self.center,
                     scale=False if self.scale is None else self.scale)
        return M


def scale(
    x: ArrayLike,
    center: Union[bool, float] = True,
    scale: Union[bool, float] = True,
) -> tuple[np.ndarray, ScaleState]:
    """R's ``scale(x, center = TRUE, scale = TRUE)`` for one column; returns ``(M n x 1, state)``.

    center=True: c = mean of the non-NA values (R's ``colMeans(na.rm = TRUE)``, long-double
    accumulation); a number: c = that number; False: no centring.
    scale=True: s = sqrt(sum(v^2) / max(1, m - 1)) over the m non-NA values v of the
    (centred) column — the standard deviation when centred, the root mean square otherwise;
    a number: s = that number; False: no scaling.  Result (x - c) / s; NA stays NA.
    """
    v = _as_float_vector(x)
    out = v.copy()
    c: float | None = None
    if isinstance(center, (bool, np.bool_)):
        if center:
            c = _col_mean(v[~np.isnan(v)])
            out = out - c
    else:
        c = float(np.asarray(center, dtype=float).reshape(-1)[0]) if np.size(center) == 1 else None
        if c is None:
            raise DataError("length of 'center' must equal the number of columns of 'x'")
        out = out - c
    s: float | None = None
    if isinstance(scale, (bool, np.bool_)):
        if scale:
            w = out[~np.isnan(out)]
            s = math.sqrt(r_sum(w * w) / max(1, w.size - 1))
    else:
        if np.size(scale) != 1:
            raise DataError("length of 'scale' must equal the number of columns of 'x'")
        s = float(np.asarray(scale, dtype=float).reshape(-1)[0])
    if s is not None:
        with np.errstate(divide="ignore", invalid="ignore"):  # a zero sd gives NaN/Inf as in R
            out = out / s
    return out[:, None], ScaleState(center=c, scale=s)


# --------------------------------------------------------------------------------------------
# B-splines: splineDesign, ns, bs
# --------------------------------------------------------------------------------------------

def _seq_unit(m: int) -> np.ndarray:
    """R's ``seq.int(0, 1, length.out = m)`` as R 4.2.2 computes it: i * (1 / (m - 1)),
    i = 0..m-1 (not i / (m - 1): the two differ in the last bit for some i)."""
    if m == 1:
        return np.zeros(1)
    return np.arange(m, dtype=float) * (1.0 / (m - 1))


def quantile7(x: ArrayLike, probs: ArrayLike) -> np.ndarray:
    """R's ``quantile(x, probs, type = 7)`` (NA-free x): with h = 1 + (n-1)p, lo = floor(h),
    hi = ceiling(h), q = x_(lo), replaced by (1 - (h - lo)) x_(lo) + (h - lo) x_(hi) where
    h > lo and x_(hi) != x_(lo) (order statistics, 1-based)."""
    xs = np.sort(_as_float_vector(x))
    p = np.clip(np.asarray(probs, dtype=float), 0.0, 1.0)
    n = xs.size
    if n == 0:
        return np.full(p.shape, np.nan)
    index = 1.0 + max(n - 1, 0) * p
    lo = np.floor(index).astype(int)
    hi = np.ceil(index).astype(int)
    qs = xs[lo - 1].copy()
    xhi = xs[hi - 1]
    mask = (index > lo) & (xhi != qs)
    h = (index - lo)[mask]
    qs[mask] = (1.0 - h) * qs[mask] + h * xhi[mask]
    return qs


def _spline_cursor(knots: np.ndarray, x: np.ndarray, ord_: int) -> tuple[np.ndarray, np.ndarray]:
    """Index of the first knot > x (R's splines ``set_cursor``); at x equal to the knot
    t[nk - ord] (the right end of the basis' support) the last non-empty interval is used and
    ``boundary`` is set.  Returns (curs, boundary) as arrays."""
    nk = knots.size
    curs = np.searchsorted(knots, x, side="right")
    at_end = curs >= nk
    curs = np.where(at_end, np.where(x == knots[-1], nk - 1, -1), curs)
    last = nk - ord_
    boundary = (curs > last) & (x == knots[last])
    curs = np.where(boundary, last, curs)
    return curs, boundary


def _basis_values(knots: np.ndarray, x: np.ndarray, curs: np.ndarray, ord_: int) -> np.ndarray:
    """The ord non-zero B-splines at x (n x ord) by the Cox-de Boor triangle with
    left/right knot differences (R's ``basis_funcs``), skipping zero denominators."""
    n = x.size
    m1 = ord_ - 1
    rdel = np.empty((m1, n))
    ldel = np.empty((m1, n))
    for i in range(m1):
        rdel[i] = knots[curs + i] - x
        ldel[i] = x - knots[curs - (i + 1)]
    b = np.zeros((ord_, n))
    b[0] = 1.0
    for j in range(1, ord_):
        saved = np.zeros(n)
        for r in range(j):
            den = rdel[r] + ldel[j - 1 - r]
            ok = den != 0
            with np.errstate(divide="ignore", invalid="ignore"):
                term = b[r] / den
                step = saved + rdel[r] * term
                carry = ldel[j - 1 - r] * term
            new_b = np.where(ok, step, np.where((r != 0) | (rdel[r] != 0), saved, b[r]))
            saved = np.where(ok, carry, 0.0)
            b[r] = new_b
        b[j] = saved
    return b.T


def _basis_derivative(knots: np.ndarray, x: float, curs: int, boundary: bool, ord_: int,
                      which: int, nder: int) -> float:
    """Derivative of order ``nder`` of the B-spline number ``which`` (0..ord-1 within the
    interval) at x: differencing of the unit coefficient vector nder times, then de Boor's
    evaluation (R's splines ``evaluate``); 0 at the right end when nder = ord - 1."""
    outer = ord_ - 1
    if boundary and nder == outer:
        return 0.0
    a = np.zeros(ord_)
    a[which] = 1.0
    with np.errstate(all="ignore"):  # coincident knots give 0/0 as in R (NaN propagates)
        return _de_boor_unit(knots, x, curs, ord_, a, nder)


def _de_boor_unit(knots: np.ndarray, x: float, curs: int, ord_: int, a: np.ndarray,
                  nder: int) -> float:
    outer = ord_ - 1
    for _ in range(nder):
        for k in range(outer):
            a[k] = outer * (a[k + 1] - a[k]) / (knots[curs + k] - knots[curs - outer + k])
        outer -= 1
    rdel = [knots[curs + i] - x for i in range(outer)]
    ldel = [x - knots[curs - (i + 1)] for i in range(outer)]
    while outer > 0:
        outer -= 1
        for k in range(outer + 1):
            a[k] = (a[k + 1] * ldel[outer - k] + a[k] * rdel[k]) / (rdel[k] + ldel[outer - k])
    return float(a[0])


def spline_design(
    knots: ArrayLike, x: ArrayLike, ord: int = 4, derivs: int | Sequence[int] = 0
) -> np.ndarray:
    """R's ``splines::splineDesign(knots, x, ord, derivs)`` (outer.ok = FALSE): the
    n x (nk - ord) matrix of the B-splines of order ``ord`` on ``knots`` (or their
    ``derivs``-th derivatives, recycled over x) evaluated at x in [t_ord, t_{nk-ord+1}]."""
    t = np.sort(_as_float_vector(knots, "knots"))
    xv = _as_float_vector(x)
    nk = t.size
    ord_ = int(ord)
    if nk <= 0:
        raise DataError("must have at least 'ord' knots")
    d = np.atleast_1d(np.asarray(derivs, dtype=int))
    if d.size > max(xv.size, 1) and d.size > xv.size:
        raise DataError("length of 'derivs' is larger than length of 'x'")
    if ord_ > nk or ord_ < 1:
        raise DataError("'ord' must be positive integer, at most the number of knots")
    if nk < 2 * ord_ - 1:
        raise DataError(f"need at least 2*ord -1 (={2 * ord_ - 1}) knots")
    lo_k, hi_k = t[ord_ - 1], t[nk - ord_]
    if np.any((xv < lo_k) | (xv > hi_k)):
        raise DataError(f"the 'x' data must be in the range {lo_k:.6g} to {hi_k:.6g} "
                        "unless you set 'outer.ok = TRUE'")
    if np.any(d >= ord_) or np.any(d < 0):
        raise DataError(f"derivs = {int(d.max())} >= ord = {ord_}, but should be in "
                        f"{{0,..,ord-1}}")
    ncoef = nk - ord_
    design = np.zeros((xv.size, ncoef))
    if xv.size == 0:
        return design
    curs, boundary = _spline_cursor(t, xv, ord_)
    dd = d[np.arange(xv.size) % d.size]
    offs = curs - ord_
    vals = np.empty((xv.size, ord_))
    plain = dd == 0
    if plain.any():
        with np.errstate(all="ignore"):  # infinite knots/x give NaN silently, as in R's C code
            vals[plain] = _basis_values(t, xv[plain], curs[plain], ord_)
    for i in np.flatnonzero(~plain):
        for w in range(ord_):
            vals[i, w] = _basis_derivative(t, float(xv[i]), int(curs[i]), bool(boundary[i]),
                                           ord_, w, int(dd[i]))
    rows = np.repeat(np.arange(xv.size), ord_)
    cols = (offs[:, None] + np.arange(ord_)[None, :]).ravel()
    design[rows, cols] = vals.ravel()
    return design


@dataclass(frozen=True)
class SplineState:
    """What R keeps in ``predvars`` for ``ns()`` / ``bs()``: the interior ``knots``, the
    ``boundary_knots`` (R's ``Boundary.knots``), ``intercept`` and (bs) ``degree``."""

    kind: str  # "ns" or "bs"
    knots: np.ndarray
    boundary_knots: np.ndarray
    intercept: bool
    degree: int

    @property
    def ncol(self) -> int:
        if self.kind == "ns":
            return self.knots.size + 1 + int(self.intercept)
        return self.knots.size + self.degree + int(self.intercept)

    @property
    def colnames(self) -> list[str]:
        return [str(j) for j in range(1, self.ncol + 1)]

    def apply(self, x_new: ArrayLike) -> np.ndarray:
        """Encode new data as ``predict()`` does: ``ns(x, knots =, Boundary.knots =,
        intercept =)`` / ``bs(x, degree =, knots =, Boundary.knots =, intercept =)``."""
        if self.kind == "ns":
            M, _, _ = ns(x_new, knots=self.knots, intercept=self.intercept,
                         Boundary_knots=self.boundary_knots)
        else:
            M, _, _ = bs(x_new, knots=self.knots, degree=self.degree, intercept=self.intercept,
                         Boundary_knots=self.boundary_knots)
        return M


class _SplineInput(NamedTuple):
    """The start of ns()/bs(): NA positions, the non-NA x, the sorted boundary knots and
    which x lie left / right of them (all False when the boundary is range(x))."""

    nax: np.ndarray
    x: np.ndarray
    boundary: np.ndarray
    left: np.ndarray
    right: np.ndarray

    @property
    def outside(self) -> np.ndarray:
        return self.left | self.right


def _spline_prepare(x: ArrayLike, Boundary_knots: ArrayLike | None) -> _SplineInput:
    """Drop NA; with supplied boundary knots sort them and flag the x outside, else use
    range(x) of the non-NA x (R evaluates the default after removing NA)."""
    xall = _as_float_vector(x)
    nax = np.isnan(xall)
    xv = xall[~nax]
    if Boundary_knots is not None:
        bk = np.sort(_as_float_vector(Boundary_knots, "Boundary.knots"))
        if bk.size != 2:
            raise DataError("'Boundary.knots' must have length 2")
        return _SplineInput(nax, xv, bk, xv < bk[0], xv > bk[1])
    bk = np.array([xv.min(), xv.max()]) if xv.size else np.array([np.nan, np.nan])
    none = np.zeros(xv.size, dtype=bool)
    return _SplineInput(nax, xv, bk, none, none)


def _default_knots(xv: np.ndarray, outside: np.ndarray, n_interior: int) -> np.ndarray:
    if n_interior <= 0:
        return np.zeros(0)
    probs = _seq_unit(n_interior + 2)[1:-1]
    return quantile7(xv[~outside], probs)


def _restore_na(basis: np.ndarray, nax: np.ndarray) -> np.ndarray:
    if not nax.any():
        return basis
    out = np.full((nax.size, basis.shape[1]), np.nan)
    out[~nax] = basis
    return out


def ns(
    x: ArrayLike,
    df: int | None = None,
    knots: ArrayLike | None = None,
    intercept: bool = False,
    Boundary_knots: ArrayLike | None = None,
) -> tuple[np.ndarray, list[str], SplineState]:
    """R's ``splines::ns(x, df, knots, intercept, Boundary.knots)``: natural cubic splines.

    Interior knots: ``knots``, or with ``df`` the type-7 quantiles of the x within the
    boundary at probabilities seq(0, 1, length = m + 2)[-c(1, m + 2)], m = df - 1 - intercept.
    With B the cubic B-spline basis on (boundary knots x 4, interior knots) (first column
    dropped unless ``intercept``) and C' = Q R the Householder QR of the transposed second
    derivatives at the two boundary knots, the basis is B Q without its first two columns
    (the splines whose second derivative vanishes at both ends).  Points outside supplied
    boundary knots are continued linearly from the boundary (value + slope).  NA rows stay NA.
    Returns ``(M, ["1", ...], state)``.
    """
    inp = _spline_prepare(x, Boundary_knots)
    nax, xv, bk, ol, orr, outside = inp.nax, inp.x, inp.boundary, inp.left, inp.right, inp.outside
    if Boundary_knots is None and xv.size == 1:
        bk = xv[0] * np.array([7.0, 9.0]) / 8.0
    if df is not None and knots is None:
        n_int = int(df) - 1 - int(bool(intercept))
        if n_int < 0:
            n_int = 0
            warnings.warn(f"'df' was too small; have used {1 + int(bool(intercept))}",
                          DataWarning, stacklevel=2)
        kn = _default_knots(xv, outside, n_int)
    else:
        kn = np.zeros(0) if knots is None else np.asarray(_as_float_vector(knots, "knots"))
    aknots = np.sort(np.r_[np.repeat(bk, 4), kn])
    ncoef = aknots.size - 4
    if outside.any():
        basis = np.zeros((xv.size, ncoef))
        for mask, pivot in ((ol, bk[0]), (orr, bk[1])):
            if mask.any():
                tt = spline_design(aknots, np.array([pivot, pivot]), 4, [0, 1])
                with np.errstate(invalid="ignore"):
                    basis[mask] = tt[0][None, :] + (xv[mask] - pivot)[:, None] * tt[1][None, :]
        inside = ~outside
        if inside.any():
            basis[inside] = spline_design(aknots, xv[inside], 4)
    else:
        basis = spline_design(aknots, xv, 4)
    const = spline_design(aknots, bk, 4, [2, 2])
    if not np.isfinite(const).all():  # e.g. tied quantile knots: R's qr() refuses them
        raise DataError("NA/NaN/Inf in foreign function call (arg 1)")
    if not intercept:
        const = const[:, 1:]
        basis = basis[:, 1:]
    qr = _householder_qr(const.T)
    if not np.isfinite(basis).all():  # R's qr.qty() refuses a non-finite basis (x = +-Inf)
        raise DataError("NA/NaN/Inf in foreign function call (arg 5)")
    basis = qr.qty_rows(basis)[:, 2:]
    state = SplineState("ns", np.asarray(kn, dtype=float).copy(), bk.copy(), bool(intercept), 3)
    return _restore_na(basis, nax), state.colnames, state


def bs(
    x: ArrayLike,
    df: int | None = None,
    knots: ArrayLike | None = None,
    degree: int = 3,
    intercept: bool = False,
    Boundary_knots: ArrayLike | None = None,
) -> tuple[np.ndarray, list[str], SplineState]:
    """R's ``splines::bs(x, df, knots, degree, intercept, Boundary.knots)``: the B-spline
    basis of order degree + 1 on (boundary knots x (degree + 1), interior knots), first column
    dropped unless ``intercept``.  With ``df``: m = df - degree - 1 + 1 - intercept interior
    knots at type-7 quantiles (as :func:`ns`).  Points outside supplied boundary knots
    (warning "some 'x' values beyond boundary knots may cause ill-conditioned bases") use the
    Taylor polynomial of degree ``degree`` about the pivot 3/4 b + 1/4 t (b the boundary knot,
    t the next knot inward).  NA rows stay NA.  Returns ``(M, ["1", ...], state)``.
    """
    degree = int(degree)
    ord_ = degree + 1
    if ord_ <= 1:
        raise DataError("'degree' must be integer >= 1")
    inp = _spline_prepare(x, Boundary_knots)
    nax, xv, bk, ol, orr, outside = inp.nax, inp.x, inp.boundary, inp.left, inp.right, inp.outside
    if df is not None and knots is None:
        n_int = int(df) - ord_ + (1 - int(bool(intercept)))
        if n_int < 0:
            n_int = 0
            warnings.warn(f"'df' was too small; have used {ord_ - (1 - int(bool(intercept)))}",
                          DataWarning, stacklevel=2)
        kn = _default_knots(xv, outside, n_int)
    else:
        kn = np.zeros(0) if knots is None else np.asarray(_as_float_vector(knots, "knots"))
    aknots = np.sort(np.r_[np.repeat(bk, ord_), kn])
    ncoef = aknots.size - ord_
    if outside.any():
        warnings.warn("some 'x' values beyond boundary knots may cause ill-conditioned bases",
                      DataWarning, stacklevel=2)
        e = 0.25
        factorial = np.array([math.gamma(k) for k in range(1, ord_ + 1)])
        basis = np.zeros((xv.size, ncoef))
        pivots = ((ol, (1 - e) * bk[0] + e * aknots[ord_]),
                  (orr, (1 - e) * bk[1] + e * aknots[aknots.size - ord_ - 1]))
        for mask, pivot in pivots:
            if mask.any():
                tt = spline_design(aknots, np.full(ord_, pivot), ord_, list(range(ord_)))
                tt = tt / factorial[:, None]
                dx = xv[mask] - pivot
                acc = np.zeros((dx.size, ncoef)) + tt[0][None, :]
                with np.errstate(invalid="ignore", over="ignore"):  # x = +-Inf -> NaN as in R
                    for p in range(1, ord_):
                        acc = acc + _r_pow_int(dx, p)[:, None] * tt[p][None, :]
                basis[mask] = acc
        inside = ~outside
        if inside.any():
            basis[inside] = spline_design(aknots, xv[inside], ord_)
    else:
        basis = spline_design(aknots, xv, ord_)
    if not intercept:
        basis = basis[:, 1:]
    state = SplineState("bs", np.asarray(kn, dtype=float).copy(), bk.copy(), bool(intercept),
                        degree)
    return _restore_na(basis, nax), state.colnames, state
