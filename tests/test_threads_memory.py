"""Threads and memory: grouped fits are bit-identical for any thread count; fits from several
Python threads at once give the serial results; the compiled fit releases the GIL; the resident
set stays flat over the issue's 10,000 lm, 2,000 glm and 500 lmer fits (after a warm-up; a
control loop that leaks shows the measurement can fail)."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import threading
import time

import numpy as np
import pandas as pd
import pytest
import rmodels
from rmodels import _core


@pytest.fixture(scope="module")
def grouped() -> pd.DataFrame:
    return grouped_frame()


def grouped_frame() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 4000
    x = rng.normal(size=n)
    return pd.DataFrame({"grp": rng.integers(0, 60, size=n), "x": x,
                         "z": rng.normal(size=n),
                         "y": 1 + 2 * x + rng.normal(size=n),
                         "cnt": rng.poisson(np.exp(0.3 + 0.2 * x)).astype(float),
                         "g": pd.Categorical(rng.integers(0, 8, size=n).astype(str))})


@pytest.mark.parametrize("kind", ["lm", "glm"])
def test_grouped_fits_bit_identical_for_1_2_8_threads(grouped, kind):
    call = (lambda t: rmodels.lm("y ~ x + z", grouped, by="grp", threads=t)) if kind == "lm" \
        else (lambda t: rmodels.glm("cnt ~ x + z", grouped, family="poisson", by="grp",
                                    threads=t))
    tables = [rmodels.tidy(call(t)) for t in (1, 2, 8)]
    for other in tables[1:]:
        pd.testing.assert_frame_equal(tables[0], other, check_exact=True)


@pytest.mark.parametrize("threads", [None, 2**31, -1, 1.5, True, "2"])
def test_bad_thread_counts_are_package_errors(grouped, threads):
    with pytest.raises(rmodels.DataError, match="'threads'"):
        rmodels.lm("y ~ x", grouped, by="grp", threads=threads)


def _fits(data: pd.DataFrame) -> list:
    lm = rmodels.coef(rmodels.lm("y ~ x + z + g", data)).to_numpy()
    glm = rmodels.coef(rmodels.glm("cnt ~ x + g", data, family="poisson")).to_numpy()
    lmer = rmodels.fixef(rmodels.lmer("y ~ x + (1 | g)", data)).to_numpy()
    return [lm, glm, lmer]


def test_four_python_threads_give_the_serial_results(grouped):
    data = grouped.iloc[:1500]
    serial = _fits(data)
    out: dict = {}

    def work(k: int) -> None:
        out[k] = [_fits(data) for _ in range(2)]

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for k in range(4):
        for rep in out[k]:
            for a, b in zip(rep, serial):
                np.testing.assert_array_equal(a, b)


def longest_stall(work) -> tuple[float, float]:
    """Run ``work`` in a thread while this thread keeps sampling the clock: (the longest
    interval inside the work's own start..end window with no sample from this thread, the
    work's duration). A call that holds the GIL leaves no sample inside its window."""
    window: list = []
    done = threading.Event()

    def run() -> None:
        t0 = time.perf_counter()
        work()
        window.extend([t0, time.perf_counter()])
        done.set()

    worker = threading.Thread(target=run)
    samples = [time.perf_counter()]
    worker.start()
    while not done.is_set():
        now = time.perf_counter()
        if now - samples[-1] >= 0.001:
            samples.append(now)
    worker.join()
    t0, t1 = window
    points = [t0] + [t for t in samples if t0 < t < t1] + [t1]
    return max(b - a for a, b in zip(points, points[1:])), t1 - t0


def test_gil_is_released_during_a_million_row_fit():
    rng = np.random.default_rng(5)
    n = 1_000_000
    X = np.asfortranarray(np.column_stack([np.ones(n), rng.normal(size=(n, 7))]))
    y = np.asfortranarray((X @ np.arange(8.0) + rng.normal(size=n))[:, None])

    def fit() -> None:
        _core.lm_wfit(X.copy(order="F"), y, None, None, 1e-7, overwrite_x=True,
                      defer_factor=False)

    stall, span = longest_stall(fit)
    # had the GIL been held, the stall would be the whole fit (a margin is left for the
    # scheduler of a busy machine)
    assert stall < 0.8 * span


def test_stall_probe_sees_a_call_that_holds_the_gil():
    import math
    stall, span = longest_stall(lambda: math.factorial(120_000))
    assert stall > 0.8 * span


def _rss_mb() -> float:
    import resource
    gc.collect()
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    return pages * resource.getpagesize() / 2**20


#: the issue's loop: 10,000 lm, 2,000 glm and 500 lmer fits (with their summaries)
LOOP = {"lm": 10_000, "glm": 2_000, "lmer": 500}
#: allowed growth of the resident set over the loop, after the warm-up
FLAT_MB = 8.0


def fit_loop(data: pd.DataFrame, counts: dict, keep: list | None = None) -> None:
    """``counts[kind]`` fits of each kind in a loop; ``keep`` (the probe's control) retains a
    copy of each lm fit's residuals and fitted values, a leak of 2n doubles per fit."""
    for _ in range(counts.get("lm", 0)):
        fit = rmodels.lm("y ~ x + z + g", data)
        rmodels.summary(fit)
        if keep is not None:
            keep.append(np.concatenate([rmodels.residuals(fit), rmodels.fitted(fit)]))
    for _ in range(counts.get("glm", 0)):
        rmodels.summary(rmodels.glm("cnt ~ x + g", data, family="poisson"))
    for _ in range(counts.get("lmer", 0)):
        rmodels.summary(rmodels.lmer("y ~ x + (1 | g)", data))


def rss_growth(data: pd.DataFrame, counts: dict, keep: list | None = None) -> float:
    """Resident-set growth (MB) over :func:`fit_loop`, after a warm-up of a tenth of the loop
    (caches, allocator pools, lazily imported modules)."""
    fit_loop(data, {k: max(1, v // 10) for k, v in counts.items()})
    before = _rss_mb()
    fit_loop(data, counts, keep)
    return _rss_mb() - before


def rss_growth_in_child(counts: dict, leak: bool = False) -> float:
    """:func:`rss_growth` in a fresh interpreter: in this one, the heap freed by earlier tests
    would absorb a leak without growing the resident set."""
    tests_dir = os.path.dirname(os.path.abspath(__file__))
    package_dir = os.path.dirname(os.path.dirname(os.path.abspath(rmodels.__file__)))
    code = ("import test_threads_memory as t; "
            f"print(t.rss_growth(t.grouped_frame().iloc[:300], {counts!r}, "
            f"{'[]' if leak else 'None'}))")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([package_dir, tests_dir]))
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return float(proc.stdout.strip().splitlines()[-1])


def test_resident_memory_flat_over_many_fits():
    assert rss_growth_in_child(LOOP) < FLAT_MB


def test_memory_probe_sees_a_leak():
    """The control: the same measurement on a loop that keeps 600 doubles per lm fit (4,000 x
    4.8 KB = 19.2 MB) reports more than the bound."""
    assert rss_growth_in_child({"lm": 4_000}, leak=True) > FLAT_MB
