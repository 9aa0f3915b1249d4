"""frame transforms, scale: R's ``base::scale`` (centre and scale a column) and the state R's
``makepredictcall`` keeps (``center``, ``scale``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Union

import numpy as np

from ...errors import DataError
from ...rsums import r_sum
from .arithmetic import ArrayLike, as_float_vector, col_mean


@dataclass(frozen=True)
class ScaleState:
    """What R keeps in ``predvars`` for ``scale(x)``: ``scale(x, center = c, scale = s)``.
    ``center`` / ``scale`` are floats, or None where R's argument was FALSE."""

    center: float | None
    scale: float | None

    def apply(self, x_new: ArrayLike) -> np.ndarray:
        """(x_new - center) / scale with the stored numbers, as an n x 1 matrix."""
        M, _ = scale(x_new,
                     center=False if self.center is None else self.center,
                     scale=False if self.scale is None else self.scale)
        return M


def scale(
    x: ArrayLike,
    center: Union[bool, float] = True,
    scale: Union[bool, float] = True,
) -> tuple[np.ndarray, ScaleState]:
    """R's ``scale(x, center = TRUE, scale = TRUE)`` for one column; returns ``(M n x 1, state)``.

    center=True: c = mean of the non-NA values (R's ``colMeans(na.rm = TRUE)``, long-double
    accumulation); a number: c = that number; False: no centring.
    scale=True: s = sqrt(sum(v^2) / max(1, m - 1)) over the m non-NA values v of the
    (centred) column — the standard deviation when centred, the root mean square otherwise;
    a number: s = that number; False: no scaling.  Result (x - c) / s; NA stays NA.
    """
    v = as_float_vector(x)
    out = v.copy()
    c: float | None = None
    if isinstance(center, (bool, np.bool_)):
        if center:
            c = col_mean(v[~np.isnan(v)])
            out = out - c
    else:
        c = float(np.asarray(center, dtype=float).reshape(-1)[0]) if np.size(center) == 1 else None
        if c is None:
            raise DataError("length of 'center' must equal the number of columns of 'x'")
        out = out - c
    s: float | None = None
    if isinstance(scale, (bool, np.bool_)):
        if scale:
            w = out[~np.isnan(out)]
            s = math.sqrt(r_sum(w * w) / max(1, w.size - 1))
    else:
        if np.size(scale) != 1:
            raise DataError("length of 'scale' must equal the number of columns of 'x'")
        s = float(np.asarray(scale, dtype=float).reshape(-1)[0])
    if s is not None:
        with np.errstate(divide="ignore", invalid="ignore"):  # a zero sd gives NaN/Inf as in R
            out = out / s
    return out[:, None], ScaleState(center=c, scale=s)
