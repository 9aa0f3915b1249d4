"""lme4's lmer as a package by stage: ``terms`` (random-effect terms, lme4's reTrms) →
``fit`` (``lmer()``: design, rank check) → ``optimize`` (the PLS criterion minimised over θ,
lme4's optimizeLmer/checkConv) → ``model`` (``LmerMod``: the fit's state and R's generics)
with ``predict``, ``influence``, ``ranef``, ``varcorr``, ``anova``, ``confint`` (``profile``,
``sdcor``, ``spline``), ``summary`` (lme4's printouts) and ``broom`` (broom.mixed's tables).
"""

from __future__ import annotations

from .fit import lmer  # noqa: F401
from .model import LmerMod  # noqa: F401
from .optimize import LmerControl, lmerControl  # noqa: F401
from .varcorr import VarCorr  # noqa: F401
