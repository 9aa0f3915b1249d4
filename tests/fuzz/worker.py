"""A batch of fuzz inputs in this process (started by :mod:`tests.fuzz.run`).

Usage: ``python -m tests.fuzz.worker SEED COUNT [SKIP]``. The batch's inputs depend only on SEED
and COUNT; the first SKIP of them are generated but not run (a batch restarted after a crash
goes on after the input that crashed). Each input run is announced on stdout
(``IN <target> <repr(formula)>``) before it runs and its outcome after (``OUT <kind> <detail>``),
so the parent knows which input was running when the process died or stalled.
"""

from __future__ import annotations

import sys
import warnings

from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from .strategies import formulas, fuzz_frame
from .targets import TARGETS, call_for, classify

#: one valid input per target, run untimed before the batch: the lazy imports they make
#: (scipy.stats takes seconds on a loaded machine) must not count against an input's bound
WARM_UP = {"model_matrix": "y ~ x + a", "model_frame": "y ~ x + a", "lm": "y ~ x + a",
           "glm": "bin ~ x", "lmer": "y ~ x + (1 | g)", "glmer": "bin ~ x + (1 | g)"}


def emit(line: str) -> None:
    sys.stdout.write(line.replace("\n", "\\n") + "\n")
    sys.stdout.flush()


def warm_up(data) -> None:
    """Each target once on a valid formula, outside the time bound."""
    for target in TARGETS:
        try:
            call_for(target, 0)(WARM_UP[target], data)
        except Exception:  # noqa: BLE001,S110 - only the imports matter here
            pass


def run_batch(batch_seed: int, count: int, skip: int = 0) -> None:
    data = fuzz_frame()
    counter = [0]

    @seed(batch_seed)
    @settings(max_examples=count, database=None, deadline=None, derandomize=False,
              suppress_health_check=list(HealthCheck))
    @given(st.sampled_from(TARGETS), formulas())
    def one(target: str, formula: str) -> None:
        counter[0] += 1
        if counter[0] <= skip:
            return
        emit(f"IN {target} {formula!r}")
        kind, detail = classify(call_for(target, counter[0]), formula, data,
                                check_frame=counter[0] % 50 == 0)
        emit(f"OUT {kind} {detail}")

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        warm_up(data)
        one()
    emit("DONE")


if __name__ == "__main__":
    run_batch(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 0)
