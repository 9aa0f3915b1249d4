"""Grouped fits (by=): one fit per group of rows, all groups in one compiled call."""

from __future__ import annotations

from .engine import (  # noqa: F401
    FitList,
    glm,
    lm,
)
