"""One fuzz input against one public call, classified.

Outcomes: ``ok`` (a result), ``error`` (an exception of the package's own classes), ``foreign``
(any other exception, or a warning that is not the package's), ``hang`` (over the CPU-time bound)
and ``mutated`` (the caller's DataFrame changed). Crashes are seen by the parent process.
"""

from __future__ import annotations

import signal
import warnings
from typing import Callable

import pandas as pd
import rmodels
from rmodels.errors import RModelsError, RModelsWarning

TARGETS = ["model_matrix", "model_frame", "lm", "glm", "lmer", "glmer"]
GLM_FAMILIES = ["gaussian", "binomial", "poisson", "Gamma", "quasipoisson", "inverse.gaussian"]
GLMER_FAMILIES = ["binomial", "poisson", "binomial(link = 'probit')", "poisson(link = 'sqrt')"]
#: seconds of CPU time (the process's, user + system) one input may take: CPU time, not wall
#: time, so that a loaded machine does not turn slow inputs into hangs; a compiled call that
#: never returns is caught by the driver (tests.fuzz.run) instead
TIME_BOUND = 5.0


class FuzzTimeout(BaseException):
    """Raised by the profiling interval timer when one input runs past the bound."""


def _on_alarm(signum, frame):
    raise FuzzTimeout()


def call_for(target: str, k: int) -> Callable[[str, pd.DataFrame], object]:
    """The public call ``target`` (for glm and glmer: family number ``k`` in rotation)."""
    if target == "model_matrix":
        return lambda f, d: rmodels.model_matrix(f, d)
    if target == "model_frame":
        return lambda f, d: rmodels.model_frame(f, d)
    if target == "lm":
        return lambda f, d: rmodels.summary(rmodels.lm(f, d))
    if target == "glm":
        fam = GLM_FAMILIES[k % len(GLM_FAMILIES)]
        return lambda f, d: rmodels.summary(rmodels.glm(f, d, family=fam))
    if target == "lmer":
        return lambda f, d: rmodels.summary(rmodels.lmer(f, d))
    if target == "glmer":
        gfam = GLMER_FAMILIES[k % len(GLMER_FAMILIES)]
        return lambda f, d: rmodels.summary(rmodels.glmer(f, d, family=gfam))
    raise ValueError(target)


def classify(call: Callable[[str, pd.DataFrame], object], formula: str, data: pd.DataFrame,
             bound: float = TIME_BOUND, check_frame: bool = False) -> tuple[str, str]:
    """Run ``call(formula, data)`` under the CPU-time bound: (outcome, detail)."""
    before = data.copy(deep=True) if check_frame else None
    old = signal.signal(signal.SIGPROF, _on_alarm)
    signal.setitimer(signal.ITIMER_PROF, bound)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            call(formula, data)
        foreign = [w for w in caught if not issubclass(w.category, RModelsWarning)]
        outcome = ("foreign", f"warning {foreign[0].category.__name__}: {foreign[0].message}"
                   ) if foreign else ("ok", "")
    except FuzzTimeout:
        outcome = ("hang", f"over {bound} s")
    except RModelsError as exc:
        outcome = ("error", type(exc).__name__)
    except Exception as exc:  # noqa: BLE001 - the point is to catch what is not ours
        outcome = ("foreign", f"{type(exc).__name__}: {str(exc)[:200]}")
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, old)
    if before is not None and outcome[0] != "hang" and not before.equals(data):
        outcome = ("mutated", "the caller's DataFrame changed")
    return outcome
