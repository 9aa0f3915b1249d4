"""lme4's ``dotplot(ranef(fit, condVar = TRUE))``, a caterpillar plot: per grouping factor one
row of panels, one panel per random effect, the levels on the vertical axis ordered by their
first effect (lme4's ``reorder(factor(levels), first column)``, ties in sorted level order),
each conditional mode as a dot with a bar of ±1.96 conditional standard deviations, a line at
zero; the panels of a factor share both axes (lattice's ``relation = "same"``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .. import generics as g
from ..collation import sort_levels
from .axes import figure, r_limits

__all__ = ["RanefDots", "ranef_dots", "draw_caterpillar"]

LATTICE_BLUE = "#0080FF"


@dataclass
class RanefDots:
    """One grouping factor's dots: ``modes`` and ``se`` (levels × effects) in plotting order
    (bottom to top)."""

    group: str
    levels: list
    effects: list
    modes: np.ndarray
    se: np.ndarray


def level_order(levels: list, first: np.ndarray) -> np.ndarray:
    """Positions of the levels from bottom to top: by the first effect's value, ties in the
    order of ``factor(levels)`` (sorted strings)."""
    base = sort_levels([str(v) for v in levels])
    rank = {v: i for i, v in enumerate(base)}
    by_name = np.array(sorted(range(len(levels)), key=lambda i: rank[str(levels[i])]))
    return by_name[np.argsort(first[by_name], kind="stable")]


def ranef_dots(fit: Any) -> list:
    """The dots of every grouping factor (``ranef(fit, condVar = TRUE)``, its ``postVar``
    diagonal as the variances)."""
    out = []
    for group, df in g.ranef(fit, condVar=True).items():
        modes = df.to_numpy(dtype=float)
        pv = np.asarray(df.attrs["postVar"], dtype=float)
        se = np.sqrt(np.stack([np.diagonal(pv[i]) for i in range(pv.shape[0])]))
        order = level_order(list(df.index), modes[:, 0])
        out.append(RanefDots(str(group), [str(df.index[i]) for i in order], list(df.columns),
                             modes[order], se[order]))
    return out


def _dot_panel(ax: Any, dots: RanefDots, j: int, xlim: tuple) -> None:
    y = np.arange(1, len(dots.levels) + 1)
    for yi in y:
        ax.axhline(yi, color="#E6E6E6", linewidth=0.8, zorder=0)
    ax.axvline(0.0, color="#E6E6E6", linewidth=0.8, zorder=0)
    x, hw = dots.modes[:, j], 1.96 * dots.se[:, j]
    ax.hlines(y, x - hw, x + hw, color="black", linewidth=0.8, gid="ci")
    ax.plot(x, y, linestyle="none", marker="o", markersize=4, color=LATTICE_BLUE, gid="points")
    ax.set_xlim(*xlim)
    ax.set_ylim(0.4, len(dots.levels) + 0.6)
    ax.set_yticks(y, labels=dots.levels, fontsize=7 if len(y) > 30 else 9)
    ax.set_title(dots.effects[j], fontsize=9, backgroundcolor="#FFE5CC")


def draw_caterpillar(fit: Any) -> Any:
    """The caterpillar plot of an lmer fit as one Figure (a row per grouping factor)."""
    groups = ranef_dots(fit)
    ncols = max(len(d.effects) for d in groups)
    tall = sum(max(3.0, 0.18 * len(d.levels)) for d in groups)
    fig = figure(len(groups), ncols, (3.2 * ncols, tall))
    axes = np.array(fig.axes).reshape(len(groups), ncols)
    for row, dots in enumerate(groups):
        lo = np.nanmin(dots.modes - 1.96 * dots.se)
        hi = np.nanmax(dots.modes + 1.96 * dots.se)
        for j in range(ncols):
            ax = axes[row, j]
            if j >= len(dots.effects):
                ax.set_visible(False)
                continue
            _dot_panel(ax, dots, j, r_limits(lo, hi))
            if j > 0:
                ax.tick_params(labelleft=False)
        if len(groups) > 1:
            axes[row, 0].set_ylabel(dots.group, fontweight="bold")
    if len(groups) == 1:  # lattice's main title: the grouping factor
        fig.suptitle(groups[0].group, fontweight="bold")
    return fig


def as_frame(dots: RanefDots) -> pd.DataFrame:
    """The dots as a long table (level, effect, mode, se) for checks."""
    rows = [(lv, ef, dots.modes[i, j], dots.se[i, j])
            for j, ef in enumerate(dots.effects) for i, lv in enumerate(dots.levels)]
    return pd.DataFrame(rows, columns=["level", "effect", "mode", "se"])
