"""Benchmark: lmerTest's type III anova with Satterthwaite's df, rmodels vs lmerTest.

One problem, both libraries timed in the same run (lmerTest inside R, data loaded before the
clock): a simulated unbalanced design (seed 2026) with subjects crossed with items,
``y ~ A * B + x1 + x2 + (x1 | subj) + (1 | item)``: 14 fixed-effect columns (A: 4 levels,
B: 3 levels, two covariates), 4 variance parameters.

Two timings:

1. ``anova``: the type III table of a fitted model (and types II and I). Both lmerTest's
   ``lmer`` and ``rmodels.lmerTest.lmer`` compute the Hessian and Jacobian in (θ, σ) when the
   model is fitted, so this is ``anova(m)`` alone (contrasts and F tests). The headline figure
   is the FIRST table of a fresh fit (fits made before the clock, one per timed call): rmodels
   then builds the hypothesis matrices as lmerTest does on every call. rmodels keeps a fit's
   hypothesis matrices after its first table of a type (they depend on the design only), so a
   repeated table of one fit is also timed; lmerTest keeps nothing (its figure is the same).
2. fit + anova: ``lmerTest::lmer(...)`` then ``anova(m)`` against ``rmodels.lmerTest.lmer(...)``
   then ``.anova()``.

BLAS runs on one thread in both (R's reference BLAS has one; for numpy the script sets
``OPENBLAS_NUM_THREADS=1`` unless it is set).

Before timing the tables are compared (largest relative difference of DenDF, F, p printed).

Usage: ``python benchmarks/bench_lmertest.py [--repeats 5] [--no-record]`` (from the
repository root, with rmodels built). Writes the section "lmerTest" of ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from typing import Any, Callable

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from common import (  # noqa: E402
    ensure_rmodels,
    fmt_seconds,
    machine_info,
    machine_summary,
    markdown_table,
    median,
    run_r,
    time_python,
    time_r,
    update_results,
    write_r_data,
)

FORMULA = "y ~ A * B + x1 + x2 + (x1 | subj) + (1 | item)"


def simulated_data(seed: int = 2026) -> pd.DataFrame:
    """120 subjects × 40 items, a quarter of the cells missing; A, B item factors, x1, x2
    covariates; random intercept and x1 slope per subject, random intercept per item."""
    rng = np.random.default_rng(seed)
    ns, ni = 120, 40
    cells = [(s, i) for s in range(ns) for i in range(ni) if rng.random() > 0.25]
    s = np.array([a for a, _ in cells])
    it = np.array([b for _, b in cells])
    n = len(cells)
    a = it % 4
    b = (it // 4) % 3
    x1 = rng.normal(size=n)
    x2 = rng.uniform(-1, 1, size=n)
    u0 = rng.normal(scale=1.0, size=ns)
    u1 = rng.normal(scale=0.4, size=ns)
    w = rng.normal(scale=0.7, size=ni)
    y = (2 + 0.3 * a - 0.2 * b + 0.1 * a * b + 0.5 * x1 - 0.3 * x2 + u0[s] + u1[s] * x1
         + w[it] + rng.normal(size=n))
    return pd.DataFrame({
        "y": y,
        "A": pd.Categorical(np.array(["a1", "a2", "a3", "a4"])[a]),
        "B": pd.Categorical(np.array(["b1", "b2", "b3"])[b]),
        "x1": x1, "x2": x2,
        "subj": pd.Categorical([f"s{v:03d}" for v in s]),
        "item": pd.Categorical([f"i{v:02d}" for v in it])})


def r_anova_table(setup: str) -> np.ndarray:
    """lmerTest's type III table (Satterthwaite) as an array (terms × 6)."""
    out = run_r(setup + "suppressMessages(library(lmerTest))\n"
                f"m <- lmerTest::lmer({FORMULA}, d)\n"
                "a <- as.matrix(anova(m))\n"
                "cat(sprintf('%.17g', t(a)), sep = '\\n')\n")
    return np.array([float(v) for v in out.split()]).reshape(-1, 6)


#: (label, first call on a fresh fit, type) of the anova timings; the first row is the headline
TIMINGS = [("type III anova, first call on a fresh fit", True, "III"),
           ("type III anova, repeated on one fit", False, "III"),
           ("type II anova, first call on a fresh fit", True, "II"),
           ("type I anova, first call on a fresh fit", True, "I")]
#: fresh fits (timed calls) for a first-call figure, at least
FIRST_CALLS = 20


def anova_call(fit: Any, data: pd.DataFrame, first: bool, kind: str,
               calls: int) -> Callable[[], Any]:
    """``anova(type=kind)`` of the fit, or (``first``) of a fresh fit per call (``calls`` fits
    made before the clock)."""
    if not first:
        return lambda: fit.anova(type=kind)
    from rmodels.lmerTest import lmer
    fresh = [lmer(FORMULA, data) for _ in range(calls)]
    return lambda: fresh.pop().anova(type=kind)


def cpu_python(call: Callable[[], Any], calls: int) -> float:
    """Mean CPU seconds (process time) of ``calls`` calls after one untimed call: less
    sensitive to other processes than the clock."""
    call()
    t0 = time.process_time()
    for _ in range(calls):
        call()
    return (time.process_time() - t0) / calls


def cpu_r(setup: str, expr: str, calls: int) -> float:
    """Mean CPU seconds (user + system of ``proc.time``) of ``expr`` in R, ``calls`` calls
    after one untimed call."""
    out = run_r(setup + f"invisible({expr}); t0 <- proc.time()\n"
                f"for (i in seq_len({calls})) invisible({expr})\n"
                "t <- proc.time() - t0\n"
                f"cat('CPU', sprintf('%.9f', (t[['user.self']] + t[['sys.self']]) / {calls}), "
                "'\\n')\n")
    return float(next(x for x in out.splitlines() if x.startswith("CPU")).split()[1])


def cpu_row(label: str, t_rm: float, t_r: float) -> list:
    return [label, fmt_seconds(t_rm), fmt_seconds(t_r), f"{t_r / t_rm:.1f}x"]


def timing_row(label: str, t_rm: list, t_r: list) -> list:
    return [label, fmt_seconds(median(t_rm)), fmt_seconds(median(t_r)),
            f"{median(t_r) / median(t_rm):.1f}x"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    ensure_rmodels()
    from rmodels.lmerTest import lmer

    info = machine_info()
    data = simulated_data()
    with tempfile.TemporaryDirectory() as tmp:
        setup = write_r_data(data, tmp, "d")
        ref = r_anova_table(setup)
        fit = lmer(FORMULA, data)
        mine = fit.anova().to_numpy()
        rel = float(np.max(np.abs(mine[:, 3:] - ref[:, 3:]) / np.abs(ref[:, 3:])))
        if rel > 1e-4:
            raise SystemExit(f"anova table differs from lmerTest's (rel {rel:.2e})")

        r_setup = setup + "suppressMessages(library(lmerTest))\n" \
            f"m <- lmerTest::lmer({FORMULA}, d)\n"
        rows, r_times = [], {}
        for label, first, kind in TIMINGS:
            calls = max(args.repeats, FIRST_CALLS) if first else args.repeats
            call = anova_call(fit, data, first, kind, calls + 1)
            t_rm = time_python(call, repeats=calls, warmup=1)
            if kind not in r_times:  # lmerTest computes every table from scratch
                r_times[kind] = time_r(r_setup, f"anova(m, type = '{kind}')",
                                       repeats=args.repeats, warmup=1)
            rows.append(timing_row(label, t_rm, r_times[kind]))
        calls = max(args.repeats, FIRST_CALLS) * 2
        r_cpu = cpu_r(r_setup, "anova(m, type = 'III')", calls)
        rows.append(cpu_row("type III, first call, CPU time (mean)",
                            cpu_python(anova_call(fit, data, True, "III", calls + 1), calls),
                            r_cpu))
        rows.append(cpu_row("type III, repeated, CPU time (mean)",
                            cpu_python(anova_call(fit, data, False, "III", calls), calls),
                            r_cpu))
        t_rm_fit = time_python(lambda: lmer(FORMULA, data).anova(), repeats=args.repeats,
                               warmup=1)
        t_r_fit = time_r(setup + "suppressMessages(library(lmerTest))\n",
                         f"m <- lmerTest::lmer({FORMULA}, d); anova(m)",
                         repeats=args.repeats, warmup=1)
        rows.append(timing_row("fit + type III anova", t_rm_fit, t_r_fit))
    text = (
        f"`anova(fit, type=, ddf=\"Satterthwaite\")` of `{FORMULA}` on simulated "
        f"unbalanced data (n = {len(data)}, {fit.p} fixed-effect columns, "
        f"{len(fit.theta) + 1} variance parameters); median of {args.repeats} runs, lmerTest "
        "3.1-3 timed inside R, BLAS on one thread (first calls: median of "
        f"{max(args.repeats, FIRST_CALLS)} fresh fits). Both compute the (θ, σ) Hessian and "
        "Jacobian when fitting. The headline is the first table of a fresh fit (\"first "
        "call\": rmodels builds the hypothesis matrices then, as lmerTest does on every call); "
        "rmodels keeps a fit's hypothesis matrices (they depend on the design alone), so "
        "\"repeated\" times a fit's later tables; lmerTest keeps nothing, so its figure is "
        "the same for both. The \"CPU time\" rows are the mean process time (user + system) of "
        f"{max(args.repeats, FIRST_CALLS) * 2} calls in each, less sensitive to a loaded "
        "machine than the clock. "
        f"Largest relative difference of DenDF, F and p from lmerTest's: {rel:.1e}.\n\n"
        + markdown_table(rows, ["", "rmodels", "lmerTest (R)", "speed-up"])
        + "\nMachine:\n\n" + machine_summary(info))
    print(text)
    if not args.no_record:
        update_results("lmerTest", text)


if __name__ == "__main__":
    main()
