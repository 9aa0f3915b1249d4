"""Fuzzing of the formula engine and the model calls (``python -m tests.fuzz.run``).

``strategies`` holds the hypothesis strategies (arbitrary text, grammar-shaped formulas),
``targets`` runs one input against one public call and classifies the outcome, ``worker`` runs a
batch in a child process and ``run`` drives batches (several at once, resumable), counting
crashes and hangs; ``atheris_formula`` is the coverage-guided fuzzer of the lexer and parser.
"""
