"""The families glmer accepts, as ``lme4::glmer`` (1.1-31): the glm core's families (and
MASS's ``negative.binomial(theta)``)
(:mod:`rmodels.models.families`) with lme4's checks (quasi families refused) and lme4's
``hasNoScale`` (which families have a dispersion parameter, lme4's ``useSc``).
"""

from __future__ import annotations

from ...errors import FitError
from ..families import Family

#: The glm families glmer fits (gaussian with the identity link goes to lmer first).
GLMER_FAMILIES = ("binomial", "poisson", "Gamma", "inverse.gaussian", "gaussian")
QUASI_FAMILIES = ("quasibinomial", "quasipoisson", "quasi")


def check_glmer_family(fam: Family) -> None:
    """lme4's ``glFormula`` check: quasi families stop with lme4's message; the families the
    compiled PIRLS has no criterion for raise :class:`FitError`."""
    if fam.family in QUASI_FAMILIES:
        raise FitError('"quasi" families cannot be used in glmer')
    if fam.family not in GLMER_FAMILIES and fam.core_name != "negative.binomial":
        raise FitError(f"glmer: the {fam.family} family is not supported (binomial, poisson, "
                       "Gamma, inverse.gaussian, gaussian and negative.binomial(theta) are)")


def has_scale(fam: Family) -> bool:
    """lme4's ``!hasNoScale(family)``: False for the poisson, binomial and negative binomial
    families (the first 12 characters of ``family$family``), True otherwise."""
    return fam.family[:12] not in ("poisson", "binomial", "negative.bin", "Negative Bin")
