"""broom.mixed's tables of an lmer fit: ``tidy.merMod`` (fixed effects, ``ran_pars``,
``ran_vals``, ``ran_coefs``), ``glance.merMod`` and ``augment.merMod``.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ...errors import FitError
from ...formula.ast import Name
from .influence import cooks_distances, hat_values
from .predict import fitted_values, residual_values
from .ranef import term_modes

TIDY_COLUMNS = ["effect", "group", "level", "term", "estimate", "std.error", "statistic",
                "df", "p.value", "conf.low", "conf.high"]


def tidy(fit: Any, effects: Sequence[str] | str = ("ran_pars", "fixed"),
         scales: str | None = None, conf_int: bool = False, conf_level: float = 0.95,
         conf_method: str = "Wald", ddf: str | None = None) -> pd.DataFrame:
    """broom.mixed's ``tidy.merMod``: the fixed rows first, then the others in the order
    asked; see :meth:`LmerMod.tidy`."""
    effects = [effects] if isinstance(effects, str) else list(effects)
    if conf_method not in ("Wald", "profile"):
        raise FitError(f"conf_method must be 'Wald' or 'profile', not {conf_method!r}")
    profile = conf_int and conf_method == "profile"
    parts = []
    if "fixed" in effects:
        fixed = _tidy_fixed(fit, conf_int, conf_level, profile)
        if ddf is not None:
            from ..lmertest.broom import lmertest_fixed  # lmerTest's code, loaded when asked

            fixed = lmertest_fixed(fit, fixed, ddf, conf_int, conf_level)
        parts.append(fixed)
    if "ran_pars" in effects:
        rp = fit.VarCorr().tidy(scales or "sdcor")
        if profile:
            ci = fit.confint(parm="theta_", level=conf_level)
            rp["conf.low"] = ci.iloc[:, 0].to_numpy()
            rp["conf.high"] = ci.iloc[:, 1].to_numpy()
        parts.append(rp)
    if "ran_vals" in effects:
        parts.append(tidy_ran_vals(fit))
    if "ran_coefs" in effects:
        parts.append(_tidy_ran_coefs(fit))
    if not parts:
        raise ValueError("no effects selected")
    # broom.mixed puts the fixed effects first
    parts.sort(key=lambda p: 0 if (len(p) and p["effect"].iloc[0] == "fixed") else 1)
    out = pd.concat(parts, ignore_index=True, sort=False)
    return out[[c for c in TIDY_COLUMNS if c in out.columns]]


def _tidy_fixed(fit: Any, conf_int: bool, conf_level: float, profile: bool) -> pd.DataFrame:
    """``effect group term estimate std.error statistic`` (t = β̂ / SE) per fixed effect, with
    Wald (β̂ ± z SE) or profile intervals."""
    from scipy import stats
    se = np.sqrt(np.diag(fit.vcov_matrix()))
    df = pd.DataFrame({"effect": "fixed", "group": np.nan, "term": fit.columns,
                       "estimate": fit.beta, "std.error": se, "statistic": fit.beta / se})
    if profile:
        ci = fit.confint(parm="beta_", level=conf_level)
        df["conf.low"] = ci.iloc[:, 0].to_numpy()
        df["conf.high"] = ci.iloc[:, 1].to_numpy()
    elif conf_int:
        z = stats.norm.ppf(0.5 + conf_level / 2)
        df["conf.low"] = fit.beta - z * se
        df["conf.high"] = fit.beta + z * se
    return df


def tidy_ran_vals(fit: Any) -> pd.DataFrame:
    """Conditional modes with their conditional standard deviations, per grouping factor
    (flist order), term, effect and level."""
    rows = []
    cv = fit.conditional_variances()
    re = fit.re
    for g in re.flist:
        for i, t in enumerate(re.terms):
            if t.group != g:
                continue
            bt = term_modes(fit.b, re, i)
            B = np.asarray(cv[i]).reshape(t.k, t.nlev, t.k)
            for e, nm in enumerate(t.cnms):
                for lev_i, lev in enumerate(t.levels):
                    rows.append(("ran_vals", g, lev, nm, bt[lev_i, e],
                                 math.sqrt(B[e, lev_i, e])))
    return pd.DataFrame(rows, columns=["effect", "group", "level", "term", "estimate",
                                       "std.error"])


def _tidy_ran_coefs(fit: Any) -> pd.DataFrame:
    """``coef(fit)`` as rows: per grouping factor, effect and level."""
    rows = []
    for g, df in fit.coef().items():
        for c in df.columns:
            for lev, v in zip(df.index, df[c]):
                rows.append(("ran_coefs", g, lev, c, v))
    return pd.DataFrame(rows, columns=["effect", "group", "level", "term", "estimate"])


def glance(fit: Any) -> pd.DataFrame:
    """broom.mixed's ``glance.merMod``: ``nobs sigma logLik AIC BIC`` and ``REMLcrit`` (REML
    fit) or ``deviance`` (ML fit), ``df.residual``."""
    crit = "REMLcrit" if fit.REML else "deviance"
    return pd.DataFrame([{
        "nobs": fit.nobs(), "sigma": fit.sigma(), "logLik": fit.logLik(),
        "AIC": fit.AIC(), "BIC": fit.BIC(),
        crit: fit.cmp["REML"] if fit.REML else fit.cmp["deviance"],
        "df.residual": fit.df_residual()}])


def augment(fit: Any, newdata: pd.DataFrame | None = None) -> pd.DataFrame:
    """broom.mixed's ``augment.merMod``: ``.rownames`` (R's row names of the rows in the fit,
    when they are not 1..n), the model frame (and the variables of the random-effect terms),
    ``.fitted .resid .hat .cooksd .fixed .mu .offset .sqrtXwt .sqrtrwt .weights .wtres``; one
    row per row in the fit, indexed by the data's own labels. With ``newdata``: ``newdata``
    and ``.fitted``, on ``newdata``'s index."""
    if newdata is not None:
        out = newdata.copy()
        out[".fitted"] = fit.predict(newdata).to_numpy()
        return out
    out = fit.design.frame.copy()
    out.index = fit.rows.used_index
    row_names = fit.design.row_names
    if row_names != [str(i + 1) for i in range(len(row_names))]:
        # broom's augment_columns: the model frame's row names when they are not 1..n
        out.insert(0, ".rownames", row_names)
    kept = fit.design.kept_data()
    for name in bar_variables(fit.design.bars):
        if name not in out.columns and name in kept.columns:
            out[name] = kept[name].to_numpy()
    n = fit.nobs()
    w = np.ones(n) if fit.prior_weights is None else fit.prior_weights
    off = np.zeros(n) if fit.offset_values is None else fit.offset_values
    hat = hat_values(fit)
    out[".fitted"] = fitted_values(fit)
    out[".resid"] = residual_values(fit)
    out[".hat"] = hat
    out[".cooksd"] = cooks_distances(fit, hat)
    out[".fixed"] = fit.X @ fit.beta
    out[".mu"] = fitted_values(fit)
    out[".offset"] = off
    out[".sqrtXwt"] = 1.0
    out[".sqrtrwt"] = np.sqrt(w)
    out[".weights"] = w
    out[".wtres"] = residual_values(fit, type="pearson")
    return out


def bar_variables(bars: list) -> list:
    """Names of the data columns used by the random-effect bars, in order of appearance."""
    out: list = []

    def walk(e: Any) -> None:
        if isinstance(e, Name):
            if e.id not in out:
                out.append(e.id)
            return
        for attr in ("left", "right", "expr", "operand"):
            if hasattr(e, attr):
                walk(getattr(e, attr))
        for a in getattr(e, "args", ()):
            walk(a)

    for b in bars:
        walk(b.lhs)
        walk(b.group)
    return out
