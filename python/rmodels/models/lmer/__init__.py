"""lme4's lmer: random-effect terms, PLS fit, summary, profile, broom.mixed."""

from __future__ import annotations

from .model import (  # noqa: F401
    lmer,
)
