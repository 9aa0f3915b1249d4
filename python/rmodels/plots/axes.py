"""matplotlib, imported when a plot is first drawn, and the pieces of R's base graphics the
panels share: R's axis extension (``xaxs = "r"``: 4% of the range each side), open circles,
the red smooth line, dotted reference lines and ``text.id``'s labels."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..errors import MissingDependencyError

__all__ = ["figure", "r_limits", "extendrange", "points", "line", "label_points", "R_RED",
           "R_GRAY8"]

R_RED = "#DF536B"  # palette()[2] in R >= 4.0
R_GRAY8 = "#9E9E9E"  # palette()[8], "gray62"


def figure(nrows: int, ncols: int, size: tuple) -> Any:
    """A matplotlib Figure (not registered with pyplot: nothing to close) with a grid of
    axes; :class:`MissingDependencyError` without matplotlib."""
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise MissingDependencyError("plot() needs matplotlib: pip install "
                                     "'rmodels[plot]'") from exc
    fig = Figure(figsize=size, layout="constrained")
    fig.subplots(nrows, ncols, squeeze=False)
    return fig


def extendrange(lo: float, hi: float, f: float) -> tuple:
    """R's ``extendrange(r = c(lo, hi), f)``."""
    d = f * (hi - lo)
    return lo - d, hi + d


def r_limits(lo: float, hi: float) -> tuple:
    """The plotting region R uses for data limits (lo, hi): 4% of the range each side; a
    zero range is widened by 40% of the value (1 around zero), as R's ``GScale``."""
    if hi == lo:
        d = 0.4 * abs(lo) if lo != 0 else 1.0
        lo, hi = lo - d, hi + d
        return lo, hi
    return extendrange(lo, hi, 0.04)


def points(ax: Any, x: np.ndarray, y: np.ndarray) -> Any:
    """Open circles (pch 1) at (x, y)."""
    (ln,) = ax.plot(x, y, linestyle="none", marker="o", markersize=5, markerfacecolor="none",
                    markeredgecolor="black", markeredgewidth=0.8, gid="points")
    return ln


def line(ax: Any, x: Sequence, y: Sequence, gid: str, color: str = "black",
         style: str = "-") -> Any:
    (ln,) = ax.plot(x, y, color=color, linestyle=style, linewidth=1.0, gid=gid)
    return ln


def label_points(ax: Any, x: np.ndarray, y: np.ndarray, labels: list, xlim: tuple,
                 above: bool = False) -> None:
    """``text.id``: each label right of its point (left of it past the middle of the x
    range), or above it; small type (cex 0.75)."""
    mid = 0.5 * (xlim[0] + xlim[1])
    for xi, yi, lab in zip(x, y, labels):
        if above:
            offset, ha, va = (0, 3), "center", "bottom"
        elif xi > mid:
            offset, ha, va = (-3, 0), "right", "center"
        else:
            offset, ha, va = (3, 0), "left", "center"
        ax.annotate(str(lab), (xi, yi), xytext=offset, textcoords="offset points", ha=ha,
                    va=va, fontsize=7.5, gid="id", annotation_clip=False)
