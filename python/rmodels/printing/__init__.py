"""printing: R's number formatting and printouts, reproduced to the character (R 4.2.2
conventions).

Modules: ``numbers`` (``format()``, ``formatC``, NA bits), ``rounding`` (``round``, ``signif``,
``zapsmall``, ``quantile``), ``vectors`` (``print()`` of vectors and matrices, ``cat``,
``abbreviate``), ``tables`` (``format.pval``, ``printCoefmat``, ``print.anova``).

Usage (everything returns plain ``str`` / ``list[str]``; the ``print_*`` functions return the
exact text R prints, newline-terminated, so callers just concatenate):

>>> from rmodels import printing as rf
>>> rf.format_num([251.40510485, 10.46728596])          # format(x) -> common format
['251.40510', ' 10.46729']
>>> rf.format_scalar(0.2421543, digits=4)                # format(x, digits = 4)
'0.2422'
>>> rf.formatC(3261.95, digits=4)                        # formatC(x, digits = 4)
' 3262'
>>> rf.format_pval([0.61, 1.57e-13], digits=3)           # format.pval
['0.61', '1.57e-13']
>>> rf.print_named_vector([1.5, -3.0], ["a", "b"])       # print(c(a = 1.5, b = -3))
'   a    b \\n 1.5 -3.0 \\n'

* ``format_num(x, digits=7, nsmall=0, width=None, drop0trailing=False, na="NA")`` = ``format()``
  of a numeric vector; ``format_scalar`` for one number; ``format_int``, ``format_str`` for
  integer / character vectors; ``formatC``; ``format_pval``; ``cat(*items)`` = the text of R's
  ``cat`` (Python ``float`` = R double, ``int`` = R integer).
* ``signif``, ``round_r`` (R's ``round(x, digits)``), ``zapsmall``, ``quantile7``,
  ``abbreviate`` (lme4's correlation labels).
* ``print_named_vector(values, names, digits=7, gap=1, na_print="NA")``; ``print.lm``
  coefficients: ``print_named_vector(format_num(coef, digits=4), names, gap=2)``; residual
  quantiles: ``print_named_vector(zapsmall(quantile7(res), 5), ["Min", "1Q", "Median", "3Q",
  "Max"], digits=4)``.
* ``print_matrix(cells, rownames, colnames, right=False)`` (character matrix; lme4 tables),
  ``print_numeric_matrix(x, rownames, colnames, digits=7)``.
* ``print_coefmat(table, colnames, rownames, digits=5, ...)`` (summary printers pass
  ``digits=4``; aliased rows are all-NA rows; no p column for lmer), ``print_anova(table,
  heading)``.

Missing values. A ``None`` or R's ``NA_real_`` bit pattern (:data:`NA_REAL`, which survives
numpy copies and rpy2 transfers) is R's ``NA``. Any other float NaN is taken as ``NA`` too unless
``nan_is_na=False`` is passed, in which case it prints as ``NaN`` like R's ``NaN``. Pass
``nan_is_na=False`` wherever R would hold a computed NaN (0/0: sigma, SEs, F of a fit with no
residual df) and mark true NAs (aliased coefficients) with ``NA_REAL`` in that case.

The numeric rules follow R's C code: ``formatReal``/``scientific`` (digits needed, fixed vs
scientific, the "rounding widens" check, R's 80-bit long double scaling), ``EncodeReal0``
(``sprintf`` output), ``fround``/``fprec`` (R 4 ``round`` and ``signif``) — these four in the
compiled core —, ``printNamedVector`` and ``printMatrix`` (layout and wrapping at ``width``), and
the R functions ``format.pval``, ``formatC``, ``printCoefmat``, ``print.anova``, ``zapsmall`` and
``quantile(type = 7)``.
"""

from __future__ import annotations

from .numbers import (
    NA_REAL,
    format_int,
    format_num,
    format_scalar,
    format_str,
    formatC,
    is_na_real,
    str_width,
)
from .rounding import quantile7, round_r, signif, zapsmall
from .tables import SIGNIF_LEGEND, format_pval, print_anova, print_coefmat
from .vectors import (
    abbreviate,
    cat,
    print_matrix,
    print_named_vector,
    print_numeric_matrix,
    print_vector,
)

__all__ = [
    "NA_REAL",
    "SIGNIF_LEGEND",
    "abbreviate",
    "cat",
    "format_int",
    "format_num",
    "format_pval",
    "format_scalar",
    "format_str",
    "formatC",
    "is_na_real",
    "print_anova",
    "print_coefmat",
    "print_matrix",
    "print_named_vector",
    "print_numeric_matrix",
    "print_vector",
    "quantile7",
    "round_r",
    "signif",
    "str_width",
    "zapsmall",
]
