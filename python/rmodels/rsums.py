"""R's ``sum()`` and ``mean()`` of doubles (summary.c), computed by the core: a sequential sum
accumulated in long double; the mean refined by a second pass."""

from __future__ import annotations

import numpy as np

from . import _core


def r_sum(x: np.ndarray) -> float:
    """R's ``sum()`` of doubles: a sequential sum accumulated in long double, then rounded."""
    return float(_core.r_sum(np.ascontiguousarray(x, dtype=np.float64).ravel()))


def r_mean(x: np.ndarray) -> float:
    """R's ``mean()`` of doubles: long-double sum / n, refined by one more pass (NaN when
    empty)."""
    return float(_core.r_mean(np.ascontiguousarray(x, dtype=np.float64).ravel()))
