"""lmtest's tests with any covariance: ``coeftest``, ``coefci`` and ``waldtest`` (lmtest 0.9-40,
R/coeftest.R, R/coefci.R, R/waldtest.R), and broom's ``tidy.coeftest``.

coeftest: z = β̂ / sqrt(diag V); t with the residual df for lm (p = 2 P(T_df > |t|)), standard
normal for glm (lmtest's ``coeftest.glm`` sets df = Inf) or when df is not a positive number.
waldtest: W = β̂_q' V_qq⁻¹ β̂_q over the q coefficients of the larger model missing from the
smaller; F = W / q on (q, residual df of the larger model), or χ²_q.
"""

from __future__ import annotations

import warnings
from typing import Any, Callable, Optional, Sequence, Union

import numpy as np
import pandas as pd

from .. import printing as rf
from ..errors import FitError, RModelsWarning
from ..formula.call import deparse_formula_lines
from ..models.contract import perc_labels
from ..models.glm import GLM
from ..models.workflow.update import update
from .estfun import check_supported
from .grouped import GroupedMatrices, is_failed, is_grouped, stack_tables

__all__ = ["CoefTest", "coeftest", "coefci", "WaldTest", "waldtest", "GroupedCoefTest"]

TIDY_COLUMNS = ["term", "estimate", "std.error", "statistic", "p.value"]


def default_df(fit: Any) -> float:
    """lmtest's df: Inf for glm (``coeftest.glm``), the residual df otherwise."""
    return float("inf") if isinstance(fit, GLM) else float(fit.df_residual())


def uses_t(df: float) -> bool:
    return bool(np.isfinite(df) and df > 0)


def covariance_of(fit: Any, vcov: Any, kwargs: dict) -> pd.DataFrame:
    """``vcov.`` as lmtest takes it: None (the fit's own vcov), a function of the fit, or a
    matrix (a DataFrame named by term, or an array in the order of the coefficients)."""
    if vcov is None:
        return fit.vcov()
    if callable(vcov):
        return vcov(fit, **kwargs)
    if isinstance(vcov, pd.DataFrame):
        return vcov
    V = np.asarray(vcov, dtype=float)
    names = [nm for nm, b in fit.coef().items() if not np.isnan(b)] \
        if V.shape[0] != len(fit.coef()) else list(fit.coef().index)
    return pd.DataFrame(V, index=names, columns=names)


def r_sqrt(v: np.ndarray) -> np.ndarray:
    """R's ``sqrt``: NaN for negative values (a two-way clustered covariance can have negative
    variances) with R's warning "NaNs produced"."""
    if (v < 0).any():
        warnings.warn("NaNs produced", RModelsWarning, stacklevel=4)
    with np.errstate(invalid="ignore"):
        return np.sqrt(v)


def estimates_and_se(fit: Any, vcov: Any, kwargs: dict) -> tuple[pd.Series, np.ndarray]:
    """The coefficients and standard errors, matched by name as lmtest matches them."""
    est = fit.coef()
    V = covariance_of(fit, vcov, kwargs)
    se = pd.Series(r_sqrt(np.diag(V.to_numpy(dtype=float))), index=V.index)
    if est.index.is_unique and se.index.is_unique:
        keep = [nm for nm in est.index if nm in se.index]
        est = est[keep]
        se = se[keep]
    return est, se.to_numpy()


class CoefTest:
    """lmtest's ``coeftest`` result: ``table`` (Estimate, Std. Error, t/z value, Pr(>|t|) or
    Pr(>|z|), rows named by term), ``method`` ("t test of coefficients"), ``df``, ``nobs``.
    ``str()`` is lmtest's print; :meth:`tidy` is broom's ``tidy.coeftest``."""

    def __init__(self, table: pd.DataFrame, method: str, df: float, nobs: Optional[int]):
        self.table = table
        self.method = method
        self.df = df
        self.nobs = nobs

    def __str__(self) -> str:
        # R's NA (aliased coefficients) prints "NA", a NaN (sqrt of a negative variance) "NaN"
        cells = self.table.to_numpy(dtype=float).copy()
        cells[np.isnan(cells[:, 0])] = rf.NA_REAL
        body = rf.print_coefmat(cells, list(self.table.columns), list(self.table.index),
                                nan_is_na=False)
        return f"\n{self.method}:\n\n" + body + "\n"

    def __repr__(self) -> str:
        return str(self)

    def confint(self, parm: Optional[Sequence[str]] = None, level: float = 0.95) -> pd.DataFrame:
        """lmtest's ``confint.coeftest``: β̂ ± q·SE with the test's own distribution."""
        est = self.table.iloc[:, 0]
        se = self.table.iloc[:, 1].to_numpy()
        return interval_table(est, se, self.df, level, parm)

    def tidy(self, conf_int: bool = False, conf_level: float = 0.95) -> pd.DataFrame:
        """broom's ``tidy.coeftest``: term, estimate, std.error, statistic, p.value (+
        conf.low, conf.high)."""
        t = self.table
        out = pd.DataFrame({"term": list(t.index)})
        for name, j in zip(TIDY_COLUMNS[1:], range(t.shape[1])):
            out[name] = t.iloc[:, j].to_numpy()
        if conf_int:
            ci = self.confint(level=conf_level)
            out["conf.low"] = ci.iloc[:, 0].to_numpy()
            out["conf.high"] = ci.iloc[:, 1].to_numpy()
        return out


def two_sided_p(stat: np.ndarray, df: float) -> np.ndarray:
    from scipy import special as spc
    from scipy import stats as sps
    if uses_t(df):
        return 2.0 * spc.stdtr(df, -np.abs(stat))
    return 2.0 * sps.norm.sf(np.abs(stat))


def coeftest(fit: Any, vcov: Any = None, df: Optional[float] = None,
             **kwargs: Any) -> Union[CoefTest, "GroupedCoefTest"]:
    """lmtest's ``coeftest(x, vcov. = NULL, df = NULL, ...)``: Wald tests of the coefficients
    with covariance ``vcov`` (None: the fit's own; a function called as ``vcov(fit,
    **kwargs)``, e.g. ``rmodels.vcovHC``; or a matrix/DataFrame). ``df``: None for lmtest's
    default (residual df for lm, Inf = z tests for glm). A grouped fit gives a
    :class:`GroupedCoefTest` (``vcov`` then a function, or a per-group result of vcovHC /
    vcovCL)."""
    if is_grouped(fit):
        return grouped_coeftest(fit, vcov, df, kwargs)
    check_supported(fit)
    est, se = estimates_and_se(fit, vcov, kwargs)
    df = default_df(fit) if df is None else float(df)
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = est.to_numpy(dtype=float) / se
    p = two_sided_p(stat, df)
    t = uses_t(df)
    cols = ["Estimate", "Std. Error"] + (["t value", "Pr(>|t|)"] if t
                                         else ["z value", "Pr(>|z|)"])
    table = pd.DataFrame(np.column_stack([est.to_numpy(dtype=float), se, stat, p]),
                         index=pd.Index(list(est.index)), columns=pd.Index(cols))
    return CoefTest(table, ("t" if t else "z") + " test of coefficients", df, fit.nobs())


def interval_table(est: pd.Series, se: np.ndarray, df: float, level: float,
                   parm: Optional[Sequence[str]]) -> pd.DataFrame:
    from scipy import stats as sps
    a = (1 - level) / 2
    probs = [a, 1 - a]
    q = sps.t.ppf(probs, df) if uses_t(df) else sps.norm.ppf(probs)
    e = est.to_numpy(dtype=float)
    ci = pd.DataFrame(np.column_stack([e + q[0] * se, e + q[1] * se]),
                      index=pd.Index(list(est.index)), columns=pd.Index(perc_labels(probs)))
    if parm is not None:
        names = [parm] if isinstance(parm, str) else list(parm)
        ci = ci[[nm in names for nm in ci.index]]
    return ci


def coefci(fit: Any, parm: Optional[Sequence[str]] = None, level: float = 0.95,
           vcov: Any = None, df: Optional[float] = None, **kwargs: Any) -> pd.DataFrame:
    """lmtest's ``coefci(x, parm, level, vcov., df)``: β̂ ± q·SE with q from t on the residual
    df (lm) or the normal (glm, or df not a positive number); columns "2.5 %", "97.5 %"."""
    check_supported(fit)
    est, se = estimates_and_se(fit, vcov, kwargs)
    df = default_df(fit) if df is None else float(df)
    return interval_table(est, se, df, level, parm)


class WaldTest:
    """lmtest's ``waldtest`` result: ``table`` (Res.Df, Df, F or Chisq, Pr(>F) or Pr(>Chisq);
    rows "1", "2") and ``heading``; ``str()`` is R's print of the anova table."""

    def __init__(self, table: pd.DataFrame, heading: list) -> None:
        self.table = table
        self.heading = heading

    def __str__(self) -> str:
        return rf.print_anova(self.table, heading=self.heading)

    def __repr__(self) -> str:
        return str(self)


def model_label(fit: Any) -> str:
    """``paste(deparse(formula(fit)), collapse = "\\n")``."""
    return "\n".join(deparse_formula_lines(fit.design.terms.formula))


def nested_order(fit_a: Any, fit_b: Any) -> tuple[Any, Any, list]:
    """(smaller, larger, positions in the larger's coefficients of those the smaller lacks),
    with lmtest's nesting checks."""
    ca, cb = fit_a.coef().dropna(), fit_b.coef().dropna()
    small, big = (fit_b, fit_a) if len(ca) > len(cb) else (fit_a, fit_b)
    cs, cl = small.coef().dropna(), big.coef().dropna()
    if not set(small.design.term_labels) <= set(big.design.term_labels):
        raise FitError("nesting of models cannot be determined")
    ovar = [i for i, nm in enumerate(cl.index) if nm not in cs.index]
    if abs(len(ca) - len(cb)) != len(ovar):
        raise FitError("nesting of models cannot be determined")
    return small, big, ovar


def wald_statistic(big: Any, ovar: list, vcov: Any) -> float:
    """β̂_q' V_qq⁻¹ β̂_q (V by position among the larger model's non-aliased coefficients)."""
    V = vcov(big) if callable(vcov) else (big.vcov(complete=False) if vcov is None else vcov)
    V = np.asarray(V, dtype=float)
    if not ovar:  # R's solve() of the 0 x 0 block
        raise FitError("'a' is 0-diml")
    b = big.coef().dropna().to_numpy()[ovar]
    return float(b @ np.linalg.solve(V[np.ix_(ovar, ovar)], b))


def check_waldtest_fits(fits: Sequence[Any]) -> None:
    for f in fits:
        check_supported(f)
        if type(f) is not type(fits[0]):
            raise FitError(f'original model was of class "{type(fits[0]).__name__}", updated '
                           f'model is of class "{type(f).__name__}"')
        if np.isnan(f.coef().to_numpy(dtype=float)).any():
            raise FitError("there are aliased coefficients in the model")
    if any(f.nobs() != fits[0].nobs() for f in fits):
        raise FitError("models were not all fitted to the same size of dataset")


def waldtest(*fits: Any, vcov: Union[Callable[..., Any], Any, None] = None,
             test: str = "F") -> WaldTest:
    """lmtest's ``waldtest(fit0, fit1, ..., vcov = NULL, test = c("F", "Chisq"))`` for nested
    lm or glm fits (both fitted; lmtest's ``waldtest.lm`` serves glm too, so the default is F).
    ``vcov``: a function of the larger fit (e.g. ``rmodels.vcovHC``) or, for two models, its
    covariance matrix. One fit is compared with its intercept-only model (lmtest's
    ``update(fit, . ~ 1)``). Differences: the other models are given as fits (R can also update
    a model by a formula or term names)."""
    if len(fits) == 0:
        raise FitError("waldtest needs a fitted model")
    if len(fits) == 1:
        fits = (fits[0], update(fits[0], ". ~ 1"))
    if test not in ("F", "Chisq"):
        raise ValueError("'test' should be one of 'F', 'Chisq'")
    check_waldtest_fits(fits)
    if len(fits) > 2 and vcov is not None and not callable(vcov):
        raise FitError("to compare more than 2 models `vcov' needs to be a function")
    m = len(fits)
    res_df = np.array([float(f.df_residual()) for f in fits])
    dfs, stats = np.full(m, np.nan), np.full(m, np.nan)
    for i in range(1, m):
        small, big, ovar = nested_order(fits[i - 1], fits[i])
        q = len(fits[i - 1].coef().dropna()) - len(fits[i].coef().dropna())
        dfs[i], stats[i] = -q, wald_statistic(big, ovar, vcov)
    table = wald_table(res_df, dfs, stats, test)
    title = "Wald test\n"
    labels = [model_label(f) for f in fits]
    width = len(str(m))
    topnote = "\n".join(f"Model {str(i + 1).rjust(width)}: {lab}"
                        for i, lab in enumerate(labels))
    return WaldTest(table, [title, topnote])


def wald_table(res_df: np.ndarray, dfs: np.ndarray, stats: np.ndarray, test: str) -> pd.DataFrame:
    """The anova table of :func:`waldtest` (p-values as lmtest computes them)."""
    from scipy import special as spc
    from scipy import stats as sps
    m = len(res_df)
    p = np.full(m, np.nan)
    if test == "Chisq":
        with np.errstate(invalid="ignore"):
            p[1:] = sps.chi2.sf(stats[1:], np.round(np.abs(dfs[1:])))
    else:
        den = res_df.copy()
        for i in range(1, m):
            if dfs[i] < 0:
                den[i] = res_df[i - 1]
        stats = stats / np.abs(dfs)
        p[1:] = spc.fdtrc(np.abs(dfs[1:]), den[1:], stats[1:])
    return pd.DataFrame({"Res.Df": res_df, "Df": dfs, test: stats, f"Pr(>{test})": p},
                        index=pd.Index([str(i + 1) for i in range(m)]))


class GroupedCoefTest:
    """coeftest of every group of a grouped fit: ``results`` (a :class:`CoefTest` per group, None
    for a failed group); :meth:`tidy` stacks broom's tables with the group columns first and a
    ``status`` column; ``str()`` prints each group's test under its group label."""

    def __init__(self, fits: Any, results: list) -> None:
        self.fits = fits
        self.results = results

    def tidy(self, conf_int: bool = False, conf_level: float = 0.95) -> pd.DataFrame:
        tables = [None if r is None else r.tidy(conf_int, conf_level) for r in self.results]
        return stack_tables(self.fits, tables, list(self.fits.status.to_numpy()))

    def __str__(self) -> str:
        out = []
        for key, r in zip(self.fits.keys, self.results):
            label = ", ".join(f"{b} = {v}" for b, v in zip(self.fits.by, key))
            out.append(f"{label}:\n" + ("  (fit failed)\n" if r is None else str(r)))
        return "\n".join(out)

    def __repr__(self) -> str:
        return str(self)


def grouped_coeftest(fits: Any, vcov: Any, df: Optional[float], kwargs: dict) -> GroupedCoefTest:
    """coeftest per group: ``vcov`` None, a function, or a per-group matrix list (as returned by
    vcovHC/vcovCL of the grouped fit)."""
    results = []
    for i, f in enumerate(fits):
        if is_failed(f):
            results.append(None)
            continue
        v = vcov[i] if isinstance(vcov, GroupedMatrices) else vcov
        results.append(coeftest(f, vcov=v, df=df, **kwargs))
    return GroupedCoefTest(fits, results)
