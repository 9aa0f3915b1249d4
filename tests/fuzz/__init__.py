"""Fuzzing of the formula engine and the model calls (``python -m tests.fuzz.run``).

``strategies`` holds the hypothesis strategies (arbitrary text, grammar-shaped formulas),
``targets`` runs one input against one public call and classifies the outcome, ``worker`` runs a
batch in a child process and ``run`` drives batches, counting crashes and hangs.
"""
