"""frame transforms, contrasts: R's contrast codings of a factor — ``contr.treatment``,
``contr.SAS``, ``contr.sum``, ``contr.helmert``, ``contr.poly`` and ``contrasts<-`` for a user
matrix (stats), and ``contrasts(f, contrasts = FALSE)`` (the identity).

They live in the frame stage, not the design stage, because the interpreter evaluates
``contr.xxx(...)`` calls inside ``C(f, contr.sum)`` when it builds the frame; the design stage
imports them from here (the frame never imports the design).
"""

from __future__ import annotations

from typing import Any, Sequence, Union

import numpy as np

from ...errors import DataError
from ...rsums import r_mean
from .arithmetic import ArrayLike, as_float_vector, col_sums, householder_qr
from .poly import poly_basis

CONTRAST_KINDS = ("contr.treatment", "contr.SAS", "contr.sum", "contr.helmert", "contr.poly")


def full_dummy_matrix(levels: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """Indicator coding of all levels, R's ``contrasts(f, contrasts = FALSE)``: the L x L
    identity whose columns are named by the levels."""
    levels = [str(v) for v in levels]
    return np.eye(len(levels)), list(levels)


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
        sc = as_float_vector(scores, "scores")
        if sc.size != n:
            raise DataError("'scores' argument is of the wrong length")
        if np.isnan(sc).any() or np.unique(sc).size != n:
            raise DataError("'scores' must all be different numbers")
    Z, _ = poly_basis(sc - r_mean(sc), n - 1)
    Z = Z / np.sqrt(col_sums(Z * Z))  # R: sqrt(sum(x^2)), sum() accumulates in long double
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
    qr = householder_qr(np.column_stack([np.ones(n), M]))
    if qr.rank != nc + 1:
        raise DataError("singular contrast matrix")
    cm = qr.qy(np.eye(n))[:, 1:]
    cm[:, :nc] = M
    if names is not None:
        names = names + [""] * (n1 - nc)
        if len(names) != cm.shape[1]:
            raise DataError("length of 'dimnames' [2] not equal to array extent")
    return cm, names
