"""design, coding: how each variable enters each term of R's ``model.matrix`` — contrasts or
full indicators by R's rule (the ``factors`` attribute of the terms, with the first factor of a
no-intercept model coded by indicators), the contrast matrix of each factor, and the column
names and ``assign`` vector R gives the model matrix.
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass
from typing import Optional

import numpy as np

from ..errors import DataError, FormulaWarning
from ..formula.terms import Terms
from ..frame import Factor, Mat
from ..frame import transforms as tr
from ..limits import LIMITS


@dataclass
class Coding:
    """How one variable enters one term: "num" (numeric/matrix), "contr" or "full"."""

    var: int
    how: str


def check_dense_budget(rows: int, cols: int, what: str) -> None:
    """Refuse a dense float64 matrix larger than the memory budget
    (``rmodels.limits.LIMITS.model_matrix_bytes``) before it is allocated."""
    need = 8 * int(rows) * int(cols)
    if need > LIMITS.model_matrix_bytes:
        raise DataError(f"{what} would need a dense {rows} x {cols} matrix of "
                        f"{need / 2**30:.1f} GiB, above the memory budget of "
                        f"{LIMITS.model_matrix_bytes / 2**30:.1f} GiB "
                        "(rmodels.limits.LIMITS.model_matrix_bytes)")


def contrast_for(f: Factor, label: str, user: Optional[dict]) -> tuple[np.ndarray, Optional[list],
                                                                       str]:
    """The contrast matrix of factor ``f``, its column names (None: numbered) and the name R
    records in the ``contrasts`` attribute: the user's ``contrasts.arg`` entry, else the one
    ``C()`` set, else ``contr.poly`` for an ordered factor and ``contr.treatment`` otherwise."""
    spec = None
    if user and label in user:
        spec = user[label]
    elif f.contrasts is not None:
        spec = f.contrasts
    if spec is None:
        spec = "contr.poly" if f.ordered else "contr.treatment"
    check_dense_budget(len(f.levels), len(f.levels), f"the contrasts of factor '{label}'")
    if isinstance(spec, tuple):  # set by C(f, contr.xxx): the matrix R's C() attached
        M, names = spec
        return np.ascontiguousarray(M, dtype=float), names, "matrix"
    if isinstance(spec, str):
        name = spec if spec.startswith("contr.") else "contr." + spec
        M, names = _named_contrast_matrix(name, tuple(f.levels))
        return M.copy(), None if names is None else list(names), name
    M = np.asarray(spec, dtype=float)
    if M.ndim != 2 or M.shape[0] != len(f.levels):
        raise DataError(f"wrong number of contrast matrix rows for '{label}'")
    return np.ascontiguousarray(M), None, "matrix"


@functools.lru_cache(maxsize=256)
def _named_contrast_matrix(name: str, levels: tuple) -> tuple[np.ndarray, Optional[tuple]]:
    """``contr.xxx(levels)`` as a C-ordered float matrix and its column names, computed once
    per (name, levels) — the loops of small fits ask for the same ones again and again; the
    caller gets copies (never the cached objects)."""
    M, names = tr.contrast_matrix(name, list(levels))
    M = np.ascontiguousarray(M, dtype=float)
    M.setflags(write=False)
    return M, None if names is None else tuple(names)


def factor_coding_matrix(t: Terms, is_factor: list, resp: Optional[int]) -> np.ndarray:
    """R's ``factors`` attribute (1 = contrasts, 2 = indicators) with model.matrix's
    no-intercept rule: without an intercept, the first factor of the first term holding one is
    coded by indicators."""
    fac = np.array(t.factors, dtype=int, copy=True) if len(t.terms) else np.zeros((0, 0), int)
    if not t.intercept:
        for j in range(len(t.terms)):
            for i in range(len(t.variables)):
                if i != resp and is_factor[i] and fac[i, j] > 0:
                    fac[i, j] = 2
                    return fac
    return fac


def term_codings(t: Terms, kinds: list, resp: Optional[int], vals: list, labels: list,
                 contrasts: Optional[dict]) -> tuple[list, dict, dict]:
    """Per term, the :class:`Coding` of each of its variables; the contrast matrix of each
    factor coded by contrasts (var index -> (M, names)); the contrast names R reports
    (label -> name). A response that appears as a term gets no columns, with R's two
    warnings."""
    is_factor = [k in ("factor", "character", "logical") for k in kinds]
    fac = factor_coding_matrix(t, is_factor, resp)
    codings: list = []
    contrast_mats: dict = {}
    contrasts_used: dict = {}
    for j, term in enumerate(t.terms):
        cod: list = []
        if resp is not None and tuple(term) == (resp,):
            # R's modelmatrix: the response as a term gets no columns, with two warnings
            warnings.warn("the response appeared on the right-hand side and was dropped",
                          FormulaWarning, stacklevel=4)
            warnings.warn(f"problem with term {j + 1} in model.matrix: no columns are assigned",
                          FormulaWarning, stacklevel=4)
            codings.append(cod)
            continue
        for i in term:
            if not is_factor[i]:
                cod.append(Coding(i, "num"))
                continue
            cod.append(Coding(i, "full" if fac[i, j] == 2 else "contr"))
            if fac[i, j] != 2 and i not in contrast_mats:
                M, names, cname = contrast_for(vals[i], labels[i], contrasts)
                contrast_mats[i] = (M, names)
                contrasts_used[labels[i]] = cname
            elif i not in contrasts_used:
                _, _, cname = contrast_for(vals[i], labels[i], contrasts)
                contrasts_used[labels[i]] = cname
        codings.append(cod)
    return codings, contrast_mats, contrasts_used


def component_names(v, label: str, how: str, cm) -> list:
    """Column names one variable contributes to a term: the label alone for a numeric vector,
    label + column name / number for a matrix, label + level (indicators) or label + contrast
    column name / number (contrasts)."""
    if how == "num":
        if isinstance(v, Mat):
            k = v.values.shape[1]
            if k == 1:
                return [label]
            if v.colnames and any(v.colnames):
                return [f"{label}{c}" for c in v.colnames]
            return [f"{label}{j + 1}" for j in range(k)]
        return [label]
    if how == "full":
        return [f"{label}{lv}" for lv in v.levels]
    M, names = cm
    if names is not None:
        return [f"{label}{c}" for c in names]
    return [f"{label}{j + 1}" for j in range(M.shape[1])]


def column_names(codings: list, vals: list, labels: list, contrast_mats: dict,
                 intercept: bool) -> tuple[list, list]:
    """R's column names of the model matrix and its ``assign`` vector (0 = intercept):
    within an interaction the first component varies fastest ("a1:b1", "a2:b1", …)."""
    columns: list = ["(Intercept)"] if intercept else []
    assign: list = [0] if intercept else []
    for j, cod in enumerate(codings):
        if not cod:
            continue
        names = [""]
        first = True
        for c in cod:
            comp = component_names(vals[c.var], labels[c.var], c.how, contrast_mats.get(c.var))
            if first:
                names = comp
                first = False
            else:
                names = [f"{a}:{b}" for b in comp for a in names]
        columns.extend(names)
        assign.extend([j + 1] * len(names))
    return columns, assign
