"""R's ``vcov.lm`` / ``vcov.mlm`` and ``confint.lm``: V = σ̂²(R'R)⁻¹ and the t intervals
β̂ ± qt((1 ± level)/2, rdf)·SE."""

from __future__ import annotations

import warnings
from typing import Any, Optional, Sequence, Union

import numpy as np
import pandas as pd

from ...errors import FitError, RModelsWarning
from ..contract import perc_labels
from .distributions import qt
from .wfit import LmArrays

__all__ = ["vcov_lm", "vcov_mlm", "confint_lm"]


def vcov_lm(a: LmArrays, coef_names: Sequence[str], resvar: float,
            complete: bool = True) -> pd.DataFrame:
    """σ̂²(R'R)⁻¹ in the original column order; with ``complete=True`` aliased coefficients get
    NaN rows and columns, otherwise they are left out."""
    piv = a.pivot[: a.rank]
    R = a.qr.cov_unscaled()
    if not complete:
        order = np.sort(piv)
        inv = {c: i for i, c in enumerate(piv)}
        idx = [inv[c] for c in order]
        nm = [coef_names[c] for c in order]
        return pd.DataFrame(resvar * R[np.ix_(idx, idx)], index=pd.Index(nm),
                            columns=pd.Index(nm))
    pc = len(coef_names)
    V = np.full((pc, pc), np.nan)
    V[np.ix_(piv, piv)] = resvar * R
    return pd.DataFrame(V, index=pd.Index(list(coef_names)), columns=pd.Index(list(coef_names)))


def vcov_mlm(a: LmArrays, coef_names: Sequence[str],
             response_names: Sequence[str]) -> pd.DataFrame:
    """R's ``vcov.mlm``: ``kronecker(estVar, cov.unscaled)`` with names
    ``response:coefficient`` (estVar = E'E / rdf)."""
    if a.weights is not None:
        raise FitError("'mlm' objects with weights are not supported")
    piv = a.pivot[: a.rank]
    e = a.residuals[a.used]
    est_var = (e.T @ e) / a.df_residual
    names_c = [coef_names[i] for i in piv]
    nm = [f"{r}:{c}" for r in response_names for c in names_c]
    return pd.DataFrame(np.kron(est_var, a.qr.cov_unscaled()), index=pd.Index(nm),
                        columns=pd.Index(nm))


def confint_lm(coef: pd.Series, vcov: pd.DataFrame, rdf: int,
               parm: Optional[Union[str, Sequence[Any]]] = None,
               level: float = 0.95) -> pd.DataFrame:
    """R's ``confint.lm``: columns ``"2.5 %"``/``"97.5 %"`` (percentages to 3 significant
    digits); NaN rows for aliased coefficients. ``parm``: names, or 0-based positions."""
    ses = np.sqrt(np.diag(vcov.to_numpy()))
    names = list(coef.index)
    if parm is None:
        sel = list(names)
    else:
        items = [parm] if isinstance(parm, (str, int, np.integer)) else list(parm)
        sel = [names[int(v)] if isinstance(v, (int, np.integer)) else str(v) for v in items]
    a = (1 - level) / 2
    probs = [a, 1 - a]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fac = np.array([qt(pr, rdf) for pr in probs])
    if rdf <= 0:
        warnings.warn("NaNs produced", RModelsWarning, stacklevel=3)
    pos = {nm: i for i, nm in enumerate(names)}
    vals = np.full((len(sel), 2), np.nan)
    for i, nm in enumerate(sel):
        if nm in pos:
            k = pos[nm]
            vals[i] = coef.iloc[k] + ses[k] * fac
    return pd.DataFrame(vals, index=pd.Index(sel), columns=pd.Index(perc_labels(probs)))
