"""The command line (``python -m rmodels``, run in a subprocess): outputs equal to the
package's own printouts and tables (and R's printout for one fit), CSV/TSV/Parquet/stdin input,
exit statuses 0/1/2 with one-line messages, R's warnings on standard error."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
import rmodels
from rbridge import r, send_df

# the directory holding the rmodels these tests run against (the source tree, or the
# installed package in CI), for the child processes
PYTHONPATH = os.path.dirname(os.path.dirname(os.path.abspath(rmodels.__file__)))
# the environment before embedded R adds its library paths (LD_LIBRARY_PATH would make a shell
# user's Python load other shared libraries)
ENV = dict(os.environ)


def run_cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = dict(ENV)
    env["PYTHONPATH"] = PYTHONPATH + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, "-m", "rmodels", *args], input=stdin,
                          capture_output=True, text=True, env=env, timeout=300)


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n = 48
    s = np.repeat(list("pqrstu"), 8)
    d = pd.DataFrame({"x": np.round(rng.normal(size=n), 3), "g": rng.choice(["a", "b"], n),
                      "s": s, "w": rng.integers(1, 4, n)})
    d["y"] = np.round(1 + d["x"] + rng.normal(size=6)[np.repeat(np.arange(6), 8)]
                      + rng.normal(size=n), 3)
    d["cnt"] = rng.poisson(np.exp(0.5 + 0.3 * d["x"]))
    return d


@pytest.fixture(scope="module")
def files(frame, tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("cli")
    paths = {"csv": str(root / "study.csv"), "tsv": str(root / "study.tsv"),
             "parquet": str(root / "study.parquet")}
    frame.to_csv(paths["csv"], index=False)
    frame.to_csv(paths["tsv"], sep="\t", index=False)
    frame.to_parquet(paths["parquet"])
    return paths


@pytest.fixture(scope="module")
def data(files) -> pd.DataFrame:
    return pd.read_csv(files["csv"])  # what the command reads


@pytest.mark.parametrize("kind", ["csv", "tsv", "parquet"])
def test_lm_prints_the_fit(files, data, kind):
    out = run_cli("lm", "y ~ x + g", files[kind])
    assert out.returncode == 0, out.stderr
    assert out.stdout == str(rmodels.lm("y ~ x + g", data, data_name="study"))
    assert out.stderr == ""


@pytest.mark.r
def test_lm_output_is_r_printout(files, data):
    send_df(data, "study")
    want = "\n".join(r("capture.output(print(lm(y ~ x + g, data = study)))")) + "\n"
    assert run_cli("lm", "y ~ x + g", files["csv"]).stdout == want


def test_glm_summary_with_family_text_and_weights(files, data):
    out = run_cli("glm", "cnt ~ x", files["csv"], "--family", 'poisson(link = "sqrt")',
                  "--weights", "w", "--summary")
    assert out.returncode == 0, out.stderr
    fit = rmodels.glm("cnt ~ x", data, family='poisson(link = "sqrt")', weights="w",
                      data_name="study")
    assert out.stdout == str(fit.summary())


@pytest.mark.parametrize("fmt", ["csv", "json", "text"])
def test_tidy_and_glance_tables(files, data, fmt):
    fit = rmodels.glm("cnt ~ x + g", data, family="poisson")
    for flag, want in (("--tidy", fit.tidy(conf_int=True)), ("--glance", fit.glance())):
        args = ["glm", "cnt ~ x + g", files["csv"], "-f", "poisson", flag, "--format", fmt]
        out = run_cli(*args, *(["--conf-int"] if flag == "--tidy" else []))
        assert out.returncode == 0, out.stderr
        if fmt == "csv":
            got = pd.read_csv(io.StringIO(out.stdout))
        elif fmt == "json":
            got = pd.DataFrame(json.loads(out.stdout))
        else:
            got = pd.read_csv(io.StringIO(out.stdout), sep=r"\s+")
        assert list(got.columns) == list(want.columns)
        for col in want.columns:
            if want[col].dtype.kind == "f":
                np.testing.assert_allclose(got[col].astype(float), want[col], rtol=1e-5)
            else:
                assert list(got[col]) == list(want[col])


def test_grouped_fits(files, data):
    out = run_cli("lm", "y ~ x", files["csv"], "--by", "g", "--tidy", "--format", "csv")
    assert out.returncode == 0, out.stderr
    want = rmodels.lm("y ~ x", data, by="g").tidy()
    got = pd.read_csv(io.StringIO(out.stdout))
    assert list(got.columns) == list(want.columns)
    np.testing.assert_allclose(got["estimate"], want["estimate"], rtol=1e-12)
    out = run_cli("lm", "y ~ x", files["csv"], "--by", "g")
    fits = rmodels.lm("y ~ x", data, by="g", data_name="study")
    assert out.stdout == ("$a\n" + str(fits.get("a")).rstrip("\n") + "\n\n$b\n"
                          + str(fits.get("b")).rstrip("\n") + "\n\n")


def test_grouped_summary_with_a_failed_group(tmp_path):
    path = tmp_path / "fail.csv"
    pd.DataFrame({"y": [1.0, 2.0, 4.0, 3.0, np.nan, np.nan], "x": [1.0, 2.0, 3.0, 5.0, 1.0, 2.0],
                  "g": ["a", "a", "a", "a", "b", "b"]}).to_csv(path, index=False)
    out = run_cli("lm", "y ~ x", str(path), "--by", "g", "--summary")
    assert out.returncode == 0, out.stderr
    assert "$b\nfailed: 0 (non-NA) cases\n" in out.stdout


def test_lmer_ml_summary(files, data):
    out = run_cli("lmer", "y ~ x + (1 | s)", files["csv"], "--ml", "--summary")
    assert out.returncode == 0, out.stderr
    fit = rmodels.lmer("y ~ x + (1 | s)", data, REML=False, data_name="study")
    assert out.stdout == str(fit.summary())


def test_glmer_summary_with_family(files, data):
    out = run_cli("glmer", "cnt ~ x + (1 | s)", files["csv"], "--family", "poisson",
                  "--summary")
    assert out.returncode == 0, out.stderr
    with warnings.catch_warnings():  # a singular fit here: R's message goes to stderr
        warnings.simplefilter("ignore")
        fit = rmodels.glmer("cnt ~ x + (1 | s)", data, family="poisson", data_name="study")
    assert out.stdout == str(fit.summary())


def test_stdin(frame, data):
    out = run_cli("lm", "y ~ x", "-", stdin=frame.to_csv(index=False))
    assert out.returncode == 0, out.stderr
    assert out.stdout == str(rmodels.lm("y ~ x", data))


def test_model_errors_exit_1(files):
    out = run_cli("lm", "y ~ z", files["csv"])
    assert (out.returncode, out.stdout) == (1, "")
    assert out.stderr == "rmodels lm: error: object 'z' not found\n"
    out = run_cli("lm", "y ~ x +", files["csv"])
    assert out.returncode == 1
    assert out.stderr.startswith("rmodels lm: error: unexpected end of formula")
    assert "Traceback" not in out.stderr
    out = run_cli("glm", "cnt ~ x", files["csv"], "--family", "binomial(link = identity)")
    assert out.returncode == 1
    assert "not available for binomial family" in out.stderr


def test_usage_errors_exit_2(files):
    for args in (["lm", "y ~ x", "no-such-file.csv"], ["lm"], ["nls", "y ~ x", files["csv"]],
                 ["lm", "y ~ x", files["csv"], "--family", "poisson"],
                 ["lm", "y ~ x", files["csv"], "--tidy", "--glance"],
                 ["lm", "y ~ x", files["csv"], "--summary", "--format", "csv"], []):
        out = run_cli(*args)
        assert out.returncode == 2, (args, out.stderr)
        assert out.stdout == "" and "Traceback" not in out.stderr
        assert out.stderr.strip().splitlines()[-1].startswith(("rmodels", "usage: rmodels"))


def test_warnings_after_output(tmp_path):
    path = tmp_path / "sep.csv"
    pd.DataFrame({"y": [0, 0, 0, 1, 1, 1], "x": [1.0, 2, 3, 4, 5, 6]}).to_csv(path, index=False)
    out = run_cli("glm", "y ~ x", str(path), "--family", "binomial")
    assert out.returncode == 0
    assert out.stdout.startswith("\nCall:")
    assert out.stderr == ("Warning message:\n"
                          "glm.fit: fitted probabilities numerically 0 or 1 occurred\n")


def test_several_warnings_are_numbered():
    import warnings

    from rmodels.cli import warning_text

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.warn("first", rmodels.RModelsWarning, stacklevel=1)
        warnings.warn("second", rmodels.RModelsWarning, stacklevel=1)
        warnings.warn("first", rmodels.RModelsWarning, stacklevel=1)
    assert warning_text(caught) == "Warning messages:\n1: first\n2: second\n"


def test_help_and_console_script():
    out = run_cli("--help")
    assert out.returncode == 0
    for name in ("lm", "glm", "lmer", "glmer"):
        assert name in out.stdout
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    pyproject = os.path.join(root, "pyproject.toml")
    with open(pyproject, encoding="utf-8") as fh:
        assert 'rmodels = "rmodels.cli:main"' in fh.read()


def test_a_new_command_is_one_row():
    from rmodels.cli import COMMANDS, Command, build_parser

    COMMANDS["glm_nb"] = Command("glm_nb", "glm_nb", "negative binomial GLM", ("weights",))
    try:
        args = build_parser().parse_args(["glm_nb", "cnt ~ x", "f.csv", "-w", "w"])
        assert (args.command, args.weights) == ("glm_nb", "w")
    finally:
        del COMMANDS["glm_nb"]
