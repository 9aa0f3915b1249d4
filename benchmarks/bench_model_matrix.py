"""Benchmark: building a model matrix, rmodels vs R's model.matrix vs formulaic.

Formula ``~ x1 + x2 + x3 + f1 + f2 + x1:f2`` on ``n`` rows (default 1e6): three standard normal
columns, ``f1`` a factor with 50 levels and ``f2`` one with 20 (uniformly drawn, all levels
present). The matrix has 1 + 3 + 49 + 19 + 19 = 91 columns (``x1:f2`` is coded by contrasts
because ``x1`` precedes it, R's rule). R is timed inside R (data read from binary files before the
clock starts); each library's median of ``--repeats`` runs is reported with the ratio to rmodels,
and the peak extra resident memory of one call in a fresh process. Before timing, rmodels' column
names and column sums are checked against R's on the first 20,000 rows.

Usage: ``python benchmarks/bench_model_matrix.py [--n 1000000] [--repeats 5] [--no-memory]``
(from the repository root, with rmodels built). Writes the section "model_matrix" of
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
    peak_memory_python,
    peak_memory_r,
    run_r,
    time_python,
    time_r,
    update_results,
    write_r_data,
)

FORMULA = "~ x1 + x2 + x3 + f1 + f2 + x1:f2"
FORMULAIC_FORMULA = "x1 + x2 + x3 + f1 + f2 + x1:f2"
CHECK_ROWS = 20_000


def make_data(n: int, seed: int = 20261125) -> pd.DataFrame:
    """The benchmark's data: x1, x2, x3 ~ N(0, 1); f1 with 50 levels, f2 with 20."""
    rng = np.random.default_rng(seed)
    f1_levels = [f"g{k:02d}" for k in range(1, 51)]
    f2_levels = [f"h{k:02d}" for k in range(1, 21)]
    return pd.DataFrame(
        {
            "x1": rng.standard_normal(n),
            "x2": rng.standard_normal(n),
            "x3": rng.standard_normal(n),
            "f1": pd.Categorical.from_codes(rng.integers(0, 50, n), f1_levels),
            "f2": pd.Categorical.from_codes(rng.integers(0, 20, n), f2_levels),
        }
    )


def check_against_r(df: pd.DataFrame, tmp: str) -> None:
    """rmodels' column names and column sums equal R's on the first rows (else raise)."""
    import rmodels

    head = df.iloc[:CHECK_ROWS]
    code = write_r_data(head, f"{tmp}/check")
    out = run_r(code + f"m <- model.matrix({FORMULA}, d)\n"
                "cat(colnames(m), sep = '\\n'); cat('--\\n')\n"
                "cat(sprintf('%.17g', colSums(m)), sep = '\\n')\n")
    names_part, sums_part = out.split("--\n")
    r_names = names_part.splitlines()
    r_sums = np.array([float(v) for v in sums_part.split()])
    ours = rmodels.model_matrix(FORMULA, head)
    if list(ours.columns) != r_names:
        raise AssertionError("rmodels' column names differ from R's")
    np.testing.assert_allclose(ours.to_numpy().sum(axis=0), r_sums, rtol=1e-10, atol=1e-8)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory runs")
    parser.add_argument("--no-record", action="store_true", help="do not write RESULTS.md")
    args = parser.parse_args()

    ensure_rmodels()
    import formulaic
    import rmodels

    info = machine_info()
    df = make_data(args.n)
    with tempfile.TemporaryDirectory() as tmp:
        check_against_r(df, tmp)
        r_setup = write_r_data(df, f"{tmp}/full")
        r_expr = f"model.matrix({FORMULA}, d)"

        times = {
            "rmodels": time_python(lambda: rmodels.model_matrix(FORMULA, df), args.repeats),
            "R model.matrix": time_r(r_setup, r_expr, args.repeats),
            "formulaic": time_python(lambda: formulaic.model_matrix(FORMULAIC_FORMULA, df),
                                     args.repeats),
        }
        memory = {}
        if not args.no_memory:
            py_setup = f"from bench_model_matrix import make_data\ndf = make_data({args.n})\n"
            memory["rmodels"] = peak_memory_python(
                py_setup + "import rmodels", f"m = rmodels.model_matrix({FORMULA!r}, df)")
            memory["R model.matrix"] = peak_memory_r(r_setup, r_expr)
            memory["formulaic"] = peak_memory_python(
                py_setup + "import formulaic",
                f"m = formulaic.model_matrix({FORMULAIC_FORMULA!r}, df)")

    base = median(times["rmodels"])
    rows = []
    for lib, ts in times.items():
        med = median(ts)
        mem = f"{memory[lib].extra_mb:,.0f}" if lib in memory else "-"
        rows.append([lib, fmt_seconds(med), fmt_seconds(min(ts)), f"{med / base:.2f}", mem])
    table = markdown_table(rows, ["library", "median", "min", "time / rmodels",
                                  "peak extra MiB"], align=["l", "r", "r", "r", "r"])
    ratio_r = median(times["R model.matrix"]) / base
    ratio_f = median(times["formulaic"]) / base
    print(table)
    print(f"rmodels is {ratio_r:.2f}x faster than R's model.matrix and {ratio_f:.2f}x faster "
          "than formulaic (median of each)")

    if not args.no_record:
        section = (
            f"`model_matrix(\"{FORMULA}\", data)` on n = {args.n:,} rows (x1..x3 normal, f1 with "
            f"50 levels, f2 with 20; {len(rmodels.model_matrix(FORMULA, df.iloc[:10]).columns)} "
            f"columns), median of {args.repeats} runs each, same run; R timed inside R. "
            "Peak extra MiB: resident memory one call needed on top of its inputs, in a fresh "
            "process. rmodels' column names and column sums were checked against R's first.\n\n"
            + table
            + f"\nrmodels vs R: **{ratio_r:.2f}x** faster; vs formulaic: **{ratio_f:.2f}x**.\n\n"
            + "Machine:\n\n" + machine_summary(info)
        )
        update_results("model_matrix", section)


if __name__ == "__main__":
    main()
