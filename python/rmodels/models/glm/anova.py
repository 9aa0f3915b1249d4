"""glm stage "anova": R's ``anova.glm`` (sequential deviance table, refitting term by term),
``anova.glmlist`` (nested fits), ``stat.anova``'s tests, and MASS's likelihood-ratio table of
negative binomial fits (``anova.negbin`` of several models)."""

from __future__ import annotations

import math
import warnings
from typing import Optional, Sequence

import numpy as np
import pandas as pd

from ... import printing as rf
from ...errors import FitError, RModelsWarning
from ..contract import AnovaTable
from .fit import GlmCoreFit, glm_fit_matrix
from .results import GlmResults

__all__ = ["anova_glm", "anova_glmlist", "stat_anova", "NegBinAnova", "negbin_lr_table"]


def refit_columns(fit: GlmResults, cols: np.ndarray) -> GlmCoreFit:
    """glm.fit on a subset of the model matrix columns with the fit's y (after initialize),
    prior weights, offset and control (as anova.glm)."""
    X = fit.design.model_matrix_array()[:, cols]
    return glm_fit_matrix(X, fit.core.y, fit.family, weights=fit.core.prior_weights,
                          offset=fit.offset, epsilon=fit.control["epsilon"],
                          maxit=fit.control["maxit"], intercept=True, has_offset=False)


def lsfit_score(X: np.ndarray, r: np.ndarray, w: np.ndarray, intercept: bool) -> float:
    """null.deviance - deviance of the gaussian glm.fit of r on X with weights w (the Rao
    score statistic of anova.glm)."""
    core = glm_fit_matrix(X, r, "gaussian", weights=w, intercept=intercept, emit=False)
    return core.null_deviance - core.deviance


def sequential_deviances(fit: GlmResults, score: bool) -> tuple[list, list, np.ndarray]:
    """anova.glm's refits of the first 1, 2, ... nvars - 1 terms: residual deviances,
    residual df and (``score``) the Rao score statistics of each term."""
    assign = np.asarray(fit.design.assign)
    nvars = int(assign.max()) if len(assign) else 0
    resdev: list = []
    resdf: list = []
    scores = np.zeros(nvars)
    icpt = fit.design.intercept
    X = fit.design.model_matrix_array()
    if score:
        fit0 = refit_columns(fit, np.flatnonzero(assign == 0))
        r, w = fit0.working_residuals, fit0.working_weights
    if nvars > 1 or score:
        for i in range(1, max(nvars - 1, 0) + 1):
            sub = refit_columns(fit, np.flatnonzero(assign <= i))
            if score:
                scores[i - 1] = lsfit_score(X[:, assign <= i], r, w, icpt)
                r, w = sub.working_residuals, sub.working_weights
            resdev.append(sub.deviance)
            resdf.append(fit.n_ok - sub.rank)
        if score:
            scores[nvars - 1] = lsfit_score(X, r, w, icpt)
    return resdev, resdf, scores


def anova_glm(fit: GlmResults, test: Optional[str] = None,
              dispersion: Optional[float] = None) -> AnovaTable:
    """R's ``anova.glm`` of one fit: the deviance of each term added sequentially."""
    resdev, resdf, scores = sequential_deviances(fit, score=test == "Rao")
    resdf = [fit.df_null_] + resdf + [fit.df_residual_]
    resdev = [fit.null_deviance] + resdev + [fit.deviance()]
    df = [np.nan] + [float(resdf[i] - resdf[i + 1]) for i in range(len(resdf) - 1)]
    dev = [np.nan] + [max(0.0, resdev[i] - resdev[i + 1]) for i in range(len(resdev) - 1)]
    tl = list(fit.design.term_labels)
    table = pd.DataFrame({"Df": df, "Deviance": dev, "Resid. Df": np.asarray(resdf, float),
                          "Resid. Dev": resdev}, index=["NULL"] + tl)
    if not tl:
        table = table.iloc[:1]
    if test == "Rao":
        table["Rao"] = [np.nan] + list(scores)
    title = ("Analysis of Deviance Table\n\nModel: " + fit.family.family + ", link: "
             + fit.family.link + "\n\nResponse: " + str(fit.design.response_name)
             + "\n\nTerms added sequentially (first to last)\n\n")
    df_disp = math.inf
    if dispersion is None:
        dispersion = fit.dispersion()
        df_disp = math.inf if dispersion == 1 else fit.df_residual_
    if test is not None:
        warn_f_test(test, df_disp, fit.family.family)
        table = stat_anova(table, test, dispersion, df_disp, len(fit.core.y))
    out = AnovaTable(table)
    out.heading = [title]
    return out


def warn_f_test(test: str, df_dispersion: float, family: str) -> None:
    """anova.glm's warning for an F test with a dispersion that was not estimated."""
    if test != "F" or df_dispersion != math.inf:
        return
    if family in ("binomial", "poisson"):
        warnings.warn(f"using F test with a '{family}' family is inappropriate",
                      RModelsWarning, stacklevel=4)
    else:
        warnings.warn("using F test with a fixed dispersion is inappropriate",
                      RModelsWarning, stacklevel=4)


def stat_anova(table: pd.DataFrame, test: str, scale: float, df_scale: float,
               n: int) -> pd.DataFrame:
    """R's ``stat.anova``: the test columns (Pr(>Chi), F and Pr(>F), or Cp) of a deviance
    table with dispersion ``scale`` estimated on ``df_scale`` df (Inf: known)."""
    from scipy import stats
    table = table.copy()
    dfs = table["Df"].to_numpy(float)
    if test in ("Rao", "LRT", "Chisq"):
        col = "Rao" if test == "Rao" else "Deviance"
        with np.errstate(invalid="ignore"):
            vals = table[col].to_numpy(float) / scale * np.sign(dfs)
        vals[dfs == 0] = np.nan
        vals[~np.isnan(vals) & (vals < 0)] = np.nan
        table["Pr(>Chi)"] = stats.chi2.sf(vals, np.abs(dfs))
    elif test == "F":
        with np.errstate(invalid="ignore", divide="ignore"):
            fv = (table["Deviance"].to_numpy(float) / dfs) / scale
        fv[dfs == 0] = np.nan
        fv[~np.isnan(fv) & (fv < 0)] = np.nan
        table["F"] = fv
        table["Pr(>F)"] = stats.f.sf(fv, np.abs(dfs), df_scale) if np.isfinite(df_scale) \
            else stats.chi2.sf(fv * np.abs(dfs), np.abs(dfs))
    elif test == "Cp":
        table["Cp"] = table["Resid. Dev"] + 2 * scale * (n - table["Resid. Df"])
    return table


def same_response(fits: Sequence[GlmResults]) -> list:
    """anova.glmlist's fits with the first one's response (a warning for any left out)."""
    resp = [f.design.response_name for f in fits]
    keep = [f for f, r in zip(fits, resp) if r == resp[0]]
    if len(keep) < len(fits):
        warnings.warn("models with response removed because response differs from model 1",
                      RModelsWarning, stacklevel=4)
    if len({len(f.core.y) for f in keep}) > 1:
        raise FitError("models were not all fitted to the same size of dataset")
    return keep


def anova_glmlist(fits: Sequence[GlmResults], test: Optional[str] = None,
                  dispersion: Optional[float] = None) -> AnovaTable:
    """R's ``anova.glmlist``: residual df and deviance of each fit and their differences,
    with the test (dispersion of the fit with the fewest residual df)."""
    fits = same_response(fits)
    if len(fits) == 1:
        return anova_glm(fits[0], test, dispersion)
    resdf = np.array([f.df_residual_ for f in fits], float)
    resdev = np.array([f.deviance() for f in fits], float)
    table = pd.DataFrame({"Resid. Df": resdf, "Resid. Dev": resdev,
                          "Df": np.concatenate([[np.nan], -np.diff(resdf)]),
                          "Deviance": np.concatenate([[np.nan], -np.diff(resdev)])},
                         index=[str(i + 1) for i in range(len(fits))])
    if test == "Rao":
        table["Rao"] = rao_scores(fits, -np.diff(resdf))
    variables = [f.design.formula_text if getattr(f.design, "formula_text", "") else f.formula
                 for f in fits]
    nums = rf.format_int(list(range(1, len(fits) + 1)))
    topnote = "\n".join(f"Model {k}: {v}" for k, v in zip(nums, variables))
    if test is not None:
        big = fits[int(np.argsort(resdf, kind="stable")[0])]
        disp = big.dispersion() if dispersion is None else dispersion
        df_disp = math.inf if disp == 1 else float(np.min(resdf))
        warn_f_test(test, df_disp, big.family.family)
        table = stat_anova(table, test, disp, df_disp, len(big.core.y))
    out = AnovaTable(table)
    out.heading = ["Analysis of Deviance Table\n", topnote]
    return out


def rao_scores(fits: Sequence[GlmResults], dfd: np.ndarray) -> list:
    """anova.glmlist's Rao score statistic of each pair of neighbouring fits (signed by the
    direction of the comparison)."""
    score = [np.nan]
    for i in range(len(fits) - 1):
        m1, m2 = (fits[i], fits[i + 1]) if dfd[i] > 0 else (fits[i + 1], fits[i])
        s = lsfit_score(m2.design.model_matrix_array(), m1.core.working_residuals,
                        m1.core.working_weights, m1.design.intercept)
        score.append(s if dfd[i] >= 0 else -s)
    return score


# ---------------------------------------------------------------------------------------------
# MASS's anova.negbin of several models


class NegBinAnova(AnovaTable):
    """MASS's likelihood-ratio table of negative binomial fits; ``str()`` is print.Anova
    (format.data.frame, NA cells blank, print.data.frame)."""

    @property
    def _constructor(self):
        return NegBinAnova

    def __str__(self) -> str:
        cols = []
        for c in self.columns:
            v = self[c]
            if not pd.api.types.is_numeric_dtype(v.dtype):
                cols.append([str(x) for x in v])
            else:
                arr = v.to_numpy(float)
                txt = rf.format_num(arr, digits=7)
                cols.append(["" if np.isnan(a) else t for a, t in zip(arr, txt)])
        cells = np.array(cols, dtype=object).T
        head = "".join(h + "\n" for h in getattr(self, "heading", []))
        return head + rf.print_matrix(cells, list(self.index), list(self.columns), right=True)


def negbin_lr_table(models: Sequence[str], thetas: Sequence[float],
                    df_residuals: Sequence[int], twologliks: Sequence[float],
                    response: str) -> NegBinAnova:
    """anova.negbin of several fits: the fits ordered by decreasing residual df, each compared
    with the one before by the likelihood-ratio statistic (chi-squared on the df difference)."""
    from scipy import stats
    order = np.argsort([-d for d in df_residuals], kind="stable")
    nt = len(order)
    dfs = np.array([df_residuals[k] for k in order], float)
    lls = np.array([twologliks[k] for k in order], float)
    df = np.concatenate([[np.nan], -np.diff(dfs)])
    x2 = np.concatenate([[np.nan], np.diff(lls)])
    pr = np.concatenate([[np.nan], 1 - stats.chi2.cdf(x2[1:], df[1:])])
    tests = [""] + [f"{k} vs {k + 1}" for k in range(1, nt)]
    out = NegBinAnova({"Model": [models[k] for k in order],
                       "theta": [thetas[k] for k in order], "Resid. df": dfs,
                       "   2 x log-lik.": lls, "Test": tests, "   df": df, "LR stat.": x2,
                       "Pr(Chi)": pr}, index=[str(k + 1) for k in range(nt)])
    out.heading = ["Likelihood ratio tests of Negative Binomial Models\n",
                   f"Response: {response}"]
    return out
