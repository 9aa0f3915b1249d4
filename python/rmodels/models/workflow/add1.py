"""R's ``add1``: each term of the scope added in turn (``add1.lm``, ``add1.glm``): the model
matrix of the formula with every scope term added is built once, and each fit takes the
model's columns plus one term's."""

from __future__ import annotations

import warnings
from typing import Any, Optional, Sequence, Union

import numpy as np
import pandas as pd

from ... import printing as rf
from ...errors import RModelsError, RModelsWarning
from ...formula import terms
from ..contract import AnovaTable
from .drop1 import (
    add_rao_columns,
    extract_aic_glm,
    normalise_test,
    single_term_heading,
    warn_f_family,
)
from .formula_update import update_formula
from .term_fits import (
    add_scope,
    check_kind,
    chisq_p,
    f_test,
    glm_loglik,
    lm_aic,
    model_data,
    rao_score,
    subset_fit,
    subset_glm,
    term_label_key,
)
from .update import model_formula, update

__all__ = ["add1", "add_terms_scope"]

NA = rf.NA_REAL


def add_terms_scope(fit: Any, scope: Union[str, Sequence[str], None]) -> list[str]:
    """The terms to add: a list of labels as given, or R's ``add.scope`` of the model and
    ``update.formula(model, scope)``."""
    if scope is None:
        raise RModelsError("no terms in scope")
    if isinstance(scope, str):
        upper = terms(update_formula(model_formula(fit), scope), random=False)
        scope = add_scope(fit.design.terms, upper)
    scope = list(scope)
    if not scope:
        raise RModelsError("no terms in scope for adding to object")
    return scope


def _added_fits(fit: Any, scope: list[str], rao: bool = False
                ) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray]:
    """The combined fit's model data and, for ``<none>`` then each scope term, the rank and
    deviance of the fit on the model's columns plus the term's (with ``rao`` the score
    statistic of each such matrix at the ``<none>`` fit)."""
    big = update(fit, "~ . + " + " + ".join(scope))
    n_old = len(fit.design.kept)
    md = model_data(big)
    if md.n < n_old:
        warnings.warn(f"using the {md.n}/{n_old} row{'s' if md.n != 1 else ''} from a "
                      "combined fit", RModelsWarning, stacklevel=4)
    keys = [term_label_key(x) for x in md.term_labels]
    old = {keys.index(term_label_key(x)) + 1 for x in fit.design.term_labels}
    if fit.design.intercept:
        old.add(0)
    ousex = np.isin(md.assign, sorted(old))
    dfs, dev, score = [], [], [np.nan]
    base = None
    for tt in [None] + scope:
        use = ousex if tt is None else ousex | (md.assign == keys.index(term_label_key(tt)) + 1)
        cols = np.flatnonzero(use)
        if md.glm is None:
            r, d = subset_fit(md, cols)
        else:
            z = subset_glm(md, cols)
            r, d = int(z.rank), float(z.deviance)
            base = z if base is None else base
            if rao and tt is not None:
                score.append(rao_score(md.X[:, cols], base, md.offset))
        dfs.append(r)
        dev.append(d)
    return md, np.array(dfs, dtype=float), np.array(dev, dtype=float), np.array(score)


def add1_lm(fit: Any, scope: list[str], scale: float, test: str, k: float) -> AnovaTable:
    """``add1.lm``: RSS of each fit with a term added; AIC = n log(RSS/n) + k·rank (or Cp);
    F = (ΔRSS/Df) / ((RSS − ΔRSS)/(rdf − Df)) on the combined fit's rows."""
    md, dfs, rss, _ = _added_fits(fit, scope)
    n = md.n
    aic = lm_aic(rss, dfs, n, scale, k)
    ddf = dfs - dfs[0]
    ddf[0] = NA
    ss = np.concatenate([[NA], rss[0] - rss[1:]])
    cols = {"Df": ddf, "Sum of Sq": ss, "RSS": rss, "Cp" if scale > 0 else "AIC": aic}
    if test == "Chisq":
        if scale == 0:
            dev = n * np.log(rss / n)
            dev = dev[0] - dev
            dev[0] = NA
        else:
            with np.errstate(invalid="ignore"):
                dev = ss / scale
        cols["Pr(>Chi)"] = chisq_p(dev, ddf)
    elif test == "F":
        rdf = fit.df_residual()
        with np.errstate(divide="ignore", invalid="ignore"):
            fs = (ss / ddf) / ((rss[0] - ss) / (rdf - ddf))
            fs[~(ddf >= np.finfo(float).eps)] = NA
            cols["F value"] = fs
            cols["Pr(>F)"] = f_test(fs, ddf, rdf - ddf)
    return _table(cols, scope, single_term_heading("additions", fit, scale))


def add1_glm(fit: Any, scope: list[str], scale: float, test: str, k: float) -> AnovaTable:
    """``add1.glm``: deviance of each refit with a term added; AIC shifted so that ``<none>``
    is ``extractAIC(fit)``; LRT = max(0, Δ(−2 log L)); F on the deviance."""
    md, dfs, dev, score = _added_fits(fit, scope, rao=test == "Rao")
    n = md.n
    loglik, dispersion = glm_loglik(fit, dev, n, scale)
    aic = loglik + k * dfs
    aic = aic + (extract_aic_glm(fit, k) - aic[0])
    ddf = dfs - dfs[0]
    ddf[0] = NA
    cols = {"Df": ddf, "Deviance": dev, "AIC": aic}
    if np.all(np.isnan(aic)):
        del cols["AIC"]
    if test == "LRT":
        stat = np.maximum(0, loglik[0] - loglik)
        stat[0] = NA
        cols["LRT" if dispersion == 1 else "scaled dev."] = stat
        cols["Pr(>Chi)"] = chisq_p(stat, ddf)
    elif test == "Rao":
        add_rao_columns(cols, score, ddf, dispersion)
    elif test == "F":
        warn_f_family(fit, "")
        rdf = fit.df_residual()
        with np.errstate(divide="ignore", invalid="ignore"):
            fs = np.maximum(0, (dev[0] - dev) / ddf) / (dev / (rdf - ddf))
            fs[~(ddf >= np.finfo(float).eps)] = NA
            cols["F value"] = fs
            cols["Pr(>F)"] = f_test(fs, ddf, rdf - ddf)
    return _table(cols, scope, single_term_heading("additions", fit, scale))


def _table(cols: dict, scope: list[str], heading: list[str]) -> AnovaTable:
    tab = AnovaTable(cols, index=pd.Index(["<none>"] + list(scope)))
    tab.heading = heading
    return tab


def add1(fit: Any, scope: Union[str, Sequence[str], None] = None, scale: float = 0,
         test: Optional[str] = "none", k: float = 2) -> AnovaTable:
    """R's ``add1(object, scope, scale = 0, test = "none", k = 2)`` for lm and glm fits.

    ``scope``: a formula whose terms may be added (``"~ . + x + z"``, R's ``add.scope``
    keeps marginality) or a list of term labels. The fits use the rows of the model with every
    scope term added (R warns when that drops rows). Returns an :class:`AnovaTable`.
    """
    kind = check_kind(fit, "add1")
    sc = add_terms_scope(fit, scope)
    if kind == "lm":
        return add1_lm(fit, sc, scale, normalise_test(test, False), k)
    return add1_glm(fit, sc, scale, normalise_test(test, True), k)
