"""inference: what applies to many models — sandwich's robust covariances (heteroskedasticity-,
cluster- and autocorrelation-consistent), lmtest's tests with them, the bootstrap (car::Boot,
boot.ci) and R's own random numbers (:mod:`.rrandom`).

Modules: ``estfun`` (estimating functions, bread, meat, sandwich), ``hc`` (vcovHC), ``cluster``
(vcovCL), ``hac`` (vcovHAC, NeweyWest, kernHAC and their bandwidths), ``lmtest`` (coeftest,
coefci, waldtest), ``grouped`` (per-group results of grouped fits), ``rrandom`` (R's
Mersenne-Twister, runif, rnorm, sample), ``boot`` and ``bootci`` (car::Boot and its intervals).
"""

from __future__ import annotations

from . import rrandom  # noqa: F401
from .boot import Boot  # noqa: F401
from .bootci import BootResult  # noqa: F401
from .cluster import meatCL, vcovCL  # noqa: F401
from .estfun import bread, estfun, meat, sandwich  # noqa: F401
from .grouped import GroupedMatrices  # noqa: F401
from .hac import (  # noqa: F401
    NeweyWest,
    bwAndrews,
    bwNeweyWest,
    kernHAC,
    kweights,
    vcovHAC,
    weightsAndrews,
)
from .hc import meatHC, vcovHC  # noqa: F401
from .lmtest import CoefTest, GroupedCoefTest, WaldTest, coefci, coeftest, waldtest  # noqa: F401
