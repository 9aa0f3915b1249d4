"""lme4's printouts of an lmer fit: ``print.merMod`` (:func:`print_lmer`) and
``print(summary(fit))`` (:class:`LmerSummary`), built from lme4's pieces (``.prt.methTit``,
``.prt.call``, ``.prt.aictab``, ``.prt.resids``, ``.prt.VC``, ``.prt.grps``, ``.prt.warn``),
and R's ``abbreviate`` for the correlation table's labels.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

from ...printing import (
    format_num,
    print_coefmat,
    print_matrix,
    print_named_vector,
    quantile7,
    round_r,
    zapsmall,
)
from ...printing.html import TableSpec, printout_html
from .predict import residual_values


def method_title(reml: bool, obj_class: str = "lmerMod") -> str:
    """``.prt.methTit``: ``Linear mixed model fit by REML ['lmerMod']``."""
    how = "REML" if reml else "maximum likelihood "
    return f"Linear mixed model fit by {how} ['{obj_class}']\n"


def call_header(call: dict) -> str:
    """``.prt.call``: the ``Formula:``, ``Data:``, ``Weights:``, ``Offset:``, ``Subset:`` lines
    (each wrapped as ``cat(fill = TRUE)``)."""
    out = cat_fill(["Formula:", call["formula"]])
    out += cat_fill(["   Data:", call["data"]])
    if call.get("weights"):
        out += cat_fill(["Weights:", call["weights"]])
    if call.get("offset"):
        out += cat_fill([" Offset:", call["offset"]])
    if call.get("subset"):
        out += cat_fill([" Subset:", call["subset"]])
    return out


def aic_table(fit: Any, digits: int) -> str:
    """``.prt.aictab``: the REML criterion, or ``AIC BIC logLik deviance df.resid`` of an ML
    fit, rounded to ``digits`` decimals."""
    if fit.REML:
        v = round_r(fit.cmp["REML"], digits)
        return f"REML criterion at convergence: {format_num([v], digits=7)[0].strip()}\n"
    vals = [fit.AIC(), fit.BIC(), fit.logLik(), fit.cmp["deviance"]]
    rounded = [round_r(v, digits) for v in vals]
    cells = format_num(rounded + [float(fit.df_residual())], digits=7)[:4]
    cells.append(format_num([float(fit.df_residual())], digits=7)[0])
    return print_named_vector(cells, ["AIC", "BIC", "logLik", "deviance", "df.resid"])


def groups_line(fit: Any) -> str:
    """``.prt.grps``: ``Number of obs: n, groups: g, levels; …``."""
    ng = fit.ngrps()
    parts = "; ".join(f"{g}, {n}" for g, n in ng.items())
    return cat_fill([f"Number of obs: {fit.nobs()}, groups: ", parts])


def convergence_lines(messages: list, summary: bool, optimizer: str = "nloptwrap") -> str:
    """``.prt.warn``: the (last) optimizer's code and lme4's convergence messages (counted
    only, in ``print.merMod``); lme4 names lmer's optimizer nloptwrap, glmer's Nelder_Mead."""
    if not messages:
        return ""
    conv = f"optimizer ({optimizer}) convergence code: 0 (OK)"
    if summary:
        return f"{conv} ; 0 optimizer warnings; {len(messages)} lme4 warnings \n"
    # lme4 writes cat(convmsg, msgs, sep = "\n") then cat("\n"): R's output ends in an
    # empty line there
    return "\n".join([conv, *messages]) + "\n\n"


def fit_warnings(messages: list) -> str:
    """The ``fit warnings:`` block (a rank-deficient fixed-effect matrix)."""
    if not messages:
        return ""
    return "fit warnings:\n" + "\n".join(messages) + "\n"


def print_lmer(fit: Any, obj_class: str = "lmerMod") -> str:
    """lme4's ``print.merMod``: title (with the fit's class), call, criterion, the random
    effects' standard deviations, the group sizes and the fixed effects."""
    out = method_title(fit.REML, obj_class) + call_header(fit.call) + aic_table(fit, 4)
    out += "Random effects:\n" + fit.VarCorr().format_vc(digits=4, comp=("Std.Dev.",))
    out += groups_line(fit)
    if fit.p > 0:
        cells = format_num(fit.beta, digits=4)
        out += "Fixed Effects:\n" + print_named_vector(cells, fit.columns, gap=2)
    else:
        out += "No fixed effect coefficients\n"
    out += fit_warnings(fit.fit_msgs) + convergence_lines(fit.optinfo.messages, summary=True)
    return out


def summary_body(f: Any, coefficients: pd.DataFrame, optimizer: str = "nloptwrap") -> str:
    """The printed summary of a mixed model from "Random effects:" on: the variance
    components, the groups, the fixed effects ``coefficients`` (with their correlation for
    2 to 12 of them) and the fit's messages (lmer's and glmer's ``print.summary.merMod``)."""
    out = "Random effects:\n" + f.VarCorr().format_vc(digits=4, comp=("Variance", "Std.Dev."))
    out += groups_line(f)
    if f.p > 0:
        out += "\nFixed effects:\n"
        out += print_coefmat(coefficients.to_numpy(), list(coefficients.columns), f.columns,
                             digits=4)
        if 1 < f.p <= 12:
            out += "\nCorrelation of Fixed Effects:\n" + fixef_correlation_table(f)
    return out + fit_warnings(f.fit_msgs) + convergence_lines(f.optinfo.messages, False,
                                                              optimizer)


class LmerSummary:
    """``summary(fit)``: ``coefficients`` (``Estimate Std. Error t value``); ``str()`` is
    lme4's ``print(summary(fit))``."""

    def __init__(self, fit: Any) -> None:
        self.fit = fit
        se = np.sqrt(np.diag(fit.vcov_matrix()))
        self.coefficients = pd.DataFrame({"Estimate": fit.beta, "Std. Error": se,
                                          "t value": fit.beta / se}, index=fit.columns)

    def title(self) -> str:
        """The first line (``.prt.methTit``); lmerTest's summary names its t-test method."""
        return method_title(self.fit.REML)

    def __str__(self) -> str:
        f = self.fit
        out = self.title() + call_header(f.call) + "\n" + aic_table(f, 1) + "\n"
        return out + scaled_residuals_block(f) + summary_body(f, self.coefficients)

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        """The printout for notebooks, the fixed effects as an HTML table of R's cells."""
        spec = TableSpec(list(self.coefficients.columns), list(self.fit.columns))
        return printout_html(str(self), [spec])


def scaled_residuals_block(fit: Any) -> str:
    """``.prt.resids``: the five-number summary of the scaled Pearson residuals."""
    q = zapsmall(quantile7(residual_values(fit, type="pearson", scaled=True)), 5)
    return "Scaled residuals: \n" + print_named_vector(
        q, ["Min", "1Q", "Median", "3Q", "Max"], digits=4) + "\n"


def fixef_correlation_table(fit: Any) -> str:
    """The lower triangle of the fixed effects' correlation matrix, 3 decimals, rows and
    columns labelled by the abbreviated names (11 and 6 characters)."""
    p = fit.p
    V = fit.vcov_matrix()
    sd = np.sqrt(np.diag(V))
    cor = V / np.outer(sd, sd)
    cells = format_num([round_r(v, 3) for v in cor.ravel(order="F")], digits=7, nsmall=3)
    cm = np.array(cells, dtype=object).reshape(p, p, order="F")
    rn = abbreviate(fit.columns, 11)
    cn = abbreviate(fit.columns, 6)
    grid = [[cm[i, j] if i > j else "" for j in range(p - 1)] for i in range(1, p)]
    return print_matrix(grid, rownames=rn[1:], colnames=cn[:-1], right=False)


def cat_fill(items: list, width: int = 80) -> str:
    """``cat(..., fill = TRUE)``: items separated by spaces, a newline before an item that would
    pass ``width`` (R writes the separator first, so the broken line ends in a space), and a
    final newline."""
    lines: list = []
    cur = ""
    for it in items:
        if cur and len(cur) + 1 + len(it) > width:
            lines.append(cur + " ")
            cur = it
        else:
            cur = it if not cur else cur + " " + it
    lines.append(cur)
    return "\n".join(lines) + "\n"


def _abbrev_one(s: str, minlength: int) -> str:
    """R's C routine behind ``abbreviate(use.classes = TRUE)`` for one string."""
    if len(s) <= minlength:
        return s
    b = list(s.strip())

    def length() -> int:
        return len(b) - sum(1 for c in b if c.isspace())

    def first_char(i: int) -> bool:
        return b[i - 1].isspace()

    def last_char(i: int) -> bool:
        return (not b[i - 1].isspace()) and (i + 1 >= len(b) or b[i + 1].isspace())

    def vowel(c: str) -> bool:
        return c in "aeiou"

    def done() -> bool:
        return length() <= minlength

    for test in (lambda i: vowel(b[i]) and last_char(i),
                 lambda i: vowel(b[i]) and not first_char(i),
                 lambda i: b[i].islower() and last_char(i),
                 lambda i: b[i].islower() and not first_char(i),
                 lambda i: not first_char(i) and not b[i].isspace()):
        if done():
            break
        i = len(b) - 1
        while i > 0:
            if i < len(b) and test(i):
                del b[i]
            if done():
                break
            i -= 1
    if len(b) > minlength:
        b = [c for k, c in enumerate(b) if k == 0 or not c.isspace()]
    return "".join(b)


def abbreviate(names: Sequence[str], minlength: int) -> list:
    """R's ``abbreviate(names, minlength)`` (``method = "left.kept"``, duplicates resolved by
    raising ``minlength`` for the clashing entries)."""
    names = list(names)
    x = list(names)
    dup = [True] * len(names)
    ml = minlength
    while True:
        for i, d in enumerate(dup):
            if d:
                x[i] = _abbrev_one(names[i], ml)
        seen: dict = {}
        dups = []
        for v in x:
            dups.append(v in seen)
            seen[v] = True
        if not any(dups):
            return x
        ml += 1
        clash = {x[i] for i, d in enumerate(dups) if d}
        dup = [d or (x[i] in clash) for i, d in enumerate(dups)]
