"""Benchmark: lmer fits, rmodels vs lme4 vs statsmodels MixedLM.

Two problems, every library timed in the same run (lme4 inside R, data loaded before the clock):

1. InstEval (lme4's data, 73421 ratings): ``y ~ service + lectage + studage + (1|s) + (1|d) +
   (1|dept:service)`` by maximum likelihood: three crossed scalar random-effect terms with 2972,
   1128 and 28 levels. statsmodels' MixedLM has no practical way to fit three crossed factors of
   this size (its variance-component route builds dense n x q design blocks), so it is not run.
2. sleepstudy ``Reaction ~ Days + (Days | Subject)`` by REML, fitted 100 times in a loop
   (statsmodels: ``mixedlm("Reaction ~ Days", groups=Subject, re_formula="~Days").fit()``).

Each fit goes from the formula and the data frame to the estimates, including lme4's
convergence checks (finite-difference gradient and Hessian) in both rmodels and lme4. Before
timing, rmodels' criterion is checked against lme4's (within 1e-6 relative, or lower). The
table also gives the number of criterion evaluations of each optimisation and the time of one
evaluation of the profiled criterion at the optimum (rmodels: ``fit.devfun(theta)``; lme4:
``as.function(fit)(theta)``; median of 5 batches).

Usage: ``python benchmarks/bench_lmer.py [--repeats 3] [--fits 100] [--no-record]`` (from the
repository root, with rmodels built). Writes the section "lmer" of ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from pathlib import Path

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
)

INSTEVAL = "y ~ service + lectage + studage + (1|s) + (1|d) + (1|dept:service)"
SLEEP = "Reaction ~ Days + (Days | Subject)"


def load_r_dataset(name: str, directory: Path) -> pd.DataFrame:
    """An lme4 data set as a DataFrame (factor levels in R's order), via binary column files."""
    code = f"""
suppressMessages(library(lme4)); data({name}, package = "lme4"); d <- {name}
for (nm in names(d)) {{
  v <- d[[nm]]; f <- file.path("{directory}", nm)
  if (is.factor(v)) {{
    writeBin(as.integer(v), paste0(f, ".codes"), size = 4, endian = "little")
    writeLines(levels(v), paste0(f, ".levels"))
    cat(nm, if (is.ordered(v)) "ordered" else "factor", "\\n")
  }} else {{
    writeBin(as.double(v), paste0(f, ".num"), size = 8, endian = "little")
    cat(nm, "numeric", "\\n")
  }}
}}
"""
    out = run_r(code)
    cols = {}
    for line in out.splitlines():
        nm, kind = line.split()
        f = directory / nm
        if kind == "numeric":
            cols[nm] = np.fromfile(f"{f}.num", dtype="<f8")
        else:
            codes = np.fromfile(f"{f}.codes", dtype="<i4") - 1
            levels = Path(f"{f}.levels").read_text("utf-8").splitlines()
            cols[nm] = pd.Categorical.from_codes(codes, levels, ordered=kind == "ordered")
    return pd.DataFrame(cols)


def r_setup(name: str) -> str:
    return f'suppressMessages(library(lme4)); data({name}, package = "lme4")\n'


def r_fit_info(setup: str, call: str, theta_reps: int = 20) -> dict:
    """lme4's criterion, θ, number of evaluations and the time of one criterion evaluation
    (median of 5 batches of ``theta_reps``)."""
    code = f"""{setup}
fm <- {call}
th <- getME(fm, "theta"); f <- as.function(fm)
per <- median(sapply(1:5, function(b) {{
  t0 <- Sys.time(); for (i in seq_len({theta_reps})) v <- f(th)
  as.double(difftime(Sys.time(), t0, units = "secs")) / {theta_reps}
}}))
crit <- if (isREML(fm)) REMLcrit(fm) else deviance(fm)
cat("INFO", sprintf("%.15g", crit), fm@optinfo$feval, sprintf("%.9f", per),
    sprintf("%.15g", th), "\\n")
"""
    for line in run_r(code).splitlines():
        if line.startswith("INFO"):
            parts = line.split()
            return {"crit": float(parts[1]), "feval": int(parts[2]), "per_eval": float(parts[3]),
                    "theta": np.array([float(v) for v in parts[4:]])}
    raise RuntimeError("no INFO line from R")


def per_eval_python(fit, reps: int = 20, batches: int = 5) -> float:
    """Median over ``batches`` of the mean time of ``reps`` criterion evaluations."""
    out = []
    for _ in range(batches):
        t0 = time.perf_counter()
        for _ in range(reps):
            fit.devfun(fit.theta)
        out.append((time.perf_counter() - t0) / reps)
    return median(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--fits", type=int, default=100)
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    ensure_rmodels()
    from rmodels import lmer

    info = machine_info()
    sections = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "ie").mkdir()
        (tmp / "ss").mkdir()
        ie = load_r_dataset("InstEval", tmp / "ie")
        ss = load_r_dataset("sleepstudy", tmp / "ss")

    # ---- InstEval -----------------------------------------------------------------------
    ie_call = f"lmer({INSTEVAL}, InstEval, REML = FALSE)"
    ref = r_fit_info(r_setup("InstEval"), ie_call, theta_reps=5)
    fit = lmer(INSTEVAL, ie, REML=False, data_name="InstEval")
    dev = fit.deviance()
    rel = (dev - ref["crit"]) / abs(ref["crit"])
    if rel > 1e-6:
        raise SystemExit(f"InstEval: deviance {dev!r} vs lme4 {ref['crit']!r} (rel {rel:.2e})")
    t_rm = time_python(lambda: lmer(INSTEVAL, ie, REML=False), repeats=args.repeats, warmup=1)
    t_r = time_r(r_setup("InstEval"), ie_call, repeats=args.repeats, warmup=0)
    pe_rm = per_eval_python(fit, 5)
    rows = [
        ["rmodels", fmt_seconds(median(t_rm)), f"{median(t_r) / median(t_rm):.1f}x",
         f"{dev:.6f}", fit.optinfo.feval, fmt_seconds(pe_rm)],
        ["lme4 (R)", fmt_seconds(median(t_r)), "1.0x", f"{ref['crit']:.6f}", ref["feval"],
         fmt_seconds(ref["per_eval"])],
        ["statsmodels MixedLM", "not run", "", "", "", ""],
    ]
    sections.append(
        f"### InstEval, ML, three crossed random intercepts\n\n`{INSTEVAL}`, n = {len(ie)}, "
        f"q = {fit.re.q}; median of {args.repeats} fits (lme4 timed inside R). Deviance "
        f"relative difference rmodels - lme4: {rel:.2e}; θ rmodels "
        f"{np.array2string(fit.theta, precision=6)}, lme4 "
        f"{np.array2string(ref['theta'], precision=6)}. statsmodels MixedLM cannot fit three "
        "crossed factors of this size in practice (dense variance-component designs).\n\n"
        + markdown_table(rows, ["library", "fit time", "speed-up vs lme4", "deviance",
                                "evaluations", "time per evaluation"]) + "\n")
    print(sections[-1])

    # ---- sleepstudy x fits ---------------------------------------------------------------
    nf = args.fits
    ss_call = f"lmer({SLEEP}, sleepstudy)"
    ref_s = r_fit_info(r_setup("sleepstudy"), ss_call, theta_reps=200)
    fit_s = lmer(SLEEP, ss, data_name="sleepstudy")
    rel_s = (fit_s.REMLcrit() - ref_s["crit"]) / abs(ref_s["crit"])
    if rel_s > 1e-6:
        raise SystemExit(f"sleepstudy: REML criterion differs from lme4 (rel {rel_s:.2e})")

    def loop_rm():
        return [lmer(SLEEP, ss) for _ in range(nf)]

    t_rm_s = time_python(loop_rm, repeats=args.repeats, warmup=1)
    t_r_s = time_r(r_setup("sleepstudy"), f"for (i in seq_len({nf})) m <- {ss_call}; m",
                   repeats=args.repeats, warmup=1)
    try:
        import statsmodels.formula.api as smf

        ss_sm = ss.assign(Subject=ss["Subject"].astype(str))

        def loop_sm():
            out = []
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                for _ in range(nf):
                    out.append(smf.mixedlm("Reaction ~ Days", ss_sm, groups=ss_sm["Subject"],
                                           re_formula="~Days").fit(reml=True))
            return out

        t_sm_s = time_python(loop_sm, repeats=args.repeats, warmup=1)
        sm_fit = loop_sm()[0]
        sm_crit = -2 * sm_fit.llf
        sm_row = ["statsmodels MixedLM", fmt_seconds(median(t_sm_s)),
                  fmt_seconds(median(t_sm_s) / nf),
                  f"{median(t_r_s) / median(t_sm_s):.1f}x", f"{sm_crit:.6f}", "", ""]
    except ImportError:  # pragma: no cover - optional competitor
        sm_row = ["statsmodels MixedLM", "not installed", "", "", "", "", ""]
    pe_rm_s = per_eval_python(fit_s, 200)
    rows_s = [
        ["rmodels", fmt_seconds(median(t_rm_s)), fmt_seconds(median(t_rm_s) / nf),
         f"{median(t_r_s) / median(t_rm_s):.1f}x", f"{fit_s.REMLcrit():.6f}",
         fit_s.optinfo.feval, fmt_seconds(pe_rm_s)],
        ["lme4 (R)", fmt_seconds(median(t_r_s)), fmt_seconds(median(t_r_s) / nf), "1.0x",
         f"{ref_s['crit']:.6f}", ref_s["feval"], fmt_seconds(ref_s["per_eval"])],
        sm_row,
    ]
    sections.append(
        f"### sleepstudy, REML, {nf} fits\n\n`{SLEEP}`, n = {len(ss)}; median of "
        f"{args.repeats} loops of {nf} fits. statsmodels' REML criterion is its -2 log "
        "likelihood (same model and criterion).\n\n"
        + markdown_table(rows_s, ["library", f"{nf} fits", "per fit", "speed-up vs lme4",
                                  "REML criterion", "evaluations", "time per evaluation"])
        + "\n")
    print(sections[-1])

    # ---- profile confidence intervals ------------------------------------------------------
    ci = fit_s.confint()
    out = run_r(r_setup("sleepstudy") + f"fm <- {ss_call}\n"
                "ci <- suppressMessages(confint(fm))\n"
                "cat(sprintf('%.17g', t(ci)), sep = '\\n')\n")
    r_ci = np.array([float(v) for v in out.split()]).reshape(-1, 2)
    rel_ci = float(np.max(np.abs(ci.to_numpy() - r_ci) / np.abs(r_ci)))
    if rel_ci > 1e-4:
        raise SystemExit(f"sleepstudy: profile intervals differ from lme4's (rel {rel_ci:.2e})")
    t_rm_p = time_python(lambda: fit_s.confint(), repeats=args.repeats, warmup=1)
    t_r_p = time_r(r_setup("sleepstudy") + f"fm <- {ss_call}\n",
                   "suppressMessages(confint(fm))", repeats=args.repeats, warmup=1)
    rows_p = [["rmodels", fmt_seconds(median(t_rm_p)),
               f"{median(t_r_p) / median(t_rm_p):.1f}x"],
              ["lme4 (R)", fmt_seconds(median(t_r_p)), "1.0x"]]
    sections.append(
        f"### sleepstudy, profile confidence intervals\n\n`confint(fit)` (lme4's default "
        f"method \"profile\": every variance parameter and fixed effect) of `{SLEEP}`; median "
        f"of {args.repeats} runs. Largest relative difference from lme4's limits: "
        f"{rel_ci:.1e}.\n\n"
        + markdown_table(rows_p, ["library", "time", "speed-up vs lme4"]) + "\n")
    print(sections[-1])

    text = ("Formula and data frame to the fitted model, including lme4's convergence checks; "
            "lme4 1.1-31 with its default `nloptwrap` (BOBYQA) optimizer, rmodels with lme4's "
            "starting θ and the same NLopt BOBYQA settings (so both take the same path: equal "
            "numbers of evaluations).\n\n" + "\n".join(sections) + "\nMachine:\n\n"
            + machine_summary(info))
    if not args.no_record:
        update_results("lmer", text)


if __name__ == "__main__":
    main()
