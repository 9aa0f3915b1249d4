"""Models: the fit contract shared by all models, the GLM families, one package per model."""

from __future__ import annotations

from .families import (  # noqa: F401
    Family,
    Gamma,
    as_family,
    binomial,
    gaussian,
    inverse_gaussian,
    negative_binomial,
    poisson,
    power,
    quasi,
    quasibinomial,
    quasipoisson,
)
