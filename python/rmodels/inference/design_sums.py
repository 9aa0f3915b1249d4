"""Per-cluster sums of the estimating functions, S_g = Σ_{i∈g} uᵢ xᵢ (G × p), read from the
model's terms when the fit did not keep its dense model matrix (large tall fits go by the
design's rows and never build it), so that vcovCL costs a few passes over the rows instead of
rebuilding X.

Term by term (the columns of ``design.fill.term_components``): the intercept is
bincount(c, u); a numeric column x is bincount(c, u·x); a factor with coding matrix K (L × w)
is T K with T_{g,l} = Σ_{i∈g, fᵢ=l} uᵢ = bincount(c·L + f, u); terms of several components
(interactions) are filled into an n × w block and summed column by column. With the dense X
at hand the columns are summed directly.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _core
from ..design.fill import term_components

__all__ = ["column_sums", "design_cluster_sums"]


def column_sums(u: np.ndarray, X: np.ndarray, codes: np.ndarray, m: int) -> np.ndarray:
    """Σ_{i∈g} uᵢ xᵢ from the columns of X (m × X's columns), one bincount per column."""
    out = np.zeros((m, X.shape[1]))
    for j in range(X.shape[1]):
        out[:, j] = np.bincount(codes, weights=u * X[:, j], minlength=m)
    return out


def term_sums(u: np.ndarray, comps: list, width: int, codes: np.ndarray, m: int,
              n: int) -> np.ndarray:
    """Σ_{i∈g} uᵢ x_{ij} over one term's columns (see the module docstring)."""
    if len(comps) == 1 and comps[0][0] == "num":
        return column_sums(u, comps[0][1], codes, m)
    if len(comps) == 1:
        fcodes, K = comps[0][1].astype(np.int64), comps[0][2]
        L = K.shape[0]
        T = np.bincount(codes * L + fcodes, weights=u, minlength=m * L).reshape(m, L)
        return T @ K
    block = np.empty((n, width), dtype=np.float64, order="F")
    _core.fill_term(block, 0, comps)
    return column_sums(u, block, codes, m)


def design_cluster_sums(design: Any, u: np.ndarray, codes: np.ndarray, m: int,
                        keep: np.ndarray) -> np.ndarray:
    """S (m × number of kept columns): the per-cluster sums of uᵢ xᵢ over the design's columns
    (``keep``: the non-aliased ones)."""
    if design.X is not None:
        X = design.X
        return column_sums(u, X[:, keep] if not keep.all() else X, codes, m)
    sp = design.spec
    n = len(u)
    p = len(sp.columns)
    out = np.zeros((m, p))
    off = 0
    if sp.intercept:
        out[:, 0] = np.bincount(codes, weights=u, minlength=m)
        off = 1
    vals = dict(enumerate(design.frame_parts[0]))
    for col, width, comps in term_components(n, sp.codings, vals, sp.contrast_mats):
        if width:
            out[:, off + col:off + col + width] = term_sums(u, comps, width, codes, m, n)
    return out[:, keep]
