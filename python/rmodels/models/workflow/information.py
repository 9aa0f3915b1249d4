"""R's ``AIC(m1, m2, ...)`` and ``BIC(m1, m2, ...)``: information criteria of several fits as
one table (``AIC.default``/``BIC.default`` with more than one object)."""

from __future__ import annotations

import warnings
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ... import printing as rf
from ...errors import RModelsError, RModelsWarning

__all__ = ["InformationTable", "information_table", "fit_labels", "loglik_parts"]


class InformationTable(pd.DataFrame):
    """A DataFrame ``df``, ``AIC`` (or ``BIC``) by model whose ``str()`` is R's printed
    data frame (each column formatted with 7 significant digits)."""

    @property
    def _constructor(self):
        return type(self)

    def __str__(self) -> str:
        cols = [rf.format_num(self[c].to_numpy(dtype=float), digits=7) for c in self.columns]
        cells = [[col[i] for col in cols] for i in range(len(self))]
        return rf.print_matrix(cells, [str(r) for r in self.index],
                               [str(c) for c in self.columns], right=True)

    def __repr__(self) -> str:
        return self.__str__()

    def to_string(self, *args, **kwargs) -> str:  # type: ignore[override]
        return self.__str__()


def fit_labels(positional: Sequence[Any], named: dict) -> tuple[list, list]:
    """The fits and their row names: positional fits are ``m1``, ``m2`` … by position (Python
    cannot see the expression R deparses), keyword fits keep their keyword."""
    labels = [f"m{i + 1}" for i in range(len(positional))] + list(named)
    if len(set(labels)) != len(labels):
        raise RModelsError("duplicated model names in AIC()/BIC(): name the fits by keyword")
    return list(positional) + list(named.values()), labels


def loglik_parts(fit: Any) -> tuple[float, float, float]:
    """(logLik, its ``df``, its ``nobs``) of a fit (lmer's logLik is a plain float: its df
    and nobs come from ``logLik_df()`` and ``nobs()``)."""
    ll = fit.logLik()
    if hasattr(ll, "df"):
        return float(ll), float(ll.df), float(ll.nobs)
    return float(ll), float(fit.logLik_df()), float(fit.nobs())


def information_table(fits: Sequence[Any], labels: Sequence[str], criterion: str,
                      k: float = 2.0) -> InformationTable:
    """R's table of ``AIC.default`` (−2 logLik + k·df) or ``BIC.default`` (−2 logLik +
    log(nobs)·df) over several fits: columns ``df`` and the criterion, rows ``labels``; warns as
    R when the fits do not all have the same number of observations."""
    parts = np.array([loglik_parts(fit) for fit in fits], dtype=float)
    val, df, nobs = parts[:, 0], parts[:, 1], parts[:, 2]
    if np.any(nobs != nobs[0]):
        warnings.warn("models are not all fitted to the same number of observations",
                      RModelsWarning, stacklevel=3)
    if criterion == "AIC":
        crit = -2.0 * val + k * df
    else:
        crit = -2.0 * val + np.log(nobs) * df
    return InformationTable({"df": df, criterion: crit}, index=pd.Index(list(labels)))
