"""``plot(fit)``: R's diagnostic plots with matplotlib (extra ``rmodels[plot]``; matplotlib
is imported when the first plot is drawn). lm and glm fits get ``plot.lm``'s panels
(:mod:`.lm_panels` from the numbers of :mod:`.diagnostics`, the smooth from :mod:`.lowess`, a
port of R's ``clowess``); lmer fits lme4's caterpillar plot of ``ranef(condVar = TRUE)``
(:mod:`.caterpillar`)."""

from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

from ..errors import DataError
from ..models.glm import GLM
from ..models.glmer import GlmerMod
from ..models.lm import LM
from ..models.lmer import LmerMod
from .axes import figure
from .caterpillar import draw_caterpillar
from .diagnostics import lm_diagnostics
from .lm_panels import draw_panel

__all__ = ["plot"]

GRIDS = {1: (1, 1), 2: (1, 2), 3: (2, 2), 4: (2, 2), 5: (2, 3), 6: (2, 3)}


def _which(which: Optional[Sequence[int]]) -> list:
    ks = [1, 2, 3, 5] if which is None else [int(k) for k in np.atleast_1d(which)]
    if any(k < 1 or k > 6 for k in ks):
        raise DataError("'which' must be in 1:6")
    return sorted(set(ks))


def plot_lm(fit: Any, which: Optional[Sequence[int]] = None, id_n: int = 3) -> Any:
    """R's ``plot.lm(fit, which, id.n)`` as one Figure, the panels in R's order."""
    ks = _which(which)
    d = lm_diagnostics(fit)
    if id_n < 0 or id_n > len(d.residuals):
        raise DataError(f"'id.n' must be in {{1,..,{len(d.residuals)}}}")
    nrow, ncol = GRIDS[len(ks)]
    fig = figure(nrow, ncol, (4.8 * ncol, 4.4 * nrow))
    for ax, k in zip(fig.axes, ks):
        draw_panel(ax, k, d, id_n)
    for ax in fig.axes[len(ks):]:
        ax.set_visible(False)
    return fig


def plot(fit: Any, which: Optional[Sequence[int]] = None, id_n: int = 3) -> Any:
    """R's ``plot()`` of a fit, drawn with matplotlib; returns the ``matplotlib.figure.Figure``.

    lm and glm: ``plot.lm``'s panels ``which`` (default 1, 2, 3, 5: residuals vs fitted with
    R's lowess, normal Q-Q of the standardized residuals, scale-location, Cook's distance,
    residuals vs leverage with Cook's distance contours 0.5 and 1, or R's constant-leverage
    panel; 6: Cook's distance vs h/(1 − h)), the ``id_n`` most extreme rows labelled with R's
    row names as R picks them. Differences: the panels share one figure (R draws one page each
    unless ``par(mfrow)`` is set), no sub-caption. lmer and glmer: lme4's
    ``dotplot(ranef(fit, condVar = TRUE))``. Needs matplotlib (``pip install
    'rmodels[plot]'``)."""
    if isinstance(fit, (LmerMod, GlmerMod)):
        if which is not None:
            raise DataError("which= applies to lm and glm fits; a mixed model has one "
                            "(caterpillar) plot")
        return draw_caterpillar(fit)
    if isinstance(fit, (LM, GLM)):
        if isinstance(fit, LM) and fit.is_mlm:
            raise DataError("plot() does not draw multivariate (mlm) fits")
        return plot_lm(fit, which, id_n)
    raise DataError(f"plot() does not know fits of class {type(fit).__name__}")



