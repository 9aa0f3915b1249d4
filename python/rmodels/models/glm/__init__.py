"""R's glm and MASS's glm.nb, by stage: ``fit`` (glm.fit and glm()'s checks), ``results`` (the
stored fit and R's components), ``model`` (glm() and the GLM generics), ``summary``,
``predict``, ``influence``, ``anova``, ``profile`` (MASS's profile intervals), ``broom``,
``nb`` (glm.nb) and ``call`` (the printed call)."""

from __future__ import annotations

from .call import glm_call_text  # noqa: F401
from .fit import (  # noqa: F401
    GlmCoreFit,
    check_prior_weights,
    emit_r_warnings,
    error_class,
    glm_control,
    glm_fit_matrix,
    response_matrix,
    warning_class,
)
from .model import GLM, glm  # noqa: F401
from .nb import NegBinGLM, glm_nb, theta_ml  # noqa: F401
from .summary import GLMSummary  # noqa: F401
