"""lme4's printouts of a glmer fit: ``print.merMod`` (:func:`print_glmer`) and
``print(summary(fit))`` (:class:`GlmerSummary`), from lme4's pieces (``.prt.methTit`` with
``methTitle``, ``.prt.family``, ``.prt.call``, ``.prt.aictab``, ``.prt.resids``, ``.prt.VC``,
``.prt.grps``, ``.prt.warn``); the shared pieces are the lmer package's.
"""

from __future__ import annotations

import textwrap
from typing import Any

import numpy as np
import pandas as pd

from ...formula import parse_formula
from ...formula.call import deparse_formula_lines
from ...printing import (
    format_num,
    print_named_vector,
    quantile7,
    zapsmall,
)
from ..lmer.summary import (
    aic_table,
    call_header,
    cat_fill,
    convergence_lines,
    fit_warnings,
    groups_line,
    summary_body,
)
from .predict import residual_values


def method_title(nagq: int) -> str:
    """``methTitle`` printed by ``.prt.methTit`` (wrapped at width 78 with indent 2, then
    `` [glmerMod]``)."""
    how = ("(Laplace Approximation)" if nagq == 1 else
           f"(Adaptive Gauss-Hermite Quadrature, nAGQ = {nagq})")
    title = f"Generalized linear mixed model fit by maximum likelihood {how}"
    if len(title) + 5 + len("glmerMod") <= 80:
        return f"{title} ['glmerMod']\n"
    lines = textwrap.wrap(title, width=77, subsequent_indent="  ", break_long_words=False,
                          break_on_hyphens=False)
    if len(lines[-1]) + len(" [glmerMod]") > 80:
        lines.append("[glmerMod]")
    else:
        lines[-1] += " [glmerMod]"
    return "\n".join(lines) + "\n"


def family_line(fit: Any) -> str:
    """``.prt.family``: `` Family: binomial  ( logit )``."""
    return f" Family: {fit.family.family}  ( {fit.family.link} )\n"


#: The optimizer lme4's printouts name for glmer (its second stage's).
OPTIMIZER = "Nelder_Mead"


def glmer_call_header(call: dict) -> str:
    """``.prt.call``: as lmer's, with the formula deparsed into R's lines (``deparse`` breaks
    a long formula at width 60; ``cat(fill = TRUE)`` puts each piece on its own line)."""
    rest = call_header({**call, "formula": ""}).split("\n", 1)[1]
    lines = deparse_formula_lines(parse_formula(call["formula"]))
    return cat_fill(["Formula:", *lines]) + rest


def header(fit: Any) -> str:
    return method_title(fit.nAGQ) + family_line(fit) + glmer_call_header(fit.call)


def print_glmer(fit: Any) -> str:
    """lme4's ``print.merMod`` of a GLMM."""
    out = header(fit) + aic_table(fit, 4)
    out += "Random effects:\n" + fit.VarCorr().format_vc(digits=4, comp=("Std.Dev.",))
    out += groups_line(fit)
    if fit.p > 0:
        out += "Fixed Effects:\n" + print_named_vector(format_num(fit.beta, digits=4),
                                                       fit.columns, gap=2)
    else:
        out += "No fixed effect coefficients\n"
    out += fit_warnings(fit.fit_msgs) + convergence_lines(fit.optinfo.messages, True, OPTIMIZER)
    return out


class GlmerSummary:
    """``summary(fit)``: ``coefficients`` (``Estimate Std. Error z value Pr(>|z|)``; lme4 names
    the statistic ``t value`` for a family with a scale, with the same normal p-values);
    ``str()`` is lme4's ``print(summary(fit))``."""

    def __init__(self, fit: Any) -> None:
        from scipy import stats
        self.fit = fit
        se = np.sqrt(np.diag(fit.vcov_matrix()))
        z = fit.beta / se
        stat = "t value" if fit.use_sc else "z value"
        self.coefficients = pd.DataFrame({"Estimate": fit.beta, "Std. Error": se,
                                          stat: z, "Pr(>|z|)": 2 * stats.norm.sf(abs(z))},
                                         index=fit.columns)

    def __str__(self) -> str:
        f = self.fit
        out = header(f) + "\n" + aic_table(f, 1) + "\n"
        # residuals(fit, "pearson", scaled = TRUE): divided by sigma
        q = zapsmall(quantile7(residual_values(f, "pearson") / f.sigma()), 5)
        out += "Scaled residuals: \n" + print_named_vector(
            q, ["Min", "1Q", "Median", "3Q", "Max"], digits=4) + "\n"
        return out + summary_body(f, self.coefficients, OPTIMIZER)

    def __repr__(self) -> str:
        return str(self)
