"""R's lm: fit, summary, predict, influence, anova, broom."""

from __future__ import annotations

from .model import (  # noqa: F401
    LM,
    cov_unscaled_pivoted,
    empty_fit,
    lm,
    lm_call_args,
    summary_sums,
)
