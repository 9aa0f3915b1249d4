"""lmerTest's summary of an lmer fit (``summary.lmerModLmerTest``): lme4's printed summary with
the title naming the t-test method (``.prt.methTit``'s wrapped form when it is long) and the
fixed-effect table ``Estimate Std. Error df t value Pr(>|t|)``.
"""

from __future__ import annotations

from typing import Any

from ..lmer.summary import LmerSummary
from .contest import coef_table

OBJ_CLASS = "lmerModLmerTest"


def strwrap(text: str, width: int, exdent: int = 0) -> list:
    """R's ``strwrap`` for one paragraph of single-spaced words: greedy lines shorter than
    ``width``, continuation lines indented by ``exdent``."""
    lines: list = []
    cur = ""
    for word in text.split():
        if cur and len(cur) + 1 + len(word) >= width:
            lines.append(cur)
            cur = " " * exdent + word
        else:
            cur = word if not cur else f"{cur} {word}"
    lines.append(cur)
    return lines


def cat_fill_nosep(items: list, width: int = 80) -> str:
    """``cat(..., sep = "", fill = TRUE)``: items joined, a newline before an item that would
    pass ``width``, and a final newline."""
    lines: list = []
    cur = ""
    for it in items:
        if cur and len(cur) + len(it) > width:
            lines.append(cur)
            cur = it
        else:
            cur += it
    lines.append(cur)
    return "\n".join(lines) + "\n"


def lmertest_title(reml: bool, ddf: str) -> str:
    """lme4's ``.prt.methTit`` of lmerTest's title ``Linear mixed model fit by REML. t-tests use
    Satterthwaite's method ['lmerModLmerTest']``."""
    how = "REML" if reml else "maximum likelihood "
    name = "Satterthwaite's" if ddf == "Satterthwaite" else "Kenward-Roger's"
    mtit = f"Linear mixed model fit by {how}. t-tests use {name} method"
    if len(mtit) + 5 + len(OBJ_CLASS) > 80:
        return cat_fill_nosep([*strwrap(mtit, 78, exdent=2), " [", OBJ_CLASS, "]"])
    return f"{mtit} ['{OBJ_CLASS}']\n"


class LmerTestSummary(LmerSummary):
    """``summary(fit, ddf=)`` of lmerTest: ``coefficients`` has the columns ``Estimate
    Std. Error df t value Pr(>|t|)``; ``str()`` is lmerTest's printed summary."""

    def __init__(self, fit: Any, ddf: str = "Satterthwaite") -> None:
        super().__init__(fit)
        self.ddf = ddf
        self.coefficients = coef_table(fit, ddf)

    def title(self) -> str:
        return lmertest_title(self.fit.REML, self.ddf)
