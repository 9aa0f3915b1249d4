"""broom's methods for ``lm``: ``tidy.lm``, ``glance.lm`` and ``augment.lm``, with broom's
column names; computed from an :class:`~rmodels.models.lm.LM`'s public results."""

from __future__ import annotations

from typing import Any, Optional

import numpy as np
import pandas as pd

from ...design import r_row_names
from ...errors import FitError
from .distributions import pf_upper
from .influence import cooks_distance, rstandard

__all__ = ["tidy_lm", "glance_lm", "augment_lm"]

TIDY_COLUMNS = ["term", "estimate", "std.error", "statistic", "p.value"]


def tidy_lm(fit: Any, conf_int: bool = False, conf_level: float = 0.95) -> pd.DataFrame:
    """``tidy.lm``: ``term estimate std.error statistic p.value`` (+ ``conf.low conf.high``)
    in the coefficients' order, aliased terms kept with NaN; for an mlm the non-aliased rows
    of each response after a leading ``response`` column."""
    if fit.is_mlm:
        frames = []
        for j, resp in enumerate(fit.response_names):
            st = fit.summary_stats(j)
            frames.append(pd.DataFrame({
                "response": resp, "term": st.names, "estimate": st.estimate,
                "std.error": st.std_error, "statistic": st.t_value, "p.value": st.p_value}))
        return pd.concat(frames, ignore_index=True)
    st = fit.summary_stats()
    pos = {nm: i for i, nm in enumerate(st.names)}
    rows = []
    for nm in fit.coef_names:
        if nm in pos:
            i = pos[nm]
            rows.append((nm, st.estimate[i], st.std_error[i], st.t_value[i], st.p_value[i]))
        else:
            rows.append((nm, np.nan, np.nan, np.nan, np.nan))
    out = pd.DataFrame(rows, columns=TIDY_COLUMNS)
    if conf_int:
        ci = fit.confint(level=conf_level)
        out["conf.low"] = ci.iloc[:, 0].to_numpy()
        out["conf.high"] = ci.iloc[:, 1].to_numpy()
    return out


def glance_lm(fit: Any) -> pd.DataFrame:
    """``glance.lm`` (one row): ``r.squared adj.r.squared sigma statistic p.value df logLik
    AIC BIC deviance df.residual nobs``; ``statistic``, ``p.value``, ``df`` are NaN when the
    model has exactly one non-aliased coefficient."""
    if fit.is_mlm:
        raise FitError("glance() does not support multiple-response fits")
    st = fit.summary_stats()
    if st.fstatistic is None or st.rank == 1:
        stat = pv = df = np.nan
    else:
        stat, numdf, dendf = st.fstatistic
        pv = pf_upper(stat, numdf, dendf)
        df = float(numdf)
    return pd.DataFrame({
        "r.squared": [st.r_squared], "adj.r.squared": [st.adj_r_squared],
        "sigma": [st.sigma], "statistic": [stat], "p.value": [pv], "df": [df],
        "logLik": [float(fit.logLik())], "AIC": [fit.AIC()], "BIC": [fit.BIC()],
        "deviance": [fit.deviance()], "df.residual": [int(fit.df_residual())],
        "nobs": [int(fit.nobs())]})


def augment_lm(fit: Any, newdata: Optional[pd.DataFrame] = None, se_fit: bool = False,
               interval: Optional[str] = None) -> pd.DataFrame:
    """``augment.lm``. Without ``newdata``: the model frame on the data's index labels of the
    rows in the fit (``.rownames`` first when R's row names are not 1..n), ``.fitted``
    (``.lower``/``.upper``, ``.se.fit``), ``.resid``, ``.hat``, ``.sigma``, ``.cooksd``,
    ``.std.resid``. With ``newdata``: its columns on its index, ``.fitted`` (...) and
    ``.resid`` when the response can be evaluated on it."""
    if fit.is_mlm:
        raise FitError("augment() does not support multiple-response fits")
    if interval == "none":
        interval = None
    if newdata is not None:
        df = newdata.copy()
        rn = r_row_names(newdata.index)
    else:
        df = fit.design.frame.copy()
        df.index = fit.row_labels.used_index
        rn = list(fit.row_names)
    if rn != [str(i + 1) for i in range(len(rn))]:
        df.insert(0, ".rownames", rn)
    _add_predictions(fit, df, newdata, se_fit, interval)
    resp = fit.response_on(newdata)
    if resp is not None:
        df[".resid"] = resp - df[".fitted"].to_numpy()
    if newdata is None:
        _add_influence(fit, df)
    return df


def _add_predictions(fit: Any, df: pd.DataFrame, newdata: Optional[pd.DataFrame],
                     se_fit: bool, interval: Optional[str]) -> None:
    """``.fitted`` and, when asked, ``.lower``/``.upper`` and ``.se.fit``."""
    if se_fit or interval is not None:
        pr = fit.predict(newdata, interval=interval, se_fit=se_fit)
        df[".fitted"] = pr["fit"].to_numpy()
        if interval is not None:
            df[".lower"] = pr["lwr"].to_numpy()
            df[".upper"] = pr["upr"].to_numpy()
        if se_fit:
            df[".se.fit"] = pr["se_fit"].to_numpy()
    elif newdata is not None:
        df[".fitted"] = fit.predict(newdata).to_numpy()[: len(df)]
    else:
        df[".fitted"] = fit.arrays.fitted_values


def _add_influence(fit: Any, df: pd.DataFrame) -> None:
    """``.hat .sigma .cooksd .std.resid`` (0, 0, 0, NaN at rows with zero weight)."""
    a = fit.arrays
    infl = fit.influence()
    n = len(df)
    u = a.used
    hat, sig, cook = np.zeros(n), np.zeros(n), np.zeros(n)
    std = np.full(n, np.nan)
    sd = a.residual_sd()
    hat[u], sig[u] = infl.hat, infl.sigma
    std[u] = rstandard(infl, sd)
    cook[u] = cooks_distance(infl, a.weighted(a.residuals)[u], sd, a.rank)
    df[".hat"] = hat
    df[".sigma"] = sig
    df[".cooksd"] = cook
    df[".std.resid"] = std
