"""Benchmark: cluster-robust covariance (sandwich's ``vcovCL``), rmodels vs R's sandwich, and
against the time of the fit itself.

Problem: ``y ~ x1 + x2 + x3 + f`` on ``n`` rows (default 1e6; f with 5 levels → 8 columns) with
a cluster column of 1,000 clusters. Both sides start from a fitted lm and the data frame and
compute ``vcovCL(fit, cluster = ~cl)`` (default type HC1); R's sandwich is timed inside R (data
read and model fitted before the clock). Before timing, rmodels' matrix is checked against R's
(1e-8 relative to the largest entry). The targets of issue 12: at least 20× faster than
sandwich, and at most 2× the time of rmodels' own ``lm`` fit.

Usage: ``python benchmarks/bench_sandwich.py [--n 1000000] [--clusters 1000] [--repeats 5]
[--no-record]`` (from the repository root, with rmodels built). Writes the section "sandwich
vcovCL" of ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import gc
import tempfile
import time

import numpy as np
import pandas as pd
from common import (
    ensure_rmodels,
    fmt_seconds,
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

METHOD = (
    "Method (rmodels): the estimating functions ψᵢ = uᵢxᵢ are never formed as an n × k "
    "matrix. The cluster codes of a whole-number column are v − min(v) (no hashing; other "
    "columns go through `pandas.factorize`); the per-cluster sums Σ_{i∈g} uᵢxᵢ are read from "
    "the model's terms — bincount(c, u) for the intercept, bincount(c, u·x) per numeric "
    "column, bincount(c·L + f, u) times the contrast matrix for a factor — so the dense "
    "model matrix, which a large fit does not keep, is not rebuilt; the meat is the G × k "
    "sums' cross-product, the bread the fit's (R'R)⁻¹ scaled by n.\n"
)


def make_data(n: int, clusters: int, seed: int = 20261207) -> pd.DataFrame:
    """x1..x3 ~ N(0, 1), f with 5 levels, cl with ``clusters`` clusters; y has a cluster
    effect and heteroskedastic noise."""
    rng = np.random.default_rng(seed)
    cl = rng.integers(0, clusters, n)
    x1, x2, x3 = rng.standard_normal((3, n))
    f = rng.integers(0, 5, n)
    y = (1 + 0.5 * x1 - 0.25 * x2 + 0.1 * x3 + 0.2 * f + rng.standard_normal(clusters)[cl]
         + rng.standard_normal(n) * (1 + 0.5 * np.abs(x1)))
    return pd.DataFrame({"y": y, "x1": x1, "x2": x2, "x3": x3,
                         "f": pd.Categorical.from_codes(f, list("abcde")),
                         "cl": cl.astype(float)})


def check_against_r(fit: object, r_setup: str) -> None:
    """rmodels' vcovCL equals sandwich's (1e-8 relative to the largest entry), else raise."""
    import rmodels

    out = run_r(r_setup + "v <- sandwich::vcovCL(fit, cluster = ~cl)\n"
                "cat(sprintf('%.17g', v), sep = '\\n')\n")
    R = np.array([float(v) for v in out.split()]).reshape(-1, int(np.sqrt(len(out.split()))))
    V = rmodels.vcovCL(fit, cluster="cl").to_numpy()
    np.testing.assert_allclose(V, R.T, rtol=1e-8, atol=1e-8 * np.abs(R).max())


def fresh_fit_times(df: pd.DataFrame, repeats: int) -> list[float]:
    """Seconds of vcovCL on a new fit each time (the fit itself not timed)."""
    import rmodels

    out = []
    for _ in range(repeats):
        fit = rmodels.lm(FORMULA, df)
        gc.collect()
        t0 = time.perf_counter()
        rmodels.vcovCL(fit, cluster="cl")
        out.append(time.perf_counter() - t0)
        del fit
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--clusters", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    ensure_rmodels()
    import rmodels

    df = make_data(args.n, args.clusters)
    with tempfile.TemporaryDirectory() as tmp:
        r_setup = (write_r_data(df, tmp) + "suppressMessages(library(sandwich))\n"
                   f"fit <- lm({FORMULA}, data = d)\n")
        fit = rmodels.lm(FORMULA, df)
        check_against_r(fit, r_setup)
        times = {
            "rmodels vcovCL": time_python(lambda: rmodels.vcovCL(fit, cluster="cl"),
                                          args.repeats),
            "rmodels lm fit": time_python(lambda: rmodels.lm(FORMULA, df), args.repeats),
            "R sandwich::vcovCL": time_r(r_setup, "vcovCL(fit, cluster = ~cl)", args.repeats),
            "R lm fit": time_r(r_setup, f"lm({FORMULA}, data = d)", args.repeats),
        }
    # vcovCL on a fit that was never asked for anything else (nothing cached on it)
    fresh = fresh_fit_times(df, args.repeats)
    fit_med = median(times["rmodels lm fit"])
    cold = median(fresh)
    base = median(times["rmodels vcovCL"])
    rows = [[lib, fmt_seconds(median(ts)), fmt_seconds(min(ts)), f"{median(ts) / base:.1f}"]
            for lib, ts in times.items()]
    rows.append(["rmodels vcovCL, first call on a new fit", fmt_seconds(cold),
                 fmt_seconds(min(fresh)), f"{cold / base:.1f}"])
    table = markdown_table(rows, ["step", "median", "min", "time / rmodels vcovCL"],
                           align=["l", "r", "r", "r"])
    speedup = median(times["R sandwich::vcovCL"]) / base
    text = (f"{FORMULA} on {args.n:,} rows, {args.clusters:,} clusters, "
            f"vcovCL(fit, cluster = ~cl) (HC1).\n\n{table}\n\n"
            f"- rmodels vcovCL vs sandwich: **{speedup:.1f}×** faster (target ≥ 20×)\n"
            f"- rmodels vcovCL / rmodels fit: **{base / fit_med:.2f}** "
            f"(first call on a new fit: {cold / fit_med:.2f}; target ≤ 2)\n\n"
            f"{METHOD}\n{machine_summary()}\n")
    print(text)
    if not args.no_record:
        update_results("sandwich vcovCL", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
