"""design, fill: the model matrix's columns filled from the frame's variables by the compiled
kernel ``_core.fill_term`` (numeric columns, contrast or indicator codings of factors, and
their products for interactions), as a dense column-major matrix or kept by rows
(``_core.DesignRows``) when it is tall and mostly zeros.
"""

from __future__ import annotations

import numpy as np

from .. import _core
from ..frame import Mat
from .coding import check_dense_budget


def term_components(n: int, codings: list, vals: dict, contrast_mats: dict):
    """Yield (first column, width, components) per term with columns, components as
    ``_core.fill_term`` takes them; the intercept (column 0) is not included."""
    col = 0
    for cod in codings:
        if not cod:  # a term with no columns (the response on the right-hand side)
            continue
        comps = []
        width = 1
        for c in cod:
            v = vals[c.var]
            if c.how == "num":
                if isinstance(v, Mat):
                    M = v.values
                else:
                    M = np.asarray(v, dtype=np.float64).reshape(n, 1)
                M = np.asfortranarray(M, dtype=np.float64)
                comps.append(("num", M))
                width *= M.shape[1]
            else:
                C = contrast_mats[c.var][0] if c.how == "contr" else \
                    np.eye(len(v.levels), dtype=np.float64)
                comps.append(("fac", np.ascontiguousarray(v.codes, dtype=np.int32),
                              np.ascontiguousarray(C, dtype=np.float64)))
                width *= C.shape[1]
        yield col, width, comps
        col += width


def fill_model_matrix(n: int, intercept: bool, codings: list, vals: dict, contrast_mats: dict,
                      p: int) -> np.ndarray:
    """The (n, p) model matrix, Fortran-ordered float64 (refused up front when it is larger
    than the memory budget)."""
    check_dense_budget(n, p, "the model matrix")
    X = np.empty((n, p), dtype=np.float64, order="F")
    off = 0
    if intercept:
        X[:, 0] = 1.0
        off = 1
    if 0 < n <= SMALL_FILL_ROWS:
        codings, off = _fill_plain_numbers(X, off, codings, vals)
    for col, width, comps in term_components(n, codings, vals, contrast_mats):
        if not width:
            continue
        if len(comps) == 1 and 0 < n <= SMALL_FILL_ROWS and \
                fill_single_component(X, off + col, width, comps[0]):
            continue
        _core.fill_term(X, off + col, comps)
    return X


def _fill_plain_numbers(X: np.ndarray, off: int, codings: list, vals: dict) -> tuple[list, int]:
    """Copy the leading terms that are one float64 vector each into their columns (what
    ``_core.fill_term`` writes for them); the codings left and the column where they start."""
    j = 0
    for j, cod in enumerate(codings):
        if not cod:
            continue
        v = vals[cod[0].var]
        if len(cod) != 1 or cod[0].how != "num" or not (
                isinstance(v, np.ndarray) and v.ndim == 1 and v.dtype == np.float64):
            return codings[j:], off
        X[:, off] = v
        off += 1
    return codings[j + 1:] if codings else codings, off


#: Up to this many rows a term of one component (a numeric variable, or a factor without
#: missing codes) is copied by NumPy: the same values (plain copies, no arithmetic) without
#: the compiled call's fixed cost, which dominates for small data.
SMALL_FILL_ROWS = 2048


def fill_single_component(X: np.ndarray, col: int, width: int, comp: tuple) -> bool:
    """Write a one-component term into ``X[:, col:col + width]`` as ``_core.fill_term`` does
    (numeric columns copied; a factor's coding-matrix rows picked by its codes); False (nothing
    written) for a factor with a missing or out-of-range code, which the kernel handles."""
    if comp[0] == "num":
        X[:, col:col + width] = comp[1]
        return True
    codes, coding = comp[1], comp[2]
    if codes.min() < 0 or codes.max() >= coding.shape[0]:
        return False
    X[:, col:col + width] = coding[codes]
    return True


def model_matrix_rows(n: int, intercept: bool, codings: list, vals: dict, contrast_mats: dict,
                      p: int):
    """The model matrix kept by rows (``_core.DesignRows``), or None when it is not tall and
    mostly zeros (see ``_core.design_rows``)."""
    off = 1 if intercept else 0
    terms: list = [(0, [])] if intercept else []
    terms += [(off + col, comps) for col, width, comps in
              term_components(n, codings, vals, contrast_mats) if width]
    return _core.design_rows(n, p, terms)
