"""A batch of fuzz inputs in this process (started by :mod:`tests.fuzz.run`).

Usage: ``python -m tests.fuzz.worker SEED COUNT``. Each input is announced on stdout
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


def emit(line: str) -> None:
    sys.stdout.write(line.replace("\n", "\\n") + "\n")
    sys.stdout.flush()


def run_batch(batch_seed: int, count: int) -> None:
    data = fuzz_frame()
    counter = [0]

    @seed(batch_seed)
    @settings(max_examples=count, database=None, deadline=None, derandomize=False,
              suppress_health_check=list(HealthCheck))
    @given(st.sampled_from(TARGETS), formulas())
    def one(target: str, formula: str) -> None:
        counter[0] += 1
        emit(f"IN {target} {formula!r}")
        kind, detail = classify(call_for(target, counter[0]), formula, data,
                                check_frame=counter[0] % 50 == 0)
        emit(f"OUT {kind} {detail}")

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        one()
    emit("DONE")


if __name__ == "__main__":
    run_batch(int(sys.argv[1]), int(sys.argv[2]))
