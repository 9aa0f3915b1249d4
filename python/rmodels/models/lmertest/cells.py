"""lmerTest's ``get_rdX`` for the type III hypotheses (:mod:`.contrasts`): the intercept and the
full dummy coding of each fixed-effect term (``model.matrix(~ 0 + term)``: one column per cell
of the term's factors, times the product of its numeric variables), and its cross products.

A term of plain data columns (factors with the model frame's levels, numeric vectors) is read
from the model frame's variables (factor codes); its cells are never formed as columns for the
cross products: rows are grouped by the joint cell of all the factors, and within a joint cell
the sums of the products of the terms' numeric variables are all that the Gram matrix rdX'rdX
needs (one ``bincount`` per pair of distinct numeric products). Any other term (transformed or
matrix variables) is left to the formula engine, with rdX formed column by column.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ...design import model_matrix
from ...frame import Factor


@dataclass
class PlainTerm:
    """One term of rdX read from the model frame: its factors as (position among the frame's
    variables, 0-based codes, number of levels), first variable fastest, its numeric variables
    (positions, in the term's order) and the names of its cells."""

    factors: list
    numerics: tuple
    names: list


def frame_factor(fit: Any, label: str, x: Factor) -> tuple[np.ndarray, int] | None:
    """A factor variable's codes (intp) and number of levels when it has the levels of the
    model frame and no NA; None otherwise."""
    levels = [str(lev) for lev in fit.design.xlevels.get(label, [])]
    if x.kind != "factor" or [str(lev) for lev in x.levels] != levels:
        return None
    codes = np.asarray(x.codes, dtype=np.intp)
    return None if np.any(codes < 0) else (codes, len(levels))


def plain_term(fit: Any, columns: set, variables: list, factor_cache: dict) -> PlainTerm | None:
    """A term's cells and variables (positions among the frame's variables) as read from the
    model frame, named as R names the columns of ``model.matrix(~ 0 + term)``; None for a term
    that is not of plain data columns (factors with the frame's levels, numeric vectors) of the
    data (``columns``: its column names). ``factor_cache`` keeps each factor's codes."""
    t = fit.design.terms
    frame_vars = fit.design.frame_parts[0]
    factors, numerics, names = [], [], [""]
    for v in variables:
        label, x = t.variable_labels[v], frame_vars[v]
        if label not in columns:
            return None
        if isinstance(x, Factor):
            if v not in factor_cache:
                factor_cache[v] = frame_factor(fit, label, x)
            if factor_cache[v] is None:
                return None
            codes, k = factor_cache[v]
            factors.append((v, codes, k))
            names = [n + (":" if n else "") + f"{label}{lev}"
                     for lev in fit.design.xlevels[label] for n in names]
        elif isinstance(x, np.ndarray) and x.ndim == 1 and x.dtype.kind in "fiu":
            numerics.append(v)
            names = [n + (":" if n else "") + label for n in names]
        else:
            return None
    return PlainTerm(factors, tuple(numerics), names)


def rdx_terms(fit: Any) -> list:
    """The intercept (if any) and every term of the fit as :class:`PlainTerm` (None for a term
    that is not of plain data columns)."""
    columns = set(fit.design.kept_data().columns)
    cache: dict = {}
    out: list = [PlainTerm([], (), ["(Intercept)"])] if fit.design.intercept else []
    for in_term in fit.design.terms.factors.T.tolist():
        variables = [v for v, f in enumerate(in_term) if f]
        out.append(plain_term(fit, columns, variables, cache))
    return out


def numeric_product(fit: Any, numerics: tuple) -> np.ndarray | None:
    """The product of the numeric variables, left to right (None for none: all ones)."""
    frame_vars = fit.design.frame_parts[0]
    value = None
    for v in numerics:
        xv = frame_vars[v].astype(float, copy=False)
        value = xv if value is None else value * xv
    return value


def cell_codes(factors: list, rows: Any = slice(None)) -> Any:
    """Each row's cell among the factors' cells (first factor fastest; 0 without factors)."""
    code, stride = 0, 1
    for _, codes, k in factors:
        code = code + codes[rows] * stride
        stride *= k
    return code


def plain_columns(fit: Any, term: PlainTerm, n: int) -> np.ndarray:
    """``model.matrix(~ 0 + term)`` of a plain term (rows × cells)."""
    value = numeric_product(fit, term.numerics)
    out = np.zeros((n, len(term.names)))
    out[np.arange(n), cell_codes(term.factors)] = 1.0 if value is None else value
    return out


def cell_coding(fit: Any) -> tuple[np.ndarray, list]:
    """lmerTest's ``get_rdX``: the intercept and the full dummy coding of each term
    (``model.matrix(~ 0 + term)``), with their column names (rows × cells)."""
    data = fit.design.kept_data()
    labels = ["(Intercept)"] * fit.design.intercept + list(fit.design.term_labels)
    parts, names = [], []
    for label, term in zip(labels, rdx_terms(fit)):
        if term is None:
            mm = model_matrix(f"~ 0 + {label}", data)
            parts.append(mm.to_numpy(dtype=float))
            names += list(mm.columns)
        else:
            parts.append(plain_columns(fit, term, data.shape[0]))
            names += term.names
    return np.hstack(parts), names


def joint_cells(terms: list, n: int) -> tuple[np.ndarray, int, np.ndarray]:
    """Each row's joint cell of all the terms' factors (0 … G − 1; renumbered in the order of
    the distinct values whenever the product of the numbers of levels exceeds the rows), G,
    and one row of each joint cell (row 0 for a cell without rows)."""
    seen: dict = {}
    for term in terms:
        for v, codes, k in term.factors:
            seen.setdefault(v, (codes, k))
    g, G = np.zeros(n, dtype=np.intp), 1
    for codes, k in seen.values():
        if G * k > n and G > 1:
            uniq, g = np.unique(g, return_inverse=True)
            G = len(uniq)
        g = codes if G == 1 else g + codes * G
        G *= k
    if G > n:
        uniq, g = np.unique(g, return_inverse=True)
        G = len(uniq)
    rep = np.zeros(G, dtype=np.intp)
    rep[g] = np.arange(n)
    return g, G, rep


def cell_gram(fit: Any) -> tuple[np.ndarray, list] | None:
    """rdX'rdX (cells × cells) and the cells' names without forming rdX: with g the rows' joint
    cells and m_a the distinct products of the terms' numeric variables, H_ab[g] =
    Σ_{rows in g} m_a m_b, and entry (c, d) is H_ab summed over the joint cells that fall in
    cell c (of a term with product m_a) and in cell d (product m_b). None when a term is not
    of plain data columns, or when the joint cells times the products outnumber twice the rows
    (then rdX itself is smaller)."""
    terms = rdx_terms(fit)
    if not terms or any(term is None for term in terms):
        return None
    n = fit.design.kept_data().shape[0]
    g, G, rep = joint_cells(terms, n)
    products = list(dict.fromkeys(term.numerics for term in terms))
    M = len(products)
    if M * G > 2 * n:
        return None
    values = [numeric_product(fit, key) for key in products]
    H = np.empty((M, M, G))
    for a in range(M):
        for b in range(a, M):
            w = values[b] if values[a] is None else (
                values[a] if values[b] is None else values[a] * values[b])
            H[a, b] = H[b, a] = np.bincount(g, weights=w, minlength=G)
    names = [nm for term in terms for nm in term.names]
    B = np.zeros((M, G, len(names)))  # B[a, g, c] = 1: joint cell g falls in cell c (product a)
    start, every = 0, np.arange(G)
    for term in terms:
        B[products.index(term.numerics), every, start + cell_codes(term.factors, rep)] = 1.0
        start += len(term.names)
    W = np.einsum("abg,bgd->agd", H, B)
    return B.reshape(M * G, -1).T @ W.reshape(M * G, -1), names
