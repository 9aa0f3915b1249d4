"""Grouped fits (by=): one fit per group of rows, all groups in one compiled call, results kept
as arrays (see :mod:`rmodels.batch.api`)."""

from __future__ import annotations

from .api import glm, lm  # noqa: F401
from .results import FailedFit, FitList  # noqa: F401
