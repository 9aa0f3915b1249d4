"""Benchmark: the case bootstrap of an lm, ``car::Boot(fit, R = 999)``, against rmodels'
``Boot(fit, R=999, seed=1)`` on 10,000 rows, same run.

Both draw the same indices (R's ``set.seed(1)`` stream) and refit the model 999 times; R refits
with ``update(fit, subset = indices)`` one replicate at a time. rmodels draws the index matrix in
place (compiled, in replicate order) and refits the 999 resamples with a compiled lm.wfit in R's
operation order on threads (one replicate per thread at a time, so the replicates equal R's bit
for bit whatever the number of threads). The script first checks that the replicates agree
(max relative difference printed), then times: R inside R (``set.seed(1); Boot(m, R = 999)``),
rmodels with ``threads=0`` (all cores) and ``threads=1``. Also timed: the percentile intervals
(``confint(b, type = "perc")``) on top of the replicates.

Usage: ``python benchmarks/bench_boot.py [--rows 10000] [--R 999] [--repeats 3] [--no-record]``
(from the repository root, rmodels built). Writes the section "bootstrap" of
``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import tempfile

import numpy as np
import pandas as pd
from common import (
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

FORMULA = "y ~ x1 + x2 + x3 + f"


def make_data(rows: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 3))
    f = pd.Categorical(rng.choice(list("abcd"), size=rows))
    y = 1 + x @ np.array([0.5, -1.0, 0.25]) + f.codes * 0.3 + rng.normal(size=rows)
    return pd.DataFrame({"y": y, "x1": x[:, 0], "x2": x[:, 1], "x3": x[:, 2], "f": f})


def r_setup(data_code: str) -> str:
    return (data_code + "suppressMessages({library(car); library(boot)})\n"
            f"m <- lm({FORMULA}, data = d)\n")


def check_agreement(d: pd.DataFrame, setup: str, R: int, tmp: str) -> float:
    """Max relative difference between R's and rmodels' replicates."""
    import rmodels as rm

    path = f"{tmp}/t.bin"
    run_r(setup + f"set.seed(1); b <- Boot(m, R = {R}); writeBin(as.vector(b$t), '{path}')\n")
    want = np.fromfile(path, dtype="<f8").reshape(-1, R).T
    got = rm.Boot(rm.lm(FORMULA, d), R=R, seed=1).t_array
    return float(np.max(np.abs(got - want) / np.maximum(np.abs(want), 1e-300)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--R", type=int, default=999)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    ensure_rmodels()
    import rmodels as rm

    info = machine_info()
    d = make_data(args.rows)
    fit = rm.lm(FORMULA, d)
    with tempfile.TemporaryDirectory() as tmp:
        setup = r_setup(write_r_data(d, tmp))
        rel = check_agreement(d, setup, args.R, tmp)
        r_boot = median(time_r(setup, f"set.seed(1); Boot(m, R = {args.R})",
                               repeats=args.repeats, warmup=0))
        r_ci = median(time_r(setup + f"set.seed(1); b <- Boot(m, R = {args.R})\n",
                             "suppressWarnings(confint(b, type = 'perc'))",
                             repeats=args.repeats))
    ours = median(time_python(lambda: rm.Boot(fit, R=args.R, seed=1), repeats=args.repeats))
    ours1 = median(time_python(lambda: rm.Boot(fit, R=args.R, seed=1, threads=1),
                               repeats=args.repeats))
    b = rm.Boot(fit, R=args.R, seed=1)
    ours_ci = median(time_python(lambda: b.confint(type="perc"), repeats=args.repeats))
    rows = [
        [f"`Boot(lm({FORMULA}), R = {args.R})`", fmt_seconds(ours), fmt_seconds(ours1),
         fmt_seconds(r_boot), f"{r_boot / ours:.1f}"],
        ["`confint(b, type = \"perc\")`", fmt_seconds(ours_ci), "", fmt_seconds(r_ci),
         f"{r_ci / ours_ci:.1f}"],
    ]
    headers = ["call", "rmodels (all cores)", "rmodels (1 thread)", "car::Boot (R)",
               "R / rmodels"]
    text = (
        f"Case bootstrap of an lm on {args.rows:,} rows ({len(fit.coef())} coefficients), "
        f"R = {args.R}, "
        f"median of {args.repeats} runs, same run; both with `set.seed(1)`, replicates equal "
        f"to a relative {rel:.1e}. R timed inside R.\n\n" + markdown_table(rows, headers)
        + "\n\nMachine:\n\n" + machine_summary(info))
    print(text)
    if not args.no_record:
        update_results("bootstrap", text)


if __name__ == "__main__":
    main()
