"""Influence measures of a glmer fit: lme4's ``hatvalues.merMod`` and
``cooks.distance.merMod`` of a GLMM (what broom.mixed's ``augment`` puts in ``.hat`` and
``.cooksd``), on the rows in the fit; the linear algebra is the lmer package's.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ...errors import RModelsWarning
from ..lmer.influence import cooks_distances, hat_values
from .predict import residual_values

HAT_WARNING = "the hat matrix may not make sense for GLMMs"


def working_weights(fit: Any) -> np.ndarray:
    """The weights w μ'(η)² / V(μ) of lme4's factors L, R_ZX, R_X at the optimum: those of the
    last PIRLS step, taken at the linear predictor before its solve (``eta_weights``)."""
    eta = fit.eta_weights
    me = fit.family.mu_eta(eta)
    return fit.prior_weights * me * me / fit.family.variance(fit.family.linkinv(eta))


def glmm_hat_values(fit: Any, warn: bool = True) -> np.ndarray:
    """lme4's ``hatvalues.merMod`` of a GLMM: colSums(C_L²) + colSums(C_R²) with the factors
    L, R_ZX, R_X at the final working weights and C_L, C_R built with the prior weights;
    with lme4's warning that the hat matrix may not make sense for GLMMs."""
    if warn:
        warnings.warn(HAT_WARNING, RModelsWarning, stacklevel=3)
    return hat_values(fit, working_weights(fit))


def glmm_cooks_distances(fit: Any, hat: np.ndarray) -> np.ndarray:
    """lme4's ``cooks.distance.merMod``: (r/(1−h))² h / (σ̂² p) with the Pearson residuals r
    of the GLMM and σ̂ its scale (1 for binomial and poisson)."""
    return cooks_distances(fit, hat, residual_values(fit, "pearson"))
