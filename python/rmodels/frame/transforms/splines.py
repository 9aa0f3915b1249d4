"""frame transforms, splines: R's ``splines::splineDesign`` (B-spline values and derivatives),
``splines::ns`` and ``splines::bs`` (natural / B-spline bases), and their ``makepredictcall``
state (``knots``, ``Boundary.knots``, ``intercept``, ``degree``).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import NamedTuple, Sequence

import numpy as np

from ...errors import DataError, DataWarning
from ...printing import quantile7
from .arithmetic import ArrayLike, as_float_vector, householder_qr, r_pow_int, seq_unit


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
    t = np.sort(as_float_vector(knots, "knots"))
    xv = as_float_vector(x)
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
    xall = as_float_vector(x)
    nax = np.isnan(xall)
    xv = xall[~nax]
    if Boundary_knots is not None:
        bk = np.sort(as_float_vector(Boundary_knots, "Boundary.knots"))
        if bk.size != 2:
            raise DataError("'Boundary.knots' must have length 2")
        return _SplineInput(nax, xv, bk, xv < bk[0], xv > bk[1])
    bk = np.array([xv.min(), xv.max()]) if xv.size else np.array([np.nan, np.nan])
    none = np.zeros(xv.size, dtype=bool)
    return _SplineInput(nax, xv, bk, none, none)


def _default_knots(xv: np.ndarray, outside: np.ndarray, n_interior: int) -> np.ndarray:
    if n_interior <= 0:
        return np.zeros(0)
    probs = seq_unit(n_interior + 2)[1:-1]
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
        kn = np.zeros(0) if knots is None else np.asarray(as_float_vector(knots, "knots"))
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
    qr = householder_qr(const.T)
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
        kn = np.zeros(0) if knots is None else np.asarray(as_float_vector(knots, "knots"))
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
                        acc = acc + r_pow_int(dx, p)[:, None] * tt[p][None, :]
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
