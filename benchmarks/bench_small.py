"""Benchmark: small fits one at a time (the loops of simulations, ``step``, bootstrap refits).

Each library goes from the formula and a 32-row data frame (R's ``mtcars``) to a fit, and, for
the printed summary, to the text R prints. Calls are timed in loops of ``--loop`` calls (per-call
time = loop time / loop), median over ``--repeats`` loops; R is timed inside R.

1. ``lm(mpg ~ wt + hp + factor(cyl), mtcars)``;
2. ``glm(am ~ wt + hp, family = binomial, mtcars)``;
3. the printed summary of 1: R ``capture.output(print(summary(lm(...))))``, rmodels
   ``str(summary(lm(...)))``;
4. statsmodels' ``smf.ols(...).fit()`` / ``smf.glm(...).fit()`` for reference.

Usage: ``python benchmarks/bench_small.py [--loop 200] [--repeats 7] [--no-record]`` (from the
repository root, rmodels built). Writes the section "small fits" of ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

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
)

LM_F = "mpg ~ wt + hp + factor(cyl)"
GLM_F = "am ~ wt + hp"


def mtcars_frame(directory: Path) -> pd.DataFrame:
    """R's mtcars, written by R (row names dropped: a default index)."""
    path = directory / "mtcars.csv"
    run_r(f'write.csv(mtcars, "{path}", row.names = FALSE)')
    return pd.read_csv(path)


def per_call(times: list[float], loop: int) -> float:
    return median(times) / loop


def time_rmodels(d: pd.DataFrame, loop: int, repeats: int) -> dict[str, float]:
    import rmodels as rm

    def lm_loop():
        for _ in range(loop):
            rm.lm(LM_F, d)

    def glm_loop():
        for _ in range(loop):
            rm.glm(GLM_F, d, family="binomial")

    def summary_loop():
        for _ in range(loop):
            str(rm.summary(rm.lm(LM_F, d)))

    return {name: per_call(time_python(fn, repeats=repeats), loop)
            for name, fn in (("lm", lm_loop), ("glm", glm_loop), ("summary", summary_loop))}


def time_r_calls(loop: int, repeats: int) -> dict[str, float]:
    exprs = {
        "lm": f"for (.k in seq_len({loop})) lm({LM_F}, data = mtcars)",
        "glm": f"for (.k in seq_len({loop})) glm({GLM_F}, family = binomial, data = mtcars)",
        "summary": (f"for (.k in seq_len({loop})) "
                    f"capture.output(print(summary(lm({LM_F}, data = mtcars))))"),
    }
    return {name: per_call(time_r("invisible(NULL)", e, repeats=repeats), loop)
            for name, e in exprs.items()}


def time_statsmodels(d: pd.DataFrame, loop: int, repeats: int) -> dict[str, float]:
    import statsmodels.api as sm
    import statsmodels.formula.api as smf

    def lm_loop():
        for _ in range(loop):
            smf.ols("mpg ~ wt + hp + C(cyl)", d).fit()

    def glm_loop():
        for _ in range(loop):
            smf.glm(GLM_F, d, family=sm.families.Binomial()).fit()

    def summary_loop():
        for _ in range(loop):
            str(smf.ols("mpg ~ wt + hp + C(cyl)", d).fit().summary())

    return {name: per_call(time_python(fn, repeats=repeats), loop)
            for name, fn in (("lm", lm_loop), ("glm", glm_loop), ("summary", summary_loop))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loop", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    ensure_rmodels()
    info = machine_info()
    with tempfile.TemporaryDirectory() as tmp:
        d = mtcars_frame(Path(tmp))
    ours = time_rmodels(d, args.loop, args.repeats)
    r = time_r_calls(args.loop, args.repeats)
    try:
        smod = time_statsmodels(d, args.loop, args.repeats)
    except ImportError:
        smod = None
    labels = {"lm": f"`lm({LM_F})`", "glm": f"`glm({GLM_F}, binomial)`",
              "summary": "printed `summary(lm(...))`"}
    rows = []
    for k in ("lm", "glm", "summary"):
        row = [labels[k], fmt_seconds(ours[k]), fmt_seconds(r[k]), f"{r[k] / ours[k]:.1f}"]
        if smod is not None:
            row += [fmt_seconds(smod[k]), f"{smod[k] / ours[k]:.1f}"]
        rows.append(row)
    headers = ["call (32 rows)", "rmodels", "R", "R / rmodels"]
    if smod is not None:
        headers += ["statsmodels", "statsmodels / rmodels"]
    text = (
        f"Per-call time of small fits on R's mtcars (32 rows), median of {args.repeats} loops "
        f"of {args.loop} calls each, same run; R timed inside R (printing into "
        "`capture.output`).\n\n" + markdown_table(rows, headers) + "\n\nMachine:\n\n"
        + machine_summary(info))
    print(text)
    if not args.no_record:
        update_results("small fits", text)


if __name__ == "__main__":
    main()
