"""rmodels: R's model calls (lm, glm, lmer) for Python, computed by a compiled C++ core."""

from __future__ import annotations

from . import _core  # noqa: F401
from .errors import (  # noqa: F401
    BoundaryWarning,
    ConvergenceWarning,
    DataError,
    FitError,
    FittedValuesWarning,
    FormulaError,
    FormulaWarning,
    PerfectFitWarning,
    RankDeficiencyWarning,
    RModelsError,
    RModelsWarning,
    SingularFitWarning,
)

__version__ = "0.1.0"
