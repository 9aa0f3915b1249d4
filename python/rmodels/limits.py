"""Resource bounds checked before work starts (formula size and nesting, expansion size,
transform sizes, the model matrix's memory).

R has few such limits (its parser refuses more than 50 nested brackets, "contextstack
overflow"); the others exist so that an untrusted formula ends in a clear error instead of a
long computation or the kernel's out-of-memory killer. Change them on :data:`LIMITS`, e.g.
``rmodels.limits.LIMITS.model_matrix_bytes = 8 * 2**30``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Limits:
    """The bounds; every one is checked before the work it bounds is allocated or started."""

    #: characters in a formula text
    formula_length: int = 1_000_000
    #: brackets and calls open at once (R's parser: CONTEXTSTACK_SIZE 50)
    context_depth: int = 50
    #: nesting of operators and calls in the syntax tree (left-associative chains such as
    #: ``a + b + c`` do not nest); R's parser allows some thousands
    nesting_depth: int = 100
    #: terms of the expanded formula (also bounds each interaction's product of terms)
    terms: int = 100_000
    #: variables in one interaction term
    interaction_order: int = 64
    #: degree of ``poly()``
    poly_degree: int = 1_000
    #: intervals of ``cut()``
    cut_breaks: int = 1_000_000
    #: degrees of freedom (basis columns) of ``ns()``/``bs()``
    spline_df: int = 1_000
    #: bytes of the dense model matrix (and of one dense contrast matrix)
    model_matrix_bytes: int = 4 * 2**30


LIMITS = Limits()
