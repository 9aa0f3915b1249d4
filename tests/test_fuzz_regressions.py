"""Minimised inputs the fuzzer (tests/fuzz) found, each once a crash, a hang or an exception not of
the package's own classes; and a fixed-seed sample of the fuzzer itself (run through its driver,
so a crash is counted rather than fatal)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
import rmodels
from fuzz.strategies import fuzz_frame
from fuzz.targets import GLMER_FAMILIES, TARGETS, call_for, classify

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

REGRESSIONS = [
    ("model_matrix", "y ~ ²"),
    ("model_matrix", "y ~ !1"),
    ("model_matrix", "y ~ 0&0"),
    ("lm", "y ~ pmin()"),
    ("lm", "y ~ I(NULL)"),
    ("lm", "y ~ !NA"),
    ("lm", "y ~ as.character(1)"),
    ("lm", "y ~ c(z + z)"),
    ("lm", "y ~ round(z, z)"),
    ("lm", "y ~ log(10, x)"),
    ("lm", "y ~ mean(F)"),
    ("lm", "y ~ bs(0/0 + x)"),
    ("lm", "y ~ log(lg)"),
    ("lm", "y ~ round(1e308, 1e308)"),
    ("lm", "y ~ I(x ** 99999999)"),
    ("lm", "~ NA_integer_ & NA_integer_"),
    ("model_frame", "~ (!!28)"),
    ("model_matrix", "mean((-4.2e+16), (y)) ~ (y)"),
    ("glm", "((-11027808 | 1.9)) ~ ((1e6L)^FALSE %/% (26965 | `x`))"),
    ("glm", "~ --(b)^1e9"),
    ("model_frame", "(-14944)^4.9e-324 ~ (1)^1e9"),
    ("model_matrix", "~ ((z)^1e9)"),
    ("model_matrix", "y ~ poly(x, 1e8, raw = TRUE)"),
    ("model_matrix", "y ~ bs(x, df = 1e7)"),
    ("model_matrix", "y ~ cut(x, 1e9)"),
    ("model_matrix", "y ~ cut(pi, 1e9)"),
    ("lmer", "y ~ -1 | a"),
    ("lmer", "cnt ~ (((pos %% pos))) + (0 | g)"),
    ("lmer", "y ~ (0|g) + (0|g)"),
    ("lmer", "y ~ (-1|g) + (-1|g)"),
    ("lmer", "bin ~ (((0|g) + (1|g) - x))"),
    ("model_frame", "((2.8018519218239816e-275)^NA) ~ pi < -14021/0L"),
    ("model_frame", "(-8866018101287857) >= -8866018101287857/0.0 ~ ((0.0))"),
    ("glm", "(z/z)^1e6L ~ ((z/z)^1e6L)^3"),  # perfect fits: quasipoisson t values, i.g. AIC
    ("glm", "z/z ~ x"),
    ("model_frame", "a ~ (.*a)"),  # a factor response inside a term: coded as a factor (R)
    ("lm", "y + y ~ x + y"),  # a perfect fit's t values: R's Inf without a NumPy warning
    ("lm", "(lg) ~ (x | 1e6L) && bs(x, 0.0)"),  # '&&' of a vector and a matrix
    ("glm", "bin ~ (c(digits = 6.4e+167) %% `y` & -7.15e+16)"),
    ("lmer", "y ~ (.)^3 + (x || g)"),  # p >= n under REML: lme4's "objective in x0 returns NA"
    ("model_frame", "log(y) ~ as.ordered(-lg, -lg) + (x || g)"),  # duplicated levels
    # a column of 0 and 2e-208: its squares underflow, lme4's "Downdated VtV is not positive
    # definite" (numpy's LinAlgError from vcov before)
    ("lmer", "bin ~ ((lg/5.1264208568988326e+207) %% ((1e308)^2)) + (1 | g/a)"),
    ("lmer", "bin ~ ((lg/5.1264208568988326e+207) %% ((1e308)^2)) + (1 | g)"),
    ("lmer", "y ~ I(x * 1e-160) + (1 | g)"),  # vcov overflows to Inf (a NumPy warning before)
    ("lmer", "y ~ I(x * 1e200) + (1 | g)"),  # X'X overflows: "objective in x0 returns NA"
]
REGRESSIONS = [
    # negative failures: a starting mean above 1 (the probit link crashed the core)
    ("glmer", "cbind(cnt, 5 - cnt) ~ (lg + 0) + (1 | g)"),
    ("glmer", "a ~ (-68 %/% lg) + (x | g)"),  # -Inf in X crashed the core
    ("lmer", "log(y) ~ (((0.0 || 0.0))) + (1 | g)"),  # (0 || g): an IndexError
    ("glmer", "((z | 9007199254740993)) ~ ((. | z)) + (0 | g)"),  # 384 effects, 24 rows: 16 s
    # a logical response with poisson(link = 'sqrt'): the core's ValueError (fuzz batches 139
    # and 140, on the PIRLS before the sparse factor; lme4 stops with 'PIRLS loop resulted in
    # NaN value', the sparse-factor PIRLS reaches a fit)
    ("glmer", "lg ~ (((cnt + 0.0))) + (1 | g)"),
] + REGRESSIONS

#: (target, formula, the start of lme4's error message) on the fuzz frame (binomial for glmer)
ERRORS_AS_LME4 = [
    ("glmer", "a ~ (-68 %/% lg) + (x | g)", None),
    ("lmer", "y ~ x + (0 || g)", "unexpected '|'"),
    ("glmer", "bin ~ (x + cnt + pos + y + z + lg | g)", None),
]

#: lmer inputs whose outcome is also compared with lme4's on the same frame
LMER_AGAINST_R = REGRESSIONS[-4:] + [("lmer", "y ~ I(x * 1e-200) + (1 | g)")]


@pytest.mark.parametrize("target,formula", REGRESSIONS,
                         ids=[f"r{i:02d}" for i in range(len(REGRESSIONS))])
def test_fuzz_regression(target: str, formula: str):
    for k in range({"glm": 6, "glmer": 4}.get(target, 1)):  # every family of the rotation
        kind, detail = classify(call_for(target, k), formula, fuzz_frame(), check_frame=True)
        assert kind in ("ok", "error"), detail


@pytest.mark.r
@pytest.mark.parametrize("formula", [f for _, f in LMER_AGAINST_R])
def test_lmer_fuzz_regressions_match_lme4(formula: str):
    from rbridge import r, send_df
    d = fuzz_frame()
    send_df(d, "d")
    want = r(f"""tryCatch({{m <- suppressWarnings(lme4::lmer({formula}, d))
                           format(lme4::fixef(m), digits = 17)}},
                          error = function(e) paste("ERROR:", conditionMessage(e)))""")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", rmodels.RModelsWarning)
            got = rmodels.fixef(rmodels.lmer(formula, d)).to_numpy()
    except rmodels.FitError as exc:
        assert want[0] == f"ERROR: {exc}"
        return
    # a column scaled by 1e-160: its squares are subnormal, so only a few digits agree
    np.testing.assert_allclose(got, np.asarray(want, dtype=float), rtol=1e-2)


@pytest.mark.r
@pytest.mark.parametrize("k", range(4))
def test_glmer_negative_failures_are_errors_as_in_lme4(k: int):
    from rbridge import r, send_df
    d = fuzz_frame()
    send_df(d, "d")
    formula = "cbind(cnt, 5 - cnt) ~ (lg + 0) + (1 | g)"
    want = r(f"""tryCatch(suppressWarnings({{lme4::glmer({formula}, d,
                                                         family = {GLMER_FAMILIES[k]}); "ok"}}),
                          error = function(e) conditionMessage(e))""")[0]
    assert want != "ok"
    with pytest.raises(rmodels.RModelsError) as exc:
        rmodels.glmer(formula, d, family=GLMER_FAMILIES[k])
    if "PIRLS" in want:  # the logit link's own message differs (see compiled.py)
        assert str(exc.value) == want


@pytest.mark.r
@pytest.mark.parametrize("target,formula,part", ERRORS_AS_LME4)
def test_fuzz_found_errors_have_lme4s_message(target: str, formula: str, part: str | None):
    from rbridge import r, send_df
    d = fuzz_frame()
    send_df(d, "d")
    fam = ", family = binomial" if target == "glmer" else ""
    want = r(f"""tryCatch({{lme4::{target}({formula}, d{fam}); "ok"}},
                          error = function(e) conditionMessage(e))""")[0]
    with pytest.raises(rmodels.RModelsError) as exc:
        getattr(rmodels, target)(formula, d)
    if part is None:
        assert str(exc.value) == want
    else:
        assert part in want and str(exc.value).startswith(part)


def run_driver(*args: str) -> subprocess.CompletedProcess:
    package_dir = os.path.dirname(os.path.dirname(os.path.abspath(rmodels.__file__)))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([package_dir, ROOT]))
    return subprocess.run([sys.executable, "-m", "tests.fuzz.run", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=900)


def test_fixed_seed_fuzz_sample(tmp_path):
    out = tmp_path / "failures.jsonl"
    proc = run_driver("--n", "1500", "--batch", "750", "--jobs", "2", "--seed", "20261207",
                      "--out", str(out), "--log", str(tmp_path / "log.jsonl"))
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    failures = out.read_text()
    assert summary["inputs"] >= 1500
    assert set(summary["by_target"]) == set(TARGETS)
    assert proc.returncode == 0, failures[:2000]


def test_fuzz_driver_resumes_with_the_same_inputs(tmp_path):
    """A run of 3 batches, then its log cut to its first batch and the run resumed: only the
    missing batches run, and the totals (by target and outcome) are the first run's."""
    log = tmp_path / "log.jsonl"
    args = ["--n", "45", "--batch", "15", "--seed", "3", "--log", str(log),
            "--out", str(tmp_path / "failures.jsonl")]
    first = run_driver(*args, "--jobs", "2")
    want = json.loads(first.stdout.strip().splitlines()[-1])
    lines = log.read_text().splitlines()
    assert len(lines) == 3
    kept = next(line for line in lines if json.loads(line)["batch"] == 0)
    log.write_text(kept + "\n" + '{"batch": 1, "cut by an interrup\n')
    second = run_driver(*args, "--jobs", "1", "--resume")
    assert second.stdout.startswith("1 batches in the log, 2 to run"), second.stdout
    got = json.loads(second.stdout.strip().splitlines()[-1])
    assert got == want and got["inputs"] == 45


def test_atheris_formula_fuzzer_short_run(tmp_path):
    """A short coverage-guided run of the lexer/parser/terms fuzzer (when atheris is
    installed): no exception outside the package's classes; findings would land in tmp_path."""
    pytest.importorskip("atheris")
    if "libasan" in os.environ.get("LD_PRELOAD", ""):
        pytest.skip("atheris brings its own libFuzzer runtime; not run under make sanitize")
    package_dir = os.path.dirname(os.path.dirname(os.path.abspath(rmodels.__file__)))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([package_dir, ROOT]))
    proc = subprocess.run([sys.executable, "-m", "tests.fuzz.atheris_formula", "-runs=3000",
                           "-seed=1", "-timeout=5",
                           "-dict=" + os.path.join(ROOT, "tests", "fuzz", "formula.dict")],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Done 3000 runs" in proc.stderr
