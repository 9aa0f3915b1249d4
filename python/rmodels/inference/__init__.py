"""Inference that applies to many models: the bootstrap (car::Boot, boot.ci) and R's own
random numbers (:mod:`.rrandom`)."""

from . import rrandom
from .boot import Boot
from .bootci import BootResult

__all__ = ["Boot", "BootResult", "rrandom"]
