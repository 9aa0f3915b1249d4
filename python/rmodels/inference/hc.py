"""Heteroskedasticity-consistent covariances: sandwich's ``vcovHC`` and ``meatHC`` (sandwich
3.0, R/vcovHC.R).

meat = Σ ωᵢ xᵢxᵢ' / n with the per-row ω from the residual factor uᵢ (ψᵢ = uᵢ xᵢ), the
leverages hᵢ and p = round(Σ h):

    const  Σ u² / (n − k)        HC2   u² / (1 − h)
    HC0    u²                    HC3   u² / (1 − h)²
    HC1    u² · n / (n − k)      HC4   u² / (1 − h)^δ,  δ = min(4, n h / p)
    HC4m   u² / (1 − h)^δ, δ = min(1, n h / p) + min(1.5, n h / p)
    HC5    u² / sqrt((1 − h)^δ),  δ = min(n h / p, max(4, 0.7 n max(h) / p))
"""

from __future__ import annotations

import warnings
from typing import Any, Optional

import numpy as np
import pandas as pd

from ..errors import RModelsWarning
from .estfun import ScoreParts, matrix_frame, residual_factor, sandwich_matrix, score_parts
from .grouped import is_grouped, per_group

__all__ = ["vcovHC", "meatHC", "HC_TYPES", "hc_omega"]

HC_TYPES = ("HC3", "const", "HC", "HC0", "HC1", "HC2", "HC4", "HC4m", "HC5")
HAT_TYPES = ("HC2", "HC3", "HC4", "HC4m", "HC5")


def hc_omega(type: str, u: np.ndarray, h: Optional[np.ndarray], df: int) -> np.ndarray:  # noqa: A002
    """sandwich's ω for one HC type (the table in the module docstring). With fewer hat values
    than rows (zero weights: R's ``hatvalues`` drops those rows), the hat-value factor is
    recycled over the rows as R's arithmetic recycles it, with R's warning."""
    n = len(u)
    u2 = u * u
    if type == "const":
        return np.full(n, u2.sum() / df)
    if type in ("HC", "HC0"):
        return u2
    if type == "HC1":
        return u2 * n / df
    assert h is not None
    return u2 / r_recycled(hat_divisor(type, h, n), n)


def hat_divisor(type: str, h: np.ndarray, n: int) -> np.ndarray:  # noqa: A002
    """The divisor of u² for the hat-value types (one value per hat value; n = rows)."""
    if type == "HC2":
        return 1 - h
    if type == "HC3":
        return (1 - h) ** 2
    p = int(np.round(h.sum()))
    nh = n * h / p
    if type == "HC4":
        return (1 - h) ** np.minimum(4.0, nh)
    if type == "HC4m":
        return (1 - h) ** (np.minimum(1.0, nh) + np.minimum(1.5, nh))
    delta = np.minimum(nh, np.maximum(4.0, n * 0.7 * h.max() / p))
    return np.sqrt((1 - h) ** delta)


def r_recycled(v: np.ndarray, n: int) -> np.ndarray:
    """v recycled to length n as R's arithmetic does, with R's warning when n is not a
    multiple of its length."""
    if len(v) == n:
        return v
    if n % len(v):
        warnings.warn("longer object length is not a multiple of shorter object length",
                      RModelsWarning, stacklevel=4)
    return np.resize(v, n)


def warn_large_hat(type: str, h: np.ndarray, fit: Any) -> None:  # noqa: A002
    """sandwich's warning for hat values within sqrt(eps) of 1 (naming the rows of the model
    matrix at those positions; the row names are built only then)."""
    idx = np.nonzero(h > 1 - np.sqrt(np.finfo(float).eps))[0]
    if len(idx) == 0:
        return
    row_names = fit.row_names
    ids = [row_names[i] for i in idx]
    if len(ids) > 10:
        ids = ids[:10] + ["..."]
    warnings.warn(f"{type} covariances become numerically unstable if hat values are close to "
                  f"1 as for observations {', '.join(ids)}", RModelsWarning, stacklevel=3)


def check_hc_type(type: str, allowed: tuple) -> str:  # noqa: A002
    if type not in allowed:
        raise ValueError(f"'type' should be one of {', '.join(repr(t) for t in allowed)}")
    return "HC0" if type == "HC" else type


def meat_hc_matrix(parts: ScoreParts, type: str) -> np.ndarray:  # noqa: A002
    """sandwich's ``meatHC`` as a k × k array."""
    type = check_hc_type(type, HC_TYPES)
    X = parts.X
    n, k = X.shape
    u = residual_factor(parts)
    h = None
    if type in HAT_TYPES:
        h = parts.hat_values()
        warn_large_hat(type, h, parts.fit)
    omega = hc_omega(type, u, h, n - k)
    Xs = np.sqrt(omega)[:, None] * X
    return Xs.T @ Xs / n


def meatHC(fit: Any, type: str = "HC3") -> pd.DataFrame:  # noqa: N802, A002 - R's names
    """sandwich's ``meatHC(x, type)``: Σ ωᵢ xᵢxᵢ' / n (ω as in the module docstring)."""
    parts = score_parts(fit)
    return matrix_frame(meat_hc_matrix(parts, type), parts.names)


def vcovHC(fit: Any, type: str = "HC3", sandwich: bool = True) -> Any:  # noqa: N802, A002
    """sandwich's ``vcovHC(x, type = "HC3")`` for lm and glm fits: B M B / n with the meat of
    :func:`meatHC` (types "HC3" (default), "const", "HC"/"HC0", "HC1", "HC2", "HC4", "HC4m",
    "HC5"); ``sandwich=False`` returns the meat. A DataFrame named by term (aliased
    coefficients left out, as sandwich). A grouped fit gives one result per group
    (:class:`~rmodels.inference.grouped.GroupedMatrices`)."""
    if is_grouped(fit):
        return per_group(fit, vcovHC, type=type, sandwich=sandwich)
    parts = score_parts(fit)
    M = meat_hc_matrix(parts, type)
    V = sandwich_matrix(parts, M) if sandwich else M
    return matrix_frame(V, parts.names)
