"""printing, tables: R's ``format.pval``, ``printCoefmat`` (coefficient tables with significance
stars) and ``print.anova``. The cells' text (format.pval, the Estimate/SE block, the zero fix,
the stars) is computed by the core (format/coefmat.cpp); the argument rules and the layout are
here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import _core
from .numbers import DBL_EPSILON, KIND_NA, KIND_NAN, classify_numbers
from .rounding import zapsmall
from .vectors import print_matrix

#: The legend line printed under a coefficient table with significance stars.
SIGNIF_LEGEND = "Signif. codes:  0 \u2018***\u2019 0.001 \u2018**\u2019 0.01 \u2018*\u2019 0.05 " \
    "\u2018.\u2019 0.1 \u2018 \u2019 1"


def format_pval(pv: Any, digits: int = 5, eps: float = DBL_EPSILON,
                na_form: str = "NA") -> list[str]:
    """R's ``format.pval``: p >= eps formatted in two groups (``expo >= -3``, or ``-4`` when
    digits > 1, in fixed notation; the rest), each with ``format(., digits)``; p < eps as
    ``"<" + sep + format(eps, digits = max(1, digits - 2))`` with R's width rule; NA as
    ``na_form``. Computed by the core (format/coefmat.cpp)."""
    vals, kinds = classify_numbers(pv, True)
    ok = (kinds != KIND_NA) & (kinds != KIND_NAN)
    if ok.all():
        return _core.format_pval(vals, int(digits), float(eps))
    out = [na_form] * len(vals)
    for i, s in zip(np.flatnonzero(ok).tolist(),
                    _core.format_pval(vals[ok], int(digits), float(eps))):
        out[i] = s
    return out


def print_coefmat(table: Any, colnames: Sequence[str] | None = None,
                  rownames: Sequence[str] | None = None,
                  digits: int = 5, signif_stars: bool = True, signif_legend: bool | None = None,
                  dig_tst: int | None = None, cs_ind: Sequence[int] | None = None,
                  tst_ind: Sequence[int] | None = None, zap_ind: Sequence[int] = (),
                  P_values: bool | None = None, has_Pvalue: bool | None = None,  # noqa: N803
                  eps_Pvalue: float = DBL_EPSILON, na_print: str = "NA",  # noqa: N803
                  nan_is_na: bool = True, width: int = 80) -> str:
    """Text of R's ``printCoefmat`` (indices are 0-based; ``digits`` defaults to R's 5, the
    summary printers of lm/glm/lmer pass 4).

    Estimate/SE columns (``cs_ind``, default the first k = nc - has_Pvalue - len(tst_ind)) are
    rounded to max(1, digits - 1 - floor(log10(min nonzero |value|))) decimals and formatted
    jointly with ``digits``; test statistics (``tst_ind``, default column k) as
    ``format(round(t, dig_tst), digits)``; other columns each on their own (``zap_ind`` columns
    ``zapsmall``-ed first); entries whose string reads 0 while the value is not (or vice versa)
    are re-formatted with digits - 1; p-values with ``format.pval(digits = dig_tst)``; stars and
    the legend when some p < 0.1. ``has_Pvalue`` defaults to R's rule (>= 4 columns and the last
    header starting with ``Pr(`` or ``p-v``); ``cs_ind=()`` disables the joint block
    (``print.anova``). NA cells print as ``na_print``, NaN (``nan_is_na=False``) as ``NaN``.
    ``table`` may be a pandas DataFrame, whose columns and index then give the names.
    """
    xm, colnames, rownames = _cell_matrix(table, colnames, rownames)
    nrow, nc = xm.shape
    vals, kinds = _classified_cells(xm, nan_is_na)
    if has_Pvalue is None:
        has_Pvalue = nc >= 4 and len(colnames) > 0 and colnames[nc - 1][:3] in ("Pr(", "p-v")
    if P_values is None:
        P_values = has_Pvalue
    elif P_values and not has_Pvalue:
        raise ValueError("'P.values' is TRUE, but 'has.Pvalue' is not")
    if has_Pvalue and not P_values:
        vals, kinds = vals[:, :-1], kinds[:, :-1]
        colnames = colnames[:-1]
        nc -= 1
        has_Pvalue = False
    k = nc - int(has_Pvalue) - (1 if tst_ind is None else len(tst_ind))
    if cs_ind is None:
        cs_ind = list(range(k))
    elif len(cs_ind) > k:
        raise ValueError("wrong k / cs.ind")
    if tst_ind is None:
        tst_ind = [k]
    cs_ind = list(cs_ind)
    tst_ind = list(tst_ind)
    if dig_tst is None:
        dig_tst = max(1, min(5, digits - 1))
    if signif_legend is None:
        signif_legend = signif_stars

    for j in zap_ind:
        ina = (kinds[:, j] == KIND_NA) | (kinds[:, j] == KIND_NAN)
        zv = zapsmall(np.where(ina, np.nan, vals[:, j]), digits)
        vals[:, j] = np.where(ina, vals[:, j], zv)
    cf, stars_shown = _core.coefmat_cells(
        vals, kinds, int(digits), int(dig_tst), cs_ind, tst_ind,
        nc - 1 if has_Pvalue and P_values else -1, float(eps_Pvalue), bool(signif_stars),
        na_print)
    header = list(colnames) + [""] if stars_shown else list(colnames)
    text = print_matrix(cf, rownames, header, right=True, width=width)
    if stars_shown and signif_legend:
        text += "---\n" + SIGNIF_LEGEND + "\n"
    return text


def _cell_matrix(table: Any, colnames: Sequence[str] | None,
                 rownames: Sequence[str] | None) -> tuple[np.ndarray, list, list]:
    """The table as a 2-d object array with its column and row names (a DataFrame gives its
    own where they are not passed)."""
    if colnames is None:
        colnames = [str(c) for c in table.columns]
    if rownames is None:
        rownames = [str(r) for r in table.index]
    if hasattr(table, "iloc"):
        table = np.column_stack([np.asarray(table.iloc[:, j], dtype=object)
                                 for j in range(table.shape[1])])
    if isinstance(table, np.ndarray) and table.dtype.kind in "fiub":
        xm = table  # numbers: classified column by column without going through objects
    else:
        xm = np.array(table, dtype=object)
    if xm.ndim != 2:
        raise ValueError("'table' must be a coefficient matrix")
    return xm, list(colnames), list(rownames)


def _classified_cells(xm: np.ndarray, nan_is_na: bool) -> tuple[np.ndarray, np.ndarray]:
    """Values and kinds (see ``classify_numbers``) of every cell, as (nrow, nc) arrays: a
    numeric matrix in one pass, an object matrix column by column."""
    nrow, nc = xm.shape
    if nc == 0:
        return np.zeros((nrow, 0)), np.zeros((nrow, 0), int)
    if xm.dtype != object:
        v, k = classify_numbers(xm, nan_is_na)
        return v.reshape(nrow, nc), k.reshape(nrow, nc)
    vals_kinds = [classify_numbers(xm[:, j], nan_is_na) for j in range(nc)]
    return (np.column_stack([v for v, _ in vals_kinds]),
            np.column_stack([kd for _, kd in vals_kinds]))


def print_anova(table: Any, heading: Sequence[str] | str | None = None, digits: int = 5,
                signif_stars: bool = True, colnames: Sequence[str] | None = None,
                rownames: Sequence[str] | None = None, nan_is_na: bool = True,
                width: int = 80) -> str:
    """Text of R's ``print.anova``: the heading lines (each followed by a newline, as
    ``cat(heading, sep = "\\n")``), then ``printCoefmat`` with no Estimate/SE block, value
    columns ``zapsmall``-ed (not statistic, p or ``*Df`` columns), statistic columns
    (``* value``, ``F``, ``Cp``, ``Chisq``) rounded to dig.tst = digits - 1 decimals, p-values
    with ``format.pval`` and NA cells blank.

    ``table`` is a pandas DataFrame (column names and index used) or a 2-d array with
    ``colnames``/``rownames`` given.
    """
    if colnames is None or rownames is None:
        colnames = [str(c) for c in table.columns] if colnames is None else list(colnames)
        rownames = [str(r) for r in table.index] if rownames is None else list(rownames)
        arr = np.column_stack([np.asarray(table.iloc[:, j], dtype=object)
                               for j in range(table.shape[1])])
    else:
        arr = np.asarray(table, dtype=object)
    cn = list(colnames)
    nc = len(cn)
    text = ""
    if heading is not None:
        heading = [heading] if isinstance(heading, str) else list(heading)
        text = "".join(h + "\n" for h in heading)
    last = cn[nc - 1]
    has_p = last.startswith("P(") or last.startswith("Pr(")
    zap_i = list(range(nc - 1 if has_p else nc))
    tst_i = [j for j, c in enumerate(cn) if c[1:7] == " value"]
    tst_i += [j for j, c in enumerate(cn) if c in ("F", "Cp", "Chisq")]
    zap_i = [j for j in zap_i if j not in tst_i]
    df_i = [j for j, c in enumerate(cn) if c.endswith("Df")]
    zap_i = [j for j in zap_i if j not in df_i]
    text += print_coefmat(arr, cn, rownames, digits=digits, signif_stars=signif_stars,
                          has_Pvalue=has_p, P_values=has_p, cs_ind=(), zap_ind=zap_i,
                          tst_ind=tst_i, na_print="", nan_is_na=nan_is_na, width=width)
    return text
