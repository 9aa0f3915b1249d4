"""Coverage-guided fuzzing of the formula lexer, parser, deparser and terms (atheris, libFuzzer).

Usage: ``python -m tests.fuzz.atheris_formula [libFuzzer options]``, e.g. ``-max_total_time=600``
or ``-runs=100000``, ``-timeout=5`` (seconds per input), a corpus directory. Each input is
decoded as text and parsed as a formula, deparsed, and expanded into terms (with and without
data columns for ``.``); an exception that is not the package's own is a finding (libFuzzer
stops and writes the input to ``crash-*``). Needs ``pip install atheris`` (the ``fuzz`` extra).
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports(include=["rmodels.formula"]):
    from rmodels.errors import RModelsError
    from rmodels.formula.deparse import deparse
    from rmodels.formula.lexer import tokenize
    from rmodels.formula.parser import parse_formula
    from rmodels.formula.terms import terms

COLUMNS = ["y", "x", "z", "a", "g"]


def one_input(data: bytes) -> None:
    """Parse, deparse and expand one input; the package's errors are expected outcomes."""
    fdp = atheris.FuzzedDataProvider(data)
    with_columns = fdp.ConsumeBool()
    text = fdp.ConsumeUnicodeNoSurrogates(len(data))
    try:
        tokenize(text)
        f = parse_formula(text)
        deparse(f.rhs)
        terms(text, data_columns=COLUMNS if with_columns else None)
    except RModelsError:
        pass


def main(argv: list[str] | None = None) -> None:
    atheris.Setup(sys.argv if argv is None else argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
