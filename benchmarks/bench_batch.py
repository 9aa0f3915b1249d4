"""Benchmark: grouped ("by") fits, rmodels ``lm(..., by="g")`` vs R's ``lapply(split(...))`` vs a
statsmodels loop.

Problem: ``y ~ x1 + x2 + f`` (f with 4 levels, 6 columns) in each of ``G`` groups of ``m`` rows
(default 2,000 groups x 200 rows = 400,000 rows). Every library goes from the data frame to each
group's coefficients with standard errors, timed in the same run:

* rmodels: ``lm(f, d, by="g").tidy()`` (one compiled call fits all groups on threads);
* R: ``lapply(split(d, d$g), function(s) coef(summary(lm(f, s))))`` timed inside R (data read
  before the clock);
* statsmodels: ``smf.ols(f, s).fit()`` and its ``bse`` per group of ``d.groupby("g")`` (formula
  through patsy/formulaic per group, as a Python user would write it).

A second table times the fits alone (rmodels ``lm(..., by=)`` returning the fit objects vs R's
``lapply(split(d, d$g), function(s) lm(f, s))``). Before timing, every group's coefficients and
standard errors are checked against R's (1e-8 relative).

Usage: ``python benchmarks/bench_batch.py [--groups 2000] [--rows 200] [--repeats 5]
[--no-record]`` (from the repository root, with rmodels built). Writes the section
"by-group fits" of ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import tempfile
import warnings

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

FORMULA = "y ~ x1 + x2 + f"


def make_data(groups: int, rows: int, seed: int = 20261125) -> pd.DataFrame:
    """Groups g0001.. of ``rows`` rows; x1, x2 ~ N(0, 1); f uniform on 4 levels; a group-specific
    intercept and slope; y = linear predictor + N(0, 1)."""
    rng = np.random.default_rng(seed)
    n = groups * rows
    g = np.repeat(np.arange(groups), rows)
    x1, x2 = rng.standard_normal((2, n))
    f = rng.integers(0, 4, n)
    a = rng.normal(size=groups)[g]
    b = 1 + 0.2 * rng.normal(size=groups)[g]
    y = a + b * x1 - 0.5 * x2 + np.array([0.0, 0.3, -0.2, 0.5])[f] + rng.standard_normal(n)
    return pd.DataFrame({
        "g": pd.Categorical.from_codes(g, [f"g{k:04d}" for k in range(1, groups + 1)]),
        "y": y, "x1": x1, "x2": x2, "f": pd.Categorical.from_codes(f, list("abcd")),
    })


def check_against_r(df: pd.DataFrame, r_setup: str) -> None:
    """Every group's coefficients and standard errors equal R's (1e-8 relative), else raise."""
    from rmodels.batch import lm as rg_lm

    out = run_r(r_setup + f"""
res <- lapply(split(d, d$g), function(s) coef(summary(lm({FORMULA}, s))))
for (k in names(res)) {{
  s <- res[[k]]
  cat(sprintf('%s %s %.17g %.17g', k, rownames(s), s[, 1], s[, 2]), sep = '\\n')
}}
""")
    ref = pd.DataFrame([line.split() for line in out.strip().splitlines()],
                       columns=["g", "term", "estimate", "std.error"])
    td = rg_lm(FORMULA, df, by="g").tidy()
    if len(td) != len(ref) or list(td["term"]) != list(ref["term"]) or \
            list(td["g"].astype(str)) != list(ref["g"]):
        raise AssertionError("groups or term names differ from R's")
    np.testing.assert_allclose(td[["estimate", "std.error"]].to_numpy(float),
                               ref[["estimate", "std.error"]].to_numpy(float), rtol=1e-8)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=2000)
    parser.add_argument("--rows", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()

    ensure_rmodels()
    import statsmodels.formula.api as smf
    from rmodels.batch import lm as rg_lm

    warnings.simplefilter("ignore", FutureWarning)
    info = machine_info()
    df = make_data(args.groups, args.rows)
    with tempfile.TemporaryDirectory() as tmp:
        r_setup = write_r_data(df, f"{tmp}/batch")
        check_against_r(df, r_setup)

        def statsmodels_loop():
            return {k: smf.ols(FORMULA, s).fit().bse
                    for k, s in df.groupby("g", observed=True)}

        full = {
            "rmodels `lm(by=).tidy()`":
                time_python(lambda: rg_lm(FORMULA, df, by="g").tidy(), args.repeats),
            "R `lapply(split)` + `coef(summary(lm))`":
                time_r(r_setup, f"lapply(split(d, d$g), function(s) "
                                f"coef(summary(lm({FORMULA}, s))))", args.repeats),
            "statsmodels loop (`ols().fit().bse`)":
                time_python(statsmodels_loop, max(1, args.repeats // 2)),
        }
        fits = {
            "rmodels `lm(by=)`": time_python(lambda: rg_lm(FORMULA, df, by="g"), args.repeats),
            "R `lapply(split)` + `lm`":
                time_r(r_setup, f"lapply(split(d, d$g), function(s) lm({FORMULA}, s))",
                       args.repeats),
        }

    def table(times: dict) -> tuple[str, float]:
        base = median(next(iter(times.values())))
        rows = []
        for lib, ts in times.items():
            med = median(ts)
            rows.append([lib, fmt_seconds(med), fmt_seconds(min(ts)), f"{med / base:.1f}"])
        return markdown_table(rows, ["library", "median", "min", "time / rmodels"],
                              align=["l", "r", "r", "r"]), base

    t_full, base_full = table(full)
    t_fits, base_fits = table(fits)
    vals_full = [median(v) / base_full for v in full.values()]
    r_fit = median(list(fits.values())[1]) / base_fits
    summary = (f"rmodels vs R (coefficients with SEs per group): **{vals_full[1]:.1f}x** faster; "
               f"vs the statsmodels loop: **{vals_full[2]:.1f}x**; fits alone vs R: "
               f"**{r_fit:.1f}x**.")
    print(t_full)
    print()
    print(t_fits)
    print(summary)
    if not args.no_record:
        text = (f"`{FORMULA}` (f with 4 levels) in each of {args.groups:,} groups of "
                f"{args.rows} rows ({args.groups * args.rows:,} rows), median of "
                f"{args.repeats} runs (statsmodels: half as many), same run; R timed inside R. "
                "Every group's coefficients and SEs were checked against R's (1e-8) first.\n\n"
                "Data frame → every group's coefficients with standard errors:\n\n"
                f"{t_full}\nData frame → the per-group fit objects:\n\n{t_fits}\n{summary}\n\n"
                "Machine:\n\n" + machine_summary(info))
        update_results("by-group fits", text)


if __name__ == "__main__":
    main()
