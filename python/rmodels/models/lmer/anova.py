"""Analysis-of-variance tables of lmer fits (lme4's ``anova.merMod``): the sequential F table
of one fit's fixed terms, and the likelihood-ratio table of several fits.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..contract import AnovaTable

LRT_COLUMNS = ["npar", "AIC", "BIC", "logLik", "deviance", "Chisq", "Df", "Pr(>Chisq)"]


def anova_fixed_terms(fit: Any) -> pd.DataFrame:
    """``npar Sum Sq Mean Sq F value`` per fixed term (intercept left out): the sums of
    squares of R_X'β̂ over each term's columns, F = Mean Sq / σ̂²."""
    ss = (fit.RX.T @ fit.beta) ** 2
    design = fit.design
    keep = [list(design.columns).index(c) for c in fit.columns]
    asg = np.asarray(design.assign)[keep]
    labels = list(design.term_labels)
    rows, names = [], []
    for a in dict.fromkeys(asg.tolist()):
        if a == 0:
            continue
        m = asg == a
        s = float(ss[m].sum())
        k = int(m.sum())
        rows.append([k, s, s / k, s / k / fit.sigma() ** 2])
        names.append(labels[a - 1])
    return pd.DataFrame(rows, index=names, columns=["npar", "Sum Sq", "Mean Sq", "F value"])


def anova_lrt(fits: list, refit: bool = True,
              model_names: Sequence[str] | None = None) -> pd.DataFrame:
    """Likelihood-ratio table ``npar AIC BIC logLik deviance Chisq Df Pr(>Chisq)`` of several
    fits sorted by npar (REML fits refitted by ML when ``refit``); each row is tested against
    the row above it."""
    from scipy import stats
    names = list(model_names) if model_names is not None else \
        [f"MODEL{i + 1}" for i in range(len(fits))]
    if refit and any(f.REML for f in fits):
        fits = [f.refitML() if f.REML else f for f in fits]
    npar = [f.npar() for f in fits]
    order = sorted(range(len(fits)), key=lambda i: npar[i])
    rows = []
    prev = None
    for i in order:
        f = fits[i]
        ll = f.logLik()
        dev = -2 * ll
        row = [npar[i], f.AIC(), f.BIC(), ll, dev, np.nan, np.nan, np.nan]
        if prev is not None:
            chisq = 2 * max(0.0, ll - prev[3])
            df = npar[i] - prev[0]
            row[5] = chisq
            row[6] = df
            row[7] = stats.chi2.sf(chisq, df) if df > 0 else np.nan
        rows.append(row)
        prev = row
    tab = AnovaTable(rows, index=[names[i] for i in order], columns=LRT_COLUMNS)
    tab.heading = lrt_heading([fits[i] for i in order], [names[i] for i in order])
    return tab


def lrt_heading(fits: list, names: list) -> list[str]:
    """anova.merMod's heading: ``Data: <data>`` (and ``Subset:``), ``Models:``, then
    ``name: formula`` per model in the table's order."""
    call = fits[0].call
    head = [f"Data: {call['data']}"]
    if call.get("subset") is not None:
        head.append(f"Subset: {call['subset']}")
    return head + ["Models:"] + [f"{nm}: {f.call['formula']}" for nm, f in zip(names, fits)]
