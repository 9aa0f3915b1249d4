"""R's ``anova.lm`` (sequential sums of squares of one fit) and ``anova.lmlist`` (nested fits
compared with ``stat.anova``'s F, χ² or Cp)."""

from __future__ import annotations

import warnings
from typing import Any, Optional, Sequence

import numpy as np
import pandas as pd

from ... import printing as rf
from ...errors import FitError, PerfectFitWarning, RModelsWarning
from ..contract import AnovaTable
from .distributions import pf_upper
from .wfit import LmArrays

__all__ = ["anova_lm", "anova_lmlist"]


def anova_lm(a: LmArrays, assign: np.ndarray, term_labels: Sequence[str], intercept: bool,
             response_name: str) -> AnovaTable:
    """``anova.lm``: per term, SS = Σ (effects of its non-aliased columns)², Df = their number;
    F = (SS/Df)/(RSS/rdf); the intercept row is dropped."""
    w, r, f = a.weights, a.residuals, a.fitted_values
    ssr = float(np.sum(r * r) if w is None else np.sum(w * r * r))
    mss = float(np.sum(f * f) if w is None else np.sum(w * f * f))
    if ssr < 1e-10 * mss:
        warnings.warn("ANOVA F-tests on an essentially perfect fit are unreliable",
                      PerfectFitWarning, stacklevel=4)
    dfr = a.df_residual
    p = a.rank
    labels_all = ["(Intercept)"] + list(term_labels)
    if p > 0:
        comp = a.qr.effects_head(p)
        asgn = assign[a.pivot][:p]
        uniq = list(dict.fromkeys(int(k) for k in asgn))
        tlabels = [labels_all[k] for k in uniq]
        ss = [float(np.sum(comp[asgn == k] ** 2)) for k in uniq] + [ssr]
        df = [int(np.sum(asgn == k)) for k in uniq] + [dfr]
    else:
        tlabels, ss, df = [], [ssr], [dfr]
    ss_a = np.asarray(ss)
    df_a = np.asarray(df, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ms = ss_a / df_a
        fv = ms / (np.float64(ssr) / np.float64(dfr))
        pv = np.array([pf_upper(x, d, dfr) for x, d in zip(fv, df_a)])
    fv[-1] = rf.NA_REAL  # R's NA (blank when printed), unlike a NaN from 0/0
    pv[-1] = rf.NA_REAL
    tab = AnovaTable({"Df": df_a, "Sum Sq": ss_a, "Mean Sq": ms, "F value": fv, "Pr(>F)": pv},
                     index=pd.Index(tlabels + ["Residuals"]))
    if intercept:
        tab = tab.iloc[1:]
    tab.heading = ["Analysis of Variance Table\n", f"Response: {response_name}"]
    tab.nan_is_na = False
    return tab


def _same_response(fits: Sequence[Any]) -> list:
    """The fits whose response is model 1's (R warns about and removes the others)."""
    responses = [f.response_name for f in fits]
    same = [x == responses[0] for x in responses]
    if not all(same):
        dropped = [x for x, s in zip(responses, same) if not s]
        warnings.warn(f"models with response \u2018{dropped}\u2019 removed because response "
                      "differs from model 1", RModelsWarning, stacklevel=4)
    return [f for f, s in zip(fits, same) if s]


def anova_lmlist(fits: Sequence[Any], test: Optional[str] = "F") -> AnovaTable:
    """``anova.lmlist`` of :class:`~rmodels.models.lm.LM` fits: ``Res.Df RSS Df Sum of Sq``
    and ``stat.anova``'s test, the scale being RSS/rdf of the model with the smallest
    residual df."""
    fits = _same_response(fits)
    ns = [len(f.arrays.residuals) for f in fits]
    if any(n != ns[0] for n in ns):
        raise FitError("models were not all fitted to the same size of dataset")
    if len(fits) == 1:
        return fits[0].anova()
    resdf = np.array([float(f.df_residual()) for f in fits])
    resdev = np.array([float(f.deviance()) for f in fits])
    ddf = np.concatenate([[rf.NA_REAL], -np.diff(resdf)])
    dss = np.concatenate([[rf.NA_REAL], -np.diff(resdev)])
    cols = {"Res.Df": resdf, "RSS": resdev, "Df": ddf, "Sum of Sq": dss}
    if test is not None:
        big = int(np.argsort(resdf, kind="stable")[0])
        cols.update(_stat_anova(test, resdf, resdev, ddf, dss, big,
                                len(fits[big].arrays.residuals)))
    tab = AnovaTable(cols, index=pd.Index([str(i + 1) for i in range(len(fits))]))
    width = len(str(len(fits)))
    notes = [f"Model {str(i + 1).rjust(width)}: " + f.formula for i, f in enumerate(fits)]
    tab.heading = ["Analysis of Variance Table\n", "\n".join(notes)]
    tab.nan_is_na = False
    return tab


def _stat_anova(test: str, resdf: np.ndarray, resdev: np.ndarray, ddf: np.ndarray,
                dss: np.ndarray, big: int, n_big: int) -> dict:
    """R's ``stat.anova`` columns for the "F", "Chisq"/"LRT" or "Cp" test."""
    from scipy import stats as sps
    scale = resdev[big] / resdf[big]
    df_scale = resdf[big]
    with np.errstate(divide="ignore", invalid="ignore"):
        if test == "F":
            fv = (dss / ddf) / scale
            fv[0] = rf.NA_REAL
            fv[ddf == 0] = rf.NA_REAL
            fv[~np.isnan(fv) & (fv < 0)] = rf.NA_REAL
            return {"F": fv, "Pr(>F)": np.array([pf_upper(x, abs(d), df_scale)
                                                 if not np.isnan(x) else x
                                                 for x, d in zip(fv, ddf)])}
        if test in ("Chisq", "LRT"):
            vals = dss / scale * np.sign(ddf)
            vals[0] = rf.NA_REAL
            vals[ddf == 0] = rf.NA_REAL
            vals[~np.isnan(vals) & (vals < 0)] = rf.NA_REAL
            return {"Pr(>Chi)": np.array([float(sps.chi2.sf(x, abs(d))) if not np.isnan(x)
                                          else x for x, d in zip(vals, ddf)])}
        if test == "Cp":
            return {"Cp": resdev + 2 * scale * (n_big - resdf)}
    raise ValueError("test must be 'F', 'Chisq', 'LRT', 'Cp' or None")
