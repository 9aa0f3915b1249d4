"""lmerTest's analysis-of-variance table of one lmer fit (``anova.lmerModLmerTest`` →
``single_anova``): one F test per fixed-effect term with the hypotheses of type I, II, III,
IIb or marginal (:mod:`.contrasts`) and Satterthwaite's or Kenward-Roger's denominator df
(:mod:`.contest`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...errors import FitError
from ..contract import AnovaTable
from .contest import DDF_METHODS, column_index, f_table, labels_index, match_ddf
from .contrasts import (
    contrasts_marginal,
    contrasts_type1,
    contrasts_type2,
    contrasts_type2b,
    contrasts_type3,
)

#: lmerTest's ``single_anova`` types (``match.arg`` choices, in its order)
TYPE_CHOICES = ("III", "II", "I", "3", "2", "1", "yates", "marginal", "2b")
ROMAN_TYPES = {"I": "1", "II": "2", "III": "3"}
HEADINGS = {"1": "Type I", "2": "Type II", "3": "Type III", "marginal": "Marginal",
            "2b": "Type IIb"}
CONTRASTS = {"1": contrasts_type1, "2": contrasts_type2, "3": contrasts_type3,
             "marginal": contrasts_marginal, "2b": contrasts_type2b}


def anova_type(type: Any) -> str:  # noqa: A002 - R's argument name
    """lmerTest's ``type`` (R's ``match.arg``: exact, else a unique prefix): "I", "II", "III"
    (or 1, 2, 3) → "1", "2", "3"; "marginal", "2b". Type "yates" is not available here."""
    key = str(int(type)) if isinstance(type, float) and type.is_integer() else str(type)
    if key not in TYPE_CHOICES:
        hits = [c for c in TYPE_CHOICES if key and c.startswith(key)]
        if len(hits) != 1:
            raise FitError("'arg' should be one of " + ", ".join(
                f"\u201c{c}\u201d" for c in TYPE_CHOICES))
        key = hits[0]
    if key == "yates":
        raise FitError("lmerTest's type = \"yates\" anova is not available in rmodels")
    return ROMAN_TYPES.get(key, key)


def hypotheses(fit: Any, t: str) -> dict:
    """The fit's hypothesis matrices of type t per term (:mod:`.contrasts`; they depend on the
    design alone, so they are made once per fit and kept read-only in its ``lmertest_cache``)."""
    key = ("contrasts", t)
    cache = fit.lmertest_cache
    if key not in cache:
        made = CONTRASTS[t](fit)
        for L in made.values():
            L.setflags(write=False)
        cache[key] = made
    return cache[key]


def lmertest_anova(fit: Any, type: Any = "III",  # noqa: A002
                   ddf: str = "Satterthwaite") -> AnovaTable:
    """lmerTest's ``anova(fit, type, ddf)`` (``single_anova``; types "I", "II", "III",
    "marginal", "2b"): ``Sum Sq Mean Sq NumDF DenDF F value Pr(>F)`` per term (terms without
    a testable hypothesis last, all NA), under the heading ``Type III Analysis of Variance Table
    with Satterthwaite's method``."""
    t = anova_type(type)
    ddf = match_ddf(ddf, DDF_METHODS[:2])
    hyp = hypotheses(fit, t)
    terms = list(hyp)
    rows, kept = f_table(fit, list(hyp.values()), ddf)
    order = np.concatenate([np.flatnonzero(kept), np.flatnonzero(~kept)])
    rows[~kept] = np.nan
    table = AnovaTable(rows[order], index=labels_index([terms[i] for i in order]),
                       columns=column_index("F"))
    method = "Satterthwaite's" if ddf == "Satterthwaite" else "Kenward-Roger's"
    table.heading = [f"{HEADINGS[t]} Analysis of Variance Table with {method} method"]
    table.nan_is_na = True
    table.attrs["hypotheses"] = dict(hyp)
    return table
