"""broom's ``tidy.anova``: an analysis-of-variance table as a tidy DataFrame (``term``, then
R's columns renamed as broom renames them: ``df``, ``sumsq``, ``meansq``, ``statistic``,
``p.value``, ``df.residual``, ``rss`` …).

The term is the table's row label (lm's and glm's sequential tables, drop1/add1, lmer's
likelihood-ratio table), or for a table of nested lm/glm fits (row labels "1", "2", …) the
model formulas of the heading's ``Model k:`` lines. Columns broom does not know keep R's
``make.names`` spelling (``Resid..Df``) with broom's warning.
"""

from __future__ import annotations

import re
import warnings
from typing import Any

import pandas as pd

from ..errors import RModelsWarning

__all__ = ["tidy_anova", "make_names"]

RENAMERS = {
    "AIC": "AIC", "BIC": "BIC", "deviance": "deviance", "logLik": "logLik", "Df": "df",
    "Chi.Df": "df", "Sum Sq": "sumsq", "Mean Sq": "meansq", "F value": "statistic",
    "Pr(>F)": "p.value", "Res.Df": "df.residual", "RSS": "rss", "Sum of Sq": "sumsq",
    "F": "statistic", "Chisq": "statistic", "npar": "npar", "P(>|Chi|)": "p.value",
    "Pr(>|Chi|)": "p.value", "Pr(>Chi)": "p.value", "Pr..Chisq.": "p.value",
    "Pr..Chi.": "p.value", "p.value": "p.value", "Chi.sq": "statistic",
    "LR.Chisq": "statistic", "LR Chisq": "statistic", "edf": "edf", "Ref.df": "ref.df",
    "loglik": "logLik", ".rownames": "term",
}

MODEL_LINE = re.compile(r"[Mm]od.*[0-9]+:", re.S)


def make_names(name: str) -> str:
    """R's ``make.names`` of one name: invalid characters become ".", and an "X" goes in
    front of a name that does not start with a letter or a dot not followed by a digit."""
    out = re.sub(r"[^A-Za-z0-9._]", ".", name)
    if not re.match(r"([A-Za-z]|\.(?![0-9]))", out):
        out = "X" + out
    return out


def _model_formulas(heading: Any) -> list:
    lines = [h for h in (heading or []) if MODEL_LINE.search(h)]
    if not lines:
        return []
    return [re.sub(r".*: ", "", x) for x in lines[0].split("\n")]


def tidy_anova(table: pd.DataFrame) -> pd.DataFrame:
    """broom's ``tidy.anova`` (broom 1.0.3) of an anova table (see the module docstring)."""
    renamers = {make_names(k): v for k, v in RENAMERS.items()}
    cols = [make_names(str(c)) for c in table.columns]
    unknown = [c for c in cols if c != "term" and c not in renamers]
    if unknown:
        warnings.warn("The following column names in ANOVA output were not recognized or "
                      "transformed: " + ", ".join(unknown), RModelsWarning, stacklevel=3)
    out = pd.DataFrame(table).reset_index(drop=True)
    out.columns = pd.Index([renamers.get(c, c) for c in cols])
    labels = [str(x) for x in table.index]
    default = labels == [str(i + 1) for i in range(len(labels))]
    mods = _model_formulas(getattr(table, "heading", None)) if default else []
    if not default:
        out.insert(0, "term", [x.strip() for x in labels])
    elif mods:
        out.insert(0, "term", [x.strip() for x in mods])
    return out
