"""Benchmark: glmer fits, rmodels vs lme4, in the same run (lme4 inside R, data loaded before
the clock).

1. VerbAgg (lme4's data, 7584 binary responses): ``r2 ~ Anger + Gender + btype + situ + (1 | id)
   + (1 | item)``, Laplace: two crossed scalar random intercepts (316 and 24 levels).
2. grouseticks (403 counts): ``TICKS ~ YEAR + scale(HEIGHT) + (1 | BROOD) + (1 | INDEX) +
   (1 | LOCATION)``, Poisson, Laplace: three nested/crossed random intercepts.

Each fit goes from the formula and the data frame to the estimates, including the
finite-difference Hessian lme4 1.1-31 computes by default (the standard errors). Before timing,
rmodels' log-likelihood is checked to be at least lme4's (within 1e-6 relative). The table gives
the number of criterion evaluations (rmodels: stage 1 + stage 2 + the 2 m^2 evaluations of the
finite-difference derivatives over the m parameters (θ, β); lme4: its second stage, as
``optinfo$feval`` reports; its first stage and the same 2 m^2 derivative evaluations come on
top) and the time of one Laplace evaluation at the optimum (rmodels: ``fit.model.deviance(par)``;
lme4: its ``devFunOnly`` deviance function; median of 5 batches).

Usage: ``python benchmarks/bench_glmer.py [--repeats 3] [--no-record]`` (from the repository
root, with rmodels built). Writes the section "glmer" of ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from bench_lmer import load_r_dataset
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

PROBLEMS = [
    ("VerbAgg", "r2 ~ Anger + Gender + btype + situ + (1 | id) + (1 | item)", "binomial"),
    ("grouseticks",
     "TICKS ~ YEAR + scale(HEIGHT) + (1 | BROOD) + (1 | INDEX) + (1 | LOCATION)", "poisson"),
]


def r_setup(name: str) -> str:
    return f'suppressMessages(library(lme4)); data({name}, package = "lme4")\n'


def r_fit_info(name: str, call: str, reps: int = 10) -> dict:
    """lme4's log-likelihood, evaluations and the time of one Laplace evaluation."""
    code = f"""{r_setup(name)}
gm <- {call}
f <- update(gm, devFunOnly = TRUE)
par <- c(getME(gm, "theta"), fixef(gm))
per <- median(sapply(1:5, function(b) {{
  t0 <- Sys.time(); for (i in seq_len({reps})) v <- f(par)
  as.double(difftime(Sys.time(), t0, units = "secs")) / {reps}
}}))
cat("INFO", sprintf("%.15g", as.numeric(logLik(gm))), gm@optinfo$feval, sprintf("%.9f", per),
    "\\n")
"""
    for line in run_r(code).splitlines():
        if line.startswith("INFO"):
            parts = line.split()
            return {"loglik": float(parts[1]), "feval": int(parts[2]),
                    "per_eval": float(parts[3])}
    raise RuntimeError("no INFO line from R")


def per_eval_python(fit, reps: int = 10, batches: int = 5) -> float:
    par = np.concatenate([fit.theta, fit.beta])
    out = []
    for _ in range(batches):
        t0 = time.perf_counter()
        for _ in range(reps):
            fit.model.deviance(par, fit.nAGQ)
        out.append((time.perf_counter() - t0) / reps)
    fit.model.deviance(par, fit.nAGQ)
    return median(out)


def bench_one(name: str, formula: str, family: str, data, repeats: int) -> str:
    from rmodels import glmer

    call = f"glmer({formula}, {name}, family = {family})"
    ref = r_fit_info(name, call)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = glmer(formula, data, family=family, data_name=name)

        def run():
            return glmer(formula, data, family=family)

        t_rm = time_python(run, repeats=repeats, warmup=1)
    ll = fit.logLik()
    rel = (ref["loglik"] - ll) / abs(ref["loglik"])
    if rel > 1e-6:
        raise SystemExit(f"{name}: logLik {ll!r} below lme4's {ref['loglik']!r}")
    t_r = time_r(r_setup(name), f"suppressWarnings({call})", repeats=repeats, warmup=0)
    nderiv = 2 * len(fit.optinfo.par) ** 2  # deriv12: 2 m + 4 m (m - 1) / 2 evaluations
    rows = [
        ["rmodels", fmt_seconds(median(t_rm)), f"{median(t_r) / median(t_rm):.1f}x",
         f"{ll:.6f}", f"{fit.optinfo.stage1_feval} + {fit.optinfo.feval} + {nderiv}",
         fmt_seconds(per_eval_python(fit))],
        ["lme4 (R)", fmt_seconds(median(t_r)), "1.0x", f"{ref['loglik']:.6f}",
         f"{ref['feval']} (stage 2) + {nderiv}",
         fmt_seconds(ref["per_eval"])],
    ]
    return (f"### {name}, {family}, Laplace\n\n`{formula}`, n = {fit.nobs()}; median of "
            f"{repeats} fits (lme4 timed inside R). logLik relative difference lme4 - "
            f"rmodels: {rel:.2e}.\n\n"
            + markdown_table(rows, ["library", "fit time", "speed-up vs lme4", "logLik",
                                    "evaluations", "time per evaluation"]) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    ensure_rmodels()
    info = machine_info()
    sections = []
    for name, formula, family in PROBLEMS:
        with tempfile.TemporaryDirectory() as tmp:
            data = load_r_dataset(name, Path(tmp))
        sections.append(bench_one(name, formula, family, data, args.repeats))
        print(sections[-1])
    text = ("Formula and data frame to the fitted model, with lme4's finite-difference Hessian "
            "(standard errors); lme4 1.1-31 with its default optimizers (bobyqa, then "
            "Nelder_Mead), rmodels with NLopt's BOBYQA in both stages, PIRLS on a sparse factor "
            "analysed once per model, the derivatives' evaluations on two threads.\n\n"
            + "\n".join(sections) + "\nMachine:\n\n" + machine_summary(info))
    if not args.no_record:
        update_results("glmer", text)


if __name__ == "__main__":
    main()
