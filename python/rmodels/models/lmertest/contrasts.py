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
  fit's coding by ``ginv(X_treatment) %*% X``. ginv(X) rdX comes from the Gram matrix rdX'rdX
  summed over the joint cells of the factors (:mod:`.cells`), whose rows and columns of X's
  cells are X'X and X'rdX, without forming rdX.
- Doolittle's L of X'X (types I, II) is taken from its Cholesky factor.

Containment (``term_contain``): F1 is contained in F2 when F2 has all of F1's variables and more,
and both have the same numeric variables.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ... import _core
from ...design import model_matrix
from ...errors import FitError
from ...printing import zapsmall
from .cells import cell_coding, cell_gram
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


def unit_lower(xtx: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """:func:`doolittle` of a crossproduct matrix X'X: for X'X positive definite with every
    pivot U_ii at least 2·eps, from its Cholesky factor C (L = C diag(C)⁻¹, U_ii = C_ii²; then
    |entries| < eps zeroed); otherwise by Doolittle's elimination itself."""
    try:
        C = np.linalg.cholesky(xtx)
    except np.linalg.LinAlgError:
        return doolittle(xtx, eps)
    d = np.diag(C)
    if np.min(d * d) < 2 * eps:
        return doolittle(xtx, eps)
    L = C / d
    L[np.abs(L) < eps] = 0.0
    return L


def term_columns(term_labels: list, assign: np.ndarray, intercept: bool) -> dict:
    """lmerTest's ``term2colX``: "(Intercept)" and each term label → its column positions."""
    by_term: dict = {}
    for i, a in enumerate(np.asarray(assign).tolist()):
        by_term.setdefault(a, []).append(i)
    out: dict = {"(Intercept)": by_term.get(0, [])} if intercept else {}
    for a, lab in enumerate(term_labels, start=1):
        out[lab] = by_term.get(a, [])
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
    vars_of = {lab: {names[v] for v, f in enumerate(in_term) if f == 1}
               for lab, in_term in zip(labels, t.factors.T.tolist())}
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
    L = np.ones((1, 1)) if p == 1 else unit_lower(X.T @ X).T
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
    XtX = None
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
        XtX = X.T @ X if XtX is None else XtX
        in_last = set(last)
        order = [c for c in range(fit.p) if c not in in_last] + last
        Lc = unit_lower(XtX[np.ix_(order, order)]).T  # X[, order]'s crossproduct
        own = set(cols[lab])
        rows = [k for k, c in enumerate(order) if c in own]
        out[lab] = Lc[rows][:, np.argsort(order)]
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


def first_positions(names: list) -> dict:
    """Each name's first position."""
    first: dict = {}
    for i, nm in enumerate(names):
        first.setdefault(nm, i)
    return first


def cells_on_x(fit: Any, X: np.ndarray, xnames: list) -> tuple[np.ndarray, list]:
    """``zapsmall(t(ginv(X) %*% rdX))`` (cells × X's columns) with rdX lmerTest's ``get_rdX``
    and X treatment-coded (each column one of rdX's cells, by name): from the Gram matrix
    rdX'rdX (:func:`.cells.cell_gram`, whose rows and columns of X's cells are X'X and X'rdX)
    when every term is of plain data columns and X'X is positive definite, else from rdX."""
    gram = cell_gram(fit)
    if gram is not None:
        K, names = gram
        first = first_positions(names)
        if all(nm in first for nm in xnames):
            sel = [first[nm] for nm in xnames]
            G = ginv_crossprod(K[np.ix_(sel, sel)], K[sel])
            if G is not None:
                return zapsmall(G.T), names
    rdX, names = cell_coding(fit)
    return zapsmall(ginv_times(X, rdX).T), names


def residual_columns(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``resid(lm.fit(x, y))``: y less its projection on the columns of x that R's pivoted QR
    (tol 1e-7) keeps, by Householder reflections as R's ``dqrrsd``."""
    qr = _core.qr_dqrdc2(np.asfortranarray(x), 1e-7)
    rank = int(qr["rank"])
    if rank == 0:
        return y
    qty = np.array(_core.qr_qty(qr["qr"], qr["qraux"], rank, np.asfortranarray(y)),
                   order="F")
    qty[:rank] = 0.0
    return np.asarray(_core.qr_qy(qr["qr"], qr["qraux"], rank, qty))


def type3_treatment(fit: Any, X: np.ndarray, assign: np.ndarray, xnames: list) -> dict:
    """lmerTest's ``extract_contrasts_type3`` for a treatment-coded X."""
    labels = list(fit.design.term_labels)
    L, rd_names = cells_on_x(fit, X, xnames)  # rows: cells of rdX, columns: X's
    cols = term_columns(labels, assign, fit.design.intercept)
    contained = containment(fit)
    orders = list(fit.design.terms.order)
    for lab in sorted(labels, key=lambda s: -orders[labels.index(s)]):
        if contained[lab]:
            c_cols = [c for t in contained[lab] for c in cols[t]]
            L[:, cols[lab]] = zapsmall(residual_columns(L[:, c_cols], L[:, cols[lab]]))
    first = first_positions(rd_names)
    L = L[[first[nm] for nm in xnames]]
    out = {}
    for lab in labels:
        Lt = L[:, cols[lab]].T
        out[lab] = Lt[np.abs(Lt).sum(axis=1) > 1e-8]
    return out
