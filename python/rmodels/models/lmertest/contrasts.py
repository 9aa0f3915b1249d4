"""The hypothesis matrices of lmerTest's anova tables (lmerTest 3.1-3 ``get_contrasts_type1``,
``get_contrasts_type2_unfolded``, ``get_contrasts_type3``): per fixed-effect term a matrix L
(rows = one-df hypotheses, columns = the fit's coefficients).

- Type I: rows of the transposed unit lower factor of Doolittle's LU decomposition of X'X,
  the rows of each term (sequential sums of squares).
- Type II: a term contained in no other term is tested marginally (its rows of the identity);
  otherwise the Doolittle rows with the term's columns and those of the terms containing it put
  last (adjusted for all terms that do not contain it).
- Type IIb (``"2b"``): the Doolittle rows for every term. Marginal: each term's rows of the
  identity.
- Type III: under treatment contrasts, ``ginv(X) %*% rdX`` with rdX the full dummy coding of each
  term, orthogonalised against the terms containing it (highest order first), mapped back to the
  fit's coding by ``ginv(X_treatment) %*% X``.

Containment (``term_contain``): F1 is contained in F2 when F2 has all of F1's variables and more,
and both have the same numeric variables.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ... import _core
from ...design import model_matrix
from ...errors import FitError
from ...frame import Factor
from ...printing import zapsmall
from .kenward_roger import ginv_crossprod, ginv_times

TREATMENT = "contr.treatment"


def doolittle(x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """lmerTest's ``doolittle(x)$L``: the unit lower triangular factor of x = LU (entries where
    |U_ii| < eps set to 0, then |entries| < eps zeroed)."""
    n = x.shape[0]
    L = np.eye(n)
    U = np.zeros((n, n))
    for i in range(n):
        U[i, :] = x[i, :] - L[i, :i] @ U[:i, :]
        if i + 1 < n:
            col = x[i + 1:, i] - L[i + 1:, :i] @ U[:i, i]
            L[i + 1:, i] = 0.0 if abs(U[i, i]) < eps else col / U[i, i]
    L[np.abs(L) < eps] = 0.0
    return L


def term_columns(term_labels: list, assign: np.ndarray, intercept: bool) -> dict:
    """lmerTest's ``term2colX``: "(Intercept)" and each term label → its column positions."""
    out: dict = {}
    if intercept:
        out["(Intercept)"] = [int(i) for i in np.flatnonzero(assign == 0)]
    for a, lab in enumerate(term_labels, start=1):
        out[lab] = [int(i) for i in np.flatnonzero(assign == a)]
    return out


def fit_assign(fit: Any) -> np.ndarray:
    """The assign vector of the fit's kept columns."""
    design = fit.design
    pos = {c: i for i, c in enumerate(design.columns)}
    return np.asarray(design.assign)[[pos[c] for c in fit.columns]]


def containment(fit: Any) -> dict:
    """lmerTest's ``containment``: for each term the terms that contain it."""
    t = fit.design.terms
    labels = list(t.term_labels)
    names = list(t.variable_labels)
    factor_vars = set(fit.design.xlevels)
    vars_of = {lab: {names[v] for v in np.flatnonzero(t.factors[:, j] == 1)}
               for j, lab in enumerate(labels)}
    numerics = {lab: {v for v in vs if v not in factor_vars} for lab, vs in vars_of.items()}

    def contains(f1: str, f2: str) -> bool:
        return (vars_of[f1] <= vars_of[f2] and bool(vars_of[f2] - vars_of[f1])
                and numerics[f1] == numerics[f2])

    return {f1: [f2 for f2 in labels if contains(f1, f2)] for f1 in labels}


def split_by_term(L: np.ndarray, fit: Any) -> dict:
    """The rows of L belonging to each term, in the terms' order."""
    cols = term_columns(list(fit.design.term_labels), fit_assign(fit), fit.design.intercept)
    return {lab: L[cols[lab]] for lab in fit.design.term_labels}


def contrasts_type1(fit: Any) -> dict:
    """lmerTest's ``get_contrasts_type1``."""
    p = fit.p
    if p == 0:
        return {}
    if p == 1 and fit.design.intercept:
        return {}
    X = np.asarray(fit.X)
    L = np.ones((1, 1)) if p == 1 else doolittle(X.T @ X).T
    return split_by_term(L, fit)


def contrasts_type2(fit: Any) -> dict:
    """lmerTest's ``get_contrasts_type2_unfolded``: marginal rows for the terms no other term
    contains, ``get_contrasts_type2`` for the others."""
    return type2_contrasts(fit, unfolded=True)


def contrasts_type2b(fit: Any) -> dict:
    """lmerTest's ``get_contrasts_type2`` (anova's type "2b"): every term adjusted for all terms
    that do not contain it."""
    return type2_contrasts(fit, unfolded=False)


def contrasts_marginal(fit: Any) -> dict:
    """lmerTest's ``get_contrasts_marginal``: each term's rows of the identity (its
    coefficients tested jointly, whatever else is in the model)."""
    labels = list(fit.design.term_labels)
    if fit.p <= 1 or len(labels) <= 1:
        return contrasts_type1(fit)
    cols = term_columns(labels, fit_assign(fit), fit.design.intercept)
    eye = np.eye(fit.p)
    return {lab: eye[cols[lab]] for lab in labels}


def type2_contrasts(fit: Any, unfolded: bool) -> dict:
    """Type II hypotheses: per term the Doolittle rows of X'X with the term's columns and those
    of the terms containing it put last; with ``unfolded`` a term no other term contains gets
    its rows of the identity instead."""
    labels = list(fit.design.term_labels)
    if fit.p <= 1 or len(labels) <= 1:
        return contrasts_type1(fit)
    contained = containment(fit)
    cols = term_columns(labels, fit_assign(fit), fit.design.intercept)
    X = np.asarray(fit.X)
    out = {}
    for lab in labels:
        if unfolded and not contained[lab]:
            out[lab] = np.eye(fit.p)[cols[lab]]
            continue
        last = [c for t in [lab, *contained[lab]] for c in cols[t]]
        if not last:
            # lmerTest's X[, -cols_term] with cols_term NULL (a term whose columns were all
            # dropped), as R fails on it
            raise FitError("invalid argument to unary operator")
        order = [c for c in range(fit.p) if c not in set(last)] + last
        Xn = X[:, order]
        Lc = doolittle(Xn.T @ Xn).T
        rows = [k for k, c in enumerate(order) if c in set(cols[lab])]
        back = np.argsort(order)
        out[lab] = Lc[rows][:, back]
    return out


def contrasts_type3(fit: Any) -> dict:
    """lmerTest's ``get_contrasts_type3``: built under treatment coding (the fit's own X when
    every factor already has it), then mapped to the fit's coding."""
    labels = list(fit.design.term_labels)
    if fit.p <= 1 or len(labels) <= 1:
        return contrasts_type1(fit)
    codings = list(fit.design.contrasts.values())
    Xorig = np.asarray(fit.X)
    if codings and all(c == TREATMENT for c in codings):
        return type3_treatment(fit, Xorig, fit_assign(fit), list(fit.columns))
    Xt, assign, names = treatment_matrix(fit)
    mapping = zapsmall(ginv_times(Xt, Xorig))
    return {lab: L @ mapping
            for lab, L in type3_treatment(fit, Xt, assign, names).items()}


def treatment_matrix(fit: Any) -> tuple[np.ndarray, np.ndarray, list]:
    """The fixed-effect model matrix remade with treatment contrasts for every factor, its
    dependent columns dropped as lmerTest's ``ensure_full_rank`` (pivoted QR, tol 1e-7); its
    assign vector and column names."""
    d = fit.design
    contrasts = {v: TREATMENT for v in d.contrasts}
    mm = model_matrix(d.terms.fixed_formula_text or d.formula_text, d.kept_data(),
                      contrasts=contrasts or None)
    X = mm.to_numpy(dtype=float)
    assign = np.asarray(mm.attrs["assign"])
    names = list(mm.columns)
    qr = _core.qr_dqrdc2(np.asfortranarray(X), 1e-7)
    rank = int(qr["rank"])
    if rank < X.shape[1]:
        keep = sorted(int(i) for i in np.asarray(qr["pivot"])[:rank])
        X, assign, names = X[:, keep], assign[keep], [names[i] for i in keep]
    return X, assign, names


def cell_coding(fit: Any) -> tuple[np.ndarray, list]:
    """lmerTest's ``get_rdX``: the intercept and the full dummy coding of each term
    (``model.matrix(~ 0 + term)``), with their column names."""
    data = fit.design.kept_data()
    parts, names = [], []
    if fit.design.intercept:
        parts.append(np.ones((fit.nobs(), 1)))
        names.append("(Intercept)")
    for j, lab in enumerate(fit.design.term_labels):
        direct = term_cells(fit, data, j)
        if direct is None:
            mm = model_matrix(f"~ 0 + {lab}", data)
            direct = (mm.to_numpy(dtype=float), list(mm.columns))
        parts.append(direct[0])
        names += direct[1]
    return np.hstack(parts), names


def cells_on_x(fit: Any, X: np.ndarray) -> tuple[np.ndarray, list]:
    """``zapsmall(t(ginv(X) %*% rdX))`` (cells × X's columns) with rdX lmerTest's ``get_rdX``;
    from X'rdX summed cell by cell when every term is of plain data columns and X'X is positive
    definite (no n-row rdX), else from rdX itself."""
    cross = cell_crossprod(fit, X)
    if cross is not None:
        G = ginv_crossprod(X.T @ X, cross[0])
        if G is not None:
            return zapsmall(G.T), cross[1]
    rdX, names = cell_coding(fit)
    return zapsmall(ginv_times(X, rdX).T), names


def cell_crossprod(fit: Any, X: np.ndarray) -> tuple[np.ndarray, list] | None:
    """X'rdX (p × cells) and the cells' names without forming rdX: each row adds its row of X
    (times the term's numeric variables) to its cell of every term, one sparse product. None
    when a term is not of plain data columns (see :func:`term_cells`)."""
    import scipy.sparse as sp
    n = X.shape[0]
    cells, weights, names = [], [], []
    if fit.design.intercept:
        cells.append(np.zeros(n, dtype=np.intp))
        weights.append(np.ones(n))
        names.append("(Intercept)")
    data = fit.design.kept_data()
    for j in range(len(fit.design.term_labels)):
        coded = term_cell_codes(fit, data, j)
        if coded is None:
            return None
        cells.append(coded[0] + len(names))
        weights.append(coded[1])
        names += coded[2]
    # cells × rows, one entry per row and term (column r: row r's cell of each term)
    T = len(cells)
    S = sp.csc_matrix((np.column_stack(weights).ravel(), np.column_stack(cells).ravel(),
                       np.arange(0, n * T + 1, T)), shape=(len(names), n))
    return np.asarray((S @ X).T), names


def term_cell_codes(fit: Any, data: Any, j: int) -> tuple[np.ndarray, np.ndarray, list] | None:
    """Each row's cell of ``model.matrix(~ 0 + term)`` (factors' levels, first variable fastest)
    and its value there (the product of the numeric variables), with the cells' names, read from
    the model frame's variables; None for a term that is not of plain data columns (factors
    with the frame's levels, numeric vectors)."""
    t = fit.design.terms
    frame_vars = fit.design.frame_parts[0]
    code = np.zeros(data.shape[0], dtype=np.intp)
    value = None
    stride, names = 1, [""]
    for v in np.flatnonzero(t.factors[:, j]):
        label, x = t.variable_labels[v], frame_vars[v]
        if label not in data.columns:
            return None
        if isinstance(x, Factor):
            levels = list(fit.design.xlevels.get(label, []))
            if x.kind != "factor" or [str(lev) for lev in x.levels] != \
                    [str(lev) for lev in levels] or np.any(x.codes < 0):
                return None
            code += np.asarray(x.codes, dtype=np.intp) * stride
            stride *= len(levels)
            names = [n + (":" if n else "") + f"{label}{lev}" for lev in levels for n in names]
        elif isinstance(x, np.ndarray) and x.ndim == 1 and x.dtype.kind in "fiu":
            xv = x.astype(float, copy=False)
            value = xv if value is None else value * xv
            names = [n + (":" if n else "") + label for n in names]
        else:
            return None
    return code, np.ones(len(code)) if value is None else value, names


def level_codes(x: pd.Series, levels: list) -> np.ndarray:
    """0-based codes of a categorical column in ``levels`` (−1 for a value not among them)."""
    codes = np.asarray(x.array.codes)
    cats = [str(c) for c in x.array.categories]
    if cats == [str(lev) for lev in levels]:
        return codes
    pos = {str(lev): k for k, lev in enumerate(levels)}
    remap = np.array([pos.get(c, -1) for c in cats] + [-1])
    return remap[codes]


def term_cells(fit: Any, data: Any, j: int) -> tuple[np.ndarray, list] | None:
    """``model.matrix(~ 0 + term)`` for a term of plain data columns (factors with the model
    frame's levels, numeric vectors): the products of the factors' indicator columns (first
    variable fastest) and the numeric columns, named as R names them; None for any other term
    (transformed or matrix variables), left to the formula engine."""
    t = fit.design.terms
    variables = [t.variable_labels[v] for v in np.flatnonzero(t.factors[:, j])]
    cols = np.ones((1, len(data)))  # cells × rows (rows last: long inner loops)
    names = [""]
    for v in variables:
        if v not in data.columns:
            return None
        x = data[v]
        if v in fit.design.xlevels:
            if not isinstance(x.dtype, pd.CategoricalDtype):
                return None
            levels = list(fit.design.xlevels[v])
            codes = level_codes(x, levels)
            ind = (np.arange(len(levels))[:, None] == codes[None, :]).astype(float)
            # cell (level k, earlier cell c) = indicator k × cell c: earlier variables fastest
            cols = (ind[:, None, :] * cols[None, :, :]).reshape(-1, len(data))
            names = [n + (":" if n else "") + f"{v}{lev}" for lev in levels for n in names]
        elif pd.api.types.is_float_dtype(x.dtype) or pd.api.types.is_integer_dtype(x.dtype):
            cols = cols * x.to_numpy(dtype=float)[None, :]
            names = [n + (":" if n else "") + v for n in names]
        else:
            return None
    return cols.T, names


def residual_columns(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``resid(lm.fit(x, y))``: y less its projection on the columns of x that R's pivoted QR
    (tol 1e-7) keeps."""
    qr = _core.qr_dqrdc2(np.asfortranarray(x), 1e-7)
    keep = [int(i) for i in np.asarray(qr["pivot"])[:int(qr["rank"])]]
    if not keep:
        return y
    xs = x[:, keep]
    coef, *_ = np.linalg.lstsq(xs, y, rcond=None)
    return y - xs @ coef


def type3_treatment(fit: Any, X: np.ndarray, assign: np.ndarray, xnames: list) -> dict:
    """lmerTest's ``extract_contrasts_type3`` for a treatment-coded X."""
    labels = list(fit.design.term_labels)
    L, rd_names = cells_on_x(fit, X)  # rows: cells of rdX, columns: X's
    cols = term_columns(labels, assign, fit.design.intercept)
    contained = containment(fit)
    orders = list(fit.design.terms.order)
    for lab in sorted(labels, key=lambda s: -orders[labels.index(s)]):
        if contained[lab]:
            c_cols = [c for t in contained[lab] for c in cols[t]]
            L[:, cols[lab]] = zapsmall(residual_columns(L[:, c_cols], L[:, cols[lab]]))
    first = {}
    for i, nm in enumerate(rd_names):
        first.setdefault(nm, i)
    L = L[[first[nm] for nm in xnames]]
    out = {}
    for lab in labels:
        Lt = L[:, cols[lab]].T
        out[lab] = Lt[np.abs(Lt).sum(axis=1) > 1e-8]
    return out
