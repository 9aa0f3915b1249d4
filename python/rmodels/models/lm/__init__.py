"""R's lm: fit (:mod:`.fit`, kernel in :mod:`.wfit`), the fit object (:mod:`.model`), summary,
covariance and intervals, predict, influence, anova, broom."""

from __future__ import annotations

from .fit import lm, lm_call_args, lm_fit_design  # noqa: F401
from .model import LM  # noqa: F401
from .summary import LMSummary, MLMSummary, SummaryStats, summary_sums  # noqa: F401
from .wfit import LmArrays, WeightedQR, cov_unscaled_pivoted, empty_fit  # noqa: F401
