"""The "Correlation of Coefficients" block of R's ``print.summary.lm`` and
``print.summary.glm`` (``summary(fit, correlation = TRUE)``, ``symbolic.cor = FALSE``)."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .numbers import format_num
from .rounding import round_r
from .vectors import print_matrix

__all__ = ["correlation_from_cov", "correlation_block"]


def correlation_from_cov(cov: np.ndarray) -> np.ndarray:
    """cov / outer(sd, sd), sd = sqrt(diag(cov)) (summary.lm's and summary.glm's
    ``correlation``)."""
    cov = np.asarray(cov, dtype=float)
    sd = np.sqrt(np.diag(cov))
    with np.errstate(divide="ignore", invalid="ignore"):
        return cov / np.outer(sd, sd)


def correlation_block(corr: np.ndarray, names: Sequence[str], digits: int = 4) -> str:
    """``"\\nCorrelation of Coefficients:\\n"`` and the lower triangle of
    ``format(round(correl, 2), nsmall = 2, digits = digits)`` without its first row and last
    column, printed unquoted and left-justified; "" when there is a single coefficient."""
    p = corr.shape[0]
    if p <= 1:
        return ""
    rounded = round_r(np.asarray(corr, dtype=np.float64).ravel(order="F"), 2)
    cells = np.array(format_num(rounded, digits=digits, nsmall=2), dtype=object)
    cells = cells.reshape((p, p), order="F")
    rows = [[cells[i, j] if i > j else "" for j in range(p - 1)] for i in range(1, p)]
    return "\nCorrelation of Coefficients:\n" + print_matrix(
        rows, list(names)[1:], list(names)[:-1], right=False, quote=False)
