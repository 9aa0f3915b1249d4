"""The command line: ``rmodels lm|glm|lmer|glmer FORMULA FILE [options]`` (also
``python -m rmodels``).

Reads a CSV (``-`` for standard input), TSV or Parquet file, fits the model and prints what R
prints: the fit (R's ``print(fit)``) by default, ``--summary`` (R's ``print(summary(fit))``), or
broom's ``--tidy``/``--glance`` tables, as text, CSV or JSON (``--format``). With ``--by`` one
fit per group, printed as R prints a list of fits (``$a`` ...) or stacked in one table.
R's warnings go to standard error after the output, as R prints them.

Exit status: 0 done; 1 the model could not be fitted (a formula, data or fit error: the
package's message as ``rmodels lm: error: ...``, no traceback); 2 a usage error (unknown
option, unreadable file).

The subcommands are rows of :data:`COMMANDS`: a new model is one more row naming the
``rmodels`` function and the options it takes.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import warnings
from dataclasses import dataclass
from typing import Any, Optional, Sequence

__all__ = ["COMMANDS", "Command", "main"]


@dataclass(frozen=True)
class Command:
    """A subcommand: ``function`` is the name of the :mod:`rmodels` function it calls (found
    when the command runs), ``options`` the optional arguments it accepts (``family``, ``by``,
    ``weights``, ``ml``)."""

    name: str
    function: str
    help: str
    options: tuple[str, ...]


COMMANDS: dict[str, Command] = {c.name: c for c in (
    Command("lm", "lm", "linear model (R's lm)", ("by", "weights")),
    Command("glm", "glm", "generalized linear model (R's glm)", ("family", "by", "weights")),
    Command("lmer", "lmer", "linear mixed model (lme4's lmer)", ("weights", "ml")),
    Command("glmer", "glmer", "generalized linear mixed model (lme4's glmer)",
            ("family", "weights")),
)}

# option -> (flags, argparse keywords)
_OPTIONS: dict[str, tuple[tuple[str, ...], dict]] = {
    "family": (("--family", "-f"), dict(
        metavar="F", help='the family, as R writes it: binomial, \'Gamma(link = "log")\', '
                          "\"poisson(link = 'identity')\" (default gaussian)")),
    "by": (("--by",), dict(metavar="COL", action="append",
                           help="fit one model per group of COL (repeat for several columns)")),
    "weights": (("--weights", "-w"), dict(metavar="COL", help="prior weights: a column name")),
    "ml": (("--ml",), dict(action="store_true",
                           help="fit by maximum likelihood (lmer's REML = FALSE)")),
}


class UsageError(Exception):
    """A command-line usage problem (exit status 2)."""


# --------------------------------------------------------------------------------------------
# arguments


def build_parser() -> argparse.ArgumentParser:
    """The argument parser: one subparser per row of :data:`COMMANDS`."""
    parser = argparse.ArgumentParser(
        prog="rmodels", description="Fit R's models (lm, glm, lmer, glmer) to a CSV or "
        "Parquet file and print what R prints.",
        epilog='example: rmodels glm "cbind(s, f) ~ dose" trial.csv --family binomial --tidy')
    sub = parser.add_subparsers(dest="command", metavar="{" + ",".join(COMMANDS) + "}")
    sub.required = True
    for cmd in COMMANDS.values():
        p = sub.add_parser(cmd.name, help=cmd.help, description=cmd.help)
        p.add_argument("formula", help="the model formula, R's syntax (quote it)")
        p.add_argument("file", help="CSV, TSV or Parquet file; '-' reads CSV from stdin")
        for opt in cmd.options:
            flags, kw = _OPTIONS[opt]
            p.add_argument(*flags, **kw)
        what = p.add_mutually_exclusive_group()
        what.add_argument("--summary", action="store_true", help="R's summary()")
        what.add_argument("--tidy", action="store_true", help="broom's tidy() table")
        what.add_argument("--glance", action="store_true", help="broom's glance() table")
        p.add_argument("--conf-int", action="store_true",
                       help="with --tidy: confidence intervals (conf.low, conf.high)")
        p.add_argument("--format", choices=("text", "csv", "json"), default="text",
                       help="output format (csv and json are for --tidy/--glance tables; "
                            "they imply --tidy)")
    return parser


# --------------------------------------------------------------------------------------------
# data


def read_data(path: str):
    """The data file as a pandas DataFrame: CSV (also ``-``: standard input), TSV, Parquet."""
    import pandas as pd

    if path == "-":
        return pd.read_csv(sys.stdin)
    if not os.path.exists(path):
        raise UsageError(f"cannot open file '{path}': No such file or directory")
    ext = os.path.splitext(path)[1].lower()
    try:
        if ext in (".parquet", ".pq"):
            return pd.read_parquet(path)
        if ext in (".tsv", ".tab"):
            return pd.read_csv(path, sep="\t")
        return pd.read_csv(path)
    except ImportError as exc:
        raise UsageError(f"reading '{path}' needs pyarrow (pip install pyarrow): {exc}") from exc
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read '{path}': {exc}") from exc


def data_name(path: str) -> str:
    """What the printed call names the data: the file's stem when R could use it as a name."""
    from .formula import is_syntactic_name

    stem = os.path.splitext(os.path.basename(path))[0]
    return stem if path != "-" and stem and is_syntactic_name(stem) else "data"


# --------------------------------------------------------------------------------------------
# fitting and output


def fit_model(cmd: Command, args: argparse.Namespace, data) -> Any:
    """Call the command's rmodels function with the options given."""
    import rmodels

    kwargs: dict[str, Any] = {"data_name": data_name(args.file)}
    if "family" in cmd.options and args.family is not None:
        kwargs["family"] = args.family
    if "by" in cmd.options and args.by:
        kwargs["by"] = args.by[0] if len(args.by) == 1 else list(args.by)
    if "weights" in cmd.options and args.weights is not None:
        kwargs["weights"] = args.weights
    if "ml" in cmd.options and args.ml:
        kwargs["REML"] = False
    return getattr(rmodels, cmd.function)(args.formula, data, **kwargs)


def render(fit: Any, args: argparse.Namespace) -> str:
    """The output text: the fit or its summary as R prints them, or a broom table."""
    if args.format != "text" and args.summary:
        raise UsageError("--format csv/json is for --tidy or --glance tables, not --summary")
    if args.tidy or args.glance or args.format != "text":
        table = fit.glance() if args.glance else fit.tidy(conf_int=args.conf_int)
        return format_table(table, args.format)
    from .batch import FailedFit, FitList

    def show(f: Any) -> Any:
        if isinstance(f, FailedFit):
            return f"failed: {f.status}"  # the group's R error, in place of its fit
        return f.summary() if args.summary else f

    if isinstance(fit, FitList):  # grouped: R's print of a named list
        parts = []
        for key, one in zip(fit.keys, fit):
            parts.append("$" + ".".join(str(k) for k in key) + "\n" + str(show(one)).rstrip("\n")
                         + "\n")
        return "\n".join(parts) + "\n"
    return str(show(fit))


def format_table(table, fmt: str) -> str:
    """A broom table as text (all rows and columns), CSV or JSON records (NaN → null)."""
    if fmt == "csv":
        return table.to_csv(index=False)
    if fmt == "json":
        records = [{k: _json_value(v) for k, v in row.items()}
                   for row in table.to_dict(orient="records")]
        return json.dumps(records, indent=1) + "\n"
    import pandas as pd

    with pd.option_context("display.max_rows", None, "display.max_columns", None,
                           "display.width", 10_000):
        return table.to_string(index=False) + "\n"


def _json_value(v: Any) -> Any:
    if hasattr(v, "item"):  # NumPy scalars
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def warning_text(caught: Sequence[warnings.WarningMessage]) -> str:
    """R's report of warnings after a command: 'Warning message:' and the message, or
    'Warning messages:' and a numbered list."""
    msgs = list(dict.fromkeys(str(w.message) for w in caught))
    if not msgs:
        return ""
    if len(msgs) == 1:
        return "Warning message:\n" + msgs[0] + "\n"
    return "Warning messages:\n" + "".join(f"{i}: {m}\n" for i, m in enumerate(msgs, 1))


# --------------------------------------------------------------------------------------------
# entry point


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command line (``rmodels`` console script, ``python -m rmodels``); returns the
    exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)  # exits with status 2 on a usage error, as argparse does
    try:
        return run(args)
    except UsageError as exc:
        parser.exit(2, f"rmodels {args.command}: error: {exc}\n")
    except BrokenPipeError:  # e.g. piped into head: stop quietly
        _silence_stdout()
        return 0
    except KeyboardInterrupt:
        return 130


def run(args: argparse.Namespace) -> int:
    """Read, fit, print; the package's errors are reported on standard error (status 1)."""
    from .errors import RModelsError

    cmd = COMMANDS[args.command]
    data = read_data(args.file)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            fit = fit_model(cmd, args, data)
            text = render(fit, args)
        except RModelsError as exc:
            sys.stderr.write(warning_text(caught))
            sys.stderr.write(f"rmodels {cmd.name}: error: {exc}\n")
            return 1
    sys.stdout.write(text)
    sys.stdout.flush()
    sys.stderr.write(warning_text(caught))
    return 0


def _silence_stdout() -> None:
    """After a broken pipe: point stdout at devnull so the interpreter's final flush is quiet."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
