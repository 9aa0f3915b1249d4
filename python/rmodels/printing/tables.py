"""printing, tables: R's ``format.pval``, ``printCoefmat`` (coefficient tables with significance
stars) and ``print.anova``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .numbers import (
    DBL_EPSILON,
    KIND_FINITE,
    KIND_NA,
    KIND_NAN,
    classify_numbers,
    encode_reals,
    format_num,
    format_real,
    format_scalar,
    format_str,
    str_width,
)
from .rounding import fround_array, zapsmall
from .vectors import print_matrix

#: The legend line printed under a coefficient table with significance stars.
SIGNIF_LEGEND = "Signif. codes:  0 \u2018***\u2019 0.001 \u2018**\u2019 0.01 \u2018*\u2019 0.05 " \
    "\u2018.\u2019 0.1 \u2018 \u2019 1"


def format_pval(pv: Any, digits: int = 5, eps: float = DBL_EPSILON,
                na_form: str = "NA") -> list[str]:
    """R's ``format.pval``: p >= eps formatted in two groups (``expo >= -3``, or ``-4`` when
    digits > 1, in fixed notation; the rest), each with ``format(., digits)``; p < eps as
    ``"<" + sep + format(eps, digits = max(1, digits - 2))`` with R's width rule; NA as
    ``na_form``."""
    vals, kinds = classify_numbers(pv, True)
    vl = vals.tolist()
    ok = [i for i, k in enumerate(kinds.tolist()) if k != KIND_NA and k != KIND_NAN]
    p = [vl[i] for i in ok]
    r = [""] * len(p)
    big = [j for j, v in enumerate(p) if not v < eps]
    rr: list[str] = []
    if big:
        q = [p[j] for j in big]
        expo = [math.floor(math.log10(v if v > 0 else 1e-50)) for v in q]
        fixp = [e >= -3 or (e == -4 and digits > 1) for e in expo]
        rr = [""] * len(q)
        for fixed in (True, False):
            grp = [j for j, f in enumerate(fixp) if f == fixed]
            if grp:
                strs = format_num(np.array([q[j] for j in grp]), digits=digits)
                for j, s in zip(grp, strs):
                    rr[j] = s
        for j, s in zip(big, rr):
            r[j] = s
    if len(big) < len(p):
        dg = max(1, digits - 2)
        if big:
            nc = max(str_width(s) for s in rr)
            if dg > 1 and dg + 6 > nc:
                dg = max(1, nc - 7)
            sep = "" if (dg == 1 and nc <= 6) else " "
        else:
            sep = "" if dg == 1 else " "
        txt = "<" + sep + format_scalar(eps, digits=dg)
        for j, v in enumerate(p):
            if v < eps:
                r[j] = txt
    out = [na_form] * len(vl)
    for j, s in zip(ok, r):
        out[j] = s
    return out


def _signif_stars(p: float) -> str:
    """``symnum(p, cutpoints = c(0, .001, .01, .05, .1, 1))`` (intervals closed on the right,
    the first also on the left)."""
    if p <= 0.001:
        return "***"
    if p <= 0.01:
        return "**"
    if p <= 0.05:
        return "*"
    if p <= 0.1:
        return "."
    return " "


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

    ina = (kinds == KIND_NA) | (kinds == KIND_NAN)
    ok = ~ina
    cf = [["" for _ in range(nc)] for _ in range(nrow)]

    def set_col(j: int, strs: list[str]) -> None:
        for i in range(nrow):
            cf[i][j] = strs[i]

    for j in zap_ind:
        zv = zapsmall(np.where(ina[:, j], np.nan, vals[:, j]), digits)
        vals[:, j] = np.where(ina[:, j], vals[:, j], zv)

    vl, kl = vals.tolist(), kinds.tolist()

    def fmt_block(cols: list[int], rounding: float) -> None:
        """The columns ``cols`` formatted together (column-major), finite cells rounded to
        ``rounding`` decimals first."""
        block_v = vals[:, cols].T.ravel()
        block_k = kinds[:, cols].T.ravel()
        block_v = np.where(block_k == KIND_FINITE, fround_array(block_v, rounding), block_v)
        strs = _format_kinds(block_v, block_k, digits)
        for c, j in enumerate(cols):
            set_col(j, strs[c * nrow:(c + 1) * nrow])

    if cs_ind:
        fin_cs = [abs(vl[i][j]) for j in cs_ind for i in range(nrow) if kl[i][j] == KIND_FINITE]
        if fin_cs:
            nz = [a for a in fin_cs if a != 0]
            digmin = 1 + math.floor(math.log10(min(nz))) if nz else 1
            fmt_block(cs_ind, float(max(1, digits - digmin)))
    if tst_ind:
        fmt_block(tst_ind, float(dig_tst))
    pcol = nc - 1 if has_Pvalue else None
    for j in range(nc):
        if j in cs_ind or j in tst_ind or j == pcol:
            continue
        set_col(j, _format_kinds(vals[:, j], kinds[:, j], digits))

    _fix_zero_cells(cf, vals, kinds, ok, [j for j in range(nc) if j != pcol and j not in tst_ind],
                    digits)
    for i, j in zip(*np.nonzero(ina)):
        cf[i][j] = "NaN" if kinds[i, j] == KIND_NAN else na_print

    stars_shown = False
    header = list(colnames)
    if P_values and ok[:, nc - 1].any():
        stars_shown = _put_p_values(cf, nc - 1, vals[:, nc - 1], ok[:, nc - 1], dig_tst,
                                    eps_Pvalue, signif_stars)
        if stars_shown:
            header.append("")
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


def _fix_zero_cells(cf: list, vals: np.ndarray, kinds: np.ndarray, ok: np.ndarray,
                    cols: list[int], digits: int) -> None:
    """printCoefmat's zero fix: cells of ``cols`` whose string reads 0 while the value is not
    (or vice versa) are formatted again, together, with ``digits - 1``."""
    fix: list[tuple[int, int]] = []
    okl, vl = ok.tolist(), vals.tolist()
    for j in cols:
        for i in range(len(cf)):
            if not okl[i][j]:
                continue
            try:
                parsed = float(cf[i][j])
            except ValueError:
                continue
            if (vl[i][j] == 0) != (parsed == 0):
                fix.append((i, j))
    if fix:
        # R collects the cells in column-major order (Cf[okP][not.both.0]).
        fix.sort(key=lambda ij: (ij[1], ij[0]))
        strs = _format_kinds(np.array([vals[i, j] for i, j in fix]),
                             np.array([kinds[i, j] for i, j in fix]), max(1, digits - 1))
        for (i, j), s in zip(fix, strs):
            cf[i][j] = s


def _put_p_values(cf: list, pcol: int, pv: np.ndarray, okp: np.ndarray, dig_tst: int,
                  eps: float, signif_stars: bool) -> bool:
    """The p-value column ``pcol`` (the last of ``cf``) by ``format.pval``, and the
    significance stars appended as a new column when some p < 0.1; True when the stars are
    shown."""
    pstr = format_pval(pv[okp], digits=dig_tst, eps=eps)
    for i, s in zip(np.flatnonzero(okp), pstr):
        cf[i][pcol] = s
    stars_shown = signif_stars and bool((pv[okp] < 0.1).any())
    if stars_shown:
        sym = format_str([_signif_stars(float(p)) if okp[i] else "" for i, p in enumerate(pv)])
        for i in range(len(cf)):
            cf[i].append(sym[i])
    return stars_shown


def _format_kinds(v: np.ndarray, k: np.ndarray, digits: int) -> list[str]:
    w, d, e = format_real(v, k, digits)
    return encode_reals(v, k, w, d, e)


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
