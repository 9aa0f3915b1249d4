"""R's ``drop1``: each term of the scope dropped in turn (``drop1.lm``, ``drop1.glm``), the
fits made on the model matrix without that term's columns; columns ``Df``, ``Sum of Sq``,
``RSS``, ``AIC`` (lm) or ``Df``, ``Deviance``, ``AIC`` (glm) and the test asked for."""

from __future__ import annotations

import warnings
from typing import Any, Optional, Sequence, Union

import numpy as np
import pandas as pd

from ... import printing as rf
from ...errors import RModelsError, RModelsWarning
from ...formula import terms
from ..contract import AnovaTable
from .formula_update import update_formula
from .term_fits import (
    check_kind,
    chisq_p,
    drop_scope,
    f_test,
    glm_loglik,
    lm_aic,
    model_data,
    rao_score,
    subset_fit,
    subset_glm,
)
from .update import formula_lines, model_formula

__all__ = ["drop1", "drop_terms_scope", "single_term_heading"]

NA = rf.NA_REAL


def single_term_heading(kind: str, fit: Any, scale: float) -> list[str]:
    """The heading of R's drop1/add1 tables (``kind``: "deletions" or "additions")."""
    head = [f"Single term {kind}", "\nModel:", *formula_lines(fit)]
    if scale > 0:
        head.append(f"\nscale:  {rf.format_num([scale], digits=7)[0]} \n")
    return head


def drop_terms_scope(fit: Any, scope: Union[None, str, Sequence[str]]) -> list[str]:
    """The terms to drop: R's ``drop.scope`` by default, else the term labels of ``scope``
    (a formula updating the model's, or a list of labels), which must be terms of the model."""
    t = fit.design.terms
    if scope is None:
        return drop_scope(t)
    if isinstance(scope, str):
        scope = terms(update_formula(model_formula(fit), scope), random=False).term_labels
    if not all(s in t.term_labels for s in scope):
        raise RModelsError("scope is not a subset of term labels")
    return list(scope)


def _dropped_fits(fit: Any, scope: list[str], all_cols: bool, rao: bool = False
                  ) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray]:
    """The model data and, per scope term, the rank and deviance of the fit without its
    columns (and with ``rao`` the score statistic of the full matrix at that fit)."""
    md = model_data(fit)
    labels = md.term_labels
    base = np.arange(md.X.shape[1])
    if not all_cols and md.glm is None:
        base = np.flatnonzero(~np.isnan(fit.arrays.coefficients))
    dfs, dev, score = [], [], []
    for s in scope:
        ii = set(np.flatnonzero(md.assign == labels.index(s) + 1).tolist())
        cols = np.array([j for j in base if j not in ii], dtype=np.int64)
        if md.glm is None:
            r, d = subset_fit(md, cols)
        else:
            z = subset_glm(md, cols)
            r, d = int(z.rank), float(z.deviance)
            if rao:
                score.append(rao_score(md.X, z, None))
        dfs.append(r)
        dev.append(d)
    return md, np.array(dfs, dtype=float), np.array(dev, dtype=float), np.array(score)


def drop1_lm(fit: Any, scope: list[str], scale: float, all_cols: bool, test: str,
             k: float) -> AnovaTable:
    """``drop1.lm``: RSS of each fit without a term; AIC = n log(RSS/n) + k·rank (or Cp with
    ``scale``); F = (ΔRSS/Df)/(RSS/rdf), or the χ² test of n log(RSS/n)."""
    md, dfs, rss, _ = _dropped_fits(fit, scope, all_cols)
    n = md.n
    dfs = np.concatenate([[fit.rank], dfs])
    rss = np.concatenate([[fit.deviance()], rss])
    aic = lm_aic(rss, dfs, n, scale, k)
    ddf = dfs[0] - dfs
    ddf[0] = NA
    cols = {"Df": ddf, "Sum of Sq": np.concatenate([[NA], rss[1:] - rss[0]]), "RSS": rss,
            "Cp" if scale > 0 else "AIC": aic}
    if test == "Chisq":
        if scale == 0:
            dev = n * np.log(rss / n)
            dev = dev - dev[0]
            dev[0] = NA
        else:
            with np.errstate(invalid="ignore"):
                dev = cols["Sum of Sq"] / scale
        cols["Pr(>Chi)"] = chisq_p(dev, ddf)
    elif test == "F":
        rdf = fit.df_residual()
        with np.errstate(divide="ignore", invalid="ignore"):
            fs = (cols["Sum of Sq"] / ddf) / (rss[0] / rdf)
        fs[~(ddf >= 1e-4)] = NA
        cols["F value"] = fs
        cols["Pr(>F)"] = f_test(fs, ddf, rdf)
    return _table(cols, scope, single_term_heading("deletions", fit, scale))


def drop1_glm(fit: Any, scope: list[str], scale: float, test: str, k: float) -> AnovaTable:
    """``drop1.glm``: deviance of each refit without a term; AIC shifted so that ``<none>``
    is ``extractAIC(fit)``; LRT = max(0, Δ(−2 log L)); F = max(0, ΔDev)/Df / (Dev/rdf)."""
    md, dfs, dev, score = _dropped_fits(fit, scope, True, rao=test == "Rao")
    n = md.n
    dfs = np.concatenate([[fit.rank], dfs])
    dev = np.concatenate([[fit.deviance()], dev])
    loglik, dispersion = glm_loglik(fit, dev, n, scale)
    aic = loglik + k * dfs
    ddf = dfs[0] - dfs
    ddf[0] = NA
    aic = aic + (extract_aic_glm(fit, k) - aic[0])
    cols = {"Df": ddf, "Deviance": dev, "AIC": aic}
    if np.all(np.isnan(aic)):
        del cols["AIC"]
    if test == "LRT":
        stat = np.maximum(0, loglik - loglik[0])
        stat[0] = NA
        cols["LRT" if dispersion == 1 else "scaled dev."] = stat
        cols["Pr(>Chi)"] = chisq_p(stat, ddf)
    elif test == "Rao":
        add_rao_columns(cols, np.concatenate([[NA], score]), ddf, dispersion)
    elif test == "F":
        warn_f_family(fit)
        rdf = fit.df_residual()
        with np.errstate(divide="ignore", invalid="ignore"):
            fs = (np.maximum(0, dev - dev[0]) / ddf) / (dev[0] / rdf)
        fs[~(ddf >= 1e-4)] = NA
        cols["F value"] = fs
        cols["Pr(>F)"] = f_test(fs, ddf, rdf)
    return _table(cols, scope, single_term_heading("deletions", fit, scale))


def add_rao_columns(cols: dict, score: np.ndarray, ddf: np.ndarray, dispersion: float) -> None:
    """The "Rao score" ("scaled Rao sc." when the dispersion is not 1) column, max(0, score) /
    dispersion, and its χ² p-value on Df."""
    with np.errstate(invalid="ignore"):
        stat = np.maximum(0, score) / dispersion
    stat[0] = NA
    cols["Rao score" if dispersion == 1 else "scaled Rao sc."] = stat
    cols["Pr(>Chi)"] = chisq_p(stat, ddf)


def extract_aic_glm(fit: Any, k: float) -> float:
    """``extractAIC.glm``: aic + (k − 2)·edf, edf = n − df.residual over all rows of the fit."""
    edf = len(fit.core.y) - fit.df_residual()
    return float(fit.aic) + (k - 2) * edf


def warn_f_family(fit: Any, quote: str = "'") -> None:
    """R's warning for an F test of a binomial or Poisson fit (drop1 quotes the family name,
    add1 does not)."""
    fam = fit.family.family
    if fam in ("binomial", "poisson"):
        warnings.warn(f"F test assumes {quote}quasi{fam}{quote} family", RModelsWarning,
                      stacklevel=4)


def _table(cols: dict, scope: list[str], heading: list[str]) -> AnovaTable:
    tab = AnovaTable(cols, index=pd.Index(["<none>"] + list(scope)))
    tab.heading = heading
    return tab


def normalise_test(test: Optional[str], glm: bool) -> str:
    """R's ``match.arg(test)``: "none", "Chisq" (glm: "LRT"), "F", and for glm "Rao"."""
    test = "none" if test is None else test
    allowed = ("none", "Rao", "LRT", "Chisq", "F") if glm else ("none", "Chisq", "F")
    if test not in allowed:
        raise RModelsError(f"'arg' should be one of {', '.join(repr(a) for a in allowed)}")
    return "LRT" if glm and test == "Chisq" else test


def drop1(fit: Any, scope: Union[None, str, Sequence[str]] = None, scale: float = 0,
          test: Optional[str] = "none", k: float = 2, all_cols: bool = True) -> AnovaTable:
    """R's ``drop1(object, scope, scale = 0, test = "none", k = 2)`` for lm and glm fits.

    ``scope``: a formula (``"~ x + z"``) or a list of term labels (default: the terms whose
    removal keeps marginality, R's ``drop.scope``); ``test``: "none", "Chisq" ("LRT" for
    glm), "F", or for glm "Rao" (Rao's score test). Returns an :class:`AnovaTable` whose
    ``str()`` is R's printed table.
    """
    kind = check_kind(fit, "drop1")
    sc = drop_terms_scope(fit, scope)
    if kind == "lm":
        return drop1_lm(fit, sc, scale, all_cols, normalise_test(test, False), k)
    return drop1_glm(fit, sc, scale, normalise_test(test, True), k)
