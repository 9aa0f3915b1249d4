"""frame transforms, poly: R's ``stats::poly`` / ``polym`` (orthogonal or raw polynomials) and
its ``makepredictcall`` state (``coefs = list(alpha, norm2)``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence, Union

import numpy as np

from ...errors import DataError
from ...rsums import r_mean
from .arithmetic import (
    ArrayLike,
    HouseholderQR,
    as_float_vector,
    col_sums,
    householder_qr,
    power_columns,
)


def poly_basis(y: np.ndarray, degree: int) -> tuple[np.ndarray, HouseholderQR]:
    """Monic orthogonal polynomials of degrees 0..degree on the points y (already centred):
    with X = [y^0 .. y^degree] = QR, column j is Q_j·R_jj, the part of y^j orthogonal to the
    lower powers (the construction of R's ``poly`` and ``contr.poly``)."""
    X = power_columns(y, range(degree + 1))
    qr = householder_qr(X)
    p = degree + 1
    Z = qr.qy(np.vstack([np.diag(qr.rdiag), np.zeros((y.size - p, p))]))
    return Z, qr


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
    Z, qr = poly_basis(xc, degree)
    if qr.rank < degree:
        raise DataError("'degree' must be less than number of unique points")
    Z2 = Z * Z
    norm2 = col_sums(Z2)
    alpha = (col_sums(xc[:, None] * Z2) / norm2 + xbar)[:degree]
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
        return power_columns(x, range(1, degree + 1)), None
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
    arrays = [as_float_vector(x) for x in xs]
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
