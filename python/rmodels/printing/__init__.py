"""printing: R's number formatting and printouts (format, formatC, print.default, printCoefmat,
print.anova)."""

from __future__ import annotations

from .rformat import (  # noqa: F401
    NA_REAL,
    format_int,
    format_num,
    format_pval,
    format_scalar,
    format_str,
    formatC,
    is_na_real,
    print_anova,
    print_coefmat,
    print_matrix,
    print_named_vector,
    print_vector,
    quantile7,
    round_r,
    signif,
    zapsmall,
)
