"""glmer: generalized linear mixed models as ``lme4::glmer`` (1.1-31): PIRLS on lmer's
penalized least squares core, the Laplace approximation, adaptive Gauss-Hermite quadrature and
nAGQ = 0 (see :mod:`.fit`, :mod:`.optimize`, :mod:`.model`); ``glmer.nb`` (:mod:`.nb`)."""

from .fit import glmer
from .model import GlmerMod
from .nb import glmer_nb
from .optimize import GlmerControl, glmerControl

__all__ = ["GlmerControl", "GlmerMod", "glmer", "glmerControl", "glmer_nb"]
