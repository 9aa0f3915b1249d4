"""R's glm and MASS's glm.nb: fit, summary, predict, anova, profile, broom."""

from __future__ import annotations

from .model import (  # noqa: F401
    DATA_MESSAGES,
    GLM,
    GlmCoreFit,
    NegBinGLM,
    error_class,
    glm,
    glm_call_text,
    glm_nb,
    response_matrix,
    warning_class,
)
